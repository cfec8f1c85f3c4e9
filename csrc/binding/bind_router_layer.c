/*
 * RouterLayer: the hot path of a routing patch's Python layer (the patch
 * engine's wrappers.guarded, or _local_patch's dispatcher) without its
 * Python frame, for synchronous targets (session 20).
 *
 * A call runs the fast path here only when the layer itself would: the gate
 * is on (a list whose item 0 is True, _local_patch's switch; or an object
 * whose `serve_fast` is True, the engine's flag), the call is not one the
 * engine samples (`every`: every Nth call goes to `sampled`, which times it),
 * and the precheck `ok()` is true.  Then:
 *   - the fast path's value is the answer, unless it is a Delegate: then
 *     Delegate.fn(*args, **kwargs) is (called here, after the fast call
 *     returned: outside any handler, as the layers call it);
 *   - NotAccelerated: the original is called, with no exception set (the
 *     Python layers call it after their except clause for the same reason);
 *   - any other exception: `on_error(exc)` decides (the layer's own
 *     handling, a caller's error's mark dropped): RERAISE, the exception is
 *     restored as it was, traceback included; anything else, the engine's
 *     fallback: the original serves and, if it returned, `fallen(exc)`
 *     counts our error.
 * A precheck `ok() or full()` that is false: the original (both layers hand
 * such a call on).  Every other call (gate off, sampled) goes to `slow`, the
 * Python layer itself, so the other modes keep their one implementation.
 *
 * The object binds as a method (tp_descr_get: PyMethod_New, as a function
 * does) and carries a __dict__ for the layer's marks and functools.wraps'
 * attributes.  No Python frame of its own, so tracebacks through it show
 * the fast path's frames without the layer's.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include "binding/module_state.h"

typedef struct {
    PyObject_HEAD
    PyObject *fast;
    PyObject *original;
    PyObject *gate;      /* list (item 0 must be True) or an object with serve_fast */
    PyObject *ok;        /* None, or ok(): truthy to take the fast path ... */
    PyObject *full;      /* ... or, when ok() is not, full() (the check made again, kept) */
    PyObject *slow;      /* the Python layer */
    PyObject *sampled;   /* the Python layer that times the call (every > 0) */
    PyObject *on_error;  /* on_error(exc) -> RERAISE, or anything else: the original serves */
    PyObject *fallen;    /* None, or fallen(exc): called after the original served (the engine counts) */
    PyObject *reraise;   /* the sentinel on_error returns */
    PyObject *not_accelerated;
    PyObject *delegate;  /* the Delegate type */
    PyObject *dict;
    PyObject *serve_fast_name;  /* interned "serve_fast" and "fn" (held here: no C globals) */
    PyObject *fn_name;
    Py_ssize_t every;
    Py_ssize_t ticks;
    vectorcallfunc vectorcall;
} RouterLayer;


static PyObject *
RouterLayer_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    RouterLayer *self = (RouterLayer *)op;
    int on;
    if (PyList_CheckExact(self->gate)) {
        on = PyList_GET_SIZE(self->gate) > 0 && PyList_GET_ITEM(self->gate, 0) == Py_True;
    } else {
        PyObject *value = PyObject_GetAttr(self->gate, self->serve_fast_name);
        if (value == NULL)
            return NULL;
        on = value == Py_True;
        Py_DECREF(value);
    }
    if (!on)
        return PyObject_Vectorcall(self->slow, args, nargsf, kwnames);
    if (self->every > 0) {
        if (++self->ticks >= self->every) {
            self->ticks = 0;
            return PyObject_Vectorcall(self->sampled, args, nargsf, kwnames);
        }
    }
    if (self->ok != Py_None) {
        /* ok() or full(); false: the original, as both layers hand it on */
        int truth = 0;
        for (int i = 0; i < 2 && !truth; i++) {
            PyObject *verdict = PyObject_CallNoArgs(i == 0 ? self->ok : self->full);
            if (verdict == NULL)
                return NULL;
            truth = PyObject_IsTrue(verdict);
            Py_DECREF(verdict);
            if (truth < 0)
                return NULL;
        }
        if (!truth)
            return PyObject_Vectorcall(self->original, args, nargsf, kwnames);
    }
    PyObject *result = PyObject_Vectorcall(self->fast, args, nargsf, kwnames);
    if (result != NULL) {
        if ((PyObject *)Py_TYPE(result) != self->delegate)
            return result;
        PyObject *fn = PyObject_GetAttr(result, self->fn_name);
        Py_DECREF(result);
        if (fn == NULL)
            return NULL;
        result = PyObject_Vectorcall(fn, args, nargsf, kwnames);
        Py_DECREF(fn);
        return result;
    }
    if (PyErr_ExceptionMatches(self->not_accelerated)) {
        PyErr_Clear();
        return PyObject_Vectorcall(self->original, args, nargsf, kwnames);
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value == NULL || !PyExceptionInstance_Check(value)) {  /* not an exception instance: as it was */
        PyErr_Restore(type, value, tb);
        return NULL;
    }
    if (tb != NULL)
        PyException_SetTraceback(value, tb);
    /* decided with no exception set, as the layers decide after their except clause */
    PyObject *decision = PyObject_CallOneArg(self->on_error, value);
    if (decision == NULL) {
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return NULL;
    }
    int reraise = decision == self->reraise;
    Py_DECREF(decision);
    if (reraise) {
        PyErr_Restore(type, value, tb);
        return NULL;
    }
    /* the engine's fallback: the original serves (its exception is the caller's), then ours is counted */
    Py_XDECREF(type);
    Py_XDECREF(tb);
    result = PyObject_Vectorcall(self->original, args, nargsf, kwnames);
    if (result != NULL && self->fallen != Py_None) {
        PyObject *noted = PyObject_CallOneArg(self->fallen, value);
        if (noted == NULL)
            Py_CLEAR(result);
        else
            Py_DECREF(noted);
    }
    Py_DECREF(value);
    return result;
}

