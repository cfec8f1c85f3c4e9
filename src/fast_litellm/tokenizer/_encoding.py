"""Encoding: tiktoken 0.14.0's Encoding API over either core twin.

Policy lives here, once for both twins: resolving allowed/disallowed
special tokens the way tiktoken does, raising its exact ValueError, the
lone-surrogate fix-up (tiktoken catches UnicodeEncodeError and round-trips
the text through UTF-16 with surrogatepass/replace), and count/count_batch,
which never build a list of ids.
"""
from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from typing import AbstractSet, Any, Collection, Dict, FrozenSet, List, Optional, Sequence, Tuple, Union

_DEFAULT_THREADS = max(1, min(8, os.cpu_count() or 1))
MAX_THREADS = 64  # count_batch's num_threads bound (the count CLI's --threads too)


def _default_threads() -> int:
    """count_batch's thread count when the caller names none: one thread while
    the batch_token_counting flag (FAST_LITELLM_BATCH_TOKEN_COUNTING) is off."""
    from .._native_loader import flag_enabled

    return _DEFAULT_THREADS if flag_enabled("batch_token_counting") else 1


def _fix_surrogates(text: str) -> str:
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def raise_disallowed_special_token(token: str):
    raise ValueError(
        f"Encountered text corresponding to disallowed special token {token!r}.\n"
        "If you want this text to be encoded as a special token, "
        f"pass it to `allowed_special`, e.g. `allowed_special={{{token!r}, ...}}`.\n"
        f"If you want this text to be encoded as normal text, disable the check for this token "
        f"by passing `disallowed_special=(enc.special_tokens_set - {{{token!r}}})`.\n"
        "To disable this check for all special tokens, pass `disallowed_special=()`.\n"
    )


@functools.lru_cache(maxsize=128)
def _special_token_regex(tokens: FrozenSet[str]):
    # tiktoken's: the `regex` module when installed, else `re` (their
    # errors differ, e.g. for a non-str token or text)
    try:
        import regex as rx
    except ImportError:
        rx = re
    inner = "|".join(rx.escape(token) for token in tokens)
    return rx.compile(f"({inner})")


def _check_text(text: Any, disallowed: Optional[FrozenSet[str]] = None) -> None:
    """tiktoken's TypeError for a text that is not a str: with strings to
    check (``disallowed``, resolved; even empty) its regex search's, else
    its core's (pyo3)."""
    if not isinstance(text, str):
        if disallowed is not None:
            _special_token_regex(disallowed).search(text)  # raises
        raise _not_instance(text, "str")


def _not_instance(obj: Any, of: str) -> TypeError:
    """pyo3's TypeError for an argument of the wrong type (tiktoken's core)."""
    what = "'None'" if obj is None else "'%s' object" % type(obj).__name__
    return TypeError("%s is not an instance of '%s'" % (what, of))


# tiktoken 0.14.0's regex engine (fancy-regex) keeps one backtracking entry
# per character its `\s+(?!\S)` alternative runs over, at most 1 000 000
# with the alternation's own: over a whitespace run of this many characters
# encode() raises this ValueError (encode_ordinary panics instead).
RUN_LIMIT = 999_999
REGEX_STACK_ERROR = ("Regex error while tokenizing: Error executing regex: "
                     "Max stack size exceeded for backtracking")
_WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_LONG_RUN = re.compile("[%s]{%d,}" % (_WHITE_SPACE, RUN_LIMIT))


def _split_for(kind: Optional[str]):
    from .._native_loader import NATIVE

    if kind != "python" and NATIVE is not None and hasattr(NATIVE, "pretok_split"):
        return NATIVE.pretok_split
    from ._pretokenize import split

    return split


