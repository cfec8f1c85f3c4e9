/*
 * bind_router.c - Python binding of the seed router's C core (router/).
 *
 * Exposes one heap type, fast_litellm._native.RouterCore, which the
 * Python wrapper (fast_litellm.routing._native) drives.  A RouterCore owns
 * a load table (fl_rt_loads) and caches the compiled index of the last
 * model list it saw, with that list's *witness*: a snapshot of the
 * deployment dicts' entries (see the witness section).  Checking it is two
 * dict probes per deployment and a pointer compare per entry, no hashing
 * of strings, no allocation.
 *
 * The index sits in a capsule that a pick holds a reference to, so a
 * concurrent recompile (another thread running while Python's `random`
 * is called) cannot free it under the pick.  The GIL is held throughout:
 * a pick is microseconds, and holding the GIL means no thread can fork
 * while another holds the load table's mutex.
 *
 * Module-state slots: FL_SLOT_ROUTER + 0 the RouterCore type, + 1 the
 * interned inner-dict keys a witness reads, + 2 the interned names of the
 * `random` functions a draw calls, + 3 the `random` module (its functions
 * are looked up on each draw, so patching random.random or seeding it is
 * seen).
 */
#include "binding/module_state.h"

#include <structmember.h>
#include <datetime.h> /* (the struct macros only: PyDateTimeAPI is not used; see fl_bind_router) */
#include "router/router.h"
#include "monitor/monitor.h"

#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
    SLOT_TYPE = FL_SLOT_ROUTER,
    SLOT_KEYS = FL_SLOT_ROUTER + 1,
    SLOT_NAMES = FL_SLOT_ROUTER + 2,
    SLOT_RANDOM = FL_SLOT_ROUTER + 3,
};

/* The interned names in SLOT_NAMES, by position. */
enum {
    NAME_RANDOM = 0,
    NAME_RANDRANGE = 1,
    /* RouterGatherDone's method and attribute names (interned once: a str made
     * from C text per call cost ~0.4 us a usage-v2 pick, session 24) */
    NAME_DONE,
    NAME_CANCELLED,
    NAME_EXCEPTION,
    NAME_MAKE_CANCELLED_ERROR,
    NAME_SET_EXCEPTION,
    NAME_CANCEL_MESSAGE,
    NAME_RESULT,
    NAME_CANCEL_REQUESTED,
    NAME_SET_RESULT,
    NAME_EXCEPTIONS,
    NAME_CANCELLED_ERROR,
    /* router_chain_serves' reads */
    NAME_ACCELERATED,
    NAME_CELL_CONTENTS,
    NAME_SERVE_FAST,
    /* router_usage_prefetch's reads */
    NAME_IN_MEMORY_CACHE,
    NAME_REDIS_CACHE,
    NAME_ASYNC_BATCH_GET_CACHE,
    NAME_PREPARE_BATCH_GET,
    NAME_DICT,
    NAME_GET_CACHE,
    NAME_CACHE_DICT,
    NAME_KEYS,
    NAME_VALUES,
    NAME_PREFETCHED_USAGE,
    /* router_usage_v2_front's reads */
    NAME_GETATTRIBUTE,
    NAME_GET,
    NAME_REMEMBER,
    NAME_VERBOSE_ROUTER_LOGGER,
    NAME_IMPORT,
    NAME_COUNT
};

/* The keys of the inner dicts a witness snapshots, in order. */
static const char *const INNER_KEYS[] = {"litellm_params", "model_info"};
#define N_INNER ((Py_ssize_t)(sizeof(INNER_KEYS) / sizeof(INNER_KEYS[0])))

static const char *const STRATEGY_NAMES[FL_RT_STRATEGY_COUNT] = {
    "simple_shuffle", "least_busy", "latency_based", "cost_based",
};

typedef struct {
    PyObject_HEAD
    fl_rt_loads *loads;
    PyObject *list;    /* the model list the index was compiled from */
    PyObject *witness; /* tuple: the snapshot's objects (see make_witness) */
    PyObject *sizes;   /* bytes: the snapshot's dict sizes, Py_ssize_t each */
    PyObject *stamps;  /* bytearray of fl_stamp per deployment (see stamps), or NULL */
    PyObject *index;   /* capsule of fl_rt_index */
    PyObject *version; /* the caller's model_list_version at compile, or NULL */
    int strategy;      /* pick_default's strategy code (configure) */
    double buffer;     /* pick_default's latency buffer (configure) */
} RouterCore;

static PyObject *
module_of(PyObject *self)
{
    return PyType_GetModule(Py_TYPE(self));
}

/* ---- strings ---------------------------------------------------------- */

/* UTF-8 of s; lone surrogates via surrogatepass into *holder (a bytes). */
static const char *
utf8_of(PyObject *s, Py_ssize_t *len, PyObject **holder)
{
    *holder = NULL;
    const char *text = PyUnicode_AsUTF8AndSize(s, len);
    if (text != NULL)
        return text;
    if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
        return NULL;
    PyErr_Clear();
    *holder = PyUnicode_AsEncodedString(s, "utf-8", "surrogatepass");
    if (*holder == NULL)
        return NULL;
    *len = PyBytes_GET_SIZE(*holder);
    return PyBytes_AS_STRING(*holder);
}

/* ---- witness ----------------------------------------------------------
 *
 * The witness of a list is a snapshot of the dicts the specs were read
 * from: per deployment, the deployment dict, then every (key, value) of it,
 * of its litellm_params dict and of its model_info dict, in iteration
 * order, plus each dict's size.  Holding strong references keeps every
 * address unique, and keys and values that are the same objects mean the
 * same contents (the specs read only immutable values), so an identical
 * snapshot means an identical index.  A change to any key, even one the
 * specs do not read, only costs a recompile.  Dict subclasses (whose get()
 * may not read their storage) are never taken as unchanged.
 */

/* ---- stamps ----------------------------------------------------------------
 *
 * CPython 3.9-3.11 give every dict a version tag (PEP 509's ma_version_tag:
 * drawn from one global counter, replaced by every change to the dict), so
 * a dict holding the tag it had when the witness was recorded still holds
 * the entries recorded.  A stamp is, per deployment, its dict and its inner
 * dicts (borrowed: the witness holds them) and their tags, read before the
 * deployment's entries were recorded; when every stamp still matches, the
 * list is the compiled one without walking a single entry.  Any mismatch
 * (a changed, replaced or unstamped dict) falls back to the walk, which
 * decides; a walk that finds the list unchanged renews the tags read just
 * before it.  A deployment whose keys are not all exact str, or whose
 * inner dicts are not exact dicts, is left unstamped (its lookups could run
 * Python code).  Other CPython versions walk every time.
 */
#if !defined(Py_LIMITED_API) && PY_VERSION_HEX < 0x030C0000
#define FL_HAVE_STAMPS 1
#else
#define FL_HAVE_STAMPS 0
#endif

#define STAMP_DICTS (1 + (int)(sizeof(INNER_KEYS) / sizeof(INNER_KEYS[0])))

typedef struct {
    PyObject *dicts[STAMP_DICTS]; /* the deployment, then its inner dicts (NULL: absent); dicts[0] NULL: unstamped */
    uint64_t tags[STAMP_DICTS];
} fl_stamp;

#if FL_HAVE_STAMPS
static uint64_t
dict_tag(PyObject *dict)
{
    return ((PyDictObject *)dict)->ma_version_tag;
}
#endif

typedef struct {
    int compare;         /* 0: record into out/sizes; 1: compare with tuple/sizes */
    PyObject *out;       /* record: list of objects */
    PyObject *tuple;     /* compare: the recorded objects */
    Py_ssize_t at;
    Py_ssize_t *sizes;
    Py_ssize_t nsizes, cap, size_at;
    PyObject *stamps;    /* record: bytearray the stamps are appended to, or NULL */
} fl_walk;

/* 0: go on, 1: differs, -1: error. */
static int
walk_object(fl_walk *w, PyObject *o)
{
    if (!w->compare)
        return PyList_Append(w->out, o);
    if (w->at >= PyTuple_GET_SIZE(w->tuple) || PyTuple_GET_ITEM(w->tuple, w->at) != o)
        return 1;
    w->at++;
    return 0;
}

static int
walk_size(fl_walk *w, Py_ssize_t n)
{
    if (w->compare) {
        if (w->size_at >= w->nsizes || w->sizes[w->size_at] != n)
            return 1;
        w->size_at++;
        return 0;
    }
    if (w->nsizes == w->cap) {
        Py_ssize_t cap = w->cap ? w->cap * 2 : 64;
        Py_ssize_t *grown = PyMem_Realloc(w->sizes, (size_t)cap * sizeof(Py_ssize_t));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        w->sizes = grown;
        w->cap = cap;
    }
    w->sizes[w->nsizes++] = n;
    return 0;
}

static int
walk_dict(fl_walk *w, PyObject *dict)
{
    if (w->compare && !PyDict_CheckExact(dict))
        return 1;
    int rc = walk_size(w, PyDict_GET_SIZE(dict));
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (rc == 0 && PyDict_Next(dict, &pos, &key, &value)) {
        rc = walk_object(w, key);
        if (rc == 0)
            rc = walk_object(w, value);
    }
    return rc;
}

/* Whether every key of dict is an exact str (so a lookup by a str key runs
 * no Python code and, with the same key and value objects in the same
 * order, finds the same value). */
static int
has_plain_keys(PyObject *dict)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key))
            return 0;
    }
    return 1;
}

/* The inner dict under keys[i] (or Py_None): borrowed, NULL on error.
 * When comparing a deployment whose keys were all exact str at record
 * time and whose entries were just found identical, the lookup would
 * find the recorded object, so it is taken from the witness unprobed. */
static PyObject *
inner_of(fl_walk *w, PyObject *d, PyObject *key, int plain)
{
    if (w->compare && plain)
        return w->at < PyTuple_GET_SIZE(w->tuple) ? PyTuple_GET_ITEM(w->tuple, w->at) : Py_None;
    PyObject *inner = PyDict_GetItemWithError(d, key);
    if (inner == NULL && PyErr_Occurred())
        return NULL;
    return inner != NULL && PyDict_Check(inner) ? inner : Py_None;
}

/* Per deployment: the object d; if a dict, its entries, a plain-keys flag
 * (as a size), then per inner key the inner dict (or None) and its entries. */
/* Record mode: d's stamp (see stamps), read before its entries are
 * recorded; zeroed (unstamped) when d is not stampable.  -1 on error. */
static int
read_stamp(fl_stamp *stamp, PyObject *d, PyObject *keys)
{
    memset(stamp, 0, sizeof(*stamp));
#if FL_HAVE_STAMPS
    if (!PyDict_CheckExact(d) || !has_plain_keys(d))
        return 0;
    stamp->dicts[0] = d;
    stamp->tags[0] = dict_tag(d);
    for (Py_ssize_t i = 0; i < N_INNER; i++) {
        PyObject *inner = PyDict_GetItemWithError(d, PyTuple_GET_ITEM(keys, i)); /* exact str keys: no Python code */
        if (inner == NULL && PyErr_Occurred())
            return -1;
        if (inner != NULL && PyDict_Check(inner)) {
            if (!PyDict_CheckExact(inner)) {
                memset(stamp, 0, sizeof(*stamp));
                return 0;
            }
            stamp->dicts[1 + i] = inner;
            stamp->tags[1 + i] = dict_tag(inner);
        }
    }
#else
    (void)d;
    (void)keys;
#endif
    return 0;
}

/* Record mode: append the stamp, unstamped unless its dicts are the ones
 * the witness recorded (and so holds). */
static int
append_stamp(fl_walk *w, fl_stamp *stamp, PyObject *const *recorded)
{
    for (int k = 1; k < STAMP_DICTS && stamp->dicts[0] != NULL; k++) {
        if (stamp->dicts[k] != (recorded[k - 1] == Py_None ? NULL : recorded[k - 1]))
            memset(stamp, 0, sizeof(*stamp));
    }
    Py_ssize_t at = PyByteArray_GET_SIZE(w->stamps);
    if (PyByteArray_Resize(w->stamps, at + (Py_ssize_t)sizeof(*stamp)) < 0)
        return -1;
    memcpy(PyByteArray_AS_STRING(w->stamps) + at, stamp, sizeof(*stamp));
    return 0;
}

/* Per deployment: the object d; if a dict, its entries, a plain-keys flag
 * (as a size), then per inner key the inner dict (or None) and its entries. */
static int
walk_deployment(fl_walk *w, PyObject *d, PyObject *keys)
{
    int stamping = !w->compare && w->stamps != NULL;
    fl_stamp stamp;
    PyObject *recorded[STAMP_DICTS - 1];
    for (int k = 0; k < STAMP_DICTS - 1; k++)
        recorded[k] = Py_None;
    if (stamping && read_stamp(&stamp, d, keys) < 0)
        return -1;
    int rc = walk_object(w, d);
    if (rc != 0)
        return rc;
    if (PyDict_Check(d)) {
        if ((rc = walk_dict(w, d)) != 0)
            return rc;
        int plain;
        if (w->compare) {
            if (w->size_at >= w->nsizes)
                return 1;
            plain = w->sizes[w->size_at++] != 0;
        } else {
            plain = has_plain_keys(d);
            if ((rc = walk_size(w, plain)) != 0)
                return rc;
        }
        for (Py_ssize_t i = 0; i < N_INNER; i++) {
            PyObject *inner = inner_of(w, d, PyTuple_GET_ITEM(keys, i), plain);
            if (inner == NULL)
                return -1;
            if ((rc = walk_object(w, inner)) != 0)
                return rc;
            recorded[i] = inner;
            if (inner != Py_None && (rc = walk_dict(w, inner)) != 0)
                return rc;
        }
    }
    return stamping ? append_stamp(w, &stamp, recorded) : 0;
}

static int
walk_list(fl_walk *w, PyObject *module, PyObject *list)
{
    PyObject *keys = fl_get_state(module)->slots[SLOT_KEYS];
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        int rc = walk_deployment(w, PyList_GET_ITEM(list, i), keys);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Record list's witness: a new tuple, its dict sizes as a new bytes in
 * *sizes and its stamps as a new bytearray in *stamps. */
static PyObject *
make_witness(PyObject *module, PyObject *list, PyObject **sizes, PyObject **stamps)
{
    fl_walk w = {0, PyList_New(0), NULL, 0, NULL, 0, 0, 0, PyByteArray_FromStringAndSize(NULL, 0)};
    PyObject *tuple = NULL;
    if (w.out != NULL && w.stamps != NULL && walk_list(&w, module, list) == 0) {
        tuple = PyList_AsTuple(w.out);
        *sizes = PyBytes_FromStringAndSize(w.sizes ? (const char *)w.sizes : "",
                                           w.nsizes * (Py_ssize_t)sizeof(Py_ssize_t));
        if (*sizes == NULL)
            Py_CLEAR(tuple);
    }
    if (tuple != NULL) {
        *stamps = w.stamps;
        w.stamps = NULL;
    }
    Py_XDECREF(w.out);
    Py_XDECREF(w.stamps);
    PyMem_Free(w.sizes);
    return tuple;
}

#if FL_HAVE_STAMPS
/* 1: every deployment of list is stamped and its dicts hold their stamped
 * tags; 0: not.  With `fresh` (room for STAMP_DICTS tags per stamp), the
 * current tags of the stamped dicts are written there. */
static int
stamps_match(PyObject *stamps, PyObject *list, uint64_t *fresh)
{
    const fl_stamp *stamp = (const fl_stamp *)PyByteArray_AS_STRING(stamps);
    Py_ssize_t n = PyByteArray_GET_SIZE(stamps) / (Py_ssize_t)sizeof(fl_stamp);
    if (n != PyList_GET_SIZE(list))
        return 0;
    int match = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (stamp[i].dicts[0] == NULL || stamp[i].dicts[0] != PyList_GET_ITEM(list, i)) {
            match = 0;
            continue;
        }
        for (int k = 0; k < STAMP_DICTS; k++) {
            PyObject *dict = stamp[i].dicts[k];
            uint64_t tag = dict == NULL ? 0 : dict_tag(dict);
            if (fresh != NULL)
                fresh[i * STAMP_DICTS + k] = tag;
            if (tag != stamp[i].tags[k])
                match = 0;
        }
        if (!match && fresh == NULL)
            return 0;
    }
    return match;
}

/* After a walk found the list unchanged: the tags read before it are the stamps'. */
static void
renew_stamps(PyObject *stamps, const uint64_t *fresh)
{
    fl_stamp *stamp = (fl_stamp *)PyByteArray_AS_STRING(stamps);
    Py_ssize_t n = PyByteArray_GET_SIZE(stamps) / (Py_ssize_t)sizeof(fl_stamp);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (stamp[i].dicts[0] != NULL)
            memcpy(stamp[i].tags, &fresh[i * STAMP_DICTS], sizeof(stamp[i].tags));
    }
}
#endif

/* 1: list is the compiled one, unchanged; 0: recompile; -1: error.
 * With a version equal to the one compiled under, the caller vouches for
 * the contents and only identity and length are checked.
 *
 * Comparing a version, or probing a dict whose keys have a Python __eq__,
 * may run Python code and let another thread recompile: everything read is
 * held by a strong reference for the check, and the index must still be
 * the one checked at the end. */
static int
is_current(RouterCore *self, PyObject *list, PyObject *version)
{
    if (self->list != list || self->index == NULL || self->witness == NULL || self->sizes == NULL)
        return 0;
    fl_rt_index *index = PyCapsule_GetPointer(self->index, "fast_litellm.router.index");
    if (index == NULL)
        return -1;
    if ((Py_ssize_t)fl_rt_index_size(index) != PyList_GET_SIZE(list))
        return 0;
    PyObject *capsule = self->index, *witness = self->witness, *sizes = self->sizes, *compiled = self->version;
    Py_INCREF(capsule);
    Py_INCREF(witness);
    Py_INCREF(sizes);
    Py_XINCREF(compiled);
    int rc = -2; /* not decided yet */
    if (version != Py_None && compiled != NULL) {
        int same = PyObject_RichCompareBool(version, compiled, Py_EQ);
        if (same != 0)
            rc = same; /* 1, or -1 on error */
    }
    PyObject *stamps = self->stamps;
    Py_XINCREF(stamps);
    uint64_t *fresh = NULL;
#if FL_HAVE_STAMPS
    if (rc == -2 && stamps != NULL) {
        if (stamps_match(stamps, list, NULL))
            rc = 1;
        else if ((fresh = PyMem_Malloc((size_t)(PyList_GET_SIZE(list) + 1) * STAMP_DICTS * sizeof(uint64_t))) != NULL)
            (void)stamps_match(stamps, list, fresh); /* the tags before the walk */
    }
#endif
    if (rc == -2) {
        fl_walk w = {1, NULL, witness, 0, (Py_ssize_t *)PyBytes_AS_STRING(sizes),
                     PyBytes_GET_SIZE(sizes) / (Py_ssize_t)sizeof(Py_ssize_t), 0, 0, NULL};
        int walked = walk_list(&w, module_of((PyObject *)self), list);
        if (walked != 0)
            rc = walked < 0 ? -1 : 0;
        else
            rc = w.at == PyTuple_GET_SIZE(witness) && w.size_at == w.nsizes;
#if FL_HAVE_STAMPS
        if (rc == 1 && fresh != NULL && self->index == capsule && self->stamps == stamps)
            renew_stamps(stamps, fresh);
#endif
    }
    PyMem_Free(fresh);
    Py_XDECREF(stamps);
    if (rc == 1 && (self->index != capsule || self->list != list))
        rc = 0; /* recompiled meanwhile */
    Py_DECREF(capsule);
    Py_DECREF(witness);
    Py_DECREF(sizes);
    Py_XDECREF(compiled);
    return rc;
}

static void
index_capsule_free(PyObject *capsule)
{
    fl_rt_index_free(PyCapsule_GetPointer(capsule, "fast_litellm.router.index"));
}

static PyObject *
RouterCore_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"window", NULL};
    int window = 10;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|i:RouterCore", kwlist, &window))
        return NULL;
    if (window < 1 || window > 1000) {
        PyErr_SetString(PyExc_ValueError, "window must be between 1 and 1000");
        return NULL;
    }
    RouterCore *self = (RouterCore *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->loads = fl_rt_loads_new(window);
    if (self->loads == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static int
RouterCore_traverse(RouterCore *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->list);
    Py_VISIT(self->witness);
    Py_VISIT(self->index);
    Py_VISIT(self->version);
    Py_VISIT(self->sizes);
    Py_VISIT(self->stamps);
    return 0;
}

static int
RouterCore_clear(RouterCore *self)
{
    Py_CLEAR(self->list);
    Py_CLEAR(self->witness);
    Py_CLEAR(self->index);
    Py_CLEAR(self->version);
    Py_CLEAR(self->sizes);
    Py_CLEAR(self->stamps);
    return 0;
}

static void
RouterCore_dealloc(RouterCore *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    RouterCore_clear(self);
    fl_rt_loads_free(self->loads);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static int
spec_double(PyObject *spec, Py_ssize_t i, double *out)
{
    *out = PyFloat_AsDouble(PyTuple_GET_ITEM(spec, i));
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/*
 * compile(model_list, read_specs, version): build the index from the
 * _spec.Spec tuples read_specs(model_list) returns.  The witness is taken
 * first: a change to the list while the specs are read (Python code, so
 * another thread may run) then differs from it and the next pick
 * recompiles; a witness taken after the specs would vouch for stale ones.
 */
static PyObject *
RouterCore_compile(RouterCore *self, PyObject *args)
{
    PyObject *list, *read_specs, *version = Py_None;
    if (!PyArg_ParseTuple(args, "O!O|O:compile", &PyList_Type, &list, &read_specs, &version))
        return NULL;
    PyObject *result = NULL, *specs = NULL, *capsule = NULL;
    PyObject *sizes = NULL, *stamps = NULL;
    fl_rt_deployment *deps = NULL;
    PyObject **holders = NULL;
    fl_rt_index *index = NULL;
    Py_ssize_t n = 0;
    PyObject *witness = make_witness(module_of((PyObject *)self), list, &sizes, &stamps);
    if (witness == NULL)
        goto done;
    specs = PyObject_CallOneArg(read_specs, list);
    if (specs == NULL)
        goto done;
    if (!PyList_Check(specs)) {
        PyErr_SetString(PyExc_TypeError, "read_specs must return a list of _spec.Spec tuples");
        goto done;
    }
    n = PyList_GET_SIZE(specs);
    if (n != PyList_GET_SIZE(list)) {
        PyErr_SetString(PyExc_ValueError, "specs and model_list differ in length");
        n = 0;
        goto done;
    }
    deps = PyMem_Calloc(n ? (size_t)n : 1, sizeof(fl_rt_deployment));
    holders = PyMem_Calloc(n ? (size_t)n * 3 : 1, sizeof(PyObject *));
    if (deps == NULL || holders == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *spec = PyList_GET_ITEM(specs, i);
        if (!PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) != 10) {
            PyErr_SetString(PyExc_TypeError, "specs must be _spec.Spec tuples");
            goto done;
        }
        fl_rt_deployment *d = &deps[i];
        Py_ssize_t len;
        PyObject *strings[3] = {PyTuple_GET_ITEM(spec, 0), PyTuple_GET_ITEM(spec, 1), PyTuple_GET_ITEM(spec, 2)};
        const char *text[3];
        size_t lens[3];
        for (int k = 0; k < 3; k++) {
            if (!PyUnicode_Check(strings[k])) {
                PyErr_SetString(PyExc_TypeError, "spec names must be str");
                goto done;
            }
            text[k] = utf8_of(strings[k], &len, &holders[i * 3 + k]);
            if (text[k] == NULL)
                goto done;
            lens[k] = (size_t)len;
        }
        d->model_name = text[0];
        d->model_name_len = lens[0];
        d->model = text[1];
        d->model_len = lens[1];
        d->key = text[2];
        d->key_len = lens[2];
        d->has_id = PyObject_IsTrue(PyTuple_GET_ITEM(spec, 3));
        if (d->has_id < 0 || spec_double(spec, 4, &d->weight) < 0 || spec_double(spec, 5, &d->rpm) < 0 ||
            spec_double(spec, 6, &d->tpm) < 0 || spec_double(spec, 7, &d->rpm_limit) < 0 ||
            spec_double(spec, 8, &d->tpm_limit) < 0 || spec_double(spec, 9, &d->cost) < 0)
            goto done;
    }
    index = fl_rt_index_new(deps, (size_t)n);
    if (index == NULL || fl_rt_index_bind_loads(index, self->loads) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    capsule = PyCapsule_New(index, "fast_litellm.router.index", index_capsule_free);
    if (capsule == NULL)
        goto done;
    index = NULL; /* the capsule owns it */
    /* no stamps while the rest changes: stamps borrow from the witness they came with */
    Py_CLEAR(self->stamps);
    Py_INCREF(list);
    Py_XSETREF(self->list, list);
    Py_XSETREF(self->witness, witness);
    Py_XSETREF(self->sizes, sizes);
    sizes = NULL;
    Py_XSETREF(self->index, capsule);
    if (version == Py_None) {
        Py_CLEAR(self->version);
    } else {
        Py_INCREF(version);
        Py_XSETREF(self->version, version);
    }
    Py_XSETREF(self->stamps, stamps); /* last: with the witness they borrow from in place */
    stamps = NULL;
    witness = capsule = NULL;
    result = Py_None;
    Py_INCREF(result);
done:
    Py_XDECREF(sizes);
    Py_XDECREF(stamps);
    fl_rt_index_free(index);
    Py_XDECREF(witness);
    Py_XDECREF(capsule);
    if (holders != NULL) {
        for (Py_ssize_t i = 0; i < n * 3; i++)
            Py_XDECREF(holders[i]);
    }
    PyMem_Free(holders);
    PyMem_Free(deps);
    Py_XDECREF(specs);
    return result;
}

static PyObject *
RouterCore_is_current(RouterCore *self, PyObject *list)
{
    if (!PyList_Check(list))
        Py_RETURN_FALSE;
    int rc = is_current(self, list, Py_None);
    if (rc < 0)
        return NULL;
    return PyBool_FromLong(rc);
}

static fl_rt_strset *
blocked_of(PyObject *blocked)
{
    Py_ssize_t n = PySet_Size(blocked);
    if (n < 0)
        return NULL;
    fl_rt_strset *set = fl_rt_strset_new((size_t)n);
    if (set == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    PyObject *it = PyObject_GetIter(blocked), *item;
    if (it == NULL) {
        fl_rt_strset_free(set);
        return NULL;
    }
    while ((item = PyIter_Next(it)) != NULL) {
        Py_ssize_t len;
        PyObject *holder = NULL;
        const char *text = PyUnicode_Check(item) ? utf8_of(item, &len, &holder) : NULL;
        int failed = 0;
        if (text == NULL) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "blocked_models must contain str");
            failed = 1;
        } else if (fl_rt_strset_add(set, text, (size_t)len) < 0) {
            PyErr_NoMemory();
            failed = 1;
        }
        Py_XDECREF(holder);
        Py_DECREF(item);
        if (failed) {
            Py_DECREF(it);
            fl_rt_strset_free(set);
            return NULL;
        }
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) {
        fl_rt_strset_free(set);
        return NULL;
    }
    return set;
}

/* random.<name>(*args), looked up on the random module at each call. */
static PyObject *
call_random(PyObject *module, int name, PyObject *arg)
{
    fl_module_state *st = fl_get_state(module);
    PyObject *fn = PyObject_GetAttr(st->slots[SLOT_RANDOM], PyTuple_GET_ITEM(st->slots[SLOT_NAMES], name));
    if (fn == NULL)
        return NULL;
    PyObject *result = arg == NULL ? PyObject_CallNoArgs(fn) : PyObject_CallOneArg(fn, arg);
    Py_DECREF(fn);
    return result;
}

/* The draw a plan asks for, from Python's random. 0 or -1. */
static int
draw(PyObject *module, const fl_rt_plan_result *plan, double *u, size_t *k)
{
    if (plan->draw == FL_RT_DRAW_UNIFORM) {
        PyObject *r = call_random(module, NAME_RANDOM, NULL);
        if (r == NULL)
            return -1;
        *u = PyFloat_AsDouble(r);
        Py_DECREF(r);
        return (*u == -1.0 && PyErr_Occurred()) ? -1 : 0;
    }
    if (plan->draw == FL_RT_DRAW_BELOW) {
        PyObject *n = PyLong_FromSize_t(plan->count);
        if (n == NULL)
            return -1;
        PyObject *r = call_random(module, NAME_RANDRANGE, n);
        Py_DECREF(n);
        if (r == NULL)
            return -1;
        *k = PyLong_AsSize_t(r);
        Py_DECREF(r);
        if (*k == (size_t)-1 && PyErr_Occurred())
            return -1;
        if (*k >= plan->count) {
            PyErr_SetString(PyExc_RuntimeError, "random.randrange returned a value out of range");
            return -1;
        }
        return 0;
    }
    if (plan->draw == FL_RT_DRAW_ERROR) {
        PyErr_SetString(PyExc_ValueError, "Total of weights must be finite");
        return -1;
    }
    return 0;
}

/* Candidates up to this many are picked with scratch space on the stack. */
#define STACK_CANDIDATES 64

/* A pick's working memory: the stack arrays for small lists, else the heap. */
typedef struct {
    uint32_t found[STACK_CANDIDATES];
    uint32_t pool[STACK_CANDIDATES];
    double cum[STACK_CANDIDATES], value[STACK_CANDIDATES];
    uint32_t *heap_found;
    fl_rt_scratch scratch;
    int heap_scratch;
} pick_memory;

static uint32_t *
memory_found(pick_memory *m, size_t n)
{
    if (n <= STACK_CANDIDATES)
        return m->found;
    m->heap_found = PyMem_Malloc(n * sizeof(uint32_t));
    if (m->heap_found == NULL)
        PyErr_NoMemory();
    return m->heap_found;
}

static int
memory_scratch(pick_memory *m, size_t count)
{
    if (count <= STACK_CANDIDATES) {
        m->scratch.capacity = count;
        m->scratch.pool = m->pool;
        m->scratch.cum = m->cum;
        m->scratch.value = m->value;
        return 0;
    }
    if (fl_rt_scratch_init(&m->scratch, count) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    m->heap_scratch = 1;
    return 0;
}

static void
memory_free(pick_memory *m)
{
    if (m->heap_scratch)
        fl_rt_scratch_free(&m->scratch);
    PyMem_Free(m->heap_found);
}

/* What pick_position found: a position, nothing, or a list to compile first. */
enum { PICKED = 0, PICKED_NOTHING = 1, NOT_CURRENT = 2 };

/* The pick over list (compiled, unless NOT_CURRENT): PICKED with *position,
 * PICKED_NOTHING, NOT_CURRENT, or -1 with an exception set.  model is a str;
 * blocked None or a set of str. */
static int
pick_position(RouterCore *self, PyObject *list, PyObject *model, PyObject *blocked, int strategy, double buffer,
              double input_tokens, int64_t minute, PyObject *version, int just_compiled, long *position)
{
    /* just_compiled: the caller compiled this list a moment ago, holding
     * the GIL since (a dict subclass list is never "current" otherwise) */
    int current = just_compiled && self->list == list && self->index != NULL ? 1 : is_current(self, list, version);
    if (current <= 0)
        return current < 0 ? -1 : NOT_CURRENT;

    PyObject *capsule = self->index;
    Py_INCREF(capsule);
    fl_rt_index *index = PyCapsule_GetPointer(capsule, "fast_litellm.router.index");
    PyObject *holder = NULL;
    fl_rt_strset *set = NULL;
    pick_memory memory;
    memory.heap_found = NULL;
    memory.heap_scratch = 0;
    int rc = -1;
    size_t n = fl_rt_index_size(index);

    Py_ssize_t len;
    const char *text = utf8_of(model, &len, &holder);
    if (text == NULL)
        goto done;
    if (blocked != Py_None && !PyAnySet_Check(blocked)) {
        PyErr_SetString(PyExc_TypeError, "blocked must be a frozenset of str or None");
        goto done;
    }
    if (blocked != Py_None && PySet_GET_SIZE(blocked) > 0 && (set = blocked_of(blocked)) == NULL)
        goto done;
    uint32_t *found = memory_found(&memory, n);
    if (found == NULL)
        goto done;
    size_t count = fl_rt_match(index, text, (size_t)len, set, found);
    if (count == 0) {
        rc = PICKED_NOTHING;
        goto done;
    }
    if (memory_scratch(&memory, count) < 0)
        goto done;
    fl_rt_plan_result plan = fl_rt_plan(index, self->loads, (fl_rt_strategy)strategy, found, count, buffer,
                                        input_tokens, minute, &memory.scratch);
    double u = 0.0;
    size_t k = 0;
    if (draw(module_of((PyObject *)self), &plan, &u, &k) < 0)
        goto done;
    *position = fl_rt_finish(&plan, &memory.scratch, u, k);
    rc = *position < 0 ? PICKED_NOTHING : PICKED;
done:
    memory_free(&memory);
    fl_rt_strset_free(set);
    Py_XDECREF(holder);
    Py_DECREF(capsule);
    return rc;
}

/*
 * pick(model_list, model, blocked, strategy, latency_buffer, input_tokens, minute, version,
 *      just_compiled) -> position, None (no deployment), or NotImplemented (compile first).
 */
static PyObject *
RouterCore_pick(RouterCore *self, PyObject *args)
{
    PyObject *list, *model, *blocked, *version = Py_None;
    int strategy, just_compiled = 0;
    double buffer, input_tokens;
    long long minute;
    if (!PyArg_ParseTuple(args, "O!UOiddL|Op:pick", &PyList_Type, &list, &model, &blocked, &strategy, &buffer,
                          &input_tokens, &minute, &version, &just_compiled))
        return NULL;
    if (strategy < 0 || strategy >= FL_RT_STRATEGY_COUNT) {
        PyErr_SetString(PyExc_ValueError, "unknown strategy code");
        return NULL;
    }
    long position = -1;
    switch (pick_position(self, list, model, blocked, strategy, buffer, input_tokens, (int64_t)minute, version,
                          just_compiled, &position)) {
    case PICKED:
        return PyLong_FromLong(position);
    case PICKED_NOTHING:
        Py_RETURN_NONE;
    case NOT_CURRENT:
        Py_RETURN_NOTIMPLEMENTED;
    default:
        return NULL;
    }
}

/* int(time.time() // 60), computed as Python computes it: the clock read
 * as time.time() reads it, then float floor division. */
static int64_t
current_minute(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    double seconds = ns % 1000000000 == 0 ? (double)(ns / 1000000000) : (double)ns / 1e9;
    double mod = fmod(seconds, 60.0);
    double div = (seconds - mod) / 60.0;
    if (mod != 0.0 && mod < 0.0) /* the sign of the divisor (never, for a positive clock) */
        div -= 1.0;
    double floordiv = floor(div);
    if (div - floordiv > 0.5)
        floordiv += 1.0;
    return (int64_t)floordiv;
}

static int
minute_matters(int strategy)
{
    return strategy == FL_RT_LATENCY || strategy == FL_RT_COST;
}

/* configure(strategy, latency_buffer): what pick_default picks with. */
static PyObject *
RouterCore_configure(RouterCore *self, PyObject *args)
{
    int strategy;
    double buffer;
    if (!PyArg_ParseTuple(args, "id:configure", &strategy, &buffer))
        return NULL;
    if (strategy < 0 || strategy >= FL_RT_STRATEGY_COUNT) {
        PyErr_SetString(PyExc_ValueError, "unknown strategy code");
        return NULL;
    }
    self->strategy = strategy;
    self->buffer = buffer;
    Py_RETURN_NONE;
}

/*
 * pick_default(model_list, model, version=None) -> the deployment dict,
 * None, or NotImplemented (the caller's general path: compile first, or
 * arguments this path does not take).  The pick with no blocked models or
 * context and no settings but a model_list_version, with the configured
 * strategy and buffer and the current minute: the whole of a plain
 * get_available_deployment in one call.
 */
static PyObject *
RouterCore_pick_default(RouterCore *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 && nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "pick_default(model_list, model, version=None) takes two or three arguments");
        return NULL;
    }
    PyObject *list = args[0], *model = args[1], *version = nargs == 3 ? args[2] : Py_None;
    if (!PyList_CheckExact(list) || !PyUnicode_Check(model))
        Py_RETURN_NOTIMPLEMENTED;
    int strategy = self->strategy;
    int64_t minute = minute_matters(strategy) ? current_minute() : 0;
    long position = -1;
    switch (pick_position(self, list, model, Py_None, strategy, self->buffer, 0.0, minute, version, 0, &position)) {
    case PICKED:
        break;
    case PICKED_NOTHING:
        Py_RETURN_NONE;
    case NOT_CURRENT:
        Py_RETURN_NOTIMPLEMENTED;
    default:
        return NULL;
    }
    /* model_list[position]: Python code run by the draw may have shortened the list */
    if (position >= PyList_GET_SIZE(list)) {
        PyErr_SetString(PyExc_IndexError, "list index out of range");
        return NULL;
    }
    PyObject *picked = PyList_GET_ITEM(list, position);
    Py_INCREF(picked);
    return picked;
}

static int
key_of(PyObject *key, const char **text, Py_ssize_t *len, PyObject **holder)
{
    if (!PyUnicode_Check(key)) {
        PyErr_SetString(PyExc_TypeError, "deployment key must be a str");
        return -1;
    }
    *text = utf8_of(key, len, holder);
    return *text == NULL ? -1 : 0;
}

static PyObject *
loads_result(int rc)
{
    if (rc < 0)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *
RouterCore_start(RouterCore *self, PyObject *key)
{
    const char *text;
    Py_ssize_t len;
    PyObject *holder;
    if (key_of(key, &text, &len, &holder) < 0)
        return NULL;
    int rc = fl_rt_loads_start(self->loads, text, (size_t)len);
    Py_XDECREF(holder);
    return loads_result(rc);
}

static PyObject *
RouterCore_end(RouterCore *self, PyObject *key)
{
    const char *text;
    Py_ssize_t len;
    PyObject *holder;
    if (key_of(key, &text, &len, &holder) < 0)
        return NULL;
    int rc = fl_rt_loads_end(self->loads, text, (size_t)len);
    Py_XDECREF(holder);
    return loads_result(rc);
}

/* record(key, latency (<0: none), outcome (-1 none, 0 failure, 1 success), tokens (<0: none), minute) */
static PyObject *
RouterCore_record(RouterCore *self, PyObject *args)
{
    PyObject *key, *holder;
    double latency, tokens;
    int outcome;
    long long minute;
    if (!PyArg_ParseTuple(args, "UdidL:record", &key, &latency, &outcome, &tokens, &minute))
        return NULL;
    if (outcome < -1 || outcome > 1) {
        PyErr_SetString(PyExc_ValueError, "outcome must be -1, 0 or 1");
        return NULL;
    }
    const char *text;
    Py_ssize_t len;
    if (key_of(key, &text, &len, &holder) < 0)
        return NULL;
    int rc = fl_rt_loads_record(self->loads, text, (size_t)len, latency, (fl_rt_outcome)outcome, tokens,
                                (int64_t)minute);
    Py_XDECREF(holder);
    return loads_result(rc);
}

/* stats(minute) -> [(key, in_flight, mean_latency, samples, successes, failures, rpm_used, tpm_used)] */
static PyObject *
RouterCore_stats(RouterCore *self, PyObject *arg)
{
    long long minute = PyLong_AsLongLong(arg);
    if (minute == -1 && PyErr_Occurred())
        return NULL;
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    for (size_t i = 0;; i++) {
        const char *key;
        size_t len;
        fl_rt_load_view v;
        if (fl_rt_loads_get(self->loads, i, (int64_t)minute, &key, &len, &v) < 0)
            break;
        PyObject *row = Py_BuildValue("(s#LdiLLdd)", key, (Py_ssize_t)len, (long long)v.in_flight, v.mean_latency,
                                      v.latency_samples, (long long)v.successes, (long long)v.failures,
                                      v.rpm_used, v.tpm_used);
        if (row == NULL) {
            /* a key with lone surrogates: decode as it was encoded */
            PyErr_Clear();
            PyObject *name = PyUnicode_DecodeUTF8(key, (Py_ssize_t)len, "surrogatepass");
            row = name == NULL ? NULL
                               : Py_BuildValue("(NLdiLLdd)", name, (long long)v.in_flight, v.mean_latency,
                                               v.latency_samples, (long long)v.successes,
                                               (long long)v.failures, v.rpm_used, v.tpm_used);
        }
        if (row == NULL || PyList_Append(out, row) < 0) {
            Py_XDECREF(row);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(row);
    }
    return out;
}

static PyObject *
RouterCore_reset(RouterCore *self, PyObject *unused)
{
    fl_rt_loads_reset(self->loads);
    Py_RETURN_NONE;
}

static PyMethodDef RouterCore_methods[] = {
    {"compile", (PyCFunction)RouterCore_compile, METH_VARARGS, "compile(model_list, read_specs, version=None): index the list (its witness first, then read_specs(model_list))."},
    {"is_current", (PyCFunction)RouterCore_is_current, METH_O, "Whether the compiled index still fits the list."},
    {"pick", (PyCFunction)RouterCore_pick, METH_VARARGS,
     "pick(model_list, model, blocked, strategy, buffer, input_tokens, minute, version=None, just_compiled=False) -> position | None | NotImplemented"},
    {"pick_default", (PyCFunction)(void (*)(void))RouterCore_pick_default, METH_FASTCALL,
     "pick_default(model_list, model, version=None) -> deployment | None | NotImplemented (configured strategy)"},
    {"configure", (PyCFunction)RouterCore_configure, METH_VARARGS,
     "configure(strategy, latency_buffer): the strategy and buffer pick_default uses."},
    {"start", (PyCFunction)RouterCore_start, METH_O, "A request to key started."},
    {"end", (PyCFunction)RouterCore_end, METH_O, "A request to key ended."},
    {"record", (PyCFunction)RouterCore_record, METH_VARARGS, "record(key, latency, outcome, tokens, minute)."},
    {"stats", (PyCFunction)RouterCore_stats, METH_O, "stats(minute) -> list of load rows."},
    {"reset", (PyCFunction)RouterCore_reset, METH_NOARGS, "Forget every load."},
    {NULL, NULL, 0, NULL},
};

/* ---- json_copy ----------------------------------------------------------
 *
 * json_copy(value): a copy of JSON-shaped data with fresh dicts and lists
 * all the way down and every other object (str, int, float, bool, None)
 * shared.  For LiteLLM deployment records, which its Rust core converts
 * to new Python objects on every read: a copy is what a fresh read gives,
 * without the registry lookup and conversion.  Dict and list subclasses
 * and other containers are refused (TypeError), so callers fall back.
 */
static PyObject *json_copy_keys(PyObject *value, int intern);

static PyObject *
json_copy(PyObject *value)
{
    return json_copy_keys(value, 0);
}

/* json_copy, with the exact-str dict keys interned when `intern` (a record
 * kept for many reads: lookups by the interned key constants then match by
 * identity, without reading the key objects). */
static PyObject *
json_copy_keys(PyObject *value, int intern)
{
    if (PyDict_CheckExact(value)) {
        if (Py_EnterRecursiveCall(" in json_copy"))
            return NULL;
        PyObject *out = PyDict_New();
        PyObject *key, *item;
        Py_ssize_t pos = 0;
        while (out != NULL && PyDict_Next(value, &pos, &key, &item)) {
            PyObject *copy = json_copy_keys(item, intern);
            Py_INCREF(key);
            if (intern && PyUnicode_CheckExact(key))
                PyUnicode_InternInPlace(&key);
            if (copy == NULL || PyDict_SetItem(out, key, copy) < 0)
                Py_CLEAR(out);
            Py_DECREF(key);
            Py_XDECREF(copy);
        }
        Py_LeaveRecursiveCall();
        return out;
    }
    if (PyList_CheckExact(value)) {
        if (Py_EnterRecursiveCall(" in json_copy"))
            return NULL;
        Py_ssize_t n = PyList_GET_SIZE(value);
        PyObject *out = PyList_New(n);
        for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
            PyObject *copy = json_copy_keys(PyList_GET_ITEM(value, i), intern);
            if (copy == NULL)
                Py_CLEAR(out);
            else
                PyList_SET_ITEM(out, i, copy);
        }
        Py_LeaveRecursiveCall();
        return out;
    }
    if (value == Py_None || PyUnicode_CheckExact(value) || PyLong_CheckExact(value) || PyFloat_CheckExact(value) ||
        PyBool_Check(value)) {
        Py_INCREF(value);
        return value;
    }
    PyErr_Format(PyExc_TypeError, "json_copy: not JSON data: %s", Py_TYPE(value)->tp_name);
    return NULL;
}

/* ---- json_plain ---------------------------------------------------------
 *
 * json_plain(value, constants): what json.loads(json.dumps(value)) returns,
 * for the values where that is certain without running the codec: dicts
 * whose keys are all exact str (a fresh dict, in order), lists and tuples
 * (a fresh list), exact str, bool, None, int within 64 bits (int's repr
 * never hits the digit limit there) and exact float (finite values are
 * shared: float(repr(x)) == x; NaN and the infinities are json.decoder's
 * own NaN/PosInf/NegInf objects, which json.loads hands out, given as
 * `constants`).  Anything else - subclasses, other types, other keys, a
 * huge int, nesting past the recursion limit (json raises for cycles) -
 * returns NotImplemented, so the caller runs the codec.
 *
 * Recursion: json's encoder and scanner take one recursion level per
 * container, as this walk does, but start a few Python frames deeper
 * (dumps, encode, iterencode; loads, decode, raw_decode), so near the limit
 * the codec raises RecursionError where a bare walk would finish.  At every
 * JSON_PROBE_EVERY-th nesting level (the first included) the walk checks
 * that JSON_PROBE_LEVELS more levels are free, so wherever it finishes at
 * least JSON_PROBE_LEVELS - JSON_PROBE_EVERY levels were left at its
 * deepest point, more than the codec's extra frames; where not, it declines
 * and the codec decides.
 */
#define JSON_PROBE_EVERY 8
#define JSON_PROBE_LEVELS 16
typedef struct {
    PyObject *nan, *pos_inf, *neg_inf;
} json_constants;

static PyObject *json_plain(PyObject *value, const json_constants *c, int depth);

/* Whether `levels` more recursion levels are free (no exception left set).
 * From Python 3.12 on, Py_EnterRecursiveCall counts C recursion only, and
 * Python frames have their own budget (sys.getrecursionlimit()): the codec
 * also needs Python frames (dumps, encode, iterencode), so both must have
 * the headroom. */
static int
has_recursion_headroom(int levels)
{
#if PY_VERSION_HEX >= 0x030C0000 && !defined(Py_LIMITED_API)
    if (PyThreadState_Get()->py_recursion_remaining < levels)
        return 0;
#endif
    int entered = 0, ok = 1;
    while (entered < levels) {
        if (Py_EnterRecursiveCall(" in a headroom probe")) {
            PyErr_Clear();
            ok = 0;
            break;
        }
        entered++;
    }
    while (entered-- > 0)
        Py_LeaveRecursiveCall();
    return ok;
}

/* A new reference, NULL with an exception, or Py_NotImplemented (new ref): declined. */
static PyObject *
json_plain_dict(PyObject *value, const json_constants *c, int depth)
{
    PyObject *out = PyDict_New();
    PyObject *key, *item;
    Py_ssize_t pos = 0;
    while (out != NULL && PyDict_Next(value, &pos, &key, &item)) {
        if (!PyUnicode_CheckExact(key)) {
            Py_DECREF(out);
            Py_RETURN_NOTIMPLEMENTED;
        }
        PyObject *copy = json_plain(item, c, depth);
        if (copy == Py_NotImplemented) {
            Py_DECREF(out);
            return copy;
        }
        if (copy == NULL || PyDict_SetItem(out, key, copy) < 0)
            Py_CLEAR(out);
        Py_XDECREF(copy);
    }
    return out;
}

static PyObject *
json_plain_sequence(PyObject *value, const json_constants *c, int depth)
{
    Py_ssize_t n = PySequence_Fast_GET_SIZE(value);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        /* the size is re-read: a list can only shrink here through Python
         * code, and none runs, but stay in bounds regardless */
        if (i >= PySequence_Fast_GET_SIZE(value)) {
            Py_DECREF(out);
            Py_RETURN_NOTIMPLEMENTED;
        }
        PyObject *copy = json_plain(PySequence_Fast_GET_ITEM(value, i), c, depth);
        if (copy == Py_NotImplemented) {
            Py_DECREF(out);
            return copy;
        }
        if (copy == NULL)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, i, copy);
    }
    return out;
}

