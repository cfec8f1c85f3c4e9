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
    for _ in range(30):  # 60 of LiteLLM's recursion frames: still formatted here
        deep = {"type": "object", "properties": {"n": deep}}
    weird.append([{"type": "function", "function": {"name": "deep", "parameters": deep}}])
    for tools in weird:
        expected = litellm_text(tools)
        try:
            got = ("ok", formatter(tools))
        except Exception as exc:  # noqa: BLE001
            got = ("raised", type(exc))
        assert got == expected, tools


def _nested_tools(levels):
    schema = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"x": schema}}
    return [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"a": schema}}}}]


def test_deep_schemas_are_left_to_litellm(formatter):
    """LiteLLM's formatter recurses (two frames per object level) and raises
    RecursionError on a deep enough schema; ours started a few frames
    shallower and answered there (a 494-level schema: LiteLLM raised, the
    fast token_counter counted 4528).  Past MAX_DEPTH frames both twins
    decline, so LiteLLM formats (or fails on) it itself."""
    from fast_litellm.token_counter._tools_text import MAX_DEPTH

    assert formatter(_nested_tools(MAX_DEPTH // 2 - 1)).startswith("namespace functions")
    for levels in (MAX_DEPTH // 2, 150, 494):
        with pytest.raises(NotAccelerated):
            formatter(_nested_tools(levels))


def test_tools_are_declined_near_the_recursion_limit(impl):
    """With the caller's stack near the recursion limit, LiteLLM's tools
    formatting raises RecursionError where ours (fewer frames, or C) would
    count: the fast token_counter declines there."""
    from fast_litellm.token_counter import implementation

    fast = implementation(impl).make_fast_token_counter(tc.token_counter)
    kwargs = dict(model="gpt-4o", messages=[{"role": "user", "content": "hi"}], tools=_nested_tools(20))
    assert fast(**kwargs) == tc.token_counter(**kwargs)

    def at_depth(n, fn):
        if n > 0:
            return at_depth(n - 1, fn)
        try:
            return ("ok", fn(**kwargs))
        except NotAccelerated:
            return ("declined",)
        except RecursionError:
            return ("RecursionError",)

    import sys

    here, frame = 0, sys._getframe()
    while frame is not None:
        here, frame = here + 1, frame.f_back
    limit = sys.getrecursionlimit()
    outcomes = []
    for depth in range(limit - 260, limit - 20, 10):  # the caller's stack depth
        stock, got = at_depth(depth - here, tc.token_counter), at_depth(depth - here, fast)
        assert got == ("declined",) or got == stock, (depth, stock, got)
        outcomes.append(stock[0])
    assert "RecursionError" in outcomes and "ok" in outcomes  # the sweep crosses LiteLLM's limit


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


def test_native_chunked_count_matches_litellm_chunking():
    """_tc_count_chunks (the tools text and ``text=`` in one C call) vs
    LiteLLM's own chunked count over tiktoken, on texts around the chunk
    boundaries, non-ASCII, special-token text; None for lone surrogates."""
    if _native_loader.NATIVE is None:
        pytest.skip("native core not built")
    import tiktoken

    from fast_litellm.token_counter import _encoding

    count_chunks = _native_loader.NATIVE._tc_count_chunks
    rng = random.Random(5)
    alphabet = "ab cd\n\t  é中🙂<|endoftext|>123,.;{}"
    for name in ("cl100k_base", "o200k_base"):
        raw = _encoding.raw_counter(name)
        raw_batch = _encoding.raw_batch_counter(name)
        if raw is None or raw_batch is None:
            pytest.skip("fast_litellm tokenizer not available")
        encoding = tiktoken.get_encoding(name)
        for chunk in (1, 7, 1024):
            litellm_count = tc._get_tiktoken_count_function(
                lambda text: len(encoding.encode(text, disallowed_special=())), chunk)
            lengths = [0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 3 * chunk + 5] + [rng.randint(0, 4000) for _ in range(15)]
            for n in lengths:
                text = "".join(rng.choice(alphabet) for _ in range(max(n, 0)))
                if chunk == 1 and n > 300:
                    text = text[:300]
                assert count_chunks(text, raw, raw_batch, chunk) == litellm_count(text), (name, chunk, n)
        assert count_chunks("a\ud800b" * 600, raw, raw_batch, 1024) is None
        assert count_chunks("a\ud800b", raw, raw_batch, 1024) is None
    with pytest.raises(TypeError):
        count_chunks(b"bytes", raw, raw_batch, 1024)
    with pytest.raises(ValueError):
        count_chunks("text", raw, raw_batch, 0)


def test_native_plan_check():
    """_tc_plan_current: True while each table is the same object with the
    same size and the cost-map entries are unchanged; False on any change;
    None (the Python check decides) for shapes it does not read."""
    if _native_loader.NATIVE is None:
        pytest.skip("native core not built")
    check = _native_loader.NATIVE._tc_plan_current
    entry = {"litellm_provider": "openai", "mode": "chat"}
    cost = {"m": entry}
    tables = (cost, {"a"}, {"b": 1}, {"c"}, frozenset())
    names = {"model_cost": cost, "open_ai_chat_completion_models": tables[1], "azure_llms": tables[2],
             "anthropic_models": tables[3], "cohere_models": tables[4]}
    sizes = (1, 1, 1, 1, 0)
    entries = (("m", entry, ("openai", "chat", None)), ("azure/m", None, None))
    assert check(names, tables, sizes, entries) is True
    tables[1].add("x")
    assert check(names, tables, sizes, entries) is False
    tables[1].discard("x")
    entry["mode"] = "embedding"
    assert check(names, tables, sizes, entries) is False
    entry["mode"] = "chat"
    cost["azure/m"] = {}
    assert check(names, tables, sizes, entries) is False
    del cost["azure/m"]
    assert check(dict(names, azure_llms={"b": 1}), tables, sizes, entries) is False
    assert check({k: v for k, v in names.items() if k != "cohere_models"}, tables, sizes, entries) is None
    as_list = []
    assert check(dict(names, cohere_models=as_list), tables[:4] + (as_list,), sizes, entries) is None
    entry["mode"] = ["not", "plain"]
    assert check(names, tables, sizes, entries) is None
    entry["mode"] = "chat"
    assert check(names, tables, sizes, entries) is True


_EVIL_KEYS = r'''
import gc, sys
from fast_litellm import _native_loader
N = _native_loader.NATIVE
def evil(holder, like):
    class Evil(str):  # hashes as one of the keys the walks look up; its __eq__ frees the input
        def __hash__(self):
            return hash(like)
        def __eq__(self, other):
            holder.clear()
            holder.extend([None] * 2)
            gc.collect()
            return False
    return Evil
out = []
tools = []
E = evil(tools, "function")
tools.extend({"type": "function", E("x%d" % i): 1,
              "function": {"name": "f%d" % i, "description": "d" * 50}} for i in range(50))
out.append(N._tc_format_tools(tools))
blocks = []
E = evil(blocks, "type")
blocks.extend({E("k%d" % i): 1, "type": "text", "text": "hello " * 20} for i in range(50))
out.append(N._tc_walk_messages([{"role": "user", "content": blocks}], len, 3, 1))
calls = []
E = evil(calls, "function")
calls.extend({E("k%d" % i): 1, "function": {"name": "f", "arguments": "{}" * 20}} for i in range(50))
out.append(N._tc_walk_messages([{"role": "assistant", "tool_calls": calls}], len, 3, 1))
print(out)
'''


def test_native_walks_decline_keys_that_run_code():
    """A dict key other than an exact str is user code (its __eq__ runs in a
    hash lookup): the C walks decline such dicts instead of looking them up.
    One that cleared the list being walked made them read freed memory
    (a segfault under PYTHONMALLOC=debug)."""
    if _native_loader.NATIVE is None:
        pytest.skip("native core not built")
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONMALLOC="debug")
    run = subprocess.run([sys.executable, "-c", _EVIL_KEYS], capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "[None, None, None]"
