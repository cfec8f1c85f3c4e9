"""Session 25 (route25a): the usage read's keys calls in C.  ``router_usage_read_keys``
(``make_usage_counter_keys``' ``read_keys`` with ``usage_counter_keys``' front) and
``router_usage_keys_fast`` (``make_read_usage``'s ``keys_fast``) against their Python
twins over the same steps: each answer, exception, clock read and pending-keys state
alike.  (LiteLLM's own keys joined are compared with the C ``read_keys`` by
``test_routing_route22a.test_read_keys_match_litellms_keys_joined``; whole v2 picks by
``test_routing_usage_v2_pick`` and ``test_routing_usage_read``.)"""
from __future__ import annotations

import builtins
import datetime
import warnings

import pytest
from _lockstep import routing_patches

litellm = pytest.importorskip("litellm")

from litellm.router_strategy import lowest_tpm_rpm_v2 as v2  # noqa: E402

from fast_litellm._native_loader import NATIVE  # noqa: E402
from fast_litellm.patching.registry import NotAccelerated  # noqa: E402
from fast_litellm.routing import _local_patch, selector_fast, strategy_fast  # noqa: E402
from test_routing_usage_v2 import KEYS_TARGET, _handler, _original  # noqa: E402

pytestmark = [
    pytest.mark.skipif(getattr(NATIVE, "router_usage_read_keys", None) is None, reason="no native core"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]

READ_TARGET = "litellm.router_utils.routing_read_batch:RoutingReadBatch.read_usage"


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


def _cells(fn):
    return dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__ or ())))


class _Clock:
    def __init__(self):
        self.now = datetime.datetime(2026, 1, 2, 9, 5, tzinfo=datetime.timezone.utc)
        self.reads = 0

    def __call__(self):
        self.reads += 1
        if self.now is None:
            raise RuntimeError("clock injected")
        return self.now


def _outcome(call, handler, healthy, clock):
    before = clock.reads
    try:
        keys, key_set, values = call(handler, healthy)
        got = ("ok", list(keys), None if key_set is None else sorted(key_set),
               None if values is None else list(values.items()), type(key_set).__name__)
    except NotAccelerated as exc:
        got = ("declined", str(exc))
    except Exception as exc:  # noqa: BLE001 - compared
        got = ("raised", type(exc).__name__, str(exc), getattr(exc, "__dict__", {}).copy())
    return got, clock.reads - before, selector_fast._PENDING_KEYS.get()


def test_native_read_keys_is_the_python_read_keys(monkeypatch):
    """Two builds of the keys patch (each its own kept keys), the C ``read_keys`` of one and
    the Python one of the other, over the same steps: a plain list twice (kept keys), an
    equal copy, another minute, a clock error, a declined list, keys pending for the list
    (the fused pick's: handed out and cleared) and for another, ``__import__`` replaced, a
    shared candidate list.  Mutations caught: the pending check dropped (C), the
    ``__import__`` check dropped (C), the kept extra's ``is not last`` rebuild dropped (C)."""
    original = _original(KEYS_TARGET)
    ours, twin = selector_fast.make_usage_counter_keys(original), selector_fast.make_usage_counter_keys(original)
    assert type(ours.read_keys).__name__ == "partial" and twin.python_read_keys.__name__ == "read_keys"
    clock = _Clock()
    monkeypatch.setattr(v2, "get_utc_datetime", clock)
    handler = _handler()
    rows = [{"model_info": {"id": "d%d" % i}, "litellm_params": {"model": "m"}} for i in range(4)]
    odd = [{"model_info": {"id": 3}, "litellm_params": {"model": "m"}}]
    shared_list = list(rows)

    def step(healthy, setup=None):
        answers = []
        for call in (ours.read_keys, twin.python_read_keys):
            undo = setup() if setup is not None else None
            try:
                answers.append(_outcome(call, handler, healthy, clock))
            finally:
                if undo is not None:
                    undo()
        assert answers[0] == answers[1], (healthy, answers)
        return answers[0]

    def pending_for(healthy):
        def setup():
            token = selector_fast._PENDING_KEYS.set((handler, healthy, ["p:tpm"], ["p:rpm"]))
            return lambda: selector_fast._PENDING_KEYS.reset(token)
        return setup

    def import_replaced():
        real = builtins.__import__
        builtins.__import__ = lambda *a, **k: real(*a, **k)
        return lambda: setattr(builtins, "__import__", real)

    assert step(list(rows))[0][0] == "ok"
    assert step(list(rows))[0][2] is not None  # kept keys: the frozenset handed out
    assert step([dict(r) for r in rows])[0][0] == "ok"
    clock.now = datetime.datetime(2026, 1, 2, 9, 6, tzinfo=datetime.timezone.utc)
    assert step(list(rows))[0][0] == "ok"
    assert step(list(rows[:2]))[0][1][0].endswith("09-06")
    assert step(list(rows))[0][2] is None  # built again after another list's keys
    assert step(list(rows))[0][2] is not None  # then kept: a new kept extra
    clock.now = None
    assert step(list(rows))[0][0] == "raised"
    clock.now = datetime.datetime(2026, 1, 2, 9, 7, tzinfo=datetime.timezone.utc)
    assert step(odd)[0][0] == "declined"
    healthy = list(rows)
    got = step(healthy, pending_for(healthy))
    assert got[0][1] == ["p:tpm", "p:rpm"] and got[2] is None  # handed out, cleared
    got = step(list(rows), pending_for(healthy))
    assert got[0][0] == "ok" and got[2] is not None  # another list's: left pending
    assert step(list(rows), import_replaced)[0][0] == "declined"
    strategy_fast._SHARED_LISTS[id(shared_list)] = [shared_list, None, None]
    try:
        assert step(shared_list)[0][0] == "ok"
        assert step(shared_list)[0][2] is not None
    finally:
        del strategy_fast._SHARED_LISTS[id(shared_list)]


