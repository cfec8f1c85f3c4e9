"""Exact, faster replacements for parts of LiteLLM 1.110.2's router.

Each ``make_*`` function takes the original (as the patch engine hands it)
and returns a replacement that gives the same result, raises the same
exceptions, consumes Python's ``random`` the same way and leaves the same
side effects (cache dicts, request metadata, log records) as the original.

What they change is complexity, not behaviour.  The strategy picks and
candidate records are in :mod:`fast_litellm.routing.strategy_fast`; the
helpers here are their exact Python loops' pieces:

* LiteLLM's latency and cost strategies find each cached deployment id in
  the candidate list with a full scan (the last equal id wins): O(n^2).
  ``_index_by_id`` builds ``id -> last deployment`` in one pass, ``_find``
  is then O(1).
* The cost strategy prices every deployment through two pydantic
  validations per dict (``str_keyed``); ``_cost_map_rates`` reads a plain
  ``dict`` whose keys are all exact ``str`` directly (the validation would
  copy it unchanged), anything else through LiteLLM's own function.
* The cooldown-key parser builds a frozen dataclass per key; here the ids
  are sliced out of the keys directly.

Inputs outside what these cover (ids that are not plain ``str``,
deployments that are not plain dicts, request kwargs that are not dicts)
raise :class:`NotAccelerated` before any side effect, so the original runs.
"""
from __future__ import annotations

import os
import sys
import threading
import time
import weakref
from datetime import datetime
from functools import partial
from typing import Any, Callable, Dict, List, Optional

from fast_litellm.patching.registry import NotAccelerated, callers_errors, is_callers_error, is_ours

from ._import_hook import BUILTIN_IMPORT as _BUILTIN_IMPORT, BUILTINS as _BUILTINS, IDENTITY as _identity
from ._import_hook import _native_or

from .selector_fast import builtin_strftime, no_input_tokens

_TIME_STRFTIME = builtin_strftime(time)
_MODULES, _TIME_DICT = sys.modules, time.__dict__

_INF = float("inf")


def _minute_stamp() -> str:
    """The ``YYYY-MM-DD-HH-MM`` key the strategies count usage under, read
    with three clock reads as LiteLLM reads it."""
    return _stamp_of(datetime.now(), datetime.now(), datetime.now())


def strftime_plain() -> bool:
    """An exact datetime's ``strftime`` would call the interpreter's ``time.strftime`` (the
    module ``import time`` finds, its builtin function): nothing sees a call skipped."""
    return _MODULES.get("time") is time and _TIME_DICT.get("strftime") is _TIME_STRFTIME


def _stamp_of(date: Any, hour: Any, minute: Any) -> str:
    """LiteLLM's ``f"{date:%Y-%m-%d}-{hour:%H}-{minute:%M}"`` of three reads:
    for exact datetimes from year 1000 on, by %-formatting the fields (what
    strftime's numeric, locale-free %Y %m %d %H %M give; %Y is unpadded
    below 1000), without three strftime calls (~4 us a pick).  Only while strftime would call
    no replaced function: each strftime calls ``time.strftime`` as ``import time`` finds it (a
    recorder there, freezegun's or time-machine's, sees stock's three calls; session 25,
    hunt25; ``strftime_plain`` inline).  (The datetimes are ``datetime.now()``'s, naive: no
    tzinfo ``dst`` for their timetuple() to call.)"""
    if (type(date) is datetime and type(hour) is datetime and type(minute) is datetime and date.year >= 1000
            and _MODULES.get("time") is time and _TIME_DICT.get("strftime") is _TIME_STRFTIME):
        return "%d-%02d-%02d-%02d-%02d" % (date.year, date.month, date.day, hour.hour, minute.minute)
    return f"{date.strftime('%Y-%m-%d')}-{hour.strftime('%H')}-{minute.strftime('%M')}"


def _index_by_id(healthy: Any) -> Dict[str, Any]:
    """``id -> deployment`` (the last of equal ids, as LiteLLM's scan keeps),
    or NotAccelerated when a deployment or its id is not plain."""
    if type(healthy) is not list:
        raise NotAccelerated("healthy_deployments is not a list")
    by_id: Dict[str, Any] = {}
    for deployment in healthy:
        if type(deployment) is not dict:
            raise NotAccelerated("deployment is not a dict")
        info = deployment.get("model_info")
        if type(info) is not dict:
            raise NotAccelerated("model_info is not a dict")
        ident = info.get("id")
        if type(ident) is not str:
            raise NotAccelerated("deployment id is not a str")
        by_id[ident] = deployment
    return by_id


def _find(by_id: Dict[str, Any], healthy: List[Any], item: Any) -> Any:
    """The deployment LiteLLM's ``for m in healthy: if item == id`` scan ends on."""
    if type(item) is str:
        return by_id.get(item)
    found = None
    for deployment in healthy:  # an unusual key: compare exactly as LiteLLM does
        if item == deployment["model_info"]["id"]:
            found = deployment
    return found


def _configured_limit(deployment: Dict[str, Any], name: str) -> Any:
    """A deployment's tpm/rpm limit: top level, then litellm_params, then
    model_info, first truthy wins, else infinity."""
    return (
        deployment.get(name)
        or deployment.get("litellm_params", {}).get(name)
        or deployment.get("model_info", {}).get(name)
        or _INF
    )


def _known_input_tokens(module: Any, messages: Any, input: Any) -> Optional[int]:
    """The 0 LiteLLM's token count of no messages and no input ends with (its
    raise caught), when provably so; else None.  Our own check: callers ask
    it outside ``callers_errors``, so an error in it falls back."""
    if messages is None and input is None:
        return no_input_tokens(module)
    return None


_ASK = object()


def _input_tokens(module: Any, healthy: List[Any], messages: Any, input: Any, known: Any = _ASK) -> Any:
    """LiteLLM's ``try: embedding_aware_token_count(...) except Exception: 0``,
    or ``known`` (``_known_input_tokens``, asked here when not given) when
    that is not None."""
    if known is _ASK:
        known = _known_input_tokens(module, messages, input)
    if known is not None:
        return known
    try:
        return module.embedding_aware_token_count(
            messages, input, partial(module.deployment_backend_models, healthy)
        )
    except Exception:
        return 0


def _add_unseen(counts: Any, healthy: List[Any], seed: Callable[[], dict]) -> None:
    """Give every candidate not yet counted a zero entry (LiteLLM's first loop)."""
    for deployment in healthy:
        ident = deployment["model_info"]["id"]
        if ident not in counts:
            counts[ident] = seed()


# --------------------------------------------------------------------------
# cost-based-routing: LowestCostLoggingHandler.async_get_available_deployments
# --------------------------------------------------------------------------

_SLOW = object()


def _str_keyed_python(value: Any) -> bool:
    return type(value) is dict and all(type(k) is str for k in value)


def _native_str_keyed() -> Any:
    from fast_litellm._native_loader import NATIVE

    return getattr(NATIVE, "router_str_keyed", None) or _str_keyed_python


#: whether a value is an exact dict whose keys are all exact str (natively: a
#: dict walk, ~0.1 us for a price-map row, where the generator took ~1 us)
str_keyed = _native_str_keyed()


def _plain_view(value: Any, memo: Dict[int, bool]) -> Any:
    """What ``str_keyed(value)`` reads for a plain dict with exact-str keys
    (the dict itself), ``{}`` for None, else _SLOW."""
    if value is None:
        return {}
    if type(value) is not dict:
        return _SLOW
    key = _identity(value)
    ok = memo.get(key)
    if ok is None:
        ok = memo[key] = str_keyed(value)
    return value if ok else _SLOW


