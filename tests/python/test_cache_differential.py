"""Differential tests: stock InMemoryCache vs the accelerated one, in lockstep.

Two caches receive the same random sequence of operations (mixed value
types, TTLs, sizes, keys, clock steps).  For every operation the fast
methods are installed on the class for the fast cache's call and removed
for the stock cache's call, so subclasses and internal `self.` calls go
through exactly the production patching path.  Every return value (with
object identity of stored values), every exception (type and message) and
the visible state (cache_dict, ttl_dict, expiration_heap, in order) must
match after each step.  The clock is controlled by replacing `time` as
LiteLLM's module sees it.
"""
from __future__ import annotations

import asyncio
import math
import random
import threading
import types

import pytest

pytest.importorskip("litellm")

import litellm.caching.in_memory_cache as imc  # noqa: E402
from litellm.caching.in_memory_cache import InMemoryCache  # noqa: E402
from litellm.caching.llm_caching_handler import LLMClientCache  # noqa: E402

from fast_litellm import cache as fast_cache  # noqa: E402


@pytest.fixture(autouse=True)
def stock_outside_accelerated():
    """`import fast_litellm` lets the patch engine put the fast methods on the
    class; the stock side of every comparison must run LiteLLM's own code, so
    outside `accelerated()` blocks the class carries the stock methods."""
    with fast_cache.stock():
        yield


class FakeClock:
    def __init__(self, start: float = 1_000_000.0):
        self.now = start
        self.calls = 0

    def time(self) -> float:
        self.calls += 1
        return self.now


class Opaque:
    """A value json.loads rejects (TypeError) and that compares by identity."""


class TextSubclass(str):
    pass


def make_values():
    return [
        {"a": 1},
        [1, 2, 3],
        (1, 2),
        0,
        7,
        -3,
        2.5,
        float("nan"),
        True,
        False,
        None,
        "hello",
        "sk-1234",
        '{"x": 1}',
        "123",
        " [1, 2]",
        "nope",
        "null",
        "",
        "NaN",
        "\ufeff{}",
        "x" * 2000,
        "9" * 1500,
        TextSubclass('{"sub": true}'),
        b'{"b": 2}',
        bytearray(b"[3]"),
        b"raw",
        Opaque(),
        {1, 2},
        {"big": "y" * 3000},
        10**40,
    ]


KEYS = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"]
TTLS = [None, 0, 0.5, 1, 2, 5, 30, "2", -1]
STEPS = [0, 0, 0.25, 0.5, 1, 2, 3, 10, 700]


def same(a, b, stored_ids) -> bool:
    """a (fast) matches b (stock): identity for stored objects, else equal."""
    if id(b) in stored_ids:
        return a is b
    if id(a) in stored_ids:
        return False
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y, stored_ids) for x, y in zip(a, b))
    return a == b


def outcome(fn):
    try:
        return ("ok", fn())
    except Exception as exc:  # compare type and message
        return ("raise", type(exc), str(exc))


def state(cache):
    return (
        list(cache.cache_dict.items()),
        list(cache.ttl_dict.items()),
        list(cache.expiration_heap),
    )


def states_match(fast, stock, stored_ids) -> bool:
    (fc, ft, fh), (sc, st, sh) = state(fast), state(stock)
    if [k for k, _ in fc] != [k for k, _ in sc]:
        return False
    if not all(same(a, b, stored_ids) for (_, a), (_, b) in zip(fc, sc)):
        return False
    return ft == st and fh == sh


