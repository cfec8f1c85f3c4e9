"""Differential tests for the twin handle (fast_litellm/routing/shadow_handle.py):
a pick on a Rust handle built with ``callback_filters: false`` while the
callback-filter stage's answer is the identity, against LiteLLM 1.110.2 stock.

Each test runs a stock Router (built and driven with the patches off) and an
accelerated one (built and driven with them on) in lockstep, the same seed
before each pair, and compares the picked deployment, the state of
``random`` after it, the request dict the pick stamped and the filters' calls;
the counters (``shadow_handle.STATS``) show where the twin ran, where the
stage ran on LiteLLM's handle and where a pick moved back onto it.
"""
from __future__ import annotations

import asyncio
import copy
import os
import random
import warnings

import pytest
from _lockstep import routing_patches, same_minute  # noqa: E402

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
litellm = pytest.importorskip("litellm")

from litellm.integrations.custom_logger import CustomLogger  # noqa: E402

from fast_litellm.routing import _local_patch, shadow_handle  # noqa: E402

STATS = shadow_handle.STATS


def _model_list(n=8, ids=None):
    return [{"model_name": "g",
             "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "k", "rpm": 1000 + 37 * i,
                                "api_base": "https://b%d.example" % i},
             "model_info": {"id": (ids[i] if ids else "d%d" % i)}} for i in range(n)]


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches(twins=True):
        yield


_ROUTERS = []


@pytest.fixture(autouse=True)
def clean_callbacks():
    saved = list(litellm.callbacks)
    yield
    litellm.callbacks[:] = saved
    while _ROUTERS:  # their strategies' sync tasks cancelled, their global callbacks dropped
        _ROUTERS.pop().retire()


class Drop(CustomLogger):
    """A deployment filter: drops the deployments whose id it names; counts its calls."""

    def __init__(self, drop):
        super().__init__()
        self.drop = set(drop)
        self.calls = 0

    async def async_filter_deployments(self, model, healthy_deployments, messages, request_kwargs=None,
                                       parent_otel_span=None):
        self.calls += 1
        return [d for d in healthy_deployments if d["model_info"]["id"] not in self.drop]


def _pair(n=8, ids=None, model_list=None, **kwargs):
    routers = []
    for accelerated in (False, True):
        with warnings.catch_warnings(), _local_patch.accelerated(accelerated):
            warnings.simplefilter("ignore")
            routers.append(litellm.Router(model_list=copy.deepcopy(model_list or _model_list(n, ids)), **kwargs))
    _ROUTERS.extend(routers)
    return routers


def _pick(router, accelerated, seed, request=None, callbacks=None):
    """One pick: (id, api_base, random state after, the request dict after)."""
    if callbacks is not None:
        litellm.callbacks[:] = callbacks
    request = {} if request is None else request
    random.seed(seed)

    async def go():
        return await router.async_get_available_deployment(model="g", request_kwargs=request)

    with warnings.catch_warnings(), _local_patch.accelerated(accelerated):
        warnings.simplefilter("ignore")
        try:
            picked = asyncio.run(go())
            out = (picked["model_info"]["id"], picked["litellm_params"].get("api_base"))
        except Exception as error:  # noqa: BLE001 - compared by class and message
            out = (type(error).__name__, str(error))
    return out, random.getstate(), request


def _lockstep(stock, fast, seeds, callbacks=lambda i: None, request=lambda i: {"metadata": {"k": i}}):
    for i in seeds:
        same_minute()
        got_stock = _pick(stock, False, i, request(i), callbacks(i))
        got_fast = _pick(fast, True, i, request(i), callbacks(i))
        assert got_fast == got_stock, i


@pytest.mark.parametrize("strategy", ["simple-shuffle", "latency-based-routing", "cost-based-routing"])
def test_twin_serves_picks_with_no_filter(strategy):
    stock, fast = _pair(routing_strategy=strategy)
    before = dict(STATS)
    _lockstep(stock, fast, range(25))
    assert STATS["picks"] - before["picks"] == 25
    assert STATS["stage_steps"] == before["stage_steps"]  # the stage was never asked
    rec = shadow_handle.recorded(fast._core)
    assert rec is not None and rec.shadow is not None and fast._core._handle is rec.handle
    assert rec.shadow not in vars(fast._core).values()  # LiteLLM's code never sees the twin


