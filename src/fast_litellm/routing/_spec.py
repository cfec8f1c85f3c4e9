"""What both twins of the seed router read from a LiteLLM-shaped model list.

A deployment is a dict: ``model_name``, ``litellm_params`` (``model``,
``weight``, ``rpm``, ``tpm``, ``input_cost_per_token``,
``output_cost_per_token``, ``base_model``) and ``model_info`` (``id``).
:func:`deployment_specs` validates a list once and returns one
:class:`Spec` per deployment; both twins compile those into their index.

The pure-Python twin's *witness* of a list is every object the specs were
read from, in a fixed order (:data:`WITNESS_PATHS` per deployment).  Values
are immutable, so if every object read again is the same object (``is``),
the specs are still right: that is how a compiled index is reused for a
list that may have been mutated in place.  (The C binding snapshots every
entry of the same dicts instead, which is cheaper to check there.)
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
import threading
import time
from typing import Any, Dict, List, NamedTuple, Optional, Tuple
from .._forksafe import fresh_lock_after_fork
from ..ratelimit._common import exact_str

STRATEGIES: Tuple[str, ...] = ("simple_shuffle", "least_busy", "latency_based", "cost_based")

#: Per-token price used when neither the deployment nor the price map has
#: one (LiteLLM's cost-based routing uses the same default).
UNMAPPED_PRICE = 5.0

_MISSING = object()

# (container, key) read per deployment, in order; container 0 is the
# deployment, 1 its litellm_params, 2 its model_info.
WITNESS_PATHS: Tuple[Tuple[int, str], ...] = (
    (0, "model_name"),
    (0, "litellm_params"),
    (0, "model_info"),
    (1, "model"),
    (1, "weight"),
    (1, "rpm"),
    (1, "tpm"),
    (1, "input_cost_per_token"),
    (1, "output_cost_per_token"),
    (1, "base_model"),
    (2, "id"),
    (2, "base_model"),
)


class Spec(NamedTuple):
    model_name: str
    model: str            # litellm_params.model ("" when absent)
    key: str              # model_info.id, or "model_name|model" without one
    has_id: bool
    weight: float         # 0.0 when unset, as LiteLLM's simple shuffle reads it
    rpm: float
    tpm: float
    rpm_limit: float      # rpm/tpm when set and positive, else infinity
    tpm_limit: float
    cost: float           # input + output per-token price


def check_strategy(strategy: Any) -> str:
    if not isinstance(strategy, str):
        raise TypeError("strategy must be a str, not %s" % type(strategy).__name__)
    # a str subclass as its text: its own __eq__ passed "not in STRATEGIES"
    # for any name (a KeyError later, in either twin)
    strategy = exact_str(strategy)
    if strategy not in STRATEGIES:
        raise ValueError(
            "unknown routing strategy %r; valid strategies: %s" % (strategy, ", ".join(STRATEGIES))
        )
    return strategy


def _number(value: Any, where: str) -> Optional[float]:
    if value is None:
        return None
    if not isinstance(value, (int, float)):
        raise TypeError("%s must be a number, not %s" % (where, type(value).__name__))
    try:
        return float(value)
    except OverflowError:
        raise ValueError("%s is too large" % where) from None


def _limit(value: Optional[float]) -> float:
    return value if value is not None and value > 0 else math.inf


def _mapping(value: Any, where: str) -> Dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError("%s must be a dict, not %s" % (where, type(value).__name__))
    return value


_PRICE_LOCK = threading.Lock()
_BUNDLED_PRICES: Optional[Dict[str, Any]] = None
fresh_lock_after_fork(globals(), "_PRICE_LOCK")  # a parent thread reading the price map is gone in the child


def price_map() -> Dict[str, Any]:
    """LiteLLM's per-model price map: ``litellm.model_cost`` when LiteLLM is
    imported, else the copy LiteLLM ships (read once, without importing it),
    else empty."""
    litellm = sys.modules.get("litellm")
    prices = getattr(litellm, "model_cost", None) if litellm is not None else None
    if isinstance(prices, dict):
        return prices
    global _BUNDLED_PRICES
    with _PRICE_LOCK:
        if _BUNDLED_PRICES is None:
            _BUNDLED_PRICES = {}
            try:
                found = importlib.util.find_spec("litellm")
                for folder in (found.submodule_search_locations or []) if found else []:
                    path = os.path.join(folder, "model_prices_and_context_window_backup.json")
                    if os.path.exists(path):
                        with open(path, encoding="utf-8") as f:
                            _BUNDLED_PRICES = json.load(f)
                        break
            except (OSError, ValueError, ImportError):
                _BUNDLED_PRICES = {}
        return _BUNDLED_PRICES


def _price(params: Dict[str, Any], info: Dict[str, Any], model: str, where: str,
           prices: Dict[str, Any]) -> float:
    own_in = _number(params.get("input_cost_per_token"), where + "['litellm_params']['input_cost_per_token']")
    own_out = _number(params.get("output_cost_per_token"), where + "['litellm_params']['output_cost_per_token']")
    map_in = map_out = None
    for name in (info.get("base_model"), params.get("base_model"), model):
        row = prices.get(name) if isinstance(name, str) and name else None
        if isinstance(row, dict) and (
            row.get("input_cost_per_token") is not None or row.get("output_cost_per_token") is not None
        ):
            map_in = row.get("input_cost_per_token")
            map_out = row.get("output_cost_per_token")
            map_in = float(map_in) if isinstance(map_in, (int, float)) else None
            map_out = float(map_out) if isinstance(map_out, (int, float)) else None
            break
    price_in = own_in if own_in else (map_in if map_in is not None else UNMAPPED_PRICE)
    price_out = own_out if own_out else (map_out if map_out is not None else UNMAPPED_PRICE)
    return price_in + price_out


def deployment_specs(model_list: Any) -> List[Spec]:
    """Validate ``model_list`` and read one :class:`Spec` per deployment."""
    if not isinstance(model_list, list):
        raise TypeError("model_list must be a list of deployment dicts, not %s" % type(model_list).__name__)
    prices: Optional[Dict[str, Any]] = None
    specs: List[Spec] = []
    for i, deployment in enumerate(model_list):
        where = "model_list[%d]" % i
        if not isinstance(deployment, dict):
            raise TypeError("%s must be a dict, not %s" % (where, type(deployment).__name__))
        name = deployment.get("model_name")
        if not isinstance(name, str):
            raise TypeError("%s['model_name'] must be a str" % where)
        # names as their text (the C core matches the text; a str subclass's
        # __hash__/__eq__ decided the Python twin's index lookups)
        name = exact_str(name)
        params = _mapping(deployment.get("litellm_params"), where + "['litellm_params']")
        info = _mapping(deployment.get("model_info"), where + "['model_info']")
        model = params.get("model", "")
        if not isinstance(model, str):
            raise TypeError("%s['litellm_params']['model'] must be a str" % where)
        model = exact_str(model)
        ident = info.get("id")
        has_id = ident is not None
        key = str(ident) if has_id else "%s|%s" % (name, model)
        lp = where + "['litellm_params']"
        weight = _number(params.get("weight"), lp + "['weight']")
        rpm = _number(params.get("rpm"), lp + "['rpm']")
        tpm = _number(params.get("tpm"), lp + "['tpm']")
        if prices is None:
            prices = price_map()
        specs.append(Spec(
            model_name=name, model=model, key=key, has_id=has_id,
            weight=weight or 0.0, rpm=rpm or 0.0, tpm=tpm or 0.0,
            rpm_limit=_limit(rpm), tpm_limit=_limit(tpm),
            cost=_price(params, info, model, where, prices),
        ))
    return specs


def witness(model_list: List[Any]) -> List[Any]:
    """Every object the specs of ``model_list`` were read from, in order."""
    seen: List[Any] = []
    for deployment in model_list:
        seen.append(deployment)
        containers = (deployment, None, None)
        for container, key in WITNESS_PATHS:
            source = containers[container]
            value = source.get(key, _MISSING) if isinstance(source, dict) else _MISSING
            seen.append(value)
            if container == 0 and key in ("litellm_params", "model_info"):
                containers = (
                    deployment,
                    value if key == "litellm_params" else containers[1],
                    value if key == "model_info" else containers[2],
                )
    return seen


def witness_same(model_list: Any, seen: List[Any]) -> bool:
    if not isinstance(model_list, list):
        return False
    now = witness(model_list)
    return len(now) == len(seen) and all(a is b for a, b in zip(now, seen))


def deployment_key(deployment: Any) -> str:
    """The key a router keeps a deployment's load and latency under: its
    ``model_info.id``, or ``"model_name|model"`` without one; a str is a key."""
    if isinstance(deployment, str):
        return exact_str(deployment)  # its text, as the C core keys it
    if not isinstance(deployment, dict):
        raise TypeError("deployment must be a deployment dict or an id str, not %s" % type(deployment).__name__)
    info = deployment.get("model_info")
    ident = info.get("id") if isinstance(info, dict) else None
    if ident is not None:
        return str(ident)
    params = deployment.get("litellm_params")
    model = params.get("model", "") if isinstance(params, dict) else ""
    return "%s|%s" % (deployment.get("model_name"), model)


def glob_match(pattern: str, text: str) -> bool:
    """``*`` matches any run of characters (including none); everything
    else matches itself.  The same algorithm as the C core's."""
    p = t = 0
    star = -1
    mark = 0
    while t < len(text):
        if p < len(pattern) and pattern[p] == "*":
            star = p
            p += 1
            mark = t
        elif p < len(pattern) and pattern[p] == text[t]:
            p += 1
            t += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            t = mark
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