class Lockstep:
    def __init__(self, kind, make_cache, clock, monkeypatch, names=None):
        self.kind = kind
        self.names = names
        self.clock = clock
        self.fast = make_cache()
        self.stock = make_cache()
        self.values = make_values()
        self.stored_ids = {id(v) for v in self.values}
        self.loop = asyncio.new_event_loop()

    def run(self, op):
        with fast_cache.accelerated(self.kind, self.names):
            fast = outcome(lambda: op(self.fast))
        stock = outcome(lambda: op(self.stock))
        return fast, stock

    def check(self, op, label):
        calls_before = self.clock.calls
        with fast_cache.accelerated(self.kind, self.names):
            fast = outcome(lambda: op(self.fast))
        fast_calls = self.clock.calls - calls_before
        calls_before = self.clock.calls
        stock = outcome(lambda: op(self.stock))
        stock_calls = self.clock.calls - calls_before
        assert fast[0] == stock[0], (label, fast, stock)
        if fast[0] == "ok":
            assert same(fast[1], stock[1], self.stored_ids), (label, fast, stock)
        else:
            assert fast[1:] == stock[1:], (label, fast, stock)
        assert fast_calls == stock_calls, (label, "clock calls", fast_calls, stock_calls)
        assert states_match(self.fast, self.stock, self.stored_ids), (label, state(self.fast), state(self.stock))

    def random_op(self, rng):
        key = rng.choice(KEYS) if rng.random() < 0.95 else rng.choice([1, 2.5, ("t",)])
        value = rng.choice(self.values)
        ttl = rng.choice(TTLS)
        kind = rng.random()
        if kind < 0.25:
            if ttl is None and rng.random() < 0.5:
                return "set", lambda c: c.set_cache(key, value)
            return "set ttl=%r" % (ttl,), lambda c: c.set_cache(key, value, ttl=ttl)
        if kind < 0.45:
            return "get", lambda c: c.get_cache(key)
        if kind < 0.5:
            return "get kw", lambda c: c.get_cache(key=key, parent_otel_span=None)
        if kind < 0.58:
            keys = rng.sample(KEYS, rng.randint(0, 6))
            return "batch", lambda c: c.batch_get_cache(keys)
        if kind < 0.68:
            amount = rng.choice([1, 2, 0.5, -1, 10**20])
            if rng.random() < 0.5:
                return "incr", lambda c: c.increment_cache(key, amount)
            return "incr ttl", lambda c: c.increment_cache(key, amount, ttl=ttl)
        if kind < 0.72:
            return "delete", lambda c: c.delete_cache(key)
        if kind < 0.73:
            return "flush", lambda c: c.flush_cache()
        if kind < 0.76:
            return "evict", lambda c: c.evict_cache()
        if kind < 0.80:
            loop = self.loop
            return "async get", lambda c: loop.run_until_complete(c.async_get_cache(key))
        if kind < 0.83:
            loop = self.loop
            keys = rng.sample(KEYS, 3)
            return "async batch", lambda c: loop.run_until_complete(c.async_batch_get_cache(keys))
        if kind < 0.86:
            loop = self.loop
            return "async set", lambda c: loop.run_until_complete(c.async_set_cache(key, value, ttl=ttl))
        if kind < 0.88:
            loop = self.loop
            return "async incr", lambda c: loop.run_until_complete(c.async_increment(key, 1, ttl=ttl))
        step = rng.choice(STEPS)
        self.clock.now += step  # both caches then run a no-op at the new time
        return "advance %r" % step, lambda c: None

    def close(self):
        self.loop.close()


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(imc, "time", types.SimpleNamespace(time=fake.time))
    return fake


CONFIGS = [
    dict(),
    dict(max_size_in_memory=3),
    dict(max_size_in_memory=5, default_ttl=2),
    dict(max_size_in_memory=1),
    dict(max_size_in_memory=0),
    dict(max_size_in_memory=4, max_size_per_item=1),
    dict(max_size_in_memory=2, default_ttl=None, max_size_per_item=2),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: ",".join("%s=%s" % kv for kv in c.items()) or "default")
@pytest.mark.parametrize("seed", range(6))
def test_random_sequences_match_stock(impl, clock, monkeypatch, config, seed):
    rng = random.Random(seed * 1000 + len(config))
    lock = Lockstep(impl, lambda: InMemoryCache(**config), clock, monkeypatch)
    try:
        for step in range(250):
            label, op = lock.random_op(rng)
            lock.check(op, "%d: %s" % (step, label))
    finally:
        lock.close()


class RecordingCloser:
    def __init__(self):
        self.log = []

    def schedule(self, client):
        self.log.append(("schedule", client))

    def reap(self):
        self.log.append(("reap",))

    def mark_owned(self, client):
        self.log.append(("own", client))


