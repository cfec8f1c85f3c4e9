"""Exact fast ``completion_cost`` and ``cost_per_token`` (litellm.cost_calculator).

The stock ``completion_cost`` is a general dispatcher: for a plain chat
completion it resolves the provider with ``get_llm_provider`` three to six
times, builds the lookup candidates of the unmapped-model generalization
rules for every model-name candidate, re-reads the response through pydantic
attribute lookups, and finally prices the tokens.  For the inputs covered
here the fast path walks the same decisions once, in the same order, and
calls the stock helpers for everything that does arithmetic or reads prices
(``select_model_name_for_cost_calc``, ``_per_second_pricing_cost``,
``openai``/``azure`` ``cost_per_token`` -> ``generic_cost_per_token``, the
built-in tool costs, ``_get_additional_costs``), so floats come out of the
same code in the same order.  ``litellm.model_cost`` is read afresh on every
call, exactly where the stock code reads it; nothing derived from it is kept.

Errors (the engine's wrapper, ``patches.py``): NotAccelerated and HAND_OFF
hand the call to the original, and both happen before any effect.  An
exception the fast path raises before its first effect falls back to the
original too (which redoes everything once: exact).  From the first LiteLLM
call with an effect on (the unmapped-model check, whose provider resolver
prints for an unknown name; the pricing helpers, whose price reader logs an
unparseable price; the logging object's cost breakdown), LiteLLM's calls
and the stock candidate loop mark their exceptions as the caller's
(``callers_error``): the engine raises them as they are, once, as stock
raises them, instead of running the original on top.  Errors of this
module's own code (the resolver memo, the coverage shortcuts) are not
marked: they fall back and are counted against the flag.

Covered (anything else returns HAND_OFF or raises NotAccelerated before
any effect, and the engine calls the original):
  * ``completion_response`` is exactly a ``ModelResponse`` whose ``usage`` is
    exactly a ``Usage`` with int token counts, no extra fields and no
    provider-stated ``cost``; its hidden params are a dict without
    ``upstream_usage_cost`` or ``provider_specific_fields``;
  * ``call_type`` None, "completion" or "acompletion";
  * the pricing provider is "openai" or "azure" (given, from the response's
    hidden params, or resolved by ``get_llm_provider``, which is only called
    for a name in ``litellm.open_ai_chat_completion_models``: the stock
    resolver prints to stdout before raising for an unknown name, so the
    fast path never makes a resolver call the stock code would not make,
    nor one that could fail);
  * no custom pricing, base model, logging object, optional params, region,
    service tier or data residency argument; no cost discount or margin
    config; LiteLLM's verbose logger not at DEBUG (its debug lines are part
    of the stock behaviour);
  * no model-name candidate mentions together_ai or replicate.

``cost_per_token`` is covered for: integer token counts, no usage object,
no custom pricing, call type "completion"/"acompletion", provider "openai"
or "azure" (given, or resolved from a name in
``open_ai_chat_completion_models``).
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..patching.registry import NotAccelerated, callers_error, is_callers_error

#: pricing providers whose stock cost_per_token branch is reproduced here
COVERED_PROVIDERS = frozenset({"openai", "azure"})
COMPLETION_CALL_TYPES = frozenset({"completion", "acompletion"})
USAGE_FIELDS = frozenset({"completion_tokens", "prompt_tokens", "total_tokens",
                          "completion_tokens_details", "prompt_tokens_details"})

_NOT = NotAccelerated  # raised as a class: no message, no traceback formatting


class _HandOff:
    """Returned (not raised: cheaper) by a fast path for arguments it does not cover."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "HAND_OFF"


HAND_OFF = _HandOff()


