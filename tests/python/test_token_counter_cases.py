"""Input generators (no tests here) for the token_counter differential
tests: random conversations, tools and arguments for
``litellm.token_counter``, seeded and reproducible."""
from __future__ import annotations

import base64
import random
import struct
import zlib
from typing import Any, Dict, List

MODELS = [
    "gpt-4o", "gpt-4o-mini", "gpt-4o-2024-08-06", "gpt-4", "gpt-4-0613", "gpt-3.5-turbo",
    "gpt-3.5-turbo-0301", "gpt-3.5-turbo-16k", "gpt-4.1", "gpt-4.1-mini", "gpt-5", "gpt-5-mini",
    "o1", "o1-mini", "o3-mini", "o4-mini", "chatgpt-4o-latest", "gpt-oss-120b",
    "openai/gpt-4o", "openai/gpt-5.9", "openai/gpt-6.2", "openai/o1-mini",
    "azure/gpt-35-turbo", "azure/gpt-4o", "azure/eu/gpt-4o", "azure/gpt-41", "azure/my-deployment",
    "azure_ai/gpt-4o", "gpt-35-turbo", "gpt-35-turbo-instruct",
    "openrouter/openai/gpt-4o", "ft:gpt-3.5-turbo:my-org:custom:id", "ft:gpt-4o-mini-2024-07-18:org::x",
    "text-embedding-ada-002", "text-embedding-ada-002-v2", "text-embedding-3-small",
    "davinci-002", "babbage-002", "text-davinci-003", "code-davinci-002", "text-davinci-edit-001", "gpt2",
    "unknown-model", "my-company/private-model", "", None, "GPT-4O",
    "claude-3-5-sonnet-20240620", "anthropic/claude-3-haiku-20240307", "claude-sonnet-4-5",
    "deepseek-chat", "deepseek/deepseek-v4", "deepseek-v4.1", "qwen3.5-72b", "qwen/qwen3_5",
    "xai/grok-4-1", "grok-4.3", "gemini/gemini-1.5-pro", "vertex_ai/gemini-2.0-flash",
    "mistral/mistral-large-latest", "bedrock/anthropic.claude-v2", "groq/llama3-70b-8192",
    "together_ai/meta-llama/Llama-3-70b-chat-hf", "command-r", "cohere/command-r-plus",
]

WORDS = [
    "hello", "world", "the", "quick", "brown", "fox", "token", "counter", "  ", "\n", "\n\n", "\t",
    "ünïcödé", "日本語", "中文字符", "🙂", "👩‍👩‍👧", "👍🏽", "مرحبا", "שלום", "Ελληνικά", "e\u0301",
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|fim_prefix|>", "<|endofprompt|>",
    "1234567890", "3.14159", "lone\ud800surrogate", "don't", "I'm", "we'll", "https://example.com/a?b=c", "{\"a\": 1}",
    "    def f(x):\n        return x", "!!!", "...", "—", "\u00a0", "\u200b", "\r\n", "ＡＢＣ",
]

SPECIAL_TEXT = ["<|endoftext|>", "<|endoftext|><|endoftext|>", "a<|im_start|>b", "<|fim_middle|>"]


def png_data_url(width: int, height: int) -> str:
    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", width, height)
    body = header + b"\x08\x02\x00\x00\x00" + struct.pack(">I", zlib.crc32(header[12:]) & 0xFFFFFFFF)
    return "data:image/png;base64," + base64.b64encode(body + b"\x00" * 16).decode()


def gif_data_url(width: int, height: int) -> str:
    body = b"GIF89a" + struct.pack("<HH", width, height) + b"\x00" * 20
    return "data:image/gif;base64," + base64.b64encode(body).decode()


def text(rng: random.Random, max_words: int = 30) -> str:
    roll = rng.random()
    if roll < 0.05:
        return ""
    if roll < 0.08:
        return rng.choice(SPECIAL_TEXT)
    if roll < 0.11:
        # long: crosses LiteLLM's 1024-character chunk boundaries
        unit = rng.choice(["a", " ", "ab ", "日本", "🙂", "word ", "x" * 7 + " ", "\n"])
        return unit * rng.randint(300, 3000)
    if roll < 0.12:
        return "".join(rng.choice(WORDS) for _ in range(rng.randint(200, 900)))
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, max_words)))


