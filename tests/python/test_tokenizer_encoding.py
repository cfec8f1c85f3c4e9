"""Token ids (not just counts) identical to tiktoken 0.14.0, on both twins.

Kinds of cases after tiktoken's own test suite (simple words, repeated
characters, digits, whitespace runs, special tokens, surrogates, round
trips), a mixed corpus (prose, code, many languages, CJK, emoji) and
hypothesis-generated text biased toward every character class, whitespace
kind, contraction, digit run and special token.
"""
from __future__ import annotations

import pickle

import pytest

tiktoken = pytest.importorskip("tiktoken")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fast_litellm import tokenizer as T  # noqa: E402

ENCODINGS = ["r50k_base", "p50k_base", "p50k_edit", "cl100k_base", "o200k_base"]


@pytest.fixture(scope="module")
def oracle():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = tiktoken.get_encoding(name)
        return cache[name]

    return get


@pytest.fixture(params=ENCODINGS)
def pair(request, impl, tiktoken_data_dir, oracle):
    return T.implementation(impl).get_encoding(request.param), oracle(request.param)


SIMPLE = [
    "", "hello world", "hello  world", "hello\nworld", " hello", "hello ", "  ",
    "\n", "\n\n\n", " \n \n", "\r\n", "\t\t x", "a" * 50, "0", "00000", "1234567890123",
    "I'm you're we've they'll he'd it's DON'T I'M HE'S", "ſ's 'ſ 'S 'ſſ", "don’t",
    "rer", "'rer", "today\n ", "today\n \n", "today\n  \n", "today\n\n", "x\u00a0y \u3000z",
    "^" * 1000, "<|endoftext|>" * 2 + "x", "<|endo", "<|endoftext", "hello<|endoftext|>",
    "😀😀😀 👨‍👩‍👧‍👦 🇯🇵", "naïve café", "A\u0301", "\u0301\u0301abc", "ǅungla ǅ", "Straße STRASSE",
    "Ω≈ç√∫˜µ≤≥÷", "١٢٣ ٤٥٦", "𝟘𝟙𝟚", "Ⅷ ⅷ ½ ²", "a1b2c3 1a 12ab 123abc 1234abc",
    "  leading and trailing  ", "tab\tsep\tvalues\t", "\x00\x01\x1f\x7f", "\ufeffBOM",
    "line1\r\nline2\rline3\nline4", "foo/bar//baz\n/", "...!!!???;;;", " ... \n\n...\r\n",
    "ŉ ſt ﬁ ﬀ ǰ", "ʼn", "\u2028\u2029\u0085 x", "\u180e\u200b\u200d", "x\u1680y",
]

CORPUS = [
    """The quick brown fox jumps over the lazy dog. It's a well-known pangram; we've used it
for decades, haven't we? "Quotes", (parentheses), [brackets] & {braces} -- dashes... ellipses!""",
    """def fibonacci(n: int) -> int:\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n\nif __name__ == "__main__":\n    print(fibonacci(42))  # 267914296\n""",
    """#include <stdio.h>\nint main(void) {\n\tfor (int i = 0; i < 10; ++i) printf("%d\\n", i);\n\treturn 0;\n}\n""",
    """const x = {a: 1, 'b': [2, 3], "c": null}; // comment\nlet y = x?.a ?? 0x1F; /* block */ y >>>= 2;\n""",
    "Der schnelle braune Fuchs springt über den faulen Hund. Größe, Maß, Straße.",
    "Le cœur a ses raisons que la raison ne connaît point. L'été, l'hôpital, aujourd'hui.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю. ПРИВЕТ мир",
    "Ο καλύτερος τρόπος να προβλέψεις το μέλλον είναι να το δημιουργήσεις.",
    "العربية لغة جميلة، وهي من أكثر اللغات انتشاراً في العالم. ١٢٣٤",
    "עברית היא שפה שמית. שלום עולם!",
    "हिन्दी भारत की राजभाषा है। नमस्ते दुनिया",
    "ภาษาไทยเป็นภาษาที่สวยงาม สวัสดีครับ",
    "日本語のテキストです。東京は日本の首都です。カタカナとひらがな、漢字。",
    "中文文本示例：北京是中国的首都。我们正在测试分词器的准确性！",
    "한국어 텍스트입니다. 서울은 대한민국의 수도입니다.",
    "Tiếng Việt có dấu: Xin chào thế giới, cảm ơn bạn rất nhiều.",
    "Emoji party 🎉🎉 with ZWJ 👩‍💻 and flags 🇺🇸🇬🇧, skin tones 👍🏽 and keycaps 1️⃣.",
    "Mixed: abc123DEF456 ghi_789 JKL-012 mno.345 PQR/678 stu:901\n\n\t  \n",
    "   indented\n\tcode\n    more   \n\n\n  ",
    "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>  return 1<|endofprompt|>",
]


