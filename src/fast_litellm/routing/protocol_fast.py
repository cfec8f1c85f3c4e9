"""Exact, faster replacements for the fixed cost of one LiteLLM 1.110.2
Router pick (the step protocol around LiteLLM's Rust core), flag
``rust_routing``.

* ``router_rust.core:_start_fields`` - the request fields router-core
  routes on.  LiteLLM validates them with pydantic (``RequestStartFields``)
  and dumps them back; for a request that carries none of the validated
  fields (no fallbacks lists, ``max_fallbacks``, ``specific_deployment``,
  ``disable_fallbacks``, ``cooldown_time``, ``_router_weights``, nor a
  ``routing_strategy``), what validation yields is known: the defaults,
  plus the team ids read by LiteLLM's own helpers, exact ``str`` or None,
  which validate to themselves.  ~10 us of a 10-deployment pick.
* ``router_deprecated:_unreserved_picker`` - what every read of the
  deprecated ``Router.async_get_available_deployment`` returns.  LiteLLM
  looks ``_core_async_get_available_deployment`` up through the Router
  facade and the core's ``__getattr__`` (two AttributeErrors, a settings
  dict built) and wraps a new closure with ``functools.wraps`` (~8 us).
  Here the look-up's answer ("none assigned") is proven from the objects
  it would read, and the same new pair of function objects is made from
  LiteLLM's own code objects, with the attributes ``functools.wraps``
  sets.  The read's side effects (``_note``: frame walk, tally,
  ``DeprecationWarning``) stay LiteLLM's: the descriptor is not patched,
  as its warning is attributed by frame depth and a wrapper frame would
  move it.
* ``RustCore._pre_route`` - the pre-routing hook on a router with no
  pre-routing strategy, plugin, custom strategy or assigned pick:
  LiteLLM's stamps in LiteLLM's order, without the pure searches between.
* ``RustCore._prefetch_usage_selector`` - None without resolving the
  pick's group when neither the request nor the router can select
  usage-based-routing-v2.
* ``_Selection._served`` and ``_narrowing_fields`` - the picked record
  and a request's narrowing fields when LiteLLM's helpers would return
  them unchanged / empty.
* ``RustCore.select`` - the fused pick: LiteLLM's selection set-up and
  step loop with the answers above inlined; while the callback-filter
  stage's answer is known to be the identity it drives a twin Rust handle
  without that stage (``shadow_handle``; its call made by the set-up in
  place of LiteLLM's), moving the call back onto a handle with the stage
  (LiteLLM's, or a replica at the twin's snapshot) if a filter is
  registered at the point where LiteLLM's handle asks that stage (right
  after its cooldown read).

Each builds what it reads from LiteLLM lazily at its first call (the
engine applies patches while ``litellm.router`` is still importing) and
checks there that every source it relies on is the pinned one
(``pins.DEPENDENCIES``); a failed check leaves it declining every call.
Inputs outside these raise :class:`NotAccelerated` before any side effect.
"""
from __future__ import annotations

import abc as _ABC
import sys
import types
from collections.abc import Mapping as _MAPPING
from typing import Any, Callable, Dict

from fast_litellm import flags
from fast_litellm.patching.registry import NotAccelerated, callers_error, callers_errors, original_if_ours

from . import _pydantic_guard, litellm_fast, shadow_handle
from .litellm_fast import str_keyed  # every key an exact str (natively a dict walk)


def _check_pinned(targets: Any) -> None:
    """Each source a fast path relies on is the pinned one
    (``guards.require_sources``)."""
    from fast_litellm.patching import guards

    guards.require_sources(targets)


def _lazily(build: Callable[[], Any], refused: str) -> Callable[[], Any]:
    """``parts()``: what ``build()`` reads from LiteLLM, built at the first
    call (the engine applies patches while ``litellm.router`` is still
    importing); a build that fails (a pin that does not hold) is
    remembered, and every call then raises ``NotAccelerated(refused)``."""
    built: list = []

    def parts() -> Any:
        if not built:
            try:
                built.append(build())
            except Exception:  # noqa: BLE001 - a changed LiteLLM: never accelerate
                built.append(None)
        if built[0] is None:
            raise NotAccelerated(refused)
        return built[0]

    return parts


def _dict_tags() -> Any:
    """The native ``router_dict_tags`` (None without it)."""
    from fast_litellm._native_loader import NATIVE

    return getattr(NATIVE, "router_dict_tags", None)


def _same(a: tuple, b: tuple) -> bool:
    """The same objects (exact ints: the same value, as a counter read twice)."""
    return len(a) == len(b) and all(x is y or (type(x) is int and type(y) is int and x == y) for x, y in zip(a, b))


class _PyMemoBase:
    """``_StateMemo.get`` in Python, where the native ``RouterMemo`` (its
    ``get`` in C: no Python frame, ~10 calls a pick) is missing."""

    __slots__ = ("_entry",)

    def __init__(self) -> None:
        self._entry: Any = None

    def get(self, first: Any, second: Any) -> Any:
        """The value kept for (``first``, ``second``) (identities) while
        every tagged dict is unchanged, else None."""
        entry = self._entry
        if entry is not None and entry[0] is first and entry[1] is second and entry[3](entry[2], entry[4]) is True:
            return entry[5]
        return None


_DICT_TAGS = _dict_tags()


def _memo_base() -> Any:
    from fast_litellm._native_loader import NATIVE

    native = getattr(NATIVE, "RouterMemo", None)
    # (the native get compares the tags itself: only where router_dict_tags keeps them)
    return native if native is not None and _DICT_TAGS is not None else _PyMemoBase


class _StateMemo(_memo_base()):  # type: ignore[misc]
    """The last router state a fast path's guard checks accepted, kept while
    every dict those checks read is the same object holding the same
    version tag.

    The checks read only dicts (instance, class and module dicts; a type
    stands for its own dict) and the types of objects held in them.  On
    CPython <= 3.11 every change to a dict gives it a new version tag from
    one global counter (PEP 509's ``ma_version_tag``; a type's dict changes
    on every attribute write or delete on the type), so while each dict
    read still holds the tag it had when the checks passed, each read would
    find what it found then (``router_dict_tags``, native: ~0.05 us for a
    dozen dicts).  What a tag does not cover stays a per-pick check at the
    call site: which dict an object uses (``__dict__`` can be rebound), an
    object's type (``__class__`` can be assigned) and the contents of lists.
    Without tags (CPython >= 3.12, no native module) nothing is kept and
    every call checks in full.  Only accepted states are kept: a declined
    one is checked again at the next call, as before.

    The memo holds strong references to the last state's dicts and objects
    (so no address is reused while kept): one router's, until another
    router's state replaces it."""

    __slots__ = ("_tags",)

    def __init__(self) -> None:
        self._tags: Any = None
        self._entry: Any = None

    # get(first, second): the base's (RouterMemo's, in C, comparing the tags as
    # router_dict_tags does; or _PyMemoBase's)

    def remember(self, first: Any, second: Any, check: Callable[[], Any]) -> Any:
        """``check()`` (which raises NotAccelerated to decline) returns
        (dicts read, value); the value is returned, and kept when the tags
        can be read: the checks run once, the tags are read, and the checks
        run again; only when the second run read the same dicts and found
        the same value is the entry kept, so everything it found was read at
        or after the tags (a change after that changes a tag)."""
        objects, value = check()
        tags = self._tags
        if tags is None:
            # (the native function found at import: no import statement during a pick)
            tags = self._tags = _DICT_TAGS or (lambda objects, recorded=None: None)
        recorded = tags(objects)
        if recorded is not None:
            objects_again, value_again = check()
            if _same(objects, objects_again) and _same(value, value_again):
                self._entry = (first, second, objects, tags, recorded, value)
        return value


_CORE = "litellm.router_rust.core"

# --------------------------------------------------------------------------
# litellm.router_rust.core:_start_fields
# --------------------------------------------------------------------------

# The RequestStartFields inputs whose validation or dump this path does not
# reproduce: a request carrying any of them runs LiteLLM's code.
_VALIDATED_KEYS = (
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "max_fallbacks",
    "specific_deployment",
    "disable_fallbacks",
    "cooldown_time",
    "_router_weights",
)
_START_FIELD_SOURCES = (
    _CORE + ":_start_fields",
    _CORE + ":_request_start_fields",
    _CORE + ":_listing_team_id",
    _CORE + ":RequestStartFields",
    "litellm.litellm_core_utils.routing_common_utils:get_request_team_id",
    "litellm.router_rust.steps.access:caller_fields",
    "litellm.router_rust.surface.retries:request_retry_fields",
    "litellm.router_rust.steps.selection:normalize_strategy",
    "litellm.litellm_core_utils.routing_common_utils:request_user_api_key_auth",
    "litellm.litellm_core_utils.core_helpers:as_str_mapping",
)
_RCU = "litellm.litellm_core_utils.routing_common_utils"


def _start_helpers_state(core_globals: Dict[str, Any], helpers: Any) -> Any:
    """Whether the helpers ``_start_fields`` calls are the pinned ones, as
    bound where LiteLLM's code looks them up, with ``Mapping`` the ABC they
    test against and None not a ``Mapping`` (at this ABC cache token):
    (dicts read, (the token,)); else (a None among them: not kept; ()).
    Run per call where no dict tags keep it (3.12+): no import statement
    here (an import hook would see ours), ``_ABC`` / ``_MAPPING`` instead."""
    (team_id, listing, retry_fields, caller, auth, as_mapping, rcu, access, core_helpers) = helpers
    mapping = _MAPPING
    token = _ABC.get_cache_token()
    if (core_globals.get("get_request_team_id") is not team_id or core_globals.get("_listing_team_id") is not listing
            or core_globals.get("request_retry_fields") is not retry_fields
            or core_globals.get("caller_fields") is not caller or core_globals.get("as_str_mapping") is not as_mapping
            or access.get("request_user_api_key_auth") is not auth or rcu.get("Mapping") is not mapping
            or core_helpers.get("Mapping") is not mapping or isinstance(None, mapping)):
        return (None,), ()
    return (core_globals, rcu, access, core_helpers), (token,)


def _start_buckets(request: Any) -> Any:
    """The request's two metadata buckets (each None or an exact dict) when
    ``_start_fields``' validated model is known without pydantic: an exact
    dict with exact-``str`` keys (LiteLLM's before-validator compares every
    key), none of ``_VALIDATED_KEYS`` and no ``routing_strategy`` (or None);
    else a str saying why not."""
    if type(request) is not dict:
        return "request is not a dict"
    for key in request:
        if type(key) is not str:
            return "a request key is not a str"
    for key in _VALIDATED_KEYS:
        if key in request:
            return "the request carries a validated start field"
    if request.get("routing_strategy") is not None:
        return "the request names a routing strategy"
    metadata = request.get("metadata")
    litellm_metadata = request.get("litellm_metadata")
    if (metadata is not None and type(metadata) is not dict) or (
            litellm_metadata is not None and type(litellm_metadata) is not dict):
        return "a metadata bucket is not a dict"
    for bucket in (metadata, litellm_metadata):
        if bucket is None:
            continue
        # exact-str keys (a str subclass's own __eq__ runs in the lookups of an equal name, and
        # the helpers' lookups would then run twice: here and in the fallback), and a team id
        # LiteLLM's helpers read without code (their truth test of a str subclass may run its
        # __bool__ / __len__): decided before any helper runs
        if not str_keyed(bucket):
            return "a metadata bucket has a key that is not an exact str"
        team_id = bucket.get("user_api_key_team_id")
        if team_id is not None and type(team_id) is not str and type(team_id) is not int:
            return "a team id is not an exact str"
    return metadata, litellm_metadata


def _start_helpers() -> Any:
    """The helpers ``_start_fields`` calls and the module dicts they are read
    from (``_start_helpers_state``'s second argument); LiteLLM's core module
    is loaded."""
    import importlib

    core = sys.modules[_CORE]
    rcu = importlib.import_module(_RCU)
    access = importlib.import_module("litellm.router_rust.steps.access")
    core_helpers = importlib.import_module("litellm.litellm_core_utils.core_helpers")
    return (core.get_request_team_id, core._listing_team_id, core.request_retry_fields, core.caller_fields,
            access.request_user_api_key_auth, core.as_str_mapping, rcu.__dict__, access.__dict__,
            core_helpers.__dict__)


def _read_start_fields(metadata: Any, litellm_metadata: Any) -> Any:
    """What LiteLLM's start-field helpers give a request with no
    ``num_retries`` whose buckets (None or exact dicts, ``_start_buckets``)
    hold no auth object and team ids that are None or exact str, while the
    helpers are the pinned ones and None is no ``Mapping``
    (``_start_helpers_state``): their reads, made here (None is no
    ``Mapping``, an exact dict is one), as a new dict; None for anything else
    (then the helpers run).  The caller has found the buckets' keys exact strs
    (``_start_buckets``, or the fused pick's set-up: ``str_keyed``), so no
    lookup here runs code: a ``str`` subclass key with its own ``__eq__`` is
    compared by the lookup of an equal name, and these lookups are not
    LiteLLM's in number or order."""
    team_id = None
    for bucket in (metadata, litellm_metadata):  # get_request_team_id
        if bucket is None:
            continue
        if bucket.get("user_api_key_auth") is not None:
            return None  # caller_fields reads it (its truth value first)
        found = bucket.get("user_api_key_team_id")
        if found is not None and type(found) is not str:
            return None
        if team_id is None and found:
            team_id = found
    listing_team_id = metadata.get("user_api_key_team_id") if metadata is not None else None  # _listing_team_id
    fields: Dict[str, Any] = {}
    if team_id:
        fields["team_id"] = team_id
    if listing_team_id is not None:
        fields["listing_team_id"] = listing_team_id
    return fields


def _inline_start_fields() -> Callable[[Any, Any], Any]:
    """``inline_fields(metadata, litellm_metadata)``: ``_read_start_fields``
    while the helpers' bindings are the pinned ones (kept by a guard memo)
    and None is no ``Mapping`` at the ABC cache token read; None otherwise
    (then the helpers run).  Built with the fast path (LiteLLM's core module
    is loaded then)."""
    import abc

    core_globals = sys.modules[_CORE].__dict__
    helpers = _start_helpers()
    cache_token = abc.get_cache_token
    memo = _StateMemo()  # the helpers' bindings (_start_helpers_state)

    def inline_fields(metadata, litellm_metadata):
        token = cache_token()  # read once: a registration after it fails the comparison below
        known = memo.get(core_globals, helpers)
        if known is None or (known and token != known[0]):
            known = memo.remember(core_globals, helpers, lambda: _start_helpers_state(core_globals, helpers))
        if not known or token != known[0]:
            return None
        return _read_start_fields(metadata, litellm_metadata)

    return inline_fields


def make_start_fields(original: Callable[..., Any]) -> Callable[..., Any]:
    """``_start_fields(request)``: ``{**request_retry_fields(num_retries),
    **validated-and-dumped start fields, **caller_fields(request)}``.

    With none of ``_VALIDATED_KEYS`` in the request and no
    ``routing_strategy`` (or None), the validated model holds its defaults
    and the three fields ``_request_start_fields`` sets: ``team_id`` and
    ``listing_team_id`` (exact ``str`` or None: they validate to
    themselves) and ``routing_strategy=None``; the dump keeps, of those, a
    truthy ``team_id`` and a non-None ``listing_team_id``, in field order.
    Validation cannot fail there.  The request must be a plain dict with
    exact-``str`` keys (LiteLLM's before-validator compares every key) and
    its metadata buckets plain dicts or absent, so reading them runs no
    code; the helpers that read them are LiteLLM's own, called in LiteLLM's
    order."""
    _check_pinned(_START_FIELD_SOURCES)
    core = sys.modules[_CORE]
    inline_fields = _inline_start_fields()
    validation = _pydantic_guard.shared(_pydantic_guard.start_fields)

    def _start_fields(request):
        if not validation.check():
            raise NotAccelerated("RequestStartFields' validation or dump is replaced: it must run")
        buckets = _start_buckets(request)
        if type(buckets) is str:
            raise NotAccelerated(buckets)
        metadata, litellm_metadata = buckets
        if request.get("num_retries") is None:
            fields = inline_fields(metadata, litellm_metadata)
            if fields is not None:
                return fields
        team_id = core.get_request_team_id(request)
        listing_team_id = core._listing_team_id(request)
        if (team_id is not None and type(team_id) is not str) or (
            listing_team_id is not None and type(listing_team_id) is not str
        ):
            raise NotAccelerated("a team id is a str subclass")
        fields: Dict[str, Any] = {}
        if team_id:
            fields["team_id"] = team_id
        if listing_team_id is not None:
            fields["listing_team_id"] = listing_team_id
        return {
            **core.request_retry_fields(request.get("num_retries")),
            **fields,
            **core.caller_fields(request),
        }

    _start_fields.__doc__ = original.__doc__
    return _start_fields


# --------------------------------------------------------------------------
# litellm.router_deprecated:_unreserved_picker
# --------------------------------------------------------------------------

_PICK_ATTRIBUTE = "async_get_available_deployment"
_ASSIGNED = "_core_async_get_available_deployment"
_DEPRECATED = "litellm.router_deprecated"
_NO_ENTRY = object()
_ATTRIBUTE_SOURCES = (
    _DEPRECATED + ":_async_picker",
    _DEPRECATED + ":_unreserved_picker",
    _DEPRECATED + ":_without_reserving",
    _DEPRECATED + ":_public_attribute_error",
    "litellm.router:Router.__getattribute__",
    _CORE + ":RustCore.__getattr__",
    _CORE + ":RustCore._settings_attribute",
    _CORE + ":RustCore._unset_attributes.fget",
    _CORE + ":Resolved.read",
    "litellm.router_rust.invoke.endpoints:RustEndpoints.member",
    "litellm.router_rust.invoke.endpoints:generic_plan",
    "litellm.router_rust.surface.settings:argument_attribute",
)


# --------------------------------------------------------------------------
# litellm.router:Router.__getattribute__ (no Python frame; session 22)
# --------------------------------------------------------------------------

_ROUTER_MODULE = "litellm.router"


def make_router_getattribute(original: Callable[..., Any]) -> Any:
    """``Router.__getattribute__`` as the native ``RouterGetattribute``: the
    same steps with no Python frame, and no AttributeError made and caught
    where ``object.__getattribute__`` finds nothing (``router.select``, read
    by LiteLLM's pick closure every pick, is the core's: a miss on the facade
    first).  It checks at every call that the builtins LiteLLM's function
    reads (``object``, ``AttributeError``, ``getattr``, ``type``) are the
    interpreter's and not shadowed in ``litellm.router``; anything else runs
    ``original`` from C (``bind_router_deprecated.c``).  Unwrapped
    (``wrap=False``): a Python wrapper would add the frame this removes, and
    would itself be read through ``__getattribute__``; ``switch`` turns it on
    and off in place for the tests and the bench."""
    import builtins

    from fast_litellm._native_loader import NATIVE

    native_type = getattr(NATIVE, "RouterGetattribute", None)
    if native_type is None:
        raise NotAccelerated("no native RouterGetattribute (needs CPython 3.11+)")
    module = sys.modules.get(_ROUTER_MODULE)
    if module is None:
        raise NotAccelerated("litellm.router is not loaded")
    module_globals = module.__dict__
    if type(original) is not types.FunctionType or original.__globals__ is not module_globals:
        raise NotAccelerated("not LiteLLM's Router.__getattribute__")
    function_builtins = original.__builtins__
    if function_builtins is not builtins.__dict__:
        raise NotAccelerated("LiteLLM's module reads other builtins")
    getter = native_type(original, module_globals, function_builtins, (object, AttributeError, getattr, type))
    getter.__fast_litellm_patch__ = "routing.router_getattribute"
    getter.__fast_litellm_original__ = original
    getter.__fast_litellm_self__ = getter  # (registry.mark_ours: the engine installs it unwrapped)
    getter.__wrapped__ = original
    getter.__doc__ = original.__doc__
    getter.__name__ = original.__name__
    getter.__qualname__ = original.__qualname__
    return getter