def test_small_groups_stay_on_litellms_handle(monkeypatch):
    """MIN_GROUP_SIZE is policy: below it a pick runs on LiteLLM's handle (its stage
    answered), at or above it on the twin; the picks are stock's either way."""
    monkeypatch.setattr(shadow_handle, "MIN_GROUP_SIZE", 6)
    for n, twinned in ((5, False), (6, True)):
        stock, fast = _pair(n=n, routing_strategy="simple-shuffle")
        before = dict(STATS)
        _lockstep(stock, fast, range(8))
        assert STATS["picks"] - before["picks"] == (8 if twinned else 0), n
        assert STATS["stage_steps"] - before["stage_steps"] == (0 if twinned else 8), n


def test_health_check_routing_stays_on_litellms_handle():
    """With health-check routing on, LiteLLM's handle reads the health state (a
    second cache step) between its cooldown read and the stage, so the stage
    point is not right after the one cache step the fused pick stops checking
    at: such a router gets no twin, its stage runs on LiteLLM's handle."""
    stock, fast = _pair(routing_strategy="simple-shuffle", enable_health_check_routing=True)
    before = dict(STATS)
    _lockstep(stock, fast, range(6))
    assert STATS["picks"] == before["picks"]
    assert STATS["stage_steps"] - before["stage_steps"] == 6
    assert shadow_handle.recorded(fast._core).verdict is False


def test_twin_handle_asks_no_stage_and_litellms_does():
    _, fast = _pair()
    core = fast._core
    twin = shadow_handle.shadow_for(core, core._handle)
    assert twin is not None

    def stages(handle):
        call = handle.select("g", {"pre_routes": True})
        step, asked = call.next(None), []
        while step["kind"] not in ("done", "failed"):
            asked.append((step["kind"], step.get("stage")))
            if step["kind"] == "pre_route":
                answer = None
            elif step["kind"] == "cache":
                answer = [None] * len(step["keys"])
            elif step.get("stage") == "callback_filters":
                answer = (list(step["candidates"]), None)
            else:
                answer = [step["candidates"][0]]
            step = call.next(answer)
        return asked

    assert ("select", "callback_filters") in stages(core._handle)
    assert ("select", "callback_filters") not in stages(twin)


def test_filter_registered_and_removed_between_picks():
    stock, fast = _pair(routing_strategy="simple-shuffle")
    drops = {}

    def callbacks(i):
        if 5 <= i < 12:  # registered for these picks, the same filter object state on both sides
            drops.setdefault(i, [Drop({"d1", "d2", "d5"}), Drop({"d1", "d2", "d5"})])
            return [drops[i][0]]
        return []

    before = dict(STATS)
    for i in range(18):
        same_minute()
        a = _pick(stock, False, i, {}, callbacks(i))
        if 5 <= i < 12:
            litellm.callbacks[:] = [drops[i][1]]
            b = _pick(fast, True, i, {}, None)
            assert drops[i][0].calls == drops[i][1].calls == 1
            assert a[0][0] not in {"d1", "d2", "d5"}
        else:
            b = _pick(fast, True, i, {}, [])
        assert a == b, i
    # (session 22) every pick starts on the twin; the seven with the filter move back at the
    # stage point (REST_AFTER_ESCAPE is 0 here), where LiteLLM's stage runs it
    assert STATS["picks"] - before["picks"] == 18
    assert STATS["escapes"] - before["escapes"] == 7
    assert STATS["stage_steps"] - before["stage_steps"] == 7


def test_filter_registered_during_a_pick_moves_it_back():
    """A filter registered by code a pick runs before the stage (here the
    pre-routing hook): stock answers the stage with it; the accelerated pick
    moves back onto LiteLLM's handle, whose stage then runs it."""
    stock, fast = _pair(routing_strategy="simple-shuffle")
    made = []

    def hook_on(router):
        prerouter = router._core._prerouter
        inner = type(prerouter).pre_route

        async def pre_route(*args, **kwargs):
            drop = Drop({"d0", "d3", "d4", "d6"})
            made.append(drop)
            litellm.callbacks.append(drop)
            return await inner(prerouter, *args, **kwargs)

        prerouter.pre_route = pre_route

    for router in (stock, fast):
        hook_on(router)
    before = dict(STATS)
    for i in range(6):
        same_minute()
        a = _pick(stock, False, i, {}, [])
        b = _pick(fast, True, i, {}, [])
        assert a == b, i
        assert a[0][0] not in {"d0", "d3", "d4", "d6"}
        assert made[-1].calls == made[-2].calls == 1
    # the twin started each pick (no filter then), and each moved back
    assert STATS["picks"] - before["picks"] == 6
    assert STATS["escapes"] - before["escapes"] == 6
    assert STATS["stage_steps"] - before["stage_steps"] == 6


