"""Session 16's native parts of the latency and cost scans over a served-from
map, against LiteLLM's own code: the builtin ``sum``'s arithmetic (left to
right up to 3.11, Neumaier-compensated from 3.12), the buffer ranking, the
limit test on plain numbers, a shared list's candidate table and the cost
groups.  The lists are made so that a sum in the other order, or without (or
with) the compensation, gives another average, and the pick depends on it."""
from __future__ import annotations

import asyncio
import copy
import math
import random
import sys

import pytest
from _lockstep import routing_patches, same_minute  # noqa: E402

litellm = pytest.importorskip("litellm")

from fast_litellm import _native_loader  # noqa: E402
from fast_litellm.routing import _local_patch, strategy_fast  # noqa: E402

from test_routing_litellm import _build, _calls, _minute, _original, _same, _seed_state  # noqa: E402

NATIVE = _native_loader.NATIVE
needs_native = pytest.mark.skipif(NATIVE is None or not hasattr(NATIVE, "router_latency_average"),
                                  reason="native core not built")
# where the native sum is built to follow the interpreter's (else it always declines)
SUM_KNOWN = sys.version_info < (3, 12) or (3, 12, 1) <= sys.version_info[:3] < (3, 14)


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


def _reference(samples):
    import litellm.router_strategy.lowest_latency as module

    return module._average_latency(module._usable_latency_samples(samples))


def _bits(x):
    return float(x).hex()


# lists whose average differs between a left-to-right and a compensated sum
# (checked below: each must differ for the test to mean anything)
ORDER_SENSITIVE = [
    [0.1] * 10,
    [0, 0.1, 0.2, 0.3],
    [1e16, 1.0, 1.0],
    [3, 1e16, 1.0, 1.0, 1.0],
    [0.7, 0.1, 0.1, 0.1, 0.3, 1e-17],
]


def _naive(values):
    total = 0
    for v in values:
        total = total + v
    return total


def _compensated(values):
    """CPython 3.12+'s float loop (ints before the first float summed exactly)."""
    total, i = 0, 0
    while i < len(values) and type(values[i]) is int:
        total += values[i]
        i += 1
    if i == len(values):
        return total
    f, c = total + values[i], 0.0
    for x in values[i + 1:]:
        if type(x) is int:
            f += float(x)
            continue
        t = f + x
        c += (f - t) + x if abs(f) >= abs(x) else (x - t) + f
        f = t
    return f + c if c and math.isfinite(c) else f


def test_the_crafted_lists_tell_the_two_sums_apart():
    for values in ORDER_SENSITIVE:
        assert _naive(values) != _compensated(values), values
        expected = _compensated(values) if sys.version_info >= (3, 12) else _naive(values)
        assert _bits(sum(values)) == _bits(expected), values


def _leading_int_total(values):
    total = 0
    for v in values:
        if type(v) is float:
            break
        total += v if v >= 0 else 0
    return total


@needs_native
def test_native_average_is_the_builtin_sums():
    gen = random.Random("average")
    pool = [0.1, 0.2, 0.3, 0.7, 1e16, 1e-17, 1.0, 3.0, 1e308, 5e-324, 0.0, -0.0, -1.0, float("nan"),
            float("inf"), -float("inf"), 0, 1, 2, 3, 2 ** 52, -3]
    lists = list(ORDER_SENSITIVE) + [[], [0], [0, 0], [-0.0], [1e308, 1e308], (0.1, 0.2, 0.3), [2 ** 53, 0.5]]
    for _ in range(4000):
        lists.append([gen.choice(pool) if gen.random() < 0.5 else gen.uniform(0, 2) * 10 ** gen.randint(-20, 20)
                      for _ in range(gen.randint(0, 14))])
    for values in lists:
        got = NATIVE.router_latency_average(values)
        if got is None:
            # declined only where an int total before the first float could pass 2**53
            assert not SUM_KNOWN or _leading_int_total(values) > 2 ** 53, values
            continue
        assert _bits(got) == _bits(_reference(values)), values
    # declined: what the builtin sum adds through objects or other paths
    for values in ([True, 0.5], [0.5, False], [float("inf"), 2 ** 60], [2 ** 70], [0.5, 2 ** 54], ["0.1"],
                   [type("F", (float,), {})(0.5)], [type("I", (int,), {})(1)], {0.5}, "abc"):
        assert NATIVE.router_latency_average(values) is None, values