static PyObject *
json_plain_float(PyObject *value, const json_constants *c)
{
    double x = PyFloat_AS_DOUBLE(value);
    PyObject *out = isnan(x) ? c->nan : isinf(x) ? (x > 0 ? c->pos_inf : c->neg_inf) : value;
    Py_INCREF(out);
    return out;
}

static PyObject *
json_plain(PyObject *value, const json_constants *c, int depth)
{
    if (value == Py_None || PyUnicode_CheckExact(value) || PyBool_Check(value)) {
        Py_INCREF(value);
        return value;
    }
    if (PyLong_CheckExact(value)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (v == -1 && PyErr_Occurred())
            return NULL;
        if (overflow)
            Py_RETURN_NOTIMPLEMENTED;
        Py_INCREF(value);
        return value;
    }
    if (PyFloat_CheckExact(value))
        return json_plain_float(value, c);
    int dict = PyDict_CheckExact(value);
    if (!dict && !PyList_CheckExact(value) && !PyTuple_CheckExact(value))
        Py_RETURN_NOTIMPLEMENTED;
    if (depth % JSON_PROBE_EVERY == 0 && !has_recursion_headroom(JSON_PROBE_LEVELS))
        Py_RETURN_NOTIMPLEMENTED; /* near the limit: the codec's frames decide */
    if (Py_EnterRecursiveCall(" in json_plain")) {
        PyErr_Clear(); /* deep or cyclic: json's own error, from the codec */
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *out = dict ? json_plain_dict(value, c, depth + 1) : json_plain_sequence(value, c, depth + 1);
    Py_LeaveRecursiveCall();
    return out;
}

static PyObject *
router_json_plain(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyTuple_CheckExact(args[1]) || PyTuple_GET_SIZE(args[1]) != 3) {
        PyErr_SetString(PyExc_TypeError, "json_plain(value, (NaN, PosInf, NegInf))");
        return NULL;
    }
    json_constants c = {PyTuple_GET_ITEM(args[1], 0), PyTuple_GET_ITEM(args[1], 1), PyTuple_GET_ITEM(args[1], 2)};
    return json_plain(args[0], &c, 0);
}

/* ---- cooldown_ids ---------------------------------------------------------
 *
 * cooldown_ids(keys): for a list or tuple of exact str keys, the ids in
 * "deployment:<id>:cooldown" keys as a tuple, or None when the sequence is
 * empty or any key is not of that form (the ids are the text between the
 * prefix and the suffix, which may be empty or hold ':').  Keys that are
 * not exact str, or keys that are not a list/tuple: NotImplemented, so the
 * caller runs LiteLLM's parser.
 */
/* Whether s holds the ASCII text at `at`. */
static int
has_ascii_at(PyObject *s, Py_ssize_t at, const char *text, Py_ssize_t len)
{
    for (Py_ssize_t i = 0; i < len; i++) {
        if (PyUnicode_READ_CHAR(s, at + i) != (Py_UCS4)(unsigned char)text[i])
            return 0;
    }
    return 1;
}

static PyObject *
router_cooldown_ids(PyObject *module, PyObject *keys)
{
    static const char prefix[] = "deployment:", suffix[] = ":cooldown";
    const Py_ssize_t plen = (Py_ssize_t)sizeof(prefix) - 1, slen = (Py_ssize_t)sizeof(suffix) - 1;
    if (!PyList_CheckExact(keys) && !PyTuple_CheckExact(keys))
        Py_RETURN_NOTIMPLEMENTED;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(keys);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *key = PySequence_Fast_GET_ITEM(keys, i);
        if (!PyUnicode_CheckExact(key))
            Py_RETURN_NOTIMPLEMENTED;
        if (PyUnicode_READY(key) < 0)
            return NULL;
    }
    if (n == 0)
        Py_RETURN_NONE;
    PyObject *ids = PyTuple_New(n);
    if (ids == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *key = PySequence_Fast_GET_ITEM(keys, i);
        Py_ssize_t len = PyUnicode_GET_LENGTH(key);
        if (len < plen + slen || !has_ascii_at(key, 0, prefix, plen) || !has_ascii_at(key, len - slen, suffix, slen)) {
            Py_DECREF(ids);
            Py_RETURN_NONE;
        }
        PyObject *id = PyUnicode_Substring(key, plen, len - slen);
        if (id == NULL) {
            Py_DECREF(ids);
            return NULL;
        }
        PyTuple_SET_ITEM(ids, i, id);
    }
    return ids;
}

/* first_strs(values): list(dict.fromkeys(values)) for an exact list of
 * exact str: a new list of each value's first occurrence, in order (exact
 * strs are equal exactly when their storage kind, length and code units
 * are: no Python code runs, no hash is computed or cached).
 * NotImplemented for anything else (a subclass's __eq__/__hash__ decide
 * there), so the caller runs LiteLLM's code. */
static PyObject *
router_first_strs(PyObject *module, PyObject *values)
{
    if (!PyList_CheckExact(values))
        Py_RETURN_NOTIMPLEMENTED;
    Py_ssize_t n = PyList_GET_SIZE(values);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = PyList_GET_ITEM(values, i);
        if (!PyUnicode_CheckExact(value))
            Py_RETURN_NOTIMPLEMENTED;
        if (PyUnicode_READY(value) < 0)
            return NULL;
    }
    if (n > INT32_MAX)
        Py_RETURN_NOTIMPLEMENTED;
    if (n <= 1)
        return PyList_GetSlice(values, 0, n);
    fl_rt_key small_keys[64];
    unsigned char small_keep[64];
    fl_rt_key *keys = n <= 64 ? small_keys : PyMem_Malloc((size_t)n * sizeof(fl_rt_key));
    unsigned char *keep = n <= 64 ? small_keep : PyMem_Malloc((size_t)n);
    PyObject *out = NULL;
    if (keys == NULL || keep == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = PyList_GET_ITEM(values, i);
        keys[i].data = PyUnicode_DATA(value);
        keys[i].len = (size_t)PyUnicode_GET_LENGTH(value) * (size_t)PyUnicode_KIND(value);
        keys[i].tag = (unsigned)PyUnicode_KIND(value);
    }
    long repeats = fl_rt_first_occurrences(keys, (size_t)n, keep);
    if (repeats < 0) {
        PyErr_NoMemory();
        goto done;
    }
    if (repeats == 0) {
        out = PyList_GetSlice(values, 0, n);
        goto done;
    }
    out = PyList_New(n - (Py_ssize_t)repeats);
    if (out == NULL)
        goto done;
    for (Py_ssize_t i = 0, j = 0; i < n; i++) {
        if (keep[i]) {
            PyObject *value = PyList_GET_ITEM(values, i);
            Py_INCREF(value);
            PyList_SET_ITEM(out, j++, value);
        }
    }
done:
    if (keys != small_keys)
        PyMem_Free(keys);
    if (keep != small_keep)
        PyMem_Free(keep);
    return out;
}

static PyObject *
router_json_copy(PyObject *module, PyObject *value)
{
    return json_copy(value);
}

static PyObject *
router_json_copy_interned(PyObject *module, PyObject *value)
{
    return json_copy_keys(value, 1);
}

/* ---- strategy scans (fast_litellm/routing/strategy_fast.py) --------------
 *
 * The per-candidate loops of LiteLLM's latency pick over exact dicts, and
 * the draws of random.sample over a whole list.  None of them has a side
 * effect or runs Python code other than the `getrandbits` given: every
 * dict is checked to be an exact dict before it is read, keys are the
 * interned str constants the caller passes (`names`), and values are only
 * tested for truth or compared when they are exact int/float/bool/None.
 * Anything else returns None ("declined"), and the caller runs LiteLLM's
 * Python loop, which then does exactly what LiteLLM does.
 */
enum {
    K_PARAMS, K_INFO, K_ID, K_TPM, K_RPM, K_API_BASE,
    K_BASE_MODEL, K_MODEL, K_INPUT_COST, K_OUTPUT_COST,
    K_LATENCIES, K_TTFT,
    K_COUNT
};

static int
names_ok(PyObject *names)
{
    if (!PyTuple_CheckExact(names) || PyTuple_GET_SIZE(names) != K_COUNT)
        return 0;
    for (Py_ssize_t i = 0; i < K_COUNT; i++) {
        if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(names, i)))
            return 0;
    }
    return 1;
}

#define NAME(names, k) PyTuple_GET_ITEM((names), (k))

/* records_of(ids, known): [known[id] for id in ids] with None read as a
 * fresh {}, or None when an id is not an exact str, is not known, or its
 * record is neither None nor an exact dict. */
static PyObject *
router_records_of(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_CheckExact(args[0]) || !PyDict_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "records_of(ids: list, known: dict)");
        return NULL;
    }
    PyObject *ids = args[0], *known = args[1];
    Py_ssize_t n = PyList_GET_SIZE(ids);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        PyObject *id = PyList_GET_ITEM(ids, i);
        if (!PyUnicode_CheckExact(id))
            goto declined;
        PyObject *record = PyDict_GetItemWithError(known, id); /* exact str keys: no Python code */
        if (record == NULL) {
            if (PyErr_Occurred())
                Py_CLEAR(out);
            else
                goto declined;
        } else if (record == Py_None) {
            PyObject *empty = PyDict_New();
            if (empty == NULL)
                Py_CLEAR(out);
            else
                PyList_SET_ITEM(out, i, empty);
        } else if (PyDict_CheckExact(record)) {
            Py_INCREF(record);
            PyList_SET_ITEM(out, i, record);
        } else {
            goto declined;
        }
    }
    return out;
declined:
    Py_DECREF(out);
    Py_RETURN_NONE;
}

/* same_ids(ids, previous): whether the list `ids` holds, in order, exact
 * str objects equal to those of the list `previous` (compared by identity,
 * then length, kind and bytes: no Python code runs). */
static PyObject *
router_same_ids(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_CheckExact(args[0]) || !PyList_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "same_ids(ids: list, previous: list)");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(args[0]);
    if (PyList_GET_SIZE(args[1]) != n)
        Py_RETURN_FALSE;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *a = PyList_GET_ITEM(args[0], i), *b = PyList_GET_ITEM(args[1], i);
        if (a == b)
            continue;
        if (!PyUnicode_CheckExact(a) || !PyUnicode_CheckExact(b) || PyUnicode_READY(a) < 0 ||
            PyUnicode_READY(b) < 0)
            Py_RETURN_FALSE;
        Py_ssize_t len = PyUnicode_GET_LENGTH(a);
        int kind = PyUnicode_KIND(a);
        if (len != PyUnicode_GET_LENGTH(b) || kind != PyUnicode_KIND(b) ||
            memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)len * (size_t)kind) != 0)
            Py_RETURN_FALSE;
    }
    Py_RETURN_TRUE;
}

/* Whether every key of an exact dict is an exact str (then a lookup by an
 * exact str runs no Python code, so what it returns stays borrowed safely). */
static int
str_keyed(PyObject *d)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(d, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key))
            return 0;
    }
    return 1;
}

/* *out = d.get(key) (borrowed, NULL when absent); -1 with an exception. */
static int
get_item(PyObject *d, PyObject *key, PyObject **out)
{
    *out = PyDict_GetItemWithError(d, key);
    return (*out == NULL && PyErr_Occurred()) ? -1 : 0;
}

/* index_by_id(deployments, names): {model_info["id"]: deployment}, the last
 * of equal ids kept (keys in first-occurrence order), or None when the
 * list, a deployment or its model_info is not exact, or an id is not an
 * exact str.  The list is re-read each step (a key's __eq__ could run). */
static PyObject *
router_index_by_id(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !names_ok(args[1])) {
        PyErr_SetString(PyExc_TypeError, "index_by_id(deployments, names)");
        return NULL;
    }
    PyObject *list = args[0], *names = args[1];
    if (!PyList_CheckExact(list))
        Py_RETURN_NONE;
    PyObject *by_id = PyDict_New();
    for (Py_ssize_t i = 0; by_id != NULL && i < PyList_GET_SIZE(list); i++) {
        PyObject *d = PyList_GET_ITEM(list, i), *info, *id;
        if (!PyDict_CheckExact(d) || !str_keyed(d))
            goto declined;
        Py_INCREF(d);
        int rc = get_item(d, NAME(names, K_INFO), &info);
        if (rc == 0 && (info == NULL || !PyDict_CheckExact(info) || !str_keyed(info))) {
            Py_DECREF(d);
            goto declined;
        }
        if (rc == 0)
            rc = get_item(info, NAME(names, K_ID), &id);
        if (rc == 0 && (id == NULL || !PyUnicode_CheckExact(id))) {
            Py_DECREF(d);
            goto declined;
        }
        if (rc < 0 || PyDict_SetItem(by_id, id, d) < 0)
            Py_CLEAR(by_id);
        Py_DECREF(d);
    }
    return by_id;
declined:
    Py_DECREF(by_id);
    Py_RETURN_NONE;
}

/* Random._randbelow_with_getrandbits(m) for m >= 1: getrandbits(m.bit_length())
 * until below m.  -1 with an exception. */
static long long
randbelow(PyObject *getrandbits, unsigned long long m)
{
    int k = 0;
    for (unsigned long long v = m; v; v >>= 1)
        k++;
    PyObject *bits = PyLong_FromLong(k);
    if (bits == NULL)
        return -1;
    unsigned long long r;
    do {
        PyObject *got = PyObject_CallOneArg(getrandbits, bits);
        if (got == NULL) {
            Py_DECREF(bits);
            return -1;
        }
        r = PyLong_AsUnsignedLongLong(got);
        Py_DECREF(got);
        if (r == (unsigned long long)-1 && PyErr_Occurred()) {
            Py_DECREF(bits);
            return -1;
        }
    } while (r >= m);
    Py_DECREF(bits);
    return (long long)r;
}

/* sample_all(getrandbits, population): Random.sample(population, len(population))
 * - the pool method, which sample takes whenever k == n - with the same
 * getrandbits calls in the same order. */
static PyObject *
router_sample_all(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyCallable_Check(args[0]) || !PyList_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "sample_all(getrandbits, population: list)");
        return NULL;
    }
    PyObject *pool = PyList_GetSlice(args[1], 0, PyList_GET_SIZE(args[1]));
    if (pool == NULL)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(pool);
    PyObject *result = PyList_New(n);
    for (Py_ssize_t i = 0; result != NULL && i < n; i++) {
        long long j = randbelow(args[0], (unsigned long long)(n - i));
        if (j < 0 || PyList_GET_SIZE(pool) != n) { /* getrandbits is C: the pool is ours alone */
            Py_CLEAR(result);
            break;
        }
        PyObject *item = PyList_GET_ITEM(pool, j), *last = PyList_GET_ITEM(pool, n - i - 1);
        Py_INCREF(item);
        PyList_SET_ITEM(result, i, item);
        Py_INCREF(last);
        PyList_SET_ITEM(pool, j, last);
        Py_DECREF(item);
    }
    Py_DECREF(pool);
    return result;
}

/* sample_then_choose(getrandbits, n, values, latency): the draws of
 * Random.sample(range(n), n) (the pool method) and then of Random.choice
 * over the n sampled, as one pick over n candidates that all pass: the
 * chosen position (an index below n into the population the sample
 * permutes) and, when `values` (a list of n api_base values) is given,
 * {value: latency} for the values that are not None in sampled order.
 * (index, map or None); n >= 1. */
static PyObject *
router_sample_then_choose(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyCallable_Check(args[0]) || !PyLong_CheckExact(args[1]) ||
        (args[2] != Py_None && !PyList_CheckExact(args[2]))) {
        PyErr_SetString(PyExc_TypeError, "sample_then_choose(getrandbits, n, values, latency)");
        return NULL;
    }
    Py_ssize_t n = PyLong_AsSsize_t(args[1]);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (n < 1 || (args[2] != Py_None && PyList_GET_SIZE(args[2]) != n)) {
        PyErr_SetString(PyExc_ValueError, "sample_then_choose: n >= 1 values");
        return NULL;
    }
    Py_ssize_t *pool = PyMem_New(Py_ssize_t, (size_t)n), *order = PyMem_New(Py_ssize_t, (size_t)n);
    PyObject *per_value = NULL, *out = NULL;
    if (pool == NULL || order == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        pool[i] = i;
    for (Py_ssize_t i = 0; i < n; i++) {
        long long j = randbelow(args[0], (unsigned long long)(n - i));
        if (j < 0)
            goto done;
        order[i] = pool[j];
        pool[j] = pool[n - i - 1];
    }
    long long chosen = randbelow(args[0], (unsigned long long)n);
    if (chosen < 0)
        goto done;
    if (args[2] != Py_None) {
        per_value = PyDict_New();
        if (per_value == NULL)
            goto done;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *v = PyList_GET_ITEM(args[2], order[i]);
            if (v != Py_None && PyDict_SetItem(per_value, v, args[3]) < 0)
                goto done;
        }
    }
    out = Py_BuildValue("(nO)", order[chosen], per_value != NULL ? per_value : Py_None);
done:
    PyMem_Free(pool);
    PyMem_Free(order);
    Py_XDECREF(per_value);
    return out;
}

/* A value LiteLLM tests for truth in a limit: 1/0, or -1 when it is not
 * None/int/float/bool (its truth could run code; declined). */
static int
plain_truth(PyObject *v)
{
    if (v == NULL || v == Py_None)
        return 0;
    if (PyLong_CheckExact(v) || PyFloat_CheckExact(v) || PyBool_Check(v))
        return PyObject_IsTrue(v);
    return -1;
}

/* The deployment's tpm/rpm limit: `d.get(k) or params.get(k) or info.get(k)`,
 * NULL (borrowed) for LiteLLM's float("inf"); -1 declined. */
static int
limit_of(PyObject *d, PyObject *params, PyObject *info, PyObject *key, PyObject **out)
{
    PyObject *const from[3] = {d, params, info};
    *out = NULL;
    for (int i = 0; i < 3; i++) {
        PyObject *v = NULL;
        if (from[i] != NULL && get_item(from[i], key, &v) < 0)
            return -1;
        int t = plain_truth(v);
        if (t < 0)
            return -1;
        if (t) {
            *out = v;
            return 0;
        }
    }
    return 0;
}

/* One candidate as LiteLLM's limit-checking scans read it: the deployment
 * of `key` in by_id, its litellm_params (may be absent) and model_info
 * (plain dicts with exact-str keys) and its tpm/rpm limits (NULL: LiteLLM's
 * float("inf")).  1 read, 0 no deployment with that id (LiteLLM skips it),
 * -1 declined (an input the exact Python loop must take), -2 an exception
 * is set. */
typedef struct {
    PyObject *d, *params, *info, *tpm, *rpm; /* borrowed */
    Py_ssize_t cost_group;                   /* a candidate table's cost group, -1 none */
} scan_candidate;

static int
read_candidate(PyObject *by_id, PyObject *key, PyObject *names, scan_candidate *c)
{
    c->cost_group = -1;
    if (!PyUnicode_CheckExact(key))
        return -1;
    if (get_item(by_id, key, &c->d) < 0)
        return -2;
    if (c->d == NULL)
        return 0;
    if (!PyDict_CheckExact(c->d) || !str_keyed(c->d))
        return -1;
    if (get_item(c->d, NAME(names, K_PARAMS), &c->params) < 0 || get_item(c->d, NAME(names, K_INFO), &c->info) < 0)
        return -2;
    if ((c->params != NULL && (!PyDict_CheckExact(c->params) || !str_keyed(c->params))) || c->info == NULL ||
        !PyDict_CheckExact(c->info) || !str_keyed(c->info))
        return -1;
    if (limit_of(c->d, c->params, c->info, NAME(names, K_TPM), &c->tpm) < 0 ||
        limit_of(c->d, c->params, c->info, NAME(names, K_RPM), &c->rpm) < 0)
        return PyErr_Occurred() ? -2 : -1;
    return 1;
}

/* ---- candidate tables (session 16) ----------------------------------------
 *
 * A shared candidate list's records never change while it is shared
 * (strategy_fast._SHARED_LISTS: the read-only selectors only read them), so
 * what read_candidate finds for each of its deployments - the deployment,
 * its litellm_params and model_info, its tpm/rpm limits, every dict found
 * exact with exact-str keys - is found once per list and kept here: a scan
 * over a served-from map then reads, per candidate, one slot look-up instead
 * of three dict walks (16 keys in a Router's records) and six look-ups. */
typedef scan_candidate table_row; /* its references strong (params/tpm/rpm may be NULL);
                                      cost_group: rows of one group price alike (cost_scan) */

typedef struct {
    Py_ssize_t n, groups;
    table_row rows[1];
} candidate_table;

/* An exact None, str, int, float or bool: its (type, value) is a grouping key
 * under which equal values go through lowest_cost's reads and arithmetic alike
 * (equal truthy floats are the same double; a falsy price is never added). */
static int
exact_scalar(PyObject *v)
{
    return v == NULL || v == Py_None || PyUnicode_CheckExact(v) || PyLong_CheckExact(v) || PyFloat_CheckExact(v) ||
           PyBool_Check(v);
}

/* The cost group of a row: what lowest_cost's pricing reads of the deployment
 * (model_info's base_model; litellm_params' base_model, model, own prices and
 * api_base) as a key of `groups`; -1 when one is not an exact scalar, -2 on an
 * error. */
static Py_ssize_t
cost_group_of(PyObject *groups, PyObject *params, PyObject *info, PyObject *names)
{
    static const int from_params[5] = {K_BASE_MODEL, K_MODEL, K_INPUT_COST, K_OUTPUT_COST, K_API_BASE};
    PyObject *values[6] = {NULL};
    if (get_item(info, NAME(names, K_BASE_MODEL), &values[0]) < 0)
        return -2;
    for (int k = 0; k < 5; k++)
        if (params != NULL && get_item(params, NAME(names, from_params[k]), &values[k + 1]) < 0)
            return -2;
    PyObject *key = PyTuple_New(12);
    if (key == NULL)
        return -2;
    for (int k = 0; k < 6; k++) {
        if (!exact_scalar(values[k])) {
            Py_DECREF(key);
            return -1;
        }
        /* absent and None read differently (`.get(k, "")` for api_base): absent is NULL's own marker */
        PyObject *v = values[k] == NULL ? Py_Ellipsis : values[k];
        PyTuple_SET_ITEM(key, 2 * k, Py_NewRef((PyObject *)Py_TYPE(v)));
        PyTuple_SET_ITEM(key, 2 * k + 1, Py_NewRef(v));
    }
    PyObject *found;
    if (get_item(groups, key, &found) < 0) {
        Py_DECREF(key);
        return -2;
    }
    Py_ssize_t g;
    if (found != NULL) {
        g = PyLong_AsSsize_t(found);
    } else {
        g = PyDict_GET_SIZE(groups);
        PyObject *at = PyLong_FromSsize_t(g);
        if (at == NULL || PyDict_SetItem(groups, key, at) < 0)
            g = -2;
        Py_XDECREF(at);
    }
    Py_DECREF(key);
    return g;
}

#define TABLE_CAPSULE "fast_litellm.router.candidate_table"

static void
candidate_table_free(PyObject *capsule)
{
    candidate_table *t = PyCapsule_GetPointer(capsule, TABLE_CAPSULE);
    if (t == NULL) {
        PyErr_Clear();
        return;
    }
    for (Py_ssize_t i = 0; i < t->n; i++) {
        Py_XDECREF(t->rows[i].d);
        Py_XDECREF(t->rows[i].params);
        Py_XDECREF(t->rows[i].info);
        Py_XDECREF(t->rows[i].tpm);
        Py_XDECREF(t->rows[i].rpm);
    }
    PyMem_Free(t);
}

/* candidate_table(by_id, names): (slots, capsule) - slots {id: position}
 * over by_id's keys, the capsule the rows read_candidate reads - or None
 * when a deployment is one read_candidate declines (the scans then read
 * by_id as before). */
static PyObject *
router_candidate_table(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyDict_CheckExact(args[0]) || !names_ok(args[1])) {
        PyErr_SetString(PyExc_TypeError, "candidate_table(by_id: dict, names)");
        return NULL;
    }
    PyObject *by_id = args[0], *names = args[1];
    Py_ssize_t n = PyDict_GET_SIZE(by_id);
    candidate_table *t = PyMem_Malloc(sizeof(candidate_table) + sizeof(table_row) * (size_t)(n > 0 ? n : 1));
    if (t == NULL)
        return PyErr_NoMemory();
    t->n = 0;
    t->groups = 0;
    PyObject *capsule = PyCapsule_New(t, TABLE_CAPSULE, candidate_table_free);
    if (capsule == NULL) {
        PyMem_Free(t);
        return NULL;
    }
    PyObject *slots = PyDict_New(), *groups = PyDict_New(), *out = NULL;
    if (slots == NULL || groups == NULL)
        goto done;
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(by_id, &pos, &key, &value)) {
        if (t->n >= n)
            goto declined; /* by_id changed size: cannot happen without code running */
        scan_candidate c;
        int got = read_candidate(by_id, key, names, &c);
        if (got < 0) {
            if (got == -2 || PyErr_Occurred())
                goto done;
            goto declined;
        }
        if (got == 0 || c.d != value)
            goto declined;
        table_row *row = &t->rows[t->n];
        *row = c;
        Py_INCREF(row->d);
        Py_XINCREF(row->params);
        Py_INCREF(row->info);
        Py_XINCREF(row->tpm);
        Py_XINCREF(row->rpm);
        row->cost_group = cost_group_of(groups, c.params, c.info, names);
        if (row->cost_group == -2) {
            t->n++;
            goto done;
        }
        PyObject *at = PyLong_FromSsize_t(t->n++);
        if (at == NULL || PyDict_SetItem(slots, key, at) < 0) {
            Py_XDECREF(at);
            goto done;
        }
        Py_DECREF(at);
    }
    t->groups = PyDict_GET_SIZE(groups);
    out = PyTuple_Pack(2, slots, capsule);
    goto done;
