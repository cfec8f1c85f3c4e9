"""Session 25 (route25b): usage-based-routing-v2's native scan (``router_usage_pick``)
with its positional check kept by identity (the fused call's memo).

The memo is compared with a memo-less scan over a run of calls that keep, reorder,
copy and change the objects it holds, and the v2 pick cases run twice in one process
(stock against ours: picks, ``random`` state, cache, the recorded calls).  Two of the
fused call's edges are checked on the whole pick too: an
error of LiteLLM's draw or print raised once through the engine's wrappers, and no
usage target left after the pick."""
from __future__ import annotations

import contextlib
import random

import pytest

litellm = pytest.importorskip("litellm")

import test_routing_usage_v2_pick as _v2pick  # noqa: E402
from _lockstep import fresh_flag  # noqa: E402
from litellm.router_strategy import lowest_tpm_rpm_v2 as v2  # noqa: E402

from fast_litellm._native_loader import NATIVE  # noqa: E402
from fast_litellm.routing.strategy_fast import _NAMES  # noqa: E402

pytestmark = _v2pick.pytestmark
patched = _v2pick.patched


@pytest.mark.parametrize("case", ["test_fused_pick_matches_litellms", "test_fused_pick_with_counters_and_limits",
                                  "test_no_deployment_within_the_limits_is_litellms_error"])
def test_fused_pick_cases_twice(monkeypatch, case):
    """The cases run twice in one process: the second time with the scan's memo as
    the first left it (a new router: new deployment dicts, equal ids)."""
    getattr(_v2pick, case)(monkeypatch)
    getattr(_v2pick, case)(monkeypatch)

def _raising_draw(patch, log, router):
    """LiteLLM's module ``random`` whose ``choice`` raises: stock's error, once
    (marked as the caller's: no fallback run on top), after its print."""
    class _Random:
        def __getattr__(self, name):
            log.append(("random." + name,))
            if name == "choice":
                def choice(seq):
                    raise LookupError("no draw today (%d)" % len(seq))
                return choice
            return getattr(random, name)

    patch.setattr(v2, "random", _Random())


def _raising_print(patch, log, router):
    def print_verbose(*args, **kwargs):
        log.append(("print",) + args)
        raise ValueError("print refused")

    patch.setattr(v2, "print_verbose", print_verbose)


@contextlib.contextmanager
def _engine_wrappers(monkeypatch):
    """The routing patches through the engine's wrappers (which run the original
    again after an error not marked as the caller's), as
    ``test_wrappers_deciding_per_call_are_not_skipped`` installs them."""
    from fast_litellm import flags
    from fast_litellm.routing import _local_patch

    monkeypatch.setattr(flags, "_listeners", [])
    _local_patch.uninstall()
    try:
        _local_patch.install(guarded=True)
        yield
    finally:
        _local_patch.uninstall()
        _local_patch.install()


@pytest.mark.parametrize("setup", [_raising_draw, _raising_print], ids=["draw", "print"])
def test_litellms_draw_and_print_errors_are_the_callers(monkeypatch, setup):
    """Raised once, as stock raises it: not counted, not run again by the engine's
    wrapper (the draw's and print's calls in the log as stock's)."""
    with _engine_wrappers(monkeypatch), fresh_flag() as flag:
        stock = _v2pick._compare(monkeypatch, True, setup=setup, picks=2)
        assert stock[0][0][0][0] == "raised"
        assert flag.errors == 0


def test_no_target_left_after_the_pick(monkeypatch):
    """The usage target is reset when the call returns: what runs after the pick
    in the caller's task runs under stock's target (none)."""
    import asyncio
    import copy
    import warnings

    from litellm._internal_context import current_service_target

    from fast_litellm.routing import _local_patch

    seen = []
    for accelerated in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with _local_patch.accelerated(accelerated):
                router = litellm.Router(model_list=copy.deepcopy(_v2pick._model_list()),
                                        routing_strategy="usage-based-routing-v2")

            async def go():
                out = []
                for _ in range(3):
                    with _local_patch.accelerated(accelerated):
                        await router.async_get_available_deployment(model="g", request_kwargs={})
                    out.append(current_service_target())
                return out

            seen.append(asyncio.run(go()))
    assert seen[0] == seen[1]


