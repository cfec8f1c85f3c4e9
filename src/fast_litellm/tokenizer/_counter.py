"""SimpleTokenCounter: token counts and LiteLLM price-map figures.

count_tokens(text, model) counts with the tiktoken encoding LiteLLM's
token_counter uses for that model on its tiktoken path (default model
gpt-3.5-turbo, i.e. cl100k_base), special-token text counted as plain text
(LiteLLM encodes with disallowed_special=()).  When LiteLLM is already
imported its own encoding choice is asked; otherwise the same rule is
applied locally: a model tiktoken maps to o200k_base, a name containing
"gpt-4o", or a gpt-5+/o-series release name gets o200k_base, anything else
cl100k_base.  (LiteLLM counts a few non-OpenAI families with HuggingFace
tokenizers when those are installed; this counter does not.)

Prices and limits come from LiteLLM's model price map: litellm.model_cost
when LiteLLM is imported, else the JSON file shipped inside the installed
LiteLLM package, read directly (LiteLLM is not imported).
"""
from __future__ import annotations

import json
import os
import re
import sys
import threading
from typing import Any, Dict, List, Optional, Tuple

from . import _registry
from .._forksafe import fresh_lock_after_fork

DEFAULT_MODEL = "gpt-3.5-turbo"
PRICE_MAP_FILE = "model_prices_and_context_window_backup.json"
_FINETUNE_TAIL = re.compile(r"(:[^:]*){3}$")
_OWN_VERSION_STRIP = frozenset({"bedrock", "bedrock_converse", "vertex_ai", "gemini", "databricks"})
_VERSIONED_OPENAI = re.compile(r"(?:gpt-(?:[5-9]|[1-9]\d+)|o[1-9]\d*)(?:[.-]|$)")

_price_lock = threading.Lock()
_price_map_cache: Dict[str, Any] = {}

fresh_lock_after_fork(globals(), "_price_lock")  # a parent thread holding it at a fork is gone in the child


def _unknown_model(model: str, what: str):
    from . import UnknownModelError

    return UnknownModelError("model %r is not in LiteLLM's model price map (%s)" % (model, what))


def litellm_price_map() -> Dict[str, Any]:
    """litellm.model_cost if LiteLLM is imported, else its bundled JSON."""
    litellm = sys.modules.get("litellm")
    cost = getattr(litellm, "model_cost", None) if litellm is not None else None
    if isinstance(cost, dict):
        return cost
    with _price_lock:
        if "map" not in _price_map_cache:
            import importlib.util

            spec = importlib.util.find_spec("litellm")
            if spec is None or not spec.submodule_search_locations:
                raise RuntimeError("LiteLLM is not installed: no model price map to read")
            path = os.path.join(list(spec.submodule_search_locations)[0], PRICE_MAP_FILE)
            with open(path, "rb") as f:
                _price_map_cache["map"] = _served_price_map(json.loads(f.read()))
        return _price_map_cache["map"]


def _served_price_map(raw: Dict[str, Any]) -> Dict[str, Any]:
    """The bundled JSON as LiteLLM 1.110.2 serves it in litellm.model_cost:
    its "fallback_generalizations" block is not a model, and alias rows are
    served as the row they name: a row with "alias_of" (pointing at a row
    that is not itself an alias) and each name in a row's "aliases" list
    (unless that name is another real row or already claimed); neither key
    is kept, and an alias_of row naming nothing is dropped."""
    rows = {k: v for k, v in raw.items() if k != "fallback_generalizations"}
    pointers = {k: v["alias_of"] for k, v in rows.items()
                if isinstance(v, dict) and isinstance(v.get("alias_of"), str)}
    owners: Dict[str, str] = {}
    for name, info in rows.items():
        aliases = info.get("aliases") if isinstance(info, dict) else None
        if name in pointers or not isinstance(aliases, list):
            continue
        for alias in aliases:
            if not (alias in rows and alias not in pointers) and alias not in owners:
                owners[alias] = name
    for alias, target in pointers.items():
        if target in rows and target not in pointers and alias not in owners:
            owners[alias] = target
    served = {}
    for name, info in rows.items():
        if name in pointers and name not in owners:
            continue  # an alias of nothing
        if isinstance(info, dict) and "aliases" in info:
            info = {k: v for k, v in info.items() if k != "aliases"}
        served[name] = info
    for alias, owner in owners.items():
        served[alias] = served[owner]
    return served


