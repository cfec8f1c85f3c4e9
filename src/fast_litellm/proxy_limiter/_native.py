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