def _router_getattribute_is(found: Any, expected: Any) -> bool:
    """``found`` (a ``Router.__dict__["__getattribute__"]`` read) is LiteLLM's
    ``expected``, or the native one over it (the same steps)."""
    return found is expected or (type(found) is _ROUTER_GETATTRIBUTE_TYPE and found.original is expected)


def _native_router_getattribute_type() -> Any:
    from fast_litellm._native_loader import NATIVE

    return getattr(NATIVE, "RouterGetattribute", None) or _NO_ENTRY


_ROUTER_GETATTRIBUTE_TYPE = _native_router_getattribute_type()


# --------------------------------------------------------------------------
# litellm.router_deprecated:_DeprecatedAttribute.__get__ (no Python frame)
# --------------------------------------------------------------------------

_DEPRECATED_GET_SOURCES = (
    _DEPRECATED + ":_note",
    _DEPRECATED + ":_as_router",
    _DEPRECATED + ":_public_attribute_error",
)  # (not Router's hook: _note's walk past it is done as _note does it, whatever the hook's code;
#    the patch is built while litellm.router is still importing, before Router exists)


def make_deprecated_get(original: Callable[..., Any]) -> Any:
    """``_DeprecatedAttribute.__get__`` as the native ``DeprecatedGet``: the
    same steps with no Python frame of its own, so ``_note``'s frame walk,
    tally and warning (stacklevel counted from the frame current at the
    read) name the frame LiteLLM's names; anything it does not cover
    (class-level reads, replaced globals or builtins, a replaced
    ``warnings.warn`` or ``sys._getframe``, odd frames) runs ``original``
    from C, which adds no frame either (``bind_router_deprecated.c``).
    Unwrapped (``wrap=False``): a Python wrapper's frame is what this
    avoids; the engine applies it only while the flag is fully on, and
    ``switch`` (a list whose item 0 is True) lets the tests and the bench
    turn it on and off in place."""
    import builtins
    import collections
    import warnings

    import _warnings

    from fast_litellm._native_loader import NATIVE

    native_type = getattr(NATIVE, "DeprecatedGet", None)
    if native_type is None:
        raise NotAccelerated("no native DeprecatedGet (needs CPython 3.11+)")
    _check_pinned(_DEPRECATED_GET_SOURCES)
    deprecated = sys.modules.get(_DEPRECATED)
    if deprecated is None:
        raise NotAccelerated("litellm.router_deprecated is not loaded")
    module_globals = deprecated.__dict__
    cls = module_globals.get("_DeprecatedAttribute")
    current = cls.__dict__.get("__get__") if cls is not None else None
    if (type(original) is not types.FunctionType or cls is None
            or original_if_ours(current, current) is not original  # (or ours over it)
            or original.__globals__ is not module_globals):
        raise NotAccelerated("not LiteLLM's _DeprecatedAttribute.__get__")
    function_builtins = original.__builtins__
    if function_builtins is not builtins.__dict__:
        raise NotAccelerated("LiteLLM's module reads other builtins")
    if module_globals.get("sys") is not sys or module_globals.get("warnings") is not warnings:
        raise NotAccelerated("litellm.router_deprecated's sys / warnings are not the modules")
    if warnings.warn is not _warnings.warn or type(sys._getframe) is not types.BuiltinFunctionType:
        raise NotAccelerated("warnings.warn or sys._getframe is not the interpreter's own")
    for name in ("_note", "_as_router", "_public_attribute_error"):
        if module_globals[name].__globals__ is not module_globals or module_globals[name].__builtins__ is not (
                function_builtins):
            raise NotAccelerated("LiteLLM's %s reads another namespace" % name)
    expected_globals = (module_globals["_note"], module_globals["_as_router"],
                        module_globals["_public_attribute_error"], sys, warnings)
    expected_builtins = (isinstance, str, getattr, DeprecationWarning, AttributeError, _BUILTIN_IMPORT)
    if builtins.__dict__.get("__import__") is not _BUILTIN_IMPORT:
        raise NotAccelerated("builtins.__import__ is replaced")
    tail = deprecated_get_tail(module_globals)
    if tail.__builtins__ is not function_builtins:
        raise NotAccelerated("LiteLLM's module reads other builtins")
    getter = native_type(original, cls, module_globals, function_builtins, expected_globals, expected_builtins,
                         warnings.warn, sys._getframe, collections.Counter, tail)
    # marked as the engine marks its wrappers: LiteLLM's function behind it (the tests' and the
    # bench's stock side, and the guards' pinned-source checks, look it up there)
    getter.__fast_litellm_patch__ = "routing.deprecated_get"
    getter.__fast_litellm_original__ = original
    getter.__fast_litellm_self__ = getter  # (registry.mark_ours)
    getter.__wrapped__ = original
    getter.__doc__ = original.__doc__
    return getter


# What LiteLLM's __get__ (its source pinned as the patch's target) does after
# _note, for the native read to hand over to when the warning ran code that
# changed what its checks found: compiled in LiteLLM's module namespace, so
# every global and builtin it reads is read there, when the bytecode reads it.
_DEPRECATED_GET_TAIL = """
def tail(self, obj):
    router = _as_router(obj)
    try:
        if obj.__dict__.get("_core") is None:
            return getattr(obj, "_core_" + self.name)
        return self.read(router)
    except AttributeError as e:
        raise _public_attribute_error(router, "_core_" + self.name, self.name, e) from None
"""


def deprecated_get_tail(module_globals: Dict[str, Any]) -> Any:
    """``_DeprecatedAttribute.__get__``'s steps after ``_note`` as a function of
    (descriptor, instance) reading ``module_globals`` (LiteLLM's module dict:
    its builtins too); nothing is written to that dict."""
    code = _nested_code(compile(_DEPRECATED_GET_TAIL, "<fast_litellm deprecated_get tail>", "exec"), "tail")
    return types.FunctionType(code, module_globals, "__get__")


def _code_named(function: Any, name: str) -> types.CodeType:
    return _nested_code(function.__code__, name)


def _nested_code(code: types.CodeType, name: str) -> types.CodeType:
    for const in code.co_consts:
        if isinstance(const, types.CodeType) and const.co_name == name:
            return const
    raise RuntimeError("%s has no nested %s" % (code.co_qualname if hasattr(code, "co_qualname") else code.co_name,
                                                name))


def _assigned_pick_state(router_state: Any, router_type: Any, core: Any, checks: Any) -> Any:
    """Whether ``getattr(router, '_core_async_get_available_deployment',
    None)`` is None through LiteLLM's "not found" path, read from the
    objects that path reads (no code runs: RustCore's metaclass is
    ``type``, checked once, so its class-level look-up runs no hook; one
    that finds anything, even on ``type``, declines): NotAccelerated if
    not, else (the dicts read, (the core's endpoints or None, its resolved
    settings or None, the two MROs walked, the core's and the endpoints'
    ``__dict__``)), for ``_StateMemo``: what a pick must still check itself
    is those objects' types, the MROs' identity and that those dicts are
    still the objects' ``__dict__`` (it can be rebound)."""
    (rust_core, getattr_hook, settings_attribute, unset_attributes, endpoints_type, member, resolved_type,
     router_getattribute) = checks
    decline = NotAccelerated("a pick may be assigned")
    if not _router_getattribute_is(router_type.__dict__.get("__getattribute__"), router_getattribute):
        raise decline
    if _ASSIGNED in router_state:
        raise decline
    router_mro = router_type.__mro__
    for klass in router_mro:  # (Router's metaclass has a __getattr__: no getattr here)
        if _ASSIGNED in klass.__dict__:
            raise decline
    core_type = type(core)
    if core_type is not rust_core:
        raise decline
    state = core.__dict__
    if core_type.__getattribute__ is not _OBJECT_GETATTRIBUTE:
        raise decline  # a custom look-up would run code before __getattr__
    if _ASSIGNED in state or getattr(core_type, _ASSIGNED, _ABSENT) is not _ABSENT:
        raise decline
    if "_settings_attribute" in state:
        # (session 23 hunt) RustCore.__getattr__ calls self._settings_attribute(name): one set
        # on the core instance was called by stock's look-up, not by ours
        raise decline
    klass_dict = core_type.__dict__
    if (klass_dict.get("__getattr__") is not getattr_hook
            or klass_dict.get("_settings_attribute") is not settings_attribute
            or klass_dict.get("_unset_attributes") is not unset_attributes):
        raise decline
    deleted = state.get("_deleted", ())
    if type(deleted) is not frozenset or _ASSIGNED in deleted:
        raise decline
    if state.get("_custom_strategy") is not None:
        raise decline
    endpoints = state.get("_endpoints")
    if (type(endpoints) is not endpoints_type or endpoints_type.__dict__.get("member") is not member
            or "member" in getattr(endpoints, "__dict__", ())):  # (and none set on the endpoints: as above)
        raise decline
    core_mro = core_type.__mro__
    read = (router_state, *router_mro, state, *core_mro, endpoints_type)
    # _settings_attribute: every value it reads must be readable without code
    if "_resolved" not in state:
        return read, (endpoints, None, router_mro, core_mro, state, None)  # the __getattr__ raises before settings
    resolved = state["_resolved"]
    if type(resolved) is not resolved_type or "_request_timeout" not in state:
        raise decline
    endpoints_state = endpoints.__dict__
    if "_default_priority" not in endpoints_state:
        raise decline
    plain = state.get("_plain")
    legacy = state.get("_legacy")
    if type(plain) is not dict or type(legacy) is not dict or _ASSIGNED in plain or _ASSIGNED in legacy:
        raise decline
    unset = state.get("_unset_attributes")
    if unset is not None and type(unset) is not frozenset:
        raise decline
    return (*read, endpoints_state, plain, legacy), (endpoints, resolved, router_mro, core_mro, state, endpoints_state)


_ABSENT = object()
_OBJECT_GETATTRIBUTE = object.__getattribute__

# An import statement of a loaded module is a sys.modules read only while
# ``builtins.__import__`` is the interpreter's own (a replacement, e.g. an
# instrumentation hook, is called by every import statement): the inlined
# import statements below check it per call, and so does every patch that
# skips LiteLLM code making import statements (``_import_hook.py``).
from ._import_hook import BUILTIN_IMPORT as _BUILTIN_IMPORT, BUILTINS as _BUILTINS, _native_or  # noqa: E402


def _python_span_absent(request: Any, names: tuple) -> bool:
    """Whether LiteLLM's ``get_parent_otel_span_from_kwargs(request)`` finds no
    span by reads that run no code (session 25): exact str-keyed dicts (its
    ``get`` and ``in`` run no ``__eq__``), ``metadata`` None or such a dict
    without the key (its ``or {}`` a dict's truth), ``litellm_params`` None, or
    such a dict whose ``metadata`` is None or such a dict without it, and no key
    at the top.  Any other shape: False (its call: a span, a Mapping's methods,
    its logged error).  ``names``: ("metadata", "litellm_params", the key)."""
    metadata_name, params_name, key = names
    if type(request) is not dict or not str_keyed(request):
        return False
    if not _span_bucket_clear(request.get(metadata_name), key):
        return False
    params = request.get(params_name)
    if params is not None:
        if type(params) is not dict or not str_keyed(params):
            return False
        if not _span_bucket_clear(params.get(metadata_name), key):
            return False
    return key not in request


def _span_bucket_clear(bucket: Any, key: str) -> bool:
    """A metadata bucket holding no span: None, or an exact str-keyed dict without ``key``
    (bind_router.c's span_bucket_clear)."""
    return bucket is None or (type(bucket) is dict and str_keyed(bucket) and key not in bucket)


# the same checks in C where the core is built (bind_router.c, router_span_absent)
_span_absent = _native_or("router_span_absent", _python_span_absent)


def _picker_parts() -> Any:
    """What the fast picker needs, read once LiteLLM's router modules are
    loaded (the patch is applied while ``litellm.router`` is still being
    imported, so this runs at the first call): pins checked, LiteLLM's
    closure code objects, and the proof that ``RustCore.__getattr__``
    serves nothing under the assigned-pick name (decided by constants)."""
    _check_pinned(_ATTRIBUTE_SOURCES)
    from litellm import router as router_module
    from litellm import router_deprecated as deprecated
    from litellm.router_rust import core as core_module
    from litellm.router_rust.invoke import endpoints as endpoints_module
    from litellm.router_rust.steps.selection import SELECTOR_ATTRIBUTES
    from litellm.router_rust.surface import settings as settings_module

    pick_code = _code_named(deprecated._async_picker, _PICK_ATTRIBUTE)
    wrapper_code = _code_named(deprecated._without_reserving, "looked_up")
    if pick_code.co_freevars != ("router",) or wrapper_code.co_freevars != ("lookup",):
        raise RuntimeError("LiteLLM's picker closures changed")
    endpoints_type = endpoints_module.RustEndpoints
    for names in (endpoints_module._UNBRANCHED, endpoints_module._ASSISTANTS, endpoints_module._MANAGED_AGENTS,
                  endpoints_module._SYNC_VECTOR_STORE_FILES, endpoints_module._DIRECT_ENDPOINTS,
                  SELECTOR_ATTRIBUTES.values(), settings_module._ARGUMENT_ATTRIBUTES,
                  settings_module._CONSTANT_ATTRIBUTES):
        if _ASSIGNED in names:
            raise RuntimeError("%s is served by the core" % _ASSIGNED)
    if _ASSIGNED in ("create_interaction", "responses", "healthy_deployments", "get_model_group_io_token_usage",
                     "scheduler", "chat") or endpoints_module.generic_plan(_ASSIGNED) is not None:
        raise RuntimeError("%s is served by the core" % _ASSIGNED)
    rust_core = core_module.RustCore
    if type(rust_core) is not type:
        raise RuntimeError("RustCore has a metaclass")
    checks = (
        rust_core,
        rust_core.__dict__["__getattr__"],
        rust_core.__dict__["_settings_attribute"],
        rust_core.__dict__["_unset_attributes"],
        endpoints_type,
        endpoints_type.__dict__["member"],
        core_module.Resolved,
        # (LiteLLM's: the native one over it holds it as ``original``)
        getattr(router_module.Router.__dict__["__getattribute__"], "original",
                router_module.Router.__dict__["__getattribute__"]),
    )
    # the closure's annotations, as its def evaluates them (equal values)
    annotations = _annotations_of(pick_code)
    # its __qualname__, as its def sets it: a function made from a code object
    # takes the code's co_qualname, which Python 3.10 code objects lack (the
    # bare name instead); None where the default is already LiteLLM's
    qualname = "%s.<locals>.%s" % (deprecated._async_picker.__qualname__, pick_code.co_name)
    if getattr(pick_code, "co_qualname", None) == qualname:
        qualname = None
    return (router_module.Router, checks, pick_code, wrapper_code, annotations, qualname, deprecated.__dict__,
            deprecated._async_picker, deprecated._without_reserving, _picker_stdlib_entries(deprecated.__dict__))


def _picker_stdlib_entries(deprecated_globals: Dict[str, Any]) -> Any:
    """The standard-library bindings LiteLLM's ``_unreserved_picker`` calls
    through and the fast picker does not (session 24 hunt: a user's
    ``functools.wraps``, ``functools.update_wrapper`` or ``inspect.ismethod``
    replacement saw a call every pick from stock and none from ours): the
    module globals ``functools`` / ``inspect``, ``wraps``, ``update_wrapper``,
    ``partial`` (what ``wraps`` builds), ``ismethod`` and what those read
    (``types.MethodType``; ``getattr`` / ``setattr`` / ``isinstance``, none
    shadowed in those modules nor replaced in builtins), as
    ``router_entries_same`` entries; the functions checked at build to be the
    standard library's own (one replaced before this build: never fast)."""
    import builtins
    import functools
    import inspect

    import _functools

    for fn, module, qualname in ((functools.wraps, functools, "wraps"),
                                 (functools.update_wrapper, functools, "update_wrapper"),
                                 (inspect.ismethod, inspect, "ismethod")):
        if not _pydantic_guard._own(fn, module, qualname):
            raise RuntimeError("%s.%s is not the standard library's" % (module.__name__, qualname))
    if functools.partial is not _functools.partial or types.MethodType is not type(_picker_stdlib_entries.__get__(0)):
        raise RuntimeError("functools.partial / types.MethodType replaced")
    found_builtins = vars(builtins)
    entries = (
        deprecated_globals, "functools", functools,
        deprecated_globals, "inspect", inspect,
        vars(functools), "wraps", functools.wraps,
        vars(functools), "update_wrapper", functools.update_wrapper,
        vars(functools), "partial", functools.partial,
        vars(functools), "getattr", _ABSENT,
        vars(functools), "setattr", _ABSENT,
        vars(inspect), "ismethod", inspect.ismethod,
        vars(inspect), "types", types,
        vars(inspect), "isinstance", _ABSENT,
        vars(types), "MethodType", types.MethodType,
        found_builtins, "getattr", found_builtins["getattr"],
        found_builtins, "setattr", found_builtins["setattr"],
        found_builtins, "isinstance", found_builtins["isinstance"],
    )
    if not _pydantic_guard._same()(entries, _ABSENT):
        raise RuntimeError("the picker's standard-library bindings are not the modules' own")
    return entries


# the pick closure's defaults (messages, input, specific_deployment) and the attribute
# names router_make_picker sets, in its order
_PICK_DEFAULTS = (None, None, False)
_PICKER_NAMES = ("__annotations__", "__qualname__", "__module__", "__name__", "__doc__", "__wrapped__")
_NATIVE_PICKER = [True]  # tests: False builds the Python lines' picker


def make_unreserved_picker(original: Callable[..., Any]) -> Callable[..., Any]:
    """``_unreserved_picker(router)`` for a Rust-core Router with no pick
    assigned: LiteLLM's ``async_get_available_deployment`` closure over the
    router, wrapped by ``_without_reserving`` - two new function objects
    made from LiteLLM's own code objects, with the attributes
    ``functools.wraps`` gives the wrapper.  Any router on which the
    assigned-pick look-up is not provably empty (another facade, no core,
    an assigned pick, a custom strategy, patched look-up code) runs
    LiteLLM's function; so does every call if ``_picker_parts`` refused
    (a pin that does not hold)."""
    # (the native core's router_new_function makes them as LiteLLM's `def`s do, without
    # types.FunctionType's function.__new__ audit event: session 20 hunt)
    function = _native_or("router_new_function", lambda code, globals_, defaults, closure: types.FunctionType(
        code, globals_, None, defaults, closure))
    cell = types.CellType
    # the two functions and their attributes made in C (router_make_picker: the same
    # setters, in the same order); None: the Python lines below
    make_picker = _native_or("router_make_picker", None) if _NATIVE_PICKER[0] else None
    get_attribute = _OBJECT_GETATTRIBUTE
    parts = _lazily(_picker_parts, "LiteLLM's picker sources are not the verified ones")

    memo = _StateMemo()  # the last router whose assigned-pick look-up was proven empty
    same_entries = _pydantic_guard._same()

    def _unreserved_picker(router):
        (router_class, checks, pick_code, wrapper_code, annotations, qualname, module_globals, picker,
         wrapping, stdlib) = parts()
        router_type = type(router)
        if router_type is not router_class:
            raise NotAccelerated("not a Router")
        # (Router.__getattribute__, when LiteLLM's, reads __dict__ as object's does; checked below)
        router_state = get_attribute(router, "__dict__")
        core = router_state.get("_core")
        if core is None:
            raise NotAccelerated("a pick may be assigned")
        known = memo.get(router_state, core)
        if (known is None or type(core) is not checks[0] or type(known[0]) is not checks[4]
                or (known[1] is not None and type(known[1]) is not checks[6])
                or router_type.__mro__ is not known[2] or type(core).__mro__ is not known[3]
                or core.__dict__ is not known[4] or (known[5] is not None and known[0].__dict__ is not known[5])):
            memo.remember(router_state, core, lambda: _assigned_pick_state(router_state, router_type, core, checks))
        if (module_globals.get("_async_picker") is not picker
                or module_globals.get("_without_reserving") is not wrapping):
            raise NotAccelerated("LiteLLM's picker was replaced")
        if not same_entries(stdlib, _ABSENT):  # functools.wraps / inspect.ismethod as stock calls them
            raise NotAccelerated("the picker's functools / inspect bindings were replaced")
        if make_picker is not None:  # the lines below in one native call (session 23)
            return make_picker(pick_code, wrapper_code, module_globals, router, _PICK_DEFAULTS, annotations,
                               qualname, _PICKER_NAMES)
        pick = function(pick_code, module_globals, _PICK_DEFAULTS, (cell(router),))
        pick.__annotations__ = dict(annotations)
        if qualname is not None:
            pick.__qualname__ = qualname
        looked_up = function(wrapper_code, module_globals, None, (cell(pick),))
        looked_up.__module__ = pick.__module__
        looked_up.__name__ = pick.__name__
        looked_up.__qualname__ = pick.__qualname__
        looked_up.__doc__ = pick.__doc__
        looked_up.__annotations__ = pick.__annotations__
        looked_up.__wrapped__ = pick  # (functools.wraps also merges pick.__dict__: a new function's is empty)
        return looked_up

    _unreserved_picker.__doc__ = original.__doc__
    return _unreserved_picker


