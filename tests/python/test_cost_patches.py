"""The cost patches through the engine: pins, application and removal,
the flag (checked per call by the engine's wrapper), hand-off to the
original, the fallback on an error of ours, LiteLLM's errors after its
effects raised once, and prices read afresh after ``litellm.model_cost``
changes (register_model or direct mutation)."""
from __future__ import annotations

import contextlib
import copy
import inspect
import io
import logging
import traceback
import typing

import pytest

litellm = pytest.importorskip("litellm")

import litellm.cost_calculator as cc  # noqa: E402
from litellm.litellm_core_utils.llm_cost_calc import utils as cost_utils  # noqa: E402
from litellm.types.utils import ModelResponse, Usage  # noqa: E402

from fast_litellm import flags  # noqa: E402
from fast_litellm.cost import FLAG, _completion, patches  # noqa: E402
from fast_litellm.cost._completion import HAND_OFF  # noqa: E402
from fast_litellm.patching import engine, guards, pins  # noqa: E402
from fast_litellm.patching.registry import Delegate, NotAccelerated, all_patches  # noqa: E402

OURS = [p for p in all_patches() if p.component == "cost"]
NAMES = {"cost.completion_cost", "cost.cost_per_token", "cost.token_base_cost"}


def response(model="gpt-4o-mini", prompt=50, completion=60, **usage_extra):
    r = ModelResponse(id="chatcmpl-x", created=1700000000, model=model,
                      usage=Usage(prompt_tokens=prompt, completion_tokens=completion,
                                  total_tokens=prompt + completion, **usage_extra))
    return r


def handed_off(result):
    """A fast function's hand-off: HAND_OFF (the raw fast functions) or the
    Delegate the engine's wrapper calls (what ``__fast_litellm_fast__`` returns)."""
    return result is HAND_OFF or type(result) is Delegate


@pytest.fixture
def applied():
    engine.apply_acceleration()
    flags.reset_errors(FLAG)
    status = engine.get_patch_status()["patches"]
    assert all(status[n]["applied"] for n in NAMES), {n: status[n]["reason"] for n in NAMES}
    yield
    flags.set_feature(FLAG, True)
    flags.reset_errors(FLAG)
    engine.apply_acceleration()


def test_patches_are_declared_and_pinned():
    assert {p.name for p in OURS} == NAMES
    for patch in OURS:
        assert patch.flag == FLAG == "native_cost_calculation"
        assert patch.wrap is True  # the engine's wrapper: per-call flag, fallback, timing
        assert patch.extra["shadow_safe"] is False  # a second run would repeat the original's effects
        assert patch.target in pins.VERIFIED
    assert flags.get_flag(FLAG) is not None


def test_pins_match_the_installed_litellm():
    with engine.unpatched():
        for patch in OURS:
            owner, attr, raw = engine._resolve(patch)
            assert guards.source_hash(raw) == pins.VERIFIED[patch.target], patch.target
    assert patches.changed_dependencies() == []


def test_changed_dependency_refuses_to_build(monkeypatch):
    target = next(t for t in pins.DEPENDENCIES if t.startswith(patches.DEPENDENCY_PREFIXES))
    monkeypatch.setitem(pins.DEPENDENCIES, target, "0" * 64)
    monkeypatch.setattr(patches, "_verified", [])
    assert patches.changed_dependencies() == [target]
    with pytest.raises(patches.DependencyChanged):
        patches.build_base_cost(cost_utils._get_token_base_cost)


def test_changed_tool_cost_source_refuses_to_build(monkeypatch):
    """The fast completion_cost prices no built-in tool (0.0) when the
    response carries no tool signal: that holds only while LiteLLM's tool
    cost code reads the signals it read when verified, so a change there
    leaves the patches off (these sources were not pinned before)."""
    target = ("litellm.litellm_core_utils.llm_cost_calc.tool_call_cost_tracking:"
              "StandardBuiltInToolCostTracking.get_cost_for_built_in_tools")
    assert guards.source_hash(guards.resolve_target(target)) == pins.DEPENDENCIES[target]
    monkeypatch.setitem(pins.DEPENDENCIES, target, "0" * 64)
    monkeypatch.setattr(patches, "_verified", [])
    assert patches.changed_dependencies() == [target]
    with pytest.raises(patches.DependencyChanged):
        patches._build_cost_function(0, "completion_cost")(cc.completion_cost)


