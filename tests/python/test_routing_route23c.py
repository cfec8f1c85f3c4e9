"""Session 23 (route23c): the logger guards of the accelerated picks
(docs/routing.md, "Session 23 (route23c)").  With ``logging.Logger.isEnabledFor``
or ``Logger.debug`` replaced by a recorder (on the class, or on a LiteLLM
logger's instance), an accelerated pick makes the same calls of it, with the
same arguments in the same order, as LiteLLM's: a guard asking whether DEBUG is
on must not ask a method that is not logging's own (it declines instead)."""
from __future__ import annotations

import asyncio
import copy
import logging
import random
import sys
import warnings

import pytest

litellm = pytest.importorskip("litellm")

from _lockstep import plain_model_list, same_minute  # noqa: E402

import test_routing_usage_read as _usage_read  # noqa: E402

from fast_litellm.routing import _local_patch  # noqa: E402

pytestmark = _usage_read.pytestmark
patched = _usage_read.patched

STRATEGIES = ["usage-based-routing-v2", "usage-based-routing", "least-busy", "simple-shuffle",
              "latency-based-routing", "cost-based-routing"]
LOGGERS = ["LiteLLM Router", "LiteLLM"]


def _router(accelerated, strategy):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with _local_patch.accelerated(accelerated):
            return litellm.Router(model_list=copy.deepcopy(plain_model_list(6)), routing_strategy=strategy)


def _picks(accelerated, router, picks=3):
    async def go():
        out = []
        for seed in range(picks):
            random.seed(seed)
            with _local_patch.accelerated(accelerated), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                picked = await router.async_get_available_deployment(model="g", request_kwargs={})
            out.append((picked["model_info"]["id"], random.getstate()))
        return out

    return asyncio.run(go())


def _recorder(log, name, original):
    def recorder(self, *args, **kwargs):
        log.append((name, self.name, args[:1]))
        return original(self, *args, **kwargs)
    return recorder


def _lockstep(monkeypatch, strategy, replace):
    """(stock's, ours') picks and the calls recorded during them with ``replace(patch, log)``
    in place (the Routers built before: a build's calls depend on what the process has
    cached, the model-info cache filled by the first)."""
    outcomes = []
    same_minute()
    routers = [_router(accelerated, strategy) for accelerated in (False, True)]
    for accelerated, router in zip((False, True), routers):
        log = []
        with monkeypatch.context() as patch:
            replace(patch, log)
            picks = _picks(accelerated, router)
            calls = list(log)
        outcomes.append((picks, [c for c in calls if c[1] in LOGGERS]))
    return outcomes


def _on_class(method):
    def replace(patch, log):
        original = logging.Logger.__dict__[method]
        patch.setattr(logging.Logger, method, _recorder(log, method, original))
    return replace


def _on_instances(method):
    def replace(patch, log):
        original = logging.Logger.__dict__[method]
        recorder = _recorder(log, method, original)
        for name in LOGGERS:
            logger = logging.getLogger(name)
            # (through the instance's dict: monkeypatch.setattr would put the class's bound method
            # back on the instance afterwards)
            patch.setitem(vars(logger), method, recorder.__get__(logger))
    return replace


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("replace", [_on_class("isEnabledFor"), _on_class("debug"),
                                     _on_instances("isEnabledFor"), _on_instances("debug")],
                         ids=["class isEnabledFor", "class debug", "instance isEnabledFor", "instance debug"])
def test_replaced_logger_methods_are_called_as_litellm_calls_them(monkeypatch, strategy, replace):
    stock, ours = _lockstep(monkeypatch, strategy, replace)
    assert ours == stock



def _quiet(kind):
    from fast_litellm.routing import _logger_guard

    if kind == "python":
        return _logger_guard.python_quiet
    from fast_litellm._native_loader import NATIVE

    if NATIVE is None:
        pytest.skip("no native core")
    assert _logger_guard.quiet is not _logger_guard.python_quiet  # (the routing paths ask the C one)
    return _logger_guard.quiet


