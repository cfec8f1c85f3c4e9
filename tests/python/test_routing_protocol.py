"""Differential tests for the pick's fixed-cost fast paths
(fast_litellm/routing/protocol_fast.py): LiteLLM 1.110.2 stock vs
accelerated, side by side.

* ``_start_fields``: randomized requests (metadata buckets with team ids of
  every shape, auth objects, retry counts, validated fields that decline)
  give the same fields or the same exception, and the fast path is the one
  taken for the requests it covers.
* the deprecated ``Router.async_get_available_deployment`` read: the same
  warnings (message, category, file, line; under "always", "default",
  "error" and "ignore" filters), the same tally, no warning from LiteLLM's
  own modules, and function objects with the same code, closure contents,
  names, defaults, annotations and ``__wrapped__``; assigned picks, custom
  strategies, other attributes and class-level reads are LiteLLM's.
The lockstep pick tests in test_routing_litellm.py run every pick through
both fast paths too.
"""
from __future__ import annotations

import asyncio
import copy
import inspect
import os
import random
import warnings

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
litellm = pytest.importorskip("litellm")

from fast_litellm.patching.registry import NotAccelerated  # noqa: E402
from fast_litellm.routing import _local_patch, patches, protocol_fast  # noqa: E402

MODEL_LIST = [{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"},
               "model_info": {"id": "d%d" % i}} for i in range(4)]


@pytest.fixture(scope="module", autouse=True)
def patched():
    _local_patch.install()
    yield
    _local_patch.uninstall()


def _router(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return litellm.Router(model_list=copy.deepcopy(MODEL_LIST), **kwargs)


def _patch(name):
    return next(p for p in patches.PATCHES if p.name == name)


def _original(target):
    owner, name = _local_patch._owner(target)
    return _local_patch._original_of(owner, name)


# ---- _start_fields -----------------------------------------------------------

class _Auth:
    def __init__(self, models=None, team_models=None, user_role=None):
        self.models = models
        self.team_models = team_models
        self.user_role = user_role


class _Str(str):
    pass


def _bucket(gen):
    bucket = {}
    for key, choices in (
        ("user_api_key_team_id", ["team-a", "", None, 7, _Str("team-s")]),
        ("user_api_key_auth", [None, _Auth(["m1", "m2"]), _Auth(None, ("t1",), "proxy_admin"),
                               _Auth([], [], "internal_user")]),
        ("model_group", ["g", None]),
        ("other", [1, "x"]),
    ):
        if gen.random() < 0.4:
            bucket[key] = gen.choice(choices)
    return bucket


def _request(gen):
    request = {}
    if gen.random() < 0.6:
        request["metadata"] = _bucket(gen) if gen.random() < 0.8 else gen.choice([None, "text", [1]])
    if gen.random() < 0.3:
        request["litellm_metadata"] = _bucket(gen)
    if gen.random() < 0.4:
        request["num_retries"] = gen.choice([None, 0, 3, -1, 2.5, "x", True, 10 ** 9])
    if gen.random() < 0.3:
        request["model"] = gen.choice(["g", "h", None])
    if gen.random() < 0.3:
        request["stream"] = gen.choice([True, False])
    if gen.random() < 0.15:
        request["routing_strategy"] = gen.choice([None, "least-busy", 5])
    if gen.random() < 0.15:
        key = gen.choice(protocol_fast._VALIDATED_KEYS + ("team_id", "listing_team_id"))
        request[key] = gen.choice([None, True, ["g"], "g", -1, 3, {"g": ["h"]}])
    if gen.random() < 0.05:
        request[7] = "non-str key"
    return request


def _outcome(fn, request):
    try:
        return ("ok", fn(request))
    except Exception as exc:  # the exception itself is compared
        return ("raised", type(exc).__name__, str(exc))


def test_start_fields_match():
    target = _patch("routing.start_fields").target
    original = _original(target)
    fast = protocol_fast.make_start_fields(original)
    gen = random.Random("start-fields")
    taken = 0
    for _ in range(3000):
        request = _request(gen)
        before = copy.deepcopy(request) if 7 not in request else None
        stock = _outcome(original, request)
        try:
            got = ("ok", fast(request))
            taken += 1
        except NotAccelerated:
            continue
        assert got == stock, (request, stock, got)
        assert type(got[1]) is dict
        if before is not None:
            assert set(before) == set(request)  # the request is read, never changed
    assert taken > 800, taken


def test_start_fields_fast_path_is_taken_for_plain_requests():
    fast = protocol_fast.make_start_fields(_original(_patch("routing.start_fields").target))
    assert fast({}) == {}
    assert fast({"metadata": {"user_api_key_team_id": "t"}, "num_retries": 2}) == {
        "num_retries": 2, "team_id": "t", "listing_team_id": "t"}
    for declined in ({"fallbacks": ["g"]}, {"routing_strategy": "least-busy"}, {"metadata": "x"},
                     {1: 2}, {"metadata": {"user_api_key_team_id": _Str("t")}}):
        with pytest.raises(NotAccelerated):
            fast(declined)
