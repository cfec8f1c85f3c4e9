"""Session 24 (route24a): usage-based-routing-v2's own per-pick path, its guards
in C.  ``router_chain_serves`` (``selector_fast._chain_serves`` in C) against the
Python loop over chains whose every part is changed in turn: each answer, and each
error, the same.  (The pick-level lockstep of the chain check is
``test_routing_usage_v2_pick.test_wrappers_deciding_per_call_are_not_skipped``;
``RouterLoggerQuiet`` is compared in ``test_routing_route23c.py``.)"""
from __future__ import annotations

import types

import pytest

from fast_litellm._native_loader import NATIVE
from fast_litellm.routing import selector_fast

pytestmark = pytest.mark.skipif(getattr(NATIVE, "router_chain_serves", None) is None, reason="no native core")


class _Flag:
    __slots__ = ("serve_fast",)

    def __init__(self, on):
        self.serve_fast = on


def _cell(value=None, empty=False):
    if empty:
        def f():
            return x  # noqa: F821 - never called: an empty cell
        x = None
        del x
        return f.__closure__[0]
    return types.CellType(value)


def _layer():
    def fast():
        return None

    def layer():
        return fast()
    return layer, fast


def _cases():
    """(name, chain) pairs: a serving chain of both layer kinds, then each part changed."""
    engine, engine_next = _layer()
    local, local_next = _layer()
    ours, _ = _layer()
    globals_on = {"ACCELERATED": [True]}
    flag_cell = _cell(_Flag(True))
    fast_cell, local_cell = _cell(engine_next), _cell(local_next)
    last = (ours, ours.__code__, None, None, None)
    good = ((engine, engine.__code__, fast_cell, engine_next, flag_cell),
            (local, local.__code__, local_cell, local_next, globals_on), last)
    yield "serving", good
    yield "empty", ()
    yield "native layer", ((len, None, None, engine_next, flag_cell), last)
    other = (lambda: None).__code__  # (the layers share _layer's code)
    yield "code changed", ((engine, other, fast_cell, engine_next, flag_cell),) + good[1:]
    yield "last code changed", good[:2] + ((ours, other, None, None, None),)
    yield "cell moved", ((engine, engine.__code__, _cell(local_next), engine_next, flag_cell),) + good[1:]
    yield "cell empty", ((engine, engine.__code__, _cell(empty=True), engine_next, flag_cell),) + good[1:]
    yield "flag off", ((engine, engine.__code__, fast_cell, engine_next, _cell(_Flag(False))),) + good[1:]
    yield "flag falsy", ((engine, engine.__code__, fast_cell, engine_next, _cell(_Flag(0))),) + good[1:]
    yield "flag cell empty", ((engine, engine.__code__, fast_cell, engine_next, _cell(empty=True)),) + good[1:]
    yield "flag without serve_fast", ((engine, engine.__code__, fast_cell, engine_next, _cell(object())),) + good[1:]
    yield "switched off", (good[0], (local, local.__code__, local_cell, local_next, {"ACCELERATED": [False]}), last)
    yield "no switch", (good[0], (local, local.__code__, local_cell, local_next, {}), last)
    yield "switch empty", (good[0], (local, local.__code__, local_cell, local_next, {"ACCELERATED": []}), last)
    yield "code on a non-function", ((len, engine.__code__, None, None, None),)
    yield "off after a raise would be", ((engine, engine.__code__, fast_cell, engine_next, _cell(_Flag(False))),
                                         (local, local.__code__, local_cell, local_next, {}))


def _answer(fn, chain):
    try:
        return ("ok", fn(chain))
    except Exception as exc:  # noqa: BLE001 - compared
        return ("raised", type(exc), str(exc))


@pytest.mark.parametrize("name,chain", list(_cases()), ids=[name for name, _ in _cases()])
def test_native_chain_serves_is_the_python_loop(name, chain):
    assert selector_fast._chain_serves is NATIVE.router_chain_serves  # (what the picks ask)
    native, python = _answer(NATIVE.router_chain_serves, chain), _answer(selector_fast._python_chain_serves, chain)
    assert native == python, name
    assert native == (("ok", True) if name in ("serving", "empty", "native layer") else native)
    if name not in ("serving", "empty", "native layer"):
        assert native != ("ok", True), name


