"""Native twin of the v3 limiter's pure computation (bind_cache_limiter.inc)."""
from __future__ import annotations

import sys
from typing import Any, Callable, Dict, Mapping

from .._native_loader import NATIVE
from ..patching.registry import stock_behind  # (LiteLLM's function behind our own layers)
from . import _scalar_lookup

#: interned names the C code reads by index (N_* in bind_cache_limiter.inc)
NAMES = ('__init__', '__hash__', 'counter', 'window', 'local', 'set_local', 'scope', 'kind', 'requests', 'tokens', 'requests_limit', 'tokens_limit', 'descriptor_key', 'descriptor_value', 'key', 'value', 'rate_limit', 'requests_per_unit', 'tokens_per_unit', 'max_parallel_requests', 'window_size', 'limit', 'code', 'current_limit', 'limit_remaining', 'rate_limit_type', 'overall_code', 'statuses', 'OK', 'OVER_LIMIT', 'rate_limits', '_handle', 'get_local', 'get',
         '_check_and_increment_lock', '_locked', '_waiters', '_get_current_time', 'timestamp', 'has_redis',
         'acquire', 'release', '__aenter__', '__aexit__',
         '_collect_windowed_keys_and_gauges', 'is_cache_list_over_limit', '_local_counter_states',
         'in_memory_cache_sliding_window', '_in_memory_cache_sliding_window')

#: methods whose stock behaviour _limiter_precheck reproduces (see handler_ok)
PRECHECK_METHODS = ('_get_current_time', '_collect_windowed_keys_and_gauges', 'is_cache_list_over_limit',
                    '_local_counter_states', 'in_memory_cache_sliding_window', '_in_memory_cache_sliding_window')


def _class_lookup(cls: type, name: str) -> Any:
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


_NEVER = object()
_HANDLER = "litellm.proxy.hooks.parallel_request_limiter_v3:_PROXY_MaxParallelRequestsHandler_v3."


def _litellms_own(name: str, fn: Any) -> bool:
    """Whether ``fn`` is LiteLLM's own ``_PROXY_MaxParallelRequestsHandler_v3.<name>``:
    its pinned source, not read through a wrapper outside LiteLLM."""
    from ..patching import guards, pins

    target = _HANDLER + name
    expected = pins.VERIFIED.get(target) or PINS.get(target)
    try:
        return expected is not None and not guards.wrapped_elsewhere(fn) and guards.source_hash(fn) == expected
    except Exception:  # unreadable source: not the pinned one
        return False


def handler_checker(originals: Mapping[str, Callable[..., Any]]) -> Callable[[type], bool]:
    """handler_ok(cls): cls runs, for every method the precheck reproduces,
    LiteLLM's function or one of ours/the engine's wrapping it."""
    from litellm.proxy.hooks.parallel_request_limiter_v3 import _PROXY_MaxParallelRequestsHandler_v3 as base

    expected = {name: stock_behind(base.__dict__[name]) for name in PRECHECK_METHODS}
    expected.update({name: originals[name] for name in PRECHECK_METHODS if name in originals})
    for name in PRECHECK_METHODS:
        if not _litellms_own(name, expected[name]):
            # something else stands there since before we patched (a user's wrapper
            # over LiteLLM's function, a replacement): the precheck reproduces only
            # LiteLLM's code, so no class passes (stock body for every call)
            expected[name] = _NEVER

    names, stock_scalar = _scalar_lookup()

    def handler_ok(cls: type) -> bool:
        if not issubclass(cls, base):
            return False
        if names.get("_scalar") is not stock_scalar:  # (the C code inlines LiteLLM's _scalar)
            return False
        for name in PRECHECK_METHODS:
            if stock_behind(_class_lookup(cls, name)) is not expected[name]:
                return False
        for name in ("rate_limits", "_check_and_increment_lock", "window_size"):
            if _class_lookup(cls, name) is not None:  # a class-level descriptor or default
                return False
        return True

    return handler_ok


def context(originals: Mapping[str, Callable[..., Any]]) -> tuple:
    """The tuple the C functions read (order = LX_* in bind_cache_limiter.inc)."""
    import asyncio

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
        handler_checker(originals),
        [None, 0, False],
        RateLimitStore.__dict__["has_redis"],
        asyncio.Lock,
        asyncio.Lock.acquire,
        asyncio.Lock.release,
        asyncio.Lock.__aenter__,
        asyncio.Lock.__aexit__,
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

    names, stock_scalar = _scalar_lookup()
    orig_local_states = originals["_local_counter_states"]
    orig_window = originals["_in_memory_cache_sliding_window"]

    def _local_counter_states(self, counters):
        if names.get("_scalar") is not stock_scalar:  # see _scalar_lookup
            return orig_local_states(self, counters)
        return local_states(ctx, self, counters)

    def _in_memory_cache_sliding_window(self, counters, now_int, window_size):
        if names.get("_scalar") is not stock_scalar:
            return orig_window(self, counters, now_int, window_size)
        return window(ctx, self, counters, now_int, window_size)

    fns = {
        "_collect_windowed_keys_and_gauges": _collect_windowed_keys_and_gauges,
        "is_cache_list_over_limit": is_cache_list_over_limit,
        "_local_counter_states": _local_counter_states,
        "_in_memory_cache_sliding_window": _in_memory_cache_sliding_window,
    }
    if "should_rate_limit" in originals:
        fns["should_rate_limit"] = _should_rate_limit(ctx, originals["should_rate_limit"])
    return fns


