"""Exact shortcuts inside LiteLLM 1.110.2's strategy selectors, at the
fixed per-pick cost that dominates small model groups.

* The token count a latency / cost pick asks for (``embedding_aware_token_count(
  messages, input, ...)`` inside ``try: ... except Exception: input_tokens = 0``)
  when the request has neither messages nor input: LiteLLM projects the
  missing input (no media: ``(None, 0)``), then ``litellm.token_counter``
  logs a debug record and raises ``ValueError("Either text or messages must be
  provided")``, which the selector catches: the answer is always 0 (also with
  ``litellm.disable_token_counter``).  ``no_input_tokens(module)`` answers 0
  without the calls when every function and global on that path is the
  pinned one LiteLLM ships (or, for ``token_counter``, fast_litellm's own
  token-counting patch over it, which is exact) and the debug record would
  not be emitted (``verbose_logger`` a plain ``Logger`` not enabled for
  DEBUG); otherwise it answers None and the caller runs LiteLLM's code.
  The ~15 µs saved were the projection, the two ``token_counter`` layers
  and the raise and catch.

  The usage-based selectors (v2, v1) get the same answer through a patch
  of their modules' ``embedding_aware_token_count`` binding
  (``make_selector_token_count``): their one call of it sits in the same
  ``try/except Exception: 0``.
* ``LeastBusyLoggingHandler._select`` over this worker's counts
  (``make_least_busy_select``): LiteLLM's store reads in LiteLLM's order
  under its lock, the reservation written by its own methods, without the
  pydantic validation of absent reservation lists and plain int counters.

The token-count answer is built lazily at first use (the engine applies
patches while LiteLLM is still importing) and pin-checked there
(``pins.DEPENDENCIES``); a failed check leaves every call answering None.
The patches pin-check what they rely on when built.
"""
from __future__ import annotations

import contextvars
import logging
import sys
from datetime import datetime as _datetime
from functools import partial as _PARTIAL
from typing import Any, Dict, List, Optional, Tuple

import builtins as _BUILTINS_MODULE
from _io import open as _IO_OPEN

from . import _logger_guard
from ._import_hook import BUILTIN_IMPORT as _BUILTIN_IMPORT, BUILTINS as _BUILTINS, CODE_OF as _code_of, IDENTITY as _identity
from ._import_hook import _native_or
from fast_litellm.patching.registry import original_if_ours, stock_behind

_OBJECT_GETATTRIBUTE = object.__getattribute__

_TC = "litellm.litellm_core_utils.token_counter"
_ABSENT = object()
_TPM = "litellm.litellm_core_utils.prompt_templates.tpm_media_utils"

# every source on the no-input path of the selectors' token count
NO_INPUT_TOKEN_SOURCES = (
    _TC + ":embedding_aware_token_count",
    _TC + ":split_embedding_input_tokens",
    _TC + ":token_counter",
    "litellm.utils:token_counter",
    "litellm._lazy_imports:get_token_counter_new",
    _TPM + ":split_embedding_media_for_tpm",
    _TPM + ":_is_json_array",
    _TPM + ":_tpm_embedding_leaf",
    _TPM + ":_tpm_media_leaf",
    _TPM + ":_TPMMediaProjection",
    "litellm.litellm_core_utils.core_helpers:as_str_mapping",
)
# fast_litellm's token-counting patches (exact by their own contract)
_COUNTER_PATCHES = {_TC: "token_counter", "litellm.utils": "token_counter_utils"}


def _counter_is(current: Any, stock: Any, patch_name: str) -> bool:
    if current is stock:
        return True
    return (getattr(current, "__fast_litellm_patch__", None) == patch_name
            and original_if_ours(current) is stock)


class _NoInputTokens:
    def __init__(self) -> None:
        self._ready: Optional[bool] = None
        self._fast: Optional[Tuple[Any, ...]] = None  # the entries of the last full pass (_record)
        self._same: Any = None

    def _build(self) -> bool:
        import collections.abc

        import litellm
        import litellm._lazy_imports as lazy
        import litellm.litellm_core_utils.core_helpers as helpers
        import litellm.utils as utils
        from litellm._logging import verbose_logger

        from .protocol_fast import _check_pinned

        from fast_litellm.patching import guards

        _check_pinned(NO_INPUT_TOKEN_SOURCES)
        tc = sys.modules[_TC]
        # the two token_counter layers are patch targets (pins.VERIFIED): their stock sources
        for target, current in ((_TC + ":token_counter", tc.token_counter),
                                ("litellm.utils:token_counter", utils.token_counter)):
            if not guards.is_pinned_source(target, current):
                raise RuntimeError("%s changed" % target)
        tpm = sys.modules[_TPM]
        self._litellm = litellm
        self._tc, self._tpm, self._utils, self._helpers, self._lazy = tc, tpm, utils, helpers, lazy
        self._mapping = collections.abc.Mapping
        self._logger = verbose_logger
        # the objects LiteLLM's code would look up, as pinned at build
        self._count = tc.embedding_aware_token_count
        self._split = tc.split_embedding_input_tokens
        # behind our token_counter patches only (a user's functools.wraps wrapper
        # copies their marks and is the user's code: registry.stock_behind)
        self._core_counter = stock_behind(tc.token_counter)
        self._utils_counter = stock_behind(utils.token_counter)
        self._get_counter = lazy.get_token_counter_new
        self._media_split = tpm.split_embedding_media_for_tpm
        self._is_array = tpm._is_json_array
        self._embedding_leaf = tpm._tpm_embedding_leaf
        self._media_leaf = tpm._tpm_media_leaf
        self._projection = tpm._TPMMediaProjection
        self._as_mapping = helpers.as_str_mapping
        from ._pydantic_guard import _same

        self._same = _same()
        return True

    def __call__(self, module: Any) -> Optional[int]:
        """0 when LiteLLM's count of no messages and no input would raise
        and be caught with no record logged; None to run LiteLLM's code."""
        if not self._built():
            return None
        if getattr(module, "embedding_aware_token_count", None) is not self._count:
            return None
        return self._path_is_zero()

    def called(self) -> Optional[int]:
        """The same answer for a call of ``embedding_aware_token_count(None,
        None, ...)`` itself (through our patch of a selector module's
        binding): 0 when LiteLLM's call would raise the caught ValueError."""
        if not self._built():
            return None
        return self._path_is_zero()

    def _built(self) -> bool:
        """Whether the path's parts are read and verified (done once, at the
        first call; a failure is remembered and every call declines)."""
        if not self._ready:
            if self._ready is False:
                return False
            try:
                self._ready = self._build()
            except Exception:  # noqa: BLE001 - a changed LiteLLM: never accelerate
                self._ready = False
                return False
        return True

    def _path_is_zero(self) -> Optional[int]:
        """``_path_is_zero_checked()``; while every entry its last full pass
        read is the same object (one native ``router_entries_same`` call,
        ~0.1 us, where the checks are ~1.5 us of Python: session 19) only
        the logger's level is asked again."""
        fast = self._fast
        if fast is not None and self._same(fast, _ABSENT) is True and _logger_guard.quiet(self._logger):
            return 0
        answer = self._path_is_zero_checked()
        if answer == 0:
            self._fast = self._record()
        return answer

    def _record(self) -> Optional[Tuple[Any, ...]]:
        """The (container, key, object) triples ``_path_is_zero_checked``'s
        full pass read, taken from the module dicts themselves (exact
        ``ModuleType`` modules, so an attribute read is that dict's entry),
        or None when one is not plainly there (a module ``__getattr__``, a
        ``litellm.disable_token_counter`` that is True, a token_counter
        layer that is neither the pinned one nor a plain function marked as
        our patch of it): then every call checks in full."""
        import types

        litellm, tc, tpm, utils, helpers = self._litellm, self._tc, self._tpm, self._utils, self._helpers
        if (any(type(m) is not types.ModuleType for m in (litellm, tc, tpm, utils, helpers))
                or type(self._logger) is not logging.Logger):
            return None
        flat: List[Any] = [sys.modules, _TC, tc, self._logger, None, logging.Logger]
        expected = (
            (tc, "split_embedding_input_tokens", self._split), (tc, "litellm", litellm),
            (tpm, "split_embedding_media_for_tpm", self._media_split), (tpm, "_is_json_array", self._is_array),
            (tpm, "_tpm_embedding_leaf", self._embedding_leaf), (tpm, "_tpm_media_leaf", self._media_leaf),
            (tpm, "_TPMMediaProjection", self._projection), (tpm, "as_str_mapping", self._as_mapping),
            (helpers, "Mapping", self._mapping), (utils, "litellm", litellm),
            (utils, "get_token_counter_new", self._get_counter), (tc, "verbose_logger", self._logger),
        )
        for module, name, want in expected:
            if vars(module).get(name, _ABSENT) is not want:
                return None
            flat += [vars(module), name, want]
        # present, whatever they are (hasattr), and the switch as it was (not True)
        for module, name in ((tpm, "embedding_input_is_all_media"), (utils, "convert_list_message_to_dict"),
                             (litellm, "disable_token_counter")):
            found = vars(module).get(name, _ABSENT)
            if found is _ABSENT or (name == "disable_token_counter" and found is True):
                return None
            flat += [vars(module), name, found]
        for module, stock, patch_name in ((litellm, self._utils_counter, "token_counter_utils"),
                                          (tc, self._core_counter, "token_counter")):
            current = vars(module).get("token_counter", _ABSENT)
            flat += [vars(module), "token_counter", current]
            if current is stock:
                continue
            # our patch over it: a plain function whose marks are its dict's entries
            own = getattr(current, "__dict__", None)
            if (type(current) is not types.FunctionType or type(own) is not dict
                    or own.get("__fast_litellm_patch__", _ABSENT) != patch_name
                    or own.get("__fast_litellm_original__", _ABSENT) is not stock
                    or own.get("__fast_litellm_self__", _ABSENT) is not current):  # (registry.mark_ours)
                return None
            flat += [current, 0, own, own, "__fast_litellm_patch__", own["__fast_litellm_patch__"],
                     own, "__fast_litellm_original__", stock, own, "__fast_litellm_self__", current]
        triples = tuple(flat)
        return triples if self._same(triples, _ABSENT) is True else None

    def _path_is_zero_checked(self) -> Optional[int]:
        litellm = self._litellm
        tc = self._tc
        tpm = self._tpm
        if (
            tc.split_embedding_input_tokens is not self._split
            or tc.litellm is not litellm
            or tpm.split_embedding_media_for_tpm is not self._media_split
            or tpm._is_json_array is not self._is_array
            or tpm._tpm_embedding_leaf is not self._embedding_leaf
            or tpm._tpm_media_leaf is not self._media_leaf
            or tpm._TPMMediaProjection is not self._projection
            or tpm.as_str_mapping is not self._as_mapping
            or self._helpers.Mapping is not self._mapping
            or not hasattr(tpm, "embedding_input_is_all_media")
        ):
            return None
        # the two token_counter layers
        if not _counter_is(litellm.token_counter, self._utils_counter, "token_counter_utils"):
            return None
        utils = self._utils
        if utils.litellm is not litellm:
            return None
        if litellm.disable_token_counter is True:
            return 0
        if (
            sys.modules.get(_TC) is not tc
            or utils.get_token_counter_new is not self._get_counter
            or not _counter_is(tc.token_counter, self._core_counter, "token_counter")
            or tc.verbose_logger is not self._logger
            or not _logger_guard.quiet(self._logger)
            or not hasattr(utils, "convert_list_message_to_dict")
        ):
            return None
        return 0


