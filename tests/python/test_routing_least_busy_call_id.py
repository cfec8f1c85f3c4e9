"""least-busy's call id read without ``CALL_IDENTITY``'s validation
(session 18, ``protocol_fast.least_busy_call_id``): the id pick_async's
least-busy case would pass, for requests whose ``litellm_call_id`` is absent,
None, a str, a str subclass, a number, a list or an object whose
``__class__`` is a property (``isinstance`` runs it), with other keys around,
against LiteLLM's expression, with the same code run; the fused picks and
``random`` state against stock's; and the calls a ``CALL_IDENTITY``
replaced in the selection module sees are stock's (the guard).  Fails with
the exact-str / None check loosened, or with the guard's check always
passing."""
from __future__ import annotations

import asyncio
import random
import warnings

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


class _Sub(str):
    pass


class _Shifty:
    calls = []

    @property
    def __class__(self):  # isinstance(x, str) reads this: code run
        _Shifty.calls.append(1)
        return str


def _requests():
    return [{}, {"litellm_call_id": None}, {"litellm_call_id": "c-1", "metadata": {}},
            {"metadata": {}, "litellm_call_id": _Sub("c-2")}, {"litellm_call_id": 7},
            {"litellm_call_id": _Shifty()}, {"other": 1}, {"litellm_call_id": "c-1"}]


def test_call_ids_match_stock():
    """The id pick_async's least-busy case passes (``call_id_of(CALL_IDENTITY.validate_python(r or {}))``)
    against ours, for every request shape, with the same code run (the property's calls)."""
    from litellm.router_rust.steps import selection
    from litellm.router_strategy.least_busy import CALL_IDENTITY, call_id_of

    fast = T._fast_select()
    module = selection.__dict__
    gen = random.Random(18)
    requests = _requests()
    for _ in range(200):
        request = {}
        for key in gen.sample(["metadata", "model", "litellm_call_id", "x"], gen.randint(0, 4)):
            request[key] = gen.choice([None, "id", _Sub("s"), 3, 2.5, [], {}, _Shifty()])
        requests.append(request)
    for request in requests:
        _Shifty.calls.clear()
        stock = call_id_of(CALL_IDENTITY.validate_python(request or {}))
        stock_calls = len(_Shifty.calls)
        _Shifty.calls.clear()
        ours = fast.least_busy_call_id(module, request)
        assert ours is stock and len(_Shifty.calls) == stock_calls, request
    # a key that is not an exact str: LiteLLM's calls
    _Shifty.calls.clear()
    assert fast.least_busy_call_id(module, {1: 2, "litellm_call_id": "k"}) == "k"


def test_picks_match_stock():
    T.same_minute()
    outs = []
    for on in (False, True):
        with _local_patch.accelerated(on):  # built as after import fast_litellm: the twin handle
            router = T._router(routing_strategy="least-busy")
        random.seed(5)
        got = []
        with _local_patch.accelerated(on), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for request in _requests():
                async def pick():
                    return (await router._core.select("g", request))["model_info"]["id"]
                got.append(asyncio.run(pick()))
        router.retire()
        outs.append((got, random.getstate()))
    assert outs[0] == outs[1]


def test_a_replaced_call_identity_sees_stocks_calls(monkeypatch):
    from litellm.router_rust.steps import selection

    adapter = selection.CALL_IDENTITY
    seen = []

    class Counting:
        def validate_python(self, value, *args, **kwargs):
            seen.append(dict(value) if isinstance(value, dict) else value)
            return adapter.validate_python(value, *args, **kwargs)

    outs = []
    for on in (False, True):
        seen.clear()
        monkeypatch.setattr(selection, "CALL_IDENTITY", Counting())
        try:
            with _local_patch.accelerated(on):  # built as after import fast_litellm: the twin handle
                router = T._router(routing_strategy="least-busy")
            with _local_patch.accelerated(on), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for request in ({}, {"litellm_call_id": "x"}):
                    asyncio.run(router._core.select("g", request))
            router.retire()
        finally:
            monkeypatch.undo()
        outs.append(list(seen))
    assert outs[0] == outs[1] and len(outs[0]) == 2
