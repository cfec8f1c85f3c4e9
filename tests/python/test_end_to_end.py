"""End to end: what a LiteLLM user sees, stock vs accelerated, in one process.

The component suites compare each patched function with stock in isolation.
Here the same workload of whole LiteLLM calls runs twice in one process,
once with every patch removed (``fast_litellm.remove_acceleration()``) and
once with them applied, from the same seeds of Python's ``random``, against a
deterministic mock upstream on 127.0.0.1 (no network).  Both orders run
(stock first, accelerated first), so neither side's warm state decides.

Compared, per call: the response (choices, usage, model), the response's
``_hidden_params`` (response_cost, model_id, ...), what a CustomLogger sees
in ``kwargs["standard_logging_object"]``, and ``token_counter`` /
``completion_cost`` / ``cost_per_token`` on the response; streaming without
upstream usage (LiteLLM rebuilds usage with token_counter); and the Router
with each routing strategy: which deployment served each call, the final
state of ``random`` and the router cache contents.

A race of stock LiteLLM, kept out: under CPU load, the first *sync*
``litellm.completion`` cache hit (after an ``acompletion`` miss, litellm.cache
local) sometimes logs ``standard_logging_object["cache_key"]`` (and
``hidden_params.cache_key``) as None instead of the key; ``cache_hit`` and
everything else match.  Seen once stock-vs-accelerated and once
stock-vs-stock (so not ours), so the cached phase uses acompletion only.

Fields that differ between two *stock* runs of the same workload are
inherently per call (ids, clocks, durations); they are listed in
``VOLATILE_*`` below and removed before comparing, nothing else is.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

litellm = pytest.importorskip("litellm")

import fast_litellm  # noqa: E402
from fast_litellm.patching import engine  # noqa: E402
from litellm.integrations.custom_logger import CustomLogger  # noqa: E402

# ---------------------------------------------------------------- mock upstream

TEXTS = (
    "Hello! How can I help you today?",
    "Fast LiteLLM keeps LiteLLM's behaviour exactly: 1234 and 3.14159; café, naïve, 東京.",
    "def f(x):\n    return x ** 2  # squares\n\nprint(f(12))",
    "Émile a écrit «bonjour» — puis 🙂🙂 et\ttabs\n\n\nnewlines   spaces.",
    "The quick brown fox jumps over the lazy dog. " * 5,
    "",
    "special text <|endoftext|> and <|fim_prefix|>x<|fim_suffix|> stays text",
)

# token_counter / cost_per_token on every response for these too (all offline in LiteLLM 1.110.2)
OTHER_MODELS = ("claude-3-haiku-20240307", "gemini/gemini-1.5-flash", "o1", "gpt-4.1",
                "text-embedding-3-small", "mistral/mistral-large-latest", "command-r",
                "bedrock/anthropic.claude-3-haiku-20240307-v1:0")


def _answer_for(body):
    key = json.dumps(body.get("messages"), sort_keys=True).encode()
    return TEXTS[int(hashlib.sha256(key).hexdigest(), 16) % len(TEXTS)]


def _wants_no_usage(body):
    return "[nousage]" in json.dumps(body.get("messages"))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

    def log_message(self, *a):  # quiet
        pass

    def do_POST(self):
        n = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(n) or b"{}")
        if "/fail/" in self.path:  # a broken deployment
            data = json.dumps({"error": {"message": "mock upstream down", "type": "server_error",
                                         "code": "mock_down"}}).encode()
            self.send_response(503)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        text = _answer_for(body)
        model = body.get("model") or "gpt-4o"
        if "/deployments/" in self.path:
            model = "gpt-4o-2024-08-06"
        words = text.split(" ")
        usage = {"prompt_tokens": 11 + len(json.dumps(body.get("messages"))) // 5,
                 "completion_tokens": len(words) + 1}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        tool_call = None
        if body.get("tools"):  # answer with a tool call (arguments streamed in pieces)
            tool_call = {"id": "call_mock", "type": "function",
                         "function": {"name": "get_weather",
                                      "arguments": json.dumps({"city": "Rome", "note": text[:20]})}}
        if body.get("stream") and tool_call is not None:
            base = {"id": "chatcmpl-mock", "object": "chat.completion.chunk",
                    "created": 1700000000, "model": model}
            args = tool_call["function"]["arguments"]
            pieces = [args[i:i + 7] for i in range(0, len(args), 7)]
            chunks = [dict(base, choices=[{"index": 0, "finish_reason": None, "delta": {
                "role": "assistant", "content": None, "tool_calls": [{
                    "index": 0, "id": tool_call["id"], "type": "function",
                    "function": {"name": "get_weather", "arguments": ""}}]}}])]
            for piece in pieces:
                chunks.append(dict(base, choices=[{"index": 0, "finish_reason": None, "delta": {
                    "tool_calls": [{"index": 0, "function": {"arguments": piece}}]}}]))
            chunks.append(dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]))
            if (body.get("stream_options") or {}).get("include_usage") and not _wants_no_usage(body):
                chunks.append(dict(base, choices=[], usage=usage))
            data = ("".join("data: %s\n\n" % json.dumps(c) for c in chunks) + "data: [DONE]\n\n").encode()
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
        elif body.get("stream"):
            chunks = []
            base = {"id": "chatcmpl-mock", "object": "chat.completion.chunk",
                    "created": 1700000000, "model": model}
            chunks.append(dict(base, choices=[{"index": 0, "delta": {"role": "assistant", "content": ""},
                                               "finish_reason": None}]))
            for i, w in enumerate(words):
                piece = w if i == 0 else " " + w
                chunks.append(dict(base, choices=[{"index": 0, "delta": {"content": piece},
                                                   "finish_reason": None}]))
            chunks.append(dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}]))
            if (body.get("stream_options") or {}).get("include_usage") and not _wants_no_usage(body):
                chunks.append(dict(base, choices=[], usage=usage))
            payload = "".join("data: %s\n\n" % json.dumps(c) for c in chunks) + "data: [DONE]\n\n"
            data = payload.encode()
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
        else:
            resp = {"id": "chatcmpl-mock", "object": "chat.completion", "created": 1700000000,
                    "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"}]}
            if tool_call is not None:
                resp["choices"][0]["message"] = {"role": "assistant", "content": None,
                                                 "tool_calls": [tool_call]}
                resp["choices"][0]["finish_reason"] = "tool_calls"
            if not _wants_no_usage(body):
                resp["usage"] = usage
            data = json.dumps(resp).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def upstream():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield "http://127.0.0.1:%d" % srv.server_address[1]
    finally:
        srv.shutdown()
        srv.server_close()


# ---------------------------------------------------------------- observing

class _Recorder(CustomLogger):
    def __init__(self):
        super().__init__()
        self.seen = {}

    def _take(self, kwargs):
        slo = kwargs.get("standard_logging_object")
        meta = (kwargs.get("litellm_params") or {}).get("metadata") or {}
        tag = meta.get("e2e_tag")
        if slo is not None and tag is not None:
            self.seen.setdefault(tag, _plain(slo))

    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._take(kwargs)

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._take(kwargs)


def _plain(obj):
    """JSON-like copy (pydantic models and dicts), for comparing."""
    if hasattr(obj, "model_dump"):
        obj = obj.model_dump()
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return repr(type(obj).__name__)


# Inherently per call: ids, clocks and durations (differ between two stock runs).
VOLATILE_RESPONSE = {"id", "created"}
VOLATILE_HIDDEN = {"litellm_call_id", "api_base", "headers"}  # api_base: the mock's ephemeral port
VOLATILE_SLO = {
    "id", "trace_id", "startTime", "endTime", "completionStartTime", "response_time",
    "api_base", "litellm_call_id",
}
VOLATILE_SLO_NESTED = {
    ("hidden_params", "litellm_overhead_time_ms"),
    ("hidden_params", "api_base"), ("hidden_params", "additional_headers"),
    ("response", "created"), ("response", "id"),
}


def _drop(d, keys):
    return {k: v for k, v in d.items() if k not in keys}


def _clean_slo(slo):
    slo = _drop(slo, VOLATILE_SLO)
    for outer, inner in VOLATILE_SLO_NESTED:
        if isinstance(slo.get(outer), dict):
            slo[outer] = _drop(slo[outer], {inner})
    return slo


def _clean_hidden(hp):
    hp = _drop(_plain(hp), VOLATILE_HIDDEN)
    hp.pop("additional_headers", None)  # the mock's Date header and the port
    hp.pop("_response_ms", None)
    hp.pop("litellm_overhead_time_ms", None)
    return hp


async def _settle(recorder, tag, timeout=5.0):
    """Wait until the success callbacks of the call ran (they are deferred)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker = getattr(__import__("litellm.litellm_core_utils.logging_worker",
                                    fromlist=["GLOBAL_LOGGING_WORKER"]), "GLOBAL_LOGGING_WORKER", None)
        pending = getattr(worker, "pending_count", 0) if worker is not None else 0
        pending = pending() if callable(pending) else pending
        if (tag is None or tag in recorder.seen) and not pending:
            return
        await asyncio.sleep(0.002)


