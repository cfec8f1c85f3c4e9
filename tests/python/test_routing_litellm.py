"""Differential tests: LiteLLM 1.110.2's Router, stock vs accelerated by this
component's patches, in lockstep.

Two Routers are built from the same randomized model list (weights, rpm/tpm
limits, orders, wildcard deployments, cooldowns, usage and latency/cost
histories).  Every call runs on router A with the patches off and on
router B with them on, from the same seed of Python's random; the pick, any
exception (type and message), the random state afterwards, the routing
cache contents, the usage counters, the cooldowns and the request metadata
must all be equal.
"""
from __future__ import annotations

import asyncio
import copy
import datetime
import os
import random
import time
import warnings

import pytest
from _lockstep import routing_patches, same_minute  # noqa: E402

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
litellm = pytest.importorskip("litellm")

from fast_litellm.routing import _local_patch, litellm_fast, patches, strategy_fast  # noqa: E402

STRATEGIES = [
    "simple-shuffle",
    "least-busy",
    "latency-based-routing",
    "usage-based-routing-v2",
    "cost-based-routing",
]
PRICED_MODELS = ["gpt-4o-mini", "gpt-4o", "anthropic/claude-3-5-sonnet-20240620", "openai/gpt-4.1", "openai/made-up-model"]


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches(twins=True):
        yield


def _model_list(gen: random.Random, n: int):
    out = []
    for i in range(n):
        group = "wild/*" if gen.random() < 0.1 else gen.choice(["g", "g", "g", "h"])
        model = gen.choice(PRICED_MODELS) if group != "wild/*" else "openai/*"
        params = {"model": model, "api_key": "sk-test", "api_base": "https://b%d.example" % gen.randint(0, 3)}
        for key, choices in (
            ("weight", [1, 2, 5, 0.5]),
            ("rpm", [1, 2, 10, 1000]),
            ("tpm", [10, 1000, 100000]),
            ("order", [1, 2]),
            ("input_cost_per_token", [1e-6, 3e-6, 0]),
            ("output_cost_per_token", [2e-6, 1e-5]),
        ):
            if gen.random() < 0.25:
                params[key] = gen.choice(choices)
        out.append({"model_name": group, "litellm_params": params, "model_info": {"id": "d%d" % i}})
    return out


def _minute():
    now = datetime.datetime.now()
    return "%s-%s-%s" % (now.strftime("%Y-%m-%d"), now.strftime("%H"), now.strftime("%M"))


def _history(gen: random.Random, model_list, strategy):
    """A routing-cache history: latency or cost maps keyed by deployment id."""
    minute = _minute()
    state = {}
    ids = [d["model_info"]["id"] for d in model_list] + ["stale-id"]
    for ident in gen.sample(ids, gen.randint(0, len(ids))):
        entry = {minute: {"tpm": gen.choice([0, 5, 50000]), "rpm": gen.choice([0, 1, 3])}}
        if strategy == "latency-based-routing":
            entry["latency_normalized"] = [gen.choice([0.1, 0.2, 0.5, 1.0, float("nan"), -1.0])
                                           for _ in range(gen.randint(0, 4))]
            if gen.random() < 0.5:
                entry["time_to_first_token_seconds"] = [gen.choice([0.05, 0.1, 0.3]) for _ in range(3)]
        state[ident] = entry
    return state


def _build(model_list, strategy, args, accelerated=False):
    """``accelerated``: built with the patches on, as a process that imported
    fast_litellm builds it (its picks may then run on the twin handle)."""
    with warnings.catch_warnings(), _local_patch.accelerated(accelerated):
        warnings.simplefilter("ignore")
        return litellm.Router(model_list=copy.deepcopy(model_list), routing_strategy=strategy,
                              routing_strategy_args=args)


def _seed_state(router, gen_state, model_list, strategy, history, cooled, usage):
    core = router._core
    if history is None:
        pass  # nothing cached: the strategies start from an empty map
    elif strategy == "latency-based-routing":
        for group in ("g", "h"):
            core._cache.set_cache("%s_map" % group, copy.deepcopy(history))
    if strategy == "cost-based-routing":
        for group in ("g", "h"):
            core._cache.set_cache("cost_map:%s" % group, copy.deepcopy(history))
    for ident in cooled:
        core._cooldowns.add_deployment_to_cooldown(ident, Exception("rate limited"), 429, 600)
    minute = datetime.datetime.now(datetime.timezone.utc).strftime("%H-%M")
    for ident, model, tokens, requests in usage:
        core._usage.increment_deployment_sync(ident, model, minute, tokens, requests)


def _cache_snapshot(router):
    cache = router._core._cache.in_memory_cache.cache_dict
    return {k: copy.deepcopy(v) for k, v in cache.items()}


