"""SimpleRateLimiter (memory backend), one suite over both twins."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fast_litellm import ratelimit
from fast_litellm.ratelimit import _common
from _forking import forked_child_status  # noqa: E402
from _hostile import IntLies  # noqa: E402

SRC = str(Path(__file__).resolve().parents[2] / "src")


class FrozenClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def twin(impl):
    return ratelimit.implementation(impl)


@pytest.fixture
def Limiter(twin):
    return twin.SimpleRateLimiter


def comparable(stats):
    return {k: v for k, v in stats.items() if k not in ("implementation", "table_slots", "table_bytes")}


def test_burst_then_denied_with_exact_retry_after(Limiter):
    clock = FrozenClock(100.0)
    rl = Limiter(60, burst=5, clock=clock)
    for i in range(5):
        assert rl.check("user") == {"allowed": True, "reason": "ok", "remaining_requests": 4 - i}
    denied = rl.check("user")
    assert denied == {"allowed": False, "reason": "rate limit exceeded",
                      "remaining_requests": 0, "retry_after_ms": 1000.0}
    clock.t = 100.25
    assert rl.check("user")["retry_after_ms"] == 750.0
    clock.t = 100.999999999
    assert rl.check("user")["allowed"] is False
    clock.t = 101.0
    assert rl.check("user")["allowed"] is True
    assert rl.get_stats()["total_checks"] == 9


def test_retry_after_is_the_exact_wait(Limiter):
    """Waiting exactly retry_after_ms makes the same check pass; 1 ns less
    does not (7 tokens/min: the wait is not a round number)."""
    clock = FrozenClock(50.0)
    rl = Limiter(7, burst=3, clock=clock)
    for _ in range(3):
        assert rl.is_allowed("k")
    wait_ms = rl.check("k", 2)["retry_after_ms"]
    wait_ns = round(wait_ms * 1e6)
    assert wait_ns == -(-2 * 60_000_000_000 // 7)
    clock.t = 50.0 + (wait_ns - 1) / 1e9
    assert rl.get_remaining("k") == 1
    assert not rl.check("k", 2)["allowed"]
    clock.t = 50.0 + wait_ns / 1e9
    assert rl.check("k", 2)["allowed"]


def test_refill_has_no_rounding_loss(Limiter):
    clock = FrozenClock(0.0)
    rl = Limiter(7, clock=clock)
    for _ in range(7):
        assert rl.is_allowed("k")
    for step in range(1, 601):  # 60 s in 0.1 s steps, touching the bucket each time
        clock.t = step / 10
        rl.check("k", 0)
        assert rl.get_remaining("k") == (step * 100_000_000 * 7) // 60_000_000_000
    assert rl.get_remaining("k") == 7


def test_denied_check_consumes_nothing(Limiter):
    rl = Limiter(600, burst=10, clock=FrozenClock())
    assert rl.check("k", 7)["remaining_requests"] == 3
    for _ in range(5):
        r = rl.check("k", 4)
        assert not r["allowed"] and r["remaining_requests"] == 3
    assert rl.check("k", 3)["allowed"]


def test_cost_above_burst_never_passes(Limiter):
    rl = Limiter(60, burst=10, clock=FrozenClock())
    assert rl.check("k", 11) == {"allowed": False, "reason": "cost exceeds burst",
                                 "remaining_requests": 10, "retry_after_ms": None}
    assert rl.check("k", 2**80)["reason"] == "cost exceeds burst"
    assert rl.check("k", 0) == {"allowed": True, "reason": "ok", "remaining_requests": 10}


def test_default_key_and_defaults(Limiter):
    rl = Limiter()
    assert rl.requests_per_minute == 60 and rl.burst == 60 and rl.backend == "memory"
    assert rl.check()["remaining_requests"] == 59
    assert rl.get_remaining(None) == 59
    assert rl.get_remaining("default") == 59
    assert rl.is_allowed(key="x", cost=2)
    assert rl.get_remaining(key="x") == 58


def test_clock_going_back_never_refills(Limiter):
    clock = FrozenClock(10.0)
    rl = Limiter(60, burst=1, clock=clock)
    assert rl.is_allowed("k")
    clock.t = 9.0
    assert rl.check("k")["retry_after_ms"] == 2000.0
    clock.t = 11.0
    assert rl.is_allowed("k")


BAD_CONSTRUCT = [
    (dict(requests_per_minute=0), ValueError, "requests_per_minute must be >= 1, got 0"),
    (dict(requests_per_minute=-5), ValueError, "requests_per_minute must be >= 1, got -5"),
    (dict(requests_per_minute=1.5), TypeError, "requests_per_minute must be an int, not float"),
    (dict(requests_per_minute=True), TypeError, "requests_per_minute must be an int, not bool"),
    (dict(requests_per_minute="60"), TypeError, "requests_per_minute must be an int, not str"),
    (dict(requests_per_minute=2**70), ValueError, "requests_per_minute must be <= "),
    (dict(burst=0), ValueError, "burst must be >= 1, got 0"),
    (dict(burst=2.0), TypeError, "burst must be an int, not float"),
    (dict(burst=10**12), ValueError, "burst must be <= 153722867"),
    (dict(requests_per_minute=10**12), ValueError, "burst defaults to requests_per_minute"),
    (dict(backend="disk"), ValueError, "backend must be one of memory, redis"),
    (dict(backend=None), TypeError, "backend must be a str"),
    (dict(clock=5), TypeError, "clock must be callable or None, not int"),
    (dict(redis_url="redis://x"), TypeError, "need backend='redis'"),
]


@pytest.mark.parametrize("kwargs,exc,message", BAD_CONSTRUCT)
def test_bad_constructor_arguments(Limiter, kwargs, exc, message):
    with pytest.raises(exc) as info:
        Limiter(**kwargs)
    assert message in str(info.value)


BAD_CHECK = [
    ((5,), TypeError, "key must be a str or None, not int"),
    ((b"k",), TypeError, "key must be a str or None, not bytes"),
    (("k", 1.0), TypeError, "cost must be an int, not float"),
    (("k", True), TypeError, "cost must be an int, not bool"),
    (("k", "1"), TypeError, "cost must be an int, not str"),
    (("k", -1), ValueError, "cost must be >= 0, got -1"),
    (("k", -(2**80)), ValueError, "cost must be >= 0, got -1208925819614629174706176"),
]


@pytest.mark.parametrize("args,exc,message", BAD_CHECK)
def test_bad_check_arguments(Limiter, args, exc, message):
    rl = Limiter(60)
    for method in (rl.check, rl.is_allowed):
        with pytest.raises(exc) as info:
            method(*args)
        assert str(info.value) == message
    assert rl.get_stats()["total_checks"] == 0


BAD_CALLS = [
    ("check", ("k", 1, 2), {}, "check() takes "),
    ("is_allowed", (), {"weight": 1}, "is_allowed() got an unexpected keyword argument 'weight'"),
    ("check", ("k",), {"key": "k"}, "check() got multiple values for argument 'key'"),
    ("get_remaining", ("k", 1), {}, "get_remaining() takes "),
    ("get_remaining", (), {"cost": 1}, "get_remaining() got an unexpected keyword argument 'cost'"),
]


@pytest.mark.parametrize("method,args,kwargs,message", BAD_CALLS)
def test_bad_calls_are_pythons_type_errors_naming_the_method(Limiter, method, args, kwargs, message):
    """A call that does not bind is a TypeError in Python's wording, naming the
    method, from both twins; nothing is counted."""
    rl = Limiter(60)
    with pytest.raises(TypeError) as info:
        getattr(rl, method)(*args, **kwargs)
    assert message in str(info.value)
    assert rl.check(key="k", cost=2)["remaining_requests"] == 58
    assert rl.get_remaining(key="k") == 58
    assert rl.get_stats()["total_checks"] == 1


def test_str_subclass_key_is_its_text(Limiter):
    """A str subclass key counts as its text, and its __hash__/__eq__ do not run
    inside the limiter: one that calls back into it deadlocked the Python twin."""
    rl = Limiter(60, keep_raw_keys=True)

    class Reentrant(str):
        def __hash__(self):
            rl.cleanup()
            rl.get_remaining("other")
            return str.__hash__(self)

        def __eq__(self, other):
            rl.get_stats()
            return str.__eq__(self, other)

    done = []
    worker = threading.Thread(target=lambda: done.append([rl.check(Reentrant("k"))["allowed"] for _ in range(3)]),
                              daemon=True)
    worker.start()
    worker.join(10)
    assert done == [[True, True, True]]
    assert rl.get_remaining("k") == 57
    assert [type(k) for k in rl.get_stats(raw_keys=True)["keys"]] == [str]


@pytest.mark.parametrize("value,exc", [("1.0", TypeError), (None, TypeError),
                                       (float("nan"), ValueError), (float("inf"), ValueError),
                                       (1e300, ValueError), (10**400, ValueError),
                                       (-10**400, ValueError)])
def test_bad_clock_values(Limiter, value, exc):
    rl = Limiter(60, clock=lambda: value)
    with pytest.raises(exc):
        rl.check("k")


def test_clock_jumping_back_by_centuries_gives_the_exact_wait(Limiter):
    """The wait (refill missing + time back to the last update) can exceed
    2**63 ns: the C core overflowed it (a negative retry_after_ms)."""
    top = _common.MAX_BURST
    clock = FrozenClock(9.1e9)
    rl = Limiter(1, burst=top, clock=clock)
    assert rl.check("k", top)["allowed"]
    clock.t = -9.1e9
    back = 18_200_000_000 * 10**9
    assert rl.check("k", top)["retry_after_ms"] == (top * _common.UNITS_PER_TOKEN + back) / 1e6
    assert rl.check("k")["retry_after_ms"] == (_common.UNITS_PER_TOKEN + back) / 1e6
    rl2 = Limiter(60, burst=1, clock=clock)
    clock.t = 9.1e9
    assert rl2.check("k")["allowed"]
    clock.t = -9.1e9
    assert rl2.check("k")["retry_after_ms"] == (10**9 + back) / 1e6


@pytest.mark.parametrize("reclaim", ["cleanup", "new keys", "none"])
def test_a_full_bucket_is_an_absent_one_when_the_clock_goes_back(Limiter, reclaim):
    """A bucket refilled to full kept its (later) time, an absent one takes
    now: after the clock went back, whether it had been reclaimed (cleanup,
    or a table rebuild, at different moments in each twin) changed the answer."""
    clock = FrozenClock(100.0)
    rl = Limiter(60, burst=1, clock=clock)
    assert rl.check("a")["allowed"]
    clock.t = 102.0
    assert rl.check("a", 0)["remaining_requests"] == 1  # full again
    if reclaim == "cleanup":
        rl.cleanup()
    elif reclaim == "new keys":
        for i in range(9):  # the C table's first rebuild
            rl.check("new%d" % i)
    clock.t = 50.0
    assert rl.check("a")["allowed"]
    clock.t = 51.0
    assert rl.check("a") == {"allowed": True, "reason": "ok", "remaining_requests": 0}


def test_twins_reclaim_at_the_same_moments():
    """Once the clock has gone back, a reclaimed bucket (full) and a kept one
    (its earlier state) answer differently, so both twins must reclaim at the
    same moments: the Python twin swept at 1024 buckets, the C core rebuilds
    its table from the 9th."""
    from fast_litellm._native_loader import native_has

    kinds = ["python"] + (["native"] if native_has("RateLimiter") else [])
    answers = []
    for kind in kinds:
        clock = FrozenClock(100.0)
        rl = ratelimit.implementation(kind).SimpleRateLimiter(60, burst=1, clock=clock)
        rl.check("a")
        clock.t = 200.0  # "a" is full again (untouched)
        for i in range(8):  # the 9th bucket rebuilds the C table: "a" is reclaimed
            rl.check("new%d" % i)
        clock.t = 100.5
        answers.append((rl.check("a"), comparable(rl.get_stats())))
    assert answers[0][0] == {"allowed": True, "reason": "ok", "remaining_requests": 0}
    assert all(a == answers[0] for a in answers)


class _OtherFloat(float):
    def __float__(self):
        return 1.0


def test_number_subclasses_count_as_their_value(Limiter):
    """The Python twin compared the objects themselves: a cost of
    IntLies(-100) passed 'cost < 0' and added 100 tokens above the burst,
    a rate of IntLies(-5) was accepted; a float subclass clock was read
    through its __float__.  Both twins now see the plain value."""
    rl = Limiter(60, burst=5, clock=FrozenClock(10.0))
    with pytest.raises(ValueError, match="cost must be >= 0, got -100"):
        rl.check("k", IntLies(-100))
    assert rl.get_remaining("k") == 5
    with pytest.raises(ValueError, match="requests_per_minute must be >= 1, got -5"):
        Limiter(IntLies(-5))
    with pytest.raises(ValueError, match="burst must be <= 153722867"):
        Limiter(60, burst=IntLies(10**12))
    assert rl.check("k", IntLies(2))["remaining_requests"] == 3
    rl = Limiter(60, burst=1, clock=lambda: _OtherFloat(500.0))
    assert rl.check("k")["allowed"] and not rl.check("k")["allowed"]
    clocked = Limiter(60, burst=1, clock=lambda: 500.0)
    clocked.check("k")
    assert rl.check("k") == clocked.check("k")


def test_clock_exception_propagates(Limiter):
    def broken():
        raise RuntimeError("clock broke")

    with pytest.raises(RuntimeError, match="clock broke"):
        Limiter(60, clock=broken).check("k")


def test_int_clock_and_str_subclass_keys(Limiter):
    class Key(str):
        pass

    rl = Limiter(60, burst=2, clock=lambda: 5)
    assert rl.check(Key("a"))["remaining_requests"] == 1
    assert rl.check("a")["remaining_requests"] == 0


def test_unicode_and_surrogate_keys(Limiter):
    rl = Limiter(60, burst=2, clock=FrozenClock())
    for key in ("ключ", "\U0001f600", "a\udc80b", ""):
        assert rl.check(key)["remaining_requests"] == 1
    assert rl.get_remaining("a\udc80b") == 1
    assert rl.get_remaining("a\udc81b") == 2


# -- statistics and fingerprints ------------------------------------------------

def test_stats_use_fingerprints_unless_raw_keys(twin):
    clock = FrozenClock()
    rl = twin.SimpleRateLimiter(60, burst=3, clock=clock)
    rl.check("sk-secret-1")
    rl.check("sk-secret-2", 2)
    stats = rl.get_stats()
    assert "sk-secret-1" not in str(stats)
    assert stats["keys"] == {twin.key_fingerprint("sk-secret-1"): {"remaining_requests": 2},
                             twin.key_fingerprint("sk-secret-2"): {"remaining_requests": 1}}
    assert stats["tracked_keys"] == 2
    with pytest.raises(ValueError, match="keep_raw_keys=True"):
        rl.get_stats(raw_keys=True)
    raw = twin.SimpleRateLimiter(60, burst=3, clock=clock, keep_raw_keys=True)
    raw.check("sk-secret-1")
    raw.check()
    assert raw.get_stats(raw_keys=True)["keys"] == {"sk-secret-1": {"remaining_requests": 2},
                                                    "default": {"remaining_requests": 2}}
    clock.t += 3600  # all full again: nothing tracked
    assert raw.get_stats(raw_keys=True)["keys"] == {}
    assert raw.get_stats()["tracked_keys"] == 0


def test_raw_keys_do_not_pile_up_under_key_churn(Limiter):
    """keep_raw_keys=True: the native binding kept every key it ever saw
    (20 MB for 200k keys, 10 of them live) unless get_stats(raw_keys=True)
    was called; the Python twin's dict is swept."""
    import gc
    import tracemalloc

    clock = FrozenClock(0.0)
    rl = Limiter(6000, burst=1, clock=clock, keep_raw_keys=True)  # a token every 10 ms
    tracemalloc.start()
    try:
        for i in range(30000):
            clock.t = i * 0.001
            rl.check("user-%d" % i)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert grown < 1_000_000
    stats = rl.get_stats(raw_keys=True)
    assert sorted(stats["keys"]) == ["user-%d" % i for i in range(29990, 30000)]


