"""The patch engine: applies, reports and removes every registered patch.

How a patch is applied (``_apply_one``):
  1. its module must be imported: if it is not yet, an import hook
     (``_hook``) applies it the moment that module finishes executing;
  2. its flag must not be off, and its guard (``guards.check``: pinned
     LiteLLM version, SHA-256 of the original's source) must pass;
  3. ``patch.build(original)`` makes the fast implementation, which the
     engine wraps (``wrappers.guarded``) with the flag check, the fallback to
     the original and monitor sampling;
  4. the wrapper replaces the original on its owner, and on every module
     global that held the original (identity scan), including modules
     imported later (the hook scans each new ``litellm.*`` module).

``remove_acceleration`` puts every original object back where it was,
unless something else has replaced ours since (then it is left alone).
"""
from __future__ import annotations

import importlib
import os
import sys
import threading
from typing import Any, Dict, List, Optional, Tuple

from .. import flags
from . import registry
from ._hook import ImportHook

# guards (and pins) and wrappers are imported where a patch is applied or
# reported: ``import fast_litellm`` only installs the import hook, and most
# processes that import us never import LiteLLM (start-up time, #2/#3).


_lock = threading.RLock()
_depth = 0  # how deep the holder of _lock is in it (changed only by the holder)
_deferred: List[Any] = []  # modules loaded while another thread held _lock


def _enter(blocking: bool = True) -> bool:
    global _depth
    if not _lock.acquire(blocking):
        return False
    _depth += 1
    return True


def _exit() -> None:
    global _depth
    _depth -= 1
    outermost = _depth == 0
    _lock.release()
    if outermost:
        _drain()


def _drain() -> None:
    """Handle the modules the import hook deferred (see _on_module_loaded)."""
    while _deferred:
        if not _enter(blocking=False):
            return  # the holder drains on its way out
        try:
            while _deferred:
                try:
                    _handle_module(_deferred.pop(0))
                except Exception:  # pragma: no cover - as the hook: never break an import
                    pass
        finally:
            global _depth
            _depth -= 1
            _lock.release()


class _Locked:
    """``with _locked:`` holds the engine's lock, then handles the modules
    imported meanwhile by other threads."""

    def __enter__(self) -> None:
        _enter()

    def __exit__(self, *exc: Any) -> None:
        _exit()


_locked = _Locked()


def _after_fork_in_child() -> None:
    # A lock another thread held at fork time (applying patches, building a
    # fast path) stays held for ever in the child, which has no such thread:
    # get_patch_status(), set_feature() and the import hook of every forked
    # worker would wait for it.  The forking thread's own hold is kept.
    global _lock, _depth
    if not _lock._is_owned():
        _lock = threading.RLock()
        _depth = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _Record:
    """What the engine knows about one patch."""

    __slots__ = ("patch", "applied", "reason", "original", "replacement", "bindings", "failed_build")

    def __init__(self, patch: registry.Patch):
        self.patch = patch
        self.applied = False
        self.reason = "not attempted"
        self.original: Any = None       # raw object as found on the owner
        self.replacement: Any = None    # raw object we installed
        self.bindings: List[Tuple[Any, str]] = []  # (holder, attr)
        self.failed_build: Any = None   # the original whose build raised (counted once)


_records: Dict[str, _Record] = {}
_hook: Optional[ImportHook] = None
_patch_modules_loaded = False
_load_errors: Dict[str, str] = {}


def _load_patch_modules() -> None:
    global _patch_modules_loaded
    if _patch_modules_loaded:
        return
    _patch_modules_loaded = True
    for name in registry.PATCH_MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            _load_errors[name] = "%s: %s" % (type(exc).__name__, exc)


def _sync_records() -> None:
    """Track every registered patch (components may register late)."""
    _load_patch_modules()
    for patch in registry.all_patches():
        rec = _records.get(patch.name)
        if rec is None or (rec.patch is not patch and not rec.applied):
            _records[patch.name] = _Record(patch)
    for name in [n for n, r in _records.items() if not r.applied and registry.get(n) is None]:
        del _records[name]


def _resolve(patch: registry.Patch) -> Tuple[Any, str, Any]:
    """(owner, attribute name, raw original) for a loaded target module."""
    module = sys.modules[patch.module]
    parts = patch.qualname.split(".")
    owner: Any = module
    for part in parts[:-1]:
        owner = getattr(owner, part)
    attr = parts[-1]
    if isinstance(owner, type):
        raw = owner.__dict__[attr]
    else:
        raw = getattr(owner, attr)
    return owner, attr, raw


