"""Every binding of LiteLLM's token_counter is patched, and restored.

``bindings()`` finds every module global that holds the original function
(either the core ``litellm_core_utils.token_counter.token_counter`` or the
``litellm.utils`` wrapper that ``litellm.token_counter`` is) after importing
litellm, the router strategies, the router pre-call checks and -- when
importable -- the proxy.  With acceleration applied each must hold a
replacement; after ``remove_acceleration()`` each must hold the original
again.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from typing import List, Tuple

import pytest

litellm = pytest.importorskip("litellm")

import litellm.utils as litellm_utils  # noqa: E402
from litellm.litellm_core_utils import token_counter as tc  # noqa: E402
from _forking import forked_child_status  # noqa: E402

# ``import fast_litellm`` (conftest imports it) may already have patched
# LiteLLM: the engine's wrappers keep the original as ``__wrapped__``.
CORE_ORIGINAL = inspect.unwrap(tc.token_counter)
UTILS_ORIGINAL = inspect.unwrap(litellm_utils.token_counter)
ORIGINALS = {id(CORE_ORIGINAL): CORE_ORIGINAL, id(UTILS_ORIGINAL): UTILS_ORIGINAL}

EXTRA_PACKAGES = ["litellm.router_strategy", "litellm.router_utils.pre_call_checks"]
OPTIONAL_MODULES = [
    "litellm.router",
    "litellm.compression.compress",
    "litellm.batches.batch_utils",
    "litellm.llms.openai.common_utils",
    "litellm.litellm_core_utils.streaming_chunk_builder_utils",
    "litellm.proxy.hooks.parallel_request_limiter_v3",
    "litellm.proxy.proxy_server",
]


def import_everything() -> List[str]:
    failed = []
    litellm.token_counter  # the lazy attribute binds litellm.token_counter  # noqa: B018
    for pkg_name in EXTRA_PACKAGES:
        try:
            pkg = importlib.import_module(pkg_name)
        except Exception:  # noqa: BLE001
            failed.append(pkg_name)
            continue
        for info in pkgutil.walk_packages(pkg.__path__, pkg_name + "."):
            try:
                importlib.import_module(info.name)
            except Exception:  # noqa: BLE001 - optional dependencies
                failed.append(info.name)
    for name in OPTIONAL_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001
            failed.append(name)
    return failed


def bindings() -> List[Tuple[str, str, int]]:
    """(module, global name, id of the original it holds)."""
    found = []
    for mod_name, module in list(sys.modules.items()):
        if mod_name != "litellm" and not mod_name.startswith("litellm."):
            continue
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for key, value in list(namespace.items()):
            if id(value) in ORIGINALS and value is ORIGINALS[id(value)]:
                found.append((mod_name, key, id(value)))
    return found


@pytest.fixture(scope="module")
def original_bindings():
    import fast_litellm

    was_patched = litellm_utils.token_counter is not UTILS_ORIGINAL
    try:
        fast_litellm.remove_acceleration()
    except NotImplementedError:
        pass
    import_everything()
    yield bindings()
    if was_patched:
        fast_litellm.apply_acceleration()


def test_the_scan_finds_the_known_bindings(original_bindings):
    names = {(m, k) for m, k, _ in original_bindings}
    assert ("litellm.litellm_core_utils.token_counter", "token_counter") in names
    assert ("litellm.utils", "token_counter") in names
    assert ("litellm", "token_counter") in names
    assert ("litellm.router_utils.pre_call_checks.io_token_rate_limit_check", "token_counter") in names
    assert len(names) >= 5


def test_every_binding_is_patched_and_restored(original_bindings):
    import fast_litellm

    try:
        fast_litellm.remove_acceleration()
        applied = fast_litellm.apply_acceleration()
    except NotImplementedError:
        pytest.skip("patch engine not merged yet")
    try:
        status = fast_litellm.get_patch_status()
        assert applied, status
        for mod_name, key, original_id in original_bindings:
            now = getattr(sys.modules[mod_name], key)
            assert now is not ORIGINALS[original_id], "%s.%s still holds the original" % (mod_name, key)
        # the patched functions answer exactly as the originals
        messages = [{"role": "user", "content": "hello"}]
        assert litellm.token_counter(model="gpt-4o", messages=messages) == CORE_ORIGINAL(
            model="gpt-4o", messages=messages)
    finally:
        fast_litellm.remove_acceleration()
    for mod_name, key, original_id in original_bindings:
        assert getattr(sys.modules[mod_name], key) is ORIGINALS[original_id], "%s.%s not restored" % (mod_name, key)


def test_handed_off_calls_go_to_the_core_the_stock_wrapper_would_call(monkeypatch):
    """A model LiteLLM counts with another tokenizer: the patched
    ``litellm.token_counter`` returns a Delegate to the stock core function
    (what stock ``litellm.utils.token_counter`` ends in), or, when a user
    replaced the core function, to the stock utils function, which calls the
    user's; ``disable_token_counter`` still answers 0."""
    import fast_litellm

    fast_litellm.remove_acceleration()
    assert fast_litellm.apply_acceleration()
    try:
        messages = [{"role": "user", "content": "hello there"}, {"role": "assistant", "content": "hi"}]
        model = "claude-sonnet-4-5"
        stock = CORE_ORIGINAL(model=model, messages=messages)
        for _ in range(40):  # both wrapper branches (sampled and not)
            assert litellm.token_counter(model=model, messages=messages) == stock
            assert litellm.token_counter(model, None, None, messages) == stock

        seen = []

        def users_core(*args, **kwargs):
            seen.append((args, kwargs))
            return 12345

        monkeypatch.setattr(tc, "token_counter", users_core)
        assert litellm.token_counter(model=model, messages=messages) == 12345
        # stock litellm.utils.token_counter passes its nine arguments positionally
        assert len(seen) == 1 and len(seen[0][0]) == 9 and seen[0][1] == {}
        monkeypatch.undo()

        monkeypatch.setattr(litellm, "disable_token_counter", True)
        assert litellm.token_counter(model=model, messages=messages) == 0
    finally:
        fast_litellm.remove_acceleration()
        fast_litellm.apply_acceleration()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_fork_while_another_thread_loads_a_counter():
    """A thread loading an encoding's counter holds _encoding._LOCK (tens
    of ms); a fork at that moment used to leave it held forever in the
    child, whose first token_counter call for a new encoding hung."""
    from fast_litellm import _forksafe
    from fast_litellm.token_counter import _encoding, _python

    def child():
        cores = [obj for obj in list(_forksafe._FORK_REGISTRY) if isinstance(obj, _python.TokenCounterCore)]
        return _encoding.ordinary_counter("p50k_base")("hello world") == 2 and all(
            core.lock.acquire(timeout=1) for core in cores)

    assert forked_child_status([lambda: _encoding._LOCK], child) == 0


def test_tokenizer_is_imported_when_the_patch_is_applied():
    """The fast token_counter imported fast_litellm.tokenizer lazily, on
    the first count: when that was a worker thread and another thread
    forked meanwhile (gunicorn --preload with a warm-up thread), the
    child inherited the module's import lock held forever and its first
    token_counter hung.  The build imports it, so no count ever does."""
    import os
    import subprocess

    code = ("import sys, fast_litellm, litellm; fast_litellm.apply_acceleration(); "
            "print(fast_litellm.get_patch_status()['patches']['token_counter']['applied'], "
            "'fast_litellm.tokenizer' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["True", "True"], out.stderr[-2000:]
