"""SimpleRateLimiter(backend="redis") against a real redis-server that the
tests start on a free local port and stop afterwards."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from fast_litellm import ratelimit

SRC = str(Path(__file__).resolve().parents[2] / "src")
REDIS_SERVER = shutil.which("redis-server")

pytestmark = [pytest.mark.redis,
              pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server not installed")]
redis = pytest.importorskip("redis")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def closed_url():
    """A URL where nothing listens, for as long as the test runs: the port
    stays bound (never listening, so a connect is refused) and no other
    process, such as a redis-server a parallel test starts, can take it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield "redis://127.0.0.1:%d/0" % s.getsockname()[1]


class RedisServer:
    # free_port() lets the port go before redis-server binds it, so another
    # process (a test run in parallel: pytest-xdist, another checkout's CI)
    # can take it first; redis-server then exits at once and is started
    # again on another port.
    ATTEMPTS = 5

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="fl-redis-")
        for _ in range(self.ATTEMPTS):
            if self._start():
                return
        self.stop()
        pytest.skip("redis-server did not start")

    def _start(self) -> bool:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = "redis://127.0.0.1:%d/0" % self.port
        client = redis.Redis.from_url(self.url, socket_timeout=0.5)
        deadline = time.monotonic() + 10
        try:
            while True:
                if self.proc.poll() is not None:
                    return False  # the port was taken: try another
                try:
                    client.ping()
                except redis.RedisError:
                    if time.monotonic() > deadline:
                        self.proc.kill()
                        self.proc.wait(timeout=10)
                        return False
                    time.sleep(0.05)
                    continue
                # the answer came from ours, not from whoever took the port
                if client.config_get("dir").get("dir") != self.dir:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
                    return False
                return True
        finally:
            client.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def server():
    srv = RedisServer()
    yield srv
    srv.stop()


@pytest.fixture
def Limiter(impl):
    return ratelimit.implementation(impl).SimpleRateLimiter


class FrozenClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def fresh_namespace(request) -> str:
    return "test-%s-%d" % (request.node.name, time.monotonic_ns())


def test_same_answers_as_the_memory_backend(Limiter, server, request):
    """A scripted sequence with a frozen clock gives identical results in
    Redis and in memory (exact arithmetic in Lua too)."""
    ns = fresh_namespace(request)
    clock_r, clock_m = FrozenClock(1700000000.5), FrozenClock(1700000000.5)
    r = Limiter(7, burst=3, backend="redis", redis_url=server.url, clock=clock_r, namespace=ns)
    m = Limiter(7, burst=3, clock=clock_m)
    assert r.backend == "redis" and r.failure_policy == "open"
    steps = [("a", 1, 0), ("a", 2, 0), ("a", 1, 0), ("a", 1, 3.3), ("b", 4, 0), ("a", 0, 0),
             ("a", 2, 8.571428571), ("a", 1, 0.000000001), (None, 3, 0), (None, 1, 0),
             ("a", 3, 600), ("a", 1, 0)]
    for key, cost, dt in steps:
        clock_r.t += dt
        clock_m.t += dt
        assert r.check(key, cost) == m.check(key, cost), (key, cost, dt)
        assert r.get_remaining(key) == m.get_remaining(key)
    stats = r.get_stats()
    assert stats["backend"] == "redis" and stats["total_checks"] == len(steps)
    assert stats["redis_errors"] == 0


def test_same_answers_as_memory_across_long_gaps(Limiter, server, request):
    """Gaps above 1e6 s (rate 1/min, a big burst takes 69 days to refill)
    were clamped to 1e6 s in Lua: too little refill, a wrong wait after the
    clock went back."""
    for rate, burst, steps in [(1, 100000, [(0, 100000), (2e6, 0), (0, 1), (4e7, 0)]),
                               (60, 1, [(0, 1), (-5e6, 1), (-2e7, 1), (3e7, 1)]),
                               (2, 150000, [(0, 150000), (8e6, 150000), (0.5, 1)])]:
        ns = fresh_namespace(request)
        clock_r, clock_m = FrozenClock(1000.0), FrozenClock(1000.0)
        r = Limiter(rate, burst=burst, backend="redis", redis_url=server.url, clock=clock_r,
                    namespace=ns)
        m = Limiter(rate, burst=burst, clock=clock_m)
        for dt, cost in steps:
            clock_r.t += dt
            clock_m.t += dt
            assert r.check("k", cost) == m.check("k", cost), (rate, burst, dt, cost)
            assert r.get_remaining("k") == m.get_remaining("k")
        assert r.get_stats()["redis_errors"] == 0


