"""The tokenizer's Unicode 16.0.0 class tables, checked for every code point.

Three independent sources must agree on all of 0..0x10FFFF:
  * unicodedata2==16.0.0 (what the generator reads),
  * ../shared/data/unicode-16.0.0/classes.txt (the cross-check file),
  * the generated data: the C two-stage table (parsed from
    csrc/tokenizer/unicode_tables.c and looked up the way fl_uc_class does)
    and the Python run-length module _unicode_data.
The C lookup code itself is checked against classes.txt by
tests/c/test_tokenizer_pretok.c.
"""
import importlib.util
import re
import sys

import pytest

from conftest import REPO, UNICODE_DATA

unicodedata2 = pytest.importorskip("unicodedata2")

from fast_litellm.tokenizer import _unicode_data as data  # noqa: E402

MAX_CP = 0x110000
CATEGORY_CLASS = {
    "Lu": data.LU, "Ll": data.LL, "Lt": data.LT, "Lm": data.LM, "Lo": data.LO,
    "Mn": data.M, "Mc": data.M, "Me": data.M, "Nd": data.N, "Nl": data.N, "No": data.N,
}
WHITE_SPACE = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
               0x2028, 0x2029, 0x202F, 0x205F, 0x3000]


@pytest.fixture(scope="module")
def expected():
    """Class byte of every code point from unicodedata2 (+ White_Space)."""
    assert unicodedata2.unidata_version == "16.0.0"
    table = bytearray(CATEGORY_CLASS.get(unicodedata2.category(chr(cp)), 0) for cp in range(MAX_CP))
    for cp in WHITE_SPACE:
        assert table[cp] == 0
        table[cp] = data.WS
    return bytes(table)


def first_mismatches(got, want, limit=10):
    return [(hex(cp), got[cp], want[cp]) for cp in range(MAX_CP) if got[cp] != want[cp]][:limit]


def test_python_data_matches_unicodedata2(expected):
    got = bytes(data.char_class(chr(cp)) for cp in range(MAX_CP))
    assert got == expected, first_mismatches(got, expected)


def parse_c_array(source, name):
    body = re.search(r"const uint8_t %s\[(\w+)\] = \{(.*?)\};" % name, source, re.S)
    values = [int(v) for v in body.group(2).replace("\n", "").split(",") if v.strip()]
    if body.group(1).isdigit():
        assert len(values) == int(body.group(1))
    return values


def test_c_tables_match_unicodedata2(expected):
    source = (REPO / "csrc" / "tokenizer" / "unicode_tables.c").read_text()
    header = (REPO / "csrc" / "tokenizer" / "unicode_tables.h").read_text()
    shift = int(re.search(r"#define FL_UC_BLOCK_SHIFT (\d+)", header).group(1))
    bits = dict(re.findall(r"#define FL_UC_(LU|LL|LT|LM|LO|M|N|WS) (0x[0-9A-F]+)u", header))
    assert {k: int(v, 16) for k, v in bits.items()} == {
        "LU": data.LU, "LL": data.LL, "LT": data.LT, "LM": data.LM, "LO": data.LO,
        "M": data.M, "N": data.N, "WS": data.WS}
    stage1 = parse_c_array(source, "fl_uc_stage1")
    stage2 = parse_c_array(source, "fl_uc_stage2")
    mask = (1 << shift) - 1
    got = bytes(stage2[(stage1[cp >> shift] << shift) | (cp & mask)] for cp in range(MAX_CP))
    assert got == expected, first_mismatches(got, expected)
    direct = parse_c_array(source, "fl_uc_direct")
    assert bytes(direct) == expected[:len(direct)] and len(direct) == 0x800


def test_classes_txt_matches_unicodedata2(expected):
    path = UNICODE_DATA / "classes.txt"
    if not path.exists():
        pytest.skip("%s not present" % path)
    names = dict(CATEGORY_CLASS, White_Space=data.WS)
    table = bytearray(MAX_CP)
    for line in path.read_text().splitlines():
        m = re.match(r"([0-9A-F]+)(?:\.\.([0-9A-F]+))? ; (\w+)$", line.strip())
        if not m:
            continue
        lo = int(m.group(1), 16)
        hi = int(m.group(2) or m.group(1), 16)
        for cp in range(lo, hi + 1):
            assert table[cp] == 0, hex(cp)
            table[cp] = names[m.group(3)]
    assert bytes(table) == expected, first_mismatches(table, expected)


def test_white_space_is_what_regex_means_by_backslash_s():
    regex = pytest.importorskip("regex")
    every = "".join(chr(cp) for cp in range(MAX_CP) if not 0xD800 <= cp < 0xE000)
    assert [ord(c) for c in regex.findall(r"\s", every)] == WHITE_SPACE


def test_generated_files_are_current():
    spec = importlib.util.spec_from_file_location("gen_unicode_tables", REPO / "tools" / "gen_unicode_tables.py")
    gen = importlib.util.module_from_spec(spec)
    sys.modules["gen_unicode_tables"] = gen
    try:
        spec.loader.exec_module(gen)
        rendered = gen.render()
    finally:
        del sys.modules["gen_unicode_tables"]
    for path, text in rendered.items():
        with open(path, encoding="utf-8", newline="") as f:
            assert f.read() == text, "%s is stale: run tools/gen_unicode_tables.py" % path


def test_char_class_spot_checks():
    cc = data.char_class
    assert (cc("A"), cc("a"), cc("\u01c5"), cc("\u02b0"), cc("\u4e2d")) == (data.LU, data.LL, data.LT, data.LM, data.LO)
    assert (cc("\u0301"), cc("\u0903"), cc("\u20dd")) == (data.M, data.M, data.M)
    assert (cc("7"), cc("\u2160"), cc("\u00bd")) == (data.N, data.N, data.N)
    assert (cc(" "), cc("\u3000"), cc("\x85"), cc("\x1c"), cc("\u200b"), cc("'")) == (data.WS, data.WS, data.WS, 0, 0, 0)
    assert data.L == data.LU | data.LL | data.LT | data.LM | data.LO
