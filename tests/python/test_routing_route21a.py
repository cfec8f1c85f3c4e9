"""Session 21 (route21a): usage-based-routing-v2's pick at n=10, lockstep tests of
the fast paths this session added (stock and accelerated routers from one model
list, the same seeds; picks, ``random``'s state and what the attack observes must
be equal).  docs/routing.md, "Session 21 (route21a)"."""
from __future__ import annotations

import random

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


# ---- the native usage scan over keys that name the candidates in order -----------------------------


def _positional_inputs(gen):
    """Keys built from the candidates in order (as usage_counter_keys builds them), the
    native scan's positional case, with its edges: duplicate ids, an id with a ':', a
    key naming another candidate, fewer or more keys than candidates, tuples of values,
    every number kind."""
    from test_routing_usage_v2 import NUMBERS, _candidate

    pool = ["d%d" % i for i in range(12)] + ["a:b", "d1 "]
    n = gen.randint(1, 9)
    if gen.random() < 0.7:
        ids = gen.sample(pool[:12], n)
    else:
        ids = [gen.choice(pool) for _ in range(n)]
    healthy = [_candidate(gen, ident) for ident in ids]
    minute = "10-01"
    tpm_keys = ["%s:%s:tpm:%s" % (d["model_info"]["id"], "m", minute) for d in healthy]
    rpm_keys = ["%s:%s:rpm:%s" % (d["model_info"]["id"], "m", minute) for d in healthy]
    roll = gen.random()
    if roll < 0.05:
        rpm_keys[gen.randrange(n)] = "dx:m:rpm:" + minute
    elif roll < 0.1:
        tpm_keys[gen.randrange(n)] = "d%d:m:tpm:%s" % (gen.randrange(12), minute)
    elif roll < 0.13:
        tpm_keys.pop()
        rpm_keys.pop()
    elif roll < 0.16:
        tpm_keys.append("d0:m:tpm:" + minute)
        rpm_keys.append("d0:m:rpm:" + minute)

    def values(keys):
        numbers = NUMBERS[:13] if gen.random() < 0.8 else NUMBERS
        out = [gen.choice(numbers) for _ in keys]
        if gen.random() < 0.3:
            out = [None] * len(keys)
        return tuple(out) if gen.random() < 0.1 else out

    return healthy, tpm_keys, values(tpm_keys), rpm_keys, values(rpm_keys)


def test_usage_scan_over_keys_in_candidate_order_matches_litellms(caplog):
    """The native scan's positional case (no count dicts: session 21) against LiteLLM's
    ``_common_checks_available_deployment``, picks and ``random`` state, over inputs that
    mostly take it.  Mutations caught: the duplicate-id check dropped, the rpm key's id
    not compared, a None count read as None (not LiteLLM's zero fill)."""
    from test_routing_usage_v2 import CHECKS_TARGET, _checks_outcome, _handler, _original

    from fast_litellm.routing import selector_fast

    original = _original(CHECKS_TARGET)
    fast = selector_fast.make_usage_common_checks(original)
    handler = _handler()
    gen = random.Random("route21a-positional")
    taken = 0
    seen = set()
    for trial in range(4000):
        inputs = _positional_inputs(gen)
        stock = _checks_outcome(original, handler, inputs, None, None, trial, caplog)
        ours = _checks_outcome(fast, handler, inputs, None, None, trial, caplog)
        if ours == ("declined",):
            continue
        taken += 1
        assert ours == stock, (inputs, stock, ours)
        picked = ours[0][1]
        seen.add("none" if picked is None else "one")
    assert taken > 1200 and {"none", "one"} <= seen, (taken, seen)


# ---- the counter keys: the last ones built, for equal prefixes in the same minute ---------------


def test_usage_counter_keys_kept_for_equal_prefixes_in_the_same_minute(monkeypatch):
    """Calls in a row over the same list, an equal copy, another list, at the same and
    other minutes (a datetime subclass's strftime too), each result changed in place by
    the caller after it is compared: every result LiteLLM's.  Mutations caught: the minute
    not compared, the prefixes not compared, the kept lists handed out themselves."""
    import datetime

    from test_routing_usage_v2 import KEYS_TARGET, _Clock, _handler, _keys_outcome, _original

    from fast_litellm.routing import selector_fast

    class Later(datetime.datetime):
        def strftime(self, fmt):
            return "sub-" + super().strftime(fmt)

    original = _original(KEYS_TARGET)
    fast = selector_fast.make_usage_counter_keys(original)
    handler = _handler()
    lists = [[{"model_info": {"id": "d%d" % i}, "litellm_params": {"model": "m"}} for i in range(n)]
             for n in (3, 3, 4)]
    lists[1][2]["model_info"]["id"] = "other"
    lists.append([dict(d) for d in lists[0]])  # equal prefixes, another list
    times = [datetime.datetime(2026, 1, 2, 9, 5, tzinfo=datetime.timezone.utc),
             datetime.datetime(2026, 1, 2, 9, 6, tzinfo=datetime.timezone.utc),
             Later(2026, 1, 2, 9, 5)]
    gen = random.Random("route21a-keys")
    for _ in range(400):
        healthy, now = gen.choice(lists), gen.choice(times)
        stock = _keys_outcome(original, handler, healthy, _Clock(now), monkeypatch)
        ours = _keys_outcome(fast, handler, healthy, _Clock(now), monkeypatch)
        assert ours == stock
        for keys in ours[0][1]:
            keys.append("changed by the caller")


