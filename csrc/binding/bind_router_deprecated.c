/*
 * bind_router_deprecated.c - LiteLLM 1.110.2's _DeprecatedAttribute.__get__
 * (litellm/router_deprecated.py) without a Python frame of its own.
 *
 * A deprecated Router attribute read runs the descriptor's __get__, which
 * calls _note: _note finds the reading code by frame depth (two frames up,
 * past Router's attribute hooks), counts the read in
 * DEPRECATED_ROUTER_MEMBER_USES and warns with a stacklevel that names that
 * frame.  A Python replacement of __get__ adds or removes a frame there and
 * moves the warning; a C callable adds none.  DeprecatedGet is that
 * callable, set as the class's __get__ (the type slot calls it with the
 * descriptor, the instance and the owner; read on an instance it binds like
 * a function).  It does _note's walk on the frames that were current when
 * the descriptor was entered (what sys._getframe(2) reaches from _note),
 * counts and warns through the same objects with the stacklevel that names
 * the same frame from here (two fewer frames below it), then _as_router and
 * the read as __get__ does.
 *
 * Everything it relies on is checked before anything happens (no Python
 * code runs in the checks): an exact _DeprecatedAttribute with its fields in
 * its own dict, the module's globals and the builtins its functions read
 * (_note, _as_router, _public_attribute_error, sys, warnings, the tally, the
 * hook names, the prefix, isinstance/str/getattr/DeprecationWarning/
 * AttributeError/__import__) the ones found at build, warnings.warn the C
 * one, sys._getframe the builtin one, exact dicts and strs in the frames
 * walked, no importlib-bootstrap frame among them (the warning's own walk
 * treats those differently), litellm.router loaded as a plain module and
 * the instance exactly its Router.  Anything else, a class-level read, or a
 * switch that is off: LiteLLM's __get__ itself, called from here, which
 * adds no frame either, so its _note sees the frames it sees unpatched.
 *
 * The audit events _note's walk raises (sys._getframe, and frame.f_code's
 * object.__getattr__) are raised for the same frames, in the same order,
 * before the tally.  The audit hooks and the warning (its filters and
 * showwarning) may run any code: when one of the dicts the checks read
 * changed meanwhile (PEP 509 tags; on 3.12+ always) the checks run again,
 * and when one fails, what __get__ does after _note is done by `tail`:
 * those steps compiled in LiteLLM's module namespace (protocol_fast), whose
 * every global read is the bytecode's own.  The callable holds itself over
 * the call (the type slot lends it the class dict's reference, which that
 * code may drop).  Not followed (session 19 hunt, docs/routing.md): a hook
 * that, on those audit events, changes a walked frame's __name__ or the
 * module's _ATTRIBUTE_HOOKS / _INTERNAL_PREFIX / warnings.warn.
 */
#include "binding/module_state.h"

#include <stddef.h>
#include <structmember.h>

#if PY_VERSION_HEX >= 0x030B0000 && !defined(PYPY_VERSION)
#define FL_DEPRECATED_GET 1
#endif

/*
 * Two helpers for the routing fast paths that raise no audit event (session
 * 20 hunt: an audit hook saw builtins.id and function.__new__ events in
 * accelerated picks that stock's picks do not raise).
 *
 * router_identity(obj): id(obj), without the builtins.id event.
 * router_new_function(code, globals, defaults, closure): a function made from
 * `code` as MAKE_FUNCTION makes it (PyFunction_New: name, qualname, module
 * and builtins from the code and globals), with `defaults` (None or a tuple)
 * and `closure` (a tuple of cells, one per free variable): what
 * types.FunctionType(code, globals, None, defaults, closure) makes, without
 * its function.__new__ event (LiteLLM's `def` raises none).
 * router_code_of(function): function.__code__ without the object.__getattr__
 * event that attribute's read raises (the fused picks check, every pick, that
 * a wrapper's code is still the one found).
 */
static PyObject *
router_identity(PyObject *module, PyObject *obj)
{
    (void)module;
    return PyLong_FromVoidPtr(obj);
}

static PyObject *
router_new_function(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "router_new_function(code, globals, defaults, closure)");
        return NULL;
    }
    PyObject *code = args[0], *globals = args[1], *defaults = args[2], *closure = args[3];
    if (!PyCode_Check(code) || !PyDict_Check(globals) || (defaults != Py_None && !PyTuple_Check(defaults))
        || !PyTuple_Check(closure)) {
        PyErr_SetString(PyExc_TypeError, "router_new_function: a code object, a dict, None or a tuple, a tuple");
        return NULL;
    }
    Py_ssize_t nfree = PyCode_GetNumFree((PyCodeObject *)code);
    if (PyTuple_GET_SIZE(closure) != nfree) {
        PyErr_SetString(PyExc_ValueError, "router_new_function: the closure does not match the code's free variables");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nfree; i++) {
        if (!PyCell_Check(PyTuple_GET_ITEM(closure, i))) {
            PyErr_SetString(PyExc_TypeError, "router_new_function: the closure holds a non-cell");
            return NULL;
        }
    }
    PyObject *function = PyFunction_New(code, globals);
    if (function == NULL)
        return NULL;
    if ((defaults != Py_None && PyFunction_SetDefaults(function, defaults) < 0)
        || (nfree > 0 && PyFunction_SetClosure(function, closure) < 0)) {
        Py_DECREF(function);
        return NULL;
    }
    return function;
}

/* a function from `code` with `closure` = (cell(value),) and `defaults` (None or a tuple) */
static PyObject *
closure_function(PyObject *code, PyObject *globals, PyObject *defaults, PyObject *value)
{
    if (PyCode_GetNumFree((PyCodeObject *)code) != 1) {
        PyErr_SetString(PyExc_ValueError, "router_make_picker: a code object with one free variable");
        return NULL;
    }
    PyObject *cell = PyCell_New(value);
    if (cell == NULL)
        return NULL;
    PyObject *closure = PyTuple_Pack(1, cell);
    Py_DECREF(cell);
    if (closure == NULL)
        return NULL;
    PyObject *function = PyFunction_New(code, globals);
    if (function == NULL || (defaults != Py_None && PyFunction_SetDefaults(function, defaults) < 0)
        || PyFunction_SetClosure(function, closure) < 0) {
        Py_XDECREF(function);
        Py_DECREF(closure);
        return NULL;
    }
    Py_DECREF(closure);
    return function;
}

/*
 * router_make_picker(pick_code, wrapper_code, globals, router, defaults,
 * annotations, qualname, names): LiteLLM's
 * _without_reserving(_async_picker(router)) for a core with no assigned
 * pick, as protocol_fast's _unreserved_picker made it in Python (session
 * 23): the closure `pick` over `router` with `defaults`, its __annotations__
 * a new dict copied from `annotations`, its __qualname__ set when `qualname`
 * is not None; then `looked_up` over `pick` with what functools.wraps gives
 * it: __module__, __name__, __qualname__, __doc__ and __annotations__ read
 * from pick and set in that order (the same getset and member setters
 * STORE_ATTR runs), then __wrapped__ = pick (pick's own __dict__ is empty:
 * nothing to merge).  `names`: the caller's (interned) attribute names,
 * ("__annotations__", "__qualname__", "__module__", "__name__", "__doc__",
 * "__wrapped__").  No audit event, as LiteLLM's defs raise none.
 */
enum { N_ANNOTATIONS, N_QUALNAME, N_MODULE, N_NAME, N_DOC, N_WRAPPED, N_NAMES };

