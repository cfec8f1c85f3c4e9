"""The large-n strategy fast paths (fast_litellm/routing/strategy_fast.py)
beside LiteLLM's own code: shared candidate records only for read-only
selectors, random.sample's draws, the native id index and latency scan,
and stock-vs-accelerated lockstep runs at 1,000 deployments."""
from __future__ import annotations

import asyncio
import copy
import random
import sys
import warnings

import pytest
from _lockstep import routing_patches, same_minute  # noqa: E402

litellm = pytest.importorskip("litellm")

from fast_litellm import _native_loader  # noqa: E402
from fast_litellm.patching.registry import NotAccelerated  # noqa: E402
from fast_litellm.routing import _local_patch, litellm_fast, strategy_fast  # noqa: E402

from test_routing_litellm import _build, _calls, _history, _same, _seed_state  # noqa: E402

NATIVE = _native_loader.NATIVE
needs_native = pytest.mark.skipif(NATIVE is None or not hasattr(NATIVE, "router_latency_fresh"),
                                  reason="native core not built")


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


# ---- random.sample -----------------------------------------------------------

@needs_native
def test_sample_all_draws_as_random_sample():
    for seed in range(20):
        for n in (0, 1, 2, 4, 5, 6, 9, 31, 64, 65, 257, 1000):
            ours, theirs = random.Random(seed), random.Random(seed)
            population = ["x%d" % i for i in range(n)]
            assert NATIVE.router_sample_all(ours.getrandbits, population) == theirs.sample(population, n)
            assert ours.getstate() == theirs.getstate()
            assert population == ["x%d" % i for i in range(n)]  # the population is not touched


@needs_native
def test_sampler_follows_random_and_declines_replaced_draws():
    sampler = strategy_fast._Sampler()
    random.seed(5)
    got = sampler.sample_all(random, list(range(50)))
    state = random.getstate()
    random.seed(5)
    assert got == random.sample(list(range(50)), 50) and random.getstate() == state

    class Other(random.Random):
        def _randbelow(self, n):  # a replaced draw: not the stdlib's
            return 0

    class Module:
        pass

    other = Module()
    inst = Other(1)
    other.sample = inst.sample
    assert sampler.getrandbits_of(other) is None
    assert sampler.sample_all(other, [1, 2, 3]) == Other(1).sample([1, 2, 3], 3)  # its own draws
    plain = Module()
    plain.sample = lambda population, k: list(reversed(population))
    assert sampler.getrandbits_of(plain) is None
    assert sampler.getrandbits_of(random) is not None


# ---- the id index and the fresh latency scan ----------------------------------

@needs_native
def test_index_by_id_matches_or_declines():
    names = strategy_fast._NAMES
    cases = [
        [],
        [{"model_info": {"id": "a"}}, {"model_info": {"id": "b"}}, {"model_info": {"id": "a"}, "x": 1}],
        [{"model_info": {"id": 1}}],
        [{"model_info": None}],
        [{"x": 1}],
        [dict],
        ({"model_info": {"id": "a"}},),
        [{"model_info": {"id": "a"}, 5: "a key LiteLLM's lookups would compare"}],  # declined natively
    ]
    for healthy in cases:
        try:
            expected = litellm_fast._index_by_id(healthy)
        except NotAccelerated:
            expected = None
        got = NATIVE.router_index_by_id(healthy, names)
        if got is None:
            continue  # declined: the Python index runs
        assert got == expected and list(got) == list(expected), healthy
        assert all(got[k] is expected[k] for k in got)
    assert NATIVE.router_index_by_id(cases[1], names) is not None


_LIMITS = [None, 0, 1, 5, 10 ** 30, 2.5, float("nan"), float("inf"), True, False, "7", [3], ""]