def _same(a, b):
    """Equality where NaN equals NaN (latency histories hold NaN samples)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _call(router, accelerated, seed, model, request, sync):
    random.seed(seed)
    with _local_patch.accelerated(accelerated):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if sync:
                    picked = router.get_available_deployment(model=model, request_kwargs=request)
                else:
                    picked = asyncio.run(router.async_get_available_deployment(model=model, request_kwargs=request))
            outcome = ("ok", picked.get("model_info", {}).get("id"), dict(picked))
        except Exception as exc:  # the exception itself is compared
            outcome = ("raised", type(exc).__name__, str(exc))
    return outcome, random.getstate()


async def _calls(router, accelerated, plan):
    out = []
    for seed, model, request in plan:
        random.seed(seed)
        with _local_patch.accelerated(accelerated):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    picked = await router.async_get_available_deployment(model=model, request_kwargs=request)
                outcome = ("ok", picked.get("model_info", {}).get("id"), dict(picked))
            except Exception as exc:
                outcome = ("raised", type(exc).__name__, str(exc))
        out.append((outcome, random.getstate(), copy.deepcopy(request), _cache_snapshot(router)))
    return out


def _stale_stamps(gen):
    """Metadata a previous routing attempt left: what the pre-routing hook
    clears (routing decision, baseline route, session affinity, consumed
    tags) and the client output ceiling it restores."""
    stamps = {}
    for key, value in (("routing_decision", {"router_model_name": "auto"}), ("_autorouter_baseline_route", "x"),
                       ("_session_deployment_affinity_ttl", 60), ("_consumed_request_tags", ["t"]),
                       ("_client_output_ceiling", {"max_tokens": 5, "max_output_tokens": "7"}),
                       ("model_group", "g")):
        if gen.random() < 0.4:
            stamps[key] = value
    return stamps


def _lockstep(strategy, trials, calls, sizes, seed):
    gen = random.Random("%s-%d" % (strategy, seed))
    compared = 0
    for trial in range(trials):
        model_list = _model_list(gen, gen.choice(sizes))
        history = _history(gen, model_list, strategy) if gen.random() < 0.7 else None
        ids = [d["model_info"]["id"] for d in model_list]
        cooled = gen.sample(ids, gen.randint(0, max(0, len(ids) // 3)))
        if gen.random() < 0.1:
            cooled = ids  # everything cooling: the router's error
        usage = [(i, gen.choice(PRICED_MODELS), gen.choice([10, 5000, 200000]), gen.choice([1, 5]))
                 for i in gen.sample(ids, gen.randint(0, len(ids)))]
        args = {"lowest_latency_buffer": gen.choice([0, 0.1, 0.5])} if strategy == "latency-based-routing" else {}
        a = _build(model_list, strategy, args)
        b = _build(model_list, strategy, args, accelerated=True)
        for router in (a, b):
            _seed_state(router, None, model_list, strategy, history, cooled, usage)
        plan = []
        for _ in range(calls):
            model = gen.choice(["g"] * 8 + ["h", "h", "wild/x", "openai/zzz", "nope"])
            request = {}
            if gen.random() < 0.5:
                request["metadata"] = {}
                if gen.random() < 0.3:  # team ids: the start fields' fast path reads them
                    request["metadata"]["user_api_key_team_id"] = gen.choice(["t1", ""])
                if gen.random() < 0.3:  # stamps the pre-routing hook clears or restores
                    request["metadata"].update(_stale_stamps(gen))
            if gen.random() < 0.1:
                request["litellm_metadata"] = _stale_stamps(gen)
            if gen.random() < 0.1:
                request["max_tokens"] = gen.choice([10, 1000])
            if gen.random() < 0.3:
                request["stream"] = gen.choice([True, False])
            if gen.random() < 0.2:
                request["num_retries"] = gen.choice([0, 2, -1])
            if gen.random() < 0.05:
                request["fallbacks"] = gen.choice([["h"], "h"])  # declined by the start fields' fast path
            plan.append((gen.random(), model, request))
        plan_a = copy.deepcopy(plan)
        plan_b = copy.deepcopy(plan)
        same_minute()  # both sides in one wall-clock minute
        stock = asyncio.run(_calls(a, False, plan_a))
        fast = asyncio.run(_calls(b, True, plan_b))
        for i, (s, f) in enumerate(zip(stock, fast)):
            assert _same(s[0], f[0]), (strategy, trial, i, s[0], f[0])
            assert s[1] == f[1], (strategy, trial, i, "random state differs")
            assert _same(s[2], f[2]), (strategy, trial, i, "request metadata differs", s[2], f[2])
            assert _same(s[3], f[3]), (strategy, trial, i, "routing cache differs")
            compared += 1
        # sync picks (cost-based routing has none)
        if strategy != "cost-based-routing":
            for seed_, model, request in plan[:10]:
                same_minute()  # both sides in one wall-clock minute
                sa = _call(a, False, seed_, model, copy.deepcopy(request), True)
                sb = _call(b, True, seed_, model, copy.deepcopy(request), True)
                assert _same(sa[0], sb[0]) and sa[1] == sb[1], (strategy, trial, "sync", sa[0], sb[0])
                compared += 1
        assert a._core._usage.snapshot() == b._core._usage.snapshot()
        assert sorted(i for i, _ in a._core._cooldowns.get_active_cooldowns(ids, None)) == sorted(
            i for i, _ in b._core._cooldowns.get_active_cooldowns(ids, None))
    return compared


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_lockstep_small_groups(strategy):
    assert _lockstep(strategy, trials=8, calls=60, sizes=[1, 2, 3, 5, 8, 13], seed=1) > 400


@pytest.mark.parametrize("strategy", ["latency-based-routing", "cost-based-routing"])
def test_lockstep_larger_groups(strategy):
    assert _lockstep(strategy, trials=3, calls=40, sizes=[40, 90], seed=2) > 100


@pytest.mark.parametrize("strategy", ["least-busy", "latency-based-routing", "cost-based-routing"])
def test_lockstep_across_model_list_changes(strategy):
    """Candidate records are cached per registry version: changing the
    model list (set_model_list, upsert) must be seen at once."""
    gen = random.Random("changes-%s" % strategy)
    first = _model_list(gen, 12)
    a = _build(first, strategy, {})
    b = _build(first, strategy, {}, accelerated=True)
    for step in range(6):
        plan = [(gen.random(), gen.choice(["g", "h"]), {"metadata": {}}) for _ in range(15)]
        same_minute()  # both sides in one wall-clock minute
        stock = asyncio.run(_calls(a, False, copy.deepcopy(plan)))
        fast = asyncio.run(_calls(b, True, copy.deepcopy(plan)))
        for s, f in zip(stock, fast):
            assert _same(s[0], f[0]) and s[1] == f[1] and _same(s[3], f[3]), (strategy, step, s[0], f[0])
        changed = _model_list(gen, gen.randint(3, 14))
        for d in changed:
            d["litellm_params"]["rpm"] = gen.choice([1, 50, 1000])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for router in (a, b):
                if step % 2:
                    router.set_model_list(copy.deepcopy(changed))
                else:
                    router.upsert_deployment(litellm.types.router.Deployment(**copy.deepcopy(changed[0])))


def test_cost_pick_with_the_debug_log_on_logs_from_litellm():
    """With the router's debug log on, LiteLLM's cost loop logs a record per
    candidate; the accelerated pick's Python loop logged the same text from
    strategy_fast.py (file, line and function differed).  It now runs
    LiteLLM's code there: every record is LiteLLM's own."""
    import logging

    from litellm.router_strategy import lowest_cost

    logger = lowest_cost.verbose_router_logger
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append((record.name, record.levelno, record.pathname, record.lineno, record.funcName,
                            record.getMessage()))

    handler = Keep()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        gen = random.Random("cost-debug")
        model_list = _model_list(gen, 6)
        history = _history(gen, model_list, "cost-based-routing")
        a = _build(model_list, "cost-based-routing", {})
        b = _build(model_list, "cost-based-routing", {}, accelerated=True)
        for router in (a, b):
            _seed_state(router, None, model_list, "cost-based-routing", history, [], [])
        plan = [(gen.random(), gen.choice(["g", "h"]), {"metadata": {}}) for _ in range(6)]
        logged = []
        for router, accelerated in ((a, False), (b, True)):
            del records[:]
            same_minute()
            outcomes = asyncio.run(_calls(router, accelerated, copy.deepcopy(plan)))
            logged.append(([o[0] for o in outcomes], list(records)))
        assert _same(logged[0][0], logged[1][0])
        assert any("item_cost" in r[-1] for r in logged[0][1])
        assert logged[0][1] == logged[1][1]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


# ---- the fast functions on their own, beside LiteLLM's ---------------------

def _strategy_handlers():
    from litellm.caching.dual_cache import DualCache
    from litellm.router_strategy.lowest_cost import LowestCostLoggingHandler
    from litellm.router_strategy.lowest_latency import LowestLatencyLoggingHandler

    return LowestLatencyLoggingHandler(router_cache=DualCache()), LowestCostLoggingHandler(router_cache=DualCache())


def _original(target):
    owner, name = _local_patch._owner(target)
    return _local_patch._original_of(owner, name)


def test_latency_pick_unusual_inputs_match():
    """Duplicate ids (the last wins), non-str cache keys, limits on the
    deployment top level and in model_info, stream/ttft percentile."""
    target = patches.PATCHES[0].target
    original = _original(target)
    fast = strategy_fast.make_lowest_latency_pick(original)
    latency, _ = _strategy_handlers()
    minute = _minute()
    healthy = [
        {"model_name": "g", "litellm_params": {"model": "x", "api_base": "a"}, "model_info": {"id": "1"}},
        {"model_name": "g", "litellm_params": {"model": "y", "api_base": None}, "model_info": {"id": "1"}},
        {"model_name": "g", "litellm_params": {"model": "z"}, "model_info": {"id": "2", "rpm": 1}, "tpm": 5},
        {"model_name": "g", "litellm_params": {"model": "w", "api_base": "c"}, "model_info": {"id": "3"}},
    ]
    counts = {
        "1": {"latency_normalized": [0.2], "time_to_first_token_seconds": [0.1, 0.3]},
        2: {"latency_normalized": [0.0]},
        "2": {minute: {"rpm": 1, "tpm": 0}},
        "3": {"latency_normalized": [float("inf")], minute: {"tpm": 3}},
    }
    for ttft in (None, 0.5):
        latency.routing_args.ttft_percentile = ttft
        for request in (None, {}, {"stream": True, "metadata": {}}, {"litellm_metadata": {}, "stream": False}):
            results = []
            for fn in (original, fast):
                random.seed(4)
                req = copy.deepcopy(request)
                cts = copy.deepcopy(counts)
                try:
                    got = fn(latency, "g", healthy, [{"role": "user", "content": "hi"}], None, req, cts)
                except Exception as exc:
                    got = (type(exc), str(exc))
                results.append((got, req, cts, random.getstate()))
            assert _same(results[0], results[1])


def test_fast_paths_decline_unusual_shapes():
    from fast_litellm.patching.registry import NotAccelerated

    latency, cost = _strategy_handlers()
    fast = strategy_fast.make_lowest_latency_pick(_original(patches.PATCHES[0].target))
    with pytest.raises(NotAccelerated):
        fast(latency, "g", [{"model_info": {"id": 1}}], request_count_dict={})
    with pytest.raises(NotAccelerated):
        fast(latency, "g", ({"model_info": {"id": "1"}},), request_count_dict={})
    with pytest.raises(NotAccelerated):
        fast(latency, "g", [], request_kwargs=[], request_count_dict={})
    ids = litellm_fast.make_cooldown_ids(_original(patches.PATCHES[5].target))
    with pytest.raises(NotAccelerated):
        ids(["deployment:a:cooldown", 5])


def test_cooldown_ids_match():
    original = _original(patches.PATCHES[5].target)
    fast = litellm_fast.make_cooldown_ids(original)
    cases = [
        [], ["deployment:a:cooldown"], ["deployment::cooldown", "deployment:b:c:cooldown"],
        ["deployment:cooldown"], ["deployment:a:cooldown", "deployment:a:allowed_fails"],
        ["global_router:a:m:tpm:10-01"], ["deployment:a:cooldown:x"], ("deployment:z:cooldown",),
        ["deployment:" + ":cooldown" * 3],
    ]
    for keys in cases:
        assert fast(keys) == original(keys), keys
    gen = random.Random("cooldown-ids")
    parts = ["deployment:", ":cooldown", ":", "d1", "ü", "\ud800", "模型", "deployment", "cooldown", "", ":allowed_fails"]
    for _ in range(2000):
        keys = ["".join(gen.choice(parts) for _ in range(gen.randint(0, 4))) for _ in range(gen.randint(0, 4))]
        if gen.random() < 0.5:
            keys = ["deployment:%s:cooldown" % k for k in keys]
        keys = tuple(keys) if gen.random() < 0.3 else keys
        assert fast(keys) == original(keys), keys


def test_cost_rates_match_litellm():
    from litellm.router_strategy import lowest_cost

    memo = {}
    for deployment in [
        {"litellm_params": {"model": "gpt-4o-mini"}},
        {"litellm_params": {"model": "gpt-4o-mini", "base_model": "gpt-4o"}},
        {"litellm_params": {"model": "nope"}, "model_info": {"base_model": "claude-3-5-sonnet-20240620"}},
        {"litellm_params": {"model": "nope"}, "model_info": None},
        {"litellm_params": {"model": ""}},
        {"litellm_params": {"model": 5}},
        {"litellm_params": None},
        {"litellm_params": {1: "x", "model": "gpt-4o"}},
        {"litellm_params": {"model": "gpt-4o"}, "model_info": {"base_model": ""}},
    ]:
        assert litellm_fast._cost_map_rates(lowest_cost, lowest_cost._cost_map(), deployment, memo) == (
            lowest_cost._deployment_cost_map_rates(deployment)
        ), deployment


def test_pins_cover_every_patch():
    from fast_litellm.patching import pins

    hashes = _local_patch.source_hashes()
    for patch in patches.PATCHES:
        assert pins.VERIFIED.get(patch.target) == hashes[patch.target], patch.target


def test_record_copy_is_a_fresh_read():
    from fast_litellm import _native_loader

    if _native_loader.NATIVE is None:
        pytest.skip("native core not built")
    copy_ = _native_loader.NATIVE.router_json_copy
    record = {"model_name": "g", "litellm_params": {"model": "x", "tags": ["a", {"b": 1.5}], "n": None},
              "model_info": {"id": "1", "flag": True}}
    got = copy_(record)
    assert got == record and got is not record
    assert got["litellm_params"] is not record["litellm_params"]
    assert got["litellm_params"]["tags"] is not record["litellm_params"]["tags"]
    assert got["litellm_params"]["tags"][1] is not record["litellm_params"]["tags"][1]
    for bad in ({"x": (1,)}, {"x": object()}, [set()]):
        with pytest.raises(TypeError):
            copy_(bad)
    deep = []
    for _ in range(100000):
        deep = [deep]
    with pytest.raises(RecursionError):
        copy_(deep)


class _FakeHandle:
    """A registry whose version moves while records are read."""

    def __init__(self, records, bump_after=None):
        self.records = records
        self.version = 1
        self.reads = 0
        self.bump_after = bump_after

    def registry_version(self):
        return self.version

    def deployment(self, ident):
        self.reads += 1
        if self.bump_after is not None and self.reads == self.bump_after:
            self.version += 1
            self.records = {k: dict(v, model_name="new") for k, v in self.records.items()}
        record = self.records.get(ident)
        return copy.deepcopy(record) if record is not None else None


class _FakeSelectors:
    def selector_for(self, strategy, scope, group, request):
        return ("selector", strategy, scope, group)


class _FakeCore:
    def __init__(self, handle):
        self._handle = handle
        self._selectors = _FakeSelectors()


def test_strategy_inputs_follow_the_registry_version():
    original = _original("litellm.router_rust.core:RustCore._strategy_inputs")
    fast = strategy_fast.make_strategy_inputs(original)
    records = {str(i): {"model_name": "g", "litellm_params": {"model": "m%d" % i}, "model_info": {"id": str(i)}}
               for i in range(5)}
    step = {"stage": "strategy", "strategy": "least-busy", "scope": "router", "group": None, "model": "g",
            "candidates": ["0", "1", "missing", "3", "1"]}
    stock_core = _FakeCore(_FakeHandle(copy.deepcopy(records)))
    fast_core = _FakeCore(_FakeHandle(copy.deepcopy(records)))
    for _ in range(3):
        assert fast(fast_core, dict(step), {}) == original(stock_core, dict(step), {})
    # the registry changes while the records are read: LiteLLM's reads are
    # torn then (some old, some new); ours are all new, which is what LiteLLM
    # returns when the change lands just before its first read
    for bump in (2, 4):
        fast_core = _FakeCore(_FakeHandle(copy.deepcopy(records), bump))
        stock_core = _FakeCore(_FakeHandle(copy.deepcopy(records), 1))
        assert fast(fast_core, dict(step), {}) == original(stock_core, dict(step), {})
    # cached: a second pick reads nothing new from an unchanged registry
    core = _FakeCore(_FakeHandle(copy.deepcopy(records)))
    fast(core, dict(step), {})
    reads = core._handle.reads
    first = fast(core, dict(step), {})
    assert core._handle.reads == reads
    first[3][0]["litellm_params"]["model"] = "mutated"  # a copy: the cache is untouched
    assert fast(core, dict(step), {})[3][0]["litellm_params"]["model"] == "m0"
    # a new version is read afresh
    core._handle.version += 1
    core._handle.records["0"]["litellm_params"]["model"] = "changed"
    assert fast(core, dict(step), {})[3][0]["litellm_params"]["model"] == "changed"
    assert fast(core, {"stage": "tags"}, {}) is None


def test_the_stock_side_is_litellms_own_code():
    """After `import fast_litellm` the engine may have patched the targets;
    the differential tests must still compare against LiteLLM's functions."""
    import fast_litellm

    from fast_litellm.patching import registry

    fast_litellm.apply_acceleration()
    for patch in patches.PATCHES:
        owner, name = _local_patch._owner(patch.target)
        # whatever is installed and carries our marks names itself, so that the
        # original is found behind it however the tests ran before (session 22:
        # the native Router.__getattribute__ did not, and passed in the full run
        # only because an earlier module's patches had recorded the original)
        current = getattr(owner, name)
        if hasattr(current, "__fast_litellm_patch__"):
            assert registry.original_if_ours(current) is not None, patch.target
        original = _local_patch._original_of(owner, name)
        assert not hasattr(original, "__fast_litellm_patch__"), patch.target
        assert original.__module__.startswith("litellm"), (patch.target, original.__module__)


