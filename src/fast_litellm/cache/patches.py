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

import hashlib
import importlib
import inspect
from typing import Any, Dict

from ..patching.registry import Patch, register
from . import CLIENT_FLAG, FLAG, LIMITER_FLAG, NATIVE_METHODS

CACHE_TARGET = "litellm.caching.in_memory_cache:InMemoryCache."
LIMITER_TARGET = "litellm.proxy.hooks.parallel_request_limiter_v3:_PROXY_MaxParallelRequestsHandler_v3."

CACHE_PATCHED = NATIVE_METHODS + ("async_batch_get_cache",)

#: sources the fast code's exactness depends on without replacing them
DEPENDENCIES: Dict[str, str] = {
    CACHE_TARGET + "__init__": "ce6b0235ee156aab000f17ac7608de38524975441ab167f8fad16f294e92dfbf",
    CACHE_TARGET + "check_value_size": "f8249c4b2ee016ad466f6180ddb610b2d91342d28a9dbcb13d62b33e2ea12f8c",
    CACHE_TARGET + "allow_ttl_override": "e2d6bd44cae4dcb97317080a3700508a7b42ccfe5548d0e9f1baa9b0fc38283d",
    CACHE_TARGET + "evict_element_if_expired": "795c13a6fbaecb9f718fdbbbcc806fd03f87aee3e28873d769a5e0fb44b0e188",
    CACHE_TARGET + "_is_key_expired": "ef4db5ae89138285228b6bd52dfd9fbf331bb1d4047541eebb385f0afe0cc38b",
    CACHE_TARGET + "_remove_key": "422077fddc0d40da597e96f9fd11d94adfad98dcdd68afa6c1be7e07f42c937e",
    CACHE_TARGET + "_cache_keys": "388eba66ececf45d838d1445531c5e932e1fbfc28237a61507eef09625ec52ec",
    "litellm.redis.stores.rate_limits.types:RateLimitScope": "07d9449d25fa8f5b189391b05e489c98be9f7f69be9600e586c7ced4b06cb9e1",
    "litellm.redis.stores.rate_limits.types:RateLimitCounter": "e0872201e83a74bf0dec2ab52a824c9cc48989609a8cd92465a065cfe0054679",
    "litellm.redis.stores.rate_limits.types:RateLimitWindow": "80a28c76b378c4834eec5258228f3592c8a40d2f234d7460d14559b73319a6e4",
    "litellm.redis.stores.rate_limits:RateLimitStore.local": "51ea2bec0d430fe042a0c422c51064c82aa6470c50baea10a178f1b1f949f77a",
    "litellm.redis.stores.rate_limits:RateLimitStore.set_local": "e2b194e6af852a852944b6913a2f6aea507f14a21430e9fbdf2b8a4e816f9f9c",
    "litellm.proxy.hooks.parallel_request_limiter_v3:_scalar": "7152fa75a97502fc55aa5fb2855fdad06bf849227e8b11efc91a0d22e74c8590",
}


class DependencyChanged(RuntimeError):
    """A LiteLLM source the fast code relies on is not the verified one."""


def resolve(target: str) -> Any:
    module, qualname = target.split(":", 1)
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = obj.__dict__[part] if isinstance(obj, type) else getattr(obj, part)
    return obj


def source_hash(obj: Any) -> str:
    while hasattr(obj, "__fast_litellm__") and hasattr(obj, "__wrapped__"):
        obj = obj.__wrapped__
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()


def check_dependencies(prefixes: tuple) -> None:
    for target, expected in DEPENDENCIES.items():
        if not target.startswith(prefixes):
            continue
        got = source_hash(resolve(target))
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
        fn = proxy_limiter.implementation(proxy_limiter.DEFAULT_KIND).build_functions(originals)[name]
        fn.__wrapped__ = original
        fn.__fast_litellm__ = True
        return fn

    return build


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
            wrap=_name != "_in_memory_cache_sliding_window",
            scan_bindings=False,
            description="v3 proxy limiter %s (Redis calls stay in LiteLLM)" % _name,
        )
    )


def refresh() -> None:
    """Re-read rust_connection_pool after a runtime flag change."""
    from .. import cache

    cache.configure_client_cache()
