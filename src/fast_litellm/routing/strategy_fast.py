"""Per-candidate work of LiteLLM 1.110.2's strategy picks at large n.

A ``strategy`` select step hands the host up to every deployment id of a
model group; LiteLLM then builds a fresh dict per candidate
(``RustCore._strategy_inputs``) and runs the strategy's selector over them.
What is done here, without changing what anyone can see:

* **Shared records for read-only selectors.**  The candidate records are
  read once per (Rust registry handle, registry version) and kept as
  copies with interned keys (the registry is immutable, every change
  makes a higher version).  When the pick's selector is LiteLLM's own
  latency-based, cost-based, least-busy or usage-based-v2 (debug log off)
  selector - exact class, no per-instance method, every method the pick
  can reach LiteLLM's pinned source or our registered patch over it - the
  candidates are the kept records themselves: those selectors only read
  the deployment dicts, the pick answer only reads the chosen one's id
  (``_pick_answer``; a step whose candidates share ids carries its own
  records and is not served here), and nothing else receives the list.
  The same list is handed out again while the version and the step's ids
  are the same, so what a selector derives from it (its id index, whether
  every candidate passes its limits, cost groups) is derived once.  A
  per-request override selector (its pre-call check gets a shallow copy of
  the pick) and every other selector get fresh deep copies
  (``router_json_copy``), as a fresh read gives.
* **Latency and cost picks without per-candidate Python.**
  ``random.sample`` (and ``random.choice``) are drawn natively with the
  same ``getrandbits`` calls in the same order as the stdlib's (self-tested
  when built; used only while ``random``'s functions are the stdlib's on
  ``random._inst``); the id index and the candidate scans (a map the cache
  did not hold, a map it held, the cost loop) run in C over exact dicts
  and numbers with LiteLLM's own operations (``PyObject_RichCompare``,
  ``PyNumber_Add``, the builtin ``sum``).  The C functions have no side
  effects and decline (None) on anything they do not cover, and then
  LiteLLM's loop runs in Python, exactly.

Anything unusual before a side effect (a deployment or ``model_info`` that
is not a dict, an id that is not a ``str``, request kwargs that are not a
dict) declines with :class:`NotAccelerated`, so LiteLLM's code runs.
"""
from __future__ import annotations

import logging
import random as _RANDOM
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple

from fast_litellm.patching import guards
from fast_litellm.patching.registry import NotAccelerated, callers_error, callers_errors, original_if_ours

from . import _logger_guard, litellm_fast
from ._import_hook import BUILTIN_IMPORT as _BUILTIN_IMPORT, BUILTINS as _BUILTINS, IDENTITY as _identity

_LATENCY_CLASS = "litellm.router_strategy.lowest_latency:LowestLatencyLoggingHandler"
_COST_CLASS = "litellm.router_strategy.lowest_cost:LowestCostLoggingHandler"
_LEAST_BUSY_CLASS = "litellm.router_strategy.least_busy:LeastBusyLoggingHandler"
_USAGE_V2_CLASS = "litellm.router_strategy.lowest_tpm_rpm_v2:LowestTPMLoggingHandler_v2"

# the selector class -> the methods a pick of it can run on the candidate list
# (pick_async / pick_sync); each must be LiteLLM's pinned source or our patch of it
_READ_ONLY_SELECTORS: Dict[str, Tuple[str, ...]] = {
    _LATENCY_CLASS: ("async_get_available_deployments", "get_available_deployments", "_get_available_deployments"),
    _COST_CLASS: ("async_get_available_deployments",),
    # reads the ids (a pydantic validation that copies), returns one of the list
    _LEAST_BUSY_CLASS: ("async_get_available_deployments", "get_available_deployments", "_select"),
    # reads ids, models and limits; its debug log is handed the list itself,
    # so only while that log is off (checked at each pick: nothing awaits
    # between the records handed out and that log call)
    _USAGE_V2_CLASS: ("async_get_available_deployments", "get_available_deployments",
                      "_common_checks_available_deployment", "_return_potential_deployments", "usage_counter_keys"),
}
# selector class -> the logger whose debug records would hold the candidate list
_LOGGED_BY = {_USAGE_V2_CLASS: "litellm.router_strategy.lowest_tpm_rpm_v2"}

# the LiteLLM code between _strategy_inputs and the selector: what it does with
# the candidate list is what makes sharing it safe (audited, pinned)
_PICK_PATH_SOURCES = (
    "litellm.router_rust.core:RustCore._answer_select",
    "litellm.router_rust.core:RustCore._answer_select_sync",
    "litellm.router_rust.core:_pick_with_prefetched_usage",
    "litellm.router_rust.core:_pick_answer",
    "litellm.router_rust.steps.selection:pick_async",
    "litellm.router_rust.steps.selection:pick_sync",
    "litellm.router_rust.steps.selection:picked_id",
    # what those selectors hand the candidates to
    "litellm.router_strategy.least_busy:_deployment_ids",
    "litellm.litellm_core_utils.deployment_pricing:deployment_backend_models",
    "litellm.litellm_core_utils.deployment_pricing:deployment_backend_model",
    "litellm.litellm_core_utils.deployment_pricing:deployment_pricing_models",
    "litellm.litellm_core_utils.token_counter:embedding_aware_token_count",
    "litellm.litellm_core_utils.token_counter:split_embedding_input_tokens",
)


def _check_sources(targets: Tuple[str, ...]) -> None:
    """Refuse to build when a LiteLLM function a fast path relies on is not
    the source pinned in ``pins.DEPENDENCIES`` (``guards.require_sources``)."""
    from fast_litellm.patching import guards

    guards.require_sources(targets)


class _ReadOnlyCheck:
    """Whether a selector's pick only reads its candidate dicts: its class is
    exactly LiteLLM's latency or cost selector and each method a pick can
    run is LiteLLM's verified source or one of our patches over it
    (``guards.is_pinned_source``, memoized per method object)."""

    def __init__(self) -> None:
        self._classes: Dict[type, Tuple[str, Tuple[str, ...], Tuple[str, ...]]] = {}
        from .protocol_fast import _StateMemo

        self._memo = _StateMemo()  # the last selector's dict verdict (its and its class's dict tags)
        # per class: the method objects last found pinned (a verdict per function
        # object, as guards.is_pinned_source memoizes it)
        self._pinned: Dict[type, Tuple[Any, ...]] = {}
        import importlib

        for path, methods in _READ_ONLY_SELECTORS.items():
            module, name = path.split(":")
            cls = getattr(importlib.import_module(module), name)
            self._classes[cls] = (path, methods, tuple("%s.%s" % (path, method) for method in methods))

        # class -> the module whose logger is checked (session 24, route24c: found with the
        # class, not a second look-up by path per pick)
        self._logged: Dict[type, Optional[str]] = {
            cls: _LOGGED_BY.get(entry[0]) for cls, entry in self._classes.items()}
        self.check = self._make_check()

    def _make_check(self) -> Callable[[Any], bool]:
        """The verdict as a closure (session 24, route24c: a plain function call, not
        ``__call__`` through the type's slot, the state in cells, not attributes)."""
        classes, logged_by, memo, modules, quiet = self._classes, self._logged, self._memo, sys.modules, _logger_guard.quiet

        def check(selector: Any) -> bool:
            cls = type(selector)
            entry = classes.get(cls)
            if entry is None:
                return False
            logged = logged_by[cls]
            if logged is not None:
                logger = getattr(modules.get(logged), "verbose_router_logger", None)
                if not quiet(logger):
                    return False
            own = getattr(selector, "__dict__", None)
            if type(own) is dict:
                # session 18: the instance- and class-dict part of the verdict, kept while both
                # dicts keep their version tags (_StateMemo; the logger check above stays per pick)
                if memo.get(own, cls) is not None:
                    return True
                return bool(memo.remember(own, cls, lambda: self._dict_verdict(own, cls, entry)))
            if own is not None and not own.keys().isdisjoint(entry[1]):
                return False
            return self._class_verdict(cls, entry)

        return check

    def __call__(self, selector: Any) -> bool:
        return self.check(selector)

    def _dict_verdict(self, own: Any, cls: type, entry: Any) -> Any:
        """(dicts read, (True,)) when no instance attribute shadows a method and
        the class's methods are pinned; else ((None,), ()): not kept."""
        if not own.keys().isdisjoint(entry[1]) or not self._class_verdict(cls, entry):
            return (None,), ()
        return (own, cls), (True,)

    def _class_verdict(self, cls: type, entry: Any) -> bool:
        _path, methods, targets = entry
        klass = cls.__dict__
        pinned = self._pinned.get(cls)
        if pinned is not None:  # the methods last found pinned, found again (no generator: ~0.5 us)
            for name, fn in zip(methods, pinned):
                if klass.get(name) is not fn:
                    break
            else:
                return True
        found = tuple(klass.get(name) for name in methods)
        for target, fn in zip(targets, found):
            if fn is None or not guards.is_pinned_source(target, fn):
                return False
        self._pinned[cls] = found  # held: the ids are not reused while kept
        return True


# id(list) -> [list, its id index or None, its _FreshLatency or None]: the
# shared candidate lists handed out (at most one per cached handle), so a
# selector given one of them reads what it needs of it once, not per pick
_SHARED_LISTS: Dict[int, List[Any]] = {}


