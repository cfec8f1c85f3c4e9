"""usage-based-routing-v2's selector internals (selector_fast.make_usage_counter_keys,
make_usage_common_checks) beside LiteLLM's own methods, and lockstep Routers
whose usage counters and limits exclude deployments.

Each comparison runs LiteLLM's method and ours on equal inputs from the same
`random` seed: the result (the very candidate object picked), any exception
(type and message), the `random` state afterwards, the debug records logged
and, for the keys, how often the clock was read."""
from __future__ import annotations

import asyncio
import copy
import datetime
import logging
import random
import warnings

import pytest
from _lockstep import routing_patches, same_minute  # noqa: E402

# LiteLLM's usage strategies schedule a sync task when built outside a loop
# (never awaited here), and the lockstep comparison reads the deprecated
# get_model_list on purpose: neither is this module's business.
_QUIET = [
    pytest.mark.filterwarnings(
        "ignore:coroutine 'BaseRoutingStrategy.periodic_sync_in_memory_spend_with_redis' was never awaited"
        ":RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:Router.get_model_list is deprecated:DeprecationWarning"),
]

litellm = pytest.importorskip("litellm")

from litellm.router_strategy import lowest_tpm_rpm_v2 as v2  # noqa: E402
from litellm.router_rust.surface.model_list import _HostedEntry  # noqa: E402

from fast_litellm import _native_loader  # noqa: E402
from fast_litellm.patching.registry import NotAccelerated  # noqa: E402
from fast_litellm.routing import _local_patch, selector_fast  # noqa: E402

pytestmark = [pytest.mark.skipif(_native_loader.NATIVE is None, reason="native core not built"), *_QUIET]

H = v2.LowestTPMLoggingHandler_v2
KEYS_TARGET = "litellm.router_strategy.lowest_tpm_rpm_v2:LowestTPMLoggingHandler_v2.usage_counter_keys"
CHECKS_TARGET = ("litellm.router_strategy.lowest_tpm_rpm_v2:LowestTPMLoggingHandler_v2."
                 "_common_checks_available_deployment")


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


def _original(target):
    owner, name = _local_patch._owner(target)
    return _local_patch._original_of(owner, name)


def _handler():
    from litellm.caching.dual_cache import DualCache

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return H(router_cache=DualCache())


# ---- the counter keys ------------------------------------------------------------

ODD_VALUES = [None, "x", "d:1", "", "ü模型", 5, 1.5, True, ["l"], {"k": 1}]


class _Str(str):
    def __format__(self, spec):
        return "formatted"


def _odd_deployment(gen):
    pick = gen.random()
    if pick < 0.04:
        return gen.choice([None, "text", 3, ("t",)])
    deployment = {"model_name": "g"}
    for key, inner in (("model_info", "id"), ("litellm_params", "model")):
        roll = gen.random()
        if roll < 0.05:
            continue  # absent: {} then None -> "None"
        if roll < 0.08:
            deployment[key] = gen.choice([None, "s", 4])  # .get on it raises
            continue
        values = {"other": 1}
        if gen.random() < 0.9:
            values[inner] = gen.choice(ODD_VALUES) if gen.random() < 0.2 else "%s%d" % (inner, gen.randint(0, 9))
        if gen.random() < 0.02:
            values[inner] = _Str("sub")
        if gen.random() < 0.02:
            values[7] = "non-str key"
        deployment[key] = values
    if gen.random() < 0.02:
        deployment[("t",)] = 1
    if gen.random() < 0.1:
        deployment = _HostedEntry(deployment, lambda: None)
    return deployment


class _Clock:
    """get_utc_datetime as LiteLLM's module binds it, counting its reads."""

    def __init__(self, now):
        self.now = now
        self.reads = 0

    def __call__(self):
        self.reads += 1
        return self.now


def _keys_outcome(fn, handler, healthy, clock, monkeypatch):
    monkeypatch.setattr(v2, "get_utc_datetime", clock)
    clock.reads = 0
    try:
        got = ("ok", fn(handler, healthy))
    except NotAccelerated:
        got = ("declined",)
    except Exception as exc:
        got = ("raised", type(exc).__name__, str(exc))
    return got, clock.reads