# ---------------------------------------------------------------- workload

MESSAGES = (
    [{"role": "user", "content": "Hi"}],
    [{"role": "system", "content": "You are terse."},
     {"role": "user", "content": "Count: 1 2 3 4 5, café 東京 🙂", "name": "bob"}],
    [{"role": "user", "content": [{"type": "text", "text": "part one"},
                                  {"type": "text", "text": " part two\n\n"}]}],
    [{"role": "user", "content": "call the tool"},
     {"role": "assistant", "content": None,
      "tool_calls": [{"id": "call_1", "type": "function",
                      "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
     {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21C"},
     {"role": "user", "content": "[nousage] and now?"}],
    [{"role": "user", "content": "[nousage] " + "long prompt words " * 40}],
)

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "enum": ["Paris", "Rome"]}},
                   "required": ["city"]}}}]

# (model as the user passes it, extra kwargs)
MODELS = (
    ("gpt-4o", {}),
    ("gpt-4", {}),
    ("gpt-3.5-turbo", {}),
    ("azure/my-gpt4o", {"api_version": "2024-08-01-preview"}),
    ("openai/my-unknown-llm", {}),  # not in the price map, not a tiktoken model
    ("openai/my-priced-llm", {"input_cost_per_token": 1e-6, "output_cost_per_token": 3e-6}),
)


