"""A second Rust handle that skips the callback-filter stage (flag ``rust_routing``).

At 1,000 deployments ~2.6 ms of a ~4 ms accelerated latency or cost pick is
LiteLLM's own Rust matching the callback-filter answer against the candidates
(``answered_by_id``: for each answered id a scan of every candidate).  LiteLLM's
static settings document always asks for that stage (``"callback_filters":
True``), and router-core skips it entirely when the setting is false
(``select.rs``: the one place the setting is read).  With no filter registered
and distinct candidate ids the answer is the identity (the candidates, in
order, preferred None), so a handle built with ``callback_filters: false`` over
the same state picks what LiteLLM's handle picks.  See docs/routing.md,
"Session 17", for the whole argument; in short:

* ``RustCore._new_handle`` is replaced by the same body that also keeps a
  plain copy of the two documents the handle was built from
  (:func:`make_new_handle`).  A handle's state is its registry and settings
  snapshot; every change to it bumps ``registry_version()`` but the
  ``adopt_providers`` LiteLLM's ``_rebuild`` makes on the new handle under the
  registry lock before anything reads it.  So while the core's ``_handle`` is
  that handle at the version it was built with, a handle built from the same
  documents with the stage off, after ``adopt_providers`` from it, holds the
  same snapshot but for the stage (:func:`shadow_for`).
* Only our fused pick (``protocol_fast.make_select``) drives that second handle,
  and only for one ``select`` call: it is never stored on the core, so every
  LiteLLM code path (its own select with the flag off, sync picks, completions,
  listings) reads LiteLLM's handle and runs the stage.
* The fused pick's set-up makes the twin's call in place of LiteLLM's
  (session 22; before, both ran in lockstep).  LiteLLM's handle reads its
  registry snapshot and retired flag at a call's first step, so at that
  moment the pick checks LiteLLM's handle is still the core's at the twin's
  version (else it makes LiteLLM's call there).  It checks that no filter is
  registered at the stage point, the cooldown read's answer (LiteLLM's handle
  asks the stage right after it; past it the twin's pick is stock's whatever
  is registered later); if one is, the call is moved back by replaying the
  answers given so far onto LiteLLM's handle while it is unchanged, else onto
  a replica at the twin's snapshot (:func:`replica_of`), so the stage is
  answered where LiteLLM's handle asks it.  A request with no routing field
  makes the twin's call without ``pre_routes``; the pick answers a copy of
  the twin's own first step (:func:`first_step`) and moves back for any
  answer but None.
* Distinct ids: ``answered_by_id`` groups duplicate ids by first occurrence.
  The second handle is only made for a registry whose ids are distinct and
  whose names resolve to one group's deployments each (no routing groups,
  aliases, wildcard names, team models or default deployment), so a pick's
  candidates never repeat an id (:func:`_distinct_candidates`).
"""
from __future__ import annotations

import threading
import weakref
from typing import Any, Callable, Dict, Optional, Tuple

from fast_litellm._forksafe import fresh_lock_after_fork
from fast_litellm.patching.registry import NotAccelerated, callers_error

from ._import_hook import IDENTITY as _identity

#: the sources this relies on (pins.DEPENDENCIES): the rebuild's order (new
#: handle, adopt, under the registry lock), the body re-done, the static
#: document's key (the stage's answer with no filter is pinned by
#: protocol_fast's _FILTER_SOURCES)
_SOURCES = (
    "litellm.router_rust.core:RustCore._rebuild",
    "litellm.router_rust.core:RustCore._new_handle",
    "litellm.router_rust.core:Resolved.static_document",
)

# id(core) -> _Record; the record holds a weak reference to its core
_RECORDS: Dict[int, "_Record"] = {}
_LOCK = threading.RLock()  # (re-entered by a weak-reference callback run by a collection)
fresh_lock_after_fork(globals(), "_LOCK", threading.RLock)  # a forked child's own lock

#: the fewest deployments named ``model_name`` = the picked model for which a
#: pick takes the twin (0: every pick; the size is then not looked at).  Session
#: 17 drove the twin in lockstep with a call on LiteLLM's handle and checked for
#: filters before each answer, ~5 us a pick: LiteLLM's handle was as fast below a
#: few dozen deployments, so this was 48.  Since session 22 the twin's call is
#: made in place of LiteLLM's (one check at the stage point): the twin is ~2-4 us
#: faster at every size measured (1, 3, 10; A/B in one process), so 0.
#: Policy only: either handle picks the same.  A test sets it to see the cut.
MIN_GROUP_SIZE = 0

