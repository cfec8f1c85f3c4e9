"""Plumbing of `fast-litellm bench`: discovery, rows, table, JSON, plot, CLI."""
from __future__ import annotations

import argparse
import json
import os
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


COMPONENT_BENCHES = ["cache", "cost", "monitor", "patching", "pool", "ratelimit", "routing", "token_counter",
                     "tokenizer"]


@pytest.mark.parametrize("component", COMPONENT_BENCHES)
def test_component_bench_help_and_unknown_options(component):
    """`python -m fast_litellm.<component>.bench --help` prints its help and
    runs nothing; a misspelt option is an error (exit 2) naming it, never a
    full run that ignores it."""
    module = "fast_litellm.%s.bench" % component
    r = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "python -m %s" % module in r.stdout and "--quick" in r.stdout
    r = subprocess.run([sys.executable, "-m", module, "--qiuck"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "unrecognized arguments: --qiuck" in r.stderr, (r.returncode, r.stderr)


def test_routing_bench_option_values_are_checked():
    from fast_litellm.routing import bench as routing_bench

    args = routing_bench._options
    from fast_litellm.bench.component_args import parse

    ns = parse("m", None, ["--sizes=10,1000", "--strategies", "least-busy,simple-shuffle"], args)
    assert ns.sizes == [10, 1000] and ns.strategies == ["least-busy", "simple-shuffle"] and not ns.quick
    for bad in (["--sizes=10,x"], ["--sizes=0"], ["--strategies=least_busy"], ["--seed-only", "--router-only"]):
        with pytest.raises(SystemExit) as info:
            parse("m", None, bad, args)
        assert info.value.code == 2


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


def test_tokenizer_rotation_never_warms_ours_with_our_own_variant(monkeypatch):
    """"ours, no piece cache" counted the same block right before "ours" in
    2 of 4 rounds of one rotation (3 of 4 with peers), so "ours" started on
    a table it had just warmed.  It now has its own rotation against
    tiktoken, after the main one; the main rotation holds ours and the
    other libraries only, and the no-cache row's baseline is the tiktoken
    timed beside it."""
    pytest.importorskip("tiktoken")
    from fast_litellm.tokenizer import bench as tok_bench

    calls = []
    real = tok_bench._interleaved

    def recording(fns, docs, rounds=4):
        calls.append(list(fns))
        return real(fns, docs, rounds)

    monkeypatch.setattr(tok_bench, "_interleaved", recording)
    try:
        rows = tok_bench._throughput_rows("cl100k_base", "prose", 9, 2000, {}, seed=1)
    except Exception as exc:  # pragma: no cover - vocabulary not reachable here
        pytest.skip("cl100k_base not loadable: %s" % exc)
    assert calls[0][0] == "ours" and not any("no piece cache" in k for k in calls[0])
    if len(calls) > 1:  # the native core (the twin has no piece cache)
        assert sorted(calls[1]) == sorted(["ours, no piece cache", calls[0][1]])
        assert [r["case"].endswith("(no piece cache)") for r in rows] == [False, True]
    for row in rows:
        assert suite.validate_row(row) == []


def test_tokenizer_repeated_case_is_separate_runs_summed(monkeypatch):
    """prose-unique is timed as several runs: each its own documents (seed +
    k), the piece cache emptied and peers made afresh before each, every
    side's seconds summed over the runs."""
    from fast_litellm.tokenizer import bench as tok_bench

    seeds, cleared, made = [], [], []
    real_docs = tok_bench._corpus.documents

    def documents(kind, n, size, seed=0):
        seeds.append(seed)
        return real_docs(kind, n, size, seed)

    monkeypatch.setattr(tok_bench._corpus, "documents", documents)
    monkeypatch.setattr(tok_bench, "_interleaved",
                        lambda fns, docs, rounds=4: {k: 0.5 for k in fns})
    import fast_litellm.tokenizer as tokenizer_pkg

    try:
        enc = tokenizer_pkg.get_encoding("cl100k_base")
    except Exception as exc:  # pragma: no cover - vocabulary not reachable here
        pytest.skip("cl100k_base not loadable: %s" % exc)

    class Core:  # the encoding's core, its cache clears counted
        cache_enabled = False

        def clear_cache(self):
            cleared.append(1)

    class Enc:
        _core = Core()

        def count(self, text, **kw):
            return enc.count(text, **kw)

    monkeypatch.setattr(tokenizer_pkg, "get_encoding", lambda name: Enc())

    def fresh():
        made.append(1)
        return {}

    one = tok_bench._throughput_rows("cl100k_base", "prose", 8, 2000, {}, seed=3)
    seeds.clear()
    cleared.clear()
    three = tok_bench._throughput_rows("cl100k_base", "prose", 8, 2000, {}, seed=3, label="prose-unique",
                                       repeats=3, fresh_peers=fresh)
    assert seeds == [3, 4, 5] and len(made) == 2 and len(cleared) == 3
    assert three[0]["case"] == "count cl100k_base prose-unique MB/s"
    assert three[0]["params"]["repeats"] == 3
    assert three[0]["params"]["documents"] == 3 * one[0]["params"]["documents"]
    # every side's seconds summed: 3 x 0.5 s over ~3 x the bytes
    assert three[0]["value"] == pytest.approx(one[0]["value"], rel=0.05)
    for row in three:
        assert suite.validate_row(row) == []


# -- output files and arguments: checked before the run ----------------------

QUIET = ["--components", "none", "--no-peers", "--plain", "--no-progress"]


def _no_run(monkeypatch):
    def run_bench(args):
        raise AssertionError("the benchmark ran despite a bad argument")

    monkeypatch.setattr(bench_cli, "run_bench", run_bench)


@pytest.mark.parametrize("option", ["--json", "--markdown", "--plot"])
def test_unwritable_output_is_refused_before_the_run(option, monkeypatch, tmp_path, capsys):
    """A long run used to end in a traceback from the write (and a stray
    `.tmp` file); now nothing runs and the reason is named."""
    _no_run(monkeypatch)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for path, why in ((str(tmp_path), "is a directory"),
                      (str(a_file / "out"), "is not a directory"),
                      ("", "empty path")):
        assert bench_cli.main(QUIET + [option, path]) == 2
        err = capsys.readouterr().err
        assert "cannot write %s" % option in err and why in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_keep_dir_must_be_a_directory(monkeypatch, tmp_path, capsys):
    _no_run(monkeypatch)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert bench_cli.main(QUIET + ["--proxy", "--keep-dir", str(a_file)]) == 2
    assert "--keep-dir" in capsys.readouterr().err


@pytest.mark.parametrize("option,value", [
    ("--duration", "0"), ("--duration", "-1"), ("--duration", "nan"), ("--duration", "inf"),
    ("--warmup", "-1"), ("--rounds", "0"), ("--concurrency", "0"), ("--concurrency", "x"),
    ("--workers", "0"), ("--deployments", "-3"), ("--stream-every", "-1"),
    ("--omit-usage-every", "-2"), ("--max-requests", "0"), ("--peer-rounds", "-1"),
    ("--profile-duration", "0"), ("--upstream-latency-ms", "-5"),
])
def test_nonsense_numbers_are_usage_errors(option, value, monkeypatch, capsys):
    """--peer-rounds -1 used to measure nothing and exit 0; --concurrency 0
    and the like failed only after both proxies had started."""
    _no_run(monkeypatch)
    with pytest.raises(SystemExit) as exit_:
        bench_cli.main(QUIET + [option, value])
    assert exit_.value.code == 2
    assert "argument %s" % option in capsys.readouterr().err


def test_zero_means_never_where_the_help_says_so():
    args = bench_cli.build_parser().parse_args(["--stream-every", "0", "--omit-usage-every", "0",
                                                "--warmup", "0"])
    assert (args.stream_every, args.omit_usage_every, args.warmup) == (0, 0, 0.0)


def test_files_are_written_before_the_table(monkeypatch, tmp_path, capsys):
    """`fast-litellm bench --json out.json | head -1`: the table's broken pipe
    used to lose the JSON of the whole run."""
    from fast_litellm import cli as main_cli

    def closed_stdout(*args, **kwargs):
        raise BrokenPipeError

    monkeypatch.setattr("fast_litellm.bench.report.print_table", closed_stdout)
    out, md = tmp_path / "b.json", tmp_path / "b.md"
    assert main_cli.main(["bench"] + QUIET + ["--json", str(out), "--markdown", str(md)]) == 0
    assert json.loads(out.read_text())["schema"] == "fast-litellm-bench/1"
    assert md.read_text().startswith("# fast-litellm bench")


def test_a_failed_write_is_reported_and_the_others_still_written(monkeypatch, tmp_path, capsys):
    def full_disk(path, doc):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("fast_litellm.bench.report.write_json", full_disk)
    md = tmp_path / "b.md"
    assert bench_cli.main(QUIET + ["--json", str(tmp_path / "b.json"), "--markdown", str(md)]) == 1
    captured = capsys.readouterr()
    assert "cannot write --json" in captured.err and "No space left on device" in captured.err
    assert md.exists() and "wrote %s" % md in captured.out


def test_json_through_a_symlink_or_device_writes_through(tmp_path):
    """`--json /dev/stdout` renamed a temporary file over the /dev/stdout
    link itself (as root); any symlinked output lost its link."""
    target = tmp_path / "target.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_json(str(link), {"a": 1})
    assert link.is_symlink() and json.loads(target.read_text()) == {"a": 1}

    read_end, write_end = os.pipe()  # what /dev/stdout is under `| head`
    try:
        fd_link = tmp_path / "stdout"
        fd_link.symlink_to("/proc/self/fd/%d" % write_end)
        if not os.path.exists(str(fd_link)):
            pytest.skip("no /proc/self/fd")
        write_json(str(fd_link), {"b": 2})
        assert fd_link.is_symlink()
        os.close(write_end)
        write_end = None
        with os.fdopen(read_end) as f:
            read_end = None
            assert json.loads(f.read()) == {"b": 2}
    finally:
        for fd in (read_end, write_end):
            if fd is not None:
                os.close(fd)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "stdout", "target.json"]


def test_plot_is_written_under_exactly_the_name_given(tmp_path):
    if not _has_matplotlib():
        pytest.skip("matplotlib not installed")
    rows = [suite.make_row("c", "x", "b", "us", 2.0, 1.0, False)]
    for name in ("chart", "chart.data"):  # matplotlib added ".png" / refused the extension
        assert write_plot(str(tmp_path / name), rows, "t") is None
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chart", "chart.data"]


def test_table_and_markdown_take_notes_that_are_not_utf8(tmp_path):
    """A peer venv path with bytes that are not UTF-8 ends in a note; the
    table and the Markdown report crashed on it at the end of the run."""
    import io

    from fast_litellm.bench.markdown import write_markdown

    notes = ["peers: not available (tried /tmp/\udcff)"]
    rows = [suite.make_row("c", "case \udcfe", "b", "us", 2.0, 1.0, False)]
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", write_through=True)
    print_table(rows, notes, plain=True, stream=out)
    text = raw.getvalue().decode("utf-8")
    assert "/tmp/\\udcff" in text and "case \\udcfe" in text
    md = tmp_path / "r.md"
    write_markdown(str(md), {"results": rows, "notes": notes})
    assert "/tmp/\\udcff" in md.read_text(encoding="utf-8")


def test_output_check_does_not_open_a_fifo(tmp_path):
    """`--json fifo` with a reader waiting: checking by opening the FIFO
    would block until the reader came, then hand it an empty document."""
    import threading

    fifo = tmp_path / "fifo"
    os.mkfifo(str(fifo))
    answer = []
    check = threading.Thread(target=lambda: answer.append(bench_cli._unwritable(str(fifo), "file")),
                             daemon=True)
    check.start()
    check.join(10)
    blocked = check.is_alive()
    if blocked:  # release it: a reader lets the open return
        os.close(os.open(str(fifo), os.O_RDONLY | os.O_NONBLOCK))
        check.join(10)
    assert not blocked and answer == [None]
