"""The cache/limiter patch declarations: pins match the installed LiteLLM,
every patch builds, and dependencies the fast code relies on are verified."""
from __future__ import annotations

import pytest

pytest.importorskip("litellm")

from fast_litellm.cache import patches  # noqa: E402
from fast_litellm.patching import pins  # noqa: E402
from fast_litellm.patching.registry import all_patches  # noqa: E402

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