MODES = ("sync", "async", "stream", "astream")


def _response_view(resp):
    d = _drop(_plain(resp), VOLATILE_RESPONSE)
    d.pop("_hidden_params", None)
    d.pop("_response_headers", None)
    return d


def _safe(fn, *a, **k):
    try:
        return ("ok", _plain(fn(*a, **k)))
    except Exception as exc:  # the same exception is part of the observation
        return ("raise", type(exc).__name__, str(exc))


def _derived(model, msgs, resp):
    """What a user computes from a response with LiteLLM's helpers."""
    usage = getattr(resp, "usage", None)
    pt = getattr(usage, "prompt_tokens", 0) or 0
    ct = getattr(usage, "completion_tokens", 0) or 0
    text = resp.choices[0].message.content or ""
    others = {}
    for other in OTHER_MODELS:
        others[other] = (_safe(litellm.token_counter, model=other, messages=msgs),
                         _safe(litellm.token_counter, model=other, text=text),
                         _safe(litellm.cost_per_token, model=other, prompt_tokens=pt, completion_tokens=ct),
                         _safe(litellm.completion_cost, model=other, prompt="hello world", completion=text))
    return {
        "other_models": others,
        "token_counter_msgs": _safe(litellm.token_counter, model=model, messages=msgs),
        "token_counter_tools": _safe(litellm.token_counter, model=model, messages=msgs, tools=TOOLS),
        "token_counter_text": _safe(litellm.token_counter, model=model, text=text),
        "token_counter_completion": _safe(litellm.token_counter, model=model, text=text, count_response_tokens=True),
        "completion_cost": _safe(litellm.completion_cost, completion_response=resp),
        "completion_cost_model": _safe(litellm.completion_cost, completion_response=resp, model=model),
        "completion_cost_text": _safe(litellm.completion_cost, model=model, prompt="hello world", completion=text),
        "cost_per_token": _safe(litellm.cost_per_token, model=model, prompt_tokens=pt, completion_tokens=ct),
    }


