"""Load the C core once, or explain why the pure-Python twins are in use.

``NATIVE`` is the ``fast_litellm._native`` extension module, or ``None`` when
it could not be imported (no compiler at install time, an ABI mismatch) or
when ``FAST_LITELLM_FORCE_PYTHON=1`` asks for the twins.  A failed import
warns once; a requested fallback is silent.
"""
from __future__ import annotations

import importlib
import os
import warnings
from types import ModuleType
from typing import Optional

NATIVE: Optional[ModuleType] = None
NATIVE_IMPORT_ERROR: Optional[str] = None
# FAST_LITELLM_FORCE_PYTHON asked for the pure-Python twins (not a failure)
FORCED_PYTHON = False

_TRUTHY = {"1", "true", "yes", "on"}

if os.environ.get("FAST_LITELLM_FORCE_PYTHON", "").strip().lower() in _TRUTHY:
    NATIVE_IMPORT_ERROR = "disabled by FAST_LITELLM_FORCE_PYTHON"
    FORCED_PYTHON = True
else:
    _NAME = __name__.rpartition(".")[0] + "._native"
    try:
        NATIVE = importlib.import_module(_NAME)
    except ImportError as exc:  # pragma: no cover - depends on the build
        NATIVE = None
        if isinstance(exc, ModuleNotFoundError) and exc.name == _NAME:
            NATIVE_IMPORT_ERROR = ("the C extension %s was not built when the package was "
                                   "installed (no C compiler or Python headers?)" % _NAME)
        else:
            NATIVE_IMPORT_ERROR = "%s: %s" % (type(exc).__name__, exc)
        warnings.warn(
            "fast_litellm: native core unavailable (%s); using the pure-Python "
            "implementation" % NATIVE_IMPORT_ERROR,
            RuntimeWarning,
            stacklevel=2,
        )

NATIVE_AVAILABLE: bool = NATIVE is not None


def flag_enabled(name: str) -> bool:
    """The feature flag's state (``fast_litellm.flags.is_enabled``), or True
    while the flags module is unavailable: the one check every component uses
    to choose its default implementation or mode."""
    try:
        from . import flags

        return bool(flags.is_enabled(name))
    except Exception:
        return True


def native_has(*names: str) -> bool:
    """True when the native module is loaded and exports every name."""
    return NATIVE is not None and all(hasattr(NATIVE, n) for n in names)


KINDS = ("python", "native")


class NativeUnavailable(ImportError):
    """``implementation("native")`` of a component whose C core is not loaded."""


def check_kind(kind: object) -> None:
    """The one ValueError every component's ``implementation(kind)`` raises."""
    if kind not in KINDS:
        raise ValueError("kind must be 'python' or 'native', not %r" % (kind,))


def require_native(component: str, *names: str) -> ModuleType:
    """The native module when it exports ``names``; else NativeUnavailable
    (an ImportError) naming the component and why."""
    if NATIVE is None:
        raise NativeUnavailable("the native %s is not available: %s" % (
            component, NATIVE_IMPORT_ERROR or "the C core is not loaded"))
    missing = [n for n in names if not hasattr(NATIVE, n)]
    if missing:
        raise NativeUnavailable("the native %s is not available: this build of "
                                "fast_litellm._native lacks %s" % (component, ", ".join(missing)))
    return NATIVE
