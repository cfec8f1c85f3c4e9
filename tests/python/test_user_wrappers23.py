"""A user's ``functools.wraps`` wrapper over a function we patch, in every
component but routing (session 22 fixed routing; session 23 the rest).

``functools.wraps`` copies the wrapped function's ``__dict__`` - our marks
(``__fast_litellm_original__``, ``__fast_litellm_patch__``, ``__fast_litellm__``)
and sets ``__wrapped__``: code that looked through anything carrying them took
the user's wrapper for ours and called (or reproduced) the stock function past
it.  And ``inspect.getsource`` unwraps ``__wrapped__``: a wrapper installed before
we patch hashed as LiteLLM's source, so the engine replaced it.

Each test runs one workload four ways, in lockstep: stock (no patch), the user
wraps after we patched, before we patched, and after, with remove_acceleration()
next.  Results and the number of calls the user's wrapper sees must be the stock
ones.  Without the fix (registry.stock_behind, the self-marks on every wrapper of
ours, guards.check / check_dependencies / the limiter's precheck refusing a
wrapper outside LiteLLM, token_counter's utils precheck) the accelerated runs saw
0 calls where stock saw several (see each test).
"""
from __future__ import annotations

import asyncio
import functools
from datetime import datetime, timezone

import pytest

pytest.importorskip("litellm")

import litellm  # noqa: E402

import fast_litellm  # noqa: E402
from fast_litellm import flags  # noqa: E402
from fast_litellm.patching import engine, registry  # noqa: E402

MODES = ["after", "before", "after_removed"]


def _raw(owner, name):
    return owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)


def _counting_wrapper(inner, calls, name):
    if asyncio.iscoroutinefunction(inner):
        @functools.wraps(inner)
        async def wrapper(*args, **kwargs):
            calls.append(name)
            return await inner(*args, **kwargs)
    else:
        @functools.wraps(inner)
        def wrapper(*args, **kwargs):
            calls.append(name)
            return inner(*args, **kwargs)
    return wrapper


def _run(mode, owner, name, workload):
    """(workload's results, calls the user's wrapper saw) with the user's
    wrapper over ``owner.name`` installed as ``mode`` says."""
    fast_litellm.remove_acceleration()
    stock = _raw(owner, name)
    calls = []
    errors = {flag.name: flag.errors for flag in flags._FLAGS.values()}
    try:
        if mode in ("after", "after_removed"):
            fast_litellm.apply_acceleration()
            assert not _not_applied(), _not_applied()
        inner = _raw(owner, name)
        wrapper = _counting_wrapper(inner, calls, name)
        setattr(owner, name, wrapper)
        if mode == "before":
            fast_litellm.apply_acceleration()
        elif mode == "after_removed":
            fast_litellm.remove_acceleration()
        results = workload()
        return results, list(calls)
    finally:
        fast_litellm.remove_acceleration()
        setattr(owner, name, stock)
        # a build that refuses the user's wrapper with an error (routing's usage_read
        # did, over a wrapped InMemoryCache.get_cache, until it declined instead) is
        # not retried over the same original and counts against its flag: both
        # undone for the tests after
        for rec in engine._records.values():
            rec.failed_build = None
        for flag in flags._FLAGS.values():
            if flag.errors > errors.get(flag.name, 0):
                flag.reset()
        fast_litellm.apply_acceleration()
        assert not _not_applied(), _not_applied()


def _not_applied():
    return {name: p["reason"] for name, p in fast_litellm.get_patch_status()["patches"].items()
            if not p["applied"] and not p["reason"].startswith(("pending", "feature flag"))}


def _lockstep(owner, name, workload, mode):
    stock = _run("stock", owner, name, workload)
    assert stock[1], "the workload never calls %s: the test proves nothing" % name
    assert _run(mode, owner, name, workload) == stock


# ---- token_counter ------------------------------------------------------------------------------

