"""What both connection-pool twins share: argument validation (same errors,
same messages), endpoint validation, connection-id format, the TCP probe.

Connection ids are ``"conn-<pool serial>-<n>"``: the serial is unique per
pool in this process (one counter for both twins), n counts up per pool and
is never reused, so an id is unique for the life of the process.
"""
from __future__ import annotations

import ipaddress
import itertools
import math
import socket
import threading
import time
from typing import Any, Optional, Tuple
from urllib.parse import urlsplit

from ..ratelimit._common import check_positive_int, clock_ns, exact_str, is_finite, plain_number, type_name  # noqa: F401
from .._forksafe import fresh_lock_after_fork, register_for_fork  # noqa: F401

MAX_LIMIT = 2**31 - 1
_serials = itertools.count(1)
_serial_lock = threading.Lock()

fresh_lock_after_fork(globals(), "_serial_lock")  # a parent thread holding it at a fork is gone in the child

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "redis": 6379,
                 "rediss": 6379, "postgres": 5432, "postgresql": 5432, "grpc": 80,
                 "grpcs": 443}


def next_serial() -> int:
    with _serial_lock:
        return next(_serials)


def check_limit(name: str, value: Any) -> int:
    return check_positive_int(name, value, MAX_LIMIT)


def check_seconds(name: str, value: Any) -> int:
    """Seconds (None = never) -> ns (-1 = never)."""
    if value is None:
        return -1
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("%s must be a number of seconds or None, not %s" % (name, type_name(value)))
    value = plain_number(value)
    if not (is_finite(value) and 0 <= value < 9.2e9):
        raise ValueError("%s must be a finite number of seconds >= 0, got %r" % (name, value))
    return math.floor(float(value) * 1e9)


def check_config(pool_name: Any, max_per_endpoint: Any, max_total: Any, idle_timeout_s: Any,
                 max_lifetime_s: Any, clock: Any):
    if not isinstance(pool_name, str):
        raise TypeError("pool_name must be a str, not %s" % type_name(pool_name))
    per = check_limit("max_per_endpoint", max_per_endpoint)
    total = check_limit("max_total", max_total)
    idle_ns = check_seconds("idle_timeout_s", idle_timeout_s)
    life_ns = check_seconds("max_lifetime_s", max_lifetime_s)
    if clock is not None and not callable(clock):
        raise TypeError("clock must be callable or None, not %s" % type_name(clock))
    return per, total, idle_ns, life_ns


def split_endpoint(endpoint: str) -> Tuple[Optional[str], str, Optional[int]]:
    """(scheme or None, host, port or None); ValueError when it is neither a
    URL (scheme://host[:port][/path]) nor host:port."""
    bad = ValueError(
        "endpoint must be a URL (scheme://host[:port]) or host:port, got %r" % (endpoint,))
    if not endpoint or not endpoint.isprintable() or any(ch.isspace() for ch in endpoint):
        raise bad
    if "://" in endpoint:
        try:
            parts = urlsplit(endpoint)
            port = parts.port
        except ValueError:
            raise bad from None
        scheme = parts.scheme
        if not scheme or not parts.hostname or not (scheme[0].isalpha() and all(
                ch.isalnum() or ch in "+-." for ch in scheme)):
            raise bad
        return scheme.lower(), parts.hostname, port
    host, sep, port_text = endpoint.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not port_text.isascii():
        raise bad
    port = int(port_text)
    if not 0 < port < 65536 or len(port_text) > 5:
        raise bad
    if host.startswith("["):
        if not host.endswith("]") or len(host) < 3:
            raise bad
        host = host[1:-1]
    elif ":" in host or "/" in host or "@" in host:
        raise bad
    return None, host, port


def check_endpoint(endpoint: Any) -> str:
    if not isinstance(endpoint, str):
        raise TypeError("endpoint must be a str, not %s" % type_name(endpoint))
    # validated as its text: a str subclass's own rpartition/__contains__/
    # isprintable passed "garbage" or "h\n:80" to the C core, which calls
    # this validator with the object it was given
    endpoint = exact_str(endpoint)
    split_endpoint(endpoint)
    return endpoint


def check_connection_id(connection_id: Any) -> str:
    if not isinstance(connection_id, str):
        raise TypeError("connection_id must be a str, not %s" % type_name(connection_id))
    return exact_str(connection_id)


