"""Whole Router calls in lockstep, stock vs accelerated (session-9 hunt).

The other routing suites compare picks (``get_available_deployment`` /
``async_get_available_deployment``).  Here two Routers built from one
config run the same sequence of *whole* calls - ``acompletion`` /
``completion`` with ``mock_response`` (successes and mocked failures that
cool deployments down), concurrent picks, deployments added and deleted
between calls - with tags, tag filtering, pre-call checks with messages,
aliases, wildcard groups, unicode names, duplicate ids,
``max_parallel_requests`` and odd request shapes.  After every call: the
outcome (picked id, or exception type and message), the ``random`` state,
the request kwargs as the call left them, the routing cache, the usage
counters, the cooldowns and the warnings must be equal.

LiteLLM registers a strategy's logging handler in the process-wide
``litellm.callbacks`` only once per handler type, so a second Router's
success and failure callbacks would never run; each side's callback lists
are swapped in around its calls.  Concurrent *completions* are not
compared: a stock completion waits on LiteLLM's threads, so which of
several concurrent ones finds a ``max_parallel_requests`` slot free varies
from run to run in stock LiteLLM itself (seen: 1 run in 8).  Latencies
measured by the calls differ between the sides: a latency map equal but
for its floats is copied from the stock side to the accelerated one.

Time (session 22's flake): each side waits for the jobs its call handed
LiteLLM's logging thread pool (a sync call's success handler writes the
least-busy count and the latency map there) before the other side runs or
the routers are compared.  And a trial must end within LiteLLM's shortest
TTL in play (a cooldown's 5 s default): the sides run one after the other,
so state one side has let expire could still be live on the other - a
longer trial fails with that message instead of a misleading mismatch.
"""
from __future__ import annotations

import asyncio
import copy
import gc
import random
import time
import warnings

import pytest
from _lockstep import callback_lists, logging_jobs, routing_patches, same_minute  # noqa: E402

litellm = pytest.importorskip("litellm")

from litellm.constants import DEFAULT_COOLDOWN_TIME_SECONDS  # noqa: E402
from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER  # noqa: E402
from litellm.router_strategy.least_busy import SELECTION_RESERVATION_TTL_SECONDS  # noqa: E402

from fast_litellm.routing import _local_patch  # noqa: E402
from test_routing_litellm import _same  # noqa: E402  (NaN equals NaN)

