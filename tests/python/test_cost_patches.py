"""The cost patches through the engine: pins, application and removal,
the flag, hand-off to the original, and prices read afresh after
``litellm.model_cost`` changes (register_model or direct mutation)."""
from __future__ import annotations

import copy
import inspect
import traceback
import typing

import pytest

litellm = pytest.importorskip("litellm")

import litellm.cost_calculator as cc  # noqa: E402
from litellm.litellm_core_utils.llm_cost_calc import utils as cost_utils  # noqa: E402
from litellm.types.utils import ModelResponse, Usage  # noqa: E402

from fast_litellm import flags  # noqa: E402
from fast_litellm.cost import FLAG, patches  # noqa: E402
from fast_litellm.cost._completion import HAND_OFF  # noqa: E402
from fast_litellm.patching import engine, guards, pins  # noqa: E402
from fast_litellm.patching.registry import NotAccelerated, all_patches  # noqa: E402

OURS = [p for p in all_patches() if p.component == "cost"]
NAMES = {"cost.completion_cost", "cost.cost_per_token", "cost.token_base_cost"}


def response(model="gpt-4o-mini", prompt=50, completion=60, **usage_extra):
    r = ModelResponse(id="chatcmpl-x", created=1700000000, model=model,
                      usage=Usage(prompt_tokens=prompt, completion_tokens=completion,
                                  total_tokens=prompt + completion, **usage_extra))
    return r


@pytest.fixture
def applied():
    engine.apply_acceleration()
    status = engine.get_patch_status()["patches"]
    assert all(status[n]["applied"] for n in NAMES), {n: status[n]["reason"] for n in NAMES}
    yield
    engine.apply_acceleration()


def test_patches_are_declared_and_pinned():
    assert {p.name for p in OURS} == NAMES
    for patch in OURS:
        assert patch.flag == FLAG == "native_cost_calculation"
        assert patch.wrap is False  # see patches.hand_off
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


def test_flag_off_removes_the_patches(applied):
    try:
        flags.set_feature(FLAG, False)
        status = engine.get_patch_status()["patches"]
        assert not any(status[n]["applied"] for n in NAMES)
        assert not hasattr(cc.completion_cost, "__fast_litellm_original__")
    finally:
        flags.set_feature(FLAG, True)
        engine.apply_acceleration()
    assert hasattr(cc.completion_cost, "__fast_litellm_original__")


def test_rollout_leaves_the_stock_functions(applied):
    try:
        flags.set_feature(FLAG, "canary:50")
        assert not hasattr(cc.completion_cost, "__fast_litellm_original__")
    finally:
        flags.set_feature(FLAG, True)
        engine.apply_acceleration()


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
            assert fast(**copy.deepcopy(kwargs)) is HAND_OFF
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
        assert fast is HAND_OFF or repr(fast) == repr(expected), kwargs
    assert cc.cost_per_token(model="whisper-1", prompt_tokens=10, completion_tokens=5,
                             audio_transcription_file_duration=3.0)[0] > 0