# Price-map fields by which LiteLLM's cost_per_token prices a row other than
# input * input_cost_per_token + output * output_cost_per_token.
_RULE_PRICED = ("off_peak_pricing", "tiered_pricing")  # time of day; tier lists


def _tier_threshold(key: str) -> Optional[float]:
    """The prompt size from which a ``..._cost_per_token..._above_<N>[k]_tokens...``
    rate applies (LiteLLM's parse of <N>[k]); None when it does not parse."""
    text = key.rsplit("_above_", 1)[1].split("_tokens")[0]
    try:
        return float(text.replace("k", "")) * (1000 if "k" in text else 1)
    except ValueError:
        return None


def _not_plain(entry: Dict[str, Any], input_tokens: int, output_tokens: int) -> Optional[str]:
    """Why LiteLLM would not price this call at the row's plain per-token
    rates (None when it would): a time-of-day or tier-list rule, a missing
    rate for tokens that are there (image models price output by image
    token), or a prompt at or over a size tier (the inclusive edge is
    declined too)."""
    for field in _RULE_PRICED:
        if entry.get(field) is not None:
            return "its price has %s" % field
    if input_tokens and entry.get("input_cost_per_token") is None:
        return "it has no input_cost_per_token"
    if output_tokens and entry.get("output_cost_per_token") is None:
        return "it has no output_cost_per_token"
    for key in entry:
        if "cost_per_token" in key and "_above_" in key and "_tokens" in key.rsplit("_above_", 1)[1]:
            threshold = _tier_threshold(key)
            if threshold is None or input_tokens >= threshold:
                return "%d input tokens reach its %s rate" % (input_tokens, key)
    return None


def _rate_or_zero(entry: Dict[str, Any], field: str) -> Any:
    value = entry.get(field)
    return 0 if value is None else value


def _price_entry(model: str) -> Dict[str, Any]:
    if not isinstance(model, str):
        raise TypeError("model must be str, not %s" % type(model).__name__)
    prices = litellm_price_map()
    entry = prices.get(model)
    if entry is None and "/" in model:
        entry = prices.get(model.split("/", 1)[1])
    if entry is None and "ft:" in model and model.split("/", 1)[0] not in _OWN_VERSION_STRIP:
        # an OpenAI fine-tune, ft:<base>:<org>:<suffix>:<id>, is priced as its
        # ft:<base> row (LiteLLM's _strip_openai_finetune_model_name; the
        # providers in _OWN_VERSION_STRIP strip names their own way instead)
        stripped = _FINETUNE_TAIL.sub("", model)
        entry = prices.get(stripped)
        if entry is None and "/" in stripped:
            entry = prices.get(stripped.split("/", 1)[1])
    if not isinstance(entry, dict):
        raise _unknown_model(model, "%d models known" % len(prices))
    return entry


def litellm_encoding_name(model: str) -> str:
    """The encoding LiteLLM's token_counter uses for model (tiktoken path)."""
    litellm = sys.modules.get("litellm")
    if litellm is not None:
        try:
            from litellm.litellm_core_utils.token_counter import openai_tokenizer_encoding_name

            name = openai_tokenizer_encoding_name(model)
            if name in _registry.ENCODINGS:
                return name
        except Exception:  # noqa: BLE001 - fall back to the local rule
            pass
    last = model.rsplit("/", 1)[-1]
    known = _registry.encoding_name_for_model(last)
    if known == "o200k_base" or (known == "cl100k_base" and "gpt-4o" not in last
                                 and not last.startswith("ft:")):
        # what _LocalRule gives whatever the price map says (listed or not, the
        # name counts as itself or as gpt-3.5-turbo): no 3.5 MB JSON to parse
        return known
    return _LocalRule(litellm_price_map()).encoding_name(model)


# LiteLLM 1.110.2's own tables that its choice reads besides the price map:
# litellm.azure_llms (keys) and the modes counted as chat.
_AZURE_LLMS = frozenset({"gpt-35-turbo", "gpt-35-turbo-instruct", "azure/gpt-41", "azure/gpt-41-mini",
                         "azure/gpt-41-nano"})