declined:
    out = Py_NewRef(Py_None);
done:
    Py_XDECREF(slots);
    Py_XDECREF(groups);
    Py_DECREF(capsule);
    return out;
}

/* The table of a scan's `table` argument: 1 with *slots and *t, 0 for None
 * (no table), -1 with an exception for anything else. */
static int
table_of(PyObject *table, PyObject **slots, candidate_table **t)
{
    *slots = NULL;
    *t = NULL;
    if (table == Py_None)
        return 0;
    if (!PyTuple_CheckExact(table) || PyTuple_GET_SIZE(table) != 2 || !PyDict_CheckExact(PyTuple_GET_ITEM(table, 0))) {
        PyErr_SetString(PyExc_TypeError, "table: (slots, capsule) from candidate_table, or None");
        return -1;
    }
    *t = PyCapsule_GetPointer(PyTuple_GET_ITEM(table, 1), TABLE_CAPSULE);
    if (*t == NULL)
        return -1;
    *slots = PyTuple_GET_ITEM(table, 0);
    return 1;
}

/* read_candidate through a table when there is one (the same answers: the
 * table was read from this by_id, and its records do not change). */
static int
table_candidate(PyObject *by_id, PyObject *slots, const candidate_table *t, PyObject *key, PyObject *names,
                scan_candidate *c)
{
    if (t == NULL)
        return read_candidate(by_id, key, names, c);
    if (!PyUnicode_CheckExact(key))
        return -1;
    PyObject *slot;
    if (get_item(slots, key, &slot) < 0)
        return -2;
    if (slot == NULL)
        return 0;
    Py_ssize_t at = PyLong_AsSsize_t(slot);
    if (at < 0 || at >= t->n) {
        PyErr_Clear();
        return -1;
    }
    *c = t->rows[at]; /* borrowed from the table's strong references */
    return 1;
}

/* `used + 0 > limit` as LiteLLM compares (limit NULL: infinity, never). */
static int
over(PyObject *used, PyObject *limit)
{
    return limit == NULL ? 0 : PyObject_RichCompareBool(used, limit, Py_GT);
}

/* LiteLLM's limit test of a candidate in the latency and cost loops,
 * `tpm_used + input_tokens > tpm_limit or rpm_used + 1 > rpm_limit` (the
 * used counts borrowed): 1 over, 0 within, -1 error. */
static int
over_limits(PyObject *tpm_used, PyObject *rpm_used, PyObject *tokens, PyObject *one, PyObject *tpm, PyObject *rpm)
{
    PyObject *tpm_total = PyNumber_Add(tpm_used, tokens);
    PyObject *rpm_total = tpm_total == NULL ? NULL : PyNumber_Add(rpm_used, one);
    int skip = rpm_total == NULL ? -1 : over(tpm_total, tpm);
    if (skip == 0)
        skip = over(rpm_total, rpm);
    Py_XDECREF(tpm_total);
    Py_XDECREF(rpm_total);
    return skip;
}

#define FL_EXACT_INT_MAX 9007199254740992LL /* 2**53 */

/* ---- the limit test on plain numbers (session 16) ------------------------
 *
 * LiteLLM's `used + input_tokens > tpm_limit or rpm_used + 1 > rpm_limit`
 * made without number objects when every operand is an exact float, a bool
 * or an exact int within 2**53: int + int stays an int (|sum| <= 2**54, no
 * overflow), int + float is (double)int + float (CPython converts an int
 * within 2**53 to a double exactly), and a comparison of an int with a float
 * is made on doubles only while the int is within 2**53, where the double is
 * the int itself (Python compares int and float exactly).  NaN compares False
 * both ways.  Anything else: the objects' own arithmetic (over_limits). */
typedef struct {
    int is_int;
    long long i;
    double d;
} plain_number;

static int
plain_number_of(PyObject *v, plain_number *out)
{
    if (PyFloat_CheckExact(v)) {
        out->is_int = 0;
        out->d = PyFloat_AS_DOUBLE(v);
        return 1;
    }
    if (PyLong_CheckExact(v) || PyBool_Check(v)) {
        int overflow = 0;
        long long i = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow || i > FL_EXACT_INT_MAX || i < -FL_EXACT_INT_MAX)
            return 0;
        out->is_int = 1;
        out->i = i;
        return 1;
    }
    return 0;
}

/* `a + b > limit` (limit NULL: LiteLLM's float("inf"), never): 1 / 0, or -1
 * when it cannot be decided here (the caller uses the objects). */
static int
plain_over(const plain_number *a, const plain_number *b, PyObject *limit)
{
    if (limit == NULL)
        return 0;
    plain_number l, s;
    if (!plain_number_of(limit, &l))
        return -1;
    if (a->is_int && b->is_int) {
        s.is_int = 1;
        s.i = a->i + b->i;
    } else {
        s.is_int = 0;
        s.d = (a->is_int ? (double)a->i : a->d) + (b->is_int ? (double)b->i : b->d);
    }
    if (s.is_int && l.is_int)
        return s.i > l.i;
    if (s.is_int) {
        if (s.i > FL_EXACT_INT_MAX || s.i < -FL_EXACT_INT_MAX)
            return -1;
        return (double)s.i > l.d;
    }
    return s.d > (l.is_int ? (double)l.i : l.d);
}

/* over_limits without objects when every number is plain, else over_limits. */
static int
over_limits_plain(PyObject *tpm_used, PyObject *rpm_used, PyObject *tokens, PyObject *one, PyObject *tpm,
                  PyObject *rpm)
{
    plain_number t, r, k, u = {1, 1, 0.0};
    if (plain_number_of(tpm_used, &t) && plain_number_of(rpm_used, &r) && plain_number_of(tokens, &k)) {
        int over_tpm = plain_over(&t, &k, tpm);
        if (over_tpm == 1)
            return 1;
        if (over_tpm == 0) {
            int over_rpm = plain_over(&r, &u, rpm);
            if (over_rpm >= 0)
                return over_rpm;
        }
    }
    return over_limits(tpm_used, rpm_used, tokens, one, tpm, rpm);
}

/* latency_fresh(keys, by_id, names, input_tokens, latency, report): LiteLLM's
 * latency scan over a map it would fill with unseen entries (latency
 * `latency`, no tpm/rpm used this minute), in the order of `keys`:
 * (kept deployments, {api_base: latency} when report else None), or None
 * (declined). */
static PyObject *
router_latency_fresh(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6 || !PyList_CheckExact(args[0]) || !PyDict_CheckExact(args[1]) || !names_ok(args[2]) ||
        !PyLong_CheckExact(args[3])) {
        PyErr_SetString(PyExc_TypeError, "latency_fresh(keys, by_id, names, input_tokens: int, latency, report)");
        return NULL;
    }
    PyObject *keys = args[0], *by_id = args[1], *names = args[2], *tokens = args[3], *latency = args[4];
    int report = PyObject_IsTrue(args[5]);
    if (report < 0)
        return NULL;
    PyObject *one = PyLong_FromLong(1), *empty = PyUnicode_FromStringAndSize("", 0);
    PyObject *kept = PyList_New(0);
    PyObject *per_base = report ? PyDict_New() : (Py_INCREF(Py_None), Py_None);
    PyObject *out = NULL;
    if (one == NULL || empty == NULL || kept == NULL || per_base == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(keys); i++) {
        scan_candidate c;
        int got = read_candidate(by_id, PyList_GET_ITEM(keys, i), names, &c);
        if (got == 0)
            continue; /* LiteLLM: no deployment with that id */
        if (got < 0)
            goto failed;
        PyObject *d = c.d, *params = c.params, *tpm = c.tpm, *rpm = c.rpm, *base;
        if (report) {
            base = NULL;
            if (params != NULL && get_item(params, NAME(names, K_API_BASE), &base) < 0)
                goto done;
            if (base == NULL)
                base = empty; /* LiteLLM's .get("api_base", "") */
            if (base != Py_None && !PyUnicode_CheckExact(base))
                goto declined;
            if (base != Py_None && PyDict_SetItem(per_base, base, latency) < 0)
                goto done;
        }
        int skip = over(tokens, tpm);
        if (skip == 0)
            skip = over(one, rpm);
        if (skip < 0)
            goto done;
        if (!skip && PyList_Append(kept, d) < 0)
            goto done;
    }
    out = PyTuple_Pack(2, kept, per_base);
    goto done;
failed:
    if (PyErr_Occurred())
        goto done;
declined:
    Py_INCREF(Py_None);
    out = Py_None;
done:
    Py_XDECREF(one);
    Py_XDECREF(empty);
    Py_XDECREF(kept);
    Py_XDECREF(per_base);
    return out;
}

/* Rows of the cost map already found str-keyed in this call. */
typedef struct {
    PyObject *rows[16];
    int count;
} row_memo;

/* _as_rate(v): float(v) for an exact int or float, None for anything but an
 * int/float subclass (declined: -1 without an exception).  New reference. */
static int
as_rate(PyObject *v, PyObject **out)
{
    *out = NULL;
    if (v != NULL && PyFloat_CheckExact(v)) {
        Py_INCREF(v);
        *out = v;
        return 0;
    }
    if (v != NULL && PyLong_CheckExact(v)) {
        double x = PyLong_AsDouble(v);
        if (x == -1.0 && PyErr_Occurred()) {
            PyErr_Clear(); /* float(huge int) raises: LiteLLM's loop does it */
            return -1;
        }
        *out = PyFloat_FromDouble(x);
        return *out == NULL ? -2 : 0;
    }
    if (v != NULL && !PyBool_Check(v) && (PyLong_Check(v) || PyFloat_Check(v)))
        return -1;
    Py_INCREF(Py_None);
    *out = Py_None;
    return 0;
}

/* ---- LiteLLM's AliasedCostEntry rows ---------------------------------------
 *
 * LiteLLM 1.110.2 serves a cost-map row that has aliases, or that a Router
 * registered for a deployment (every deployment whose model is in the map),
 * as an AliasedCostEntry: a dict subclass with two slots (names,
 * registered_fields) and no method of its own but __init__.  lowest_cost
 * reads a row through deployment_pricing.str_keyed: pydantic's dict
 * validation of a dict subclass calls the row's items() and copies what it
 * yields into a new dict (keys validated as str), then .get on that copy.
 * So a row of exactly the class the Python side found at build (`entry`) is
 * read here as an exact dict - the same storage items() walks, looked up by
 * exact-str keys - only while that class's reads are dict's own
 * (entry_reads_plain): its type is `type`, its MRO exactly (class, dict,
 * object), none of ENTRY_READS in its own dict (dict and object cannot be
 * changed), attribute look-up, iteration and length slots dict's.  A
 * verdict is kept with the class's version tag (replaced by CPython on any
 * change to the class or its bases: assignment, deletion, __bases__), so a
 * class patched after the check is checked again; a subclass of it is
 * another type and declines.
 */
static const char *const ENTRY_READS[] = {
    "items", "keys", "values", "get", "__getitem__", "__contains__", "__missing__", "__iter__",
    "__len__", "__getattribute__", "__getattr__", "__class_getitem__", "__init_subclass__", "copy", NULL,
};

static PyTypeObject *entry_verified_type; /* not owned: only compared, with its tag */
static unsigned int entry_verified_tag;

static unsigned int
type_tag(PyTypeObject *tp)
{
#if PY_VERSION_HEX < 0x030C0000
    if (!(tp->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG))
        return 0;
#endif
    return tp->tp_version_tag; /* 0: none (unassigned or invalidated) */
}

/* 1: a row of type tp is read as an exact dict, 0: not, -1 error. */
static int
entry_reads_plain(PyTypeObject *tp)
{
    unsigned int tag = type_tag(tp);
    if (tag != 0 && tp == entry_verified_type && tag == entry_verified_tag)
        return 1;
    PyObject *mro = tp->tp_mro, *own = tp->tp_dict;
    if (Py_TYPE(tp) != &PyType_Type || !(tp->tp_flags & Py_TPFLAGS_HEAPTYPE) || tp->tp_base != &PyDict_Type ||
        mro == NULL || !PyTuple_CheckExact(mro) || PyTuple_GET_SIZE(mro) != 3 ||
        PyTuple_GET_ITEM(mro, 0) != (PyObject *)tp || PyTuple_GET_ITEM(mro, 1) != (PyObject *)&PyDict_Type ||
        PyTuple_GET_ITEM(mro, 2) != (PyObject *)&PyBaseObject_Type || own == NULL || !PyDict_CheckExact(own) ||
        tp->tp_getattro != PyDict_Type.tp_getattro || tp->tp_iter != PyDict_Type.tp_iter ||
        tp->tp_as_mapping == NULL || tp->tp_as_mapping->mp_length != PyDict_Type.tp_as_mapping->mp_length)
        return 0; /* (mp_subscript and sq_contains of any dict subclass are the generic slot functions, which
                   * call __getitem__ / __contains__ as found on the MRO: dict's methods, checked by name below) */
    static PyObject *read_names[sizeof(ENTRY_READS) / sizeof(ENTRY_READS[0])]; /* interned, kept */
    for (int i = 0; ENTRY_READS[i] != NULL; i++) {
        if (read_names[i] == NULL && (read_names[i] = PyUnicode_InternFromString(ENTRY_READS[i])) == NULL)
            return -1;
        int has = PyDict_Contains(own, read_names[i]);
        if (has != 0)
            return has < 0 ? -1 : 0;
    }
    /* a look-up through the type's method cache gives it a version tag when it
     * has none (CPython assigns tags lazily); it runs no Python code */
    (void)_PyType_Lookup(tp, read_names[0]);
    tag = type_tag(tp); /* read after the check: nothing ran in between */
    if (tag != 0) {
        entry_verified_type = tp;
        entry_verified_tag = tag;
    }
    return 1;
}

/* Whether row is read as an exact dict: an exact dict, or an instance of
 * exactly `entry` (NULL: none) while entry_reads_plain holds; -1 error. */
static int
row_is_plain(PyObject *row, PyObject *entry)
{
    if (PyDict_CheckExact(row))
        return 1;
    if (entry == NULL || (PyObject *)Py_TYPE(row) != entry)
        return 0;
    return entry_reads_plain(Py_TYPE(row));
}

/* router_entry_row(value, entry): value is an exact dict, or an instance of
 * exactly `entry` whose reads are dict's own (entry_reads_plain), and every
 * key is an exact str: what lowest_cost's str_keyed copy of it holds is then
 * the dict's own contents (the Python pick's rows). */
static PyObject *
router_entry_row(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "entry_row(value, entry)");
        return NULL;
    }
    PyObject *entry = args[1] == Py_None ? NULL : args[1];
    if (entry != NULL && !PyType_Check(entry))
        Py_RETURN_FALSE;
    int plain = row_is_plain(args[0], entry);
    if (plain < 0)
        return NULL;
    return PyBool_FromLong(plain && str_keyed(args[0]));
}

/* lowest_cost's _deployment_cost_map_rates for plain dicts: the first
 * pricing model (base_model, then model; distinct non-empty str) whose
 * cost-map row declares a token price.  0 with *in and *out (new references,
 * NULL for none), -1 declined, -2 error. */
static int
map_rates(PyObject *names, PyObject *cost_map, PyObject *params, PyObject *info, PyObject *entry, row_memo *memo,
          PyObject **in, PyObject **out)
{
    PyObject *base = NULL, *model = NULL;
    *in = *out = NULL;
    if (get_item(info, NAME(names, K_BASE_MODEL), &base) < 0)
        return -2;
    int t = base == NULL ? 0 : (PyUnicode_CheckExact(base) ? PyUnicode_GET_LENGTH(base) > 0 : plain_truth(base));
    if (t < 0)
        return -1;
    if (!t) {
        base = NULL;
        if (params != NULL && get_item(params, NAME(names, K_BASE_MODEL), &base) < 0)
            return -2;
    }
    if (params != NULL && get_item(params, NAME(names, K_MODEL), &model) < 0)
        return -2;
    PyObject *candidates[2] = {base, model};
    for (int i = 0; i < 2; i++) {
        PyObject *name = candidates[i];
        if (name == NULL || !PyUnicode_Check(name))
            continue; /* not a str: not a pricing model */
        if (!PyUnicode_CheckExact(name))
            return -1;
        if (PyUnicode_GET_LENGTH(name) == 0 || (i == 1 && base != NULL && PyUnicode_CheckExact(base) &&
                                                 PyUnicode_Compare(base, name) == 0))
            continue;
        PyObject *row;
        if (get_item(cost_map, name, &row) < 0)
            return -2;
        if (row == NULL || row == Py_None)
            continue; /* an empty view */
        int plain = row_is_plain(row, entry); /* checked at each read: a class patched mid-scan is seen */
        if (plain <= 0)
            return plain < 0 ? -2 : -1;
        int known = 0;
        for (int m = 0; m < memo->count; m++)
            known |= memo->rows[m] == row;
        if (!known) {
            if (!str_keyed(row))
                return -1;
            if (memo->count < 16)
                memo->rows[memo->count++] = row;
        }
        PyObject *a, *b;
        if (get_item(row, NAME(names, K_INPUT_COST), &a) < 0 || get_item(row, NAME(names, K_OUTPUT_COST), &b) < 0)
            return -2;
        if ((a == NULL || a == Py_None) && (b == NULL || b == Py_None))
            continue;
        int rc = as_rate(a, in);
        if (rc == 0)
            rc = as_rate(b, out);
        if (rc < 0) {
            Py_CLEAR(*in);
            Py_CLEAR(*out);
        }
        return rc;
    }
    return 0;
}

/* `params.get(key) or None`, then the map's rate, then 5.0: a new reference,
 * NULL with -1 (declined) / -2 (error) in *rc. */
static PyObject *
unit_cost(PyObject *params, PyObject *key, PyObject *rate, int *rc)
{
    PyObject *own = NULL;
    *rc = 0;
    if (params != NULL && get_item(params, key, &own) < 0) {
        *rc = -2;
        return NULL;
    }
    int t = plain_truth(own);
    if (t < 0) {
        *rc = -1;
        return NULL;
    }
    PyObject *cost = t ? own : (rate != NULL && rate != Py_None ? rate : NULL);
    if (cost == NULL)
        return PyFloat_FromDouble(5.0);
    Py_INCREF(cost);
    return cost;
}

/* *out = item_map.get(minute, {}).get(key, 0) (new reference); -1 declined. */
static int
used_of(PyObject *names, PyObject *per_minute, PyObject *key, PyObject *zero, PyObject **out)
{
    PyObject *v = NULL;
    *out = NULL;
    if (per_minute != NULL && get_item(per_minute, key, &v) < 0)
        return -2;
    if (v == NULL)
        v = zero;
    else if (!PyLong_CheckExact(v) && !PyFloat_CheckExact(v) && !PyBool_Check(v))
        return -1;
    Py_INCREF(v);
    *out = v;
    (void)names;
    return 0;
}

/* cost_scan(keys, maps, by_id, names, cost_map, minute, input_tokens, table,
 * entry): lowest_cost's loop over (keys[i], maps[i]) (maps None: a map it
 * would fill with unseen entries, no usage), for plain dicts (cost-map rows:
 * exact dicts, or exactly `entry` - LiteLLM's AliasedCostEntry - while its
 * reads are dict's own) and int/float values:
 * (the pick or None, None) when the costs are ordered (no NaN: the first
 * lowest is what sorted()[0] gives), else (None, [(deployment, cost)]) for
 * the caller to sort; None declined.  Session 16: a shared list's deployments
 * are read from its candidate table (None: from by_id), limits are tested on
 * plain numbers, and the pairs are made only when a NaN cost needs them. */
typedef struct {
    PyObject *d;    /* borrowed (by_id holds it) */
    PyObject *cost; /* new reference */
} cost_row;

static PyObject *
router_cost_scan(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 9 || !PyList_CheckExact(args[0]) || (args[1] != Py_None && !PyList_CheckExact(args[1])) ||
        !PyDict_CheckExact(args[2]) || !names_ok(args[3]) || !PyDict_CheckExact(args[4]) ||
        !PyUnicode_CheckExact(args[5]) || !PyLong_CheckExact(args[6]) ||
        (args[8] != Py_None && !PyType_Check(args[8]))) {
        PyErr_SetString(PyExc_TypeError, "cost_scan(keys, maps, by_id, names, cost_map: dict, minute: str, "
                                         "input_tokens: int, table, entry: type | None)");
        return NULL;
    }
    PyObject *keys = args[0], *maps = args[1], *by_id = args[2], *names = args[3], *cost_map = args[4];
    PyObject *entry = args[8] == Py_None ? NULL : args[8];
    PyObject *minute = args[5], *tokens = args[6], *slots;
    candidate_table *table;
    if (table_of(args[7], &slots, &table) < 0)
        return NULL;
    if (maps != Py_None && PyList_GET_SIZE(maps) != PyList_GET_SIZE(keys))
        Py_RETURN_NONE;
    row_memo memo = {{NULL}, 0};
    Py_ssize_t n = PyList_GET_SIZE(keys), m = 0;
    cost_row *rows = PyMem_New(cost_row, (size_t)(n > 0 ? n : 1));
    Py_ssize_t groups = table != NULL ? table->groups : 0;
    PyObject **group_cost = PyMem_Calloc((size_t)(groups > 0 ? groups : 1), sizeof(PyObject *));
    PyObject *zero = PyLong_FromLong(0), *one = PyLong_FromLong(1);
    PyObject *best = NULL, *best_cost = NULL, *out = NULL;
    int ordered = 1, rc = 0;
    if (rows == NULL || group_cost == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (zero == NULL || one == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *key = PyList_GET_ITEM(keys, i);
        scan_candidate c;
        int got = table_candidate(by_id, slots, table, key, names, &c);
        if (got == 0)
            continue; /* LiteLLM: no deployment with that id */
        if (got < 0)
            goto failed;
        PyObject *d = c.d, *params = c.params, *info = c.info, *tpm = c.tpm, *rpm = c.rpm, *cost;
        Py_ssize_t g = c.cost_group;
        if (g >= 0 && group_cost[g] != NULL) {
            /* priced like an earlier candidate of its group (same reads, same values) */
            cost = Py_NewRef(group_cost[g]);
        } else {
            PyObject *base = NULL; /* LiteLLM keys a debug map by it: it must hash */
            if (params != NULL && get_item(params, NAME(names, K_API_BASE), &base) < 0)
                goto done;
            if (base != NULL && base != Py_None && !PyUnicode_CheckExact(base))
                goto declined;
            PyObject *rate_in, *rate_out;
            if ((rc = map_rates(names, cost_map, params, info, entry, &memo, &rate_in, &rate_out)) < 0)
                goto failed;
            PyObject *cost_in = unit_cost(params, NAME(names, K_INPUT_COST), rate_in, &rc), *cost_out = NULL;
            if (cost_in != NULL)
                cost_out = unit_cost(params, NAME(names, K_OUTPUT_COST), rate_out, &rc);
            Py_XDECREF(rate_in);
            Py_XDECREF(rate_out);
            cost = cost_out == NULL ? NULL : PyNumber_Add(cost_in, cost_out);
            Py_XDECREF(cost_in);
            Py_XDECREF(cost_out);
            if (cost == NULL) {
                if (rc == 0)
                    rc = -2;
                goto failed;
            }
            if (g >= 0)
                group_cost[g] = Py_NewRef(cost);
        }
        PyObject *per_minute = NULL, *tpm_used = NULL, *rpm_used = NULL;
        if (maps != Py_None) {
            PyObject *item_map = PyList_GET_ITEM(maps, i);
            if (!PyDict_CheckExact(item_map)) {
                Py_DECREF(cost);
                goto declined;
            }
            if (get_item(item_map, minute, &per_minute) < 0) {
                Py_DECREF(cost);
                goto done;
            }
            if (per_minute != NULL && !PyDict_CheckExact(per_minute)) {
                Py_DECREF(cost);
                goto declined;
            }
        }
        if ((rc = used_of(names, per_minute, NAME(names, K_RPM), zero, &rpm_used)) < 0 ||
            (rc = used_of(names, per_minute, NAME(names, K_TPM), zero, &tpm_used)) < 0) {
            Py_XDECREF(rpm_used);
            Py_DECREF(cost);
            goto failed;
        }
        int skip = over_limits_plain(tpm_used, rpm_used, tokens, one, tpm, rpm);
        Py_DECREF(tpm_used);
        Py_DECREF(rpm_used);
        if (skip < 0) {
            Py_DECREF(cost);
            goto done;
        }
        if (skip) {
            Py_DECREF(cost);
            continue;
        }
        if (PyFloat_CheckExact(cost) && isnan(PyFloat_AS_DOUBLE(cost)))
            ordered = 0;
        if (ordered) {
            int lower = best_cost == NULL ? 1 : PyObject_RichCompareBool(cost, best_cost, Py_LT);
            if (lower < 0) {
                Py_DECREF(cost);
                goto done;
            }
            if (lower) {
                Py_INCREF(cost);
                Py_XSETREF(best_cost, cost);
                best = d;
            }
        }
        rows[m].d = d;
        rows[m++].cost = cost;
    }
    if (ordered) {
        out = Py_BuildValue("(OO)", best != NULL ? best : Py_None, Py_None);
    } else {
        PyObject *pairs = PyList_New(m);
        for (Py_ssize_t j = 0; pairs != NULL && j < m; j++) {
            PyObject *pair = PyTuple_Pack(2, rows[j].d, rows[j].cost);
            if (pair == NULL)
                Py_CLEAR(pairs);
            else
                PyList_SET_ITEM(pairs, j, pair);
        }
        if (pairs != NULL) {
            out = Py_BuildValue("(OO)", Py_None, pairs);
            Py_DECREF(pairs);
        }
    }
    goto done;
failed:
    if (rc == -2 || PyErr_Occurred())
        goto done;
declined:
    Py_INCREF(Py_None);
    out = Py_None;
done:
    for (Py_ssize_t j = 0; rows != NULL && j < m; j++)
        Py_DECREF(rows[j].cost);
    for (Py_ssize_t j = 0; group_cost != NULL && j < groups; j++)
        Py_XDECREF(group_cost[j]);
    PyMem_Free(group_cost);
    PyMem_Free(rows);
    Py_XDECREF(zero);
    Py_XDECREF(one);
    Py_XDECREF(best_cost);
    return out;
}

/* lowest_latency's _usable_latency_samples: the samples that are finite
 * and >= 0, as a new tuple; NULL with -1 in *rc when a sample is not an
 * exact float/int/bool or an int too large for a float (declined), -2 on
 * an error.  `samples` absent: (). */
