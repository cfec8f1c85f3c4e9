"""Session 23 (route23b): the pick path every strategy shares.

* ``router_make_picker``: LiteLLM's ``_without_reserving(_async_picker(router))``
  made in one native call (``protocol_fast.make_unreserved_picker``).  The
  native maker must give what ``functools.wraps`` over the closure gives
  (names, doc, annotations, defaults, closure contents, ``__wrapped__``), on
  LiteLLM's code objects and on a docstring'd stand-in (LiteLLM's closure
  has no docstring, so its ``__doc__`` copy is proven on the stand-in).
"""
from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import sys
import warnings

import pytest
from _lockstep import routing_patches

litellm = pytest.importorskip("litellm")

from fast_litellm._native_loader import NATIVE  # noqa: E402
from fast_litellm.routing import _local_patch, patches, protocol_fast  # noqa: E402

MODEL_LIST = [{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"},
               "model_info": {"id": "d%d" % i}} for i in range(4)]

needs_maker = pytest.mark.skipif(getattr(NATIVE, "router_make_picker", None) is None,
                                 reason="no native router_make_picker")


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


def _router(accelerated=False, **kwargs):
    # accelerated: built with the fast paths on, as after import fast_litellm (the twin handle)
    with warnings.catch_warnings(), _local_patch.accelerated(accelerated):
        warnings.simplefilter("ignore")
        return litellm.Router(model_list=copy.deepcopy(MODEL_LIST), **kwargs)


def _describe(fn):
    inner = fn.__wrapped__
    return (
        fn.__code__, fn.__name__, fn.__qualname__, fn.__module__, fn.__doc__, fn.__defaults__, fn.__kwdefaults__,
        fn.__annotations__, sorted(fn.__dict__), fn.__annotations__ is inner.__annotations__, fn.__globals__,
        getattr(fn, "__type_params__", None),
        inner.__code__, inner.__name__, inner.__qualname__, inner.__module__, inner.__doc__, inner.__defaults__,
        inner.__kwdefaults__, inner.__annotations__, inner.__dict__, inner.__globals__,
        str(inspect.signature(fn)), str(inspect.signature(inner)),
        [c.cell_contents for c in inner.__closure__], len(fn.__closure__),
    )


def _picker(native):
    target = next(p for p in patches.PATCHES if p.name == "routing.unreserved_picker").target
    owner, name = _local_patch._owner(target)
    saved = protocol_fast._NATIVE_PICKER[0]
    protocol_fast._NATIVE_PICKER[0] = native
    try:
        return protocol_fast.make_unreserved_picker(_local_patch._original_of(owner, name)), \
            _local_patch._original_of(owner, name)
    finally:
        protocol_fast._NATIVE_PICKER[0] = saved


@needs_maker
@pytest.mark.parametrize("strategy", ["simple-shuffle", "least-busy", "usage-based-routing-v2"])
def test_native_picker_is_litellms_picker(strategy):
    router = _router(routing_strategy=strategy)
    native, stock = _picker(True)
    python, _ = _picker(False)
    made = [native(router), python(router), stock(router)]
    described = [_describe(fn) for fn in made]
    assert described[0] == described[1] == described[2]
    assert made[0].__wrapped__.__closure__[0].cell_contents is router
    assert made[0].__closure__[0].cell_contents is made[0].__wrapped__
    # a new annotations dict per pick (LiteLLM's def evaluates its own)
    again = native(router)
    assert again.__annotations__ == made[0].__annotations__
    assert again.__annotations__ is not made[0].__annotations__ and again is not made[0]


def _stand_ins():
    def outer_pick(router):
        async def pick(model: str, request_kwargs: dict, messages=None, input=None, specific_deployment=False):
            """the pick's doc"""
            return router
        return pick

    def outer_wrap(lookup):
        @functools.wraps(lookup)
        async def looked_up(*args, **kwargs):
            return await lookup(*args, **kwargs)
        return looked_up

    def code_named(fn, name):
        return next(c for c in fn.__code__.co_consts if inspect.iscode(c) and c.co_name == name)

    return outer_pick, outer_wrap, code_named(outer_pick, "pick"), code_named(outer_wrap, "looked_up")


