"""Drop-in fast ``litellm.token_counter`` (feature flag ``rust_token_counting``).

``make_fast_token_counter(original)`` returns a function with the signature
of LiteLLM's ``token_counter`` that returns exactly what the original
returns, or raises :class:`~fast_litellm.patching.registry.NotAccelerated`
for inputs it hands to the original (see ``_python.py`` for the list).
The patch engine wraps it and installs it over every binding of the
original (``patches.py``).

``implementation(kind)`` follows the project's twin convention: "python"
walks messages and formats tools in Python, "native" in C
(``csrc/binding/bind_token_counter.c``), with the Python walk taking any
input the C walk declines.  Tokenization is ``fast_litellm.tokenizer``'s.
"""
from __future__ import annotations

import types
from typing import Any, Callable, Optional

__all__ = ["make_fast_token_counter", "implementation", "tokenizer_source"]

_CORE: Optional[Any] = None


def _core() -> Any:
    global _CORE
    if _CORE is None:
        import litellm
        import litellm.utils as utils
        from litellm.litellm_core_utils import token_counter as tc_module

        from . import _encoding
        from ._python import TokenCounterCore

        _CORE = TokenCounterCore(litellm, tc_module, utils, _encoding.ordinary_counter,
                                 _encoding.raw_counter, _encoding.raw_batch_counter)
    return _CORE


def make_fast_token_counter(original: Optional[Callable[..., int]] = None, kind: Optional[str] = None,
                            handoff: Any = None) -> Callable[..., int]:
    """The fast ``token_counter``; ``original`` is accepted for the patch
    engine's ``build(original)`` and is not called here (the engine calls it
    on :class:`NotAccelerated`).  ``kind`` "python" forces the pure-Python
    walk; by default the C walk is used when the native core is loaded."""
    from .._native_loader import NATIVE
    from ._python import make_token_counter

    fast = make_token_counter(_core(), None if kind == "python" else NATIVE, handoff)
    if original is not None:
        fast.__doc__ = original.__doc__
        fast.__wrapped_original__ = original  # type: ignore[attr-defined]
    return fast


def tokenizer_source(encoding_name: str = "cl100k_base") -> str:
    """"fast_litellm" or "tiktoken": which tokenizer counts for the fast path."""
    from . import _encoding

    return _encoding.counter_source(encoding_name)


def implementation(kind: str) -> types.SimpleNamespace:
    from .._native_loader import check_kind, require_native

    check_kind(kind)
    if kind == "native":
        require_native("token_counter walk", "_tc_walk_messages", "_tc_format_tools")

    def make(original: Optional[Callable[..., int]] = None) -> Callable[..., int]:
        return make_fast_token_counter(original, kind)

    return types.SimpleNamespace(make_fast_token_counter=make)
