"""The pure-Python twin of the in-memory rate limiter.

Same algorithm as csrc/ratelimit/ratelimit.c: a token is UNITS_PER_TOKEN
units, a bucket refills exactly ``rate`` units per nanosecond, everything is
integer arithmetic.  Buckets live in a dict keyed by the key itself (CPython
hashes str with per-process keyed SipHash, so crafted keys cannot collide).
A key with no bucket behaves as a full bucket, so full buckets are dropped
at exactly the moments the C core drops them (its table rebuilds: a new
bucket finding the bucket array full, and cleanup()), with the same room
after each: once the clock has gone back, *when* a bucket was reclaimed is
visible (kept, it shows its state of an earlier time; reclaimed, full), so
the twins must agree on it.  One lock per limiter;
after ``os.fork`` the child gets a fresh lock (see _common.register_for_fork).
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, List, Optional

from . import _common as C

_monotonic_ns = time.monotonic_ns
_MIN_ROOM = 8  # the C table's first bucket array (MIN_CAPACITY / 2)


def _room_for(live: int) -> int:
    """Buckets the C core's rebuilt table has room for (capacity_for / 2)."""
    room = _MIN_ROOM
    while room < live + 1:
        room *= 2
    return room


class SimpleRateLimiter:
    """Token-bucket rate limiter (pure Python twin; see the package doc)."""

    __slots__ = (
        "_rate", "_burst", "_cap", "_clock", "_lock", "_buckets", "_room",
        "_keep_raw", "_checks", "_allowed", "_denied", "__weakref__",
    )

    def __new__(cls, requests_per_minute: int = 60, *, burst: Optional[int] = None,
                backend: str = "memory", redis_url: Optional[str] = None,
                clock: Optional[Callable[[], float]] = None, keep_raw_keys: bool = False,
                **redis_options: Any):
        rate, burst, backend = C.check_config(requests_per_minute, burst, backend, clock)
        other = C.redis_instead(rate, burst, backend, redis_url, clock, keep_raw_keys, redis_options)
        if other is not None:
            return other
        self = object.__new__(cls)
        self._rate = rate
        self._burst = burst
        self._cap = burst * C.UNITS_PER_TOKEN
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: Dict[str, List[int]] = {}
        self._room = _MIN_ROOM
        self._keep_raw = bool(keep_raw_keys)
        self._checks = self._allowed = self._denied = 0
        C.register_for_fork(self)
        return self

    __reduce_ex__ = C.refuse_pickle

    # -- configuration -------------------------------------------------------
    @property
    def requests_per_minute(self) -> int:
        return self._rate

    @property
    def burst(self) -> int:
        return self._burst

    @property
    def backend(self) -> str:
        return "memory"

    def __repr__(self) -> str:
        return "SimpleRateLimiter(requests_per_minute=%d, burst=%d, backend='memory')" % (
            self._rate, self._burst)

    # -- internals -----------------------------------------------------------
    def _now(self) -> int:
        if self._clock is None:
            return _monotonic_ns()
        return C.clock_ns(self._clock())

    def _units(self, bucket: List[int], now: int) -> int:
        units, last = bucket
        if now <= last or units >= self._cap:
            return units
        deficit = self._cap - units
        if now - last >= -(-deficit // self._rate):
            return self._cap
        return units + (now - last) * self._rate

    def _sweep(self, now: int) -> int:
        full = [k for k, b in self._buckets.items() if self._units(b, now) >= self._cap]
        for k in full:
            del self._buckets[k]
        self._room = _room_for(len(self._buckets))
        return len(full)

    def _after_fork_in_child(self) -> None:
        self._lock = threading.Lock()

    def _test_hold_lock(self, seconds: float) -> None:
        """Tests only: hold the lock (to fork while it is held)."""
        with self._lock:
            time.sleep(seconds)

    # -- API -----------------------------------------------------------------
    def check(self, key: Optional[str] = None, cost: int = 1) -> Dict[str, Any]:
        """Check ``key`` and consume ``cost`` tokens if allowed."""
        key = C.check_key(key)
        cost = C.check_cost(cost)
        now = self._now()
        units_per_token = C.UNITS_PER_TOKEN
        with self._lock:
            self._checks += 1
            bucket = self._buckets.get(key)
            if bucket is None:
                units, last = self._cap, now
            else:
                units = self._units(bucket, now)
                # a full bucket is an absent one (time: now), as in the C core
                last = bucket[1] if bucket[1] > now and units < self._cap else now
            if cost > self._burst:
                self._denied += 1
                result = {"allowed": False, "reason": C.REASON_COST_OVER_BURST,
                          "remaining_requests": units // units_per_token,
                          "retry_after_ms": None}
            elif units >= cost * units_per_token:
                units -= cost * units_per_token
                self._allowed += 1
                result = {"allowed": True, "reason": C.REASON_OK,
                          "remaining_requests": units // units_per_token}
            else:
                self._denied += 1
                wait = -(-(cost * units_per_token - units) // self._rate)
                if last > now:
                    wait += last - now
                result = {"allowed": False, "reason": C.REASON_DENIED,
                          "remaining_requests": units // units_per_token,
                          "retry_after_ms": wait / 1e6}
            if bucket is not None:
                bucket[0] = units
                bucket[1] = last
            elif units < self._cap:
                if len(self._buckets) >= self._room:
                    self._sweep(now)
                self._buckets[key] = [units, last]
        return result

    def is_allowed(self, key: Optional[str] = None, cost: int = 1) -> bool:
        """check(key, cost)["allowed"] (consumes when allowed)."""
        return self.check(key, cost)["allowed"]

    def get_remaining(self, key: Optional[str] = None) -> int:
        """Whole tokens available for ``key`` now, without consuming."""
        key = C.check_key(key)
        now = self._now()
        with self._lock:
            bucket = self._buckets.get(key)
            units = self._cap if bucket is None else self._units(bucket, now)
        return units // C.UNITS_PER_TOKEN

    def cleanup(self) -> int:
        """Reclaim buckets that are full now; returns how many."""
        now = self._now()
        with self._lock:
            return self._sweep(now)

    def get_stats(self, raw_keys: bool = False) -> Dict[str, Any]:
        """Counters and the keys whose bucket is not full, by fingerprint
        (by raw key with raw_keys=True, which needs keep_raw_keys=True)."""
        if raw_keys and not self._keep_raw:
            raise ValueError("raw_keys=True needs SimpleRateLimiter(..., keep_raw_keys=True)")
        now = self._now()
        with self._lock:
            live = [(k, self._units(b, now)) for k, b in self._buckets.items()]
            counters = (self._checks, self._allowed, self._denied)
        keys = {}
        for k, units in live:
            if units < self._cap:
                label = k if raw_keys else C.key_fingerprint(k)
                keys[label] = {"remaining_requests": units // C.UNITS_PER_TOKEN}
        return {
            "backend": "memory",
            "implementation": "python",
            "requests_per_minute": self._rate,
            "burst": self._burst,
            "total_checks": counters[0],
            "allowed": counters[1],
            "denied": counters[2],
            "tracked_keys": len(keys),
            "keys": keys,
        }


key_fingerprint = C.key_fingerprint
