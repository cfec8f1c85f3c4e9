"""A mock OpenAI-compatible upstream for benchmarking the LiteLLM proxy.

It answers ``POST /v1/chat/completions`` after a fixed small latency with a
realistic chat completion (or an SSE stream when the request asks for one),
``GET /v1/models`` and ``GET /health``.  Every ``omit_usage_every``-th
response leaves out ``usage`` so that LiteLLM has to count the tokens itself,
which is the path Fast LiteLLM accelerates.

Run it as its own process:

    python -m fast_litellm.bench.proxy.mock_upstream --port 0 --latency-ms 5

It prints one line ``READY <port>`` on stdout once it listens (port 0 picks
a free one), binds to 127.0.0.1 only, and exits on SIGTERM/SIGINT or after
``--max-seconds``.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import signal
import sys
import time
from typing import Any, Dict, List, Optional

# Canned answer text: long enough to make token counting visible.
ANSWER_WORDS = (
    "Fast LiteLLM keeps the behaviour of LiteLLM exactly and moves the hot "
    "paths into a small C core. This mock upstream returns a fixed answer so "
    "that every proxy run sees the same work, with a few numbers like 1234 and "
    "3.14159, some punctuation; and a little unicode: café, naïve, 東京."
).split(" ")


class MockState:
    """Counters and knobs shared by the handlers."""

    def __init__(self, latency_ms: float, omit_usage_every: int, answer_words: int):
        self.latency_s = max(0.0, latency_ms) / 1000.0
        self.omit_usage_every = omit_usage_every
        self.answer = " ".join(
            itertools.islice(itertools.cycle(ANSWER_WORDS), max(1, answer_words))
        )
        self.requests = 0
        self.streams = 0
        self.without_usage = 0

    def next_includes_usage(self) -> bool:
        self.requests += 1
        if self.omit_usage_every > 0 and self.requests % self.omit_usage_every == 0:
            self.without_usage += 1
            return False
        return True


def _rough_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _prompt_tokens(messages: Any) -> int:
    total = 0
    if isinstance(messages, list):
        for m in messages:
            content = m.get("content") if isinstance(m, dict) else None
            if isinstance(content, str):
                total += _rough_tokens(content) + 4
    return max(total, 1)


def completion_body(state: MockState, request: Dict[str, Any], include_usage: bool) -> Dict[str, Any]:
    """One non-streaming chat completion, shaped like OpenAI's."""
    created = int(time.time())
    body: Dict[str, Any] = {
        "id": "chatcmpl-mock-%d" % state.requests,
        "object": "chat.completion",
        "created": created,
        "model": str(request.get("model", "gpt-4o-mini")),
        "system_fingerprint": "fp_mock",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": state.answer, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
    }
    if include_usage:
        prompt = _prompt_tokens(request.get("messages"))
        completion = _rough_tokens(state.answer)
        body["usage"] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
    return body


def stream_chunks(state: MockState, request: Dict[str, Any], include_usage: bool) -> List[bytes]:
    """The SSE events of a streamed answer, a few words per chunk."""
    model = str(request.get("model", "gpt-4o-mini"))
    created = int(time.time())
    cid = "chatcmpl-mock-%d" % state.requests
    words = state.answer.split(" ")
    pieces = [" ".join(words[i:i + 4]) + " " for i in range(0, len(words), 4)]

    def chunk(delta: Dict[str, Any], finish: Optional[str]) -> Dict[str, Any]:
        return {
            "id": cid, "object": "chat.completion.chunk", "created": created,
            "model": model, "system_fingerprint": "fp_mock",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }

    events = [chunk({"role": "assistant", "content": ""}, None)]
    events += [chunk({"content": p}, None) for p in pieces]
    events.append(chunk({}, "stop"))
    opts = request.get("stream_options") or {}
    if include_usage and isinstance(opts, dict) and opts.get("include_usage"):
        prompt = _prompt_tokens(request.get("messages"))
        completion = _rough_tokens(state.answer)
        final = chunk({}, None)
        final["choices"] = []
        final["usage"] = {"prompt_tokens": prompt, "completion_tokens": completion,
                          "total_tokens": prompt + completion}
        events.append(final)
    out = [b"data: " + json.dumps(e).encode() + b"\n\n" for e in events]
    out.append(b"data: [DONE]\n\n")
    return out


def build_app(state: MockState):
    from aiohttp import web

    async def chat_completions(request: "web.Request") -> "web.StreamResponse":
        try:
            payload = await request.json()
        except Exception:
            return web.json_response({"error": {"message": "invalid JSON", "type": "invalid_request_error"}}, status=400)
        if not isinstance(payload, dict) or not isinstance(payload.get("messages"), list):
            return web.json_response({"error": {"message": "messages must be a list", "type": "invalid_request_error"}}, status=400)
        include_usage = state.next_includes_usage()
        if state.latency_s:
            await asyncio.sleep(state.latency_s)
        if payload.get("stream"):
            state.streams += 1
            resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
            await resp.prepare(request)
            for event in stream_chunks(state, payload, include_usage):
                await resp.write(event)
            await resp.write_eof()
            return resp
        return web.json_response(completion_body(state, payload, include_usage))

    async def models(request: "web.Request") -> "web.Response":
        return web.json_response({"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model", "owned_by": "mock"}]})

    async def health(request: "web.Request") -> "web.Response":
        return web.json_response({"status": "ok", "requests": state.requests,
                                  "streams": state.streams, "without_usage": state.without_usage})

    app = web.Application()
    for prefix in ("", "/v1"):
        app.router.add_post(prefix + "/chat/completions", chat_completions)
        app.router.add_get(prefix + "/models", models)
    app.router.add_get("/health", health)
    return app


async def serve(port: int, state: MockState, max_seconds: float) -> None:
    from aiohttp import web

    runner = web.AppRunner(build_app(state), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    bound = runner.addresses[0][1]
    sys.stdout.write("READY %d\n" % bound)
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), timeout=max_seconds)
    except asyncio.TimeoutError:
        pass
    finally:
        await runner.cleanup()


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--latency-ms", type=float, default=5.0)
    p.add_argument("--omit-usage-every", type=int, default=2,
                   help="every Nth response has no usage block (0: always include it)")
    p.add_argument("--answer-words", type=int, default=60)
    p.add_argument("--max-seconds", type=float, default=3600.0,
                   help="exit by itself after this long")
    a = p.parse_args(argv)
    state = MockState(a.latency_ms, a.omit_usage_every, a.answer_words)
    try:
        import uvloop  # type: ignore
        uvloop.install()
    except Exception:
        pass
    asyncio.run(serve(a.port, state, a.max_seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