def _token_counts():
    messages = [{"role": "user", "content": "hello there"}, {"role": "assistant", "content": "hi"}]
    out = []
    for fn in (litellm.token_counter, litellm.utils.token_counter):
        out.append(fn(model="gpt-4o", messages=messages))
        out.append(fn(model="gpt-4o", text="some text to count"))
        out.append(fn(model="gpt-3.5-turbo", text=["a", "list", "of texts"]))
        out.append(fn(model="claude-sonnet-4-5", messages=messages))  # handed off (handed_off)
    return out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("where", ["core", "utils"])
def test_token_counter_calls_a_users_wrapper_as_stock(mode, where):
    """Without the fix: core wrapped after: 0 calls of 8 (the utils fast path counted
    without the core lookup stock makes; utils_precheck); before: 0 (guards.check
    passed the wrapper, getsource unwrapped it: the engine replaced it)."""
    import litellm.litellm_core_utils.token_counter as tc

    owner = tc if where == "core" else litellm.utils
    _lockstep(owner, "token_counter", _token_counts, mode)


def test_token_counter_handoff_does_not_look_through_a_copy_of_our_marks():
    """handed_off (the utils patch's Delegate for a hand-off model) read
    ``__fast_litellm_original__`` of whatever was on the core module: a user's
    wraps copy of our core wrapper sent the call to the stock core past it.  The
    utils precheck hides that path in a whole call, so the Delegate is driven here
    directly (mutation: handed_off back to getattr(current, "__fast_litellm_original__")
    -> 0 calls of 1)."""
    import litellm.litellm_core_utils.token_counter as tc
    from fast_litellm.token_counter import patches

    assert fast_litellm.apply_acceleration()
    ours = tc.token_counter
    assert registry.is_ours(ours)
    fast = patches.build_utils(litellm.utils.token_counter.__fast_litellm_original__)
    messages = [{"role": "user", "content": "hello"}]
    delegate = fast(model="claude-sonnet-4-5", messages=messages)
    assert isinstance(delegate, registry.Delegate)
    calls = []
    tc.token_counter = _counting_wrapper(ours, calls, "token_counter")
    try:
        assert tc.token_counter.__fast_litellm_original__ is ours.__fast_litellm_original__  # copied
        expected = ours.__fast_litellm_original__(model="claude-sonnet-4-5", messages=messages)
        assert delegate.fn(model="claude-sonnet-4-5", messages=messages) == expected
        assert calls == ["token_counter"]
    finally:
        tc.token_counter = ours


# ---- InMemoryCache ------------------------------------------------------------------------------

def _cache_workload():
    from litellm.caching.in_memory_cache import InMemoryCache

    from fast_litellm import cache

    def run():
        c = InMemoryCache()
        c.set_cache("a", {"x": 1})
        c.set_cache("b", "2", ttl=60)
        c.set_cache("n", 1)
        out = [c.get_cache("a"), c.get_cache("missing"), c.batch_get_cache(["a", "b", "c"]),
               asyncio.run(c.async_batch_get_cache(["a", "b"])), c.increment_cache("n", 2)]
        c.delete_cache("a")
        out.append(sorted(c.cache_dict))
        c.evict_cache()
        c.flush_cache()
        out.append(len(c.cache_dict))
        return out

    out = run()
    with cache.stock():  # the stock side of benchmarks and differential tests (cache.originals)
        out.append(run())
    return out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["get_cache", "set_cache", "batch_get_cache", "async_batch_get_cache",
                                  "check_value_size", "_is_key_expired", "evict_element_if_expired"])
def test_in_memory_cache_calls_a_users_wrapper_as_stock(mode, name):
    """Without the fix: before: 0 calls (the engine or the fast methods replaced a
    wrapper installed before we patched; a wrapped helper was taken for LiteLLM's);
    async_batch_get_cache after: cache.stock() looked through the wrapper's copied
    ``__fast_litellm__``/``__wrapped__`` and dropped it."""
    from litellm.caching.in_memory_cache import InMemoryCache

    _lockstep(InMemoryCache, name, _cache_workload, mode)