pytestmark = [
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

STRATEGIES = ["simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing-v2",
              "cost-based-routing", "usage-based-routing"]
PRICED = ["gpt-4o-mini", "gpt-4o", "anthropic/claude-3-5-sonnet-20240620", "openai/gpt-4.1"]
GROUPS = ["g", "g", "h", "ü-模型", "openai/*"]
MESSAGES = [[{"role": "user", "content": "hi"}], [{"role": "user", "content": "word " * 50}]]
CALLBACK_LISTS = callback_lists()
#: LiteLLM's shortest TTL a trial's state can have (a cooldown: ``cooldown_time``
#: given here is 0 -> the default - or 600; least-busy's reservations 30 s;
#: counts and latencies 1 h, usage a minute): a trial this long could see state
#: expired on one side and live on the other
SHORTEST_TTL = min(DEFAULT_COOLDOWN_TIME_SECONDS, SELECTION_RESERVATION_TTL_SECONDS)
JOBS = []  # the module's LoggingJobs


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches(twins=True), logging_jobs() as jobs:
        JOBS[:] = [jobs]
        yield
        JOBS[:] = []


@pytest.fixture(scope="module")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    # as asyncio.run ends: the logging worker and the strategies' periodic
    # tasks cancelled and awaited, then the loop closed; what the routers
    # leave is collected here, not at some later compile (a finalizer
    # running inside CPython 3.11's AST constructor can make it raise)
    loop.run_until_complete(GLOBAL_LOGGING_WORKER.flush())
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:  # (a gather of nothing is a future of another loop)
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
    gc.collect()


def _callbacks():
    return {n: list(getattr(litellm, n)) for n in CALLBACK_LISTS}


def _use_callbacks(saved):
    for n, v in saved.items():
        getattr(litellm, n)[:] = v


def _model_list(gen, n):
    out = []
    for i in range(n):
        group = gen.choice(GROUPS)
        params = {"model": "openai/*" if group == "openai/*" else gen.choice(PRICED), "api_key": "sk-test"}
        for key, choices in (("api_base", ["https://b0.example", "https://b1.example"]),
                             ("weight", [1, 2, 0, 0.5]), ("rpm", [1, 2, 1000]), ("tpm", [10, 1000, 10**9]),
                             ("order", [1, 2]), ("tags", [["a"], ["b"], ["a", "b"], ["default"]]),
                             ("max_parallel_requests", [1, 2]), ("input_cost_per_token", [1e-6, 3e-6]),
                             ("output_cost_per_token", [2e-6, 1e-5])):
            if gen.random() < 0.2:
                params[key] = copy.deepcopy(gen.choice(choices))
        info = {"id": gen.choice(["d%d" % i, "d%d" % i, "dup", "ид-%d" % i])}
        if gen.random() < 0.2:
            info["max_input_tokens"] = gen.choice([5, 100000])
        out.append({"model_name": group, "litellm_params": params, "model_info": info})
    return out


def _router_kwargs(gen, strategy):
    kw = {}
    for key, p, choices in (("enable_pre_call_checks", 0.3, [True]), ("enable_tag_filtering", 0.3, [True]),
                            ("model_group_alias", 0.3, [{"alias": "g"}]), ("allowed_fails", 0.4, [0, 1]),
                            ("cooldown_time", 0.4, [0, 600]), ("num_retries", 0.5, [0]),
                            ("default_max_parallel_requests", 0.2, [1, 5])):
        if gen.random() < p:
            kw[key] = copy.deepcopy(gen.choice(choices))
    if strategy == "latency-based-routing" and gen.random() < 0.5:
        kw["routing_strategy_args"] = {"lowest_latency_buffer": gen.choice([0, 0.5])}
    return kw


def _request(gen):
    request = {}
    if gen.random() < 0.5:
        metadata = {}
        if gen.random() < 0.4:
            metadata["tags"] = copy.deepcopy(gen.choice([["a"], ["b"], ["zz"], []]))
        if gen.random() < 0.2:
            metadata["user_api_key_team_id"] = gen.choice(["t1", "", 5])
        request["metadata"] = metadata
    elif gen.random() < 0.2:
        request["metadata"] = gen.choice([None, "str", 5])
    if gen.random() < 0.3:
        request["messages"] = copy.deepcopy(gen.choice(MESSAGES))
    if gen.random() < 0.1:
        request["stream"] = gen.choice([True, False])
    return request


def _completion(gen):
    kw = {"messages": copy.deepcopy(gen.choice(MESSAGES)), "num_retries": 0,
          "mock_response": gen.choice(["fine", "fine", "fine", "litellm.RateLimitError",
                                       "litellm.InternalServerError"])}
    if gen.random() < 0.3:
        kw["metadata"] = {"tags": copy.deepcopy(gen.choice([["a"], ["b"]]))}
    return kw


def _plan(gen, model_list, n):
    models = [d["model_name"] for d in model_list] + ["alias", "openai/gpt-4o-mini", "nope"]
    ids = [d["model_info"]["id"] for d in model_list]
    ops = []
    for _ in range(n):
        c, model = gen.random(), gen.choice(models)
        if c < 0.25:
            ops.append(("async", model, _request(gen)))
        elif c < 0.35:
            ops.append(("sync", model, _request(gen)))
        elif c < 0.7:
            ops.append(("acompletion" if gen.random() < 0.8 else "completion", model, _completion(gen)))
        elif c < 0.78:
            ops.append(("picks", model, [_request(gen) for _ in range(gen.randint(2, 5))]))
        elif c < 0.93:
            deployment = _model_list(gen, 1)[0]
            deployment["model_info"]["id"] = gen.choice(["new%d" % gen.randint(0, 3)] + ids[:1])
            ops.append(("add", deployment))
        elif ids:
            ops.append(("delete", gen.choice(ids + ["missing"])))
    return ops


def _served(response):
    return (response._hidden_params.get("model_id"), response.choices[0].message.content)


def _runner(router, op, loop):
    kind = op[0]
    if kind in ("sync", "async"):
        _, model, request = op
        kw = {"model": model, "request_kwargs": request}
        if "messages" in request:
            kw["messages"] = request["messages"]
        if kind == "sync":
            return lambda: dict(router.get_available_deployment(**kw))
        return lambda: dict(loop.run_until_complete(router.async_get_available_deployment(**kw)))
    if kind == "acompletion":
        return lambda: _served(loop.run_until_complete(router.acompletion(model=op[1], **op[2])))
    if kind == "completion":
        return lambda: _served(router.completion(model=op[1], **op[2]))
    if kind == "picks":
        async def picks():
            done = await asyncio.gather(*[router.async_get_available_deployment(model=op[1], request_kwargs=r)
                                          for r in op[2]], return_exceptions=True)
            return [dict(x) if isinstance(x, dict) else (type(x).__name__, str(x)) for x in done]
        return lambda: loop.run_until_complete(picks())
    if kind == "add":
        return lambda: repr(router.add_deployment(litellm.types.router.Deployment(**copy.deepcopy(op[1]))))
    return lambda: repr(router.delete_deployment(id=op[1]))


def _drain(loop):
    """Let the calls' logging (success/failure callbacks) finish: the async
    worker and tasks, and the jobs handed to LiteLLM's logging thread pool
    (waited for, not slept on: a sync completion's success handler, run
    there, could start after a 5 ms sleep on a loaded machine - and then run
    with the other side's callback lists swapped in)."""
    async def drain():
        await asyncio.sleep(0)
        await GLOBAL_LOGGING_WORKER.flush()
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()
                   and "worker_loop" not in repr(t) and "periodic" not in repr(t)]
        if pending:
            await asyncio.wait(pending, timeout=2)
        await asyncio.sleep(0.005)
    loop.run_until_complete(drain())
    for _ in range(5):  # until a round hands the pool no new job
        if not JOBS[0].wait():
            return
        loop.run_until_complete(drain())
    raise AssertionError("LiteLLM's logging kept handing its thread pool jobs")


