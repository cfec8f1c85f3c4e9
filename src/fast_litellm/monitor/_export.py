"""Exports of the monitor's statistics: JSON, CSV (RFC 4180) and the
Prometheus text exposition format (version 0.0.4).

Formats are a registry (``FORMATS``): adding one is adding a function.
"""
from __future__ import annotations

import io
import math
import time
from typing import Any, Callable, Dict, Iterator, List, Tuple

CSV_COLUMNS = ("component", "operation", "scope", "count", "errors", "success_rate",
               "mean_ms", "min_ms", "max_ms", "p50_ms", "p95_ms", "p99_ms",
               "total_input_size", "total_output_size")
PROMETHEUS_PREFIX = "fast_litellm_"
PROMETHEUS_QUANTILES = (("0.5", "p50_ms"), ("0.95", "p95_ms"), ("0.99", "p99_ms"))


def _selected(monitor: Any, component: Any) -> Dict[str, Dict[str, Any]]:
    if component is None:
        return monitor.get_performance_stats()
    return {component: monitor.get_performance_stats(component)}


def _operations(stats: Dict[str, Dict[str, Any]]) -> Iterator[Tuple[str, str, Dict[str, Any]]]:
    for component, comp_stats in stats.items():
        for operation, op_stats in comp_stats["operations"].items():
            yield component, operation, op_stats


def export_json(monitor: Any, stats: Dict[str, Dict[str, Any]]) -> str:
    import json

    info = monitor.monitor_info()
    document = {
        "format_version": 1,
        "exported_at": time.time(),
        "implementation": info["implementation"],
        "window_seconds": info["window_seconds"],
        "interval_seconds": info["interval_seconds"],
        "max_series": info["max_series"],
        "components": stats,
    }
    return json.dumps(document, indent=2)


def export_csv(monitor: Any, stats: Dict[str, Dict[str, Any]]) -> str:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    for component, operation, op_stats in _operations(stats):
        for scope, values in (("lifetime", op_stats), ("window", op_stats["window"])):
            row: List[Any] = [component, operation, scope]
            for column in CSV_COLUMNS[3:]:
                value = values[column]
                row.append("" if value is None else repr(value) if isinstance(value, float)
                           else value)
            writer.writerow(row)
    return out.getvalue()


def _label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: Any) -> str:
    if value is None:
        return "NaN"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _labels(**labels: str) -> str:
    return "{" + ",".join('%s="%s"' % (k, _label_value(v)) for k, v in labels.items()) + "}"


def _family(name: str, type_: str, help_: str) -> List[str]:
    help_ = help_.replace("\\", "\\\\").replace("\n", "\\n")
    return ["# HELP %s%s %s" % (PROMETHEUS_PREFIX, name, help_),
            "# TYPE %s%s %s" % (PROMETHEUS_PREFIX, name, type_)]


def export_prometheus(monitor: Any, stats: Dict[str, Dict[str, Any]]) -> str:
    ops = list(_operations(stats))
    window = monitor.monitor_info()["window_seconds"]
    lines = _family(
        "call_duration_seconds", "summary",
        "Duration of recorded calls: quantiles over the last %g s, sum and count over the "
        "process lifetime." % window)
    for component, operation, s in ops:
        for quantile, key in PROMETHEUS_QUANTILES:
            ms = s["window"][key]
            lines.append("%scall_duration_seconds%s %s" % (
                PROMETHEUS_PREFIX,
                _labels(component=component, operation=operation, quantile=quantile),
                _number(None if ms is None else ms / 1e3)))
        base = _labels(component=component, operation=operation)
        total_seconds = s["total_ms"] / 1e3
        lines.append("%scall_duration_seconds_sum%s %s"
                     % (PROMETHEUS_PREFIX, base, _number(total_seconds)))
        lines.append("%scall_duration_seconds_count%s %s"
                     % (PROMETHEUS_PREFIX, base, _number(s["count"])))

    lines += _family("call_duration_lifetime_seconds", "gauge",
                     "Quantiles of the duration of recorded calls over the process lifetime.")
    for component, operation, s in ops:
        for quantile, key in PROMETHEUS_QUANTILES:
            ms = s[key]
            lines.append("%scall_duration_lifetime_seconds%s %s" % (
                PROMETHEUS_PREFIX,
                _labels(component=component, operation=operation, quantile=quantile),
                _number(None if ms is None else ms / 1e3)))

    counters = (
        ("call_errors_total", "errors", "Recorded calls that failed."),
        ("call_input_size_total", "total_input_size", "Sum of the input sizes recorded."),
        ("call_output_size_total", "total_output_size", "Sum of the output sizes recorded."),
    )
    for name, key, help_ in counters:
        lines += _family(name, "counter", help_)
        for component, operation, s in ops:
            lines.append("%s%s%s %s" % (PROMETHEUS_PREFIX, name,
                                        _labels(component=component, operation=operation),
                                        _number(s[key])))
    return "\n".join(lines) + "\n"


FORMATS: Dict[str, Callable[[Any, Dict[str, Dict[str, Any]]], str]] = {
    "json": export_json,
    "csv": export_csv,
    "prometheus": export_prometheus,
}


def export(monitor: Any, component: Any, format: Any) -> str:
    if component is not None and not isinstance(component, str):
        raise TypeError("component must be str or None, not %s" % type(component).__name__)
    if format is None:
        format = "json"
    if not isinstance(format, str):
        raise TypeError("format must be str, not %s" % type(format).__name__)
    exporter = FORMATS.get(format.lower())
    if exporter is None:
        raise ValueError("format must be one of %s, got %r"
                         % (", ".join(repr(f) for f in FORMATS), format))
    return exporter(monitor, _selected(monitor, component))