# ---- the native scan's positional check, kept by identity -------------------------

def _scan(healthy, tpm_keys, rpm_keys, values, memo=None):
    args = (healthy, tpm_keys, values, rpm_keys, values, 0, _NAMES, False)
    got = NATIVE.router_usage_pick(*args) if memo is None else NATIVE.router_usage_pick(*args, memo)
    return None if got is None else [healthy.index(d) for d in got]


def _deployments(ids, tpm=100):
    return [{"model_info": {"id": i}, "litellm_params": {"model": "m", "tpm": tpm}} for i in ids]


def _keys(ids, kind):
    return ["%s:m:%s:10-01" % (i, kind) for i in ids]


def test_scan_memo_answers_as_the_scan_without_it():
    """Calls one after another with one memo: the same objects (memo hit), the
    same strs in another order (the keys then do not name the candidates in
    order: the count dicts decide), equal strs that are other objects, an id
    changed in place, a duplicate id: each answer the memo-less scan's."""
    gen = random.Random(25)
    memo = []
    ids = ["d%d" % i for i in range(6)]
    healthy = _deployments(ids)
    tpm, rpm = _keys(ids, "tpm"), _keys(ids, "rpm")
    seen = set()
    for trial in range(400):
        values = {k: gen.choice([None, 0, 1, 5, 50, 99, 100, 101, 2.5, True]) for k in tpm + rpm}
        roll = gen.random()
        t, r, h = list(tpm), list(rpm), healthy
        if roll < 0.2:
            t[0], t[1] = t[1], t[0]
        elif roll < 0.3:
            r[2], r[3] = r[3], r[2]
        elif roll < 0.4:
            t = ["".join(list(k)) for k in t]  # equal strs, other objects
        elif roll < 0.5:
            h = [dict(d, model_info=dict(d["model_info"])) for d in healthy]
            h[1]["model_info"]["id"] = "x" + h[1]["model_info"]["id"]
        elif roll < 0.55:
            h = [dict(d, model_info=dict(d["model_info"])) for d in healthy]
            h[4]["model_info"]["id"] = h[5]["model_info"]["id"]
        want = _scan(h, t, r, values)
        got = _scan(h, t, r, values, memo)
        assert got == want, (trial, roll, got, want)
        seen.add(tuple(want) if want is not None else None)
        assert _scan(h, t, r, values, memo) == want  # (again: the memo as this call left it)
    assert len(seen) > 20


def test_scan_memo_is_not_kept_for_keys_that_do_not_name_the_candidates():
    memo = []
    ids = ["a", "b"]
    healthy = _deployments(ids)
    tpm, rpm = _keys(ids, "tpm"), _keys(ids, "rpm")
    swapped = [tpm[1], tpm[0]]
    values = {tpm[0]: 99, tpm[1]: 1, rpm[0]: None, rpm[1]: None}
    assert _scan(healthy, tpm, rpm, values, memo) == [1]
    assert len(memo) == 3 and memo[1] == tuple(tpm)
    # (the count dicts map each key to its id's deployment: b's count 1 is still b's; taken
    # positionally, the swapped keys would give a b's count and pick a)
    assert _scan(healthy, swapped, rpm, values, memo) == _scan(healthy, swapped, rpm, values) == [1]
    assert memo[1] == tuple(tpm)


def test_scan_rejects_a_memo_that_is_not_a_list():
    with pytest.raises(TypeError):
        NATIVE.router_usage_pick([], [], {}, [], {}, 0, _NAMES, False, ())
