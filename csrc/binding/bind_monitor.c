/*
 * bind_monitor.c - Python binding of the performance monitor core.
 *
 * Adds the heap type fast_litellm._native.Monitor.  Its record() method is
 * the hot path behind fast_litellm.record_performance: a METH_FASTCALL
 * function that converts its arguments, finds the series key in a small
 * direct-mapped cache keyed by the identity of the component and operation
 * string objects (the cache holds strong references, so an address cannot
 * be reused by another string while cached), and calls the C core.  The
 * core takes its own lock, which no code path holds while waiting for the
 * GIL, so record() never waits on Python.
 *
 * Everything else (statistics, exports, recommendations) is Python policy
 * in src/fast_litellm/monitor/, fed by snapshot(), which copies one series
 * at a time (the core's lock is held for one copy, never across Python
 * calls, and the GIL is never released while the lock is held).
 *
 * Module state: FL_SLOT_MONITOR holds the Monitor type, FL_SLOT_MONITOR+1
 * a tuple of the interned keyword names of record(), FL_SLOT_MONITOR+2 a
 * tuple of the bucket numbers as ints (snapshots reuse them).
 */
#include "binding/module_state.h"
#include "binding/fastcall_args.h"
#include "monitor/monitor.h"

#include <math.h>
#include <time.h>

#define KEY_CACHE_SIZE 64 /* power of two */
#define MAX_DURATION_MS 1e9
#define MAX_CLOCK_OFFSET_NS 1e18 /* testing hook bound: keeps clock arithmetic in int64 */

typedef struct {
    PyObject *component;
    PyObject *operation;
    fl_monitor_key key;
} key_cache_entry;

typedef struct {
    PyObject_HEAD
    fl_monitor *core;
    int64_t clock_offset_ns;
    double window_seconds;
    double interval_seconds;
    uint32_t max_series;
    key_cache_entry cache[KEY_CACHE_SIZE];
} MonitorObject;

enum { ARG_COMPONENT, ARG_OPERATION, ARG_DURATION, ARG_SUCCESS, ARG_INPUT, ARG_OUTPUT, ARG_COUNT };
static const char *const RECORD_ARG_NAMES[ARG_COUNT] = {
    "component", "operation", "duration_ms", "success", "input_size", "output_size"};

/* ---- clock ------------------------------------------------------------ */

static uint64_t
monotonic_ns(const MonitorObject *self)
{
    struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* the window needs ~ms resolution */
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + self->clock_offset_ns;
    return now < 0 ? 0 : (uint64_t)now;
}

/* ---- argument conversion ------------------------------------------------ */

static int
parse_record_args(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                  PyObject *kwnames, PyObject **argv)
{
    PyObject *names = fl_get_state(module)->slots[FL_SLOT_MONITOR + 1];
    return fl_fastcall_args("record_performance", RECORD_ARG_NAMES, names, ARG_COUNT, ARG_DURATION + 1, args,
                            nargs, kwnames, argv);
}

static int
check_name(PyObject *value, const char *argname)
{
    if (!PyUnicode_Check(value)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", argname,
                     fl_type_name(value));
        return -1;
    }
    return 0;
}

/* An int or float argument as a double (an int too large for one is infinite). */
static int
convert_real(PyObject *value, const char *argname, double *out)
{
    if (PyFloat_Check(value)) {
        *out = PyFloat_AS_DOUBLE(value);
    } else if (PyLong_Check(value)) {
        *out = PyLong_AsDouble(value);
        if (*out == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            *out = HUGE_VAL; /* out of range either way */
        }
    } else {
        PyErr_Format(PyExc_TypeError, "%s must be int or float, not %.100s", argname,
                     fl_type_name(value));
        return -1;
    }
    return 0;
}

static int
convert_duration(PyObject *value, uint64_t *ns)
{
    double ms;
    if (convert_real(value, "duration_ms", &ms) < 0)
        return -1;
    if (!(ms >= 0.0 && ms <= MAX_DURATION_MS)) {
        PyErr_Format(PyExc_ValueError,
                     "duration_ms must be a finite number from 0 to 1e9, got %R", value);
        return -1;
    }
    *ns = (uint64_t)floor(ms * 1e6 + 0.5);
    return 0;
}

