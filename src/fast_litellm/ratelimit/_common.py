"""What both rate-limiter twins share: argument validation (same errors,
same messages), the stable key fingerprint, clock conversion, the fork
registry and the flag-error hook.

Time is kept in integer nanoseconds.  A user clock returns seconds (like
``time.monotonic``); both twins convert with ``floor(float(t) * 1e9)``, the
same IEEE operation in C and Python, so a frozen clock gives identical
answers from either twin.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Dict
from .._forksafe import register_for_fork  # noqa: F401 - the shared fork registry, used by the limiters

#: One token is this many units (ns per minute): a bucket refilling R tokens
#: per minute gains exactly R units per nanosecond.
UNITS_PER_TOKEN = 60_000_000_000
MAX_RATE = 1 << 62
MAX_BURST = (2**63 - 1) // UNITS_PER_TOKEN
DEFAULT_KEY = "default"

REASON_OK = "ok"
REASON_DENIED = "rate limit exceeded"
REASON_COST_OVER_BURST = "cost exceeds burst"

BACKENDS = ("memory", "redis")


def type_name(value: Any) -> str:
    return type(value).__name__


def plain_number(value: Any) -> Any:
    """An int or float (subclass) as a plain int or float: a subclass's own
    comparisons or conversions never decide (the C binding reads the value
    itself; Evil(int) with __lt__ -> False passed "cost < 0" as -100 and
    added 100 tokens above the burst)."""
    return int.__index__(value) if isinstance(value, int) else float.__float__(value)


def check_positive_int(name: str, value: Any, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int, not %s" % (name, type_name(value)))
    value = plain_number(value)
    if value < 1:
        raise ValueError("%s must be >= 1, got %d" % (name, value))
    if value > maximum:
        raise ValueError("%s must be <= %d, got %d" % (name, maximum, value))
    return int(value)


def exact_str(value: str) -> str:
    """A str subclass as its text: its own __hash__/__eq__ would run under a
    Python twin's lock (one calling back into the object deadlocked it)."""
    return value if type(value) is str else str.__str__(value)


def refuse_pickle(self: Any, protocol: Any = None) -> Any:
    """__reduce_ex__ of the stateful twins (limiter, pool, monitor): a copy,
    deep copy or pickle raises, the same error in both.  The C twins refuse
    (their state is in C); the Python twins' copy.copy used to succeed with
    the lock and buckets shared but the counters not, and their pickle
    failed naming '_thread.lock'."""
    raise TypeError("cannot pickle %r object" % type(self).__name__)


def check_key(key: Any) -> str:
    if key is None:
        return DEFAULT_KEY
    if not isinstance(key, str):
        raise TypeError("key must be a str or None, not %s" % type_name(key))
    return exact_str(key)


def check_cost(cost: Any) -> int:
    if isinstance(cost, bool) or not isinstance(cost, int):
        raise TypeError("cost must be an int, not %s" % type_name(cost))
    cost = plain_number(cost)
    if cost < 0:
        raise ValueError("cost must be >= 0, got %d" % cost)
    return cost


def check_config(requests_per_minute: Any, burst: Any, backend: Any, clock: Any):
    """Validate constructor arguments; returns (rate, burst, backend)."""
    rate = check_positive_int("requests_per_minute", requests_per_minute, MAX_RATE)
    if burst is None:
        if rate > MAX_BURST:
            raise ValueError(
                "burst defaults to requests_per_minute, which is above the "
                "largest burst %d: pass burst explicitly" % MAX_BURST
            )
        burst = rate
    else:
        burst = check_positive_int("burst", burst, MAX_BURST)
    if not isinstance(backend, str):
        raise TypeError("backend must be a str, not %s" % type_name(backend))
    backend = exact_str(backend)  # a subclass's __eq__ -> True passed "in BACKENDS" and chose redis
    if backend not in BACKENDS:
        raise ValueError("backend must be one of %s, got %r" % (", ".join(BACKENDS), backend))
    if clock is not None and not callable(clock):
        raise TypeError("clock must be callable or None, not %s" % type_name(clock))
    return rate, burst, backend


