"""health_check(): a tiny real exercise of each native component.

Each entry of ``SELF_TESTS`` runs its component through the public API on
the native implementation and checks the answer against a known one.  A
component whose check raises or answers wrong is reported as failing, and
the status becomes "degraded" (so does a native core that failed to load).
Under FAST_LITELLM_FORCE_PYTHON, which asks for the pure-Python twins, the
checks run on the twins, the implementation in use, and the core is not
required.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, List

from .. import _native_loader
from .._native_loader import NATIVE, NATIVE_IMPORT_ERROR


def _in_use() -> str:
    """The implementation the checks exercise: the twins when asked for."""
    return "python" if _native_loader.FORCED_PYTHON else "native"


def _checked_impl(component: str) -> Any:
    """The component's implementation the checks exercise (see _in_use)."""
    mod = importlib.import_module("fast_litellm." + component)
    return mod.implementation(_in_use())


def _check_core() -> None:
    if _native_loader.FORCED_PYTHON:
        return  # the twins were asked for: no native core to check
    if NATIVE is None:
        raise RuntimeError("native core not loaded: %s" % NATIVE_IMPORT_ERROR)
    if not isinstance(NATIVE.COMPONENTS, list):
        raise RuntimeError("native core did not initialise")


def _check_tokens() -> None:
    impl = _checked_impl("tokenizer")
    enc = impl.get_encoding("cl100k_base")
    ids = enc.encode("hello world")
    if ids != [15339, 1917] or enc.decode(ids) != "hello world":
        raise RuntimeError("cl100k_base encoded 'hello world' as %r" % (ids,))
    if enc.count("hello world") != 2:
        raise RuntimeError("count disagrees with encode")


def _check_rate_limiter() -> None:
    impl = _checked_impl("ratelimit")
    now = [1000.0]
    limiter = impl.SimpleRateLimiter(60, burst=2, clock=lambda: now[0])
    results = [limiter.check("health")["allowed"] for _ in range(3)]
    if results != [True, True, False]:
        raise RuntimeError("burst of 2 gave %r" % results)
    now[0] += 1.0  # one request per second refills one token
    if not limiter.check("health")["allowed"]:
        raise RuntimeError("bucket did not refill")


def _check_pool() -> None:
    impl = _checked_impl("pool")
    pool = impl.SimpleConnectionPool("health-check", max_per_endpoint=1, max_total=1)
    cid = pool.get_connection("https://example.invalid:443")
    if cid is None or pool.get_connection("https://example.invalid:443") is not None:
        raise RuntimeError("pool limit of 1 not honoured")
    pool.return_connection(cid)
    if pool.get_connection("https://example.invalid:443") != cid:
        raise RuntimeError("idle connection not reused")


def _check_router() -> None:
    impl = _checked_impl("routing")
    model_list = [
        {"model_name": "gpt", "litellm_params": {"model": "openai/gpt-a", "rpm": 0}, "model_info": {"id": "a"}},
        {"model_name": "gpt", "litellm_params": {"model": "openai/gpt-b", "rpm": 10}, "model_info": {"id": "b"}},
    ]
    router = impl.AdvancedRouter("simple_shuffle")
    picked = router.get_available_deployment(model_list, "gpt", blocked_models=["a"])
    if picked is None or picked["model_info"]["id"] != "b":
        raise RuntimeError("blocked deployment not excluded: %r" % (picked,))
    if router.get_available_deployment(model_list, "other") is not None:
        raise RuntimeError("unknown model matched a deployment")


def _check_monitor() -> None:
    impl = _checked_impl("monitor")
    mon = impl.PerformanceMonitor() if hasattr(impl, "PerformanceMonitor") else None
    if mon is None:
        raise RuntimeError("no PerformanceMonitor in the native monitor")
    mon.record_performance("health", "op", 2.0, True)
    mon.record_performance("health", "op", 4.0, False)
    op = mon.get_performance_stats("health")["operations"]["op"]
    if op["count"] != 2 or op["errors"] != 1:
        raise RuntimeError("monitor counted %r" % (op,))


# component name -> self test; the names of the API reference's health_check.
SELF_TESTS: Dict[str, Callable[[], None]] = {
    "core": _check_core,
    "tokens": _check_tokens,
    "connection_pool": _check_pool,
    "rate_limiter": _check_rate_limiter,
    "routing": _check_router,
    "monitor": _check_monitor,
}


def run_health_check() -> Dict[str, Any]:
    ok: List[str] = []
    failed: Dict[str, str] = {}
    for name, test in SELF_TESTS.items():
        try:
            test()
        except Exception as exc:
            failed[name] = "%s: %s" % (type(exc).__name__, exc)
        else:
            ok.append(name)
    from .. import flags

    return {
        "status": "ok" if not failed else "degraded",
        # the self-tests exercise the components; a flag that turned itself
        # off after errors of its native path in this process is reported
        # beside them (its patches serve LiteLLM's originals meanwhile)
        "disabled_by_errors": {name: flag.errors for name, flag in flags._FLAGS.items() if flag.error_disabled},
        "rust_available": NATIVE is not None,
        "native_available": NATIVE is not None,
        "implementation": _in_use(),
        "components": ok,
        "failed_components": failed,
    }