@pytest.mark.parametrize("kind", ["native", "python"])
def test_plain_logger_guard(kind):
    """``_logger_guard.quiet``: each way a logger method stops being logging's own (the C
    ``RouterLoggerQuiet`` and the Python twin, session 24)."""
    quiet = _quiet(kind)

    logger = logging.getLogger("route23c.plain")
    assert quiet(logger)
    assert not quiet(logging.getLogger())  # the RootLogger: not an exact Logger
    for name in ("isEnabledFor", "debug", "getEffectiveLevel"):
        original = logging.Logger.__dict__[name]
        for bound in (original.__get__(logging.getLogger("route23c.other")), lambda *a: original(logger, *a)):
            vars(logger)[name] = bound
            try:
                assert not quiet(logger), name
            finally:
                del vars(logger)[name]
        vars(logger)[name] = original.__get__(logger)  # its own method, bound to it: what the class gives
        try:
            assert quiet(logger)
        finally:
            del vars(logger)[name]
        setattr(logging.Logger, name, lambda self, *a, _o=original: _o(self, *a))
        try:
            assert not quiet(logger), name
        finally:
            setattr(logging.Logger, name, original)
    logging.Logger.__getattribute__ = lambda self, name: object.__getattribute__(self, name)
    try:
        assert not quiet(logger)
    finally:
        del logging.Logger.__getattribute__
    assert quiet(logger)
    logger.setLevel(logging.DEBUG)
    try:
        assert not quiet(logger)
    finally:
        logger.setLevel(logging.NOTSET)


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="3.11's inline values layout")
@pytest.mark.parametrize("kind", ["native", "python"])
def test_quiet_does_not_turn_the_loggers_values_into_a_dict(kind):
    """``quiet`` reads no ``__dict__``: on 3.11 that would make a dict of the logger's inline
    values (the values pointer, 4 words before the object, then NULL) and slow LiteLLM's own
    ``debug`` calls on it."""
    import ctypes

    quiet = _quiet(kind)

    def inline(obj):
        return bool(ctypes.cast(id(obj), ctypes.POINTER(ctypes.c_void_p))[-4])

    logger = logging.Logger("route23c.inline", logging.WARNING)
    assert inline(logger)
    assert quiet(logger) and inline(logger)
    vars(logger)
    assert not inline(logger)  # (the probe itself: a dict made)


def test_native_quiet_answers_and_raises_as_the_python_twin():
    """The C ``quiet`` against the Python one (session 24) where they could differ: a raising
    attribute read (an error, the same), a ``disabled`` logger, a level above DEBUG, DEBUG on
    through a parent, a class ``isEnabledFor`` that answers itself (each asked the same way)."""
    from fast_litellm.routing import _logger_guard

    native, python = _quiet("native"), _logger_guard.python_quiet
    parent = logging.getLogger("route24a")
    logger = logging.getLogger("route24a.child")

    def both():
        answers = []
        for quiet in (native, python):
            try:
                answers.append(("ok", quiet(logger)))
            except Exception as exc:  # noqa: BLE001 - compared
                answers.append(("raised", type(exc), str(exc)))
        assert answers[0] == answers[1]
        return answers[0]

    assert both() == ("ok", True)
    logger.disabled = True
    try:
        assert both() == ("ok", True)  # (isEnabledFor: False while disabled)
    finally:
        logger.disabled = False
    parent.setLevel(logging.DEBUG)
    logger.manager._clear_cache()
    try:
        assert both() == ("ok", False)
    finally:
        parent.setLevel(logging.NOTSET)
        logger.manager._clear_cache()
    original = logging.Logger.__dict__["getEffectiveLevel"]

    def failing(self):
        raise LookupError("read")
    logging.Logger.getEffectiveLevel = property(failing)
    try:
        assert both() == ("raised", LookupError, "read")
    finally:
        logging.Logger.getEffectiveLevel = original
    assert both() == ("ok", True)
