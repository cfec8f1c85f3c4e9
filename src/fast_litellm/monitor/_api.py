"""The monitor's public API over a recorder (native or pure-Python twin).

A recorder (``Monitor``) only counts: ``record()`` on the hot path and
``snapshot()`` returning raw totals and sparse histograms.  Everything a
user reads is computed here, once for both twins, from a snapshot:
statistics with quantiles, comparisons, recommendations and exports.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Tuple

from . import _histogram

QUANTILES: Tuple[Tuple[str, float], ...] = (("p50_ms", 0.50), ("p95_ms", 0.95), ("p99_ms", 0.99))
#: fewer samples than this on either side and compare_implementations does not recommend
MIN_COMPARE_SAMPLES = 10
#: speedup beyond which one side is called faster (5 % either way)
SIGNIFICANT_SPEEDUP = 1.05

#: totals saturate here, as the C core's 64-bit counters do
SATURATE = 2**64 - 1

#: a recorder's totals: (count, errors, sum_ns, min_ns, max_ns, input, output,
#: buckets), buckets flat and ascending: (bucket, count, bucket, count, ...)
_Raw = Tuple[Any, ...]


def merge_raw(parts: Iterable[_Raw]) -> _Raw:
    """Totals of several raw tuples; the twin of counters_merge in
    csrc/monitor/monitor.c."""
    non_empty = [part for part in parts if part[0]]
    if len(non_empty) == 1:
        return non_empty[0]
    count = errors = sum_ns = min_ns = max_ns = input_total = output_total = 0
    buckets: Dict[int, int] = {}
    for c, e, s, lo, hi, i, o, b in non_empty:
        min_ns = lo if count == 0 or lo < min_ns else min_ns
        max_ns = max(max_ns, hi)
        count += c
        errors += e
        sum_ns = min(sum_ns + s, SATURATE)
        input_total = min(input_total + i, SATURATE)
        output_total = min(output_total + o, SATURATE)
        for idx, n in zip(b[::2], b[1::2]):
            buckets[idx] = buckets.get(idx, 0) + n
    return (count, errors, sum_ns, min_ns, max_ns, input_total, output_total,
            _histogram.flatten(buckets))


def metrics(raw: _Raw) -> Dict[str, Any]:
    """count, errors, success_rate, mean/min/max/p50/p95/p99 in ms, size totals."""
    count, errors, sum_ns, min_ns, max_ns, input_total, output_total, buckets = raw
    out: Dict[str, Any] = {"count": count, "errors": errors}
    if count == 0:
        out.update(success_rate=None, error_rate=None, mean_ms=None, total_ms=0.0,
                   min_ms=None, max_ms=None)
        out.update((name, None) for name, _ in QUANTILES)
    else:
        out["success_rate"] = (count - errors) / count
        out["error_rate"] = errors / count
        out["mean_ms"] = sum_ns / count / 1e6
        out["total_ms"] = sum_ns / 1e6
        out["min_ms"] = min_ns / 1e6
        out["max_ms"] = max_ns / 1e6
        found = _histogram.quantile_indexes(buckets, count, [q for _, q in QUANTILES])
        for (name, _), idx in zip(QUANTILES, found):
            value = _histogram.midpoint(idx)
            out[name] = min(max(value, float(min_ns)), float(max_ns)) / 1e6
    out["total_input_size"] = input_total
    out["total_output_size"] = output_total
    return out


def _with_window(lifetime: _Raw, window: _Raw, seconds: float) -> Dict[str, Any]:
    out = metrics(lifetime)
    out["window"] = dict(metrics(window), seconds=seconds)
    return out


def _legacy_aliases(stats: Dict[str, Any]) -> None:
    """Key names of the 0.1.x (Rust) releases, for drop-in compatibility."""
    stats["total_calls"] = stats["count"]
    stats["failed_calls"] = stats["errors"]
    stats["avg_duration_ms"] = stats["mean_ms"]
    stats["p95_duration_ms"] = stats["p95_ms"]
    stats["p99_duration_ms"] = stats["p99_ms"]


class PerformanceMonitor:
    """The performance-monitoring API bound to one recorder.

    ``record_performance`` is the recorder's own ``record`` (for the native
    twin, a C function); the other methods read ``recorder.snapshot()``.
    """

    def __init__(self, recorder: Any = None, kind: Optional[str] = None, **config: Any) -> None:
        """Bind to ``recorder``, or to a new ``Monitor(**config)`` of ``kind``
        (default: the twin the package uses)."""
        if recorder is None:
            from . import IMPLEMENTATION, _monitor_class

            kind = kind or IMPLEMENTATION
            recorder = _monitor_class(kind)(**config)
        elif config:
            raise TypeError("config is for a new recorder; pass it to Monitor() instead")
        self.recorder = recorder
        if kind is None:
            kind = "native" if type(recorder).__module__ == "fast_litellm._native" else "python"
        self.kind = kind
        self.Monitor = type(recorder)
        self.record_performance = recorder.record
        self.reset_performance_stats = recorder.reset

    def PerformanceMonitor(self, **config: Any) -> "PerformanceMonitor":
        """A new, independent monitor of the same twin as this one."""
        return PerformanceMonitor(self.Monitor(**config), self.kind)

    # -- statistics -----------------------------------------------------

    def _grouped(self, snap: Dict[str, Any]) -> Dict[str, List[Tuple[str, _Raw, _Raw]]]:
        pairs: Dict[Tuple[str, str], Tuple[_Raw, _Raw]] = {}
        for component, operation, _overflow, lifetime, window in snap["series"]:
            seen = pairs.get((component, operation))
            if seen is not None:  # a recorded ("__overflow__", "__overflow__") and the overflow
                lifetime, window = merge_raw((seen[0], lifetime)), merge_raw((seen[1], window))
            pairs[(component, operation)] = (lifetime, window)
        grouped: Dict[str, List[Tuple[str, _Raw, _Raw]]] = {}
        for (component, operation), (lifetime, window) in pairs.items():
            grouped.setdefault(component, []).append((operation, lifetime, window))
        return grouped

    def _component_stats(self, ops: List[Tuple[str, _Raw, _Raw]], seconds: float) -> Dict[str, Any]:
        stats = _with_window(merge_raw(o[1] for o in ops), merge_raw(o[2] for o in ops), seconds)
        _legacy_aliases(stats)
        stats["operations"] = {op: _with_window(lt, win, seconds) for op, lt, win in ops}
        return stats

    def get_performance_stats(self, component: Optional[str] = None) -> Dict[str, Any]:
        """Statistics per component and per operation, lifetime and recent window.

        Without ``component``: ``{component: stats}``.  With it: that
        component's stats (counts of zero when nothing was recorded).
        """
        if component is not None and not isinstance(component, str):
            raise TypeError("component must be str or None, not %s" % type(component).__name__)
        snap = self.recorder.snapshot()
        seconds = snap["window_seconds"]
        grouped = self._grouped(snap)
        if component is not None:
            return self._component_stats(grouped.get(component, []), seconds)
        return {name: self._component_stats(ops, seconds) for name, ops in grouped.items()}

    def monitor_info(self) -> Dict[str, Any]:
        """How the recorder is configured and how full it is."""
        snap = self.recorder.snapshot()
        return {
            "implementation": self.kind,
            "max_series": snap["max_series"],
            "series": sum(1 for s in snap["series"] if not s[2]),
            "overflow_used": any(s[2] for s in snap["series"]),
            "window_seconds": snap["window_seconds"],
            "interval_seconds": snap["interval_seconds"],
            "memory_bytes": snap["memory_bytes"],
            "histogram_relative_error": _histogram.RELATIVE_ERROR,
        }

    # -- comparison -----------------------------------------------------

    def compare_implementations(self, rust_component: str, python_component: str) -> Dict[str, Any]:
        """Compare the mean latency of a native component with its original.

        Each side names a component (all its operations) or one operation
        as ``"component:operation"`` (the patch engine records a patched
        function as operation ``<patch>`` and its original as
        ``<patch>.original`` in the same component).

        ``speedup`` is python_avg_ms / rust_avg_ms (> 1: the native path is
        faster).  With fewer than MIN_COMPARE_SAMPLES calls on either side
        the recommendation is ``"insufficient_data"``.
        """
        for value, argname in ((rust_component, "rust_component"),
                               (python_component, "python_component")):
            if not isinstance(value, str):
                raise TypeError("%s must be str, not %s" % (argname, type(value).__name__))
        grouped = self._grouped(self.recorder.snapshot())
        native = metrics(merge_raw(_select(grouped, rust_component)))
        baseline = metrics(merge_raw(_select(grouped, python_component)))
        return compare_metrics(rust_component, native, python_component, baseline)

    # -- recommendations --------------------------------------------------

    def get_recommendations(self) -> List[Dict[str, Any]]:
        """Advice computed from the recorded data and the feature flags."""
        from . import _recommend

        return _recommend.recommendations(self.get_performance_stats(),
                                          self.compare_implementations)

    # -- export -----------------------------------------------------------

    def export_performance_data(self, component: Optional[str] = None,
                                format: Optional[str] = "json") -> str:
        """The statistics as ``"json"``, ``"csv"`` (RFC 4180) or ``"prometheus"`` text."""
        from . import _export

        return _export.export(self, component, format)


def _select(grouped: Dict[str, List[Tuple[str, _Raw, _Raw]]], name: str) -> List[_Raw]:
    """Lifetime totals of a component, or of "component:operation"."""
    if name in grouped:
        return [lifetime for _, lifetime, _ in grouped[name]]
    # either name may hold ":" itself: the first split naming a recorded pair.
    # Only the splits after a recorded component are tried (at most max_series
    # of them): trying every ":" sliced the name once per colon, quadratic in
    # its length (a 200,000-colon name took 6 s)
    splits = sorted(len(component) for component in grouped
                    if name.startswith(component) and name[len(component):len(component) + 1] == ":")
    for at in splits:
        found = [lifetime for op, lifetime, _ in grouped[name[:at]] if op == name[at + 1:]]
        if found:
            return found
    return []


def compare_metrics(native_name: str, native: Dict[str, Any], baseline_name: str,
                    baseline: Dict[str, Any]) -> Dict[str, Any]:
    native_avg, baseline_avg = native["mean_ms"], baseline["mean_ms"]
    speedup = None
    if native_avg and baseline_avg:
        speedup = baseline_avg / native_avg
    if min(native["count"], baseline["count"]) < MIN_COMPARE_SAMPLES or speedup is None:
        recommendation, verdict = "insufficient_data", "insufficient_data"
        reason = ("need at least %d recorded calls of each (have %d of %r and %d of %r)"
                  % (MIN_COMPARE_SAMPLES, native["count"], native_name, baseline["count"],
                     baseline_name))
    elif speedup >= SIGNIFICANT_SPEEDUP:
        recommendation, verdict = "use_rust", "native_faster"
        reason = "native path is %.2fx faster on average" % speedup
    elif speedup <= 1.0 / SIGNIFICANT_SPEEDUP:
        recommendation, verdict = "use_python", "native_slower"
        reason = "native path is %.2fx slower on average" % (1.0 / speedup)
    else:
        recommendation, verdict = "no_significant_difference", "no_significant_difference"
        reason = "averages within %d %%" % round((SIGNIFICANT_SPEEDUP - 1) * 100)
    return {
        "rust_component": native_name,
        "python_component": baseline_name,
        "rust_avg_ms": native_avg,
        "python_avg_ms": baseline_avg,
        "native_avg_ms": native_avg,
        "baseline_avg_ms": baseline_avg,
        "rust_count": native["count"],
        "python_count": baseline["count"],
        "rust_p50_ms": native["p50_ms"],
        "python_p50_ms": baseline["p50_ms"],
        "speedup": speedup,
        "recommendation": recommendation,
        "verdict": verdict,
        "reason": reason,
    }
