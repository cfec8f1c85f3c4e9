"""Discover and run every component benchmark.

A component benchmark is a module ``fast_litellm.<component>.bench`` with
``run(quick: bool = False) -> list[dict]`` (see the benchmarks convention in
the project's developer notes).  Each row says what was measured (``case``),
against what a user would otherwise run (``baseline``), both figures, and
their ``ratio`` (>1: we are faster/better).  A component whose bench module
is missing or fails is reported as a note, never as a crash of the suite.
"""
from __future__ import annotations

import importlib
import math
import time
import traceback
from typing import Any, Callable, Dict, List, Optional, Sequence

# The registry of component benchmarks, in the order the table shows them.
COMPONENTS: Sequence[str] = (
    "tokenizer", "token_counter", "routing", "ratelimit", "pool", "cache", "monitor", "cost",
)

ROW_KEYS = ("component", "case", "baseline", "unit", "baseline_value", "value", "ratio",
            "higher_is_better", "params")


def ratio_of(baseline_value: Optional[float], value: Optional[float], higher_is_better: bool) -> Optional[float]:
    """>1 means ``value`` is better than ``baseline_value``."""
    if baseline_value is None or value is None:
        return None
    try:
        b, v = float(baseline_value), float(value)
    except (TypeError, ValueError):
        return None
    if higher_is_better:
        return v / b if b > 0 else None
    return b / v if v > 0 else None


def make_row(component: str, case: str, baseline: str, unit: str, baseline_value: Optional[float],
             value: Optional[float], higher_is_better: bool, params: Optional[Dict[str, Any]] = None,
             **extra: Any) -> Dict[str, Any]:
    row = {
        "component": component, "case": case, "baseline": baseline, "unit": unit,
        "baseline_value": baseline_value, "value": value,
        "ratio": ratio_of(baseline_value, value, higher_is_better),
        "higher_is_better": higher_is_better, "params": dict(params or {}),
    }
    row.update(extra)
    return row


def validate_row(row: Any) -> List[str]:
    """Problems with one benchmark row (empty list: fine)."""
    if not isinstance(row, dict):
        return ["row is %s, not dict" % type(row).__name__]
    problems = ["missing %r" % k for k in ROW_KEYS if k not in row]
    for k in ("component", "case", "baseline", "unit"):
        if k in row and not isinstance(row[k], str):
            problems.append("%s is not a string" % k)
    for k in ("baseline_value", "value", "ratio"):
        v = row.get(k)
        if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool) or
                              (isinstance(v, float) and math.isnan(v))):
            problems.append("%s is not a number" % k)
    if "higher_is_better" in row and not isinstance(row["higher_is_better"], bool):
        problems.append("higher_is_better is not a bool")
    if "params" in row and not isinstance(row["params"], dict):
        problems.append("params is not a dict")
    return problems


def load_component_bench(component: str):
    """The component's bench module, or None if it does not exist (yet)."""
    name = "fast_litellm.%s.bench" % component
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        # Missing module (the component or its bench) -> skipped; a missing
        # dependency *inside* an existing bench is an error worth showing.
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            return None
        raise


def _run_on_stock_litellm(module: Any, quick: bool) -> List[Dict[str, Any]]:
    """Run a component benchmark with LiteLLM unpatched: ``import
    fast_litellm`` patched it, and a baseline measured through our own
    patches would compare us with ourselves.  Each benchmark applies its
    accelerated side itself; the previous state is restored after."""
    from ..patching.engine import unpatched

    with unpatched():
        return list(module.run(quick=quick) or [])


def run_component(component: str, quick: bool) -> Dict[str, Any]:
    """{"component", "status": ok|missing|error, "rows", "note", "seconds"}."""
    t0 = time.perf_counter()
    result: Dict[str, Any] = {"component": component, "rows": [], "note": ""}
    try:
        module = load_component_bench(component)
        if module is None:
            result.update(status="missing", note="no fast_litellm.%s.bench module (yet)" % component)
        elif not callable(getattr(module, "run", None)):
            result.update(status="error", note="fast_litellm.%s.bench has no run()" % component)
        else:
            rows = _run_on_stock_litellm(module, quick)
            # a row with unit "n/a" says why a side was not measured (e.g. a
            # peer without that encoding): a note, not a malformed figure
            notes = ["%s (%s)" % (r.get("case"), (r.get("params") or {}).get("reason", ""))
                     for r in rows if isinstance(r, dict) and r.get("unit") == "n/a"]
            rows = [r for r in rows if not (isinstance(r, dict) and r.get("unit") == "n/a")]
            good, bad = [], []
            for row in rows:
                problems = validate_row(row)
                (bad if problems else good).append((row, problems))
            result["rows"] = [r for r, _ in good]
            result["status"] = "ok"
            if not rows:
                result["note"] = "returned no rows (nothing to compare on this build?)"
            if notes:
                result["note"] = "; ".join(notes)
            if bad:
                result["note"] = "; ".join(
                    [result["note"]] * bool(result["note"])
                    + ["%d malformed row(s) dropped: %s" % (len(bad), "; ".join(bad[0][1]))])
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a broken component must not sink the suite
        result.update(status="error", note="%s: %s" % (type(exc).__name__, exc),
                      traceback=traceback.format_exc(limit=8))
    result["seconds"] = time.perf_counter() - t0
    return result


def run_components(components: Sequence[str], quick: bool,
                   on_progress: Optional[Callable[[str, Dict[str, Any]], None]] = None) -> List[Dict[str, Any]]:
    results = []
    for component in components:
        if on_progress:
            on_progress(component, {})
        res = run_component(component, quick)
        results.append(res)
        if on_progress:
            on_progress(component, res)
    return results