_CHAT_MODES = frozenset({"chat", "responses"})
_TEXT_MODES = frozenset({"chat", "completion", "responses", "realtime"})


class _LocalRule:
    """LiteLLM 1.110.2's openai_tokenizer_encoding_name over its price map,
    for when LiteLLM is not imported.  A model counts as an OpenAI model when
    a suffix of its path is listed as one (an "openai" price-map entry, one of
    azure_llms, or an Azure text entry with an OpenAI name), when tiktoken
    gives its last segment o200k_base, when that segment is a gpt-5+/o-series
    release name, or when its azure/ entry is a chat model named gpt-* or
    taking PDFs.  Such a model is counted under its last segment (an ft:
    name's base model in the last case); any other under gpt-3.5-turbo (or its
    own name when listed).  Then: "gpt-4o" in the name -> o200k_base, else
    tiktoken's mapping, else the longest tiktoken model it is a dash-suffixed
    variant of, else cl100k_base for a listed non-chat model, else o200k_base."""

    # (the price map, its chat models) of the last map seen: the map is held,
    # so no other map can come to have its id while the pair is kept
    _last_chat_models: Tuple[Any, frozenset] = (None, frozenset())

    def __init__(self, prices: Dict[str, Any]) -> None:
        self.prices = prices
        last = _LocalRule._last_chat_models
        if last[0] is prices:
            chat = last[1]
        else:  # litellm.open_ai_chat_completion_models (ft:<model> price rows left out)
            chat = frozenset(k for k, v in prices.items() if isinstance(v, dict)
                             and v.get("litellm_provider") == "openai"
                             and not (k.startswith("ft:") and k.count(":") <= 1))
            _LocalRule._last_chat_models = (prices, chat)
        self.chat = chat

    def _entry(self, model: str) -> Dict[str, Any]:
        entry = self.prices.get(model)
        return entry if isinstance(entry, dict) else {}

    def _openai_name(self, name: str) -> bool:
        return (name in self.chat or _registry.encoding_name_for_model(name) is not None
                or any(name.startswith(m + "-") or m.startswith(name + "-") for m in self.chat))

    def _listed(self, model: str) -> bool:
        if model in _AZURE_LLMS or model in self.chat:
            return True
        entry = self._entry(model)
        return (entry.get("litellm_provider") == "azure" and entry.get("mode") in _TEXT_MODES
                and self._openai_name(model.rsplit("/", 1)[-1]))

    def _openai_model(self, model: str) -> Optional[str]:
        segments = model.split("/")
        last = segments[-1]
        for start in range(len(segments)):
            suffix = "/".join(segments[start:])
            if self._listed(suffix) or self._listed("azure/" + suffix):
                return last
        if _registry.encoding_name_for_model(last) == "o200k_base" or _VERSIONED_OPENAI.match(last):
            return last
        deployment = model.rpartition("/")[2]
        if deployment.startswith("ft:"):
            deployment = deployment.split(":")[1]
        entry = self._entry("azure/" + deployment)
        if (entry.get("litellm_provider") == "azure" and entry.get("mode") in _CHAT_MODES
                and (entry.get("supports_pdf_input") is True or deployment.startswith("gpt-"))):
            return deployment
        return None

    def encoding_name(self, model: str) -> str:
        name = self._openai_model(model)
        if name is None:
            if model in _AZURE_LLMS:
                name = model.replace("-35", "-3.5")
            else:
                name = model if model in self.chat else DEFAULT_MODEL
        if "gpt-4o" in name:
            return "o200k_base"
        known = _registry.encoding_name_for_model(name)
        if known is not None:
            return known
        variants = [m for m in _registry.MODEL_TO_ENCODING if name.startswith(m + "-")]
        if variants:
            return _registry.MODEL_TO_ENCODING[max(variants, key=len)]
        modes = (self._entry(n).get("mode") for n in (name, "azure/" + name))
        return "cl100k_base" if any(m is not None and m not in _CHAT_MODES for m in modes) else "o200k_base"