def test_raw_key_labels_survive_the_clock_going_back(Limiter):
    """get_stats(raw_keys=True) pruned the native raw-key set of keys whose
    bucket was full at that moment; once the clock went back the (still
    stored) bucket showed again, labelled by fingerprint where the Python
    twin shows the key."""
    clock = FrozenClock(10.0)
    rl = Limiter(60, burst=1, clock=clock, keep_raw_keys=True)
    rl.check("k")
    clock.t = 20.0
    assert rl.get_stats(raw_keys=True)["keys"] == {}  # full now
    clock.t = 10.5
    assert rl.get_stats(raw_keys=True)["keys"] == {"k": {"remaining_requests": 0}}


def test_fingerprint_is_stable_across_processes_and_twins(twin):
    here = twin.key_fingerprint("sk-abc")
    assert len(here) == 16 and int(here, 16) >= 0
    assert here == ratelimit.implementation("python").key_fingerprint("sk-abc")
    code = "from fast_litellm.ratelimit import key_fingerprint as f; print(f('sk-abc'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=SRC, PYTHONHASHSEED="123"), check=True)
    assert out.stdout.strip() == here
    with pytest.raises(TypeError, match="key must be a str or None"):
        twin.key_fingerprint(5)


@pytest.mark.skipif(sys.hash_info.algorithm != "siphash13",
                    reason="CPython hashes with %s here (SipHash-1-3 from 3.11 on)" % sys.hash_info.algorithm)