def test_flag_off_runs_litellms_pick_with_its_stage():
    stock, fast = _pair(routing_strategy="latency-based-routing")
    _lockstep(stock, fast, range(3))
    before = dict(STATS)
    for i in range(3, 9):
        drop = [Drop({"d0", "d7"}), Drop({"d0", "d7"})]
        a = _pick(stock, False, i, {}, [drop[0]])
        b = _pick(fast, False, i, {}, [drop[1]])  # the fast router, the patches off for this pick
        assert a == b and drop[0].calls == drop[1].calls == 1
        c = _pick(fast, False, i, {}, [])
        d = _pick(stock, False, i, {}, [])
        assert c == d
    assert STATS["picks"] == before["picks"]  # LiteLLM's select never runs on the twin


def test_duplicate_ids_never_get_a_twin():
    ids = ["d0", "d1", "d2", "d3", "d1", "d5"]
    stock, fast = _pair(n=6, ids=ids, routing_strategy="simple-shuffle")
    before = dict(STATS)
    _lockstep(stock, fast, range(30))
    assert STATS["picks"] == before["picks"]
    assert shadow_handle.recorded(fast._core).verdict is False


@pytest.mark.parametrize("kwargs", [
    {"model_group_alias": {"alias": "g"}},
    {"routing_strategy": "least-busy"},
])
def test_static_verdict(kwargs):
    stock, fast = _pair(**kwargs)
    before = dict(STATS)
    _lockstep(stock, fast, range(5))
    used = STATS["picks"] - before["picks"]
    assert used == (0 if "model_group_alias" in kwargs else 5)


def test_wildcard_names_never_get_a_twin():
    model_list = _model_list(4) + [{"model_name": "openai/*", "litellm_params": {"model": "openai/*", "api_key": "k"},
                                    "model_info": {"id": "w"}}]
    stock, fast = _pair(model_list=model_list)
    before = dict(STATS)
    _lockstep(stock, fast, range(5))
    assert STATS["picks"] == before["picks"]


@pytest.mark.parametrize("change", ["add_deployment", "update_settings", "delete_deployment"])
def test_a_registry_write_retires_the_twin(change):
    stock, fast = _pair(routing_strategy="simple-shuffle")
    _lockstep(stock, fast, range(3))
    for router in (stock, fast):
        with warnings.catch_warnings(), _local_patch.accelerated(router is fast):
            warnings.simplefilter("ignore")
            if change == "add_deployment":
                router.add_deployment(litellm.types.router.Deployment(**_model_list(9)[8]))
            elif change == "update_settings":
                router.update_settings(num_retries=4)
            else:
                router.delete_deployment("d3")
    before = dict(STATS)
    _lockstep(stock, fast, range(3, 20))
    assert STATS["picks"] == before["picks"]  # the twin was built over the state before the write


def test_sync_picks_and_completions_stay_litellms():
    stock, fast = _pair(routing_strategy="simple-shuffle")
    before = dict(STATS)
    for i in range(8):
        drop = [Drop({"d2"}), Drop({"d2"})]
        got = []
        for router, accelerated, d in ((stock, False, drop[0]), (fast, True, drop[1])):
            litellm.callbacks[:] = [d] if i % 2 else []
            random.seed(i)
            with warnings.catch_warnings(), _local_patch.accelerated(accelerated):
                warnings.simplefilter("ignore")
                picked = router.get_available_deployment(model="g", request_kwargs={})
                response = asyncio.run(router.acompletion(model="g", messages=[{"role": "user", "content": "x"}],
                                                          mock_response="ok"))
            got.append((picked["model_info"]["id"], response._hidden_params.get("model_id"), random.getstate()))
        assert got[0] == got[1], i
        assert drop[0].calls == drop[1].calls
    assert STATS["picks"] == before["picks"]


