"""Session 24 hunt: stop 23's routing fast paths attacked the way a user's
program could (docs/routing.md, "Session 24 (hunt24)").  Stock and
accelerated routers, each built with its own side's switch (the accelerated
one's picks on the twin handle), run the same seeded picks in lockstep."""
from __future__ import annotations

import asyncio
import copy
import functools
import inspect
import random
import sys
import warnings

import pytest

litellm = pytest.importorskip("litellm")

from _lockstep import routing_patches  # noqa: E402

from fast_litellm.routing import _local_patch, patches, shadow_handle  # noqa: E402

MODEL_LIST = [{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"},
               "model_info": {"id": "d%d" % i}} for i in range(4)]


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


def _router(accelerated, **kwargs):
    with warnings.catch_warnings(), _local_patch.accelerated(accelerated):
        warnings.simplefilter("ignore")
        return litellm.Router(model_list=copy.deepcopy(MODEL_LIST), **kwargs)


def _picks(router, accelerated, n=3):
    out = []
    with _local_patch.accelerated(accelerated), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(n):
            random.seed(i)
            try:
                out.append(asyncio.run(router.async_get_available_deployment("g", {}))["model_info"]["id"])
            except Exception as exc:  # noqa: BLE001 - compared
                out.append((type(exc).__name__, str(exc)))
            out.append(random.getstate())
    return out


# ---- the picker's standard-library calls ---------------------------------------

_REPLACED = {
    "functools.wraps": (functools, "wraps"),
    "functools.update_wrapper": (functools, "update_wrapper"),
    "inspect.ismethod": (inspect, "ismethod"),
}


@pytest.mark.parametrize("replaced", sorted(_REPLACED))
@pytest.mark.parametrize("strategy", ["simple-shuffle", "least-busy"])
def test_a_replaced_functools_wraps_or_ismethod_sees_the_pickers_calls(monkeypatch, strategy, replaced):
    """``router.async_get_available_deployment`` is LiteLLM's ``_unreserved_picker``,
    which calls ``inspect.ismethod`` and ``functools.wraps`` (so ``update_wrapper``)
    at every read; the fast picker builds the same closures without those calls.
    A user's recorder put on one of them (an instrumentation library's wrapper)
    saw a call a pick from stock and none from ours: the picker now declines
    while they are not the standard library's.  (Fails with the check in
    ``_unreserved_picker`` removed: ours records no call; the check
    comes before both the native maker and the Python lines.)"""
    module, name = _REPLACED[replaced]
    outcomes = []
    for accelerated in (False, True):
        router = _router(accelerated, routing_strategy=strategy)
        _picks(router, accelerated, 1)  # warm: first-use imports (their own wraps calls) outside the record
        calls = []
        real = getattr(module, name)

        def recorder(*args, real=real, calls=calls, **kwargs):
            caller = sys._getframe(1).f_globals.get("__name__")
            calls.append(caller)
            return real(*args, **kwargs)

        with monkeypatch.context() as patch:
            patch.setattr(module, name, recorder)
            picks = _picks(router, accelerated)
        outcomes.append((picks, [c for c in calls if c and c.startswith("litellm")]))
    stock, fast = outcomes
    assert stock[1] == ["litellm.router_deprecated"] * 3  # the test's own check: stock calls it each pick
    assert fast == stock


def test_the_picker_is_fast_again_once_the_bindings_are_restored():
    """The check is per call: with the standard library's functions back, the
    accelerated picker serves (no call to LiteLLM's ``_unreserved_picker``)."""
    router = _router(True)
    seen = []
    target = next(p.target for p in patches.PATCHES if p.name == "routing.unreserved_picker")
    original = _local_patch._original_of(*_local_patch._owner(target))

    def profile(frame, event, arg):
        if event == "call" and frame.f_code is original.__code__:
            seen.append(1)
    sys.setprofile(profile)
    try:
        _picks(router, True, 2)
    finally:
        sys.setprofile(None)
    assert seen == []


# ---- twin coverage ------------------------------------------------------------------

def test_a_router_built_after_the_switch_picks_on_the_twin():
    """The lockstep files build their accelerated routers with the switch on (as
    a router made after ``import fast_litellm``): the picks run on the twin."""
    router = _router(True)
    before = dict(shadow_handle.STATS)
    _picks(router, True, 5)
    assert shadow_handle.STATS["picks"] - before["picks"] == 5
    assert shadow_handle.STATS["stage_steps"] == before["stage_steps"]


def _lockstep_helpers():
    """One accelerated lockstep helper of each file changed (cheap ones), and the
    twin picks it makes: its router built under the switch as the file builds it."""
    import test_routing_faults as faults
    import test_routing_latency_checks as latency_checks
    import test_routing_least_busy_call_id as call_id
    import test_routing_pick_path21 as pick_path21
    import test_routing_protocol as protocol

    return {
        "protocol": (lambda: protocol._pick_in_lockstep("simple-shuffle", [{}] * 4), 4),
        "least_busy_call_id": (call_id.test_picks_match_stock, len(call_id._requests())),
        "pick_path21": (lambda: pick_path21._picks("least-busy", True), 3),
        "latency_checks": (lambda: latency_checks._picks(latency_checks._router(True), True, [{}, {}]), 2),
        "faults": (lambda: faults._pick(faults._router(faults.LATENCY, accelerated=True), True), 1),
    }


@pytest.mark.parametrize("name", ["protocol", "least_busy_call_id", "pick_path21", "latency_checks", "faults"])
def test_the_lockstep_files_accelerated_picks_run_on_the_twin(name):
    """The session 23 hunt's coverage gap, closed per file: each helper's
    accelerated picks all run on the twin handle (none answered the stage
    inline on LiteLLM's handle).  Mutation: test_routing_protocol._router's
    None default (the switch as the caller set it) back to False: 0 twin picks
    in the files building through it (least_busy_call_id, pick_path21...)."""
    run, picks = _lockstep_helpers()[name]
    before = dict(shadow_handle.STATS)
    run()
    assert shadow_handle.STATS["picks"] - before["picks"] == picks
    assert shadow_handle.STATS["stage_steps"] == before["stage_steps"]