class _Resolver:
    """``get_llm_provider(model=name)`` once per name within one call, and
    only for names it resolves without printing or raising."""

    __slots__ = ("litellm", "done")

    def __init__(self, litellm: Any):
        self.litellm = litellm
        self.done: Dict[str, Tuple[str, str]] = {}

    def safe(self, name: Any) -> bool:
        return (type(name) is str and "/" not in name
                and name in self.litellm.open_ai_chat_completion_models)

    def resolve(self, name: str) -> Tuple[str, str]:
        found = self.done.get(name)
        if found is None:
            if not self.safe(name):
                raise _NOT
            try:
                model, provider, _, _ = self.litellm.get_llm_provider(model=name)
            except Exception:
                raise _NOT
            found = self.done[name] = (model, provider)
        return found


def make_fast_cost_functions(cc: Any, litellm: Any) -> Tuple[Callable[..., Any], Callable[..., Any]]:
    """(completion_cost, cost_per_token) for the stock module ``cc``
    (litellm.cost_calculator)."""
    from litellm.types.utils import ModelResponse, Usage

    from litellm.types.utils import PromptTokensDetailsWrapper

    # LiteLLM's logging class, imported on first use: the patch is built while
    # `import litellm` is still running, before that module can be imported
    logging_class: List[Any] = []

    def is_logging_object(obj: Any) -> bool:
        if not logging_class:
            from litellm.litellm_core_utils.litellm_logging import Logging

            logging_class.append(Logging)
        return type(obj) is logging_class[0]

    tool_tracking = cc.StandardBuiltInToolCostTracking

    def azure_assistant_params(provider: str, params: Optional[Dict[str, Any]]) -> bool:
        """True when the Azure assistant features of get_cost_for_built_in_tools
        have something to price: only for Azure, only with these params."""
        if provider != "azure" or not params:
            return False
        return bool(params.get("vector_store_usage", None) or params.get("computer_use_usage", {})
                    or params.get("code_interpreter_sessions", None))
    verbose_logger = cc.verbose_logger

    def no_built_in_tool_signal(response: Any, usage_fields: Dict[str, Any]) -> bool:
        """True when get_cost_for_built_in_tools finds no tool use in this
        ModelResponse and its plain Usage: no Google Maps grounding or web
        search request counts in the prompt details, no url/file citation
        annotations on any choice (the usage has no server_tool_use and no
        extra fields: checked by the caller)."""
        details = usage_fields["prompt_tokens_details"]
        if isinstance(details, PromptTokensDetailsWrapper):
            if getattr(details, "google_maps_grounding_requests", None) is not None:
                return False
            if getattr(details, "web_search_requests", None) is not None:
                return False
        choices = response.choices
        if type(choices) is not list:
            return False
        for choice in choices:
            message = getattr(choice, "message", None)
            if message is not None and getattr(message, "annotations", None):
                return False
        return True

    debug_enabled = verbose_logger.isEnabledFor
    DEBUG = logging.DEBUG

    def price_tokens(model, prompt_tokens, completion_tokens, response_time_ms, custom_llm_provider,
                     region_name, cache_creation_input_tokens, cache_read_input_tokens, usage_object,
                     call_type, service_tier, data_residency, audio_seconds=0.0):
        """Stock cost_per_token for a caller-supplied covered provider, no
        custom pricing, no model-info override, a completion call type."""
        if model is None:
            raise Exception("Invalid arg. Model cannot be none.")
        usage_block = usage_object
        # the stock normalisation of cache tokens for custom pricing: its
        # values are unused without custom prices, but its float() calls
        # raise for odd values, so it runs
        cache_read_tokens: float = 0
        cache_creation_tokens: float = 0
        anthropic_style = False
        details = getattr(usage_object, "prompt_tokens_details", None)
        if details is not None:
            cache_read_tokens = float(getattr(details, "cached_tokens", 0) or 0)
            cache_creation_tokens = float(
                getattr(details, "cache_write_tokens", 0) or getattr(details, "cache_creation_tokens", 0) or 0
            )
        # usage has no extra fields (checked), so its Anthropic-style
        # cache_read/creation_input_tokens attributes are absent (None)
        if not cache_read_tokens and cache_read_input_tokens:
            cache_read_tokens = float(cache_read_input_tokens)
            anthropic_style = True
        if not cache_creation_tokens and cache_creation_input_tokens:
            cache_creation_tokens = float(cache_creation_input_tokens)
            anthropic_style = True
        normalized_prompt_tokens = float(prompt_tokens)
        if anthropic_style:
            normalized_prompt_tokens += cache_read_tokens + cache_creation_tokens

        model_cost = litellm.model_cost
        model_is_str = isinstance(model, str)
        dup_prefix = f"{custom_llm_provider}/"
        if model_is_str:
            while model.startswith(dup_prefix):
                remainder = model[len(dup_prefix):]
                if remainder.startswith(dup_prefix):
                    model = remainder
                else:
                    break
        prov_prefix = f"{custom_llm_provider}/"
        if model_is_str and model.startswith(prov_prefix):
            model_with_provider = model
        else:
            model_with_provider = f"{custom_llm_provider}/{model}"
        if region_name is not None:
            bare_model = model[len(prov_prefix):] if model_is_str and model.startswith(prov_prefix) else model
            with_region = f"{custom_llm_provider}/{region_name}/{bare_model}"
            if with_region in model_cost:
                model_with_provider = with_region
        return price_model(model, model_with_provider, model_cost, custom_llm_provider, usage_block,
                           call_type, response_time_ms, service_tier, data_residency, audio_seconds)

    def price_model(model, model_with_provider, model_cost, custom_llm_provider, usage_block,
                    call_type, response_time_ms, service_tier, data_residency, audio_seconds):
        """Stock cost_per_token's tail: the cost-map key among the model with
        its provider, as given, or without its prefix, then per-second or
        the OpenAI / Azure token pricing."""
        model_parts = model.split("/", 1)
        provider_relative = (
            model_with_provider == f"{custom_llm_provider}/{model}" and model_with_provider in model_cost
        )
        model_without_prefix = model if len(model_parts) == 1 or provider_relative else model_parts[1]
        if model_with_provider in model_cost:
            model = model_with_provider
        elif model in model_cost:
            pass
        elif model_without_prefix in model_cost:
            model = model_without_prefix

        if cc.is_decisions_call_type(call_type):
            raise _NOT
        # LiteLLM's pricing (the price reader logs an unparseable price and
        # goes on): its errors are the caller's; try/except is free when
        # nothing is raised
        try:
            per_second_cost = cc._per_second_pricing_cost(
                model=model,
                custom_llm_provider=custom_llm_provider,
                response_time_ms=response_time_ms,
                audio_seconds=audio_seconds,  # cost_per_token's audio_transcription_file_duration
            )
            if per_second_cost is not None:
                return per_second_cost
            if custom_llm_provider == "openai":
                return cc.openai_cost_per_token(
                    model=model, usage=usage_block, service_tier=service_tier, data_residency=data_residency
                )
            # "azure"
            return cc.azure_openai_cost_per_token(
                model=model, usage=usage_block, response_time_ms=response_time_ms, service_tier=service_tier
            )
        except Exception as exc:
            callers_error(exc)
            raise

    def completion_cost(
        completion_response=None,
        model=None,
        prompt="",
        messages=[],  # noqa: B006 - the stock signature
        completion="",
        total_time=0.0,
        call_type=None,
        custom_llm_provider=None,
        region_name=None,
        size=None,
        quality=None,
        n=None,
        custom_cost_per_token=None,
        custom_cost_per_second=None,
        requested_model_info_override=None,
        optional_params=None,
        custom_pricing=None,
        base_model=None,
        standard_built_in_tools_params=None,
        litellm_model_name=None,
        router_model_id=None,
        litellm_logging_obj=None,
        pricing_provider=None,
        service_tier=None,
        data_residency=None,
        vertex_location=None,
    ):
        # ---- coverage: decided from the arguments, before any effect ----
        if type(completion_response) is not ModelResponse:
            return HAND_OFF
        if call_type is None:
            call_type = "completion"
        elif type(call_type) is not str or call_type not in COMPLETION_CALL_TYPES:
            return HAND_OFF
        if (region_name is not None or custom_cost_per_token is not None or custom_cost_per_second is not None
                or requested_model_info_override is not None
                or (optional_params is not None and type(optional_params) is not dict)
                or base_model is not None or pricing_provider is not None
                or (litellm_logging_obj is not None and not is_logging_object(litellm_logging_obj))
                or service_tier is not None or data_residency is not None
                or (custom_pricing is not None and custom_pricing is not False)):
            return HAND_OFF
        if model is not None and type(model) is not str:
            return HAND_OFF
        if custom_llm_provider is not None and (type(custom_llm_provider) is not str
                                                or custom_llm_provider not in COVERED_PROVIDERS):
            return HAND_OFF
        if debug_enabled(DEBUG) or litellm.cost_discount_config or litellm.cost_margin_config:
            return HAND_OFF
        usage = getattr(completion_response, "usage", None)  # ModelResponse.get("usage")
        if type(usage) is not Usage or usage.__pydantic_extra__:
            return HAND_OFF
        fields = usage.__dict__
        if fields.keys() != USAGE_FIELDS:  # provider-stated cost, server tool use, a deleted field
            return HAND_OFF
        if type(fields.get("prompt_tokens")) is not int or type(fields.get("completion_tokens")) is not int:
            return HAND_OFF
        hidden = getattr(completion_response, "_hidden_params", None)
        if type(hidden) is not dict or "upstream_usage_cost" in hidden \
                or hidden.get("provider_specific_fields") is not None:
            return HAND_OFF
        response_model = getattr(completion_response, "model", None)
        if type(response_model) is not str:
            return HAND_OFF
        if standard_built_in_tools_params is not None and type(standard_built_in_tools_params) is not dict:
            return HAND_OFF
        tools_free = no_built_in_tool_signal(completion_response, fields)
        resolver = _Resolver(litellm)
        if custom_llm_provider is None and model is not None:
            select_provider = resolver.resolve(model)[1]
            if select_provider not in COVERED_PROVIDERS:
                raise _NOT
        else:
            select_provider = custom_llm_provider
            if select_provider is None:
                # select_model_name_for_cost_calc resolves the provider of the
                # hidden params' requested model: only one that cannot fail
                requested = cc._get_hidden_str_for_cost_calc(hidden, "litellm_model_name")
                if requested is not None and not resolver.safe(requested):
                    raise _NOT

        # ---- the stock sequence ----
        response_tier = getattr(completion_response, "service_tier", None)
        # usage carries no service_tier (no extra fields); provider_specific_fields is absent
        served_tier = response_tier if isinstance(response_tier, str) else None
        service_tier = cc._resolve_billable_service_tier(
            requested=optional_params.get("service_tier") if optional_params is not None else None,
            served=served_tier,
        )
        invoked_model_id = cc._invoked_model_id_for_cost(
            cc._LOGGED_LITELLM_PARAMS.validate_python(optional_params) if optional_params is not None else None,
            litellm_logging_obj,
        )

        # (no effect so far, nor in these calls for the covered inputs: an
        # exception up to the unmapped-model check falls back, exactly)
        selected_model = cc.select_model_name_for_cost_calc(
            model=model,
            completion_response=completion_response,
            custom_llm_provider=select_provider,
            custom_pricing=custom_pricing,
            base_model=None,
            router_model_id=router_model_id,
            region_name=None,
            invoked_model_id=invoked_model_id,
        )
        request_provider = custom_llm_provider
        candidates = [(selected_model, request_provider), (response_model, request_provider)]
        if model is not None:
            candidates.append((model, request_provider))
        for name, _ in candidates:
            if type(name) is not str or "togethercomputer" in name or "together_ai" in name \
                    or "replicate" in name or name in litellm.replicate_models:
                raise _NOT
        # the provider every loop iteration prices with: the stock loop takes
        # the hidden params' provider (here a string, or absent) else the one
        # it has, and resolves the first candidate's only when it has none
        if "custom_llm_provider" in hidden and type(hidden["custom_llm_provider"]) is not str:
            raise _NOT
        loop_provider = hidden.get("custom_llm_provider", custom_llm_provider or None)
        # which candidate comes first is known only after the generalization
        # check below (which may print): when the first iteration has to
        # resolve its candidate, every candidate must resolve safely
        first_resolution: Dict[str, Tuple[str, str]] = {}
        if loop_provider is None:
            for name, _ in candidates:
                stripped, provider = first_resolution[name] = resolver.resolve(name)
                if provider not in COVERED_PROVIDERS or "togethercomputer" in stripped or "together_ai" in stripped \
                        or "replicate" in stripped or stripped in litellm.replicate_models:
                    raise _NOT
        elif loop_provider not in COVERED_PROVIDERS:
            raise _NOT

        # ---- from here on the fast path never hands off: stock helpers with
        # effects (the resolver prints for unknown names) run below ----
        model_cost = litellm.model_cost
        effective = [provider if provider is not None else (resolver.resolve(name)[1] if resolver.safe(name) else None)
                     for name, provider in candidates]
        unpriced = []
        for (name, provider), resolved_provider in zip(candidates, effective):
            if resolved_provider in COVERED_PROVIDERS and (
                name in model_cost
                or (provider is not None and name.startswith(provider + "/")
                    and name[len(provider) + 1:] in model_cost)
            ):
                # the name, or (given "<provider>/<name>") its split name, is
                # an exact cost-map key among the generalization's lookup
                # candidates: the rules never apply
                unpriced.append(False)
            else:
                try:  # the resolver prints for an unknown name: from here on LiteLLM's errors are the caller's
                    unpriced.append(cc._is_unpriced_generalized_candidate((name, provider)))
                except Exception as exc:
                    callers_error(exc)
                    raise
        if any(unpriced):
            candidates = ([c for c, u in zip(candidates, unpriced) if not u]
                          + [c for c, u in zip(candidates, unpriced) if u])

        if loop_provider is None:
            first_model, loop_provider = first_resolution[candidates[0][0]]
        else:
            first_model = candidates[0][0]
        # the built-in tool cost is 0.0 (our shortcut, decided here, outside
        # the stock loop whose errors are the caller's): every iteration
        # prices with loop_provider
        tools_zero = tools_free and not azure_assistant_params(loop_provider, standard_built_in_tools_params)
        region = None
        last = len(candidates) - 1
        for idx, (candidate_model, _) in enumerate(candidates):
            try:
                usage_dump = usage.model_dump()
                prompt_tokens = usage_dump.get("prompt_tokens", 0)
                completion_tokens = usage_dump.get("completion_tokens", 0)
                cache_creation_input_tokens = usage_dump.get("cache_creation_input_tokens", 0)
                cache_read_input_tokens = usage_dump.get("cache_read_input_tokens", 0)
                if (
                    "prompt_tokens_details" in usage_dump
                    and usage_dump["prompt_tokens_details"] != {}
                    and usage_dump["prompt_tokens_details"]
                ):
                    details = usage_dump.get("prompt_tokens_details") or {}
                    cache_read_input_tokens = details.get("cached_tokens", 0)
                region = hidden.get("region_name", region)
                current_model = first_model if idx == 0 else candidate_model
                provider = loop_provider

                response_time_ms = cc._response_time_ms_for_cost(
                    completion_response=completion_response,
                    litellm_logging_obj=litellm_logging_obj,
                    total_time=total_time,
                )
                # billed_usage_cost: no upstream_usage_cost, no usage.cost -> None
                request_model_for_cost = None
                if litellm_logging_obj is not None:
                    request_model_for_cost = litellm_logging_obj.model
                prompt_cost, output_cost = price_tokens(
                    current_model,
                    prompt_tokens or 0,
                    completion_tokens or 0,
                    response_time_ms,
                    provider,
                    region,
                    cache_creation_input_tokens,
                    cache_read_input_tokens,
                    usage,
                    call_type,
                    service_tier,
                    None,
                )
                if provider == "azure" and not cc.azure_ai_is_model_router_name(current_model):
                    hidden_now = getattr(completion_response, "_hidden_params", None) or {}
                    hidden_model = hidden_now.get("model") or hidden_now.get("litellm_model_name")
                    model_for_additional_costs = request_model_for_cost
                    if (
                        hidden_model
                        and (
                            "model_router" in (hidden_model or "").lower()
                            or "model-router" in (hidden_model or "").lower()
                        )
                        or model_for_additional_costs is None
                    ):
                        model_for_additional_costs = hidden_model
                    if model_for_additional_costs is None:
                        model_for_additional_costs = current_model
                    additional_costs = cc._get_additional_costs(
                        model=model_for_additional_costs,
                        custom_llm_provider=provider,
                        prompt_tokens=prompt_tokens or 0,
                        completion_tokens=completion_tokens or 0,
                    )
                else:
                    additional_costs = None
                final_cost = prompt_cost + output_cost
                if tools_zero:
                    # get_cost_for_built_in_tools with no tool in the response:
                    # 0.0 (Maps grounding) + 0.0 (image generation) + the Azure
                    # assistant features, 0.0 without tool params, after a
                    # model-info lookup for Azure
                    if provider == "azure":
                        tool_tracking._safe_get_model_info(model=current_model, custom_llm_provider=provider)
                    tools_cost = 0.0
                else:
                    tools_cost = tool_tracking.get_cost_for_built_in_tools(
                        model=current_model,
                        response_object=completion_response,
                        usage=usage,
                        standard_built_in_tools_params=standard_built_in_tools_params,
                        custom_llm_provider=provider,
                    )
                final_cost += tools_cost
                if additional_costs:
                    final_cost += sum(additional_costs.values())
                if litellm_logging_obj is not None:
                    reasoning_cost = cache_read_cost = cache_creation_cost = billed_token_rates = None
                    # the usage object is never None here, the model never empty
                    breakdown = cc.get_token_type_cost_breakdown(
                        model=current_model,
                        custom_llm_provider=provider,
                        usage=usage,
                        service_tier=service_tier,
                        data_residency=None,
                        vertex_location=vertex_location,
                        custom_cost_per_token=None,
                        model_info=None,
                    ) if current_model else None
                    if breakdown is not None:
                        reasoning_cost = breakdown.reasoning_cost
                        cache_read_cost = breakdown.cache_read_cost
                        cache_creation_cost = breakdown.cache_creation_cost
                        billed_token_rates = breakdown.rates
                    cc._store_cost_breakdown_in_logging_obj(
                        litellm_logging_obj=litellm_logging_obj,
                        prompt_tokens_cost_usd_dollar=prompt_cost,
                        completion_tokens_cost_usd_dollar=output_cost,
                        cost_for_built_in_tools_cost_usd_dollar=tools_cost,
                        total_cost_usd_dollar=final_cost,
                        original_cost=final_cost,
                        additional_costs=additional_costs,
                        discount_percent=0.0,
                        discount_amount=0.0,
                        margin_percent=0.0,
                        margin_fixed_amount=0.0,
                        margin_total_amount=0.0,
                        cache_read_cost=cache_read_cost,
                        cache_creation_cost=cache_creation_cost,
                        reasoning_cost=reasoning_cost,
                        service_tier=service_tier,
                        data_residency=None,
                        vertex_location=vertex_location,
                        billed_token_rates=billed_token_rates,
                    )
                return final_cost
            except NotAccelerated:
                raise
            except Exception as exc:
                # the stock loop: an error is swallowed (a mark made inside is
                # dropped with it) but the last candidate's, which is raised,
                # after the loop's effects: the caller's
                is_callers_error(exc)
                if idx == last:
                    callers_error(exc)
                    raise exc
        exc = Exception(f"Unable to calculate cost for received potential model names - {tuple(candidates)}")
        callers_error(exc)
        raise exc

    def cost_per_token(
        model="",
        prompt_tokens=0,
        completion_tokens=0,
        response_time_ms=0.0,
        custom_llm_provider=None,
        region_name=None,
        prompt_characters=None,
        completion_characters=None,
        cache_creation_input_tokens=0,
        cache_read_input_tokens=0,
        custom_cost_per_token=None,
        custom_cost_per_second=None,
        requested_model_info_override=None,
        number_of_queries=None,
        usage_object=None,
        rerank_billed_units=None,
        call_type="completion",
        audio_transcription_file_duration=0.0,
        service_tier=None,
        data_residency=None,
        vertex_location=None,
        response=None,
        request_model=None,
        custom_model_info=None,
        bedrock_model_info=None,
    ):
        if (usage_object is not None or custom_cost_per_token is not None or custom_cost_per_second is not None
                or requested_model_info_override is not None or type(model) is not str
                or type(call_type) is not str or call_type not in COMPLETION_CALL_TYPES):
            return HAND_OFF
        if type(prompt_tokens) is not int or type(completion_tokens) is not int:
            return HAND_OFF
        for count in (cache_creation_input_tokens, cache_read_input_tokens):
            if count is not None and type(count) is not int:
                return HAND_OFF
        if custom_llm_provider is None:
            resolver = _Resolver(litellm)
            custom_llm_provider = resolver.resolve(model)[1]
            model_for_pricing = model
            if custom_llm_provider not in COVERED_PROVIDERS:
                raise _NOT
            caller_supplied = False
        else:
            if type(custom_llm_provider) is not str or custom_llm_provider not in COVERED_PROVIDERS:
                raise _NOT
            model_for_pricing = model
            caller_supplied = True
        usage_block = Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
            cache_creation_input_tokens=cache_creation_input_tokens,
            cache_read_input_tokens=cache_read_input_tokens,
        )
        if caller_supplied:
            return price_tokens(model_for_pricing, prompt_tokens, completion_tokens, response_time_ms,
                                custom_llm_provider, region_name, cache_creation_input_tokens,
                                cache_read_input_tokens, usage_block, call_type, service_tier, data_residency,
                                audio_transcription_file_duration)
        return price_tokens_unprefixed(model_for_pricing, prompt_tokens, response_time_ms, custom_llm_provider,
                                       cache_creation_input_tokens, cache_read_input_tokens, usage_block,
                                       call_type, service_tier, data_residency, audio_transcription_file_duration)

    def price_tokens_unprefixed(model, prompt_tokens, response_time_ms, custom_llm_provider,
                                cache_creation_input_tokens, cache_read_input_tokens, usage_block,
                                call_type, service_tier, data_residency, audio_seconds):
        """Stock cost_per_token when the caller gave no provider: the model
        name is looked up as given (the provider, resolved above, only picks
        the pricing branch)."""
        # custom-pricing normalisation, for its exceptions (see price_tokens)
        cache_read_tokens: float = 0
        cache_creation_tokens: float = 0
        if not cache_read_tokens and cache_read_input_tokens:
            cache_read_tokens = float(cache_read_input_tokens)
        if not cache_creation_tokens and cache_creation_input_tokens:
            cache_creation_tokens = float(cache_creation_input_tokens)
        float(prompt_tokens)
        model_cost = litellm.model_cost
        # stock's model_with_provider is the model itself here
        return price_model(model, model, model_cost, custom_llm_provider, usage_block,
                           call_type, response_time_ms, service_tier, data_residency, audio_seconds)

    completion_cost.__doc__ = cc.completion_cost.__doc__
    cost_per_token.__doc__ = cc.cost_per_token.__doc__
    return completion_cost, cost_per_token