def test_usage_counter_keys_match_litellms(monkeypatch):
    original = _original(KEYS_TARGET)
    fast = selector_fast.make_usage_counter_keys(original)
    handler = _handler()
    gen = random.Random("usage-keys")
    times = [datetime.datetime(2026, 1, 2, h, m, 5, tzinfo=datetime.timezone.utc)
             for h, m in ((0, 0), (9, 5), (23, 59), (12, 30))]
    taken = declined = 0
    for _ in range(2500):
        healthy = [_odd_deployment(gen) for _ in range(gen.randint(0, 6))]
        if gen.random() < 0.05:
            healthy = tuple(healthy)
        now = gen.choice(times)
        # read only (a deep copy would turn _HostedEntry rows into plain dicts)
        stock = _keys_outcome(original, handler, healthy, _Clock(now), monkeypatch)
        ours = _keys_outcome(fast, handler, healthy, _Clock(now), monkeypatch)
        if ours[0] == ("declined",):
            declined += 1
            assert ours[1] == 0, "declined after reading the clock"
            continue
        taken += 1
        assert ours == stock, (healthy, stock, ours)
    assert taken > 800 and declined > 500


def test_usage_counter_keys_minutes(monkeypatch):
    """Every minute of a day, and datetimes strftime must format (a subclass,
    a naive one, a year below 1000)."""
    original = _original(KEYS_TARGET)
    fast = selector_fast.make_usage_counter_keys(original)
    handler = _handler()
    healthy = [{"model_info": {"id": "a"}, "litellm_params": {"model": "m"}}]

    class Later(datetime.datetime):
        def strftime(self, fmt):
            return "sub-" + super().strftime(fmt)

    stamps = [datetime.datetime(2026, 3, 4, h, m, tzinfo=datetime.timezone.utc)
              for h in range(24) for m in range(60)]
    stamps += [Later(2026, 1, 1, 1, 2), datetime.datetime(999, 1, 1, 3, 4), datetime.datetime(1, 1, 1)]
    for now in stamps:
        assert (_keys_outcome(fast, handler, healthy, _Clock(now), monkeypatch)
                == _keys_outcome(original, handler, healthy, _Clock(now), monkeypatch)), now


# ---- the count checks ------------------------------------------------------------

NUMBERS = [None, 0, 1, 2, 5, 10, 99, 100, 1000, 0.5, 2.0, 1e9, float("inf"), float("-inf"), float("nan"),
           -1, True, False, 2 ** 53, 2 ** 53 + 1, 2 ** 70, -(2 ** 60), "7", [1]]
LIMITS = [None, None, None, 0, 1, 2, 5, 10, 100, 1000, 1.5, float("inf"), float("nan"), True, 2 ** 60, "9"]


def _candidate(gen, ident):
    deployment = {"model_name": "g", "model_info": {"id": ident}}
    if gen.random() < 0.9:
        deployment["litellm_params"] = {"model": "m%d" % gen.randint(0, 2)}
    for where in ("top", "litellm_params", "model_info"):
        for limit in ("tpm", "rpm"):
            if gen.random() < 0.3:
                target = deployment if where == "top" else deployment.get(where)
                if target is not None:
                    target[limit] = gen.choice(LIMITS)
    return deployment


def _checks_inputs(gen):
    ids = ["d%d" % i for i in range(gen.randint(1, 6))] + ["a:b"]
    healthy = [_candidate(gen, gen.choice(ids)) for _ in range(gen.randint(0, 7))]
    roll = gen.random()
    if roll < 0.03 and healthy:
        healthy[0]["model_info"] = {"other": 1}  # no id: LiteLLM's KeyError
    elif roll < 0.05 and healthy:
        healthy[0]["model_info"]["id"] = 5
    elif roll < 0.07 and healthy:
        healthy[0]["litellm_params"] = None
    elif roll < 0.08:
        healthy = tuple(healthy)
    minute = "10-01"
    listed = [d for d in healthy if gen.random() < 0.9]
    if gen.random() < 0.2:
        listed.append({"model_info": {"id": gen.choice(ids)}, "litellm_params": {"model": "x"}})
    tpm_keys = ["%s:%s:tpm:%s" % (d["model_info"].get("id"), "m", minute) for d in listed]
    rpm_keys = ["%s:%s:rpm:%s" % (d["model_info"].get("id"), "m", minute) for d in listed]
    if gen.random() < 0.1:
        tpm_keys.append("nocolon")
        rpm_keys.append("stray:x:rpm")

    def values(keys):
        numbers = NUMBERS if gen.random() < 0.3 else NUMBERS[:13]
        out = [gen.choice(numbers) for _ in keys]
        roll = gen.random()
        if roll < 0.05:
            return None
        if roll < 0.1:
            return tuple(out)
        if roll < 0.13 and out:
            return out[:-1]  # shorter than the keys: LiteLLM's IndexError
        return out

    return healthy, tpm_keys, values(tpm_keys), rpm_keys, values(rpm_keys)


