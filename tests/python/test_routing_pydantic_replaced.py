"""Stock against accelerated with a pydantic validation replaced after our
patches were built (session 15).  The fast paths skip validations whose
answer is known (the start fields' ``RequestStartFields`` validate and dump,
the retry-policy check's ``RetryPolicy(**entry)``, the service event's
``ServiceLoggerPayload``, the callback list's, least-busy's and the pricing
helpers' ``TypeAdapter.validate_python``); a replacement on the way to one -
a class attribute on ``TypeAdapter`` or ``BaseModel``, an instance attribute
on the adapter (``validate_python``, ``validator``), a class attribute on the
model class (a method, ``__pydantic_validator__``), or another object bound
in LiteLLM's module (``mock.patch``) - sees every call stock makes, so ours
must make the same calls in the same order: the fast path declines while it
is in place (``_pydantic_guard.py``).  Each test records what the replacement
sees over a few picks (and the service events they schedule) on both sides;
each fails with the guards' checks always passing.
"""
from __future__ import annotations

import asyncio
import contextlib
import importlib
import random
import warnings

import pytest
from _lockstep import routing_patches

import test_routing_protocol as T
from fast_litellm.routing import _local_patch, _pydantic_guard

litellm = pytest.importorskip("litellm")
pydantic = pytest.importorskip("pydantic")

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

STRATEGIES = ["simple-shuffle", "least-busy", "latency-based-routing", "cost-based-routing",
              "usage-based-routing-v2"]


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


def _picks(strategy, on, calls, replaced, picks=3, prepare=None, request=None):
    """What ``calls`` holds after each of ``picks`` picks (the service
    events' tasks run) with ``replaced`` in place, and the picked ids;
    ``prepare(router)`` first."""
    with _local_patch.accelerated(on):  # built as after import fast_litellm: the twin handle
        router = T._router(routing_strategy=strategy)
    if prepare is not None:
        prepare(router)
    seen = []

    async def pick():
        try:
            got = (await router._core.select("g", dict(request or {"metadata": {}})))["model_info"]["id"]
        except Exception as exc:  # the exception itself is compared
            got = (type(exc).__name__, str(exc))
        for _ in range(3):
            await asyncio.sleep(0)
        return got

    with _local_patch.accelerated(on), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(picks):
            random.seed(3)
            del calls[:]
            with replaced():
                got = asyncio.run(pick())
            seen.append((got, list(calls)))
    router.retire()
    return seen


def _both(strategy, calls, replaced, **kwargs):
    for on in (False, True):  # first uses (pydantic builds deferred validators, parts resolve)
        _picks(strategy, on, [], contextlib.nullcontext, picks=1, **kwargs)
    _looked_at_now()
    stock = _picks(strategy, False, calls, replaced, **kwargs)
    ours = _picks(strategy, True, calls, replaced, **kwargs)
    return stock, ours


def _looked_at_now():
    """Every guard found not stock before (a validator pydantic defers to its
    first use, built by now) looks again now rather than after its
    ``LOOK_AGAIN_SECONDS``: the replacement below must be what its check sees."""
    for guard in _pydantic_guard._SHARED.values():
        if guard.check == guard._look_again:
            guard._next = 0.0
            guard.check()


def _name(obj):
    for module_name, name in _ADAPTERS:
        module = importlib.import_module(module_name)
        if module.__dict__.get(name) is obj:
            return name
    return type(obj).__name__


_ADAPTERS = [
    ("litellm.router_python_host", "_LITELLM_GLOBAL"),
    ("litellm.litellm_core_utils.deployment_pricing", "_STR_KEYED"),
    ("litellm.router_strategy.least_busy", "_DEPLOYMENTS"),
    ("litellm.router_strategy.least_busy", "_MEMORY_COUNTS"),
    ("litellm.router_strategy.least_busy", "_PICKS"),
    # session 18: pick_async's least-busy CALL_IDENTITY, as the selection module binds it
    ("litellm.router_rust.steps.selection", "CALL_IDENTITY"),
]
# the strategy whose pick skips each adapter's validation
_ADAPTER_STRATEGY = {"_LITELLM_GLOBAL": "simple-shuffle", "_STR_KEYED": "cost-based-routing",
                     "_DEPLOYMENTS": "least-busy", "_MEMORY_COUNTS": "least-busy", "_PICKS": "least-busy",
                     "CALL_IDENTITY": "least-busy"}


def _counting(target, calls, label, methods=("validate_python",)):
    """A stand-in for ``target`` that records ``label`` at each call of one
    of its ``methods`` and hands every look-up to it."""
    class _Counting:
        def __getattr__(self, attr):
            found = getattr(target, attr)
            if attr not in methods:
                return found

            def counted(*args, **kwargs):
                calls.append(label)
                return found(*args, **kwargs)

            return counted

    return _Counting()