def test_same_answers_as_memory_when_the_clock_goes_back_after_a_refill(Limiter, server, request):
    """Redis deletes a bucket a check leaves full, memory keeps it: the two
    differed once the clock went back (a full bucket kept its later time)."""
    clock_r, clock_m = FrozenClock(100.0), FrozenClock(100.0)
    r = Limiter(60, burst=1, backend="redis", redis_url=server.url, clock=clock_r,
                namespace=fresh_namespace(request))
    m = Limiter(60, burst=1, clock=clock_m)
    for t, cost in [(100.0, 1), (102.0, 0), (50.0, 1), (51.0, 1), (50.5, 1), (53.0, 1)]:
        clock_r.t = clock_m.t = t
        assert r.check("k", cost) == m.check("k", cost), (t, cost)


def test_keys_have_a_ttl_and_full_buckets_vanish(Limiter, server, request):
    clock = FrozenClock(5000.0)
    rl = Limiter(60, burst=5, backend="redis", redis_url=server.url, clock=clock,
                 namespace=fresh_namespace(request))
    client = redis.Redis.from_url(server.url)
    rl.check("user", 2)
    name = rl.redis_key("user")
    assert "user" not in name  # hashed, not the raw key
    ttl = client.pttl(name)
    assert 2000 < ttl <= 3000  # full again in 2 s (+1 s margin)
    clock.t += 10
    rl.check("user", 0)  # refilled completely: the key is deleted
    assert client.exists(name) == 0


def test_default_uses_redis_server_time(Limiter, server, request):
    rl = Limiter(60, burst=2, backend="redis", redis_url=server.url,
                 namespace=fresh_namespace(request))
    assert rl.check("k")["allowed"] and rl.check("k")["allowed"]
    denied = rl.check("k")
    assert not denied["allowed"] and 0 < denied["retry_after_ms"] <= 1000


WORKER = r"""
import sys
from fast_litellm.ratelimit import implementation
url, ns, kind = sys.argv[1], sys.argv[2], sys.argv[3]
rl = implementation(kind).SimpleRateLimiter(1, burst=50, backend="redis", redis_url=url,
                                            namespace=ns, redis_timeout_s=2.0)
sys.stdin.readline()  # start together
print(sum(rl.check("fresh-key")["allowed"] for _ in range(100)))
"""


def test_two_processes_share_exactly_burst(impl, server, request):
    ns = fresh_namespace(request)
    env = dict(os.environ, PYTHONPATH=SRC)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, server.url, ns, impl],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    time.sleep(0.5)
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    counts = [int(p.communicate(timeout=60)[0]) for p in procs]
    assert sum(counts) == 50, counts


@pytest.mark.parametrize("policy", ["open", "closed"])
def test_killing_redis_mid_run_applies_the_policy(Limiter, policy, request):
    srv = RedisServer()
    try:
        rl = Limiter(60, burst=100, backend="redis", redis_url=srv.url, failure_policy=policy,
                     redis_timeout_s=0.2, redis_retry_s=0.2, namespace=fresh_namespace(request))
        assert rl.check("k") == {"allowed": True, "reason": "ok", "remaining_requests": 99}
        srv.stop()
        t0 = time.monotonic()
        results = [rl.check("k") for _ in range(50)]
        elapsed = time.monotonic() - t0
    finally:
        srv.stop()
    assert elapsed < 2.0  # never hangs: a short timeout, then no retries for redis_retry_s
    for r in results:
        if policy == "open":
            assert r["allowed"] is True and "fail-open" in r["reason"]
        else:
            assert r["allowed"] is False and "fail-closed" in r["reason"]
            assert r["retry_after_ms"] >= 0
    stats = rl.get_stats()
    assert stats["redis_errors"] >= 1 and stats["redis_available"] is False
    assert stats["total_checks"] == 51


def test_unreachable_redis_from_the_start(Limiter, closed_url):
    rl = Limiter(60, backend="redis", redis_url=closed_url,
                 failure_policy="closed", redis_timeout_s=0.1)
    t0 = time.monotonic()
    r = rl.check("k")
    assert time.monotonic() - t0 < 1.0
    assert r["allowed"] is False and "fail-closed" in r["reason"]
    assert rl.get_remaining("k") == 0