static PyObject *
router_make_picker(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "router_make_picker(pick_code, wrapper_code, globals, router, defaults, "
                                         "annotations, qualname, names)");
        return NULL;
    }
    PyObject *pick_code = args[0], *wrapper_code = args[1], *globals = args[2], *router = args[3],
             *defaults = args[4], *annotations = args[5], *qualname = args[6], *names = args[7];
    if (!PyCode_Check(pick_code) || !PyCode_Check(wrapper_code) || !PyDict_Check(globals)
        || (defaults != Py_None && !PyTuple_Check(defaults)) || !PyDict_Check(annotations)
        || (qualname != Py_None && !PyUnicode_Check(qualname)) || !PyTuple_CheckExact(names)
        || PyTuple_GET_SIZE(names) != N_NAMES) {
        PyErr_SetString(PyExc_TypeError, "router_make_picker: two code objects, a dict, any, None or a tuple, "
                                         "a dict, None or a str, a tuple of six names");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < N_NAMES; i++) {
        if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(names, i))) {
            PyErr_SetString(PyExc_TypeError, "router_make_picker: the names are strs");
            return NULL;
        }
    }
#define NAME(i) PyTuple_GET_ITEM(names, (i))
    PyObject *pick = closure_function(pick_code, globals, defaults, router);
    if (pick == NULL)
        return NULL;
    PyObject *looked_up = NULL;
    PyObject *copied = PyDict_Copy(annotations);
    if (copied == NULL)
        goto fail;
    int failed = PyObject_SetAttr(pick, NAME(N_ANNOTATIONS), copied) < 0;
    Py_DECREF(copied);
    if (failed || (qualname != Py_None && PyObject_SetAttr(pick, NAME(N_QUALNAME), qualname) < 0))
        goto fail;
    looked_up = closure_function(wrapper_code, globals, Py_None, pick);
    if (looked_up == NULL)
        goto fail;
    static const int wrapped[] = {N_MODULE, N_NAME, N_QUALNAME, N_DOC, N_ANNOTATIONS};
    for (size_t i = 0; i < sizeof(wrapped) / sizeof(wrapped[0]); i++) {
        PyObject *value = PyObject_GetAttr(pick, NAME(wrapped[i]));
        if (value == NULL)
            goto fail;
        failed = PyObject_SetAttr(looked_up, NAME(wrapped[i]), value) < 0;
        Py_DECREF(value);
        if (failed)
            goto fail;
    }
    if (PyObject_SetAttr(looked_up, NAME(N_WRAPPED), pick) < 0)
        goto fail;
#undef NAME
    Py_DECREF(pick);
    return looked_up;
fail:
    Py_XDECREF(looked_up);
    Py_DECREF(pick);
    return NULL;
}

static PyObject *
router_code_of(PyObject *module, PyObject *function)
{
    (void)module;
    if (!PyFunction_Check(function)) {
        PyErr_Format(PyExc_TypeError, "router_code_of: a function, not %.200s", Py_TYPE(function)->tp_name);
        return NULL;
    }
    return Py_NewRef(PyFunction_GET_CODE(function));
}

static PyMethodDef audit_free_methods[] = {
    {"router_identity", (PyCFunction)router_identity, METH_O, "id(obj) without the builtins.id audit event"},
    {"router_new_function", (PyCFunction)(void (*)(void))router_new_function, METH_FASTCALL,
     "types.FunctionType(code, globals, None, defaults, closure) without the function.__new__ audit event"},
    {"router_make_picker", (PyCFunction)(void (*)(void))router_make_picker, METH_FASTCALL,
     "LiteLLM's _without_reserving(_async_picker(router)) closures from their code objects"},
    {"router_code_of", (PyCFunction)router_code_of, METH_O,
     "function.__code__ without the object.__getattr__ audit event"},
    {NULL, NULL, 0, NULL},
};

#ifdef FL_DEPRECATED_GET

/* the globals and builtins checked, in this order, against `expected` */
enum {
    G_NOTE, G_AS_ROUTER, G_PUBLIC_ERROR, G_SYS, G_WARNINGS, G_COUNT
};
enum {
    B_ISINSTANCE, B_STR, B_GETATTR, B_DEPRECATION, B_ATTRIBUTE_ERROR, B_IMPORT, B_COUNT
};
static const char *const GLOBAL_NAMES[G_COUNT] = {
    "_note", "_as_router", "_public_attribute_error", "sys", "warnings",
};
static const char *const BUILTIN_NAMES[B_COUNT] = {
    "isinstance", "str", "getattr", "DeprecationWarning", "AttributeError", "__import__",
};

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *dict;             /* attributes (the engine's and tests' marks) */
    PyObject *original;         /* LiteLLM's __get__: every call not covered */
    PyObject *cls;              /* _DeprecatedAttribute */
    PyObject *globals;          /* litellm.router_deprecated's dict */
    PyObject *builtins;         /* the builtins dict its functions read */
    PyObject *gnames;           /* tuple of interned GLOBAL_NAMES */
    PyObject *gexpected;        /* tuple: what each global must be */
    PyObject *bnames;           /* tuple of interned BUILTIN_NAMES */
    PyObject *bexpected;        /* tuple: what each builtin must be */
    PyObject *warn;             /* warnings.warn as found (the C _warnings.warn) */
    PyObject *getframe;         /* sys._getframe as found */
    PyObject *counter_type;     /* collections.Counter */
    PyObject *switch_;          /* None, or a list whose item 0 must be True */
    PyObject *tail;             /* __get__'s steps after _note, in LiteLLM's namespace: (desc, obj) */
    /* interned strings */
    PyObject *s_hooks, *s_prefix, *s_tally, *s_name_key, *s_router_module, *s_router, *s_fromlist,
        *s_name, *s_replacement, *s_read, *s_dunder_dict, *s_get, *s_core, *s_core_prefix, *s_warn,
        *s_getframe, *s_importlib, *s_bootstrap, *s_stacklevel_names, *s_getattr_dunder, *s_path_dunder,
        *s_dunder_name, *s_spec, *s_initializing;
} DeprecatedGet;

#define N_STRINGS 24

static PyObject **
strings_of(DeprecatedGet *self)
{
    return &self->s_hooks;
}

static const char *const STRING_VALUES[N_STRINGS] = {
    "_ATTRIBUTE_HOOKS", "_INTERNAL_PREFIX", "DEPRECATED_ROUTER_MEMBER_USES", "__name__", "litellm.router",
    "Router", NULL /* fromlist */, "name", "replacement", "read", "__dict__", "get", "_core", "_core_", "warn",
    "_getframe", "importlib", "_bootstrap", NULL /* stacklevel kwnames */, "__getattr__", "__path__", "__name__",
    "__spec__", "_initializing",
};

/* 1: the call is covered and its checks passed; 0: not covered (LiteLLM's
 * __get__ runs); -1: an error (only from allocation). */
static int
globals_hold(DeprecatedGet *self)
{
    PyObject *globals = self->globals;
    for (Py_ssize_t i = 0; i < G_COUNT; i++) {
        PyObject *found = PyDict_GetItemWithError(globals, PyTuple_GET_ITEM(self->gnames, i));
        if (found != PyTuple_GET_ITEM(self->gexpected, i))
            return PyErr_Occurred() ? -1 : 0;
    }
    for (Py_ssize_t i = 0; i < B_COUNT; i++) {
        PyObject *name = PyTuple_GET_ITEM(self->bnames, i);
        PyObject *shadow = PyDict_GetItemWithError(globals, name);
        if (shadow != NULL || PyErr_Occurred())
            return PyErr_Occurred() ? -1 : 0;
        PyObject *found = PyDict_GetItemWithError(self->builtins, name);
        if (found != PyTuple_GET_ITEM(self->bexpected, i))
            return PyErr_Occurred() ? -1 : 0;
    }
    PyObject *warnings = PyTuple_GET_ITEM(self->gexpected, G_WARNINGS);
    PyObject *sys = PyTuple_GET_ITEM(self->gexpected, G_SYS);
    if (!PyModule_CheckExact(warnings) || !PyModule_CheckExact(sys))
        return 0;
    PyObject *wdict = PyModule_GetDict(warnings);
    PyObject *sdict = PyModule_GetDict(sys);
    if (PyDict_GetItemWithError(wdict, self->s_warn) != self->warn)
        return PyErr_Occurred() ? -1 : 0;
    if (PyDict_GetItemWithError(sdict, self->s_getframe) != self->getframe)
        return PyErr_Occurred() ? -1 : 0;
    return 1;
}

