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
LiteLLM package, read directly (LiteLLM is not imported).  A name that is
not a key of the map is looked up as LiteLLM 1.110.2 looks it up (_NameLookup:
provider routing, Azure aliases, case, dated/version/fine-tune tails, Bedrock
region and route paths), estimate_cost as cost_per_token does and
get_model_limits/validate_input as get_model_info does; what LiteLLM would
answer from a server, from its capability rules or by code not mirrored here
is UnknownModelError saying why.
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
_VERSIONED_OPENAI = re.compile(r"(?:gpt-(?:[5-9]|[1-9]\d+)|o[1-9]\d*)(?:[.-]|$)")

_price_lock = threading.Lock()
_price_map_cache: Dict[str, Any] = {}

fresh_lock_after_fork(globals(), "_price_lock")  # a parent thread holding it at a fork is gone in the child


def _unknown_model(model: str, what: str):
    from . import UnknownModelError

    return UnknownModelError("model %r is not in LiteLLM's model price map (%s)" % (model, what))


def _not_answered(model: str, why: str):
    from . import UnknownModelError

    return UnknownModelError("model %r is in LiteLLM's model price map, but not answered here: %s" % (model, why))


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
                served, owners, rules = _bundled_tables(json.loads(f.read()))
            _price_map_cache["map"] = served
            _price_map_cache["names"] = (owners, rules)
        return _price_map_cache["map"]


def _name_lookup() -> "_NameLookup":
    """The lookups over the price map litellm_price_map() serves now,
    rebuilt when that map is another object or changed size (LiteLLM's
    register_model adds rows in place)."""
    prices = litellm_price_map()
    last = _last_lookup[0]
    if last is not None and last[0] is prices and last[1] == len(prices):
        return last[2]
    if prices is _price_map_cache.get("map"):
        aliases, rules = _price_map_cache["names"]
    else:  # litellm.model_cost: alias rows carry their names, rules live in LiteLLM
        aliases = {k: v.names[0] for k, v in list(prices.items())
                   if getattr(v, "names", None) and tuple(v.names[:1]) != (k,)}
        try:
            from litellm.litellm_core_utils.fallback_generalizations import get_fallback_generalization_rules

            rules = get_fallback_generalization_rules()
        except Exception:  # noqa: BLE001 - an older LiteLLM: no rules
            rules = []
    lookup = _NameLookup(prices, aliases, rules)
    _last_lookup[0] = (prices, len(prices), lookup)
    return lookup


_last_lookup: List[Any] = [None]  # (the map, its size, its _NameLookup)


def _alias_owners(rows: Dict[str, Any], pointers: Dict[str, str]) -> Dict[str, str]:
    """Each served alias name -> the row it is served as (see _bundled_tables);
    pointers: the rows' "alias_of" targets."""
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
    return owners


def _bundled_tables(raw: Dict[str, Any]) -> Tuple[Dict[str, Any], Dict[str, str], List[Any]]:
    """The bundled JSON as LiteLLM 1.110.2 serves it in litellm.model_cost,
    with the alias owners and the fallback rules the name lookups read.
    Its "fallback_generalizations" block is not a model, and alias rows are
    served as the row they name: a row with "alias_of" (pointing at a row
    that is not itself an alias) and each name in a row's "aliases" list
    (unless that name is another real row or already claimed); neither key
    is kept, and an alias_of row naming nothing is dropped."""
    rows = {k: v for k, v in raw.items() if k != "fallback_generalizations"}
    pointers = {k: v["alias_of"] for k, v in rows.items()
                if isinstance(v, dict) and isinstance(v.get("alias_of"), str)}
    owners = _alias_owners(rows, pointers)
    served = {}
    for name, info in rows.items():
        if name in pointers and name not in owners:
            continue  # an alias of nothing
        if isinstance(info, dict) and "aliases" in info:
            info = {k: v for k, v in info.items() if k != "aliases"}
        served[name] = info
    for alias, owner in owners.items():
        served[alias] = served[owner]
    rules = raw.get("fallback_generalizations")
    return served, owners, rules.get("rules") if isinstance(rules, dict) else []


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


def _price_entry(model: str, for_cost: bool) -> Dict[str, Any]:
    """The price-map row for model: its own row, else the row LiteLLM's
    cost_per_token (for_cost) or get_model_info finds for the name."""
    if not isinstance(model, str):
        raise TypeError("model must be str, not %s" % type(model).__name__)
    prices = litellm_price_map()
    entry = prices.get(model)
    remote = _remote_lookup_reason(model, for_cost, entry) if entry is not None else None
    if remote is not None:
        raise _not_answered(model, remote)
    if entry is None:
        lookup = _name_lookup()
        try:
            entry = prices.get(lookup.cost_key(model) if for_cost else lookup.find(model))
        except _Refused as why:
            raise _unknown_model(model, "%d models known; %s" % (len(prices), why)) from None
    if not isinstance(entry, dict):
        raise _unknown_model(model, "%d models known" % len(prices))
    return entry