def _patch_named(name):
    return next(p for p in patches.PATCHES if p.name == name)


def _json_value(gen, depth=0):
    """Random JSON-ish data, with the shapes the codec changes (tuples,
    NaN/infinities, -0.0) and, now and then, ones the fast copy declines."""
    kinds = ["none", "bool", "int", "float", "special", "str"] + (["dict", "list", "tuple"] * 2 if depth < 4 else [])
    kind = gen.choice(kinds)
    if kind == "none":
        return None
    if kind == "bool":
        return gen.random() < 0.5
    if kind == "int":
        return gen.choice([0, 1, -7, 2 ** 63 - 1, -(2 ** 63), 2 ** 63, 10 ** 30, True])
    if kind == "float":
        return gen.choice([0.0, -0.0, 1.5, 1e300, 5e-324, 0.1 + 0.2])
    if kind == "special":
        return gen.choice([float("nan"), float("inf"), float("-inf"), -float("nan")])
    if kind == "str":
        return gen.choice(["", "a", "ü", "\ud800", "x\"y", "\n"])
    if kind == "dict":
        keys = ["a", "b", "model_info", "ü"]
        if gen.random() < 0.05:
            keys.append(gen.choice([1, 2.5, None, True]))  # the codec stringifies these: declined
        return {k: _json_value(gen, depth + 1) for k in gen.sample(keys, gen.randint(0, len(keys)))}
    items = [_json_value(gen, depth + 1) for _ in range(gen.randint(0, 4))]
    return items if kind == "list" else tuple(items)


