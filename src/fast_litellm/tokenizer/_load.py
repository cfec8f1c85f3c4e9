"""Find a vocabulary file, check its SHA-256, return its bytes.

Places, in order (the first file whose SHA-256 matches wins):
  1. an explicit path (a file, or a directory holding the file by its own
     name or by tiktoken's cache name), else $FAST_LITELLM_TIKTOKEN_DIR;
  2. the files bundled in the installed LiteLLM, under
     litellm/litellm_core_utils/tokenizers/ (named by cache name), found
     without importing LiteLLM;
  3. tiktoken's cache: $TIKTOKEN_CACHE_DIR, else $DATA_GYM_CACHE_DIR, else
     <tempdir>/data-gym-cache (an empty TIKTOKEN_CACHE_DIR disables it,
     as in tiktoken);
  4. a download from the official URL (unless FAST_LITELLM_TIKTOKEN_OFFLINE
     is set), stored into tiktoken's cache for next time.
A file whose hash differs is skipped, never used.

The C core also keeps a prebuilt copy of each vocabulary (its hash table as
it is in memory, ~12 MB for o200k_base) in $FAST_LITELLM_CACHE_DIR (default
$XDG_CACHE_HOME/fast-litellm or ~/.cache/fast-litellm; empty disables it),
written only from a SHA-256-checked source, named by that source's hash,
by a background thread after the first parse (store_prebuilt_in_background:
the first run does not wait for it), atomically (own temporary file, then
rename), and loaded by mmap after checking its header, source hash,
checksum, structure and a sample of lookups, so a later process starts
without parsing (see fl_vocab_from_blob).  When nothing fits, the error
names the encoding and every place looked at, with what was found.
"""
from __future__ import annotations

import os
from typing import Any, Iterator, List, Optional, Tuple

from ._registry import EncodingSpec

_TRUTHY = {"1", "true", "yes", "on"}


class VocabularyError(ValueError):
    """No usable vocabulary file was found for an encoding."""


def _sha256(data: bytes) -> str:
    """Hex SHA-256: the C core's (CPU SHA instructions) when it has one, so
    a cold start need not import hashlib/OpenSSL (~2.5 ms); else hashlib."""
    from .._native_loader import NATIVE

    native = getattr(NATIVE, "vocab_sha256", None)
    digest = native(data) if native is not None else None
    if digest is not None:
        return digest.hex()
    import hashlib

    return hashlib.sha256(data).hexdigest()


#: no vocabulary is near this size (o200k_base: 3.6 MB); a file beyond it
#: cannot match a SHA-256 we know, so it is not read whole
MAX_VOCAB_BYTES = 64 << 20


def _read(path: str):
    """The file's bytes, or why not (a str).  Only a regular file, opened
    without blocking and read up to MAX_VOCAB_BYTES: vocab_path="/dev/zero"
    read until memory ran out (5 GB in 8 s) and a FIFO blocked forever."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return "not found"
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return "not a regular file"
        with open(fd, "rb", closefd=False) as f:  # buffered: read(n) reads on to n or EOF
            data = f.read(MAX_VOCAB_BYTES + 1)
    except OSError:
        return "not readable"
    finally:
        os.close(fd)
    if len(data) > MAX_VOCAB_BYTES:
        return "larger than %d bytes" % MAX_VOCAB_BYTES
    return data


def _dir_candidates(directory: str, spec: EncodingSpec) -> List[str]:
    return [os.path.join(directory, spec.file), os.path.join(directory, spec.cache_name)]


def _litellm_bundle_dir() -> Optional[str]:
    try:
        import importlib.util

        found = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    return os.path.join(list(found.submodule_search_locations)[0], "litellm_core_utils", "tokenizers")


def tiktoken_cache_dir() -> Optional[str]:
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        d = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        d = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        import tempfile

        d = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    return d or None


def _local_places(spec: EncodingSpec, path: Optional[str]) -> Iterator[Tuple[str, str]]:
    """(description, file path) for every local place, in order.  Lazy: the
    first place usually matches, and finding tiktoken's cache directory can
    cost milliseconds (tempfile.gettempdir() probes the disk)."""
    first = path if path is not None else os.environ.get("FAST_LITELLM_TIKTOKEN_DIR") or None
    label = "explicit path" if path is not None else "FAST_LITELLM_TIKTOKEN_DIR"
    if first is not None:
        if os.path.isdir(first):
            for candidate in _dir_candidates(first, spec):
                yield label, candidate
        else:
            yield label, first
        if path is not None:
            return  # an explicit path is the only place looked at
    bundle = _litellm_bundle_dir()
    if bundle:
        yield "LiteLLM bundle", os.path.join(bundle, spec.cache_name)
    cache = tiktoken_cache_dir()
    if cache:
        yield "tiktoken cache", os.path.join(cache, spec.cache_name)


def _download(spec: EncodingSpec) -> bytes:
    import urllib.request

    with urllib.request.urlopen(spec.url, timeout=30) as resp:  # noqa: S310 - fixed https URL
        return resp.read()


def _store_in_cache(spec: EncodingSpec, data: bytes) -> None:
    cache = tiktoken_cache_dir()
    if not cache:
        return
    try:
        os.makedirs(cache, exist_ok=True)
        target = os.path.join(cache, spec.cache_name)
        tmp = "%s.%d.tmp" % (target, os.getpid())
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only cache is not an error


def load_vocabulary(spec: EncodingSpec, path: Optional[str] = None,
                    allow_download: Optional[bool] = None) -> bytes:
    """The bytes of spec's vocabulary file, SHA-256 checked."""
    looked: List[str] = []
    for label, candidate in _local_places(spec, path):
        data = _read(candidate)
        if isinstance(data, str):
            looked.append("%s %s: %s" % (label, candidate, data))
            continue
        if _sha256(data) != spec.sha256:
            looked.append("%s %s: SHA-256 mismatch" % (label, candidate))
            continue
        return data
    if allow_download is None:
        allow_download = path is None and (
            os.environ.get("FAST_LITELLM_TIKTOKEN_OFFLINE", "").strip().lower() not in _TRUTHY)
    if allow_download:
        try:
            data = _download(spec)
        except Exception as exc:  # noqa: BLE001 - any network failure is reported
            looked.append("download %s: %s" % (spec.url, exc))
        else:
            if _sha256(data) == spec.sha256:
                _store_in_cache(spec, data)
                return data
            looked.append("download %s: SHA-256 mismatch" % spec.url)
    else:
        looked.append("download %s: disabled (offline)" % spec.url)
    raise VocabularyError(
        "no usable vocabulary for encoding %r (expected SHA-256 %s); looked at:\n  %s"
        % (spec.name, spec.sha256, "\n  ".join(looked))
    )


