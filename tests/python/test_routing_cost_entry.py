"""cost-based-routing over deployments whose models are in LiteLLM's cost map.

LiteLLM 1.110.2 serves those cost-map rows as ``AliasedCostEntry`` (a dict
subclass; a Router re-registers each deployment's model, so every mapped
model's row is one), and lowest_cost reads a row through pydantic's dict
validation, which calls the row's ``items()``.  The accelerated pick reads
such a row as a dict only while its type is exactly that class and the
class's reads are dict's own (``router_entry_row`` / the native scan); a
subclass or a patched class runs LiteLLM's reads.  Stock and accelerated
Routers in lockstep (same seeds; pick, ``random`` state, request metadata,
routing cache compared), with the accelerated pick checked to take the fast
path where it should (no call of LiteLLM's ``_deployment_cost_map_rates``)
so a mis-read row changes a pick."""
from __future__ import annotations

import asyncio
import copy
import random
import sys

import pytest
from _lockstep import routing_patches, same_minute  # noqa: E402

litellm = pytest.importorskip("litellm")

from fast_litellm import _native_loader  # noqa: E402
from fast_litellm.routing import strategy_fast  # noqa: E402

from test_routing_litellm import _build, _calls, _minute, _same, _seed_state  # noqa: E402

NATIVE = _native_loader.NATIVE
needs_native = pytest.mark.skipif(NATIVE is None or not hasattr(NATIVE, "router_entry_row"),
                                  reason="native core not built")

from litellm.litellm_core_utils.get_model_cost_map import AliasedCostEntry  # noqa: E402
import litellm.router_strategy.lowest_cost as lowest_cost  # noqa: E402

# keys of the cost map (openai/-prefixed names are not); gpt-4.1-mini and
# gpt-3.5-turbo price alike (2e-6 a token in + out): ties decided by position
PRICE_MAP = ["gpt-4o", "gpt-4o-mini", "gpt-4.1-mini", "gpt-3.5-turbo"]
# own prices between and equal to the map's sums
OWN = [1e-7, 7.5e-7, 2e-6, 1e-5, 3, 0]


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


@pytest.fixture(autouse=True)
def saved_rows():
    """The cost map's rows of the models used here, restored afterwards (a
    Router registers its deployments' models there, and tests change prices)."""
    saved = dict(litellm.model_cost)
    rows = {k: (type(v), dict(v)) for k, v in saved.items() if isinstance(v, dict) and k in PRICE_MAP}
    yield
    for key in list(litellm.model_cost):
        if key not in saved:
            del litellm.model_cost[key]
    litellm.model_cost.update(saved)
    for key, (_kind, contents) in rows.items():
        row = litellm.model_cost[key]
        dict.clear(row)
        dict.update(row, contents)


def _model_list(gen, n, custom_share):
    out = []
    for i in range(n):
        params = {"model": gen.choice(PRICE_MAP + ["openai/made-up-model"]), "api_key": "k",
                  "api_base": gen.choice(["https://a.example", "https://b.example"])}
        if gen.random() < custom_share:
            params["input_cost_per_token"] = gen.choice(OWN)
        if gen.random() < custom_share:
            params["output_cost_per_token"] = gen.choice(OWN)
        if gen.random() < 0.15:
            params[gen.choice(["tpm", "rpm"])] = gen.choice([1, 2, 10 ** 6])
        out.append({"model_name": "g", "litellm_params": params, "model_info": {"id": "d%d" % i}})
    return out


def _history(gen, model_list):
    minute = _minute()
    return {d["model_info"]["id"]: {minute: {"tpm": gen.choice([0, 1, 5000]), "rpm": gen.choice([0, 1, 2])}}
            for d in model_list if gen.random() < 0.8}


class _Spy:
    """Whether LiteLLM's ``_deployment_cost_map_rates`` ran (a profile hook:
    nothing of LiteLLM's or ours is replaced, so no guard sees it)."""

    def __init__(self):
        self.code = lowest_cost._deployment_cost_map_rates.__code__
        self.calls = 0

    def __enter__(self):
        def hook(frame, event, arg):
            if event == "call" and frame.f_code is self.code:
                self.calls += 1
        self.previous = sys.getprofile()
        sys.setprofile(hook)
        return self

    def __exit__(self, *exc):
        sys.setprofile(self.previous)


