"""usage-based-routing-v2's usage read (``RoutingReadBatch.read_usage``, the
second Task of a v2 pick's cooldown gather; ``selector_fast.make_read_usage``)
against LiteLLM's own, session 19.

Each case builds the same selector, cache and deployment rows twice and runs
LiteLLM's ``read_usage`` on one and the installed patch (through its
dispatcher, which hands a declined call to LiteLLM's) on the other: the
``PrefetchedUsage`` kept, the memory tier afterwards (entries and expiries:
an expired key is evicted by the read), and everything a replaced function on
the read's path records (its calls, in order, with the service target it ran
under) must be the same."""
from __future__ import annotations

import asyncio
import warnings

import pytest
from _lockstep import routing_patches, same_minute  # noqa: E402

litellm = pytest.importorskip("litellm")

from litellm._internal_context import current_service_target  # noqa: E402
from litellm.caching.dual_cache import DualCache  # noqa: E402
from litellm.caching.in_memory_cache import InMemoryCache  # noqa: E402
from litellm.router_strategy.lowest_tpm_rpm_v2 import LowestTPMLoggingHandler_v2  # noqa: E402
from litellm.router_utils import routing_prefetch  # noqa: E402
from litellm.router_utils.routing_read_batch import RoutingReadBatch  # noqa: E402

from fast_litellm import _native_loader  # noqa: E402
from fast_litellm.routing import _local_patch  # noqa: E402

pytestmark = [
    pytest.mark.skipif(_native_loader.NATIVE is None, reason="native core not built"),
    pytest.mark.filterwarnings(
        "ignore:coroutine 'BaseRoutingStrategy.periodic_sync_in_memory_spend_with_redis' was never awaited"
        ":RuntimeWarning"),
]


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


ROWS = [{"model_name": "g", "litellm_params": {"model": "openai/m%d" % (i % 2), "tpm": 100 + i},
         "model_info": {"id": "u%d" % i}} for i in range(6)]


def _minute():
    return litellm.utils.get_utc_datetime().strftime("%H-%M")


class _Redis:
    """A Redis tier stub: what a read of it asks, and an answer."""

    def __init__(self, log):
        self.log = log

    async def async_batch_get_cache(self, key_list, parent_otel_span=None):
        self.log.append(("redis", tuple(key_list), current_service_target()))
        return {key: 3 for key in key_list[:2]}


def _build(case, log):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cache = DualCache()
        selector = LowestTPMLoggingHandler_v2(router_cache=cache)
    minute = _minute()
    memory = cache.in_memory_cache
    if case in ("present", "str_keys_present", "memory_get_replaced"):
        memory.set_cache("u1:openai/m1:tpm:%s" % minute, 40)
        memory.set_cache("u4:openai/m0:rpm:%s" % minute, 2)
        memory.set_cache("u2:openai/m0:tpm:%s" % minute, 9)
        memory.ttl_dict["u2:openai/m0:tpm:%s" % minute] = 0.0  # expired: the read evicts it
    if case == "redis":
        cache.redis_cache = _Redis(log)
    batch = RoutingReadBatch(usage_selector=None if case == "no_selector" else selector)
    return batch, cache


class _LoggedStr(str):
    log = None

    def __hash__(self):
        _LoggedStr.log.append(("hash", str(self)))
        return str.__hash__(self)

    def __eq__(self, other):
        return str.__eq__(self, other)


def _replacements(case, log, monkeypatch):
    """The case's replaced function on the read's path (recording, then LiteLLM's)."""
    if case in ("memory_get_replaced", "memory_get_replaced_empty"):
        stock = InMemoryCache.get_cache

        def get_cache(self, key, **kwargs):
            log.append(("get_cache", key, current_service_target()))
            return stock(self, key, **kwargs)

        monkeypatch.setattr(InMemoryCache, "get_cache", get_cache)
    elif case == "prefetch_read_replaced":
        stock_read = routing_prefetch.read

        async def read(tier_read, span):
            log.append(("read", tier_read.keys, current_service_target()))
            return await stock_read(tier_read, span)

        monkeypatch.setattr(routing_prefetch, "read", read)
    elif case == "dual_read_replaced":
        stock_batch = DualCache.async_batch_get_cache

        async def async_batch_get_cache(self, keys, parent_otel_span=None, **kwargs):
            log.append(("dual", tuple(keys), current_service_target()))
            return await stock_batch(self, keys, parent_otel_span=parent_otel_span, **kwargs)

        monkeypatch.setattr(DualCache, "async_batch_get_cache", async_batch_get_cache)
    elif case == "usage_init_replaced":  # the PrefetchedUsage the read keeps is made by its __init__
        from litellm.router_strategy.lowest_tpm_rpm_v2 import PrefetchedUsage

        stock_init = PrefetchedUsage.__init__

        def __init__(self, keys, values):
            log.append(("PrefetchedUsage", len(keys), None if values is None else len(values)))
            stock_init(self, keys=keys, values=values)

        monkeypatch.setattr(PrefetchedUsage, "__init__", __init__)
    elif case == "memory_bases_changed":  # (session 21: the read's MROs checked per call, its dicts by tags)
        bases = InMemoryCache.__bases__

        class Hooked(*bases):
            def __getattribute__(self, name):
                log.append(("memory attribute", name))
                return object.__getattribute__(self, name)

        InMemoryCache.__bases__ = (Hooked,)

        def undo():
            InMemoryCache.__bases__ = bases
        return undo
    elif case in ("str_keys", "str_keys_present"):
        stock_keys = LowestTPMLoggingHandler_v2.usage_counter_keys
        _LoggedStr.log = log

        def usage_counter_keys(self, healthy):
            tpm, rpm = stock_keys(self, healthy)
            return [_LoggedStr(k) for k in tpm], [_LoggedStr(k) for k in rpm]

        monkeypatch.setattr(LowestTPMLoggingHandler_v2, "usage_counter_keys", usage_counter_keys)