def test_plain_json_matches_the_codec():
    """_plain's fast copy gives what json.loads(json.dumps(...)) gives (fresh
    containers, tuples as lists, json.decoder's NaN/infinity objects), and
    declines what only the codec can answer."""
    import datetime
    import json.decoder

    from fast_litellm._native_loader import NATIVE
    from fast_litellm.patching.registry import NotAccelerated

    if NATIVE is None:
        pytest.skip("native core not built")
    original = _original(_patch_named("routing.plain_json").target)
    fast = litellm_fast.make_plain(original)

    def through_fast(value):
        try:
            return fast(value), True
        except NotAccelerated:
            return original(value), False

    def same_shape(a, b):
        if isinstance(a, float) and a != a:
            return b is a  # json.decoder.NaN itself
        if isinstance(a, float) and a in (float("inf"), float("-inf")):
            return b is a
        if type(a) is not type(b):
            return False
        if isinstance(a, dict):
            return list(a) == list(b) and all(same_shape(a[k], b[k]) for k in a)
        if isinstance(a, list):
            return len(a) == len(b) and all(same_shape(x, y) for x, y in zip(a, b))
        return a == b and (not isinstance(a, float) or str(a) == str(b))

    gen = random.Random("plain")
    taken = 0
    for _ in range(3000):
        value = _json_value(gen)
        expected = original(copy.deepcopy(value))
        got, accelerated = through_fast(value)
        taken += accelerated
        assert same_shape(expected, got), (value, expected, got)
        if isinstance(value, (dict, list, tuple)):
            assert got is not value
    assert taken > 2000
    cyclic = []
    cyclic.append(cyclic)
    deep = []
    for _ in range(3000):
        deep = [deep]
    declined = [{1: "a"}, datetime.date(2024, 1, 2), {"a": {1, 2}}, 10 ** 5000, cyclic,
                type("S", (str,), {})("s"), type("D", (dict,), {})(a=1), b"bytes"]
    for value in declined:
        with pytest.raises(NotAccelerated):
            fast(value)
    # 3,000 levels: past the codec's recursion budget up to Python 3.12 (then
    # declined), within it from 3.13 on (C recursion has its own, larger
    # limit there): either way the fast path answers only what the codec does
    try:
        stock_deep = original(deep)
    except RecursionError:
        with pytest.raises(NotAccelerated):
            fast(deep)
    else:
        got, _ = through_fast(deep)
        assert got is not deep and json.dumps(got) == json.dumps(stock_deep)  # (same_shape would recurse 3,000 deep)
    assert fast(float("nan")) is json.decoder.NaN