def _installed(rec: _Record) -> bool:
    """Whether the patch's target still holds the replacement we installed."""
    try:
        return _resolve(rec.patch)[2] is rec.replacement
    except (AttributeError, KeyError):
        return False


def _rewrap(raw_original: Any, func: Any) -> Any:
    if isinstance(raw_original, staticmethod):
        return staticmethod(func)
    if isinstance(raw_original, classmethod):
        return classmethod(func)
    return func


def _apply_one(rec: _Record) -> None:
    patch = rec.patch
    if rec.applied:
        return
    flag = flags._LOOKUP.get(patch.flag)
    if flag is None:
        rec.reason = "unknown feature flag %r" % patch.flag
        return
    if flag.mode == flags.MODE_OFF:
        rec.reason = "feature flag %s is off (%s)" % (patch.flag, flag.source)
        return
    if not patch.wrap and not flag.serve_fast:
        rec.reason = ("feature flag %s is %s: this patch has no per-call check, so it "
                      "applies only while the flag is fully on" % (patch.flag, flag.state))
        return
    if patch.module not in sys.modules:
        rec.reason = "pending: %s is not imported yet" % patch.module
        return
    try:
        owner, attr, raw = _resolve(patch)
    except (AttributeError, KeyError) as exc:
        rec.reason = "target %s not found (%s)" % (patch.target, exc)
        return
    from . import guards
    from .wrappers import guarded

    original = guards.unwrap_descriptor(raw)
    try:
        ok, why = guards.check(patch.target, original)
        if not ok:
            rec.reason = why
            return
        if rec.failed_build is not None and rec.failed_build is original:
            return  # the same build over the same original: failed, counted, reason kept
        try:
            fast = patch.build(original)
        except registry.NotAccelerated as exc:
            rec.reason = "not accelerated: %s" % exc
            return
        except Exception as exc:  # a broken fast path must not break LiteLLM
            rec.reason = "building the fast path failed: %s: %s" % (type(exc).__name__, exc)
            # one error against the flag per original: re-applying (import
            # hook, unpatched() blocks) must not add up a deterministic failure
            # until the whole flag is switched off
            rec.failed_build = original
            flags.record_error(patch.flag, exc)
            return
    finally:
        guards.flush_digests()  # source digests hashed by the check and the build
    func = guarded(patch, original, fast) if patch.wrap else fast
    replacement = _rewrap(raw, func)
    setattr(owner, attr, replacement)
    rec.original, rec.replacement = raw, replacement
    rec.bindings = [(owner, attr)]
    rec.applied = True
    rec.reason = why
    if patch.scan_bindings and not isinstance(owner, type):
        for mod in list(sys.modules.values()):
            _rebind_in(mod, rec)


_MODULE_DICT = type(sys).__dict__["__dict__"]  # ModuleType's own __dict__ slot


def _globals_of(module: Any) -> Optional[dict]:
    """The namespace of an entry of sys.modules, or None.  Read through
    ModuleType's slot, so a module subclass's ``__dict__`` property (apipkg's
    lazy modules import everything there) is not run; and any error reading
    an odd entry skips it: an exception here used to leave a patch installed
    with its scan half done and apply/remove_acceleration raising."""
    try:
        d = _MODULE_DICT.__get__(module) if isinstance(module, type(sys)) else module.__dict__
    except Exception:
        return None
    return d if isinstance(d, dict) else None


def _swap_globals(module: Any, old: Any, new: Any) -> List[str]:
    """Rebind every global of ``module`` that is ``old`` to ``new``; the names."""
    d = _globals_of(module)
    if d is None:
        return []
    names = [name for name, value in list(d.items()) if value is old]
    for name in names:
        d[name] = new
    return names


def _rebind_in(module: Any, rec: _Record) -> None:
    """Replace module globals that are the original by our replacement."""
    for name in _swap_globals(module, rec.original, rec.replacement):
        if (module, name) not in rec.bindings:
            rec.bindings.append((module, name))


