"""least-busy's fast paths against builtins shadowed in LiteLLM's module or
replaced in ``builtins`` (session 19 hunt).  The code they stand for
(``call_id_of``: isinstance, str; ``_select``'s helpers: list, tuple, int,
len, min, range, zip; ``_deployment_ids`` / ``_request_count_keys``: str,
tuple) reads its builtins through ``litellm.router_strategy.least_busy``'s
globals: a name set there is called by stock on every pick and was never
called by ours, and a ``min`` that picks another index moved stock's pick
only.  Each case fails before the check (``selector_fast.least_busy_builtins``,
which also declines while one of them is not the interpreter's own in
``builtins``; a builtin replaced there is not compared here: all of
LiteLLM's code calls it, and the fast paths skip much of that code)."""
from __future__ import annotations

import asyncio
import builtins
import random

import pytest

import test_routing_protocol as T
from fast_litellm.routing import _local_patch

litellm = pytest.importorskip("litellm")
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

NAMES = ("isinstance", "str", "list", "tuple", "int", "len", "min", "range", "zip")


@pytest.fixture(scope="module", autouse=True)
def patched():
    _local_patch.install()
    yield
    _local_patch.uninstall()


def _counting(real, calls):
    """``real`` with each call counted (a function: ``isinstance(x, str)`` with it as
    ``str`` raises TypeError, stock's and then ours alike)."""
    def wrapper(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    return wrapper


def _picks(on, name, choose_last=False):
    from litellm.router_strategy import least_busy

    with _local_patch.accelerated(on):  # built as after import fast_litellm: the twin handle
        router = T._router(routing_strategy="least-busy")
    calls, out = [], []
    real = builtins.__dict__[name]
    if choose_last:  # a min that picks the last index: stock's pick moves
        def replacement(iterable, *args, **kwargs):
            calls.append(1)
            return list(iterable)[-1]
    else:
        replacement = _counting(real, calls)

    async def run():
        with _local_patch.accelerated(on):
            for i in range(4):
                if i == 1:
                    least_busy.__dict__[name] = replacement
                random.seed(i)
                try:
                    picked = await router._core.select("g", {"metadata": {}, "litellm_call_id": "call-%d" % i})
                    out.append(picked["model_info"]["id"])
                except Exception as exc:  # noqa: BLE001 - compared
                    out.append(repr(exc))
                out.append(random.getstate()[1][:3])

    try:
        asyncio.run(run())
    finally:
        least_busy.__dict__.pop(name, None)
    router.retire()
    return len(calls), out


@pytest.mark.parametrize("name", NAMES)
def test_a_builtin_shadowed_in_least_busys_module_is_called_as_stock_calls_it(name):
    stock, fast = _picks(False, name), _picks(True, name)
    assert stock == fast


def test_a_shadowed_min_that_picks_elsewhere_moves_both_picks():
    stock, fast = _picks(False, "min", True), _picks(True, "min", True)
    assert stock == fast
    assert stock[1][0] == "d0" and stock[1][2] == "d3"  # (the shadow moved stock's pick)