def test_plain_json_near_the_recursion_limit():
    """json's codec starts a few frames deeper than the native copy and takes
    one recursion level per container as it does, so with the caller near
    the recursion limit it raised RecursionError where the copy finished (a
    3-frame window at every nesting depth).  Declined there, so whatever the
    caller's depth, a copy the fast path makes is one the codec makes too."""
    import gc
    import sys

    from fast_litellm._native_loader import NATIVE
    from fast_litellm.patching.registry import NotAccelerated

    if NATIVE is None:
        pytest.skip("native core not built")
    original = _original(_patch_named("routing.plain_json").target)
    fast = litellm_fast.make_plain(original)

    def outcome(fn, value):
        try:
            fn(value)
            return "ok"
        except NotAccelerated:
            return "declined"
        except RecursionError:
            return "RecursionError"

    def at_depth(n, fn, value):
        return at_depth(n - 1, fn, value) if n > 0 else outcome(fn, value)

    here, frame = 0, sys._getframe()
    while frame is not None:
        here, frame = here + 1, frame.f_back
    limit = sys.getrecursionlimit()
    seen = set()
    # the collector off near the limit: garbage other tests left (their finalizers'
    # warnings go to pytest's unraisable hook) is collected here, not deep down
    gc.collect()
    gc.disable()
    try:
        for levels in (1, 10, 40, 200):
            value = 1
            for _ in range(levels):
                value = [value, {"k": value}] if levels < 20 else [value]
            for depth in range(max(here + 1, limit - levels - 90), limit - levels):
                try:
                    stock, got = at_depth(depth - here, original, value), at_depth(depth - here, fast, value)
                except RecursionError:  # the descent itself (pytest's C frames count too)
                    continue
                assert got == "declined" or got == stock, (levels, depth, stock, got)
                seen.add(stock)
    finally:
        gc.enable()
    assert seen == {"ok", "RecursionError"}  # the sweeps cross the codec's limit


