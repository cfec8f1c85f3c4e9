/*
 * fastcall_args.h - the arguments of a METH_FASTCALL | METH_KEYWORDS method,
 * by position or by name, as a Python function binds them: argv[i] is the
 * argument named names[i] (NULL when not given), the first `required` must
 * be given, and a wrong call is Python's TypeError wording, naming the
 * function.  `interned` (a tuple of the names as interned str, or NULL) lets
 * the usual interned keyword strings match by identity before any text
 * compare.  Shared by the monitor, connection pool and rate limiter bindings.
 */
#ifndef FL_BINDING_FASTCALL_ARGS_H
#define FL_BINDING_FASTCALL_ARGS_H

#include "binding/module_state.h"

static inline int
fl_fastcall_args(const char *fname, const char *const *names, PyObject *interned, int count, int required,
                 PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, PyObject **argv)
{
    if (nargs > count) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %d arguments (%zd given)", fname, count, nargs);
        return -1;
    }
    for (int i = 0; i < count; i++)
        argv[i] = i < nargs ? args[i] : NULL;
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *kw = PyTuple_GET_ITEM(kwnames, k);
        int found = -1;
        for (int i = 0; interned != NULL && i < count && found < 0; i++)
            if (kw == PyTuple_GET_ITEM(interned, i))
                found = i;
        for (int i = 0; i < count && found < 0; i++)
            if (PyUnicode_CompareWithASCIIString(kw, names[i]) == 0)
                found = i;
        if (found < 0) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fname, kw);
            return -1;
        }
        if (argv[found] != NULL) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname, names[found]);
            return -1;
        }
        argv[found] = args[nargs + k];
    }
    for (int i = 0; i < required; i++) {
        if (argv[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname, names[i]);
            return -1;
        }
    }
    return 0;
}

#endif
