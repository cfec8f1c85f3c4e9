"""SimpleConnectionPool, one suite over both twins."""
from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from fast_litellm import pool as pool_pkg
from _forking import forked_child_status  # noqa: E402
from _hostile import FloatLies, IntLies  # noqa: E402

A = "https://api.openai.com"
B = "localhost:8080"


class FrozenClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def Pool(impl):
    return pool_pkg.implementation(impl).SimpleConnectionPool


def counts(stats, *names):
    return tuple(stats[n] for n in names)


def test_limits_and_most_recent_reuse(Pool):
    p = Pool("p", max_per_endpoint=2, max_total=3)
    a1, a2 = p.get_connection(A), p.get_connection(A)
    assert p.get_connection(A) is None  # per endpoint
    b1 = p.get_connection(B)
    assert p.get_connection(B) is None  # total
    assert len({a1, a2, b1}) == 3
    p.return_connection(a1)
    p.return_connection(a2)
    assert p.get_connection(A) == a2  # most recently returned first
    assert p.get_connection(A) == a1
    s = p.get_stats()
    assert counts(s, "active", "idle", "total", "created", "reused", "rejected") == (3, 0, 3, 3, 2, 2)
    assert s["endpoints"][A]["rejected"] == 1 and s["endpoints"][B]["rejected"] == 1
    assert s["endpoints"][B]["max_connections"] == 2
    assert s["pool_name"] == "p" and s["max_total_connections"] == 3


def test_cleanup_retires_endpoints_left_with_no_connection(Pool):
    """A proxy seeing per-request base URLs must not keep a row per URL for
    ever: cleanup() retires endpoints with no connection; totals stay exact."""
    p = Pool(max_total=1000)
    keep = p.get_connection(A)
    for i in range(300):
        p.remove_connection(p.get_connection("http://h%d.example:80" % i))
    assert len(p.get_stats()["endpoints"]) == 301
    assert p.cleanup() == 0
    s = p.get_stats()
    assert list(s["endpoints"]) == [A] and s["endpoints"][A]["active"] == 1
    assert (s["created"], s["removed"], s["active"], s["retired_endpoints"]) == (301, 300, 1, 300)
    p.return_connection(keep)
    assert p.get_connection(A) == keep  # the survivor's connections are intact
    p.remove_connection(keep)
    p.cleanup()
    assert p.get_stats()["endpoints"] == {}
    cid = p.get_connection("http://h1.example:80")  # used again: counters start afresh
    s = p.get_stats()
    assert s["endpoints"]["http://h1.example:80"]["created"] == 1 and s["created"] == 302
    assert p.health_check(cid) is True


def test_ids_unique_for_the_process(Pool):
    seen = set()
    for _ in range(3):
        p = Pool()
        for _ in range(5):
            cid = p.get_connection(A)
            assert cid not in seen
            seen.add(cid)
            p.remove_connection(cid)
    other = pool_pkg.implementation("python").SimpleConnectionPool()
    assert other.get_connection(A) not in seen


def test_unknown_and_already_returned_ids_are_counted_no_ops(Pool):
    p = Pool()
    cid = p.get_connection(A)
    p.return_connection("conn-999999-1")
    p.return_connection("nonsense")
    p.return_connection(cid)
    p.return_connection(cid)  # already returned
    p.remove_connection(cid)
    p.remove_connection(cid)  # already removed
    assert p.mark_unhealthy(cid) is False
    s = p.get_stats()
    assert counts(s, "active", "idle", "created", "removed", "invalid") == (0, 0, 1, 1, 5)
    assert p.health_check(cid) is False
    # another pool's id is unknown here
    q = Pool()
    qid = q.get_connection(A)
    p.return_connection(qid)
    assert p.get_stats()["invalid"] == 6 and q.get_stats()["active"] == 1


@pytest.mark.parametrize("cid", ["conn-1-01", "conn-1-+1", "conn-1- 1", "conn-1-1\udc80",
                                 "conn-1-99999999999999999999", ""])
def test_non_canonical_ids_are_unknown(Pool, cid):
    p = Pool()
    p.return_connection(cid)
    assert p.health_check(cid) is False
    assert p.get_stats()["invalid"] == 1


