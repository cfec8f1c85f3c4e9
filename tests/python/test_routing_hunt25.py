"""Session 25 (hunt25): stop 24's new router code attacked (docs/routing.md, "Session 25
(hunt25)").

1. usage-based-routing-v2's counter keys (``selector_fast.make_usage_counter_keys``, its
   clock-to-keys tail in C since session 24: ``router_usage_minute_keys``) took the minute
   of an exact datetime from a table, and joined any other minute with ``":tpm:" +
   minute``.  LiteLLM's line is ``get_utc_datetime().strftime("%H-%M")`` and then
   f-strings: an exact datetime's ``strftime`` calls ``time.strftime`` (as ``import time``
   finds it) with its ``timetuple()``, which calls its tzinfo's ``dst()``; and an f-string
   formats a minute that is not an exact str with ``format(minute, "")``, once a key.  A
   recorder on ``time.strftime`` (freezegun and time-machine replace it) or a tzinfo of
   Python's saw no calls from ours; a clock whose ``strftime`` answered bytes, an int, None
   or a mock made ours raise ``TypeError`` where stock picked; a str subclass with its own
   ``__format__`` gave other keys; a raising ``strftime`` was not marked the caller's
   error.  Each case runs v2 picks in lockstep (the usage-v2 pick file's ``_run``: picks,
   ``random``, cache, the clock's reads, and here every key the picks read from the cache),
   and calls LiteLLM's ``usage_counter_keys`` against ours, C and Python twin.

2. The usage read's kept group rows (``litellm_fast._GroupRows``, route24a's known gap):
   the token's length is what tells a replacing build that failed under its old
   ``_read_at`` (a ``BaseException`` from a build step: ``set_model_list``'s own
   ``except Exception`` does not put the old list back) from the list read; the registry
   version and ``_read_at`` each imply the other in LiteLLM's write paths (the list is
   read again, with a new ``_read_at``, whenever router-core's version moved past it), so
   the test of a renamed entry fails only with both dropped.

3. The latency and cost selectors' minute stamp (``litellm_fast._stamp_of``): the same
   ``time.strftime`` calls, three a stamp, skipped by ours (latency's fresh map skipped
   the stamp altogether).
"""
from __future__ import annotations

import asyncio
import copy
import datetime
import random
import sys
import time
import warnings
from unittest import mock

import pytest

litellm = pytest.importorskip("litellm")

import test_routing_usage_v2_pick as V2P  # noqa: E402
from _lockstep import same_minute  # noqa: E402
from litellm.router_strategy import lowest_tpm_rpm_v2 as v2  # noqa: E402

from fast_litellm import _native_loader  # noqa: E402
from fast_litellm.patching.registry import NotAccelerated, is_callers_error  # noqa: E402
from fast_litellm.routing import _local_patch, selector_fast  # noqa: E402

pytestmark = V2P.pytestmark + [pytest.mark.filterwarnings("ignore::DeprecationWarning")]
patched = V2P.patched
V2 = "usage-based-routing-v2"


# ---- 1. the minute of LiteLLM's clock ------------------------------------------------------------

class _Odd:
    """A clock's answer that is not a datetime: its strftime answers ``value`` (or raises it)."""

    def __init__(self, log, value):
        self.log, self.value = log, value

    def strftime(self, fmt):
        self.log.append(("strftime", fmt))
        if isinstance(self.value, BaseException):
            raise self.value
        return self.value


class _Minute(str):
    """A minute str subclass with its own ``__format__`` and ``__str__`` (each call recorded)."""

    log: list = []

    def __format__(self, spec):
        self.log.append(("format", spec))
        return "F" + str.__str__(self)

    def __str__(self):
        self.log.append(("str",))
        return "S" + str.__str__(self)


class _RaisingFormat:
    """A minute whose ``__format__`` raises at its third call."""

    def __init__(self, log):
        self.log, self.calls = log, 0

    def __format__(self, spec):
        self.calls += 1
        self.log.append(("format", self.calls))
        if self.calls == 3:
            raise ValueError("third format")
        return "m%d" % self.calls


class _PyZone(datetime.tzinfo):
    """UTC as a tzinfo of Python's: ``dst`` (which an aware datetime's timetuple() calls) recorded."""

    def __init__(self, log):
        self.log = log

    def utcoffset(self, dt):
        return datetime.timedelta(0)

    def dst(self, dt):
        self.log.append(("dst",))
        return datetime.timedelta(0)

    def tzname(self, dt):
        return "UTC"


