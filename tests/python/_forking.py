"""Fork-safety test helpers: run a function in a forked child with a
timeout (a child that hangs on a lock left held by the fork is killed and
reported, so a regression fails instead of hanging CI), optionally while
another thread of the parent holds some locks, as a thread inside the
operation would at the moment a gunicorn --preload master forks."""
from __future__ import annotations

import os
import threading
import time


def in_forked_child(fn, timeout=10.0):
    """fn() in a forked child: its exit status (0 when fn returned True;
    the child is killed and -1 returned when it hangs past timeout)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            code = 0 if fn() else 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return -1


def forked_child_status(held_lock_getters, fn, timeout=10.0):
    """Fork while another thread holds each lock (as a thread inside the
    operation would), run fn() in the child: its exit code (0 when fn
    returned True, -1 when the child hung past timeout and was killed)."""
    inside, release = threading.Event(), threading.Event()

    def hold():
        locks = [get() for get in held_lock_getters]
        for lock in locks:
            lock.acquire()
        inside.set()
        release.wait(30)
        for lock in reversed(locks):
            lock.release()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert inside.wait(10)
        return in_forked_child(fn, timeout)
    finally:
        release.set()
        holder.join()