def test_twin_survives_nothing_but_its_handle():
    """A rebuild (a routing plugin added, a static setting) makes a new
    handle: the record follows it, and the old twin is not used."""
    _, fast = _pair(routing_strategy="simple-shuffle")
    core = fast._core
    first = shadow_handle.shadow_for(core, core._handle)
    old_handle = core._handle
    with warnings.catch_warnings(), _local_patch.accelerated(True):
        warnings.simplefilter("ignore")
        core._rebuild()
    assert core._handle is not old_handle
    assert shadow_handle.shadow_for(core, old_handle) is None
    second = shadow_handle.shadow_for(core, core._handle)
    assert second is not None and second is not first


def test_filter_registered_after_the_stage_point_stays_on_the_twin():
    """A filter registered by the strategy's answer (after the stage): stock's
    stage ran before it, with no filter, so the twin's pick is stock's: the
    accelerated pick stays on the twin (no move back: the filter is checked
    before each answer up to the cooldown read's only), and the filter is
    never called on either side."""
    stock, fast = _pair(routing_strategy="latency-based-routing")
    made = []

    def hook_on(router):
        core = router._core
        inner = type(core)._answer_select

        async def answer_select(*args, **kwargs):
            drop = Drop({"d0", "d1", "d2", "d3", "d4", "d5", "d6"})
            made.append(drop)
            litellm.callbacks.append(drop)
            return await inner(core, *args, **kwargs)

        core._answer_select = answer_select

    for router in (stock, fast):
        hook_on(router)
    before = dict(STATS)
    for i in range(5):
        same_minute()
        a = _pick(stock, False, i, {"metadata": {"n": i}}, [])
        b = _pick(fast, True, i, {"metadata": {"n": i}}, [])
        assert a == b, i
        assert [d.calls for d in made[-2:]] == [0, 0]
    assert STATS["picks"] - before["picks"] == 5
    assert STATS["escapes"] == before["escapes"]
    assert STATS["stage_steps"] == before["stage_steps"]


def test_a_failing_check_moves_the_pick_back(monkeypatch):
    """Our check failing mid-pick (an error of ours) counts as "not known":
    the pick moves back onto LiteLLM's handle and stays exact."""
    from fast_litellm.routing import _pydantic_guard

    stock, fast = _pair(routing_strategy="simple-shuffle")
    _lockstep(stock, fast, range(2))
    guard = _pydantic_guard.shared(_pydantic_guard.callback_list)  # the one the fused pick checks
    real = guard.check
    calls = [0]

    def flaky():
        calls[0] += 1
        if calls[0] == 1:  # the check at the stage point (session 22: the only one a pick makes)
            raise RuntimeError("ours")
        return real()

    monkeypatch.setattr(guard, "check", flaky)
    from fast_litellm import flags

    monkeypatch.setattr(flags.get_flag("rust_routing"), "error_threshold", 10 ** 6)
    before = dict(STATS)
    for i in range(2, 6):
        calls[0] = 0
        same_minute()
        a = _pick(stock, False, i, {}, [])
        calls[0] = 0
        b = _pick(fast, True, i, {}, [])
        assert a == b, i
    assert STATS["picks"] - before["picks"] == 4
    assert STATS["escapes"] - before["escapes"] == 4
    flags.reset_errors("rust_routing")  # (four of ours, counted as they should be)


@pytest.mark.parametrize("strategy", ["simple-shuffle", "latency-based-routing"])
def test_a_pre_router_method_on_the_instance_is_called(strategy):
    """LiteLLM's ``_pre_route`` calls ``self._prerouter.pre_route``, an
    instance attribute included: the fast pre-routing path declines then
    (it checked the class only), on a router built before or after."""
    stock, fast = _pair(routing_strategy=strategy)
    _lockstep(stock, fast, range(2))
    calls = {}
    for router in (stock, fast):
        prerouter = router._core._prerouter
        inner = type(prerouter).pre_route

        async def pre_route(*args, _router=router, _inner=inner, _prerouter=prerouter, **kwargs):
            calls[_router] = calls.get(_router, 0) + 1
            return await _inner(_prerouter, *args, **kwargs)

        prerouter.pre_route = pre_route
    _lockstep(stock, fast, range(2, 5))
    assert calls[stock] == calls[fast] == 3


@pytest.mark.parametrize("strategy", ["least-busy", "usage-based-routing-v2", "usage-based-routing"])
def test_twin_serves_the_other_strategies(strategy):
    stock, fast = _pair(routing_strategy=strategy)
    before = dict(STATS)
    _lockstep(stock, fast, range(12))
    assert STATS["picks"] - before["picks"] == 12
    assert STATS["stage_steps"] == before["stage_steps"]


