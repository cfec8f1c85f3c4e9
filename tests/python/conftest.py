"""Shared fixtures.

The dual-implementation pattern (as multidict does it): the ``impl`` fixture
is parametrized over ``"python"`` and ``"native"``, and every component
exposes ``implementation(kind)`` returning a namespace with the same API for
either kind.  A test written once runs against both twins:

    @pytest.fixture
    def limiter_cls(impl):
        from fast_litellm import ratelimit
        return ratelimit.implementation(impl).SimpleRateLimiter

When the C core is not built, native cases are skipped, or fail when
FAST_LITELLM_REQUIRE_NATIVE=1 (CI sets it).
"""
from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

def _find_shared() -> Path:
    """../shared beside the checkout (CI, main), or above a worktree."""
    if os.environ.get("FAST_LITELLM_SHARED_DIR"):
        return Path(os.environ["FAST_LITELLM_SHARED_DIR"])
    for parent in REPO.parents:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared"
    return REPO.parent / "shared"


SHARED = _find_shared()
TIKTOKEN_DATA = SHARED / "data" / "tiktoken"
UNICODE_DATA = SHARED / "data" / "unicode-16.0.0"

# LiteLLM offline: the bundled price map, never a fetch.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# Tests never write the tokenizer's prebuilt-vocabulary cache into $HOME; the
# directory made here (prebuilt vocabularies, ~25 MB a run) goes when the run ends.
# A run that is killed cannot remove its own: its directory names its pid, and
# the next run removes those whose process is gone.
_PREBUILT_PREFIX = "fast-litellm-test-prebuilt-"


def _remove_dead_runs_dirs() -> None:
    for entry in Path(tempfile.gettempdir()).glob(_PREBUILT_PREFIX + "*-*"):
        pid = entry.name[len(_PREBUILT_PREFIX):].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except OSError:  # alive under another user, or not ours to signal
            pass


if not os.environ.get("FAST_LITELLM_CACHE_DIR"):
    _remove_dead_runs_dirs()
    _PREBUILT_DIR = tempfile.mkdtemp(prefix="%s%d-" % (_PREBUILT_PREFIX, os.getpid()))
    os.environ["FAST_LITELLM_CACHE_DIR"] = _PREBUILT_DIR
    _PREBUILT_OWNER = os.getpid()  # a forked child that exits must not remove it

    @atexit.register
    def _remove_prebuilt_dir() -> None:
        if os.getpid() == _PREBUILT_OWNER:
            shutil.rmtree(_PREBUILT_DIR, ignore_errors=True)

# tiktoken (the oracle) finds the shared vocabularies by their cache names.
_CACHE_NAMES = {
    "r50k_base": "https://openaipublic.blob.core.windows.net/encodings/r50k_base.tiktoken",
    "p50k_base": "https://openaipublic.blob.core.windows.net/encodings/p50k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}


def _tiktoken_cache_dir() -> str:
    d = Path(tempfile.gettempdir()) / "fast-litellm-test-tiktoken-cache"
    d.mkdir(exist_ok=True)
    for name, url in _CACHE_NAMES.items():
        link = d / hashlib.sha1(url.encode()).hexdigest()
        src = TIKTOKEN_DATA / (name + ".tiktoken")
        if src.exists() and not link.exists():
            try:
                link.symlink_to(src)
            except FileExistsError:
                pass
    return str(d)


if TIKTOKEN_DATA.exists():
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", _tiktoken_cache_dir())
    # `import litellm` overwrites TIKTOKEN_CACHE_DIR with its own folder (which
    # lacks r50k/p50k) unless CUSTOM_TIKTOKEN_CACHE_DIR names one.
    os.environ.setdefault("CUSTOM_TIKTOKEN_CACHE_DIR", os.environ["TIKTOKEN_CACHE_DIR"])
    os.environ.setdefault("FAST_LITELLM_TIKTOKEN_DIR", str(TIKTOKEN_DATA))

from fast_litellm import _native_loader  # noqa: E402

# FL_TEST_IMPLEMENTATIONS=native (scripts/sanitize-ext.sh): only the C twin's
# runs, where the pure-Python one exercises no C the run is meant to check
IMPLEMENTATIONS = [k for k in ("python", "native")
                   if k in os.environ.get("FL_TEST_IMPLEMENTATIONS", "python,native").split(",")]


@pytest.fixture(params=IMPLEMENTATIONS)
def impl(request) -> str:
    """"python" or "native": which twin the test exercises."""
    if request.param == "native" and _native_loader.NATIVE is None:
        if os.environ.get("FAST_LITELLM_REQUIRE_NATIVE"):
            pytest.fail("native core not built: %s" % _native_loader.NATIVE_IMPORT_ERROR)
        pytest.skip("native core not built")
    return request.param


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.exists():
        pytest.skip("../shared not present")
    return SHARED


@pytest.fixture(scope="session")
def tiktoken_data_dir() -> Path:
    if not TIKTOKEN_DATA.exists():
        pytest.skip("shared tiktoken data not present")
    return TIKTOKEN_DATA


# ---- LiteLLM's model tables, as each test module found them ----------------
# Tests that register or edit models (litellm.register_model, writes into
# litellm.model_cost, a replaced map) restore what they touched, but
# register_model also appends to LiteLLM's model lists and its lower-case
# index; a module that compares against the pristine tables (the name-lookup
# tables, a subprocess reading the bundled JSON) must not see another
# module's leftovers.  So every module ends with LiteLLM's tables put back.

def _is_model_table(name: str, value) -> bool:
    return isinstance(value, (dict, list, set)) and (
        name == "model_cost" or name.endswith(("_models", "_llms")) or name.startswith("model_list"))


def _litellm_tables():
    import copy

    litellm = sys.modules["litellm"]
    return {name: (value, copy.deepcopy(value) if name == "model_cost" else copy.copy(value))
            for name, value in list(vars(litellm).items()) if _is_model_table(name, value)}


def _restore_litellm_tables(tables) -> None:
    import copy

    litellm = sys.modules["litellm"]
    changed = False
    for name, (table, saved) in tables.items():
        if getattr(litellm, name, None) is not table:
            setattr(litellm, name, table)
            changed = True
        if table != saved:
            table.clear()
            if isinstance(table, list):
                table.extend(saved)
            else:
                table.update(copy.deepcopy(saved) if name == "model_cost" else saved)
            changed = True
    if changed:
        invalidate = getattr(sys.modules.get("litellm.utils"), "_invalidate_model_cost_lowercase_map", None)
        if invalidate is not None:
            invalidate()


_PRISTINE_TABLES = []  # LiteLLM's tables when a module first found it imported


@pytest.fixture(autouse=True, scope="module")
def _litellm_tables_restored():
    if "litellm" in sys.modules and not _PRISTINE_TABLES:
        _PRISTINE_TABLES.append(_litellm_tables())
    yield
    if "litellm" not in sys.modules:
        return
    if _PRISTINE_TABLES:
        _restore_litellm_tables(_PRISTINE_TABLES[0])
    else:  # imported by this module: its state is the baseline from here on
        _PRISTINE_TABLES.append(_litellm_tables())