def test_python_siphash_matches_cpython_siphash13():
    """CPython hashes bytes with SipHash-1-3; with PYTHONHASHSEED=0 the key is
    zero: our SipHash (both twins' fingerprint function) agrees with it."""
    samples = [b"a", b"abc", b"abcdefgh", b"0123456789abcdef!", bytes(range(64))]
    code = "import sys; print([hash(b) for b in %r])" % (samples,)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONHASHSEED="0"), check=True)
    expected = [h & (2**64 - 1) for h in eval(out.stdout)]
    assert [_common.siphash13(0, 0, s) for s in samples] == expected


@pytest.mark.native_only
@settings(max_examples=200, deadline=None)
@given(st.text())
def test_native_and_python_fingerprints_agree(key):
    from fast_litellm._native_loader import native_has

    if not native_has("rl_fingerprint"):
        pytest.skip("native core not built")
    assert (ratelimit.implementation("native").key_fingerprint(key)
            == ratelimit.implementation("python").key_fingerprint(key))


@pytest.mark.native_only
def test_native_table_is_keyed_per_limiter():
    """Where a key lands in the native table depends on a per-limiter random
    SipHash key: two limiters with the same keys place them differently."""
    from fast_litellm._native_loader import native_has

    if not native_has("RateLimiter"):
        pytest.skip("native core not built")
    Limiter = ratelimit.implementation("native").SimpleRateLimiter
    a, b = Limiter(60, clock=FrozenClock()), Limiter(60, clock=FrozenClock())
    for rl in (a, b):
        for i in range(200):
            rl.check("key-%d" % i)
    assert a.get_stats()["table_slots"] == b.get_stats()["table_slots"] == 512
    same = sum(a._test_home_slot("key-%d" % i) == b._test_home_slot("key-%d" % i)
               for i in range(200))
    assert same < 20  # ~0.4 expected by chance
    assert a.get_stats()["keys"] == b.get_stats()["keys"]


