"""Differential tests of the limiter's native memory tier (LocalRateLimits)
against LiteLLM's own Rust store (NativeRateLimits without Redis).

A stock handle and a native one receive the same random operations in
lockstep: get_local / set_local over entries of every kind (scopes whose
keys collide, unicode, long strings), values of every LocalValue shape
(int64 edges, floats, NaN, str, slot registries), ttls (None, ints,
floats, 0, tiny, negative), more keys than the 200-entry capacity (the
eviction order), short ttls that expire while the test sleeps; the async
increment / increment_many / increment_many_post_call / get (results,
errors, what they leave in memory); invalid inputs of every kind (each
raises what stock raises, after which the native handle has moved its
entries into the stock handle it wraps and forwards everything).  After
every step the returns (type and value), exceptions (type and message) and
the readable contents (get_local of every entry of the pool) are compared.
Both stores read the real clock (the Rust store's clock cannot be
injected); ttls are chosen so that nothing expires between the two sides'
calls unless the test sleeps past it.
"""
from __future__ import annotations

import asyncio
import math
import random
import threading
import time

import pytest

pytest.importorskip("litellm")

from litellm.redis.stores.rate_limits.types import (  # noqa: E402
    CounterIncrement,
    RateLimitCounter,
    RateLimitScope,
    RateLimitWindow,
)
from litellm.rust_bridge._native import NativeRateLimits  # noqa: E402

from fast_litellm import proxy_limiter  # noqa: E402
from fast_litellm._native_loader import NATIVE  # noqa: E402

pytestmark = pytest.mark.skipif(NATIVE is None, reason="native core not built")


def native_handle():
    from fast_litellm.proxy_limiter import _native

    return _native.local_store(NativeRateLimits(None))


SCOPES = [
    RateLimitScope("api_key", "sk-1"),
    RateLimitScope("api_key", "sk-2"),
    RateLimitScope("user", "u:1"),
    RateLimitScope("user:u", "1"),  # same keys as ("user", "u:1")
    RateLimitScope("team", "t\u00e9\U0001f600"),
    RateLimitScope("", ""),
    RateLimitScope("model", "m" * 300),
]


def entries_of(scope):
    return [scope.window, scope.gauge, scope.counter("requests"), scope.counter("tokens")]


POOL = [e for s in SCOPES for e in entries_of(s)]


def many_scopes(n):
    return [RateLimitScope("k", "v%d" % i) for i in range(n)]


VALUES = [0, 1, -1, 7, 2**63 - 1, -(2**63), 0.0, -0.0, 1.5, 1e300, math.inf, -math.inf, "", "123",
          "t\u00e9xt", "x" * 500, {}, {"a": 1.0, "b": 2}, {"slot-\u00e9": 1e18, "z": -3}]


def outcome(fn):
    try:
        result = fn()
        return ("ok", type(result), repr(result))
    except BaseException as exc:  # PanicException is a BaseException
        return ("raise", type(exc).__name__, str(exc))


def snapshot(handle, pool=POOL):
    return [outcome(lambda: handle.get_local(e)) for e in pool]


def random_ttl(rng):
    return rng.choice([None, None, 60, 600, 30.5, 3600, 1, 2.25])


def test_basic_round_trip():
    stock, fast = NativeRateLimits(None), native_handle()
    for entry, value in zip(POOL, VALUES * 3):
        for h in (stock, fast):
            h.set_local(entry, value, 60)
    assert snapshot(fast) == snapshot(stock)
    assert not fast._fast_litellm_degraded
    # the same key for two scopes
    assert fast.get_local(RateLimitScope("user", "u:1").window) == fast.get_local(RateLimitScope("user:u", "1").window)


@pytest.mark.parametrize("seed", range(6))
def test_random_get_set_match_stock(seed):
    rng = random.Random(seed)
    stock, fast = NativeRateLimits(None), native_handle()
    for step in range(600):
        entry = rng.choice(POOL)
        if rng.random() < 0.5:
            value, ttl = rng.choice(VALUES), random_ttl(rng)
            got = outcome(lambda: fast.set_local(entry, value, ttl))
            want = outcome(lambda: stock.set_local(entry, value, ttl))
        else:
            got = outcome(lambda: fast.get_local(entry))
            want = outcome(lambda: stock.get_local(entry))
        assert got == want, (step, entry)
        if step % 50 == 0:
            assert snapshot(fast) == snapshot(stock), step
    assert not fast._fast_litellm_degraded
    assert snapshot(fast) == snapshot(stock)