# ---- the v3 proxy limiter -----------------------------------------------------------------------

class _Clock:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


def _limiter_workload():
    from litellm import DualCache
    from litellm.proxy.hooks.parallel_request_limiter_v3 import _PROXY_MaxParallelRequestsHandler_v3
    from litellm.proxy.utils import InternalUsageCache

    handler = _PROXY_MaxParallelRequestsHandler_v3(InternalUsageCache(DualCache()), time_provider=_Clock())
    descriptors = [{"key": "api_key", "value": "a", "rate_limit": {"requests_per_unit": 2}},
                   {"key": "user", "value": "u", "rate_limit": {"tokens_per_unit": 10}}]
    loop = asyncio.new_event_loop()
    try:
        return [loop.run_until_complete(handler.should_rate_limit(descriptors)) for _ in range(4)]
    finally:
        loop.close()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["should_rate_limit", "_collect_windowed_keys_and_gauges",
                                  "is_cache_list_over_limit", "_local_counter_states",
                                  "_in_memory_cache_sliding_window"])
def test_proxy_limiter_calls_a_users_wrapper_as_stock(mode, name):
    """Without the fix: every accelerated run 0 calls (should_rate_limit after: 4 =
    stock): the native precheck's class check (then _stock(...) is not expected) looked
    through the wrapper's copied marks, then reproduced LiteLLM's method past it;
    before: the engine replaced it, or the precheck took it for LiteLLM's."""
    from litellm.proxy.hooks.parallel_request_limiter_v3 import _PROXY_MaxParallelRequestsHandler_v3

    _lockstep(_PROXY_MaxParallelRequestsHandler_v3, name, _limiter_workload, mode)


# ---- cost ---------------------------------------------------------------------------------------

def _cost_workload():
    import litellm.cost_calculator as cc
    from litellm import ModelResponse, Usage

    out = []
    for model in ("gpt-4o-mini", "gpt-4o", "gpt-3.5-turbo"):
        response = ModelResponse(id="chatcmpl-x", created=1700000000, model=model,
                                 usage=Usage(prompt_tokens=50, completion_tokens=60, total_tokens=110))
        out.append(repr(litellm.completion_cost(completion_response=response)))
        out.append(repr(cc.cost_per_token(model=model, prompt_tokens=5, completion_tokens=6)))
    return out


@pytest.mark.parametrize("mode", MODES)
def test_completion_cost_calls_a_users_cost_per_token_as_stock(mode):
    """Stock completion_cost calls the module's cost_per_token; the fast one prices
    in place.  Without the fix (the completion_cost patch's precheck,
    guards.pinned_binding_precheck): after and before, 3 calls where stock makes 6."""
    import litellm.cost_calculator as cc

    _lockstep(cc, "cost_per_token", _cost_workload, mode)


# ---- every installed patch object names itself ---------------------------------------------------

def test_every_installed_patch_of_every_component_names_itself():
    """What the engine installs (its wrapper, or an unwrapped fast function of a
    component) is ours by its self-mark (registry.mark_ours) or its native type
    (registry.own_type), and registry.stock_behind finds LiteLLM's function behind
    it; a user's functools.wraps wrapper over it is not ours and is not looked
    through.  (routing has its own: test_the_stock_side_is_litellms_own_code.)"""
    import importlib

    from fast_litellm.patching import guards

    for module in ("litellm.caching.in_memory_cache", "litellm.proxy.hooks.parallel_request_limiter_v3",
                   "litellm.redis.stores.connection"):  # the patched modules, imported
        importlib.import_module(module)

    fast_litellm.remove_acceleration()
    assert fast_litellm.apply_acceleration()
    checked = 0
    for name, rec in engine._records.items():
        if not rec.applied or rec.patch.component == "routing":
            continue
        current = guards.unwrap_descriptor(engine._resolve(rec.patch)[2])
        assert current is guards.unwrap_descriptor(rec.replacement), name
        assert registry.is_ours(current) or type(current) in registry._OUR_TYPES, name
        stock = registry.stock_behind(current)
        assert stock is not current, name
        assert stock is guards.unwrap_descriptor(rec.original), name
        assert stock.__module__.startswith("litellm"), (name, stock.__module__)
        assert not registry.is_ours(stock) and type(stock) not in registry._OUR_TYPES, name
        users = functools.wraps(current)(lambda *a, **k: None)
        assert not registry.is_ours(users) and registry.stock_behind(users) is users, name
        checked += 1
    assert checked >= 19  # token_counter 2, cache 8, proxy limiter 6, cost 3