def test_twin_with_cooling_deployments_pre_call_checks_and_tags():
    model_list = _model_list(8)
    for i, entry in enumerate(model_list):
        entry["litellm_params"]["tags"] = ["even" if i % 2 == 0 else "odd"]
    stock, fast = _pair(model_list=model_list, routing_strategy="simple-shuffle", enable_pre_call_checks=True)
    for router in (stock, fast):
        for ident in ("d2", "d5"):
            router._core._cooldowns.add_deployment_to_cooldown(ident, Exception("rate limited"), 429, 3600)
    before = dict(STATS)
    _lockstep(stock, fast, range(10), request=lambda i: {"metadata": {"tags": ["even"] if i % 2 else ["odd"]}})
    _lockstep(stock, fast, range(10, 16))
    assert STATS["picks"] - before["picks"] == 16


def test_a_deployment_named_by_id():
    """``specific_deployment``: both handles skip the stage (a deployment
    named by id), so the twin serves it as LiteLLM's handle does."""
    stock, fast = _pair(routing_strategy="simple-shuffle")
    got = []
    for router, accelerated in ((stock, False), (fast, True)):
        random.seed(3)
        with warnings.catch_warnings(), _local_patch.accelerated(accelerated):
            warnings.simplefilter("ignore")
            try:
                picked = asyncio.run(router.async_get_available_deployment(model="d4", request_kwargs={},
                                                                           specific_deployment=True))
                out = picked["model_info"]["id"]
            except Exception as error:  # noqa: BLE001 - compared
                out = (type(error).__name__, str(error))
        got.append((out, random.getstate()))
    assert got[0] == got[1]


def test_a_filter_registered_after_the_stage_point_with_a_cooldown_expiring_since():
    """A filter registered by the strategy's answer, which awaits while a
    cooldown expires: stock's stage ran right after its cooldown read, with no
    filter, over the candidates without the cooling deployments.  Moving the
    pick back onto LiteLLM's handle then would re-run its cooldown filter after
    the expiry and ask another strategy step (the accelerated pick raised
    RuntimeError "LiteLLM's handle asked another step than its twin"); past the
    cooldown read the twin's pick is stock's, so it stays on the twin."""
    stock, fast = _pair(routing_strategy="latency-based-routing")

    def hook_on(router):
        core = router._core
        inner = type(core)._answer_select

        async def answer_select(*args, **kwargs):
            litellm.callbacks.append(Drop({"d0"}))
            await asyncio.sleep(0.25)
            return await inner(core, *args, **kwargs)

        core._answer_select = answer_select

    for router in (stock, fast):
        hook_on(router)
    before = dict(STATS)
    for i in range(3):
        same_minute()
        got = []
        for router, accelerated in ((stock, False), (fast, True)):
            with _local_patch.accelerated(accelerated):
                for ident in ("d2", "d5"):
                    router._core._cooldowns.add_deployment_to_cooldown(ident, Exception("rate limited"), 429, 0.15)
            got.append(_pick(router, accelerated, i, {}, []))
        assert got[0] == got[1], i
        assert got[0][0][0] not in ("d2", "d5"), i
    assert STATS["picks"] - before["picks"] == 3
    assert STATS["escapes"] == before["escapes"]


def test_a_registry_write_before_litellms_handle_reads_its_snapshot(monkeypatch):
    """LiteLLM's handle reads its registry snapshot at a call's first step, not
    when the call is made: a write another thread makes after the twin's
    version check and before that step is in LiteLLM's pick and not in the
    twin's.  Simulated by a write right after ``shadow_for`` answers; stock
    sees the same write before its first step (here: made before the pick)."""
    stock, fast = _pair(routing_strategy="simple-shuffle")
    _lockstep(stock, fast, range(2))
    added = _model_list(12)[8:]
    real = shadow_handle.shadow_record
    writes = []

    def shadow_record(core, handle, model=None):
        made = real(core, handle, model)
        if writes:
            with warnings.catch_warnings(), _local_patch.accelerated(True):
                warnings.simplefilter("ignore")
                fast.add_deployment(litellm.types.router.Deployment(**writes.pop()))
        return made

    monkeypatch.setattr(shadow_handle, "shadow_record", shadow_record)
    seen = set()
    for i, entry in enumerate(added):
        with warnings.catch_warnings(), _local_patch.accelerated(False):
            warnings.simplefilter("ignore")
            stock.add_deployment(litellm.types.router.Deployment(**copy.deepcopy(entry)))
        writes.append(copy.deepcopy(entry))
        same_minute()
        a = _pick(stock, False, 10 + i, {}, [])
        b = _pick(fast, True, 10 + i, {}, [])
        assert a == b, i
        seen.add(a[0][0])
        for _ in range(6):  # picks over the written registry
            same_minute()
            seed = random.randrange(10 ** 6)
            a = _pick(stock, False, seed, {}, [])
            assert a == _pick(fast, True, seed, {}, [])
            seen.add(a[0][0])
    assert seen & {"d8", "d9", "d10", "d11"}