def test_idle_timeout_lifetime_and_cleanup(Pool):
    clock = FrozenClock(0.0)
    p = Pool(max_per_endpoint=5, idle_timeout_s=10, max_lifetime_s=100, clock=clock)
    a, b = p.get_connection(A), p.get_connection(A)
    p.return_connection(a)
    clock.t = 5
    p.return_connection(b)
    clock.t = 10
    assert p.health_check(a)  # idle exactly 10 s: not past the timeout
    clock.t = 10.000000001
    assert not p.health_check(a)
    assert p.cleanup() == 1
    assert p.health_check(b)
    clock.t = 11
    assert p.get_connection(A) == b
    clock.t = 200
    assert p.cleanup() == 0  # never a checked-out connection
    assert not p.health_check(b)  # past its lifetime
    p.return_connection(b)  # dropped on return
    s = p.get_stats()
    assert counts(s, "active", "idle", "expired", "reused") == (0, 0, 2, 1)
    c = p.get_connection(A)
    p.return_connection(c)
    clock.t = 250
    assert p.get_connection(A) not in (None, c)  # the expired idle one is skipped
    assert p.get_stats()["expired"] == 3
    assert p.get_stats()["idle_timeout_s"] == 10.0


def test_no_timeouts(Pool):
    clock = FrozenClock(0.0)
    p = Pool(idle_timeout_s=None, clock=clock)
    cid = p.get_connection(A)
    p.return_connection(cid)
    clock.t = 10**9
    assert p.health_check(cid) and p.cleanup() == 0
    assert p.get_stats()["idle_timeout_s"] is None


def test_expiry_across_a_clock_jump_of_centuries(Pool):
    """now - created can exceed 2**63 ns: the C core wrapped it to a
    negative age, so nothing expired."""
    clock = FrozenClock(-9.1e9)
    p = Pool(idle_timeout_s=10, max_lifetime_s=100, clock=clock)
    idle, held = p.get_connection(A), p.get_connection(A)
    p.return_connection(idle)
    clock.t = 9.1e9
    assert not p.health_check(idle) and not p.health_check(held)
    p.return_connection(held)  # past its lifetime: dropped
    assert p.cleanup() == 1
    assert p.get_stats()["expired"] == 2
    fresh = p.get_connection(A)
    p.return_connection(fresh)
    clock.t = -9.1e9  # and back: a clock going back expires nothing
    assert p.health_check(fresh)


def _address_space_kib() -> int:
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("VmSize:")).split()[1])


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc")
def test_no_per_endpoint_limit_costs_no_address_space(Pool):
    """max_per_endpoint=2**31-1 (no per-endpoint limit): the C core sized
    each endpoint's idle stack to it, 8 GiB of address space per endpoint
    (419 GB for 50 endpoints; fails under ulimit -v or strict overcommit)."""
    p = Pool(max_per_endpoint=2**31 - 1, max_total=1000)
    before = _address_space_kib()
    ids = [p.get_connection("h%d:80" % (i % 50)) for i in range(500)]
    assert None not in ids
    assert _address_space_kib() - before < 256 * 1024
    for cid in ids:
        p.return_connection(cid)
    assert p.get_stats()["idle"] == 500
    assert [p.get_connection("h7:80") for _ in range(10)] == ids[7::50][::-1]  # most recent first


def test_mark_unhealthy(Pool):
    p = Pool()
    a, b = p.get_connection(A), p.get_connection(A)
    p.return_connection(b)
    assert p.mark_unhealthy(a) is True
    assert p.health_check(a) is False
    p.return_connection(a)  # dropped, not pooled
    assert p.mark_unhealthy(b) is True  # idle: dropped now
    s = p.get_stats()
    assert counts(s, "active", "idle", "removed", "invalid") == (0, 0, 2, 0)
    assert p.get_connection(A) not in (a, b)


VALID = ["http://example.com", "https://api.openai.com/v1", "http://127.0.0.1:8000",
         "http://[::1]:8080/x", "redis://cache:6379/0", "example.com:443", "10.0.0.1:1",
         "[::1]:443", "grpc+tls://h:1"]
INVALID = ["", "example.com", "http://", "http://:80", "host:", ":80", "host:0",
           "host:65536", "host:abc", "http://h:99999", "ht tp://h", "h st:80", "a:b:80",
           "http://h:8x", "host:٣", "a/b:80", "\udc80:80", "1http://h", "[::1:80"]


@pytest.mark.parametrize("endpoint", VALID)
def test_valid_endpoints(Pool, endpoint):
    assert Pool().get_connection(endpoint) is not None


@pytest.mark.parametrize("endpoint", INVALID)
def test_invalid_endpoints(Pool, endpoint):
    p = Pool()
    with pytest.raises(ValueError, match="endpoint must be a URL"):
        p.get_connection(endpoint)
    assert p.get_stats()["endpoints"] == {}