def _annotations_of(code: types.CodeType) -> Dict[str, Any]:
    """The annotations LiteLLM's ``async_get_available_deployment`` closure
    gets at its ``def`` (evaluated once here: equal on every read)."""
    from litellm import router_deprecated as deprecated

    class _Probe:
        pass

    built = deprecated._async_picker(_Probe())  # the closure as LiteLLM builds it (getattr on a plain object)
    if getattr(built, "__code__", None) is not code:
        raise RuntimeError("LiteLLM's pick closure changed")
    return dict(built.__annotations__)


# --------------------------------------------------------------------------
# litellm.router_rust.core:RustCore._pre_route
# --------------------------------------------------------------------------

_PREROUTING = "litellm.router_rust.steps.prerouting"
_COMPACTION = "litellm.router_strategy.complexity_router.context_compaction"
_PRE_ROUTE_SOURCES = (
    _PREROUTING + ":PreRouter.pre_route",
    _PREROUTING + ":PreRouter._hook",
    _PREROUTING + ":PreRouter._resolve_session_router",
    _PREROUTING + ":PreRouter._select_strategy",
    _PREROUTING + ":PreRouter._pin_tier_params",
    _PREROUTING + ":PreRoutingStrategies",
    _PREROUTING + ":picks_async",
    _PREROUTING + ":_record_routing_decision",
    _PREROUTING + ":_stamp_or_clear_metadata_key",
    _PREROUTING + ":_restore_client_output_ceiling",
    _CORE + ":_served_as",
    "litellm.router_rust.surface.registry:HostRegistry._core_get_model_from_alias",
    "litellm.router_rust.surface.registry:HostRegistry.__getattr__",
    "litellm.litellm_core_utils.routing_common_utils:resolve_model_group_alias",
    "litellm.router_rust.steps.selection:normalize_strategy",
    "litellm.integrations.otel.routing:routing_decision_attributes",
    _PREROUTING + ":stamped_client_ceiling",
    _COMPACTION + ":arm_compaction",
    _DEPRECATED + ":renamed_router_param",
)
# the host registry's pre-routing strategy registries (PreRoutingStrategies.all)
_REGISTRIES = ("_core_switchyard_routers", "_core_auto_routers", "_core_complexity_routers",
               "_core_adaptive_routers", "_core_quality_routers")
_BASELINE_MODULES = ("litellm.router_strategy.auto_router.baseline_request", "litellm.types.router")
_BASELINE_NAMES = ("capture_baseline_parameters", "BaselineRouteStamp")  # what they import of each
_MODULE_TYPE = types.ModuleType


def _imports_plainly(module: Any, name: str) -> bool:
    """Whether ``from <module> import <name>`` of this loaded module reads its
    dict and nothing else: an exact module holding the name.  A name it
    lacks is read by its module ``__getattr__`` (PEP 562: code to run) or
    raises ImportError at the statement, where an inlined statement would
    raise AttributeError or read nothing."""
    return type(module) is _MODULE_TYPE and name in module.__dict__


def _pre_route_parts() -> Any:
    _check_pinned(_PRE_ROUTE_SOURCES)
    from litellm.router_rust import core as core_module
    from litellm.router_rust.steps import prerouting
    from litellm.router_rust.surface.registry import HostRegistry

    pre_router = prerouting.PreRouter
    methods = tuple((name, pre_router.__dict__[name]) for name in
                    ("pre_route", "_hook", "_resolve_session_router", "_select_strategy", "_pin_tier_params"))
    strategies = prerouting.PreRoutingStrategies
    strategy_methods = tuple((name, strategies.__dict__[name]) for name in
                             ("all", "switchyard", "auto", "complexity", "adaptive", "quality"))
    return (pre_router, methods, strategies, strategy_methods, HostRegistry,
            HostRegistry.__dict__["_core_get_model_from_alias"], prerouting.__dict__, core_module.__dict__,
            prerouting._record_routing_decision, _request_stamps_parts(prerouting))


def _request_stamps_parts(prerouting: Any) -> Any:
    """What ``_request_stamps`` compares LiteLLM's module globals with: the
    pinned functions the hook calls on the request, and LiteLLM's
    ``arm_compaction`` as imported into prerouting - the ``acall`` wrapper
    ``renamed_router_param("router")`` made around the pinned function
    (checked here: its code, its ``fn``, and a ``convert`` that reads
    nothing of two positional arguments)."""
    import importlib

    from litellm import router_deprecated as deprecated

    compaction = importlib.import_module(_COMPACTION)
    arm = prerouting.arm_compaction
    if arm is not compaction.arm_compaction:
        raise RuntimeError("prerouting's arm_compaction is not context_compaction's")
    decorate = _code_named(deprecated.renamed_router_param, "decorate")
    acall = _nested_code(decorate, "acall")
    if arm.__code__ is not acall or arm.__code__.co_freevars != ("convert", "fn"):
        raise RuntimeError("arm_compaction is not renamed_router_param's wrapper")
    convert, inner = (cell.cell_contents for cell in arm.__closure__)
    if inner is not arm.__wrapped__ or type(inner) is not types.FunctionType or inner.__globals__ is not (
            compaction.__dict__):
        raise RuntimeError("arm_compaction does not wrap context_compaction's function")
    if (convert.__code__ is not _nested_code(decorate, "convert")
            or convert.__code__.co_freevars != ("fn", "index", "label", "new", "old")):
        raise RuntimeError("arm_compaction's convert changed")
    fn, index, _label, new, old = (cell.cell_contents for cell in convert.__closure__)
    if fn is not inner or type(index) is not int or index < 2 or (new, old) != ("ctx", "router"):
        raise RuntimeError("arm_compaction's convert reads its first two arguments")
    state_type = compaction.CompactionState
    if type(state_type) is not type:
        raise RuntimeError("CompactionState has a metaclass")
    return (prerouting._restore_client_output_ceiling, prerouting.stamped_client_ceiling,
            prerouting._stamp_or_clear_metadata_key, arm, compaction.__dict__, state_type)


def _request_stamps(prerouting: Any, stamps_parts: Any) -> Any:
    """The hook's request stamps can be made here when LiteLLM's module
    globals are what was pinned and checked at build: (dicts read, (the
    ceiling stamp key, the affinity and consumed-tags keys, the compaction
    state key)); else (a None among the dicts, so nothing is kept; ())."""
    restore, stamped, stamp_or_clear, arm, compaction, state_type = stamps_parts
    keys = (prerouting.get("CLIENT_OUTPUT_CEILING_METADATA_KEY"),
            prerouting.get("SESSION_DEPLOYMENT_AFFINITY_TTL_METADATA_KEY"),
            prerouting.get("CONSUMED_REQUEST_TAGS_METADATA_KEY"), compaction.get("_STATE_KEY"))
    if (prerouting.get("_restore_client_output_ceiling") is not restore
            or prerouting.get("stamped_client_ceiling") is not stamped
            or prerouting.get("_stamp_or_clear_metadata_key") is not stamp_or_clear
            or prerouting.get("arm_compaction") is not arm
            or compaction.get("CompactionState") is not state_type
            or type(state_type) is not type
            or any(type(key) is not str for key in keys)):
        return (None,), ()
    return (prerouting, compaction), keys


_ATTRIBUTE_SOURCES = ("litellm.integrations.otel.runtime:phase_attributes",
                      "litellm.integrations.otel.routing:routing_decision_attributes",
                      "litellm.integrations.otel.runtime:_otel_runtime")
_LOGGER_ATTRIBUTE_SOURCES = ("litellm.integrations.otel.logger:phase_attributes",
                             "litellm.integrations.otel.logger:_registered_v2_logger")


def _attribute_parts() -> Any:
    """(runtime ``phase_attributes``, ``routing_decision_attributes``, check,
    its triples, its absent mark, ``_otel_runtime``): the pinned functions of the pre-route's
    ``phase_attributes(routing_decision_attributes(None))`` and one native
    ``router_entries_same`` check of the globals they read (``isinstance``,
    ``Mapping``, ``MappingProxyType``, ``_otel_runtime``) as found at build."""
    import builtins
    import collections.abc

    from litellm.integrations.otel import routing, runtime

    from ._pydantic_guard import _same

    _check_pinned(_ATTRIBUTE_SOURCES)
    absent = _NO_ENTRY
    flat = (vars(routing), "isinstance", absent, vars(builtins), "isinstance", isinstance,
            vars(routing), "Mapping", collections.abc.Mapping, vars(routing), "MappingProxyType", types.MappingProxyType,
            vars(runtime), "_otel_runtime", runtime._otel_runtime)
    same = _same()
    if not same(flat, absent):
        raise NotAccelerated("the phase record's globals are not LiteLLM's")
    return (runtime.phase_attributes, routing.routing_decision_attributes, same, flat, absent, runtime._otel_runtime)


def make_pre_route(original: Callable[..., Any]) -> Callable[..., Any]:
    """``RustCore._pre_route`` for a pick on a router with no pre-routing
    strategy registered (no auto, complexity, adaptive, quality or
    switchyard router), no routing plugins, no custom strategy and no
    assigned pick, on a first hop.  LiteLLM's hook then restores the
    client's output ceiling, clears the routing decision (and records it
    to the OTel phase), resolves the model alias and the session router,
    finds no strategy, arms no compaction, clears the session-affinity and
    consumed-tags stamps, and pins no tier params; the pick routes the
    step's model itself (None).  Here the same LiteLLM functions run, in
    that order, on the request; what is skipped is pure: the alias look-up
    (on a plain dict map whose entry is a str, a dict or absent), the
    session router (which returns at once with no strategy registered; its
    service target is set and restored around nothing) and the strategy
    search over empty registries."""
    parts = _lazily(_pre_route_parts, "LiteLLM's pre-routing sources are not the verified ones")
    sys_modules = sys.modules
    baseline = _BASELINE_MODULES

    memo = _StateMemo()  # the last core whose pre-routing state passed the checks below
    stamps = _StateMemo()  # LiteLLM's module globals the request stamps read (_request_stamps)
    attribute_parts = _lazily(_attribute_parts, "LiteLLM's phase record sources are not the verified ones")
    mapping_token: list = [None]  # the ABC cache token isinstance(None, Mapping) was found False at
    attribute_state: list = []  # [_attribute_parts() or None] once built
    cache_token = _ABC.get_cache_token
    logger_parts: list = []  # [(logger phase_attributes, its module dict, _registered_v2_logger)] once pinned

    def logger_attributes(fn):
        """(LiteLLM's logger ``phase_attributes``, its module dict, its
        ``_registered_v2_logger``) when ``fn`` is that pinned function, else None
        (found once: the first runtime value seen)."""
        if not logger_parts:
            logger_parts.append(None)
            try:
                from fast_litellm.patching import guards

                module_globals = fn.__globals__
                registered = module_globals.get("_registered_v2_logger")
                if (guards.is_pinned_source(_LOGGER_ATTRIBUTE_SOURCES[0], fn)
                        and guards.is_pinned_source(_LOGGER_ATTRIBUTE_SOURCES[1], registered)):
                    logger_parts[0] = (fn, module_globals, registered)
            except Exception:  # noqa: BLE001 - not LiteLLM's logger: its function is called
                pass
        return logger_parts[0]

    def record_no_decision(prerouting):
        """``phase_attributes(routing_decision_attributes(None))`` of
        ``_record_routing_decision(request, None)`` (session 19).  With both
        functions and the globals they read LiteLLM's (``_attribute_parts``) and
        ``isinstance(None, Mapping)`` known False at this ABC cache token (no
        code runs), the attributes are ``MappingProxyType({})``, and
        ``phase_attributes`` reads ``_otel_runtime()`` (LiteLLM's cached
        function, called here as it calls it) and hands them to its fourth
        hook, which records nothing when that is LiteLLM's logger
        ``phase_attributes`` while ``_registered_v2_logger()`` is None without
        running code (the proxy server not loaded, as the fused pick's span
        check): then nothing more is done.  Else the hook gets them (the pure
        attributes made after the cached runtime read: the order cannot be
        seen), and anything not as pinned is LiteLLM's two calls."""
        ap = attribute_state[0] if attribute_state else None
        if ap is None and not attribute_state:
            try:
                ap = attribute_parts()
            except NotAccelerated:
                pass
            attribute_state.append(ap)
        if (ap is None or prerouting.get("phase_attributes") is not ap[0]
                or prerouting.get("routing_decision_attributes") is not ap[1] or not ap[2](ap[3], ap[4])
                or cache_token() != mapping_token[0]):
            token = _ABC.get_cache_token()
            prerouting["phase_attributes"](prerouting["routing_decision_attributes"](None))
            # LiteLLM's isinstance(None, Mapping) just ran: at an unchanged token a cache hit
            if ap is not None and _ABC.get_cache_token() == token and not isinstance(None, _MAPPING):
                mapping_token[0] = token
            return
        runtime_value = ap[5]()
        if runtime_value is None:
            return
        found = logger_parts[0] if logger_parts else logger_attributes(runtime_value[3])
        if (found is not None and runtime_value[3] is found[0]
                and (logger_globals := found[1]).get("_registered_v2_logger") is found[2]
                and logger_globals.get("sys") is sys and sys_modules.get(_PROXY_SERVER) is None
                and type(logger_globals.get("OpenTelemetryV2")) is type):
            return
        runtime_value[3](prerouting["routing_decision_attributes"](None))

    def checked_state(state, p):
        """The router-state checks (NotAccelerated to decline): (dicts read, (the
        pre-router, the host registry, its plugin list, its alias map, and the
        strategy set when the checks an async-picking strategy's pick needs pass,
        else None), and the pre-router's, registry's and strategy set's
        ``__dict__`` read, which a call checks are still theirs).  A state
        whose strategy set does not pass is not kept (the None among the
        dicts read has no tag): it is checked at every call."""
        (pre_router, methods, strategies_type, strategy_methods, host_registry, alias_lookup, _prerouting,
         _core_globals, _record, _stamps_parts) = p
        if state.get("_core_async_get_available_deployment") is not None or state.get("_custom_strategy") is not None:
            raise NotAccelerated("an assigned pick or a custom strategy")
        if "_custom_strategy" not in state or "_resolved" not in state:
            raise NotAccelerated("a core without its state")
        router = state.get("_prerouter")
        if type(router) is not pre_router:
            raise NotAccelerated("another pre-router")
        for name, method in methods:
            if pre_router.__dict__.get(name) is not method:
                raise NotAccelerated("the pre-router was patched")
        router_own = router.__dict__
        for name, _method in methods:
            if name in router_own:  # an instance attribute: LiteLLM's _pre_route calls it
                raise NotAccelerated("the pre-router instance has its own %s" % name)
        hosted = state.get("_hosted")
        if (type(hosted) is not host_registry
                or host_registry.__dict__.get("_core_get_model_from_alias") is not alias_lookup):
            raise NotAccelerated("another host registry")
        registry = hosted.__dict__
        if "_core_get_model_from_alias" in registry:
            # (session 23 hunt: one set on the registry instance was called by stock, not by ours)
            raise NotAccelerated("the host registry instance has its own alias look-up")
        plugins = registry.get("_core_routing_plugins")
        if type(plugins) is not list:
            raise NotAccelerated("routing plugins")
        aliases = registry.get("_core_model_group_alias", _ABSENT)
        if type(aliases) is not dict:
            raise NotAccelerated("an alias map that runs code")
        # (the pre-router's own dict among them: a method assigned on it later is seen)
        read = (state, pre_router, host_registry, registry, router_own)
        # what an async-picking strategy's pick needs besides
        router_state = router_own
        strategies = router_state.get("_strategies")
        if type(strategies) is not strategies_type or strategies.__dict__.get("_hosted") is not hosted:
            return (*read, None), (router, hosted, plugins, aliases, None, None, None, None)
        for name, method in strategy_methods:
            if strategies_type.__dict__.get(name) is not method:
                return (*read, None), (router, hosted, plugins, aliases, None, None, None, None)
        registries = []
        for name in _REGISTRIES:
            found = registry.get(name, _ABSENT)
            if type(found) is not dict or found:
                return (*read, None), (router, hosted, plugins, aliases, None, None, None, None)
            registries.append(found)
        strategies_state = strategies.__dict__
        return (*read, router_state, strategies_state, strategies_type, *registries), (
            router, hosted, plugins, aliases, strategies, router_state, registry, strategies_state)

    async def _pre_route(self, step, request, messages=None, input=None, specific_deployment=None, *,
                         pass_through=False, call_type=None):
        p = parts()
        (pre_router, methods, strategies_type, strategy_methods, host_registry, alias_lookup, prerouting,
         core_globals, record, stamps_parts) = p
        if pass_through or type(step) is not dict or type(request) is not dict:
            raise NotAccelerated("a pass-through pick, or not a plain step and request")
        if _BUILTINS.get("__import__") is not _BUILTIN_IMPORT:
            raise NotAccelerated("builtins.__import__ is replaced: the skipped steps make import statements")
        depth = step.get("fallback_depth")
        if isinstance(depth, int) and depth > 0:
            raise NotAccelerated("a fallback hop")
        model = step.get("model")
        if type(model) is not str:
            raise NotAccelerated("the step's model is not a str")
        state = self.__dict__
        known = memo.get(state, p)
        if (known is None or type(known[0]) is not pre_router or type(known[1]) is not host_registry
                or known[0].__dict__ is not known[5] or known[1].__dict__ is not known[6]
                or (known[4] is not None and known[4].__dict__ is not known[7])):
            known = memo.remember(state, p, lambda: checked_state(state, p))
        router, hosted, plugins, aliases, strategies = known[:5]
        if plugins:
            raise NotAccelerated("routing plugins")
        if not prerouting["picks_async"](core_globals["normalize_strategy"](state["_resolved"].routing_strategy)):
            return None  # pre_route returns None at once; _served_as(None, ...) is None
        if strategies is None or type(strategies) is not strategies_type:
            raise NotAccelerated("another strategy set, or a pre-routing strategy registered")
        if type(aliases.get(model)) not in (str, dict, type(None)):
            raise NotAccelerated("an alias map that runs code")
        # _hook, as LiteLLM runs it with no strategy registered: LiteLLM's functions in its
        # order, stamping the request as they go, so an error from one is the caller's
        # (the original run on top would stamp and record again).  With LiteLLM's module
        # globals as pinned (``stamps``: kept while prerouting's and context_compaction's
        # dicts hold their tags) and plain metadata buckets, what those functions do to the
        # request is done here: a clear is ``bucket.pop(key, None)`` on each dict bucket, the
        # ceiling is restored only when a bucket holds its stamp, and the compaction arming
        # does nothing for a request without a compaction state (its wrapper's ``convert``
        # reads nothing of two positional arguments, and ``isinstance(None, CompactionState)``
        # is False); anything else calls LiteLLM's function, as before.
        known_stamps = stamps.get(prerouting, stamps_parts)
        if known_stamps is None:
            known_stamps = stamps.remember(prerouting, stamps_parts,
                                           lambda: _request_stamps(prerouting, stamps_parts))
        try:  # (callers_errors' marking, without its two method calls: session 19)
            # the buckets as LiteLLM's functions read them; re-read after anything that may
            # run code (a registered OTel logger, LiteLLM's functions): a bucket replaced
            # meanwhile sends the rest through LiteLLM's functions
            # (session 25: a str-keyed request, so the request reads skipped run no __eq__; else
            # the request is not read here: LiteLLM's functions read it.  The buckets' reads and
            # pops are LiteLLM's own, one each, so their keys need no check)
            plain = bool(known_stamps) and str_keyed(request)
            metadata = request.get("metadata") if plain else None
            litellm_metadata = request.get("litellm_metadata") if plain else None
            inline = plain and (metadata is None or type(metadata) is dict) and (
                litellm_metadata is None or type(litellm_metadata) is dict)
            if not inline or (metadata is not None and known_stamps[0] in metadata) or (
                    litellm_metadata is not None and known_stamps[0] in litellm_metadata):
                prerouting["_restore_client_output_ceiling"](request)
                inline = False
            # (_imports_plainly of each, spelled out: session 21)
            if prerouting["_record_routing_decision"] is record and type(
                    first := sys_modules.get(baseline[0])) is _MODULE_TYPE and _BASELINE_NAMES[0] in first.__dict__ and (
                    type(second := sys_modules.get(baseline[1])) is _MODULE_TYPE
                    and _BASELINE_NAMES[1] in second.__dict__) and (
                    _BUILTINS.get("__import__") is _BUILTIN_IMPORT):
                # _record_routing_decision(request, None): its imports are loaded modules' own names
                record_no_decision(prerouting)
                if inline and request.get("metadata") is metadata and request.get("litellm_metadata") is (
                        litellm_metadata):
                    if metadata is not None:
                        metadata.pop("_autorouter_baseline_route", None)
                        metadata.pop("routing_decision", None)
                    if litellm_metadata is not None:
                        litellm_metadata.pop("_autorouter_baseline_route", None)
                        litellm_metadata.pop("routing_decision", None)
                else:
                    inline = False
                    prerouting["_stamp_or_clear_metadata_key"](request, "_autorouter_baseline_route", None)
                    prerouting["_stamp_or_clear_metadata_key"](request, "routing_decision", None)
            else:
                inline = False
                prerouting["_record_routing_decision"](request, None)
            if not known_stamps or known_stamps[3] in request:
                inline = False
                await prerouting["arm_compaction"](request, None)
            if inline:  # nothing ran since the buckets were read
                if metadata is not None:
                    metadata.pop(known_stamps[1], None)
                    metadata.pop(known_stamps[2], None)
                if litellm_metadata is not None:
                    litellm_metadata.pop(known_stamps[1], None)
                    litellm_metadata.pop(known_stamps[2], None)
            else:
                prerouting["_stamp_or_clear_metadata_key"](
                    request, prerouting["SESSION_DEPLOYMENT_AFFINITY_TTL_METADATA_KEY"], None)
                prerouting["_stamp_or_clear_metadata_key"](
                    request, prerouting["CONSUMED_REQUEST_TAGS_METADATA_KEY"], None)
        except Exception as exc:
            callers_error(exc)
            raise
        return None

    _pre_route.__doc__ = original.__doc__
    return _pre_route



