"""Patch declarations: LiteLLM's InMemoryCache methods and the v3 proxy
limiter's pure computation.

InMemoryCache methods (flag ``native_in_memory_cache``) are registered with
``wrap=False``: they are called millions of times and cost a few hundred
nanoseconds, so a per-call Python wrapper (flag check, fallback, sampling)
would cost more than the method it wraps.  Instead:
  * the flag is honoured when patches are applied (and by ``refresh()``);
  * fallback is built in: every fast method holds the stock function and
    calls it for any input or class it does not cover (see bind_cache.c);
  * ``LLMClientCache`` (``litellm.in_memory_llm_clients_cache``) follows
    ``rust_connection_pool``: while it is off its instances run the stock
    methods (a per-type switch inside the native methods).

The limiter functions (flag ``rust_rate_limiting``) cost microseconds and
are wrapped by the engine as usual, except ``_in_memory_cache_sliding_window``:
it writes to the local store, so re-running the original after a failure
(the engine's fallback) would apply increments twice; it raises exactly
what the stock function raises, at the same point, instead.

Every target's source hash is in ``fast_litellm.patching.pins.VERIFIED``;
the helpers the fast code inlines or relies on are pinned in ``DEPENDENCIES``
below and checked when a patch is built.
"""
from __future__ import annotations

import importlib
from typing import Any

from ..patching import guards, pins
from ..patching.registry import NotAccelerated, Patch, mark_ours, register, stock_behind
from . import CLIENT_FLAG, FLAG, LIMITER_FLAG, NATIVE_METHODS

CACHE_TARGET = "litellm.caching.in_memory_cache:InMemoryCache."
LIMITER_TARGET = "litellm.proxy.hooks.parallel_request_limiter_v3:_PROXY_MaxParallelRequestsHandler_v3."

CACHE_PATCHED = NATIVE_METHODS + ("async_batch_get_cache",)

#: sources the fast code's exactness depends on without replacing them
DEPENDENCIES = pins.DEPENDENCIES


class DependencyChanged(RuntimeError):
    """A LiteLLM source the fast code relies on is not the verified one."""


def resolve(target: str) -> Any:
    module, qualname = target.split(":", 1)
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = obj.__dict__[part] if isinstance(obj, type) else getattr(obj, part)
    return obj


def source_hash(obj: Any) -> str:
    """The source hash of the function behind our own layers (registry.stock_behind)."""
    return guards.source_hash(stock_behind(obj))


def check_dependencies(prefixes: tuple) -> None:
    for target, expected in DEPENDENCIES.items():
        if not target.startswith(prefixes):
            continue
        # guards.resolve_target: how every pin is read (a property is its getter, a
        # descriptor its function, the engine's wrapper its original)
        got = source_hash(guards.resolve_target(target))
        if got != expected:
            raise DependencyChanged("%s changed (sha256 %s, verified %s)" % (target, got, expected))


def _build_cache_method(name: str):
    def build(original: Any) -> Any:
        from .. import cache

        check_dependencies((CACHE_TARGET,))
        # the Python twin only replaces the read path; other names keep the original
        method = cache.methods().get(name, original)
        cache.configure_client_cache()
        return method

    return build


def _build_limiter_function(name: str):
    def build(original: Any) -> Any:
        from .. import proxy_limiter

        check_dependencies(("litellm.redis.", "litellm.proxy."))
        originals = proxy_limiter.originals()
        originals[name] = original
        built = proxy_limiter.implementation(proxy_limiter.DEFAULT_KIND).build_functions(originals)
        if name not in built:
            raise NotAccelerated("the Python twin keeps LiteLLM's %s" % name)
        fn = built[name]
        # the stock method's name in argument errors ("..._v3.<name>() missing ...")
        fn.__qualname__ = proxy_limiter.CLASS + "." + name
        fn.__name__ = name
        if name not in UNWRAPPED_LIMITER:
            fn = _errors_are_the_callers(fn)
        fn.__wrapped__ = original
        fn.__fast_litellm__ = True
        return mark_ours(fn, original)

    return build


#: limiter functions installed without the engine's wrapper (they write to
#: the store: a second run after a failure would apply increments twice)
UNWRAPPED_LIMITER = ("_in_memory_cache_sliding_window", "should_rate_limit")


def _errors_are_the_callers(fast: Any) -> Any:
    """The wrapped limiter functions raise exactly what the stock function
    raises at the same point, after the same reads of the caller's
    arguments (one-shot iterables consumed, user mappings and __bool__/
    __int__ called).  The engine's retry of the original after an error
    would read them again: a generator of descriptors would then be
    missing what the first run consumed and the retry could *return*.  So
    their errors are the caller's (no second run); a SystemError (an
    internal inconsistency of the native code) still falls back."""
    from ..patching.registry import callers_error

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fast(*args, **kwargs)
        except SystemError:
            raise
        except Exception as exc:
            callers_error(exc)
            raise

    call.__name__ = getattr(fast, "__name__", "call")
    call.__qualname__ = getattr(fast, "__qualname__", "call")
    return call


for _name in CACHE_PATCHED:
    register(
        Patch(
            name="in_memory_cache." + _name,
            component="cache",
            flag=FLAG,
            target=CACHE_TARGET + _name,
            build=_build_cache_method(_name),
            wrap=False,
            scan_bindings=False,
            description="native InMemoryCache.%s (LLMClientCache follows %s)" % (_name, CLIENT_FLAG),
        )
    )

for _name in (
    "should_rate_limit",
    "_collect_windowed_keys_and_gauges",
    "is_cache_list_over_limit",
    "_local_counter_states",
    "_in_memory_cache_sliding_window",
):
    register(
        Patch(
            name="proxy_limiter." + _name,
            component="rate_limiting",
            flag=LIMITER_FLAG,
            target=LIMITER_TARGET + _name,
            build=_build_limiter_function(_name),
            # the window update writes to the store: an engine retry of the
            # original after a failure would apply increments twice
            wrap=_name not in UNWRAPPED_LIMITER,
            scan_bindings=False,
            description="v3 proxy limiter %s (Redis calls stay in LiteLLM)" % _name,
        )
    )


STORE_TARGET = "litellm.redis.stores.connection:RedisStores.rate_limits"


def _build_store(original: Any) -> Any:
    from .. import proxy_limiter
    from ..patching.registry import NotAccelerated

    fn = proxy_limiter.implementation(proxy_limiter.DEFAULT_KIND).build_store_factory(original)
    if fn is original:
        raise NotAccelerated("the Python twin keeps LiteLLM's own memory tier")
    fn.__wrapped__ = original
    fn.__fast_litellm__ = True
    return mark_ours(fn, original)


# The limiter's memory tier: RedisStores.rate_limits() without a Redis client
# returns the native LocalRateLimits (its state lives there from then on, so
# the flag decides when a limiter is built, not per call).
register(
    Patch(
        name="proxy_limiter.memory_tier",
        component="rate_limiting",
        flag=LIMITER_FLAG,
        target=STORE_TARGET,
        build=_build_store,
        scan_bindings=False,
        description="v3 proxy limiter memory tier (NativeRateLimits without Redis) in native code",
    )
)


def refresh() -> None:
    """Re-read rust_connection_pool after a runtime flag change."""
    from .. import cache

    cache.configure_client_cache()


def _on_flag_change(name: str) -> None:
    if name == CLIENT_FLAG:
        refresh()


def _register_listener() -> None:
    from .. import flags

    flags.add_listener(_on_flag_change)


_register_listener()
