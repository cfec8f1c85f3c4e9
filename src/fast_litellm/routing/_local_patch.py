"""Apply this component's patches without the patch engine, behind a
switch: for the differential tests and the benchmark, which run stock and
accelerated LiteLLM side by side in one process.

``install()`` replaces each target with a dispatcher that calls the fast
implementation while ``ACCELERATED`` is on (handing the call to the
original on :class:`NotAccelerated`, as the engine does) and the original
otherwise; ``uninstall()`` puts the originals back.  Production code goes
through :mod:`fast_litellm.patching` instead.
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
from typing import Any, Dict, Iterator, List, Tuple

from fast_litellm.patching.registry import Delegate, NotAccelerated, is_callers_error, mark_ours, original_if_ours

from . import patches

ACCELERATED = [False]
_INSTALLED: List[Tuple[Any, str, Any]] = []


def _owner(target: str) -> Tuple[Any, str]:
    module_name, qualname = target.split(":", 1)
    owner: Any = importlib.import_module(module_name)
    parts = qualname.split(".")
    for part in parts[:-1]:
        owner = getattr(owner, part)
    return owner, parts[-1]


def _dispatcher(original: Any, fast: Any, precheck: Any = None, native: bool = False) -> Any:
    # precheck: (ok, full), ``ok() or full()`` false declines before the fast path (the
    # patch's ``extra["precheck"]``, as the engine's wrapper reads it)
    ok, full = precheck() if precheck is not None else (None, None)
    if inspect.iscoroutinefunction(original):
        @functools.wraps(original)
        async def dispatch_async(*args: Any, **kwargs: Any) -> Any:
            if ACCELERATED[0] and (ok is None or ok() or full()):
                try:
                    result = await fast(*args, **kwargs)
                except NotAccelerated:
                    pass
                except Exception as exc:  # no fallback here: every other error propagates
                    is_callers_error(exc)  # (a mark is dropped, as the engine drops it)
                    raise
                else:
                    if result.__class__ is Delegate:  # handed on outside the try, as the engine does
                        return await result.fn(*args, **kwargs)
                    return result
            return await original(*args, **kwargs)

        return dispatch_async

    @functools.wraps(original)
    def dispatch(*args: Any, **kwargs: Any) -> Any:
        if ACCELERATED[0] and (ok is None or ok() or full()):
            try:
                result = fast(*args, **kwargs)
            except NotAccelerated:
                pass
            except Exception as exc:  # no fallback here: every other error propagates
                is_callers_error(exc)  # (a mark is dropped, as the engine drops it)
                raise
            else:
                if result.__class__ is Delegate:  # handed on outside the try, as the engine does
                    return result.fn(*args, **kwargs)
                return result
        return original(*args, **kwargs)

    if native:
        # the hot path in C (switch on, precheck true): wrappers.native_layer
        from fast_litellm.patching import wrappers

        return wrappers.native_layer(dispatch, original, fast, ACCELERATED, ok, full, dispatch, 0, _on_error)
    return dispatch


def _on_error(exc: BaseException) -> Any:
    """The native layer's hand-off of an exception other than NotAccelerated: as
    ``dispatch`` does, no fallback (a mark is dropped, as the engine drops it)."""
    from fast_litellm.patching import wrappers

    is_callers_error(exc)
    return wrappers.RERAISE


def install(guarded: bool = False) -> None:
    """``guarded``: the fast side runs inside the patch engine's wrapper
    (``wrappers.guarded``: fallback to the original on an error of ours,
    counted against the flag; the caller's errors raised once), for tests
    that inject faults; the flag must be on."""
    if _INSTALLED:
        return
    from fast_litellm.patching import wrappers

    for patch in patches.PATCHES:
        owner, name = _owner(patch.target)
        current = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        # After `import fast_litellm` the engine may already have replaced the
        # target: the stock side must be LiteLLM's own function, not our wrapper.
        original = original_if_ours(current, current)
        try:
            fast = patch.build(original)
        except NotAccelerated:  # declined at build: the original stays, as the engine leaves it
            continue
        if patch.extra.get("frameless"):
            # no Python dispatcher frame (it would move what the patch keeps in place, e.g.
            # the deprecated read's warning frame): the native callable reads the switch
            fast.switch = ACCELERATED
            fast.__fast_litellm_patch__ = patch.name
            fast.__fast_litellm_original__ = original
            fast.__fast_litellm_local__ = patch.name
            setattr(owner, name, mark_ours(fast))
            _INSTALLED.append((owner, name, original, current))
            continue
        if guarded:
            fast = wrappers.guarded(patch, original, fast)
        dispatcher = _dispatcher(original, fast, patch.extra.get("precheck"),
                                 native=bool(patch.extra.get("native_layer")) and not guarded)
        # marked as the engine marks its wrappers (which patch, over which
        # original), and as this module's own dispatcher
        dispatcher.__fast_litellm_patch__ = patch.name
        dispatcher.__fast_litellm_original__ = original
        dispatcher.__fast_litellm_local__ = patch.name
        setattr(owner, name, mark_ours(dispatcher))
        _INSTALLED.append((owner, name, original, current))


def uninstall() -> None:
    while _INSTALLED:
        owner, name, _original, previous = _INSTALLED.pop()
        setattr(owner, name, previous)


@contextlib.contextmanager
def accelerated(on: bool = True) -> Iterator[None]:
    previous = ACCELERATED[0]
    ACCELERATED[0] = on
    try:
        yield
    finally:
        ACCELERATED[0] = previous


def source_hashes() -> Dict[str, str]:
    """target -> sha256 of the original's source, for pins.VERIFIED."""
    import hashlib

    out = {}
    for patch in patches.PATCHES:
        owner, name = _owner(patch.target)
        original = _original_of(owner, name)
        out[patch.target] = hashlib.sha256(inspect.getsource(original).encode()).hexdigest()
    return out


def _original_of(owner: Any, name: str) -> Any:
    for o, n, original, _previous in _INSTALLED:
        if o is owner and n == name:
            return original
    current = getattr(owner, name)
    return original_if_ours(current, current)
