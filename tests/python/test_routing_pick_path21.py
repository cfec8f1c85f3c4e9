"""Session 21 (route21b): the shared pick path.

* A pydantic guard refused for a deferred validator (pydantic's mock where the
  compiled validator will be) looks again as soon as that entry moves, not a
  ``LOOK_AGAIN_SECONDS`` later (the router service event's payload class is
  ``defer_build``: its fast path used to decline for a process's first
  second).  Fails with the watch ignored (the time-based look only).
* The fused pick's ``core._refuse_deleted_reads(...)`` answered inline while
  the core's ``_deleted`` is an empty frozenset: a deleted setting raises
  stock's error (fails with the emptiness check dropped), a wrapper on the
  class or the instance sees stock's calls (fails with the memo's class check
  or the instance-dict check dropped).
* The strategy step's ``_pick_answer`` made inline for a plain pick: a
  wrapper on ``_pick_answer`` / ``picked_id`` / ``as_str_mapping`` where
  LiteLLM's code reads them sees stock's calls (fails with the per-call
  ``_pick_answer`` identity check, or the memo's ``picked_id`` /
  ``as_str_mapping`` checks, dropped); picks and ``random`` state as stock's.
"""
from __future__ import annotations

import asyncio
import random
import sys
import types
import warnings

import pytest
from _lockstep import routing_patches

import test_routing_protocol as T
from fast_litellm.routing import _local_patch, _pydantic_guard

litellm = pytest.importorskip("litellm")
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

STRATEGIES = ("least-busy", "latency-based-routing", "cost-based-routing", "usage-based-routing-v2",
              "simple-shuffle")


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


def _picks(strategy, on, requests=({}, {"litellm_call_id": "c"}, {"metadata": {}}), prepare=None):
    """(picked ids or the error raised (type, message, where), then the coroutine names
    of the Tasks each pick made; random state) of ``requests`` on a fresh Router,
    accelerated or not."""
    with _local_patch.accelerated(on):  # built as after import fast_litellm: the twin handle
        router = T._router(routing_strategy=strategy)
    if prepare is not None:
        prepare(router)
    random.seed(21)
    got = []
    tasks = []  # the coroutine names of the Tasks each pick's loop made (a task factory sees them)

    def factory(loop, coro, **kwargs):
        tasks.append(getattr(coro, "__qualname__", type(coro).__name__))
        return asyncio.Task(coro, loop=loop, **kwargs)

    with _local_patch.accelerated(on), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for request in requests:
            async def pick():
                return await router._core.select("g", dict(request))
            loop = asyncio.new_event_loop()
            loop.set_task_factory(factory)
            try:
                got.append(loop.run_until_complete(pick())["model_info"]["id"])
            except Exception as exc:  # noqa: BLE001 - compared with stock's
                tb = exc.__traceback__
                while tb.tb_next is not None:
                    tb = tb.tb_next
                # (where LiteLLM raised it: the innermost frame)
                got.append((type(exc), str(exc), tb.tb_frame.f_code.co_name))
            finally:
                loop.run_until_complete(asyncio.sleep(0))  # (the service event's task runs)
                loop.close()
            got.append(list(tasks))
            tasks.clear()
    router.retire()
    return got, random.getstate()


# ---- the guard's watch ---------------------------------------------------------