# --------------------------------------------------------------------------
# litellm.router_rust.core:RustCore._prefetch_usage_selector
# --------------------------------------------------------------------------

_USAGE_SELECTOR_SOURCES = (
    _CORE + ":RustCore._prefetch_strategy_and_selector",
    "litellm.router_rust.surface.registry:HostRegistry.get_routing_group",
    "litellm.router_rust.surface.registry:HostRegistry._core_get_model_from_alias",
    "litellm.router_rust.surface.registry:HostRegistry.__getattr__",
    "litellm.litellm_core_utils.routing_common_utils:resolve_model_group_alias",
    "litellm.router_rust.steps.selection:normalize_strategy",
    "litellm.router_rust.steps.selection:StrategySelectors.default.fget",
)
_USAGE_V2 = "usage-based-routing-v2"
_USAGE_V2_MODULE = "litellm.router_strategy.lowest_tpm_rpm_v2"


def _usage_selector_parts() -> Any:
    _check_pinned(_USAGE_SELECTOR_SOURCES)
    from litellm.router_rust import core as core_module
    from litellm.router_rust.steps.selection import StrategySelectors
    from litellm.router_rust.surface.registry import HostRegistry

    return (core_module.RustCore, core_module.RustCore.__dict__["_prefetch_strategy_and_selector"], HostRegistry,
            tuple((name, HostRegistry.__dict__[name]) for name in ("get_routing_group", "_core_get_model_from_alias")),
            core_module.__dict__, core_module.Resolved, StrategySelectors, StrategySelectors.__dict__["default"])


def make_prefetch_usage_selector(original: Callable[..., Any]) -> Callable[..., Any]:
    """``RustCore._prefetch_usage_selector(model, request)``: the pick's
    selector when it is a usage-based-routing-v2 one, else None; every pick
    asks it (the usage-read scope).  For a request with no strategy
    override, on a router with no routing groups and whose own strategy is
    not usage-based-routing-v2, LiteLLM's answer is None whatever the
    selector: the strategy it compares is the router's; when the router's
    strategy is usage-based-routing-v2 it is the router's default selector
    if that is a v2 one (``isinstance``, as LiteLLM checks), else None.
    What it reads on the way (the alias map, whose resolution never raises,
    the empty group table) is read without code, so it is skipped; every
    other case is LiteLLM's."""
    parts = _lazily(_usage_selector_parts, "LiteLLM's selector sources are not the verified ones")
    sys_modules = sys.modules

    memo = _StateMemo()  # the last core whose state passed the checks below

    def checked_state(state, p):
        """The core-state checks (NotAccelerated to decline): (dicts read,
        (resolved settings, host registry, selectors, alias map))."""
        (rust_core, strategy_and_selector, host_registry, registry_methods, _core_globals, resolved_type,
         selectors_type, default) = p
        if (rust_core.__dict__.get("_prefetch_strategy_and_selector") is not strategy_and_selector
                or "_prefetch_strategy_and_selector" in state):
            # (session 23 hunt: one set on the core instance was called by stock, not by ours)
            raise NotAccelerated("another core")
        resolved = state.get("_resolved")
        hosted = state.get("_hosted")
        selectors = state.get("_selectors")
        if type(resolved) is not resolved_type or type(hosted) is not host_registry or type(selectors) is not (
            selectors_type
        ) or selectors_type.__dict__.get("default") is not default:
            raise NotAccelerated("a core without its state")
        for name, method in registry_methods:
            if host_registry.__dict__.get(name) is not method:
                raise NotAccelerated("the host registry was patched")
        registry = hosted.__dict__
        if any(name in registry for name, _method in registry_methods):
            raise NotAccelerated("the host registry was patched")  # (on the instance: as above)
        groups = registry.get("_core_routing_groups", _ABSENT)
        if type(groups) is not dict or groups:
            raise NotAccelerated("routing groups")
        aliases = registry.get("_core_model_group_alias", _ABSENT)
        if type(aliases) is not dict:
            raise NotAccelerated("an alias map that runs code")
        return (state, rust_core, host_registry, selectors_type, registry, groups), (
            resolved, hosted, selectors, aliases, registry)

    def _prefetch_usage_selector(self, model, request_kwargs):
        if _BUILTINS.get("__import__") is not _BUILTIN_IMPORT:
            raise NotAccelerated("builtins.__import__ is replaced: LiteLLM's method imports its selector class")
        p = parts()
        (rust_core, strategy_and_selector, host_registry, registry_methods, core_globals, resolved_type,
         selectors_type, default) = p
        if request_kwargs is not None and type(request_kwargs) is not dict:
            raise NotAccelerated("request is not a dict")
        if type(model) is not str or not _imports_plainly(sys_modules.get(_USAGE_V2_MODULE),
                                                           "LowestTPMLoggingHandler_v2"):
            # (LiteLLM's method imports the class on every call: read from the module's dict
            # only when that is all the import statement does)
            raise NotAccelerated("a model that is not a str, or the v2 selector's import not a plain read")
        if request_kwargs and request_kwargs.get("routing_strategy") is not None:
            raise NotAccelerated("a strategy override")
        if type(self) is not rust_core:
            raise NotAccelerated("another core")
        state = self.__dict__
        known = memo.get(state, p)
        if (known is None or type(known[0]) is not resolved_type or type(known[1]) is not host_registry
                or type(known[2]) is not selectors_type or known[1].__dict__ is not known[4]):
            known = memo.remember(state, p, lambda: checked_state(state, p))
        resolved, _hosted, selectors, aliases, _registry = known
        if type(aliases.get(model)) not in (str, dict, type(None)):
            raise NotAccelerated("an alias map that runs code")
        if core_globals["normalize_strategy"](resolved.routing_strategy) == _USAGE_V2:
            # with no groups LiteLLM compares the router's strategy and its
            # default selector (a pure property read, once, as LiteLLM reads it)
            selector = selectors.default
            return selector if isinstance(selector, sys_modules[_USAGE_V2_MODULE].LowestTPMLoggingHandler_v2) else None
        return None

    _prefetch_usage_selector.__doc__ = original.__doc__
    return _prefetch_usage_selector


# --------------------------------------------------------------------------
# litellm.router_rust.core:_Selection._served and core:_narrowing_fields
# --------------------------------------------------------------------------

_SERVED_SOURCES = (
    _CORE + ":_with_live_params",
    "litellm.router_rust.surface.registry:HostRegistry.live_params",
    "litellm.router_rust.surface.registry:HostRegistry.live_info",
    "litellm.router_rust.surface.model_list:typed_deployment",
    "litellm.router_attempt:for_requested_model",
    "litellm.router_attempt:_wildcard_match",
    "litellm.router_attempt:_as_mapping",
    "litellm.litellm_core_utils.core_helpers:as_str_mapping",
)


def _is_wildcard(value: Any) -> Any:
    """Whether ``_wildcard_match`` would try a pattern: True, False, or
    None when the value is a str subclass (whose ``in`` could run code)."""
    if type(value) is str:
        return "*" in value
    return None if isinstance(value, str) else False


def make_served(original: Callable[..., Any]) -> Callable[..., Any]:
    """``_Selection._served(record)``: the picked deployment record as
    served, ``_with_live_params(core, for_requested_model(typed_deployment(
    record), model))``.  For a plain record whose ``model_info`` has none of
    the fields ``typed_deployment`` retypes, and which is no wildcard
    deployment (neither its ``model_name`` nor a team public name holds a
    ``*``), both inner steps return the record itself (for_requested_model's
    copies of its dicts are only read); LiteLLM's ``_with_live_params``
    then runs on it as before."""
    _check_pinned(_SERVED_SOURCES)
    from litellm.router_rust import core as core_module
    from litellm.router_rust.surface import model_list


    from litellm.router_rust.surface.registry import HostRegistry

    core_globals = core_module.__dict__
    typed_keys = model_list._TYPED_MODEL_INFO
    stock_typed = model_list.typed_deployment
    stock_requested = core_globals["for_requested_model"]
    rust_core = core_module.RustCore
    live_parts = (core_globals["_with_live_params"], core_globals["as_str_mapping"], HostRegistry,
                  HostRegistry.__dict__["live_params"], HostRegistry.__dict__["live_info"])
    memo = _StateMemo()  # the last core whose live-params tables were found plain

    def live_tables(state):
        """``_with_live_params``' reads, when they run no code: LiteLLM's
        function and ``as_str_mapping`` bound in the core module, an exact
        host registry with LiteLLM's ``live_params`` / ``live_info`` and exact
        dict tables: (dicts read, (registry, params table, info table));
        else (a None among them: not kept; ())."""
        with_live, as_mapping, registry_type, live_params, live_info = live_parts
        hosted = state.get("_hosted")
        core_mro = rust_core.__mro__
        registry_mro = registry_type.__mro__
        # the attribute reads (core._hosted, hosted.live_params, self._live_params ...) find
        # the instance dicts' values: object's look-up, and no class of either MRO holds
        # those names (a data descriptor there would win)
        if (core_globals.get("_with_live_params") is not with_live or core_globals.get("as_str_mapping") is not (
                as_mapping) or type(hosted) is not registry_type
                or registry_type.__dict__.get("live_params") is not live_params
                or registry_type.__dict__.get("live_info") is not live_info
                or rust_core.__getattribute__ is not _OBJECT_GETATTRIBUTE
                or registry_type.__getattribute__ is not _OBJECT_GETATTRIBUTE
                or any("_hosted" in klass.__dict__ for klass in core_mro)
                or any(name in klass.__dict__ for klass in registry_mro for name in ("_live_params", "_live_info"))):
            return (None,), ()
        registry = hosted.__dict__
        params_table = registry.get("_live_params")
        info_table = registry.get("_live_info")
        if type(params_table) is not dict or type(info_table) is not dict or "live_params" in registry or (
                "live_info" in registry):
            return (None,), ()
        return (core_globals, state, *core_mro, *registry_mro, registry), (hosted, params_table, info_table,
                                                                          core_mro, registry_mro, registry)

    def _served(self, record):
        if _BUILTINS.get("__import__") is not _BUILTIN_IMPORT:
            raise NotAccelerated("builtins.__import__ is replaced: the skipped helpers make import statements")
        if type(record) is not dict or not record:
            raise NotAccelerated("not a plain record")
        if core_globals.get("typed_deployment") is not stock_typed or (
            core_globals.get("for_requested_model") is not stock_requested
        ):
            raise NotAccelerated("LiteLLM's helpers were replaced")
        info = record.get("model_info")
        params = record.get("litellm_params")
        if type(info) is not dict or type(params) is not dict or not info.keys().isdisjoint(typed_keys):
            raise NotAccelerated("model_info to retype, or not plain dicts")
        if not str_keyed(params) or not str_keyed(info):
            raise NotAccelerated("non-str keys")
        if self._model is not None and isinstance(params.get("model"), str):
            public = info.get("team_public_model_name")
            named = record.get("model_name")
            # (None or an exact str without a "*": _is_wildcard's False, without its calls; session 21)
            if not ((public is None or (type(public) is str and "*" not in public))
                    and (named is None or (type(named) is str and "*" not in named))) and (
                    _is_wildcard(public) is not False or _is_wildcard(named) is not False):
                raise NotAccelerated("a wildcard deployment")
        core = self._core
        state = core.__dict__
        known = memo.get(state, live_parts)
        if known is None:
            known = memo.remember(state, live_parts, lambda: live_tables(state))
        if (known and type(core) is rust_core and type(known[0]) is HostRegistry and rust_core.__mro__ is known[3]
                and HostRegistry.__mro__ is known[4] and known[0].__dict__ is known[5]):
            # _with_live_params: the record's id in neither table (an exact str id, or None,
            # which isinstance(None, str) leaves to {} both): nothing to merge, the record
            model_id = info.get("id")
            if model_id is None or (type(model_id) is str and model_id not in known[1] and model_id not in known[2]):
                return record
        with callers_errors:  # LiteLLM's step, the last one: its error is the caller's
            return core_globals["_with_live_params"](core, record)

    _served.__doc__ = original.__doc__
    return _served


_NARROWING_KEYS = ("_target_order", "_excluded_deployment_ids", "_retry_skipped_deployment_ids")


def make_narrowing_fields(original: Callable[..., Any]) -> Callable[..., Any]:
    """``_narrowing_fields(request, kind)``: the request's narrowing keys as
    router-core fields, popped from the request (a listed pass-through pick
    reads the order only).  A plain dict request carrying none of the three
    keys gives no fields and loses nothing: a new empty dict."""
    _check_pinned((_CORE + ":_request_narrowing",))

    def _narrowing_fields(request, kind):
        if _BUILTINS.get("__import__") is not _BUILTIN_IMPORT:
            raise NotAccelerated("builtins.__import__ is replaced: _request_narrowing makes an import statement")
        if type(request) is not dict:
            raise NotAccelerated("request is not a dict")
        for key in _NARROWING_KEYS:
            if key in request:
                raise NotAccelerated("the request narrows the pick")
        return {}

    _narrowing_fields.__doc__ = original.__doc__
    return _narrowing_fields


# --------------------------------------------------------------------------
# the router's service event: litellm._service_logger:ServiceLogging.async_service_success_hook
# --------------------------------------------------------------------------

def make_service_success_hook(original: Callable[..., Any]) -> Callable[..., Any]:
    """``ServiceLogging.async_service_success_hook`` for the router's own
    event (``ServiceTypes.ROUTER``, which ``RustCore.service_logged``
    schedules as a task on every timed pick: every strategy but
    simple-shuffle).  The task and its coroutine are LiteLLM's as before;
    what changes is the body, when it runs: with ``mock_testing`` off and
    ``litellm.service_callback`` an empty list, LiteLLM's body builds a
    ``ServiceLoggerPayload`` and hands it to no callback.  Building it is
    pure for the argument types checked here (an exact ``float`` duration,
    ``str`` call type, no caller or event metadata: it validates, and a
    ROUTER payload reads no service target), so the body returns ``None``
    without it, ~4 us a pick.  The decision is made when LiteLLM's body
    would make it (the task's first step), from the same attributes.
    Anything else (a subclass, another service, a callback, odd argument
    types) is LiteLLM's body, as is a module whose ``ServiceLoggerPayload``
    or ``ServiceTypes`` binding is not LiteLLM's class (LiteLLM's body reads
    both there at the call: ``mock.patch`` of the payload class, to watch
    the events, would see none)."""
    _check_pinned(("litellm._service_logger:ServiceLogging.async_service_success_hook",))
    from litellm import _service_logger
    from litellm.types.services import ServiceLoggerPayload, ServiceTypes

    cls = _service_logger.ServiceLogging
    module_globals = _service_logger.__dict__
    router = ServiceTypes.ROUTER
    decline = NotAccelerated("a service event with somewhere to go")
    validation = _pydantic_guard.shared(_pydantic_guard.service_payload)

    async def async_service_success_hook(self, service, call_type, duration, parent_otel_span=None,
                                         start_time=None, end_time=None, event_metadata=None, caller=None):
        if (
            type(self) is not cls
            or service is not router
            or type(call_type) is not str
            or type(duration) is not float
            or event_metadata is not None
            or caller is not None
            or self.mock_testing is not False
            or module_globals.get("ServiceLoggerPayload") is not ServiceLoggerPayload
            or module_globals.get("ServiceTypes") is not ServiceTypes
            or not validation.check()  # the payload's construction is pydantic's own (and built)
        ):
            raise decline
        callbacks = module_globals["litellm"].service_callback
        if type(callbacks) is not list or callbacks:
            raise decline
        return None

    async_service_success_hook.__doc__ = original.__doc__
    return async_service_success_hook


# --------------------------------------------------------------------------
# litellm.router_rust.core:RustCore.select (a pick: kind "pick")
# --------------------------------------------------------------------------

_PODS = "litellm.router_utils.kubernetes_pod_discovery"
_SELECT_SOURCES = (
    _CORE + ":_Selection.run",
    _CORE + ":_Selection._run",
    _CORE + ":_Selection._resolved_pod",
    _PODS + ":KubernetesPodDiscovery.async_resolve_deployment",
    _PODS + ":KubernetesPodDiscovery._eligible",
    _PODS + ":KubernetesPodDiscovery._target",
    "litellm.router_strategy.least_busy:picks_reserve",
    "litellm.integrations.otel.runtime:phase_span",
    "litellm.integrations.otel.runtime:_otel_runtime",
    # the strategy step's answer, made in the loop for LiteLLM's own selector classes
    _CORE + ":RustCore._answer_select",
    _CORE + ":_pick_with_prefetched_usage",
    "litellm.router_rust.steps.selection:pick_async",
    "litellm.router_strategy.lowest_tpm_rpm_v2:PrefetchedUsage.scoped",
)
_SELECTION = "litellm.router_rust.steps.selection"
_V2 = "litellm.router_strategy.lowest_tpm_rpm_v2"
# pick_async's class patterns, in its order (bindings in the selection module)
_PICK_CASES = (("LeastBusyLoggingHandler", ("least-busy",)),
               ("LowestTPMLoggingHandler", ("usage-based-routing",)),
               ("LowestTPMLoggingHandler_v2", ("usage-based-routing-v2", "cost-based-routing")),
               ("LowestCostLoggingHandler", ("usage-based-routing-v2", "cost-based-routing")),
               ("LowestLatencyLoggingHandler", ("latency-based-routing",)))
