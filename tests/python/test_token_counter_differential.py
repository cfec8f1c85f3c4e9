"""Differential proof: the fast token_counter returns exactly what LiteLLM
1.110.2's returns (or raises the same exception type and message), on
hand-written fixtures and on thousands of random conversations.

The fast function is exercised the way the patch engine calls it: on
NotAccelerated the original handles the call.  Each test also checks that
the fast path really answered the plain cases itself.
"""
from __future__ import annotations

import copy
import inspect
import logging
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

litellm = pytest.importorskip("litellm")

import litellm.utils as litellm_utils  # noqa: E402
from litellm.litellm_core_utils import token_counter as tc  # noqa: E402

from fast_litellm.patching.registry import NotAccelerated  # noqa: E402
from fast_litellm.token_counter import make_fast_token_counter  # noqa: E402

import test_token_counter_cases as cases  # noqa: E402

# ``import fast_litellm`` may have patched LiteLLM already: the engine's
# wrapper keeps the original as ``__wrapped__``.
ORIGINAL = inspect.unwrap(tc.token_counter)
REPO = Path(__file__).resolve().parents[2]


class Accelerated:
    """The fast function with the engine's NotAccelerated fallback, counting
    how many calls the fast path answered itself."""

    def __init__(self, kind: str = "native") -> None:
        from fast_litellm.token_counter import implementation

        self.fast = implementation(kind).make_fast_token_counter(ORIGINAL)
        self.answered = 0
        self.handed_off = 0

    def __call__(self, *args, **kwargs):
        try:
            result = self.fast(*args, **kwargs)
        except NotAccelerated:
            self.handed_off += 1
            return ORIGINAL(*args, **kwargs)
        self.answered += 1
        return result


def outcome(fn, kwargs):
    try:
        return ("ok", fn(**kwargs))
    except Exception as exc:  # noqa: BLE001 - comparing exceptions is the point
        return ("raised", type(exc), str(exc))


def assert_same(accel, kwargs):
    before = copy.deepcopy(kwargs)
    expected = outcome(ORIGINAL, kwargs)
    got = outcome(accel, kwargs)
    assert got == expected, "inputs: %r" % (kwargs,)
    assert kwargs == before, "inputs were mutated"


@pytest.fixture
def accel(impl):
    return Accelerated(impl)


@pytest.fixture(autouse=True)
def _quiet_litellm():
    old = (litellm.set_verbose, litellm.disable_token_counter, litellm.disable_hf_tokenizer_download)
    yield
    litellm.set_verbose, litellm.disable_token_counter, litellm.disable_hf_tokenizer_download = old


SHORT_CHAT = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "Paris is the capital of France."},
]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "enum": [1, 3, 7]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "opts": {"type": "object", "properties": {"verbose": {"type": "boolean"},
                                                          "level": {"type": "number"}},
                         "required": ["verbose"]},
                "anything": {},
            },
            "required": ["location"],
        },
    },
}