def make_strategy_inputs(original: Callable[..., Any]) -> Callable[..., Any]:
    """``RustCore._strategy_inputs``: records read once per registry version;
    shared with LiteLLM's read-only selectors, deep-copied for the rest."""
    from fast_litellm._native_loader import NATIVE

    _check_sources(_PICK_PATH_SOURCES)
    copy = getattr(NATIVE, "router_json_copy", None)
    lookup = getattr(NATIVE, "router_records_of", None)
    same_ids = getattr(NATIVE, "router_same_ids", None)
    interned = getattr(NATIVE, "router_json_copy_interned", None)

    def kept(record):
        """A record as kept: a copy with its keys interned (compact, and found
        by identity of the key constants), or the read itself."""
        if interned is not None and type(record) is dict:
            try:
                return interned(record)
            except (TypeError, RecursionError):
                pass
        return record
    cache = litellm_fast._RecordCache()
    read_only = _ReadOnlyCheck().check
    # per handle: (handle, version, the step's ids, the shared list handed out)
    last_lists: Dict[int, Tuple[Any, Any, List[Any], List[Any]]] = {}

    def shared_list(handle, version, known, ids, entry):
        """A new shared list for ids (``entry``: the handle's last one, which
        _strategy_inputs hands out again while the registry version and the
        ids are the same: read-only consumers leave it as it was)."""
        candidates = shared(handle, known, ids)
        if candidates is not None and same_ids is not None:
            if entry is not None:
                _SHARED_LISTS.pop(_identity(entry[3]), None)
            if len(last_lists) >= litellm_fast._RECORD_CACHE_HANDLES and _identity(handle) not in last_lists:
                _SHARED_LISTS.pop(_identity(last_lists.pop(next(iter(last_lists)))[3]), None)
            last_lists[_identity(handle)] = (handle, version, list(ids), candidates)
            _SHARED_LISTS[_identity(candidates)] = [candidates, None, None]
        return candidates

    def record_of(handle, known, ident):
        """(key, the kept record of a candidate id), read once per version."""
        key = str(ident)
        record = known.get(key, _SLOW)
        if record is _SLOW:
            record = known[key] = kept(handle.deployment(key))
        return key, record

    def fresh_copies(handle, known, ids):
        candidates = []
        for ident in ids:
            key, record = record_of(handle, known, ident)
            if record is None:
                candidates.append({})
            elif type(record) is dict:
                try:
                    candidates.append(copy(record))
                except TypeError:  # not JSON data: read it as LiteLLM does
                    candidates.append(dict(handle.deployment(key) or {}))
            else:
                candidates.append(dict(handle.deployment(key) or {}))
        return candidates

    def shared(handle, known, ids):
        """The kept records themselves, or None when one is not a plain dict
        (then every candidate is copied)."""
        if lookup is not None:
            found = lookup(ids, known)
            if found is not None:
                return found
        candidates = []
        for ident in ids:
            _key, record = record_of(handle, known, ident)
            if record is None:
                candidates.append({})
            elif type(record) is dict:
                candidates.append(record)
            else:
                return None
        return candidates

    def _strategy_inputs(self, step, request):
        if copy is None or type(step) is not dict:
            raise NotAccelerated("no native record copy")
        if step.get("stage") != "strategy":
            return None
        if step.get("records") is not None:
            raise NotAccelerated("the step carries its records")
        ids = step.get("candidates")
        if type(ids) is not list:
            raise NotAccelerated("candidates is not a list")
        handle = self._handle
        version = handle.registry_version()
        # str(value) for an exact str is the value itself: the call is made for anything else
        # (a str subclass's or any object's __str__ runs, in LiteLLM's order: session 24, route24c)
        strategy = step.get("strategy")
        if type(strategy) is not str:
            strategy = str(strategy)
        group = step.get("group")
        scope = step.get("scope")
        selectors = self._selectors
        selector = selectors.selector_for(
            strategy, scope if type(scope) is str else str(scope),
            (group if type(group) is str else str(group)) if group is not None else None, request
        )
        candidates = None
        # (not StrategySelectors.is_override: LiteLLM's _strategy_inputs does not call it, and one set
        # on the selectors or their class saw an extra call a pick - session 23 hunt; its body read
        # here, an exact dict's look-up by the exact str: anything else takes the copies)
        overrides = getattr(selectors, "__dict__", None)
        overrides = overrides.get("_overrides") if type(overrides) is dict else None
        if read_only(selector) and type(overrides) is dict and overrides.get(strategy) is not selector:
            # the list handed out last time needs no records (session 24, route24c: the record
            # cache, our own memo, is looked up only when a record is read)
            entry = last_lists.get(_identity(handle))
            if (entry is not None and entry[0] is handle and entry[1] == version and same_ids is not None
                    and same_ids(ids, entry[2])):
                candidates = entry[3]
            else:
                candidates = shared_list(handle, version, cache.records(handle, version), ids, entry)
        if candidates is None:
            candidates = fresh_copies(handle, cache.records(handle, version), ids)
        if handle.registry_version() != version:
            # the registry changed while reading: read every record now, as LiteLLM does
            candidates = [dict(handle.deployment(str(ident)) or {}) for ident in ids]
        model = step.get("model")
        return strategy, selector, model if type(model) is str else str(model), candidates

    _strategy_inputs.__doc__ = original.__doc__
    return _strategy_inputs


_SLOW = litellm_fast._SLOW


_METHOD = type(_RANDOM.Random().sample)  # (a bound Python method: random.sample and random.choice are)
_MODULE_TYPE = type(sys)


def _module_attr(module: Any, name: str) -> Any:
    """``module.<name>`` for an exact module, read from its dict (no module
    ``__getattr__``); None for anything else, whose attribute look-ups are
    code LiteLLM's calls run and ours must not (session 22 hunt: a ``random``
    stand-in's ``__getattr__`` ran 3x a latency pick's times)."""
    if type(module) is not _MODULE_TYPE:
        return None
    return module.__dict__.get(name)


# --------------------------------------------------------------------------
# random.sample over a whole list, natively
# --------------------------------------------------------------------------

class _Sampler:
    """``random.sample(population, len(population))`` with the interpreter's
    own draws: ``router_sample_all`` calls the module instance's C
    ``getrandbits`` exactly as ``Random.sample``'s pool method and
    ``_randbelow_with_getrandbits`` do.  Used only while ``random.sample``
    is the stdlib's bound to ``random._inst`` with the stdlib ``_randbelow``
    and ``getrandbits`` (checked per call), and only when a self-test
    against ``Random.sample`` passed at build."""

    def __init__(self) -> None:
        import _random
        import random

        from fast_litellm._native_loader import NATIVE

        self._native = getattr(NATIVE, "router_sample_all", None)
        self._positions = getattr(NATIVE, "router_sample_positions", None)
        self.take = getattr(NATIVE, "router_take", None)
        self._choose = getattr(NATIVE, "router_sample_then_choose", None)
        self._choice = random.Random.__dict__.get("choice")
        self._sample = random.Random.__dict__.get("sample")
        self._randbelow = random.Random.__dict__.get("_randbelow_with_getrandbits")
        self._getrandbits = _random.Random.__dict__.get("getrandbits")
        stdlib = (
            getattr(self._sample, "__module__", None) == "random"
            and getattr(self._sample, "__qualname__", None) == "Random.sample"
        )
        if self._native is None or not stdlib or not self._self_test(random):
            self._native = None
        if self._native is None or self._choose is None or not self._choice_test(random):
            self._choose = None

    def _self_test(self, random: Any) -> bool:
        for seed in range(3):
            for n in (0, 1, 2, 3, 5, 6, 7, 21, 22, 100, 1000, 1025):
                ours, theirs = random.Random(seed), random.Random(seed)
                population = list(range(n))
                if self._native(ours.getrandbits, population) != theirs.sample(population, n):
                    return False
                if ours.getstate() != theirs.getstate():
                    return False
                if self._positions is not None and self.take is not None:
                    ours, theirs = random.Random(seed), random.Random(seed)
                    if (self.take(population, self._positions(ours.getrandbits, n)) != theirs.sample(population, n)
                            or ours.getstate() != theirs.getstate()):
                        self._positions = None
        return True

    def _choice_test(self, random: Any) -> bool:
        for seed in range(3):
            for n in (1, 2, 3, 7, 22, 100, 1000):
                ours, theirs = random.Random(seed), random.Random(seed)
                values = ["v%d" % (i % 5) if i % 3 else None for i in range(n)]
                index, per_value = self._choose(ours.getrandbits, n, values, 0.5)
                sampled = theirs.sample(range(n), n)
                if index != theirs.choice(sampled) or ours.getstate() != theirs.getstate():
                    return False
                expected = {}
                for position in sampled:
                    if values[position] is not None:
                        expected[values[position]] = 0.5
                if per_value != expected or list(per_value) != list(expected):
                    return False
        return True

    def draws_are_stdlib(self, module: Any) -> bool:
        """Whether ``module.sample`` and ``module.choice`` are the stdlib's
        ``Random`` methods (on any instance): their draws then depend on the
        population's length alone, so a population of ids (LiteLLM: the map's
        items) or of deployments (LiteLLM: (deployment, latency) pairs) draws
        alike.  A replaced one (a test's mock) sees LiteLLM's arguments only
        in LiteLLM's code."""
        sample = _module_attr(module, "sample")
        choice = _module_attr(module, "choice")
        return (type(sample) is _METHOD and sample.__func__ is self._sample
                and type(choice) is _METHOD and choice.__func__ is self._choice)

    def getrandbits_of(self, module: Any) -> Optional[Callable[[int], int]]:
        """The bound ``getrandbits`` that ``module.sample`` draws from, when
        it is the stdlib's, else None."""
        if self._native is None:
            return None
        sample = _module_attr(module, "sample")
        if type(sample) is not _METHOD or sample.__func__ is not self._sample:
            return None
        inst = sample.__self__
        own = getattr(inst, "__dict__", {})
        if "_randbelow" in own or "getrandbits" in own or "sample" in own:
            return None
        cls = type(inst)
        if getattr(cls, "_randbelow", None) is not self._randbelow or getattr(cls, "getrandbits", None) is not self._getrandbits:
            return None
        return inst.getrandbits

    def choice_follows(self, module: Any, getrandbits: Any) -> bool:
        """Whether ``module.choice`` is the stdlib's on the instance whose
        ``getrandbits`` is given (``getrandbits_of(module)``)."""
        choice = _module_attr(module, "choice")
        return (type(choice) is _METHOD and choice.__func__ is self._choice and self._choose is not None
                and choice.__self__ is getattr(getrandbits, "__self__", None))

    def sample_then_choose(self, getrandbits: Any, n: int, values: Any, value: Any) -> Tuple[int, Any]:
        return self._choose(getrandbits, n, values, value)

    def sample_positions(self, module: Any, n: int) -> Any:
        """``random.sample(population, n)`` of a population of n as the
        indexes it takes, in order (bytes of native uint32; the same draws as
        :meth:`sample_all`), or None where the draws are not the stdlib's."""
        if self._positions is None or self.take is None or self._native is None:
            return None
        getrandbits = self.getrandbits_of(module)
        if getrandbits is None:
            return None
        return self._positions(getrandbits, n)

    def sample_all(self, module: Any, population: List[Any]) -> List[Any]:
        getrandbits = self.getrandbits_of(module)
        if getrandbits is None:
            return module.sample(population, len(population))
        return self._native(getrandbits, population)