_OTEL_RUNTIME = "litellm.integrations.otel.runtime"
_OTEL_LOGGER_SOURCES = ("litellm.integrations.otel.logger:phase_span",
                        "litellm.integrations.otel.logger:_registered_v2_logger")
_PROXY_SERVER = "litellm.proxy.proxy_server"


# what _Selection.__init__ runs for a pick, made in the fused pick when provable
_IMAGE_MODULE = "litellm.litellm_core_utils.prompt_templates.common_utils"
_HELPERS_MODULE = "litellm.litellm_core_utils.core_helpers"
_SERVICES = "litellm.types.services"
_SPAN_SOURCE = _HELPERS_MODULE + ":get_parent_otel_span_from_kwargs"
_SPAN_KEY = "litellm_parent_otel_span"
_SPAN_NAMES = ("metadata", "litellm_params", _SPAN_KEY)
_SELECTION_INIT_SOURCES = (
    _CORE + ":_Selection.__init__",
    _CORE + ":RustCore._routing_fields",
    _CORE + ":RustCore._model_tag_filtering",
    _CORE + ":RustCore._picks_async",
    _CORE + ":RustCore._sync_routing_state",
    _CORE + ":RustCore._sync_plugin_stage",
    _CORE + ":RustCore._sync_index",
    _CORE + ":RustCore._sync_allowed_fails",
    _CORE + ":Resolved.allowed_fails_is_default",
    _CORE + ":_document",
    _CORE + ":_as_list",
    _CORE + ":_request_narrowing",
    "litellm.router_rust.steps.precall:request_carries_image",
    _IMAGE_MODULE + ":request_contains_image_content",
    "litellm.router_utils.endpoint_eligibility:selected_endpoint",
    _PREROUTING + ":picks_async",
    _RCU + ":is_web_search_request",
    _HELPERS_MODULE + ":as_str_mapping",
) + _START_FIELD_SOURCES
# patch targets whose binding (LiteLLM's, or our patch over it: pins.VERIFIED) the
# inline fields stand for: the start fields, the retry-policy fields, the narrowing
# fields and the plain copy of the document
_SELECTION_INIT_PATCHED = (("globals", "_start_fields"), ("globals", "_narrowing_fields"), ("globals", "_plain"),
                           ("class", "_group_policy_fields"))
# RustCore's methods __init__ reaches whose calls are made inline (none may be an instance
# attribute), and the core attributes read from its instance dict (no class holds them)
_SELECTION_INIT_METHODS = ("_routing_fields", "_model_tag_filtering", "_picks_async", "_sync_routing_state",
                           "_sync_plugin_stage", "_sync_index", "_sync_allowed_fails", "_group_policy_fields")
_SELECTION_INIT_STATE = ("_resolved", "_hosted", "_handle", "_version", "_tag_filtering_models", "_index_written",
                         "_allowed_fails_default_sent")
_SHADOWED = ("isinstance", "bool", "str", "list", "tuple", "dict")


def _selection_init_parts() -> Any:
    """What the fused pick's ``_Selection`` set-up reads from LiteLLM (pins
    checked): the classes, the pinned functions and the module dicts their
    bindings live in."""
    _check_pinned(_SELECTION_INIT_SOURCES)
    import collections.abc
    import enum
    import importlib

    core = sys.modules[_CORE]
    precall = importlib.import_module("litellm.router_rust.steps.precall")
    image = importlib.import_module(_IMAGE_MODULE)
    rcu = importlib.import_module(_RCU)
    helpers = importlib.import_module(_HELPERS_MODULE)
    from litellm.router_rust.steps import prerouting, selection
    from litellm.router_rust.surface.registry import HostRegistry
    from litellm.router_utils import endpoint_eligibility

    import litellm

    rust_core = core.RustCore
    resolved = core.Resolved
    if type(resolved) is not type or resolved.__mro__ != (resolved, object) or "__dict__" in resolved.__dict__:
        raise RuntimeError("Resolved is not a plain slotted class")
    methods = tuple((name, rust_core.__dict__[name]) for name in _SELECTION_INIT_METHODS
                    if name != "_group_policy_fields")
    functions = (("_document", core._document), ("as_str_mapping", core.as_str_mapping),
                 ("_as_list", core._as_list), ("request_carries_image", precall.request_carries_image),
                 ("is_web_search_request", rcu.is_web_search_request),
                 ("selected_endpoint", endpoint_eligibility.selected_endpoint),
                 ("picks_async", prerouting.picks_async), ("normalize_strategy", selection.normalize_strategy))
    if type(selection.RoutingStrategy) is not type(enum.Enum) or "__instancecheck__" in type(enum.Enum).__dict__:
        raise RuntimeError("RoutingStrategy is not a plain Enum")
    return (rust_core, resolved, resolved.__dict__["allowed_fails_is_default"], methods, functions,
            image.__name__, image, image.request_contains_image_content, rcu.__dict__, helpers.__dict__,
            collections.abc.Mapping, HostRegistry, litellm, _start_helpers(), prerouting.__dict__,
            selection.__dict__, selection.RoutingStrategy)


def _selection_init_state(core_globals: Any, selection: Any, init: Any) -> Any:
    """Whether the fused pick can set up its ``_Selection`` itself: the
    bindings ``__init__`` and the helpers it calls read are LiteLLM's pinned
    ones (or our patches over them), attribute look-ups on the core, its
    settings, host registry and the selection run no code, the builtins those
    helpers use are not shadowed in their modules, the start fields' helpers
    are the pinned ones (``_start_helpers_state``) and ``picks_async`` of an
    exact str or None reads no code (its membership in LiteLLM's frozenset of
    exact strs): (dicts read, (the core's, settings', registry's and
    selection's MROs, the ABC cache token None was found no ``Mapping`` at));
    else a None among the dicts (not kept) and None."""
    from fast_litellm.patching import guards

    (rust_core, resolved, allowed_default, methods, functions, _image_name, image, contains, rcu, helpers, mapping,
     host_registry, _litellm, start_helpers, prerouting, selection_module, routing_strategy) = init
    klass = rust_core.__dict__
    image_globals = image.__dict__
    for kind, name in _SELECTION_INIT_PATCHED:
        if not guards.is_pinned_source(_CORE + ":" + ("RustCore." if kind == "class" else "") + name,
                                       (klass if kind == "class" else core_globals).get(name)):
            return (None,), None
    core_mro = rust_core.__mro__
    registry_mro = host_registry.__mro__
    selection_dict = selection.__dict__
    async_strategies = prerouting.get("_ASYNC_PICK_STRATEGIES")
    if (any(klass.get(name) is not method for name, method in methods)
            or any(core_globals.get(name) is not function for name, function in functions)
            or image_globals.get("request_contains_image_content") is not contains
            or helpers.get("Mapping") is not mapping
            or any(name in module for module in (core_globals, image_globals, rcu, helpers, prerouting,
                                                 selection_module) for name in _SHADOWED)
            or rust_core.__getattribute__ is not _OBJECT_GETATTRIBUTE
            or any(name in base.__dict__ for base in core_mro for name in _SELECTION_INIT_STATE)
            or resolved.__dict__.get("allowed_fails_is_default") is not allowed_default
            or resolved.__getattribute__ is not _OBJECT_GETATTRIBUTE
            or host_registry.__getattribute__ is not _OBJECT_GETATTRIBUTE
            or any("_core_routing_plugins" in base.__dict__ for base in registry_mro)
            or any(name in selection_dict for name in ("__new__", "__setattr__", "__slots__"))
            or type(selection) is not type
            # normalize_strategy(an exact str or None) is it (neither is a RoutingStrategy) and
            # picks_async its membership in this frozenset of exact strs: pure
            or selection_module.get("RoutingStrategy") is not routing_strategy
            or type(async_strategies) is not frozenset or any(type(name) is not str for name in async_strategies)):
        return (None,), None
    start_read, start_known = _start_helpers_state(core_globals, start_helpers)
    if not start_known:
        return (None,), None
    return (*core_mro, *registry_mro, resolved, image_globals, rcu, helpers, prerouting, selection_module,
            *start_read), (core_mro, resolved.__mro__, registry_mro, selection.__mro__, start_known[0])


# the callback-filter step's answer with no filter registered, made in the fused pick
_CALLBACKS = "litellm.router_rust.steps.callbacks"
_HOST = "litellm.router_python_host"
_FILTER_SOURCES = (
    _CALLBACKS + ":RustOptionalChecks._answer_callback_filters",
    _CALLBACKS + ":RustOptionalChecks._opt.fget",
    _CALLBACKS + ":OptionalChecks.has_filters",
    _CALLBACKS + ":OptionalChecks.routing_callbacks",
    _CALLBACKS + ":_callbacks",
    _CALLBACKS + ":filters_deployments",
    _HOST + ":PythonHost.callback_list",
)


def _filter_parts() -> Any:
    """What the inline callback-filter answer reads from LiteLLM (pins
    checked; ``_LITELLM_GLOBAL`` found to hand a list back as itself)."""
    _check_pinned(_FILTER_SOURCES)
    import abc
    import importlib
    import typing

    callbacks = importlib.import_module(_CALLBACKS)
    host = importlib.import_module(_HOST)
    core = sys.modules[_CORE]
    from pydantic_core import SchemaValidator

    adapter = host._LITELLM_GLOBAL
    probe: list = []
    # probed through its compiled validator (a type nobody can patch), not through
    # TypeAdapter.validate_python: a replacement there would see a call stock never makes
    validator = getattr(adapter, "__dict__", {}).get("validator")
    if (type(validator) is not SchemaValidator or validator.validate_python(probe) is not probe
            or "attempt_failure" not in core.__dict__):
        raise RuntimeError("the process callback list is not read as itself")
    mixin = callbacks.RustOptionalChecks
    checks_type = callbacks.OptionalChecks
    custom_logger = callbacks.CustomLogger
    base = custom_logger.__dict__["async_filter_deployments"]
    for klass in (mixin, checks_type, host.PythonHost, custom_logger):
        if type(klass) is not type:
            raise RuntimeError("a class the callback filters read has a metaclass")
    if type(base) is not types.FunctionType or host.PythonHost.__dict__.get("__slots__") != ():
        raise RuntimeError("the callback filters' classes changed")
    return (core.RustCore, mixin, mixin.__dict__["_answer_callback_filters"], mixin.__dict__["_opt"], checks_type,
            checks_type.__dict__["has_filters"], checks_type.__dict__["routing_callbacks"], host.PythonHost,
            host.PythonHost.__dict__["callback_list"], callbacks.__dict__, callbacks._callbacks,
            callbacks.filters_deployments, custom_logger, base, host.__dict__, adapter, type(adapter),
            sys.modules["litellm"], typing.cast, abc.ABCMeta)


def _no_code_class(klass: Any, getattribute: Any) -> Any:
    """``klass``'s MRO (a type stands for its dict) when ``isinstance(obj, CustomLogger)`` and
    ``type(obj).async_filter_deployments`` read no code for an instance of it
    (its metaclass ``type`` or ``ABCMeta``, object's or str's look-up of
    ``__class__``), else None."""
    mro = klass.__mro__
    if type(klass) is not getattribute[1][0] and type(klass) is not getattribute[1][1]:
        return None
    found = klass.__getattribute__
    if (found is not getattribute[0][0] and found is not getattribute[0][1]) or any(
            "__class__" in base.__dict__ for base in mro if base is not object):
        return None
    return mro


def _filter_state(state: Any, fp: Any, callbacks: Any) -> Any:
    """Whether LiteLLM's ``_answer_callback_filters`` finds no filter without
    running code not LiteLLM's, for this core and this process callback list:
    the pinned methods found first on the core's and the checks' classes (none
    on the instances), no request-scoped selectors or policies, the host
    reading ``litellm.callbacks`` through ``_LITELLM_GLOBAL`` (which hands it
    back as itself), and every callback's class found to hold no
    ``async_filter_deployments`` of its own (``filters_deployments`` False) by
    look-ups that run no code: (dicts read, (the checks object, its dict, the
    host, the core's and the checks' MROs, then the callbacks' classes));
    else NotAccelerated."""
    (rust_core, mixin, answer, opt, checks_type, has_filters, routing_callbacks, host_type, callback_list,
     callbacks_globals, callbacks_fn, filters_fn, custom_logger, base, host_globals, adapter, adapter_type,
     litellm_module, cast, abc_meta) = fp
    decline = NotAccelerated("a callback filter may run")
    core_mro = rust_core.__mro__
    found = {}
    for name in ("_answer_callback_filters", "_opt"):
        for klass in core_mro:
            if name in klass.__dict__:
                found[name] = klass.__dict__[name]
                break
    checks = state.get("_checks")
    if (found.get("_answer_callback_filters") is not answer or found.get("_opt") is not opt
            or "_answer_callback_filters" in state or type(checks) is not checks_type):
        raise decline
    checks_state = checks.__dict__
    checks_mro = checks_type.__mro__
    host = checks_state.get("_host")
    if (checks_type.__dict__.get("has_filters") is not has_filters
            or checks_type.__dict__.get("routing_callbacks") is not routing_callbacks
            or checks_type.__getattribute__ is not _OBJECT_GETATTRIBUTE
            or "has_filters" in checks_state or "routing_callbacks" in checks_state
            or any(name in klass.__dict__ for klass in checks_mro
                   for name in ("_request_scoped_selectors", "_request_scoped_policies", "_host"))
            or type(selectors := checks_state.get("_request_scoped_selectors")) is not tuple or selectors
            or type(policies := checks_state.get("_request_scoped_policies")) is not tuple or policies
            or type(host) is not host_type or host_type.__dict__.get("callback_list") is not callback_list
            or host_type.__getattribute__ is not _OBJECT_GETATTRIBUTE or host_type.__mro__ != (host_type, object)
            or callbacks_globals.get("_callbacks") is not callbacks_fn
            or callbacks_globals.get("filters_deployments") is not filters_fn
            or callbacks_globals.get("CustomLogger") is not custom_logger
            or custom_logger.__dict__.get("async_filter_deployments") is not base
            or any(name in callbacks_globals for name in ("isinstance", "type", "any", "tuple", "str", "list", "dict"))
            or host_globals.get("_LITELLM_GLOBAL") is not adapter or type(adapter) is not adapter_type
            or host_globals.get("litellm") is not litellm_module or host_globals.get("cast") is not cast
            or any(name in host_globals for name in ("getattr",))
            or type(callbacks) is not list):
        raise decline
    adapter_state = getattr(adapter, "__dict__", None)
    if type(adapter_state) is not dict or "validate_python" in adapter_state:
        raise decline
    getattribute = ((_OBJECT_GETATTRIBUTE, str.__getattribute__), (type, abc_meta))
    read = [state, *core_mro, checks_state, *checks_mro, host_type, callbacks_globals, host_globals, custom_logger,
            *adapter_type.__mro__, adapter_state, abc_meta]
    kinds = []
    for callback in callbacks:
        klass = type(callback)
        dicts = _no_code_class(klass, getattribute)
        if dicts is None:
            raise decline
        if custom_logger in dicts:  # isinstance(callback, CustomLogger): its filter
            for mro_class in dicts:
                if "async_filter_deployments" in mro_class.__dict__:
                    if mro_class.__dict__["async_filter_deployments"] is not base:
                        raise decline  # a filter (or a look-up that may run code)
                    break
        read.extend(dicts)
        kinds.append(klass)
        kinds.append(dicts)  # its MRO: a __bases__ assignment changes it and no dict's tag
    # (flat: a memo compares the values it found element by element; what filters_deployments
    # reads of a callback is its class and the classes it looks the filter up on)
    return tuple(read), (checks, checks_state, host, core_mro, checks_mro, *kinds)


def _select_parts() -> Any:
    _check_pinned(_SELECT_SOURCES)
    import collections.abc
    import importlib

    core = sys.modules[_CORE]
    least_busy = importlib.import_module("litellm.router_strategy.least_busy")
    runtime = importlib.import_module(_OTEL_RUNTIME)
    selection = core._Selection
    if type(selection) is not type or selection.__mro__ != (selection, object):
        raise RuntimeError("_Selection is not a plain class")
    methods = tuple((name, selection.__dict__[name]) for name in ("__init__", "run", "_run", "_resolved_pod"))
    pods = importlib.import_module(_PODS)
    discovery = pods.KubernetesPodDiscovery
    if type(discovery) is not type:
        raise RuntimeError("KubernetesPodDiscovery has a metaclass")
    pod_methods = tuple((name, discovery.__dict__[name]) for name in _POD_METHODS)
    selection_module = importlib.import_module(_SELECTION)
    v2 = importlib.import_module(_V2)
    classes = tuple(getattr(selection_module, name) for name, _strategies in _PICK_CASES)
    import abc

    for klass in classes:
        # disjoint, and an isinstance against each runs no code: type's, or ABCMeta's with no
        # __subclasshook__ but object's in the MRO (its caches are all it changes)
        if (type(klass) not in (type, abc.ABCMeta)
                or any("__subclasshook__" in base.__dict__ for base in klass.__mro__ if base is not object)
                or any(other is not klass and issubclass(klass, other) for other in classes)):
            raise RuntimeError("pick_async's selector classes are not disjoint plain classes")
    prefetched = v2.PrefetchedUsage
    answer = (core.RustCore, core.RustCore.__dict__["_answer_select"], core._pick_with_prefetched_usage,
              selection_module.pick_async, selection_module.__dict__, classes, v2.__dict__, prefetched,
              prefetched.__dict__["scoped"])
    try:
        init = _selection_init_parts()
    except Exception:  # noqa: BLE001 - a changed LiteLLM: LiteLLM's __init__ sets every selection up
        init = None
    try:
        least_busy_call = _least_busy_call_parts(classes[0])
    except Exception:  # noqa: BLE001 - a changed LiteLLM: the least-busy pick through its decorator
        least_busy_call = None
    try:
        _check_pinned((_CORE + ":RustCore.service_logged",))
        service_logged = core.RustCore.__dict__["service_logged"]
    except Exception:  # noqa: BLE001 - a changed LiteLLM: its service_logged schedules the event
        service_logged = None
    try:  # session 21: the deleted-reads check answered inline while nothing is deleted
        _check_pinned((_CORE + ":RustCore._refuse_deleted_reads",))
        refuse_deleted = core.RustCore.__dict__["_refuse_deleted_reads"]
    except Exception:  # noqa: BLE001 - a changed LiteLLM: its method runs
        refuse_deleted = None
    try:  # session 21: the strategy step's answer (_pick_answer) made inline for a plain pick
        pick_answer = _pick_answer_parts(core, selection_module)
    except Exception:  # noqa: BLE001 - a changed LiteLLM: its _pick_answer answers
        pick_answer = None
    try:  # session 21: pick_reserves(default)'s context-variable read made inline
        _check_pinned(("litellm.router_strategy.least_busy:pick_reserves",))
        pick_reserves = least_busy.pick_reserves
    except Exception:  # noqa: BLE001 - a changed LiteLLM: its function is called
        pick_reserves = None
    try:  # session 25: the service event's parent span read made inline (span_absent)
        import typing

        _check_pinned((_SPAN_SOURCE,))
        helpers = importlib.import_module(_HELPERS_MODULE)
        span_parts = (helpers.get_parent_otel_span_from_kwargs, helpers.__dict__, typing.cast)
    except Exception:  # noqa: BLE001 - a changed LiteLLM: its function is called
        span_parts = None
    return (core.__dict__, selection, methods, least_busy.__dict__, least_busy.picks_reserve, runtime,
            runtime.phase_span, runtime._otel_runtime, collections.abc.Mapping,
            (pods.__dict__, discovery, pod_methods, pods.cast), answer, init, least_busy_call, service_logged,
            refuse_deleted, pick_answer, pick_reserves, span_parts)


