"""Whether the pydantic validations a fast path skips would run pydantic's
own code (session 15).

Several fast paths skip a validation whose answer is known (the start
fields' ``RequestStartFields.model_validate`` and ``model_dump``, the retry
policy check's ``RetryPolicy(**entry)``, the service event's
``ServiceLoggerPayload(...)``, the callback list's, least-busy's and the
pricing helpers' ``TypeAdapter.validate_python``).  Stock LiteLLM makes those
calls through the module binding of its adapter or model class, then the
attribute look-ups of the adapter or class, then pydantic's method, then the
compiled validator (``pydantic_core.SchemaValidator``, a type nobody can
patch).  A replacement anywhere on that chain - a class attribute on
``TypeAdapter`` / ``BaseModel`` (a counting or logging wrapper), an instance
attribute on the adapter (``validate_python`` or its ``validator``), a class
attribute on the model class, or another adapter / class object bound in
LiteLLM's module (``mock.patch``) - would see, log or change each call that
stock makes, so a fast path that skips it must decline while any is in place.

Each part below lists what the chain is made of as (container, key,
expected) triples, read at the patch's build, where each must be pydantic's
and LiteLLM's own; ``shared(...).check()`` answers whether every triple still
holds: one native call (``router_entries_same``, ~0.1 us for a dozen triples, per pick on
every CPython) or its Python twin.  Triple kinds (the key): an exact str,
the container (a dict, or a type for its own dict) maps it to the expected
object (``ABSENT``: no entry); None, the container's type is the expected
one (``__class__`` assignment); 0, the container's instance dict is the
expected dict (``__dict__`` rebinding); 1, the container's ``__mro__`` is the
expected tuple (``__bases__`` assignment)."""
from __future__ import annotations

import functools
import importlib
import time
from typing import Any, Callable, Dict, List, Tuple

ABSENT = object()
TYPE, INSTANCE_DICT, MRO = None, 0, 1

Entries = List[Tuple[Any, Any, Any]]


class NotStock(RuntimeError):
    """What a guard covers was not pydantic's / LiteLLM's own at build.

    ``watch`` (session 21): (container, key, expected) triples which, while they
    all still hold, keep the part not stock - a deferred validator not built yet
    (pydantic's mock in place of the compiled one).  A guard then looks again as
    soon as one moves (LiteLLM's first validation builds it), not a
    ``LOOK_AGAIN_SECONDS`` later."""

    def __init__(self, message: str, watch: Any = None) -> None:
        super().__init__(message)
        self.watch = watch


def _same_python(flat: Tuple[Any, ...], absent: Any) -> bool:
    for i in range(0, len(flat), 3):
        container, key, want = flat[i], flat[i + 1], flat[i + 2]
        if key is None:
            if type(container) is not want:
                return False
        elif type(key) is int:
            if key == 0:
                found = object.__getattribute__(container, "__dict__")
            else:
                found = type.__dict__["__mro__"].__get__(container)
            if found is not want:
                return False
        else:
            table = container.__dict__ if isinstance(container, type) else container
            if table.get(key, absent) is not want:
                return False
    return True


def _same() -> Callable[[Tuple[Any, ...], Any], bool]:
    from fast_litellm._native_loader import NATIVE

    return getattr(NATIVE, "router_entries_same", None) or _same_python


def _own(fn: Any, module: Any, qualname: str) -> bool:
    """``fn`` is the function ``module`` defined as ``qualname`` (not a
    wrapper someone put there before our build)."""
    code = getattr(fn, "__code__", None)
    return (code is not None and getattr(fn, "__qualname__", None) == qualname
            and code.co_filename == getattr(module, "__file__", None))


def _type_adapter() -> Entries:
    """``TypeAdapter.validate_python`` pydantic's own, no class attribute
    over an adapter's ``validator`` and no ``__getattribute__`` on the class."""
    module = importlib.import_module("pydantic.type_adapter")  # (no import statement: a hook would see it)

    cls = module.TypeAdapter
    method = cls.__dict__.get("validate_python")
    if not _own(method, module, "TypeAdapter.validate_python"):
        raise NotStock("TypeAdapter.validate_python is replaced")
    out: Entries = [(cls, "validate_python", method), (cls, MRO, cls.__mro__)]
    for klass in cls.__mro__[:-1]:
        out += [(klass, "validator", ABSENT), (klass, "__getattribute__", ABSENT)]
    return out


# the object each LiteLLM binding held when a guard first looked (at our build):
# a guard looking again later (its parts were not stock then) must find the same
# object there, not another stock-looking one bound meanwhile (``mock.patch``)
_FIRST: Dict[Tuple[str, str], Any] = {}


def _bound(module: Any, name: str) -> Any:
    found = module.__dict__.get(name)
    if _FIRST.setdefault((module.__name__, name), found) is not found:
        raise NotStock("%s.%s is not the object found at build" % (module.__name__, name))
    return found