def _resolve(host: str, port: int, timeout_s: float):
    """getaddrinfo bounded by timeout_s, or None.  getaddrinfo has no timeout
    of its own (a dead DNS server costs 5 s per try and record type), and
    socket.create_connection's timeout only covers the connect: a name is
    resolved on a daemon thread we stop waiting for."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass  # a name: resolve it on the side
    else:  # an address literal: no lookup
        try:
            return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
        except (OSError, UnicodeError, ValueError):
            return None
    answer: list = []

    def resolve() -> None:
        try:
            answer.append(socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM))
        except (OSError, UnicodeError, ValueError):
            answer.append(None)

    worker = threading.Thread(target=resolve, name="fast_litellm-probe-resolve", daemon=True)
    worker.start()
    worker.join(timeout_s)
    return answer[0] if answer else None


def tcp_probe(endpoint: str, timeout_s: float) -> bool:
    """True when a TCP connection to the endpoint opens within timeout_s
    (name resolution included)."""
    scheme, host, port = split_endpoint(endpoint)
    if port is None:
        port = DEFAULT_PORTS.get(scheme or "")
        if port is None:
            return False
    deadline = time.monotonic() + timeout_s
    for family, kind, proto, _, address in _resolve(host, port, timeout_s) or ():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(left)
                sock.connect(address)
                return True
        except (OSError, ValueError):
            continue
    return False


def check_probe_timeout(timeout_s: Any) -> float:
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)):
        raise TypeError("timeout_s must be a number, not %s" % type_name(timeout_s))
    timeout_s = plain_number(timeout_s)
    if not (is_finite(timeout_s) and timeout_s > 0):
        raise ValueError("timeout_s must be a finite number > 0, got %r" % (timeout_s,))
    return float(timeout_s)


def endpoint_label(endpoint: str) -> str:
    """The endpoint as stats show it: credentials in a URL are masked, the
    user info and the query (API keys travel there too: Google AI Studio's
    ``?key=``)."""
    scheme, sep, rest = endpoint.partition("://")
    if sep:
        cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
        rest, tail = rest[:cut], rest[cut:]
        netloc, slash, path = rest.partition("/")
        if "@" in netloc:
            netloc = "***@" + netloc.rpartition("@")[2]
        return "%s://%s%s%s%s" % (scheme, netloc, slash, path, tail[:1] + "***" if tail else "")
    return endpoint


def endpoint_stats(rows, per: int) -> dict:
    """{label: stats_entry} from (endpoint, counters) rows in first-use order;
    endpoints whose labels coincide (same URL, other credentials) get
    " #2", " #3"... appended."""
    out: dict = {}
    last: dict = {}  # base label -> the last n given it: each search starts there
    for endpoint, counts in rows:
        label = base = endpoint_label(endpoint)
        if label in out:
            # searching from 2 every time was quadratic in the endpoints
            # sharing a label (8,000 credentials of one URL: 5 s a get_stats)
            n = last.get(base, 1)
            while label in out:
                n += 1
                label = "%s #%d" % (base, n)
            last[base] = n
        out[label] = stats_entry(*counts, per)
    return out


def stats_entry(active: int, idle: int, created: int, reused: int, expired: int,
                rejected: int, removed: int, max_per_endpoint: int) -> dict:
    return {
        "active": active, "idle": idle, "total": active + idle, "created": created,
        "reused": reused, "expired": expired, "rejected": rejected, "removed": removed,
        # names of fast-litellm 0.1.x, kept for drop-in use
        "available_connections": idle, "max_connections": max_per_endpoint,
    }


def stats_dict(impl: str, pool_name: str, per: int, total: int, idle_ns: int, life_ns: int,
               totals: tuple, invalid: int, endpoints: dict, retired_endpoints: int) -> dict:
    active, idle, created, reused, expired, rejected, removed = totals
    return {
        "pool_name": pool_name,
        "implementation": impl,
        "max_per_endpoint": per,
        "max_total": total,
        "idle_timeout_s": None if idle_ns < 0 else idle_ns / 1e9,
        "max_lifetime_s": None if life_ns < 0 else life_ns / 1e9,
        "active": active, "idle": idle, "total": active + idle,
        "created": created, "reused": reused, "expired": expired,
        "rejected": rejected, "removed": removed, "invalid": invalid,
        "active_connections": active, "total_connections": active + idle,
        "max_total_connections": total,
        "endpoints": endpoints,
        # endpoints cleanup() retired (no connection left); their counts stay in the totals
        "retired_endpoints": retired_endpoints,
    }