def _run(case, accelerated, monkeypatch):
    log = []
    batch, cache = _build(case, log)
    undo = _replacements(case, log, monkeypatch)
    if case == "instance_keys":  # the selector's own usage_counter_keys (session 20: the keys call made directly)
        selector = batch.usage_selector
        stock_keys = LowestTPMLoggingHandler_v2.usage_counter_keys.__get__(selector)

        def usage_counter_keys(healthy):
            log.append(("instance keys", len(healthy)))
            return stock_keys(healthy)

        monkeypatch.setattr(selector, "usage_counter_keys", usage_counter_keys, raising=False)
    try:
        result = _read_then_undo(batch, accelerated, monkeypatch, object() if case == "span" else None)
    finally:
        if undo is not None:
            undo()
    usage = batch.prefetched_usage
    memory = cache.in_memory_cache
    return (result, None if usage is None else (sorted(usage.keys), usage.values),
            dict(memory.cache_dict), sorted(memory.ttl_dict), log)


CASES = ["empty", "present", "no_selector", "redis", "span", "memory_get_replaced", "memory_get_replaced_empty",
         "prefetch_read_replaced", "dual_read_replaced", "str_keys", "str_keys_present", "instance_keys",
         "usage_init_replaced", "memory_bases_changed"]


@pytest.mark.parametrize("case", CASES)
def test_read_usage_matches_litellms(case, monkeypatch):
    same_minute()
    stock = _run(case, False, monkeypatch)
    ours = _run(case, True, monkeypatch)
    assert ours == stock
    if case in ("present", "memory_get_replaced"):
        assert len(stock[2]) == 2  # the expired counter evicted by the read, both sides
    if case == "redis":
        assert [entry[0] for entry in stock[4]] == ["redis"]


def test_read_usage_fast_path_is_taken():
    """A memory-only cache, empty or holding counters, is read by the fast
    path (called directly, a decline would raise NotAccelerated)."""
    from fast_litellm.routing import selector_fast

    original = _local_patch._original_of(RoutingReadBatch, "read_usage")
    fast = selector_fast.make_read_usage(original)
    for case in ("empty", "present"):
        batch, _cache = _build(case, [])

        async def go():
            return await fast(batch, list(ROWS), None)

        same_minute()
        asyncio.run(go())
        assert batch.prefetched_usage is not None and len(batch.prefetched_usage.keys) == 2 * len(ROWS)


def test_read_usage_in_a_pick_matches_litellms():
    """Whole v2 picks, stock and accelerated (the usage read runs as the
    gather's second Task): the same picks, counters kept and Tasks created."""
    from litellm.router_utils.routing_read_batch import RoutingReadBatch as Batch

    model_list = [dict(row, litellm_params=dict(row["litellm_params"])) for row in ROWS]
    results = []
    same_minute()  # both sides in one wall-clock minute (the counter keys name it)
    for accelerated in (False, True):
        with warnings.catch_warnings(), _local_patch.accelerated(accelerated):  # (as after import: the twin)
            warnings.simplefilter("ignore")
            router = litellm.Router(model_list=[dict(d, litellm_params=dict(d["litellm_params"]),
                                                     model_info=dict(d["model_info"])) for d in model_list],
                                    routing_strategy="usage-based-routing-v2")
        minute = _minute()
        router._core._cache.in_memory_cache.set_cache("u1:openai/m1:tpm:%s" % minute, 40)
        kept = []
        stock_init = Batch.__init__
        created = []

        async def pick():
            asyncio.get_running_loop().set_task_factory(
                lambda loop, coro, **kw: created.append(getattr(coro, "__qualname__", "?")) or asyncio.Task(
                    coro, loop=loop, **kw))
            import random

            out = []
            for seed in range(5):
                random.seed(seed)
                with _local_patch.accelerated(accelerated), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    picked = await router.async_get_available_deployment(model="g", request_kwargs={})
                out.append((picked["model_info"]["id"], random.getstate()))
            return out

        def init(self, usage_selector):
            stock_init(self, usage_selector)
            kept.append(self)

        Batch.__init__ = init
        try:
            picks = asyncio.run(pick())
        finally:
            Batch.__init__ = stock_init
        usage = [(sorted(b.prefetched_usage.keys), b.prefetched_usage.values) for b in kept
                 if b.prefetched_usage is not None]
        results.append((picks, usage, len(created)))
    assert results[0] == results[1]
    assert results[0][1]  # the usage read ran (both sides)


