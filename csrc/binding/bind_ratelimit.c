/*
 * bind_ratelimit.c - Python binding of the ratelimit component.
 *
 * Not yet native: the component runs on its pure-Python twin until this
 * binder adds its functions and types to the module.
 */
#include "binding/module_state.h"

int
fl_bind_ratelimit(PyObject *module)
{
    (void)module;
    return 0;
}
