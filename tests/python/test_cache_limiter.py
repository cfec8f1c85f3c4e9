"""Differential tests of the v3 proxy limiter's accelerated computation.

Two limiter handlers (each with its own in-memory store) receive the same
random request streams; one runs with the accelerated methods installed.
Every decision (overall code, statuses: limits, remaining counts, types,
descriptor keys/values), every exception and the local store's counters
must be identical.  The pure functions are also compared on random and
malformed inputs (string limits, huge ints, missing keys, dict counters).
"""
from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta, timezone

import pytest

pytest.importorskip("litellm")

from litellm import DualCache  # noqa: E402
from litellm.proxy.utils import InternalUsageCache  # noqa: E402
from litellm.redis.stores.rate_limits import RateLimitScope  # noqa: E402

from fast_litellm import proxy_limiter  # noqa: E402


@pytest.fixture(autouse=True)
def stock_outside_accelerated():
    """`import fast_litellm` lets the patch engine put the fast functions on
    the handler class; outside `accelerated()` the stock side must run
    LiteLLM's own code."""
    with proxy_limiter.stock():
        yield

DESCRIPTOR_KEYS = ["api_key", "user", "team", "model_per_key"]
VALUES = ["sk-1", "u1", "t1", "m1", "sk-2"]


class Clock:
    def __init__(self):
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


def make_handler(clock):
    from litellm.proxy.hooks.parallel_request_limiter_v3 import _PROXY_MaxParallelRequestsHandler_v3

    return _PROXY_MaxParallelRequestsHandler_v3(InternalUsageCache(DualCache()), time_provider=clock)


def make_fast_handler(clock, impl):
    """Built while accelerated: the native twin's limiter gets the native
    memory tier (LocalRateLimits), the Python twin LiteLLM's own."""
    with proxy_limiter.accelerated(impl):
        handler = make_handler(clock)
    if impl == "native":
        assert type(handler.rate_limits._handle).__name__ == "LocalRateLimits"
    return handler


def random_descriptor(rng):
    limits = {}
    for name, choices in (
        ("requests_per_unit", [None, 1, 2, 3, 5, 100, 2.5, True] + (["3"] if rng.random() < 0.05 else [])),
        ("tokens_per_unit", [None, 2, 10, 10**12]),
        ("max_parallel_requests", [None, None, None, 2]),
        ("window_size", [None, None, 1, 60]),
    ):
        value = rng.choice(choices)
        if value is not None or rng.random() < 0.3:
            limits[name] = value
    return {
        "key": rng.choice(DESCRIPTOR_KEYS),
        "value": rng.choice(VALUES),
        "rate_limit": limits if rng.random() < 0.9 else None,
    }


def outcome(coro_or_fn):
    try:
        result = coro_or_fn()
        if asyncio.iscoroutine(result):
            result = asyncio.get_event_loop().run_until_complete(result)
        return ("ok", result)
    except Exception as exc:
        return ("raise", type(exc), str(exc))


def store_snapshot(handler):
    handle = handler.rate_limits._handle
    out = []
    for key in DESCRIPTOR_KEYS:
        for value in VALUES:
            scope = RateLimitScope(key, value)
            out.append(
                (
                    key,
                    value,
                    handle.get_local(scope.window),
                    handle.get_local(scope.counter("requests")),
                    handle.get_local(scope.counter("tokens")),
                )
            )
    return out


@pytest.fixture
def loop():
    lp = asyncio.new_event_loop()
    asyncio.set_event_loop(lp)
    yield lp
    lp.close()