@pytest.mark.parametrize("call,exc,message", [
    (lambda p: p.get_connection(None), TypeError, "endpoint must be a str, not NoneType"),
    (lambda p: p.get_connection(b"h:1"), TypeError, "endpoint must be a str, not bytes"),
    (lambda p: p.return_connection(5), TypeError, "connection_id must be a str, not int"),
    (lambda p: p.remove_connection(None), TypeError, "connection_id must be a str"),
    (lambda p: p.health_check(1.5), TypeError, "connection_id must be a str"),
    (lambda p: p.mark_unhealthy([]), TypeError, "connection_id must be a str"),
    (lambda p: p.health_check("x", probe=True, timeout_s=0), ValueError, "timeout_s"),
    (lambda p: p.health_check("x", probe=True, timeout_s=10**400), ValueError, "timeout_s"),
])
def test_bad_arguments(Pool, call, exc, message):
    with pytest.raises(exc, match=message):
        call(Pool())


@pytest.mark.parametrize("kwargs,exc,message", [
    (dict(pool_name=5), TypeError, "pool_name must be a str"),
    (dict(max_per_endpoint=0), ValueError, "max_per_endpoint must be >= 1, got 0"),
    (dict(max_per_endpoint=2.0), TypeError, "max_per_endpoint must be an int, not float"),
    (dict(max_total=-1), ValueError, "max_total must be >= 1"),
    (dict(max_total=2**40), ValueError, "max_total must be <="),
    (dict(idle_timeout_s=-1), ValueError, "idle_timeout_s must be a finite number"),
    (dict(idle_timeout_s="5"), TypeError, "idle_timeout_s must be a number"),
    (dict(max_lifetime_s=float("nan")), ValueError, "max_lifetime_s"),
    (dict(idle_timeout_s=10**400), ValueError, "idle_timeout_s must be a finite number"),
    (dict(max_lifetime_s=-10**400), ValueError, "max_lifetime_s must be a finite number"),
    (dict(clock="now"), TypeError, "clock must be callable"),
])
def test_bad_constructor_arguments(Pool, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        Pool(**kwargs)


def test_number_subclasses_count_as_their_value(Pool):
    """Validation compared the objects: max_per_endpoint=IntLies(-5) was
    accepted (the C core got 4294967291 through an unsigned conversion),
    idle_timeout_s=FloatLies(-1.0) too."""
    with pytest.raises(ValueError, match="max_per_endpoint must be >= 1, got -5"):
        Pool(max_per_endpoint=IntLies(-5))
    with pytest.raises(ValueError, match="max_total must be <= 2147483647"):
        Pool(max_total=IntLies(2**40))
    with pytest.raises(ValueError, match="idle_timeout_s must be a finite number"):
        Pool(idle_timeout_s=FloatLies(-1.0))
    with pytest.raises(ValueError, match="timeout_s must be a finite number > 0"):
        Pool().health_check("x", probe=True, timeout_s=FloatLies(-1.0))
    p = Pool(max_per_endpoint=IntLies(1))
    assert p.get_connection(A) and p.get_connection(A) is None


def test_str_subclass_arguments_are_their_text(Pool):
    """A str subclass endpoint or id counts as its text; its __hash__/__eq__
    do not run inside the pool (one calling back into it deadlocked the
    Python twin)."""
    pool = Pool("p")

    class Reentrant(str):
        def __hash__(self):
            pool.get_stats()
            pool.cleanup()
            return str.__hash__(self)

        def __eq__(self, other):
            pool.get_stats()
            return str.__eq__(self, other)

    done = []

    def work():
        cid = pool.get_connection(Reentrant("http://a"))
        pool.return_connection(Reentrant(cid))
        again = pool.get_connection("http://a")
        done.append((cid == again, pool.health_check(Reentrant(again)),
                     pool.mark_unhealthy(Reentrant(again))))
        pool.remove_connection(Reentrant(again))

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(10)
    assert done == [(True, True, True)]
    assert counts(pool.get_stats(), "total_connections") == (0,)


def test_tcp_probe(Pool):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        port = listener.getsockname()[1]
        p = Pool()
        up = p.get_connection("127.0.0.1:%d" % port)
        assert p.health_check(up, probe=True, timeout_s=2.0) is True
        assert p.health_check(up) is True
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    down = p.get_connection("http://127.0.0.1:%d" % closed_port)
    assert p.health_check(down) is True
    assert p.health_check(down, probe=True, timeout_s=1.0) is False
    unknown_scheme = p.get_connection("foo://127.0.0.1")
    assert p.health_check(unknown_scheme, probe=True) is False


def test_tcp_probe_bounds_name_resolution(Pool, monkeypatch):
    """timeout_s covered only the connect: a name whose DNS server does not
    answer (getaddrinfo has no timeout: 5 s per try) made health_check(probe=
    True, timeout_s=0.2) take as long as the resolver."""
    real = socket.getaddrinfo

    def slow_dns(host, *args, **kwargs):
        if host == "slow-dns.example":
            time.sleep(3)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_dns)
    p = Pool()
    cid = p.get_connection("https://slow-dns.example")
    t0 = time.monotonic()
    assert p.health_check(cid, probe=True, timeout_s=0.2) is False
    assert time.monotonic() - t0 < 1.5
    with socket.socket() as listener:  # address literals still connect
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        up = p.get_connection("127.0.0.1:%d" % listener.getsockname()[1])
        assert p.health_check(up, probe=True, timeout_s=2.0) is True


