"""Faults injected into the usage-based-routing-v2 and cost-based-routing
picks (session-11 hunt), through the patch engine's own wrapper
(``_local_patch.install(guarded=True)``): stock and accelerated Routers built
alike, the same fault on both.

* LiteLLM's code raising (the cooldown store's read, the v2 usage read riding
  along with it, LiteLLM's clock, the cost and latency maps' cache reads): the caller gets
  stock's exception, raised once - the call is not run again (a transient
  error then served a pick stock fails, and the read ran twice) - and nothing
  is counted against ``rust_routing``.
* Our own code raising (the kept group rows, the no-input token count, the
  cost Python loop): the pick is stock's and the error is counted.
* LiteLLM's pricing helpers or clock replaced in ``lowest_cost``: honoured.
"""
from __future__ import annotations

import asyncio
import copy
import datetime
import random
import warnings

import pytest
from _lockstep import fresh_flag, routing_patches, same_minute  # noqa: E402

litellm = pytest.importorskip("litellm")

from litellm.router_strategy import lowest_cost  # noqa: E402
from litellm.router_strategy import lowest_tpm_rpm_v2 as v2  # noqa: E402
from litellm.router_utils.routing_read_batch import RoutingReadBatch  # noqa: E402

from fast_litellm._native_loader import NATIVE  # noqa: E402
from fast_litellm.routing import _local_patch, litellm_fast, selector_fast  # noqa: E402

