"""The ``fast-litellm`` command (also ``python -m fast_litellm``).

Built-in subcommands:

* ``doctor``: versions, whether the native core loaded (and why not), every
  feature flag and every patch with why it is or is not applied, problems
  found; as a table (``rich`` when importable, else plain text) or ``--json``.
* ``demo``: a short tour of what works, each part reported, never crashing.

Other components add subcommands through ``EXTENSIONS``: each entry is
``"module:function"``; the function is called with the argparse
subparsers object, adds its parser and sets ``func`` to a handler
``handler(args) -> int`` (the exit code)::

    def add_count_command(subparsers):
        p = subparsers.add_parser("count", help="count tokens")
        p.set_defaults(func=run_count)

An entry whose module does not exist (yet) is skipped silently; one that
fails to load is skipped and reported by ``doctor``.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO, Tuple

#: "module:function" entries adding subcommands (see the module docstring)
EXTENSIONS: List[str] = [
    "fast_litellm.tokenizer.cli:add_count_command",
    "fast_litellm.bench.cli:add_bench_command",
]

#: distributions whose versions doctor reports (read from metadata, never imported)
DEPENDENCIES = ("litellm", "tiktoken", "rich", "redis", "unicodedata2", "tqdm")

#: component packages whose twin (native or python) doctor reports
COMPONENT_PACKAGES = ("monitor", "tokenizer", "ratelimit", "pool", "routing", "cache",
                      "token_counter")

#: module attributes a component package uses to say which twin it runs
IMPLEMENTATION_ATTRIBUTES = ("IMPLEMENTATION", "DEFAULT_KIND")

SEVERITIES = ("critical", "warning", "info")

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


# ---------------------------------------------------------------------------
# extensions

#: entry -> "loaded", "missing" or "error: ..." (filled by build_parser)
EXTENSION_STATUS: Dict[str, str] = {}


def _module_is_missing(exc: ModuleNotFoundError, module: str) -> bool:
    """True when the module itself (or a parent package) does not exist,
    rather than something it imports."""
    missing = exc.name or ""
    return missing == module or module.startswith(missing + ".")


def _load_extension(entry: str, subparsers: Any) -> str:
    module_name, _, func_name = entry.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if _module_is_missing(exc, module_name):
            return "missing"
        return "error: %s: %s" % (type(exc).__name__, exc)
    except Exception as exc:
        return "error: %s: %s" % (type(exc).__name__, exc)
    try:
        getattr(module, func_name)(subparsers)
    except Exception as exc:
        return "error: %s: %s" % (type(exc).__name__, exc)
    return "loaded"


# ---------------------------------------------------------------------------
# parser

def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="fast-litellm",
        description="Fast LiteLLM: exact, measured acceleration for LiteLLM.",
    )
    parser.add_argument("--version", action="version", version="fast-litellm %s" % __version__)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")

    doctor = subparsers.add_parser(
        "doctor", help="versions, native core, flags and patches, and why",
        description="Report versions, whether the native core loaded, every feature flag "
                    "and every patch with why it is or is not applied.")
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    doctor.add_argument("--plain", action="store_true", help="plain text even if rich is installed")
    doctor.add_argument("--import-litellm", action="store_true",
                        help="import litellm first, so patches show as applied or not for real")
    doctor.add_argument("--strict", action="store_true",
                        help="exit 1 when a warning or critical problem is found")
    doctor.set_defaults(func=run_doctor)

    demo = subparsers.add_parser("demo", help="a short tour of what works",
                                 description="Run each component once and report what works.")
    demo.add_argument("--json", action="store_true", help="print the results as JSON")
    demo.add_argument("--plain", action="store_true", help="plain text even if rich is installed")
    demo.set_defaults(func=run_demo)

    for entry in EXTENSIONS:
        EXTENSION_STATUS[entry] = _load_extension(entry, subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    # the command's own arguments, for reports that record how they were made
    args._argv = argv[argv.index(args.command) + 1:] if args.command in argv else []
    return run_handler(func, args)


def run_handler(func: Callable[[argparse.Namespace], Any], args: argparse.Namespace) -> int:
    """Run a command's handler: its exit code; a closed stdout (`| head`)
    stops quietly, Ctrl-C exits 130, neither with a traceback.  Every entry
    point (``fast-litellm``, ``python -m fast_litellm.bench``, ...) uses it."""
    try:
        return int(func(args) or 0)
    except BrokenPipeError:  # e.g. `fast-litellm doctor | head`: stop quietly
        try:  # what is left in stdout's buffer goes nowhere at exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):  # stdout is not a file (embedded, captured)
            pass
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


# ---------------------------------------------------------------------------
# output: rich tables when available, plain aligned text otherwise

Table = Tuple[str, List[str], List[List[str]]]  # title, header, rows


def _rich_console(out: TextIO, plain: bool) -> Any:
    if plain:
        return None
    try:
        from rich.console import Console
    except ImportError:
        return None
    return Console(file=out, width=None if out.isatty() else 160, highlight=False)


def printable(text: str) -> str:
    """Text any UTF-8 output takes: a value from the environment or a path
    with bytes that are not UTF-8 holds lone surrogates, which a strict
    stdout refuses; they are shown escaped, as the warnings show them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _print_tables(tables: List[Table], notes: List[str], out: TextIO, plain: bool) -> None:
    tables = [(printable(title), [printable(h) for h in header],
               [[printable(cell) for cell in row] for row in rows])
              for title, header, rows in tables]
    notes = [printable(note) for note in notes]
    console = _rich_console(out, plain)
    if console is not None:
        from rich.table import Table as RichTable

        for title, header, rows in tables:
            table = RichTable(title=title, title_justify="left", show_lines=False)
            for column in header:
                table.add_column(column, overflow="fold")
            for row in rows:
                table.add_row(*row)
            console.print(table)
        for note in notes:
            console.print(note, markup=False)
        return
    for title, header, rows in tables:
        out.write(_plain_table(title, header, rows))
        out.write("\n")
    for note in notes:
        out.write(note + "\n")


