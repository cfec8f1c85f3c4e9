"""Benchmark of the performance monitor: the cost of record_performance
(native C function vs the pure-Python twin) and of reading statistics.

Both twins are measured in the same run, interleaved round by round, and
the best round of each is kept.  Run ``python -m fast_litellm.monitor.bench``.
"""
from __future__ import annotations

import sys
import time
from typing import Any, Callable, Dict, List

from .._native_loader import native_has

COMPONENT = "bench"


def _best_ns_per_call(make_loop: Callable[[Any], Callable[[], int]], recorders: Dict[str, Any],
                      rounds: int) -> Dict[str, float]:
    best = {kind: float("inf") for kind in recorders}
    for _ in range(rounds):
        for kind, recorder in recorders.items():  # interleaved
            loop = make_loop(recorder)
            start = time.perf_counter_ns()
            calls = loop()
            elapsed = time.perf_counter_ns() - start
            best[kind] = min(best[kind], elapsed / calls)
    return best


def _loop_positional(n: int):
    def make(recorder):
        record = recorder.record

        def loop():
            for _ in range(n):
                record("token_counting", "count", 0.0123)
            return n
        return loop
    return make


def _loop_keywords(n: int):
    def make(recorder):
        record = recorder.record

        def loop():
            for _ in range(n):
                record("token_counting", "count", 0.0123, success=True, input_size=512)
            return n
        return loop
    return make


def _loop_fresh_names(n: int):
    names = [("op%d" % (i % 8)).encode().decode() for i in range(n)]

    def make(recorder):
        record = recorder.record

        def loop():
            for name in names:
                record("token_counting", name, 0.0123)
            return n
        return loop
    return make


def _loop_stats(series: int, repeats: int):
    def make(recorder):
        from ._api import PerformanceMonitor

        recorder.reset()
        for i in range(series):
            for j in range(200):
                recorder.record("c%d" % (i % 5), "op%d" % i, 0.001 * (j + 1))
        api = PerformanceMonitor(recorder, "bench")

        def loop():
            for _ in range(repeats):
                api.get_performance_stats()
            return repeats
        return loop
    return make


def run(quick: bool = False) -> List[Dict[str, Any]]:
    from ._python import Monitor as PythonMonitor

    if not native_has("Monitor"):
        return []
    from .._native_loader import NATIVE

    recorders = {"native": NATIVE.Monitor(), "python": PythonMonitor()}  # type: ignore
    # short rounds, many of them: on a shared machine the best round is the
    # one no other process preempted
    n = 10_000 if quick else 20_000
    rounds = 5 if quick else 40
    cases = [
        ("record_performance positional (same name objects)", _loop_positional(n), n),
        ("record_performance with keywords", _loop_keywords(n), n),
        ("record_performance fresh name objects (cache misses)", _loop_fresh_names(n), n),
    ]
    results = []
    for case, make_loop, calls in cases:
        best = _best_ns_per_call(make_loop, recorders, rounds)
        results.append(_result(case, "ns/call", best, {"calls_per_round": calls,
                                                       "rounds": rounds}))
    series = 20
    best = _best_ns_per_call(_loop_stats(series, 3), recorders, 3 if quick else 10)
    results.append(_result("get_performance_stats (%d series)" % series, "us/call",
                           {k: v / 1e3 for k, v in best.items()}, {"series": series}))
    return results


def _result(case: str, unit: str, best: Dict[str, float], params: Dict[str, Any]):
    return {
        "component": "monitor",
        "case": case,
        "baseline": "fast_litellm pure-Python monitor twin",
        "unit": unit,
        "baseline_value": best["python"],
        "value": best["native"],
        "ratio": best["python"] / best["native"],
        "higher_is_better": False,
        "params": params,
    }


def main(argv: List[str] = sys.argv[1:]) -> int:
    from ..bench.component_args import parse

    quick = parse("fast_litellm.monitor.bench", __doc__, argv).quick
    results = run(quick=quick)
    if not results:
        print("native core not built: nothing to compare")
        return 1
    width = max(len(r["case"]) for r in results)
    print("%-*s  %12s  %12s  %7s" % (width, "case", "python", "native", "ratio"))
    for r in results:
        print("%-*s  %9.1f %-2s  %9.1f %-2s  %6.1fx" % (
            width, r["case"], r["baseline_value"], r["unit"].split("/")[0], r["value"],
            r["unit"].split("/")[0], r["ratio"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