def blocked_set(blocked_models: Any) -> frozenset:
    if blocked_models is None:
        return frozenset()
    if isinstance(blocked_models, (str, bytes)) or not hasattr(blocked_models, "__iter__"):
        raise TypeError("blocked_models must be a list of str, not %s" % type(blocked_models).__name__)
    out = []
    for item in blocked_models:
        if not isinstance(item, str):
            raise TypeError("blocked_models must contain str, not %s" % type(item).__name__)
        out.append(exact_str(item))
    return frozenset(out)


class CallOptions(NamedTuple):
    strategy: str
    latency_buffer: float
    input_tokens: float
    version: Any  # settings["model_list_version"], or None


def call_options(strategy: str, latency_buffer: float, context: Any, settings: Any) -> CallOptions:
    """The per-call strategy and knobs: ``settings`` may name a
    ``strategy``, a ``lowest_latency_buffer`` and a ``model_list_version``
    (the caller's promise: while it compares equal, the same list object
    has the same contents, so the compiled index is reused without
    re-reading it); ``context`` may carry the request's ``input_tokens``
    (checked against tpm limits)."""
    if settings is not None:
        if not isinstance(settings, dict):
            raise TypeError("settings must be a dict or None, not %s" % type(settings).__name__)
        if "strategy" in settings:
            strategy = check_strategy(settings["strategy"])
        if "lowest_latency_buffer" in settings:
            latency_buffer = check_buffer(settings["lowest_latency_buffer"])
    version = settings.get("model_list_version") if settings is not None else None
    tokens = 0.0
    if isinstance(context, dict) and context.get("input_tokens") is not None:
        tokens = _number(context.get("input_tokens"), "context['input_tokens']")
        if tokens < 0:
            raise ValueError("context['input_tokens'] must be >= 0")
    return CallOptions(strategy, latency_buffer, tokens, version)


def check_buffer(value: Any) -> float:
    buffer = _number(value, "lowest_latency_buffer")
    if buffer is None or not math.isfinite(buffer) or buffer < 0:
        raise ValueError("lowest_latency_buffer must be a finite number >= 0")
    return buffer


def check_latency_list_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("max_latency_list_size must be an int")
    value = int.__index__(value)  # an int subclass's own comparisons never decide
    if not 1 <= value <= 1000:
        raise ValueError("max_latency_list_size must be between 1 and 1000")
    return value


def check_latency(latency: Any) -> float:
    value = _number(latency, "latency")
    if value is None or not math.isfinite(value) or value < 0:
        raise ValueError("latency must be a finite number of seconds >= 0")
    return value


def current_minute() -> int:
    """The minute bucket usage counts are kept in (as LiteLLM's usage keys)."""
    return int(time.time() // 60)