# ---- session 22 (route22c): the twin's call made in place of LiteLLM's ----------------

def _hook_pre_route(router, during):
    """The pre-routing hook replaced on the instance: ``during(router)`` runs
    first, then LiteLLM's (the pick's first answer, before the cooldown read)."""
    prerouter = router._core._prerouter
    inner = type(prerouter).pre_route

    async def pre_route(*args, **kwargs):
        during(router)
        return await inner(prerouter, *args, **kwargs)

    prerouter.pre_route = pre_route


def _filter_and(change):
    """A pre-route hook's work: register a filter (dropping d0 d3 d4 d6), then
    ``change(router)`` (a registry write or a rebuild), both inside the pick."""
    made = []

    def during(router):
        drop = Drop({"d0", "d3", "d4", "d6"})
        made.append(drop)
        litellm.callbacks.append(drop)
        change(router)
    return made, during


def _moved_back_picks(strategy, change, picks=4):
    """Four picks in lockstep whose pre-route hook registers a filter and runs
    ``change``; the counters before them."""
    stock, fast = _pair(routing_strategy=strategy)
    made, during = _filter_and(change)
    for router in (stock, fast):
        _hook_pre_route(router, during)
    before = dict(STATS)
    for i in range(picks):
        litellm.callbacks[:] = []
        same_minute()
        a = _pick(stock, False, i, {}, [])
        assert a == _pick(fast, True, i, {}, []), i
        assert a[0][0] not in {"d0", "d3", "d4", "d6"} and a[0][0].startswith("d")
        assert made[-1].calls == made[-2].calls == 1
    return before


def _add_one(router):
    n = len(router._core._hosted._core_model_list)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router.add_deployment(litellm.types.router.Deployment(**_model_list(n + 1)[n]))


@pytest.mark.parametrize("change", ["write", "rebuild"])
def test_a_pick_moved_back_after_litellms_handle_changed_runs_on_a_replica(change):
    """A filter registered during a pick (the pre-route hook) *and* LiteLLM's
    handle written (a deployment added) or rebuilt (a new handle, the old one
    retired) in the same hook, before the stage point.  Stock's call read its
    snapshot at its first step, before the hook: its pick is over the old
    deployments, with the filter.  The accelerated pick runs on the twin and
    moves back at the stage point; LiteLLM's handle no longer holds the
    snapshot (written: another version; rebuilt: not the core's, retired), so
    it moves onto the replica (the recorded documents, the twin's providers).
    Mutation tried: the escape always taking LiteLLM's handle -> the written
    handle's cooldown step names the new deployment (RuntimeError: another
    step than the twin's), the retired one fails its first step."""
    if change == "write":
        act = _add_one
    else:
        def act(router):
            router._core._rebuild()
    before = _moved_back_picks("simple-shuffle", act)
    if change == "write":  # each write moved the handle on: no twin after the first pick
        assert STATS["picks"] - before["picks"] == 1
        assert STATS["escapes"] - before["escapes"] == 1
    else:  # a rebuild each pick: a new record and twin each time
        assert STATS["picks"] - before["picks"] == 4
        assert STATS["escapes"] - before["escapes"] == 4
    assert STATS["replicas"] - before["replicas"] == STATS["escapes"] - before["escapes"]


def test_a_pick_moved_back_with_litellms_handle_unchanged_runs_on_it():
    """A filter registered during a pick with LiteLLM's handle untouched: the
    pick moves back onto LiteLLM's handle itself (a new call there reads the
    same snapshot), no replica made."""
    before = _moved_back_picks("least-busy", lambda router: None)
    assert STATS["escapes"] - before["escapes"] == 4
    assert STATS["replicas"] == before["replicas"]


