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
from _lockstep import callback_lists, plain_model_list as _model_list, routing_patches

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


# --------------------------------------------------------------------------
# Router.__getattribute__ without a Python frame (routing.router_getattribute)
# --------------------------------------------------------------------------

def _native_getattribute():
    from litellm.router import Router

    found = Router.__dict__["__getattribute__"]
    if type(found).__name__ != "RouterGetattribute":
        pytest.skip("the native Router.__getattribute__ is not installed (needs CPython 3.11+)")
    return found


def _error_facts(error, router, core):
    """What an attribute read's error shows: its type, text, args, name and
    obj, and the same of its context, with the chaining flags."""
    def facts(e):
        if e is None:
            return None
        obj = getattr(e, "obj", None)
        return (type(e), str(e), e.args, getattr(e, "name", None),
                "router" if obj is router else "core" if obj is core else repr(obj))
    return (facts(error), facts(error.__context__), error.__suppress_context__, error.__cause__)


def _read(router, name):
    try:
        value = getattr(router, name)
    except Exception as error:  # noqa: BLE001 - compared
        return "raised", _error_facts(error, router, router.__dict__.get("_core"))
    return "value", value


def _both(router, name):
    out = []
    for accelerated in (False, True):
        with _local_patch.accelerated(accelerated), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.append(_read(router, name))
    return out


@pytest.fixture
def router():
    for name in CALLBACK_LISTS:
        getattr(litellm, name)[:] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        made = litellm.Router(model_list=_model_list(3))
    yield made
    made.retire()
    litellm.callbacks[:] = []


@pytest.mark.parametrize("name", ["select", "_core", "__dict__", "retire", "model_list", "no_such_attribute",
                                  "_core_no_such", "__class__", "settings"])
def test_router_reads_match_stock(router, name):
    _native_getattribute()
    stock, fast = _both(router, name)
    if stock[0] == "value" and callable(stock[1]) and hasattr(stock[1], "__self__"):
        # a bound method is made at each read: the same function bound to the same object
        assert fast[0] == "value" and fast[1].__func__ is stock[1].__func__ and fast[1].__self__ is stock[1].__self__
    else:
        assert fast == stock


def test_a_core_error_of_another_attribute_is_re_raised_as_stock(router):
    """``getattr(core, name)`` raising an AttributeError about something else:
    LiteLLM's hook re-raises it unchanged (no rename)."""
    _native_getattribute()
    from litellm.router_rust.core import RustCore

    inner = RustCore.__dict__["__getattr__"]

    def getattr_hook(self, name):
        if name == "zz_probe":
            raise AttributeError("zz_missing_inner", name="zz_missing_inner", obj=self)
        if name == "zz_other_obj":
            raise AttributeError("zz_other_obj", name="zz_other_obj", obj=None)
        return inner(self, name)

    RustCore.__getattr__ = getattr_hook
    try:
        outcomes = [_both(router, name) for name in ("zz_probe", "zz_other_obj", "zz_plain_miss")]
    finally:
        RustCore.__getattr__ = inner
    (probe_stock, probe_fast), (other_stock, other_fast), (miss_stock, miss_fast) = outcomes
    assert probe_stock[0] == "raised" and probe_stock[1][0][3] == "zz_missing_inner"  # re-raised: not renamed
    assert other_stock[0] == "raised" and other_stock[1][1] is None  # re-raised: no context
    assert miss_stock[0] == "raised" and miss_stock[1][1] is not None and miss_stock[1][2]  # renamed, from None
    assert probe_fast == probe_stock and other_fast == other_stock and miss_fast == miss_stock


def test_a_router_without_a_core_reads_pending_writes_as_stock():
    _native_getattribute()
    from litellm.router import Router

    bare = Router.__new__(Router)
    with _local_patch.accelerated(False):
        bare.pending_value = 7  # kept in _pending (no core)
    for name in ("pending_value", "missing_value"):
        stock, fast = _both(bare, name)
        assert fast == stock
    assert _both(bare, "pending_value")[0] == ("value", 7)


@pytest.mark.parametrize("shadowed", ["getattr", "AttributeError", "object", "type"])
def test_a_builtin_shadowed_in_litellm_router_is_read_as_stock_reads_it(router, shadowed):
    """LiteLLM's hook reads ``object``, ``AttributeError``, ``getattr`` and
    ``type`` as globals: one shadowed in ``litellm.router``'s dict is what
    stock calls, so the accelerated read calls it too (LiteLLM's function)."""
    _native_getattribute()
    import builtins

    from litellm import router as router_module

    real = getattr(builtins, shadowed)
    calls = []
    if shadowed == "AttributeError":
        class Counting(AttributeError):
            def __init__(self, *args, **kwargs):
                calls.append(args)
                super().__init__(*args, **kwargs)
        stand_in = Counting
        name = "no_such_attribute"
    elif shadowed == "object":
        import types

        def counting_getattribute(obj, attr):
            calls.append(attr)
            return real.__getattribute__(obj, attr)
        stand_in = types.SimpleNamespace(__getattribute__=counting_getattribute)  # object.__getattribute__ read
        name = "select"
    else:
        class Proxy:
            def __getattr__(self, attr):
                calls.append(attr)
                return getattr(real, attr)

            def __call__(self, *args, **kwargs):
                calls.append(args[1:] if len(args) > 1 else args)
                return real(*args, **kwargs)
        stand_in = Proxy()
        name = "no_such_attribute"
    router_module.__dict__[shadowed] = stand_in
    try:
        seen = []
        for accelerated in (False, True):
            del calls[:]
            with _local_patch.accelerated(accelerated):
                outcome = _read(router, name)
            seen.append((outcome, len(calls)))
    finally:
        del router_module.__dict__[shadowed]
    if shadowed != "AttributeError":
        assert seen[0][1] > 0  # stock's hook used the stand-in
    else:  # stock's except clause does not catch object's own error: it leaves uncaught, no context
        assert seen[0][0][0] == "raised" and seen[0][0][1][1] is None
    assert seen[1] == seen[0]


def test_a_deprecated_read_keeps_the_hook_frame_for_the_warning():
    """A deprecated attribute's descriptor walks the frames past the hook's
    (raising an audit event for each): that read keeps LiteLLM's hook and its
    frame; the warning names the caller's line."""
    _native_getattribute()
    for name in CALLBACK_LISTS:
        getattr(litellm, name)[:] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        made = litellm.Router(model_list=_model_list(3))
    try:
        lines = []
        for accelerated in (False, True):
            with _local_patch.accelerated(accelerated), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                made.async_get_available_deployment  # noqa: B018 - the read warns
            lines.append([(w.category, str(w.message), w.filename, w.lineno) for w in caught])
        assert lines[0] and lines[1] == lines[0]
    finally:
        made.retire()
        litellm.callbacks[:] = []