def _clock_case(case, log):
    """(a clock for ``get_utc_datetime``, extra set-up under ``patch``) for ``case``."""
    def clock_of(make):
        def clock():
            log.append(("clock",))
            return make()
        return clock

    now = lambda: datetime.datetime.now(datetime.timezone.utc)  # noqa: E731
    if case in ("bytes", "int", "none"):
        value = {"bytes": b"12-30", "int": 7, "none": None}[case]
        return clock_of(lambda: _Odd(log, value)), None
    if case == "str subclass":
        _Minute.log = log
        return clock_of(lambda: _Odd(log, _Minute(now().strftime("%H-%M")))), None
    if case == "format raises":
        return clock_of(lambda: _Odd(log, _RaisingFormat(log))), None
    if case == "strftime raises":
        return clock_of(lambda: _Odd(log, ValueError("no minute"))), None
    if case == "mock":
        return mock.Mock(side_effect=lambda: log.append(("clock",)) or mock.MagicMock()), None
    if case == "python tzinfo":
        zone = _PyZone(log)
        return clock_of(lambda: datetime.datetime.now(zone)), None
    if case == "datetime subclass":
        class Stamp(datetime.datetime):
            def strftime(self, fmt):
                log.append(("strftime", fmt))
                return super().strftime(fmt)
        return clock_of(lambda: Stamp.now(datetime.timezone.utc)), None
    if case in ("time.strftime", "time module"):
        real = time.strftime

        def recorder(fmt, *args):
            log.append(("time.strftime", fmt))
            return real(fmt, *args)

        def setup(patch):
            if case == "time.strftime":
                patch.setattr(time, "strftime", recorder)
            else:  # another module under sys.modules["time"] (what `import time` then finds)
                other = type(sys)("time")
                other.__dict__.update(time.__dict__)
                other.strftime = recorder
                patch.setitem(sys.modules, "time", other)
        return clock_of(now), setup
    assert case == "plain"
    return clock_of(now), None


CLOCK_CASES = ("plain", "bytes", "int", "none", "str subclass", "format raises", "strftime raises", "mock",
               "python tzinfo", "datetime subclass", "time.strftime", "time module")


def _reads_recorded(router, log):
    """The routing cache's batch reads recorded (their keys), on the instance: LiteLLM's and
    our reads both call it."""
    cache = router._core._cache
    real = cache.async_batch_get_cache

    async def recorder(keys, *args, **kwargs):
        # (up to a '<': a mock's repr in a key names its id, which differs between the sides)
        log.append(("read", tuple(key.split("<")[0] for key in keys)))
        return await real(keys, *args, **kwargs)
    cache.async_batch_get_cache = recorder


def _keys_cell(function):
    """The installed fast usage_counter_keys' ``minute_keys`` cell (the C tail, or None)."""
    code = function.__code__
    return function.__closure__[code.co_freevars.index("minute_keys")]


def _installed_keys():
    current = v2.LowestTPMLoggingHandler_v2.__dict__["usage_counter_keys"]
    for layer in (current, getattr(current, "_fast", None), getattr(current, "__wrapped__", None)):
        code = getattr(layer, "__code__", None)
        if code is not None and "minute_keys" in code.co_freevars:
            return layer
    return None


@pytest.mark.parametrize("twin", [False, True], ids=["native", "python"])
@pytest.mark.parametrize("case", CLOCK_CASES)
def test_v2_picks_read_the_clock_as_litellm_does(monkeypatch, case, twin):
    """v2 picks in lockstep under an odd clock: picks (or the error), ``random``, cache, and
    every clock, strftime, time.strftime, dst and format call and cache read, in order.
    Main: the table skipped time.strftime and dst; bytes/int/None/mock raised TypeError;
    the str subclass's keys were ':tpm:' + minute (no __format__)."""
    if twin:
        fast = _installed_keys()
        if fast is None:
            pytest.skip("the fast usage_counter_keys is not reachable here")
        cell = _keys_cell(fast)
        monkeypatch.setattr(cell, "cell_contents", None)
    elif _native_loader.NATIVE is None:
        pytest.skip("no native core")

    def run(accelerated):
        def setup(patch, log, router):
            clock, extra = _clock_case(case, log)
            patch.setattr(v2, "get_utc_datetime", clock)
            if extra is not None:
                extra(patch)
            _reads_recorded(router, log)
        return V2P._run(accelerated, monkeypatch, setup=setup, picks=3)

    same_minute()
    stock, ours = run(False), run(True)
    assert ours[:3] == stock[:3]


