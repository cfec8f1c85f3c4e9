"""Session 25 (route25c): the async pick path every strategy shares (docs/routing.md,
"Session 25 (route25c)").

* The timed pick's service event reads its parent span with LiteLLM's
  ``get_parent_otel_span_from_kwargs(request)``: answered None without the call
  (``protocol_fast``'s ``span_absent``) while the function read is the pinned one,
  its module's ``cast`` and ``Mapping`` are the ones found at build (the select memo's
  ``known[13]``) and the request's shape is one whose reads run no code and find no
  span; anything else calls it.  Stock and accelerated picks in lockstep over request
  shapes (spans in each of the three places, Mappings, falsy metadata, a raising
  ``litellm_params``, keys whose ``__eq__`` runs) and over the bindings replaced.
"""
from __future__ import annotations

import asyncio
import collections.abc
import copy
import warnings

import pytest
from _lockstep import plain_model_list, routing_patches, run_seeded, same_minute

litellm = pytest.importorskip("litellm")

from litellm._service_logger import ServiceLogging  # noqa: E402
from litellm.litellm_core_utils import core_helpers  # noqa: E402

from fast_litellm.routing import _local_patch  # noqa: E402

KEY = "litellm_parent_otel_span"


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


class _Keyed(str):
    """A str-subclass key hashing as ``like``: a dict read of ``like`` compares it (recorded)."""

    records: list = []

    def __new__(cls, text, like, same=False):
        made = super().__new__(cls, text)
        made.like = like
        made.same = same  # equal to ``like`` too
        return made

    def __hash__(self):
        return hash(self.like)

    def __eq__(self, other):
        _Keyed.records.append(("eq", str(self), other))
        return (self.same and other == self.like) or str.__eq__(self, other)


class _ReadMapping(collections.abc.Mapping):
    """A Mapping (not a dict) whose reads are recorded."""

    records: list = []

    def __init__(self, data):
        self._data = dict(data)

    def __getitem__(self, key):
        _ReadMapping.records.append(("getitem", key))
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def __contains__(self, key):
        _ReadMapping.records.append(("contains", key))
        return key in self._data


class _RaisingParams:
    def get(self, key, default=None):
        raise RuntimeError("params read: %s" % key)


# request shapes: (name, factory of a fresh request)
SHAPES = [
    ("empty", lambda: {}),
    ("plain keys", lambda: {"user": "u", "tags": ["a"]}),
    ("span in metadata", lambda: {"metadata": {KEY: "span-metadata", "x": 1}}),
    ("None span in metadata", lambda: {"metadata": {KEY: None}}),
    ("metadata without span", lambda: {"metadata": {"x": 1}}),
    ("metadata None", lambda: {"metadata": None}),
    ("metadata falsy", lambda: {"metadata": 0}),
    ("metadata a Mapping", lambda: {"metadata": _ReadMapping({"x": 1})}),
    ("metadata a Mapping with span", lambda: {"metadata": _ReadMapping({KEY: "span-mapping"})}),
    ("span in litellm_params metadata", lambda: {"litellm_params": {"metadata": {KEY: "span-params"}}}),
    ("litellm_params metadata None", lambda: {"litellm_params": {"metadata": None}}),
    ("litellm_params metadata without span", lambda: {"litellm_params": {"metadata": {"y": 2}}}),
    ("litellm_params empty", lambda: {"litellm_params": {}}),
    ("litellm_params raising", lambda: {"litellm_params": _RaisingParams()}),
    ("span at the top", lambda: {KEY: "span-top"}),
    ("span at the top and params", lambda: {KEY: "span-top", "litellm_params": {"metadata": {"z": 3}}}),
    # two keys hashing as the function's two first reads: their comparisons, in its order
    ("keys whose eq runs", lambda: {_Keyed("k1", "litellm_params"): 1, _Keyed("k2", "metadata"): 2}),
    ("metadata keys whose eq runs", lambda: {"metadata": {_Keyed("k3", KEY): 3}}),
    # keys equal to the ones read: each read finds them (one comparison a read)
    ("metadata key equal to the span's", lambda: {"metadata": {_Keyed("k4", KEY, True): "span-k4"}}),
    ("metadata keys equal to the stamps'", lambda: {"metadata": {_Keyed("k5", "routing_decision", True): 5,
                                                                 _Keyed("k6", "_autorouter_baseline_route", True): 6}}),
    ("litellm_metadata keys equal to the stamps'", lambda: {
        "litellm_metadata": {_Keyed("k7", "routing_decision", True): 7}}),
]


class _RecordingMeta(type(collections.abc.Mapping)):
    def __getitem__(cls, item):
        _RecordingMeta.records.append(("Mapping[]", item))
        return collections.abc.Mapping[item]


class _RecordingMapping(collections.abc.Mapping, metaclass=_RecordingMeta):
    pass


_RecordingMapping.register(dict)


