/*
 * bind_pool.c - Python binding of the connection-pool core.
 *
 * Adds the heap type fast_litellm._native.ConnectionPool; the package's
 * native SimpleConnectionPool subclasses it in Python, validates the
 * constructor arguments, and builds stats and TCP probes from the raw
 * methods here (_raw_stats, _healthy, _endpoint_of).  Hot paths
 * (get/return) are C: the binding formats and parses connection ids
 * ("conn-<serial>-<n>", canonical decimal only, so a parsed id matches the
 * Python twin's string lookup) and calls the user's endpoint validator only
 * for endpoints the pool has not seen.  Calls run with the GIL held (each
 * is far below a GIL round trip); the core's own lock keeps it correct.
 *
 * Module state: FL_SLOT_POOL holds the type.
 */
#include "binding/module_state.h"
#include "binding/clock.h"
#include "binding/fastcall_args.h"
#include "pool/pool.h"

#include <time.h>

typedef struct {
    PyObject_HEAD
    fl_pool *pool;
    PyObject *clock;     /* NULL: CLOCK_MONOTONIC */
    PyObject *validator; /* validator(endpoint) raises for a bad endpoint */
    PyObject *name;
    char prefix[32];     /* "conn-<serial>-" */
    size_t prefix_len;
} PoolObject;

static int
pool_now(PoolObject *self, int64_t *out)
{
    return fl_clock_now_ns(self->clock, out);
}

/* A connection id string -> its number for this pool, 0 when it is not one
 * of this pool's ids (never a valid id).  -1 with TypeError for a non-str. */
static int
parse_id(PoolObject *self, PyObject *id, uint64_t *out)
{
    *out = 0;
    if (!PyUnicode_Check(id)) {
        PyErr_Format(PyExc_TypeError, "connection_id must be a str, not %s", fl_type_name(id));
        return -1;
    }
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(id, &len);
    if (s == NULL) { /* lone surrogates: certainly not an id of ours */
        PyErr_Clear();
        return 0;
    }
    size_t n = (size_t)len, p = self->prefix_len;
    if (n <= p || n - p > 19 || memcmp(s, self->prefix, p) != 0 || s[p] == '0')
        return 0;
    uint64_t v = 0;
    for (size_t i = p; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

static PyObject *
format_id(PoolObject *self, uint64_t id)
{
    char digits[24];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + id % 10);
        id /= 10;
    } while (id);
    PyObject *s = PyUnicode_New((Py_ssize_t)(self->prefix_len + (size_t)nd), 127);
    if (s == NULL)
        return NULL;
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(s);
    memcpy(out, self->prefix, self->prefix_len);
    for (int i = 0; i < nd; i++)
        out[self->prefix_len + (size_t)i] = (Py_UCS1)digits[nd - 1 - i];
    return s;
}

static PyObject *
Pool_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *name, *clock, *validator;
    unsigned int per, total;
    long long idle_ns, life_ns;
    unsigned long long serial;
    if (!PyArg_ParseTuple(args, "UIILLKOO:ConnectionPool", &name, &per, &total, &idle_ns,
                          &life_ns, &serial, &clock, &validator))
        return NULL;
    if (!PyCallable_Check(validator) || (clock != Py_None && !PyCallable_Check(clock))) {
        PyErr_SetString(PyExc_TypeError, "clock and validator must be callable");
        return NULL;
    }
    PoolObject *self = (PoolObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->pool = fl_pool_create(per, total, idle_ns, life_ns);
    if (self->pool == NULL) {
        Py_DECREF(self);
        if (per == 0 || total == 0)
            PyErr_SetString(PyExc_ValueError, "limits must be >= 1");
        else
            PyErr_NoMemory();
        return NULL;
    }
    Py_INCREF(name);
    self->name = name;
    Py_INCREF(validator);
    self->validator = validator;
    if (clock != Py_None) {
        Py_INCREF(clock);
        self->clock = clock;
    }
    self->prefix_len = (size_t)snprintf(self->prefix, sizeof self->prefix, "conn-%llu-", serial);
    return (PyObject *)self;
}

static int
Pool_traverse(PoolObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->clock);
    Py_VISIT(self->validator);
    return 0;
}

static int
Pool_clear(PoolObject *self)
{
    Py_CLEAR(self->clock);
    Py_CLEAR(self->validator);
    return 0;
}

