"""The native core's shared piece cache: results with it equal tiktoken's
and equal results without it; many threads (GIL released: long texts,
count_batch) hammering one encoding with mixed inputs while another
clears the cache give the single-threaded results; a forked child (also
one forked while other threads were encoding) gets exact results.

The twin has no cache but the same controls (checked on both twins)."""
from __future__ import annotations

import os
import random
import threading

import pytest

tiktoken = pytest.importorskip("tiktoken")

from fast_litellm import _native_loader  # noqa: E402
from fast_litellm import tokenizer as T  # noqa: E402
from fast_litellm.tokenizer import _corpus  # noqa: E402

ENCODINGS = ["cl100k_base", "o200k_base", "r50k_base"]


def _native(name):
    if _native_loader.NATIVE is None:
        pytest.skip("native core not built")
    return T.implementation("native").get_encoding(name)


def _mixed_texts(n, size, seed):
    rng = random.Random(seed)
    kinds = list(_corpus.CORPORA)
    texts = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        text = _corpus.documents(kind, 1, size, seed + i)[0]
        # long runs and words that are not tokens, so the long-piece cache works too
        text += " " + "+" + "-" * rng.randint(20, 120) + "+\n" + " " * rng.randint(20, 60)
        text += " ".join("".join(rng.choice("qxzjkvw") for _ in range(rng.randint(3, 30)))
                         for _ in range(20))
        texts.append(text)
    return texts


@pytest.fixture(scope="module")
def texts():
    return _mixed_texts(24, 6000, 17)  # > 4 KB each: the GIL is released


def test_controls_exist_on_both_twins(impl, tiktoken_data_dir):
    enc = T.implementation(impl).get_encoding("cl100k_base")
    core = enc._core
    assert core.cache_enabled is (impl == "native")
    core.set_cache(False)
    assert core.cache_enabled is False
    core.set_cache(True)
    assert core.cache_enabled is (impl == "native")
    core.clear_cache()


@pytest.mark.parametrize("name", ENCODINGS)
def test_cache_on_off_equal_tiktoken(name, tiktoken_data_dir, texts):
    enc = _native(name)
    ref = tiktoken.get_encoding(name)
    core = enc._core
    try:
        for tokens_too in (False, True):
            core.set_cache(True, tokens_too)
            core.clear_cache()
            for t in texts[:8]:
                want = ref.encode(t, disallowed_special=())
                assert enc.encode(t, disallowed_special=()) == want  # cold
                assert enc.encode(t, disallowed_special=()) == want  # warm
                assert enc.count(t, disallowed_special=()) == len(want)
        core.set_cache(False)
        for t in texts[:4]:
            assert enc.encode(t, disallowed_special=()) == ref.encode(t, disallowed_special=())
    finally:
        core.set_cache(True)


def _cold_count_texts(seed):
    """Texts whose pieces mostly miss the cache: random words (the count
    path merges them in lockstep batches, flushed full or part-full at the
    end), random bytes, runs, a few words repeated, and documents of each
    corpus."""
    rng = random.Random(seed)
    out = []
    for n_words in (1, 3, 7, 8, 9, 17, 400):
        out.append(" ".join("".join(rng.choice("etaoinshrdlucmfwypvbgkqjxz_")
                                    for _ in range(rng.randint(3, 30))) for _ in range(n_words)))
    for _ in range(6):
        raw = bytes(rng.randrange(256) for _ in range(rng.randint(1, 3000)))
        out.append(raw.decode("utf-8", "replace"))
    out += ["a" * 5000, " " * 3000 + "x", "ab" * 2000, "_" + "x" * 31 + "!" * 40]
    # a few words that are not tokens, repeated: most pieces come again
    # before their lockstep batch runs (counted with that lane)
    for pool in (1, 2, 5, 8, 9, 30):
        words = ["".join(rng.choice("qxzjkvw") for _ in range(rng.randint(3, 12))) for _ in range(pool)]
        out.append(" ".join(rng.choice(words) for _ in range(rng.randint(10, 600))))
    for kind in _corpus.CORPORA:
        out += _corpus.documents(kind, 2, 20_000, seed)
    return out


