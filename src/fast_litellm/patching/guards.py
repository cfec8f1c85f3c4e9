"""Guards: is the installed LiteLLM the one a patch was verified against?

Two checks per patch: the LiteLLM version is pinned (``pins.LITELLM_VERSIONS``)
and the SHA-256 of the original's source equals the recorded one
(``pins.VERIFIED``).  Either failing means our proof of exactness does not
cover the code that is installed, so the patch is not applied.
"""
from __future__ import annotations

import sys
import types
from typing import Any, Dict, Optional, Tuple

from . import pins
from .registry import original_if_ours


def installed_litellm_version() -> Optional[str]:
    mod = sys.modules.get("litellm")
    version = getattr(mod, "__version__", None) if mod is not None else None
    if isinstance(version, str) and version:
        return version
    return _distribution_version()


_dist_version: list = []  # memo: reading the distribution's metadata costs ~3 ms


def _distribution_version() -> Optional[str]:
    if not _dist_version:
        try:
            from importlib.metadata import PackageNotFoundError, version as dist_version
        except ImportError:  # pragma: no cover - Python < 3.8
            return None
        try:
            _dist_version.append(dist_version("litellm"))
        except PackageNotFoundError:
            return None
    return _dist_version[0]


def unwrap_descriptor(obj: Any) -> Any:
    """The function inside a staticmethod/classmethod/property object."""
    if isinstance(obj, (staticmethod, classmethod)):
        return obj.__func__
    return obj


def _cache_key(obj: Any) -> Optional[str]:
    """Where ``obj``'s source lives, as a key that changes when the file does:
    path, size and mtime (what CPython's own .pyc check uses), qualname and
    first line.  None for objects without a plain source file."""
    import inspect
    import os

    try:
        obj = inspect.unwrap(obj)  # what getsource reads: the innermost __wrapped__
    except ValueError:
        return None
    code = getattr(obj, "__code__", None)
    if code is not None:
        path, line = code.co_filename, code.co_firstlineno
        name = getattr(code, "co_qualname", None) or getattr(obj, "__qualname__", "")
    elif isinstance(obj, type):
        mod = sys.modules.get(obj.__module__)
        path, line, name = getattr(mod, "__file__", None), 0, "class " + obj.__qualname__
    else:
        return None
    if not path or not path.endswith(".py"):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return "%s|%d|%d|%s|%d" % (path, st.st_size, st.st_mtime_ns, name, line)


class _DigestCache:
    """SHA-256 of ``inspect.getsource`` results, remembered across processes.

    ``inspect.getsource`` tokenizes (for classes, parses the whole module);
    checking every pinned source took ~0.35 s of each ``import litellm``.
    The digests are kept in ``$FAST_LITELLM_CACHE_DIR/source-digests.v1.json``
    keyed by file path, size and mtime, so an edited file is hashed again.
    A missing, unreadable or corrupt file only means hashing again; writes
    are atomic (temp file + rename), last writer wins.
    """

    FILE = "source-digests.v1.json"

    def __init__(self) -> None:
        self._entries: Optional[dict] = None
        self._dirty = False

    def _path(self) -> Optional[str]:
        import os

        from .._cache_dir import cache_dir

        d = cache_dir()
        return os.path.join(d, self.FILE) if d else None

    def _load(self) -> dict:
        if self._entries is None:
            import json

            self._entries = {}
            path = self._path()
            if path:
                try:
                    with open(path, "r", encoding="utf-8") as f:
                        data = json.load(f)
                    if isinstance(data, dict):
                        self._entries = {k: v for k, v in data.items()
                                         if isinstance(k, str) and isinstance(v, str) and len(v) == 64}
                except (OSError, ValueError):
                    pass
        return self._entries

    def get(self, key: str) -> Optional[str]:
        return self._load().get(key)

    def put(self, key: str, digest: str) -> None:
        entries = self._load()
        if entries.get(key) != digest:
            entries[key] = digest
            self._dirty = True

    def flush(self) -> None:
        if not self._dirty:
            return
        import json
        import os
        import tempfile

        self._dirty = False
        path = self._path()
        if not path:
            return
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".source-digests.", dir=os.path.dirname(path))
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(self._entries, f, sort_keys=True)
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError:
            pass  # a read-only cache directory: hash again next time


_digests = _DigestCache()


def source_hash(obj: Any) -> str:
    """SHA-256 of the object's source text, as pins.VERIFIED records it.

    The one place every pin check hashes a source (patch targets and the
    sources fast paths depend on); see _DigestCache for the cross-process
    memo.  Raises OSError/TypeError as ``inspect.getsource`` does."""
    import hashlib
    import inspect

    obj = unwrap_descriptor(obj)
    key = _cache_key(obj)
    if key is not None:
        digest = _digests.get(key)
        if digest is not None:
            return digest
    digest = hashlib.sha256(inspect.getsource(obj).encode("utf-8")).hexdigest()
    if key is not None:
        _digests.put(key, digest)
    return digest