def _pick_error(router, accelerated, model):
    with _local_patch.accelerated(accelerated), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            picked = asyncio.run(router.async_get_available_deployment(model=model, request_kwargs={}))
            return ("ok", picked["model_info"]["id"])
        except Exception as exc:
            context = exc.__context__
            return (type(exc).__name__, str(exc), type(context).__name__, str(context),
                    type(getattr(context, "__context__", None)).__name__)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_usage_read_scope_keeps_the_error_context(strategy):
    """The deployment-list read the scope skips (unless the pick is
    usage-based-routing-v2) raises for an alias item without ``hidden``;
    LiteLLM's scope swallows it, but a failed pick carries it as its
    ``__context__``: so must ours, and picks that succeed must match."""
    model_list = [{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"},
                   "model_info": {"id": "d%d" % i}} for i in range(3)]
    outcomes = []
    same_minute()  # both sides in one wall-clock minute
    for accelerated in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            router = litellm.Router(model_list=copy.deepcopy(model_list), routing_strategy=strategy,
                                    model_group_alias={"broken": {"model": "g"}, "fine": "g"})
        seen = []
        for model in ("broken", "fine", "g"):
            random.seed(3)
            seen.append(_pick_error(router, accelerated, model))
        for i in range(3):
            router._core._cooldowns.add_deployment_to_cooldown("d%d" % i, Exception("rate limited"), 429, 600)
        for model in ("broken", "fine", "g", "missing"):
            seen.append(_pick_error(router, accelerated, model))
        outcomes.append(seen)
    assert outcomes[0] == outcomes[1]
    assert any(o[2] == "KeyError" for o in outcomes[0] if o[0] != "ok")  # the case was exercised


def _policy_outcome(router, accelerated, request):
    core = router._core
    with _local_patch.accelerated(accelerated), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = []
        for read in (lambda r: core._routing_fields(r), lambda r: core.stream_policy(dict(r, model="g"), {}, None),
                     lambda r: asyncio.run(router.async_get_available_deployment(model="g", request_kwargs=r))):
            random.seed(5)
            try:
                got = read(copy.deepcopy(request))
                out.append(("ok", got if not isinstance(got, dict) or "model_info" not in got
                            else got["model_info"]["id"]))
            except Exception as exc:
                out.append(("raised", type(exc).__name__, str(exc)))
        return out


def test_group_policy_fields_match():
    """Retry-policy fields with and without policies on the router or the
    request, with fallbacks and with request fields that fail validation."""
    model_list = [{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"},
                   "model_info": {"id": "d%d" % i}} for i in range(3)]
    policy = {"TimeoutErrorRetries": 2}
    routers = [None, {}, {"g": policy}, {"g": None}]
    requests = [
        {}, {"metadata": {"user_api_key_team_id": "t"}}, {"fallbacks": [{"g": ["h"]}]},
        {"model_group_retry_policy": {"g": policy}}, {"model_group_retry_policy": None},
        {"model_group_retry_policy": {}}, {"max_fallbacks": -1}, {"fallbacks": 5},
        {"context_window_fallbacks": ["g"], "num_retries": 2},
    ]
    compared = 0
    for setting in routers:
        built = []
        for _ in range(2):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kwargs = {} if setting is None else {"model_group_retry_policy": copy.deepcopy(setting)}
                built.append(litellm.Router(model_list=copy.deepcopy(model_list), fallbacks=[{"g": ["g"]}],
                                            **kwargs))
        for request in requests:
            stock = _policy_outcome(built[0], False, request)
            fast = _policy_outcome(built[1], True, request)
            assert stock == fast, (setting, request, stock, fast)
            compared += 1
    assert compared == len(routers) * len(requests)


class _RecordingHandle:
    """The cooldown store's native handle, recording the service target
    each read runs under.

    Unlike the router-core handle (``test_routing_protocol._RecordingHandle``)
    it need not pass for the native class: LiteLLM 1.110.2 checks nothing of
    the cooldown store's handle's type (``RouterCooldownStore`` and its
    callers only call its methods).  Our fast read does (``type(handle) is
    NativeRouterCooldowns`` before it may skip a read of an empty memory), so
    over this wrapper every pick reads, as LiteLLM's does, and the reads are
    compared; the skip has its own tests, which rebind the native type."""

    def __init__(self, handle, seen):
        self._handle = handle
        self._seen = seen

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def active_sync(self, model_ids):
        from litellm._internal_context import current_service_target

        self._seen.append(("active_sync", current_service_target(), tuple(model_ids)))
        return self._handle.active_sync(model_ids)


def _record_cooldown_reads(router):
    """Record ``router``'s cooldown-store reads (what, under which service
    target, which ids) and the answers its cache steps give the Rust core
    (op, type, the answer with cooling timestamps masked, service target):
    the two lists, filled as the router picks."""
    from litellm._internal_context import current_service_target

    store = router._core._cooldowns.cooldown_store
    seen = []
    object.__setattr__(store, "_handle", _RecordingHandle(store._handle, seen))
    original = router._core._answer_cache
    answers = []

    async def recording(step):
        answer = await original(step)
        shown = [dict(a, timestamp="(when cooled)") if isinstance(a, dict) and "timestamp" in a else a
                 for a in answer] if isinstance(answer, list) else answer
        answers.append((step.get("op"), type(answer), shown, current_service_target()))
        return answer

    router._core.__dict__["_answer_cache"] = recording
    return seen, answers


