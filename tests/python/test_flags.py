"""Feature flags: sources, values, rollout, error accounting."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

import fast_litellm
from fast_litellm import flags
from _forking import forked_child_status  # noqa: E402
from _hostile import IntLies  # noqa: E402

REPO_SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")
BUILTIN = ["rust_routing", "rust_token_counting", "rust_rate_limiting",
           "rust_connection_pool", "batch_token_counting"]


@pytest.fixture(autouse=True)
def _clean_flags():
    yield
    flags.reload_config()
    flags.reset_errors()


def run_py(code, **env):
    e = dict(os.environ)
    for k in list(e):
        if k.startswith("FAST_LITELLM_") and k not in ("FAST_LITELLM_TIKTOKEN_DIR",):
            del e[k]
    e.update(env)
    e["PYTHONPATH"] = os.path.abspath(REPO_SRC) + os.pathsep + e.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-W", "always", "-c", textwrap.dedent(code)],
                         capture_output=True, text=True, env=e, timeout=60)
    assert out.returncode == 0, out.stderr
    return out


def test_builtin_flags_on_by_default_with_reference_shape():
    status = fast_litellm.get_feature_status()
    for name in BUILTIN:
        s = status[name]
        assert s["enabled"] is True and s["errors"] == 0 and s["rollout_percentage"] == 100
        assert s["state"] == "enabled" and s["error_threshold"] == 10 and s["last_error"] is None
        assert fast_litellm.is_enabled(name)


def test_aliases_address_the_same_flag():
    flags.set_feature("native_routing", "off")
    assert not fast_litellm.is_enabled("rust_routing")
    assert not fast_litellm.is_enabled("native_routing")
    assert fast_litellm.get_feature_status()["rust_routing"]["source"] == "set_feature"


def test_unknown_feature_is_false_not_an_error():
    assert fast_litellm.is_enabled("no_such_feature") is False
    assert fast_litellm.is_enabled(None) is False  # type: ignore[arg-type]


@pytest.mark.parametrize("raw,mode,pct", [
    ("true", "on", 100), ("1", "on", 100), ("ON", "on", 100), ("yes", "on", 100),
    ("false", "off", 0), ("0", "off", 0), ("off", "off", 0),
    ("canary:25", "rollout", 25), ("25%", "rollout", 25), ("canary:0.5", "rollout", 0.5),
    ("100%", "on", 100), ("canary:0", "off", 0), ("shadow", "shadow", 100),
])
def test_parse_value(raw, mode, pct):
    assert flags.parse_value(raw) == (mode, pct)


@pytest.mark.parametrize("raw", ["maybe", "canary:101", "150%", "25", "", "canary:-1", 3])
def test_parse_value_rejects(raw):
    with pytest.raises(ValueError):
        flags.parse_value(raw)


def test_env_vars_override_and_master_switch():
    out = run_py("""
        import fast_litellm as f
        s = f.get_feature_status()
        print(s['rust_routing']['state'], s['rust_token_counting']['rollout_percentage'],
              s['rust_rate_limiting']['state'])
    """, FAST_LITELLM_RUST_ROUTING="off", FAST_LITELLM_NATIVE_TOKEN_COUNTING="canary:30")
    assert out.stdout.split() == ["disabled", "30", "enabled"]
    out = run_py("""
        import fast_litellm as f
        print(sorted({v['state'] for v in f.get_feature_status().values()}))
        print(f.get_patch_status()['applied'])
    """, FAST_LITELLM_ENABLED="false")
    assert out.stdout.split("\n")[0] == "['disabled']"


def test_invalid_env_value_warns_once_naming_the_variable_and_keeps_default():
    out = run_py("""
        import fast_litellm as f
        print(f.get_feature_status()['rust_routing']['state'])
    """, FAST_LITELLM_RUST_ROUTING="sometimes")
    assert out.stdout.strip() == "enabled"
    assert out.stderr.count("FAST_LITELLM_RUST_ROUTING") == 1


def test_ignored_settings_are_kept_for_doctor():
    """The import-time warnings are also kept (flags.config_warnings()), so
    `fast-litellm doctor --strict` can report them and fail."""
    out = run_py("""
        import warnings
        warnings.simplefilter("ignore")
        from fast_litellm import flags
        print(repr(flags.config_warnings()))
    """, FAST_LITELLM_RUST_ROUTING="sometimes")
    (message,) = eval(out.stdout)
    assert "FAST_LITELLM_RUST_ROUTING" in message and "sometimes" in message
    e = dict(os.environ, FAST_LITELLM_RUST_ROUTING="sometimes",
             PYTHONPATH=os.path.abspath(REPO_SRC))
    doctor = subprocess.run([sys.executable, "-m", "fast_litellm", "doctor", "--strict"],
                            capture_output=True, text=True, env=e, timeout=120)
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    assert "sometimes" in doctor.stdout


def test_config_file_then_env(tmp_path):
    cfg = tmp_path / "flags.json"
    cfg.write_text(json.dumps({
        "rust_routing": "canary:10",
        "rust_token_counting": {"mode": "shadow", "error_threshold": 3},
        "native_rate_limiting": False,
        "error_threshold": 7,
    }))
    out = run_py("""
        import fast_litellm as f, json
        print(json.dumps(f.get_feature_status()))
    """, FAST_LITELLM_FEATURE_CONFIG=str(cfg), FAST_LITELLM_RUST_ROUTING="canary:20")
    s = json.loads(out.stdout)
    assert s["rust_routing"]["rollout_percentage"] == 20 and s["rust_routing"]["state"] == "canary"
    assert s["rust_token_counting"]["state"] == "shadow"
    assert s["rust_token_counting"]["error_threshold"] == 3
    assert s["rust_rate_limiting"]["state"] == "disabled"
    assert s["rust_connection_pool"]["error_threshold"] == 7


@pytest.mark.parametrize("enabled, state, warns", [
    ("false", "disabled", False), ("off", "disabled", False), ("true", "enabled", False),
    (0, "enabled", True), ("sometimes", "enabled", True), (None, "enabled", True),
])
def test_config_enabled_accepts_the_on_off_words_and_warns_otherwise(tmp_path, enabled, state, warns):
    # {"enabled": "false"} (or 0) used to leave the flag on without a word:
    # only the JSON literal false switched it off.
    cfg = tmp_path / "flags.json"
    cfg.write_text(json.dumps({"rust_routing": {"enabled": enabled}}))
    out = run_py("""
        import fast_litellm as f
        print(f.get_feature_status()['rust_routing']['state'])
    """, FAST_LITELLM_FEATURE_CONFIG=str(cfg))
    assert out.stdout.strip() == state
    assert ("FAST_LITELLM_FEATURE_CONFIG['rust_routing'].enabled" in out.stderr) == warns


@pytest.mark.parametrize("entry, state, pct, warns", [
    ({"enabled": False, "mode": "shadow"}, "disabled", 0, "mode 'shadow' is ignored"),
    ({"enabled": "off", "mode": "canary:30"}, "disabled", 0, "mode 'canary:30' is ignored"),
    ({"enabled": False, "mode": "off"}, "disabled", 0, None),
    ({"rollout_percentage": "50%"}, "canary", 50, None),
    ({"rollout_percentage": " 12.5 "}, "canary", 12.5, None),
    ({"rollout_percentage": 25}, "canary", 25, None),
    ({"rollout_percentage": 100}, "enabled", 100, None),
    ({"rollout_percentage": "half"}, "enabled", 100, "rollout_percentage must be a number from 0 to 100"),
    ({"rollout_percentage": 150}, "enabled", 100, "rollout_percentage must be a number from 0 to 100"),
    ({"rollout_percentage": True}, "enabled", 100, "rollout_percentage must be a number from 0 to 100"),
])
def test_config_entry_enabled_false_wins_and_rollout_takes_percent_strings(tmp_path, entry, state, pct, warns):
    # {"enabled": false, "mode": "shadow"} used to end in shadow mode (the
    # fast path still ran beside the original), and "50%" as the rollout
    # percentage was refused as "expected true/false/... got '50%%'".
    cfg = tmp_path / "flags.json"
    cfg.write_text(json.dumps({"rust_routing": entry}))
    out = run_py("""
        import fast_litellm as f, json
        print(json.dumps(f.get_feature_status()['rust_routing']))
    """, FAST_LITELLM_FEATURE_CONFIG=str(cfg))
    status = json.loads(out.stdout)
    assert status["state"] == state and status["rollout_percentage"] == pct, status
    if warns is None:
        assert "FAST_LITELLM_FEATURE_CONFIG" not in out.stderr, out.stderr
    else:
        assert warns in out.stderr and out.stderr.count("RuntimeWarning") == 1, out.stderr


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"features": 5}', '{"features": "rust_routing"}',
                                     '{"rust_routing": "off"}' + " " * (1 << 20),
                                     "[" * 100000],  # session 21 hunt: RecursionError failed the import
                         ids=["not-json", "list", "features-int", "features-str", "too-large", "too-deep"])
def test_bad_config_file_warns_and_keeps_defaults(tmp_path, content):
    cfg = tmp_path / "flags.json"
    cfg.write_text(content)
    out = run_py("""
        import fast_litellm as f
        print(f.get_feature_status()['rust_routing']['state'])
    """, FAST_LITELLM_FEATURE_CONFIG=str(cfg))
    assert out.stdout.strip() == "enabled"
    assert "FAST_LITELLM_FEATURE_CONFIG" in out.stderr


def test_device_config_file_warns(tmp_path):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    out = run_py("import fast_litellm as f; print(f.is_enabled('rust_routing'))",
                 FAST_LITELLM_FEATURE_CONFIG="/dev/zero")  # read without end: hung the import
    assert out.stdout.strip() == "True" and "FAST_LITELLM_FEATURE_CONFIG" in out.stderr


def test_missing_config_file_warns(tmp_path):
    out = run_py("import fast_litellm as f; print(f.is_enabled('rust_routing'))",
                 FAST_LITELLM_FEATURE_CONFIG=str(tmp_path / "missing.json"))
    assert out.stdout.strip() == "True" and "FAST_LITELLM_FEATURE_CONFIG" in out.stderr


def test_rollout_by_request_id_is_stable_across_processes_and_near_the_rate():
    flags.set_feature("rust_routing", "canary:30")
    ids = ["req-%d" % i for i in range(4000)]
    here = [fast_litellm.is_enabled("rust_routing", i) for i in ids]
    assert here == [fast_litellm.is_enabled("rust_routing", i) for i in ids]
    assert 0.27 < sum(here) / len(ids) < 0.33
    out = run_py("""
        import fast_litellm as f
        print(''.join('1' if f.is_enabled('rust_routing', 'req-%d' % i) else '0' for i in range(4000)))
    """, FAST_LITELLM_RUST_ROUTING="canary:30")
    assert out.stdout.strip() == "".join("1" if h else "0" for h in here)


def test_rollout_without_request_id_draws_at_the_rate_and_leaves_random_alone():
    import random
    flags.set_feature("rust_routing", "25%")
    random.seed(5)
    state = random.getstate()
    hits = sum(fast_litellm.is_enabled("rust_routing") for _ in range(20000))
    assert 0.22 < hits / 20000 < 0.28
    assert random.getstate() == state


def test_errors_past_threshold_disable_the_flag_and_log_once(caplog):
    flags.set_feature("rust_routing", "on", error_threshold=3)
    with caplog.at_level("WARNING", logger="fast_litellm"):
        for i in range(5):
            flags.record_error("rust_routing", RuntimeError("boom with 'secret user text'"))
    s = fast_litellm.get_feature_status()["rust_routing"]
    assert s["state"] == "disabled_by_errors" and s["enabled"] is False and s["errors"] == 5
    assert s["last_error"]["type"] == "RuntimeError"
    assert "secret" not in s["last_error"]["message"]
    assert not fast_litellm.is_enabled("rust_routing")
    assert sum("disabled after" in r.getMessage() for r in caplog.records) == 1
    fast_litellm.reset_errors("rust_routing")
    s = fast_litellm.get_feature_status()["rust_routing"]
    assert s["enabled"] and s["errors"] == 0 and s["last_error"] is None


def test_parse_value_messages():
    with pytest.raises(ValueError, match="expected true/false.*'N%' or 'shadow', got 'maybe'"):
        flags.parse_value("maybe")  # was "unsupported format character" from the message itself
    for raw in (None, b"on", ["on"]):
        with pytest.raises(TypeError, match="expected a string or boolean"):
            flags.parse_value(raw)
        with pytest.raises(TypeError, match="expected a string or boolean"):
            fast_litellm.set_feature("rust_routing", raw)
    assert fast_litellm.is_enabled("rust_routing")


def test_feature_name_type():
    for bad in (1, b"rust_routing", ("rust_routing",), ["x"]):  # not "unknown feature 1" (KeyError)
        with pytest.raises(TypeError, match="feature_name must be a str"):
            fast_litellm.reset_errors(bad)
        with pytest.raises(TypeError, match="feature_name must be a str"):
            fast_litellm.set_feature(bad, True)
    with pytest.raises(TypeError, match="alias must be a str"):
        flags.register_flag("test_bad_alias", alias=5)
    assert "test_bad_alias" not in fast_litellm.get_feature_status()


def test_reset_errors_all_and_unknown():
    flags.record_error("rust_routing", ValueError("x"))
    flags.record_error("batch_token_counting", ValueError("x"))
    fast_litellm.reset_errors()
    assert all(v["errors"] == 0 for v in fast_litellm.get_feature_status().values())
    with pytest.raises(KeyError, match="unknown feature"):
        fast_litellm.reset_errors("nope")


def test_registry_accepts_new_flags_once():
    f1 = flags.register_flag("test_component_x", alias="native_component_x", description="t")
    assert flags.register_flag("test_component_x") is f1
    assert fast_litellm.is_enabled("native_component_x")
    with pytest.raises(ValueError):
        flags.register_flag("another", alias="native_component_x")


def test_is_enabled_is_cheap():
    # not a timing assertion: just the code path used by the hot wrapper
    f = flags.get_flag("rust_routing")
    assert f.serve_fast is True


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_child_forked_while_a_flag_lock_is_held_can_record_errors():
    import threading
    flag = flags.get_flag("rust_routing")
    held = threading.Event()
    release = threading.Event()

    def hold():
        with flag._lock:
            held.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    held.wait(5)
    pid = os.fork()
    if pid == 0:  # child: must not deadlock
        try:
            flags.record_error("rust_routing", RuntimeError("x"))
            os._exit(0 if flags.get_feature_status()["rust_routing"]["errors"] >= 1 else 1)
        except BaseException:
            os._exit(2)
    release.set()
    t.join()
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


def test_reload_config_never_shows_another_thread_an_intermediate_setting(monkeypatch):
    # reload_config used to put each flag back to its default ("on") and then
    # re-read the sources: meanwhile a flag FAST_LITELLM_ENABLED=false keeps
    # off answered is_enabled() == True on other threads (~8% of the reads of
    # a thread polling it).  Sample what another thread would see at each step
    # where reload_config reads a source.
    monkeypatch.setenv("FAST_LITELLM_ENABLED", "false")
    flags.reload_config()
    seen = []
    real_threshold, real_env_name = flags._global_threshold, flags._env_name

    def threshold(config):
        seen.append(flags.is_enabled("rust_routing"))
        return real_threshold(config)

    def env_name(name):
        seen.append(flags.is_enabled("rust_routing"))
        return real_env_name(name)

    monkeypatch.setattr(flags, "_global_threshold", threshold)
    monkeypatch.setattr(flags, "_env_name", env_name)
    flags.reload_config()
    assert seen and not any(seen)
    assert flags.get_feature_status()["rust_routing"]["state"] == "disabled"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_child_forked_while_the_registry_lock_is_held_can_register():
    """register_flag holds the registry lock while it reads the config
    file; a fork then used to leave it held forever in the child, whose
    next register_flag (a component registering its flag lazily) hung."""
    def child():
        return flags.register_flag("forked_child_probe").name == "forked_child_probe"

    # 0: registered; -1: the child hung on the registry lock and was killed
    assert forked_child_status([lambda: flags._REGISTRY_LOCK], child) == 0


def test_concurrent_set_feature_never_mixes_two_settings():
    """Each set_feature() is one step under the flag's lock: threads
    setting different values leave one of them whole (mode and
    percentage of the same call)."""
    import threading

    values = {"canary:10": ("rollout", 10), "canary:70": ("rollout", 70), "off": ("off", 0), "on": ("on", 100),
              "shadow": ("shadow", 100)}
    try:
        for _ in range(200):
            threads = [threading.Thread(target=flags.set_feature, args=("rust_routing", v)) for v in values]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            flag = flags.get_flag("rust_routing")
            assert (flag.mode, flag.percentage) in {(m, float(p)) for m, p in values.values()}
    finally:
        flags.set_feature("rust_routing", "on")


@pytest.mark.parametrize("threshold, error", [("5", TypeError), (0, ValueError), (2.5, TypeError), (True, TypeError)])
def test_set_feature_with_a_bad_threshold_changes_nothing(threshold, error):
    """A bad error_threshold is refused before the flag is touched (it used
    to raise after switching the flag: the caller saw an error and the flag
    was off anyway)."""
    before = flags.get_flag("rust_routing").status()
    with pytest.raises(error, match="error_threshold"):
        flags.set_feature("rust_routing", "off", error_threshold=threshold)
    assert flags.get_flag("rust_routing").status() == before


class _UnprintableError(Exception):
    def __str__(self):
        raise RuntimeError("__str__ failed")


def test_record_error_of_an_unprintable_exception_counts_it():
    """Session 21 hunt: record_error read str(exc) and so raised the
    exception's own __str__ failure; the patch wrappers call it after the
    original has served a call, so the caller got that error instead of the
    result."""
    flags.record_error("rust_routing", _UnprintableError())
    status = flags.get_feature_status()["rust_routing"]
    assert status["errors"] == 1
    assert status["last_error"] == {"type": "_UnprintableError", "message": "<unprintable _UnprintableError>"}


def test_set_feature_threshold_subclass_comparisons_never_decide():
    """Session 21 hunt: an int subclass whose comparisons lie passed
    error_threshold=-5 (and then tripped the flag on its first error)."""
    before = flags.get_flag("rust_routing").status()
    with pytest.raises(ValueError, match="error_threshold must be at least 1, got -5"):
        flags.set_feature("rust_routing", "off", error_threshold=IntLies(-5))
    assert flags.get_flag("rust_routing").status() == before
    flags.set_feature("rust_routing", "on", error_threshold=IntLies(3))
    assert type(flags.get_flag("rust_routing").error_threshold) is int
    flags.set_feature("rust_routing", "on", error_threshold=10)