@needs_native
def test_the_native_sum_is_used_only_where_it_agrees():
    pick = strategy_fast._LatencyPick()
    assert pick._native_sum is SUM_KNOWN
    assert strategy_fast._native_average_agrees(lambda values: None) is False
    # a sum that adds left to right where the builtin compensates, or the reverse, is refused
    wrong = _compensated if sys.version_info < (3, 12) else _naive

    def average(values):
        usable = tuple(x for x in values if math.isfinite(x) and x >= 0)
        return float(wrong(usable) / len(usable)) if usable else 0.0

    assert strategy_fast._native_average_agrees(average) is False


def _within_reference(pairs, coefficient):
    ranked = sorted(pairs, key=lambda pair: pair[1])
    lowest = ranked[0][1]
    buffer = coefficient * lowest
    return tuple(pair for pair in ranked if pair[1] <= lowest + buffer)


@needs_native
def test_within_is_litellms_ranking():
    gen = random.Random("within")
    values = [0.1, 0.2, 0.2, 0.0, -0.0, 1.0, float("inf"), 0.30000000000000004, 0.3]
    for trial in range(3000):
        pairs = [({"id": i}, gen.choice(values) if gen.random() < 0.6 else gen.uniform(0, 1))
                 for i in range(gen.randint(1, 12))]
        coefficient = gen.choice([0, 0.0, 0.1, 0.5, 1, 2, -0.5, -1, float("inf"), 1e300, 2 ** 60, True, None])
        got = NATIVE.router_latency_within(pairs, coefficient)
        try:
            expected = _within_reference(pairs, coefficient)
        except TypeError:
            assert got is None
            continue
        if got is None:
            # declined: an empty within (LiteLLM draws from all) or a buffer not taken
            assert not expected or type(coefficient) not in (int, float) or abs(coefficient) > 2 ** 53
            continue
        assert got == expected and all(a is b for a, b in zip(got, expected)), (pairs, coefficient)
    # latencies that are not exact floats, or NaN, are LiteLLM's to rank
    assert NATIVE.router_latency_within([({}, 1), ({}, 0.5)], 0) is None
    assert NATIVE.router_latency_within([({}, float("nan")), ({}, 0.5)], 0) is None
    assert NATIVE.router_latency_within([], 0) is None


def _handler_pick(samples_by_id, buffer, request, seed, limits=None):
    """LiteLLM's latency pick and ours over one map (not a shared list)."""
    import litellm.router_strategy.lowest_latency as module
    from litellm.caching.dual_cache import DualCache

    target = "litellm.router_strategy.lowest_latency:LowestLatencyLoggingHandler._get_available_deployments"
    original = _original(target)
    fast = strategy_fast.make_lowest_latency_pick(original)
    handler = module.LowestLatencyLoggingHandler(router_cache=DualCache())
    handler.routing_args.lowest_latency_buffer = buffer
    minute = _minute()
    healthy = [{"model_name": "g", "litellm_params": {"model": "m", "api_base": "b%s" % ident, **(limits or {})},
                "model_info": {"id": ident}} for ident in samples_by_id]
    counts = {ident: {"latency_normalized": list(samples), minute: {"tpm": 1, "rpm": 1}}
              for ident, samples in samples_by_id.items()}
    results = []
    for fn in (original, fast):
        random.seed(seed)
        req, cts = copy.deepcopy(request), copy.deepcopy(counts)
        with _local_patch.accelerated(True):
            try:
                got = fn(handler, "g", healthy, None, None, req, cts)
                got = got["model_info"]["id"] if got else got
            except Exception as exc:
                got = (type(exc).__name__, str(exc))
        results.append((got, req, cts, random.getstate()))
    return results


@needs_native
def test_latency_pick_follows_the_builtin_sums_order():
    """Two deployments whose averages are equal under one summation and not
    under the other: left to right (3.11) X's average is below Y's and X is
    the only pick; compensated (3.12+) they tie and ``random.choice`` draws
    between them.  A native sum of the wrong kind changes the pick or the
    draws in some of the seeds."""
    cases = [
        {"x": [0.1] * 10, "y": [0.1]},                     # 0.09999999999999999 vs 0.1 left to right
        {"x": [0, 0.1, 0.2, 0.3], "y": [0.15]},            # int first, then floats
        {"y": [0.15], "x": [0, 0.1, 0.2, 0.3], "z": [0.2]},
        {"x": [3, 1e16, 1.0, 1.0, 1.0], "y": [(3 + 1e16 + 4.0) / 5]},
    ]
    for samples in cases:
        usable = {k: _reference(v) for k, v in samples.items()}
        assert len(set(usable.values())) < len(usable) or sys.version_info < (3, 12), usable
        for buffer in (0, 0.0, 1e-17, -0.5):
            for seed in range(12):
                for request in ({}, {"metadata": {}}):
                    stock, fast = _handler_pick(samples, buffer, request, seed)
                    assert _same(stock, fast), (samples, buffer, seed, stock[0], fast[0])