/* is_internal_frame of Python/_warnings.c: a filename holding "importlib"
 * and "_bootstrap".  1 / 0, or -1 on error. */
static int
internal_code(DeprecatedGet *self, PyCodeObject *code)
{
    PyObject *filename = code->co_filename;
    if (filename == NULL || !PyUnicode_Check(filename))
        return 0;
    int contains = PyUnicode_Contains(filename, self->s_importlib);
    if (contains <= 0)
        return contains;
    return PyUnicode_Contains(filename, self->s_bootstrap);
}

/* A plain str-keyed dict read of `key` from an exact dict: *out borrowed or
 * NULL (absent).  0 when `dict` is not an exact dict (its .get may run code). */
static int
plain_get(PyObject *dict, PyObject *key, PyObject **out)
{
    if (!PyDict_CheckExact(dict))
        return 0;
    *out = PyDict_GetItemWithError(dict, key);
    return PyErr_Occurred() ? -1 : 1;
}

/* The frame walk of _note (no code run): the caller frame (new reference)
 * and how many of Router's attribute-hook frames were passed (*hooks), and
 * whether the read is the router's own (*internal).  0: not covered. */
static int
walk(DeprecatedGet *self, PyObject *hooks, PyObject *prefix, PyFrameObject **caller_out, Py_ssize_t *hooks_out,
     int *internal_out)
{
    PyFrameObject *frame = PyEval_GetFrame();   /* borrowed: what sys._getframe(2) from _note reaches */
    if (frame == NULL)
        return 0;
    Py_INCREF(frame);
    Py_ssize_t passed = 0;
    PyObject *module = NULL;    /* borrowed from the caller's globals */
    for (;;) {
        PyCodeObject *code = PyFrame_GetCode(frame);
        int internal = internal_code(self, code);
        PyObject *name = code->co_name;
        int is_hook = 0;
        if (internal == 0 && PyUnicode_CheckExact(name)) {
            is_hook = PySet_Contains(hooks, name);
        }
        else if (internal == 0) {
            is_hook = -2;   /* a code name that is not an exact str: not covered */
        }
        Py_DECREF(code);
        if (internal != 0 || is_hook < 0) {
            Py_DECREF(frame);
            return (internal < 0 || is_hook == -1) ? -1 : 0;
        }
        PyObject *globals = PyFrame_GetGlobals(frame);
        int plain = plain_get(globals, self->s_name_key, &module);
        Py_DECREF(globals);   /* the frame keeps it alive */
        if (plain <= 0) {
            Py_DECREF(frame);
            return plain;
        }
        if (module != NULL && !PyUnicode_CheckExact(module) && module != Py_None) {
            /* its == / isinstance / startswith may run code */
            Py_DECREF(frame);
            return 0;
        }
        if (!is_hook)
            break;
        int router_frame = module != NULL && PyUnicode_CheckExact(module)
                           && PyUnicode_Compare(module, self->s_router_module) == 0;
        if (!router_frame)
            break;
        PyFrameObject *back = PyFrame_GetBack(frame);
        Py_DECREF(frame);
        if (back == NULL)
            return 0;   /* sys._getframe would raise: LiteLLM's __get__ raises it */
        frame = back;
        passed++;
    }
    *internal_out = module != NULL && PyUnicode_CheckExact(module)
                    && PyUnicode_Tailmatch(module, prefix, 0, PY_SSIZE_T_MAX, -1) == 1;
    *caller_out = frame;
    *hooks_out = passed;
    return 1;
}

/* `from litellm.router import Router` would read the loaded module's dict
 * and nothing else, and `obj` is exactly that Router (isinstance runs no
 * code).  1 / 0 / -1. */
static int
router_plain(DeprecatedGet *self, PyObject *obj, PyObject **mdict_out)
{
    PyObject *modules = PyImport_GetModuleDict();
    PyObject *module = PyDict_GetItemWithError(modules, self->s_router_module);
    if (module == NULL)
        return PyErr_Occurred() ? -1 : 0;
    if (!PyModule_CheckExact(module))
        return 0;
    PyObject *mdict = PyModule_GetDict(module);
    PyObject *router = PyDict_GetItemWithError(mdict, self->s_router);
    if (router == NULL || (PyObject *)Py_TYPE(obj) != router)
        return PyErr_Occurred() ? -1 : 0;
    if (PyDict_GetItemWithError(mdict, self->s_getattr_dunder) != NULL
        || PyDict_GetItemWithError(mdict, self->s_path_dunder) != NULL)
        return 0;
    if (PyErr_Occurred())
        return -1;
    if (mdict_out != NULL)
        *mdict_out = mdict;
    return 1;
}

/* The module `from litellm.router import Router` finds (a new reference),
 * read as PyImport_ImportModuleLevelObject reads it, or NULL (with no error
 * set: make the statement's own call) - CPython 3.11 only (session 23).
 * There the statement's `__path__` look-up on a module without one formats
 * two AttributeErrors that _PyObject_LookupAttr then clears (module_getattro
 * calls the generic getattr without suppression, then formats its own), ~3,500
 * instructions a pick.  For the loaded, exact module whose dict holds neither
 * `__path__` nor `__getattr__` (ModuleType's own dict holds neither name, nor
 * `__spec__`) that look-up finds nothing without running code, and the module
 * itself is the statement's value (no _handle_fromlist: not a package).  What
 * the call reads besides is import_ensure_initialized's
 * `__spec__._initializing`: read here, with no code run, when the spec's type
 * has the generic getattr and no attribute of that name (an instance-dict
 * read); the module is returned when the value is absent or False.
 * Anything else (another module object, a spec that may run code, a module
 * still initializing) is the statement's own call, which reads the same
 * (pure) values again.  3.12+ look `__path__` up without formatting: their
 * call is made as before. */
static PyObject *
loaded_router_module(DeprecatedGet *self)
{
#if PY_VERSION_HEX < 0x030C0000
    PyObject *modules = PyImport_GetModuleDict();
    if (modules == NULL || !PyDict_CheckExact(modules))
        return NULL;
    PyObject *module = PyDict_GetItemWithError(modules, self->s_router_module);
    if (module == NULL || !PyModule_CheckExact(module))
        return NULL;
    PyObject *mdict = PyModule_GetDict(module);
    if (mdict == NULL || !PyDict_CheckExact(mdict) || PyDict_GetItemWithError(mdict, self->s_getattr_dunder) != NULL
        || PyDict_GetItemWithError(mdict, self->s_path_dunder) != NULL)
        return NULL;
    if (PyErr_Occurred())
        return NULL;
    PyObject *spec = PyDict_GetItemWithError(mdict, self->s_spec);
    if (spec == NULL)
        return NULL;
    PyTypeObject *spec_type = Py_TYPE(spec);
    if (spec_type->tp_getattro != PyObject_GenericGetAttr || _PyType_Lookup(spec_type, self->s_initializing) != NULL)
        return NULL;
    Py_INCREF(spec);
    PyObject *initializing = NULL;
    int found = _PyObject_LookupAttr(spec, self->s_initializing, &initializing);
    Py_DECREF(spec);
    if (found < 0) {  /* (CPython clears it: not busy; here the statement's call decides) */
        PyErr_Clear();
        return NULL;
    }
    if (initializing != NULL && initializing != Py_False) {
        Py_DECREF(initializing);
        return NULL;
    }
    Py_XDECREF(initializing);
    return Py_NewRef(module);
#else
    (void)self;
    return NULL;
#endif
}

