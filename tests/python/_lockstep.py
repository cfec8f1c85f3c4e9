"""A guard for the lockstep tests' wall-clock minute.

A lockstep comparison runs the stock side, then the accelerated side, on
two routers.  LiteLLM's usage and latency/cost strategies key their counters
by the current minute (and a pick writes this minute's entry into a fresh
map), so a minute boundary falling between the two sides makes them read
and write different keys: a spurious mismatch, seen about once in a few
dozen runs.  Calling :func:`same_minute` before a pair waits out the
boundary when it is near, so both sides run in one minute.

:func:`routing_patches_with_twins` installs the routing patches for a
lockstep module, with the twin handle taken for every group size.
"""
import contextlib
import time

#: seconds one stock + accelerated pair may take here (the largest, 500
#: deployments with histories, takes well under one)
BUDGET = 5.0


def same_minute(budget: float = BUDGET) -> None:
    """Return at once when the current minute has at least ``budget``
    seconds left; else sleep until just past the boundary (UTC and local
    minutes turn together)."""
    left = 60.0 - time.time() % 60.0
    if left < budget:
        time.sleep(left + 0.05)


@contextlib.contextmanager
def routing_patches_with_twins():
    """The routing patches installed (``_local_patch``), with the twin handle
    for every group size: its default ``MIN_GROUP_SIZE`` leaves a lockstep
    suite's small groups on LiteLLM's handle, so their picks would not run
    on it.  Both restored after."""
    from fast_litellm.routing import _local_patch, shadow_handle

    _local_patch.install()
    min_group, shadow_handle.MIN_GROUP_SIZE = shadow_handle.MIN_GROUP_SIZE, 0
    try:
        yield
    finally:
        shadow_handle.MIN_GROUP_SIZE = min_group
        _local_patch.uninstall()