@pytest.mark.parametrize("seed", range(8))
def test_request_streams_match_stock(impl, loop, seed):
    rng = random.Random(seed)
    clock = Clock()
    fast, stock = make_fast_handler(clock, impl), make_handler(clock)
    assert fast.rate_limits._handle is not stock.rate_limits._handle
    assert type(stock.rate_limits._handle).__name__ == "NativeRateLimits"
    descriptor_pool = [random_descriptor(rng) for _ in range(6)]
    for step in range(150):
        descriptors = rng.sample(descriptor_pool, rng.randint(1, 3))
        read_only = rng.random() < 0.2
        skip_tpm = rng.random() < 0.2
        slot = "slot-%d" % step

        def call(h):
            return lambda: h.should_rate_limit(
                descriptors, read_only=read_only, skip_tpm_check=skip_tpm, parallel_slot_id=slot
            )

        with proxy_limiter.accelerated(impl):
            got = outcome(call(fast))
        want = outcome(call(stock))
        assert got == want, (step, descriptors, got, want)
        assert store_snapshot(fast) == store_snapshot(stock), step
        if rng.random() < 0.2:
            clock.now += timedelta(seconds=rng.choice([0.5, 1, 30, 61, 120]))


def pure_cases(rng):
    """Inputs for the pure functions, including malformed ones."""
    descriptors = [random_descriptor(rng) for _ in range(rng.randint(0, 4))]
    if rng.random() < 0.1:
        descriptors.append({"value": "x", "rate_limit": {}})  # KeyError: 'key'
    if rng.random() < 0.2:
        descriptors.append({"key": "k", "value": "v", "rate_limit": {"requests_per_unit": "7", "tokens_per_unit": 3.9}})
    if rng.random() < 0.1:
        descriptors.append({"key": "k", "value": "v", "rate_limit": {"requests_per_unit": "seven"}})
    return descriptors


def counter_value(rng):
    return rng.choice([None, 0, 1, 5, "3", "12", 2.7, 10**30, -(10**25), "9" * 30, "x"])


@pytest.mark.parametrize("seed", range(40))
def test_pure_functions_match_stock(impl, loop, seed):
    rng = random.Random(seed)
    handler = make_handler(Clock())
    descriptors = pure_cases(rng)
    skip = rng.choice([False, True, 0, 1, ""])
    originals = proxy_limiter.originals()
    fast = proxy_limiter.functions(impl)

    want = outcome(lambda: originals["_collect_windowed_keys_and_gauges"](handler, descriptors, skip))
    got = outcome(lambda: fast["_collect_windowed_keys_and_gauges"](handler, descriptors, skip))
    assert got == want
    if want[0] != "ok":
        return
    counters, key_metadata, _gauges = want[1]
    assert [type(c) for c in got[1][0]] == [type(c) for c in counters]
    values = [(rng.choice([None, "100"]), counter_value(rng)) for _ in counters]
    if rng.random() < 0.1 and values:
        values[-1] = (None, None, None)  # malformed state
    read_only = rng.choice([False, True, None, 1])
    want = outcome(lambda: originals["is_cache_list_over_limit"](handler, counters, values, key_metadata, read_only))
    got = outcome(lambda: fast["is_cache_list_over_limit"](handler, counters, values, key_metadata, read_only))
    assert got == want, (values, got, want)


@pytest.mark.parametrize("seed", range(10))
def test_local_store_paths_match_stock(impl, loop, seed):
    rng = random.Random(seed)
    clock = Clock()
    fast_h, stock_h = make_fast_handler(clock, impl), make_handler(clock)
    originals = proxy_limiter.originals()
    fast = proxy_limiter.functions(impl)
    descriptors = [random_descriptor(rng) for _ in range(4)]
    counters, _, _ = originals["_collect_windowed_keys_and_gauges"](stock_h, descriptors, False)
    now = 1_000
    for step in range(40):
        if rng.random() < 0.15 and counters:
            # a slot registry where a counter should be: both must raise alike
            entry = rng.choice(counters)
            for h in (fast_h, stock_h):
                h.rate_limits.set_local(entry, {"slot": 1.0}, 60)
        window = rng.choice([1, 2, 60])
        want = outcome(lambda: originals["_in_memory_cache_sliding_window"](stock_h, counters, now, window))
        got = outcome(lambda: fast["_in_memory_cache_sliding_window"](fast_h, counters, now, window))
        assert got == want, step
        want = outcome(lambda: originals["_local_counter_states"](stock_h, counters))
        got = outcome(lambda: fast["_local_counter_states"](fast_h, counters))
        assert got == want, step
        assert store_snapshot(fast_h) == store_snapshot(stock_h)
        now += rng.choice([0, 0, 1, 2, 61])


