"""Differential tests for the pick's fixed-cost fast paths
(fast_litellm/routing/protocol_fast.py): LiteLLM 1.110.2 stock vs
accelerated, side by side.

* ``_start_fields``: randomized requests (metadata buckets with team ids of
  every shape, auth objects, retry counts, validated fields that decline)
  give the same fields or the same exception, and the fast path is the one
  taken for the requests it covers.
* the deprecated ``Router.async_get_available_deployment`` read: the same
  warnings (message, category, file, line; under "always", "default",
  "error" and "ignore" filters), the same tally, no warning from LiteLLM's
  own modules, and function objects with the same code, closure contents,
  names, defaults, annotations and ``__wrapped__``; assigned picks, custom
  strategies, other attributes and class-level reads are LiteLLM's.
* ``RustCore._pre_route`` with no pre-routing strategy: the same request
  (stale routing stamps cleared, the client's output ceiling restored) and
  the same answer; routers with a custom strategy, routing plugins, an
  assigned pick, pass-through and fallback hops are LiteLLM's.
The lockstep pick tests in test_routing_litellm.py run every pick through
both fast paths too.
"""
from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import os
import random
import sys
import warnings

import pytest
from _memo_checks import assert_each_change_declines
from _lockstep import routing_patches, same_minute  # noqa: E402

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
litellm = pytest.importorskip("litellm")

from fast_litellm.patching.registry import NotAccelerated  # noqa: E402
from fast_litellm.routing import _local_patch, patches, protocol_fast  # noqa: E402

MODEL_LIST = [{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"},
               "model_info": {"id": "d%d" % i}} for i in range(4)]

# the memos keyed on dict version tags keep nothing on 3.12+ (no tags there):
# every check runs each call, and a test asserting an entry was kept has none
MEMOS_KEEP = sys.version_info < (3, 12)


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


def _router(accelerated=None, **kwargs):
    # accelerated: built with the fast paths on (True; as after import fast_litellm: its picks on the
    # twin handle) or off; None: under the switch as the caller set it (other files build through this)
    switch = contextlib.nullcontext() if accelerated is None else _local_patch.accelerated(accelerated)
    with warnings.catch_warnings(), switch:
        warnings.simplefilter("ignore")
        return litellm.Router(model_list=copy.deepcopy(MODEL_LIST), **kwargs)


def _patch(name):
    return next(p for p in patches.PATCHES if p.name == name)


def _original(target):
    owner, name = _local_patch._owner(target)
    return _local_patch._original_of(owner, name)


# ---- _start_fields -----------------------------------------------------------

class _Auth:
    def __init__(self, models=None, team_models=None, user_role=None):
        self.models = models
        self.team_models = team_models
        self.user_role = user_role


class _Str(str):
    pass


def _bucket(gen):
    bucket = {}
    for key, choices in (
        ("user_api_key_team_id", ["team-a", "", None, 7, _Str("team-s")]),
        ("user_api_key_auth", [None, _Auth(["m1", "m2"]), _Auth(None, ("t1",), "proxy_admin"),
                               _Auth([], [], "internal_user")]),
        ("model_group", ["g", None]),
        ("other", [1, "x"]),
    ):
        if gen.random() < 0.4:
            bucket[key] = gen.choice(choices)
    return bucket


def _request(gen):
    request = {}
    if gen.random() < 0.6:
        request["metadata"] = _bucket(gen) if gen.random() < 0.8 else gen.choice([None, "text", [1]])
    if gen.random() < 0.3:
        request["litellm_metadata"] = _bucket(gen)
    if gen.random() < 0.4:
        request["num_retries"] = gen.choice([None, 0, 3, -1, 2.5, "x", True, 10 ** 9])
    if gen.random() < 0.3:
        request["model"] = gen.choice(["g", "h", None])
    if gen.random() < 0.3:
        request["stream"] = gen.choice([True, False])
    if gen.random() < 0.15:
        request["routing_strategy"] = gen.choice([None, "least-busy", 5])
    if gen.random() < 0.15:
        key = gen.choice(protocol_fast._VALIDATED_KEYS + ("team_id", "listing_team_id"))
        request[key] = gen.choice([None, True, ["g"], "g", -1, 3, {"g": ["h"]}])
    if gen.random() < 0.05:
        request[7] = "non-str key"
    return request


def _outcome(fn, request):
    try:
        return ("ok", fn(request))
    except Exception as exc:  # the exception itself is compared
        return ("raised", type(exc).__name__, str(exc))


def test_start_fields_match():
    target = _patch("routing.start_fields").target
    original = _original(target)
    fast = protocol_fast.make_start_fields(original)
    gen = random.Random("start-fields")
    taken = 0
    for _ in range(3000):
        request = _request(gen)
        before = copy.deepcopy(request) if 7 not in request else None
        stock = _outcome(original, request)
        try:
            got = ("ok", fast(request))
            taken += 1
        except NotAccelerated:
            continue
        assert got == stock, (request, stock, got)
        assert type(got[1]) is dict
        if before is not None:
            assert set(before) == set(request)  # the request is read, never changed
    assert taken > 800, taken


def test_start_fields_fast_path_is_taken_for_plain_requests():
    fast = protocol_fast.make_start_fields(_original(_patch("routing.start_fields").target))
    assert fast({}) == {}
    assert fast({"metadata": {"user_api_key_team_id": "t"}, "num_retries": 2}) == {
        "num_retries": 2, "team_id": "t", "listing_team_id": "t"}
    for declined in ({"fallbacks": ["g"]}, {"routing_strategy": "least-busy"}, {"metadata": "x"},
                     {1: 2}, {"metadata": {"user_api_key_team_id": _Str("t")}}):
        with pytest.raises(NotAccelerated):
            fast(declined)


# ---- the deprecated pick attribute -------------------------------------------

_NAME = "async_get_available_deployment"


def _read(router, accelerated, action, reads=2):
    """Warnings, tally change, returned objects (or the exception) of
    ``reads`` reads from this (non-LiteLLM) module, under ``action``."""
    from litellm.router_deprecated import DEPRECATED_ROUTER_MEMBER_USES as tally

    before = tally[_NAME]
    got = []
    with _local_patch.accelerated(accelerated), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter(action)
        for _ in range(reads):
            try:
                got.append(router.async_get_available_deployment)  # one line: the registry sees one site
            except Exception as exc:
                got.append(("raised", type(exc).__name__, str(exc)))
    shown = [(str(w.message), w.category, w.filename, w.lineno) for w in seen]
    return shown, tally[_NAME] - before, got


def _describe(fn, same_router=True):
    if isinstance(fn, tuple):
        return fn
    inner = fn.__wrapped__
    return (
        fn.__code__, fn.__name__, fn.__qualname__, fn.__module__, fn.__doc__, fn.__defaults__, fn.__kwdefaults__,
        fn.__annotations__, sorted(fn.__dict__), fn.__annotations__ is inner.__annotations__,
        inner.__code__, inner.__name__, inner.__qualname__, inner.__module__, inner.__doc__, inner.__defaults__,
        inner.__annotations__, inner.__dict__, str(inspect.signature(fn)),
        [type(c.cell_contents) for c in fn.__closure__],
        [c.cell_contents if same_router else type(c.cell_contents) for c in inner.__closure__ or ()],
    )


@pytest.mark.parametrize("action", ["always", "default", "error", "ignore", "once"])
def test_deprecated_read_matches(action):
    router = _router()
    stock = _read(router, False, action)
    fast = _read(router, True, action)
    assert stock[0] == fast[0], (stock[0], fast[0])
    assert stock[1] == fast[1] == 2
    assert [_describe(f) for f in stock[2]] == [_describe(f) for f in fast[2]]
    if action != "error":
        # a fresh function object per read, as LiteLLM builds one per read
        assert fast[2][0] is not fast[2][1] and fast[2][0].__wrapped__ is not fast[2][1].__wrapped__
        # and the fast picker is the one taken
        assert _describe(_fast_picker()(router)) == _describe(stock[2][0])


def test_deprecated_read_picks_the_same():
    for strategy in ("simple-shuffle", "least-busy"):
        a = _router(routing_strategy=strategy)
        with _local_patch.accelerated(True):  # as a router made after import fast_litellm: on the twin handle
            b = _router(routing_strategy=strategy)
        for seed in range(5):
            out = []
            same_minute()  # both sides in one wall-clock minute
            for router, accelerated in ((a, False), (b, True)):
                random.seed(seed)
                with _local_patch.accelerated(accelerated), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    picked = asyncio.run(router.async_get_available_deployment("g", {}))
                out.append((picked["model_info"]["id"], random.getstate()))
            assert out[0] == out[1]


def test_deprecated_read_from_litellm_modules_is_not_counted():
    """_note: a read from litellm.router* is the router's own: no tally, no warning."""
    router = _router()
    results = []
    same_minute()  # both sides in one wall-clock minute
    for accelerated in (False, True):
        from litellm.router_deprecated import DEPRECATED_ROUTER_MEMBER_USES as tally

        before = tally[_NAME]
        scope = {"__name__": "litellm.router_internal_probe", "router": router}
        with _local_patch.accelerated(accelerated), warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            exec("picked = router.async_get_available_deployment", scope)
        results.append((len(seen), tally[_NAME] - before, _describe(scope["picked"])))
    assert results[0] == results[1] and results[0][:2] == (0, 0)


def _fast_picker():
    return protocol_fast.make_unreserved_picker(_original(_patch("routing.unreserved_picker").target))