@pytest.mark.parametrize("name", ["r50k_base", "p50k_base", "cl100k_base", "o200k_base"])
def test_cold_count_equal_tiktoken(name, tiktoken_data_dir):
    """count with an empty cache (the merges the cache misses run in
    lockstep batches on the large vocabularies) == len(tiktoken's ids), and
    the entries it stored serve encode with tiktoken's exact ids."""
    enc = _native(name)
    ref = tiktoken.get_encoding(name)
    texts = _cold_count_texts(5)
    want = [ref.encode(t, disallowed_special=()) for t in texts]
    enc._core.clear_cache()
    assert [enc.count(t, disallowed_special=()) for t in texts] == [len(w) for w in want]
    assert [enc.encode(t, disallowed_special=()) for t in texts] == want
    enc._core.clear_cache()
    assert enc.count_batch(texts, num_threads=2, disallowed_special=()) == [len(w) for w in want]


def _number_texts(seed):
    """Numbers, which bypass the piece cache (encoder.c, is_number): unique
    and repeated, with and without a space before them, next to words and
    punctuation, digit runs up to 200 long (past both cache shapes' 24 and
    128 bytes), non-ASCII digits, and words that start like a number."""
    rng = random.Random(seed)
    pool = [str(rng.randrange(10 ** rng.randint(3, 9))) for _ in range(12)]
    out = []
    for _ in range(4):
        parts = []
        for _ in range(300):
            r = rng.random()
            if r < 0.3:
                parts.append(str(rng.randrange(10 ** rng.randint(1, 12))))
            elif r < 0.5:
                parts.append(rng.choice(pool))
            elif r < 0.55:
                parts.append("".join(rng.choice("0123456789") for _ in range(rng.randint(20, 200))))
            elif r < 0.6:
                parts.append(rng.choice(["\u0661\u0662\u0663", "\u00b2\u00b3", "\u2167", "12\u0663", "9x", "3rd"]))
            else:
                parts.append(rng.choice(["the", "(", "v1.2.3", "x=", "-", "\n", "$", "1e10", "0x1f"]))
        out.append(rng.choice([" ", "", "  ", ", "]).join(parts))
    return out


@pytest.mark.parametrize("name", ["r50k_base", "p50k_base", "cl100k_base", "o200k_base"])
def test_numbers_equal_tiktoken(name, tiktoken_data_dir):
    """Numbers are merged without the shared cache; count and encode, cold
    and warm, on one thread and in a batch, equal tiktoken's."""
    enc = _native(name)
    ref = tiktoken.get_encoding(name)
    texts = _number_texts(3)
    want = [ref.encode(t, disallowed_special=()) for t in texts]
    enc._core.clear_cache()
    for _ in range(2):
        assert [enc.count(t, disallowed_special=()) for t in texts] == [len(w) for w in want]
        assert [enc.encode(t, disallowed_special=()) for t in texts] == want
    assert enc.count_batch(texts, num_threads=2, disallowed_special=()) == [len(w) for w in want]


def _tail_texts(seed):
    """Pieces that are not tokens (words of 3..40 letters, numbers, table
    borders) at the very end of a text and followed by 1..12 more bytes:
    the piece cache reads a key with whole-word loads and the merges read
    a piece in place only when enough of the text follows it (encoder.c
    passes how much does), and fall back to copies near the end."""
    rng = random.Random(seed)
    out = []
    for _ in range(300):
        r = rng.random()
        if r < 0.6:
            piece = " " + "".join(rng.choice("qxzjkvwbe") for _ in range(rng.randint(3, 40)))
        elif r < 0.8:
            piece = " " + str(rng.randrange(10 ** rng.randint(3, 12)))
        else:
            piece = "+" + "-" * rng.randint(3, 60) + "+"
        head = rng.choice(["", "x", "the end of", "a\n"])
        for k in (0, rng.randint(1, 12)):
            out.append(head + piece + "".join(rng.choice(" .,;x\n") for _ in range(k)))
    return out