def _deployment(gen, i):
    d = {"model_name": "g", "model_info": {"id": gen.choice(["d%d" % i, "d%d" % i, "dup"])}}
    params = {"model": "m"}
    if gen.random() < 0.7:
        params["api_base"] = gen.choice(["a", "b", None, "", 5, ["x"]])
    for key in ("tpm", "rpm"):
        for where in (d, params, d["model_info"]):
            if gen.random() < 0.2:
                where[key] = gen.choice(_LIMITS)
    if gen.random() < 0.05:
        del params["model"]
    if gen.random() < 0.9:
        d["litellm_params"] = params
    elif gen.random() < 0.5:
        d["litellm_params"] = None
    return d


@needs_native
def test_fresh_latency_scan_matches_the_python_loop():
    """The native scan returns what LiteLLM's loop computes, or declines
    (then the Python loop runs); it never raises where LiteLLM does not."""
    import litellm.router_strategy.lowest_latency as module

    handler = module.LowestLatencyLoggingHandler(router_cache=litellm.caching.dual_cache.DualCache())
    gen = random.Random("fresh-scan")
    declined = matched = 0
    for _ in range(1500):
        healthy = [_deployment(gen, i) for i in range(gen.randint(0, 12))]
        try:
            by_id = litellm_fast._index_by_id(healthy)
        except NotAccelerated:
            continue
        keys = list(by_id)
        gen.shuffle(keys)
        tokens = gen.choice([0, 3, 10 ** 40])
        report = gen.random() < 0.5
        got = NATIVE.router_latency_fresh(keys, by_id, strategy_fast._NAMES, tokens, 0.0, report)
        try:
            candidates, per_base = strategy_fast._LatencyPick._scan(
                handler, module, healthy, {}, {}, True, by_id, keys, "m", tokens, report)
            expected = ([d for d, _ in candidates], per_base if report else None)
        except Exception as exc:  # LiteLLM raises: the native scan must have declined
            expected = exc
        if got is None:
            declined += 1
            continue
        assert not isinstance(expected, Exception), (healthy, keys, expected)
        assert len(got[0]) == len(expected[0]) and all(a is b for a, b in zip(got[0], expected[0]))
        assert _same(got[1], expected[1]) and (got[1] is None or list(got[1]) == list(expected[1]))
        matched += 1
    assert matched > 300 and declined > 30


# ---- shared records only for read-only selectors ------------------------------

def _router_and_core(strategy, n=6, accelerated=False):
    model_list = [{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"},
                   "model_info": {"id": "d%d" % i}} for i in range(n)]
    with warnings.catch_warnings(), _local_patch.accelerated(accelerated):  # (accelerated: the twin)
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=model_list, routing_strategy=strategy)
    return router, router._core


def _inputs_twice(core, strategy):
    step = {"stage": "strategy", "strategy": strategy, "scope": "default", "group": None, "model": "g",
            "candidates": ["d%d" % i for i in range(6)]}
    with _local_patch.accelerated(True):
        first = core._strategy_inputs(dict(step), {})
        second = core._strategy_inputs(dict(step), {})
    return first[3], second[3]


@pytest.mark.parametrize("strategy", ["latency-based-routing", "cost-based-routing", "least-busy",
                                      "usage-based-routing-v2"])
def test_read_only_selectors_get_the_kept_records(strategy):
    _, core = _router_and_core(strategy)
    a, b = _inputs_twice(core, strategy)
    assert a == b and all(x is y for x, y in zip(a, b))
    assert a is b  # the same ids, the same registry version: the list handed out before
    step = {"stage": "strategy", "strategy": strategy, "scope": "default", "group": None, "model": "g",
            "candidates": ["d3", "d1", "d5"]}
    with _local_patch.accelerated(True):
        c = core._strategy_inputs(dict(step), {})[3]
        d = core._strategy_inputs(dict(step, candidates=["d3", "d1", "d4"]), {})[3]
    assert [x["model_info"]["id"] for x in c] == ["d3", "d1", "d5"]
    assert [x["model_info"]["id"] for x in d] == ["d3", "d1", "d4"]
    assert c[0] is a[3] and d[2] is a[4]