static void
Pool_dealloc(PoolObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Pool_clear(self);
    Py_CLEAR(self->name);
    fl_pool_destroy(self->pool);
    self->pool = NULL;
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyObject *
Pool_get_connection_one(PoolObject *self, PyObject *endpoint)
{
    if (!PyUnicode_Check(endpoint)) {
        PyErr_Format(PyExc_TypeError, "endpoint must be a str, not %s",
                     fl_type_name(endpoint));
        return NULL;
    }
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(endpoint, &len);
    int64_t now = 0; /* set whenever it is read (s != NULL); gcc cannot see that once inlined */
    uint64_t id = 0;
    fl_pool_get_result r = FL_POOL_NEW_ENDPOINT;
    if (s == NULL)
        PyErr_Clear(); /* not UTF-8 encodable: the validator rejects it */
    else if (pool_now(self, &now) < 0)
        return NULL;
    else if (fl_pool_get(self->pool, s, (size_t)len, now, 0, &id, &r) < 0)
        return PyErr_NoMemory();
    if (r == FL_POOL_NEW_ENDPOINT) { /* first use: validate, then add it */
        PyObject *ok = PyObject_CallOneArg(self->validator, endpoint);
        if (ok == NULL)
            return NULL;
        Py_DECREF(ok);
        if (s == NULL) {
            PyErr_Format(PyExc_ValueError, "endpoint must be a URL (scheme://host[:port]) or "
                         "host:port, got %R", endpoint);
            return NULL;
        }
        if (fl_pool_get(self->pool, s, (size_t)len, now, 1, &id, &r) < 0)
            return PyErr_NoMemory();
    }
    if (r == FL_POOL_REJECTED)
        Py_RETURN_NONE;
    return format_id(self, id);
}

static PyObject *
Pool_return_connection_one(PoolObject *self, PyObject *cid)
{
    uint64_t id;
    int64_t now;
    if (parse_id(self, cid, &id) < 0 || pool_now(self, &now) < 0)
        return NULL;
    fl_pool_return(self->pool, id, now);
    Py_RETURN_NONE;
}

static PyObject *
Pool_remove_connection_one(PoolObject *self, PyObject *cid)
{
    uint64_t id;
    if (parse_id(self, cid, &id) < 0)
        return NULL;
    fl_pool_remove(self->pool, id);
    Py_RETURN_NONE;
}

static PyObject *
Pool_mark_unhealthy_one(PoolObject *self, PyObject *cid)
{
    uint64_t id;
    if (parse_id(self, cid, &id) < 0)
        return NULL;
    return PyBool_FromLong(fl_pool_mark_unhealthy(self->pool, id) == FL_POOL_OK);
}

static PyObject *
Pool_healthy(PoolObject *self, PyObject *cid)
{
    uint64_t id;
    int64_t now;
    if (parse_id(self, cid, &id) < 0 || pool_now(self, &now) < 0)
        return NULL;
    return PyBool_FromLong(fl_pool_healthy(self->pool, id, now));
}

static PyObject *
Pool_endpoint_of(PoolObject *self, PyObject *cid)
{
    uint64_t id;
    if (parse_id(self, cid, &id) < 0)
        return NULL;
    char small[256];
    long len = fl_pool_endpoint_of(self->pool, id, small, sizeof small);
    if (len < 0)
        Py_RETURN_NONE;
    if ((size_t)len < sizeof small)
        return PyUnicode_DecodeUTF8(small, len, "strict");
    char *big = PyMem_Malloc((size_t)len + 1);
    if (big == NULL)
        return PyErr_NoMemory();
    long len2 = fl_pool_endpoint_of(self->pool, id, big, (size_t)len + 1);
    PyObject *r = len2 == len ? PyUnicode_DecodeUTF8(big, len, "strict") : Py_None;
    if (r == Py_None)
        Py_INCREF(r);
    PyMem_Free(big);
    return r;
}

static PyObject *
Pool_cleanup(PoolObject *self, PyObject *unused)
{
    int64_t now;
    if (pool_now(self, &now) < 0)
        return NULL;
    return PyLong_FromSize_t(fl_pool_cleanup(self->pool, now));
}

static PyObject *
counts_tuple(const fl_pool_counts *c)
{
    return Py_BuildValue("(KKKKKKK)", (unsigned long long)c->active,
                         (unsigned long long)c->idle, (unsigned long long)c->created,
                         (unsigned long long)c->reused, (unsigned long long)c->expired,
                         (unsigned long long)c->rejected, (unsigned long long)c->removed);
}

/* (totals tuple, invalid, [(endpoint, counts tuple), ...]) */
static PyObject *
Pool_raw_stats(PoolObject *self, PyObject *unused)
{
    fl_pool_counts totals;
    fl_pool_totals(self->pool, &totals);
    uint64_t invalid = fl_pool_invalid_ops(self->pool);
    size_t n = fl_pool_endpoint_count(self->pool);
    PyObject *eps = PyList_New(0);
    if (eps == NULL)
        return NULL;
    char small[256];
    for (size_t i = 0; i < n; i++) {
        fl_pool_counts c;
        char *buf = small;
        size_t len = fl_pool_endpoint_stats(self->pool, i, small, sizeof small, &c);
        if (len >= sizeof small) {
            if ((buf = PyMem_Malloc(len + 1)) == NULL) {
                Py_DECREF(eps);
                return PyErr_NoMemory();
            }
            fl_pool_endpoint_stats(self->pool, i, buf, len + 1, &c);
        }
        PyObject *row = Py_BuildValue("(s#N)", buf, (Py_ssize_t)len, counts_tuple(&c));
        if (buf != small)
            PyMem_Free(buf);
        if (row == NULL || PyList_Append(eps, row) < 0) {
            Py_XDECREF(row);
            Py_DECREF(eps);
            return NULL;
        }
        Py_DECREF(row);
    }
    return Py_BuildValue("(NKNK)", counts_tuple(&totals), (unsigned long long)invalid, eps,
                         (unsigned long long)fl_pool_retired_endpoints(self->pool));
}

static PyObject *
Pool_after_fork_in_child(PoolObject *self, PyObject *unused)
{
    fl_pool_after_fork_child(self->pool);
    Py_RETURN_NONE;
}

static PyObject *
Pool_get_name(PoolObject *self, void *closure)
{
    Py_INCREF(self->name);
    return self->name;
}

/* Tests only: hold the core's lock for `seconds` without the GIL, so a test
 * can fork while another thread is inside the pool. */
static PyObject *
Pool_test_hold_lock(PoolObject *self, PyObject *arg)
{
    double seconds = PyFloat_AsDouble(arg);
    if (seconds == -1.0 && PyErr_Occurred())
        return NULL;
    fl_pool *rl = self->pool;
    Py_BEGIN_ALLOW_THREADS
    fl_pool_hold_lock(rl);
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    fl_pool_release_lock(rl);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ */
/* The public one-argument methods take it by position or by its name, as
   the pure-Python twin's methods (and the API reference) do. */

#define ONE_ARG_METHOD(fn, method, name)                                                           \
    static PyObject *fn(PoolObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) \
    {                                                                                              \
        static const char *const names[1] = {name};                                               \
        PyObject *arg;                                                                             \
        if (fl_fastcall_args(method, names, NULL, 1, 1, args, nargs, kwnames, &arg) < 0)           \
            return NULL;                                                                           \
        return fn##_one(self, arg);                                                                \
    }

ONE_ARG_METHOD(Pool_get_connection, "get_connection", "endpoint")
ONE_ARG_METHOD(Pool_return_connection, "return_connection", "connection_id")
ONE_ARG_METHOD(Pool_remove_connection, "remove_connection", "connection_id")
ONE_ARG_METHOD(Pool_mark_unhealthy, "mark_unhealthy", "connection_id")

static PyMethodDef Pool_methods[] = {
    {"get_connection", (PyCFunction)(void (*)(void))Pool_get_connection, METH_FASTCALL | METH_KEYWORDS,
     "get_connection($self, endpoint)\n--\n\nA connection id, or None when limits are reached."},
    {"return_connection", (PyCFunction)(void (*)(void))Pool_return_connection, METH_FASTCALL | METH_KEYWORDS,
     "return_connection($self, connection_id)\n--\n\nGive it back (unknown ids: counted no-op)."},
    {"remove_connection", (PyCFunction)(void (*)(void))Pool_remove_connection, METH_FASTCALL | METH_KEYWORDS,
     "remove_connection($self, connection_id)\n--\n\nForget it (unknown ids: counted no-op)."},
    {"mark_unhealthy", (PyCFunction)(void (*)(void))Pool_mark_unhealthy, METH_FASTCALL | METH_KEYWORDS,
     "mark_unhealthy($self, connection_id)\n--\n\nFalse for an unknown id."},
    {"_healthy", (PyCFunction)Pool_healthy, METH_O, NULL},
    {"_endpoint_of", (PyCFunction)Pool_endpoint_of, METH_O, NULL},
    {"cleanup", (PyCFunction)Pool_cleanup, METH_NOARGS,
     "cleanup() -> int: drop idle connections past their idle timeout or lifetime; retire endpoints left with none."},
    {"_raw_stats", (PyCFunction)Pool_raw_stats, METH_NOARGS, NULL},
    {"_after_fork_in_child", (PyCFunction)Pool_after_fork_in_child, METH_NOARGS, NULL},
    {"_test_hold_lock", (PyCFunction)Pool_test_hold_lock, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Pool_getset[] = {
    {"pool_name", (getter)Pool_get_name, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot Pool_slots[] = {
    {Py_tp_new, Pool_new},
    {Py_tp_dealloc, Pool_dealloc},
    {Py_tp_traverse, Pool_traverse},
    {Py_tp_clear, Pool_clear},
    {Py_tp_methods, Pool_methods},
    {Py_tp_getset, Pool_getset},
    {Py_tp_doc, "Connection pool bookkeeping (C core). Use fast_litellm.SimpleConnectionPool."},
    {0, NULL},
};

static PyType_Spec Pool_spec = {
    .name = "fast_litellm._native.ConnectionPool",
    .basicsize = sizeof(PoolObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = Pool_slots,
};

int
fl_bind_pool(PyObject *module)
{
    if (fl_add_type(module, &Pool_spec, "ConnectionPool", FL_SLOT_POOL) < 0)
        return -1;
    return 0;
}
