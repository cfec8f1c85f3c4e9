/*
 * bind_cache.c - native methods for LiteLLM's InMemoryCache, and the pure
 * computation of the v3 proxy rate limiter.
 *
 * How the cache part works
 * ------------------------
 * InMemoryCache keeps its state in plain Python objects that LiteLLM's own
 * code and tests read: cache_dict, ttl_dict (dicts) and expiration_heap (a
 * heapq list of (expiry, key) tuples).  Values are arbitrary Python objects
 * whose identity must survive a round trip, so the state cannot move into a
 * C structure.  Instead each patched method is a "fast_method" descriptor:
 * a C callable that binds like a Python function (Py_TPFLAGS_METHOD_DESCRIPTOR,
 * so `cache.get_cache(k)` calls it with no bound-method allocation) and
 * performs exactly the stock method's sequence of operations on the same
 * dicts and heap, in the same order, with the same comparisons and the
 * same number of clock calls.  The heap is driven through _heapq's own
 * heappush/heappop/heapify, so its layout is identical.
 *
 * Subclasses and mocks: the stock methods call helpers through `self`
 * (self._remove_key, self.get_cache, ...).  LLMClientCache overrides some.
 * A per-type profile (cached by the type's version tag, which CPython
 * changes whenever the type or a base is modified) records which helpers a
 * type overrides; an instance-dict entry of the same name counts too.  An
 * overridden helper is called through Python exactly where the stock code
 * calls it; the others run inline.  A type that defines any of the data
 * attributes, or customizes attribute access, gets the original Python
 * method for the whole call (it is kept in the descriptor).
 *
 * Threads: the stock locks (_write_lock, _increment_lock) are taken and
 * released exactly where the stock code takes them.  Between Python
 * callbacks (the clock, overridden helpers, json.loads) this code holds the
 * GIL, so it is never less atomic than the stock code.
 *
 * The only part that needs no Python (the JSON prefilter) is in
 * csrc/cache/cache_core.c; the limiter's int64 arithmetic is in
 * csrc/proxy_limiter/limiter_core.c.  The proxy limiter's functions are in
 * bind_cache_limiter.inc (included at the end of this file, so the limiter
 * needs no binder of its own in module.c).
 *
 * Module state: slot FL_SLOT_CACHE holds the CacheContext type, slot
 * FL_SLOT_CACHE + 1 the fast_method type, FL_SLOT_CACHE + 2 the limiter's
 * LocalRateLimits type.  Everything else lives in the
 * context object each _cache_build call returns methods for.
 */
#include "binding/module_state.h"
#include "structmember.h"

#include "cache/cache_core.h"
#include "proxy_limiter/limiter_core.h"
#include "proxy_limiter/local_store.h"

#include <math.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* Registries                                                          */

enum {
    HOOK_GET_CACHE,
    HOOK_SET_CACHE,
    HOOK_EVICT_CACHE,
    HOOK_CHECK_VALUE_SIZE,
    HOOK_ALLOW_TTL_OVERRIDE,
    HOOK_EVICT_ELEMENT_IF_EXPIRED,
    HOOK_IS_KEY_EXPIRED,
    HOOK_REMOVE_KEY,
    HOOK_CACHE_KEYS,
    HOOK_COUNT
};

static const char *const HOOK_NAMES[HOOK_COUNT] = {
    "get_cache", "set_cache", "evict_cache", "check_value_size", "allow_ttl_override",
    "evict_element_if_expired", "_is_key_expired", "_remove_key", "_cache_keys",
};

enum {
    ATTR_CACHE_DICT,
    ATTR_TTL_DICT,
    ATTR_HEAP,
    ATTR_CLOCK,
    ATTR_MAX_SIZE,
    ATTR_DEFAULT_TTL,
    ATTR_MAX_ITEM,
    ATTR_WRITE_LOCK,
    ATTR_INCREMENT_LOCK,
    ATTR_COUNT
};

static const char *const ATTR_NAMES[ATTR_COUNT] = {
    "cache_dict", "ttl_dict", "expiration_heap", "_clock", "max_size_in_memory",
    "default_ttl", "max_size_per_item", "_write_lock", "_increment_lock",
};

/* Operations a fast_method performs; the Python method names they replace. */
enum { OP_GET, OP_SET, OP_BATCH_GET, OP_INCREMENT, OP_DELETE, OP_FLUSH, OP_EVICT, OP_COUNT };

static const char *const OP_NAMES[OP_COUNT] = {
    "get_cache", "set_cache", "batch_get_cache", "increment_cache", "delete_cache",
    "flush_cache", "evict_cache",
};

/* The hook a fast op also counts as (its own name), or -1. */
static const int OP_HOOK[OP_COUNT] = {
    HOOK_GET_CACHE, HOOK_SET_CACHE, -1, -1, -1, -1, HOOK_EVICT_CACHE,
};

#if PY_VERSION_HEX < 0x030C0000
/* Every change to a dict gives it a new, globally unique version. */
#define FL_DICT_VERSION(d) (((PyDictObject *)(d))->ma_version_tag)
#endif

#if PY_VERSION_HEX >= 0x030D0000
/* Moved to CPython's internal headers in 3.13 but still exported (the
   limiter's key-metadata write: dict[scope] = meta with the scope hashed
   once, as stock hashes it once). */
PyAPI_FUNC(int) _PyDict_SetItem_KnownHash(PyObject *mp, PyObject *key, PyObject *item, Py_hash_t hash);
#endif

#define FLAG_GENERIC (1u << 31)
#define PROFILE_CACHE 4

/* ------------------------------------------------------------------ */
/* CacheContext: what every fast method of one patched class shares.   */

typedef struct {
    PyObject_HEAD
    PyObject *hook_names[HOOK_COUNT];
    PyObject *hook_originals[HOOK_COUNT];
    PyObject *hook_fast[HOOK_COUNT];
    PyObject *attr_names[ATTR_COUNT];
    PyObject *module_globals; /* litellm.caching.in_memory_cache.__dict__ */
    PyObject *json_module;
    PyObject *json_loads;
    PyObject *heappush, *heappop, *heapify;
    PyObject *lock_types; /* tuple of the exact lock types we take inline */
    PyObject *stock_types; /* tuple: instances of these run the stock methods */
    PyObject *clock_code;  /* code of the stock `lambda: time.time()` */
    PyObject *time_module, *time_time, *s_time;
    PyObject *lock_enter[2], *lock_exit[2]; /* type(lock).__enter__/__exit__ per lock type */
    int lock_direct; /* lock_types[0] verified to be the stock _thread.lock layout */
    int lock_sem;    /* ... and its PyThread lock a POSIX semaphore (sys.thread_info.lock) */
    PyObject *s_json, *s_loads, *s_max_kb, *s_enter, *s_exit, *s_sizeof, *s_pop, *s_get,
        *s_clear, *s_key, *s_ttl;
    PyObject *kw_key; /* ("key",) */
    PyObject *zero, *two, *one, *n1024;
    /* a few (type, version tag) -> profile entries, replaced round-robin */
    PyTypeObject *cached_type[PROFILE_CACHE];
    unsigned int cached_tag[PROFILE_CACHE];
    unsigned int cached_flags[PROFILE_CACHE];
    unsigned int cached_next;
    /* whether in_memory_cache's `time.time` / `json.loads` are the stock
     * ones, and (CPython < 3.12) the dict versions that answer was read at */
    int modules_known, time_stock, json_stock;
    uint64_t ver_globals, ver_time, ver_json;
#ifdef FL_DICT_VERSION
    /* What the last instance dict looked up held, while that dict keeps
     * the version it had (any change to it gives it a new, globally unique
     * version, so an unchanged version means the same entries, still alive
     * in it: the values are borrowed from the dict).  ac_dict is only
     * compared, never dereferenced. */
    PyObject *ac_dict;
    uint64_t ac_ver;
    PyObject *ac_val[ATTR_COUNT];
    unsigned int ac_hook_checked, ac_hook_present;
#endif
    PyObject *s_self, *s_value, *s_keys; /* parameter names, interned */
    PyObject *time_dict, *json_dict; /* the modules' dicts (fixed for a module's life) */
#ifdef FL_DICT_VERSION
    PyObject *kb_value; /* borrowed MAX_SIZE_PER_ITEM_IN_MEMORY_CACHE_IN_KB while ... */
    uint64_t kb_ver;    /* ... the module globals keep this version */
#endif
    PyObject *dict_sizeof;           /* dict.__sizeof__ (builtin types are immutable) */
} CacheCtx;

static int
ctx_traverse(CacheCtx *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    for (int i = 0; i < HOOK_COUNT; i++) {
        Py_VISIT(self->hook_originals[i]);
        Py_VISIT(self->hook_fast[i]);
    }
    Py_VISIT(self->module_globals);
    Py_VISIT(self->json_module);
    Py_VISIT(self->json_loads);
    Py_VISIT(self->heappush);
    Py_VISIT(self->heappop);
    Py_VISIT(self->heapify);
    Py_VISIT(self->lock_types);
    Py_VISIT(self->stock_types);
    Py_VISIT(self->clock_code);
    Py_VISIT(self->time_module);
    Py_VISIT(self->time_time);
    Py_VISIT(self->time_dict);
    Py_VISIT(self->json_dict);
    for (int i = 0; i < 2; i++) {
        Py_VISIT(self->lock_enter[i]);
        Py_VISIT(self->lock_exit[i]);
    }
    return 0;
}

static int
ctx_clear(CacheCtx *self)
{
    for (int i = 0; i < HOOK_COUNT; i++) {
        Py_CLEAR(self->hook_names[i]);
        Py_CLEAR(self->hook_originals[i]);
        Py_CLEAR(self->hook_fast[i]);
    }
    for (int i = 0; i < ATTR_COUNT; i++)
        Py_CLEAR(self->attr_names[i]);
    Py_CLEAR(self->module_globals);
    Py_CLEAR(self->json_module);
    Py_CLEAR(self->json_loads);
    Py_CLEAR(self->heappush);
    Py_CLEAR(self->heappop);
    Py_CLEAR(self->heapify);
    Py_CLEAR(self->lock_types);
    Py_CLEAR(self->stock_types);
    Py_CLEAR(self->clock_code);
    Py_CLEAR(self->time_module);
    Py_CLEAR(self->time_time);
    Py_CLEAR(self->s_time);
    for (int i = 0; i < 2; i++) {
        Py_CLEAR(self->lock_enter[i]);
        Py_CLEAR(self->lock_exit[i]);
    }
    Py_CLEAR(self->s_json);
    Py_CLEAR(self->s_loads);
    Py_CLEAR(self->s_max_kb);
    Py_CLEAR(self->s_enter);
    Py_CLEAR(self->s_exit);
    Py_CLEAR(self->s_sizeof);
    Py_CLEAR(self->s_pop);
    Py_CLEAR(self->s_get);
    Py_CLEAR(self->s_clear);
    Py_CLEAR(self->s_key);
    Py_CLEAR(self->s_ttl);
    Py_CLEAR(self->time_dict);
    Py_CLEAR(self->json_dict);
    Py_CLEAR(self->dict_sizeof);
    Py_CLEAR(self->s_self);
    Py_CLEAR(self->s_value);
    Py_CLEAR(self->s_keys);
    Py_CLEAR(self->kw_key);
    Py_CLEAR(self->zero);
    Py_CLEAR(self->two);
    Py_CLEAR(self->one);
    Py_CLEAR(self->n1024);
    for (int i = 0; i < PROFILE_CACHE; i++)
        self->cached_type[i] = NULL;
    return 0;
}