no_input_tokens = _NoInputTokens()


def make_selector_token_count(original: Any) -> Any:
    """``embedding_aware_token_count`` as the usage-based selectors' modules
    bind it.  Their one call of it is ``try: input_tokens = ...(messages,
    input, ...) except Exception: input_tokens = 0`` (in the pinned
    ``_common_checks_available_deployment`` (v2) / ``get_available_deployments``
    (v1)), so with no messages and no input, where LiteLLM's call raises the
    ValueError that line catches, returning 0 gives that line the same 0;
    everything else is LiteLLM's call."""
    from fast_litellm.patching.registry import NotAccelerated

    from .protocol_fast import _check_pinned

    _check_pinned(SELECTOR_CALLERS)
    if getattr(original, "__globals__", None) is not vars(sys.modules[_TC]):
        # the binding is someone's wrapper (e.g. a side-by-side bench's
        # dispatcher), not LiteLLM's function: an input this patch does not
        # cover, not a broken fast path
        raise NotAccelerated("embedding_aware_token_count is not token_counter's")
    from fast_litellm import flags

    answer = no_input_tokens.called

    def embedding_aware_token_count(messages: Any, text: Any, media_models: Any) -> int:
        if _BUILTINS.get("__import__") is not _BUILTIN_IMPORT:
            raise NotAccelerated("builtins.__import__ is replaced: LiteLLM's count makes import statements")
        if messages is None and text is None:
            try:
                counted = answer()
            except Exception as exc:  # noqa: BLE001
                # ours: LiteLLM's count runs instead.  Handed over as NotAccelerated
                # (below, outside this handler), since the engine counts a failure only
                # when the original returns, and this one raises the ValueError its
                # caller catches: the error would not have been counted
                flags.record_error("rust_routing", exc)
                counted = None
            if counted is not None:
                return counted
        raise NotAccelerated("LiteLLM counts")

    return embedding_aware_token_count


# the only callers of the patched bindings (each inside try/except Exception -> 0)
SELECTOR_CALLERS = (
    "litellm.router_strategy.lowest_tpm_rpm_v2:LowestTPMLoggingHandler_v2._common_checks_available_deployment",
    "litellm.router_strategy.lowest_tpm_rpm:LowestTPMLoggingHandler.get_available_deployments",
)


# --------------------------------------------------------------------------
# least-busy: LeastBusyLoggingHandler._select (this worker's counts only)
# --------------------------------------------------------------------------

_LB = "litellm.router_strategy.least_busy"
# what _select runs, besides the stores it reads (whose calls are kept)
LEAST_BUSY_SOURCES = (
    _LB + ":LeastBusyLoggingHandler._this_workers_counts",
    _LB + ":LeastBusyLoggingHandler._live_reservations",
    _LB + ":LeastBusyLoggingHandler._store_reservations",
    _LB + ":LeastBusyLoggingHandler._record_pick",
    _LB + ":_local_counts",
    _LB + ":_as_counts",
    _LB + ":_picks",
    _LB + ":_unexpired",
    _LB + ":_reservation_key",
    _LB + ":_least_busy_index",
)
_LB_METHODS = ("_this_workers_counts", "_live_reservations", "_store_reservations", "_record_pick")
_LB_FUNCTIONS = ("_local_counts", "_as_counts", "_picks", "_unexpired", "_reservation_key", "_least_busy_index")
_EXACT_FLOAT_INT = 2 ** 53  # int(float(v)) == v for |v| <= 2**53


# The LiteLLM modules whose code a routing fast path stands for (the patch targets'
# modules and the modules of the pinned code they replace: the core and its steps,
# the stores, registry and model list, each strategy's selector module, the pricing,
# token-count and cache helpers).  Their code reads builtins through the module's
# globals, then ``builtins``: a name set in one of those dicts, or replaced in
# ``builtins``, is what stock calls (session 19 hunt: a counting ``isinstance`` in the
# core was called 126-132 times over three stock picks, 6-12 with ours; a ``dict``,
# ``int`` or ``float`` shadowed by a function made stock's pick raise).
ROUTING_BUILTINS_MODULES = (
    "litellm.router_rust.core",
    "litellm.router_rust.routing_stores",
    "litellm.router_rust.steps.selection",
    "litellm.router_rust.steps.prerouting",
    "litellm.router_rust.steps.callbacks",
    "litellm.router_rust.surface.registry",
    "litellm.router_rust.surface.model_list",
    "litellm.router_rust.surface.indexes",
    "litellm.router_rust.surface.settings",
    "litellm.router_rust.surface.retries",
    "litellm.router_python_host",
    "litellm.router_deprecated",
    "litellm.router_strategy.least_busy",
    "litellm.router_strategy.lowest_latency",
    "litellm.router_strategy.lowest_cost",
    "litellm.router_strategy.lowest_tpm_rpm_v2",
    "litellm.router_utils.kubernetes_pod_discovery",
    "litellm.router_utils.routing_prefetch",
    "litellm.router_utils.routing_read_batch",
    "litellm.litellm_core_utils.deployment_pricing",
    "litellm.litellm_core_utils.routing_common_utils",
    "litellm.litellm_core_utils.core_helpers",
    "litellm.litellm_core_utils.token_counter",
    "litellm.litellm_core_utils.prompt_templates.tpm_media_utils",
    "litellm.caching.dual_cache",
    "litellm.caching.in_memory_cache",
    "litellm.caching.redis_batch",
    "litellm._service_logger",
    "litellm._internal_context",
)
_RB_PLAIN: List[Any] = []


def _builtin_names_read(module: Any, candidates: Any) -> List[str]:
    """The names in ``candidates`` that code defined in ``module`` names: its
    functions, its classes' methods and properties, what a decorator wrapped
    (``__wrapped__``, functions in a closure's cells) and their nested code, where
    the code was compiled from the module's file - the builtins it may read through
    the module's globals (``co_names`` also holds attribute names: a superset, which
    only makes the guard decline more)."""
    import types

    filename = getattr(module, "__file__", None)
    functions: List[Any] = []
    for value in list(vars(module).values()):
        if isinstance(value, type) and getattr(value, "__module__", None) == module.__name__:
            for attribute in list(vars(value).values()):
                functions += [attribute, getattr(attribute, "__func__", None), getattr(attribute, "fget", None),
                              getattr(attribute, "fset", None)]
        else:
            functions.append(value)
    stack: List[Any] = []
    seen_functions = set()
    from fast_litellm._native_loader import NATIVE

    layer_type = getattr(NATIVE, "RouterLayer", None)
    while functions:
        function = functions.pop()
        if layer_type is not None and type(function) is layer_type:
            # a patch's native layer (session 20) over a function of the module: what it wraps
            functions.append(function.__dict__.get("__wrapped__"))
            continue
        if not isinstance(function, types.FunctionType) or _identity(function) in seen_functions:
            continue
        seen_functions.add(_identity(function))
        stack.append(_code_of(function))
        functions.append(getattr(function, "__wrapped__", None))
        for cell in function.__closure__ or ():
            try:
                functions.append(cell.cell_contents)
            except ValueError:  # (an empty cell)
                pass
    seen, found = set(), set()
    while stack:
        code = stack.pop()
        if _identity(code) in seen or code.co_filename != filename:
            continue
        seen.add(_identity(code))
        found.update(name for name in code.co_names if name in candidates)
        stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return sorted(found)


def routing_builtins() -> Tuple[Any, Any, Any]:
    """``(memo, key, check)`` shared by every routing fast path (the patch wrappers'
    ``precheck`` and least-busy's own uses): ``memo.get(key, BUILTINS) or
    memo.remember(key, BUILTINS, check)`` is true while no module of
    ``ROUTING_BUILTINS_MODULES`` holds a builtin name its code reads (other than its
    own definition of it) and each such name is, in ``builtins``, the interpreter's
    own (a builtin function bound to the builtins module, or a static type, under its
    name) - one ``router_entries_same`` call over (dict, name, object) triples, kept by
    a ``_StateMemo`` on the dicts' PEP 509 tags: one native call a use while nothing
    moved.  The names are found from the modules' code objects
    (``_builtin_names_read``) at the first check (a pick: the engine applies patches
    while LiteLLM is still being imported), for the modules loaded then; while one is
    not, ``sys.modules`` is among the dicts kept, so an import makes them found again."""
    if not _RB_PLAIN:
        from .protocol_fast import _StateMemo

        built: List[Any] = []

        def check() -> Any:
            rebuild = not built
            for name in built[0] if built else ():  # (a listed module loaded since)
                if name in sys.modules:
                    rebuild = True
            if rebuild:
                built[:] = _routing_builtins_triples()
            _missing, same, triples, read, absent = built
            if same(triples, absent) is True:
                return read, (True,)
            return (None,), ()

        _RB_PLAIN.append((_StateMemo(), object(), check))
    return _RB_PLAIN[0]