#: LiteLLM sources the memory tier and should_rate_limit's replacement rely
#: on without replacing them (sha256 of inspect.getsource; a property by its
#: getter).  The patch is not built when one differs.
PINS = {
    "litellm._internal_context:service_target":
        "a7ccc257e927e7c2de6dba7f480a87d078e3ebeed542ee981f16a1e2922c8732",
    "litellm._internal_context:_restore":
        "52424a198c04d8900a2816778621320c0cc4b0541a288a513cd2d693061af657",
    "litellm._internal_context:with_service_target":
        "2f8c433ed328aedc2f74e72fd87868e670caf99532fffeab285c22723ba829e2",
    "litellm.proxy.hooks.parallel_request_limiter_v3:_PROXY_MaxParallelRequestsHandler_v3._get_current_time":
        "9f9087a0177ea34c0fb7bf2f89e2c0d059848b3d4c3195ea9f93189fb376a63b",
    "litellm.proxy.hooks.parallel_request_limiter_v3:_PROXY_MaxParallelRequestsHandler_v3.in_memory_cache_sliding_window":
        "c24c195e8c883e5c23dddfa9215f3c49dfc22a26a3356029abe385fd9435fced",
    "litellm.redis.stores.rate_limits:RateLimitStore.has_redis":
        "8c65c9cbd4863886bfd4b3d95792f0a92a23869910dd0b9cd0429fa65ec17242",
    "litellm.redis.stores.rate_limits:RateLimitStore.get":
        "d1a61fb4df0aae201e5886fa995dfc3cebf7ee76350b0a418c2bdef864a1201c",
    "litellm.redis.stores.rate_limits.types:RateLimitGauge":
        "c98a072dd3981a36d70f806770d41c90e75dd0e986ed3e7c1249311d73101a12",
    "litellm.redis.stores.rate_limits.types:CounterIncrement":
        "032891e5df255b681e35189af671b748cc2c0414a2c15bc45aa65d26a3943e82",
}


def check_pins(prefix: str = "") -> None:
    import importlib

    from ..patching import guards

    for target, expected in PINS.items():
        if not target.startswith(prefix):
            continue
        module, qualname = target.split(":", 1)
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = obj.__dict__[part] if isinstance(obj, type) else getattr(obj, part)
        obj = obj.fget if isinstance(obj, property) else obj
        obj = getattr(obj, "__wrapped__", obj) if module == "litellm._internal_context" else obj
        got = guards.source_hash(obj)
        if got != expected:
            raise RuntimeError("%s changed (sha256 %s, verified %s)" % (target, got, expected))


def _should_rate_limit(ctx: tuple, stock: Callable[..., Any]) -> Callable[..., Any]:
    """should_rate_limit: the synchronous phase in one native call
    (_limiter_precheck), the gauge phase and every case it does not cover in
    LiteLLM's code.  The stock method runs under
    with_service_target(RATE_LIMITS_TARGET); so does this one (the same
    context variable set and restored, inline)."""
    import litellm._internal_context as ic
    import litellm.proxy.hooks.parallel_request_limiter_v3 as mod
    from litellm.redis.stores.rate_limits import RATE_LIMITS_TARGET

    check_pins()
    precheck = NATIVE._limiter_precheck
    var = ic._service_target
    # the stock body, undecorated (we set the service target ourselves)
    body = stock.__wrapped__

    def bind(
        self,
        descriptors,
        parent_otel_span=None,
        read_only=False,
        skip_tpm_check=False,
        parallel_slot_id=None,
        skip_parallel_check=False,
    ):
        return self, descriptors, parent_otel_span, read_only, skip_tpm_check, parallel_slot_id, skip_parallel_check

    # The stock method is with_service_target's run_async(*args, **kwargs):
    # calling it with arguments its body does not accept still returns a
    # coroutine, and the TypeError comes when that is awaited.  So this one
    # takes anything too, binds the stock signature inside, and leaves a
    # call that does not bind to the stock method (same error, same moment).
    async def should_rate_limit(*args, **kwargs):
        try:
            self, descriptors, parent_otel_span, read_only, skip_tpm_check, parallel_slot_id, skip_parallel_check = \
                bind(*args, **kwargs)
        except TypeError:
            return await stock(*args, **kwargs)
        token = var.set(RATE_LIMITS_TARGET)
        try:
            r = precheck(ctx, self, descriptors, read_only, skip_tpm_check)
            if r is None:
                return await body(self, descriptors, parent_otel_span, read_only, skip_tpm_check,
                                  parallel_slot_id, skip_parallel_check)
            if type(r) is not tuple:
                return r
            windowed_response, gauges = r
            if not gauges or skip_parallel_check:
                return windowed_response
            gauge_response = await self._check_parallel_request_gauges(
                gauges=gauges,
                slot_id=parallel_slot_id or mod.uuid.uuid4().hex,
                parent_otel_span=parent_otel_span,
                read_only=read_only,
            )
            return mod.RateLimitResponse(
                overall_code=gauge_response["overall_code"],
                statuses=[*windowed_response["statuses"], *gauge_response["statuses"]],
            )
        finally:
            try:
                var.reset(token)
            except ValueError:
                pass

    return should_rate_limit


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
    check_pins("litellm.redis.")
    store_context()

    def rate_limits(self, backfill_ttl=None):
        handle = original(self, backfill_ttl)
        if self.client is not None:
            return handle
        return local_store(handle)

    return rate_limits
