"""Differential tests of the pre-tokenizer scanners against tiktoken's regexes.

The oracle is the `regex` module running tiktoken 0.14.0's exact pattern
strings (read from tiktoken_ext.openai_public). `regex` classifies with
Unicode 17 where tiktoken (and our tables) use Unicode 16.0.0, so generated
text avoids the few thousand code points whose class differs between the two
(computed here from `regex` itself against our tables, which
test_tokenizer_unicode.py proves equal to unicodedata2 16.0.0).

Three splitters run the same tests:
  python  - the pure-Python twin, fast_litellm.tokenizer._pretokenize
  native  - the C scanners through the extension (_native.pretok_split)
  c-core  - the C scanners alone, compiled here into a small shared library
            and called with ctypes (skipped without a C compiler)
"""
import ctypes
import shutil
import subprocess
import sys
from unittest import mock

import pytest

from conftest import REPO

regex = pytest.importorskip("regex")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fast_litellm import _native_loader  # noqa: E402
from fast_litellm.tokenizer import _pretokenize as twin  # noqa: E402
from fast_litellm.tokenizer import _unicode_data as data  # noqa: E402

PATTERNS = [twin.PATTERN_R50K, twin.PATTERN_CL100K, twin.PATTERN_O200K]
FAMILY_ENCODING = {twin.PATTERN_R50K: "r50k_base", twin.PATTERN_CL100K: "cl100k_base",
                   twin.PATTERN_O200K: "o200k_base"}
MAX_CP = 0x110000


# ---- the oracle -------------------------------------------------------------

def _tiktoken_pattern_strings():
    """{encoding name: pat_str} straight from tiktoken, without loading vocabularies."""
    openai_public = pytest.importorskip("tiktoken_ext.openai_public")
    no_vocab = lambda *a, **k: {}  # noqa: E731
    with mock.patch.object(openai_public, "load_tiktoken_bpe", no_vocab), \
            mock.patch.object(openai_public, "data_gym_to_mergeable_bpe_ranks", no_vocab):
        return {name: ctor()["pat_str"] for name, ctor in openai_public.ENCODING_CONSTRUCTORS.items()}


PAT_STR = _tiktoken_pattern_strings()
ORACLE = {p: regex.compile(PAT_STR[FAMILY_ENCODING[p]]) for p in PATTERNS}


def oracle_split(pattern, text):
    return ORACLE[pattern].findall(text)


def _unstable_code_points():
    """Code points whose class in `regex` (Unicode 17) differs from our tables."""
    every = "".join(chr(cp) for cp in range(MAX_CP) if not 0xD800 <= cp < 0xE000)
    regex_class = {}
    for prop, bit in [("Lu", data.LU), ("Ll", data.LL), ("Lt", data.LT), ("Lm", data.LM),
                      ("Lo", data.LO), ("M", data.M), ("N", data.N), ("White_Space", data.WS)]:
        for ch in regex.findall(r"\p{%s}" % prop, every):
            regex_class[ch] = regex_class.get(ch, 0) | bit
    return frozenset(ch for ch in every if regex_class.get(ch, 0) != data.char_class(ch))


UNSTABLE = _unstable_code_points()


# ---- the splitters ----------------------------------------------------------

def _build_c_core(tmpdir):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler for the c-core splitter")
    lib = tmpdir / ("libflpretok%s.so" % sys.implementation.cache_tag)
    src = REPO / "csrc" / "tokenizer"
    subprocess.run([cc, "-std=c11", "-O1", "-shared", "-fPIC", "-I", str(REPO / "csrc"), "-o", str(lib),
                    str(src / "pretokenize.c"), str(src / "unicode_tables.c")], check=True)
    core = ctypes.CDLL(str(lib))
    size_p = ctypes.POINTER(ctypes.c_size_t)
    core.fl_pretok_split.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, size_p, size_p,
                                     ctypes.c_size_t]
    core.fl_pretok_split.restype = ctypes.c_size_t

    def split(pattern, text):
        raw = text.encode("utf-8")
        ends = (ctypes.c_size_t * (len(raw) + 1))()
        pos = ctypes.c_size_t(0)
        n = core.fl_pretok_split(pattern, raw, len(raw), ctypes.byref(pos), ends, len(raw) + 1)
        assert pos.value == len(raw)
        pieces, start = [], 0
        for end in ends[:n]:
            assert end > start
            pieces.append(raw[start:end].decode("utf-8"))
            start = end
        return pieces

    return split