@pytest.mark.parametrize("strategy", ["simple-shuffle"])
def test_other_selectors_get_fresh_copies(strategy):
    _, core = _router_and_core(strategy)
    a, b = _inputs_twice(core, strategy)
    assert a == b and not any(x is y for x, y in zip(a, b))
    assert not any(x["litellm_params"] is y["litellm_params"] for x, y in zip(a, b))


def test_usage_v2_gets_copies_while_its_debug_log_is_on():
    """Its debug record is handed the candidate list itself."""
    import logging

    from litellm._logging import verbose_router_logger

    _, core = _router_and_core("usage-based-routing-v2")
    level = verbose_router_logger.level
    verbose_router_logger.setLevel(logging.DEBUG)
    try:
        a, b = _inputs_twice(core, "usage-based-routing-v2")
    finally:
        verbose_router_logger.setLevel(level)
    assert a == b and not any(x is y for x, y in zip(a, b))


def test_a_replaced_or_subclassed_selector_gets_copies():
    from litellm.router_strategy.lowest_latency import LowestLatencyLoggingHandler

    _, core = _router_and_core("latency-based-routing")
    selector = core._selectors.selector_for("latency-based-routing", "default", None, {})
    assert isinstance(selector, LowestLatencyLoggingHandler)
    a, b = _inputs_twice(core, "latency-based-routing")  # shared: the methods' verdict kept
    assert all(x is y for x, y in zip(a, b))
    # an instance attribute shadows the class's pick
    selector.async_get_available_deployments = lambda *a, **k: None
    try:
        a, b = _inputs_twice(core, "latency-based-routing")
        assert not any(x is y for x, y in zip(a, b))
    finally:
        del selector.async_get_available_deployments
    # a method replaced on the class (not LiteLLM's source, not our patch)
    saved = LowestLatencyLoggingHandler.__dict__["_get_available_deployments"]
    LowestLatencyLoggingHandler._get_available_deployments = lambda self, *a, **k: None
    try:
        a, b = _inputs_twice(core, "latency-based-routing")
        assert not any(x is y for x, y in zip(a, b))
    finally:
        LowestLatencyLoggingHandler._get_available_deployments = saved
    # a subclass
    selector.__class__ = type("Sub", (LowestLatencyLoggingHandler,), {})
    try:
        a, b = _inputs_twice(core, "latency-based-routing")
        assert not any(x is y for x, y in zip(a, b))
    finally:
        selector.__class__ = LowestLatencyLoggingHandler
    a, b = _inputs_twice(core, "latency-based-routing")
    assert all(x is y for x, y in zip(a, b))


# ---- lockstep at 1,000 deployments --------------------------------------------

def _large_model_list(gen, n):
    out = []
    for i in range(n):
        params = {"model": gen.choice(["gpt-4o-mini", "gpt-4o", "openai/made-up-model"]), "api_key": "k",
                  "api_base": "https://b%d.example" % gen.randint(0, 9)}
        if gen.random() < 0.1:
            params["rpm"] = gen.choice([1, 1000])
        if gen.random() < 0.1:
            params["tpm"] = gen.choice([1, 100000])
        if gen.random() < 0.1:
            params["input_cost_per_token"] = gen.choice([1e-6, 3e-6])
        out.append({"model_name": "g", "litellm_params": params, "model_info": {"id": "d%d" % i}})
    return out


@pytest.mark.parametrize("strategy", ["latency-based-routing", "cost-based-routing", "least-busy",
                                      "usage-based-routing-v2"])