@pytest.mark.parametrize("client_flag", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_client_cache_matches_stock(impl, clock, monkeypatch, seed, client_flag):
    """LLMClientCache overrides _remove_key/get/set: the overrides must run
    exactly where the stock code calls them (closer log identical)."""
    rng = random.Random(seed)
    monkeypatch.setattr(fast_cache, "flag_enabled", lambda name: client_flag if name == fast_cache.CLIENT_FLAG else True)
    lock = Lockstep(
        impl,
        lambda: LLMClientCache(max_size_in_memory=3, default_ttl=2, evicted_client_closer=RecordingCloser()),
        clock,
        monkeypatch,
    )
    try:
        for step in range(200):
            label, op = lock.random_op(rng)
            lock.check(op, "%d: %s" % (step, label))
            fast_log = lock.fast.evicted_client_closer.log
            stock_log = lock.stock.evicted_client_closer.log
            assert len(fast_log) == len(stock_log)
            assert all(a[0] == b[0] and all(same(x, y, lock.stored_ids) for x, y in zip(a[1:], b[1:]))
                       for a, b in zip(fast_log, stock_log)), (step, label)
    finally:
        lock.close()


class CountingSubclass(InMemoryCache):
    """Overrides helpers the fast methods would otherwise inline."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.seen = []

    def _is_key_expired(self, key):
        self.seen.append(("expired?", key))
        return super()._is_key_expired(key)

    def check_value_size(self, value):
        self.seen.append(("size", type(value).__name__))
        return super().check_value_size(value)

    def _cache_keys(self):
        self.seen.append(("keys",))
        return super()._cache_keys()


@pytest.mark.parametrize("seed", range(3))
def test_subclass_overrides_are_called_like_stock(impl, clock, monkeypatch, seed):
    rng = random.Random(seed)
    lock = Lockstep(impl, lambda: CountingSubclass(max_size_in_memory=3), clock, monkeypatch)
    try:
        for step in range(200):
            label, op = lock.random_op(rng)
            lock.check(op, "%d: %s" % (step, label))
            assert lock.fast.seen == lock.stock.seen, (step, label)
    finally:
        lock.close()


def test_instance_level_override_is_honoured(impl, clock):
    cache = InMemoryCache(default_ttl=1)
    removed = []
    original = cache._remove_key
    cache._remove_key = lambda key: (removed.append(key), original(key))
    with fast_cache.accelerated(impl):
        cache.set_cache("a", 1)
        clock.now += 5
        assert cache.get_cache("a") is None
    assert removed == ["a"]


def test_real_time_module_patch_is_seen(impl, monkeypatch):
    """Patching time.time itself (not the module global) reaches the fast path."""
    import time as time_module

    now = [5000.0]
    cache = InMemoryCache(default_ttl=10)
    with fast_cache.accelerated(impl):
        monkeypatch.setattr(time_module, "time", lambda: now[0])
        cache.set_cache("a", {"v": 1})
        assert cache.ttl_dict["a"] == 5010.0
        now[0] = 5010.5
        assert cache.get_cache("a") is None
        assert "a" not in cache.cache_dict


def test_custom_clock_argument(impl):
    """A user clock is called exactly as often, in the same order."""

    def run(accelerate):
        ticks = iter(range(100, 10_000))
        seen = []

        def clock():
            seen.append(1)
            return float(next(ticks))

        cache = InMemoryCache(default_ttl=3, clock=clock)
        with fast_cache.accelerated(impl) if accelerate else _nothing():
            out = [cache.set_cache("a", 1), cache.get_cache("a"), cache.get_cache("a"),
                   cache.increment_cache("b", 2), cache.get_cache("a"), cache.get_cache("a")]
        return out, len(seen), state(cache)

    assert run(True) == run(False)


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def test_identity_and_json_decoding(impl):
    obj = {"a": [1]}
    cache = InMemoryCache()
    with fast_cache.accelerated(impl):
        cache.set_cache("obj", obj)
        cache.set_cache("json", '{"a": [1]}')
        cache.set_cache("text", "plain")
        assert cache.get_cache("obj") is obj
        decoded = cache.get_cache("json")
        assert decoded == {"a": [1]} and decoded is not cache.cache_dict["json"]
        assert cache.get_cache("text") == "plain"
        assert cache.batch_get_cache(["obj", "missing", "text"]) == [obj, None, "plain"]
        assert cache.batch_get_cache(["obj"])[0] is obj


def test_bad_calls_raise_like_stock(impl):
    cache = InMemoryCache()
    for call in (
        lambda c: c.get_cache(),
        lambda c: c.set_cache("k"),
        lambda c: c.get_cache("a", "b"),
        lambda c: c.delete_cache(),
        lambda c: c.get_cache(["unhashable"]),
        lambda c: c.set_cache(["unhashable"], 1),
        lambda c: c.set_cache("k", 1, ttl="soon"),
        lambda c: c.increment_cache("k", "x"),
        lambda c: c.batch_get_cache(None),
        lambda c: c.get_cache("k", self=1),
        lambda c: c.set_cache("k", 1, self=1),
        lambda c: c.increment_cache("k", 1, self=1),
        lambda c: c.get_cache("k", key="k"),
        lambda c: c.delete_cache("k", ttl=1),
        lambda c: c.flush_cache(1),
        lambda c: c.evict_cache(now=True),
    ):
        stock = outcome(lambda: call(cache))
        with fast_cache.accelerated(impl):
            fast = outcome(lambda: call(cache))
        assert fast[0] == stock[0] == "raise"
        assert fast[1:] == stock[1:]


class HalfBuilt(InMemoryCache):
    """A subclass that never calls InMemoryCache.__init__."""

    def __init__(self, max_size_in_memory=0):
        self.max_size_in_memory = max_size_in_memory
        self.cache_dict = {}
        self.ttl_dict = {}
        self.expiration_heap = []
        self._clock = lambda: 0.0


def test_missing_locks_behave_like_stock(impl):
    for size in (0, 3):
        for call in (
            lambda c: c.set_cache("k", 1),
            lambda c: c.increment_cache("k", 1),
            lambda c: c.flush_cache(),
            lambda c: c.get_cache("k"),
            lambda c: c.batch_get_cache(["k"]),
            lambda c: c.delete_cache("k"),
        ):
            stock_cache, fast_cache_obj = HalfBuilt(size), HalfBuilt(size)
            stock = outcome(lambda: call(stock_cache))
            with fast_cache.accelerated(impl):
                fast = outcome(lambda: call(fast_cache_obj))
            assert fast == stock
            assert state(fast_cache_obj) == state(stock_cache)


def test_interleaved_cache_types_match_stock(impl, clock, monkeypatch):
    """Calls alternating between classes (the per-type profile cache) stay exact."""
    rng = random.Random(7)
    makers = [
        lambda: InMemoryCache(max_size_in_memory=3),
        lambda: CountingSubclass(max_size_in_memory=2),
        lambda: LLMClientCache(max_size_in_memory=3, evicted_client_closer=RecordingCloser()),
        lambda: HalfBuilt(4),
        lambda: type("Dynamic", (InMemoryCache,), {"_cache_keys": lambda self: tuple(reversed(list(self.cache_dict)))})(
            max_size_in_memory=2
        ),
    ]
    steps = [Lockstep(impl, make, clock, monkeypatch) for make in makers]
    try:
        for step in range(300):
            lock = rng.choice(steps)
            label, op = lock.random_op(rng)
            lock.check(op, "%d: %s %s" % (step, type(lock.fast).__name__, label))
    finally:
        for lock in steps:
            lock.close()


def test_patching_json_and_time_after_first_use(impl, monkeypatch):
    """The remembered 'stock json/time' answer is dropped when they change."""
    import json as json_module
    import time as time_module

    cache = InMemoryCache(default_ttl=100)
    with fast_cache.accelerated(impl):
        cache.set_cache("n", 5)
        cache.set_cache("s", "plain")
        assert cache.get_cache("n") == 5 and cache.get_cache("s") == "plain"

        monkeypatch.setattr(json_module, "loads", lambda v: ("decoded", v))
        assert cache.get_cache("n") == ("decoded", 5)
        assert cache.get_cache("s") == ("decoded", "plain")
        monkeypatch.undo()

        monkeypatch.setattr(imc, "json", types.SimpleNamespace(loads=lambda v: ["via module", v]))
        assert cache.get_cache("n") == ["via module", 5]
        monkeypatch.undo()

        monkeypatch.delattr(imc, "json")  # NameError inside the stock try: value returned as is
        assert cache.get_cache("s") == "plain"
        monkeypatch.undo()
        assert cache.get_cache("s") == "plain"

        monkeypatch.setattr(time_module, "time", lambda: 10**12)
        assert cache.get_cache("n") is None  # expired under the new clock
        monkeypatch.undo()
        cache.set_cache("n", 6)
        assert cache.get_cache("n") == 6


def test_stock_side_runs_litellm_code():
    """Guard for every comparison above: outside accelerated() the class
    carries LiteLLM's own functions (the patch engine applies the fast ones at
    import), inside it the fast ones."""
    stock = fast_cache.originals()
    for name in fast_cache.NATIVE_METHODS:
        assert InMemoryCache.__dict__[name] is stock[name], name
    with fast_cache.accelerated("native" if fast_cache.DEFAULT_KIND == "native" else "python"):
        assert InMemoryCache.__dict__["get_cache"] is not stock["get_cache"]
    assert InMemoryCache.__dict__["get_cache"] is stock["get_cache"]


class MutatingClock:
    """A user clock that, on chosen calls, changes the instance it belongs to
    (replaces its dicts/heap/limits, adds or removes an instance-level helper):
    the fast methods remember instance attributes while the instance dict is
    unchanged, so changes made between and *during* calls must be seen."""

    def __init__(self, rng):
        self.rng = rng
        self.now = 1_000.0
        self.cache = None
        self.log = []

    def __call__(self):
        self.now += self.rng.choice([0, 0, 0.5, 1, 3])
        c = self.cache
        r = self.rng.random()
        if c is not None and r < 0.25:
            what = self.rng.randrange(7)
            if what == 0:
                c.cache_dict = dict(c.cache_dict)
            elif what == 1:
                c.ttl_dict = dict(c.ttl_dict)
            elif what == 2:
                c.expiration_heap = list(c.expiration_heap)
            elif what == 3:
                c.max_size_in_memory = self.rng.choice([1, 2, 3, 200])
            elif what == 4:
                c.default_ttl = self.rng.choice([1, 2, 600])
            elif what == 5:
                log = self.log
                original = type(c)._remove_key

                def removing(key, _c=c):
                    log.append(("remove", key))
                    return original(_c, key)

                c._remove_key = removing
            else:
                c.__dict__.pop("_remove_key", None)
        return self.now


@pytest.mark.parametrize("seed", range(6))
def test_instance_changes_between_and_during_calls(impl, seed):
    def run(accelerate):
        rng = random.Random(seed)
        clock = MutatingClock(random.Random(seed + 100))
        cache = InMemoryCache(max_size_in_memory=3, default_ttl=2, clock=clock)
        clock.cache = cache
        out = []
        with fast_cache.accelerated(impl) if accelerate else _nothing():
            for _ in range(300):
                key = rng.choice(["a", "b", "c", "d", "e"])
                op = rng.random()
                if op < 0.4:
                    out.append(outcome(lambda: cache.set_cache(key, rng.random(), ttl=rng.choice([None, 1, 5]))))
                elif op < 0.7:
                    out.append(outcome(lambda: cache.get_cache(key)))
                elif op < 0.85:
                    out.append(outcome(lambda: cache.increment_cache(key, 1)))
                elif op < 0.95:
                    out.append(outcome(lambda: cache.batch_get_cache(["a", "b", key])))
                else:
                    out.append(outcome(lambda: cache.evict_cache()))
                out.append(state(cache))
        return out, clock.log

    assert run(True) == run(False)


def test_attribute_replaced_between_calls(impl):
    def run(accelerate):
        cache = InMemoryCache(max_size_in_memory=5, clock=lambda: 100.0)
        out = []
        with fast_cache.accelerated(impl) if accelerate else _nothing():
            cache.set_cache("a", 1)
            out.append(cache.get_cache("a"))
            cache.cache_dict = {"a": "replaced"}
            out.append(cache.get_cache("a"))
            cache.ttl_dict = {}
            cache.set_cache("b", 2)
            cache.max_size_in_memory = 0
            out.append(cache.set_cache("c", 3))
            del cache.max_size_in_memory
            out.append(outcome(lambda: cache.set_cache("d", 4)))
            cache.max_size_in_memory = 5
            cache._write_lock = threading.RLock()
            cache.set_cache("e", 5)
            del cache._increment_lock
            out.append(outcome(lambda: cache.increment_cache("e", 1)))
        return out, state(cache)

    assert run(True) == run(False)


def test_write_lock_is_held_during_set_and_released_after(impl):
    seen = []

    def clock():
        seen.append((cache._write_lock.locked(), cache._increment_lock.locked()))
        return 100.0

    cache = InMemoryCache(clock=clock)
    with fast_cache.accelerated(impl):
        cache.set_cache("a", 1)
        assert not cache._write_lock.locked()
        cache.increment_cache("n", 1)
        assert not cache._write_lock.locked() and not cache._increment_lock.locked()
    assert seen and all(w for w, _ in seen[:2])
    assert seen[-1] == (True, True)


def test_set_waits_for_a_lock_held_by_another_thread(impl):
    cache = InMemoryCache()
    cache._write_lock.acquire()
    done = threading.Event()

    def setter():
        with fast_cache.accelerated(impl):
            cache.set_cache("a", 1)
        done.set()

    t = threading.Thread(target=setter)
    t.start()
    assert not done.wait(0.2)
    assert "a" not in cache.cache_dict
    cache._write_lock.release()
    assert done.wait(5)
    t.join()
    assert cache.cache_dict["a"] == 1 and not cache._write_lock.locked()


def test_lock_released_when_body_raises(impl):
    class Boom:
        def __sizeof__(self):
            raise KeyboardInterrupt  # not an Exception: check_value_size lets it through

    cache = InMemoryCache()
    with fast_cache.accelerated(impl):
        with pytest.raises(KeyboardInterrupt):
            cache.set_cache("a", Boom())
        assert not cache._write_lock.locked()


@pytest.mark.parametrize("per_item", [0.001, 0.002, 0.005, 0.0098, 0.01, 0.0185, 0.0195, 0.02, 1])
def test_value_size_of_ints_and_bools_matches_stock(impl, per_item):
    """len(str(value)) of exact ints/bools is computed without building the
    string: every digit count, sign, and the int64 edges against limits
    around them (max_size_per_item * 1024 chars)."""
    values = [0, 7, -7, 9, 10, -10, 99, 100, 10**9, -(10**9), 2**63 - 1, -(2**63), 2**63, -(2**63) - 1,
              10**19, 10**19 - 1, -(10**19), 10**25, True, False, 1.5, "abc",
              2**30 - 1, 2**30, -(2**30) + 1, -(2**30), 2**15 - 1, 2**15, 1, -1]
    values += [10**k for k in range(20)] + [-(10**k) for k in range(20)]

    def run(accelerate):
        cache = InMemoryCache(max_size_in_memory=1000, clock=lambda: 100.0)
        cache.max_size_per_item = per_item
        with fast_cache.accelerated(impl) if accelerate else _nothing():
            for i, v in enumerate(values):
                cache.set_cache("k%d" % i, v)
        return sorted(cache.cache_dict)

    assert run(True) == run(False)


def test_stock_clock_reads_time_time(impl):
    """With the stock clock and the real time.time, the fast path reads the
    system clock the way time.time() does (same float, between two calls)."""
    import time as time_module

    cache = InMemoryCache(default_ttl=600)
    with fast_cache.accelerated(impl):
        before = time_module.time()
        cache.set_cache("a", 1)
        after = time_module.time()
    assert before + 600 <= cache.ttl_dict["a"] <= after + 600
    assert type(cache.ttl_dict["a"]) is float


def test_size_limit_constant_patched_in_module_is_seen(impl, monkeypatch):
    """MAX_SIZE_PER_ITEM_IN_MEMORY_CACHE_IN_KB is read from the module each
    time (the fast path remembers it only while the module dict is unchanged)."""

    def run(accelerate):
        out = []
        cache = InMemoryCache(max_size_in_memory=100, max_size_per_item=1, clock=lambda: 100.0)
        with fast_cache.accelerated(impl) if accelerate else _nothing():
            for kb in (1024, 0.001, 1024, 0.01):
                monkeypatch.setattr(imc, "MAX_SIZE_PER_ITEM_IN_MEMORY_CACHE_IN_KB", kb, raising=False)
                for i, v in enumerate((5, 12345, "abcdefghijklmnopqrstuvwxyz", 1.25)):
                    cache.set_cache("%s-%d" % (kb, i), v)
            monkeypatch.delattr(imc, "MAX_SIZE_PER_ITEM_IN_MEMORY_CACHE_IN_KB")
            out.append(outcome(lambda: cache.set_cache("gone", 1)))
        out.append(sorted(cache.cache_dict))
        return out

    assert run(True) == run(False)


def test_instance_dict_cleared_or_reassigned_between_calls(impl):
    def run(accelerate):
        cache = InMemoryCache(max_size_in_memory=5, clock=lambda: 100.0)
        out = []
        with fast_cache.accelerated(impl) if accelerate else _nothing():
            cache.set_cache("a", 1)
            saved = dict(cache.__dict__)
            cache.__dict__.clear()
            out.append(outcome(lambda: cache.set_cache("b", 2)))
            out.append(outcome(lambda: cache.get_cache("a")))
            cache.__dict__.update(saved)
            out.append(cache.get_cache("a"))
            cache.__dict__ = dict(saved, cache_dict={"a": "other"})
            out.append(cache.get_cache("a"))
            cache.set_cache("c", 3)
        return out, state(cache)

    assert run(True) == run(False)


class HashCountingKey:
    """A key whose hash and equality calls are recorded."""

    def __init__(self, n, log):
        self.n = n
        self.log = log

    def __hash__(self):
        self.log.append(("hash", self.n))
        return hash(self.n) % 3

    def __eq__(self, other):
        self.log.append(("eq", self.n))
        return isinstance(other, HashCountingKey) and other.n == self.n

    def __lt__(self, other):
        return self.n < other.n


def test_removal_hashes_keys_like_dict_pop(impl, clock):
    """Stock removal is `dict.pop(key, None)`: one hash per dict, and an empty
    dict returns without hashing (an unhashable key is no error there)."""

    def run(accelerate):
        log = []
        keys = [HashCountingKey(i, log) for i in range(5)]
        cache = InMemoryCache(max_size_in_memory=3)
        start = clock.now
        with fast_cache.accelerated(impl) if accelerate else _nothing():
            for i, key in enumerate(keys):
                cache.set_cache(key, i, ttl=1 + i % 2)
                clock.now += 0.5
            cache.delete_cache(keys[4])
            empty = InMemoryCache()
            out = outcome(lambda: empty.delete_cache([1]))
        clock.now = start
        return [entry for entry in log], out, [k.n for k in cache.cache_dict]

    assert run(True) == run(False)


def test_duplicate_key_keyword_raises_like_stock(impl, clock):
    """`batch_get_cache(keys, key=...)`: the stock loop's
    `self.get_cache(key=k, **kwargs)` raises TypeError naming get_cache by
    module and qualname; merged duplicate keywords name the method called."""
    loop = asyncio.new_event_loop()
    calls = (
        lambda c: c.batch_get_cache(["a", "b"], key="x"),
        lambda c: c.batch_get_cache([], key="x"),
        lambda c: loop.run_until_complete(c.async_batch_get_cache(["a"], key="x")),
        lambda c: c.get_cache(**{"key": "a"}, **{"key": "b"}),
        lambda c: c.set_cache("a", 1, **{"ttl": 1}, **{"ttl": 2}),
        lambda c: loop.run_until_complete(c.async_batch_get_cache(**{"keys": []}, **{"keys": []})),
    )
    try:
        for call in calls:
            fast, stock = InMemoryCache(), InMemoryCache()
            for c in (fast, stock):
                c.set_cache("a", "[1]")
            with fast_cache.accelerated(impl):
                got = outcome(lambda: call(fast))
            want = outcome(lambda: call(stock))
            assert got == want
    finally:
        loop.close()


class _NoHash:
    __hash__ = None


UNHASHABLE_CALLS = {
    "get": lambda c: c.get_cache([1]),
    "get key=": lambda c: c.get_cache(key={}),
    "set": lambda c: c.set_cache([1], 2),
    "set ttl": lambda c: c.set_cache({}, 1, ttl=5),
    "delete": lambda c: c.delete_cache([1]),
    "delete from empty": lambda c: (c.flush_cache(), c.delete_cache([1])),
    "increment": lambda c: c.increment_cache(_NoHash(), 1),
    "batch list": lambda c: c.batch_get_cache(["a", "b", [1], "a"]),
    "batch tuple": lambda c: c.batch_get_cache(keys=("a", _NoHash())),
}


@pytest.mark.parametrize("name", sorted(UNHASHABLE_CALLS))
def test_unhashable_key_raises_from_litellms_frame(clock, name):
    """An unhashable key raised TypeError from the native method, so the
    traceback had no in_memory_cache.py frame (DualCache logs a failed read
    with its traceback: the logged text differed).  Such calls run the
    stock method: same result, state and traceback lines."""
    import traceback

    if fast_cache.DEFAULT_KIND != "native":
        pytest.skip("native core not built")
    op = UNHASHABLE_CALLS[name]

    def run(accelerate):
        cache = InMemoryCache()
        cache.set_cache("a", 1)
        with fast_cache.accelerated("native") if accelerate else _nothing():
            try:
                got = ("ok", op(cache))
            except TypeError as exc:
                frames = [(f.filename, f.lineno, f.name) for f in traceback.extract_tb(exc.__traceback__)[1:]]
                got = ("raised", str(exc), frames)
        return got, state(cache)

    assert run(True) == run(False)