async def _calls(url, recorder, out):
    for m_index, (model, extra) in enumerate(MODELS):
        for i, msgs in enumerate(MESSAGES):
            kw = dict(model=model, messages=msgs, api_base=url + ("" if model.startswith("azure/") else "/v1"),
                      api_key="sk-mock", **extra)
            if i in (1, 3):
                kw["tools"] = TOOLS
            # each (model, messages) pair through one of the four call shapes, rotating
            for mode in [MODES[(m_index + i) % len(MODES)]]:
                tag = "%s/%d/%s" % (model, i, mode)
                kw["metadata"] = {"e2e_tag": tag}
                if mode == "sync":
                    resp = await asyncio.get_running_loop().run_in_executor(
                        None, lambda: litellm.completion(**kw))
                elif mode == "async":
                    resp = await litellm.acompletion(**kw)
                else:
                    skw = dict(kw, stream=True, stream_options={"include_usage": True})
                    if mode == "stream":
                        chunks = await asyncio.get_running_loop().run_in_executor(
                            None, lambda: list(litellm.completion(**skw)))
                    else:
                        chunks = [c async for c in await litellm.acompletion(**skw)]
                    resp = litellm.stream_chunk_builder(chunks, messages=msgs)
                await _settle(recorder, tag)
                out.append((tag, "response", _response_view(resp)))
                if mode in ("sync", "async"):
                    out.append((tag, "hidden", _clean_hidden(resp._hidden_params)))
                out.append((tag, "derived", _derived(model, msgs, resp)))
    # every callback payload, in call order (dicts keep insertion order)
    await _settle(recorder, None)
    for tag, slo in sorted(recorder.seen.items()):
        out.append((tag, "standard_logging_object", _clean_slo(slo)))


# ---------------------------------------------------------------- router

STRATEGIES = (
    ("simple-shuffle", {}),
    ("simple-shuffle-weighted", {}),
    ("least-busy", {}),
    ("usage-based-routing", {}),
    ("usage-based-routing-v2", {}),
    # a buffer this wide keeps every deployment valid: the pick is random.choice, not the clock
    ("latency-based-routing", {"lowest_latency_buffer": 1e9}),
    ("cost-based-routing", {}),
)


CLOCK_DRIVEN = {"latency-based-routing"}


def _model_list(url, weighted):
    rows = []
    for n, (model, tpm, rpm) in enumerate((("gpt-4o", 100000, 1000), ("gpt-4o-mini", 60000, 600),
                                            ("gpt-4", 8000, 50), ("gpt-3.5-turbo", 30000, 300))):
        params = {"model": "openai/" + model, "api_base": url + "/v1", "api_key": "sk-mock",
                  "tpm": tpm, "rpm": rpm}
        if weighted:
            params["weight"] = n + 1
        rows.append({"model_name": "chat", "litellm_params": params, "model_info": {"id": "dep-%d" % n}})
    return rows


# the usage strategies key their counters by the current minute ("2026-11-29-11-07", "11-07")
_TIME_IN_KEY = re.compile(r"(\d{4}-\d{2}-\d{2}-)?\d{2}-\d{2}")