def _rebind_all_in(module: Any) -> None:
    """_rebind_in for every applied patch, in one pass over the module's
    globals (the import hook runs this for each of LiteLLM's ~1,000 modules;
    one scan per patch per module cost ~0.3 s of ``import litellm``)."""
    d = _globals_of(module)
    if d is None:
        return
    by_id = {id(rec.original): rec for rec in _records.values()
             if rec.applied and rec.patch.scan_bindings and not isinstance(rec.bindings[0][0], type)}
    if not by_id:
        return
    for name, value in list(d.items()):
        rec = by_id.get(id(value))
        if rec is not None and value is rec.original:
            d[name] = rec.replacement
            if (module, name) not in rec.bindings:
                rec.bindings.append((module, name))


def _on_module_loaded(module: Any) -> None:
    """Import-hook callback: apply pending patches targeting this module,
    and rebind originals this module imported.

    It runs while the import system holds this module's lock.  Waiting
    there for the engine's lock deadlocked with a thread holding it whose
    patching imports this module (a build's dependency check, the patch
    declarations): so when another thread holds the engine's lock, the
    module is left to that thread, which handles it on its way out."""
    if not _enter(blocking=False):
        _deferred.append(module)
        _drain()  # the holder may have let go just now
        return
    try:
        _handle_module(module)
    finally:
        _exit()


def _handle_module(module: Any) -> None:
    """_on_module_loaded's work, with the engine's lock held."""
    if _wanted:
        _sync_records()  # the first LiteLLM module: load the patch declarations
    name = module.__name__
    for rec in list(_records.values()):
        if rec.applied and rec.patch.module == name and not _installed(rec):
            # the module ran again (importlib.reload): its fresh objects are
            # stock; put the old ones back and patch the new ones below
            _unapply(rec, "%s was executed again; re-applying" % name)
    _rebind_all_in(module)
    if _wanted:
        for rec in list(_records.values()):
            if not rec.applied and rec.patch.module == name:
                _apply_one(rec)


_wanted = False  # apply_acceleration() was called and not undone

# Packages whose modules the import hook watches (tests add their own).
HOOK_PREFIXES = ["litellm"]


def apply_acceleration() -> bool:
    """Apply every enabled, guarded patch.  Idempotent.

    Patches whose LiteLLM module is not imported yet are applied as soon as
    it is.  Returns True when at least one patch is applied and none that
    could apply failed; False when nothing could be applied (LiteLLM not
    imported yet or not installed, or every flag off).  get_patch_status()
    says why for each patch.
    """
    global _hook, _wanted
    with _locked:
        _wanted = True
        if _hook is None:
            _hook = ImportHook(_on_module_loaded, prefixes=lambda: HOOK_PREFIXES)
            _hook.install()
        if not any(p in sys.modules for p in HOOK_PREFIXES):
            # LiteLLM is not imported: the hook loads the patch declarations
            # (and their components) when it is, so `import fast_litellm` stays
            # cheap for users of the components alone.
            return False
        _sync_records()
        for rec in _records.values():
            _apply_one(rec)
        applied = [r for r in _records.values() if r.applied]
        failed = [r for r in _records.values()
                  if not r.applied and not r.reason.startswith(("pending", "feature flag"))]
        return bool(applied) and not failed


def apply_on_import() -> None:
    """Called by ``import fast_litellm``: apply unless everything is off."""
    try:
        if any(f.mode != flags.MODE_OFF for f in flags._FLAGS.values()):
            apply_acceleration()
    except Exception as exc:  # never break the import of the package
        import logging

        logging.getLogger("fast_litellm").warning("fast_litellm: applying acceleration failed: %s: %s",
                    type(exc).__name__, exc)


def remove_acceleration() -> None:
    """Restore every original object exactly, and stop patching on import."""
    global _hook, _wanted
    with _locked:
        _wanted = False
        if _hook is not None:
            _hook.uninstall()
            _hook = None
        for rec in _records.values():
            if not rec.applied:
                if rec.reason.startswith("pending"):
                    rec.reason = "removed by remove_acceleration()"
                continue
            _unapply(rec, "removed by remove_acceleration()")


def _unapply(rec: _Record, reason: str) -> None:
    """Put the original back on every binding that still holds ours."""
    for holder, attr in rec.bindings:
        if isinstance(holder, type):
            if holder.__dict__.get(attr) is rec.replacement:
                setattr(holder, attr, rec.original)
        elif getattr(holder, attr, None) is rec.replacement:
            setattr(holder, attr, rec.original)
    if rec.bindings and rec.patch.scan_bindings and not isinstance(rec.bindings[0][0], type):
        # modules imported after the patch bound our replacement
        for mod in list(sys.modules.values()):
            _swap_globals(mod, rec.replacement, rec.original)
    rec.applied = False
    rec.bindings = []
    rec.replacement = None
    rec.reason = reason


