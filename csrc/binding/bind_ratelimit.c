/*
 * bind_ratelimit.c - Python binding of the rate limiter core.
 *
 * Adds the heap type fast_litellm._native.RateLimiter (the package's native
 * SimpleRateLimiter subclasses it in Python to add backend dispatch and fork
 * registration) and rl_fingerprint(key).  The binding converts arguments
 * with the same checks and messages as the pure-Python twin
 * (src/fast_litellm/ratelimit/_common.py), reads the clock (the user's
 * callable, else CLOCK_MONOTONIC, which is what time.monotonic reads) and
 * builds the result dicts.  The check itself runs with the GIL held: it
 * takes well under a microsecond, less than a GIL round trip; the core has
 * its own lock, so it stays correct without the GIL.
 *
 * Module state: FL_SLOT_RATELIMIT holds the type.
 */
#include "binding/module_state.h"
#include "binding/clock.h"
#include "binding/fastcall_args.h"
#include "ratelimit/ratelimit.h"

#include <time.h>
#include <sys/random.h>

enum { S_ALLOWED, S_REASON, S_REMAINING, S_RETRY, S_OK, S_DENIED, S_OVER_BURST, S_DEFAULT_KEY, S_COUNT };

static const char *const STRING_VALUES[S_COUNT] = {
    "allowed", "reason", "remaining_requests", "retry_after_ms",
    "ok", "rate limit exceeded", "cost exceeds burst", "default",
};

#define MAX_RATE ((long long)1 << 62)
#define RAW_PRUNE_MIN 1024

typedef struct {
    PyObject_HEAD
    fl_rl *rl;
    PyObject *clock;    /* NULL: CLOCK_MONOTONIC */
    PyObject *raw_keys; /* set of keys seen, or NULL */
    Py_ssize_t raw_prune_at; /* prune raw_keys when it grows to this size */
    PyObject *strings[S_COUNT];
    PyObject *templates[3]; /* result dicts by fl_rl_verdict, never exposed */
    long long rate, burst;
} RateLimiterObject;

/* -- argument checks (messages as in _common.py) ---------------------------- */

static int
positive_int(const char *name, PyObject *value, long long maximum, long long *out)
{
    if (PyBool_Check(value) || !PyLong_Check(value)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int, not %s", name, fl_type_name(value));
        return -1;
    }
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow < 0 || (!overflow && v < 1)) {
        PyErr_Format(PyExc_ValueError, "%s must be >= 1, got %S", name, value);
        return -1;
    }
    if (overflow > 0 || v > maximum) {
        PyErr_Format(PyExc_ValueError, "%s must be <= %lld, got %S", name, maximum, value);
        return -1;
    }
    *out = v;
    return 0;
}

/* key -> UTF-8 bytes (surrogates passed through, as key.encode("utf-8",
 * "surrogatepass") in the twin).  *holder receives a new reference to keep
 * alive while the bytes are used, or NULL. */
static int
key_utf8(PyObject *key, const char **data, Py_ssize_t *len, PyObject **holder)
{
    *holder = NULL;
    if (key == NULL || key == Py_None) {
        *data = "default";
        *len = 7;
        return 0;
    }
    if (!PyUnicode_Check(key)) {
        PyErr_Format(PyExc_TypeError, "key must be a str or None, not %s", fl_type_name(key));
        return -1;
    }
    *data = PyUnicode_AsUTF8AndSize(key, len);
    if (*data != NULL)
        return 0;
    PyErr_Clear();
    *holder = PyUnicode_AsEncodedString(key, "utf-8", "surrogatepass");
    if (*holder == NULL)
        return -1;
    *data = PyBytes_AS_STRING(*holder);
    *len = PyBytes_GET_SIZE(*holder);
    return 0;
}

/* cost -> int64; a cost too large for int64 is surely above the burst. */
static int
cost_value(PyObject *cost, long long *out)
{
    if (cost == NULL) {
        *out = 1;
        return 0;
    }
    if (PyBool_Check(cost) || !PyLong_Check(cost)) {
        PyErr_Format(PyExc_TypeError, "cost must be an int, not %s", fl_type_name(cost));
        return -1;
    }
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(cost, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow < 0 || (!overflow && v < 0)) {
        PyErr_Format(PyExc_ValueError, "cost must be >= 0, got %S", cost);
        return -1;
    }
    *out = overflow > 0 ? INT64_MAX : v;
    return 0;
}

