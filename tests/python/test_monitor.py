"""Performance monitor: both twins, one suite (the ``impl`` fixture)."""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import signal
import sys
import threading
import types

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fast_litellm import _native_loader, monitor
from fast_litellm.monitor import _histogram
from fast_litellm.monitor._api import PerformanceMonitor


@pytest.fixture
def api(impl):
    """A fresh monitor of the twin under test."""
    cls = monitor.implementation(impl).Monitor
    return PerformanceMonitor(cls(), impl)


def nearest_rank(values, q):
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


# -- recording and statistics --------------------------------------------


def test_counts_errors_sizes_and_exact_extremes(api):
    rec = api.record_performance
    rec("router", "pick", 1.5)
    rec("router", "pick", 2.5, False, 10, 20)
    rec(component="router", operation="other", duration_ms=3, success=None, output_size=5)
    stats = api.get_performance_stats("router")
    assert stats["count"] == 3 and stats["errors"] == 1
    assert stats["success_rate"] == pytest.approx(2 / 3)
    assert stats["min_ms"] == 1.5 and stats["max_ms"] == 3.0
    assert stats["mean_ms"] == pytest.approx(7 / 3)
    assert stats["total_input_size"] == 10 and stats["total_output_size"] == 25
    pick = stats["operations"]["pick"]
    assert (pick["count"], pick["errors"], pick["min_ms"], pick["max_ms"]) == (2, 1, 1.5, 2.5)
    assert pick["window"]["count"] == 2 and pick["window"]["seconds"] == 60.0
    assert stats["total_calls"] == 3 and stats["failed_calls"] == 1  # 0.1.x names
    assert set(api.get_performance_stats()) == {"router"}


def test_unknown_component_has_empty_stats(api):
    stats = api.get_performance_stats("nothing")
    assert stats["count"] == 0 and stats["operations"] == {}
    assert stats["mean_ms"] is None and stats["p99_ms"] is None and stats["success_rate"] is None
    assert api.get_performance_stats() == {}


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.floats(min_value=0.0, max_value=5000.0), min_size=1, max_size=300))
def test_quantiles_within_histogram_error(impl, durations):
    api = PerformanceMonitor(monitor.implementation(impl).Monitor(), impl)
    for d in durations:
        api.record_performance("c", "op", d)
    stats = api.get_performance_stats("c")
    ns = [math.floor(d * 1e6 + 0.5) for d in durations]
    for key, q in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)):
        exact = nearest_rank(ns, q) / 1e6
        assert abs(stats[key] - exact) <= exact * _histogram.RELATIVE_ERROR + 1e-12
    assert stats["min_ms"] == min(ns) / 1e6 and stats["max_ms"] == max(ns) / 1e6


def test_histogram_twin_matches_bucket_rules():
    for idx in range(_histogram.BUCKETS):
        lo = _histogram.lower(idx)
        assert _histogram.index(lo) == idx
        assert _histogram.index(lo + _histogram.width(idx) - 1) == idx
    assert _histogram.index(2**80) == _histogram.BUCKETS - 1


@pytest.mark.native_only
@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "é"]), st.sampled_from(["x", "y"]),
                          st.floats(min_value=0.0, max_value=1e6), st.booleans(),
                          st.one_of(st.none(), st.integers(0, 2**40)),
                          st.one_of(st.none(), st.integers(0, 2**40))), max_size=60))
def test_native_and_python_agree_exactly(calls):
    if _native_loader.NATIVE is None:
        pytest.skip("native core not built")
    results = []
    for kind in ("python", "native"):
        api = PerformanceMonitor(monitor.implementation(kind).Monitor(max_series=4), kind)
        for call in calls:
            api.record_performance(*call)
        snap = api.recorder.snapshot()
        results.append((api.get_performance_stats(), snap["series"]))
    assert results[0] == results[1]


def test_window_forgets_old_calls_lifetime_keeps_them(api):
    api.record_performance("c", "op", 5.0, False)
    api.recorder._advance_clock(200)
    stats = api.get_performance_stats("c")
    assert stats["count"] == 1 and stats["window"]["count"] == 0
    assert stats["window"]["p50_ms"] is None
    api.record_performance("c", "op", 1.0)
    stats = api.get_performance_stats("c")
    assert stats["count"] == 2 and stats["errors"] == 1
    assert stats["window"]["count"] == 1 and stats["window"]["errors"] == 0
    assert stats["window"]["max_ms"] == 1.0