/* The descriptor's own fields, read as `self.name` reads them (no class
 * attribute of these names, the generic getattr): 1 / 0 / -1. */
static int
fields_plain(DeprecatedGet *self, PyObject *desc)
{
    PyTypeObject *tp = Py_TYPE(desc);
    if ((PyObject *)tp != self->cls || tp->tp_getattro != PyObject_GenericGetAttr)
        return 0;
    PyObject *cdict = tp->tp_dict;
    PyObject *names[3] = {self->s_name, self->s_replacement, self->s_read};
    for (int i = 0; i < 3; i++) {
        if (PyDict_GetItemWithError(cdict, names[i]) != NULL || PyErr_Occurred())
            return PyErr_Occurred() ? -1 : 0;
    }
    return 1;
}

/* A frameless callable's `switch` (DeprecatedGet's, RouterGetattribute's): None (the patch
 * engine's: always on while installed), or a list whose item 0 turns it on (True). */
static int
switch_is_off(PyObject *sw)
{
    return sw != Py_None
           && (!PyList_CheckExact(sw) || PyList_GET_SIZE(sw) < 1 || PyList_GET_ITEM(sw, 0) != Py_True);
}

static int
switch_store(PyObject **slot, PyObject *value)
{
    if (value == NULL)
        value = Py_None;
    if (value != Py_None && !PyList_CheckExact(value)) {
        PyErr_SetString(PyExc_TypeError, "switch must be None or a list");
        return -1;
    }
    Py_SETREF(*slot, Py_NewRef(value));
    return 0;
}

static PyObject *
call_original(DeprecatedGet *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    return PyObject_Vectorcall(self->original, args, nargsf, kwnames);
}

/* `raise _public_attribute_error(router, "_core_" + self.name, self.name, e) from None`
 * inside `except AttributeError as e` (e the error set now). */
static PyObject *
raise_public(DeprecatedGet *self, PyObject *desc, PyObject *router)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    /* the except clause's handled exception, as PUSH_EXC_INFO / POP_EXCEPT set and restore it */
    _PyErr_StackItem *item = PyThreadState_Get()->exc_info;
    PyObject *previous = item->exc_value;
    item->exc_value = Py_NewRef(value);
    PyObject *made = NULL;
    PyObject *fn = PyDict_GetItemWithError(self->globals, PyTuple_GET_ITEM(self->gnames, G_PUBLIC_ERROR));
    if (fn == NULL && !PyErr_Occurred())
        fn = PyDict_GetItemWithError(self->builtins, PyTuple_GET_ITEM(self->gnames, G_PUBLIC_ERROR));
    if (fn == NULL) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_NameError, "name '%U' is not defined", PyTuple_GET_ITEM(self->gnames, G_PUBLIC_ERROR));
        goto done;
    }
    Py_INCREF(fn);
    PyObject *name = PyObject_GetAttr(desc, self->s_name);
    PyObject *core_name = name != NULL ? PyNumber_Add(self->s_core_prefix, name) : NULL;
    Py_XDECREF(name);
    PyObject *name_again = core_name != NULL ? PyObject_GetAttr(desc, self->s_name) : NULL;
    if (name_again != NULL) {
        PyObject *args[4] = {router, core_name, name_again, value};
        made = PyObject_Vectorcall(fn, args, 4, NULL);
    }
    Py_DECREF(fn);
    Py_XDECREF(core_name);
    Py_XDECREF(name_again);
    if (made != NULL) {
        if (PyExceptionInstance_Check(made)) {
            PyException_SetCause(made, NULL);   /* from None: no cause, context suppressed */
            PyErr_SetObject((PyObject *)Py_TYPE(made), made);
        }
        else if (PyExceptionClass_Check(made)) {
            /* (LiteLLM's function returns an instance; a class would be instantiated by raise) */
            PyObject *instance = PyObject_CallNoArgs(made);
            if (instance != NULL) {
                PyException_SetCause(instance, NULL);
                PyErr_SetObject(made, instance);
                Py_DECREF(instance);
            }
        }
        else {
            PyErr_SetString(PyExc_TypeError, "exceptions must derive from BaseException");
        }
        Py_DECREF(made);
    }
done:
    {
        PyObject *handled = item->exc_value;
        item->exc_value = previous;
        Py_XDECREF(handled);
    }
    Py_DECREF(value);
    return NULL;
}

/* The audit events _note raises reading the frames walk() read: for each,
 * sys._getframe's ("sys._getframe", frame) and its f_code read's
 * ("object.__getattr__", (frame, "f_code")).  0, or -1 (a hook raised). */
static int
audit_walk(DeprecatedGet *self, Py_ssize_t passed)
{
    PyFrameObject *frame = PyEval_GetFrame();
    if (frame == NULL)
        return 0;
    Py_INCREF(frame);
    for (Py_ssize_t i = 0; i <= passed && frame != NULL; i++) {
        if (PySys_Audit("sys._getframe", "O", frame) < 0
            || PySys_Audit("object.__getattr__", "Os", frame, "f_code") < 0) {
            Py_DECREF(frame);
            return -1;
        }
        PyFrameObject *back = i < passed ? PyFrame_GetBack(frame) : NULL;
        Py_DECREF(frame);
        frame = back;
    }
    Py_XDECREF(frame);
    return 0;
}

/* The dicts whose contents the steps after the note rely on (what the checks
 * read): LiteLLM's module dict, its builtins, sys.modules and litellm.router's
 * dict.  Code run by the audit hooks or the warning that changes none of
 * them leaves the checks' verdict as it was. */
#define N_WATCHED 4

typedef struct {
    PyObject *dicts[N_WATCHED];     /* strong references */
#if PY_VERSION_HEX < 0x030C0000
    uint64_t tags[N_WATCHED];       /* PEP 509 version tags (CPython <= 3.11) */
#endif
} watched_dicts;

static void
watch(watched_dicts *w, PyObject *globals, PyObject *builtins, PyObject *modules, PyObject *mdict)
{
    PyObject *dicts[N_WATCHED] = {globals, builtins, modules, mdict};
    for (int i = 0; i < N_WATCHED; i++) {
        w->dicts[i] = Py_NewRef(dicts[i]);
#if PY_VERSION_HEX < 0x030C0000
        w->tags[i] = ((PyDictObject *)dicts[i])->ma_version_tag;
#endif
    }
}

/* 1: every watched dict is unchanged; 0: one may have changed. */
static int
unchanged(const watched_dicts *w)
{
#if PY_VERSION_HEX < 0x030C0000
    for (int i = 0; i < N_WATCHED; i++) {
        if (((PyDictObject *)w->dicts[i])->ma_version_tag != w->tags[i])
            return 0;
    }
    return 1;
#else
    (void)w;
    return 0;
#endif
}

static void
unwatch(watched_dicts *w)
{
    for (int i = 0; i < N_WATCHED; i++)
        Py_CLEAR(w->dicts[i]);
}

/* A global read as LOAD_GLOBAL reads it in LiteLLM's module: a new reference, or NULL (NameError). */
static PyObject *
load_global(DeprecatedGet *self, PyObject *name)
{
    PyObject *found = PyDict_GetItemWithError(self->globals, name);
    if (found == NULL && !PyErr_Occurred())
        found = PyDict_GetItemWithError(self->builtins, name);
    if (found == NULL) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_NameError, "name '%U' is not defined", name);
        return NULL;
    }
    return Py_NewRef(found);
}

