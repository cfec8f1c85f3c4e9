"""Exact tiktoken-compatible tokenizer (C core, pure-Python twin).

    enc = fast_litellm.get_encoding("o200k_base")
    enc.encode("hello world") == tiktoken.get_encoding("o200k_base").encode("hello world")
    enc.count(text)                # == len(enc.encode(text)), no list built
    enc.count_batch(texts, num_threads=2)

The public names use the C core when it is built (fast_litellm._native),
else the pure-Python twin; ``implementation("python" | "native")`` gives
either explicitly, with the same API.  Vocabularies are found and
SHA-256-checked by ``_load`` (see there for the places searched).
"""
from __future__ import annotations

import os
import threading
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

from .._native_loader import NATIVE
from . import _registry
from ._encoding import Encoding
from . import _load
from ._load import VocabularyError, load_vocabulary

__all__ = [
    "Encoding",
    "get_encoding",
    "encoding_for_model",
    "encoding_name_for_model",
    "list_encoding_names",
    "SimpleTokenCounter",
    "VocabularyError",
    "UnknownModelError",
    "implementation",
]


class UnknownModelError(KeyError, ValueError):
    """A model name with no known encoding: a KeyError like tiktoken's, and a
    ValueError listing the known names."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


def list_encoding_names() -> List[str]:
    return sorted(_registry.ENCODINGS)


def _core_class(kind: str):
    from .._native_loader import check_kind, require_native

    check_kind(kind)
    if kind == "native":
        return require_native("tokenizer", "TokenizerCore").TokenizerCore
    from ._python import TokenizerCore

    return TokenizerCore


def encoding_name_for_model(model_name: str) -> str:
    """tiktoken 0.14.0's model -> encoding name mapping."""
    if not isinstance(model_name, str):
        raise TypeError("model_name must be str, not %s" % type(model_name).__name__)
    name = _registry.encoding_name_for_model(model_name)
    if name is None:
        raise UnknownModelError(
            "Could not automatically map %s to a tokeniser. Please use `get_encoding` to "
            "explicitly get the tokeniser you expect. Known models: %s; known prefixes: %s"
            % (model_name, ", ".join(sorted(_registry.MODEL_TO_ENCODING)),
               ", ".join(sorted(_registry.MODEL_PREFIX_TO_ENCODING)))
        )
    return name


def _from_prebuilt(core_cls, spec, specials):
    """A native core over the mmap'd prebuilt vocabulary, or None (absent,
    stale or corrupt: the caller rebuilds it from the checked source)."""
    blob = _load.open_prebuilt(spec)
    if blob is None:
        return None
    try:
        return core_cls.from_blob(blob, bytes.fromhex(spec.sha256), spec.pattern, specials)
    except ValueError:
        blob.close()
        return None


class _Implementation:
    """get_encoding & co. bound to one core twin, with its own cache."""

    def __init__(self, kind: str):
        self.kind = kind
        self._cache: Dict[str, Encoding] = {}
        self._lock = threading.Lock()

    def get_encoding(self, encoding_name: str, *, vocab_path: Optional[str] = None) -> Encoding:
        if not isinstance(encoding_name, str):
            raise TypeError("encoding_name must be str, not %s" % type(encoding_name).__name__)
        if vocab_path is None:
            enc = self._cache.get(encoding_name)
            if enc is not None:
                return enc
        elif not isinstance(vocab_path, (str, os.PathLike)):  # an int would be read as a file descriptor
            raise TypeError("vocab_path must be str, os.PathLike or None, not %s" % type(vocab_path).__name__)
        spec = _registry.ENCODINGS.get(encoding_name)
        if spec is None:
            raise ValueError("Unknown encoding %s. Known encodings: %s"
                             % (encoding_name, ", ".join(list_encoding_names())))
        with self._lock:
            if vocab_path is None and encoding_name in self._cache:
                return self._cache[encoding_name]
            specials = [(s.encode("utf-8"), r) for s, r in spec.special_tokens.items()]
            core_cls = _core_class(self.kind)
            core = None
            use_prebuilt = vocab_path is None and hasattr(core_cls, "from_blob")
            if use_prebuilt:
                core = _from_prebuilt(core_cls, spec, specials)
            if core is None:
                data = load_vocabulary(spec, vocab_path)
                core = core_cls(data, spec.pattern, specials)
                if use_prebuilt:  # for the next process; not on this one's time
                    _load.store_prebuilt_in_background(spec, core)
            enc = Encoding(spec.name, core=core, special_tokens=spec.special_tokens,
                           explicit_n_vocab=spec.explicit_n_vocab)
            enc._kind = self.kind
            if vocab_path is None:
                self._cache[encoding_name] = enc
            return enc

    def encoding_for_model(self, model_name: str) -> Encoding:
        name = encoding_name_for_model(model_name)
        if name not in _registry.ENCODINGS:
            raise ValueError("Unknown encoding %s (for model %s). Known encodings: %s"
                             % (name, model_name, ", ".join(list_encoding_names())))
        return self.get_encoding(name)

    def namespace(self) -> SimpleNamespace:
        return _Namespace(
            implementation=self,
            kind=self.kind,
            Encoding=Encoding,
            get_encoding=self.get_encoding,
            encoding_for_model=self.encoding_for_model,
            encoding_name_for_model=encoding_name_for_model,
            list_encoding_names=list_encoding_names,
            VocabularyError=VocabularyError,
            UnknownModelError=UnknownModelError,
            pretok_split=(NATIVE.pretok_split if self.kind == "native"
                          else __import__(__name__ + "._python", fromlist=["x"]).pretok_split),
        )


class _Namespace(SimpleNamespace):
    """The API of one twin; SimpleTokenCounter is made on first use (it
    pulls in json and the price map code, which counting does not need)."""

    def __getattr__(self, name: str) -> Any:
        if name == "SimpleTokenCounter":
            from ._counter import make_counter_class

            cls = make_counter_class(self.implementation)
            self.SimpleTokenCounter = cls
            return cls
        raise AttributeError(name)


_IMPLS: Dict[str, SimpleNamespace] = {}


def _after_fork_in_child() -> None:
    """A thread of the parent may have been loading an encoding (tens of
    milliseconds under the lock) when another forked: in the child that
    thread is gone and its lock would stay held forever.  Give each twin a
    fresh lock; an encoding the lost thread was loading is simply loaded
    again on first use."""
    for ns in list(_IMPLS.values()):
        ns.implementation._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def implementation(kind: str) -> SimpleNamespace:
    """The tokenizer API on the "python" or "native" core."""
    ns = _IMPLS.get(kind)
    if ns is None:
        _core_class(kind)  # raises for an unknown or unbuilt kind
        ns = _IMPLS[kind] = _Implementation(kind).namespace()
    return ns


DEFAULT_KIND = "native" if NATIVE is not None and hasattr(NATIVE, "TokenizerCore") else "python"
_default = implementation(DEFAULT_KIND)

get_encoding = _default.get_encoding
encoding_for_model = _default.encoding_for_model




def __getattr__(name: str) -> Any:
    if name == "SimpleTokenCounter":
        return _default.SimpleTokenCounter
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def _unpickle_encoding(kind: Optional[str], name: str) -> Encoding:
    try:
        ns = implementation(kind) if kind else _default
    except RuntimeError:
        ns = _default
    return ns.get_encoding(name)