def test_window_keeps_the_last_minute(api):
    api.record_performance("c", "op", 1.0)
    api.recorder._advance_clock(45)
    api.record_performance("c", "op", 2.0)
    assert api.get_performance_stats("c")["window"]["count"] == 2


def test_reset_forgets_everything(api):
    api.record_performance("c", "op", 1.0)
    api.reset_performance_stats()
    assert api.get_performance_stats() == {}
    api.record_performance("c", "op", 1.0)  # cached keys are not stale after reset
    assert api.get_performance_stats("c")["count"] == 1


def test_series_cap_sends_new_pairs_to_overflow(api):
    small = PerformanceMonitor(api.Monitor(max_series=3), api.kind)
    for i in range(10):
        small.record_performance("c", "op%d" % i, 1.0)
    small.record_performance("c", "op0", 1.0)
    stats = small.get_performance_stats()
    assert small.recorder.series_count() == 3
    assert stats["c"]["count"] == 4 and stats["__overflow__"]["count"] == 7
    info = small.monitor_info()
    assert info["overflow_used"] and info["series"] == 3
    types_ = [r["type"] for r in small.get_recommendations()]
    assert "series_overflow" in types_


@pytest.mark.native_only
def test_native_memory_is_bounded(api):
    if api.kind != "native":
        pytest.skip("memory accounting is native only")
    small = PerformanceMonitor(api.Monitor(max_series=4), api.kind)
    for i in range(5):
        small.record_performance("c", "op%d" % i, 1.0)
    before = small.monitor_info()["memory_bytes"]
    for i in range(2000):
        small.record_performance("c", "more%d" % i, 1.0)
    assert small.monitor_info()["memory_bytes"] == before


# -- bad input ------------------------------------------------------------

BAD_CALLS = [
    ((1, "op", 1.0), {}, TypeError, "component must be str, not int"),
    (("c", None, 1.0), {}, TypeError, "operation must be str, not NoneType"),
    (("c", "op", "1"), {}, TypeError, "duration_ms must be int or float, not str"),
    (("c", "op", -0.5), {}, ValueError, "duration_ms must be a finite number"),
    (("c", "op", float("nan")), {}, ValueError, "duration_ms must be a finite number"),
    (("c", "op", float("inf")), {}, ValueError, "duration_ms must be a finite number"),
    (("c", "op", 10**400), {}, ValueError, "duration_ms must be a finite number"),
    (("c", "op", 1.0, True, -1), {}, ValueError, "input_size must be from 0 to 2**63-1"),
    (("c", "op", 1.0, True, 1.5), {}, TypeError, "input_size must be int or None, not float"),
    (("c", "op", 1.0, True, None, 2**64), {}, ValueError, "output_size must be from 0"),
    (("c", "x" * 1025, 1.0), {}, ValueError, "operation must be at most 1024 bytes"),
    (("c", "op"), {}, TypeError, None),
    (("c", "op", 1.0), {"bogus": 1}, TypeError, None),
    (("c", "op", 1.0), {"component": "c"}, TypeError, None),
    (("c", "op", 1.0, True, None, None, 7), {}, TypeError, None),
]


@pytest.mark.parametrize("args,kwargs,exc,message", BAD_CALLS)
def test_bad_arguments_raise_and_record_nothing(api, args, kwargs, exc, message):
    with pytest.raises(exc) as info:
        api.record_performance(*args, **kwargs)
    if message is not None:
        assert message in str(info.value)
    assert api.get_performance_stats() == {}


def test_unencodable_names_raise_unicode_error(api):
    with pytest.raises(UnicodeEncodeError):
        api.record_performance("\ud800", "op", 1.0)