def test_cooldown_batch_read_matches():
    """The pick's cooldown read: same store read under the same service
    target, same answer to the Rust core (cooling and not), and the fast
    path is the one taken."""
    model_list = [{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"},
                   "model_info": {"id": "d%d" % i}} for i in range(6)]
    runs = []
    same_minute()  # both sides in one wall-clock minute
    for accelerated in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            router = litellm.Router(model_list=copy.deepcopy(model_list))
        seen, answers = _record_cooldown_reads(router)
        outcomes = []
        for cooled in ([], ["d1"], ["d0", "d2", "d3"], ["d%d" % i for i in range(6)]):
            for ident in cooled:
                router._core._cooldowns.add_deployment_to_cooldown(ident, Exception("rate limited"), 429, 600)
            for seed in range(3):
                random.seed(seed)
                outcomes.append((_pick_error(router, accelerated, "g"), random.getstate()))
        runs.append((outcomes, answers, seen))
    assert runs[0][0] == runs[1][0]
    for x, y in zip(runs[0][1], runs[1][1]):
        assert _same(x, y), (x, y)
    assert len(runs[0][1]) == len(runs[1][1])
    assert runs[0][2] == runs[1][2] and runs[0][2]
    assert all(target == "router_cooldowns" for _, target, _ in runs[1][2]), runs[1][2]

    # and the fast function answers it itself (no hand-back to LiteLLM's)
    from fast_litellm.patching.registry import NotAccelerated

    fast = litellm_fast.make_answer_cache(_original(_patch_named("routing.cooldown_batch_read").target))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=copy.deepcopy(model_list))
    step = {"kind": "cache", "op": "batch_get", "key": None, "keys": ["deployment:d0:cooldown"], "value": None,
            "ttl": None, "local": False, "events": []}
    with _local_patch.accelerated(True):
        assert asyncio.run(fast(router._core, step)) == [None]
        for declined in (dict(step, op="get"), dict(step, key="x"), dict(step, local=True),
                         dict(step, keys=["global_router:d0:m:tpm:10-01"])):
            with pytest.raises(NotAccelerated):
                asyncio.run(fast(router._core, declined))


def test_cooldown_read_skipped_only_when_memory_holds_nothing_live(monkeypatch):
    """With nothing live in the cooldown store's memory (its ``snapshot()``
    empty), once a read has returned in this process, the pick's cooldown
    read is not made and the answer is a None per key; a live entry (cooling, or ended but not yet corrected) sends the
    pick through LiteLLM's native read.  A TTL-expired entry is not live: the
    read is skipped, and both routers then agree on every pick, every
    snapshot and every later read (the entry LiteLLM's read would have
    dropped is dropped by the next write's eviction, unseen)."""
    import litellm.rust_bridge._native as native

    model_list = [{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"},
                   "model_info": {"id": "d%d" % i}} for i in range(6)]
    # the fast read built against the recording handle as "the native type"
    monkeypatch.setattr(native, "NativeRouterCooldowns", _RecordingHandle)
    fast = litellm_fast.make_answer_cache(_original(_patch_named("routing.cooldown_batch_read").target))
    monkeypatch.undo()
    monkeypatch.setattr(litellm_fast, "BUSY_RECHECK_SECONDS", 0.0)  # memory looked at on every pick
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=copy.deepcopy(model_list))
    store = router._core._cooldowns.cooldown_store
    seen = []
    object.__setattr__(store, "_handle", _RecordingHandle(store._handle, seen))
    step = {"kind": "cache", "op": "batch_get", "key": None, "keys": ["deployment:d%d:cooldown" % i for i in range(6)],
            "value": None, "ttl": None, "local": False, "events": []}
    every_id = tuple("d%d" % i for i in range(6))
    with _local_patch.accelerated(True):
        # the first read in this process is made (it is LiteLLM's fork gate too)
        assert asyncio.run(fast(router._core, step)) == [None] * 6
        assert [ids for _, _, ids in seen] == [every_id]
        assert asyncio.run(fast(router._core, step)) == [None] * 6
        assert len(seen) == 1
        router._core._cooldowns.add_deployment_to_cooldown("d1", Exception("rate limited"), 429, 0.05)
        answer = asyncio.run(fast(router._core, step))
        assert [a is None for a in answer] == [True, False, True, True, True, True]
        assert [ids for _, _, ids in seen] == [every_id] * 2
        time.sleep(0.12)  # d1's TTL has passed: in memory, but not live
        assert asyncio.run(fast(router._core, step)) == [None] * 6
        assert len(seen) == 2

    # stock and accelerated side by side through an expired entry
    same_minute()
    runs = []
    for accelerated in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            router = litellm.Router(model_list=copy.deepcopy(model_list))
        cooldowns = router._core._cooldowns
        outcomes = []
        for action in ("pick", ("d1", 0.05), "wait", "pick", ("d2", 600), "pick", ("d1", 600), "pick"):
            if action == "wait":
                time.sleep(0.12)
            elif action != "pick":
                cooldowns.add_deployment_to_cooldown(action[0], Exception("rate limited"), 429, action[1])
            for seed in range(3):
                random.seed(seed)
                outcomes.append((_pick_error(router, accelerated, "g"), random.getstate()))
            outcomes.append(sorted(cooldowns.cooldown_store.snapshot()))
        runs.append(outcomes)
    assert runs[0] == runs[1]