def _routing_builtins_triples() -> List[Any]:
    """[missing, same, triples, dicts, ABSENT] for ``routing_builtins``' check
    (``missing``: the listed modules not loaded, whose loading builds them again)."""
    import types

    from ._pydantic_guard import ABSENT, _same

    constants = {"Ellipsis": ..., "NotImplemented": NotImplemented, "None": None, "True": True, "False": False}

    def own(name: str, found: Any) -> bool:
        if name in constants:
            return found is constants[name]
        if isinstance(found, type):
            return found.__name__ == name and not found.__flags__ & (1 << 9)  # (Py_TPFLAGS_HEAPTYPE)
        # (bound to the builtins module; open is io's, bound to _io)
        return (type(found) is types.BuiltinFunctionType and found.__name__ == name
                and (found.__self__ is _BUILTINS_MODULE or found is _IO_OPEN))

    candidates = {name for name, value in _BUILTINS.items() if own(name, value)}
    # and a name the interpreter defines that something replaced before (checked against
    # an object never found there); not site's interactive helpers
    names = candidates | {name for name in _BUILTINS if not name.startswith("_")} - {
        "exit", "quit", "help", "copyright", "credits", "license"}
    never = object()
    dicts: List[Any] = []
    flat: List[Any] = []
    used = set()
    missing: List[str] = []
    for module_name in ROUTING_BUILTINS_MODULES:
        module = sys.modules.get(module_name)
        if type(module) is not types.ModuleType:  # not loaded (yet): nothing of it ran
            missing.append(module_name)
            continue
        module_globals = module.__dict__
        dicts.append(module_globals)
        for name in _builtin_names_read(module, names):
            held = module_globals.get(name, ABSENT)
            # LiteLLM's own definition of that name (a function or class of the module)
            mine = getattr(held, "__module__", None) == module_name and isinstance(held, (type, types.FunctionType))
            flat += [module_globals, name, held if mine else ABSENT]
            if not mine:
                used.add(name)
    for name in sorted(used):
        value = _BUILTINS.get(name, ABSENT)
        flat += [_BUILTINS, name, value if name in candidates else never]
    dicts.append(_BUILTINS)
    if missing:
        dicts.append(sys.modules)
    return [tuple(missing), _same(), tuple(flat), tuple(dicts), ABSENT]


def routing_builtins_precheck() -> Tuple[Any, Any]:
    """``(ok, full)`` for a patch wrapper: ``ok() or full()`` is the check above
    (``ok``: the memo's native ``get`` bound to its keys, no Python frame)."""
    import functools

    memo, key, check = routing_builtins()
    return functools.partial(memo.get, key, _BUILTINS), functools.partial(memo.remember, key, _BUILTINS, check)


def least_busy_builtins() -> Tuple[Any, Any, Any]:
    """``(memo, key, check)`` used by the least-busy fast paths (session 19 hunt: the
    builtins ``least_busy``'s code reads): the shared ``routing_builtins`` guard, which
    covers ``least_busy``'s module with the others."""
    return routing_builtins()


def _plain_counts(raw: Any, n: int) -> Optional[tuple]:
    """``_local_counts(raw, keys)`` for a list of None / small exact ints
    (what the in-memory counters hold): ``tuple[float | None, ...]``
    validation then ``int()`` gives the same ints; None for anything else
    (then LiteLLM's validation runs)."""
    if raw is None:
        return (0,) * n
    if type(raw) is not list:
        return None
    if len(raw) != n:
        return None  # LiteLLM: zeros, after validating (which may raise): its code decides
    out = []
    for value in raw:
        if value is None:
            out.append(0)
        elif type(value) is int and -_EXACT_FLOAT_INT <= value <= _EXACT_FLOAT_INT:
            out.append(value)
        else:
            return None
    return tuple(out)


def make_least_busy_select(original: Any) -> Any:
    """``LeastBusyLoggingHandler._select`` without a Redis count (``shared is
    None``): the same store reads in the same order under the same lock
    (this worker's counters by one ``batch_get_cache``, then each
    candidate's reservations by ``get_cache``), the same first lowest
    ``count + live reservations``, the reservation written by LiteLLM's
    own methods; what is skipped is the pydantic validation of an absent
    reservation list (None validates to None, read as ``()``) and of plain
    int counters, and the helper layers around them.  Anything else (a
    subclass, an instance attribute or replaced method, a Redis count,
    counters that are not plain ints) runs LiteLLM's code."""
    import importlib

    from fast_litellm.patching.registry import NotAccelerated, callers_error

    from .protocol_fast import _check_pinned

    _check_pinned(LEAST_BUSY_SOURCES)
    module = importlib.import_module(_LB)
    cls = module.LeastBusyLoggingHandler
    methods = tuple(cls.__dict__[name] for name in _LB_METHODS)
    functions = tuple(getattr(module, name) for name in _LB_FUNCTIONS)
    lock = module._RESERVATIONS_LOCK
    # the validated types _plain_counts and the absent-reservation read rely on
    if (repr(getattr(module._MEMORY_COUNTS, "_type", None)) != "tuple[float | None, ...] | None"
            or repr(getattr(module._PICKS, "_type", None)) != "tuple[tuple[float, str | None], ...] | None"):
        raise RuntimeError("least_busy's validated types changed")
    validate_picks = module._PICKS.validate_python
    unexpired = module._unexpired
    decline = NotAccelerated("least-busy select: LiteLLM's code")
    from . import _pydantic_guard

    # the counters' and absent reservations' validations, skipped (and the bound
    # validate_picks above, called for LiteLLM's _picks): pydantic's own on LiteLLM's adapters
    validation = _pydantic_guard.shared(_pydantic_guard.least_busy_counts)
    from .protocol_fast import _StateMemo

    module_globals = module.__dict__
    memo = _StateMemo()  # the last selector whose methods and module bindings passed (kept by dict tags)
    lb_memo, lb_globals, lb_check = least_busy_builtins()

    def bindings(state):
        """No instance attribute over the methods, the class's methods and the
        module's functions and lock the pinned ones: (dicts read, (True,)); else
        (a None among them: not kept; ())."""
        if (any(name in state for name in _LB_METHODS)
                or any(cls.__dict__.get(name) is not fn for name, fn in zip(_LB_METHODS, methods))
                or any(module_globals.get(name) is not fn for name, fn in zip(_LB_FUNCTIONS, functions))
                or module_globals.get("_RESERVATIONS_LOCK") is not lock):
            return (None,), ()
        return (state, cls, module_globals), (True,)

    def _select(self, healthy_deployments, deployment_ids, keys, shared, reserve, call_id):
        if not healthy_deployments:
            return None
        if (shared is not None or type(self) is not cls or not validation.check()
                or not (lb_memo.get(lb_globals, _BUILTINS) or lb_memo.remember(lb_globals, _BUILTINS, lb_check))):
            raise decline
        state = self.__dict__
        known = memo.get(state, cls)
        if known is None:
            known = memo.remember(state, cls, lambda: bindings(state))
        if (
            not known
            or type(deployment_ids) is not tuple
            or type(keys) is not tuple
            or len(deployment_ids) != len(keys)
            or not deployment_ids
        ):
            raise decline
        for deployment_id in deployment_ids:
            if type(deployment_id) is not str:
                raise decline
        # LiteLLM's reads and writes in its order (the store's reads may expire entries, the
        # writes reserve): an error from one of them is the caller's, not a reason to run it all
        # again on top
        try:  # (callers_errors' marking, without its two method calls: session 19)
            with lock:
                now = self._clock()
                raw = self.router_cache.batch_get_cache(list(keys), local_only=True)
                counts = _plain_counts(raw, len(keys))
                if counts is None:
                    counts = module._local_counts(raw, keys)
                store = self._reservations
                live = []
                for deployment_id in deployment_ids:
                    picks = store.get_cache("least_busy_reservations:" + deployment_id)
                    live.append(() if picks is None else unexpired(validate_picks(picks) or (), now))
                index = 0
                lowest = None
                for position, (count, reserved) in enumerate(zip(counts, live)):
                    busy = count + len(reserved)
                    if lowest is None or busy < lowest:
                        index, lowest = position, busy
                if reserve:
                    tag = call_id if call_id is not None else module._PICK_OWNER.get()
                    self._store_reservations(deployment_ids[index], (*live[index], (now, tag)))
                    if tag is not None:
                        self._record_pick(tag, deployment_ids[index])
        except Exception as exc:
            callers_error(exc)
            raise
        return healthy_deployments[index]

    return _select


# --------------------------------------------------------------------------
# facts of a shared candidate list, kept while it is shared
# --------------------------------------------------------------------------

class _SharedFacts:
    """What was found of the last shared candidate list (strategy_fast: the
    same list object, unchanged, while the registry version and the step's
    ids are; only read-only selectors get it), kept while it is shared."""

    def __init__(self) -> None:
        from . import strategy_fast

        self._shared = strategy_fast._SHARED_LISTS
        # (list, facts), replaced as one object so another thread never
        # pairs one list with another's facts
        self._last: Tuple[Any, Any] = (None, None)

    def _is_shared(self, healthy: Any) -> bool:
        entry = self._shared.get(_identity(healthy))
        return entry is not None and entry[0] is healthy

    def get(self, healthy: Any) -> Any:
        last = self._last
        if last[0] is healthy and self._is_shared(healthy):
            return last[1]
        return None

    def keep(self, healthy: Any, facts: Any) -> None:
        if self._last[0] is not healthy and self._is_shared(healthy):
            self._last = (healthy, facts)


def _shared_facts() -> Any:
    """A ``_SharedFacts``: the C one where the core has it (``RouterSharedFacts``, session 24:
    the same reads; ~5 Python calls less a usage-v2 pick), else the class above."""
    from . import strategy_fast

    native = _native_or("RouterSharedFacts", None)
    return native(strategy_fast._SHARED_LISTS) if native is not None else _SharedFacts()


# --------------------------------------------------------------------------
# least-busy: _deployment_ids (the candidates' ids through pydantic)
# --------------------------------------------------------------------------