@pytest.mark.parametrize("seed", range(3))
def test_capacity_eviction_order_matches_stock(seed):
    """More keys than the 200-entry capacity: which ones survive depends on
    the heap order (expiry, then key) and on stale heap items."""
    rng = random.Random(seed)
    pool = [e for s in many_scopes(120) for e in (s.window, s.counter("requests"), s.counter("tokens"))]
    stock, fast = NativeRateLimits(None), native_handle()
    for step in range(1500):
        entry = rng.choice(pool)
        if rng.random() < 0.7:
            ttl = rng.choice([None, 60, 120, 600, 1000, 5])
            value = rng.randint(0, 5)
            assert outcome(lambda: fast.set_local(entry, value, ttl)) == outcome(
                lambda: stock.set_local(entry, value, ttl))
        else:
            assert outcome(lambda: fast.get_local(entry)) == outcome(lambda: stock.get_local(entry))
        if step % 100 == 0:
            assert snapshot(fast, pool) == snapshot(stock, pool), step
    assert snapshot(fast, pool) == snapshot(stock, pool)
    assert 190 <= sum(fast.get_local(e) is not None for e in pool) <= 200


def test_short_ttls_expire_alike():
    stock, fast = NativeRateLimits(None), native_handle()
    scopes = many_scopes(30)
    for i, s in enumerate(scopes):
        ttl = [0, 1e-9, 0.05, 0.3, -4, 0.0][i % 6]
        for h in (stock, fast):
            h.set_local(s.window, str(i), ttl)
            h.set_local(s.counter("requests"), i, 0.3 if i % 2 else None)
    pool = [e for s in scopes for e in (s.window, s.counter("requests"))]
    assert snapshot(fast, pool) == snapshot(stock, pool)
    time.sleep(0.1)
    assert snapshot(fast, pool) == snapshot(stock, pool)
    # rewriting an expired key gets a fresh expiry; a live one keeps its own
    for h in (stock, fast):
        for s in scopes[:10]:
            h.set_local(s.window, "again", 0.3)
    time.sleep(0.35)
    assert snapshot(fast, pool) == snapshot(stock, pool)


def test_live_key_keeps_its_expiry():
    stock, fast = NativeRateLimits(None), native_handle()
    e = SCOPES[0].window
    for h in (stock, fast):
        h.set_local(e, "a", 0.15)
        h.set_local(e, "b", 600)  # keeps the 0.15 s expiry
    time.sleep(0.2)
    assert fast.get_local(e) is None and stock.get_local(e) is None


def test_returned_objects_are_fresh():
    fast = native_handle()
    e = SCOPES[0].gauge
    fast.set_local(e, {"a": 1.0}, 60)
    first = fast.get_local(e)
    first["b"] = 2.0
    assert fast.get_local(e) == {"a": 1.0}
    fast.set_local(e, "text", 60)
    assert fast.get_local(e) is not fast.get_local(e)


# ---- async methods -------------------------------------------------------


def run(coro_fn):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro_fn())
    finally:
        loop.close()


def async_outcome(make):
    async def go():
        try:
            fut = make()
        except BaseException as exc:
            return ("raise-sync", type(exc).__name__, str(exc))
        try:
            result = await fut
            return ("ok", type(result), repr(result))
        except BaseException as exc:
            return ("raise", type(exc).__name__, str(exc))

    return run(go)


def random_increment(rng):
    counter = rng.choice([s.counter(k) for s in SCOPES[:4] for k in ("requests", "tokens")])
    amount = rng.choice([1, 2, 0, -3, 2.5, 10**6, 2**63 - 1])
    ttl = rng.choice([None, 60, 600])
    return CounterIncrement(counter, amount, ttl)


@pytest.mark.parametrize("seed", range(4))
def test_async_increments_match_stock(seed, caplog):
    rng = random.Random(seed)
    stock, fast = NativeRateLimits(None), native_handle()
    for step in range(120):
        r = rng.random()
        if r < 0.15:
            entry = rng.choice(POOL)
            value = rng.choice(VALUES)
            for h in (stock, fast):
                h.set_local(entry, value, 60)
            continue
        if r < 0.45:
            inc = random_increment(rng)
            got = async_outcome(lambda: fast.increment(inc))
            want = async_outcome(lambda: stock.increment(inc))
        elif r < 0.8:
            incs = [random_increment(rng) for _ in range(rng.randint(0, 4))]
            got = async_outcome(lambda: fast.increment_many(incs))
            want = async_outcome(lambda: stock.increment_many(incs))
        else:
            entry = rng.choice(POOL)
            got = async_outcome(lambda: fast.get(entry))
            want = async_outcome(lambda: stock.get(entry))
        assert got == want, step
        assert snapshot(fast) == snapshot(stock), step
    assert not fast._fast_litellm_degraded


