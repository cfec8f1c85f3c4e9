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


def _checked_fast(original: Callable[..., int], handoff: Any) -> Callable[..., Any]:
    from . import _pins, make_fast_token_counter
    from .. import tokenizer  # noqa: F401

    # ^ imported here, when the patch is applied (~7 ms, next to LiteLLM's
    # own import), not lazily by the first count: a first count on a worker
    # thread imported it, and a fork meanwhile (gunicorn --preload) left the
    # module's import lock held forever in the child, whose first count hung.
    changed = _pins.changed_helpers()
    if changed:
        raise RuntimeError(
            "LiteLLM helpers the fast token_counter reproduces changed: %s" % ", ".join(changed)
        )
    return make_fast_token_counter(original, handoff=handoff)


def build(original: Callable[..., int]) -> Callable[..., Any]:
    """The core function: a handed-off call goes to the stock core."""
    from ..patching.registry import Delegate

    return _checked_fast(original, Delegate(original))


def build_utils(original: Callable[..., int]) -> Callable[..., Any]:
    """``litellm.utils.token_counter``: stock, it checks
    ``disable_token_counter`` and calls the core function it looks up on
    each call (``litellm.litellm_core_utils.token_counter.token_counter``).
    A handed-off call goes straight to the stock core when that lookup finds
    our core patch (the stock core checks the flag too, and our core layer
    would only hand the call on); to the stock utils function otherwise."""
    import importlib

    from ..patching.registry import Delegate, original_if_ours

    core_module = importlib.import_module(CORE_TARGET.split(":")[0])

    def handed_off(*args: Any, **kwargs: Any) -> int:
        current = core_module.token_counter
        # only our own wrapper is looked through: a user's functools.wraps wrapper
        # over it copies its marks, and is the user's code (stock calls it)
        stock_core = original_if_ours(current)
        if stock_core is not None and getattr(current, "__fast_litellm_patch__", None) == CORE_PATCH.name:
            return stock_core(*args, **kwargs)
        return original(*args, **kwargs)

    return _checked_fast(original, Delegate(handed_off))


def utils_precheck() -> Any:
    """The utils patch's per-call check (the engine's ``extra["precheck"]``): the
    stock utils function calls whatever ``litellm.litellm_core_utils.token_counter.
    token_counter`` is at the call, so the fast path (which counts as LiteLLM's core
    does) serves only while that is LiteLLM's core or our wrapper of it; a user's
    function there (a ``functools.wraps`` wrapper over ours or LiteLLM's, a
    replacement) hands the call to the stock utils function, which calls it."""
    from ..patching import guards

    module, attribute = CORE_TARGET.split(":")
    return guards.pinned_binding_precheck(module, attribute, CORE_TARGET)


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
        build=build_utils,
        extra={"shadow_safe": True, "precheck": utils_precheck},
        description="litellm.utils.token_counter (= litellm.token_counter), same fast path",
    )
)
