"""`fast-litellm bench` (also `python -m fast_litellm.bench`).

Plug-in for the `fast-litellm` command: ``add_bench_command(subparsers)``
adds the ``bench`` subcommand; ``main(argv)`` runs it standalone.  Importing
this module is cheap: the benchmarks load only when the command runs.
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple

DESCRIPTION = (
    "Benchmark Fast LiteLLM on this machine: every component side by side with what you "
    "would otherwise run (stock LiteLLM, tiktoken), the fast-litellm 0.1.10 peer where "
    "installed, and with --proxy the real LiteLLM proxy under load, stock vs accelerated. "
    "No API keys, no network: everything runs on 127.0.0.1."
)


def _number(kind: type, low: float, low_ok: bool):
    """An argparse type: a finite ``kind`` above ``low`` (or equal when ``low_ok``)."""
    what = "an integer" if kind is int else "a number"
    bound = ("%s >= %g" if low_ok else "%s > %g") % (what, low)

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError("expected %s, got %r" % (bound, text))
        if not math.isfinite(value) or value < low or (value == low and not low_ok):
            raise argparse.ArgumentTypeError("expected %s, got %r" % (bound, text))
        return value

    parse.__name__ = kind.__name__  # argparse names the type in some messages
    return parse


POSITIVE_INT = _number(int, 0, False)
COUNT = _number(int, 0, True)  # 0 allowed: "every 0th" means never
POSITIVE_SECONDS = _number(float, 0, False)
SECONDS = _number(float, 0, True)


# what LiteLLM's Router takes as routing_strategy without further set-up (its
# provider-budget-routing needs budgets in the config): a misspelt name is a
# usage error here, not a traceback from the proxy's start minutes later
ROUTING_STRATEGIES = ("simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing",
                      "usage-based-routing-v2", "cost-based-routing")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="small workloads: about a minute on 2 cores (75 s measured with the peers)")
    p.add_argument("--json", metavar="PATH", help="write every figure, versions, machine and parameters as JSON")
    p.add_argument("--plot", metavar="PATH", help="write a PNG bar chart of the ratios (needs matplotlib)")
    p.add_argument("--markdown", metavar="PATH", help="write the results as a Markdown report")
    p.add_argument("--plain", action="store_true", help="plain-text table even if rich is installed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    g = p.add_argument_group("component benchmarks")
    g.add_argument("--components", metavar="LIST", default=None,
                   help="comma-separated components to run (default: all; 'none' skips them; "
                        "with --proxy the default is none)")
    g.add_argument("--no-peers", action="store_true", help="skip the fast-litellm 0.1.10 / tiktoken peers")
    g.add_argument("--peer-venv", metavar="DIR", help="venv with fast-litellm==0.1.10 "
                   "(default: $FAST_LITELLM_PEER_VENV, ~/.cache/fast-litellm/peer-0.1.10, /tmp/fl010)")
    g.add_argument("--peer-install", action="store_true",
                   help="create the peer venv with pip if none is found (needs PyPI)")
    g.add_argument("--peer-rounds", type=POSITIVE_INT, default=None, help="alternating peer rounds, best kept (default 3; quick 1)")
    x = p.add_argument_group("end to end: the LiteLLM proxy (--proxy)")
    x.add_argument("--proxy", action="store_true",
                   help="run the real LiteLLM proxy under load, stock and with fast_litellm preloaded")
    x.add_argument("--duration", type=POSITIVE_SECONDS, default=None, help="measured seconds per proxy (default 20; quick 5)")
    x.add_argument("--rounds", type=POSITIVE_INT, default=None,
                   help="load slices per proxy, alternated stock/fast in ABBA order (default 2; quick 1)")
    x.add_argument("--warmup", type=SECONDS, default=None, help="unmeasured seconds first (default 3; quick 1)")
    x.add_argument("--concurrency", type=POSITIVE_INT, default=16, help="requests in flight (default 16)")
    x.add_argument("--workers", type=POSITIVE_INT, default=1, help="proxy workers, the same for both runs (default 1)")
    x.add_argument("--deployments", type=POSITIVE_INT, default=3, help="deployments in the model group (default 3)")
    x.add_argument("--upstream-latency-ms", type=SECONDS, default=5.0, help="mock upstream latency (default 5)")
    x.add_argument("--stream-every", type=COUNT, default=4, help="every Nth request streams (0: none)")
    x.add_argument("--omit-usage-every", type=COUNT, default=2,
                   help="every Nth upstream answer has no usage, so LiteLLM counts tokens (0: never)")
    x.add_argument("--routing-strategy", default="usage-based-routing-v2", choices=ROUTING_STRATEGIES,
                   metavar="NAME",
                   help="the model group's routing strategy, one of %s (default usage-based-routing-v2)"
                        % ", ".join(ROUTING_STRATEGIES))
    x.add_argument("--max-requests", type=POSITIVE_INT, default=1_000_000, help="cap on measured requests per run")
    x.add_argument("--aa-test", action="store_true",
                   help="two stock proxies instead: their ratio shows this machine's noise floor")
    x.add_argument("--profile", action="store_true", help="then profile the accelerated proxy under load")
    x.add_argument("--profile-duration", type=POSITIVE_SECONDS, default=10.0,
                   help="seconds of load while profiling (default 10)")
    x.add_argument("--profiler", choices=("auto", "py-spy", "cprofile"), default="auto")
    x.add_argument("--keep-dir", metavar="DIR", help="keep proxy configs, logs and profiles here")


def add_bench_command(subparsers: Any) -> argparse.ArgumentParser:
    """Registry hook for the `fast-litellm` command."""
    p = subparsers.add_parser("bench", help="benchmark fast_litellm against stock on this machine",
                              description=DESCRIPTION)
    add_arguments(p)
    p.set_defaults(func=run_from_args)
    return p


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fast-litellm bench", description=DESCRIPTION)
    add_arguments(p)
    return p


class Progress:
    """A progress bar over named steps: tqdm, else rich, else nothing."""

    def __init__(self, total: int, enabled: bool = True):
        self._bar = None
        self._rich = None
        if not enabled or total <= 0:
            return
        try:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc="bench", unit="step", file=sys.stderr,
                             bar_format="{desc:<40} {bar} {n_fmt}/{total_fmt} [{elapsed}]")
        except Exception:
            self._bar = None

    def step(self, label: str) -> None:
        if self._bar is not None:
            self._bar.set_description_str(label[:40])

    def done(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def message(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)
        else:
            sys.stderr.write(text + "\n")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _components(args: argparse.Namespace) -> List[str]:
    from .suite import COMPONENTS

    spec = args.components
    if spec is None:
        spec = "none" if args.proxy else "all"
    if spec.strip().lower() == "all":
        return list(COMPONENTS)
    if spec.strip().lower() in ("none", ""):
        return []
    return [c.strip() for c in spec.split(",") if c.strip()]


def proxy_config(args: argparse.Namespace):
    from .proxy.runner import AA_VARIANTS, VARIANTS, ProxyBenchConfig

    return ProxyBenchConfig(
        duration=args.duration if args.duration is not None else (5.0 if args.quick else 20.0),
        warmup=args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0),
        rounds=args.rounds if args.rounds is not None else (1 if args.quick else 2),
        concurrency=args.concurrency, workers=args.workers, deployments=args.deployments,
        upstream_latency_ms=args.upstream_latency_ms, omit_usage_every=args.omit_usage_every,
        stream_every=args.stream_every, routing_strategy=args.routing_strategy,
        max_requests=args.max_requests, profile=args.profile,
        profile_duration=args.profile_duration, profiler=args.profiler, keep_dir=args.keep_dir,
        variants=list(AA_VARIANTS if args.aa_test else VARIANTS),
    )


def parameters(args: argparse.Namespace) -> Dict[str, Any]:
    return {k: v for k, v in sorted(vars(args).items())
            if k not in ("func", "command") and not k.startswith("_")}


def run_bench(args: argparse.Namespace) -> Dict[str, Any]:
    """Run what ``args`` asks for; returns the JSON document (also for callers)."""
    from . import environment
    from .report import SCHEMA_VERSION

    offline = environment.prepare_offline_env()
    t0 = time.perf_counter()
    components = _components(args)
    peers_on = not args.no_peers and (bool(components) or not args.proxy)
    total = len(components) + (1 if peers_on else 0) + (1 if args.proxy else 0)
    progress = Progress(total, enabled=not args.no_progress)
    doc: Dict[str, Any] = {
        "schema": "fast-litellm-bench/%d" % SCHEMA_VERSION,
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": ["fast-litellm", "bench"] + list(getattr(args, "_argv", []) or []),
        "parameters": parameters(args),
        "versions": environment.versions(),
        "machine": environment.machine(),
        "results": [], "components": [], "peers": None, "proxy": None, "notes": [],
        "environment_set": offline,
    }
    try:
        if components:
            from .suite import run_component

            for component in components:
                progress.step("component: %s" % component)
                res = run_component(component, args.quick)
                doc["results"].extend(res["rows"])
                doc["components"].append({k: v for k, v in res.items() if k != "rows"})
                if res["status"] != "ok" or res.get("note"):
                    doc["notes"].append("%s: %s%s" % (component, res["status"],
                                                      (" (" + res["note"] + ")") if res.get("note") else ""))
                progress.done()
        if peers_on:
            from .peers import run_peers

            progress.step("peers: fast-litellm 0.1.10, tiktoken")
            peers = run_peers(args.quick, args.peer_venv, args.peer_install, args.peer_rounds,
                              on_step=lambda side: progress.step("peers: %s" % side))
            doc["results"].extend(peers["rows"])
            doc["peers"] = {"raw": peers["raw"], "peer_venv": peers["peer_venv"], "notes": peers["notes"]}
            doc["notes"].extend("peers: %s" % n for n in peers["notes"])
            progress.done()
        if args.proxy:
            from .proxy.runner import run_proxy_bench

            cfg = proxy_config(args)
            progress.step("proxy: stock vs fast_litellm")
            try:
                proxy = run_proxy_bench(cfg, progress=lambda m: progress.step(m))
                doc["results"].extend(proxy["rows"])
                doc["proxy"] = {k: v for k, v in proxy.items() if k != "rows"}
                for variant, run in proxy["runs"].items():
                    if run.get("preload") == "failed":
                        doc["notes"].append("proxy: fast_litellm failed to preload in the %s run" % variant)
                    if run["load"]["errors"]:
                        doc["notes"].append("proxy %s: %d failed requests %s" % (
                            variant, run["load"]["errors"], run["load"]["status_counts"]))
            except KeyboardInterrupt:
                raise
            except Exception as exc:
                doc["proxy"] = {"error": "%s: %s" % (type(exc).__name__, exc)}
                doc["notes"].append("proxy: FAILED: %s: %s" % (type(exc).__name__, str(exc)[:2000]))
            progress.done()
    finally:
        progress.close()
    doc["duration_seconds"] = time.perf_counter() - t0
    return doc


#: every output option: (args attribute, option, "file" or "directory");
#: all are checked before the run, the files written after it (_write_outputs)
OUTPUTS = (("json", "--json", "file"), ("plot", "--plot", "file"),
           ("markdown", "--markdown", "file"), ("keep_dir", "--keep-dir", "directory"))


def _unwritable(path: str, kind: str) -> Optional[str]:
    """Why ``path`` cannot be written as a ``kind`` ("file" or "directory"),
    or None.  Checked before the run, so a long benchmark never ends in a
    write error; nothing is left behind."""
    if not path:
        return "empty path"
    if os.path.isdir(path):
        if kind == "file":
            return "is a directory"
        existing = path
    elif os.path.exists(path):
        if kind == "directory":
            return "not a directory"
        if not os.path.isfile(path):  # a pipe or device: opening it could block
            return None if os.access(path, os.W_OK) else "not writable"
        try:
            with open(path, "ab"):
                pass
        except OSError as exc:
            return exc.strerror or str(exc)
        return None
    else:
        existing = os.path.dirname(os.path.abspath(path))
        while not os.path.isdir(existing):  # the first ancestor that exists
            if os.path.exists(existing):
                return "%s is not a directory" % existing
            existing = os.path.dirname(existing)
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        return "cannot create files in %s: %s" % (existing, exc.strerror or exc)
    return None


def check_outputs(args: argparse.Namespace) -> List[str]:
    """Problems with the output options (empty list: every one is writable)."""
    problems = []
    for attr, option, kind in OUTPUTS:
        path = getattr(args, attr, None)
        if path is None:
            continue
        why = _unwritable(path, kind)
        if why:
            problems.append("cannot write %s %s: %s" % (option, path, why))
    if getattr(args, "plot", None) and importlib.util.find_spec("matplotlib") is None:
        problems.append("--plot needs matplotlib: pip install matplotlib")
    return problems


def _write_outputs(doc: Dict[str, Any], args: argparse.Namespace) -> Tuple[List[str], bool]:
    """Write --json, --plot, --markdown: (messages for stdout, all written).
    A failure is reported on stderr and does not stop the other outputs."""
    from . import environment
    from .report import write_json, write_plot
    from .markdown import write_markdown

    def plot(path: str, doc: Dict[str, Any]) -> Optional[str]:
        return write_plot(path, doc["results"], "fast-litellm bench: ratios (> 1 is better)",
                          "%s · %s" % (doc["timestamp"], environment.describe_machine(doc["machine"])))

    # the OUTPUTS written after the run: writer(path, doc) -> error text or None
    writers = {"json": write_json, "plot": plot, "markdown": write_markdown}
    messages, ok = [], True
    for attr, option, _kind in OUTPUTS:
        path = getattr(args, attr, None)
        if not path or attr not in writers:
            continue
        writer = writers[attr]
        try:
            err = writer(path, doc)
        except OSError as exc:
            err = "cannot write %s %s: %s" % (option, path, exc.strerror or exc)
        if err:
            sys.stderr.write("fast-litellm bench: %s\n" % err)
            ok = False
        else:
            messages.append("wrote %s" % path)
    return messages, ok


def emit(doc: Dict[str, Any], args: argparse.Namespace) -> int:
    from . import environment
    from .report import print_table

    # the files first: a closed stdout (`| head`) must not lose them
    messages, written = _write_outputs(doc, args)
    code = 0 if written else 1
    title = "fast-litellm bench%s — %s" % (" --quick" if args.quick else "",
                                            environment.describe_machine(doc["machine"]))
    print_table(doc["results"], doc["notes"], title=title, plain=args.plain)
    prof = (doc.get("proxy") or {}).get("profile")
    if prof and prof.get("top"):
        from .markdown import profile_lines

        sys.stdout.write("\nAccelerated proxy, top frames by own time (%s):\n" % prof.get("profiler"))
        for line in profile_lines(prof, 15, markdown=False):
            sys.stdout.write(line + "\n")
    for message in messages:
        sys.stdout.write(message + "\n")
    if args.proxy and (doc.get("proxy") or {}).get("error"):
        code = 1
    return code


def run_from_args(args: argparse.Namespace) -> int:
    problems = check_outputs(args)
    if problems:  # before the run, not after minutes of it
        for problem in problems:
            sys.stderr.write("fast-litellm bench: %s\n" % problem)
        return 2
    try:
        doc = run_bench(args)
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted; every process started was stopped\n")
        return 130
    return emit(doc, args)


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args._argv = argv
    from ..cli import run_handler

    return run_handler(run_from_args, args)