@contextlib.contextmanager
def _set(owner, name, value):
    """``owner.name = value`` (restored or deleted after)."""
    holder = owner if isinstance(owner, type) else owner.__dict__
    had = name in (holder.__dict__ if isinstance(owner, type) else holder)
    previous = (owner.__dict__ if isinstance(owner, type) else holder).get(name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        if had:
            setattr(owner, name, previous)
        else:
            delattr(owner, name)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_type_adapter_class_attribute_sees_stocks_validations(strategy):
    """``TypeAdapter.validate_python`` replaced by a wrapper (class attribute):
    it sees every adapter's validations, by adapter, in stock's order."""
    calls = []
    original = pydantic.TypeAdapter.__dict__["validate_python"]

    def validate_python(self, *args, **kwargs):
        calls.append(_name(self))
        return original(self, *args, **kwargs)

    stock, ours = _both(strategy, calls, lambda: _set(pydantic.TypeAdapter, "validate_python", validate_python))
    assert ours == stock
    assert any(seen for _, seen in stock)


@pytest.mark.parametrize("module_name, name", _ADAPTERS)
@pytest.mark.parametrize("attribute", ["validate_python", "validator"])
def test_an_adapter_instance_attribute_sees_stocks_validations(module_name, name, attribute):
    """One of LiteLLM's adapters given an instance attribute: its own
    ``validate_python``, or a ``validator`` that counts (what
    ``TypeAdapter.validate_python`` calls)."""
    adapter = importlib.import_module(module_name).__dict__[name]
    calls = []
    if attribute == "validate_python":
        bound = adapter.validate_python

        def replacement(*args, **kwargs):
            calls.append(name)
            return bound(*args, **kwargs)
    else:
        replacement = _counting(adapter.validator, calls, name)
    stock, ours = _both(_ADAPTER_STRATEGY[name], calls, lambda: _set(adapter, attribute, replacement))
    assert ours == stock
    assert any(seen for _, seen in stock)


@pytest.mark.parametrize("module_name, name", _ADAPTERS)
def test_a_replaced_adapter_in_litellms_module_sees_stocks_validations(module_name, name):
    """Another object bound where LiteLLM reads its adapter (``mock.patch``):
    a wrapper that counts and hands each call to the adapter."""
    module = importlib.import_module(module_name)
    calls = []
    wrapper = _counting(module.__dict__[name], calls, name)
    stock, ours = _both(_ADAPTER_STRATEGY[name], calls, lambda: _set(module, name, wrapper))
    assert ours == stock
    assert any(seen for _, seen in stock)


_CORE = "litellm.router_rust.core"
_RETRIES = "litellm.router_rust.surface.retries"
_SERVICE = "litellm._service_logger"


def _written_retry_policy(router):
    """A router whose written ``retry_policy`` is a mapping (attribute
    assignment keeps it as given; the constructor makes a ``RetryPolicy``):
    ``_group_policies``' ``reads_as_policy`` validates it per pick."""
    router.retry_policy = {"TimeoutErrorRetries": 1}


# (module, class name, method, strategy, prepare): where a pick skips the model's validation
_MODELS = [
    (_CORE, "RequestStartFields", "model_validate", "simple-shuffle", None),
    (_CORE, "RequestStartFields", "model_dump", "simple-shuffle", None),
    (_RETRIES, "RetryPolicy", "__init__", "simple-shuffle", _written_retry_policy),
    (_SERVICE, "ServiceLoggerPayload", "__init__", "least-busy", None),
]


def _counting_method(method, found, calls, label):
    if isinstance(found, classmethod):
        function = found.__func__

        def replacement(cls, *args, **kwargs):
            calls.append(label)
            return function(cls, *args, **kwargs)

        return classmethod(replacement)

    def replacement(self, *args, **kwargs):
        calls.append(label)
        return found(self, *args, **kwargs)

    return replacement


@pytest.mark.parametrize("module_name, name, method, strategy, prepare", _MODELS)
def test_a_base_model_class_attribute_sees_stocks_validations(module_name, name, method, strategy, prepare):
    """``BaseModel.<method>`` replaced by a wrapper that records the model."""
    calls = []
    base = pydantic.BaseModel
    found = base.__dict__[method]
    if isinstance(found, classmethod):
        function = found.__func__

        def replacement(cls, *args, **kwargs):
            calls.append(cls.__name__)
            return function(cls, *args, **kwargs)

        replacement = classmethod(replacement)
    else:
        def replacement(self, *args, **kwargs):
            calls.append(type(self).__name__)
            return found(self, *args, **kwargs)

    stock, ours = _both(strategy, calls, lambda: _set(base, method, replacement), prepare=prepare)
    assert ours == stock
    assert any(name in seen for _, seen in stock)


@pytest.mark.parametrize("module_name, name, method, strategy, prepare", _MODELS)
def test_a_model_class_attribute_sees_stocks_validations(module_name, name, method, strategy, prepare):
    """The model class given its own ``<method>`` (a wrapper over
    ``BaseModel``'s)."""
    model = importlib.import_module(module_name).__dict__[name]
    calls = []
    replacement = _counting_method(method, pydantic.BaseModel.__dict__[method], calls, name)
    stock, ours = _both(strategy, calls, lambda: _set(model, method, replacement), prepare=prepare)
    assert ours == stock
    assert any(seen for _, seen in stock)


@pytest.mark.parametrize("module_name, name, method, strategy, prepare", _MODELS)
def test_a_models_compiled_validator_replaced_sees_stocks_validations(module_name, name, method, strategy,
                                                                       prepare):
    """The model's ``__pydantic_validator__`` (``model_dump``: its
    ``__pydantic_serializer__``) replaced by a proxy that counts."""
    model = importlib.import_module(module_name).__dict__[name]
    attribute = "__pydantic_serializer__" if method == "model_dump" else "__pydantic_validator__"
    calls = []
    _both(strategy, [], contextlib.nullcontext, prepare=prepare)

    def replaced():
        return _set(model, attribute, _counting(model.__dict__[attribute], calls, name,
                                                ("validate_python", "to_python")))

    stock, ours = _both(strategy, calls, replaced, prepare=prepare)
    assert ours == stock
    assert any(seen for _, seen in stock)


@pytest.mark.parametrize("module_name, name, method, strategy, prepare", _MODELS)
def test_a_replaced_model_class_in_litellms_module_sees_stocks_validations(module_name, name, method, strategy,
                                                                           prepare):
    """A subclass bound where LiteLLM reads its model class (``mock.patch``),
    recording the method's calls."""
    module = importlib.import_module(module_name)
    model = module.__dict__[name]
    calls = []
    subclass = type(model)(name, (model,), {"__module__": model.__module__,
                                            method: _counting_method(method, pydantic.BaseModel.__dict__[method],
                                                                     calls, name)})
    stock, ours = _both(strategy, calls, lambda: _set(module, name, subclass), prepare=prepare)
    assert ours == stock
    assert any(seen for _, seen in stock)


@pytest.mark.parametrize("module_name, name, method, strategy, prepare", [m for m in _MODELS if m[2] == "__init__"])
def test_a_replaced_post_init_hook_sees_stocks_validations(module_name, name, method, strategy, prepare):
    """The model's ``model_post_init`` (pydantic calls it by name after each
    validation of a model that had one when it was made) replaced on the
    model class."""
    model = importlib.import_module(module_name).__dict__[name]
    hook = model.model_post_init
    calls = []

    def model_post_init(self, context):
        calls.append(name)
        return hook(self, context)

    stock, ours = _both(strategy, calls, lambda: _set(model, "model_post_init", model_post_init), prepare=prepare)
    assert ours == stock
    assert any(seen for _, seen in stock)


def test_guards_pass_on_stock_pydantic_and_cost_one_native_call():
    """Every guard passes with nothing replaced (the fast paths serve), each
    a native call over its entries."""
    _both("least-busy", [], contextlib.nullcontext)  # (first uses: deferred validators built)
    _both("simple-shuffle", [], contextlib.nullcontext, prepare=_written_retry_policy)
    for part in (_pydantic_guard.start_fields, _pydantic_guard.retry_policy, _pydantic_guard.service_payload,
                 _pydantic_guard.callback_list, _pydantic_guard.str_keyed, _pydantic_guard.least_busy_counts,
                 _pydantic_guard.least_busy_ids, _pydantic_guard.least_busy_call_identity):
        guard = _pydantic_guard.shared(part)
        guard._next = 0.0  # (one found not stock before its first use looks again after a while)
        assert guard.check() is True, part.__name__
        assert guard.check is not guard._look_again


def test_a_guard_follows_a_replacement_and_its_removal():
    guard = _pydantic_guard.shared(_pydantic_guard.least_busy_ids)
    assert guard.check() is True
    from litellm.router_strategy import least_busy

    adapter = least_busy._DEPLOYMENTS
    with _set(adapter, "validate_python", adapter.validate_python):
        assert guard.check() is False
    assert guard.check() is True
    with _set(pydantic.TypeAdapter, "validator", property(lambda self: self.__dict__["validator"])):
        assert guard.check() is False
    assert guard.check() is True
    original_class = type(adapter)
    adapter.__class__ = type("Sub", (original_class,), {})
    try:
        assert guard.check() is False
    finally:
        adapter.__class__ = original_class
    assert guard.check() is True


def test_the_python_twin_answers_as_the_native_check():
    from fast_litellm._native_loader import NATIVE

    native = getattr(NATIVE, "router_entries_same", None)
    if native is None:
        pytest.skip("no native module")

    class Klass:
        pass

    obj = Klass()
    obj.x = 1
    absent = _pydantic_guard.ABSENT
    cases = [
        (obj.__dict__, "x", 1), (obj.__dict__, "x", 2), (obj.__dict__, "y", absent), (obj.__dict__, "x", absent),
        (obj, None, Klass), (obj, None, object), (obj, 0, obj.__dict__), (obj, 0, {}),
        (Klass, 1, Klass.__mro__), (Klass, 1, ()), (Klass, "__init__", absent), (Klass, "__module__", __name__),
    ]
    for case in cases:
        assert native(case, absent) == _pydantic_guard._same_python(case, absent), case
    flat = sum(cases[::2], ())
    assert native(flat, absent) is _pydantic_guard._same_python(flat, absent)


def test_a_guard_not_stock_when_made_looks_again_after_a_while(monkeypatch):
    """A part not stock when its guard is made (a deferred validator not yet
    built, a replacement in place) declines, and is looked at again at most
    once every ``LOOK_AGAIN_SECONDS`` (finding the parts is Python work, not
    for every pick); once stock, the check is the native call."""
    clock = [100.0]
    monkeypatch.setattr(_pydantic_guard.time, "monotonic", lambda: clock[0])
    looked = []
    holder = {"x": 1}

    def part():
        looked.append(clock[0])
        if holder["x"] != 2:
            raise _pydantic_guard.NotStock("not yet")
        return [(holder, "x", 2)]

    guard = _pydantic_guard.Guard((part,))
    assert guard.check() is False and guard.check() is False and looked == [100.0]
    holder["x"] = 2
    assert guard.check() is False and looked == [100.0]
    clock[0] += _pydantic_guard.LOOK_AGAIN_SECONDS
    assert guard.check() is True and looked == [100.0, 101.0]
    assert guard.check() is True and looked == [100.0, 101.0]  # the native call from now on
    holder["x"] = 3
    assert guard.check() is False


def test_a_guard_looking_again_wants_the_objects_found_at_build(monkeypatch):
    """A guard whose parts were not stock when made looks again later; a
    model class bound meanwhile in LiteLLM's module in place of LiteLLM's
    (``mock.patch``, here a built copy of it) is not taken for stock."""
    from litellm import _service_logger

    model = _service_logger.ServiceLoggerPayload
    guard = _pydantic_guard.Guard((_pydantic_guard.service_payload,))
    assert guard.check() is True  # (built by the earlier tests' picks)
    copy = type(model)(model.__name__, (model,), {"__module__": model.__module__})
    copy.model_rebuild(force=True)
    monkeypatch.setattr(_service_logger, "ServiceLoggerPayload", copy)
    fresh = _pydantic_guard.Guard((_pydantic_guard.service_payload,))
    assert fresh.check() is False and guard.check() is False
    monkeypatch.setattr(_service_logger, "ServiceLoggerPayload", model)
    fresh._next = 0.0
    assert fresh.check() is True and guard.check() is True


_FRESH = '''
import asyncio, random, sys, warnings
warnings.simplefilter("ignore")
import pydantic
import test_routing_protocol as T
from fast_litellm.routing import _local_patch
_local_patch.install()
calls = []
original = pydantic.TypeAdapter.__dict__["validate_python"]
def validate_python(self, *args, **kwargs):
    calls.append(type(self).__name__)
    return original(self, *args, **kwargs)
pydantic.TypeAdapter.validate_python = validate_python
out = []
for on in (False, True):
    with _local_patch.accelerated(on):  # built as after import fast_litellm: the twin handle
        router = T._router(routing_strategy="simple-shuffle")
    with _local_patch.accelerated(on):
        for _ in range(2):
            random.seed(4)
            del calls[:]
            got = asyncio.run(router._core.select("g", {"metadata": {}}))["model_info"]["id"]
            out.append((on, got, len(calls)))
    router.retire()
print(repr(out))
'''


def test_a_fresh_process_with_validate_python_replaced_sees_no_call_of_ours():
    """``TypeAdapter.validate_python`` replaced before the fused pick's first
    call, in a fresh process: the callback-filter answer's parts, found at
    that first call, probe LiteLLM's adapter through its compiled validator,
    not through the replaced method (a call stock never makes)."""
    import os
    import subprocess
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.join(os.path.dirname(os.path.dirname(here)), "src")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([here, src]))
    done = subprocess.run([sys.executable, "-c", _FRESH], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = eval(done.stdout.strip().splitlines()[-1])  # noqa: S307 - our own repr
    stock = [(got, n) for on, got, n in runs if not on]
    ours = [(got, n) for on, got, n in runs if on]
    assert ours == stock and stock[0][1] > 0