# ---------------------------------------------------------------------------
# Names that are not price-map keys, looked up as LiteLLM 1.110.2 looks them
# up: get_model_info (-> get_model_limits, validate_input) and cost_per_token
# (-> estimate_cost) take different paths, so each method follows its own.
# Both first ask get_llm_provider for the name's provider (_NameLookup.route),
# then try the candidate names of LiteLLM's get_potential_model_names in its
# order, each exactly or case-insensitively, keeping the first row whose
# provider matches (_NameLookup).  What LiteLLM would answer from a server,
# from its capability rules, or by routing this module does not mirror is
# refused with the reason (_Refused), never guessed.

# litellm.provider_list
_PROVIDERS = frozenset("""
    a2a a2a_agent abliteration ai21 ai21_chat aiand aiml aiohttp_openai amazon_nova anthropic
    anthropic_text apertis assemblyai auto_router aws_polly aws_textract azure azure_ai azure_speech
    azure_text baseten bedrock bedrock_mantle bespoke bigmodel black_forest_labs bytez cerebras
    charity_engine chatgpt chutes clarifai clf_ai_gateway cloudflare codestral cognition cohere
    cohere_chat cometapi compactifai coralbricks cortecs cursor custom custom_openai darkbloom
    dashscope databricks databricks_agent datarobot deepgram deepinfra deepseek docker_model_runner
    dotprompt edenai elevenlabs empiriolabs empower eu_jev fal_ai featherless_ai fireworks_ai
    friendliai galadriel gdc gemini gigachat github github_copilot gradient_ai groq helicone heroku
    hosted_vllm hostinger_router huggingface humanloop hyperbolic inception inferenceapis infinity
    jina_ai kyma lambda_ai langflow langfuse langgraph laya lemonade libertai litellm_agent
    litellm_proxy llamafile lm_studio manus maritalk meta meta_llama microsoft_365_copilot milvus
    minimax mistral modelscope mongodb moonshot morph nace nadir nano-gpt nebius neosantara
    nlp_cloud novita nscale nvidia_nim nvidia_riva oci ollama ollama_chat oobabooga openai
    openai_like opencode_go openinfer openrouter opensearch ovhcloud parallel_ai parasail perplexity
    petals pg_vector pinstripes poe predibase prism publicai qwen_ai_platform qwencloud ragflow
    recraft reducto refuseless reka replicate runwayml s3_vectors sagemaker sagemaker_chat
    sagemaker_nova sail sambanova sap scaledown scaleway scx-ai snowflake soniox stability
    strands_decider streamlake synthetic tencent tensormesh text-completion-codestral
    text-completion-inception text-completion-openai together_ai topaz transcribe triton typesafe v0
    valkey vercel_ai_gateway vertex_ai vertex_ai_beta vllm volcengine voyage wally wandb watsonx
    watsonx_text xai xiaomi_mimo xinference zai zerogpu
""".split())
# providers of LiteLLM's OpenAI-compatible JSON registry (routed as
# <provider>/<model> like the others; six are not in provider_list)
_JSON_PROVIDERS = frozenset("""
abliteration aiand aihubmix apertis assemblyai charity_engine chutes cognition coralbricks cortecs crusoe
darkbloom empiriolabs gmi helicone hostinger_router inferenceapis kyma libertai llamagate meta nano-gpt
neosantara openinfer parasail pinstripes poe prism publicai refuseless reka sail sarvam scaleway scx-ai
streamlake synthetic tensormesh veniceai wally xiaomi_mimo zerogpu
""".split())
# providers whose names get_llm_provider rewrites (bedrock_mantle: region
# prefixes; ai21: to ai21_chat by a list; ragflow: keeps the prefix)
_UNMIRRORED_ROUTES = frozenset({"bedrock_mantle", "ai21", "ragflow"})
# providers get_llm_provider routes elsewhere when an environment variable is
# set (azure_ai: to azure for OpenAI model names when AZURE_AI_API_BASE names
# a non-Foundry endpoint): such names are refused while it is set
_ENV_ROUTES = {"azure_ai": "AZURE_AI_API_BASE"}
# every name goes to litellm_proxy when this is set (or litellm.use_litellm_proxy)
_PROXY_EVERYTHING = "USE_LITELLM_PROXY"
# names in LiteLLM's per-provider model lists that are not price-map keys:
# get_llm_provider routes them by list (which list is not mirrored)
_LISTED_NOT_PRICED = frozenset("""
    ada anthropic.claude-3-haiku-20240307-v1:0 anthropic.claude-3-sonnet-20240229-v1:0
    anthropic.claude-opus-4-6-v1:0 anthropic.claude-v2 chirp chirp_2 chirp_3 claude-3-5-haiku
    claude-3-5-haiku@20241022 claude-3-5-sonnet claude-3-5-sonnet@20240620 claude-3-haiku
    claude-3-haiku@20240307 claude-3-sonnet claude-3-sonnet@20240229 claude-fable-5-1@default
    claude-fable-5@default claude-haiku-4-5@20251001 claude-haiku-5-5@default
    claude-opus-4-5@20251101 claude-opus-4-6@default claude-opus-4-7@default claude-opus-4-8@default
    claude-opus-5-5@default claude-opus-5@default claude-sonnet-4-5@20250929
    claude-sonnet-4-6@default claude-sonnet-5-5@default claude-sonnet-5@default codestral-2
    codestral-2501 codestral-2@001 codestral@2405 codestral@latest embed-english-light-v2.0
    embed-english-v2.0 embed-multilingual-v2.0 embed-v4.0 gemini-2.0-flash gemini-2.0-flash-lite
    gemini-2.5-flash-native-audio gemini-2.5-flash-tts gemini-2.5-pro-tts gemini-3-pro-preview
    gemini-3.1-flash-tts-preview gemini-3.5-live-translate-preview gemini-3.5-transcribe
    gemini-3.5-transcribe-live gemini-3.5-transcribe-live-preview gemini-3.5-transcribe-preview
    gemini-3.8-flash-lite-tts gemini-3.8-flash-tts gemini-4-argon gemini-4-argon-cyber-permissive
    gemini-4-hydrogen gemini-omni-1.1-flash gemini-omni-1.1-flash-preview gemini-omni-1.2-flash
    gemma-4-26b-a4b-it gpt-35-turbo gpt-35-turbo-instruct grok-latest llama2 lyria-002
    lyria-3-clip-preview lyria-3-pro-preview maritalk mistral-large-2411 mistral-large@2407
    mistral-large@2411-001 mistral-large@latest mistral-medium-3 mistral-medium-3@001
    mistral-nemo@2407 mistral-nemo@latest mistral-ocr-2505 mistral-small-2503 mistral-small-2503@001
    search_api semantic-ranker-default semantic-ranker-default-002 semantic-ranker-default-003
    semantic-ranker-default-004 semantic-ranker-default@latest semantic-ranker-fast
    semantic-ranker-fast-004 semantic-ranker-fast@latest veo-2.0-generate-001
    veo-3.0-fast-generate-001 veo-3.0-generate-001 veo-3.1-fast-generate-001
    veo-3.1-fast-generate-preview veo-3.1-generate-001 veo-3.1-generate-preview
    veo-3.1-lite-generate-001 virtual-try-on-001
    Austism/chronos-hermes-13b HuggingFaceH4/starchat-alpha MiniMaxAI/MiniMax-M2.5
    NousResearch/Nous-Hermes-Llama2-13b NumbersStation/nsql-llama-2-7B Qwen/QVQ-72B-Preview
    Qwen/QwQ-32B Qwen/QwQ-32B-Preview Qwen/Qwen-Image-Edit Qwen/Qwen3-0.6B Qwen/Qwen3-1.7B
    Qwen/Qwen3-14B Qwen/Qwen3-235B-A22B Qwen/Qwen3-235B-A22B-Instruct-2507
    Qwen/Qwen3-235B-A22B-Thinking-2507 Qwen/Qwen3-30B-A3B Qwen/Qwen3-30B-A3B-Thinking-2507
    Qwen/Qwen3-32B Qwen/Qwen3-4B Qwen/Qwen3-8B Qwen/Qwen3-Coder-30B-A3B-Instruct
    Qwen/Qwen3-Coder-480B-A35B-Instruct Qwen/Qwen3-Next-80B-A3B-Instruct
    Qwen/Qwen3-Next-80B-A3B-Thinking Qwen/Qwen3-VL-235B-A22B-Instruct Qwen/Qwen3-VL-8B-Instruct
    Qwen/Qwen3-VL-8B-Thinking Qwen/Qwen3.5-122B-A10B Qwen/Qwen3.5-27B Qwen/Qwen3.5-35B-A3B
    Qwen/Qwen3.5-397B-A17B WizardLM/WizardCoder-15B-V1.0 WizardLM/WizardCoder-Python-34B-V1.0
    WizardLM/WizardLM-70B-V1.0
    a16z-infra/llama-2-13b-chat:2a7f981751ec7fdf87b5b91ad4db53683a98082e9ff7bfd12c8cd5ea85980a52
    azure/gpt-41 azure/gpt-41-mini azure/gpt-41-nano clarifai/anthropic.completion.claude-3_5-haiku
    clarifai/anthropic.completion.claude-3_7-sonnet clarifai/anthropic.completion.claude-opus-4
    clarifai/anthropic.completion.claude-sonnet-4
    clarifai/deepseek-ai.deepseek-chat.DeepSeek-R1-0528-Qwen3-8B
    clarifai/gcp.generate.gemini-2_5-pro clarifai/meta.Llama-3.Llama-3_2-3B-Instruct
    clarifai/microsoft.text-generation.Phi-4-reasoning-plus clarifai/microsoft.text-generation.phi-4
    clarifai/openai.chat-completion.gpt-4o clarifai/openai.chat-completion.gpt-5
    clarifai/openai.chat-completion.gpt-5-mini clarifai/openai.chat-completion.gpt-oss-120b
    clarifai/openai.chat-completion.gpt-oss-20b clarifai/openai.chat-completion.o3
    clarifai/openbmb.miniCPM.MiniCPM-o-2_6-language clarifai/openbmb.miniCPM.MiniCPM3-4B
    clarifai/openbmb.miniCPM.MiniCPM4-8B clarifai/qwen.qwen-VL.Qwen2_5-VL-7B-Instruct
    clarifai/qwen.qwen3.qwen3-next-80B-A3B-Thinking
    clarifai/qwen.qwenCoder.Qwen3-Coder-30B-A3B-Instruct clarifai/qwen.qwenLM.QwQ-32B-AWQ
    clarifai/qwen.qwenLM.Qwen3-14B clarifai/qwen.qwenLM.Qwen3-30B-A3B-Instruct-2507
    clarifai/qwen.qwenLM.Qwen3-30B-A3B-Thinking-2507clarifai/openai.chat-completion.gpt-5-nano
    clarifai/xai.chat-completion.grok-2-1212 clarifai/xai.chat-completion.grok-2-vision-1212
    clarifai/xai.chat-completion.grok-3 clarifai/xai.chat-completion.grok-code-fast-1
    clarifai/xai.image-generation.grok-2-image-1212
    daanelson/flan-t5-large:ce962b3f6792a57074a601d3979db5839697add2e4e02696b3ced4c022d4767f
    deepseek-ai/DeepSeek-R1-0528 deepseek-ai/DeepSeek-R1-Distill-Llama-70B
    deepseek-ai/DeepSeek-R1-Distill-Llama-8B deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B
    deepseek-ai/DeepSeek-R1-Distill-Qwen-14B deepseek-ai/DeepSeek-R1-Distill-Qwen-32B
    deepseek-ai/DeepSeek-R1-Distill-Qwen-7B deepseek-ai/DeepSeek-V3-0324 deepseek-ai/DeepSeek-V3.1
    deepseek-ai/DeepSeek-V3.2 deepseek-ai/DeepSeek-V4-Flash deepseek-ai/deepseek-ocr-maas
    deepseek-ai/deepseek-r1-0528-maas deepseek-ai/deepseek-v3.1-maas deepseek-ai/deepseek-v3.2-maas
    deepseek-ai/deepseek-v4.1-flash-maas defog/sqlcoder empower/empower-functions
    empower/empower-functions-small google/gemma-4-26b-a4b-it-maas
    joehoover/instructblip-vicuna13b:c4c54e3c8c97cd50c2d2fec9be3b6065563ccf7d43787fb99f84151b867178fe
    meta-llama/Llama-2-13b meta-llama/Llama-2-13b-chat meta-llama/Llama-2-13b-chat-hf
    meta-llama/Llama-2-13b-hf meta-llama/Llama-2-70b meta-llama/Llama-2-70b-chat
    meta-llama/Llama-2-70b-chat-hf meta-llama/Llama-2-70b-hf meta-llama/Llama-2-7b
    meta-llama/Llama-2-7b-chat meta-llama/Llama-2-7b-chat-hf meta-llama/Llama-2-7b-hf
    meta-llama/Llama-3.1-8B-Instruct meta-llama/Llama-3.3-70B-Instruct
    meta-llama/Llama-4-Scout-17B-16E-Instruct
    meta/codellama-13b:1c914d844307b0588599b8393480a3ba917b660c7e9dfae681542b5325f228db
    meta/llama-3.1-405b-instruct-maas meta/llama-3.1-70b-instruct-maas
    meta/llama-3.1-8b-instruct-maas meta/llama-3.2-90b-vision-instruct-maas
    meta/llama-3.3-70b-instruct-maas meta/llama-4-maverick-17b-128e-instruct-maas
    meta/llama-4-maverick-17b-16e-instruct-maas meta/llama-4-scout-17b-128e-instruct-maas
    meta/llama-4-scout-17b-16e-instruct-maas meta/llama3-405b-instruct-maas
    meta/llama3-70b-instruct-maas meta/llama3-8b-instruct-maas microsoft/Phi-4-mini-instruct
    minimaxai/minimax-m2-maas mistralai/codestral-2 mistralai/codestral-2@001
    mistralai/mistral-medium-3 mistralai/mistral-medium-3@001 moonshotai/Kimi-K2-Instruct
    moonshotai/Kimi-K2.5 moonshotai/kimi-k2-thinking-maas openai/gpt-oss-120b
    openai/gpt-oss-120b-maas openai/gpt-oss-20b openai/gpt-oss-20b-maas petals-team/StableBeluga2
    qwen/qwen3-235b-a22b-instruct-2507-maas qwen/qwen3-coder-480b-a35b-instruct-maas
    qwen/qwen3-next-80b-a3b-instruct-maas qwen/qwen3-next-80b-a3b-thinking-maas
    replicate/dolly-v2-12b:ef0e1aefc61f8e096ebe4db6b2bacc297daf2ef6899f0f7e001ec445893500e5
    replicate/llama-2-70b-chat:2796ee9483c3fd7aa2e171d38f4ca12251a30609463dcfd4cd76703f22e96cdf
    replicate/vicuna-13b:6282abe6a492de4145d7bb601023762212f9ddbbe78278bd6771c8b3b2f2a13b
    replit/replit-code-v1-3b:b84f4c074b807211cd75e3e8b1589b6399052125b4c27106e43d47189e8415ad
    togethercomputer/CodeLlama-34b togethercomputer/CodeLlama-34b-Instruct
    togethercomputer/CodeLlama-34b-Python togethercomputer/LLaMA-2-7B-32K
    togethercomputer/Llama-2-7B-32K-Instruct togethercomputer/alpaca-7b
    togethercomputer/falcon-40b-instruct togethercomputer/falcon-7b-instruct
    togethercomputer/llama-2-70b togethercomputer/llama-2-70b-chat togethercomputer/llama-2-7b
    upstage/SOLAR-0-70b-16bit xai/grok-4.1-fast-non-reasoning xai/grok-4.1-fast-reasoning
    zai-org/GLM-4.5 zai-org/glm-4.7-maas zai-org/glm-5-maas zai-org/glm-5.2-maas
""".split())
# litellm.azure_llms and litellm.azure_embedding_models (get_model_info only)
_AZURE_ALIASES = {"gpt-35-turbo": "azure/gpt-35-turbo", "gpt-35-turbo-instruct": "azure/gpt-35-turbo-instruct",
                  "azure/gpt-41": "gpt-4.1", "azure/gpt-41-mini": "gpt-4.1-mini", "azure/gpt-41-nano": "gpt-4.1-nano",
                  "ada": "azure/ada"}
