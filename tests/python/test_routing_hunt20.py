"""Session 20 exactness hunt: differences found between stock and accelerated
Router picks, each as a lockstep test (stock and accelerated routers from one
model list, the same seeds; picks, ``random``'s state and what the attack
observes must be equal).  Each case failed before its fix (docs/routing.md,
"Session 20: exactness hunt")."""
from __future__ import annotations

import asyncio
import builtins
import functools
import gc
import random
import sys
import warnings

import pytest

import test_routing_protocol as T
from _lockstep import routing_patches, same_minute
from test_routing_builtins_shadowed import _counting
from fast_litellm.routing import _local_patch

litellm = pytest.importorskip("litellm")
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

STRATEGIES = ("simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing-v2",
              "cost-based-routing")


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


def _deployment(name, model_id):
    from litellm.types.router import Deployment

    return Deployment(model_name=name, litellm_params={"model": "openai/gpt-4o", "api_key": "k"},
                      model_info={"id": model_id})


def _pick(router, i):
    random.seed(i)
    try:
        picked = asyncio.get_event_loop().run_until_complete(
            router._core.select("g", {"metadata": {}, "litellm_call_id": "call-%d" % i}))
        return picked["model_info"]["id"], random.getstate()[1][:3]
    except Exception as exc:  # noqa: BLE001 - compared
        return repr(exc), random.getstate()[1][:3]


def _run(on, strategy, script):
    """``script(router, pick)`` on a fresh router with the fast paths ``on``,
    the router built with them ``on`` too, as a router made after
    ``import fast_litellm`` is: the accelerated side's picks run on the twin
    handle (session 23 hunt: built with the switch off, none of this file's or
    test_routing_hunt22's accelerated picks did)."""
    with _local_patch.accelerated(on):
        router = T._router(routing_strategy=strategy)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        with _local_patch.accelerated(on), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return script(router, lambda i: _pick(router, i))
    finally:
        for _ in range(3):  # (the service events' Tasks)
            loop.run_until_complete(asyncio.sleep(0))
        asyncio.set_event_loop(None)
        loop.close()
        router.retire()


def _lockstep(strategy, script):
    same_minute()
    stock, fast = _run(False, strategy, script), _run(True, strategy, script)
    assert stock == fast
    return stock


# ---- (a) the registry's index views, refreshed by stock's pick -----------------------------------

