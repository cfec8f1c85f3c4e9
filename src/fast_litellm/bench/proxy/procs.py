"""Child processes that are always stopped, and what they cost.

``Supervisor`` starts every benchmark process (mock upstream, proxy, load
generator, profiler) in its own session, so one ``killpg`` reaches the
process and everything it forked (uvicorn/gunicorn workers).  It stops them
all, newest first, on ``close()``, at interpreter exit (``atexit``), and on
SIGINT/SIGTERM/SIGHUP while it is active (the handlers stop the children,
then re-raise the default behaviour).  Stopping is TERM, a grace period,
then KILL, and it is idempotent.

``TreeSampler`` measures a process tree's CPU seconds and peak RSS while a
load runs.  It uses psutil when installed, otherwise /proc.
"""
from __future__ import annotations

import atexit
import os
import signal
import subprocess
import threading
import time
from typing import Dict, List, Optional, Sequence

try:  # optional: /proc is the fallback
    import psutil  # type: ignore
except Exception:  # pragma: no cover - depends on the machine
    psutil = None

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Supervisor:
    """Owns child processes; stops every one of them, whatever happens."""

    def __init__(self, grace_seconds: float = 5.0):
        self.grace_seconds = grace_seconds
        self.children: List[subprocess.Popen] = []
        self.seen_pids: set = set()  # every pid started or seen in a child's tree
        self._old_handlers: Dict[int, object] = {}
        self._closed = False
        atexit.register(self.close)

    # -- lifecycle -----------------------------------------------------
    def __enter__(self) -> "Supervisor":
        if threading.current_thread() is threading.main_thread():
            for sig in _STOP_SIGNALS:
                self._old_handlers[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _on_signal(self, signum, frame) -> None:
        self.close()
        old = self._old_handlers.get(signum)
        if callable(old):
            old(signum, frame)
        elif signum == signal.SIGINT:
            raise KeyboardInterrupt
        else:
            raise SystemExit(128 + signum)

    # -- processes -----------------------------------------------------
    def spawn(self, argv: Sequence[str], **kwargs) -> subprocess.Popen:
        """Start ``argv`` in a new session (its own process group)."""
        if self._closed:
            raise RuntimeError("supervisor is closed")
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        proc = subprocess.Popen(list(argv), start_new_session=True, **kwargs)
        self.children.append(proc)
        self.seen_pids.add(proc.pid)
        return proc

    def stop(self, proc: subprocess.Popen, grace_seconds: Optional[float] = None) -> Optional[int]:
        """TERM the process group, wait, KILL what is left; returns the exit code."""
        grace = self.grace_seconds if grace_seconds is None else grace_seconds
        members = tree_pids(proc.pid)
        self.seen_pids.update(members)
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        # Workers that left the group (or ignored TERM) are killed by pid too.
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(pid_alive(p) for p in members):
            time.sleep(0.05)
        _signal_group(proc.pid, signal.SIGKILL)
        for pid in members:
            if pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        try:
            return proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:  # pragma: no cover - unkillable
            return None
        finally:
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    try:
                        stream.close()
                    except OSError:
                        pass

    def close(self) -> None:
        """Stop every child, newest first.  Safe to call many times."""
        if self._closed:
            return
        self._closed = True
        for proc in reversed(self.children):
            try:
                self.stop(proc)
            except Exception:
                pass
        for sig, old in self._old_handlers.items():
            try:
                signal.signal(sig, old)
            except (TypeError, ValueError):
                pass
        self._old_handlers.clear()
        try:
            atexit.unregister(self.close)
        except Exception:
            pass

    def all_pids(self) -> List[int]:
        """Every pid started so far, with every descendant seen."""
        for proc in self.children:
            self.seen_pids.update(tree_pids(proc.pid))
        return sorted(self.seen_pids)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the child is its session and group leader
    except (ProcessLookupError, PermissionError):
        pass


def pid_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        if psutil is not None:
            try:
                return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
            except Exception:
                return False
        return False


def _children_map() -> Dict[int, List[int]]:
    kids: Dict[int, List[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(name))
    return kids


def tree_pids(root: int) -> List[int]:
    """``root`` and all its live descendants."""
    if psutil is not None:
        try:
            p = psutil.Process(root)
            return [root] + [c.pid for c in p.children(recursive=True)]
        except Exception:
            return []
    if not os.path.exists("/proc/%d" % root):
        return []
    kids = _children_map()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def _proc_cpu_rss(pid: int):
    """(cpu seconds, rss bytes) of one process, or None if it is gone."""
    if psutil is not None:
        try:
            p = psutil.Process(pid)
            with p.oneshot():
                t = p.cpu_times()
                return t.user + t.system, p.memory_info().rss
        except Exception:
            return None
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        cpu = (int(fields[11]) + int(fields[12])) / tick
        rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        return cpu, rss
    except (OSError, IndexError, ValueError):
        return None


class TreeSampler:
    """Samples CPU time and RSS of a process tree in a background thread.

    CPU seconds are summed per pid (last value seen), so workers that come
    and go are counted; peak RSS is the largest sum over the tree at one
    sample.
    """

    def __init__(self, root_pid: int, interval: float = 0.2):
        self.root_pid = root_pid
        self.interval = interval
        self._cpu_start: Dict[int, float] = {}
        self._cpu_last: Dict[int, float] = {}
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tree-sampler", daemon=True)

    def _sample(self) -> None:
        total_rss = 0
        for pid in tree_pids(self.root_pid):
            got = _proc_cpu_rss(pid)
            if got is None:
                continue
            cpu, rss = got
            self._cpu_start.setdefault(pid, cpu)
            self._cpu_last[pid] = cpu
            total_rss += rss
        self.peak_rss = max(self.peak_rss, total_rss)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> "TreeSampler":
        self._sample()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._sample()
        self._stop.set()
        self._thread.join(timeout=5)

    @property
    def cpu_seconds(self) -> float:
        return sum(self._cpu_last[p] - self._cpu_start.get(p, 0.0) for p in self._cpu_last)
