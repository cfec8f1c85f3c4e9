"""`fast-litellm count`: token counts per file and total, like wc.

    fast-litellm count [FILES...|-] [--encoding E | --model M] [--json]

The main CLI wires it in with add_count_command(subparsers).  Files are read
as UTF-8 (undecodable bytes replaced); special-token text counts as plain
text.  Each file is counted whole (so the count is exact); many files are
counted on threads in C.  On large inputs (8 MB or more) with a terminal
on stderr, a tqdm progress bar advances per file when tqdm is installed.
"""
from __future__ import annotations

import argparse
import errno
import json
import os
import sys
from typing import List, Optional, Tuple

PROGRESS_MIN_BYTES = 8 << 20


def add_count_command(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("count", help="count tokens of files (like wc)",
                              description="Count tokens of FILES (or stdin) exactly as tiktoken's "
                                          "len(encode(text, disallowed_special=())) would: files are read as "
                                          "UTF-8 (undecodable bytes replaced) and text like <|endoftext|> "
                                          "counts as ordinary text.")
    p.add_argument("files", nargs="*", metavar="FILE", help="files to count; '-' or none reads stdin")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--encoding", "-e", help="encoding name (default: cl100k_base)")
    which.add_argument("--model", "-m", help="model name, mapped to its encoding as tiktoken does")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--threads", type=_thread_count, default=None, help="threads for counting many files (1-64)")
    p.set_defaults(func=run_count)
    return p


def _thread_count(value: str) -> int:
    from ._encoding import MAX_THREADS

    try:
        n = int(value)
    except ValueError:
        n = None
    if n is None or not 1 <= n <= MAX_THREADS:
        raise argparse.ArgumentTypeError("must be an integer between 1 and %d, got %r"
                                         % (MAX_THREADS, value))
    return n


def _read(path: str) -> Tuple[str, str, int]:
    """(path, text, size in bytes as read: replacement characters change it)."""
    if path == "-":
        if sys.stdin is None:  # started with stdin closed (`<&-`)
            raise OSError(errno.EBADF, "standard input is closed")
        data = sys.stdin.buffer.read()
    else:
        with open(path, "rb") as f:
            data = f.read()
    return path, data.decode("utf-8", errors="replace"), len(data)


def _shown(path: str) -> str:
    """The path as text any UTF-8 output takes: a name with bytes that are
    not UTF-8 arrives with lone surrogates, which a strict stdout (and
    JSON) refuses; they become U+FFFD."""
    return os.fsencode(path).decode(sys.getfilesystemencoding(), "replace")


def _progress(total_bytes: int, n: int):
    if total_bytes < PROGRESS_MIN_BYTES or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=n, unit="file", file=sys.stderr, desc="counting")


def run_count(args) -> int:
    from . import VocabularyError, encoding_for_model, get_encoding

    try:
        if args.model is not None:
            enc = encoding_for_model(args.model)
        else:
            enc = get_encoding("cl100k_base" if args.encoding is None else args.encoding)
    except (KeyError, ValueError) as exc:
        print("fast-litellm count: %s" % (exc.args[0] if exc.args else exc), file=sys.stderr)
        # an unknown name is a usage error; a known encoding whose vocabulary
        # cannot be found (offline, no LiteLLM) is this machine's, as for a file
        return 1 if isinstance(exc, VocabularyError) else 2
    paths: List[str] = args.files or ["-"]
    # one row per argument, in argument order (a path may be given twice)
    rows: List[Tuple[str, Optional[int], int, Optional[str]]] = []
    texts: List[Tuple[int, str, int]] = []  # (row index, text, size)
    status = 0
    for path in paths:
        try:
            _, text, size = _read(path)
        except OSError as exc:
            rows.append((path, None, 0, exc.strerror or str(exc)))
            status = 1
        else:
            texts.append((len(rows), text, size))
            rows.append((path, None, size, None))
    total_bytes = sum(size for _, _, size in texts)
    bar = _progress(total_bytes, len(texts))
    if bar is None:
        counts = enc.count_batch([t for _, t, _ in texts], num_threads=args.threads,
                                 disallowed_special=()) if texts else []
    else:
        counts = []
        for _, t, _ in texts:
            counts.append(enc.count(t, disallowed_special=()))
            bar.update(1)
        bar.close()
    for (row, _, size), count in zip(texts, counts):
        rows[row] = (rows[row][0], count, size, None)
    total = sum(r[1] for r in rows if r[1] is not None)
    if args.json:
        out = {"encoding": enc.name,
               "files": [{"file": _shown(p), "tokens": c, "bytes": b, **({"error": e} if e else {})}
                         for p, c, b, e in rows],
               "total": total}
        print(json.dumps(out, ensure_ascii=False))
    else:
        width = max([len(str(total))] + [len(str(r[1])) for r in rows if r[1] is not None])
        for path, count, _, err in rows:
            if err:
                print("fast-litellm count: %s: %s" % (path, err), file=sys.stderr)
            else:
                print("%*d %s" % (width, count, _shown(path)))
        if len(rows) > 1:
            print("%*d total" % (width, total))
    return status


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="fast-litellm")
    add_count_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    from ..cli import run_handler

    return run_handler(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
