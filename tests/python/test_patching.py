"""The patch engine on a throwaway target package: guards, identity scan,
the import hook, fallback semantics, shadow mode, removal."""
import asyncio
import importlib
import os
import sys
import textwrap

import pytest

from fast_litellm import flags
from fast_litellm.patching import engine, guards, pins, registry
from fast_litellm.patching.registry import NotAccelerated, Patch

PKG = "fl_fake_target"

SOURCE = textwrap.dedent('''
    def add(a, b):
        if not isinstance(a, int):
            raise TypeError("a must be an int")
        return a + b


    async def fetch(x):
        return x * 2


    class Store:
        def get(self, key):
            return "orig:" + key

        @staticmethod
        def version():
            return 1
''')

USER = "from fl_fake_target import add\nfrom fl_fake_target import add as plus\n"


@pytest.fixture
def fake_pkg(tmp_path, monkeypatch):
    pkg = tmp_path / PKG
    pkg.mkdir()
    (pkg / "__init__.py").write_text(SOURCE)
    (pkg / "user.py").write_text(USER)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(engine, "HOOK_PREFIXES", engine.HOOK_PREFIXES + [PKG])
    added = []

    def register(name, qualname, build, **kw):
        target = "%s:%s" % (PKG, qualname)
        p = registry.register(Patch(name=name, component="testing", flag="rust_routing",
                                    target=target, build=build, **kw))
        added.append(p.name)
        return p

    yield register
    engine.remove_acceleration()
    for name in added:
        registry.unregister(name)
        engine._records.pop(name, None)
    for m in [m for m in sys.modules if m == PKG or m.startswith(PKG + ".")]:
        del sys.modules[m]
    flags.reload_config()
    flags.reset_errors()
    for flag in flags._FLAGS.values():  # shadow tallies too: the monitor's advice reads them
        flag.shadow_calls = flag.shadow_mismatches = 0
    importlib.invalidate_caches()


def pin(monkeypatch, qualname, func):
    monkeypatch.setitem(pins.VERIFIED, "%s:%s" % (PKG, qualname), guards.source_hash(func))


def load():
    importlib.invalidate_caches()
    return importlib.import_module(PKG), importlib.import_module(PKG + ".user")


def test_patch_applies_to_every_binding_and_removal_restores(fake_pkg, monkeypatch):
    mod, user = load()
    original = mod.add
    pin(monkeypatch, "add", original)
    fake_pkg("fake_add", "add", lambda orig: (lambda a, b: ("fast", a + b)))
    engine.apply_acceleration()
    st = engine.get_patch_status()["patches"]["fake_add"]
    assert st["applied"], st["reason"]
    assert st["bindings"] == 3  # package attribute, user.add, user.plus
    assert mod.add(1, 2) == user.add(1, 2) == user.plus(1, 2) == ("fast", 3)
    engine.apply_acceleration()  # idempotent
    assert engine.get_patch_status()["patches"]["fake_add"]["bindings"] == 3
    engine.remove_acceleration()
    assert mod.add is original and user.add is original and user.plus is original
    assert engine.get_patch_status()["patches"]["fake_add"]["applied"] is False


def test_patch_waits_for_import_then_scans_later_modules(fake_pkg, monkeypatch):
    import hashlib
    # the hash of the function as it will be read from the file
    src = "\n".join(SOURCE.splitlines()[1:5]) + "\n"
    monkeypatch.setitem(pins.VERIFIED, PKG + ":add", hashlib.sha256(src.encode()).hexdigest())
    fake_pkg("fake_add", "add", lambda orig: (lambda a, b: ("fast", a + b)))
    engine.apply_acceleration()
    assert engine.get_patch_status()["patches"]["fake_add"]["reason"].startswith("pending")
    mod, user = load()  # the hook patches the package as it loads, user.py binds the fast one
    assert engine.get_patch_status()["patches"]["fake_add"]["applied"], \
        engine.get_patch_status()["patches"]["fake_add"]["reason"]
    assert user.add(2, 2) == ("fast", 4) and mod.add(1, 1) == ("fast", 2)
    engine.remove_acceleration()
    assert user.add(2, 2) == 4


def test_guard_refuses_changed_source_and_unverified_version(fake_pkg, monkeypatch):
    mod, _ = load()
    monkeypatch.setitem(pins.VERIFIED, PKG + ":add", "0" * 64)
    fake_pkg("fake_add", "add", lambda orig: (lambda a, b: 0))
    engine.apply_acceleration()
    st = engine.get_patch_status()["patches"]["fake_add"]
    assert not st["applied"] and "differs from the verified" in st["reason"]
    assert mod.add(1, 2) == 3
    pin(monkeypatch, "add", mod.add)
    monkeypatch.setattr(pins, "LITELLM_VERSIONS", frozenset({"0.0.1"}))
    engine.apply_acceleration()
    st = engine.get_patch_status()["patches"]["fake_add"]
    assert not st["applied"] and "not a verified version" in st["reason"]