def test_str_subclass_names_are_their_text(api):
    """A str subclass name is recorded as its text; its __hash__/__eq__ do
    not run under the recorder's lock (one calling back into the monitor
    deadlocked the Python twin)."""
    class Reentrant(str):
        def __hash__(self):
            api.get_performance_stats()
            return str.__hash__(self)

        def __eq__(self, other):
            api.record_performance("x", "y", 1.0)
            return str.__eq__(self, other)

    worker = threading.Thread(target=lambda: [api.record_performance(Reentrant("comp"), Reentrant("op"), 2.0)
                                              for _ in range(3)], daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive()
    stats = api.get_performance_stats()
    assert stats["comp"]["count"] == 3
    assert [type(k) for k in stats] == [str] * len(stats)


def test_odd_but_valid_names_and_values(api):
    api.record_performance("", "", 0)
    api.record_performance("c\x00d", "é\n\"", True)  # bool is an int: 1 ms
    api.record_performance("c", "op", 1e9, 0)  # falsy success is a failure
    stats = api.get_performance_stats()
    assert stats[""]["count"] == 1
    assert stats["c\x00d"]["operations"]["é\n\""]["max_ms"] == 1.0
    assert stats["c"]["errors"] == 1 and stats["c"]["max_ms"] == 1e9


def test_stat_arguments_are_checked(api):
    with pytest.raises(TypeError):
        api.get_performance_stats(3)
    with pytest.raises(TypeError):
        api.compare_implementations(None, "x")
    with pytest.raises(ValueError):
        api.Monitor(max_series=0)
    with pytest.raises(ValueError):
        api.Monitor(window_seconds=0)
    with pytest.raises(ValueError):
        api.Monitor(interval_seconds=0)


BAD_CONFIGS = [
    ({"max_series": True}, TypeError, "max_series must be int, not bool"),
    ({"max_series": 1.5}, TypeError, "max_series must be int, not float"),
    ({"max_series": 2**70}, ValueError, "max_series must be from 1 to 4096"),
    ({"max_series": -2**70}, ValueError, "max_series must be from 1 to 4096"),
    ({"window_seconds": "60"}, TypeError, "window_seconds must be int or float, not str"),
    ({"window_seconds": None}, TypeError, "window_seconds must be int or float, not NoneType"),
    ({"interval_seconds": "1"}, TypeError, "interval_seconds must be int or float, not str"),
    ({"window_seconds": float("inf")}, ValueError, "window_seconds must be > 0"),
    ({"window_seconds": 10**400}, ValueError, "window_seconds must be > 0"),
    ({"window_seconds": float("nan")}, ValueError, "window_seconds must be > 0"),
    ({"interval_seconds": float("inf")}, ValueError, "interval_seconds must be from"),
    ({"interval_seconds": 10**400}, ValueError, "interval_seconds must be from"),
]


@pytest.mark.parametrize("config,exc,message", BAD_CONFIGS)
def test_monitor_config_is_checked_alike(api, config, exc, message):
    """Both twins: TypeError naming the argument, ValueError when out of range
    (the native twin took max_series=True and raised OverflowError for huge
    ints; the Python twin took window_seconds="60" and raised OverflowError
    for an infinite window)."""
    with pytest.raises(exc) as info:
        api.Monitor(**config)
    assert str(info.value).startswith(message)
    with pytest.raises(exc):
        api.PerformanceMonitor(**config)


def test_number_subclasses_are_recorded_as_their_own_value(api):
    class Float(float):
        def __float__(self):
            return 5.0

    class Int(int):
        def __float__(self):
            return 7.0

        def __int__(self):
            return 9

    api.record_performance("c", "op", Float(3.0), True, Int(4), Int(6))
    api.record_performance("c", "op", Int(3))
    stats = api.get_performance_stats("c")
    assert (stats["min_ms"], stats["max_ms"]) == (3.0, 3.0)
    assert (stats["total_input_size"], stats["total_output_size"]) == (4, 6)


def test_a_recorded_overflow_name_is_not_lost(api):
    small = PerformanceMonitor(api.Monitor(max_series=2), api.kind)
    small.record_performance("__overflow__", "__overflow__", 1.0)
    small.record_performance("a", "b", 1.0)
    small.record_performance("c", "d", 5.0)  # past the cap: the overflow series
    stats = small.get_performance_stats("__overflow__")
    assert stats["count"] == 2
    assert stats["operations"]["__overflow__"]["count"] == 2
    assert stats["operations"]["__overflow__"]["max_ms"] == 5.0
    rows = list(csv.DictReader(io.StringIO(small.export_performance_data(format="csv"))))
    assert sorted((r["component"], r["scope"], r["count"]) for r in rows) == [
        ("__overflow__", "lifetime", "2"), ("__overflow__", "window", "2"),
        ("a", "lifetime", "1"), ("a", "window", "1")]


def test_compare_names_whose_operation_holds_a_colon(api):
    for _ in range(20):
        api.record_performance("c", "chat:completion", 3.0)
        api.record_performance("c", "chat:completion.original", 1.0)
        api.record_performance("c:x", "y:z", 2.0)
    result = api.compare_implementations("c:chat:completion", "c:chat:completion.original")
    assert (result["native_avg_ms"], result["baseline_avg_ms"]) == (3.0, 1.0)
    assert api.compare_implementations("c:x:y:z", "c:x")["native_avg_ms"] == 2.0
    recs = [r for r in api.get_recommendations() if r["type"] == "native_slower"]
    assert [(r["component"], r["operation"]) for r in recs] == [("c", "chat:completion")]



def _select_every_colon(grouped, name):
    """The split rule as first written: try every ":" in order."""
    if name in grouped:
        return [lifetime for _, lifetime, _ in grouped[name]]
    at = name.find(":")
    while at >= 0:
        found = [lifetime for op, lifetime, _ in grouped.get(name[:at], []) if op == name[at + 1:]]
        if found:
            return found
        at = name.find(":", at + 1)
    return []


def test_compare_name_split_matches_the_every_colon_rule():
    """_select tries only the splits after a recorded component (session 21
    hunt); the same answer as trying every colon, on random colon names."""
    import random

    from fast_litellm.monitor import _api

    rng = random.Random(21)
    for _ in range(300):
        parts = ["".join(rng.choice("ab:") for _ in range(rng.randint(0, 4))) for _ in range(6)]
        grouped = {}
        for i in range(rng.randint(1, 6)):
            component, operation = rng.choice(parts), rng.choice(parts)
            grouped.setdefault(component, []).append((operation, ("lt", component, operation, i), None))
        for _ in range(20):
            name = "".join(rng.choice(parts + [":"]) for _ in range(rng.randint(1, 5)))
            assert _api._select(grouped, name) == _select_every_colon(grouped, name), (grouped, name)


def test_compare_a_name_of_many_colons_is_not_quadratic(api):
    """Session 21 hunt: every colon was tried, slicing the name each time
    (200,000 colons took 6 s, a 1 MB name minutes)."""
    import time

    api.record_performance("c", "op", 1.0)
    start = time.perf_counter()
    result = api.compare_implementations(":" * 1_000_000, "c:" + ":" * 1_000_000)
    assert result["native_avg_ms"] is None and result["baseline_avg_ms"] is None
    assert time.perf_counter() - start < 2.0

# -- threads and fork -----------------------------------------------------


def test_threads_lose_no_calls(api):
    def work():
        for i in range(3000):
            api.record_performance("t", "op", 0.001 * (i % 50), i % 7 != 0, 1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = api.get_performance_stats("t")
    assert stats["count"] == 12000 and stats["total_input_size"] == 12000
    assert stats["errors"] == 4 * len([i for i in range(3000) if i % 7 == 0])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_child_records_right_after_fork_with_busy_threads(api):
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            api.record_performance("busy", "op", 0.01)

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for _ in range(5):
            pid = os.fork()
            if pid == 0:  # child: must not deadlock on a lock held at fork time
                code = 1
                signal.alarm(10)  # a deadlock kills the child: the test fails, not hangs
                try:
                    api.record_performance("child", "op", 1.0)
                    code = 0 if api.get_performance_stats("child")["count"] == 1 else 2
                finally:
                    os._exit(code)
            _, status = os.waitpid(pid, 0)
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    finally:
        stop.set()
        for t in threads:
            t.join()


# -- comparison -----------------------------------------------------------


def test_compare_without_data_says_so(api):
    result = api.compare_implementations("rust_x", "python_x")
    assert result["recommendation"] == "insufficient_data"
    assert result["rust_avg_ms"] is None and result["python_avg_ms"] is None
    assert result["speedup"] is None and result["native_avg_ms"] is None


def test_compare_from_real_data(api):
    for _ in range(20):
        api.record_performance("rust_x", "op", 1.0)
        api.record_performance("python_x", "op", 3.0)
    result = api.compare_implementations("rust_x", "python_x")
    assert result["rust_avg_ms"] == 1.0 and result["python_avg_ms"] == 3.0
    assert result["speedup"] == pytest.approx(3.0)
    assert result["recommendation"] == "use_rust" and result["verdict"] == "native_faster"
    assert result["native_avg_ms"] == 1.0 and result["baseline_avg_ms"] == 3.0
    reverse = api.compare_implementations("python_x", "rust_x")
    assert reverse["recommendation"] == "use_python"


def test_compare_needs_enough_samples(api):
    for _ in range(3):
        api.record_performance("rust_x", "op", 1.0)
        api.record_performance("python_x", "op", 3.0)
    result = api.compare_implementations("rust_x", "python_x")
    assert result["recommendation"] == "insufficient_data"
    assert result["speedup"] == pytest.approx(3.0)


# -- recommendations ------------------------------------------------------

REC_KEYS = {"type", "component", "operation", "severity", "message", "evidence", "suggestions"}


def test_no_data_no_recommendations(api):
    assert api.get_recommendations() == []


def test_recommendations_from_data(api, monkeypatch):
    fake_flags = types.ModuleType("fast_litellm.flags")
    fake_flags.get_feature_status = lambda: {
        "rust_routing": {"enabled": False, "errors": 12, "error_threshold": 10,
                         "state": "disabled_by_errors", "alias": "native_routing",
                         "last_error": {"type": "RuntimeError", "message": "boom"}},
        "rust_token_counting": {"enabled": True, "errors": 0, "error_threshold": 10},
    }
    monkeypatch.setitem(sys.modules, "fast_litellm.flags", fake_flags)
    for i in range(30):
        api.record_performance("native_tok", "count", 2.0)
        api.record_performance("original_tok", "count", 1.0)
        api.record_performance("rust_token_counting", "count", 0.1, success=i % 3 != 0)
    for i in range(200):
        api.record_performance("tail", "op", 100.0 if i % 50 == 0 else 1.0)
    recs = api.get_recommendations()
    by_type = {r["type"]: r for r in recs}
    assert all(set(r) == REC_KEYS for r in recs)
    assert by_type["native_slower"]["component"] == "native_tok"
    assert by_type["native_slower"]["evidence"]["speedup"] == pytest.approx(0.5)
    assert by_type["high_error_rate"]["component"] == "rust_token_counting"
    assert by_type["high_error_rate"]["severity"] == "critical"
    assert by_type["high_error_rate"]["evidence"]["flag"] == "rust_token_counting"
    assert by_type["flag_error_threshold"]["component"] == "rust_routing"
    assert by_type["heavy_tail_latency"]["operation"] == "op"
    severities = [r["severity"] for r in recs]
    assert severities == sorted(severities, key={"critical": 0, "warning": 1, "info": 2}.get)


def test_recommendations_survive_broken_flags(api, monkeypatch):
    fake_flags = types.ModuleType("fast_litellm.flags")

    def broken():
        raise NotImplementedError

    fake_flags.get_feature_status = broken
    monkeypatch.setitem(sys.modules, "fast_litellm.flags", fake_flags)
    for _ in range(30):
        api.record_performance("x", "op", 1.0, False)
    assert [r["type"] for r in api.get_recommendations()] == ["high_error_rate"]


# -- export ---------------------------------------------------------------

AWKWARD = 'a "quoted", name\nwith \\ and newline'


def test_export_json(api):
    api.record_performance("c", "op", 1.0, input_size=3)
    api.record_performance("d", "op", 2.0)
    doc = json.loads(api.export_performance_data())
    assert doc["implementation"] == api.kind
    assert doc["components"]["c"]["operations"]["op"]["total_input_size"] == 3
    only = json.loads(api.export_performance_data("c", format="json"))
    assert set(only["components"]) == {"c"}
    assert json.loads(api.export_performance_data(format=None))["components"].keys() == {"c", "d"}


def test_export_csv_is_rfc4180(api):
    api.record_performance(AWKWARD, "op,1", 1.0)
    text = api.export_performance_data(format="csv")
    assert text.endswith("\r\n") and '""quoted""' in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0][:4] == ["component", "operation", "scope", "count"]
    assert rows[1][:4] == [AWKWARD, "op,1", "lifetime", "1"]
    assert rows[2][2] == "window" and float(rows[1][6]) == 1.0


_SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
    r'(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})?'
    r' (NaN|[+-]Inf|-?[0-9.]+(?:e[+-]?[0-9]+)?)$')