static PyObject *note_and_read(DeprecatedGet *self, PyObject *desc, PyObject *obj, Py_ssize_t passed, int internal,
                               watched_dicts *w);

static PyObject *
DeprecatedGet_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    DeprecatedGet *self = (DeprecatedGet *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != 3 || kwnames != NULL)
        return call_original(self, args, nargsf, kwnames);
    if (switch_is_off(self->switch_))
        return call_original(self, args, nargsf, kwnames);
    PyObject *desc = args[0], *obj = args[1];
    if (obj == Py_None)
        return call_original(self, args, nargsf, kwnames);   /* a class-level read: no note */
    int ok = fields_plain(self, desc);
    if (ok > 0)
        ok = globals_hold(self);
    PyObject *hooks = NULL, *prefix = NULL, *tally = NULL;
    if (ok > 0) {
        hooks = PyDict_GetItemWithError(self->globals, self->s_hooks);
        prefix = PyDict_GetItemWithError(self->globals, self->s_prefix);
        tally = PyDict_GetItemWithError(self->globals, self->s_tally);
        if (PyErr_Occurred())
            ok = -1;
        else if (hooks == NULL || !PyFrozenSet_CheckExact(hooks) || prefix == NULL || !PyUnicode_CheckExact(prefix)
                 || tally == NULL || (PyObject *)Py_TYPE(tally) != self->counter_type)
            ok = 0;
    }
    PyObject *mdict = NULL;
    if (ok > 0)
        ok = router_plain(self, obj, &mdict);
    PyFrameObject *caller = NULL;
    Py_ssize_t passed = 0;
    int internal = 0;
    if (ok > 0)
        ok = walk(self, hooks, prefix, &caller, &passed, &internal);
    if (ok < 0)
        return NULL;
    if (ok == 0)
        return call_original(self, args, nargsf, kwnames);
    Py_DECREF(caller);   /* (only its depth is used from here) */
    /* held: the type slot calls it with a borrowed reference (the class dict's), which code run by
     * the audit hooks or the warning may drop; and the dicts the checks read, watched */
    Py_INCREF(self);
    watched_dicts w;
    watch(&w, self->globals, self->builtins, PyImport_GetModuleDict(), mdict);
    PyObject *result = note_and_read(self, desc, obj, passed, internal, &w);
    unwatch(&w);
    Py_DECREF(self);
    return result;
}

static PyObject *
note_and_read(DeprecatedGet *self, PyObject *desc, PyObject *obj, Py_ssize_t passed, int internal,
              watched_dicts *w)
{
    /* __get__: _note(self.name, self.replacement) */
    PyObject *name = PyObject_GetAttr(desc, self->s_name);
    if (name == NULL)
        return NULL;
    PyObject *replacement = PyObject_GetAttr(desc, self->s_replacement);
    if (replacement == NULL) {
        Py_DECREF(name);
        return NULL;
    }
    /* _note's audit events: sys._getframe(depth) and caller.f_code for each frame it reads */
    if (audit_walk(self, passed) < 0) {
        Py_DECREF(name);
        Py_DECREF(replacement);
        return NULL;
    }
    if (!internal) {
        /* DEPRECATED_ROUTER_MEMBER_USES[name] += 1 (the global read after the audit hooks ran) */
        PyObject *tally = load_global(self, self->s_tally);
        PyObject *count = tally != NULL ? PyObject_GetItem(tally, name) : NULL;
        PyObject *more = NULL;
        if (count != NULL) {
            PyObject *one = PyLong_FromLong(1);
            more = one != NULL ? PyNumber_InPlaceAdd(count, one) : NULL;
            Py_XDECREF(one);
            Py_DECREF(count);
        }
        int stored = more != NULL ? PyObject_SetItem(tally, name, more) : -1;
        Py_XDECREF(more);
        Py_XDECREF(tally);
        PyObject *message = NULL;
        if (stored == 0) {
            PyObject *name_text = PyObject_Format(name, NULL);
            PyObject *replacement_text = name_text != NULL ? PyObject_Format(replacement, NULL) : NULL;
            if (replacement_text != NULL)
                message = PyUnicode_FromFormat("Router.%U is deprecated; use Router.%U", name_text,
                                               replacement_text);
            Py_XDECREF(name_text);
            Py_XDECREF(replacement_text);
        }
        PyObject *warned = NULL;
        if (message != NULL) {
            /* warnings.warn(message, DeprecationWarning, stacklevel=depth + 1): counted from
             * here, the frame current at the read is level 1 (from _note it is level 3) */
            PyObject *level = PyLong_FromSsize_t(passed + 1);
            if (level != NULL) {
                PyObject *wargs[3] = {message, PyTuple_GET_ITEM(self->bexpected, B_DEPRECATION), level};
                warned = PyObject_Vectorcall(self->warn, wargs, 2, self->s_stacklevel_names);
                Py_DECREF(level);
            }
            Py_DECREF(message);
        }
        if (warned == NULL) {
            Py_DECREF(name);
            Py_DECREF(replacement);
            return NULL;
        }
        Py_DECREF(warned);
    }
    Py_DECREF(name);
    Py_DECREF(replacement);
    if (!unchanged(w)) {
        /* the audit hooks or the warning ran code that changed a dict the checks read: the
         * checks again, else the rest of __get__ as its bytecode runs it */
        int ok = globals_hold(self);
        if (ok > 0)
            ok = router_plain(self, obj, NULL);
        if (ok < 0)
            return NULL;
        if (ok == 0)
            return PyObject_CallFunctionObjArgs(self->tail, desc, obj, NULL);
    }

    /* router = _as_router(obj), LiteLLM's _as_router (checked above, after the warning too):
     * `from litellm.router import Router` (the statement's own call: the builtins' __import__
     * is the interpreter's), then isinstance */
    PyObject *router = NULL;
    {
        PyObject *module = loaded_router_module(self);
        if (module == NULL && PyErr_Occurred())
            return NULL;
        if (module == NULL)
            module = PyImport_ImportModuleLevelObject(self->s_router_module, self->globals, Py_None,
                                                      self->s_fromlist, 0);
        if (module == NULL)
            return NULL;
        PyObject *router_class = PyObject_GetAttr(module, self->s_router);
        Py_DECREF(module);
        if (router_class == NULL) {
            if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_ImportError, "cannot import name 'Router' from 'litellm.router'");
            }
            return NULL;
        }
        int is = PyObject_IsInstance(obj, router_class);
        Py_DECREF(router_class);
        if (is < 0)
            return NULL;
        if (!is) {
            PyObject *tname = PyObject_GetAttr((PyObject *)Py_TYPE(obj), self->s_dunder_name);
            if (tname != NULL) {
                PyObject *text = PyObject_Format(tname, NULL);
                if (text != NULL) {
                    PyErr_Format(PyExc_TypeError,
                                 "%U is not a litellm.Router; DeprecatedRouterMembers is mixed into Router only",
                                 text);
                    Py_DECREF(text);
                }
                Py_DECREF(tname);
            }
            return NULL;
        }
        Py_INCREF(obj);
        router = obj;
    }

    /* try: obj.__dict__.get("_core") is None -> getattr(obj, "_core_" + name), else self.read(router) */
    PyObject *result = NULL;
    PyObject *state = PyObject_GetAttr(obj, self->s_dunder_dict);
    if (state != NULL) {
        PyObject *core;
        if (PyDict_CheckExact(state)) {
            core = PyDict_GetItemWithError(state, self->s_core);
            if (core == NULL && !PyErr_Occurred())
                core = Py_None;
            Py_XINCREF(core);
        }
        else {
            core = PyObject_CallMethodOneArg(state, self->s_get, self->s_core);
        }
        Py_DECREF(state);
        if (core != NULL) {
            int none = core == Py_None;
            Py_DECREF(core);
            if (none) {
                PyObject *name_now = PyObject_GetAttr(desc, self->s_name);
                PyObject *attr = name_now != NULL ? PyNumber_Add(self->s_core_prefix, name_now) : NULL;
                Py_XDECREF(name_now);
                if (attr != NULL) {
                    result = PyObject_GetAttr(obj, attr);
                    Py_DECREF(attr);
                }
            }
            else {
                PyObject *read = PyObject_GetAttr(desc, self->s_read);
                if (read != NULL) {
                    result = PyObject_CallOneArg(read, router);
                    Py_DECREF(read);
                }
            }
        }
    }
    if (result == NULL && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        /* (AttributeError, the builtin, checked not shadowed above) */
        raise_public(self, desc, router);
    }
    Py_DECREF(router);
    return result;
}