def image_block(rng: random.Random) -> Dict[str, Any]:
    kind = rng.random()
    if kind < 0.2:
        return {"type": "image_url", "image_url": rng.choice(
            ["https://example.invalid/cat.png", png_data_url(rng.randint(1, 4000), rng.randint(1, 4000))])}
    detail = rng.choice(["low", "auto", "auto", None, "high", "original", 7])
    url = rng.choice([
        "https://example.invalid/cat.png",
        png_data_url(rng.randint(1, 5000), rng.randint(1, 5000)),
        gif_data_url(rng.randint(1, 3000), rng.randint(1, 3000)),
        "data:image/png;base64,not-base64!!",
        "",
    ])
    if detail == "high" and url.startswith("https://"):
        detail = "low"  # the original would fetch it; covered by a dedicated test
    image_url: Dict[str, Any] = {"url": url}
    if detail is not None:
        image_url["detail"] = detail
    return {"type": "image_url", "image_url": image_url}


def content_list(rng: random.Random) -> List[Any]:
    out: List[Any] = []
    for _ in range(rng.randint(0, 4)):
        roll = rng.random()
        if roll < 0.45:
            out.append({"type": "text", "text": text(rng)})
        elif roll < 0.55:
            out.append(text(rng))
        elif roll < 0.75:
            out.append(image_block(rng))
        elif roll < 0.8:
            out.append({"type": "thinking", "thinking": text(rng), "signature": "sig"})
        elif roll < 0.83:
            out.append({"type": "redacted_thinking", "thinking": rng.choice(["", None, "abc"])})
        elif roll < 0.86:
            out.append({"type": "tool_reference", "tool_name": rng.choice(["get_weather", "", None])})
        elif roll < 0.89:
            out.append({"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                     "data": png_data_url(300, 200).split(",", 1)[1]}})
        elif roll < 0.92:
            out.append({"type": "text", "text": rng.choice([None, 0, 12, [], {"a": 1}, True])})
        elif roll < 0.94:
            out.append({"type": "compaction", "content": text(rng)})
        elif roll < 0.96:
            out.append({"type": "unknown_block", "x": 1})
        elif roll < 0.98:
            out.append({"text": "no type"})
        else:
            out.append(42)
    return out


def tool_call(rng: random.Random, i: int) -> Any:
    roll = rng.random()
    args: Any = rng.choice([
        '{"city": "Paris", "unit": "c"}', "", "{}", '{"q": "' + text(rng, 8).replace('"', "'") + '"}',
        "not json at all", '{"nested": {"a": [1, 2, {"b": null}]}}',
    ])
    if roll < 0.05:
        args = {"city": "Paris"}
    elif roll < 0.07:
        args = 42
    elif roll < 0.08:
        args = None
    call: Dict[str, Any] = {"id": "call_%d" % i, "type": "function",
                            "function": {"name": "fn_%d" % rng.randint(0, 9), "arguments": args}}
    if rng.random() < 0.03:
        del call["function"]["arguments"]
    if rng.random() < 0.02:
        del call["function"]
    if rng.random() < 0.01:
        return "not a dict"
    return call


def message(rng: random.Random) -> Any:
    role = rng.choice(["system", "user", "user", "assistant", "assistant", "tool", "developer", "function"])
    msg: Dict[str, Any] = {"role": role}
    roll = rng.random()
    if roll < 0.6:
        msg["content"] = text(rng)
    elif roll < 0.8:
        msg["content"] = content_list(rng)
    elif roll < 0.85:
        msg["content"] = None
    elif roll < 0.88:
        msg["content"] = rng.choice([42, 3.5, {"a": "b"}, ("tuple",), True])
    if rng.random() < 0.15:
        msg["name"] = rng.choice(["alice", "bob_the_builder", "", "名前", "x" * 64])
    if role == "assistant" and rng.random() < 0.35:
        if rng.random() < 0.9:
            msg["tool_calls"] = [tool_call(rng, i) for i in range(rng.randint(0, 4))]
        else:
            msg["tool_calls"] = rng.choice(["oops", {"a": 1}, None, 7])
    if role == "assistant" and rng.random() < 0.05:
        msg["function_call"] = rng.choice([{"name": "f", "arguments": '{"a": 1}'}, {"name": "f"},
                                           {"arguments": 5}, "bad", None])
    if role == "tool" and rng.random() < 0.8:
        msg["tool_call_id"] = "call_%d" % rng.randint(0, 9)
    if rng.random() < 0.05:
        msg["provider_specific_fields"] = rng.choice([
            {"compaction_blocks": [{"type": "compaction", "content": "summary of it"}]},
            {"other": 1}, "text-valued", None])
    if rng.random() < 0.03:
        msg["search_results"] = [{"source": "s", "title": "t", "content": [{"type": "text", "text": "r"}]}]
    if rng.random() < 0.05:
        msg["extra_key"] = rng.choice([1, "extra string", [1, 2], {"k": "v"}, None])
    if rng.random() < 0.02:
        msg["role"] = rng.choice([None, 5, ""])
    if rng.random() < 0.05:
        # keys in a different order
        msg = dict(reversed(list(msg.items())))
    return msg


def schema(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 2 or roll < 0.35:
        t = rng.choice(["string", "integer", "number", "boolean", "null", "weird", None, ["string", "null"]])
        out: Dict[str, Any] = {}
        if t is not None:
            out["type"] = t
        if t in ("string", "integer", "number") and rng.random() < 0.4:
            out["enum"] = rng.choice([["a", "b"], [1, 2, 3], ["x y", None, 3.5], [], "notalist"])
        if rng.random() < 0.4:
            out["description"] = rng.choice(["A value.", "Multi\nline", "", "ünïcödé 🙂", None])
        return out
    if roll < 0.55:
        return {"type": "array", "items": schema(rng, depth + 1),
                **({"description": "A list"} if rng.random() < 0.3 else {})}
    if roll < 0.6:
        return rng.choice(["notadict", 5, None, []])
    props = {("p%d" % i if rng.random() < 0.9 else rng.choice(["with space", "ünï", "0"])): schema(rng, depth + 1)
             for i in range(rng.randint(0, 5))}
    out = {"type": "object", "properties": props}
    if props and rng.random() < 0.6:
        out["required"] = rng.sample(sorted(props), rng.randint(0, len(props)))
    if rng.random() < 0.05:
        out["required"] = "p0"
    if rng.random() < 0.3:
        out["description"] = "An object"
    return out


def tool(rng: random.Random, i: int) -> Any:
    roll = rng.random()
    params = schema(rng) if rng.random() < 0.2 else {
        "type": "object", "properties": {"p%d" % j: schema(rng, 1) for j in range(rng.randint(0, 4))},
        "required": ["p0"]}
    desc = rng.choice(["Get the weather for a city.", "", None, "Line one\nLine two", "描述 🙂",
                       "<|endoftext|> in a description"])
    name = rng.choice(["get_weather_%d" % i, "search", "", None, "ünï_fn"])
    if roll < 0.8:
        fn: Dict[str, Any] = {"name": name, "parameters": params}
        if desc is not None:
            fn["description"] = desc
        if rng.random() < 0.1:
            fn["strict"] = rng.choice([True, False])
        if rng.random() < 0.05:
            del fn["parameters"]
        return {"type": "function", "function": fn}
    if roll < 0.88:  # Anthropic-style
        t: Dict[str, Any] = {"name": name, "input_schema": params}
        if desc is not None:
            t["description"] = desc
        return t
    if roll < 0.93:  # Gemini-style
        return {"function_declarations": [{"name": "decl_%d" % i, "parameters": params}, "junk"]}
    if roll < 0.96:
        return {"name": "web_search"}
    return rng.choice(["not a tool", 7, None])


def tool_choice(rng: random.Random) -> Any:
    return rng.choice([
        None, None, None, "auto", "none", "required",
        {"type": "function", "function": {"name": "get_weather_1"}},
        {"type": "none"}, {"name": "search"}, {"function": {"name": 5}}, {"type": "tool", "name": "x"}, 3,
    ])


def call_kwargs(rng: random.Random) -> Dict[str, Any]:
    """Keyword arguments for one ``token_counter`` call."""
    kwargs: Dict[str, Any] = {"model": rng.choice(MODELS)}
    roll = rng.random()
    if roll < 0.12:
        kwargs["text"] = text(rng, 60) if rng.random() < 0.8 else [text(rng), 5, text(rng), None]
        if rng.random() < 0.03:
            kwargs["tools"] = [tool(rng, 0)]
        if rng.random() < 0.02:
            kwargs["messages"] = []
    elif roll < 0.13:
        kwargs["text"] = rng.choice([5, ("a", "b"), b"bytes"])
    elif roll < 0.135:
        pass  # neither text nor messages
    else:
        n = rng.choice([0, 1, 2, 3, 3, 5, 8, 20])
        msgs: Any = [message(rng) for _ in range(n)]
        if rng.random() < 0.02:
            msgs.append(rng.choice(["a string message", 5, None]))
        if rng.random() < 0.02:
            msgs = tuple(msgs)
        kwargs["messages"] = msgs
        if rng.random() < 0.35:
            kwargs["tools"] = [tool(rng, i) for i in range(rng.randint(0, 10))]
        if rng.random() < 0.3:
            kwargs["tool_choice"] = tool_choice(rng)
    if rng.random() < 0.1:
        kwargs["count_response_tokens"] = rng.choice([True, None, False, 0])
    if rng.random() < 0.15:
        kwargs["use_default_image_token_count"] = rng.choice([True, None, False])
    if rng.random() < 0.1:
        kwargs["default_token_count"] = rng.choice([None, 0, 17])
    return kwargs
