"""The wrapper every replacement runs inside.

For each call:
  * flag on: run the fast path.  ``NotAccelerated`` hands the call to the
    original (an input the fast path does not cover); a returned
    ``Delegate(fn)`` hands it to ``fn`` without raising (outside the try).  Any other exception
    hands it to the original too: if the original raises, its exception is
    the caller's (the input was bad) and propagates unchanged; if it
    returns, the fast path was wrong, which is counted against the flag
    (and past the threshold the flag switches itself off).  An exception
    the fast path marked as the caller's (``registry.callers_error``: raised
    by LiteLLM's code after side effects a second run would repeat)
    propagates as it is.
  * flag in rollout: a draw at the rollout rate picks the path.
  * flag in shadow: the original serves; the fast path runs too (only for
    patches marked shadow-safe: no side effects) and mismatches are counted.
  * flag off or disabled by errors: the original.
One call in ``SAMPLE_EVERY`` is timed into the performance monitor.
"""
from __future__ import annotations

import functools
import itertools
import time
from typing import Any, Callable

from .. import flags
from .registry import Delegate, NotAccelerated, Patch, is_callers_error, mark_ours

SAMPLE_EVERY = 16

# The fast path handed the call over (NotAccelerated).  The wrappers call the
# original after their ``except`` clauses, never inside one: inside, the
# original would run while our exception is being handled, so every
# exception it raised (the caller's, propagated, or one it catches itself)
# would carry ours as ``__context__`` (tracebacks showing "During handling
# of NotAccelerated ...") and ``sys.exc_info()`` in LiteLLM's code would see
# ours, where stock LiteLLM has none.
_HANDOFF = object()

_perf = time.perf_counter


def _recorder() -> Callable[..., None]:
    try:
        from ..monitor import record_performance
    except Exception:  # pragma: no cover - monitor missing
        return lambda *a, **k: None
    return record_performance


#: what a native layer's ``on_error`` returns for "raise the exception as it is"
RERAISE = object()


def native_layer(slow: Callable, original: Callable, fast: Callable, gate: Any, ok: Any, full: Any,
                 sampled: Callable, every: int, on_error: Callable, fallen: Any = None) -> Callable:
    """``slow`` (a synchronous Python layer: the engine's wrapper or the local
    dispatcher) with its hot path in C (``RouterLayer``, bind_router_layer.c: no
    Python frame, ~0.15-0.3 us a call less): while ``gate`` is on (a list whose item
    0 is True, or ``serve_fast`` True) and the call is not the ``every``-th (timed
    by ``sampled``), ``ok() or full()`` (None: no precheck) false hands the call to
    the original, true runs the fast path there, with the layer's hand-offs
    (Delegate, NotAccelerated to the original; any other exception to
    ``on_error(exc)``: ``RERAISE`` raises it as it is, anything else lets the
    original serve, then ``fallen(exc)``); every other call is ``slow``'s.  The
    layer carries ``slow``'s attributes (functools.wraps', the marks set after).
    ``slow`` itself where the native core is not loaded."""
    from .._native_loader import NATIVE

    layer_type = getattr(NATIVE, "RouterLayer", None)
    if layer_type is None:
        return slow
    layer = layer_type(fast, original, gate, ok, full, slow, sampled, on_error, fallen, RERAISE, NotAccelerated,
                       Delegate, every)
    layer.__dict__.update(slow.__dict__)  # functools.wraps' __wrapped__ and the original's dict
    for name in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(layer, name, getattr(slow, name))
    return layer


