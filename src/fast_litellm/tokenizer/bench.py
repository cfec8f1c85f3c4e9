"""Tokenizer benchmark: fast_litellm vs tiktoken 0.14.0 (and exact peers).

    python -m fast_litellm.tokenizer.bench [--quick]

Cases, each measured side by side in one process, interleaved block by
block (see _interleaved), every document used once per implementation (no
input repeats within a timed run):
  * count throughput (MB/s of UTF-8) per encoding and corpus (prose, code,
    multilingual, CJK): ours ``enc.count(doc)`` vs tiktoken
    ``len(enc.encode(doc))`` and every importable exact peer (bpe-openai,
    toktok-rs, riptoken, quicktok-v1);
  * per-call latency on short documents (~300 bytes), microseconds;
  * count_batch with 2 threads vs tiktoken ``encode_batch(num_threads=2)``;
  * cold start: a fresh interpreter importing the package and counting one
    short text with o200k_base (target < 30 ms), vs the same for tiktoken,
    as wall time and as CPU time; with our prebuilt vocabulary present and
    on a first run ever (none yet); and the same children's peak RSS
    growth from before the import to after the count (memory rows).
The native core keeps a shared, bounded piece cache (pieces that need a
BPE merge -> their ids, across calls).  It is emptied at the start of every
case, so it only holds pieces of documents already timed in that case;
each throughput case also reports ours with the cache switched off
(same core, cache off during those calls), and "prose-unique" uses every documentation paragraph at
most once (the prose corpus otherwise repeats paragraphs across its 2 MB); being small, it is timed
as 5 runs, each on its own (cache emptied, no input repeated within it), their times summed.
Single-threaded cases are timed with the thread's CPU time
(time.thread_time), so other processes on a shared machine do not distort
the ratios; count_batch (threads) is timed by the wall clock.
Counts are checked equal to tiktoken's before anything is timed.
"""
from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Tuple

from . import _corpus

COMPONENT = "tokenizer"


def _version(dist: str) -> str:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:  # noqa: BLE001
        return "?"


# ---- competitors -------------------------------------------------------------

def _tiktoken_counter(name: str) -> Callable[[str], int]:
    import tiktoken

    enc = tiktoken.get_encoding(name)
    return lambda text: len(enc.encode(text, disallowed_special=()))


def _peer_counters(name: str) -> Tuple[Dict[str, Callable[[str], int]], Dict[str, str]]:
    """Importable peers: label -> count function; and label -> why not."""
    found: Dict[str, Callable[[str], int]] = {}
    missing: Dict[str, str] = {}

    def attempt(label: str, make: Callable[[], Callable[[str], int]]) -> None:
        try:
            fn = make()
            fn("warm up")
            found[label] = fn
        except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
            missing[label] = "%s: %s" % (type(exc).__name__, str(exc).splitlines()[0][:120] if str(exc) else "")

    def bpe_openai():
        import bpe_openai as m

        enc = m.get_encoding(name)
        return lambda t: len(enc.encode(t, disallowed_special=()))

    def toktok():
        import toktok as m

        # A fresh tokenizer: toktok keeps a piece cache in its module-global
        # tokenizer, which would otherwise carry pieces from earlier cases
        # (prose-unique's paragraphs all occur in the prose case) while ours
        # is emptied per case.
        cache = getattr(m, "_CACHE", None)
        if cache is not None:
            cache.clear()
        return lambda t: m.batch_count([t], name, threads=1)[0]

    def riptoken():
        import riptoken as m

        enc = m.get_encoding(name)
        return lambda t: len(enc.encode(t, disallowed_special=()))

    def quicktok():
        import quicktok as m

        enc = m.get_encoding(name)
        return lambda t: enc.count(t)

    attempt("bpe-openai %s" % _version("bpe-openai"), bpe_openai)
    attempt("toktok-rs %s" % _version("toktok-rs"), toktok)
    attempt("riptoken %s" % _version("riptoken"), riptoken)
    attempt("quicktok-v1 %s" % _version("quicktok-v1"), quicktok)
    return found, missing


# ---- timing ------------------------------------------------------------------