# --------------------------------------------------------------------------
# router_usage_prefetch: the usage read's tail (read_usage's memory-tier check and
# PrefetchedUsage) in C
# --------------------------------------------------------------------------

class _RecordingSlots(dict):
    """A request batch's ``prefetched`` slots: LiteLLM's ``_take`` pops its slot."""

    log = None

    def pop(self, *args):
        _RecordingSlots.log.append(("pop", args[0]))
        return dict.pop(self, *args)


class _RequestBatches:
    def __init__(self, log):
        _RecordingSlots.log = log
        self.prefetched = _RecordingSlots()


def _usage_read(case, accelerated, monkeypatch):
    import asyncio

    import test_routing_usage_read as usage_read
    from litellm.caching import redis_batch
    from litellm.router_utils.routing_read_batch import RoutingReadBatch

    from fast_litellm.routing import _local_patch

    log = []
    batch, cache = usage_read._build("present" if case == "request batch, present" else "empty", log)
    if case == "own async_batch_get_cache":
        async def own_read(keys, parent_otel_span=None, **kwargs):
            log.append(("own read", len(keys)))
            return [None] * len(keys)
        cache.async_batch_get_cache = own_read
    if case == "memory get_cache":
        stock_get = cache.in_memory_cache.get_cache

        def get_cache(key, **kwargs):
            log.append(("get_cache", key))
            return stock_get(key, **kwargs)
        cache.in_memory_cache.get_cache = get_cache

    async def go():
        token = redis_batch._active_request_batches.set(_RequestBatches(log)) if case.startswith("request") else None
        try:
            with _local_patch.accelerated(accelerated):
                return await RoutingReadBatch.read_usage(batch, list(usage_read.ROWS), None)
        finally:
            if token is not None:
                redis_batch._active_request_batches.reset(token)

    result = asyncio.run(go())
    usage = batch.prefetched_usage
    return (result, None if usage is None else (sorted(usage.keys), usage.values),
            dict(cache.in_memory_cache.cache_dict), log)


@pytest.mark.parametrize("case", ["request batch", "request batch, present", "own async_batch_get_cache",
                                  "memory get_cache"])
def test_usage_read_tail_is_litellms(case, monkeypatch):
    """A request batch (LiteLLM's ``_take`` pops its slot: the read is LiteLLM's), a read
    method set on the DualCache or a ``get_cache`` on the memory tier's instance: the same
    calls and the same prefetched usage as stock's."""
    import test_routing_usage_read as usage_read

    from _lockstep import same_minute

    with usage_read.routing_patches():
        same_minute()
        stock = _usage_read(case, False, monkeypatch)
        ours = _usage_read(case, True, monkeypatch)
    assert ours == stock
    assert stock[3], "the case's recorder saw nothing"


def test_usage_read_tail_in_c_answers_as_the_python_lines():
    """``router_usage_prefetch`` directly: each outcome (made, LiteLLM's read, the memory
    tier's read, the Python lines) for the inputs that lead to it."""
    from litellm.caching.dual_cache import DualCache
    from litellm.caching.in_memory_cache import InMemoryCache
    from litellm.router_strategy.lowest_tpm_rpm_v2 import PrefetchedUsage
    from litellm.router_utils.routing_read_batch import RoutingReadBatch

    tail = NATIVE.router_usage_prefetch
    absent = object()
    get_ok, batch_ok = (InMemoryCache.__dict__["get_cache"],), (InMemoryCache.__dict__["async_batch_get_cache"],)
    parts = (PrefetchedUsage, object.__new__)
    cache = DualCache()
    keys = ["a:tpm", "a:rpm"]
    calls = []

    def requests(answer=None):
        calls.append(1)
        return answer

    def run(own, keys=keys, req=requests, key_set=None, key_values=None):
        batch = RoutingReadBatch(usage_selector=None)
        answer = tail(batch, own, absent, req, InMemoryCache, get_ok, batch_ok, keys, key_set, key_values, parts)
        return answer, batch.prefetched_usage

    own = vars(cache)
    answer, usage = run(own)
    assert answer is True and type(usage) is PrefetchedUsage
    assert usage.keys == frozenset(keys) and usage.values == dict.fromkeys(keys) and list(usage.values) == keys
    kept_set, kept_values = frozenset(keys), dict.fromkeys(keys)
    answer, usage = run(own, key_set=kept_set, key_values=kept_values)
    assert answer is True and usage.keys is kept_set and usage.values is kept_values
    assert len(calls) == 2
    assert run(dict(own, redis_cache=object()))[0] is False and len(calls) == 2  # (before requests())
    assert run(dict(own, _prepare_batch_get=1))[0] is False and len(calls) == 2
    assert run(own, req=lambda: requests(object()))[0] is False and len(calls) == 3
    cache.in_memory_cache.set_cache("a:rpm", 3)
    assert run(own)[0] is None  # a key in memory: the memory tier's read
    assert run(own, keys=["b"])[0] is True
    assert run(type("D", (dict,), {})(own))[0] is Ellipsis  # (an odd dict: the Python lines)
    assert run(own, keys=("b",))[0] is Ellipsis
    with pytest.raises(ZeroDivisionError):
        run(own, req=lambda: 1 / 0)