def test_monkeypatched_store_falls_back(impl, loop):
    handler = make_handler(Clock())
    counters, _, _ = proxy_limiter.originals()["_collect_windowed_keys_and_gauges"](
        handler, [{"key": "api_key", "value": "a", "rate_limit": {"requests_per_unit": 3}}], False
    )
    seen = []
    real_local = type(handler.rate_limits).local

    def spy(store, entries):
        seen.append(len(entries))
        return real_local(store, entries)

    handler.rate_limits.local = spy.__get__(handler.rate_limits)
    proxy_limiter.functions(impl)["_local_counter_states"](handler, counters)
    assert seen == [2]


def test_stock_side_runs_litellm_code(impl):
    from litellm.proxy.hooks.parallel_request_limiter_v3 import _PROXY_MaxParallelRequestsHandler_v3 as cls

    stock = proxy_limiter.originals()
    for name in proxy_limiter.METHODS:
        assert cls.__dict__[name] is stock[name], name
    with proxy_limiter.accelerated(impl):
        for name in proxy_limiter.functions(impl):
            assert cls.__dict__[name] is not stock[name], name
    for name in proxy_limiter.METHODS:
        assert cls.__dict__[name] is stock[name], name


def test_originals_are_litellm_functions_under_the_engine():
    """originals() sees through the patch engine's wrappers (they carry
    __fast_litellm_original__), so stock sides and fallbacks run LiteLLM code."""
    import litellm.proxy.hooks.parallel_request_limiter_v3 as mod

    for name, fn in proxy_limiter.originals().items():
        assert not getattr(fn, "__fast_litellm__", False), name
        # should_rate_limit is LiteLLM's with_service_target wrapper around its body
        assert getattr(fn, "__wrapped__", fn).__code__.co_filename == mod.__file__, name


def test_precheck_covers_the_common_case_and_declines_the_rest(loop):
    """The native should_rate_limit runs its synchronous phase in one call
    when the memory tier is native, read_only is false and the lock is free;
    otherwise it declines (None) before touching anything."""
    if "should_rate_limit" not in proxy_limiter.functions("native"):
        pytest.skip("native core not built")
    from fast_litellm.proxy_limiter import _native

    clock = Clock()
    handler = make_fast_handler(clock, "native")
    stock_handler = make_handler(clock)  # LiteLLM's Rust tier
    ctx = _native.context(proxy_limiter.originals())
    descriptors = [{"key": "api_key", "value": "a", "rate_limit": {"requests_per_unit": 2}}]
    precheck = _native.NATIVE._limiter_precheck
    with proxy_limiter.accelerated("native"):
        assert precheck(ctx, handler, descriptors, True, False) is None
        assert precheck(ctx, handler, descriptors, False, 0) is None
        first = precheck(ctx, handler, descriptors, False, False)
        assert isinstance(first, tuple) and first[0]["overall_code"] == "OK"

        async def held():
            async with handler._check_and_increment_lock:
                return precheck(ctx, handler, descriptors, False, False)

        assert loop.run_until_complete(held()) is None
        assert precheck(ctx, stock_handler, descriptors, False, False) is None
        second = precheck(ctx, handler, descriptors, False, False)
        assert second[0]["statuses"][0]["limit_remaining"] == 0
        third = precheck(ctx, handler, descriptors, False, False)
        assert third["overall_code"] == "OVER_LIMIT"


