"""Patch declarations of the cost component (flag ``native_cost_calculation``).

``completion_cost`` and ``cost_per_token`` are replaced on
``litellm.cost_calculator``; the engine's identity scan also rebinds
``litellm.completion_cost`` / ``litellm.cost_per_token`` and every other
module global bound to them.  ``_get_token_base_cost`` is replaced on its
module, where ``generic_cost_per_token`` looks it up on each call.

Every target's source hash is in ``fast_litellm.patching.pins.VERIFIED``;
the LiteLLM functions the fast code reproduces, inlines or relies on are
pinned in ``pins.DEPENDENCIES`` (prefix ``DEPENDENCY_PREFIXES``) and checked
when a patch is built: a changed dependency leaves the patch unapplied, with
the reason in ``get_patch_status()``.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, List

from ..patching import pins
from ..patching.registry import Patch, register
from . import FLAG

COST_MODULE = "litellm.cost_calculator"
UTILS_MODULE = "litellm.litellm_core_utils.llm_cost_calc.utils"
COMPLETION_COST_TARGET = COST_MODULE + ":completion_cost"
COST_PER_TOKEN_TARGET = COST_MODULE + ":cost_per_token"
BASE_COST_TARGET = UTILS_MODULE + ":_get_token_base_cost"

#: the dependency entries of this component in pins.DEPENDENCIES
DEPENDENCY_PREFIXES = (
    COST_MODULE + ":",
    UTILS_MODULE + ":",
    "litellm.litellm_core_utils.core_helpers:",
    "litellm.litellm_core_utils.get_llm_provider_logic:",
    "litellm.utils:",
    "litellm.types.utils:",
    "litellm.llms.openai.cost_calculation:",
    "litellm.llms.azure.cost_calculation:",
    "litellm.llms.anthropic.chat.transformation:",
    "litellm.responses.utils:",
    "litellm.litellm_core_utils.llm_cost_calc.usage_object_transformation:",
    # the built-in tool cost the fast completion_cost skips (0.0 while these
    # read the same tool signals: no_built_in_tool_signal / azure_assistant_params)
    "litellm.litellm_core_utils.llm_cost_calc.tool_call_cost_tracking:",
    "litellm.llms.gemini.cost_calculator:",
    "litellm.llms.anthropic.cost_calculation:",
)


class DependencyChanged(RuntimeError):
    """A LiteLLM source the fast cost code relies on is not the verified one."""


def changed_dependencies() -> List[str]:
    """This component's DEPENDENCIES entries whose installed source differs."""
    from ..patching import guards

    table = {t: d for t, d in pins.DEPENDENCIES.items() if t not in pins.VERIFIED}
    return guards.changed_sources(table, guards.resolve_target, DEPENDENCY_PREFIXES)


_verified: List[bool] = []  # the dependencies matched once in this process (sources do not change)


def _check() -> None:
    if _verified:
        return
    changed = changed_dependencies()
    if not changed:
        _verified.append(True)
        return
    if changed:
        raise DependencyChanged("LiteLLM sources the fast cost code relies on changed: %s" % ", ".join(changed))


#: keyword arguments that, when given and not None, always mean a hand-off:
#: checked before the fast function is even called, so the hand-off path
#: (the stock completion_cost calls cost_per_token with a usage object;
#: custom prices) costs one dict lookup per name, not a second argument binding
HANDED_OFF_KWARGS = {
    "completion_cost": ("custom_cost_per_token", "custom_cost_per_second", "requested_model_info_override",
                        "base_model", "pricing_provider"),
    "cost_per_token": ("usage_object", "custom_cost_per_token", "custom_cost_per_second",
                       "requested_model_info_override"),
}