static int
convert_success(PyObject *value, int *success)
{
    if (value == NULL || value == Py_None || value == Py_True) {
        *success = 1;
        return 0;
    }
    if (value == Py_False) {
        *success = 0;
        return 0;
    }
    *success = PyObject_IsTrue(value);
    return *success < 0 ? -1 : 0;
}

static int
convert_size(PyObject *value, const char *argname, uint64_t *size)
{
    if (value == NULL || value == Py_None) {
        *size = FL_MONITOR_NO_SIZE;
        return 0;
    }
    if (!PyLong_Check(value)) {
        PyErr_Format(PyExc_TypeError, "%s must be int or None, not %.100s", argname,
                     fl_type_name(value));
        return -1;
    }
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow != 0 || v < 0) {
        PyErr_Format(PyExc_ValueError, "%s must be from 0 to 2**63-1, got %R", argname, value);
        return -1;
    }
    *size = (uint64_t)v;
    return 0;
}

/* ---- key cache -------------------------------------------------------- */

static key_cache_entry *
cache_slot(MonitorObject *self, PyObject *component, PyObject *operation)
{
    uintptr_t h = ((uintptr_t)component >> 4) * 31u + ((uintptr_t)operation >> 4);
    return &self->cache[h & (KEY_CACHE_SIZE - 1)];
}

static void
cache_clear(MonitorObject *self)
{
    for (int i = 0; i < KEY_CACHE_SIZE; i++) {
        Py_CLEAR(self->cache[i].component);
        Py_CLEAR(self->cache[i].operation);
    }
}

/*
 * Resolve the pair through the core and remember it in the slot.  The slot
 * is filled completely before the old names are released: releasing them
 * may run arbitrary code (a str subclass's __del__) that records again.
 */
static int
cache_fill(MonitorObject *self, key_cache_entry *slot, PyObject *component,
           PyObject *operation, fl_monitor_key *key)
{
    Py_ssize_t clen, olen;
    const char *c = PyUnicode_AsUTF8AndSize(component, &clen);
    if (c == NULL)
        return -1;
    const char *o = PyUnicode_AsUTF8AndSize(operation, &olen);
    if (o == NULL)
        return -1;
    if (clen > FL_MONITOR_MAX_NAME || olen > FL_MONITOR_MAX_NAME) {
        PyErr_Format(PyExc_ValueError,
                     "%s must be at most %d bytes in UTF-8",
                     clen > FL_MONITOR_MAX_NAME ? "component" : "operation",
                     FL_MONITOR_MAX_NAME);
        return -1;
    }
    if (fl_monitor_lookup(self->core, c, (size_t)clen, o, (size_t)olen, key) != FL_MONITOR_OK) {
        PyErr_NoMemory(); /* names were checked above: only memory can fail */
        return -1;
    }
    PyObject *old_component = slot->component, *old_operation = slot->operation;
    Py_INCREF(component);
    Py_INCREF(operation);
    slot->component = component;
    slot->operation = operation;
    slot->key = *key;
    Py_XDECREF(old_component);
    Py_XDECREF(old_operation);
    return 0;
}

/* ---- Monitor methods ---------------------------------------------------- */