def _call(function, healthy):
    try:
        return ("ok", function(object(), healthy)), None
    except NotAccelerated:
        raise
    except Exception as exc:  # compared
        return ("raised", type(exc).__name__, str(exc)), exc


@pytest.mark.parametrize("case", CLOCK_CASES)
def test_usage_counter_keys_native_python_and_litellm(monkeypatch, case):
    """LiteLLM's ``usage_counter_keys`` against ours with the C tail and with the Python
    lines (the same function, its ``minute_keys`` cell emptied), on the same rows: the keys
    (or the error: type and text), every recorded call, and an error raised marked the
    caller's (else the patch's wrapper would run LiteLLM's function after it: a second
    clock read)."""
    original = _local_patch._original_of(v2.LowestTPMLoggingHandler_v2, "usage_counter_keys")
    fast = selector_fast.make_usage_counter_keys(original)
    cell = _keys_cell(fast)
    native = cell.cell_contents
    healthy = V2P._model_list(4)
    outcomes = []
    for side in ("litellm", "native", "python"):
        if side == "native" and native is None:
            continue
        log = []
        clock, extra = _clock_case(case, log)
        with monkeypatch.context() as patch:
            patch.setattr(v2, "get_utc_datetime", clock)
            if extra is not None:
                extra(patch)
            patch.setattr(cell, "cell_contents", native if side == "native" else None)
            same_minute()
            outcome, error = _call(original if side == "litellm" else fast, copy.deepcopy(healthy))
        if error is not None and side != "litellm":
            assert is_callers_error(error), (side, error)
        if case == "mock" and outcome[0] == "ok":  # (a mock's repr names its id: the keys' shape)
            outcome = ("ok", tuple([k.split("<")[0] for k in keys] for keys in outcome[1]))
        outcomes.append((side, outcome, log))
    for side, outcome, log in outcomes[1:]:
        assert (outcome, log) == outcomes[0][1:], side


def test_the_table_serves_a_plain_clock():
    """Not always declining: a plain UTC clock's minute still comes from the table (no
    strftime call: a recorder put on datetime's strftime cannot see it, so the kept keys
    are looked at instead - the second call in a minute copies the first's)."""
    original = _local_patch._original_of(v2.LowestTPMLoggingHandler_v2, "usage_counter_keys")
    fast = selector_fast.make_usage_counter_keys(original)
    healthy = V2P._model_list(4)
    same_minute()
    first = fast(object(), healthy)
    second = fast(object(), healthy)
    assert first == second == tuple(original(object(), healthy))
    last = fast.__closure__[fast.__code__.co_freevars.index("last_built")].cell_contents
    assert last[0][1] == datetime.datetime.now(datetime.timezone.utc).strftime("%H-%M")


# ---- 2. the usage read's kept group rows ---------------------------------------------------------

ROWS = [{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k", "tpm": 5},
         "model_info": {"id": "d%d" % i}} for i in range(4)]


def _rows_run(accelerated, script):
    """``script(router, pick)`` on a v2 router over ROWS (built with the fast paths as
    ``accelerated``), its cache's batch reads recorded.  ``pick(i, full)``: a seeded pick
    (``full``: every deployment past its tpm this minute, so it fails) -> (the id, or the
    error's type and its context's type; ``random``'s state)."""
    with _local_patch.accelerated(accelerated), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=copy.deepcopy(ROWS), routing_strategy=V2)
    log = []
    _reads_recorded(router, log)
    minute = litellm.utils.get_utc_datetime().strftime("%H-%M")
    keys = ["%s:openai/gpt-4o:tpm:%s" % (row["model_info"]["id"], minute) for row in ROWS]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def pick(i, full=False):
        for key in keys if full else ():
            router._core._cache.set_cache(key, 100)
        random.seed(i)
        try:
            with _local_patch.accelerated(accelerated), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                picked = loop.run_until_complete(
                    router._core.select("g", {"metadata": {}, "litellm_call_id": "c%d" % i}))
            out = picked["model_info"]["id"]
        except Exception as exc:  # compared
            out = (type(exc).__name__, type(exc.__context__).__name__)
        finally:
            for key in keys if full else ():
                router._core._cache.delete_cache(key)
        return out, random.getstate()[1][:3]

    try:
        with _local_patch.accelerated(accelerated):
            return script(router, pick), log
    finally:
        for _ in range(3):
            loop.run_until_complete(asyncio.sleep(0))
        asyncio.set_event_loop(None)
        loop.close()
        router.retire()


def _rows_lockstep(script):
    same_minute()
    stock, ours = _rows_run(False, script), _rows_run(True, script)
    assert ours == stock
    return stock