def guarded(patch: Patch, original: Callable, fast: Callable) -> Callable:
    flag = flags.get_flag(patch.flag)
    component = patch.component
    op_fast = patch.name
    op_orig = patch.name + ".original"
    compare = patch.compare or (lambda a, b: a == b)
    shadow_safe = patch.extra.get("shadow_safe", False)
    ticket = itertools.count()
    record_state = {"fn": None}

    def record(op: str, seconds: float, ok: bool) -> None:
        fn = record_state["fn"]
        if fn is None:
            fn = record_state["fn"] = _recorder()
        try:
            fn(component, op, seconds * 1000.0, ok)
        except Exception:  # pragma: no cover
            pass

    def on_failure(exc: BaseException, args, kwargs):
        result = original(*args, **kwargs)  # raises the caller's exception, if any
        flags.record_error(patch.flag, exc)
        return result

    def engine_on_error(exc):
        # the native layer's hand-off of an exception other than NotAccelerated: the
        # wrapper's own handling (a caller's error as it is; else the original serves,
        # then engine_fallen counts ours)
        return RERAISE if is_callers_error(exc) else None

    def engine_fallen(exc):
        flags.record_error(patch.flag, exc)

    import inspect

    # a check every call makes before the fast path (``extra["precheck"]``: a factory of
    # (ok, full); ``ok() or full()`` false hands the call to the original, as NotAccelerated)
    precheck = patch.extra.get("precheck")
    ok, full = precheck() if precheck is not None else (None, None)

    def shadowing() -> bool:
        return flag.mode == flags.MODE_SHADOW and not flag.error_disabled and shadow_safe

    # Each wrapper decides once how a call is served (the first branch is the
    # hot path: flag on) and then runs the fast path in one body, so the
    # hand-offs (NotAccelerated, a caller's error, another error, Delegate)
    # are spelled out once per kind.  Timing: one call in SAMPLE_EVERY with
    # the flag on; a rollout's fast calls are not timed.
    if inspect.iscoroutinefunction(original):

        async def async_shadow(args, kwargs):
            result = await original(*args, **kwargs)
            try:
                fast_result = await fast(*args, **kwargs)
                if fast_result.__class__ is not Delegate:
                    flags.record_shadow_result(patch.flag, bool(compare(fast_result, result)))
            except NotAccelerated:
                pass
            except Exception as exc:
                flags.record_error(patch.flag, exc)
            return result

        @functools.wraps(original)
        async def async_wrapper(*args, **kwargs):
            if flag.serve_fast:
                t0 = None if next(ticket) % SAMPLE_EVERY else _perf()
            elif shadowing():
                return await async_shadow(args, kwargs)
            elif flag.enabled_for(None):
                t0 = None
            else:
                return await original(*args, **kwargs)
            failure = None
            try:
                if ok is not None and not (ok() or full()):
                    raise NotAccelerated
                result = await fast(*args, **kwargs)
            except NotAccelerated:
                result = _HANDOFF
            except Exception as exc:
                if is_callers_error(exc):
                    raise
                failure = exc
                result = _HANDOFF
            if result is _HANDOFF:  # outside the except: see _HANDOFF
                result = await original(*args, **kwargs)
                if failure is not None:
                    flags.record_error(patch.flag, failure)
            elif result.__class__ is Delegate:
                result = await result.fn(*args, **kwargs)
            if t0 is not None:  # the sampled call, whichever path served it
                record(op_fast, _perf() - t0, True)
            return result

        wrapper: Callable = async_wrapper
    else:

        def shadow(args, kwargs):
            result = original(*args, **kwargs)
            try:
                fast_result = fast(*args, **kwargs)
                if fast_result.__class__ is not Delegate:
                    flags.record_shadow_result(patch.flag, bool(compare(fast_result, result)))
            except NotAccelerated:
                pass
            except Exception as exc:
                flags.record_error(patch.flag, exc)
            return result

        def original_sampled(args, kwargs):
            if next(ticket) % SAMPLE_EVERY == 0:
                t0 = _perf()
                result = original(*args, **kwargs)
                record(op_orig, _perf() - t0, True)
                return result
            return original(*args, **kwargs)

        def sync_wrapper(every):
            # (every: one call in ``every`` served fast is timed; the native layer's
            # ``sampled`` wrapper times each call it is handed)
            @functools.wraps(original)
            def wrapper(*args, **kwargs):
                if flag.serve_fast:
                    t0 = None if next(ticket) % every else _perf()
                elif shadowing():
                    return shadow(args, kwargs)
                elif flag.enabled_for(None):
                    t0 = None
                else:
                    return original_sampled(args, kwargs)
                failure = None
                try:
                    if ok is not None and not (ok() or full()):
                        raise NotAccelerated
                    result = fast(*args, **kwargs)
                except NotAccelerated:
                    result = _HANDOFF
                except Exception as exc:
                    if is_callers_error(exc):
                        raise
                    failure = exc
                    result = _HANDOFF
                if result is _HANDOFF:  # outside the except: see _HANDOFF
                    if failure is None:
                        return original(*args, **kwargs)
                    return on_failure(failure, args, kwargs)
                if result.__class__ is Delegate:
                    return result.fn(*args, **kwargs)
                if t0 is not None:  # the sampled call, served by the fast path
                    record(op_fast, _perf() - t0, True)
                return result

            return wrapper

        wrapper = sync_wrapper(SAMPLE_EVERY)
        if patch.extra.get("native_layer"):
            # the hot path in C (flag on, not sampled, precheck true): see native_layer
            wrapper = native_layer(wrapper, original, fast, flag, ok, full, sync_wrapper(1), SAMPLE_EVERY,
                                   engine_on_error, engine_fallen)

    wrapper.__fast_litellm_patch__ = patch.name  # type: ignore[attr-defined]
    wrapper.__fast_litellm_original__ = original  # type: ignore[attr-defined]
    wrapper.__fast_litellm_fast__ = fast  # type: ignore[attr-defined]
    return mark_ours(wrapper)