# providers whose lookups LiteLLM takes out of the process (a server it asks
# for the model's info, a sign-in to route it): names that are not keys of
# the map are refused, and LiteLLM is not asked either
_REMOTE_PROVIDERS = {
    "ollama": "LiteLLM asks the Ollama server for this model's info",
    "ollama_chat": "LiteLLM asks the Ollama server for this model's info",
    "lemonade": "LiteLLM asks the Lemonade server for this model's info",
    "huggingface": "LiteLLM reads this model's info from huggingface.co",
    "github_copilot": "LiteLLM signs in to GitHub Copilot to route this model",
    "chatgpt": "LiteLLM signs in to ChatGPT to route this model",
}
# ... and for keys of the map, the providers whose key LiteLLM still takes out
# of the process, per function (measured with an audit hook on sockets,
# LiteLLM 1.110.2): cost_per_token routes github_copilot/chatgpt keys through
# a sign-in, lemonade asks its server in both; an ollama key is "static" to
# LiteLLM (its row answers, no server), and get_model_info answers the
# github_copilot/chatgpt keys from their rows
_REMOTE_KEYS = {"cost": frozenset({"lemonade", "github_copilot", "chatgpt"}),
                "info": frozenset({"lemonade"})}
# why names (not keys) of these providers are refused
_REFUSED_PROVIDERS = dict(_REMOTE_PROVIDERS, scaledown="LiteLLM's scaledown provider accepts only its operation names")
# providers whose model-info class maps a name to its own cost-map key
# (get_model_cost_key; every other provider's returns None)
_OWN_COST_KEY = frozenset({"fireworks_ai"})
_BEDROCK_REGIONS = frozenset("""
us-east-1 us-east-2 us-west-1 us-west-2 us-gov-east-1 us-gov-west-1 eu-west-1 eu-west-2 eu-west-3
eu-central-1 eu-central-2 eu-south-1 eu-south-2 eu-north-1 ap-northeast-1 ap-northeast-2 ap-northeast-3
ap-south-1 ap-south-2 ap-southeast-1 ap-southeast-2 ca-central-1 sa-east-1
""".split())
_BEDROCK_GEOS = frozenset(("global", "us", "eu", "apac", "jp", "au", "us-gov"))
_BEDROCK_ROUTE_PREFIXES = ("bedrock/", "chat_completions/", "converse/", "invoke/", "openai/", "mantle/",
                           "nova-2/", "nova/")