MESSAGES = [None, [{"role": "user", "content": "hello there, how are you today?"}],
            [{"role": "user", "content": "x " * 400}]]


def _checks_outcome(fn, handler, inputs, messages, text, seed, caplog):
    healthy, tpm_keys, tpm_values, rpm_keys, rpm_values = copy.deepcopy(inputs)
    random.seed(seed)
    caplog.clear()
    try:
        got = fn(handler, "g", healthy, tpm_keys, tpm_values, rpm_keys, rpm_values, messages=messages, input=text)
        got = ("ok", None if got is None else [i for i, d in enumerate(healthy) if d is got])
    except NotAccelerated:
        return ("declined",)
    except Exception as exc:
        got = ("raised", type(exc).__name__, str(exc))
    # LiteLLM's records (not asyncio's about tasks of handlers collected meanwhile)
    records = [(r.name, r.levelno, r.getMessage(), r.pathname, r.lineno) for r in caplog.records
               if r.name.startswith("LiteLLM")]
    return got, random.getstate(), records


def _compare_checks(caplog, trials, seed, debug=False):
    original = _original(CHECKS_TARGET)
    fast = selector_fast.make_usage_common_checks(original)
    handler = _handler()
    gen = random.Random(seed)
    taken = declined = 0
    seen = set()
    for trial in range(trials):
        inputs = _checks_inputs(gen)
        messages = gen.choice(MESSAGES)
        text = gen.choice([None, None, "some input text"]) if messages is None else None
        stock = _checks_outcome(original, handler, inputs, messages, text, trial, caplog)
        ours = _checks_outcome(fast, handler, inputs, messages, text, trial, caplog)
        if ours == ("declined",):
            declined += 1
            continue
        taken += 1
        assert ours == stock, (inputs, messages, text, stock, ours)
        if debug:  # only LiteLLM's early return for a failed counter read
            assert inputs[2] is None or inputs[4] is None
            continue
        picked = ours[0][1] if ours[0][0] == "ok" else ours[0][0]
        seen.add("none" if picked is None else "raised" if picked == "raised" else
                 "tie" if len(picked) > 1 else "one")
    # the native scan's outcomes: nothing within limits, one pick, a tie of
    # equal objects (duplicate ids); never a raise (those inputs are declined)
    assert debug or (seen <= {"none", "one", "tie"} and {"none", "one"} <= seen), seen
    return taken, declined


def test_common_checks_match_litellms(caplog):
    taken, declined = _compare_checks(caplog, trials=3000, seed="usage-checks")
    assert taken > 1000 and declined > 300


def test_common_checks_decline_with_debug_logging(caplog):
    """With the router's debug log on, LiteLLM's code runs (its input_tokens
    record names LiteLLM's file and line as the caller, not ours)."""
    caplog.set_level(logging.DEBUG)
    taken, declined = _compare_checks(caplog, trials=200, seed="usage-checks-debug", debug=True)
    assert declined > 150


def test_common_checks_decline_a_replaced_scan(monkeypatch):
    original = _original(CHECKS_TARGET)
    fast = selector_fast.make_usage_common_checks(original)
    handler = _handler()
    healthy = [{"model_info": {"id": "a"}, "litellm_params": {"model": "m"}}]
    args = ("g", healthy, ["a:m:tpm:1"], [None], ["a:m:rpm:1"], [None])
    assert fast(handler, *args) is healthy[0]
    handler._return_potential_deployments = lambda **kw: []
    with pytest.raises(NotAccelerated):
        fast(handler, *args)

    class Sub(H):
        def _return_potential_deployments(self, **kw):
            return []

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sub = Sub(router_cache=handler.router_cache)
    with pytest.raises(NotAccelerated):
        fast(sub, *args)
    # None values: LiteLLM's early None, before anything else
    assert fast(handler, "g", healthy, ["a:m:tpm:1"], None, [], []) is None


