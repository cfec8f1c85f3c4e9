"""Plumbing of `fast-litellm bench`: discovery, rows, table, JSON, plot, CLI."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import types

import pytest

from fast_litellm.bench import suite
from fast_litellm.bench import cli as bench_cli
from fast_litellm.bench.report import print_table, write_json, write_plot


def _install_fake(monkeypatch, component, run):
    pkg = types.ModuleType("fast_litellm.%s" % component)
    pkg.__path__ = []
    mod = types.ModuleType("fast_litellm.%s.bench" % component)
    mod.run = run
    monkeypatch.setitem(sys.modules, pkg.__name__, pkg)
    monkeypatch.setitem(sys.modules, mod.__name__, mod)


def _good_run(quick=False):
    return [suite.make_row("fakebench", "tiny case", "stock thing 1.0", "us/call", 2.0, 1.0, False,
                           {"quick": quick})]


def test_ratio_direction():
    assert suite.ratio_of(2.0, 1.0, higher_is_better=False) == 2.0
    assert suite.ratio_of(100.0, 150.0, higher_is_better=True) == 1.5
    assert suite.ratio_of(None, 1.0, False) is None
    assert suite.ratio_of(1.0, 0.0, False) is None


def test_make_row_is_valid():
    row = _good_run()[0]
    assert suite.validate_row(row) == []
    assert set(suite.ROW_KEYS) <= set(row)


@pytest.mark.parametrize("bad", [
    "not a dict",
    {"component": "x"},
    dict(_good_run()[0], ratio="fast"),
    dict(_good_run()[0], higher_is_better=1),
])
def test_validate_row_rejects(bad):
    assert suite.validate_row(bad)


def test_missing_component_is_a_note():
    res = suite.run_component("no_such_component_xyz", quick=True)
    assert res["status"] == "missing" and res["rows"] == []


def test_component_ok_error_and_malformed(monkeypatch):
    _install_fake(monkeypatch, "fakebench", _good_run)
    res = suite.run_component("fakebench", quick=True)
    assert res["status"] == "ok" and len(res["rows"]) == 1
    assert res["rows"][0]["params"] == {"quick": True}

    def boom(quick=False):
        raise RuntimeError("kaput")
    _install_fake(monkeypatch, "fakeboom", boom)
    res = suite.run_component("fakeboom", quick=True)
    assert res["status"] == "error" and "kaput" in res["note"]

    _install_fake(monkeypatch, "fakebad", lambda quick=False: _good_run() + [{"component": "x"}])
    res = suite.run_component("fakebad", quick=True)
    assert res["status"] == "ok" and len(res["rows"]) == 1 and "malformed" in res["note"]

    unmeasured = {"component": "x", "case": "peer not usable: p (r50k_base)", "baseline": "p", "unit": "n/a",
                  "baseline_value": float("nan"), "value": float("nan"), "ratio": float("nan"),
                  "higher_is_better": True, "params": {"reason": "no r50k_base"}}
    _install_fake(monkeypatch, "fakenote", lambda quick=False: _good_run() + [unmeasured])
    res = suite.run_component("fakenote", quick=True)
    assert res["status"] == "ok" and len(res["rows"]) == 1
    assert res["note"] == "peer not usable: p (r50k_base) (no r50k_base)"


def test_plain_table_and_plot(tmp_path):
    import io

    out = io.StringIO()
    rows = _good_run()
    print_table(rows, ["a note"], plain=True, stream=out)
    text = out.getvalue()
    assert "tiny case" in text and "2.00x" in text and "note: a note" in text
    pytest.importorskip("matplotlib")
    png = tmp_path / "r.png"
    assert write_plot(str(png), rows, "t") is None
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    empty = tmp_path / "e.png"
    assert write_plot(str(empty), [], "t") is None and empty.exists()


def test_json_replaces_nan(tmp_path):
    p = tmp_path / "x.json"
    write_json(str(p), {"a": float("nan"), "b": [1, float("inf")], "c": {"d": (1, 2)}})
    assert json.loads(p.read_text()) == {"a": None, "b": [1, None], "c": {"d": [1, 2]}}


def test_cli_json_schema(monkeypatch, tmp_path, capsys):
    _install_fake(monkeypatch, "fakebench", _good_run)
    out = tmp_path / "bench.json"
    png = tmp_path / "bench.png"
    md = tmp_path / "bench.md"
    code = bench_cli.main(["--quick", "--components", "fakebench,no_such_component_xyz", "--no-peers",
                           "--plain", "--no-progress", "--json", str(out), "--markdown", str(md)]
                          + (["--plot", str(png)] if _has_matplotlib() else []))
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["schema"] == "fast-litellm-bench/1"
    for key in ("timestamp", "command", "parameters", "versions", "machine", "results", "components",
                "notes", "duration_seconds"):
        assert key in doc, key
    for key in ("python", "fast-litellm", "litellm", "tiktoken"):
        assert key in doc["versions"]
    for key in ("cpu_model", "cpu_count", "memory_bytes", "os"):
        assert key in doc["machine"]
    assert doc["parameters"]["quick"] is True
    assert [r["case"] for r in doc["results"]] == ["tiny case"]
    assert all(suite.validate_row(r) == [] for r in doc["results"])
    statuses = {c["component"]: c["status"] for c in doc["components"]}
    assert statuses == {"fakebench": "ok", "no_such_component_xyz": "missing"}
    assert any("no_such_component_xyz" in n for n in doc["notes"])
    assert "tiny case" in md.read_text()
    assert "tiny case" in capsys.readouterr().out
    if _has_matplotlib():
        assert png.read_bytes()[:4] == b"\x89PNG"


def _has_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return False


def test_registry_hook_adds_bench_subcommand():
    parser = argparse.ArgumentParser(prog="fast-litellm")
    sub = parser.add_subparsers(dest="command")
    bench_cli.add_bench_command(sub)
    args = parser.parse_args(["bench", "--quick", "--proxy", "--workers", "2", "--json", "x.json"])
    assert args.func is bench_cli.run_from_args
    assert args.quick and args.proxy and args.workers == 2 and args.json == "x.json"
    assert bench_cli._components(args) == []  # --proxy alone skips the component suite
    args = parser.parse_args(["bench"])
    assert bench_cli._components(args) == list(suite.COMPONENTS)


def test_module_entry_point_help():
    r = subprocess.run([sys.executable, "-m", "fast_litellm.bench", "--help"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and "--proxy" in r.stdout and "--quick" in r.stdout


def test_token_counter_memory_row_is_valid():
    """The memory row runs both sides in fresh children; only its shape and
    the agreement of the two counts are a test (its size is the bench's)."""
    from fast_litellm.token_counter import bench as tc_bench

    rows = tc_bench._memory_rows()
    assert len(rows) == len(tc_bench.MEMORY_MODELS)
    for row in rows:
        assert suite.validate_row(row) == []
        assert row["unit"] == "MiB" and row["higher_is_better"] is False
        assert row["baseline_value"] > 0 and row["value"] > 0


def test_tokenizer_memory_rows_measure_each_child():
    """A child's peak RSS growth is its own (VmHWM), not the parent's peak
    that ru_maxrss carries over exec: grow this process first, then the
    children must still report a growth above zero on both sides."""
    from fast_litellm.tokenizer import bench as tok_bench

    ballast = bytearray(b"x" * (64 << 20))  # touched: 64 MiB of peak RSS here
    rows = [r for r in tok_bench._cold_rows(1) if r["unit"] == "MiB"]
    del ballast
    assert len(rows) == 2
    for row in rows:
        assert suite.validate_row(row) == []
        assert row["baseline_value"] > 1 and row["value"] > 1