#: counters (tests read them): picks started on a twin handle, escapes back to
#: LiteLLM's handle, twin handles built, callback-filter steps the fused pick
#: answered (on LiteLLM's handle)
STATS = {"picks": 0, "escapes": 0, "built": 0, "stage_steps": 0, "replicas": 0}


class _Record:
    __slots__ = ("core_ref", "handle", "version", "static", "dynamic", "shadow", "verdict", "sizes",
                 "replica", "rest", "first_steps", "__weakref__")

    def __init__(self, core_ref, handle, version, static, dynamic):
        self.core_ref = core_ref
        self.handle = handle
        self.version = version
        self.static = static
        self.dynamic = dynamic
        self.shadow = None
        self.verdict = None  # None: not decided; False: never; True: shadow built
        self.sizes = None  # model_name -> how many deployments carry it (made at the first sized ask)
        self.replica = None  # a handle with the stage, at the twin's snapshot (made at an escape that needs it)
        self.rest = 0  # picks left on LiteLLM's handle after a pick moved back (policy only)
        self.first_steps = None  # model -> the twin's first step's items, or () (first_step)


_PLAIN_SCALARS = (str, int, float, bool, type(None))


def _plain_copy(value: Any, depth: int = 0) -> Any:
    """A deep copy of plain JSON data (exact dict with str keys, list, tuple,
    str, int, float, bool, None) made without running any code; anything
    else raises ``TypeError``."""
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return value
    if depth > 64:
        raise TypeError("too deep")
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError("a key that is not a str")
            out[key] = _plain_copy(item, depth + 1)
        return out
    if kind is list:
        return [_plain_copy(item, depth + 1) for item in value]
    if kind is tuple:  # (the dynamic document's fallback keys)
        return tuple([_plain_copy(item, depth + 1) for item in value])
    raise TypeError("not plain JSON: %s" % kind.__name__)


def _forget(key: int, ref: Any) -> None:
    with _LOCK:
        rec = _RECORDS.get(key)
        if rec is not None and rec.core_ref is ref:
            del _RECORDS[key]


def _remember(core: Any, handle: Any, static: Any, dynamic: Any) -> None:
    """Keep the documents ``handle`` was built from (ours: never raises)."""
    key = _identity(core)
    try:
        version = handle.registry_version()
        copies = (_plain_copy(static), _plain_copy(dynamic))
        ref = weakref.ref(core, lambda r, key=key: _forget(key, r))
    except Exception:  # noqa: BLE001 - not plain, not weak-referenceable: no second handle
        with _LOCK:
            _RECORDS.pop(key, None)
        return
    with _LOCK:
        _RECORDS[key] = _Record(ref, handle, version, copies[0], copies[1])


def _distinct_candidates(static: Any, dynamic: Any) -> bool:
    """Whether every pick's candidate list holds distinct ids: each deployment
    has an exact ``str`` id, no two the same, and a name resolves only to its
    own group's deployments (no routing groups or their member map, no alias,
    no wildcard name, no team model, no default deployment)."""
    if type(static) is not dict or type(dynamic) is not dict:
        return False
    if static.get("routing_groups") or static.get("routing_group_members") is not None:
        return False
    if dynamic.get("model_group_alias") or dynamic.get("model_alias_map") or dynamic.get(
            "default_deployment") is not None:
        return False
    model_list = static.get("model_list")
    if type(model_list) is not list:
        return False
    seen = set()
    for entry in model_list:
        if type(entry) is not dict:
            return False
        name = entry.get("model_name")
        info = entry.get("model_info")
        if type(name) is not str or "*" in name or type(info) is not dict:
            return False
        ident = info.get("id")
        if type(ident) is not str or ident in seen:
            return False
        if info.get("team_id") is not None or info.get("team_public_model_name") is not None:
            return False
        seen.add(ident)
    return True


def _one_cache_step_before_stage(static: Any) -> bool:
    """Whether LiteLLM's handle asks the stage right after its cooldown read,
    the one ``cache`` step before it (where the fused pick stops checking for
    filters).  With health-check routing on, router-core's
    ``health_check_filter`` (``health_routing.rs``) reads the health state
    with a second ``cache`` step between the cooldown read and the stage, and
    a filter registered while that read awaits (a Redis read lets other tasks
    run) is one stock's stage applies: no twin for such a router."""
    return type(static) is dict and not static.get("enable_health_check_routing")