def test_common_checks_token_count_not_a_plain_number(monkeypatch):
    """A token count the native scan does not take: LiteLLM's own scan over
    the dicts built as LiteLLM builds them."""
    original = _original(CHECKS_TARGET)
    fast = selector_fast.make_usage_common_checks(original)
    handler = _handler()
    healthy = [{"model_info": {"id": i}, "litellm_params": {"model": "m", "tpm": 10}} for i in ("a", "b", "c")]
    inputs = (healthy, ["a:m:tpm:1", "b:m:tpm:1"], [3, None], ["a:m:rpm:1"], [0])
    for count in (2 ** 60, 4.5, True, -3):
        monkeypatch.setattr(v2, "embedding_aware_token_count", lambda *a, count=count: count)
        results = []
        for fn in (original, fast):
            random.seed(1)
            h = copy.deepcopy(inputs)
            got = fn(handler, "g", *h)
            results.append((None if got is None else h[0].index(got), random.getstate()))
        assert results[0] == results[1], count


# ---- lockstep routers: limits that exclude, registry changes ---------------------

def _usage_model_list(gen, n):
    out = []
    for i in range(n):
        params = {"model": gen.choice(["openai/gpt-4o-mini", "openai/gpt-4o"]), "api_key": "sk-test"}
        for key, choices in (("rpm", [1, 2, 3, 1000]), ("tpm", [20, 60, 5000, 10 ** 6])):
            if gen.random() < 0.6:
                params[key] = gen.choice(choices)
        deployment = {"model_name": gen.choice(["g", "g", "h"]), "litellm_params": params,
                      "model_info": {"id": "u%d" % i}}
        if gen.random() < 0.15:
            deployment["model_info"]["tpm"] = gen.choice([10, 100])
        out.append(deployment)
    return out


def _seed_usage(router, gen_usage):
    """This minute's counters where usage-based-routing-v2 reads them (the
    routing cache, as its success / pre-call hooks increment them)."""
    minute = datetime.datetime.now(datetime.timezone.utc).strftime("%H-%M")
    for ident, model, tokens, requests in gen_usage:
        for kind, amount in (("tpm", tokens), ("rpm", requests)):
            router._core._cache.increment_cache(key="%s:%s:%s:%s" % (ident, model, kind, minute), value=amount)


def _snapshot(router):
    cache = router._core._cache.in_memory_cache.cache_dict
    return {k: copy.deepcopy(v) for k, v in cache.items()}, router._core._usage.snapshot()


async def _pick(router, accelerated, seed, model, request, sync):
    random.seed(seed)
    with _local_patch.accelerated(accelerated), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if sync:
                picked = router.get_available_deployment(model=model, request_kwargs=request)
            else:
                picked = await router.async_get_available_deployment(model=model, request_kwargs=request)
            outcome = ("ok", picked.get("model_info", {}).get("id"), dict(picked))
        except Exception as exc:
            outcome = ("raised", type(exc).__name__, str(exc))
    return outcome, random.getstate(), copy.deepcopy(request), _snapshot(router)


