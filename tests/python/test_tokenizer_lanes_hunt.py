"""Session 20 exactness hunt, its strongest generators kept as a regression
test: texts laid out around the count's lockstep merge lanes (groups of 16
cache-missed pieces, repeats within a group and after its flush, 1-5-byte
pieces with tied pairs next to 25..200-byte ones, numbers), whitespace runs
around the per-encoder table's edges, and long texts at the warm-up's
length and ASCII-gate thresholds, each against tiktoken 0.14.0 through
count, count_batch (2 threads) and encode, the piece cache emptied first.

Mutations of the C core it was checked against (each fails it): a lane's
repeats counted once (flush_deferred without ``times``), the lanes' stop
at three parts instead of two, the 4-byte rule's leftmost tie made strict
(``r01 < r23``), and the repeat match by bytes alone (no length/hash test).
"""
from __future__ import annotations

import random

import pytest

tiktoken = pytest.importorskip("tiktoken")

from fast_litellm import _native_loader  # noqa: E402
from fast_litellm import tokenizer as T  # noqa: E402

ENCODINGS = ["r50k_base", "p50k_base", "cl100k_base", "o200k_base"]
LETTERS = "abcdefghijklmnopqrstuvwxyz"
NONASCII = ["é", "ß", "ж", "中", "😀", "ſ", "\u0301", "\u00a0", "\u3000", "١"]
SHORT = [",", ".", " a", " of", "'s", "!", "x", "zq", "qzx", " qz", "qzxj", " xq", "\t", "-", "://", "...", " ("]


def _word(rng, lo=3, hi=24):
    n = rng.randint(lo, hi)
    if rng.random() < 0.5:
        s = "".join(rng.choice(LETTERS) for _ in range(n))
    else:
        s = "".join(rng.choice("bcdfghjklmnpqrstvwxz") + rng.choice("aeiouy") for _ in range(n // 2 + 1))[:n]
    r = rng.random()
    return s.capitalize() if r < 0.2 else s.upper() if r < 0.25 else s


def _lane_text(rng):
    out, pool = [], []
    for _ in range(rng.choice([1, 2, 3, 5])):
        for _ in range(rng.choice([1, 15, 16, 17, 31, 32, 33, 48, rng.randint(1, 60)])):
            r = rng.random()
            if r < 0.12 and pool:
                w = rng.choice(pool)
            elif r < 0.2:
                w = rng.choice(SHORT)
            elif r < 0.24:
                w = _word(rng, 25, 40)
            elif r < 0.27:
                w = _word(rng, 33, 200)
            elif r < 0.30:
                w = str(rng.randint(0, 10 ** rng.randint(1, 30)))
            elif r < 0.33:
                w = _word(rng, *rng.choice([(12, 13), (24, 25), (32, 33), (8, 9)]))
            elif r < 0.35:
                w = rng.choice(NONASCII) * rng.randint(1, 5) + _word(rng, 1, 6)
            elif r < 0.42:
                abc = rng.sample(LETTERS, rng.choice([1, 2, 3]))
                w = "".join(rng.choice(abc) for _ in range(rng.randint(3, 5)))
            else:
                w = _word(rng)
            pool.append(w)
            sep = " " if rng.random() < 0.8 else rng.choice(["", "\n", "\t", ". ", ", ", "\n    ", "  "])
            out.append(sep + w)
            if rng.random() < 0.05:
                out.append(w)
    return "".join(out)


def _ws_text(rng):
    parts = []
    for _ in range(rng.randint(1, 20)):
        a = rng.choice([0, 1, 2, 3, 4, 5])
        b = rng.choice([0, 1, 2, 12, 13, 24, 25, 62, 63, 64, 65, rng.randint(0, 140)])
        parts.append(_word(rng, 1, 8) + "\n" * a + rng.choice(["", "", "\t", "\u00a0"]) + " " * b
                     + rng.choice(["x", "", "\n", "1", "é", "'ll"]))
    return "".join(parts)


def _gate_text(rng):
    """16383..16385 bytes (the warm-up's threshold) or more, whose first 256
    bytes hold about 16 bytes >= 0x80 (the ASCII gate), some at byte 256."""
    target = rng.choice([16383, 16384, 16385, 20000])
    budget, head, size = rng.choice([8, 15, 16, 17]), [], 0
    while size < 256:
        c = rng.choice(["é", "中"]) if budget > 0 and rng.random() < 0.15 else rng.choice(LETTERS + "  .,\n")
        budget -= len(c.encode()) if c in ("é", "中") else 0
        head.append(c)
        size += len(c.encode())
    body = []
    while size < target:
        body.append(" " + _word(rng))
        size += len(body[-1])
    data = ("".join(head) + "".join(body)).encode()[:target]
    return data.decode("utf-8", "ignore")


@pytest.fixture(params=ENCODINGS)
def pair(request, tiktoken_data_dir):
    if _native_loader.NATIVE is None:
        pytest.skip("native core not built")
    return T.implementation("native").get_encoding(request.param), tiktoken.get_encoding(request.param)


def test_lanes_and_thresholds_as_tiktoken(pair):
    ours, ref = pair
    rng = random.Random("hunt20-" + ref.name)
    ours._core.clear_cache()
    texts = [_lane_text(rng) for _ in range(70)] + [_ws_text(rng) for _ in range(10)]
    texts += [_gate_text(rng) for _ in range(3)]
    rng.shuffle(texts)
    for i, t in enumerate(texts):
        assert ours.count(t, disallowed_special=()) == len(ref.encode(t, disallowed_special=())), (i, t)
        if i % 6 == 0:
            assert ours.encode(t, disallowed_special=()) == ref.encode(t, disallowed_special=()), (i, t)
        if i % 20 == 0:
            ours._core.clear_cache()
    for k in range(0, len(texts), 16):
        batch = texts[k:k + 16]
        assert ours.count_batch(batch, num_threads=2, disallowed_special=()) == \
            [len(x) for x in ref.encode_batch(batch, num_threads=2, disallowed_special=())]
