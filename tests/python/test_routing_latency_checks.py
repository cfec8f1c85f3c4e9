"""Session 19: the latency pick's per-call checks as one native look-up each
(``router_entries_same`` over the entries a full check read), the fresh
map's unseen latency without calls, and the no-input token count's kept
entries.  Each check here is made to fail after it was found to hold: the
pick (or the count) must then see the replacement exactly as LiteLLM's code
does (calls, picks, ``random`` state, errors)."""
from __future__ import annotations

import asyncio
import copy
import random
import warnings

import pytest
from _lockstep import fresh_flag, routing_patches, same_minute  # noqa: E402

litellm = pytest.importorskip("litellm")

import litellm.litellm_core_utils.core_helpers as helpers  # noqa: E402
import litellm.litellm_core_utils.prompt_templates.tpm_media_utils as tpm  # noqa: E402
import litellm.litellm_core_utils.token_counter as tc  # noqa: E402
import litellm.utils as utils  # noqa: E402
from litellm.router_strategy import lowest_latency  # noqa: E402

from fast_litellm._native_loader import NATIVE  # noqa: E402
from fast_litellm.routing import _local_patch, selector_fast  # noqa: E402

pytestmark = [
    pytest.mark.skipif(NATIVE is None, reason="native core not built"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

LATENCY = "latency-based-routing"
MODEL_LIST = [
    {"model_name": "g", "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "sk-test",
                                           "api_base": "https://b%d.example" % (i % 3), "rpm": 1000 + i},
     "model_info": {"id": "d%d" % i}}
    for i in range(6)
]


@pytest.fixture(scope="module", autouse=True)
def guarded():
    with routing_patches(guarded=True):
        yield


@pytest.fixture(autouse=True)
def flag():
    with fresh_flag() as flag:
        yield flag


def _router(accelerated=False):
    """Built with the fast paths as the side runs them (as after ``import
    fast_litellm``: the accelerated side's picks run on the twin handle)."""
    with warnings.catch_warnings(), _local_patch.accelerated(accelerated):
        warnings.simplefilter("ignore")
        return litellm.Router(model_list=copy.deepcopy(MODEL_LIST), routing_strategy=LATENCY)


def _picks(router, accelerated, requests, seed=5):
    """Each request picked in turn (a fresh map: nothing is cached), with the
    outcome and ``random``'s state after it."""
    out = []
    random.seed(seed)
    for request in requests:
        with _local_patch.accelerated(accelerated), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                picked = asyncio.run(router.async_get_available_deployment(model="g", request_kwargs=request))
                outcome = ("ok", picked["model_info"]["id"])
            except Exception as exc:  # noqa: BLE001 - compared
                outcome = ("raised", type(exc).__name__, str(exc))
        out.append((outcome, random.getstate(), sorted(request.get("metadata", {}))))
    return out


def _warm(accelerated=True):
    """Picks on a router of their own, so every check has been found to hold
    (and is then kept) before the test replaces something."""
    _picks(_router(accelerated), accelerated, [{}, {"metadata": {}}])


def _recording(calls, fn):
    def wrapper(*args):
        calls.append(tuple("<generator>" if type(a).__name__ == "generator" else repr(a) for a in args))
        return fn(*args)
    return wrapper


@pytest.mark.parametrize("replaced", ["usable", "average", "isfinite", "module sum", "module tuple"])
def test_fresh_map_calls_replaced_latency_functions_as_litellm(monkeypatch, flag, replaced):
    """With nothing cached LiteLLM's loop gives every candidate the unseen
    entry and calls ``_usable_latency_samples`` (twice) and ``_average_latency``
    on it per candidate, through the module's globals.  The fast pick takes
    that latency as 0.0 without calls only while those functions, ``isfinite``
    and the builtins they read are the pinned ones; a replaced one (a test's
    wrapper) sees LiteLLM's calls, in LiteLLM's order (before session 19 the
    fresh pick called them once)."""
    import math

    same_minute()
    outcomes = []
    for accelerated in (False, True):
        _warm()
        calls: list = []
        with monkeypatch.context() as patch:
            if replaced == "usable":
                patch.setattr(lowest_latency, "_usable_latency_samples",
                              _recording(calls, lowest_latency._usable_latency_samples))
            elif replaced == "average":
                patch.setattr(lowest_latency, "_average_latency", _recording(calls, lowest_latency._average_latency))
            elif replaced == "isfinite":
                patch.setattr(lowest_latency, "isfinite", _recording(calls, math.isfinite))
            elif replaced == "module sum":
                patch.setattr(lowest_latency, "sum", _recording(calls, sum), raising=False)
            else:
                patch.setattr(lowest_latency, "tuple", _recording(calls, tuple), raising=False)
            picks = _picks(_router(accelerated), accelerated, [{}, {"stream": True}, {"metadata": {"x": 1}}])
        outcomes.append((picks, calls))
    stock, fast = outcomes
    assert stock[1], "LiteLLM's loop called the replacement"
    assert all(p[0][0] == "ok" for p in stock[0])
    assert fast == stock
    assert flag.errors == 0


class _CountingBuffer:
    """A data descriptor put on ``RoutingArgs`` after the picks' checks were
    found to hold: LiteLLM's ``routing_args.lowest_latency_buffer`` runs it."""

    def __init__(self, reads, value):
        self.reads, self.value = reads, value

    def __get__(self, obj, owner=None):
        self.reads.append(obj is not None)
        return self.value

    def __set__(self, obj, value):  # a data descriptor: it wins over the instance dict
        raise AttributeError("read-only")


@pytest.mark.parametrize("change", ["descriptor on RoutingArgs", "descriptor on a base",
                                    "__getattribute__ on RoutingArgs", "__getattribute__ on a base"])
@pytest.mark.parametrize("value", [0.5, "x"])
def test_fresh_map_buffer_read_follows_class_changes(monkeypatch, flag, change, value):
    """The fresh pick reads ``lowest_latency_buffer`` from the instance dict
    while ``RoutingArgs``' classes hold no attribute of that name and no
    ``__getattribute__`` (one native check standing for the class walk,
    session 19).  A class changed after that check held makes the read
    LiteLLM's: the descriptor runs as often and the pick (or its error) is
    stock's."""
    from litellm.router_strategy.lowest_latency import RoutingArgs
    from litellm.types.utils import LiteLLMPydanticObjectBase

    same_minute()
    outcomes = []
    for accelerated in (False, True):
        _warm()
        reads: list = []
        router = _router(accelerated)
        with monkeypatch.context() as patch:
            if change == "descriptor on RoutingArgs":
                patch.setattr(RoutingArgs, "lowest_latency_buffer", _CountingBuffer(reads, value), raising=False)
            elif change == "descriptor on a base":
                patch.setattr(LiteLLMPydanticObjectBase, "lowest_latency_buffer", _CountingBuffer(reads, value),
                              raising=False)
            else:
                def getattribute(self, name, _reads=reads, _value=value):
                    if name == "lowest_latency_buffer":
                        _reads.append(True)
                        return _value
                    return object.__getattribute__(self, name)

                owner = RoutingArgs if change == "__getattribute__ on RoutingArgs" else LiteLLMPydanticObjectBase
                patch.setattr(owner, "__getattribute__", getattribute, raising=False)
            picks = _picks(router, accelerated, [{}, {"metadata": {}}])
        outcomes.append((picks, len(reads)))
    stock, fast = outcomes
    assert stock[1] >= 2, "LiteLLM read the buffer through the class"
    assert fast == stock
    assert flag.errors == 0


def _no_input(module=lowest_latency):
    return selector_fast.no_input_tokens(module)


def _delete(owner, name):
    return ("delete", owner, name)


@pytest.mark.parametrize("owner, name, value", [
    (tc, "split_embedding_input_tokens", lambda *a: (None, 0)),
    (tc, "litellm", None),
    (tc, "token_counter", lambda *a, **k: 7),
    (tc, "verbose_logger", None),
    (tpm, "split_embedding_media_for_tpm", lambda *a: (None, 0)),
    (tpm, "_is_json_array", lambda *a: False),
    (tpm, "_tpm_embedding_leaf", lambda *a: None),
    (tpm, "_tpm_media_leaf", lambda *a: None),
    (tpm, "_TPMMediaProjection", object),
    (tpm, "as_str_mapping", lambda *a: None),
    (tpm, "embedding_input_is_all_media", "delete"),
    (helpers, "Mapping", dict),
    (utils, "litellm", None),
    (utils, "get_token_counter_new", lambda: None),
    (utils, "convert_list_message_to_dict", "delete"),
    (litellm, "token_counter", lambda *a, **k: 7),
])
def test_no_input_count_kept_entries_each_decline(monkeypatch, owner, name, value):
    """The no-input count's full check, once passed, is kept as the entries
    it read (one native look-up, session 19; only the logger's level is asked
    again): each entry replaced (or deleted) afterwards makes the answer None
    (LiteLLM's code counts), and it is 0 again once restored."""
    assert _no_input() == 0 and _no_input() == 0
    assert selector_fast.no_input_tokens._fast is not None  # kept
    with monkeypatch.context() as patch:
        if value == "delete":
            patch.delattr(owner, name)
        else:
            patch.setattr(owner, name, value)
        assert _no_input() is None
    assert _no_input() == 0


def test_no_input_count_kept_entries_follow_the_logger_and_modules(monkeypatch):
    """What the kept entries cover besides module bindings: ``sys.modules``'
    token_counter module, the logger's class and level, the switch
    ``litellm.disable_token_counter`` (True answers 0 by LiteLLM's first
    check and is never kept)."""
    import logging
    import sys
    import types

    from litellm._logging import verbose_logger

    assert _no_input() == 0 and _no_input() == 0
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, tc.__name__, types.ModuleType(tc.__name__))
        assert _no_input() is None
    assert _no_input() == 0
    level = verbose_logger.level
    verbose_logger.setLevel(logging.DEBUG)
    try:
        assert _no_input() is None
    finally:
        verbose_logger.setLevel(level)
    assert _no_input() == 0

    class Logger(logging.Logger):
        pass

    verbose_logger.__class__ = Logger
    try:
        assert _no_input() is None
    finally:
        verbose_logger.__class__ = logging.Logger
    assert _no_input() == 0
    with monkeypatch.context() as patch:
        patch.setattr(litellm, "disable_token_counter", True)
        assert _no_input() == 0
        assert selector_fast.no_input_tokens._fast is None
        patch.setattr(litellm, "disable_token_counter", "yes")  # not True: the full check, 0
        assert _no_input() == 0
    assert _no_input() == 0 and selector_fast.no_input_tokens._fast is not None