# abc's own isinstance hook (ABCMeta's __instancecheck__, calling _abc's C check), as found at import
_ABC_INSTANCECHECK = _ABC.ABCMeta.__dict__.get("__instancecheck__")


def _pick_answer_parts(core: Any, selection_module: Any) -> Any:
    """What ``_pick_answer(step, candidates, picked)`` reads (pins checked):
    LiteLLM's ``_pick_answer`` and ``picked_id`` (as the core module binds it),
    ``as_str_mapping`` as ``picked_id``'s module binds it, ``core_helpers``' module
    dict, and abc's ``_abc_instancecheck`` (what ``ABCMeta.__instancecheck__`` calls)."""
    import _abc
    import importlib

    _check_pinned((_CORE + ":_pick_answer", _SELECTION + ":picked_id",
                   "litellm.litellm_core_utils.core_helpers:as_str_mapping"))
    core_helpers = importlib.import_module("litellm.litellm_core_utils.core_helpers")
    instancecheck = _ABC_INSTANCECHECK
    if (core.__dict__.get("picked_id") is not selection_module.picked_id
            or selection_module.__dict__.get("as_str_mapping") is not core_helpers.as_str_mapping
            or getattr(instancecheck, "__module__", None) != "abc"
            or _ABC.__dict__.get("_abc_instancecheck") is not _abc._abc_instancecheck):
        raise RuntimeError("_pick_answer's helpers are not LiteLLM's and abc's own")
    return (core._pick_answer, selection_module.picked_id, core_helpers.as_str_mapping, core_helpers.__dict__,
            _ABC.__dict__, _abc._abc_instancecheck)


_LEAST_BUSY_CALL_SOURCES = (
    "litellm.router_strategy.least_busy:LeastBusyLoggingHandler.async_get_available_deployments",
    "litellm._internal_context:with_service_target",
    "litellm._internal_context:service_target",
    "litellm._internal_context:_restore",
)


def _least_busy_call_parts(handler: Any) -> Any:
    """What the least-busy pick's service target set inline relies on (pins
    checked): LiteLLM's ``async_get_available_deployments`` as
    ``with_service_target(ROUTER_USAGE_TARGET)`` made it (``run_async``'s code,
    its closure holding the pinned body and a ``call_target`` that returns
    that target), ``_internal_context``'s module dict and its
    ``service_target``, ``_restore`` and ``_service_target``."""
    _check_pinned(_LEAST_BUSY_CALL_SOURCES)
    from litellm import _internal_context
    from litellm.redis.stores.router_usage import ROUTER_USAGE_TARGET

    decorate = _code_named(_internal_context.with_service_target, "decorate")
    run_async = _nested_code(decorate, "run_async")
    call_target_code = _code_named(_internal_context.with_service_target, "call_target")
    decorated = handler.__dict__["async_get_available_deployments"]
    if (type(decorated) is not types.FunctionType or decorated.__code__ is not run_async
            or run_async.co_freevars != ("awaitable_fn", "call_target")):
        raise RuntimeError("least-busy's pick is not with_service_target's wrapper")
    inner_cell, target_cell = decorated.__closure__
    inner = inner_cell.cell_contents
    call_target = target_cell.cell_contents
    if (inner is not decorated.__wrapped__ or type(inner) is not types.FunctionType
            or call_target.__code__ is not call_target_code
            or call_target.__code__.co_freevars != ("preserve_existing", "target")):
        raise RuntimeError("least-busy's pick is not with_service_target's wrapper")
    preserve_cell, target_value_cell = call_target.__closure__
    if preserve_cell.cell_contents is not False or target_value_cell.cell_contents != ROUTER_USAGE_TARGET or type(
            target_value_cell.cell_contents) is not str:
        raise RuntimeError("least-busy's pick has another service target")
    return (handler, decorated, inner, (inner_cell, target_cell, preserve_cell, target_value_cell),
            (inner, call_target, False, target_value_cell.cell_contents), _internal_context.__dict__,
            (_internal_context.service_target, _internal_context._restore, _internal_context._service_target))


# what a pick's pod resolution runs on a deployment (_Selection._resolved_pod)
_POD_METHODS = ("async_resolve_deployment", "_eligible", "_target")


def _select_state(p: Any) -> Any:
    """The bindings the fused pick relies on (LiteLLM's ``_Selection`` with its
    pinned ``__init__`` / ``run`` / ``_run``, ``picks_reserve`` and its context
    variable, ``Mapping``, the OTel runtime's ``phase_span`` and
    ``_otel_runtime``): (dicts read, (the context variable, whether the pod
    resolution can be made inline, whether the strategy step can be answered
    in the loop, then what ``_selection_init_state`` found when the selection
    can be set up inline, else five None, whether least-busy's decorated pick
    and the service event can be made inline, and (session 21) whether the
    deleted-reads check, ``_pick_answer`` and ``pick_reserves`` can)); else (a
    None among the dicts: not kept; ())."""
    import contextvars

    (core_globals, selection, methods, least_busy, picks_reserve, runtime, phase_span, otel_runtime,
     mapping, (pods, discovery, pod_methods, cast), answer, init, least_busy_call, service_logged,
     refuse_deleted, pick_answer, pick_reserves, span_parts) = p
    (rust_core, answer_select, prefetched_pick, pick_async, selection_module, classes, v2, prefetched,
     scoped) = answer
    reserves = least_busy.get("_PICK_RESERVES")
    # session 21: core._refuse_deleted_reads(...) is LiteLLM's method on the class, and the
    # core's _deleted read finds the instance dict's value (no class in the MRO holds the name)
    deleted_plain = (refuse_deleted is not None
                     and rust_core.__dict__.get("_refuse_deleted_reads") is refuse_deleted
                     and not any("_deleted" in klass.__dict__ for klass in rust_core.__mro__))
    # session 21: _pick_answer's reads (its module bindings, picked_id's, as_str_mapping's Mapping,
    # ABCMeta's __instancecheck__ abc's own over _abc's C check)
    answer_read: tuple = ()
    answer_inline = False
    if pick_answer is not None:
        answer_fn, picked_id, as_mapping, helpers_globals, abc_globals, abc_check = pick_answer
        answer_read = (helpers_globals, abc_globals, _ABC.ABCMeta)
        answer_inline = (core_globals.get("_pick_answer") is answer_fn and core_globals.get("picked_id") is picked_id
                         and selection_module.get("picked_id") is picked_id
                         and selection_module.get("as_str_mapping") is as_mapping
                         and helpers_globals.get("Mapping") is mapping and type(mapping) is _ABC.ABCMeta
                         and _ABC.ABCMeta.__dict__.get("__instancecheck__") is _ABC_INSTANCECHECK
                         and abc_globals.get("_abc_instancecheck") is abc_check)
    # the strategy step's answer can be made in the loop (_answer_select's own calls)
    answer_plain = (rust_core.__dict__.get("_answer_select") is answer_select
                    and core_globals.get("_pick_with_prefetched_usage") is prefetched_pick
                    and core_globals.get("pick_async") is pick_async
                    and all(selection_module.get(name) is klass for (name, _s), klass in zip(_PICK_CASES, classes))
                    and v2.get("PrefetchedUsage") is prefetched and prefetched.__dict__.get("scoped") is scoped
                    and type(v2.get("_active_prefetched_usage")) is contextvars.ContextVar)
    runtime_globals = runtime.__dict__
    # the pod resolution of a deployment without kubernetes_pod_discovery is pure (below)
    pods_plain = (pods.get("Mapping") is mapping and pods.get("cast") is cast
                  and all(discovery.__dict__.get(name) is method for name, method in pod_methods))
    if (core_globals.get("_Selection") is not selection or core_globals.get("picks_reserve") is not picks_reserve
            or core_globals.get("Mapping") is not mapping or type(reserves) is not contextvars.ContextVar
            or runtime_globals.get("phase_span") is not phase_span
            or runtime_globals.get("_otel_runtime") is not otel_runtime
            or any(selection.__dict__.get(name) is not method for name, method in methods)
            # the core's attribute look-ups run no code (the loop reads core.__dict__, and the
            # callback-filter answer, the strategy answer and the service event skip look-ups)
            or rust_core.__getattribute__ is not _OBJECT_GETATTRIBUTE):
        return (None,), ()
    # the selection's set-up made in the fused pick (_selection_init_state)
    init_read, init_known = _selection_init_state(core_globals, selection, init) if init is not None else ((), None)
    # least-busy's pick called with its service target set here: LiteLLM's decorated method
    # on the class, _internal_context's bindings the pinned ones (the closure cells: per pick)
    least_busy_plain = False
    if least_busy_call is not None:
        handler, decorated, _inner, _cells, _contents, context_globals, context_bindings = least_busy_call
        least_busy_plain = (handler.__dict__.get("async_get_available_deployments") is decorated
                            and handler.__getattribute__ is _OBJECT_GETATTRIBUTE
                            and context_globals.get("service_target") is context_bindings[0]
                            and context_globals.get("_restore") is context_bindings[1]
                            and context_globals.get("_service_target") is context_bindings[2]
                            and type(context_bindings[2]) is contextvars.ContextVar)
        init_read = (*init_read, handler, context_globals)
    # session 25: get_parent_otel_span_from_kwargs's own reads pure (its cast and Mapping the ones
    # found at build, as pods_plain has them): the pinned function, kept as known[13]
    span_fn = None
    if span_parts is not None:
        span_fn, span_globals, span_cast = span_parts
        answer_read = (*answer_read, span_globals)
        if span_globals.get("cast") is not span_cast or span_globals.get("Mapping") is not mapping:
            span_fn = None
    # (the MROs flattened: a memo compares the values it found element by element)
    return (core_globals, selection, least_busy, runtime_globals, pods, discovery, *rust_core.__mro__,
            selection_module, v2, prefetched, *init_read, *answer_read), (
                reserves, pods_plain, answer_plain, *(init_known if init_known is not None else (None,) * 5),
                least_busy_plain,
                service_logged is not None and rust_core.__dict__.get("service_logged") is service_logged,
                deleted_plain, answer_inline,
                # pick_reserves(default) is _PICK_RESERVES.get(default): LiteLLM's function bound in the
                # core module and reading least_busy's context variable (session 21)
                pick_reserves is not None and core_globals.get("pick_reserves") is pick_reserves
                and least_busy.get("_PICK_RESERVES") is reserves,
                span_fn,
                # (session 22 hunt) the core's MRO these verdicts were found at: a __bases__
                # assignment changes no dict's tag (compared per pick, held: not reused)
                rust_core.__mro__)


def _call_id_parts() -> Any:
    """least-busy's ``call_id_of``, pinned (what least_busy_call_id reads back)."""
    _check_pinned(("litellm.router_strategy.least_busy:call_id_of",))
    from litellm.router_strategy import least_busy

    return least_busy.call_id_of


# asyncio.tasks.create_task and _set_task_name as read on 3.11.7 (session 24, route24b): the
# service event's Task made by RouterCreateTask's steps while these are the bound functions
_CREATE_TASK_CALL_SOURCES = {
    (3, 11): (("create_task", "160d912c99aadb347d74d70f810f8a7521340ca6858d8bf15b597fb74898f8b7"),
              ("_set_task_name", "1d333b6b6f8bcb5ae7c0c9eaeb6a5691ee3315ebb033ed812b16bbf2066a42d1")),
}


def _call_one(fn: Any, arg: Any) -> Any:
    """``fn(arg)``: the service event's Task where ``RouterCreateTask`` is not built."""
    return fn(arg)


def make_service_task() -> Any:
    """``maker(fn, coro)``: ``fn(coro)`` for ``fn`` the ``asyncio.create_task`` just read,
    its steps made in C (``RouterCreateTask``, bind_router.c) while ``fn`` is CPython
    3.11's ``tasks.create_task`` (source pinned), ``_set_task_name`` the pinned one (a
    no-op for no name) and ``events.get_running_loop`` the C function: the running loop
    read without 3.11's ``getpid()`` (RouterGatherTwo's read), ``BaseEventLoop.create_task``'s
    body while RouterGatherTwo's checks say the loop's method is that; anything else is
    ``fn(coro)``, called from C (another CPython or source: always).  None where the
    native core has no such type (``_call_one`` then)."""
    __import__("asyncio")  # (imported before _asyncio: the other order loads _asyncio twice)

    table = _CREATE_TASK_CALL_SOURCES.get(sys.version_info[:2])
    from fast_litellm._native_loader import NATIVE

    maker_type = getattr(NATIVE, "RouterCreateTask", None)
    gather_type = getattr(NATIVE, "RouterGatherTwo", None)
    if maker_type is None or gather_type is None:
        return None
    gather = litellm_fast.make_gather_two()
    if type(gather) is not gather_type:
        return None
    # (fn is never _call_one: fn(coro) called from C, no frame; for another CPython or source)
    passing = maker_type(gather, _call_one, (), object())
    if table is None:
        return passing
    try:
        import _asyncio
        from asyncio import events, tasks

        from fast_litellm.patching import guards

        functions = guards.pinned_functions(vars(tasks), table)
        if functions is None or vars(events).get("get_running_loop") is not _asyncio.get_running_loop:
            return passing
        entries = (vars(tasks), "events", events, vars(events), "get_running_loop", _asyncio.get_running_loop,
                   vars(tasks), "_set_task_name", functions[1])
        return maker_type(gather, functions[0], entries, object())
    except Exception:  # noqa: BLE001 - unreadable source: asyncio.create_task called
        return passing


