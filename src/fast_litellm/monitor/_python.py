"""Pure-Python twin of the monitor's recorder (csrc/monitor + bind_monitor.c).

Same API and same numbers as ``fast_litellm._native.Monitor``: series keyed
by (component, operation), capped at ``max_series`` with one overflow
series, lifetime totals and histogram, and a ring of per-interval
histograms for the recent window.  Thread-safe with one lock per monitor;
after ``os.fork()`` the child gets fresh locks, so it can record at once
even if another thread held a lock at fork time.
"""
from __future__ import annotations

import math
import os
import threading
import time
import weakref
from typing import Any, Dict, List, Optional, Tuple

from . import _histogram
from ..ratelimit._common import refuse_pickle
from ._api import SATURATE, merge_raw

MAX_NAME = 1024
MAX_SERIES = 4096
MAX_INTERVALS = 600
MAX_DURATION_MS = 1e9
MAX_SIZE = 2**63 - 1
OVERFLOW_NAME = "__overflow__"

_LIVE: "weakref.WeakSet[Monitor]" = weakref.WeakSet()


class _Totals:
    __slots__ = ("count", "errors", "sum_ns", "min_ns", "max_ns", "input_total",
                 "output_total", "buckets")

    def __init__(self) -> None:
        self.count = self.errors = self.sum_ns = self.min_ns = self.max_ns = 0
        self.input_total = self.output_total = 0
        self.buckets: Dict[int, int] = {}

    def add(self, ns: int, bucket: int, ok: bool, input_size: Optional[int],
            output_size: Optional[int]) -> None:
        if self.count == 0 or ns < self.min_ns:
            self.min_ns = ns
        if ns > self.max_ns:
            self.max_ns = ns
        self.count += 1
        if not ok:
            self.errors += 1
        self.sum_ns = min(self.sum_ns + ns, SATURATE)
        if input_size is not None:
            self.input_total = min(self.input_total + input_size, SATURATE)
        if output_size is not None:
            self.output_total = min(self.output_total + output_size, SATURATE)
        self.buckets[bucket] = self.buckets.get(bucket, 0) + 1

    def as_tuple(self) -> Tuple[Any, ...]:
        return (self.count, self.errors, self.sum_ns, self.min_ns if self.count else 0,
                self.max_ns, self.input_total, self.output_total,
                _histogram.flatten(self.buckets))


class _Series:
    __slots__ = ("component", "operation", "lifetime", "epochs", "intervals")

    def __init__(self, component: str, operation: str, ring_len: int) -> None:
        self.component = component
        self.operation = operation
        self.lifetime = _Totals()
        self.epochs: List[Optional[int]] = [None] * ring_len
        self.intervals = [_Totals() for _ in range(ring_len)]


def _check_name(value: Any, argname: str) -> str:
    if not isinstance(value, str):
        raise TypeError("%s must be str, not %s" % (argname, type(value).__name__))
    # a str subclass is kept as its text (as the native twin keeps it): its
    # __hash__/__eq__ would otherwise run under the lock
    return value if type(value) is str else str.__str__(value)


def _real(value: Any, argname: str) -> float:
    """An int or float argument as a float (an int too large for one is
    infinite); a subclass's own value, as the native twin reads it."""
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, int):
        try:
            return int.__float__(value)
        except OverflowError:
            return math.inf  # out of range either way, as in the native twin
    raise TypeError("%s must be int or float, not %s" % (argname, type(value).__name__))


def _duration_ns(value: Any) -> int:
    ms = _real(value, "duration_ms")
    if not (0.0 <= ms <= MAX_DURATION_MS):
        raise ValueError("duration_ms must be a finite number from 0 to 1e9, got %r" % (value,))
    return math.floor(ms * 1e6 + 0.5)


def _size(value: Any, argname: str) -> Optional[int]:
    if value is None:
        return None
    if not isinstance(value, int):
        raise TypeError("%s must be int or None, not %s" % (argname, type(value).__name__))
    value = int.__int__(value)  # an int subclass's own value, as the native twin reads it
    if not (0 <= value <= MAX_SIZE):
        raise ValueError("%s must be from 0 to 2**63-1, got %r" % (argname, value))
    return value


