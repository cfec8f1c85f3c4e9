"""Whether ``builtins.__import__`` is the interpreter's own.

An import statement of a loaded module is a ``sys.modules`` read only while
it is: a replacement (an instrumentation hook) is called by every import
statement.  So a fast path that skips or inlines LiteLLM code making import
statements declines while ``BUILTINS.get("__import__") is not
BUILTIN_IMPORT`` (spelled out at each use: a call frame would cost more than
the check).  When it was already replaced as we loaded, ``BUILTIN_IMPORT``
is a private object nothing in ``builtins`` can be, so every check
declines.  Also the audit-free ``IDENTITY`` and ``CODE_OF`` the routing fast
paths use."""
from __future__ import annotations

import builtins
import operator
import types

BUILTINS = builtins.__dict__
BUILTIN_IMPORT = BUILTINS.get("__import__")
if type(BUILTIN_IMPORT) is not types.BuiltinFunctionType or BUILTIN_IMPORT.__self__ is not builtins:
    BUILTIN_IMPORT = object()  # replaced before we loaded: the import statements always run


def _native_or(name: str, fallback):
    """The native core's ``name`` where it has it, else ``fallback``."""
    try:
        from fast_litellm._native_loader import NATIVE

        found = getattr(NATIVE, name, None)
    except Exception:  # noqa: BLE001 - no native core: the fallback
        found = None
    return found if found is not None else fallback


# Audit-free spellings for the fast paths (session 20 hunt: an audit hook sees no
# event of ours in a pick).  ``id`` without the ``builtins.id`` event (the same
# number), and ``function.__code__`` without the ``object.__getattr__`` event that
# attribute's read raises; the Python spellings without the native core.
IDENTITY = _native_or("router_identity", id)
CODE_OF = _native_or("router_code_of", operator.attrgetter("__code__"))
if IDENTITY is not id:
    from fast_litellm.patching import guards as _guards, registry as _registry

    _guards._identity = _registry._identity = IDENTITY  # (their per-call id() keys)
