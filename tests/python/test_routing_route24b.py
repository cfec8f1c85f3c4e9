"""Session 24 (route24b): the pick path every strategy shares (docs/routing.md,
"Session 24 (route24b)").

* The timed pick's service event, ``asyncio.create_task(hook(...))``, made by
  ``RouterCreateTask`` (``protocol_fast.make_service_task``): the running loop read
  without 3.11's ``getpid()`` and ``BaseEventLoop.create_task``'s body (RouterGatherTwo's
  machinery) while ``asyncio.create_task`` is the pinned ``tasks.create_task`` and the
  bindings it reads are the build's; else the function read is called.
"""
from __future__ import annotations

import asyncio
import copy
import os
import sys
import warnings
from asyncio import tasks as tasks_module

import pytest
from _lockstep import plain_model_list, routing_patches, run_seeded, same_minute

litellm = pytest.importorskip("litellm")

from fast_litellm.routing import protocol_fast  # noqa: E402
# (loop classes with their own create_task / _check_closed, recording their calls)
from test_routing_route23a import (_RecordingLoop, forked_while_a_loop_runs, loop_for,  # noqa: E402
                                   reset_loop, vary_loop)

ON_311 = sys.version_info[:2] == (3, 11)


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


def _maker():
    maker = protocol_fast.make_service_task()
    if maker is None:
        pytest.skip("no native RouterCreateTask for this Python")
    return maker


def _task_case(maker, variant, monkeypatch):
    """One ``asyncio.create_task(coro)`` (``maker`` None) or ``maker(asyncio.create_task,
    coro)`` under ``variant``: (outcome, calls seen, the coroutine closed, Tasks made here)."""
    loop, calls = loop_for(variant)

    async def event():
        calls.append(("ran",))
        return "v"

    def make(coro):
        fn = asyncio.create_task
        return fn(coro) if maker is None else maker(fn, coro)

    async def main():
        coro = event()
        with monkeypatch.context() as m:
            vary_loop(loop, variant, calls)
            if variant == "asyncio.create_task replaced":
                stock = asyncio.create_task

                def create_task(c, **kwargs):
                    calls.append(("asyncio.create_task", c.__qualname__))
                    return stock(c, **kwargs)
                m.setattr(asyncio, "create_task", create_task)
            elif variant == "_set_task_name replaced":
                if not hasattr(tasks_module, "_set_task_name"):
                    pytest.skip("asyncio.tasks has no _set_task_name on this Python (3.13+)")
                stock_name = tasks_module._set_task_name

                def set_task_name(task, name):
                    calls.append(("_set_task_name", type(task).__name__, name))
                    return stock_name(task, name)
                m.setattr(tasks_module, "_set_task_name", set_task_name)
            elif variant == "events replaced":
                class Events:
                    @staticmethod
                    def get_running_loop():
                        calls.append(("get_running_loop",))
                        return asyncio.get_running_loop()
                m.setattr(tasks_module, "events", Events)
            made = before = getattr(maker, "made", 0)
            start = len(calls)
            try:
                task = make(coro)
                made = getattr(maker, "made", 0) - before
                # (in debug mode the Task's creation stack, its last entries named)
                stack = [entry.name for entry in (task._source_traceback or [])[-2:]]
                outcome = ("ok", type(task).__name__, task.get_loop() is loop, task.get_coro() is coro, stack,
                           await task)
            except Exception as exc:  # noqa: BLE001 - compared
                outcome = ("raised", type(exc).__name__, str(exc))
            finally:
                seen = calls[start:]
                reset_loop(loop)
        closed = coro.cr_frame is None
        coro.close()
        return outcome, seen, closed, made
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