@pytest.mark.parametrize("name", ["r50k_base", "p50k_base", "cl100k_base", "o200k_base"])
def test_pieces_near_the_end_equal_tiktoken(name, tiktoken_data_dir):
    """Non-token pieces where little or much text follows them: count and
    encode, cold and warm (cache hits), and a batch, equal tiktoken's."""
    enc = _native(name)
    ref = tiktoken.get_encoding(name)
    texts = _tail_texts(5)
    want = [ref.encode(t, disallowed_special=()) for t in texts]
    enc._core.clear_cache()
    for _ in range(2):
        assert [enc.count(t, disallowed_special=()) for t in texts] == [len(w) for w in want]
        assert [enc.encode(t, disallowed_special=()) for t in texts] == want
    joined = "".join(texts)  # one long text: the lanes (cl100k/o200k count) see them too
    enc._core.clear_cache()
    assert enc.count(joined, disallowed_special=()) == len(ref.encode(joined, disallowed_special=()))
    assert enc.count_batch(texts, num_threads=2, disallowed_special=()) == [len(w) for w in want]


def test_count_then_encode_share_entries(tiktoken_data_dir):
    """An entry written by count must serve encode with the full ids."""
    enc = _native("o200k_base")
    ref = tiktoken.get_encoding("o200k_base")
    enc._core.clear_cache()
    t = " antidisestablishmentarianism xqzvyjk " + "=" * 77 + " supercalifragilistic"
    assert enc.count(t) == len(ref.encode(t))
    assert enc.encode(t) == ref.encode(t)


def test_threads_hammer_with_clears(tiktoken_data_dir, texts):
    enc = _native("cl100k_base")
    enc._core.set_cache(False)
    want = [enc.encode(t, disallowed_special=()) for t in texts]  # single-threaded, no cache
    enc._core.set_cache(True)
    enc._core.clear_cache()
    errors = []
    stop = threading.Event()

    def worker(seed):
        rng = random.Random(seed)
        try:
            for _ in range(30):
                i = rng.randrange(len(texts))
                if rng.random() < 0.5:
                    got = enc.encode(texts[i], disallowed_special=())
                    if got != want[i]:
                        errors.append(("encode", i))
                else:
                    idx = rng.sample(range(len(texts)), 6)
                    got = enc.count_batch([texts[j] for j in idx], num_threads=2)
                    if got != [len(want[j]) for j in idx]:
                        errors.append(("count_batch", idx))
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    def clearer():
        while not stop.is_set():
            enc._core.clear_cache()
            stop.wait(0.002)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    c = threading.Thread(target=clearer)
    c.start()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stop.set()
    c.join()
    assert errors == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_child_exact_even_mid_encode(tiktoken_data_dir, texts):
    enc = _native("cl100k_base")
    enc._core.set_cache(False)
    want = [len(enc.encode(t, disallowed_special=())) for t in texts]
    enc._core.set_cache(True)
    for t in texts:  # warm the cache in the parent
        enc.count(t, disallowed_special=())
    busy = threading.Event()
    stop = threading.Event()

    def churn():  # keeps writing entries while the fork happens
        rng = random.Random(5)
        while not stop.is_set():
            extra = " ".join("".join(rng.choice("bcdfghjklmnp") for _ in range(rng.randint(4, 20)))
                             for _ in range(800))
            enc.count(extra)
            busy.set()

    th = threading.Thread(target=churn)
    th.start()
    busy.wait(10)
    try:
        for _ in range(3):
            pid = os.fork()
            if pid == 0:  # child: must not hang or give wrong counts
                ok = all(enc.count(t, disallowed_special=()) == w for t, w in zip(texts, want))
                enc._core.clear_cache()
                ok = ok and all(enc.count(t, disallowed_special=()) == w for t, w in zip(texts, want))
                os._exit(0 if ok else 1)
            _, status = os.waitpid(pid, 0)
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    finally:
        stop.set()
        th.join()