static PyObject *
RouterLayer_descr_get(PyObject *self, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

static int
RouterLayer_traverse(RouterLayer *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->fast);
    Py_VISIT(self->original);
    Py_VISIT(self->gate);
    Py_VISIT(self->ok);
    Py_VISIT(self->full);
    Py_VISIT(self->fallen);
    Py_VISIT(self->slow);
    Py_VISIT(self->sampled);
    Py_VISIT(self->on_error);
    Py_VISIT(self->reraise);
    Py_VISIT(self->not_accelerated);
    Py_VISIT(self->delegate);
    Py_VISIT(self->dict);
    return 0;
}

static int
RouterLayer_clear(RouterLayer *self)
{
    Py_CLEAR(self->fast);
    Py_CLEAR(self->original);
    Py_CLEAR(self->gate);
    Py_CLEAR(self->ok);
    Py_CLEAR(self->full);
    Py_CLEAR(self->fallen);
    Py_CLEAR(self->slow);
    Py_CLEAR(self->sampled);
    Py_CLEAR(self->on_error);
    Py_CLEAR(self->reraise);
    Py_CLEAR(self->not_accelerated);
    Py_CLEAR(self->delegate);
    Py_CLEAR(self->dict);
    Py_CLEAR(self->serve_fast_name);
    Py_CLEAR(self->fn_name);
    return 0;
}

static void
RouterLayer_dealloc(RouterLayer *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    RouterLayer_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *
RouterLayer_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"fast", "original", "gate", "ok", "full", "slow", "sampled", "on_error", "fallen",
                             "reraise", "not_accelerated", "delegate", "every", NULL};
    PyObject *fast, *original, *gate, *ok, *full, *slow, *sampled, *on_error, *fallen, *reraise,
        *not_accelerated, *delegate;
    Py_ssize_t every = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOOOOOOOOO|n:RouterLayer", kwlist, &fast, &original, &gate,
                                     &ok, &full, &slow, &sampled, &on_error, &fallen, &reraise, &not_accelerated,
                                     &delegate, &every))
        return NULL;
    if (!PyCallable_Check(fast) || !PyCallable_Check(original) || !PyCallable_Check(slow)
        || !PyCallable_Check(sampled) || !PyCallable_Check(on_error)
        || (ok != Py_None && (!PyCallable_Check(ok) || !PyCallable_Check(full)))
        || (fallen != Py_None && !PyCallable_Check(fallen))
        || !PyType_Check(not_accelerated) || !PyType_Check(delegate) || every < 0) {
        PyErr_SetString(PyExc_TypeError, "RouterLayer: callables, two types and every >= 0");
        return NULL;
    }
    RouterLayer *self = (RouterLayer *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->fast = Py_NewRef(fast);
    self->original = Py_NewRef(original);
    self->gate = Py_NewRef(gate);
    self->ok = Py_NewRef(ok);
    self->full = Py_NewRef(full);
    self->fallen = Py_NewRef(fallen);
    self->slow = Py_NewRef(slow);
    self->sampled = Py_NewRef(sampled);
    self->on_error = Py_NewRef(on_error);
    self->reraise = Py_NewRef(reraise);
    self->not_accelerated = Py_NewRef(not_accelerated);
    self->delegate = Py_NewRef(delegate);
    self->serve_fast_name = PyUnicode_InternFromString("serve_fast");
    self->fn_name = PyUnicode_InternFromString("fn");
    if (self->serve_fast_name == NULL || self->fn_name == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    self->every = every;
    self->ticks = 0;
    self->vectorcall = RouterLayer_vectorcall;
    return (PyObject *)self;
}

static PyMemberDef RouterLayer_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(RouterLayer, dict), READONLY, NULL},
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(RouterLayer, vectorcall), READONLY, NULL},
    {"_fast", T_OBJECT, offsetof(RouterLayer, fast), READONLY, "the fast path"},
    {"_slow", T_OBJECT, offsetof(RouterLayer, slow), READONLY, "the Python layer"},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef RouterLayer_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot RouterLayer_slots[] = {
    {Py_tp_new, RouterLayer_new},
    {Py_tp_dealloc, RouterLayer_dealloc},
    {Py_tp_traverse, RouterLayer_traverse},
    {Py_tp_clear, RouterLayer_clear},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_descr_get, RouterLayer_descr_get},
    {Py_tp_members, RouterLayer_members},
    {Py_tp_getset, RouterLayer_getset},
    {Py_tp_doc, "A routing patch's layer (gate, precheck, fast path, hand-offs) without a Python frame "
                "(bind_router_layer.c)."},
    {0, NULL},
};

static PyType_Spec RouterLayer_spec = {
    .name = "fast_litellm._native.RouterLayer",
    .basicsize = sizeof(RouterLayer),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = RouterLayer_slots,
};

int
fl_bind_router_layer(PyObject *module)
{
    if (fl_add_type(module, &RouterLayer_spec, "RouterLayer", -1) < 0)
        return -1;
    return 0;
}