@pytest.mark.parametrize("seed", range(4))
def test_contended_lock_and_gauges_match_stock(impl, loop, seed):
    """Concurrent requests (tasks interleaving at the gauge phase and at a
    held check-and-increment lock) give the same responses in the same order."""
    rng = random.Random(100 + seed)
    clock = Clock()
    fast, stock = make_fast_handler(clock, impl), make_handler(clock)
    pool = [random_descriptor(rng) for _ in range(5)]
    batches = [[rng.sample(pool, rng.randint(1, 3)) for _ in range(rng.randint(1, 5))] for _ in range(30)]

    async def run(handler, hold):
        out = []
        for i, batch in enumerate(batches):
            async def one(d, j):
                try:
                    return await handler.should_rate_limit(d, parallel_slot_id="s-%d-%d" % (i, j))
                except Exception as exc:  # noqa: BLE001
                    return (type(exc), str(exc))

            async def holder():
                async with handler._check_and_increment_lock:
                    await asyncio.sleep(0)

            tasks = [one(d, j) for j, d in enumerate(batch)]
            if hold[i]:
                tasks.insert(1, holder())
            out.append(await asyncio.gather(*tasks))
            clock.now += timedelta(seconds=[0, 0, 1, 61][i % 4])
        return out

    hold = [rng.random() < 0.4 for _ in batches]
    start = clock.now
    with proxy_limiter.accelerated(impl):
        got = loop.run_until_complete(run(fast, hold))
    clock.now = start
    want = loop.run_until_complete(run(stock, hold))
    assert got == want
    assert store_snapshot(fast) == store_snapshot(stock)


@pytest.mark.parametrize("seed", range(3))
def test_store_at_capacity_evicts_like_stock(impl, loop, seed):
    """More scopes than the 200-entry memory tier holds: which counters and
    windows survive depends on the order of their expiries, so the native
    tier must write them in the stock order and with the stock ttls."""
    rng = random.Random(500 + seed)
    clock = Clock()
    fast, stock = make_fast_handler(clock, impl), make_handler(clock)
    scopes = [("user", "u%d" % i) for i in range(60)] + [("api_key", "k%d" % i) for i in range(40)]

    def descriptor(key, value):
        return {"key": key, "value": value,
                "rate_limit": {"requests_per_unit": 1000, "tokens_per_unit": rng.choice([None, 10**6])}}

    def snapshot(handler):
        handle = handler.rate_limits._handle
        out = []
        for key, value in scopes:
            scope = RateLimitScope(key, value)
            out.append(tuple(handle.get_local(e) for e in (scope.window, scope.counter("requests"),
                                                           scope.counter("tokens"))))
        return out

    for step in range(120):
        picked = [descriptor(*rng.choice(scopes)) for _ in range(3)]
        with proxy_limiter.accelerated(impl):
            got = outcome(lambda: fast.should_rate_limit(picked, parallel_slot_id="s"))
        want = outcome(lambda: stock.should_rate_limit(picked, parallel_slot_id="s"))
        assert got == want, step
        if step % 10 == 0:
            assert snapshot(fast) == snapshot(stock), step
    assert snapshot(fast) == snapshot(stock)
    assert sum(v is not None for row in snapshot(stock) for v in row) > 150



class CountingTruth:
    """A skip_tpm_check whose truth is observable: counted, and optionally raising."""

    def __init__(self, value, raises=False):
        self.value, self.raises, self.calls = value, raises, 0

    def __bool__(self):
        self.calls += 1
        if self.raises:
            raise ValueError("truth of an ambiguous flag")
        return self.value


@pytest.mark.parametrize("truth", [True, False, "raises"])
@pytest.mark.parametrize("shape", ["none", "one", "three", "first-without-key", "second-without-key"])
def test_collect_takes_skip_tpm_truth_per_descriptor_like_stock(impl, truth, shape):
    """The stock loop evaluates `None if skip_tpm_check else ...` once per
    descriptor, after reading its key, value and requests limit: three
    descriptors, three evaluations; a descriptor missing its key raises
    KeyError before the flag is asked (an ambiguous flag's error is not
    raised instead)."""
    handler = make_handler(Clock())
    count = {"none": 0, "one": 1}.get(shape, 3)
    descriptors = [{"key": "api_key", "value": "v%d" % i,
                    "rate_limit": {"requests_per_unit": 2, "tokens_per_unit": 5}} for i in range(count)]
    if shape.endswith("without-key"):
        descriptors[0 if shape.startswith("first") else 1] = {"value": "no-key"}
    results = []
    for fn in (proxy_limiter.originals(), proxy_limiter.functions(impl)):
        skip = CountingTruth(truth is True, raises=truth == "raises")
        results.append((outcome(lambda: fn["_collect_windowed_keys_and_gauges"](handler, descriptors, skip)),
                        skip.calls))
    assert results[1] == results[0]


