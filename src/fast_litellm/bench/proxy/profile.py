"""Where the accelerated proxy spends its CPU: top frames by own time.

py-spy (an external sampling profiler; ``--nonblocking`` so it does not stop
the proxy) records the proxy's whole process tree while the load generator
runs.  Its raw output has one line per distinct stack, ``frame;frame;... N``;
a frame's own time is the samples where it is the innermost frame.  When
py-spy is missing or cannot attach, the proxy is restarted with the cProfile
hook of preload/sitecustomize.py and the hook's dumps are read with pstats.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from typing import Any, Callable, Dict, List, Optional, Tuple

from .procs import Supervisor, tree_pids

_LINE_NUMBER = re.compile(r":\d+\)$")


def short_path(path: str) -> str:
    """site-packages/... and src/... paths without their long prefixes."""
    for marker in ("site-packages/", "dist-packages/", "/src/", "/lib/python"):
        i = path.rfind(marker)
        if i >= 0:
            rest = path[i + len(marker):]
            return rest.split("/", 1)[1] if marker == "/lib/python" and "/" in rest else rest
    return path


def frame_key(frame: str) -> str:
    """'func (path/file.py:123)' -> 'func (file path without the line)'."""
    frame = _LINE_NUMBER.sub(")", frame.strip())
    m = re.match(r"^(.*) \((.*)\)$", frame)
    if not m:
        return frame
    return "%s (%s)" % (m.group(1), short_path(m.group(2)))


def parse_pyspy_raw(text: str) -> Tuple[Counter, Counter, int]:
    """(own samples per frame, inclusive samples per frame, total samples)."""
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        try:
            n = int(count)
        except ValueError:
            continue
        frames = [frame_key(f) for f in stack.split(";")
                  if f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += n
        own[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n
    return own, inclusive, total


def top_frames(own: Counter, inclusive: Counter, total: int, n: int = 25) -> List[Dict[str, Any]]:
    return [
        {"frame": frame, "own_samples": count,
         "own_percent": 100.0 * count / total if total else 0.0,
         "inclusive_percent": 100.0 * inclusive.get(frame, count) / total if total else 0.0}
        for frame, count in own.most_common(n)
    ]


def top_files(own: Counter, total: int, n: int = 15) -> List[Dict[str, Any]]:
    """Own time summed per source file: which module to accelerate."""
    per_file: Counter = Counter()
    for frame, count in own.items():
        m = re.match(r"^.* \((.*)\)$", frame)
        per_file[m.group(1) if m else frame] += count
    return [{"file": f, "own_samples": c, "own_percent": 100.0 * c / total if total else 0.0}
            for f, c in per_file.most_common(n)]


def pyspy_path() -> Optional[str]:
    return shutil.which("py-spy")


def profile_with_pyspy(sup: Supervisor, proc: subprocess.Popen, url: str, key: str, cfg, workdir: str,
                       run_loadgen: Callable) -> Dict[str, Any]:
    out_path = os.path.join(workdir, "pyspy-raw.txt")
    spy = sup.spawn(
        [pyspy_path(), "record", "--pid", str(proc.pid), "--subprocesses", "--nonblocking", "--gil",
         "--format", "raw", "--rate", "100", "--duration", str(int(cfg.profile_duration) + 1),
         "-o", out_path],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    time.sleep(1.0)  # let py-spy attach before the load starts
    if spy.poll() is not None:
        raise RuntimeError("py-spy exited: %s" % spy.stderr.read().decode("utf-8", "replace")[-500:])
    load = run_loadgen(sup, url, key, cfg, cfg.profile_duration, 0.0)
    try:
        spy.wait(timeout=60)
    finally:
        err = spy.stderr.read().decode("utf-8", "replace") if spy.stderr else ""
        sup.stop(spy)
    if not os.path.exists(out_path):
        raise RuntimeError("py-spy wrote nothing: %s" % err[-500:])
    with open(out_path) as f:
        own, inclusive, total = parse_pyspy_raw(f.read())
    return {"profiler": "py-spy --gil", "samples": total, "requests": load["requests"],
            "top": top_frames(own, inclusive, total), "top_files": top_files(own, total)}


def profile_with_cprofile(sup: Supervisor, cfg, workdir: str, config_path: str,
                          run_loadgen: Callable) -> Dict[str, Any]:
    import pstats
    import secrets

    from .runner import start_proxy

    prof_dir = os.path.join(workdir, "cprofile")
    os.makedirs(prof_dir, exist_ok=True)
    key = "sk-bench-" + secrets.token_hex(24)
    proc, url, _log = start_proxy(sup, "fast_litellm-cprofile", config_path, key, cfg, workdir,
                                  extra_env={"FAST_LITELLM_BENCH_CPROFILE": prof_dir})
    def signal_tree(sig):
        for pid in tree_pids(proc.pid):
            try:
                os.kill(pid, sig)
            except OSError:
                pass

    try:
        from .runner import warm_proxy

        warm_proxy(url, key)
        signal_tree(signal.SIGUSR2)  # start profiling after start-up and warm-up
        load = run_loadgen(sup, url, key, cfg, cfg.profile_duration, 0.0)
        signal_tree(signal.SIGUSR1)
        time.sleep(2.0)
    finally:
        sup.stop(proc)
    files = glob.glob(os.path.join(prof_dir, "cprofile-*.prof"))
    if not files:
        raise RuntimeError("the cProfile hook wrote nothing")
    stats = pstats.Stats(*files)
    rows = []
    busy = {k: v for k, v in stats.stats.items() if not _is_waiting(k)}
    total = sum(v[2] for v in busy.values()) or 1.0  # tottime
    for (filename, line, func), (cc, nc, tt, ct, callers) in busy.items():
        rows.append({"frame": "%s (%s)" % (func, short_path(filename)), "own_seconds": tt,
                     "own_percent": 100.0 * tt / total, "inclusive_percent": 100.0 * ct / total,
                     "calls": nc})
    rows.sort(key=lambda r: -r["own_seconds"])
    return {"profiler": "cProfile (event-loop thread, waits excluded)", "requests": load["requests"],
            "top": rows[:25]}


# cProfile measures wall time: blocking waits are not CPU and are left out.
_WAITS = ("'poll' of", "'select' of", "'epoll' of", "'acquire' of", "'wait' of", "'control' of",
          "time.sleep", "'recv' of", "'accept' of")


def _is_waiting(key) -> bool:
    filename, _line, func = key
    return filename == "~" and any(w in func for w in _WAITS)


def profile_under_load(sup: Supervisor, proc: subprocess.Popen, url: str, key: str, cfg, workdir: str,
                       run_loadgen: Callable) -> Dict[str, Any]:
    errors = []
    if cfg.profiler in ("auto", "py-spy") and pyspy_path():
        try:
            return profile_with_pyspy(sup, proc, url, key, cfg, workdir, run_loadgen)
        except Exception as exc:
            errors.append("py-spy: %s" % exc)
            if cfg.profiler == "py-spy":
                return {"profiler": "py-spy", "error": str(exc), "top": []}
    elif cfg.profiler == "py-spy":
        return {"profiler": "py-spy", "error": "py-spy is not installed", "top": []}
    sup.stop(proc)
    try:
        result = profile_with_cprofile(sup, cfg, workdir, os.path.join(workdir, "proxy-config.yaml"),
                                       run_loadgen)
    except Exception as exc:
        return {"profiler": "cProfile", "error": "; ".join(errors + [str(exc)]), "top": []}
    if errors:
        result["note"] = "; ".join(errors)
    return result