@pytest.mark.parametrize("change", ["write", "rebuild"])
def test_litellms_handle_changed_between_set_up_and_first_step(change):
    """Stock makes its call in ``_Selection.__init__`` and reads the snapshot
    (and the retired flag) at the call's first step, after the usage-read
    scope is entered: a write or a rebuild there (here: by the usage-read
    scope, replaced on the instance, on both sides) is in stock's pick
    (written: the new deployment; rebuilt: its old handle fails as retired).
    The accelerated pick made the twin's call in set-up; at the first step
    LiteLLM's handle is not the core's at the twin's version, so it makes
    LiteLLM's call there, as stock's reads.  Mutation tried: that check
    removed (the twin serves): the written case never picks the new
    deployment's id / the rebuilt case picks where stock raises."""
    stock, fast = _pair(routing_strategy="simple-shuffle")
    _lockstep(stock, fast, range(2))
    armed = {}
    for router in (stock, fast):
        core = router._core
        inner = type(core)._usage_read_scope

        def scope(*args, _core=core, _router=router, _inner=inner):
            if armed.pop(_router, False):
                if change == "write":
                    _add_one(_router)
                else:
                    _core._rebuild()
            return _inner(_core, *args)

        core._usage_read_scope = scope
    seen = set()
    before = dict(STATS)
    for i in range(8):
        armed[stock] = armed[fast] = True
        same_minute()
        a = _pick(stock, False, 100 + i, {}, [])
        b = _pick(fast, True, 100 + i, {}, [])
        assert a == b, i
        assert not armed
        seen.add(a[0][0])
    if change == "write":
        assert {"d8", "d9", "d10", "d11", "d12", "d13", "d14", "d15"} & seen
    # (the accelerated picks set their twin call up, then took LiteLLM's at the first step)
    assert STATS["picks"] == before["picks"]


def test_rest_after_a_pick_moved_back(monkeypatch):
    """REST_AFTER_ESCAPE is policy: after a pick moved back, that many picks of
    the core run on LiteLLM's handle (the stage answered there), then the twin
    again; every pick is stock's."""
    monkeypatch.setattr(shadow_handle, "REST_AFTER_ESCAPE", 3)
    stock, fast = _pair(routing_strategy="simple-shuffle")
    drops = [Drop({"d2"}), Drop({"d2"})]
    before = dict(STATS)
    for i in range(8):
        same_minute()
        filtered = i == 1
        a = _pick(stock, False, i, {}, [drops[0]] if filtered else [])
        b = _pick(fast, True, i, {}, [drops[1]] if filtered else [])
        assert a == b, i
    # pick 0 on the twin, 1 moved back, 2-4 on LiteLLM's handle, 5-7 on the twin
    assert STATS["picks"] - before["picks"] == 5
    assert STATS["escapes"] - before["escapes"] == 1
    assert STATS["stage_steps"] - before["stage_steps"] == 4
    assert drops[0].calls == drops[1].calls == 1


def test_a_call_reads_its_snapshot_and_retired_flag_at_its_first_step_only():
    """What the twin's start and a move back rely on (router-core as LiteLLM
    1.110.2 ships it): a call made before a write or a retire reads them at
    its first step; one whose first step came before them goes on unaffected."""
    _, fast = _pair(routing_strategy="simple-shuffle")
    rec = shadow_handle.recorded(fast._core)
    kind = type(rec.handle)

    def fresh():
        made = kind(rec.static, rec.dynamic)
        made.adopt_providers(rec.handle)
        return made

    def drive(call, first=None):
        outcome, kinds = None, []
        step = first if first is not None else call.next(None)
        while True:
            kinds.append(step["kind"])
            if step["kind"] == "cache":
                outcome = [None] * len(step["keys"])
                kinds.append(len(step["keys"]))
            elif step["kind"] == "select" and step["stage"] == "callback_filters":
                outcome = (list(step["candidates"]), None)
            elif step["kind"] == "select":
                outcome = [step["candidates"][0]]
            elif step["kind"] in ("done", "failed"):
                return kinds + [step.get("error_kind")]
            else:
                outcome = None
            step = call.next(outcome)

    for act, before_first, after_first in (
            (lambda h: h.apply({"delete": ["d7"]}), 7, 8),
            (lambda h: h.retire(), "retired", 8)):
        handle = fresh()
        call = handle.select("g", {"pre_routes": True})
        act(handle)  # after the call is made, before its first step
        got = drive(call)
        assert (got[-1] if before_first == "retired" else got[2]) == before_first
        handle = fresh()
        call = handle.select("g", {"pre_routes": True})
        first = call.next(None)
        act(handle)  # after its first step
        assert drive(call, first)[2] == after_first