@pytest.fixture(scope="module")
def c_core_split(tmp_path_factory):
    return _build_c_core(tmp_path_factory.mktemp("c_core"))


@pytest.fixture(scope="module", params=["python", "native", "c-core"])
def split(request):
    if request.param == "python":
        return twin.split
    if request.param == "native":
        if not _native_loader.native_has("pretok_split"):
            if __import__("os").environ.get("FAST_LITELLM_REQUIRE_NATIVE"):
                pytest.fail("native core has no pretok_split")
            pytest.skip("native core without pretok_split")
        return _native_loader.NATIVE.pretok_split
    return request.getfixturevalue("c_core_split")


def check(split, pattern, text):
    assert not (set(text) & UNSTABLE), "test text must avoid Unicode 16/17 differences"
    assert split(pattern, text) == oracle_split(pattern, text), (pattern, text)


# ---- hand-picked edge cases -------------------------------------------------

EDGE_CASES = [
    "Hello world", "I'm don't we'll they've you're he'd she's it'S I'M WE'LL THEY'VE",
    "don'\u017f it'\u017fs 'll 're 've 'x 'K '\u212a", "  leading spaces", "trailing   ",
    "a  \n\n  b", "\r\n\r\nx", "x\r\n", "tab\tsep", "\u00a0nbsp \u00a0 x", "\u3000ideo",
    "12345678", "\u0663\u0664\u0665\u0666", "\u216b\u00bd7", "HelloWORLDFoo", "CamelCaseXMLHttpRequest",
    "\u00c0\u00c9\u00ce", "\u01c5ungla \u01c5", "\u02b0\u02b0x", "\u4e2d\u6587\u5b57\u7b26",
    "e\u0301\u0301", "\u0301abc", "\u0301ABC.", " \u0301", "path/to/file\n/x", "...\n\n", "!!!\r\n y",
    " ?!", "\U0001F600\U0001F600 \U0001F600", "'s'S's'", "x'sy", "X'S", "HELLO'Re", "\x0b\x0c\x85\u2028\u2029x",
    "\x1c\x1d", "a\u200bb", "  \n  x  ", "\n", " ", "'", "x", " \n \n ", "\t\tx", "a1b22c333d4444", " 123",
    "$$$ hello", '"quoted"', "foo.bar()", "\r\r\n\n", "  \u00a0x", "", "\x00a\x00", "ABC\u02b0DEF.",
    "\u02b0ABC.", "A\u0301B\u0301C.", "\u0301\u0301A", "\u01c5\u01c5a", "'\u017f'\u017f", "it's\u017f",
    "x//\n\r/y", " //x", "\u2028\u2028x", "\x85x", " \x85x", "\ufeffx", "\ud7ff\ue000\U0010ffff",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_edge_cases_match_regex(split, pattern):
    for text in EDGE_CASES:
        check(split, pattern, text)


# ---- generated text ---------------------------------------------------------

def _class_members():
    members = {}
    for cp in range(MAX_CP):
        ch = chr(cp)
        if 0xD800 <= cp < 0xE000 or ch in UNSTABLE:
            continue
        members.setdefault(data.char_class(ch), []).append(ch)
    return members


CLASS_MEMBERS = _class_members()
WHITESPACE = ["\r\n", "\r", "\n", " ", "  ", "\t", "\u00a0", "\u3000", "\u2028", "\u2029", "\x0b", "\x0c",
              "\x85", "\u1680", "\u2000", "\u202f", "\u205f"]
CONTRACTIONS = ["'s", "'S", "'\u017f", "'t", "'T", "'re", "'RE", "'rE", "'Re", "'ve", "'VE", "'vE", "'m", "'M",
                "'ll", "'LL", "'lL", "'d", "'D", "'", "''", "'r", "'l", "'v", "'k", "'\u212a", "\u017f"]
OTHER = ["/", ".", ",", "!", "?", "-", "_", "$", "\"", "(", ")", "\x00", "\x1c", "\u200b", "\ufeff", "\U0001F600",
         "\u2014", "\u00bf", "\ue000", "\U0010fffd"]


def _member(cls):
    members = CLASS_MEMBERS[cls]
    return st.integers(0, len(members) - 1).map(members.__getitem__)


ATOM = st.one_of(
    st.sampled_from(WHITESPACE),
    st.sampled_from(CONTRACTIONS),
    st.sampled_from(OTHER),
    st.sampled_from("aeiouxyzsdmtlvr"),
    st.sampled_from("AEIOUXYZSDMTLVR"),
    st.sampled_from("0123456789"),
    st.sampled_from(["\u0301", "\u0300", "\u0903", "\u20dd", "\u093e"]),  # marks (Mn Mc Me)
    st.sampled_from(["\u01c5", "\u02b0", "\u00aa", "\u4e2d", "\u3042", "\u0915", "\u00e9", "\u00c9",
                     "\u0416", "\u0436", "\u03a9", "\u03c9", "\u0663", "\u2160", "\u00bd"]),
    st.sampled_from(sorted(CLASS_MEMBERS)).flatmap(_member),  # any class, any member
)
TEXT = st.lists(ATOM, max_size=40).map("".join)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("pattern", PATTERNS)
@SETTINGS
@given(text=TEXT)
def test_generated_text_matches_regex(split, pattern, text):
    check(split, pattern, text)


@pytest.mark.parametrize("pattern", PATTERNS)
@SETTINGS
@given(runs=st.lists(st.tuples(ATOM, st.integers(1, 5)), max_size=12))
def test_repeated_runs_match_regex(split, pattern, runs):
    """Runs of one atom: the backtracking cases (\\s+(?!\\S), UP*LOW+) need length."""
    check(split, pattern, "".join(atom * n for atom, n in runs))


# Texts of 64+ bytes, mostly ASCII: the C core takes pieces a 64-byte
# window at a time (bit masks per byte class), handing
# out only starts it can trust and leaving the rest to the per-piece
# scanner, so these runs of ASCII atoms on every class edge (both cases of
# the contraction letters, each ASCII whitespace, ' and / among other
# punctuation, controls) exercise the windows' decisions, with a few
# non-ASCII atoms where a window must stop.
ASCII_ATOM = st.sampled_from(
    list("aeslrvdmtxSTLRVDMEX0159 \t\n\r\x0b\x0c'/.,()_-#\"\x1c\x7f")
    + ["'s", "'T", "'ll", "'Re", "'vE", "'d", "'M", " '", "\r\n", "):\n", "\n    ", "  ", ".\n/", "\n \n"])
WINDOW_ATOM = st.one_of(ASCII_ATOM, ASCII_ATOM, ASCII_ATOM, ASCII_ATOM, ASCII_ATOM, ASCII_ATOM, ATOM)
WINDOW_TEXT = st.lists(st.tuples(WINDOW_ATOM, st.integers(1, 6)), min_size=20, max_size=90).map(
    lambda runs: "".join(atom * n for atom, n in runs))


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=WINDOW_TEXT)
def test_window_length_text_matches_regex(split, pattern, text):
    check(split, pattern, text)


