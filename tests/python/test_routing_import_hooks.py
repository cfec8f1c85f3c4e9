"""Stock against accelerated where LiteLLM's pick makes import statements
(session-14 exactness hunt).  With ``builtins.__import__`` replaced (an
import hook, e.g. an instrumentation package's: every import statement calls
it) the fused pick declines; the older patches it then runs LiteLLM's select
over each skip or inline some of LiteLLM's code, so the hook must see the
import statements stock makes, in order.  And an import statement whose name
is gone from its module (ImportError) or served by a module ``__getattr__``
(PEP 562: code run per import) must behave as stock's where we inline it.
"""
from __future__ import annotations

import asyncio
import gc
import builtins
import random

import pytest
from _lockstep import routing_patches

import test_routing_protocol as T
from fast_litellm.routing import _local_patch

litellm = pytest.importorskip("litellm")

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


def _imports_of_picks(strategy, on, picks=3):
    """The import statements the hook sees over ``picks`` picks of a new
    router (the first of them outside the record: module-level first uses)."""
    real = builtins.__import__
    with _local_patch.accelerated(on):  # built as after import fast_litellm: the twin handle
        router = T._router(routing_strategy=strategy)
    imports = []

    def hook(module, globals=None, locals=None, fromlist=(), level=0):
        imports.append((module, tuple(fromlist or ()), level))
        return real(module, globals, locals, fromlist, level)

    async def pick():  # RustCore.select: the installed dispatcher (the fused pick, or LiteLLM's)
        # no collection inside the record: abandoned Tasks of earlier routers, collected there,
        # make asyncio log "Task was destroyed" from their finalizers, and LiteLLM's log
        # redaction then makes import statements (seen in one side's record, now and then)
        enabled = gc.isenabled()
        gc.disable()
        builtins.__import__ = hook
        try:
            return await router._core.select("g", {"metadata": {}})
        finally:
            builtins.__import__ = real
            if enabled:
                gc.enable()

    seen = []
    with _local_patch.accelerated(on):
        for n in range(picks + 1):
            random.seed(5)
            del imports[:]
            asyncio.run(pick())
            if n:
                seen.append(list(imports))
    router.retire()
    return seen


def _warm_up(strategy):
    """Both sides' one-time set-ups run before anything is recorded: our
    patches resolve their parts at a first call (pin checks, which may write
    the source-digest cache: an import statement of ours, once a process),
    and so do other components' patches both sides run through."""
    for on in (False, True):
        _imports_of_picks(strategy, on, picks=1)


@pytest.mark.parametrize("strategy", ["simple-shuffle", "usage-based-routing-v2", "least-busy",
                                      "latency-based-routing", "cost-based-routing"])
def test_import_hook_sees_stocks_import_statements(strategy):
    """Each pick's import statements as stock's (the usage-read scope's
    skipped group read made ``_list_scope``'s import; the usage-v2 selector
    probe inlined its own import of ``LowestTPMLoggingHandler_v2``)."""
    _warm_up(strategy)
    stock = _imports_of_picks(strategy, False)
    ours = _imports_of_picks(strategy, True)
    assert ours == stock


@pytest.mark.parametrize("strategy", ["simple-shuffle", "usage-based-routing-v2", "least-busy",
                                      "latency-based-routing", "cost-based-routing"])
@pytest.mark.parametrize("entry", ["sync", "async"])
def test_import_hook_sees_stocks_imports_through_the_routers_picks(strategy, entry):
    """The same through ``Router.get_available_deployment`` and the deprecated
    ``async_get_available_deployment`` (its read is patched too)."""
    import warnings

    real = builtins.__import__

    def run(on):
        with _local_patch.accelerated(on):  # built as after import fast_litellm: the twin handle
            router = T._router(routing_strategy=strategy)
        imports = []

        def hook(module, globals=None, locals=None, fromlist=(), level=0):
            imports.append((module, tuple(fromlist or ()), level))
            return real(module, globals, locals, fromlist, level)

        seen = []
        with _local_patch.accelerated(on), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for n in range(3):
                random.seed(5)
                del imports[:]
                enabled = gc.isenabled()
                gc.disable()  # (as in _imports_of_picks)
                builtins.__import__ = hook
                try:
                    if entry == "sync":
                        picked = router.get_available_deployment(model="g", request_kwargs={})
                    else:
                        picked = asyncio.run(router.async_get_available_deployment(model="g", request_kwargs={}))
                    outcome = picked["model_info"]["id"]
                except Exception as exc:  # the exception itself is compared
                    outcome = (type(exc).__name__, str(exc))
                finally:
                    builtins.__import__ = real
                    if enabled:
                        gc.enable()
                if n:
                    seen.append((outcome, list(imports)))
        return seen

    _warm_up(strategy)
    run(False), run(True)
    assert run(True) == run(False)


