"""Pure-Python twin of the C tokenizer core (csrc/tokenizer/{vocab,bpe,encoder}.c).

``TokenizerCore`` has the same constructor, methods and results as
``fast_litellm._native.TokenizerCore``: masks are bytes with one byte per
special token (or None), and encode/count return ``-(i + 1)`` instead of a
result when disallowed special token ``i`` occurs in the text.  A str that
cannot be UTF-8 encoded (lone surrogates) raises UnicodeEncodeError, like
the native core, so the Encoding class applies tiktoken's fix-up for both.

The merge is tiktoken's rule: merge the adjacent pair whose concatenation
has the lowest rank, leftmost on ties.  Short pieces use the literal list
algorithm; long pieces a heap of (rank, start) with lazy invalidation and
a linked list, so no input is quadratic.
"""
from __future__ import annotations

import base64
import heapq
import operator
from typing import Dict, List, Optional, Sequence, Tuple

from . import _pretokenize

SHORT_MAX = 64


def parse_tiktoken(data: bytes) -> Dict[bytes, int]:
    ranks: Dict[bytes, int] = {}
    for lineno, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token, validate=True)] = int(rank)
        except Exception as exc:
            raise ValueError("invalid vocabulary: malformed line %d" % lineno) from exc
    if not ranks:
        raise ValueError("invalid vocabulary: empty vocabulary")
    return ranks


def _merge_short(ranks: Dict[bytes, int], piece: bytes) -> List[int]:
    none = None
    bounds = list(range(len(piece) + 1))
    pair = [ranks.get(piece[i:i + 2], none) for i in range(len(piece) - 1)]
    while True:
        best = None
        at = -1
        for i, r in enumerate(pair):
            if r is not None and (best is None or r < best):
                best, at = r, i
        if best is None:
            break
        del bounds[at + 1]
        del pair[at]
        if at < len(pair):
            pair[at] = ranks.get(piece[bounds[at]:bounds[at + 2]])
        if at > 0:
            pair[at - 1] = ranks.get(piece[bounds[at - 1]:bounds[at + 1]])
    return bounds


def _merge_long(ranks: Dict[bytes, int], piece: bytes) -> List[int]:
    n = len(piece)
    nxt = list(range(1, n + 1))
    prv = list(range(-1, n - 1))
    rank: List[Optional[int]] = [ranks.get(piece[i:i + 2]) for i in range(n - 1)] + [None]
    heap: List[Tuple[int, int]] = [(r, i) for i, r in enumerate(rank) if r is not None]
    heapq.heapify(heap)
    alive = [True] * n
    while heap:
        r, left = heapq.heappop(heap)
        if not alive[left] or rank[left] != r:
            continue  # stale entry
        right = nxt[left]
        after = nxt[right]
        alive[right] = False
        nxt[left] = after
        if after < n:
            prv[after] = left
            rank[left] = ranks.get(piece[left:nxt[after]])
        else:
            rank[left] = None
        if rank[left] is not None:
            heapq.heappush(heap, (rank[left], left))
        before = prv[left]
        if before >= 0:
            rank[before] = ranks.get(piece[before:after])
            if rank[before] is not None:
                heapq.heappush(heap, (rank[before], before))
    bounds = []
    i = 0
    while i < n:
        bounds.append(i)
        i = nxt[i]
    bounds.append(n)
    return bounds


def byte_pair_merge(ranks: Dict[bytes, int], piece: bytes) -> List[int]:
    """Part boundaries [0, ..., len(piece)] after tiktoken's merge."""
    if len(piece) <= SHORT_MAX:
        return _merge_short(ranks, piece)
    return _merge_long(ranks, piece)