static int
now_ns(RateLimiterObject *self, int64_t *out)
{
    return fl_clock_now_ns(self->clock, out);
}

/* (key=None, cost=1) of `method`, bound as the pure-Python twin's signature
 * binds them (fastcall_args.h: Python's TypeError wording, naming the method). */
static int
parse_key_cost(const char *method, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
               PyObject **key, PyObject **cost, int want_cost)
{
    static const char *const names[2] = {"key", "cost"};
    PyObject *argv[2];
    if (fl_fastcall_args(method, names, NULL, want_cost ? 2 : 1, 0, args, nargs, kwnames, argv) < 0)
        return -1;
    *key = argv[0];
    *cost = want_cost ? argv[1] : NULL;
    return 0;
}

/* -- the type ---------------------------------------------------------------- */

static PyObject *make_templates(RateLimiterObject *self);

static PyObject *
RateLimiter_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"requests_per_minute", "burst", "clock", "keep_raw_keys", NULL};
    PyObject *rate_obj = NULL, *burst_obj = Py_None, *clock = Py_None;
    int keep_raw = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O$OOp:RateLimiter", kwlist, &rate_obj,
                                     &burst_obj, &clock, &keep_raw))
        return NULL;
    long long rate = 60, burst;
    if (rate_obj != NULL && positive_int("requests_per_minute", rate_obj, MAX_RATE, &rate) < 0)
        return NULL;
    if (burst_obj == Py_None) {
        if (rate > FL_RL_MAX_BURST) {
            PyErr_Format(PyExc_ValueError,
                         "burst defaults to requests_per_minute, which is above the largest "
                         "burst %lld: pass burst explicitly", (long long)FL_RL_MAX_BURST);
            return NULL;
        }
        burst = rate;
    } else if (positive_int("burst", burst_obj, FL_RL_MAX_BURST, &burst) < 0) {
        return NULL;
    }
    if (clock != Py_None && !PyCallable_Check(clock)) {
        PyErr_Format(PyExc_TypeError, "clock must be callable or None, not %s",
                     fl_type_name(clock));
        return NULL;
    }
    uint8_t seed[16];
    if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
        PyErr_SetFromErrno(PyExc_OSError);
        return NULL;
    }
    RateLimiterObject *self = (RateLimiterObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->rate = rate;
    self->burst = burst;
    for (int i = 0; i < S_COUNT; i++) {
        self->strings[i] = PyUnicode_InternFromString(STRING_VALUES[i]);
        if (self->strings[i] == NULL)
            goto fail;
    }
    if (make_templates(self) == NULL)
        goto fail;
    if (clock != Py_None) {
        Py_INCREF(clock);
        self->clock = clock;
    }
    if (keep_raw && (self->raw_keys = PySet_New(NULL)) == NULL)
        goto fail;
    self->raw_prune_at = RAW_PRUNE_MIN;
    self->rl = fl_rl_create(rate, burst, seed);
    if (self->rl == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    return (PyObject *)self;
fail:
    Py_DECREF(self);
    return NULL;
}

static int
RateLimiter_traverse(RateLimiterObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->clock);
    Py_VISIT(self->raw_keys);
    return 0;
}

static int
RateLimiter_clear(RateLimiterObject *self)
{
    Py_CLEAR(self->clock);
    Py_CLEAR(self->raw_keys);
    return 0;
}

