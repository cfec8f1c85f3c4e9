"""Benchmark: stock LiteLLM InMemoryCache / v3 proxy limiter vs accelerated.

Both sides run in one process, interleaved round by round (stock block,
then accelerated block, with the patches put on and taken off between),
each on its own identically prepared cache/limiter.  The reported value is
the best (minimum) over rounds of the per-operation time, the least
disturbed run on a shared machine; medians are in ``params``.  Ratio > 1 means the
accelerated side is faster.

    python -m fast_litellm.cache.bench [--quick]
"""
from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from typing import Any, Callable, Dict, List

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

BASELINE = "litellm 1.110.2 stock"


def _per_op_ns(fn: Callable[[], Any], ops: int) -> float:
    start = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - start) / ops


def _interleaved(make_stock, make_fast, ops: int, rounds: int):
    """make_* return a zero-arg callable running `ops` operations; make_fast's
    callable runs with acceleration applied (it applies it itself)."""
    stock_runs, fast_runs = [], []
    stock, fast = make_stock(), make_fast()
    stock()
    fast()  # warm both
    for _ in range(rounds):
        stock_runs.append(_per_op_ns(stock, ops))
        fast_runs.append(_per_op_ns(fast, ops))
    # best of rounds (as timeit recommends): on a shared machine the minimum
    # is the run least disturbed by other processes; medians go in params
    return (min(stock_runs), min(fast_runs), statistics.median(stock_runs), statistics.median(fast_runs))


def _row(case: str, timings: tuple, params: Dict[str, Any], kind: str) -> Dict[str, Any]:
    stock_ns, fast_ns, stock_median, fast_median = timings
    params = dict(params, stock_median_ns=round(stock_median, 1), fast_median_ns=round(fast_median, 1),
                  statistic="min of rounds")
    return {
        "component": "cache",
        "case": case,
        "baseline": BASELINE,
        "unit": "ns/op",
        "baseline_value": round(stock_ns, 1),
        "value": round(fast_ns, 1),
        "ratio": round(stock_ns / fast_ns, 2) if fast_ns else float("inf"),
        "higher_is_better": False,
        "params": dict(params, implementation=kind),
    }


