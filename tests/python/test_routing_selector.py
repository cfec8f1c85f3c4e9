"""The selector shortcuts (fast_litellm/routing/selector_fast.py) beside
LiteLLM's own code: the no-input token count answers what LiteLLM's
try/except answers, and declines whenever LiteLLM's path would log, differ
or run replaced code."""
from __future__ import annotations

import functools
import logging
from functools import partial

import pytest
from _memo_checks import assert_each_change_declines

litellm = pytest.importorskip("litellm")

import litellm.litellm_core_utils.prompt_templates.tpm_media_utils as tpm  # noqa: E402
import litellm.litellm_core_utils.token_counter as tc  # noqa: E402
import litellm.router_strategy.lowest_cost as lowest_cost  # noqa: E402
import litellm.router_strategy.lowest_latency as lowest_latency  # noqa: E402
import litellm.utils as utils  # noqa: E402
from litellm._logging import verbose_logger  # noqa: E402

from fast_litellm.patching import registry  # noqa: E402
from fast_litellm.routing import litellm_fast, selector_fast  # noqa: E402

MODULES = [lowest_latency, lowest_cost]
HEALTHY = [{"model_name": "gpt", "litellm_params": {"model": "openai/gpt-4o"}, "model_info": {"id": "a"}}]


def _litellms(module, messages=None, input=None):
    """LiteLLM's own lines in the latency/cost selectors."""
    try:
        return module.embedding_aware_token_count(messages, input, partial(module.deployment_backend_models, HEALTHY))
    except Exception:
        return 0


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_no_input_count_is_litellms(module):
    assert selector_fast.no_input_tokens(module) == 0 == _litellms(module)
    assert litellm_fast._input_tokens(module, HEALTHY, None, None) == 0
    # with messages or input the shortcut is not asked: LiteLLM counts
    messages = [{"role": "user", "content": "hello there"}]
    assert litellm_fast._input_tokens(module, HEALTHY, messages, None) == _litellms(module, messages) > 0
    assert litellm_fast._input_tokens(module, HEALTHY, None, "some text") == _litellms(module, None, "some text") > 0


def test_disabled_counter_is_zero(monkeypatch):
    monkeypatch.setattr(litellm, "disable_token_counter", True)
    assert selector_fast.no_input_tokens(lowest_latency) == 0 == _litellms(lowest_latency)


def test_declines_when_the_debug_record_would_be_logged(caplog):
    level = verbose_logger.level
    verbose_logger.setLevel(logging.DEBUG)
    try:
        assert selector_fast.no_input_tokens(lowest_latency) is None
        assert litellm_fast._input_tokens(lowest_latency, HEALTHY, None, None) == 0
    finally:
        verbose_logger.setLevel(level)
    assert selector_fast.no_input_tokens(lowest_latency) == 0


def _raising(*args, **kwargs):
    raise RuntimeError("replaced")


def _counting(*args, **kwargs):
    return 7


@pytest.mark.parametrize("owner, name", [
    (lowest_latency, "embedding_aware_token_count"),
    (tc, "split_embedding_input_tokens"),
    (tc, "token_counter"),
    (litellm, "token_counter"),
    (utils, "get_token_counter_new"),
    (tpm, "split_embedding_media_for_tpm"),
    (tpm, "_tpm_embedding_leaf"),
    (tpm, "_tpm_media_leaf"),
    (tpm, "as_str_mapping"),
])
@pytest.mark.parametrize("replacement", [_raising, _counting])
def test_declines_replaced_code(monkeypatch, owner, name, replacement):
    if name == "get_token_counter_new":
        monkeypatch.setattr(owner, name, lambda: _counting)
    else:
        monkeypatch.setattr(owner, name, replacement)
    assert selector_fast.no_input_tokens(lowest_latency) is None
    # the caller then runs LiteLLM's lines, with whatever the replacement does
    assert litellm_fast._input_tokens(lowest_latency, HEALTHY, None, None) == _litellms(lowest_latency)