_REPLICATE_ID_LENGTH = 64
# cost_per_token's provider code that adds to the row's per-token price for
# some names: (the names, why they are refused)
_COST_EXTRAS = {"azure_ai": (lambda m: "model-router" in m.lower() or "model_router" in m.lower(),
                             "Azure AI adds its Model Router fee to these names")}
_DATED_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")
_STABLE_VERSION = re.compile(r"-\d+$")
_THROUGHPUT = re.compile(r"(:\d+):\d+k$")
_CONTEXT_SUFFIX = re.compile(r"\[\w+\]$")


class _Refused(Exception):
    """LiteLLM's answer for this name is not mirrored here; the message says why."""


def _strip_bedrock_routing_prefix(model: str) -> str:
    for prefix in _BEDROCK_ROUTE_PREFIXES:
        if model.startswith(prefix):
            model = model.split("/", 1)[1]
    return model


def _bedrock_base_model(model: str) -> str:
    """get_bedrock_base_model (custom Nova and ARN names are refused by _candidates)."""
    model = _strip_bedrock_routing_prefix(model)
    model = _CONTEXT_SUFFIX.sub("", _THROUGHPUT.sub(r"\1", model))
    geo, region = model.split(".", 1)[0], model.split("/", 1)[0]
    if geo in _BEDROCK_GEOS:
        if "." not in model:
            raise _Refused("LiteLLM fails on a Bedrock geo prefix with no model after it")
        return model.split(".", 1)[1]
    if region in _BEDROCK_REGIONS and "/" in model:
        return model.split("/", 1)[1]
    return model