def _change(gen, routers, step):
    """The same registry change on both routers: add, remove, update, replace."""
    fresh = _usage_model_list(gen, gen.randint(1, 4))
    kind = step % 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for router in routers:
            ids = [d["model_info"]["id"] for d in router.get_model_list() or []]
            if kind == 0:
                for d in fresh:
                    d = copy.deepcopy(d)
                    d["model_info"]["id"] = "n%d-%s" % (step, d["model_info"]["id"])
                    router.add_deployment(litellm.types.router.Deployment(**d))
            elif kind == 1 and ids:
                router.delete_deployment(id=ids[len(ids) // 2])
            elif kind == 2 and ids:
                d = copy.deepcopy(fresh[0])
                d["model_info"]["id"] = ids[0]
                d["litellm_params"]["tpm"] = 40
                router.upsert_deployment(litellm.types.router.Deployment(**d))
            else:
                router.set_model_list(copy.deepcopy(fresh + _usage_model_list(random.Random(step), 3)))


def test_lockstep_usage_v2_limits_and_registry_changes():
    from test_routing_litellm import _build, _same

    gen = random.Random("usage-v2-lockstep")
    compared = 0
    for trial in range(6):
        model_list = _usage_model_list(gen, gen.choice([3, 6, 12]))
        a = _build(model_list, "usage-based-routing-v2", {})
        b = _build(model_list, "usage-based-routing-v2", {}, accelerated=True)
        ids = [d["model_info"]["id"] for d in model_list]
        usage = [(i, d["litellm_params"]["model"], gen.choice([0, 10, 50, 4000]), gen.choice([0, 1, 2]))
                 for d in model_list for i in [d["model_info"]["id"]] if gen.random() < 0.6]
        for router in (a, b):
            _seed_usage(router, usage)
        for step in range(5):
            plan = []
            for _ in range(12):
                request = {}
                if gen.random() < 0.5:
                    request["metadata"] = {}
                if gen.random() < 0.4:
                    request["messages"] = gen.choice(MESSAGES[1:])
                plan.append((gen.random(), gen.choice(["g", "g", "h", "nope"]), request, gen.random() < 0.2))

            async def run(router, accelerated):
                out = []
                for seed, model, request, sync in plan:
                    messages = request.pop("messages", None)
                    kwargs = dict(request)
                    if messages is not None and not sync:
                        random.seed(seed)
                        with _local_patch.accelerated(accelerated), warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            try:
                                picked = await router.async_get_available_deployment(
                                    model=model, messages=messages, request_kwargs=kwargs)
                                outcome = ("ok", picked.get("model_info", {}).get("id"), dict(picked))
                            except Exception as exc:
                                outcome = ("raised", type(exc).__name__, str(exc))
                        out.append((outcome, random.getstate(), copy.deepcopy(kwargs), _snapshot(router)))
                    else:
                        out.append(await _pick(router, accelerated, seed, model, kwargs, sync))
                    if messages is not None:
                        request["messages"] = messages
                    # a served call's usage, the same on both
                    if out[-1][0][0] == "ok":
                        _seed_usage(router, [(out[-1][0][1], out[-1][0][2]["litellm_params"]["model"],
                                              int(seed * 30), 1)])
                return out

            same_minute()  # both sides in one wall-clock minute
            stock = asyncio.run(run(a, False))
            fast = asyncio.run(run(b, True))
            for i, (s, f) in enumerate(zip(stock, fast)):
                assert _same(s[0], f[0]), (trial, step, i, s[0], f[0])
                assert s[1] == f[1], (trial, step, i, "random state differs")
                assert _same(s[2], f[2]), (trial, step, i, "request differs")
                assert _same(s[3], f[3]), (trial, step, i, "cache or usage differs")
                compared += 1
            _change(gen, (a, b), step + trial)
            assert a.get_model_list() == b.get_model_list()
        assert sorted(ids) == sorted(ids)
    assert compared >= 300


# ---- the registry's lookup rows (HostRegistry._rows) -------------------------------

class _Entries(list):
    """A list whose indexing is not list's own."""

    def __getitem__(self, index):
        return "other"


def _registry_stub(entries):
    """A ``HostRegistry`` holding only what ``_rows`` reads (the fast read declines for a
    registry of another class: session 23 hunt)."""
    from litellm.router_rust.surface.registry import HostRegistry

    stub = HostRegistry.__new__(HostRegistry)
    stub._core_model_list = entries
    stub._core_routing_groups = {}
    return stub


def _rows_outcome(fn, stub, rows):
    try:
        got = fn(stub, rows)
        return ("ok", [id(entry) for entry in got], got)
    except NotAccelerated:
        return ("declined",)
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))