def test_accepts_the_token_counting_patch_over_the_stock_counter(monkeypatch):
    # (the patch engine may already have put the token-counting patch there)
    stock = getattr(tc.token_counter, "__fast_litellm_original__", tc.token_counter)

    def wrapper(*args, **kwargs):
        return stock(*args, **kwargs)

    wrapper.__fast_litellm_patch__ = "token_counter"
    wrapper.__fast_litellm_original__ = stock
    monkeypatch.setattr(tc, "token_counter", wrapper)
    # (session 22 hunt) the marks alone are not ours: functools.wraps copies them into a
    # user's wrapper; our wrappers also name themselves (registry.mark_ours)
    assert selector_fast.no_input_tokens(lowest_latency) is None
    registry.mark_ours(wrapper)
    assert selector_fast.no_input_tokens(lowest_latency) == 0 == _litellms(lowest_latency)
    copied = functools.wraps(wrapper)(lambda *args, **kwargs: stock(*args, **kwargs))
    assert copied.__fast_litellm_original__ is stock
    monkeypatch.setattr(tc, "token_counter", copied)
    assert selector_fast.no_input_tokens(lowest_latency) is None
    monkeypatch.setattr(tc, "token_counter", wrapper)
    wrapper.__fast_litellm_patch__ = "something_else"
    assert selector_fast.no_input_tokens(lowest_latency) is None



# ---- the usage-based selectors' binding (routing.usage_token_count_v1/_v2) ----

@pytest.fixture()
def local_patches():
    from fast_litellm.routing import _local_patch

    _local_patch.install()
    try:
        with _local_patch.accelerated(True):
            yield
    finally:
        _local_patch.uninstall()


@pytest.mark.parametrize("name", ["lowest_tpm_rpm_v2", "lowest_tpm_rpm"])
def test_usage_selectors_binding(local_patches, name):
    import importlib

    module = importlib.import_module("litellm.router_strategy." + name)
    count = module.embedding_aware_token_count
    assert getattr(count, "__wrapped__", None) is tc.embedding_aware_token_count
    models = partial(module.deployment_backend_models, HEALTHY)
    assert count(None, None, models) == 0
    messages = [{"role": "user", "content": "hello there"}]
    assert count(messages, None, models) == tc.embedding_aware_token_count(messages, None, models) > 0
    assert count(None, ["a", "b c"], models) == tc.embedding_aware_token_count(None, ["a", "b c"], models) > 0
    with pytest.raises(ValueError, match="text and messages cannot both be set"):
        count(messages, "x", models)
    # a debug record LiteLLM would log: LiteLLM's call, its ValueError
    level = verbose_logger.level
    verbose_logger.setLevel(logging.DEBUG)
    try:
        with pytest.raises(ValueError, match="Either text or messages must be provided"):
            count(None, None, models)
    finally:
        verbose_logger.setLevel(level)


def test_lockstep_usage_based_routing_v1():
    """v1 is not among the lockstep suite's strategies; its binding is patched here."""
    from fast_litellm.routing import _local_patch
    from test_routing_litellm import _lockstep

    _local_patch.install()
    try:
        assert _lockstep("usage-based-routing", trials=4, calls=40, sizes=[1, 3, 8], seed=3) > 100
    finally:
        _local_patch.uninstall()


# ---- least-busy: LeastBusyLoggingHandler._select -------------------------------

def _least_busy_pair(gen, n, clock):
    from litellm.caching.dual_cache import DualCache
    from litellm.router_strategy import least_busy

    handlers = [least_busy.LeastBusyLoggingHandler(router_cache=DualCache(), clock=clock) for _ in range(2)]
    ids = tuple("d%d" % i for i in range(n))
    keys = least_busy._request_count_keys("g", ids)
    counts = {}
    reservations = {}
    for i, key in enumerate(keys):
        r = gen.random()
        if r < 0.3:
            counts[key] = gen.randint(0, 4)
        elif r < 0.35:
            counts[key] = gen.choice([2.0, 2.7, -1, 2 ** 60 + 1, True, "3", 10 ** 400 if gen.random() < 0.2 else 1.5])
        if gen.random() < 0.4:
            reservations[ids[i]] = tuple((clock() - gen.choice([0, 5, 29, 31, 100]), gen.choice([None, "c1", "c2"]))
                                         for _ in range(gen.randint(1, 3)))
    for handler in handlers:
        for key, value in counts.items():
            handler.router_cache.set_cache(key, value, local_only=True)
        for ident, picks in reservations.items():
            handler._reservations.set_cache(least_busy._reservation_key(ident), picks, ttl=30)
    healthy = [{"model_name": "g", "litellm_params": {"model": "m"}, "model_info": {"id": ident}} for ident in ids]
    return handlers, healthy, ids, keys


