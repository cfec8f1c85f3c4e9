"""Closed-loop load generator for an OpenAI-compatible endpoint.

``concurrency`` workers each send one request, wait for the whole answer
(streamed answers are read to ``[DONE]``), and send the next, for
``duration`` seconds after ``warmup`` seconds, or until ``max_requests`` —
whichever comes first.  Only loopback targets are accepted.

Run as its own process (so its CPU is not the proxy's):

    python -m fast_litellm.bench.proxy.loadgen --url http://127.0.0.1:4000 \
        --model bench-gpt --concurrency 16 --duration 10 --key sk-...

It prints one JSON object: requests, errors, requests_per_second,
latency percentiles (ms), and the proxy's ``x-litellm-overhead-duration-ms``
header statistics when the proxy sends it.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any, Dict, List, Optional
from urllib.parse import urlparse

OVERHEAD_HEADER = "x-litellm-overhead-duration-ms"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

# Prompts differ per request (index and a rotating topic), so no cache in
# the proxy can answer a repeat.
TOPICS = (
    "the history of the printing press", "how tokenizers split unicode text",
    "rate limiting with token buckets", "the latency of loopback sockets",
    "why exact behaviour matters for a drop-in library", "routing by usage",
)


def is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def make_messages(i: int) -> List[Dict[str, str]]:
    topic = TOPICS[i % len(TOPICS)]
    return [
        {"role": "system", "content": "You are a concise assistant. Request %d." % i},
        {"role": "user", "content": "Write two sentences about %s, item %d, in plain English." % (topic, i)},
    ]


def percentile(sorted_values: List[float], q: float) -> Optional[float]:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_values:
        return None
    import math

    k = max(0, min(len(sorted_values) - 1, math.ceil(q / 100.0 * len(sorted_values)) - 1))
    return sorted_values[k]


def summarize(latencies_ms: List[float], overheads_ms: List[float], errors: int,
              status_counts: Dict[str, int], elapsed: float) -> Dict[str, Any]:
    lat = sorted(latencies_ms)
    ovh = sorted(overheads_ms)
    n = len(lat)
    return {
        "requests": n,
        "errors": errors,
        "status_counts": status_counts,
        "elapsed_seconds": elapsed,
        "requests_per_second": (n / elapsed) if elapsed > 0 else 0.0,
        "latency_ms": {
            "p50": percentile(lat, 50), "p95": percentile(lat, 95), "p99": percentile(lat, 99),
            "mean": (sum(lat) / n) if n else None, "max": lat[-1] if lat else None,
        },
        "overhead_ms": {
            "samples": len(ovh),
            "p50": percentile(ovh, 50), "p95": percentile(ovh, 95), "p99": percentile(ovh, 99),
            "mean": (sum(ovh) / len(ovh)) if ovh else None,
        },
    }


async def run_load(url: str, model: str, key: Optional[str], concurrency: int, duration: float,
                   warmup: float, max_requests: int, stream_every: int, timeout: float,
                   raw: bool = False) -> Dict[str, Any]:
    import aiohttp

    if not is_loopback(url):
        raise ValueError("url must be a loopback address, got %r" % url)
    endpoint = url.rstrip("/") + "/v1/chat/completions"
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = "Bearer " + key
    latencies: List[float] = []
    overheads: List[float] = []
    status_counts: Dict[str, int] = {}
    counters = {"next": 0, "errors": 0, "started": 0, "completed": 0}
    t0 = time.perf_counter()
    measure_from = t0 + warmup
    stop_at = measure_from + duration

    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout, trust_env=False) as session:

        async def one(i: int) -> None:
            stream = stream_every > 0 and i % stream_every == 0
            body = {"model": model, "messages": make_messages(i), "max_tokens": 64}
            if stream:
                body["stream"] = True
            start = time.perf_counter()
            measured = start >= measure_from
            try:
                async with session.post(endpoint, data=json.dumps(body), headers=headers) as resp:
                    if stream:
                        async for _line in resp.content:
                            pass
                    else:
                        await resp.read()
                    status = str(resp.status)
                    overhead = resp.headers.get(OVERHEAD_HEADER)
            except Exception as exc:  # counted, never raised
                status, overhead = type(exc).__name__, None
            end = time.perf_counter()
            counters["completed"] += 1
            if not measured or end > stop_at:
                return
            status_counts[status] = status_counts.get(status, 0) + 1
            if status != "200":
                counters["errors"] += 1
                return
            latencies.append((end - start) * 1000.0)
            if overhead:
                try:
                    overheads.append(float(overhead))
                except ValueError:
                    pass

        async def worker() -> None:
            while True:
                now = time.perf_counter()
                if now >= stop_at or counters["started"] >= max_requests:
                    return
                i = counters["next"]
                counters["next"] += 1
                if now >= measure_from:
                    counters["started"] += 1
                await one(i)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = min(time.perf_counter(), stop_at) - measure_from
    out = summarize(latencies, overheads, counters["errors"], status_counts, elapsed)
    out["completed_total"] = counters["completed"]  # warm-up and tail included
    if raw:
        out["raw_latencies_ms"] = latencies
        out["raw_overheads_ms"] = overheads
    out["params"] = {"concurrency": concurrency, "duration": duration, "warmup": warmup,
                     "max_requests": max_requests, "stream_every": stream_every}
    return out


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description="closed-loop load generator (loopback only)")
    p.add_argument("--url", required=True)
    p.add_argument("--model", default="bench-gpt")
    p.add_argument("--key", default=None, help="bearer key (default: $BENCH_PROXY_KEY)")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--max-requests", type=int, default=1_000_000)
    p.add_argument("--stream-every", type=int, default=4,
                   help="every Nth request streams (0: never)")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--raw", action="store_true", help="also print every latency (to merge runs)")
    a = p.parse_args(argv)
    import os
    key = a.key or os.environ.get("BENCH_PROXY_KEY")
    result = asyncio.run(run_load(a.url, a.model, key, a.concurrency, a.duration, a.warmup,
                                  a.max_requests, a.stream_every, a.timeout, a.raw))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
