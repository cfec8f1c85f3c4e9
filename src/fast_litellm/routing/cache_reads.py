"""LiteLLM 1.110.2's ``DualCache.get_cache`` / ``async_get_cache`` without
formatting a value nobody prints.

Every read formats the value it found into an f-string for
``print_verbose``, which prints only in verbose mode.  For a strategy's
usage/latency map at 1,000 deployments that is a repr of ~12,000 objects,
twice per async read: ~11 ms of a latency pick over a populated map,
stock and accelerated alike.  Here the code is LiteLLM's, line for line,
except that a message is not formatted when ``print_verbose`` is LiteLLM's
own (pinned), verbose mode is off (``litellm._logging.set_verbose`` is
``False``, read where LiteLLM's ``print_verbose`` reads it, right before
each message), and formatting the value could neither run Python code
nor raise (``router_repr_is_plain``: plain data within 64 bits and 64
levels, with recursion headroom) - then formatting it has no effect and
``print_verbose`` returns without one.  Anything else formats and calls
as LiteLLM does.  A cache with Redis behind it runs LiteLLM's code (its
read failures are logged with a traceback, which would name this file).
"""
from __future__ import annotations

import sys
from typing import Any, Callable

from fast_litellm.patching.registry import NotAccelerated

_MODULE = "litellm.caching.dual_cache"


def _quiet_check() -> Callable[[Any], bool]:
    """``quiet(value)``: whether LiteLLM's print of ``value`` would print
    nothing and formatting it would do nothing."""
    import litellm._logging as logging_module

    from fast_litellm._native_loader import NATIVE

    plain = getattr(NATIVE, "router_repr_is_plain", None)
    printer = logging_module.print_verbose
    dual_cache = sys.modules[_MODULE]

    def silent() -> bool:
        return plain is not None and dual_cache.print_verbose is printer and logging_module.set_verbose is False

    def quiet(value: Any) -> bool:
        return silent() and plain(value)

    quiet.silent = silent  # type: ignore[attr-defined]
    return quiet


def _check_printer() -> None:
    from .strategy_fast import _check_sources

    _check_sources(("litellm._logging:print_verbose",))


def make_async_get_cache(original: Callable[..., Any]) -> Callable[..., Any]:
    _check_printer()
    quiet = _quiet_check()

    async def async_get_cache(self, key, parent_otel_span=None, local_only=False, **kwargs):
        if self.redis_cache is not None:
            raise NotAccelerated("a Redis cache behind it")  # its failures are logged with a traceback
        m = sys.modules[_MODULE]
        try:  # LiteLLM's steps in LiteLLM's order; only the formatting differs
            m.print_verbose(f"async get cache: cache key: {key}; local_only: {local_only}")
            result = None
            plain_read = None
            if self.in_memory_cache is not None:
                in_memory_result = await self.in_memory_cache.async_get_cache(key, **kwargs)

                if quiet(in_memory_result):
                    plain_read = in_memory_result  # found plain; nothing runs before the next print
                else:
                    m.print_verbose(f"in_memory_result: {in_memory_result}")
                if in_memory_result is not None:
                    result = in_memory_result

            # (no Redis: LiteLLM's fallback read is skipped as it skips it)
            if not ((result is plain_read and quiet.silent()) or quiet(result)):
                m.print_verbose(f"get cache: cache result: {result}")
            return result
        except Exception as e:
            m.log_redis_failure(
                m.verbose_logger, m.logging.ERROR, "LiteLLM Cache: exception in async_get_cache", e,
                with_traceback=True,
            )

    async_get_cache.__doc__ = original.__doc__
    return async_get_cache


def make_get_cache(original: Callable[..., Any]) -> Callable[..., Any]:
    _check_printer()
    quiet = _quiet_check()

    def get_cache(self, key, parent_otel_span=None, local_only=False, **kwargs):
        if self.redis_cache is not None:
            raise NotAccelerated("a Redis cache behind it")  # its failures are logged with a traceback
        m = sys.modules[_MODULE]
        try:  # LiteLLM's steps in LiteLLM's order; only the formatting differs
            result = None
            if self.in_memory_cache is not None:
                in_memory_result = self.in_memory_cache.get_cache(key, **kwargs)

                if in_memory_result is not None:
                    result = in_memory_result

            # (no Redis: LiteLLM's fallback read is skipped as it skips it)
            if not quiet(result):
                m.print_verbose(f"get cache: cache result: {result}")
            return result
        except Exception as e:
            m.log_redis_failure(
                m.verbose_logger, m.logging.ERROR, "LiteLLM Cache: exception in get_cache", e, with_traceback=True
            )

    get_cache.__doc__ = original.__doc__
    return get_cache