def test_apply_and_remove(applied):
    assert cc.completion_cost.__fast_litellm_original__ is not cc.completion_cost
    # the identity scan rebinds the package-level names too
    assert litellm.completion_cost is cc.completion_cost
    assert litellm.cost_per_token is cc.cost_per_token
    r = response()
    fast_value = litellm.completion_cost(completion_response=r)
    with engine.unpatched():
        assert not hasattr(cc.completion_cost, "__fast_litellm_original__")
        assert not hasattr(cost_utils._get_token_base_cost, "__fast_litellm_original__")
        assert litellm.completion_cost is cc.completion_cost
        stock_value = litellm.completion_cost(completion_response=r)
    assert repr(fast_value) == repr(stock_value)
    assert hasattr(cc.completion_cost, "__fast_litellm_original__")


@pytest.fixture
def resolver_calls(monkeypatch):
    """Counts the fast paths' provider resolutions (completion_cost and
    cost_per_token without a provider make one): a call the fast path served."""
    calls = []
    resolve = _completion._Resolver.resolve

    def counted(self, name):
        calls.append(name)
        return resolve(self, name)

    monkeypatch.setattr(_completion._Resolver, "resolve", counted)
    return calls


def test_flag_off_at_run_time_serves_the_original(applied, resolver_calls):
    """The patches stay installed; the engine's wrapper reads the flag on
    each call (they used to be unapplied and reapplied instead)."""
    base_cost = cost_utils._get_token_base_cost
    scans = base_cost.__fast_litellm_fast__.threshold_scans
    info = dict(litellm.model_cost["gpt-4.1"], fl_flag_test_key=None)  # a key set never scanned before
    usage = Usage(prompt_tokens=5, completion_tokens=6, total_tokens=11)
    r = response()
    try:
        flags.set_feature(FLAG, False)
        status = engine.get_patch_status()["patches"]
        assert all(status[n]["applied"] and status[n]["flag_state"] == "disabled" for n in NAMES)
        assert cc.completion_cost.__fast_litellm_original__ is not cc.completion_cost
        off = (repr(cc.completion_cost(completion_response=r)),
               repr(cc.cost_per_token(model="gpt-4o-mini", prompt_tokens=5, completion_tokens=6)),
               repr(base_cost(dict(info), usage)))
        assert resolver_calls == []  # neither fast path ran
        assert (tuple(info), "") not in scans
        flags.set_feature(FLAG, True)
        on = (repr(cc.completion_cost(completion_response=r)),
              repr(cc.cost_per_token(model="gpt-4o-mini", prompt_tokens=5, completion_tokens=6)),
              repr(base_cost(dict(info), usage)))
        assert len(resolver_calls) >= 2 and (tuple(info), "") in scans
    finally:
        flags.set_feature(FLAG, True)
    assert on == off
    with engine.unpatched():
        stock = (repr(cc.completion_cost(completion_response=r)),
                 repr(cc.cost_per_token(model="gpt-4o-mini", prompt_tokens=5, completion_tokens=6)),
                 repr(cost_utils._get_token_base_cost(dict(info), usage)))
    assert off == stock


def test_rollout_serves_both_paths_with_the_stock_result(applied, resolver_calls):
    r = response()
    with engine.unpatched():
        stock = repr(cc.completion_cost(completion_response=r))
    assert repr(cc.completion_cost(completion_response=r)) == stock
    per_call = len(resolver_calls)  # the fast path's resolutions for one call
    assert per_call
    try:
        flags.set_feature(FLAG, "canary:50")
        assert cc.completion_cost.__fast_litellm_original__ is not cc.completion_cost
        values = {repr(cc.completion_cost(completion_response=r)) for _ in range(64)}
    finally:
        flags.set_feature(FLAG, True)
    assert values == {stock}
    assert per_call < len(resolver_calls) < per_call * 65  # some calls went to the fast path, not all


def test_shadow_mode_serves_the_original_alone(applied, resolver_calls):
    """Not shadow-safe: the fast path beside the original would repeat the
    original's effects (a banner, a log record, a cost-breakdown write)."""
    r = response()
    with engine.unpatched():
        stock = repr(cc.completion_cost(completion_response=r))
    try:
        flags.set_feature(FLAG, "shadow")
        value = repr(cc.completion_cost(completion_response=r))
        shadow_calls = flags.get_flag(FLAG).shadow_calls
    finally:
        flags.set_feature(FLAG, True)
    assert value == stock and resolver_calls == [] and shadow_calls == 0


