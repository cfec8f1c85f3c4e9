"""Pure-Python twin of csrc/tokenizer/pretokenize.c: tiktoken-exact pre-tokenization.

Interface (stable; the Encoding class and the tests use these names):

    PATTERN_R50K, PATTERN_CL100K, PATTERN_O200K = 0, 1, 2   # == fl_pattern_id
    ENCODING_PATTERN: dict encoding name -> pattern id
    pattern_id(name_or_id) -> int        # "cl100k_base" / "cl100k" / 1 -> 1
    next_end(pattern, text, pos) -> int  # end (str index) of the piece at pos
    spans(pattern, text) -> iterator of (start, end) str indices
    split(pattern, text) -> list[str]    # the pieces, concatenating to text

`pattern` is a pattern id or any name pattern_id() accepts. Positions are
indices into the str (code points), where the C scanners use UTF-8 byte
offsets; the pieces are the same. Text is a str without lone surrogates
(tiktoken replaces them with U+FFFD before splitting).

This is the readable specification of the scanners: each function resolves the
alternatives of one tiktoken 0.14.0 regex in order, with Unicode 16.0.0 classes
from _unicode_data (generated from unicodedata2, like the C tables). See the
comment at the top of pretokenize.c for why each rule gives the regex's match.
"""
from ._unicode_data import LL, LM, LO, LT, LU, M, N, WS, L, char_class

PATTERN_R50K, PATTERN_CL100K, PATTERN_O200K = 0, 1, 2

ENCODING_PATTERN = {
    "gpt2": PATTERN_R50K,
    "r50k_base": PATTERN_R50K,
    "p50k_base": PATTERN_R50K,
    "p50k_edit": PATTERN_R50K,
    "cl100k_base": PATTERN_CL100K,
    "o200k_base": PATTERN_O200K,
    "o200k_harmony": PATTERN_O200K,
}
_SHORT_NAMES = {"r50k": PATTERN_R50K, "cl100k": PATTERN_CL100K, "o200k": PATTERN_O200K}

_WLN = WS | L | N
_UP = LU | LT | LM | LO | M  # o200k [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
_LOW = LL | LM | LO | M  # o200k [\p{Ll}\p{Lm}\p{Lo}\p{M}]
_BOTH = _UP & _LOW
_NEWLINES = "\r\n"
# What each contraction letter matches: case-insensitively, U+017F folds to s.
_FOLD = {c: c for c in "sdmtlvre"}
_FOLD_IGNORE_CASE = dict(_FOLD, **{c.upper(): c for c in "sdmtlvre"}, **{"\u017f": "s"})


def pattern_id(name_or_id):
    """Pattern id for a pattern id, a short name ("cl100k") or an encoding name."""
    if isinstance(name_or_id, int) and not isinstance(name_or_id, bool):
        if 0 <= name_or_id <= PATTERN_O200K:
            return name_or_id
        raise ValueError("unknown pattern id %r" % (name_or_id,))
    if isinstance(name_or_id, str):
        found = ENCODING_PATTERN.get(name_or_id, _SHORT_NAMES.get(name_or_id))
        if found is not None:
            return found
        raise ValueError(
            "unknown pattern %r; known: %s"
            % (name_or_id, ", ".join(sorted(ENCODING_PATTERN) + sorted(_SHORT_NAMES)))
        )
    raise TypeError("pattern must be a str or int, not %s" % type(name_or_id).__name__)


def _cls(text, i):
    return char_class(text[i]) if i < len(text) else 0


def _run(text, i, mask):
    """End of the run of characters whose class intersects mask, from i."""
    n = len(text)
    while i < n and char_class(text[i]) & mask:
        i += 1
    return i


def _run_other(text, i):
    """End of the run of [^\\s\\p{L}\\p{N}] from i."""
    n = len(text)
    while i < n and not char_class(text[i]) & _WLN:
        i += 1
    return i


def _run_chars(text, i, chars):
    n = len(text)
    while i < n and text[i] in chars:
        i += 1
    return i


def _numbers(text, i, most):
    n = len(text)
    end = min(n, i + most)
    while i < end and char_class(text[i]) & N:
        i += 1
    return i


def _whitespace(text, pos):
    """(end, start of last char, end of last \\r or \\n or 0) of the W run at pos."""
    n, i, last_newline_end = len(text), pos, 0
    while i < n and char_class(text[i]) & WS:
        if text[i] in _NEWLINES:
            last_newline_end = i + 1
        i += 1
    return i, i - 1, last_newline_end


def _whitespace_not_at_end(end, last_start, pos):
    """\\s+(?!\\S) backtracks one char; a single char is \\s / \\s+."""
    return last_start if last_start > pos else end


def _contraction(text, i, ignore_case):
    """Length of '(?:[sdmt]|ll|ve|re) at i (case-insensitive: (?i:...)), or 0."""
    if i >= len(text) or text[i] != "'":
        return 0
    fold = _FOLD_IGNORE_CASE if ignore_case else _FOLD
    a = fold.get(text[i + 1]) if i + 1 < len(text) else None
    if a in ("s", "d", "m", "t"):
        return 2
    b = fold.get(text[i + 2]) if i + 2 < len(text) else None
    if (a, b) in (("l", "l"), ("v", "e"), ("r", "e")):
        return 3
    return 0