def test_native_keys_fast_is_the_python_keys_fast(monkeypatch):
    """The usage read's ``keys_fast`` in C against its Python twin: an exact v2 selector
    (our keys function while the patch serves it, None with the switch off), one holding
    ``usage_counter_keys`` in its dict, a subclass's, an object without ``__dict__``, the
    class's method replaced (the chain kept in the box is not that function's).  Mutation
    caught: the box's ``is attr`` compare dropped (the replaced method's case)."""
    original = _original(READ_TARGET)
    read_usage = selector_fast.make_read_usage(original)
    keys_of = _cells(read_usage)["keys_of"]
    assert type(keys_of).__name__ == "partial"
    twin = keys_of.args[0][0]

    class Sub(v2.LowestTPMLoggingHandler_v2):
        pass

    plain, own = _handler(), _handler()
    own.usage_counter_keys = lambda healthy: ([], [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sub = Sub(router_cache=plain.router_cache)

    def both(selector):
        answers = (keys_of(selector), twin(selector))
        assert answers[0] is answers[1], answers
        return answers[0]

    with _local_patch.accelerated(True):
        assert both(plain) is None or True  # (the first call: the twin's, keeping the chain)
        assert callable(both(plain))
        assert keys_of(plain) is both(plain)
        for other in (own, sub, object(), 5):
            assert both(other) is None
        with _local_patch.accelerated(False):
            assert both(plain) is None
        assert callable(both(plain))
        monkeypatch.setattr(v2.LowestTPMLoggingHandler_v2, "usage_counter_keys",
                            lambda self, healthy: ([], []))
        assert both(plain) is None  # (the box holds the patch's chain, not this function's)
        monkeypatch.undo()
        assert callable(both(plain))


def test_native_keys_fast_hands_an_odd_metaclass_to_the_twin():
    """``router_usage_keys_fast`` directly: a class whose metaclass has a ``__dict__`` of
    its own is the twin's call (its read could be anyone's), as is a chain not in the box.
    Mutation caught: the metaclass check dropped."""
    calls = []

    def twin(selector):
        calls.append(selector)
        return "twin"

    class Meta(type):
        @property
        def __dict__(cls):  # noqa: PLE0302 - the odd metaclass under test
            raise AssertionError("not read by the C")

    class Odd(metaclass=Meta):
        def usage_counter_keys(self, healthy):
            return [], []

    class Plain:
        def usage_counter_keys(self, healthy):
            return [], []

    fn = vars(Plain)["usage_counter_keys"]
    fast = NATIVE.router_usage_keys_fast
    descriptor = type.__dict__["__dict__"]
    box = [(type.__dict__["__dict__"].__get__(Odd)["usage_counter_keys"], ())]
    assert fast((twin, Odd, "usage_counter_keys", "__dict__", box, descriptor), Odd()) == "twin"
    box = [None]
    assert fast((twin, Plain, "usage_counter_keys", "__dict__", box, descriptor), Plain()) == "twin"
    box = [(fn, ())]  # the kept chain used (an empty one serves; its last entry: IndexError, as the twin's)
    with pytest.raises(IndexError):
        fast((twin, Plain, "usage_counter_keys", "__dict__", box, descriptor), Plain())
    assert len(calls) == 2


# ---- the usage-read scope's kept group rows: router_group_rows_kept ------------------------------


def _v2_core(monkeypatch):
    """A v2 bench Router's RustCore and registry after a few picks (the kept rows made)."""
    import asyncio

    from fast_litellm.routing import bench, litellm_fast

    seen = {}
    enter = litellm_fast._UsageReadScope.__enter__

    def spy(scope):
        seen["core"], seen["model"] = scope._core, scope._model
        return enter(scope)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router = bench._build_router(litellm, [], accelerated=True, model_list=bench._model_list(4),
                                     routing_strategy="usage-based-routing-v2")

        async def go():
            for _ in range(3):
                await router.async_get_available_deployment(model="gpt", request_kwargs={})
        monkeypatch.setattr(litellm_fast._UsageReadScope, "__enter__", spy)
        with _local_patch.accelerated(True):
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(go())
            finally:
                loop.close()
    monkeypatch.setattr(litellm_fast._UsageReadScope, "__enter__", enter)
    return seen["core"], seen["model"]


def test_native_kept_rows_are_the_python_reads(monkeypatch):
    """``router_group_rows_kept`` against ``_GroupRows.read`` (its twin) on a real v2 registry:
    rows answered by the C only where the Python read hands out its kept rows (LiteLLM's
    ``_core_get_model_list`` not called), the same entries in a fresh list; declined
    (Ellipsis) for an alias, a routing group, a build running, a model not named, another
    registry version, another ``_read_at``, no kept rows, a plain lock; a model_names list
    taken as the set is; an error inside the lock raised with the lock released, as the
    ``with`` block does.  Mutations caught: the alias check dropped, the ``_building``
    check dropped, either model-name check dropped, the version compare dropped, the
    ``_read_at`` compare dropped, the lock's exit skipped on an error."""
    from litellm.router_rust.surface import registry as registry_module

    from fast_litellm.routing import litellm_fast as lf

    core, model = _v2_core(monkeypatch)
    registry = core._hosted
    idle = lf._GROUP_ROWS.idle_kept(core)
    assert idle is not None
    calls = []
    stock_read = registry_module.HostRegistry._core_get_model_list

    def spy(self, *args, **kwargs):
        calls.append(1)
        return stock_read(self, *args, **kwargs)
    monkeypatch.setattr(registry_module.HostRegistry, "_core_get_model_list", spy)
    lock = registry._deployment_index_lock

    def both(rows=lf._GROUP_ROWS, model=model, idle=idle, lock_type=lf._RLOCK):
        del calls[:]
        ours = lf._ROWS_KEPT(rows, lf._ROWS_NAMES, lock_type, registry, model, idle)
        assert not calls and not lock._is_owned()
        try:
            python = rows.read(registry, model, idle)
        except Exception as exc:  # noqa: BLE001 - LiteLLM's read of an odd state (a made-up group)
            python = exc
        assert not lock._is_owned()
        if ours is not Ellipsis:
            assert not calls, "the C answered rows where the Python read reads LiteLLM's"
            assert type(ours) is list and ours is not python and len(ours) == len(python)
            assert all(a is b for a, b in zip(ours, python))
        return ours

    both()  # (kept by the Python read when not yet)
    assert type(both()) is list
    state = registry.__dict__
    for name, value in (("_core_model_group_alias", {"other": model}), ("_core_routing_groups", {"g": [model]})):
        saved = state[name]
        state[name] = value
        try:
            assert both() is Ellipsis
        finally:
            state[name] = saved
    entries = state["_core_model_list"]
    saved = entries._building
    entries._building = object()
    try:
        assert both() is Ellipsis
    finally:
        entries._building = saved
    assert both(model="not-a-model") is Ellipsis
    views = dict(idle[3])
    views["model_names"] = [model]
    assert type(both(idle=idle[:3] + (views,) + idle[4:])) is list
    views["model_names"] = ["other"]
    assert both(idle=idle[:3] + (views,) + idle[4:]) is Ellipsis
    views["model_names"] = {"other"}  # (a set: the _NameSet's branch)
    assert both(idle=idle[:3] + (views,) + idle[4:]) is Ellipsis
    assert both(idle=idle[:4] + ((idle[4][0], idle[4][1] + 1),) + idle[5:]) is Ellipsis
    both()  # (the Python read kept its rows under the other version: kept again)
    assert type(both()) is list
    saved = entries._read_at
    entries._read_at = tuple(list(saved))  # (an equal tuple, another object)
    assert entries._read_at is not saved
    try:
        assert both() is Ellipsis
    finally:
        entries._read_at = saved
    assert both(rows=lf._GroupRows()) is Ellipsis
    assert both(lock_type=type(threading_lock())) is Ellipsis
    assert type(both()) is list

    class Failing(lf._GroupRows):
        @property
        def _kept(self):
            raise RuntimeError("kept rows injected")

        @_kept.setter
        def _kept(self, value):
            pass
    failing = Failing()
    failing._parts = lf._GROUP_ROWS._parts
    for call in (lambda: lf._ROWS_KEPT(failing, lf._ROWS_NAMES, lf._RLOCK, registry, model, idle),
                 lambda: failing.read(registry, model, idle)):
        with pytest.raises(RuntimeError, match="kept rows injected"):
            call()
        assert not lock._is_owned()


def threading_lock():
    import threading

    return threading.Lock()