class TokenizerCore:
    """An immutable loaded encoding: the pure-Python twin of the C type."""

    def __init__(self, data: bytes, pattern: int, special_tokens: Sequence[Tuple[bytes, int]]):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("data must be bytes")
        if not (0 <= pattern <= 2):
            raise ValueError("pattern must be 0..2")
        self._ranks = parse_tiktoken(bytes(data))
        for b in range(256):
            if bytes([b]) not in self._ranks:
                raise ValueError("invalid vocabulary: vocabulary has no token for byte 0x%02x" % b)
        self._decoder = {r: t for t, r in self._ranks.items()}
        if len(self._decoder) != len(self._ranks):
            raise ValueError("invalid vocabulary: duplicate token or rank in vocabulary")
        self._pattern = pattern
        self._specials = [(bytes(b), int(r)) for b, r in special_tokens]
        self._special_str = [b.decode("utf-8") for b, _ in self._specials]
        self._special_decoder = {r: b for b, r in self._specials}

    # -- properties -------------------------------------------------------
    @property
    def n_tokens(self) -> int:
        return len(self._ranks)

    @property
    def max_rank(self) -> int:
        return max(self._decoder)

    # The C core keeps a shared piece cache; the twin has none, but the
    # same controls (so callers need not know which core they have).
    @property
    def cache_enabled(self) -> bool:
        return False

    def set_cache(self, on, tokens_too=False) -> None:
        return None

    def clear_cache(self) -> None:
        return None

    # -- helpers ----------------------------------------------------------
    def _selected(self, mask) -> List[int]:
        if mask is None:
            return []
        if not isinstance(mask, bytes) or len(mask) != len(self._specials):
            raise TypeError("mask must be None or bytes of length %d" % len(self._specials))
        return [i for i, m in enumerate(mask) if m]

    def _find_special(self, text: str, start: int, indexes: List[int],
                      cache: Optional[Dict[int, int]] = None) -> Tuple[int, int]:
        """Leftmost (offset, index) of a selected special at or after start.
        cache remembers each token's next occurrence (-1: none), so a text
        with many special tokens is still scanned in linear time."""
        best, best_i = -1, -1
        for i in indexes:
            at = cache.get(i) if cache is not None else None
            if at is None or (0 <= at < start):
                at = text.find(self._special_str[i], start)
                if cache is not None:
                    cache[i] = at
            if at >= 0 and (best < 0 or at < best or
                            (at == best and len(self._special_str[i]) > len(self._special_str[best_i]))):
                best, best_i = at, i
        return best, best_i

    def _piece_tokens(self, piece: bytes, out: Optional[List[int]]) -> int:
        r = self._ranks.get(piece)
        if r is not None:
            if out is not None:
                out.append(r)
            return 1
        bounds = byte_pair_merge(self._ranks, piece)
        if out is not None:
            ranks = self._ranks
            out.extend(ranks[piece[bounds[i]:bounds[i + 1]]] for i in range(len(bounds) - 1))
        return len(bounds) - 1

    def _ordinary(self, text: str, out: Optional[List[int]]) -> int:
        count = 0
        for piece in _pretokenize.split(self._pattern, text):
            count += self._piece_tokens(piece.encode("utf-8"), out)
        return count

    def _run(self, text, allowed, disallowed, out: Optional[List[int]]):
        if not isinstance(text, str):
            raise TypeError("text must be str, not %s" % type(text).__name__)
        text.encode("utf-8")  # UnicodeEncodeError for lone surrogates, like the C core
        allowed_i = self._selected(allowed)
        disallowed_i = self._selected(disallowed)
        if disallowed_i:
            at, i = self._find_special(text, 0, disallowed_i)
            if at >= 0:
                return -(i + 1)
        if not allowed_i:
            return self._ordinary(text, out)
        count, start = 0, 0
        cache: Dict[int, int] = {}
        while True:
            at, i = self._find_special(text, start, allowed_i, cache)
            end = len(text) if at < 0 else at
            count += self._ordinary(text[start:end], out)
            if at < 0:
                return count
            if out is not None:
                out.append(self._specials[i][1])
            count += 1
            start = at + len(self._special_str[i])

    # -- API (same as fast_litellm._native.TokenizerCore) ------------------
    def encode(self, text, allowed=None, disallowed=None):
        out: List[int] = []
        r = self._run(text, allowed, disallowed, out)
        return r if r < 0 else out

    def count(self, text, allowed=None, disallowed=None):
        return self._run(text, allowed, disallowed, None)

    def count_batch(self, texts, allowed, disallowed, num_threads):
        if not isinstance(num_threads, int) or not 1 <= num_threads <= 64:
            raise ValueError("num_threads must be between 1 and 64")
        texts = tuple(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError("texts[%d] must be str, not %s" % (i, type(t).__name__))
        return [self._run(t, allowed, disallowed, None) for t in texts]

    def encode_piece(self, piece) -> List[int]:
        piece = bytes(piece)
        out: List[int] = []
        if piece:
            self._piece_tokens(piece, out)
        return out

    @staticmethod
    def _id(token) -> int:
        """token as tiktoken's u32, which pyo3 reads through a C long."""
        token = operator.index(token)  # TypeError "... cannot be interpreted as an integer"
        if not -0x8000000000000000 <= token <= 0x7FFFFFFFFFFFFFFF:
            raise OverflowError("Python int too large to convert to C long")
        if token < 0 or token > 0xFFFFFFFF:
            raise OverflowError("out of range integral type conversion attempted")
        return token

    def _bytes_of(self, token) -> Optional[bytes]:
        token = self._id(token)
        b = self._decoder.get(token)
        return b if b is not None else self._special_decoder.get(token)

    def decode_bytes(self, tokens) -> bytes:
        ids = [self._id(t) for t in tokens]  # all converted first, as tiktoken
        parts = []
        for t in ids:
            b = self._bytes_of(t)
            if b is None:
                raise KeyError("Invalid token for decoding: %d" % t)
            parts.append(b)
        return b"".join(parts)

    def token_bytes(self, token) -> bytes:
        b = self._bytes_of(token)
        if b is None:
            raise KeyError(str(token))
        return b

    def rank(self, token_bytes) -> Optional[int]:
        return self._ranks.get(bytes(token_bytes))


def pretok_split(pattern: int, text: str) -> List[str]:
    """The pre-tokenizer alone (twin of _native.pretok_split)."""
    return _pretokenize.split(pattern, text)
