"""Run the real LiteLLM proxy twice (stock, then fast_litellm preloaded) under load.

One mock upstream serves both runs.  Each proxy gets the same config (a
model group of several deployments on the mock, usage-based routing, which
counts tokens, and rpm/tpm limits per deployment, all without a database),
the same worker count, a random strong master key, and LiteLLM's offline
switches.  A load generator in its own process drives it at a fixed
concurrency for a fixed time while ``TreeSampler`` measures the proxy's
process tree.  Every process is started by a ``Supervisor`` and stopped at
the end, on failure, or on Ctrl-C.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional

from .procs import Supervisor, TreeSampler

PRELOAD_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "preload")
# Directory that holds the fast_litellm package (src/ in a checkout).
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

MODEL_GROUP = "bench-gpt"
VARIANTS = ("stock", "fast_litellm")
# --aa-test: two stock proxies; their "ratio" is the noise floor of this machine.
AA_VARIANTS = ("stock", "stock-again")


def is_accelerated(variant: str) -> bool:
    return variant.startswith("fast_litellm")


@dataclass
class ProxyBenchConfig:
    duration: float = 20.0          # measured seconds per variant
    rounds: int = 2                 # slices per variant, alternated ABBA
    warmup: float = 3.0             # unmeasured seconds before that
    concurrency: int = 16
    workers: int = 1                # proxy workers, same for both variants
    deployments: int = 3
    upstream_latency_ms: float = 5.0
    omit_usage_every: int = 2       # every Nth upstream answer lacks usage
    stream_every: int = 4           # every Nth request streams
    routing_strategy: str = "usage-based-routing-v2"
    max_requests: int = 1_000_000
    startup_timeout: float = 180.0
    profile: bool = False           # profile the accelerated proxy afterwards
    profile_duration: float = 10.0
    profiler: str = "auto"          # auto | py-spy | cprofile
    keep_dir: Optional[str] = None  # keep configs and logs here
    variants: List[str] = field(default_factory=lambda: list(VARIANTS))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(path: str, upstream_port: int, cfg: ProxyBenchConfig) -> None:
    """The proxy config, as YAML-compatible JSON (JSON is valid YAML)."""
    deployment = {
        "model_name": MODEL_GROUP,
        "litellm_params": {
            "model": "openai/gpt-4o-mini",
            "api_base": "http://127.0.0.1:%d/v1" % upstream_port,
            "api_key": "sk-mock-upstream",
            "rpm": 1_000_000,
            "tpm": 1_000_000_000,
        },
    }
    config = {
        "model_list": [json.loads(json.dumps(deployment)) for _ in range(cfg.deployments)],
        "router_settings": {"routing_strategy": cfg.routing_strategy, "num_retries": 0},
        "litellm_settings": {"telemetry": False, "request_timeout": 30},
        "general_settings": {},
    }
    with open(path, "w") as f:
        json.dump(config, f, indent=2)


def child_env(extra: Optional[Dict[str, str]] = None, accelerated: bool = False) -> Dict[str, str]:
    """Environment of every benchmark child: offline LiteLLM, loopback only."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost,::1"
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    env["LITELLM_OFFLINE_MODE"] = "true"
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("FAST_LITELLM_BENCH_CPROFILE", None)
    path = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != PRELOAD_DIR]
    if PACKAGE_ROOT not in path:
        path.insert(0, PACKAGE_ROOT)
    if accelerated:
        path.insert(0, PRELOAD_DIR)
    env["PYTHONPATH"] = os.pathsep.join(path)
    env.update(extra or {})
    return env


def _read_ready_line(proc: subprocess.Popen, timeout: float) -> int:
    import select

    deadline = time.monotonic() + timeout
    buf = b""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("mock upstream exited with %s" % proc.returncode)
        r, _, _ = select.select([proc.stdout], [], [], 0.2)
        if r:
            chunk = os.read(proc.stdout.fileno(), 256)
            buf += chunk
            if b"\n" in buf:
                line = buf.split(b"\n", 1)[0].decode()
                if line.startswith("READY "):
                    return int(line.split()[1])
                raise RuntimeError("mock upstream said %r" % line)
    raise TimeoutError("mock upstream did not start in %.0f s" % timeout)


