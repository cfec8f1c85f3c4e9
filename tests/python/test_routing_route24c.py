"""Session 24 (route24c): ``RustCore._strategy_inputs`` on the shared pick path
(docs/routing.md, "Session 24 (route24c)").

* ``str(value)`` of the step's strategy, scope, group and model skipped for an
  exact str (the value itself); a str subclass or any other object has its
  ``__str__`` called, in LiteLLM's order.
* The read-only verdict a closure; the shared list handed out again without
  looking up the record cache (read only when a record is read).

Each case runs LiteLLM's function and ours on the same core, in lockstep.
"""
from __future__ import annotations

import copy
import logging
import types
import warnings
from collections import UserDict

import pytest
from _lockstep import plain_model_list, routing_patches

litellm = pytest.importorskip("litellm")

from fast_litellm.routing import _local_patch  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

SHARED = ["latency-based-routing", "cost-based-routing", "least-busy", "usage-based-routing-v2"]


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


ROUTERS = []


@pytest.fixture(autouse=True)
def retired():
    yield
    while ROUTERS:
        ROUTERS.pop().retire()


def _core(strategy, n=6):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=copy.deepcopy(plain_model_list(n)), routing_strategy=strategy)
    ROUTERS.append(router)
    return router, router._core


def _step(name, **fields):
    step = {"stage": "strategy", "strategy": name, "scope": "default", "group": None, "model": "g",
            "candidates": ["d%d" % i for i in range(6)]}
    step.update(fields)
    return step


def _inputs(core, step, on, request=None):
    with _local_patch.accelerated(on):
        try:
            return core._strategy_inputs(dict(step) if type(step) is dict else step, {} if request is None else request)
        except Exception as exc:  # noqa: BLE001 - compared
            return "%s: %s" % (type(exc).__name__, exc)


CALLS = []


class Noisy(str):
    """A str whose ``__str__`` is recorded and may answer another text."""

    def __new__(cls, text, answer=None):
        value = super().__new__(cls, text)
        value.answer = text if answer is None else answer
        return value

    def __str__(self):
        CALLS.append(("str", str.__str__(self), self.answer))
        return self.answer


class Plain(str):
    """A str subclass of its own: ``str(value)`` is an exact str copy."""


class Named:
    def __init__(self, text):
        self.text = text

    def __str__(self):
        CALLS.append(("Named", self.text))
        return self.text


def _variants(strategy):
    return {
        "strategy noisy": {"strategy": Noisy(strategy)},
        "strategy answers another": {"strategy": Noisy("simple-shuffle", strategy)},
        "strategy plain subclass": {"strategy": Plain(strategy)},
        "strategy object": {"strategy": Named(strategy)},
        "scope noisy": {"scope": Noisy("default")},
        "scope answers group": {"scope": Noisy("default", "group"), "group": "g"},
        "scope plain subclass": {"scope": Plain("default")},
        "group noisy": {"scope": "group", "group": Noisy("g")},
        "group object": {"scope": "group", "group": Named("g")},
        "model noisy": {"model": Noisy("g", "h")},
        "model plain subclass": {"model": Plain("g")},
        "model int": {"model": 7},
        "all at once": {"strategy": Noisy(strategy), "scope": Noisy("default"), "group": Named("x"),
                        "model": Noisy("g")},
    }


def _shape(out):
    """What a caller sees of the inputs: the types of the strategy and model too."""
    if out is None or isinstance(out, str):
        return out
    strategy, selector, model, candidates = out
    return (type(strategy), strategy, selector, type(model), model, candidates)


@pytest.mark.parametrize("strategy", SHARED + ["simple-shuffle"])
def test_str_subclasses_and_objects_in_the_step_are_converted_as_stock(strategy):
    """Mutation: ``type(x) is not str`` -> ``not isinstance(x, str)`` for any field: a
    subclass's ``__str__`` is not called (the calls differ) or the subclass itself is
    returned / handed to ``selector_for`` (the shapes differ)."""
    _, core = _core(strategy)
    for name, fields in _variants(strategy).items():
        step = _step(strategy, **fields)
        results = []
        for on in (False, True, True):  # (ours twice: the second a kept list, when shared)
            del CALLS[:]
            out = _inputs(core, step, on)
            results.append((_shape(out), list(CALLS)))
        assert results[1] == results[0], name
        assert results[2] == results[0], name


@pytest.mark.parametrize("strategy", SHARED)
def test_registry_writes_between_reads_give_what_stock_reads(strategy):
    """The shared list handed out again only for the same registry version and ids.
    Mutations: drop ``entry[1] == version`` (the record upserted is read stale), drop
    ``same_ids(...)`` (the other ids' list is handed out)."""
    from litellm.types.router import Deployment

    router, core = _core(strategy)

    def both(step):
        stock, fast = _inputs(core, step, False), _inputs(core, step, True)
        assert _shape(fast) == _shape(stock)
        return fast[3]

    step = _step(strategy)
    first = both(step)
    assert both(step) is first  # kept: the same version and ids
    assert [x["model_info"]["id"] for x in both(_step(strategy, candidates=["d3", "d1", "d5"]))] == ["d3", "d1", "d5"]
    assert [x["model_info"]["id"] for x in both(_step(strategy, candidates=["d3", "d1", "d4"]))] == ["d3", "d1", "d4"]
    kept = both(step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router.upsert_deployment(Deployment(model_name="g", model_info={"id": "d1"}, litellm_params={
            "model": "openai/gpt-4o-mini", "api_key": "k", "api_base": "https://changed.example"}))
    after = both(step)
    assert after is not kept
    assert [x["litellm_params"].get("api_base") for x in after if x["model_info"]["id"] == "d1"] == [
        "https://changed.example"]
    assert both(step) is after
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router.delete_deployment("d2")
    both(step)  # (d2's record gone: stock reads {} for it)
    both(_step(strategy, candidates=["d0", "d2", "nope"]))


def test_the_usage_v2_list_is_not_shared_while_its_logger_logs_debug():
    """The read-only verdict's logger check stays per call in the closure.  Mutation: drop
    the ``quiet(logger)`` check (the list kept is handed out while DEBUG is on)."""
    from litellm.router_strategy import lowest_tpm_rpm_v2

    _, core = _core("usage-based-routing-v2")
    step = _step("usage-based-routing-v2")
    first = _inputs(core, step, True)[3]
    assert _inputs(core, step, True)[3] is first
    logger = lowest_tpm_rpm_v2.verbose_router_logger
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        a, b = _inputs(core, step, True)[3], _inputs(core, step, True)[3]
        assert a is not first and b is not a and a == first == b
    finally:
        logger.setLevel(level)
    assert _inputs(core, step, True)[3] is first


def test_non_dict_and_declined_steps_as_before():
    _, core = _core("least-busy")
    for step in (types.MappingProxyType(_step("least-busy")), UserDict(_step("least-busy")),
                 _step("least-busy", candidates=("d0",)), _step("least-busy", records=[{"model_info": {"id": "d0"}}]), _step("least-busy", stage="other")):
        stock, fast = _inputs(core, step, False), _inputs(core, step, True)
        assert _shape(fast) == _shape(stock)
