"""Fast LiteLLM: exact, measured acceleration for LiteLLM.

``import fast_litellm`` applies every enabled and guarded patch to LiteLLM
(now, or as soon as LiteLLM is imported).  The components are also usable on
their own: an exact tiktoken-compatible tokenizer, a rate limiter, a
connection pool, a router, feature flags and a performance monitor.

Public names are resolved lazily (PEP 562) from the registry ``_PUBLIC``
below, so importing the package stays cheap.
"""
from __future__ import annotations

import importlib
from typing import Any, Dict, Tuple

from ._native_loader import NATIVE_AVAILABLE as _NATIVE_AVAILABLE

__version__ = "0.2.0"

#: True when the C core is loaded.  The name is kept from the Rust-based
#: 0.1.x releases for drop-in compatibility; NATIVE_ACCELERATION_AVAILABLE is
#: the same value under a neutral name.
RUST_ACCELERATION_AVAILABLE: bool = _NATIVE_AVAILABLE
NATIVE_ACCELERATION_AVAILABLE: bool = _NATIVE_AVAILABLE

# public name -> (submodule, attribute)
_PUBLIC: Dict[str, Tuple[str, str]] = {
    # core
    "health_check": ("patching", "health_check"),
    "apply_acceleration": ("patching", "apply_acceleration"),
    "remove_acceleration": ("patching", "remove_acceleration"),
    "get_patch_status": ("patching", "get_patch_status"),
    # feature flags
    "is_enabled": ("flags", "is_enabled"),
    "get_feature_status": ("flags", "get_feature_status"),
    "reset_errors": ("flags", "reset_errors"),
    "set_feature": ("flags", "set_feature"),
    # performance monitor
    "record_performance": ("monitor", "record_performance"),
    "get_performance_stats": ("monitor", "get_performance_stats"),
    "compare_implementations": ("monitor", "compare_implementations"),
    "get_recommendations": ("monitor", "get_recommendations"),
    "export_performance_data": ("monitor", "export_performance_data"),
    "reset_performance_stats": ("monitor", "reset_performance_stats"),
    # tokenizer
    "Encoding": ("tokenizer", "Encoding"),
    "get_encoding": ("tokenizer", "get_encoding"),
    "encoding_for_model": ("tokenizer", "encoding_for_model"),
    "list_encoding_names": ("tokenizer", "list_encoding_names"),
    "SimpleTokenCounter": ("tokenizer", "SimpleTokenCounter"),
    # rate limiting
    "SimpleRateLimiter": ("ratelimit", "SimpleRateLimiter"),
    "check_rate_limit": ("ratelimit", "check_rate_limit"),
    "get_rate_limit_stats": ("ratelimit", "get_rate_limit_stats"),
    "key_fingerprint": ("ratelimit", "key_fingerprint"),
    "configure_default_rate_limiter": ("ratelimit", "configure_default_rate_limiter"),
    # connection pool
    "SimpleConnectionPool": ("pool", "SimpleConnectionPool"),
    "get_connection": ("pool", "get_connection"),
    "return_connection": ("pool", "return_connection"),
    "remove_connection": ("pool", "remove_connection"),
    "health_check_connection": ("pool", "health_check_connection"),
    "cleanup_expired_connections": ("pool", "cleanup_expired_connections"),
    "get_connection_pool_stats": ("pool", "get_connection_pool_stats"),
    "configure_default_pool": ("pool", "configure_default_pool"),
    # routing
    "AdvancedRouter": ("routing", "AdvancedRouter"),
    "get_available_deployment": ("routing", "get_available_deployment"),
}

__all__ = sorted(
    ["RUST_ACCELERATION_AVAILABLE", "NATIVE_ACCELERATION_AVAILABLE", "__version__"]
    + list(_PUBLIC)
)


def __getattr__(name: str) -> Any:
    try:
        submodule, attr = _PUBLIC[name]
    except KeyError:
        raise AttributeError("module 'fast_litellm' has no attribute %r" % name) from None
    value = getattr(importlib.import_module("." + submodule, __name__), attr)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    return __all__


def _auto_apply() -> None:
    from .patching import engine

    engine.apply_on_import()


_auto_apply()