def test_usage_scan_reads_an_exact_dict_of_values_as_values_for_does():
    """``router_usage_pick`` handed the prefetched usage's values dict for both value
    lists (the fused v2 pick, session 21) answers as with ``[values.get(key) ...]`` of
    each key list: over the positional fuzz's inputs, with keys absent from the dict;
    declined (None) for another rpm dict, a key that is not an exact str, a tuple of keys."""
    from fast_litellm._native_loader import NATIVE
    from fast_litellm.routing.strategy_fast import _NAMES

    pick = NATIVE.router_usage_pick
    gen = random.Random("route21a-values")
    compared = 0
    for _ in range(3000):
        healthy, tpm_keys, tpm_values, rpm_keys, rpm_values = _positional_inputs(gen)
        values = {}
        for keys, found in ((tpm_keys, tpm_values), (rpm_keys, rpm_values)):
            for key, value in zip(keys, found):
                if gen.random() < 0.85:
                    values[key] = value
        listed = pick(healthy, tpm_keys, [values.get(k) for k in tpm_keys], rpm_keys,
                      [values.get(k) for k in rpm_keys], 0, _NAMES, False)
        read = pick(healthy, tpm_keys, values, rpm_keys, values, 0, _NAMES, False)
        assert (listed if listed is None else [healthy.index(d) for d in listed]) == (
            read if read is None else [healthy.index(d) for d in read])
        compared += listed is not None
    assert compared > 1000
    healthy, tpm_keys, _, rpm_keys, _ = _positional_inputs(random.Random(1))
    values = dict.fromkeys(tpm_keys + rpm_keys, 1)
    assert pick(healthy, tpm_keys, values, rpm_keys, dict(values), 0, _NAMES, False) is None
    assert pick(healthy, tpm_keys + [7], values, rpm_keys, values, 0, _NAMES, False) is None
    assert pick(healthy, tuple(tpm_keys), values, rpm_keys, values, 0, _NAMES, False) is None


# ---- the counter keys' prefixes kept for the same rows, unchanged (dict version tags) -------------


def test_usage_counter_keys_prefixes_kept_for_the_same_unchanged_rows(monkeypatch):
    """``router_usage_prefixes`` keeps the last call's prefixes with its rows and their
    dicts' version tags (CPython <= 3.11): a fresh list of the same rows, unchanged, gets
    them again.  Between calls over fresh lists of the same rows, every kind of change -
    an inner dict written past its writers (``dict.__setitem__``), an inner dict replaced,
    a key that is not a str added, the rows reordered or one swapped for an equal copy, a
    row's class changed to a dict subclass with its own ``get`` - and each result must be
    LiteLLM's.  Mutations caught: the tags not compared, the rows' identity not compared,
    the rows' types not looked at."""
    import datetime

    from litellm.router_rust.surface.model_list import _HostedEntry
    from test_routing_usage_v2 import KEYS_TARGET, _Clock, _handler, _keys_outcome, _original

    from fast_litellm.routing import selector_fast

    class OwnGet(_HostedEntry):
        def get(self, key, default=None):
            return "own-get"

    original = _original(KEYS_TARGET)
    fast = selector_fast.make_usage_counter_keys(original)
    handler = _handler()
    rows = [_HostedEntry({"model_name": "g", "model_info": {"id": "d%d" % i},
                          "litellm_params": {"model": "m%d" % i}}, lambda: None) for i in range(4)]
    rows.append({"model_name": "g", "model_info": {"id": "p"}, "litellm_params": {"model": "plain"}})
    now = _Clock(datetime.datetime(2026, 1, 2, 9, 5, tzinfo=datetime.timezone.utc))
    gen = random.Random("route21a-prefixes")

    def change(step):
        kind = step % 9
        row = gen.choice(rows)
        if kind == 0:
            dict.__setitem__(row["model_info"], "id", "x%d" % step)
        elif kind == 1:
            dict.__setitem__(row, "litellm_params", {"model": "n%d" % step})
        elif kind == 2:
            dict.__setitem__(row["litellm_params"], 7, "non-str key")
        elif kind == 3:
            dict.__delitem__(row["litellm_params"], 7) if 7 in row["litellm_params"] else None
        elif kind == 4:
            gen.shuffle(rows)
        elif kind == 5:
            at = gen.randrange(len(rows))
            rows[at] = {"model_name": "g", "model_info": dict(rows[at]["model_info"]),
                        "litellm_params": dict(rows[at]["litellm_params"])}
        elif kind == 6 and type(row) is _HostedEntry:
            row.__class__ = OwnGet
        elif kind == 7:
            for r in rows:
                if type(r) is OwnGet:
                    r.__class__ = _HostedEntry
        # kind 8: nothing changed (the kept prefixes handed out)

    for step in range(300):
        for _ in range(2):
            healthy = list(rows)
            stock = _keys_outcome(original, handler, healthy, now, monkeypatch)
            ours = _keys_outcome(fast, handler, list(rows), now, monkeypatch)
            assert ours == stock or (ours[0] == ("declined",) and ours[1] == 0), (step, stock, ours)
        change(step)