# _strip_model_name: how each provider's version tail is dropped, by provider
_VERSION_STRIPS = {"bedrock": _bedrock_base_model, "bedrock_converse": _bedrock_base_model,
                   "vertex_ai": lambda m: _STABLE_VERSION.sub("", m),
                   "gemini": lambda m: _STABLE_VERSION.sub("", m),
                   "databricks": lambda m: _STABLE_VERSION.sub("", m)}


def _strip_model_name(model: str, provider: Optional[str]) -> str:
    strip = _VERSION_STRIPS.get(provider or "")
    if strip is not None:
        return strip(model)
    if "ft:" in model:
        return _FINETUNE_TAIL.sub("", model)
    return _DATED_SNAPSHOT.sub("", model)


# _check_provider_match: a row listed under another provider still serves a
# request for these providers when the predicate holds for the row's provider
_PROVIDER_ACCEPTS = {
    "vertex_ai": lambda listed: listed.startswith("vertex_ai"),
    "fireworks_ai": lambda listed: listed.startswith("fireworks_ai"),
    "azure_ai": lambda listed: listed in ("azure", "openai"),
    "litellm_proxy": lambda listed: True,
    "github": lambda listed: True,
    "nadir": lambda listed: True,
}


def _provider_matches(entry: Dict[str, Any], provider: Optional[str]) -> bool:
    listed = entry.get("litellm_provider")
    if not provider or listed is None or listed == provider:
        return True
    if provider.startswith("bedrock") and isinstance(listed, str) and listed.startswith("bedrock"):
        return True
    accepts = _PROVIDER_ACCEPTS.get(provider)
    return accepts is not None and isinstance(listed, str) and accepts(listed)