static void
ctx_dealloc(CacheCtx *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    ctx_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyType_Slot ctx_slots[] = {
    {Py_tp_traverse, (void *)ctx_traverse},
    {Py_tp_clear, (void *)ctx_clear},
    {Py_tp_dealloc, (void *)ctx_dealloc},
    {Py_tp_doc, (void *)"Shared state of the native InMemoryCache methods."},
    {0, NULL},
};

static PyType_Spec ctx_spec = {
    .name = "fast_litellm._native.CacheContext",
    .basicsize = sizeof(CacheCtx),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = ctx_slots,
};

/* ------------------------------------------------------------------ */
/* fast_method: a C method that binds like a Python function.          */

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    int op;
    PyObject *name;
    PyObject *qualname;
    PyObject *module; /* the original's __module__: interpreter messages name it */
    PyObject *original;
    CacheCtx *ctx;
} FastMethod;

static int
fm_traverse(FastMethod *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->original);
    Py_VISIT(self->ctx);
    return 0;
}

static int
fm_clear(FastMethod *self)
{
    Py_CLEAR(self->name);
    Py_CLEAR(self->qualname);
    Py_CLEAR(self->module);
    Py_CLEAR(self->original);
    Py_CLEAR(self->ctx);
    return 0;
}

static void
fm_dealloc(FastMethod *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    fm_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *
fm_descr_get(PyObject *self, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None) {
        Py_INCREF(self);
        return self;
    }
    return PyMethod_New(self, obj);
}

static PyObject *
fm_repr(FastMethod *self)
{
    return PyUnicode_FromFormat("<fast_litellm native method %U>", self->qualname);
}

static PyMemberDef fm_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(FastMethod, vectorcall), READONLY, NULL},
    {"__name__", T_OBJECT, offsetof(FastMethod, name), READONLY, NULL},
    {"__qualname__", T_OBJECT, offsetof(FastMethod, qualname), READONLY, NULL},
    {"__module__", T_OBJECT, offsetof(FastMethod, module), READONLY, NULL},
    {"__wrapped__", T_OBJECT, offsetof(FastMethod, original), READONLY,
     "The stock LiteLLM function this method replaces."},
    {NULL},
};

static PyObject *fm_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                               PyObject *kwnames);

static PyType_Slot fm_slots[] = {
    {Py_tp_traverse, (void *)fm_traverse},
    {Py_tp_clear, (void *)fm_clear},
    {Py_tp_dealloc, (void *)fm_dealloc},
    {Py_tp_descr_get, (void *)fm_descr_get},
    {Py_tp_call, (void *)PyVectorcall_Call},
    {Py_tp_repr, (void *)fm_repr},
    {Py_tp_members, fm_members},
    {Py_tp_doc, (void *)"A native InMemoryCache method; __wrapped__ is the stock one."},
    {0, NULL},
};

static PyType_Spec fm_spec = {
    .name = "fast_litellm._native.fast_method",
    .basicsize = sizeof(FastMethod),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_METHOD_DESCRIPTOR |
             Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = fm_slots,
};

/* ------------------------------------------------------------------ */
/* One call: the instance, its __dict__, and its type's profile.        */

typedef struct {
    CacheCtx *ctx;
    PyObject *self;
    PyObject *dict; /* strong */
    unsigned int flags;
    /* the stock clock's reading, shared by every read in this call (see clock_now) */
    double now;
    int has_now;
} Call;

/* Which helpers type tp overrides (bit per hook), or FLAG_GENERIC. */
static unsigned int
type_profile(CacheCtx *ctx, PyTypeObject *tp)
{
    unsigned int flags = 0;
    for (int i = 0; i < PROFILE_CACHE; i++) {
        if (tp == ctx->cached_type[i] && (tp->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG) &&
            tp->tp_version_tag == ctx->cached_tag[i])
            return ctx->cached_flags[i];
    }
    if (tp->tp_getattro != PyObject_GenericGetAttr || tp->tp_setattro != PyObject_GenericSetAttr)
        flags |= FLAG_GENERIC;
    for (int h = 0; h < HOOK_COUNT; h++) {
        PyObject *found = _PyType_Lookup(tp, ctx->hook_names[h]);
        if (found != ctx->hook_originals[h] && (found == NULL || found != ctx->hook_fast[h]))
            flags |= 1u << h;
    }
    for (int a = 0; a < ATTR_COUNT; a++)
        if (_PyType_Lookup(tp, ctx->attr_names[a]) != NULL)
            flags |= FLAG_GENERIC;
    for (Py_ssize_t i = 0; ctx->stock_types && i < PyTuple_GET_SIZE(ctx->stock_types); i++)
        if (PyType_IsSubtype(tp, (PyTypeObject *)PyTuple_GET_ITEM(ctx->stock_types, i)))
            flags |= FLAG_GENERIC;
    if (tp->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG) {
        unsigned int slot = ctx->cached_next++ % PROFILE_CACHE;
        ctx->cached_type[slot] = tp;
        ctx->cached_tag[slot] = tp->tp_version_tag;
        ctx->cached_flags[slot] = flags;
    }
    return flags;
}

/* 0: ready; 1: use the original for the whole call; -1: error. */
static int
call_begin(Call *c, CacheCtx *ctx, PyObject *self)
{
    PyObject **dictptr;
    c->ctx = ctx;
    c->self = self;
    c->dict = NULL;
    c->has_now = 0;
    c->flags = type_profile(ctx, Py_TYPE(self));
    if (c->flags & FLAG_GENERIC)
        return 1;
    dictptr = _PyObject_GetDictPtr(self);
    if (dictptr == NULL || *dictptr == NULL || !PyDict_CheckExact(*dictptr))
        return 1;
    c->dict = *dictptr;
    Py_INCREF(c->dict);
    return 0;
}

static void
call_end(Call *c)
{
    Py_CLEAR(c->dict);
}

#ifdef FL_DICT_VERSION
/* Is the attribute cache about c->dict as it is now?  If not, reset it to it. */
static int
attr_cache_valid(Call *c)
{
    CacheCtx *ctx = c->ctx;
    if (ctx->ac_dict == c->dict && ctx->ac_ver == FL_DICT_VERSION(c->dict))
        return 1;
    ctx->ac_dict = c->dict;
    ctx->ac_ver = FL_DICT_VERSION(c->dict);
    memset(ctx->ac_val, 0, sizeof(ctx->ac_val));
    ctx->ac_hook_checked = ctx->ac_hook_present = 0;
    return 0;
}

/* Still the same dict version after a lookup (which may run __eq__)? */
static int
attr_cache_current(Call *c)
{
    return c->ctx->ac_dict == c->dict && c->ctx->ac_ver == FL_DICT_VERSION(c->dict);
}
#endif

/* self.__dict__[name] as a borrowed reference, NULL if missing (error set
 * only on failure); remembered while the instance dict is unchanged. */
static PyObject *
instance_entry(Call *c, int a)
{
    PyObject *v;
#ifdef FL_DICT_VERSION
    if (attr_cache_valid(c) && c->ctx->ac_val[a] != NULL)
        return c->ctx->ac_val[a];
#endif
    v = PyDict_GetItemWithError(c->dict, c->ctx->attr_names[a]);
#ifdef FL_DICT_VERSION
    if (v != NULL && attr_cache_current(c))
        c->ctx->ac_val[a] = v;
#endif
    return v;
}

/* self.<attr>, new reference. */
static PyObject *
attr(Call *c, int a)
{
    PyObject *v = instance_entry(c, a);
    if (v != NULL) {
        Py_INCREF(v);
        return v;
    }
    if (PyErr_Occurred())
        return NULL;
    return PyObject_GetAttr(c->self, c->ctx->attr_names[a]);
}

/* 1 when helper h must be called through Python (overridden), 0 inline. */
static int
hook_is_python(Call *c, int h)
{
    unsigned int bit = 1u << h;
    int found;
    if (c->flags & bit)
        return 1;
#ifdef FL_DICT_VERSION
    if (attr_cache_valid(c) && (c->ctx->ac_hook_checked & bit))
        return (c->ctx->ac_hook_present & bit) != 0;
#endif
    found = PyDict_GetItemWithError(c->dict, c->ctx->hook_names[h]) != NULL;
    if (!found && PyErr_Occurred())
        return -1;
#ifdef FL_DICT_VERSION
    if (attr_cache_current(c)) {
        c->ctx->ac_hook_checked |= bit;
        if (found)
            c->ctx->ac_hook_present |= bit;
    }
#endif
    return found;
}

/* self.<hook>(*args) through normal attribute lookup. */
static PyObject *
call_hook(Call *c, int h, PyObject *arg1, PyObject *arg2)
{
    PyObject *argv[3] = {c->self, arg1, arg2};
    size_t n = arg1 == NULL ? 1 : (arg2 == NULL ? 2 : 3);
    return PyObject_VectorcallMethod(c->ctx->hook_names[h], argv, n, NULL);
}

static int
truth_of_call(PyObject *r)
{
    int t;
    if (r == NULL)
        return -1;
    t = PyObject_IsTrue(r);
    Py_DECREF(r);
    return t;
}

/* `a <op> b` as the interpreter evaluates it, then its truth. */
static int
compare(PyObject *a, PyObject *b, int op)
{
    if (PyFloat_CheckExact(a) && PyFloat_CheckExact(b)) {
        double x = PyFloat_AS_DOUBLE(a), y = PyFloat_AS_DOUBLE(b);
        switch (op) {
        case Py_LT: return x < y;
        case Py_LE: return x <= y;
        case Py_EQ: return x == y;
        case Py_NE: return x != y;
        case Py_GT: return x > y;
        default: return x >= y;
        }
    }
    return truth_of_call(PyObject_RichCompare(a, b, op));
}

/* self._clock().  The stock clock is `lambda: time.time()` compiled in
 * in_memory_cache; when it is that lambda and the module's `time.time` is
 * still the builtin, call the builtin directly (same lookups, no frame). */