def _last_error():
    flag = flags.get_flag(FLAG)
    return flag.errors, (flag.last_error or {}).get("type")


def test_an_error_of_ours_falls_back_to_the_original(applied, monkeypatch):
    """A failure of our own code (here the provider resolver's memo, and a
    corrupted remembered scan) must not reach the caller: the engine runs
    LiteLLM's original, whose result is returned, and counts the error."""
    def broken(self, name):
        raise RuntimeError("injected")

    r = response()
    with engine.unpatched():
        stock_completion = repr(cc.completion_cost(completion_response=r))
        stock_tokens = repr(cc.cost_per_token(model="gpt-4o-mini", prompt_tokens=5, completion_tokens=6))
    monkeypatch.setattr(_completion._Resolver, "resolve", broken)
    assert repr(cc.completion_cost(completion_response=r)) == stock_completion
    assert _last_error() == (1, "RuntimeError")
    assert repr(cc.cost_per_token(model="gpt-4o-mini", prompt_tokens=5, completion_tokens=6)) == stock_tokens
    assert _last_error() == (2, "RuntimeError")
    with pytest.raises(RuntimeError):  # the fast path itself does fail
        cc.completion_cost.__fast_litellm_fast__(completion_response=r)

    base_cost = cost_utils._get_token_base_cost
    info = dict(litellm.model_cost["gpt-4.1"], fl_corrupt_test_key=None)
    usage = Usage(prompt_tokens=300_000, completion_tokens=6, total_tokens=300_006)
    base_cost.__fast_litellm_fast__.threshold_scans[(tuple(info), "")] = 42  # not a key tuple
    try:
        got = repr(base_cost(dict(info), usage))
    finally:
        base_cost.__fast_litellm_fast__.threshold_scans.pop((tuple(info), ""), None)
    assert got == repr(base_cost.__fast_litellm_original__(dict(info), usage))
    assert _last_error() == (3, "TypeError")


def _effects(fn, *args, **kwargs):
    """What a call raised or returned, what it printed and what LiteLLM logged."""
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append((record.levelname, record.getMessage()))
    logger = logging.getLogger("LiteLLM")
    logger.addHandler(handler)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            try:
                result = ("ok", repr(fn(*args, **kwargs)))
            except Exception as exc:
                result = ("raise", type(exc).__name__, str(exc), type(exc.__context__).__name__)
    finally:
        logger.removeHandler(handler)
    return result, out.getvalue(), records


def test_litellms_error_after_its_effect_is_raised_once(applied, monkeypatch):
    """Stock LiteLLM has effects before some of its exceptions: the provider
    resolver prints a banner for an unknown model name, the price reader
    logs an unparseable price.  The fast paths mark those exceptions as the
    caller's: the engine raises them as they are, instead of running the
    original on top (which would print or log a second time)."""
    # The banner is printed only while litellm.suppress_debug_info is False, and
    # building any Router sets it True for the rest of the process (LiteLLM's
    # PythonHost.suppress_debug_info): this test must not depend on which tests ran first.
    import litellm
    monkeypatch.setattr(litellm, "suppress_debug_info", False)
    r_unknown = dict(completion_response=response("fl-unknown-model"))
    r_unknown["completion_response"]._hidden_params = {"custom_llm_provider": "openai"}
    bad_info = {1: 2, "input_cost_per_token": "not-a-number", "output_cost_per_token": 2e-6}
    usage = Usage(prompt_tokens=5, completion_tokens=6, total_tokens=11)
    cases = [
        # the resolver prints for each unknown candidate, then the last one's price lookup raises
        ("completion_cost", cc, lambda: ((), copy.deepcopy(r_unknown))),
        # the price reader logs, then the threshold scan raises for the non-string key
        ("_get_token_base_cost", cost_utils, lambda: ((dict(bad_info), usage), {})),
    ]
    for fn_name, module, make in cases:
        def call(fn):
            args, kwargs = make()
            return _effects(fn, *args, **kwargs)

        patched = getattr(module, fn_name)
        with contextlib.redirect_stdout(io.StringIO()):  # the fast path serves these: no hand-off
            served = call(patched.__fast_litellm_fast__)[0]
        assert served[0] == "raise" and served[1] != "NotAccelerated", served
        got = call(patched)
        with engine.unpatched():
            want = call(getattr(module, fn_name))
        assert want[0][0] == "raise" and (want[1] or want[2]), ("meant to raise after an effect", fn_name, want)
        assert got == want, (fn_name, got, want)
        assert _last_error() == (0, None)  # no fallback: not an error of ours


