"""Session 24 (route24d): the fused v2 selector call's front guard in C
(``router_usage_v2_front``, ``usage_v2_pick``'s lines up to the chain check)
against the Python lines (``python_front``) over states each changing one thing
the guard reads: the same answer (DECLINED, the keys function and logger, or the
error), the same memo calls in the same order; then stock-vs-accelerated v2 picks
in lockstep with some of those changes (``test_routing_usage_v2_pick._compare``:
same picks, ``random`` state, cache, recorded calls, and whether the fused call
served)."""
from __future__ import annotations

import builtins
import copy
import logging
import warnings

import pytest

litellm = pytest.importorskip("litellm")

from litellm.router_strategy import lowest_tpm_rpm_v2 as v2  # noqa: E402
import test_routing_usage_v2_pick as _v2pick  # noqa: E402

from fast_litellm._native_loader import NATIVE  # noqa: E402
from fast_litellm.routing import _local_patch, protocol_fast, selector_fast  # noqa: E402

pytestmark = _v2pick.pytestmark + [
    pytest.mark.skipif(getattr(NATIVE, "router_usage_v2_front", None) is None, reason="no native core")]
patched = _v2pick.patched
H = v2.LowestTPMLoggingHandler_v2


def _selector():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=copy.deepcopy(_v2pick._model_list()),
                                routing_strategy="usage-based-routing-v2")
    selector = router._core._selectors._default
    assert type(selector) is H
    return router, selector


def _fronts():
    selector_fast.usage_v2_pick()
    built = selector_fast._V2_PICK[0]
    assert built is not None
    native, python, parts = built.fronts
    assert native is NATIVE.router_usage_v2_front
    return native, python, parts


def _answer(front, parts, selector, messages=None, input=None, log=None):
    try:
        found = front(parts, selector, messages, input)
    except Exception as exc:  # noqa: BLE001 - compared
        return ("raised", type(exc), str(exc))
    if found is selector_fast.DECLINED:
        return ("declined",)
    keys_function, logger = found
    return ("made", keys_function, logger)


_REAL_IMPORT = builtins.__import__


def _import(*args, **kwargs):
    return _REAL_IMPORT(*args, **kwargs)


class _Sub(H):
    pass


def _hook(self, name):
    return object.__getattribute__(self, name)


def _cases(parts):
    """(name, change(patch, selector), call kwargs) - each changes one thing the front reads."""
    cells = parts[11:15]

    def cell(i, value):
        def change(patch, selector):
            old = cells[i].cell_contents
            cells[i].cell_contents = value
            return lambda: setattr(cells[i], "cell_contents", old)
        return change

    def empty(i):
        def change(patch, selector):
            old = cells[i].cell_contents
            del cells[i].cell_contents
            return lambda: setattr(cells[i], "cell_contents", old)
        return change

    def debug_logger(patch, selector):
        logger = logging.getLogger("route24d.debug")
        logger.setLevel(logging.DEBUG)
        patch.setitem(vars(v2), "verbose_router_logger", logger)

    yield "plain", None, {}
    yield "messages", None, {"messages": []}
    yield "input", None, {"input": "x"}
    yield "subclass", lambda patch, s: patch.setattr(s, "__class__", _Sub), {}
    yield "class hook", lambda patch, s: patch.setattr(H, "__getattribute__", _hook, raising=False), {}
    yield "instance method", lambda patch, s: patch.setitem(
        vars(s), "async_get_available_deployments", H.async_get_available_deployments), {}
    yield "instance dict rebound", lambda patch, s: patch.setattr(
        s, "__dict__", dict(vars(s), async_get_available_deployments=H.async_get_available_deployments)), {}
    yield "logger debug", debug_logger, {}
    yield "logger missing", lambda patch, s: patch.delitem(vars(v2), "verbose_router_logger"), {}
    yield "import replaced", lambda patch, s: patch.setitem(vars(builtins), "__import__", _import), {}
    yield "builtin shadowed", lambda patch, s: patch.setitem(vars(v2), "isinstance", isinstance), {}
    def switched_off(patch, selector):
        switch = _chain_switch(parts, selector)
        old, switch[0] = switch[0], False
        return lambda: switch.__setitem__(0, old)

    yield "switched off", switched_off, {}
    for i in range(4):
        yield "cell %d changed" % i, cell(i, object()), {}
        yield "cell %d empty" % i, empty(i), {}