/* An exact int that fits in int64 (1), or not (0, no error set). */
static int
lx_small_int(PyObject *x, int64_t *out)
{
    int overflow = 0;
    long long v;
    if (!PyLong_CheckExact(x))
        return 0;
#if PY_VERSION_HEX < 0x030C0000
    /* CPython <= 3.11 ints: Py_SIZE is the signed number of 30/15-bit digits */
    if (Py_SIZE(x) >= -1 && Py_SIZE(x) <= 1) {
        *out = (int64_t)Py_SIZE(x) * (int64_t)((PyLongObject *)x)->ob_digit[0];
        return 1;
    }
#endif
    v = PyLong_AsLongLongAndOverflow(x, &overflow);
    if (overflow || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    *out = (int64_t)v;
    return 1;
}

/* Are in_memory_cache's `time.time` and `json.loads` the stock functions?
 * Answered by four dict lookups, remembered while the three dicts involved
 * keep their versions (where CPython exposes them). */
static int
stock_modules(CacheCtx *ctx)
{
    PyObject *g = ctx->module_globals, *tm, *jm, *f;
    PyObject *time_dict = ctx->time_dict, *json_dict = ctx->json_dict;
#ifdef FL_DICT_VERSION
    if (ctx->modules_known && FL_DICT_VERSION(g) == ctx->ver_globals &&
        FL_DICT_VERSION(time_dict) == ctx->ver_time && FL_DICT_VERSION(json_dict) == ctx->ver_json)
        return 0;
#endif
    tm = PyDict_GetItemWithError(g, ctx->s_time);
    f = tm == ctx->time_module ? PyDict_GetItemWithError(time_dict, ctx->s_time) : NULL;
    ctx->time_stock = f != NULL && f == ctx->time_time;
    if (PyErr_Occurred())
        return -1;
    jm = PyDict_GetItemWithError(g, ctx->s_json);
    f = jm == ctx->json_module ? PyDict_GetItemWithError(json_dict, ctx->s_loads) : NULL;
    ctx->json_stock = f != NULL && f == ctx->json_loads;
    if (PyErr_Occurred())
        return -1;
#ifdef FL_DICT_VERSION
    ctx->ver_globals = FL_DICT_VERSION(g);
    ctx->ver_time = FL_DICT_VERSION(time_dict);
    ctx->ver_json = FL_DICT_VERSION(json_dict);
    ctx->modules_known = 1;
#endif
    return 0;
}

static PyObject *
clock_now(Call *c)
{
    CacheCtx *ctx = c->ctx;
    PyObject *clock = attr(c, ATTR_CLOCK), *r;
    if (clock == NULL)
        return NULL;
    if (PyFunction_Check(clock) && PyFunction_GET_CODE(clock) == ctx->clock_code &&
        PyFunction_GET_GLOBALS(clock) == ctx->module_globals) {
        if (stock_modules(ctx) < 0) {
            Py_DECREF(clock);
            return NULL;
        }
        if (ctx->time_stock) {
            Py_DECREF(clock);
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030D0000
            /* time.time()'s own body in 3.11/3.12 (Modules/timemodule.c
             * time_time: get_system_time(), then _PyFloat_FromPyTime).
             * The stock method reads the real clock two or three times; the
             * readings are only ever "some time during the call", so one
             * reading serves them all (the call as if it took no time, a
             * schedule the stock code can also take: consecutive reads of a
             * coarse clock are equal).  A user clock or a patched time.time
             * is still called every time. */
            if (!c->has_now) {
                _PyTime_t t;
                if (_PyTime_GetSystemClockWithInfo(&t, NULL) < 0)
                    return NULL;
                c->now = _PyTime_AsSecondsDouble(t);
                c->has_now = 1;
            }
            return PyFloat_FromDouble(c->now);
#else
            return PyObject_CallNoArgs(ctx->time_time);
#endif
        }
    }
    r = PyObject_CallNoArgs(clock);
    Py_DECREF(clock);
    return r;
}

/* mapping.get(key) (None when missing), new reference. */
static PyObject *
mapping_get(CacheCtx *ctx, PyObject *mapping, PyObject *key)
{
    if (PyDict_CheckExact(mapping)) {
        PyObject *v = PyDict_GetItemWithError(mapping, key);
        if (v == NULL) {
            if (PyErr_Occurred())
                return NULL;
            v = Py_None;
        }
        Py_INCREF(v);
        return v;
    }
    return PyObject_CallMethodOneArg(mapping, ctx->s_get, key);
}

/* mapping.pop(key, None), result discarded.  For a dict, the very code
   dict.pop runs: one hash and one lookup (a key's __hash__/__eq__ are
   called as often as stock), and an empty dict returns without hashing
   (so an unhashable key is no error there, as in stock). */
static int
mapping_pop(CacheCtx *ctx, PyObject *mapping, PyObject *key)
{
    if (PyDict_CheckExact(mapping)) {
#if PY_VERSION_HEX >= 0x030D0000
        return PyDict_Pop(mapping, key, NULL) < 0 ? -1 : 0;
#else
        PyObject *old = _PyDict_Pop(mapping, key, Py_None);
        if (old == NULL)
            return -1;
        Py_DECREF(old);
        return 0;
#endif
    }
    PyObject *argv[3] = {mapping, key, Py_None};
    PyObject *r = PyObject_VectorcallMethod(ctx->s_pop, argv, 3, NULL);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* `a, b = obj`, with the interpreter's error messages. */
static int
unpack2(PyObject *obj, PyObject **a, PyObject **b)
{
    PyObject *it, *x, *y, *extra;
    if (PyTuple_CheckExact(obj) && PyTuple_GET_SIZE(obj) == 2) {
        *a = PyTuple_GET_ITEM(obj, 0);
        *b = PyTuple_GET_ITEM(obj, 1);
        Py_INCREF(*a);
        Py_INCREF(*b);
        return 0;
    }
    it = PyObject_GetIter(obj);
    if (it == NULL) {
        if (PyErr_ExceptionMatches(PyExc_TypeError) && Py_TYPE(obj)->tp_iter == NULL &&
            !PySequence_Check(obj)) {
            PyErr_Format(PyExc_TypeError, "cannot unpack non-iterable %.200s object",
                         Py_TYPE(obj)->tp_name);
        }
        return -1;
    }
    x = PyIter_Next(it);
    if (x == NULL) {
        Py_DECREF(it);
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "not enough values to unpack (expected 2, got 0)");
        return -1;
    }
    y = PyIter_Next(it);
    if (y == NULL) {
        Py_DECREF(it);
        Py_DECREF(x);
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "not enough values to unpack (expected 2, got 1)");
        return -1;
    }
    extra = PyIter_Next(it);
    Py_DECREF(it);
    if (extra != NULL || PyErr_Occurred()) {
        Py_XDECREF(extra);
        Py_DECREF(x);
        Py_DECREF(y);
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "too many values to unpack (expected 2)");
        return -1;
    }
    *a = x;
    *b = y;
    return 0;
}

static Py_ssize_t
sized_len(PyObject *o)
{
    return PyList_CheckExact(o) ? PyList_GET_SIZE(o) : PyObject_Size(o);
}

/* `with lock:` for the exact lock types: enter.  1 entered, -1 error. */
static int
lock_index(CacheCtx *ctx, PyObject *lock)
{
    return (PyObject *)Py_TYPE(lock) == PyTuple_GET_ITEM(ctx->lock_types, 0) ? 0 : 1;
}

/* CPython 3.9-3.12 `_thread.lock` (Modules/_threadmodule.c, lockobject).
 * `with lock:` runs lock.__enter__() = acquire(): parse no arguments, then
 * acquire_timed(), whose first step is a non-blocking
 * PyThread_acquire_lock_timed(lock, 0, 0) and, when that succeeds, sets
 * `locked = 1`; __exit__ = release(): if `locked`, clear it and
 * PyThread_release_lock().  An uncontended lock can take those exact steps
 * here without the argument parsing; a held lock (or an unverified layout)
 * goes through __enter__, which blocks with the GIL released as before.
 * The layout is verified when a context is built (size, name, and a real
 * lock's `locked` byte tracking acquire/release). */
#if PY_VERSION_HEX < 0x030D0000 && !defined(Py_GIL_DISABLED)
#define FL_DIRECT_LOCK 1
typedef struct {
    PyObject_HEAD
    PyThread_type_lock lock_lock;
    PyObject *in_weakreflist;
    char locked;
} StockLock;

/* A new _thread lock for the verifications below: 1 and *out set when it
 * is of lock_type, 0 when it is of another type, -1 on error. */
static int
new_lock_of_type(PyObject *lock_type, PyObject **out)
{
    PyObject *thread = PyImport_ImportModule("_thread"), *lock;
    *out = NULL;
    if (thread == NULL)
        return -1;
    lock = PyObject_CallMethod(thread, "allocate_lock", NULL);
    Py_DECREF(thread);
    if (lock == NULL)
        return -1;
    if ((PyObject *)Py_TYPE(lock) != lock_type) {
        Py_DECREF(lock);
        return 0;
    }
    *out = lock;
    return 1;
}

static int
lock_layout_verified(PyObject *lock_type)
{
    PyTypeObject *tp = (PyTypeObject *)lock_type;
    PyObject *lock, *r;
    int ok = 0;
    if (tp->tp_basicsize != (Py_ssize_t)sizeof(StockLock) || strcmp(tp->tp_name, "_thread.lock") != 0)
        return 0;
    int made = new_lock_of_type(lock_type, &lock);
    if (made <= 0)
        return made;
    if (((StockLock *)lock)->locked == 0 && ((StockLock *)lock)->lock_lock != NULL) {
        r = PyObject_CallMethod(lock, "acquire", NULL);
        if (r == NULL) {
            Py_DECREF(lock);
            return -1;
        }
        ok = r == Py_True && ((StockLock *)lock)->locked == 1 &&
             PyThread_acquire_lock_timed(((StockLock *)lock)->lock_lock, 0, 0) == PY_LOCK_FAILURE;
        Py_DECREF(r);
        r = PyObject_CallMethod(lock, "release", NULL);
        if (r == NULL) {
            Py_DECREF(lock);
            return -1;
        }
        Py_DECREF(r);
        ok = ok && ((StockLock *)lock)->locked == 0;
    }
    Py_DECREF(lock);
    return ok;
}
#endif

#if defined(FL_DIRECT_LOCK) && defined(__linux__)
#include <semaphore.h>
#define FL_SEM_LOCK 1
/*
 * Where Python's locks are POSIX semaphores (sys.thread_info.lock ==
 * "semaphore": PyThread_allocate_lock returns a sem_t), a non-blocking
 * acquire is sem_trywait, which is all PyThread_acquire_lock_timed(lock, 0, 0)
 * does after first reading the monotonic clock for a deadline it does not
 * use.  Verified on a real lock: sem_trywait takes it, PyThread sees it held,
 * PyThread_release_lock frees it.
 */
static int
lock_sem_verified(PyObject *lock_type)
{
    PyObject *sys = PyImport_ImportModule("sys"), *info, *kind, *lock;
    int ok = 0;
    if (sys == NULL)
        return -1;
    info = PyObject_GetAttrString(sys, "thread_info");
    Py_DECREF(sys);
    if (info == NULL)
        return -1;
    kind = PyObject_GetAttrString(info, "lock");
    Py_DECREF(info);
    if (kind == NULL)
        return -1;
    ok = PyUnicode_Check(kind) && PyUnicode_CompareWithASCIIString(kind, "semaphore") == 0;
    Py_DECREF(kind);
    if (!ok)
        return 0;
    int made = new_lock_of_type(lock_type, &lock);
    if (made <= 0)
        return made;
    {
        PyThread_type_lock ll = ((StockLock *)lock)->lock_lock;
        ok = ll != NULL && sem_trywait((sem_t *)ll) == 0;
        if (ok) {
            ok = PyThread_acquire_lock_timed(ll, 0, 0) == PY_LOCK_FAILURE;
            PyThread_release_lock(ll);
            ok = ok && PyThread_acquire_lock_timed(ll, 0, 0) == PY_LOCK_ACQUIRED;
            if (ok)
                PyThread_release_lock(ll);
        }
    }
    Py_DECREF(lock);
    return ok;
}
#endif

static int
lock_enter(Call *c, PyObject *lock)
{
#ifdef FL_DIRECT_LOCK
    if (c->ctx->lock_direct && (PyObject *)Py_TYPE(lock) == PyTuple_GET_ITEM(c->ctx->lock_types, 0)) {
        StockLock *sl = (StockLock *)lock;
#ifdef FL_SEM_LOCK
        if (c->ctx->lock_sem) {
            if (sem_trywait((sem_t *)sl->lock_lock) == 0) {
                sl->locked = 1;
                return 1;
            }
        }
        else
#endif
        if (PyThread_acquire_lock_timed(sl->lock_lock, 0, 0) == PY_LOCK_ACQUIRED) {
            sl->locked = 1;
            return 1;
        }
    }
#endif
    PyObject *argv[1] = {lock};
    PyObject *r = PyObject_Vectorcall(c->ctx->lock_enter[lock_index(c->ctx, lock)], argv, 1, NULL);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 1;
}

/* Leave the with block.  `result` is the body's result (NULL on error).
 * Returns the call's result as the with statement would produce it. */