def test_lockstep_at_500_deployments(strategy):
    """Large groups, first with nothing cached (the fresh-map scan), then
    with a latency/cost history.  (The fast paths have no size threshold;
    500 keeps the two Router builds at ~1.5 s each, 1,000 takes ~6 s.)"""
    gen = random.Random("large-%s" % strategy)
    model_list = _large_model_list(gen, 500)
    ids = [d["model_info"]["id"] for d in model_list]
    args = {"lowest_latency_buffer": 0.1} if strategy.startswith("latency") else {}
    a, b = _build(model_list, strategy, args), _build(model_list, strategy, args, accelerated=True)
    cooled = gen.sample(ids, 30)
    usage = [(d["model_info"]["id"], d["litellm_params"]["model"], gen.choice([10, 5000]), gen.choice([1, 5]))
             for d in gen.sample(model_list, 100)]
    for router in (a, b):
        _seed_state(router, None, model_list, strategy, None, cooled, usage)
    for phase in ("fresh", "history"):
        if phase == "history":
            history = _history(gen, model_list, strategy)
            for router in (a, b):
                _seed_state(router, None, model_list, strategy, history, [], [])
        plan = [(gen.random(), "g", gen.choice([{}, {"metadata": {}}, {"metadata": {}, "stream": True}]))
                for _ in range(5)]
        same_minute()  # both sides in one wall-clock minute
        stock = asyncio.run(_calls(a, False, copy.deepcopy(plan)))
        fast = asyncio.run(_calls(b, True, copy.deepcopy(plan)))
        # with messages: input tokens over some deployments' tpm (not every candidate passes)
        same_minute()  # both sides in one wall-clock minute
        stock += asyncio.run(_calls_with_messages(a, False, copy.deepcopy(plan[:3])))
        fast += asyncio.run(_calls_with_messages(b, True, copy.deepcopy(plan[:3])))
        for i, (s, f) in enumerate(zip(stock, fast)):
            assert _same(s[0], f[0]), (strategy, phase, i, s[0], f[0])
            assert s[1] == f[1], (strategy, phase, i, "random state differs")
            assert _same(s[2], f[2]), (strategy, phase, i, "request metadata differs")
            assert _same(s[3], f[3]), (strategy, phase, i, "routing cache differs")


@pytest.mark.parametrize("strategy", ["latency-based-routing", "cost-based-routing"])
def test_all_known_verdict_follows_the_map(strategy):
    """The kept all-known verdict (``strategy_fast._all_known``: a shared
    candidate list over a map with the same version tag) against stock, in
    lockstep: picks over a full history keep it, then each change to the map
    between picks - an entry deleted, the map emptied, a new map object of the
    same keys, a key added with a ``str`` subclass, a value rebound - must give
    the unseen entries LiteLLM's loop gives them (and nothing else).  Without
    the tag check (identity alone) the deleted entry is never given back and
    the routing caches differ."""
    gen = random.Random("known-%s" % strategy)
    model_list = _large_model_list(gen, 40)
    ids = [d["model_info"]["id"] for d in model_list]
    a, b = _build(model_list, strategy, {}), _build(model_list, strategy, {}, accelerated=True)
    history = _history(gen, model_list, strategy)
    for ident in ids:
        history.setdefault(ident, {})
    for router in (a, b):
        _seed_state(router, None, model_list, strategy, history, [], [])
    key = "g_map" if strategy == "latency-based-routing" else "cost_map:g"

    class Key(str):
        pass

    def the_map(router):
        return router._core._cache.in_memory_cache.cache_dict[key]

    def changes():
        yield "nothing", lambda router: None
        yield "deleted", lambda router: the_map(router).pop(ids[3])
        yield "deleted twice", lambda router: (the_map(router).pop(ids[5]), the_map(router).pop(ids[6]))
        yield "str-subclass key", lambda router: the_map(router).__setitem__(Key("extra"), {})
        yield "rebound", lambda router: the_map(router).__setitem__(ids[0], {})
        yield "new map", lambda router: router._core._cache.set_cache(
            key, {k: v for k, v in the_map(router).items() if k != ids[7]})
        yield "emptied", lambda router: the_map(router).clear()
        yield "nothing again", lambda router: None

    kept = 0
    for name, change in changes():
        for router in (a, b):
            change(router)
        plan = [(gen.random(), "g", gen.choice([{}, {"metadata": {}}])) for _ in range(3)]
        same_minute()
        before = strategy_fast._KNOWN[0]
        stock = asyncio.run(_calls(a, False, copy.deepcopy(plan)))
        fast = asyncio.run(_calls(b, True, copy.deepcopy(plan)))
        kept += strategy_fast._KNOWN[0] is not None and strategy_fast._KNOWN[0] is before
        for i, (s_, f_) in enumerate(zip(stock, fast)):
            assert _same(s_[0], f_[0]), (strategy, name, i)
            assert s_[1] == f_[1], (strategy, name, i, "random state differs")
            assert _same(s_[3], f_[3]), (strategy, name, i, "routing cache differs")
        if the_map(b):  # (an emptied map is no map to LiteLLM: nothing is added to it)
            assert set(ids) <= set(the_map(b)), name
    # the verdict was kept across picks (no dict version tags after 3.11: checked at every call)
    assert bool(kept) == (sys.version_info < (3, 12)), kept


