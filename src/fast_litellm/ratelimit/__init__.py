"""Token-bucket rate limiting (seed API: SimpleRateLimiter, check_rate_limit,
get_rate_limit_stats).

``SimpleRateLimiter(requests_per_minute=60, *, burst=None, backend="memory",
redis_url=None, clock=None, keep_raw_keys=False, **redis_options)``

* capacity ``burst`` (default ``requests_per_minute``), continuous refill of
  ``requests_per_minute / 60`` tokens per second, exact (integer units);
* ``check(key=None, cost=1)`` -> ``{"allowed", "reason", "remaining_requests"}``
  plus ``"retry_after_ms"`` when denied: the exact time until the same check
  would pass (``None`` when ``cost > burst``, which can never pass).  A denied
  check consumes nothing.  ``cost`` serves token-per-minute limits.
* ``is_allowed``, ``get_remaining`` (does not consume), ``cleanup``,
  ``get_stats(raw_keys=False)``: keys are shown by ``key_fingerprint(key)``
  unless the limiter was made with ``keep_raw_keys=True``.
* ``clock``: a callable returning seconds (default ``time.monotonic``).
* ``backend="redis"``: shared state in Redis, see ``_redis.py`` (options
  ``failure_policy="open"|"closed"``, ``redis_timeout_s``, ``redis_retry_s``,
  ``namespace``, ``key_prefix``, ``redis_client``).

The module-level ``check_rate_limit`` / ``get_rate_limit_stats`` use one
default limiter, built on first use from the environment:

=================================== ========================================
FAST_LITELLM_RATE_LIMIT_RPM         requests per minute (default 60)
FAST_LITELLM_RATE_LIMIT_BURST       bucket capacity (default: the RPM)
FAST_LITELLM_RATE_LIMIT_BACKEND     "memory" (default) or "redis"
FAST_LITELLM_RATE_LIMIT_REDIS_URL   Redis URL for the redis backend
FAST_LITELLM_RATE_LIMIT_FAILURE     "open" (default) or "closed"
=================================== ========================================

or from ``configure_default_rate_limiter(**kwargs)``.  It runs on the C core
unless the feature flag ``rust_rate_limiting`` is off (then the Python twin).
"""
from __future__ import annotations

import os
import threading
from types import SimpleNamespace
from typing import Any, Dict, Optional

from .._native_loader import check_kind, flag_enabled, native_has, require_native
from . import _common, _python
from .._forksafe import fresh_lock_after_fork

KINDS = ("python", "native")


def implementation(kind: str) -> SimpleNamespace:
    """The "python" or "native" twin: SimpleRateLimiter, key_fingerprint."""
    check_kind(kind)
    mod: Any = _python
    if kind == "native":
        require_native("rate limiter", "RateLimiter")
        from . import _native as mod
    return SimpleNamespace(kind=kind, SimpleRateLimiter=mod.SimpleRateLimiter,
                           key_fingerprint=mod.key_fingerprint)


_default_impl = implementation("native" if native_has("RateLimiter") else "python")
IMPLEMENTATION: str = _default_impl.kind
SimpleRateLimiter = _default_impl.SimpleRateLimiter
key_fingerprint = _default_impl.key_fingerprint

# -- the default limiter ----------------------------------------------------------

_default_lock = threading.Lock()
_default_limiter: Optional[Any] = None
_default_config: Optional[Dict[str, Any]] = None

fresh_lock_after_fork(globals(), "_default_lock")  # a parent thread holding it at a fork is gone in the child


def _env_int(name: str) -> Optional[int]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError("%s must be an integer, got %r" % (name, raw)) from None


def _env_settings() -> Dict[str, str]:
    """The settings an error may quote (never the Redis URL: it can hold a password)."""
    names = ["FAST_LITELLM_RATE_LIMIT_" + n for n in ("RPM", "BURST", "BACKEND", "FAILURE")]
    return {name: os.environ[name] for name in names if name in os.environ}


def _config_from_env() -> Dict[str, Any]:
    rpm = _env_int("FAST_LITELLM_RATE_LIMIT_RPM")
    config: Dict[str, Any] = {"requests_per_minute": 60 if rpm is None else rpm}
    burst = _env_int("FAST_LITELLM_RATE_LIMIT_BURST")
    if burst is not None:
        config["burst"] = burst
    backend = os.environ.get("FAST_LITELLM_RATE_LIMIT_BACKEND", "").strip().lower()
    if backend:
        config["backend"] = backend
    if backend == "redis":
        config["redis_url"] = os.environ.get("FAST_LITELLM_RATE_LIMIT_REDIS_URL") or None
        policy = os.environ.get("FAST_LITELLM_RATE_LIMIT_FAILURE", "").strip().lower()
        if policy:
            config["failure_policy"] = policy
    return config


def configure_default_rate_limiter(**kwargs: Any) -> Any:
    """Replace the default limiter with SimpleRateLimiter(**kwargs); with no
    arguments, rebuild it from the environment.  Returns it."""
    global _default_limiter, _default_config
    config = dict(kwargs) if kwargs else _config_from_env()
    # the C core unless the rust_rate_limiting flag (kept name) is off
    cls = SimpleRateLimiter if flag_enabled(_common.FLAG) else _python.SimpleRateLimiter
    try:
        limiter = cls(**config)
    except (TypeError, ValueError) as e:
        if kwargs:
            raise
        # name where the bad value came from, not only the parameter it set
        raise type(e)("%s (from the FAST_LITELLM_RATE_LIMIT_* environment: %s)"
                      % (e, ", ".join("%s=%r" % kv for kv in sorted(_env_settings().items())))) from None
    with _default_lock:
        _default_limiter, _default_config = limiter, config
    return limiter


def default_rate_limiter() -> Any:
    limiter = _default_limiter
    if limiter is None:
        with _default_lock:
            limiter = _default_limiter
        if limiter is None:
            limiter = configure_default_rate_limiter()
    return limiter


def check_rate_limit(key: Optional[str] = None, cost: int = 1) -> Dict[str, Any]:
    """check(key, cost) on the default limiter."""
    return default_rate_limiter().check(key, cost)


def get_rate_limit_stats(raw_keys: bool = False) -> Dict[str, Any]:
    """get_stats() of the default limiter."""
    return default_rate_limiter().get_stats(raw_keys)


__all__ = [
    "SimpleRateLimiter", "check_rate_limit", "get_rate_limit_stats", "key_fingerprint",
    "configure_default_rate_limiter", "default_rate_limiter", "implementation", "IMPLEMENTATION",
]
