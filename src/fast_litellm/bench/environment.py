"""What a benchmark ran on: package versions and the machine."""
from __future__ import annotations

import os
import platform
import sys
from typing import Any, Dict, Optional

VERSIONED_PACKAGES = ("fast-litellm", "litellm", "tiktoken", "aiohttp", "fastapi", "uvicorn",
                      "rich", "tqdm", "matplotlib", "psutil")


def package_version(dist: str) -> Optional[str]:
    if dist == "fast-litellm":
        try:  # the imported package, which may be a checkout on PYTHONPATH
            import fast_litellm

            return fast_litellm.__version__
        except Exception:
            pass
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:
        return None


def versions() -> Dict[str, Optional[str]]:
    out: Dict[str, Optional[str]] = {"python": platform.python_version(),
                                     "python_implementation": platform.python_implementation()}
    for dist in VERSIONED_PACKAGES:
        out[dist] = package_version(dist)
    try:
        from fast_litellm import _native_loader

        out["fast_litellm_native"] = _native_loader.NATIVE is not None
    except Exception:
        out["fast_litellm_native"] = None
    return out


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_bytes() -> Optional[int]:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def machine() -> Dict[str, Any]:
    mem = memory_bytes()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count()
    try:
        load = os.getloadavg()
    except OSError:  # pragma: no cover
        load = None
    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_usable": usable,
        "memory_bytes": mem,
        "memory_gib": round(mem / 2 ** 30, 1) if mem else None,
        "os": platform.platform(),
        "machine": platform.machine(),
        "python_executable": sys.executable,
        "load_average": list(load) if load else None,
    }


def describe_machine(m: Dict[str, Any]) -> str:
    return "%s, %s cores, %s GiB, %s" % (m.get("cpu_model"), m.get("cpu_usable"),
                                          m.get("memory_gib"), m.get("os"))


_TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/encodings/%s.tiktoken"


def prepare_offline_env() -> Dict[str, str]:
    """Make LiteLLM and tiktoken work without a network; returns what was set.

    LiteLLM uses its bundled price map; tiktoken's cache points at
    vocabularies already on disk: $FAST_LITELLM_TIKTOKEN_DIR (linked under
    tiktoken's cache names) when set, else the ones LiteLLM bundles
    (p50k, cl100k, o200k).  Nothing is changed that the user already set.
    """
    import hashlib
    import importlib.util
    import tempfile

    done: Dict[str, str] = {}
    if "LITELLM_LOCAL_MODEL_COST_MAP" not in os.environ:
        os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = done["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    if os.environ.get("TIKTOKEN_CACHE_DIR"):
        return done
    vocab_dir = os.environ.get("FAST_LITELLM_TIKTOKEN_DIR")
    if vocab_dir and os.path.isdir(vocab_dir):
        cache = os.path.join(tempfile.gettempdir(), "fast-litellm-bench-tiktoken-cache")
        os.makedirs(cache, exist_ok=True)
        for name in ("r50k_base", "p50k_base", "cl100k_base", "o200k_base"):
            src = os.path.join(vocab_dir, name + ".tiktoken")
            link = os.path.join(cache, hashlib.sha1((_TIKTOKEN_URL % name).encode()).hexdigest())
            if os.path.exists(src) and not os.path.exists(link):
                try:
                    os.symlink(src, link)
                except OSError:
                    pass
        os.environ["TIKTOKEN_CACHE_DIR"] = done["TIKTOKEN_CACHE_DIR"] = cache
        return done
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        spec = None
    if spec and spec.origin:
        bundled = os.path.join(os.path.dirname(spec.origin), "litellm_core_utils", "tokenizers")
        if os.path.isdir(bundled):
            os.environ["TIKTOKEN_CACHE_DIR"] = done["TIKTOKEN_CACHE_DIR"] = bundled
    return done