def test_simple_vectors(pair):
    ours, ref = pair
    for text in SIMPLE:
        assert ours.encode(text, disallowed_special=()) == ref.encode(text, disallowed_special=()), text
        assert ours.encode_ordinary(text) == ref.encode_ordinary(text), text
        assert ours.count(text, disallowed_special=()) == len(ref.encode(text, disallowed_special=()))


def test_corpus_ids(pair):
    ours, ref = pair
    for text in CORPUS:
        for kw in ({"disallowed_special": ()}, {"allowed_special": "all"}):
            assert ours.encode(text, **kw) == ref.encode(text, **kw), text
            assert ours.count(text, **kw) == len(ref.encode(text, **kw))
    big = "\n\n".join(CORPUS) * 3  # repeated words: exercises the per-call merge memo
    assert ours.encode_ordinary(big) == ref.encode_ordinary(big)
    assert ours.encode(big, allowed_special="all") == ref.encode(big, allowed_special="all")
    assert ours.count(big, allowed_special="all") == len(ref.encode(big, allowed_special="all"))
    assert ours.count_batch(CORPUS, disallowed_special=()) == [
        len(ref.encode(t, disallowed_special=())) for t in CORPUS]


def test_attributes(pair):
    ours, ref = pair
    assert ours.name == ref.name
    assert ours.n_vocab == ref.n_vocab
    assert ours.max_token_value == ref.max_token_value
    assert ours.eot_token == ref.eot_token
    assert ours.special_tokens_set == ref.special_tokens_set
    assert repr(ours) == repr(ref)


def test_decode_roundtrip(pair):
    ours, ref = pair
    for text in CORPUS + SIMPLE:
        ids = ref.encode(text, allowed_special="all")
        assert ours.decode_bytes(ids) == ref.decode_bytes(ids)
        assert ours.decode(ids) == ref.decode(ids)
    ids = ref.encode("😀 naïve")
    partial = ids[:1] + ids[2:]
    assert ours.decode(partial) == ref.decode(partial)
    assert ours.decode_tokens_bytes(ids) == ref.decode_tokens_bytes(ids)
    assert ours.decode_single_token_bytes(ids[0]) == ref.decode_single_token_bytes(ids[0])
    assert ours.encode_single_token("hello") == ref.encode_single_token("hello")
    assert ours.encode_single_token("<|endoftext|>") == ref.encode_single_token("<|endoftext|>")
    assert ours._encode_single_piece("helloqqqq") == ref._encode_single_piece("helloqqqq")


def _same_error(fn_ours, fn_ref, exc):
    with pytest.raises(exc) as ref_err:
        fn_ref()
    with pytest.raises(exc) as our_err:
        fn_ours()
    assert str(our_err.value) == str(ref_err.value)
    assert type(our_err.value) is type(ref_err.value)


def test_decode_errors(pair):
    ours, ref = pair
    bad = ref.max_token_value + 1000
    _same_error(lambda: ours.decode([1, bad]), lambda: ref.decode([1, bad]), KeyError)
    _same_error(lambda: ours.decode([-1]), lambda: ref.decode([-1]), OverflowError)
    _same_error(lambda: ours.decode([2 ** 32]), lambda: ref.decode([2 ** 32]), OverflowError)
    _same_error(lambda: ours.decode_single_token_bytes(bad), lambda: ref.decode_single_token_bytes(bad), KeyError)
    _same_error(lambda: ours.decode(["a"]), lambda: ref.decode(["a"]), TypeError)
    _same_error(lambda: ours.decode([1.5]), lambda: ref.decode([1.5]), TypeError)
    import operator

    class Index:  # anything with __index__ is a token id, as in tiktoken
        def __index__(self):
            return 15339

    assert ours.decode([Index()]) == ref.decode([15339]) if ref.n_vocab > 15339 else True
    assert operator.index(Index()) == 15339
    # every id is converted before any is looked up (a TypeError/OverflowError
    # after an unknown id wins over its KeyError), and beyond a C long is
    # pyo3's own OverflowError message
    for tokens in ([bad, "a"], [bad, -1], [1, bad, None], [2 ** 63], [-2 ** 63 - 1], [2 ** 63 - 1]):
        _same_error(lambda: ours.decode_bytes(tokens), lambda: ref.decode_bytes(tokens), Exception)
    _same_error(lambda: ours.decode_single_token_bytes(2 ** 64),
                lambda: ref.decode_single_token_bytes(2 ** 64), OverflowError)


