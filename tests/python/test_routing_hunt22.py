"""Session 22 exactness hunt: differences found between stock and accelerated
Router picks, each as a lockstep test (stock and accelerated routers from one
model list, the same seeds; picks, ``random``'s state and what the attack
observes must be equal).  Each case failed before its fix (docs/routing.md,
"Session 22 hunt")."""
from __future__ import annotations

import functools
import importlib

import pytest

import test_routing_hunt20 as H
from _lockstep import routing_patches
from fast_litellm.patching import guards, registry

litellm = pytest.importorskip("litellm")
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

_CORE = "litellm.router_rust.core"


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


def _owner_of(module, attr):
    owner = importlib.import_module(module)
    parts = attr.split(".")
    for part in parts[:-1]:
        owner = vars(owner)[part]
    return owner, parts[-1]


def _wrapped_after_warm_picks(module, attr, make_wrapper):
    """Three picks, then ``attr`` replaced by ``make_wrapper(real, calls)``, three more:
    the picks and the wrapper's calls."""
    def script(router, pick):
        out = [pick(i) for i in range(3)]
        owner, name = _owner_of(module, attr)
        real = vars(owner)[name]
        calls = []
        setattr(owner, name, make_wrapper(real, calls))
        try:
            out += [pick(10 + i) for i in range(3)]
        finally:
            setattr(owner, name, real)
        return out, len(calls)
    return script