def _next_r50k(text, pos):
    # '(?:[sdmt]|ll|ve|re)
    n = _contraction(text, pos, False)
    if n:
        return pos + n
    # ` ?\p{L}++ | ?\p{N}++ | ?[^\s\p{L}\p{N}]++`
    start = pos + 1 if text[pos] == " " and pos + 1 < len(text) else pos
    cls = char_class(text[start])
    if cls & L:
        return _run(text, start, L)
    if cls & N:
        return _run(text, start, N)
    if not cls & WS:
        return _run_other(text, start)
    # \s++$ | \s+(?!\S) | \s
    end, last_start, _ = _whitespace(text, pos)
    if end == len(text):
        return end
    return _whitespace_not_at_end(end, last_start, pos)


def _next_cl100k(text, pos):
    # '(?i:[sdmt]|ll|ve|re)
    n = _contraction(text, pos, True)
    if n:
        return pos + n
    c = text[pos]
    cls = char_class(c)
    # [^\r\n\p{L}\p{N}]?+\p{L}++
    if cls & L:
        return _run(text, pos, L)
    if not cls & (L | N) and c not in _NEWLINES and _cls(text, pos + 1) & L:
        return _run(text, pos + 1, L)
    # \p{N}{1,3}+
    if cls & N:
        return _numbers(text, pos, 3)
    #  ?[^\s\p{L}\p{N}]++[\r\n]*+
    start = pos
    if c == " " and pos + 1 < len(text) and not _cls(text, pos + 1) & _WLN:
        start = pos + 1
    if not char_class(text[start]) & _WLN:
        return _run_chars(text, _run_other(text, start), _NEWLINES)
    # \s++$ | \s*[\r\n] | \s+(?!\S) | \s
    end, last_start, last_newline_end = _whitespace(text, pos)
    if end == len(text):
        return end
    if last_newline_end:
        return last_newline_end
    return _whitespace_not_at_end(end, last_start, pos)


def _o200k_word(text, s):
    """(end of the longest UP run from s, end of UP*LOW+ from s or 0)."""
    n, i, last_both_end = len(text), s, 0
    while i < n:
        cls = char_class(text[i])
        if not cls & _UP:
            break
        i += 1
        if cls & _BOTH:
            last_both_end = i
    if _cls(text, i) & LL:
        return i, _run(text, i, _LOW)  # LOW+ right after UP*
    return i, last_both_end  # UP* backtracks to its last BOTH char


def _with_contraction(text, end):
    # (?i:'s|'t|'re|'ve|'m|'ll|'d)?
    return end + _contraction(text, end, True)


def _next_o200k(text, pos):
    c = text[pos]
    cls = char_class(c)
    # Letter alternatives: 1 with prefix, 1 without, 2 with prefix, 2 without.
    if not cls & (L | N) and c not in _NEWLINES:  # [^\r\n\p{L}\p{N}]? can match c
        s = pos + 1
        up_end, word1_end = _o200k_word(text, s) if s < len(text) else (s, 0)
        if word1_end:
            return _with_contraction(text, word1_end)
        if cls & M:  # a mark is in both classes: alternative 1 matches from pos
            return _with_contraction(text, _o200k_word(text, pos)[1])
        if up_end > s:
            return _with_contraction(text, up_end)
    elif cls & L:
        up_end, word1_end = _o200k_word(text, pos)
        return _with_contraction(text, word1_end or up_end)
    # \p{N}{1,3}
    if cls & N:
        return _numbers(text, pos, 3)
    #  ?[^\s\p{L}\p{N}]+[\r\n/]*
    start = pos
    if c == " " and pos + 1 < len(text) and not _cls(text, pos + 1) & _WLN:
        start = pos + 1
    if not char_class(text[start]) & _WLN:
        return _run_chars(text, _run_other(text, start), "\r\n/")
    # \s*[\r\n]+ | \s+(?!\S) | \s+
    end, last_start, last_newline_end = _whitespace(text, pos)
    if last_newline_end:
        return last_newline_end
    if end == len(text):
        return end
    return _whitespace_not_at_end(end, last_start, pos)


_SCANNERS = (_next_r50k, _next_cl100k, _next_o200k)


def next_end(pattern, text, pos):
    """End of the piece starting at text[pos] (pos < len(text))."""
    return _SCANNERS[pattern_id(pattern)](text, pos)


def spans(pattern, text):
    """(start, end) of each piece of text, in order."""
    scan = _SCANNERS[pattern_id(pattern)]
    pos, n = 0, len(text)
    while pos < n:
        end = scan(text, pos)
        yield pos, end
        pos = end


def split(pattern, text):
    """The pieces tiktoken's regex for `pattern` splits text into."""
    if not isinstance(text, str):
        raise TypeError("text must be str, not %s" % type(text).__name__)
    return [text[a:b] for a, b in spans(pattern, text)]
