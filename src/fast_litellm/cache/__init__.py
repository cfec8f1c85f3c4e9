"""Accelerated LiteLLM InMemoryCache methods and proxy rate-limiter hot path.

``implementation(kind)`` returns the "python" or "native" twin, each with
``build_methods(...)`` / ``configure(...)`` for the cache and the limiter
functions.  ``install()`` / ``uninstall()`` / ``accelerated()`` put the
fast methods on ``litellm.caching.in_memory_cache.InMemoryCache`` (every
subclass and user benefits) and take them off again; the patch engine uses
the same builders through ``fast_litellm.cache.patches``.

Flags: ``native_in_memory_cache`` (the cache methods), ``rust_connection_pool``
(whether ``LLMClientCache`` instances use them), ``rust_rate_limiting`` (the
limiter).  See docs/cache.md.
"""
from __future__ import annotations

import contextlib
import heapq
import json
import threading
import types
from types import SimpleNamespace
from typing import Any, Callable, Dict, Iterator, Optional

from .._native_loader import NATIVE, flag_enabled
from .._forksafe import fresh_lock_after_fork
from ..patching.registry import mark_ours, own_type, stock_behind

CACHE_MODULE = "litellm.caching.in_memory_cache"
CACHE_CLASS = "InMemoryCache"
CLIENT_CACHE_MODULE = "litellm.caching.llm_caching_handler"
CLIENT_CACHE_CLASS = "LLMClientCache"

#: methods the native twin replaces
NATIVE_METHODS = (
    "get_cache",
    "set_cache",
    "batch_get_cache",
    "increment_cache",
    "delete_cache",
    "flush_cache",
    "evict_cache",
)
#: helpers whose stock versions the fast methods compare against
HOOKS = (
    "check_value_size",
    "allow_ttl_override",
    "evict_element_if_expired",
    "_is_key_expired",
    "_remove_key",
    "_cache_keys",
    "async_batch_get_cache",
    "__init__",
)
FLAG = "native_in_memory_cache"
CLIENT_FLAG = "rust_connection_pool"
LIMITER_FLAG = "rust_rate_limiting"


def _register_flag() -> None:
    try:
        from .. import flags  # type: ignore[attr-defined]
    except ImportError:
        return
    register = getattr(flags, "register_flag", None)
    if register is None:
        return
    try:
        register(
            FLAG,
            alias="FAST_LITELLM_NATIVE_IN_MEMORY_CACHE",
            description="Native InMemoryCache get/set/batch get/increment/delete/flush/evict",
        )
    except (ValueError, TypeError):  # already registered, or another signature
        pass


_register_flag()


def implementation(kind: str) -> SimpleNamespace:
    """The "python" or "native" twin: build_methods, configure, limiter API."""
    from .._native_loader import check_kind, require_native

    check_kind(kind)
    if kind == "python":
        from . import _python as cache_mod
        from ..proxy_limiter import _python as limiter_mod  # noqa: F401
    else:
        require_native("in-memory cache")
        from . import _native as cache_mod  # type: ignore[no-redef]
        from ..proxy_limiter import _native as limiter_mod  # type: ignore[no-redef]
    return SimpleNamespace(
        kind=kind,
        build_methods=cache_mod.build_methods,
        configure=cache_mod.configure,
        limiter=limiter_mod,
    )


DEFAULT_KIND = "native" if NATIVE is not None else "python"


def cache_class():
    import importlib

    return getattr(importlib.import_module(CACHE_MODULE), CACHE_CLASS)


def client_cache_class():
    import importlib

    return getattr(importlib.import_module(CLIENT_CACHE_MODULE), CLIENT_CACHE_CLASS)


def originals() -> Dict[str, Callable[..., Any]]:
    """LiteLLM's functions behind whatever is on the class: behind our own layers
    only (registry.stock_behind: a user's functools.wraps wrapper over ours copies
    our marks, and is the user's)."""
    cls = cache_class()
    return {name: stock_behind(cls.__dict__[name]) for name in NATIVE_METHODS + HOOKS}


_BUILT: Dict[str, Dict[str, Any]] = {}
_BUILD_LOCK = threading.Lock()

fresh_lock_after_fork(globals(), "_BUILD_LOCK")  # a parent thread holding it at a fork is gone in the child


def _lock_types() -> tuple:
    return (type(threading.Lock()), type(threading.RLock()))