def make_deployment_ids(original: Any) -> Any:
    """``least_busy._deployment_ids(healthy)``: ``str(d["model_info"]["id"])``
    of each deployment after validating the list as ``list[_Deployment]``
    (TypedDicts: ``model_info`` required, its ``id`` a ``str | int``; other
    keys ignored).  For an exact list of exact dicts whose ``model_info`` is
    an exact dict with an exact-``str`` id, that validation passes and
    gives each id back, so the ids are read directly; for a shared
    candidate list (``strategy_fast``: immutable while handed out) the
    answer of the last one is kept.  Anything else: LiteLLM's validation."""
    import importlib

    from fast_litellm.patching.registry import NotAccelerated

    module = importlib.import_module(_LB)
    if (repr(getattr(module._DEPLOYMENTS, "_type", None)) != "list[%s._Deployment]" % _LB
            or module._Deployment.__annotations__.keys() != {"model_info"}
            or module._DeploymentModelInfo.__annotations__.keys() != {"id"}):
        raise RuntimeError("least_busy's deployment types changed")
    shared = _shared_facts()  # the last shared list's ids
    decline = NotAccelerated("least-busy ids: LiteLLM's validation")
    from . import _pydantic_guard

    validation = _pydantic_guard.shared(_pydantic_guard.least_busy_ids)  # _DEPLOYMENTS', skipped
    lb_memo, lb_globals, lb_check = least_busy_builtins()  # (str, tuple)

    def _deployment_ids(healthy_deployments):
        if (type(healthy_deployments) is not list or not validation.check()
                or not (lb_memo.get(lb_globals, _BUILTINS) or lb_memo.remember(lb_globals, _BUILTINS, lb_check))):
            raise decline
        kept = shared.get(healthy_deployments)
        if kept is not None:
            return kept
        ids = []
        for deployment in healthy_deployments:
            if type(deployment) is not dict:
                raise decline
            info = deployment.get("model_info")
            if type(info) is not dict:
                raise decline
            ident = info.get("id")
            if type(ident) is not str:
                raise decline
            ids.append(ident)
        answer = tuple(ids)
        shared.keep(healthy_deployments, answer)
        return answer

    return _deployment_ids


# --------------------------------------------------------------------------
# least-busy: _request_count_keys (the candidates' in-flight counter keys)
# --------------------------------------------------------------------------

def make_request_count_keys(original: Any) -> Any:
    """``least_busy._request_count_keys(model_group, deployment_ids)``:
    ``tuple(_request_count_key(model_group, id) for id in deployment_ids)``,
    each key ``f"{model_group}_request_count:{id}"``.  For an exact-``str``
    group and an exact tuple of exact strs (what ``_deployment_ids`` gives)
    the keys are formatted here without a call per id (formatting an exact
    str runs no code), while the module's ``_request_count_key`` is the
    pinned one; the same tuple object of ids with an equal group (a shared
    candidate list's kept ids, held here so its id is not reused) gets the
    tuple made last time back (immutable, equal to a new one).  Anything
    else: LiteLLM's function."""
    import importlib

    from fast_litellm.patching.registry import NotAccelerated

    from .protocol_fast import _check_pinned

    _check_pinned((_LB + ":_request_count_key",))
    module = importlib.import_module(_LB)
    module_globals = module.__dict__
    key_of = module._request_count_key
    decline = NotAccelerated("least-busy keys: LiteLLM's function")
    last: List[Any] = [(None, None, None)]  # (group, ids, keys), replaced as one object
    lb_memo, lb_globals, lb_check = least_busy_builtins()  # (LiteLLM's tuple(...) call, as its module reads it)

    def _request_count_keys(model_group, deployment_ids):
        if (type(model_group) is not str or type(deployment_ids) is not tuple
                or module_globals.get("_request_count_key") is not key_of
                or not (lb_memo.get(lb_globals, _BUILTINS) or lb_memo.remember(lb_globals, _BUILTINS, lb_check))):
            raise decline
        group, ids, keys = last[0]
        if ids is deployment_ids and group == model_group:
            return keys
        for deployment_id in deployment_ids:
            if type(deployment_id) is not str:
                raise decline
        keys = tuple([f"{model_group}_request_count:{deployment_id}" for deployment_id in deployment_ids])
        last[0] = (model_group, deployment_ids, keys)
        return keys

    _request_count_keys.__doc__ = original.__doc__
    return _request_count_keys


# --------------------------------------------------------------------------
# usage-based-routing-v2: LowestTPMLoggingHandler_v2.usage_counter_keys and
# ._common_checks_available_deployment
# --------------------------------------------------------------------------

_V2 = "litellm.router_strategy.lowest_tpm_rpm_v2"
_V2_CLASS = _V2 + ":LowestTPMLoggingHandler_v2"
# what the two replaced methods run besides the globals they call
USAGE_V2_SOURCES = (_V2_CLASS + "._return_potential_deployments",)
# the rows the usage read hands usage_counter_keys: a dict subclass that
# overrides only writers (its reads are dict's own)
_HOSTED_ENTRY = "litellm.router_rust.surface.model_list:_HostedEntry"
# (selector, candidate list, tpm keys, rpm keys): keys the fused v2 pick built before
# handing the rest of its call to LiteLLM's body (make_usage_v2_pick), which its
# usage_counter_keys call is answered with, once, instead of reading the clock again
_PENDING_KEYS: "contextvars.ContextVar[Any]" = contextvars.ContextVar("fast_litellm_usage_v2_keys", default=None)


# "HH-MM" for each minute of a day, as strftime("%H-%M") gives it
_MINUTES = tuple("%02d-%02d" % (hour, minute) for hour in range(24) for minute in range(60))


def builtin_strftime(time_module: Any) -> Any:
    """``time_module``'s own ``strftime`` (the builtin, bound to the module), which an exact
    datetime's ``strftime`` calls (as ``import time`` finds the module); a sentinel no
    binding is when it is already replaced (a freezegun or time-machine clock started before
    the patch was built), so a table standing for strftime is never used then."""
    found = time_module.__dict__.get("strftime")
    if type(found) is type(len) and getattr(found, "__self__", None) is time_module:
        return found
    return object()


def make_usage_counter_keys(original: Any) -> Any:
    """``usage_counter_keys(healthy)``: ``<id>:<model>:tpm:<HH-MM>`` and
    ``...:rpm:...`` for each dict candidate, the minute from one
    ``get_utc_datetime()`` (the module's binding, read at the call as
    LiteLLM's code reads it).  For a list of exact dicts (or LiteLLM's
    ``_HostedEntry`` rows, a dict subclass overriding only its writers, so
    ``.get`` is dict's) with exact-str keys whose ``model_info`` /
    ``litellm_params`` are absent or such dicts and whose id / model are
    exact ``str`` or None (absent), the f-string of each is the str itself
    or ``"None"``: the prefixes are read natively (``router_usage_prefixes``,
    once per shared candidate list) before the clock is read, so a declined
    list (anything else) runs LiteLLM's code, clock read and all; the keys
    are joined natively (``router_usage_keys``).  The minute of an exact
    datetime comes from a table of ``"%02d-%02d"`` (what ``strftime("%H-%M")``
    gives), ~1.5 µs less than ``strftime``, twice a pick."""
    from fast_litellm._native_loader import NATIVE
    from fast_litellm.patching.registry import NotAccelerated, callers_errors

    from .protocol_fast import _check_pinned
    from .strategy_fast import _NAMES

    _check_pinned(USAGE_V2_SOURCES + (_HOSTED_ENTRY,))
    prefixes_of = getattr(NATIVE, "router_usage_prefixes", None)
    keys = getattr(NATIVE, "router_usage_keys", None)
    module = sys.modules[_V2]
    import importlib

    entry_module, entry_name = _HOSTED_ENTRY.split(":")
    entry = getattr(importlib.import_module(entry_module), entry_name)
    decline = NotAccelerated("usage keys: LiteLLM's code")
    shared = _shared_facts()

    def usage_counter_keys(self, healthy_deployments):
        pending = _PENDING_KEYS.get()
        if pending is not None and pending[0] is self and pending[1] is healthy_deployments:
            # the fused v2 pick's keys, built (clock read and all) before it handed the rest
            # of the call to LiteLLM's body: that body's one call of this, answered once
            _PENDING_KEYS.set(None)
            return pending[2], pending[3]
        if _BUILTINS.get("__import__") is not _BUILTIN_IMPORT:
            raise NotAccelerated("builtins.__import__ is replaced: the key build's reads make import statements")
        if keys is None:
            raise decline
        # the prefixes (or the decline) before the clock is read; a shared
        # candidate list's once (it does not change while shared)
        prefixes = shared.get(healthy_deployments)
        if prefixes is None:
            # (rows_box: the last call's prefixes, handed out again for the same rows unchanged,
            # by their dicts' version tags: the usage read's fresh list of the group's kept rows)
            prefixes = prefixes_of(healthy_deployments, _NAMES, entry, rows_box)
            if prefixes is None:
                raise decline
            shared.keep(healthy_deployments, prefixes)
        if minute_keys is not None:
            # the lines below in C (router_usage_minute_keys, session 24: the same clock call,
            # its error marked the caller's, the same minute, kept keys and builds)
            return minute_keys(minute_state, prefixes)
        with callers_errors:  # LiteLLM's clock and strftime: their errors are the caller's, raised once
            now = module.get_utc_datetime()
            # (the table only while strftime would read no replaced function: session 25, hunt25)
            if (type(now) is _datetime and modules.get("time") is time_module
                    and time_module.__dict__.get("strftime") is time_strftime
                    and ((tz := now.tzinfo) is None or type(tz) is timezone)):
                minute = _MINUTES[now.hour * 60 + now.minute]
            else:
                minute = now.strftime("%H-%M")
                if type(minute) is not str:  # LiteLLM's f-strings: format(minute) per key
                    return ([f"{prefix}:tpm:{minute}" for prefix in prefixes],
                            [f"{prefix}:rpm:{minute}" for prefix in prefixes])
        # the last keys built, for equal prefixes in the same minute: a pick builds them
        # twice (its usage read's, its selector's), equal strs both times; fresh lists of
        # the kept (immutable, exact) strs (session 21)
        last = last_built[0]
        if type(minute) is str and last[1] == minute and (last[0] is prefixes or last[0] == prefixes):
            tpm_keys = list(last[2])
            served[0] = (tpm_keys, last)  # (read_keys: which kept keys this fresh list copies)
            return tpm_keys, list(last[3])
        built = keys(prefixes, ":tpm:" + minute, ":rpm:" + minute)
        if type(minute) is str:
            last_built[0] = (prefixes, minute, tuple(built[0]), tuple(built[1]))
        return built[0], built[1]

    def read_keys(self, healthy_deployments):
        """The usage read's keys: ``usage_counter_keys(self, healthy)`` (its calls, the
        clock read once) joined, tpm then rpm, with ``frozenset`` of them and
        ``dict.fromkeys`` of them (the read's ``PrefetchedUsage`` fields when the memory
        tier holds none of the keys), or None for those two.  For kept keys (equal
        prefixes, the same minute: the returned tpm list is the one the call recorded
        in ``served``, by identity) the joined list is a fresh copy of a kept tuple, the
        frozenset the kept one (immutable, of the same exact strs, as the kept keys are
        handed out) and the values a copy of a kept ``dict.fromkeys`` (the same keys in
        the same order, each None).  Session 22: ~1 us less a read."""
        tpm_keys, rpm_keys = usage_counter_keys(self, healthy_deployments)
        mark = served[0]
        if mark is not None and mark[0] is tpm_keys:
            last = mark[1]
            extra = read_extra[0]
            if extra[0] is not last:
                joined = last[2] + last[3]
                extra = read_extra[0] = (last, joined, frozenset(joined), dict.fromkeys(joined))
            return list(extra[1]), extra[2], extra[3].copy()
        return tpm_keys + rpm_keys, None, None

    last_built: List[Any] = [(None, None, (), ())]  # (prefixes, minute, tpm keys, rpm keys), replaced as one
    served: List[Any] = [None]  # (the tpm list handed out, the kept keys it copies): the last kept answer
    read_extra: List[Any] = [(None, (), frozenset(), {})]  # (kept keys, joined, frozenset, fromkeys)
    rows_box: List[Any] = [None]  # router_usage_prefixes' kept prefixes (session 21)
    from fast_litellm.patching.registry import callers_error

    minute_keys = getattr(NATIVE, "router_usage_minute_keys", None) if keys is not None else None
    # what an exact datetime's strftime reads (the table stands for it only while these are the
    # interpreter's: `import time` finds the module in sys.modules; its timetuple() calls the
    # tzinfo's dst(), no code for None or an exact timezone)
    import time as time_module
    from datetime import timezone

    modules, time_strftime = sys.modules, builtin_strftime(time_module)
    minute_state = (module, "get_utc_datetime", callers_error, _datetime, _MINUTES, last_built, served, ":tpm:",
                    ":rpm:", "hour", "minute", "strftime", "%H-%M", modules, "time", time_module, time_strftime,
                    timezone, "tzinfo")
    usage_counter_keys.__doc__ = original.__doc__
    usage_counter_keys.read_keys = read_keys  # (the usage read's: make_read_usage's keys_fast)
    usage_counter_keys.python_read_keys = read_keys
    native_read_keys = getattr(NATIVE, "router_usage_read_keys", None) if minute_keys is not None else None
    if native_read_keys is not None and type(shared) is _native_or("RouterSharedFacts", None):
        # read_keys in C (router_usage_read_keys, session 25): usage_counter_keys' front (the
        # pending keys and a replaced __import__ are this twin's), the shared prefixes, the
        # clock-to-keys tail and the lines above, no Python frame; a partial: C throughout
        usage_counter_keys.read_keys = _PARTIAL(native_read_keys, (
            read_keys, _PENDING_KEYS, _BUILTINS, _BUILTIN_IMPORT, shared, _NAMES, entry, rows_box, minute_state,
            served, read_extra, decline))
    return usage_counter_keys


