"""Concurrent picks in one event loop, stock vs accelerated (session-18 hunt).

Two Routers built from one model list - stock (patches off) and accelerated
(patches on, the twin handle at its real ``MIN_GROUP_SIZE``) - each run the
same script of tasks under ``asyncio.gather`` on a fresh loop: picks, and
tasks that between their awaits register or drop callback filters, cool
deployments down, write the registry or the strategy's state.  A pick that
reads some state at another loop iteration than stock's (it yields more or
fewer times, or reads before instead of after a yield) sees another task's
write where stock does not: the picks, the loop iteration each task resumed
at, and ``random``'s state after each event must be equal.
"""
from __future__ import annotations

import asyncio
import copy
import random
import warnings

import pytest
from _lockstep import callback_lists, routing_patches, same_minute

litellm = pytest.importorskip("litellm")

from litellm.integrations.custom_logger import CustomLogger  # noqa: E402

from fast_litellm.routing import _local_patch, shadow_handle  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

CALLBACK_LISTS = callback_lists()


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():  # MIN_GROUP_SIZE left at its default: the real cut
        yield


class Drop(CustomLogger):
    def __init__(self, drop, yields=0):
        super().__init__()
        self.drop = set(drop)
        self.yields = yields

    async def async_filter_deployments(self, model, healthy_deployments, messages, request_kwargs=None,
                                       parent_otel_span=None):
        for _ in range(self.yields):
            await asyncio.sleep(0)
        return [d for d in healthy_deployments if d["model_info"]["id"] not in self.drop]


def _model_list(n):
    return [{"model_name": "g",
             "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "k", "rpm": 1000 + 37 * i,
                                "api_base": "https://b%d.example" % i},
             "model_info": {"id": "d%d" % i}} for i in range(n)]


def _run(strategy, n, script, accelerated, model_list=None):
    """Run ``script(router, base_callbacks, log, tick)`` (a list of coroutine
    factories) on a fresh Router and loop; the log of (task, event, result,
    loop iteration) and the random state after it."""
    for name in CALLBACK_LISTS:
        getattr(litellm, name)[:] = []
    litellm.allowed_fails = 3
    with warnings.catch_warnings(), _local_patch.accelerated(accelerated):
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=copy.deepcopy(model_list or _model_list(n)), routing_strategy=strategy)
    base = list(litellm.callbacks)
    log, tick, done = [], [0], [False]

    async def ticker():
        while not done[0]:
            tick[0] += 1
            await asyncio.sleep(0)

    async def main():
        random.seed(n)
        ticking = asyncio.ensure_future(ticker())
        await asyncio.gather(*[task() for task in script(router, base, log, tick)])
        done[0] = True
        await ticking

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        with warnings.catch_warnings(), _local_patch.accelerated(accelerated):
            warnings.simplefilter("ignore")
            loop.run_until_complete(main())
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
        router.retire()
        litellm.callbacks[:] = []
    return log, random.getstate()


def _lockstep(strategy, n, script, model_list=None):
    same_minute()
    stock = _run(strategy, n, script, False, model_list)
    before = dict(shadow_handle.STATS)
    fast = _run(strategy, n, script, True, model_list)
    assert fast[0] == stock[0]
    assert fast[1] == stock[1]
    return {k: shadow_handle.STATS[k] - before[k] for k in before}


async def _one_pick(router, log, tick, name, request=None):
    try:
        picked = await router.async_get_available_deployment(model="g", request_kwargs=dict(request or {}))
        out = picked["model_info"]["id"]
    except Exception as error:  # noqa: BLE001 - compared by class and message
        out = (type(error).__name__, str(error)[:200])
    log.append((name, "pick", out, tick[0]))


@pytest.mark.parametrize("n", [10, 60])
def test_usage_v2_pick_reads_cooldowns_set_while_its_read_is_scheduled(n):
    """usage-based-routing-v2's cooldown read rides in a gather with the usage
    read (LiteLLM's ``_stored_with_usage``): the store is read in a Task, one
    loop iteration after the pick asked, and sees cooldowns another task set
    meanwhile.  Ours decided "nothing cooling, skip the read" before the
    gather, so it picked a deployment stock's pick saw cooling."""

    def script(router, base, log, tick):
        started = asyncio.Event()

        async def pick():
            await _one_pick(router, log, tick, "warm")  # a native read has returned in this process
            started.set()
            await _one_pick(router, log, tick, "pick")

        async def cool():
            await started.wait()  # resumes before the gather's Tasks first run
            for i in range(n):
                if i != 5:
                    router._core._cooldowns.add_deployment_to_cooldown("d%d" % i, Exception("x"), 429, 600)
            log.append(("cool", tick[0]))

        return [pick, cool]

    _lockstep("usage-based-routing-v2", n, script)


STRATEGIES = ["latency-based-routing", "cost-based-routing", "simple-shuffle", "least-busy", "usage-based-routing-v2"]
PRICED = ["gpt-4o-mini", "gpt-4o", "openai/gpt-4.1"]
REQUESTS = [{}, {"metadata": {"k": 1}}, {"messages": [{"role": "user", "content": "hi"}]}, {"stream": True}]


