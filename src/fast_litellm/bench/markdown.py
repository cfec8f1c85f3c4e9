"""A Markdown report of one bench run (for BENCHMARKS.md and the README)."""
from __future__ import annotations

import os
from typing import Any, Dict, List

from .report import case_labels, fmt_ratio, fmt_value, row_note


def machine_line(doc: Dict[str, Any]) -> str:
    m, v = doc.get("machine", {}), doc.get("versions", {})
    return ("%s UTC · %s · %s cores · %s GiB · %s · Python %s · fast_litellm %s (native: %s) · "
            "litellm %s · tiktoken %s" % (
                doc.get("timestamp", "?").replace("+00:00", ""), m.get("cpu_model"), m.get("cpu_usable"),
                m.get("memory_gib"), m.get("os"), v.get("python"), v.get("fast-litellm"),
                v.get("fast_litellm_native"), v.get("litellm"), v.get("tiktoken")))


def results_table(rows: List[Dict[str, Any]]) -> List[str]:
    out = ["| component | case | baseline (what you'd run) | unit | baseline | fast_litellm | ratio | note |",
           "|---|---|---|---|---:|---:|---:|---|"]
    for r, label in zip(rows, case_labels(rows)):
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["component"], label, r["baseline"], r["unit"], fmt_value(r.get("baseline_value")),
            fmt_value(r.get("value")), fmt_ratio(r.get("ratio")), row_note(r).replace("|", "/")))
    return out


def profile_lines(prof: Dict[str, Any], n: int = 25, markdown: bool = True) -> List[str]:
    top = prof.get("top") or []
    if markdown:
        out = ["| # | own % | incl. % | frame |", "|---:|---:|---:|---|"]
        for i, f in enumerate(top[:n], 1):
            out.append("| %d | %.1f | %.1f | `%s` |" % (i, f["own_percent"], f["inclusive_percent"],
                                                       f["frame"].replace("|", "/")))
        return out
    return ["%3d. %5.1f%% own %5.1f%% incl  %s" % (i, f["own_percent"], f["inclusive_percent"], f["frame"])
            for i, f in enumerate(top[:n], 1)]


def proxy_details(doc: Dict[str, Any]) -> List[str]:
    proxy = doc.get("proxy") or {}
    runs = proxy.get("runs") or {}
    if not runs:
        return ["Proxy run failed: %s" % proxy["error"]] if proxy.get("error") else []
    out = ["| variant | requests | errors | req/s | req/s per slice | p50 ms | p95 ms | p99 ms | "
           "overhead p50 ms | CPU s / 1k req | peak RSS MiB | preload |",
           "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for name, run in runs.items():
        load = run["load"]
        slices = ", ".join(fmt_value(x) for x in load.get("slice_requests_per_second", []))
        out.append("| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, load["requests"], load["errors"], fmt_value(load["requests_per_second"]), slices,
            fmt_value(load["latency_ms"]["p50"]), fmt_value(load["latency_ms"]["p95"]),
            fmt_value(load["latency_ms"]["p99"]), fmt_value(load["overhead_ms"]["p50"]),
            fmt_value(run["cpu_seconds_per_1k_requests"]), fmt_value(run["peak_rss_mb"]), run["preload"]))
    return out


def render(doc: Dict[str, Any]) -> str:
    lines = ["# fast-litellm bench", "", "Measured: " + machine_line(doc), "",
             "Command: `%s`" % " ".join(doc.get("command") or ["fast-litellm", "bench"]), ""]
    if doc.get("results"):
        lines += results_table(doc["results"]) + ["", "ratio > 1: fast_litellm is faster (or smaller).", ""]
    details = proxy_details(doc)
    if details:
        lines += ["## LiteLLM proxy, end to end", ""] + details + [""]
    prof = (doc.get("proxy") or {}).get("profile")
    if prof and prof.get("top"):
        lines += ["## Accelerated proxy: top frames by own time (%s, %s samples)"
                  % (prof.get("profiler"), prof.get("samples", "?")), ""] + profile_lines(prof) + [""]
        if prof.get("top_files"):
            lines += ["Own time per source file:", "", "| own % | file |", "|---:|---|"]
            lines += ["| %.1f | `%s` |" % (f["own_percent"], f["file"]) for f in prof["top_files"]] + [""]
    if doc.get("notes"):
        lines += ["Notes:", ""] + ["- %s" % n for n in doc["notes"]] + [""]
    return "\n".join(lines)


def write_markdown(path: str, doc: Dict[str, Any]) -> None:
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    with open(path, "w", encoding="utf-8", errors="backslashreplace") as f:  # paths may not be UTF-8
        f.write(render(doc))
