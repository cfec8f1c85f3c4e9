"""An import hook that calls back after a module has executed.

It sits first on ``sys.meta_path``, asks the other finders for the spec of
any module under the watched prefixes, and wraps the spec's loader so that
``callback(module)`` runs right after the module's code.  Nothing else about
the import changes: the wrapped loader delegates every other attribute.
"""
from __future__ import annotations

import sys
import threading
from typing import Any, Callable, Sequence


class _CallbackLoader:  # the loader protocol (importlib.abc costs ~1 ms to import)
    def __init__(self, inner: Any, callback: Callable[[Any], None]):
        self._inner = inner
        self._callback = callback

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        try:
            module.__loader__ = self._inner
            if module.__spec__ is not None:
                module.__spec__.loader = self._inner
        except AttributeError:
            pass
        self._inner.exec_module(module)
        try:
            self._callback(module)
        except Exception:  # pragma: no cover - never break an import
            pass

    def __getattr__(self, name):
        return getattr(self._inner, name)


class ImportHook:  # the meta path finder protocol: find_spec, invalidate_caches
    def invalidate_caches(self) -> None:
        pass

    def __init__(self, callback: Callable[[Any], None], prefixes: Callable[[], Sequence[str]]):
        self.callback = callback
        self.prefixes = prefixes
        self._local = threading.local()  # re-entry guard, per thread

    def _watched(self, fullname: str) -> bool:
        return any(fullname == p or fullname.startswith(p + ".") for p in self.prefixes())

    def find_spec(self, fullname, path=None, target=None):
        if getattr(self._local, 'busy', False) or not self._watched(fullname):
            return None
        self._local.busy = True
        try:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
            else:
                return None
        finally:
            # this thread's guard only: replacing ``self._local`` (as this did)
            # cleared the guard of every other thread inside find_spec
            self._local.busy = False
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        spec.loader = _CallbackLoader(loader, self.callback)
        return spec

    def install(self) -> None:
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