# --------------------------------------------------------------------------
# latency-based-routing: LowestLatencyLoggingHandler
# --------------------------------------------------------------------------

_LATENCY_MODULE = "litellm.router_strategy.lowest_latency"
_LATENCY_FUNCTIONS = ("_usable_latency_samples", "_average_latency", "_percentile_latency")
_SUM = sum
_NAMES = ("litellm_params", "model_info", "id", "tpm", "rpm", "api_base",
          "base_model", "model", "input_cost_per_token", "output_cost_per_token",
          "latency_normalized", "time_to_first_token_seconds")


def _exact_scalar(value: Any) -> bool:
    return value is None or type(value) in (str, int, float, bool)


def _cost_signature(deployment: Any) -> Optional[Tuple[Any, ...]]:
    """What lowest_cost's cost of a plain deployment depends on besides the
    cost map: its pricing model names (base_model, then model) and its own
    truthy input/output prices, each with its type (1 and 1.0 and True are
    equal keys, not equal prices).  None for anything not plain: dicts with
    other keys, inner values of other types, an api_base LiteLLM could not
    hash."""
    if type(deployment) is not dict or not all(type(k) is str for k in deployment):
        return None
    params = deployment.get("litellm_params", {})
    info = deployment.get("model_info")
    for inner in (params, info):
        if type(inner) is not dict or not all(type(k) is str for k in inner):
            return None
    base = info.get("base_model") or params.get("base_model")
    fields = (base, params.get("model"), params.get("input_cost_per_token"), params.get("output_cost_per_token"),
              params.get("api_base", ""))
    if not all(_exact_scalar(v) for v in fields):
        return None
    return tuple((type(v), v) for v in fields[:4])


# the last True verdict of _all_known over a shared candidate list:
# (that list, the map, the map's version tag read before the check)
_KNOWN: List[Any] = [None]


def _all_known(healthy: Any, counts: Any) -> bool:
    """Whether LiteLLM's loop giving unseen candidates a zero entry would add
    nothing (checked natively; False when not certain: the loop runs).

    Kept (stop 14): a True verdict for a *shared* candidate list (immutable
    while shared: ``_SHARED_LISTS``) and an exact-dict map holds while the map
    is the same object with the same PEP 509 version tag (read before the
    check; every key added, deleted or rebound gives the dict a new tag), since
    the verdict reads only the list's records and the map's keys.  The walk of
    a 1,000-entry map and its candidates is ~0.1 ms warm and ~0.25 ms with cold
    caches.  Without tags (CPython >= 3.12) every call checks."""
    from fast_litellm._native_loader import NATIVE

    check = getattr(NATIVE, "router_all_known", None)
    if check is None:
        return False
    tags_of = getattr(NATIVE, "router_dict_tags", None)
    entry = _SHARED_LISTS.get(_identity(healthy))
    tags = None
    if tags_of is not None and entry is not None and entry[0] is healthy and type(counts) is dict:
        kept = _KNOWN[0]
        if kept is not None and kept[0] is healthy and kept[1] is counts and tags_of((counts,), kept[2]) is True:
            return True
        tags = tags_of((counts,))
    known = check(healthy, counts, _NAMES)
    if known and tags is not None:
        _KNOWN[0] = (healthy, counts, tags)
    return known


def _prepared_list(healthy: Any, by_id: Any) -> Any:
    """The ``_FreshLatency`` of a shared candidate list whose id index is
    ``by_id`` (made on first use: it reads only our own index), or None."""
    entry = _SHARED_LISTS.get(_identity(healthy))
    if entry is None or entry[0] is not healthy or entry[1] is not by_id or not by_id:
        return None
    prepared = entry[2]
    if prepared is None:
        prepared = entry[2] = _FreshLatency(by_id)
    return prepared


def _shared_table(healthy: Any, by_id: Any) -> Any:
    """The candidate table of a shared candidate list whose id index is
    ``by_id`` (session 16), or None."""
    prepared = _prepared_list(healthy, by_id)
    return None if prepared is None else prepared.table()


class _FreshLatency:
    """What a fresh-map latency pick needs of one shared candidate list (which
    never changes): its ids by first occurrence, whether every candidate
    passes its limits at given input tokens, and its api_base values."""

    __slots__ = ("by_id", "keys", "_passes", "_api_bases", "_cost_groups", "_table")

    def __init__(self, by_id: Dict[str, Any]) -> None:
        self.by_id = by_id
        self.keys = list(by_id)
        self._passes: Dict[int, bool] = {}
        self._api_bases: Any = _SLOW
        self._cost_groups: Any = _SLOW
        self._table: Any = _SLOW

    def table(self) -> Any:
        """What the native scans read of each deployment, read once for the
        list (``router_candidate_table``: (slots, capsule)), or None when a
        deployment is not plain (the scans read ``by_id``)."""
        if self._table is _SLOW:
            from fast_litellm._native_loader import NATIVE

            make = getattr(NATIVE, "router_candidate_table", None)
            self._table = make(self.by_id, _NAMES) if make is not None else None
        return self._table

    def all_pass(self, scan: Any, input_tokens: int, latency: Any) -> bool:
        passes = self._passes.get(input_tokens)
        if passes is None:
            scanned = scan(self.keys, self.by_id, _NAMES, input_tokens, latency, False) if scan else None
            passes = scanned is not None and len(scanned[0]) == len(self.keys)
            if len(self._passes) < 64:
                self._passes[input_tokens] = passes
        return passes

    def cost_groups(self) -> Optional[List[Tuple[int, Any]]]:
        """The candidates grouped by what their cost is made of - pricing
        model names, own input/output prices - as (first position, a
        deployment of the group), in order; None when a deployment is not
        plain enough to group (its cost is then computed one by one)."""
        if self._cost_groups is _SLOW:
            groups: Dict[Any, Tuple[int, Any]] = {}
            for position, key in enumerate(self.keys):
                signature = _cost_signature(self.by_id[key])
                if signature is None:
                    groups = None  # type: ignore[assignment]
                    break
                if signature not in groups:
                    groups[signature] = (position, self.by_id[key])
            self._cost_groups = None if groups is None else list(groups.values())
        return self._cost_groups

    def api_bases(self) -> Optional[List[Any]]:
        """``litellm_params.get("api_base", "")`` per key, or None when one
        is not a str or None (LiteLLM hashes it as a dict key)."""
        if self._api_bases is _SLOW:
            values: Optional[List[Any]] = []
            for key in self.keys:
                params = self.by_id[key].get("litellm_params", {})
                value = params.get("api_base", "") if type(params) is dict else _SLOW
                if value is not None and type(value) is not str:
                    values = None
                    break
                values.append(value)
            self._api_bases = values
        return self._api_bases


