"""Benchmark of the rate limiter: the C core against the thread-safe
pure-Python twin (same process, interleaved rounds, min of rounds) and against
fast-litellm 0.1.10 from PyPI (Rust), which runs the same workload in its own
virtualenv through a subprocess (FAST_LITELLM_BENCH_FL010_PYTHON, else the
bench suite's peer venv, which ``scripts/run.sh`` installs and
``fast-litellm bench --peer-install`` creates: ``bench.peers.peer_python``).

Cases: check latency with 1,000 keys cycling and with a new key per call
(single thread), the same with 8 threads (wall time per check), and memory
per key (process RSS growth in a fresh process; at small sizes many limiters
so the growth is measurable) at 10^3..10^6 keys per limiter.

    python -m fast_litellm.ratelimit.bench [--quick]
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional

COMPONENT = "rate_limiter"
_FL010_ENV = "FAST_LITELLM_BENCH_FL010_PYTHON"
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _fl010_python() -> Optional[str]:
    from ..bench.peers import peer_python

    return peer_python(_FL010_ENV)


# -- workloads (the same code runs here and, as text, in the 0.1.10 venv) ------

WORKLOADS = r'''
import threading, time

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

def bench_cycling(make, n, nkeys=1000, tag="c"):
    rl = make()
    keys = ["%s-user-%d" % (tag, i) for i in range(nkeys)]
    seq = [keys[i % nkeys] for i in range(n)]
    check = rl.check
    t = time.perf_counter()
    for k in seq:
        check(k)
    return (time.perf_counter() - t) / n * 1e9

def bench_fresh(make, n, tag="f"):
    rl = make()
    seq = ["%s-sk-%09d" % (tag, i) for i in range(n)]
    check = rl.check
    t = time.perf_counter()
    for k in seq:
        check(k)
    return (time.perf_counter() - t) / n * 1e9

def bench_threads(make, n_per_thread, threads=8, nkeys=1000, tag="t"):
    rl = make()
    keys = ["%s-user-%d" % (tag, i) for i in range(nkeys)]
    seqs = [[keys[(i * 7919 + j) % nkeys] for j in range(n_per_thread)] for i in range(threads)]
    barrier = threading.Barrier(threads + 1)
    def work(seq):
        check = rl.check
        barrier.wait()
        for k in seq:
            check(k)
    ths = [threading.Thread(target=work, args=(s,)) for s in seqs]
    for th in ths:
        th.start()
    barrier.wait()
    t = time.perf_counter()
    for th in ths:
        th.join()
    return (time.perf_counter() - t) / (n_per_thread * threads) * 1e9

def memory_per_key(make, sizes, total_keys):
    """RSS growth per key: for each size, total_keys // size limiters with
    size distinct keys each (so small sizes are measurable, and include the
    per-limiter overhead); everything stays alive so freed memory is never
    reused, and the key strings exist before the baseline is taken."""
    keep, out = [], {}
    for n in sizes:
        instances = max(1, total_keys // n)
        keysets = [["m%d-%d-sk-%012d" % (n, j, i) for i in range(n)] for j in range(instances)]
        before = rss()
        for keys in keysets:
            rl = make()
            keep.append(rl)
            check = rl.check
            for k in keys:
                check(k)
        out[n] = (rss() - before) / (n * instances)
        keep.append(keysets)
    return out
'''

exec(WORKLOADS)  # defines the functions above in this module too

FL010_SCRIPT = WORKLOADS + r'''
import json, os, sys
spec = json.loads(sys.argv[1])
import fast_litellm as f
from importlib.metadata import version
make = lambda: f.SimpleRateLimiter(60)
out = {"version": version("fast-litellm"), "rust": bool(f.RUST_ACCELERATION_AVAILABLE)}
if spec.get("rounds"):
    out["cycling"] = [bench_cycling(make, spec["n"], tag="c%d" % r) for r in range(spec["rounds"])]
    out["fresh"] = [bench_fresh(make, spec["n"], tag="f%d" % r) for r in range(spec["rounds"])]
    out["threads"] = [bench_threads(make, spec["n"] // 8, tag="t%d" % r) for r in range(spec["rounds"])]
if spec.get("memory_sizes"):
    out["memory"] = memory_per_key(make, spec["memory_sizes"], spec["memory_total"])
print("FL010-RESULT " + json.dumps(out))
'''

MEMORY_SCRIPT = WORKLOADS + r'''
import json, sys
kind, sizes, total = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
from fast_litellm.ratelimit import implementation
Limiter = implementation(kind).SimpleRateLimiter
# a frozen clock keeps every bucket live (not refilled, so never reclaimed)
print("MEM-RESULT " + json.dumps(memory_per_key(lambda: Limiter(60, clock=lambda: 1.0), sizes, total)))
'''


def run_fl010(script: str, spec: Dict[str, Any], timeout: float = 600) -> Optional[Dict[str, Any]]:
    """Run a workload script in the fast-litellm 0.1.10 venv; None if unavailable."""
    python = _fl010_python()
    if python is None:
        return None
    env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True", PYTHONWARNINGS="ignore")
    env.pop("PYTHONPATH", None)
    try:
        proc = subprocess.run([python, "-c", script, json.dumps(spec)], capture_output=True,
                              text=True, env=env, timeout=timeout, cwd="/")
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in proc.stdout.splitlines():
        if line.startswith("FL010-RESULT "):
            return json.loads(line[len("FL010-RESULT "):])
    return None


def fl010_status() -> str:
    python = _fl010_python()
    if python is None:
        return "fast-litellm 0.1.10 venv not found (%s, or a bench peer venv: --peer-install)" % _FL010_ENV
    return "fast-litellm 0.1.10 venv at %s" % python


def _memory(kind: str, sizes: List[int], total: int) -> Dict[int, float]:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, kind, json.dumps(sizes), str(total)],
                          capture_output=True, text=True, env=env, timeout=600)
    for line in proc.stdout.splitlines():
        if line.startswith("MEM-RESULT "):
            return {int(k): v for k, v in json.loads(line[len("MEM-RESULT "):]).items()}
    raise RuntimeError("memory benchmark failed: %s" % proc.stderr[-2000:])


def _row(case: str, baseline: str, unit: str, base: float, value: float, higher: bool,
         params: Dict[str, Any]) -> Dict[str, Any]:
    ratio = (value / base if higher else base / value) if base and value else float("nan")
    return {"component": COMPONENT, "case": case, "baseline": baseline, "unit": unit,
            "baseline_value": base, "value": value, "ratio": ratio,
            "higher_is_better": higher, "params": params}


def run(quick: bool = False) -> List[Dict[str, Any]]:
    from fast_litellm.ratelimit import implementation
    from fast_litellm._native_loader import native_has

    if not native_has("RateLimiter"):
        return []
    native = implementation("native").SimpleRateLimiter
    python = implementation("python").SimpleRateLimiter
    n = 8_000 if quick else 50_000
    rounds = 3 if quick else 15  # many short interleaved rounds: min resists load bursts
    twin = "fast_litellm pure-Python twin (thread-safe)"

    # interleaved rounds, fresh keys per round (no cache can flatter a side)
    measured: Dict[str, Dict[str, List[float]]] = {}
    cases: Dict[str, Callable[[Callable[[], Any], str], float]] = {
        "check, 1000 keys cycling, 1 thread": lambda make, tag: bench_cycling(make, n, tag=tag),
        "check, new key per call, 1 thread": lambda make, tag: bench_fresh(make, n, tag=tag),
        "check, 1000 keys, 8 threads (wall ns/check)":
            lambda make, tag: bench_threads(make, n // 8, tag=tag),
    }
    for r in range(rounds):
        for case, fn in cases.items():
            for side, cls in (("native", native), ("python", python)):
                measured.setdefault(case, {}).setdefault(side, []).append(
                    fn(lambda: cls(60), "%s%d%s" % (side[0], r, case[7])))
    rows = []
    # min of interleaved rounds: the least disturbed run of each side (shared machine)
    params = {"n": n, "rounds": rounds, "requests_per_minute": 60, "stat": "min of rounds"}
    for case, sides in measured.items():
        rows.append(_row(case, twin, "ns/check", min(sides["python"]), min(sides["native"]),
                         False, params))

    sizes = [1_000, 10_000, 50_000] if quick else [1_000, 10_000, 100_000, 1_000_000]
    fl_sizes = [s for s in sizes if s <= 100_000]  # 0.1.10 needs ~2.8 kB/key
    total = sizes[-1]
    fl_total = min(total, 100_000)
    fl = run_fl010(FL010_SCRIPT, {"n": n, "rounds": rounds, "memory_sizes": fl_sizes,
                                  "memory_total": fl_total})
    if fl is not None:
        label = "fast-litellm %s (Rust, PyPI)" % fl["version"]
        for case, key in zip(cases, ("cycling", "fresh", "threads")):
            rows.append(_row(case, label, "ns/check", min(fl[key]),
                             min(measured[case]["native"]), False,
                             dict(params, note="baseline measured in its own venv process")))

    mem_native = _memory("native", sizes, total)
    mem_python = _memory("python", sizes, total)
    fl_mem = fl
    for size in sizes:
        p = {"keys_per_limiter": size, "limiters": max(1, total // size),
             "measure": "process RSS growth / live keys (ours: frozen clock, nothing reclaimed)"}
        rows.append(_row("memory per key, %d keys" % size, twin, "bytes/key",
                         mem_python[size], mem_native[size], False, p))
        if fl_mem is not None and str(size) in fl_mem["memory"]:
            rows.append(_row("memory per key, %d keys" % size,
                             "fast-litellm %s (Rust, PyPI)" % fl_mem["version"], "bytes/key",
                             fl_mem["memory"][str(size)], mem_native[size], False,
                             dict(p, baseline_limiters=max(1, fl_total // size))))
    return rows


def print_table(rows: List[Dict[str, Any]]) -> None:
    print("%-46s %-44s %12s %12s %8s" % ("case", "baseline", "baseline", "ours", "ratio"))
    for r in rows:
        print("%-46s %-44s %12.1f %12.1f %7.1fx  %s" % (
            r["case"], r["baseline"][:44], r["baseline_value"], r["value"], r["ratio"], r["unit"]))


if __name__ == "__main__":
    from ..bench.component_args import parse

    quick = parse("fast_litellm.ratelimit.bench", __doc__, sys.argv[1:]).quick
    t0 = time.time()
    results = run(quick=quick)
    print_table(results)
    print("(%s; %.1f s)" % (fl010_status(), time.time() - t0))
