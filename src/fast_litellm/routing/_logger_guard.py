"""The logger guards' one question: may a fast path ask a LiteLLM logger
whether DEBUG is on, and skip (or make itself) the ``debug`` calls LiteLLM's
code would make, without anyone seeing?

Only when the logger is an exact ``logging.Logger`` whose ``isEnabledFor``,
``debug`` and ``getEffectiveLevel`` are logging's own: the class's entries the
functions logging defined (kept at import, checked then to be logging's), none
replaced on the class and none of the instance's own (session 23, route23c: a
recorder put on ``Logger.isEnabledFor`` saw four calls an accelerated
usage-based-routing-v2 pick where stock makes two, and a recorder on
``Logger.debug`` missed the token counter's call a skipped count leaves out).
The instance's own are looked for through the bound methods an attribute read
gives (an entry of the instance's dict is what the read answers), not through
its ``__dict__``: on CPython 3.11 reading that makes a dict from the object's
inline values, after which every ``verbose_router_logger.debug(...)`` of
LiteLLM's is slower (docs/routing.md, "Session 23 (route23a)").
"""
from __future__ import annotations

import logging
import types
from typing import Any

_LOGGER = logging.Logger
_METHOD = types.MethodType
_DEBUG = logging.DEBUG
_OBJECT_GETATTRIBUTE = object.__getattribute__


def _own(name: str) -> Any:
    found = _LOGGER.__dict__.get(name)
    code = getattr(found, "__code__", None)
    if (type(found) is not types.FunctionType or found.__module__ != "logging"
            or getattr(code, "co_filename", None) != logging.__file__
            or found.__qualname__ != "Logger." + name):
        return None  # replaced before this import: never asked
    return found


_IS_ENABLED_FOR, _LOG_DEBUG, _EFFECTIVE_LEVEL = _own("isEnabledFor"), _own("debug"), _own("getEffectiveLevel")


def _make_quiet() -> Any:
    known = None not in (_IS_ENABLED_FOR, _LOG_DEBUG, _EFFECTIVE_LEVEL)

    def quiet(logger: Any, Logger: Any = _LOGGER, method_type: Any = _METHOD, hook: Any = _OBJECT_GETATTRIBUTE,
              is_enabled_for: Any = _IS_ENABLED_FOR, debug: Any = _LOG_DEBUG, effective_level: Any = _EFFECTIVE_LEVEL,
              level: int = _DEBUG) -> bool:
        """``logger`` an exact ``Logger`` with logging's own ``isEnabledFor``,
        ``debug`` and ``getEffectiveLevel`` (no attribute hook; what an attribute
        read of each gives, the class's function bound to the logger: neither
        replaced on the class nor the instance's own), and not enabled for DEBUG
        (asked only then: logging's own ``isEnabledFor``, as LiteLLM's ``debug``
        calls ask it)."""
        if type(logger) is not Logger or Logger.__getattribute__ is not hook or not known:
            return False
        method = logger.isEnabledFor
        if type(method) is not method_type or method.__func__ is not is_enabled_for or method.__self__ is not logger:
            return False
        method = logger.debug
        if type(method) is not method_type or method.__func__ is not debug or method.__self__ is not logger:
            return False
        method = logger.getEffectiveLevel
        return (type(method) is method_type and method.__func__ is effective_level and method.__self__ is logger
                and not is_enabled_for(logger, level))

    return quiet


# (the names read as default arguments: ~0.2 us a call where module globals and a helper
# per method made it ~0.4; the check it replaces, type and isEnabledFor, was ~0.05)
python_quiet = _make_quiet()


def _native_quiet() -> Any:
    """The same function in C (``RouterLoggerQuiet``, session 24: the same reads, calls and
    order; ~0.1 us less a call, three calls a usage-based-routing-v2 pick), or None."""
    if None in (_IS_ENABLED_FOR, _LOG_DEBUG, _EFFECTIVE_LEVEL):
        return None  # (never quiet: the Python function's answer, always False)
    from fast_litellm._native_loader import NATIVE

    make = getattr(NATIVE, "RouterLoggerQuiet", None)
    if make is None:
        return None
    return make(_LOGGER, _OBJECT_GETATTRIBUTE, _IS_ENABLED_FOR, _LOG_DEBUG, _EFFECTIVE_LEVEL, _DEBUG)


quiet = _native_quiet() or python_quiet