# lists whose sums the builtin makes differently left to right and compensated
# (3.12+), ints before and among floats, zeros of both signs, overflow, unusable samples
_AVERAGE_CHECKS = (
    [0.1] * 10, [1e16, 1.0, 1.0, -1e16], [1.0, 1e100, 1.0, -1e100], [0, 0.1, 0.2, 0.3], [0, 1, 2],
    [3, 1e16, 1.0, 1.0], [0.1, 2, 0.2, 3, 0.3], [-0.0], [0, -0.0], [-0.0, 0.0], [1e308, 1e308, 1.0],
    [0.5, float("inf"), float("nan"), -1.0, 2.5], [2 ** 53, 0.5], [0.3, 2 ** 52, 0.7, 2 ** 52], [],
    [1e-300, 1e300, 3.0, 1e-300], (0.7, 0.1, 0.2), [5, -3, 0.25], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
)


_OBJECT_GETATTRIBUTE = object.__getattribute__
_BUFFER_NAME = "lowest_latency_buffer"
_PERCENTILE_NAME = "ttft_percentile"
_EXACT_INT = 2 ** 53


def _native_average_agrees(average: Any) -> bool:
    """Whether the native average (``router_latency_average``) gives, bit for
    bit, what ``_average_latency(_usable_latency_samples(s))`` gives with the
    running interpreter's builtin ``sum`` on lists where the summation order or
    compensation shows; False when it declines any of the all-number ones."""
    import math

    if average is None or sum is not _SUM:
        return False
    for samples in _AVERAGE_CHECKS:
        usable = tuple(x for x in samples if math.isfinite(x) and x >= 0)
        expected = _SUM(usable) / len(usable) if usable else 0.0
        got = average(samples)
        if got is None or type(got) is not float or got.hex() != float(expected).hex():
            return False
    return True


# the builtins lowest_latency's loop and latency functions call (through the module's
# globals, then builtins), which the fast pick's sums, filters and ranking stand for
_LATENCY_BUILTINS = tuple((name, _BUILTINS[name]) for name in ("sum", "len", "tuple", "sorted"))
# the same for lowest_cost's loop and pricing helpers (ranking, _as_rate's test and
# conversion, the first priced row) and the deployment_pricing helpers they call
_COST_BUILTINS = tuple((name, _BUILTINS[name]) for name in
                       ("sorted", "float", "isinstance", "int", "bool", "next", "len", "tuple", "dict", "str",
                        "iter", "map"))


def _builtins_plain(module: Any, builtin_names: Tuple[Tuple[str, Any], ...] = _LATENCY_BUILTINS) -> bool:
    """Whether none of those is shadowed in the module or replaced in builtins."""
    names = vars(module)
    for name, fn in builtin_names:
        if name in names or _BUILTINS.get(name) is not fn:
            return False
    return True


def _globals_check(modules: Tuple[Any, ...], builtin_names: Tuple[Tuple[str, Any], ...],
                   bound: Tuple[Tuple[Any, str, Any], ...] = ()) -> Callable[[], bool]:
    """One call (``router_entries_same``: ~0.1 us a dozen look-ups) telling
    whether the builtins are not shadowed in any of ``modules`` nor replaced
    in builtins, and each (module, name, object) of ``bound`` still holds."""
    from ._pydantic_guard import _same

    same = _same()
    flat: List[Any] = []
    for module in modules:
        for name, _fn in builtin_names:
            flat += [vars(module), name, _SLOW]
    for name, fn in builtin_names:
        flat += [_BUILTINS, name, fn]
    for module, name, value in bound:
        flat += [vars(module), name, value]
    triples = tuple(flat)
    return lambda: same(triples, _SLOW)


