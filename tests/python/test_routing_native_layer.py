"""The routing patches' synchronous layers with their hot path in C (session 20,
``wrappers.native_layer`` / ``RouterLayer`` in bind_router_layer.c): the local
dispatcher's and the engine wrapper's.  Each case runs the same call through the
Python layer and the native one built over the same functions and compares
everything a caller or the functions can see: the value, the exception (the same
object, its traceback's frames of the fast path, its context), which functions
ran with which arguments, whether an exception was being handled while the
original ran, the precheck's calls, the flag's error count and the monitor's
timed calls.  Whole picks through the native layers against stock are the rest
of the routing suite (it runs on them)."""
from __future__ import annotations

import inspect
import sys
import traceback

import pytest

from fast_litellm import flags
from fast_litellm._native_loader import NATIVE
from fast_litellm.patching import wrappers
from fast_litellm.patching.registry import Delegate, NotAccelerated, Patch, callers_error, is_callers_error
from fast_litellm.routing import _local_patch

from _lockstep import fresh_flag

pytestmark = pytest.mark.skipif(getattr(NATIVE, "RouterLayer", None) is None, reason="needs the native core")

FLAG = "rust_routing"


class Recorder:
    """original / fast / delegate functions recording their calls; ``mode`` says
    what the fast path does."""

    def __init__(self):
        self.calls = []
        self.mode = "serve"
        self.verdict = (True,)
        self.checks = []
        self.error = None

    def original(self, a, b=2, *, c=3):
        """the original's doc"""
        self.calls.append(("original", a, b, c, sys.exc_info()[1]))
        if self.mode == "original raises":
            raise KeyError("from the original")
        return ("original", a, b, c)

    def fast(self, a, b=2, *, c=3):
        self.calls.append(("fast", a, b, c))
        mode = self.mode
        if mode == "serve":
            return ("fast", a, b, c)
        if mode == "decline":
            raise NotAccelerated("not covered")
        if mode == "delegate":
            return Delegate(self.delegated)
        if mode in ("fail", "original raises"):
            self.error = ValueError("ours")
            raise self.error
        if mode == "callers":
            self.error = callers_error(LookupError("the caller's"))
            raise self.error
        if mode == "none":
            return None
        raise AssertionError(mode)

    def delegated(self, a, b=2, *, c=3):
        self.calls.append(("delegated", a, b, c, sys.exc_info()[1]))
        return ("delegated", a, b, c)

    def precheck(self):
        def ok():
            self.checks.append("ok")
            return self.verdict

        def full():
            self.checks.append("full")
            return self.verdict

        return ok, full


