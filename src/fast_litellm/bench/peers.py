"""Peers on the same workload: fast-litellm 0.1.10, tiktoken, stock LiteLLM.

fast-litellm 0.1.10 (the last PyPI release, Rust-based, same seed API) lives
in its own virtual environment, because it is the same package name as ours.
``peer_driver.py`` (standard library only) runs as a script in that venv, in
our interpreter with this fast_litellm, and in reference mode (tiktoken and
stock ``litellm.token_counter``).  All drivers import and build their inputs
at once, then are timed one at a time (the others wait), for a few rounds
in alternating order; the best figure per case is kept.

The venv is found from, in order: ``--peer-venv``, $FAST_LITELLM_PEER_VENV,
~/.cache/fast-litellm/peer-0.1.10, /tmp/fl010.  ``--peer-install`` creates
the first of those with ``python -m venv`` and ``pip install
fast-litellm==0.1.10``.  When none works the rows say "not available".
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

from .suite import make_row

PEER_VERSION = "0.1.10"
PEER_REQUIREMENT = "fast-litellm==%s" % PEER_VERSION
DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer_driver.py")
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# case in peer_driver -> label in the table
CASES = {
    "token_counting": "count_tokens (seed API)",
    "rate_limit_check": "check_rate_limit (seed API)",
    "routing": "get_available_deployment (seed API)",
}


def default_venv_candidates() -> List[str]:
    out = []
    if os.environ.get("FAST_LITELLM_PEER_VENV"):
        out.append(os.environ["FAST_LITELLM_PEER_VENV"])
    out.append(os.path.join(os.path.expanduser("~"), ".cache", "fast-litellm", "peer-" + PEER_VERSION))
    out.append("/tmp/fl010")
    return out


def venv_python(venv: str) -> str:
    return os.path.join(venv, "bin", "python")


def peer_installed(venv: str) -> bool:
    py = venv_python(venv)
    if not os.path.exists(py):
        return False
    try:
        out = subprocess.run(
            [py, "-c", "from importlib.metadata import version; print(version('fast-litellm'))"],
            capture_output=True, text=True, timeout=60, env=_driver_env(False))  # (our checkout
        # on PYTHONPATH, e.g. PYTHONPATH=src, would answer with our own version)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == PEER_VERSION


def install_peer(venv: str) -> Tuple[bool, str]:
    """python -m venv VENV && VENV/bin/pip install fast-litellm==0.1.10."""
    try:
        os.makedirs(os.path.dirname(venv) or ".", exist_ok=True)
        if not os.path.exists(venv_python(venv)):
            subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True, timeout=300)
        r = subprocess.run([venv_python(venv), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                            PEER_REQUIREMENT], capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            return False, (r.stderr or r.stdout)[-500:]
        return True, ""
    except Exception as exc:
        return False, "%s: %s" % (type(exc).__name__, exc)


def find_peer_venv(explicit: Optional[str] = None, install: bool = False) -> Tuple[Optional[str], str]:
    """(venv path or None, note)."""
    candidates = [explicit] if explicit else default_venv_candidates()
    for venv in candidates:
        if venv and peer_installed(venv):
            return venv, ""
    if install:
        target = candidates[0]
        ok, err = install_peer(target)
        if ok and peer_installed(target):
            return target, "installed %s into %s" % (PEER_REQUIREMENT, target)
        return None, "not available: could not install %s (%s)" % (PEER_REQUIREMENT, err.strip())
    return None, ("not available: no venv with %s (tried %s; --peer-install creates one)"
                  % (PEER_REQUIREMENT, ", ".join(c for c in candidates if c)))


def peer_python(*env_vars: str) -> Optional[str]:
    """The interpreter of an installed fast-litellm 0.1.10 venv, for the
    component benchmarks that time it beside us: an interpreter named by one
    of ``env_vars`` (the components' own overrides) if it exists, else the
    first venv of :func:`default_venv_candidates` that has the release (the
    one ``scripts/run.sh`` installs), else None."""
    for name in env_vars:
        path = os.environ.get(name)
        if path and os.path.exists(path):
            return path
    for venv in default_venv_candidates():
        if venv and peer_installed(venv):
            return venv_python(venv)
    return None


def _driver_env(ours: bool) -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    env["LITELLM_OFFLINE_MODE"] = "true"
    path = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if ours:
        if PACKAGE_ROOT not in path:
            path.insert(0, PACKAGE_ROOT)
    else:  # never let our checkout shadow the peer's package
        path = [p for p in path if os.path.abspath(p) != PACKAGE_ROOT]
    env["PYTHONPATH"] = os.pathsep.join(path)
    return env


def _read_until_ready(proc: subprocess.Popen, deadline: float) -> Optional[str]:
    """None when the driver printed READY, else what it said before dying."""
    seen = []
    while True:
        if time.monotonic() > deadline:
            return "timed out during set-up"
        line = proc.stdout.readline()
        if not line:
            err = proc.stderr.read() if proc.stderr else ""
            return (err or "".join(seen))[-500:] or "exited during set-up"
        if line.strip() == "READY":
            return None
        seen.append(line)


def run_drivers(sides: Dict[str, Tuple[str, str, bool]], quick: bool,
                timeout: float = 600, on_step=None) -> Dict[str, Dict[str, Any]]:
    """Set every side up at once (imports are slow), then time them one at a time."""
    procs: Dict[str, subprocess.Popen] = {}
    results: Dict[str, Dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    try:
        for side, (python, impl, ours) in sides.items():
            argv = [python, DRIVER, "--impl", impl, "--wait-go"] + (["--quick"] if quick else [])
            try:
                procs[side] = subprocess.Popen(
                    argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    text=True, env=_driver_env(ours), cwd=None if ours else os.path.dirname(DRIVER))
            except OSError as exc:
                results[side] = {"cases": {}, "errors": {"driver": str(exc)}}
        ready = {side: _read_until_ready(p, deadline) for side, p in procs.items()}
        for side, p in procs.items():
            if ready[side] is not None:
                results[side] = {"cases": {}, "errors": {"driver": ready[side]}}
                continue
            if on_step:
                on_step(side)
            try:
                out, err = p.communicate("go\n", timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                results[side] = {"cases": {}, "errors": {"driver": "timed out"}}
                continue
            lines = [l for l in out.splitlines() if l.startswith("{")]
            results[side] = json.loads(lines[-1]) if lines else \
                {"cases": {}, "errors": {"driver": (err or out)[-500:]}}
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
            p.wait()
            for stream in (p.stdin, p.stdout, p.stderr):
                try:
                    stream and stream.close()
                except OSError:
                    pass
    return results


def run_driver(python: str, quick: bool, impl: str = "fast_litellm", ours: bool = True,
               timeout: float = 600) -> Dict[str, Any]:
    """One driver on its own (set-up and timing)."""
    return run_drivers({"x": (python, impl, ours)}, quick, timeout)["x"]


def _best(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Merge rounds: the smallest µs/call per case; errors from any round."""
    merged: Dict[str, Any] = {"cases": {}, "errors": {}}
    for run in runs:
        for k, v in run.items():
            if k not in ("cases", "errors"):
                merged[k] = v
        for case, fig in run.get("cases", {}).items():
            cur = merged["cases"].get(case)
            if cur is None or fig["us_per_call"] < cur["us_per_call"]:
                merged["cases"][case] = fig
        merged["errors"].update(run.get("errors", {}))
    for case in merged["cases"]:
        merged["errors"].pop(case, None)
    return merged


def run_peers(quick: bool, peer_venv: Optional[str] = None, install: bool = False,
              rounds: Optional[int] = None, on_step=None) -> Dict[str, Any]:
    """{"rows": [...], "raw": {...}, "notes": [...], "peer_venv": path|None}."""
    rounds = rounds or (1 if quick else 3)
    venv, note = find_peer_venv(peer_venv, install)
    notes = [note] if note else []
    sides = {"ours": (sys.executable, "fast_litellm", True)}
    if venv:
        sides["peer"] = (venv_python(venv), "fast_litellm", False)
    sides["reference"] = (sys.executable, "reference", True)
    runs: Dict[str, List[Dict[str, Any]]] = {k: [] for k in sides}
    for r in range(rounds):  # alternate the order, round after round
        order = dict(sides) if r % 2 == 0 else dict(reversed(list(sides.items())))
        for side, res in run_drivers(order, quick, on_step=on_step).items():
            runs[side].append(res)
    raw = {side: _best(r) for side, r in runs.items()}
    return {"rows": peer_rows(raw, quick, venv), "raw": raw, "notes": notes, "peer_venv": venv}


def _us(raw: Dict[str, Any], side: str, case: str) -> Optional[float]:
    fig = raw.get(side, {}).get("cases", {}).get(case)
    return fig["us_per_call"] if fig else None


def _checksum(raw: Dict[str, Any], side: str, case: str):
    fig = raw.get(side, {}).get("cases", {}).get(case)
    return fig.get("checksum") if fig else None


def peer_rows(raw: Dict[str, Any], quick: bool, venv: Optional[str]) -> List[Dict[str, Any]]:
    rows = []
    ours = raw.get("ours", {})
    params_base = {"quick": quick, "driver": "peer_driver.py"}
    reference = _checksum(raw, "reference", "tiktoken")
    for case, label in CASES.items():
        params = dict(params_base, case=case)
        if ours.get("errors", {}).get(case):
            params["ours_error"] = ours["errors"][case]
        peer = raw.get("peer")
        if peer is None:
            params["peer"] = "not available"
        elif peer.get("errors", {}).get(case):
            params["peer_error"] = peer["errors"][case]
        if case == "token_counting" and reference is not None:
            sums = {"ours": _checksum(raw, "ours", case), "peer": _checksum(raw, "peer", case),
                    "litellm": _checksum(raw, "reference", "litellm")}
            params["matches_tiktoken"] = {k: v == reference for k, v in sums.items() if v is not None}
        rows.append(make_row("peers", label, "fast-litellm %s (PyPI)" % PEER_VERSION, "us/call",
                             _us(raw, "peer", case), _us(raw, "ours", case), False, params))
    ref = raw.get("reference", {})
    versions = ref.get("versions") or {}
    for case, baseline in (("tiktoken", "tiktoken %s cl100k encode" % versions.get("tiktoken", "")),
                           ("litellm", "litellm %s token_counter" % versions.get("litellm", ""))):
        params = dict(params_base, case="token_counting")
        err = ref.get("errors", {}).get(case) or ref.get("errors", {}).get("reference") \
            or ref.get("errors", {}).get("driver")
        if err:
            params["baseline_error"] = err
        if ours.get("errors", {}).get("token_counting"):
            params["ours_error"] = ours["errors"]["token_counting"]
        rows.append(make_row("peers", "count_tokens (seed API)", baseline.strip(), "us/call",
                             _us(raw, "reference", case), _us(raw, "ours", "token_counting"),
                             False, params))
    return rows