def start_mock_upstream(sup: Supervisor, cfg: ProxyBenchConfig, workdir: str, max_seconds: float):
    log = open(os.path.join(workdir, "mock-upstream.log"), "wb")
    proc = sup.spawn(
        [sys.executable, "-m", "fast_litellm.bench.proxy.mock_upstream", "--port", "0",
         "--latency-ms", str(cfg.upstream_latency_ms), "--omit-usage-every", str(cfg.omit_usage_every),
         "--max-seconds", str(max_seconds)],
        stdout=subprocess.PIPE, stderr=log, env=child_env(),
    )
    log.close()
    port = _read_ready_line(proc, 60.0)
    return proc, port


def http_get(url: str, timeout: float = 2.0) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except Exception:
        return 0


def tail(path: str, n: int = 30) -> str:
    try:
        with open(path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
    except OSError:
        return ""


def start_proxy(sup: Supervisor, variant: str, config_path: str, key: str,
                cfg: ProxyBenchConfig, workdir: str, extra_env: Optional[Dict[str, str]] = None):
    """Start one proxy and wait until it is ready: (proc, url, log path)."""
    proc, url, log_path = spawn_proxy(sup, variant, config_path, key, cfg, workdir, extra_env)
    wait_ready(proc, url, log_path, variant, cfg.startup_timeout)
    return proc, url, log_path


def spawn_proxy(sup: Supervisor, variant: str, config_path: str, key: str,
                cfg: ProxyBenchConfig, workdir: str, extra_env: Optional[Dict[str, str]] = None):
    port = free_port()
    log_path = os.path.join(workdir, "proxy-%s.log" % variant)
    log = open(log_path, "wb")
    env = child_env({"LITELLM_MASTER_KEY": key, **(extra_env or {})},
                    accelerated=is_accelerated(variant))
    argv = [sys.executable, "-m", "litellm.proxy.proxy_cli", "--config", config_path,
            "--host", "127.0.0.1", "--port", str(port), "--num_workers", str(cfg.workers)]
    if cfg.workers > 1:
        # uvicorn kills a worker that does not answer its health check within
        # 5 s; importing the proxy takes longer than that on a busy machine,
        # and the workers would be restarted forever.
        argv += ["--timeout_worker_healthcheck", str(int(cfg.startup_timeout))]
    proc = sup.spawn(
        argv,
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir,
    )
    log.close()
    return proc, "http://127.0.0.1:%d" % port, log_path


def wait_ready(proc: subprocess.Popen, url: str, log_path: str, variant: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = tail(log_path)
            hint = ("\nThe LiteLLM proxy's dependencies are missing: "
                    "pip install -r requirements-bench.txt") if "ModuleNotFoundError" in log \
                or "pip install 'litellm[proxy]'" in log else ""
            raise RuntimeError("LiteLLM proxy (%s) exited with %s:\n%s%s"
                               % (variant, proc.returncode, log, hint))
        if http_get(url + "/health/liveliness") == 200:
            break
        time.sleep(0.5)
    else:
        raise TimeoutError("LiteLLM proxy (%s) not ready in %.0f s:\n%s"
                           % (variant, timeout, tail(log_path)))


def run_loadgen(sup: Supervisor, url: str, key: str, cfg: ProxyBenchConfig, duration: float,
                warmup: float) -> Dict[str, Any]:
    proc = sup.spawn(
        [sys.executable, "-m", "fast_litellm.bench.proxy.loadgen", "--url", url,
         "--model", MODEL_GROUP, "--concurrency", str(cfg.concurrency),
         "--duration", str(duration), "--warmup", str(warmup),
         "--max-requests", str(cfg.max_requests), "--stream-every", str(cfg.stream_every), "--raw"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env({"BENCH_PROXY_KEY": key}),
    )
    try:
        out, err = proc.communicate(timeout=duration + warmup + 120)
    except subprocess.TimeoutExpired:
        sup.stop(proc)
        raise TimeoutError("load generator did not finish")
    if proc.returncode != 0:
        raise RuntimeError("load generator failed: %s" % err.decode("utf-8", "replace")[-2000:])
    return json.loads(out.decode().strip().splitlines()[-1])


def warm_proxy(url: str, key: str, requests: int = 4) -> None:
    """A few sequential requests (one streamed) so first-call imports are not measured."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for i in range(requests):
        body = {"model": MODEL_GROUP, "max_tokens": 16, "stream": i == 1,
                "messages": [{"role": "user", "content": "warm-up request %d" % i}]}
        req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": "Bearer " + key})
        try:
            with opener.open(req, timeout=60) as r:
                r.read()
        except urllib.error.HTTPError as e:
            raise RuntimeError("LiteLLM proxy answered %s to a warm-up request: %s"
                               % (e.code, e.read()[:500].decode("utf-8", "replace")))


def preload_status(log_path: str) -> str:
    text = tail(log_path, 100000)
    if "fast_litellm-bench-preload: FAILED" in text:
        return "failed"
    return "loaded" if "fast_litellm-bench-preload: fast_litellm" in text else "absent"


def slice_schedule(variants: List[str], rounds: int) -> List[str]:
    """ABBA order (A B B A A B ...), so a drift in machine load hits both alike."""
    out: List[str] = []
    for r in range(max(1, rounds)):
        out.extend(variants if r % 2 == 0 else list(reversed(variants)))
    return out


def merge_loads(parts: List[Dict[str, Any]]) -> Dict[str, Any]:
    """One load result from several slices (raw latencies are concatenated)."""
    from .loadgen import summarize

    status: Dict[str, int] = {}
    for p in parts:
        for k, v in p["status_counts"].items():
            status[k] = status.get(k, 0) + v
    merged = summarize([x for p in parts for x in p.get("raw_latencies_ms", [])],
                       [x for p in parts for x in p.get("raw_overheads_ms", [])],
                       sum(p["errors"] for p in parts), status,
                       sum(p["elapsed_seconds"] for p in parts))
    merged["slices"] = len(parts)
    merged["slice_requests_per_second"] = [p["requests_per_second"] for p in parts]
    return merged


class RunningProxy:
    def __init__(self, variant: str, proc: subprocess.Popen, url: str, key: str, log_path: str):
        self.variant, self.proc, self.url, self.key, self.log_path = variant, proc, url, key, log_path
        self.loads: List[Dict[str, Any]] = []
        self.cpu_seconds = 0.0
        self.peak_rss = 0


def launch_all(sup: Supervisor, variants: List[str], config_path: str, cfg: ProxyBenchConfig,
               workdir: str) -> Dict[str, RunningProxy]:
    """Start every proxy at once (start-up is slow), then wait for and warm each."""
    started = {}
    for variant in variants:
        key = "sk-bench-" + secrets.token_hex(24)
        proc, url, log_path = spawn_proxy(sup, variant, config_path, key, cfg, workdir)
        started[variant] = RunningProxy(variant, proc, url, key, log_path)
    for p in started.values():
        wait_ready(p.proc, p.url, p.log_path, p.variant, cfg.startup_timeout)
    for p in started.values():
        warm_proxy(p.url, p.key)
    return started


def measure_slice(sup: Supervisor, p: RunningProxy, cfg: ProxyBenchConfig, duration: float,
                  warmup: float) -> None:
    sampler = TreeSampler(p.proc.pid).start()
    try:
        load = run_loadgen(sup, p.url, p.key, cfg, duration, warmup)
    finally:
        sampler.stop()
    p.loads.append(load)
    p.cpu_seconds += sampler.cpu_seconds
    p.peak_rss = max(p.peak_rss, sampler.peak_rss)


def result_of(p: RunningProxy) -> Dict[str, Any]:
    load = merge_loads(p.loads)
    completed = sum(sum(l["status_counts"].values()) for l in p.loads)
    warm_and_tail = sum(l.get("completed_total", 0) for l in p.loads)
    # CPU is sampled over each whole slice (its warm-up included), so divide
    # by every request completed in it, measured or not.
    denominator = warm_and_tail or completed
    return {
        "variant": p.variant,
        "load": load,
        "cpu_seconds": p.cpu_seconds,
        "cpu_seconds_per_1k_requests": (p.cpu_seconds / denominator * 1000.0) if denominator else None,
        "peak_rss_mb": p.peak_rss / (1024.0 * 1024.0),
        "completed_in_window": completed,
        "completed_total": warm_and_tail,
        "preload": preload_status(p.log_path) if is_accelerated(p.variant) else "n/a",
    }


def _row(case: str, unit: str, stock: Optional[float], fast: Optional[float],
         higher_is_better: bool, params: Dict[str, Any]) -> Dict[str, Any]:
    from fast_litellm.bench.suite import make_row

    variants = params.get("variants") or list(VARIANTS)
    component = "proxy" if is_accelerated(variants[1]) else "proxy A/A (%s vs %s)" % tuple(variants[:2])
    return make_row(component, case, "litellm proxy (stock)", unit, stock, fast,
                    higher_is_better, params)


def rows_from_results(results: Dict[str, Dict[str, Any]], cfg: ProxyBenchConfig) -> List[Dict[str, Any]]:
    if len(cfg.variants) < 2:
        return []
    stock, fast = results.get(cfg.variants[0]), results.get(cfg.variants[1])
    if not stock or not fast:
        return []
    params = {k: v for k, v in asdict(cfg).items() if k not in ("keep_dir",)}
    s, f = stock["load"], fast["load"]
    rows = [
        _row("requests/s", "req/s", s["requests_per_second"], f["requests_per_second"], True, params),
        _row("latency p50", "ms", s["latency_ms"]["p50"], f["latency_ms"]["p50"], False, params),
        _row("latency p95", "ms", s["latency_ms"]["p95"], f["latency_ms"]["p95"], False, params),
        _row("latency p99", "ms", s["latency_ms"]["p99"], f["latency_ms"]["p99"], False, params),
    ]
    if s["overhead_ms"]["samples"] and f["overhead_ms"]["samples"]:
        rows.append(_row("overhead header p50", "ms", s["overhead_ms"]["p50"], f["overhead_ms"]["p50"], False, params))
        rows.append(_row("overhead header p95", "ms", s["overhead_ms"]["p95"], f["overhead_ms"]["p95"], False, params))
    rows.append(_row("CPU per 1k requests", "cpu-s", stock["cpu_seconds_per_1k_requests"],
                     fast["cpu_seconds_per_1k_requests"], False, params))
    rows.append(_row("peak RSS", "MiB", stock["peak_rss_mb"], fast["peak_rss_mb"], False, params))
    return rows


def run_proxy_bench(cfg: ProxyBenchConfig, progress: Optional[Callable[[str], None]] = None) -> Dict[str, Any]:
    """Measure every variant; returns {"rows", "runs", "profile", "pids"}.

    Both proxies run side by side; the load alternates between them in
    ``cfg.rounds`` slices each (ABBA order), so changes in the machine's
    load over time fall on both variants alike.
    """
    say = progress or (lambda msg: None)
    # absolute: the proxies run with it as their working directory and are
    # given paths inside it
    workdir = os.path.abspath(cfg.keep_dir or tempfile.mkdtemp(prefix="fast-litellm-proxy-bench-"))
    os.makedirs(workdir, exist_ok=True)
    rounds = max(1, cfg.rounds)
    slice_seconds = cfg.duration / rounds
    budget = (cfg.startup_timeout * 2 + (cfg.duration + cfg.warmup + 60) * len(cfg.variants)
              + (cfg.profile_duration + cfg.startup_timeout if cfg.profile else 0) + 300)
    results: Dict[str, Dict[str, Any]] = {}
    profile: Optional[Dict[str, Any]] = None
    sup = Supervisor()
    try:
        with sup:
            say("starting mock upstream")
            _mock, upstream_port = start_mock_upstream(sup, cfg, workdir, budget)
            config_path = os.path.join(workdir, "proxy-config.yaml")
            write_config(config_path, upstream_port, cfg)
            say("starting %s proxies" % " and ".join(cfg.variants))
            running = launch_all(sup, list(cfg.variants), config_path, cfg, workdir)
            first = set()
            for i, variant in enumerate(slice_schedule(list(cfg.variants), rounds)):
                warmup = cfg.warmup if variant not in first else min(1.0, cfg.warmup)
                first.add(variant)
                say("load %d/%d: %s, %gs" % (i + 1, rounds * len(cfg.variants), variant, slice_seconds))
                measure_slice(sup, running[variant], cfg, slice_seconds, warmup)
            for variant, p in running.items():
                results[variant] = result_of(p)
            if cfg.profile:
                from .profile import profile_under_load

                target = running[cfg.variants[-1]]
                for variant, p in running.items():  # profile alone on the machine
                    if p is not target:
                        sup.stop(p.proc)
                say("profiling %s for %gs" % (target.variant, cfg.profile_duration))
                profile = profile_under_load(sup, target.proc, target.url, target.key, cfg, workdir,
                                             run_loadgen)
                profile["variant"] = target.variant
            pids = sup.all_pids()
    finally:
        sup.close()
        if not cfg.keep_dir:
            shutil.rmtree(workdir, ignore_errors=True)
    return {"rows": rows_from_results(results, cfg), "runs": results, "profile": profile,
            "pids": sorted(set(pids) | sup.seen_pids), "workdir": cfg.keep_dir}