@needs_maker
@pytest.mark.parametrize("qualname", [None, "somewhere.<locals>.pick"])
def test_router_make_picker_is_functools_wraps(qualname):
    outer_pick, outer_wrap, pick_code, wrapper_code = _stand_ins()
    router = object()
    inner = outer_pick(router)
    if qualname is not None:
        inner.__qualname__ = qualname
    stock = outer_wrap(inner)
    made = NATIVE.router_make_picker(pick_code, wrapper_code, globals(), router, inner.__defaults__,
                                     dict(inner.__annotations__), qualname, protocol_fast._PICKER_NAMES)
    assert _describe(made) == _describe(stock)
    assert made.__doc__ == "the pick's doc" and made.__wrapped__.__closure__[0].cell_contents is router


@needs_maker
def test_router_make_picker_refuses_other_arguments():
    _, _, pick_code, wrapper_code = _stand_ins()
    names = protocol_fast._PICKER_NAMES
    good = [pick_code, wrapper_code, globals(), object(), None, {}, None, names]
    for i, bad in [(0, "code"), (1, None), (2, []), (4, [1]), (5, ()), (6, 3), (7, list(names)), (7, names[:5]),
                   (7, names[:5] + (1,))]:
        args = list(good)
        args[i] = bad
        with pytest.raises(TypeError):
            NATIVE.router_make_picker(*args)
    with pytest.raises(TypeError):
        NATIVE.router_make_picker(*good[:7])
    # a code object with another number of free variables than one
    args = list(good)
    args[0] = test_router_make_picker_refuses_other_arguments.__code__
    with pytest.raises(ValueError):
        NATIVE.router_make_picker(*args)
    assert sys.getrefcount(names) > 1


# ---- the done step's isinstance(done, Mapping) -----------------------------------


def _done_branch(router, accelerated, picks=3):
    """A few picks with ABCMeta's ``__instancecheck__`` replaced by one that
    answers False for a dict checked against Mapping by the pick's step loop
    (LiteLLM's ``_Selection._run``, or the fused ``select``): the loop then
    returns the done step's record without asking ``_pick_discovery``
    (counted by a wrapper on the class).  The picks, the discovery calls
    and the ``random`` state after."""
    import abc
    import asyncio
    import random
    from collections.abc import Mapping

    from litellm.router_rust.core import RustCore

    stock_hook = abc.ABCMeta.__dict__["__instancecheck__"]
    stock_discovery = RustCore.__dict__["_pick_discovery"]
    asked = []

    def __instancecheck__(cls, instance):
        if cls is Mapping and type(instance) is dict and sys._getframe(1).f_code.co_name in ("_run", "select"):
            return False
        return stock_hook(cls, instance)

    def _pick_discovery(self, *args, **kwargs):
        asked.append(kwargs)
        return stock_discovery(self, *args, **kwargs)

    out = []
    random.seed(7)
    abc.ABCMeta.__instancecheck__ = __instancecheck__
    RustCore._pick_discovery = _pick_discovery
    try:
        with _local_patch.accelerated(accelerated), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(picks):
                out.append(asyncio.run(router.async_get_available_deployment("g", {}))["model_info"]["id"])
    finally:
        abc.ABCMeta.__instancecheck__ = stock_hook
        RustCore._pick_discovery = stock_discovery
    return out, asked, random.getstate()


