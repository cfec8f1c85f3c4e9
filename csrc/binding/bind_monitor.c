/*
 * bind_monitor.c - Python binding of the monitor component.
 *
 * Not yet native: the component runs on its pure-Python twin until this
 * binder adds its functions and types to the module.
 */
#include "binding/module_state.h"

int
fl_bind_monitor(PyObject *module)
{
    (void)module;
    return 0;
}