static PyObject *
lock_exit(Call *c, PyObject *lock, PyObject *result)
{
    PyObject *r;
#ifdef FL_DIRECT_LOCK
    if (result != NULL && c->ctx->lock_direct &&
        (PyObject *)Py_TYPE(lock) == PyTuple_GET_ITEM(c->ctx->lock_types, 0) &&
        ((StockLock *)lock)->locked) {
        ((StockLock *)lock)->locked = 0;
        PyThread_release_lock(((StockLock *)lock)->lock_lock);
        return result;
    }
#endif
    if (result != NULL) {
        PyObject *argv[4] = {lock, Py_None, Py_None, Py_None};
        r = PyObject_Vectorcall(c->ctx->lock_exit[lock_index(c->ctx, lock)], argv, 4, NULL);
        if (r == NULL) {
            Py_DECREF(result);
            return NULL;
        }
        Py_DECREF(r);
        return result;
    }
    else {
        PyObject *type, *value, *tb;
        int suppress;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        if (tb != NULL)
            PyException_SetTraceback(value, tb);
        PyObject *argv[4] = {lock, type, value, tb ? tb : Py_None};
        r = PyObject_Vectorcall(c->ctx->lock_exit[lock_index(c->ctx, lock)], argv, 4, NULL);
        if (r == NULL) {
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(tb);
            return NULL;
        }
        suppress = PyObject_IsTrue(r);
        Py_DECREF(r);
        if (suppress < 0) {
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(tb);
            return NULL;
        }
        if (suppress) {
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(tb);
            Py_RETURN_NONE;
        }
        PyErr_Restore(type, value, tb);
        return NULL;
    }
}

/* ------------------------------------------------------------------ */
/* The stock helpers, inline or through Python when overridden.        */

static int
remove_key(Call *c, PyObject *key)
{
    int py = hook_is_python(c, HOOK_REMOVE_KEY);
    PyObject *d;
    if (py < 0)
        return -1;
    if (py)
        return truth_of_call(call_hook(c, HOOK_REMOVE_KEY, key, NULL)) < 0 ? -1 : 0;
    if ((d = attr(c, ATTR_CACHE_DICT)) == NULL)
        return -1;
    if (mapping_pop(c->ctx, d, key) < 0) {
        Py_DECREF(d);
        return -1;
    }
    Py_DECREF(d);
    if ((d = attr(c, ATTR_TTL_DICT)) == NULL)
        return -1;
    if (mapping_pop(c->ctx, d, key) < 0) {
        Py_DECREF(d);
        return -1;
    }
    Py_DECREF(d);
    return 0;
}

static int
is_key_expired(Call *c, PyObject *key)
{
    int py = hook_is_python(c, HOOK_IS_KEY_EXPIRED), r;
    PyObject *now, *ttl_dict, *expiry;
    if (py < 0)
        return -1;
    if (py)
        return truth_of_call(call_hook(c, HOOK_IS_KEY_EXPIRED, key, NULL));
    if ((now = clock_now(c)) == NULL)
        return -1;
    if ((ttl_dict = attr(c, ATTR_TTL_DICT)) == NULL) {
        Py_DECREF(now);
        return -1;
    }
    if (PyDict_CheckExact(ttl_dict)) {
        expiry = PyDict_GetItemWithError(ttl_dict, key);
        Py_XINCREF(expiry);
        if (expiry == NULL && !PyErr_Occurred()) {
            Py_DECREF(ttl_dict);
            Py_DECREF(now);
            return 0;
        }
    }
    else {
        expiry = PyObject_GetItem(ttl_dict, key);
        if (expiry == NULL && PyErr_ExceptionMatches(PyExc_KeyError)) {
            PyErr_Clear();
            Py_DECREF(ttl_dict);
            Py_DECREF(now);
            return 0;
        }
    }
    Py_DECREF(ttl_dict);
    if (expiry == NULL) {
        Py_DECREF(now);
        return -1;
    }
    r = compare(now, expiry, Py_GT);
    Py_DECREF(now);
    Py_DECREF(expiry);
    return r;
}

static int
evict_element_if_expired(Call *c, PyObject *key)
{
    int py = hook_is_python(c, HOOK_EVICT_ELEMENT_IF_EXPIRED), expired;
    if (py < 0)
        return -1;
    if (py)
        return truth_of_call(call_hook(c, HOOK_EVICT_ELEMENT_IF_EXPIRED, key, NULL));
    expired = is_key_expired(c, key);
    if (expired <= 0)
        return expired;
    return remove_key(c, key) < 0 ? -1 : 1;
}

/* json.loads(value), or value itself when that raises an Exception. */
static PyObject *
decode_like_get_cache(Call *c, PyObject *value)
{
    CacheCtx *ctx = c->ctx;
    PyObject *json_mod, *loads, *r;
    PyTypeObject *tp = Py_TYPE(value);
    int stock_loads, is_text;

    if (stock_modules(ctx) < 0)
        return NULL;
    stock_loads = ctx->json_stock;
    json_mod = NULL;
    if (!stock_loads) {
        json_mod = PyDict_GetItemWithError(ctx->module_globals, ctx->s_json);
        if (json_mod == NULL) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_NameError, "name '%U' is not defined", ctx->s_json);
            goto failed_lookup;
        }
    }
    if (stock_loads) {
        if (PyUnicode_CheckExact(value)) {
            if (!fl_json_could_parse(PyUnicode_KIND(value), PyUnicode_DATA(value),
                                     (size_t)PyUnicode_GET_LENGTH(value))) {
                Py_INCREF(value);
                return value;
            }
            is_text = 1;
        }
        else if (tp == &PyDict_Type || tp == &PyList_Type || tp == &PyTuple_Type ||
                 tp == &PyLong_Type || tp == &PyFloat_Type || tp == &PyBool_Type ||
                 value == Py_None || tp == &PySet_Type || tp == &PyFrozenSet_Type) {
            /* json.loads raises TypeError for these */
            Py_INCREF(value);
            return value;
        }
        else {
            /* json.loads' own isinstance checks (they honour __class__) */
            is_text = PyObject_IsInstance(value, (PyObject *)&PyUnicode_Type);
            if (is_text == 0)
                is_text = PyObject_IsInstance(value, (PyObject *)&PyBytes_Type);
            if (is_text == 0)
                is_text = PyObject_IsInstance(value, (PyObject *)&PyByteArray_Type);
            if (is_text < 0)
                goto failed_lookup;
            if (!is_text) {
                Py_INCREF(value);
                return value;
            }
        }
        r = PyObject_CallOneArg(ctx->json_loads, value);
    }
    else {
        loads = PyObject_GetAttr(json_mod, ctx->s_loads);
        if (loads == NULL)
            goto failed_lookup;
        r = PyObject_CallOneArg(loads, value);
        Py_DECREF(loads);
    }
    if (r != NULL)
        return r;
failed_lookup:
    if (PyErr_ExceptionMatches(PyExc_Exception)) {
        PyErr_Clear();
        Py_INCREF(value);
        return value;
    }
    return NULL;
}