def _least_busy_state(handler):
    return (dict(handler.router_cache.in_memory_cache.cache_dict),
            dict(handler._reservations.cache_dict), dict(handler._reservations.ttl_dict))


def test_least_busy_select_matches_litellms():
    from litellm.router_strategy import least_busy

    from fast_litellm.patching.registry import NotAccelerated

    original = least_busy.LeastBusyLoggingHandler._select
    original = getattr(original, "__fast_litellm_original__", original)
    fast = selector_fast.make_least_busy_select(original)
    gen = __import__("random").Random(7)
    now = [1000.0]
    clock = lambda: now[0]  # noqa: E731
    compared = declined = 0
    for trial in range(300):
        now[0] += gen.choice([0.0, 1.0, 40.0])
        (a, b), healthy, ids, keys = _least_busy_pair(gen, gen.choice([1, 2, 3, 5, 10]), clock)
        for _ in range(3):
            reserve = gen.random() < 0.6
            call_id = gen.choice([None, "c1", "c3"])
            outcomes = []
            for handler, select in ((a, original), (b, fast)):
                try:
                    try:
                        got = select(handler, healthy, ids, keys, None, reserve, call_id)
                    except NotAccelerated:
                        declined += 1
                        got = original(handler, healthy, ids, keys, None, reserve, call_id)
                    outcomes.append(("ok", got["model_info"]["id"]))
                except Exception as exc:  # LiteLLM's own (a counter pydantic refuses)
                    outcomes.append(("raised", type(exc).__name__, str(exc)))
            assert outcomes[0] == outcomes[1], (trial, outcomes)
            assert _least_busy_state(a) == _least_busy_state(b), trial
            compared += 1
    assert compared == 900 and declined < 50


def test_least_busy_select_declines():
    from litellm.caching.dual_cache import DualCache
    from litellm.router_strategy import least_busy

    from fast_litellm.patching.registry import NotAccelerated

    original = least_busy.LeastBusyLoggingHandler._select
    original = getattr(original, "__fast_litellm_original__", original)
    fast = selector_fast.make_least_busy_select(original)
    healthy = [{"model_info": {"id": "a"}}]
    handler = least_busy.LeastBusyLoggingHandler(router_cache=DualCache())
    assert fast(handler, [], (), (), None, True, None) is None
    with pytest.raises(NotAccelerated):  # a shared (Redis) count
        fast(handler, healthy, ("a",), ("k",), (1,), False, None)
    with pytest.raises(NotAccelerated):
        fast(handler, healthy, ["a"], ("k",), None, False, None)

    class Sub(least_busy.LeastBusyLoggingHandler):
        pass

    with pytest.raises(NotAccelerated):
        fast(Sub(router_cache=DualCache()), healthy, ("a",), ("k",), None, False, None)
    handler._live_reservations = lambda *a: ()
    with pytest.raises(NotAccelerated):
        fast(handler, healthy, ("a",), ("k",), None, False, None)
    assert handler.router_cache.in_memory_cache.cache_dict == {}  # declined before any read


