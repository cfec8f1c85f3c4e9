"""Vocabulary loading (places, SHA-256 checks, clear errors) and the
pathological inputs (must finish; not timed)."""
from __future__ import annotations

import os
import shutil

import pytest

from fast_litellm import tokenizer as T
from fast_litellm.tokenizer import _load, _registry
from _forking import in_forked_child  # noqa: E402

tiktoken = pytest.importorskip("tiktoken")


def test_explicit_dir_and_file(impl, tiktoken_data_dir):
    ns = T.implementation(impl)
    enc = ns.get_encoding("r50k_base", vocab_path=str(tiktoken_data_dir))
    assert enc.encode("hello world") == [31373, 995]
    enc = ns.get_encoding("r50k_base", vocab_path=str(tiktoken_data_dir / "r50k_base.tiktoken"))
    assert enc.encode("hello world") == [31373, 995]


def test_vocab_path_type(impl, tiktoken_data_dir):
    ns = T.implementation(impl)
    for bad in (0, 1, True, 2**64, -1, 1.5, b"/x", ["x"]):  # 0 read stdin as a file descriptor
        with pytest.raises(TypeError, match="vocab_path must be str"):
            ns.get_encoding("r50k_base", vocab_path=bad)
    assert ns.get_encoding("r50k_base", vocab_path=tiktoken_data_dir).encode("hello world") == [31373, 995]