def adapter(module_name: str, name: str) -> Entries:
    """LiteLLM's adapter ``module_name.name``: still bound there, an exact
    ``TypeAdapter`` with its own instance dict holding no ``validate_python``
    and the compiled validator it had at build."""
    SchemaValidator = importlib.import_module("pydantic_core").SchemaValidator

    module = importlib.import_module(module_name)
    found = _bound(module, name)
    if type(found) is not _type_adapter()[0][0]:
        raise NotStock("%s.%s is not an exact TypeAdapter" % (module_name, name))
    state = object.__getattribute__(found, "__dict__")
    validator = state.get("validator")
    if "validate_python" in state or type(validator) is not SchemaValidator:
        # (only a validator not built yet is watched: it stays not stock while it is there)
        raise NotStock("%s.%s is not LiteLLM's built adapter" % (module_name, name),
                       None if "validate_python" in state else (state, "validator", validator))
    return _type_adapter() + [(module.__dict__, name, found), (found, TYPE, type(found)),
                              (found, INSTANCE_DICT, state), (state, "validate_python", ABSENT),
                              (state, "validator", validator)]


_MODEL_METHODS = {
    "model_validate": ("__pydantic_validator__",),
    "model_dump": ("__pydantic_serializer__",),
    "__init__": ("__pydantic_validator__",),
}


def model(module_name: str, name: str, methods: Tuple[str, ...]) -> Entries:
    """LiteLLM's model class ``module_name.name``: still bound there, each of
    ``methods`` (``model_validate`` on the class, ``model_dump`` on an
    instance, ``__init__`` by a call of the class) found first on
    ``BaseModel`` and pydantic's own, the compiled validator / serializer the
    class had at build, no ``__getattribute__`` / ``__new__`` of its own on the
    classes or the metaclass (a call of the class: no ``__call__`` either),
    and its post-init hook (``model_post_init``, which pydantic calls by
    name after each validation) the one it had at build."""
    # (importlib, not import statements: a look again runs during a pick, where an import
    # hook would see ours; session 18)
    main = importlib.import_module("pydantic.main")
    ModelMetaclass = importlib.import_module("pydantic._internal._model_construction").ModelMetaclass
    pydantic_core = importlib.import_module("pydantic_core")
    SchemaSerializer, SchemaValidator = pydantic_core.SchemaSerializer, pydantic_core.SchemaValidator

    module = importlib.import_module(module_name)
    cls = _bound(module, name)
    base = main.BaseModel
    meta = type(cls)
    if not isinstance(cls, type) or base not in cls.__mro__ or meta is not ModelMetaclass:
        raise NotStock("%s.%s is not a pydantic model" % (module_name, name))
    out: Entries = [(module.__dict__, name, cls), (cls, TYPE, meta), (cls, MRO, cls.__mro__),
                    (base, MRO, base.__mro__)]
    before = cls.__mro__[:cls.__mro__.index(base)]
    for method in methods:
        found = base.__dict__.get(method)
        if not _own(getattr(found, "__func__", found), main, "BaseModel." + method):
            raise NotStock("BaseModel.%s is replaced" % method)
        out.append((base, method, found))
        out += [(klass, method, ABSENT) for klass in before]
        for attribute in _MODEL_METHODS[method]:
            compiled = cls.__dict__.get(attribute)
            if type(compiled) is not (SchemaValidator if "validator" in attribute else SchemaSerializer):
                # (a deferred build: the class's own entry holds pydantic's mock until the
                # first validation builds it; watched)
                raise NotStock("%s.%s has no compiled %s" % (module_name, name, attribute),
                               (cls, attribute, cls.__dict__.get(attribute, ABSENT)))
            out.append((cls, attribute, compiled))
    for klass in (*before, base):
        out += [(klass, "__getattribute__", ABSENT), (klass, "__new__", ABSENT)]
    # a model with a post-init hook (its name in the schema since the class was made):
    # each validation calls it by that name, looked up on the instance's class
    post_init = getattr(cls, "__pydantic_post_init__", None)
    if post_init is not None:
        if type(post_init) is not str:
            raise NotStock("%s.%s's post-init hook is not a method name" % (module_name, name))
        for klass in cls.__mro__:
            hook = klass.__dict__.get(post_init, ABSENT)
            if hook is not ABSENT:
                owner = getattr(getattr(hook, "__func__", hook), "__module__", None) or ""
                if not (owner == "pydantic" or owner.startswith(("pydantic.", "litellm."))):
                    raise NotStock("%s.%s's %s is replaced" % (module_name, name, post_init))
                out.append((klass, post_init, hook))
                break
            out.append((klass, post_init, ABSENT))
    out.append((meta, MRO, meta.__mro__))
    for klass in meta.__mro__[:-2]:  # ModelMetaclass, ABCMeta (type and object: builtins)
        out.append((klass, "__getattribute__", ABSENT))
        if "__init__" in methods:
            out.append((klass, "__call__", ABSENT))
    return out


