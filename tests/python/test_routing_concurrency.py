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
from _lockstep import same_minute

litellm = pytest.importorskip("litellm")

from litellm.integrations.custom_logger import CustomLogger  # noqa: E402

from fast_litellm.routing import _local_patch, shadow_handle  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

CALLBACK_LISTS = [n for n in dir(litellm) if "callback" in n and isinstance(getattr(litellm, n), list)]


@pytest.fixture(scope="module", autouse=True)
def patched():
    _local_patch.install()  # MIN_GROUP_SIZE left at its default: the real cut
    saved = {n: list(getattr(litellm, n)) for n in CALLBACK_LISTS}
    try:
        yield
    finally:
        for n, v in saved.items():
            getattr(litellm, n)[:] = v
        _local_patch.uninstall()


class Drop(CustomLogger):
    def __init__(self, drop):
        super().__init__()
        self.drop = set(drop)

    async def async_filter_deployments(self, model, healthy_deployments, messages, request_kwargs=None,
                                       parent_otel_span=None):
        return [d for d in healthy_deployments if d["model_info"]["id"] not in self.drop]


def _model_list(n):
    return [{"model_name": "g",
             "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "k", "rpm": 1000 + 37 * i,
                                "api_base": "https://b%d.example" % i},
             "model_info": {"id": "d%d" % i}} for i in range(n)]


def _run(strategy, n, script, accelerated):
    """Run ``script(router, base_callbacks, log, tick)`` (a list of coroutine
    factories) on a fresh Router and loop; the log of (task, event, result,
    loop iteration) and the random state after it."""
    for name in CALLBACK_LISTS:
        getattr(litellm, name)[:] = []
    with warnings.catch_warnings(), _local_patch.accelerated(accelerated):
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=_model_list(n), routing_strategy=strategy)
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


def _lockstep(strategy, n, script):
    same_minute()
    stock = _run(strategy, n, script, False)
    before = dict(shadow_handle.STATS)
    fast = _run(strategy, n, script, True)
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
