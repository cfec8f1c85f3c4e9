"""The cache/limiter patch declarations: pins match the installed LiteLLM,
every patch builds, and dependencies the fast code relies on are verified."""
from __future__ import annotations

import pytest

pytest.importorskip("litellm")

from fast_litellm.cache import patches  # noqa: E402
from fast_litellm.patching import pins  # noqa: E402
from fast_litellm.patching.registry import all_patches  # noqa: E402
from _forking import forked_child_status  # noqa: E402

OURS = [p for p in all_patches() if p.name.startswith(("in_memory_cache.", "proxy_limiter."))]


def test_every_patch_is_pinned_to_the_installed_source():
    assert len(OURS) == 14
    for patch in OURS:
        assert patches.source_hash(patches.resolve(patch.target)) == pins.VERIFIED[patch.target], patch.target


def test_dependencies_are_the_verified_sources():
    patches.check_dependencies(("litellm.",))


@pytest.mark.parametrize("patch", OURS, ids=lambda p: p.name)
def test_patch_builds(patch):
    original = patches.resolve(patch.target)
    built = patch.build(original)
    assert callable(built)
    # either a fast version of the original, or (Python twin, name it does
    # not cover) the original itself
    assert built is original or built.__wrapped__ is original


def test_cache_patches_skip_the_engine_wrapper():
    assert all(p.wrap is False for p in OURS if p.name.startswith("in_memory_cache."))
    assert all(p.flag == "native_in_memory_cache" for p in OURS if p.name.startswith("in_memory_cache."))
    assert all(p.flag == "rust_rate_limiting" for p in OURS if p.name.startswith("proxy_limiter."))
    unwrapped = {p.name for p in OURS if p.name.startswith("proxy_limiter.") and not p.wrap}
    # both write to the store: an engine retry of the original after a
    # failure would apply the increments twice
    assert unwrapped == {"proxy_limiter._in_memory_cache_sliding_window", "proxy_limiter.should_rate_limit"}


def test_changed_dependency_is_refused(monkeypatch):
    monkeypatch.setitem(patches.DEPENDENCIES, next(iter(patches.DEPENDENCIES)), "0" * 64)
    with pytest.raises(patches.DependencyChanged):
        patches.check_dependencies(("litellm.",))


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_fork_while_another_thread_builds_methods():
    """_BUILD_LOCK held by a parent thread at a fork used to stay held
    forever in the child."""
    from fast_litellm import cache

    cache._BUILT.clear()  # the child builds again

    def child():
        return "get_cache" in cache.methods()

    assert forked_child_status([lambda: cache._BUILD_LOCK], child) == 0


def test_methods_before_litellm_is_imported_does_not_hang():
    """methods() imported LiteLLM's cache module under _BUILD_LOCK; that
    first import applies the patches, whose build calls methods() again:
    a fresh process that called methods() (or configure_client_cache())
    before importing LiteLLM hung forever on its own lock."""
    import os
    import subprocess
    import sys

    code = ("import fast_litellm.cache as c; c.configure_client_cache(); "
            "print(sorted(c.methods()) == sorted(c._BUILT[c.DEFAULT_KIND]))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "True", out.stderr[-2000:]
