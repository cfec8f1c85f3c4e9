"""usage-based-routing-v2's selector call made in the fused pick
(``selector_fast.make_usage_v2_pick``, session 20) against LiteLLM's own.

Each case runs the same picks on a stock and an accelerated Router built from
the same model list, with the same counters in the routing cache and the same
replacements on the selector's path (recorders, then LiteLLM's): the picked
deployment (or the exception: type, message, its context's type), the
``random`` state, the routing cache after, and every recorded call in order
with the service target it ran under.  The clock (``get_utc_datetime`` as the
v2 module binds it) is always a recorder: stock reads it twice a pick (the
usage read's keys, the selector's keys), and so must we.  Each case also says
whether the fused call served the accelerated side's picks, so a guard that
stops declining is seen as a changed log, not as a skipped path."""
from __future__ import annotations

import asyncio
import copy
import datetime
import logging
import random
import warnings

import pytest
from _lockstep import same_minute  # noqa: E402

litellm = pytest.importorskip("litellm")

from litellm._internal_context import current_service_target  # noqa: E402
from litellm.router_strategy import lowest_tpm_rpm_v2 as v2  # noqa: E402
import test_routing_usage_read as _usage_read  # noqa: E402

from fast_litellm.routing import _local_patch, selector_fast  # noqa: E402

# the usage read's module's marks, and its fixture installing the routing patches
pytestmark = _usage_read.pytestmark
patched = _usage_read.patched
H = v2.LowestTPMLoggingHandler_v2


def _model_list(n=6, tpm=None, rpm=None):
    out = []
    for i in range(n):
        params = {"model": "openai/m%d" % (i % 2), "api_key": "sk-test"}
        if tpm is not None:
            params["tpm"] = tpm
        if rpm is not None:
            params["rpm"] = rpm
        out.append({"model_name": "g", "litellm_params": params, "model_info": {"id": "u%d" % i}})
    return out


class _Clock:
    """``get_utc_datetime`` as a recorder: the service target at each read;
    ``step``: each read a minute later than the one before (the usage read's
    keys and the selector's then differ, as across a minute boundary)."""

    def __init__(self, log, step=False):
        self.log, self.step, self.reads = log, step, 0
        self.start = datetime.datetime.now(datetime.timezone.utc)

    def __call__(self):
        self.log.append(("clock", current_service_target()))
        self.reads += 1
        if self.step:
            return self.start + datetime.timedelta(minutes=self.reads)
        return datetime.datetime.now(datetime.timezone.utc)


def _counting_fused(served):
    """The built fused call, counting what it served (not DECLINED)."""
    selector_fast.usage_v2_pick()
    built = selector_fast._V2_PICK[0]
    assert built is not None

    async def counted(*args):
        try:
            result = await built(*args)
        except Exception:  # (LiteLLM's error, raised through it: served)
            served.append(1)
            raise
        if result is not selector_fast.DECLINED:
            served.append(1)
        return result

    return built, counted


def _run(accelerated, monkeypatch, setup=None, model_list=None, usage=(), picks=4, step=False, messages=None):
    log, served = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with _local_patch.accelerated(accelerated):
            router = litellm.Router(model_list=copy.deepcopy(model_list or _model_list()),
                                    routing_strategy="usage-based-routing-v2")
    clock = _Clock(log, step)
    minute = clock.start.strftime("%H-%M")
    for ident, model, kind, value in usage:
        router._core._cache.set_cache("%s:%s:%s:%s" % (ident, model, kind, minute), value)
    built, counted = _counting_fused(served)
    selector_fast._V2_PICK[0] = counted
    with monkeypatch.context() as patch:
        patch.setattr(v2, "get_utc_datetime", clock)
        if setup is not None:
            setup(patch, log, router)

        async def go():
            out = []
            for seed in range(picks):
                random.seed(seed)
                with _local_patch.accelerated(accelerated), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        kwargs = {} if messages is None else {"messages": messages}
                        picked = await router.async_get_available_deployment(model="g", request_kwargs={},
                                                                             **kwargs)
                        outcome = ("ok", picked["model_info"]["id"])
                    except Exception as exc:  # the exception itself is compared
                        outcome = ("raised", type(exc).__name__, str(exc), type(exc.__context__).__name__)
                out.append((outcome, random.getstate()))
            return out

        try:
            results = asyncio.run(go())
        finally:
            selector_fast._V2_PICK[0] = built
    cache = router._core._cache.in_memory_cache.cache_dict
    return results, {k: copy.deepcopy(v) for k, v in cache.items()}, log, len(served)