static PyObject *
Monitor_record(MonitorObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *argv[ARG_COUNT] = {NULL, NULL, NULL, NULL, NULL, NULL};
    if (kwnames == NULL && nargs >= 3 && nargs <= ARG_COUNT) {
        for (Py_ssize_t i = 0; i < nargs; i++)
            argv[i] = args[i];
    } else {
        PyObject *module = PyType_GetModule(Py_TYPE(self));
        if (module == NULL || parse_record_args(module, args, nargs, kwnames, argv) < 0)
            return NULL;
    }
    PyObject *component = argv[ARG_COMPONENT], *operation = argv[ARG_OPERATION];
    uint64_t ns, input, output;
    int success;
    if (check_name(component, "component") < 0 || check_name(operation, "operation") < 0 ||
        convert_duration(argv[ARG_DURATION], &ns) < 0 ||
        convert_success(argv[ARG_SUCCESS], &success) < 0 ||
        convert_size(argv[ARG_INPUT], "input_size", &input) < 0 ||
        convert_size(argv[ARG_OUTPUT], "output_size", &output) < 0)
        return NULL;

    key_cache_entry *slot = cache_slot(self, component, operation);
    fl_monitor_key key = slot->key;
    if ((slot->component != component || slot->operation != operation) &&
        cache_fill(self, slot, component, operation, &key) < 0)
        return NULL;
    uint64_t now = monotonic_ns(self);
    while (fl_monitor_record(self->core, key, ns, success, input, output, now) ==
           FL_MONITOR_STALE) {
        if (cache_fill(self, slot, component, operation, &key) < 0) /* after a reset */
            return NULL;
    }
    Py_RETURN_NONE;
}

/*
 * A summary as the tuple (count, errors, sum_ns, min_ns, max_ns, input,
 * output, buckets), buckets flat and ascending: (bucket, count, ...).
 * bucket_numbers is the module's tuple of the ints 0 .. FL_HIST_BUCKETS-1.
 */
static PyObject *
summary_to_tuple(const fl_monitor_summary *s, PyObject *bucket_numbers)
{
    Py_ssize_t used = 0;
    for (size_t i = 0; i < FL_HIST_BUCKETS; i++)
        used += s->buckets[i] != 0;
    PyObject *buckets = PyTuple_New(2 * used);
    if (buckets == NULL)
        return NULL;
    Py_ssize_t at = 0;
    for (size_t i = 0; i < FL_HIST_BUCKETS; i++) {
        if (s->buckets[i] == 0)
            continue;
        PyObject *count = PyLong_FromUnsignedLongLong(s->buckets[i]);
        if (count == NULL) {
            Py_DECREF(buckets);
            return NULL;
        }
        PyObject *number = PyTuple_GET_ITEM(bucket_numbers, (Py_ssize_t)i);
        Py_INCREF(number);
        PyTuple_SET_ITEM(buckets, at, number);
        PyTuple_SET_ITEM(buckets, at + 1, count);
        at += 2;
    }
    const fl_monitor_counters *t = &s->totals;
    return Py_BuildValue("(KKKKKKKN)", (unsigned long long)t->count,
                         (unsigned long long)t->errors, (unsigned long long)t->sum_ns,
                         (unsigned long long)(t->count ? t->min_ns : 0),
                         (unsigned long long)t->max_ns, (unsigned long long)t->input_total,
                         (unsigned long long)t->output_total, buckets);
}

static PyObject *
series_to_tuple(const fl_monitor_series_snapshot *s, PyObject *bucket_numbers)
{
    PyObject *lifetime = summary_to_tuple(&s->lifetime, bucket_numbers);
    if (lifetime == NULL)
        return NULL;
    PyObject *window = summary_to_tuple(&s->window, bucket_numbers);
    if (window == NULL) {
        Py_DECREF(lifetime);
        return NULL;
    }
    return Py_BuildValue("(s#s#ONN)", s->component, (Py_ssize_t)s->component_len,
                         s->operation, (Py_ssize_t)s->operation_len,
                         s->is_overflow ? Py_True : Py_False, lifetime, window);
}

