"""Patches replacing LiteLLM's ``token_counter`` (flag ``rust_token_counting``).

``litellm.token_counter`` is ``litellm.utils.token_counter``, a wrapper that
checks ``litellm.disable_token_counter`` and calls the core
``litellm.litellm_core_utils.token_counter.token_counter`` (looked up afresh
on each call).  Both are patched, each falling back to its own original;
the engine's identity scan replaces every other module global bound to
either (``from litellm.utils import token_counter`` in ~20 LiteLLM modules,
``from litellm import token_counter`` in router pre-call checks and the
proxy, ``from litellm.litellm_core_utils.token_counter import token_counter``
in compression and the OpenAI helpers).
"""
from __future__ import annotations

from typing import Any, Callable

from ..patching.registry import Patch, register

FLAG = "rust_token_counting"
CORE_TARGET = "litellm.litellm_core_utils.token_counter:token_counter"
UTILS_TARGET = "litellm.utils:token_counter"


def build(original: Callable[..., int]) -> Callable[..., Any]:
    from . import _pins, make_fast_token_counter

    changed = _pins.changed_helpers()
    if changed:
        raise RuntimeError(
            "LiteLLM helpers the fast token_counter reproduces changed: %s" % ", ".join(changed)
        )
    return make_fast_token_counter(original)


CORE_PATCH = register(
    Patch(
        name="token_counter",
        component="token_counting",
        flag=FLAG,
        target=CORE_TARGET,
        build=build,
        extra={"shadow_safe": True},  # no side effects: may run beside the original
        description="litellm.litellm_core_utils.token_counter.token_counter: cached per-model "
        "decisions, in-place message walk, fast_litellm tokenizer",
    )
)

UTILS_PATCH = register(
    Patch(
        name="token_counter_utils",
        component="token_counting",
        flag=FLAG,
        target=UTILS_TARGET,
        build=build,
        extra={"shadow_safe": True},
        description="litellm.utils.token_counter (= litellm.token_counter), same fast path",
    )
)
