"""Plumbing of the peers: the timing driver, venv discovery, rows."""
from __future__ import annotations

import sys

from fast_litellm.bench import peer_driver, peers, suite


def test_workload_is_deterministic_and_distinct():
    a, b = peer_driver.make_texts(50), peer_driver.make_texts(50)
    assert a == b and len(set(a)) == 50
    assert not set(a) & set(peer_driver.make_texts(50, peer_driver.SEED + 1))  # fresh per pass
    assert len(peer_driver.make_model_list(3, 4)) == 12


def test_best_us_per_call_counts_every_item():
    seen = []
    us = peer_driver.best_us_per_call(seen.append, [[1, 2, 3], [4, 5, 6]])
    assert seen == [1, 2, 3, 4, 5, 6] and us >= 0


def test_missing_peer_venv_is_reported(tmp_path):
    venv, note = peers.find_peer_venv(str(tmp_path / "nope"), install=False)
    assert venv is None and note.startswith("not available")


def test_driver_failure_is_an_error_not_a_crash(tmp_path):
    res = peers.run_driver(sys.executable, quick=True, impl="fast_litellm", ours=True, timeout=120)
    # Whatever this checkout has, the driver answers with cases or errors, never raises.
    assert set(res) >= {"cases", "errors"} and res.get("impl") == "fast_litellm"
    dead = peers.run_driver(str(tmp_path / "no-such-python"), quick=True, timeout=30)
    assert dead["cases"] == {} and dead["errors"]


def test_rows_from_raw_figures():
    raw = {
        "ours": {"cases": {"token_counting": {"us_per_call": 10.0, "checksum": 7},
                           "routing": {"us_per_call": 2.0, "checksum": None}},
                 "errors": {"rate_limit_check": "ModuleNotFoundError: x"}},
        "peer": {"cases": {"token_counting": {"us_per_call": 20.0, "checksum": 7},
                           "rate_limit_check": {"us_per_call": 1.0, "checksum": None},
                           "routing": {"us_per_call": 1.0, "checksum": None}}, "errors": {}},
        "reference": {"versions": {"tiktoken": "0.14.0", "litellm": "1.110.2"},
                      "cases": {"tiktoken": {"us_per_call": 15.0, "checksum": 7},
                                "litellm": {"us_per_call": 40.0, "checksum": 8}},
                      "errors": {}},
    }
    rows = peers.peer_rows(raw, quick=True, venv="/x")
    assert all(suite.validate_row(r) == [] for r in rows)
    by = {(r["case"], r["baseline"]): r for r in rows}
    tok = by[("count_tokens (seed API)", "fast-litellm 0.1.10 (PyPI)")]
    assert tok["ratio"] == 2.0
    assert tok["params"]["matches_tiktoken"] == {"ours": True, "peer": True, "litellm": False}
    assert by[("check_rate_limit (seed API)", "fast-litellm 0.1.10 (PyPI)")]["ratio"] is None
    assert by[("count_tokens (seed API)", "tiktoken 0.14.0 cl100k encode")]["ratio"] == 1.5
    assert by[("count_tokens (seed API)", "litellm 1.110.2 token_counter")]["ratio"] == 4.0


def test_best_of_rounds():
    merged = peers._best([
        {"cases": {"a": {"us_per_call": 3.0}}, "errors": {"b": "x"}, "version": "1"},
        {"cases": {"a": {"us_per_call": 2.0}, "b": {"us_per_call": 5.0}}, "errors": {}},
    ])
    assert merged["cases"]["a"]["us_per_call"] == 2.0 and "b" not in merged["errors"]
    assert merged["version"] == "1"


def test_component_benches_find_the_suites_peer_venv(tmp_path, monkeypatch):
    """The routing and rate-limiter benches look where the suite (and
    scripts/run.sh) put fast-litellm 0.1.10, after their own override."""
    from fast_litellm.ratelimit import bench as ratelimit_bench
    from fast_litellm.routing import bench as routing_bench

    fake = tmp_path / "python"
    fake.write_text("")
    monkeypatch.setenv("FAST_LITELLM_010_PYTHON", str(fake))
    monkeypatch.setenv("FAST_LITELLM_BENCH_FL010_PYTHON", str(fake))
    assert routing_bench._fl010_python() == str(fake)
    assert ratelimit_bench._fl010_python() == str(fake)
    monkeypatch.delenv("FAST_LITELLM_010_PYTHON")
    monkeypatch.delenv("FAST_LITELLM_BENCH_FL010_PYTHON")
    venv = tmp_path / "venv"
    monkeypatch.setattr(peers, "default_venv_candidates", lambda: [str(tmp_path / "none"), str(venv)])
    monkeypatch.setattr(peers, "peer_installed", lambda v: v == str(venv))
    assert routing_bench._fl010_python() == peers.venv_python(str(venv)) == ratelimit_bench._fl010_python()
    monkeypatch.setattr(peers, "peer_installed", lambda v: False)
    assert routing_bench._fl010_python() is None and ratelimit_bench._fl010_python() is None
    assert "not found" in ratelimit_bench.fl010_status()


def test_peer_check_ignores_our_checkout_on_pythonpath(tmp_path, monkeypatch):
    # with PYTHONPATH=src our checkout's egg-info answered version('fast-litellm')
    # in the peer venv, so a good peer venv read as "not available"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python"
    fake.write_text('#!/bin/sh\ncase ":$PYTHONPATH:" in *":%s:"*) echo 9.9.9 ;; *) echo %s ;; esac\n'
                    % (peers.PACKAGE_ROOT, peers.PEER_VERSION))
    fake.chmod(0o755)
    monkeypatch.setenv("PYTHONPATH", peers.PACKAGE_ROOT)
    assert peers.peer_installed(str(tmp_path))