def _untimed(value):
    if isinstance(value, dict):
        return {_TIME_IN_KEY.sub("<minute>", k): _untimed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _cache_view(router, strategy):
    dct = getattr(router.cache.in_memory_cache, "cache_dict", {})
    view = {}
    for key in sorted(dct):
        value = _untimed(_plain(dct[key]))
        if strategy in CLOCK_DRIVEN:  # measured latencies: keep which deployments have some
            value = sorted(value) if isinstance(value, dict) else type(value).__name__
        view[_TIME_IN_KEY.sub("<minute>", key)] = value
    return view


def _away_from_minute_change(margin=5.0):
    """The usage strategies count per wall-clock minute: a run that straddles
    a minute change starts counting afresh midway, stock or not.  Start each
    strategy's run with `margin` seconds left in the minute."""
    left = 60.0 - time.time() % 60.0
    if left < margin:
        time.sleep(left + 0.05)


async def _route(url, recorder, out, seed):
    for strategy, args in STRATEGIES:
        name = "simple-shuffle" if strategy.startswith("simple-shuffle") else strategy
        router = litellm.Router(model_list=_model_list(url, strategy.endswith("weighted")),
                                routing_strategy=name, routing_strategy_args=args or None,
                                num_retries=0)
        _away_from_minute_change()
        random.seed(seed)
        picks = []
        for n in range(24):
            msgs = MESSAGES[n % len(MESSAGES)]
            tag = "router/%s/%d/%d" % (strategy, seed, n)
            resp = await router.acompletion(model="chat", messages=msgs, metadata={"e2e_tag": tag})
            await _settle(recorder, tag)
            hp = resp._hidden_params or {}
            picks.append((hp.get("model_id"), hp.get("response_cost"),
                          _plain(resp.usage), recorder.seen[tag].get("model_id")))
            if strategy not in CLOCK_DRIVEN:
                slo = _clean_slo(recorder.seen[tag])
                out.append((tag, "standard_logging_object", slo))
        if strategy in CLOCK_DRIVEN:
            # which deployment is fastest is the clock's call (differs between two stock runs)
            picks = [(model_id is not None, usage) for model_id, _, usage, _ in picks]
        else:
            out.append((strategy, "random_state", hashlib.sha256(repr(random.getstate()).encode()).hexdigest()))
        out.append((strategy, "picks", picks))
        out.append((strategy, "router_cache", _cache_view(router, strategy)))


CALLBACK_LISTS = ("callbacks", "success_callback", "failure_callback", "input_callback",
                  "_async_success_callback", "_async_failure_callback", "_async_input_callback",
                  "service_callback")


MOCKED_MODELS = ("anthropic/claude-3-haiku-20240307", "gemini/gemini-1.5-flash", "o1", "gpt-4.1",
                 "mistral/mistral-large-latest", "cohere_chat/command-r",
                 "bedrock/anthropic.claude-3-haiku-20240307-v1:0")


async def _mocked_calls(recorder, out):
    """mock_response= for providers the mock upstream does not speak."""
    for m_index, model in enumerate(MOCKED_MODELS):
        msgs = MESSAGES[m_index % len(MESSAGES)]
        answer = TEXTS[m_index % len(TEXTS)] or "ok"
        for stream in (False, True):
            tag = "mocked/%s/%s" % (model, stream)
            kw = dict(model=model, messages=msgs, mock_response=answer, metadata={"e2e_tag": tag})
            if stream:
                chunks = [c async for c in await litellm.acompletion(stream=True, **kw)]
                resp = litellm.stream_chunk_builder(chunks, messages=msgs)
            else:
                resp = await litellm.acompletion(**kw)
                out.append((tag, "hidden", _clean_hidden(resp._hidden_params)))
            await _settle(recorder, tag)
            out.append((tag, "response", _response_view(resp)))
            out.append((tag, "derived", _derived(model, msgs, resp)))
            out.append((tag, "standard_logging_object", _clean_slo(recorder.seen[tag])))


async def _cached_calls(url, recorder, out):
    """litellm.cache = Cache() (local: an InMemoryCache): a miss, then hits."""
    from litellm.caching.caching import Cache

    saved = litellm.cache
    litellm.cache = Cache(type="local")
    try:
        for n in range(3):
            for m_index, (model, extra) in enumerate(MODELS[:4]):
                msgs = MESSAGES[(m_index + 1) % len(MESSAGES)]
                tag = "cached/%s/%d" % (model, n)
                kw = dict(model=model, messages=msgs, api_key="sk-mock", caching=True,
                          api_base=url + ("" if model.startswith("azure/") else "/v1"),
                          metadata={"e2e_tag": tag}, **extra)
                # acompletion only: a sync hit's logged cache_key races in stock LiteLLM
                # under load (module docstring)
                resp = await litellm.acompletion(**kw)
                await _settle(recorder, tag)
                out.append((tag, "response", _response_view(resp)))
                out.append((tag, "hidden", _clean_hidden(resp._hidden_params)))
                out.append((tag, "derived", _derived(model, msgs, resp)))
                out.append((tag, "standard_logging_object", _clean_slo(recorder.seen[tag])))
        cache = litellm.cache.cache
        out.append(("cached", "cache_keys", sorted(getattr(cache, "cache_dict", {}))))
        values = [_plain(cache.cache_dict[k]) for k in sorted(cache.cache_dict)]
        # "timestamp": when the entry was written (a clock)
        out.append(("cached", "cache_values", [_drop(v, {"timestamp"}) if isinstance(v, dict) else v
                                               for v in values]))
    finally:
        litellm.cache = saved


def _pressure_list(url):
    """A broken deployment (cooled down after its first failure), one with
    a tpm/rpm so small the usage strategies must filter it out, and one whose
    context window the pre-call checks (token_counter) rule out for long prompts."""
    return [
        {"model_name": "chat", "model_info": {"id": "ok-big"},
         "litellm_params": {"model": "openai/gpt-4o", "api_base": url + "/v1", "api_key": "sk-mock",
                            "tpm": 100000, "rpm": 1000}},
        {"model_name": "chat", "model_info": {"id": "tiny"},
         "litellm_params": {"model": "openai/gpt-4o-mini", "api_base": url + "/v1", "api_key": "sk-mock",
                            "tpm": 120, "rpm": 3}},
        {"model_name": "chat", "model_info": {"id": "small-context", "max_input_tokens": 40},
         "litellm_params": {"model": "openai/gpt-3.5-turbo", "api_base": url + "/v1", "api_key": "sk-mock",
                            "tpm": 100000, "rpm": 1000}},
        {"model_name": "chat", "model_info": {"id": "broken"},
         "litellm_params": {"model": "openai/gpt-4", "api_base": url + "/fail/v1", "api_key": "sk-mock",
                            "tpm": 100000, "rpm": 1000}},
    ]


async def _route_under_pressure(url, recorder, out, seed):
    for strategy, args in STRATEGIES:
        if strategy in CLOCK_DRIVEN or strategy.endswith("weighted"):
            continue
        router = litellm.Router(model_list=_pressure_list(url), routing_strategy=strategy,
                                routing_strategy_args=args or None, num_retries=0,
                                allowed_fails=0, cooldown_time=600, enable_pre_call_checks=True)
        _away_from_minute_change()
        random.seed(seed)
        seen = []
        for n in range(16):
            tag = "pressure/%s/%d/%d" % (strategy, seed, n)
            try:
                kw = dict(model="chat", messages=MESSAGES[n % len(MESSAGES)], metadata={"e2e_tag": tag})
                if n % 2:  # the sync Router path too
                    resp = await asyncio.get_running_loop().run_in_executor(
                        None, lambda: router.completion(**kw))
                else:
                    resp = await router.acompletion(**kw)
                await _settle(recorder, tag)
                seen.append(("ok", resp._hidden_params.get("model_id"), resp._hidden_params.get("response_cost")))
            except Exception as exc:
                await _settle(recorder, None)
                seen.append(("raise", type(exc).__name__, str(exc).replace(url, "<mock>")))
        out.append(("pressure/" + strategy, "calls", seen))
        out.append(("pressure/" + strategy, "random_state",
                    hashlib.sha256(repr(random.getstate()).encode()).hexdigest()))
        out.append(("pressure/" + strategy, "router_cache", _cache_view(router, strategy)))


async def _route_by_name(url, recorder, out, seed):
    """Wildcard deployments, aliases, `order` and tag filtering: the pick by name."""
    def dep(name, model, ident, **extra):
        params = dict(model=model, api_base=url + "/v1", api_key="sk-mock", **extra)
        return {"model_name": name, "litellm_params": params, "model_info": {"id": ident}}

    model_list = [
        dep("openai/*", "openai/*", "wild"),
        dep("gpt-4o", "openai/gpt-4o", "first", order=1),
        dep("gpt-4o", "openai/gpt-4o", "second", order=2),
        dep("gpt-4o", "openai/gpt-4o-mini", "third", order=1),
        dep("tagged", "openai/gpt-4o", "paid", tags=["paid"]),
        dep("tagged", "openai/gpt-4o-mini", "free", tags=["free"]),
        dep("tagged", "openai/gpt-3.5-turbo", "default", tags=["default"]),
    ]
    router = litellm.Router(model_list=model_list, model_group_alias={"alias-4o": "gpt-4o"},
                            enable_tag_filtering=True, num_retries=0)
    random.seed(seed)
    seen = []
    asks = [("openai/gpt-4.1", None), ("gpt-4o", None), ("alias-4o", None), ("tagged", ["free"]),
            ("tagged", ["paid"]), ("tagged", None), ("tagged", ["nope"]), ("no-such-model", None)]
    for n in range(24):
        model, tags = asks[n % len(asks)]
        tag = "byname/%d/%d" % (seed, n)
        meta = {"e2e_tag": tag}
        if tags is not None:
            meta["tags"] = tags
        try:
            resp = await router.acompletion(model=model, messages=MESSAGES[n % 3], metadata=meta)
            await _settle(recorder, tag)
            seen.append(("ok", resp._hidden_params.get("model_id"), resp._hidden_params.get("response_cost"),
                         _plain(resp.usage)))
        except Exception as exc:
            await _settle(recorder, None)
            seen.append(("raise", type(exc).__name__, str(exc).replace(url, "<mock>")))
    out.append(("byname", "calls", seen))
    out.append(("byname", "random_state", hashlib.sha256(repr(random.getstate()).encode()).hexdigest()))


def _workload(url, seed):
    random.seed(seed)
    recorder = _Recorder()
    saved = {name: getattr(litellm, name) for name in CALLBACK_LISTS}
    for name in CALLBACK_LISTS:  # Routers add their strategy's logger: none may outlive its run
        setattr(litellm, name, [])
    litellm.callbacks = [recorder]
    out = []
    try:
        asyncio.run(_calls(url, recorder, out))
        asyncio.run(_cached_calls(url, recorder, out))
        asyncio.run(_mocked_calls(recorder, out))
        asyncio.run(_route(url, recorder, out, seed))
        asyncio.run(_route_under_pressure(url, recorder, out, seed))
        asyncio.run(_route_by_name(url, recorder, out, seed))
    finally:
        for name, value in saved.items():
            setattr(litellm, name, value)
    return out


# ---------------------------------------------------------------- the test

def _applied_patches():
    return sorted(name for name, p in fast_litellm.get_patch_status()["patches"].items() if p["applied"])


def _run_side(url, seed, accelerated):
    if accelerated:
        fast_litellm.apply_acceleration()
        applied = _applied_patches()
        # the user-facing hot paths are really on the accelerated side
        assert any(n.startswith("token_counter") for n in applied), applied
        assert any(n.startswith("routing.") for n in applied), applied
        assert any("cost" in n for n in applied), applied
    else:
        fast_litellm.remove_acceleration()
        assert _applied_patches() == []
    return _workload(url, seed)


def _first_difference(stock, fast):
    assert len(stock) == len(fast)
    for s, f in zip(stock, fast):
        assert s[:2] == f[:2]
        if s != f:
            return s[0], s[1], s[2], f[2]
    return None


@pytest.mark.parametrize("stock_first", [True, False], ids=["stock-first", "accelerated-first"])
def test_whole_calls_match_stock(upstream, stock_first):
    seed = 1234 if stock_first else 99
    was_applied = bool(_applied_patches())
    try:
        if stock_first:
            stock = _run_side(upstream, seed, accelerated=False)
            fast = _run_side(upstream, seed, accelerated=True)
        else:
            fast = _run_side(upstream, seed, accelerated=True)
            stock = _run_side(upstream, seed, accelerated=False)
    finally:
        if was_applied:
            fast_litellm.apply_acceleration()
        else:
            fast_litellm.remove_acceleration()
    assert _first_difference(stock, fast) is None
    # the workload did what it says: every call observed, every callback seen
    kinds = [k for _, k, _ in stock]
    assert kinds.count("standard_logging_object") == (len(MODELS) * len(MESSAGES) + 3 * 4 + 2 * 7
                                                      + 24 * (len(STRATEGIES) - len(CLOCK_DRIVEN)))
    hits = [v for (t, k, v) in stock if k == "standard_logging_object" and t.startswith("cached/")]
    assert [bool(h["cache_hit"]) for h in hits] == [False] * 4 + [True] * 8
    assert kinds.count("picks") == len(STRATEGIES)


def _price_map_changes():
    """A user who registers or overrides prices after costs were computed."""
    import copy

    saved = copy.deepcopy(litellm.model_cost)
    out = []
    try:
        r = litellm.ModelResponse(model="gpt-4o", usage={"prompt_tokens": 100, "completion_tokens": 50,
                                                         "total_tokens": 150})
        out.append(_safe(litellm.completion_cost, completion_response=r))
        out.append(_safe(litellm.cost_per_token, model="gpt-4o", prompt_tokens=100, completion_tokens=50))
        litellm.register_model({"gpt-4o": {"input_cost_per_token": 1.0, "output_cost_per_token": 2.0,
                                           "litellm_provider": "openai", "mode": "chat"}})
        out.append(_safe(litellm.completion_cost, completion_response=r))
        out.append(_safe(litellm.cost_per_token, model="gpt-4o", prompt_tokens=100, completion_tokens=50))
        litellm.model_cost["gpt-4o"]["input_cost_per_token"] = 5.0
        out.append(_safe(litellm.completion_cost, completion_response=r))
        out.append(_safe(litellm.cost_per_token, model="gpt-4o", prompt_tokens=100, completion_tokens=50))
        litellm.register_model({"e2e-new-model": {"input_cost_per_token": 3.0, "output_cost_per_token": 4.0,
                                                  "litellm_provider": "openai", "mode": "chat"}})
        r2 = litellm.ModelResponse(model="e2e-new-model", usage={"prompt_tokens": 10, "completion_tokens": 5,
                                                                 "total_tokens": 15})
        out.append(_safe(litellm.cost_per_token, model="e2e-new-model", prompt_tokens=10, completion_tokens=5))
        out.append(_safe(litellm.completion_cost, completion_response=r2))
        del litellm.model_cost["e2e-new-model"]
        out.append(_safe(litellm.cost_per_token, model="e2e-new-model", prompt_tokens=10, completion_tokens=5))
        out.append(_safe(litellm.completion_cost, completion_response=r2))
    finally:
        litellm.model_cost.clear()
        litellm.model_cost.update(saved)
    return out


@pytest.mark.parametrize("stock_first", [True, False], ids=["stock-first", "accelerated-first"])
def test_price_map_changes_match_stock(stock_first):
    was_applied = bool(_applied_patches())
    results = {}
    try:
        for accelerated in ([False, True] if stock_first else [True, False]):
            (fast_litellm.apply_acceleration if accelerated else fast_litellm.remove_acceleration)()
            results[accelerated] = _price_map_changes()
    finally:
        (fast_litellm.apply_acceleration if was_applied else fast_litellm.remove_acceleration)()
    assert results[True] == results[False]
