"""Session 24 (route24a): usage-based-routing-v2's own per-pick path, its guards
in C.  ``router_chain_serves`` (``selector_fast._chain_serves`` in C) against the
Python loop over chains whose every part is changed in turn: each answer, and each
error, the same.  (The pick-level lockstep of the chain check is
``test_routing_usage_v2_pick.test_wrappers_deciding_per_call_are_not_skipped``;
``RouterLoggerQuiet`` is compared in ``test_routing_route23c.py``.)"""
from __future__ import annotations

import types

import pytest

from fast_litellm._native_loader import NATIVE
from fast_litellm.routing import selector_fast

pytestmark = pytest.mark.skipif(getattr(NATIVE, "router_chain_serves", None) is None, reason="no native core")


class _Flag:
    __slots__ = ("serve_fast",)

    def __init__(self, on):
        self.serve_fast = on


def _cell(value=None, empty=False):
    if empty:
        def f():
            return x  # noqa: F821 - never called: an empty cell
        x = None
        del x
        return f.__closure__[0]
    return types.CellType(value)


def _layer():
    def fast():
        return None

    def layer():
        return fast()
    return layer, fast


def _cases():
    """(name, chain) pairs: a serving chain of both layer kinds, then each part changed."""
    engine, engine_next = _layer()
    local, local_next = _layer()
    ours, _ = _layer()
    globals_on = {"ACCELERATED": [True]}
    flag_cell = _cell(_Flag(True))
    fast_cell, local_cell = _cell(engine_next), _cell(local_next)
    last = (ours, ours.__code__, None, None, None)
    good = ((engine, engine.__code__, fast_cell, engine_next, flag_cell),
            (local, local.__code__, local_cell, local_next, globals_on), last)
    yield "serving", good
    yield "empty", ()
    yield "native layer", ((len, None, None, engine_next, flag_cell), last)
    other = (lambda: None).__code__  # (the layers share _layer's code)
    yield "code changed", ((engine, other, fast_cell, engine_next, flag_cell),) + good[1:]
    yield "last code changed", good[:2] + ((ours, other, None, None, None),)
    yield "cell moved", ((engine, engine.__code__, _cell(local_next), engine_next, flag_cell),) + good[1:]
    yield "cell empty", ((engine, engine.__code__, _cell(empty=True), engine_next, flag_cell),) + good[1:]
    yield "flag off", ((engine, engine.__code__, fast_cell, engine_next, _cell(_Flag(False))),) + good[1:]
    yield "flag falsy", ((engine, engine.__code__, fast_cell, engine_next, _cell(_Flag(0))),) + good[1:]
    yield "flag cell empty", ((engine, engine.__code__, fast_cell, engine_next, _cell(empty=True)),) + good[1:]
    yield "flag without serve_fast", ((engine, engine.__code__, fast_cell, engine_next, _cell(object())),) + good[1:]
    yield "switched off", (good[0], (local, local.__code__, local_cell, local_next, {"ACCELERATED": [False]}), last)
    yield "no switch", (good[0], (local, local.__code__, local_cell, local_next, {}), last)
    yield "switch empty", (good[0], (local, local.__code__, local_cell, local_next, {"ACCELERATED": []}), last)
    yield "code on a non-function", ((len, engine.__code__, None, None, None),)
    yield "off after a raise would be", ((engine, engine.__code__, fast_cell, engine_next, _cell(_Flag(False))),
                                         (local, local.__code__, local_cell, local_next, {}))


def _answer(fn, chain):
    try:
        return ("ok", fn(chain))
    except Exception as exc:  # noqa: BLE001 - compared
        return ("raised", type(exc), str(exc))


@pytest.mark.parametrize("name,chain", list(_cases()), ids=[name for name, _ in _cases()])
def test_native_chain_serves_is_the_python_loop(name, chain):
    assert selector_fast._chain_serves is NATIVE.router_chain_serves  # (what the picks ask)
    native, python = _answer(NATIVE.router_chain_serves, chain), _answer(selector_fast._python_chain_serves, chain)
    assert native == python, name
    assert native == (("ok", True) if name in ("serving", "empty", "native layer") else native)
    if name not in ("serving", "empty", "native layer"):
        assert native != ("ok", True), name