def _flat(parts: Tuple[Callable[[], Entries], ...]) -> Any:
    """(the parts' entries as one flat tuple (the first of equal (container,
    key) pairs kept), None); or (None, the watch of the ``NotStock`` raised, or
    None) when a part is not stock now."""
    try:
        found: Entries = []
        for part in parts:
            found += part()
    except NotStock as refused:
        return None, refused.watch
    seen = set()
    flat: List[Any] = []
    for entry in found:
        key = (id(entry[0]), entry[1])
        if key not in seen:
            seen.add(key)
            flat += entry
    return tuple(flat), None


#: after a guard's parts were found not stock, how long it declines before it
#: looks at them again (finding them is ~20 us of Python: not once a pick)
LOOK_AGAIN_SECONDS = 1.0


class Guard:
    """``guard.check()``: whether every part's entries hold as found when
    they were first found stock.  A part not stock when the guard is made
    (a model class whose validator pydantic builds at its first use,
    ``defer_build``, or a replacement already in place) is looked at again,
    declining meanwhile, at most once every ``LOOK_AGAIN_SECONDS`` until it
    is (LiteLLM's code, run on the decline, builds a deferred validator);
    from then on the check is the one native call over the entries found
    then.  Session 21: a part refused with a watch (a deferred validator) is
    looked at again as soon as the watched entry moves (one native check a call
    meanwhile) instead of a ``LOOK_AGAIN_SECONDS`` later: a short-lived process
    (a benchmark, a CLI call) used to decline for its first second."""

    __slots__ = ("check", "_parts", "_same", "_next", "_watch")

    def __init__(self, parts: Tuple[Callable[[], Entries], ...]) -> None:
        self._parts = parts
        self._same = _same()
        self._next = 0.0
        self._watch: Any = None
        self.check: Callable[[], bool] = self._look_again
        self._look_again()

    def _look_again(self) -> bool:
        watch = self._watch
        if watch is not None and self._same(watch, ABSENT):
            return False  # still not stock (the watched entry holds): no look
        now = time.monotonic()
        if watch is None and now < self._next:
            return False
        flat, watch = _flat(self._parts)
        if flat is None or not self._same(flat, ABSENT):
            self._next = now + LOOK_AGAIN_SECONDS
            self._watch = watch
            return False
        self._watch = None
        self.check = functools.partial(self._same, flat, ABSENT)
        return True


_SHARED: Dict[Tuple[Callable[[], Entries], ...], Guard] = {}


def shared(*parts: Callable[[], Entries]) -> Guard:
    """The one guard of these parts (fast paths skipping the same
    validations share it)."""
    found = _SHARED.get(parts)
    if found is None:
        found = _SHARED.setdefault(parts, Guard(parts))
    return found


# the validations the routing fast paths skip, by where LiteLLM makes them
CORE = "litellm.router_rust.core"


def start_fields() -> Entries:
    """``_request_start_fields``' ``RequestStartFields.model_validate`` and
    ``_start_fields``' ``model_dump`` of it."""
    return model(CORE, "RequestStartFields", ("model_validate", "model_dump"))


def retry_policy() -> Entries:
    """``reads_as_policy``'s ``RetryPolicy(**entry)`` (a router's written
    ``retry_policy`` mapping, read by ``_group_policies``)."""
    return model("litellm.router_rust.surface.retries", "RetryPolicy", ("__init__",))


def service_payload() -> Entries:
    """``ServiceLogging.async_service_success_hook``'s ``ServiceLoggerPayload(...)``."""
    return model("litellm._service_logger", "ServiceLoggerPayload", ("__init__",))


def callback_list() -> Entries:
    """``PythonHost.callback_list``'s ``_LITELLM_GLOBAL.validate_python``."""
    return adapter("litellm.router_python_host", "_LITELLM_GLOBAL")


def str_keyed() -> Entries:
    """``deployment_pricing.str_keyed``'s ``_STR_KEYED.validate_python`` (the
    cost pick's pricing rows and pricing models), ``str_keyed`` itself the
    module's own."""
    module = importlib.import_module("litellm.litellm_core_utils.deployment_pricing")
    fn = _bound(module, "str_keyed")
    if not _own(fn, module, "str_keyed"):
        raise NotStock("deployment_pricing.str_keyed is replaced")
    return adapter(module.__name__, "_STR_KEYED") + [(module.__dict__, "str_keyed", fn)]


LEAST_BUSY = "litellm.router_strategy.least_busy"


def least_busy_counts() -> Entries:
    """least-busy's ``_local_counts`` (``_MEMORY_COUNTS``) and ``_picks``
    (``_PICKS``) validations."""
    return adapter(LEAST_BUSY, "_MEMORY_COUNTS") + adapter(LEAST_BUSY, "_PICKS")


def least_busy_ids() -> Entries:
    """least-busy's ``_deployment_ids`` (``_DEPLOYMENTS``) validation."""
    return adapter(LEAST_BUSY, "_DEPLOYMENTS")


def least_busy_call_identity() -> Entries:
    """``pick_async``'s least-busy ``CALL_IDENTITY.validate_python`` (the
    adapter as bound in the selection module, where the call reads it)."""
    return adapter("litellm.router_rust.steps.selection", "CALL_IDENTITY")