def _lockstep(model_list, history, rounds, gen, between=None, expect_fast=True, after_build=None):
    a = _build(model_list, "cost-based-routing", {})
    b = _build(model_list, "cost-based-routing", {}, accelerated=True)
    for d in model_list:
        model = d["litellm_params"]["model"]
        if model in PRICE_MAP:
            assert type(litellm.model_cost[model]) is AliasedCostEntry, model  # the rows under test
    if after_build is not None:
        after_build()
    for router in (a, b):
        _seed_state(router, None, model_list, "cost-based-routing", history, [], [])
    for round_ in range(rounds):
        plan = [(gen.random(), "g", gen.choice([{}, {"metadata": {}}])) for _ in range(4)]
        same_minute()
        stock = asyncio.run(_calls(a, False, copy.deepcopy(plan)))
        with _Spy() as spy:
            fast = asyncio.run(_calls(b, True, copy.deepcopy(plan)))
        for i, (s_, f_) in enumerate(zip(stock, fast)):
            assert _same(s_[0], f_[0]), (round_, i, s_[0][:2], f_[0][:2])
            assert s_[1] == f_[1], (round_, i, "random state differs")
            assert _same(s_[2], f_[2]), (round_, i, "request metadata differs")
            assert _same(s_[3], f_[3]), (round_, i, "routing cache differs")
        if expect_fast is not None:
            assert (spy.calls == 0) is expect_fast, (round_, spy.calls)
        if between is not None:
            between(round_)


def _set_price(model, key, value):
    dict.__setitem__(litellm.model_cost[model], key, value)


@pytest.mark.parametrize("with_history", [False, True])
@pytest.mark.parametrize("custom_share", [0.0, 0.35])
def test_price_map_models_in_lockstep(with_history, custom_share):
    """Price-map models only, then mixed with own-priced deployments, fresh and
    over a served-from map; prices in the rows changed between rounds (a
    cheaper gpt-4o, a dearer gpt-4o-mini, an int price, a None input price,
    a bool price: the row's own values decide), so a row read wrong (or not
    re-read) picks another deployment."""
    changes = [("gpt-4o", "input_cost_per_token", 1e-9), ("gpt-4o-mini", "output_cost_per_token", 1e-3),
               ("gpt-4.1-mini", "input_cost_per_token", 0), ("gpt-3.5-turbo", "input_cost_per_token", None),
               ("gpt-4o", "output_cost_per_token", True)]
    for trial in range(4):
        gen = random.Random("price-map-%s-%s-%d" % (with_history, custom_share, trial))
        model_list = _model_list(gen, gen.choice([3, 12, 40]), custom_share)
        history = _history(gen, model_list) if with_history else None

        def between(round_, gen=gen):
            model, key, value = changes[(trial + round_) % len(changes)]
            _set_price(model, key, value)

        _lockstep(model_list, history, 3, gen, between)


def test_a_cheaper_row_moves_the_pick():
    """The test's own check: with two deployments, gpt-4o (dear) and
    gpt-4o-mini (cheap), making gpt-4o's row cheap moves the pick, on both
    sides alike."""
    model_list = [{"model_name": "g", "litellm_params": {"model": m, "api_key": "k"}, "model_info": {"id": i}}
                  for m, i in (("gpt-4o", "dear"), ("gpt-4o-mini", "cheap"))]
    a = _build(model_list, "cost-based-routing", {})
    picks = []
    for price in (None, 1e-12):
        if price is not None:
            _set_price("gpt-4o", "input_cost_per_token", price)
            _set_price("gpt-4o", "output_cost_per_token", price)
        for accelerated in (False, True):
            out = asyncio.run(_calls(a, accelerated, [(1, "g", {})]))
            picks.append(out[0][0][1])
    assert picks == ["cheap", "cheap", "dear", "dear"]


class _OwnGet(AliasedCostEntry):
    __slots__ = ()

    def get(self, key, default=None):
        return 1e-12 if key.endswith("_cost_per_token") else dict.get(self, key, default)