def test_decode_list_changed_by_index(pair):
    """An __index__ that empties or grows the list being decoded: the list is
    walked as iteration would (this crashed the native core)."""
    ours, ref = pair
    for change in (list.clear, lambda lst: lst.extend([2, 3])):
        def run(enc):
            lst = []

            class Changer:
                def __index__(self):
                    change(lst)
                    return 1

            lst.extend([Changer()] + [4] * 1000)
            return enc.decode_bytes(lst)

        assert run(ours) == run(ref)


def test_special_tokens(pair):
    ours, ref = pair
    specials = sorted(ref.special_tokens_set)
    text = "a " + " b ".join(specials) + " <|endoftext|>z"
    for allowed in [set(), "all", {specials[0]}, set(specials[-1:])]:
        for disallowed in [(), "all", set(specials[:1])]:
            try:
                expected = ref.encode(text, allowed_special=allowed, disallowed_special=disallowed)
            except ValueError as err:
                with pytest.raises(ValueError) as ours_err:
                    ours.encode(text, allowed_special=allowed, disallowed_special=disallowed)
                assert str(ours_err.value) == str(err)
                with pytest.raises(ValueError) as ours_err:
                    ours.count(text, allowed_special=allowed, disallowed_special=disallowed)
                assert str(ours_err.value) == str(err)
                continue
            assert ours.encode(text, allowed_special=allowed, disallowed_special=disallowed) == expected
            assert ours.count(text, allowed_special=allowed, disallowed_special=disallowed) == len(expected)
    # default: every special token is disallowed
    _same_error(lambda: ours.encode("x <|endoftext|>"), lambda: ref.encode("x <|endoftext|>"), ValueError)
    _same_error(lambda: ours.count("x <|endoftext|>"), lambda: ref.encode("x <|endoftext|>"), ValueError)
    _same_error(lambda: ours.count_batch(["ok", "x <|endoftext|>"]),
                lambda: ref.encode_batch(["ok", "x <|endoftext|>"]), ValueError)
    # arbitrary (non-special) disallowed strings, as tiktoken allows
    _same_error(lambda: ours.encode("say foo", disallowed_special={"foo"}),
                lambda: ref.encode("say foo", disallowed_special={"foo"}), ValueError)
    assert ours.encode("say fo", disallowed_special={"foo"}) == ref.encode("say fo", disallowed_special={"foo"})


def _same_outcome(fn_ours, fn_ref):
    def run(fn):
        try:
            return "ok", fn()
        except Exception as err:  # noqa: BLE001 - the type and message are compared
            return type(err), str(err)

    assert run(fn_ours) == run(fn_ref)


def test_argument_types_as_tiktoken(pair):
    """tiktoken's core takes allowed_special only as a set/frozenset of str,
    and encode_single_token only str/bytes: the same TypeErrors, not a
    silently different result (a str allowed_special was read as its
    characters; encode_single_token(5) looked up 5 zero bytes)."""
    ours, ref = pair
    text = "x <|endoftext|>"
    for allowed in (["<|endoftext|>"], ("<|endoftext|>",), "<|endoftext|>", None, {1}, [],
                    {"<|endoftext|>": 1}.keys(), frozenset(["<|endoftext|>"]), {"not special"}):
        for disallowed in ((), "all", {"<|endoftext|>"}, {"nope"}):
            for fn in ("encode", "count"):
                ref_fn = ref.encode if fn == "encode" else (lambda t, **kw: len(ref.encode(t, **kw)))
                _same_outcome(lambda: getattr(ours, fn)(text, allowed_special=allowed,
                                                        disallowed_special=disallowed),
                              lambda: ref_fn(text, allowed_special=allowed, disallowed_special=disallowed))
            _same_outcome(lambda: ours.count_batch([text], allowed_special=allowed, disallowed_special=disallowed),
                          lambda: [len(x) for x in ref.encode_batch([text], allowed_special=allowed,
                                                                    disallowed_special=disallowed)])
    for arg in (5, bytearray(b"hello"), memoryview(b"hello"), None, b"hello", "hello", b"\xff\xfe"):
        _same_outcome(lambda: ours.encode_single_token(arg), lambda: ref.encode_single_token(arg))
    for arg in (5, bytearray(b"hello"), b"hello", "hello world"):
        _same_outcome(lambda: ours._encode_single_piece(arg), lambda: ref._encode_single_piece(arg))