def regex_stack_overflows(pattern: int, stretch: str, split) -> bool:
    r"""Whether tiktoken's regex runs `\s+(?!\S)` over RUN_LIMIT or more
    whitespace characters in this stretch (text between allowed specials).
    At a piece starting in a whitespace run, an earlier alternative takes
    the run without that loop when the run ends the stretch (`\s++$`; not in
    o200k's pattern) or holds a newline (cl100k's `\s*[\r\n]`, o200k's
    `\s*[\r\n]+`; not in r50k's); otherwise the loop runs to the run's end."""
    runs = [m.span() for m in _LONG_RUN.finditer(stretch)]
    if not runs:
        return False
    pos, r = 0, 0
    for piece in split(pattern, stretch):
        while r < len(runs) and runs[r][1] - pos < RUN_LIMIT:
            r += 1
        if r == len(runs):
            return False
        start, end = runs[r]
        if start <= pos:
            at_end = end == len(stretch)
            newline = pattern != 0 and ("\n" in stretch[pos:end] or "\r" in stretch[pos:end])
            if not newline and not (at_end and pattern != 2):
                return True
        pos += len(piece)
    return False


#: iterables whose items are not texts (count_batch refuses them by name)
_NOT_A_BATCH = (str, bytes, bytearray, memoryview, Mapping)


def _check_num_threads(num_threads: Any) -> None:
    """The check of ThreadPoolExecutor(num_threads), which tiktoken's batch
    methods make before any work (ours run serially, in C for count_batch)."""
    if num_threads is not None and num_threads <= 0:
        raise ValueError("max_workers must be greater than 0")


def _check_tokens(tokens: Any) -> None:
    """tiktoken's core takes tokens as a Vec: a sequence as PySequence_Check
    sees it (a type with __getitem__, not a dict: no set, iterator or
    generator) and not a str; both twins' cores would iterate any of those."""
    if type(tokens) is list or type(tokens) is tuple:
        return
    if isinstance(tokens, str):
        raise TypeError("Can't extract `str` to `Vec`")
    if isinstance(tokens, dict) or not hasattr(type(tokens), "__getitem__"):
        raise _not_instance(tokens, "Sequence")


def _allowed_set(allowed_special: Any) -> FrozenSet[str]:
    """allowed_special as tiktoken's core takes it: a set or frozenset of str
    (its TypeError otherwise)."""
    if not isinstance(allowed_special, (set, frozenset)):
        raise _not_instance(allowed_special, "set")
    for item in allowed_special:
        if not isinstance(item, str):
            raise _not_instance(item, "str")
    return frozenset(allowed_special)


class _HandedOut(functools.cached_property):
    """tiktoken's ``functools.cached_property`` for ``special_tokens_set``,
    which also notes when the set leaves the object.  tiktoken's
    ``encode(..., disallowed_special="all")`` reads that cached set, so a
    caller who adds to it, removes from it or assigns another changes what
    is disallowed.  ``count``'s fast path uses the mask made at load; from the
    set's first read (or assignment) on, the instance's ``count`` checks the
    set first (``_count_held``), so until then ``count`` pays nothing."""

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        value = super().__get__(instance, owner)
        if instance is not None:
            _HandedOut.handed_out(instance)
        return value

    @staticmethod
    def handed_out(instance: "Encoding") -> None:
        d = instance.__dict__
        if "count" not in d:
            d["count"] = instance._count_held


