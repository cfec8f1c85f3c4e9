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
_CLASS = logging.Logger.__dict__  # (a live view of the class's dict)
_METHOD = types.MethodType
_DEBUG = logging.DEBUG
_OBJECT_GETATTRIBUTE = object.__getattribute__


def _own(name: str) -> Any:
    found = _CLASS.get(name)
    code = getattr(found, "__code__", None)
    if (type(found) is not types.FunctionType or found.__module__ != "logging"
            or getattr(code, "co_filename", None) != logging.__file__
            or found.__qualname__ != "Logger." + name):
        return None  # replaced before this import: never asked
    return found


_IS_ENABLED_FOR, _LOG_DEBUG, _EFFECTIVE_LEVEL = _own("isEnabledFor"), _own("debug"), _own("getEffectiveLevel")
_KNOWN = None not in (_IS_ENABLED_FOR, _LOG_DEBUG, _EFFECTIVE_LEVEL)


def _bound(method: Any, function: Any, logger: Any) -> bool:
    return type(method) is _METHOD and method.__func__ is function and method.__self__ is logger


def plain(logger: Any) -> bool:
    """``logger`` an exact ``Logger`` with logging's own ``isEnabledFor``,
    ``debug`` and ``getEffectiveLevel`` (the class's, no attribute hook, none
    of the instance's).  Asks the logger nothing."""
    if type(logger) is not _LOGGER or not _KNOWN:
        return False
    get = _CLASS.get
    if (get("isEnabledFor") is not _IS_ENABLED_FOR or get("debug") is not _LOG_DEBUG
            or get("getEffectiveLevel") is not _EFFECTIVE_LEVEL or _LOGGER.__getattribute__ is not _OBJECT_GETATTRIBUTE):
        return False
    return (_bound(logger.isEnabledFor, _IS_ENABLED_FOR, logger) and _bound(logger.debug, _LOG_DEBUG, logger)
            and _bound(logger.getEffectiveLevel, _EFFECTIVE_LEVEL, logger))


def quiet(logger: Any) -> bool:
    """``plain(logger)`` and not enabled for DEBUG (asked only then: logging's
    own ``isEnabledFor``, as LiteLLM's ``debug`` calls ask it)."""
    return plain(logger) and not _IS_ENABLED_FOR(logger, _DEBUG)