def methods(kind: Optional[str] = None) -> Dict[str, Any]:
    """The fast methods of one twin, built once per process."""
    kind = kind or DEFAULT_KIND
    import importlib

    if kind not in _BUILT:
        # import outside the lock: a first import of LiteLLM applies the
        # patches, whose build calls methods() (under the lock) itself
        importlib.import_module(CACHE_MODULE)
    with _BUILD_LOCK:
        built = _BUILT.get(kind)
        if built is None:
            module = importlib.import_module(CACHE_MODULE)
            impl = implementation(kind)
            stock_fns = originals()
            built = impl.build_methods(stock_fns, vars(module), json, heapq, _lock_types())
            built["async_batch_get_cache"] = _async_batch_get_cache(built)
            for name, fn in built.items():
                if type(fn) is types.FunctionType:
                    fn.__fast_litellm__ = True
                    mark_ours(fn, stock_fns[name])  # (registry.stock_behind follows it)
                else:  # the native fast_method: its type is ours, its __wrapped__ the stock one
                    own_type(type(fn))
            _BUILT[kind] = built
        return built


def _async_batch_get_cache(built: Dict[str, Any]) -> Callable[..., Any]:
    batch = built["batch_get_cache"]
    stock = originals()["async_batch_get_cache"]

    async def async_batch_get_cache(self, keys: list, **kwargs):
        # the stock body is batch_get_cache's loop (self.get_cache per key),
        # which is exactly what the fast batch_get_cache runs
        return batch(self, keys, **kwargs)

    async_batch_get_cache.__qualname__ = "InMemoryCache.async_batch_get_cache"
    async_batch_get_cache.__module__ = stock.__module__
    async_batch_get_cache.__wrapped__ = stock  # type: ignore[attr-defined]
    return async_batch_get_cache


def configure_client_cache(kind: Optional[str] = None, enabled: Optional[bool] = None) -> None:
    """LLMClientCache (litellm.in_memory_llm_clients_cache) follows rust_connection_pool."""
    kind = kind or DEFAULT_KIND
    if enabled is None:
        enabled = flag_enabled(CLIENT_FLAG)
    built = methods(kind)
    stock_types = () if enabled else (client_cache_class(),)
    implementation(kind).configure({k: v for k, v in built.items() if k in NATIVE_METHODS}, stock_types)
    _CLIENT_STOCK[kind] = stock_types


_CLIENT_STOCK: Dict[str, tuple] = {}
_INSTALLED: Dict[str, Any] = {}


def install(kind: Optional[str] = None, names: Optional[tuple] = None) -> Dict[str, Any]:
    """Put the fast methods on InMemoryCache; returns what was replaced."""
    kind = kind or DEFAULT_KIND
    cls = cache_class()
    built = methods(kind)
    configure_client_cache(kind)
    for name in names or tuple(built):
        if name not in _INSTALLED:
            _INSTALLED[name] = cls.__dict__[name]
        setattr(cls, name, built[name])
    return dict(_INSTALLED)


def uninstall() -> None:
    cls = cache_class()
    for name, original in _INSTALLED.items():
        setattr(cls, name, original)
    _INSTALLED.clear()


@contextlib.contextmanager
def accelerated(kind: Optional[str] = None, names: Optional[tuple] = None) -> Iterator[Dict[str, Any]]:
    """Within the block InMemoryCache runs the fast methods; afterwards the
    class is as it was before the block."""
    cls = cache_class()
    before = {name: cls.__dict__[name] for name in methods(kind)}
    saved = dict(_INSTALLED)
    try:
        yield install(kind, names)
    finally:
        for name, fn in before.items():
            setattr(cls, name, fn)
        _INSTALLED.clear()
        _INSTALLED.update(saved)


@contextlib.contextmanager
def stock() -> Iterator[None]:
    """Within the block InMemoryCache runs LiteLLM's own methods, whatever
    ``import fast_litellm`` (the patch engine) or ``install()`` put on the
    class; afterwards the class is as it was before the block.  Benchmarks
    and differential tests use it for the stock side."""
    cls = cache_class()
    stock_fns = originals()
    names = NATIVE_METHODS + ("async_batch_get_cache",)
    before = {name: cls.__dict__[name] for name in names}
    try:
        for name in names:
            setattr(cls, name, stock_fns[name])
        yield
    finally:
        for name, fn in before.items():
            setattr(cls, name, fn)