def test_missing_pin_is_refused(fake_pkg):
    load()
    fake_pkg("fake_add", "add", lambda orig: (lambda a, b: 0))
    engine.apply_acceleration()
    assert "no verified source hash" in engine.get_patch_status()["patches"]["fake_add"]["reason"]


def test_flag_off_means_not_applied(fake_pkg, monkeypatch):
    mod, _ = load()
    pin(monkeypatch, "add", mod.add)
    flags.set_feature("rust_routing", "off")
    fake_pkg("fake_add", "add", lambda orig: (lambda a, b: 0))
    engine.apply_acceleration()
    st = engine.get_patch_status()["patches"]["fake_add"]
    assert not st["applied"] and "is off" in st["reason"]


def _apply_failing_add(fake_pkg, monkeypatch, error, threshold):
    """fake_pkg's add patched with a fast path that always raises ``error``,
    applied under rust_routing with the given error threshold."""
    mod, _ = load()
    pin(monkeypatch, "add", mod.add)

    def broken(a, b):
        raise error

    fake_pkg("fake_add", "add", lambda orig: broken)
    flags.set_feature("rust_routing", "on", error_threshold=threshold)
    engine.apply_acceleration()
    return mod


def test_native_failure_serves_the_original_and_counts(fake_pkg, monkeypatch):
    mod = _apply_failing_add(fake_pkg, monkeypatch, RuntimeError("native bug"), 3)
    assert mod.add(1, 2) == 3
    assert flags.get_feature_status()["rust_routing"]["errors"] == 1
    # the caller's own error: the original's exception, unchanged, not counted
    with pytest.raises(TypeError, match="a must be an int"):
        mod.add("x", 2)
    assert flags.get_feature_status()["rust_routing"]["errors"] == 1
    mod.add(1, 1)
    mod.add(1, 1)
    s = flags.get_feature_status()["rust_routing"]
    assert s["state"] == "disabled_by_errors" and s["errors"] == 3
    assert mod.add(5, 5) == 10  # original now, no further errors
    assert flags.get_feature_status()["rust_routing"]["errors"] == 3


def test_not_accelerated_hands_over_silently(fake_pkg, monkeypatch):
    mod, _ = load()
    pin(monkeypatch, "add", mod.add)

    def partial(a, b):
        if b < 0:
            raise NotAccelerated("negative")
        return ("fast", a + b)

    fake_pkg("fake_add", "add", lambda orig: partial)
    engine.apply_acceleration()
    assert mod.add(1, -1) == 0 and mod.add(1, 1) == ("fast", 2)
    assert flags.get_feature_status()["rust_routing"]["errors"] == 0


@pytest.mark.parametrize("handoff", [NotAccelerated("not covered"), RuntimeError("native bug")],
                         ids=["not_accelerated", "native_error"])
def test_the_callers_error_after_a_handoff_carries_no_trace_of_ours(fake_pkg, monkeypatch, handoff):
    # The original used to run inside the wrapper's ``except`` clause: the
    # caller's exception then had our NotAccelerated / native error as its
    # __context__ (a traceback "During handling of ... another exception
    # occurred" through fast_litellm) where stock LiteLLM's has none.
    mod, _ = load()
    pin(monkeypatch, "add", mod.add)
    pin(monkeypatch, "fetch", mod.fetch)

    def fast_add(a, b):
        raise handoff

    async def fast_fetch(x):
        raise handoff

    fake_pkg("fake_add", "add", lambda orig: fast_add)
    fake_pkg("fake_fetch", "fetch", lambda orig: fast_fetch)
    engine.apply_acceleration()
    with pytest.raises(TypeError, match="a must be an int") as sync_err:
        mod.add("x", 2)
    with pytest.raises(TypeError) as async_err:
        asyncio.run(mod.fetch(None))
    for err in (sync_err.value, async_err.value):
        assert err.__context__ is None and err.__cause__ is None
    # the handed-off calls still serve the original's result
    assert mod.add(1, 2) == 3 and asyncio.run(mod.fetch(2)) == 4
    expected = 0 if isinstance(handoff, NotAccelerated) else 2  # the two calls the original served
    assert flags.get_feature_status()["rust_routing"]["errors"] == expected


def test_shadow_mode_serves_original_and_counts_mismatches(fake_pkg, monkeypatch):
    mod, _ = load()
    pin(monkeypatch, "add", mod.add)
    fake_pkg("fake_add", "add", lambda orig: (lambda a, b: a + b if a else -1),
             extra={"shadow_safe": True})
    flags.set_feature("rust_routing", "shadow")
    engine.apply_acceleration()
    assert mod.add(0, 5) == 5 and mod.add(2, 5) == 7
    s = flags.get_feature_status()["rust_routing"]
    assert s["shadow_calls"] == 2 and s["shadow_mismatches"] == 1