def _list_state(router):
    entries = router._core._hosted._core_model_list
    return entries._read_at, len(entries), router._core._handle.registry_version()


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_kept_rows_after_a_replacing_build_interrupted(interrupt):
    """A ``set_model_list`` whose build is interrupted (a ``BaseException`` from a build step:
    a hook's KeyboardInterrupt or SystemExit; the registry's ``except Exception`` does not
    put the old list back) leaves the live list emptied under its old ``_read_at``, at the
    same registry version: LiteLLM's group read then fails (an ``IndexError``, swallowed by
    the usage-read scope: the next failing pick's context), and a pick's usage read is not
    batched.  Kept rows handed out there (the token's length check dropped) gave the pick
    another context and other reads."""
    from litellm.router_rust.surface import registry

    def script(router, pick):
        out = [pick(0), pick(1, True)]
        before = _list_state(router)
        real = registry.HostRegistry.__dict__["_build_validate"]

        def interrupted(self, *args, **kwargs):
            raise interrupt("build interrupted")
        registry.HostRegistry._build_validate = interrupted
        try:
            router.set_model_list([dict(row, model_info={"id": "n%d" % i}) for i, row in enumerate(ROWS)])
        except BaseException as exc:  # noqa: BLE001 - compared
            out.append(repr(exc))
        finally:
            registry.HostRegistry._build_validate = real
        after = _list_state(router)
        out.append((after[0] is before[0], before[1:], after[1:]))
        return out + [pick(2), pick(3, True), pick(4)]

    out, _reads = _rows_lockstep(script)
    assert out[3] == (True, (4, 0), (0, 0))  # (the state this test is about)
    assert out[5][0] == ("RateLimitError", "IndexError")


def test_kept_rows_after_an_entry_renamed_in_place():
    """``router.model_list[0]["model_name"] = "h"`` (the entry's own write: router-core takes
    the list again) moves ``d0`` out of the group: its counters are not read after, on both
    sides.  Its list is read again (a new ``_read_at``) at a new registry version, so each
    of those two token checks alone keeps the rows from being handed out; this fails only
    with both dropped (route24a's gap: neither alone can matter, see docs/routing.md)."""
    def script(router, pick):
        out = [pick(0), pick(1)]
        router.model_list[0]["model_name"] = "h"
        return out + [pick(2), pick(3), pick(4, True)]

    out, reads = _rows_lockstep(script)
    assert not any("d0:" in key for _, keys in reads[-3:] for key in keys)


# ---- 3. the latency and cost strategies' minute stamp --------------------------------------------

@pytest.mark.parametrize("how", ["time.strftime", "time module"])
@pytest.mark.parametrize("strategy", ["latency-based-routing", "cost-based-routing"])
def test_latency_and_cost_stamps_call_time_strftime_as_litellm_does(strategy, how):
    """LiteLLM's latency and cost selectors make their minute stamp with three
    ``datetime.now().strftime(...)`` calls, each calling ``time.strftime``: a recorder there
    (or on another module under ``sys.modules["time"]``) saw nine calls in three stock picks
    and none from ours (``litellm_fast._stamp_of``'s fields; latency's fresh map skipped the
    stamp).  Both now go through strftime while it is not the interpreter's."""
    from test_routing_hunt20 import _lockstep

    def script(router, pick):
        log, real = [], time.strftime

        def recorder(fmt, *args):
            log.append(fmt)
            return real(fmt, *args)
        saved = sys.modules["time"]
        if how == "time.strftime":
            time.strftime = recorder
        else:
            other = type(sys)("time")
            other.__dict__.update(time.__dict__)
            other.strftime = recorder
            sys.modules["time"] = other
        try:
            out = [pick(i) for i in range(3)]
        finally:
            time.strftime = real
            sys.modules["time"] = saved
        return out, log

    out = _lockstep(strategy, script)
    assert len(out[1]) == 9


def test_builtin_strftime_refuses_a_strftime_replaced_before_the_build():
    """A strftime already replaced when the patch is built (freezegun started before
    ``import fast_litellm``) is never taken for the interpreter's: the tables are not used."""
    fake = type(sys)("time")
    fake.__dict__.update(time.__dict__)
    assert selector_fast.builtin_strftime(time) is time.strftime
    fake.strftime = lambda fmt, *args: time.strftime(fmt, *args)
    assert selector_fast.builtin_strftime(fake) is not fake.strftime
    other = type(sys)("other")
    other.strftime = time.strftime  # the builtin, but another module's binding of it
    assert selector_fast.builtin_strftime(other) is not time.strftime