static PyObject *
DeprecatedGet_descr_get(PyObject *self, PyObject *obj, PyObject *type)
{
    /* read on an instance it binds like a function (desc.__get__(obj, owner) works as before) */
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

static int
DeprecatedGet_traverse(DeprecatedGet *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->dict);
    Py_VISIT(self->original);
    Py_VISIT(self->cls);
    Py_VISIT(self->globals);
    Py_VISIT(self->builtins);
    Py_VISIT(self->gnames);
    Py_VISIT(self->gexpected);
    Py_VISIT(self->bnames);
    Py_VISIT(self->bexpected);
    Py_VISIT(self->warn);
    Py_VISIT(self->getframe);
    Py_VISIT(self->counter_type);
    Py_VISIT(self->switch_);
    Py_VISIT(self->tail);
    return 0;
}

static int
DeprecatedGet_clear(DeprecatedGet *self)
{
    Py_CLEAR(self->dict);
    Py_CLEAR(self->original);
    Py_CLEAR(self->cls);
    Py_CLEAR(self->globals);
    Py_CLEAR(self->builtins);
    Py_CLEAR(self->gnames);
    Py_CLEAR(self->gexpected);
    Py_CLEAR(self->bnames);
    Py_CLEAR(self->bexpected);
    Py_CLEAR(self->warn);
    Py_CLEAR(self->getframe);
    Py_CLEAR(self->counter_type);
    Py_CLEAR(self->switch_);
    Py_CLEAR(self->tail);
    PyObject **strings = strings_of(self);
    for (int i = 0; i < N_STRINGS; i++)
        Py_CLEAR(strings[i]);
    return 0;
}

static void
DeprecatedGet_dealloc(DeprecatedGet *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    DeprecatedGet_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *
interned_names(const char *const *names, Py_ssize_t n)
{
    PyObject *tuple = PyTuple_New(n);
    if (tuple == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *s = PyUnicode_InternFromString(names[i]);
        if (s == NULL) {
            Py_DECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, i, s);
    }
    return tuple;
}

/* DeprecatedGet(original, cls, globals, builtins, expected_globals, expected_builtins, warn, getframe,
 *               counter_type, tail) */
static PyObject *
DeprecatedGet_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *original, *cls, *globals, *builtins, *gexpected, *bexpected, *warn, *getframe, *counter_type, *tail;
    if (kwds != NULL && PyDict_GET_SIZE(kwds) != 0) {
        PyErr_SetString(PyExc_TypeError, "DeprecatedGet takes positional arguments only");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "OOO!O!O!O!OOOO:DeprecatedGet", &original, &cls, &PyDict_Type, &globals,
                          &PyDict_Type, &builtins, &PyTuple_Type, &gexpected, &PyTuple_Type, &bexpected, &warn,
                          &getframe, &counter_type, &tail))
        return NULL;
    if (PyTuple_GET_SIZE(gexpected) != G_COUNT || PyTuple_GET_SIZE(bexpected) != B_COUNT || !PyType_Check(cls)
        || !PyType_Check(counter_type) || !PyCallable_Check(tail)) {
        PyErr_SetString(PyExc_ValueError, "DeprecatedGet: unexpected arguments");
        return NULL;
    }
    DeprecatedGet *self = (DeprecatedGet *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->vectorcall = DeprecatedGet_vectorcall;
    self->original = Py_NewRef(original);
    self->cls = Py_NewRef(cls);
    self->globals = Py_NewRef(globals);
    self->builtins = Py_NewRef(builtins);
    self->gexpected = Py_NewRef(gexpected);
    self->bexpected = Py_NewRef(bexpected);
    self->warn = Py_NewRef(warn);
    self->getframe = Py_NewRef(getframe);
    self->counter_type = Py_NewRef(counter_type);
    self->switch_ = Py_NewRef(Py_None);
    self->tail = Py_NewRef(tail);
    self->gnames = interned_names(GLOBAL_NAMES, G_COUNT);
    self->bnames = interned_names(BUILTIN_NAMES, B_COUNT);
    if (self->gnames == NULL || self->bnames == NULL)
        goto fail;
    PyObject **strings = strings_of(self);
    for (int i = 0; i < N_STRINGS; i++) {
        if (STRING_VALUES[i] == NULL)
            continue;
        strings[i] = PyUnicode_InternFromString(STRING_VALUES[i]);
        if (strings[i] == NULL)
            goto fail;
    }
    self->s_fromlist = PyTuple_Pack(1, self->s_router);
    self->s_stacklevel_names = Py_BuildValue("(s)", "stacklevel");
    if (self->s_fromlist == NULL || self->s_stacklevel_names == NULL)
        goto fail;
    return (PyObject *)self;
fail:
    Py_DECREF(self);
    return NULL;
}

static PyObject *
DeprecatedGet_get_switch(DeprecatedGet *self, void *closure)
{
    return Py_NewRef(self->switch_);
}

static int
DeprecatedGet_set_switch(DeprecatedGet *self, PyObject *value, void *closure)
{
    return switch_store(&self->switch_, value);
}

static PyObject *
DeprecatedGet_get_original(DeprecatedGet *self, void *closure)
{
    return Py_NewRef(self->original);
}

static PyGetSetDef DeprecatedGet_getset[] = {
    {"switch", (getter)DeprecatedGet_get_switch, (setter)DeprecatedGet_set_switch,
     "None (the patch engine's: always on while installed), or a list whose item 0 turns it on (True)", NULL},
    {"original", (getter)DeprecatedGet_get_original, NULL, "LiteLLM's __get__, run for every call not covered",
     NULL},
    {NULL},
};

static PyMemberDef DeprecatedGet_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(DeprecatedGet, dict), READONLY, NULL},
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(DeprecatedGet, vectorcall), READONLY, NULL},
    {NULL},
};

static PyType_Slot DeprecatedGet_slots[] = {
    {Py_tp_new, DeprecatedGet_new},
    {Py_tp_dealloc, DeprecatedGet_dealloc},
    {Py_tp_traverse, DeprecatedGet_traverse},
    {Py_tp_clear, DeprecatedGet_clear},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_descr_get, DeprecatedGet_descr_get},
    {Py_tp_getset, DeprecatedGet_getset},
    {Py_tp_members, DeprecatedGet_members},
    {Py_tp_doc, "LiteLLM's _DeprecatedAttribute.__get__ without a Python frame (bind_router_deprecated.c)."},
    {0, NULL},
};

static PyType_Spec DeprecatedGet_spec = {
    .name = "fast_litellm._native.DeprecatedGet",
    .basicsize = sizeof(DeprecatedGet),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .slots = DeprecatedGet_slots,
};