# ---- prebuilt vocabularies (native core only) -----------------------------

PREBUILT_VERSION = 4


def prebuilt_cache_dir() -> Optional[str]:
    from .._cache_dir import cache_dir

    return cache_dir()


def prebuilt_path(spec: EncodingSpec) -> Optional[str]:
    d = prebuilt_cache_dir()
    if not d:
        return None
    return os.path.join(d, "%s-%s.v%d.flvocab" % (spec.file.split(".")[0], spec.sha256[:24],
                                                 PREBUILT_VERSION))


def open_prebuilt(spec: EncodingSpec) -> Optional[Any]:
    """A read-only mmap of the prebuilt vocabulary, or None."""
    path = prebuilt_path(spec)
    if not path:
        return None
    try:
        import mmap

        with open(path, "rb") as f:
            blob = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    _advise_huge_pages(blob)
    return blob


def _advise_huge_pages(blob: Any) -> None:
    """Ask (Linux) for the file's page cache in 2 MB folios, before the
    first touch: when the file is read from disk, readahead then fills
    huge folios, which this and every later process maps with 2 MB
    entries (the kernel aligns the mapping), so the randomly probed
    table takes far fewer TLB misses (count +3-4% on o200k code) and the
    load's checksum pass faults ~0.4 ms instead of ~1.6 ms.  Pages
    already cached stay as they are; no memory is added or copied.
    Harmless where unsupported."""
    import mmap

    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    if advice is None or not hasattr(blob, "madvise"):
        return
    try:
        blob.madvise(advice)
    except (OSError, ValueError):
        pass


_STALE_TMP_SECONDS = 600.0
_writers: List[Any] = []  # background writer threads not yet joined (see wait_for_prebuilt_writes)


def _remove_stale_tmp_files(path: str) -> None:
    """Temporary files of writers that died mid-write (killed processes)."""
    import time

    directory, base = os.path.split(path)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    cutoff = time.time() - _STALE_TMP_SECONDS
    for name in names:
        if name.startswith(base + ".") and name.endswith(".tmp"):
            tmp = os.path.join(directory, name)
            try:
                if os.stat(tmp).st_mtime < cutoff:
                    os.unlink(tmp)
            except OSError:
                pass


def store_prebuilt(spec: EncodingSpec, blob: bytes) -> None:
    """Write the prebuilt vocabulary atomically: into a temporary file of
    its own (pid + random name, created exclusively), then renamed over
    the target, so readers only ever see a whole file, and any number of
    processes (or forked children) may write at once: the last rename wins
    and every candidate is complete and valid."""
    path = prebuilt_path(spec)
    if not path:
        return
    tmp = None
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _remove_stale_tmp_files(path)
        tmp = "%s.%d.%s.tmp" % (path, os.getpid(), os.urandom(6).hex())
        with open(tmp, "xb") as f:
            f.write(blob)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass  # a read-only cache only costs start-up time
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def store_prebuilt_in_background(spec: EncodingSpec, core: Any) -> Optional[Any]:
    """Serialize core's vocabulary and store it, in a background thread, so
    the first run does not pay for it (~15 ms for o200k_base).  The thread
    is not a daemon: a short-lived process finishes the write at exit
    rather than leaving a partial temporary file.  Returns the thread (None
    when the cache is disabled)."""
    if not prebuilt_path(spec):
        return None
    import threading

    def write() -> None:
        try:
            blob = core.serialize(bytes.fromhex(spec.sha256))
        except MemoryError:
            return
        store_prebuilt(spec, blob)

    thread = threading.Thread(target=write, name="fast-litellm-prebuilt-%s" % spec.name)
    try:
        thread.start()
    except RuntimeError:  # at interpreter shutdown, or out of threads: the next run writes it
        return None
    _writers[:] = [t for t in _writers if t.is_alive()] + [thread]
    return thread


def wait_for_prebuilt_writes(timeout: Optional[float] = None) -> None:
    """Join the background writers started by this process (tests, tools)."""
    for thread in list(_writers):
        thread.join(timeout)
