"""The native twin: SimpleConnectionPool on the C core (csrc/pool).

A thin Python subclass of fast_litellm._native.ConnectionPool: validation
of the constructor arguments, stats and the optional TCP probe are the
Python twin's code; get/return/remove/mark_unhealthy/cleanup are C.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from .._native_loader import NATIVE
from . import _common as C
from ..ratelimit._common import refuse_pickle

if NATIVE is None or not hasattr(NATIVE, "ConnectionPool"):  # pragma: no cover
    raise ImportError("fast_litellm native connection pool is not built")


class SimpleConnectionPool(NATIVE.ConnectionPool):  # type: ignore[misc,name-defined]
    """Connection pool bookkeeping (C core; see the package doc)."""

    __slots__ = ("__weakref__", "_config")

    def __new__(cls, pool_name: str = "default", *, max_per_endpoint: int = 10,
                max_total: int = 100, idle_timeout_s: Optional[float] = 300,
                max_lifetime_s: Optional[float] = None,
                clock: Optional[Callable[[], float]] = None):
        per, total, idle_ns, life_ns = C.check_config(
            pool_name, max_per_endpoint, max_total, idle_timeout_s, max_lifetime_s, clock)
        self = super().__new__(cls, pool_name, per, total, idle_ns, life_ns, C.next_serial(),
                               clock, C.check_endpoint)
        self._config = (per, total, idle_ns, life_ns)
        C.register_for_fork(self)
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass  # everything happens in __new__

    __reduce_ex__ = refuse_pickle  # no copy or pickle, as in the other twin

    def __repr__(self) -> str:
        return "SimpleConnectionPool(%r, max_per_endpoint=%d, max_total=%d)" % (
            self.pool_name, self._config[0], self._config[1])

    def health_check(self, connection_id: str, probe: bool = False, timeout_s: float = 1.0) -> bool:
        """Known, not expired, not marked unhealthy; with probe=True a TCP
        connection to the endpoint must also open within timeout_s."""
        if probe:
            timeout_s = C.check_probe_timeout(timeout_s)
        if not self._healthy(connection_id):
            return False
        if not probe:
            return True
        endpoint = self._endpoint_of(connection_id)
        return endpoint is not None and C.tcp_probe(endpoint, timeout_s)

    def get_stats(self) -> Dict[str, Any]:
        """Exact counters, overall and per endpoint (first-use order)."""
        totals, invalid, rows, retired = self._raw_stats()
        per, total, idle_ns, life_ns = self._config
        eps = C.endpoint_stats(rows, per)
        return C.stats_dict("native", self.pool_name, per, total, idle_ns, life_ns, totals,
                            invalid, eps, retired)
