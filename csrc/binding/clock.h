/*
 * clock.h - "now" in integer nanoseconds for bindings with an injectable
 * clock: CLOCK_MONOTONIC (what time.monotonic reads) when clock is NULL,
 * else clock() called as seconds.  A clock returning a non-number is a
 * TypeError; NaN, infinity or |t| >= 9.2e9 s (int64 ns overflow) a ValueError.
 * Shared by the rate limiter and connection pool bindings.
 */
#ifndef FL_BINDING_CLOCK_H
#define FL_BINDING_CLOCK_H

#include "binding/module_state.h"
#include <math.h>
#include <stdint.h>
#include <time.h>

static inline int
fl_clock_now_ns(PyObject *clock, int64_t *out)
{
    if (clock == NULL) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        *out = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        return 0;
    }
    PyObject *t = PyObject_CallNoArgs(clock);
    if (t == NULL)
        return -1;
    if (PyBool_Check(t) || !(PyFloat_Check(t) || PyLong_Check(t))) {
        PyErr_Format(PyExc_TypeError, "clock must return seconds as a float, not %s",
                     fl_type_name(t));
        Py_DECREF(t);
        return -1;
    }
    double seconds = PyFloat_Check(t) ? PyFloat_AS_DOUBLE(t) : PyLong_AsDouble(t);
    if (seconds == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        seconds = NAN;
    }
    if (!isfinite(seconds) || fabs(seconds) >= 9.2e9) {
        PyErr_Format(PyExc_ValueError, "clock returned an unusable time: %R", t);
        Py_DECREF(t);
        return -1;
    }
    Py_DECREF(t);
    *out = (int64_t)floor(seconds * 1e9);
    return 0;
}

#endif /* FL_BINDING_CLOCK_H */