def test_decode_with_offsets(pair):
    """tiktoken's decode_with_offsets: offsets of tokens that start inside a
    character, strict decoding of cut characters, special tokens, errors."""
    ours, ref = pair
    for text in CORPUS + SIMPLE[:30]:
        ids = ref.encode(text, allowed_special="all")
        for cut in ([], ids, ids[1:], ids[:-1], ids[2:7], ids[::2]):
            _same_outcome(lambda: ours.decode_with_offsets(cut), lambda: ref.decode_with_offsets(cut))
    bad = ref.max_token_value + 10
    _same_outcome(lambda: ours.decode_with_offsets([1, bad]), lambda: ref.decode_with_offsets([1, bad]))


def test_batch_num_threads_as_tiktoken(pair):
    """tiktoken's batch methods hand num_threads to ThreadPoolExecutor, whose
    check raises for 0, negatives and non-numbers, even for an empty batch."""
    ours, ref = pair
    for threads in (0, -1, "2", None, 1.5, 3):
        for method, arg in (("encode_batch", ["a", "b c"]), ("encode_batch", []),
                            ("encode_ordinary_batch", ["a"]), ("decode_batch", [[1, 2]]),
                            ("decode_bytes_batch", [[1]])):
            _same_outcome(lambda: getattr(ours, method)(arg, num_threads=threads),
                          lambda: getattr(ref, method)(arg, num_threads=threads))


def test_encode_to_numpy_as_tiktoken(pair):
    """tiktoken's encode_to_numpy has no lone-surrogate fix-up: it raises
    UnicodeEncodeError (after its disallowed-special check)."""
    pytest.importorskip("numpy")
    ours, ref = pair
    for text, kw in [("hello <|endoftext|>", {"allowed_special": "all"}), ("a\ud800b", {}),
                     ("a\ud800b", {"disallowed_special": ()}), ("\ud800<|endoftext|>", {}),
                     ("x <|endoftext|>", {}), ("x <|endoftext|>", {"disallowed_special": ()})]:
        _same_outcome(lambda: ours.encode_to_numpy(text, **kw).tolist(),
                      lambda: ref.encode_to_numpy(text, **kw).tolist())
        if "\ud800" not in text and (kw or "<|" not in text):
            assert ours.encode_to_numpy(text, **kw).dtype == ref.encode_to_numpy(text, **kw).dtype


def test_surrogates(pair):
    ours, ref = pair
    for text in ["\ud800", "a\ud800b", "\udfff\ud800", "x\ud83d\ude00y", "\ud83d", "ok \udcff ok"]:
        assert ours.encode(text) == ref.encode(text), repr(text)
        assert ours.encode_ordinary(text) == ref.encode_ordinary(text), repr(text)
        assert ours.count(text) == len(ref.encode(text))
    assert ours.count_batch(["a\ud800", "fine"]) == [len(ref.encode("a\ud800")), len(ref.encode("fine"))]


