"""The pure-Python twin of the connection pool (same rules as
csrc/pool/pool.c; see that file's header for the design)."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, List, Optional

from . import _common as C
from ..ratelimit._common import refuse_pickle

_monotonic_ns = time.monotonic_ns
ACTIVE, IDLE = 1, 2


class _Conn:
    __slots__ = ("id", "ep", "state", "unhealthy", "created", "returned")

    def __init__(self, cid: str, ep: "_Endpoint", now: int) -> None:
        self.id = cid
        self.ep = ep
        self.state = ACTIVE
        self.unhealthy = False
        self.created = now
        self.returned = now


class _Endpoint:
    __slots__ = ("name", "idle", "active", "created", "reused", "expired", "rejected", "removed")

    def __init__(self, name: str) -> None:
        self.name = name
        self.idle: List[_Conn] = []  # top = most recently returned
        self.active = self.created = self.reused = 0
        self.expired = self.rejected = self.removed = 0


class SimpleConnectionPool:
    """Connection pool bookkeeping (pure-Python twin; see the package doc)."""

    def __init__(self, pool_name: str = "default", *, max_per_endpoint: int = 10,
                 max_total: int = 100, idle_timeout_s: Optional[float] = 300,
                 max_lifetime_s: Optional[float] = None,
                 clock: Optional[Callable[[], float]] = None) -> None:
        per, total, idle_ns, life_ns = C.check_config(
            pool_name, max_per_endpoint, max_total, idle_timeout_s, max_lifetime_s, clock)
        self._name = pool_name
        self._per = per
        self._total = total
        self._idle_ns = idle_ns
        self._life_ns = life_ns
        self._clock = clock
        self._prefix = "conn-%d-" % C.next_serial()
        self._next = 1
        self._lock = threading.Lock()
        self._eps: Dict[str, _Endpoint] = {}
        self._conns: Dict[str, _Conn] = {}
        self._invalid = 0
        # counters of endpoints cleanup() retired (no connection left), stats order
        self._retired = [0] * 7
        self._n_retired = 0
        C.register_for_fork(self)

    __reduce_ex__ = refuse_pickle  # no copy or pickle, as in the other twin

    @property
    def pool_name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return "SimpleConnectionPool(%r, max_per_endpoint=%d, max_total=%d)" % (
            self._name, self._per, self._total)

    def _after_fork_in_child(self) -> None:
        self._lock = threading.Lock()

    def _test_hold_lock(self, seconds: float) -> None:
        """Tests only: hold the lock (to fork while it is held)."""
        with self._lock:
            time.sleep(seconds)

    def _now(self) -> int:
        if self._clock is None:
            return _monotonic_ns()
        return C.clock_ns(self._clock())

    def _expired(self, c: _Conn, now: int) -> bool:
        if self._life_ns >= 0 and now - c.created > self._life_ns:
            return True
        return c.state == IDLE and self._idle_ns >= 0 and now - c.returned > self._idle_ns

    def _drop(self, c: _Conn) -> None:
        ep = c.ep
        if c.state == IDLE:
            ep.idle.remove(c)
        else:
            ep.active -= 1
        del self._conns[c.id]

    # -- API -------------------------------------------------------------------
    def get_connection(self, endpoint: str) -> Optional[str]:
        """An idle connection id for endpoint (most recently returned first),
        else a new one within the limits, else None."""
        if type(endpoint) is not str:
            endpoint = C.check_endpoint(endpoint)  # raises TypeError; a subclass as its text
        now = self._now()
        if endpoint not in self._eps:
            C.check_endpoint(endpoint)
        with self._lock:
            ep = self._eps.get(endpoint)
            if ep is None:
                ep = self._eps[endpoint] = _Endpoint(endpoint)
            while ep.idle:
                c = ep.idle[-1]
                if self._expired(c, now):
                    self._drop(c)
                    ep.expired += 1
                    continue
                ep.idle.pop()
                c.state = ACTIVE
                ep.active += 1
                ep.reused += 1
                return c.id
            if ep.active + len(ep.idle) >= self._per or len(self._conns) >= self._total:
                ep.rejected += 1
                return None
            cid = self._prefix + str(self._next)
            self._next += 1
            self._conns[cid] = _Conn(cid, ep, now)
            ep.active += 1
            ep.created += 1
            return cid

    def return_connection(self, connection_id: str) -> None:
        """Give a checked-out connection back.  Unknown or already returned
        ids are a no-op counted as "invalid"; an unhealthy or over-age
        connection is dropped instead of pooled."""
        connection_id = C.check_connection_id(connection_id)
        now = self._now()
        with self._lock:
            c = self._conns.get(connection_id)
            if c is None or c.state != ACTIVE:
                self._invalid += 1
            elif c.unhealthy:
                c.ep.removed += 1
                self._drop(c)
            elif self._expired(c, now):
                c.ep.expired += 1
                self._drop(c)
            else:
                ep = c.ep
                c.state = IDLE
                c.returned = now
                ep.active -= 1
                ep.idle.append(c)

    def remove_connection(self, connection_id: str) -> None:
        """Forget a connection, checked out or idle (unknown: counted no-op)."""
        connection_id = C.check_connection_id(connection_id)
        with self._lock:
            c = self._conns.get(connection_id)
            if c is None:
                self._invalid += 1
            else:
                c.ep.removed += 1
                self._drop(c)

    def mark_unhealthy(self, connection_id: str) -> bool:
        """Mark a connection unhealthy: dropped now if idle, on return if
        checked out.  False for an unknown id (counted as invalid)."""
        connection_id = C.check_connection_id(connection_id)
        with self._lock:
            c = self._conns.get(connection_id)
            if c is None:
                self._invalid += 1
                return False
            if c.state == IDLE:
                c.ep.removed += 1
                self._drop(c)
            else:
                c.unhealthy = True
            return True

    def _healthy(self, connection_id: str) -> bool:
        """connection_id already checked (health_check, its only caller)."""
        now = self._now()
        with self._lock:
            c = self._conns.get(connection_id)
            return c is not None and not c.unhealthy and not self._expired(c, now)

    def _endpoint_of(self, connection_id: str) -> Optional[str]:
        with self._lock:
            c = self._conns.get(connection_id)
            return None if c is None else c.ep.name

    def health_check(self, connection_id: str, probe: bool = False, timeout_s: float = 1.0) -> bool:
        """Known, not expired, not marked unhealthy; with probe=True a TCP
        connection to the endpoint must also open within timeout_s."""
        if probe:
            timeout_s = C.check_probe_timeout(timeout_s)
        connection_id = C.check_connection_id(connection_id)
        if not self._healthy(connection_id):
            return False
        if not probe:
            return True
        endpoint = self._endpoint_of(connection_id)
        return endpoint is not None and C.tcp_probe(endpoint, timeout_s)

    def cleanup(self) -> int:
        """Drop idle connections past their idle timeout or lifetime (never
        checked-out ones); returns how many.  Then retire the endpoints left
        with no connection: their counters stay in the totals, their rows
        leave the stats (an endpoint used again starts new counters)."""
        now = self._now()
        removed = 0
        with self._lock:
            for ep in self._eps.values():
                for c in [c for c in ep.idle if self._expired(c, now)]:
                    self._drop(c)
                    ep.expired += 1
                    removed += 1
            for name in [name for name, ep in self._eps.items() if not ep.active and not ep.idle]:
                ep = self._eps.pop(name)
                counts = (0, 0, ep.created, ep.reused, ep.expired, ep.rejected, ep.removed)
                self._retired = [a + b for a, b in zip(self._retired, counts)]
                self._n_retired += 1
        return removed

    def get_stats(self) -> Dict[str, Any]:
        """Exact counters, overall and per endpoint (first-use order)."""
        with self._lock:
            rows = []
            totals = list(self._retired)
            retired = self._n_retired
            for ep in self._eps.values():
                row = (ep.active, len(ep.idle), ep.created, ep.reused, ep.expired,
                       ep.rejected, ep.removed)
                rows.append((ep.name, row))
                totals = [a + b for a, b in zip(totals, row)]
            invalid = self._invalid
        eps = C.endpoint_stats(rows, self._per)
        return C.stats_dict("python", self._name, self._per, self._total, self._idle_ns,
                            self._life_ns, tuple(totals), invalid, eps, retired)