def _compare(monkeypatch, fused, **kwargs):
    """Stock then ours in one minute; ``fused``: whether ours served its picks."""
    same_minute()
    stock = _run(False, monkeypatch, **kwargs)
    ours = _run(True, monkeypatch, **kwargs)
    assert ours[:3] == stock[:3]
    assert stock[3] == 0
    assert (ours[3] == len(ours[0])) if fused else ours[3] == 0, ours[3]
    return stock


def test_fused_pick_matches_litellms(monkeypatch):
    stock = _compare(monkeypatch, True)
    # two clock reads a pick, both under the usage target
    assert stock[2] == [("clock", "router_usage")] * 8


def test_fused_pick_with_counters_and_limits(monkeypatch):
    usage = [("u0", "openai/m0", "tpm", 50), ("u1", "openai/m1", "tpm", 5), ("u2", "openai/m0", "rpm", 3),
             ("u3", "openai/m1", "tpm", 5), ("u4", "openai/m0", "tpm", 95)]
    _compare(monkeypatch, True, model_list=_model_list(tpm=100, rpm=3), usage=usage, picks=6)


def test_no_deployment_within_the_limits_is_litellms_error(monkeypatch):
    """Every deployment over its tpm limit: LiteLLM's body raises its
    RateLimitError (handed the keys already built: the clock read once)."""
    usage = [("u%d" % i, "openai/m%d" % (i % 2), "tpm", 500) for i in range(6)]
    stock = _compare(monkeypatch, True, model_list=_model_list(tpm=100), usage=usage, picks=2)
    assert stock[0][0][0][0] == "raised" and stock[0][0][0][1] == "RateLimitError"
    assert len(stock[2]) == 4


def test_keys_not_covered_by_the_usage_read(monkeypatch):
    """The clock a minute later at each read: the selector's keys are not the
    usage read's, so LiteLLM's body reads the cache for them (the clock still read
    twice a pick, the read under the usage target)."""
    reads = []

    def setup(patch, log, router):
        stock = type(router._core._cache).async_batch_get_cache

        async def async_batch_get_cache(self, keys, *args, **kwargs):
            log.append(("cache read", len(keys), current_service_target()))
            return await stock(self, keys, *args, **kwargs)

        patch.setattr(type(router._core._cache), "async_batch_get_cache", async_batch_get_cache)
        reads.append(1)

    stock = _compare(monkeypatch, True, setup=setup, step=True, picks=3)
    assert [e for e in stock[2] if e[0] == "cache read"]


def test_a_counter_the_native_scan_does_not_take(monkeypatch):
    """A counter that is not a number: LiteLLM's checks (and their TypeError)."""
    usage = [("u1", "openai/m1", "tpm", "many")]
    stock = _compare(monkeypatch, True, usage=usage, picks=2)
    assert stock[0][0][0][0] == "raised"


def test_debug_logging_is_litellms(monkeypatch, caplog):
    """With the router logger at DEBUG, LiteLLM's call logs its records (their
    file, line and function are LiteLLM's): declined."""
    outcomes = []
    same_minute()
    for accelerated in (False, True):
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="LiteLLM Router"):
            run = _run(accelerated, monkeypatch, picks=2)
        records = [(r.pathname, r.lineno, r.funcName, r.getMessage()) for r in caplog.records
                   if "lowest_tpm_rpm_v2" in r.pathname or "selector_fast" in r.pathname]
        outcomes.append((run[:3], records, run[3]))
    assert outcomes[0][:2] == outcomes[1][:2] and outcomes[0][1]
    assert outcomes[1][2] == 0


def _instance_keys(patch, log, router):
    selector = router._core._selectors.default
    assert type(selector) is H
    stock = H.usage_counter_keys.__get__(selector)

    def keys(healthy):
        log.append(("instance keys", len(healthy)))
        return stock(healthy)

    patch.setattr(selector, "usage_counter_keys", keys, raising=False)