/* InMemoryCache.get_cache(key) */
static PyObject *
get_inline(Call *c, PyObject *key)
{
    PyObject *d, *value, *r;
    int has, expired;
    if ((d = attr(c, ATTR_CACHE_DICT)) == NULL)
        return NULL;
    has = PyDict_CheckExact(d) ? PyDict_Contains(d, key) : PySequence_Contains(d, key);
    Py_DECREF(d);
    if (has <= 0) {
        if (has < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    expired = evict_element_if_expired(c, key);
    if (expired != 0) {
        if (expired < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    if ((d = attr(c, ATTR_CACHE_DICT)) == NULL)
        return NULL;
    if (PyDict_CheckExact(d)) {
        value = PyDict_GetItemWithError(d, key);
        Py_XINCREF(value);
        if (value == NULL && !PyErr_Occurred()) {
            Py_DECREF(d);
            Py_RETURN_NONE;
        }
    }
    else {
        value = PyObject_GetItem(d, key);
        if (value == NULL && PyErr_ExceptionMatches(PyExc_KeyError)) {
            PyErr_Clear();
            Py_DECREF(d);
            Py_RETURN_NONE;
        }
    }
    Py_DECREF(d);
    if (value == NULL)
        return NULL;
    r = decode_like_get_cache(c, value);
    Py_DECREF(value);
    return r;
}

static PyObject *
get_dispatch(Call *c, PyObject *key, PyObject *const *kwvalues, PyObject *kwnames)
{
    int py = hook_is_python(c, HOOK_GET_CACHE);
    if (py < 0)
        return NULL;
    if (!py)
        return get_inline(c, key);
    /* self.get_cache(key=key, **kwargs) */
    {
        Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0, i;
        PyObject *names, *r, *small[8], **argv = small;
        names = PyTuple_New(nkw + 1);
        if (names == NULL)
            return NULL;
        Py_INCREF(c->ctx->s_key);
        PyTuple_SET_ITEM(names, 0, c->ctx->s_key);
        for (i = 0; i < nkw; i++) {
            PyObject *n = PyTuple_GET_ITEM(kwnames, i);
            Py_INCREF(n);
            PyTuple_SET_ITEM(names, i + 1, n);
        }
        if (nkw + 2 > 8) {
            argv = PyMem_Malloc(sizeof(PyObject *) * (size_t)(nkw + 2));
            if (argv == NULL) {
                Py_DECREF(names);
                return PyErr_NoMemory();
            }
        }
        argv[0] = c->self;
        argv[1] = key;
        for (i = 0; i < nkw; i++)
            argv[i + 2] = kwvalues[i];
        r = PyObject_VectorcallMethod(c->ctx->hook_names[HOOK_GET_CACHE], argv, 1, names);
        if (argv != small)
            PyMem_Free(argv);
        Py_DECREF(names);
        return r;
    }
}

/* len(str(value)) < self.max_size_per_item * MAX_SIZE_PER_ITEM_IN_MEMORY_CACHE_IN_KB */
static int
small_primitive(Call *c, PyObject *value, PyObject *max_item)
{
    PyObject *kb, *len_obj, *limit;
    Py_ssize_t len;
    int r;
    int64_t small;
    if (PyUnicode_CheckExact(value)) {
        len = PyUnicode_GET_LENGTH(value);
    }
    else if (PyBool_Check(value)) {
        len = value == Py_True ? 4 : 5; /* "True", "False" */
    }
    else if (lx_small_int(value, &small)) {
        /* len(str(n)) of an exact int: its decimal digits and sign */
        uint64_t mag = small < 0 ? (uint64_t)0 - (uint64_t)small : (uint64_t)small;
        len = small < 0 ? 2 : 1;
        while (mag >= 10) {
            mag /= 10;
            len++;
        }
    }
    else {
        PyObject *s = PyObject_Str(value);
        if (s == NULL)
            return -1;
        len = PyUnicode_GET_LENGTH(s);
        Py_DECREF(s);
    }
#ifdef FL_DICT_VERSION
    if (c->ctx->kb_value != NULL && c->ctx->kb_ver == FL_DICT_VERSION(c->ctx->module_globals)) {
        kb = c->ctx->kb_value;
    }
    else {
        uint64_t ver = FL_DICT_VERSION(c->ctx->module_globals);
        kb = PyDict_GetItemWithError(c->ctx->module_globals, c->ctx->s_max_kb);
        if (ver == FL_DICT_VERSION(c->ctx->module_globals)) {
            c->ctx->kb_value = kb;
            c->ctx->kb_ver = ver;
        }
    }
#else
    kb = PyDict_GetItemWithError(c->ctx->module_globals, c->ctx->s_max_kb);
#endif
    if (kb == NULL) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_NameError, "name '%U' is not defined", c->ctx->s_max_kb);
        return -1;
    }
    if (PyLong_CheckExact(max_item) && PyLong_CheckExact(kb)) {
        int o1 = 0, o2 = 0;
        long long a = PyLong_AsLongLongAndOverflow(max_item, &o1);
        long long b = PyLong_AsLongLongAndOverflow(kb, &o2);
        long long prod;
        if (!o1 && !o2 && !__builtin_mul_overflow(a, b, &prod))
            return (long long)len < prod;
        if (PyErr_Occurred())
            return -1;
    }
    limit = PyNumber_Multiply(max_item, kb);
    if (limit == NULL)
        return -1;
    len_obj = PyLong_FromSsize_t(len);
    if (len_obj == NULL) {
        Py_DECREF(limit);
        return -1;
    }
    r = compare(len_obj, limit, Py_LT);
    Py_DECREF(len_obj);
    Py_DECREF(limit);
    return r;
}

/* value.__sizeof__() / 1024 <= self.max_size_per_item */
static int
sizeof_within(Call *c, PyObject *value, PyObject *max_item)
{
    PyObject *size, *kib;
    int64_t bytes, limit;
    int r;
#if PY_VERSION_HEX >= 0x03090000 && PY_VERSION_HEX < 0x030D0000
    /* dict.__sizeof__ is dict_sizeof: PyLong_FromSsize_t(_PyDict_SizeOf(d))
     * (builtin types cannot be changed, so an exact dict always runs it) */
    if (Py_TYPE(value) == &PyDict_Type && lx_small_int(max_item, &limit) && limit > -((int64_t)1 << 53) &&
        limit < ((int64_t)1 << 53)) {
        Py_ssize_t n = _PyDict_SizeOf((PyDictObject *)value);
        if (n >= 0 && (int64_t)n < ((int64_t)1 << 53))
            return (double)n / 1024.0 <= (double)limit;
    }
#endif
    size = Py_TYPE(value) == &PyDict_Type ? PyObject_CallOneArg(c->ctx->dict_sizeof, value)
                                          : PyObject_CallMethodNoArgs(value, c->ctx->s_sizeof);
    if (size == NULL)
        return -1;
    /* size / 1024 <= max: exact in doubles below 2**53 (1024 is a power of two) */
    if (lx_small_int(size, &bytes) && lx_small_int(max_item, &limit) && bytes >= 0 &&
        bytes < ((int64_t)1 << 53) && limit > -((int64_t)1 << 53) && limit < ((int64_t)1 << 53)) {
        Py_DECREF(size);
        return (double)bytes / 1024.0 <= (double)limit;
    }
    kib = PyNumber_TrueDivide(size, c->ctx->n1024);
    Py_DECREF(size);
    if (kib == NULL)
        return -1;
    r = compare(kib, max_item, Py_LE);
    Py_DECREF(kib);
    return r;
}

static int
check_value_size(Call *c, PyObject *value)
{
    int py = hook_is_python(c, HOOK_CHECK_VALUE_SIZE), r;
    PyTypeObject *tp = Py_TYPE(value);
    PyObject *max_item;
    if (py < 0)
        return -1;
    if (py)
        return truth_of_call(call_hook(c, HOOK_CHECK_VALUE_SIZE, value, NULL));
    if (!(tp == &PyUnicode_Type || tp == &PyLong_Type || tp == &PyFloat_Type ||
          tp == &PyBool_Type || tp == &PyDict_Type || tp == &PyList_Type || tp == &PyTuple_Type ||
          tp == &PySet_Type)) {
        /* the stock function, for every other type (exact by construction) */
        PyObject *argv[2] = {c->self, value};
        return truth_of_call(PyObject_Vectorcall(c->ctx->hook_originals[HOOK_CHECK_VALUE_SIZE],
                                                 argv, 2, NULL));
    }
    if ((max_item = attr(c, ATTR_MAX_ITEM)) == NULL)
        goto except;
    r = 0;
    if (tp == &PyUnicode_Type || tp == &PyLong_Type || tp == &PyFloat_Type || tp == &PyBool_Type)
        r = small_primitive(c, value, max_item);
    if (r == 0)
        r = sizeof_within(c, value, max_item);
    Py_DECREF(max_item);
    if (r >= 0)
        return r;
except:
    /* except Exception: return False */
    if (PyErr_ExceptionMatches(PyExc_Exception)) {
        PyErr_Clear();
        return 0;
    }
    return -1;
}

static int
allow_ttl_override(Call *c, PyObject *key)
{
    int py = hook_is_python(c, HOOK_ALLOW_TTL_OVERRIDE), r;
    PyObject *ttl_dict, *ttl_time, *now;
    if (py < 0)
        return -1;
    if (py)
        return truth_of_call(call_hook(c, HOOK_ALLOW_TTL_OVERRIDE, key, NULL));
    if ((ttl_dict = attr(c, ATTR_TTL_DICT)) == NULL)
        return -1;
    ttl_time = mapping_get(c->ctx, ttl_dict, key);
    Py_DECREF(ttl_dict);
    if (ttl_time == NULL)
        return -1;
    if (ttl_time == Py_None) {
        Py_DECREF(ttl_time);
        return 1;
    }
    if ((now = clock_now(c)) == NULL) {
        Py_DECREF(ttl_time);
        return -1;
    }
    r = compare(ttl_time, now, Py_LT);
    Py_DECREF(ttl_time);
    Py_DECREF(now);
    return r;
}

static PyObject *
heap_call(PyObject *fn, PyObject *heap, PyObject *item)
{
    PyObject *argv[2] = {heap, item};
    return PyObject_Vectorcall(fn, argv, item ? 2 : 1, NULL);
}

/* heapq.<fn>(self.expiration_heap[, item]), result discarded. */
static int
heap_op(Call *c, PyObject *fn, PyObject *item)
{
    PyObject *heap = attr(c, ATTR_HEAP), *r;
    if (heap == NULL)
        return -1;
    r = heap_call(fn, heap, item);
    Py_DECREF(heap);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Step 1 of evict_cache: drop outdated and expired heap roots. */
static int
evict_expired_roots(Call *c, PyObject *now)
{
    for (;;) {
        PyObject *heap = attr(c, ATTR_HEAP), *head, *expiry, *key, *ttl_dict, *current;
        int empty, outdated, expired;
        if (heap == NULL)
            return -1;
        empty = PyList_CheckExact(heap) ? PyList_GET_SIZE(heap) == 0 : !PyObject_IsTrue(heap);
        if (empty) {
            Py_DECREF(heap);
            return 0;
        }
        if (PyList_CheckExact(heap)) {
            head = PyList_GET_ITEM(heap, 0);
            Py_INCREF(head);
        }
        else {
            head = PySequence_GetItem(heap, 0);
        }
        Py_DECREF(heap);
        if (head == NULL)
            return -1;
        if (unpack2(head, &expiry, &key) < 0) {
            Py_DECREF(head);
            return -1;
        }
        Py_DECREF(head);
        if ((ttl_dict = attr(c, ATTR_TTL_DICT)) == NULL)
            goto fail;
        current = mapping_get(c->ctx, ttl_dict, key);
        Py_DECREF(ttl_dict);
        if (current == NULL)
            goto fail;
        outdated = compare(expiry, current, Py_NE);
        Py_DECREF(current);
        if (outdated < 0)
            goto fail;
        if (outdated) {
            if (heap_op(c, c->ctx->heappop, NULL) < 0)
                goto fail;
        }
        else {
            expired = compare(expiry, now, Py_LE);
            if (expired < 0)
                goto fail;
            if (!expired) {
                Py_DECREF(expiry);
                Py_DECREF(key);
                return 0;
            }
            if (heap_op(c, c->ctx->heappop, NULL) < 0 || remove_key(c, key) < 0)
                goto fail;
        }
        Py_DECREF(expiry);
        Py_DECREF(key);
        continue;
    fail:
        Py_DECREF(expiry);
        Py_DECREF(key);
        return -1;
    }
}

/* `len(x) <op> y` */
static int
len_compare(PyObject *x, PyObject *y, int op)
{
    Py_ssize_t n = sized_len(x);
    PyObject *len_obj;
    int r;
    if (n < 0)
        return -1;
    if (PyLong_CheckExact(y)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(y, &overflow);
        if (!overflow && !(v == -1 && PyErr_Occurred())) {
            switch (op) {
            case Py_GT: return (long long)n > v;
            case Py_GE: return (long long)n >= v;
            default: break;
            }
        }
        if (PyErr_Occurred())
            return -1;
    }
    if ((len_obj = PyLong_FromSsize_t(n)) == NULL)
        return -1;
    r = compare(len_obj, y, op);
    Py_DECREF(len_obj);
    return r;
}

/* `if len(self.expiration_heap) > 2 * self.max_size_in_memory:` rebuild. */
static int
compact_heap(Call *c)
{
    PyObject *heap, *max_size, *twice, *kept = NULL, *it = NULL, *entry;
    int over;
    if ((heap = attr(c, ATTR_HEAP)) == NULL)
        return -1;
    if ((max_size = attr(c, ATTR_MAX_SIZE)) == NULL) {
        Py_DECREF(heap);
        return -1;
    }
    {
        int64_t m, doubled;
        if (PyList_CheckExact(heap) && lx_small_int(max_size, &m) && !__builtin_mul_overflow(m, (int64_t)2, &doubled)) {
            Py_DECREF(max_size);
            over = (int64_t)PyList_GET_SIZE(heap) > doubled;
            twice = NULL;
        }
        else {
            twice = PyNumber_Multiply(c->ctx->two, max_size);
            Py_DECREF(max_size);
            if (twice == NULL) {
                Py_DECREF(heap);
                return -1;
            }
            over = len_compare(heap, twice, Py_GT);
            Py_DECREF(twice);
        }
    }
    if (over <= 0) {
        Py_DECREF(heap);
        return over;
    }
    /* [entry for entry in self.expiration_heap if self.ttl_dict.get(entry[1]) == entry[0]] */
    kept = PyList_New(0);
    it = PyObject_GetIter(heap);
    Py_DECREF(heap);
    if (kept == NULL || it == NULL)
        goto fail;
    while ((entry = PyIter_Next(it)) != NULL) {
        PyObject *key = PySequence_GetItem(entry, 1), *ttl_dict = NULL, *current = NULL, *expiry = NULL;
        int keep = -1;
        if (key != NULL && (ttl_dict = attr(c, ATTR_TTL_DICT)) != NULL &&
            (current = mapping_get(c->ctx, ttl_dict, key)) != NULL &&
            (expiry = PySequence_GetItem(entry, 0)) != NULL)
            keep = compare(current, expiry, Py_EQ);
        Py_XDECREF(key);
        Py_XDECREF(ttl_dict);
        Py_XDECREF(current);
        Py_XDECREF(expiry);
        if (keep > 0 && PyList_Append(kept, entry) < 0)
            keep = -1;
        Py_DECREF(entry);
        if (keep < 0)
            goto fail;
    }
    if (PyErr_Occurred())
        goto fail;
    Py_CLEAR(it);
    if (PyObject_SetAttr(c->self, c->ctx->attr_names[ATTR_HEAP], kept) < 0)
        goto fail;
    Py_CLEAR(kept);
    return heap_op(c, c->ctx->heapify, NULL);
fail:
    Py_XDECREF(kept);
    Py_XDECREF(it);
    return -1;
}

/* Step 2: evict earliest expiries while the cache is full. */
static int
evict_while_full(Call *c)
{
    for (;;) {
        PyObject *heap = attr(c, ATTR_HEAP), *d, *max_size, *popped, *expiry, *key, *ttl_dict, *current;
        int empty, full, same;
        if (heap == NULL)
            return -1;
        empty = PyList_CheckExact(heap) ? PyList_GET_SIZE(heap) == 0 : !PyObject_IsTrue(heap);
        if (empty) {
            Py_DECREF(heap);
            return 0;
        }
        d = attr(c, ATTR_CACHE_DICT);
        max_size = d ? attr(c, ATTR_MAX_SIZE) : NULL;
        full = max_size ? len_compare(d, max_size, Py_GE) : -1;
        Py_XDECREF(d);
        Py_XDECREF(max_size);
        if (full <= 0) {
            Py_DECREF(heap);
            return full;
        }
        popped = heap_call(c->ctx->heappop, heap, NULL);
        Py_DECREF(heap);
        if (popped == NULL)
            return -1;
        if (unpack2(popped, &expiry, &key) < 0) {
            Py_DECREF(popped);
            return -1;
        }
        Py_DECREF(popped);
        same = -1;
        if ((ttl_dict = attr(c, ATTR_TTL_DICT)) != NULL) {
            current = mapping_get(c->ctx, ttl_dict, key);
            Py_DECREF(ttl_dict);
            if (current != NULL) {
                same = compare(current, expiry, Py_EQ);
                Py_DECREF(current);
            }
        }
        if (same > 0 && remove_key(c, key) < 0)
            same = -1;
        Py_DECREF(expiry);
        Py_DECREF(key);
        if (same < 0)
            return -1;
    }
}

/* With an empty heap, drop the oldest untracked keys down to max - 1. */
static int
evict_untracked(Call *c)
{
    PyObject *heap = attr(c, ATTR_HEAP), *keys, *max_size, *overflow, *tmp, *count, *slice, *head,
             *it, *key;
    int empty, zero_bigger;
    Py_ssize_t n;
    if (heap == NULL)
        return -1;
    empty = PyList_CheckExact(heap) ? PyList_GET_SIZE(heap) == 0 : !PyObject_IsTrue(heap);
    Py_DECREF(heap);
    if (!empty)
        return 0;
    {
        int py = hook_is_python(c, HOOK_CACHE_KEYS);
        if (py < 0)
            return -1;
        if (py) {
            keys = call_hook(c, HOOK_CACHE_KEYS, NULL, NULL);
        }
        else {
            PyObject *d = attr(c, ATTR_CACHE_DICT);
            keys = d ? PySequence_Tuple(d) : NULL;
            Py_XDECREF(d);
        }
    }
    if (keys == NULL)
        return -1;
    n = PyObject_Size(keys);
    max_size = n >= 0 ? attr(c, ATTR_MAX_SIZE) : NULL;
    if (max_size == NULL) {
        Py_DECREF(keys);
        return -1;
    }
    tmp = PyLong_FromSsize_t(n);
    overflow = tmp ? PyNumber_Subtract(tmp, max_size) : NULL;
    Py_XDECREF(tmp);
    Py_DECREF(max_size);
    tmp = overflow;
    overflow = tmp ? PyNumber_Add(tmp, c->ctx->one) : NULL;
    Py_XDECREF(tmp);
    if (overflow == NULL) {
        Py_DECREF(keys);
        return -1;
    }
    /* max(overflow, 0): the first argument unless 0 > overflow */
    zero_bigger = compare(c->ctx->zero, overflow, Py_GT);
    if (zero_bigger < 0) {
        Py_DECREF(overflow);
        Py_DECREF(keys);
        return -1;
    }
    count = zero_bigger ? c->ctx->zero : overflow;
    Py_INCREF(count);
    Py_DECREF(overflow);
    slice = PySlice_New(NULL, count, NULL);
    Py_DECREF(count);
    head = slice ? PyObject_GetItem(keys, slice) : NULL;
    Py_XDECREF(slice);
    Py_DECREF(keys);
    if (head == NULL)
        return -1;
    it = PyObject_GetIter(head);
    Py_DECREF(head);
    if (it == NULL)
        return -1;
    while ((key = PyIter_Next(it)) != NULL) {
        int r = remove_key(c, key);
        Py_DECREF(key);
        if (r < 0) {
            Py_DECREF(it);
            return -1;
        }
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : 0;
}

static int
evict_inline(Call *c)
{
    PyObject *now = clock_now(c);
    int r;
    if (now == NULL)
        return -1;
    r = evict_expired_roots(c, now);
    Py_DECREF(now);
    if (r < 0 || compact_heap(c) < 0 || evict_while_full(c) < 0 || evict_untracked(c) < 0)
        return -1;
    return 0;
}

static int
evict_dispatch(Call *c)
{
    int py = hook_is_python(c, HOOK_EVICT_CACHE);
    if (py < 0)
        return -1;
    if (py)
        return truth_of_call(call_hook(c, HOOK_EVICT_CACHE, NULL, NULL)) < 0 ? -1 : 0;
    return evict_inline(c);
}

/* The body of set_cache's `with self._write_lock:` block. */
static int
set_body(Call *c, PyObject *key, PyObject *value, PyObject *ttl)
{
    PyObject *d, *now, *delta, *expiry, *stored, *entry;
    int ok;
    if (evict_dispatch(c) < 0)
        return -1;
    ok = check_value_size(c, value);
    if (ok <= 0)
        return ok;
    if ((d = attr(c, ATTR_CACHE_DICT)) == NULL)
        return -1;
    ok = PyDict_CheckExact(d) ? PyDict_SetItem(d, key, value) : PyObject_SetItem(d, key, value);
    Py_DECREF(d);
    if (ok < 0)
        return -1;
    ok = allow_ttl_override(c, key);
    if (ok <= 0)
        return ok;
    if ((now = clock_now(c)) == NULL)
        return -1;
    delta = ttl != NULL && ttl != Py_None ? PyNumber_Float(ttl) : attr(c, ATTR_DEFAULT_TTL);
    if (delta == NULL) {
        Py_DECREF(now);
        return -1;
    }
    if (PyFloat_CheckExact(now) && PyFloat_CheckExact(delta))
        expiry = PyFloat_FromDouble(PyFloat_AS_DOUBLE(now) + PyFloat_AS_DOUBLE(delta));
    else
        expiry = PyNumber_Add(now, delta);
    Py_DECREF(now);
    Py_DECREF(delta);
    if (expiry == NULL)
        return -1;
    if ((d = attr(c, ATTR_TTL_DICT)) == NULL) {
        Py_DECREF(expiry);
        return -1;
    }
    ok = PyDict_CheckExact(d) ? PyDict_SetItem(d, key, expiry) : PyObject_SetItem(d, key, expiry);
    Py_DECREF(expiry);
    if (ok < 0) {
        Py_DECREF(d);
        return -1;
    }
    /* heapq.heappush(self.expiration_heap, (self.ttl_dict[key], key)) */
    {
        PyObject *heap = attr(c, ATTR_HEAP);
        if (heap == NULL) {
            Py_DECREF(d);
            return -1;
        }
        stored = PyObject_GetItem(d, key);
        Py_DECREF(d);
        entry = stored ? PyTuple_Pack(2, stored, key) : NULL;
        Py_XDECREF(stored);
        if (entry == NULL) {
            Py_DECREF(heap);
            return -1;
        }
        stored = heap_call(c->ctx->heappush, heap, entry);
        Py_DECREF(heap);
        Py_DECREF(entry);
        if (stored == NULL)
            return -1;
        Py_DECREF(stored);
    }
    return 0;
}

/* self._write_lock / self._increment_lock from the instance dict, or NULL
 * without an error when it is not there (the caller then runs the stock
 * function, which fails, or not, exactly where the stock code does). */
static PyObject *
lock_attr(Call *c, int a)
{
    PyObject *v = instance_entry(c, a);
    Py_XINCREF(v);
    return v;
}

/* Whether obj is one of the lock types whose `with` we run inline. */
static int
is_plain_lock(CacheCtx *ctx, PyObject *obj)
{
    Py_ssize_t i;
    for (i = 0; i < 2; i++)
        if ((PyObject *)Py_TYPE(obj) == PyTuple_GET_ITEM(ctx->lock_types, i))
            return 1;
    return 0;
}

/* The lock attribute `a`, if it is a plain lock whose `with` we run inline:
 * 0 with a new reference in *lock; 1 when the original must run (no such
 * attribute, or another lock type); -1 on error. */
static int
plain_lock(Call *c, int a, PyObject **lock)
{
    if ((*lock = lock_attr(c, a)) == NULL)
        return PyErr_Occurred() ? -1 : 1;
    if (!is_plain_lock(c->ctx, *lock)) {
        Py_CLEAR(*lock);
        return 1;
    }
    return 0;
}

/* 0 done (result in *out), 1 use the original, -1 error */
static int
set_inline(Call *c, PyObject *key, PyObject *value, PyObject *ttl, PyObject **out)
{
    PyObject *lock, *max_size, *result;
    int zero, body, r;
    if ((r = plain_lock(c, ATTR_WRITE_LOCK, &lock)) != 0)
        return r;
    if ((max_size = attr(c, ATTR_MAX_SIZE)) == NULL) {
        Py_DECREF(lock);
        return -1;
    }
    {
        int64_t m;
        zero = lx_small_int(max_size, &m) ? m == 0 : compare(max_size, c->ctx->zero, Py_EQ);
    }
    Py_DECREF(max_size);
    if (zero != 0) {
        Py_DECREF(lock);
        if (zero < 0)
            return -1;
        Py_INCREF(Py_None);
        *out = Py_None;
        return 0;
    }
    if (lock_enter(c, lock) < 0) {
        Py_DECREF(lock);
        return -1;
    }
    body = set_body(c, key, value, ttl);
    if (body >= 0)
        Py_INCREF(Py_None);
    result = lock_exit(c, lock, body >= 0 ? Py_None : NULL);
    Py_DECREF(lock);
    if (result == NULL)
        return -1;
    *out = result;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Argument binding: positional-or-keyword names, then **kwargs.        */

typedef struct {
    PyObject *values[2];
    PyObject *ttl;            /* kwargs["ttl"] if given */
    Py_ssize_t extra_start;   /* index in kwnames of the first **kwargs name */
    PyObject *extra_names;    /* new tuple of the **kwargs names, or NULL */
    PyObject *const *extra_values;
} Bound;

/* 0 bound, 1 unusual (use the original: it raises the exact error). */
/* The interned parameter names of a P_* list (same order), or NULL. */
static void
param_objects(CacheCtx *ctx, const char *const *params, int nparams, PyObject **out)
{
    for (int p = 0; p < nparams; p++) {
        const char *n = params[p];
        out[p] = strcmp(n, "key") == 0 ? ctx->s_key
                 : strcmp(n, "value") == 0 ? ctx->s_value
                 : strcmp(n, "keys") == 0 ? ctx->s_keys : NULL;
    }
}

/* Keyword names are almost always the interned constants of the caller's
 * code: match those by identity before comparing text. */
static int
bind_args_fast(CacheCtx *ctx, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
               int nparams, const char *const *params, int var_kw, Bound *b)
{
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0, i;
    PyObject *pobj[2];
    int p;
    if (nargs > nparams)
        return 1;
    param_objects(ctx, params, nparams, pobj);
    b->values[0] = b->values[1] = NULL;
    b->ttl = NULL;
    b->extra_names = NULL;
    b->extra_values = NULL;
    for (p = 0; p < nargs; p++)
        b->values[p] = args[p];
    for (i = 0; i < nkw; i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        int matched = 0;
        for (p = 0; p < nparams; p++) {
            if (name == pobj[p]) {
                if (b->values[p] != NULL)
                    return 1;
                b->values[p] = args[nargs + i];
                matched = 1;
                break;
            }
        }
        if (matched)
            continue;
        if (name == ctx->s_ttl && var_kw) {
            b->ttl = args[nargs + i];
            continue;
        }
        return -1; /* not an interned name we know: compare text */
    }
    for (p = 0; p < nparams; p++)
        if (b->values[p] == NULL)
            return 1;
    return 0;
}

static int bind_args_text(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int nparams,
                          const char *const *params, int var_kw, Bound *b);

static int
bind_args(CacheCtx *ctx, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int nparams,
          const char *const *params, int var_kw, Bound *b)
{
    int r = bind_args_fast(ctx, args, nargs, kwnames, nparams, params, var_kw, b);
    if (r >= 0)
        return r;
    return bind_args_text(args, nargs, kwnames, nparams, params, var_kw, b);
}

static int
bind_args_text(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int nparams,
               const char *const *params, int var_kw, Bound *b)
{
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0, i;
    int p;
    b->values[0] = b->values[1] = NULL;
    b->ttl = NULL;
    b->extra_names = NULL;
    b->extra_values = NULL;
    if (nargs > nparams)
        return 1;
    for (p = 0; p < nargs; p++)
        b->values[p] = args[p];
    for (i = 0; i < nkw; i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        int matched = 0;
        if (PyUnicode_CompareWithASCIIString(name, "self") == 0)
            return 1; /* "multiple values for argument 'self'": the original says so */
        for (p = 0; p < nparams; p++) {
            if (PyUnicode_CompareWithASCIIString(name, params[p]) == 0) {
                if (b->values[p] != NULL)
                    return 1;
                b->values[p] = args[nargs + i];
                matched = 1;
                break;
            }
        }
        if (matched)
            continue;
        if (!var_kw)
            return 1;
        if (PyUnicode_CompareWithASCIIString(name, "ttl") == 0)
            b->ttl = args[nargs + i];
    }
    for (p = 0; p < nparams; p++)
        if (b->values[p] == NULL)
            return 1;
    return 0;
}

/* The **kwargs part as (names, values) for forwarding. */
static int
collect_extra(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int nparams,
              const char *const *params, PyObject **names, PyObject ***values)
{
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0, i, n = 0;
    PyObject *list = PyList_New(0);
    PyObject **vals;
    if (list == NULL)
        return -1;
    vals = PyMem_Malloc(sizeof(PyObject *) * (size_t)(nkw + 1));
    if (vals == NULL) {
        Py_DECREF(list);
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < nkw; i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        int p, is_param = 0;
        for (p = 0; p < nparams; p++)
            if (PyUnicode_CompareWithASCIIString(name, params[p]) == 0)
                is_param = 1;
        if (is_param)
            continue;
        if (PyList_Append(list, name) < 0) {
            Py_DECREF(list);
            PyMem_Free(vals);
            return -1;
        }
        vals[n++] = args[nargs + i];
    }
    *names = PyList_AsTuple(list);
    Py_DECREF(list);
    if (*names == NULL) {
        PyMem_Free(vals);
        return -1;
    }
    *values = vals;
    return 0;
}

/* self.set_cache(key, value, **kwargs) through Python */
static PyObject *
set_through_python(Call *c, PyObject *key, PyObject *value, PyObject *extra_names,
                   PyObject **extra_values)
{
    Py_ssize_t n = PyTuple_GET_SIZE(extra_names), i;
    PyObject **argv = PyMem_Malloc(sizeof(PyObject *) * (size_t)(n + 3)), *r;
    if (argv == NULL)
        return PyErr_NoMemory();
    argv[0] = c->self;
    argv[1] = key;
    argv[2] = value;
    for (i = 0; i < n; i++)
        argv[3 + i] = extra_values[i];
    r = PyObject_VectorcallMethod(c->ctx->hook_names[HOOK_SET_CACHE], argv, 3,
                                  n ? extra_names : NULL);
    PyMem_Free(argv);
    return r;
}

static const char *const P_KEY[] = {"key"};
static const char *const P_KEY_VALUE[] = {"key", "value"};
static const char *const P_KEYS[] = {"keys"};

/* increment_cache body inside `with self._increment_lock:` */
static PyObject *
increment_body(Call *c, PyObject *key, PyObject *amount, PyObject *const *args, Py_ssize_t nargs,
               PyObject *kwnames, PyObject *ttl)
{
    PyObject *current, *start, *total, *r;
    int truthy, py_set;
    current = get_dispatch(c, key, NULL, NULL);
    if (current == NULL)
        return NULL;
    truthy = PyObject_IsTrue(current);
    if (truthy < 0) {
        Py_DECREF(current);
        return NULL;
    }
    start = truthy ? current : c->ctx->zero;
    Py_INCREF(start);
    Py_DECREF(current);
    total = PyNumber_Add(start, amount);
    Py_DECREF(start);
    if (total == NULL)
        return NULL;
    py_set = hook_is_python(c, HOOK_SET_CACHE);
    if (py_set < 0)
        goto fail;
    if (py_set) {
        PyObject *names, **values;
        if (collect_extra(args, nargs, kwnames, 2, P_KEY_VALUE, &names, &values) < 0)
            goto fail;
        r = set_through_python(c, key, total, names, values);
        Py_DECREF(names);
        PyMem_Free(values);
    }
    else {
        int how = set_inline(c, key, total, ttl, &r);
        if (how == 1) {
            PyObject *names, **values, *argv[3];
            if (collect_extra(args, nargs, kwnames, 2, P_KEY_VALUE, &names, &values) < 0)
                goto fail;
            /* the stock set_cache, called as a function on self */
            {
                Py_ssize_t n = PyTuple_GET_SIZE(names), i;
                PyObject **full = PyMem_Malloc(sizeof(PyObject *) * (size_t)(n + 3));
                if (full == NULL) {
                    Py_DECREF(names);
                    PyMem_Free(values);
                    PyErr_NoMemory();
                    goto fail;
                }
                full[0] = c->self;
                full[1] = key;
                full[2] = total;
                for (i = 0; i < n; i++)
                    full[3 + i] = values[i];
                r = PyObject_Vectorcall(c->ctx->hook_originals[HOOK_SET_CACHE], full, 3,
                                        n ? names : NULL);
                PyMem_Free(full);
            }
            (void)argv;
            Py_DECREF(names);
            PyMem_Free(values);
        }
        else if (how < 0) {
            r = NULL;
        }
    }
    if (r == NULL)
        goto fail;
    Py_DECREF(r);
    return total;
fail:
    Py_DECREF(total);
    return NULL;
}

/* A key no dict can hold (list, dict, a class with __hash__ = None): the
   stock method raises TypeError from its own frame (or, for a removal from
   empty dicts, returns None); nothing has happened yet, so the whole call
   runs the stock function and the traceback is LiteLLM's. */
static int
key_unhashable(PyObject *key)
{
    return Py_TYPE(key)->tp_hash == PyObject_HashNotImplemented;
}

static PyObject *
op_increment(Call *c, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int *generic)
{
    Bound b;
    PyObject *lock, *result;
    int r;
    if (bind_args(c->ctx, args, nargs, kwnames, 2, P_KEY_VALUE, 1, &b) || key_unhashable(b.values[0])) {
        *generic = 1;
        return NULL;
    }
    if ((r = plain_lock(c, ATTR_INCREMENT_LOCK, &lock)) != 0) {
        if (r > 0)
            *generic = 1;
        return NULL;
    }
    if (lock_enter(c, lock) < 0) {
        Py_DECREF(lock);
        return NULL;
    }
    result = increment_body(c, b.values[0], b.values[1], args, nargs, kwnames, b.ttl);
    result = lock_exit(c, lock, result);
    Py_DECREF(lock);
    return result;
}

/* A `key=` among batch_get_cache's extra keywords: the stock loop's
   `self.get_cache(key=k, **kwargs)` raises TypeError (before the call, with
   the interpreter's message), so such calls run the stock function. */
static int
extra_kwarg_named_key(PyObject *kwnames)
{
    Py_ssize_t i, n = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (i = 0; i < n; i++)
        if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, i), "key") == 0)
            return 1;
    return 0;
}

/* A list or tuple of keys holding one no dict can hold: the stock loop
   reads the keys before it (their expiry checks included) and raises from
   get_cache's frame, so the whole call runs the stock function (nothing
   has happened yet here).  Other iterables are read lazily, as stock
   reads them. */
static int
keys_unhashable(PyObject *keys)
{
    Py_ssize_t i, n;
    PyObject **items;
    if (!PyList_CheckExact(keys) && !PyTuple_CheckExact(keys))
        return 0;
    n = PySequence_Fast_GET_SIZE(keys);
    items = PySequence_Fast_ITEMS(keys);
    for (i = 0; i < n; i++)
        if (key_unhashable(items[i]))
            return 1;
    return 0;
}

static PyObject *
op_batch_get(Call *c, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int *generic)
{
    Bound b;
    PyObject *out, *it, *key;
    PyObject *names = NULL, **values = NULL;
    if (bind_args(c->ctx, args, nargs, kwnames, 1, P_KEYS, 1, &b) || extra_kwarg_named_key(kwnames) ||
        keys_unhashable(b.values[0])) {
        *generic = 1;
        return NULL;
    }
    if (kwnames != NULL && collect_extra(args, nargs, kwnames, 1, P_KEYS, &names, &values) < 0)
        return NULL;
    out = PyList_New(0);
    it = out ? PyObject_GetIter(b.values[0]) : NULL;
    if (it == NULL)
        goto fail;
    while ((key = PyIter_Next(it)) != NULL) {
        PyObject *v = get_dispatch(c, key, values, names && PyTuple_GET_SIZE(names) ? names : NULL);
        Py_DECREF(key);
        if (v == NULL || PyList_Append(out, v) < 0) {
            Py_XDECREF(v);
            goto fail;
        }
        Py_DECREF(v);
    }
    if (PyErr_Occurred())
        goto fail;
    Py_DECREF(it);
    Py_XDECREF(names);
    PyMem_Free(values);
    return out;
fail:
    Py_XDECREF(it);
    Py_XDECREF(out);
    Py_XDECREF(names);
    PyMem_Free(values);
    return NULL;
}

static PyObject *
op_flush(Call *c, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int *generic)
{
    PyObject *lock, *result = Py_None;
    int which, r;
    if (nargs != 0 || kwnames != NULL) {
        *generic = 1;
        return NULL;
    }
    if ((r = plain_lock(c, ATTR_WRITE_LOCK, &lock)) != 0) {
        if (r > 0)
            *generic = 1;
        return NULL;
    }
    if (lock_enter(c, lock) < 0) {
        Py_DECREF(lock);
        return NULL;
    }
    Py_INCREF(result);
    for (which = 0; which < 3 && result != NULL; which++) {
        static const int ATTRS[3] = {ATTR_CACHE_DICT, ATTR_TTL_DICT, ATTR_HEAP};
        PyObject *o = attr(c, ATTRS[which]), *r;
        if (o == NULL) {
            Py_CLEAR(result);
            break;
        }
        if (PyDict_CheckExact(o)) {
            PyDict_Clear(o);
        }
        else {
            r = PyObject_CallMethodNoArgs(o, c->ctx->s_clear);
            if (r == NULL)
                Py_CLEAR(result);
            Py_XDECREF(r);
        }
        Py_DECREF(o);
    }
    result = lock_exit(c, lock, result);
    Py_DECREF(lock);
    return result;
}

static PyObject *
fm_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    FastMethod *fm = (FastMethod *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *result = NULL;
    Call c;
    int generic = 0, state;
    Bound b;

    if (nargs < 1)
        return PyObject_Vectorcall(fm->original, args, nargsf, kwnames);
    state = call_begin(&c, fm->ctx, args[0]);
    if (state != 0) {
        call_end(&c);
        if (state < 0)
            return NULL;
        return PyObject_Vectorcall(fm->original, args, nargsf, kwnames);
    }
    switch (fm->op) {
    case OP_GET:
        if (bind_args(fm->ctx, args + 1, nargs - 1, kwnames, 1, P_KEY, 1, &b) || key_unhashable(b.values[0]))
            generic = 1;
        else
            result = get_inline(&c, b.values[0]);
        break;
    case OP_SET:
        if (bind_args(fm->ctx, args + 1, nargs - 1, kwnames, 2, P_KEY_VALUE, 1, &b) ||
            key_unhashable(b.values[0])) {
            generic = 1;
        }
        else {
            int how = set_inline(&c, b.values[0], b.values[1], b.ttl, &result);
            if (how == 1)
                generic = 1;
            else if (how < 0)
                result = NULL;
        }
        break;
    case OP_BATCH_GET:
        result = op_batch_get(&c, args + 1, nargs - 1, kwnames, &generic);
        break;
    case OP_INCREMENT:
        result = op_increment(&c, args + 1, nargs - 1, kwnames, &generic);
        break;
    case OP_DELETE:
        if (bind_args(fm->ctx, args + 1, nargs - 1, kwnames, 1, P_KEY, 0, &b) || key_unhashable(b.values[0])) {
            generic = 1;
        }
        else if (remove_key(&c, b.values[0]) == 0) {
            result = Py_None;
            Py_INCREF(result);
        }
        break;
    case OP_FLUSH:
        result = op_flush(&c, args + 1, nargs - 1, kwnames, &generic);
        break;
    case OP_EVICT:
        if (nargs != 1 || kwnames != NULL) {
            generic = 1;
        }
        else if (evict_inline(&c) == 0) {
            result = Py_None;
            Py_INCREF(result);
        }
        break;
    default:
        PyErr_SetString(PyExc_SystemError, "fast_method: unknown operation");
    }
    call_end(&c);
    if (generic)
        return PyObject_Vectorcall(fm->original, args, nargsf, kwnames);
    return result;
}

/* ------------------------------------------------------------------ */
/* _cache_build(cls, module_globals, originals, json_module, heapq_module, lock_types)
 *   -> {method name: fast_method}                                      */

static PyObject *
intern(const char *s)
{
    return PyUnicode_InternFromString(s);
}

static PyObject *
cache_build(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    fl_module_state *st = fl_get_state(module);
    PyTypeObject *ctx_type = (PyTypeObject *)st->slots[FL_SLOT_CACHE];
    PyTypeObject *fm_type = (PyTypeObject *)st->slots[FL_SLOT_CACHE + 1];
    PyObject *module_globals, *originals, *json_module, *heapq_module, *lock_types, *result = NULL;
    CacheCtx *ctx;
    int i;

    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError,
                        "_cache_build(module_globals, originals, json_module, heapq_module, lock_types, "
                        "clock_code, time_module)");
        return NULL;
    }
    module_globals = args[0];
    originals = args[1];
    json_module = args[2];
    heapq_module = args[3];
    lock_types = args[4];
    if (!PyDict_Check(module_globals)) {
        PyErr_SetString(PyExc_TypeError, "module_globals must be a dict");
        return NULL;
    }
    if (!PyDict_Check(originals)) {
        PyErr_SetString(PyExc_TypeError, "originals must be a dict");
        return NULL;
    }
    if (!PyTuple_Check(lock_types) || PyTuple_GET_SIZE(lock_types) != 2 ||
        !PyType_Check(PyTuple_GET_ITEM(lock_types, 0)) || !PyType_Check(PyTuple_GET_ITEM(lock_types, 1))) {
        PyErr_SetString(PyExc_TypeError, "lock_types must be a tuple of two classes");
        return NULL;
    }
    ctx = PyObject_GC_New(CacheCtx, ctx_type);
    if (ctx == NULL)
        return NULL;
    memset((char *)ctx + sizeof(PyObject), 0, sizeof(CacheCtx) - sizeof(PyObject));
    PyObject_GC_Track(ctx);
    for (i = 0; i < HOOK_COUNT; i++) {
        if ((ctx->hook_names[i] = intern(HOOK_NAMES[i])) == NULL)
            goto done;
        ctx->hook_originals[i] = PyDict_GetItemWithError(originals, ctx->hook_names[i]);
        if (ctx->hook_originals[i] == NULL) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_KeyError, "originals lacks %s", HOOK_NAMES[i]);
            goto done;
        }
        Py_INCREF(ctx->hook_originals[i]);
    }
    for (i = 0; i < ATTR_COUNT; i++)
        if ((ctx->attr_names[i] = intern(ATTR_NAMES[i])) == NULL)
            goto done;
    Py_INCREF(module_globals);
    ctx->module_globals = module_globals;
    Py_INCREF(json_module);
    ctx->json_module = json_module;
    Py_INCREF(lock_types);
    ctx->lock_types = lock_types;
    Py_INCREF(args[5]);
    ctx->clock_code = args[5];
    Py_INCREF(args[6]);
    ctx->time_module = args[6];
    for (i = 0; i < 2; i++) {
        PyObject *lt = PyTuple_GET_ITEM(lock_types, i);
        if ((ctx->lock_enter[i] = PyObject_GetAttrString(lt, "__enter__")) == NULL ||
            (ctx->lock_exit[i] = PyObject_GetAttrString(lt, "__exit__")) == NULL)
            goto done;
    }