def test_hand_off_returns_the_originals_result(applied):
    fast = cc.completion_cost.__fast_litellm_fast__
    original = cc.completion_cost.__fast_litellm_original__
    handed = [
        dict(completion_response=response(), custom_cost_per_token={"input_cost_per_token": 1.0,
                                                                    "output_cost_per_token": 2.0}),
        dict(completion_response=response("claude-sonnet-4-5"), custom_llm_provider="anthropic"),
        dict(completion_response={"model": "gpt-4o-mini", "usage": {"prompt_tokens": 3, "completion_tokens": 4}}),
        dict(completion_response=response(), region_name="eastus"),
    ]
    for kwargs in handed:
        try:
            assert handed_off(fast(**copy.deepcopy(kwargs)))
        except NotAccelerated:
            pass
        assert repr(cc.completion_cost(**copy.deepcopy(kwargs))) == repr(original(**copy.deepcopy(kwargs)))


def _raised(fn, kwargs):
    try:
        fn(**kwargs)
    except Exception as exc:  # the stock exception, with its context, is the contract
        return (type(exc).__name__, str(exc), type(exc.__context__).__name__, type(exc.__cause__).__name__,
                "NotAccelerated" in "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    raise AssertionError("no exception")


def test_a_handed_off_exception_has_the_stock_context(applied):
    """The hand-off used to call the original inside ``except NotAccelerated:``,
    so what the original raised carried NotAccelerated as its __context__:
    its traceback read "During handling of the above exception
    (NotAccelerated), another exception occurred", text LiteLLM's logging
    keeps in response_cost_failure_debug_information."""
    cases = [
        # completion_cost: an Azure deployment name the fast path declines after its checks
        (cc, "completion_cost", dict(completion_response=response("azure/my-deploy"))),
        # cost_per_token: a provider the fast path declines
        (cc, "cost_per_token", dict(model="my-unknown-model", prompt_tokens=3, completion_tokens=4,
                                    custom_llm_provider="anthropic")),
    ]
    for module, name, kwargs in cases:
        patched = getattr(module, name)
        try:
            patched.__fast_litellm_fast__(**copy.deepcopy(kwargs))
        except NotAccelerated:
            pass
        else:
            raise AssertionError("%s is meant to be declined by the fast path" % name)
        got = _raised(patched, copy.deepcopy(kwargs))
        with engine.unpatched():
            want = _raised(getattr(module, name), copy.deepcopy(kwargs))
        assert got == want, (name, got, want)
        assert want[2] == "NoneType" and not want[4]


def test_patched_functions_introspect_as_the_stock_ones(applied):
    """typing.get_type_hints of a patched function gave the hand-off
    wrapper's (*args, **kwargs) hints, and raised NameError for
    _get_token_base_cost; its signature, names and doc were already the
    original's."""
    for module, name in ((cc, "completion_cost"), (cc, "cost_per_token"), (cost_utils, "_get_token_base_cost")):
        patched = getattr(module, name)
        original = patched.__fast_litellm_original__
        assert patched is not original
        assert typing.get_type_hints(patched) == typing.get_type_hints(original), name
        assert patched.__annotations__ == original.__annotations__, name
        assert inspect.signature(patched) == inspect.signature(original), name
        for attr in ("__name__", "__qualname__", "__module__", "__doc__"):
            assert getattr(patched, attr) == getattr(original, attr), (name, attr)


def test_covered_cases_take_the_fast_path(applied):
    fast = cc.completion_cost.__fast_litellm_fast__
    r = response("gpt-4o", 5000, 200, prompt_tokens_details={"cached_tokens": 4000},
                 completion_tokens_details={"reasoning_tokens": 50})
    assert fast(completion_response=r) == cc.completion_cost.__fast_litellm_original__(completion_response=r)
    assert fast(completion_response=response("gpt-4o"), custom_llm_provider="azure") > 0
    assert cc.cost_per_token.__fast_litellm_fast__(model="gpt-4o-mini", prompt_tokens=50, completion_tokens=60)


def _both(kwargs):
    fast_value = cc.completion_cost(**kwargs)
    original_value = cc.completion_cost.__fast_litellm_original__(**kwargs)
    return repr(fast_value), repr(original_value)


def test_prices_are_read_afresh_after_register_model(applied):
    name = "fast-litellm-test-model"
    try:
        litellm.register_model({name: {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
                                       "litellm_provider": "openai", "mode": "chat"}})
        kwargs = dict(completion_response=response(name), custom_llm_provider="openai")
        first, stock_first = _both(kwargs)
        assert first == stock_first
        litellm.register_model({name: {"input_cost_per_token": 3e-6, "output_cost_per_token": 5e-6,
                                       "litellm_provider": "openai", "mode": "chat"}})
        second, stock_second = _both(kwargs)
        assert second == stock_second and second != first
    finally:
        litellm.model_cost.pop(name, None)
        litellm.utils._invalidate_model_cost_lowercase_map()


def test_direct_model_cost_mutation_matches_stock(applied):
    """Direct writes to litellm.model_cost (no register_model): whatever the
    stock code sees (it reads some prices through LiteLLM's own caches),
    the fast path sees too."""
    key = "gpt-4o-mini"
    saved = copy.deepcopy(litellm.model_cost[key])
    try:
        kwargs = dict(completion_response=response(key, 1000, 1000))
        before = _both(kwargs)
        assert before[0] == before[1]
        litellm.model_cost[key]["input_cost_per_token"] = 1.0
        after = _both(kwargs)
        assert after[0] == after[1]
        del litellm.model_cost[key]
        gone_fast = cc.completion_cost
        try:
            fast_outcome = ("ok", repr(gone_fast(**kwargs)))
        except Exception as exc:
            fast_outcome = ("raise", type(exc).__name__, str(exc))
        try:
            stock_outcome = ("ok", repr(gone_fast.__fast_litellm_original__(**kwargs)))
        except Exception as exc:
            stock_outcome = ("raise", type(exc).__name__, str(exc))
        assert fast_outcome == stock_outcome
    finally:
        litellm.model_cost[key] = saved
        litellm.utils._invalidate_model_cost_lowercase_map()


def test_bad_arguments_raise_what_the_stock_function_raises(applied):
    original = cc.completion_cost.__fast_litellm_original__
    for args, kwargs in [((), {"completion_response": response(), "bogus": 1}),
                         ((response(), "gpt-4o-mini", "", [], "", 0.0, None, "openai", None, None, None, None,
                           None, None, None, None, None, None, None, None, None, None, None, None, None, None,
                           "extra"), {})]:
        with pytest.raises(TypeError) as fast_error:
            cc.completion_cost(*args, **kwargs)
        with pytest.raises(TypeError) as stock_error:
            original(*args, **kwargs)
        assert type(fast_error.value) is type(stock_error.value)
        assert str(fast_error.value) == str(stock_error.value)
        assert _last_error() == (0, None)  # the original raised too: the caller's error, not ours


def test_cost_per_token_prices_the_audio_duration_as_stock(applied):
    """audio_transcription_file_duration reaches the per-second pricing of a
    completion call type (whisper-1: $0.0001/s): the fast path once priced
    it as 0 s and returned (0.0, 0.0)."""
    original = cc.cost_per_token.__fast_litellm_original__
    for kwargs in [dict(model="whisper-1", prompt_tokens=10, completion_tokens=5,
                        audio_transcription_file_duration=3.0),
                   dict(model="whisper-1", prompt_tokens=10, completion_tokens=5, custom_llm_provider="openai",
                        audio_transcription_file_duration=3.0),
                   dict(model="gpt-4o", prompt_tokens=10, completion_tokens=5, custom_llm_provider="azure",
                        audio_transcription_file_duration=2.5)]:
        expected = original(**kwargs)
        assert repr(cc.cost_per_token(**kwargs)) == repr(expected), kwargs
        fast = cc.cost_per_token.__fast_litellm_fast__(**kwargs)
        assert handed_off(fast) or repr(fast) == repr(expected), kwargs
    assert cc.cost_per_token(model="whisper-1", prompt_tokens=10, completion_tokens=5,
                             audio_transcription_file_duration=3.0)[0] > 0