def _recording_len(log):
    import builtins

    stock_len = builtins.len

    def len(obj):  # noqa: A001 - stands for the builtin
        if type(obj) in (list, tuple) and obj and (type(obj[0]) is tuple or ":pm:" in str(obj[0]).replace("tpm", "pm")):
            log.append(("len", stock_len(obj)))
        return stock_len(obj)

    return len


def _read_then_undo(batch, accelerated, monkeypatch, span=None):
    """``read_usage`` through the installed dispatcher (stock or ours) in a fresh
    loop; the test's replacements undone after.  (The caller waits for a minute
    with time left once, before both sides: the counter keys name the minute.)"""

    async def go():
        with _local_patch.accelerated(accelerated):
            return await RoutingReadBatch.read_usage(batch, list(ROWS), span)

    try:
        return asyncio.run(go())
    finally:
        monkeypatch.undo()


def test_read_usage_declines_over_a_replaced_builtin(monkeypatch):
    """A builtin LiteLLM's skipped layers call (``len``: ``[None] * len(...)`` in the
    shared read and the batch set-up), replaced before the patch is built: not the
    interpreter's own, so the read itself declines (the shared routing_builtins
    guard, session 20: the build refused it before), whatever its wrapper checks."""
    import builtins

    from fast_litellm.patching.registry import NotAccelerated
    from fast_litellm.routing import selector_fast

    original = _local_patch._original_of(RoutingReadBatch, "read_usage")
    monkeypatch.setattr(builtins, "len", _recording_len([]))
    fast = selector_fast.make_read_usage(original)
    batch, _cache = _build("empty", [])
    with pytest.raises(NotAccelerated):
        asyncio.run(fast(batch, list(ROWS), None))
    assert batch.prefetched_usage is None


def test_read_usage_with_a_builtin_replaced_after_the_build(monkeypatch):
    """``len`` replaced after the build: the read is LiteLLM's, every call of it made."""
    import builtins

    runs = []
    same_minute()
    for accelerated in (False, True):
        log = []
        batch, _cache = _build("empty", log)
        monkeypatch.setattr(builtins, "len", _recording_len(log))

        _read_then_undo(batch, accelerated, monkeypatch)
        runs.append(log)
    assert runs[0] == runs[1] and runs[0]


def _keys_that_change(monkeypatch, change):
    """Both sides' reads with a ``usage_counter_keys`` that calls ``change(log)``
    (which rebinds something on the read's path) before LiteLLM's keys; the log,
    the kept keys and values of each."""
    stock_keys = LowestTPMLoggingHandler_v2.usage_counter_keys
    runs = []
    same_minute()
    for accelerated in (False, True):
        log = []
        batch, _cache = _build("empty", log)

        def usage_counter_keys(self, healthy, log=log):
            change(log)
            return stock_keys(self, healthy)

        monkeypatch.setattr(LowestTPMLoggingHandler_v2, "usage_counter_keys", usage_counter_keys)
        _read_then_undo(batch, accelerated, monkeypatch)
        runs.append((log, sorted(batch.prefetched_usage.keys), batch.prefetched_usage.values))
    assert runs[0] == runs[1] and runs[0][0]


def test_read_usage_bindings_looked_at_after_the_keys(monkeypatch):
    """A ``usage_counter_keys`` that replaces a binding of the read's path while it
    runs (here ``routing_prefetch.read``, wrapped by a recorder): stock's read calls
    the new one, and so does ours."""
    stock_read = routing_prefetch.read

    def change(log):
        async def read(tier_read, span):
            log.append(("read", tier_read.keys))
            return await stock_read(tier_read, span)

        monkeypatch.setattr(routing_prefetch, "read", read)

    _keys_that_change(monkeypatch, change)


def test_read_usage_declines_after_keys_that_shadow_a_builtin(monkeypatch):
    """A ``usage_counter_keys`` that shadows ``len`` in the dual cache's module while
    it runs: stock's read calls the shadow from there on, and so does ours (session
    20: the shared builtins guard asked again after the keys)."""
    from litellm.caching import dual_cache

    _keys_that_change(monkeypatch, lambda log: monkeypatch.setattr(dual_cache, "len", _recording_len(log),
                                                                   raising=False))