def _as_rate(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _entry_row_python(value: Any, entry: Any) -> bool:
    return _str_keyed_python(value)  # without the native check, an entry row is LiteLLM's to read


def _native_entry_row() -> Any:
    from fast_litellm._native_loader import NATIVE

    return getattr(NATIVE, "router_entry_row", None) or _entry_row_python


#: whether a cost-map row is read as a plain dict: an exact dict, or exactly
#: LiteLLM's ``AliasedCostEntry`` (``entry``) while its reads are dict's own
#: (pydantic's validation of it calls its ``items()``: then the copy
#: ``str_keyed`` makes holds the dict's own contents), with exact-str keys
entry_row = _native_entry_row()

_dict_get = dict.get


def _row_view(value: Any, memo: Dict[int, bool], entry: Any) -> Any:
    """``_plain_view`` of a cost-map row: also a row of exactly ``entry``
    whose class reads as dict (checked at every read, not memoized: its
    class can be patched between reads), else _SLOW."""
    if value is not None and type(value) is not dict:
        return value if entry is not None and type(value) is entry and entry_row(value, entry) else _SLOW
    return _plain_view(value, memo)


def _cost_map_rates(module: Any, cost_map: Any, deployment: Dict[str, Any], memo: Dict[int, bool],
                    entry: Any = None):
    """``lowest_cost._deployment_cost_map_rates`` without the pydantic copies
    (rows read with dict's own ``get``: an ``entry`` row is a dict subclass)."""
    view = _plain_view(deployment, memo)
    params = _plain_view(deployment.get("litellm_params"), memo) if view is not _SLOW else _SLOW
    info = _plain_view(deployment.get("model_info"), memo) if view is not _SLOW else _SLOW
    if params is _SLOW or info is _SLOW or type(cost_map) is not dict:
        with callers_errors:  # LiteLLM's function: its error is the caller's
            return module._deployment_cost_map_rates(deployment)
    base = info.get("base_model") or params.get("base_model")
    names = dict.fromkeys(c for c in (base, params.get("model")) if isinstance(c, str) and c)
    for name in names:
        row = _row_view(cost_map.get(name), memo, entry)
        if row is _SLOW:
            with callers_errors:
                return module._deployment_cost_map_rates(deployment)
        rate_in = _dict_get(row, "input_cost_per_token")
        rate_out = _dict_get(row, "output_cost_per_token")
        if rate_in is not None or rate_out is not None:
            return _as_rate(rate_in), _as_rate(rate_out)
    return None, None




# --------------------------------------------------------------------------
# cooldown keys: litellm.router_rust.routing_stores._cooldown_ids
# --------------------------------------------------------------------------

_COOLDOWN_PREFIX = "deployment:"
_COOLDOWN_SUFFIX = ":cooldown"
_MIN_COOLDOWN_KEY = len(_COOLDOWN_PREFIX) + len(_COOLDOWN_SUFFIX)


def make_cooldown_ids(original: Callable[..., Any]) -> Callable[..., Any]:
    from fast_litellm._native_loader import NATIVE

    native = getattr(NATIVE, "router_cooldown_ids", None)

    def _cooldown_ids_python(keys):
        if type(keys) is not list and type(keys) is not tuple:
            raise NotAccelerated("keys is not a list")
        if not keys:
            return None
        ids = []
        for key in keys:
            if type(key) is not str:
                raise NotAccelerated("key is not a str")
            if len(key) >= _MIN_COOLDOWN_KEY and key.startswith(_COOLDOWN_PREFIX) and key.endswith(_COOLDOWN_SUFFIX):
                ids.append(key[11:-9])
            else:
                return None
        return tuple(ids)

    def _cooldown_ids(keys):
        ids = native(keys)
        if ids is NotImplemented:
            raise NotAccelerated("keys are not a list or tuple of str")
        return ids

    fast = _cooldown_ids if native is not None else _cooldown_ids_python
    fast.__doc__ = original.__doc__
    return fast


# --------------------------------------------------------------------------
# candidate records: litellm.router_rust.core:RustCore._strategy_inputs
# --------------------------------------------------------------------------

_RECORD_CACHE_HANDLES = 8


class _RecordCache:
    """Deployment records read from LiteLLM's Rust registry, per handle and
    registry version.  LiteLLM's registry is immutable and every change
    makes a new, higher version, and a record is a pure function of the
    registry's deployment, so while the version is unchanged a record read
    once is what every later read returns; each use gets a fresh copy
    (``router_json_copy``), as a fresh read would be.  The handle is held,
    so its id is not reused while cached; a few handles are kept at most."""

    def __init__(self) -> None:
        self._by_handle: Dict[int, Any] = {}

    def records(self, handle: Any, version: Any) -> Dict[str, Any]:
        entry = self._by_handle.get(_identity(handle))
        if entry is None or entry[0] is not handle or entry[1] != version:
            if len(self._by_handle) >= _RECORD_CACHE_HANDLES and _identity(handle) not in self._by_handle:
                self._by_handle.pop(next(iter(self._by_handle)))
            entry = (handle, version, {})
            self._by_handle[_identity(handle)] = entry
        return entry[2]




# --------------------------------------------------------------------------
# JSON documents: litellm.router_rust.core:_plain
# --------------------------------------------------------------------------


def make_plain(original: Callable[..., Any]) -> Callable[..., Any]:
    """``_plain(value)`` is ``json.loads(json.dumps(value, default=...))``,
    run on every step document and cache answer.  For plain JSON data the
    result is known without the codec (``router_json_plain``: fresh dicts
    and lists, tuples as lists, scalars as json.loads returns them);
    anything else is declined and the codec runs."""
    import json.decoder

    from fast_litellm._native_loader import NATIVE

    plain = getattr(NATIVE, "router_json_plain", None)
    constants = (json.decoder.NaN, json.decoder.PosInf, json.decoder.NegInf)

    def _plain(value):
        if plain is None:
            raise NotAccelerated("no native JSON copy")
        copied = plain(value, constants)
        if copied is NotImplemented:
            raise NotAccelerated("not plain JSON data")
        return copied

    _plain.__doc__ = original.__doc__
    return _plain


# --------------------------------------------------------------------------
# the usage-read scope: litellm.router_rust.core:RustCore._usage_read_scope
# --------------------------------------------------------------------------


_USAGE_V2_MODULE = "litellm.router_strategy.lowest_tpm_rpm_v2"
_MODULE_TYPE = type(sys)


class _UsageReadScope:
    """``RustCore._usage_read_scope`` without reading the model group's
    deployment list when the pick's selector is not usage-based-routing-v2
    (only that strategy uses it; reading it is most of the scope's cost,
    ~1-2 ms at 1,000 deployments).

    The one thing the skipped read can change is an exception's context:
    LiteLLM's scope yields inside ``except Exception`` when the read
    raises, so an exception leaving the pick gets that error as its
    ``__context__``.  That is reproduced: when the pick raises, the read
    runs then, and an error from it becomes the pick error's context (with
    its own context as at entry)."""

    __slots__ = ("_core", "_model", "_request", "_handled", "_error", "_lazy", "_token")

    def __init__(self, core: Any, model: Any, request: Any) -> None:
        self._core = core
        self._model = model
        self._request = request
        self._error: Optional[BaseException] = None
        self._lazy = False
        self._token: Any = None

    def __enter__(self) -> None:
        core_module = sys.modules["litellm.router_rust.core"]
        # the v2 selector class, read from its module's dict when that is all the import
        # statement would do (an exact module holding the name; _usage_read_scope has
        # checked builtins.__import__ is the interpreter's own): ~0.6 us a pick in situ
        v2_module = sys.modules.get(_USAGE_V2_MODULE)
        if type(v2_module) is _MODULE_TYPE and "LowestTPMLoggingHandler_v2" in v2_module.__dict__:
            LowestTPMLoggingHandler_v2 = v2_module.__dict__["LowestTPMLoggingHandler_v2"]
        else:
            from litellm.router_strategy.lowest_tpm_rpm_v2 import LowestTPMLoggingHandler_v2

        self._handled = sys.exc_info()[1]
        core, model = self._core, self._model
        try:
            selector = core._prefetch_usage_selector(model, self._request)
        except Exception as error:  # noqa: BLE001 - LiteLLM's scope swallows it too
            self._error = error
            return None
        # (_GroupRows.idle_kept, its kept verdict's per-call part inline: ~0.1 us less)
        registry = core._hosted
        kept = None if type(registry).__getattribute__ is not _OBJECT_GETATTRIBUTE else _GROUP_ROWS._idle.get(
            getattr(registry, "__dict__", None), core)
        if kept is None:
            kept = _GROUP_ROWS.idle_kept(core)
        elif not (kept[0].__mro__ is kept[6] and type(kept[2]).__mro__ is kept[7]):
            kept = _GROUP_ROWS.idle_kept(core)  # (the MROs moved: found again)
        elif not (type(registry) is kept[0] and core.__dict__ is kept[1] and kept[2].__dict__ is kept[3]
                  and kept[4][1] == kept[5].registry_version()):
            kept = None
        if not isinstance(selector, LowestTPMLoggingHandler_v2):
            if kept is not None:
                self._lazy = True  # the read's only trace would be an error's context
                return None
            # the read would do something: refresh the registry's index views (the
            # registry moved since they were read: a view a caller holds shows the new
            # state after stock's pick), or call a replaced method: LiteLLM's read, here
            try:
                core._hosted._core_get_model_list(model_name=model)
            except Exception as error:  # noqa: BLE001 - LiteLLM's scope swallows it too
                self._error = error
            return None
        failure = None
        try:
            # (idle: the views read at router-core's current registry, so LiteLLM's
            # _core_model_names refresh would return at once: its handle and names known)
            # (the kept rows in C where the core has them: router_group_rows_kept, session 25;
            # Ellipsis: the Python read, from its start)
            deployments = _ROWS_KEPT(_GROUP_ROWS, _ROWS_NAMES, _RLOCK, registry, model, kept) if (
                _ROWS_KEPT is not None) else Ellipsis
            if deployments is Ellipsis:
                deployments = _GROUP_ROWS.read(registry, model, kept)
            deployments = deployments or []
        except Exception as error:  # noqa: BLE001 - decided below, outside this handler
            if is_callers_error(error):  # LiteLLM's read raised it: its scope swallows it
                self._error = error
                return None
            failure = error
        if failure is not None:
            # Our own code failed (it used to be swallowed as LiteLLM's read error: no
            # usage read along, not counted, and the error made the context of a
            # failing pick's exception): LiteLLM's read decides.  If it raises, that
            # is the error its scope swallows (raised here, outside the handler above,
            # so its context is LiteLLM's); if it answers, the failure is counted and
            # the pick goes on as stock's
            try:
                deployments = core._hosted._core_get_model_list(model_name=model) or []
            except Exception as error:  # noqa: BLE001
                self._error = error
                return None
            from fast_litellm import flags

            flags.record_error("rust_routing", failure)
            failure = None
        if not deployments:
            return None
        self._token = core_module._USAGE_READ.set(
            (core_module.RoutingReadBatch(usage_selector=selector), list(deployments))
        )
        return None

    def _read_error(self) -> Optional[BaseException]:
        try:
            self._core._hosted._core_get_model_list(model_name=self._model) or []
        except Exception as error:  # noqa: BLE001
            error.__context__ = self._handled
            return error
        return None

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> bool:
        if self._token is not None:
            sys.modules["litellm.router_rust.core"]._USAGE_READ.reset(self._token)
        if value is not None:
            error = self._error if not self._lazy else self._read_error()
            if error is not None:
                value.__context__ = error
        return False


class _NoMemo:
    """A memo holding nothing (until ``_GroupRows.read_is_idle`` makes its own)."""

    @staticmethod
    def get(first: Any, second: Any) -> None:
        return None


_OBJECT_GETATTRIBUTE = object.__getattribute__
_NO_MEMO = _NoMemo()


class _GroupRows:
    """The group's deployment list the usage-v2 read takes
    (``HostRegistry._core_get_model_list(model_name=model)``), kept while
    nothing it is made of can have changed.

    On a registry with no model-group aliases, no routing groups, no build
    running and ``model`` among its model names, LiteLLM's read is
    ``_rows(handle.lookup_model_list(model, None, scope))`` with the scope
    ``{"aliases": [], "groups": [], "wildcard": [model], "only": None}``:
    router-core's lookup over its registry, which is immutable (every change
    makes a new registry with a higher ``registry_version()``), and the
    entries of ``_core_model_list`` at the positions it names.  That list's
    contents change only when it re-reads router-core (``_refresh`` assigns a
    new ``_read_at`` tuple first) or while a build runs (declined; the one
    way a build leaves it changed under its old ``_read_at``, emptied by a
    replacing build that failed, changes its length).  So while the handle,
    its version, the list object, its ``_read_at`` object and its length are
    the ones read with the kept rows, LiteLLM's read returns those very
    entries, in that order: they are handed out as a fresh list, under the
    registry's lock as LiteLLM reads them.  Rows are kept only when each is
    an entry of the list itself (a renamed or wildcard-pattern row is a new
    dict per read; those reads are always LiteLLM's).  ``_core_model_names``
    is read on every call, as ``_list_scope`` reads it (its index refresh
    is kept).  Anything else, or another registry class or replaced method,
    is LiteLLM's read.  The entries handed out are the very objects
    LiteLLM's read hands out (its list keeps them), in a fresh list, so no
    reader can tell the two apart."""

    _METHODS = ("_core_get_model_list", "_list_scope", "_lookup", "_live_handle", "_row_entry", "_at")
    # what LiteLLM's read calls through the instance (an instance attribute shadows the class's)
    _SHADOWABLE = frozenset(_METHODS + ("_rows",))
    _HANDLES = 8

    def __init__(self) -> None:
        self._parts: Any = None
        self._kept: Dict[int, Any] = {}
        self._idle: Any = _NO_MEMO  # read_is_idle's _StateMemo (made at first use)

    def _resolve(self) -> Any:
        if self._parts is None:
            try:
                self._parts = self._read_parts()
            except Exception:  # noqa: BLE001 - a changed LiteLLM: LiteLLM's read, always
                self._parts = False
        return self._parts

    def _read_parts(self) -> Any:
        import importlib

        _check_dependencies(_REGISTRY_READS)
        _check_dependencies(_HOSTED_LIST)
        _check_dependencies(_REGISTRY_MODULE + "_index_key")
        registry = importlib.import_module("litellm.router_rust.surface.registry")
        model_list = importlib.import_module("litellm.router_rust.surface.model_list")
        host = registry.HostRegistry
        methods = tuple((name, host.__dict__[name]) for name in self._METHODS)
        names = host.__dict__["_core_model_names"]
        from .protocol_fast import _StateMemo

        # the module function LiteLLM's read calls (_index_key), as pinned
        module_functions = (registry.__dict__, (("_index_key", registry._index_key),))
        return (host, methods, names, model_list.HostedModelList, _StateMemo(), module_functions)

    def read_is_idle(self, core: Any) -> bool:
        """Whether LiteLLM's group read on ``core``'s registry would only read (the
        usage-read scope skips it for the strategies that do not use it): the pinned
        registry methods (none on the instance) and index views read at router-core's
        current registry (``HostedIndexes.refresh``, pinned, would return at once: its
        ``_read_at`` is (the handle, its ``registry_version()``), the handle reached as
        LiteLLM's refresh reaches it).  Else the read refreshes the views - a view a
        caller holds (``router.model_names``) then shows the new state - or calls a
        replacement: False, and the scope runs it (session 20 hunt).  The dict part is
        kept by a ``_StateMemo`` (the core's, registry's and views' dicts, their classes'
        and the registry module's); per call: the objects' types and dicts, the version."""
        return self.idle_kept(core) is not None

    def idle_kept(self, core: Any) -> Any:
        """``read_is_idle``'s kept verdict (host class, the core's dict, the views, their
        dict, their ``_read_at``, the handle) when the read is idle now, else None."""
        registry = core._hosted
        if type(registry).__getattribute__ is not _OBJECT_GETATTRIBUTE:
            return None  # (session 22 hunt: reading its __dict__ would run the hook)
        state = getattr(registry, "__dict__", None)
        if type(state) is not dict:
            return None
        memo = self._idle
        if memo is _NO_MEMO:
            from .protocol_fast import _StateMemo

            memo = self._idle = _StateMemo()
        kept = memo.get(state, core)
        # (the MROs: a __bases__ assignment changes no dict's tag; session 22 hunt)
        if kept is None or (kept and (kept[0].__mro__ is not kept[6] or type(kept[2]).__mro__ is not kept[7])):
            kept = memo.remember(state, core, lambda: self._idle_state(core, registry, state))
            if not kept:
                return None
        host, core_state, indexes, own, read_at, handle, _host_mro, _indexes_mro = kept
        if (type(registry) is host and core.__dict__ is core_state and indexes.__dict__ is own
                and read_at[1] == handle.registry_version()):
            return kept
        return None

    def _idle_state(self, core: Any, registry: Any, state: Any) -> Any:
        """(dicts read, kept) for ``read_is_idle``'s memo; ((None,), ()) when not idle."""
        no = (None,), ()
        parts = self._resolve()
        indexes_parts = _indexes_parts()
        if not parts or not indexes_parts:
            return no
        host, methods, names, hosted_list, memo, module_functions = parts
        indexes_cls, refresh, core_live_handle, handle_cls = indexes_parts
        if type(registry) is not host or not state.keys().isdisjoint(self._SHADOWABLE):
            return no
        classes, known = _host_methods_state(host, methods, names, module_functions)
        indexes = state.get("_indexes")
        # LiteLLM's read reaches the views as ``self._indexes`` and its names as the views'
        # ``model_names`` (the property _core_model_names, whose refresh returns at once when
        # idle): plain instance-dict reads while nothing in either class's MRO stands in the
        # way (a descriptor of that name, an attribute hook of its own; looked at before the
        # views' __dict__ is read).  Else a skipped or shortened read would not call what
        # stock's calls (session 21)
        bases = host.__mro__[1:-1] + indexes_cls.__mro__[1:-1]
        if (not known or type(indexes) is not indexes_cls or host.__mro__[-1] is not object
                or indexes_cls.__mro__[-1] is not object
                or any("__getattribute__" in klass.__dict__ or "_indexes" in klass.__dict__
                       for klass in host.__mro__[:-1])
                or any("__getattribute__" in klass.__dict__ or "model_names" in klass.__dict__
                       for klass in indexes_cls.__mro__[:-1])):
            return no
        own = getattr(indexes, "__dict__", None)
        core_state = getattr(core, "__dict__", None)
        if (indexes_cls.__dict__.get("refresh") is not refresh or type(own) is not dict or "refresh" in own
                or "model_names" not in own or type(core_state) is not dict):
            return no
        via, lookup, read_at = own.get("_handle"), state.get("handle_lookup"), own.get("_read_at")
        handle = core_state.get("_handle")
        if not (type(via) is _METHOD and via.__self__ is registry and via.__func__ is methods[3][1]
                and type(lookup) is _METHOD and lookup.__self__ is core and lookup.__func__ is core_live_handle
                and type(handle) is handle_cls and type(read_at) is tuple and len(read_at) == 2
                and read_at[0] is handle and type(read_at[1]) is int):
            return no
        return (state, own, core_state, indexes_cls, type(core)) + classes + bases, (
            host, core_state, indexes, own, read_at, handle, host.__mro__, indexes_cls.__mro__)

    def read(self, registry: Any, model: Any, idle: Any = None) -> Any:
        """The group's rows.  ``idle``: ``idle_kept``'s verdict for the registry's core,
        checked just now (None: not idle).  Only while idle are rows handed out from the
        kept ones: the verdict holds the registry's class with the pinned methods, its dict
        with nothing shadowing them, the module's pinned function, and LiteLLM's
        ``_core_model_names`` a refresh that returns at once (the views read at the core's
        handle's current version) and then the views' own ``model_names`` (no descriptor or
        attribute hook in the way), and ``_live_handle()`` the core's kept handle.
        Otherwise LiteLLM's read (it refreshes the views where they are behind; the next
        pick is idle again and keeps its rows)."""
        parts = self._parts  # (_resolve() inline: a Python call less a v2 pick, session 24)
        if parts is None:
            parts = self._resolve()
        if not parts or idle is None or type(model) is not str:
            with callers_errors:  # LiteLLM's read (see _UsageReadScope.__enter__)
                return registry._core_get_model_list(model_name=model)
        hosted_list = parts[3]
        state = registry.__dict__
        with registry._deployment_index_lock:
            aliases = state.get("_core_model_group_alias")
            groups = state.get("_core_routing_groups")
            entries = state.get("_core_model_list")
            if (type(aliases) is not dict or aliases or type(groups) is not dict or groups
                    or type(entries) is not hosted_list or entries._building is not None
                    or model not in idle[3]["model_names"]):  # (registry._core_model_names, idle)
                with callers_errors:
                    return registry._core_get_model_list(model_name=model)
            token = (idle[5], idle[4][1], entries, entries._read_at, len(entries))
            kept = self._kept.get(_identity(registry))
            if (kept is not None and kept[0] is registry
                    and (kept_token := kept[1])[0] is token[0] and kept_token[1] == token[1]  # (_same_token inline)
                    and kept_token[2] is token[2] and kept_token[3] is token[3] and kept_token[4] == token[4]):
                rows = kept[2].get(model)
                if rows is not None:
                    return list(rows)
            with callers_errors:
                rows = registry._core_get_model_list(model_name=model)
            # kept only when every row is an entry of the list itself (a
            # renamed or pattern row is a fresh dict per read)
            if type(rows) is list and _all_listed(rows, entries):
                if kept is None or kept[0] is not registry or not _same_token(kept[1], token):
                    if len(self._kept) >= self._HANDLES and _identity(registry) not in self._kept:
                        try:  # another registry's thread may evict at the same time
                            self._kept.pop(next(iter(self._kept)), None)
                        except (StopIteration, RuntimeError):
                            pass
                    kept = self._kept[_identity(registry)] = (registry, token, {})
                kept[2][model] = tuple(rows)
            return rows


def _host_methods_state(host: Any, methods: Any, names: Any, module_functions: Any) -> Any:
    """Whether the registry class holds the pinned methods, ``_core_model_names``
    and LiteLLM's ``_rows`` (or our exact patch over it), and its module the
    pinned functions: ((the class, the module's dict), (True,)) for
    ``_StateMemo``; else ((None,), ()): not kept, declined."""
    klass = host.__dict__
    for name, fn in methods:
        if klass.get(name) is not fn:
            return (None,), ()
    if klass.get("_core_model_names") is not names or not _rows_are_litellms(host):
        return (None,), ()
    module_globals, functions = module_functions
    for name, fn in functions:
        if module_globals.get(name) is not fn:
            return (None,), ()
    return (host, module_globals), (True,)


def _all_listed(rows: List[Any], entries: Any) -> bool:
    listed = {_identity(entry) for entry in list.__iter__(entries)}
    return all(_identity(row) in listed for row in rows)


def _same_token(a: Any, b: Any) -> bool:
    return a[0] is b[0] and a[1] == b[1] and a[2] is b[2] and a[3] is b[3] and a[4] == b[4]


def _rows_are_litellms(host: Any) -> bool:
    """``HostRegistry._rows`` is LiteLLM's (or our exact patch over it)."""
    from fast_litellm.patching import guards

    return guards.is_pinned_source(_REGISTRY_READS + "_rows", host.__dict__.get("_rows"))


_GROUP_ROWS = _GroupRows()
# _GroupRows.read's kept path in C (router_group_rows_kept, session 25: no Python frame; the
# read above is its twin and takes every other call)
_ROWS_KEPT = _native_or("router_group_rows_kept", None)
_ROWS_NAMES = ("_parts", "__dict__", "_deployment_index_lock", "_core_model_group_alias", "_core_routing_groups",
               "_core_model_list", "_building", "model_names", "_read_at", "_kept", "__enter__", "__exit__",
               "__contains__", set.__dict__["__contains__"])
_RLOCK = type(threading.RLock())
_METHOD = type(_GROUP_ROWS.read)
_INDEXES_PARTS: List[Any] = []


def _indexes_parts() -> Any:
    """(HostedIndexes, its pinned ``refresh``, ``RustCore._live_handle`` pinned, the
    handle class), or False when a source is not the pinned one."""
    if not _INDEXES_PARTS:
        try:
            import importlib

            from fast_litellm.patching import guards

            guards.require_sources(("litellm.router_rust.surface.indexes:HostedIndexes.refresh",
                                    _CORE_SOURCES + "RustCore._live_handle"))
            indexes = importlib.import_module("litellm.router_rust.surface.indexes")
            core = importlib.import_module("litellm.router_rust.core")
            native = importlib.import_module("litellm.rust_bridge._native")
            _INDEXES_PARTS.append((indexes.HostedIndexes, indexes.HostedIndexes.__dict__["refresh"],
                                   core.RustCore.__dict__["_live_handle"], native.RouterCoreHandle))
        except Exception:  # noqa: BLE001 - a changed LiteLLM: LiteLLM's read, always
            _INDEXES_PARTS.append(False)
    return _INDEXES_PARTS[0]
_REGISTRY_MODULE = "litellm.router_rust.surface.registry:"
_HOSTED_LIST = "litellm.router_rust.surface.model_list:HostedModelList"
_REGISTRY_READS = "litellm.router_rust.surface.registry:HostRegistry."
_CORE_SOURCES = "litellm.router_rust.core:"


def _check_dependencies(prefix: str) -> None:
    """Refuse to build when a LiteLLM source pinned in ``pins.DEPENDENCIES``
    under ``prefix`` is not the verified one (``guards.require_sources``)."""
    from fast_litellm.patching import guards, pins

    guards.require_sources([target for target in pins.DEPENDENCIES if target.startswith(prefix)])


def make_usage_read_scope(original: Callable[..., Any]) -> Callable[..., Any]:
    _check_dependencies(_REGISTRY_READS)

    def _usage_read_scope(self, model, request):
        if _BUILTINS.get("__import__") is not _BUILTIN_IMPORT:
            # the group read it skips makes import statements (_live_handle's, _list_scope's)
            raise NotAccelerated("builtins.__import__ is replaced")
        return _UsageReadScope(self, model, request)

    _usage_read_scope.__doc__ = original.__doc__
    return _usage_read_scope


# --------------------------------------------------------------------------
# registry rows: litellm.router_rust.surface.registry:HostRegistry._rows
# --------------------------------------------------------------------------

_ROW_KEYS = ("at", "raw", "raw_positions", "pattern", "name", "group", "__getitem__")


def make_rows(original: Callable[..., Any]) -> Callable[..., Any]:
    """``HostRegistry._rows(rows)``: the stored entries router-core's lookup
    rows name.  A row ``{"at": i}`` (no ``name``/``group``, none of ``raw``,
    ``raw_positions``, ``pattern``) is ``self._core_model_list[int(str(i))]``
    (``_row_entry``, pinned), which for an exact int ``i`` is list indexing
    at ``i``: when every row is one, the entries are read natively
    (``router_rows_at``: exact dicts, list indexing of a list whose
    ``__getitem__`` is list's own).  Anything else (another row kind, an
    index out of range, which raises) is LiteLLM's loop.  The usage-v2 read
    of the group's deployment list spends most of its Python time here
    (~7 us at 10 deployments, ~0.6 ms at 1,000)."""
    _check_dependencies(_REGISTRY_READS + "_row_entry")
    from fast_litellm._native_loader import NATIVE

    rows_at = getattr(NATIVE, "router_rows_at", None)
    decline = NotAccelerated("registry rows: LiteLLM's loop")
    host_registry = sys.modules["litellm.router_rust.surface.registry"].HostRegistry

    def _rows(self, rows):
        if rows_at is None:
            raise decline
        if type(self) is not host_registry or "_row_entry" in self.__dict__:
            # (session 23 hunt) a _row_entry set on the registry instance, or on the class it
            # was given by __class__ assignment, was called by stock's loop once a row
            raise decline
        entries = rows_at(rows, self._core_model_list, _ROW_KEYS)
        if entries is None:
            raise decline
        return entries

    _rows.__doc__ = original.__doc__
    return _rows


# --------------------------------------------------------------------------
# retry-policy fields: litellm.router_rust.core:RustCore._group_policy_fields
# --------------------------------------------------------------------------


def written_policy_check() -> Callable[[Any], bool]:
    """``check(core_state)``: whether the validations ``_group_policy_fields``
    makes and ``{}`` skips are pydantic's own and run nothing else: the
    request's start fields (``RequestStartFields.model_validate``, through
    ``_policy_lookup_names``) and ``reads_as_policy`` of the router's written
    ``retry_policy`` (``core._plain["retry_policy"]``): None or an exact
    ``RetryPolicy`` validate nothing; an exact dict with exact-``str`` keys
    and None or exact-int values is ``RetryPolicy(**entry)``, a validation
    that runs no code of the entry's (session 15: a replaced validation was
    not seen).  Anything else: LiteLLM's method."""
    from litellm.router_rust.surface import retries

    from . import _pydantic_guard

    start = _pydantic_guard.shared(_pydantic_guard.start_fields)
    policy = _pydantic_guard.shared(_pydantic_guard.retry_policy)
    retries_globals = retries.__dict__

    def check(state):
        if not start.check():
            return False
        plain = state.get("_plain")
        if type(plain) is not dict:
            return False
        written = plain.get("retry_policy")
        if written is None or type(written) is retries_globals.get("RetryPolicy"):
            return True
        if type(written) is not dict:
            return False
        for key, value in written.items():
            if type(key) is not str or (value is not None and type(value) is not int):
                return False
        return policy.check()

    return check


def make_group_policy_fields(original: Callable[..., Any]) -> Callable[..., Any]:
    """``_group_policy_fields(request)`` resolves the router's
    ``model_group_retry_policy`` for every model name the call may look up
    (a pydantic validation of the request's start fields, the fallback
    lists walked) and returns ``{}`` when the request has no policy of its
    own and the router's is a mapping of policies.

    When the request carries no ``model_group_retry_policy`` and the
    router's is None or empty, that ``{}`` is certain: an empty mapping
    resolves to nothing for any name, and the only step that could raise,
    validating the request's start fields, has just succeeded on the same
    request - both callers (``_routing_fields`` and ``stream_policy``, pinned
    in ``pins.DEPENDENCIES``) run ``_start_fields(request)`` immediately
    before.  That validation reads the request's keys and metadata buckets
    (a ``str`` subclass key's ``__eq__``, a dict subclass bucket's ``get``, a
    team id's truth test run there), so the request must be one whose start
    fields read no code (``_start_buckets``: an exact dict with exact-``str``
    keys, no validated field, exact-dict buckets with exact-``str`` keys and
    team ids that are None, exact strs or ints).  Every other case runs
    LiteLLM's code."""
    _check_dependencies(_CORE_SOURCES)
    from .protocol_fast import _start_buckets

    skipped_validations = written_policy_check()
    rust_core = sys.modules["litellm.router_rust.core"].RustCore
    # the core's methods the skipped ``_group_policies(request)`` call reaches (session 23 hunt:
    # one set on the core instance, or on a class the core was given by ``__class__``
    # assignment - with ``_written_retry_policy``, a property - was called by stock, not by ours)

    def _group_policy_fields(self, request):
        state = self.__dict__
        if type(self) is not rust_core or "_group_policies" in state or "_policy_lookup_names" in state:
            raise NotAccelerated("a core of another class, or a skipped method set on the core")
        if type(request) is not dict or "model_group_retry_policy" in request:
            raise NotAccelerated("the request carries its own retry policy")
        if type(_start_buckets(request)) is str:
            raise NotAccelerated("validating the request's start fields may run its code")
        policies = self._resolved.model_group_retry_policy
        if policies is not None and (type(policies) is not dict or policies):
            raise NotAccelerated("the router has retry policies")
        if not skipped_validations(self.__dict__):
            raise NotAccelerated("a skipped validation is not pydantic's own, or may run code")
        return {}

    _group_policy_fields.__doc__ = original.__doc__
    return _group_policy_fields


# --------------------------------------------------------------------------
# the cooldown batch read: litellm.router_rust.core:RustCore._answer_cache
# --------------------------------------------------------------------------

_COOLDOWN_READ_SOURCES = (
    "litellm.router_rust.core:",
    "litellm.router_rust.routing_stores:",
    "litellm.router_utils.routing_prefetch:",
    "litellm.redis.stores.router_cooldowns:",
    "litellm._internal_context:",
)


#: after a store's memory is found holding live cooldowns, how long its picks
#: read without looking at the whole memory again (``make_answer_cache``)
BUSY_RECHECK_SECONDS = 1.0


# --------------------------------------------------------------------------
# asyncio.gather of a usage-v2 pick's two reads, its layers skipped
# --------------------------------------------------------------------------

# The sources of what ``asyncio.gather(coroutine, coroutine)`` runs, per CPython minor
# version (SHA-256 of ``inspect.getsource``, as ``guards.source_hash`` gives it): read on
# 3.11.7, 3.12.1 and 3.13.0.  Another version, or another source: the interpreter's gather.
_GATHER_SOURCES: Dict[Any, Any] = {
    (3, 11): (
        ("tasks", "gather", "a058e15d0bb8325d566dc3c777dac64c875d792f3a2e8e5726aae671ef392eea"),
        ("tasks", "_ensure_future", "02461472a194195f77a23b4029cee5cd5e8357e601c21bf02a5bcbf48d42ffcf"),
    ),
    (3, 12): (
        ("tasks", "gather", "9c3649973cb080d6444ea880450c8642b5a99b8e5bfe48e367558a8798eeaed9"),
        ("tasks", "ensure_future", "7141ff8d1869a921ffb4e32e884b9fd48fe1c2c07ff9fc0b7fcced55bf4df12e"),
    ),
}
_GATHER_SOURCES[(3, 13)] = _GATHER_SOURCES[(3, 12)]
_GATHER_COMMON = (
    ("tasks", "_GatheringFuture", "167d6697ba0dd668a757c290c3962326d2aa677ea7a39490deceea9eba734d54"),
    ("futures", "_get_loop", "44cf7584d848185753b606c8a2988ae4bf24a5365bf59caf079ed0391cd4d990"),
    ("coroutines", "iscoroutine", "30de685d01022c0ceffe6267bc2ac61975aee9b5300201d194c462a3ff22fc6f"),
    ("base_futures", "isfuture", "2248adf2366e7832eceaeb81870881e197c92acecae00af9f410ac928d00c556"),
)


# BaseEventLoop.create_task and _check_closed as read on 3.11.7 (session 23): for a loop of
# BaseEventLoop's create_task with no task factory, RouterGatherTwo makes its body (the C
# Task, its _source_traceback's last entry dropped when there is one) in place of its call
_CREATE_TASK_SOURCES = {
    (3, 11): (("create_task", "56548d4f2564f120ee06ad7af61cc1ccd34b06d0034f937b6dce7544d5856e9f"),
              ("_check_closed", "781c3f49aa7467edf3271ff79db0b34c60002d5bb161ddb1c99c22707fe8b7b3"),
              # (the C Task's init asks loop.get_debug(): a subclass's answering True records a
              # creation stack, whose last entry create_task drops - its own frame: session 24 hunt)
              ("get_debug", "b69c49efe1457426ae9337633b2fa2809d768c832b8de1d9b7b29c7a6c7ff67f")),
}


def _direct_task_parts(version: Any, tasks: Any) -> Any:
    """(create_task, _check_closed, get_debug, base_events' globals, asyncio.tasks, the C Task)
    when ``BaseEventLoop``'s three methods are the pinned ones and ``asyncio.tasks.Task`` is
    ``_asyncio.Task``; else None (each child made by ``loop.create_task``)."""
    table = _CREATE_TASK_SOURCES.get(version)
    if table is None:
        return None
    try:
        import _asyncio
        from asyncio import base_events

        from fast_litellm.patching import guards

        methods = guards.pinned_functions(base_events.BaseEventLoop.__dict__, table)
        if methods is None:
            return None
        if tasks.Task is not _asyncio.Task or vars(base_events).get("tasks") is not tasks:
            return None
        return methods + (vars(base_events), tasks, _asyncio.Task)
    except Exception:  # noqa: BLE001 - unreadable source: create_task called
        return None


def make_gather_two(native: bool = True) -> Any:
    """``gather_two(first, second)``: ``asyncio.gather(first, second)`` for two
    coroutine objects, with what gather does for them and nothing else, or None
    (declined before anything ran: then call the interpreter's gather).

    For a coroutine argument gather runs ``_ensure_future`` (3.11; ``ensure_future``
    on 3.12+), whose ``futures.isfuture`` is False and ``coroutines.iscoroutine`` True
    for an exact coroutine object (a type-cache hit: nothing written), and whose
    ``events._get_event_loop`` / ``get_event_loop`` (the C functions) give the running
    loop when there is one, and then ``loop.create_task(coroutine)`` (a RuntimeError
    from it closes the coroutine); then ``futures._get_loop`` of the first child, each
    child's ``_log_destroy_pending = False`` and its done callback (3.12+: a child done
    already - an eager task - is called back after the outer future is made), and the
    outer ``_GatheringFuture``.  Here: the same calls, in the same order, on the same
    objects, with the same done callback (gather's, spelled out: the same counting, the
    same exceptions and cancellation), the skipped reads known.  Taken while the
    sources of gather and what it calls are the ones read for this CPython version
    (``_GATHER_SOURCES``), and, at each call, ``asyncio.gather`` and every module binding
    gather's path reads are those, the coroutine type is in ``iscoroutine``'s type cache
    and a loop is running; checked again after the first task is made (a task factory or
    a loop's ``create_task`` may run anyone's code): if not, the second child is made by
    the ``_ensure_future`` bound then, as gather makes it.  ~3 us less a v2 pick in situ
    (session 22): ``_ensure_future``'s checks, ``_get_event_loop``, the argument dict."""
    import asyncio  # (before _asyncio, as make_service_task imports them)
    import _asyncio
    import types
    from asyncio import base_futures, coroutines, events, futures, tasks

    from fast_litellm.patching import guards

    from ._pydantic_guard import _same

    version = sys.version_info[:2]
    table = _GATHER_SOURCES.get(version)
    if table is None:
        return None
    modules = {"tasks": tasks, "futures": futures, "coroutines": coroutines, "base_futures": base_futures}
    try:
        for module_name, name, digest in table + _GATHER_COMMON:
            if guards.source_hash(vars(modules[module_name])[name]) != digest:
                return None
    except Exception:  # noqa: BLE001 - unreadable source: the interpreter's gather
        return None
    eager_aware = version >= (3, 12)
    ensure_name = "ensure_future" if eager_aware else "_ensure_future"
    loop_name = "get_event_loop" if eager_aware else "_get_event_loop"
    running = _asyncio._get_running_loop
    c_loop = getattr(_asyncio, loop_name, None)
    gather = tasks.gather
    task_globals = vars(tasks)
    coroutine_type = types.CoroutineType
    typecache = vars(coroutines).get("_iscoroutine_typecache")
    if c_loop is None or type(typecache) is not set or vars(events).get(loop_name) is not c_loop:
        return None
    absent = object()
    entries = (
        vars(asyncio), "gather", gather,
        task_globals, ensure_name, task_globals[ensure_name],
        task_globals, "futures", futures,
        task_globals, "coroutines", coroutines,
        task_globals, "events", events,
        task_globals, "_GatheringFuture", tasks._GatheringFuture,
        task_globals, "exceptions", asyncio.exceptions,
        vars(futures), "isfuture", base_futures.isfuture,
        vars(futures), "_get_loop", futures._get_loop,
        vars(coroutines), "iscoroutine", coroutines.iscoroutine,
        vars(coroutines), "_iscoroutine_typecache", typecache,
        vars(events), loop_name, c_loop,
    )
    same_entries = _same()
    if not same_entries(entries, absent):
        return None

    def stock_path_holds():
        return same_entries(entries, absent) and coroutine_type in typecache

    from fast_litellm._native_loader import NATIVE

    done_type = getattr(NATIVE, "RouterGatherDone", None) if native else None
    two_type = getattr(NATIVE, "RouterGatherTwo", None) if native else None
    if done_type is not None and two_type is not None:
        # the whole of gather_two below in C (session 23: its Python frame, adopt's and the
        # checks' ~2 us in situ), the running loop read on 3.11 without get_running_loop's
        # getpid() syscall (see RouterGatherTwo in bind_router.c)
        return two_type(coroutine_type, typecache, entries, absent, running, task_globals, ensure_name,
                        done_type, eager_aware, version == (3, 11), _direct_task_parts(version, tasks))

    class _PythonDone:
        """gather's ``_done_callback`` (3.11-3.13: the same source) over one call's
        state, where the native RouterGatherDone is not built."""

        __slots__ = ("outer", "children", "nfuts", "nfinished")

        def __init__(self, children):
            self.outer = None
            self.children = children
            self.nfuts = 0
            self.nfinished = 0

        def __call__(self, fut):
            self.nfinished += 1
            outer = self.outer

            if outer is None or outer.done():
                if not fut.cancelled():
                    fut.exception()
                return

            if fut.cancelled():  # (return_exceptions is False)
                exc = fut._make_cancelled_error()
                outer.set_exception(exc)
                return
            else:
                exc = fut.exception()
                if exc is not None:
                    outer.set_exception(exc)
                    return

            if self.nfinished == self.nfuts:
                results = []

                for fut in self.children:
                    if fut.cancelled():
                        res = task_globals["exceptions"].CancelledError(
                            '' if fut._cancel_message is None else
                            fut._cancel_message)
                    else:
                        res = fut.exception()
                        if res is None:
                            res = fut.result()
                    results.append(res)

                if outer._cancel_requested:
                    exc = fut._make_cancelled_error()
                    outer.set_exception(exc)
                else:
                    outer.set_result(results)
    python_done_callback = _PythonDone

    def adopt(fut, arg, callback, children, done_futs):
        """gather's loop body for a child just made: its ``_log_destroy_pending``, the
        count, its done callback (3.12+: a child done already is called back later)."""
        if fut is not arg:
            fut._log_destroy_pending = False
        callback.nfuts += 1
        if eager_aware and fut.done():
            done_futs.append(fut)
        else:
            fut.add_done_callback(callback)
        children.append(fut)

    def gather_two(first, second):
        if (type(first) is not coroutine_type or type(second) is not coroutine_type or first is second
                or not stock_path_holds()):
            return None
        loop = running()
        if loop is None:
            return None

        children = []
        if done_type is not None:
            # gather's _done_callback in C (the closure's state and steps: RouterGatherDone)
            _done_callback = done_type(children, task_globals)
        else:
            _done_callback = python_done_callback(children)
        done_futs = []
        # the first child: _ensure_future(first, loop=None)
        try:
            fut = loop.create_task(first)
        except RuntimeError:
            first.close()
            raise
        loop = task_globals["futures"]._get_loop(fut)
        adopt(fut, first, _done_callback, children, done_futs)
        # the second: _ensure_future(second, loop=loop)
        if stock_path_holds():
            try:
                fut = loop.create_task(second)
            except RuntimeError:
                second.close()
                raise
        else:
            fut = task_globals[ensure_name](second, loop=loop)
        adopt(fut, second, _done_callback, children, done_futs)
        outer = _done_callback.outer = task_globals["_GatheringFuture"](children, loop=loop)
        for fut in done_futs:
            _done_callback(fut)
        return outer

    return gather_two


def make_answer_cache(original: Callable[..., Any]) -> Callable[..., Any]:
    """``_answer_cache(step)`` for the step every pick asks first: a
    ``batch_get`` of ``deployment:<id>:cooldown`` keys, answered by the
    router's in-memory cooldown store.  LiteLLM reaches the store's native
    ``active_sync`` through eight layers (service-target context managers
    nested four deep, a ``RoutingStores`` built twice, an awaitable reply
    built around an answer already known); here the same read runs under
    the same service target, and the answer is aligned and made plain by
    LiteLLM's own ``_aligned`` and ``_plain``.

    When a usage-based-routing-v2 read rides along (``_USAGE_READ`` set by
    the usage-read scope), LiteLLM's ``_stored_with_usage`` gathers the
    store read and ``batch.read_usage(deployments, None)``: the same gather
    runs here (``asyncio.gather`` as the core module binds it: two Tasks,
    the cooldowns' first; LiteLLM's in-memory cooldown reply is awaited
    without yielding, so neither task suspends differently), the cooldowns'
    coroutine being the native read above; the answer is ``_plain`` of
    ``_aligned``'s tuple, as LiteLLM's.

    Anything else - another op, a step with a key, a local read, keys that
    are not all cooldown keys, a store with Redis or not LiteLLM's own, a
    request batch with an armed prefetch - is LiteLLM's code, decided
    before any read."""
    for prefix in _COOLDOWN_READ_SOURCES:
        _check_dependencies(prefix)
    from litellm import _internal_context
    from litellm.caching.redis_batch import active_request_redis_batches
    from litellm.redis.stores.router_cooldowns import ROUTER_COOLDOWNS_TARGET, RouterCooldownStore
    from litellm.router_rust import core as core_module
    from litellm.router_rust import routing_stores
    from litellm.router_utils.cooldown_cache import CooldownCache
    from litellm.rust_bridge._native import NativeRouterCooldowns as native_cooldowns

    from fast_litellm._native_loader import NATIVE

    from litellm.router_utils import routing_prefetch

    from ._pydantic_guard import _same

    # the process's fork generation (bumped in a child forked through libc: os.fork, a
    # C extension's or ctypes' fork(), all of which run pthread_atfork handlers), in
    # place of os.getpid(), a syscall (~0.3 us, ~1 us a pick in situ; session 20)
    this_process = getattr(NATIVE, "router_fork_generation", None) or os.getpid
    monotonic = time.monotonic
    parse_ids = getattr(NATIVE, "router_cooldown_ids", None)  # LiteLLM's parser's ids (fuzzed against it)

    # The functions LiteLLM's read walks (_answer_cache_in_target, the _stores
    # property and RoutingStores.answer / batch_get, _batch_read and
    # _stored_with_usage, routing_prefetch.read_cooldowns / _armed_cooldowns,
    # the store's active / active_sync / has_redis), as bound at build (their
    # modules' sources pinned above): one replaced since (a test's mock.patch on
    # the class or module) is called by stock's read and would be skipped here,
    # so the read is LiteLLM's then (session-18 hunt).  One native call per read.
    walked = (
        (core_module.RustCore, ("_answer_cache_in_target", "_stores", "_batch_read", "_stored_with_usage")),
        (routing_stores.RoutingStores, ("__init__", "answer", "batch_get")),
        (RouterCooldownStore, ("active", "active_sync", "has_redis")),
        (vars(core_module), ("RoutingStores", "asyncio")),
        (vars(routing_stores), ("parse_key", "_service_target", "_cooldown_ids", "routing_prefetch")),
        (vars(routing_prefetch), ("read_cooldowns", "_armed_cooldowns", "active_request_redis_batches")),
    )
    flat: List[Any] = []
    for container, names in walked:
        table = container.__dict__ if isinstance(container, type) else container
        for name in names:
            flat += [container, name, table.get(name, _SLOW)]
    same_entries, walked_entries = _same(), tuple(flat)
    # on the instances: nothing set over the core's methods or the store's reads
    core_names = ("_answer_cache_in_target", "_batch_read", "_stored_with_usage")
    store_names = ("active", "active_sync")

    # The walk's verdict kept on dict tags (session 22): its checks read only the core's and
    # the store's instance dicts and the three classes' and three modules' dicts, so while
    # each holds its PEP 509 tag (CPython <= 3.11) a pick reads two dicts and one memo entry
    # in place of 18 table entries and two key scans; which dict each instance uses
    # (``__dict__`` can be rebound) is the memo's key, read every pick.
    from .protocol_fast import _StateMemo

    walk_memo = _StateMemo()
    walk_tables = (core_module.RustCore, routing_stores.RoutingStores, RouterCooldownStore, vars(core_module),
                   vars(routing_stores), vars(routing_prefetch))

    def walk_checked(core_state, store_dict):
        if not (store_dict.keys().isdisjoint(store_names) and core_state.keys().isdisjoint(core_names)
                and same_entries(walked_entries, _SLOW)):
            raise NotAccelerated("a function LiteLLM's read calls replaced")
        return (core_state, store_dict, *walk_tables), (True,)

    def walk_is_litellms(core, store):
        store_dict = getattr(store, "__dict__", None)
        if type(store_dict) is not dict:
            return False
        core_state = core.__dict__
        if type(core_state) is not dict:
            return False
        if walk_memo.get(core_state, store_dict) is not None:
            return True
        try:
            return walk_memo.remember(core_state, store_dict, lambda: walk_checked(core_state, store_dict))[0]
        except NotAccelerated:
            return False
    target = _internal_context._service_target
    rust_core = core_module.RustCore  # (the class the walk's functions are checked on)
    usage_read = core_module._USAGE_READ
    aligned = routing_stores._aligned  # LiteLLM's (pinned)
    stock_plain = getattr(core_module._plain, "__wrapped__", core_module._plain)

    exact_plain = [stock_plain]  # the last _plain found exact (held: its id is not reused)

    def plain_is_exact(fn):
        """_plain is LiteLLM's, or this component's exact patch of it (found
        by its marks, set when the patch is applied; the last one found is
        remembered)."""
        if fn is stock_plain or fn is exact_plain[0]:
            return True
        if "routing.plain_json" in (getattr(fn, "__fast_litellm_patch__", None),
                                    getattr(fn, "__fast_litellm_local__", None)) and is_ours(fn):
            exact_plain[0] = fn
            return True
        return False
    outer_target = core_module._cache_target("None")  # a batch_get step's key is null

    def restore(token):
        try:
            target.reset(token)
        except ValueError:  # as LiteLLM's _restore: closed from another context
            pass

    read_pid = [None]  # the process (its fork generation) a native read last returned in
    busy = [None, 0.0]  # (weakref to) the store whose memory last held live entries, and until when

    def nothing_live(store):
        """Whether the store's memory is known to hold no live entry, so its
        read can only answer ``()`` (see ``active_cooldowns``).  Ours: asked
        before any LiteLLM read, so an error here falls back cleanly.

        When the store's memory holds no live entry at all (its native
        ``snapshot()``, ~0.1 us, is empty) the read is not made: it would
        find only misses and TTL-expired entries, and answer ``()``.  The
        read would also have dropped those expired entries from memory,
        which nothing can observe: every read treats them as absent
        (``get`` removes them, ``entries`` filters them), every write first
        evicts all entries at or past their expiry, before its capacity
        eviction and before looking at its own key, and no method of the
        handle lists memory unfiltered (LiteLLM 1.110.2's
        ``cache-memory/src/cache.rs`` and ``redis-store``'s
        ``router_cooldowns``).  Skipped, the read's fixed cost goes: it
        captures the Python context and the running loop and blocks on the
        Rust runtime with the GIL released, ~15 us of a 10-deployment pick
        in situ and ~0.3 ms at 1,000.  An entry that is live (cooling, or
        ended but not yet corrected) sends the pick through the read.

        The read is also LiteLLM's fork gate (``rust_bridge/fork_guard.py``):
        its first call in a process starts the native runtime there, so a
        later ``reserve_process_for_forking`` raises and a child forked
        afterwards gets ``ForkedAfterNativeRuntimeStarted`` on its first
        read; in a process reserved for forking it raises
        ``ProcessReservedForForking``.  So the read is skipped only in a
        process where one has already returned (the process's fork
        generation against the one it returned in: ``router_fork_generation``,
        bumped in every child forked through libc by a ``pthread_atfork``
        handler, no syscall; ``os.getpid()`` before session 20, ~0.3 us): there
        its gate check can only pass and changes nothing (``host-python``'s
        ``fork_gate.rs``).

        ``snapshot()`` copies every live entry out (a dict each): ~6 us with
        10 cooling, ~120 us with 200 (the memory tier's size), more than the
        read it would save.  So once a store's memory is found holding live
        entries, its picks go straight to the read for the next
        ``BUSY_RECHECK_SECONDS`` before it is looked at again (either way the
        answer is the read's, or an empty memory's)."""
        handle = store._handle
        if read_pid[0] == this_process() and type(handle) is native_cooldowns:
            seen = busy[0]
            if seen is None or seen() is not store or monotonic() >= busy[1]:
                if not handle.snapshot():
                    return True
                busy[0] = weakref.ref(store)
                busy[1] = monotonic() + BUSY_RECHECK_SECONDS
        return False

    def active_cooldowns(store, model_ids, skip):
        """The store's native read of the ids cooling, under its service
        target (LiteLLM's read: its errors are the caller's), or ``()`` when
        ``nothing_live(store)`` said the read can find nothing."""
        if skip:
            return ()
        inner = target.set(ROUTER_COOLDOWNS_TARGET)
        try:
            active = tuple(store._handle.active_sync(model_ids))
        finally:
            restore(inner)
        read_pid[0] = this_process()  # the native runtime is started in this process (generation)
        return active

    async def cooldowns_read(store, model_ids, empty=None):
        """RoutingStores.batch_get of cooldown keys on a store without Redis
        or a request batch: the native read, aligned by LiteLLM's _aligned
        (the layers between never suspend: LiteLLM's in-memory reply is
        awaited without yielding).  Run as the gather's Task, so at least one
        loop iteration after the pick asked: whether the memory holds a live
        entry is looked at here, when the store is read (other tasks may
        have written cooldowns since; session-18 hunt), not when the step
        was asked."""
        try:
            skip = nothing_live(store)
        except Exception:  # noqa: BLE001 - ours, an optimisation only: the read answers
            skip = False
        if skip and empty is not None and routing_stores._aligned is aligned:
            # no read to make: LiteLLM's _aligned of no active entry is a None per id
            # (exact-str ids: the dict look-ups run no code), the caller's ``empty``
            # (session 22: its identity tells the caller to skip _plain's copy too)
            return empty
        return routing_stores._aligned(model_ids, active_cooldowns(store, model_ids, skip))

    # the gather's first Task runs this coroutine where stock's runs RoutingStores.batch_get's:
    # a task factory (or a Task's repr) reads the coroutine's name and qualname, which a
    # coroutine takes from its function when made (session 19; as the engine's wrappers
    # carry the patched method's names)
    cooldowns_read.__name__ = routing_stores.RoutingStores.batch_get.__name__
    cooldowns_read.__qualname__ = routing_stores.RoutingStores.batch_get.__qualname__

    async def _answer_cache(self, step):
        if _BUILTINS.get("__import__") is not _BUILTIN_IMPORT:
            # the skipped read and layers make import statements (the Rust read's own among them)
            raise NotAccelerated("builtins.__import__ is replaced")
        if type(self) is not rust_core:
            # (session 23 hunt) the walk's functions are checked on RustCore: a core whose class
            # was set to a subclass overriding one of them (_answer_cache_in_target, _stores,
            # _batch_read, _stored_with_usage) had it called by stock's read, never by ours
            raise NotAccelerated("a core of another class")
        if type(step) is not dict or step.get("op") != "batch_get" or step.get("key") is not None:
            raise NotAccelerated("not a cooldown batch read")
        riding = usage_read.get()
        if step.get("local") is True or (riding is not None and (type(riding) is not tuple or len(riding) != 2)):
            raise NotAccelerated("a local read, or an odd usage read along")
        listed = step.get("keys")
        # exact str keys (what the Rust core sends) parse as they are; else as LiteLLM converts them
        model_ids = parse_ids(listed) if parse_ids is not None and type(listed) is list else NotImplemented
        if model_ids is NotImplemented:
            model_ids = routing_stores._cooldown_ids([str(k) for k in (listed if isinstance(listed, list) else ())])
        if model_ids is None:
            raise NotAccelerated("not only cooldown keys")
        cooldowns = self._cooldowns
        if type(cooldowns) is not CooldownCache:
            raise NotAccelerated("a cooldown cache of another kind")
        store = cooldowns.cooldown_store
        if type(store) is not RouterCooldownStore or not walk_is_litellms(self, store):
            raise NotAccelerated("a cooldown store of another kind, or a function LiteLLM's read calls replaced")
        if store.has_redis or active_request_redis_batches() is not None:
            raise NotAccelerated("Redis, or a request batch")
        # ours, before any read: an error here falls back.  (A usage-v2 read along
        # reads the store in a Task, after the loop has run others: it looks again there.)
        skip = riding is None and nothing_live(store)
        if skip and routing_stores._aligned is aligned and plain_is_exact(core_module._plain):
            # nothing cooling and no read to make: _aligned gives a None per id, _plain that
            # tuple as a fresh list (the service target, set and reset around no read, is not)
            return [None] * len(model_ids)
        outer = target.set(outer_target)
        try:
            # From here on LiteLLM's reads (the store's, the usage read's) and its
            # _aligned / _plain: an error from them is the one stock raises, once; a
            # fallback would read again (a transient error then served a pick that stock
            # fails, and a v2 pick read its usage twice)
            with callers_errors:
                if riding is not None:
                    # usage-based-routing-v2: LiteLLM's two reads in one gather
                    # (two Tasks, the cooldowns' first), as _stored_with_usage runs it
                    batch, deployments = riding
                    empty = (None,) * len(model_ids)
                    if gather_two is not None:
                        # (asyncio.gather read before the coroutines are made, as the stock call
                        # reads it; gather_two checks it is the interpreter's and declines before
                        # anything runs: then that gather is called)
                        gather = core_module.asyncio.gather
                        first, second = cooldowns_read(store, model_ids, empty), batch.read_usage(deployments, None)
                        gathered = gather_two(first, second)
                        if gathered is None:
                            gathered = gather(first, second)
                        stored, _ = await gathered
                    else:
                        stored, _ = await core_module.asyncio.gather(
                            cooldowns_read(store, model_ids, empty), batch.read_usage(deployments, None))
                    if stored is empty and plain_is_exact(core_module._plain):
                        return [None] * len(model_ids)  # _plain of the None per id: a fresh list
                    return core_module._plain(stored)
                active = active_cooldowns(store, model_ids, skip)
                if not active and routing_stores._aligned is aligned and plain_is_exact(core_module._plain):
                    # nothing cooling: _aligned gives a None per id, _plain that tuple as a fresh list
                    return [None] * len(model_ids)
                return core_module._plain(routing_stores._aligned(model_ids, active))
        finally:
            restore(outer)

    # asyncio.gather of the v2 pick's two reads without its layers (session 22), while the
    # core module binds the interpreter's asyncio
    import asyncio as asyncio_module

    try:
        gather_two = make_gather_two() if vars(core_module).get("asyncio") is asyncio_module else None
    except Exception:  # noqa: BLE001 - ours, an optimisation only: the interpreter's gather
        gather_two = None

    _answer_cache.__doc__ = original.__doc__
    _answer_cache.walk_memo = walk_memo  # (for tests)
    return _answer_cache