#ifdef FL_DIRECT_LOCK
    if ((ctx->lock_direct = lock_layout_verified(PyTuple_GET_ITEM(lock_types, 0))) < 0)
        goto done;
#endif
#ifdef FL_SEM_LOCK
    if (ctx->lock_direct && (ctx->lock_sem = lock_sem_verified(PyTuple_GET_ITEM(lock_types, 0))) < 0)
        goto done;
#endif
    if ((ctx->time_dict = PyModule_GetDict(ctx->time_module)) == NULL ||
        (ctx->json_dict = PyModule_GetDict(json_module)) == NULL ||
        (ctx->dict_sizeof = PyObject_GetAttrString((PyObject *)&PyDict_Type, "__sizeof__")) == NULL)
        goto done;
    Py_INCREF(ctx->time_dict);
    Py_INCREF(ctx->json_dict);
    if ((ctx->s_time = intern("time")) == NULL ||
        (ctx->time_time = PyObject_GetAttr(ctx->time_module, ctx->s_time)) == NULL)
        goto done;
    if ((ctx->json_loads = PyObject_GetAttrString(json_module, "loads")) == NULL ||
        (ctx->heappush = PyObject_GetAttrString(heapq_module, "heappush")) == NULL ||
        (ctx->heappop = PyObject_GetAttrString(heapq_module, "heappop")) == NULL ||
        (ctx->heapify = PyObject_GetAttrString(heapq_module, "heapify")) == NULL ||
        (ctx->s_json = intern("json")) == NULL || (ctx->s_loads = intern("loads")) == NULL ||
        (ctx->s_max_kb = intern("MAX_SIZE_PER_ITEM_IN_MEMORY_CACHE_IN_KB")) == NULL ||
        (ctx->s_enter = intern("__enter__")) == NULL || (ctx->s_exit = intern("__exit__")) == NULL ||
        (ctx->s_sizeof = intern("__sizeof__")) == NULL || (ctx->s_pop = intern("pop")) == NULL ||
        (ctx->s_get = intern("get")) == NULL || (ctx->s_clear = intern("clear")) == NULL ||
        (ctx->s_key = intern("key")) == NULL || (ctx->s_ttl = intern("ttl")) == NULL ||
        (ctx->s_self = intern("self")) == NULL || (ctx->s_value = intern("value")) == NULL ||
        (ctx->s_keys = intern("keys")) == NULL ||
        (ctx->kw_key = PyTuple_Pack(1, ctx->s_key)) == NULL ||
        (ctx->zero = PyLong_FromLong(0)) == NULL || (ctx->one = PyLong_FromLong(1)) == NULL ||
        (ctx->two = PyLong_FromLong(2)) == NULL || (ctx->n1024 = PyLong_FromLong(1024)) == NULL)
        goto done;
    if ((result = PyDict_New()) == NULL)
        goto done;
    for (i = 0; i < OP_COUNT; i++) {
        PyObject *name = intern(OP_NAMES[i]), *original;
        FastMethod *fm;
        if (name == NULL)
            goto fail;
        original = PyDict_GetItemWithError(originals, name);
        if (original == NULL) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_KeyError, "originals lacks %s", OP_NAMES[i]);
            Py_DECREF(name);
            goto fail;
        }
        fm = PyObject_GC_New(FastMethod, fm_type);
        if (fm == NULL) {
            Py_DECREF(name);
            goto fail;
        }
        fm->vectorcall = fm_vectorcall;
        fm->op = i;
        fm->name = name;
        fm->qualname = PyUnicode_FromFormat("InMemoryCache.%s", OP_NAMES[i]);
        fm->module = PyObject_GetAttrString(original, "__module__");
        Py_INCREF(original);
        fm->original = original;
        Py_INCREF(ctx);
        fm->ctx = ctx;
        PyObject_GC_Track(fm);
        if (fm->qualname == NULL || fm->module == NULL ||
            PyDict_SetItem(result, name, (PyObject *)fm) < 0) {
            Py_DECREF(fm);
            goto fail;
        }
        if (OP_HOOK[i] >= 0) {
            Py_INCREF(fm);
            ctx->hook_fast[OP_HOOK[i]] = (PyObject *)fm;
        }
        Py_DECREF(fm);
    }
    goto done;