def make_select(original: Callable[..., Any]) -> Callable[..., Any]:
    """``RustCore.select(model, request_kwargs, kind="pick", ...)``: LiteLLM's
    ``select``, ``_Selection.run`` and ``_Selection._run`` in one coroutine
    for a pick (``kind == "pick"``).  The same calls in the same order: the
    deleted-reads check, LiteLLM's ``_Selection`` (its ``__init__``: the
    routing fields, the Rust call), ``picks_reserve(False)``'s context
    variable set and reset (the generator's own two calls, made here),
    ``phase_span``'s OTel runtime read, the usage-read scope, and the step
    loop dispatching each step to the core's method as ``_run`` does (so
    every patch of those methods, ours included, runs as before), then
    ``_done`` and ``_resolved_pod``.  What is left out is pure: the two
    coroutine frames, the generator context managers' frames and the
    ``phase_span`` of a process with no OTel v2 logger (``_otel_runtime()``
    None, or LiteLLM's logger ``phase_span`` with the proxy server not
    loaded, where ``_registered_v2_logger()`` is None without running code:
    the span is a no-op); with a logger registered, the logger's span is
    entered as LiteLLM's ``phase_span`` enters it.  Every other kind, or
    bindings that are not the pinned ones, is LiteLLM's ``select``."""
    parts = _lazily(_select_parts, "LiteLLM's selection sources are not the verified ones")
    sys_modules = sys.modules
    # the service event's asyncio.create_task(...) (session 24): its steps in C where built
    make_task = make_service_task() or _call_one
    memo = _StateMemo()  # the module and class bindings (_select_state)
    logger_parts: list = []  # [logger phase_span, its module dict, _registered_v2_logger] once pinned

    def logger_span(span):
        """(LiteLLM's logger ``phase_span``, its module dict, its
        ``_registered_v2_logger``) when ``span`` is that pinned function, else None
        (found once: the first runtime value seen)."""
        if not logger_parts:
            logger_parts.append(None)
            try:
                from fast_litellm.patching import guards

                # contextmanager's helper calls the generator function it closes over
                generator = dict(zip(span.__code__.co_freevars, (c.cell_contents for c in span.__closure__)))["func"]
                module_globals = generator.__globals__
                registered = module_globals.get("_registered_v2_logger")
                if (generator is span.__wrapped__ and guards.is_pinned_source(_OTEL_LOGGER_SOURCES[0], span)
                        and guards.is_pinned_source(_OTEL_LOGGER_SOURCES[1], registered)):
                    logger_parts[0] = (span, module_globals, registered)
            except Exception:  # noqa: BLE001 - not LiteLLM's logger: its span is entered
                pass
        return logger_parts[0]

    async def strategy_answer(core, step, request, messages, input, pass_through, core_globals, answer,
                              least_busy_call, service_inline, answer_inline=None, init=None, known=None):
        """``RustCore._answer_select`` for a step whose stage is "strategy" (none
        of the stages it answers first), with ``_pick_with_prefetched_usage``
        (``PrefetchedUsage.scoped``'s context variable set and reset inline) and
        ``pick_async`` in the same coroutine: for a selector of one of LiteLLM's
        own classes (exact type; the classes are disjoint, so only that class's
        case can match) the case's call is made here, any other selector goes to
        ``pick_async`` itself.  Every LiteLLM call in LiteLLM's order, each
        module global read where LiteLLM reads it."""
        (_rust_core, _answer_select, _prefetched_pick, _pick_async, selection_module, classes, v2, _prefetched,
         _scoped) = answer
        inputs = core._strategy_inputs(step, request)
        if inputs is None:
            return step["candidates"]
        strategy, selector, model, candidates = inputs
        pinned = bool(request.get("_encrypted_content_affinity_pinned")) and len(candidates) == 1
        if selector is None and not pinned:
            return []
        if pinned or strategy == "simple-shuffle" or pass_through:
            timed = not pinned and strategy != "simple-shuffle"
        else:
            # core._picks_async(): picks_async(normalize_strategy(core._resolved.routing_strategy)),
            # for an exact-str strategy its membership in LiteLLM's frozenset of exact strs, while the
            # select memo found the selection's set-up readable without code (known[3]: the method,
            # both functions and the frozenset as pinned; session 21); else LiteLLM's method
            state = core.__dict__
            resolved = state.get("_resolved")
            if (known is not None and known[3] is not None and type(core) is init[0] and init[0].__mro__ is known[3]
                    and type(resolved) is init[1] and init[1].__mro__ is known[4] and "_picks_async" not in state
                    and type(routing := resolved.routing_strategy) is str
                    and type(async_strategies := init[14].get("_ASYNC_PICK_STRATEGIES")) is frozenset):
                timed = routing in async_strategies
            else:
                timed = core._picks_async()
        clock = core_globals["perf_counter"] if pass_through else core_globals["unix_time"]
        start_time = clock()
        if pinned:
            picked = candidates[0]
        else:
            request_kwargs = dict(request)
            # pick_reserves(default=...): its context variable read here while the select memo found
            # the function and its binding LiteLLM's (known[12]; session 21)
            reserve = (known[0].get(not pass_through) if known is not None and known[12]
                       else core_globals["pick_reserves"](default=not pass_through)) and bool(request)
            # _pick_with_prefetched_usage: PrefetchedUsage.scoped(...) around pick_async(...)
            usage_read = core_globals["_USAGE_READ"].get()
            token = v2["_active_prefetched_usage"].set(
                usage_read[0].prefetched_usage if usage_read is not None else None)
            try:
                # pick_async's match for a selector of exactly one of its classes with that
                # class's own strategy: that case's call (the cases before it cannot match,
                # their isinstance checks run no code); anything else: pick_async itself
                kind = type(selector)
                if kind is classes[0] and strategy == "least-busy":  # case LeastBusyLoggingHandler()
                    # with_service_target(ROUTER_USAGE_TARGET)'s run_async spelled out while the
                    # method is LiteLLM's decorated one (least_busy_call: found by the select memo)
                    # and its closure the one found at build: service_target's set, the pinned
                    # body, _restore's reset (a ValueError suppressed)
                    if least_busy_call is not None and kind.__getattribute__ is _OBJECT_GETATTRIBUTE and (
                            "async_get_available_deployments" not in selector.__dict__) and (
                            least_busy_cells(least_busy_call)):  # (__getattribute__: session 22 hunt)
                        call_id = least_busy_call_id(selection_module, request_kwargs)
                        context_globals = least_busy_call[5]
                        target_token = least_busy_call[6][2].set(least_busy_call[4][3])
                        try:
                            picked = await least_busy_call[2](selector, model_group=model,
                                                              healthy_deployments=candidates, reserve=reserve,
                                                              call_id=call_id)
                        finally:
                            try:
                                context_globals["_service_target"].reset(target_token)
                            except ValueError:  # _restore's suppress: closed from another context
                                pass
                    else:
                        picked = await selector.async_get_available_deployments(
                            model_group=model, healthy_deployments=candidates, reserve=reserve,
                            call_id=least_busy_call_id(selection_module, request_kwargs))
                elif kind is classes[4] and strategy == "latency-based-routing":  # LowestLatencyLoggingHandler()
                    picked = await selector.async_get_available_deployments(
                        model_group=model, healthy_deployments=candidates, messages=messages, input=input,
                        request_kwargs=request_kwargs)
                elif ((kind is classes[2] and strategy == "usage-based-routing-v2")
                        or (kind is classes[3] and strategy == "cost-based-routing")):  # v2 | cost
                    # v2: its call made here when it is LiteLLM's with our patches serving (session 20)
                    v2_pick = usage_v2_pick() if kind is classes[2] else None
                    picked = (_V2_DECLINED if v2_pick is None
                              else await v2_pick(selector, model, candidates, messages, input))
                    if picked is _V2_DECLINED:
                        picked = await selector.async_get_available_deployments(
                            model_group=model, healthy_deployments=candidates, messages=messages, input=input)
                else:
                    picked = await core_globals["pick_async"](strategy, selector, model, candidates, messages,
                                                              input, request_kwargs, reserve=reserve)
            finally:
                v2["_active_prefetched_usage"].reset(token)
        if picked is not None and selector is not None and core._selectors.is_override(strategy, selector):
            await selector.async_pre_call_check(dict(core_globals["as_str_mapping"](picked) or {}), None)
        if picked is not None and timed:
            asyncio_module = sys_modules.get("asyncio")
            helpers_module = sys_modules.get(_HELPERS_MODULE)
            services_module = sys_modules.get(_SERVICES)
            if (service_inline and "service_logged" not in core.__dict__ and asyncio_module is not None
                    # (_imports_plainly of each, spelled out: session 21)
                    and type(helpers_module) is module_type
                    and "get_parent_otel_span_from_kwargs" in helpers_module.__dict__
                    and type(services_module) is module_type and "ServiceTypes" in services_module.__dict__
                    and _BUILTINS.get("__import__") is _BUILTIN_IMPORT):
                # RustCore.service_logged's body (its three imports: loaded modules, read as its
                # import statements read them): the same task of the same coroutine; the clock
                # read where LiteLLM reads it, after the (pure) method look-up
                end_time = clock()
                get_span = helpers_module.get_parent_otel_span_from_kwargs
                service_types = services_module.ServiceTypes
                # get_span(request): None without its call while it is the pinned function whose
                # bindings the select memo found plain (known[13]) and its reads of this request
                # find no span with no code run (span_absent; session 25)
                make_task(asyncio_module.create_task, core.service_logger_obj.async_service_success_hook(
                    service=service_types.ROUTER, duration=end_time - start_time,
                    call_type="<routing_strategy>.async_get_available_deployments", start_time=start_time,
                    end_time=end_time, parent_otel_span=None if (
                        known is not None and get_span is known[13] and type(request) is dict
                        and (not request or _span_absent(request, _SPAN_NAMES))) else get_span(request)))
            else:  # (the method looked up before the clock is read, as LiteLLM's call does)
                core.service_logged("<routing_strategy>.async_get_available_deployments", start_time, clock(),
                                    request)
        # _pick_answer(step, candidates, picked) (session 21): for an exact, str-keyed picked dict
        # whose exact, str-keyed model_info holds an exact-str id, and a step carrying no records,
        # [that id] (picked_id's two as_str_mapping isinstance checks against Mapping are True for
        # exact dicts, with abc's own hook; str() of an exact str is itself; every read runs no
        # code), while the select memo found its bindings LiteLLM's (answer_inline: its
        # _pick_answer, bound in the core module as found at build) and the
        # builtins picked_id reads are the interpreter's; anything else: LiteLLM's function
        if answer_inline is not None and type(picked) is dict and type(step) is dict and core_globals.get(
                "_pick_answer") is answer_inline and str_keyed(picked) and str_keyed(step):
            info = picked.get("model_info")
            if type(info) is dict and str_keyed(info):
                found = info.get("id")
                if (type(found) is str and step.get("records") is None
                        and (lb_memo.get(lb_globals, _BUILTINS) or lb_memo.remember(lb_globals, _BUILTINS, lb_check))):
                    return [found]
        return core_globals["_pick_answer"](step, candidates, picked)

    import abc

    new_object = object.__new__
    # (with the methods the inline ``_group_policy_fields`` answer skips: session 23 hunt)
    init_methods = frozenset(_SELECTION_INIT_METHODS + ("_group_policies", "_policy_lookup_names"))
    narrowing_keys = _NARROWING_KEYS
    refused_keys = frozenset(_VALIDATED_KEYS + _NARROWING_KEYS + ("model_group_retry_policy",))
    module_type = types.ModuleType
    cache_token = abc.get_cache_token
    read_start_fields = _read_start_fields
    # the start fields' validation and dump, and the retry-policy check's, are skipped
    skipped_validations = litellm_fast.written_policy_check()

    def set_up(selection_type, core, model, request, specific_deployment, messages, input, init, known,
               core_globals):
        """LiteLLM's ``_Selection(core, model, request, "pick", specific_deployment,
        messages, input, probe=False)``, its ``__init__`` made here when what each
        helper it calls answers is known from the request and the core's state: an
        exact str model, a request whose start fields are known without pydantic
        (``_start_buckets``' conditions, no ``num_retries``, ``_read_start_fields``),
        no retry policy on the request or the router, no narrowing keys, and a
        tag-filtering setting read without code (the core's cache of
        ``_model_tag_filtering`` is read when current, else that method runs).  The
        same attributes in the same order, the same fields document (a new dict of
        exact strs and True, which ``_document``'s plain copy equals), the same Rust
        call; the request's image and web-search checks are LiteLLM's calls unless
        the request has nothing for them to look at (no messages, input or tools),
        and the routing-state sync is LiteLLM's method unless its three checks are
        found to send nothing.  None (before anything ran) when not known: LiteLLM's
        ``__init__`` sets it up.  ``known``: the select memo's value (the MROs and
        the ABC cache token from index 3), with the token just found current."""
        (rust_core, resolved_type, _allowed_default, _methods, _functions, image_name, image, _contains, _rcu,
         _helpers, _mapping, host_registry, litellm_module, _start, _prerouting, _selection, _strategy) = init
        if (type(model) is not str or type(core) is not rust_core or rust_core.__mro__ is not known[3]
                or type(selection_type) is not type or selection_type.__mro__ is not known[6]
                or type(request) is not dict):  # (the ABC cache token: compared by the caller)
            return None
        state = core.__dict__
        # (session 21, route21c) the core-side reads kept while their dicts hold their tags
        kept = setup_memo.get(state, host_registry)
        if kept is None and not state.keys().isdisjoint(init_methods):
            return None
        for key in request:  # exact-str keys, none validated, narrowing or a retry policy
            if type(key) is not str or key in refused_keys:
                return None
        metadata = request.get("metadata")
        litellm_metadata = request.get("litellm_metadata")
        if request.get("routing_strategy") is not None or request.get("num_retries") is not None or (
                metadata is not None and type(metadata) is not dict) or (
                litellm_metadata is not None and type(litellm_metadata) is not dict):
            return None
        resolved = state.get("_resolved")
        if type(resolved) is not resolved_type or resolved_type.__mro__ is not known[4]:
            return None
        policies = resolved.model_group_retry_policy
        tagging = resolved.enable_tag_filtering
        if (policies is not None and (type(policies) is not dict or policies)) or (
                tagging is not None and type(tagging) is not bool) or not (
                start_validation.check() if kept is not None else skipped_validations(state)):
            return None
        # (what _start_buckets checks on the patch's path)
        if (metadata is not None and not str_keyed(metadata)) or (
                litellm_metadata is not None and not str_keyed(litellm_metadata)):
            return None
        fields = read_start_fields(metadata, litellm_metadata)  # _start_fields(request), a new dict
        if fields is None:
            return None
        # from here what __init__ does, in its order (the start fields above are pure); what
        # raises in it is LiteLLM's (its helpers, the Rust call): the caller's, raised once
        try:
            selection = new_object(selection_type)
            selection._core = core
            selection._model = model
            selection._request = request
            selection._kind = "pick"
            selection._messages = messages
            selection._input = input
            # core._routing_fields(request, messages)
            if tagging or request.get("enable_tag_filtering") is True:
                fields["filter_tags"] = True
            elif kept is not None and kept[5] is not None:
                if kept[5]:  # the core's cache of _model_tag_filtering, current (as below)
                    fields["filter_tags"] = True
            else:
                kept = None  # (the method below may run: every read after it is made again)
                cached = state.get("_tag_filtering_models")
                version = state.get("_version")
                if (type(cached) is tuple and len(cached) == 2 and type(cached[0]) is int and type(version) is int
                        and cached[0] == version and type(cached[1]) is bool):
                    if cached[1]:
                        fields["filter_tags"] = True
                elif core._model_tag_filtering():
                    fields["filter_tags"] = True
            # (_group_policy_fields: {} - no policy on the request or the router)
            # code_ran: a call that may run code not LiteLLM's (the request's own objects: its
            # messages, input or tools) was made; after it every read goes LiteLLM's way
            code_ran = False
            if messages is None and request.get("messages") is None and request.get("input") is None and (
                    sys_modules.get(image_name) is image):
                pass  # request_carries_image: request_contains_image_content(None) is False
            else:
                code_ran = True
                if core_globals["request_carries_image"](messages, request):
                    fields["has_image"] = True
                for key in narrowing_keys:
                    if key in request:  # put there by that code: LiteLLM's pop and fields
                        fields = {**fields, **core_globals["_narrowing_fields"](request, "pick")}
                        fields.pop("specific_deployment", None)
                        break
            if specific_deployment is True:
                fields["specific_deployment"] = True
            # kind == "pick" and core._picks_async() and is_web_search_request(request): both
            # pure, and the second False without tools (None is no list or tuple)
            if code_ran or request.get("tools") is not None or type(resolved.routing_strategy) not in (
                    str, type(None)):
                code_ran = True
                if core._picks_async() and core_globals["is_web_search_request"](request):
                    fields["web_search"] = True
            endpoint = core_globals["selected_endpoint"]()
            if endpoint is not None:
                fields["endpoint"] = endpoint
            fields["pre_routes"] = True
            selection._specific_deployment = specific_deployment
            selection._filter_error = None
            # core._sync_routing_state(): its three checks, when they read no code and send nothing
            synced = False
            if not code_ran and kept is not None:
                # the same three checks, what a tag covers kept: the registry's dict, its plugin
                # list (its contents read now), the index and allowed-fails flags, litellm's value
                hosted = kept[0]
                if (type(hosted) is host_registry and host_registry.__mro__ is known[5]
                        and hosted.__dict__ is kept[1] and type(routing_plugins := resolved.routing_plugins) is tuple
                        and (not kept[2]) == (not routing_plugins)
                        and sys_modules.get("litellm") is litellm_module and type(litellm_module) is module_type):
                    if resolved.explicit_allowed_fails is not None:
                        synced = kept[3] is False
                    else:
                        allowed = resolved.allowed_fails
                        live = kept[4]
                        synced = type(allowed) is int and type(live) is int and (allowed == live) is kept[3]
            elif not code_ran:
                hosted = state.get("_hosted")
                plugins = hosted.__dict__.get("_core_routing_plugins") if type(hosted) is host_registry and (
                    host_registry.__mro__ is known[5]) else None
                written = state.get("_index_written")
                sent = state.get("_allowed_fails_default_sent")
                if (type(plugins) is list and type(routing_plugins := resolved.routing_plugins) is tuple
                        and (not plugins) == (not routing_plugins)
                        and type(written) is frozenset and not written and type(sent) is bool
                        and sys_modules.get("litellm") is litellm_module and type(litellm_module) is module_type):
                    if resolved.explicit_allowed_fails is not None:
                        synced = sent is False  # allowed_fails_is_default() is False
                    else:
                        allowed = resolved.allowed_fails
                        live = litellm_module.__dict__.get("allowed_fails")
                        synced = type(allowed) is int and type(live) is int and (allowed == live) is sent
            if not synced:
                core._sync_routing_state()
            handle = core._handle
            call = handle.select
            document = None
            if not code_ran and (endpoint is None or type(endpoint) is str):
                for value in fields.values():
                    if value is not True and type(value) is not str:
                        break
                else:
                    document = fields  # what _document's plain copy of it equals
            if document is None:
                document = core_globals["_document"](fields)
            # the twin handle (shadow_handle) when it may serve the pick: its call is made here
            # in place of LiteLLM's handle's (the same arguments; nothing else differs until the
            # call's first step, where select checks LiteLLM's handle is still at the twin's
            # snapshot, else makes LiteLLM's call there)
            twin = twin_for(core, handle, model)
            first_known = None
            if twin is not None:
                # a request with no routing field: the twin's call without ``pre_routes``
                # when its first step (pre_route) is known, which select then answers
                if type(document) is dict and document == pre_routes_only and document.get("pre_routes") is True:
                    first_known = twin_first_step(twin, model)
                try:
                    selection._call = twin.shadow.select(model, no_fields if first_known else document)
                except Exception:  # noqa: BLE001 - LiteLLM's call (raising its own error)
                    twin = None
            if twin is None:
                selection._call = call(model, document)
        except Exception as error:
            callers_error(error)
            raise
        if kept is None and setup_tags:
            try:
                setup_memo.remember(state, host_registry, lambda: setup_state(state, host_registry, litellm_module))
            except NotAccelerated:
                pass
        return selection, handle, document, twin, first_known

    def setup_state(state, host_registry, litellm_module):
        """For ``setup_memo``: ``set_up``'s reads of the core's state that a tag
        covers, when they find the plain case (no LiteLLM method on the
        instance, no written retry policy, an exact host registry with an exact
        plugin list, nothing left to index, a bool allowed-fails flag):
        (dicts read, (registry, its dict, its plugin list, the flag,
        ``litellm.allowed_fails``, the tag-filtering cache's answer when current
        else None)); else NotAccelerated (nothing kept)."""
        plain = state.get("_plain")
        hosted = state.get("_hosted")
        written = state.get("_index_written")
        sent = state.get("_allowed_fails_default_sent")
        if (not state.keys().isdisjoint(init_methods) or type(plain) is not dict
                or plain.get("retry_policy") is not None or type(hosted) is not host_registry
                or type(written) is not frozenset or written or type(sent) is not bool
                or type(litellm_module) is not module_type):
            raise NotAccelerated("not kept")
        hosted_state = hosted.__dict__
        plugins = hosted_state.get("_core_routing_plugins")
        if type(hosted_state) is not dict or type(plugins) is not list:
            raise NotAccelerated("not kept")
        litellm_state = litellm_module.__dict__
        cached = state.get("_tag_filtering_models")
        version = state.get("_version")
        tag_answer = cached[1] if (
            type(cached) is tuple and len(cached) == 2 and type(cached[0]) is int and type(version) is int
            and cached[0] == version and type(cached[1]) is bool) else None
        return (state, plain, hosted_state, litellm_state), (hosted, hosted_state, plugins, sent,
                                                              litellm_state.get("allowed_fails"), tag_answer)

    # the last core whose set-up reads were found plain (session 21, route21c)
    setup_memo = _StateMemo()
    setup_tags = _DICT_TAGS is not None
    start_validation = _pydantic_guard.shared(_pydantic_guard.start_fields)  # skipped_validations' guard

    filter_parts = _lazily(_filter_parts, "LiteLLM's callback-filter sources are not the verified ones")
    filters_memo = _StateMemo()  # the last core and process callback list found to filter nothing
    # the last core (its dict, the core module's) filters_absent answered True for, with the
    # dicts of every check a tag covers (session 21, route21c)
    absent_memo = _StateMemo()
    fp_found = []  # filter_parts()' value, once built
    from fast_litellm._native_loader import NATIVE

    first_strs = getattr(NATIVE, "router_first_strs", None)  # list(dict.fromkeys(...)) of exact strs
    # callback_list's _LITELLM_GLOBAL.validate_python, skipped: pydantic's own on LiteLLM's adapter
    callback_validation = _pydantic_guard.shared(_pydantic_guard.callback_list)

    def no_filter_ids(core, step, core_globals):
        """``core._answer_callback_filters(step, ...)``'s answer ``((ids, None), None)``
        with no filter registered: the step's candidate ids, first occurrences in
        order (``list(dict.fromkeys(str(id) ...))`` of exact strs), when LiteLLM's
        ``has_filters()`` is found False without running code (``_filter_state``, kept
        by a guard memo while the process callback list holds the same callbacks);
        None for anything else (then LiteLLM's method answers)."""
        if type(step) is not dict:
            return None
        candidates = step.get("candidates")
        if candidates is None:
            candidates = []
        elif type(candidates) is not list:
            return None
        if first_strs is None:
            for candidate in candidates:
                if type(candidate) is not str:
                    return None
        if not filters_absent(core, core_globals):
            return None
        if first_strs is not None:
            # natively: the exact-str check (else None: LiteLLM's method answers) and
            # the first occurrences in order, what dict.fromkeys keeps (~10 us at
            # 1,000 ids against ~48 for the loop and dict.fromkeys over fresh strs)
            ids = first_strs(candidates)
            return ids if ids is not NotImplemented else None
        return list(dict.fromkeys(candidates))

    def filters_absent(core, core_globals):
        """Whether LiteLLM's answer to a ``callback_filters`` step of ``core``
        would be found, without running code, to apply no filter (then it is
        ``(list(dict.fromkeys(ids)), None)``): ``has_filters()`` False by
        ``_filter_state``, kept by a guard memo while the process callback list
        holds the same callbacks; False when not known."""
        # (session 21, route21c) the answer kept: while the core's dict, the core module's,
        # builtins' and every dict _filter_state read hold their tags, only what no tag covers
        # is checked (the two sys.modules entries, the modules' types, the pydantic guard, the
        # process callback list's contents, the objects' types, instance dicts and MROs)
        if fp_found:
            fp = fp_found[0]
            if type(core) is fp[0]:
                kept = absent_memo.get(core.__dict__, core_globals)
                if kept is not None:
                    litellm_module = kept[0]
                    core_module = kept[1]
                    callbacks = litellm_module.__dict__.get("callbacks")
                    if (sys_modules.get("litellm") is litellm_module and sys_modules.get(_CORE) is core_module
                            and type(litellm_module) is module_type and type(core_module) is module_type
                            # filters_kept(known, callbacks, fp), known = kept[2:]
                            and type(callbacks) is list and (end := len(kept)) == 7 + 2 * len(callbacks)
                            and type(kept[2]) is fp[4] and kept[2].__dict__ is kept[3] and type(kept[4]) is fp[7]
                            and fp[0].__mro__ is kept[5] and fp[4].__mro__ is kept[6]):
                        index = 7  # (end: another thread may append to the list while it is walked)
                        for callback in callbacks:
                            klass = type(callback)
                            if index >= end or klass is not kept[index] or klass.__mro__ is not kept[index + 1]:
                                break
                            index += 2
                        else:
                            # the guard last, its answer final: one call a check, as below
                            return callback_validation.check()
        try:
            fp = filter_parts()
        except NotAccelerated:
            return False
        if type(core) is not fp[0]:
            return False
        if not fp_found:
            fp_found.append(fp)
        litellm_module = fp[17]
        if (_BUILTINS.get("__import__") is not _BUILTIN_IMPORT  # the method's import statement calls a hook
                or sys_modules.get("litellm") is not litellm_module or type(litellm_module) is not module_type
                or sys_modules.get(_CORE) is None or sys_modules[_CORE].__dict__ is not core_globals
                or "attempt_failure" not in core_globals or not callback_validation.check()):
            return False  # getattr(litellm, "callbacks"), the method's import of attempt_failure
        callbacks = litellm_module.__dict__.get("callbacks")
        state = core.__dict__
        known = filters_memo.get(state, fp)
        if known is None or not filters_kept(known, callbacks, fp):
            try:
                known = filters_memo.remember(state, fp, lambda: _filter_state(state, fp, callbacks))
            except NotAccelerated:
                return False
            if not filters_kept(known, callbacks, fp):
                return False
        try:
            absent_memo.remember(state, core_globals, lambda: absent_state(state, core_globals, fp))
        except NotAccelerated:
            pass
        return True

    def absent_state(state, core_globals, fp):
        """For ``absent_memo``: ``filters_absent``'s checks that a tag covers,
        run again, with ``_filter_state``'s: (dicts read, (litellm, the core
        module, then ``_filter_state``'s value)); NotAccelerated when they do
        not hold (nothing kept)."""
        litellm_module = fp[17]
        core_module = sys_modules.get(_CORE)
        if (_BUILTINS.get("__import__") is not _BUILTIN_IMPORT or sys_modules.get("litellm") is not litellm_module
                or type(litellm_module) is not module_type or type(core_module) is not module_type
                or core_module.__dict__ is not core_globals or "attempt_failure" not in core_globals):
            raise NotAccelerated("not kept")
        callbacks = litellm_module.__dict__.get("callbacks")
        read, known = _filter_state(state, fp, callbacks)
        if not filters_kept(known, callbacks, fp):
            raise NotAccelerated("not kept")
        return (_BUILTINS, core_globals, *read), (litellm_module, core_module, *known)

    def filters_kept(known, callbacks, fp):
        """Whether ``_filter_state``'s value still holds for what a tag does not
        cover: the process list (the one read now: an exact list) holding
        callbacks of the same classes with the same MROs, in order
        (``filters_deployments`` reads a callback's class and looks its filter up
        along the MRO, which ``__bases__`` assignment replaces without a dict
        change), the checks object's class and dict, the host's class, the
        MROs."""
        end = len(known)  # (another thread may append to the list while it is walked: session 23 hunt)
        if (type(callbacks) is not list or end != 5 + 2 * len(callbacks) or type(known[0]) is not fp[4]
                or known[0].__dict__ is not known[1] or type(known[2]) is not fp[7] or fp[0].__mro__ is not known[3]
                or fp[4].__mro__ is not known[4]):
            return False
        index = 5
        for callback in callbacks:
            klass = type(callback)
            if index >= end or klass is not known[index] or klass.__mro__ is not known[index + 1]:
                return False
            index += 2
        return True

    shadow_stats = shadow_handle.STATS

    def twin_for(core, handle, model):
        """``shadow_handle.shadow_record``; None when it fails (ours: counted)."""
        try:
            return shadow_handle.shadow_record(core, handle, model)
        except Exception as own:  # noqa: BLE001 - LiteLLM's handle serves the pick
            flags.record_error("rust_routing", own)
            return None

    pre_routes_only = shadow_handle.PRE_ROUTES_ONLY
    no_fields = shadow_handle.NO_FIELDS

    def twin_first_step(rec, model):
        """``shadow_handle.first_step``; None when it fails (ours: counted)."""
        try:
            return shadow_handle.first_step(rec, model)
        except Exception as own:  # noqa: BLE001 - the step is asked
            flags.record_error("rust_routing", own)
            return None

    def no_filter_now(core, core_globals):
        """``filters_absent``; False when it fails (ours: counted): then the
        twin is not started, or the call moves back onto LiteLLM's handle."""
        try:
            return filters_absent(core, core_globals)
        except Exception as own:  # noqa: BLE001 - not known: LiteLLM's handle and stage
            flags.record_error("rust_routing", own)
            return False

    def twin_escape(core, handle, rec, model, document, asked, given, first_known):
        """A call with the stage, at the snapshot the twin's call holds, brought
        to where the twin's is (session 22): LiteLLM's handle's while it is
        still the core's and unwritten since the twin's snapshot (so it reads
        that snapshot at this call's first step, and is not retired: LiteLLM
        retires a handle only after swapping it out), else the record's replica
        (``shadow_handle.replica_of``).  Each answer given to the twin is handed
        to it in order, each step it asks checked to be the one a new call on
        the twin asks for the same answers (no stage comes before the cooldown
        read's answer, the pending one, which the caller hands next); from there
        that call serves the pick, its stage answered by LiteLLM.  (Not checked
        against the steps the pick asked: they were handed to LiteLLM's code,
        and a user's wrapper there may have changed them - session 23 hunt: a
        RuntimeError where stock picked.  The twin is never written: a new call
        on it asks what its first call asked.)"""
        shadow_stats["escapes"] += 1
        rec.rest = shadow_handle.REST_AFTER_ESCAPE
        main_call = first = None
        if core.__dict__.get("_handle") is handle and handle.registry_version() == rec.version:
            main_call = handle.select(model, document)
            try:
                first = main_call.next(None)
            except Exception:  # noqa: BLE001 - retired since the check (another thread's rebuild)
                first = None
            # the call read LiteLLM's handle's snapshot at that first step: the twin's only while
            # nothing wrote or rebuilt it since the check (another thread may have, in between:
            # session 23 hunt, a RuntimeError below where stock picked); else the replica
            if first is None or core.__dict__.get("_handle") is not handle or handle.registry_version() != rec.version:
                main_call = None
        if main_call is None:
            target = shadow_handle.replica_of(rec)
            if target is None:
                raise RuntimeError("no handle at the twin's snapshot to move the pick to")
            main_call = target.select(model, document)
            first = main_call.next(None)
        twin_call = rec.shadow.select(model, no_fields if first_known else document)
        outcome = None
        for index in range(len(asked)):
            # (the twin's call without pre_routes: its first step is the kept one, answered by the pick)
            expected = dict(first_known) if first_known and index == 0 else twin_call.next(outcome)
            if (first if index == 0 else main_call.next(outcome)) != expected:
                raise RuntimeError("LiteLLM's handle asked another step than its twin")
            if index < len(given):
                outcome = given[index]
        return main_call

    call_identity = _pydantic_guard.shared(_pydantic_guard.least_busy_call_identity)
    call_id_parts = _lazily(_call_id_parts, "least-busy's call_id_of is not the verified one")
    from .selector_fast import DECLINED as _V2_DECLINED, least_busy_builtins, usage_v2_pick

    # call_id_of's isinstance and str, as least_busy's module reads them (session 19 hunt)
    lb_memo, lb_globals, lb_check = least_busy_builtins()

    def least_busy_call_id(selection_module, request_kwargs):
        """pick_async's least-busy case's ``call_id`` argument, read as it reads
        it (the selection module's ``call_id_of`` and ``CALL_IDENTITY`` at the
        call).  Session 18: for an exact dict with exact-str keys (what
        strategy_answer hands it), ``CALL_IDENTITY.validate_python`` (a
        ``TypedDict`` of one ``object`` field, extra keys ignored) gives
        ``{"litellm_call_id": v}`` or ``{}`` with no code run, and
        ``call_id_of`` reads ``v`` back: so an absent id or an exact-``str``
        one is the answer without them, while the validation is pydantic's own
        on LiteLLM's adapter (the guard) and ``call_id_of`` the pinned one.
        Anything else (another id type, whose ``isinstance`` may run code):
        LiteLLM's calls."""
        call_id_of = selection_module["call_id_of"]
        if (type(request_kwargs) is dict and call_id_of is call_id_parts() and call_identity.check()
                and str_keyed(request_kwargs)
                and (lb_memo.get(lb_globals, _BUILTINS) or lb_memo.remember(lb_globals, _BUILTINS, lb_check))):
            call_id = request_kwargs.get("litellm_call_id")
            if call_id is None or type(call_id) is str:
                return call_id
        return call_id_of(selection_module["CALL_IDENTITY"].validate_python(request_kwargs or {}))

    def least_busy_cells(least_busy_call):
        """The decorated method's closure still holds what was found at build (a
        cell's contents can be assigned; no dict tag sees it)."""
        (inner_cell, target_cell, preserve_cell, target_value_cell) = least_busy_call[3]
        inner, call_target, preserve, target = least_busy_call[4]
        return (inner_cell.cell_contents is inner and target_cell.cell_contents is call_target
                and preserve_cell.cell_contents is preserve and target_value_cell.cell_contents is target)

    def pod_free(discovery, deployment):
        """Whether ``KubernetesPodDiscovery.async_resolve_deployment`` returns
        this exact, str-keyed deployment at once (LiteLLM's pinned methods,
        found on the class): ``_eligible`` finds no ``litellm_params`` mapping
        with ``kubernetes_pod_discovery`` True (its ``isinstance`` and
        ``.get`` reads run no code on exact, str-keyed dicts)."""
        own = discovery.__dict__
        if "_eligible" in own or "_target" in own or "async_resolve_deployment" in own:
            return False
        if not str_keyed(deployment):
            return False
        params = deployment.get("litellm_params")
        if params is None:
            return True  # not a Mapping
        return type(params) is dict and str_keyed(params) and params.get("kubernetes_pod_discovery") is not True

    async def select(self, model, request_kwargs=None, *, kind="pick", specific_deployment=None, messages=None,
                     input=None, health_check_probe=False, **_):
        p = parts()
        if type(kind) is not str or kind != "pick":
            raise NotAccelerated("not a pick")
        if _BUILTINS.get("__import__") is not _BUILTIN_IMPORT:
            # an import hook: LiteLLM's select, _Selection and steps make import statements
            # (run's phase_span, the set-up's image check and allowed_fails_is_default, the
            # callback-filter step's attempt_failure) the hook sees
            raise NotAccelerated("builtins.__import__ is replaced")
        (core_globals, selection_type, _methods, least_busy, _picks_reserve, runtime, _phase_span, otel_runtime,
         mapping, (_pods, discovery_type, _pod_methods, _cast), answer, init, least_busy_call,
         _service_logged, _refuse_deleted, _pick_answer, _pick_reserves, _span_parts) = p
        known = memo.get(core_globals, p)
        if known is None or (known and ((known[7] is not None and cache_token() != known[7])
                                        or answer[0].__mro__ is not known[-1])):
            # (an ABC registration since: None checked again against Mapping at the new token;
            # session 22 hunt: RustCore's MRO moved - a __bases__ assignment changes no dict's tag)
            known = memo.remember(core_globals, p, lambda: _select_state(p))
        if not known or sys_modules.get(_OTEL_RUNTIME) is not runtime:
            raise NotAccelerated("LiteLLM's selection bindings were replaced")
        if type(self).__getattribute__ is not _OBJECT_GETATTRIBUTE:
            # (session 22 hunt) an attribute hook on the core's class or one of its bases
            raise NotAccelerated("the core's look-ups run code")
        # from here LiteLLM's steps: an error is the caller's, raised once (marked as
        # ``callers_errors`` marks it; a try costs nothing until something raises)
        # core._refuse_deleted_reads({"num_retries": 0}): nothing to refuse while the core's
        # _deleted is an empty exact frozenset (its two ``in`` tests find nothing, no code run;
        # session 21), LiteLLM's method on the class, not shadowed on the instance
        state = self.__dict__
        deleted = state.get("_deleted")
        if (not known[10] or type(self) is not answer[0] or type(deleted) is not frozenset or deleted
                or "_refuse_deleted_reads" in state):
            try:
                self._refuse_deleted_reads({"num_retries": 0})
            except Exception as error:
                callers_error(error)
                raise
        request = request_kwargs if request_kwargs is not None else {}
        # the selection set up here when known (LiteLLM's calls in it marked as the caller's)
        made = set_up(selection_type, self, model, request, specific_deployment, messages, input, init,
                      known, core_globals) if known[3] is not None else None
        # the handle set_up asked, and the request document it handed it (for the twin handle)
        selection, handle, document, twin_rec, first_known = made if made is not None else (None,) * 5
        try:
            if selection is None:
                selection = selection_type(self, model, request, kind, specific_deployment, messages, input,
                                           probe=False)
            token = known[0].set(False)  # picks_reserve(False)
            try:
                # _Selection.run: phase_span(f"route {model}") (the name formatted first: an
                # exact str formats without code), then the usage-read scope
                named = selection._model
                name = f"route {named}" if type(named) is not str else None
                runtime_value = otel_runtime()
                # LiteLLM's phase_span yields None with nothing run: no runtime, or LiteLLM's
                # logger span while _registered_v2_logger() is None without code
                # (getattr(sys.modules.get(proxy), ..., None) is None, and isinstance(None,
                # OpenTelemetryV2) is False without code for a class whose type is type)
                if runtime_value is None or (
                        (found := logger_span(runtime_value[0])) is not None and runtime_value[0] is found[0]
                        and (logger_globals := found[1]).get("_registered_v2_logger") is found[2]
                        and logger_globals.get("sys") is sys and sys_modules.get(_PROXY_SERVER) is None
                        and type(logger_globals.get("OpenTelemetryV2")) is type):
                    span = None
                else:
                    span = runtime_value[0](name if name is not None else f"route {named}")
                    span_exit = type(span).__exit__
                    type(span).__enter__(span)
                try:  # the span's with statement (PEP 343), spelled out
                    core = selection._core
                    with core._usage_read_scope(str(named), selection._request):
                        # _Selection._run; the selection's fields, as set by its __init__
                        call = selection._call
                        request = selection._request
                        messages = selection._messages
                        input = selection._input
                        pass_through = selection._kind == "async_pass_through"
                        outcome = None
                        # the twin handle (shadow_handle): LiteLLM's handle's state without the
                        # callback-filter stage, driven while that stage's answer is known to be
                        # the identity (no filter registered when LiteLLM's handle would ask it:
                        # checked at the stage point; if one is, the call moves back onto a
                        # handle with the stage).  Its call was made by set_up; LiteLLM's handle
                        # reads its snapshot at its call's first step (now): the twin serves only
                        # while that handle is still the core's, at the twin's version (session 22)
                        twin = None
                        known_first = None  # the twin's pre_route step, answered here (its call has none)
                        if twin_rec is not None:
                            if (core.__dict__.get("_handle") is handle
                                    and handle.registry_version() == twin_rec.version):
                                twin = ([], [])  # the steps asked, the answers given
                                shadow_stats["picks"] += 1
                                if first_known:
                                    # a new dict each pick, as the bridge's, with a new events list
                                    # (shadow_handle.first_step kept it empty; session 23 hunt: the
                                    # kept list, handed to every pick, was one a hook could append to)
                                    known_first = dict(first_known)
                                    known_first["events"] = []
                            else:
                                call = handle.select(selection._model, document)  # LiteLLM's call
                        while True:
                            if twin is not None:
                                asked = twin[0]
                                if not asked:
                                    pass  # the call's first step
                                elif asked[-1]["kind"] == "cache":
                                    # the stage point: LiteLLM's handle asks the stage right
                                    # after its cooldown read is answered (the one cache step
                                    # before it), and answers it with no filter (checked now)
                                    # before anything else runs; from here the twin's pick is
                                    # stock's whatever is registered later, and a move back would
                                    # re-run the cooldown filter at another time (a cooldown
                                    # expiring since: another step, not stock's)
                                    if not no_filter_now(core, core_globals):
                                        call = twin_escape(core, handle, twin_rec, selection._model, document,
                                                           asked, twin[1], first_known)
                                    twin = None
                                elif outcome is not None and first_known and len(asked) == 1:
                                    # a pre-route answer (a group to resolve instead, a custom
                                    # strategy's deployment) for the step the twin's call never
                                    # asked: the call moves back (onto one with the step)
                                    call = twin_escape(core, handle, twin_rec, selection._model, document,
                                                       asked, twin[1], first_known)
                                    twin = None
                                else:
                                    twin[1].append(outcome)
                            if known_first is not None:
                                step = known_first
                                known_first = None
                            else:
                                step = call.next(outcome)
                            if twin is not None:
                                twin[0].append(step)
                            step_kind = step["kind"]
                            if step_kind == "cache":
                                outcome = await core._answer_cache(step)
                            elif step_kind == "select" and step.get("stage") == "callback_filters":
                                shadow_stats["stage_steps"] += 1
                                try:
                                    ids = no_filter_ids(core, step, core_globals)
                                except Exception as own:  # noqa: BLE001 - ours (reads only): LiteLLM
                                    # answers the step instead, and the error counts against the flag
                                    flags.record_error("rust_routing", own)
                                    ids = None
                                if ids is not None:  # no filter: LiteLLM's answer, without its calls
                                    outcome = (ids, None)
                                    selection._filter_error = None
                                else:
                                    outcome, selection._filter_error = await core._answer_callback_filters(
                                        step, request, messages)
                            elif step_kind == "select":
                                if (known[2] and type(core) is answer[0] and "_answer_select" not in core.__dict__
                                        and type(step) is dict and step.get("stage") == "strategy"):
                                    outcome = await strategy_answer(core, step, request, messages, input,
                                                                    pass_through, core_globals, answer,
                                                                    least_busy_call if known[8] else None,
                                                                    known[9], _pick_answer[0] if known[11] else None,
                                                                    init, known)
                                else:
                                    outcome = await core._answer_select(step, request, messages, input,
                                                                        pass_through=pass_through)
                            elif step_kind == "pre_route":
                                outcome = await core._pre_route(step, request, messages, input,
                                                                selection._specific_deployment,
                                                                pass_through=pass_through)
                            elif step_kind == "done":
                                done = selection._done(step)
                                # (isinstance(done, Mapping): True for an exact dict without the
                                # ABC hook's frame while the select memo found Mapping and ABCMeta's
                                # hook abc's own (known[11], as _pick_answer's inline check; session 23)
                                if selection._kind != "pick" or not (
                                        (known[11] and type(done) is dict) or isinstance(done, mapping)):
                                    result = done
                                    break
                                # _Selection._resolved_pod
                                discovery = core._pick_discovery(sync=False)
                                if discovery is None:
                                    result = done
                                elif (known[1] and type(discovery) is discovery_type and type(done) is dict
                                        and pod_free(discovery, done)):
                                    result = done  # async_resolve_deployment: nothing eligible
                                else:
                                    result = await discovery.async_resolve_deployment(done, request)
                                break
                            elif step_kind == "failed":
                                raise selection._failed(step, sync=False)
                            else:
                                raise RuntimeError(f"router-core returned an unknown step {step_kind!r}")
                except BaseException as error:
                    if span is None or not span_exit(span, type(error), error, error.__traceback__):
                        raise
                    return None  # the span swallowed it: run's with statement ends, run returns None
                if span is not None:
                    span_exit(span, None, None, None)
                return result
            finally:
                least_busy["_PICK_RESERVES"].reset(token)
        except Exception as error:
            callers_error(error)
            raise

    def selection_set_up(core, model, request, specific_deployment=False, messages=None, input=None):
        """What a pick's ``_Selection`` set-up gives (for tests): the selection
        ``set_up`` makes, or None where LiteLLM's ``__init__`` would set it up."""
        p = parts()
        known = memo.get(p[0], p)
        if known is None or (known and ((known[7] is not None and cache_token() != known[7])
                                        or p[10][0].__mro__ is not known[-1])):
            known = memo.remember(p[0], p, lambda: _select_state(p))
        if not known or known[3] is None:
            return None
        made = set_up(p[1], core, model, request, specific_deployment, messages, input, p[11], known, p[0])
        return made[0] if made is not None else None

    select.__doc__ = original.__doc__
    select.selection_set_up = selection_set_up
    select.no_filter_ids = no_filter_ids  # (for tests)
    select.absent_memo = absent_memo  # (for tests)
    select.least_busy_call_id = least_busy_call_id  # (for tests)
    return select
