"""Router picks against builtins shadowed in the LiteLLM modules whose code the
fast paths stand for, or replaced in ``builtins`` (session 19).  LiteLLM's code
reads ``isinstance``, ``len``, ``dict``, ``float``, ... through its module's
globals, then ``builtins``: a counting shadow set in ``litellm.router_rust.core``
was called 126-132 times over three stock picks and 6-12 times by ours, and a
``dict`` / ``int`` / ``float`` shadowed by a function made stock's pick raise
TypeError where ours picked.  Every routing fast path now declines while one of
those names is set in one of those modules or is not the interpreter's own in
``builtins`` (``selector_fast.routing_builtins``, checked by the patch wrappers
before the fast path).  Each pair runs stock and accelerated on routers from one
model list with the same seeds; picks, ``random``'s state, the shadow's calls
(from LiteLLM's code) and exceptions must match.  The shadowed cases fail on main
(without the wrappers' check)."""
from __future__ import annotations

import asyncio
import builtins
import gc
import importlib
import random
import sys

import pytest

import test_routing_protocol as T
from _lockstep import routing_patches, same_minute
from fast_litellm.routing import _local_patch, protocol_fast, selector_fast

litellm = pytest.importorskip("litellm")
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

STRATEGIES = ("simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing-v2",
              "cost-based-routing")
CORE = "litellm.router_rust.core"
# (module, names): a sample of the builtins each module's code reads
SAMPLE = {
    CORE: ("isinstance", "tuple", "frozenset", "next"),
    "litellm.router_strategy.lowest_latency": ("list", "float", "sum"),
    "litellm.router_strategy.lowest_tpm_rpm_v2": ("isinstance", "len", "enumerate"),
    "litellm.router_strategy.lowest_cost": ("float", "sorted"),
    "litellm.router_strategy.least_busy": ("isinstance", "min"),
    "litellm.router_rust.steps.selection": ("isinstance",),
}
STRATEGY_OF = {
    "litellm.router_strategy.lowest_latency": "latency-based-routing",
    "litellm.router_strategy.lowest_tpm_rpm_v2": "usage-based-routing-v2",
    "litellm.router_strategy.lowest_cost": "cost-based-routing",
    "litellm.router_strategy.least_busy": "least-busy",
}


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


def _counting(real, calls):
    """``real`` with each call from LiteLLM's code counted."""
    def wrapper(*args, **kwargs):
        if sys._getframe(1).f_globals.get("__name__", "").startswith("litellm"):
            calls.append(1)
        return real(*args, **kwargs)
    return wrapper


def _picks(on, strategy, where, name, replacement=None):
    """Four picks (the shadow set before the second; in builtins before the first:
    a fast pick leaves some of LiteLLM's lazily built indexes unbuilt, which its code
    then builds - and calls the shadow for - in the next pick that is LiteLLM's);
    ``where``: a module name, or "builtins"."""
    with _local_patch.accelerated(on):  # built as after import fast_litellm: the twin handle
        router = T._router(routing_strategy=strategy)
    calls, out = [], []
    real = builtins.__dict__[name]
    shadow = replacement or _counting(real, calls)
    table = builtins.__dict__ if where == "builtins" else importlib.import_module(where).__dict__

    async def run():
        with _local_patch.accelerated(on):
            for i in range(4):
                if i == (0 if where == "builtins" else 1):
                    table[name] = shadow
                random.seed(i)
                try:
                    picked = await router._core.select("g", {"metadata": {}, "litellm_call_id": "call-%d" % i})
                    out.append(picked["model_info"]["id"])
                except Exception as exc:  # noqa: BLE001 - compared
                    out.append(repr(exc))
                out.append(random.getstate()[1][:3])

    same_minute()
    # no garbage collection while the shadow counts: abandoned Tasks of earlier
    # routers collected then make asyncio log, and the logging calls builtins too
    gc.collect()
    gc.disable()
    try:
        asyncio.run(run())
    finally:
        gc.enable()
        if where == "builtins":
            table[name] = real
        else:
            table.pop(name, None)
    router.retire()
    return len(calls), out


CASES = [(STRATEGY_OF.get(module, strategy), module, name)
         for module, names in SAMPLE.items() for name in names
         for strategy in (STRATEGIES if module == CORE and name == "isinstance" else ("simple-shuffle",))]