def _outcome(run):
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run()
        seen = [(str(w.message), w.category.__name__, w.filename, w.lineno) for w in caught
                if "pydantic" not in w.filename and w.category not in (ResourceWarning, RuntimeWarning)]
        return ("ok", result), seen
    except Exception as exc:  # the exception itself is compared
        return ("raised", type(exc).__name__, str(exc)), []


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(x) for x in value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    public = {k: v for k, v in getattr(value, "__dict__", {}).items() if not k.startswith("_")}
    return type(value).__name__, _plain(public)


def _floats_masked(value):
    if isinstance(value, float):
        return "float"
    if isinstance(value, dict):
        return {k: _floats_masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_floats_masked(x) for x in value]
    return value


def _without_hidden_params(request):
    for kw in request if isinstance(request, list) else [request]:
        if isinstance(kw, dict) and isinstance(kw.get("metadata"), dict):
            kw["metadata"].pop("hidden_params", None)  # the response's own (call ids, timings)
    return request


def _caches_differ(stock, fast):
    """Routing-cache keys that differ; measured latencies (floats only)
    are copied from the stock side so both go on from one state."""
    a = stock._core._cache.in_memory_cache.cache_dict
    b = fast._core._cache.in_memory_cache.cache_dict
    differ = []
    for key in set(a) | set(b):
        if key not in a or key not in b:
            differ.append(key)
            continue
        pa, pb = _plain(a[key]), _plain(b[key])
        if _same(pa, pb):
            continue
        if _same(_floats_masked(pa), _floats_masked(pb)) and isinstance(a[key], dict):
            b[key] = copy.deepcopy(a[key])
        else:
            differ.append(key)
    return differ


def _cooling(router, ids):
    return sorted(str(i) for i, _ in router._core._cooldowns.get_active_cooldowns(ids, None))