def test_full_buckets_are_reclaimed(Limiter):
    clock = FrozenClock(0.0)
    rl = Limiter(60, burst=2, clock=clock)
    for i in range(5000):
        rl.check("k%d" % i)
    assert rl.get_stats()["tracked_keys"] == 5000
    clock.t = 1.5  # all full again
    assert rl.get_stats()["tracked_keys"] == 0
    assert rl.cleanup() == 5000
    stats = rl.get_stats()
    if "table_slots" in stats:
        assert stats["table_slots"] == 16
    # and reclaiming changed no answer
    assert rl.check("k1")["remaining_requests"] == 1


def test_reclamation_keeps_memory_bounded_under_key_churn(Limiter):
    """Many short-lived keys: the table never holds much more than the keys
    that are not yet full (no cleanup() call needed)."""
    clock = FrozenClock(0.0)
    rl = Limiter(6000, burst=1, clock=clock)  # a token every 10 ms
    for i in range(20000):
        clock.t = i * 0.001  # each key is full again 10 ms later
        rl.check("churn-%d" % i)
    stats = rl.get_stats()
    assert stats["tracked_keys"] <= 10
    if "table_slots" in stats:
        assert stats["table_slots"] <= 4096


# -- both twins give identical answers ------------------------------------------

OPS = st.lists(
    st.tuples(st.sampled_from(["check", "remaining", "advance", "cleanup"]),
              st.sampled_from(["a", "b", "c", None]),
              st.integers(0, 6),
              st.integers(0, 3_000_000_000)),
    max_size=60)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 200), st.integers(1, 8), OPS)
