"""Benchmark of the connection pool: the C core against the thread-safe
pure-Python twin (same process, interleaved rounds, min of rounds) and
against fast-litellm 0.1.10 from PyPI (Rust) running the same workload in its
own virtualenv (see fast_litellm.ratelimit.bench for the venv).

Cases: a get_connection + return_connection cycle on one endpoint, cycling
over 8 endpoints, and on 8 threads (wall time per cycle).

    python -m fast_litellm.pool.bench [--quick]
"""
from __future__ import annotations

import sys
import time
from typing import Any, Dict, List

from ..ratelimit.bench import fl010_status, run_fl010

COMPONENT = "connection_pool"

WORKLOADS = r'''
import threading, time

ENDPOINTS = ["https://api-%d.example.com" % i for i in range(8)]

def bench_cycle(make, n, endpoints=1):
    p = make()
    get, ret = p.get_connection, p.return_connection
    eps = [ENDPOINTS[i % endpoints] for i in range(n)]
    t = time.perf_counter()
    for ep in eps:
        ret(get(ep))
    return (time.perf_counter() - t) / n * 1e9

def bench_threads(make, n_per_thread, threads=8):
    p = make()
    barrier = threading.Barrier(threads + 1)
    def work(i):
        get, ret = p.get_connection, p.return_connection
        ep = ENDPOINTS[i % len(ENDPOINTS)]
        barrier.wait()
        for _ in range(n_per_thread):
            c = get(ep)
            if c is not None:
                ret(c)
    ths = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for th in ths:
        th.start()
    barrier.wait()
    t = time.perf_counter()
    for th in ths:
        th.join()
    return (time.perf_counter() - t) / (n_per_thread * threads) * 1e9
'''

exec(WORKLOADS)

FL010_SCRIPT = WORKLOADS + r'''
import json, sys
spec = json.loads(sys.argv[1])
import fast_litellm as f
from importlib.metadata import version
make = lambda: f.SimpleConnectionPool("bench")
n, rounds = spec["n"], spec["rounds"]
out = {"version": version("fast-litellm"),
       "one": [bench_cycle(make, n, 1) for _ in range(rounds)],
       "eight": [bench_cycle(make, n, 8) for _ in range(rounds)],
       "threads": [bench_threads(make, n // 8) for _ in range(rounds)]}
print("FL010-RESULT " + json.dumps(out))
'''


def _row(case: str, baseline: str, base: float, value: float, params: Dict[str, Any]) -> Dict[str, Any]:
    return {"component": COMPONENT, "case": case, "baseline": baseline, "unit": "ns/cycle",
            "baseline_value": base, "value": value, "ratio": base / value if value else float("nan"),
            "higher_is_better": False, "params": params}


def run(quick: bool = False) -> List[Dict[str, Any]]:
    from fast_litellm._native_loader import native_has
    from fast_litellm.pool import implementation

    if not native_has("ConnectionPool"):
        return []
    native = implementation("native").SimpleConnectionPool
    python = implementation("python").SimpleConnectionPool
    n = 8_000 if quick else 50_000
    rounds = 3 if quick else 15  # many short interleaved rounds: min resists load bursts
    cases = {
        "get+return cycle, 1 endpoint, 1 thread": ("one", lambda make: bench_cycle(make, n, 1)),
        "get+return cycle, 8 endpoints, 1 thread": ("eight", lambda make: bench_cycle(make, n, 8)),
        "get+return cycle, 8 threads (wall ns/cycle)": ("threads",
                                                        lambda make: bench_threads(make, n // 8)),
    }
    measured: Dict[str, Dict[str, List[float]]] = {}
    for _ in range(rounds):
        for case, (_, fn) in cases.items():
            for side, cls in (("native", native), ("python", python)):
                measured.setdefault(case, {}).setdefault(side, []).append(fn(lambda: cls("bench")))
    params = {"n": n, "rounds": rounds, "stat": "min of rounds"}
    rows = [_row(case, "fast_litellm pure-Python twin (thread-safe)", min(m["python"]),
                 min(m["native"]), params) for case, m in measured.items()]
    fl = run_fl010(FL010_SCRIPT, {"n": n, "rounds": rounds})
    if fl is not None:
        for case, (key, _) in cases.items():
            rows.append(_row(case, "fast-litellm %s (Rust, PyPI)" % fl["version"], min(fl[key]),
                             min(measured[case]["native"]),
                             dict(params, note="baseline measured in its own venv process")))
    return rows


if __name__ == "__main__":
    from ..bench.component_args import parse
    from ..ratelimit.bench import print_table

    quick = parse("fast_litellm.pool.bench", __doc__, sys.argv[1:]).quick
    t0 = time.time()
    results = run(quick=quick)
    print_table(results)
    print("(%s; %.1f s)" % (fl010_status(), time.time() - t0))