def _two_groups():
    entries = _model_list(8)
    for entry in entries[5:]:
        entry["model_name"] = "h"
    return entries


def test_a_pre_route_answer_moves_the_pick_back_from_a_twin_without_the_step():
    """A request with no routing field: the twin's call is made without
    ``pre_routes`` and the fused pick answers a copy of the twin's own first
    step (``first_step``).  A hook answering another group ("h") for that
    step: stock's call resolves it; the accelerated pick moves back (onto
    LiteLLM's handle, its first step checked equal to the copy) and hands it
    the answer.  Every pick's hook sees the same arguments on both sides.
    Mutation tried: no move back for a non-None answer (the twin's call is
    handed the group as its first outcome: every renamed pick differs)."""
    stock, fast = _pair(model_list=_two_groups(), routing_strategy="simple-shuffle")
    seen = {stock: [], fast: []}
    for router in (stock, fast):
        prerouter = router._core._prerouter
        inner = type(prerouter).pre_route

        async def pre_route(model, request, *args, _router=router, _inner=inner, _prerouter=prerouter, **kwargs):
            seen[_router].append((model, args, sorted(kwargs.items(), key=lambda kv: kv[0])[:5]))
            routed = await _inner(_prerouter, model, request, *args, **kwargs)
            return "h" if request.get("metadata", {}).get("rename") else routed

        prerouter.pre_route = pre_route
    before = dict(STATS)
    picked = set()
    for i in range(10):
        same_minute()
        request = {"metadata": {"rename": True}} if i % 2 else {}
        a = _pick(stock, False, i, copy.deepcopy(request), [])
        assert a == _pick(fast, True, i, copy.deepcopy(request), []), i
        picked.add(a[0][0])
    assert picked & {"d5", "d6", "d7"} and picked & {"d0", "d1", "d2", "d3", "d4"}
    assert [s[:2] for s in seen[stock]] == [s[:2] for s in seen[fast]]
    assert STATS["picks"] - before["picks"] == 10
    assert STATS["escapes"] - before["escapes"] == 5
    assert shadow_handle.recorded(fast._core).first_steps == {
        "g": (("kind", "pre_route"), ("model", "g"), ("fallback_depth", 0), ("retry", 0), ("events", []))}


def test_first_step_is_the_twins_own():
    """``first_step`` keeps the twin's own first step for a model (None where
    it is not a plain pre_route step: asked with an odd model, or a step the
    check refuses)."""
    _, fast = _pair()
    rec = shadow_handle.recorded(fast._core)
    assert shadow_handle.shadow_for(fast._core, fast._core._handle) is rec.shadow
    items = shadow_handle.first_step(rec, "g")
    assert dict(items) == rec.shadow.select("g", {"pre_routes": True}).next(None)
    assert shadow_handle.first_step(rec, 7) is None
    rec.first_steps["x"] = ()  # a refused step stays refused
    assert shadow_handle.first_step(rec, "x") is None


def test_routing_plugins_keep_the_pre_route_step():
    """With a routing plugin, router-core runs the plugins only on a call that
    pre-routes (one without ``pre_routes`` fails: routing_plugins_need_async):
    the twin's call keeps the field and asks the step (``first_step`` is None
    for such a record: ``FIRST_STEP_SETTINGS``); picks are stock's.  Mutation
    tried: the settings check removed (every accelerated pick fails)."""
    stock, fast = _pair(routing_strategy="simple-shuffle")
    _lockstep(stock, fast, range(2))
    for router in (stock, fast):
        with warnings.catch_warnings(), _local_patch.accelerated(router is fast):
            warnings.simplefilter("ignore")
            router.routing_plugins.append(object())
    before = dict(STATS)
    _lockstep(stock, fast, range(2, 10))
    assert STATS["picks"] - before["picks"] == 8
    rec = shadow_handle.recorded(fast._core)
    assert rec.static.get("routing_plugins") and shadow_handle.first_step(rec, "g") is None