class Encoding:
    """A loaded encoding with tiktoken's API (plus count and count_batch)."""

    def __init__(self, name: str, *, core: Any, special_tokens: Dict[str, int],
                 explicit_n_vocab: Optional[int] = None):
        self.name = name
        self._core = core
        self._special_tokens = dict(special_tokens)
        self._special_names = list(special_tokens)  # mask order == core's order
        self._special_index = {s: i for i, s in enumerate(self._special_names)}
        self.max_token_value = max(core.max_rank, max(special_tokens.values(), default=0))
        if explicit_n_vocab:
            assert core.n_tokens + len(special_tokens) == explicit_n_vocab
            assert self.max_token_value == explicit_n_vocab - 1
        self._special_token_values = set(special_tokens.values())
        self._masks: Dict[FrozenSet[str], Optional[bytes]] = {}
        self._all_mask = self._mask(frozenset(self._special_names))
        self._core_count = core.count

    def __repr__(self) -> str:
        return f"<Encoding {self.name!r}>"

    def __reduce__(self):
        from . import _unpickle_encoding

        return (_unpickle_encoding, (getattr(self, "_kind", None), self.name))

    # ---- properties ----------------------------------------------------------
    @property
    def eot_token(self) -> int:
        return self._special_tokens["<|endoftext|>"]

    @_HandedOut
    def special_tokens_set(self) -> set:
        return set(self._special_tokens.keys())

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name == "special_tokens_set":  # tiktoken's encode reads whatever is set
            _HandedOut.handed_out(self)

    def _count_held(self, text: str, *, allowed_special: Union[str, AbstractSet[str]] = set(),  # noqa: B006
                    disallowed_special: Union[str, Collection[str]] = "all") -> int:
        """``count`` once ``special_tokens_set`` is out (see _HandedOut): the
        defaults' fast path only while the set still holds exactly our
        special tokens, else tiktoken's reading of it (``_resolve``)."""
        if disallowed_special == "all" and self.special_tokens_set != self._special_index.keys():
            allowed, disallowed = self._resolve(text, allowed_special, disallowed_special)
            return self._call(self._core.count, text, allowed, disallowed)
        return Encoding.count(self, text, allowed_special=allowed_special, disallowed_special=disallowed_special)

    @property
    def n_vocab(self) -> int:
        return self.max_token_value + 1

    def is_special_token(self, token: int) -> bool:
        assert isinstance(token, int)
        return token in self._special_token_values

    # ---- special-token policy --------------------------------------------------
    def _mask(self, names: FrozenSet[str]) -> Optional[bytes]:
        """Mask of the special tokens among names (None when there are none)."""
        mask = self._masks.get(names, False)
        if mask is False:
            selected = [s in names for s in self._special_names]
            mask = bytes(selected) if any(selected) else None
            if len(self._masks) < 256:
                self._masks[names] = mask
        return mask  # type: ignore[return-value]

    def _resolve(self, text: Any, allowed_special, disallowed_special, strict: bool = False):
        """(allowed mask, disallowed mask) as tiktoken resolves them; raises
        tiktoken's ValueError for a disallowed string that is not one of our
        special tokens (the masks cover the special tokens themselves).
        ``strict``: the text is not repaired (encode_to_numpy), so its
        UnicodeEncodeError comes before an allowed_special TypeError."""
        if allowed_special == "all":
            allowed_special = self.special_tokens_set
        if disallowed_special == "all":
            disallowed_special = self.special_tokens_set - allowed_special
        disallowed_mask = None
        if disallowed_special:
            if not isinstance(disallowed_special, frozenset):
                disallowed_special = frozenset(disallowed_special)
            if not isinstance(text, str):
                _check_text(text, disallowed_special)
            if disallowed_special and disallowed_special <= self._special_index.keys():
                disallowed_mask = self._mask(disallowed_special)
            else:
                # an empty set from a truthy argument (a spent iterator) is
                # tiktoken's regex "()": it matches '' in every text
                match = _special_token_regex(disallowed_special).search(text)
                if match:
                    raise_disallowed_special_token(match.group())
        elif not isinstance(text, str):
            _check_text(text)  # tiktoken's core takes the text before allowed_special
        if type(allowed_special) is frozenset and allowed_special in self._masks:
            return self._masks[allowed_special], disallowed_mask  # checked when cached
        try:
            allowed = _allowed_set(allowed_special)
        except TypeError:
            if disallowed_mask is not None:  # tiktoken's special check comes first
                self._call(self._core.count, text, None, disallowed_mask, ordinary=True)
            if strict:
                text.encode("utf-8")  # then its core takes the text
            raise
        return self._mask(allowed), disallowed_mask

    def _call(self, method, text, allowed_mask, disallowed_mask, ordinary=False):
        try:
            result = method(text, allowed_mask, disallowed_mask)
        except UnicodeEncodeError:
            text = _fix_surrogates(text)
            result = method(text, allowed_mask, disallowed_mask)
        if type(result) is int and result < 0:
            raise_disallowed_special_token(self._special_names[-result - 1])
        if len(text) >= RUN_LIMIT and not ordinary:
            self._check_regex_stack(text, allowed_mask)
        return result

    def _check_regex_stack(self, text: str, allowed_mask: Optional[bytes]) -> None:
        """tiktoken's ValueError for a whitespace run its regex engine cannot
        backtrack over (see regex_stack_overflows), in any stretch."""
        if not _LONG_RUN.search(text):
            return
        from . import _registry

        pattern = _registry.ENCODINGS[self.name].pattern
        split = _split_for(getattr(self, "_kind", None))
        allowed = [self._special_names[i] for i, on in enumerate(allowed_mask or b"") if on]
        start, n = 0, len(text)
        while start <= n:
            at, length = n, 0  # leftmost allowed special (longest on a tie)
            for name in allowed:
                i = text.find(name, start)
                if 0 <= i and (i < at or (i == at and len(name) > length)):
                    at, length = i, len(name)
            if at - start >= RUN_LIMIT and regex_stack_overflows(pattern, text[start:at], split):
                raise ValueError(REGEX_STACK_ERROR)
            if at == n:
                return
            start = at + length

    # ---- encoding ----------------------------------------------------------------
    def encode_ordinary(self, text: str) -> List[int]:
        _check_text(text)
        return self._call(self._core.encode, text, None, None, ordinary=True)

    def encode(self, text: str, *, allowed_special: Union[str, AbstractSet[str]] = set(),  # noqa: B006
               disallowed_special: Union[str, Collection[str]] = "all") -> List[int]:
        allowed, disallowed = self._resolve(text, allowed_special, disallowed_special)
        return self._call(self._core.encode, text, allowed, disallowed)

    def count(self, text: str, *, allowed_special: Union[str, AbstractSet[str]] = set(),  # noqa: B006
              disallowed_special: Union[str, Collection[str]] = "all") -> int:
        """len(self.encode(text, ...)), without building the list."""
        if (not allowed_special and type(allowed_special) is set
                and (not disallowed_special or disallowed_special == "all")):
            # the common cases (tiktoken's defaults; LiteLLM's disallowed_special=()),
            # kept short: this path sets the per-call latency
            mask = self._all_mask if disallowed_special else None
            try:
                result = self._core_count(text, None, mask)
                if result >= 0:
                    if len(text) >= RUN_LIMIT:
                        self._check_regex_stack(text, None)
                    return result
            except UnicodeEncodeError:
                pass
            except TypeError:
                _check_text(text, frozenset(self._special_names) if disallowed_special else None)
                raise
            return self._call(self._core.count, text, None, mask)
        allowed, disallowed = self._resolve(text, allowed_special, disallowed_special)
        return self._call(self._core.count, text, allowed, disallowed)

    def count_ordinary(self, text: str) -> int:
        """len(self.encode_ordinary(text)), without building the list."""
        try:
            return self._core_count(text, None, None)
        except UnicodeEncodeError:
            return self._call(self._core.count, text, None, None, ordinary=True)
        except TypeError:
            _check_text(text)
            raise

    def encode_ordinary_batch(self, text: List[str], *, num_threads: int = 8) -> List[List[int]]:
        _check_num_threads(num_threads)
        return [self.encode_ordinary(t) for t in text]

    def _batch_specials(self, allowed_special: Any, disallowed_special: Any) -> Tuple[Any, FrozenSet[str]]:
        """The special-token arguments as tiktoken's encode_batch resolves them
        once for the whole batch ("all" read from special_tokens_set, the
        disallowed ones as a frozenset, so an iterator is read once)."""
        if allowed_special == "all":
            allowed_special = self.special_tokens_set
        if disallowed_special == "all":
            disallowed_special = self.special_tokens_set - allowed_special
        if not isinstance(disallowed_special, frozenset):
            disallowed_special = frozenset(disallowed_special)
        return allowed_special, disallowed_special

    def encode_batch(self, text: List[str], *, num_threads: int = 8,
                     allowed_special: Union[str, AbstractSet[str]] = set(),  # noqa: B006
                     disallowed_special: Union[str, Collection[str]] = "all") -> List[List[int]]:
        allowed_special, disallowed_special = self._batch_specials(allowed_special, disallowed_special)
        _check_num_threads(num_threads)
        return [self.encode(t, allowed_special=allowed_special, disallowed_special=disallowed_special)
                for t in text]

    def count_batch(self, texts: Sequence[str], *, num_threads: Optional[int] = None,
                    allowed_special: Union[str, AbstractSet[str]] = set(),  # noqa: B006
                    disallowed_special: Union[str, Collection[str]] = "all") -> List[int]:
        """[len(ids) for ids in self.encode_batch(texts, ...)] (the special-token
        arguments resolved once, as encode_batch does), on num_threads threads
        in C (GIL released), without building the lists."""
        if not isinstance(texts, (list, tuple)):
            # a str, bytes or mapping iterates as characters, ints or keys:
            # counting those would be a wrong answer, not a batch
            if isinstance(texts, _NOT_A_BATCH) or not hasattr(texts, "__iter__"):
                raise TypeError("texts must be a list of str, not %s" % type(texts).__name__)
            texts = list(texts)
        if num_threads is None:
            num_threads = _default_threads()
        if not isinstance(num_threads, int) or isinstance(num_threads, bool):
            raise TypeError("num_threads must be int, not %s" % type(num_threads).__name__)
        num_threads = int.__index__(num_threads)  # an int subclass's own comparisons never decide
        if not 1 <= num_threads <= MAX_THREADS:
            raise ValueError("num_threads must be between 1 and %d, got %d" % (MAX_THREADS, num_threads))
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                if i:
                    # encode_batch encodes the texts in order: an error of
                    # one before this (a disallowed special token) comes first
                    self.count_batch(texts[:i], num_threads=num_threads, allowed_special=allowed_special,
                                     disallowed_special=disallowed_special)
                raise TypeError("texts[%d] must be str, not %s" % (i, type(t).__name__))
        if (disallowed_special == "all" and not allowed_special and type(allowed_special) is set
                and "special_tokens_set" not in self.__dict__):
            allowed, disallowed = None, self._all_mask
        else:
            # resolved once, as encode_batch does (an iterator is read once)
            allowed_special, disallowed_special = self._batch_specials(allowed_special, disallowed_special)
            # tiktoken checks each text in turn; a non-special disallowed
            # string raises on the first text that holds it.
            allowed = disallowed = None
            for t in texts:
                allowed, disallowed = self._resolve(t, allowed_special, disallowed_special)
            if not texts:
                return []
        try:
            counts = self._core.count_batch(texts, allowed, disallowed, num_threads)
        except UnicodeEncodeError:
            fixed = []
            for t in texts:
                try:
                    t.encode("utf-8")
                except UnicodeEncodeError:
                    t = _fix_surrogates(t)
                fixed.append(t)
            texts = fixed  # what was counted: the regex-stack check reads the same text
            counts = self._core.count_batch(texts, allowed, disallowed, num_threads)
        for t, c in zip(texts, counts):
            if c < 0:
                raise_disallowed_special_token(self._special_names[-c - 1])
            if len(t) >= RUN_LIMIT:
                self._check_regex_stack(t, allowed)
        return counts

    def encode_single_token(self, text_or_bytes: Union[str, bytes]) -> int:
        if isinstance(text_or_bytes, str):
            key = text_or_bytes.encode("utf-8")
        elif isinstance(text_or_bytes, bytes):
            key = text_or_bytes
        else:
            raise _not_instance(text_or_bytes, "bytes")
        rank = self._core.rank(key)
        if rank is not None:
            return rank
        try:
            name = key.decode("utf-8")
        except UnicodeDecodeError:
            name = None
        if name in self._special_tokens:
            return self._special_tokens[name]
        raise KeyError(key)

    def _encode_single_piece(self, text_or_bytes: Union[str, bytes]) -> List[int]:
        if isinstance(text_or_bytes, str):
            text_or_bytes = text_or_bytes.encode("utf-8")
        elif not isinstance(text_or_bytes, bytes):
            raise _not_instance(text_or_bytes, "bytes")
        return self._core.encode_piece(text_or_bytes)

    def encode_to_numpy(self, text: str, *, allowed_special: Union[str, AbstractSet[str]] = set(),  # noqa: B006
                        disallowed_special: Union[str, Collection[str]] = "all"):
        """encode() as a numpy uint32 array; like tiktoken's, without the
        lone-surrogate fix-up (UnicodeEncodeError, after the special check)."""
        allowed, disallowed = self._resolve(text, allowed_special, disallowed_special, strict=True)
        import numpy as np

        try:
            ids = self._core.encode(text, allowed, disallowed)
        except UnicodeEncodeError:
            # tiktoken checks disallowed specials on the text before its core fails
            self._call(self._core.count, text, None, disallowed, ordinary=True)
            raise
        if type(ids) is int:
            raise_disallowed_special_token(self._special_names[-ids - 1])
        if len(text) >= RUN_LIMIT:
            self._check_regex_stack(text, allowed)
        return np.array(ids, dtype=np.uint32)

    # ---- decoding ------------------------------------------------------------------
    def decode_bytes(self, tokens: Sequence[int]) -> bytes:
        _check_tokens(tokens)
        return self._core.decode_bytes(tokens)

    def decode(self, tokens: Sequence[int], errors: str = "replace") -> str:
        _check_tokens(tokens)
        return self._core.decode_bytes(tokens).decode("utf-8", errors=errors)

    def decode_single_token_bytes(self, token: int) -> bytes:
        return self._core.token_bytes(token)

    def decode_tokens_bytes(self, tokens: Sequence[int]) -> List[bytes]:
        return [self.decode_single_token_bytes(token) for token in tokens]

    def decode_with_offsets(self, tokens: Sequence[int]) -> Tuple[str, List[int]]:
        """(text, offset of each token in it), as tiktoken: a token's offset
        counts the characters started before it (a token that begins inside
        a character gets that character's index); the text is decoded
        strictly (UnicodeDecodeError for invalid UTF-8)."""
        parts = self.decode_tokens_bytes(tokens)
        offsets = []
        chars = 0  # characters started so far: bytes that are not continuation bytes
        for part in parts:
            inside = 0x80 <= part[0] < 0xC0
            offsets.append(chars - 1 if inside and chars else chars)
            chars += sum(1 for b in part if not 0x80 <= b < 0xC0)
        return b"".join(parts).decode("utf-8", errors="strict"), offsets

    def decode_batch(self, batch: Sequence[Sequence[int]], *, errors: str = "replace",
                     num_threads: int = 8) -> List[str]:
        _check_num_threads(num_threads)
        return [self.decode(t, errors=errors) for t in batch]

    def decode_bytes_batch(self, batch: Sequence[Sequence[int]], *, num_threads: int = 8) -> List[bytes]:
        _check_num_threads(num_threads)
        return [self.decode_bytes(t) for t in batch]

    def token_byte_values(self) -> List[bytes]:
        """Every ordinary token's bytes, sorted (as tiktoken returns them)."""
        values = []
        specials = self._special_token_values  # p50k's <|endoftext|> (50256) is among the ranks
        for r in range(self._core.max_rank + 1):
            if r in specials:
                continue
            try:
                values.append(self._core.token_bytes(r))
            except KeyError:
                continue
        return sorted(values)
