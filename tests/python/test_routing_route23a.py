"""Session 23 (route23a): usage-based-routing-v2's own parts at n=10 (docs/routing.md,
"Session 23 (route23a)").  The v2 gather's ``gather_two`` in C (``RouterGatherTwo``: its
comparison with the interpreter's gather is test_routing_route22a's, run on the native
and the Python twin) and its running-loop read without 3.11's ``getpid()``."""
from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

_asyncio = pytest.importorskip("_asyncio")
litellm = pytest.importorskip("litellm")

import test_routing_usage_read as _usage_read  # noqa: E402

# the usage read's module's marks, and its fixture installing the routing patches (as
# test_routing_usage_v2_pick takes them)
pytestmark = _usage_read.pytestmark
patched = _usage_read.patched


def _gather_two():
    from fast_litellm.routing.litellm_fast import make_gather_two

    gather_two = make_gather_two()
    if gather_two is None or not hasattr(gather_two, "running_loop"):
        pytest.skip("no native gather_two on this Python")
    return gather_two


def _both(gather_two):
    """(ours, the interpreter's) running loop, read one after the other."""
    return gather_two.running_loop(), _asyncio._get_running_loop()


def _loop_in_a_thread(body):
    """A started thread running ``asyncio.run(body())``."""
    thread = threading.Thread(target=lambda: asyncio.run(body()))
    thread.start()
    return thread


def forked_while_a_loop_runs(in_parent, in_child):
    """``in_child()``'s verdict (a str, or ``error ...``) in a child forked while a loop runs
    in this process, after ``await in_parent()`` there (gunicorn --preload forks so); the
    child leaves without running anything else."""
    async def run():
        await in_parent()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report, then leave
            try:
                verdict = in_child()
            except BaseException as exc:  # noqa: BLE001 - reported
                verdict = "error %r" % (exc,)
            os.write(write, verdict.encode())
            os._exit(0)
        os.close(write)
        os.waitpid(pid, 0)
        with os.fdopen(read) as reader:
            return reader.read()
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(run())
    finally:
        loop.close()


def test_running_loop_is_the_interpreters_answer_across_loops_and_threads():
    gather_two = _gather_two()
    seen = [_both(gather_two)]  # no loop

    async def inside():
        return [_both(gather_two), _both(gather_two)]  # (the second from what the first learnt)

    for _ in range(2):  # a loop, then another one in the same thread
        loop = asyncio.new_event_loop()
        try:
            seen += loop.run_until_complete(inside())
        finally:
            loop.close()
        seen.append(_both(gather_two))  # after the loop stopped: its holder says None
    if sys.version_info[:2] == (3, 11):
        assert gather_two.holder_type is not None and gather_two.holder_type.__name__ == "_RunningLoopHolder"

    # another thread's loop, and this thread's read in between (its own holder)
    other = []
    ready, go_on = threading.Event(), threading.Event()

    async def main():
        other.append(_both(gather_two))
        ready.set()
        go_on.wait(10)
        other.append(_both(gather_two))
    thread = _loop_in_a_thread(main)
    ready.wait(10)
    seen.append(_both(gather_two))
    go_on.set()
    thread.join(10)
    seen += other
    for ours, theirs in seen:
        assert ours is theirs
    assert seen[1][0] is not None and other[0][0] is not None and seen[-3][0] is None


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_running_loop_in_a_forked_child_is_the_interpreters_answer():
    """A child forked while the parent's loop runs inherits the parent's holder (its pid the
    parent's): 3.11's get_running_loop answers None there, so must ours, also once a thread
    of the child has had a loop of its own read.  Mutations: the fork generation not
    compared, the holder's pid not compared - each answers the parent's loop."""
    gather_two = _gather_two()

    async def in_parent():
        assert gather_two.running_loop() is asyncio.get_running_loop()  # learnt in the parent

    def in_child():
        answers = [_both(gather_two)]

        async def main():
            answers.append(_both(gather_two))
        _loop_in_a_thread(main).join(10)
        answers.append(_both(gather_two))
        return "".join("%d%d" % (ours is None, ours is theirs) for ours, theirs in answers)
    verdict = forked_while_a_loop_runs(in_parent, in_child)
    assert verdict[1::2] == "111", verdict  # each answer the interpreter's
    if sys.version_info[:2] == (3, 11):
        # (the parent's holder in the child's main thread: None, before and after a thread's loop)
        assert verdict == "110111", verdict


# ---- gather_two's Tasks made by BaseEventLoop.create_task's body -------------------------------


class _RecordingLoop(asyncio.SelectorEventLoop):
    calls: list = []

    def create_task(self, coro, **kwargs):
        self.calls.append(("class create_task", coro.__qualname__))
        return super().create_task(coro, **kwargs)


class _CheckingLoop(asyncio.SelectorEventLoop):
    calls: list = []

    def _check_closed(self):
        self.calls.append(("class _check_closed",))
        return super()._check_closed()