def test_async_calls_need_a_running_loop_alike():
    stock, fast = NativeRateLimits(None), native_handle()
    inc = CounterIncrement(SCOPES[0].counter("requests"), 1, 60)
    for call in (lambda h: h.increment(inc), lambda h: h.increment_many([inc]),
                 lambda h: h.get(SCOPES[0].window)):
        assert outcome(lambda: call(fast)) == outcome(lambda: call(stock))
    # nothing was applied where the call raised
    assert snapshot(fast) == snapshot(stock)


def test_post_call_increments_without_redis():
    stock, fast = NativeRateLimits(None), native_handle()
    inc = CounterIncrement(SCOPES[0].counter("requests"), 1, 60)
    # the request argument is checked before memory is touched
    assert outcome(lambda: fast.increment_many_post_call(None, [inc])) == outcome(
        lambda: stock.increment_many_post_call(None, [inc]))
    assert snapshot(fast) == snapshot(stock)


# ---- invalid inputs: same errors, then the native handle forwards -------

class Duck:
    def __init__(self, suffix, scope):
        self.suffix = suffix
        self.scope = scope


BAD_CALLS = [
    ("get_local", (object(),)),
    ("get_local", ("window",)),
    ("get_local", (RateLimitCounter(SCOPES[0], "foo"),)),
    ("get_local", (RateLimitWindow(RateLimitScope(1, "x")),)),
    ("get_local", (Duck("window", SCOPES[0]),)),  # valid for PyO3: a duck-typed entry
    ("get_local", (RateLimitWindow(RateLimitScope("a", "\ud800")),)),
    ("get_local", ()),
    ("get_local", (object.__new__(RateLimitWindow),)),  # unset slots
    ("set_local", (object.__new__(RateLimitCounter), 1, 60)),
    ("increment", (object.__new__(CounterIncrement),)),
    ("set_local", (SCOPES[0].window, True, 60)),
    ("set_local", (SCOPES[0].window, 2**64, 60)),
    ("set_local", (SCOPES[0].window, [1], 60)),
    ("set_local", (SCOPES[0].window, b"x", 60)),
    ("set_local", (SCOPES[0].window, {"a": "x"}, 60)),
    ("set_local", (SCOPES[0].window, {1: 2.0}, 60)),
    ("set_local", (SCOPES[0].window, {"a": True}, 60)),
    ("set_local", (SCOPES[0].window, 5, math.nan)),
    ("set_local", (SCOPES[0].window, 5, math.inf)),
    ("set_local", (SCOPES[0].window, 5, "3")),
    ("set_local", (SCOPES[0].window, 5, 1e300)),
    ("set_local", (SCOPES[0].window, 5, True)),
    ("set_local", (SCOPES[0].window, 5)),
    ("set_local", (SCOPES[0].window, "\ud800", 60)),
    ("increment", (CounterIncrement(SCOPES[0].counter("requests"), True, 60),)),
    ("increment", (CounterIncrement(SCOPES[0].counter("requests"), 1, -1),)),
    ("increment", (CounterIncrement(SCOPES[0].counter("requests"), 1, 1.5),)),
    ("increment", (CounterIncrement(SCOPES[0].counter("requests"), 2**64, 60),)),
    ("increment_many", ("abc",)),
    ("increment_many", ([1],)),
]


@pytest.mark.parametrize("index", range(len(BAD_CALLS)))
def test_unusual_inputs_behave_as_stock(index):
    name, args = BAD_CALLS[index]
    stock, fast = NativeRateLimits(None), native_handle()
    rng = random.Random(index)
    for entry in POOL:
        value = rng.choice(VALUES)
        for h in (stock, fast):
            h.set_local(entry, value, rng.choice([60, None, 0.5]))
    before = snapshot(stock)
    assert snapshot(fast) == before

    async def call(h):
        r = getattr(h, name)(*args)
        if name in ("increment", "increment_many"):
            r = await r
        return r

    got = async_outcome(lambda: call(fast))
    want = async_outcome(lambda: call(stock))
    assert got == want
    assert fast._fast_litellm_degraded
    assert snapshot(fast) == snapshot(stock)
    # and it keeps matching afterwards
    for entry in POOL[:6]:
        for h in (stock, fast):
            h.set_local(entry, 3, 60)
    assert snapshot(fast) == snapshot(stock)


def test_overflowing_ttl_poisons_alike():
    """A ttl that makes now + ttl overflow a Duration panics inside the Rust
    store's lock and poisons it; the native handle hands that write to the
    stock handle, so the panic and every later error are the stock ones."""
    stock, fast = NativeRateLimits(None), native_handle()
    for h in (stock, fast):
        h.set_local(SCOPES[0].window, "1", 60)
    ttl = 1.8446744e19
    assert outcome(lambda: fast.set_local(SCOPES[1].window, 1, ttl)) == outcome(
        lambda: stock.set_local(SCOPES[1].window, 1, ttl))
    assert snapshot(fast) == snapshot(stock)


