"""Routing: the seed API's ``AdvancedRouter`` / ``get_available_deployment``
(C core + pure-Python twin), and exact accelerations of LiteLLM's Router
(``patches.py``, flag ``rust_routing``).

``implementation(kind)`` returns the ``"python"`` or ``"native"`` twin; the
package's own names use the native one when the C core is built.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from .._native_loader import NATIVE, check_kind, flag_enabled, require_native
from ._spec import STRATEGIES

__all__ = ["AdvancedRouter", "get_available_deployment", "implementation", "STRATEGIES"]

_TWINS = {"python": "._python", "native": "._native"}


def implementation(kind: str) -> ModuleType:
    """The ``"python"`` or ``"native"`` twin (a module with the same API)."""
    check_kind(kind)
    if kind == "native":
        require_native("router", "RouterCore")
    return importlib.import_module(_TWINS[kind], __name__)


#: the seed API's flag (kept name), as the rate limiter's and pool's defaults follow theirs
FLAG = "rust_routing"


_DEFAULT = implementation("native" if NATIVE is not None and hasattr(NATIVE, "RouterCore") else "python")
AdvancedRouter = _DEFAULT.AdvancedRouter
# the module-level pick uses the pure-Python twin's default router while
# rust_routing is off (FAST_LITELLM_RUST_ROUTING=false or FAST_LITELLM_ENABLED=false)
get_available_deployment = (_DEFAULT if flag_enabled(FLAG) else implementation("python")).get_available_deployment
