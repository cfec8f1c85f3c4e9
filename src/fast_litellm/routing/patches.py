"""The router's patches on LiteLLM 1.110.2 (flag ``rust_routing``).

Each entry replaces one pure-computation function of LiteLLM's router with
an exact, faster one from :mod:`fast_litellm.routing.litellm_fast`; cache
reads and writes, Redis, callbacks and exception construction stay in the
code LiteLLM runs.  ``PATCHES`` is the registry; importing this module
registers them with the patch engine.
"""
from __future__ import annotations

from typing import Any, Callable, List

from fast_litellm.patching.registry import NotAccelerated, Patch, register

from . import cache_reads, litellm_fast, protocol_fast, selector_fast, shadow_handle, strategy_fast

FLAG = "rust_routing"

PATCHES: List[Patch] = [
    Patch(
        name="routing.lowest_latency_pick",
        component="routing",
        flag=FLAG,
        target="litellm.router_strategy.lowest_latency:LowestLatencyLoggingHandler._get_available_deployments",
        build=strategy_fast.make_lowest_latency_pick,
        scan_bindings=False,
        description="latency-based-routing pick: O(n) id lookup instead of LiteLLM's O(n^2) scan",
    ),
    Patch(
        name="routing.lowest_latency_entry_async",
        component="routing",
        flag=FLAG,
        target="litellm.router_strategy.lowest_latency:LowestLatencyLoggingHandler.async_get_available_deployments",
        build=strategy_fast.make_lowest_latency_entry_async,
        scan_bindings=False,
        description="latency-based-routing async pick: the same cache read; an empty map is not filled",
    ),
    Patch(
        name="routing.lowest_latency_entry_sync",
        component="routing",
        flag=FLAG,
        target="litellm.router_strategy.lowest_latency:LowestLatencyLoggingHandler.get_available_deployments",
        build=strategy_fast.make_lowest_latency_entry_sync,
        scan_bindings=False,
        description="latency-based-routing sync pick: the same cache read; an empty map is not filled",
    ),
    Patch(
        name="routing.lowest_cost_pick",
        component="routing",
        flag=FLAG,
        target="litellm.router_strategy.lowest_cost:LowestCostLoggingHandler.async_get_available_deployments",
        build=strategy_fast.make_lowest_cost_pick,
        scan_bindings=False,
        description="cost-based-routing pick: O(n) id lookup, prices read without pydantic copies",
    ),
    Patch(
        name="routing.strategy_inputs",
        component="routing",
        flag=FLAG,
        target="litellm.router_rust.core:RustCore._strategy_inputs",
        build=strategy_fast.make_strategy_inputs,
        scan_bindings=False,
        description="candidate records read once per registry version and copied natively",
    ),
    Patch(
        name="routing.cooldown_ids",
        component="routing",
        flag=FLAG,
        target="litellm.router_rust.routing_stores:_cooldown_ids",
        build=litellm_fast.make_cooldown_ids,
        description="cooldown batch-read keys parsed by slicing instead of a dataclass per key",
    ),
    Patch(
        name="routing.plain_json",
        component="routing",
        flag=FLAG,
        target="litellm.router_rust.core:_plain",
        build=litellm_fast.make_plain,
        description="step documents and cache answers copied natively instead of a JSON round trip",
    ),
    Patch(
        name="routing.usage_read_scope",
        component="routing",
        flag=FLAG,
        target="litellm.router_rust.core:RustCore._usage_read_scope",
        build=litellm_fast.make_usage_read_scope,
        scan_bindings=False,
        description="the model group's deployment list is read only for usage-based-routing-v2 picks",
    ),
    Patch(
        name="routing.group_policy_fields",
        component="routing",
        flag=FLAG,
        target="litellm.router_rust.core:RustCore._group_policy_fields",
        build=litellm_fast.make_group_policy_fields,
        scan_bindings=False,
        description="no retry-policy resolution when neither the request nor the router has a policy",
    ),
    Patch(
        name="routing.cooldown_batch_read",
        component="routing",
        flag=FLAG,
        target="litellm.router_rust.core:RustCore._answer_cache",
        build=litellm_fast.make_answer_cache,
        scan_bindings=False,
        description="a pick's cooldown batch read goes straight to the in-memory store, same target, same answer",
    ),
    Patch(
        name="routing.usage_read",
        component="routing",
        flag=FLAG,
        target="litellm.router_utils.routing_read_batch:RoutingReadBatch.read_usage",
        build=selector_fast.make_read_usage,
        scan_bindings=False,
        description="usage-based-routing-v2's usage read: the memory tier read (or its Nones) without the "
                    "prefetch and shared-read layers around it",
    ),
    Patch(
        name="routing.start_fields",
        component="routing",
        flag=FLAG,
        target="litellm.router_rust.core:_start_fields",
        build=protocol_fast.make_start_fields,
        description="request start fields without pydantic when the request carries none of the validated ones",
    ),
    Patch(
        name="routing.unreserved_picker",
        component="routing",
        flag=FLAG,
        target="litellm.router_deprecated:_unreserved_picker",
        build=protocol_fast.make_unreserved_picker,
        description="Router.async_get_available_deployment read: the same closures, "
                    "the assigned-pick look-up proven empty",
    ),
    Patch(
        name="routing.deprecated_get",
        component="routing",
        flag=FLAG,
        target="litellm.router_deprecated:_DeprecatedAttribute.__get__",
        build=protocol_fast.make_deprecated_get,
        # no Python wrapper: its frame would move the DeprecationWarning _note attributes
        # by frame depth (the native callable falls back to LiteLLM's __get__ itself)
        wrap=False,
        scan_bindings=False,
        description="deprecated Router attribute reads: LiteLLM's descriptor with no Python frame of its "
                    "own (the same walk, tally and warning)",
        extra={"frameless": True},
    ),
    Patch(
        name="routing.router_getattribute",
        component="routing",
        flag=FLAG,
        target="litellm.router:Router.__getattribute__",
        build=protocol_fast.make_router_getattribute,
        # no Python wrapper: it would add the frame this removes (and be read through the hook)
        wrap=False,
        scan_bindings=False,
        description="Router attribute reads: LiteLLM's __getattribute__ with no Python frame, and no "
                    "AttributeError made for a miss on the facade (the pick's router.select)",
        extra={"frameless": True},
    ),
    Patch(
        name="routing.new_handle",
        component="routing",
        flag=FLAG,
        target="litellm.router_rust.core:RustCore._new_handle",
        build=shadow_handle.make_new_handle,
        scan_bindings=False,
        description="the Rust handle's construction, keeping its two documents: a pick may then run "
                    "on a twin handle without the callback-filter stage when its answer is the identity",
    ),
    Patch(
        name="routing.pre_route",
        component="routing",
        flag=FLAG,
        target="litellm.router_rust.core:RustCore._pre_route",
        build=protocol_fast.make_pre_route,
        scan_bindings=False,
        description="a pick's pre-routing with no pre-routing strategy registered: "
                    "LiteLLM's stamps, without the empty searches",
    ),
    Patch(
        name="routing.prefetch_usage_selector",
        component="routing",
        flag=FLAG,
        target="litellm.router_rust.core:RustCore._prefetch_usage_selector",
        build=protocol_fast.make_prefetch_usage_selector,
        scan_bindings=False,
        description="the pick's usage-v2 selector probe: None without resolving "
                    "when neither router nor request can use v2",
    ),
    Patch(
        name="routing.served",
        component="routing",
        flag=FLAG,
        target="litellm.router_rust.core:_Selection._served",
        build=protocol_fast.make_served,
        scan_bindings=False,
        description="the picked record as served: no retyping or wildcard copies "
                    "when it has nothing to retype or fill",
    ),
    Patch(
        name="routing.service_event",
        component="routing",
        flag=FLAG,
        target="litellm._service_logger:ServiceLogging.async_service_success_hook",
        build=protocol_fast.make_service_success_hook,
        scan_bindings=False,
        description="a pick's ROUTER service event with no service callback builds no payload for nobody",
    ),
    Patch(
        name="routing.select",
        component="routing",
        flag=FLAG,
        target="litellm.router_rust.core:RustCore.select",
        build=protocol_fast.make_select,
        scan_bindings=False,
        description="a pick's select, selection run and step loop in one coroutine: the same calls, "
                    "without the frames and the no-op OTel span",
    ),
    Patch(
        name="routing.narrowing_fields",
        component="routing",
        flag=FLAG,
        target="litellm.router_rust.core:_narrowing_fields",
        build=protocol_fast.make_narrowing_fields,
        description="a request without narrowing keys gives no narrowing fields, without the helpers",
    ),
    Patch(
        name="routing.dual_cache_async_read",
        component="routing",
        flag=FLAG,
        target="litellm.caching.dual_cache:DualCache.async_get_cache",
        build=cache_reads.make_async_get_cache,
        scan_bindings=False,
        description="a cache read does not format the value it found for a print that verbose mode alone shows",
    ),
    Patch(
        name="routing.dual_cache_read",
        component="routing",
        flag=FLAG,
        target="litellm.caching.dual_cache:DualCache.get_cache",
        build=cache_reads.make_get_cache,
        scan_bindings=False,
        description="a cache read does not format the value it found for a print that verbose mode alone shows",
    ),
]