def _group_sizes(static: Any) -> Dict[str, int]:
    """How many deployments of the recorded model list carry each ``model_name``."""
    sizes: Dict[str, int] = {}
    model_list = static.get("model_list") if type(static) is dict else None
    for entry in model_list if type(model_list) is list else ():
        name = entry.get("model_name") if type(entry) is dict else None
        if type(name) is str:
            sizes[name] = sizes.get(name, 0) + 1
    return sizes


def shadow_for(core: Any, handle: Any, model: Any = None) -> Optional[Any]:
    """The handle with the stage off for ``handle``, ``core``'s live handle,
    built at the first call; None when there is none (not recorded, the live
    handle changed or was written since it was built, ids that may repeat,
    the registry lock held elsewhere right now) or, when ``model`` is given,
    when fewer than ``MIN_GROUP_SIZE`` deployments are named ``model``."""
    rec = shadow_record(core, handle, model)
    return rec.shadow if rec is not None else None


def shadow_record(core: Any, handle: Any, model: Any = None) -> Optional[_Record]:
    """``shadow_for``'s record (its ``shadow`` the twin; the documents a
    replica is built from when a pick moves back: :func:`replica_of`), or
    None; also None for ``REST_AFTER_ESCAPE`` picks after a pick of ``core``
    moved back (a filter is likely registered: policy only)."""
    rec = _RECORDS.get(_identity(core))
    if rec is None or rec.core_ref() is not core or rec.verdict is False or rec.handle is not handle:
        return None
    if rec.rest:
        rec.rest -= 1
        return None
    if model is not None and MIN_GROUP_SIZE > 0:
        sizes = rec.sizes
        if sizes is None:
            sizes = rec.sizes = _group_sizes(rec.static)
        if type(model) is not str or sizes.get(model, 0) < MIN_GROUP_SIZE:
            return None
    if core.__dict__.get("_handle") is not handle or handle.registry_version() != rec.version:
        return None
    if rec.shadow is not None:
        return rec
    if not _distinct_candidates(rec.static, rec.dynamic) or not _one_cache_step_before_stage(rec.static):
        rec.verdict = False
        return None
    hosted = core.__dict__.get("_hosted")
    lock = getattr(hosted, "__dict__", {}).get("_deployment_index_lock")
    if lock is None or not lock.acquire(blocking=False):
        return None  # a rebuild may be between its swap and its adopt
    try:
        if core.__dict__.get("_handle") is not handle or handle.registry_version() != rec.version:
            return None
        made = type(handle)({**rec.static, "callback_filters": False}, rec.dynamic)
        made.adopt_providers(handle)
        if made.registry_version() != rec.version:
            rec.verdict = False
            return None
    except Exception:  # noqa: BLE001 - ours: no second handle, LiteLLM's handle serves
        rec.verdict = False
        return None
    finally:
        lock.release()
    rec.shadow = made
    rec.verdict = True
    STATS["built"] += 1
    return rec


#: picks of a core that stay on LiteLLM's handle after one of its picks moved
#: back (a filter registered then is likely still there: each pick on the twin
#: would move back at its stage point).  Policy only: either handle picks the same.
REST_AFTER_ESCAPE = 32


#: the request document a pick's set-up makes for a request that sets no routing field
PRE_ROUTES_ONLY = {"pre_routes": True}
#: the twin's document for such a pick when its first step is skipped (read by Rust, never written)
NO_FIELDS: Dict[str, Any] = {}
#: the most models a record keeps a first-step verdict for
FIRST_STEPS_KEPT = 256
#: the static settings under which a call without ``pre_routes`` was observed to ask,
#: after a None answer to the step, what a call with it asks (session 22: the same
#: steps for a group, an id, an unknown name and an alias, with each of these set).
#: Not ``routing_plugins``: router-core runs the plugins only on a call that pre-routes
#: (without it the call fails, ``routing_plugins_need_async``); any other key: not known
FIRST_STEP_SETTINGS = frozenset((
    "model_list", "routing_strategy", "cooldown_time", "disable_cooldowns", "retry_after", "timeout",
    "enable_pre_call_checks", "callback_filters", "retry_policy", "health_check_staleness_threshold"))
