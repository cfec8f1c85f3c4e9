"""The registry of patches: what each patch replaces, under which flag, and
against which LiteLLM source it was verified.

A component declares its patches in its own ``patches.py`` module (listed
in ``PATCH_MODULES``), by calling :func:`register` at import time:

    register(Patch(
        name="token_counter",
        component="token_counting",
        flag="rust_token_counting",
        target="litellm.litellm_core_utils.token_counter:token_counter",
        build=lambda original: make_fast_token_counter(original),
    ))

``target`` is ``"module:attribute"`` or ``"module:Class.method"``.  Its
LiteLLM version and the SHA-256 of the original's source are looked up in
``pins.VERIFIED``; a patch whose guard does not match is not applied and
``get_patch_status()`` says why.

``build(original)`` returns the fast implementation.  Unless ``wrap`` is
False, the engine wraps it so that:
  * the flag is checked on each call (off, rollout percentage, shadow);
  * a fast path raising :class:`NotAccelerated` hands the call to the
    original silently (inputs the fast path does not cover);
  * any other exception hands the call to the original; if the original
    raises too, that exception propagates unchanged (it is the user's
    error), otherwise the failure is counted against the flag;
  * an exception the fast path marked with :func:`callers_error` (raised
    by LiteLLM's own code after the fast path had side effects, which a
    second run would repeat) propagates as it is: no second run, no error;
  * a sample of calls is timed into the performance monitor.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

# Modules whose import registers patches.  Adding a patch module is adding a
# line here.
PATCH_MODULES: List[str] = [
    "fast_litellm.token_counter.patches",
    "fast_litellm.routing.patches",
    "fast_litellm.cache.patches",
    "fast_litellm.cost.patches",
]


class NotAccelerated(Exception):
    """Raised by a fast path for an input it does not cover: the engine
    calls the original instead, without counting an error."""


class Delegate:
    """A fast path's answer "call ``fn`` with the same arguments instead".

    For an input the fast path hands back (like ``NotAccelerated``) but
    without raising, and to a function of the fast path's choosing (e.g. the
    stock function one layer down, when the layer in between would only hand
    the call on).  The wrapper calls ``fn`` outside its ``try``: ``fn``'s
    exceptions are the caller's and it never runs twice.  Shadow mode treats
    it as a hand-off (nothing to compare)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Any]):
        self.fn = fn


_CALLERS: Dict[int, BaseException] = {}
# id() for the marks (the routing component sets the native core's router_identity:
# no builtins.id audit event in a pick that raises)
_identity = id
_CALLERS_CAP = 256


def callers_error(exc: BaseException) -> None:
    """Mark ``exc`` as the caller's: the engine's wrapper lets it propagate
    instead of running the original after it.

    For a fast path that has had side effects (a ``random`` draw, a cache or
    metadata write, a log record) and then calls LiteLLM's own code in
    LiteLLM's order: an exception from there is the one stock LiteLLM raises
    at the same point, and running the original on top would repeat the side
    effects.  Use it around those calls only, as

        try:
            ...LiteLLM's calls...
        except Exception as exc:
            callers_error(exc)
            raise

    (or ``with callers_errors:``), so an error of the fast path's own (a
    native failure, a bug) still falls back to the original.  The mark is held by identity until the wrapper
    reads it; outside a wrapper (tests calling a fast path directly) nothing
    reads it and the table is cleared past a small bound."""
    if len(_CALLERS) >= _CALLERS_CAP:
        _CALLERS.clear()
    _CALLERS[_identity(exc)] = exc