def test_bad_arguments(pair):
    ours, ref = pair
    # a text that is not a str: tiktoken's TypeError (its regex search's with
    # special tokens to check, else its core's), tested in test_text_type_errors
    for fn in (ours.encode, ours.encode_ordinary, ours.count, ours.count_ordinary):
        for bad in (b"bytes", None):
            with pytest.raises(TypeError):
                fn(bad)
    for not_a_batch, name in (("not a list", "str"), (b"ab", "bytes"), (bytearray(b"ab"), "bytearray"),
                              (memoryview(b"ab"), "memoryview"), ({"a": 1}, "dict")):
        with pytest.raises(TypeError, match="texts must be a list of str, not %s" % name):
            ours.count_batch(not_a_batch)
    assert ours.count_batch(("a", "b")) == ours.count_batch(iter(["a", "b"])) == [1, 1]
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        ours.count_batch(["a", 3])
    with pytest.raises(ValueError, match="num_threads"):
        ours.count_batch(["a"], num_threads=0)
    # allowed_special is a set of str to tiktoken's core (a str, list or None was accepted)
    for bad, dis in (("<|endoftext|>", ()), ([], ()), (None, ()), ({}.keys(), ()), ({1}, ()),
                     ({b"x"}, "all"), (None, "all"), ([], "all"), ("", "all")):
        text = "<|endoftext|>" if dis == () else "x"
        _same_error(lambda: ours.encode(text, allowed_special=bad, disallowed_special=dis),
                    lambda: ref.encode(text, allowed_special=bad, disallowed_special=dis), TypeError)
        _same_error(lambda: ours.count(text, allowed_special=bad, disallowed_special=dis),
                    lambda: ref.encode(text, allowed_special=bad, disallowed_special=dis), TypeError)
        _same_error(lambda: ours.count_batch(["x"], allowed_special=bad, disallowed_special=dis),
                    lambda: ref.encode("x", allowed_special=bad, disallowed_special=dis), TypeError)
    # batch num_threads as tiktoken's ThreadPoolExecutor checks it (0 and -1 were accepted)
    for bad, exc in ((0, ValueError), (-1, ValueError), (False, ValueError), ("4", TypeError)):
        for name, args in (("encode_batch", (["a"],)), ("encode_ordinary_batch", (["a"],)),
                           ("decode_batch", ([[15]],)), ("decode_bytes_batch", ([[15]],))):
            _same_error(lambda: getattr(ours, name)(*args, num_threads=bad),
                        lambda: getattr(ref, name)(*args, num_threads=bad), exc)
    # a str is not a token sequence, even an empty one (decode("") returned "")
    for fn in ("decode", "decode_bytes"):
        _same_error(lambda: getattr(ours, fn)(""), lambda: getattr(ref, fn)(""), TypeError)
    _same_error(lambda: ours.decode_batch([""]), lambda: ref.decode_batch([""]), TypeError)
    # tokens that are no sequence: the same TypeError on both twins and tiktoken (the
    # twins' messages differed, and a set, dict or iterator was decoded)
    for bad in (None, 5, {15339}, {15339: 1}, {}.keys(), iter([15339]), (t for t in [15339])):
        for fn in ("decode", "decode_bytes"):
            _same_error(lambda: getattr(ours, fn)(bad), lambda: getattr(ref, fn)(bad), TypeError)
    for good in (range(15339, 15341), bytearray(b"ab"), memoryview(b"ab"), (15339,)):
        assert ours.decode_bytes(good) == ref.decode_bytes(good)
    # a token whose __index__ shrinks the list: decoding stops where tiktoken's
    # iteration stops (the native core read the freed item array on)
    def shrinking():
        ids = [15339] * 100

        class Shrink:
            def __index__(self):
                ids.clear()
                ids.extend([object()] * 3)
                return 15339

        ids[5] = Shrink()
        return ids

    for fn in ("decode_bytes", "decode"):
        assert getattr(ours, fn)(shrinking()) == getattr(ref, fn)(shrinking())
    # tiktoken's TypeError, not bytes(n): n zero bytes (2**31 hung, then KeyError)
    for bad in (5, 2**31, 10**30, True, None, 1.5, bytearray(b"hello"), memoryview(b"hello")):
        _same_error(lambda: ours.encode_single_token(bad), lambda: ref.encode_single_token(bad), TypeError)


def test_text_type_errors(pair):
    """A text that is not a str raises tiktoken's TypeError, message and all:
    its regex search's when there are strings to check (the `regex` module's
    when installed, as tiktoken imports it), else its core's (pyo3), and
    before an allowed_special TypeError ("text must be str, not X" before
    session 15)."""
    ours, ref = pair
    count_ref = lambda t, **kw: len(ref.encode(t, **kw))  # noqa: E731
    for bad in (None, 5, b"x", bytearray(b"x"), ["a"]):
        for kw in ({}, {"disallowed_special": ()}, {"disallowed_special": {"<|endoftext|>"}},
                   {"disallowed_special": {"foo"}}, {"allowed_special": "all"},
                   {"allowed_special": ["x"], "disallowed_special": ()}):
            _same_outcome(lambda: ours.encode(bad, **kw), lambda: ref.encode(bad, **kw))
            _same_outcome(lambda: ours.count(bad, **kw), lambda: count_ref(bad, **kw))
        _same_outcome(lambda: ours.encode_ordinary(bad), lambda: ref.encode_ordinary(bad))
        _same_outcome(lambda: ours.count_ordinary(bad), lambda: len(ref.encode_ordinary(bad)))
    # a disallowed string that is not a str: the regex module's error (was re's)
    for kw in ({"disallowed_special": {1}}, {"disallowed_special": [b"x"]}):
        _same_outcome(lambda: ours.encode("x", **kw), lambda: ref.encode("x", **kw))
        _same_outcome(lambda: ours.count_batch(["x"], **kw),
                      lambda: [len(x) for x in ref.encode_batch(["x"], **kw)])


