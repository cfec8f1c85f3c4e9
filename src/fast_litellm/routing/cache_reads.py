"""LiteLLM 1.110.2's ``DualCache.get_cache`` / ``async_get_cache`` without
formatting a value nobody prints.

Every read formats the value it found into an f-string for
``print_verbose``, which prints only in verbose mode.  For a strategy's
usage/latency map at 1,000 deployments that is a repr of ~12,000 objects,
twice per async read: ~11 ms of a latency pick over a populated map,
stock and accelerated alike.

The fast functions are LiteLLM's own source, compiled under LiteLLM's file
name with every line at its own line number; the only change is that
each ``print_verbose(f"...{value}")`` line of a found value gains a
trailing ``if not <quiet> else None`` (the call keeps its columns).  A
message is skipped when ``print_verbose`` is LiteLLM's own (pinned),
verbose mode is off (``litellm._logging.set_verbose`` is ``False``, read
where LiteLLM's ``print_verbose`` reads it, right before each message),
and formatting the value could neither run Python code nor raise
(``router_repr_is_plain``: plain data within 64 bits and 64 levels, with
recursion headroom) - then formatting it has no effect and
``print_verbose`` returns without one.  Anything else formats and calls
as LiteLLM does.  The check runs inside LiteLLM's ``try`` (whose
``except`` logs a failed read and answers None), so it never raises: a
failure of ours is counted against ``rust_routing`` and the message is
printed as LiteLLM prints it.

Why LiteLLM's source and not a rewrite: a failed read is logged by
``log_redis_failure(..., with_traceback=True)`` with ``stacklevel=2``, so
the log line names the reading function's file and line and its traceback
shows that function's frame.  A rewrite logged ``cache_reads.py:113``
where LiteLLM logs ``dual_cache.py:206`` (an unhashable key, or an
in-memory cache that raises); compiled this way the record, the
traceback text and its carets are LiteLLM's (Redis reads included).
"""
from __future__ import annotations

import inspect
import sys
from typing import Any, Callable, Dict, Tuple

from fast_litellm import flags
from fast_litellm.patching.registry import NotAccelerated

_MODULE = "litellm.caching.dual_cache"
FLAG = "rust_routing"  # the flag of these patches (routing.patches)

#: LiteLLM's print lines of a found value -> the guard appended to each
#: (``_fast_plain``: whether the async read's in-memory value was found plain)
_GUARDS: Dict[str, Dict[str, str]] = {
    "get_cache": {
        'print_verbose(f"get cache: cache result: {result}")': "_fast_quiet(result)",
    },
    "async_get_cache": {
        'print_verbose(f"in_memory_result: {in_memory_result}")':
            "(_fast_plain := _fast_quiet(in_memory_result))",
        'print_verbose(f"get cache: cache result: {result}")': "_fast_quiet_again(result, locals())",
    },
}


def _quiet_check() -> Tuple[Callable[[Any], bool], Callable[[Any, dict], bool]]:
    """``quiet(value)``: whether LiteLLM's print of ``value`` would print
    nothing and formatting it would do nothing; ``quiet_again(result,
    frame_locals)``: the same for the async read's last print, without a
    second walk of a value the in-memory print found plain (nothing runs
    between the two prints when the result is that value: the Redis branch
    is skipped by ``result is None``)."""
    import litellm._logging as logging_module

    from fast_litellm._native_loader import NATIVE

    plain = getattr(NATIVE, "router_repr_is_plain", None)
    printer = logging_module.print_verbose
    dual_cache = sys.modules[_MODULE]

    def silent() -> bool:
        return plain is not None and dual_cache.print_verbose is printer and logging_module.set_verbose is False

    def quiet(value: Any) -> bool:
        # These run inside LiteLLM's own ``try``: an error of ours there was
        # logged as a failed cache read and the read answered None (the
        # value lost).  So a failure of the check counts against the flag
        # and answers "not quiet": the message is formatted and printed as
        # LiteLLM does, which is what stock does from that point on.
        try:
            return silent() and plain(value)
        except Exception as exc:
            flags.record_error(FLAG, exc)
            return False

    def quiet_again(result: Any, names: dict) -> bool:
        try:
            if result is not None and names.get("_fast_plain") is True and result is names.get("in_memory_result"):
                return silent()
            return silent() and plain(result)
        except Exception as exc:  # see quiet
            flags.record_error(FLAG, exc)
            return False

    return quiet, quiet_again


def _check_printer() -> None:
    from .strategy_fast import _check_sources

    _check_sources(("litellm._logging:print_verbose",))


def _guarded_source(original: Callable[..., Any], guards: Dict[str, str]) -> Tuple[str, int]:
    """LiteLLM's source of ``original`` with the guards appended to its
    print lines, inside a factory taking the quiet checks, padded so that
    every line keeps its line number in LiteLLM's file."""
    lines, first = inspect.getsourcelines(original)
    if first < 2 or not lines[0].startswith("    ") or lines[0].lstrip().startswith("@"):
        raise NotAccelerated("LiteLLM's %s is not a plain method" % original.__qualname__)
    out = list(lines)
    for statement, guard in guards.items():
        at = [i for i, line in enumerate(lines) if line.strip() == statement]
        if len(at) != 1:
            raise NotAccelerated("LiteLLM's %s has no single line %r" % (original.__qualname__, statement))
        i = at[0]
        out[i] = lines[i].rstrip("\r\n") + " if not %s else None\n" % guard
    header = "def _fast_factory(_fast_quiet, _fast_quiet_again):\n"
    if not out[-1].endswith("\n"):
        out[-1] += "\n"
    footer = "    return %s\n" % original.__name__
    return "\n" * (first - 2) + header + "".join(out) + footer, first


def _build(original: Callable[..., Any]) -> Callable[..., Any]:
    _check_printer()
    name = original.__name__
    source, _ = _guarded_source(original, _GUARDS[name])
    module = sys.modules[_MODULE]
    # LiteLLM's file name (log records, tracebacks), not our future flags
    code = compile(source, original.__code__.co_filename, "exec", dont_inherit=True)
    namespace: Dict[str, Any] = {}
    exec(code, module.__dict__, namespace)  # globals: LiteLLM's module, read at call time as stock
    fast = namespace["_fast_factory"](*_quiet_check())
    fast.__qualname__ = original.__qualname__
    fast.__annotations__ = dict(original.__annotations__)
    fast.__kwdefaults__ = original.__kwdefaults__
    return fast


def make_async_get_cache(original: Callable[..., Any]) -> Callable[..., Any]:
    return _build(original)


def make_get_cache(original: Callable[..., Any]) -> Callable[..., Any]:
    return _build(original)