def redis_instead(rate: int, burst: int, backend: str, redis_url: Any, clock: Any,
                  keep_raw_keys: Any, redis_options: Dict[str, Any]) -> Any:
    """The constructor's backend choice, shared by both twins' ``__new__``: a
    ``RedisRateLimiter`` for ``backend='redis'``, else None (the caller builds the
    in-memory limiter); Redis arguments without that backend are a TypeError."""
    if backend == "redis":
        from ._redis import RedisRateLimiter

        return RedisRateLimiter(rate, burst=burst, redis_url=redis_url, clock=clock,
                                keep_raw_keys=keep_raw_keys, **redis_options)
    if redis_url is not None or redis_options:
        raise TypeError("redis_url and redis options need backend='redis'")
    return None

def is_finite(value: Any) -> bool:
    """math.isfinite for an int or float; an int too large for a float is
    not finite (math.isfinite would raise OverflowError)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def clock_ns(value: Any) -> int:
    """Seconds from a user clock -> integer ns, as the C binding does it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("clock must return seconds as a float, not %s" % type_name(value))
    try:
        seconds = float(plain_number(value))
    except OverflowError:  # an int beyond float: unusable, as in C (binding/clock.h)
        seconds = math.nan
    if not math.isfinite(seconds) or abs(seconds) >= 9.2e9:
        raise ValueError("clock returned an unusable time: %r" % (value,))
    return math.floor(seconds * 1e9)


# -- stable fingerprint: SipHash-1-3 with a fixed public key ----------------

_FP_K0 = 0x6D6C6C7473616621
_FP_K1 = 0x312D70662D79656B
_M64 = (1 << 64) - 1


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & _M64


def siphash13(k0: int, k1: int, data: bytes) -> int:
    """SipHash-1-3, 64-bit output (the C core's rl_siphash.c, in Python)."""
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573

    def rounds(n: int) -> None:
        nonlocal v0, v1, v2, v3
        for _ in range(n):
            v0 = (v0 + v1) & _M64
            v1 = _rotl(v1, 13) ^ v0
            v0 = _rotl(v0, 32)
            v2 = (v2 + v3) & _M64
            v3 = _rotl(v3, 16) ^ v2
            v0 = (v0 + v3) & _M64
            v3 = _rotl(v3, 21) ^ v0
            v2 = (v2 + v1) & _M64
            v1 = _rotl(v1, 17) ^ v2
            v2 = _rotl(v2, 32)

    n = len(data)
    end = n - n % 8
    for i in range(0, end, 8):
        m = int.from_bytes(data[i : i + 8], "little")
        v3 ^= m
        rounds(1)
        v0 ^= m
    last = ((n & 0xFF) << 56) | int.from_bytes(data[end:], "little")
    v3 ^= last
    rounds(1)
    v0 ^= last
    v2 ^= 0xFF
    rounds(3)
    return v0 ^ v1 ^ v2 ^ v3


def key_bytes(key: str) -> bytes:
    return key.encode("utf-8", "surrogatepass")


def fingerprint_of_hash(h: int) -> str:
    """The label shown for a key: the 64-bit hash as 16 hex digits."""
    return "%016x" % h


@functools.lru_cache(maxsize=65536)
def _fingerprint(key: str) -> str:
    return fingerprint_of_hash(siphash13(_FP_K0, _FP_K1, key_bytes(key)))


def key_fingerprint(key: Any) -> str:
    """Stable short fingerprint of a key, the label stats use instead of it.

    The same in every process and in both twins, so an operator can compute
    it for a key they hold and find it in the stats.  (Pure Python: ~20 us a
    key, cached for the most recent 65536 keys.)"""
    key = check_key(key)
    return _fingerprint(str(key) if type(key) is not str else key)



# -- feature flag ---------------------------------------------------------------

FLAG = "rust_rate_limiting"  # chooses the default limiter (_native_loader.flag_enabled)
