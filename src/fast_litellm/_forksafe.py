"""Fork safety shared by every component: fresh locks in a forked child.

A thread of the parent that held a lock when another thread called
``os.fork()`` does not exist in the child, so that lock would stay held
for ever there (gunicorn ``--preload`` forks workers from a master that
may have threads inside a component).  Two kinds of lock are renewed:

* a module's own lock, named in its namespace
  (``fresh_lock_after_fork(globals(), "_LOCK")``): the child's module
  global is rebound to a new lock, which the module's code reads at each
  use;
* an object's locks: ``register_for_fork(obj)`` runs
  ``obj._after_fork_in_child()`` in the child (held weakly).
"""
from __future__ import annotations

import os
import threading
import weakref
from typing import Any, Callable, Dict

_FORK_REGISTRY: "weakref.WeakSet[Any]" = weakref.WeakSet()
_REGISTRY_LOCK = threading.Lock()


def register_for_fork(obj: Any) -> None:
    """obj._after_fork_in_child() runs in the child after os.fork()."""
    with _REGISTRY_LOCK:
        _FORK_REGISTRY.add(obj)


def fresh_lock_after_fork(namespace: Dict[str, Any], name: str,
                          factory: Callable[[], Any] = threading.Lock) -> None:
    """namespace[name] becomes factory() in a forked child."""
    def renew() -> None:
        namespace[name] = factory()

    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=renew)


def _after_fork_in_child() -> None:
    global _REGISTRY_LOCK
    _REGISTRY_LOCK = threading.Lock()
    for obj in list(_FORK_REGISTRY):
        try:
            obj._after_fork_in_child()
        except Exception:  # pragma: no cover - never break the child
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
