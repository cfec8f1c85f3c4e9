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