def test_count_batch_error_order(pair):
    """count_batch raises what encode_batch raises: the error of the first
    text that fails, in order, so a disallowed special token in a text
    before a non-str one is the ValueError, not the TypeError (session 20
    hunt: count_batch checked every text's type first).  The TypeError's
    message names the item (documented), so only its type is compared."""
    ours, ref = pair

    def run(fn):
        try:
            return "ok", fn()
        except Exception as err:  # noqa: BLE001 - compared below
            return type(err), str(err) if not isinstance(err, TypeError) else ""

    eot = "a <|endoftext|> b"
    for batch in ([eot, None], ["ok", eot, 5], ["x" * 70, "y", eot, b"z"], [None, eot], ["ok", 5, eot],
                  [eot + " <|fim_prefix|>", ["a"]], ["<|endo", bytearray(b"x")]):
        for kw in ({}, {"allowed_special": {"<|fim_prefix|>"}}, {"disallowed_special": {"<|endoftext|>"}},
                   {"disallowed_special": ["<|endo"]}, {"disallowed_special": ()}, {"allowed_special": "all"},
                   {"allowed_special": None}):
            assert run(lambda: ours.count_batch(batch, num_threads=2, **kw)) == \
                run(lambda: [len(x) for x in ref.encode_batch(batch, num_threads=2, **kw)]), (batch, kw)


def test_spent_iterator_disallowed(pair):
    """A disallowed_special that is truthy but holds nothing (a spent
    iterator, an empty generator) is tiktoken's regex "()": it matches ''
    in every text, so encode raises for ''; encode_batch makes a frozenset
    first (falsy) and does not (both answered before session 15)."""
    ours, ref = pair
    count_ref = lambda t, **kw: len(ref.encode(t, **kw))  # noqa: E731

    def empty():
        yield from ()

    for make in (empty, lambda: iter(()), lambda: iter(["<|endoftext|>"])):
        for text in ("hello", ""):
            _same_outcome(lambda: ours.encode(text, disallowed_special=make()),
                          lambda: ref.encode(text, disallowed_special=make()))
            _same_outcome(lambda: ours.count(text, disallowed_special=make()),
                          lambda: count_ref(text, disallowed_special=make()))
            _same_outcome(lambda: ours.encode_batch([text, "x"], disallowed_special=make()),
                          lambda: ref.encode_batch([text, "x"], disallowed_special=make()))
            _same_outcome(lambda: ours.count_batch([text, "x"], disallowed_special=make()),
                          lambda: [len(x) for x in ref.encode_batch([text, "x"], disallowed_special=make())])
    # count_batch resolves the arguments once, as encode_batch does (None
    # was accepted: frozenset(None) is encode_batch's TypeError)
    _same_outcome(lambda: ours.count_batch(["x"], disallowed_special=None),
                  lambda: [len(x) for x in ref.encode_batch(["x"], disallowed_special=None)])
    spent = iter(["<|endoftext|>"])
    list(spent)
    with pytest.raises(ValueError, match="disallowed special token ''"):
        ours.encode("hello", disallowed_special=spent)


def test_encode_to_numpy_error_order(pair):
    """encode_to_numpy has no surrogate fix-up and tiktoken's core takes the
    text before allowed_special: a lone surrogate's UnicodeEncodeError comes
    before an allowed_special TypeError (after the disallowed check)."""
    pytest.importorskip("numpy")
    ours, ref = pair
    for text in ("\ud800 x", "\ud83d\ude00", "<|endoftext|>\udfff"):
        for kw in ({"allowed_special": ["x"], "disallowed_special": ()}, {"allowed_special": None},
                   {"allowed_special": {1}, "disallowed_special": ()}, {"allowed_special": None, "disallowed_special": {1}}):
            _same_outcome(lambda: ours.encode_to_numpy(text, **kw).tolist(),
                          lambda: ref.encode_to_numpy(text, **kw).tolist())


def test_token_byte_values(pair):
    """Only the ordinary tokens' bytes: p50k's <|endoftext|> (50256) lies
    among its ranks and was listed too (50281 values, tiktoken 50280)."""
    ours, ref = pair
    assert ours.token_byte_values() == ref.token_byte_values()


def test_batch_threads(pair):
    ours, ref = pair
    texts = [t * (i % 4 + 1) for i, t in enumerate(CORPUS * 3)]
    expected = [len(ref.encode(t, disallowed_special=())) for t in texts]
    for threads in (1, 2, 4):
        assert ours.count_batch(texts, num_threads=threads, disallowed_special=()) == expected
    assert ours.encode_batch(texts[:5], disallowed_special=()) == ref.encode_batch(texts[:5], disallowed_special=())
    assert ours.count_batch([]) == []