static PyObject *
usable_samples(PyObject *samples, int *rc)
{
    *rc = 0;
    if (samples == NULL)
        return PyTuple_New(0);
    if (!PyList_CheckExact(samples) && !PyTuple_CheckExact(samples)) {
        *rc = -1;
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(samples), kept = 0;
    PyObject *out = PyTuple_New(n);
    if (out == NULL) {
        *rc = -2;
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PySequence_Fast_GET_ITEM(samples, i);
        double x;
        if (PyFloat_CheckExact(v)) {
            x = PyFloat_AS_DOUBLE(v);
        } else if (PyLong_CheckExact(v) || PyBool_Check(v)) {
            x = PyLong_AsDouble(v);
            if (x == -1.0 && PyErr_Occurred()) {
                PyErr_Clear();
                Py_DECREF(out);
                *rc = -1;
                return NULL;
            }
        } else {
            Py_DECREF(out);
            *rc = -1;
            return NULL;
        }
        if (isfinite(x) && x >= 0) { /* an int's sign is its float's */
            Py_INCREF(v);
            PyTuple_SET_ITEM(out, kept++, v);
        }
    }
    if (kept < n && _PyTuple_Resize(&out, kept) < 0) {
        *rc = -2;
        return NULL;
    }
    return out;
}

/* _percentile_latency(samples, p): sorted(samples)[ceil(len * p) - 1] for
 * usable (finite, non-NaN) exact numbers: a stable insertion sort with
 * `<`, as sorted() orders them.  p must be finite (the caller checks).
 * Borrowed from `samples`; NULL on error. */
static PyObject *
percentile_of(PyObject *samples, double p)
{
    Py_ssize_t n = PyTuple_GET_SIZE(samples);
    PyObject **v = PyMem_New(PyObject *, (size_t)(n > 0 ? n : 1));
    if (v == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *x = PyTuple_GET_ITEM(samples, i);
        Py_ssize_t j = i;
        while (j > 0) {
            int lt = PyObject_RichCompareBool(x, v[j - 1], Py_LT);
            if (lt < 0) {
                PyMem_Free(v);
                return NULL;
            }
            if (!lt)
                break;
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
    /* values[ceil(len * p) - 1] on a list: negative indexes count from the end */
    double at = ceil((double)n * p) - 1;
    PyObject *out = NULL;
    if (at >= -(double)n && at < (double)n)
        out = v[(Py_ssize_t)at + (at < 0 ? n : 0)];
    else
        PyErr_SetString(PyExc_IndexError, "list index out of range");
    PyMem_Free(v);
    return out;
}

/* ---- the builtin sum of latency samples, natively (session 16) -------------
 *
 * lowest_latency's `_average_latency(_usable_latency_samples(samples))` is
 * `sum(t) / len(t)` over the samples that are finite and >= 0.  The builtin
 * sum's arithmetic (Python/bltinmodule.c, builtin_sum_impl) for what is taken
 * here - exact floats and exact ints within 2**53, no bool, no subclass:
 *   - it starts from the int 0 and adds ints exactly (a C long) while the items
 *     are ints; the first float x makes `int + float`, i.e. (double)total + x,
 *     and from there it adds floats as doubles and ints as (double)value;
 *   - up to 3.11 a float is added with `f += x`; from 3.12 with Neumaier's
 *     compensation (`t = f + x; c += |f| >= |x| ? (f - t) + x : (x - t) + f;
 *     f = t`), ints still with `f += (double)value`, and at the end `f += c`
 *     when c is non-zero and finite;
 *   - an all-int total stays an int: `int / len` is then (double)total / len
 *     (both exact in a double: CPython's long_true_divide takes that path).
 * 3.12.0 and versions after 3.13 are not taken (FL_SUM_KIND 0: the caller
 * calls the real sum); the Python side also compares this with the builtin
 * on crafted lists before it uses it (strategy_fast._Sampler-style self-test).
 */
#if PY_VERSION_HEX < 0x030C0000
#define FL_SUM_KIND 1 /* left to right */
#elif PY_VERSION_HEX >= 0x030C0100 && PY_VERSION_HEX < 0x030E0000
#define FL_SUM_KIND 2 /* Neumaier-compensated floats */
#else
#define FL_SUM_KIND 0 /* not verified: decline */
#endif

/* 1 when `sum` is the interpreter's builtin sum (a C function named "sum"
 * bound to the builtins module), 0 if not. */
static int
is_builtin_sum(PyObject *sum)
{
    if (!PyCFunction_CheckExact(sum))
        return 0;
    PyCFunctionObject *f = (PyCFunctionObject *)sum;
    if (f->m_ml == NULL || f->m_ml->ml_name == NULL || strcmp(f->m_ml->ml_name, "sum") != 0)
        return 0;
    PyObject *self = f->m_self;
    if (self == NULL || !PyModule_CheckExact(self))
        return 0;
    const char *name = PyModule_GetName(self);
    if (name == NULL) {
        PyErr_Clear();
        return 0;
    }
    return strcmp(name, "builtins") == 0;
}

/* _average_latency(_usable_latency_samples(samples)) for an exact list or
 * tuple of exact floats and exact ints within 2**53 (`samples` absent: no
 * samples, 0.0): 0 with *out, -1 declined (anything else; the caller takes
 * the general path, which calls the real sum).  Reads each item once, runs
 * no Python code, allocates nothing. */
static int
average_latency(PyObject *samples, double *out)
{
#if FL_SUM_KIND == 0
    (void)samples;
    (void)out;
    return -1;
#else
    if (samples == NULL) {
        *out = 0.0;
        return 0;
    }
    if (!PyList_CheckExact(samples) && !PyTuple_CheckExact(samples))
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(samples), count = 0;
    PyObject **items = PySequence_Fast_ITEMS(samples);
    long long total = 0;
    int floating = 0;
    double f = 0.0, c = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = items[i];
        if (PyFloat_CheckExact(v)) {
            double x = PyFloat_AS_DOUBLE(v);
            if (!isfinite(x) || !(x >= 0))
                continue; /* not usable */
            count++;
            if (!floating) {
                f = (double)total + x; /* int + float */
                floating = 1;
                continue;
            }
#if FL_SUM_KIND == 2
            double t = f + x;
            if (fabs(f) >= fabs(x))
                c += (f - t) + x;
            else
                c += (x - t) + f;
            f = t;
#else
            f += x;
#endif
        } else if (PyLong_CheckExact(v)) {
            int overflow = 0;
            long long b = PyLong_AsLongLongAndOverflow(v, &overflow);
            if (overflow || b > FL_EXACT_INT_MAX || b < -FL_EXACT_INT_MAX)
                return -1;
            if (b < 0)
                continue; /* not usable */
            count++;
            if (floating) {
                f += (double)b;
            } else {
                total += b;
                if (total > FL_EXACT_INT_MAX)
                    return -1;
            }
        } else {
            return -1; /* a bool, a subclass, anything else */
        }
    }
    if (count == 0) {
        *out = 0.0;
        return 0;
    }
    if (!floating) {
        *out = (double)total / (double)count;
        return 0;
    }
#if FL_SUM_KIND == 2
    if (c != 0.0 && isfinite(c))
        f += c;
#endif
    (void)c;
    *out = f / (double)count;
    return 0;
#endif
}

/* latency_average(samples): what average_latency computes, as a float, or
 * None when it declines (tests and the Python side's self-test). */
static PyObject *
router_latency_average(PyObject *module, PyObject *samples)
{
    double x;
    if (average_latency(samples, &x) < 0)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(x);
}

/* ---- lowest_latency's ranking (session 16) --------------------------------
 *
 * `ranked = sorted(pairs, key=lambda x: x[1])`, `lowest = ranked[0][1]`,
 * `within = tuple(x for x in ranked if x[1] <= lowest + buffer * lowest)` for
 * latencies that are doubles, none NaN (then `<` is a total preorder and
 * sorted's stable order is (latency, position)), and a buffer coefficient that
 * is an exact float or an exact int within 2**53 (float * int multiplies by
 * the int as a double, exactly).  */
typedef struct {
    double latency;
    Py_ssize_t at;
} ranked_pair;

static int
ranked_before(const ranked_pair *a, const ranked_pair *b)
{
    return a->latency < b->latency || (!(b->latency < a->latency) && a->at < b->at);
}

static int
ranked_compare(const void *a, const void *b)
{
    return ranked_before(a, b) ? -1 : (ranked_before(b, a) ? 1 : 0);
}

/* The coefficient as a double: 1, or 0 when it is not plain. */
static int
buffer_coefficient(PyObject *coefficient, double *out)
{
    if (PyFloat_CheckExact(coefficient)) {
        *out = PyFloat_AS_DOUBLE(coefficient);
        return 1;
    }
    if (PyLong_CheckExact(coefficient)) {
        int overflow = 0;
        long long b = PyLong_AsLongLongAndOverflow(coefficient, &overflow);
        if (overflow || b > FL_EXACT_INT_MAX || b < -FL_EXACT_INT_MAX)
            return 0;
        *out = (double)b;
        return 1;
    }
    return 0;
}

/* The positions of values[0..n) (n > 0, no NaN) within the buffer of the
 * lowest, in (value, position) order, into order (room for n): how many
 * (0: none is, the caller draws from all as LiteLLM does), -1 no memory. */
static Py_ssize_t
within_order(const double *values, Py_ssize_t n, double coefficient, ranked_pair **order)
{
    double lowest = values[0];
    for (Py_ssize_t i = 1; i < n; i++)
        if (values[i] < lowest)
            lowest = values[i]; /* the first of the lowest: sorted's first */
    double threshold = lowest + coefficient * lowest;
    Py_ssize_t kept = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        kept += values[i] <= threshold;
    *order = NULL;
    if (kept == 0)
        return 0;
    *order = PyMem_New(ranked_pair, (size_t)kept);
    if (*order == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t m = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (values[i] <= threshold) {
            (*order)[m].latency = values[i];
            (*order)[m++].at = i;
        }
    }
    if (kept > 1)
        qsort(*order, (size_t)kept, sizeof(ranked_pair), ranked_compare);
    return kept;
}

/* latency_within(pairs, buffer): the within tuple above of the same pair
 * objects, for an exact list of exact (deployment, latency) 2-tuples with
 * exact float latencies, none NaN; None for no pairs, an empty within (the
 * caller draws from all) or anything else (the caller sorts as LiteLLM). */
static PyObject *
router_latency_within(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "latency_within(pairs, buffer)");
        return NULL;
    }
    PyObject *pairs = args[0];
    double coefficient;
    if (!buffer_coefficient(args[1], &coefficient) || !PyList_CheckExact(pairs) || PyList_GET_SIZE(pairs) == 0)
        Py_RETURN_NONE;
    Py_ssize_t n = PyList_GET_SIZE(pairs);
    double *values = PyMem_New(double, (size_t)n);
    if (values == NULL)
        return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pair = PyList_GET_ITEM(pairs, i);
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2 || !PyFloat_CheckExact(PyTuple_GET_ITEM(pair, 1)) ||
            isnan(PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(pair, 1)))) {
            PyMem_Free(values);
            Py_RETURN_NONE;
        }
        values[i] = PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(pair, 1));
    }
    ranked_pair *order;
    Py_ssize_t kept = within_order(values, n, coefficient, &order);
    PyMem_Free(values);
    if (kept <= 0) {
        if (kept < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    PyObject *out = PyTuple_New(kept);
    for (Py_ssize_t j = 0; out != NULL && j < kept; j++) {
        PyObject *pair = PyList_GET_ITEM(pairs, order[j].at);
        Py_INCREF(pair);
        PyTuple_SET_ITEM(out, j, pair);
    }
    PyMem_Free(order);
    return out;
}

/* latency_scan(keys, counts, by_id, names, minute, input_tokens, streaming,
 * percentile, report, sum, native_sum, buffer, table, positions):
 * lowest_latency's loop over a map the cache held (every key already has an
 * entry), for exact dicts and numbers: (within, pairs, {api_base: latency}
 * when report else None), or None (declined).  The candidates are taken in
 * the order `positions` gives (bytes of native uint32 indexes into `keys`:
 * random.sample's order as router_sample_positions draws it), or in the order
 * of `keys` when it is None.  `within` is the ranking above of the kept
 * candidates as a tuple of new (deployment, latency) pairs, when `buffer`
 * (LiteLLM's lowest_latency_buffer, or None: not read yet) is plain, every
 * latency a double and some candidate within; `pairs` is then None.
 * Otherwise within is None and pairs is [(deployment, latency)] in order (the
 * caller ranks them as LiteLLM does).  `sum` is the builtin the average uses;
 * with native_sum true and `sum` the interpreter's builtin, an entry's
 * average is made by average_latency (no call, no tuple) when it takes the
 * entry's samples, else through `sum`.
 *
 * Session 16: the entries are read in the order of `keys` (the map's own
 * order, roughly the order its objects were made in, so memory is read
 * mostly forwards: after a stock pick has swept the caches this halves the
 * scan) and each entry's outcome kept; the candidates are then taken in
 * sampled order.  What LiteLLM does per candidate in sampled order (the
 * api_base map, the candidate list) is done in that order; an entry this
 * declines or fails on makes the whole scan decline or fail, whatever its
 * place (the caller then runs LiteLLM's order).  Nothing is allocated per
 * candidate, limits are tested on plain numbers, and a shared list's
 * deployments are read from its candidate table (None: from by_id). */
typedef struct {
    PyObject *d;       /* borrowed (by_id holds it); NULL: no deployment with that id */
    PyObject *params;  /* borrowed */
    PyObject *latency; /* new reference, or NULL: `value` is the latency */
    double value;
    int kept; /* within its limits */
} scan_row;

static PyObject *
latency_value(const scan_row *row)
{
    return row->latency != NULL ? Py_NewRef(row->latency) : PyFloat_FromDouble(row->value);
}

static PyObject *
latency_pair(const scan_row *row)
{
    PyObject *x = latency_value(row);
    if (x == NULL)
        return NULL;
    PyObject *pair = PyTuple_Pack(2, row->d, x);
    Py_DECREF(x);
    return pair;
}

/* One entry of the map: rows[j] filled; 0 done, -1 declined, -2 error. */
static int
latency_entry(PyObject *key, PyObject *counts, PyObject *by_id, PyObject *slots, const candidate_table *table,
              PyObject *names, PyObject *minute, PyObject *tokens, PyObject *zero, PyObject *one, int streaming,
              PyObject *percentile, PyObject *sum, int native_sum, scan_row *row)
{
    scan_candidate c;
    row->d = NULL;
    row->latency = NULL;
    int got = table_candidate(by_id, slots, table, key, names, &c);
    if (got == 0)
        return 0; /* LiteLLM: no deployment with that id */
    if (got < 0)
        return got;
    PyObject *item_map;
    if (get_item(counts, key, &item_map) < 0)
        return -2;
    if (item_map == NULL || !PyDict_CheckExact(item_map) || !str_keyed(item_map))
        return -1;
    PyObject *latencies, *ttft, *per_minute;
    if (get_item(item_map, NAME(names, K_LATENCIES), &latencies) < 0 ||
        get_item(item_map, NAME(names, K_TTFT), &ttft) < 0 || get_item(item_map, minute, &per_minute) < 0)
        return -2;
    if (per_minute != NULL && (!PyDict_CheckExact(per_minute) || !str_keyed(per_minute)))
        return -1;
    PyObject *rpm_used = NULL, *tpm_used = NULL;
    int rc;
    if ((rc = used_of(names, per_minute, NAME(names, K_RPM), zero, &rpm_used)) < 0 ||
        (rc = used_of(names, per_minute, NAME(names, K_TPM), zero, &tpm_used)) < 0) {
        Py_XDECREF(rpm_used);
        return rc;
    }
    PyObject *latency = NULL;
    double average = 0.0, unused;
    int plain = 0;
    rc = 0;
    if (native_sum && !streaming && (ttft == NULL || average_latency(ttft, &unused) == 0) &&
        average_latency(latencies, &average) == 0) {
        /* not streaming: the ttft samples are only filtered (average_latency took
         * them: the filter cannot raise), the latency samples averaged */
        plain = 1;
    } else {
        PyObject *ttft_samples = usable_samples(ttft, &rc);
        if (ttft_samples != NULL) {
            int use_ttft = streaming && PyTuple_GET_SIZE(ttft_samples) > 0;
            if (use_ttft && percentile != Py_None) {
                latency = percentile_of(ttft_samples, PyFloat_AS_DOUBLE(percentile));
                Py_XINCREF(latency);
                if (latency == NULL)
                    rc = -2;
            } else {
                PyObject *samples = use_ttft ? Py_NewRef(ttft_samples) : usable_samples(latencies, &rc);
                if (samples != NULL && PyTuple_GET_SIZE(samples) == 0) {
                    latency = PyFloat_FromDouble(0.0);
                } else if (samples != NULL) {
                    PyObject *total = PyObject_CallOneArg(sum, samples);
                    PyObject *count = PyLong_FromSsize_t(PyTuple_GET_SIZE(samples));
                    latency = total != NULL && count != NULL ? PyNumber_TrueDivide(total, count) : NULL;
                    Py_XDECREF(total);
                    Py_XDECREF(count);
                }
                if (samples != NULL && latency == NULL)
                    rc = -2;
                Py_XDECREF(samples);
            }
            Py_DECREF(ttft_samples);
        }
    }
    int skip = rc != 0 ? rc : ((plain || latency != NULL) ? over_limits_plain(tpm_used, rpm_used, tokens, one, c.tpm, c.rpm)
                                                         : -2);
    Py_DECREF(tpm_used);
    Py_DECREF(rpm_used);
    if (skip < 0) {
        Py_XDECREF(latency);
        return (rc == -1) ? -1 : -2;
    }
    row->d = c.d;
    row->params = c.params;
    row->latency = latency;
    row->value = latency == NULL ? average : (PyFloat_CheckExact(latency) ? PyFloat_AS_DOUBLE(latency) : NAN);
    row->kept = !skip;
    return 0;
}

static PyObject *
router_latency_scan(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 14 || !PyList_CheckExact(args[0]) || !PyDict_CheckExact(args[1]) || !PyDict_CheckExact(args[2]) ||
        !names_ok(args[3]) || !PyUnicode_CheckExact(args[4]) || !PyLong_CheckExact(args[5]) ||
        (args[7] != Py_None && !PyFloat_CheckExact(args[7])) || !PyCallable_Check(args[9]) ||
        (args[13] != Py_None && !PyBytes_CheckExact(args[13]))) {
        PyErr_SetString(PyExc_TypeError, "latency_scan(keys, counts, by_id, names, minute, input_tokens, streaming, "
                                         "percentile, report, sum, native_sum, buffer, table, positions)");
        return NULL;
    }
    PyObject *keys = args[0], *counts = args[1], *by_id = args[2], *names = args[3], *minute = args[4];
    PyObject *tokens = args[5], *sum = args[9], *slots;
    candidate_table *table;
    if (table_of(args[12], &slots, &table) < 0)
        return NULL;
    int streaming = PyObject_IsTrue(args[6]), report = PyObject_IsTrue(args[8]);
    int native_sum = PyObject_IsTrue(args[10]);
    if (streaming < 0 || report < 0 || native_sum < 0)
        return NULL;
    native_sum = native_sum && is_builtin_sum(sum);
    double coefficient = 0.0;
    int rank = args[11] != Py_None && buffer_coefficient(args[11], &coefficient);
    Py_ssize_t n = PyList_GET_SIZE(keys), filled = 0, m = 0;
    const uint32_t *positions = NULL;
    if (args[13] != Py_None) {
        if (PyBytes_GET_SIZE(args[13]) != n * (Py_ssize_t)sizeof(uint32_t)) {
            PyErr_SetString(PyExc_ValueError, "latency_scan: positions do not match the keys");
            return NULL;
        }
        positions = (const uint32_t *)PyBytes_AS_STRING(args[13]);
        for (Py_ssize_t p = 0; p < n; p++) {
            if ((Py_ssize_t)positions[p] >= n) {
                PyErr_SetString(PyExc_ValueError, "latency_scan: a position is out of range");
                return NULL;
            }
        }
    }
    scan_row *rows = PyMem_New(scan_row, (size_t)(n > 0 ? n : 1));
    double *values = PyMem_New(double, (size_t)(n > 0 ? n : 1));
    Py_ssize_t *kept_at = PyMem_New(Py_ssize_t, (size_t)(n > 0 ? n : 1));
    PyObject *zero = PyLong_FromLong(0), *one = PyLong_FromLong(1), *empty = PyUnicode_FromStringAndSize("", 0);
    PyObject *per_base = report ? PyDict_New() : Py_NewRef(Py_None);
    PyObject *out = NULL;
    if (rows == NULL || values == NULL || kept_at == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (zero == NULL || one == NULL || empty == NULL || per_base == NULL)
        goto done;
    /* the map's entries in the order of `keys`; nothing here runs Python code
     * but the general path's `sum`, which is the builtin on a new tuple */
    for (; filled < n; filled++) {
        int rc = latency_entry(PyList_GET_ITEM(keys, filled), counts, by_id, slots, table, names, minute, tokens, zero,
                               one, streaming, args[7], sum, native_sum, &rows[filled]);
        if (rc == -1)
            goto declined;
        if (rc < 0)
            goto done;
    }
    /* the candidates in sampled order */
    for (Py_ssize_t p = 0; p < n; p++) {
        const scan_row *row = &rows[positions != NULL ? (Py_ssize_t)positions[p] : p];
        if (row->d == NULL)
            continue;
        if (report) {
            PyObject *base = NULL;
            if (row->params != NULL && get_item(row->params, NAME(names, K_API_BASE), &base) < 0)
                goto done;
            if (base == NULL)
                base = empty;
            if (base != Py_None && !PyUnicode_CheckExact(base))
                goto declined;
            if (base != Py_None) {
                PyObject *value = latency_value(row);
                int set = value == NULL ? -1 : PyDict_SetItem(per_base, base, value);
                Py_XDECREF(value);
                if (set < 0)
                    goto done;
            }
        }
        if (!row->kept)
            continue;
        if (isnan(row->value))
            rank = 0; /* an int percentile or a NaN: LiteLLM's comparisons */
        values[m] = row->value;
        kept_at[m++] = row - rows;
    }
    if (rank && m > 0) {
        ranked_pair *order;
        Py_ssize_t kept = within_order(values, m, coefficient, &order);
        if (kept < 0)
            goto done;
        if (kept > 0) {
            PyObject *within = PyTuple_New(kept);
            for (Py_ssize_t j = 0; within != NULL && j < kept; j++) {
                PyObject *pair = latency_pair(&rows[kept_at[order[j].at]]);
                if (pair == NULL)
                    Py_CLEAR(within);
                else
                    PyTuple_SET_ITEM(within, j, pair);
            }
            PyMem_Free(order);
            if (within == NULL)
                goto done;
            out = PyTuple_Pack(3, within, Py_None, per_base);
            Py_DECREF(within);
            goto done;
        }
    }
    PyObject *pairs = PyList_New(m);
    for (Py_ssize_t j = 0; pairs != NULL && j < m; j++) {
        PyObject *pair = latency_pair(&rows[kept_at[j]]);
        if (pair == NULL)
            Py_CLEAR(pairs);
        else
            PyList_SET_ITEM(pairs, j, pair);
    }
    if (pairs == NULL)
        goto done;
    out = PyTuple_Pack(3, Py_None, pairs, per_base);
    Py_DECREF(pairs);
    goto done;
declined:
    out = Py_NewRef(Py_None);
done:
    for (Py_ssize_t j = 0; rows != NULL && j < filled; j++)
        Py_XDECREF(rows[j].latency);
    PyMem_Free(rows);
    PyMem_Free(values);
    PyMem_Free(kept_at);
    Py_XDECREF(zero);
    Py_XDECREF(one);
    Py_XDECREF(empty);
    Py_XDECREF(per_base);
    return out;
}

/* sample_positions(getrandbits, n): the indexes random.sample(population, n)
 * takes from a population of n, in its order (router_sample_all's draws), as
 * bytes of native uint32; the caller's population is read at those indexes. */
static PyObject *
router_sample_positions(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyCallable_Check(args[0]) || !PyLong_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "sample_positions(getrandbits, n: int)");
        return NULL;
    }
    Py_ssize_t n = PyLong_AsSsize_t(args[1]);
    if (n < 0 || n > (Py_ssize_t)UINT32_MAX) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "sample_positions: n out of range");
        return NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(uint32_t));
    uint32_t *pool = PyMem_New(uint32_t, (size_t)(n > 0 ? n : 1));
    if (out == NULL || pool == NULL) {
        Py_XDECREF(out);
        PyMem_Free(pool);
        return pool == NULL ? PyErr_NoMemory() : NULL;
    }
    uint32_t *result = (uint32_t *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n; i++)
        pool[i] = (uint32_t)i;
    for (Py_ssize_t i = 0; i < n; i++) {
        long long j = randbelow(args[0], (unsigned long long)(n - i));
        if (j < 0) {
            Py_CLEAR(out);
            break;
        }
        result[i] = pool[j];
        pool[j] = pool[n - i - 1];
    }
    PyMem_Free(pool);
    return out;
}

/* take(values, positions): [values[p] for p in positions] (the sample
 * router_sample_positions drew), for an exact list. */
static PyObject *
router_take(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_CheckExact(args[0]) || !PyBytes_CheckExact(args[1]) ||
        PyBytes_GET_SIZE(args[1]) % (Py_ssize_t)sizeof(uint32_t) != 0) {
        PyErr_SetString(PyExc_TypeError, "take(values: list, positions: bytes)");
        return NULL;
    }
    Py_ssize_t n = PyBytes_GET_SIZE(args[1]) / (Py_ssize_t)sizeof(uint32_t);
    const uint32_t *positions = (const uint32_t *)PyBytes_AS_STRING(args[1]);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        if ((Py_ssize_t)positions[i] >= PyList_GET_SIZE(args[0])) {
            Py_CLEAR(out);
            PyErr_SetString(PyExc_IndexError, "take: a position is out of range");
            break;
        }
        PyList_SET_ITEM(out, i, Py_NewRef(PyList_GET_ITEM(args[0], positions[i])));
    }
    return out;
}

/* all_known(deployments, counts, names): whether every deployment's
 * model_info["id"] is already a key of `counts` (so LiteLLM's loop that
 * gives unseen ids a zero entry adds nothing), for exact dicts with exact
 * str keys; False when not certain (the caller runs that loop). */
static PyObject *
router_all_known(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !names_ok(args[2])) {
        PyErr_SetString(PyExc_TypeError, "all_known(deployments, counts, names)");
        return NULL;
    }
    PyObject *list = args[0], *counts = args[1], *names = args[2];
    if (!PyList_CheckExact(list) || !PyDict_CheckExact(counts) || !str_keyed(counts))
        Py_RETURN_FALSE;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        PyObject *d = PyList_GET_ITEM(list, i), *info, *id;
        if (!PyDict_CheckExact(d) || !str_keyed(d))
            Py_RETURN_FALSE;
        if (get_item(d, NAME(names, K_INFO), &info) < 0)
            return NULL;
        if (info == NULL || !PyDict_CheckExact(info) || !str_keyed(info))
            Py_RETURN_FALSE;
        if (get_item(info, NAME(names, K_ID), &id) < 0)
            return NULL;
        if (id == NULL || !PyUnicode_CheckExact(id))
            Py_RETURN_FALSE;
        int known = PyDict_Contains(counts, id);
        if (known < 0)
            return NULL;
        if (!known)
            Py_RETURN_FALSE;
    }
    Py_RETURN_TRUE;
}

/* ---- usage-based-routing-v2 (fast_litellm/routing/selector_fast.py) -------
 *
 * LiteLLM's LowestTPMLoggingHandler_v2 reads `<id>:<model>:tpm:<HH-MM>` /
 * `...:rpm:...` counters for its candidates and keeps the least-used ones
 * that stay within their limits.  The two functions below do that over exact
 * dicts with exact-str keys and numbers that are exact floats, bools or ints
 * within 2**53 (so every sum and comparison is Python's, made on builtin
 * numbers, and none can raise); anything else is declined (None) and the
 * caller runs LiteLLM's Python code.
 */
#define USAGE_INT_MAX (1LL << 53)

/* 1 when v is a number the usage scan takes (or None when none_ok), 0 if not. */
static int
usage_number(PyObject *v, int none_ok)
{
    if (v == Py_None)
        return none_ok;
    if (PyFloat_CheckExact(v) || PyBool_Check(v))
        return 1;
    if (!PyLong_CheckExact(v))
        return 0;
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow || (x == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    return x <= USAGE_INT_MAX && x >= -USAGE_INT_MAX;
}

/* *out = d.get(key) for an exact dict with exact-str keys that may be absent
 * (d NULL): borrowed, NULL when absent. */
static int
usage_get(PyObject *d, PyObject *key, PyObject **out)
{
    *out = NULL;
    return d == NULL ? 0 : get_item(d, key, out);
}

/* f"{value}" for a value usage_counter_keys formats: an exact str is itself,
 * None (or absent) is "None"; NULL for anything else (declined). */
static PyObject *
usage_text(PyObject *value, PyObject *none)
{
    if (value == NULL || value == Py_None)
        return none;
    return PyUnicode_CheckExact(value) ? value : NULL;
}

/* Whether o is read as a plain dict: an exact dict, or an instance of exactly
 * `entry` (a dict subclass whose reads are dict's own: LiteLLM's
 * _HostedEntry overrides only its writers), with exact-str keys. */
static int
usage_dict(PyObject *o, PyObject *entry)
{
    return (PyDict_CheckExact(o) || (entry != NULL && (PyObject *)Py_TYPE(o) == entry)) && str_keyed(o);
}

/* A candidate's inner dict (litellm_params / model_info) read as a plain
 * dict (usage_dict; entry NULL: an exact dict only): 1 read (NULL when
 * absent), 0 declined, -1 error. */
static int
usage_inner_of(PyObject *d, PyObject *key, PyObject *entry, PyObject **out)
{
    if (get_item(d, key, out) < 0)
        return -1;
    return *out == NULL || usage_dict(*out, entry);
}

/* a + b + c + d as one new str (the parts exact strs). */
static PyObject *
usage_join(PyObject *const parts[4])
{
    Py_ssize_t len = 0;
    Py_UCS4 top = 127;
    for (int i = 0; i < 4; i++) {
        len += PyUnicode_GET_LENGTH(parts[i]);
        Py_UCS4 most = PyUnicode_MAX_CHAR_VALUE(parts[i]);
        top = most > top ? most : top;
    }
    PyObject *s = PyUnicode_New(len, top);
    Py_ssize_t at = 0;
    for (int i = 0; s != NULL && i < 4; i++) {
        if (PyUnicode_CopyCharacters(s, at, parts[i], 0, PyUnicode_GET_LENGTH(parts[i])) < 0)
            Py_CLEAR(s);
        else
            at += PyUnicode_GET_LENGTH(parts[i]);
    }
    return s;
}

#if FL_HAVE_STAMPS
/* The kept prefixes of the last call (session 21), when `list` holds the very
 * rows they were read from and neither a row nor its model_info /
 * litellm_params dict has changed since: each is still an exact dict or an
 * `entry` (their reads dict's) and holds the version tag it had then (PEP 509:
 * any write to a dict, a subclass's too, gives it a new tag; so its keys are
 * still exact strs and the id and model the same objects).  kept: (objects:
 * (row, info or None, params or None) per row, tags: bytes, prefixes: tuple).
 * A new list of the prefixes, or NULL (no exception): not kept. */
static PyObject *
usage_prefixes_kept(PyObject *list, PyObject *kept, PyObject *entry)
{
    if (!PyTuple_CheckExact(kept) || PyTuple_GET_SIZE(kept) != 3)
        return NULL;
    PyObject *objects = PyTuple_GET_ITEM(kept, 0), *tags = PyTuple_GET_ITEM(kept, 1);
    PyObject *prefixes = PyTuple_GET_ITEM(kept, 2);
    Py_ssize_t n = PyList_GET_SIZE(list);
    if (!PyTuple_CheckExact(objects) || !PyBytes_CheckExact(tags) || !PyTuple_CheckExact(prefixes) ||
        PyTuple_GET_SIZE(objects) != 3 * n || PyBytes_GET_SIZE(tags) != 3 * n * 8 || PyTuple_GET_SIZE(prefixes) != n)
        return NULL;
    const char *at = PyBytes_AS_STRING(tags);
    for (Py_ssize_t i = 0; i < 3 * n; i++) {
        PyObject *d = PyTuple_GET_ITEM(objects, i);
        if (i % 3 == 0 && PyList_GET_ITEM(list, i / 3) != d)
            return NULL;
        if (d == Py_None)
            continue;
        if (!PyDict_CheckExact(d) && (entry == NULL || (PyObject *)Py_TYPE(d) != entry))
            return NULL;
        uint64_t tag = dict_tag(d);
        if (memcmp(at + i * 8, &tag, 8) != 0)
            return NULL;
    }
    return PySequence_List(prefixes);
}

/* kept for usage_prefixes_kept: the rows of `list` (read by router_usage_prefixes
 * just now, accepted), their inner dicts and tags, with `prefixes`; NULL on error. */
static PyObject *
usage_prefixes_keep(PyObject *list, PyObject *prefixes, PyObject *names)
{
    Py_ssize_t n = PyList_GET_SIZE(list);
    PyObject *objects = PyTuple_New(3 * n), *tags = PyBytes_FromStringAndSize(NULL, 3 * n * 8);
    PyObject *texts = PyList_AsTuple(prefixes), *kept = NULL;
    if (objects == NULL || tags == NULL || texts == NULL)
        goto done;
    char *at = PyBytes_AS_STRING(tags);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *d = PyList_GET_ITEM(list, i), *inner[2] = {NULL, NULL};
        if (get_item(d, NAME(names, K_INFO), &inner[0]) < 0 || get_item(d, NAME(names, K_PARAMS), &inner[1]) < 0)
            goto done;
        PyObject *const row[3] = {d, inner[0], inner[1]};
        for (int k = 0; k < 3; k++) {
            PyObject *o = row[k] == NULL ? Py_None : row[k];
            uint64_t tag = o == Py_None ? 0 : dict_tag(o);
            Py_INCREF(o);
            PyTuple_SET_ITEM(objects, 3 * i + k, o);
            memcpy(at + (3 * i + k) * 8, &tag, 8);
        }
    }
    kept = PyTuple_Pack(3, objects, tags, texts);
done:
    Py_XDECREF(objects);
    Py_XDECREF(tags);
    Py_XDECREF(texts);
    return kept;
}
#endif

/* usage_prefixes(deployments, names, entry[, box]): usage_counter_keys' prefixes
 * [f"{id}:{model}" ...] for a list of exact dicts (or instances of exactly
 * `entry`, a dict subclass that reads as dict; None for none), or None
 * (declined).  box: an exact list of one item where the last call's prefixes
 * are kept with what they were read from (usage_prefixes_kept; CPython <=
 * 3.11, whose dicts carry version tags): a call over the same unchanged rows
 * hands them out again without reading the rows. */
static PyObject *
router_usage_prefixes(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 3 || nargs > 4 || !names_ok(args[1]) ||
        (args[2] != Py_None && !(PyType_Check(args[2]) && PyType_IsSubtype((PyTypeObject *)args[2], &PyDict_Type))) ||
        (nargs == 4 && !(PyList_CheckExact(args[3]) && PyList_GET_SIZE(args[3]) == 1))) {
        PyErr_SetString(PyExc_TypeError, "usage_prefixes(deployments, names, entry[, box])");
        return NULL;
    }
    PyObject *list = args[0], *names = args[1], *entry = args[2] == Py_None ? NULL : args[2];
    PyObject *box = nargs == 4 ? args[3] : NULL;
    if (!PyList_CheckExact(list))
        Py_RETURN_NONE;
#if FL_HAVE_STAMPS
    if (box != NULL) {
        PyObject *again = usage_prefixes_kept(list, PyList_GET_ITEM(box, 0), entry);
        if (again != NULL || PyErr_Occurred())
            return again;
    }
#endif
    PyObject *none = PyUnicode_InternFromString("None"), *colon = PyUnicode_InternFromString(":");
    PyObject *empty = PyUnicode_New(0, 0);
    Py_ssize_t n = PyList_GET_SIZE(list);
    PyObject *prefixes = PyList_New(n), *result = NULL;
    if (none == NULL || colon == NULL || empty == NULL || prefixes == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *d = PyList_GET_ITEM(list, i), *info = NULL, *params = NULL, *id = NULL, *model = NULL;
        if (!usage_dict(d, entry))
            goto declined;
        int rc = usage_inner_of(d, NAME(names, K_INFO), entry, &info);
        if (rc > 0)
            rc = usage_inner_of(d, NAME(names, K_PARAMS), entry, &params);
        if (rc == 0)
            goto declined;
        if (rc < 0 || usage_get(info, NAME(names, K_ID), &id) < 0 ||
            usage_get(params, NAME(names, K_MODEL), &model) < 0)
            goto done;
        PyObject *id_text = usage_text(id, none), *model_text = usage_text(model, none);
        if (id_text == NULL || model_text == NULL)
            goto declined;
        PyObject *const parts[4] = {id_text, colon, model_text, empty};
        PyObject *prefix = usage_join(parts);
        if (prefix == NULL)
            goto done;
        PyList_SET_ITEM(prefixes, i, prefix);
    }
#if FL_HAVE_STAMPS
    if (box != NULL) {
        PyObject *kept = usage_prefixes_keep(list, prefixes, names);
        if (kept == NULL)
            goto done;
        PyList_SetItem(box, 0, kept); /* steals kept; drops the last */
    }
#else
    (void)box;
#endif
    result = prefixes;
    prefixes = NULL;
    goto done;
declined:
    result = Py_None;
    Py_INCREF(result);
done:
    Py_XDECREF(prefixes);
    Py_XDECREF(none);
    Py_XDECREF(colon);
    Py_XDECREF(empty);
    return result;
}

/* usage_keys(prefixes, tpm_tail, rpm_tail): ([p + tpm_tail ...], [p + rpm_tail ...])
 * for a list of exact strs. */
static PyObject *
router_usage_keys(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyList_CheckExact(args[0]) || !PyUnicode_CheckExact(args[1]) ||
        !PyUnicode_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "usage_keys(prefixes, tpm_tail, rpm_tail)");
        return NULL;
    }
    PyObject *list = args[0], *empty = PyUnicode_New(0, 0), *result = NULL;
    Py_ssize_t n = PyList_GET_SIZE(list);
    PyObject *tpm = PyList_New(n), *rpm = PyList_New(n);
    if (empty == NULL || tpm == NULL || rpm == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *prefix = PyList_GET_ITEM(list, i);
        if (!PyUnicode_CheckExact(prefix)) {
            PyErr_SetString(PyExc_TypeError, "usage_keys: prefixes must be str");
            goto done;
        }
        PyObject *const t_parts[4] = {prefix, args[1], empty, empty}, *const r_parts[4] = {prefix, args[2], empty, empty};
        PyObject *t = usage_join(t_parts);
        if (t == NULL)
            goto done;
        PyList_SET_ITEM(tpm, i, t);
        PyObject *r = usage_join(r_parts);
        if (r == NULL)
            goto done;
        PyList_SET_ITEM(rpm, i, r);
    }
    result = PyTuple_Pack(2, tpm, rpm);
done:
    Py_XDECREF(empty);
    Py_XDECREF(tpm);
    Py_XDECREF(rpm);
    return result;
}

/* `key.split(":")[0]` of an exact str (new reference); where key is one of
 * usage_counter_keys' for the candidate at the same position of `healthy`
 * (NULL: none), when the key's text before its first ':' is that
 * candidate's id (an exact str), the id object itself (an equal str, its
 * hash cached), else the substring. */
static PyObject *
usage_id_at(PyObject *key, PyObject *healthy, Py_ssize_t i, PyObject *names)
{
    Py_ssize_t at = PyUnicode_FindChar(key, ':', 0, PyUnicode_GET_LENGTH(key), 1);
    if (at == -2)
        return NULL;
    if (at < 0) {
        Py_INCREF(key);
        return key;
    }
    PyObject *info, *id = NULL;
    if (healthy != NULL && i < PyList_GET_SIZE(healthy) &&
        get_item(PyList_GET_ITEM(healthy, i), NAME(names, K_INFO), &info) == 0 && info != NULL &&
        get_item(info, NAME(names, K_ID), &id) == 0 && id != NULL && PyUnicode_GET_LENGTH(id) == at &&
        PyUnicode_Tailmatch(key, id, 0, at, -1) == 1) {
        Py_INCREF(id);
        return id;
    }
    if (PyErr_Occurred())
        return NULL;
    return PyUnicode_Substring(key, 0, at);
}

/* Whether keys (an exact list of exact strs) and values (an exact list or
 * tuple at least as long, of None or usage numbers) are covered. */
static int
usage_counts_covered(PyObject *keys, PyObject *values)
{
    if (!PyList_CheckExact(keys) || !(PyList_CheckExact(values) || PyTuple_CheckExact(values)) ||
        PySequence_Fast_GET_SIZE(values) < PyList_GET_SIZE(keys))
        return 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(keys); i++) {
        if (!PyUnicode_CheckExact(PyList_GET_ITEM(keys, i)) ||
            !usage_number(PySequence_Fast_GET_ITEM(values, i), 1))
            return 0;
    }
    return 1;
}

/* {key.split(":")[0]: values[i]} over covered keys and values (healthy: the
 * accepted candidates, whose ids the keys usually start with); -1 error, 1
 * filled (into *out, new). */
static int
usage_counts(PyObject *keys, PyObject *values, PyObject *healthy, PyObject *names, PyObject **out)
{
    PyObject *counts = PyDict_New();
    *out = NULL;
    if (counts == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(keys); i++) {
        PyObject *id = usage_id_at(PyList_GET_ITEM(keys, i), healthy, i, names);
        if (id == NULL || PyDict_SetItem(counts, id, PySequence_Fast_GET_ITEM(values, i)) < 0) {
            Py_XDECREF(id);
            Py_DECREF(counts);
            return -1;
        }
        Py_DECREF(id);
    }
    *out = counts;
    return 1;
}

/* LiteLLM's v2 limit: d["k"], else litellm_params["k"], else model_info["k"]
 * (the first that is not None; absent reads None), else NULL (infinity).
 * 0 declined (not a usage number), 1 read, -1 error. */
static int
usage_limit(PyObject *d, PyObject *params, PyObject *info, PyObject *key, PyObject **out)
{
    PyObject *const from[3] = {d, params, info};
    *out = NULL;
    for (int i = 0; i < 3; i++) {
        PyObject *v;
        if (usage_get(from[i], key, &v) < 0)
            return -1;
        if (v != NULL && v != Py_None) {
            *out = v;
            return usage_number(v, 0);
        }
    }
    return 1;
}

/* Both limits of a candidate (usage_limit for tpm, then rpm). */
static int
usage_limit_pair(PyObject *d, PyObject *params, PyObject *info, PyObject *names, PyObject **tpm, PyObject **rpm)
{
    int rc = usage_limit(d, params, info, NAME(names, K_TPM), tpm);
    return rc > 0 ? usage_limit(d, params, info, NAME(names, K_RPM), rpm) : rc;
}

/* A candidate of the usage scan: exact dict with exact-str keys, model_info an
 * exact dict with an exact-str id, litellm_params absent or an exact dict, and
 * usage-number limits.  1 read, 0 declined, -1 error. */
static int
usage_candidate(PyObject *d, PyObject *names, PyObject **id, PyObject **tpm, PyObject **rpm)
{
    PyObject *info = NULL, *params = NULL;
    if (!PyDict_CheckExact(d) || !str_keyed(d))
        return 0;
    int rc = usage_inner_of(d, NAME(names, K_INFO), NULL, &info);
    if (rc > 0)
        rc = usage_inner_of(d, NAME(names, K_PARAMS), NULL, &params);
    if (rc <= 0)
        return rc;
    if (info == NULL || get_item(info, NAME(names, K_ID), id) < 0)
        return info == NULL ? 0 : -1;
    if (*id == NULL || !PyUnicode_CheckExact(*id))
        return 0;
    return usage_limit_pair(d, params, info, names, tpm, rpm);
}

/* A candidate's id and limits, once usage_candidate has accepted it in this
 * same call (no Python code has run since: its dicts are as checked). */
static int
usage_limits(PyObject *d, PyObject *names, PyObject **tpm, PyObject **rpm)
{
    PyObject *info = NULL, *params = NULL;
    if (get_item(d, NAME(names, K_INFO), &info) < 0 || get_item(d, NAME(names, K_PARAMS), &params) < 0)
        return -1;
    return usage_limit_pair(d, params, info, names, tpm, rpm);
}

/* 1 when `a OP b` with b NULL read as float("inf"); -1 error. */
static int
usage_compare(PyObject *a, PyObject *b, PyObject *inf, int op)
{
    return PyObject_RichCompareBool(a, b == NULL ? inf : b, op);
}

/* Whether the candidate is over its limits at `used` tpm (+ input_tokens)
 * and `requests` rpm (NULL / None: not counted): 1 over, 0 within, -1 error. */
static int
usage_over(PyObject *used, PyObject *input_tokens, PyObject *requests, PyObject *tpm, PyObject *rpm, PyObject *inf,
           PyObject *one)
{
    PyObject *sum = PyNumber_Add(used, input_tokens);
    if (sum == NULL)
        return -1;
    int over = usage_compare(sum, tpm, inf, Py_GT);
    Py_DECREF(sum);
    if (over != 0 || requests == NULL || requests == Py_None)
        return over;
    PyObject *next = PyNumber_Add(requests, one);
    if (next == NULL)
        return -1;
    over = usage_compare(next, rpm, inf, Py_GE);
    Py_DECREF(next);
    return over;
}

/* One candidate of _return_potential_deployments' loop (d found, its count
 * `used` not None; `requested` its rpm count, NULL / None when not counted):
 * skipped over its limits, else added to *potential at a tie with *lowest or
 * made the new *lowest with a fresh [d].  0 done, -1 error. */
static int
usage_step(PyObject *d, PyObject *used, PyObject *requested, PyObject *input_tokens, PyObject *names, PyObject *inf,
           PyObject *one, PyObject **lowest, PyObject **potential)
{
    PyObject *tpm, *rpm;
    if (usage_limits(d, names, &tpm, &rpm) <= 0)
        return -1;
    int over = usage_over(used, input_tokens, requested, tpm, rpm, inf, one);
    if (over != 0)
        return over < 0 ? -1 : 0;
    int same = PyObject_RichCompareBool(used, *lowest, Py_EQ);
    if (same < 0)
        return -1;
    if (same)
        return PyList_Append(*potential, d);
    int less = PyObject_RichCompareBool(used, *lowest, Py_LT);
    if (less <= 0)
        return less;
    PyObject *fresh = PyList_New(1);
    if (fresh == NULL)
        return -1;
    Py_INCREF(d);
    PyList_SET_ITEM(fresh, 0, d);
    Py_SETREF(*potential, fresh);
    Py_INCREF(used);
    Py_SETREF(*lowest, used);
    return 0;
}

/* The scan of _return_potential_deployments over all_deployments (counts,
 * zero-filled) with {id: last deployment} and the rpm counts, for candidates
 * usage_candidate accepted in this call: a new list, or NULL (error). */