PATCHES += [
    Patch(
        name="routing.usage_token_count" + suffix,
        component="routing",
        flag=FLAG,
        target="litellm.router_strategy.%s:embedding_aware_token_count" % module,
        build=selector_fast.make_selector_token_count,
        scan_bindings=False,
        description="a usage-based pick's token count of no messages and no input: the 0 its caller's "
                    "except gives, without the raise",
    )
    for suffix, module in (("_v2", "lowest_tpm_rpm_v2"), ("_v1", "lowest_tpm_rpm"))
]

PATCHES.append(
    Patch(
        name="routing.least_busy_select",
        component="routing",
        flag=FLAG,
        target="litellm.router_strategy.least_busy:LeastBusyLoggingHandler._select",
        build=selector_fast.make_least_busy_select,
        scan_bindings=False,
        description="least-busy pick over this worker's counts: the same reads under the same lock, "
                    "without validating absent reservations and plain counters",
    )
)
PATCHES.append(
    Patch(
        name="routing.least_busy_ids",
        component="routing",
        flag=FLAG,
        target="litellm.router_strategy.least_busy:_deployment_ids",
        build=selector_fast.make_deployment_ids,
        scan_bindings=False,
        description="least-busy candidate ids read directly from plain records (a shared list's kept), "
                    "not through pydantic",
    )
)
PATCHES.append(
    Patch(
        name="routing.least_busy_keys",
        component="routing",
        flag=FLAG,
        target="litellm.router_strategy.least_busy:_request_count_keys",
        build=selector_fast.make_request_count_keys,
        scan_bindings=False,
        description="least-busy counter keys formatted without a call per id (a shared list's kept)",
    )
)
PATCHES += [
    Patch(
        name="routing.registry_rows",
        component="routing",
        flag=FLAG,
        target="litellm.router_rust.surface.registry:HostRegistry._rows",
        build=litellm_fast.make_rows,
        scan_bindings=False,
        description="the registry's {'at': i} lookup rows read natively as the list entries they name",
    ),
    Patch(
        name="routing.usage_v2_counter_keys",
        component="routing",
        flag=FLAG,
        target="litellm.router_strategy.lowest_tpm_rpm_v2:LowestTPMLoggingHandler_v2.usage_counter_keys",
        build=selector_fast.make_usage_counter_keys,
        scan_bindings=False,
        description="usage-v2 counter keys built natively, the minute without strftime",
    ),
    Patch(
        name="routing.usage_v2_common_checks",
        component="routing",
        flag=FLAG,
        target="litellm.router_strategy.lowest_tpm_rpm_v2:LowestTPMLoggingHandler_v2."
               "_common_checks_available_deployment",
        build=selector_fast.make_usage_common_checks,
        scan_bindings=False,
        description="usage-v2 count dicts and lowest-usage scan natively; LiteLLM's token count, "
                    "logs and random.choice kept",
    ),
]