def test_batch_flag_sets_the_default_threads(pair, monkeypatch):
    """FAST_LITELLM_BATCH_TOKEN_COUNTING (the batch_token_counting flag):
    off, count_batch without num_threads counts on one thread; an explicit
    num_threads is the caller's either way."""
    from fast_litellm import flags
    from fast_litellm.tokenizer import _encoding

    ours, _ = pair
    seen = []
    core = ours._core

    class Recording:
        def __getattr__(self, name):
            return getattr(core, name)

        def count_batch(self, texts, allowed, disallowed, num_threads):
            seen.append(num_threads)
            return core.count_batch(texts, allowed, disallowed, num_threads)

    monkeypatch.setattr(ours, "_core", Recording())
    try:
        flags.set_feature("batch_token_counting", "off")
        texts = CORPUS[:4]
        assert ours.count_batch(texts) == [ours.count(t) for t in texts]
        ours.count_batch(texts, num_threads=2)
        flags.set_feature("batch_token_counting", "on")
        ours.count_batch(texts)
    finally:
        flags.reload_config()
    assert seen == [1, 2, _encoding._DEFAULT_THREADS]


def test_pickle_and_registry(impl, tiktoken_data_dir):
    ns = T.implementation(impl)
    enc = ns.get_encoding("cl100k_base")
    assert ns.get_encoding("cl100k_base") is enc
    assert pickle.loads(pickle.dumps(enc)).name == "cl100k_base"
    assert ns.list_encoding_names() == sorted(ENCODINGS)
    with pytest.raises(ValueError, match="Unknown encoding nope.*cl100k_base"):
        ns.get_encoding("nope")
    with pytest.raises(TypeError, match="encoding_name"):
        ns.get_encoding(3)


def test_encoding_for_model(impl, tiktoken_data_dir):
    ns = T.implementation(impl)
    from tiktoken.model import MODEL_PREFIX_TO_ENCODING, MODEL_TO_ENCODING

    from fast_litellm.tokenizer import _registry

    assert _registry.MODEL_TO_ENCODING == MODEL_TO_ENCODING
    assert _registry.MODEL_PREFIX_TO_ENCODING == MODEL_PREFIX_TO_ENCODING
    for model in ["gpt-4o", "gpt-4", "gpt-3.5-turbo-0613", "text-davinci-003", "davinci",
                  "gpt-4.1-mini", "o3-mini", "ft:gpt-4o:org", "text-davinci-edit-001"]:
        assert ns.encoding_for_model(model).name == tiktoken.encoding_for_model(model).name
    with pytest.raises(KeyError):
        ns.encoding_for_model("no-such-model")
    with pytest.raises(ValueError, match="no-such-model.*Known models"):
        ns.encoding_for_model("no-such-model")


# ---- hypothesis -------------------------------------------------------------

_INTERESTING = (
    list("aAzZ09 \t\n\r\x0b\x0c'\"-_/\\.,;:!?<>|()[]{}") +
    ["\u00a0", "\u2028", "\u3000", "\u0085", "\u1680", "\u180e", "\u200b", "\ufeff",
     "ſ", "K", "ǅ", "ʰ", "ª", "\u0301", "\u0903", "\u20dd", "é", "ß", "İ", "ı",
     "中", "日", "한", "ア", "ー", "٣", "๓", "Ⅷ", "½", "²", "😀", "👍🏽", "\U0001fae8",
     "\U00031350", "\U0002ebf0", "\u0870", "\u1b7f",
     "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "'ſ", "’s",
     "123", "4567", "<|endoftext|>", "<|fim_prefix|>", "<|endofprompt|>", "<|", "|>",
     "  ", "\n\n", " \n", "\r\n", "   \t"]
)

texts = st.lists(
    st.one_of(st.sampled_from(_INTERESTING), st.text(max_size=6), st.characters()),
    max_size=40,
).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=texts, which=st.sampled_from(ENCODINGS))
def test_hypothesis_ids(impl, tiktoken_data_dir, oracle, text, which):
    ours = T.implementation(impl).get_encoding(which)
    ref = oracle(which)
    assert ours.encode(text, disallowed_special=()) == ref.encode(text, disallowed_special=())
    assert ours.encode(text, allowed_special="all") == ref.encode(text, allowed_special="all")
    assert ours.count(text, disallowed_special=()) == len(ref.encode(text, disallowed_special=()))


# ---- tiktoken's regex-engine limit -------------------------------------------

N_RUN = 999_999  # fancy-regex's backtracking stack, in whitespace characters