_verdicts: Dict[Tuple[int, str], Tuple[Any, bool]] = {}
# id() for the verdicts' keys; the routing component sets the native core's
# router_identity here (the same number, without the builtins.id audit event a
# stock pick does not raise: on CPython 3.12+ this check runs in every pick)
_identity = id


def is_pinned_source(target: str, fn: Any) -> bool:
    """Whether ``fn`` - or, when it is one of our wrappers, the original it
    holds - has the source pinned for ``target`` (``pins.VERIFIED``, else
    ``pins.DEPENDENCIES``; False when neither pins it or the source cannot
    be read).  For fast paths that rely on a function a user could replace
    and check it on every call: the verdict is memoized per function object
    (held, so its id is not reused), so a repeated check is a dict read."""
    key = (_identity(fn), target)
    seen = _verdicts.get(key)
    if seen is not None and seen[0] is fn:
        return seen[1]
    original = original_if_ours(fn)  # (a user's functools.wraps copy of our marks is not ours)
    expected = pins.VERIFIED.get(target) or pins.DEPENDENCIES.get(target)
    checked = fn if original is None else original
    try:
        ok = (expected is not None and not wrapped_elsewhere(checked)
              and source_hash(checked) == expected)
    except Exception:  # unreadable source (see check): not the pinned one
        ok = False
    _verdicts[key] = (fn, ok)
    return ok


def wrapped_elsewhere(fn: Any) -> bool:
    """Whether ``inspect.getsource(fn)`` would read another function's source
    through a ``__wrapped__`` layer that is a user's (``inspect`` unwraps: a
    user's ``functools.wraps`` wrapper over a pinned function hashes as that
    function; session 22 hunt).  Followed: Python layers whose code is
    LiteLLM's, fast_litellm's or the standard library's (``contextlib``'s
    ``contextmanager`` helper, ...; not site-packages), and native layers of
    fast_litellm's types, and ``functools``' over a function whose definition
    starts with functools' caching decorator (LiteLLM's ``@cache``: its line is
    in the pinned source; a user's ``functools.partial`` / ``partialmethod``
    made to look like the function by ``update_wrapper``, or an ``lru_cache``
    put over it, wraps a function defined otherwise - with no decorator, or
    ``@wraps(fn)`` as LiteLLM's ``with_service_target`` wrappers are - or
    another layer: session 24 hunt)."""
    layer = fn
    for _ in range(64):
        inner = getattr(layer, "__wrapped__", None)
        if inner is None:
            return False
        if type(layer) is types.FunctionType:
            if not _trusted_code(str(layer.__code__.co_filename)):
                return True
        else:
            kind = type.__repr__(type(layer))  # (its tp_name: no metaclass __repr__)
            if kind.startswith("<class 'functools."):
                if not _cache_decorated(inner):
                    return True
            elif not kind.startswith("<class 'fast_litellm."):
                return True
        layer = inner
    return True


_CACHE_DECORATORS = frozenset(("cache", "lru_cache", "functools.cache", "functools.lru_cache"))


def _cache_decorated(fn: Any) -> bool:
    """Whether ``fn`` is a Python function whose definition's first (outermost)
    decorator is functools' ``cache`` / ``lru_cache`` (its code's first line is
    that decorator's since Python 3.8): the layer it makes is the definition's."""
    import linecache

    code = getattr(fn, "__code__", None) if type(fn) is types.FunctionType else None
    if code is None:
        return False
    line = linecache.getline(code.co_filename, code.co_firstlineno).strip()
    return line.startswith("@") and line[1:].partition("(")[0].strip() in _CACHE_DECORATORS


def pinned_binding(module: str, attribute: str, target: str) -> Tuple[Dict[str, Any], Any]:
    """(``module``'s namespace, the function bound there as ``attribute`` behind our
    own layers when it is LiteLLM's pinned source for ``target``): what a fast path
    that inlines LiteLLM's call of ``module.attribute`` compares the binding with
    on each call.  A binding that is not the pinned one gives a fresh object in
    its place, which nothing matches."""
    import importlib

    from .registry import stock_behind

    namespace = vars(importlib.import_module(module))
    found = stock_behind(namespace.get(attribute))
    return namespace, (found if is_pinned_source(target, found) else object())


def pinned_binding_precheck(module: str, attribute: str, target: str) -> Tuple[Any, Any]:
    """A patch's per-call precheck (``extra["precheck"]``'s ``(ok, full)``) for a
    fast path that does what LiteLLM's code does when it calls ``module.attribute``
    (looked up there on each call): true while that is LiteLLM's pinned function
    for ``target`` or one of our wrappers of it (self-marked, registry.mark_ours);
    a user's function there (a replacement, a ``functools.wraps`` wrapper over
    ours or LiteLLM's, which copies our marks) hands the call to the original,
    which calls it.  ``ok()``: the binding seen last is still there (one read);
    ``full()``: the whole check, remembering a binding that passes."""
    from .registry import original_if_ours

    namespace, stock = pinned_binding(module, attribute, target)
    seen = [stock]

    def ok() -> bool:
        return namespace.get(attribute) is seen[0]

    def full() -> bool:
        current = namespace.get(attribute)
        if current is stock or original_if_ours(current) is stock:
            seen[0] = current
            return True
        return False

    return ok, full


