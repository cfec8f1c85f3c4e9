"""Routing benchmarks, side by side in one process run.

1. LiteLLM 1.110.2's ``Router.async_get_available_deployment``, stock vs
   accelerated by this component's patches, per strategy, at 10, 100 and
   1,000 deployments in the model group (mock deployments, no network,
   ``LITELLM_LOCAL_MODEL_COST_MAP=True``).  The two runs alternate in
   rounds on two identically built routers; each round reseeds ``random``.
   The deployments' model (``openai/gpt-4o-mini``) is not a key of the cost
   map; cost-based-routing also runs with ``PRICE_MAP_MODELS`` (keys of it,
   whose rows a Router re-registers as LiteLLM's ``AliasedCostEntry``).
2. The seed API (``AdvancedRouter.get_available_deployment``), native twin
   vs the pure-Python twin, and vs fast-litellm 0.1.10 from PyPI when a
   venv with it exists (``FAST_LITELLM_010_PYTHON``, else the bench suite's
   peer venv: ``bench.peers.peer_python``), timed
   on the same workload in a subprocess.

``run(quick=True)`` (10 and 100 deployments, no 0.1.10 subprocess) takes
about ten seconds on an idle machine; ``python -m
fast_litellm.routing.bench [--quick]`` prints a table (``--router-only``,
``--sizes=10,1000`` and ``--strategies=least-busy,...`` narrow it to
some Router cases; ``--seed-only`` runs the seed-API cases alone).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
import warnings
from typing import Any, Callable, Dict, List, Optional

STRATEGIES = ["simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing-v2", "cost-based-routing"]
BASELINE = "litellm 1.110.2 stock"


# Models that are keys of LiteLLM's cost map (openai/gpt-4o-mini, the default
# cases' model, is not: those deployments price at LiteLLM's unmapped 5.0).  A
# Router registers each deployment's model there, so their rows are LiteLLM's
# AliasedCostEntry (a dict subclass), as for every real deployment.
PRICE_MAP_MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1-mini", "gpt-3.5-turbo")


def _model_list(n: int, models: Optional[tuple] = None) -> List[Dict[str, Any]]:
    return [
        {
            "model_name": "gpt",
            "litellm_params": {"model": models[i % len(models)] if models else "openai/gpt-4o-mini",
                               "api_key": "sk-bench", "rpm": 100000 + i,
                               "tpm": 10 ** 9 + i, "api_base": "https://b%d.example" % (i % 7)},
            "model_info": {"id": "d%d" % i},
        }
        for i in range(n)
    ]


HISTORY_STRATEGIES = ["latency-based-routing", "cost-based-routing"]


def _seed_history(router: Any, strategy: str, n: int) -> None:
    """Every deployment with ten latencies (latency) or this minute's usage
    (both), as a router that has served traffic holds them; the same map on
    both routers (a pick only adds entries for unseen deployments)."""
    from datetime import datetime

    now = datetime.now()
    minute = "%s-%s-%s" % (now.strftime("%Y-%m-%d"), now.strftime("%H"), now.strftime("%M"))
    gen = random.Random(n)
    history = {}
    for i in range(n):
        entry: Dict[str, Any] = {minute: {"tpm": gen.randint(0, 5000), "rpm": gen.randint(0, 20)}}
        if strategy == "latency-based-routing":
            entry["latency_normalized"] = [gen.uniform(0.05, 2.0) for _ in range(10)]
        history["d%d" % i] = entry
    key = "gpt_map" if strategy == "latency-based-routing" else "cost_map:gpt"
    router._core._cache.set_cache(key, history)


def _timed_rounds(calls: Dict[str, Callable[[], float]], rounds: int) -> Dict[str, float]:
    """Alternate the contenders round by round; the best round of each (per call, seconds)."""
    best = {name: float("inf") for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            best[name] = min(best[name], call())
    return best


def _close_loop(loop: "asyncio.AbstractEventLoop") -> None:
    """Close a timing loop without leaving the Router's background tasks
    pending (asyncio would report each as 'Task was destroyed but it is
    pending' at exit)."""
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


def _router_cases(quick: bool, sizes: Optional[List[int]] = None,
                  strategies: Optional[List[str]] = None) -> List[Dict[str, Any]]:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    from . import _local_patch

    _local_patch.install()
    sizes = sizes or ([10, 100] if quick else [10, 100, 1000])
    routers: List[Any] = []
    loops: List[Any] = []
    try:
        return _router_rows(litellm, _local_patch, sizes, strategies, quick, routers, loops)
    finally:
        _retire(routers, loops)


def _build_router(litellm: Any, loops: List[Any], accelerated: bool = False, **kwargs: Any) -> Any:
    """A benchmark Router, and the event loop LiteLLM made for it, if any:
    a strategy with a periodic sync task built outside a running loop makes
    a new loop, sets it as the thread's current one and schedules the task
    on it (``BaseRoutingStrategy.setup_sync_task``), a loop nothing runs.
    ``accelerated``: built with the patches on, as a process with
    fast_litellm imported builds it (the twin handle needs the documents its
    handle was built from: ``shadow_handle``)."""
    from . import _local_patch

    asyncio.set_event_loop(None)
    with warnings.catch_warnings(), _local_patch.accelerated(accelerated):
        warnings.simplefilter("ignore")
        router = litellm.Router(**kwargs)
        try:
            made = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:  # no loop set: none was made
            made = None
    asyncio.set_event_loop(None)
    if made is not None and made not in loops:
        loops.append(made)
    return router


def _retire(routers: List[Any], loops: List[Any]) -> None:
    """Retire the benchmark Routers (LiteLLM's ``retire()`` drops their
    global callbacks and cancels their strategies' sync tasks), then run
    each loop LiteLLM made for them until those cancellations land, and
    close it.  Left alone, asyncio reports each pending task as 'Task was
    destroyed but it is pending' at exit."""
    for router in routers:
        try:
            router.retire()
        except Exception:  # pragma: no cover - best effort clean-up
            pass
    for loop in loops:
        if not loop.is_closed() and not loop.is_running():
            _close_loop(loop)
    asyncio.set_event_loop(None)


def _router_rows(litellm: Any, _local_patch: Any, sizes: List[int], strategies: Optional[List[str]], quick: bool,
                 routers: List[Any], loops: List[Any]) -> List[Dict[str, Any]]:
    rows = []
    cases = [(s, None) for s in (strategies or STRATEGIES)]
    # the latency/cost maps as a serving router has them (every deployment with a history)
    cases += [(s, "history") for s in HISTORY_STRATEGIES if s in (strategies or STRATEGIES)]
    # the cooldown store's memory full (200 cooling elsewhere): what a pick's cooldown read then costs
    cases += [(s, "cooling") for s in ("simple-shuffle",) if s in (strategies or STRATEGIES)]
    # cost with deployments priced from LiteLLM's cost map (PRICE_MAP_MODELS), fresh and with history
    cases += [(s, extra) for s in ("cost-based-routing",) if s in (strategies or STRATEGIES)
              for extra in ("price-map", "price-map history")]
    for strategy, extra in cases:
        with_history = extra in ("history", "price-map history")
        models = PRICE_MAP_MODELS if extra in ("price-map", "price-map history") else None
        for n in (sizes if extra != "cooling" else sizes[:1]):
            stock = _build_router(litellm, loops, model_list=_model_list(n, models), routing_strategy=strategy)
            fast = _build_router(litellm, loops, accelerated=True, model_list=_model_list(n, models),
                                 routing_strategy=strategy)
            routers += [stock, fast]
            if with_history:
                for router in (stock, fast):
                    _seed_history(router, strategy, n)
            if extra == "cooling":
                for router in (stock, fast):
                    for i in range(200):
                        router._core._cooldowns.add_deployment_to_cooldown(
                            "elsewhere-%d" % i, Exception("rate limited"), 429, 3600)
            # many short rounds, best kept: on a shared machine a short round
            # is more often uninterrupted than a long one
            per_round = ({10: 10, 100: 4} if quick else {10: 20, 100: 5}).get(n, 2)
            rounds = 2 if quick else {10: 25, 100: 15}.get(n, 7)

            def timer(router, accelerated):
                async def go():
                    for _ in range(per_round):
                        await router.async_get_available_deployment(model="gpt", request_kwargs={})

                def call():
                    random.seed(n)
                    with _local_patch.accelerated(accelerated), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        loop = asyncio.new_event_loop()
                        try:
                            start = time.perf_counter()
                            loop.run_until_complete(go())
                            return (time.perf_counter() - start) / per_round
                        finally:
                            _close_loop(loop)
                return call

            timer(stock, False)()  # warm both
            timer(fast, True)()
            best = _timed_rounds({"stock": timer(stock, False), "fast": timer(fast, True)}, rounds)
            rows.append({
                "component": "routing",
                "case": "Router.async_get_available_deployment %s%s n=%d"
                        % (strategy, {"history": " (with history)", "cooling": " (200 cooling elsewhere)",
                                      "price-map": " (price-map models)",
                                      "price-map history": " (price-map models, with history)"}.get(extra, ""), n),
                "baseline": BASELINE,
                "unit": "us/call",
                "baseline_value": best["stock"] * 1e6,
                "value": best["fast"] * 1e6,
                "ratio": best["stock"] / best["fast"],
                "higher_is_better": False,
                "params": {"strategy": strategy, "deployments": n, "calls_per_round": per_round, "rounds": rounds,
                           "history": with_history, "cooling_elsewhere": 200 if extra == "cooling" else 0,
                           "models": list(models) if models else ["openai/gpt-4o-mini"]},
            })
    return rows


# ---- the seed API ------------------------------------------------------------

_SEED_SCRIPT = r"""
import json, random, sys, time
import fast_litellm
args = json.loads(sys.argv[1])
out = {}
for n in args["sizes"]:
    ml = [{"model_name": "gpt", "litellm_params": {"model": "openai/gpt-4o", "rpm": i + 1},
           "model_info": {"id": "d%d" % i}} for i in range(n)]
    router = fast_litellm.AdvancedRouter("simple_shuffle")
    router.get_available_deployment(ml, "gpt")
    best = float("inf")
    for _ in range(args["rounds"]):
        random.seed(1)
        start = time.perf_counter()
        for _ in range(args["calls"]):
            router.get_available_deployment(ml, "gpt")
        best = min(best, (time.perf_counter() - start) / args["calls"])
    out[str(n)] = best
print("RESULT " + json.dumps(out))
"""


def _fl010_python() -> Optional[str]:
    from ..bench.peers import peer_python

    return peer_python("FAST_LITELLM_010_PYTHON")


def _seed_cases(quick: bool) -> List[Dict[str, Any]]:
    from . import implementation
    from .._native_loader import NATIVE

    sizes = [10, 1000] if quick else [10, 100, 1000]
    # many short rounds, best kept: on a shared machine a short round is
    # more often uninterrupted than a long one
    calls = 100 if quick else 1000
    rounds = 3 if quick else 15
    rows = []
    kinds = ["python"] + (["native"] if NATIVE is not None else [])
    timings: Dict[str, Dict[int, float]] = {k: {} for k in kinds + ["native+version"]}
    for n in sizes:
        ml = _model_list(n)
        for m in ml:
            m["litellm_params"].pop("tpm")
        contenders = {}
        for kind in kinds:
            router = implementation(kind).AdvancedRouter("simple_shuffle")

            def call(router=router, kind=kind):
                random.seed(1)
                k = calls if kind != "python" or n < 1000 else max(10, calls // 20)
                start = time.perf_counter()
                for _ in range(k):
                    router.get_available_deployment(ml, "gpt")
                return (time.perf_counter() - start) / k

            contenders[kind] = call
        if NATIVE is not None:
            versioned = implementation("native").AdvancedRouter("simple_shuffle")
            settings = {"model_list_version": 1}

            def call_v():
                random.seed(1)
                start = time.perf_counter()
                for _ in range(calls):
                    versioned.get_available_deployment(ml, "gpt", settings=settings)
                return (time.perf_counter() - start) / calls

            contenders["native+version"] = call_v
        for name, fn in contenders.items():
            fn()
        best = _timed_rounds(contenders, rounds)
        for name, value in best.items():
            timings[name][n] = value
        if "native" in best:
            rows.append(_seed_row("native vs pure-Python twin", n, "fast_litellm pure-Python twin",
                                  best["python"], best["native"], {}))
            rows.append(_seed_row("native with model_list_version vs pure-Python twin", n,
                                  "fast_litellm pure-Python twin", best["python"], best["native+version"], {}))
    exe = None if quick else _fl010_python()  # its LiteLLM import alone takes seconds
    if exe is not None and NATIVE is not None:
        try:
            proc = subprocess.run(
                [exe, "-c", _SEED_SCRIPT, json.dumps({"sizes": sizes, "calls": calls, "rounds": rounds})],
                capture_output=True, text=True, timeout=300,
                env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONPATH": ""},
            )
            line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
            theirs = json.loads(line[-1][7:]) if line else None
        except (OSError, subprocess.SubprocessError, ValueError):
            theirs = None
        if theirs:
            for n in sizes:
                note = {"note": "0.1.10 ignores weights/rpm and picks uniformly; separate process"}
                rows.append(_seed_row("native vs fast-litellm 0.1.10", n, "fast-litellm 0.1.10 (PyPI, Rust)",
                                      theirs[str(n)], timings["native"][n], note))
                rows.append(_seed_row("native with model_list_version vs fast-litellm 0.1.10", n,
                                      "fast-litellm 0.1.10 (PyPI, Rust)", theirs[str(n)],
                                      timings["native+version"][n], note))
    return rows


def _seed_row(case, n, baseline, base, value, extra):
    return {
        "component": "routing",
        "case": "AdvancedRouter.get_available_deployment simple_shuffle %s n=%d" % (case, n),
        "baseline": baseline,
        "unit": "us/call",
        "baseline_value": base * 1e6,
        "value": value * 1e6,
        "ratio": base / value,
        "higher_is_better": False,
        "params": {"deployments": n, **extra},
    }


def run(quick: bool = False) -> List[Dict[str, Any]]:
    from ..patching.engine import unpatched

    with unpatched():  # the stock side must be stock: import fast_litellm patched LiteLLM
        return _run(quick)


def _run(quick: bool = False) -> List[Dict[str, Any]]:
    return _seed_cases(quick) + _router_cases(quick)


def _sizes(text: str) -> List[int]:
    try:
        sizes = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("expected deployment counts such as 10,1000, got %r" % text)
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError("deployment counts must be at least 1, got %r" % text)
    return sizes


def _strategies(text: str) -> List[str]:
    names = text.split(",")
    unknown = [name for name in names if name not in STRATEGIES]
    if unknown:
        raise argparse.ArgumentTypeError("unknown strategy %r (choose from %s)"
                                         % (unknown[0], ", ".join(STRATEGIES)))
    return names


def _options(parser: "argparse.ArgumentParser") -> None:
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--seed-only", action="store_true", help="the seed-API cases alone")
    only.add_argument("--router-only", action="store_true", help="the LiteLLM Router cases alone")
    parser.add_argument("--sizes", type=_sizes, metavar="N,N,...",
                        help="deployments per model group (Router cases only; default 10,100,1000)")
    parser.add_argument("--strategies", type=_strategies, metavar="NAME,...",
                        help="routing strategies (Router cases only): " + ", ".join(STRATEGIES))


def _main(argv: List[str]) -> None:
    from ..bench.component_args import parse

    args = parse("fast_litellm.routing.bench", __doc__, argv, _options)
    if args.seed_only and (args.sizes or args.strategies):
        raise SystemExit("--sizes and --strategies select Router cases; --seed-only runs none")
    if args.seed_only:
        from ..patching.engine import unpatched

        with unpatched():
            rows = _seed_cases(args.quick)
    elif args.router_only or args.sizes or args.strategies:
        from ..patching.engine import unpatched

        with unpatched():
            rows = _router_cases(args.quick, args.sizes, args.strategies)
    else:
        rows = run(quick=args.quick)
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print("%-86s %12s %12s %8s" % ("case", "baseline", "ours", "ratio"))
    for row in rows:
        print("%-86s %12.1f %12.1f %7.2fx" % (row["case"], row["baseline_value"], row["value"], row["ratio"]))
    print("(us/call; ratio > 1: ours is faster; baselines: %s)" % ", ".join(sorted({r["baseline"] for r in rows})))


if __name__ == "__main__":
    _main(sys.argv[1:])