_IMPORTED_NAMES = [
    # RustCore.service_logged's (a timed pick's service event; the fused pick makes it inline)
    ("litellm.litellm_core_utils.core_helpers", "get_parent_otel_span_from_kwargs", "least-busy"),
    ("litellm.types.services", "ServiceTypes", "latency-based-routing"),
    # _record_routing_decision's (the pre-route step; made inline by its patch)
    ("litellm.router_strategy.auto_router.baseline_request", "capture_baseline_parameters", "simple-shuffle"),
    ("litellm.types.router", "BaselineRouteStamp", "simple-shuffle"),
    # the selection set-up's image check, run's phase span, the callback-filter step's failure
    ("litellm.litellm_core_utils.prompt_templates.common_utils", "request_contains_image_content", "simple-shuffle"),
    ("litellm.integrations.otel.runtime", "phase_span", "simple-shuffle"),
    ("litellm.router_rust.core", "attempt_failure", "least-busy"),
    # the usage-read scope's and the usage-v2 selector probe's
    ("litellm.router_strategy.lowest_tpm_rpm_v2", "LowestTPMLoggingHandler_v2", "simple-shuffle"),
    ("litellm.router_strategy.lowest_tpm_rpm_v2", "LowestTPMLoggingHandler_v2", "usage-based-routing-v2"),
]


def _pick_outcomes(strategy, on, picks=2):
    with _local_patch.accelerated(on):  # built as after import fast_litellm: the twin handle
        router = T._router(routing_strategy=strategy)

    async def pick():  # the installed dispatcher, whose fast side made its parts in _warm_up
        return await router._core.select("g", {"metadata": {}})

    async def picks_and_tasks():
        out = []
        for _ in range(picks):
            try:
                picked = await pick()
                out.append(picked["model_info"]["id"])
            except Exception as exc:  # the exception itself is compared
                out.append((type(exc).__name__, str(exc)))
        for _ in range(3):  # the service events' tasks run
            await asyncio.sleep(0)
        return out

    with _local_patch.accelerated(on):
        random.seed(9)
        got = asyncio.run(picks_and_tasks())
    router.retire()
    return got


@pytest.mark.parametrize("module_name, name, strategy", _IMPORTED_NAMES)
def test_a_deleted_imported_name_raises_stocks_import_error(module_name, name, strategy, monkeypatch):
    """A name LiteLLM imports inside a pick's step deleted from its module:
    stock's import statement raises ImportError; the inlined statement must
    too (it read the attribute: AttributeError, or nothing at all)."""
    import importlib

    module = importlib.import_module(module_name)
    _warm_up(strategy)
    monkeypatch.delattr(module, name)
    assert _pick_outcomes(strategy, True) == _pick_outcomes(strategy, False)


@pytest.mark.parametrize("module_name, name, strategy", _IMPORTED_NAMES)
def test_a_module_getattr_serving_an_imported_name_runs_as_stocks(module_name, name, strategy, monkeypatch):
    """The name served by a module-level ``__getattr__`` instead (PEP 562):
    the import statement calls it once per pick; so must ours."""
    import importlib

    module = importlib.import_module(module_name)
    value = getattr(module, name)
    calls = []

    def module_getattr(attribute):
        if attribute == name:
            calls.append(attribute)
            return value
        raise AttributeError(attribute)

    _warm_up(strategy)
    monkeypatch.delattr(module, name)
    monkeypatch.setattr(module, "__getattr__", module_getattr, raising=False)
    stock = _pick_outcomes(strategy, False)
    stock_calls = list(calls)
    del calls[:]
    ours = _pick_outcomes(strategy, True)
    assert (ours, calls) == (stock, stock_calls)
    assert stock_calls


def test_a_guard_looking_again_makes_no_import_statement():
    """Session 18: a pydantic guard not stock when made looks again during a pick (at most once
    a second); that look makes no import statement an import hook would see (it used to import
    pydantic's modules with import statements, seen now and then in the picks above)."""
    from fast_litellm.routing import _pydantic_guard

    for part in (_pydantic_guard.service_payload, _pydantic_guard.callback_list, _pydantic_guard.start_fields,
                 _pydantic_guard.least_busy_call_identity):
        guard = _pydantic_guard.Guard((part,))
        guard.check = guard._look_again
        guard._next = 0.0
        real = builtins.__import__
        imports = []

        def hook(module, globals=None, locals=None, fromlist=(), level=0):
            imports.append(module)
            return real(module, globals, locals, fromlist, level)

        builtins.__import__ = hook
        try:
            guard.check()
        finally:
            builtins.__import__ = real
        assert imports == [], (part.__name__, imports)