class _LatencyPick:
    """LiteLLM's latency pick (``_get_available_deployments``) over its map:
    the id index and, for a map the cache did not hold, the candidate scan
    natively; the draws through :class:`_Sampler`.  Everything else is
    ``litellm_fast``'s exact Python loop."""

    def __init__(self) -> None:
        from fast_litellm._native_loader import NATIVE

        self._index = getattr(NATIVE, "router_index_by_id", None)
        self._fresh_scan = getattr(NATIVE, "router_latency_fresh", None)
        self._scan_native = getattr(NATIVE, "router_latency_scan", None)
        self._within = getattr(NATIVE, "router_latency_within", None)
        self._sampler = _Sampler()
        # whether the scan may average an entry's samples itself (no call of the builtin
        # sum, no tuple): only where its arithmetic is the running interpreter's sum's
        self._native_sum = _native_average_agrees(getattr(NATIVE, "router_latency_average", None))
        # the latency functions the native scan computes as LiteLLM does (sources pinned)
        _check_sources(tuple("%s:%s" % (_LATENCY_MODULE, name) for name in _LATENCY_FUNCTIONS))
        import importlib

        module = importlib.import_module(_LATENCY_MODULE)
        self._functions = tuple(getattr(module, name) for name in _LATENCY_FUNCTIONS)
        self._module = module
        self._plain_globals = _globals_check((module,), _LATENCY_BUILTINS)
        import math

        # the unseen entry's latency is 0.0 (no calls) while these hold (session 19)
        self._unseen_is_zero = _globals_check(
            (module,), _LATENCY_BUILTINS,
            tuple((module, name, fn) for name, fn in zip(_LATENCY_FUNCTIONS[:2], self._functions[:2]))
            + ((module, "isfinite", math.isfinite),))
        self._routing_args_type = getattr(module, "RoutingArgs", None)
        self._routing_args_mro = getattr(self._routing_args_type, "__mro__", ())
        self._plain_reads = {name: self._plain_read_check(name) for name in (_BUFFER_NAME, _PERCENTILE_NAME)}
        self._env_same, self._env_inst = self._env_check(module)
        self._handler_type = getattr(module, "LowestLatencyLoggingHandler", None)
        self._field_same, self._field_names = self._metadata_field_check()

    def _metadata_field_check(self) -> Tuple[Callable[[], bool], Any]:
        """(check, (LITELLM_METADATA_FIELD, OLD_LITELLM_METADATA_FIELD)):
        whether ``handler._select_metadata_field(request_kwargs)`` on an
        instance of exactly LiteLLM's latency class (with no instance
        attribute of that name) is LiteLLM's pinned ``CustomLogger`` method
        whose import statement (``from litellm.constants import ...``) only
        reads that loaded module's dict (``_imports_plainly``; the import hook
        is the env check's): one native ``router_entries_same`` call over the
        class walk and the module's entries as found at build (session 19, ~1 us
        a pick).  Then the answer is made here from those two values, as the
        method makes it.  One that did not hold at build always fails."""
        import types

        from ._pydantic_guard import _same

        never = (lambda: False), None
        cls = self._handler_type
        try:
            _check_sources(("litellm.integrations.custom_logger:CustomLogger._select_metadata_field",))
            constants = sys.modules.get("litellm.constants")
            names = ("LITELLM_METADATA_FIELD", "OLD_LITELLM_METADATA_FIELD")
            if (not isinstance(cls, type) or type(constants) is not types.ModuleType
                    or any(name not in vars(constants) for name in names)):
                return never
            flat: List[Any] = [sys.modules, "litellm.constants", constants, constants, None, types.ModuleType,
                               cls, 1, cls.__mro__]
            values = tuple(vars(constants)[name] for name in names)
            if any(type(value) is not str for value in values):  # (`in` an exact dict: no code)
                return never
            for name, value in zip(names, values):
                flat += [vars(constants), name, value]
            method = None
            for klass in cls.__mro__:
                found = vars(klass).get("_select_metadata_field", _SLOW)
                flat += [klass, "_select_metadata_field", found]
                if found is not _SLOW:
                    method = found
                    break
            for klass in cls.__mro__:
                if klass is not object:
                    flat += [klass, "__getattribute__", _SLOW, klass, "__getattr__", _SLOW]
            if (type(method) is not types.FunctionType or method.__qualname__ != "CustomLogger._select_metadata_field"
                    or not guards.is_pinned_source(
                        "litellm.integrations.custom_logger:CustomLogger._select_metadata_field", method)):
                return never
            triples = tuple(flat)
            same = _same()
            if not same(triples, _SLOW):
                return never
        except Exception:  # noqa: BLE001 - not as pinned: LiteLLM's method is called
            return never
        return (lambda: same(triples, _SLOW)), values

    def _metadata_field(self, handler: Any, request_kwargs: Any) -> Any:
        """``handler._select_metadata_field(request_kwargs)``: its answer made
        here while ``_metadata_field_check`` holds (request_kwargs None or an
        exact dict with exact-str keys: ``in`` runs no code), else the call."""
        if type(handler) is self._handler_type and self._field_same():
            own = getattr(handler, "__dict__", None)
            if type(own) is dict and "_select_metadata_field" not in own:
                if request_kwargs is None:
                    return None
                new, old = self._field_names
                return new if new in request_kwargs else old
        return handler._select_metadata_field(request_kwargs)

    def _env_check(self, module: Any) -> Tuple[Callable[[], bool], Any]:
        """(check, the ``random._inst`` it covers): one native call
        (``router_entries_same``) standing for the pick's per-call checks of
        LiteLLM's module as they held at build (session 19: ~2-3 us of Python
        over a pick's three rounds of them): ``builtins.__import__`` and the
        latency builtins (``globals_plain``), the module's ``datetime`` and
        ``random``, ``random.sample`` / ``random.choice`` the very bound methods
        of the stdlib's ``Random`` on ``random._inst`` found at build
        (``draws_are_stdlib``), and what ``getrandbits_of`` / ``choice_follows``
        read of that instance and its class.  While it holds, each of those
        checks would pass (and ``getrandbits_of`` give ``inst.getrandbits``); a
        check that fails sends the pick through them.  One that did not hold
        at build always fails."""
        import random as random_module

        import _random

        from ._pydantic_guard import _same

        never = (lambda: False), None
        sampler = self._sampler
        try:
            sample = vars(random_module).get("sample")
            choice = vars(random_module).get("choice")
            inst = getattr(sample, "__self__", None)
            cls = type(inst)
            own = getattr(inst, "__dict__", None)
            if (sampler._native is None or sampler._choose is None or type(own) is not dict
                    or cls is not random_module.Random or getattr(choice, "__self__", None) is not inst
                    or getattr(sample, "__func__", None) is not sampler._sample
                    or getattr(choice, "__func__", None) is not sampler._choice):
                return never
            flat: List[Any] = [_BUILTINS, "__import__", _BUILTIN_IMPORT,
                               vars(module), "datetime", litellm_fast.datetime,
                               vars(module), "random", random_module,
                               vars(random_module), "sample", sample, vars(random_module), "choice", choice,
                               inst, None, cls, inst, 0, own,
                               own, "_randbelow", _SLOW, own, "getrandbits", _SLOW, own, "sample", _SLOW,
                               cls, 1, cls.__mro__]
            for name, fn in _LATENCY_BUILTINS:
                flat += [vars(module), name, _SLOW, _BUILTINS, name, fn]
            # getattr(cls, "_randbelow") / getattr(cls, "getrandbits") along the MRO
            for name, want in (("_randbelow", sampler._randbelow), ("getrandbits", sampler._getrandbits)):
                for klass in cls.__mro__:
                    if name in vars(klass):
                        flat += [klass, name, want]
                        break
                    flat += [klass, name, _SLOW]
                else:
                    return never
            if _random.Random not in cls.__mro__:
                return never
            triples = tuple(flat)
            same = _same()
            if not same(triples, _SLOW):
                return never
        except Exception:  # noqa: BLE001 - a state this check cannot read: the full checks
            return never
        return (lambda: same(triples, _SLOW)), inst

    def _plain_read_check(self, name: str) -> Callable[[], bool]:
        """One native call (``router_entries_same``) standing for
        ``_plain_buffer_checked``'s class checks as they held at build: the
        class's MRO the same tuple, no class in it holding ``name`` or a
        ``__getattribute__`` but ``object``, whose own is object's (session 19:
        ~1 us of Python a pick, a mapping proxy per class).  A check that
        fails sends the read through those checks; one that did not hold at
        build always fails."""
        from ._pydantic_guard import _same

        cls, mro = self._routing_args_type, self._routing_args_mro
        if not isinstance(cls, type) or not mro or mro[-1] is not object:
            return lambda: False
        flat: List[Any] = [cls, 1, mro]
        for klass in mro:
            flat += [klass, name, _SLOW]
            flat += [klass, "__getattribute__", _OBJECT_GETATTRIBUTE if klass is object else _SLOW]
        triples = tuple(flat)
        same = _same()
        try:
            holds = same(triples, _SLOW)
        except Exception:  # noqa: BLE001 - a class this check cannot read: the full checks
            holds = False
        if not holds:
            return lambda: False
        return lambda: same(triples, _SLOW)

    def _plain_buffer(self, routing_args: Any, name: str = _BUFFER_NAME) -> Any:
        """``_plain_buffer_checked``, its class checks in one native call
        while they hold as at build."""
        if type(routing_args) is self._routing_args_type and self._plain_reads[name]():
            return routing_args.__dict__.get(name, _SLOW)
        return self._plain_buffer_checked(routing_args, name)

    def _plain_buffer_checked(self, routing_args: Any, name: str = _BUFFER_NAME) -> Any:
        """``routing_args.lowest_latency_buffer`` read before the scan, for the
        scan to rank its candidates (session 16), when that read is a plain
        instance-dict read that runs nothing: LiteLLM's own ``RoutingArgs``
        (exact type, object's attribute look-up, no class in its MRO holding
        the name); else _SLOW (the scan returns its pairs and the attribute is
        read after it, where LiteLLM reads it).  The scan runs no code, so the
        read's place relative to it cannot be seen.  (``name``: the same for
        ``ttft_percentile``, which LiteLLM reads only for a streaming
        request's candidates with usable ttft samples.)"""
        cls = type(routing_args)
        if cls is not self._routing_args_type or cls.__getattribute__ is not _OBJECT_GETATTRIBUTE:
            return _SLOW
        for klass in self._routing_args_mro:
            if name in klass.__dict__:
                return _SLOW
        if cls.__mro__ != self._routing_args_mro:
            return _SLOW
        return routing_args.__dict__.get(name, _SLOW)

    def _buffer_multiplies(self, handler: Any, latency: Any) -> bool:
        """Whether LiteLLM's ``routing_args.lowest_latency_buffer * latency``
        (read after its draws whenever a candidate is kept) runs no code and
        cannot raise: a plain read of an exact float, a bool or an int within
        2**53, times a float."""
        buffer = self._plain_buffer(handler.routing_args)
        kind = type(buffer)
        return type(latency) is float and (kind is float or kind is bool or
                                           (kind is int and -_EXACT_INT <= buffer <= _EXACT_INT))

    def globals_plain(self, module: Any) -> bool:
        """``_builtins_plain(module)``, in one native call for the module seen at build."""
        return self._plain_globals() if module is self._module else _builtins_plain(module)

    def _native_scan_fits(self, module: Any, percentile: Any) -> bool:
        """The module's latency functions are LiteLLM's (as pinned at build),
        its average sums with the builtin, and the percentile is a finite float or None."""
        import builtins
        import math

        if self._scan_native is None or "sum" in vars(module) or getattr(builtins, "sum", None) is not _SUM:
            return False
        # _usable_latency_samples' isfinite and _percentile_latency's ceil, read through the module
        if getattr(module, "isfinite", None) is not math.isfinite or getattr(module, "ceil", None) is not math.ceil:
            return False
        if any(getattr(module, name, None) is not fn for name, fn in zip(_LATENCY_FUNCTIONS, self._functions)):
            return False
        return percentile is None or (type(percentile) is float and math.isfinite(percentile))

    def index(self, healthy: Any) -> Dict[str, Any]:
        """``{id: last deployment with it}`` (declines like ``_index_by_id``);
        for a shared candidate list, computed once (the list never changes).
        The caller must not change the map."""
        entry = _SHARED_LISTS.get(_identity(healthy))
        if entry is not None and entry[0] is healthy:
            if entry[1] is None:
                entry[1] = self._fresh_index(healthy)
            return entry[1]
        return self._fresh_index(healthy)

    def _fresh_index(self, healthy: Any) -> Dict[str, Any]:
        if self._index is not None:
            by_id = self._index(healthy, _NAMES)
            if by_id is not None:
                return by_id
        return litellm_fast._index_by_id(healthy)  # the same map, or NotAccelerated

    def __call__(self, handler, module, healthy, messages, input, request_kwargs, counts, fresh, by_id=None):
        if request_kwargs is not None and type(request_kwargs) is not dict:
            raise NotAccelerated("request_kwargs is not a dict")
        if request_kwargs is not None and not litellm_fast.str_keyed(request_kwargs):
            # LiteLLM reads request_kwargs["stream"] per candidate: a str-subclass key's own
            # __eq__ runs in each of those lookups, which ours makes once or not at all
            raise NotAccelerated("a request key is not an exact str")
        if counts is not None and type(counts) is not dict:
            raise NotAccelerated("request_count_dict is not a dict")
        if module is not self._module or not self._env_same():  # (as at build: the checks below pass)
            if module.datetime is not litellm_fast.datetime:
                raise NotAccelerated("lowest_latency's clock is replaced")  # LiteLLM's minute is read through it
            if not self._sampler.draws_are_stdlib(module.random):
                raise NotAccelerated("random.sample or random.choice is replaced")  # before any side effect
            if not self.globals_plain(module):
                raise NotAccelerated("a builtin LiteLLM's latency code reads is shadowed or replaced")
        # LiteLLM's three clock reads (datetime checked above: the C type's now(), which
        # nothing can see) make the minute only the usage reads of a map the cache held
        # use: a fresh map's unseen entries count no usage (session 19); made anyway while
        # time.strftime is not the interpreter's (a recorder sees stock's three calls: hunt25)
        minute = None if fresh and litellm_fast.strftime_plain() else litellm_fast._minute_stamp()
        if counts is None:
            return None
        if by_id is None:
            by_id = self.index(healthy)
        keys = None
        unseen_latency = None
        if fresh:
            # the unseen entries LiteLLM would add (latency [0], no usage) are read, not built;
            # by_id was filled in list order, so its keys are the ids by first occurrence
            # (listed below where used).  Their latency, _average_latency(_usable_latency_samples
            # ([0])), is sum((0,)) / 1 == 0.0 while those functions, isfinite and the builtins
            # they read are the pinned ones (session 19: one native check, no calls); else
            # None, and _scan calls the module's functions per candidate as LiteLLM does
            if self._unseen_is_zero():
                unseen_latency = 0.0
        else:
            if not _all_known(healthy, counts):
                litellm_fast._add_unseen(
                    counts, healthy, lambda: {"latency_normalized": [0], minute: {"tpm": 0, "rpm": 0}}
                )
            keys = list(counts)
        # From here LiteLLM's steps (and its reads of the request and the map) run in
        # LiteLLM's order around our native scans and draws, after the map may have gained
        # its unseen entries: an error from one of them is the caller's (``callers_errors``),
        # while one of our own still falls back.
        known = litellm_fast._known_input_tokens(module, messages, input)  # ours: an error falls back
        try:  # (callers_errors' marking, without its two method calls: session 19)
            input_tokens = litellm_fast._input_tokens(module, healthy, messages, input, known)
            metadata_field = self._metadata_field(handler, request_kwargs)
            report = request_kwargs is not None and metadata_field in request_kwargs
        except Exception as exc:
            callers_error(exc)
            raise
        # the fresh map's shortcuts rank nothing (every candidate at the unseen latency): only
        # while LiteLLM's read of the buffer runs nothing and `buffer * latency` cannot raise
        fresh_plain = (fresh and unseen_latency is not None and type(input_tokens) is int
                       and self._buffer_multiplies(handler, unseen_latency))
        if fresh_plain:
            picked = self._all_pass_pick(module, healthy, by_id, input_tokens, unseen_latency, report)
            if picked is not None:
                chosen, latency_by_api_base = picked
                if report:
                    with callers_errors:
                        request_kwargs[metadata_field]["_latency_per_deployment"] = latency_by_api_base
                return chosen
        # over a map the cache held, random.sample's draws as positions into the map's
        # keys: the native scan reads the map in its own order (session 16)
        if keys is None:
            keys = list(by_id)
        positions = None
        if not fresh and type(input_tokens) is int and self._scan_native is not None:
            positions = self._sampler.sample_positions(module.random, len(keys))
        sampled = self._sampler.sample_all(module.random, keys) if positions is None else None
        scanned = None
        if fresh_plain and self._fresh_scan is not None:
            scanned = self._fresh_scan(sampled, by_id, _NAMES, input_tokens, unseen_latency, report)
        if scanned is not None:
            kept, latency_by_api_base = scanned
            if not kept:
                return None
            # every candidate has the unseen latency: sorted keeps the order, and the
            # buffer keeps all of them or none (then LiteLLM draws from all of them)
            chosen = module.random.choice(kept)
        else:
            scanned = None
            streaming = (
                request_kwargs is not None
                and request_kwargs.get("stream", None) is not None
                and request_kwargs["stream"] is True
            )
            # LiteLLM reads ttft_percentile only where a streaming request's candidate has
            # usable ttft samples: read here only when that read runs nothing (else _SLOW:
            # LiteLLM's loop below reads it where LiteLLM does); unread when not streaming
            percentile = self._plain_buffer(handler.routing_args, _PERCENTILE_NAME) if streaming else None
            if (not fresh and type(input_tokens) is int and percentile is not _SLOW
                    and self._native_scan_fits(module, percentile)):
                coefficient = self._plain_buffer(handler.routing_args)
                try:
                    scanned = self._scan_native(sampled if positions is None else keys, counts, by_id, _NAMES,
                                                minute, input_tokens, streaming, percentile, report, _SUM,
                                                self._native_sum, None if coefficient is _SLOW else coefficient,
                                                _shared_table(healthy, by_id), positions)
                except Exception:  # noqa: BLE001 - LiteLLM's loop below meets the same data in its order
                    # random.sample has drawn: an error here (a ttft_percentile assigned past (0, 1]
                    # makes LiteLLM's index raise IndexError) must not fall back to LiteLLM's pick,
                    # which would draw again; LiteLLM's loop in sampled order raises it as the
                    # caller's, at its place, or picks if the error was ours
                    scanned = None
            within = None
            if scanned is not None:
                within, candidates, latency_by_api_base = scanned
            else:
                if sampled is None:
                    sampled = self._sampler.take(keys, positions)
                with callers_errors:
                    candidates, latency_by_api_base = self._scan(
                        handler, module, healthy, request_kwargs, counts, fresh, by_id, sampled, minute,
                        input_tokens, report,
                    )
            if within is None:
                if not candidates:
                    return None
                with callers_errors:
                    coefficient = handler.routing_args.lowest_latency_buffer
                # the candidates within the buffer in sorted order, natively, for exact
                # float latencies (no key calls, no sorted list); else LiteLLM's steps
                within = self._within(candidates, coefficient) if self._within is not None else None
            with callers_errors:
                if within is None:
                    ranked = sorted(candidates, key=lambda pair: pair[1])
                    lowest = ranked[0][1]
                    buffer = coefficient * lowest
                    within = tuple(pair for pair in ranked if pair[1] <= lowest + buffer) or ranked
                chosen = module.random.choice(within)[0]
        if report:
            with callers_errors:
                request_kwargs[metadata_field]["_latency_per_deployment"] = latency_by_api_base
        return chosen

    def _all_pass_pick(self, module, healthy, by_id, input_tokens, latency, report):
        """A fresh map's pick over a shared candidate list whose candidates all
        pass their limits at these input tokens (found once per list): every
        candidate is kept in sampled order at the same latency, so the pick
        is the sampled candidate at choice's draw - the draws of
        ``random.sample`` and ``random.choice`` made natively, nothing built
        per candidate.  None when that does not hold (the full scan runs)."""
        prepared = _prepared_list(healthy, by_id)
        if prepared is None:
            return None
        if module is self._module and self._env_same():  # getrandbits_of's and choice_follows' answers
            getrandbits = self._env_inst.getrandbits
        else:
            getrandbits = self._sampler.getrandbits_of(module.random)
            if getrandbits is None or not self._sampler.choice_follows(module.random, getrandbits):
                return None
        if not prepared.all_pass(self._fresh_scan, input_tokens, latency):
            return None
        values = None
        if report:
            values = prepared.api_bases()
            if values is None:
                return None
        index, per_base = self._sampler.sample_then_choose(getrandbits, len(prepared.keys), values, latency)
        return by_id[prepared.keys[index]], per_base

    @staticmethod
    def _scan(handler, module, healthy, request_kwargs, counts, fresh, by_id, sampled, minute, input_tokens,
              report):
        """LiteLLM's candidate loop, item by item, in the sampled order.  For a
        fresh map each candidate's entry is the unseen one LiteLLM adds
        (``latency_normalized`` ``[0]``, no ttft samples, no usage), its
        latency functions called on it as LiteLLM calls them."""
        usable = module._usable_latency_samples
        average = module._average_latency
        percentile = module._percentile_latency
        streaming = (
            request_kwargs is not None
            and request_kwargs.get("stream", None) is not None
            and request_kwargs["stream"] is True
        )
        latency_by_api_base: Dict[Any, Any] = {}
        candidates = []
        find = litellm_fast._find
        limit = litellm_fast._configured_limit
        for item in sampled:
            deployment = find(by_id, healthy, item)
            if deployment is None:
                continue
            tpm_limit = limit(deployment, "tpm")
            rpm_limit = limit(deployment, "rpm")
            if fresh:
                latencies, ttft_latencies = [0], []
                rpm_used = tpm_used = 0
            else:
                item_map = counts[item]
                latencies = item_map.get("latency_normalized", [])
                ttft_latencies = item_map.get("time_to_first_token_seconds", [])
                rpm_used = item_map.get(minute, {}).get("rpm", 0)
                tpm_used = item_map.get(minute, {}).get("tpm", 0)
            ttft_samples = usable(ttft_latencies)
            use_ttft = streaming and len(ttft_samples) > 0
            # LiteLLM's reads of routing_args.ttft_percentile, only here and as often
            if use_ttft and handler.routing_args.ttft_percentile is not None:
                latency = percentile(ttft_samples, handler.routing_args.ttft_percentile)
            else:
                latency = average(ttft_samples if use_ttft else usable(latencies))
            api_base = deployment.get("litellm_params", {}).get("api_base", "")
            if report and api_base is not None:
                latency_by_api_base[api_base] = latency
            if tpm_used + input_tokens > tpm_limit or rpm_used + 1 > rpm_limit:
                continue
            candidates.append((deployment, latency))
        return candidates, latency_by_api_base