@pytest.mark.parametrize("change", ["method wrapped", "method on the latency class", "constant",
                                    "constants unloaded", "instance attribute"])
def test_metadata_field_follows_litellms_method_and_constants(monkeypatch, flag, change):
    """The latency pick makes ``_select_metadata_field``'s answer itself while
    the look-up finds LiteLLM's pinned ``CustomLogger`` method and its import
    statement reads only the loaded ``litellm.constants`` (session 19).  A
    method replaced or overridden after that held, a constant changed or the
    module unloaded (the statement imports it again) is what LiteLLM's call
    sees: the calls, the metadata written and the picks are stock's."""
    import sys

    import litellm.constants as constants
    from litellm.integrations.custom_logger import CustomLogger
    from litellm.router_strategy.lowest_latency import LowestLatencyLoggingHandler

    stock_method = CustomLogger._select_metadata_field
    same_minute()
    outcomes = []
    for accelerated in (False, True):
        _warm()
        calls: list = []

        def wrapped(self, request_kwargs=None):
            calls.append(sorted(request_kwargs or ()))
            return stock_method(self, request_kwargs)

        router = _router(accelerated)
        requests = [{"metadata": {}}, {"litellm_metadata": {}, "metadata": {}}, {"other": {}}]
        with monkeypatch.context() as patch:
            if change == "method wrapped":
                patch.setattr(CustomLogger, "_select_metadata_field", wrapped)
            elif change == "method on the latency class":
                patch.setattr(LowestLatencyLoggingHandler, "_select_metadata_field", wrapped, raising=False)
            elif change == "constant":
                patch.setattr(constants, "LITELLM_METADATA_FIELD", "other")
            elif change == "constants unloaded":
                patch.delitem(sys.modules, "litellm.constants")
            else:
                for selector in router._core._selectors.callback_selectors():
                    selector._select_metadata_field = wrapped.__get__(selector)
            picks = []
            random.seed(4)
            for request in requests:
                with _local_patch.accelerated(accelerated), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    picked = asyncio.run(router.async_get_available_deployment(model="g", request_kwargs=request))
                picks.append((picked["model_info"]["id"], random.getstate(),
                              {k: sorted(v) if isinstance(v, dict) else v for k, v in request.items()}))
            reloaded = sys.modules.get("litellm.constants") is not constants
        outcomes.append((picks, calls, reloaded))
    stock, fast = outcomes
    assert fast == stock
    if change in ("method wrapped", "method on the latency class", "instance attribute"):
        assert stock[1], "LiteLLM called the replacement"
    assert flag.errors == 0