_CHANGES = {
    "add_deployment": lambda router: router.add_deployment(_deployment("h", "e1")),
    "delete_deployment": lambda router: router.delete_deployment("d3"),
    "model_list.append": lambda router: router.model_list.append(
        {"model_name": "h", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"}, "model_info": {"id": "e1"}}),
    "set_model_list": lambda router: router.set_model_list(
        [dict(d, model_info={"id": "n%d" % i}) for i, d in enumerate(T.MODEL_LIST[:3])]
        + [{"model_name": "h", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"}}]),
}


def _held_views(change):
    """Index views taken before the registry changes: stock's next pick refreshes them
    (its usage-read scope's group read reads ``_core_model_names``), so they show the
    new state after it."""
    def script(router, pick):
        out = [pick(0)]
        names, named = router.model_names, router.model_name_to_deployment_indices
        out.append((sorted(names), dict(named)))
        _CHANGES[change](router)
        out.append((sorted(names), dict(named)))
        out.append(pick(1))
        out.append((sorted(names), dict(named)))
        return out
    return script


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("change", sorted(_CHANGES))
def test_index_views_held_across_a_registry_change_are_refreshed_by_the_pick(strategy, change):
    out = _lockstep(strategy, _held_views(change))
    assert out[-1] != out[2] or change == "model_list.append"  # (stock's pick refreshed them)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("name", ("isinstance", "list"))
def test_a_builtin_replaced_after_a_fast_pick_is_called_as_stock_calls_it(strategy, name):
    """hunt19b's open item: the builtin replaced in ``builtins`` *after* the first pick
    (stock's first pick refreshed the index views; ours left them to the next, declined,
    pick, which then called the replacement 4 more times)."""
    def script(router, pick):
        calls = []
        out = [pick(0)]
        real = builtins.__dict__[name]
        gc.collect()
        gc.disable()
        builtins.__dict__[name] = _counting(real, calls)
        try:
            out += [pick(1), pick(2)]
        finally:
            builtins.__dict__[name] = real
            gc.enable()
        return out, len(calls)

    out = _lockstep(strategy, script)
    assert out[1] > 0 or name == "list"


@pytest.mark.parametrize("strategy", ("simple-shuffle", "latency-based-routing"))
@pytest.mark.parametrize("where", ("HostRegistry._core_get_model_list", "HostRegistry._list_scope",
                                   "HostedIndexes.refresh"))
def test_a_replaced_group_read_method_is_called_as_stock_calls_it(strategy, where):
    """A class-level wrapper on a method of the group read stock's usage-read scope makes
    for every strategy is called once a pick by stock (the fast scope skipped the read
    for strategies other than usage-v2)."""
    from litellm.router_rust.surface import indexes, registry

    owner_name, method = where.split(".")
    owner = {"HostRegistry": registry.HostRegistry, "HostedIndexes": indexes.HostedIndexes}[owner_name]

    def script(router, pick):
        calls = []
        real = owner.__dict__[method]

        def wrapper(*args, **kwargs):
            calls.append(method)
            return real(*args, **kwargs)

        setattr(owner, method, wrapper)
        try:
            out = [pick(i) for i in range(3)]
        finally:
            setattr(owner, method, real)
        return out, len(calls)

    out = _lockstep(strategy, script)
    assert out[1] >= 3


@pytest.mark.parametrize("strategy", ("simple-shuffle", "least-busy"))
def test_the_group_read_stays_skipped_while_idle(strategy):
    """The check is not always declining: once the views are current the skipped read
    would only read, and the scope skips it again (no ``_core_get_model_list`` call in
    the accelerated picks after the first); an added deployment makes it run once."""
    from litellm.router_rust.surface import registry

    from fast_litellm.routing import litellm_fast

    def script(router, pick):
        calls = []
        real = registry.HostRegistry.__dict__["_core_get_model_list"]

        def count(*args, **kwargs):
            calls.append(1)
            return real(*args, **kwargs)

        pick(0)
        idle = [litellm_fast._GROUP_ROWS.read_is_idle(router._core)]
        router.add_deployment(_deployment("h", "e1"))
        idle.append(litellm_fast._GROUP_ROWS.read_is_idle(router._core))
        pick(1)
        idle.append(litellm_fast._GROUP_ROWS.read_is_idle(router._core))
        registry.HostRegistry._core_get_model_list = count
        try:
            pick(2)
        finally:
            registry.HostRegistry._core_get_model_list = real
        return idle, len(calls)

    assert _run(True, strategy, script) == ([True, False, True], 1)


# ---- (b) audit events ---------------------------------------------------------------------------

_AUDIT_SCRIPT = r"""
import asyncio, collections, gc, json, random, sys, threading, warnings
sys.path.insert(0, sys.argv[1])
from _lockstep import routing_patches
from fast_litellm.routing import _local_patch
import test_routing_protocol as T
on, events = [False], collections.Counter()
picks_thread = threading.get_ident()
def hook(event, args):
    # the picks' thread only: the tokenizer's background thread that stores a
    # prebuilt vocabulary (os.mkdir, os.listdir) can run at any time
    if on[0] and threading.get_ident() == picks_thread:
        events[event] += 1
sys.addaudithook(hook)
def run(fast, strategy):
    router = T._router(routing_strategy=strategy)
    # the previous runs' routers collected first: a pending Task of theirs destroyed by a
    # collection inside the counted picks reports itself (repr, id, logging's frame walk);
    # when a collection falls depends on what each side allocates (3.13, session 22)
    gc.collect()
    events.clear()
    async def failing():  # (picks that raise: the engine's error marks)
        for model in ("g", "no-such-group"):
            try:
                await router.async_get_available_deployment(model, request_kwargs={"metadata": 7})
            except Exception:
                pass
    async def go():
        with _local_patch.accelerated(fast), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(2):
                await router.async_get_available_deployment("g", request_kwargs={})
                await failing()
            on[0] = True
            for i in range(3):
                random.seed(i)
                await router.async_get_available_deployment("g", request_kwargs={})
            await failing()
            on[0] = False
    asyncio.run(go())
    router.retire()
    return dict(events)
out = {}
with routing_patches():
    for strategy in sys.argv[2:]:
        out[strategy] = (run(False, strategy), run(True, strategy))
print("RESULT " + json.dumps(out))
"""


def test_a_pick_raises_the_audit_events_stocks_raises():
    """An audit hook (``sys.addaudithook``) saw ``builtins.id`` (our caches' ``id()``
    calls, 1-5 a pick) and ``function.__new__`` (the deprecated pick attribute's two
    closures, made with ``types.FunctionType``) in accelerated picks, none in stock's:
    now the native core's ``router_identity`` / ``router_new_function``, which raise
    none.  In a child (an audit hook cannot be removed)."""
    _assert_audit_counts_equal(_AUDIT_SCRIPT)


def _assert_audit_counts_equal(script):
    """Run ``script`` in a child (an audit hook cannot be removed) over every
    strategy; its ``RESULT`` line holds each strategy's (stock, accelerated) event
    counts, which must be equal."""
    import json
    import os
    import subprocess

    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, "-c", script, here] + list(STRATEGIES), capture_output=True,
                          text=True, timeout=600, env=env)
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    assert line, proc.stderr[-3000:]
    for strategy, (stock, fast) in json.loads(line[-1][7:]).items():
        assert stock == fast, strategy
        assert stock.get("sys._getframe")  # (the hook ran: the deprecated read's walk)


def test_the_audit_free_helpers_are_id_function_new_and_code_of():
    import types

    from fast_litellm._native_loader import NATIVE

    x = []
    assert NATIVE.router_identity(x) == id(x)

    def outer():
        y = 1

        def inner(a=3, *, b=4):
            """doc"""
            return y + a + b
        return inner

    f = outer()
    made = NATIVE.router_new_function(f.__code__, f.__globals__, (5,), f.__closure__)
    stock = types.FunctionType(f.__code__, f.__globals__, None, (5,), f.__closure__)
    for name in ("__name__", "__qualname__", "__module__", "__doc__", "__defaults__", "__kwdefaults__",
                 "__annotations__", "__dict__", "__code__", "__globals__", "__builtins__"):
        assert getattr(made, name, None) == getattr(stock, name, None), name
    assert made.__closure__[0] is stock.__closure__[0] and made(b=4) == stock(b=4) == 10
    plain = NATIVE.router_new_function(test_the_audit_free_helpers_are_id_function_new_and_code_of.__code__, globals(),
                                       None, ())
    assert plain.__defaults__ is None and plain.__closure__ is None
    for bad in ((f.__code__, f.__globals__, None, ()), (f.__code__, f.__globals__, None, (1,)),
                (f.__code__, {}, [], f.__closure__), ("code", {}, None, ())):
        with pytest.raises((TypeError, ValueError)):
            NATIVE.router_new_function(*bad)
    assert NATIVE.router_code_of(f) is f.__code__
    for bad in (len, f.__code__, functools.partial(f), None):
        with pytest.raises(TypeError, match="router_code_of: a function"):
            NATIVE.router_code_of(bad)


_AUDIT_ENGINE_SCRIPT = r"""
import asyncio, collections, gc, json, random, sys, threading, warnings
sys.path.insert(0, sys.argv[1])
import fast_litellm
import test_routing_protocol as T
on, events, picks_thread = [False], collections.Counter(), threading.get_ident()
def hook(event, args):
    if on[0] and threading.get_ident() == picks_thread:
        events[event] += 1
sys.addaudithook(hook)
def run(fast, strategy):
    (fast_litellm.apply_acceleration if fast else fast_litellm.remove_acceleration)()
    router = T._router(routing_strategy=strategy)
    # the previous runs' routers collected first: a pending Task of theirs destroyed by a
    # collection inside the counted picks reports itself (repr, id, logging's frame walk);
    # when a collection falls depends on what each side allocates (3.13, session 22)
    gc.collect()
    events.clear()
    async def go():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(40):  # (past the engine's one-in-16 timing samples and first-use builds)
                await router.async_get_available_deployment("g", request_kwargs={})
            on[0] = True
            for i in range(3):
                random.seed(i)
                await router.async_get_available_deployment("g", request_kwargs={})
            on[0] = False
    asyncio.run(go())
    router.retire()
    return dict(events)
out = {strategy: (run(False, strategy), run(True, strategy)) for strategy in sys.argv[2:]}
fast_litellm.remove_acceleration()
print("RESULT " + json.dumps(out))
"""


def test_a_pick_under_the_patch_engine_raises_the_audit_events_stocks_raises():
    """The same, through the production path: ``apply_acceleration()`` (the engine's
    wrappers, native layers and flags) against ``remove_acceleration()``."""
    _assert_audit_counts_equal(_AUDIT_ENGINE_SCRIPT)