def _pydantic_plugins() -> bool:
    """Whether pydantic plugins are loaded (entry points of group
    ``pydantic``, e.g. logfire's): every validator built then - LiteLLM's
    models and adapters, at its import - reports each validation to them,
    and our fast paths skip validations whose answer is known (the start
    fields, the callback list, least-busy's counters, the service event's
    payload ...), which a plugin would see missing.  With one loaded no
    routing patch is built: LiteLLM's code runs.  Unknown counts as loaded."""
    try:
        from pydantic.plugin._loader import get_plugins

        return any(True for _ in get_plugins())
    except Exception:  # noqa: BLE001 - a pydantic without the loader: assume plugins
        return True


def _unless_pydantic_plugins(build: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def build_checked(original: Any) -> Any:
        if _pydantic_plugins():
            raise NotAccelerated("a pydantic plugin sees the validations the fast paths skip")
        return build(original)

    build_checked.__wrapped__ = build  # type: ignore[attr-defined]
    return build_checked


for _patch in PATCHES:
    _patch.build = _unless_pydantic_plugins(_patch.build)
    if _patch.wrap:
        # every fast path declines while a builtin the LiteLLM code they stand for reads is
        # shadowed in its module or replaced in builtins (session 19; the frameless deprecated
        # read checks its own names)
        _patch.extra.setdefault("precheck", selector_fast.routing_builtins_precheck)
        # a synchronous target's layer runs its hot path in C (wrappers.native_layer; session 20)
        _patch.extra.setdefault("native_layer", True)
    register(_patch)