def test_native_shared_facts_is_the_python_class():
    """``RouterSharedFacts`` against ``_SharedFacts`` over the same steps: lists shared and
    not, a list unshared after its facts were kept, another list under a kept list's id
    entry, a keep of the kept list (not replaced), each ``get`` answered alike."""
    shared = {}
    native, python = NATIVE.RouterSharedFacts(shared), selector_fast._SharedFacts()
    python._shared = shared
    a, b, c = [1], [2], [3]

    def share(lst):
        shared[id(lst)] = [lst, None, None]

    def both(method, *args):
        answers = (getattr(native, method)(*args), getattr(python, method)(*args))
        assert answers[0] is answers[1], (method, args, answers)
        return answers[0]

    facts_a, facts_a2, facts_b = object(), object(), object()
    assert both("get", a) is None
    both("keep", a, facts_a)  # not shared: not kept
    assert both("get", a) is None
    share(a)
    assert both("get", a) is None
    both("keep", a, facts_a)
    assert both("get", a) is facts_a
    both("keep", a, facts_a2)  # the kept list: not replaced
    assert both("get", a) is facts_a
    assert both("get", b) is None
    share(b)
    both("keep", b, facts_b)
    assert both("get", b) is facts_b and both("get", a) is None
    shared[id(b)] = [c, None, None]  # another list under b's id entry: not b's
    assert both("get", b) is None
    del shared[id(b)]
    assert both("get", b) is None
    share(b)
    assert both("get", b) is facts_b
    shared[id(b)] = []  # an entry without a list: both raise
    with pytest.raises(IndexError):
        native.get(b)
    with pytest.raises(IndexError):
        python.get(b)
    assert native._last[0] is b and python._last[0] is b


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("at,messages", [(1, False), (2, False), (2, True)])
def test_clock_error_reaches_the_caller_once(monkeypatch, at, messages):
    """LiteLLM's clock raising at a v2 pick's first read (the usage read's keys) or its
    second (the selector's keys: made in the fused call, or, with messages, in LiteLLM's
    selector body through the keys patch's wrapper): stock fails the pick with it; ours
    too, the clock read as often, nothing counted against the flag (the keys' C tail,
    router_usage_minute_keys, marks the clock's error the caller's as callers_errors did:
    else the wrapper ran LiteLLM's keys again, a third read)."""
    import test_routing_faults as faults
    from _lockstep import fresh_flag, routing_patches

    if messages:
        picked = faults._pick

        def _pick(router, accelerated, seed=7, **kwargs):
            return picked(router, accelerated, seed, messages=[{"role": "user", "content": "hi"}], **kwargs)
        monkeypatch.setattr(faults, "_pick", _pick)
    with routing_patches(guarded=True), fresh_flag() as flag:
        stock, fast = faults._stock_and_fast(monkeypatch, faults.V2, "clock", at)
        assert stock[0][0][0] == "raised" and "injected" in stock[0][0][2]
        assert fast == stock
        assert flag.errors == 0
