"""Preloads fast_litellm into every interpreter of the accelerated proxy.

`fast-litellm bench --proxy` puts this directory first on PYTHONPATH for the
accelerated run only, so the proxy process and every worker it spawns import
fast_litellm (which applies its patches to LiteLLM) before LiteLLM loads.

With FAST_LITELLM_BENCH_CPROFILE=DIR set it also installs a cProfile hook
(the fallback when py-spy cannot attach): SIGUSR2 starts profiling the main
thread (the event loop), SIGUSR1 stops and writes DIR/cprofile-<pid>.prof.
"""
import os
import sys

try:
    import fast_litellm  # noqa: F401  (importing applies the acceleration)

    sys.stderr.write(
        "fast_litellm-bench-preload: fast_litellm %s imported in pid %d (native=%s)\n"
        % (fast_litellm.__version__, os.getpid(), fast_litellm.NATIVE_ACCELERATION_AVAILABLE)
    )
except Exception as exc:  # the proxy must still start; the runner reads this line
    sys.stderr.write("fast_litellm-bench-preload: FAILED %s: %s\n" % (type(exc).__name__, exc))

_profile_dir = os.environ.get("FAST_LITELLM_BENCH_CPROFILE")
if _profile_dir:
    import atexit
    import cProfile
    import signal

    _profiler = cProfile.Profile()
    _state = {"on": False}

    def _start(*_args):
        if not _state["on"]:
            _state["on"] = True
            _profiler.enable()

    def _dump(*_args):
        if not _state["on"]:
            return
        _state["on"] = False
        try:
            _profiler.disable()
            _profiler.dump_stats(os.path.join(_profile_dir, "cprofile-%d.prof" % os.getpid()))
        except Exception:
            pass

    signal.signal(signal.SIGUSR2, _start)
    signal.signal(signal.SIGUSR1, _dump)
    atexit.register(_dump)