def _print_json(report: Dict[str, Any], out: TextIO) -> None:
    json.dump(report, out, indent=2, default=str)
    out.write("\n")


def _plain_table(title: str, header: List[str], rows: List[List[str]]) -> str:
    widths = [len(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = [title, "=" * len(title)]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    if not rows:
        lines.append("(none)")
    return "\n".join(lines) + "\n"


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, float):
        return "%.4g" % value
    if isinstance(value, dict):
        return ", ".join("%s=%s" % (k, _text(v)) for k, v in value.items())
    return str(value)


def _error_text(exc: BaseException) -> str:
    message = str(exc)
    return "%s: %s" % (type(exc).__name__, message) if message else type(exc).__name__


# ---------------------------------------------------------------------------
# doctor: gathering

def _distribution_version(name: str) -> Optional[str]:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8
        return None
    try:
        return version(name)
    except PackageNotFoundError:
        return None
    except Exception:
        return None


def _native_report() -> Dict[str, Any]:
    from . import _native_loader

    native = _native_loader.NATIVE
    return {
        "loaded": native is not None,
        "reason": None if native is not None else _native_loader.NATIVE_IMPORT_ERROR,
        "forced_python": _native_loader.FORCED_PYTHON,
        "path": getattr(native, "__file__", None),
        "build": getattr(native, "BUILD", None),
        "components": list(getattr(native, "COMPONENTS", []) or []),
    }


def _litellm_report() -> Dict[str, Any]:
    installed = _distribution_version("litellm")
    report: Dict[str, Any] = {"installed": installed, "pinned": None, "verified": None,
                              "compromised": None}
    try:
        from .patching import pins
    except Exception as exc:
        report["error"] = "unavailable: %s" % _error_text(exc)
        return report
    report["pinned"] = getattr(pins, "LITELLM_PIN", None)
    if installed is not None:
        report["verified"] = installed in getattr(pins, "LITELLM_VERSIONS", ())
        report["compromised"] = installed in getattr(pins, "FORBIDDEN_VERSIONS", ())
    return report


def _call_public(name: str) -> Tuple[bool, Any]:
    """(True, fast_litellm.<name>()) or (False, "unavailable: <error>")."""
    try:
        import fast_litellm

        return True, getattr(fast_litellm, name)()
    except Exception as exc:
        return False, "unavailable: %s" % _error_text(exc)


def _flag_reason(status: Dict[str, Any]) -> str:
    """Why a flag is in its state, from whatever its status carries."""
    if isinstance(status.get("reason"), str) and status["reason"]:
        return status["reason"]
    state = status.get("state")
    errors, threshold = status.get("errors"), status.get("error_threshold")
    rollout = status.get("rollout_percentage")
    tripped = isinstance(errors, int) and isinstance(threshold, int) and 0 < threshold <= errors
    if state == "disabled_by_errors" or (tripped and not status.get("enabled")):
        why = "turned itself off after %s native errors (threshold %s)" % (errors, threshold)
    elif state == "shadow":
        why = "shadow: the original serves, the fast path is compared (%s calls, %s mismatches)" % (
            status.get("shadow_calls", "?"), status.get("shadow_mismatches", "?"))
    elif state == "canary" or (isinstance(rollout, (int, float)) and 0 < rollout < 100):
        why = "on for %g%% of requests" % rollout if isinstance(rollout, (int, float)) else "canary"
    elif status.get("enabled") is False or state == "disabled":
        why = "off"
    elif status.get("enabled"):
        why = "on"
    else:
        why = str(state or "-")
    source = status.get("source")
    if source and source != "default":
        why += " (set by %s)" % source
    last = status.get("last_error")
    if last:
        why += "; last error: %s" % _text(last)
    return why


def _flags_report() -> Dict[str, Any]:
    ok, value = _call_public("get_feature_status")
    if not ok:
        return {"available": False, "error": value, "flags": {}}
    if not isinstance(value, dict):
        return {"available": False, "error": "unavailable: unexpected %s" % type(value).__name__,
                "flags": {}}
    flags = {}
    for name, status in value.items():
        status = dict(status) if isinstance(status, dict) else {"value": status}
        status["why"] = _flag_reason(status)
        flags[str(name)] = status
    return {"available": True, "error": None, "flags": flags,
            "ignored_settings": _ignored_settings()}


def _ignored_settings() -> List[str]:
    """The settings the flags ignored (a bad value in the environment or the
    config file, an unreadable file): each gave one warning at import, before
    doctor ran, so they are asked of the flags module."""
    try:
        from . import flags

        return [str(m) for m in flags.config_warnings()]
    except Exception:
        return []


def _patches_report() -> Dict[str, Any]:
    ok, value = _call_public("get_patch_status")
    if not ok:
        return {"available": False, "error": value, "applied": None, "patches": {}}
    if not isinstance(value, dict):
        return {"available": False, "error": "unavailable: unexpected %s" % type(value).__name__,
                "applied": None, "patches": {}}
    report = {k: v for k, v in value.items() if k != "patches"}
    patches = value.get("patches") or {}
    report.update(available=True, error=None,
                  patches={str(k): (dict(v) if isinstance(v, dict) else {"value": v})
                           for k, v in patches.items()} if isinstance(patches, dict) else {})
    return report


def _components_report() -> Dict[str, str]:
    found = {}
    for name in COMPONENT_PACKAGES:
        try:
            module = importlib.import_module("fast_litellm." + name)
        except ModuleNotFoundError as exc:
            if _module_is_missing(exc, "fast_litellm." + name):
                found[name] = "not installed"
                continue
            found[name] = "unavailable: %s" % _error_text(exc)
            continue
        except Exception as exc:
            found[name] = "unavailable: %s" % _error_text(exc)
            continue
        kind = next((getattr(module, a) for a in IMPLEMENTATION_ATTRIBUTES
                     if isinstance(getattr(module, a, None), str)), None)
        found[name] = kind or "loaded"
    return found


def _monitor_report() -> Dict[str, Any]:
    try:
        from . import monitor

        return dict(monitor.monitor_info(), available=True)
    except Exception as exc:
        return {"available": False, "error": "unavailable: %s" % _error_text(exc)}


def _problems(report: Dict[str, Any]) -> List[Dict[str, str]]:
    problems: List[Dict[str, str]] = []

    def add(severity: str, message: str) -> None:
        problems.append({"severity": severity, "message": message})

    native = report["native"]
    if not native["loaded"]:
        # FAST_LITELLM_FORCE_PYTHON=1 asked for the twins: not a problem for --strict
        add("info" if native["forced_python"] else "warning",
            "native core not loaded (%s): the pure-Python twins are in use" % native["reason"])
    litellm = report["litellm"]
    if litellm.get("compromised"):
        add("critical", "litellm %s is a compromised release: uninstall it" % litellm["installed"])
    elif litellm["installed"] is None:
        add("info", "litellm is not installed: there is nothing to patch")
    elif litellm.get("verified") is False:
        add("warning", "litellm %s is not the verified release %s: its patches are not applied"
            % (litellm["installed"], litellm["pinned"]))
    for message in report["flags"].get("ignored_settings") or []:
        add("warning", message)
    for section, what in (("flags", "feature flags"), ("patches", "patch status")):
        if not report[section]["available"]:
            add("warning", "%s %s" % (what, report[section]["error"]))
    for name, status in report["flags"]["flags"].items():
        errors, threshold = status.get("errors"), status.get("error_threshold")
        if isinstance(errors, int) and isinstance(threshold, int) and 0 < threshold <= errors:
            add("warning", "flag %s turned itself off after %d errors" % (name, errors))
    for module, error in (report["patches"].get("patch_module_errors") or {}).items():
        add("warning", "patch module %s did not load (%s)" % (module, error))
    patches = report["patches"]["patches"]
    skipped = [n for n, p in patches.items() if not p.get("applied")]
    if skipped and litellm["installed"] is not None:
        add("info", "%d of %d patches not applied: %s" % (len(skipped), len(patches),
                                                          ", ".join(sorted(skipped))))
    for entry, status in report["cli_extensions"].items():
        if status.startswith("error"):
            add("warning", "command extension %s failed to load (%s)" % (entry, status))
    return problems


def gather_doctor_report() -> Dict[str, Any]:
    """Everything doctor knows, as a JSON-serialisable dict."""
    from . import __version__

    report: Dict[str, Any] = {
        "fast_litellm": {"version": __version__,
                         "location": os.path.dirname(os.path.abspath(__file__))},
        "python": {"version": platform.python_version(),
                   "implementation": platform.python_implementation(),
                   "executable": sys.executable, "platform": platform.platform()},
        "native": _native_report(),
        "dependencies": {name: _distribution_version(name) for name in DEPENDENCIES},
        "litellm": _litellm_report(),
        "environment": {k: v for k, v in sorted(os.environ.items())
                        if k.startswith("FAST_LITELLM_")},
        "flags": _flags_report(),
        "patches": _patches_report(),
        "components": _components_report(),
        "monitor": _monitor_report(),
        "cli_extensions": dict(EXTENSION_STATUS),
    }
    report["problems"] = _problems(report)
    return report


# ---------------------------------------------------------------------------
# doctor: rendering

def _doctor_tables(report: Dict[str, Any]) -> Tuple[List[Table], List[str]]:
    native, litellm, deps = report["native"], report["litellm"], report["dependencies"]
    versions = [
        ["python", "%s (%s)" % (report["python"]["version"], report["python"]["implementation"]),
         report["python"]["executable"]],
        ["fast_litellm", report["fast_litellm"]["version"], report["fast_litellm"]["location"]],
        ["native core", "loaded" if native["loaded"] else "not loaded",
         native["path"] if native["loaded"] else str(native["reason"])],
        ["litellm", _text(litellm["installed"]) if litellm["installed"] else "not installed",
         "verified release %s%s" % (litellm["pinned"],
                                    "" if litellm["verified"] in (None, True) else
                                    " (installed differs)")],
    ]
    for name in DEPENDENCIES[1:]:
        versions.append([name, deps[name] or "not installed", ""])

    tables: List[Table] = [("Versions", ["what", "version", "detail"], versions)]
    components = [[name, status] for name, status in report["components"].items()]
    tables.append(("Components", ["component", "implementation"], components))

    flags = report["flags"]
    if flags["available"]:
        rows = []
        for name, s in flags["flags"].items():
            errors = s.get("errors")
            threshold = s.get("error_threshold")
            rows.append([name, _text(s.get("alias")), _text(s.get("enabled")),
                         _text(s.get("state")), _text(s.get("mode")),
                         _text(s.get("rollout_percentage")),
                         "%s/%s" % (_text(errors), _text(threshold)), s["why"]])
        tables.append(("Feature flags", ["flag", "alias", "enabled", "state", "mode",
                                         "rollout %", "errors", "why"], rows))
    else:
        tables.append(("Feature flags", ["status"], [[flags["error"]]]))

    patches = report["patches"]
    if patches["available"]:
        rows = [[name, _text(p.get("component")), _text(p.get("flag")), _text(p.get("target")),
                 _text(p.get("applied")), _text(p.get("reason"))]
                for name, p in patches["patches"].items()]
        title = "Patches (applied: %s, litellm %s, verified against %s%s)" % (
            _text(patches.get("applied")), _text(patches.get("litellm_version")),
            _text(patches.get("pinned_litellm_version")),
            "; litellm not imported yet: patches apply when it is"
            if patches.get("litellm_imported") is False else "")
        tables.append((title, ["patch", "component", "flag", "target", "applied", "why"], rows))
    else:
        tables.append(("Patches", ["status"], [[patches["error"]]]))

    if report["environment"]:
        tables.append(("Environment", ["variable", "value"],
                       [[k, v] for k, v in report["environment"].items()]))

    notes = []
    if report["problems"]:
        notes.append("Problems:")
        for p in report["problems"]:
            notes.append("  [%s] %s" % (p["severity"], p["message"]))
    else:
        notes.append("No problems found.")
    return tables, notes


def _import_litellm() -> Optional[str]:
    """Import litellm offline (its bundled price map); an error text or None."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        importlib.import_module("litellm")
    except Exception as exc:
        return _error_text(exc)
    return None


def run_doctor(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    out = out or sys.stdout
    import_error = _import_litellm() if getattr(args, "import_litellm", False) else None
    report = gather_doctor_report()
    if import_error is not None:
        report["problems"].insert(0, {"severity": "warning",
                                      "message": "import litellm failed: %s" % import_error})
    if args.json:
        _print_json(report, out)
    else:
        tables, notes = _doctor_tables(report)
        _print_tables(tables, notes, out, args.plain)
    serious = [p for p in report["problems"] if p["severity"] in ("critical", "warning")]
    return EXIT_PROBLEMS if args.strict and serious else EXIT_OK


# ---------------------------------------------------------------------------
# demo

DEMO_TEXT = "Fast LiteLLM counts tokens exactly like tiktoken, only faster. ¡Hola! 你好 👋"
DEMO_DEPLOYMENTS = [
    {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o"},
     "model_info": {"id": "deployment-a"}},
    {"model_name": "gpt-4o", "litellm_params": {"model": "azure/gpt-4o"},
     "model_info": {"id": "deployment-b"}},
]


def _demo_tokenizer() -> str:
    import fast_litellm

    encoding = fast_litellm.get_encoding("cl100k_base")
    tokens = encoding.encode(DEMO_TEXT)
    assert encoding.decode(tokens) == DEMO_TEXT
    return "cl100k_base: %d tokens for a %d-character text (round trip exact)" % (
        len(tokens), len(DEMO_TEXT))


def _demo_token_counter() -> str:
    import fast_litellm

    counter = fast_litellm.SimpleTokenCounter()
    return "SimpleTokenCounter: %d tokens (gpt-4o)" % counter.count_tokens(DEMO_TEXT, "gpt-4o")


def _demo_rate_limiter() -> str:
    import fast_litellm

    limiter = fast_litellm.SimpleRateLimiter(requests_per_minute=5)
    results = [limiter.check("demo-user") for _ in range(7)]
    allowed = sum(1 for r in results if r.get("allowed"))
    last = results[-1]
    retry = last.get("retry_after_ms")
    return "5 requests/minute: %d of 7 allowed; the 7th: %s, retry after %s ms" % (
        allowed, last.get("reason"),
        "%.0f" % retry if isinstance(retry, (int, float)) else retry)


def _demo_pool() -> str:
    import fast_litellm

    pool = fast_litellm.SimpleConnectionPool("demo")
    conn = pool.get_connection("https://api.example.com")
    healthy = pool.health_check(conn) if conn is not None else None
    if conn is not None:
        pool.return_connection(conn)
    stats = pool.get_stats()
    shown = {k: stats[k] for k in POOL_STATS_SHOWN if isinstance(stats, dict) and k in stats}
    return "connection %s (healthy: %s), returned; pool: %s" % (conn, _text(healthy),
                                                              _text(shown or stats))


def _demo_router() -> str:
    import fast_litellm

    router = fast_litellm.AdvancedRouter("simple_shuffle")
    picked = router.get_available_deployment(DEMO_DEPLOYMENTS, "gpt-4o")
    blocked = router.get_available_deployment(DEMO_DEPLOYMENTS, "gpt-4o",
                                              blocked_models=["deployment-a"])
    pick_id = (picked or {}).get("model_info", {}).get("id")
    blocked_id = (blocked or {}).get("model_info", {}).get("id")
    return "simple_shuffle picked %s; with deployment-a blocked: %s" % (pick_id, blocked_id)


POOL_STATS_SHOWN = ("active", "idle", "total", "created", "reused")

#: (name, function) parts of the demo, run in order
DEMO_PARTS: List[Tuple[str, Callable[[], str]]] = [
    ("tokenizer", _demo_tokenizer),
    ("token_counter", _demo_token_counter),
    ("rate_limiter", _demo_rate_limiter),
    ("connection_pool", _demo_pool),
    ("router", _demo_router),
]


def run_demo_parts() -> Dict[str, Any]:
    from . import monitor

    results = []
    for name, part in DEMO_PARTS:
        start = time.perf_counter()
        try:
            detail, ok = part(), True
        except Exception as exc:
            detail, ok = "unavailable: %s" % _error_text(exc), False
        elapsed_ms = (time.perf_counter() - start) * 1e3
        results.append({"part": name, "ok": ok, "detail": detail, "ms": elapsed_ms})
        try:
            monitor.record_performance("demo", name, elapsed_ms, ok)
        except Exception:
            pass
    try:
        stats = monitor.get_performance_stats("demo")
        monitor_part = {"part": "monitor", "ok": True, "ms": None,
                        "detail": "recorded %d demo calls (%d failed), mean %.3f ms, p99 %.3f ms"
                                  % (stats["count"], stats["errors"], stats["mean_ms"] or 0.0,
                                     stats["p99_ms"] or 0.0)}
    except Exception as exc:
        monitor_part = {"part": "monitor", "ok": False, "ms": None,
                        "detail": "unavailable: %s" % _error_text(exc)}
    results.append(monitor_part)
    return {"native": _native_report()["loaded"], "parts": results}


def run_demo(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    out = out or sys.stdout
    report = run_demo_parts()
    if args.json:
        _print_json(report, out)
        return EXIT_OK
    rows = [[r["part"], "ok" if r["ok"] else "missing",
             "-" if r["ms"] is None else "%.2f" % r["ms"], r["detail"]]
            for r in report["parts"]]
    working = sum(1 for r in report["parts"] if r["ok"])
    notes = ["%d of %d parts work (native core %s)." % (
        working, len(rows), "loaded" if report["native"] else "not loaded")]
    _print_tables([("Fast LiteLLM demo", ["part", "status", "ms", "result"], rows)], notes, out,
                  args.plain)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