def _functools_wrapper(real, calls):
    @functools.wraps(real)  # (copies the wrapped function's __dict__: our patches' marks too)
    def wrapper(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    return wrapper


# ---- (1) a user's functools.wraps wrapper over a patched function was taken for ours ---------

@pytest.mark.parametrize("strategy", H.STRATEGIES)
@pytest.mark.parametrize("attr", ("_start_fields", "_plain", "_narrowing_fields", "RustCore._group_policy_fields"))
def test_a_functools_wraps_wrapper_over_a_patched_binding_sees_stocks_calls(strategy, attr):
    """``functools.wraps`` copies the wrapped function's ``__dict__`` - our patch's
    ``__fast_litellm_patch__`` / ``__fast_litellm_original__`` marks - into the user's
    wrapper, and ``inspect.getsource`` unwraps ``__wrapped__``: the fused set-up's
    pinned-binding check (``guards.is_pinned_source``) took the wrapper for our patch
    over LiteLLM's function and skipped it (stock called it once or twice a pick)."""
    out = H._lockstep(strategy, _wrapped_after_warm_picks(_CORE, attr, _functools_wrapper))
    assert out[1] >= 3


def test_is_pinned_source_refuses_a_copy_of_our_marks_and_a_foreign_wraps_layer():
    from litellm.router_rust import core

    target = _CORE + ":_start_fields"
    ours = core._start_fields  # the routing patch's dispatcher over LiteLLM's function
    assert registry.is_ours(ours) and guards.is_pinned_source(target, ours)
    stock = registry.original_if_ours(ours)
    assert stock is not None and guards.is_pinned_source(target, stock)
    copied = _functools_wrapper(ours, [])
    assert copied.__fast_litellm_original__ is stock and not registry.is_ours(copied)
    assert not guards.is_pinned_source(target, copied)
    assert not guards.is_pinned_source(target, _functools_wrapper(stock, []))  # (getsource unwraps it)
    # a standard-library decorator over LiteLLM's function is followed (contextmanager's helper:
    # the fused select's phase_span check; refusing it made every pick enter the span)
    from fast_litellm.routing import protocol_fast

    try:
        from litellm.integrations.otel import logger
    except ImportError:  # (no opentelemetry installed: LiteLLM's logger is not loaded)
        return

    assert guards.is_pinned_source(protocol_fast._OTEL_LOGGER_SOURCES[0], logger.phase_span)


# ---- (2) a stand-in for a strategy module's ``random``: its attribute hook ran more often -----

class _RandomStandIn:
    """What a test or tracer puts in place of a module's ``random``: every attribute
    read is the real module's, and recorded."""

    def __init__(self, real, calls):
        self._real = real
        self._calls = calls

    def __getattr__(self, name):
        self._calls.append(name)
        return getattr(self._real, name)


@pytest.mark.parametrize("strategy", ("latency-based-routing", "cost-based-routing", "simple-shuffle"))
def test_a_random_stand_in_in_the_strategy_module_is_read_as_stock_reads_it(strategy):
    """The latency pick's checks of ``module.random`` (``draws_are_stdlib``,
    ``getrandbits_of``, ``choice_follows``) read its ``sample`` / ``choice`` with
    ``getattr``: a stand-in object's ``__getattr__`` ran three times a pick where
    stock's two draws read each once.  Now only an exact module's dict is read."""
    import random as real_random

    module = importlib.import_module({"latency-based-routing": "litellm.router_strategy.lowest_latency",
                                      "cost-based-routing": "litellm.router_strategy.lowest_cost",
                                      "simple-shuffle": "litellm.router_strategy.simple_shuffle"}[strategy])

    def script(router, pick):
        out = [pick(i) for i in range(3)]
        calls = []
        saved = module.__dict__.get("random")
        if saved is None:
            return out, None
        module.random = _RandomStandIn(real_random, calls)
        try:
            out += [pick(10 + i) for i in range(3)]
        finally:
            module.random = saved
        return out, list(calls)

    H._lockstep(strategy, script)


# ---- (3) a base put into a class's __bases__ after the verdicts were kept on dict tags -------

def _with_base(klass, namespace):
    """``klass.__bases__`` with a new first base (deriving from the old first one, so the
    layout is the same) holding ``namespace``; a function that puts the old bases back."""
    old = klass.__bases__
    klass.__bases__ = (type("Inserted", (old[0],), namespace),) + old[1:]
    return lambda: setattr(klass, "__bases__", old)


@pytest.mark.parametrize("strategy", H.STRATEGIES)
def test_a_base_put_under_the_core_class_after_kept_picks_is_seen(strategy):
    """The fused select's memo keeps its verdicts (among them: no class in RustCore's MRO
    holds ``_deleted``, so the deleted-reads check is answered inline) on dict tags, and
    a ``__bases__`` assignment changes no dict: a base whose ``_deleted`` property names
    ``model_group_alias`` made stock raise LiteLLM's error and ours pick.  The memo now keeps
    the MRO it was found at and the select compares it per pick."""
    from litellm.router_rust.core import RustCore

    def script(router, pick):
        out = [pick(i) for i in range(3)]
        undo = _with_base(RustCore, {"_deleted": property(lambda self: frozenset({"model_group_alias"}))})
        try:
            out += [pick(10 + i) for i in range(2)]
        finally:
            undo()
        out.append(pick(20))
        return out

    out = H._lockstep(strategy, script)
    assert "model_group_alias" in out[3][0] and out[5][0] != out[3][0]


@pytest.mark.parametrize("strategy", H.STRATEGIES)
def test_a_registry_base_with_indexes_put_after_kept_picks_is_called_as_stock_calls_it(strategy):
    """The group read's idle verdict (hunt20, route21a: no ``_indexes`` descriptor in
    ``HostRegistry``'s MRO) was kept on dict tags: a base holding an ``_indexes``
    property put into its bases later was called by stock's read once a pick, never by
    ours.  The verdict now keeps the registry's and the views' MROs, compared per pick.
    (``HostedIndexes`` derives from ``object`` alone: its bases cannot be assigned.)"""
    from litellm.router_rust.surface.registry import HostRegistry

    def script(router, pick):
        out = [pick(i) for i in range(3)]
        calls = []

        def indexes(self):
            calls.append(1)
            return self.__dict__["_indexes"]

        undo = _with_base(HostRegistry, {"_indexes": property(indexes)})
        try:
            out += [pick(10 + i) for i in range(3)]
        finally:
            undo()
        return out, len(calls)

    assert H._lockstep(strategy, script)[1] >= 3


def _attribute_reads_of(name, make_reads):
    def __getattribute__(self, attribute):
        if attribute == name:
            make_reads.append(attribute)
        return super(type(self).__mro__[1], self).__getattribute__(attribute)
    return __getattribute__


@pytest.mark.parametrize("strategy, name", (("least-busy", "async_get_available_deployments"),
                                            ("usage-based-routing-v2", "async_get_available_deployments"),
                                            ("usage-based-routing-v2", "usage_counter_keys")))
def test_a_selector_base_with_an_attribute_hook_sees_the_pick_methods_read(strategy, name):
    """The strategy answer's inline least-busy call and the fused v2 pick checked the
    selector class's ``__getattribute__`` only in memos kept on dict tags: a base with an
    attribute hook put into the handler's bases later saw stock's read of the pick
    method, not ours (both now check it per pick).  (Other attributes the selectors'
    patched helpers read directly are not covered: docs/routing.md, "Session 22 hunt".)"""
    def script(router, pick):
        out = [pick(i) for i in range(3)]
        reads = []
        klass = type(router._core._selectors._default)
        old = klass.__bases__
        hook = _attribute_reads_of(name, reads)
        klass.__bases__ = (type("Inserted", (old[0],), {"__getattribute__": hook}),) + old[1:]
        try:
            out += [pick(10 + i) for i in range(3)]
        finally:
            klass.__bases__ = old
        return out, len(reads)

    assert H._lockstep(strategy, script)[1] >= 3
