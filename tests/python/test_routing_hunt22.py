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
