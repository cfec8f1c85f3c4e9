"""Session 23 exactness hunt: differences found between stock and accelerated
Router picks on session 22's fast paths (the twin handle serving every group
size, the native ``Router.__getattribute__``, v2's ``gather_two``), each as a
lockstep test: stock and accelerated routers from one model list, each built
with its side's switch (the accelerated router's ``_new_handle`` keeps the
documents its twin is made from), the same seeds; picks, ``random``'s state and
what the attack observes must be equal.  Each case failed before its fix
(docs/routing.md, "Session 23 (hunt23)")."""
from __future__ import annotations

import asyncio
import copy
import random
import warnings

import pytest

from _lockstep import plain_model_list, routing_patches, same_minute
from test_routing_hunt20 import STRATEGIES
from fast_litellm.routing import _local_patch, shadow_handle

litellm = pytest.importorskip("litellm")
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches(twins=True):
        yield


def _router(strategy, n=10, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return litellm.Router(model_list=copy.deepcopy(plain_model_list(n)), routing_strategy=strategy, **kwargs)


async def _pick(router, i, request=None):
    """One pick through ``RustCore.select``: (id or error, ``random``'s state after)."""
    random.seed(i)
    request = {"metadata": {}, "litellm_call_id": "call-%d" % i} if request is None else request
    try:
        picked = await router._core.select("g", request)
        return picked["model_info"]["id"], random.getstate()[1][:3]
    except Exception as exc:  # noqa: BLE001 - compared
        return "%s: %s" % (type(exc).__name__, exc), random.getstate()[1][:3]


def _run(on, strategy, script, **kwargs):
    """``await script(router)`` on a fresh loop, the router built with the switch ``on``
    (so the accelerated one has its twin's documents); the twin counters it moved."""
    with _local_patch.accelerated(on):
        router = _router(strategy, **kwargs)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    before = dict(shadow_handle.STATS)
    saved = list(litellm.callbacks)
    try:
        with _local_patch.accelerated(on), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = loop.run_until_complete(script(router))
        return out, {k: v - before[k] for k, v in shadow_handle.STATS.items()}
    finally:
        litellm.callbacks[:] = saved
        for _ in range(3):  # (the service events' Tasks)
            loop.run_until_complete(asyncio.sleep(0))
        asyncio.set_event_loop(None)
        loop.close()
        router.retire()


def _lockstep(strategy, script, **kwargs):
    """Both sides' outputs equal; the accelerated side's twin counters."""
    same_minute()
    stock, _ = _run(False, strategy, script, **kwargs)
    fast, stats = _run(True, strategy, script, **kwargs)
    assert stock == fast
    return stock, stats


class _Drop(litellm.integrations.custom_logger.CustomLogger):
    """A deployment filter dropping the ids it names."""

    def __init__(self, drop):
        super().__init__()
        self.drop = set(drop)

    async def async_filter_deployments(self, model, healthy_deployments, messages, request_kwargs=None,
                                       parent_otel_span=None):
        return [d for d in healthy_deployments if d["model_info"]["id"] not in self.drop]


def _core_method_wrapped(name, before=None):
    """A script: ``RustCore.<name>`` replaced by a wrapper that runs ``before(step)`` and
    then LiteLLM's method, for four picks; the picks and what the wrapper saw."""
    from litellm.router_rust.core import RustCore

    async def script(router):
        real = RustCore.__dict__[name]
        seen = []

        async def wrapper(self, step, *args, **kwargs):
            seen.append(repr(step))
            if before is not None:
                before(step)
            return await real(self, step, *args, **kwargs)

        setattr(RustCore, name, wrapper)
        try:
            out = [await _pick(router, i) for i in range(4)]
        finally:
            setattr(RustCore, name, real)
        return out, seen
    return script


# ---- (1) the kept first step's events list was handed to every pick ----------------------------

@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_pre_route_step_answered_from_the_kept_one_has_its_own_events_list(strategy):
    """A plain request's pre_route step is answered from the twin's kept first step
    (``shadow_handle.first_step``, session 22): a new dict each pick, but its ``events``
    list was the kept one, so a ``_pre_route`` wrapper appending to it saw the list grow
    from pick to pick (stock's bridge makes a new list for every step)."""
    def append(step):
        step["events"].append("seen")

    (out, seen), stats = _lockstep(strategy, _core_method_wrapped("_pre_route", append))
    assert stats["picks"] == 4 and stats["escapes"] == 0  # (answered from the kept step)
    assert all("'events': []" in text for text in seen)


# ---- (2) a move back compared LiteLLM's steps with the ones handed to user code --------------

def _filter_and_mark(name):
    """A wrapper on ``RustCore.<name>`` that marks the step it is handed and registers a
    filter (the pre-route step: inside the pick; the cooldown read: before it)."""
    def before(step):
        step["seen_by_user"] = True
        litellm.callbacks[:] = [_Drop({"d0", "d1"})]
    return before


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("name", ("_pre_route", "_answer_cache"))
def test_a_move_back_after_a_hook_changed_a_step_picks_as_stock(strategy, name):
    """A filter registered during a pick moves it back to a handle with the stage at the
    stage point, replaying the answers given so far and checking each step asked again
    against the twin's.  The check compared against the step dicts the pick had handed to
    ``_pre_route`` / ``_answer_cache``: a wrapper there that wrote into its step made every
    such pick raise ``RuntimeError: LiteLLM's handle asked another step than its twin``
    (stock picked).  It now compares with a new call on the twin (never written)."""
    (out, seen), stats = _lockstep(strategy, _core_method_wrapped(name, _filter_and_mark(name)))
    assert stats["escapes"] == 4
    assert all(picked[0] in {"d%d" % i for i in range(2, 10)} for picked in out)


# ---- (3) another thread's write between a move back's check and its call's first step -----------

def _deployment(i):
    from litellm.types.router import Deployment

    return Deployment(model_name="g", model_info={"id": "e%d" % i},
                      litellm_params={"model": "openai/gpt-4o-mini", "api_key": "k", "api_base": "https://e%d.example" % i})


_CHANGES = {
    "write": lambda router: router.add_deployment(_deployment(1)),
    "rebuild": lambda router: router.update_settings(cooldown_time=4),  # (a new handle; the old one retired)
}


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("change", sorted(_CHANGES))
def test_a_write_between_a_move_backs_check_and_its_first_step_runs_on_the_replica(strategy, change):
    """A pick moving back checks that LiteLLM's handle is still the core's at the twin's
    version, then makes its call there; the call reads the snapshot at its first step.
    Another thread's registry write or rebuild between the two (here a profile hook at
    the check's ``registry_version`` return stands for the thread switch) made the call
    read the newer snapshot (or fail as retired): ``RuntimeError: LiteLLM's handle asked
    another step than its twin`` where stock - whose call read its snapshot when the pick
    started, the write landing at its filter stage - picked.  The check is now made again
    after that first step, and the call made on the replica when it fails."""
    import sys

    def script(router):
        async def run():
            done = []

            def change():
                if not done:
                    done.append(True)
                    _CHANGES[change_name](router)

            accelerated = _local_patch.ACCELERATED[0]

            def profile(frame, event, arg):
                if (event == "c_return" and frame.f_code.co_name == "twin_escape"
                        and getattr(arg, "__name__", None) == "registry_version"):
                    change()

            drop = _Drop({"d0", "d1"})
            if not accelerated:  # stock's call read its snapshot at its first step: the write lands later
                inner = drop.async_filter_deployments

                async def filtering(*args, **kwargs):
                    change()
                    return await inner(*args, **kwargs)
                drop.async_filter_deployments = filtering
            litellm.callbacks[:] = [drop]
            random.seed(7)
            sys.setprofile(profile)
            try:
                picked = await router._core.select("g", {"metadata": {}})
                out = picked["model_info"]["id"]
            except Exception as exc:  # noqa: BLE001 - compared
                out = "%s: %s" % (type(exc).__name__, exc)
            finally:
                sys.setprofile(None)
            return out, done, random.getstate()[1][:3]
        return run()

    change_name = change
    (picked, done, _), stats = _lockstep(strategy, script)
    assert done == [True] and picked in {"d%d" % i for i in range(2, 10)}
    assert stats["escapes"] == 1 and stats["replicas"] == 1


# ---- (4) the cooldown read's walk checked on RustCore, not on the core's class -----------------

@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("name", ("_answer_cache_in_target", "_stores", "_batch_read", "_stored_with_usage"))
def test_a_core_class_overriding_a_walked_method_has_it_called_as_stock(strategy, name):
    """The cooldown answer (``litellm_fast.make_answer_cache``) skips LiteLLM's read walk
    while the functions it calls are LiteLLM's - checked on ``RustCore`` (and the core's
    instance dict), not on the core's class: with ``core.__class__`` set to a subclass
    overriding one of them, stock's read called the override once a pick, ours never.
    The answer now declines for a core whose class is not ``RustCore``."""
    from litellm.router_rust.core import RustCore

    async def script(router):
        out = [await _pick(router, i) for i in range(2)]
        calls = []
        inner = RustCore.__dict__[name]
        if isinstance(inner, property):
            override = property(lambda self: (calls.append(name), inner.fget(self))[1])
        elif asyncio.iscoroutinefunction(inner):
            async def override(self, *args, **kwargs):
                calls.append(name)
                return await inner(self, *args, **kwargs)
        else:
            def override(self, *args, **kwargs):
                calls.append(name)
                return inner(self, *args, **kwargs)
        core = router._core
        core.__class__ = type("CountingCore", (RustCore,), {name: override})
        try:
            out += [await _pick(router, 10 + i) for i in range(3)]
        finally:
            core.__class__ = RustCore
        return out, len(calls)

    (_, calls), _ = _lockstep(strategy, script)
    assert calls >= 3


# ---- (5) methods a fast path skips, set on the instance or on a class given by __class__ ----------

_TARGETS = {
    "core": lambda router: router._core,
    "hosted": lambda router: router._core._hosted,
    "endpoints": lambda router: router._core._endpoints,
    "selectors": lambda router: router._core._selectors,
}


def _counting(found, calls, name):
    if isinstance(found, property):
        return property(lambda self: (calls.append(name), found.fget(self))[1])
    if asyncio.iscoroutinefunction(found):
        async def method(self, *args, **kwargs):
            calls.append(name)
            return await found(self, *args, **kwargs)
        return method

    def method(self, *args, **kwargs):
        calls.append(name)
        return found(self, *args, **kwargs)
    return method


async def _pick_both_ways(router, i):
    """A ``RustCore.select`` pick, then one through ``Router.async_get_available_deployment``
    (its deprecated attribute read reaches ``RustCore.__getattr__``)."""
    out = [await _pick(router, i)]
    random.seed(i)
    picked = await router.async_get_available_deployment(model="g", request_kwargs={})
    return out + [(picked["model_info"]["id"], random.getstate()[1][:3])]


@pytest.mark.parametrize("strategy", ("least-busy", "usage-based-routing-v2", "simple-shuffle"))
@pytest.mark.parametrize("target, name, mode", [
    ("core", "_group_policies", "instance"), ("core", "_group_policies", "class"),
    ("core", "_policy_lookup_names", "instance"), ("core", "_policy_lookup_names", "class"),
    ("core", "_written_retry_policy", "class"), ("core", "_settings_attribute", "instance"),
    ("core", "_prefetch_strategy_and_selector", "instance"), ("hosted", "get_routing_group", "instance"),
    ("hosted", "_core_get_model_from_alias", "instance"), ("endpoints", "member", "instance"),
    ("hosted", "_row_entry", "instance"), ("hosted", "_row_entry", "class"),
    ("selectors", "is_override", "instance"), ("selectors", "is_override", "class"),
])
def test_a_skipped_method_set_on_the_instance_or_its_class_is_called_as_stock(strategy, target, name, mode):
    """Fast paths that answer for LiteLLM methods checked the methods those call on the
    class (``RustCore``, ``HostRegistry``, ``RustEndpoints``) only: one set on the object
    itself, or on a subclass the object was given by ``__class__`` assignment, was called
    by stock once a pick and never by ours - the retry-policy fields (``_group_policies``,
    ``_policy_lookup_names``, the ``_written_retry_policy`` property: the set-up's inline
    answer and the ``_group_policy_fields`` patch), the deprecated pick attribute's
    look-up (``RustCore.__getattr__``'s ``_settings_attribute`` and ``endpoints.member``),
    the usage-read scope's selector (``_prefetch_strategy_and_selector``, the registry's
    ``get_routing_group`` / ``_core_get_model_from_alias``), the registry rows' ``_row_entry``
    (usage-based-routing-v2's group read; the ``HostRegistry._rows`` patch).  And the other way:
    the strategy inputs' shared-list choice called ``StrategySelectors.is_override``, which
    LiteLLM's ``_strategy_inputs`` does not: one set there saw two calls a pick, stock's one."""
    import types

    async def script(router):
        out = await _pick_both_ways(router, 0)
        obj = _TARGETS[target](router)
        found = next(klass.__dict__[name] for klass in type(obj).__mro__ if name in klass.__dict__)
        calls = []
        override = _counting(found, calls, name)
        old = type(obj)
        if mode == "class":
            obj.__class__ = type(old.__name__, (old,), {name: override})
        else:
            obj.__dict__[name] = types.MethodType(override, obj)
        try:
            for i in range(1, 4):
                out += await _pick_both_ways(router, i)
        finally:
            if mode == "class":
                obj.__class__ = old
            else:
                del obj.__dict__[name]
        return out, len(calls)

    (_, calls), _ = _lockstep(strategy, script)
    assert calls >= 3 or (name == "is_override" and strategy == "simple-shuffle")  # (no selector to ask about)


# ---- (6) a callback appended by another thread while the filter check walks the list ------------

@pytest.mark.parametrize("strategy", ("simple-shuffle", "least-busy"))
def test_a_callback_appended_while_the_filter_check_walks_the_list_is_no_error_of_ours(strategy):
    """The no-filter check (``filters_absent`` / ``filters_kept``) compared the process
    callback list's length with what it kept, then walked the list: another thread
    appending a callback between the two made it index past what it kept, an
    ``IndexError`` counted against the ``rust_routing`` flag (LiteLLM answered that step:
    the picks stayed equal) - ten of them disabled the feature for the process (a stress
    run of threads toggling a callback did so in seconds).  Here a trace function appends
    at the walk's first callback, standing for that thread."""
    import linecache
    import sys

    from _lockstep import fresh_flag

    class Plain(litellm.integrations.custom_logger.CustomLogger):
        pass

    def script(router):
        async def run():
            out = [await _pick(router, i) for i in range(2)]
            appended = []

            def local(frame, event, arg):
                if (event == "line" and not appended
                        and "klass = type(callback)" in linecache.getline(frame.f_code.co_filename, frame.f_lineno)):
                    appended.append(True)
                    litellm.callbacks.append(Plain())
                return local

            def tracer(frame, event, arg):
                return local if frame.f_code.co_name in ("filters_kept", "filters_absent") else None

            for i in range(2, 6):
                litellm.callbacks[:] = [Plain()]
                del appended[:]
                sys.settrace(tracer)
                try:
                    out.append(await _pick(router, i))
                finally:
                    sys.settrace(None)
            return out
        return run()

    with fresh_flag() as flag:
        _, stats = _lockstep(strategy, script)
        assert stats["picks"] == 6
        assert flag.errors == 0, flag.last_error