def make_usage_common_checks(original: Any) -> Any:
    """``_common_checks_available_deployment``: LiteLLM's steps in LiteLLM's
    order - the token count in its ``try/except Exception: 0`` (the module's
    ``embedding_aware_token_count`` with ``partial(deployment_backend_models,
    healthy)``), the ``input_tokens=%s`` debug call, ``print_verbose``, then
    ``random.choice`` over the potential deployments (the module's globals,
    read at the call) - with the pure part between (the two count dicts
    keyed by ``key.split(":")[0]``, unused candidates at 0, and
    ``_return_potential_deployments``' lowest-usage scan within the tpm/rpm
    limits) done natively (``router_usage_pick``).

    Covered, checked before any call: ``verbose_router_logger`` a plain
    ``Logger`` not enabled for DEBUG (a record logged from here would name
    this file and line as its caller), an exact list of exact dicts with
    exact-str keys, ``model_info`` an exact dict with an exact-str id,
    ``litellm_params`` absent or an exact dict, limits and counts that are
    None, bools, floats or ints within 2**53 (sums and comparisons on
    builtin numbers, which run no code and cannot raise), key lists of exact
    strs with value lists at least as long, and ``self``'s
    ``_return_potential_deployments`` LiteLLM's pinned method.  Anything
    else runs LiteLLM's code.  When the token count is not such a number,
    the count dicts are built as LiteLLM builds them and its own
    ``_return_potential_deployments`` scans them."""
    from fast_litellm._native_loader import NATIVE
    from fast_litellm.patching import guards
    from fast_litellm.patching.registry import NotAccelerated, callers_errors

    from .protocol_fast import _check_pinned
    from .strategy_fast import _NAMES

    _check_pinned(USAGE_V2_SOURCES)
    module = sys.modules[_V2]
    cls = module.LowestTPMLoggingHandler_v2
    scan = cls.__dict__["_return_potential_deployments"]
    if not guards.is_pinned_source(USAGE_V2_SOURCES[0], scan):
        raise RuntimeError("_return_potential_deployments changed")
    pick = getattr(NATIVE, "router_usage_pick", None)
    g = vars(module)
    decline = NotAccelerated("usage checks: LiteLLM's code")
    accepted = _shared_facts()

    def _common_checks_available_deployment(self, model_group, healthy_deployments, tpm_keys, tpm_values,
                                            rpm_keys, rpm_values, messages=None, input=None):
        if tpm_values is None or rpm_values is None:
            return None
        logger = g["verbose_router_logger"]
        if (pick is None or type(self)._return_potential_deployments is not scan
                or "_return_potential_deployments" in self.__dict__
                # a debug record would name this file and line as its caller
                or not _logger_guard.quiet(logger)
                or pick(healthy_deployments, tpm_keys, tpm_values, rpm_keys, rpm_values, None, _NAMES,
                        accepted.get(healthy_deployments) is not None) is None):
            raise decline
        accepted.keep(healthy_deployments, True)
        try:
            input_tokens = g["embedding_aware_token_count"](
                messages, input, g["partial"](g["deployment_backend_models"], healthy_deployments))
        except Exception:
            input_tokens = 0
        logger.debug("input_tokens=%s", input_tokens)
        potential = pick(healthy_deployments, tpm_keys, tpm_values, rpm_keys, rpm_values, input_tokens, _NAMES,
                         accepted.get(healthy_deployments) is not None)
        if potential is None:
            potential = _potential_in_python(self, healthy_deployments, tpm_keys, tpm_values, rpm_keys,
                                             rpm_values, input_tokens)
        with callers_errors:  # LiteLLM's print and draw, after its token count ran: its errors are the caller's
            g["print_verbose"]("returning picked lowest tpm/rpm deployment.")
            if len(potential) > 0:
                return g["random"].choice(potential)
        return None

    _common_checks_available_deployment.__doc__ = original.__doc__
    return _common_checks_available_deployment


def _potential_in_python(self: Any, healthy: List[Any], tpm_keys: List[str], tpm_values: Any,
                         rpm_keys: List[str], rpm_values: Any, input_tokens: Any) -> Any:
    """LiteLLM's count dicts and its own scan, for a token count the native
    scan does not take (the inputs are covered: nothing here can raise)."""
    tpm_dict = {}
    for idx, key in enumerate(tpm_keys):
        tpm_dict[key.split(":")[0]] = tpm_values[idx]
    rpm_dict = {}
    for idx, key in enumerate(rpm_keys):
        rpm_dict[key.split(":")[0]] = rpm_values[idx]
    for d in healthy:
        tpm_key = d["model_info"]["id"]
        if tpm_key not in tpm_dict or tpm_dict[tpm_key] is None:
            tpm_dict[tpm_key] = 0
    return self._return_potential_deployments(
        healthy_deployments=healthy, all_deployments=tpm_dict, input_tokens=input_tokens, rpm_dict=rpm_dict)


# --------------------------------------------------------------------------
# usage-based-routing-v2: the selector's call in the fused pick
# --------------------------------------------------------------------------

_V2_PICK_SOURCES = (
    _V2_CLASS + ".async_get_available_deployments",
    _V2 + ":PrefetchedUsage",
    _V2 + ":PrefetchedUsage.active",
    _V2 + ":PrefetchedUsage.covers",
    _V2 + ":PrefetchedUsage.values_for",
)
# the selector's methods its call runs, each served by our patch (name, patch)
_V2_PICK_METHODS = (("usage_counter_keys", "routing.usage_v2_counter_keys"),
                    ("_common_checks_available_deployment", "routing.usage_v2_common_checks"))
_V2_PICK_INSTANCE_NAMES = ("async_get_available_deployments", "usage_counter_keys",
                           "_common_checks_available_deployment", "_return_potential_deployments")
DECLINED = object()


def _code_in(function: Any, name: str) -> Any:
    """The code object named ``name`` nested (at any depth) in ``function``'s code."""
    import types

    stack = [_code_of(function)]  # (no audit event: on 3.12+ this runs in every v2 pick's bindings check)
    while stack:
        for const in stack.pop().co_consts:
            if isinstance(const, types.CodeType):
                if const.co_name == name:
                    return const
                stack.append(const)
    raise RuntimeError("%s has no %s" % (function.__qualname__, name))


def _wrapper_codes() -> Tuple[Any, Any, Any]:
    """The code of the patch engine's sync wrapper and of ``_local_patch``'s sync
    dispatcher, for the modules already loaded (an import here could run during a
    pick, where an import hook would see it; a wrapper kind whose module is not
    loaded has no instance, and None matches no function's code), and the native
    layer's type (``RouterLayer``, session 20's merge: either layer's hot path in C),
    or None."""
    from fast_litellm._native_loader import NATIVE

    found: List[Any] = []
    for module_name, function_name, code_name in (("fast_litellm.patching.wrappers", "guarded", "wrapper"),
                                                  ("fast_litellm.routing._local_patch", "_dispatcher", "dispatch")):
        module = sys.modules.get(module_name)
        try:
            found.append(_code_in(getattr(module, function_name), code_name) if module is not None else None)
        except Exception:  # noqa: BLE001 - another layer than ours: no chain through it
            found.append(None)
    return found[0], found[1], getattr(NATIVE, "RouterLayer", None)