def test_limits_hold_exactly_under_threads(Pool):
    p = Pool(max_per_endpoint=5, max_total=7)
    barrier = threading.Barrier(8)
    got = [0] * 8
    overflow = []
    held_now = [0]
    lock = threading.Lock()

    def work(i):
        barrier.wait()
        for _ in range(300):
            mine = [c for c in (p.get_connection(A if k % 2 else B) for k in range(4)) if c]
            with lock:
                held_now[0] += len(mine)
                if held_now[0] > 7:
                    overflow.append(held_now[0])
            got[i] += len(mine)
            with lock:
                held_now[0] -= len(mine)
            for c in mine:
                p.return_connection(c)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    s = p.get_stats()
    assert not overflow
    assert s["active"] == 0 and s["created"] <= 7 and s["idle"] == s["created"]
    assert s["created"] + s["reused"] == sum(got)
    assert s["created"] + s["reused"] + s["rejected"] == 8 * 300 * 4
    for ep in s["endpoints"].values():
        assert ep["created"] <= 5


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_while_another_thread_holds_the_lock(Pool):
    p = Pool()
    cid = p.get_connection(A)
    holder = threading.Thread(target=p._test_hold_lock, args=(1.0,))
    holder.start()
    time.sleep(0.2)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            __import__("signal").alarm(5)
            p.return_connection(cid)
            code = 0 if p.get_connection(A) == cid else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    holder.join()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert p.get_stats()["active"] == 1


def test_module_level_functions():
    old = pool_pkg._default_pool
    try:
        pool_pkg.configure_default_pool(max_per_endpoint=1)
        import fast_litellm as fl

        cid = fl.get_connection(A)
        assert fl.get_connection(A) is None
        assert fl.health_check_connection(cid) is True
        fl.return_connection(cid)
        assert fl.cleanup_expired_connections() == 0
        stats = fl.get_connection_pool_stats()
        assert stats["idle"] == 1 and stats["rejected"] == 1
        fl.remove_connection(cid)
        assert fl.get_connection_pool_stats()["total_connections"] == 0
    finally:
        pool_pkg._default_pool = old


def test_twins_agree_on_a_scripted_run():
    from fast_litellm._native_loader import native_has

    if not native_has("ConnectionPool"):
        pytest.skip("native core not built")
    outs = []
    for kind in ("python", "native"):
        clock = FrozenClock(0.0)
        p = pool_pkg.implementation(kind).SimpleConnectionPool(
            max_per_endpoint=3, max_total=4, idle_timeout_s=5, max_lifetime_s=20, clock=clock)
        ids, out = [], []
        for step in range(200):
            clock.t = step * 0.37
            op = step * 7 % 5
            if op in (0, 1):
                cid = p.get_connection((A, B, "h:1")[step % 3])
                out.append(None if cid is None else cid.rsplit("-", 1)[1])
                if cid:
                    ids.append(cid)
            elif op == 2 and ids:
                p.return_connection(ids.pop(step % len(ids)))
            elif op == 3 and ids:
                out.append(p.health_check(ids[-1]))
            elif op == 4:
                out.append(p.cleanup())
        s = p.get_stats()
        s.pop("implementation")
        outs.append((out, s))
    assert outs[0] == outs[1]