def test_registry_rows_match_litellms():
    from litellm.router_rust.surface.model_list import HostedModelList

    from fast_litellm.routing import litellm_fast

    target = "litellm.router_rust.surface.registry:HostRegistry._rows"
    original = _original(target)
    fast = litellm_fast.make_rows(original)
    gen = random.Random("registry-rows")
    plain = [{"model_name": "g%d" % i, "model_info": {"id": str(i)}, "litellm_params": {"model": "m"}}
             for i in range(6)]
    hosted = HostedModelList(lambda: None, lambda changes: None)
    list.extend(hosted, plain)
    taken = declined = 0
    for _ in range(3000):
        entries = gen.choice([plain, hosted, _Entries(plain), plain[:2], []])
        rows = []
        for _ in range(gen.randint(0, 5)):
            roll = gen.random()
            if roll < 0.7:
                row = {"at": gen.choice([0, 1, 2, 5, -1, -6, 6, 7, -7, 2 ** 70, True, 1.0, "2"])}
            elif roll < 0.8:
                row = {"raw": gen.choice([0, 1])}
            elif roll < 0.85:
                row = {"raw_positions": [0, 1]}
            elif roll < 0.9:
                row = {"pattern": {"model_name": "p", "litellm_params": {"model": "openai/*"}}, "name": "x"}
            else:
                row = gen.choice([{"x": 1}, [("at", 0)], {"at": 0, 1: 2}])
            if isinstance(row, dict) and gen.random() < 0.15:
                row[gen.choice(["name", "group", "extra"])] = gen.choice([None, None, "n"])
            rows.append(row)
        if gen.random() < 0.05:
            rows = tuple(rows)
        stub = _registry_stub(entries)
        stock = _rows_outcome(original, stub, copy.deepcopy(rows))
        ours = _rows_outcome(fast, stub, copy.deepcopy(rows))
        if ours == ("declined",):
            declined += 1
            continue
        taken += 1
        assert ours[:2] == stock[:2], (rows, stock, ours)  # the very same entries
    assert taken > 400 and declined > 1000


# ---- the group's deployment list the usage read takes (litellm_fast._GroupRows) ----

def _read_outcome(read, entries):
    """The rows read: each entry of the list by identity, any other row (a
    renamed or wildcard-pattern row, a new dict per read) by value."""
    try:
        got = read()
    except Exception as exc:  # LiteLLM's list can lag its registry and raise
        return ("raised", "%s: %s" % (type(exc).__name__, exc))
    assert type(got) is list
    listed = {id(e) for e in list.__iter__(entries)}
    return ("ok", [("entry", id(e)) if id(e) in listed else ("fresh", e) for e in got], got)


def test_group_rows_follow_every_registry_change():
    """The kept rows are the very entries LiteLLM's read returns, after each
    kind of change between reads (add, delete, upsert, set_model_list, a list
    assignment, an entry written in place, an alias map or routing groups
    set, a model that is not a group)."""
    from fast_litellm.routing import litellm_fast

    from test_routing_litellm import _build

    gen = random.Random("group-rows")
    rows = litellm_fast._GroupRows()
    router = _build(_usage_model_list(gen, 6), "usage-based-routing-v2", {})
    registry = router._core._hosted
    hits = [0]

    def check(step):
        for model in ("g", "h", "nope", "openai/gpt-4o"):
            for again in range(3):
                if again == 2:  # LiteLLM's list can lag its registry: re-read it (no new version)
                    registry.refresh()
                kept = rows._kept.get(id(registry))
                was_kept = kept is not None and model in kept[2]
                got = _read_outcome(lambda: rows.read(registry, model, rows.idle_kept(router._core)),
                                   registry._core_model_list)
                stock = _read_outcome(lambda: registry._core_get_model_list(model_name=model),
                                      registry._core_model_list)
                assert got[:2] == stock[:2], (step, model, got, stock)
                assert got[0] != "ok" or got[2] is not stock[2], step
                hits[0] += was_kept

    def change(step):
        kind = step % 8
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ids = [d["model_info"]["id"] for d in router.get_model_list() or []]
            except IndexError:  # LiteLLM's list lagging its registry (see _read_outcome)
                ids = []
            fresh = _usage_model_list(gen, 2)
            for d in fresh:
                d["model_info"]["id"] = "s%d-%s" % (step, d["model_info"]["id"])
            if kind == 0:
                router.add_deployment(litellm.types.router.Deployment(**fresh[0]))
            elif kind == 1 and ids:
                router.delete_deployment(id=ids[0])
            elif kind == 2 and ids:
                d = dict(fresh[0], model_info={"id": ids[-1]})
                router.upsert_deployment(litellm.types.router.Deployment(**d))
            elif kind == 3:
                router.set_model_list(fresh + _usage_model_list(gen, 3))
            elif kind == 4:
                router.model_list = copy.deepcopy(fresh)
            elif kind == 5 and router.model_list:
                router.model_list[0]["litellm_params"]["rpm"] = gen.randint(1, 9)
            elif kind == 6:
                alias = registry._core_model_group_alias
                if alias:
                    alias.clear()
                else:
                    alias["g"] = "h"
            else:
                router.add_deployment(litellm.types.router.Deployment(**fresh[1]))

    for step in range(24):
        check(step)
        change(step)
    check("end")
    assert hits[0] > 40