/*
 * RouterGetattribute: LiteLLM 1.110.2's Router.__getattribute__ (litellm/router.py)
 * without a Python frame (session 22).  Every attribute read of a Router runs it;
 * a pick reads three (the deprecated pick attribute, the pick closure's
 * `router.select`, which misses on the facade, and the deprecated read's
 * `obj.__dict__`).  The same steps as its bytecode, with the builtins it reads
 * (object, AttributeError, getattr, type) checked at each call as the
 * interpreter's, not shadowed in litellm.router's dict; anything else (another
 * call shape, a name that is not an exact str, a switch that is off) runs
 * LiteLLM's function.  What differs: no frame of its own (the deprecated
 * descriptor's walk skips that frame anyway: the warning names the same frame),
 * and `object.__getattribute__`'s miss raises no AttributeError to catch where
 * CPython can say "not found" without one (3.11; the except clause caught every
 * AttributeError, a descriptor's too: suppressed alike).  The errors it raises
 * are LiteLLM's: `AttributeError(name)` without a core, the core's own error
 * re-raised, or the renamed one `from None` with the core's error as its context.
 */
enum { RG_OBJECT, RG_ATTRIBUTE_ERROR, RG_GETATTR, RG_TYPE, RG_COUNT };
static const char *const RG_BUILTIN_NAMES[RG_COUNT] = {"object", "AttributeError", "getattr", "type"};

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *dict;             /* attributes (the engine's and tests' marks) */
    PyObject *original;         /* LiteLLM's __getattribute__ */
    PyObject *globals;          /* litellm.router's dict */
    PyObject *builtins;         /* the builtins it reads */
    PyObject *bnames;           /* interned RG_BUILTIN_NAMES */
    PyObject *bexpected;        /* what each must be */
    PyObject *switch_;          /* None, or a list whose item 0 must be True */
    PyObject *s_dict, *s_core, *s_pending, *s_get, *s_obj, *s_name, *s_dunder_name, *kw_name_obj;
} RouterGetattribute;

static int
rg_builtins_hold(RouterGetattribute *self)
{
    for (Py_ssize_t i = 0; i < RG_COUNT; i++) {
        PyObject *name = PyTuple_GET_ITEM(self->bnames, i);
        PyObject *shadow = PyDict_GetItemWithError(self->globals, name);
        if (shadow != NULL || PyErr_Occurred())
            return PyErr_Occurred() ? -1 : 0;
        PyObject *found = PyDict_GetItemWithError(self->builtins, name);
        if (found != PyTuple_GET_ITEM(self->bexpected, i))
            return PyErr_Occurred() ? -1 : 0;
    }
    return 1;
}

/* facade.get(key) / facade.get(key, default): a new reference, NULL on error */
static PyObject *
rg_get(RouterGetattribute *self, PyObject *facade, PyObject *key, PyObject *deflt)
{
    if (PyDict_CheckExact(facade)) {
        PyObject *found = PyDict_GetItemWithError(facade, key);
        if (found != NULL)
            return Py_NewRef(found);
        if (PyErr_Occurred())
            return NULL;
        return Py_NewRef(deflt != NULL ? deflt : Py_None);
    }
    if (deflt == NULL)
        return PyObject_CallMethodOneArg(facade, self->s_get, key);
    return PyObject_CallMethodObjArgs(facade, self->s_get, key, deflt, NULL);
}

/* `except AttributeError as error:` around `getattr(core, name)` failing: the error
 * re-raised, or the renamed one `from None` (its context the error, as the except
 * clause's raise sets it). */
static PyObject *
rg_missing(RouterGetattribute *self, PyObject *obj, PyObject *name, PyObject *core)
{
    PyObject *type, *error, *tb;
    PyErr_Fetch(&type, &error, &tb);
    PyErr_NormalizeException(&type, &error, &tb);
    if (tb != NULL)
        PyException_SetTraceback(error, tb);
    /* the except clause's handled exception, as PUSH_EXC_INFO / POP_EXCEPT set and restore it */
    _PyErr_StackItem *item = PyThreadState_Get()->exc_info;
    PyObject *previous = item->exc_value;
    item->exc_value = Py_NewRef(error);
    int reraise = -1;
    PyObject *error_obj = PyObject_GetAttr(error, self->s_obj);
    if (error_obj != NULL) {
        if (error_obj != core) {
            reraise = 1;
        }
        else {
            PyObject *error_name = PyObject_GetAttr(error, self->s_name);
            if (error_name != NULL) {
                reraise = PyObject_RichCompareBool(error_name, name, Py_NE);
                Py_DECREF(error_name);
            }
        }
        Py_DECREF(error_obj);
    }
    if (reraise == 1) {
        /* raise: the handled error, as it was */
        Py_INCREF(type);
        Py_INCREF(error);
        Py_XINCREF(tb);
        PyErr_Restore(type, error, tb);
    }
    else if (reraise == 0) {
        PyObject *made = NULL;
        PyObject *tname = PyObject_GetAttr((PyObject *)Py_TYPE(obj), self->s_dunder_name);
        PyObject *ttext = tname != NULL ? PyObject_Format(tname, NULL) : NULL;
        PyObject *ntext = ttext != NULL ? PyObject_Format(name, NULL) : NULL;
        PyObject *message = ntext != NULL ? PyUnicode_FromFormat("'%U' object has no attribute '%U'", ttext, ntext)
                                          : NULL;
        Py_XDECREF(tname);
        Py_XDECREF(ttext);
        Py_XDECREF(ntext);
        if (message != NULL) {
            PyObject *args[3] = {message, name, obj};
            made = PyObject_Vectorcall(PyTuple_GET_ITEM(self->bexpected, RG_ATTRIBUTE_ERROR), args, 1,
                                       self->kw_name_obj);
            Py_DECREF(message);
        }
        if (made != NULL) {
            if (PyExceptionInstance_Check(made)) {
                PyException_SetCause(made, NULL);   /* from None */
                PyErr_SetObject((PyObject *)Py_TYPE(made), made);   /* its context: the handled error */
            }
            else {
                PyErr_SetString(PyExc_TypeError, "exceptions must derive from BaseException");
            }
            Py_DECREF(made);
        }
    }
    {
        PyObject *handled = item->exc_value;
        item->exc_value = previous;
        Py_XDECREF(handled);
    }
    Py_XDECREF(type);
    Py_DECREF(error);
    Py_XDECREF(tb);
    return NULL;
}

static PyObject *
RouterGetattribute_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    RouterGetattribute *self = (RouterGetattribute *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != 2 || kwnames != NULL || !PyUnicode_CheckExact(args[1]))
        return PyObject_Vectorcall(self->original, args, nargsf, kwnames);
    if (switch_is_off(self->switch_))
        return PyObject_Vectorcall(self->original, args, nargsf, kwnames);
    int ok = rg_builtins_hold(self);
    if (ok < 0)
        return NULL;
    if (ok == 0)
        return PyObject_Vectorcall(self->original, args, nargsf, kwnames);
    PyObject *obj = args[0], *name = args[1];
    /* Only where the class-level look-up finds nothing, or a descriptor whose __get__ runs no
     * Python code (a function binding, a C getset / member / method / slot descriptor): a
     * descriptor running Python code may look at the frames (the deprecated attributes' _note
     * walks them, raising audit events for each, past this hook's frame) - LiteLLM's
     * function, with its frame, reads those. */
    PyObject *on_type = _PyType_Lookup(Py_TYPE(obj), name);   /* borrowed */
    if (on_type != NULL) {
        PyTypeObject *dt = Py_TYPE(on_type);
        if (dt != &PyFunction_Type && dt != &PyGetSetDescr_Type && dt != &PyMemberDescr_Type
            && dt != &PyMethodDescr_Type && dt != &PyWrapperDescr_Type)
            return PyObject_Vectorcall(self->original, args, nargsf, kwnames);
    }
    /* try: return object.__getattribute__(self, name) / except AttributeError: pass */
#if PY_VERSION_HEX < 0x030C0000
    PyObject *found = _PyObject_GenericGetAttrWithDict(obj, name, NULL, 1);
    if (found != NULL)
        return found;
    if (PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            return NULL;
        PyErr_Clear();
    }
