"""Native twin of the v3 limiter's pure computation (bind_cache_limiter.inc)."""
from __future__ import annotations

import sys
from typing import Any, Callable, Dict, Mapping

from .._native_loader import NATIVE

#: interned names the C code reads by index (N_* in bind_cache_limiter.inc)
NAMES = ('__init__', '__hash__', 'counter', 'window', 'local', 'set_local', 'scope', 'kind', 'requests', 'tokens', 'requests_limit', 'tokens_limit', 'descriptor_key', 'descriptor_value', 'key', 'value', 'rate_limit', 'requests_per_unit', 'tokens_per_unit', 'max_parallel_requests', 'window_size', 'limit', 'code', 'current_limit', 'limit_remaining', 'rate_limit_type', 'overall_code', 'statuses', 'OK', 'OVER_LIMIT', 'rate_limits', '_handle', 'get_local', 'get')


def context(originals: Mapping[str, Callable[..., Any]]) -> tuple:
    """The tuple the C functions read (order = LX_* in bind_cache_limiter.inc)."""
    from litellm.redis.stores.rate_limits import RateLimitStore
    from litellm.redis.stores.rate_limits.types import (
        RateLimitCounter,
        RateLimitScope,
        RateLimitWindow,
    )

    ctx = (
        RateLimitScope,
        RateLimitCounter,
        RateLimitWindow,
        RateLimitScope.__dict__["__init__"],
        RateLimitScope.__dict__["__hash__"],
        RateLimitScope.__dict__["counter"],
        RateLimitCounter.__dict__["__init__"],
        RateLimitCounter.__dict__["window"],
        RateLimitWindow.__dict__["__init__"],
        RateLimitStore,
        RateLimitStore.__dict__["local"],
        RateLimitStore.__dict__["set_local"],
        originals["_collect_windowed_keys_and_gauges"],
        originals["is_cache_list_over_limit"],
        originals["_local_counter_states"],
        originals["_in_memory_cache_sliding_window"],
        RateLimitScope.__dict__["descriptor_key"],
        RateLimitScope.__dict__["descriptor_value"],
        RateLimitCounter.__dict__["scope"],
        RateLimitCounter.__dict__["kind"],
        RateLimitWindow.__dict__["scope"],
        tuple(sys.intern(n) for n in NAMES),
    )
    assert len(ctx) == NATIVE._LIMITER_CTX_SIZE
    return ctx


def build_functions(originals: Mapping[str, Callable[..., Any]]) -> Dict[str, Callable[..., Any]]:
    if NATIVE is None:
        raise ImportError("fast_litellm native core is not built")
    ctx = context(originals)
    collect = NATIVE._limiter_collect
    over = NATIVE._limiter_over_limit
    local_states = NATIVE._limiter_local_states
    window = NATIVE._limiter_sliding_window

    def _collect_windowed_keys_and_gauges(self, descriptors, skip_tpm_check):
        return collect(ctx, self, descriptors, skip_tpm_check)

    def is_cache_list_over_limit(self, counters, cache_values, key_metadata, read_only=False):
        return over(ctx, self, counters, cache_values, key_metadata, read_only)

    def _local_counter_states(self, counters):
        return local_states(ctx, self, counters)

    def _in_memory_cache_sliding_window(self, counters, now_int, window_size):
        return window(ctx, self, counters, now_int, window_size)

    return {
        "_collect_windowed_keys_and_gauges": _collect_windowed_keys_and_gauges,
        "is_cache_list_over_limit": is_cache_list_over_limit,
        "_local_counter_states": _local_counter_states,
        "_in_memory_cache_sliding_window": _in_memory_cache_sliding_window,
    }


# ---------------------------------------------------------------------------
# The memory tier (LocalRateLimits in bind_cache_limiter.inc)

#: interned names the store reads by index (SN_* in bind_cache_limiter.inc)
STORE_NAMES = ('suffix', 'scope', 'kind', 'descriptor_key', 'descriptor_value', 'counter', 'amount', 'ttl',
               'set_local', 'get_local', 'increment', 'increment_many', 'increment_many_post_call', 'get', '')

_SUFFIX_CLASSES = ("window", "max_parallel_requests")