static PyObject *
usage_lowest(PyObject *healthy, PyObject *counts, PyObject *requests, PyObject *input_tokens, PyObject *names)
{
    PyObject *lookup = PyDict_New(), *inf = PyFloat_FromDouble(Py_HUGE_VAL), *one = PyLong_FromLong(1);
    PyObject *lowest = inf, *potential = PyList_New(0), *result = NULL, *key, *used, *id, *info;
    Py_XINCREF(lowest);
    if (lookup == NULL || inf == NULL || one == NULL || potential == NULL)
        goto done;
    /* the candidates were accepted by usage_candidate in this call */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(healthy); i++) {
        PyObject *d = PyList_GET_ITEM(healthy, i);
        if (get_item(d, NAME(names, K_INFO), &info) < 0 || get_item(info, NAME(names, K_ID), &id) < 0 ||
            PyDict_SetItem(lookup, id, d) < 0)
            goto done;
    }
    Py_ssize_t pos = 0;
    while (PyDict_Next(counts, &pos, &key, &used)) {
        PyObject *item = usage_id_at(key, NULL, 0, NULL), *d, *requested = NULL;
        if (item == NULL)
            goto done;
        int rc = get_item(lookup, item, &d);
        if (rc == 0 && d != NULL && used != Py_None)
            rc = get_item(requests, item, &requested);
        Py_DECREF(item);
        if (rc < 0)
            goto done;
        if (d == NULL || used == Py_None)
            continue;
        if (usage_step(d, used, requested, input_tokens, names, inf, one, &lowest, &potential) < 0)
            goto done;
    }
    result = potential;
    potential = NULL;
done:
    Py_XDECREF(lookup);
    Py_XDECREF(inf);
    Py_XDECREF(one);
    Py_XDECREF(lowest);
    Py_XDECREF(potential);
    return result;
}

/* Whether key's text before its first ':' is id (an exact str): 1 yes, 0 no, -1 error. */
static int
usage_key_names(PyObject *key, PyObject *id)
{
    Py_ssize_t at = PyUnicode_FindChar(key, ':', 0, PyUnicode_GET_LENGTH(key), 1);
    if (at == -2)
        return -1;
    if (at != PyUnicode_GET_LENGTH(id))
        return 0;
    return PyUnicode_Tailmatch(key, id, 0, at, -1);
}

#define USAGE_POSITIONAL_MAX 64

/* The scan when the keys name the candidates in order (tpm_keys[i] and
 * rpm_keys[i] start with healthy[i]'s id and a ':', as usage_counter_keys
 * builds them) and the ids are distinct: LiteLLM's count dicts then hold each
 * candidate once, in healthy's order, its zero fill only turns None into 0,
 * and its deployment lookup gives healthy[i] back, so usage_lowest's scan runs
 * over the positions with no dicts (session 21).  Candidates accepted by
 * usage_candidate, keys and values covered.  1 scanned (*out: a new list), 0
 * not this case (nothing done), -1 error. */
/* Whether the memo (session 25: [ids, tpm keys, rpm keys], tuples of the last
 * call whose keys named its candidates in order, with distinct ids) holds these
 * very objects: the check below would pass again (strs are immutable). */
static int
usage_positional_known(PyObject *memo, PyObject *const *ids, PyObject *tpm_keys, PyObject *rpm_keys, Py_ssize_t n)
{
    if (memo == NULL || PyList_GET_SIZE(memo) != 3)
        return 0;
    PyObject *const kept[3] = {PyList_GET_ITEM(memo, 0), PyList_GET_ITEM(memo, 1), PyList_GET_ITEM(memo, 2)};
    for (int k = 0; k < 3; k++)
        if (!PyTuple_CheckExact(kept[k]) || PyTuple_GET_SIZE(kept[k]) != n)
            return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (PyTuple_GET_ITEM(kept[0], i) != ids[i] || PyTuple_GET_ITEM(kept[1], i) != PyList_GET_ITEM(tpm_keys, i) ||
            PyTuple_GET_ITEM(kept[2], i) != PyList_GET_ITEM(rpm_keys, i))
            return 0;
    return 1;
}

/* The memo set to these objects (after their check passed): 0, -1 */
static int
usage_positional_keep(PyObject *memo, PyObject *const *ids, PyObject *tpm_keys, PyObject *rpm_keys, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++)  /* (held before anything is allocated: ids are borrowed) */
        Py_INCREF(ids[i]);
    PyObject *kept[3] = {PyTuple_New(n), NULL, NULL};
    if (kept[0] == NULL) {
        for (Py_ssize_t i = 0; i < n; i++)
            Py_DECREF(ids[i]);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        PyTuple_SET_ITEM(kept[0], i, ids[i]);
    kept[1] = PyList_AsTuple(tpm_keys);
    kept[2] = kept[1] == NULL ? NULL : PyList_AsTuple(rpm_keys);
    int rc = -1;
    if (kept[2] != NULL) {
        PyObject *row = PyList_New(3);
        if (row != NULL) {
            for (int k = 0; k < 3; k++)
                PyList_SET_ITEM(row, k, Py_NewRef(kept[k]));
            rc = PyList_SetSlice(memo, 0, PyList_GET_SIZE(memo), row);
            Py_DECREF(row);
        }
    }
    for (int k = 0; k < 3; k++)
        Py_XDECREF(kept[k]);
    return rc;
}

static int
usage_positional(PyObject *healthy, PyObject *tpm_keys, PyObject *tpm_values, PyObject *rpm_keys,
                 PyObject *rpm_values, PyObject *input_tokens, PyObject *names, PyObject *memo, PyObject **out)
{
    Py_ssize_t n = PyList_GET_SIZE(healthy);
    PyObject *ids[USAGE_POSITIONAL_MAX];
    Py_hash_t hashes[USAGE_POSITIONAL_MAX];
    *out = NULL;
    if (n == 0 || n > USAGE_POSITIONAL_MAX || PyList_GET_SIZE(tpm_keys) != n || PyList_GET_SIZE(rpm_keys) != n)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *info;
        if (get_item(PyList_GET_ITEM(healthy, i), NAME(names, K_INFO), &info) < 0 ||
            get_item(info, NAME(names, K_ID), &ids[i]) < 0)
            return -1;
    }
    int known = usage_positional_known(memo, ids, tpm_keys, rpm_keys, n);
    for (Py_ssize_t i = 0; !known && i < n; i++) {
        PyObject *id = ids[i];
        int rc = usage_key_names(PyList_GET_ITEM(tpm_keys, i), id);
        if (rc > 0)
            rc = usage_key_names(PyList_GET_ITEM(rpm_keys, i), id);
        if (rc <= 0)
            return rc;
        Py_hash_t hash = PyObject_Hash(id);  /* an exact str: no code */
        if (hash == -1)
            return -1;
        for (Py_ssize_t j = 0; j < i; j++) {
            if (ids[j] == id)
                return 0;
            if (hashes[j] == hash) {
                int same = PyObject_RichCompareBool(ids[j], id, Py_EQ);
                if (same != 0)
                    return same < 0 ? -1 : 0;
            }
        }
        hashes[i] = hash;
    }
    if (!known && memo != NULL && usage_positional_keep(memo, ids, tpm_keys, rpm_keys, n) < 0)
        return -1;
    PyObject *inf = PyFloat_FromDouble(Py_HUGE_VAL), *one = PyLong_FromLong(1), *zero = PyLong_FromLong(0);
    PyObject *lowest = inf, *potential = PyList_New(0);
    int rc = -1;
    Py_XINCREF(lowest);
    if (inf == NULL || one == NULL || zero == NULL || potential == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *used = PySequence_Fast_GET_ITEM(tpm_values, i);
        if (usage_step(PyList_GET_ITEM(healthy, i), used == Py_None ? zero : used,
                       PySequence_Fast_GET_ITEM(rpm_values, i), input_tokens, names, inf, one, &lowest,
                       &potential) < 0)
            goto done;
    }
    *out = potential;
    potential = NULL;
    rc = 1;
done:
    Py_XDECREF(inf);
    Py_XDECREF(one);
    Py_XDECREF(zero);
    Py_XDECREF(lowest);
    Py_XDECREF(potential);
    return rc;
}

/* usage_pick(healthy, tpm_keys, tpm_values, rpm_keys, rpm_values, input_tokens,
 * names, accepted): LiteLLM's _common_checks_available_deployment from its
 * count dicts to the potential deployments (the list random.choice draws
 * from), or None (declined).  With input_tokens None it only checks that the
 * inputs are covered: True or None.  accepted: healthy is a list whose
 * candidates an earlier call accepted and that nothing has changed since (a
 * shared, read-only candidate list), so they are not checked again. */
static PyObject *
usage_pick(PyObject *const *args, PyObject *memo)
{
    PyObject *healthy = args[0], *input_tokens = args[5], *names = args[6];
    PyObject *counts = NULL, *requests = NULL, *result = NULL, *id, *tpm, *rpm;
    if (!PyList_CheckExact(healthy))
        Py_RETURN_NONE;
    for (Py_ssize_t i = 0; args[7] == Py_False && i < PyList_GET_SIZE(healthy); i++) {
        int rc = usage_candidate(PyList_GET_ITEM(healthy, i), names, &id, &tpm, &rpm);
        if (rc < 0)
            return NULL;
        if (rc == 0)
            Py_RETURN_NONE;
    }
    if (!usage_counts_covered(args[1], args[2]) || !usage_counts_covered(args[3], args[4]) ||
        (input_tokens != Py_None && !usage_number(input_tokens, 0)))
        Py_RETURN_NONE;
    if (input_tokens == Py_None)
        Py_RETURN_TRUE;
    int positional = usage_positional(healthy, args[1], args[2], args[3], args[4], input_tokens, names, memo,
                                      &result);
    if (positional != 0)
        return positional < 0 ? NULL : result;
    if (usage_counts(args[1], args[2], healthy, names, &counts) < 0 ||
        usage_counts(args[3], args[4], healthy, names, &requests) < 0)
        goto done;
    /* unused deployments count 0 (LiteLLM's loop over healthy) */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(healthy); i++) {
        PyObject *info, *used;
        if (get_item(PyList_GET_ITEM(healthy, i), NAME(names, K_INFO), &info) < 0 ||
            get_item(info, NAME(names, K_ID), &id) < 0 || get_item(counts, id, &used) < 0)
            goto done;
        if (used == NULL || used == Py_None) {
            PyObject *zero = PyLong_FromLong(0);
            if (zero == NULL || PyDict_SetItem(counts, id, zero) < 0) {
                Py_XDECREF(zero);
                goto done;
            }
            Py_DECREF(zero);
        }
    }
    result = usage_lowest(healthy, counts, requests, input_tokens, names);
done:
    Py_XDECREF(counts);
    Py_XDECREF(requests);
    return result;
}

/* [values.get(key) for key in keys] for an exact dict and an exact list of
 * exact strs (a look-up runs no code); NULL with no exception: not those. */
static PyObject *
usage_values_of(PyObject *values, PyObject *keys)
{
    Py_ssize_t n = PyList_GET_SIZE(keys);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        PyObject *key = PyList_GET_ITEM(keys, i), *v;
        if (!PyUnicode_CheckExact(key)) {
            Py_DECREF(out);
            return NULL;
        }
        if (get_item(values, key, &v) < 0) {
            Py_DECREF(out);
            return NULL;
        }
        v = v == NULL ? Py_None : v;
        Py_INCREF(v);
        PyList_SET_ITEM(out, i, v);
    }
    return out;
}

/* router_usage_pick: usage_pick; tpm_values and rpm_values may both be one
 * exact dict (the prefetched usage's values), read for each key as
 * values.get(key) (session 21: the fused v2 pick's look-ups, made here).
 * An optional ninth argument, a list the caller holds, keeps usage_positional's
 * last passed check (session 25: usage_positional_known). */
static PyObject *
router_usage_pick(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if ((nargs != 8 && nargs != 9) || !names_ok(args[6]) || !PyBool_Check(args[7]) ||
        (nargs == 9 && !PyList_CheckExact(args[8]))) {
        PyErr_SetString(PyExc_TypeError,
                        "usage_pick(healthy, tpm_keys, tpm_values, rpm_keys, rpm_values, input_tokens, names, "
                        "accepted[, memo])");
        return NULL;
    }
    PyObject *memo = nargs == 9 ? args[8] : NULL;  /* (session 25: the positional check's last pass) */
    if (!PyDict_CheckExact(args[2]))
        return usage_pick(args, memo);
    if (args[4] != args[2] || !PyList_CheckExact(args[1]) || !PyList_CheckExact(args[3]))
        Py_RETURN_NONE;
    PyObject *read[8], *result = NULL;
    for (int i = 0; i < 8; i++)
        read[i] = args[i];
    read[2] = usage_values_of(args[2], args[1]);
    read[4] = read[2] == NULL ? NULL : usage_values_of(args[2], args[3]);
    if (read[4] != NULL)
        result = usage_pick(read, memo);
    else if (!PyErr_Occurred())
        result = Py_None, Py_INCREF(Py_None);
    Py_XDECREF(read[2]);
    Py_XDECREF(read[4]);
    return result;
}

/* ---- registry rows (fast_litellm/routing/litellm_fast.py) -----------------
 *
 * rows_at(rows, entries, keys): LiteLLM's HostRegistry._rows for rows that
 * are all {"at": i} (an exact int; "name" and "group" absent or None; none of
 * "raw", "raw_positions", "pattern"; keys: those six names and "__getitem__"
 * as exact strs, in that order): [entries[i] ...] with Python's list indexing
 * (a negative i counts from the end), entries a list whose __getitem__ is
 * list's own (a subclass's is looked up on its type).  None (declined) for
 * any other row or an index out of range.
 */
enum { ROW_AT, ROW_RAW, ROW_RAW_POSITIONS, ROW_PATTERN, ROW_NAME, ROW_GROUP, ROW_GETITEM, ROW_KEYS };

/* The entry position of one row, or -1 declined, -2 error. */
static Py_ssize_t
row_position(PyObject *row, PyObject *keys, Py_ssize_t size)
{
    PyObject *at, *v;
    if (!PyDict_CheckExact(row) || !str_keyed(row))
        return -1;
    if (get_item(row, PyTuple_GET_ITEM(keys, ROW_AT), &at) < 0)
        return -2;
    if (at == NULL || !PyLong_CheckExact(at))
        return -1;
    if (PyDict_GET_SIZE(row) != 1) {  /* more than "at": the other keys decide */
        for (int k = ROW_RAW; k < ROW_GETITEM; k++) {
            if (get_item(row, PyTuple_GET_ITEM(keys, k), &v) < 0)
                return -2;
            if (v != NULL && (k < ROW_NAME || v != Py_None))
                return -1;
        }
    }
    int overflow = 0;
    long long position = PyLong_AsLongLongAndOverflow(at, &overflow);
    if (overflow || (position == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return -1;
    }
    if (position < 0)
        position += size;
    return position < 0 || position >= size ? -1 : (Py_ssize_t)position;
}

static PyObject *
router_rows_at(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    int keys_ok = nargs == 3 && PyTuple_CheckExact(args[2]) && PyTuple_GET_SIZE(args[2]) == ROW_KEYS;
    for (Py_ssize_t k = 0; keys_ok && k < ROW_KEYS; k++)
        keys_ok = PyUnicode_CheckExact(PyTuple_GET_ITEM(args[2], k));
    if (!keys_ok) {
        PyErr_SetString(PyExc_TypeError, "rows_at(rows, entries, keys)");
        return NULL;
    }
    PyObject *rows = args[0], *entries = args[1];
    if (!PyList_CheckExact(rows) || !PyList_Check(entries))
        Py_RETURN_NONE;
    if (!PyList_CheckExact(entries)) {  /* a list subclass: its __getitem__ must be list's */
        PyObject *own = PyObject_GetAttr((PyObject *)Py_TYPE(entries), PyTuple_GET_ITEM(args[2], ROW_GETITEM));
        PyObject *base = own == NULL ? NULL
                                     : PyObject_GetAttr((PyObject *)&PyList_Type, PyTuple_GET_ITEM(args[2], ROW_GETITEM));
        int same = own != NULL && own == base;
        Py_XDECREF(own);
        Py_XDECREF(base);
        if (PyErr_Occurred())
            return NULL;
        if (!same)
            Py_RETURN_NONE;
    }
    Py_ssize_t n = PyList_GET_SIZE(rows);
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t position = row_position(PyList_GET_ITEM(rows, i), args[2], PyList_GET_SIZE(entries));
        if (position < 0) {
            Py_DECREF(out);
            if (position == -2)
                return NULL;
            Py_RETURN_NONE;
        }
        PyObject *entry = PyList_GET_ITEM(entries, position);
        Py_INCREF(entry);
        PyList_SET_ITEM(out, i, entry);
    }
    return out;
}

/* ---- repr_is_plain ----------------------------------------------------------
 *
 * repr_is_plain(value): whether formatting value into an f-string is certain
 * to run no Python code and raise nothing (but MemoryError): None, bool,
 * exact float and str, exact int within 64 bits (repr of a huge int can
 * raise), and exact dicts, lists and tuples of those nested at most 64
 * deep, with recursion headroom for repr to walk them.  LiteLLM's
 * DualCache formats every value it reads for a print that verbose mode
 * alone shows; when this holds and verbose is off, not formatting it is
 * the same.
 */
#define REPR_MAX_DEPTH 64

static int
repr_plain(PyObject *v, int depth)
{
    if (v == Py_None || PyBool_Check(v) || PyFloat_CheckExact(v) || PyUnicode_CheckExact(v))
        return 1;
    if (PyLong_CheckExact(v)) {
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (x == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        return !overflow;
    }
    if (depth >= REPR_MAX_DEPTH)
        return 0;
    if (PyDict_CheckExact(v)) {
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        while (PyDict_Next(v, &pos, &key, &value)) {
            if (!repr_plain(key, depth + 1) || !repr_plain(value, depth + 1))
                return 0;
        }
        return 1;
    }
    if (PyList_CheckExact(v) || PyTuple_CheckExact(v)) {
        Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
        for (Py_ssize_t i = 0; i < n; i++) {
            if (!repr_plain(PySequence_Fast_GET_ITEM(v, i), depth + 1))
                return 0;
        }
        return 1;
    }
    return 0;
}

/* ---- str_keyed -------------------------------------------------------------
 *
 * str_keyed(value): whether value is an exact dict whose every key is an
 * exact str (a dict walk: no hashing, no comparison, no Python code).
 */
static PyObject *
router_str_keyed(PyObject *module, PyObject *value)
{
    if (!PyDict_CheckExact(value))
        Py_RETURN_FALSE;
    Py_ssize_t pos = 0;
    PyObject *key, *item;
    while (PyDict_Next(value, &pos, &key, &item)) {
        if (!PyUnicode_CheckExact(key))
            Py_RETURN_FALSE;
    }
    Py_RETURN_TRUE;
}

/* ---- span_absent (session 25, route25c) -----------------------------------
 *
 * span_absent(request, names): whether LiteLLM 1.110.2's
 * get_parent_otel_span_from_kwargs(request) (litellm_core_utils/core_helpers.py)
 * finds no span by reads that run no code; names = ("metadata", "litellm_params",
 * "litellm_parent_otel_span"), exact strs.  True for an exact dict with exact-str
 * keys (its get / in then compare exact strs only) whose "metadata" is None or such
 * a dict without the span key (its `or {}` a dict's truth), whose "litellm_params"
 * is None or such a dict whose "metadata" is None or such a dict without it, and
 * without the key itself; False for anything else (the caller then calls LiteLLM's
 * function).  The same checks in the same order as protocol_fast's
 * _python_span_absent, its twin.  The values are borrowed: nothing runs code. */
static int
span_bucket_clear(PyObject *bucket, PyObject *key)
{
    /* 1: absent, None, or an exact str-keyed dict without key; 0: anything else; -1: error */
    if (bucket == NULL || bucket == Py_None)
        return 1;
    if (!PyDict_CheckExact(bucket) || !str_keyed(bucket))
        return 0;
    int has = PyDict_Contains(bucket, key);
    return has < 0 ? -1 : !has;
}

static PyObject *
router_span_absent(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyTuple_CheckExact(args[1]) || PyTuple_GET_SIZE(args[1]) != 3) {
        PyErr_SetString(PyExc_TypeError, "router_span_absent(request, (metadata, litellm_params, span key))");
        return NULL;
    }
    PyObject *names = args[1];
    for (Py_ssize_t i = 0; i < 3; i++) {
        if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(names, i))) {
            PyErr_SetString(PyExc_TypeError, "router_span_absent: the names must be exact strs");
            return NULL;
        }
    }
    PyObject *request = args[0];
    PyObject *s_metadata = PyTuple_GET_ITEM(names, 0), *s_params = PyTuple_GET_ITEM(names, 1),
             *s_key = PyTuple_GET_ITEM(names, 2);
    if (!PyDict_CheckExact(request) || !str_keyed(request))
        Py_RETURN_FALSE;
    PyObject *metadata, *params, *inner;
    if (get_item(request, s_metadata, &metadata) < 0)
        return NULL;
    int clear = span_bucket_clear(metadata, s_key);
    if (clear <= 0)
        return clear < 0 ? NULL : Py_NewRef(Py_False);
    if (get_item(request, s_params, &params) < 0)
        return NULL;
    if (params != NULL && params != Py_None) {
        if (!PyDict_CheckExact(params) || !str_keyed(params))
            Py_RETURN_FALSE;
        if (get_item(params, s_metadata, &inner) < 0)
            return NULL;
        clear = span_bucket_clear(inner, s_key);
        if (clear <= 0)
            return clear < 0 ? NULL : Py_NewRef(Py_False);
    }
    int has = PyDict_Contains(request, s_key);
    if (has < 0)
        return NULL;
    return PyBool_FromLong(!has);
}

/* ---- dict_tags -------------------------------------------------------------
 *
 * dict_tags(objects[, recorded]): the version tags (see "stamps" above) of a
 * tuple of exact dicts and types (a type: its own dict, tp_dict, which every
 * attribute write or delete on the type changes through PyDict_SetItem /
 * DelItem), as bytes of native uint64s; with `recorded` (such bytes), whether
 * every tag still equals the recorded one, without building them.  None
 * (either form) where there are no tags (CPython >= 3.12) or an item is
 * neither an exact dict nor a type with a dict.  The caller holds the
 * objects: an equal tag on the same object means the same contents.
 */
static PyObject *
router_dict_tags(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2 || !PyTuple_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError, "dict_tags(objects: tuple[, recorded: bytes])");
        return NULL;
    }
#if FL_HAVE_STAMPS
    PyObject *objects = args[0];
    Py_ssize_t n = PyTuple_GET_SIZE(objects);
    PyObject *recorded = nargs == 2 ? args[1] : NULL;
    if (recorded != NULL && (!PyBytes_CheckExact(recorded) || PyBytes_GET_SIZE(recorded) != n * 8))
        Py_RETURN_FALSE;
    PyObject *out = NULL;
    char *at;
    if (recorded == NULL) {
        out = PyBytes_FromStringAndSize(NULL, n * 8);
        if (out == NULL)
            return NULL;
        at = PyBytes_AS_STRING(out);
    } else {
        at = PyBytes_AS_STRING(recorded);
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *d = PyTuple_GET_ITEM(objects, i);
        if (PyType_Check(d))
            d = ((PyTypeObject *)d)->tp_dict;
        if (d == NULL || !PyDict_CheckExact(d)) {
            Py_XDECREF(out);
            Py_RETURN_NONE;
        }
        uint64_t tag = dict_tag(d);
        if (recorded == NULL) {
            memcpy(at + i * 8, &tag, 8);
        } else if (memcmp(at + i * 8, &tag, 8) != 0) {
            Py_RETURN_FALSE;
        }
    }
    if (recorded != NULL)
        Py_RETURN_TRUE;
    return out;
#else
    (void)module;
    Py_RETURN_NONE;
#endif
}

/* ---- RouterMemo --------------------------------------------------------------
 *
 * The base of protocol_fast._StateMemo: its `get(first, second)` in C (a C
 * method call, no Python frame: ~10 of them a pick).  The entry is the tuple
 * _StateMemo.remember keeps, (first, second, objects, tags, recorded, value):
 * the value while first and second are those objects and every dict of
 * `objects` (a type: its own dict) holds the tag recorded (router_dict_tags's
 * compare, inline), else None.  Only reads.
 */
typedef struct {
    PyObject_HEAD
    PyObject *entry;
} RouterMemo;

static PyObject *
RouterMemo_get(RouterMemo *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "get(first, second)");
        return NULL;
    }
    PyObject *entry = self->entry;
    if (entry == NULL || !PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 6
        || PyTuple_GET_ITEM(entry, 0) != args[0] || PyTuple_GET_ITEM(entry, 1) != args[1])
        Py_RETURN_NONE;
#if FL_HAVE_STAMPS
    PyObject *objects = PyTuple_GET_ITEM(entry, 2);
    PyObject *recorded = PyTuple_GET_ITEM(entry, 4);
    if (!PyTuple_CheckExact(objects) || !PyBytes_CheckExact(recorded))
        Py_RETURN_NONE;
    Py_ssize_t n = PyTuple_GET_SIZE(objects);
    if (PyBytes_GET_SIZE(recorded) != n * 8)
        Py_RETURN_NONE;
    const char *at = PyBytes_AS_STRING(recorded);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *d = PyTuple_GET_ITEM(objects, i);
        if (PyType_Check(d))
            d = ((PyTypeObject *)d)->tp_dict;
        if (d == NULL || !PyDict_CheckExact(d))
            Py_RETURN_NONE;
        uint64_t tag = dict_tag(d);
        if (memcmp(at + i * 8, &tag, 8) != 0)
            Py_RETURN_NONE;
    }
    return Py_NewRef(PyTuple_GET_ITEM(entry, 5));
#else
    Py_RETURN_NONE;   /* no tags: nothing is kept (remember keeps nothing either) */
#endif
}

static int
RouterMemo_traverse(RouterMemo *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->entry);
    return 0;
}

static int
RouterMemo_clear(RouterMemo *self)
{
    Py_CLEAR(self->entry);
    return 0;
}

static void
RouterMemo_dealloc(RouterMemo *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    RouterMemo_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMethodDef RouterMemo_methods[] = {
    {"get", (PyCFunction)(void (*)(void))RouterMemo_get, METH_FASTCALL,
     "get(first, second): the value kept for (first, second) while every tagged dict is unchanged, else None."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef RouterMemo_members[] = {
    {"_entry", T_OBJECT, offsetof(RouterMemo, entry), 0,
     "(first, second, objects, tags, recorded, value) or None"},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot RouterMemo_slots[] = {
    {Py_tp_dealloc, RouterMemo_dealloc},
    {Py_tp_traverse, RouterMemo_traverse},
    {Py_tp_clear, RouterMemo_clear},
    {Py_tp_methods, RouterMemo_methods},
    {Py_tp_members, RouterMemo_members},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_doc, "The base of the routing fast paths' guard memo (_StateMemo): its get() in C."},
    {0, NULL},
};

static PyType_Spec RouterMemo_spec = {
    .name = "fast_litellm._native.RouterMemo",
    .basicsize = sizeof(RouterMemo),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .slots = RouterMemo_slots,
};

/* ---- RouterGatherDone ------------------------------------------------------
 *
 * asyncio.gather's per-call done callback (the closure `_done_callback` of
 * asyncio/tasks.py, the same source on CPython 3.11-3.13) as a C object, for the
 * routing component's gather_two (litellm_fast.make_gather_two: a usage-v2 pick's
 * two reads).  Its state is the closure's: `outer` (None until gather made it),
 * `children` (the list it iterates), `nfuts` and the count of calls; `globals` is
 * asyncio.tasks' module dict, where the closure's `exceptions` is a global.  A call
 * does what the closure does, in its order, through the same method calls on the
 * same objects (done, cancelled, exception, _make_cancelled_error, set_exception,
 * _cancel_message, result, _cancel_requested, set_result), for gather's
 * return_exceptions=False.  ~0.1 us a call where the closure took ~0.8 in situ.
 */
typedef struct {
    PyObject_HEAD
    PyObject *outer;
    PyObject *children;
    PyObject *globals;
    PyObject *names;   /* the module's interned names (SLOT_NAMES) */
    Py_ssize_t nfuts;
    Py_ssize_t nfinished;
} RouterGatherDone;

#define GATHER_NAME(self, i) PyTuple_GET_ITEM((self)->names, (i))

/* obj.name() */
static PyObject *
gather_call0(PyObject *obj, PyObject *name)
{
    return PyObject_CallMethodNoArgs(obj, name);
}

/* obj.name(arg) (one positional argument, whatever its type) */
static PyObject *
gather_call1(PyObject *obj, PyObject *name, PyObject *arg)
{
    return PyObject_CallMethodOneArg(obj, name, arg);
}

/* truth of obj.name(): 1, 0, -1 on error */
static int
gather_truth0(PyObject *obj, PyObject *name)
{
    PyObject *r = gather_call0(obj, name);
    if (r == NULL)
        return -1;
    int t = PyObject_IsTrue(r);
    Py_DECREF(r);
    return t;
}

/* outer.set_exception(fut._make_cancelled_error()) */
static PyObject *
gather_cancelled_into(RouterGatherDone *self, PyObject *outer, PyObject *fut)
{
    PyObject *exc = gather_call0(fut, GATHER_NAME(self, NAME_MAKE_CANCELLED_ERROR));
    if (exc == NULL)
        return NULL;
    PyObject *r = gather_call1(outer, GATHER_NAME(self, NAME_SET_EXCEPTION), exc);
    Py_DECREF(exc);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_NONE;
}

/* the global `exceptions` of asyncio.tasks (globals, then builtins), new ref */
static PyObject *
gather_global(PyObject *globals, PyObject *key)
{
    PyObject *found = PyDict_GetItemWithError(globals, key);
    if (found == NULL && !PyErr_Occurred()) {
        PyObject *builtins = PyEval_GetBuiltins();
        found = builtins != NULL ? PyDict_GetItemWithError(builtins, key) : NULL;
        if (found == NULL && !PyErr_Occurred())
            PyErr_Format(PyExc_NameError, "name '%U' is not defined", key);
    }
    return Py_XNewRef(found);
}

static PyObject *
RouterGatherDone_call(RouterGatherDone *self, PyObject *args, PyObject *kwargs)
{
    PyObject *fut;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "_done_callback() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, "_done_callback", 1, 1, &fut))
        return NULL;
    self->nfinished += 1;
    PyObject *outer = self->outer;
    int t;
    if (outer == NULL || outer == Py_None) {
        t = 1;
    } else {
        t = gather_truth0(outer, GATHER_NAME(self, NAME_DONE));
        if (t < 0)
            return NULL;
    }
    /* (the objects held across calls that may run code) */
    Py_XINCREF(outer);
    PyObject *result = NULL;
    if (t) {
        int cancelled = gather_truth0(fut, GATHER_NAME(self, NAME_CANCELLED));
        if (cancelled < 0)
            goto done;
        if (!cancelled) {
            PyObject *r = gather_call0(fut, GATHER_NAME(self, NAME_EXCEPTION));
            if (r == NULL)
                goto done;
            Py_DECREF(r);
        }
        result = Py_NewRef(Py_None);
        goto done;
    }
    t = gather_truth0(fut, GATHER_NAME(self, NAME_CANCELLED));
    if (t < 0)
        goto done;
    if (t) {
        result = gather_cancelled_into(self, outer, fut);
        goto done;
    }
    PyObject *exc = gather_call0(fut, GATHER_NAME(self, NAME_EXCEPTION));
    if (exc == NULL)
        goto done;
    if (exc != Py_None) {
        PyObject *r = gather_call1(outer, GATHER_NAME(self, NAME_SET_EXCEPTION), exc);
        Py_DECREF(exc);
        if (r == NULL)
            goto done;
        Py_DECREF(r);
        result = Py_NewRef(Py_None);
        goto done;
    }
    Py_DECREF(exc);
    if (self->nfinished == self->nfuts) {
        PyObject *results = PyList_New(0);
        if (results == NULL)
            goto done;
        PyObject *children = Py_NewRef(self->children);
        PyObject *last = NULL;   /* the loop variable `fut` after the loop */
        PyObject *it = PyObject_GetIter(children);
        Py_DECREF(children);
        if (it == NULL) {
            Py_DECREF(results);
            goto done;
        }
        PyObject *child;
        while ((child = PyIter_Next(it)) != NULL) {
            Py_XSETREF(last, child);
            PyObject *res;
            int c = gather_truth0(child, GATHER_NAME(self, NAME_CANCELLED));
            if (c < 0)
                break;
            if (c) {
                PyObject *message = PyObject_GetAttr(child, GATHER_NAME(self, NAME_CANCEL_MESSAGE));
                if (message == NULL)
                    break;
                PyObject *exceptions = gather_global(self->globals, GATHER_NAME(self, NAME_EXCEPTIONS));
                PyObject *error_type = exceptions != NULL ? PyObject_GetAttr(exceptions, GATHER_NAME(self, NAME_CANCELLED_ERROR)) : NULL;
                Py_XDECREF(exceptions);
                if (error_type == NULL) {
                    Py_DECREF(message);
                    break;
                }
                if (message == Py_None) {
                    Py_DECREF(message);
                    message = PyUnicode_FromString("");
                    if (message == NULL) {
                        Py_DECREF(error_type);
                        break;
                    }
                }
                res = PyObject_CallOneArg(error_type, message);
                Py_DECREF(error_type);
                Py_DECREF(message);
            } else {
                res = gather_call0(child, GATHER_NAME(self, NAME_EXCEPTION));
                if (res == Py_None) {
                    Py_DECREF(res);
                    res = gather_call0(child, GATHER_NAME(self, NAME_RESULT));
                }
            }
            if (res == NULL)
                break;
            int appended = PyList_Append(results, res);
            Py_DECREF(res);
            if (appended < 0)
                break;
        }
        Py_DECREF(it);
        if (PyErr_Occurred()) {
            Py_XDECREF(last);
            Py_DECREF(results);
            goto done;
        }
        PyObject *requested = PyObject_GetAttr(outer, GATHER_NAME(self, NAME_CANCEL_REQUESTED));
        int r = requested != NULL ? PyObject_IsTrue(requested) : -1;
        Py_XDECREF(requested);
        if (r < 0) {
            Py_XDECREF(last);
            Py_DECREF(results);
            goto done;
        }
        if (r) {
            result = gather_cancelled_into(self, outer, last != NULL ? last : fut);
        } else {
            PyObject *set = gather_call1(outer, GATHER_NAME(self, NAME_SET_RESULT), results);
            if (set != NULL) {
                Py_DECREF(set);
                result = Py_NewRef(Py_None);
            }
        }
        Py_XDECREF(last);
        Py_DECREF(results);
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(outer);
    return result;
}

static PyObject *
RouterGatherDone_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *children, *globals;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "RouterGatherDone(children, globals)");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, "RouterGatherDone", 2, 2, &children, &globals))
        return NULL;
    if (!PyList_CheckExact(children) || !PyDict_CheckExact(globals)) {
        PyErr_SetString(PyExc_TypeError, "RouterGatherDone(children: list, globals: dict)");
        return NULL;
    }
    PyObject *module = PyType_GetModule(type);
    if (module == NULL)
        return NULL;
    RouterGatherDone *self = (RouterGatherDone *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->names = Py_NewRef(fl_get_state(module)->slots[SLOT_NAMES]);
    self->children = Py_NewRef(children);
    self->globals = Py_NewRef(globals);
    self->outer = NULL;
    self->nfuts = 0;
    self->nfinished = 0;
    return (PyObject *)self;
}

static int
RouterGatherDone_traverse(RouterGatherDone *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->outer);
    Py_VISIT(self->children);
    Py_VISIT(self->globals);
    Py_VISIT(self->names);
    return 0;
}

static int
RouterGatherDone_clear(RouterGatherDone *self)
{
    Py_CLEAR(self->outer);
    Py_CLEAR(self->children);
    Py_CLEAR(self->globals);
    Py_CLEAR(self->names);
    return 0;
}

