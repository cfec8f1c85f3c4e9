"""The package itself: native loading and fallback, the public surface,
health_check, and the per-module state of the extension."""
import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest

import fast_litellm
from fast_litellm import _native_loader

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "src"))


def run_py(code, **env):
    e = {k: v for k, v in os.environ.items() if not k.startswith("FAST_LITELLM_")}
    e.update(env)
    e["PYTHONPATH"] = SRC
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, env=e, timeout=120)


def test_acceleration_flag_matches_native_loader():
    assert fast_litellm.RUST_ACCELERATION_AVAILABLE is (_native_loader.NATIVE is not None)
    assert fast_litellm.NATIVE_ACCELERATION_AVAILABLE is fast_litellm.RUST_ACCELERATION_AVAILABLE


def test_every_public_name_resolves():
    missing = []
    for name in fast_litellm.__all__:
        try:
            getattr(fast_litellm, name)
        except (AttributeError, ImportError) as exc:
            missing.append("%s (%s)" % (name, exc))
    assert not missing, missing
    with pytest.raises(AttributeError):
        fast_litellm.no_such_name  # noqa: B018


def test_without_the_extension_the_package_imports_with_one_warning():
    out = run_py("""
        import sys, warnings, importlib.abc
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "fast_litellm._native":
                    raise ImportError("simulated: no compiler at install time")
        sys.meta_path.insert(0, Block())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import fast_litellm
            fast_litellm.get_feature_status()
            fast_litellm.get_patch_status()
        msgs = [str(w.message) for w in caught if "native core unavailable" in str(w.message)]
        print(len(msgs), fast_litellm.RUST_ACCELERATION_AVAILABLE)
        print(fast_litellm.health_check()["status"])
    """)
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.splitlines()[:2]
    assert first == "1 False"
    assert second == "degraded"


def test_an_extension_never_built_is_named_as_such():
    """Installed without a compiler, the warning says the extension was not
    built (it said "partially initialized module ... circular import")."""
    out = run_py("""
        import sys, warnings, importlib.abc
        class NotBuilt(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "fast_litellm._native":
                    raise ModuleNotFoundError("No module named %r" % name, name=name)
        sys.meta_path.insert(0, NotBuilt())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import fast_litellm
        print([str(w.message) for w in caught if "native core unavailable" in str(w.message)])
    """)
    assert out.returncode == 0, out.stderr
    assert "fast_litellm._native was not built when the package was installed" in out.stdout
    assert "circular" not in out.stdout


def test_force_python_is_silent():
    out = run_py("import warnings; warnings.simplefilter('error'); import fast_litellm as f; "
                 "print(f.RUST_ACCELERATION_AVAILABLE)", FAST_LITELLM_FORCE_PYTHON="1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_health_check_under_force_python_checks_the_twins():
    """The twins were asked for: health_check exercises them (the
    implementation in use) and is "ok", not "degraded" for lack of a core
    nobody wanted."""
    out = run_py("""
        import json, fast_litellm
        print(json.dumps(fast_litellm.health_check()))
    """, FAST_LITELLM_FORCE_PYTHON="1")
    assert out.returncode == 0, out.stderr
    h = json.loads(out.stdout)
    assert h["status"] == "ok" and not h["failed_components"]
    assert h["rust_available"] is False and h["implementation"] == "python"
    assert set(h["components"]) == {"core", "tokens", "connection_pool", "rate_limiter",
                                    "routing", "monitor"}


def test_health_check_shape_and_reality():
    h = fast_litellm.health_check()
    assert set(h) >= {"status", "rust_available", "components"}
    assert h["status"] in ("ok", "degraded")
    assert h["rust_available"] is fast_litellm.RUST_ACCELERATION_AVAILABLE
    if h["status"] == "ok":
        assert not h["failed_components"]
    else:
        assert h["failed_components"]


@pytest.mark.native_only
def test_native_module_state_is_per_module(impl):
    if impl != "native":
        pytest.skip("native only")
    spec = importlib.util.find_spec("fast_litellm._native")
    second = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(second)
    assert second is not _native_loader.NATIVE
    assert second.COMPONENTS == _native_loader.NATIVE.COMPONENTS


def test_import_does_not_import_litellm():
    out = run_py("import sys, fast_litellm; print('litellm' in sys.modules)")
    assert out.returncode == 0 and out.stdout.strip() == "False"


def test_patching_waits_for_litellm_and_applies_on_its_import():
    out = run_py("""
        import fast_litellm, json
        before = fast_litellm.get_patch_status()
        import litellm
        after = fast_litellm.get_patch_status()
        import importlib
        for p in after["patches"].values():  # the proxy's and lazily loaded strategies' modules
            importlib.import_module(p["target"].split(":")[0])
        proxy = fast_litellm.get_patch_status()
        print(json.dumps([k for k, v in proxy["patches"].items() if not v["applied"]]))
        print(json.dumps([before["litellm_imported"], after["litellm_imported"],
                          {k: v["applied"] or v["reason"] for k, v in after["patches"].items()}]))
    """, LITELLM_LOCAL_MODEL_COST_MAP="True")
    assert out.returncode == 0, out.stderr
    import json
    before_imported, after_imported, applied = json.loads(out.stdout.strip().splitlines()[-1])
    not_applied_with_proxy = json.loads(out.stdout.strip().splitlines()[-2])
    assert not_applied_with_proxy == []
    assert before_imported is False and after_imported is True
    # every registered patch whose module is loaded is applied (pinned version
    # installed); proxy-only patches wait for the proxy's modules
    assert applied and all(v is True or v.startswith("pending") for v in applied.values()), applied
    assert any(v is True for v in applied.values())


def test_import_without_litellm_does_not_load_the_patch_declarations():
    """The patch modules (and the components they pull in) load when LiteLLM
    does, so `import fast_litellm` stays cheap for the components alone."""
    lazy = ("fast_litellm.patching.guards", "fast_litellm.patching.pins", "fast_litellm.patching.wrappers")
    out = run_py("import sys, fast_litellm; "
                 "print(sorted(m for m in sys.modules if m.endswith('.patches') or m in %r))" % (lazy,))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ---- implementation(kind): one contract for every component ----------------

_IMPL_COMPONENTS = ["cache", "pool", "ratelimit", "proxy_limiter", "token_counter", "tokenizer", "monitor", "routing"]


@pytest.mark.parametrize("component", _IMPL_COMPONENTS)
def test_implementation_rejects_unknown_kind_the_same_way(component):
    import importlib

    mod = importlib.import_module("fast_litellm." + component)
    with pytest.raises(ValueError, match=r"^kind must be 'python' or 'native', not 'rust'$"):
        mod.implementation("rust")


@pytest.mark.parametrize("component,call", [
    ("cache", "implementation"), ("pool", "implementation"), ("ratelimit", "implementation"),
    ("proxy_limiter", "implementation"), ("token_counter", "implementation"),
    ("tokenizer", "_core_class"), ("monitor", "_monitor_class"), ("routing", "implementation"),
])
def test_native_kind_without_the_core_is_an_import_error(component, call, monkeypatch):
    import importlib

    from fast_litellm import _native_loader

    mod = importlib.import_module("fast_litellm." + component)
    monkeypatch.setattr(_native_loader, "NATIVE", None)
    monkeypatch.setattr(_native_loader, "NATIVE_IMPORT_ERROR", "ImportError: test says no")
    with pytest.raises(_native_loader.NativeUnavailable, match="not available: ImportError: test says no"):
        getattr(mod, call)("native")
    assert issubclass(_native_loader.NativeUnavailable, ImportError)
    getattr(mod, call)("python")  # the twin is always there