def test_rollout_splits_calls(fake_pkg, monkeypatch):
    mod, _ = load()
    pin(monkeypatch, "add", mod.add)
    fake_pkg("fake_add", "add", lambda orig: (lambda a, b: ("fast", a + b)))
    flags.set_feature("rust_routing", "canary:50")
    engine.apply_acceleration()
    fast = sum(isinstance(mod.add(1, 1), tuple) for _ in range(2000))
    assert 800 < fast < 1200


def test_async_and_methods(fake_pkg, monkeypatch):
    mod, _ = load()
    pin(monkeypatch, "fetch", mod.fetch)
    pin(monkeypatch, "Store.get", mod.Store.get)
    pin(monkeypatch, "Store.version", mod.Store.__dict__["version"])

    async def fast_fetch(x):
        return ("fast", x)

    fake_pkg("fake_fetch", "fetch", lambda orig: fast_fetch)
    fake_pkg("fake_get", "Store.get", lambda orig: (lambda self, key: "fast:" + key))
    fake_pkg("fake_version", "Store.version", lambda orig: (lambda: 2))
    engine.apply_acceleration()
    assert asyncio.run(mod.fetch(3)) == ("fast", 3)

    class Sub(mod.Store):
        pass

    assert Sub().get("k") == "fast:k" and mod.Store.version() == 2
    assert isinstance(mod.Store.__dict__["version"], staticmethod)
    engine.remove_acceleration()
    assert asyncio.run(mod.fetch(3)) == 6
    assert Sub().get("k") == "orig:k" and mod.Store.version() == 1


def test_build_failure_is_reported_not_raised(fake_pkg, monkeypatch):
    mod, _ = load()
    pin(monkeypatch, "add", mod.add)

    def build(orig):
        raise RuntimeError("no native core")

    fake_pkg("fake_add", "add", build)
    assert engine.apply_acceleration() is False
    st = engine.get_patch_status()["patches"]["fake_add"]
    assert not st["applied"] and "building the fast path failed" in st["reason"]
    assert mod.add(1, 2) == 3


def test_a_failed_build_counts_once_however_often_it_is_reapplied(fake_pkg, monkeypatch):
    """A build that raises over the same original is one error against the
    flag, not one per apply pass (the import hook and unpatched() blocks
    re-apply; counting each would switch the whole flag off)."""
    mod, _ = load()
    pin(monkeypatch, "add", mod.add)
    builds = []

    def build(orig):
        builds.append(orig)
        raise RuntimeError("no native core")

    fake_pkg("fake_add", "add", build)
    flags.reset_errors()
    for _ in range(15):
        engine.apply_acceleration()
        engine.remove_acceleration()
    assert len(builds) == 1
    status = flags.get_feature_status()["rust_routing"]
    assert status["errors"] == 1 and status["state"] != "disabled_by_errors"
    st = engine.get_patch_status()["patches"]["fake_add"]
    assert "building the fast path failed: RuntimeError: no native core" in st["reason"]


def test_status_shape():
    st = engine.get_patch_status()
    for key in ("applied", "components", "patches", "litellm_version", "pinned_litellm_version"):
        assert key in st
    assert st["pinned_litellm_version"] == pins.LITELLM_PIN


def test_status_says_what_each_patch_flag_serves(fake_pkg, monkeypatch):
    """An applied wrapper serves the original while its flag is off or
    disabled by errors: each patch row says the flag's state beside
    "applied"."""
    mod, _ = load()
    pin(monkeypatch, "add", mod.add)
    fake_pkg("fake_add", "add", lambda orig: (lambda a, b: ("fast", a + b)))
    engine.apply_acceleration()

    def row():
        return engine.get_patch_status()["patches"]["fake_add"]

    assert row()["applied"] is True and row()["flag_state"] == "enabled"
    for value, state in (("off", "disabled"), ("shadow", "shadow"), ("canary:10", "canary"), ("on", "enabled")):
        flags.set_feature("rust_routing", value)
        assert row()["applied"] is True and row()["flag_state"] == state, value
    flags.set_feature("rust_routing", "on", error_threshold=1)
    flags.record_error("rust_routing", RuntimeError("x"))
    assert row()["flag_state"] == "disabled_by_errors"
    flags.reset_errors("rust_routing")
    assert row()["flag_state"] == "enabled"


