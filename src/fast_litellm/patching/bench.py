"""Costs of the control plane: import time, the per-call patch wrapper,
and is_enabled.  Run: python -m fast_litellm.patching.bench [--quick]

Each case reports what a user pays for fast_litellm itself, next to what
they would run without it (ratio > 1: we are faster; < 1: an overhead).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional


def _subprocess_seconds(code: str, runs: int) -> float:
    env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True")
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-500:])
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def _per_call_ns(fn, n: int) -> float:
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fn(1, 2)
        best = min(best, (time.perf_counter_ns() - t0) / n)
    return best


def _row(case: str, baseline: str, unit: str, base: float, value: float,
         higher_is_better: bool, **params: Any) -> Dict[str, Any]:
    ratio = (value / base if higher_is_better else base / value) if base and value else 0.0
    return {"component": "core", "case": case, "baseline": baseline, "unit": unit,
            "baseline_value": base, "value": value, "ratio": ratio,
            "higher_is_better": higher_is_better, "params": params}


def run(quick: bool = False) -> List[Dict[str, Any]]:
    from fast_litellm import flags
    from fast_litellm.patching.registry import Patch
    from fast_litellm.patching.wrappers import guarded

    rows = []
    runs = 3 if quick else 7
    t_bare = _subprocess_seconds(
        "import time; t=time.perf_counter(); import json; print(time.perf_counter()-t)", runs)
    t_fl = _subprocess_seconds(
        "import time; t=time.perf_counter(); import fast_litellm; print(time.perf_counter()-t)", runs)
    rows.append(_row("import fast_litellm (no LiteLLM imported)", "import json", "ms",
                     t_bare * 1e3, t_fl * 1e3, False, runs=runs))
    if not quick:
        try:
            t_lite = _subprocess_seconds(
                "import time; t=time.perf_counter(); import litellm; print(time.perf_counter()-t)", 3)
            t_both = _subprocess_seconds(
                "import time; t=time.perf_counter(); import fast_litellm, litellm; "
                "print(time.perf_counter()-t)", 3)
            rows.append(_row("import litellm (+ patches applied)", "import litellm, stock", "ms",
                             t_lite * 1e3, t_both * 1e3, False, runs=3))
        except Exception:
            pass

    def target(a, b):
        return a + b

    patch = Patch(name="bench_noop", component="core", flag="rust_routing",
                  target="bench:target", build=lambda orig: target)
    wrapped = guarded(patch, target, target)
    n = 20000 if quick else 200000
    rows.append(_row("patch wrapper per call (flag on)", "direct call", "ns/call",
                     _per_call_ns(target, n), _per_call_ns(wrapped, n), False, calls=n))
    flag = flags.get_flag("rust_routing")
    is_enabled = flags.is_enabled
    d = {"rust_routing": True}
    base = _per_call_ns(lambda a, b: d.get("rust_routing"), n)
    rows.append(_row("is_enabled(on/off flag)", "dict.get", "ns/call", base,
                     _per_call_ns(lambda a, b: is_enabled("rust_routing"), n), False, calls=n))
    del flag
    return rows


def main(argv: Optional[List[str]] = None) -> None:
    from ..bench.component_args import parse

    quick = parse("fast_litellm.patching.bench", __doc__, sys.argv[1:] if argv is None else argv).quick
    for r in run(quick):
        print("%-45s %12.1f %-8s vs %-24s %10.1f  ratio %.2f" % (
            r["case"], r["value"], r["unit"], r["baseline"], r["baseline_value"], r["ratio"]))


if __name__ == "__main__":
    main()