def _deferred_model_module():
    """A module holding a pydantic model with a deferred validator (as LiteLLM's
    ``ServiceLoggerPayload``), registered in ``sys.modules``."""
    import pydantic

    module = types.ModuleType("fl_test_deferred_model")

    class Payload(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(defer_build=True)
        x: int = 0

    Payload.__module__ = module.__name__
    module.Payload = Payload
    sys.modules[module.__name__] = module
    return module


def test_a_deferred_validator_is_looked_at_again_once_built(monkeypatch):
    """Refused while the validator is pydantic's mock (no look again while it is: the
    part is not run), stock at the first check after the first validation built it,
    with no time passed."""
    clock = [500.0]
    monkeypatch.setattr(_pydantic_guard.time, "monotonic", lambda: clock[0])
    module = _deferred_model_module()
    try:
        looked = []

        def part():
            looked.append(1)
            return _pydantic_guard.model(module.__name__, "Payload", ("__init__",))

        guard = _pydantic_guard.Guard((part,))
        assert guard.check() is False and guard.check() is False
        assert looked == [1]  # the watched mock holds: not looked at again
        module.Payload(x=1)  # the first validation builds the validator
        assert guard.check() is True and looked == [1, 1]
        assert guard.check() is True and looked == [1, 1]  # the native check from now on
    finally:
        sys.modules.pop(module.__name__, None)


def test_a_refusal_without_a_watch_still_waits(monkeypatch):
    """A replacement (no watch) is looked at again only after ``LOOK_AGAIN_SECONDS``."""
    clock = [700.0]
    monkeypatch.setattr(_pydantic_guard.time, "monotonic", lambda: clock[0])
    looked = []
    holder = {"x": 1}

    def part():
        looked.append(1)
        if holder["x"] != 2:
            raise _pydantic_guard.NotStock("replaced")
        return [(holder, "x", 2)]

    guard = _pydantic_guard.Guard((part,))
    holder["x"] = 2
    assert guard.check() is False and looked == [1]
    clock[0] += _pydantic_guard.LOOK_AGAIN_SECONDS
    assert guard.check() is True and looked == [1, 1]


def test_a_watch_that_moved_to_another_refusal_waits_again(monkeypatch):
    """The watched entry moved but the part is still not stock for another reason:
    one look, then the time-based wait (no look a call)."""
    clock = [900.0]
    monkeypatch.setattr(_pydantic_guard.time, "monotonic", lambda: clock[0])
    holder = {"v": "mock"}
    looked = []

    def part():
        looked.append(1)
        if holder["v"] == "mock":
            raise _pydantic_guard.NotStock("deferred", (holder, "v", "mock"))
        raise _pydantic_guard.NotStock("replaced")

    guard = _pydantic_guard.Guard((part,))
    assert guard.check() is False and guard.check() is False and looked == [1]
    holder["v"] = "built"
    assert guard.check() is False and looked == [1, 1]
    assert guard.check() is False and looked == [1, 1]


def test_the_service_payload_guard_is_stock_in_a_fresh_process():
    """In a fresh process the router service event's fast path serves from the
    first pick after the payload class was first built (it declined for the
    process's first second): no ``ServiceLoggerPayload`` validation in later picks."""
    import subprocess

    code = r"""
import asyncio, warnings, sys
import litellm
from fast_litellm.routing import _local_patch, _pydantic_guard
_local_patch.install()
warnings.simplefilter("ignore")
router = litellm.Router(model_list=[{"model_name": "g", "litellm_params": {"model": "openai/x", "api_key": "k"},
                                     "model_info": {"id": "d%d" % i}} for i in range(3)],
                        routing_strategy="least-busy")
from litellm.types.services import ServiceLoggerPayload
built = []
post_init = ServiceLoggerPayload.model_post_init.__code__
def trace(frame, event, arg):  # (a profile hook: the class is not touched, its guard would see it)
    if event == "call" and frame.f_code is post_init:
        built.append(1)
async def picks(n):
    for _ in range(n):
        await router.async_get_available_deployment(model="g", request_kwargs={})
with _local_patch.accelerated(True):
    loop = asyncio.new_event_loop()
    loop.run_until_complete(picks(3))
    sys.setprofile(trace)
    try:
        loop.run_until_complete(picks(5))
    finally:
        sys.setprofile(None)
print("BUILT", len(built), ServiceLoggerPayload.__pydantic_complete__)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "BUILT 0 True" in out.stdout, out.stdout + out.stderr


# ---- the deleted-reads check -----------------------------------------------------

@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("deleted", ["num_retries", "model_group_alias"])
def test_a_deleted_setting_raises_as_stock(strategy, deleted):
    def prepare(router):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            delattr(router, deleted)

    stock = _picks(strategy, False, prepare=prepare)
    ours = _picks(strategy, True, prepare=prepare)
    assert stock == ours
    # a deleted model_group_alias refuses each pick (the check matters); a deleted
    # num_retries does not (select hands LiteLLM's check {"num_retries": 0})
    assert all((type(got) is tuple) is (deleted == "model_group_alias") for got in stock[0][::2])


def test_deleted_reads_plainly_picks_as_stock():
    for strategy in STRATEGIES:
        assert _picks(strategy, False) == _picks(strategy, True)


@pytest.mark.parametrize("where", ["class", "instance"])
def test_a_wrapped_deleted_reads_check_sees_stocks_calls(monkeypatch, where):
    from litellm.router_rust.core import RustCore

    method = RustCore._refuse_deleted_reads
    seen = []

    def recording(self, request):
        seen.append(dict(request))
        return method(self, request)

    outs = []
    for on in (False, True):
        seen.clear()
        if where == "class":
            monkeypatch.setattr(RustCore, "_refuse_deleted_reads", recording)
            prepare = None
        else:
            def prepare(router):
                router._core.__dict__["_refuse_deleted_reads"] = types.MethodType(recording, router._core)
        try:
            picked = _picks("least-busy", on, prepare=prepare)
        finally:
            monkeypatch.undo()
        outs.append((picked, list(seen)))
    assert outs[0] == outs[1] and len(outs[0][1]) == 3


# ---- the pick answer ------------------------------------------------------------------

@pytest.mark.parametrize("strategy", ["least-busy", "latency-based-routing", "cost-based-routing",
                                      "usage-based-routing-v2"])
@pytest.mark.parametrize("where", ["core._pick_answer", "core.picked_id", "selection.as_str_mapping"])
def test_a_wrapped_pick_answer_helper_sees_stocks_calls(monkeypatch, strategy, where):
    from litellm.router_rust import core
    from litellm.router_rust.steps import selection

    module, name = {"core": core, "selection": selection}[where.split(".")[0]], where.split(".")[1]
    function = getattr(module, name)
    seen = []

    def recording(*args):
        seen.append(len(args))
        return function(*args)

    outs = []
    for on in (False, True):
        seen.clear()
        monkeypatch.setattr(module, name, recording)
        try:
            picked = _picks(strategy, on)
        finally:
            monkeypatch.undo()
        outs.append((picked, list(seen)))
    assert outs[0] == outs[1] and outs[0][1]


def test_the_pick_answer_is_made_inline():
    """The inline answer is taken for a plain pick (no ``_pick_answer`` call), so the
    wrapped-helper tests above test its guard."""
    from litellm.router_rust import core

    calls = []
    function = core._pick_answer

    def trace(frame, event, arg):
        if event == "call" and frame.f_code is function.__code__:
            calls.append(1)

    for on in (False, True):
        calls.clear()
        sys.setprofile(trace)
        try:
            _picks("least-busy", on)
        finally:
            sys.setprofile(None)
        assert (len(calls) == 0) is on, (on, calls)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_odd_deployments_pick_as_stock(strategy):
    """Ids that are not exact strs, a model_info that is not a dict, a str-subclass key:
    LiteLLM's _pick_answer (picks, errors and random state as stock's)."""
    class Key(str):
        pass

    for mutate in (lambda d: d["model_info"].__setitem__(Key("extra"), 1),
                   lambda d: d.__setitem__(Key("extra"), 1)):
        saved = [dict(d, model_info=dict(d["model_info"])) for d in T.MODEL_LIST]
        try:
            for d in T.MODEL_LIST:
                mutate(d)
            assert _picks(strategy, False) == _picks(strategy, True)
        finally:
            T.MODEL_LIST[:] = saved


# ---- the strategy answer's picks_async ----------------------------------------------

@pytest.mark.parametrize("where", ["instance", "class"])
@pytest.mark.parametrize("strategy", ["least-busy", "latency-based-routing"])
def test_a_wrapped_picks_async_sees_stocks_calls(monkeypatch, where, strategy):
    """``core._picks_async()`` (whether the pick is timed) answered inline only while the
    method is LiteLLM's on the class and not shadowed on the instance: a recording
    wrapper sees stock's calls (the set-up's and the strategy answer's)."""
    from litellm.router_rust.core import RustCore

    method = RustCore._picks_async
    seen = []

    def recording(self):
        seen.append(1)
        return method(self)

    outs = []
    for on in (False, True):
        seen.clear()

        def prepare(router):
            if where == "instance":
                router._core.__dict__["_picks_async"] = types.MethodType(recording, router._core)

        if where == "class":
            monkeypatch.setattr(RustCore, "_picks_async", recording)
        try:
            picked = _picks(strategy, on, prepare=prepare)
        finally:
            monkeypatch.undo()
        outs.append((picked, len(seen)))
    assert outs[0] == outs[1] and outs[0][1] >= 3