static void
RouterGatherDone_dealloc(RouterGatherDone *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    RouterGatherDone_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMemberDef RouterGatherDone_members[] = {
    {"outer", T_OBJECT, offsetof(RouterGatherDone, outer), 0, "gather's outer future (None until made)"},
    {"nfuts", T_PYSSIZET, offsetof(RouterGatherDone, nfuts), 0, "the children counted so far"},
    {"nfinished", T_PYSSIZET, offsetof(RouterGatherDone, nfinished), READONLY, "calls so far"},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot RouterGatherDone_slots[] = {
    {Py_tp_dealloc, RouterGatherDone_dealloc},
    {Py_tp_traverse, RouterGatherDone_traverse},
    {Py_tp_clear, RouterGatherDone_clear},
    {Py_tp_call, RouterGatherDone_call},
    {Py_tp_members, RouterGatherDone_members},
    {Py_tp_new, RouterGatherDone_new},
    {Py_tp_doc, "asyncio.gather's done callback (return_exceptions=False) for gather_two, in C."},
    {0, NULL},
};

static PyType_Spec RouterGatherDone_spec = {
    .name = "fast_litellm._native.RouterGatherDone",
    .basicsize = sizeof(RouterGatherDone),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = RouterGatherDone_slots,
};

/* ---- RouterGatherTwo -------------------------------------------------------
 *
 * litellm_fast.make_gather_two's gather_two(first, second) in C (session 23): what
 * asyncio.gather(first, second) does for two coroutine objects, the same calls in
 * the same order on the same objects - loop.create_task of each, futures._get_loop
 * of the first child, each child's _log_destroy_pending and done callback (a
 * RouterGatherDone; 3.12+: a child done already is called back after the outer is
 * made), tasks._GatheringFuture(children, loop=loop) - or None, declined before
 * anything ran, when the arguments are not two distinct exact coroutines, the
 * bindings gather's path reads (one entries_same tuple) are not the ones found at
 * build, the coroutine type is not in iscoroutine's type cache, or no loop runs.
 * After the first child is made the bindings are looked at again (a task factory
 * runs anyone's code): if not, the second child is made by the module's
 * ensure_future / _ensure_future, as gather makes it.
 *
 * The running loop: _asyncio._get_running_loop(), except on CPython 3.11, whose
 * get_running_loop makes a getpid() syscall at every call (3.12 dropped it) to
 * answer None for a loop holder set in another process.  There the holder (the
 * thread state dict's "__asyncio_running_event_loop__", a _RunningLoopHolder of
 * {loop, pid}, immutable once made) is read as that function reads it, and its pid
 * compared with this process's, known without the syscall while the process's fork
 * generation (bumped in every child forked through libc) is the one it was read
 * in.  The holder's layout is learnt from the interpreter's own answer: a holder of
 * that type name and size whose fields are the loop _get_running_loop just returned
 * and getpid()'s pid; until then, and for another type, the interpreter's function.
 */
static PyObject *router_entries_same(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

typedef struct {
    PyObject_HEAD
    PyObject *rl_loop;
    pid_t rl_pid;
} fl_running_holder_311;

enum {
    G2_CREATE_TASK, G2_LOG_DESTROY, G2_DONE, G2_ADD_DONE, G2_FUTURES, G2_GET_LOOP, G2_GATHERING,
    G2_CLOSE, G2_HOLDER_KEY, G2_CHECK_CLOSED, G2_CLOSED, G2_TASK_FACTORY, G2_TASKS, G2_TASK, G2_SOURCE_TB,
    G2_DEBUG, G2_GET_DEBUG, G2_NAMES
};
static const char *const g2_names[G2_NAMES] = {
    "create_task", "_log_destroy_pending", "done", "add_done_callback", "futures", "_get_loop",
    "_GatheringFuture", "close", "__asyncio_running_event_loop__", "_check_closed", "_closed",
    "_task_factory", "tasks", "Task", "_source_traceback", "_debug", "get_debug",
};

typedef struct {
    PyObject_HEAD
    PyObject *coroutine_type;
    PyObject *typecache;
    PyObject *entries;
    PyObject *absent;
    PyObject *running;
    PyObject *task_globals;
    PyObject *ensure_name;
    PyObject *done_type;
    PyObject *done_names;      /* the module's interned names, for the callbacks it makes */
    PyObject *loop_kwnames;    /* ("loop",) */
    PyObject *names[G2_NAMES];
    int eager_aware;
    int holder_cache;          /* CPython 3.11: the holder read without getpid() */
    PyObject *holder_type;     /* the learnt _RunningLoopHolder type, or NULL */
    uint64_t holder_generation;
    pid_t holder_pid;
    /* BaseEventLoop.create_task's body made in place of its call (NULL: always called):
     * the pinned create_task and _check_closed, base_events' globals, asyncio.tasks, Task;
     * not in debug mode */
    PyObject *base_create_task;
    PyObject *base_check_closed;
    PyObject *base_get_debug;
    PyObject *base_globals;
    PyObject *tasks_module;
    PyObject *task_type;
    Py_ssize_t direct_tasks;   /* Tasks made so (for tests) */
} RouterGatherTwo;

/* _asyncio._get_running_loop()'s answer (new reference; NULL with an error) */
static PyObject *
g2_running_loop(RouterGatherTwo *self)
{
    PyObject *holder = NULL;
    if (self->holder_cache) {
        PyObject *ts_dict = PyThreadState_GetDict(); /* borrowed */
        if (ts_dict != NULL) {
            holder = PyDict_GetItemWithError(ts_dict, self->names[G2_HOLDER_KEY]); /* borrowed */
            if (holder == NULL && PyErr_Occurred())
                return NULL;
        }
        if (holder != NULL && self->holder_type != NULL && (PyObject *)Py_TYPE(holder) == self->holder_type
            && self->holder_generation == fl_fork_generation()) {
            fl_running_holder_311 *h = (fl_running_holder_311 *)holder;
            if (h->rl_loop == Py_None || h->rl_pid != self->holder_pid)
                Py_RETURN_NONE;
            return Py_NewRef(h->rl_loop);
        }
    }
    /* (a C function: no Python code runs, the holder read above stays the thread's) */
    PyObject *loop = PyObject_CallNoArgs(self->running);
    if (loop == NULL || holder == NULL || loop == Py_None)
        return loop;
    PyTypeObject *tp = Py_TYPE(holder);
    uint64_t generation = fl_fork_generation();
    fl_running_holder_311 *h = (fl_running_holder_311 *)holder;
    if (strcmp(tp->tp_name, "_RunningLoopHolder") == 0 && tp->tp_basicsize == sizeof(fl_running_holder_311)
        && h->rl_loop == loop && h->rl_pid == getpid()) {
        Py_XSETREF(self->holder_type, Py_NewRef((PyObject *)tp));
        self->holder_generation = generation;
        self->holder_pid = h->rl_pid;
    }
    return loop;
}

/* the bindings gather's path reads are the build's and the coroutine type is cached:
 * 1, 0, -1 */
static int
g2_stock_path_holds(RouterGatherTwo *self)
{
    PyObject *args[2] = {self->entries, self->absent};
    PyObject *same = router_entries_same(NULL, args, 2);
    if (same == NULL)
        return -1;
    int holds = same == Py_True;
    Py_DECREF(same);
    if (!holds)
        return 0;
    return PySet_Contains(self->typecache, self->coroutine_type);
}

/* task_globals[name] (new reference; KeyError as the dict read raises it) */
static PyObject *
g2_global(RouterGatherTwo *self, PyObject *name)
{
    PyObject *found = PyDict_GetItemWithError(self->task_globals, name);
    if (found == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetObject(PyExc_KeyError, name);
        return NULL;
    }
    return Py_NewRef(found);
}

/* obj.name is a method of `func` bound to obj (an instance attribute of another
 * value is what stock's call would call): 1, 0, -1.  Read through the generic getattr:
 * the instance's inline values, not its dict (reading __dict__ would make one, and
 * slow every later attribute read of the loop; session 23) */
static int
g2_bound_to(PyObject *obj, PyObject *name, PyObject *func)
{
    PyObject *found = PyObject_GetAttr(obj, name);
    if (found == NULL)
        return -1;
    int same = PyMethod_Check(found) && PyMethod_GET_FUNCTION(found) == func && PyMethod_GET_SELF(found) == obj;
    Py_DECREF(found);
    return same;
}

/* obj.name is `want` (a plain instance attribute: no class attribute of that name): 1, 0, -1 */
static int
g2_attribute_is(PyObject *obj, PyTypeObject *tp, PyObject *name, PyObject *want)
{
    if (_PyType_Lookup(tp, name) != NULL)
        return 0;
    PyObject *found = PyObject_GetAttr(obj, name);
    if (found == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            return -1;
        PyErr_Clear();
        return 0;
    }
    int same = found == want;
    Py_DECREF(found);
    return same;
}

/* whether loop.create_task(coro) is BaseEventLoop's pinned body with no task factory
 * and the loop open: create_task, _check_closed and get_debug methods of the pinned functions bound
 * to the loop (a subclass's or an instance's own is not), no attribute hook, _closed False and
 * _task_factory None, _debug False (instance attributes: no class attribute of those names),
 * base_events' `tasks` asyncio.tasks and its Task the C Task: 1, 0, -1 */
static int
g2_direct_task(RouterGatherTwo *self, PyObject *loop)
{
    if (self->base_create_task == NULL)
        return 0;
    PyTypeObject *tp = Py_TYPE(loop);
    if (tp->tp_getattro != PyObject_GenericGetAttr)
        return 0;
    PyObject *tasks = PyDict_GetItemWithError(self->base_globals, self->names[G2_TASKS]);
    if (tasks != self->tasks_module)
        return PyErr_Occurred() ? -1 : 0;
    PyObject *task_type = PyDict_GetItemWithError(self->task_globals, self->names[G2_TASK]);
    if (task_type != self->task_type)
        return PyErr_Occurred() ? -1 : 0;
    int t = g2_bound_to(loop, self->names[G2_CREATE_TASK], self->base_create_task);
    if (t > 0)
        t = g2_bound_to(loop, self->names[G2_CHECK_CLOSED], self->base_check_closed);
    if (t > 0)  /* (the Task's init asks it: a subclass's True records a creation stack) */
        t = g2_bound_to(loop, self->names[G2_GET_DEBUG], self->base_get_debug);
    if (t > 0)
        t = g2_attribute_is(loop, tp, self->names[G2_CLOSED], Py_False);
    if (t > 0)
        t = g2_attribute_is(loop, tp, self->names[G2_TASK_FACTORY], Py_None);
    /* (not in debug mode: there the Task records its creation stack, whose last entry
     * create_task drops - its own frame, which this has not) */
    if (t > 0)
        t = g2_attribute_is(loop, tp, self->names[G2_DEBUG], Py_False);
    return t;
}

/* create_task's body for no task factory, where g2_direct_task said so: tasks.Task(coro,
 * loop=self, name=None, context=None), then `if task._source_traceback: del
 * task._source_traceback[-1]` (the loop open: _check_closed raises nothing) */
static PyObject *
g2_task_body(RouterGatherTwo *self, PyObject *loop, PyObject *coro)
{
    PyObject *call_args[2] = {coro, loop};
    PyObject *task = PyObject_Vectorcall(self->task_type, call_args, 1, self->loop_kwnames);
    if (task != NULL) {
        self->direct_tasks += 1;
        PyObject *tb = PyObject_GetAttr(task, self->names[G2_SOURCE_TB]);
        int t = tb == NULL ? -1 : PyObject_IsTrue(tb);
        Py_XDECREF(tb);
        if (t > 0) {
            tb = PyObject_GetAttr(task, self->names[G2_SOURCE_TB]);
            PyObject *last = PyLong_FromLong(-1);
            t = (tb == NULL || last == NULL) ? -1 : PyObject_DelItem(tb, last);
            Py_XDECREF(tb);
            Py_XDECREF(last);
        }
        if (t < 0)
            Py_CLEAR(task);
    }
    return task;
}

/* loop.create_task(coro); a RuntimeError from it closes the coroutine first
 * (_ensure_future's except clause), its own error then raised in its place */
static PyObject *
g2_create_task(RouterGatherTwo *self, PyObject *loop, PyObject *coro)
{
    PyObject *task;
    int direct = g2_direct_task(self, loop);
    if (direct < 0)
        return NULL;
    if (direct)
        return g2_task_body(self, loop, coro);
    task = PyObject_CallMethodOneArg(loop, self->names[G2_CREATE_TASK], coro);
    if (task != NULL || !PyErr_ExceptionMatches(PyExc_RuntimeError))
        return task;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL)
        PyException_SetTraceback(value, tb);
    PyObject *closed = PyObject_CallMethodNoArgs(coro, self->names[G2_CLOSE]);
    if (closed == NULL) {
        /* (an error from close() replaces it, with it as its context) */
        PyObject *t2, *v2, *tb2;
        PyErr_Fetch(&t2, &v2, &tb2);
        PyErr_NormalizeException(&t2, &v2, &tb2);
        if (v2 != NULL && value != NULL) {
            PyException_SetContext(v2, value);  /* steals value */
            value = NULL;
        }
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        PyErr_Restore(t2, v2, tb2);
        return NULL;
    }
    Py_DECREF(closed);
    PyErr_Restore(type, value, tb);
    return NULL;
}

/* gather's loop body for a child just made: 0, -1 */
static int
g2_adopt(RouterGatherTwo *self, PyObject *fut, PyObject *arg, RouterGatherDone *callback, PyObject *children,
         PyObject **done_futs)
{
    if (fut != arg && PyObject_SetAttr(fut, self->names[G2_LOG_DESTROY], Py_False) < 0)
        return -1;
    callback->nfuts += 1;
    int done = 0;
    if (self->eager_aware) {
        PyObject *r = PyObject_CallMethodNoArgs(fut, self->names[G2_DONE]);
        if (r == NULL)
            return -1;
        done = PyObject_IsTrue(r);
        Py_DECREF(r);
        if (done < 0)
            return -1;
    }
    if (done) {
        if (*done_futs == NULL && (*done_futs = PyList_New(0)) == NULL)
            return -1;
        if (PyList_Append(*done_futs, fut) < 0)
            return -1;
    } else {
        PyObject *r = PyObject_CallMethodOneArg(fut, self->names[G2_ADD_DONE], (PyObject *)callback);
        if (r == NULL)
            return -1;
        Py_DECREF(r);
    }
    return PyList_Append(children, fut);
}

static PyObject *
RouterGatherTwo_call(RouterGatherTwo *self, PyObject *args, PyObject *kwargs)
{
    PyObject *first, *second;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "gather_two() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, "gather_two", 2, 2, &first, &second))
        return NULL;
    if ((PyObject *)Py_TYPE(first) != self->coroutine_type || (PyObject *)Py_TYPE(second) != self->coroutine_type
        || first == second)
        Py_RETURN_NONE;
    int holds = g2_stock_path_holds(self);
    if (holds <= 0)
        return holds < 0 ? NULL : Py_NewRef(Py_None);
    PyObject *loop = g2_running_loop(self);
    if (loop == NULL || loop == Py_None)
        return loop;

    PyObject *outer = NULL, *fut = NULL, *done_futs = NULL;
    RouterGatherDone *callback = NULL;
    PyObject *children = PyList_New(0);
    if (children == NULL)
        goto fail;
    /* gather's _done_callback (RouterGatherDone), over this call's children */
    callback = (RouterGatherDone *)((PyTypeObject *)self->done_type)->tp_alloc((PyTypeObject *)self->done_type, 0);
    if (callback == NULL)
        goto fail;
    callback->names = Py_NewRef(self->done_names);
    callback->children = Py_NewRef(children);
    callback->globals = Py_NewRef(self->task_globals);
    callback->outer = NULL;
    callback->nfuts = 0;
    callback->nfinished = 0;
    /* the first child: _ensure_future(first, loop=None) */
    fut = g2_create_task(self, loop, first);
    if (fut == NULL)
        goto fail;
    {
        PyObject *futures = g2_global(self, self->names[G2_FUTURES]);
        if (futures == NULL)
            goto fail;
        PyObject *get_loop = PyObject_GetAttr(futures, self->names[G2_GET_LOOP]);
        Py_DECREF(futures);
        if (get_loop == NULL)
            goto fail;
        PyObject *found = PyObject_CallOneArg(get_loop, fut);
        Py_DECREF(get_loop);
        if (found == NULL)
            goto fail;
        Py_SETREF(loop, found);
    }
    if (g2_adopt(self, fut, first, callback, children, &done_futs) < 0)
        goto fail;
    Py_CLEAR(fut);
    /* the second: _ensure_future(second, loop=loop) */
    holds = g2_stock_path_holds(self);
    if (holds < 0)
        goto fail;
    if (holds) {
        fut = g2_create_task(self, loop, second);
    } else {
        PyObject *ensure = g2_global(self, self->ensure_name);
        if (ensure == NULL)
            goto fail;
        PyObject *call_args[2] = {second, loop};
        fut = PyObject_Vectorcall(ensure, call_args, 1, self->loop_kwnames);
        Py_DECREF(ensure);
    }
    if (fut == NULL)
        goto fail;
    if (g2_adopt(self, fut, second, callback, children, &done_futs) < 0)
        goto fail;
    Py_CLEAR(fut);
    {
        PyObject *gathering = g2_global(self, self->names[G2_GATHERING]);
        if (gathering == NULL)
            goto fail;
        PyObject *call_args[2] = {children, loop};
        outer = PyObject_Vectorcall(gathering, call_args, 1, self->loop_kwnames);
        Py_DECREF(gathering);
        if (outer == NULL)
            goto fail;
    }
    Py_XSETREF(callback->outer, Py_NewRef(outer));
    if (done_futs != NULL) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(done_futs); i++) {
            PyObject *r = PyObject_CallOneArg((PyObject *)callback, PyList_GET_ITEM(done_futs, i));
            if (r == NULL)
                goto fail;
            Py_DECREF(r);
        }
    }
    Py_DECREF(loop);
    Py_DECREF(children);
    Py_DECREF(callback);
    Py_XDECREF(done_futs);
    return outer;
fail:
    Py_XDECREF(loop);
    Py_XDECREF(fut);
    Py_XDECREF(children);
    Py_XDECREF((PyObject *)callback);
    Py_XDECREF(done_futs);
    Py_XDECREF(outer);
    return NULL;
}

static PyObject *
RouterGatherTwo_running_loop(RouterGatherTwo *self, PyObject *unused)
{
    (void)unused;
    return g2_running_loop(self);
}

static PyObject *
RouterGatherTwo_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *coroutine_type, *typecache, *entries, *absent, *running, *task_globals, *ensure_name, *done_type;
    PyObject *direct = Py_None;
    int eager_aware, holder_cache;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "RouterGatherTwo takes positional arguments");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "OOOOOOOOpp|O:RouterGatherTwo", &coroutine_type, &typecache, &entries, &absent,
                          &running, &task_globals, &ensure_name, &done_type, &eager_aware, &holder_cache, &direct))
        return NULL;
    if (direct != Py_None && (!PyTuple_CheckExact(direct) || PyTuple_GET_SIZE(direct) != 6
                              || !PyDict_CheckExact(PyTuple_GET_ITEM(direct, 3))
                              || !PyType_Check(PyTuple_GET_ITEM(direct, 5)))) {
        PyErr_SetString(PyExc_TypeError, "RouterGatherTwo: direct is None or (create_task, _check_closed, "
                                         "get_debug, base_events globals, asyncio.tasks, Task)");
        return NULL;
    }
    if (!PyType_Check(coroutine_type) || !PySet_CheckExact(typecache) || !PyTuple_CheckExact(entries)
        || PyTuple_GET_SIZE(entries) % 3 != 0 || !PyCallable_Check(running) || !PyDict_CheckExact(task_globals)
        || !PyUnicode_CheckExact(ensure_name) || !PyType_Check(done_type)
        || PyType_GetSlot((PyTypeObject *)done_type, Py_tp_call) != (void *)RouterGatherDone_call) {
        PyErr_SetString(PyExc_TypeError, "RouterGatherTwo(coroutine type, type cache set, entries, absent, "
                                         "running, tasks globals, ensure name, RouterGatherDone, eager, cache)");
        return NULL;
    }
    RouterGatherTwo *self = (RouterGatherTwo *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    for (int i = 0; i < G2_NAMES; i++) {
        self->names[i] = PyUnicode_InternFromString(g2_names[i]);
        if (self->names[i] == NULL) {
            Py_DECREF(self);
            return NULL;
        }
    }
    self->loop_kwnames = Py_BuildValue("(s)", "loop");
    if (self->loop_kwnames == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    self->coroutine_type = Py_NewRef(coroutine_type);
    self->typecache = Py_NewRef(typecache);
    self->entries = Py_NewRef(entries);
    self->absent = Py_NewRef(absent);
    self->running = Py_NewRef(running);
    self->task_globals = Py_NewRef(task_globals);
    self->ensure_name = Py_NewRef(ensure_name);
    self->done_type = Py_NewRef(done_type);
    {
        PyObject *module = PyType_GetModule((PyTypeObject *)done_type);
        if (module == NULL) {
            Py_DECREF(self);
            return NULL;
        }
        self->done_names = Py_NewRef(fl_get_state(module)->slots[SLOT_NAMES]);
    }
    self->eager_aware = eager_aware;
    self->holder_cache = holder_cache;
    self->holder_type = NULL;
    if (direct != Py_None) {
        self->base_create_task = Py_NewRef(PyTuple_GET_ITEM(direct, 0));
        self->base_check_closed = Py_NewRef(PyTuple_GET_ITEM(direct, 1));
        self->base_get_debug = Py_NewRef(PyTuple_GET_ITEM(direct, 2));
        self->base_globals = Py_NewRef(PyTuple_GET_ITEM(direct, 3));
        self->tasks_module = Py_NewRef(PyTuple_GET_ITEM(direct, 4));
        self->task_type = Py_NewRef(PyTuple_GET_ITEM(direct, 5));
    }
    return (PyObject *)self;
}

static int
RouterGatherTwo_traverse(RouterGatherTwo *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->coroutine_type);
    Py_VISIT(self->typecache);
    Py_VISIT(self->entries);
    Py_VISIT(self->absent);
    Py_VISIT(self->running);
    Py_VISIT(self->task_globals);
    Py_VISIT(self->done_type);
    Py_VISIT(self->done_names);
    Py_VISIT(self->holder_type);
    Py_VISIT(self->base_create_task);
    Py_VISIT(self->base_check_closed);
    Py_VISIT(self->base_get_debug);
    Py_VISIT(self->base_globals);
    Py_VISIT(self->tasks_module);
    Py_VISIT(self->task_type);
    return 0;
}

static int
RouterGatherTwo_clear(RouterGatherTwo *self)
{
    Py_CLEAR(self->coroutine_type);
    Py_CLEAR(self->typecache);
    Py_CLEAR(self->entries);
    Py_CLEAR(self->absent);
    Py_CLEAR(self->running);
    Py_CLEAR(self->task_globals);
    Py_CLEAR(self->ensure_name);
    Py_CLEAR(self->done_type);
    Py_CLEAR(self->done_names);
    Py_CLEAR(self->loop_kwnames);
    Py_CLEAR(self->holder_type);
    Py_CLEAR(self->base_create_task);
    Py_CLEAR(self->base_check_closed);
    Py_CLEAR(self->base_get_debug);
    Py_CLEAR(self->base_globals);
    Py_CLEAR(self->tasks_module);
    Py_CLEAR(self->task_type);
    for (int i = 0; i < G2_NAMES; i++)
        Py_CLEAR(self->names[i]);
    return 0;
}

static void
RouterGatherTwo_dealloc(RouterGatherTwo *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    RouterGatherTwo_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMethodDef RouterGatherTwo_methods[] = {
    {"running_loop", (PyCFunction)RouterGatherTwo_running_loop, METH_NOARGS,
     "running_loop(): _asyncio._get_running_loop()'s answer (3.11: without its getpid() while learnt)."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef RouterGatherTwo_members[] = {
    {"holder_type", T_OBJECT, offsetof(RouterGatherTwo, holder_type), READONLY,
     "the running-loop holder type learnt (3.11), or None"},
    {"direct_tasks", T_PYSSIZET, offsetof(RouterGatherTwo, direct_tasks), READONLY,
     "Tasks made by create_task's body in place of its call"},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot RouterGatherTwo_slots[] = {
    {Py_tp_members, RouterGatherTwo_members},
    {Py_tp_dealloc, RouterGatherTwo_dealloc},
    {Py_tp_traverse, RouterGatherTwo_traverse},
    {Py_tp_clear, RouterGatherTwo_clear},
    {Py_tp_call, RouterGatherTwo_call},
    {Py_tp_methods, RouterGatherTwo_methods},
    {Py_tp_new, RouterGatherTwo_new},
    {Py_tp_doc, "asyncio.gather(first, second) of two coroutines, its calls in C (gather_two), or None."},
    {0, NULL},
};

static PyType_Spec RouterGatherTwo_spec = {
    .name = "fast_litellm._native.RouterGatherTwo",
    .basicsize = sizeof(RouterGatherTwo),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = RouterGatherTwo_slots,
};

/* ---- RouterCreateTask ------------------------------------------------------
 *
 * asyncio.create_task(coro) as the routing core's service event makes it (session 24):
 * maker(fn, coro) with fn the `asyncio.create_task` the caller just read.  While fn is
 * CPython 3.11's tasks.create_task (source pinned by the builder) and the bindings its
 * body reads are the build's (entries: tasks' `events` and `_set_task_name`, events'
 * get_running_loop the C function), its steps are made here: the running loop read as
 * RouterGatherTwo reads it (3.11: without get_running_loop's getpid() while learnt),
 * loop.create_task(coro) as BaseEventLoop's body where g2_direct_task says so (the pinned
 * create_task / _check_closed bound to the loop, no task factory, open, not in debug
 * mode), and _set_task_name(task, None), which does nothing for name None.  Anything
 * else - no loop running, another fn, other bindings, another loop's create_task (its
 * code could look at the frames; in debug mode a Task records them) - is fn(coro),
 * stock's call (its RuntimeError included).  The steps are the same calls on the same
 * objects; what differs is only the Python frames of create_task and
 * BaseEventLoop.create_task, which no code runs under.
 */
typedef struct {
    PyObject_HEAD
    RouterGatherTwo *gather;   /* its running-loop read and create_task body */
    PyObject *create_task;     /* tasks.create_task, as pinned */
    PyObject *entries;
    PyObject *absent;
    vectorcallfunc vectorcall;
    Py_ssize_t made;           /* Tasks made here (for tests) */
} RouterCreateTask;

static PyObject *
RouterCreateTask_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    RouterCreateTask *self = (RouterCreateTask *)op;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != 2 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0)) {
        PyErr_SetString(PyExc_TypeError, "create_task maker takes (create_task, coroutine)");
        return NULL;
    }
    PyObject *fn = args[0], *coro = args[1];
    if (fn != self->create_task)
        return PyObject_CallOneArg(fn, coro);
    PyObject *same_args[2] = {self->entries, self->absent};
    PyObject *same = router_entries_same(NULL, same_args, 2);
    if (same == NULL)
        return NULL;
    int holds = same == Py_True;
    Py_DECREF(same);
    if (!holds)
        return PyObject_CallOneArg(fn, coro);
    PyObject *loop = g2_running_loop(self->gather);
    if (loop == NULL)
        return NULL;
    if (loop == Py_None) {
        Py_DECREF(loop);
        return PyObject_CallOneArg(fn, coro);  /* (its RuntimeError: no running event loop) */
    }
    int direct = g2_direct_task(self->gather, loop);
    PyObject *task = direct > 0 ? g2_task_body(self->gather, loop, coro) : NULL;
    Py_DECREF(loop);
    if (direct == 0)
        return PyObject_CallOneArg(fn, coro);
    if (task != NULL)
        self->made += 1;
    return task;
}

static PyObject *
RouterCreateTask_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *gather, *create_task, *entries, *absent;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "RouterCreateTask takes positional arguments");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "OOOO:RouterCreateTask", &gather, &create_task, &entries, &absent))
        return NULL;
    if (PyType_GetSlot(Py_TYPE(gather), Py_tp_call) != (void *)RouterGatherTwo_call || !PyCallable_Check(create_task)
        || !PyTuple_CheckExact(entries) || PyTuple_GET_SIZE(entries) % 3 != 0) {
        PyErr_SetString(PyExc_TypeError, "RouterCreateTask(RouterGatherTwo, create_task, entries, absent)");
        return NULL;
    }
    RouterCreateTask *self = (RouterCreateTask *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->gather = (RouterGatherTwo *)Py_NewRef(gather);
    self->create_task = Py_NewRef(create_task);
    self->entries = Py_NewRef(entries);
    self->absent = Py_NewRef(absent);
    self->vectorcall = RouterCreateTask_vectorcall;
    self->made = 0;
    return (PyObject *)self;
}

static int
RouterCreateTask_traverse(RouterCreateTask *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT((PyObject *)self->gather);
    Py_VISIT(self->create_task);
    Py_VISIT(self->entries);
    Py_VISIT(self->absent);
    return 0;
}

static int
RouterCreateTask_clear(RouterCreateTask *self)
{
    Py_CLEAR(self->gather);
    Py_CLEAR(self->create_task);
    Py_CLEAR(self->entries);
    Py_CLEAR(self->absent);
    return 0;
}

static void
RouterCreateTask_dealloc(RouterCreateTask *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    RouterCreateTask_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMemberDef RouterCreateTask_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(RouterCreateTask, vectorcall), READONLY, NULL},
    {"made", T_PYSSIZET, offsetof(RouterCreateTask, made), READONLY, "Tasks made here, not by fn's call"},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot RouterCreateTask_slots[] = {
    {Py_tp_members, RouterCreateTask_members},
    {Py_tp_dealloc, RouterCreateTask_dealloc},
    {Py_tp_traverse, RouterCreateTask_traverse},
    {Py_tp_clear, RouterCreateTask_clear},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_new, RouterCreateTask_new},
    {Py_tp_doc, "maker(create_task, coro): asyncio.create_task(coro)'s steps in C (3.11), or create_task(coro)."},
    {0, NULL},
};

static PyType_Spec RouterCreateTask_spec = {
    .name = "fast_litellm._native.RouterCreateTask",
    .basicsize = sizeof(RouterCreateTask),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = RouterCreateTask_slots,
};

/* router_fork_generation(): fl_fork_generation() as an int (no syscall; see
 * monitor.h).  The routing cooldown read's "a read returned in this process"
 * check compares it where it compared os.getpid() (~0.3 us a syscall). */
static PyObject *
router_fork_generation(PyObject *module, PyObject *unused)
{
    return PyLong_FromUnsignedLongLong((unsigned long long)fl_fork_generation());
}

/* ---- entries_same ----------------------------------------------------------
 *
 * entries_same(flat, absent): whether every triple (container, key, expected)
 * of the tuple `flat` still holds, for the pydantic guards of the routing
 * fast paths (_pydantic_guard.py): key an exact str: container (an exact
 * dict, or a type: its own dict) maps key to expected (`absent`: no entry);
 * key None: type(container) is expected; key 0: container's instance dict
 * (the generic __dict__) is expected; key 1: container (a type)'s __mro__ is
 * expected.  Only reads; the dicts it looks up hold exact-str keys (module,
 * type and instance dicts), so no Python code runs.  One call for a dozen
 * triples is ~0.1 us, where a Python loop took ~0.6 us.
 */
static PyObject *
router_entries_same(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyTuple_CheckExact(args[0]) || PyTuple_GET_SIZE(args[0]) % 3 != 0) {
        PyErr_SetString(PyExc_TypeError, "entries_same(flat: tuple of triples, absent)");
        return NULL;
    }
    PyObject *flat = args[0], *absent = args[1];
    Py_ssize_t n = PyTuple_GET_SIZE(flat);
    for (Py_ssize_t i = 0; i < n; i += 3) {
        PyObject *container = PyTuple_GET_ITEM(flat, i);
        PyObject *key = PyTuple_GET_ITEM(flat, i + 1);
        PyObject *want = PyTuple_GET_ITEM(flat, i + 2);
        if (PyUnicode_CheckExact(key)) {
            PyObject *dict = container;
            int owned = 0;
            if (PyType_Check(container)) {
#if PY_VERSION_HEX >= 0x030C0000
                dict = PyType_GetDict((PyTypeObject *)container);
                owned = 1;
#else
                dict = ((PyTypeObject *)container)->tp_dict;
#endif
            }
            if (dict == NULL || !PyDict_CheckExact(dict)) {
                if (owned)
                    Py_XDECREF(dict);
                Py_RETURN_FALSE;
            }
            PyObject *found = PyDict_GetItemWithError(dict, key); /* borrowed */
            if (owned)
                Py_DECREF(dict); /* a type's dict lives as long as the type, which flat holds */
            if (found == NULL) {
                if (PyErr_Occurred())
                    return NULL;
                found = absent;
            }
            if (found != want)
                Py_RETURN_FALSE;
        } else if (key == Py_None) {
            if ((PyObject *)Py_TYPE(container) != want)
                Py_RETURN_FALSE;
        } else if (PyLong_CheckExact(key)) {
            long kind = PyLong_AsLong(key);
            if (kind == 0) {
                if (Py_TYPE(container)->tp_dictoffset == 0)
                    Py_RETURN_FALSE;
                PyObject *dict = PyObject_GenericGetDict(container, NULL);
                if (dict == NULL)
                    return NULL;
                int same = dict == want;
                Py_DECREF(dict);
                if (!same)
                    Py_RETURN_FALSE;
            } else if (kind == 1) {
                if (!PyType_Check(container) || ((PyTypeObject *)container)->tp_mro != want)
                    Py_RETURN_FALSE;
            } else {
                PyErr_SetString(PyExc_ValueError, "entries_same: unknown entry kind");
                return NULL;
            }
        } else {
            PyErr_SetString(PyExc_TypeError, "entries_same: a key is an exact str, None, 0 or 1");
            return NULL;
        }
    }
    Py_RETURN_TRUE;
}

static PyObject *
router_repr_is_plain(PyObject *module, PyObject *value)
{
    /* headroom: repr needs about one recursion level per nesting level, plus a few */
    int ok = has_recursion_headroom(REPR_MAX_DEPTH + 16);
    if (ok)
        ok = repr_plain(value, 0);
    return PyBool_FromLong(ok);
}


/* ---- router_chain_serves ---------------------------------------------------
 *
 * selector_fast._chain_serves(chain) in C (session 24): whether a call of a patch
 * chain's first function now reaches its last one.  chain is a tuple of
 * (fn, code, cell, following, switch) tuples; for each, in order: a Python layer's
 * code still fn.__code__ (no audit event, as router_code_of), the last entry
 * (following None) skipped, the layer's `fast` cell still holding `following`, the
 * switch on: the dispatcher's globals' ACCELERATED[0], or the engine flag cell's
 * serve_fast.  The same reads as the Python loop (a cell's contents, a dict item,
 * an item, an attribute, their truth), raising what it would raise.  ~0.7 us of
 * Python a usage-v2 pick (two chains: the read's keys, the selector call's).
 */
static PyObject *
chain_cell_contents(PyObject *cell, PyObject *name)
{
    if (PyCell_Check(cell)) {
        PyObject *contents = PyCell_GET(cell);
        if (contents == NULL) {
            PyErr_SetString(PyExc_ValueError, "Cell is empty");
            return NULL;
        }
        return Py_NewRef(contents);
    }
    return PyObject_GetAttr(cell, name);
}

static PyObject *
router_chain_serves(PyObject *module, PyObject *chain)
{
    if (!PyTuple_CheckExact(chain)) {
        PyErr_SetString(PyExc_TypeError, "router_chain_serves: a tuple of (fn, code, cell, following, switch)");
        return NULL;
    }
    PyObject *names = fl_get_state(module)->slots[SLOT_NAMES];
    Py_ssize_t n = PyTuple_GET_SIZE(chain);
    /* (the chain held: a truth test may run code) */
    Py_INCREF(chain);
    PyObject *result = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *entry = PyTuple_GET_ITEM(chain, i);
        if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 5) {
            PyErr_SetString(PyExc_TypeError, "router_chain_serves: a tuple of (fn, code, cell, following, switch)");
            goto done;
        }
        PyObject *fn = PyTuple_GET_ITEM(entry, 0), *code = PyTuple_GET_ITEM(entry, 1);
        PyObject *cell = PyTuple_GET_ITEM(entry, 2), *following = PyTuple_GET_ITEM(entry, 3);
        PyObject *flag = PyTuple_GET_ITEM(entry, 4);
        if (code != Py_None) {
            if (!PyFunction_Check(fn)) {
                PyErr_Format(PyExc_TypeError, "router_code_of: a function, not %.200s", Py_TYPE(fn)->tp_name);
                goto done;
            }
            if (PyFunction_GET_CODE(fn) != code) {
                result = Py_NewRef(Py_False);
                goto done;
            }
        }
        if (following == Py_None)
            continue;
        if (cell != Py_None) {
            PyObject *held = chain_cell_contents(cell, PyTuple_GET_ITEM(names, NAME_CELL_CONTENTS));
            if (held == NULL)
                goto done;
            Py_DECREF(held);
            if (held != following) {
                result = Py_NewRef(Py_False);
                goto done;
            }
        }
        PyObject *value;
        if (PyDict_CheckExact(flag)) {   /* the dispatcher's module globals: ACCELERATED[0] */
            PyObject *key = PyTuple_GET_ITEM(names, NAME_ACCELERATED);
            PyObject *box = PyDict_GetItemWithError(flag, key);
            if (box == NULL) {
                if (!PyErr_Occurred())
                    PyErr_SetObject(PyExc_KeyError, key);
                goto done;
            }
            Py_INCREF(box);
            PyObject *zero = PyLong_FromLong(0);
            value = zero != NULL ? PyObject_GetItem(box, zero) : NULL;
            Py_XDECREF(zero);
            Py_DECREF(box);
        } else {                          /* the engine wrapper's flag cell: .serve_fast */
            PyObject *held = chain_cell_contents(flag, PyTuple_GET_ITEM(names, NAME_CELL_CONTENTS));
            if (held == NULL)
                goto done;
            value = PyObject_GetAttr(held, PyTuple_GET_ITEM(names, NAME_SERVE_FAST));
            Py_DECREF(held);
        }
        if (value == NULL)
            goto done;
        int on = PyObject_IsTrue(value);
        Py_DECREF(value);
        if (on < 0)
            goto done;
        if (!on) {
            result = Py_NewRef(Py_False);
            goto done;
        }
    }
    result = Py_NewRef(Py_True);