def _proxy_everything(model: str) -> Optional[str]:
    litellm = sys.modules.get("litellm")
    if os.environ.get(_PROXY_EVERYTHING) or getattr(litellm, "use_litellm_proxy", None) is True:
        return "LiteLLM sends every name to litellm_proxy (%s)" % _PROXY_EVERYTHING
    return None


def _prefix_refusal(model: str) -> Optional[str]:
    prefix, separator, _ = model.partition("/")
    if not separator:
        return None
    if os.environ.get(_ENV_ROUTES.get(prefix, "")):
        return "LiteLLM routes %s/ names by %s" % (prefix, _ENV_ROUTES[prefix])
    if prefix in _SIGN_IN_PROVIDERS:
        return _REFUSED_PROVIDERS[prefix]
    if prefix in _UNMIRRORED_ROUTES:
        return "LiteLLM routes %s/ names by rules not mirrored here" % prefix
    litellm = sys.modules.get("litellm")
    custom = getattr(litellm, "custom_provider_map", None) or ()
    if any(isinstance(item, dict) and item.get("provider") == prefix for item in custom):
        return "%r is a custom provider registered with LiteLLM" % prefix
    return None


# what makes get_llm_provider's answer for a name not mirrored here
_ROUTE_REFUSALS = (_proxy_everything, _prefix_refusal)
# get_llm_provider's rewrites of <prefix>/<rest> before the plain split:
# prefix -> (whether it applies to rest, the (name, provider) it gives)
_PREFIX_REWRITES = {
    # is_non_openai_azure_model: a Cohere or Mistral chat model on Azure
    "azure": (lambda lookup, rest: lookup._listed(rest, "cohere_chat") or lookup._listed("mistral/" + rest, "mistral"),
              lambda model, rest: (model, "openai")),
    "cohere": (lambda lookup, rest: lookup._listed(rest, "cohere_chat"), lambda model, rest: (rest, "cohere_chat")),
    "anthropic": (lambda lookup, rest: rest in ("claude-2", "claude-instant-1"),
                  lambda model, rest: (rest, "anthropic_text")),
}
_SIGN_IN_PROVIDERS = frozenset({"github_copilot", "chatgpt"})  # declared_authenticating_provider


# names get_llm_provider routes by a pattern (its chain after the
# <provider>/ prefixes, with the list lookups left out: names in its lists
# are refused before), first match wins; None: the chain ends, no provider
_PATTERN_ROUTES = (
    (lambda m: "ft:gpt-3.5-turbo" in m or "ft:gpt-4" in m or m.startswith("gpt-image"), "openai"),
    (lambda m: ":" in m and len(m) > _REPLICATE_ID_LENGTH and len(m.split(":")[1]) == _REPLICATE_ID_LENGTH,
     "replicate"),
    (lambda m: ":" in m and len(m) > _REPLICATE_ID_LENGTH, None),
    (lambda m: m == "*", "openai"),
    (lambda m: m.startswith("amazon_nova"), "amazon_nova"),
)