@pytest.mark.parametrize("kind", ["device", "fifo", "too-large"])
def test_vocab_path_that_is_no_regular_file_or_too_large(tmp_path, impl, kind):
    """Session 21 hunt: vocab_path="/dev/zero" read until memory ran out
    (5 GB in 8 s) and a FIFO blocked forever.  Run in a child with a memory
    cap and a timeout, so a regression fails instead of taking the machine."""
    import subprocess
    import sys
    import textwrap

    if kind == "device":
        if not os.path.exists("/dev/zero"):
            pytest.skip("no /dev/zero")
        path, why = "/dev/zero", "not a regular file"
    elif kind == "fifo":
        path, why = str(tmp_path / "fifo"), "not a regular file"
        os.mkfifo(path)
    else:
        path, why = str(tmp_path / "big.tiktoken"), "larger than"
        with open(path, "wb") as f:
            f.truncate(_load.MAX_VOCAB_BYTES + 1)  # sparse: no disk used
    code = textwrap.dedent("""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
        from fast_litellm import tokenizer
        try:
            tokenizer.implementation(sys.argv[1]).get_encoding("r50k_base", vocab_path=sys.argv[2])
        except tokenizer.VocabularyError as e:
            print(e)
    """)
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(__file__), "..", "..", "src"))
    # under `make sanitize-ext` the ASan runtime is preloaded, and ASan reserves
    # terabytes of address space: the 2 GB cap makes it fail to start ("Failed
    # to mmap"). The child runs src/'s plain build anyway, so it goes without.
    env.pop("LD_PRELOAD", None)
    out = subprocess.run([sys.executable, "-c", code, impl, path], capture_output=True, text=True,
                         timeout=60, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "%s: %s" % (path, why) in out.stdout, out.stdout


def test_sha_mismatch_and_missing(tmp_path, impl, tiktoken_data_dir, monkeypatch):
    ns = T.implementation(impl)
    bad = tmp_path / "r50k_base.tiktoken"
    data = (tiktoken_data_dir / "r50k_base.tiktoken").read_bytes()
    bad.write_bytes(data[:-10] + b"QUFB 99999\n")
    with pytest.raises(T.VocabularyError) as err:
        ns.get_encoding("r50k_base", vocab_path=str(tmp_path))
    msg = str(err.value)
    assert "r50k_base" in msg and "SHA-256 mismatch" in msg and str(bad) in msg
    with pytest.raises(T.VocabularyError, match="not found"):
        ns.get_encoding("r50k_base", vocab_path=str(tmp_path / "nothing-here"))


def test_search_order(tmp_path, monkeypatch, tiktoken_data_dir):
    spec = _registry.ENCODINGS["p50k_base"]
    monkeypatch.setenv("FAST_LITELLM_TIKTOKEN_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FAST_LITELLM_TIKTOKEN_OFFLINE", "1")
    monkeypatch.setattr(_load, "_litellm_bundle_dir", lambda: str(tmp_path / "bundle"))
    with pytest.raises(T.VocabularyError) as err:
        _load.load_vocabulary(spec)
    msg = str(err.value)
    for where in ("FAST_LITELLM_TIKTOKEN_DIR", "LiteLLM bundle", "tiktoken cache", "disabled (offline)"):
        assert where in msg
    # the tiktoken cache, by cache name
    (tmp_path / "cache").mkdir()
    shutil.copy(tiktoken_data_dir / "p50k_base.tiktoken", tmp_path / "cache" / spec.cache_name)
    assert _load.load_vocabulary(spec)[:10] == (tiktoken_data_dir / "p50k_base.tiktoken").read_bytes()[:10]
    # an empty TIKTOKEN_CACHE_DIR disables the cache, as in tiktoken
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    monkeypatch.delenv("DATA_GYM_CACHE_DIR", raising=False)
    with pytest.raises(T.VocabularyError):
        _load.load_vocabulary(spec)


def test_litellm_bundle_cache_names():
    # LiteLLM's bundled files are named by tiktoken's cache name
    bundle = _load._litellm_bundle_dir()
    if not bundle or not os.path.isdir(bundle):
        pytest.skip("LiteLLM not installed")
    spec = _registry.ENCODINGS["cl100k_base"]
    path = os.path.join(bundle, spec.cache_name)
    if os.path.exists(path):
        assert _load._sha256(open(path, "rb").read()) == spec.sha256


def test_prebuilt_vocabulary_cache(tmp_path, monkeypatch, tiktoken_data_dir):
    from fast_litellm import _native_loader

    if _native_loader.NATIVE is None:
        pytest.skip("native core not built")
    monkeypatch.setenv("FAST_LITELLM_CACHE_DIR", str(tmp_path))
    spec = _registry.ENCODINGS["r50k_base"]
    ref = tiktoken.get_encoding("r50k_base")
    text = "prebuilt vocabularies start fast, don't they? 12345 ünïcödé"
    enc = T._Implementation("native").get_encoding("r50k_base")  # fresh cache of encodings
    assert enc.encode(text) == ref.encode(text)
    path = _load.prebuilt_path(spec)
    _load.wait_for_prebuilt_writes()  # written in the background
    assert os.path.exists(path)  # written from the checked source
    enc2 = T._Implementation("native").get_encoding("r50k_base")  # loaded by mmap
    assert enc2.encode(text) == ref.encode(text)
    # a corrupt prebuilt file is never used: rebuilt from the source
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(path, "wb").write(bytes(data))
    enc3 = T._Implementation("native").get_encoding("r50k_base")
    assert enc3.encode(text) == ref.encode(text)
    _load.wait_for_prebuilt_writes()
    assert open(path, "rb").read() != bytes(data)  # rewritten
    # disabled with an empty FAST_LITELLM_CACHE_DIR
    monkeypatch.setenv("FAST_LITELLM_CACHE_DIR", "")
    assert _load.prebuilt_path(spec) is None


def test_malformed_vocabulary(impl):
    core = T._core_class(impl)
    for data in (b"", b"YQ==\n", b"YQ== x\n", b"!!!! 1\n"):
        with pytest.raises(ValueError, match="invalid vocabulary"):
            core(data, 1, [])
    with pytest.raises(ValueError, match="byte"):
        core(b"YQ== 0\n", 1, [])


# ---- pathological inputs: must finish, O(n log n); not timed ---------------

def _oracle(name):
    return tiktoken.get_encoding(name)


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_one_million_identical_chars(impl, tiktoken_data_dir, name):
    enc = T.implementation(impl).get_encoding(name)
    n = 1_000_000 if impl == "native" else 100_000
    for ch in ("a", " ", "1", "!", "中"):
        text = ch * n
        ids = enc.encode_ordinary(text)
        assert enc.decode(ids) == text
        assert enc.count_ordinary(text) == len(ids)
        if ch == " " and name == "o200k_base" and n >= 999_999:
            # tiktoken's encode raises here: its regex's backtracking stack
            # (test_tokenizer_encoding.py::test_regex_stack_rule)
            with pytest.raises(ValueError, match="Max stack size exceeded"):
                enc.count(text)
        else:
            assert enc.count(text) == len(ids)
    # cross-check a size tiktoken handles quickly
    small = "a" * 5000
    assert enc.encode_ordinary(small) == _oracle(name).encode_ordinary(small)


@pytest.mark.slow
def test_ten_megabyte_single_piece(impl, tiktoken_data_dir):
    if impl != "native":
        pytest.skip("10 MB through the pure-Python twin takes minutes")
    enc = T.implementation(impl).get_encoding("o200k_base")
    import random

    rnd = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyzéüßøåæœ"
    text = "".join(rnd.choice(letters) for _ in range(5_000_000))  # ~10 MB of UTF-8, one \p{L}+ piece
    assert len(text.encode()) > 5_000_000
    n = enc.count(text)
    assert 0 < n < len(text)
    assert enc.decode(enc.encode_ordinary(text)) == text


def test_many_special_tokens_linear(impl, tiktoken_data_dir):
    """Allowed special tokens that never occur must not be searched for again
    after every occurrence of another one (that would be quadratic)."""
    enc = T.implementation(impl).get_encoding("cl100k_base")
    text = "<|endoftext|>a" * 100_000
    assert enc.count(text, allowed_special="all") == 200_000
    ids = enc.encode(text[:140], allowed_special="all")
    assert ids == _oracle("cl100k_base").encode(text[:140], allowed_special="all")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_while_another_thread_loads(impl, tiktoken_data_dir):
    """A thread loading an encoding holds the twin's lock (tens of ms);
    a fork at that moment used to leave the lock held forever in the
    child, so the child's first get_encoding hung (gunicorn --preload
    with a warm-up thread)."""
    import threading
    from fast_litellm.tokenizer import _counter

    ns = T.implementation(impl)
    inside, release = threading.Event(), threading.Event()

    def loading():  # what get_encoding does while it loads: hold the lock
        with ns.implementation._lock, _counter._price_lock:
            inside.set()
            release.wait(20)

    t = threading.Thread(target=loading)
    t.start()
    try:
        assert inside.wait(20)

        def child():
            enc = ns.get_encoding("r50k_base")
            return enc.encode("hello world") == [31373, 995] and isinstance(_counter.litellm_price_map(), dict)

        assert in_forked_child(child) == 0
    finally:
        release.set()
        t.join()