@pytest.mark.parametrize("mode", MODES)
def test_proxy_limiter_calls_a_users_scalar_as_stock(mode):
    """LiteLLM's limiter methods call the module's ``_scalar`` on each call; the
    native (and Python twin's) functions inline it.  Without the fix: after, 0
    calls where stock makes 26 (mutation: the ``names.get("_scalar") is not
    stock_scalar`` checks removed); before, the wrapper is not LiteLLM's pinned
    ``_scalar`` (proxy_limiter._scalar_lookup asks guards.is_pinned_source, which
    refuses a foreign ``__wrapped__`` layer: getsource would unwrap it)."""
    import litellm.proxy.hooks.parallel_request_limiter_v3 as module

    _lockstep(module, "_scalar", _limiter_workload, mode)


@pytest.mark.parametrize("mode", MODES)
def test_python_twin_limiter_calls_a_users_scalar_as_stock(mode):
    """The same through the Python twin's functions (proxy_limiter.accelerated("python"))."""
    import litellm.proxy.hooks.parallel_request_limiter_v3 as module

    from fast_litellm import proxy_limiter

    def workload():
        with proxy_limiter.accelerated("python"):
            return _limiter_workload()

    _lockstep(module, "_scalar", workload, mode)


# ---- routing's usage read over a wrapped memory tier --------------------------------------------

def _v2_picks():
    """Five usage-based-routing-v2 picks on a fresh Router (their deployments' ids)."""
    from _lockstep import plain_model_list

    async def picks():
        router = litellm.Router(model_list=plain_model_list(4), routing_strategy="usage-based-routing-v2")
        out = []
        for _ in range(5):
            out.append((await router.async_get_available_deployment(
                model="g", messages=[{"role": "user", "content": "hi"}], request_kwargs={}))["model_info"]["id"])
        return out

    import random

    random.seed(23)
    return asyncio.run(picks())


def test_a_wrapped_memory_tier_declines_the_usage_read_and_counts_no_error():
    """routing.usage_read over an InMemoryCache.get_cache wrapped before we patch:
    declined (LiteLLM's read runs, the user's wrapper with it), not a build
    failure counted against rust_routing and never retried.  Without the fix
    (RuntimeError at build) the reason was 'building the fast path failed' and
    the flag's error count grew by one."""
    from litellm.caching.in_memory_cache import InMemoryCache

    stock_results, stock_calls = _run("stock", InMemoryCache, "get_cache", _v2_picks)
    assert stock_calls
    errors = {flag.name: flag.errors for flag in flags._FLAGS.values()}
    stock = _raw(InMemoryCache, "get_cache")
    calls = []
    try:
        fast_litellm.remove_acceleration()
        setattr(InMemoryCache, "get_cache", _counting_wrapper(stock, calls, "get_cache"))
        fast_litellm.apply_acceleration()
        status = fast_litellm.get_patch_status()["patches"]["routing.usage_read"]
        assert not status["applied"]
        assert status["reason"].startswith("not accelerated"), status["reason"]
        assert {flag.name: flag.errors for flag in flags._FLAGS.values()} == errors
        assert (_v2_picks(), calls) == (stock_results, stock_calls)
    finally:
        fast_litellm.remove_acceleration()
        setattr(InMemoryCache, "get_cache", stock)
        fast_litellm.apply_acceleration()
    assert not _not_applied(), _not_applied()
