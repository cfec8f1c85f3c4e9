/*
 * module.c - the fast_litellm._native extension module.
 *
 * Multi-phase initialisation (PEP 489): the module object is created by the
 * interpreter, then fl_exec runs each component binder in turn.  All state
 * lives in fl_module_state (module_state.h), so the module can be loaded in
 * several interpreters and re-imported after reload without sharing C
 * globals.  Components are listed in BINDERS below: adding one is adding a
 * line.
 */
#include "binding/module_state.h"

typedef int (*fl_binder)(PyObject *);

static const struct {
    const char *component;
    fl_binder bind;
} BINDERS[] = {
    {"monitor", fl_bind_monitor},
    {"tokenizer", fl_bind_tokenizer},
    {"rate_limiter", fl_bind_ratelimit},
    {"connection_pool", fl_bind_pool},
    {"router", fl_bind_router},
    {"cache", fl_bind_cache},
    {"token_counter", fl_bind_token_counter},
};

static int
fl_exec(PyObject *module)
{
    PyObject *components = PyList_New(0);
    if (components == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(BINDERS) / sizeof(BINDERS[0]); i++) {
        if (BINDERS[i].bind(module) < 0) {
            Py_DECREF(components);
            return -1;
        }
        PyObject *name = PyUnicode_FromString(BINDERS[i].component);
        if (name == NULL || PyList_Append(components, name) < 0) {
            Py_XDECREF(name);
            Py_DECREF(components);
            return -1;
        }
        Py_DECREF(name);
    }
    if (PyModule_AddObject(module, "COMPONENTS", components) < 0) {
        Py_DECREF(components);
        return -1;
    }
    return PyModule_AddStringConstant(module, "BUILD", "c11");
}

static int
fl_traverse(PyObject *module, visitproc visit, void *arg)
{
    fl_module_state *st = fl_get_state(module);
    if (st == NULL)
        return 0;
    for (int i = 0; i < FL_SLOT_COUNT; i++)
        Py_VISIT(st->slots[i]);
    return 0;
}

static int
fl_clear(PyObject *module)
{
    fl_module_state *st = fl_get_state(module);
    if (st == NULL)
        return 0;
    for (int i = 0; i < FL_SLOT_COUNT; i++)
        Py_CLEAR(st->slots[i]);
    return 0;
}

static void
fl_free(void *module)
{
    fl_clear((PyObject *)module);
}

static PyModuleDef_Slot fl_slots[] = {
    {Py_mod_exec, fl_exec},
    {0, NULL},
};

static struct PyModuleDef fl_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "fast_litellm._native",
    .m_doc = "C core of fast_litellm. Use the fast_litellm package, not this module.",
    .m_size = sizeof(fl_module_state),
    .m_slots = fl_slots,
    .m_traverse = fl_traverse,
    .m_clear = fl_clear,
    .m_free = fl_free,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    return PyModuleDef_Init(&fl_module);
}