def _chain_switch(parts, selector):
    """The list holding the first layer's ACCELERATED switch, if the chain has one (else a dummy)."""
    known = parts[2].get(vars(selector), H) or parts[3](vars(selector))
    for _fn, _code, _cell, following, switch in known[0][1]:
        if following is not None and type(switch) is dict:
            return switch["ACCELERATED"]
    return [True]


def _run_case(front, parts, change, kwargs, monkeypatch, fresh):
    router, selector = _selector()
    calls = []
    get, remember = protocol_fast._StateMemo.get, protocol_fast._StateMemo.remember

    def rec_get(self, first, second):
        calls.append(("get", first is vars(selector), second is H))
        return get(self, first, second)

    def rec_remember(self, first, second, check):
        calls.append(("remember", first is vars(selector), second is H))
        return remember(self, first, second, check)

    with monkeypatch.context() as patch, _local_patch.accelerated(True):
        if not fresh:  # the memos keeping the plain state (each change must be seen through them)
            _answer(front, parts, selector)
        undo = change(patch, selector) if change is not None else None
        try:
            if fresh:  # both memos empty: the remember calls run
                parts[2]._entry = None
                parts[8]._entry = None
            patch.setattr(protocol_fast._StateMemo, "get", rec_get)
            patch.setattr(protocol_fast._StateMemo, "remember", rec_remember)
            out = _answer(front, parts, selector, **kwargs)
        finally:
            if undo is not None:
                undo()
    return out, calls


@pytest.mark.parametrize("fresh", [False, True], ids=["kept", "fresh memo"])
def test_native_front_is_the_python_lines(monkeypatch, fresh):
    native, python, parts = _fronts()
    answers = {}
    for name, change, kwargs in _cases(parts):
        got = [_run_case(front, parts, change, kwargs, monkeypatch, fresh) for front in (native, python)]
        assert got[0] == got[1], name
        answers[name] = got[0][0][0]
    # each change is seen (a guard that stops declining fails here)
    assert answers["plain"] == "made"
    assert {name for name, kind in answers.items() if kind == "made"} == {"plain"}, answers
    assert all(answers["cell %d empty" % i] == "raised" for i in range(4))


def _class_hook(patch, log, router):
    patch.setattr(H, "__getattribute__", _hook, raising=False)


def _builtin_shadowed(patch, log, router):
    patch.setitem(vars(v2), "isinstance", isinstance)


def _debug_logger(patch, log, router):
    logger = logging.getLogger("route24d.lockstep")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    patch.setitem(vars(v2), "verbose_router_logger", logger)


@pytest.mark.parametrize("setup", [None, _class_hook, _builtin_shadowed, _debug_logger],
                         ids=["plain", "class hook", "builtin shadowed", "debug logger"])
def test_v2_picks_in_lockstep(monkeypatch, setup):
    _v2pick._compare(monkeypatch, setup is None, setup=setup)


def test_v2_picks_in_lockstep_with_the_python_front(monkeypatch):
    """The Python twin swapped into the pick's closure: the same picks as stock."""
    selector_fast.usage_v2_pick()
    built = selector_fast._V2_PICK[0]
    names = built.__code__.co_freevars
    cell = built.__closure__[names.index("front")]
    native = cell.cell_contents
    cell.cell_contents = built.fronts[1]
    try:
        _v2pick._compare(monkeypatch, True)
    finally:
        cell.cell_contents = native