def make_lowest_latency_pick(original: Callable[..., Any]) -> Callable[..., Any]:
    """``LowestLatencyLoggingHandler._get_available_deployments``."""
    pick = _LatencyPick()

    def _get_available_deployments(self, model_group, healthy_deployments, messages=None, input=None,
                                   request_kwargs=None, request_count_dict=None):
        if _BUILTINS.get("__import__") is not _BUILTIN_IMPORT:
            raise NotAccelerated("builtins.__import__ is replaced: the skipped reads import")
        module = sys.modules[_LATENCY_MODULE]
        return pick(self, module, healthy_deployments, messages, input, request_kwargs, request_count_dict, False)

    _get_available_deployments.__doc__ = original.__doc__
    return _get_available_deployments


_LATENCY_PICK = _LATENCY_MODULE + ":LowestLatencyLoggingHandler._get_available_deployments"


class _OwnLatencyPick:
    """Whether ``self._get_available_deployments`` finds LiteLLM's method (or
    our patch over it: the engine's wrapper or the local dispatcher, marked
    with the patch's name over LiteLLM's pinned original) and nothing on the
    instance, so the entry may run the pick itself (session-18 hunt: a
    subclass overriding it, or a method set on the instance, was skipped).
    The last function found so is remembered (held: its id is not reused)."""

    NAME = "_get_available_deployments"

    def __init__(self) -> None:
        self._ok: Any = None

    def __call__(self, selector: Any) -> bool:
        found = getattr(type(selector), self.NAME, None)
        instance = getattr(selector, "__dict__", None)
        if type(instance) is not dict or self.NAME in instance:
            return False
        if found is self._ok and found is not None:
            return True
        if getattr(found, "__fast_litellm_patch__", None) == "routing.lowest_latency_pick":
            original = original_if_ours(found)  # (not a user's functools.wraps copy of the marks)
        else:
            original = found
        if original is None or not guards.is_pinned_source(_LATENCY_PICK, original):
            return False
        self._ok = found
        return True