def test_least_busy_select_error_after_its_writes_is_raised_once_through_the_engine():
    """LiteLLM's ``_record_pick`` raising (a picked list its validation
    refuses) after ``_store_reservations`` wrote:
    stock raises with one reservation written; through the engine's wrapper
    the fast path's error is the caller's (``callers_errors``), so the
    original does not run on top and write a second one."""
    from litellm.router_strategy import least_busy

    from fast_litellm.patching import registry, wrappers

    patch = next(p for p in registry.all_patches()
                 if p.target.endswith("LeastBusyLoggingHandler._select"))
    original = least_busy.LeastBusyLoggingHandler._select
    original = getattr(original, "__fast_litellm_original__", original)
    guarded = wrappers.guarded(patch, original, selector_fast.make_least_busy_select(original))
    gen = __import__("random").Random(11)
    now = [5000.0]
    clock = lambda: now[0]  # noqa: E731
    (a, b), healthy, ids, keys = _least_busy_pair(gen, 5, clock)
    states = []
    for handler, select in ((a, original), (b, guarded)):
        # a picked-list entry LiteLLM's validation refuses: _record_pick raises after the write
        handler._reservations.set_cache("least_busy_picked:c9", 12345, ttl=30)
        with pytest.raises(Exception) as info:
            select(handler, healthy, ids, keys, None, True, "c9")
        states.append((type(info.value).__name__, str(info.value), _least_busy_state(handler)))
    assert states[0] == states[1]
    assert registry._CALLERS.get(id(info.value)) is None


# ---- the usage minute stamp (litellm_fast._stamp_of) ---------------------------

def test_minute_stamp_formats_as_strftime():
    import random as _random
    from datetime import datetime, timedelta

    gen = _random.Random(3)
    cases = [datetime(y, m, d, h, mi) for y in (1, 9, 999, 1000, 1999, 2026, 9999)
             for m, d, h, mi in ((1, 1, 0, 0), (12, 31, 23, 59), (2, 28, 9, 5))]
    cases += [datetime(2026, 1, 1) + timedelta(seconds=gen.randint(0, 10 ** 9)) for _ in range(500)]
    for _ in range(3000):
        date, hour, minute = (gen.choice(cases) for _ in range(3))
        expected = f"{date.strftime('%Y-%m-%d')}-{hour.strftime('%H')}-{minute.strftime('%M')}"
        assert litellm_fast._stamp_of(date, hour, minute) == expected

    class Frozen(datetime):  # a datetime subclass (as freezegun's): its own strftime
        def strftime(self, fmt):
            return "frozen" + fmt

    f = Frozen(2026, 1, 2, 3, 4)
    assert litellm_fast._stamp_of(f, f, f) == "frozen%Y-%m-%d-frozen%H-frozen%M"
    now = datetime.now()
    assert litellm_fast._minute_stamp() in {
        litellm_fast._stamp_of(t, t, t) for t in (now, now + timedelta(minutes=1), now + timedelta(seconds=1))}


# ---- least-busy: _deployment_ids -------------------------------------------------

def test_least_busy_ids_match_litellms():
    from litellm.router_strategy import least_busy

    from fast_litellm.patching.registry import NotAccelerated
    from fast_litellm.routing import strategy_fast

    original = least_busy._deployment_ids
    original = getattr(original, "__fast_litellm_original__", original)
    fast = selector_fast.make_deployment_ids(original)
    gen = __import__("random").Random(11)

    class D(dict):
        pass

    def record():
        r = gen.random()
        ident = gen.choice(["a", "b", "", "x:y", 3, True, None, 2.5, D(id="q")]) if r < 0.2 else "d%d" % gen.randint(0, 9)
        info = {"id": ident, "tpm": 5} if gen.random() < 0.95 else gen.choice([{}, None, D(id="a"), "s", []])
        d = {"model_name": "g", "model_info": info} if gen.random() < 0.97 else gen.choice([{}, D(model_info={"id": "a"})])
        return d

    declined = 0
    for _ in range(2000):
        healthy = [record() for _ in range(gen.randint(0, 6))]
        if gen.random() < 0.05:
            healthy = tuple(healthy)
        try:
            expected = ("ok", original(healthy))
        except Exception as exc:
            expected = ("raised", type(exc).__name__)
        try:
            got = ("ok", fast(healthy))
        except NotAccelerated:
            declined += 1
            continue
        assert got == expected, (healthy, got, expected)
    assert declined < 1000
    # a shared list's ids are kept while it is shared
    shared = [{"model_info": {"id": "s%d" % i}} for i in range(5)]
    strategy_fast._SHARED_LISTS[id(shared)] = [shared, None, None]
    try:
        first = fast(shared)
        assert fast(shared) is first == original(shared)
    finally:
        strategy_fast._SHARED_LISTS.pop(id(shared), None)
    assert fast(shared) == first and fast(shared) is not first  # no longer shared: read again


