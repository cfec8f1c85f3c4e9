"""A guard for the lockstep tests' wall-clock minute.

A lockstep comparison runs the stock side, then the accelerated side, on
two routers.  LiteLLM's usage and latency/cost strategies key their counters
by the current minute (and a pick writes this minute's entry into a fresh
map), so a minute boundary falling between the two sides makes them read
and write different keys: a spurious mismatch, seen about once in a few
dozen runs.  Calling :func:`same_minute` before a pair waits out the
boundary when it is near, so both sides run in one minute.

:func:`routing_patches` installs the routing patches for a test module
(optionally with the twin handle taken for every group size) and puts back
LiteLLM's callback lists and ``allowed_fails`` afterwards;
:func:`callback_lists` names those lists; :func:`fresh_flag` resets a
feature flag around a test.
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


def callback_lists():
    """The names of LiteLLM's module-level callback lists (a Router adds its
    strategy's logger to them, so a test that builds Routers resets them)."""
    import litellm

    return [n for n in dir(litellm) if "callback" in n and isinstance(getattr(litellm, n), list)]


@contextlib.contextmanager
def routing_patches(twins: bool = False, guarded: bool = False):
    """The routing patches installed (``_local_patch``; with ``guarded``
    through the patch engine's wrapper); with ``twins`` the
    twin handle is taken for every group size (its default ``MIN_GROUP_SIZE``
    leaves a lockstep suite's small groups on LiteLLM's handle, so their
    picks would not run on it) and after a pick moved back
    (``REST_AFTER_ESCAPE``).  LiteLLM's callback lists and
    ``allowed_fails``, as they were once installed, and the patches are put
    back after."""
    import litellm

    from fast_litellm.routing import _local_patch, shadow_handle

    _local_patch.install(guarded=guarded)
    min_group, rest = shadow_handle.MIN_GROUP_SIZE, shadow_handle.REST_AFTER_ESCAPE
    if twins:
        # (and every pick tries it, a filter registered or not: each then moves back)
        shadow_handle.MIN_GROUP_SIZE = shadow_handle.REST_AFTER_ESCAPE = 0
    saved = {n: list(getattr(litellm, n)) for n in callback_lists()}
    allowed_fails = litellm.allowed_fails
    try:
        yield
    finally:
        for n, v in saved.items():
            getattr(litellm, n)[:] = v
        litellm.allowed_fails = allowed_fails
        shadow_handle.MIN_GROUP_SIZE, shadow_handle.REST_AFTER_ESCAPE = min_group, rest
        _local_patch.uninstall()


@contextlib.contextmanager
def fresh_flag(name: str = "rust_routing"):
    """The feature flag ``name`` reset before and after (its error count and
    any state a test's faults left on it)."""
    from fast_litellm import flags

    flag = flags.get_flag(name)
    flag.reset()
    try:
        yield flag
    finally:
        flag.reset()
