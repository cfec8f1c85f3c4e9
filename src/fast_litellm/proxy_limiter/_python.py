"""Pure-Python twin of the v3 limiter's pure computation.

The stock method bodies with the per-item indirections removed: the local
store's ``local()`` generator is replaced by direct ``_handle.get_local``
calls (same calls, same order) when ``self.rate_limits`` is a stock
RateLimitStore, and ``RateLimitStatus``/``RateLimitResponse`` TypedDict
calls by dict literals (TypedDicts build plain dicts).  Anything unusual
falls back to the stock function.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Mapping


def build_functions(originals: Mapping[str, Callable[..., Any]]) -> Dict[str, Callable[..., Any]]:
    from litellm.redis.stores.rate_limits import RateLimitStore
    from litellm.redis.stores.rate_limits.types import RateLimitCounter, RateLimitScope

    stock_local = RateLimitStore.__dict__["local"]
    stock_set_local = RateLimitStore.__dict__["set_local"]
    orig_local_states = originals["_local_counter_states"]
    orig_window = originals["_in_memory_cache_sliding_window"]
    from . import _scalar_lookup

    names, stock_scalar = _scalar_lookup()

    def _handle(self):
        store = self.rate_limits
        if (
            names.get("_scalar") is stock_scalar  # (LiteLLM's, which _scalar below copies)
            and type(store) is RateLimitStore
            and RateLimitStore.local is stock_local
            and RateLimitStore.set_local is stock_set_local
            and "local" not in vars(store)
            and "set_local" not in vars(store)
        ):
            return store._handle
        return None

    def _plain_counters(counters):
        # a list or tuple of exact counters: checking a one-shot iterable
        # would consume it before the loop (the stock function then reads it)
        return type(counters) in (list, tuple) and all(type(c) is RateLimitCounter for c in counters)

    def _scalar(value):
        if isinstance(value, dict):
            raise TypeError("a rate-limit counter in memory holds a slot registry")
        return value

    def _collect_windowed_keys_and_gauges(self, descriptors, skip_tpm_check):
        counters = []
        key_metadata = {}
        gauges = []
        for descriptor in descriptors:
            descriptor_key = descriptor["key"]
            descriptor_value = descriptor["value"]
            scope = RateLimitScope(descriptor_key, descriptor_value)
            rate_limit = descriptor.get("rate_limit") or {}
            requests_limit = rate_limit.get("requests_per_unit")
            tokens_limit = None if skip_tpm_check else rate_limit.get("tokens_per_unit")
            max_parallel_requests_limit = rate_limit.get("max_parallel_requests")
            window_size = rate_limit.get("window_size") or self.window_size
            if max_parallel_requests_limit is not None:
                gauges.append(
                    {"scope": scope, "limit": int(max_parallel_requests_limit), "descriptor_key": descriptor_key}
                )
            if requests_limit is not None:
                counters.append(scope.counter("requests"))
            if tokens_limit is not None:
                counters.append(scope.counter("tokens"))
            if requests_limit is None and tokens_limit is None:
                continue
            key_metadata[scope] = {
                "requests_limit": (int(requests_limit) if requests_limit is not None else None),
                "tokens_limit": int(tokens_limit) if tokens_limit is not None else None,
                "window_size": int(window_size),
                "descriptor_key": descriptor_key,
                "descriptor_value": descriptor_value,
            }
        return counters, key_metadata, gauges

    def is_cache_list_over_limit(self, counters, cache_values, key_metadata, read_only=False):
        pending_increment = 1 if read_only else 0
        statuses = []
        overall_code = "OK"
        for counter, (_window_start, counter_value) in zip(counters, cache_values):
            item_code = "OK"
            metadata = key_metadata[counter.scope]
            current_limit = metadata["requests_limit"] if counter.kind == "requests" else metadata["tokens_limit"]
            if current_limit is None:
                continue
            if counter_value is not None and int(counter_value) + pending_increment > current_limit:
                overall_code = "OVER_LIMIT"
                item_code = "OVER_LIMIT"
            limit_remaining = current_limit - int(counter_value) if counter_value is not None else current_limit
            statuses.append(
                {
                    "code": item_code,
                    "current_limit": current_limit,
                    "limit_remaining": limit_remaining,
                    "rate_limit_type": counter.kind,
                    "descriptor_key": metadata["descriptor_key"],
                    "descriptor_value": metadata["descriptor_value"],
                }
            )
        return {"overall_code": overall_code, "statuses": statuses}

    def _local_counter_states(self, counters):
        handle = _handle(self)
        if handle is None or not _plain_counters(counters):
            return orig_local_states(self, counters)
        get_local = handle.get_local
        values = []
        for counter in counters:
            values.append(get_local(counter.window))
            values.append(get_local(counter))
        values = tuple(map(_scalar, values))
        return list(zip(values[::2], values[1::2]))

    def _in_memory_cache_sliding_window(self, counters, now_int, window_size):
        handle = _handle(self)
        if handle is None or not _plain_counters(counters):
            return orig_window(self, counters=counters, now_int=now_int, window_size=window_size)
        get_local = handle.get_local
        set_local = handle.set_local
        results = []
        for counter in counters:
            window = counter.window
            window_start = _scalar(get_local(window))
            if window_start is None or (now_int - int(window_start)) >= window_size:
                scope = counter.scope
                set_local(scope.counter("requests"), 0, window_size)
                set_local(scope.counter("tokens"), 0, window_size)
                set_local(window, str(now_int), window_size)
                set_local(counter, 1, window_size)
                results.append((str(now_int), 1))
                continue
            current_counter = _scalar(get_local(counter))
            new_counter_value = (int(current_counter) if current_counter is not None else 0) + 1
            set_local(counter, new_counter_value, window_size)
            results.append((window_start, new_counter_value))
        return results

    return {
        "_collect_windowed_keys_and_gauges": _collect_windowed_keys_and_gauges,
        "is_cache_list_over_limit": is_cache_list_over_limit,
        "_local_counter_states": _local_counter_states,
        "_in_memory_cache_sliding_window": _in_memory_cache_sliding_window,
    }


def build_store_factory(original: Callable[..., Any]) -> Callable[..., Any]:
    """The Python twin keeps LiteLLM's own (Rust) memory tier."""
    return original