def test_stats_mask_credentials_in_endpoints(Pool):
    p = Pool()
    p.get_connection("https://user:secret@api.example.com/v1")
    p.get_connection("https://other:pw@api.example.com/v1")
    p.get_connection("https://api.example.com")
    eps = p.get_stats()["endpoints"]
    assert "secret" not in str(eps) and "pw" not in str(eps)
    assert list(eps) == ["https://***@api.example.com/v1", "https://***@api.example.com/v1 #2",
                         "https://api.example.com"]



def test_stats_labels_of_many_credentials_of_one_url(Pool):
    """Session 21 hunt: each endpoint sharing a label searched " #2", " #3"...
    from the start (8,000 credentials of one URL: 5 s a get_stats)."""
    import time

    p = Pool(max_total=100, max_per_endpoint=1)
    n = 20_000
    for i in range(n):  # rejected past max_total, each still an endpoint row
        p.get_connection("https://u%d:pw@api.example.com/v1" % i)
    p.get_connection("https://api.example.com/v1")
    start = time.perf_counter()
    eps = p.get_stats()["endpoints"]
    assert time.perf_counter() - start < 2.0
    base = "https://***@api.example.com/v1"
    assert list(eps) == [base] + ["%s #%d" % (base, k) for k in range(2, n + 1)] + ["https://api.example.com/v1"]


def test_stats_labels_as_the_search_from_two():
    """The remembered suffix gives the labels searching from " #2" gave."""
    import random

    from fast_litellm.pool import _common

    def labels_from_two(rows):
        out = {}
        for endpoint, counts in rows:
            label = base = _common.endpoint_label(endpoint)
            n = 1
            while label in out:
                n += 1
                label = "%s #%d" % (base, n)
            out[label] = counts
        return list(out)

    rng = random.Random(21)
    hosts = ["h:1", "http://a:1", "http://u:p@a:1", "http://v:q@a:1", "http://a:1?k=1", "http://a:1?k=2",
             "http://u:p@a:1?k", "https://x@b/p", "https://y@b/p"]
    for _ in range(500):
        rows = [(rng.choice(hosts), (0,) * 7) for _ in range(rng.randint(0, 12))]
        assert list(_common.endpoint_stats(rows, 1)) == labels_from_two(rows)


def test_stats_mask_api_keys_in_queries(Pool):
    """A key in the query (Google AI Studio: ?key=...) was shown in stats."""
    p = Pool()
    p.get_connection("https://g.example.com/v1beta/models?key=AIzaSECRET")
    p.get_connection("https://g.example.com/v1beta/models?key=AIzaOTHER#x")
    p.get_connection("https://u:pw@g.example.com?key=K3Y")
    p.get_connection("https://g.example.com/v1beta/models")
    p.get_connection("https://g.example.com/v1#token=T0KEN")
    eps = p.get_stats()["endpoints"]
    assert "SECRET" not in str(eps) and "OTHER" not in str(eps) and "K3Y" not in str(eps)
    assert list(eps) == ["https://g.example.com/v1beta/models?***",
                         "https://g.example.com/v1beta/models?*** #2",
                         "https://***@g.example.com?***",
                         "https://g.example.com/v1beta/models",
                         "https://g.example.com/v1#***"]
    assert "T0KEN" not in str(eps)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_while_another_thread_holds_module_locks():
    """The default pool's lock and the serial counter's lock, held by a
    parent thread at a fork, used to stay held forever in the child."""
    from fast_litellm.pool import _common

    def child():
        pool = pool_pkg.SimpleConnectionPool()
        return pool_pkg.default_pool() is not None and pool is not None

    getters = [lambda: pool_pkg._default_lock, lambda: _common._serial_lock]
    assert forked_child_status(getters, child) == 0


def test_methods_take_their_argument_by_name(Pool):
    """The API reference's names work as keywords on both twins (the native
    methods took their one argument by position only)."""
    p = Pool("kw")
    cid = p.get_connection(endpoint="http://a")
    assert cid is not None
    assert p.mark_unhealthy(connection_id=cid) is True
    assert p.return_connection(connection_id=cid) is None
    assert p.remove_connection(connection_id="conn-0-0") is None
    for call in (lambda: p.get_connection(), lambda: p.get_connection("a", "b"),
                 lambda: p.get_connection("a", endpoint="b"), lambda: p.get_connection(url="a")):
        with pytest.raises(TypeError):
            call()
    with pytest.raises(TypeError, match="endpoint"):
        p.get_connection(endpoint=3)
