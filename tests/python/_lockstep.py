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
feature flag around a test.  :func:`logging_jobs` records the jobs LiteLLM
hands its logging thread pool, so a lockstep side can wait for them.
"""
import concurrent.futures
import contextlib
import threading
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


def plain_model_list(n: int):
    """``n`` deployments of one group ``g``, ids ``d0``..: the routing tests'
    plainest model list (no limits, weights or orders)."""
    return [{"model_name": "g",
             "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "k", "api_base": "https://b%d.example" % i},
             "model_info": {"id": "d%d" % i}} for i in range(n)]


def run_seeded(loop, run, accelerated: bool, seed: int):
    """``loop.run_until_complete(run())`` with ``random`` seeded, the routing patches
    switched on or off and DeprecationWarnings ignored; the loop closed after.
    Returns (what ``run()`` returned, the ``random`` state after)."""
    import random
    import warnings

    from fast_litellm.routing import _local_patch

    random.seed(seed)
    try:
        with _local_patch.accelerated(accelerated), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            result = loop.run_until_complete(run())
    finally:
        loop.close()
    return result, random.getstate()


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


class LoggingJobs:
    """The jobs handed to LiteLLM's logging thread pool while recorded
    (:func:`logging_jobs`).  A sync call's success and failure handlers -
    and an async call's sync callbacks - run there: the strategies' counts
    and latency maps are written by them, so a lockstep side must wait for
    its own before the other side runs (its callback lists swapped in) and
    before the routers are compared.  A fixed sleep is not enough: on a
    loaded machine such a job started after it (session 22's flake)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: list = []

    def add(self, future) -> None:
        with self._lock:
            self._futures.append(future)

    def wait(self, timeout: float = 60.0) -> int:
        """Wait for every job recorded so far; the number waited for.  A job
        still running after ``timeout`` seconds fails the test."""
        with self._lock:
            futures, self._futures = self._futures, []
        done, running = concurrent.futures.wait(futures, timeout=timeout)
        assert not running, "%d LiteLLM logging job(s) still running after %ss" % (len(running), timeout)
        return len(done)


@contextlib.contextmanager
def logging_jobs():
    """LiteLLM's logging executor with its ``submit`` recording each job's
    future into the :class:`LoggingJobs` yielded (the executor's own
    ``submit`` runs it: the backlog cap and dropping are LiteLLM's)."""
    from litellm.litellm_core_utils.thread_pool_executor import executor

    jobs = LoggingJobs()
    own = vars(executor).get("submit")  # (an instance attribute already there, put back after)
    submit = executor.submit

    def recording(fn, /, *args, **kwargs):
        future = submit(fn, *args, **kwargs)
        jobs.add(future)
        return future

    executor.submit = recording
    try:
        yield jobs
    finally:
        if own is None:
            del executor.submit
        else:
            executor.submit = own