def _build(model_list, strategy, kw, accelerated=False):
    for n in CALLBACK_LISTS:
        getattr(litellm, n)[:] = []
    with warnings.catch_warnings(), _local_patch.accelerated(accelerated):
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=copy.deepcopy(model_list), routing_strategy=strategy,
                                **copy.deepcopy(kw))
    return router, _callbacks()


def _whole_calls_lockstep(strategy, seed, trials, calls, loop):
    compared = 0
    for trial in range(trials):
        gen = random.Random("hunt-%s-%d-%d" % (strategy, seed, trial))
        model_list = _model_list(gen, gen.choice([1, 2, 3, 5, 8]))
        kw = _router_kwargs(gen, strategy)
        stock, stock_callbacks = _build(model_list, strategy, kw)
        fast, fast_callbacks = _build(model_list, strategy, kw, accelerated=True)
        ids = [d["model_info"]["id"] for d in model_list] + ["new%d" % i for i in range(4)]
        # one minute for the whole trial, which may not outlast SHORTEST_TTL
        # (no sleep in it: a wait before each step could straddle a cooldown)
        same_minute(SHORTEST_TTL + 1)
        start = time.monotonic()
        for step, op in enumerate(_plan(gen, model_list, calls)):
            seed_ = gen.random()
            seen = []
            for router, callbacks, accelerated in ((stock, stock_callbacks, False), (fast, fast_callbacks, True)):
                op_copy = copy.deepcopy(op)
                _use_callbacks(callbacks)
                random.seed(seed_)
                with _local_patch.accelerated(accelerated):
                    outcome, caught = _outcome(_runner(router, op_copy, loop))
                    _drain(loop)
                seen.append((outcome, caught, random.getstate(), _without_hidden_params(op_copy[-1])))
            where = (strategy, seed, trial, step, op[0], kw)
            took = time.monotonic() - start
            assert took < SHORTEST_TTL, (
                "%r: the trial has run %.1f s, not under LiteLLM's shortest TTL here (%s s): state one side "
                "let expire could be live on the other, so the sides are not compared (a loaded "
                "machine's timing, not a mismatch)" % (where, took, SHORTEST_TTL))
            (o1, w1, s1, r1), (o2, w2, s2, r2) = seen
            assert _same(o1, o2), (where, o1, o2)
            assert w1 == w2, (where, w1, w2)
            assert s1 == s2, (where, "random state differs")
            assert _same(r1, r2), (where, "request differs", r1, r2)
            assert _caches_differ(stock, fast) == [], where
            assert stock._core._usage.snapshot() == fast._core._usage.snapshot(), where
            assert _cooling(stock, ids) == _cooling(fast, ids), where
            compared += 1
    return compared


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_whole_calls_lockstep(strategy, loop):
    assert _whole_calls_lockstep(strategy, seed=1, trials=3, calls=12, loop=loop) == 36


@pytest.mark.parametrize("late_side", [False, True], ids=["stock-late", "accelerated-late"])
@pytest.mark.parametrize("strategy", ["least-busy", "latency-based-routing"])
def test_lockstep_waits_for_late_logging_jobs(strategy, late_side, loop):
    """Session 22's flake made to happen: the jobs one side hands LiteLLM's
    logging thread pool start 0.1 s late, as on a loaded machine.  With
    ``_drain``'s former 5 ms sleep in place of the wait this fails at a sync
    ``completion`` (least-busy: trial 2 step 3, ``['ü-模型_request_count:dup']``;
    latency: trial 2 step 10, ``['alias_map']``) whichever side is late -
    and so it does with stock LiteLLM on both sides: the harness's timing,
    not the accelerated path."""
    from litellm.litellm_core_utils.thread_pool_executor import executor

    recording = executor.submit

    def late(fn, /, *args, **kwargs):
        if _local_patch.ACCELERATED[0] is not late_side:
            return recording(fn, *args, **kwargs)

        def run():
            time.sleep(0.1)
            return fn(*args, **kwargs)
        return recording(run)

    executor.submit = late
    try:
        assert _whole_calls_lockstep(strategy, seed=1, trials=3, calls=12, loop=loop) == 36
    finally:
        executor.submit = recording
