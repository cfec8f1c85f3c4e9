"""Stock against accelerated with ``builtins.__import__`` replaced (an import
hook, e.g. an instrumentation package's: every import statement calls it).
The fused pick declines under a hook; these tests cover the older patches it
then runs LiteLLM's select over, each of which skips or inlines some of
LiteLLM's code: the hook must see the import statements stock makes, in
order (session-14 exactness hunt).
"""
from __future__ import annotations

import asyncio
import builtins
import random

import pytest

import test_routing_protocol as T
from fast_litellm.patching.registry import NotAccelerated
from fast_litellm.routing import _local_patch

litellm = pytest.importorskip("litellm")

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="module", autouse=True)
def patched():
    _local_patch.install()
    yield
    _local_patch.uninstall()


def _imports_of_picks(strategy, on, picks=3):
    """The import statements the hook sees over ``picks`` picks of a new
    router (the first of them outside the record: module-level first uses)."""
    real = builtins.__import__
    original = T._original(T._patch("routing.select").target)
    fast = T._fast_select()
    router = T._router(routing_strategy=strategy)
    imports = []

    def hook(module, globals=None, locals=None, fromlist=(), level=0):
        imports.append((module, tuple(fromlist or ()), level))
        return real(module, globals, locals, fromlist, level)

    async def pick():
        builtins.__import__ = hook
        try:
            if on:
                try:
                    return await fast(router._core, "g", {"metadata": {}})
                except NotAccelerated:  # declined: LiteLLM's select, as the engine runs it
                    pass
            return await original(router._core, "g", {"metadata": {}})
        finally:
            builtins.__import__ = real

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
                if n:
                    seen.append((outcome, list(imports)))
        return seen

    _warm_up(strategy)
    run(False), run(True)
    assert run(True) == run(False)