class Monitor:
    """Bounded, thread-safe performance recorder (pure Python)."""

    def __init__(self, *, max_series: int = 128, window_seconds: float = 60.0,
                 interval_seconds: float = 10.0) -> None:
        if isinstance(max_series, bool) or not isinstance(max_series, int):
            raise TypeError("max_series must be int, not %s" % type(max_series).__name__)
        max_series = int.__index__(max_series)  # an int subclass's own comparisons never decide
        if not (1 <= max_series <= MAX_SERIES):
            raise ValueError("max_series must be from 1 to %d, got %d" % (MAX_SERIES, max_series))
        window_seconds = _real(window_seconds, "window_seconds")
        interval_seconds = _real(interval_seconds, "interval_seconds")
        if not (0.001 <= interval_seconds <= 86400.0):
            raise ValueError("interval_seconds must be from 0.001 to 86400")
        if not (window_seconds > 0.0 and window_seconds / interval_seconds <= MAX_INTERVALS):
            raise ValueError("window_seconds must be > 0 and at most %d intervals long"
                             % MAX_INTERVALS)
        intervals = math.ceil(window_seconds / interval_seconds)
        self._max_series = max_series
        self._window_seconds = window_seconds
        self._interval_seconds = interval_seconds
        self._window_intervals = int(intervals)
        self._ring_len = self._window_intervals + 1
        self._interval_ns = int(interval_seconds * 1e9)
        self._clock_offset_ns = 0
        self._lock = threading.Lock()
        self._index: Dict[Tuple[str, str], _Series] = {}
        self._overflow: Optional[_Series] = None
        _LIVE.add(self)

    __reduce_ex__ = refuse_pickle  # as the C twin: no copy or pickle (copy.copy shared the lock and series)

    def _now_ns(self) -> int:
        return max(0, time.monotonic_ns() + self._clock_offset_ns)

    def _series(self, component: str, operation: str) -> _Series:
        # caller holds the lock
        found = self._index.get((component, operation))
        if found is not None:
            return found
        for name, argname in ((component, "component"), (operation, "operation")):
            if len(name) > MAX_NAME // 4 and len(name.encode("utf-8")) > MAX_NAME:
                raise ValueError("%s must be at most %d bytes in UTF-8" % (argname, MAX_NAME))
        component.encode("utf-8")  # surrogates raise UnicodeEncodeError, as in C
        operation.encode("utf-8")
        if len(self._index) < self._max_series:
            found = _Series(component, operation, self._ring_len)
            self._index[(str(component), str(operation))] = found
            return found
        if self._overflow is None:
            self._overflow = _Series(OVERFLOW_NAME, OVERFLOW_NAME, self._ring_len)
        return self._overflow

    def record(self, component: str, operation: str, duration_ms: float,
               success: Optional[bool] = True, input_size: Optional[int] = None,
               output_size: Optional[int] = None) -> None:
        """Record one call."""
        component = _check_name(component, "component")
        operation = _check_name(operation, "operation")
        ns = _duration_ns(duration_ms)
        ok = True if success is None else bool(success)
        input_size = _size(input_size, "input_size")
        output_size = _size(output_size, "output_size")
        bucket = _histogram.index(ns)
        with self._lock:
            series = self._series(component, operation)
            series.lifetime.add(ns, bucket, ok, input_size, output_size)
            epoch = self._now_ns() // self._interval_ns
            slot = epoch % self._ring_len
            if series.epochs[slot] != epoch:
                series.epochs[slot] = epoch
                series.intervals[slot] = _Totals()
            series.intervals[slot].add(ns, bucket, ok, input_size, output_size)

    def _window(self, series: _Series, now_ns: int) -> Tuple[Any, ...]:
        current = now_ns // self._interval_ns
        oldest = max(0, current - self._window_intervals)
        return merge_raw(totals.as_tuple()
                         for epoch, totals in zip(series.epochs, series.intervals)
                         if epoch is not None and oldest <= epoch <= current)

    def snapshot(self) -> Dict[str, Any]:
        """Copy of every series: raw totals and sparse histograms."""
        now = self._now_ns()
        with self._lock:
            everything = list(self._index.values())
            if self._overflow is not None:
                everything.append(self._overflow)
            series = [
                (s.component, s.operation, s is self._overflow, s.lifetime.as_tuple(),
                 self._window(s, now))
                for s in everything
            ]
        return {
            "series": series,
            "max_series": self._max_series,
            "memory_bytes": None,
            "window_seconds": self._window_seconds,
            "interval_seconds": self._interval_seconds,
        }

    def reset(self) -> None:
        """Forget every series."""
        with self._lock:
            self._index = {}
            self._overflow = None

    def series_count(self) -> int:
        """Number of (component, operation) series, excluding the overflow series."""
        with self._lock:
            return len(self._index)

    def _advance_clock(self, seconds: float) -> None:
        """Testing only: move this monitor's clock forward by ``seconds``."""
        seconds = float(seconds)
        if not (0.0 <= seconds <= 1e9) or self._clock_offset_ns + seconds * 1e9 > 1e18:
            raise ValueError(
                "seconds must be from 0 to 1e9, and the total offset at most 1e18 ns")
        self._clock_offset_ns += int(seconds * 1e9)

    def _after_fork_in_child(self) -> None:
        self._lock = threading.Lock()


def _reinit_locks_after_fork() -> None:
    for monitor in list(_LIVE):
        monitor._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_locks_after_fork)