async def _calls_with_messages(router, accelerated, plan):
    from test_routing_litellm import _cache_snapshot

    messages = [{"role": "user", "content": "a few words to count as input tokens"}]
    out = []
    for seed, model, request in plan:
        random.seed(seed)
        with _local_patch.accelerated(accelerated), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                picked = await router.async_get_available_deployment(model=model, request_kwargs=request,
                                                                     messages=messages)
                outcome = ("ok", picked.get("model_info", {}).get("id"), dict(picked))
            except Exception as exc:
                outcome = ("raised", type(exc).__name__, str(exc))
        out.append((outcome, random.getstate(), copy.deepcopy(request), _cache_snapshot(router)))
    return out


# ---- DualCache reads: no formatting of a value nobody prints -------------------

class _Loud:
    """A cached value whose formatting is seen."""

    def __init__(self, seen):
        self.seen = seen

    def __repr__(self):
        self.seen.append("repr")
        return "<loud>"


def _cache_reads(accelerated, value, verbose, capsys):
    import litellm._logging as logging_module
    from litellm.caching.dual_cache import DualCache

    cache = DualCache()
    cache.set_cache("k", value)
    saved = logging_module.set_verbose
    logging_module.set_verbose = verbose
    try:
        with _local_patch.accelerated(accelerated):
            got = (cache.get_cache("k"), asyncio.run(cache.async_get_cache("k")), cache.get_cache("missing"),
                   asyncio.run(cache.async_get_cache("missing", local_only=True)))
    finally:
        logging_module.set_verbose = saved
    return got, capsys.readouterr().out


@pytest.mark.parametrize("verbose", [False, True])
def test_dual_cache_reads_match(verbose, capsys):
    deep = [[[[1]]]]
    for value in ({"d1": {"latency_normalized": [0.1, float("nan")], "m": {"tpm": 1}}}, "text", 5, 10 ** 40,
                  (1, None, True), deep):
        stock = _cache_reads(False, copy.deepcopy(value), verbose, capsys)
        fast = _cache_reads(True, copy.deepcopy(value), verbose, capsys)
        assert _same(stock[0], fast[0]) and stock[1] == fast[1], value
    seen_stock, seen_fast = [], []
    stock = _cache_reads(False, _Loud(seen_stock), verbose, capsys)
    fast = _cache_reads(True, _Loud(seen_fast), verbose, capsys)
    assert seen_stock == seen_fast and seen_stock  # formatted as LiteLLM formats it
    assert stock[1] == fast[1]


@needs_native
def test_repr_is_plain():
    plain = NATIVE.router_repr_is_plain
    assert plain({"a": [1, 2.5, None, True, "x", (1,)]}) and plain("s") and plain(None)
    assert not plain(10 ** 30) and not plain([object()]) and not plain({1: _Loud([])})
    cyclic = []
    cyclic.append(cyclic)
    assert not plain(cyclic)
    nested = 1
    for _ in range(70):
        nested = [nested]
    assert not plain(nested)
    assert not plain(type("S", (str,), {})("x"))