# ---- the cooldown read a usage-v2 pick takes with its usage read (_answer_cache) ----

def test_cooldown_read_with_usage_read_along():
    """A usage-based-routing-v2 pick's cooldown batch read carries the usage
    read: the same two reads in one gather (the same Tasks created, the
    cooldowns' first), each under the same service target, the same answer
    to the Rust core, cooling and not; and the fast path is the one taken."""
    from litellm._internal_context import current_service_target
    from litellm.router_utils.routing_read_batch import RoutingReadBatch

    from test_routing_litellm import _record_cooldown_reads, _same

    model_list = _usage_model_list(random.Random("riding"), 6)
    stock_read_usage = RoutingReadBatch.read_usage
    runs = []
    same_minute()  # both sides in one wall-clock minute
    for accelerated in (False, True):
        with warnings.catch_warnings(), _local_patch.accelerated(accelerated):  # (as after import: the twin)
            warnings.simplefilter("ignore")
            router = litellm.Router(model_list=copy.deepcopy(model_list), routing_strategy="usage-based-routing-v2")
        seen, answers = _record_cooldown_reads(router)

        async def read_usage(self, deployments, span, seen=seen):
            seen.append(("read_usage", current_service_target(), len(deployments),
                         asyncio.current_task() is not PICK[0]))
            return await stock_read_usage(self, deployments, span)

        created = []
        outcomes = []

        async def pick(seed):
            PICK[0] = asyncio.current_task()
            asyncio.get_running_loop().set_task_factory(
                lambda loop, coro, **kw: created.append(getattr(coro, "__qualname__", "?")) or asyncio.Task(
                    coro, loop=loop, **kw))
            random.seed(seed)
            with _local_patch.accelerated(accelerated), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    picked = await router.async_get_available_deployment(model="g", request_kwargs={})
                    got = picked["model_info"]["id"]
                except Exception as exc:
                    got = (type(exc).__name__, str(exc))
            return got, random.getstate()

        RoutingReadBatch.read_usage = read_usage
        try:
            ids = [d["model_info"]["id"] for d in model_list if d["model_name"] == "g"]
            for cooled in ([], ids[:1], ids):
                for ident in cooled:
                    router._core._cooldowns.add_deployment_to_cooldown(ident, Exception("rate limited"), 429, 600)
                for seed in range(3):
                    outcomes.append(asyncio.run(pick(seed)))
        finally:
            RoutingReadBatch.read_usage = stock_read_usage
        runs.append((outcomes, answers, seen, created))
    assert runs[0][0] == runs[1][0]
    assert len(runs[0][1]) == len(runs[1][1])
    for x, y in zip(runs[0][1], runs[1][1]):
        assert _same(x, y), (x, y)
    assert runs[0][2] == runs[1][2] and runs[0][2]
    assert any(event[0] == "read_usage" for event in runs[1][2])
    # the same Tasks created, of coroutines named as stock's (a task factory reads the names)
    assert runs[0][3] == runs[1][3]
    assert "RoutingStores.batch_get" in runs[1][3]


PICK = [None]


