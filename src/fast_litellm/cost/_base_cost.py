"""Exact fast ``_get_token_base_cost`` (litellm.litellm_core_utils.llm_cost_calc.utils).

The stock function spends most of its time finding the model's
above-threshold keys: every call walks every key of ``model_info`` (a
``get_model_info`` result has ~200 keys, ~50 of them threshold keys whose
value is None) and parses and sorts the matches.  Which keys match, and
their sorted order, depend only on the key strings (and the service tier's
key suffix), never on the values, so this version remembers the sorted
match list per (tuple of keys, suffix).  Every value is still read from
``model_info`` on every call, so prices are always fresh; a dict whose keys
changed is a different tuple and is scanned again.  A scan that raises
(a non-string key, an unparseable threshold) is not remembered, so the
exception is raised again, at the same point, on every call.

Everything else is the stock logic in the stock order, calling the stock
helpers (bound from the module when the patch is built).

Errors (the engine's wrapper, ``patches.py``): the stock price reader logs
an unparseable price and goes on, so an exception after it must be raised
once, not answered by running the original on top (a second log record).
The stock steps (the helpers and the lines restating the stock function,
the key scan included) therefore mark their exceptions as the caller's
(``callers_error``); an error of this module's own (the remembered scans)
is not marked, so the engine falls back to the original and counts it.
"""
from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any, Callable, Dict, Optional, Tuple

from ..patching.registry import Delegate, callers_error

#: bound on remembered (keys, suffix) scans; cleared when reached
MAX_SCANS = 1024