BAD_CALLS = [
    ((), {}),
    ((["d"],), {"foo": 1}),
    ((["d"], None, False, False, None, False, "extra"), {}),
    ((["d"],), {"descriptors": ["d"]}),
    ((), {"read_only": True}),
]


@pytest.mark.parametrize("args, kwargs", BAD_CALLS)
def test_should_rate_limit_bad_arguments_raise_when_awaited_like_stock(impl, loop, args, kwargs):
    """Stock should_rate_limit is with_service_target's run_async(*args,
    **kwargs): a call its body cannot bind still returns a coroutine (so
    asyncio.gather/ensure_future accept it) and the TypeError comes when it
    is awaited; the accelerated method must not raise at call time."""
    results = []
    for accelerate in (False, True):
        handler = make_fast_handler(Clock(), impl) if accelerate else make_handler(Clock())
        with (proxy_limiter.accelerated(impl) if accelerate else proxy_limiter.stock()):
            try:
                coro = handler.should_rate_limit(*args, **kwargs)
            except TypeError as exc:
                results.append(("raised at call", str(exc)))
                continue
            results.append(("coroutine", outcome(lambda: coro)))
    assert results[1] == results[0]
    assert results[0][0] == "coroutine"


def _through_the_engine(name):
    """The limiter function as the patch engine installs it: the registered
    patch's build, inside the engine's wrapper (flag check, fallback)."""
    from fast_litellm.cache import patches  # noqa: F401  (registers the patches)
    from fast_litellm.patching import registry, wrappers

    patch = registry.get("proxy_limiter." + name)
    original = proxy_limiter.originals()[name]
    return wrappers.guarded(patch, original, patch.build(original)) if patch.wrap else patch.build(original)


def _with_a_bad_item(items, bad_at):
    for i, item in enumerate(items):
        yield item
        if i == bad_at:
            yield {"value": "without key"}


@pytest.mark.parametrize("bad_at", [0, 1])
def test_engine_does_not_rerun_collect_on_the_callers_error(bad_at):
    """A one-shot iterable of descriptors with a bad one: stock raises
    KeyError.  The engine's retry of the original after the fast path's
    (identical) error ran on the rest of the generator and *returned*
    (counting an error against the flag); the error is the caller's."""
    from fast_litellm import flags

    handler = make_handler(Clock())
    good = [{"key": "k", "value": "v%d" % i, "rate_limit": {"requests_per_unit": 3}} for i in range(3)]
    fast = _through_the_engine("_collect_windowed_keys_and_gauges")
    flag = flags.get_flag("rust_rate_limiting")
    errors = flag.errors
    want = outcome(lambda: proxy_limiter.originals()["_collect_windowed_keys_and_gauges"](
        handler, _with_a_bad_item(good, bad_at), False))
    skip = CountingTruth(False)
    got = outcome(lambda: fast(handler, _with_a_bad_item(good, bad_at), skip))
    assert want == ("raise", KeyError, "'key'")
    assert got == want
    assert skip.calls == bad_at + 1  # asked once per descriptor read, not again by a retry
    assert flag.errors == errors