fail:
    Py_CLEAR(result);
done:
    Py_DECREF(ctx);
    return result;
}

/* ------------------------------------------------------------------ */
/* The v3 proxy limiter's pure computation.                             */
/* (see the second half: limiter functions)                            */

#include "binding/bind_cache_limiter.inc"

/* _cache_configure(fast_method, stock_types): instances of stock_types (a
 * tuple of classes) run the stock methods, e.g. LLMClientCache while the
 * rust_connection_pool flag is off. */
static PyObject *
cache_configure(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    fl_module_state *st = fl_get_state(module);
    PyTypeObject *fm_type = (PyTypeObject *)st->slots[FL_SLOT_CACHE + 1];
    CacheCtx *ctx;
    Py_ssize_t i;
    if (nargs != 2 || Py_TYPE(args[0]) != fm_type || !PyTuple_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "_cache_configure(fast_method, stock_types: tuple)");
        return NULL;
    }
    for (i = 0; i < PyTuple_GET_SIZE(args[1]); i++) {
        if (!PyType_Check(PyTuple_GET_ITEM(args[1], i))) {
            PyErr_SetString(PyExc_TypeError, "stock_types must be a tuple of classes");
            return NULL;
        }
    }
    ctx = ((FastMethod *)args[0])->ctx;
    Py_INCREF(args[1]);
    Py_XSETREF(ctx->stock_types, args[1]);
    for (i = 0; i < PROFILE_CACHE; i++)
        ctx->cached_type[i] = NULL;
    Py_RETURN_NONE;
}

static PyMethodDef cache_functions[] = {
    {"_cache_configure", (PyCFunction)(void (*)(void))cache_configure, METH_FASTCALL,
     "Make instances of the given classes run the stock InMemoryCache methods."},
    {"_cache_build", (PyCFunction)(void (*)(void))cache_build, METH_FASTCALL,
     "Build the native InMemoryCache methods: {name: method}."},
    LIMITER_METHODS
    {NULL, NULL, 0, NULL},
};

int
fl_bind_cache(PyObject *module)
{
    PyObject *ctx_type, *fm_type;
    ctx_type = PyType_FromModuleAndSpec(module, &ctx_spec, NULL);
    if (ctx_type == NULL)
        return -1;
    fl_state_set(module, FL_SLOT_CACHE, ctx_type);
    Py_DECREF(ctx_type);
    fm_type = PyType_FromModuleAndSpec(module, &fm_spec, NULL);
    if (fm_type == NULL)
        return -1;
    fl_state_set(module, FL_SLOT_CACHE + 1, fm_type);
    Py_DECREF(fm_type);
    if (limiter_bind(module) < 0)
        return -1;
    return PyModule_AddFunctions(module, cache_functions);
}