def _outcome(rec, layer, args, kwargs):
    rec.calls.clear()
    rec.checks.clear()
    try:
        value = layer(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - compared
        frames = [f.name for f in traceback.extract_tb(exc.__traceback__)]
        # the Python layer's frames (the wrapper, its on_failure) are not in the native one's
        # traceback, which has no frame of its own: compare the rest
        frames = [f for f in frames if f not in ("dispatch", "wrapper", "on_failure", "_outcome")]
        value = ("raised", exc is rec.error, type(exc).__name__, str(exc), frames, exc.__context__ is None)
    is_callers_error(rec.error) if rec.error is not None else None  # (no mark left behind either way)
    return value, list(rec.calls), list(rec.checks)


CALLS = [((1,), {}), ((1, 5), {}), ((1,), {"b": 7, "c": 9}), ((), {"a": 4})]
MODES = ["serve", "decline", "delegate", "fail", "callers", "none", "original raises"]


def _local_pair(rec):
    python = _local_patch._dispatcher(rec.original, rec.fast, rec.precheck, native=False)
    native = _local_patch._dispatcher(rec.original, rec.fast, rec.precheck, native=True)
    assert type(native).__name__ == "RouterLayer" and type(python).__name__ == "function"
    return python, native


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("switch", [True, False])
@pytest.mark.parametrize("verdict", [(True,), ()])
def test_local_dispatcher_native_as_python(mode, switch, verdict):
    """The local dispatcher (what the bench and the lockstep tests install): every
    mode of the fast path, the switch on and off, the precheck holding or not."""
    rec = Recorder()
    python, native = _local_pair(rec)
    rec.mode, rec.verdict = mode, verdict
    with _local_patch.accelerated(switch):
        for args, kwargs in CALLS:
            assert _outcome(rec, native, args, kwargs) == _outcome(rec, python, args, kwargs)


def test_local_dispatcher_native_serves_and_hands_off():
    """What the comparison above rests on, spelled out for the native layer: the
    fast path serves with the switch on and the precheck true (``ok`` only); the
    original runs with the switch off (no check) or the precheck false (``ok`` then
    ``full``), and after a NotAccelerated with no exception being handled; a Delegate's
    function gets the arguments; another exception propagates as it is."""
    rec = Recorder()
    _python, native = _local_pair(rec)
    with _local_patch.accelerated(True):
        assert _outcome(rec, native, (1,), {"c": 4}) == (("fast", 1, 2, 4), [("fast", 1, 2, 4)], ["ok"])
        rec.verdict = ()
        assert _outcome(rec, native, (1,), {}) == (("original", 1, 2, 3), [("original", 1, 2, 3, None)],
                                                   ["ok", "full"])
        rec.verdict, rec.mode = (True,), "decline"
        assert _outcome(rec, native, (1,), {})[1] == [("fast", 1, 2, 3), ("original", 1, 2, 3, None)]
        rec.mode = "delegate"
        assert _outcome(rec, native, (1, 6), {})[0] == ("delegated", 1, 6, 3)
        rec.mode = "fail"
        value = _outcome(rec, native, (1,), {})[0]
        assert value[:4] == ("raised", True, "ValueError", "ours") and "fast" in value[4]
    with _local_patch.accelerated(False):
        rec.mode = "serve"
        assert _outcome(rec, native, (1,), {}) == (("original", 1, 2, 3), [("original", 1, 2, 3, None)], [])


def test_native_layer_checks_in_full_when_the_kept_verdict_is_gone():
    """``ok()`` false (the memo's tags moved) and ``full()`` true (checked again, it
    holds): the fast path serves, on both layers."""
    for pair in (_local_pair, lambda rec: _engine_pair(rec, "t.native_layer.full")):
        rec = Recorder()
        ok_full = [None, (True,)]

        def precheck():
            def ok():
                rec.checks.append("ok")
                return ok_full[0]

            def full():
                rec.checks.append("full")
                return ok_full[1]

            return ok, full

        rec.precheck = precheck
        python, native = pair(rec)
        with _local_patch.accelerated(True), fresh_flag():
            for layer in (python, native):
                assert _outcome(rec, layer, (1,), {}) == (("fast", 1, 2, 3), [("fast", 1, 2, 3)], ["ok", "full"])


def test_native_layer_binds_as_a_method_and_carries_the_attributes():
    """Set on a class, the layer binds as a function does (the instance first);
    read from the class it is itself; it carries functools.wraps' attributes and
    the marks, and inspect sees the original's signature."""
    calls = []

    class Host:
        def method(self, x, y=1):
            """doc"""
            calls.append(("original", x, y))
            return x

    def fast(self, x, y=1):
        calls.append(("fast", type(self).__name__, x, y))
        return ("fast", x, y)

    original = Host.__dict__["method"]
    layer = _local_patch._dispatcher(original, fast, None, native=True)
    layer.__fast_litellm_patch__ = "t"
    Host.method = layer
    assert Host.method is layer and Host.__dict__["method"] is layer
    with _local_patch.accelerated(True):
        assert Host().method(3, y=4) == ("fast", 3, 4)
    assert calls == [("fast", "Host", 3, 4)]
    assert (layer.__name__, layer.__qualname__, layer.__doc__, layer.__module__) == (
        "method", original.__qualname__, "doc", original.__module__)
    assert layer.__wrapped__ is original and layer.__fast_litellm_patch__ == "t"
    assert inspect.signature(layer) == inspect.signature(original)
    assert inspect.signature(Host().method) == inspect.signature(original.__get__(Host()))


def _engine_pair(rec, name):
    patch_python = Patch(name=name, component="routing", flag=FLAG, target="m:f", build=lambda o: o,
                         extra={"precheck": rec.precheck})
    patch_native = Patch(name=name, component="routing", flag=FLAG, target="m:f", build=lambda o: o,
                         extra={"precheck": rec.precheck, "native_layer": True})
    python = wrappers.guarded(patch_python, rec.original, rec.fast)
    native = wrappers.guarded(patch_native, rec.original, rec.fast)
    assert type(native).__name__ == "RouterLayer" and type(python).__name__ == "function"
    return python, native


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("verdict", [(True,), ()])
@pytest.mark.parametrize("flag_mode", ["on", "off", "shadow"])
def test_engine_wrapper_native_as_python(mode, verdict, flag_mode):
    """The engine's wrapper (``import fast_litellm``): every mode of the fast path
    with the flag on, off and in shadow mode, the precheck holding or not; the flag's
    error count after each side (a failure of ours: the original serves, counted)."""
    flag = flags.get_flag(FLAG)
    saved = (flag.mode, flag.percentage, flag.source)
    rec = Recorder()
    results = []
    try:
        for side in (0, 1):
            flag.reset()
            if flag_mode == "off":
                flag.configure(flags.MODE_OFF, 0.0, "test")
            elif flag_mode == "shadow":
                flag.configure(flags.MODE_SHADOW, 100.0, "test")
            layer = _engine_pair(rec, "t.native_layer.%s.%s.%s" % (mode, verdict, flag_mode))[side]
            rec.mode, rec.verdict = mode, verdict
            outcomes = [_outcome(rec, layer, args, kwargs) for args, kwargs in CALLS]
            results.append((outcomes, flag.errors))
    finally:
        flag.configure(*saved)
        flag.reset()
    assert results[0] == results[1]


def test_engine_native_layer_times_one_call_in_sample_every(monkeypatch):
    """The monitor's sampling: one fast call in ``SAMPLE_EVERY`` is timed, as the
    Python wrapper times them."""
    recorded = []
    monkeypatch.setattr(wrappers, "_recorder", lambda: (lambda *a, **k: recorded.append(a[1])))
    flag = flags.get_flag(FLAG)
    flag.reset()
    counts = []
    try:
        for side in (0, 1):
            rec = Recorder()
            layer = _engine_pair(rec, "t.native_layer.sampling")[side]
            recorded.clear()
            for _ in range(wrappers.SAMPLE_EVERY * 4):
                assert layer(1) == ("fast", 1, 2, 3)
            counts.append(list(recorded))
    finally:
        flag.reset()
    assert counts[0] == counts[1] == ["t.native_layer.sampling"] * 4


def test_routing_patches_install_native_layers_for_sync_targets():
    """With the routing patches installed locally, a synchronous target's layer is
    the native one (the async ones stay Python coroutines: a coroutine's name is
    the patched method's)."""
    from litellm.router_rust.core import RustCore, _plain

    from _lockstep import routing_patches

    with routing_patches():
        assert type(RustCore.__dict__["_strategy_inputs"]).__name__ == "RouterLayer"
        assert type(sys.modules["litellm.router_rust.core"]._plain).__name__ == "RouterLayer"
        assert inspect.iscoroutinefunction(RustCore.__dict__["select"])
    del _plain