FIXTURES = [
    dict(model="gpt-3.5-turbo", messages=SHORT_CHAT),
    dict(model="gpt-4o", messages=SHORT_CHAT),
    dict(model="gpt-3.5-turbo-0301", messages=SHORT_CHAT + [{"role": "user", "name": "bob", "content": "hi"}]),
    dict(model="gpt-4o", messages=SHORT_CHAT, tools=[WEATHER_TOOL], tool_choice="auto"),
    dict(model="gpt-4o", messages=SHORT_CHAT[1:], tools=[WEATHER_TOOL],
         tool_choice={"type": "function", "function": {"name": "get_current_weather"}}),
    dict(model="gpt-4o", messages=SHORT_CHAT, tools=[WEATHER_TOOL], tool_choice="none"),
    dict(model="gpt-4o", messages=[{"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "get_current_weather",
                                                       "arguments": '{"location": "Boston, MA"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "72F and sunny"}]),
    dict(model="gpt-4o", messages=[{"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}}]),
    dict(model="gpt-4o", messages=[{"role": "user", "content": [
        {"type": "text", "text": "What's in this image?"},
        {"type": "image_url", "image_url": {"url": "https://example.invalid/a.png", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": cases.png_data_url(1024, 768)}},
        {"type": "image_url", "image_url": {"url": cases.png_data_url(4096, 2048), "detail": "high"}},
        {"type": "image_url", "image_url": "https://example.invalid/b.png"},
    ]}]),
    dict(model="gpt-4o", messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.invalid/a.png", "detail": "high"}}]}],
         use_default_image_token_count=True),
    dict(model="gpt-4o", text="hello <|endoftext|> world"),
    dict(model="gpt-4o", text=["a", 1, "b", None, "c"]),
    dict(model="gpt-4o", text=""),
    dict(model=None, text="default encoding"),
    dict(model="gpt-4o", text="x", tools=[WEATHER_TOOL]),
    dict(model="gpt-4o", text="x", messages=[]),
    dict(model="gpt-4o"),
    dict(model="gpt-4o", messages=[]),
    dict(model="gpt-4o", messages=[], count_response_tokens=True),
    dict(model="gpt-4o", messages=SHORT_CHAT, count_response_tokens=None, tools=[WEATHER_TOOL]),
    dict(model="gpt-4o", messages=["not a dict"]),
    dict(model="gpt-4o", messages=[{"role": "assistant", "tool_calls": "oops"}]),
    dict(model="gpt-4o", messages=[{"role": "assistant", "tool_calls": [{"id": "x"}]}]),
    dict(model="gpt-4o", messages=[{"role": "user", "content": [{"type": "nope"}]}]),
    dict(model="gpt-4o", messages=[{"role": "user", "content": [{"type": "nope"}]}], default_token_count=11),
    dict(model="deepseek-v4", messages=SHORT_CHAT, tools=[WEATHER_TOOL], tool_choice="none"),
    dict(model="xai/grok-4-1", messages=SHORT_CHAT, tools=[WEATHER_TOOL],
         tool_choice={"type": "function", "function": {"name": "get_current_weather"}}),
    dict(model="qwen3.5-72b", messages=SHORT_CHAT[1:], tools=[WEATHER_TOOL]),
    dict(model="claude-3-5-sonnet-20240620", messages=SHORT_CHAT),
    dict(model="gpt-4o", messages=[{"role": "user", "content": "x" * 5000 + " y" * 3000}]),
    dict(model="gpt-4o", messages=[{"role": "user", "content": [
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "doc text"}}]}]),
    dict(model="gpt-4o", messages=[{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t", "content": "result"}]}]),
    dict(model=5, messages=SHORT_CHAT),
]


@pytest.mark.parametrize("kwargs", FIXTURES, ids=range(len(FIXTURES)))
def test_fixtures(accel, kwargs):
    assert_same(accel, kwargs)


def test_plain_chats_are_answered_by_the_fast_path(accel):
    for model in ["gpt-4o", "gpt-3.5-turbo", "openai/gpt-4o-mini", "azure/gpt-35-turbo", "unknown", "", None]:
        assert_same(accel, dict(model=model, messages=SHORT_CHAT, tools=[WEATHER_TOOL], tool_choice="auto"))
        assert_same(accel, dict(model=model, text="some text"))
    assert accel.handed_off == 0 and accel.answered == 14


def test_positional_arguments(accel):
    args = ("gpt-4o", None, None, SHORT_CHAT, False, [WEATHER_TOOL], "none", False, None)
    assert accel(*args) == ORIGINAL(*args)
    assert accel.answered == 1


@pytest.mark.parametrize("seed", range(3))
def test_random_conversations(accel, seed):
    rng = random.Random(1000 + seed)
    for _ in range(450):
        assert_same(accel, cases.call_kwargs(rng))
    # most random inputs are ordinary; the fast path must carry them
    assert accel.answered > accel.handed_off


def test_pydantic_messages(accel):
    from litellm.types.utils import ChatCompletionMessageToolCall, Function, Message

    msgs = [
        {"role": "user", "content": "weather?"},
        Message(role="assistant", content=None, tool_calls=[ChatCompletionMessageToolCall(
            id="c1", type="function", function=Function(name="get_current_weather", arguments='{"a": 1}'))]),
        Message(role="assistant", content="plain"),
    ]
    for model in ["gpt-4o", "gpt-3.5-turbo"]:
        assert_same(accel, dict(model=model, messages=msgs, tools=[WEATHER_TOOL]))
        assert_same(accel, dict(model=model, messages=tuple(msgs[1:])))
        assert_same(accel, dict(model=model, messages=[Message(role="assistant", content="answer"),
                                                       {"role": "user", "content": [{"type": "text", "text": "a"}]}]))
    assert accel.answered == 6  # converted by LiteLLM's own helper, then walked
    assert_same(accel, dict(model="gpt-4o", messages=[Message(role="user", content="x"), "not a message"]))


def test_disable_token_counter(accel):
    litellm.disable_token_counter = True
    assert_same(accel, dict(model="gpt-4o", messages=SHORT_CHAT))
    assert_same(accel, dict(model="gpt-4o", text=5, messages=[]))
    assert accel.answered == 2


def test_verbose_and_debug_are_handed_to_the_original(accel, capsys):
    litellm.set_verbose = True
    assert_same(accel, dict(model="unknown-model", messages=SHORT_CHAT))
    litellm.set_verbose = False
    logger = tc.verbose_logger
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        assert_same(accel, dict(model="gpt-4o", messages=SHORT_CHAT))
    finally:
        logger.setLevel(level)
    assert accel.answered == 0 and accel.handed_off == 2


def test_hf_download_switch(accel):
    for disabled in (False, True):
        litellm.disable_hf_tokenizer_download = disabled
        for model in ["claude-sonnet-4-5", "deepseek-chat", "gpt-4o"]:
            assert_same(accel, dict(model=model, messages=SHORT_CHAT, tools=[WEATHER_TOOL]))


def test_model_tables_edits_are_seen(accel):
    """Plans are cached per model string; editing LiteLLM's tables must
    change the fast result exactly as it changes the original's."""
    model_cost = litellm.model_cost
    saved = {k: model_cost.get(k) for k in ("azure/my-gpt-deploy", "my-gpt-deploy", "gpt-4o", "azure/gpt-4o")}
    saved_chat = set(litellm.open_ai_chat_completion_models)
    kwargs = lambda m: dict(model=m, messages=SHORT_CHAT, tools=[WEATHER_TOOL])  # noqa: E731
    try:
        for model in ["azure/my-gpt-deploy", "my-gpt-deploy", "gpt-4o", "azure/gpt-4o"]:
            assert_same(accel, kwargs(model))
        # a new Azure chat model under a deployment name
        litellm.register_model({"azure/my-gpt-deploy": {"litellm_provider": "azure", "mode": "chat",
                                                        "input_cost_per_token": 1e-6}})
        for model in ["azure/my-gpt-deploy", "my-gpt-deploy"]:
            assert_same(accel, kwargs(model))
        # an in-place edit of an existing entry (same dict object)
        entry = model_cost["gpt-4o"]
        if isinstance(entry, dict):
            old_mode = entry.get("mode")
            entry["mode"] = "embedding"
            assert_same(accel, kwargs("gpt-4o"))
            assert_same(accel, kwargs("azure/gpt-4o"))
            entry["mode"] = old_mode
        assert_same(accel, kwargs("gpt-4o"))
        # the whole map replaced (a cost-map reload), then edited
        litellm.model_cost = dict(model_cost)
        assert_same(accel, kwargs("azure/my-gpt-deploy"))
        litellm.model_cost.pop("azure/my-gpt-deploy", None)
        assert_same(accel, kwargs("azure/my-gpt-deploy"))
        assert_same(accel, kwargs("my-gpt-deploy"))
        litellm.model_cost = model_cost
        # a model added to the OpenAI chat list
        litellm.open_ai_chat_completion_models.add("my-gpt-deploy")
        assert_same(accel, kwargs("my-gpt-deploy"))
        assert_same(accel, dict(model="my-gpt-deploy", text="some text"))
    finally:
        litellm.model_cost = model_cost
        for k, v in saved.items():
            if v is None:
                model_cost.pop(k, None)
            else:
                model_cost[k] = v
        litellm.open_ai_chat_completion_models.clear()
        litellm.open_ai_chat_completion_models.update(saved_chat)


def test_high_detail_url_is_handed_to_the_original(accel, monkeypatch):
    """LiteLLM fetches a high-detail image URL; the fast path must not."""
    fetched = []
    monkeypatch.setattr(tc, "get_image_dimensions", lambda data: fetched.append(data) or (1024, 1024))
    kwargs = dict(model="gpt-4o", messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.invalid/x.png", "detail": "high"}}]}])
    with pytest.raises(NotAccelerated):
        accel.fast(**kwargs)
    assert fetched == []
    assert accel(**kwargs) == ORIGINAL(**kwargs)


def test_non_default_chunk_and_extrapolation_constants():
    """LiteLLM's chunking and sampling extrapolation, with the constants
    small enough to exercise both on small inputs (fresh interpreter: the
    constants are read at import)."""
    code = textwrap.dedent(
        """
        import random, sys
        sys.path.insert(0, %r)
        import inspect
        import litellm
        from litellm.litellm_core_utils import token_counter as tc
        original = inspect.unwrap(tc.token_counter)
        from fast_litellm.patching.registry import NotAccelerated
        from fast_litellm.token_counter import make_fast_token_counter
        import test_token_counter_cases as cases
        fast = make_fast_token_counter(original)
        rng = random.Random(7)
        answered = 0
        for i in range(300):
            kw = dict(model=rng.choice(["gpt-4o", "gpt-3.5-turbo", None]),
                      text=cases.text(rng, 200) * rng.randint(1, 5))
            if i %% 2:
                kw = dict(model=kw["model"], messages=[{"role": "user", "content": kw["text"]}])
            expected = original(**kw)
            try:
                got = fast(**kw)
                answered += 1
            except NotAccelerated:
                continue
            assert got == expected, (kw, got, expected)
        assert answered == 300, answered
        print("ok")
        """
    ) % (str(Path(__file__).parent),)
    env = dict(os.environ, TIKTOKEN_ENCODE_CHUNK_SIZE_CHARS="7", TOKEN_COUNTER_MAX_EXACT_CHARS="100",
               PYTHONPATH=os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-3000:]


def test_utils_wrapper_matches(accel):
    """litellm.utils.token_counter (what litellm.token_counter is) and the
    core function agree, so one fast function serves both bindings."""
    import fast_litellm

    assert litellm.token_counter is litellm_utils.token_counter
    utils_original = inspect.unwrap(litellm_utils.token_counter)
    was_patched = litellm_utils.token_counter is not utils_original
    try:
        fast_litellm.remove_acceleration()  # the wrapper calls the core through its module
    except NotImplementedError:
        pass
    try:
        for kwargs in FIXTURES[:8]:
            assert outcome(utils_original, kwargs) == outcome(accel, kwargs)
    finally:
        if was_patched:
            fast_litellm.apply_acceleration()


def test_through_the_patch_engine():
    """The patched litellm.token_counter (engine wrapper, flag, fallback)
    answers as the original on random inputs, and the fast path never
    failed in a way the engine had to absorb (no errors on the flag)."""
    import fast_litellm

    try:
        fast_litellm.apply_acceleration()
    except NotImplementedError:
        pytest.skip("patch engine not merged yet")
    fast_litellm.reset_errors("rust_token_counting")
    patched = litellm.token_counter
    assert patched is not inspect.unwrap(patched), fast_litellm.get_patch_status()
    rng = random.Random(77)
    for _ in range(400):
        kwargs = cases.call_kwargs(rng)
        assert outcome(patched, kwargs) == outcome(ORIGINAL, kwargs), kwargs
    status = fast_litellm.get_feature_status()["rust_token_counting"]
    assert status["errors"] == 0, status


class _Tripwire(list):
    """A message list that records any look at its contents."""

    touched = 0

    def __iter__(self):
        _Tripwire.touched += 1
        return super().__iter__()

    def __len__(self):
        _Tripwire.touched += 1
        return super().__len__()


def test_hand_off_is_decided_from_the_model_alone(accel):
    """A model LiteLLM counts with a Hugging Face tokenizer is handed to the
    original before the fast path reads anything else of the call."""
    litellm.disable_hf_tokenizer_download = False
    model = "claude-sonnet-4-5"
    assert_same(accel, dict(model=model, messages=SHORT_CHAT))  # plan cached
    messages = _Tripwire(SHORT_CHAT)
    _Tripwire.touched = 0
    with pytest.raises(NotAccelerated):
        accel.fast(model=model, messages=messages, tools=[WEATHER_TOOL], custom_tokenizer=None)
    assert _Tripwire.touched == 0
    with pytest.raises(NotAccelerated):
        accel.fast(model, None, "some text")


def test_hand_off_decision_follows_litellm_tables(accel):
    """The cached hand-off decision is re-derived when the tables LiteLLM's
    huggingface_tokenizer_kind reads change, or the download switch flips."""
    litellm.disable_hf_tokenizer_download = False
    anthropic = litellm.anthropic_models
    saved = set(anthropic)
    model = "my-private-claude"
    kwargs = dict(model=model, messages=SHORT_CHAT, tools=[WEATHER_TOOL])
    try:
        assert_same(accel, kwargs)
        assert accel.answered == 1
        anthropic.add(model)  # now an Anthropic-tokenizer model: handed off
        assert_same(accel, kwargs)
        assert accel.handed_off == 1
        anthropic.discard(model)  # and back
        assert_same(accel, kwargs)
        assert accel.answered == 2
        anthropic.add(model)
        assert_same(accel, kwargs)
        # a new table object of the same size without the model
        litellm.anthropic_models = set(anthropic) - {model} | {"claude-someone-else"}
        assert_same(accel, kwargs)
        assert accel.answered == 3
        litellm.anthropic_models = anthropic
        assert_same(accel, kwargs)  # handed off again
        assert (accel.answered, accel.handed_off) == (3, 3)
        # the download switch: with it on, LiteLLM counts Claude with tiktoken
        for model in ["claude-sonnet-4-5", "deepseek-chat"]:
            answered = accel.answered
            for disabled in (False, True, False, 1):
                litellm.disable_hf_tokenizer_download = disabled
                assert_same(accel, dict(model=model, messages=SHORT_CHAT))
            assert accel.answered == answered + 1
    finally:
        litellm.anthropic_models = anthropic
        anthropic.clear()
        anthropic.update(saved)