def test_engine_does_not_rerun_over_limit_on_the_callers_error():
    """A one-shot iterable of counter states with a value int() refuses:
    the stock ValueError, not a retry's answer over the rest."""
    from fast_litellm import flags

    handler = make_handler(Clock())
    descriptors = [{"key": "k", "value": "v%d" % i, "rate_limit": {"requests_per_unit": 3}} for i in range(3)]
    counters, metadata, _ = proxy_limiter.originals()["_collect_windowed_keys_and_gauges"](handler, descriptors, False)
    states = [(None, 1), (None, "x"), (None, 1)]
    fast = _through_the_engine("is_cache_list_over_limit")
    flag = flags.get_flag("rust_rate_limiting")
    errors = flag.errors
    want = outcome(lambda: proxy_limiter.originals()["is_cache_list_over_limit"](
        handler, counters, iter(states), metadata))
    got = outcome(lambda: fast(handler, counters, iter(states), metadata))
    assert want[:2] == ("raise", ValueError)
    assert got == want
    assert flag.errors == errors


@pytest.mark.parametrize("name", ["_local_counter_states", "_in_memory_cache_sliding_window"])
def test_counters_as_a_one_shot_iterable_match_stock(impl, loop, name):
    """The stock functions iterate `counters` once, so a generator works.
    The Python twin checked the counters' types with all(...) first, which
    consumed a generator: it then read nothing and returned [] (the window
    wrote nothing)."""
    clock = Clock()
    fast_h, stock_h = make_fast_handler(clock, impl), make_handler(clock)
    counters = [RateLimitScope("k", "v%d" % i).counter("requests") for i in range(3)]
    for h in (fast_h, stock_h):
        h.rate_limits.set_local(counters[0], 5, 60)
        h.rate_limits.set_local(counters[0].window, "1000", 60)
    extra = () if name == "_local_counter_states" else (1000, 60)
    want = outcome(lambda: proxy_limiter.originals()[name](stock_h, iter(counters), *extra))
    got = outcome(lambda: proxy_limiter.functions(impl)[name](fast_h, iter(counters), *extra))
    assert want[0] == "ok" and len(want[1]) == 3
    assert got == want

    def contents(h):
        return [h.rate_limits._handle.get_local(e) for c in counters for e in (c.window, c)]

    assert contents(fast_h) == contents(stock_h)


def test_nested_accelerated_blocks_restore_the_outer_kind():
    """accelerated(kind) re-installed its own kind on exit when an outer
    block was active, so a native block nested in a Python one left the
    native functions in place for the rest of the outer block."""
    if "should_rate_limit" not in proxy_limiter.functions("native"):
        pytest.skip("native core not built")
    cls, scls = proxy_limiter.handler_class(), proxy_limiter.store_class()

    def installed():
        return {name: cls.__dict__[name] for name in proxy_limiter.METHODS}, scls.__dict__[proxy_limiter.STORE_METHOD]

    outside = installed()
    with proxy_limiter.accelerated("python"):
        python_side = installed()
        with proxy_limiter.accelerated("native"):
            assert installed() != python_side
        assert installed() == python_side
        with proxy_limiter.stock():
            assert installed()[0] == proxy_limiter.originals()
        assert installed() == python_side
    assert installed() == outside


@pytest.mark.parametrize("name, args, kwargs", [
    ("_collect_windowed_keys_and_gauges", ([],), {}),
    ("_collect_windowed_keys_and_gauges", ([], False, 1), {}),
    ("is_cache_list_over_limit", ([], []), {}),
    ("is_cache_list_over_limit", ([], [], {}), {"x": 1}),
    ("_local_counter_states", (), {}),
    ("_in_memory_cache_sliding_window", ([],), {}),
])
def test_engine_built_functions_name_the_stock_method_in_argument_errors(name, args, kwargs):
    """The engine's build made the functions with build_functions' local
    names, so an argument error said "build_functions.<locals>.<name>()";
    once such errors became the caller's (no retry) and for the unwrapped
    window function they reached the caller with that name."""
    handler = make_handler(Clock())
    fast = _through_the_engine(name)
    want = outcome(lambda: proxy_limiter.originals()[name](handler, *args, **kwargs))
    got = outcome(lambda: fast(handler, *args, **kwargs))
    assert want[:2] == ("raise", TypeError)
    assert got == want