def _fast_chain(attr: Any, patch_name: str, code: Any) -> Any:
    """The layers between ``attr`` (what LiteLLM's call finds) and our fast
    function (code ``code``) when ``attr`` is patch ``patch_name``'s engine
    wrapper and/or ``_local_patch`` dispatcher (a Python function calling the next
    through its ``fast`` cell, or its native ``RouterLayer``, whose ``_fast`` is
    fixed and whose Python layer ``_slow`` names its switch), each marked as that
    patch: a tuple of (function, its code or None for a native layer, its ``fast``
    cell or None, the next function, its switch: the engine flag's cell or the
    dispatcher's globals), the last entry (our fast function, code, None, None,
    None); else None."""
    import types

    engine_code, local_code, layer_type = _wrapper_codes()
    chain: List[Any] = []
    fn = attr
    for _ in range(4):
        native = layer_type is not None and type(fn) is layer_type
        if not native and type(fn) is not types.FunctionType:
            return None
        if not native and _code_of(fn) is code:
            chain.append((fn, code, None, None, None))
            return tuple(chain)
        if getattr(fn, "__fast_litellm_patch__", None) != patch_name:
            return None
        python_layer = fn._slow if native else fn
        if type(python_layer) is not types.FunctionType:
            return None
        layer_code = _code_of(python_layer)
        if layer_code is not engine_code and layer_code is not local_code:
            return None
        cells = dict(zip(layer_code.co_freevars, python_layer.__closure__ or ()))
        fast_cell = cells.get("fast")
        switch = cells.get("flag") if layer_code is engine_code else python_layer.__globals__
        if fast_cell is None or switch is None:
            return None
        following = fn._fast if native else fast_cell.cell_contents
        if native and following is not fast_cell.cell_contents:
            return None
        chain.append((fn, None if native else layer_code, None if native else fast_cell, following, switch))
        fn = following
    return None


def _python_chain_serves(chain: Any) -> bool:
    """Whether a call of the chain's first function now reaches its last one:
    each Python layer's code and ``fast`` cell as found (a native layer's are
    fixed), each engine layer's flag serving fast (on, not in rollout or shadow),
    each dispatcher switched on.  (Their builtins precheck is the shared
    routing_builtins guard, checked by the caller.)"""
    for fn, code, cell, following, switch in chain:  # (one chain, or several one after another)
        if code is not None and _code_of(fn) is not code:  # (no audit event: stock's pick raises none)
            return False
        if following is None:  # (a chain's last entry: our function)
            continue
        if cell is not None and cell.cell_contents is not following:
            return False
        if type(switch) is dict:  # the dispatcher's module globals
            if not switch["ACCELERATED"][0]:
                return False
        elif not switch.cell_contents.serve_fast:  # the engine wrapper's flag
            return False
    return True


# the same loop in C where the core is built (router_chain_serves, session 24: the same
# reads, raising what they raise; ~0.7 us of Python a usage-v2 pick, two chains asked)
_chain_serves = _native_or("router_chain_serves", _python_chain_serves)


_V2_PICK: List[Any] = []


def usage_v2_pick() -> Any:
    """``make_usage_v2_pick()``, built at the first v2 pick (None when its
    pins do not hold: remembered, LiteLLM's decorated call then)."""
    if not _V2_PICK:
        try:
            built = make_usage_v2_pick()
        except Exception:  # noqa: BLE001 - a changed LiteLLM: its call
            built = None
        _V2_PICK.append(built)
    return _V2_PICK[0]


def make_usage_v2_pick() -> Any:
    """``selector.async_get_available_deployments(model_group=..., healthy_deployments=...,
    messages=None, input=None)`` of LiteLLM's v2 selector, as the fused pick's
    strategy answer makes it: ``with_service_target(ROUTER_USAGE_TARGET)``'s
    target set and reset inline, then LiteLLM's body in one frame - its debug
    call, ``usage_counter_keys`` (our patch's function itself: the prefixes,
    the clock read, the keys), ``PrefetchedUsage.active()`` / ``covers`` /
    ``values_for`` (the same set and dict operations on the exact dataclass's
    fields), the two slices, then ``_common_checks_available_deployment`` as our
    patch makes it for no messages and no input (the token count's 0 known
    without code, the debug call, one native count-and-scan, ``print_verbose``,
    ``random.choice``).

    Made only when everything LiteLLM's call would run is as pinned and would
    serve our patches: the decorated method and its closure, the selector's
    instance dict free of the methods, the class's ``usage_counter_keys`` and
    ``_common_checks_available_deployment`` our patches' wrappers (engine or
    ``_local_patch``) serving fast, the module's token-count binding our patch
    with its answer 0, the logger a plain one not enabled for DEBUG, the
    builtins guard.  Otherwise ``DECLINED`` before anything is run: LiteLLM's
    decorated method.  Once the keys are built (the clock read), anything this
    does not cover - no prefetched usage, keys it does not cover, a value the
    native scan does not take, no deployment within the limits (LiteLLM's
    RateLimitError) - is handed to LiteLLM's body under the same target, with
    the keys already built as its ``usage_counter_keys`` answer
    (``_PENDING_KEYS``): the clock is read once, as in stock.

    What is not made: the engine wrappers' one-in-16 timing samples of the
    three patched calls (fast_litellm's own monitor; the pick's own wrapper
    still samples)."""
    import types

    from fast_litellm import flags
    from fast_litellm._native_loader import NATIVE
    from fast_litellm.patching.registry import NotAccelerated, callers_error

    from .protocol_fast import _StateMemo, _check_pinned, _least_busy_call_parts
    from .strategy_fast import _NAMES

    _check_pinned(_V2_PICK_SOURCES + USAGE_V2_SOURCES)
    pick = getattr(NATIVE, "router_usage_pick", None)
    if pick is None:
        raise RuntimeError("no native usage scan")
    module = sys.modules[_V2]
    g = vars(module)
    cls = module.LowestTPMLoggingHandler_v2
    prefetched_cls = module.PrefetchedUsage
    usage_var = module._active_prefetched_usage
    if type(usage_var) is not contextvars.ContextVar:
        raise RuntimeError("the prefetched usage is not a context variable")
    (_handler, decorated, inner, cells, contents, context_globals,
     (_service_target, restore, target_var)) = _least_busy_call_parts(cls)
    target = contents[3]
    scan = cls.__dict__["_return_potential_deployments"]
    prefetched_methods = {name: prefetched_cls.__dict__[name] for name in ("active", "covers", "values_for")}
    keys_code = _code_in(make_usage_counter_keys, "usage_counter_keys")
    checks_code = _code_in(make_usage_common_checks, "_common_checks_available_deployment")
    count_code = _code_in(make_selector_token_count, "embedding_aware_token_count")
    memo = _StateMemo()
    rb_memo, rb_key, rb_check = routing_builtins()
    accepted = _shared_facts()  # the last shared candidate list the native scan took
    chain_cache: Dict[Any, Any] = {}
    quiet = _logger_guard.quiet

    def bindings(state: Any) -> Any:
        """((dicts read), (keys chain, checks chain, token-count chain)) when the
        call's methods and bindings are the ones this makes; else ((None,), ())."""
        klass = cls.__dict__
        if (not state.keys().isdisjoint(_V2_PICK_INSTANCE_NAMES)
                or klass.get("async_get_available_deployments") is not decorated
                or klass.get("_return_potential_deployments") is not scan
                or cls.__getattribute__ is not object.__getattribute__
                or g.get("PrefetchedUsage") is not prefetched_cls
                or g.get("_active_prefetched_usage") is not usage_var
                or g.get("partial") is not _PARTIAL
                or any(prefetched_cls.__dict__.get(name) is not fn for name, fn in prefetched_methods.items())
                or "keys" in prefetched_cls.__dict__ or "values" in prefetched_cls.__dict__
                or prefetched_cls.__mro__ != (prefetched_cls, object)
                or context_globals.get("service_target") is not _service_target
                or context_globals.get("_restore") is not restore
                or context_globals.get("_service_target") is not target_var):
            return (None,), ()
        attrs = (klass.get(_V2_PICK_METHODS[0][0]), klass.get(_V2_PICK_METHODS[1][0]),
                 g.get("embedding_aware_token_count"))
        layer_type = _wrapper_codes()[2]
        if any(type(attr) is not types.FunctionType and (layer_type is None or type(attr) is not layer_type)
               for attr in attrs):  # (hashed below, by identity: no code)
            return (None,), ()
        chains = chain_cache.get(attrs)  # (the same tuple for the same functions: the memo compares identities)
        if chains is None:
            found = []
            for attr, patch_name, code in zip(attrs, (_V2_PICK_METHODS[0][1], _V2_PICK_METHODS[1][1],
                                                      "routing.usage_token_count_v2"),
                                              (keys_code, checks_code, count_code)):
                chain = _fast_chain(attr, patch_name, code)
                if chain is None:
                    return (None,), ()
                found.append(chain)
            if len(chain_cache) > 8:
                chain_cache.clear()
            # (our keys function, the three chains' layers one after another)
            chains = chain_cache[attrs] = (found[0][-1][0], found[0] + found[1] + found[2])
        return (state, cls, g, prefetched_cls, context_globals), (chains,)

    inner_cell, target_cell, preserve_cell, target_value_cell = cells

    def remember(state):
        return memo.remember(state, cls, lambda: bindings(state))

    def python_front(_parts, selector, messages, input):
        """The front guard: (keys function, logger) or DECLINED (``router_usage_v2_front``'s twin)."""
        if (messages is not None or input is not None or type(selector) is not cls
                or cls.__getattribute__ is not _OBJECT_GETATTRIBUTE):  # (a base's hook: session 22 hunt)
            return DECLINED
        state = selector.__dict__
        known = memo.get(state, cls)
        if known is None:
            known = remember(state)
        logger = g.get("verbose_router_logger")
        if (not known or not quiet(logger)
                or _BUILTINS.get("__import__") is not _BUILTIN_IMPORT
                or not (rb_memo.get(rb_key, _BUILTINS) or rb_memo.remember(rb_key, _BUILTINS, rb_check))
                # the decorated method's closure as found at build (a cell can be assigned)
                or inner_cell.cell_contents is not contents[0] or target_cell.cell_contents is not contents[1]
                or preserve_cell.cell_contents is not contents[2]
                or target_value_cell.cell_contents is not contents[3]):
            return DECLINED
        keys_function, layers = known[0]
        if not _chain_serves(layers):
            return DECLINED
        return keys_function, logger

    # (the native front: the same reads and calls; the Python lines above without the core)
    parts = (cls, _OBJECT_GETATTRIBUTE, memo, remember, g, quiet, _BUILTINS, _BUILTIN_IMPORT, rb_memo, rb_key,
             rb_check, inner_cell, target_cell, preserve_cell, target_value_cell) + tuple(contents[:4]) + (DECLINED,)
    front = getattr(NATIVE, "router_usage_v2_front", None) or python_front

    # the native scan's positional check: the ids and key strs it last found naming the
    # candidates in order (held, compared by identity: strs are immutable; session 25)
    scan_memo: List[Any] = []

    async def usage_v2_pick(selector, model_group, healthy_deployments, messages, input):
        found = front(parts, selector, messages, input)
        if found is DECLINED:
            return DECLINED
        keys_function, logger = found
        try:
            counted = no_input_tokens.called()
        except Exception as exc:  # noqa: BLE001 - ours, counted as the token-count patch counts it
            flags.record_error("rust_routing", exc)
            return DECLINED
        if counted != 0:
            return DECLINED
        token = target_var.set(target)
        try:
            logger.debug("get_available_deployments - Usage Based. model_group: %s, healthy_deployments: %s",
                         model_group, healthy_deployments)
            try:
                tpm_keys, rpm_keys = keys_function(selector, healthy_deployments)
            except NotAccelerated:  # (declined before the clock is read: nothing has run)
                return DECLINED
            # PrefetchedUsage.active(), covers, values_for on the exact dataclass's own fields
            usage = usage_var.get()
            own = getattr(usage, "__dict__", None) if type(usage) is prefetched_cls else None
            potential = None
            if type(own) is dict:
                covered, values = own.get("keys"), own.get("values")
                # (covers(tpm_keys + rpm_keys): the frozenset's issuperset of each list, no joined list)
                if (type(covered) is frozenset and type(values) is dict and covered.issuperset(tpm_keys)
                        and covered.issuperset(rpm_keys)):
                    # (values_for's [values.get(key) ...] of each key list: made by the scan itself,
                    # handed the exact dict)
                    potential = pick(healthy_deployments, tpm_keys, values, rpm_keys, values, 0,
                                     _NAMES, accepted.get(healthy_deployments) is not None, scan_memo)
            if not potential:  # None (not covered) or [] (LiteLLM raises): its body, these keys
                pending = _PENDING_KEYS.set((selector, healthy_deployments, tpm_keys, rpm_keys))
                try:
                    return await inner(selector, model_group=model_group, healthy_deployments=healthy_deployments,
                                       messages=messages, input=input)
                finally:
                    _PENDING_KEYS.reset(pending)
            accepted.keep(healthy_deployments, True)
            logger.debug("input_tokens=%s", 0)
            try:  # LiteLLM's print and draw: their errors are the caller's, raised once
                g["print_verbose"]("returning picked lowest tpm/rpm deployment.")
                return g["random"].choice(potential)
            except Exception as exc:
                callers_error(exc)
                raise
        finally:
            try:
                target_var.reset(token)
            except ValueError:  # _restore's suppress
                pass

    usage_v2_pick.fronts = (front, python_front, parts)  # (the twins, for the tests and A/B)
    return usage_v2_pick