# ---- real text --------------------------------------------------------------

MULTILINGUAL = (
    "The quick brown fox jumps over the lazy dog. It's 3:45pm, isn't it?\n"
    "Ça m'étonnerait qu'il soit déjà là — n'est-ce pas ?\r\n"
    "Größenwahn ist keine Straße. ÄÖÜ äöü ẞ\n"
    "Привет, мир! Как дела? 123 456,78\n"
    "Γειά σου Κόσμε! ΟΔΥΣΣΕΥΣ\n"
    "مرحبا بالعالم ١٢٣٤٥\n"
    "שלום עולם\n"
    "नमस्ते दुनिया, क्या हाल है?\n"
    "你好，世界！这是一个测试。２０２４年\n"
    "こんにちは世界、カタカナとひらがな。\n"
    "안녕하세요 세계\n"
    "สวัสดีชาวโลก\n"
    "Emoji: 👍🏽 👨‍👩‍👧 🇫🇷 ✨\n"
    "\tdef f(x):\n\t\treturn x**2  # comment\n\n\n    \n"
)


def _corpus():
    parts = [MULTILINGUAL]
    for mod in ("json", "textwrap", "argparse"):
        path = __import__(mod).__file__
        with open(path, encoding="utf-8") as f:
            parts.append(f.read())
    return "".join(parts)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_real_text_matches_regex(split, pattern):
    check(split, pattern, _corpus())