def test_deprecated_read_declines():
    """Assigned picks (through the attribute, on the core), custom
    strategies, routers without a core: LiteLLM's picker, same answers."""
    fast = _fast_picker()
    from litellm.router import Router

    async def assigned(*args, **kwargs):
        return {"model_name": "g", "litellm_params": {"model": "openai/gpt-4o"}, "model_info": {"id": "d2"}}

    class _Strategy(litellm.types.router.CustomRoutingStrategyBase):
        async def async_get_available_deployment(self, model, messages=None, input=None,
                                                 specific_deployment=False, request_kwargs=None):
            return MODEL_LIST[1]

        def get_available_deployment(self, model, messages=None, input=None, specific_deployment=False,
                                     request_kwargs=None):
            return MODEL_LIST[1]

    def through_attribute(r):
        r.async_get_available_deployment = assigned

    def on_core(r):
        r._core.__dict__["_core_async_get_available_deployment"] = assigned

    strategy = _Strategy()  # one instance: the closures compared hold it

    def custom(r):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r.set_custom_routing_strategy(strategy)

    for make in (through_attribute, on_core, custom):
        routers = [_router(), _router(True)]
        outs = []
        same_minute()  # both sides in one wall-clock minute
        for r, accelerated in zip(routers, (False, True)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                make(r)
            if accelerated:
                with pytest.raises(NotAccelerated):
                    fast(r)
            shown, counted, got = _read(r, accelerated, "always")
            random.seed(3)
            with _local_patch.accelerated(accelerated), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    picked = asyncio.run(r.async_get_available_deployment("g", {}))["model_info"]["id"]
                except Exception as exc:
                    picked = (type(exc).__name__, str(exc))
            outs.append((shown, counted, [_describe(g, False) if inspect.isfunction(g) and hasattr(g, "__wrapped__")
                                          else g for g in got], picked, random.getstate()))
        assert outs[0] == outs[1], make.__name__
    bare = Router.__new__(Router)
    with pytest.raises(NotAccelerated):
        fast(bare)
    with pytest.raises(NotAccelerated):
        fast(object())


# ---- pre-routing with no strategy registered -----------------------------------

def _fast_pre_route():
    return protocol_fast.make_pre_route(_original(_patch("routing.pre_route").target))


def _stamped_request(gen):
    request = {}
    for bucket in ("metadata", "litellm_metadata"):
        if gen.random() < 0.6:
            request[bucket] = {key: value for key, value in (
                ("routing_decision", {"router_model_name": "auto"}), ("_autorouter_baseline_route", "x"),
                ("_session_deployment_affinity_ttl", 60), ("_consumed_request_tags", ["t"]),
                ("_client_output_ceiling", gen.choice([{"max_tokens": 5}, {"max_output_tokens": "7", "x": 1}, 3])),
                ("model_group", "g"), ("other", 1)) if gen.random() < 0.5}
    for carrier in ("max_tokens", "max_output_tokens", "max_completion_tokens"):
        if gen.random() < 0.3:
            request[carrier] = gen.choice([10, None])
    return request


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # usage-based-routing's sync task, built outside a loop
def test_pre_route_matches():
    gen = random.Random("pre-route")
    fast = _fast_pre_route()
    original = _original(_patch("routing.pre_route").target)
    for strategy in ("simple-shuffle", "least-busy", "usage-based-routing", "cost-based-routing"):
        router = _router(routing_strategy=strategy)
        core = router._core
        for _ in range(60):
            request = _stamped_request(gen)
            step = {"kind": "pre_route", "model": gen.choice(["g", "h"]), "fallback_depth": gen.choice([None, 0])}
            a, b = copy.deepcopy(request), copy.deepcopy(request)
            stock = asyncio.run(original(core, dict(step), a))
            got = asyncio.run(fast(core, dict(step), b))
            assert (stock, a) == (got, b), (strategy, request)


def test_pre_route_declines():
    fast = _fast_pre_route()
    router = _router()
    step = {"kind": "pre_route", "model": "g", "fallback_depth": None}
    for declined_step, kwargs in ((dict(step, fallback_depth=1), {}), (step, {"pass_through": True}),
                                  (dict(step, model=3), {})):
        with pytest.raises(NotAccelerated):
            asyncio.run(fast(router._core, declined_step, {}, **kwargs))

    async def assigned(*args, **kwargs):
        return MODEL_LIST[0]

    core = router._core
    core.__dict__["_core_async_get_available_deployment"] = assigned
    with pytest.raises(NotAccelerated):
        asyncio.run(fast(core, step, {}))
    del core.__dict__["_core_async_get_available_deployment"]
    core._hosted._core_routing_plugins.append(object())
    with pytest.raises(NotAccelerated):
        asyncio.run(fast(core, step, {}))
    core._hosted._core_routing_plugins.clear()
    core._hosted._core_auto_routers["g"] = []
    with pytest.raises(NotAccelerated):
        asyncio.run(fast(core, step, {}))
    del core._hosted._core_auto_routers["g"]
    assert asyncio.run(fast(core, step, {})) is None  # and taken again


def test_pre_route_with_aliases_matches():
    """An alias map: the look-up the fast path skips is pure, the pick routes the same."""
    runs = []
    same_minute()  # both sides in one wall-clock minute
    for accelerated in (False, True):
        router = _router(accelerated, model_group_alias={"alias": "g", "other": {"model": "g", "hidden": True}})
        out = []
        for seed, model in enumerate(["alias", "other", "g", "alias"]):
            random.seed(seed)
            request = {"metadata": {"routing_decision": {"x": 1}}}
            with _local_patch.accelerated(accelerated), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    picked = asyncio.run(router.async_get_available_deployment(model, request))["model_info"]["id"]
                except Exception as exc:
                    picked = (type(exc).__name__, str(exc))
            out.append((picked, request, random.getstate()))
        runs.append(out)
    assert runs[0] == runs[1]


# ---- the usage-v2 selector probe ----------------------------------------------

def test_prefetch_usage_selector_matches():
    fast = protocol_fast.make_prefetch_usage_selector(_original(_patch("routing.prefetch_usage_selector").target))
    original = _original(_patch("routing.prefetch_usage_selector").target)
    taken = 0
    for strategy in ("simple-shuffle", "least-busy", "latency-based-routing", "cost-based-routing",
                     "usage-based-routing-v2"):
        for extra in ({}, {"model_group_alias": {"alias": "g", "x": {"model": "g"}}}):
            router = _router(routing_strategy=strategy, **extra)
            for model in ("g", "alias", "x", "nope"):
                for request in (None, {}, {"routing_strategy": "usage-based-routing-v2"},
                                {"routing_strategy": "least-busy"}, {"routing_strategy": None}):
                    stock = original(router._core, model, copy.deepcopy(request))
                    try:
                        got = fast(router._core, model, copy.deepcopy(request))
                    except NotAccelerated:
                        continue
                    taken += 1
                    assert got is stock, (strategy, model, request)
    assert taken >= 5 * 2 * 4 * 3
    # a v2 router's probe is its default selector, as LiteLLM finds it
    from litellm.router_strategy.lowest_tpm_rpm_v2 import LowestTPMLoggingHandler_v2

    router = _router(routing_strategy="usage-based-routing-v2")
    got = fast(router._core, "g", {})
    assert isinstance(got, LowestTPMLoggingHandler_v2) and got is original(router._core, "g", {})
    # a strategy override and routing groups are LiteLLM's
    with pytest.raises(NotAccelerated):
        fast(_router()._core, "g", {"routing_strategy": "usage-based-routing-v2"})


# ---- the real patch engine applies every routing patch ---------------------------

def test_engine_applies_every_routing_patch():
    """``import fast_litellm`` then ``import litellm``: the engine applies each
    routing patch while LiteLLM's modules load (the picker's was refused once
    for reading litellm.router too early), and each fast path serves a pick."""
    import subprocess
    import sys

    script = r"""
import asyncio, json, os, sys, warnings
import fast_litellm, litellm
from fast_litellm.routing import patches
from fast_litellm.routing._local_patch import _owner
warnings.simplefilter("ignore")
out = {}
for patch in patches.PATCHES:
    owner, name = _owner(patch.target)
    current = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
    out[patch.name] = getattr(current, "__fast_litellm_patch__", None) == patch.name
router = litellm.Router(model_list=[{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"},
                                      "model_info": {"id": "d0"}}])
from litellm.router_deprecated import _unreserved_picker
from litellm.router_rust import core
out["picker serves"] = callable(_unreserved_picker.__fast_litellm_fast__(router))
out["start fields serve"] = core._start_fields.__fast_litellm_fast__({}) == {}
out["pick"] = asyncio.run(router.async_get_available_deployment("g", {}))["model_info"]["id"] == "d0"
print("RESULT " + json.dumps(out))
"""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    assert line, proc.stderr[-3000:]
    import json

    got = json.loads(line[-1][7:])
    assert all(got.values()), got


# ---- the served record and the narrowing fields ----------------------------------

def _served_records(gen):
    for _ in range(300):
        info = {"id": "d%d" % gen.randint(0, 3)}
        for key, value in (("team_public_model_name", gen.choice(["pub/*", "pub", None, 3])),
                           ("access_windows", []), ("ptu_effective_to", "2030-01-01T00:00:00"), ("x", 1)):
            if gen.random() < 0.2:
                info[key] = value
        params = {"model": gen.choice(["openai/gpt-4o", "openai/*", None, 5]), "api_key": "k"}
        record = {"model_name": gen.choice(["g", "wild/*", None]), "litellm_params": params, "model_info": info}
        if gen.random() < 0.1:
            params[7] = "x"
        if gen.random() < 0.1:
            record["model_info"] = None
        yield record


def test_served_matches():
    original = _original(_patch("routing.served").target)
    fast = protocol_fast.make_served(original)
    from litellm.router_rust.core import _Selection

    gen = random.Random("served")
    taken = 0
    for live in (False, True):
        router = _router()
        if live:  # a deployment whose params JSON carries as text: _with_live_params merges them back
            router._core._hosted.live_params = (
                lambda model_id: {"mock_response": ValueError("x")} if model_id == "d1" else {})
        for model in ("g", "pub/x", "wild/y"):
            selection = object.__new__(_Selection)
            selection.__dict__.update(_core=router._core, _model=model)
            for record in _served_records(gen):
                stock = _outcome(lambda r: original(selection, r), copy.deepcopy(record))
                try:
                    got = ("ok", fast(selection, copy.deepcopy(record)))
                    taken += 1
                except NotAccelerated:
                    continue
                assert repr(got) == repr(stock), (record, stock, got)
    assert taken > 300, taken


def test_narrowing_fields_match():
    original = _original(_patch("routing.narrowing_fields").target)
    fast = protocol_fast.make_narrowing_fields(original)
    for request in ({}, {"metadata": {}}, {"x": 1, "stream": True}):
        for kind in ("pick", "pass_through", "healthy"):
            a, b = dict(request), dict(request)
            assert fast(a, kind) == original(b, kind) and a == b
    for request in ({"_target_order": 1}, {"_excluded_deployment_ids": ["d0"]},
                    {"_retry_skipped_deployment_ids": ("d1",)}):
        with pytest.raises(NotAccelerated):
            fast(dict(request), "pick")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_pre_route_error_after_its_stamps_is_raised_once_through_the_engine(monkeypatch):
    """LiteLLM's compaction arming raising after the hook stamped the request
    and recorded the routing decision: through the engine's wrapper the
    error is the caller's, so the original does not run on top and record
    the decision (an OTel phase attribute) a second time."""
    from litellm.router_rust.steps import prerouting

    from fast_litellm.patching import registry, wrappers

    patch = _patch("routing.pre_route")
    original = _original(patch.target)
    guarded = wrappers.guarded(patch, original, _fast_pre_route())
    recorded = []
    phase_attributes = prerouting.phase_attributes

    def counting(*args, **kwargs):
        recorded.append(args)
        return phase_attributes(*args, **kwargs)

    async def refusing(request, strategy):
        raise RuntimeError("compaction refused")

    monkeypatch.setattr(prerouting, "phase_attributes", counting)
    monkeypatch.setattr(prerouting, "arm_compaction", refusing)
    router = _router()
    step = {"kind": "pre_route", "model": "g", "fallback_depth": None}
    outcomes = []
    for pre_route in (original, guarded):
        del recorded[:]
        request = {"metadata": {"routing_decision": {"router_model_name": "auto"}}}
        with pytest.raises(RuntimeError, match="compaction refused") as info:
            asyncio.run(pre_route(router._core, dict(step), request))
        outcomes.append((request, len(recorded)))
    assert outcomes[0] == outcomes[1] and outcomes[0][1] == 1
    assert id(info.value) not in registry._CALLERS  # the wrapper read the mark and dropped it


def test_router_service_event_with_no_callback_builds_nothing(monkeypatch):
    """``ServiceLogging.async_service_success_hook`` for a ROUTER event: with
    no service callback and mock testing off, LiteLLM's body builds a
    payload for nobody and returns None, as the fast body does; every other
    case (another service, a callback, mock testing, a subclass, argument
    types whose payload would not validate) is declined to LiteLLM's body,
    which is checked to raise or count where it does."""
    from litellm._service_logger import ServiceLogging
    from litellm.types.services import ServiceTypes

    original = _original(_patch("routing.service_event").target)
    fast = protocol_fast.make_service_success_hook(original)
    logger = ServiceLogging()
    args = dict(service=ServiceTypes.ROUTER, call_type="async_get_available_deployment", duration=0.25,
                start_time=1.0, end_time=1.25, parent_otel_span=None)
    monkeypatch.setattr(litellm, "service_callback", [])
    assert asyncio.run(original(logger, **args)) is None
    assert asyncio.run(fast(logger, **args)) is None

    class Sub(ServiceLogging):
        pass

    declined = [
        (logger, dict(args, service=ServiceTypes.REDIS)),
        (logger, dict(args, duration=1)),
        (logger, dict(args, duration="slow")),  # LiteLLM's payload refuses it
        (logger, dict(args, call_type=None)),
        (logger, dict(args, event_metadata={"k": "v"})),
        (logger, dict(args, caller="x")),
        (ServiceLogging(mock_testing=True), args),
        (Sub(), args),
    ]
    for who, kwargs in declined:
        with pytest.raises(NotAccelerated):
            asyncio.run(fast(who, **kwargs))
    with pytest.raises(Exception, match="validation error"):
        asyncio.run(original(logger, **dict(args, duration="slow")))
    counted = ServiceLogging(mock_testing=True)
    asyncio.run(original(counted, **args))
    assert counted.mock_testing_async_success_hook == 1
    for callbacks in (["prometheus_system"], ()):
        monkeypatch.setattr(litellm, "service_callback", callbacks)
        with pytest.raises(NotAccelerated):
            asyncio.run(fast(logger, **args))


def test_router_service_event_reads_the_payload_class_where_litellm_does(monkeypatch):
    """LiteLLM's body builds its payload from ``_service_logger``'s own
    binding of ``ServiceLoggerPayload`` (and compares with its
    ``ServiceTypes``), read at the call: a ``mock.patch`` of that binding,
    to watch the events, sees each pick's ROUTER payload built.  The fast
    body built none and returned; it now declines then, and a pick's event
    is built for the spy on both sides."""
    from unittest import mock

    from litellm import _service_logger
    from litellm.types.services import ServiceTypes

    monkeypatch.setattr(litellm, "service_callback", [])
    built = []
    for accelerated in (False, True):
        router = _router(accelerated, routing_strategy="least-busy")

        async def pick():
            await router.async_get_available_deployment(model="g", request_kwargs={})
            for _ in range(3):  # the pick's service task runs
                await asyncio.sleep(0)

        with mock.patch.object(_service_logger, "ServiceLoggerPayload",
                               wraps=_service_logger.ServiceLoggerPayload) as spy:
            with _local_patch.accelerated(accelerated), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                asyncio.run(pick())
        built.append(sorted((k, v) for c in spy.call_args_list for k, v in c.kwargs.items() if k != "duration"))
        reads = []

        class Watched:
            def __getattr__(self, name):
                reads.append(name)
                return getattr(ServiceTypes, name)

        monkeypatch.setattr(_service_logger, "ServiceTypes", Watched())
        with _local_patch.accelerated(accelerated), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            asyncio.run(pick())
        monkeypatch.setattr(_service_logger, "ServiceTypes", ServiceTypes)
        built.append(reads)
    assert built[:2] == built[2:]
    assert built[0] and built[1] == ["REDIS"]  # both saw LiteLLM's body run


def test_router_service_event_is_decided_when_its_task_runs(monkeypatch):
    """The decision is made when the pick's service task runs, as LiteLLM's
    body makes it: mock testing switched on between the pick and the task's
    first step is counted (LiteLLM's body ran), and left off it is not."""
    monkeypatch.setattr(litellm, "service_callback", [])
    for switch_on in (False, True):
        router = _router(routing_strategy="least-busy")
        logger = router._core.service_logger_obj

        async def pick_then_switch():
            await router.async_get_available_deployment(model="g", request_kwargs={})
            # the pick scheduled its service task; nothing has run it yet
            assert logger.mock_testing_async_success_hook == 0
            logger.mock_testing = switch_on
            for _ in range(3):
                await asyncio.sleep(0)

        with _local_patch.accelerated(True), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            asyncio.run(pick_then_switch())
        assert logger.mock_testing_async_success_hook == (1 if switch_on else 0)


# ---- the guards' state memo (protocol_fast._StateMemo) ----------------------------

def test_dict_tags_change_with_every_dict_and_type_change():
    """router_dict_tags: a new tag on every change to a dict or a type's own
    dict (what _StateMemo keeps its verdicts against); none for other objects."""
    from fast_litellm._native_loader import NATIVE

    tags = NATIVE.router_dict_tags
    import sys

    if sys.version_info >= (3, 12):
        assert tags(({},)) is None
        return

    class Klass:
        pass

    d = {"a": 1}
    changes = [lambda: d.__setitem__("b", 2), lambda: d.__setitem__("a", 3), lambda: d.pop("a"),
               lambda: d.setdefault("c", 4), lambda: d.update(e=5), lambda: d.clear(), lambda: d.__setitem__("a", 1),
               lambda: d.popitem(), lambda: setattr(Klass, "x", 1), lambda: setattr(Klass, "x", 2),
               lambda: delattr(Klass, "x"), lambda: Klass.__dict__ and setattr(Klass, "__getattr__", len)]
    for change in changes:
        recorded = tags((d, Klass))
        assert type(recorded) is bytes and tags((d, Klass), recorded) is True
        change()
        assert tags((d, Klass), recorded) is False
    recorded = tags((d, Klass))
    d["same"] = v = object()
    recorded = tags((d, Klass))
    d["same"] = v  # the same object again: nothing changed, the tag stays
    assert tags((d, Klass), recorded) is True
    assert tags(([],)) is None and tags((d, None)) is None and tags((d,), b"") is False


def _memo_kept(fast_call):
    """The fast path serves, and a second call is served from its memo."""
    from fast_litellm.routing.protocol_fast import _StateMemo

    remembered = []
    original = _StateMemo.remember

    def counting(self, *args):
        remembered.append(args[0])
        return original(self, *args)

    _StateMemo.remember = counting
    try:
        first = fast_call()
        count = len(remembered)
        again = fast_call()
        return first, again, count, len(remembered) - count
    finally:
        _StateMemo.remember = original


def _reclassed(obj):
    """Give obj a subclass of its type (``__class__`` assignment changes no
    dict's version tag, so the memos must check types per call); returns
    the undo."""
    saved = type(obj)

    class Other(saved):
        pass

    obj.__class__ = Other
    return lambda: setattr(obj, "__class__", saved)


def test_picker_memo_sees_every_change_after_a_pick():
    """The picker's verdict is kept per router while nothing it read changed;
    each change made after a kept verdict declines the next read (LiteLLM's
    picker then reads), and undone, the fast path serves again."""
    import sys

    from litellm.router import Router
    from litellm.router_rust.core import RustCore

    fast = _fast_picker()
    router = _router()
    core = router._core
    *_, kept_again = _memo_kept(lambda: fast(router))
    if sys.version_info < (3, 12):
        assert kept_again == 0  # served from the memo

    async def assigned(*args, **kwargs):
        return MODEL_LIST[0]

    def on_core():
        core.__dict__["_core_async_get_available_deployment"] = assigned
        return lambda: core.__dict__.pop("_core_async_get_available_deployment")

    def on_router_dict():
        router.__dict__["_core_async_get_available_deployment"] = assigned
        return lambda: router.__dict__.pop("_core_async_get_available_deployment")

    def on_router_class():
        Router._core_async_get_available_deployment = assigned
        return lambda: delattr(Router, "_core_async_get_available_deployment")

    def on_core_class():
        RustCore._core_async_get_available_deployment = assigned
        return lambda: delattr(RustCore, "_core_async_get_available_deployment")

    def on_object():  # a base class of both: object's dict cannot change; its subclass's can
        saved = RustCore.__dict__["__getattr__"]
        RustCore.__getattr__ = lambda self, name: assigned
        return lambda: setattr(RustCore, "__getattr__", saved)

    def on_plain():
        core.__dict__["_plain"]["_core_async_get_available_deployment"] = assigned
        return lambda: core.__dict__["_plain"].pop("_core_async_get_available_deployment")

    def custom_strategy():
        saved = core.__dict__["_custom_strategy"]
        core.__dict__["_custom_strategy"] = object()
        return lambda: core.__dict__.__setitem__("_custom_strategy", saved)

    def endpoints_class():
        return _reclassed(core.__dict__["_endpoints"])

    def rebound_dict():
        saved = router.__dict__
        router.__dict__ = dict(saved, _core=None)
        return lambda: setattr(router, "__dict__", saved)

    for change in (on_core, on_router_dict, on_router_class, on_core_class, on_object, on_plain, custom_strategy,
                   endpoints_class, rebound_dict):
        assert callable(fast(router))  # kept
        undo = change()
        try:
            with pytest.raises(NotAccelerated):
                fast(router)
        finally:
            undo()
        assert callable(fast(router)), change.__name__  # and served again


def test_pre_route_memo_sees_every_change_after_a_pick():
    """The pre-routing verdict is kept per core; each change to what it read,
    made after a kept verdict, declines the next call (LiteLLM's hook then
    runs); undone, the fast path serves again."""
    from litellm.router_rust.steps import prerouting

    fast = _fast_pre_route()
    router = _router(routing_strategy="least-busy")
    core = router._core
    step = {"kind": "pre_route", "model": "g", "fallback_depth": None}
    first, again, _, kept_again = _memo_kept(lambda: asyncio.run(fast(core, dict(step), {})))
    assert first is None and again is None

    def registered(name):
        def change():
            core._hosted.__dict__[name]["g"] = []
            return lambda: core._hosted.__dict__[name].pop("g")
        change.__name__ = name
        return change

    def hook_patched():
        saved = prerouting.PreRouter.__dict__["_hook"]
        prerouting.PreRouter._hook = saved
        del prerouting.PreRouter._hook
        prerouting.PreRouter._hook = lambda *a, **k: None
        return lambda: setattr(prerouting.PreRouter, "_hook", saved)

    def strategies_patched():
        saved = prerouting.PreRoutingStrategies.__dict__["auto"]
        prerouting.PreRoutingStrategies.auto = lambda *a, **k: None
        return lambda: setattr(prerouting.PreRoutingStrategies, "auto", saved)

    def other_strategies():
        strategies = core._prerouter.__dict__["_strategies"]
        core._prerouter.__dict__["_strategies"] = object()
        return lambda: core._prerouter.__dict__.__setitem__("_strategies", strategies)

    def plugin():
        core._hosted._core_routing_plugins.append(object())
        return core._hosted._core_routing_plugins.clear

    def alias_to_code():
        class Name(str):
            pass

        core._hosted._core_model_group_alias["g"] = Name("g")
        return lambda: core._hosted._core_model_group_alias.pop("g")

    def custom_strategy():
        core.__dict__["_custom_strategy"] = object()
        return lambda: core.__dict__.__setitem__("_custom_strategy", None)

    def prerouter_class():
        return _reclassed(core.__dict__["_prerouter"])

    changes = [registered(name) for name in protocol_fast._REGISTRIES]
    changes += [hook_patched, strategies_patched, other_strategies, plugin, alias_to_code, custom_strategy,
                prerouter_class]
    for change in changes:
        assert asyncio.run(fast(core, dict(step), {})) is None  # kept
        undo = change()
        try:
            with pytest.raises(NotAccelerated):
                asyncio.run(fast(core, dict(step), {}))
        finally:
            undo()
        assert asyncio.run(fast(core, dict(step), {})) is None, change.__name__  # and served again


def test_prefetch_memo_sees_every_change_after_a_pick():
    """The usage-v2 probe's verdict is kept per core; after each change to
    what it read (made after a kept verdict) the answer is LiteLLM's again."""
    import dataclasses

    from litellm.router_rust.surface.registry import HostRegistry

    original = _original(_patch("routing.prefetch_usage_selector").target)
    fast = protocol_fast.make_prefetch_usage_selector(original)
    router = _router(routing_strategy="least-busy")
    core = router._core
    first, again, _, _ = _memo_kept(lambda: fast(core, "g", {}))
    assert first is None and again is None

    def to_v2():
        saved = core.__dict__["_resolved"]
        core.__dict__["_resolved"] = dataclasses.replace(saved, routing_strategy="usage-based-routing-v2")
        return lambda: core.__dict__.__setitem__("_resolved", saved)

    def group():
        core._hosted._core_routing_groups["g"] = object()
        return lambda: core._hosted._core_routing_groups.pop("g")

    def registry_patched():
        saved = HostRegistry.__dict__["get_routing_group"]
        HostRegistry.get_routing_group = lambda self, name: None
        return lambda: setattr(HostRegistry, "get_routing_group", saved)

    def alias():
        core._hosted._core_model_group_alias["g"] = ["not", "plain"]
        return lambda: core._hosted._core_model_group_alias.pop("g")

    for change in (to_v2, group, registry_patched, alias):
        assert fast(core, "g", {}) is None  # kept
        undo = change()
        try:
            try:
                got = fast(core, "g", {})
            except NotAccelerated:
                pass
            else:
                assert got is original(core, "g", {}), change.__name__
                assert change is to_v2  # the only change the fast path answers (the v2 probe)
        finally:
            undo()
        assert fast(core, "g", {}) is None, change.__name__  # and served again


def test_pre_route_stamps_follow_litellms_globals(monkeypatch):
    """The hook's request stamps made inline (module globals kept while their
    dicts hold their tags): after a kept pick, each replaced LiteLLM global,
    a compaction state on the request, and a bucket replaced while the OTel
    phase record runs give what stock gives, calls included."""
    from litellm.router_rust.steps import prerouting
    from litellm.router_strategy.complexity_router import context_compaction

    fast = _fast_pre_route()
    original = _original(_patch("routing.pre_route").target)
    router = _router(routing_strategy="least-busy")
    core = router._core
    step = {"kind": "pre_route", "model": "g", "fallback_depth": None}
    gen = random.Random("stamps")
    calls = []

    def shown(request):
        state = request.get(context_compaction._STATE_KEY)
        if isinstance(state, context_compaction.CompactionState):
            request = dict(request, _state=(state.config, state.candidates, state.parent_model))
            del request[context_compaction._STATE_KEY]
        return repr(request)

    def compare(make_request, rounds=20):
        for _ in range(rounds):
            request = make_request()
            out = []
            for fn in (original, fast):
                del calls[:]
                copied = copy.deepcopy(request)
                got = asyncio.run(fn(core, dict(step), copied))
                out.append((got, shown(copied), list(calls)))
            assert out[0] == out[1], request

    compare(lambda: _stamped_request(gen))  # (the fast path's memo is kept from here on)

    stamp = prerouting._stamp_or_clear_metadata_key

    def recording_stamp(request, key, value):
        calls.append(("stamp", key))
        return stamp(request, key, value)

    with monkeypatch.context() as m:
        m.setattr(prerouting, "_stamp_or_clear_metadata_key", recording_stamp)
        compare(lambda: _stamped_request(gen))
        assert calls
    arm = prerouting.arm_compaction

    async def recording_arm(*args, **kwargs):
        calls.append(("arm", len(args)))
        return await arm(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(prerouting, "arm_compaction", recording_arm)
        compare(lambda: _stamped_request(gen))
        assert calls
    with monkeypatch.context() as m:
        m.setattr(context_compaction, "_STATE_KEY", "metadata")  # a key these requests may carry
        compare(lambda: _stamped_request(gen))
    with monkeypatch.context() as m:
        m.setattr(prerouting, "CONSUMED_REQUEST_TAGS_METADATA_KEY", "other")
        compare(lambda: dict(_stamped_request(gen), metadata={"other": 1, "routing_decision": 2}))

    def with_state():
        request = _stamped_request(gen)
        request[context_compaction._STATE_KEY] = context_compaction.CompactionState(config=False, candidates=("x",),
                                                                                    parent_model="p")
        return request

    compare(with_state)
    phase = prerouting.phase_attributes

    def replacing_phase(attributes):
        calls.append(("phase", dict(attributes)))
        phase(attributes)
        if "metadata" in current:
            current["metadata"] = {"routing_decision": 1, "_consumed_request_tags": 2, "kept": 3}

    current = {}

    def request_seen():
        current.clear()
        return current

    with monkeypatch.context() as m:
        m.setattr(prerouting, "phase_attributes", replacing_phase)
        for _ in range(10):
            base = _stamped_request(gen)
            out = []
            for fn in (original, fast):
                del calls[:]
                request = request_seen()
                request.update(copy.deepcopy(base))
                got = asyncio.run(fn(core, dict(step), request))
                out.append((got, repr(request), list(calls)))
            assert out[0] == out[1], base
    compare(lambda: _stamped_request(gen))  # and as before once restored


def test_str_keyed_is_the_python_check():
    """router_str_keyed (the cost pick's and the served record's key check)
    answers as ``type(d) is dict and all(type(k) is str for k in d)``."""
    from fast_litellm.routing import litellm_fast

    class S(str):
        pass

    class D(dict):
        pass

    cases = [{}, {"a": 1}, {"a": 1, 2: 3}, {S("a"): 1}, D(a=1), [], None, "ab", {("a",): 1}, {"a": {1: 2}},
             dict.fromkeys("abcdefghijklmnopqrstuvwxyz" * 3)]
    for case in cases:
        assert litellm_fast.str_keyed(case) is litellm_fast._str_keyed_python(case), case
    from fast_litellm._native_loader import NATIVE

    assert NATIVE is None or litellm_fast.str_keyed is NATIVE.router_str_keyed


def test_start_fields_inline_reads_follow_litellms_helpers(monkeypatch):
    """The start fields' helper reads made inline (their bindings kept while
    their modules' dicts hold their tags): after a kept call, a replaced
    helper or ``Mapping`` binding is honoured as stock honours it."""
    from litellm.litellm_core_utils import core_helpers, routing_common_utils
    from litellm.router_rust import core
    from litellm.router_rust.steps import access

    original = _original(_patch("routing.start_fields").target)
    fast = protocol_fast.make_start_fields(original)
    requests = [{}, {"metadata": {"user_api_key_team_id": "t"}}, {"litellm_metadata": {"user_api_key_team_id": ""}},
                {"metadata": {"user_api_key_team_id": "a"}, "litellm_metadata": {"user_api_key_team_id": "b"}},
                {"metadata": None, "litellm_metadata": {"user_api_key_team_id": "b", "x": 1}}]

    def same():
        for request in requests:
            assert fast(copy.deepcopy(request)) == original(copy.deepcopy(request)), request

    first, again, _, _ = _memo_kept(lambda: fast({}))
    assert first == again == {}
    same()

    class AnyMapping(type):
        def __instancecheck__(cls, instance):
            return isinstance(instance, dict)

    class OnlyDicts(metaclass=AnyMapping):
        pass

    for owner, name, value in ((core, "get_request_team_id", lambda request: "replaced"),
                               (core, "_listing_team_id", lambda request: "listed"),
                               (core, "request_retry_fields", lambda value: {"num_retries": 9}),
                               (core, "caller_fields", lambda request: {"proxy_admin": True}),
                               (access, "request_user_api_key_auth", lambda request: None),
                               (routing_common_utils, "Mapping", OnlyDicts),
                               (core_helpers, "Mapping", OnlyDicts)):
        with monkeypatch.context() as m:
            m.setattr(owner, name, value)
            same()
        same()


def test_served_live_params_read_follows_changes_after_a_pick(monkeypatch):
    """The served record's live-params look-up made inline (the tables kept
    while the dicts read hold their tags): after a kept call, a table entry,
    a replaced method or function, or an instance attribute gives what
    LiteLLM's ``_with_live_params`` gives."""
    from litellm.router_rust import core as core_module
    from litellm.router_rust.core import _Selection
    from litellm.router_rust.surface.registry import HostRegistry

    original = _original(_patch("routing.served").target)
    fast = protocol_fast.make_served(original)
    router = _router()
    core = router._core
    selection = object.__new__(_Selection)
    selection.__dict__.update(_core=core, _model="g")
    record = core._handle.deployment("d1")

    def same():
        assert repr(fast(selection, copy.deepcopy(record))) == repr(original(selection, copy.deepcopy(record)))

    first, again, _, kept_again = _memo_kept(lambda: fast(selection, copy.deepcopy(record)))
    assert first == again == record
    hosted = core._hosted

    def table_entry(table):
        def change():
            hosted.__dict__[table]["d1"] = {"mock_response": ValueError("x")} if table == "_live_params" else {
                "extra": 1}
            return lambda: hosted.__dict__[table].pop("d1")
        change.__name__ = table
        return change

    def method():
        HostRegistry.live_info = lambda self, model_id: {"from": "class"}
        return lambda: delattr(HostRegistry, "live_info") or setattr(HostRegistry, "live_info", saved_info)

    saved_info = HostRegistry.__dict__["live_info"]

    def instance():
        hosted.__dict__["live_params"] = lambda model_id: {"from": "instance"}
        return lambda: hosted.__dict__.pop("live_params")

    def function():
        saved = core_module._with_live_params
        core_module._with_live_params = lambda core, deployment: {"replaced": True}
        return lambda: setattr(core_module, "_with_live_params", saved)

    for change in (table_entry("_live_params"), table_entry("_live_info"), method, instance, function):
        assert fast(selection, copy.deepcopy(record)) == record  # kept
        undo = change()
        try:
            same()
            assert fast(selection, copy.deepcopy(record)) != record, change.__name__
        finally:
            undo()
        same()


def test_start_fields_memo_follows_the_abc_cache_token(monkeypatch):
    """The inline start fields hold only at the ABC cache token at which None
    was found to be no ``Mapping``: a registration (a new token) is checked
    again, and a token past the small-int cache still keeps the memo."""
    import abc

    from fast_litellm.routing.protocol_fast import _StateMemo

    original = _original(_patch("routing.start_fields").target)
    fast = protocol_fast.make_start_fields(original)
    assert fast({}) == original({}) == {}
    remembered = []
    saved = _StateMemo.remember

    def counting(self, *args):
        remembered.append(1)
        return saved(self, *args)

    token = [abc.get_cache_token()]
    monkeypatch.setattr(abc, "get_cache_token", lambda: token[0])
    monkeypatch.setattr(_StateMemo, "remember", counting)
    fast = protocol_fast.make_start_fields(original)
    kept = sys.version_info < (3, 12)  # no dict version tags after 3.11: checked at every call
    token[0] = 10 ** 6  # a new token, an int outside the small-int cache
    assert fast({}) == {} and len(remembered) == 1
    token[0] = int("1000000")  # the same value, another object
    assert fast({}) == {} and len(remembered) == (1 if kept else 2)  # kept
    token[0] += 1  # a registration somewhere: checked again
    assert fast({}) == {} and len(remembered) == (2 if kept else 3)
    assert fast({}) == {} and len(remembered) == (2 if kept else 4)


def test_memos_see_a_rebound_instance_dict():
    """A ``__dict__`` rebound after a kept call (the old dict keeps its tag):
    the pre-route, the usage-v2 probe, the served record and the picker
    check per call that the dicts they kept are still the objects'."""
    from litellm.router_rust.core import _Selection

    router = _router(routing_strategy="least-busy")
    core = router._core
    hosted = core._hosted
    step = {"kind": "pre_route", "model": "g", "fallback_depth": None}
    pre_route = _fast_pre_route()
    probe_original = _original(_patch("routing.prefetch_usage_selector").target)
    probe = protocol_fast.make_prefetch_usage_selector(probe_original)
    served_original = _original(_patch("routing.served").target)
    served = protocol_fast.make_served(served_original)
    picker = _fast_picker()
    selection = object.__new__(_Selection)
    selection.__dict__.update(_core=core, _model="g")
    record = core._handle.deployment("d1")
    for _ in range(2):  # kept
        assert asyncio.run(pre_route(core, dict(step), {})) is None
        assert probe(core, "g", {}) is None
        assert served(selection, copy.deepcopy(record)) == record
        assert callable(picker(router))

    saved = hosted.__dict__
    hosted.__dict__ = dict(saved, _core_routing_plugins=[object()], _core_routing_groups={"g": object()},
                           _live_params={"d1": {"mock_response": ValueError("x")}})
    try:
        with pytest.raises(NotAccelerated):
            asyncio.run(pre_route(core, dict(step), {}))
        with pytest.raises(NotAccelerated):
            probe(core, "g", {})
        assert repr(served(selection, copy.deepcopy(record))) == repr(served_original(selection, copy.deepcopy(record)))
        assert served(selection, copy.deepcopy(record)) != record
    finally:
        hosted.__dict__ = saved
    assert asyncio.run(pre_route(core, dict(step), {})) is None and probe(core, "g", {}) is None

    prerouter = core._prerouter
    saved = prerouter.__dict__
    prerouter.__dict__ = dict(saved, _strategies=object())
    try:
        with pytest.raises(NotAccelerated):
            asyncio.run(pre_route(core, dict(step), {}))
    finally:
        prerouter.__dict__ = saved
    assert asyncio.run(pre_route(core, dict(step), {})) is None

    endpoints = core.__dict__["_endpoints"]
    saved = endpoints.__dict__
    endpoints.__dict__ = {k: v for k, v in saved.items() if k != "_default_priority"}
    try:
        with pytest.raises(NotAccelerated):
            picker(router)
    finally:
        endpoints.__dict__ = saved
    saved = core.__dict__
    core.__dict__ = dict(saved, _custom_strategy=object())
    try:
        with pytest.raises(NotAccelerated):
            picker(router)
    finally:
        core.__dict__ = saved
    assert callable(picker(router))


# ---- the fused pick: RustCore.select -------------------------------------------

def _fast_select():
    return protocol_fast.make_select(_original(_patch("routing.select").target))


def _pick_in_lockstep(strategy, requests, model="g", fast_on=True, twin=True):
    """Two identical routers, stock (LiteLLM's select, nothing accelerated) and
    the fused select (over the accelerated steps), picking the same requests
    from the same ``random`` state: (outcome, request after, random state) each.
    Each router is built with its side's switch (``twin``: the fast side's picks
    then run on the twin handle, as a router made after ``import fast_litellm``;
    False: on LiteLLM's handle, the inline stage answer)."""
    from litellm.router_strategy import least_busy

    original = _original(_patch("routing.select").target)
    fast = _fast_select()
    out = []
    for select, on in ((original, False), (fast, fast_on)):
        router = _router(on and twin, routing_strategy=strategy)
        random.seed(7)
        got = []
        with _local_patch.accelerated(on):
            for request in copy.deepcopy(requests):
                async def pick():
                    picked = await select(router._core, model, request)
                    return picked["model_info"]["id"], least_busy.pick_reserves(default="unset")
                try:
                    outcome = ("ok", asyncio.run(pick()))
                except NotAccelerated:
                    raise
                except Exception as exc:  # the exception itself is compared
                    outcome = ("raised", type(exc).__name__, str(exc))
                got.append((outcome, request, random.getstate()))
        out.append(got)
    return out


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # usage-based-routing's sync task, built outside a loop
@pytest.mark.parametrize("strategy", ["simple-shuffle", "least-busy", "latency-based-routing",
                                      "usage-based-routing-v2", "cost-based-routing"])
def test_select_matches(strategy):
    """The fused pick against LiteLLM's select: same picks, requests (stamps
    cleared), ``random`` state, and the reservation flag reset after."""
    requests = [{}, {"metadata": {"routing_decision": {"x": 1}, "other": 2}}, {"litellm_metadata": {}},
                {"messages": [{"role": "user", "content": "hi"}]}] * 3
    stock, fast = _pick_in_lockstep(strategy, requests)
    assert stock == fast
    assert all(outcome[0] == "ok" and outcome[1][1] == "unset" for outcome, _r, _s in fast)


def test_select_failed_pick_matches_and_is_raised_once_through_the_engine(monkeypatch):
    """A pick for a model the router does not serve fails in LiteLLM's
    ``_failed``: the same exception, and through the engine's wrapper it is
    the caller's (the original does not run the pick again)."""
    from litellm.router_rust.core import _Selection

    from fast_litellm.patching import wrappers

    stock, fast = _pick_in_lockstep("simple-shuffle", [{}], model="nope")
    assert stock == fast and fast[0][0][0] == "raised"
    failed = []
    original_failed = _Selection._failed

    def counting(self, step, *, sync):
        failed.append(step.get("kind"))
        return original_failed(self, step, sync=sync)

    monkeypatch.setattr(_Selection, "_failed", counting)
    patch = _patch("routing.select")
    guarded = wrappers.guarded(patch, _original(patch.target), _fast_select())
    router = _router()
    with _local_patch.accelerated(True):
        with pytest.raises(Exception) as info:
            asyncio.run(guarded(router._core, "nope", {}))
    assert type(info.value).__name__ == fast[0][0][1] and len(failed) == 1


def test_select_memo_sees_every_change_after_a_pick(monkeypatch):
    """After kept picks, each binding the fused pick relies on replaced (the
    selection's ``run`` / ``_run`` / ``__init__``, ``picks_reserve``, its
    context variable, the OTel runtime's ``phase_span`` / ``_otel_runtime``,
    ``Mapping``): the next pick declines, and LiteLLM's select runs."""
    from litellm.integrations.otel import runtime
    from litellm.router_rust import core as core_module
    from litellm.router_strategy import least_busy

    fast = _fast_select()
    router = _router()

    def pick():
        with _local_patch.accelerated(True):
            return asyncio.run(fast(router._core, "g", {}))["model_info"]["id"]

    def wrapped(fn):
        def call(*args, **kwargs):
            return fn(*args, **kwargs)
        return call

    assert_each_change_declines(pick, monkeypatch, (
        (core_module._Selection, "run", wrapped(core_module._Selection.run)),
        (core_module._Selection, "_run", wrapped(core_module._Selection._run)),
        (core_module._Selection, "__init__", wrapped(core_module._Selection.__init__)),
        (core_module, "picks_reserve", least_busy.picks_reserve.__wrapped__),
        (least_busy, "_PICK_RESERVES", object()),
        (runtime, "phase_span", wrapped(runtime.phase_span)),
        (runtime, "_otel_runtime", wrapped(runtime._otel_runtime)),
        (core_module, "Mapping", dict)), NotAccelerated)


def test_select_enters_the_span_of_a_registered_otel_logger(monkeypatch):
    """With an OTel v2 logger registered (LiteLLM's logger ``phase_span`` finds
    one), the fused pick enters that logger's span with LiteLLM's name, once
    per pick, as LiteLLM's ``run`` does; a loaded proxy server module sends
    the span through LiteLLM's ``phase_span`` as well."""
    import contextlib
    import sys
    import types

    from litellm.integrations.otel import logger as otel_logger

    spans = []

    class _Logger:
        @contextlib.contextmanager
        def start_phase_span(self, name):
            spans.append(name)
            yield "span"

        def set_phase_attributes(self, attributes):
            spans.append(dict(attributes))

    registered = []

    def _registered():
        registered.append(1)
        return _Logger()

    monkeypatch.setattr(otel_logger, "_registered_v2_logger", _registered)
    stock, fast = _pick_in_lockstep("simple-shuffle", [{}, {}])
    assert stock == fast and all(outcome[0] == "ok" for outcome, _r, _s in fast)
    assert [s for s in spans if s == "route g"] == ["route g"] * 4
    assert spans[:len(spans) // 2] == spans[len(spans) // 2:] and len(registered) == 8  # the pre-route's record too
    monkeypatch.undo()
    del spans[:], registered[:]
    proxy = types.ModuleType("litellm.proxy.proxy_server")
    proxy.open_telemetry_logger = None
    monkeypatch.setitem(sys.modules, "litellm.proxy.proxy_server", proxy)
    stock, fast = _pick_in_lockstep("simple-shuffle", [{}, {}])
    assert stock == fast and spans == []


def test_select_pod_resolution_follows_litellms(monkeypatch):
    """The pick's pod resolution is skipped only for a deployment without
    ``kubernetes_pod_discovery`` on LiteLLM's own resolver: one with it, an
    ``_eligible`` replaced after kept picks on the class or set on the
    instance, all run LiteLLM's ``async_resolve_deployment``."""
    from litellm.router_utils.kubernetes_pod_discovery import KubernetesPodDiscovery

    fast = _fast_select()
    seen = []
    stock_eligible = KubernetesPodDiscovery._eligible

    def counting(self, deployment):
        seen.append(deployment["model_info"]["id"])
        return stock_eligible(self, deployment)

    def pick(router):
        with _local_patch.accelerated(True):
            return asyncio.run(fast(router._core, "g", {}))["model_info"]["id"]

    router = _router()
    assert pick(router) and pick(router) and seen == []  # kept
    monkeypatch.setattr(KubernetesPodDiscovery, "_eligible", counting)
    assert pick(router) == seen[-1]
    monkeypatch.undo()
    del seen[:]
    assert pick(router) and seen == []
    discovery = router._core._pod_discovery
    discovery._eligible = lambda deployment: counting(discovery, deployment)
    assert pick(router) == seen[-1]
    del discovery._eligible, seen[:]
    assert pick(router) and seen == []

    # a deployment with kubernetes_pod_discovery on a host name: LiteLLM's resolution reads
    # the resolver's clock (set here to raise), on both sides
    pods = [{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k",
                                                   "api_base": "http://pod.example:9/v1",
                                                   "kubernetes_pod_discovery": True},
             "model_info": {"id": "p%d" % i}} for i in range(3)]

    class Clocked(Exception):
        pass

    def clock():
        raise Clocked("clock read")

    original = _original(_patch("routing.select").target)
    for select, on in ((original, False), (fast, True)):
        with warnings.catch_warnings(), _local_patch.accelerated(on):  # (as after import: the twin)
            warnings.simplefilter("ignore")
            router = litellm.Router(model_list=copy.deepcopy(pods))
        saved = router._core._pod_discovery.clock
        router._core._pod_discovery.clock = clock
        with _local_patch.accelerated(on), pytest.raises(Clocked):
            asyncio.run(select(router._core, "g", {}))
        router._core._pod_discovery.clock = saved


@pytest.mark.parametrize("strategy", ["latency-based-routing", "least-busy", "cost-based-routing"])
def test_select_strategy_answer_follows_litellms_bindings(strategy, monkeypatch):
    """The strategy step answered in the fused loop (``_answer_select``,
    ``_pick_with_prefetched_usage`` and ``pick_async`` in one coroutine): after
    kept picks, each of those replaced (on the class, in the core module, an
    instance attribute on the core), ``PrefetchedUsage.scoped`` or a selector
    class binding of the selection module replaced: the replacement runs."""
    from litellm.router_rust import core as core_module
    from litellm.router_rust.steps import selection as selection_module
    from litellm.router_strategy import lowest_tpm_rpm_v2

    fast = _fast_select()
    router = _router(routing_strategy=strategy)
    calls = []

    def pick():
        with _local_patch.accelerated(True):
            return asyncio.run(fast(router._core, "g", {}))["model_info"]["id"]

    def counting(fn, is_async):
        if is_async:
            async def call(*args, **kwargs):
                calls.append(fn)
                return await fn(*args, **kwargs)
        else:
            def call(*args, **kwargs):
                calls.append(fn)
                return fn(*args, **kwargs)
        return call

    scoped = lowest_tpm_rpm_v2.PrefetchedUsage.__dict__["scoped"]
    for owner, name, value in (
            (core_module.RustCore, "_answer_select", counting(core_module.RustCore._answer_select, True)),
            (core_module, "_pick_with_prefetched_usage", counting(core_module._pick_with_prefetched_usage, True)),
            (core_module, "pick_async", counting(core_module.pick_async, True)),
            (lowest_tpm_rpm_v2.PrefetchedUsage, "scoped", staticmethod(counting(scoped.__func__, False)))):
        assert pick() and pick() and not calls  # kept
        with monkeypatch.context() as m:
            m.setattr(owner, name, value)
            assert pick() and len(calls) == 1
        del calls[:]
    klass = type(router._core._selectors.selector_for(strategy, "default", None, {}))
    with monkeypatch.context() as m:
        class Meta(type):  # a class binding that still matches the selector (not the one kept)
            def __instancecheck__(cls, obj):
                return isinstance(obj, klass)

        m.setattr(selection_module, klass.__name__, Meta("Other", (), {}))
        m.setattr(core_module, "pick_async", counting(core_module.pick_async, True))
        assert pick() and len(calls) == 1
    del calls[:]
    core = router._core
    core.__dict__["_answer_select"] = counting(core._answer_select, True)
    try:
        assert pick() and len(calls) == 1
    finally:
        del core.__dict__["_answer_select"]
    del calls[:]
    assert pick() and not calls


# ---- the fused pick's selection set-up (_Selection.__init__ made inline) ---------------

class _RecordingHandle:
    """A router-core handle that records each ``select`` document (a copy, in
    its key order) and hands every call on to the handle it wraps.

    LiteLLM's core takes it for its handle: ``__class__`` answers the wrapped
    handle's class, which ``isinstance`` consults.  ``RustCore._live_handle``
    hands the host registry the handle only when ``isinstance(handle,
    RouterCoreHandle)`` (``_sync_registry`` checks the same before a
    rebuild), so a plain wrapper left the registry with no live handle: its
    lookups raised "the host registry's lookups run in its Rust core" (or
    answered as if nothing were served), ``add_deployment`` read no list or
    index back and checked no duplicate id, and a rebuild's
    ``adopt_providers`` raised TypeError, on every side alike, so the
    comparisons ran LiteLLM's no-handle paths.  ``type()`` still answers this
    class (nothing in LiteLLM or in our patches reads ``type()`` of the
    router-core handle).  A rebuild swaps the real handle:
    ``_recording_rebuilds()`` keeps it recorded."""

    def __init__(self, handle, documents):
        self._handle = handle
        self._documents = documents

    @property
    def __class__(self):
        return type(self._handle)

    def select(self, model, document):
        self._documents.append((model, list(copy.deepcopy(dict(document)).items())))
        return self._handle.select(model, document)

    def __getattr__(self, name):
        return getattr(self._handle, name)


@contextlib.contextmanager
def _recording_rebuilds():
    """``RustCore._rebuild`` run over the real handle a ``_RecordingHandle``
    holds (``adopt_providers`` takes nothing else), the new handle wrapped
    again with the same record (the same on every side; no patch of ours
    reads or replaces ``_rebuild``)."""
    core_class = sys.modules["litellm.router_rust.core"].RustCore
    rebuild = core_class.__dict__["_rebuild"]

    def _rebuild(self):
        held = self.__dict__.get("_handle")
        if type(held) is not _RecordingHandle:
            return rebuild(self)
        self._handle = held._handle
        try:
            return rebuild(self)
        finally:
            self._handle = _RecordingHandle(self.__dict__["_handle"], held._documents)

    core_class._rebuild = _rebuild
    try:
        yield
    finally:
        core_class._rebuild = rebuild


@pytest.fixture
def recorded_rebuilds():
    with _recording_rebuilds():
        yield


_NO_LIVE_HANDLE = "the host registry's lookups run in its Rust core"


def _harness_fault(outcome):
    """Whether a compared ``("raised", name, message)`` outcome is the
    recording wrapper's fault, not LiteLLM's answer: the registry found no
    live handle, or a rebuild was handed the wrapper."""
    return outcome is not None and outcome[0] == "raised" and (
        outcome[2] == _NO_LIVE_HANDLE or (outcome[1] == "TypeError" and "RouterCoreHandle" in outcome[2]))


class _EqAuth(_Auth):
    """An auth object that compares by its fields (a copied request equals its original)."""

    def __eq__(self, other):
        return type(other) is type(self) and vars(other) == vars(self)

    __hash__ = object.__hash__


def _set_up_request(gen):
    request = _request(gen) if gen.random() < 0.5 else {}
    for bucket in (request.get("metadata"), request.get("litellm_metadata")):
        if type(bucket) is dict and isinstance(bucket.get("user_api_key_auth"), _Auth):
            bucket["user_api_key_auth"] = _EqAuth(**vars(bucket["user_api_key_auth"]))
    if gen.random() < 0.2:
        request["messages"] = gen.choice([[{"role": "user", "content": "hi"}], [], None, [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x.example/a.png"}}]}]])
    if gen.random() < 0.1:
        request["input"] = gen.choice(["text", None, ["a", "b"]])
    if gen.random() < 0.2:
        request["tools"] = gen.choice([None, [], [{"type": "web_search"}], [{"type": "function", "function": {}}],
                                       [{"googleSearch": {}}], "not a list"])
    if gen.random() < 0.15:
        request["enable_tag_filtering"] = gen.choice([True, False, "yes"])
    if gen.random() < 0.05:
        request[gen.choice(protocol_fast._NARROWING_KEYS)] = gen.choice([1, ["d1"], None])
    if gen.random() < 0.05:
        request["model_group_retry_policy"] = gen.choice([None, {}])
    if gen.random() < 0.1:
        request["tags"] = ["t1"]
    return request


def _set_up_routers(gen):
    kwargs = {}
    if gen.random() < 0.3:
        kwargs["routing_strategy"] = gen.choice(["least-busy", "latency-based-routing", "usage-based-routing",
                                                 "cost-based-routing"])
    if gen.random() < 0.15:
        kwargs["enable_tag_filtering"] = True
    if gen.random() < 0.1:
        kwargs["model_group_retry_policy"] = {"g": {"TimeoutErrorRetries": 2}}
    tagged = gen.random() < 0.15
    routers = []
    for _ in range(2):
        model_list = copy.deepcopy(MODEL_LIST)
        if tagged:
            model_list[1]["model_info"]["enable_tag_filtering"] = True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            routers.append(litellm.Router(model_list=model_list, **kwargs))
    return routers


def _selection_view(selection, documents):
    """A selection as LiteLLM's ``__init__`` leaves it: its attributes in order
    (the core and the Rust call named, not compared by identity) and the
    documents handed to router-core."""
    return [(name, value if name not in ("_core", "_call") else type(value).__name__)
            for name, value in vars(selection).items()], list(documents)


def test_selection_set_up_matches_litellms_init(recorded_rebuilds):
    """The fused pick's ``_Selection`` set-up against LiteLLM's ``__init__`` on a
    twin router, over random requests and routers: the same attributes in the
    same order, the same document handed to router-core's ``select`` (key order
    included), the same request and core state after; a request it does not
    cover is left to LiteLLM's ``__init__`` with nothing run.  The recording
    handle is the one the host registry reads (with a plain wrapper 1,674
    registry reads of the handle here found none, on both routers alike:
    ``add_deployment``'s list and index reads back, its duplicate-id check,
    its provider-default ids)."""
    from litellm.router_rust.core import _Selection
    from litellm.router_utils.endpoint_eligibility import endpoint_selection

    fast = _fast_select()
    gen = random.Random("selection-set-up")
    taken = declined = 0
    for case in range(300):
        stock_router, fast_router = _set_up_routers(gen)
        stock_docs, fast_docs = [], []
        stock_core, fast_core = stock_router._core, fast_router._core
        stock_core._handle = _RecordingHandle(stock_core._handle, stock_docs)
        fast_core._handle = _RecordingHandle(fast_core._handle, fast_docs)
        for _ in range(4):
            for core in (stock_core, fast_core):  # the registry reads the recording handle (a rebuild's too)
                assert type(core.__dict__["_handle"]) is _RecordingHandle and core._live_handle() is core._handle
            request = _set_up_request(gen)
            messages = gen.choice([None, None, [{"role": "user", "content": "hi"}]])
            specific = gen.choice([False, None, True])
            endpoint = gen.choice([None, None, "acompletion", "aembedding"])
            if gen.random() < 0.1:  # a deployment added: the tag-filtering cache is stale
                for router in (stock_router, fast_router):
                    router.add_deployment(litellm.types.router.Deployment(**copy.deepcopy(dict(
                        MODEL_LIST[0], model_info={"id": "n%d" % case}))))
            stock_request, fast_request = copy.deepcopy(request), copy.deepcopy(request)
            stock_before = len(stock_docs)
            with _local_patch.accelerated(False), endpoint_selection(endpoint):
                try:
                    stock = ("ok", _selection_view(
                        _Selection(stock_core, "g", stock_request, "pick", specific, messages, None),
                        stock_docs[stock_before:]))
                except Exception as exc:  # the exception itself is compared
                    stock = ("raised", type(exc).__name__, str(exc))
            fast_before = len(fast_docs)
            with _local_patch.accelerated(True), endpoint_selection(endpoint):
                try:
                    selection = fast.selection_set_up(fast_core, "g", fast_request, specific, messages)
                    got = ("ok", _selection_view(selection, fast_docs[fast_before:])) if selection is not None else None
                except Exception as exc:  # the exception itself is compared
                    got = ("raised", type(exc).__name__, str(exc))
            if got is None:
                declined += 1
                assert fast_request == request and len(fast_docs) == fast_before  # nothing ran
                with _local_patch.accelerated(False), endpoint_selection(endpoint):  # LiteLLM's, as a pick
                    try:
                        got = ("ok", _selection_view(
                            _Selection(fast_core, "g", fast_request, "pick", specific, messages, None),
                            fast_docs[fast_before:]))
                    except Exception as exc:  # the exception itself is compared
                        got = ("raised", type(exc).__name__, str(exc))
            else:
                taken += 1
            assert got == stock, (request, stock, got)
            assert not _harness_fault(stock), stock
            assert fast_request == stock_request
            assert fast_core._tag_filtering_models == stock_core._tag_filtering_models
    assert taken > 600 and declined > 100, (taken, declined)


def test_selection_set_up_follows_the_routing_state_sync():
    """The routing-state sync made inline only while it sends nothing: a live
    ``litellm.allowed_fails`` changed, a routing plugin appended, an index
    attribute written, after kept set-ups, reach router-core as LiteLLM's sync
    sends them (the same picks and dynamic state on both routers)."""
    from litellm.router_rust.core import _Selection

    fast = _fast_select()
    routers = [_router(), _router()]

    def set_up_both():
        stock_sel = _Selection(routers[0]._core, "g", {}, "pick", False, None, None)
        with _local_patch.accelerated(True):
            fast_sel = fast.selection_set_up(routers[1]._core, "g", {})
        assert fast_sel is not None
        for router, selection in ((routers[0], stock_sel), (routers[1], fast_sel)):
            assert selection._call.next(None)["kind"] in ("cache", "pre_route", "select", "done")
        return [(r._core._allowed_fails_default_sent, len(r._core._resolved.routing_plugins), r._core._index_sent)
                for r in routers]

    assert set_up_both()[0] == set_up_both()[1]  # kept
    saved = litellm.allowed_fails
    try:
        litellm.allowed_fails = saved + 5
        first, second = set_up_both()
        assert first == second and first[0] is False
    finally:
        litellm.allowed_fails = saved
    first, second = set_up_both()
    assert first == second and first[0] is True

    class Plugin:
        pass

    for router in routers:
        router.routing_plugins.append(Plugin())
    first, second = set_up_both()
    assert first == second and first[1] == 1
    for router in routers:
        router.routing_plugins.clear()
    first, second = set_up_both()
    assert first == second and first[1] == 0
    for router in routers:
        router.model_names = set(router.model_names) | {"extra"}
    first, second = set_up_both()
    assert first == second and first[2] is not None


def test_selection_set_up_memo_sees_every_change_after_a_pick(monkeypatch):
    """After kept set-ups, each binding the inline ``__init__`` relies on
    replaced (RustCore's methods it reaches, the core module's helpers and the
    patched functions' bindings, the image check's and the start fields'
    helpers, ``Mapping``, a shadowed builtin, ``Resolved.allowed_fails_is_default``,
    a registry class attribute, ``picks_async``'s set and ``RoutingStrategy``) or
    a method set on the core instance: LiteLLM's ``__init__`` sets the next
    selection up."""
    from litellm.litellm_core_utils import core_helpers, routing_common_utils
    from litellm.litellm_core_utils.prompt_templates import common_utils
    from litellm.router_rust import core as core_module
    from litellm.router_rust.steps import access, prerouting
    from litellm.router_rust.steps import selection as selection_module
    from litellm.router_rust.surface.registry import HostRegistry

    fast = _fast_select()
    router = _router()
    core = router._core

    def set_up():
        with _local_patch.accelerated(True):
            return fast.selection_set_up(core, "g", {})

    def wrapped(fn):
        def call(*args, **kwargs):
            return fn(*args, **kwargs)
        return call

    changes = [(core_module.RustCore, name, wrapped(core_module.RustCore.__dict__[name]))
               for name in protocol_fast._SELECTION_INIT_METHODS]
    changes += [(core_module, name, wrapped(getattr(core_module, name)))
                for name in ("_start_fields", "_narrowing_fields", "_plain", "_document", "as_str_mapping", "_as_list",
                             "request_carries_image", "is_web_search_request", "selected_endpoint", "picks_async",
                             "normalize_strategy", "get_request_team_id", "_listing_team_id", "caller_fields",
                             "request_retry_fields")]
    changes += [(common_utils, "request_contains_image_content", wrapped(common_utils.request_contains_image_content)),
                (core_helpers, "Mapping", dict), (routing_common_utils, "Mapping", dict),
                (access, "request_user_api_key_auth", wrapped(access.request_user_api_key_auth)),
                (core_module, "isinstance", isinstance), (common_utils, "isinstance", isinstance),
                (core_module.Resolved, "allowed_fails_is_default",
                 wrapped(core_module.Resolved.allowed_fails_is_default)),
                (HostRegistry, "_core_routing_plugins", property(lambda self: [])),
                (prerouting, "_ASYNC_PICK_STRATEGIES", set(prerouting._ASYNC_PICK_STRATEGIES)),
                (selection_module, "RoutingStrategy", str),
                (core_module._Selection, "__setattr__", object.__setattr__)]
    for owner, name, value in changes:
        assert set_up() is not None and set_up() is not None, name  # kept
        with monkeypatch.context() as m:
            m.setattr(owner, name, value, raising=False)
            assert set_up() is None, name
        assert set_up() is not None, name
    for name in protocol_fast._SELECTION_INIT_METHODS:  # an instance attribute over a method
        assert set_up() is not None
        core.__dict__[name] = wrapped(getattr(core, name))
        try:
            assert set_up() is None, name
        finally:
            del core.__dict__[name]
    assert set_up() is not None


def test_select_callback_filter_answer_follows_litellms_state(monkeypatch):
    """The callback-filter step answered in the fused pick while LiteLLM's
    ``has_filters()`` is found False: after kept picks, a filtering callback
    appended to or assigned as ``litellm.callbacks``, a filter added to a
    registered callback's class, a request-scoped selector, LiteLLM's methods
    or helpers replaced (on the class, the module, the core instance), a
    callback whose ``__class__`` look-up runs code: LiteLLM's
    ``_answer_callback_filters`` answers (its filters run and narrow the pick,
    its calls are made)."""
    from litellm.integrations.custom_logger import CustomLogger
    from litellm.router_rust.steps import callbacks as callbacks_module
    from litellm.router_strategy.least_busy import LeastBusyLoggingHandler

    fast = _fast_select()
    router = _router(routing_strategy="least-busy")
    core = router._core
    answered = []
    stock_answer = callbacks_module.RustOptionalChecks._answer_callback_filters

    def pick():
        with _local_patch.accelerated(True):
            return asyncio.run(fast(core, "g", {}))["model_info"]["id"]

    filtered = []

    class Filtering(CustomLogger):
        async def async_filter_deployments(self, model, healthy_deployments, messages, request_kwargs=None,
                                           parent_otel_span=None):
            filtered.append(model)
            return [d for d in healthy_deployments if d["model_info"]["id"] == "d2"]

    def has_filters_counting(self):
        answered.append("has_filters")
        return callbacks_module.OptionalChecks.__dict__["has_filters"](self)

    saved_has_filters = callbacks_module.OptionalChecks.__dict__["has_filters"]

    class Looked:  # a callback whose __class__ look-up runs code
        def __getattribute__(self, name):
            answered.append(name)
            return object.__getattribute__(self, name)

    def changes():
        yield "appended", lambda m: m.setattr(litellm, "callbacks", litellm.callbacks) or litellm.callbacks.append(
            Filtering()), True
        yield "assigned", lambda m: m.setattr(litellm, "callbacks", [*litellm.callbacks, Filtering()]), True
        yield "replaced", lambda m: litellm.callbacks.__setitem__(len(litellm.callbacks) - 1, Filtering()), True

        class FilteringLeastBusy(LeastBusyLoggingHandler):
            async_filter_deployments = Filtering.async_filter_deployments

        yield "class assigned", lambda m: m.setattr(litellm.callbacks[-1], "__class__", FilteringLeastBusy), True
        yield "class filter", lambda m: m.setattr(LeastBusyLoggingHandler, "async_filter_deployments",
                                                  Filtering.async_filter_deployments), True
        yield "scoped", lambda m: m.setattr(core._checks, "_request_scoped_selectors", (Filtering(),)), True
        yield "has_filters", lambda m: m.setattr(callbacks_module.OptionalChecks, "has_filters",
                                                 lambda self: saved_has_filters(self) or answered.append(1)), False
        yield "filters_deployments", lambda m: m.setattr(
            callbacks_module, "filters_deployments", lambda cb: answered.append(1) or False), False
        yield "instance", lambda m: m.setitem(core.__dict__, "_answer_callback_filters", lambda *a: (
            answered.append(1), stock_answer(core, *a))[1]), False
        yield "class look-up", lambda m: m.setattr(litellm, "callbacks", [*litellm.callbacks, Looked()]), False

    for name, change, filters in changes():
        assert pick() and pick() and not answered and not filtered, name  # kept
        with monkeypatch.context() as m:
            saved = list(litellm.callbacks)  # (the list's own contents, restored in place)
            change(m)
            try:
                got = pick()
                if filters:
                    assert got == "d2" and filtered, name
                else:
                    assert answered, name
            finally:
                litellm.callbacks[:] = saved
        del answered[:], filtered[:]
    assert pick() and not answered


def test_no_filter_ids_against_litellms_answer():
    """The no-filter answer (``router_first_strs``: the exact-str check and the
    first occurrences natively) against LiteLLM's ``_answer_callback_filters``
    on 3,000 random candidate lists: repeats, empty and non-ASCII ids of every
    storage kind, ids equal in bytes but not in kind, and lists holding a
    ``str`` subclass (its own ``__str__``, ``__eq__``, ``__hash__``) or a
    non-str, which must decline (None: LiteLLM's method answers)."""
    fast = _fast_select()
    router = _router(routing_strategy="simple-shuffle")
    core = router._core
    core_globals = sys.modules["litellm.router_rust.core"].__dict__

    class Renamed(str):
        def __str__(self):
            return "renamed-" + str.__str__(self)

        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    class Hashed(str):
        def __hash__(self):
            return 1

    gen = random.Random(14)
    alphabet = ["a", "b", "\xe9", "\u6261", "\U0001f600", "ab"]
    declined = answered = 0
    for case in range(3000):
        pool = ["".join(gen.choice(alphabet) for _ in range(gen.randint(0, 3))) for _ in range(gen.randint(1, 8))]
        ids = [(gen.choice(pool) + ".")[:-1] for _ in range(gen.choice([0, 1, 2, 5, 40, 70, 300]))]
        odd = case % 5 == 0 and ids
        if odd:
            at = gen.randrange(len(ids))
            ids[at] = gen.choice([Renamed(ids[at]), Hashed(ids[at]), 7, None])
        step = {"kind": "select", "stage": "callback_filters", "candidates": ids}
        stock = asyncio.run(core._answer_callback_filters(dict(step, candidates=list(ids)), {}, None))
        got = fast.no_filter_ids(core, step, core_globals)
        if odd:
            assert got is None, (case, ids)
            declined += 1
        else:
            assert stock == ((got, None), None), (case, ids, got, stock)
            assert type(got) is list and got is not ids and all(type(i) is str for i in got)
            answered += 1
    assert declined > 400 and answered > 2000
    assert fast.no_filter_ids(core, {"kind": "select", "stage": "callback_filters"}, core_globals) == []
    assert fast.no_filter_ids(core, {"stage": "callback_filters", "candidates": ("a",)}, core_globals) is None


@pytest.mark.parametrize("strategy", ["simple-shuffle", "least-busy"])
def test_select_callback_filter_check_failing_falls_back_to_litellms_answer(monkeypatch, strategy):
    """The no-filter check is ours and only reads, but it runs after
    LiteLLM's steps have begun (the fused pick raises their errors to the
    caller once): an error of the check itself is counted against the flag
    and LiteLLM's ``_answer_callback_filters`` answers the step, so the pick,
    the request and ``random``'s state are stock's."""
    from fast_litellm import flags

    flag = flags.get_flag("rust_routing")
    flag.reset()
    try:
        def broken(*args):
            raise RuntimeError("a bug of ours")

        monkeypatch.setattr(protocol_fast, "_filter_state", broken)
        requests = [{}, {"metadata": {"other": 2}}] * 2
        # (on LiteLLM's handle: the inline stage answer's check)
        stock, fast = _pick_in_lockstep(strategy, requests, twin=False)
        assert stock == fast and all(outcome[0] == "ok" for outcome, _r, _s in fast)
        # the check ran, failed and was counted at every pick (never kept)
        assert flag.errors == len(requests) and flag.last_error["type"] == "RuntimeError"
    finally:
        flag.reset()


def test_inlined_import_statements_run_a_replaced_import(monkeypatch):
    """The pre-route's decision record, the callback-filter step's answer and
    the timed pick's service event inline LiteLLM's import statements of
    loaded modules as ``sys.modules`` reads; with ``builtins.__import__``
    replaced (an import hook) those statements call it: a hook in place
    before the pick sends it to LiteLLM's select, and one installed while the
    pick runs (here by its first step) makes each inlined step run LiteLLM's
    code, so the hook sees their imports either way."""
    import builtins

    seen = []
    real = builtins.__import__

    def hook(name, *args, **kwargs):
        seen.append(name)
        return real(name, *args, **kwargs)

    fast = _fast_select()
    original = _original(_patch("routing.select").target)
    router = _router(routing_strategy="least-busy")
    core = router._core

    def pick():
        async def run():
            try:
                return await fast(core, "g", {})
            except NotAccelerated:  # declined: LiteLLM's select, as the engine runs it
                return await original(core, "g", {})
        with _local_patch.accelerated(True):
            return asyncio.run(run())["model_info"]["id"]

    expected = {"asyncio", "litellm.types.services",  # service_logged's imports
                "litellm.router_strategy.auto_router.baseline_request",  # the decision record's
                "litellm.router_rust.core"}  # _answer_callback_filters' attempt_failure
    assert pick() and pick()
    monkeypatch.setattr(builtins, "__import__", hook)
    del seen[:]
    assert pick()
    monkeypatch.setattr(builtins, "__import__", real)
    assert expected <= set(seen), seen
    first_step = type(core)._answer_cache

    async def installing(step):
        builtins.__import__ = hook
        return await first_step(core, step)

    core.__dict__["_answer_cache"] = installing
    del seen[:]
    try:
        assert pick()
    finally:
        builtins.__import__ = real
        del core.__dict__["_answer_cache"]
    # (the pre-route step comes before the first cache step: its record is checked above)
    assert expected - {"litellm.router_strategy.auto_router.baseline_request"} <= set(seen), seen


def test_select_least_busy_service_target_follows_litellms(monkeypatch):
    """The least-busy pick with its service target set in the fused pick: the
    selector's body runs under ``ROUTER_USAGE_TARGET`` as under LiteLLM's
    decorator, and after kept picks the method replaced on the class or set
    on the instance, ``_internal_context``'s ``service_target`` replaced, or the
    decorator's closure changed, the pick goes through the method as bound."""
    from litellm import _internal_context
    from litellm.redis.stores.router_usage import ROUTER_USAGE_TARGET
    from litellm.router_strategy import least_busy
    from litellm.router_strategy.least_busy import LeastBusyLoggingHandler

    fast = _fast_select()
    router = _router(routing_strategy="least-busy")
    core = router._core
    targets = []
    calls = []
    stock_ids = least_busy._deployment_ids

    def ids(healthy):
        targets.append(_internal_context.current_service_target())
        return stock_ids(healthy)

    monkeypatch.setattr(least_busy, "_deployment_ids", ids)

    def pick():
        with _local_patch.accelerated(True):
            return asyncio.run(fast(core, "g", {}))["model_info"]["id"]

    assert pick() and pick() and targets == [ROUTER_USAGE_TARGET] * 2
    assert _internal_context.current_service_target() is None
    decorated = LeastBusyLoggingHandler.__dict__["async_get_available_deployments"]

    async def counting(self, *args, **kwargs):
        calls.append("method")
        return await decorated(self, *args, **kwargs)

    import contextlib

    @contextlib.contextmanager
    def target(value):
        calls.append("service_target")
        with stock_target(value):
            yield

    stock_target = _internal_context.service_target
    selector = router._core._selectors.selector_for("least-busy", "default", None, {})
    other_target = _internal_context.with_service_target("other")(lambda: None).__closure__[0]
    for name, change in (
            ("class", lambda m: m.setattr(LeastBusyLoggingHandler, "async_get_available_deployments", counting)),
            ("instance", lambda m: m.setitem(selector.__dict__, "async_get_available_deployments",
                                             counting.__get__(selector))),
            ("service_target", lambda m: m.setattr(_internal_context, "service_target", target)),
            ("closure", lambda m: m.setattr(decorated.__closure__[1], "cell_contents",
                                            other_target.cell_contents))):
        del targets[:], calls[:]
        assert pick() and targets == [ROUTER_USAGE_TARGET] and not calls, name  # kept
        with monkeypatch.context() as m:
            change(m)
            del targets[:]
            assert pick()
            if name == "closure":
                assert targets == ["other"], name
            else:
                assert calls and targets == [ROUTER_USAGE_TARGET], (name, calls, targets)
    del targets[:], calls[:]
    assert pick() and targets == [ROUTER_USAGE_TARGET] and not calls
    assert "async_get_available_deployments" not in selector.__dict__


@pytest.mark.parametrize("strategy", ["latency-based-routing", "least-busy", "cost-based-routing"])
def test_select_service_event_is_scheduled_as_litellms(strategy, monkeypatch):
    """The timed pick's ROUTER service event scheduled in the fused pick as
    ``RustCore.service_logged`` schedules it: one ``asyncio.create_task`` (read
    from the module at the call) of the service logger's hook, called with the
    same arguments (the request's parent span, the same call type); after kept
    picks, ``service_logged`` replaced on the class or set on the core runs."""
    import asyncio as asyncio_module

    from litellm.router_rust import core as core_module

    fast = _fast_select()
    original = _original(_patch("routing.select").target)
    tasks = []
    stock_create_task = asyncio_module.create_task

    def create_task(coro, **kwargs):
        tasks.append(coro.__qualname__)
        return stock_create_task(coro, **kwargs)

    monkeypatch.setattr(asyncio_module, "create_task", create_task)
    seen = {}
    for select, on in ((original, False), (fast, True)):
        router = _router(on, routing_strategy=strategy)
        events = seen.setdefault(on, [])

        async def hook(**kwargs):
            events.append({k: (type(v).__name__ if k in ("duration", "start_time", "end_time") else v)
                           for k, v in kwargs.items()})

        router._core.service_logger_obj.async_service_success_hook = hook
        del tasks[:]
        with _local_patch.accelerated(on):
            for request in ({}, {"metadata": {"litellm_parent_otel_span": "span"}}):
                async def pick():
                    await select(router._core, "g", dict(request))
                    await asyncio.sleep(0)
                asyncio.run(pick())
        events.append(list(tasks))
    assert seen[True] == seen[False] and len(seen[True]) == 3 and seen[True][-1]

    router = _router(routing_strategy=strategy)
    calls = []
    stock_logged = core_module.RustCore.service_logged

    def counting(self, *args):
        calls.append(args[0])
        return stock_logged(self, *args)

    def pick():
        with _local_patch.accelerated(True):
            return asyncio.run(fast(router._core, "g", {}))["model_info"]["id"]

    for change in (lambda m: m.setattr(core_module.RustCore, "service_logged", counting),
                   lambda m: m.setitem(router._core.__dict__, "service_logged", counting.__get__(router._core))):
        assert pick() and pick() and not calls  # kept
        with monkeypatch.context() as m:
            change(m)
            assert pick() and calls == ["<routing_strategy>.async_get_available_deployments"]
        del calls[:]


def test_select_callback_filter_answer_sees_a_callback_class_rebased():
    """A registered callback's class given a filtering base by ``__bases__``
    assignment after kept picks (no dict changes its tag: the class's MRO is a
    new tuple): LiteLLM's ``filters_deployments`` finds the base's filter, so
    the filter runs and narrows the pick, as stock."""
    from litellm.integrations.custom_logger import CustomLogger

    fast = _fast_select()
    router = _router()
    filtered = []

    class Base(CustomLogger):
        pass

    class Callback(Base):
        pass

    class Filtering(CustomLogger):
        async def async_filter_deployments(self, model, healthy_deployments, messages, request_kwargs=None,
                                           parent_otel_span=None):
            filtered.append(model)
            return [d for d in healthy_deployments if d["model_info"]["id"] == "d2"]

    def pick():
        with _local_patch.accelerated(True):
            return asyncio.run(fast(router._core, "g", {}))["model_info"]["id"]

    saved = list(litellm.callbacks)
    litellm.callbacks.append(Callback())
    try:
        assert pick() and pick() and not filtered  # kept
        Callback.__bases__ = (Filtering,)
        assert [pick() for _ in range(3)] == ["d2"] * 3 and len(filtered) == 3
    finally:
        litellm.callbacks[:] = saved


@pytest.mark.parametrize("strategy", ["simple-shuffle", "least-busy", "latency-based-routing"])
def test_select_with_a_replaced_import_makes_litellms_import_statements(strategy, monkeypatch):
    """With ``builtins.__import__`` replaced (an import hook: every import
    statement calls it), the fused pick's hook sees the import statements
    LiteLLM's select makes over the same patched steps: the selection's set-up
    (the image check's, ``allowed_fails_is_default``'s), ``run``'s
    ``phase_span``, the callback-filter step's ``attempt_failure``, in order."""
    import builtins

    real = builtins.__import__
    fast = _fast_select()
    original = _original(_patch("routing.select").target)
    seen = {}
    for select, name in ((original, "litellm"), (fast, "fused")):
        router = _router(routing_strategy=strategy)
        imports = seen.setdefault(name, [])

        def hook(module, globals=None, locals=None, fromlist=(), level=0, imports=imports):
            imports.append((module, tuple(fromlist or ())))
            return real(module, globals, locals, fromlist, level)

        with _local_patch.accelerated(True):
            for _ in range(3):
                async def pick():
                    builtins.__import__ = hook
                    try:
                        try:
                            return await select(router._core, "g", {"metadata": {}})
                        except NotAccelerated:  # declined: LiteLLM's select, as the engine runs it
                            return await original(router._core, "g", {"metadata": {}})
                    finally:
                        builtins.__import__ = real
                random.seed(3)
                del imports[:]
                asyncio.run(pick())
    assert seen["fused"] == seen["litellm"]
    assert ("litellm.router_rust.core", ("attempt_failure",)) in seen["fused"]


@pytest.mark.parametrize("strategy", ["simple-shuffle", "least-busy", "latency-based-routing"])
def test_select_with_a_core_attribute_hook_makes_litellms_look_ups(strategy):
    """``RustCore.__getattribute__`` defined (after kept picks): every look-up
    on the core runs it, and the fused pick skips some (the callback-filter
    step's ``_answer_callback_filters`` and ``_opt``, the strategy step's
    ``_answer_select``, ``service_logged``) and adds its ``__dict__`` reads, so
    it declines and the hook sees the look-ups LiteLLM's select makes over the
    same patched steps, in order."""
    from litellm.router_rust.core import RustCore

    fast = _fast_select()
    original = _original(_patch("routing.select").target)
    seen = {}
    for select, name in ((original, "litellm"), (fast, "fused")):
        router = _router(routing_strategy=strategy)
        names = seen.setdefault(name, [])

        def hook(self, attribute, names=names):
            names.append(attribute)
            return object.__getattribute__(self, attribute)

        async def pick():
            try:
                return await select(router._core, "g", {})
            except NotAccelerated:  # declined: LiteLLM's select, as the engine runs it
                return await original(router._core, "g", {})

        with _local_patch.accelerated(True):
            asyncio.run(pick())
            asyncio.run(pick())  # kept
            RustCore.__getattribute__ = hook
            try:
                random.seed(3)
                asyncio.run(pick())
            finally:
                del RustCore.__getattribute__
    assert seen["fused"] == seen["litellm"] and "_answer_callback_filters" in seen["fused"]


def test_select_service_event_reads_the_clock_after_the_method_look_up(monkeypatch):
    """A timed pick's ``core.service_logged(..., start_time, clock(), request)``
    looks the method up before it reads the clock: with ``service_logged`` a
    class property (a look-up that runs code) and the core module's clock
    replaced, the fused pick makes the two in LiteLLM's order."""
    from litellm.router_rust import core as core_module

    fast = _fast_select()
    original = _original(_patch("routing.select").target)
    stock_logged = core_module.RustCore.service_logged
    stock_clock = core_module.unix_time
    seen = {}
    for select, name in ((original, "litellm"), (fast, "fused")):
        router = _router(routing_strategy="least-busy")
        events = seen.setdefault(name, [])
        with monkeypatch.context() as m:
            m.setattr(core_module.RustCore, "service_logged",
                      property(lambda self, events=events: events.append("look-up") or stock_logged.__get__(self)))
            m.setattr(core_module, "unix_time", lambda events=events: events.append("clock") or stock_clock())
            with _local_patch.accelerated(True):
                asyncio.run(select(router._core, "g", {}))
    assert seen["fused"] == seen["litellm"] == ["clock", "look-up", "clock"]


@pytest.mark.parametrize("name", ["str", "list", "dict"])
def test_select_callback_filter_answer_follows_a_shadowed_builtin(name, monkeypatch):
    """``_answer_callback_filters`` builds its no-filter answer with ``str``,
    ``list`` and ``dict`` as its module reads them: one shadowed there (after
    kept picks) is called by LiteLLM's answer, which then answers the step."""
    import builtins

    from litellm.router_rust.steps import callbacks as callbacks_module

    fast = _fast_select()
    router = _router()
    calls = []
    real = getattr(builtins, name)

    class Shadow(real):  # noqa: D401 - the builtin, counted where the module calls it
        def __new__(cls, *args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)

    Shadow.fromkeys = classmethod(lambda cls, keys: calls.append(name) or real.fromkeys(keys)) if name == "dict" else None

    def pick():
        with _local_patch.accelerated(True):
            return asyncio.run(fast(router._core, "g", {}))["model_info"]["id"]

    assert pick() and pick() and not calls  # kept
    monkeypatch.setattr(callbacks_module, name, Shadow, raising=False)
    assert pick() and calls


class _EqKey(str):
    """A metadata key that counts its comparisons: a dict lookup of an equal
    ``str`` compares it (same hash, another object), running this code."""

    compared: list = []

    def __eq__(self, other):
        _EqKey.compared.append(str.__str__(self))
        return str.__eq__(self, other)

    __hash__ = str.__hash__


class _BoolStr(str):
    """A team id whose truth test (LiteLLM's helpers make one) counts."""

    def __bool__(self):
        _EqKey.compared.append("bool")
        return len(str.__str__(self)) > 0


def _eq_key_requests():
    auth = _EqAuth(["m1"])
    for team in ("t", None, _Str("s"), _BoolStr("b")):
        for other in ({}, {"user_api_key_team_id": "u"}, {"user_api_key_auth": auth}, None):
            for key in ("user_api_key_team_id", "user_api_key_auth"):
                metadata = {_EqKey(key): team, "other": 1}
                yield {"metadata": metadata, **({"litellm_metadata": other} if other is not None else {})}
                yield {"litellm_metadata": metadata, **({"metadata": other} if other is not None else {})}


def test_start_fields_buckets_with_key_code_match():
    """A metadata bucket whose key is a ``str`` subclass with its own
    ``__eq__`` (run by the lookups of an equal key): ``_start_fields`` makes
    LiteLLM's helpers' lookups, in their number and order, so the key's
    comparisons are stock's, and so are the fields; so is the truth test of
    a team id that is a ``str`` subclass (declined before the helpers run:
    it used to be declined after them, and the fallback ran them again)."""
    target = _patch("routing.start_fields").target
    original = _original(target)
    fast = protocol_fast.make_start_fields(original)
    for request in [*_eq_key_requests(), {"metadata": {"user_api_key_team_id": _BoolStr("b")}},
                    {"litellm_metadata": {"user_api_key_team_id": _BoolStr("b")}}]:
        del _EqKey.compared[:]
        stock = _outcome(original, request)
        stock_compared = list(_EqKey.compared)
        del _EqKey.compared[:]
        try:
            got = ("ok", fast(request))
        except NotAccelerated:
            got = _outcome(original, request)  # as the engine falls back
        assert (got, _EqKey.compared) == (stock, stock_compared), request


def test_select_set_up_of_buckets_with_key_code_matches():
    """The fused pick's selection set-up of such a request: the key's
    comparisons are those of LiteLLM's select over the same patched steps
    (a set-up that declines has run none of them)."""
    fast = _fast_select()
    original = _original(_patch("routing.select").target)
    for request in _eq_key_requests():
        seen = []
        for select in (original, fast):
            router = _router()
            del _EqKey.compared[:]
            random.seed(5)
            with _local_patch.accelerated(True):
                picked = asyncio.run(select(router._core, "g", copy.copy(request)))["model_info"]["id"]
            seen.append((picked, list(_EqKey.compared)))
        assert seen[0] == seen[1], request


def test_selection_init_over_the_patches_runs_the_requests_code_as_stock():
    """LiteLLM's ``_Selection.__init__`` over the accelerated steps against
    stock on requests whose start-field validation runs their code (a
    ``str`` subclass key with its own ``__eq__``, such a team id's truth
    test): the same comparisons and tests, in order.  The retry-policy fields
    were answered ``{}`` without that validation, which stock runs a second
    time (``_policy_lookup_names``): the patch declines such requests."""
    from litellm.router_rust.core import _Selection

    requests = [*_eq_key_requests(), {_EqKey("stream"): True}, {_EqKey("tags"): ["a"], "metadata": {}},
                {"metadata": {"user_api_key_team_id": _BoolStr("b")}}]
    for request in requests:
        seen = []
        for on in (False, True):
            router = _router(on)
            del _EqKey.compared[:]
            with _local_patch.accelerated(on):
                _Selection(router._core, "g", copy.copy(request), "pick", None, None, None)
            seen.append(list(_EqKey.compared))
        assert seen[0] == seen[1], request


def test_latency_pick_of_a_request_with_key_code_matches():
    """A latency pick of a request whose key equal to ``"stream"`` is a
    ``str`` subclass with its own ``__eq__``: LiteLLM reads the key once per
    candidate (each lookup compares it), the accelerated selector once or not
    at all, so it declines such a request: the same comparisons, pick and
    ``random`` state as stock."""
    stock, fast = _pick_in_lockstep("latency-based-routing", [{_EqKey("stream"): True}, {_EqKey("stream"): False}])
    assert stock == fast
    seen = []
    for on in (False, True):
        router = _router(on, routing_strategy="latency-based-routing")
        del _EqKey.compared[:]
        random.seed(9)
        select = _original(_patch("routing.select").target) if not on else _fast_select()
        with _local_patch.accelerated(on):
            picked = asyncio.run(select(router._core, "g", {_EqKey("stream"): True}))["model_info"]["id"]
        seen.append((picked, list(_EqKey.compared), random.getstate()))
    assert seen[0] == seen[1]


@pytest.mark.parametrize("strategy", ["simple-shuffle", "least-busy", "usage-based-routing-v2"])
def test_kept_no_filter_answer_sees_the_core_module_changed(monkeypatch, strategy):
    """Session 21 (route21c): ``filters_absent``'s answer is kept
    (``absent_memo``) while the core's dict, the core module's, builtins' and
    every dict ``_filter_state`` read hold their tags.  After kept picks on
    one router, ``attempt_failure`` deleted from the core module (only the
    module dict's tag sees it; LiteLLM's method imports it first thing) makes
    the fused pick hand the step to LiteLLM's method, which raises stock's
    ImportError; put back, the pick is stock's again."""
    from litellm.router_rust import core as core_module

    fast = _fast_select()
    original = _original(_patch("routing.select").target)
    outcomes = []
    for select, on in ((original, False), (fast, True)):
        router = _router(on, routing_strategy=strategy)
        core = router._core
        random.seed(7)
        got = []

        def pick():
            async def run():
                return (await select(core, "g", {}))["model_info"]["id"]
            try:
                return ("ok", asyncio.run(run()))
            except NotAccelerated:
                raise
            except Exception as exc:  # the exception itself is compared
                return ("raised", type(exc).__name__, str(exc))

        with _local_patch.accelerated(on), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got += [pick(), pick(), pick()]
            if on:
                memo = fast.absent_memo
                assert not MEMOS_KEEP or memo.get(core.__dict__, core_module.__dict__) is not None  # kept (3.11: dict tags)
            with monkeypatch.context() as m:
                m.delitem(core_module.__dict__, "attempt_failure")
                got += [pick(), pick()]
            got += [pick(), pick()]
        got.append(random.getstate())
        outcomes.append(got)
    stock, accelerated = outcomes
    assert stock == accelerated
    assert [o[0] for o in stock[:-1]] == ["ok"] * 3 + ["raised"] * 2 + ["ok"] * 2
    assert stock[3][1] == "ImportError"


def test_kept_no_filter_answer_sees_an_import_hook(monkeypatch):
    """``filters_absent``'s kept answer (session 21, route21c) and an import
    hook installed after it was kept (by code running inside a pick, past the
    select's own check): LiteLLM's method makes an import statement, so the
    step is not answered without it (None: LiteLLM's method answers) until
    the hook is gone; builtins' dict is one of the memo's tagged dicts."""
    import builtins

    from litellm.router_rust import core as core_module

    fast = _fast_select()
    router = _router(routing_strategy="least-busy")
    core = router._core
    step = {"kind": "select", "stage": "callback_filters", "candidates": ["b", "a", "b"]}
    with _local_patch.accelerated(True):
        asyncio.run(fast(core, "g", {}))
        assert fast.no_filter_ids(core, dict(step), core_module.__dict__) == ["b", "a"]
        assert not MEMOS_KEEP or fast.absent_memo.get(core.__dict__, core_module.__dict__) is not None  # kept (3.11: dict tags)
        real = builtins.__import__
        monkeypatch.setattr(builtins, "__import__", lambda *a, **k: real(*a, **k))
        assert fast.no_filter_ids(core, dict(step), core_module.__dict__) is None
        monkeypatch.setattr(builtins, "__import__", real)
        assert fast.no_filter_ids(core, dict(step), core_module.__dict__) == ["b", "a"]


def test_selection_set_up_kept_core_reads_follow_the_core_state():
    """Session 21 (route21c): the set-up's reads of the core's state (no
    method on the instance, the written retry policy, the tag-filtering cache,
    the routing-state sync's flags) are kept while their dicts hold their
    tags.  After kept set-ups: a current tag-filtering cache answer written
    into the core's dict is the document's (as ``_routing_fields`` reads it),
    and a written retry policy of a type LiteLLM validates sends the set-up to
    LiteLLM's ``__init__``; each undone, the set-up is the fast one again."""
    from litellm.router_rust import core as core_module

    fast = _fast_select()
    router = _router()
    core = router._core

    def set_up():
        with _local_patch.accelerated(True):
            return fast.selection_set_up(core, "g", {})

    documents = []

    class Handle:  # LiteLLM's handle, the documents it is given recorded
        def __init__(self, handle):
            self.handle = handle

        def select(self, model, document):
            documents.append(dict(document))
            return self.handle.select(model, document)

        def __getattr__(self, name):
            return getattr(self.handle, name)

    state = core.__dict__
    state["_handle"] = Handle(state["_handle"])
    assert set_up() is not None and set_up() is not None
    assert documents and "filter_tags" not in documents[-1]
    saved = state.get("_tag_filtering_models")
    state["_tag_filtering_models"] = (state["_version"], True)
    try:
        assert set_up() is not None and documents[-1].get("filter_tags") is True
    finally:
        state["_tag_filtering_models"] = saved
    assert set_up() is not None and "filter_tags" not in documents[-1]
    state["_handle"] = state["_handle"].handle
    assert set_up() is not None and set_up() is not None
    plain = state["_plain"]
    assert plain.get("retry_policy") is None

    class Policy(core_module.Resolved.__mro__[-1]):  # (an object LiteLLM's check does not know)
        pass

    plain["retry_policy"] = Policy()
    try:
        assert set_up() is None
    finally:
        plain["retry_policy"] = None
    assert set_up() is not None

    # the registry's plugin list replaced by a non-empty one (its dict's tag), or the
    # registry's dict rebound to one holding it (no tag: checked at each set-up): LiteLLM's
    # sync runs and brings the plugin into the core's resolved settings, as stock's does
    class Plugin:
        pass

    hosted = state["_hosted"]
    hosted_state = hosted.__dict__
    plugins = hosted_state["_core_routing_plugins"]
    assert plugins == [] and core._resolved.routing_plugins == ()
    for rebind in (False, True):
        assert set_up() is not None and set_up() is not None
        if rebind:
            hosted.__dict__ = dict(hosted_state, _core_routing_plugins=[Plugin()])
        else:
            hosted_state["_core_routing_plugins"] = [Plugin()]
        try:
            assert set_up() is not None
            assert len(core._resolved.routing_plugins) == 1
        finally:
            hosted.__dict__ = hosted_state
            hosted_state["_core_routing_plugins"] = plugins
        assert set_up() is not None and core._resolved.routing_plugins == ()


def test_selection_set_up_kept_core_reads_follow_the_start_fields_validation(monkeypatch):
    """Session 21 (route21c): with the set-up's core-side reads kept, the
    start fields' validation the set-up skips is still checked at each
    set-up (its pydantic guard: no tag covers the model class): replaced
    after kept set-ups, LiteLLM's ``__init__`` sets the selection up."""
    from litellm.router_rust import core as core_module

    fast = _fast_select()
    router = _router()
    core = router._core

    def set_up():
        with _local_patch.accelerated(True):
            return fast.selection_set_up(core, "g", {})

    assert set_up() is not None and set_up() is not None
    model = core_module.RequestStartFields
    stock = model.model_validate

    with monkeypatch.context() as m:
        m.setattr(model, "model_validate", classmethod(lambda cls, *a, **k: stock(*a, **k)))
        assert set_up() is None
    assert set_up() is not None


def test_kept_no_filter_answer_checks_the_callback_validation_each_time():
    """``filters_absent``'s kept answer (session 21, route21c) still asks the
    callback-list validation's guard at each call, last: its entries include
    the adapter's class, which an assignment changes without a dict tag."""
    from litellm import router_python_host
    from litellm.router_rust import core as core_module

    fast = _fast_select()
    router = _router(routing_strategy="least-busy")
    core = router._core
    step = {"kind": "select", "stage": "callback_filters", "candidates": ["a"]}
    adapter = router_python_host._LITELLM_GLOBAL
    stock_type = type(adapter)
    with _local_patch.accelerated(True):
        asyncio.run(fast(core, "g", {}))
        assert fast.no_filter_ids(core, dict(step), core_module.__dict__) == ["a"]
        assert not MEMOS_KEEP or fast.absent_memo.get(core.__dict__, core_module.__dict__) is not None  # kept (3.11: dict tags)

        class Adapter(stock_type):
            pass

        adapter.__class__ = Adapter
        try:
            assert fast.no_filter_ids(core, dict(step), core_module.__dict__) is None
        finally:
            adapter.__class__ = stock_type
        assert fast.no_filter_ids(core, dict(step), core_module.__dict__) == ["a"]