@needs_native
def test_latency_pick_over_int_and_float_limits():
    """The limit test on plain numbers: ints, floats, bools and ints past 2**53
    in the usage and the limits, against LiteLLM's comparisons."""
    gen = random.Random("limits")
    values = [0, 1, 2, 1.0, 2.0, 1.5, 0.5, True, False, 2 ** 53, 2 ** 53 + 1, float(2 ** 53), 2 ** 60, 1e300,
              float("nan"), float("inf")]
    for trial in range(400):
        samples = {"d%d" % i: [gen.uniform(0, 1) for _ in range(gen.randint(0, 3))] for i in range(4)}
        limits = {}
        if gen.random() < 0.7:
            limits["tpm"] = gen.choice(values[1:])
        if gen.random() < 0.7:
            limits["rpm"] = gen.choice(values[1:])
        stock, fast = _handler_pick(samples, 0, {}, trial, limits)
        assert _same(stock, fast), (trial, limits, stock[0], fast[0])


@pytest.mark.parametrize("strategy", ["latency-based-routing", "cost-based-routing"])
def test_served_map_lockstep_where_order_and_prices_decide(strategy):
    """Stock and accelerated Routers in lockstep over a served-from map (the
    shared candidate list: its candidate table, the ranking in the scan, the
    cost groups): order-sensitive samples, buffers of each kind, prices of
    each kind on the deployments, usage past the limits, and a cost-map row
    changed between picks."""
    gen = random.Random("served-%s" % strategy)
    minute = _minute()
    model_list = []
    for i in range(24):
        params = {"model": gen.choice(["gpt-4o-mini", "gpt-4o", "openai/made-up-model"]), "api_key": "k",
                  "api_base": gen.choice(["https://a.example", "https://b.example", None])}
        if gen.random() < 0.3:
            params["input_cost_per_token"] = gen.choice([1e-6, 1e-6, 3e-6, 0, 0.0, -0.0, 2, True])
        if gen.random() < 0.3:
            params["output_cost_per_token"] = gen.choice([2e-6, 0, 1, 5e-7])
        if gen.random() < 0.2:
            params[gen.choice(["tpm", "rpm"])] = gen.choice([1, 2, 1000, 2 ** 60])
        model_list.append({"model_name": "g", "litellm_params": params, "model_info": {"id": "d%d" % i}})
    history = {}
    for i, d in enumerate(model_list):
        entry = {minute: {"tpm": gen.choice([0, 1, 5000]), "rpm": gen.choice([0, 1, 2.0])}}
        if strategy == "latency-based-routing":
            entry["latency_normalized"] = list(gen.choice(ORDER_SENSITIVE + [[0.15], [0.1], [0.2], []]))
        history[d["model_info"]["id"]] = entry
    for buffer in (0, 0.25, -1.0):
        args = {"lowest_latency_buffer": buffer} if strategy == "latency-based-routing" else {}
        a, b = _build(model_list, strategy, args), _build(model_list, strategy, args, accelerated=True)
        for router in (a, b):
            _seed_state(router, None, model_list, strategy, history, [], [])
        for round_ in range(3):
            plan = [(gen.random(), "g", gen.choice([{}, {"metadata": {}}])) for _ in range(6)]
            same_minute()
            stock = asyncio.run(_calls(a, False, copy.deepcopy(plan)))
            fast = asyncio.run(_calls(b, True, copy.deepcopy(plan)))
            for i, (s_, f_) in enumerate(zip(stock, fast)):
                assert _same(s_[0], f_[0]), (strategy, buffer, round_, i, s_[0], f_[0])
                assert s_[1] == f_[1], (strategy, buffer, round_, i, "random state differs")
                assert _same(s_[2], f_[2]), (strategy, buffer, round_, i, "request metadata differs")
                assert _same(s_[3], f_[3]), (strategy, buffer, round_, i, "routing cache differs")
            if strategy == "cost-based-routing":
                # a price change in the cost map between picks: groups are priced per pick
                row = litellm.model_cost.get("gpt-4o-mini")
                if row is not None and round_ == 0:
                    saved = row.get("input_cost_per_token")
                    row["input_cost_per_token"] = 1e-3
                elif row is not None and round_ == 1:
                    row["input_cost_per_token"] = saved


