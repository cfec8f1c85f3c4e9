"""Showing results: one table of ratios (rich or plain), JSON, a PNG chart."""
from __future__ import annotations

import json
import math
import os
import sys
from typing import Any, Dict, List, Optional, TextIO

SCHEMA_VERSION = 1


def fmt_value(v: Optional[float]) -> str:
    if v is None:
        return "-"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000:
        return "%.0f" % v
    if a >= 100:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    return "%.3g" % v


def fmt_ratio(r: Optional[float]) -> str:
    return "n/a" if r is None else "%.2fx" % r


def row_note(row: Dict[str, Any]) -> str:
    p = row.get("params") or {}
    for key in ("ours_error", "peer_error", "baseline_error", "error"):
        if p.get(key):
            return "%s: %s" % (key.replace("_", " "), str(p[key])[:60])
    if p.get("peer") == "not available":
        return "peer not available"
    m = p.get("matches_tiktoken")
    if isinstance(m, dict) and m:
        return "counts = tiktoken: " + ", ".join("%s %s" % (k, "yes" if v else "NO") for k, v in m.items())
    return ""


def case_labels(rows: List[Dict[str, Any]]) -> List[str]:
    """Each row's case, with the params that tell apart rows sharing one."""
    groups: Dict[tuple, List[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault((r["component"], r["case"], r["baseline"]), []).append(i)
    labels = [r["case"] for r in rows]
    for idx in groups.values():
        if len(idx) < 2:
            continue
        params = [rows[i].get("params") or {} for i in idx]
        keys = sorted({k for p in params for k in p})
        for k in keys:
            values = [repr(p.get(k)) for p in params]
            if len(set(values)) == len(values):
                for i, p in zip(idx, params):
                    labels[i] = "%s [%s]" % (rows[i]["case"], p.get(k))
                break
    return labels


def table_lines(rows: List[Dict[str, Any]]) -> List[List[str]]:
    from ..cli import printable  # a path in a note may not be UTF-8

    out = []
    for r, label in zip(rows, case_labels(rows)):
        out.append([printable(cell) for cell in (
            r["component"], label, r["baseline"], r["unit"], fmt_value(r.get("baseline_value")),
            fmt_value(r.get("value")), fmt_ratio(r.get("ratio")), row_note(r))])
    return out


HEADERS = ["component", "case", "baseline (what you'd run)", "unit", "baseline", "fast_litellm",
           "ratio", "note"]


def render_plain(rows: List[Dict[str, Any]], notes: List[str], stream: TextIO) -> None:
    lines = table_lines(rows)
    widths = [max([len(h)] + [len(l[i]) for l in lines]) for i, h in enumerate(HEADERS)]
    def put(cells):
        stream.write("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip() + "\n")
    put(HEADERS)
    put(["-" * w for w in widths])
    for l in lines:
        put(l)
    for n in notes:
        stream.write("note: %s\n" % n)
    stream.write("ratio > 1: fast_litellm is faster (or smaller) than the baseline.\n")


def render_rich(rows: List[Dict[str, Any]], notes: List[str], title: str) -> bool:
    try:
        from rich.console import Console
        from rich.table import Table
    except Exception:
        return False
    t = Table(title=title, caption="ratio > 1: fast_litellm is faster (or smaller) than the baseline")
    for h in HEADERS:
        t.add_column(h, justify="right" if h in ("baseline", "fast_litellm", "ratio") else "left",
                     overflow="fold")
    for r, l in zip(rows, table_lines(rows)):
        ratio = r.get("ratio")
        style = "" if ratio is None else ("green" if ratio >= 1.05 else "red" if ratio < 0.95 else "")
        l = list(l)
        if style:
            l[6] = "[%s]%s[/%s]" % (style, l[6], style)
        t.add_row(*l)
    console = Console() if sys.stdout.isatty() else Console(width=200)
    console.print(t)
    for n in notes:
        console.print("note: %s" % n, markup=False, highlight=False)
    return True


def print_table(rows: List[Dict[str, Any]], notes: List[str], title: str = "fast-litellm bench",
                plain: bool = False, stream: Optional[TextIO] = None) -> None:
    from ..cli import printable  # a path in a note may not be UTF-8

    stream = stream or sys.stdout
    notes, title = [printable(n) for n in notes], printable(title)
    if not plain and stream is sys.stdout and render_rich(rows, notes, title):
        return
    stream.write(title + "\n")
    render_plain(rows, notes, stream)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)


def write_json(path: str, document: Dict[str, Any]) -> None:
    """Write the document; a regular file atomically (a temporary file, then
    rename).  A symlink or a non-regular file (``/dev/stdout``, a pipe) is
    written through: a rename would replace the link or device itself."""
    text = json.dumps(_jsonable(document), indent=2, sort_keys=False) + "\n"
    if os.path.islink(path) or (os.path.exists(path) and not os.path.isfile(path)):
        with open(path, "w") as f:
            f.write(text)
        return
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp"
    try:
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _plot_format(path: str, fig: Any) -> str:
    """The format the name's extension asks for if matplotlib knows it, else
    PNG (matplotlib would add ".png" to a name without an extension, writing
    a file not asked for, and refuses an extension it does not know)."""
    ext = os.path.splitext(path)[1][1:].lower()
    return ext if ext in fig.canvas.get_supported_filetypes() else "png"


def write_plot(path: str, rows: List[Dict[str, Any]], title: str, subtitle: str = "",
               max_bars: int = 30) -> Optional[str]:
    """A horizontal bar chart of the ratios (log scale); returns an error or None.

    Up to ``max_bars`` rows get a bar each; beyond that, one bar per
    component and baseline (geometric mean, whiskers from min to max).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as exc:
        return "matplotlib is not available (%s): pip install matplotlib" % exc
    all_labels = case_labels(rows)
    labelled = [(r, l) for r, l in zip(rows, all_labels) if r.get("ratio")]
    items = [r for r, _ in labelled]
    if not items:  # still a picture, saying why it is empty
        fig, ax = plt.subplots(figsize=(8, 2.5))
        ax.axis("off")
        ax.text(0.5, 0.5, "no ratios measured (components missing?)", ha="center", va="center")
        ax.set_title(title + ("\n" + subtitle if subtitle else ""), fontsize=10)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fig.savefig(path, dpi=110, format=_plot_format(path, fig))
        plt.close(fig)
        return None
    summary = len(items) > max_bars
    if summary:  # one bar per component and baseline: geometric mean, whiskers min..max
        groups: Dict[tuple, List[float]] = {}
        for r in items:
            groups.setdefault((r["component"], r["baseline"]), []).append(r["ratio"])
        labels = ["%s vs %s\n(%d cases)" % (c, b, len(v)) for (c, b), v in groups.items()]
        ratios = [math.exp(sum(math.log(x) for x in v) / len(v)) for v in groups.values()]
        lows = [max(0.0, g - min(v)) for g, v in zip(ratios, groups.values())]
        highs = [max(0.0, max(v) - g) for g, v in zip(ratios, groups.values())]
        items = list(groups)
    else:
        labels = ["%s: %s\nvs %s" % (r["component"], l, r["baseline"]) for r, l in labelled]
        ratios = [r["ratio"] for r in items]
    colors = ["#2e7d32" if x >= 1.05 else "#c62828" if x < 0.95 else "#757575" for x in ratios]
    height = max(3.0, 0.55 * len(items) + 1.5)
    fig, ax = plt.subplots(figsize=(10, height))
    y = list(range(len(items)))[::-1]
    if summary:
        ax.barh(y, ratios, color=colors, xerr=[lows, highs], ecolor="#444444", capsize=3)
    else:
        ax.barh(y, ratios, color=colors)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("ratio, log scale (> 1: fast_litellm is faster or smaller)"
                  + ("; bars: geometric mean over cases, whiskers: min-max" if summary else ""))
    for yi, x in zip(y, ratios):
        ax.text(x, yi, " %.2fx" % x, va="center", fontsize=8)
    ax.set_title(title + ("\n" + subtitle if subtitle else ""), fontsize=10)
    extremes = ratios + ([g - l for g, l in zip(ratios, lows)] + [g + h for g, h in zip(ratios, highs)]
                         if summary else [])
    lo, hi = min(extremes + [1.0]), max(extremes + [1.0])
    ax.set_xlim(lo / 1.6, hi * 2.2)
    fig.tight_layout()
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fig.savefig(path, dpi=110, format=_plot_format(path, fig))
    plt.close(fig)
    return None