def _cache_cases(quick: bool, kind: str) -> List[Dict[str, Any]]:
    from litellm.caching.in_memory_cache import InMemoryCache

    from . import accelerated, stock

    ops = 2_000 if quick else 20_000
    rounds = 5 if quick else 15
    keys = ["key-%d" % i for i in range(150)]
    values = [{"id": i, "model": "gpt-4o", "spend": i * 0.5} for i in range(150)]

    def prepared():
        cache = InMemoryCache()
        for k, v in zip(keys, values):
            cache.set_cache(k, v, ttl=600)
        return cache

    def side(body, accelerate):
        def make():
            cache = prepared()

            def run():
                # `import fast_litellm` has the patch engine put the fast
                # methods on the class: the stock side must take them off
                with (accelerated(kind) if accelerate else stock()):
                    body(cache)

            return run

        return make

    def get_dicts(cache):
        get = cache.get_cache
        for i in range(ops):
            get(keys[i % 150])

    def get_text(cache):
        cache.set_cache("text", "sk-live-key-material")
        get = cache.get_cache
        for _ in range(ops):
            get("text")

    def set_rotating(cache):
        s = cache.set_cache
        for i in range(ops):
            s(keys[i % 150], values[i % 150], ttl=600)

    def increment(cache):
        inc = cache.increment_cache
        for i in range(ops):
            inc("counter-%d" % (i % 10), 1)

    batch_keys = keys[:20]

    def batch20(cache):
        b = cache.batch_get_cache
        for _ in range(ops // 10):
            b(batch_keys)

    cases = [
        ("get_cache hit (dict value)", get_dicts, ops, {"keys": 150}),
        ("get_cache hit (plain string value)", get_text, ops, {}),
        ("set_cache (rotating 150 keys, ttl)", set_rotating, ops, {"keys": 150}),
        ("increment_cache", increment, ops, {"counters": 10}),
        ("batch_get_cache 20 keys", batch20, ops // 10, {"batch": 20}),
    ]
    rows = []
    for name, body, n, params in cases:
        timings = _interleaved(side(body, False), side(body, True), n, rounds)
        rows.append(_row(name, timings, dict(params, ops=n, rounds=rounds), kind))
    return rows


DESCRIPTORS = [
    {"key": "api_key", "value": "sk-123", "rate_limit": {"requests_per_unit": 10**9, "tokens_per_unit": 10**12, "window_size": 60}},
    {"key": "user", "value": "u1", "rate_limit": {"requests_per_unit": 10**9, "tokens_per_unit": None}},
    {"key": "team", "value": "t1", "rate_limit": {"requests_per_unit": 10**9, "tokens_per_unit": 10**12}},
]


def _limiter_cases(quick: bool, kind: str) -> List[Dict[str, Any]]:
    from litellm import DualCache
    from litellm.proxy.hooks.parallel_request_limiter_v3 import _PROXY_MaxParallelRequestsHandler_v3
    from litellm.proxy.utils import InternalUsageCache

    from .. import proxy_limiter

    ops = 300 if quick else 3_000
    rounds = 5 if quick else 11

    def handler():
        return _PROXY_MaxParallelRequestsHandler_v3(InternalUsageCache(DualCache()))

    def side_handler(accelerate):
        # built inside the context: the memory tier is chosen when the
        # limiter is built (stock: LiteLLM's Rust store; accelerated: ours)
        with (proxy_limiter.accelerated(kind) if accelerate else proxy_limiter.stock()):
            return handler()

    def pre_call(accelerate):
        def make():
            h = side_handler(accelerate)
            loop = asyncio.new_event_loop()

            async def many():
                for _ in range(ops):
                    await h.should_rate_limit(DESCRIPTORS)

            def run():
                with (proxy_limiter.accelerated(kind) if accelerate else proxy_limiter.stock()):
                    loop.run_until_complete(many())

            return run

        return make

    def pure(accelerate):
        def make():
            h = side_handler(accelerate)

            def run():
                with (proxy_limiter.accelerated(kind) if accelerate else proxy_limiter.stock()):
                    for _ in range(ops):
                        counters, metadata, _ = h._collect_windowed_keys_and_gauges(DESCRIPTORS, False)
                        h.is_cache_list_over_limit(counters, [("1", 7)] * len(counters), metadata)

            return run

        return make

    rows = []
    timings = _interleaved(pre_call(False), pre_call(True), ops, rounds)
    rows.append(_row("limiter should_rate_limit, 3 descriptors (in-memory)", timings,
                     {"descriptors": 3, "counters": 5, "ops": ops, "rounds": rounds}, kind))
    timings = _interleaved(pure(False), pure(True), ops, rounds)
    rows.append(_row("limiter key building + over-limit check, 3 descriptors", timings,
                     {"descriptors": 3, "counters": 5, "ops": ops, "rounds": rounds}, kind))
    return rows


def run(quick: bool = False) -> List[Dict[str, Any]]:
    from . import DEFAULT_KIND

    rows = _cache_cases(quick, DEFAULT_KIND)
    rows += _limiter_cases(quick, DEFAULT_KIND)
    return rows


def main(argv: List[str]) -> int:
    from ..bench.component_args import parse

    quick = parse("fast_litellm.cache.bench", __doc__, argv).quick
    rows = run(quick=quick)
    print("%-56s %10s %10s %8s   %s" % ("case (%s, best of rounds)" % rows[0]["params"]["implementation"],
                                        "stock ns", "fast ns", "ratio", "median ratio"))
    for r in rows:
        p = r["params"]
        print("%-56s %10.1f %10.1f %7.2fx   %.2fx" % (r["case"], r["baseline_value"], r["value"], r["ratio"],
                                                   p["stock_median_ns"] / p["fast_median_ns"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