class _CallersErrors:
    """``with callers_errors:``: an ``Exception`` leaving the block is marked
    with :func:`callers_error` and goes on unchanged (same object, traceback
    and context).  Cheaper than a generator-based context manager."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
        if exc is not None and isinstance(exc, Exception):
            callers_error(exc)
        return False


callers_errors = _CallersErrors()


def is_callers_error(exc: BaseException) -> bool:
    """True (once) when ``exc`` was marked by :func:`callers_error`."""
    return bool(_CALLERS) and _CALLERS.pop(_identity(exc), None) is exc


_NO_ORIGINAL: Any = object()


def mark_ours(fn: Any, original: Any = _NO_ORIGINAL) -> Any:
    """Mark ``fn`` (a wrapper or dispatcher carrying ``__fast_litellm_patch__`` /
    ``__fast_litellm_original__``) as one of ours: it names itself.  The
    other marks alone do not say so: ``functools.wraps`` copies a wrapped
    function's ``__dict__``, marks and all, into a user's wrapper over ours
    (session 22 hunt: such a wrapper was taken for our patch and skipped).
    ``original``: the function ``fn`` replaces, kept as ``__fast_litellm_original__``
    (what :func:`stock_behind` follows)."""
    if original is not _NO_ORIGINAL:
        fn.__fast_litellm_original__ = original
    fn.__fast_litellm_self__ = fn
    return fn


#: native types whose every instance is one of ours (they cannot carry the
#: self-mark), with the attribute holding the function each replaces
_OUR_TYPES: Dict[type, str] = {}


def own_type(cls: type, original_attribute: str = "__wrapped__") -> type:
    """Declare ``cls`` (a native type of ours, e.g. the cache's ``fast_method``)
    ours: :func:`stock_behind` follows its instances' ``original_attribute``.
    A user's wrapper cannot copy a type, so the type names them as the
    self-mark names a function."""
    _OUR_TYPES[cls] = original_attribute
    return cls


def is_ours(fn: Any) -> bool:
    """Whether ``fn`` is one of our marked wrappers itself (see :func:`mark_ours`),
    not something that copied its marks."""
    return getattr(fn, "__fast_litellm_self__", None) is fn


def original_if_ours(fn: Any, default: Any = None) -> Any:
    """``fn.__fast_litellm_original__`` when ``fn`` is one of our wrappers, else ``default``."""
    if is_ours(fn):
        return getattr(fn, "__fast_litellm_original__", default)
    return default


def stock_behind(fn: Any) -> Any:
    """The function behind ``fn``'s layers that are ours: while ``fn`` is one of
    our wrappers (self-marked, :func:`mark_ours`, or an instance of a type
    declared with :func:`own_type`), the function it replaces; the first layer
    that is not ours is returned as it is (a user's ``functools.wraps`` wrapper
    over ours copies our marks, ``__wrapped__``, ``__fast_litellm_original__``,
    ``__fast_litellm__``: it is the user's code and must run, so it is never
    looked through)."""
    for _ in range(64):
        if is_ours(fn):
            inner = getattr(fn, "__fast_litellm_original__", None)
        else:
            attribute = _OUR_TYPES.get(type(fn))
            inner = None if attribute is None else getattr(fn, attribute, None)
        if inner is None:
            return fn
        fn = inner
    return fn


class Patch:
    """One replacement of a LiteLLM function or method (see module doc)."""

    __slots__ = ("name", "component", "flag", "target", "build", "wrap",
                 "scan_bindings", "compare", "description", "extra")

    def __init__(self, name: str, component: str, flag: str, target: str,
                 build: Callable[[Any], Any], wrap: bool = True,
                 scan_bindings: bool = True,
                 compare: Optional[Callable[[Any, Any], bool]] = None,
                 description: str = "", extra: Optional[Dict[str, Any]] = None):
        if ":" not in target:
            raise ValueError("target must be 'module:qualname', got %r" % (target,))
        self.name = name
        self.component = component
        self.flag = flag
        self.target = target
        self.build = build
        self.wrap = wrap
        #: replace every module global that is the original object (identity scan)
        self.scan_bindings = scan_bindings
        #: for shadow mode: compare(fast_result, original_result) -> bool
        self.compare = compare
        self.description = description
        #: "shadow_safe": True when the fast path has no side effects
        self.extra = dict(extra or {})

    def __repr__(self) -> str:
        return "Patch(%r, target=%r, flag=%r)" % (self.name, self.target, self.flag)

    @property
    def module(self) -> str:
        return self.target.split(":", 1)[0]

    @property
    def qualname(self) -> str:
        return self.target.split(":", 1)[1]


_PATCHES: Dict[str, Patch] = {}


def register(patch: Patch) -> Patch:
    if patch.name in _PATCHES and _PATCHES[patch.name] is not patch:
        raise ValueError("patch %r is already registered" % patch.name)
    _PATCHES[patch.name] = patch
    return patch


def all_patches() -> List[Patch]:
    return list(_PATCHES.values())


def get(name: str) -> Optional[Patch]:
    return _PATCHES.get(name)


def unregister(name: str) -> None:
    """Forget a patch (tests).  Remove it first if it is applied."""
    _PATCHES.pop(name, None)