def test_export_prometheus_exposition_format(api):
    api.record_performance(AWKWARD, "op", 1.5, input_size=7)
    api.record_performance("c", "op", 2.0, success=False)
    text = api.export_performance_data(format="prometheus")
    assert text.endswith("\n")
    declared = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name not in declared
            declared[name] = kind
            continue
        m = _SAMPLE.match(line)
        assert m, line
        family = re.sub(r"_(sum|count)$", "", m.group(1))
        assert family in declared or m.group(1) in declared, line
    assert declared["fast_litellm_call_duration_seconds"] == "summary"
    assert declared["fast_litellm_call_errors_total"] == "counter"
    assert 'component="a \\"quoted\\", name\\nwith \\\\ and newline"' in text
    assert 'fast_litellm_call_errors_total{component="c",operation="op"} 1' in text
    assert 'fast_litellm_call_duration_seconds_count{component="c",operation="op"} 2' not in text
    assert 'fast_litellm_call_duration_seconds{component="c",operation="op",quantile="0.5"} 0.002' in text


def test_export_prometheus_parses_with_client_library(api):
    parser = pytest.importorskip("prometheus_client.parser")
    api.record_performance(AWKWARD, "op", 1.5)
    families = list(parser.text_string_to_metric_families(
        api.export_performance_data(format="prometheus")))
    assert any(f.name == "fast_litellm_call_duration_seconds" for f in families)