@pytest.mark.parametrize("splitter", ["python", "native"])
def test_regex_stack_rule(splitter):
    """Where tiktoken 0.14.0's regex runs out of backtracking stack (checked
    against tiktoken by bisection: 999 998 passes, 999 999 fails)."""
    from fast_litellm.tokenizer import _encoding

    split = _encoding._split_for(splitter)
    n = N_RUN
    cases = {  # stretch -> overflows for (r50k, cl100k, o200k)
        " " * n + "x": (True, True, True),
        " " * (n - 1) + "x": (False, False, False),
        " " * n: (False, False, True),  # `\s++$` takes it, o200k has none
        "\t" * n + "\nx": (True, False, False),  # a newline in the run
        "!" + "\n" * n + "x": (True, False, False),  # taken by the punctuation piece
        "\n" + "\u3000" * n + "x": (True, True, True),  # the piece after the newline
    }
    if splitter == "python":  # the pure-Python scanner is slow on 1 M characters
        cases = dict(list(cases.items())[:2])
    for stretch, expected in cases.items():
        got = tuple(_encoding.regex_stack_overflows(p, stretch, split) for p in (0, 1, 2))
        assert got == expected, repr(stretch[:3])


@pytest.mark.slow
def test_regex_stack_error_as_tiktoken(tiktoken_data_dir, oracle):
    """tiktoken's encode raises ValueError over such a run; so do encode,
    count and count_batch here (encode_ordinary: tiktoken panics, ours
    returns the ids)."""
    run = " " * N_RUN
    for name, text, kw in [("cl100k_base", run + "x", {}),  # raises
                           ("cl100k_base", "a" + run + "<|endoftext|>", {"allowed_special": "all"}),  # `\s++$`
                           ("o200k_base", "a" + run + "<|endoftext|>", {"allowed_special": "all"})]:  # raises
        ours, ref = T.implementation("native").get_encoding(name), oracle(name)
        _same_outcome(lambda: ours.encode(text, **kw), lambda: ref.encode(text, **kw))
        _same_outcome(lambda: ours.count(text, **kw), lambda: len(ref.encode(text, **kw)))
    _same_outcome(lambda: ours.count_batch(["ok", run + "x"]),
                  lambda: [len(x) for x in ref.encode_batch(["ok", run + "x"])])


def _fresh_pair(pair):
    """Unshared copies of both encodings: the tests below change their
    special_tokens_set, which get_encoding's cached objects must not see."""
    ours, ref = pair
    fresh_ref = tiktoken.Encoding(name=ref.name, pat_str=ref._pat_str,
                                  mergeable_ranks=ref._mergeable_ranks, special_tokens=ref._special_tokens)
    fresh_ours = type(ours)(ours.name, core=ours._core, special_tokens=ours._special_tokens)
    return fresh_ours, fresh_ref


CHANGES = {
    "add a plain string": lambda enc: enc.special_tokens_set.add("hello"),
    "remove endoftext": lambda enc: enc.special_tokens_set.discard("<|endoftext|>"),
    "clear": lambda enc: enc.special_tokens_set.clear(),
    "assign another set": lambda enc: setattr(enc, "special_tokens_set", {"hello", "<|endoftext|>"}),
    "assign unread": lambda enc: enc.__setattr__("special_tokens_set", frozenset({"world"})),
    "delete after a change": lambda enc: (enc.special_tokens_set.clear(), delattr(enc, "special_tokens_set")),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_changed_special_tokens_set_is_read_as_tiktoken_reads_it(pair, change):
    # tiktoken's encode(disallowed_special="all") reads its cached
    # special_tokens_set, so a caller who changes or replaces that set
    # changes what raises; count's fast path (the mask made at load) must
    # see it too, and count_batch's
    ours, ref = _fresh_pair(pair)
    texts = ["say hello world", "<|endoftext|> and more", "plain text", "<|fim_prefix|>x"]

    def outcome(fn):
        try:
            return fn()
        except ValueError as exc:
            return ("ValueError", str(exc))

    for enc in (ours, ref):
        CHANGES[change](enc)
    for text in texts:
        expected = outcome(lambda: len(ref.encode(text)))
        assert outcome(lambda: ours.count(text)) == expected, text
        assert outcome(lambda: len(ours.encode(text))) == expected, text
        assert outcome(lambda: ours.count(text, allowed_special="all")) == outcome(
            lambda: len(ref.encode(text, allowed_special="all"))), text
    assert outcome(lambda: ours.count_batch(texts)) == outcome(lambda: [len(ids) for ids in ref.encode_batch(texts)])


def test_count_pays_nothing_until_the_set_is_out(pair):
    ours, _ = _fresh_pair(pair)
    assert "count" not in vars(ours)  # the class's count: the fast path as it was
    assert ours.count("hello") == 1
    ours.special_tokens_set
    assert "count" in vars(ours)  # from now on checked against the set
    assert ours.count("hello") == 1