def _gather_case(use_two, variant):
    """One gather of two coroutines under ``variant``: (its outcome, the calls seen, whether
    each coroutine was closed unstarted)."""
    gather_two = _gather_two()
    loop, calls = loop_for(variant)

    async def value():
        return "v"

    async def main():
        first, second = value(), value()
        vary_loop(loop, variant, calls)
        made = before = getattr(gather_two, "direct_tasks", 0)
        start = len(calls)
        try:
            outer = gather_two(first, second) if use_two else asyncio.gather(first, second)
            made = getattr(gather_two, "direct_tasks", 0) - before
            outcome = ("ok", await outer)
        except Exception as exc:  # noqa: BLE001 - compared
            outcome = ("raised", type(exc).__name__, str(exc))
        finally:
            seen = calls[start:]
            reset_loop(loop)
        closed = [c.cr_frame is None for c in (first, second)]
        for c in (first, second):
            c.close()
        return outcome, seen, closed, made
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


@pytest.mark.parametrize("variant", ["plain", "class create_task", "class _check_closed", "instance create_task",
                                     "task factory", "closed", "debug"])
def test_gather_two_makes_its_tasks_as_create_task_makes_them(variant):
    """gather_two's children against the interpreter's gather's, over a loop whose class or
    instance has its own create_task or _check_closed, a task factory, a loop marked closed
    (create_task's RuntimeError, the coroutine closed), a loop in debug mode (its Tasks'
    creation stacks, whose last entry create_task drops): the outcome, the calls, the
    coroutines' states.  Only the plain loop's Tasks are made by create_task's body (3.11).
    Mutations: each check of the body's guard dropped (create_task, _check_closed as the
    pinned functions bound to the loop, _task_factory, _closed, _debug) - each fails."""
    ours, stock = _gather_case(True, variant), _gather_case(False, variant)
    assert ours[:3] == stock[:3]
    if sys.version_info[:2] == (3, 11):
        assert ours[3] == (2 if variant == "plain" else 0)


class _DebugAnsweringLoop(asyncio.SelectorEventLoop):
    """A loop whose get_debug says True while its _debug is False."""

    def get_debug(self):
        return True


def loop_for(variant):
    """(a new loop of the variant's class, the list its class records calls in)."""
    kind = {"class create_task": _RecordingLoop, "class _check_closed": _CheckingLoop,
            "class get_debug": _DebugAnsweringLoop}.get(variant, asyncio.SelectorEventLoop)
    calls = kind.calls = []
    return kind(), calls


def vary_loop(loop, variant, calls):
    """The running ``loop`` changed as the variant says, its calls recorded in ``calls``: an
    instance ``create_task``, a task factory, marked closed, or in debug mode (``reset_loop``
    undoes each); other variants are left to the caller."""
    if variant == "instance create_task":
        real = loop.create_task

        def create_task(coro, **kwargs):
            calls.append(("instance create_task", coro.__qualname__))
            return real(coro, **kwargs)
        loop.create_task = create_task
    elif variant == "task factory":
        def factory(loop_, coro, **kwargs):
            calls.append(("factory", coro.__qualname__, sorted(kwargs)))
            return asyncio.Task(coro, loop=loop_, **kwargs)
        loop.set_task_factory(factory)
    elif variant == "closed":
        loop._closed = True
    elif variant == "debug":
        loop.set_debug(True)


def reset_loop(loop):
    loop._closed = False
    loop.set_debug(False)
    loop.set_task_factory(None)
    loop.__dict__.pop("create_task", None)


def _creation_stack_outside_asyncio(use_two):
    """The functions named in each child Task's creation stack (recorded while the loop's
    get_debug() is true), leaving out asyncio's own frames (gather's and create_task's, which
    gather_two has none of)."""
    gather_two = _gather_two()
    loop = _DebugAnsweringLoop()

    async def value():
        return "v"

    async def main():
        before = asyncio.all_tasks()
        outer = gather_two(value(), value()) if use_two else asyncio.gather(value(), value())
        children = [t for t in asyncio.all_tasks() if t not in before]
        stacks = [[entry[2] for entry in (t._source_traceback or ())
                   if os.sep + "asyncio" + os.sep not in entry[0]] for t in children]
        await outer
        return stacks
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


def test_a_loop_whose_get_debug_says_true_records_the_callers_frames():
    """A loop subclass's get_debug() answering True (its _debug False) makes each Task record
    its creation stack, whose last entry create_task drops (its own frame): gather_two's
    children are made by the loop's create_task then, not by its body from C, which has no
    frame of its own and dropped the caller's (session 24 hunt).  Mutation: the get_debug
    check dropped from the body's guard - the stacks lose ``main``."""
    ours, stock = _creation_stack_outside_asyncio(True), _creation_stack_outside_asyncio(False)
    assert stock and all(stack and stack[-1] == "main" for stack in stock)
    assert ours == stock