def test_cooldown_read_with_usage_read_along_is_the_fast_path():
    from litellm.router_rust import core as core_module

    from fast_litellm.routing import litellm_fast, patches

    target = next(p.target for p in patches.PATCHES if p.name == "routing.cooldown_batch_read")
    fast = litellm_fast.make_answer_cache(_original(target))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=_usage_model_list(random.Random(3), 3),
                                routing_strategy="usage-based-routing-v2")
    reads = []

    class Batch:
        async def read_usage(self, deployments, span):
            reads.append((deployments, span))

    step = {"kind": "cache", "op": "batch_get", "key": None, "keys": ["deployment:u0:cooldown"], "value": None,
            "ttl": None, "local": False, "events": []}

    async def run():
        token = core_module._USAGE_READ.set((Batch(), ["rows"]))
        try:
            return await fast(router._core, step)
        finally:
            core_module._USAGE_READ.reset(token)

    with _local_patch.accelerated(True):
        assert asyncio.run(run()) == [None]
    assert reads == [(["rows"], None)]


def _kept_group_rows(seed):
    """A fresh _GroupRows and a v2 router's registry whose group "g" rows it keeps."""
    from fast_litellm.routing import litellm_fast

    from test_routing_litellm import _build

    rows = litellm_fast._GroupRows()
    router = _build(_usage_model_list(random.Random(seed), 4), "usage-based-routing-v2", {})
    registry = router._core._hosted
    for _ in range(3):
        rows.read(registry, "g", rows.idle_kept(registry.handle_lookup.__self__))
    assert rows._kept.get(id(registry)) is not None
    return rows, registry


@pytest.mark.parametrize("name", ["_core_get_model_list", "_live_handle", "_rows", "_core_model_names"])
def test_group_rows_follow_the_registry_class_after_a_kept_read(name, monkeypatch):
    """Session 18: the class checks are kept by a _StateMemo on HostRegistry's dict.  A
    method replaced after kept reads sends the next read LiteLLM's way (its method called)."""
    from litellm.router_rust.surface.registry import HostRegistry

    rows, registry = _kept_group_rows("group-rows-class")
    calls = []
    original = HostRegistry.__dict__[name]
    if isinstance(original, property):
        replacement = property(lambda self: (calls.append(name), original.fget(self))[1])
    else:
        def replacement(self, *args, **kwargs):
            calls.append(name)
            return original(self, *args, **kwargs)
    stock = registry._core_get_model_list(model_name="g")
    calls.clear()
    monkeypatch.setattr(HostRegistry, name, replacement)
    got = rows.read(registry, "g", rows.idle_kept(registry.handle_lookup.__self__))
    assert calls, name  # LiteLLM's read ran, through the replaced member
    assert [id(d) for d in got] == [id(d) for d in stock]
    monkeypatch.undo()
    calls.clear()
    rows.read(registry, "g", rows.idle_kept(registry.handle_lookup.__self__))
    rows.read(registry, "g", rows.idle_kept(registry.handle_lookup.__self__))
    assert not calls


@pytest.mark.parametrize("name", ["_core_get_model_list", "_list_scope", "_lookup", "_rows", "_index_key"])
def test_group_rows_follow_an_instance_method_or_module_function_set_after_kept_reads(name):
    """Session 19 hunt: LiteLLM's read (``_core_get_model_list``) calls the registry's
    methods through the instance (``mock.patch.object(registry, ...)`` sets one there) and
    the registry module's ``_index_key``; one set after kept reads was never called by ours
    (the kept rows were handed out).  Now the read is LiteLLM's while the instance dict
    shadows a method or the module's function is not the pinned one (fails before)."""
    import litellm.router_rust.surface.registry as registry_module

    rows, registry = _kept_group_rows("group-rows-instance")
    calls = []
    owner = registry_module if name == "_index_key" else registry
    original = getattr(owner, name)

    def replacement(*args, **kwargs):
        calls.append(name)
        return original(*args, **kwargs)

    stock = registry._core_get_model_list(model_name="g")
    try:
        if owner is registry:
            registry.__dict__[name] = replacement
        else:
            registry_module._index_key = replacement
        got = rows.read(registry, "g", rows.idle_kept(registry.handle_lookup.__self__))
        assert calls == [name]  # LiteLLM's read ran, through the replacement
        assert [id(d) for d in got] == [id(d) for d in stock]
    finally:
        if owner is registry:
            del registry.__dict__[name]
        else:
            registry_module._index_key = original
    calls.clear()
    rows.read(registry, "g", rows.idle_kept(registry.handle_lookup.__self__))
    rows.read(registry, "g", rows.idle_kept(registry.handle_lookup.__self__))
    assert not calls and rows._kept.get(id(registry)) is not None
