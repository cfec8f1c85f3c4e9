"""A strategy selector's methods overridden, stock vs accelerated (session-18 hunt).

LiteLLM's strategy entries call helpers through ``self``: a subclass of a
selector class, or a method set on the selector instance, is called by
stock.  The accelerated entries must then decline to LiteLLM's, so the
override runs as often as in stock and the picks and ``random`` state match.
"""
from __future__ import annotations

import asyncio
import random
import warnings

import pytest
from _lockstep import callback_lists, plain_model_list as _model_list, routing_patches

litellm = pytest.importorskip("litellm")

from fast_litellm.routing import _local_patch, strategy_fast  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

CALLBACK_LISTS = callback_lists()


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


def _override(selector, how, calls):
    """Make ``selector._get_available_deployments`` count its calls, by a
    subclass or on the instance; it hands on to the class's method."""
    cls = type(selector)
    inherited = cls._get_available_deployments

    def counted(self, *args, **kwargs):
        calls.append(len(args))
        return inherited(self, *args, **kwargs)

    if how == "subclass":
        selector.__class__ = type("Counting", (cls,), {"_get_available_deployments": counted})
    else:
        selector._get_available_deployments = counted.__get__(selector)


def _run(accelerated, how, n):
    for name in CALLBACK_LISTS:
        getattr(litellm, name)[:] = []
    calls, seen = [], []
    with warnings.catch_warnings(), _local_patch.accelerated(accelerated):
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=_model_list(n), routing_strategy="latency-based-routing")
        _override(router._core._selectors.default, how, calls)
        loop = asyncio.new_event_loop()
        try:
            for k in range(4):
                random.seed(k)
                if k % 2:
                    picked = router.get_available_deployment(model="g", request_kwargs={})
                else:
                    picked = loop.run_until_complete(
                        router.async_get_available_deployment(model="g", request_kwargs={}))
                seen.append((picked["model_info"]["id"], random.getstate()))
        finally:
            loop.close()
            router.retire()
            litellm.callbacks[:] = []
    return seen, calls


@pytest.mark.parametrize("how", ["subclass", "instance"])
@pytest.mark.parametrize("n", [10, 60])
def test_latency_entries_call_an_overridden_pick(how, n):
    stock = _run(False, how, n)
    assert len(stock[1]) == 4  # LiteLLM's entries call it, sync and async
    assert _run(True, how, n) == stock


def test_latency_entries_serve_litellms_own_selector():
    """The check passes for LiteLLM's class under our patch (the entry is not
    declined for every selector)."""
    with warnings.catch_warnings(), _local_patch.accelerated(True):
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=_model_list(3), routing_strategy="latency-based-routing")
    try:
        selector = router._core._selectors.default
        own = strategy_fast._OwnLatencyPick()
        assert own(selector) and own(selector)
        selector._get_available_deployments = lambda *a, **k: None
        assert not own(selector)
    finally:
        router.retire()


def _mock_store_active_on_instance(router, calls):
    store = router._core._cooldowns.cooldown_store
    inner = store.active

    def active(*args, **kwargs):
        calls.append("store.active")
        return inner(*args, **kwargs)

    store.active = active
    return lambda: None


def _mock_class(owner, name, tag):
    def install(router, calls):
        inner = owner.__dict__[name]

        if asyncio.iscoroutinefunction(inner):
            async def replaced(*args, **kwargs):
                calls.append(tag)
                return await inner(*args, **kwargs)
        else:
            def replaced(*args, **kwargs):
                calls.append(tag)
                return inner(*args, **kwargs)
        setattr(owner, name, replaced)
        return lambda: setattr(owner, name, inner)
    return install


def _cooldown_read_mocks():
    from litellm.redis.stores.router_cooldowns import RouterCooldownStore
    from litellm.router_rust import routing_stores
    from litellm.router_utils import routing_prefetch

    return {
        "store.active on the instance": _mock_store_active_on_instance,
        "RouterCooldownStore.active": _mock_class(RouterCooldownStore, "active", "cls.active"),
        "routing_prefetch.read_cooldowns": _mock_class(routing_prefetch, "read_cooldowns", "read_cooldowns"),
        "RoutingStores.batch_get": _mock_class(routing_stores.RoutingStores, "batch_get", "batch_get"),
    }


@pytest.mark.parametrize("mock", ["store.active on the instance", "RouterCooldownStore.active",
                                  "routing_prefetch.read_cooldowns", "RoutingStores.batch_get"])
@pytest.mark.parametrize("strategy", ["simple-shuffle", "usage-based-routing-v2"])
def test_cooldown_read_calls_a_replaced_function_of_litellms_read(mock, strategy):
    """The async pick's cooldown read (``_answer_cache``) walks LiteLLM's
    functions down to the store's ``active``; one replaced after our build
    (a test's ``mock.patch``) is called by stock's read: ours must call it too."""
    install = _cooldown_read_mocks()[mock]
    outcomes = []
    for accelerated in (False, True):
        for name in CALLBACK_LISTS:
            getattr(litellm, name)[:] = []
        calls, seen = [], []
        with warnings.catch_warnings(), _local_patch.accelerated(accelerated):
            warnings.simplefilter("ignore")
            router = litellm.Router(model_list=_model_list(6), routing_strategy=strategy)
            loop = asyncio.new_event_loop()
            router._core._cooldowns.add_deployment_to_cooldown("d2", Exception("x"), 429, 600)
            undo = install(router, calls)
            try:
                for k in range(3):
                    random.seed(k)
                    picked = loop.run_until_complete(
                        router.async_get_available_deployment(model="g", request_kwargs={}))
                    seen.append((picked["model_info"]["id"], random.getstate()))
            finally:
                undo()
                loop.close()
                router.retire()
                litellm.callbacks[:] = []
        outcomes.append((seen, calls))
    assert len(outcomes[0][1]) == 3  # stock's read called it once a pick
    assert outcomes[1] == outcomes[0]
