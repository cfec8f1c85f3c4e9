"""Connection-pool bookkeeping (seed API: SimpleConnectionPool,
get_connection, return_connection, remove_connection,
health_check_connection, cleanup_expired_connections,
get_connection_pool_stats).

``SimpleConnectionPool(pool_name="default", *, max_per_endpoint=10,
max_total=100, idle_timeout_s=300, max_lifetime_s=None, clock=None)``

* ``get_connection(endpoint)`` -> connection id: an idle one for that
  endpoint (most recently returned first; expired ones are dropped on the
  way), else a new one if the endpoint has fewer than ``max_per_endpoint``
  and the pool fewer than ``max_total`` connections, else ``None``.  The
  endpoint must be a URL (``scheme://host[:port]``) or ``host:port``
  (``ValueError`` otherwise; ``TypeError`` for a non-str).  Ids
  (``"conn-<pool>-<n>"``) are unique for the life of the process.
* ``return_connection(id)``, ``remove_connection(id)``: an unknown id, or
  returning one that is already returned, is a no-op counted in
  ``get_stats()["invalid"]``; other counters stay untouched.  A connection
  marked unhealthy or past ``max_lifetime_s`` is dropped on return.
* ``health_check(id, probe=False, timeout_s=1.0)``: known, not expired, not
  marked unhealthy; ``probe=True`` also opens a TCP connection to the
  endpoint within ``timeout_s``.
* ``mark_unhealthy(id)`` -> bool; ``cleanup()`` -> number of idle connections
  dropped for idle timeout or lifetime (never checked-out ones); it then
  retires the endpoints left with no connection (their counters stay in the
  totals, their rows and memory go).
* ``get_stats()``: exact ``active``, ``idle``, ``total``, ``created``,
  ``reused``, ``expired``, ``rejected``, ``removed``, ``invalid`` overall and
  per endpoint, ``retired_endpoints`` overall (plus the 0.1.x names ``active_connections``,
  ``total_connections``, ``max_total_connections``, ``available_connections``,
  ``max_connections``).  Credentials in endpoint URLs show as ``***``.
* ``clock``: a callable returning seconds (default ``time.monotonic``).

The module-level functions use one default pool (``default_pool()``),
replaceable with ``configure_default_pool(**kwargs)``; it runs on the C core
unless the feature flag ``rust_connection_pool`` is off.
"""
from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any, Dict, Optional

from .._native_loader import check_kind, flag_enabled, native_has, require_native
from . import _python
from .._forksafe import fresh_lock_after_fork


def implementation(kind: str) -> SimpleNamespace:
    """The "python" or "native" twin: SimpleConnectionPool."""
    check_kind(kind)
    mod: Any = _python
    if kind == "native":
        require_native("connection pool", "ConnectionPool")
        from . import _native as mod
    return SimpleNamespace(kind=kind, SimpleConnectionPool=mod.SimpleConnectionPool)


_default_impl = implementation("native" if native_has("ConnectionPool") else "python")
IMPLEMENTATION: str = _default_impl.kind
SimpleConnectionPool = _default_impl.SimpleConnectionPool

_default_lock = threading.Lock()
_default_pool: Optional[Any] = None

fresh_lock_after_fork(globals(), "_default_lock")  # a parent thread holding it at a fork is gone in the child
FLAG = "rust_connection_pool"


def _default_class() -> Any:
    """The C core unless the rust_connection_pool flag (kept name) is off."""
    return SimpleConnectionPool if flag_enabled(FLAG) else _python.SimpleConnectionPool


def configure_default_pool(**kwargs: Any) -> Any:
    """Replace the default pool with SimpleConnectionPool(**kwargs)."""
    global _default_pool
    pool = _default_class()(**kwargs)
    with _default_lock:
        _default_pool = pool
    return pool


def default_pool() -> Any:
    global _default_pool
    pool = _default_pool
    if pool is None:
        with _default_lock:
            if _default_pool is None:
                _default_pool = _default_class()()
            pool = _default_pool
    return pool


def get_connection(endpoint: str) -> Optional[str]:
    return default_pool().get_connection(endpoint)


def return_connection(connection_id: str) -> None:
    default_pool().return_connection(connection_id)


def remove_connection(connection_id: str) -> None:
    default_pool().remove_connection(connection_id)


def health_check_connection(connection_id: str) -> bool:
    return default_pool().health_check(connection_id)


def cleanup_expired_connections() -> int:
    return default_pool().cleanup()


def get_connection_pool_stats() -> Dict[str, Any]:
    return default_pool().get_stats()


__all__ = [
    "SimpleConnectionPool", "get_connection", "return_connection", "remove_connection",
    "health_check_connection", "cleanup_expired_connections", "get_connection_pool_stats",
    "configure_default_pool", "default_pool", "implementation", "IMPLEMENTATION",
]