def _on_flag_change(name: str) -> None:
    """Patches without a per-call flag check follow their flag here."""
    with _locked:
        flag = flags._LOOKUP.get(name)
        if flag is None:
            return
        for rec in _records.values():
            if rec.patch.flag != flag.name:
                continue
            if rec.applied and not rec.patch.wrap and not flag.serve_fast:
                _unapply(rec, "feature flag %s turned %s at run time" % (flag.name, flag.state))
            elif not rec.applied and _wanted and flag.mode != flags.MODE_OFF:
                _apply_one(rec)


flags.add_listener(_on_flag_change)


class unpatched:
    """``with unpatched():`` runs its body on stock LiteLLM (every patch
    removed), then restores what was applied.  Benchmarks use it so their
    baseline is never measured through our own patches."""

    def __enter__(self) -> "unpatched":
        self._was_applied = _wanted
        remove_acceleration()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._was_applied:
            apply_acceleration()


def get_patch_status() -> Dict[str, Any]:
    from . import guards, pins

    with _locked:
        _sync_records()
        if _wanted:  # say why for declarations loaded just now
            for rec in _records.values():
                if rec.reason == "not attempted":
                    _apply_one(rec)
        patches = {}
        lost = {name for name, rec in _records.items() if rec.applied and not _installed(rec)}
        for name, rec in _records.items():
            p = rec.patch
            patches[name] = {
                # what is installed: a target replaced since (by another
                # monkeypatch, a reload) no longer runs ours
                "applied": rec.applied and name not in lost,
                "reason": ("%s has been replaced since it was patched" % p.target
                           if name in lost else _idle_reason(rec) if not _wanted else rec.reason),
                "flag": p.flag,
                # what the flag serves now: an applied wrapper serves the
                # original while its flag is off or disabled by errors
                "flag_state": _flag_state(p.flag),
                # native-path errors counted against the flag so far (the
                # flag turns itself off at its error_threshold)
                "flag_errors": _flag_errors(p.flag),
                "component": p.component,
                "target": p.target,
                "bindings": len(rec.bindings),
                "verified_hash": pins.VERIFIED.get(p.target),
            }
        components = sorted({r.patch.component for n, r in _records.items() if r.applied and n not in lost})
        return {
            "applied": bool(components),
            "components": components,
            "litellm_version": guards.installed_litellm_version() if "litellm" in sys.modules
            else _installed_version_cached(),
            "pinned_litellm_version": pins.LITELLM_PIN,
            "litellm_imported": "litellm" in sys.modules,
            "import_hook_installed": _hook is not None,
            "patches": patches,
            "patch_module_errors": dict(_load_errors),
        }


def _idle_reason(rec: _Record) -> str:
    """Why a patch is not applied while acceleration is not wanted (every
    flag off at import, or remove_acceleration()): a record never attempted
    said "not attempted", even with its flag on since (set_feature does not
    apply patches then: apply_acceleration() does)."""
    if rec.applied or rec.reason != "not attempted":
        return rec.reason
    flag = flags._LOOKUP.get(rec.patch.flag)
    if flag is None:
        return "unknown feature flag %r" % rec.patch.flag
    if flag.mode == flags.MODE_OFF:
        return "feature flag %s is off (%s)" % (flag.name, flag.source)
    return ("not applied: acceleration is not on (every flag was off at import, or "
            "remove_acceleration() was called); apply_acceleration() applies it")


def _flag_errors(name: str) -> Optional[int]:
    flag = flags._LOOKUP.get(name)
    return None if flag is None else flag.errors


def _flag_state(name: str) -> Optional[str]:
    """The flag's state as get_feature_status() words it ("enabled",
    "disabled", "canary", "shadow", "disabled_by_errors"); None for a flag
    that is not registered."""
    try:
        return flags.get_flag(name).state
    except (KeyError, ValueError):
        return None


_version_cache: List[Optional[str]] = []


def _installed_version_cached() -> Optional[str]:
    if not _version_cache:
        from . import guards

        _version_cache.append(guards.installed_litellm_version())
    return _version_cache[0]


def health_check() -> Dict[str, Any]:
    from .health import run_health_check

    return run_health_check()
