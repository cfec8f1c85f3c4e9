"""The native core's prebuilt-vocabulary cache: written in the background,
atomically, by any number of processes at once (and across fork), swept
of dead writers' temporary files, and never trusted when it is damaged or
belongs to another vocabulary (the ids always equal tiktoken's)."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from fast_litellm import _native_loader
from fast_litellm import tokenizer as T
from fast_litellm.tokenizer import _load, _registry

tiktoken = pytest.importorskip("tiktoken")

pytestmark = pytest.mark.skipif(_native_loader.NATIVE is None, reason="native core not built")

TEXT = "prebuilt vocabularies, written once; read by mmap 12345 ünïcödé 🙂 <|endoftext|>"
NAME = "r50k_base"  # the smallest vocabulary: fast to parse and write


@pytest.fixture(autouse=True)
def _vocabularies(tiktoken_data_dir):
    """r50k comes only from the shared data (LiteLLM bundles cl100k and
    o200k): without it the loader would go on to download, and tests never
    touch the network."""


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "prebuilt"
    monkeypatch.setenv("FAST_LITELLM_CACHE_DIR", str(d))
    return d


def _fresh(name: str = NAME):
    """get_encoding through a fresh cache of encodings (so it loads again)."""
    return T._Implementation("native").get_encoding(name)


def _expected(name: str = NAME):
    return tiktoken.get_encoding(name).encode(TEXT, disallowed_special=())


def _loaded_from_prebuilt(name: str = NAME) -> bool:
    spec = _registry.ENCODINGS[name]
    specials = [(s.encode("utf-8"), r) for s, r in spec.special_tokens.items()]
    return T._from_prebuilt(T._core_class("native"), spec, specials) is not None


def test_written_in_background_then_used(cache_dir):
    enc = _fresh()
    assert enc.encode(TEXT, disallowed_special=()) == _expected()
    _load.wait_for_prebuilt_writes()
    path = _load.prebuilt_path(_registry.ENCODINGS[NAME])
    assert os.path.isfile(path)
    assert [n for n in os.listdir(cache_dir) if n.endswith(".tmp")] == []
    assert _loaded_from_prebuilt()
    assert _fresh().encode(TEXT, disallowed_special=()) == _expected()


def test_disabled_cache_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("FAST_LITELLM_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _fresh().encode(TEXT, disallowed_special=()) == _expected()
    assert _load.store_prebuilt_in_background(_registry.ENCODINGS[NAME], object()) is None
    _load.wait_for_prebuilt_writes()
    assert not (tmp_path / "xdg").exists()


def test_no_thread_available(cache_dir, monkeypatch):
    """At interpreter shutdown (or out of threads) Thread.start raises
    RuntimeError: loading still works, the file is simply not written."""
    import threading

    def refuse(self):
        raise RuntimeError("can't create new thread at interpreter shutdown")

    with monkeypatch.context() as patch:
        patch.setattr(threading.Thread, "start", refuse)
        assert _fresh().encode(TEXT, disallowed_special=()) == _expected()
    _load.wait_for_prebuilt_writes()
    assert not os.path.exists(_load.prebuilt_path(_registry.ENCODINGS[NAME]))


_AT_EXIT = r"""
import atexit, sys
from fast_litellm import tokenizer as T
atexit.register(lambda: print(T.get_encoding(sys.argv[1]).count(sys.argv[2], disallowed_special=())))
"""


def test_first_load_at_exit(cache_dir):
    env = dict(os.environ, FAST_LITELLM_CACHE_DIR=str(cache_dir))
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(T.__file__))))
    env["PYTHONPATH"] = package_root + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", _AT_EXIT, NAME, TEXT], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(len(_expected()))]


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "other-vocabulary", "garbage"])
def test_damaged_cache_is_refused_and_replaced(cache_dir, damage):
    _fresh()
    _load.wait_for_prebuilt_writes()
    spec = _registry.ENCODINGS[NAME]
    path = _load.prebuilt_path(spec)
    good = open(path, "rb").read()
    if damage == "flip":
        bad = bytearray(good)
        for at in (len(bad) // 3, len(bad) // 2, len(bad) - 9):
            bad[at] ^= 0x41
        bad = bytes(bad)
    elif damage == "truncate":
        bad = good[: len(good) // 2]
    elif damage == "empty":
        bad = b""
    elif damage == "garbage":
        bad = os.urandom(len(good))
    else:  # another encoding's valid prebuilt file under this name
        T._Implementation("native").get_encoding("p50k_base")
        _load.wait_for_prebuilt_writes()
        bad = open(_load.prebuilt_path(_registry.ENCODINGS["p50k_base"]), "rb").read()
    tmp = path + ".damage"
    with open(tmp, "wb") as f:
        f.write(bad)
    os.replace(tmp, path)  # as a writer would, never in place
    assert not _loaded_from_prebuilt()
    assert _fresh().encode(TEXT, disallowed_special=()) == _expected()
    _load.wait_for_prebuilt_writes()
    assert open(path, "rb").read() == good  # rebuilt from the checked source


def test_stale_temporary_files_are_swept(cache_dir):
    spec = _registry.ENCODINGS[NAME]
    path = _load.prebuilt_path(spec)
    os.makedirs(cache_dir, exist_ok=True)
    stale, fresh = path + ".1.dead.tmp", path + ".2.live.tmp"
    for p in (stale, fresh):
        with open(p, "wb") as f:
            f.write(b"partial")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    _fresh()
    _load.wait_for_prebuilt_writes()
    assert not os.path.exists(stale)
    assert os.path.exists(fresh)  # a writer may still be busy with it
    assert os.path.isfile(path)


_CHILD = r"""
import os, sys
from fast_litellm import tokenizer as T
enc = T.get_encoding(sys.argv[1])
pid = os.fork() if sys.argv[2] == "fork" else -1
os.write(1, b"%d\n" % enc.count(sys.argv[3], disallowed_special=()))  # one write: parent and child share stdout
if pid == 0:
    os._exit(0)