def test_twins_agree_on_random_sequences(rate, burst, ops):
    from fast_litellm._native_loader import native_has

    kinds = ["python"] + (["native"] if native_has("RateLimiter") else [])
    results = []
    for kind in kinds:
        clock = FrozenClock(1.0)
        rl = ratelimit.implementation(kind).SimpleRateLimiter(rate, burst=burst, clock=clock)
        out = []
        for op, key, cost, dt in ops:
            if op == "check":
                out.append(rl.check(key, cost))
            elif op == "remaining":
                out.append(rl.get_remaining(key))
            elif op == "advance":
                clock.t += dt / 1e9
            else:
                rl.cleanup()
        out.append(comparable(rl.get_stats()))
        results.append(out)
    assert all(r == results[0] for r in results)


# -- threads and fork ------------------------------------------------------------

def test_threads_get_exactly_burst(Limiter):
    rl = Limiter(60, burst=1000, clock=FrozenClock())
    allowed = [0] * 8
    barrier = threading.Barrier(8)

    def hammer(i):
        barrier.wait()
        for j in range(500):
            if rl.check("shared")["allowed"]:
                allowed[i] += 1
            rl.check("own-%d-%d" % (i, j))  # new keys: table rebuilds meanwhile

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 1000
    stats = rl.get_stats()
    assert stats["total_checks"] == 8000 and stats["allowed"] == 1000 + 4000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_while_another_thread_holds_the_lock(Limiter):
    rl = Limiter(60, burst=3, clock=FrozenClock())
    rl.check("k")
    holder = threading.Thread(target=rl._test_hold_lock, args=(1.0,))
    holder.start()
    time.sleep(0.2)  # the holder is inside the limiter now
    pid = os.fork()
    if pid == 0:  # child: must not deadlock on the inherited lock
        code = 1
        try:
            signal_alarm = getattr(__import__("signal"), "alarm")
            signal_alarm(5)
            r = rl.check("k")
            code = 0 if r == {"allowed": True, "reason": "ok", "remaining_requests": 1} else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    holder.join()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert rl.check("k")["remaining_requests"] == 1  # the parent is unaffected