def test_least_busy_select_memo_sees_every_change_after_a_pick(monkeypatch):
    """After kept picks (the selector's methods and least_busy's bindings
    found LiteLLM's, kept by dict tags), each of them changed - an instance
    attribute over a method, a class method, a module function, the lock, a
    rebound instance ``__dict__`` - makes the next pick decline."""
    import threading

    from litellm.caching.dual_cache import DualCache
    from litellm.router_strategy import least_busy

    from fast_litellm.patching.registry import NotAccelerated

    original = least_busy.LeastBusyLoggingHandler._select
    original = getattr(original, "__fast_litellm_original__", original)
    fast = selector_fast.make_least_busy_select(original)
    handler = least_busy.LeastBusyLoggingHandler(router_cache=DualCache())
    healthy = [{"model_info": {"id": "a"}}, {"model_info": {"id": "b"}}]
    ids = ("a", "b")
    keys = tuple(least_busy._request_count_keys("g", ids))

    def pick():
        return fast(handler, healthy, ids, keys, None, False, None)["model_info"]["id"]

    cls = least_busy.LeastBusyLoggingHandler
    assert pick() and pick()  # kept
    handler._store_reservations = lambda *a: None
    with pytest.raises(NotAccelerated):
        pick()
    del handler._store_reservations
    assert_each_change_declines(pick, monkeypatch, ((cls, "_live_reservations", lambda *a: ()),
                                                    (least_busy, "_unexpired", lambda picks, now: picks),
                                                    (least_busy, "_RESERVATIONS_LOCK", threading.Lock())),
                                NotAccelerated)
    saved = handler.__dict__
    handler.__dict__ = dict(saved, _record_pick=lambda *a: None)
    try:
        with pytest.raises(NotAccelerated):
            pick()
    finally:
        handler.__dict__ = saved
    assert pick()


# ---- least-busy: _request_count_keys --------------------------------------------

def test_least_busy_keys_match_litellms(monkeypatch):
    """The counter keys against LiteLLM's on random groups and id tuples (str
    subclasses, non-str ids, lists: declined); the same id tuple with an equal
    group gets the kept keys back, and a replaced ``_request_count_key``
    declines."""
    from litellm.router_strategy import least_busy

    from fast_litellm.patching.registry import NotAccelerated

    original = least_busy._request_count_keys
    original = getattr(original, "__fast_litellm_original__", original)
    fast = selector_fast.make_request_count_keys(original)
    gen = __import__("random").Random(12)

    class S(str):
        def __format__(self, spec):
            return "formatted"

    taken = 0
    for _ in range(2000):
        group = gen.choice(["g", "", "a:b", "grüppe", S("g"), 3, None])
        ids = tuple(gen.choice(["d1", "", "x:y", "ü", S("s"), 4]) for _ in range(gen.randint(0, 5)))
        if gen.random() < 0.05:
            ids = list(ids)
        expected = original(group, ids)
        try:
            got = fast(group, ids)
        except NotAccelerated:
            continue
        taken += 1
        assert got == expected and type(got) is tuple and all(type(k) is str for k in got), (group, ids)
        assert fast(group, ids) == expected  # kept (same tuple) or made again
    assert taken > 300
    ids = ("a", "b")
    first = fast("g", ids)
    assert fast("g", ids) is first and fast("h", ids) == original("h", ids)
    monkeypatch.setattr(least_busy, "_request_count_key", lambda group, ident: "other")
    with pytest.raises(NotAccelerated):
        fast("g", ids)
    monkeypatch.undo()
    assert fast("g", ids) == first
    monkeypatch.setattr(least_busy, "tuple", lambda items: ("shadowed",), raising=False)  # the module's tuple
    with pytest.raises(NotAccelerated):
        fast("g", ids)