def _interleaved(fns: Dict[str, Callable[[str], int]], docs: List[str], rounds: int = 4) -> Dict[str, float]:
    """Total seconds per function over docs.  The documents are cut into
    `rounds` blocks; in each round every function processes that block in
    turn, the order rotating from round to round.  Each function sees each
    document exactly once.  Blocks rather than single documents, so each
    side runs with its own working set in cache, as in a service that
    counts one request after another (alternating per document mostly
    measures how fast each side refills the cache the other evicted)."""
    totals = {k: 0.0 for k in fns}
    labels = list(fns)
    timer = time.thread_time  # CPU time of this thread: robust on a shared machine
    size = max(1, -(-len(docs) // rounds))
    blocks = [docs[i:i + size] for i in range(0, len(docs), size)]
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for r, block in enumerate(blocks):
            k = r % len(labels)
            for label in labels[k:] + labels[:k]:
                fn = fns[label]
                t0 = timer()
                for doc in block:
                    fn(doc)
                totals[label] += timer() - t0
    finally:
        if gc_was:
            gc.enable()
    return totals


def _row(case: str, baseline: str, unit: str, base: float, ours: float, higher: bool,
         params: dict) -> dict:
    ratio = (ours / base if higher else base / ours) if base and ours else float("nan")
    return {"component": COMPONENT, "case": case, "baseline": baseline, "unit": unit,
            "baseline_value": base, "value": ours, "ratio": ratio,
            "higher_is_better": higher, "params": params}


def _check_equal(ours: Callable[[str], int], others: Dict[str, Callable[[str], int]],
                 docs: List[str]) -> Dict[str, Callable[[str], int]]:
    """Drop (and report) any competitor whose counts differ from ours."""
    kept = {}
    expected = [ours(d) for d in docs[:5]]
    for label, fn in others.items():
        got = [fn(d) for d in docs[:5]]
        if got == expected:
            kept[label] = fn
        else:
            print("note: %s gives different counts; left out" % label, file=sys.stderr)
    return kept


def _without_cache(enc) -> Optional[Callable[[str], int]]:
    """Count with the same core, its shared piece cache switched off for
    the call (None when the core has no cache).  The cache neither reads
    nor learns during such a call, so "ours" is unaffected."""
    core = enc._core
    if not core.cache_enabled:
        return None

    def count(text: str) -> int:
        core.set_cache(False)
        try:
            return enc.count(text, disallowed_special=())
        finally:
            core.set_cache(True)

    return count


def _throughput_rows(name: str, kind: str, n_docs: int, doc_bytes: int, peers, seed: int,
                     label: Optional[str] = None, repeats: int = 1,
                     fresh_peers: Optional[Callable[[], Dict[str, Callable[[str], int]]]] = None) -> List[dict]:
    """One throughput case.  With repeats > 1 the case is timed that many
    times, each a timed run of its own (documents from seed + k, the piece
    cache emptied and peers made afresh by fresh_peers before each, so no
    input repeats within any one run), and every side's times are summed:
    for a case too small to time once without noise (prose-unique: ~300 KB,
    ~1.5 ms of ours), the sum of several runs is the figure."""
    totals: Dict[str, float] = {}
    nbytes = 0
    params: dict = {}
    others: Dict[str, Callable[[str], int]] = {}
    plain = None
    for k in range(repeats):
        part, part_bytes, others, plain, params = _throughput_once(
            name, kind, n_docs, doc_bytes, peers if k == 0 or fresh_peers is None else fresh_peers(),
            seed + k, label)
        for lbl, secs in part.items():
            totals[lbl] = totals.get(lbl, 0.0) + secs
        nbytes += part_bytes
    if repeats > 1:
        params = dict(params, repeats=repeats, documents=params["documents"] * repeats)
    mbs = {k: nbytes / v / 1e6 for k, v in totals.items()}
    tk_label = "tiktoken %s" % _version("tiktoken")
    case = "count %s %s MB/s" % (name, label or kind)
    rows = [_row(case, lbl, "MB/s", mbs[lbl], mbs["ours"], True, params) for lbl in others]
    if plain is not None:
        rows.append(_row(case + " (no piece cache)", tk_label, "MB/s", mbs["tiktoken, beside no piece cache"],
                         mbs["ours, no piece cache"], True, dict(params, piece_cache=False)))
    return rows


def _throughput_once(name: str, kind: str, n_docs: int, doc_bytes: int, peers, seed: int,
                     label: Optional[str]):
    """One timed run: seconds per side, the bytes timed, the competitors
    kept, whether the no-cache rotation ran, and the row parameters."""
    from . import get_encoding

    enc = get_encoding(name)
    tk_label = "tiktoken %s" % _version("tiktoken")
    ours = lambda t: enc.count(t, disallowed_special=())  # noqa: E731
    docs = _corpus.documents(kind, n_docs, doc_bytes, seed)
    others = _check_equal(ours, {tk_label: _tiktoken_counter(name), **peers}, docs)
    timed = docs[5:] or docs
    # The shared piece cache starts empty for every case: it only ever
    # holds pieces of the timed documents seen earlier in the same run.
    enc._core.clear_cache()
    totals = _interleaved({"ours": ours, **others}, timed)
    # "ours, no piece cache" gets its own rotation against tiktoken, after
    # the main one.  In the main rotation it ran a block right before
    # "ours" in 2 of 4 rounds, on the same documents with the same
    # vocabulary table: "ours" then started with a warm table, which
    # flattered its figure by ~8-12% (docs/tokenizer.md, "Tenth pass").
    # Now every block of "ours" follows a block of another library or of
    # "ours" on other documents, as every other library's does.
    plain = _without_cache(enc)
    if plain is not None and tk_label in others:
        second = _interleaved({"ours, no piece cache": plain, tk_label: others[tk_label]}, timed)
        totals["ours, no piece cache"] = second["ours, no piece cache"]
        totals["tiktoken, beside no piece cache"] = second[tk_label]
    else:
        plain = None
    nbytes = sum(len(d.encode("utf-8")) for d in timed)
    params = {"encoding": name, "corpus": label or kind, "documents": len(timed),
              "doc_bytes": doc_bytes, "api": "count vs len(encode)"}
    return totals, nbytes, others, plain, params


def _latency_rows(name: str, peers, n_docs: int, seed: int) -> List[dict]:
    from . import get_encoding

    enc = get_encoding(name)
    tk_label = "tiktoken %s" % _version("tiktoken")
    ours = lambda t: enc.count(t, disallowed_special=())  # noqa: E731
    docs = _corpus.documents("prose", n_docs, 300, seed)
    others = _check_equal(ours, {tk_label: _tiktoken_counter(name), **peers}, docs)
    enc._core.clear_cache()
    totals = _interleaved({"ours": ours, **others}, docs)
    us = {k: v / len(docs) * 1e6 for k, v in totals.items()}
    params = {"encoding": name, "corpus": "prose", "documents": len(docs), "doc_bytes": 300}
    return [_row("latency %s short doc us/call" % name, label, "us/call", us[label], us["ours"], False, params)
            for label in others]


def _batch_rows(name: str, n_docs: int, doc_bytes: int, seed: int) -> List[dict]:
    import tiktoken

    from . import get_encoding

    enc = get_encoding(name)
    ref = tiktoken.get_encoding(name)
    docs = _corpus.documents("prose", 2 * n_docs, doc_bytes, seed)
    half_a, half_b = docs[:n_docs], docs[n_docs:]
    assert enc.count_batch(half_a[:4], num_threads=2) == [len(x) for x in ref.encode_batch(half_a[:4], num_threads=2)]
    enc._core.clear_cache()
    # interleave: (ours on A, tiktoken on B), then (tiktoken on A, ours on B)
    timings = {"ours": 0.0, "tiktoken": 0.0}
    for first, second in ((half_a, half_b), (half_b, half_a)):
        t0 = time.perf_counter()
        enc.count_batch(first, num_threads=2, disallowed_special=())
        timings["ours"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        [len(x) for x in ref.encode_batch(second, num_threads=2, disallowed_special=())]
        timings["tiktoken"] += time.perf_counter() - t0
    nbytes = sum(len(d.encode("utf-8")) for d in docs)
    params = {"encoding": name, "corpus": "prose", "documents": len(docs), "threads": 2,
              "api": "count_batch vs encode_batch"}
    return [_row("count_batch %s 2 threads MB/s" % name, "tiktoken %s" % _version("tiktoken"), "MB/s",
                 nbytes / timings["tiktoken"] / 1e6, nbytes / timings["ours"] / 1e6, True, params)]


# Wall time and CPU time (process_time) from before the import to after
# the first count.  On a loaded machine wall time mostly measures waiting;
# CPU time is the work done.
# A child's peak RSS in KiB: VmHWM belongs to its own address space;
# ru_maxrss would not do, Linux carries it over exec from the parent's
# (a big benchmark process would make every growth read 0).
PEAK_RSS_KIB = (
    "def _peak_kib():\n"
    "    try:\n"
    "        with open('/proc/self/status') as f:\n"
    "            return next(int(l.split()[1]) for l in f if l.startswith('VmHWM:'))\n"
    "    except (OSError, StopIteration, ValueError):\n"
    "        import resource\n"
    "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
)
# Each prints wall ms, CPU ms and the growth of the process's peak RSS (MiB)
# from before the import to after the first count.
_COLD_START = PEAK_RSS_KIB + ("import time; r = _peak_kib(); "
                              "t = time.perf_counter(); c = time.process_time(); ")
_COLD_END = ("; print((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000, "
             "(_peak_kib() - r) / 1024.0)")
_COLD_OURS = _COLD_START + (
    "import fast_litellm; n = fast_litellm.get_encoding('o200k_base').count('hello world, cold start')"
) + _COLD_END
_COLD_TIKTOKEN = _COLD_START + (
    "import tiktoken; n = len(tiktoken.get_encoding('o200k_base').encode('hello world, cold start'))"
) + _COLD_END


def _cold_ms(code: str, env: dict) -> Optional[Tuple[float, float, float]]:
    """(wall ms, CPU ms, peak RSS growth MiB) of one fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    if out.returncode != 0:
        return None
    wall, cpu, rss = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu), float(rss)


def _cold_rows(runs: int) -> List[dict]:
    """Fresh interpreters, as an installed package runs: bytecode compiled
    once (into a private PYTHONPYCACHEPREFIX, for both sides), then timed
    runs, interleaved: ours with the prebuilt vocabulary present (every
    run after the first), ours on a first run ever (an empty
    FAST_LITELLM_CACHE_DIR each time: parses the .tiktoken file; the
    prebuilt copy is written by a background thread, after the timed
    part), and tiktoken."""
    import tempfile

    env = dict(os.environ)
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    rows: List[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
        env["FAST_LITELLM_CACHE_DIR"] = os.path.join(tmp, "prebuilt")
        _cold_ms(_COLD_OURS, env)  # compiles bytecode, builds the prebuilt vocabulary
        _cold_ms(_COLD_TIKTOKEN, env)  # compiles tiktoken's bytecode likewise
        ours, first, theirs = [], [], []
        for i in range(runs):  # interleaved
            ours.append(_cold_ms(_COLD_OURS, env))
            first.append(_cold_ms(_COLD_OURS, dict(env, FAST_LITELLM_CACHE_DIR=os.path.join(tmp, "empty%d" % i))))
            theirs.append(_cold_ms(_COLD_TIKTOKEN, env))
    ours = [x for x in ours if x is not None]
    first = [x for x in first if x is not None]
    theirs = [x for x in theirs if x is not None]
    if not ours or not theirs:
        return []
    for label, mine in (("", ours), (" first run (no prebuilt vocab)", first)):
        if not mine:
            continue
        for i, what in ((0, "wall"), (1, "CPU")):
            o = statistics.median(x[i] for x in mine)
            t = statistics.median(x[i] for x in theirs)
            rows.append(_row("cold start o200k_base import+first count%s %s ms" % (label, what),
                             "tiktoken %s" % _version("tiktoken"), "ms", t, o, False,
                             {"runs": runs, "target_ms": 30, "ours_all": [x[i] for x in mine],
                              "tiktoken_all": [x[i] for x in theirs]}))
        o = statistics.median(x[2] for x in mine)
        t = statistics.median(x[2] for x in theirs)
        rows.append(_row("memory o200k_base import+first count%s peak RSS growth MiB" % label,
                         "tiktoken %s" % _version("tiktoken"), "MiB", t, max(o, 0.1), False,
                         {"runs": runs, "ours_all": [x[2] for x in mine], "tiktoken_all": [x[2] for x in theirs],
                          "note": "ours maps the prebuilt file read-only (shared page cache)" if not label
                          else "a first run parses the .tiktoken file into private memory"}))
    return rows


def _vocabulary_unavailable(name: str) -> str:
    """Why ``name`` cannot be measured here ('' when it can): offline, tiktoken
    and we need the vocabulary on disk (LiteLLM bundles cl100k and o200k only;
    FAST_LITELLM_TIKTOKEN_DIR / TIKTOKEN_CACHE_DIR can supply the others)."""
    import tiktoken

    from . import get_encoding

    try:
        get_encoding(name)
        tiktoken.get_encoding(name)
    except Exception as exc:
        return "vocabulary not available offline (%s)" % type(exc).__name__
    return ""


def _seed(*parts: str) -> int:
    """The corpus seed of one case: fixed across runs (str hashes are
    salted per process), so two runs time the same documents and their
    figures can be compared; distinct cases still get distinct documents."""
    import zlib

    return zlib.crc32("/".join(parts).encode()) & 0xFFFF


PROSE_UNIQUE_RUNS = 5


def run(quick: bool = False) -> List[dict]:
    encodings = ["cl100k_base", "o200k_base"] if quick else ["r50k_base", "p50k_base", "cl100k_base", "o200k_base"]
    n_docs, doc_bytes = (10, 16_000) if quick else (40, 50_000)
    rows: List[dict] = []
    peer_notes: Dict[str, str] = {}
    for name in encodings:
        unavailable = _vocabulary_unavailable(name)
        if unavailable:
            peer_notes["all sides (%s)" % name] = unavailable
            continue
        if quick:  # peers load their own vocabularies: seconds; the full run has them
            peers, missing = {}, {}
        else:
            peers, missing = _peer_counters(name)
        peer_notes.update({"%s (%s)" % (label, name): why for label, why in missing.items()})
        for kind in _corpus.CORPORA:
            if not quick:  # fresh peers per case: caches they keep start empty, as ours
                peers, _ = _peer_counters(name)
            rows += _throughput_rows(name, kind, n_docs, doc_bytes, peers, seed=_seed(name, kind))
        # The prose corpus (~465 KB of Python documentation) repeats its
        # paragraphs across 2 MB of documents; this case uses each
        # paragraph at most once (15 x 30 KB), so no text repeats at all.
        # Once through is ~1.5 ms of ours, which one run's noise moved by
        # up to +-20%: it is timed as 5 runs (each on its own, no repeats
        # within it), their times summed.
        if not quick:
            peers, _ = _peer_counters(name)
            rows += _throughput_rows(name, "prose", 15, 30_000, peers, seed=_seed(name),
                                     label="prose-unique", repeats=PROSE_UNIQUE_RUNS,
                                     fresh_peers=lambda: _peer_counters(name)[0])
        rows += _latency_rows(name, peers, 200 if quick else 2000, seed=7)
    rows += _batch_rows("o200k_base", 16 if quick else 64, 16_000 if quick else 50_000, seed=11)
    rows += _cold_rows(2 if quick else 7)
    for label, why in sorted(peer_notes.items()):
        rows.append({"component": COMPONENT, "case": "peer not usable: %s" % label, "baseline": label,
                     "unit": "n/a", "baseline_value": float("nan"), "value": float("nan"),
                     "ratio": float("nan"), "higher_is_better": True, "params": {"reason": why}})
    return rows


def _print(rows: List[dict]) -> None:
    print("%-48s %-22s %12s %12s %8s" % ("case", "baseline", "baseline", "ours", "ratio"))
    for r in rows:
        print("%-48s %-22s %12.2f %12.2f %7.2fx" % (r["case"][:48], r["baseline"][:22], r["baseline_value"],
                                                    r["value"], r["ratio"]))


if __name__ == "__main__":
    from ..bench.component_args import parse

    _print(run(quick=parse("fast_litellm.tokenizer.bench", __doc__, sys.argv[1:]).quick))
