"""Performance monitor: record every accelerated call cheaply, read
statistics, comparisons, recommendations and exports.

``record_performance`` is a C function (``fast_litellm._native.Monitor``)
when the native core is loaded, else the pure-Python twin
(``_python.Monitor``); both keep bounded per (component, operation) series
with lifetime and recent-window histograms.  ``implementation(kind)``
returns the API bound to either twin's own default monitor.
"""
from __future__ import annotations

from typing import Any, Dict

from .._native_loader import check_kind, native_has, require_native
from ._api import PerformanceMonitor

__all__ = [
    "record_performance", "get_performance_stats", "compare_implementations",
    "get_recommendations", "export_performance_data", "reset_performance_stats",
    "monitor_info", "implementation", "PerformanceMonitor", "Monitor", "IMPLEMENTATION",
]

_DEFAULTS: Dict[str, PerformanceMonitor] = {}


def _monitor_class(kind: str) -> Any:
    check_kind(kind)
    if kind == "native":
        return require_native("monitor", "Monitor").Monitor
    from ._python import Monitor as PythonMonitor

    return PythonMonitor


def implementation(kind: str) -> PerformanceMonitor:
    """The monitor API over the ``"native"`` or ``"python"`` twin (one default
    monitor per kind, shared by every caller of this function)."""
    api = _DEFAULTS.get(kind)
    if api is None:
        # setdefault: threads racing on the first call all get the one kept
        api = _DEFAULTS.setdefault(kind, PerformanceMonitor(_monitor_class(kind)(), kind))
    return api


IMPLEMENTATION = "native" if native_has("Monitor") else "python"
_default = implementation(IMPLEMENTATION)
Monitor = _default.Monitor

record_performance = _default.record_performance
get_performance_stats = _default.get_performance_stats
compare_implementations = _default.compare_implementations
get_recommendations = _default.get_recommendations
export_performance_data = _default.export_performance_data
reset_performance_stats = _default.reset_performance_stats
monitor_info = _default.monitor_info