_FORK_GATE_SCRIPT = r"""
import asyncio, copy, json, os, random, sys, warnings
warnings.simplefilter("ignore")
import litellm
from fast_litellm.routing import _local_patch
from litellm.rust_bridge.fork_guard import reserve_process_for_forking

_local_patch.install()
model_list = [{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"},
               "model_info": {"id": "d%d" % i}} for i in range(3)]
router = litellm.Router(model_list=copy.deepcopy(model_list))  # builds without starting the runtime


def pick(accelerated):
    random.seed(1)
    with _local_patch.accelerated(accelerated):
        try:
            picked = asyncio.run(router.async_get_available_deployment(model="g", request_kwargs={}))
            return ["ok", picked["model_info"]["id"]]
        except Exception as exc:
            return [type(exc).__name__, str(exc)]


def reserve():
    try:
        reserve_process_for_forking("the test")
        return "reserved"
    except Exception as exc:
        return type(exc).__name__


# os.fork, or libc's fork() through ctypes (no Python at-fork handler runs: the skip's
# fork generation is bumped by a pthread_atfork handler, which libc runs either way)
FORK = os.fork if sys.argv[1] == "os" else __import__("ctypes").CDLL(None).fork


def in_child(run):
    read, write = os.pipe()
    pid = FORK()
    if pid == 0:
        os.write(write, json.dumps(run()).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as answer:
        return json.loads(answer.read())


def scenario(accelerated):
    # each side in its own child of this process, none of which started the runtime
    reserved_first = in_child(lambda: [reserve(), pick(accelerated)])
    picked = pick(accelerated)
    return [reserved_first, picked, reserve(), in_child(lambda: pick(accelerated))]


print("RESULT " + json.dumps([in_child(lambda: scenario(False)), in_child(lambda: scenario(True))]))
"""


@pytest.mark.parametrize("fork", ["os", "libc"])
def test_cooldown_read_skip_keeps_the_fork_gate(fork):
    """LiteLLM's native cooldown read is also its fork gate: its first call
    in a process starts the native runtime there.  An async pick in a process
    reserved for forking raises ``ProcessReservedForForking``; after a pick,
    ``reserve_process_for_forking`` raises, and a child forked then raises
    ``ForkedAfterNativeRuntimeStarted`` on its first pick.  The skipped read
    (nothing live in memory) hid all three: the accelerated pick went through,
    the reservation succeeded and the child picked.  Run in a fresh
    interpreter: this one has started the runtime long ago.  Session 20: the
    skip's "a read returned in this process" is the fork generation
    (``router_fork_generation``, pthread_atfork), not ``os.getpid()``; ``libc``
    forks through ctypes, which runs no Python at-fork handler (so a
    ``register_at_fork`` reset would miss it)."""
    import json
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, "-c", _FORK_GATE_SCRIPT, fork], capture_output=True, text=True,
                          timeout=300, env=env)
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    assert line, proc.stderr[-3000:]
    stock, fast = json.loads(line[-1][7:])
    assert stock[0][1][0] == "ProcessReservedForForking" and stock[2] == "NativeStateStartedBeforeFork"
    assert stock[3][0] == "ForkedAfterNativeRuntimeStarted"
    assert fast == stock


class _SnapshotCountingHandle(_RecordingHandle):
    """The recording handle, counting the memory snapshots taken too."""

    def __init__(self, handle, seen):
        super().__init__(handle, seen)
        self.snapshots = 0

    def snapshot(self):
        self.snapshots += 1
        return self._handle.snapshot()


def test_cooldown_read_looks_at_a_busy_memory_once_a_while(monkeypatch):
    """``snapshot()`` copies every live entry out: with the memory tier full
    (200 entries) it cost ~120 us a pick, more than the read it saves (a
    10-deployment pick went from 2.96x to 0.97x of stock with 200 cooldowns
    live).  Once a store's memory is found busy, its picks read directly for
    ``BUSY_RECHECK_SECONDS`` before looking again; answers are the read's
    throughout, and an emptied memory is skipped again after the recheck."""
    import litellm.rust_bridge._native as native

    model_list = [{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"},
                   "model_info": {"id": "d%d" % i}} for i in range(3)]
    monkeypatch.setattr(native, "NativeRouterCooldowns", _SnapshotCountingHandle)
    fast = litellm_fast.make_answer_cache(_original(_patch_named("routing.cooldown_batch_read").target))
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=copy.deepcopy(model_list))
    store = router._core._cooldowns.cooldown_store
    seen = []
    handle = _SnapshotCountingHandle(store._handle, seen)
    object.__setattr__(store, "_handle", handle)
    step = {"kind": "cache", "op": "batch_get", "key": None, "keys": ["deployment:d%d:cooldown" % i for i in range(3)],
            "value": None, "ttl": None, "local": False, "events": []}
    with _local_patch.accelerated(True):
        assert asyncio.run(fast(router._core, step)) == [None] * 3  # the process's first read
        reads = len(seen)
        for i in range(5):  # cooling elsewhere: memory busy, these ids not cooling
            router._core._cooldowns.add_deployment_to_cooldown("other%d" % i, Exception("rate limited"), 429, 600)
        snapshots = handle.snapshots
        monkeypatch.setattr(litellm_fast, "BUSY_RECHECK_SECONDS", 1.0)
        for _ in range(10):
            assert asyncio.run(fast(router._core, step)) == [None] * 3
        assert handle.snapshots == snapshots + 1 and len(seen) == reads + 10
        router._core._cooldowns.add_deployment_to_cooldown("d1", Exception("rate limited"), 429, 600)
        answer = asyncio.run(fast(router._core, step))  # read, memory not looked at: the read's answer
        assert [a is None for a in answer] == [True, False, True] and handle.snapshots == snapshots + 1
        for ident in ["d1"] + ["other%d" % i for i in range(5)]:
            store.evict_local(ident)
        assert asyncio.run(fast(router._core, step)) == [None] * 3  # within the second: read
        assert len(seen) == reads + 12 and handle.snapshots == snapshots + 1
        time.sleep(1.05)
        for _ in range(3):  # looked at again: empty, skipped
            assert asyncio.run(fast(router._core, step)) == [None] * 3
        assert len(seen) == reads + 12 and handle.snapshots == snapshots + 4
