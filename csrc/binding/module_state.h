/*
 * module_state.h - per-module state of fast_litellm._native (PEP 489).
 *
 * The extension holds no mutable C globals.  Each component binding keeps
 * the Python objects it needs (heap types, cached strings, exception
 * classes) in a range of slots of this state, traversed and cleared by the
 * module.  A component owns its slot range; it never touches another's.
 *
 * Component C cores (csrc/<component>/) never include this header nor
 * Python.h; they keep their own state in structs the binding owns.
 */
#ifndef FL_MODULE_STATE_H
#define FL_MODULE_STATE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

enum {
    FL_SLOT_MONITOR = 0,        /* 0..3   performance monitor            */
    FL_SLOT_TOKENIZER = 4,      /* 4..11  tokenizer                      */
    FL_SLOT_RATELIMIT = 12,     /* 12..15 rate limiter                   */
    FL_SLOT_POOL = 16,          /* 16..19 connection pool                */
    FL_SLOT_ROUTER = 20,        /* 20..23 router                         */
    FL_SLOT_CACHE = 24,         /* 24..27 in-memory cache                */
    FL_SLOT_TOKEN_COUNTER = 28, /* 28..31 LiteLLM token_counter core     */
    FL_SLOT_COUNT = 40
};

typedef struct {
    PyObject *slots[FL_SLOT_COUNT];
} fl_module_state;

static inline fl_module_state *
fl_get_state(PyObject *module)
{
    return (fl_module_state *)PyModule_GetState(module);
}

/* Store a new strong reference to obj in slot i (steals nothing). */
static inline void
fl_state_set(PyObject *module, int i, PyObject *obj)
{
    fl_module_state *st = fl_get_state(module);
    Py_XINCREF(obj);
    Py_XSETREF(st->slots[i], obj);
}

/* A heap type made from spec for module and added to it as name, also kept in
 * the module state's slot when slot >= 0: 0, or -1 with an exception set. */
static inline int
fl_add_type(PyObject *module, PyType_Spec *spec, const char *name, int slot)
{
    PyObject *type = PyType_FromModuleAndSpec(module, spec, NULL);
    if (type == NULL)
        return -1;
    if (slot >= 0)
        fl_state_set(module, slot, type);
    if (PyModule_AddObject(module, name, type) < 0) {  /* (steals type on success) */
        Py_DECREF(type);
        return -1;
    }
    return 0;
}

/* An object's type as type(obj).__name__ spells it, the name the Python
 * twins' messages use ("must be an int, not Decimal"): tp_name is dotted
 * for types defined in C ("decimal.Decimal", "numpy.int64"), and a heap
 * type's __name__ is its ht_name.  Valid while the object's type lives. */
static inline const char *
fl_type_name(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
    if (PyType_HasFeature(tp, Py_TPFLAGS_HEAPTYPE)) {
        const char *name = PyUnicode_AsUTF8(((PyHeapTypeObject *)tp)->ht_name);
        if (name != NULL)
            return name;
        PyErr_Clear();
        return tp->tp_name;
    }
    const char *dot = strrchr(tp->tp_name, '.');
    return dot != NULL ? dot + 1 : tp->tp_name;
}

/*
 * Component binders, each defined in csrc/binding/bind_<component>.c.
 * Each adds its functions and types to the module and returns 0, or sets
 * an exception and returns -1.
 */
int fl_bind_monitor(PyObject *module);
int fl_bind_tokenizer(PyObject *module);
int fl_bind_ratelimit(PyObject *module);
int fl_bind_pool(PyObject *module);
int fl_bind_router(PyObject *module);
int fl_bind_router_deprecated(PyObject *module);
int fl_bind_router_layer(PyObject *module);
int fl_bind_cache(PyObject *module);
int fl_bind_token_counter(PyObject *module);

#endif /* FL_MODULE_STATE_H */