def test_export_rejects_unknown_format(api):
    with pytest.raises(ValueError, match="format must be one of"):
        api.export_performance_data(format="xml")
    with pytest.raises(TypeError):
        api.export_performance_data(format=3)
    assert api.export_performance_data(format="CSV").startswith("component,")


# -- the package's public names --------------------------------------------


def test_public_names_use_the_loaded_twin():
    import fast_litellm

    expected = "native" if _native_loader.native_has("Monitor") else "python"
    assert monitor.IMPLEMENTATION == expected
    assert fast_litellm.record_performance is monitor.record_performance
    for name in ("get_performance_stats", "compare_implementations", "get_recommendations",
                 "export_performance_data"):
        assert callable(getattr(fast_litellm, name))
    with pytest.raises(ValueError):
        monitor.implementation("rust")



def test_first_calls_racing_share_one_default_monitor(monkeypatch):
    """implementation(kind) returns one default monitor per kind even when
    threads race on the first call (each kept its own, losing records)."""
    import time

    real = monitor._monitor_class

    def slow_class(kind):
        cls = real(kind)

        def make():
            time.sleep(0.02)  # let the other threads in
            return cls()

        return make

    monkeypatch.setattr(monitor, "_monitor_class", slow_class)
    monkeypatch.delitem(monitor._DEFAULTS, "python", raising=False)
    got = []
    threads = [threading.Thread(target=lambda: got.append(monitor.implementation("python")))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and all(api is got[0] for api in got)
    assert monitor.implementation("python") is got[0]

def test_clock_hook_is_bounded(api):
    api.recorder._advance_clock(5e8)
    api.recorder._advance_clock(5e8)  # 1e18 ns in all: the bound
    with pytest.raises(ValueError):
        api.recorder._advance_clock(1)
    api.record_performance("c", "op", 1.0)
    assert api.get_performance_stats("c")["window"]["count"] == 1


def test_name_released_during_record_cannot_corrupt_the_cache(api):
    class Sneaky(str):
        def __del__(self):
            api.record_performance("other" + "", "x" + "", 1.0)

    for i in range(200):
        api.record_performance(Sneaky("s%d" % (i % 7)), "op", 1.0)
    stats = api.get_performance_stats()
    assert sum(s["count"] for s in stats.values()) >= 200
    for i in range(7):
        assert stats["s%d" % i]["operations"]["op"]["count"] > 0


def test_engine_naming_pairs_operations_with_their_originals(api):
    for _ in range(20):
        api.record_performance("token_counting", "token_counter", 3.0)
        api.record_performance("token_counting", "token_counter.original", 1.0)
        api.record_performance("token_counting", "other", 1.0)
    result = api.compare_implementations("token_counting:token_counter",
                                         "token_counting:token_counter.original")
    assert result["native_avg_ms"] == 3.0 and result["baseline_avg_ms"] == 1.0
    assert result["recommendation"] == "use_python"
    assert api.compare_implementations("token_counting:nothing", "x")["native_avg_ms"] is None
    recs = [r for r in api.get_recommendations() if r["type"] == "native_slower"]
    assert len(recs) == 1
    assert recs[0]["component"] == "token_counting" and recs[0]["operation"] == "token_counter"


def test_shadow_mismatches_are_reported(api, monkeypatch):
    fake_flags = types.ModuleType("fast_litellm.flags")
    fake_flags.get_feature_status = lambda: {
        "rust_routing": {"errors": 0, "error_threshold": 10, "shadow_calls": 50,
                         "shadow_mismatches": 2}}
    monkeypatch.setitem(sys.modules, "fast_litellm.flags", fake_flags)
    recs = api.get_recommendations()
    assert [(r["type"], r["component"], r["severity"]) for r in recs] == [
        ("shadow_mismatch", "rust_routing", "critical")]


def test_performance_monitor_of_the_same_twin(api):
    fresh = api.PerformanceMonitor(max_series=2)
    assert fresh.kind == api.kind and fresh.Monitor is api.Monitor
    fresh.record_performance("health", "op", 2.0, True)
    assert api.get_performance_stats() == {}
    assert fresh.get_performance_stats("health")["operations"]["op"]["count"] == 1
    assert PerformanceMonitor(api.Monitor()).kind == api.kind
    default = PerformanceMonitor()
    assert default.kind == monitor.IMPLEMENTATION
    with pytest.raises(TypeError):
        PerformanceMonitor(api.Monitor(), max_series=3)


def test_record_signature_is_the_reference_signature(api):
    import inspect

    params = inspect.signature(api.record_performance).parameters
    assert list(params) == ["component", "operation", "duration_ms", "success", "input_size",
                            "output_size"]
    assert [p.default for p in list(params.values())[3:]] == [True, None, None]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_python_twin_child_records_while_parent_thread_holds_the_lock():
    # the native lock's takeover is tested in C (tests/c/test_monitor.c)
    api = PerformanceMonitor(monitor.implementation("python").Monitor(), "python")
    held, release = threading.Event(), threading.Event()

    def hold():
        with api.recorder._lock:
            held.set()
            release.wait()

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait()
    try:
        pid = os.fork()
        if pid == 0:
            code = 1
            signal.alarm(10)
            try:
                api.record_performance("child", "op", 1.0)
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    finally:
        release.set()
        thread.join()


def test_reads_and_resets_race_with_recording(api):
    stop = threading.Event()
    errors = []

    def record():
        i = 0
        while not stop.is_set():
            api.record_performance("r%d" % (i % 3), "op%d" % (i % 5), 0.01 * (i % 7))
            i += 1

    def read_and_reset():
        try:
            for n in range(200):
                stats = api.get_performance_stats()
                for comp in stats.values():
                    assert comp["count"] == sum(o["count"] for o in comp["operations"].values())
                if n % 10 == 0:
                    api.reset_performance_stats()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writers = [threading.Thread(target=record) for _ in range(2)]
    reader = threading.Thread(target=read_and_reset)
    for t in writers + [reader]:
        t.start()
    reader.join()
    stop.set()
    for t in writers:
        t.join()
    assert errors == []
