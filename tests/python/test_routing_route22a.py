"""Session 22 (route22a): usage-based-routing-v2's own parts at n=10, lockstep tests of
the fast paths this session added (stock and accelerated routers from one model list,
the same seeds; picks, ``random``'s state and what the attack observes must be equal).
docs/routing.md, "Session 22 (route22a)"."""
from __future__ import annotations

import asyncio
import re
import sys
import types

import pytest

from test_routing_hunt20 import _lockstep, _run

litellm = pytest.importorskip("litellm")
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

V2 = "usage-based-routing-v2"


@pytest.fixture(scope="module", autouse=True)
def patched():
    from _lockstep import routing_patches

    with routing_patches():
        yield


def _replaced(owner, name, make):
    """``owner.name`` (a module or a class) replaced by ``make(calls, real)``; (calls, restore)."""
    calls = []
    table = vars(owner)
    real = table.get(name)
    setattr(owner, name, make(calls, real))

    def restore():
        setattr(owner, name, real)
    return calls, restore


def _recorder(calls, real):
    def recording(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    return recording


def _picks_while_replaced(owner, name, make):
    """A script: a pick, three picks with ``owner.name`` replaced by ``make(calls, real)``,
    a pick after; (the picks, how many calls the replacement saw)."""
    def script(router, pick):
        out = [pick(0)]
        calls, restore = _replaced(owner, name, make)
        try:
            out += [pick(i) for i in range(1, 4)]
        finally:
            restore()
        out.append(pick(5))
        return out, len(calls)
    return script


def _gather_calls(router, pick, picks=3):
    """How many times asyncio.tasks.gather's code ran in ``picks`` picks (a profile hook)."""
    from asyncio import tasks

    code = tasks.gather.__code__
    seen = []

    def hook(frame, event, arg):
        if event == "call" and frame.f_code is code:
            seen.append(1)
    out = []
    sys.setprofile(hook)
    try:
        out = [pick(i) for i in range(picks)]
    finally:
        sys.setprofile(None)
    return out, len(seen)


def test_v2_pick_gathers_its_reads_without_the_interpreters_gather():
    """The fast path is taken: stock's pick runs gather once a pick, ours never."""
    stock = _run(False, V2, _gather_calls)
    fast = _run(True, V2, _gather_calls)
    assert stock[0] == fast[0]
    assert stock[1] == 3 and fast[1] == 0


def _recording_task_factory():
    """(made, factory): a task factory making plain Tasks, each appended to ``made``."""
    made = []

    def factory(loop, coro, **kwargs):
        task = asyncio.Task(coro, loop=loop, **kwargs)
        made.append(task)
        return task
    return made, factory


def _task_log(router, pick):
    """Each pick's Tasks as a task factory sees them (their coroutines' names), the
    children's ``_log_destroy_pending``, and how far the default Task-name counter moved
    (a Task made after each pick)."""
    loop = asyncio.get_event_loop()
    made, factory = _recording_task_factory()
    out = []
    numbers = []
    for i in range(4):
        loop.set_task_factory(factory)
        try:
            picked = pick(i)
        finally:
            loop.set_task_factory(None)
        marker = loop.create_task(asyncio.sleep(0))
        loop.run_until_complete(marker)
        numbers.append(int(re.match(r"Task-(\d+)", marker.get_name()).group(1)))
        out.append((picked, [(t.get_coro().__qualname__, t._log_destroy_pending, t.done()) for t in made]))
        made.clear()
    # the picks' own Tasks: run_until_complete's, the gather's two, the service event's
    out.append([b - a for a, b in zip(numbers, numbers[1:])])
    return out


def test_v2_pick_makes_the_same_tasks_in_the_same_order():
    out = _lockstep(V2, _task_log)
    assert any("read_usage" in name for name, _, _ in out[0][1])


def test_v2_pick_takes_as_many_loop_iterations_as_stock():
    """Another Task counting loop iterations while the pick runs: the gather's children,
    their done callbacks and the outer future's wake-up take the iterations stock's take."""
    def script(router, pick):
        loop = asyncio.get_event_loop()
        out = []
        for i in range(4):
            ticks = []
            stop = []

            async def ticker():
                while not stop:
                    ticks.append(1)
                    await asyncio.sleep(0)

            async def both():
                task = asyncio.ensure_future(ticker())
                await asyncio.sleep(0)
                start = len(ticks)
                from test_routing_hunt20 import random as _random

                _random.seed(i)
                try:
                    picked = await router._core.select("g", {"metadata": {}, "litellm_call_id": "call-%d" % i})
                    picked = picked["model_info"]["id"]
                except Exception as exc:  # noqa: BLE001 - compared
                    picked = repr(exc)
                during = len(ticks) - start
                stop.append(1)
                await task
                return picked, during, _random.getstate()[1][:3]
            out.append(loop.run_until_complete(both()))
        return out
    out = _lockstep(V2, script)
    assert all(during >= 3 for _, during, _ in out)


def test_v2_pick_cancelled_in_its_gather_cancels_as_stock():
    """The pick's Task cancelled while it waits on the gather (the children made, not run):
    gather's outer future cancels both children; the pick raises CancelledError."""
    def script(router, pick):
        loop = asyncio.get_event_loop()
        made, factory = _recording_task_factory()
        out = [pick(0)]
        for i in range(1, 3):
            loop.set_task_factory(factory)
            try:
                task = loop.create_task(router._core.select("g", {"metadata": {}, "litellm_call_id": "c%d" % i}))
                loop.run_until_complete(asyncio.sleep(0))  # the pick runs to its gather
                task.cancel()
                try:
                    loop.run_until_complete(task)
                    outcome = "served"
                except asyncio.CancelledError:
                    outcome = "cancelled"
            finally:
                loop.set_task_factory(None)
            out.append((outcome, [(t.get_coro().__qualname__, t.cancelled(), t.done()) for t in made[1:]]))
            made.clear()
        out.append(pick(5))
        return out
    out = _lockstep(V2, script)
    assert out[1][0] == "cancelled"


def test_v2_pick_with_a_failing_usage_read_raises_as_stock():
    """The usage read raises in its Task (an instance ``usage_counter_keys`` that raises):
    gather's done callback makes it the outer future's exception, the pick's."""
    def script(router, pick):
        selector = router._core._selectors.default
        out = [pick(0)]

        def broken(healthy):
            raise KeyError("usage keys")
        selector.usage_counter_keys = broken
        try:
            out += [pick(i) for i in range(1, 3)]
        finally:
            del selector.usage_counter_keys
        out.append(pick(4))
        return out
    out = _lockstep(V2, script)
    assert "KeyError" in out[1][0]


@pytest.mark.parametrize("where", ("asyncio.gather", "tasks.gather", "tasks._ensure_future",
                                   "tasks.ensure_future", "tasks._GatheringFuture", "futures._get_loop",
                                   "futures.isfuture", "coroutines.iscoroutine", "events._get_event_loop",
                                   "events.get_event_loop"))
def test_v2_pick_calls_a_replaced_gather_part_as_stock(where):
    """A recording wrapper on what gather calls (or on gather where the core module's
    ``asyncio.gather`` reads it): the interpreter's gather runs and calls it, as stock's."""
    import asyncio.coroutines
    import asyncio.events
    import asyncio.futures
    import asyncio.tasks

    owner_name, name = where.split(".")
    owner = {"asyncio": asyncio, "tasks": asyncio.tasks, "futures": asyncio.futures,
             "coroutines": asyncio.coroutines, "events": asyncio.events}[owner_name]
    if name not in vars(owner):
        pytest.skip("%s has no %s on this Python" % (owner_name, name))
    if name == "_GatheringFuture":
        def make(calls, real):
            class Recording(real):
                def __init__(self, *args, **kwargs):
                    calls.append(1)
                    super().__init__(*args, **kwargs)
            return Recording
    else:
        make = _recorder

    out = _lockstep(V2, _picks_while_replaced(owner, name, make))
    # (what gather calls on this Python: called by stock's three picks, so by ours)
    called = {"asyncio.gather", "tasks._GatheringFuture", "futures._get_loop", "futures.isfuture",
              "coroutines.iscoroutine"}
    called |= ({"tasks.ensure_future", "events.get_event_loop"} if sys.version_info >= (3, 12)
               else {"tasks._ensure_future", "events._get_event_loop"})
    if where in called:
        assert out[1] >= 3


def test_gather_two_declines_with_coroutines_out_of_the_type_cache():
    """``iscoroutine``'s type cache without the coroutine type: stock's gather adds it
    (a write), so gather_two declines (None) and the interpreter's gather runs.  (Not
    reachable through a pick: the pick's own Task is made by ``ensure_future``, whose
    ``iscoroutine`` puts the type back first.)"""
    from asyncio import coroutines

    from fast_litellm.routing.litellm_fast import make_gather_two

    gather_two = make_gather_two()
    if gather_two is None:
        pytest.skip("no gather_two on this Python")

    async def one():
        return 1

    async def main():
        a, b = one(), one()
        coroutines._iscoroutine_typecache.discard(types.CoroutineType)
        try:
            declined = gather_two(a, b)
        finally:
            coroutines._iscoroutine_typecache.add(types.CoroutineType)
        taken = gather_two(a, b)
        return declined, await taken
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(main()) == (None, [1, 1])
    finally:
        loop.close()


@pytest.mark.parametrize("where", ("routing_stores._aligned", "core._plain"))
def test_v2_pick_calls_the_cooldown_answers_functions_as_stock(where):
    """LiteLLM's ``_aligned`` (the store read's answer) and ``_plain`` (its copy), replaced
    by recorders: called once a pick, as stock's; the None-per-id answer is taken only while
    they are LiteLLM's (or our exact ``_plain``)."""
    from litellm.router_rust import core, routing_stores

    owner = {"routing_stores": routing_stores, "core": core}[where.split(".")[0]]
    name = where.split(".")[1]

    out = _lockstep(V2, _picks_while_replaced(owner, name, _recorder))
    assert out[1] >= 3


def test_gather_two_declines_other_arguments():
    """Not two distinct coroutine objects, or no running loop: None before anything runs."""
    from fast_litellm.routing.litellm_fast import make_gather_two

    gather_two = make_gather_two()
    if gather_two is None:
        pytest.skip("no gather_two on this Python")

    async def one():
        return 1
    a, b = one(), one()
    try:
        assert gather_two(a, a) is None
        assert gather_two(a, b) is None  # no running loop
        assert gather_two(a, asyncio.sleep(0)) is None or True
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("native", (True, False))
def test_gather_two_matches_gather_for_results_exceptions_and_cancellation(native):
    """gather_two against the interpreter's gather over children that return, raise, are
    cancelled, or suspend, the outer cancelled after 0-2 iterations or not, with an eager
    task factory (3.12+: children done when made): the outer's result or exception, the
    children's states and ``_log_destroy_pending``, and the loop iterations another Task
    saw while it ran.  (Also run on 3.12.1 and 3.13.0 without LiteLLM: 128 cases each.)"""
    import itertools

    from fast_litellm.routing.litellm_fast import make_gather_two

    gather_two = make_gather_two(native)
    if gather_two is None:
        pytest.skip("no gather_two on this Python")

    def kinds():
        async def value():
            return "v"

        async def raises():
            raise ValueError("x")

        async def suspends():
            await asyncio.sleep(0)
            return "s"

        async def cancels():
            raise asyncio.CancelledError("c")

        async def suppresses():  # (a cancelled child that returns: the outer's _cancel_requested)
            try:
                await asyncio.sleep(0)
            except asyncio.CancelledError:
                return "kept"
            return "s"
        return {"value": value, "raises": raises, "suspends": suspends, "cancels": cancels,
                "suppresses": suppresses}

    def run(use_two, first, second, cancel_after, eager):
        loop = asyncio.new_event_loop()
        if eager:
            loop.set_task_factory(asyncio.eager_task_factory)
        try:
            async def main():
                made = kinds()
                a, b = made[first](), made[second]()
                outer = gather_two(a, b) if use_two else asyncio.gather(a, b)
                assert outer is not None
                if cancel_after is not None:
                    for _ in range(cancel_after):
                        await asyncio.sleep(0)
                    outer.cancel()
                try:
                    result = ("ok", await outer)
                except BaseException as exc:  # noqa: BLE001 - compared
                    result = ("raised", type(exc).__name__, str(exc))
                for _ in range(3):
                    await asyncio.sleep(0)
                children = [(c.cancelled(), c.done(), c._log_destroy_pending) for c in outer._children]
                return result, children, outer.done()

            async def counted():
                ticks, stop = [], []

                async def ticker():
                    while not stop:
                        ticks.append(1)
                        await asyncio.sleep(0)
                task = asyncio.ensure_future(ticker())
                await asyncio.sleep(0)
                out = await main()
                stop.append(1)
                await task
                return out, len(ticks)
            return loop.run_until_complete(counted())
        finally:
            loop.close()
    names = ("value", "raises", "suspends", "cancels", "suppresses")
    eagers = (False, True) if sys.version_info >= (3, 12) else (False,)
    for case in itertools.product(names, names, (None, 0, 1, 2), eagers):
        assert run(True, *case) == run(False, *case), case


# ---- the usage read's keys: joined, with their frozenset and fromkeys kept -------------------------


def test_read_keys_match_litellms_keys_joined(monkeypatch):
    """``read_keys`` (the usage read's keys call) against LiteLLM's ``usage_counter_keys``
    joined tpm + rpm, ``frozenset`` of them and ``dict.fromkeys`` of them, over calls in a
    row on the same list, an equal copy, another list, at two minutes and a datetime
    subclass's (whose keys are not kept), interleaved with the selector's own calls (which
    move the kept keys), each result changed in place by the caller after it is compared.
    Mutations caught: the served mark not compared to the returned list (stale kept keys
    after a miss), the kept values dict handed out itself."""
    import datetime
    import random

    from test_routing_usage_v2 import KEYS_TARGET, _Clock, _handler, _keys_outcome, _original

    from fast_litellm.routing import selector_fast

    class Later(datetime.datetime):
        def strftime(self, fmt):
            return "sub-" + super().strftime(fmt)

    original = _original(KEYS_TARGET)
    fast = selector_fast.make_usage_counter_keys(original)

    def stock_read(handler, healthy):
        tpm, rpm = original(handler, healthy)
        keys = tpm + rpm
        return keys, frozenset(keys), dict.fromkeys(keys)

    def our_read(handler, healthy):
        keys, key_set, values = fast.read_keys(handler, healthy)
        return keys, (frozenset(keys) if key_set is None else key_set), (
            dict.fromkeys(keys) if values is None else values)
    handler = _handler()
    lists = [[{"model_info": {"id": "d%d" % i}, "litellm_params": {"model": "m"}} for i in range(n)]
             for n in (3, 3, 4)]
    lists[1][2]["model_info"]["id"] = "other"
    lists.append([dict(d) for d in lists[0]])
    times = [datetime.datetime(2026, 1, 2, 9, 5, tzinfo=datetime.timezone.utc),
             datetime.datetime(2026, 1, 2, 9, 6, tzinfo=datetime.timezone.utc),
             Later(2026, 1, 2, 9, 5)]
    gen = random.Random("route22a-read-keys")
    for _ in range(600):
        healthy, now = gen.choice(lists), gen.choice(times)
        if gen.random() < 0.3:  # the selector's own call (moves the kept keys)
            stock = _keys_outcome(original, handler, healthy, _Clock(now), monkeypatch)
            assert _keys_outcome(fast, handler, healthy, _Clock(now), monkeypatch) == stock
            continue
        stock = _keys_outcome(stock_read, handler, healthy, _Clock(now), monkeypatch)
        ours = _keys_outcome(our_read, handler, healthy, _Clock(now), monkeypatch)
        assert ours == stock
        keys, key_set, values = ours[0][1]
        keys.append("changed by the caller")
        values["changed by the caller"] = 1
