"""Session 22 (route22b): the shared pick path's verdicts kept on dict tags.

The cooldown read's walk check (``litellm_fast.make_answer_cache``'s
``walk_is_litellms``: LiteLLM's functions the read calls, on the classes,
modules and the core's and store's instances) is kept while every dict it
read holds its PEP 509 tag.  A function replaced *after* picks have kept
the verdict (a test's ``mock.patch`` mid-run) must still be called as
stock's read calls it.
"""
from __future__ import annotations

import asyncio
import random
import sys
import warnings

import pytest
from _lockstep import callback_lists, routing_patches

litellm = pytest.importorskip("litellm")

from fast_litellm.routing import _local_patch  # noqa: E402

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


def _model_list(n):
    return [{"model_name": "g",
             "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "k", "api_base": "https://b%d.example" % i},
             "model_info": {"id": "d%d" % i}} for i in range(n)]


def _counted(calls, tag, inner):
    if asyncio.iscoroutinefunction(inner):
        async def replaced(*args, **kwargs):
            calls.append(tag)
            return await inner(*args, **kwargs)
    else:
        def replaced(*args, **kwargs):
            calls.append(tag)
            return inner(*args, **kwargs)
    return replaced


def _on_class_or_module(owner_of, name):
    def install(router, calls):
        owner = owner_of()
        inner = owner.__dict__[name]
        setattr(owner, name, _counted(calls, name, inner))
        return lambda: setattr(owner, name, inner)
    return install


def _on_store(router, calls):
    store = router._core._cooldowns.cooldown_store
    store.active = _counted(calls, "store.active", store.active)
    return lambda: store.__dict__.pop("active", None)


def _on_store_dict_rebound(router, calls):
    """The store's ``__dict__`` rebound to a new dict holding the replacement
    (no tag of the kept dict moves: the memo's key, the dict read, differs)."""
    store = router._core._cooldowns.cooldown_store
    state = dict(store.__dict__)
    state["active"] = _counted(calls, "store.active", store.active)
    old = store.__dict__
    store.__dict__ = state
    return lambda: setattr(store, "__dict__", old)


def _on_core(router, calls):
    core = router._core
    core._batch_read = _counted(calls, "core._batch_read", core._batch_read)
    return lambda: core.__dict__.pop("_batch_read", None)


def _stores():
    from litellm.router_rust import routing_stores
    return routing_stores


def _store_class():
    from litellm.redis.stores.router_cooldowns import RouterCooldownStore
    return RouterCooldownStore


def _prefetch():
    from litellm.router_utils import routing_prefetch
    return routing_prefetch


def _core_class():
    from litellm.router_rust import core
    return core.RustCore


MOCKS = {
    "store.active on the instance": _on_store,
    "the store's __dict__ rebound": _on_store_dict_rebound,
    "core._batch_read on the instance": _on_core,
    "RustCore._batch_read": _on_class_or_module(_core_class, "_batch_read"),
    "RouterCooldownStore.active": _on_class_or_module(_store_class, "active"),
    "RoutingStores.batch_get": _on_class_or_module(lambda: _stores().RoutingStores, "batch_get"),
    "routing_stores._cooldown_ids": _on_class_or_module(_stores, "_cooldown_ids"),
    "routing_prefetch.read_cooldowns": _on_class_or_module(_prefetch, "read_cooldowns"),
}


@pytest.mark.parametrize("mock", sorted(MOCKS))
@pytest.mark.parametrize("strategy", ["least-busy", "usage-based-routing-v2"])
def test_cooldown_read_walk_kept_then_a_function_replaced(mock, strategy):
    """Three picks keep the walk's verdict; then one of LiteLLM's functions
    the read calls is replaced (class, module, instance, or the instance's
    dict rebound): the next picks call it as stock's do, and pick alike."""
    from fast_litellm.routing import litellm_fast  # noqa: F401 - (the patch module)

    install = MOCKS[mock]
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
            undo = lambda: None  # noqa: E731
            try:
                for k in range(6):
                    if k == 3:
                        if accelerated and sys.version_info < (3, 12):
                            memo = _walk_memo()
                            assert memo is not None and memo._entry is not None  # kept by the first picks
                        undo = install(router, calls)
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
    assert len(outcomes[0][1]) >= 3  # stock's read called it at each of the last three picks
    assert outcomes[1] == outcomes[0]


def _walk_memo():
    """The walk memo of the installed cooldown-read fast path (the local
    dispatcher's ``fast``)."""
    from litellm.router_rust import core

    layer = core.RustCore.__dict__["_answer_cache"]
    for cell in getattr(layer, "__closure__", None) or ():
        memo = getattr(cell.cell_contents, "walk_memo", None)
        if memo is not None:
            return memo
    return None