pytestmark = [
    pytest.mark.skipif(NATIVE is None, reason="native core not built"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

V2, COST, LATENCY = "usage-based-routing-v2", "cost-based-routing", "latency-based-routing"
MODEL_LIST = [
    {"model_name": "g", "litellm_params": {"model": model, "api_key": "sk-test", **limits},
     "model_info": {"id": "d%d" % i}}
    for i, (model, limits) in enumerate([("gpt-4o-mini", {}), ("gpt-4o", {"rpm": 1000}),
                                         ("openai/gpt-4o-mini", {"tpm": 10 ** 6}), ("gpt-4o", {})])
]


@pytest.fixture(scope="module", autouse=True)
def guarded():
    with routing_patches(guarded=True):
        yield


@pytest.fixture(autouse=True)
def flag():
    with fresh_flag() as flag:
        yield flag


class Fault:
    """Counts its calls; raises ``error`` at the ``at``-th (0: never)."""

    def __init__(self, fn, at, error=RuntimeError):
        self.fn, self.at, self.error, self.calls = fn, at, error, 0

    def _hit(self):
        self.calls += 1
        if self.calls == self.at:
            raise self.error("injected")

    def __call__(self, *args, **kwargs):
        self._hit()
        return self.fn(*args, **kwargs)


class AsyncFault(Fault):
    async def __call__(self, *args, **kwargs):
        self._hit()
        return await self.fn(*args, **kwargs)


class Handle:
    """The cooldown store's native handle, its read faulted."""

    def __init__(self, handle, fault):
        self._handle = handle
        self.active_sync = fault

    def __getattr__(self, name):
        return getattr(self._handle, name)


def _router(strategy, model_list=MODEL_LIST, accelerated=False):
    # built with the side's switch, as after import fast_litellm (the twin handle)
    with warnings.catch_warnings(), _local_patch.accelerated(accelerated):
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=copy.deepcopy(model_list), routing_strategy=strategy)
    # one deployment cooling: the store's memory is busy, so the pick reads it
    router._core._cooldowns.add_deployment_to_cooldown("d3", Exception("rate limited"), 429, 600)
    return router


def _pick(router, accelerated, seed=7, **kwargs):
    random.seed(seed)
    with _local_patch.accelerated(accelerated), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            picked = asyncio.run(router.async_get_available_deployment(model="g", request_kwargs={}, **kwargs))
            outcome = ("ok", picked["model_info"]["id"])
        except Exception as exc:  # noqa: BLE001 - compared
            outcome = ("raised", type(exc).__name__, str(exc))
    return outcome, random.getstate()


def _site(monkeypatch, router, site, fault_at):
    """Install the fault of ``site`` (LiteLLM's code) on ``router``; its Fault."""
    if site == "cooldown read":
        store = router._core._cooldowns.cooldown_store
        fault = Fault(store._handle.active_sync, fault_at)
        object.__setattr__(store, "_handle", Handle(store._handle, fault))
    elif site == "usage read":
        fault = AsyncFault(RoutingReadBatch.read_usage, fault_at)
        monkeypatch.setattr(RoutingReadBatch, "read_usage",
                            lambda self, *a, **k: fault(self, *a, **k), raising=True)
    elif site == "clock":
        fault = Fault(v2.get_utc_datetime, fault_at)
        monkeypatch.setattr(v2, "get_utc_datetime", fault)
    elif site == "latency span read":
        from litellm.router_strategy import lowest_latency

        fault = Fault(lowest_latency.get_parent_otel_span_from_kwargs, fault_at)
        monkeypatch.setattr(lowest_latency, "get_parent_otel_span_from_kwargs", fault)
    elif site == "pre-route record":
        from litellm.router_rust.steps import prerouting

        fault = Fault(prerouting._record_routing_decision, fault_at)
        monkeypatch.setattr(prerouting, "_record_routing_decision", fault)
    elif site == "least-busy counts read":
        cache = router._core._cache
        fault = Fault(cache.batch_get_cache, fault_at)
        cache.__dict__["batch_get_cache"] = fault
    else:  # the cost or latency map's read
        cache = router._core._cache
        read = cache.async_get_cache
        fault = AsyncFault(read, fault_at)

        async def async_get_cache(key, *args, **kwargs):
            if str(key) in ("cost_map:g", "g_map"):
                return await fault(key, *args, **kwargs)
            return await read(key, *args, **kwargs)

        cache.__dict__["async_get_cache"] = async_get_cache
    return fault


@pytest.mark.parametrize("strategy,site", [(V2, "cooldown read"), (V2, "usage read"), (V2, "clock"),
                                           (COST, "cooldown read"), (COST, "cost map read"),
                                           (LATENCY, "latency map read"), (LATENCY, "latency span read"),
                                           (LATENCY, "pre-route record"), ("least-busy", "pre-route record"),
                                           ("least-busy", "least-busy counts read")])
def test_litellms_errors_reach_the_caller_once(monkeypatch, flag, strategy, site):
    """A one-off error of LiteLLM's read: stock fails the pick with it.  The
    fast paths ran LiteLLM's call again on top (the engine's fallback), so the
    pick was served, counted as an error of ours, the read made twice."""
    stock, fast = _stock_and_fast(monkeypatch, strategy, site, 1)
    assert stock[0][0][0] == "raised" and "injected" in stock[0][0][2]
    assert fast == stock
    assert flag.errors == 0
    # no fault: the same pick, the fast path taken (nothing counted)
    clean = _stock_and_fast(monkeypatch, strategy, site, 0)
    assert clean[0] == clean[1] and clean[0][0][0][0] == "ok" and flag.errors == 0


def _stock_and_fast(monkeypatch, strategy, site, at):
    """(pick outcome, the site's calls) on a stock router, then on an
    accelerated one, each with LiteLLM's `site` faulted at its `at`-th call
    (0: never), in one wall-clock minute."""
    same_minute()
    outcomes = []
    for accelerated in (False, True):
        router = _router(strategy, accelerated=accelerated)
        with monkeypatch.context() as patch:
            fault = _site(patch, router, site, at)
            outcomes.append((_pick(router, accelerated), fault.calls))
    return outcomes


def _ours(monkeypatch, site):
    if site == "group rows":
        monkeypatch.setattr(litellm_fast._GROUP_ROWS, "read", Fault(None, 1, MemoryError))
    elif site == "no-input count":
        fault = Fault(selector_fast._NoInputTokens._path_is_zero, 1, MemoryError)
        monkeypatch.setattr(selector_fast._NoInputTokens, "_path_is_zero", lambda self: fault(self))
    else:  # the cost loop in Python (a float token count keeps it off the native scan)
        monkeypatch.setattr(lowest_cost, "embedding_aware_token_count", lambda *a, **k: 3.0)
        monkeypatch.setattr(litellm_fast, "_configured_limit", Fault(litellm_fast._configured_limit, 1, MemoryError))


@pytest.mark.parametrize("strategy,site", [(V2, "group rows"), (V2, "no-input count"), (COST, "no-input count"),
                                           (COST, "python loop")])
def test_errors_of_ours_fall_back_and_count(monkeypatch, flag, strategy, site):
    """Our own code failing: the pick is stock's (the v2 usage read still
    rides along with the cooldown read) and the error counts against the
    flag.  Before: the group rows' error was swallowed as LiteLLM's read
    error (no usage read along, not counted), the no-input count's was not
    counted (v2) or was raised to the caller (cost: inside the marks for
    LiteLLM's calls), as were the cost loop's."""
    same_minute()
    outcomes = []
    for accelerated in (False, True):
        router = _router(strategy, accelerated=accelerated)
        with monkeypatch.context() as patch:
            reads = AsyncFault(RoutingReadBatch.read_usage, 0)
            patch.setattr(RoutingReadBatch, "read_usage", lambda self, *a, **k: reads(self, *a, **k))
            _ours(patch, site)
            outcomes.append((_pick(router, accelerated), reads.calls))
    stock, fast = outcomes
    assert stock[0][0][0] == "ok"
    assert fast == stock
    assert flag.errors == 1 and flag.last_error["type"] == "MemoryError"


class _Clock(datetime.datetime):
    """lowest_cost's clock, stopped a day ahead."""

    @classmethod
    def now(cls, tz=None):
        return datetime.datetime.now(tz) + datetime.timedelta(days=1)


def test_latency_honours_a_replaced_clock(monkeypatch, flag):
    """The same for ``lowest_latency.datetime``: LiteLLM reads this minute's
    usage through it."""
    from litellm.router_strategy import lowest_latency

    same_minute()
    monkeypatch.setattr(lowest_latency, "datetime", _Clock)
    model_list = copy.deepcopy(MODEL_LIST)
    for d in model_list:
        d["litellm_params"]["rpm"] = 5
    stamp = _Clock.now()
    minute = "%s-%s-%s" % (stamp.strftime("%Y-%m-%d"), stamp.strftime("%H"), stamp.strftime("%M"))
    outcomes = []
    for accelerated in (False, True):
        router = _router(LATENCY, model_list, accelerated=accelerated)
        # d0 and d2 are the fastest, but a day ahead past their rpm limit
        history = {ident: {"latency_normalized": [0.1], minute: {"tpm": 0, "rpm": 9}} for ident in ("d0", "d2")}
        history["d1"] = {"latency_normalized": [0.5]}
        router._core._cache.set_cache("g_map", history)
        outcomes.append(_pick(router, accelerated))
    assert outcomes[0][0] == ("ok", "d1")
    assert outcomes[1] == outcomes[0]
    assert flag.errors == 0


@pytest.mark.parametrize("replaced", ["prices, with history", "clock"])
def test_cost_honours_replaced_pricing_and_clock(monkeypatch, flag, replaced):
    """A replaced ``lowest_cost.datetime`` (a mocked clock) is what LiteLLM's
    loop reads; the fast path read the real clock regardless (it now hands
    such a pick to LiteLLM).  A replaced ``_deployment_cost_map_rates`` (a
    custom price) is handed over too (the Router's price rows are
    ``AliasedCostEntry``, a dict subclass the fast reads now read as dicts
    while the class's reads are dict's own: without the hand-over the fast
    path would price from the rows)."""
    same_minute()
    if replaced.startswith("prices"):
        # gpt-4o-mini priced above gpt-4o
        monkeypatch.setattr(lowest_cost, "_deployment_cost_map_rates",
                            lambda d: (1.0, 1.0) if "mini" in d["litellm_params"]["model"] else (2e-6, 2e-6))
    else:
        monkeypatch.setattr(lowest_cost, "datetime", _Clock)
    model_list = copy.deepcopy(MODEL_LIST)
    model_list[0]["litellm_params"]["rpm"] = 5
    outcomes = []
    for accelerated in (False, True):
        router = _router(COST, model_list, accelerated=accelerated)
        if replaced == "clock":
            # this minute a day ahead, d0 (the cheapest) is past its rpm limit
            stamp = _Clock.now()
            minute = "%s-%s-%s" % (stamp.strftime("%Y-%m-%d"), stamp.strftime("%H"), stamp.strftime("%M"))
            router._core._cache.set_cache("cost_map:g", {"d0": {minute: {"tpm": 0, "rpm": 10 ** 9}}})
        elif replaced == "prices, with history":
            router._core._cache.set_cache("cost_map:g", {"d1": {litellm_fast._minute_stamp(): {"tpm": 5, "rpm": 0}}})
        outcomes.append(_pick(router, accelerated))
    assert outcomes[0][0][0] == "ok" and outcomes[0][0][1] != "d0"
    assert outcomes[1] == outcomes[0]
    assert flag.errors == 0


@pytest.mark.parametrize("entry", [None, "x", {"@minute": None}])
def test_cost_cached_map_with_odd_entries_raises_as_litellm(flag, entry):
    """A cached cost map whose entry for a candidate is not a usage dict:
    LiteLLM's loop raises reading it (``None.get``).  The fast path's Python
    loop took a None entry for the fresh map's unseen one (no usage) and
    picked (found by the bad-input probe)."""
    from litellm.caching.dual_cache import DualCache

    minute = litellm_fast._minute_stamp()
    if isinstance(entry, dict):
        entry = {minute: None}
    healthy = [{"model_name": "g", "model_info": {"id": "d%d" % i},
                "litellm_params": {"model": model, "input_cost_per_token": 2}}
               for i, model in enumerate(["gpt-4o", "openai/gpt-4o-mini"])]
    outcomes = []
    same_minute()
    for accelerated in (False, True):
        cache = DualCache()
        cache.set_cache("cost_map:g", {"d0": entry, "d1": {minute: {"tpm": 1, "rpm": 1}}})
        handler = lowest_cost.LowestCostLoggingHandler(router_cache=cache)
        with _local_patch.accelerated(accelerated):
            try:
                got = asyncio.run(handler.async_get_available_deployments("g", copy.deepcopy(healthy),
                                                                        request_kwargs={}))
                outcomes.append(("ok", got["model_info"]["id"]))
            except Exception as exc:  # noqa: BLE001 - compared
                outcomes.append(("raised", type(exc).__name__, str(exc)))
    assert outcomes[0][0] == "raised" and outcomes[1] == outcomes[0]
    assert flag.errors == 0


@pytest.mark.parametrize("percentile", [2.0, 1.5, -3.0])
def test_latency_percentile_out_of_range_raises_once_after_one_draw(monkeypatch, flag, percentile):
    """``ttft_percentile`` set past (0, 1] after ``RoutingArgs`` validated it
    (pydantic does not validate assignment): over a served-from map, a
    streaming request's percentile index is out of range and LiteLLM's loop
    raises IndexError after its ``random.sample``.  The native scan raised it
    too, unmarked, so the engine ran LiteLLM's pick again on top: a second
    ``random.sample`` (the random state differed from stock's), the map read
    twice and the error counted against the flag (hunt 17)."""
    from litellm.router_strategy.lowest_latency import LowestLatencyLoggingHandler

    same_minute()
    minute = litellm_fast._minute_stamp()
    history = {"d%d" % i: {"latency_normalized": [0.1 * (i + 1)],
                           "time_to_first_token_seconds": [0.05 * (i + 1)] * (i % 3), minute: {"tpm": 0, "rpm": 0}}
               for i in range(4)}
    outcomes = []
    for accelerated in (False, True):
        router = _router(LATENCY, accelerated=accelerated)
        router._core._cache.set_cache("g_map", copy.deepcopy(history))
        for selector in router._core._selectors.callback_selectors():
            assert isinstance(selector, LowestLatencyLoggingHandler)
            selector.routing_args.ttft_percentile = percentile
        with monkeypatch.context() as patch:
            fault = _site(patch, router, "latency map read", 0)
            random.seed(3)
            with _local_patch.accelerated(accelerated), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    picked = asyncio.run(router.async_get_available_deployment(
                        model="g", request_kwargs={"stream": True, "metadata": {}}))
                    outcome = ("ok", picked["model_info"]["id"])
                except Exception as exc:  # noqa: BLE001 - compared
                    outcome = ("raised", type(exc).__name__, str(exc))
            outcomes.append((outcome, random.getstate(), fault.calls))
    stock, fast = outcomes
    assert stock[0][:2] == ("raised", "IndexError")
    assert fast == stock
    assert flag.errors == 0


class _CountedArgs:
    """A replaced ``routing_args`` whose ``ttft_percentile`` read is seen."""

    lowest_latency_buffer = 0.0

    def __init__(self, percentile=None):
        self.reads, self._percentile = 0, percentile

    @property
    def ttft_percentile(self):
        self.reads += 1
        return self._percentile


@pytest.mark.parametrize("args", ["no percentile", "counted", "counted 0.5"])
@pytest.mark.parametrize("request_kwargs", [{"metadata": {}}, {"stream": True, "metadata": {}}])
def test_latency_reads_ttft_percentile_as_litellm(flag, args, request_kwargs):
    """LiteLLM reads ``routing_args.ttft_percentile`` only for a streaming
    request's candidate with usable ttft samples (twice when it is not None).
    The fast path read it once per pick whatever the request: a replaced
    ``routing_args`` without the attribute made a pick stock serves raise
    AttributeError after the draws (the engine then ran LiteLLM's pick again:
    a second ``random.sample``), and a property was read another number of
    times (hunt 17)."""
    import types

    from litellm.caching.dual_cache import DualCache
    from litellm.router_strategy import lowest_latency

    minute = litellm_fast._minute_stamp()
    healthy = [{"model_name": "g", "litellm_params": {"model": "m", "api_base": "b%d" % i},
                "model_info": {"id": "d%d" % i}} for i in range(5)]
    counts = {"d%d" % i: {"latency_normalized": [0.1 * (i % 2 + 1)], minute: {"tpm": 1, "rpm": 1}}
              for i in range(5)}
    counts["d2"]["time_to_first_token_seconds"] = [0.3, 0.01]
    counts["d3"]["time_to_first_token_seconds"] = [0.02]
    outcomes = []
    same_minute()
    for accelerated in (False, True):
        handler = lowest_latency.LowestLatencyLoggingHandler(router_cache=DualCache())
        handler.routing_args = (types.SimpleNamespace(lowest_latency_buffer=0.5) if args == "no percentile"
                                else _CountedArgs(0.5 if args.endswith("0.5") else None))
        cache = copy.deepcopy(counts)
        random.seed(5)
        with _local_patch.accelerated(accelerated):
            try:
                got = handler._get_available_deployments("g", copy.deepcopy(healthy), None, None,
                                                         copy.deepcopy(request_kwargs), cache)
                outcome = ("ok", got["model_info"]["id"])
            except Exception as exc:  # noqa: BLE001 - compared
                outcome = ("raised", type(exc).__name__, str(exc))
        outcomes.append((outcome, random.getstate(), getattr(handler.routing_args, "reads", None)))
    stock, fast = outcomes
    assert stock[0][0] == "ok" or "stream" in request_kwargs
    assert fast == stock
    assert flag.errors == 0


@pytest.mark.parametrize("buffer", ["missing", None, "x", "decimal", "huge int", 0.5, 2, True, float("inf")])
@pytest.mark.parametrize("route", ["router", "handler"])
def test_latency_fresh_map_reads_and_multiplies_the_buffer_as_litellm(flag, buffer, route):
    """A latency pick with nothing cached (the fresh map: every candidate at
    the unseen latency 0.0): LiteLLM still reads ``lowest_latency_buffer``
    and computes ``buffer * lowest`` after its ``random.sample``, so a buffer
    assigned after validation that does not multiply a float (None, a str, a
    Decimal, an int past a float's range) or a replaced ``routing_args``
    without it raises there.  The fast fresh picks (a shared list's all-pass
    pick, the fresh scan) never read it and picked (hunt 17)."""
    import decimal
    import types

    from litellm.caching.dual_cache import DualCache
    from litellm.router_strategy import lowest_latency

    value = {"decimal": decimal.Decimal("0.5"), "huge int": 10 ** 400}.get(buffer, buffer)
    outcomes = []
    same_minute()
    for accelerated in (False, True):
        if route == "router":
            router = _router(LATENCY, accelerated=accelerated)
            selectors = router._core._selectors.callback_selectors()
        else:
            handler = lowest_latency.LowestLatencyLoggingHandler(router_cache=DualCache())
            selectors = (handler,)
        for selector in selectors:
            if buffer == "missing":
                selector.routing_args = types.SimpleNamespace(ttft_percentile=None)
            else:
                selector.routing_args.lowest_latency_buffer = value
        random.seed(11)
        with _local_patch.accelerated(accelerated), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if route == "router":
                    picked = asyncio.run(router.async_get_available_deployment(model="g", request_kwargs={}))
                else:
                    picked = handler.get_available_deployments("g", copy.deepcopy(MODEL_LIST), None, None, {})
                outcome = ("ok", picked["model_info"]["id"])
            except Exception as exc:  # noqa: BLE001 - compared
                outcome = ("raised", type(exc).__name__, str(exc))
        outcomes.append((outcome, random.getstate()))
    stock, fast = outcomes
    assert (stock[0][0] == "ok") is (buffer in (0.5, 2, True, float("inf"))), stock[0]
    assert fast == stock
    assert flag.errors == 0


def _choice_by_latency(seq):
    """A replaced ``random.choice`` that reads LiteLLM's (deployment, latency) pairs."""
    return min(seq, key=lambda pair: pair[1])


@pytest.mark.parametrize("replaced", ["sample wrapped", "choice wrapped", "choice reads pairs"])
@pytest.mark.parametrize("cached", [False, True])
def test_latency_replaced_random_sees_litellms_arguments(monkeypatch, flag, replaced, cached):
    """``random.sample`` / ``random.choice`` replaced (a test's mock): LiteLLM
    calls them with the map's (id, entry) items and with its (deployment,
    latency) pairs.  The fast path handed ``sample`` the ids and the fresh
    map's ``choice`` the deployments, so a mock recorded other calls and a
    choice that reads the pairs failed (the engine then ran LiteLLM's pick
    again: a second ``sample``).  Such a pick is now LiteLLM's, decided
    before the map is read (hunt 17)."""
    from unittest import mock

    minute = litellm_fast._minute_stamp()
    history = {"d%d" % i: {"latency_normalized": [0.1 * (i % 2 + 1)], minute: {"tpm": 0, "rpm": 0}}
               for i in range(4)}
    draws = random.Random(0)
    fake_sample = (lambda population, k: draws.sample(population, k)) if replaced == "sample wrapped" else None
    fake_choice = (_choice_by_latency if replaced == "choice reads pairs"
                   else (lambda seq: draws.choice(seq)) if replaced == "choice wrapped" else None)
    outcomes = []
    same_minute()
    for accelerated in (False, True):
        router = _router(LATENCY, accelerated=accelerated)
        if cached:
            router._core._cache.set_cache("g_map", copy.deepcopy(history))
        draws.seed(0)
        with monkeypatch.context() as patch:
            fault = _site(patch, router, "latency map read", 0)
            patched = [mock.patch.object(random, name, side_effect=fn) for name, fn in
                       (("sample", fake_sample), ("choice", fake_choice)) if fn is not None]
            mocks = [p.start() for p in patched]
            try:
                outcome = _pick(router, accelerated, seed=3)
            finally:
                for p in patched:
                    p.stop()
        calls = [[repr(call) for call in m.call_args_list] for m in mocks]
        outcomes.append((outcome, calls, fault.calls))
    stock, fast = outcomes
    assert stock[0][0][0] == "ok"
    assert fast == stock
    assert flag.errors == 0


@pytest.mark.parametrize("replaced", ["isfinite", "ceil", "module sum", "module len"])
def test_latency_honours_replaced_math_in_litellms_module(monkeypatch, flag, replaced):
    """``lowest_latency``'s latency functions read ``isfinite``, ``ceil``
    and the builtins ``sum`` / ``len`` through the module's globals: a
    replaced one (a test's monkeypatch) is what LiteLLM's loop uses.  The
    native scan filtered, indexed and averaged with its own (hunt 17)."""
    import math

    from litellm.router_strategy import lowest_latency

    same_minute()
    if replaced == "isfinite":
        monkeypatch.setattr(lowest_latency, "isfinite", lambda x: True)  # inf counts: d0's average is inf
    elif replaced == "ceil":
        monkeypatch.setattr(lowest_latency, "ceil", lambda x: 1)  # the percentile is always the lowest sample
    elif replaced == "module sum":
        monkeypatch.setattr(lowest_latency, "sum", lambda values: -math.fsum(values), raising=False)
    else:
        monkeypatch.setattr(lowest_latency, "len", lambda values: 1, raising=False)
    minute = litellm_fast._minute_stamp()
    history = {"d0": {"latency_normalized": [0.1, float("inf"), 0.1], "time_to_first_token_seconds": [0.01, 0.9],
                      minute: {"tpm": 0, "rpm": 0}},
               "d1": {"latency_normalized": [0.2], "time_to_first_token_seconds": [0.05], minute: {"tpm": 0, "rpm": 0}},
               "d2": {"latency_normalized": [0.3, 0.3], minute: {"tpm": 0, "rpm": 0}}}
    outcomes = []
    for accelerated in (False, True):
        router = _router(LATENCY, accelerated=accelerated)
        for selector in router._core._selectors.callback_selectors():
            selector.routing_args.ttft_percentile = 0.9
        router._core._cache.set_cache("g_map", copy.deepcopy(history))
        picks = []
        for request in ({}, {"stream": True}):
            random.seed(8)
            with _local_patch.accelerated(accelerated), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                picked = asyncio.run(router.async_get_available_deployment(model="g", request_kwargs=request))
            picks.append((picked["model_info"]["id"], random.getstate()))
        outcomes.append(picks)
    assert outcomes[1] == outcomes[0]
    assert flag.errors == 0


def _cost_outcomes(model_list, cached_id):
    """Cost picks, stock then accelerated, each over a fresh map and over one
    holding ``cached_id``'s usage this minute: [[stock fresh, stock cached],
    [fast fresh, fast cached]]."""
    outcomes = []
    for accelerated in (False, True):
        picks = []
        for cached in (False, True):
            router = _router(COST, model_list, accelerated=accelerated)
            if cached:
                router._core._cache.set_cache("cost_map:g",
                                              {cached_id: {litellm_fast._minute_stamp(): {"tpm": 1, "rpm": 0}}})
            picks.append(_pick(router, accelerated))
        outcomes.append(picks)
    return outcomes


@pytest.mark.parametrize("replaced", ["sorted", "float", "isinstance"])
def test_cost_honours_builtins_shadowed_in_litellms_module(monkeypatch, flag, replaced):
    """``lowest_cost``'s loop ranks with ``sorted`` and its ``_as_rate``
    converts with ``float`` after an ``isinstance`` test, each read through
    the module's globals: one shadowed there (a test's monkeypatch) is what
    LiteLLM's pick uses.  The fast pick ranked and converted with its own
    (hunt 17)."""
    import builtins

    same_minute()
    if replaced == "sorted":
        monkeypatch.setattr(lowest_cost, "sorted", lambda items, key: builtins.sorted(items, key=key, reverse=True),
                            raising=False)
    elif replaced == "float":
        monkeypatch.setattr(lowest_cost, "float", lambda value: builtins.float(value) * 1000, raising=False)
    else:  # no row price counts: every deployment at the 5.0 default, the first one picked
        monkeypatch.setattr(lowest_cost, "isinstance", lambda value, kinds: False, raising=False)
    model_list = copy.deepcopy(MODEL_LIST)
    model_list[1]["litellm_params"]["input_cost_per_token"] = 0.5  # between the mapped rates and the default
    outcomes = _cost_outcomes(model_list, "d0")
    assert outcomes[1] == outcomes[0]
    assert flag.errors == 0


@pytest.mark.parametrize("replaced", ["pricing_models", "_named_models"])
def test_cost_honours_replaced_deployment_pricing_helpers(monkeypatch, flag, replaced):
    """``deployment_pricing_models`` (checked in ``lowest_cost``'s globals)
    calls ``pricing_models`` and ``_named_models`` through
    ``deployment_pricing``'s own globals: one replaced there (a test's
    monkeypatch) decides which cost-map row prices a deployment in
    LiteLLM's pick.  The fast pick read base model then model regardless
    (hunt 17)."""
    from litellm.litellm_core_utils import deployment_pricing

    same_minute()
    if replaced == "pricing_models":
        original = deployment_pricing.pricing_models
        monkeypatch.setattr(deployment_pricing, "pricing_models", lambda base, model: original(base, model)[::-1])
    else:  # the deployment's own model first
        monkeypatch.setattr(deployment_pricing, "_named_models",
                            lambda *names: (n for n in reversed(names) if isinstance(n, str) and n))
    model_list = [
        # priced by its base model (gpt-4o) in stock LiteLLM, by gpt-4o-mini with the replacement
        {"model_name": "g", "litellm_params": {"model": "gpt-4o-mini", "api_key": "k"},
         "model_info": {"id": "d0", "base_model": "gpt-4o"}},
        # between the two
        {"model_name": "g", "litellm_params": {"model": "openai/made-up", "api_key": "k",
                                               "input_cost_per_token": 1e-6, "output_cost_per_token": 4e-6},
         "model_info": {"id": "d1"}},
    ]
    outcomes = _cost_outcomes(model_list, "d1")
    assert outcomes[0][0][0] == ("ok", "d0")
    assert outcomes[1] == outcomes[0]
    assert flag.errors == 0
