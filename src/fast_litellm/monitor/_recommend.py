"""Recommendations: a registry of rules, each reading the recorded
statistics (and the feature flags' own counters) and yielding advice.

Each recommendation is a dict with ``type``, ``component``, ``operation``
(or None), ``severity`` ("critical", "warning" or "info"), ``message``,
``evidence`` (the numbers the rule looked at) and ``suggestions``.

Native/original pairs are found two ways: an operation ``<op>`` next to
``<op>.original`` in the same component (how the patch engine records a
patched function and its original), and a component named ``rust_<x>`` or
``native_<x>`` next to ``python_<x>``, ``original_<x>``, ``stock_<x>`` or
``litellm_<x>``.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

ORIGINAL_SUFFIX = ".original"
NATIVE_PREFIXES = ("rust_", "native_")
BASELINE_PREFIXES = ("python_", "original_", "stock_", "litellm_")
#: calls needed before an error rate or a latency shape is judged
MIN_SAMPLES = 20
#: error rate flagged when no flag gives its own threshold
DEFAULT_ERROR_RATE = 0.05
CRITICAL_ERROR_RATE = 0.25
#: p99 / p50 beyond which the tail is called heavy
TAIL_RATIO = 10.0
TAIL_MIN_SAMPLES = 100

SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}

Stats = Dict[str, Dict[str, Any]]
Rec = Dict[str, Any]


def _rec(type_: str, component: str, severity: str, message: str, evidence: Dict[str, Any],
         suggestions: List[str], operation: Optional[str] = None) -> Rec:
    return {"type": type_, "component": component, "operation": operation,
            "severity": severity, "message": message, "evidence": evidence,
            "suggestions": suggestions}


def _safe_call(path: str) -> Dict[str, Any]:
    """fast_litellm.<path>() or {} while that part is missing or failing."""
    module_name, func = path.rsplit(".", 1)
    try:
        import importlib

        result = getattr(importlib.import_module(module_name), func)()
    except Exception:
        return {}
    return result if isinstance(result, dict) else {}


def _flags_by_component() -> Tuple[Dict[str, Any], Dict[str, str]]:
    """Flag statuses, and a component -> flag name map from every source we have."""
    flags = _safe_call("fast_litellm.flags.get_feature_status")
    owner: Dict[str, str] = {}
    for name, status in flags.items():
        owner.setdefault(name, name)
        if isinstance(status, dict) and isinstance(status.get("alias"), str):
            owner.setdefault(status["alias"], name)
        if name.startswith("rust_"):
            owner.setdefault(name[len("rust_"):], name)
    patches = _safe_call("fast_litellm.patching.get_patch_status").get("patches", {})
    if isinstance(patches, dict):
        for patch in patches.values():
            if isinstance(patch, dict) and patch.get("component") and patch.get("flag"):
                owner.setdefault(str(patch["component"]), str(patch["flag"]))
    return flags, owner


def _judged(stats: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
    """The recent window when it has enough calls, else the lifetime."""
    window = stats.get("window", {})
    if window.get("count", 0) >= MIN_SAMPLES:
        return "window", window
    return "lifetime", stats


def _native_baseline_pairs(stats: Stats) -> Iterator[Tuple[str, str, str]]:
    """(component, native selector, baseline selector) for compare_implementations."""
    for component, comp_stats in stats.items():
        operations = comp_stats.get("operations", {})
        for operation in operations:
            if not operation.endswith(ORIGINAL_SUFFIX) and operation + ORIGINAL_SUFFIX in operations:
                yield (component, "%s:%s" % (component, operation),
                       "%s:%s%s" % (component, operation, ORIGINAL_SUFFIX))
        for native_prefix in NATIVE_PREFIXES:
            if component.startswith(native_prefix):
                suffix = component[len(native_prefix):]
                for baseline_prefix in BASELINE_PREFIXES:
                    if baseline_prefix + suffix in stats:
                        yield component, component, baseline_prefix + suffix


def rule_native_slower(stats: Stats, compare: Callable[..., Rec], flags, owner) -> Iterator[Rec]:
    for component, native, baseline in _native_baseline_pairs(stats):
        result = compare(native, baseline)
        if result["verdict"] != "native_slower":
            continue
        flag = owner.get(component) or owner.get(component.split("_", 1)[-1])
        yield _rec(
            "native_slower", component, "warning",
            "%s is slower than %s (%.4f ms vs %.4f ms mean)"
            % (native, baseline, result["native_avg_ms"], result["baseline_avg_ms"]),
            {k: result[k] for k in ("native_avg_ms", "baseline_avg_ms", "speedup",
                                    "rust_count", "python_count")},
            ["Turn off %s for this workload and report it"
             % ("flag " + flag if flag else "the component's flag")],
            operation=native.partition(":")[2] or None,
        )


def rule_error_rate(stats: Stats, compare, flags, owner) -> Iterator[Rec]:
    for component, comp_stats in stats.items():
        scope, judged = _judged(comp_stats)
        if judged.get("count", 0) < MIN_SAMPLES or not judged.get("errors"):
            continue
        flag = owner.get(component)
        status = flags.get(flag, {}) if flag else {}
        threshold = status.get("error_rate_threshold") if isinstance(status, dict) else None
        if not isinstance(threshold, (int, float)):
            threshold = DEFAULT_ERROR_RATE
        rate = judged["error_rate"]
        if rate <= threshold:
            continue
        severity = "critical" if rate >= CRITICAL_ERROR_RATE else "warning"
        yield _rec(
            "high_error_rate", component, severity,
            "%.1f%% of %d recorded calls failed (%s), above %.1f%%"
            % (rate * 100, judged["count"], scope, threshold * 100),
            {"scope": scope, "count": judged["count"], "errors": judged["errors"],
             "error_rate": rate, "threshold": threshold, "flag": flag},
            ["Check fast_litellm.get_feature_status() for the last error",
             "Turn the flag off (%s=false) while investigating"
             % ("FAST_LITELLM_" + flag.upper() if flag else "its FAST_LITELLM_* variable")],
        )


def rule_flag_error_threshold(stats: Stats, compare, flags, owner) -> Iterator[Rec]:
    for flag, status in flags.items():
        if not isinstance(status, dict):
            continue
        errors, threshold = status.get("errors"), status.get("error_threshold")
        if not isinstance(errors, int) or not isinstance(threshold, int) or threshold <= 0:
            continue
        if errors < threshold:
            continue
        last = status.get("last_error")
        yield _rec(
            "flag_error_threshold", flag, "critical",
            "flag %s counted %d native errors (threshold %d); state: %s"
            % (flag, errors, threshold, status.get("state")),
            {"errors": errors, "error_threshold": threshold, "state": status.get("state"),
             "last_error": last},
            ["Inspect last_error, then fast_litellm.reset_errors(%r) to re-enable" % flag],
        )


def rule_shadow_mismatch(stats: Stats, compare, flags, owner) -> Iterator[Rec]:
    for flag, status in flags.items():
        if not isinstance(status, dict):
            continue
        calls, mismatches = status.get("shadow_calls"), status.get("shadow_mismatches")
        if not isinstance(mismatches, int) or mismatches <= 0:
            continue
        yield _rec(
            "shadow_mismatch", flag, "critical",
            "flag %s in shadow mode: the fast path disagreed with the original %d times in %s "
            "calls" % (flag, mismatches, calls),
            {"shadow_calls": calls, "shadow_mismatches": mismatches},
            ["Keep %s off and report the inputs: the fast path is not exact for them" % flag],
        )


def rule_heavy_tail(stats: Stats, compare, flags, owner) -> Iterator[Rec]:
    for component, comp_stats in stats.items():
        for operation, op_stats in comp_stats.get("operations", {}).items():
            p50, p99 = op_stats.get("p50_ms"), op_stats.get("p99_ms")
            if op_stats.get("count", 0) < TAIL_MIN_SAMPLES or not p50 or not p99:
                continue
            ratio = p99 / p50
            if ratio < TAIL_RATIO:
                continue
            yield _rec(
                "heavy_tail_latency", component, "info",
                "p99 is %.0fx p50 (%.3f ms vs %.3f ms)" % (ratio, p99, p50),
                {"p50_ms": p50, "p99_ms": p99, "ratio": ratio, "count": op_stats["count"]},
                ["Look for lock contention, GC pauses or cache misses on this path"],
                operation=operation,
            )


def rule_series_overflow(stats: Stats, compare, flags, owner) -> Iterator[Rec]:
    overflow = stats.get("__overflow__")
    if overflow and overflow.get("count"):
        yield _rec(
            "series_overflow", "__overflow__", "warning",
            "%d calls were recorded under __overflow__: more distinct (component, operation) "
            "pairs than the monitor keeps" % overflow["count"],
            {"count": overflow["count"]},
            ["Use fewer distinct operation names (no ids in names), or a Monitor with a "
             "larger max_series"],
        )


RULES: List[Callable[..., Iterator[Rec]]] = [
    rule_flag_error_threshold,
    rule_shadow_mismatch,
    rule_error_rate,
    rule_native_slower,
    rule_heavy_tail,
    rule_series_overflow,
]


def recommendations(stats: Stats, compare: Callable[..., Rec]) -> List[Rec]:
    flags, owner = _flags_by_component()
    found: List[Rec] = []
    for rule in RULES:
        found.extend(rule(stats, compare, flags, owner))
    found.sort(key=lambda r: SEVERITY_ORDER.get(r["severity"], 9))
    return found
