"""The v3 proxy rate limiter's pure computation (behind ``rust_rate_limiting``).

LiteLLM's default proxy limiter is
``litellm.proxy.hooks.parallel_request_limiter_v3._PROXY_MaxParallelRequestsHandler_v3``.
Its hot, Redis-free steps are replaced here: descriptor -> counter/metadata
collection (key building), the over-limit check over a batch of counters
(statuses, headers' source, error details), the local counter read and the
in-memory sliding-window update.  Redis calls stay in LiteLLM's code.

The limiter's memory tier (without Redis) is LiteLLM's Rust
``NativeRateLimits``; the native twin replaces it with its own exact
implementation (``LocalRateLimits``, see docs/cache.md): the patched
``RedisStores.rate_limits()`` returns it when there is no Redis client.

``implementation(kind).build_functions(originals)`` returns
``{method name: function(self, ...)}``; ``implementation(kind).build_store_factory(original)``
the replacement of ``RedisStores.rate_limits`` (the original itself for the
Python twin).  ``install()``/``uninstall()``/``accelerated()`` put them on
the classes; ``stock()`` puts LiteLLM's own back for a block.
"""
from __future__ import annotations

import contextlib
from types import SimpleNamespace
from typing import Any, Callable, Dict, Iterator, Optional

from .._native_loader import NATIVE
from ..patching.registry import mark_ours, stock_behind

MODULE = "litellm.proxy.hooks.parallel_request_limiter_v3"
CLASS = "_PROXY_MaxParallelRequestsHandler_v3"
METHODS = (
    "should_rate_limit",
    "_collect_windowed_keys_and_gauges",
    "is_cache_list_over_limit",
    "_local_counter_states",
    "_in_memory_cache_sliding_window",
)
FLAG = "rust_rate_limiting"
STORE_MODULE = "litellm.redis.stores.connection"
STORE_CLASS = "RedisStores"
STORE_METHOD = "rate_limits"


def implementation(kind: str) -> SimpleNamespace:
    from .._native_loader import check_kind, require_native

    check_kind(kind)
    if kind == "python":
        from . import _python as mod
    else:
        require_native("proxy rate limiter")
        from . import _native as mod  # type: ignore[no-redef]
    return SimpleNamespace(kind=kind, build_functions=mod.build_functions,
                           build_store_factory=mod.build_store_factory)


DEFAULT_KIND = "native" if NATIVE is not None else "python"


def handler_class():
    import importlib

    return getattr(importlib.import_module(MODULE), CLASS)


def _scalar_lookup() -> tuple:
    """(the limiter module's globals, LiteLLM's ``_scalar``): the C functions
    inline ``_scalar``, which LiteLLM's methods look up in their module on each
    call; while a user's function stands there (a replacement, a wrapper) they
    hand the call to LiteLLM's method, which calls it.  ``_scalar`` is pinned in
    pins.DEPENDENCIES; one that is not the pinned one matches nothing."""
    from ..patching import guards

    return guards.pinned_binding(MODULE, "_scalar", MODULE + ":_scalar")


def store_class():
    import importlib

    return getattr(importlib.import_module(STORE_MODULE), STORE_CLASS)


def store_original() -> Callable[..., Any]:
    return stock_behind(store_class().__dict__[STORE_METHOD])


def originals() -> Dict[str, Callable[..., Any]]:
    """LiteLLM's functions behind whatever is on the class (registry.stock_behind:
    our own layers only; a user's functools.wraps wrapper over ours is the user's)."""
    cls = handler_class()
    return {name: stock_behind(cls.__dict__[name]) for name in METHODS}


_BUILT: Dict[str, Dict[str, Any]] = {}
_INSTALLED: Dict[str, Any] = {}


def functions(kind: Optional[str] = None) -> Dict[str, Any]:
    kind = kind or DEFAULT_KIND
    built = _BUILT.get(kind)
    if built is None:
        stock = originals()
        built = implementation(kind).build_functions(stock)
        for name, fn in built.items():
            fn.__fast_litellm__ = True
            fn.__wrapped__ = stock[name]
            mark_ours(fn, stock[name])
            fn.__qualname__ = CLASS + "." + name
            fn.__name__ = name
        _BUILT[kind] = built
    return built


def store_factory(kind: Optional[str] = None) -> Any:
    """The replacement of RedisStores.rate_limits for `kind`."""
    kind = kind or DEFAULT_KIND
    key = "store:" + kind
    built = _BUILT.get(key)
    if built is None:
        original = store_original()
        fn = implementation(kind).build_store_factory(original)
        if fn is not original:
            fn.__fast_litellm__ = True
            fn.__wrapped__ = original
            mark_ours(fn, original)
        built = _BUILT[key] = {STORE_METHOD: fn}
    return built[STORE_METHOD]


def install(kind: Optional[str] = None) -> None:
    cls = handler_class()
    for name, fn in functions(kind).items():
        _INSTALLED.setdefault(name, cls.__dict__[name])
        setattr(cls, name, fn)
    scls = store_class()
    _INSTALLED.setdefault("store:" + STORE_METHOD, scls.__dict__[STORE_METHOD])
    setattr(scls, STORE_METHOD, store_factory(kind))


def uninstall() -> None:
    cls, scls = handler_class(), store_class()
    for name, fn in _INSTALLED.items():
        if name.startswith("store:"):
            setattr(scls, name[len("store:"):], fn)
        else:
            setattr(cls, name, fn)
    _INSTALLED.clear()


@contextlib.contextmanager
def accelerated(kind: Optional[str] = None) -> Iterator[None]:
    """Within the block the classes run `kind`'s functions; afterwards
    exactly what they ran before (also when blocks of different kinds nest)."""
    cls, scls = handler_class(), store_class()
    before = {name: cls.__dict__[name] for name in METHODS}
    store_before = scls.__dict__[STORE_METHOD]
    installed_before = dict(_INSTALLED)
    install(kind)
    try:
        yield
    finally:
        for name, fn in before.items():
            setattr(cls, name, fn)
        setattr(scls, STORE_METHOD, store_before)
        _INSTALLED.clear()
        _INSTALLED.update(installed_before)


@contextlib.contextmanager
def stock() -> Iterator[None]:
    """Within the block the handler class runs LiteLLM's own methods, whatever
    the patch engine or ``install()`` put there; restored afterwards."""
    cls, scls = handler_class(), store_class()
    stock_fns = originals()
    before = {name: cls.__dict__[name] for name in METHODS}
    store_before = scls.__dict__[STORE_METHOD]
    try:
        for name in METHODS:
            setattr(cls, name, stock_fns[name])
        setattr(scls, STORE_METHOD, store_original())
        yield
    finally:
        for name, fn in before.items():
            setattr(cls, name, fn)
        setattr(scls, STORE_METHOD, store_before)
