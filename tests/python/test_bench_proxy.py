"""Plumbing of `fast-litellm bench --proxy`: mock upstream, load generator,
process supervision (nothing left running), profile parsing, and one tiny
end-to-end run of the real LiteLLM proxy (slow)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from fast_litellm.bench.proxy import loadgen, procs, runner
from fast_litellm.bench.proxy.profile import frame_key, parse_pyspy_raw, top_frames

pytest.importorskip("aiohttp")


def _post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=10) as r:
        return r.status, r.read().decode()


@pytest.fixture
def mock_upstream(tmp_path):
    sup = procs.Supervisor(grace_seconds=3)
    cfg = runner.ProxyBenchConfig(upstream_latency_ms=1.0, omit_usage_every=2)
    proc, port = runner.start_mock_upstream(sup, cfg, str(tmp_path), max_seconds=60)
    try:
        yield "http://127.0.0.1:%d" % port, proc, sup
    finally:
        sup.close()
    assert not procs.pid_alive(proc.pid)


def test_mock_upstream_answers(mock_upstream):
    url, _, _ = mock_upstream
    msgs = [{"role": "user", "content": "hello there"}]
    status, text = _post(url + "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": msgs})
    first = json.loads(text)
    assert status == 200 and first["object"] == "chat.completion"
    assert first["choices"][0]["message"]["role"] == "assistant"
    assert first["choices"][0]["message"]["content"]
    assert first["usage"]["total_tokens"] == first["usage"]["prompt_tokens"] + first["usage"]["completion_tokens"]
    _, text = _post(url + "/v1/chat/completions", {"model": "m", "messages": msgs})
    assert "usage" not in json.loads(text)  # every 2nd answer: LiteLLM must count
    status, text = _post(url + "/v1/chat/completions",
                         {"model": "m", "messages": msgs, "stream": True,
                          "stream_options": {"include_usage": True}})
    events = [l[len("data: "):] for l in text.splitlines() if l.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert content.strip() == first["choices"][0]["message"]["content"]
    assert chunks[-1]["usage"]["total_tokens"] > 0
    with pytest.raises(urllib.error.HTTPError) as e:
        _post(url + "/v1/chat/completions", {"model": "m"})
    assert e.value.code == 400
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    health = json.loads(opener.open(url + "/health", timeout=5).read())
    assert health["requests"] == 3 and health["streams"] == 1 and health["without_usage"] == 1


def test_loadgen_against_mock(mock_upstream):
    url, _, _ = mock_upstream
    import asyncio

    res = asyncio.run(loadgen.run_load(url, "m", None, concurrency=4, duration=0.7, warmup=0.1,
                                       max_requests=10_000, stream_every=3, timeout=10))
    assert res["errors"] == 0 and res["requests"] > 0
    assert res["status_counts"] == {"200": res["requests"]}
    lat = res["latency_ms"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert res["overhead_ms"]["samples"] == 0  # the mock sends no LiteLLM header


def test_loadgen_refuses_non_loopback():
    import asyncio

    with pytest.raises(ValueError):
        asyncio.run(loadgen.run_load("http://10.1.2.3:80", "m", None, 1, 0.1, 0, 1, 0, 1))
    assert loadgen.is_loopback("http://127.0.0.1:4000") and loadgen.is_loopback("http://localhost:1")


def test_percentile_and_summary():
    assert loadgen.percentile([], 50) is None
    vals = [float(i) for i in range(1, 101)]
    assert loadgen.percentile(vals, 50) == 50.0
    assert loadgen.percentile(vals, 99) == 99.0
    s = loadgen.summarize([3.0, 1.0, 2.0], [0.5], 1, {"200": 3, "500": 1}, 2.0)
    assert s["requests"] == 3 and s["requests_per_second"] == 1.5 and s["latency_ms"]["p50"] == 2.0


def test_supervisor_stops_process_tree_and_grandchildren():
    code = ("import subprocess, sys, time; "
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            "print('up', flush=True); time.sleep(60)")
    with procs.Supervisor(grace_seconds=2) as sup:
        p = sup.spawn([sys.executable, "-c", code], stdout=subprocess.PIPE)
        assert p.stdout.readline().strip() == b"up"
        deadline = time.monotonic() + 5
        while len(procs.tree_pids(p.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = procs.tree_pids(p.pid)
        assert len(pids) == 2
        sampler = procs.TreeSampler(p.pid, interval=0.05).start()
        time.sleep(0.2)
        sampler.stop()
        assert sampler.peak_rss > 0 and sampler.cpu_seconds >= 0
    assert not any(procs.pid_alive(pid) for pid in pids)
    assert set(pids) <= set(sup.all_pids())


def test_supervisor_stops_term_ignoring_child():
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    sup = procs.Supervisor(grace_seconds=0.5)
    p = sup.spawn([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert p.stdout.readline().strip() == b"up"
    sup.close()
    assert not procs.pid_alive(p.pid)
    sup.close()  # idempotent


def test_pyspy_raw_parsing():
    raw = ("process 12:\"python -m x\";main (/a/site-packages/x/app.py:10);work (/a/site-packages/x/app.py:20) 30\n"
           "main (/a/site-packages/x/app.py:10);work (/a/site-packages/x/app.py:21) 10\n"
           "main (/a/site-packages/x/app.py:10) 10\n"
           "garbage\n")
    own, incl, total = parse_pyspy_raw(raw)
    assert total == 50
    assert own["work (x/app.py)"] == 40 and own["main (x/app.py)"] == 10
    assert incl["main (x/app.py)"] == 50
    top = top_frames(own, incl, total)
    assert top[0]["frame"] == "work (x/app.py)" and top[0]["own_percent"] == 80.0
    assert frame_key("f (<frozen abc>)") == "f (<frozen abc>)"


def test_config_is_loopback_json(tmp_path):
    p = tmp_path / "c.yaml"
    runner.write_config(str(p), 1234, runner.ProxyBenchConfig(deployments=4))
    cfg = json.loads(p.read_text())
    assert len(cfg["model_list"]) == 4
    assert all(d["litellm_params"]["api_base"] == "http://127.0.0.1:1234/v1" for d in cfg["model_list"])
    assert cfg["router_settings"]["routing_strategy"] == "usage-based-routing-v2"
    env = runner.child_env(accelerated=True)
    assert env["PYTHONPATH"].split(os.pathsep)[0] == runner.PRELOAD_DIR
    assert runner.PRELOAD_DIR not in runner.child_env(accelerated=False)["PYTHONPATH"]
    assert env["LITELLM_OFFLINE_MODE"] == "true" and "http_proxy" not in {k.lower() for k in env if env[k] and k.lower() == "http_proxy"}


def _litellm_proxy_importable():
    r = subprocess.run([sys.executable, "-c", "import litellm.proxy.proxy_server"],
                       capture_output=True, timeout=120,
                       env=dict(os.environ, LITELLM_OFFLINE_MODE="true", LITELLM_LOCAL_MODEL_COST_MAP="True"))
    return r.returncode == 0


@pytest.mark.slow
@pytest.mark.litellm
def test_tiny_proxy_run_cleans_up(tmp_path, monkeypatch):
    if not _litellm_proxy_importable():
        missing = "LiteLLM proxy dependencies missing: pip install -r requirements-bench.txt"
        # the README's test command installs them: there a missing one is a
        # defect of requirements-bench.txt, not a reason to skip
        if os.environ.get("FAST_LITELLM_REQUIRE_NATIVE"):
            pytest.fail(missing)
        pytest.skip(missing)
    # a relative --keep-dir: the proxies run inside it and used to be handed
    # a config path relative to the caller ("Config file not found")
    monkeypatch.chdir(tmp_path)
    cfg = runner.ProxyBenchConfig(duration=1.5, warmup=0.5, concurrency=2, deployments=2, rounds=1,
                                  keep_dir="run")
    out = runner.run_proxy_bench(cfg)
    assert set(out["runs"]) == {"stock", "fast_litellm"}
    assert out["runs"]["fast_litellm"]["preload"] == "loaded"
    for run in out["runs"].values():
        assert run["load"]["requests"] > 0 and run["load"]["errors"] == 0
        assert run["peak_rss_mb"] > 0
    assert {r["case"] for r in out["rows"]} >= {"requests/s", "latency p50", "CPU per 1k requests", "peak RSS"}
    assert len(out["pids"]) >= 5  # mock, 2 proxies, 2 load generators
    assert not [pid for pid in out["pids"] if procs.pid_alive(pid)]


def test_abba_schedule_and_merge():
    assert runner.slice_schedule(["a", "b"], 1) == ["a", "b"]
    assert runner.slice_schedule(["a", "b"], 3) == ["a", "b", "b", "a", "a", "b"]
    part = lambda lat, rps: {"status_counts": {"200": len(lat)}, "errors": 0, "elapsed_seconds": 1.0,
                             "raw_latencies_ms": lat, "raw_overheads_ms": [], "requests_per_second": rps}
    merged = runner.merge_loads([part([1.0, 2.0], 2.0), part([3.0], 1.0)])
    assert merged["requests"] == 3 and merged["requests_per_second"] == 1.5
    assert merged["latency_ms"]["p50"] == 2.0 and merged["slice_requests_per_second"] == [2.0, 1.0]


def test_rows_name_the_aa_test():
    load = loadgen.summarize([1.0, 2.0], [0.5], 0, {"200": 2}, 1.0)
    run = {"load": load, "cpu_seconds_per_1k_requests": 10.0, "peak_rss_mb": 100.0}
    cfg = runner.ProxyBenchConfig(variants=list(runner.AA_VARIANTS))
    rows = runner.rows_from_results({"stock": run, "stock-again": run}, cfg)
    assert rows and all(r["component"].startswith("proxy A/A") and r["ratio"] == 1.0 for r in rows)
    cfg = runner.ProxyBenchConfig()
    rows = runner.rows_from_results({"stock": run, "fast_litellm": run}, cfg)
    assert {r["component"] for r in rows} == {"proxy"}
    assert runner.is_accelerated("fast_litellm") and not runner.is_accelerated("stock-again")


def test_ctrl_c_stops_children(tmp_path):
    """SIGINT to a process holding a Supervisor stops the children it started."""
    import signal

    script = tmp_path / "holder.py"
    script.write_text(
        "import subprocess, sys, time\n"
        "from fast_litellm.bench.proxy.procs import Supervisor\n"
        "with Supervisor(grace_seconds=2) as sup:\n"
        "    p = sup.spawn([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "    print(p.pid, flush=True)\n"
        "    time.sleep(60)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([runner.PACKAGE_ROOT, os.environ.get("PYTHONPATH", "")]))
    holder = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, env=env)
    try:
        child = int(holder.stdout.readline())
        assert procs.pid_alive(child)
        holder.send_signal(signal.SIGINT)
        holder.wait(timeout=20)
        assert holder.returncode != 0
        deadline = time.monotonic() + 5
        while procs.pid_alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not procs.pid_alive(child)
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.stdout.close()