@pytest.mark.parametrize("strategy", ["simple-shuffle", "least-busy", "usage-based-routing-v2"])
def test_a_replaced_abc_hook_answers_the_done_steps_mapping_check(strategy):
    """With ABCMeta's ``__instancecheck__`` replaced (the select memo's
    ``known[11]`` False), the fused pick's done branch asks
    ``isinstance(done, Mapping)`` as LiteLLM's ``_run`` does, and follows
    its answer (False: no pod resolution, so no ``_pick_discovery``)."""
    stock = _done_branch(_router(routing_strategy=strategy), False)
    fast = _done_branch(_router(True, routing_strategy=strategy), True)
    assert stock == fast
    assert stock[1] == []


# ---- the deprecated read's `from litellm.router import Router` ------------------


@contextlib.contextmanager
def _deprecated_getter(fast):
    """The deprecated descriptor's __get__: LiteLLM's own, or the native one
    built over it (as test_routing_deprecated_get does)."""
    from litellm import router_deprecated as rd

    cls = rd._DeprecatedAttribute
    current = cls.__dict__["__get__"]
    original = getattr(current, "__fast_litellm_original__", current)
    cls.__get__ = protocol_fast.make_deprecated_get(original) if fast else original
    try:
        yield
    finally:
        cls.__get__ = current


def _reads_with_spec(spec, fast, reads=3):
    """``reads`` deprecated reads with ``litellm.router.__spec__`` replaced by
    ``spec`` and importlib's ``_lock_unlock_module`` (what an import
    statement calls for a module whose spec says it is initializing)
    recording: (the picks' names, the calls it saw)."""
    import importlib._bootstrap as bootstrap

    module = sys.modules["litellm.router"]
    router = _router()
    saved_spec, saved_lock = module.__spec__, bootstrap._lock_unlock_module
    calls = []

    def _lock_unlock_module(name):
        calls.append(name)
        return saved_lock(name)

    got = []
    with _deprecated_getter(fast), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module.__spec__ = spec
        bootstrap._lock_unlock_module = _lock_unlock_module
        try:
            for _ in range(reads):
                got.append(router.async_get_available_deployment.__name__)
        finally:
            module.__spec__ = saved_spec
            bootstrap._lock_unlock_module = saved_lock
    return got, calls


class _Spec:
    """A module spec whose ``_initializing`` is a property counting its reads."""

    def __init__(self, initializing, reads):
        self._value = initializing
        self._reads = reads

    @property
    def _initializing(self):
        self._reads.append(self._value)
        return self._value


def _plain_spec(initializing):
    import copy as copy_module

    spec = copy_module.copy(sys.modules["litellm.router"].__spec__)
    if initializing is not None:
        spec._initializing = initializing
    elif hasattr(spec, "_initializing"):
        del spec._initializing
    return spec


needs_deprecated_get = pytest.mark.skipif(getattr(NATIVE, "DeprecatedGet", None) is None,
                                          reason="no native DeprecatedGet (CPython 3.11+)")


@needs_deprecated_get
@pytest.mark.parametrize("initializing", [None, False, True, 1, 0])
def test_the_router_import_reads_the_specs_initializing_flag_as_the_statement(initializing):
    """A spec still initializing (True, or any value but False) sends the
    statement through importlib's ``_lock_unlock_module`` (LiteLLM's and
    CPython's: the native read makes the statement's own call then)."""
    spec = _plain_spec(initializing)
    stock = _reads_with_spec(spec, False)
    fast = _reads_with_spec(spec, True)
    assert stock == fast
    assert bool(stock[1]) == (initializing not in (None, False, 0))


@needs_deprecated_get
@pytest.mark.parametrize("initializing", [False, True])
def test_a_spec_whose_flag_runs_code_is_read_once_as_the_statement(initializing):
    """A spec whose ``_initializing`` is a property: read once per import
    statement, on both sides (the native read makes the statement's call
    without reading it first)."""
    outcomes = []
    for fast in (False, True):
        reads = []
        outcomes.append((_reads_with_spec(_Spec(initializing, reads), fast), reads))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1]  # (stock reads it twice a read: the descriptor's two import statements)