def _trusted_code(filename: str) -> bool:
    """Whether code in ``filename`` is LiteLLM's, fast_litellm's or the standard
    library's (not site-packages)."""
    import os
    import sysconfig

    for name in ("litellm", "fast_litellm"):
        path = getattr(sys.modules.get(name), "__file__", None)
        if path and filename.startswith(os.path.dirname(path) + os.sep):
            return True
    paths = sysconfig.get_paths()
    return filename.startswith(os.path.join(paths["stdlib"], "")) and not filename.startswith(
        tuple(os.path.join(paths[key], "") for key in ("purelib", "platlib")))


def flush_digests() -> None:
    """Write newly computed source digests (the engine calls it after applying)."""
    _digests.flush()


def changed_sources(table: "dict", resolve: Any, prefixes: Tuple[str, ...] = ("",)) -> list:
    """Targets of ``table`` (target -> sha256) under ``prefixes`` whose
    installed source differs or cannot be read; ``resolve(target)`` gives the
    object to hash."""
    changed = []
    for target, expected in table.items():
        if not target.startswith(prefixes):
            continue
        try:
            got = source_hash(resolve(target))
        except Exception:  # unresolvable or unreadable (see check): not the pinned source
            changed.append(target)
            continue
        if got != expected:
            changed.append(target)
    return changed


def pinned_functions(namespace: Any, table: Any) -> Optional[Tuple[Any, ...]]:
    """The objects ``namespace`` (a dict) holds under the names of ``table`` ((name,
    sha256) pairs, in order) when each one's source hashes as pinned; else None (one
    absent, replaced or unreadable).  For the standard library's functions a fast
    path does the steps of (asyncio's ``create_task``, ...)."""
    found = tuple(namespace.get(name) for name, _ in table)
    try:
        if any(source_hash(fn) != digest for fn, (_, digest) in zip(found, table)):
            return None
    except Exception:  # unreadable source (see check): not the pinned one
        return None
    return found


def resolve_target(target: str) -> Any:
    """The object a pin names, ``"module:Qual.name"``: members of a class
    are read from its ``__dict__`` (so a descriptor is hashed, not what it
    binds to), a property stands for its getter, a staticmethod or
    classmethod for its function, and one of our own replacements for the
    original it replaced."""
    import importlib

    module, qualname = target.split(":", 1)
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = obj.__dict__[part] if isinstance(obj, type) else getattr(obj, part)
    if isinstance(obj, property):
        obj = obj.fget
    obj = unwrap_descriptor(obj)
    while getattr(obj, "__wrapped_original__", None) is not None:  # a component's own wrapping
        obj = obj.__wrapped_original__
    original = original_if_ours(obj)  # the engine's wrapper
    return original if original is not None else obj


def require_sources(targets: Any) -> None:
    """Raise RuntimeError unless every LiteLLM source a fast path relies on
    is the one pinned in ``pins.DEPENDENCIES`` (a patch target pinned only
    in ``pins.VERIFIED`` is the engine's to check when it patches; a target
    pinned nowhere is refused).  Fast paths call it when they are built, and
    refuse to serve when it raises."""
    for target in targets:
        expected = pins.DEPENDENCIES.get(target)
        if expected is None:
            if target in pins.VERIFIED:
                continue
            raise RuntimeError("%s is not pinned" % target)
        got = source_hash(resolve_target(target))
        if got != expected:
            raise RuntimeError("%s changed (sha256 %s, verified %s)" % (target, got, expected))
    flush_digests()


def check(target: str, original: Any) -> Tuple[bool, str]:
    """(ok, reason) for applying a patch of ``target`` over ``original``."""
    version = installed_litellm_version()
    if version in pins.FORBIDDEN_VERSIONS:
        return False, "litellm %s is a compromised release; refusing to patch it" % version
    if version not in pins.LITELLM_VERSIONS:
        return False, "litellm %s is not a verified version (verified: %s)" % (
            version, ", ".join(sorted(pins.LITELLM_VERSIONS)))
    expected = pins.VERIFIED.get(target)
    if expected is None:
        return False, "no verified source hash for %s in pins.VERIFIED" % target
    try:
        if wrapped_elsewhere(original):
            # a user's functools.wraps wrapper over LiteLLM's function, installed
            # before we patch: getsource reads the function inside (its hash would
            # pass), but the wrapper is the user's code and must keep running
            return False, "%s is wrapped by code outside LiteLLM (%s.%s); not patched" % (
                target, getattr(original, "__module__", "?"), getattr(original, "__qualname__", "?"))
        actual = source_hash(original)
    except Exception as exc:  # OSError, TypeError; TokenError/SyntaxError for a file changed on disk
        return False, "cannot read the source of %s (%s: %s)" % (target, type(exc).__name__, exc)
    if actual != expected:
        return False, "source of %s differs from the verified one (sha256 %s..., expected %s...)" % (
            target, actual[:12], expected[:12])
    return True, "verified against litellm %s" % version