def test_unwrapped_patch_follows_its_flag_at_run_time(fake_pkg, monkeypatch):
    mod, user = load()
    original = mod.add
    pin(monkeypatch, "add", original)
    fake_pkg("fake_add", "add", lambda orig: (lambda a, b: ("fast", a + b)), wrap=False)
    engine.apply_acceleration()
    assert mod.add(1, 1) == ("fast", 2)
    flags.set_feature("rust_routing", "canary:50")  # no per-call check: all or nothing
    assert mod.add is original and user.add is original
    assert "fully on" in engine.get_patch_status()["patches"]["fake_add"]["reason"] or \
        "run time" in engine.get_patch_status()["patches"]["fake_add"]["reason"]
    flags.set_feature("rust_routing", "on")
    assert mod.add(1, 1) == ("fast", 2) and user.add(1, 1) == ("fast", 2)
    flags.set_feature("rust_routing", "on", error_threshold=1)
    flags.record_error("rust_routing", RuntimeError("x"))  # disabled by errors
    assert mod.add is original
    flags.reset_errors("rust_routing")
    assert mod.add(2, 2) == ("fast", 4)


def test_wrapped_patch_turned_on_at_run_time_gets_applied(fake_pkg, monkeypatch):
    mod, _ = load()
    pin(monkeypatch, "add", mod.add)
    flags.set_feature("rust_routing", "off")
    fake_pkg("fake_add", "add", lambda orig: (lambda a, b: ("fast", a + b)))
    engine.apply_acceleration()
    assert mod.add(1, 1) == 2
    flags.set_feature("rust_routing", "on")
    assert mod.add(1, 1) == ("fast", 2)
    flags.set_feature("rust_routing", "off")  # wrapped: the wrapper checks per call
    assert mod.add(1, 1) == 2


def test_unpatched_context_restores_stock_then_reapplies(fake_pkg, monkeypatch):
    mod, _ = load()
    original = mod.add
    pin(monkeypatch, "add", original)
    fake_pkg("fake_add", "add", lambda orig: (lambda a, b: ("fast", a + b)))
    engine.apply_acceleration()
    with engine.unpatched():
        assert mod.add is original
    assert mod.add(1, 1) == ("fast", 2)


# ---- the cross-process source digest memo (guards._DigestCache) -----------

def _fresh_digest_cache(monkeypatch, cache_dir):
    monkeypatch.setenv("FAST_LITELLM_CACHE_DIR", str(cache_dir))
    monkeypatch.setattr(guards, "_digests", guards._DigestCache())


def _hash_plain(obj):
    import hashlib
    import inspect

    return hashlib.sha256(inspect.getsource(obj).encode("utf-8")).hexdigest()


def test_source_digests_are_remembered_and_follow_file_edits(fake_pkg, tmp_path, monkeypatch):
    import os

    cache_dir = tmp_path / "cache"
    _fresh_digest_cache(monkeypatch, cache_dir)
    mod, _ = load()
    digest = guards.source_hash(mod.add)
    assert digest == _hash_plain(mod.add)
    assert guards.source_hash(mod.Store) == _hash_plain(mod.Store)
    guards.flush_digests()
    assert (cache_dir / guards._DigestCache.FILE).exists()

    # a new process (a fresh memo) reads the digest instead of hashing again
    _fresh_digest_cache(monkeypatch, cache_dir)
    with monkeypatch.context() as m:
        m.setattr("inspect.getsource", lambda obj: pytest.fail("hashed again"))
        assert guards.source_hash(mod.add) == digest

    # an edited file (new size and mtime) is hashed again, and the change is seen
    _fresh_digest_cache(monkeypatch, cache_dir)
    path = tmp_path / PKG / "__init__.py"
    path.write_text(SOURCE.replace("a must be an int", "a must be an integer"))
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    del sys.modules[PKG + ".user"], sys.modules[PKG]
    import linecache

    linecache.clearcache()
    mod2, _ = load()
    assert guards.source_hash(mod2.add) == _hash_plain(mod2.add) != digest


def test_source_digest_cache_survives_corrupt_and_unwritable_files(fake_pkg, tmp_path, monkeypatch):
    mod, _ = load()
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    for junk in ("{not json", "[1, 2]", '{"k": 3}', ""):
        (cache_dir / guards._DigestCache.FILE).write_text(junk)
        _fresh_digest_cache(monkeypatch, cache_dir)
        assert guards.source_hash(mod.add) == _hash_plain(mod.add)
        guards.flush_digests()
    # a path that cannot be a directory: hashing still works, nothing raises
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    _fresh_digest_cache(monkeypatch, blocker / "sub")
    assert guards.source_hash(mod.add) == _hash_plain(mod.add)
    guards.flush_digests()
    # a stored digest that is wrong for the key is believed only while the
    # file is unchanged: keys carry path, size and mtime
    key = guards._cache_key(mod.add)
    assert key is not None and str(tmp_path / PKG / "__init__.py") in key