def test_cost_groups_keep_deployments_that_price_differently_apart():
    """Deployments alike but for one pricing field each (own input or output
    price, base model, model, api_base): each prices on its own, so the
    cheapest is picked wherever it stands; usage this minute takes some out.
    (Models the cost map does not hold: the deployments' own fields decide;
    price-map rows, LiteLLM's ``AliasedCostEntry``, are
    ``test_routing_cost_entry.py``'s.)"""
    minute = _minute()
    base = {"model": "openai/made-up-a", "api_key": "k", "api_base": "https://a.example"}
    variants = [{}, {"input_cost_per_token": 3e-6}, {"input_cost_per_token": 1e-9}, {"output_cost_per_token": 1e-9},
                {"model": "openai/made-up-b"}, {"base_model": "openai/made-up-c"}, {"api_base": "https://b.example"},
                {"input_cost_per_token": 1}, {"input_cost_per_token": True}, {"output_cost_per_token": 0}]
    gen = random.Random("cost-groups")
    for trial in range(12):
        order = list(range(len(variants)))
        gen.shuffle(order)
        model_list = [{"model_name": "g", "litellm_params": {**base, **variants[k]}, "model_info": {"id": "d%d" % k}}
                      for k in order]
        history = {d["model_info"]["id"]: {minute: {"tpm": gen.choice([0, 10]), "rpm": gen.choice([0, 1])}}
                   for d in model_list}
        if trial % 3 == 2:  # the cheapest is over its limit: the next one is picked
            model_list[order.index(2)]["litellm_params"]["rpm"] = 1
            history["d2"][minute]["rpm"] = 1
        a, b = _build(model_list, "cost-based-routing", {}), _build(model_list, "cost-based-routing", {}, accelerated=True)
        for router in (a, b):
            _seed_state(router, None, model_list, "cost-based-routing", history, [], [])
        plan = [(trial, "g", {}), (trial + 1, "g", {"metadata": {}})]
        same_minute()
        stock = asyncio.run(_calls(a, False, copy.deepcopy(plan)))
        fast = asyncio.run(_calls(b, True, copy.deepcopy(plan)))
        for i, (s_, f_) in enumerate(zip(stock, fast)):
            assert _same(s_[0], f_[0]), (trial, i, s_[0][:2], f_[0][:2])
            assert _same(s_[3], f_[3]), (trial, i, "routing cache differs")


@needs_native
def test_cost_scan_with_a_table_prices_as_without():
    """The cost scan through a candidate table (cost groups: one price per group
    of deployments with the same pricing fields) against the same scan reading
    every deployment (table None: the per-candidate code verified against
    LiteLLM), on plain cost maps: own prices of each kind, base models, models
    with and without rows, api_bases, limits and usage; and a row changed
    between scans (groups are priced per scan)."""
    from fast_litellm.routing.strategy_fast import _NAMES

    gen = random.Random("cost-table")
    minute = _minute()
    prices = [None, 0, 0.0, -0.0, 1e-6, 3e-6, 1e-9, 1, True, False, 2 ** 60, float("inf")]
    for trial in range(600):
        cost_map = {"m%d" % k: {"input_cost_per_token": gen.choice([1e-6, 2e-6, None, 3]),
                                "output_cost_per_token": gen.choice([1e-6, 0.5e-6, None])} for k in range(3)}
        by_id = {}
        for i in range(gen.randint(1, 30)):
            params = {"model": gen.choice(["m0", "m1", "m2", "none"]), "api_key": "k"}
            if gen.random() < 0.7:
                params["api_base"] = gen.choice(["a", "b", None])
            for key in ("input_cost_per_token", "output_cost_per_token", "base_model", "tpm", "rpm"):
                if gen.random() < 0.3:
                    params[key] = (gen.choice(["m0", "m1", "", "none"]) if key == "base_model"
                                   else gen.choice([1, 5, 10 ** 9]) if key in ("tpm", "rpm") else gen.choice(prices))
            info = {"id": "d%d" % i}
            if gen.random() < 0.2:
                info["base_model"] = gen.choice(["m2", "", None])
            by_id["d%d" % i] = {"model_name": "g", "litellm_params": params, "model_info": info}
        keys = list(by_id)
        gen.shuffle(keys)
        maps = [{minute: {"tpm": gen.choice([0, 3, 10 ** 9]), "rpm": gen.choice([0, 4])}} for _ in keys]
        table = NATIVE.router_candidate_table(by_id, _NAMES)
        assert table is not None, trial
        tokens = gen.choice([0, 2, 10])
        for round_ in range(2):
            with_table = NATIVE.router_cost_scan(keys, maps, by_id, _NAMES, cost_map, minute, tokens, table, None)
            without = NATIVE.router_cost_scan(keys, maps, by_id, _NAMES, cost_map, minute, tokens, None, None)
            assert _same(with_table, without), (trial, round_)
            if with_table is not None and with_table[1] is None:
                assert with_table[0] is without[0]
            cost_map["m%d" % gen.randint(0, 2)]["input_cost_per_token"] = gen.choice([5e-7, 4, None])