def _entry_for_key(key: str) -> Any:
    """An entry whose key is `key` ("{descriptor_key:descriptor_value}:suffix").
    Several scopes can spell one key; any of them names the same entry."""
    from litellm.redis.stores.rate_limits.types import (
        RateLimitCounter,
        RateLimitGauge,
        RateLimitScope,
        RateLimitWindow,
    )

    for suffix in ("window", "max_parallel_requests", "requests", "tokens"):
        tail = "}:" + suffix
        if key.startswith("{") and key.endswith(tail):
            middle = key[1:-len(tail)]
            descriptor_key, _, descriptor_value = middle.partition(":")
            scope = RateLimitScope(descriptor_key, descriptor_value)
            if suffix == "window":
                return RateLimitWindow(scope)
            if suffix == "max_parallel_requests":
                return RateLimitGauge(scope)
            return RateLimitCounter(scope, suffix)
    raise ValueError("not a rate-limit key: %r" % (key,))


def migrate(inner: Any, items: list) -> None:
    """Replay a native memory tier's live entries into the stock handle: in
    ascending (expiry, key) order, each with its remaining time to live, so
    the stock heap orders and expires them as the native one did."""
    import time

    for expires, key, value in sorted(items):
        entry = _entry_for_key(key.decode("utf-8"))
        remaining = max(0, expires - time.time_ns()) / 1e9
        inner.set_local(entry, value, remaining)


def store_context() -> tuple:
    from litellm.redis.stores.rate_limits.types import (
        CounterIncrement,
        RateLimitCounter,
        RateLimitGauge,
        RateLimitScope,
        RateLimitWindow,
    )
    from litellm.rust_bridge._native import NativeRateLimits

    suffix = RateLimitCounter.__dict__["suffix"]
    ctx = (
        RateLimitScope,
        RateLimitCounter,
        RateLimitWindow,
        RateLimitGauge,
        CounterIncrement,
        RateLimitScope.__dict__["descriptor_key"],
        RateLimitScope.__dict__["descriptor_value"],
        RateLimitCounter.__dict__["scope"],
        RateLimitCounter.__dict__["kind"],
        suffix,
        suffix.fget,
        suffix.fget.__code__,
        RateLimitWindow.__dict__["scope"],
        RateLimitWindow.__dict__["suffix"],
        RateLimitGauge.__dict__["scope"],
        RateLimitGauge.__dict__["suffix"],
        CounterIncrement.__dict__["counter"],
        CounterIncrement.__dict__["amount"],
        CounterIncrement.__dict__["ttl"],
        NativeRateLimits,
        migrate,
        tuple(sys.intern(n) for n in STORE_NAMES),
    )
    assert len(ctx) == NATIVE._LIMITER_STORE_CTX_SIZE
    assert len(STORE_NAMES) == NATIVE._LIMITER_STORE_NAMES
    assert RateLimitWindow.__dict__["suffix"] == "window"
    assert RateLimitGauge.__dict__["suffix"] == "max_parallel_requests"
    return ctx


_STORE_CTX: list = []


def local_store(inner: Any) -> Any:
    """A native memory tier in front of `inner`, a stock NativeRateLimits
    built without a Redis client."""
    if not _STORE_CTX:
        _STORE_CTX.append(store_context())
    return NATIVE._limiter_local_store(_STORE_CTX[0], inner)


LITELLM_VERSION = "1.110.2"


def build_store_factory(original: Callable[..., Any]) -> Callable[..., Any]:
    """RedisStores.rate_limits returning the native memory tier when the
    stores have no Redis client (the stock handle, built first with the same
    arguments, validates them and serves everything but memory)."""
    from importlib.metadata import version

    from ..patching.registry import NotAccelerated

    if version("litellm") != LITELLM_VERSION:
        # the memory tier reproduces the Rust store of this release
        raise NotAccelerated("litellm %s, the native memory tier follows %s" % (version("litellm"), LITELLM_VERSION))
    store_context()

    def rate_limits(self, backfill_ttl=None):
        handle = original(self, backfill_ttl)
        if self.client is not None:
            return handle
        return local_store(handle)

    return rate_limits