VARIANTS = ["plain", "class create_task", "class _check_closed", "instance create_task", "task factory", "closed",
            "debug", "class get_debug", "asyncio.create_task replaced", "_set_task_name replaced", "events replaced"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_service_task_is_what_create_task_makes(variant, monkeypatch):
    """The maker against ``asyncio.create_task`` over a loop class or instance with its own
    ``create_task`` / ``_check_closed``, a task factory, a loop marked closed (create_task's
    RuntimeError; the coroutine left unstarted), debug mode (the creation stack), the function
    or the bindings its body reads replaced: the same outcome, calls, creation stack and
    coroutine state; only the plain loop's Task is made here (3.11), every other case is
    ``asyncio.create_task``'s call.  Mutations: the function's identity check
    dropped (fails "asyncio.create_task replaced"), the bindings' check dropped (fails
    "_set_task_name replaced", "events replaced"), the body's guard taken as true (fails the
    loop variants), a declined body made by the loop's ``create_task`` called from C (fails
    "debug": the creation stack lacks ``create_task``'s frame)."""
    maker = _maker()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, stock = _task_case(maker, variant, monkeypatch), _task_case(None, variant, monkeypatch)
    assert ours[:3] == stock[:3]
    if ON_311:
        # (made: Tasks the maker made itself, by the body or the loop's own create_task)
        assert ours[3] == (1 if variant == "plain" else 0), ours


def test_service_task_without_a_running_loop_raises_create_tasks_error():
    """No running loop: create_task's RuntimeError, the coroutine left as it was."""
    maker = _maker()

    async def event():
        return None

    outcomes = []
    for make in (lambda c: asyncio.create_task(c), lambda c: maker(asyncio.create_task, c)):
        coro = event()
        with pytest.raises(RuntimeError) as info:
            make(coro)
        outcomes.append((str(info.value), coro.cr_frame is not None))
        coro.close()
    assert outcomes[0] == outcomes[1] == ("no running event loop", True)


def _picks(strategy, accelerated, variant, monkeypatch):
    """Six picks of a fresh router on a fresh loop, with what the variant records:
    (picks, records, random state)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=copy.deepcopy(plain_model_list(4)), routing_strategy=strategy)
    records = []
    loop = _RecordingLoop() if variant == "class create_task" else asyncio.SelectorEventLoop()
    _RecordingLoop.calls = records
    with monkeypatch.context() as m:
        if variant == "task factory":
            def factory(loop_, c, **kwargs):
                records.append(("factory", c.__qualname__))
                return asyncio.Task(c, loop=loop_, **kwargs)
            loop.set_task_factory(factory)
        elif variant == "_set_task_name replaced":
            if not hasattr(tasks_module, "_set_task_name"):
                pytest.skip("asyncio.tasks has no _set_task_name on this Python (3.13+)")
            stock_name = tasks_module._set_task_name

            def set_task_name(task, name):
                records.append(("_set_task_name", task.get_coro().__qualname__, name))
                return stock_name(task, name)
            m.setattr(tasks_module, "_set_task_name", set_task_name)

        async def run():
            out = []
            for _ in range(6):
                picked = await router.async_get_available_deployment(model="g", request_kwargs={})
                out.append(picked["model_info"]["id"])
                await asyncio.sleep(0)
            return out
        picks, state = run_seeded(loop, run, accelerated, 24)
    return picks, records, state


@pytest.mark.parametrize("strategy", ["least-busy", "usage-based-routing-v2"])
@pytest.mark.parametrize("variant", ["plain", "task factory", "class create_task", "_set_task_name replaced"])
def test_timed_picks_schedule_the_service_event_as_stock(strategy, variant, monkeypatch):
    """Stock and accelerated picks in lockstep (same seed) on a loop with a task factory, a
    loop class with its own create_task, or ``tasks._set_task_name`` replaced: the same picks,
    the same Tasks asked for (the service event's among them) and the same ``random`` state.
    Mutations: as above (the factory and class variants fail with the body's guard taken as
    true; "_set_task_name replaced" with the bindings' check dropped)."""
    same_minute()
    stock = _picks(strategy, False, variant, monkeypatch)
    ours = _picks(strategy, True, variant, monkeypatch)
    assert ours == stock
    if variant != "plain":
        assert any("async_service_success_hook" in str(r) for r in stock[1]), stock[1]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_service_task_in_a_forked_child_raises_as_create_task_does():
    """A child forked while the parent's loop runs (gunicorn --preload's workers are forked
    so): the parent's running-loop holder is inherited, and 3.11's ``create_task`` finds no
    running loop there (the holder's pid is the parent's), so must the maker, which learnt
    the holder in the parent.  Mutation: the fork generation not compared in
    RouterGatherTwo's read (the Task made on the parent's loop object: fails)."""
    maker = _maker()

    async def event():
        return None

    async def in_parent():
        task = maker(asyncio.create_task, event())  # the holder learnt here
        await task

    def in_child():
        verdicts = []
        for make in (lambda c: asyncio.create_task(c), lambda c: maker(asyncio.create_task, c)):
            coro = event()
            try:
                make(coro)
                verdicts.append("made")
            except RuntimeError as exc:
                verdicts.append(str(exc))
            coro.close()
        return "|".join(verdicts)
    verdict = forked_while_a_loop_runs(in_parent, in_child)
    assert verdict == "no running event loop|no running event loop", verdict