class _OwnItems(AliasedCostEntry):
    __slots__ = ()

    def items(self):
        return [(k, 1e-12 if k.endswith("_cost_per_token") else v) for k, v in dict.items(self)]


@pytest.mark.parametrize("kind", [_OwnGet, _OwnItems])
@pytest.mark.parametrize("with_history", [False, True])
def test_a_subclass_row_is_litellms_to_read(kind, with_history):
    """A row that is a subclass of AliasedCostEntry (its own get, or its own
    items: what pydantic's copy reads) declines to LiteLLM's reads: the same
    picks as stock (with ``items`` overridden, gpt-4o prices as the cheapest)."""
    gen = random.Random("subclass-%s-%s" % (kind.__name__, with_history))
    model_list = _model_list(gen, 12, 0.2)
    history = _history(gen, model_list) if with_history else None

    def swap():
        row = litellm.model_cost["gpt-4o"]
        litellm.model_cost["gpt-4o"] = kind(row, row.names, row.registered_fields)

    _lockstep(model_list, history, 2, gen, after_build=swap,
              expect_fast=None if not any(d["litellm_params"]["model"] == "gpt-4o" for d in model_list) else False)


@pytest.mark.parametrize("name", ["items", "get", "__getitem__", "keys", "__iter__", "__getattr__"])
def test_a_patched_class_is_litellms_to_read(monkeypatch, name):
    """AliasedCostEntry itself patched after the Routers are built (a read
    method assigned on the class): its rows decline to LiteLLM's reads, and
    once the patch is undone they are read natively again."""
    gen = random.Random("patched-%s" % name)
    model_list = _model_list(gen, 10, 0.2)
    model_list[0]["litellm_params"]["model"] = "gpt-4o"
    history = _history(gen, model_list)
    patches = {
        "items": lambda self: [(k, 1e-12 if k.endswith("_cost_per_token") else v) for k, v in dict.items(self)],
        "get": lambda self, key, default=None: dict.get(self, key, default),
        "__getitem__": lambda self, key: dict.__getitem__(self, key),
        "keys": lambda self: dict.keys(self),
        "__iter__": lambda self: dict.__iter__(self),
        "__getattr__": lambda self, key: (_ for _ in ()).throw(AttributeError(key)),
    }
    _lockstep(model_list, history, 1, gen, expect_fast=True)
    monkeypatch.setattr(AliasedCostEntry, name, patches[name], raising=False)
    _lockstep(model_list, history, 2, gen, expect_fast=False)
    monkeypatch.undo()
    _lockstep(model_list, history, 1, gen, expect_fast=True)


@needs_native
def test_entry_row_verdicts(monkeypatch):
    row = AliasedCostEntry({"input_cost_per_token": 1e-6}, ("x",))
    assert NATIVE.router_entry_row(row, AliasedCostEntry) is True
    assert NATIVE.router_entry_row({"a": 1}, AliasedCostEntry) is True
    assert NATIVE.router_entry_row({"a": 1}, None) is True
    assert NATIVE.router_entry_row(row, None) is False  # no class handed in: declined
    assert NATIVE.router_entry_row(AliasedCostEntry({1: 2}, ()), AliasedCostEntry) is False  # a non-str key
    assert NATIVE.router_entry_row(AliasedCostEntry({type("S", (str,), {})("k"): 2}, ()), AliasedCostEntry) is False

    class Plain(AliasedCostEntry):
        __slots__ = ()

    assert NATIVE.router_entry_row(Plain({}, ()), AliasedCostEntry) is False  # another type
    assert NATIVE.router_entry_row(Plain({}, ()), Plain) is False  # MRO longer than (cls, dict, object)
    for name in ("items", "get", "__contains__", "__missing__", "values", "__len__", "__getattribute__"):
        monkeypatch.setattr(AliasedCostEntry, name, lambda self, *a: None, raising=False)
        assert NATIVE.router_entry_row(row, AliasedCostEntry) is False, name
        monkeypatch.undo()
        assert NATIVE.router_entry_row(row, AliasedCostEntry) is True, name