/* Walk the series one copy at a time into a list; restart after a reset. */
static PyObject *
Monitor_snapshot(MonitorObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *module = PyType_GetModule(Py_TYPE(self));
    if (module == NULL)
        return NULL;
    PyObject *bucket_numbers = fl_get_state(module)->slots[FL_SLOT_MONITOR + 2];
    fl_monitor_series_snapshot *one = PyMem_Malloc(sizeof(*one));
    if (one == NULL)
        return PyErr_NoMemory();
    PyObject *list = PyList_New(0);
    uint64_t now = monotonic_ns(self);
    uint64_t generation = fl_monitor_generation(self->core);
    while (list != NULL) {
        Py_ssize_t index = PyList_GET_SIZE(list);
        int rc = fl_monitor_copy_series(self->core, generation, (size_t)index, now, one);
        if (rc == FL_MONITOR_END)
            break;
        if (rc == FL_MONITOR_STALE) {
            generation = fl_monitor_generation(self->core);
            if (PyList_SetSlice(list, 0, index, NULL) < 0)
                Py_CLEAR(list);
            continue;
        }
        PyObject *item = series_to_tuple(one, bucket_numbers);
        if (item == NULL || PyList_Append(list, item) < 0)
            Py_CLEAR(list);
        Py_XDECREF(item);
    }
    PyMem_Free(one);
    if (list == NULL)
        return NULL;
    return Py_BuildValue("{s:N,s:I,s:n,s:d,s:d}", "series", list, "max_series",
                         (unsigned int)self->max_series, "memory_bytes",
                         (Py_ssize_t)fl_monitor_memory_bytes(self->core), "window_seconds",
                         self->window_seconds, "interval_seconds", self->interval_seconds);
}

static PyObject *
Monitor_reset(MonitorObject *self, PyObject *Py_UNUSED(ignored))
{
    fl_monitor_reset(self->core);
    cache_clear(self);
    Py_RETURN_NONE;
}

static PyObject *
Monitor_advance_clock(MonitorObject *self, PyObject *arg)
{
    double seconds = PyFloat_AsDouble(arg);
    if (seconds == -1.0 && PyErr_Occurred())
        return NULL;
    if (!(seconds >= 0.0 && seconds <= 1e9) ||
        (double)self->clock_offset_ns + seconds * 1e9 > MAX_CLOCK_OFFSET_NS) {
        PyErr_SetString(PyExc_ValueError,
                        "seconds must be from 0 to 1e9, and the total offset at most 1e18 ns");
        return NULL;
    }
    self->clock_offset_ns += (int64_t)(seconds * 1e9);
    Py_RETURN_NONE;
}

static PyObject *
Monitor_series_count(MonitorObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromSize_t(fl_monitor_series_count(self->core));
}