#else
    PyObject *found = PyObject_GenericGetAttr(obj, name);
    if (found != NULL)
        return found;
    if (!PyErr_ExceptionMatches(PyExc_AttributeError))
        return NULL;
    PyErr_Clear();
#endif
    /* facade = object.__getattribute__(self, "__dict__"); core = facade.get("_core") */
    PyObject *facade = PyObject_GenericGetAttr(obj, self->s_dict);
    if (facade == NULL)
        return NULL;
    PyObject *core = rg_get(self, facade, self->s_core, NULL);
    if (core == NULL) {
        Py_DECREF(facade);
        return NULL;
    }
    PyObject *result = NULL;
    if (core == Py_None) {
        /* pending = facade.get("_pending", {}); if name in pending: return pending[name];
         * raise AttributeError(name) */
        PyObject *empty = PyDict_New();
        PyObject *pending = empty != NULL ? rg_get(self, facade, self->s_pending, empty) : NULL;
        Py_XDECREF(empty);
        if (pending != NULL) {
            int has = PySequence_Contains(pending, name);
            if (has > 0) {
                result = PyObject_GetItem(pending, name);
            }
            else if (has == 0) {
                PyObject *made = PyObject_CallOneArg(PyTuple_GET_ITEM(self->bexpected, RG_ATTRIBUTE_ERROR), name);
                if (made != NULL) {
                    if (PyExceptionInstance_Check(made))
                        PyErr_SetObject((PyObject *)Py_TYPE(made), made);
                    else
                        PyErr_SetString(PyExc_TypeError, "exceptions must derive from BaseException");
                    Py_DECREF(made);
                }
            }
            Py_DECREF(pending);
        }
    }
    else {
        /* try: return getattr(core, name) / except AttributeError as error: ... */
        result = PyObject_GetAttr(core, name);
        if (result == NULL && PyErr_ExceptionMatches(PyExc_AttributeError))
            rg_missing(self, obj, name, core);
    }
    Py_DECREF(core);
    Py_DECREF(facade);
    return result;
}

static int
RouterGetattribute_traverse(RouterGetattribute *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->dict);
    Py_VISIT(self->original);
    Py_VISIT(self->globals);
    Py_VISIT(self->builtins);
    Py_VISIT(self->bexpected);
    Py_VISIT(self->switch_);
    return 0;
}

static int
RouterGetattribute_clear(RouterGetattribute *self)
{
    Py_CLEAR(self->dict);
    Py_CLEAR(self->original);
    Py_CLEAR(self->globals);
    Py_CLEAR(self->builtins);
    Py_CLEAR(self->bnames);
    Py_CLEAR(self->bexpected);
    Py_CLEAR(self->switch_);
    Py_CLEAR(self->s_dict);
    Py_CLEAR(self->s_core);
    Py_CLEAR(self->s_pending);
    Py_CLEAR(self->s_get);
    Py_CLEAR(self->s_obj);
    Py_CLEAR(self->s_name);
    Py_CLEAR(self->s_dunder_name);
    Py_CLEAR(self->kw_name_obj);
    return 0;
}

static void
RouterGetattribute_dealloc(RouterGetattribute *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    RouterGetattribute_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* RouterGetattribute(original, globals, builtins, expected_builtins) */
static PyObject *
RouterGetattribute_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *original, *globals, *builtins, *bexpected;
    if (kwds != NULL && PyDict_GET_SIZE(kwds) != 0) {
        PyErr_SetString(PyExc_TypeError, "RouterGetattribute takes positional arguments only");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "OO!O!O!:RouterGetattribute", &original, &PyDict_Type, &globals, &PyDict_Type,
                          &builtins, &PyTuple_Type, &bexpected))
        return NULL;
    if (PyTuple_GET_SIZE(bexpected) != RG_COUNT || !PyCallable_Check(original)) {
        PyErr_SetString(PyExc_ValueError, "RouterGetattribute: unexpected arguments");
        return NULL;
    }
    RouterGetattribute *self = (RouterGetattribute *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->vectorcall = RouterGetattribute_vectorcall;
    self->original = Py_NewRef(original);
    self->globals = Py_NewRef(globals);
    self->builtins = Py_NewRef(builtins);
    self->bexpected = Py_NewRef(bexpected);
    self->switch_ = Py_NewRef(Py_None);
    self->bnames = interned_names(RG_BUILTIN_NAMES, RG_COUNT);
    self->s_dict = PyUnicode_InternFromString("__dict__");
    self->s_core = PyUnicode_InternFromString("_core");
    self->s_pending = PyUnicode_InternFromString("_pending");
    self->s_get = PyUnicode_InternFromString("get");
    self->s_obj = PyUnicode_InternFromString("obj");
    self->s_name = PyUnicode_InternFromString("name");
    self->s_dunder_name = PyUnicode_InternFromString("__name__");
    self->kw_name_obj = Py_BuildValue("(ss)", "name", "obj");
    if (self->bnames == NULL || self->s_dict == NULL || self->s_core == NULL || self->s_pending == NULL
        || self->s_get == NULL || self->s_obj == NULL || self->s_name == NULL || self->s_dunder_name == NULL
        || self->kw_name_obj == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyObject *
RouterGetattribute_get_switch(RouterGetattribute *self, void *closure)
{
    return Py_NewRef(self->switch_);
}

static int
RouterGetattribute_set_switch(RouterGetattribute *self, PyObject *value, void *closure)
{
    return switch_store(&self->switch_, value);
}

static PyObject *
RouterGetattribute_get_original(RouterGetattribute *self, void *closure)
{
    return Py_NewRef(self->original);
}

static PyGetSetDef RouterGetattribute_getset[] = {
    {"switch", (getter)RouterGetattribute_get_switch, (setter)RouterGetattribute_set_switch,
     "None (the patch engine's: always on while installed), or a list whose item 0 turns it on (True)", NULL},
    {"original", (getter)RouterGetattribute_get_original, NULL, "LiteLLM's Router.__getattribute__", NULL},
    {NULL},
};

static PyMemberDef RouterGetattribute_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(RouterGetattribute, dict), READONLY, NULL},
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(RouterGetattribute, vectorcall), READONLY, NULL},
    {NULL},
};

static PyType_Slot RouterGetattribute_slots[] = {
    {Py_tp_new, RouterGetattribute_new},
    {Py_tp_dealloc, RouterGetattribute_dealloc},
    {Py_tp_traverse, RouterGetattribute_traverse},
    {Py_tp_clear, RouterGetattribute_clear},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_descr_get, DeprecatedGet_descr_get},
    {Py_tp_getset, RouterGetattribute_getset},
    {Py_tp_members, RouterGetattribute_members},
    {Py_tp_doc, "LiteLLM's Router.__getattribute__ without a Python frame (bind_router_deprecated.c)."},
    {0, NULL},
};

static PyType_Spec RouterGetattribute_spec = {
    .name = "fast_litellm._native.RouterGetattribute",
    .basicsize = sizeof(RouterGetattribute),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .slots = RouterGetattribute_slots,
};

int
fl_bind_router_deprecated(PyObject *module)
{
    if (PyModule_AddFunctions(module, audit_free_methods) < 0)
        return -1;
    if (fl_add_type(module, &DeprecatedGet_spec, "DeprecatedGet", -1) < 0)
        return -1;
    if (fl_add_type(module, &RouterGetattribute_spec, "RouterGetattribute", -1) < 0)
        return -1;
    return 0;
}

#else

int
fl_bind_router_deprecated(PyObject *module)
{
    /* not built: the patch declines (no DeprecatedGet) */
    return PyModule_AddFunctions(module, audit_free_methods);
}

#endif
