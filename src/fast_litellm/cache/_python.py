"""Pure-Python twin of the native InMemoryCache methods.

Same API as the native twin (``build_methods``).  It keeps the stock
method bodies, which call every helper through ``self`` exactly as LiteLLM
does, and only replaces the read path's ``json.loads``-and-catch with a
prefilter that answers "json.loads would raise" without raising for the
common non-JSON values (dicts, numbers, clients, plain strings).  A maybe
still goes through ``json.loads``, so reads return exactly what stock
returns.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Mapping

#: characters a JSON value can start with (Python's decoder also takes NaN,
#: Infinity and -Infinity)
JSON_VALUE_STARTS = frozenset('"{[-0123456789ntfNI')
JSON_WHITESPACE = " \t\n\r"

#: exact types json.loads rejects with TypeError
NOT_TEXT_TYPES = frozenset({dict, list, tuple, int, float, bool, type(None), set, frozenset})


def json_could_parse(text: str) -> bool:
    """False when json.loads(text) must raise, True when it may succeed."""
    return text.lstrip(JSON_WHITESPACE)[:1] in JSON_VALUE_STARTS


def make_decoder(module_globals: Mapping[str, Any], json_module: Any) -> Callable[[Any], Any]:
    stock_loads = json_module.loads

    def decode(value: Any) -> Any:
        try:
            json_mod = module_globals["json"]
        except KeyError:
            return value  # stock: NameError inside the try -> original value
        if json_mod is json_module and json_mod.loads is stock_loads:
            kind = type(value)
            if kind is str:
                if not json_could_parse(value):
                    return value
            elif kind in NOT_TEXT_TYPES:
                return value
            elif not isinstance(value, (str, bytes, bytearray)):
                return value
        try:
            return json_mod.loads(value)
        except Exception:
            return value

    return decode


def build_methods(
    originals: Mapping[str, Callable[..., Any]],
    module_globals: Mapping[str, Any],
    json_module: Any,
    heapq_module: Any,
    lock_types: tuple,
) -> Dict[str, Callable[..., Any]]:
    decode = make_decoder(module_globals, json_module)

    def get_cache(self, key, **kwargs):
        if key in self.cache_dict:
            if self.evict_element_if_expired(key):
                return None
            try:
                original_cached_response = self.cache_dict[key]
            except KeyError:
                return None
            return decode(original_cached_response)
        return None

    def batch_get_cache(self, keys: list, **kwargs):
        return [self.get_cache(key=k, **kwargs) for k in keys]

    methods = {
        "get_cache": get_cache,
        "batch_get_cache": batch_get_cache,
    }
    for name, fn in methods.items():
        fn.__qualname__ = "InMemoryCache." + name
        # interpreter messages name a function by module and qualname
        # (e.g. `get_cache() got multiple values for keyword argument`)
        fn.__module__ = originals[name].__module__
        fn.__wrapped__ = originals[name]  # type: ignore[attr-defined]
    return methods


def configure(methods: Mapping[str, Any], stock_types: tuple) -> None:
    """The Python twin has no per-type switch; LLMClientCache is handled by
    installing the originals on it (see fast_litellm.cache.install)."""
    return None
