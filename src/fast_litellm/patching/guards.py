"""Guards: is the installed LiteLLM the one a patch was verified against?

Two checks per patch: the LiteLLM version is pinned (``pins.LITELLM_VERSIONS``)
and the SHA-256 of the original's source equals the recorded one
(``pins.VERIFIED``).  Either failing means our proof of exactness does not
cover the code that is installed, so the patch is not applied.
"""
from __future__ import annotations

import sys
from typing import Any, Optional, Tuple

from . import pins


def installed_litellm_version() -> Optional[str]:
    mod = sys.modules.get("litellm")
    version = getattr(mod, "__version__", None) if mod is not None else None
    if isinstance(version, str) and version:
        return version
    try:
        from importlib.metadata import PackageNotFoundError, version as dist_version
    except ImportError:  # pragma: no cover - Python < 3.8
        return None
    try:
        return dist_version("litellm")
    except PackageNotFoundError:
        return None


def unwrap_descriptor(obj: Any) -> Any:
    """The function inside a staticmethod/classmethod/property object."""
    if isinstance(obj, (staticmethod, classmethod)):
        return obj.__func__
    return obj


def source_hash(obj: Any) -> str:
    """SHA-256 of the object's source text, as pins.VERIFIED records it."""
    import hashlib
    import inspect

    src = inspect.getsource(unwrap_descriptor(obj))
    return hashlib.sha256(src.encode("utf-8")).hexdigest()


def check(target: str, original: Any) -> Tuple[bool, str]:
    """(ok, reason) for applying a patch of ``target`` over ``original``."""
    version = installed_litellm_version()
    if version in pins.FORBIDDEN_VERSIONS:
        return False, "litellm %s is a compromised release; refusing to patch it" % version
    if version not in pins.LITELLM_VERSIONS:
        return False, "litellm %s is not a verified version (verified: %s)" % (
            version, ", ".join(sorted(pins.LITELLM_VERSIONS)))
    expected = pins.VERIFIED.get(target)
    if expected is None:
        return False, "no verified source hash for %s in pins.VERIFIED" % target
    try:
        actual = source_hash(original)
    except (OSError, TypeError) as exc:
        return False, "cannot read the source of %s (%s)" % (target, exc)
    if actual != expected:
        return False, "source of %s differs from the verified one (sha256 %s..., expected %s...)" % (
            target, actual[:12], expected[:12])
    return True, "verified against litellm %s" % version