done:
    Py_DECREF(chain);
    return result;
}


/* ---- router_usage_prefetch -------------------------------------------------
 *
 * The tail of selector_fast.make_read_usage's read_usage in C (session 24): after
 * the keys and the second bindings check, from the DualCache's instance dict
 * (`own`, read by the caller as `cache.__dict__`) to `self.prefetched_usage`.
 * The Python lines it replaces, in their order:
 *
 *   memory = own.get("in_memory_cache", absent)
 *   if own.get("redis_cache", absent) is not None or "async_batch_get_cache" in own
 *           or "_prepare_batch_get" in own or requests() is not None:
 *       -> False (LiteLLM's read)
 *   memory_own = getattr(memory, "__dict__", None)
 *   if (type(memory) is memory_cls and type(memory_own) is dict
 *           and memory_cls.__dict__.get("get_cache") in get_ok
 *           and memory_cls.__dict__.get("async_batch_get_cache") in batch_ok
 *           and "get_cache" not in memory_own and "async_batch_get_cache" not in memory_own
 *           and type(memory_own.get("cache_dict")) is dict
 *           and memory_own["cache_dict"].keys().isdisjoint(keys)):
 *       found = key_values if key_values is not None else dict.fromkeys(keys)
 *   else:
 *       -> None (the memory tier's read, the caller's)
 *   usage = object_new(usage_cls); fields = usage.__dict__
 *   fields["keys"] = key_set if key_set is not None else frozenset(keys)
 *   fields["values"] = found
 *   self.prefetched_usage = usage
 *   -> True
 *
 * Ellipsis, before anything is read, when `own` is not an exact dict or `keys` not
 * an exact list of exact strs (the caller's Python lines then).  The dict reads and
 * membership tests of exact dicts with exact-str keys run no code; `in get_ok` is
 * the tuple's own containment (an identity first, as `in` compares).
 */
static int
usage_str_keyed(PyObject *dict, PyObject *key)
{
    return PyDict_Contains(dict, key);
}

static PyObject *
router_usage_prefetch(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 11) {
        PyErr_SetString(PyExc_TypeError, "router_usage_prefetch(batch, own, absent, requests, memory_cls, get_ok, "
                                         "batch_ok, keys, key_set, key_values, (usage_cls, object_new))");
        return NULL;
    }
    PyObject *batch = args[0], *own = args[1], *absent = args[2], *requests = args[3], *memory_cls = args[4];
    PyObject *get_ok = args[5], *batch_ok = args[6], *keys = args[7], *key_set = args[8], *key_values = args[9];
    PyObject *usage_parts = args[10];
    if (!PyDict_CheckExact(own) || !PyList_CheckExact(keys) || !PyType_Check(memory_cls)
        || !PyTuple_CheckExact(get_ok) || !PyTuple_CheckExact(batch_ok) || !PyTuple_CheckExact(usage_parts)
        || PyTuple_GET_SIZE(usage_parts) != 2)
        return Py_NewRef(Py_Ellipsis);
    Py_ssize_t n = PyList_GET_SIZE(keys);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyUnicode_CheckExact(PyList_GET_ITEM(keys, i)))
            return Py_NewRef(Py_Ellipsis);
    }
    PyObject *names = fl_get_state(module)->slots[SLOT_NAMES];
#define UP_NAME(i) PyTuple_GET_ITEM(names, (i))
    PyObject *result = NULL, *memory = NULL, *memory_own = NULL, *found = NULL, *usage = NULL, *fields = NULL;
    PyObject *set = NULL;
    /* (the arguments held: requests() and the reads below may run code) */
    Py_INCREF(own);
    Py_INCREF(keys);
    memory = PyDict_GetItemWithError(own, UP_NAME(NAME_IN_MEMORY_CACHE));
    if (memory == NULL) {
        if (PyErr_Occurred())
            goto done;
        memory = absent;
    }
    Py_INCREF(memory);
    PyObject *redis = PyDict_GetItemWithError(own, UP_NAME(NAME_REDIS_CACHE));
    if (redis == NULL && PyErr_Occurred())
        goto done;
    if ((redis == NULL ? absent : redis) != Py_None) {
        result = Py_NewRef(Py_False);
        goto done;
    }
    int in = usage_str_keyed(own, UP_NAME(NAME_ASYNC_BATCH_GET_CACHE));
    if (in == 0)
        in = usage_str_keyed(own, UP_NAME(NAME_PREPARE_BATCH_GET));
    if (in != 0) {
        if (in > 0)
            result = Py_NewRef(Py_False);
        goto done;
    }
    {
        PyObject *batches = PyObject_CallNoArgs(requests);
        if (batches == NULL)
            goto done;
        int none = batches == Py_None;
        Py_DECREF(batches);
        if (!none) {
            result = Py_NewRef(Py_False);
            goto done;
        }
    }
    memory_own = PyObject_GetAttr(memory, UP_NAME(NAME_DICT));
    if (memory_own == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            goto done;
        PyErr_Clear();
        memory_own = Py_NewRef(Py_None);
    }
    int fast = (PyObject *)Py_TYPE(memory) == memory_cls && PyDict_CheckExact(memory_own);
    for (int which = 0; fast && which < 2; which++) {
        PyObject *name = UP_NAME(which == 0 ? NAME_GET_CACHE : NAME_ASYNC_BATCH_GET_CACHE);
        PyObject *fn = PyDict_GetItemWithError(((PyTypeObject *)memory_cls)->tp_dict, name);
        if (fn == NULL && PyErr_Occurred())
            goto done;
        Py_XINCREF(fn);
        int ok = PySequence_Contains(which == 0 ? get_ok : batch_ok, fn == NULL ? Py_None : fn);
        Py_XDECREF(fn);
        if (ok < 0)
            goto done;
        fast = ok;
    }
    for (int which = 0; fast && which < 2; which++) {
        int in_own = usage_str_keyed(memory_own, UP_NAME(which == 0 ? NAME_GET_CACHE : NAME_ASYNC_BATCH_GET_CACHE));
        if (in_own < 0)
            goto done;
        fast = !in_own;
    }
    if (fast) {
        PyObject *cache_dict = PyDict_GetItemWithError(memory_own, UP_NAME(NAME_CACHE_DICT));
        if (cache_dict == NULL && PyErr_Occurred())
            goto done;
        fast = cache_dict != NULL && PyDict_CheckExact(cache_dict);
        if (fast) {
            Py_INCREF(cache_dict);
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(keys); i++) {
                int hit = PyDict_Contains(cache_dict, PyList_GET_ITEM(keys, i));
                if (hit != 0) {
                    fast = 0;
                    if (hit < 0) {
                        Py_DECREF(cache_dict);
                        goto done;
                    }
                    break;
                }
            }
            Py_DECREF(cache_dict);
        }
    }
    if (!fast) {
        result = Py_NewRef(Py_None);   /* the memory tier's read: the caller's */
        goto done;
    }
    if (key_values != Py_None) {
        found = Py_NewRef(key_values);
    } else {
        found = PyDict_New();
        if (found == NULL)
            goto done;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(keys); i++) {
            if (PyDict_SetItem(found, PyList_GET_ITEM(keys, i), Py_None) < 0)
                goto done;
        }
    }
    usage = PyObject_CallOneArg(PyTuple_GET_ITEM(usage_parts, 1), PyTuple_GET_ITEM(usage_parts, 0));
    if (usage == NULL)
        goto done;
    fields = PyObject_GetAttr(usage, UP_NAME(NAME_DICT));
    if (fields == NULL)
        goto done;
    set = key_set != Py_None ? Py_NewRef(key_set) : PyFrozenSet_New(keys);
    if (set == NULL)
        goto done;
    if (PyObject_SetItem(fields, UP_NAME(NAME_KEYS), set) < 0)
        goto done;
    if (PyObject_SetItem(fields, UP_NAME(NAME_VALUES), found) < 0)
        goto done;
    if (PyObject_SetAttr(batch, UP_NAME(NAME_PREFETCHED_USAGE), usage) < 0)
        goto done;
    result = Py_NewRef(Py_True);
#undef UP_NAME
done:
    Py_XDECREF(set);
    Py_XDECREF(fields);
    Py_XDECREF(usage);
    Py_XDECREF(found);
    Py_XDECREF(memory_own);
    Py_XDECREF(memory);
    Py_DECREF(keys);
    Py_DECREF(own);
    return result;
}


/* ---- router_usage_v2_front -------------------------------------------------
 *
 * The front guard of selector_fast.make_usage_v2_pick's usage_v2_pick in C
 * (session 24, route24d): its lines from the messages / input / exact-class check
 * to `_chain_serves(layers)`, the same reads, calls and truth tests in the same
 * order, each decline the same (DECLINED returned), each error raised as the
 * Python lines raise it:
 *
 *   messages is not None or input is not None or type(selector) is not cls
 *       or cls.__getattribute__ is not object.__getattribute__        -> DECLINED
 *   state = selector.__dict__
 *   known = memo.get(state, cls);  None: known = remember(state)
 *   logger = g.get("verbose_router_logger")
 *   not known or not quiet(logger) or builtins.get("__import__") is not builtin_import
 *       or not (rb_memo.get(rb_key, builtins) or rb_memo.remember(rb_key, builtins, rb_check))
 *       or a closure cell's cell_contents is not as built (four)        -> DECLINED
 *   keys_function, layers = known[0];  not _chain_serves(layers)         -> DECLINED
 *   -> (keys_function, logger)
 *
 * (remember(state) is the Python lines' memo.remember(state, cls, lambda: bindings(state)).)
 * parts is the tuple make_usage_v2_pick builds once, in V2F_* order.
 */
enum {
    V2F_CLS, V2F_OBJECT_GETATTRIBUTE, V2F_MEMO, V2F_REMEMBER, V2F_GLOBALS, V2F_QUIET, V2F_BUILTINS,
    V2F_BUILTIN_IMPORT, V2F_RB_MEMO, V2F_RB_KEY, V2F_RB_CHECK, V2F_CELLS, V2F_CONTENTS = V2F_CELLS + 4,
    V2F_DECLINED = V2F_CONTENTS + 4, V2F_COUNT
};

static PyObject *router_chain_serves(PyObject *module, PyObject *chain);

/* truth of obj (a new reference, consumed): 1, 0, -1 on error (also for a NULL obj) */
static int
v2f_truth(PyObject *obj)
{
    if (obj == NULL)
        return -1;
    int t = PyObject_IsTrue(obj);
    Py_DECREF(obj);
    return t;
}

static PyObject *
router_usage_v2_front(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyTuple_CheckExact(args[0]) || PyTuple_GET_SIZE(args[0]) != V2F_COUNT) {
        PyErr_SetString(PyExc_TypeError, "router_usage_v2_front(parts, selector, messages, input)");
        return NULL;
    }
    PyObject *parts = args[0], *selector = args[1];
#define V2F(i) PyTuple_GET_ITEM(parts, (i))
    PyObject *names = fl_get_state(module)->slots[SLOT_NAMES];
#define V2N(i) PyTuple_GET_ITEM(names, (i))
    PyObject *cls = V2F(V2F_CLS);
    if (args[2] != Py_None || args[3] != Py_None || (PyObject *)Py_TYPE(selector) != cls)
        return Py_NewRef(V2F(V2F_DECLINED));
    /* (held across the reads and calls below: each may run code) */
    Py_INCREF(parts);
    Py_INCREF(selector);
    PyObject *result = NULL, *state = NULL, *known = NULL, *logger = NULL;
    PyObject *hook = PyObject_GetAttr(cls, V2N(NAME_GETATTRIBUTE));
    if (hook == NULL)
        goto done;
    Py_DECREF(hook);
    if (hook != V2F(V2F_OBJECT_GETATTRIBUTE))
        goto declined;
    state = PyObject_GetAttr(selector, V2N(NAME_DICT));
    if (state == NULL)
        goto done;
    {
        PyObject *get_args[3] = {V2F(V2F_MEMO), state, cls};
        known = PyObject_VectorcallMethod(V2N(NAME_GET), get_args, 3, NULL);
    }
    if (known == NULL)
        goto done;
    if (known == Py_None) {
        Py_DECREF(known);
        known = PyObject_CallOneArg(V2F(V2F_REMEMBER), state);
        if (known == NULL)
            goto done;
    }
    {
        PyObject *g = V2F(V2F_GLOBALS);
        if (!PyDict_Check(g)) {
            PyErr_SetString(PyExc_TypeError, "router_usage_v2_front: the module's dict");
            goto done;
        }
        logger = PyDict_GetItemWithError(g, V2N(NAME_VERBOSE_ROUTER_LOGGER));
        if (logger == NULL && PyErr_Occurred())
            goto done;
        logger = Py_NewRef(logger != NULL ? logger : Py_None);
    }
    int t = PyObject_IsTrue(known);
    if (t <= 0)
        goto declined_or_error;
    t = v2f_truth(PyObject_CallOneArg(V2F(V2F_QUIET), logger));
    if (t <= 0)
        goto declined_or_error;
    {
        PyObject *b = V2F(V2F_BUILTINS);
        if (!PyDict_Check(b)) {
            PyErr_SetString(PyExc_TypeError, "router_usage_v2_front: the builtins dict");
            goto done;
        }
        PyObject *imp = PyDict_GetItemWithError(b, V2N(NAME_IMPORT));
        if (imp == NULL && PyErr_Occurred())
            goto done;
        if ((imp != NULL ? imp : Py_None) != V2F(V2F_BUILTIN_IMPORT))
            goto declined;
        PyObject *rb_args[4] = {V2F(V2F_RB_MEMO), V2F(V2F_RB_KEY), b, V2F(V2F_RB_CHECK)};
        t = v2f_truth(PyObject_VectorcallMethod(V2N(NAME_GET), rb_args, 3, NULL));
        if (t < 0)
            goto done;
        if (!t) {
            t = v2f_truth(PyObject_VectorcallMethod(V2N(NAME_REMEMBER), rb_args, 4, NULL));
            if (t <= 0)
                goto declined_or_error;
        }
    }
    for (int i = 0; i < 4; i++) {
        PyObject *held = chain_cell_contents(V2F(V2F_CELLS + i), V2N(NAME_CELL_CONTENTS));
        if (held == NULL)
            goto done;
        Py_DECREF(held);
        if (held != V2F(V2F_CONTENTS + i))
            goto declined;
    }
    {
        /* keys_function, layers = known[0] (the memo's value: ((keys_function, layers),)) */
        PyObject *first;
        if (PyTuple_CheckExact(known) && PyTuple_GET_SIZE(known) > 0) {
            first = Py_NewRef(PyTuple_GET_ITEM(known, 0));
        } else {
            PyObject *zero = PyLong_FromLong(0);
            first = zero != NULL ? PyObject_GetItem(known, zero) : NULL;
            Py_XDECREF(zero);
            if (first == NULL)
                goto done;
        }
        if (!PyTuple_CheckExact(first) || PyTuple_GET_SIZE(first) != 2) {
            PyErr_SetString(PyExc_TypeError, "router_usage_v2_front: the memo's value is ((keys_function, layers),)");
            Py_DECREF(first);
            goto done;
        }
        t = v2f_truth(router_chain_serves(module, PyTuple_GET_ITEM(first, 1)));
        if (t > 0)
            result = PyTuple_Pack(2, PyTuple_GET_ITEM(first, 0), logger);
        Py_DECREF(first);
        if (t < 0 || result != NULL)
            goto done;
        goto declined;
    }
declined_or_error:
    if (t < 0)
        goto done;
declined:
    result = Py_NewRef(V2F(V2F_DECLINED));
done:
    Py_XDECREF(logger);
    Py_XDECREF(known);
    Py_XDECREF(state);
    Py_DECREF(selector);
    Py_DECREF(parts);
    return result;
#undef V2F
#undef V2N
}


/* ---- router_usage_minute_keys ----------------------------------------------
 *
 * The clock-to-keys tail of selector_fast.make_usage_counter_keys' usage_counter_keys
 * in C (session 24; the prefixes are found before, by the caller).  The Python lines,
 * in their order:
 *
 *   with callers_errors:
 *       now = module.get_utc_datetime()
 *       if type(now) is _datetime and <the table's conditions>:
 *           minute = _MINUTES[now.hour * 60 + now.minute]
 *       else:
 *           minute = now.strftime("%H-%M")
 *       if type(minute) is not str:
 *           return [f"{p}:tpm:{minute}" for p in prefixes], [f"{p}:rpm:{minute}" for p in prefixes]
 *   last = last_built[0]
 *   if type(minute) is str and last[1] == minute and (last[0] is prefixes or last[0] == prefixes):
 *       tpm_keys = list(last[2]); served[0] = (tpm_keys, last)
 *       return tpm_keys, list(last[3])
 *   built = keys(prefixes, ":tpm:" + minute, ":rpm:" + minute)
 *   if type(minute) is str:
 *       last_built[0] = (prefixes, minute, tuple(built[0]), tuple(built[1]))
 *   return built[0], built[1]
 *
 * state: (module, "get_utc_datetime", callers_error, datetime, _MINUTES, last_built,
 * served, ":tpm:", ":rpm:", "hour", "minute", "strftime", "%H-%M", modules, "time",
 * the time module, time.strftime, timezone, "tzinfo").  An Exception from the clock, strftime or a
 * minute's __format__ is marked with callers_error (callers_errors' __exit__), then raised.
 *
 * The table's conditions (session 25, hunt25): an exact datetime's strftime calls
 * `time.strftime` (the module as `import time` finds it in sys.modules) with its
 * timetuple(), which calls its tzinfo's dst(): the table stands for it only while
 * modules["time"] is the time module, its strftime the builtin one, and the tzinfo
 * None or an exact timezone (whose dst() runs no code).  A minute strftime gave that
 * is not an exact str is formatted into each key as LiteLLM's f-strings format it
 * (format(minute, "") once a key, tpm keys first), not concatenated.
 */
/* callers_errors.__exit__ over the error set: an Exception is marked with
 * callers_error, then the error is set again (always NULL). */
static PyObject *
usage_callers_error(PyObject *callers_error)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL)
        PyException_SetTraceback(value, tb);
    if (value != NULL && PyObject_IsInstance(value, PyExc_Exception) == 1) {
        PyObject *marked = PyObject_CallOneArg(callers_error, value);
        if (marked == NULL) {
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(tb);
            return NULL;
        }
        Py_DECREF(marked);
    }
    PyErr_Restore(type, value, tb);
    return NULL;
}

/* LiteLLM's [f"{prefix}{tail}{minute}" for prefix in prefixes] for exact-str prefixes
 * and tail: format(minute, "") per key, as the f-string's FORMAT_VALUE makes it. */
static PyObject *
usage_format_keys(PyObject *prefixes, PyObject *tail, PyObject *minute)
{
    PyObject *empty = PyUnicode_New(0, 0);
    if (empty == NULL)
        return NULL;
    PyObject *keys = PyList_New(0);
    /* (the length read each time: a __format__ may run any code) */
    for (Py_ssize_t i = 0; keys != NULL && i < PyList_GET_SIZE(prefixes); i++) {
        PyObject *prefix = Py_NewRef(PyList_GET_ITEM(prefixes, i));
        PyObject *formatted = PyObject_Format(minute, NULL);
        PyObject *key = NULL;
        if (formatted != NULL) {
            PyObject *const parts[4] = {prefix, tail, formatted, empty};
            key = usage_join(parts);
            Py_DECREF(formatted);
        }
        Py_DECREF(prefix);
        if (key == NULL || PyList_Append(keys, key) < 0)
            Py_CLEAR(keys);
        Py_XDECREF(key);
    }
    Py_DECREF(empty);
    return keys;
}

static PyObject *
router_usage_minute_keys(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyTuple_CheckExact(args[0]) || PyTuple_GET_SIZE(args[0]) != 19
        || !PyList_CheckExact(PyTuple_GET_ITEM(args[0], 5)) || !PyList_CheckExact(PyTuple_GET_ITEM(args[0], 6))
        || !PyTuple_CheckExact(PyTuple_GET_ITEM(args[0], 4)) || !PyDict_CheckExact(PyTuple_GET_ITEM(args[0], 13))
        || !PyUnicode_CheckExact(PyTuple_GET_ITEM(args[0], 7))
        || !PyUnicode_CheckExact(PyTuple_GET_ITEM(args[0], 8))) {
        PyErr_SetString(PyExc_TypeError, "router_usage_minute_keys(state, prefixes)");
        return NULL;
    }
    PyObject *state = args[0], *prefixes = args[1];
#define UM(i) PyTuple_GET_ITEM(state, (i))
    PyObject *now = NULL, *minute = NULL, *last = NULL, *result = NULL, *built = NULL;
    Py_INCREF(state);
    Py_INCREF(prefixes);
    {
        PyObject *clock = PyObject_GetAttr(UM(0), UM(1));
        if (clock != NULL) {
            now = PyObject_CallNoArgs(clock);
            Py_DECREF(clock);
        }
        if (now == NULL) {
            /* callers_errors.__exit__: an Exception leaving the block is the caller's */
            usage_callers_error(UM(2));
            goto done;
        }
    }
    int table = (PyObject *)Py_TYPE(now) == UM(3);
    /* the interpreter's C datetime type (a static type of that struct's size; the pure-Python
     * _pydatetime class is a heap type): its fields are read from the struct */
    int c_datetime = table && !(PyType_GetFlags(Py_TYPE(now)) & Py_TPFLAGS_HEAPTYPE)
                     && Py_TYPE(now)->tp_basicsize == (Py_ssize_t)sizeof(PyDateTime_DateTime)
                     && PyTuple_GET_SIZE(UM(4)) == 24 * 60;
    if (table) {
        /* (what the datetime's strftime reads: modules["time"].strftime, the tzinfo's dst) */
        PyObject *time_module = PyDict_GetItemWithError(UM(13), UM(14));
        PyObject *found = NULL;
        if (time_module == UM(15)) {
            PyObject *time_dict = PyModule_GetDict(time_module);
            found = time_dict != NULL ? PyDict_GetItemWithError(time_dict, UM(11)) : NULL;
        }
        if (PyErr_Occurred())
            goto done;
        table = found == UM(16);
        if (table && c_datetime) {
            /* (now.tzinfo, a field of the C type's struct: no code either way) */
            PyObject *tz = PyDateTime_DATE_GET_TZINFO(now);
            table = tz == Py_None || (PyObject *)Py_TYPE(tz) == UM(17);
        } else if (table) {
            PyObject *tz = PyObject_GetAttr(now, UM(18));
            if (tz == NULL)
                goto done;
            table = tz == Py_None || (PyObject *)Py_TYPE(tz) == UM(17);
            Py_DECREF(tz);
        }
    }
    if (table && c_datetime) {
        /* (now.hour, now.minute: the C type's fields, 0..23 and 0..59) */
        minute = Py_NewRef(PyTuple_GET_ITEM(UM(4), PyDateTime_DATE_GET_HOUR(now) * 60
                                                       + PyDateTime_DATE_GET_MINUTE(now)));
    } else if (table) {
        PyObject *hour = PyObject_GetAttr(now, UM(9));
        if (hour == NULL)
            goto done;
        PyObject *min = PyObject_GetAttr(now, UM(10));
        if (min == NULL) {
            Py_DECREF(hour);
            goto done;
        }
        long h = PyLong_AsLong(hour), m = PyLong_AsLong(min);
        Py_DECREF(hour);
        Py_DECREF(min);
        if ((h == -1 || m == -1) && PyErr_Occurred())
            goto done;
        Py_ssize_t at = (Py_ssize_t)(h * 60 + m);
        if (at < 0 || at >= PyTuple_GET_SIZE(UM(4))) {
            PyErr_SetString(PyExc_IndexError, "tuple index out of range");
            goto done;
        }
        minute = Py_NewRef(PyTuple_GET_ITEM(UM(4), at));
    } else {
        minute = PyObject_CallMethodOneArg(now, UM(11), UM(12));
        if (minute == NULL) {
            usage_callers_error(UM(2));
            goto done;
        }
        if (!PyUnicode_CheckExact(minute)) {
            /* LiteLLM's f-strings: format(minute, "") in each key, the tpm keys first */
            if (!PyList_CheckExact(prefixes)) {
                PyErr_SetString(PyExc_TypeError, "router_usage_minute_keys: prefixes must be a list");
                goto done;
            }
            PyObject *tpm = usage_format_keys(prefixes, UM(7), minute);
            PyObject *rpm = tpm != NULL ? usage_format_keys(prefixes, UM(8), minute) : NULL;
            if (rpm == NULL) {
                Py_XDECREF(tpm);
                usage_callers_error(UM(2));
                goto done;
            }
            result = PyTuple_Pack(2, tpm, rpm);
            Py_DECREF(tpm);
            Py_DECREF(rpm);
            goto done;
        }
    }
    if (PyList_GET_SIZE(UM(5)) < 1) {
        PyErr_SetString(PyExc_IndexError, "list index out of range");
        goto done;
    }
    last = Py_NewRef(PyList_GET_ITEM(UM(5), 0));
    if (PyUnicode_CheckExact(minute) && PyTuple_CheckExact(last) && PyTuple_GET_SIZE(last) == 4) {
        int same = PyObject_RichCompareBool(PyTuple_GET_ITEM(last, 1), minute, Py_EQ);
        if (same < 0)
            goto done;
        if (same && PyTuple_GET_ITEM(last, 0) != prefixes) {
            same = PyObject_RichCompareBool(PyTuple_GET_ITEM(last, 0), prefixes, Py_EQ);
            if (same < 0)
                goto done;
        }
        if (same) {
            PyObject *tpm = PySequence_List(PyTuple_GET_ITEM(last, 2));
            if (tpm == NULL)
                goto done;
            PyObject *mark = PyTuple_Pack(2, tpm, last);
            if (mark == NULL) {
                Py_DECREF(tpm);
                goto done;
            }
            if (PyList_GET_SIZE(UM(6)) < 1 || PyList_SetItem(UM(6), 0, mark) < 0) {
                if (PyList_GET_SIZE(UM(6)) < 1) {
                    Py_DECREF(mark);
                    PyErr_SetString(PyExc_IndexError, "list assignment index out of range");
                }
                Py_DECREF(tpm);
                goto done;
            }
            PyObject *rpm = PySequence_List(PyTuple_GET_ITEM(last, 3));
            if (rpm == NULL) {
                Py_DECREF(tpm);
                goto done;
            }
            result = PyTuple_Pack(2, tpm, rpm);
            Py_DECREF(tpm);
            Py_DECREF(rpm);
            goto done;
        }
    } else if (PyUnicode_CheckExact(minute)) {
        /* (a last_built entry of another shape: never ours; the Python lines would index it) */
        PyErr_SetString(PyExc_TypeError, "router_usage_minute_keys: last_built holds a 4-tuple");
        goto done;
    }
    {
        PyObject *tpm_tail = PyNumber_Add(UM(7), minute);
        if (tpm_tail == NULL)
            goto done;
        PyObject *rpm_tail = PyNumber_Add(UM(8), minute);
        if (rpm_tail == NULL) {
            Py_DECREF(tpm_tail);
            goto done;
        }
        PyObject *const key_args[3] = {prefixes, tpm_tail, rpm_tail};
        built = router_usage_keys(module, key_args, 3);
        Py_DECREF(tpm_tail);
        Py_DECREF(rpm_tail);
        if (built == NULL)
            goto done;
    }
    if (PyUnicode_CheckExact(minute)) {
        PyObject *tpm = PySequence_Tuple(PyTuple_GET_ITEM(built, 0));
        PyObject *rpm = tpm != NULL ? PySequence_Tuple(PyTuple_GET_ITEM(built, 1)) : NULL;
        PyObject *kept = rpm != NULL ? PyTuple_Pack(4, prefixes, minute, tpm, rpm) : NULL;
        Py_XDECREF(tpm);
        Py_XDECREF(rpm);
        if (kept == NULL)
            goto done;
        if (PyList_SetItem(UM(5), 0, kept) < 0)
            goto done;
    }
    result = Py_NewRef(built);
#undef UM
done:
    Py_XDECREF(built);
    Py_XDECREF(last);
    Py_XDECREF(minute);
    Py_XDECREF(now);
    Py_DECREF(prefixes);
    Py_DECREF(state);
    return result;
}

static PyMethodDef router_functions[] = {
    {"router_json_copy", router_json_copy, METH_O,
     "router_json_copy(value): fresh dicts/lists all the way down, scalars shared."},
    {"router_json_copy_interned", router_json_copy_interned, METH_O,
     "router_json_copy_interned(value): router_json_copy with exact-str dict keys interned."},
    {"router_repr_is_plain", router_repr_is_plain, METH_O,
     "router_repr_is_plain(value): formatting value runs no Python code and cannot raise."},
    {"router_str_keyed", router_str_keyed, METH_O,
     "router_str_keyed(value): value is an exact dict whose keys are all exact str."},
    {"router_span_absent", (PyCFunction)(void (*)(void))router_span_absent, METH_FASTCALL,
     "router_span_absent(request, names): get_parent_otel_span_from_kwargs(request) is None by reads running no code."},
    {"router_dict_tags", (PyCFunction)(void (*)(void))router_dict_tags, METH_FASTCALL,
     "router_dict_tags(objects[, recorded]): version tags of dicts/types as bytes, or whether they match; "
     "None without tags."},
    {"router_entries_same", (PyCFunction)(void (*)(void))router_entries_same, METH_FASTCALL,
     "router_entries_same(flat, absent): whether each (container, key, expected) triple still holds."},
    {"router_cooldown_ids", router_cooldown_ids, METH_O,
     "router_cooldown_ids(keys): ids of deployment:<id>:cooldown keys (tuple), None, or NotImplemented."},
    {"router_json_plain", (PyCFunction)(void (*)(void))router_json_plain, METH_FASTCALL,
     "router_json_plain(value, (NaN, PosInf, NegInf)): json.loads(json.dumps(value)) for plain JSON data, "
     "else NotImplemented."},
    {"router_records_of", (PyCFunction)(void (*)(void))router_records_of, METH_FASTCALL,
     "router_records_of(ids, known): the known records of ids (None as {}), or None."},
    {"router_fork_generation", router_fork_generation, METH_NOARGS,
     "router_fork_generation(): this process's fork generation (bumped in a child forked through libc)."},
    {"router_first_strs", router_first_strs, METH_O,
     "router_first_strs(values): list(dict.fromkeys(values)) for an exact list of exact str, else NotImplemented."},
    {"router_same_ids", (PyCFunction)(void (*)(void))router_same_ids, METH_FASTCALL,
     "router_same_ids(ids, previous): the same exact str values in the same order."},
    {"router_index_by_id", (PyCFunction)(void (*)(void))router_index_by_id, METH_FASTCALL,
     "router_index_by_id(deployments, names): {id: last deployment with it}, or None."},
    {"router_sample_all", (PyCFunction)(void (*)(void))router_sample_all, METH_FASTCALL,
     "router_sample_all(getrandbits, population): Random.sample(population, len(population))'s draws."},
    {"router_sample_then_choose", (PyCFunction)(void (*)(void))router_sample_then_choose, METH_FASTCALL,
     "router_sample_then_choose(getrandbits, n, values, latency): Random.sample(range(n), n) then choice's draws."},
    {"router_all_known", (PyCFunction)(void (*)(void))router_all_known, METH_FASTCALL,
     "router_all_known(deployments, counts, names): every deployment's id already counted."},
    {"router_latency_scan", (PyCFunction)(void (*)(void))router_latency_scan, METH_FASTCALL,
     "router_latency_scan(keys, counts, by_id, names, minute, input_tokens, streaming, percentile, report, sum, "
     "native_sum, buffer, table, positions): (within, pairs, per api_base) or None."},
    {"router_sample_positions", (PyCFunction)(void (*)(void))router_sample_positions, METH_FASTCALL,
     "router_sample_positions(getrandbits, n): random.sample(range(n), n)'s draws as native uint32 bytes."},
    {"router_take", (PyCFunction)(void (*)(void))router_take, METH_FASTCALL,
     "router_take(values, positions): [values[p] for p in positions]."},
    {"router_candidate_table", (PyCFunction)(void (*)(void))router_candidate_table, METH_FASTCALL,
     "router_candidate_table(by_id, names): (slots, capsule) of what the scans read of each deployment, or None."},
    {"router_latency_within", (PyCFunction)(void (*)(void))router_latency_within, METH_FASTCALL,
     "router_latency_within(pairs, buffer): the pairs within the buffer of the lowest latency, ranked, or None."},
    {"router_latency_average", router_latency_average, METH_O,
     "router_latency_average(samples): sum(usable) / len(usable) as the builtin sum makes it, or None."},
    {"router_latency_fresh", (PyCFunction)(void (*)(void))router_latency_fresh, METH_FASTCALL,
     "router_latency_fresh(keys, by_id, names, input_tokens, latency, report): (kept, per api_base) or None."},
    {"router_cost_scan", (PyCFunction)(void (*)(void))router_cost_scan, METH_FASTCALL,
     "router_cost_scan(keys, maps, by_id, names, cost_map, minute, input_tokens, table, entry): (pick, pairs) or "
     "None."},
    {"router_entry_row", (PyCFunction)(void (*)(void))router_entry_row, METH_FASTCALL,
     "router_entry_row(value, entry): value is an exact dict, or exactly an `entry` whose reads are dict's own, "
     "with exact-str keys."},
    {"router_rows_at", (PyCFunction)(void (*)(void))router_rows_at, METH_FASTCALL,
     "router_rows_at(rows, entries, keys): HostRegistry._rows of {'at': i} rows, or None."},
    {"router_usage_prefixes", (PyCFunction)(void (*)(void))router_usage_prefixes, METH_FASTCALL,
     "router_usage_prefixes(deployments, names, entry[, box]): usage-v2 counter key prefixes id:model, or None."},
    {"router_usage_keys", (PyCFunction)(void (*)(void))router_usage_keys, METH_FASTCALL,
     "router_usage_keys(prefixes, tpm_tail, rpm_tail): ([p + tpm_tail], [p + rpm_tail])."},
    {"router_chain_serves", router_chain_serves, METH_O,
     "router_chain_serves(chain): selector_fast._chain_serves, whether a patch chain's first function reaches "
     "its last one now."},
    {"router_usage_prefetch", (PyCFunction)(void (*)(void))router_usage_prefetch, METH_FASTCALL,
     "router_usage_prefetch(batch, own, absent, requests, memory_cls, get_ok, batch_ok, keys, key_set, key_values, "
     "(usage_cls, object_new)): the usage-v2 read's tail: True (prefetched_usage set), False (LiteLLM's read), "
     "None (the memory tier's read), Ellipsis (the Python lines)."},
    {"router_usage_v2_front", (PyCFunction)(void (*)(void))router_usage_v2_front, METH_FASTCALL,
     "router_usage_v2_front(parts, selector, messages, input): usage_v2_pick's front guard (to the chain "
     "check), (keys_function, logger) or DECLINED"},
    {"router_usage_minute_keys", (PyCFunction)(void (*)(void))router_usage_minute_keys, METH_FASTCALL,
     "router_usage_minute_keys(state, prefixes): usage_counter_keys' clock read, minute and keys (kept ones "
     "copied for the same prefixes and minute)."},
    {"router_usage_pick", (PyCFunction)(void (*)(void))router_usage_pick, METH_FASTCALL,
     "router_usage_pick(healthy, tpm_keys, tpm_values, rpm_keys, rpm_values, input_tokens, names, accepted): "
     "usage-v2's lowest-usage deployments within limits, True (covered) or None."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot RouterCore_slots[] = {
    {Py_tp_new, RouterCore_new},
    {Py_tp_dealloc, RouterCore_dealloc},
    {Py_tp_traverse, RouterCore_traverse},
    {Py_tp_clear, RouterCore_clear},
    {Py_tp_methods, RouterCore_methods},
    {Py_tp_doc, "The seed router's C core: a compiled model-list index and a load table."},
    {0, NULL},
};

static PyType_Spec RouterCore_spec = {
    .name = "fast_litellm._native.RouterCore",
    .basicsize = sizeof(RouterCore),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = RouterCore_slots,
};


/* ---- RouterLoggerQuiet -----------------------------------------------------
 *
 * routing/_logger_guard.quiet(logger) in C (session 24): whether a fast path may
 * ask a LiteLLM logger whether DEBUG is on and skip the debug calls it would make.
 * The same reads in the same order as the Python function: logger an exact
 * Logger, Logger.__getattribute__ object's, then logger.isEnabledFor, .debug and
 * .getEffectiveLevel each read as an attribute and found to be logging's own
 * function bound to this logger, then logging's own isEnabledFor(logger, DEBUG)
 * called and its truth negated.  An error from any read or call is raised, as the
 * Python function raises it.  ~0.25 us a call in Python, three calls a v2 pick.
 */
enum { LQ_GETATTRIBUTE, LQ_IS_ENABLED_FOR, LQ_DEBUG, LQ_EFFECTIVE_LEVEL, LQ_NAMES };

typedef struct {
    PyObject_HEAD
    PyObject *logger_type;
    PyObject *hook;
    PyObject *functions[3];    /* isEnabledFor, debug, getEffectiveLevel: logging's own */
    PyObject *level;
    PyObject *names[LQ_NAMES];
    vectorcallfunc vectorcall;
} RouterLoggerQuiet;

/* logger.<name> is `function` bound to logger: 1, 0, -1 on error */
static int
lq_bound_own(RouterLoggerQuiet *self, PyObject *logger, int name, PyObject *function)
{
    PyObject *method = PyObject_GetAttr(logger, self->names[name]);
    if (method == NULL)
        return -1;
    int own = Py_IS_TYPE(method, &PyMethod_Type) && PyMethod_GET_FUNCTION(method) == function
              && PyMethod_GET_SELF(method) == logger;
    Py_DECREF(method);
    return own;
}

static PyObject *
RouterLoggerQuiet_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    RouterLoggerQuiet *self = (RouterLoggerQuiet *)op;
    if (PyVectorcall_NARGS(nargsf) != 1 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0)) {
        PyErr_SetString(PyExc_TypeError, "quiet(logger) takes one positional argument");
        return NULL;
    }
    PyObject *logger = args[0];
    if ((PyObject *)Py_TYPE(logger) != self->logger_type)
        Py_RETURN_FALSE;
    PyObject *hook = PyObject_GetAttr(self->logger_type, self->names[LQ_GETATTRIBUTE]);
    if (hook == NULL)
        return NULL;
    int plain = hook == self->hook;
    Py_DECREF(hook);
    if (!plain)
        Py_RETURN_FALSE;
    /* (the logger held across the reads: an attribute read may run code) */
    Py_INCREF(logger);
    PyObject *result = NULL;
    for (int i = 0; i < 3; i++) {
        int own = lq_bound_own(self, logger, LQ_IS_ENABLED_FOR + i, self->functions[i]);
        if (own <= 0) {
            result = own < 0 ? NULL : Py_NewRef(Py_False);
            goto done;
        }
    }
    {
        PyObject *call_args[2] = {logger, self->level};
        PyObject *enabled = PyObject_Vectorcall(self->functions[0], call_args, 2, NULL);
        if (enabled == NULL)
            goto done;
        int t = PyObject_IsTrue(enabled);
        Py_DECREF(enabled);
        if (t >= 0)
            result = Py_NewRef(t ? Py_False : Py_True);
    }
done:
    Py_DECREF(logger);
    return result;
}