if pid > 0:
    os.waitpid(pid, 0)
"""


def _run_children(cache_dir, n: int, mode: str = "plain"):
    env = dict(os.environ, FAST_LITELLM_CACHE_DIR=str(cache_dir))
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(T.__file__))))
    env["PYTHONPATH"] = package_root + os.pathsep + env.get("PYTHONPATH", "")
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD, NAME, mode, TEXT], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(n)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    return [line for out, _ in outs for line in out.split()]


def test_many_processes_build_at_once(cache_dir):
    expected = str(len(_expected()))
    assert _run_children(cache_dir, 4) == [expected] * 4
    names = os.listdir(cache_dir)
    assert [n for n in names if n.endswith(".tmp")] == []
    assert len([n for n in names if n.endswith(".flvocab")]) == 1
    assert _loaded_from_prebuilt()
    # and processes started now read it
    assert _run_children(cache_dir, 3) == [expected] * 3


def test_fork_while_writing(cache_dir):
    expected = str(len(_expected()))
    assert _run_children(cache_dir, 2, "fork") == [expected] * 4
    assert [n for n in os.listdir(cache_dir) if n.endswith(".tmp")] == []
    assert _loaded_from_prebuilt()


# ---- checking the source without hashlib ------------------------------------

def test_prebuilt_mapping_asks_for_huge_pages(cache_dir, monkeypatch):
    """open_prebuilt advises MADV_HUGEPAGE on the mapping before it is
    read (so readahead fills 2 MB folios), and a platform without
    madvise, or one that refuses it, still gets a working mapping."""
    import mmap

    _fresh()
    _load.wait_for_prebuilt_writes()
    spec = _registry.ENCODINGS[NAME]
    calls = []
    real = _load._advise_huge_pages
    monkeypatch.setattr(_load, "_advise_huge_pages", lambda blob: (calls.append(len(blob)), real(blob)))
    blob = _load.open_prebuilt(spec)
    assert blob is not None and calls == [len(blob)]
    blob.close()
    assert _fresh().encode(TEXT, disallowed_special=()) == _expected()

    class Refusing:
        def madvise(self, *args):
            raise OSError(22, "Invalid argument")

    real(Refusing())  # swallowed
    real(object())  # no madvise method: nothing to do
    monkeypatch.delattr(mmap, "MADV_HUGEPAGE", raising=False)
    monkeypatch.setattr(_load, "_advise_huge_pages", real)
    assert _loaded_from_prebuilt()
    assert _fresh().encode(TEXT, disallowed_special=()) == _expected()


def test_native_sha256_equals_hashlib():
    import hashlib
    import random

    native = getattr(_native_loader.NATIVE, "vocab_sha256", None)
    if native is None or native(b"") is None:
        pytest.skip("no CPU SHA instructions: hashlib is used")
    rnd = random.Random(5)
    for n in list(range(0, 200)) + [4095, 4096, 4097, 65535, 1 << 20, 3_000_001]:
        data = rnd.randbytes(n) if hasattr(rnd, "randbytes") else os.urandom(n)
        assert native(data) == hashlib.sha256(data).digest(), n
    assert native(bytearray(b"abc")) == hashlib.sha256(b"abc").digest()
    assert native(memoryview(b"xabcx")[1:4]) == hashlib.sha256(b"abc").digest()
    with pytest.raises(TypeError):
        native("text")


def test_sha256_falls_back_to_hashlib(monkeypatch):
    import hashlib

    class NoSha:
        @staticmethod
        def vocab_sha256(data):
            return None  # a CPU without SHA instructions

    monkeypatch.setattr(_native_loader, "NATIVE", NoSha)
    assert _load._sha256(b"abc") == hashlib.sha256(b"abc").hexdigest()
    monkeypatch.setattr(_native_loader, "NATIVE", None)  # no C core at all
    assert _load._sha256(b"abc") == hashlib.sha256(b"abc").hexdigest()


def test_cache_names_are_sha1_of_the_urls():
    import hashlib

    for spec in _registry.ENCODINGS.values():
        assert spec.cache_name == hashlib.sha1(spec.url.encode()).hexdigest()
    assert set(_registry.CACHE_NAMES) == {spec.file for spec in _registry.ENCODINGS.values()}


def test_first_load_does_not_import_hashlib(tmp_path):
    if getattr(_native_loader.NATIVE, "vocab_sha256", lambda d: None)(b"") is None:
        pytest.skip("no CPU SHA instructions: hashlib is used")
    env = dict(os.environ, FAST_LITELLM_CACHE_DIR=str(tmp_path / "empty"))
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(T.__file__))))
    env["PYTHONPATH"] = package_root + os.pathsep + env.get("PYTHONPATH", "")
    code = ("import sys, fast_litellm; fast_litellm.get_encoding(%r).count('x'); "
            "print('_hashlib' in sys.modules)" % NAME)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False"]
