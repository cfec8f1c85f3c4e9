"""The native twin: SimpleRateLimiter on the C core (csrc/ratelimit).

A thin Python subclass of fast_litellm._native.RateLimiter: it validates
the constructor arguments like the Python twin, sends backend="redis" to
the shared Redis limiter, and registers the object so a forked child
re-initialises its lock.  check / is_allowed / get_remaining are the C
methods, called directly.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from .._native_loader import NATIVE
from . import _common as C

if NATIVE is None or not hasattr(NATIVE, "RateLimiter"):  # pragma: no cover
    raise ImportError("fast_litellm native rate limiter is not built")


class SimpleRateLimiter(NATIVE.RateLimiter):  # type: ignore[misc,name-defined]
    """Token-bucket rate limiter (C core; see the package doc)."""

    __slots__ = ("__weakref__",)

    def __new__(cls, requests_per_minute: int = 60, *, burst: Optional[int] = None,
                backend: str = "memory", redis_url: Optional[str] = None,
                clock: Optional[Callable[[], float]] = None, keep_raw_keys: bool = False,
                **redis_options: Any):
        rate, burst, backend = C.check_config(requests_per_minute, burst, backend, clock)
        other = C.redis_instead(rate, burst, backend, redis_url, clock, keep_raw_keys, redis_options)
        if other is not None:
            return other
        self = super().__new__(cls, rate, burst=burst, clock=clock,
                               keep_raw_keys=bool(keep_raw_keys))
        C.register_for_fork(self)
        return self

    __reduce_ex__ = C.refuse_pickle


def key_fingerprint(key: Any) -> str:
    """Stable short fingerprint of a key (see _common.key_fingerprint)."""
    if key is None:
        key = C.DEFAULT_KEY
    return NATIVE.rl_fingerprint(key)