def test_source_digests_of_decorated_functions_do_not_collide(tmp_path, monkeypatch):
    # functools.wraps wrappers share one code object; getsource reads the
    # wrapped function, so the memo must key on that too
    _fresh_digest_cache(monkeypatch, tmp_path / "cache")
    (tmp_path / "fl_fake_decorated.py").write_text(textwrap.dedent('''
        import functools

        def deco(f):
            @functools.wraps(f)
            def wrapper(*a):
                return f(*a)
            return wrapper

        @deco
        def one():
            return 1

        @deco
        def two():
            return 2
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        mod = importlib.import_module("fl_fake_decorated")
        assert guards.source_hash(mod.one) == _hash_plain(mod.one)
        assert guards.source_hash(mod.two) == _hash_plain(mod.two) != guards.source_hash(mod.one)
    finally:
        sys.modules.pop("fl_fake_decorated", None)


def test_a_returned_delegate_hands_the_call_on_without_a_second_run(fake_pkg, monkeypatch):
    from fast_litellm.patching.registry import Delegate

    mod, _ = load()
    pin(monkeypatch, "add", mod.add)
    calls = []

    def elsewhere(a, b):
        calls.append((a, b))
        if a == "boom":
            raise KeyError("from the delegate")
        return ("delegated", a, b)

    fake_pkg("fake_add", "add", lambda orig: (lambda a, b: Delegate(elsewhere) if a != 0 else ("fast", b)),
             extra={"shadow_safe": True})
    engine.apply_acceleration()
    assert mod.add(0, 5) == ("fast", 5)
    for i in range(40):  # crosses the sampled (timed) branch of the wrapper too
        assert mod.add(i + 1, 2) == ("delegated", i + 1, 2)
    # the delegate's exception is the caller's: raised once, original not run, no error counted
    errors_before = flags.get_flag("rust_routing").errors
    with pytest.raises(KeyError, match="from the delegate"):
        mod.add("boom", 1)
    assert calls[-1] == ("boom", 1) and calls.count(("boom", 1)) == 1
    assert flags.get_flag("rust_routing").errors == errors_before
    # shadow mode serves the original and has nothing to compare for a delegate
    mismatches_before = flags.get_flag("rust_routing").shadow_mismatches
    flags.set_feature("rust_routing", "shadow")
    try:
        n = len(calls)
        assert mod.add(3, 4) == 7  # served by the original
        assert len(calls) == n + 0  # the fast path ran (shadow) and its delegate was not called
        assert flags.get_flag("rust_routing").shadow_mismatches == mismatches_before
    finally:
        flags.reload_config()


def test_a_delegate_from_an_async_fast_path_is_awaited(fake_pkg, monkeypatch):
    from fast_litellm.patching.registry import Delegate

    mod, _ = load()
    pin(monkeypatch, "fetch", mod.fetch)

    async def elsewhere(x):
        return ("delegated", x)

    def build(orig):
        async def fast(x):
            return Delegate(elsewhere)
        return fast

    fake_pkg("fake_fetch", "fetch", build)
    engine.apply_acceleration()
    for i in range(20):
        assert asyncio.run(mod.fetch(i)) == ("delegated", i)


def test_pins_resolve_to_the_original_and_changed_dependencies_refuse(fake_pkg, monkeypatch):
    """guards.resolve_target follows class members, descriptors and our own
    wrappers back to LiteLLM's object; require_sources refuses a dependency
    whose source is not the pinned one, or one pinned nowhere."""
    mod, _ = load()
    pin(monkeypatch, "add", mod.add)
    fake_pkg("fake.add", "add", lambda original: (lambda a, b: original(a, b)))
    engine.apply_acceleration()
    assert getattr(mod.add, "__fast_litellm_original__", None) is not None  # patched
    assert guards.resolve_target(PKG + ":add") is mod.add.__fast_litellm_original__
    assert guards.resolve_target(PKG + ":Store.version") is mod.Store.__dict__["version"].__func__
    assert guards.resolve_target(PKG + ":Store.get") is mod.Store.__dict__["get"]

    target = PKG + ":Store.get"
    monkeypatch.setitem(pins.DEPENDENCIES, target, guards.source_hash(mod.Store.get))
    guards.require_sources([target, PKG + ":add"])  # add: VERIFIED only, the engine's to check
    monkeypatch.setitem(pins.DEPENDENCIES, target, "0" * 64)
    with pytest.raises(RuntimeError, match="Store.get changed"):
        guards.require_sources([target])
    with pytest.raises(RuntimeError, match="Store.version is not pinned"):
        guards.require_sources([PKG + ":Store.version"])


def test_an_error_marked_as_the_callers_propagates_without_a_second_run(fake_pkg, monkeypatch):
    """A fast path that had side effects and then hit LiteLLM's own
    exception marks it (``callers_error``): the wrapper raises it as it is,
    the original does not run on top (its side effects would repeat) and no
    error counts against the flag.  An unmarked error still falls back."""
    from fast_litellm.patching.registry import callers_error

    mod, _ = load()
    pin(monkeypatch, "add", mod.add)
    effects = []
    registry._CALLERS.clear()

    def fast(a, b):
        effects.append(a)  # a side effect, then LiteLLM's code raises
        try:
            if a == "marked":
                raise LookupError("LiteLLM's own error")
            if a == "unmarked":
                raise RuntimeError("our own bug")
        except LookupError as exc:
            callers_error(exc)
            raise
        return ("fast", a + b)

    fake_pkg("fake_add", "add", lambda orig: fast)
    engine.apply_acceleration()
    before = flags.get_flag("rust_routing").errors
    for i in range(40):  # crosses the sampled (timed) branch of the wrapper too
        with pytest.raises(LookupError, match="LiteLLM's own error") as info:
            mod.add("marked", i)
        assert info.value.__context__ is None and info.value.__cause__ is None
    assert effects.count("marked") == 40  # one run each, no rerun of anything
    assert flags.get_flag("rust_routing").errors == before
    assert registry._CALLERS == {}  # every mark was read and dropped
    # an unmarked error: the original runs (and raises its own TypeError here)
    with pytest.raises(TypeError, match="a must be an int"):
        mod.add("unmarked", 1)
    assert mod.add(2, 3) == ("fast", 5)


def test_a_marked_error_from_an_async_fast_path_propagates(fake_pkg, monkeypatch):
    from fast_litellm.patching.registry import callers_error

    mod, _ = load()
    pin(monkeypatch, "fetch", mod.fetch)
    runs = []

    def build(orig):
        async def fast(x):
            runs.append(x)
            try:
                raise KeyError("LiteLLM's")
            except KeyError as exc:
                if x >= 0:
                    callers_error(exc)
                raise
        return fast

    fake_pkg("fake_fetch", "fetch", build)
    engine.apply_acceleration()
    before = flags.get_flag("rust_routing").errors
    for i in range(20):
        with pytest.raises(KeyError):
            asyncio.run(mod.fetch(i))
    assert runs == list(range(20)) and flags.get_flag("rust_routing").errors == before
    # unmarked: the original serves, the error counts
    assert asyncio.run(mod.fetch(-1)) == -2
    assert flags.get_flag("rust_routing").errors == before + 1


def test_marks_left_unread_are_bounded():
    from fast_litellm.patching.registry import callers_error, is_callers_error

    errors = [ValueError(i) for i in range(registry._CALLERS_CAP * 3)]
    for exc in errors:
        callers_error(exc)
    assert len(registry._CALLERS) <= registry._CALLERS_CAP
    assert is_callers_error(errors[-1]) and not is_callers_error(errors[-1])
    assert not is_callers_error(ValueError("never marked"))
    registry._CALLERS.clear()


def _rewrapped(fn):
    """A new function object with ``fn``'s code and marks (is_pinned_source keeps one
    verdict per function object)."""
    import types

    new = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__dict__.update(fn.__dict__)
    return new


def test_is_pinned_source(fake_pkg, monkeypatch):
    """One verdict per function object: LiteLLM's pinned source (directly or
    under one of our wrappers) yes; another function or an unpinned target
    no; memoized."""
    mod, _ = load()
    pin(monkeypatch, "add", mod.add)
    target = "%s:add" % PKG
    assert guards.is_pinned_source(target, mod.add)

    def add(a, b):  # same name, other source
        return a - b

    def wrapper(*args):
        return mod.add(*args)

    wrapper.__fast_litellm_original__ = mod.add
    # (session 22 hunt) marks alone are not ours - functools.wraps copies them into a user's
    # wrapper - so an unmarked one is judged by its own source
    assert not guards.is_pinned_source(target, wrapper)
    wrapper = registry.mark_ours(_rewrapped(wrapper))
    assert not guards.is_pinned_source(target, add)
    assert guards.is_pinned_source(target, wrapper)
    assert not guards.is_pinned_source("%s:nowhere" % PKG, mod.add)
    assert guards._verdicts[(id(add), target)] == (add, False)
    assert guards._verdicts[(id(mod.add), target)] == (mod.add, True)


def test_the_import_hooks_reentry_guard_is_per_thread():
    # find_spec ended by replacing the hook's whole threading.local(): one
    # thread finishing a lookup cleared the re-entry guard of every other
    # thread still inside its own.
    import threading

    from fast_litellm.patching._hook import ImportHook

    hook = ImportHook(lambda module: None, prefixes=lambda: ["fl_no_such_pkg"])
    hook._local.busy = True  # this thread is inside a lookup
    other = threading.Thread(target=hook.find_spec, args=("fl_no_such_pkg.mod",))
    other.start()
    other.join()
    assert hook._local.busy is True


def test_a_reloaded_target_module_is_patched_again(fake_pkg, monkeypatch):
    # importlib.reload re-executes the module: its fresh functions are stock,
    # while get_patch_status() went on saying "applied".
    mod, user = load()
    pin(monkeypatch, "add", mod.add)
    fake_pkg("fake_add", "add", lambda orig: (lambda a, b: ("fast", a + b)))
    engine.apply_acceleration()
    importlib.reload(mod)
    st = engine.get_patch_status()["patches"]["fake_add"]
    assert st["applied"] and mod.add(1, 2) == ("fast", 3)
    fresh = mod.add.__fast_litellm_original__
    engine.remove_acceleration()
    assert mod.add is fresh and mod.add(1, 2) == 3 and user.add(1, 2) == 3


def test_status_tells_when_a_patched_target_was_replaced_since(fake_pkg, monkeypatch):
    mod, _ = load()
    pin(monkeypatch, "add", mod.add)
    fake_pkg("fake_add", "add", lambda orig: (lambda a, b: ("fast", a + b)))
    engine.apply_acceleration()
    theirs = lambda a, b: "theirs"  # noqa: E731 - another library's monkeypatch
    mod.add = theirs
    status = engine.get_patch_status()
    st = status["patches"]["fake_add"]
    assert st["applied"] is False and "replaced" in st["reason"]
    assert "testing" not in status["components"]
    engine.remove_acceleration()
    assert mod.add is theirs  # left alone


DEADLOCK_SCRIPT = textwrap.dedent('''
    import importlib, sys, threading, time
    sys.path.insert(0, sys.argv[1])
    from fast_litellm.patching import engine, guards, pins, registry
    from fast_litellm.patching.registry import Patch
    engine.HOOK_PREFIXES.append("fl_dl")
    import fl_dl
    pins.VERIFIED["fl_dl:add"] = guards.source_hash(fl_dl.add)

    def build(original):
        importlib.import_module("fl_dl.slow")  # as a build's dependency check does
        return lambda a, b: ("fast", a + b)

    engine.apply_acceleration()
    registry.register(Patch("dl.add", "testing", "rust_routing", "fl_dl:add", build))
    importer = threading.Thread(target=importlib.import_module, args=("fl_dl.slow",), daemon=True)
    importer.start()
    time.sleep(0.1)  # the importer is running fl_dl.slow's body
    applier = threading.Thread(target=engine.apply_acceleration, daemon=True)
    applier.start()
    importer.join(10)
    applier.join(10)
    print(importer.is_alive() or applier.is_alive(), fl_dl.add(1, 2) if not applier.is_alive() else None)
''')


def test_applying_while_another_thread_imports_a_watched_module_does_not_deadlock(tmp_path):
    # The hook's callback runs under the module's import lock and waited for
    # the engine's lock; a thread holding that lock whose build imported the
    # same module waited for the import lock: both hung for ever.
    import subprocess
    import os

    pkg = tmp_path / "fl_dl"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("def add(a, b):\n    return a + b\n")
    (pkg / "slow.py").write_text("import time\ntime.sleep(0.4)\n")
    src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    env = dict(os.environ, PYTHONPATH=os.path.abspath(src))
    out = subprocess.run([sys.executable, "-c", DEADLOCK_SCRIPT, str(tmp_path)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "('fast',", "3)"]


FORK_SCRIPT = textwrap.dedent('''
    import os, signal, sys, threading, time
    sys.path.insert(0, sys.argv[1])
    from fast_litellm.patching import engine, guards, pins, registry
    from fast_litellm.patching.registry import Patch
    engine.HOOK_PREFIXES.append("fl_dl")
    import fl_dl
    pins.VERIFIED["fl_dl:add"] = guards.source_hash(fl_dl.add)
    building = threading.Event()

    def build(original):
        building.set()
        time.sleep(0.5)  # a slow build (a vocabulary load) on another thread
        return lambda a, b: ("fast", a + b)

    registry.register(Patch("dl.add", "testing", "rust_routing", "fl_dl:add", build))
    applier = threading.Thread(target=engine.apply_acceleration)
    applier.start()
    building.wait(10)
    pid = os.fork()
    if pid == 0:
        signal.alarm(5)
        try:
            print(engine.get_patch_status()["patches"]["dl.add"]["applied"], fl_dl.add(1, 2), flush=True)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    applier.join()
''')


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_worker_forked_while_another_thread_applies_can_use_the_engine(tmp_path):
    # The engine's lock, held by the applying thread at fork time, stayed
    # held in the child: get_patch_status() (and set_feature, the import
    # hook) of the forked worker waited for ever.
    import subprocess

    pkg = tmp_path / "fl_dl"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("def add(a, b):\n    return a + b\n")
    src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    env = dict(os.environ, PYTHONPATH=os.path.abspath(src))
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", FORK_SCRIPT, str(tmp_path)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.split() == ["True", "('fast',", "3)"], out.stderr


def test_a_target_whose_file_no_longer_parses_is_refused_not_raised(fake_pkg, monkeypatch, tmp_path):
    # The file under a running process changed (an in-place upgrade) so that
    # inspect.getsource raised tokenize.TokenError: apply_acceleration() and
    # get_patch_status() raised it, and the patches after it were never tried.
    monkeypatch.setattr(guards, "_digests", guards._DigestCache())
    monkeypatch.setenv("FAST_LITELLM_CACHE_DIR", str(tmp_path / "cache"))
    mod, _ = load()
    pin(monkeypatch, "add", mod.add)
    pin(monkeypatch, "Store.get", mod.Store.get)
    fake_pkg("fake_add", "add", lambda orig: (lambda a, b: ("fast", a + b)))
    fake_pkg("fake_get", "Store.get", lambda orig: (lambda self, key: "fast:" + key))
    monkeypatch.setattr(guards, "_digests", guards._DigestCache())  # nothing remembered
    path = mod.__file__
    with open(path, "w") as f:
        f.write("def add(a, b):\n    return (a +\n")
    import linecache
    linecache.clearcache()
    assert engine.apply_acceleration() is False
    st = engine.get_patch_status()["patches"]
    assert not st["fake_add"]["applied"] and "TokenError" in st["fake_add"]["reason"]
    assert not st["fake_get"]["applied"] and "cannot read the source" in st["fake_get"]["reason"]
    assert mod.add(1, 2) == 3


def test_odd_entries_of_sys_modules_do_not_break_the_identity_scan(fake_pkg, monkeypatch):
    # An entry whose __dict__ raises (an object, or a lazy module subclass
    # like apipkg's, whose __dict__ property imports) made apply_acceleration
    # and remove_acceleration raise half-way through their scans.
    import types

    class Odd:
        @property
        def __dict__(self):
            raise RuntimeError("odd entry")

    class LazyModule(types.ModuleType):
        touched = False

        @property
        def __dict__(self):
            LazyModule.touched = True
            raise ImportError("an optional dependency is missing")

    monkeypatch.setitem(sys.modules, "fl_odd_entry", Odd())
    monkeypatch.setitem(sys.modules, "fl_lazy_module", LazyModule("fl_lazy_module"))
    mod, user = load()
    original = mod.add
    pin(monkeypatch, "add", original)
    fake_pkg("fake_add", "add", lambda orig: (lambda a, b: ("fast", a + b)))
    assert engine.apply_acceleration() is True
    assert mod.add(1, 2) == user.add(1, 2) == ("fast", 3)
    engine.remove_acceleration()
    assert mod.add is original and user.add is original
    assert not LazyModule.touched  # the scan does not run a module's lazy imports


def test_status_says_why_while_acceleration_is_not_on(fake_pkg, monkeypatch):
    """With every flag off at import (FAST_LITELLM_ENABLED=false) nothing is
    applied and set_feature() does not apply patches: each row said "not
    attempted", even with its flag switched on since.  It now says the flag
    is off, or that apply_acceleration() is what applies it."""
    mod, _ = load()
    pin(monkeypatch, "add", mod.add)
    fake_pkg("fake_add", "add", lambda orig: (lambda a, b: ("fast", a + b)))
    engine.remove_acceleration()
    engine._records.pop("fake_add", None)  # a declaration no apply has seen

    def row():
        return engine.get_patch_status()["patches"]["fake_add"]

    flags.set_feature("rust_routing", "off")
    assert row()["applied"] is False and row()["reason"] == "feature flag rust_routing is off (set_feature)"
    flags.set_feature("rust_routing", "on")
    assert row()["applied"] is False and row()["flag_state"] == "enabled"
    assert "apply_acceleration() applies it" in row()["reason"]
    assert mod.add(1, 2) == 3  # and indeed not patched
    engine.apply_acceleration()
    assert row()["applied"] is True and mod.add(1, 2) == ("fast", 3)


def test_native_failures_show_in_patch_status_and_health_check(fake_pkg, monkeypatch):
    """A fast path's errors were only in get_feature_status(): the patch's
    row now counts them, and health_check() names a flag that turned itself
    off after them."""
    from fast_litellm.patching.health import run_health_check

    mod = _apply_failing_add(fake_pkg, monkeypatch, MemoryError("native allocation failed"), 2)

    def row():
        return engine.get_patch_status()["patches"]["fake_add"]

    assert row()["flag_errors"] == 0 and "rust_routing" not in run_health_check()["disabled_by_errors"]
    assert mod.add(1, 2) == 3
    assert row()["flag_errors"] == 1 and row()["flag_state"] == "enabled"
    assert mod.add(1, 2) == 3
    assert row()["flag_errors"] == 2 and row()["flag_state"] == "disabled_by_errors"
    assert run_health_check()["disabled_by_errors"] == {"rust_routing": 2}
    flags.reset_errors("rust_routing")
    assert row()["flag_errors"] == 0 and run_health_check()["disabled_by_errors"] == {}
