"""Session 21 (route21a): usage-based-routing-v2's pick at n=10, lockstep tests of
the fast paths this session added (stock and accelerated routers from one model
list, the same seeds; picks, ``random``'s state and what the attack observes must
be equal).  docs/routing.md, "Session 21 (route21a)"."""
from __future__ import annotations

import pytest

from test_routing_hunt20 import STRATEGIES, _CHANGES, _held_views, _lockstep, _run

litellm = pytest.importorskip("litellm")
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

V2 = "usage-based-routing-v2"


@pytest.fixture(scope="module", autouse=True)
def patched():
    from _lockstep import routing_patches

    with routing_patches():
        yield


# ---- the v2 group read while the index views are current (idle) ---------------------------------


@pytest.mark.parametrize("change", sorted(_CHANGES))
def test_v2_views_held_across_a_registry_change_are_refreshed_by_the_pick(change):
    """The v2 group read takes the views' handle and names from the idle verdict; after a
    registry change the verdict fails (the version moved) and LiteLLM's property refreshes
    the views, as stock's pick does."""
    out = _lockstep(V2, _held_views(change))
    assert out[-1] != out[2] or change == "model_list.append"


def _recording_class_attr(owner, name, make):
    """Set ``owner.name`` to ``make(calls, real)`` for the script; (its calls, restore)."""
    calls = []
    real = owner.__dict__.get(name)
    setattr(owner, name, make(calls, real))

    def restore():
        if real is None:
            delattr(owner, name)
        else:
            setattr(owner, name, real)
    return calls, restore


def _names_property(calls, real):
    def get(self):
        calls.append(1)
        return self.__dict__["model_names"]
    return property(get)


def _attribute_hook(calls, real):
    def __getattribute__(self, name):
        calls.append(name)
        return object.__getattribute__(self, name)
    return __getattribute__


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("when", ("before", "after"))
@pytest.mark.parametrize("what", ("model_names", "__getattribute__"))
def test_a_views_class_attribute_is_called_as_stock_calls_it(strategy, when, what):
    """``_core_model_names`` reads ``self._indexes.model_names``: a data descriptor of that
    name, or an attribute hook, on ``HostedIndexes`` is called by stock's group read once a
    pick (every strategy's usage-read scope makes it).  The idle verdict holds only while
    neither exists: v2's read takes the views' own set, the other strategies skip the read.
    Main failed 19 of the 20: every strategy but v2 (the skipped read called neither), and
    v2 ``before`` (a read with no rows kept read the names, then LiteLLM's read again)."""
    from litellm.router_rust.surface import indexes

    make = _names_property if what == "model_names" else _attribute_hook

    def script(router, pick):
        out = [pick(0)] if when == "after" else []
        calls, restore = _recording_class_attr(indexes.HostedIndexes, what, make)
        try:
            out += [pick(i) for i in range(1, 4)]
        finally:
            restore()
        out.append(pick(5))
        return out, len(calls)

    out = _lockstep(strategy, script)
    assert out[1] >= 3


@pytest.mark.parametrize("where", ("HostRegistry._core_get_model_list", "HostRegistry._live_handle",
                                   "HostedIndexes.refresh"))
def test_v2_a_replaced_group_read_method_is_called_as_stock_calls_it(where):
    """A class-level wrapper on a method of the group read: the idle verdict fails (the
    class's dict changed) and LiteLLM's read or property runs it, as stock's does."""
    from litellm.router_rust.surface import indexes, registry

    owner_name, method = where.split(".")
    owner = {"HostRegistry": registry.HostRegistry, "HostedIndexes": indexes.HostedIndexes}[owner_name]

    def make(calls, real):
        def wrapper(*args, **kwargs):
            calls.append(method)
            return real(*args, **kwargs)
        return wrapper

    def script(router, pick):
        out = [pick(0)]
        calls, restore = _recording_class_attr(owner, method, make)
        try:
            out += [pick(i) for i in range(1, 4)]
        finally:
            restore()
        return out, len(calls)

    out = _lockstep(V2, script)
    assert out[1] >= 3


def test_v2_the_group_read_takes_the_idle_verdict_while_idle():
    """Not always declining: after the first pick the v2 scope's read is idle (the
    verdict kept, its names plain), and one added deployment makes it not idle once."""
    from fast_litellm.routing import litellm_fast

    def script(router, pick):
        pick(0)
        idle = [litellm_fast._GROUP_ROWS.idle_kept(router._core)]
        router.add_deployment(_deployment())
        idle.append(litellm_fast._GROUP_ROWS.idle_kept(router._core))
        pick(1)
        idle.append(litellm_fast._GROUP_ROWS.idle_kept(router._core))
        return [kept is not None for kept in idle]

    assert _run(True, V2, script) == [True, False, True]


def _deployment():
    from test_routing_hunt20 import _deployment as make

    return make("h", "e1")