_MAX_MODELS_REMEMBERED = 1024


class SimpleTokenCounterBase:
    """Token counting with cost estimation (the seed API)."""

    _impl: Any = None

    def __init__(self, model_max_tokens: int = 4096) -> None:
        if not isinstance(model_max_tokens, int) or isinstance(model_max_tokens, bool):
            raise TypeError("model_max_tokens must be int, not %s" % type(model_max_tokens).__name__)
        if model_max_tokens <= 0:
            raise ValueError("model_max_tokens must be positive, got %d" % model_max_tokens)
        self._model_max_tokens = model_max_tokens
        self._encodings: Dict[Optional[str], Any] = {}

    @property
    def model_max_tokens(self) -> int:
        return self._model_max_tokens

    def _encoding(self, model: Optional[str]):
        if model is not None and type(model) is not str and not isinstance(model, str):
            raise TypeError("model must be str or None, not %s" % type(model).__name__)
        enc = self._encodings.get(model)
        if enc is None:
            name = litellm_encoding_name(model if model is not None else DEFAULT_MODEL)
            enc = self._impl.get_encoding(name)
            if len(self._encodings) < _MAX_MODELS_REMEMBERED:  # model names may come from users
                self._encodings[model] = enc
        return enc

    def count_tokens(self, text: str, model: Optional[str] = None) -> int:
        if not isinstance(text, str):
            raise TypeError("text must be str, not %s" % type(text).__name__)
        return self._encoding(model).count(text, disallowed_special=())

    def count_tokens_batch(self, texts: List[str], model: Optional[str] = None) -> List[int]:
        return self._encoding(model).count_batch(texts, disallowed_special=())

    def estimate_cost(self, input_tokens: int, output_tokens: int, model: str) -> float:
        for name, value in (("input_tokens", input_tokens), ("output_tokens", output_tokens)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError("%s must be int, not %s" % (name, type(value).__name__))
            if value < 0:
                raise ValueError("%s must be >= 0, got %d" % (name, value))
        entry = _price_entry(model)
        inp, out = entry.get("input_cost_per_token"), entry.get("output_cost_per_token")
        if inp is None and out is None:
            raise _unknown_model(model, "it has no per-token input/output price")
        why = _not_plain(entry, input_tokens, output_tokens)
        if why is None:
            return input_tokens * (inp or 0.0) + output_tokens * (out or 0.0)
        litellm = sys.modules.get("litellm")
        if litellm is not None:  # LiteLLM's own rules give its figure
            prompt, completion = litellm.cost_per_token(model=model, prompt_tokens=input_tokens,
                                                        completion_tokens=output_tokens)
            return prompt + completion
        raise ValueError("model %r: LiteLLM does not price this call at plain per-token rates (%s); "
                         "import litellm first and estimate_cost returns litellm.cost_per_token's figure"
                         % (model, why))

    def get_model_limits(self, model: str) -> Dict[str, Any]:
        entry = _price_entry(model)
        return {
            "model": model,
            # as litellm.get_model_info reports it
            "max_tokens": entry.get("max_output_tokens") or entry.get("max_input_tokens"),
            "max_input_tokens": entry.get("max_input_tokens"),
            "max_output_tokens": entry.get("max_output_tokens"),
            # a rate the row does not list is 0 there (ModelInfo's default)
            "input_cost_per_token": _rate_or_zero(entry, "input_cost_per_token"),
            "output_cost_per_token": _rate_or_zero(entry, "output_cost_per_token"),
            "litellm_provider": entry.get("litellm_provider"),
            "mode": entry.get("mode"),
        }

    def validate_input(self, text: str, model: str) -> bool:
        """True when text fits the model's input window (max_input_tokens,
        else max_tokens, else this counter's model_max_tokens)."""
        entry = _price_entry(model)
        limit = entry.get("max_input_tokens") or entry.get("max_tokens") or self._model_max_tokens
        return self.count_tokens(text, model) <= limit


def make_counter_class(impl) -> type:
    return type("SimpleTokenCounter", (SimpleTokenCounterBase,),
                {"_impl": impl, "__module__": "fast_litellm.tokenizer",
                 "__doc__": SimpleTokenCounterBase.__doc__})