def make_fast_token_base_cost(original: Callable[..., Any], module: Any) -> Callable[..., Any]:
    """``module`` is litellm.litellm_core_utils.llm_cost_calc.utils."""
    get_tiered_base_costs = module._get_tiered_base_costs
    apply_off_peak_to_base_costs = module._apply_off_peak_to_base_costs
    tier_key = module.get_service_tier_cost_key
    cost_per_unit = module.get_cost_per_unit
    ttl_keys = module._TTL_PRICED_CACHE_WRITE_RATE_KEYS
    rate_prefixes = module._BATCH_RATE_PREFIXES
    non_standard_suffixes = module._NON_STANDARD_THRESHOLD_SUFFIXES
    parse_threshold = module._parse_above_token_threshold
    exceeds = module._prompt_exceeds_threshold
    first_present_key = module._first_present_key
    off_peak_rate = module._off_peak_rate
    open_off_peak_block = module._open_off_peak_block
    apply_off_peak_pricing = module.apply_off_peak_pricing
    TokenRates = module.TokenRates
    handoff = Delegate(original)  # the engine calls the original, outside its try

    scans: Dict[Tuple[Tuple[Any, ...], str], Tuple[str, ...]] = {}

    def sorted_threshold_keys(model_info: Dict[str, Any], tier_key_suffix: str) -> Tuple[str, ...]:
        cache_key = (tuple(model_info), tier_key_suffix)
        found = scans.get(cache_key)
        if found is not None:
            return found
        # the stock scan, verbatim in effect: prefixes built per call, same
        # filter, same sort; it raises where the stock one does (a non-string
        # key, an unparseable threshold), after the prices were read (and an
        # unparseable one logged): the caller's error
        try:
            threshold_prefixes = tuple(f"{prefix}_above_" for prefix in rate_prefixes)
            threshold_keys = [
                k
                for k in model_info
                if k.startswith(threshold_prefixes)
                and "_tokens" in k
                and (not k.endswith(non_standard_suffixes) or (tier_key_suffix != "" and k.endswith(tier_key_suffix)))
            ]
            found = tuple(sorted(threshold_keys, key=parse_threshold))
        except Exception as exc:
            callers_error(exc)
            raise
        if len(scans) >= MAX_SCANS:
            scans.clear()
        scans[cache_key] = found
        return found

    def _get_token_base_cost(model_info, usage, service_tier=None, current_time=None, *,
                             threshold_is_inclusive=False):
        if type(model_info) is not dict:
            return handoff
        # the stock steps up to the scan: their errors are the caller's (the
        # price reader may have logged before one); try/except costs nothing
        # when nothing is raised
        try:
            tiered_base_costs = get_tiered_base_costs(model_info=model_info, usage=usage)
            if tiered_base_costs is not None:
                return apply_off_peak_to_base_costs(model_info, current_time, *tiered_base_costs)

            input_cost_key = tier_key("input_cost_per_token", service_tier)
            output_cost_key = tier_key("output_cost_per_token", service_tier)
            cache_creation_cost_key = tier_key("cache_creation_input_token_cost", service_tier)
            cache_read_cost_key = tier_key("cache_read_input_token_cost", service_tier)

            prompt_base_cost = cost_per_unit(model_info, input_cost_key)
            completion_base_cost = cost_per_unit(model_info, output_cost_key)
            if completion_base_cost == 0.0:
                output_image_cost = cost_per_unit(model_info, "output_cost_per_image_token", None)
                if output_image_cost is not None:
                    completion_base_cost = output_image_cost
            cache_creation_cost = cost_per_unit(model_info, cache_creation_cost_key, default_value=None)
            cache_creation_keys_by_ttl = MappingProxyType(
                {ttl: tier_key(key, service_tier) for ttl, key in ttl_keys.items()}
            )
            cache_read_cost = cost_per_unit(model_info, cache_read_cost_key, default_value=None)

            tier_key_suffix = tier_key("", service_tier)
        except Exception as exc:
            callers_error(exc)
            raise
        # the remembered scan (ours: an error here falls back); the loop body
        # is the stock one, which swallows every Exception, as stock
        for key in sorted_threshold_keys(model_info, tier_key_suffix):
            value = model_info.get(key)
            if value is None:
                continue
            try:
                threshold_str = key.rsplit("_above_", 1)[1].split("_tokens")[0]
                threshold = parse_threshold(key)
                if exceeds(usage.prompt_tokens, threshold, threshold_is_inclusive):
                    if service_tier:
                        tiered_input_key = tier_key(f"input_cost_per_token_above_{threshold_str}_tokens", service_tier)
                    else:
                        tiered_input_key = f"input_cost_per_token_above_{threshold_str}_tokens"
                    prompt_base_cost = cost_per_unit(model_info, tiered_input_key, prompt_base_cost)
                    if service_tier:
                        tiered_output_key = tier_key(f"output_cost_per_token_above_{threshold_str}_tokens", service_tier)
                    else:
                        tiered_output_key = f"output_cost_per_token_above_{threshold_str}_tokens"
                    completion_base_cost = cost_per_unit(model_info, tiered_output_key, completion_base_cost)
                    if service_tier:
                        creation_tiered_key = tier_key(
                            f"cache_creation_input_token_cost_above_{threshold_str}_tokens", service_tier)
                        read_tiered_key = tier_key(
                            f"cache_read_input_token_cost_above_{threshold_str}_tokens", service_tier)
                    else:
                        creation_tiered_key = f"cache_creation_input_token_cost_above_{threshold_str}_tokens"
                        read_tiered_key = f"cache_read_input_token_cost_above_{threshold_str}_tokens"
                    cache_creation_cost = cost_per_unit(model_info, creation_tiered_key, cache_creation_cost)
                    cache_creation_keys_by_ttl = MappingProxyType(
                        {
                            ttl: first_present_key(
                                model_info,
                                tier_key(f"{ttl_keys[ttl]}_above_{threshold_str}_tokens", service_tier),
                                ttl_key,
                            )
                            for ttl, ttl_key in cache_creation_keys_by_ttl.items()
                        }
                    )
                    cache_read_cost = cost_per_unit(model_info, read_tiered_key, cache_read_cost)
            except (IndexError, ValueError):
                continue
            except Exception:
                continue

        try:  # the stock tail: its errors are the caller's
            input_rate_for_missing = off_peak_rate(
                open_off_peak_block(model_info, current_time) or MappingProxyType({}),
                "input_cost_per_token",
                prompt_base_cost,
            )
            resolved_cache_read_cost = input_rate_for_missing if cache_read_cost is None else cache_read_cost
            resolved_cache_creation_cost = (input_rate_for_missing if cache_creation_cost is None
                                            else cache_creation_cost)
            base_rates = apply_off_peak_pricing(
                model_info,
                current_time,
                TokenRates(
                    input_rate=prompt_base_cost,
                    output_rate=completion_base_cost,
                    cache_read_rate=resolved_cache_read_cost,
                    cache_creation_rate=resolved_cache_creation_cost,
                    reasoning_rate=None,
                ),
            )
            ttl_rates = {}
            for ttl, key in cache_creation_keys_by_ttl.items():
                rate = cost_per_unit(model_info, key, default_value=None)
                ttl_rates[ttl] = base_rates.cache_creation_rate if rate is None else rate
            return replace(base_rates, cache_creation_rates_by_ttl=MappingProxyType(ttl_rates))
        except Exception as exc:
            callers_error(exc)
            raise

    _get_token_base_cost.__doc__ = original.__doc__
    _get_token_base_cost.__wrapped_original__ = original  # type: ignore[attr-defined]
    _get_token_base_cost.threshold_scans = scans  # type: ignore[attr-defined]
    return _get_token_base_cost


def clear_scans(fast: Optional[Callable[..., Any]]) -> None:
    scans = getattr(fast, "threshold_scans", None)
    if scans is not None:
        scans.clear()
