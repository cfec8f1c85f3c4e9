"""Native twin of the InMemoryCache methods (csrc/binding/bind_cache.c)."""
from __future__ import annotations

from typing import Any, Callable, Dict, Mapping

from .._native_loader import NATIVE


def build_methods(
    originals: Mapping[str, Callable[..., Any]],
    module_globals: Mapping[str, Any],
    json_module: Any,
    heapq_module: Any,
    lock_types: tuple,
) -> Dict[str, Any]:
    if NATIVE is None:
        raise ImportError("fast_litellm native core is not built")
    import time

    clock_code = _stock_clock_code(originals)
    return dict(
        NATIVE._cache_build(
            module_globals, dict(originals), json_module, heapq_module, lock_types, clock_code, time
        )
    )


def _stock_clock_code(originals: Mapping[str, Any]) -> Any:
    """The code object of InMemoryCache.__init__'s `lambda: time.time()`."""
    init = originals.get("__init__")
    if init is not None:
        for const in init.__code__.co_consts:
            if getattr(const, "co_name", None) == "<lambda>":
                return const
    return None


def configure(methods: Mapping[str, Any], stock_types: tuple) -> None:
    """Instances of ``stock_types`` (and subclasses) run the stock methods."""
    any_method = next(iter(methods.values()))
    NATIVE._cache_configure(any_method, tuple(stock_types))