class _NameLookup:
    """LiteLLM 1.110.2's lookups over one price map (its alias rows and
    fallback_generalizations rules beside it)."""

    def __init__(self, prices: Dict[str, Any], aliases: Dict[str, str], rules: List[Any]) -> None:
        self.prices = prices
        self.lower = {k.lower(): k for k in prices}
        self.aliases = aliases  # an alias row's key -> the row it names
        self.routing_rules = []
        self.capability_rules = []
        for rule in rules if isinstance(rules, list) else ():
            info = rule.get("model_info") if isinstance(rule, dict) else None
            pattern = rule.get("pattern") if isinstance(rule, dict) else None
            if not isinstance(info, dict) or not isinstance(pattern, str) or "extends" in rule:
                continue
            try:
                compiled = re.compile(pattern, re.IGNORECASE)
            except re.error:
                continue
            if "litellm_provider" not in info:
                self.capability_rules.append(compiled)
            elif len(info) == 1 and isinstance(info["litellm_provider"], str):
                self.routing_rules.append((compiled, info["litellm_provider"]))

    def key(self, name: str) -> Optional[str]:
        """get_model_cost_key: the row's key, exactly or ignoring case (the
        lower-case index is rebuilt when it names a key no longer in the map,
        as LiteLLM rebuilds its own)."""
        if name in self.prices:
            return name
        found = self.lower.get(name.lower())
        if found is not None and found not in self.prices:
            self.lower = {k.lower(): k for k in list(self.prices)}
            found = self.lower.get(name.lower())
        return found if found is not None and found in self.prices else None

    def _alias_target(self, key: str, provider: str) -> Optional[str]:
        target = self.aliases.get(key)
        if target is None or target == key:
            return None
        prefix, separator, _ = key.partition("/")
        if separator and prefix in _PROVIDERS:
            alias_provider = prefix
        else:
            alias_provider = self.prices.get(target, {}).get("litellm_provider")
        if alias_provider != provider:
            return None
        return target[len(provider) + 1:] if target.startswith(provider + "/") else target

    def latest(self, model: str, provider: str) -> str:
        """resolve_model_latest_alias"""
        return self._alias_target(provider + "/" + model, provider) or self._alias_target(model, provider) or model

    def _listed(self, name: str, provider: str) -> bool:
        """name is in LiteLLM's list of provider's models (built from the map)"""
        entry = self.prices.get(name)
        return isinstance(entry, dict) and entry.get("litellm_provider") == provider

    def _openai_chat(self, model: str) -> bool:
        """model is in litellm.open_ai_chat_completion_models (the openai rows
        but an ft:<model> one)"""
        return self._listed(model, "openai") and not (model.startswith("ft:") and model.count(":") <= 1)

    def route(self, model: str) -> Optional[Tuple[str, str]]:
        """get_llm_provider(model) -> (name, provider), its latest-alias
        applied; None where LiteLLM raises (no provider); _Refused where its
        routing is not mirrored."""
        for refusal in _ROUTE_REFUSALS:
            why = refusal(model)
            if why:
                raise _Refused(why)
        prefix, separator, rest = model.partition("/")
        if separator:
            rewrite = _PREFIX_REWRITES.get(prefix)
            if rewrite is not None and rewrite[0](self, rest):
                name, provider = rewrite[1](model, rest)
                return self.latest(name, provider), provider
            if prefix in _PROVIDERS or prefix in _JSON_PROVIDERS:
                return self.latest(rest, prefix), prefix
        # no <provider>/ prefix: LiteLLM's model lists, then its name patterns
        if self._openai_chat(model):
            return self.latest(model, "openai"), "openai"  # its first list
        if model in self.prices or model in _LISTED_NOT_PRICED:
            raise _Refused("LiteLLM routes this name by its model lists")
        for matches, provider in _PATTERN_ROUTES:
            if matches(model):
                if provider is None:
                    break  # LiteLLM's pattern chain stops here with no provider
                return self.latest(model, provider), provider
        for pattern, provider in self.routing_rules if model else ():
            if pattern.search(model):
                return self.latest(model, provider), provider
        return None

    def _candidates(self, model: str, provider: Optional[str],
                    given: bool) -> Tuple[Optional[str], List[Optional[str]]]:
        """get_potential_model_names in _model_cost_lookup_order (None: a
        candidate LiteLLM computes by provider code not mirrored here)."""
        if not given:
            routed = self.route(model)
            split, provider = routed if routed is not None else (model, None)
            combined = prefixed = model
            stripped = combined_stripped = _strip_model_name(model, provider)
        elif model.startswith(provider + "/"):
            split = model.split("/", 1)[1]
            combined, prefixed = model, provider + "/" + model
            stripped = _strip_model_name(split, provider)
            combined_stripped = provider + "/" + stripped
        else:
            split = model
            combined = prefixed = provider + "/" + model
            stripped = _strip_model_name(model, provider)
            combined_stripped = provider + "/" + stripped
        if provider in _REFUSED_PROVIDERS:
            raise _Refused(_REFUSED_PROVIDERS[provider])
        if provider in ("bedrock", "bedrock_converse"):
            if "arn" in model.lower() or "nova/" in model or "nova-2/" in model:
                raise _Refused("Bedrock ARNs and custom Nova models are priced by rules not mirrored here")
            split = _strip_bedrock_routing_prefix(split)
        own_key = None if provider in _OWN_COST_KEY else prefixed
        return provider, [combined, model, combined, split, combined_stripped, stripped, own_key]

    def find(self, model: str, provider: Optional[str] = None) -> str:
        """get_model_info_helper's row for model (provider: the caller's
        custom_llm_provider, None to route the name)."""
        model = _AZURE_ALIASES.get(model, model)
        if provider in ("vertex_ai", "vertex_ai_beta"):
            provider = "vertex_ai"
            for renamed in ("meta/" + model, model + "@latest"):  # by vertex_* model lists
                if renamed in self.prices or renamed in _LISTED_NOT_PRICED:
                    raise _Refused("LiteLLM renames vertex_ai names by its model lists (%s)" % renamed)
        provider, candidates = self._candidates(model, provider, provider is not None)
        for candidate in candidates:
            if candidate is None:
                raise _Refused("LiteLLM's last lookup for %s names is provider code not mirrored here" % provider)
            key = self.key(candidate)
            if key is not None and _provider_matches(self.prices[key], provider):
                return key
        if any(rule.search(c) for c in candidates for rule in self.capability_rules if c):
            raise _Refused("LiteLLM answers it from its capability rules, which carry no price of the model")
        raise _Refused("LiteLLM does not find it either")

    def cost_key(self, model: str) -> str:
        """The row cost_per_token(model) prices a call from."""
        routed = self.route(model)
        if routed is None:
            raise _Refused("LiteLLM cannot tell its provider (cost_per_token raises BadRequestError)")
        provider = routed[1]
        without_prefix = model.split("/", 1)[1] if "/" in model else model
        chosen = model if model in self.prices else without_prefix if without_prefix in self.prices else model
        extra = _COST_EXTRAS.get(provider)
        if extra is not None and extra[0](chosen):
            raise _Refused(extra[1])
        return self.find(chosen, provider)