def hand_off(fast: Callable[..., Any], original: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``fast`` as the engine's wrapper calls it: a ``Delegate`` of the
    original (the engine calls it outside its ``try``) for the keyword
    arguments that always mean a hand-off, checked before ``fast`` binds
    its arguments, and when ``fast`` returns HAND_OFF (its cheap answer for
    arguments it does not cover).  NotAccelerated goes on to the engine,
    which calls the original after its handler, not inside it (an exception
    the original raises carries no NotAccelerated ``__context__``).

    The engine's wrapper (``wrap=True``) checks the flag on each call (off,
    rollout, disabled by errors), samples timings, and falls back to the
    original on an error of our code, counting it against the flag.  The
    stock functions have effects before some of their exceptions (the
    provider resolver prints for an unknown model name, the price reader
    logs an unparseable price); from their first effect on, the fast paths
    mark LiteLLM's exceptions as the caller's (``callers_error``), so the
    engine raises them once, as stock does, instead of running the
    original on top (``_completion.py``, ``_base_cost.py``).
    """
    from ..patching.registry import Delegate
    from ._completion import HAND_OFF

    # argument errors name the function as the stock ones do (the engine
    # then runs the original, whose own TypeError is the one raised)
    fast.__name__ = original.__name__
    fast.__qualname__ = original.__qualname__

    rejects = HANDED_OFF_KWARGS[name]
    handoff = Delegate(original)

    def accelerated(*args: Any, **kwargs: Any) -> Any:
        for key in rejects:
            if kwargs.get(key) is not None:
                return handoff
        result = fast(*args, **kwargs)
        if result is HAND_OFF:
            return handoff
        return result

    accelerated.__name__ = original.__name__
    accelerated.__qualname__ = original.__qualname__
    accelerated.__doc__ = original.__doc__
    return accelerated


def build_base_cost(original: Any) -> Any:
    from ._base_cost import make_fast_token_base_cost

    _check()
    # no keyword pre-check: the fast function returns its Delegate itself
    fast = make_fast_token_base_cost(original, importlib.import_module(UTILS_MODULE))
    fast.__name__ = original.__name__
    fast.__qualname__ = original.__qualname__
    return fast


def _build_cost_function(index: int, name: str):
    def build(original: Any) -> Any:
        import litellm

        from ._completion import make_fast_cost_functions

        _check()
        fast = make_fast_cost_functions(importlib.import_module(COST_MODULE), litellm)[index]
        return hand_off(fast, original, name)

    return build


# Not shadow-safe: a fast path run beside the original (shadow mode) would
# repeat the original's effects: the resolver's print for an unknown name,
# the log record of an unparseable price, the cost breakdown written on the
# logging object.  In shadow mode the wrapper serves the original alone.
BASE_COST_PATCH = register(
    Patch(
        name="cost.token_base_cost",
        component="cost",
        flag=FLAG,
        target=BASE_COST_TARGET,
        build=build_base_cost,
        extra={"shadow_safe": False},
        description="_get_token_base_cost: the above-threshold key scan remembered per key set",
    )
)

def _cost_per_token_precheck() -> Any:
    from ..patching import guards

    return guards.pinned_binding_precheck(COST_MODULE, "cost_per_token", COST_PER_TOKEN_TARGET)


COMPLETION_COST_PATCH = register(
    Patch(
        name="cost.completion_cost",
        component="cost",
        flag=FLAG,
        target=COMPLETION_COST_TARGET,
        build=_build_cost_function(0, "completion_cost"),
        # stock completion_cost calls the module's cost_per_token, which the fast one
        # does in place: only while that is LiteLLM's or ours (a user's wrapper there
        # is called by the original)
        extra={"shadow_safe": False, "precheck": _cost_per_token_precheck},
        description="completion_cost: OpenAI/Azure chat completions priced in one pass",
    )
)

COST_PER_TOKEN_PATCH = register(
    Patch(
        name="cost.cost_per_token",
        component="cost",
        flag=FLAG,
        target=COST_PER_TOKEN_TARGET,
        build=_build_cost_function(1, "cost_per_token"),
        extra={"shadow_safe": False},
        description="cost_per_token: OpenAI/Azure token prices without the generic dispatch",
    )
)