def test_degrade_keeps_contents_and_expiry_order():
    stock, fast = NativeRateLimits(None), native_handle()
    pool = [e for s in many_scopes(70) for e in (s.window, s.counter("requests"), s.counter("tokens"))]
    rng = random.Random(5)
    for entry in pool:
        ttl, value = rng.choice([60, 600, 1000, None]), rng.randint(0, 9)
        for h in (stock, fast):
            h.set_local(entry, value, ttl)
    NATIVE._limiter_store_degrade(fast)
    assert fast._fast_litellm_degraded
    assert snapshot(fast, pool) == snapshot(stock, pool)
    # the next writes evict the same earliest-expiring entries
    for i, s in enumerate(many_scopes(120)[70:]):
        for h in (stock, fast):
            h.set_local(s.window, i, 30)
    assert snapshot(fast, pool) == snapshot(stock, pool)


def test_stateless_methods_forward():
    fast = native_handle()
    assert fast.has_redis is False
    assert fast.slot_groups(SCOPES[:3], False) == NativeRateLimits(None).slot_groups(SCOPES[:3], False)
    assert fast.slot_groups(SCOPES[:3], True) == NativeRateLimits(None).slot_groups(SCOPES[:3], True)


@pytest.mark.parametrize("make", [native_handle, lambda: NativeRateLimits(None)], ids=["native", "stock"])
def test_threads_keep_counts_exact(make):
    fast = make()
    entry = SCOPES[0].counter("requests")
    fast.set_local(entry, 0, 600)
    lock = threading.Lock()

    def work():
        for _ in range(2000):
            with lock:  # the limiter's read-modify-write holds its own lock
                fast.set_local(entry, fast.get_local(entry) + 1, 600)
            fast.get_local(SCOPES[1].window)
            fast.set_local(SCOPES[1].window, "x", 600)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fast.get_local(entry) == 8000


def test_limiter_gets_the_native_tier_only_without_redis():
    from litellm.redis.stores.connection import RedisStores

    with proxy_limiter.accelerated("native"):
        handle = RedisStores(None).rate_limits(30.0)
        assert type(handle).__name__ == "LocalRateLimits"
        with pytest.raises(ValueError):
            RedisStores(None).rate_limits(math.nan)
    with proxy_limiter.stock():
        assert type(RedisStores(None).rate_limits()).__name__ == "NativeRateLimits"


def test_increment_many_at_capacity_matches_stock():
    """Batches of increments over more keys than the tier holds: the order
    of their expiries decides the evictions."""
    rng = random.Random(11)
    stock, fast = NativeRateLimits(None), native_handle()
    scopes = many_scopes(130)
    pool = [e for s in scopes for e in (s.counter("requests"), s.counter("tokens"))]
    for step in range(40):
        incs = [CounterIncrement(rng.choice(pool), rng.choice([1, 2, 0.5]), rng.choice([None, 60, 600]))
                for _ in range(12)]
        assert async_outcome(lambda: fast.increment_many(incs)) == async_outcome(lambda: stock.increment_many(incs))
        if step % 5 == 0:
            assert snapshot(fast, pool) == snapshot(stock, pool), step
    assert snapshot(fast, pool) == snapshot(stock, pool)
    assert not fast._fast_litellm_degraded


def test_threads_with_async_increments_match_stock():
    """Threads, each with its own event loop, await increment_many on one
    handle; the totals are the stock ones."""
    import sys

    scopes = many_scopes(20)

    def run_threads(handle):
        errors = []

        async def increment(incs):  # increment_many needs the running loop when called
            return await handle.increment_many(incs)

        def work(seed):
            rng = random.Random(seed)
            lp = asyncio.new_event_loop()
            try:
                for _ in range(60):
                    incs = [CounterIncrement(rng.choice(scopes).counter("requests"), 1, 600) for _ in range(3)]
                    lp.run_until_complete(increment(incs))
            except BaseException as exc:  # a thread's failure fails the test
                errors.append(exc)
            finally:
                lp.close()

        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        return [handle.get_local(s.counter("requests")) for s in scopes]

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        fast = run_threads(native_handle())
        assert fast == run_threads(NativeRateLimits(None))
        assert sum(fast) == 4 * 60 * 3  # every increment landed (the threads did run)
    finally:
        sys.setswitchinterval(old)


def test_relied_on_sources_are_the_verified_ones():
    from fast_litellm.proxy_limiter import _native

    _native.check_pins()


def test_changed_source_is_refused(monkeypatch):
    from fast_litellm.proxy_limiter import _native

    target = next(t for t in _native.PINS if t.endswith("CounterIncrement"))
    monkeypatch.setitem(_native.PINS, target, "0" * 64)
    with pytest.raises(RuntimeError, match="CounterIncrement changed"):
        _native.check_pins()