def _latency_entry(sync: bool):
    """``LowestLatencyLoggingHandler.(async_)get_available_deployments``:
    LiteLLM's cache read, then the pick, told whether the map is fresh (the
    empty one made because the cache held nothing, which nobody sees)."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        from litellm._internal_context import with_service_target
        from litellm.redis.stores.router_usage import ROUTER_USAGE_TARGET

        pick = _LatencyPick()
        own_pick = _OwnLatencyPick()

        def prepare(self, healthy_deployments, request_kwargs):
            """The pick's steps before its cache read, in LiteLLM's order: the
            import hook and the module's clock checked (before the read too, so
            the pick's own checks never fire after it), the id index (declines
            before any read) and LiteLLM's span read, whose error is the
            caller's, raised once (the fallback read again: a one-off error
            served a pick stock fails).  (module, id index, span).  LiteLLM's
            entry ends in ``self._get_available_deployments(...)``: a selector
            whose look-up finds another method there (a subclass's, one set on
            the instance) declines, so LiteLLM's entry calls it."""
            if _BUILTINS.get("__import__") is not _BUILTIN_IMPORT:
                raise NotAccelerated("builtins.__import__ is replaced: the skipped reads import")
            if not own_pick(self):
                raise NotAccelerated("the selector's _get_available_deployments is not LiteLLM's")
            module = sys.modules[_LATENCY_MODULE]
            if module is not pick._module or not pick._env_same():  # (as at build: the checks below pass)
                if module.datetime is not litellm_fast.datetime:
                    raise NotAccelerated("lowest_latency's clock is replaced")
                if not pick._sampler.draws_are_stdlib(module.random) or not pick.globals_plain(module):
                    raise NotAccelerated("random or a builtin is replaced")  # (the pick's checks, before the read)
            by_id = pick.index(healthy_deployments)
            if request_kwargs is not None:
                if type(request_kwargs) is not dict:
                    raise NotAccelerated("request_kwargs is not a dict")
                # get_parent_otel_span_from_kwargs runs no code of the request's (a later
                # decline makes LiteLLM read it again): its metadata buckets exact dicts
                # with exact-str keys (their truth tests and `in` look-ups)
                metadata = request_kwargs.get("metadata")
                params = request_kwargs.get("litellm_params")
                inner = params.get("metadata") if type(params) is dict else None
                if ((metadata is not None and (type(metadata) is not dict or not litellm_fast.str_keyed(metadata)))
                        or (params is not None and type(params) is not dict)
                        or (inner is not None and (type(inner) is not dict or not litellm_fast.str_keyed(inner)))):
                    raise NotAccelerated("the span read would run the request's code")
            try:  # (callers_errors' marking, without its two method calls)
                return module, by_id, module.get_parent_otel_span_from_kwargs(request_kwargs)
            except Exception as exc:
                callers_error(exc)
                raise

        if sync:
            def get_available_deployments(self, model_group, healthy_deployments, messages=None, input=None,
                                          request_kwargs=None):
                module, by_id, span = prepare(self, healthy_deployments, request_kwargs)
                with callers_errors:  # LiteLLM's cache read: its error is the caller's
                    cached = self.router_cache.get_cache(key=f"{model_group}_map", parent_otel_span=span)
                return pick(self, module, healthy_deployments, messages, input, request_kwargs,
                            cached or {}, not cached, by_id)

            fast = get_available_deployments
        else:
            async def async_get_available_deployments(self, model_group, healthy_deployments, messages=None,
                                                      input=None, request_kwargs=None):
                module, by_id, span = prepare(self, healthy_deployments, request_kwargs)
                with callers_errors:
                    cached = await self.router_cache.async_get_cache(key=f"{model_group}_map",
                                                                     parent_otel_span=span)
                return pick(self, module, healthy_deployments, messages, input, request_kwargs,
                            cached or {}, not cached, by_id)

            wrapped = with_service_target(ROUTER_USAGE_TARGET)(async_get_available_deployments)
            from litellm import _internal_context

            _check_sources(("litellm._internal_context:with_service_target",
                            "litellm._internal_context:service_target", "litellm._internal_context:_restore"))
            context_globals = _internal_context.__dict__
            bindings = (_internal_context.service_target, _internal_context._restore,
                        _internal_context._service_target)

            async def async_get_available_deployments_in_target(self, model_group, healthy_deployments,
                                                                messages=None, input=None, request_kwargs=None):
                # with_service_target(ROUTER_USAGE_TARGET)'s run_async, spelled out while its
                # module's bindings are the pinned ones: service_target's set, the pick, and
                # _restore's reset (a ValueError from it suppressed) - the pick's own body
                # inline (as async_get_available_deployments above), without the decorator's
                # coroutine and generator context managers
                if (context_globals.get("service_target") is not bindings[0]
                        or context_globals.get("_restore") is not bindings[1]
                        or context_globals.get("_service_target") is not bindings[2]):
                    return await wrapped(self, model_group, healthy_deployments, messages, input, request_kwargs)
                token = bindings[2].set(ROUTER_USAGE_TARGET)
                try:
                    module, by_id, span = prepare(self, healthy_deployments, request_kwargs)
                    try:  # (callers_errors' marking, without its two method calls)
                        cached = await self.router_cache.async_get_cache(key=f"{model_group}_map",
                                                                         parent_otel_span=span)
                    except Exception as exc:
                        callers_error(exc)
                        raise
                    return pick(self, module, healthy_deployments, messages, input, request_kwargs,
                                cached or {}, not cached, by_id)
                finally:
                    try:
                        context_globals["_service_target"].reset(token)
                    except ValueError:  # _restore's suppress: closed from another context
                        pass

            async_get_available_deployments_in_target.__doc__ = original.__doc__
            return async_get_available_deployments_in_target
        wrapped = with_service_target(ROUTER_USAGE_TARGET)(fast)
        wrapped.__doc__ = original.__doc__
        return wrapped

    return make


make_lowest_latency_entry_async = _latency_entry(sync=False)
make_lowest_latency_entry_sync = _latency_entry(sync=True)


# --------------------------------------------------------------------------
# cost-based-routing: LowestCostLoggingHandler.async_get_available_deployments
# --------------------------------------------------------------------------

_COST_MODULE = "litellm.router_strategy.lowest_cost"
_PRICING_GLOBALS = ("pricing_models", "_named_models", "MappingProxyType", "_EMPTY", "ValidationError")
_COST_PRICING = ("_deployment_cost_map_rates", "_cost_map", "str_keyed", "deployment_pricing_models",
                 "_declares_token_price", "_as_rate")


def _deployment_cost(module, cost_map, deployment, memo, row_class=None):
    """(input + output price per token, litellm_params) as LiteLLM's cost
    loop reads them, in its order: the cost map's rates, then a price set
    on the deployment (it counts when truthy), else the map's, else 5.0.
    ``row_class``: LiteLLM's ``AliasedCostEntry`` (rows of it read as dicts
    while its reads are dict's own), or None."""
    map_input, map_output = litellm_fast._cost_map_rates(module, cost_map, deployment, memo, row_class)
    params = deployment.get("litellm_params", {})
    input_cost = params.get("input_cost_per_token") or None
    output_cost = params.get("output_cost_per_token") or None
    if input_cost is None:
        input_cost = map_input if map_input is not None else 5.0
    if output_cost is None:
        output_cost = map_output if map_output is not None else 5.0
    return input_cost + output_cost, params


# a candidate of the fresh cost map (no usage yet), as _cost_candidates' entries give it
_UNSEEN = object()