# --------------------------------------------------------------------------
# usage-based-routing-v2's usage read: RoutingReadBatch.read_usage
# --------------------------------------------------------------------------

_READ_BATCH = "litellm.router_utils.routing_read_batch"
_PREFETCH = "litellm.router_utils.routing_prefetch"
_DUAL = "litellm.caching.dual_cache:DualCache."
_MEMORY = "litellm.caching.in_memory_cache:InMemoryCache."
# what LiteLLM's read_usage runs down to a DualCache without Redis (each pinned)
USAGE_READ_SOURCES = (
    _READ_BATCH + ":_selector_keys",
    _READ_BATCH + ":_selector_read",
    _PREFETCH + ":selector_read",
    _PREFETCH + ":TierRead",
    _PREFETCH + ":read",
    _PREFETCH + ":_read_prefetched",
    _PREFETCH + ":_take",
    "litellm.caching.redis_batch:active_request_redis_batches",
    _DUAL + "async_batch_get_cache_shared",
    _DUAL + "async_batch_get_cache",
    _DUAL + "_prepare_batch_get",
    _MEMORY + "async_batch_get_cache",
    _MEMORY + "get_cache",
    "litellm._internal_context:service_target",
    "litellm._internal_context:_restore",
)


def make_read_usage(original: Any) -> Any:
    """``RoutingReadBatch.read_usage(deployments, parent_otel_span)``, the
    second Task of a usage-based-routing-v2 pick's cooldown gather (the
    Task and its place in the gather are unchanged: this is the coroutine
    ``batch.read_usage(...)`` makes, as every patched async method's).

    LiteLLM's read: ``_selector_read`` (the selector's ``router_cache``,
    then ``usage_counter_keys(list(deployments))`` through the selector's
    class, the tpm keys then the rpm keys, a ``TierRead``), then
    ``routing_prefetch.read`` (under the usage service target: ``_take``
    finds no request batch, then ``DualCache.async_batch_get_cache_shared``,
    which for a cache without Redis is ``cache.async_batch_get_cache(keys=
    list(keys), parent_otel_span=...)``: ``_prepare_batch_get``, the memory
    tier's ``async_batch_get_cache``, a ``get_cache`` per key, a
    ``PendingBatchRead``), then ``PrefetchedUsage(keys=frozenset(keys),
    values=dict(zip(keys, values)))``.  Here: the same selector reads and
    ``usage_counter_keys`` call, then, for an exact ``DualCache`` with no
    Redis and no request batch (``active_request_redis_batches()`` None:
    ``_take`` would find nothing), the cache's own ``async_batch_get_cache``
    called directly under the same service target - or, when no key is in
    the memory tier's ``cache_dict`` (an exact dict; the keys exact strs, so
    the look-ups run no code) and every method that read runs is LiteLLM's
    pinned one (or the cache component's exact twin of it), the ``None`` per
    key that read gives, without it (a ``get_cache`` of an absent key reads
    the dict and returns None; nothing else runs) - and LiteLLM's
    ``PrefetchedUsage``.  The pure layers between (``TierRead``,
    ``_read_prefetched`` / ``_take``, the shared read's bookkeeping, the
    ``PendingBatchRead``) are not made.

    Decided before anything is read: the exact class, the pinned functions
    and classes bound where LiteLLM's code reads them (one native
    ``router_entries_same`` call), the builtins that code calls not shadowed
    in its modules.  Anything else, a span, a ``usage_counter_keys`` that
    does not give an exact list of exact strs, or Redis: LiteLLM's code from
    where it is (after the keys: never the keys again)."""
    import dataclasses
    import importlib
    import itertools

    from fast_litellm.patching import guards
    from fast_litellm.patching.registry import NotAccelerated, callers_errors

    from ._pydantic_guard import _same
    from .protocol_fast import _check_pinned

    _check_pinned(USAGE_READ_SOURCES)
    batch_module = importlib.import_module(_READ_BATCH)
    prefetch = importlib.import_module(_PREFETCH)
    dual = importlib.import_module("litellm.caching.dual_cache")
    memory_module = importlib.import_module("litellm.caching.in_memory_cache")
    context = importlib.import_module("litellm._internal_context")
    batch_cls = batch_module.RoutingReadBatch
    v2_cls = sys.modules[_V2].LowestTPMLoggingHandler_v2
    dual_cls = dual.DualCache
    memory_cls = memory_module.InMemoryCache
    g = vars(batch_module)
    pg = vars(prefetch)
    absent = object()
    # the memory tier's methods an absent key's read runs: LiteLLM's, or the cache
    # component's exact twins (installed unwrapped by its patches)
    memory_methods = {name: [memory_cls.__dict__[name]] for name in ("get_cache", "async_batch_get_cache")}
    for name in memory_methods:  # behind the cache component's layers only (registry.stock_behind)
        memory_methods[name] = [stock_behind(memory_methods[name][0])]
    try:
        from fast_litellm import cache as cache_component

        for name in memory_methods:
            built = cache_component.methods().get(name)
            if built is not None:
                memory_methods[name].append(built)
    except Exception:  # noqa: BLE001 - no cache component: LiteLLM's methods only
        pass
    for name, fns in memory_methods.items():
        if not guards.is_pinned_source(_MEMORY + name, fns[0]):
            # a user's wrapper (installed before import, say) is no error of ours:
            # declined, LiteLLM's read runs, nothing counted against the flag
            raise NotAccelerated("InMemoryCache.%s is not the pinned one" % name)
    get_ok = tuple(memory_methods["get_cache"])
    batch_ok = tuple(memory_methods["async_batch_get_cache"])
    # (container, key, expected): module bindings and class entries LiteLLM's read goes through
    flat: List[Any] = []

    def entry(container, key):
        table = container.__dict__ if isinstance(container, type) else container
        flat.extend((container, key, table.get(key, absent)))

    for key in ("_selector_keys", "_selector_read", "selector_read", "routing_prefetch", "PrefetchedUsage"):
        entry(g, key)
    for key in ("read", "_read_prefetched", "_take", "selector_read", "TierRead", "service_target",
                "active_request_redis_batches", "DualCache", "ROUTER_USAGE_TARGET"):
        entry(pg, key)
    for key in ("async_batch_get_cache_shared", "async_batch_get_cache", "_prepare_batch_get"):
        entry(dual_cls, key)
    # the attributes read from the instances' dicts are plain there: no class in either
    # MRO (checked too) holds a descriptor of that name or an attribute hook
    for klass in dual_cls.__mro__[:-1]:
        for key in ("redis_cache", "in_memory_cache", "__getattribute__", "__getattr__"):
            entry(klass, key)
    for klass in memory_cls.__mro__[:-1]:
        for key in ("cache_dict", "__getattribute__", "__getattr__"):
            entry(klass, key)
    # PrefetchedUsage made without its __init__ (usage_plain): the frozen dataclass of two
    # fields whose generated __init__ only writes them, no __new__ / __post_init__ of its own
    usage_cls = g["PrefetchedUsage"]
    probe_keys, probe_values = frozenset(("k",)), {"k": None}
    probe = usage_cls(keys=probe_keys, values=probe_values)
    usage_plain = (usage_cls.__mro__ == (usage_cls, object) and "__post_init__" not in usage_cls.__dict__
                   and "__new__" not in usage_cls.__dict__ and "__slots__" not in usage_cls.__dict__
                   and getattr(usage_cls, "__dataclass_params__", None) is not None
                   and usage_cls.__dataclass_params__.frozen
                   and tuple(f.name for f in dataclasses.fields(usage_cls)) == ("keys", "values")
                   and type(probe.__dict__) is dict and list(probe.__dict__) == ["keys", "values"]
                   and probe.__dict__["keys"] is probe_keys and probe.__dict__["values"] is probe_values)
    for key in ("__init__", "__new__", "__post_init__", "__getattribute__", "__setattr__"):
        entry(usage_cls, key)
    object_new = object.__new__
    # the selector's usage_counter_keys found on its class (keys_fast): no attribute hook
    for klass in v2_cls.__mro__[:-1]:
        entry(klass, "__getattribute__")
    for key in ("_service_target", "_restore"):
        entry(vars(context), key)
    entry(vars(dual), "itertools")
    entry(vars(itertools), "chain")
    # the builtins LiteLLM's read calls (its skipped layers too: tuple, len, enumerate,
    # list, dict.fromkeys ...): the shared routing_builtins guard (session 20; it stood here
    # as nine names of its own, _USAGE_READ_BUILTINS, before): every routing module's names
    # not shadowed there and the interpreter's own in builtins - not merely what builtins
    # held at our build (a wrapper set before it is a replacement too: stock's skipped
    # layers would call it), checked at each read (and again after the keys call)
    rb_memo, rb_key, rb_check = routing_builtins()
    flat.extend((dual_cls, 1, dual_cls.__mro__, memory_cls, 1, memory_cls.__mro__, v2_cls, 1, v2_cls.__mro__))
    same_entries, checked = _same(), tuple(flat)
    if not same_entries(checked, absent):
        raise NotAccelerated("the usage read's bindings are not LiteLLM's")
    # the dict entries' verdict kept by a _StateMemo on their dicts' version tags (session 21:
    # one tag compare where the 54 look-ups took ~0.8 us, twice a read); the MROs (a type's
    # __bases__ assignment changes no dict) looked at on every call
    from .protocol_fast import _StateMemo

    dict_entries = tuple(x for i in range(0, len(checked), 3) if type(checked[i + 1]) is str
                         for x in checked[i:i + 3])
    mro_entries = tuple(x for i in range(0, len(checked), 3) if type(checked[i + 1]) is not str
                        for x in checked[i:i + 3])
    containers: List[Any] = []
    for i in range(0, len(dict_entries), 3):
        if not any(dict_entries[i] is seen for seen in containers):
            containers.append(dict_entries[i])
    containers_read = tuple(containers)
    entries_memo, entries_key = _StateMemo(), object()

    def entries_check():
        if same_entries(dict_entries, absent):
            return containers_read, (True,)
        return (None,), ()

    # same_entries(checked, absent) is then: same_entries(mro_entries, absent) and the memo's
    # kept verdict of the dict entries (written out inline in read_usage)
    target_var = context._service_target
    restore = context._restore
    usage_target = prefetch.ROUTER_USAGE_TARGET
    keys_code = _code_in(make_usage_counter_keys, "usage_counter_keys")
    keys_chains: Dict[int, Any] = {}  # id(the class's usage_counter_keys) -> (it, its _fast_chain)

    def keys_fast(selector):
        """Our keys function when ``selector.usage_counter_keys(...)`` would be served
        by it now (an exact v2 selector without an instance attribute of that name, the
        class's our patch's wrapper: ``_fast_chain``, ``_chain_serves``), else None."""
        own = getattr(selector, "__dict__", None)
        if type(selector) is not v2_cls or type(own) is not dict or "usage_counter_keys" in own:
            return None
        attr = v2_cls.__dict__.get("usage_counter_keys")
        entry = keys_chains.get(_identity(attr))
        if entry is None or entry[0] is not attr:
            chain = _fast_chain(attr, "routing.usage_v2_counter_keys", keys_code)
            if chain is None:
                return None
            if len(keys_chains) > 4:
                keys_chains.clear()
            entry = keys_chains[_identity(attr)] = (attr, chain)
        keys_box[0] = entry  # (the C keys_fast's: the chain of the class's function now)
        return entry[1][-1][0] if _chain_serves(entry[1]) else None

    keys_box: List[Any] = [None]  # (attr, its _fast_chain): the last one keys_fast found
    native_keys_fast = _native_or("router_usage_keys_fast", None)
    # keys_fast in C for the kept chain (router_usage_keys_fast, session 25: no Python frame)
    keys_of = keys_fast if native_keys_fast is None else _PARTIAL(
        native_keys_fast, (keys_fast, v2_cls, "usage_counter_keys", "__dict__", keys_box, type.__dict__["__dict__"]))
    requests = prefetch.active_request_redis_batches
    str_only = {str}
    decline = NotAccelerated("the usage read: LiteLLM's code")

    async def rest_of_litellms(self, cache, keys, parent_otel_span):
        """LiteLLM's read_usage after its keys: selector_read, routing_prefetch.read, PrefetchedUsage."""
        usage_read = g["selector_read"](cache, keys)
        values = await pg["read"](usage_read, parent_otel_span)
        self.prefetched_usage = g["PrefetchedUsage"](
            keys=frozenset(usage_read.keys), values=None if values is None else dict(zip(usage_read.keys, values)))

    async def read_usage(self, deployments, parent_otel_span):
        if (type(self) is not batch_cls or parent_otel_span is not None
                or _BUILTINS.get("__import__") is not _BUILTIN_IMPORT
                # (the bindings as found at build: the MROs, then the dict entries' kept verdict; inline)
                or not (same_entries(mro_entries, absent) and (entries_memo.get(entries_key, absent)
                                                               or entries_memo.remember(entries_key, absent,
                                                                                        entries_check)))
                or not (rb_memo.get(rb_key, _BUILTINS) or rb_memo.remember(rb_key, _BUILTINS, rb_check))):
            raise decline
        # LiteLLM's reads and calls from here: their errors are the caller's, raised once
        # (a fallback would read the keys, and the clock, again)
        with callers_errors:
            selector = self.usage_selector
            if selector is None:
                return None  # _selector_read: None, and read_usage returns
            # _selector_read's argument order: the cache, then the keys
            cache = selector.router_cache
            # _selector_keys' call of usage_counter_keys, made to our patch's function itself
            # while the class's method is our patch's wrapper serving it (session 20)
            fast_keys = keys_of(selector)
            keys = key_set = key_values = None
            read_keys = getattr(fast_keys, "read_keys", None)  # (ours: make_usage_counter_keys')
            if read_keys is not None:
                try:
                    # (our usage_counter_keys' call, joined: tpm + rpm, lists of exact strs;
                    # for kept keys the frozenset and fromkeys kept too: session 22)
                    keys, key_set, key_values = read_keys(selector, list(deployments))
                except NotAccelerated:  # (declined before the clock is read: LiteLLM's call)
                    pass
            elif fast_keys is not None:
                try:
                    tpm_keys, rpm_keys = fast_keys(selector, list(deployments))
                except NotAccelerated:  # (declined before the clock is read: LiteLLM's call)
                    pass
                else:
                    keys = tpm_keys + rpm_keys  # (lists of exact strs: our function's)
            if keys is None:
                keys = g["_selector_keys"](selector, deployments)
        # (the keys call may have run code of anyone's - a replaced usage_counter_keys -
        # so the bindings are looked at again after it)
        if (type(cache) is not dual_cls
                or (fast_keys is None and (type(keys) is not list or set(map(type, keys)) - str_only))
                or type(selector) is not v2_cls
                or not (same_entries(mro_entries, absent) and (entries_memo.get(entries_key, absent)
                                                               or entries_memo.remember(entries_key, absent,
                                                                                        entries_check)))
                or not (rb_memo.get(rb_key, _BUILTINS) or rb_memo.remember(rb_key, _BUILTINS, rb_check))):
            with callers_errors:
                await rest_of_litellms(self, cache, keys, parent_otel_span)
            return None
        own = cache.__dict__
        if native_tail is not None:
            # the lines below to the PrefetchedUsage in C (router_usage_prefetch, session 24: the
            # same reads, the same requests() call, in their order): True made, False LiteLLM's
            # read, None the memory tier's read, Ellipsis (an odd dict or keys) these lines
            done = native_tail(self, own, absent, requests, memory_cls, get_ok, batch_ok, keys, key_set, key_values,
                               usage_parts)
            if done is True:
                return None
            if done is False:
                with callers_errors:
                    await rest_of_litellms(self, cache, keys, parent_otel_span)
                return None
            if done is None:
                await memory_read(self, cache, keys, key_set, parent_otel_span)
                return None
        memory = own.get("in_memory_cache", absent)
        if (own.get("redis_cache", absent) is not None or "async_batch_get_cache" in own
                or "_prepare_batch_get" in own or requests() is not None):
            # Redis, a request batch or a read of its own: LiteLLM's read
            with callers_errors:
                await rest_of_litellms(self, cache, keys, parent_otel_span)
            return None
        memory_own = getattr(memory, "__dict__", None)
        if (type(memory) is memory_cls and type(memory_own) is dict
                and memory_cls.__dict__.get("get_cache") in get_ok
                and memory_cls.__dict__.get("async_batch_get_cache") in batch_ok
                and "get_cache" not in memory_own and "async_batch_get_cache" not in memory_own
                and type(memory_own.get("cache_dict")) is dict and memory_own["cache_dict"].keys().isdisjoint(keys)):
            # no key in memory: each get_cache answers None; no Redis: nothing else is read
            # (dict(zip(keys, [None] * n)) is dict.fromkeys(keys): the same keys in the same order;
            # key_values: a fresh copy of the kept one for kept keys)
            found = key_values if key_values is not None else dict.fromkeys(keys)
        else:
            await memory_read(self, cache, keys, key_set, parent_otel_span)
            return None
        prefetched(self, keys, key_set, found)
        return None

    async def memory_read(self, cache, keys, key_set, parent_otel_span):
        """The memory tier's read under the usage target (no Redis, no request batch), then the
        PrefetchedUsage of its values."""
        token = target_var.set(usage_target)
        try:
            with callers_errors:
                values = await cache.async_batch_get_cache(keys=list(keys), parent_otel_span=parent_otel_span)
        finally:
            restore(target_var, token)
        with callers_errors:
            found = None if values is None else dict(zip(keys, values))
        prefetched(self, keys, key_set, found)

    def prefetched(self, keys, key_set, found):
        if usage_plain:
            # PrefetchedUsage(keys=..., values=...): its generated __init__'s two field writes
            # (object.__setattr__ on the instance's dict), made on the instance's dict
            usage = object_new(usage_cls)
            fields = usage.__dict__
            fields["keys"] = key_set if key_set is not None else frozenset(keys)
            fields["values"] = found
            self.prefetched_usage = usage
        else:
            with callers_errors:
                self.prefetched_usage = g["PrefetchedUsage"](keys=frozenset(keys), values=found)

    # the read's tail in C where the core has it, for the plain PrefetchedUsage only
    native_tail = _native_or("router_usage_prefetch", None) if usage_plain else None
    usage_parts = (usage_cls, object_new)

    read_usage.__doc__ = original.__doc__
    return read_usage