@pytest.mark.parametrize("kwargs,exc,message", [
    (dict(), ValueError, "needs redis_url"),
    (dict(redis_url=5), TypeError, "redis_url must be a str"),
    (dict(redis_url="redis://x", failure_policy="maybe"), ValueError, "failure_policy"),
    # accepted before: the key names became "None:..." or "...:b'x':..."
    (dict(redis_url="redis://x", failure_policy=None), TypeError, "failure_policy must be a str, not NoneType"),
    (dict(redis_url="redis://x", namespace=b"x"), TypeError, "namespace must be a str or None, not bytes"),
    (dict(redis_url="redis://x", key_prefix=None), TypeError, "key_prefix must be a str, not NoneType"),
    (dict(redis_url="redis://x", redis_timeout_s=-1), ValueError, "redis_timeout_s"),
    (dict(redis_url="redis://x", redis_timeout_s="1"), TypeError, "redis_timeout_s"),
    (dict(redis_url="redis://x", redis_timeout_s=10**400), ValueError, "redis_timeout_s"),
    # accepted before, then every check against a healthy Redis failed (fail-open)
    (dict(redis_url="redis://x", redis_timeout_s=0), ValueError, "redis_timeout_s must be > 0"),
    (dict(redis_url="redis://x", redis_timeout_s=1e12), ValueError, "redis_timeout_s must be > 0"),
    (dict(redis_url="redis://x", redis_retry_s=-10**400), ValueError, "redis_retry_s"),
    (dict(redis_url="redis://x", burst=10**6), ValueError, "too large for the Redis backend"),
])
def test_bad_redis_arguments(Limiter, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        Limiter(60, backend="redis", **kwargs)


def test_huge_retry_interval_is_accepted(Limiter, closed_url):
    """redis_retry_s=1e300 passed validation, then int(1e300 * 1e9) raised
    OverflowError (inf ns)."""
    rl = Limiter(60, backend="redis", redis_url=closed_url,
                 redis_retry_s=1e300, redis_timeout_s=0.1)
    assert rl.check("k")["reason"].endswith("(fail-open)")
    assert rl.check("k")["reason"].endswith("(fail-open)")
    assert rl.get_stats()["redis_errors"] == 1  # not retried


def test_a_bad_clock_is_an_error_while_redis_is_down(Limiter, closed_url):
    """The clock was read only when Redis was tried: while it was down (or
    within redis_retry_s of a failure) a clock returning garbage went unseen."""
    clock = FrozenClock(10.0)
    rl = Limiter(60, backend="redis", redis_url=closed_url,
                 clock=clock, redis_timeout_s=0.1, redis_retry_s=60)
    assert rl.check("k")["reason"].endswith("(fail-open)")  # Redis is not tried for 60 s now
    clock.t = "soon"
    with pytest.raises(TypeError, match="clock must return seconds as a float, not str"):
        rl.check("k")
    clock.t = float("nan")
    with pytest.raises(ValueError, match="clock returned an unusable time"):
        rl.get_remaining("k")
    assert rl.get_stats()["total_checks"] == 1


def test_bad_check_arguments_are_checked_before_redis(Limiter):
    rl = Limiter(60, backend="redis", redis_url="redis://127.0.0.1:1/0")
    with pytest.raises(TypeError, match="key must be a str or None, not int"):
        rl.check(5)
    with pytest.raises(ValueError, match="cost must be >= 0, got -2"):
        rl.check("k", -2)
    assert rl.get_stats()["total_checks"] == 0


def test_a_redis_that_never_answers_times_out(Limiter):
    """A server that accepts but never replies: the short timeout applies,
    then the policy; later checks skip Redis until redis_retry_s passes."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = "redis://127.0.0.1:%d/0" % silent.getsockname()[1]
        rl = Limiter(60, backend="redis", redis_url=url, failure_policy="closed",
                     redis_timeout_s=0.2, redis_retry_s=30)
        t0 = time.monotonic()
        first = rl.check("k")
        rest = [rl.check("k") for _ in range(20)]
        elapsed = time.monotonic() - t0
    assert elapsed < 1.5
    assert not first["allowed"] and all(not r["allowed"] for r in rest)
    assert rl.get_stats()["redis_errors"] == 1


def test_redis_failures_do_not_count_against_the_rate_limiting_flag(Limiter, request):
    """A Redis outage is not a native error: it is counted in the stats and
    logged, and rust_rate_limiting's error budget (which switches the native
    core off) is left alone."""
    from fast_litellm import flags

    flags.reset_errors("rust_rate_limiting")
    try:
        rl = Limiter(60, burst=5, backend="redis", redis_url="redis://127.0.0.1:1/0",
                     redis_timeout_s=0.2, redis_retry_s=0.001, namespace=fresh_namespace(request))
        for _ in range(15):
            rl.check("k")
            time.sleep(0.002)
        assert rl.get_stats()["redis_errors"] >= 11
        status = flags.get_feature_status()["rust_rate_limiting"]
        assert status["errors"] == 0 and status["enabled"] is True
    finally:
        flags.reset_errors("rust_rate_limiting")