def _cost_candidates(module, cost_map, by_id, healthy, entries, minute, input_tokens, logger, debug, row_class=None):
    """LiteLLM's cost loop in Python: (deployment, cost) per candidate within its limits."""
    memo: Dict[int, bool] = {}
    cost_by_api_base: Dict[Any, Any] = {}
    candidates = []
    for item, item_map in entries:
        deployment = litellm_fast._find(by_id, healthy, item)
        if deployment is None:
            continue
        tpm_limit = litellm_fast._configured_limit(deployment, "tpm")
        rpm_limit = litellm_fast._configured_limit(deployment, "rpm")
        cost, params = _deployment_cost(module, cost_map, deployment, memo, row_class)
        if item_map is _UNSEEN:  # the fresh map's zero entry (a cached None is LiteLLM's .get error)
            rpm_used = tpm_used = 0
        else:
            rpm_used = item_map.get(minute, {}).get("rpm", 0)
            tpm_used = item_map.get(minute, {}).get("tpm", 0)
        if debug:
            with callers_errors:
                logger.debug(
                    "item_cost: %s, item_tpm: %s, item_rpm: %s, model_id: %s",
                    cost,
                    tpm_used,
                    rpm_used,
                    deployment.get("model_info", {}).get("id"),
                )
        api_base = params.get("api_base", "")
        if api_base is not None:
            cost_by_api_base[api_base] = cost  # LiteLLM's debug map, never read: built for its hashing
        if tpm_used + input_tokens > tpm_limit or rpm_used + 1 > rpm_limit:
            continue
        candidates.append((deployment, cost))
    return candidates


def _grouped_cost_pick(module, cost_map, healthy, by_id, input_tokens, latency, row_class=None):
    """A fresh map's cost pick over a shared candidate list whose candidates
    all pass their limits (no usage: only input tokens against tpm, one
    request against rpm - the latency pick's test, found once per list):
    the cost is computed once per group of candidates made of the same
    prices (LiteLLM's own arithmetic, on the group's first deployment), and
    the pick is the first candidate of the lowest - what ``sorted(...)[0]``
    gives when no cost is NaN.  _SLOW when that does not hold."""
    prepared = _prepared_list(healthy, by_id)
    if prepared is None:
        return _SLOW
    if not prepared.all_pass(latency._fresh_scan, input_tokens, 0.0):
        return _SLOW
    groups = prepared.cost_groups()
    if groups is None:
        return _SLOW
    memo: Dict[int, bool] = {}
    best = best_cost = None
    for _position, deployment in groups:  # groups are in order of first position
        cost, _params = _deployment_cost(module, cost_map, deployment, memo, row_class)
        if type(cost) is float and cost != cost:
            return _SLOW  # NaN: the order sorted() leaves is its own
        if best is None or cost < best_cost:
            best, best_cost = deployment, cost
    return best


_COST_ENTRY = "litellm.litellm_core_utils.get_model_cost_map:AliasedCostEntry"


def _cost_entry_class() -> Any:
    """LiteLLM's ``AliasedCostEntry`` when its source is the pinned one, else
    None (its rows then decline to LiteLLM's reads)."""
    from fast_litellm.patching import guards

    try:
        guards.require_sources((_COST_ENTRY,))
        module_name, name = _COST_ENTRY.split(":")
        import importlib

        cls = getattr(importlib.import_module(module_name), name)
    except Exception:  # noqa: BLE001 - a changed LiteLLM: its rows are LiteLLM's to read
        return None
    return cls if isinstance(cls, type) and issubclass(cls, dict) else None


def make_lowest_cost_pick(original: Callable[..., Any]) -> Callable[..., Any]:
    """``LowestCostLoggingHandler.async_get_available_deployments``: the id
    index and, when everything is plain, the candidate loop (limits,
    cost-map rates, usage this minute, the first lowest cost) natively;
    else LiteLLM's loop in Python.  With the router's debug log on (or a
    logger that is not a plain ``Logger``) LiteLLM's code runs: the loop's
    per-candidate debug records must name LiteLLM's file and line."""
    from litellm._internal_context import with_service_target
    from litellm.redis.stores.router_usage import ROUTER_USAGE_TARGET

    from fast_litellm._native_loader import NATIVE

    native_scan = getattr(NATIVE, "router_cost_scan", None)
    latency = _LatencyPick()  # for its id index
    import importlib

    cost_module = importlib.import_module(_COST_MODULE)
    # what LiteLLM's loop prices a candidate with (module globals read at each call):
    # the fast path reads prices as these do, so only while they are these
    pricing = tuple((name, getattr(cost_module, name)) for name in _COST_PRICING)
    pricing_module = importlib.import_module("litellm.litellm_core_utils.deployment_pricing")
    # what deployment_pricing_models and str_keyed read through deployment_pricing's own
    # globals (str_keyed and _STR_KEYED themselves: the pydantic guard below)
    plain_globals = _globals_check((cost_module, pricing_module), _COST_BUILTINS,
                                   tuple((pricing_module, name, getattr(pricing_module, name))
                                         for name in _PRICING_GLOBALS))
    from . import _pydantic_guard

    # str_keyed's _STR_KEYED.validate_python, skipped where prices and pricing models are
    # read directly: pydantic's own on LiteLLM's adapter
    validation = _pydantic_guard.shared(_pydantic_guard.str_keyed)
    # LiteLLM's AliasedCostEntry (the rows of aliased models and of every model a
    # Router registered): its rows are read as dicts while its reads are dict's own
    # (checked at each read, natively: router_entry_row / the scan); with its
    # source not the pinned one, such rows are LiteLLM's to read
    row_class = _cost_entry_class()

    async def async_get_available_deployments(self, model_group, healthy_deployments, messages=None, input=None,
                                              request_kwargs=None):
        if _BUILTINS.get("__import__") is not _BUILTIN_IMPORT:
            raise NotAccelerated("builtins.__import__ is replaced: the skipped reads import")
        module = sys.modules[_COST_MODULE]
        logger = module.verbose_router_logger
        if not _logger_guard.quiet(logger):
            # LiteLLM's loop logs a debug record per candidate: ours would name
            # this file and line, so LiteLLM's code runs (decided before any read;
            # a logger method not logging's own: LiteLLM's calls of it)
            raise NotAccelerated("the router's debug log is on")
        if (any(getattr(module, name, None) is not fn for name, fn in pricing)
                or module.datetime is not litellm_fast.datetime or not validation.check()
                or not plain_globals()):
            # LiteLLM's loop prices each candidate and reads the clock through these
            # module globals: a replaced one (a test's mock, a custom price) is honoured there
            raise NotAccelerated("lowest_cost's pricing helpers or clock are replaced")
        by_id = latency.index(healthy_deployments)
        with callers_errors:  # LiteLLM's read: its error is the caller's, raised once
            cached = await self.router_cache.async_get_cache(key=f"cost_map:{model_group}")
        counts = cached or {}
        minute = litellm_fast._minute_stamp()
        if cached and not _all_known(healthy_deployments, counts):
            litellm_fast._add_unseen(counts, healthy_deployments, lambda: {minute: {"tpm": 0, "rpm": 0}})
        # Until the pick is returned, what ran is a cache read and the map's unseen
        # entries, which a rerun of LiteLLM's code repeats without a change (the entries
        # are there; a Redis read's map is a copy nobody writes back): an error of our
        # own (the shortcut below, the scans, our Python loop) falls back.  LiteLLM's
        # calls are marked (``callers_errors``): their errors reach the caller once.
        known = litellm_fast._known_input_tokens(module, messages, input)
        with callers_errors:
            input_tokens = litellm_fast._input_tokens(module, healthy_deployments, messages, input, known)
            logger = module.verbose_router_logger
            debug = logger.isEnabledFor(logging.DEBUG)
            cost_map = module._cost_map()
        if not cached and not debug and type(input_tokens) is int and type(cost_map) is dict:
            picked = _grouped_cost_pick(module, cost_map, healthy_deployments, by_id, input_tokens, latency, row_class)
            if picked is not _SLOW:
                return picked
        if native_scan is not None and not debug and type(input_tokens) is int and type(cost_map) is dict \
                and (not cached or type(counts) is dict):
            if cached:
                keys, maps = list(counts), list(counts.values())
            else:
                keys, maps = list(by_id), None  # the fresh map nobody sees: unseen entries read, not built
            scanned = native_scan(keys, maps, by_id, _NAMES, cost_map, minute, input_tokens,
                                  _shared_table(healthy_deployments, by_id), row_class)
            if scanned is not None:
                picked, pairs = scanned
                if pairs is None:
                    return picked
                if not pairs:
                    return None
                with callers_errors:
                    return sorted(pairs, key=lambda pair: pair[1])[0][0]
        if cached:
            entries = counts.items()
        else:
            entries = dict.fromkeys(by_id, _UNSEEN).items()  # ids by first occurrence, as by_id was filled
        # our Python loop: its LiteLLM calls are marked inside, and an error of
        # LiteLLM's own operations on the data (a limit that does not compare, say)
        # is raised again, once, by LiteLLM's loop when it falls back
        candidates = _cost_candidates(module, cost_map, by_id, healthy_deployments, entries, minute,
                                      input_tokens, logger, debug, row_class)
        if len(candidates) == 0:
            return None
        with callers_errors:
            return sorted(candidates, key=lambda pair: pair[1])[0][0]

    fast = with_service_target(ROUTER_USAGE_TARGET)(async_get_available_deployments)
    fast.__doc__ = original.__doc__
    return fast