def _remote_lookup_reason(model: str, for_cost: bool, entry: Any) -> Optional[str]:
    """Why LiteLLM's cost_per_token (for_cost) or get_model_info would leave
    this process to look up model, a key of the map whose row is ``entry``
    (None when its lookup stays local): a provider it asks a server or signs
    in to, by the name's own prefix or by its row's provider (the one its
    model lists route a bare key to)."""
    remote = _REMOTE_KEYS["cost" if for_cost else "info"]
    prefix = model.partition("/")[0] if "/" in model else None
    listed = entry.get("litellm_provider") if isinstance(entry, dict) else None
    for provider in (prefix, listed):
        if provider in remote:
            return _REMOTE_PROVIDERS[provider]
    return None


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
        model_max_tokens = int.__index__(model_max_tokens)  # a subclass's comparisons never decide
        if model_max_tokens <= 0:
            raise ValueError("model_max_tokens must be positive, got %d" % model_max_tokens)
        self._model_max_tokens = model_max_tokens
        self._encodings: Dict[Optional[str], Any] = {}

    @property
    def model_max_tokens(self) -> int:
        return self._model_max_tokens

    def __reduce__(self) -> Any:
        # by twin and limit: the class is made per twin, so pickle could not
        # find the Python twin's by name ("not the same object as
        # fast_litellm.tokenizer.SimpleTokenCounter")
        return (_counter_of, (self._impl.kind, self._model_max_tokens))

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
            if int.__index__(value) < 0:  # the value, not an int subclass's own __lt__
                raise ValueError("%s must be >= 0, got %d" % (name, value))
        # plain ints from here: a subclass's __mul__ never prices the call
        input_tokens, output_tokens = int.__index__(input_tokens), int.__index__(output_tokens)
        entry = _price_entry(model, for_cost=True)
        inp, out = entry.get("input_cost_per_token"), entry.get("output_cost_per_token")
        if inp is None and out is None:
            raise _unknown_model(model, "it has no per-token input/output price")
        why = _not_plain(entry, input_tokens, output_tokens)
        if why is None:
            return input_tokens * (inp or 0.0) + output_tokens * (out or 0.0)
        litellm = sys.modules.get("litellm")
        if litellm is not None:  # LiteLLM's own rules give its figure (no remote lookup: see _price_entry)
            prompt, completion = litellm.cost_per_token(model=model, prompt_tokens=input_tokens,
                                                        completion_tokens=output_tokens)
            return prompt + completion
        raise ValueError("model %r: LiteLLM does not price this call at plain per-token rates (%s); "
                         "import litellm first and estimate_cost returns litellm.cost_per_token's figure"
                         % (model, why))

    def get_model_limits(self, model: str) -> Dict[str, Any]:
        entry = _price_entry(model, for_cost=False)
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
        entry = _price_entry(model, for_cost=False)
        limit = entry.get("max_input_tokens") or entry.get("max_tokens") or self._model_max_tokens
        return self.count_tokens(text, model) <= limit


def _counter_of(kind: str, model_max_tokens: int) -> "SimpleTokenCounterBase":
    """A SimpleTokenCounter of the given twin (unpickling)."""
    from . import implementation

    return implementation(kind).SimpleTokenCounter(model_max_tokens)


def make_counter_class(impl) -> type:
    return type("SimpleTokenCounter", (SimpleTokenCounterBase,),
                {"_impl": impl, "__module__": "fast_litellm.tokenizer",
                 "__doc__": SimpleTokenCounterBase.__doc__})
