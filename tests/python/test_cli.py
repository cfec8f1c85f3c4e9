"""The fast-litellm command: plumbing, doctor's JSON schema, demo, extensions."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import fast_litellm
from fast_litellm import cli

SRC = str(Path(__file__).resolve().parents[2] / "src")

FLAGS = {
    "rust_routing": {"enabled": True, "errors": 0, "rollout_percentage": 100, "state": "on",
                     "error_threshold": 10, "last_error": None, "mode": "on",
                     "alias": "native_routing"},
    "rust_token_counting": {"enabled": False, "errors": 12, "rollout_percentage": 100,
                            "state": "disabled_by_errors", "error_threshold": 10,
                            "last_error": {"type": "RuntimeError", "message": "boom"},
                            "mode": "on", "alias": "native_token_counting"},
    "batch_token_counting": {"enabled": True, "errors": 0, "rollout_percentage": 25,
                             "state": "on", "error_threshold": 10, "last_error": None,
                             "mode": "canary", "alias": "native_batch_token_counting"},
}
PATCHES = {
    "applied": True,
    "components": ["routing"],
    "litellm_version": "1.110.2",
    "pinned_litellm_version": "1.110.2",
    "patches": {
        "token_counter": {"applied": False, "reason": "flag rust_token_counting is off",
                          "flag": "rust_token_counting",
                          "target": "litellm.litellm_core_utils.token_counter:token_counter",
                          "component": "token_counting"},
        "router_pick": {"applied": True, "reason": "applied", "flag": "rust_routing",
                        "target": "litellm.router:Router.get_available_deployment",
                        "component": "routing"},
    },
}


@pytest.fixture
def fake_status(monkeypatch):
    monkeypatch.setitem(vars(fast_litellm), "get_feature_status", lambda: FLAGS)
    monkeypatch.setitem(vars(fast_litellm), "get_patch_status", lambda: PATCHES)


@pytest.fixture
def broken_status(monkeypatch):
    def not_yet():
        raise NotImplementedError

    monkeypatch.setitem(vars(fast_litellm), "get_feature_status", not_yet)
    monkeypatch.setitem(vars(fast_litellm), "get_patch_status", not_yet)


def doctor_json(capsys, *extra):
    assert cli.main(["doctor", "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


# -- plumbing -------------------------------------------------------------


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "doctor" in out and "demo" in out


def test_no_command_is_a_usage_error(capsys):
    assert cli.main([]) == cli.EXIT_USAGE
    assert "doctor" in capsys.readouterr().err


def test_unknown_command_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["no-such-command"])
    assert exit_.value.code == 2


def test_version(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.strip() == "fast-litellm %s" % fast_litellm.__version__


# -- doctor ---------------------------------------------------------------

SCHEMA = {
    "fast_litellm": dict, "python": dict, "native": dict, "dependencies": dict,
    "litellm": dict, "environment": dict, "flags": dict, "patches": dict,
    "components": dict, "monitor": dict, "cli_extensions": dict, "problems": list,
}


def test_doctor_json_schema(capsys, fake_status):
    report = doctor_json(capsys)
    for key, type_ in SCHEMA.items():
        assert isinstance(report[key], type_), key
    assert report["fast_litellm"]["version"] == fast_litellm.__version__
    assert report["python"]["version"].count(".") == 2
    native = report["native"]
    assert native["loaded"] is fast_litellm.RUST_ACCELERATION_AVAILABLE
    assert (native["reason"] is None) == native["loaded"]
    assert set(report["dependencies"]) >= {"litellm", "tiktoken"}
    assert report["litellm"]["pinned"] == "1.110.2"
    for problem in report["problems"]:
        assert problem["severity"] in cli.SEVERITIES and problem["message"]
    assert report["monitor"]["available"] is True


def test_doctor_explains_every_flag_and_patch(capsys, fake_status):
    report = doctor_json(capsys)
    flags = report["flags"]
    assert flags["available"] and set(flags["flags"]) == set(FLAGS)
    assert "12 native errors" in flags["flags"]["rust_token_counting"]["why"]
    assert "boom" in flags["flags"]["rust_token_counting"]["why"]
    assert "25% of requests" in flags["flags"]["batch_token_counting"]["why"]
    assert flags["flags"]["rust_routing"]["why"] == "on"
    patches = report["patches"]
    assert patches["available"] and patches["applied"] is True
    assert patches["patches"]["token_counter"]["reason"] == "flag rust_token_counting is off"
    assert patches["pinned_litellm_version"] == "1.110.2"
    messages = " ".join(p["message"] for p in report["problems"])
    assert "rust_token_counting turned itself off" in messages
    assert "1 of 2 patches not applied" in messages


def test_doctor_survives_unfinished_flags_and_patches(capsys, broken_status):
    report = doctor_json(capsys)
    assert report["flags"] == {"available": False, "error": "unavailable: NotImplementedError",
                               "flags": {}}
    assert report["patches"]["available"] is False
    assert report["patches"]["error"] == "unavailable: NotImplementedError"
    assert cli.main(["doctor", "--plain"]) == 0
    assert "unavailable: NotImplementedError" in capsys.readouterr().out


@pytest.mark.parametrize("plain", [True, False])
def test_doctor_table_shows_flags_and_patches(capsys, fake_status, plain):
    assert cli.main(["doctor"] + (["--plain"] if plain else [])) == 0
    out = capsys.readouterr().out
    for text in ("native core", "rust_token_counting", "batch_token_counting",
                 "token_counter", "flag rust_token_counting is off", "Problems"):
        assert text in out


def test_doctor_strict_exit_code(capsys, broken_status, monkeypatch):
    assert cli.main(["doctor", "--json", "--strict"]) == cli.EXIT_PROBLEMS
    monkeypatch.setattr(cli, "_problems", lambda report: [])
    assert cli.main(["doctor", "--json", "--strict"]) == 0


def test_doctor_flags_a_compromised_litellm(monkeypatch, capsys, fake_status):
    monkeypatch.setattr(cli, "_distribution_version",
                        lambda name: "1.82.7" if name == "litellm" else None)
    report = doctor_json(capsys)
    assert report["litellm"]["compromised"] is True
    assert report["problems"][0]["severity"] in cli.SEVERITIES
    assert any(p["severity"] == "critical" for p in report["problems"])


def test_doctor_reports_environment(monkeypatch, capsys, fake_status):
    monkeypatch.setenv("FAST_LITELLM_RUST_ROUTING", "canary:10")
    assert doctor_json(capsys)["environment"]["FAST_LITELLM_RUST_ROUTING"] == "canary:10"


# -- extensions -----------------------------------------------------------


def _install_module(monkeypatch, name, **attrs):
    module = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(module, key, value)
    monkeypatch.setitem(sys.modules, name, module)


def test_extensions_add_commands_and_failures_are_contained(monkeypatch, capsys, fake_status):
    def add_hello(subparsers):
        parser = subparsers.add_parser("hello", help="say hello")
        parser.add_argument("--code", type=int, default=0)
        parser.set_defaults(func=lambda args: print("hello") or args.code)

    def add_broken(subparsers):
        raise RuntimeError("extension bug")

    _install_module(monkeypatch, "fl_test_ext_hello", add=add_hello)
    _install_module(monkeypatch, "fl_test_ext_broken", add=add_broken)
    monkeypatch.setattr(cli, "EXTENSIONS", [
        "fl_test_ext_hello:add", "fl_test_ext_broken:add",
        "fast_litellm.no_such_component.cli:add_thing",
    ])
    assert cli.main(["hello", "--code", "3"]) == 3
    captured = capsys.readouterr()
    assert captured.out == "hello\n" and captured.err == ""
    status = cli.EXTENSION_STATUS
    assert status["fl_test_ext_hello:add"] == "loaded"
    assert status["fast_litellm.no_such_component.cli:add_thing"] == "missing"
    assert status["fl_test_ext_broken:add"] == "error: RuntimeError: extension bug"
    report = doctor_json(capsys)
    assert any("fl_test_ext_broken" in p["message"] for p in report["problems"])
    assert not any("no_such_component" in p["message"] for p in report["problems"])


def test_extension_with_a_missing_dependency_is_an_error_not_missing():
    exc = ModuleNotFoundError("No module named 'tqdm'", name="tqdm")
    assert not cli._module_is_missing(exc, "fast_litellm.bench.cli")
    exc = ModuleNotFoundError("No module named 'fast_litellm.bench'", name="fast_litellm.bench")
    assert cli._module_is_missing(exc, "fast_litellm.bench.cli")


def test_default_extensions_are_registered():
    assert "fast_litellm.tokenizer.cli:add_count_command" in cli.EXTENSIONS
    assert "fast_litellm.bench.cli:add_bench_command" in cli.EXTENSIONS


# -- demo -----------------------------------------------------------------


def test_demo_reports_every_part(capsys):
    assert cli.main(["demo", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    names = [p["part"] for p in report["parts"]]
    assert names == [name for name, _ in cli.DEMO_PARTS] + ["monitor"]
    for part in report["parts"]:
        assert isinstance(part["ok"], bool) and isinstance(part["detail"], str)
        if not part["ok"]:
            assert part["detail"].startswith("unavailable: ")
    assert report["parts"][-1]["ok"] is True


def test_demo_table(capsys):
    assert cli.main(["demo", "--plain"]) == 0
    out = capsys.readouterr().out
    assert "Fast LiteLLM demo" in out and "parts work" in out


# -- as a program ---------------------------------------------------------


def test_python_dash_m_doctor_json():
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "fast_litellm", "doctor", "--json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert set(SCHEMA) <= set(report)
    proc = subprocess.run([sys.executable, "-m", "fast_litellm"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 2 and "usage" in proc.stderr


def test_doctor_names_each_components_twin(monkeypatch, capsys, fake_status):
    _install_module(monkeypatch, "fast_litellm.cache", DEFAULT_KIND="python")
    _install_module(monkeypatch, "fast_litellm.pool", IMPLEMENTATION="native")
    components = doctor_json(capsys)["components"]
    assert components["cache"] == "python" and components["pool"] == "native"
    assert components["monitor"] in ("native", "python")
    assert set(components) == set(cli.COMPONENT_PACKAGES)


@pytest.mark.parametrize("status,why", [
    ({"enabled": True, "state": "enabled", "mode": "on", "source": "default"}, "on"),
    ({"enabled": False, "state": "disabled", "mode": "off",
      "source": "env FAST_LITELLM_RUST_ROUTING"}, "off (set by env FAST_LITELLM_RUST_ROUTING)"),
    ({"enabled": True, "state": "canary", "mode": "rollout", "rollout_percentage": 10},
     "on for 10% of requests"),
    ({"enabled": False, "state": "shadow", "mode": "shadow", "shadow_calls": 7,
      "shadow_mismatches": 1},
     "shadow: the original serves, the fast path is compared (7 calls, 1 mismatches)"),
    ({"enabled": False, "state": "disabled_by_errors", "errors": 10, "error_threshold": 10,
      "last_error": {"type": "ValueError", "message": "x"}},
     "turned itself off after 10 native errors (threshold 10); last error: type=ValueError, "
     "message=x"),
    ({"reason": "explained by the flag"}, "explained by the flag"),
])
def test_flag_reasons(status, why):
    assert cli._flag_reason(status) == why


def test_doctor_reports_patch_modules_that_did_not_load(monkeypatch, capsys):
    status = dict(PATCHES, litellm_imported=False,
                  patch_module_errors={"fast_litellm.cache.patches": "ImportError: boom"})
    monkeypatch.setitem(vars(fast_litellm), "get_feature_status", lambda: FLAGS)
    monkeypatch.setitem(vars(fast_litellm), "get_patch_status", lambda: status)
    report = doctor_json(capsys)
    assert any("fast_litellm.cache.patches did not load (ImportError: boom)" in p["message"]
               for p in report["problems"])
    assert cli.main(["doctor", "--plain"]) == 0
    assert "litellm not imported yet" in capsys.readouterr().out


def test_doctor_import_litellm_failure_is_a_problem(monkeypatch, capsys, fake_status):
    monkeypatch.setattr(cli, "_import_litellm", lambda: "ImportError: no litellm")
    report = doctor_json(capsys, "--import-litellm")
    assert report["problems"][0]["message"] == "import litellm failed: ImportError: no litellm"


def test_doctor_lists_the_settings_the_flags_ignored(monkeypatch, capsys, fake_status):
    """A bad FAST_LITELLM_* value or config file is ignored with a warning at
    import, before doctor runs; doctor asks the flags for them (the point of
    `doctor --strict` in a deployment check)."""
    from fast_litellm import flags

    ignored = ["ignoring FAST_LITELLM_RUST_ROUTING='maybe': expected true/false"]
    monkeypatch.setattr(flags, "config_warnings", lambda: ignored, raising=False)
    report = doctor_json(capsys)
    assert report["flags"]["ignored_settings"] == ignored
    assert {"severity": "warning", "message": ignored[0]} in report["problems"]
    assert cli.main(["doctor", "--plain", "--strict"]) == 1
    assert ignored[0] in capsys.readouterr().out


# -- entry points: closed stdout, recorded arguments -------------------------


def _run_with_stdout_closed(argv):
    """Run `python argv` with its stdout a pipe nobody reads (`| head` after
    head has exited): (exit code, stderr)."""
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable] + argv, stdout=write_end, stderr=subprocess.PIPE,
                              text=True, env=env, timeout=120)
    finally:
        os.close(write_end)
    return proc.returncode, proc.stderr


@pytest.mark.parametrize("argv", [
    ["-m", "fast_litellm", "count", "{many}"],
    ["-m", "fast_litellm.tokenizer.cli", "count", "{many}"],
    ["-m", "fast_litellm", "doctor", "--plain"],
    ["-m", "fast_litellm.bench", "--components", "none", "--no-peers", "--plain", "--no-progress"],
], ids=["count", "tokenizer.cli", "doctor", "bench"])
def test_every_entry_point_stops_quietly_on_a_closed_stdout(argv, tmp_path, tiktoken_data_dir):
    text = tmp_path / "a.txt"
    text.write_text("hello\n")
    argv = [a for arg in argv for a in ([str(text)] * 3000 if arg == "{many}" else [arg])]
    code, err = _run_with_stdout_closed(argv)
    assert "Traceback" not in err, err
    assert code in (0, 1), err  # 1: rich's own broken-pipe exit


def test_bench_records_its_arguments_through_the_main_command(tmp_path, capsys):
    out = tmp_path / "b.json"
    argv = ["bench", "--components", "none", "--no-peers", "--plain", "--no-progress",
            "--json", str(out)]
    assert cli.main(argv) == 0
    doc = json.loads(out.read_text())
    assert doc["command"] == ["fast-litellm"] + argv
    assert not [k for k in doc["parameters"] if k.startswith("_")]


# -- the source distribution ------------------------------------------------


def test_sdist_holds_every_tracked_file_a_build_or_the_tests_need(tmp_path):
    """`pip install fast-litellm-*.tar.gz` builds from it, and its tests and
    scripts run from it: every tracked file under these paths must be in."""
    root = Path(SRC).parent
    try:
        tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True,
                                 timeout=60, check=True).stdout.split()
    except (OSError, subprocess.SubprocessError):
        pytest.skip("not a git checkout")
    import shutil
    import tarfile

    tree = tmp_path / "tree"  # a copy, so the checkout gets no egg-info
    for name in tracked:
        if (root / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, tree / name)
    proc = subprocess.run([sys.executable, "setup.py", "-q", "sdist", "--formats=tar",
                           "--dist-dir", str(tmp_path / "dist")], cwd=tree, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (archive,) = (tmp_path / "dist").glob("*.tar")
    with tarfile.open(archive) as tar:
        shipped = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    needed = [f for f in tracked
              if f.startswith(("csrc/", "src/", "tests/", "tools/", "scripts/", "docs/"))
              or f in ("setup.py", "pyproject.toml", "Makefile", "requirements-dev.txt",
                       "requirements-bench.txt", "README.md")]
    assert [f for f in needed if f not in shipped] == []


def test_doctor_table_takes_values_that_are_not_utf8(monkeypatch, fake_status):
    """An environment value (or path) with bytes that are not UTF-8 holds
    lone surrogates; the table crashed on a strict UTF-8 stdout (plain and
    rich alike).  They are shown escaped."""
    import argparse
    import io

    monkeypatch.setenv("FAST_LITELLM_FEATURE_CONFIG", "/etc/\udcff.json")
    for plain in (True, False):
        raw = io.BytesIO()
        out = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", write_through=True)
        args = argparse.Namespace(json=False, plain=plain, strict=False, import_litellm=False)
        assert cli.run_doctor(args, out=out) == 0
        assert "/etc/\\udcff.json" in raw.getvalue().decode("utf-8")


def test_doctor_strict_accepts_the_twins_when_asked_for(monkeypatch, capsys, fake_status):
    """FAST_LITELLM_FORCE_PYTHON=1 is a choice (the loader stays silent):
    `doctor --strict` must not fail on it; a failed build still does."""
    from fast_litellm import _native_loader

    monkeypatch.setattr(_native_loader, "NATIVE", None)
    monkeypatch.setattr(_native_loader, "NATIVE_IMPORT_ERROR", "disabled by FAST_LITELLM_FORCE_PYTHON")
    monkeypatch.setattr(_native_loader, "FORCED_PYTHON", True)

    def native_severities():
        return [p["severity"] for p in doctor_json(capsys)["problems"]
                if "native core" in p["message"]]

    assert native_severities() == ["info"]
    monkeypatch.setattr(_native_loader, "NATIVE_IMPORT_ERROR", "ImportError: no _native")
    monkeypatch.setattr(_native_loader, "FORCED_PYTHON", False)
    assert native_severities() == ["warning"]


def test_bench_refuses_an_unknown_routing_strategy(capsys):
    """A misspelt --routing-strategy is argparse's usage error (exit 2) naming the
    valid ones, not LiteLLM's traceback when the proxy starts."""
    from fast_litellm.bench import cli as bench_cli

    with pytest.raises(SystemExit) as exc:
        bench_cli.main(["--proxy", "--routing-strategy", "bogus", "--no-progress"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'bogus'" in err and "usage-based-routing-v2" in err