@pytest.mark.parametrize("strategy,module,name", CASES)
def test_a_builtin_shadowed_in_litellms_module_is_called_as_stock_calls_it(strategy, module, name):
    stock, fast = _picks(False, strategy, module, name), _picks(True, strategy, module, name)
    assert stock == fast
    assert stock[0] > 0  # (the shadow is read by the code the pick runs)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("name", ("dict", "int", "float"))
def test_a_type_shadowed_by_a_function_in_the_core_raises_as_stock(strategy, name):
    def replacement(*args, **kwargs):
        return builtins.__dict__[name](*args, **kwargs)
    stock, fast = _picks(False, strategy, CORE, name, replacement), _picks(True, strategy, CORE, name, replacement)
    assert stock == fast
    if name == "dict":
        assert "TypeError" in stock[1][2]  # (stock's pick raises)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("name", ("isinstance", "len"))
def test_a_builtin_replaced_in_builtins_is_called_as_stock_calls_it(strategy, name):
    stock, fast = _picks(False, strategy, "builtins", name), _picks(True, strategy, "builtins", name)
    assert stock == fast
    assert stock[0] > 0


def _litellm_runs(on, strategy):
    """Whether LiteLLM's ``_Selection._run`` ran in three picks (the fused select
    stands for it), and the check's verdicts after each."""

    core_file = importlib.import_module(CORE).__file__
    ok, full = selector_fast.routing_builtins_precheck()
    with _local_patch.accelerated(on):  # built as after import fast_litellm: the twin handle
        router = T._router(routing_strategy=strategy)
    ran, verdicts = [], []

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_name == "_run" and frame.f_code.co_filename == core_file:
            ran.append(1)

    async def run():
        with _local_patch.accelerated(on):
            for i in range(3):
                random.seed(i)
                sys.setprofile(profile)
                try:
                    await router._core.select("g", {"metadata": {}})
                finally:
                    sys.setprofile(None)
                verdicts.append(ok() or full())

    asyncio.run(run())
    router.retire()
    return len(ran), verdicts, ok()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_with_nothing_shadowed_the_check_holds_and_the_fast_path_serves(strategy):
    """The check is not always declining: with nothing shadowed it holds, kept by the
    memo (one native call), and the fused select serves the pick (LiteLLM's
    ``_Selection._run`` does not run; it does in stock's picks)."""
    assert _litellm_runs(False, strategy)[0] >= 3
    # without PEP 509 tags (CPython >= 3.12) nothing is kept: each use checks in full
    kept = (True,) if protocol_fast._DICT_TAGS and protocol_fast._DICT_TAGS(({},)) is not None else None
    assert _litellm_runs(True, strategy) == (0, [(True,)] * 3, kept)


def test_the_engines_wrapper_reads_the_precheck():
    """``wrappers.guarded`` (what ``import fast_litellm`` installs) hands a call to the
    original while the patch's precheck fails, as the local dispatcher does, and to the
    fast path while it holds (sync and async)."""
    from fast_litellm import flags
    from fast_litellm.patching import wrappers
    from fast_litellm.patching.registry import Patch

    verdict = [(True,)]
    calls = []

    def precheck():
        return (lambda: verdict[0]), (lambda: verdict[0])

    def original(x):
        calls.append("original")
        return x

    def fast(x):
        calls.append("fast")
        return x

    async def original_async(x):
        return original(x)

    async def fast_async(x):
        return fast(x)

    flag = flags.get_flag("rust_routing")
    flag.reset()
    try:
        for orig, quick in ((original, fast), (original_async, fast_async)):
            patch = Patch(name="t", component="routing", flag="rust_routing", target="m:f", build=lambda o: o,
                          extra={"precheck": precheck})
            wrapper = wrappers.guarded(patch, orig, quick)
            for held in ((True,), ()):
                verdict[0] = held
                del calls[:]
                result = wrapper(1)
                if orig is original_async:
                    result = asyncio.run(result)
                assert result == 1
                assert calls == (["fast"] if held else ["original"]) or not flag.serve_fast
    finally:
        flag.reset()
    assert flag.serve_fast  # (the flag was on: the assertions above ran)