_NONE_KNOWN: Dict[str, Any] = {}  # a record whose settings are not all FIRST_STEP_SETTINGS (never written)


def first_step(rec: _Record, model: Any) -> Optional[Tuple[Tuple[str, Any], ...]]:
    """The twin's first step for a pick of ``model`` with ``PRE_ROUTES_ONLY``,
    as its items (asked of the twin once per record and model; the twin is
    never written, and a call's first step reads nothing else: no clock, no
    draw), when it is the ``pre_route`` step of ``model`` at no fallback depth
    or retry with no events; else None.  Then a pick may make the twin's call
    without ``pre_routes`` (``NO_FIELDS``): router-core asks the ``pre_route``
    step only for that field, and after a None answer goes on as a call
    without it; the fused pick answers a copy of this step and moves back
    (onto a call with the field) for any other answer."""
    known = rec.first_steps
    if known is None:
        if not rec.static.keys() <= FIRST_STEP_SETTINGS:
            known = rec.first_steps = _NONE_KNOWN  # (a setting pre_routes may matter to)
        else:
            known = rec.first_steps = {}
    if type(model) is not str or known is _NONE_KNOWN:
        return None
    items = known.get(model)
    if items is None:
        try:
            first = rec.shadow.select(model, dict(PRE_ROUTES_ONLY)).next(None)
            items = tuple(first.items()) if type(first) is dict else ()
        except Exception:  # noqa: BLE001 - ours: not known, the step is asked
            items = ()
        if dict(items) != {"kind": "pre_route", "model": model, "fallback_depth": 0, "retry": 0, "events": []}:
            items = ()
        if len(known) < FIRST_STEPS_KEPT:
            known[model] = items
    return items or None


def replica_of(rec: _Record) -> Optional[Any]:
    """A handle at the twin's snapshot *with* the stage: built from the
    record's documents as they are (LiteLLM's handle's), its providers (and
    host indexes) adopted from the twin, which adopted them from LiteLLM's
    handle at the recorded version and is never written; None when it cannot
    be made at that version.  A pick that moves back after LiteLLM's handle was
    written or rebuilt since the pick started runs on it: LiteLLM's handle no
    longer holds the snapshot stock's call read at its first step."""
    replica = rec.replica
    if replica is not None:
        return replica
    shadow = rec.shadow
    if shadow is None:
        return None
    try:
        made = type(shadow)(rec.static, rec.dynamic)
        made.adopt_providers(shadow)
        if made.registry_version() != rec.version:
            return None
    except Exception:  # noqa: BLE001 - ours: the caller raises
        return None
    rec.replica = made
    STATS["replicas"] += 1
    return made


def recorded(core: Any) -> Optional[_Record]:
    """The record kept for ``core`` (for tests)."""
    rec = _RECORDS.get(_identity(core))
    return rec if rec is not None and rec.core_ref() is core else None


def make_new_handle(original: Callable[..., Any]) -> Callable[..., Any]:
    """``RustCore._new_handle``: LiteLLM's body, statement for statement (its
    source pinned), which also keeps the documents the handle is built from."""
    from fast_litellm.patching import guards

    guards.require_sources(_SOURCES)
    core_globals = original.__globals__
    for name in ("as_str_mapping", "failover_document"):
        if name not in core_globals:
            raise NotAccelerated("LiteLLM's _new_handle reads %s" % name)

    def _new_handle(self, model_list):
        if "as_str_mapping" not in core_globals or "failover_document" not in core_globals:
            raise NotAccelerated("LiteLLM's _new_handle bindings were removed")
        try:
            from litellm.rust_bridge._native import RouterCoreHandle

            as_str_mapping = core_globals["as_str_mapping"]
            names = [
                str(name)
                for entry in model_list
                if isinstance(name := (as_str_mapping(entry) or {}).get("model_name"), str)
            ]
            default_ids = self._provider_default_ids()
            self._handle_default_ids = default_ids
            static = {
                **self._resolved.static_document(model_list),
                **{name: value for name, value in core_globals["failover_document"](self._plain).items()
                   if value is not None},
                **({"provider_default_deployment_ids": list(default_ids)} if default_ids else {}),
            }
            dynamic = self._dynamic_document(names)
            handle = RouterCoreHandle(static, dynamic)
        except Exception as error:
            callers_error(error)
            raise
        _remember(self, handle, static, dynamic)
        return handle

    _new_handle.__doc__ = original.__doc__
    return _new_handle

