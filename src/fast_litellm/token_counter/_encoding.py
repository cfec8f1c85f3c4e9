"""The seam between the token counter and a tokenizer.

``ordinary_counter(name)`` returns ``count(text) -> int``: the number of
tokens ``name`` encodes ``text`` to with every special token treated as
ordinary text -- what LiteLLM's ``_encoding_count`` computes with
``len(encoding.encode(text, disallowed_special=()))``.

fast_litellm's own tokenizer (``fast_litellm.tokenizer``) is used when it is
importable and knows the encoding.  tiktoken is the fallback, used only
while developing against an unmerged tokenizer; it is also the test oracle.
``counter_source(name)`` says which one counts.
"""
from __future__ import annotations

import functools
import threading
from typing import Callable, Dict, Optional, Tuple
from .._forksafe import fresh_lock_after_fork

Counter = Callable[[str], int]

_LOCK = threading.Lock()
_COUNTERS: Dict[str, Tuple[Counter, str]] = {}
_RAW: Dict[str, Optional[Callable[..., int]]] = {}

fresh_lock_after_fork(globals(), "_LOCK")  # a parent thread holding it at a fork is gone in the child


def _raw_core_count(name: str) -> Optional[Callable[..., int]]:
    """Our tokenizer's C ``count(text, allowed_mask, disallowed_mask)`` for
    ``name``, or None.  With both masks None it is the ordinary count; it
    raises UnicodeEncodeError for a str with lone surrogates (callers then
    use ``ordinary_counter``, which repairs them as tiktoken does)."""
    try:
        from fast_litellm import tokenizer as ours  # type: ignore[attr-defined]

        encoding = ours.get_encoding(name)
    except Exception:  # noqa: BLE001 - no tokenizer, or not this encoding
        return None
    if getattr(encoding, "count_ordinary", None) is None:
        return None
    return getattr(getattr(encoding, "_core", None), "count", None)


def raw_batch_counter(name: str) -> Optional[Callable[..., list]]:
    """Our tokenizer's C ``count_batch(texts, None, None, num_threads)`` for
    ``name`` (ordinary counts of many texts in one C call), or None."""
    if raw_counter(name) is None:
        return None
    from fast_litellm import tokenizer as ours  # type: ignore[attr-defined]

    return getattr(getattr(ours.get_encoding(name), "_core", None), "count_batch", None)


def raw_counter(name: str) -> Optional[Callable[..., int]]:
    """See ``_raw_core_count``; loaded once per process."""
    try:
        return _RAW[name]
    except KeyError:
        pass
    source = counter_source(name)  # takes _LOCK itself: not under it (not reentrant)
    with _LOCK:
        if name not in _RAW:
            _RAW[name] = _raw_core_count(name) if source == "fast_litellm" else None
        return _RAW[name]


def _ours(name: str) -> Optional[Counter]:
    try:
        from fast_litellm import tokenizer as ours  # type: ignore[attr-defined]
    except ImportError:
        return None
    get_encoding = getattr(ours, "get_encoding", None)
    if get_encoding is None:
        return None
    try:
        encoding = get_encoding(name)
    except (KeyError, ValueError, ImportError, NotImplementedError, OSError):
        return None
    count_ordinary = getattr(encoding, "count_ordinary", None)
    core_count = getattr(getattr(encoding, "_core", None), "count", None)
    if count_ordinary is not None and core_count is not None:
        # The C count with no special-token masks; a str the C core cannot
        # take (lone surrogates) goes through count_ordinary's own repair.
        # (Asks the tokenizer for a public C-level entry: see docs.)
        def count(text: str) -> int:
            try:
                return core_count(text, None, None)
            except UnicodeEncodeError:
                return count_ordinary(text)

        return count
    if count_ordinary is not None:
        return count_ordinary  # the same count, without resolving special-token sets per call
    count = getattr(encoding, "count", None)
    if count is None:
        return None
    return functools.partial(count, disallowed_special=())


def _tiktoken(name: str) -> Counter:
    try:  # LiteLLM points TIKTOKEN_CACHE_DIR at its bundled vocabularies here
        import litellm.litellm_core_utils.default_encoding  # noqa: F401
    except ImportError:
        pass
    import tiktoken

    encode_ordinary = tiktoken.get_encoding(name).encode_ordinary

    def count(text: str) -> int:
        return len(encode_ordinary(text))

    return count


def _load(name: str) -> Tuple[Counter, str]:
    ours = _ours(name)
    if ours is not None:
        return ours, "fast_litellm"
    return _tiktoken(name), "tiktoken"


def ordinary_counter(name: str) -> Counter:
    """``count(text)`` for encoding ``name``, loaded once per process."""
    try:
        return _COUNTERS[name][0]
    except KeyError:
        pass
    with _LOCK:
        if name not in _COUNTERS:
            _COUNTERS[name] = _load(name)
        return _COUNTERS[name][0]


def counter_source(name: str) -> str:
    """"fast_litellm" or "tiktoken": the tokenizer behind ``ordinary_counter(name)``."""
    if name not in _COUNTERS:
        ordinary_counter(name)
    return _COUNTERS[name][1]