def _class_checks(patch, log, router):
    stock = H._common_checks_available_deployment

    def checks(self, *args, **kwargs):
        log.append(("checks", current_service_target()))
        return stock(self, *args, **kwargs)

    patch.setattr(H, "_common_checks_available_deployment", checks)


def _module_count(patch, log, router):
    stock = v2.embedding_aware_token_count

    def count(messages, text, media_models):
        log.append(("count", messages, text, callable(media_models)))
        return stock(messages, text, media_models)

    patch.setattr(v2, "embedding_aware_token_count", count)


def _module_partial(patch, log, router):
    import functools

    def partial(fn, *args):
        log.append(("partial", fn.__name__))
        return functools.partial(fn, *args)

    patch.setattr(v2, "partial", partial)


def _covers(patch, log, router):
    stock = v2.PrefetchedUsage.covers

    def covers(self, keys):
        log.append(("covers", len(keys)))
        return stock(self, keys)

    patch.setattr(v2.PrefetchedUsage, "covers", covers)


@pytest.mark.parametrize("setup", [_instance_keys, _class_checks, _module_count, _module_partial, _covers],
                         ids=["instance keys", "class checks", "module count", "module partial", "covers"])
def test_replaced_parts_are_called_as_litellm_calls_them(monkeypatch, setup):
    """Something of the call's path replaced by a recorder: declined, LiteLLM's
    call makes every call of it."""
    stock = _compare(monkeypatch, False, setup=setup, picks=3)
    assert [e for e in stock[2] if e[0] != "clock"]


def test_messages_are_counted_by_litellm(monkeypatch):
    """A request with messages: LiteLLM's token count decides (declined)."""
    usage = [("u%d" % i, "openai/m%d" % (i % 2), "tpm", 90 - i) for i in range(6)]
    _compare(monkeypatch, False, model_list=_model_list(tpm=100), usage=usage, picks=3,
             messages=[{"role": "user", "content": "hello there, " * 8}])


def test_the_usage_target_is_set_around_the_call(monkeypatch):
    """What runs inside the call runs under ROUTER_USAGE_TARGET and nothing
    after it does (the random draw is LiteLLM's module's ``random``)."""
    def setup(patch, log, router):
        class _Random:
            def __getattr__(self, name):
                log.append(("random." + name, current_service_target()))
                return getattr(random, name)

        patch.setattr(v2, "random", _Random())
        stock_print = v2.print_verbose

        def print_verbose(*args, **kwargs):
            log.append(("print", current_service_target()))
            return stock_print(*args, **kwargs)

        patch.setattr(v2, "print_verbose", print_verbose)

    stock = _compare(monkeypatch, True, setup=setup, picks=3)
    assert ("random.choice", "router_usage") in stock[2] and ("print", "router_usage") in stock[2]


def test_wrappers_deciding_per_call_are_not_skipped(monkeypatch):
    """Through the patch engine's wrappers (``_local_patch.install(guarded=True)``)
    with the flag in rollout: each wrapper would draw for its own call, so the
    fused call is not made (its chain check: a wrapper serves fast only while its
    flag's ``serve_fast`` holds); with the flag on it is.  Either way the picks are
    stock's."""
    from _lockstep import fresh_flag

    from fast_litellm import flags

    # the flag's listeners silenced for the test: a mode change notifies the
    # patch engine, which takes its unwrapped patches off for rollout (while
    # the test's dispatchers sit over them) and puts them back when the mode
    # is restored, finding the test's dispatchers, not LiteLLM's functions, and
    # refusing (later tests then saw routing.deprecated_get unapplied)
    monkeypatch.setattr(flags, "_listeners", [])
    flag = flags.get_flag("rust_routing")
    setting = (flag.mode, flag.percentage, flag.source)
    _local_patch.uninstall()
    try:
        _local_patch.install(guarded=True)
        with fresh_flag() as flag:
            _compare(monkeypatch, True)
            flag.configure(flags.MODE_ROLLOUT, 100.0, "test")
            assert not flag.serve_fast and flag.enabled_for(None)
            _compare(monkeypatch, False)
    finally:
        flag.configure(*setting)
        _local_patch.uninstall()
        _local_patch.install()