def _random_model_list(gen, n):
    out = []
    for i in range(n):
        params = {"model": gen.choice(PRICED), "api_key": "k", "api_base": "https://b%d.example" % i}
        for key, p, choices in (("rpm", 0.3, [1, 5, 1000]), ("tpm", 0.3, [10, 1000, 10**9]),
                                ("input_cost_per_token", 0.2, [1e-6, 3e-6, 5e-7])):
            if gen.random() < p:
                params[key] = gen.choice(choices)
        out.append({"model_name": "g", "litellm_params": params, "model_info": {"id": "d%d" % i}})
    return out


def _random_ops(gen, n):
    ops = []
    for _ in range(gen.randint(2, 6)):
        c = gen.random()
        if c < 0.5:
            ops.append(("pick", gen.choice(REQUESTS)))
        elif c < 0.58:
            ops.append(("filter_on", ["d%d" % i for i in gen.sample(range(n), 3)], gen.choice([0, 0, 1, 2])))
        elif c < 0.64:
            ops.append(("filter_off",))
        elif c < 0.74:
            ops.append(("cooldown", "d%d" % gen.randrange(n + 2)))
        elif c < 0.82:
            ops.append(("latency", "d%d" % gen.randrange(n), round(gen.random(), 3), gen.random() < 0.5))
        elif c < 0.86:
            ops.append(("cost", "d%d" % gen.randrange(n), round(gen.random(), 3)))
        elif c < 0.9:
            ops.append(("usage", "d%d" % gen.randrange(n), gen.choice([1, 100, 10**6])))
        elif c < 0.94:
            ops.append(("busy", "d%d" % gen.randrange(n)))
        elif c < 0.97:
            ops.append(("pick", {"routing_strategy": gen.choice(STRATEGIES)}))
        else:
            ops.append(("sync_pick", gen.choice(REQUESTS[:3])))
        ops.append(("sleep", gen.choice([0, 0, 1, 2, 3])))
    return ops


async def _random_op(router, base, op):
    kind = op[0]
    if kind == "sleep":
        for _ in range(op[1]):
            await asyncio.sleep(0)
        return None
    if kind in ("pick", "sync_pick"):
        request = copy.deepcopy(op[1])
        if kind == "pick":
            picked = await router.async_get_available_deployment(model="g", request_kwargs=request)
        else:
            picked = router.get_available_deployment(model="g", request_kwargs=request)
        return picked["model_info"]["id"], request
    if kind == "filter_on":
        litellm.callbacks[:] = base + [Drop(op[1], op[2])]
    elif kind == "filter_off":
        litellm.callbacks[:] = base
    elif kind == "cooldown":
        router._core._cooldowns.add_deployment_to_cooldown(op[1], Exception("x"), 429, 600)
    elif kind in ("latency", "cost"):
        cache = router._core._cache
        key = "g_map" if kind == "latency" else "cost_map:g"
        entries = cache.get_cache(key=key) or {}
        entry = entries.setdefault(op[1], {})
        if kind == "cost":
            entry["cost"] = op[2]
        else:
            entry.setdefault("latency_normalized", []).append(op[2])
            if op[3]:
                entry.setdefault("time_to_first_token_seconds", []).append(op[2] / 2)
        cache.set_cache(key=key, value=entries)
    elif kind == "usage":
        selector = router._core._selectors.default
        logged = {"model_group": "g", "hidden_params": {"litellm_model_name": "gpt-4o"}, "model_id": op[1],
                  "total_tokens": op[2]}
        await selector.async_log_success_event(
            {"standard_logging_object": logged,
             "litellm_params": {"metadata": {"model_group": "g"}, "model_info": {"id": op[1]}}}, None, 0, 1)
    elif kind == "busy":
        selector = router._core._selectors.default
        if hasattr(selector, "log_pre_api_call"):
            selector.log_pre_api_call("g", [], {"litellm_params": {"metadata": {"model_group": "g"},
                                                                   "model_info": {"id": op[1]}},
                                                "litellm_call_id": "c-" + op[1]})
    return None


@pytest.mark.parametrize("seed", range(10, 15))
def test_concurrent_tasks_with_real_group_sizes(seed):
    """A kept sample of the session-18 concurrent hunt: 3-8 tasks under one
    gather on a 48-120 deployment group (the twin at its real cut), picks with
    odd requests (a request strategy override, sync picks from a task) and,
    between awaits, filters (yielding) registered and dropped, cooldowns, latency
    and cost maps written, v2 usage and least-busy counters logged.  Every
    event's result, loop iteration and ``random`` state equal, task by task."""
    gen = random.Random("session-18-%d" % seed)
    strategy = STRATEGIES[seed % len(STRATEGIES)]
    n = gen.choice([48, 60, 120])
    model_list = _random_model_list(gen, n)
    plans = [_random_ops(gen, n) for _ in range(gen.randint(3, 8))]

    def script(router, base, log, tick):
        def task(t, ops):
            async def run():
                for op in ops:
                    try:
                        out = await _random_op(router, base, op)
                    except Exception as error:  # noqa: BLE001 - compared by class and message
                        out = (type(error).__name__, str(error)[:200])
                    if op[0] != "sleep":
                        log.append((t, op[0], out, tick[0], hash(random.getstate())))
            return run
        return [task(t, ops) for t, ops in enumerate(plans)]

    _lockstep(strategy, n, script, model_list)