# -- module-level API -------------------------------------------------------------

def test_module_level_functions_use_env_config():
    code = (
        "import fast_litellm as fl\n"
        "r = [fl.check_rate_limit('u') for _ in range(4)]\n"
        "s = fl.get_rate_limit_stats()\n"
        "print(r[-1]['allowed'], r[2]['remaining_requests'], s['requests_per_minute'], s['burst'])\n"
    )
    env = dict(os.environ, PYTHONPATH=SRC, FAST_LITELLM_RATE_LIMIT_RPM="120",
               FAST_LITELLM_RATE_LIMIT_BURST="3", LITELLM_LOCAL_MODEL_COST_MAP="True")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "0", "120", "3"]


def test_out_of_range_env_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("FAST_LITELLM_RATE_LIMIT_RPM", "-5")
    monkeypatch.setenv("FAST_LITELLM_RATE_LIMIT_REDIS_URL", "redis://:secret@localhost:1")
    old = ratelimit._default_limiter
    try:
        with pytest.raises(ValueError, match=r"requests_per_minute must be >= 1, got -5 .*"
                                             r"FAST_LITELLM_RATE_LIMIT_RPM='-5'") as info:
            ratelimit.configure_default_rate_limiter()
        assert "secret" not in str(info.value)
        with pytest.raises(ValueError, match=r"must be >= 1, got -5\Z"):  # explicit arguments: as given
            ratelimit.configure_default_rate_limiter(requests_per_minute=-5)
    finally:
        ratelimit._default_limiter = old