def _picks(strategy, accelerated, shape, variant, monkeypatch):
    """Three picks of a fresh router with the shape's request on a fresh loop:
    (picks or the error, what was recorded, random state)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=copy.deepcopy(plain_model_list(4)), routing_strategy=strategy)
    records = []
    _Keyed.records = _ReadMapping.records = _RecordingMeta.records = records
    loop = asyncio.SelectorEventLoop()
    with monkeypatch.context() as m:
        async def hook(self, service, duration, call_type, parent_otel_span=None, start_time=None, end_time=None,
                       event_metadata=None):
            records.append(("hook", str(service), call_type, parent_otel_span))
        m.setattr(ServiceLogging, "async_service_success_hook", hook)

        class Logger:
            def exception(self, message, *args, **kwargs):
                records.append(("logged", message))

            def __getattr__(self, name):
                return getattr(core_helpers.logging.getLogger("LiteLLM"), name)
        m.setattr(core_helpers, "verbose_logger", Logger())
        if variant == "function replaced":
            stock_fn = core_helpers.get_parent_otel_span_from_kwargs

            def get_span(kwargs=None):
                records.append(("get_span",))
                return stock_fn(kwargs)
            m.setattr(core_helpers, "get_parent_otel_span_from_kwargs", get_span)
        elif variant == "cast replaced":
            def cast(typ, value):
                records.append(("cast", repr(typ)))
                return value
            m.setattr(core_helpers, "cast", cast)
        elif variant == "Mapping replaced":
            m.setattr(core_helpers, "Mapping", _RecordingMapping)

        async def run():
            out = []
            for _ in range(3):
                try:
                    picked = await router.async_get_available_deployment(model="g", request_kwargs=shape())
                    out.append(picked["model_info"]["id"])
                except Exception as error:  # noqa: BLE001 - compared
                    out.append((type(error).__name__, str(error)))
                await asyncio.sleep(0)
                await asyncio.sleep(0)
            return out
        picks, state = run_seeded(loop, run, accelerated, 25)
    return picks, records, state


@pytest.mark.parametrize("strategy", ["least-busy", "usage-based-routing-v2"])
@pytest.mark.parametrize("name,shape", SHAPES, ids=[name for name, _ in SHAPES])
def test_service_event_parent_span_as_stock(strategy, name, shape, monkeypatch):
    """The service event's parent span (and every call made to find it) as stock's, per
    request shape.  Mutations: ``span_absent`` answering True fails the span shapes; its
    ``str_keyed(request)`` dropped fails "keys whose eq runs" (the comparisons' order)."""
    same_minute()
    stock = _picks(strategy, False, shape, "plain", monkeypatch)
    ours = _picks(strategy, True, shape, "plain", monkeypatch)
    assert ours == stock
    assert any(r[0] == "hook" for r in stock[1]), stock[1]


@pytest.mark.parametrize("strategy", ["least-busy", "usage-based-routing-v2"])
@pytest.mark.parametrize("variant", ["function replaced", "cast replaced", "Mapping replaced"])
def test_service_event_parent_span_bindings_replaced(strategy, variant, monkeypatch):
    """``get_parent_otel_span_from_kwargs``, or the ``cast`` / ``Mapping`` it reads, replaced
    in LiteLLM's module: the replacement is called as stock calls it.  Mutations: the
    ``get_span is known[13]`` check dropped fails "function replaced"; the select memo's
    ``cast`` / ``Mapping`` checks dropped fail the other two."""
    same_minute()
    stock = _picks(strategy, False, SHAPES[0][1], variant, monkeypatch)
    ours = _picks(strategy, True, SHAPES[0][1], variant, monkeypatch)
    assert ours == stock
    kinds = {r[0] for r in stock[1]}
    assert {"function replaced": "get_span", "cast replaced": "cast", "Mapping replaced": "Mapping[]"}[variant] in kinds


def test_span_inline_is_taken_for_a_plain_request(monkeypatch):
    """The fast path is the one measured: for ``{}`` the function is not called while
    it is LiteLLM's (a counting wrapper installed after the memo found the pinned one
    would be called: the identity check)."""
    from fast_litellm.routing import protocol_fast

    assert protocol_fast._SPAN_KEY == KEY
    calls = []
    stock_fn = core_helpers.get_parent_otel_span_from_kwargs
    stock_code = stock_fn.__code__

    def counting(frame, event, arg):
        if event == "call" and frame.f_code is stock_code:
            calls.append(1)
    import sys

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=copy.deepcopy(plain_model_list(4)), routing_strategy="least-busy")
    loop = asyncio.SelectorEventLoop()

    async def run():
        for _ in range(3):
            await router.async_get_available_deployment(model="g", request_kwargs={})
            await asyncio.sleep(0)
    try:
        with _local_patch.accelerated(True), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            loop.run_until_complete(run())
            sys.setprofile(counting)
            try:
                loop.run_until_complete(run())
            finally:
                sys.setprofile(None)
    finally:
        loop.close()
    assert calls == []


def test_span_absent_twins_agree():
    """The native ``router_span_absent`` and its Python twin over every shape (and
    other values): the same answers, and where they answer True LiteLLM's function
    returns None.  Mutation (C): ``str_keyed(request)`` dropped fails this and the
    lockstep "keys whose eq runs" cases."""
    from fast_litellm._native_loader import NATIVE
    from fast_litellm.routing import protocol_fast

    native = getattr(NATIVE, "router_span_absent", None)
    if native is None:
        pytest.skip("no native core")
    values = [factory() for _name, factory in SHAPES] + [
        None, [], "metadata", {"metadata": {}}, {"metadata": []}, {"litellm_params": None},
        {"litellm_params": []}, {"litellm_params": {"metadata": 0}}, {"litellm_params": {"metadata": {KEY: 1}}},
        {1: 2}, {"litellm_params": {1: 2}}, {"litellm_params": {"metadata": {1: 2}}}, {"metadata": {1: 2}},
        collections.OrderedDict(), {"metadata": collections.OrderedDict()}]
    for value in values:
        python = protocol_fast._python_span_absent(value, protocol_fast._SPAN_NAMES)
        assert native(value, protocol_fast._SPAN_NAMES) is python, value
        if python:
            assert core_helpers.get_parent_otel_span_from_kwargs(value) is None
    with pytest.raises(TypeError):
        native({}, ("metadata", "litellm_params"))
    with pytest.raises(TypeError):
        native({}, ("metadata", "litellm_params", 1))