def test_latency_pick_over_populated_maps_matches():
    """The native scan of a map the cache held: averages, ttft percentiles
    (incl. ones outside LiteLLM's validation: negative index, index error),
    NaN/negative/int/bool samples, usage this minute, limits, report."""
    from test_routing_litellm import _minute, _original

    import litellm.router_strategy.lowest_latency as module
    from litellm.caching.dual_cache import DualCache

    target = "litellm.router_strategy.lowest_latency:LowestLatencyLoggingHandler._get_available_deployments"
    original = _original(target)
    fast = strategy_fast.make_lowest_latency_pick(original)
    handler = module.LowestLatencyLoggingHandler(router_cache=DualCache())
    minute = _minute()
    gen = random.Random("populated")
    samples = [0.1, 0.2, 0.2, 1, 0, True, -1.0, float("nan"), float("inf"), 0.05, 3]
    compared = 0
    for trial in range(300):
        n = gen.randint(1, 12)
        healthy = [{"model_name": "g", "litellm_params": {"model": "m", "api_base": gen.choice(["a", "b", None])},
                    "model_info": {"id": "d%d" % i}} for i in range(n)]
        for d in healthy:
            if gen.random() < 0.2:
                d["litellm_params"][gen.choice(["tpm", "rpm"])] = gen.choice([1, 2, 100])
        counts = {}
        for d in healthy:
            entry = {"latency_normalized": [gen.choice(samples) for _ in range(gen.randint(0, 4))]}
            if gen.random() < 0.5:
                entry["time_to_first_token_seconds"] = [gen.choice(samples) for _ in range(gen.randint(0, 3))]
            if gen.random() < 0.5:
                entry[minute] = {"tpm": gen.choice([0, 1, 50]), "rpm": gen.choice([0, 1, 3])}
            counts[d["model_info"]["id"]] = entry
        handler.routing_args.ttft_percentile = gen.choice([None, None, 0.5, 0.01, 1.0, 0.99, -0.5, 3.0])
        request = gen.choice([None, {}, {"stream": True, "metadata": {}}, {"stream": True}, {"metadata": {}}])
        results = []
        for fn in (original, fast):
            random.seed(trial)
            req, cts = copy.deepcopy(request), copy.deepcopy(counts)
            with _local_patch.accelerated(True):
                try:
                    got = fn(handler, "g", healthy, None, None, req, cts)
                except Exception as exc:
                    got = (type(exc).__name__, str(exc))
            results.append((got, req, cts, random.getstate()))
        assert _same(results[0], results[1]), (trial, handler.routing_args.ttft_percentile, request)
        compared += 1
    handler.routing_args.ttft_percentile = None
    assert compared == 300


def test_latency_pick_runs_in_litellms_service_target(monkeypatch):
    """The latency pick's service target (``with_service_target(ROUTER_USAGE_TARGET)``,
    set inline while its module's bindings are LiteLLM's): the cache read sees
    it, it is reset after, and a ``service_target`` replaced after kept picks
    is the one that runs."""
    import asyncio
    import contextlib

    from litellm import _internal_context
    from litellm.redis.stores.router_usage import ROUTER_USAGE_TARGET

    targets = []
    for on in (False, True):
        router, core = _router_and_core("latency-based-routing", accelerated=on)
        selector = core._selectors.selector_for("latency-based-routing", "default", None, {})
        cache = selector.router_cache
        read = cache.async_get_cache

        async def spying(*args, **kwargs):
            targets.append((on, _internal_context.current_service_target()))
            return await read(*args, **kwargs)

        cache.async_get_cache = spying
        with _local_patch.accelerated(on), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(3):
                asyncio.run(router.async_get_available_deployment("g", {}))
                assert _internal_context.current_service_target() is None
    assert targets == [(False, ROUTER_USAGE_TARGET)] * 3 + [(True, ROUTER_USAGE_TARGET)] * 3

    entered = []
    stock_target = _internal_context.service_target

    @contextlib.contextmanager
    def counting(target):
        entered.append(target)
        with stock_target(target):
            yield

    monkeypatch.setattr(_internal_context, "service_target", counting)
    with _local_patch.accelerated(True), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        asyncio.run(router.async_get_available_deployment("g", {}))
    assert entered == [ROUTER_USAGE_TARGET] and targets[-1] == (True, ROUTER_USAGE_TARGET)