# ---- the pre-route's phase record of no decision (session 19) ---------------------------

@pytest.mark.parametrize("strategy", [LATENCY, "simple-shuffle", "least-busy"])
@pytest.mark.parametrize("change", ["prerouting phase_attributes", "prerouting routing_decision_attributes",
                                    "routing MappingProxyType", "routing isinstance", "runtime _otel_runtime",
                                    "logger _registered_v2_logger", "proxy logger registered"])
def test_pre_route_phase_record_follows_litellms_functions(monkeypatch, flag, strategy, change):
    """The pre-route records no decision to the OTel phase as
    ``phase_attributes(routing_decision_attributes(None))``; the fused pick
    skips those calls where they record nothing (LiteLLM's functions and
    globals as pinned, the runtime's hook LiteLLM's logger ``phase_attributes``
    with no v2 logger registered and no proxy server loaded).  Each changed
    after warm picks: the calls and what reaches a registered logger are
    stock's."""
    import contextlib
    import sys
    import types

    from litellm.integrations.otel import logger as otel_logger
    from litellm.integrations.otel import routing as otel_routing
    from litellm.integrations.otel import runtime as otel_runtime
    from litellm.router_rust.steps import prerouting

    seen: list = []

    def recording(name, fn):
        def wrapper(*args, **kwargs):
            seen.append((name, tuple(dict(a) if isinstance(a, types.MappingProxyType) else a for a in args)))
            return fn(*args, **kwargs)
        return wrapper

    class Registered(otel_logger.OpenTelemetryV2):
        def __init__(self):  # (no SDK set-up: only what a pick calls)
            pass

        @contextlib.contextmanager
        def start_phase_span(self, name):
            seen.append(("span", name))
            yield None

        def set_phase_attributes(self, attributes):
            seen.append(("attributes", dict(attributes)))

    same_minute()
    outcomes = []
    for accelerated in (False, True):
        with warnings.catch_warnings(), _local_patch.accelerated(accelerated):
            warnings.simplefilter("ignore")
            router = litellm.Router(model_list=copy.deepcopy(MODEL_LIST), routing_strategy=strategy)
        _picks(router, accelerated, [{}, {}])  # warm: every check found to hold
        del seen[:]
        with monkeypatch.context() as patch:
            if change == "prerouting phase_attributes":
                patch.setattr(prerouting, "phase_attributes", recording(change, prerouting.phase_attributes))
            elif change == "prerouting routing_decision_attributes":
                patch.setattr(prerouting, "routing_decision_attributes",
                              recording(change, prerouting.routing_decision_attributes))
            elif change == "routing MappingProxyType":
                patch.setattr(otel_routing, "MappingProxyType", recording(change, types.MappingProxyType))
            elif change == "routing isinstance":
                patch.setattr(otel_routing, "isinstance", recording(change, isinstance), raising=False)
            elif change == "runtime _otel_runtime":
                patch.setattr(otel_runtime, "_otel_runtime", recording(change, otel_runtime._otel_runtime))
            elif change == "logger _registered_v2_logger":
                patch.setattr(otel_logger, "_registered_v2_logger",
                              recording(change, otel_logger._registered_v2_logger))
            else:
                proxy = types.ModuleType("litellm.proxy.proxy_server")
                proxy.open_telemetry_logger = Registered()
                patch.setitem(sys.modules, "litellm.proxy.proxy_server", proxy)
            picks = _picks(router, accelerated, [{}, {"metadata": {}}])
        outcomes.append((picks, list(seen)))
        router.retire()
    stock, fast = outcomes
    assert stock[1], "LiteLLM's code saw the change"
    assert all(p[0][0] == "ok" for p in stock[0])
    assert fast == stock
    assert flag.errors == 0