static void
RateLimiter_dealloc(RateLimiterObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    RateLimiter_clear(self);
    for (int i = 0; i < S_COUNT; i++)
        Py_CLEAR(self->strings[i]);
    for (int i = 0; i < 3; i++)
        Py_CLEAR(self->templates[i]);
    fl_rl_destroy(self->rl);
    self->rl = NULL;
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

/* Results are copies of three per-limiter template dicts (a dict copy is
 * about half the cost of building one) with remaining_requests (and
 * retry_after_ms) then set. */
static PyObject *
make_templates(RateLimiterObject *self)
{
    PyObject **s = self->strings;
    self->templates[FL_RL_ALLOWED] = Py_BuildValue("{OOOOOi}", s[S_ALLOWED], Py_True,
                                                   s[S_REASON], s[S_OK], s[S_REMAINING], 0);
    self->templates[FL_RL_DENIED] = Py_BuildValue("{OOOOOiOd}", s[S_ALLOWED], Py_False,
                                                  s[S_REASON], s[S_DENIED], s[S_REMAINING], 0,
                                                  s[S_RETRY], 0.0);
    self->templates[FL_RL_COST_OVER_BURST] = Py_BuildValue(
        "{OOOOOiOO}", s[S_ALLOWED], Py_False, s[S_REASON], s[S_OVER_BURST], s[S_REMAINING], 0,
        s[S_RETRY], Py_None);
    for (int i = 0; i < 3; i++)
        if (self->templates[i] == NULL)
            return NULL;
    return Py_None;
}

/* The wait in ms as the twin computes it: the exact integer ns, rounded
 * once to a double, divided by 1e6.  Past 2^64 ns (a clock jumping back by
 * centuries) the sum is a Python int, divided as the twin divides it. */
static PyObject *
retry_after_ms(const fl_rl_result *r)
{
    uint64_t sum = (uint64_t)r->retry_after_ns + r->behind_ns;
    if (sum >= r->behind_ns)
        return PyFloat_FromDouble((double)sum / 1e6);
    PyObject *a = PyLong_FromLongLong(r->retry_after_ns);
    PyObject *b = a ? PyLong_FromUnsignedLongLong(r->behind_ns) : NULL;
    PyObject *total = b ? PyNumber_Add(a, b) : NULL;
    PyObject *million = total ? PyFloat_FromDouble(1e6) : NULL;
    PyObject *ms = million ? PyNumber_TrueDivide(total, million) : NULL;
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(total);
    Py_XDECREF(million);
    return ms;
}

static PyObject *
build_result(RateLimiterObject *self, const fl_rl_result *r)
{
    PyObject *d = PyDict_Copy(self->templates[r->verdict]);
    if (d == NULL)
        return NULL;
    PyObject *remaining = PyLong_FromLongLong(r->remaining);
    if (remaining == NULL || PyDict_SetItem(d, self->strings[S_REMAINING], remaining) < 0)
        goto fail;
    Py_DECREF(remaining);
    if (r->verdict == FL_RL_DENIED) {
        PyObject *ms = retry_after_ms(r);
        if (ms == NULL || PyDict_SetItem(d, self->strings[S_RETRY], ms) < 0) {
            Py_XDECREF(ms);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(ms);
    }
    return d;
fail:
    Py_XDECREF(remaining);
    Py_DECREF(d);
    return NULL;
}

static PyObject *raw_key_map(RateLimiterObject *self);

/* Drop the raw keys whose bucket the table no longer holds, when the set has
 * doubled since the last time: without it, a limiter with keep_raw_keys=True
 * kept every key it ever saw (~100 B each) unless someone called
 * get_stats(raw_keys=True), where the Python twin's dict is swept. */
static int
prune_raw_keys(RateLimiterObject *self)
{
    if (PySet_GET_SIZE(self->raw_keys) < self->raw_prune_at)
        return 0;
    PyObject *map = raw_key_map(self); /* prunes as it goes */
    if (map == NULL)
        return -1;
    Py_DECREF(map);
    Py_ssize_t left = PySet_GET_SIZE(self->raw_keys);
    self->raw_prune_at = left < RAW_PRUNE_MIN / 2 ? RAW_PRUNE_MIN : 2 * left;
    return 0;
}

static int
run_check(RateLimiterObject *self, const char *method, PyObject *const *args, Py_ssize_t nargs,
          PyObject *kwnames, fl_rl_result *r)
{
    PyObject *key, *cost_obj, *holder;
    const char *data;
    Py_ssize_t len;
    long long cost;
    int64_t now;
    if (parse_key_cost(method, args, nargs, kwnames, &key, &cost_obj, 1) < 0)
        return -1;
    if (key_utf8(key, &data, &len, &holder) < 0)
        return -1;
    if (cost_value(cost_obj, &cost) < 0 || now_ns(self, &now) < 0) {
        Py_XDECREF(holder);
        return -1;
    }
    int rc = fl_rl_check(self->rl, data, (size_t)len, cost, now, r);
    Py_XDECREF(holder);
    if (rc < 0) {
        PyErr_NoMemory();
        return -1;
    }
    if (self->raw_keys != NULL && r->verdict == FL_RL_ALLOWED && cost > 0) {
        PyObject *raw = (key == NULL || key == Py_None) ? self->strings[S_DEFAULT_KEY] : key;
        /* a str subclass is kept as its text (as the Python twin keeps it):
         * its own __hash__/__eq__ never run in the set */
        raw = PyUnicode_FromObject(raw);
        if (raw == NULL)
            return -1;
        int added = PySet_Add(self->raw_keys, raw);
        Py_DECREF(raw);
        if (added < 0 || prune_raw_keys(self) < 0)
            return -1;
    }
    return 0;
}

static PyObject *
RateLimiter_check(RateLimiterObject *self, PyObject *const *args, Py_ssize_t nargs,
                  PyObject *kwnames)
{
    fl_rl_result r;
    if (run_check(self, "check", args, nargs, kwnames, &r) < 0)
        return NULL;
    return build_result(self, &r);
}

static PyObject *
RateLimiter_is_allowed(RateLimiterObject *self, PyObject *const *args, Py_ssize_t nargs,
                       PyObject *kwnames)
{
    fl_rl_result r;
    if (run_check(self, "is_allowed", args, nargs, kwnames, &r) < 0)
        return NULL;
    return PyBool_FromLong(r.verdict == FL_RL_ALLOWED);
}

static PyObject *
RateLimiter_get_remaining(RateLimiterObject *self, PyObject *const *args, Py_ssize_t nargs,
                          PyObject *kwnames)
{
    PyObject *key, *unused, *holder;
    const char *data;
    Py_ssize_t len;
    int64_t now;
    if (parse_key_cost("get_remaining", args, nargs, kwnames, &key, &unused, 0) < 0)
        return NULL;
    if (key_utf8(key, &data, &len, &holder) < 0)
        return NULL;
    if (now_ns(self, &now) < 0) {
        Py_XDECREF(holder);
        return NULL;
    }
    int64_t remaining = fl_rl_remaining(self->rl, data, (size_t)len, now);
    Py_XDECREF(holder);
    return PyLong_FromLongLong(remaining);
}

static PyObject *
RateLimiter_cleanup(RateLimiterObject *self, PyObject *unused)
{
    int64_t now;
    if (now_ns(self, &now) < 0)
        return NULL;
    long reclaimed = fl_rl_sweep(self->rl, now);
    if (reclaimed < 0)
        return PyErr_NoMemory();
    return PyLong_FromLong(reclaimed);
}

static PyObject *
fingerprint_label(uint64_t fp)
{
    char buf[17];
    snprintf(buf, sizeof buf, "%016llx", (unsigned long long)fp);
    return PyUnicode_FromStringAndSize(buf, 16);
}

/* {fingerprint int: raw key} for the keys whose bucket the table still
 * holds (full or not: a full one shows again once the clock goes back, and
 * the Python twin labels it by its key until it is reclaimed); prunes the
 * raw-key set of the others. */
static PyObject *
raw_key_map(RateLimiterObject *self)
{
    size_t n = 0;
    uint64_t *fps = fl_rl_stored_fingerprints(self->rl, &n);
    if (fps == NULL && n != 0)
        return PyErr_NoMemory();
    PyObject *stored = PySet_New(NULL);
    for (size_t i = 0; stored != NULL && i < n; i++) {
        PyObject *fp = PyLong_FromUnsignedLongLong(fps[i]);
        if (fp == NULL || PySet_Add(stored, fp) < 0)
            Py_CLEAR(stored);
        Py_XDECREF(fp);
    }
    free(fps);
    PyObject *map = stored ? PyDict_New() : NULL;
    PyObject *keys = map ? PySequence_List(self->raw_keys) : NULL;
    if (keys == NULL) {
        Py_XDECREF(map);
        Py_XDECREF(stored);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(keys); i++) {
        PyObject *key = PyList_GET_ITEM(keys, i), *holder, *fp = NULL;
        const char *data;
        Py_ssize_t len;
        if (key_utf8(key, &data, &len, &holder) < 0)
            goto fail;
        fp = PyLong_FromUnsignedLongLong(fl_rl_fingerprint(data, (size_t)len));
        Py_XDECREF(holder);
        if (fp == NULL)
            goto fail;
        int held = PySet_Contains(stored, fp);
        int rc = held > 0 ? PyDict_SetItem(map, fp, key) : held == 0 ? PySet_Discard(self->raw_keys, key) : -1;
        Py_DECREF(fp);
        if (rc < 0)
            goto fail;
    }
    Py_DECREF(keys);
    Py_DECREF(stored);
    return map;
fail:
    Py_DECREF(keys);
    Py_DECREF(stored);
    Py_DECREF(map);
    return NULL;
}

static PyObject *
keys_dict(RateLimiterObject *self, const fl_rl_key_state *ks, size_t n, int raw)
{
    PyObject *keys = PyDict_New(), *map = NULL;
    if (keys == NULL)
        return NULL;
    if (raw && (map = raw_key_map(self)) == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        PyObject *label = NULL, *entry = Py_BuildValue("{sL}", "remaining_requests",
                                                       (long long)ks[i].remaining);
        if (entry == NULL)
            goto fail;
        if (raw) {
            PyObject *fp = PyLong_FromUnsignedLongLong(ks[i].fingerprint);
            label = fp ? PyDict_GetItemWithError(map, fp) : NULL;
            Py_XDECREF(fp);
            if (label == NULL) { /* seen before keep_raw_keys could: show the fingerprint */
                if (PyErr_Occurred()) {
                    Py_DECREF(entry);
                    goto fail;
                }
                label = fingerprint_label(ks[i].fingerprint);
            } else {
                Py_INCREF(label);
            }
        } else {
            label = fingerprint_label(ks[i].fingerprint);
        }
        int rc = label ? PyDict_SetItem(keys, label, entry) : -1;
        Py_XDECREF(label);
        Py_DECREF(entry);
        if (rc < 0)
            goto fail;
    }
    Py_XDECREF(map);
    return keys;
fail:
    Py_XDECREF(map);
    Py_DECREF(keys);
    return NULL;
}

static PyObject *
RateLimiter_get_stats(RateLimiterObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"raw_keys", NULL};
    int raw = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|p:get_stats", kwlist, &raw))
        return NULL;
    if (raw && self->raw_keys == NULL) {
        PyErr_SetString(PyExc_ValueError,
                        "raw_keys=True needs SimpleRateLimiter(..., keep_raw_keys=True)");
        return NULL;
    }
    int64_t now;
    if (now_ns(self, &now) < 0)
        return NULL;
    size_t n = 0;
    fl_rl_key_state *ks = fl_rl_export(self->rl, now, &n);
    if (ks == NULL && n != 0)
        return PyErr_NoMemory();
    fl_rl_counters c;
    fl_rl_get_counters(self->rl, &c);
    PyObject *keys = keys_dict(self, ks, n, raw);
    free(ks);
    if (keys == NULL)
        return NULL;
    return Py_BuildValue("{sssssLsLsKsKsKsnsNsnsn}",
                         "backend", "memory", "implementation", "native",
                         "requests_per_minute", self->rate, "burst", self->burst,
                         "total_checks", (unsigned long long)c.checks,
                         "allowed", (unsigned long long)c.allowed,
                         "denied", (unsigned long long)c.denied,
                         "tracked_keys", (Py_ssize_t)n, "keys", keys,
                         "table_slots", (Py_ssize_t)c.capacity,
                         "table_bytes", (Py_ssize_t)c.bytes);
}

static PyObject *
RateLimiter_after_fork_in_child(RateLimiterObject *self, PyObject *unused)
{
    fl_rl_after_fork_child(self->rl);
    Py_RETURN_NONE;
}

static PyObject *
RateLimiter_get_rate(RateLimiterObject *self, void *closure)
{
    return PyLong_FromLongLong(self->rate);
}

static PyObject *
RateLimiter_get_burst(RateLimiterObject *self, void *closure)
{
    return PyLong_FromLongLong(self->burst);
}

static PyObject *
RateLimiter_get_backend(RateLimiterObject *self, void *closure)
{
    return PyUnicode_FromString("memory");
}

static PyObject *
RateLimiter_repr(RateLimiterObject *self)
{
    return PyUnicode_FromFormat("SimpleRateLimiter(requests_per_minute=%lld, burst=%lld, "
                                "backend='memory')", self->rate, self->burst);
}

/* Tests only: hold the core's lock for `seconds` without the GIL, so a test
 * can fork while another thread is inside the limiter. */
static PyObject *
RateLimiter_test_hold_lock(RateLimiterObject *self, PyObject *arg)
{
    double seconds = PyFloat_AsDouble(arg);
    if (seconds == -1.0 && PyErr_Occurred())
        return NULL;
    fl_rl *rl = self->rl;
    Py_BEGIN_ALLOW_THREADS
    fl_rl_hold_lock(rl);
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    fl_rl_release_lock(rl);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* Tests only: the index slot where a key's probe starts. */
static PyObject *
RateLimiter_test_home_slot(RateLimiterObject *self, PyObject *key)
{
    PyObject *holder;
    const char *data;
    Py_ssize_t len;
    if (key_utf8(key, &data, &len, &holder) < 0)
        return NULL;
    size_t slot = fl_rl_home_slot(self->rl, data, (size_t)len);
    Py_XDECREF(holder);
    return PyLong_FromSize_t(slot);
}

static PyMethodDef RateLimiter_methods[] = {
    {"check", (PyCFunction)(void (*)(void))RateLimiter_check, METH_FASTCALL | METH_KEYWORDS,
     "check(key=None, cost=1) -> dict: check key and consume cost tokens if allowed."},
    {"is_allowed", (PyCFunction)(void (*)(void))RateLimiter_is_allowed,
     METH_FASTCALL | METH_KEYWORDS, "is_allowed(key=None, cost=1) -> bool (consumes)."},
    {"get_remaining", (PyCFunction)(void (*)(void))RateLimiter_get_remaining,
     METH_FASTCALL | METH_KEYWORDS, "get_remaining(key=None) -> int, without consuming."},
    {"get_stats", (PyCFunction)(void (*)(void))RateLimiter_get_stats,
     METH_VARARGS | METH_KEYWORDS, "get_stats(raw_keys=False) -> dict."},
    {"cleanup", (PyCFunction)RateLimiter_cleanup, METH_NOARGS,
     "cleanup() -> int: reclaim buckets that are full now."},
    {"_after_fork_in_child", (PyCFunction)RateLimiter_after_fork_in_child, METH_NOARGS,
     "Re-initialise the lock in a forked child."},
    {"_test_hold_lock", (PyCFunction)RateLimiter_test_hold_lock, METH_O, NULL},
    {"_test_home_slot", (PyCFunction)RateLimiter_test_home_slot, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef RateLimiter_getset[] = {
    {"requests_per_minute", (getter)RateLimiter_get_rate, NULL, NULL, NULL},
    {"burst", (getter)RateLimiter_get_burst, NULL, NULL, NULL},
    {"backend", (getter)RateLimiter_get_backend, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot RateLimiter_slots[] = {
    {Py_tp_new, RateLimiter_new},
    {Py_tp_dealloc, RateLimiter_dealloc},
    {Py_tp_traverse, RateLimiter_traverse},
    {Py_tp_clear, RateLimiter_clear},
    {Py_tp_methods, RateLimiter_methods},
    {Py_tp_getset, RateLimiter_getset},
    {Py_tp_repr, RateLimiter_repr},
    {Py_tp_doc, "Token-bucket rate limiter (C core). Use fast_litellm.SimpleRateLimiter."},
    {0, NULL},
};

static PyType_Spec RateLimiter_spec = {
    .name = "fast_litellm._native.RateLimiter",
    .basicsize = sizeof(RateLimiterObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = RateLimiter_slots,
};

static PyObject *
rl_fingerprint(PyObject *module, PyObject *key)
{
    PyObject *holder;
    const char *data;
    Py_ssize_t len;
    if (key_utf8(key, &data, &len, &holder) < 0)
        return NULL;
    uint64_t fp = fl_rl_fingerprint(data, (size_t)len);
    Py_XDECREF(holder);
    return fingerprint_label(fp);
}

static PyMethodDef module_functions[] = {
    {"rl_fingerprint", rl_fingerprint, METH_O,
     "rl_fingerprint(key) -> str: the stable fingerprint rate-limit stats show."},
    {NULL, NULL, 0, NULL},
};

int
fl_bind_ratelimit(PyObject *module)
{
    if (fl_add_type(module, &RateLimiter_spec, "RateLimiter", FL_SLOT_RATELIMIT) < 0)
        return -1;
    return PyModule_AddFunctions(module, module_functions);
}