static PyObject *
Monitor_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"max_series", "window_seconds", "interval_seconds", NULL};
    PyObject *max_series_arg = NULL, *window_arg = NULL, *interval_arg = NULL;
    long long max_series = 128;
    double window_seconds = 60.0, interval_seconds = 10.0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$OOO:Monitor", kwlist, &max_series_arg,
                                     &window_arg, &interval_arg))
        return NULL;
    if (max_series_arg != NULL) {
        if (!PyLong_Check(max_series_arg) || PyBool_Check(max_series_arg)) {
            PyErr_Format(PyExc_TypeError, "max_series must be int, not %.100s",
                         fl_type_name(max_series_arg));
            return NULL;
        }
        int overflow = 0;
        max_series = PyLong_AsLongLongAndOverflow(max_series_arg, &overflow);
        if (max_series == -1 && PyErr_Occurred())
            return NULL;
        if (overflow != 0 || max_series < 1 || max_series > FL_MONITOR_MAX_SERIES) {
            PyErr_Format(PyExc_ValueError, "max_series must be from 1 to %d, got %R",
                         FL_MONITOR_MAX_SERIES, max_series_arg);
            return NULL;
        }
    }
    if ((window_arg != NULL && convert_real(window_arg, "window_seconds", &window_seconds) < 0) ||
        (interval_arg != NULL &&
         convert_real(interval_arg, "interval_seconds", &interval_seconds) < 0))
        return NULL;
    if (!(interval_seconds >= 0.001 && interval_seconds <= 86400.0)) {
        PyErr_SetString(PyExc_ValueError, "interval_seconds must be from 0.001 to 86400");
        return NULL;
    }
    double intervals = ceil(window_seconds / interval_seconds);
    if (!(window_seconds > 0.0 && intervals <= FL_MONITOR_MAX_INTERVALS)) {
        PyErr_Format(PyExc_ValueError,
                     "window_seconds must be > 0 and at most %d intervals long",
                     FL_MONITOR_MAX_INTERVALS);
        return NULL;
    }
    fl_monitor_config config = {(uint32_t)max_series, (uint32_t)intervals,
                                (uint64_t)(interval_seconds * 1e9)};
    MonitorObject *self = (MonitorObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->core = fl_monitor_new(&config);
    if (self->core == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->window_seconds = window_seconds;
    self->interval_seconds = interval_seconds;
    self->max_series = (uint32_t)max_series;
    return (PyObject *)self;
}

static void
Monitor_dealloc(MonitorObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    cache_clear(self);
    fl_monitor_free(self->core);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

/* No copy or pickle, as the Python twin; named as type(self).__name__ (the
 * default message named tp_name, "fast_litellm._native.Monitor"). */
static PyObject *
Monitor_reduce_ex(PyObject *self, PyObject *protocol)
{
    (void)protocol;
    return PyErr_Format(PyExc_TypeError, "cannot pickle '%s' object", fl_type_name(self));
}

static PyMethodDef Monitor_methods[] = {
    {"__reduce_ex__", Monitor_reduce_ex, METH_O, "Monitors cannot be copied or pickled."},
    {"record", (PyCFunction)(void (*)(void))Monitor_record, METH_FASTCALL | METH_KEYWORDS,
     "record($self, /, component, operation, duration_ms, success=True, input_size=None, "
     "output_size=None)\n--\n\nRecord one call."},
    {"snapshot", (PyCFunction)Monitor_snapshot, METH_NOARGS,
     "Copy of every series: raw totals and sparse histograms (lifetime and window)."},
    {"reset", (PyCFunction)Monitor_reset, METH_NOARGS, "Forget every series."},
    {"series_count", (PyCFunction)Monitor_series_count, METH_NOARGS,
     "Number of (component, operation) series, excluding the overflow series."},
    {"_advance_clock", (PyCFunction)Monitor_advance_clock, METH_O,
     "Testing only: move this monitor's clock forward by `seconds`."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Monitor_slots[] = {
    {Py_tp_new, Monitor_new},
    {Py_tp_dealloc, Monitor_dealloc},
    {Py_tp_methods, Monitor_methods},
    {Py_tp_doc, "Monitor(*, max_series=128, window_seconds=60.0, interval_seconds=10.0)\n--\n\n"
                "Bounded, thread-safe performance recorder (C core)."},
    {0, NULL},
};

static PyType_Spec Monitor_spec = {
    .name = "fast_litellm._native.Monitor",
    .basicsize = sizeof(MonitorObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Monitor_slots,
};

int
fl_bind_monitor(PyObject *module)
{
    if (fl_add_type(module, &Monitor_spec, "Monitor", FL_SLOT_MONITOR) < 0)
        return -1;
    PyObject *names = PyTuple_New(ARG_COUNT);
    if (names == NULL)
        return -1;
    for (int i = 0; i < ARG_COUNT; i++) {
        PyObject *name = PyUnicode_InternFromString(RECORD_ARG_NAMES[i]);
        if (name == NULL) {
            Py_DECREF(names);
            return -1;
        }
        PyTuple_SET_ITEM(names, i, name);
    }
    fl_state_set(module, FL_SLOT_MONITOR + 1, names);
    Py_DECREF(names);
    PyObject *bucket_numbers = PyTuple_New(FL_HIST_BUCKETS);
    if (bucket_numbers == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < FL_HIST_BUCKETS; i++) {
        PyObject *number = PyLong_FromSsize_t(i);
        if (number == NULL) {
            Py_DECREF(bucket_numbers);
            return -1;
        }
        PyTuple_SET_ITEM(bucket_numbers, i, number);
    }
    fl_state_set(module, FL_SLOT_MONITOR + 2, bucket_numbers);
    Py_DECREF(bucket_numbers);
    return 0;
}