static PyObject *
RouterLoggerQuiet_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *logger_type, *hook, *is_enabled_for, *debug, *effective_level, *level;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "RouterLoggerQuiet takes positional arguments");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, "RouterLoggerQuiet", 6, 6, &logger_type, &hook, &is_enabled_for, &debug,
                           &effective_level, &level))
        return NULL;
    if (!PyType_Check(logger_type)) {
        PyErr_SetString(PyExc_TypeError, "RouterLoggerQuiet(Logger, object.__getattribute__, isEnabledFor, debug, "
                                         "getEffectiveLevel, DEBUG)");
        return NULL;
    }
    static const char *const names[LQ_NAMES] = {"__getattribute__", "isEnabledFor", "debug", "getEffectiveLevel"};
    RouterLoggerQuiet *self = (RouterLoggerQuiet *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    for (int i = 0; i < LQ_NAMES; i++) {
        if ((self->names[i] = PyUnicode_InternFromString(names[i])) == NULL) {
            Py_DECREF(self);
            return NULL;
        }
    }
    self->logger_type = Py_NewRef(logger_type);
    self->hook = Py_NewRef(hook);
    self->functions[0] = Py_NewRef(is_enabled_for);
    self->functions[1] = Py_NewRef(debug);
    self->functions[2] = Py_NewRef(effective_level);
    self->level = Py_NewRef(level);
    self->vectorcall = RouterLoggerQuiet_vectorcall;
    return (PyObject *)self;
}

static int
RouterLoggerQuiet_traverse(RouterLoggerQuiet *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->logger_type);
    Py_VISIT(self->hook);
    for (int i = 0; i < 3; i++)
        Py_VISIT(self->functions[i]);
    Py_VISIT(self->level);
    return 0;
}

static int
RouterLoggerQuiet_clear(RouterLoggerQuiet *self)
{
    Py_CLEAR(self->logger_type);
    Py_CLEAR(self->hook);
    for (int i = 0; i < 3; i++)
        Py_CLEAR(self->functions[i]);
    Py_CLEAR(self->level);
    for (int i = 0; i < LQ_NAMES; i++)
        Py_CLEAR(self->names[i]);
    return 0;
}

static void
RouterLoggerQuiet_dealloc(RouterLoggerQuiet *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    RouterLoggerQuiet_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMemberDef RouterLoggerQuiet_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(RouterLoggerQuiet, vectorcall), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot RouterLoggerQuiet_slots[] = {
    {Py_tp_new, RouterLoggerQuiet_new},
    {Py_tp_dealloc, RouterLoggerQuiet_dealloc},
    {Py_tp_traverse, RouterLoggerQuiet_traverse},
    {Py_tp_clear, RouterLoggerQuiet_clear},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_members, RouterLoggerQuiet_members},
    {Py_tp_doc, "routing/_logger_guard.quiet(logger) in C: a plain Logger with logging's own methods, not "
                "enabled for DEBUG."},
    {0, NULL},
};

static PyType_Spec RouterLoggerQuiet_spec = {
    .name = "fast_litellm._native.RouterLoggerQuiet",
    .basicsize = sizeof(RouterLoggerQuiet),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = RouterLoggerQuiet_slots,
};


/* ---- RouterSharedFacts -----------------------------------------------------
 *
 * selector_fast._SharedFacts in C (session 24): what was found of the last shared
 * candidate list (strategy_fast._SHARED_LISTS: {id(list): [list, ...]}), kept while
 * that list is shared.  get(healthy): the facts when `healthy` is the kept list and
 * still shared, else None; keep(healthy, facts): kept when `healthy` is not the kept
 * list and is shared.  `last` is replaced as one pair (another thread never pairs
 * one list with another's facts), as the Python class does.  The same dict read
 * (an int key) and item read; ~5 Python calls a usage-v2 pick.
 */
typedef struct {
    PyObject_HEAD
    PyObject *shared;   /* strategy_fast._SHARED_LISTS */
    PyObject *last;     /* (list, facts) */
} RouterSharedFacts;

/* healthy is shared: 1, 0, -1 on error */
static int
shared_facts_is_shared(RouterSharedFacts *self, PyObject *healthy)
{
    PyObject *key = PyLong_FromVoidPtr(healthy);
    if (key == NULL)
        return -1;
    PyObject *entry = PyDict_GetItemWithError(self->shared, key);
    Py_DECREF(key);
    if (entry == NULL)
        return PyErr_Occurred() ? -1 : 0;
    Py_INCREF(entry);
    PyObject *first = PySequence_GetItem(entry, 0);
    Py_DECREF(entry);
    if (first == NULL)
        return -1;
    int is = first == healthy;
    Py_DECREF(first);
    return is;
}

static PyObject *
RouterSharedFacts_get(RouterSharedFacts *self, PyObject *healthy)
{
    PyObject *last = Py_NewRef(self->last);
    PyObject *result = NULL;
    if (PyTuple_GET_ITEM(last, 0) != healthy) {
        result = Py_NewRef(Py_None);
    } else {
        int is = shared_facts_is_shared(self, healthy);
        if (is >= 0)
            result = Py_NewRef(is ? PyTuple_GET_ITEM(last, 1) : Py_None);
    }
    Py_DECREF(last);
    return result;
}

static PyObject *
RouterSharedFacts_keep(RouterSharedFacts *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "keep(healthy, facts)");
        return NULL;
    }
    PyObject *healthy = args[0];
    if (PyTuple_GET_ITEM(self->last, 0) != healthy) {
        int is = shared_facts_is_shared(self, healthy);
        if (is < 0)
            return NULL;
        if (is) {
            PyObject *pair = PyTuple_Pack(2, healthy, args[1]);
            if (pair == NULL)
                return NULL;
            Py_SETREF(self->last, pair);
        }
    }
    Py_RETURN_NONE;
}

static PyObject *
RouterSharedFacts_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *shared;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "RouterSharedFacts(shared)");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, "RouterSharedFacts", 1, 1, &shared))
        return NULL;
    if (!PyDict_CheckExact(shared)) {
        PyErr_SetString(PyExc_TypeError, "RouterSharedFacts(shared: dict)");
        return NULL;
    }
    RouterSharedFacts *self = (RouterSharedFacts *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->shared = Py_NewRef(shared);
    self->last = PyTuple_Pack(2, Py_None, Py_None);
    if (self->last == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int
RouterSharedFacts_traverse(RouterSharedFacts *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->shared);
    Py_VISIT(self->last);
    return 0;
}

static int
RouterSharedFacts_clear(RouterSharedFacts *self)
{
    Py_CLEAR(self->shared);
    Py_CLEAR(self->last);
    return 0;
}

static void
RouterSharedFacts_dealloc(RouterSharedFacts *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    RouterSharedFacts_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMethodDef RouterSharedFacts_methods[] = {
    {"get", (PyCFunction)RouterSharedFacts_get, METH_O, "get(healthy): the kept facts of a shared list, or None"},
    {"keep", (PyCFunction)(void (*)(void))RouterSharedFacts_keep, METH_FASTCALL,
     "keep(healthy, facts): kept while healthy is shared"},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef RouterSharedFacts_members[] = {
    {"_last", T_OBJECT, offsetof(RouterSharedFacts, last), READONLY, "(list, facts)"},
    {"_shared", T_OBJECT, offsetof(RouterSharedFacts, shared), READONLY, "the shared lists"},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot RouterSharedFacts_slots[] = {
    {Py_tp_new, RouterSharedFacts_new},
    {Py_tp_dealloc, RouterSharedFacts_dealloc},
    {Py_tp_traverse, RouterSharedFacts_traverse},
    {Py_tp_clear, RouterSharedFacts_clear},
    {Py_tp_methods, RouterSharedFacts_methods},
    {Py_tp_members, RouterSharedFacts_members},
    {Py_tp_doc, "selector_fast._SharedFacts in C: the facts of the last shared candidate list."},
    {0, NULL},
};

static PyType_Spec RouterSharedFacts_spec = {
    .name = "fast_litellm._native.RouterSharedFacts",
    .basicsize = sizeof(RouterSharedFacts),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = RouterSharedFacts_slots,
};

/* ---- router_usage_read_keys (session 25, route25a) --------------------------
 *
 * selector_fast.make_usage_counter_keys' read_keys(self, healthy) in C: the usage
 * read's keys (usage_counter_keys' front, its clock-to-keys tail
 * router_usage_minute_keys, then read_keys' own lines) in one call, no Python
 * frame.  The Python lines, in their order:
 *
 *   pending = _PENDING_KEYS.get()                    # usage_counter_keys' front
 *   if pending is not None and ...: (the twin)
 *   if _BUILTINS.get("__import__") is not _BUILTIN_IMPORT: raise NotAccelerated(...)
 *   prefixes = shared.get(healthy)
 *   if prefixes is None:
 *       prefixes = prefixes_of(healthy, _NAMES, entry, rows_box)
 *       if prefixes is None: raise decline
 *       shared.keep(healthy, prefixes)
 *   tpm_keys, rpm_keys = minute_keys(minute_state, prefixes)
 *   mark = served[0]                                 # read_keys' tail
 *   if mark is not None and mark[0] is tpm_keys:
 *       last = mark[1]; extra = read_extra[0]
 *       if extra[0] is not last:
 *           joined = last[2] + last[3]
 *           extra = read_extra[0] = (last, joined, frozenset(joined), dict.fromkeys(joined))
 *       return list(extra[1]), extra[2], extra[3].copy()
 *   return tpm_keys + rpm_keys, None, None
 *
 * state: (twin, pending_var, builtins, builtin_import, shared, names, entry, rows_box,
 * minute_state, served, read_extra, decline).  Anything the C does not take as it is
 * (a pending keys entry, __import__ replaced, builtins not an exact dict, shared not
 * the C RouterSharedFacts) is the twin's call - the Python read_keys - before anything
 * is read but the context variable and the builtins entry (reads only).  A declined
 * candidate list raises `decline` (the Python lines' `raise decline`).
 */
static void RouterSharedFacts_dealloc(RouterSharedFacts *self);
static PyObject *RouterSharedFacts_get(RouterSharedFacts *self, PyObject *healthy);
static PyObject *RouterSharedFacts_keep(RouterSharedFacts *self, PyObject *const *args, Py_ssize_t nargs);

static PyObject *
read_keys_tail(PyObject *pair, PyObject *served, PyObject *read_extra)
{
    if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2) {
        PyErr_SetString(PyExc_TypeError, "router_usage_read_keys: the keys are a (tpm, rpm) pair");
        return NULL;
    }
    PyObject *tpm = PyTuple_GET_ITEM(pair, 0), *rpm = PyTuple_GET_ITEM(pair, 1);
    PyObject *mark = PyList_GET_SIZE(served) > 0 ? PyList_GET_ITEM(served, 0) : NULL;
    if (mark == NULL) {
        PyErr_SetString(PyExc_IndexError, "list index out of range");
        return NULL;
    }
    if (mark != Py_None) {
        if (!PyTuple_CheckExact(mark) || PyTuple_GET_SIZE(mark) != 2) {
            PyErr_SetString(PyExc_TypeError, "router_usage_read_keys: served holds a pair");
            return NULL;
        }
        if (PyTuple_GET_ITEM(mark, 0) == tpm) {
            PyObject *last = Py_NewRef(PyTuple_GET_ITEM(mark, 1));
            PyObject *extra = PyList_GET_SIZE(read_extra) > 0 ? Py_NewRef(PyList_GET_ITEM(read_extra, 0)) : NULL;
            PyObject *result = NULL;
            if (extra == NULL) {
                PyErr_SetString(PyExc_IndexError, "list index out of range");
                goto kept_done;
            }
            if (!PyTuple_CheckExact(extra) || PyTuple_GET_SIZE(extra) != 4) {
                PyErr_SetString(PyExc_TypeError, "router_usage_read_keys: read_extra holds a 4-tuple");
                goto kept_done;
            }
            if (PyTuple_GET_ITEM(extra, 0) != last) {
                if (!PyTuple_CheckExact(last) || PyTuple_GET_SIZE(last) != 4) {
                    PyErr_SetString(PyExc_TypeError, "router_usage_read_keys: the kept keys are a 4-tuple");
                    goto kept_done;
                }
                PyObject *joined = PyNumber_Add(PyTuple_GET_ITEM(last, 2), PyTuple_GET_ITEM(last, 3));
                if (joined != NULL && !PyTuple_CheckExact(joined)) {
                    PyErr_SetString(PyExc_TypeError, "router_usage_read_keys: the kept keys are tuples");
                    Py_CLEAR(joined);
                }
                PyObject *set = joined != NULL ? PyFrozenSet_New(joined) : NULL;
                PyObject *values = set != NULL ? PyDict_New() : NULL;
                for (Py_ssize_t i = 0; values != NULL && i < PyTuple_GET_SIZE(joined); i++) {
                    /* dict.fromkeys(joined): each key in order, None (joined: a tuple) */
                    if (PyDict_SetItem(values, PyTuple_GET_ITEM(joined, i), Py_None) < 0)
                        Py_CLEAR(values);
                }
                PyObject *made = values != NULL ? PyTuple_Pack(4, last, joined, set, values) : NULL;
                Py_XDECREF(joined);
                Py_XDECREF(set);
                Py_XDECREF(values);
                if (made == NULL)
                    goto kept_done;
                Py_INCREF(made);
                if (PyList_SetItem(read_extra, 0, made) < 0) {
                    Py_DECREF(made);
                    goto kept_done;
                }
                Py_SETREF(extra, made);
            }
            {
                PyObject *keys = PySequence_List(PyTuple_GET_ITEM(extra, 1));
                PyObject *values = NULL;
                if (keys != NULL) {
                    PyObject *kept = PyTuple_GET_ITEM(extra, 3);
                    values = PyDict_CheckExact(kept) ? PyDict_Copy(kept)
                                                     : PyObject_CallMethod(kept, "copy", NULL);
                }
                if (values != NULL)
                    result = PyTuple_Pack(3, keys, PyTuple_GET_ITEM(extra, 2), values);
                Py_XDECREF(keys);
                Py_XDECREF(values);
            }
        kept_done:
            Py_XDECREF(extra);
            Py_DECREF(last);
            return result;
        }
    }
    PyObject *joined = PyNumber_Add(tpm, rpm);
    if (joined == NULL)
        return NULL;
    PyObject *result = PyTuple_Pack(3, joined, Py_None, Py_None);
    Py_DECREF(joined);
    return result;
}

static PyObject *
router_usage_read_keys(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyTuple_CheckExact(args[0]) || PyTuple_GET_SIZE(args[0]) != 12
        || !PyList_CheckExact(PyTuple_GET_ITEM(args[0], 9)) || !PyList_CheckExact(PyTuple_GET_ITEM(args[0], 10))) {
        PyErr_SetString(PyExc_TypeError, "router_usage_read_keys(state, self, healthy)");
        return NULL;
    }
    PyObject *state = args[0], *healthy = args[2];
#define RK(i) PyTuple_GET_ITEM(state, (i))
    PyObject *pending = NULL;
    if (PyContextVar_Get(RK(1), NULL, &pending) < 0)
        return NULL;
    int twin = pending == NULL || pending != Py_None || !PyDict_CheckExact(RK(2));
    Py_XDECREF(pending);
    if (!twin) {
        PyObject *names = fl_get_state(module)->slots[SLOT_NAMES];
        PyObject *imported = PyDict_GetItemWithError(RK(2), PyTuple_GET_ITEM(names, NAME_IMPORT));
        if (imported == NULL && PyErr_Occurred())
            return NULL;
        twin = imported != RK(3);
    }
    PyObject *shared = RK(4);
    if (twin || Py_TYPE(shared)->tp_dealloc != (destructor)RouterSharedFacts_dealloc)
        return PyObject_Vectorcall(RK(0), args + 1, 2, NULL);
    Py_INCREF(state);
    Py_INCREF(healthy);
    PyObject *result = NULL, *pair = NULL;
    PyObject *prefixes = RouterSharedFacts_get((RouterSharedFacts *)shared, healthy);
    if (prefixes == NULL)
        goto done;
    if (prefixes == Py_None) {
        Py_DECREF(prefixes);
        PyObject *const found_args[4] = {healthy, RK(5), RK(6), RK(7)};
        prefixes = router_usage_prefixes(module, found_args, 4);
        if (prefixes == NULL)
            goto done;
        if (prefixes == Py_None) {
            PyObject *decline = RK(11);
            PyErr_SetObject((PyObject *)Py_TYPE(decline), decline);
            goto done;
        }
        PyObject *const keep_args[2] = {healthy, prefixes};
        PyObject *kept = RouterSharedFacts_keep((RouterSharedFacts *)shared, keep_args, 2);
        if (kept == NULL)
            goto done;
        Py_DECREF(kept);
    }
    {
        PyObject *const minute_args[2] = {RK(8), prefixes};
        pair = router_usage_minute_keys(module, minute_args, 2);
    }
    if (pair != NULL)
        result = read_keys_tail(pair, RK(9), RK(10));
#undef RK
done:
    Py_XDECREF(pair);
    Py_XDECREF(prefixes);
    Py_DECREF(healthy);
    Py_DECREF(state);
    return result;
}

/* ---- router_usage_keys_fast (session 25, route25a) ---------------------------
 *
 * selector_fast.make_read_usage's keys_fast(selector) in C for a kept chain.  The
 * Python lines, in their order:
 *
 *   own = getattr(selector, "__dict__", None)
 *   if type(selector) is not v2_cls or type(own) is not dict or "usage_counter_keys" in own:
 *       return None
 *   attr = v2_cls.__dict__.get("usage_counter_keys")
 *   entry = (the chain kept for attr: keys_box[0] when its first item is attr)
 *   return entry[1][-1][0] if _chain_serves(entry[1]) else None
 *
 * parts: (twin, v2_cls, "usage_counter_keys", "__dict__", keys_box, type.__dict__["__dict__"]).
 * A chain not kept in the box (the twin finds it, keeps it there) or a metaclass whose
 * `__dict__` is not type's descriptor reached by type's attribute read (its read could
 * be anyone's) is the twin's call: the Python
 * keys_fast, whose reads so far (the instance's __dict__ of an exact v2 selector,
 * whose class has no attribute hook: read_usage's guard) run no code.
 */
static PyObject *
router_usage_keys_fast(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyTuple_CheckExact(args[0]) || PyTuple_GET_SIZE(args[0]) != 6
        || !PyType_Check(PyTuple_GET_ITEM(args[0], 1)) || !PyList_CheckExact(PyTuple_GET_ITEM(args[0], 4))) {
        PyErr_SetString(PyExc_TypeError, "router_usage_keys_fast(parts, selector)");
        return NULL;
    }
    PyObject *parts = args[0], *selector = args[1];
#define KF(i) PyTuple_GET_ITEM(parts, (i))
    PyObject *own = PyObject_GetAttr(selector, KF(3));
    if (own == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            return NULL;
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    PyTypeObject *cls = (PyTypeObject *)KF(1);
    int declined = Py_TYPE(selector) != cls || !PyDict_CheckExact(own);
    if (!declined) {
        int in = PyDict_Contains(own, KF(2));
        if (in < 0) {
            Py_DECREF(own);
            return NULL;
        }
        declined = in;
    }
    Py_DECREF(own);
    if (declined)
        Py_RETURN_NONE;
    /* v2_cls.__dict__: type's own descriptor, reached through the metaclass (ABCMeta) as
     * type.__getattribute__ reaches it: the mappingproxy of tp_dict, whose get is dict's */
    if (Py_TYPE(cls)->tp_getattro != PyType_Type.tp_getattro
        || _PyType_Lookup(Py_TYPE(cls), KF(3)) != KF(5) || cls->tp_dict == NULL || PyList_GET_SIZE(KF(4)) < 1)
        return PyObject_CallOneArg(KF(0), selector);
    PyObject *attr = PyDict_GetItemWithError(cls->tp_dict, KF(2));
    if (attr == NULL && PyErr_Occurred())
        return NULL;
    if (attr == NULL)
        attr = Py_None;
    PyObject *entry = PyList_GET_ITEM(KF(4), 0);
    if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 2 || PyTuple_GET_ITEM(entry, 0) != attr)
        return PyObject_CallOneArg(KF(0), selector);
    Py_INCREF(parts);
    Py_INCREF(entry);
    PyObject *chain = PyTuple_GET_ITEM(entry, 1), *result = NULL;
    PyObject *serves = router_chain_serves(module, chain);
    if (serves != NULL) {
        int t = PyObject_IsTrue(serves);
        Py_DECREF(serves);
        if (t == 0)
            result = Py_NewRef(Py_None);
        else if (t > 0) {
            PyObject *tail = PySequence_GetItem(chain, -1);
            if (tail != NULL) {
                result = PySequence_GetItem(tail, 0);
                Py_DECREF(tail);
            }
        }
    }
    Py_DECREF(entry);
    Py_DECREF(parts);
#undef KF
    return result;
}

/* ---- router_group_rows_kept (session 25, route25a) ---------------------------
 *
 * litellm_fast._GroupRows.read's kept path in C: the group's rows handed out from
 * the kept ones under the registry's lock, no Python frame.  The Python lines, in
 * their order (read(registry, model, idle) with idle not None, model an exact str):
 *
 *   parts = self._parts                       (a tuple: else the twin's call)
 *   state = registry.__dict__
 *   with registry._deployment_index_lock:
 *       aliases, groups, entries = state.get(...) x3
 *       if (aliases / groups not empty exact dicts, type(entries) is not hosted_list,
 *           entries._building is not None, model not in idle[3]["model_names"]): (miss)
 *       token = (idle[5], idle[4][1], entries, entries._read_at, len(entries))
 *       kept = self._kept.get(id(registry))
 *       if kept is registry's with the same token: rows = kept[2].get(model)
 *           if rows is not None: return list(rows)
 *       (miss)
 *
 * args: (self, names, rlock_type, registry, model, idle); names: ("_parts", "__dict__",
 * "_deployment_index_lock", "_core_model_group_alias", "_core_routing_groups",
 * "_core_model_list", "_building", "model_names", "_read_at", "_kept", "__enter__",
 * "__exit__", "__contains__", set.__dict__["__contains__"]).  Answers the rows, or
 * Ellipsis: the twin's call (the Python read, from its start) - for a lock that is
 * not an exact RLock, a state that is not an exact dict, model_names neither a set
 * whose __contains__ is set's (LiteLLM's _NameSet) nor an exact list of exact strs
 * (`in` would compare with code of anyone's), and every miss (the lock released
 * first: the twin takes it again and reads LiteLLM's rows, as on its own miss).  An
 * error inside the lock releases it and is raised, as the `with` block does.
 */
static PyObject *
router_group_rows_kept(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6 || !PyTuple_CheckExact(args[1]) || PyTuple_GET_SIZE(args[1]) != 14) {
        PyErr_SetString(PyExc_TypeError, "router_group_rows_kept(self, names, rlock_type, registry, model, idle)");
        return NULL;
    }
    PyObject *self = args[0], *names = args[1], *registry = args[3], *model = args[4], *idle = args[5];
#define GN(i) PyTuple_GET_ITEM(names, (i))
    if (idle == Py_None || !PyUnicode_CheckExact(model) || !PyTuple_CheckExact(idle) || PyTuple_GET_SIZE(idle) < 6
        || !PyTuple_CheckExact(PyTuple_GET_ITEM(idle, 4)) || PyTuple_GET_SIZE(PyTuple_GET_ITEM(idle, 4)) < 2
        || !PyDict_CheckExact(PyTuple_GET_ITEM(idle, 3)))
        return Py_NewRef(Py_Ellipsis);
    PyObject *parts = PyObject_GetAttr(self, GN(0));
    if (parts == NULL)
        return NULL;
    int plain = PyTuple_CheckExact(parts) && PyTuple_GET_SIZE(parts) > 3;
    PyObject *hosted_list = plain ? Py_NewRef(PyTuple_GET_ITEM(parts, 3)) : NULL;
    Py_DECREF(parts);
    if (!plain)
        return Py_NewRef(Py_Ellipsis);
    PyObject *result = NULL, *state = NULL, *lock = NULL, *entries = NULL, *read_at = NULL, *rows = NULL;
    Py_INCREF(registry);
    Py_INCREF(idle);
    state = PyObject_GetAttr(registry, GN(1));
    if (state == NULL)
        goto done;
    lock = PyObject_GetAttr(registry, GN(2));
    if (lock == NULL)
        goto done;
    if (!PyDict_CheckExact(state) || (PyObject *)Py_TYPE(lock) != args[2]) {
        result = Py_NewRef(Py_Ellipsis);
        goto done;
    }
    PyObject *entered = PyObject_CallMethodNoArgs(lock, GN(10));
    if (entered == NULL)
        goto done;
    Py_DECREF(entered);
    {
        int miss = 1;
        PyObject *aliases = PyDict_GetItemWithError(state, GN(3));
        PyObject *groups = aliases != NULL || !PyErr_Occurred() ? PyDict_GetItemWithError(state, GN(4)) : NULL;
        PyObject *found = groups != NULL || !PyErr_Occurred() ? PyDict_GetItemWithError(state, GN(5)) : NULL;
        if (PyErr_Occurred())
            goto inside_error;
        if (aliases == NULL || !PyDict_CheckExact(aliases) || PyDict_GET_SIZE(aliases) != 0 || groups == NULL
            || !PyDict_CheckExact(groups) || PyDict_GET_SIZE(groups) != 0 || found == NULL
            || (PyObject *)Py_TYPE(found) != hosted_list)
            goto inside_done;
        entries = Py_NewRef(found);
        PyObject *building = PyObject_GetAttr(entries, GN(6));
        if (building == NULL)
            goto inside_error;
        Py_DECREF(building);
        if (building != Py_None)
            goto inside_done;
        PyObject *model_names = PyDict_GetItemWithError(PyTuple_GET_ITEM(idle, 3), GN(7));
        if (model_names == NULL) {
            if (PyErr_Occurred())
                goto inside_error;
            goto inside_done; /* (the twin raises the KeyError) */
        }
        if (PySet_Check(model_names) && _PyType_Lookup(Py_TYPE(model_names), GN(12)) == GN(13)) {
            /* (LiteLLM's _NameSet: a set subclass whose __contains__ is set's: its `in` calls
             * that method, set_contains) */
            int in = PySet_Contains(model_names, model);
            if (in < 0)
                goto inside_error;
            if (!in)
                goto inside_done;
        } else if (!PyList_CheckExact(model_names)) {
            goto inside_done;
        } else {
            int in = 0;
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(model_names); i++) {
                PyObject *name = PyList_GET_ITEM(model_names, i);
                if (!PyUnicode_CheckExact(name)) {
                    in = 0; /* (`in` would call code of anyone's: the twin's) */
                    break;
                }
                if (name == model || PyUnicode_Compare(name, model) == 0) {
                    in = 1;
                    break;
                }
            }
            if (!in)
                goto inside_done;
        }
        read_at = PyObject_GetAttr(entries, GN(8));
        if (read_at == NULL)
            goto inside_error;
        Py_ssize_t size = PyObject_Size(entries);
        if (size < 0)
            goto inside_error;
        PyObject *kept_all = PyObject_GetAttr(self, GN(9));
        if (kept_all == NULL)
            goto inside_error;
        PyObject *key = PyDict_CheckExact(kept_all) ? PyLong_FromVoidPtr(registry) : NULL;
        PyObject *kept = key != NULL ? PyDict_GetItemWithError(kept_all, key) : NULL;
        Py_XDECREF(key);
        Py_XINCREF(kept);
        Py_DECREF(kept_all);
        if (kept == NULL) {
            if (PyErr_Occurred())
                goto inside_error;
            goto inside_done;
        }
        if (PyTuple_CheckExact(kept) && PyTuple_GET_SIZE(kept) == 3 && PyTuple_GET_ITEM(kept, 0) == registry
            && PyTuple_CheckExact(PyTuple_GET_ITEM(kept, 1)) && PyTuple_GET_SIZE(PyTuple_GET_ITEM(kept, 1)) == 5
            && PyDict_CheckExact(PyTuple_GET_ITEM(kept, 2))) {
            PyObject *token = PyTuple_GET_ITEM(kept, 1);
            int same = PyTuple_GET_ITEM(token, 0) == PyTuple_GET_ITEM(idle, 5);
            if (same)
                same = PyObject_RichCompareBool(PyTuple_GET_ITEM(token, 1),
                                                PyTuple_GET_ITEM(PyTuple_GET_ITEM(idle, 4), 1), Py_EQ);
            if (same > 0)
                same = PyTuple_GET_ITEM(token, 2) == entries && PyTuple_GET_ITEM(token, 3) == read_at;
            if (same > 0) {
                PyObject *count = PyLong_FromSsize_t(size);
                same = count != NULL ? PyObject_RichCompareBool(PyTuple_GET_ITEM(token, 4), count, Py_EQ) : -1;
                Py_XDECREF(count);
            }
            if (same > 0) {
                PyObject *kept_rows = PyDict_GetItemWithError(PyTuple_GET_ITEM(kept, 2), model);
                if (kept_rows != NULL && kept_rows != Py_None) {
                    rows = PySequence_List(kept_rows);
                    if (rows == NULL)
                        same = -1;
                    else
                        miss = 0;
                } else if (PyErr_Occurred())
                    same = -1;
            }
            if (same < 0) {
                Py_DECREF(kept);
                goto inside_error;
            }
        }
        Py_DECREF(kept);
    inside_done:;
        PyObject *exited = PyObject_CallMethodObjArgs(lock, GN(11), Py_None, Py_None, Py_None, NULL);
        if (exited == NULL) {
            Py_CLEAR(rows);
            goto done;
        }
        Py_DECREF(exited);
        result = miss ? Py_NewRef(Py_Ellipsis) : rows;
        rows = NULL;
        goto done;
    inside_error:;
        /* the with block's exit with the error, then raised (RLock's __exit__ answers None) */
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        if (tb != NULL)
            PyException_SetTraceback(value, tb);
        PyObject *out = PyObject_CallMethodObjArgs(lock, GN(11), type, value, tb != NULL ? tb : Py_None, NULL);
        if (out == NULL) {
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(tb);
            goto done;
        }
        Py_DECREF(out);
        PyErr_Restore(type, value, tb);
    }
#undef GN
done:
    Py_XDECREF(rows);
    Py_XDECREF(read_at);
    Py_XDECREF(entries);
    Py_XDECREF(lock);
    Py_XDECREF(state);
    Py_DECREF(idle);
    Py_DECREF(registry);
    Py_DECREF(hosted_list);
    return result;
}

static PyMethodDef router_read_functions[] = {
    {"router_group_rows_kept", (PyCFunction)(void (*)(void))router_group_rows_kept, METH_FASTCALL,
     "router_group_rows_kept(self, names, rlock_type, registry, model, idle): _GroupRows.read's kept rows under "
     "the registry's lock, or Ellipsis (the Python read's call)."},
    {"router_usage_keys_fast", (PyCFunction)(void (*)(void))router_usage_keys_fast, METH_FASTCALL,
     "router_usage_keys_fast(parts, selector): make_read_usage's keys_fast for the chain kept in its box (else "
     "the twin's call)."},
    {"router_usage_read_keys", (PyCFunction)(void (*)(void))router_usage_read_keys, METH_FASTCALL,
     "router_usage_read_keys(state, self, healthy): selector_fast's read_keys (usage_counter_keys' front and "
     "clock-to-keys tail, the joined keys, kept frozenset and values) in one call."},
    {NULL, NULL, 0, NULL},
};
/* ---- end router_usage_read_keys --------------------------------------------- */

/* A tuple of the n interned strings in names (NULL with an exception set). */
static PyObject *
interned_tuple(const char *const *names, Py_ssize_t n)
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

int
fl_bind_router(PyObject *module)
{
    (void)PyDateTimeAPI; /* (datetime.h's, never imported: router_usage_minute_keys reads struct fields only) */
    if (PyModule_AddFunctions(module, router_functions) < 0)
        return -1;
    if (fl_add_type(module, &RouterCore_spec, "RouterCore", SLOT_TYPE) < 0)
        return -1;
    PyObject *keys = interned_tuple(INNER_KEYS, N_INNER);
    if (keys == NULL)
        return -1;
    fl_state_set(module, SLOT_KEYS, keys);
    Py_DECREF(keys);
    static const char *const draw_names[NAME_COUNT] = {
        "random", "randrange", "done", "cancelled", "exception", "_make_cancelled_error", "set_exception",
        "_cancel_message", "result", "_cancel_requested", "set_result", "exceptions", "CancelledError",
        "ACCELERATED", "cell_contents", "serve_fast", "in_memory_cache", "redis_cache", "async_batch_get_cache",
        "_prepare_batch_get", "__dict__", "get_cache", "cache_dict", "keys", "values", "prefetched_usage",
        "__getattribute__", "get", "remember", "verbose_router_logger", "__import__"};
    PyObject *names_of_draws = interned_tuple(draw_names, NAME_COUNT);
    if (names_of_draws == NULL)
        return -1;
    fl_state_set(module, SLOT_NAMES, names_of_draws);
    Py_DECREF(names_of_draws);
    PyObject *random = PyImport_ImportModule("random");
    if (random == NULL)
        return -1;
    fl_state_set(module, SLOT_RANDOM, random);
    Py_DECREF(random);
    if (fl_bind_router_deprecated(module) < 0)
        return -1;
    if (fl_bind_router_layer(module) < 0)
        return -1;
    if (fl_add_type(module, &RouterMemo_spec, "RouterMemo", -1) < 0)
        return -1;
    if (fl_add_type(module, &RouterGatherDone_spec, "RouterGatherDone", -1) < 0)
        return -1;
    if (fl_add_type(module, &RouterGatherTwo_spec, "RouterGatherTwo", -1) < 0)
        return -1;
    if (fl_add_type(module, &RouterCreateTask_spec, "RouterCreateTask", -1) < 0)
        return -1;
    if (fl_add_type(module, &RouterLoggerQuiet_spec, "RouterLoggerQuiet", -1) < 0)
        return -1;
    if (fl_add_type(module, &RouterSharedFacts_spec, "RouterSharedFacts", -1) < 0)
        return -1;
    if (PyModule_AddFunctions(module, router_read_functions) < 0) /* route25a */
        return -1;
    PyObject *names = interned_tuple(STRATEGY_NAMES, FL_RT_STRATEGY_COUNT);
    if (names == NULL)
        return -1;
    return PyModule_AddObject(module, "ROUTER_STRATEGIES", names) < 0 ? (Py_DECREF(names), -1) : 0;
}