@needs_native
def test_sample_positions_draw_as_random_sample():
    for seed in range(12):
        for n in (0, 1, 2, 3, 7, 64, 1000):
            ours, theirs = random.Random(seed), random.Random(seed)
            population = ["k%d" % i for i in range(n)]
            positions = NATIVE.router_sample_positions(ours.getrandbits, n)
            assert NATIVE.router_take(population, positions) == theirs.sample(population, n)
            assert ours.getstate() == theirs.getstate()
    assert strategy_fast._LatencyPick()._sampler._positions is not None


@needs_native
def test_scan_in_map_order_is_the_scan_in_sampled_order():
    """The latency scan reading the map in its own order and taking the
    candidates at the sampled positions, against the same scan over the
    sampled keys: the same within / pairs, the same api_base map in the same
    order, the same declines; with and without a candidate table."""
    from fast_litellm.routing.strategy_fast import _NAMES

    gen = random.Random("map-order")
    minute = _minute()
    samples = [0.1, 0.2, 0.2, 1, 0, True, -1.0, float("nan"), float("inf"), 0.05, 3, 1e16]
    for trial in range(800):
        n = gen.randint(0, 14)
        by_id = {}
        for i in range(n):
            params = {"model": "m", "api_base": gen.choice(["a", "b", "c", None])}
            if gen.random() < 0.2:
                params[gen.choice(["tpm", "rpm"])] = gen.choice([1, 2, 100])
            by_id["d%d" % i] = {"model_name": "g", "litellm_params": params, "model_info": {"id": "d%d" % i}}
        counts = {}
        for i in range(n + gen.randint(0, 2)):  # ids the list does not have are skipped
            entry = {"latency_normalized": [gen.choice(samples) for _ in range(gen.randint(0, 4))]}
            if gen.random() < 0.3:
                entry["time_to_first_token_seconds"] = [gen.choice(samples) for _ in range(gen.randint(0, 3))]
            if gen.random() < 0.5:
                entry[minute] = {"tpm": gen.choice([0, 1, 50]), "rpm": gen.choice([0, 1, 3])}
            if gen.random() < 0.02:
                entry = {"latency_normalized": ["x"]}  # declined wherever it stands
            counts["d%d" % i] = entry
        keys = list(counts)
        gen.shuffle(keys)
        counts = {k: counts[k] for k in keys}
        keys = list(counts)
        positions = NATIVE.router_sample_positions(random.Random(trial).getrandbits, len(keys))
        sampled = NATIVE.router_take(keys, positions)
        table = NATIVE.router_candidate_table(by_id, _NAMES)
        streaming = gen.random() < 0.2
        percentile = gen.choice([None, None, 0.5])
        report = gen.random() < 0.5
        buffer = gen.choice([0, 0.5, None, -1.0])
        for tab in (None, table):
            args = (counts, by_id, _NAMES, minute, gen.choice([0, 10]), streaming, percentile, report, sum, True,
                    buffer, tab)
            a = NATIVE.router_latency_scan(keys, *args, positions)
            b = NATIVE.router_latency_scan(sampled, *args, None)
            assert _same(a, b), trial
            if a is not None and a[2] is not None:
                assert list(a[2]) == list(b[2]), trial