# ---- long runs (linear time; quadratic would hang here) ---------------------

LONG_UNITS = [" ", "\n", "\r\n", " \n", "\t \u00a0", "a", "A", "aA", "A\u0301", "\u0301", "\u4e2d", "1",
              "\u0663", ".", "/", "'s", "'S", "\U0001F600", "A'", " a"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_long_runs_match_regex(split, pattern):
    for unit in LONG_UNITS:
        for tail in ("", "x", ".", " ", "\n"):
            check(split, pattern, unit * 10000 + tail)


def test_c_core_long_pieces_are_linear(c_core_split):
    """A 10 MB single piece and 2 M identical characters, through the C core."""
    for unit, pieces in [("a", 1), (" ", 1), ("\n", 1), ("\u4e2d", 1)]:
        text = unit * (10_000_000 // len(unit.encode()))
        for pattern in PATTERNS:
            assert len(c_core_split(pattern, text)) == pieces
    digits = "7" * 2_000_000
    assert len(c_core_split(twin.PATTERN_CL100K, digits)) == (2_000_000 + 2) // 3


# ---- contractions: which characters case-fold to the letters ----------------

def test_contraction_case_folding_matches_regex():
    every = "".join(chr(cp) for cp in range(MAX_CP) if not 0xD800 <= cp < 0xE000)
    for letter in "sdmtlvre":
        folded = sorted(regex.findall("(?i:%s)" % letter, every))
        ours = sorted(ch for ch, low in twin._FOLD_IGNORE_CASE.items() if low == letter)
        assert folded == ours, letter


# ---- the encoding -> pattern map and the API --------------------------------

def test_every_tiktoken_encoding_maps_to_its_pattern_family():
    for name, pat_str in PAT_STR.items():
        assert name in twin.ENCODING_PATTERN, name
        assert pat_str == PAT_STR[FAMILY_ENCODING[twin.ENCODING_PATTERN[name]]], name


def test_pattern_names_and_errors():
    assert twin.pattern_id("cl100k_base") == twin.pattern_id("cl100k") == twin.pattern_id(1) == 1
    assert twin.split("p50k_edit", "it's") == ["it", "'s"]
    assert list(twin.spans("o200k_base", "Hi there")) == [(0, 2), (2, 8)]
    assert twin.next_end("r50k_base", "ab cd", 2) == 5
    with pytest.raises(ValueError, match="unknown pattern 'gpt5'"):
        twin.pattern_id("gpt5")
    with pytest.raises(ValueError):
        twin.pattern_id(3)
    with pytest.raises(TypeError):
        twin.pattern_id(None)
    with pytest.raises(TypeError, match="text must be str"):
        twin.split("cl100k_base", b"bytes")
    assert twin.split("o200k_base", "") == []


# ---- tiktoken itself as the oracle (its real regex engine, Unicode 16) -------
#
# tiktoken does not expose its split, but BPE never crosses a piece, so
# encoding our pieces one by one with tiktoken's own BPE (no regex:
# _encode_single_piece) gives tiktoken's ids exactly when our split is its
# split. This also judges the code points `regex` cannot (Unicode 16 vs 17).

@pytest.fixture(scope="module")
def tiktoken_encodings():
    tiktoken = pytest.importorskip("tiktoken")
    try:
        return {p: tiktoken.get_encoding(FAMILY_ENCODING[p]) for p in PATTERNS}
    except Exception as exc:  # no vocabulary offline
        pytest.skip("tiktoken vocabularies unavailable: %s" % exc)


def check_with_tiktoken(encoding, split, pattern, text):
    pieces = split(pattern, text)
    assert "".join(pieces) == text
    ours = [i for piece in pieces for i in encoding._encode_single_piece(piece.encode("utf-8"))]
    assert ours == encoding.encode_ordinary(text), (pattern, text, pieces)


UNSTABLE_LIST = sorted(UNSTABLE)
ATOM_OR_UNSTABLE = st.one_of(ATOM, st.sampled_from(UNSTABLE_LIST))


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(atoms=st.lists(st.tuples(ATOM_OR_UNSTABLE, st.integers(1, 3)), max_size=30))
def test_generated_text_matches_tiktoken(tiktoken_encodings, split, pattern, atoms):
    check_with_tiktoken(tiktoken_encodings[pattern], split, pattern, "".join(a * n for a, n in atoms))


@pytest.mark.parametrize("pattern", PATTERNS)
def test_unicode16_only_code_points_match_tiktoken(tiktoken_encodings, split, pattern):
    """Every code point whose class regex (Unicode 17) would get wrong, in contexts
    that expose its class: after letters/space/marks, before lower/upper/digits."""
    probes = ["x%sA%s%sb %s1%s's\n\u0301%s. %s" % ((ch,) * 7) for ch in UNSTABLE_LIST]
    for start in range(0, len(probes), 500):
        check_with_tiktoken(tiktoken_encodings[pattern], split, pattern, "".join(probes[start:start + 500]))


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=WINDOW_TEXT)
def test_window_length_text_matches_tiktoken(tiktoken_encodings, split, pattern, text):
    check_with_tiktoken(tiktoken_encodings[pattern], split, pattern, text)


def test_tiktoken_edge_cases_and_corpus(tiktoken_encodings, split):
    for pattern in PATTERNS:
        for text in EDGE_CASES + [_corpus()]:
            check_with_tiktoken(tiktoken_encodings[pattern], split, pattern, text)


# ---- tiktoken's exact split -------------------------------------------------
#
# The check above compares ids, which can agree when the split does not (two
# pieces whose bytes never merge across the cut). An exact oracle: an
# Encoding on tiktoken's own pattern whose vocabulary holds every substring
# (up to a length) of the text makes each of tiktoken's pieces one token, so
# decoding the tokens gives its pieces themselves.

def tiktoken_pieces(text, longest=24):
    """{pattern: tiktoken's pieces of text} (pieces up to `longest` bytes)."""
    tiktoken = pytest.importorskip("tiktoken")
    raw = text.encode("utf-8")
    ranks = {bytes([b]): b for b in range(256)}
    for i in range(len(raw)):
        for j in range(i + 2, min(len(raw), i + longest) + 1):
            ranks.setdefault(raw[i:j], len(ranks))
    pieces = {}
    for pattern in PATTERNS:
        enc = tiktoken.Encoding("pieces", pat_str=PAT_STR[FAMILY_ENCODING[pattern]], mergeable_ranks=ranks,
                                special_tokens={})
        pieces[pattern] = [enc.decode_single_token_bytes(t).decode("utf-8") for t in enc.encode_ordinary(text)]
    return pieces


UNSTABLE_SAMPLE = UNSTABLE_LIST[::16]
EXACT_TEXT = "".join("a%sA%s1%s!%s %s's%s%sx\n" % ((ch,) * 7) for ch in UNSTABLE_SAMPLE + [
    "\u017f", "\u212a", "\u0301", "\u3000", "\u01c5", "\u02b0", "\u0663", "\x85"])


@pytest.fixture(scope="module")
def exact_pieces():
    return tiktoken_pieces(EXACT_TEXT)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_split_is_tiktokens_exactly(exact_pieces, split, pattern):
    """Code points `regex` cannot judge (every 16th), each in contexts that
    expose its class, split exactly as tiktoken's own engine splits them.
    (Run over every code point assigned in Unicode 16 or 17: no difference.)"""
    assert split(pattern, EXACT_TEXT) == exact_pieces[pattern]
