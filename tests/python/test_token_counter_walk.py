"""The two walks under the fast token_counter, against LiteLLM's own code:
the tools text (C and Python twins vs ``_format_function_definitions``) and
the message walk (C vs the Python twin), on many random inputs."""
from __future__ import annotations

import random

import pytest

pytest.importorskip("litellm")

from litellm.litellm_core_utils import token_counter as tc  # noqa: E402

from fast_litellm import _native_loader  # noqa: E402
from fast_litellm.patching.registry import NotAccelerated  # noqa: E402
from fast_litellm.token_counter._tools_text import make_formatter  # noqa: E402

import test_token_counter_cases as cases  # noqa: E402


def litellm_text(tools):
    try:
        return ("ok", tc._format_function_definitions(tools))
    except Exception as exc:  # noqa: BLE001
        return ("raised", type(exc))


@pytest.fixture
def formatter(impl):
    python_format = make_formatter(tc._function_definitions_for_tool)
    if impl == "python":
        return python_format
    native_format = _native_loader.NATIVE._tc_format_tools

    def both(tools):
        text = native_format(tools)
        both.covered += text is not None
        return python_format(tools) if text is None else text

    both.covered = 0
    return both


def test_tools_text_matches_litellm(formatter):
    rng = random.Random(42)
    for _ in range(3000):
        tools = [cases.tool(rng, i) for i in range(rng.randint(0, 6))]
        expected = litellm_text(tools)
        try:
            got = ("ok", formatter(tools))
        except Exception as exc:  # noqa: BLE001
            got = ("raised", type(exc))
        assert got == expected, tools
    if hasattr(formatter, "covered"):
        assert formatter.covered > 1000


def test_tools_text_fixed_cases(formatter):
    weird = [
        [],
        ["junk", 5, None],
        [{"type": "function", "function": {"name": "f"}}],
        [{"type": "function", "function": {"name": "f", "parameters": {"properties": {}}}}],
        [{"type": "function", "function": {"name": "", "parameters": {"properties": {"a": {}}}}}],
        [{"type": "function", "function": {"name": 5, "description": 0.5,
                                           "parameters": {"type": "object", "properties": {
                                               1: {"type": "integer", "enum": [1, True, None, 2.5]},
                                               "deep": {"type": "object", "properties": {
                                                   "deeper": {"type": "array", "items": {
                                                       "type": "object", "properties": {"x": {"type": "null"}},
                                                       "required": ["x"]}}}}},
                                               "required": [1, "deep"]}}}],
        ({"type": "function", "function": {"name": "t", "parameters": "notadict"}},),
        [{"type": "function", "function": {"name": "lone\ud800surrogate", "description": "d\udfff",
                                           "parameters": {"properties": {"k\ud800": {"type": "string"}}}}}],
    ]
    deep = {"type": "string"}
    for _ in range(150):
        deep = {"type": "object", "properties": {"n": deep}}
    weird.append([{"type": "function", "function": {"name": "deep", "parameters": deep}}])
    for tools in weird:
        expected = litellm_text(tools)
        try:
            got = ("ok", formatter(tools))
        except Exception as exc:  # noqa: BLE001
            got = ("raised", type(exc))
        assert got == expected, tools


def test_native_message_walk_matches_python_walk():
    if _native_loader.NATIVE is None:
        pytest.skip("native core not built")
    from fast_litellm.token_counter import implementation

    native = implementation("native").make_fast_token_counter(tc.token_counter)
    python = implementation("python").make_fast_token_counter(tc.token_counter)
    walk = _native_loader.NATIVE._tc_walk_messages
    rng = random.Random(9)
    covered = 0
    for _ in range(3000):
        kwargs = cases.call_kwargs(rng)
        if "messages" in kwargs:
            covered += walk(kwargs["messages"], len, 3, 1) is not None
        outcomes = []
        for fn in (native, python):
            try:
                outcomes.append(("ok", fn(**kwargs)))
            except NotAccelerated:
                outcomes.append(("handed off",))
            except Exception as exc:  # noqa: BLE001
                outcomes.append(("raised", type(exc), str(exc)))
        assert outcomes[0] == outcomes[1], kwargs
    assert covered > 1000


@pytest.mark.parametrize("chunk,max_exact", [(1024, 2_000_000), (7, 2_000_000), (1, 50), (300, 200), (5000, 100)])
def test_native_tools_count_matches_counting_the_text(chunk, max_exact):
    """_tc_count_tools (text built and counted chunk by chunk from its UTF-8
    buffer) == counting _tc_format_tools' text in chunk-character slices, as
    LiteLLM's count does; a text longer than max_exact comes back as the text."""
    if _native_loader.NATIVE is None:
        pytest.skip("native core not built")
    from fast_litellm.token_counter._encoding import raw_counter

    native = _native_loader.NATIVE
    raw = raw_counter("o200k_base")
    if raw is None:
        pytest.skip("fast_litellm tokenizer unavailable")
    rng = random.Random(chunk)
    counted = returned_text = 0
    for _ in range(400):
        tools = [cases.tool(rng, i) for i in range(rng.randint(0, 6))]
        if rng.random() < 0.3:  # multi-byte text across chunk edges
            tools.append({"type": "function", "function": {
                "name": "f\u00e9\u4e2d\U0001F600" * rng.randint(1, 40), "description": "\u00fc\U0001F4A9x " * rng.randint(0, 300),
                "parameters": {"properties": {"\u00e9k": {"type": "string", "description": "\u4e2d" * 50}}}}})
        text = native._tc_format_tools(tools)
        got = native._tc_count_tools(tools, raw, chunk, max_exact)
        if text is None:
            assert got is None, tools
        elif len(text) > max_exact:
            returned_text += 1
            assert got == text
        else:
            counted += 1
            assert got == sum(raw(text[i:i + chunk], None, None) for i in range(0, len(text), chunk)), tools
    assert counted > (100 if max_exact > 10_000 else 0)
    assert max_exact > 10_000 or returned_text > 100


def test_native_tools_count_bad_args():
    if _native_loader.NATIVE is None:
        pytest.skip("native core not built")
    count_tools = _native_loader.NATIVE._tc_count_tools
    with pytest.raises(TypeError):
        count_tools([])
    with pytest.raises(ValueError):
        count_tools([], len, 0, 10)
    assert count_tools("not a list", len, 10, 10) is None