def test_configure_default_rate_limiter():
    old = ratelimit._default_limiter
    try:
        ratelimit.configure_default_rate_limiter(requests_per_minute=10, burst=2)
        assert ratelimit.check_rate_limit("z")["remaining_requests"] == 1
        assert ratelimit.get_rate_limit_stats()["burst"] == 2
    finally:
        ratelimit._default_limiter = old


def test_implementation_kinds():
    assert ratelimit.implementation("python").kind == "python"
    with pytest.raises(ValueError):
        ratelimit.implementation("rust")


@pytest.mark.slow
@pytest.mark.native_only
def test_native_memory_per_key_at_a_million_keys():
    """Process RSS growth for 1,000,000 live keys stays under 100 bytes/key."""
    from fast_litellm._native_loader import native_has

    if not native_has("RateLimiter"):
        pytest.skip("native core not built")
    code = (
        "import gc\n"
        "from fast_litellm.ratelimit import implementation\n"
        "def rss():\n"
        "    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * 4096\n"
        "keys = ['sk-%012d' % i for i in range(1000000)]\n"
        "rl = implementation('native').SimpleRateLimiter(60, clock=lambda: 1.0)\n"
        "gc.collect(); before = rss()\n"
        "check = rl.check\n"
        "for k in keys: check(k)\n"
        "after = rss()\n"
        "assert rl.get_stats()['tracked_keys'] == 1000000\n"
        "print((after - before) / 1000000)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=SRC), timeout=300)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) < 100


def test_default_limiter_follows_the_feature_flag(monkeypatch):
    import sys
    import types

    import fast_litellm
    from fast_litellm import pool as pool_pkg
    from fast_litellm.pool import _python as pool_python
    from fast_litellm.ratelimit import _python as rl_python

    fake = types.ModuleType("fast_litellm.flags")
    fake.is_enabled = lambda name, request_id=None: name not in ("rust_rate_limiting",
                                                                 "rust_connection_pool")
    monkeypatch.setitem(sys.modules, "fast_litellm.flags", fake)
    monkeypatch.setattr(fast_litellm, "flags", fake, raising=False)
    old_rl, old_pool = ratelimit._default_limiter, pool_pkg._default_pool
    try:
        assert type(ratelimit.configure_default_rate_limiter()) is rl_python.SimpleRateLimiter
        assert type(pool_pkg.configure_default_pool()) is pool_python.SimpleConnectionPool
        fake.is_enabled = lambda name, request_id=None: True
        assert type(ratelimit.configure_default_rate_limiter()) is ratelimit.SimpleRateLimiter
        del fake.is_enabled  # flags module without the function: C core
        assert type(pool_pkg.configure_default_pool()) is pool_pkg.SimpleConnectionPool
    finally:
        ratelimit._default_limiter, pool_pkg._default_pool = old_rl, old_pool


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_while_another_thread_holds_the_default_lock():
    """The default limiter's lock, held by a parent thread at a fork, used
    to stay held forever in the child (check_rate_limit hung)."""
    def child():
        return ratelimit.default_rate_limiter() is not None

    assert forked_child_status([lambda: ratelimit._default_lock], child) == 0