def test_an_enum_strategy_picks_as_stock():
    """A routing strategy held as LiteLLM's ``RoutingStrategy`` (not an exact str):
    LiteLLM's ``_picks_async`` answers; picks and ``random`` state as stock's."""
    from litellm.types.router import RoutingStrategy

    def prepare(router):
        resolved = router._core._resolved
        try:
            object.__setattr__(resolved, "routing_strategy", RoutingStrategy.LEAST_BUSY)
        except Exception:  # noqa: BLE001 - an immutable settings object: nothing to test here
            pytest.skip("the resolved settings cannot hold an enum")

    assert _picks("least-busy", False, prepare=prepare) == _picks("least-busy", True, prepare=prepare)


@pytest.mark.parametrize("strategy", ["least-busy", "latency-based-routing", "usage-based-routing-v2"])
def test_a_wrapped_pick_reserves_sees_stocks_calls(monkeypatch, strategy):
    """The strategy answer reads ``pick_reserves``' context variable itself only while the
    core module binds LiteLLM's function: a wrapper bound there sees stock's calls and
    answers (here the opposite of the context variable: reservations made or not, as stock)."""
    from litellm.router_rust import core

    function = core.pick_reserves
    seen = []

    def recording(default):
        seen.append(default)
        return not function(default)

    outs = []
    for on in (False, True):
        seen.clear()
        monkeypatch.setattr(core, "pick_reserves", recording)
        try:
            picked = _picks(strategy, on, requests=({"litellm_call_id": "a"}, {"metadata": {}}, {}))
        finally:
            monkeypatch.undo()
        outs.append((picked, list(seen)))
    assert outs[0] == outs[1] and outs[0][1]
