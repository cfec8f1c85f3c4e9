"""`fast-litellm count`: token counts per file and total, like wc.

    fast-litellm count [FILES...|-] [--encoding E | --model M] [--json]

The main CLI wires it in with add_count_command(subparsers).  Files are read
as UTF-8 (undecodable bytes replaced); special-token text counts as plain
text.  Small files are read whole and counted together on threads in C.  A
file larger than CHUNK_BYTES is counted in pieces of about that size, so
memory stays bounded: a piece ends only where every encoding's pattern
starts a new piece whatever follows (see safe_cut), so the sum is the
whole file's count.  An input that is not a regular file (a pipe, a device
such as /dev/zero) is read up to STREAM_MAX_BYTES (1 GiB) by default, checked
while reading: past it the row is an error, so an endless input neither hangs
nor fills memory; ``--max-bytes N`` sets the cap for every input (0: none).  On large inputs (8 MB or more) with a terminal on
stderr, a tqdm progress bar advances by bytes when tqdm is installed.
"""
from __future__ import annotations

import argparse
import errno
import json
import os
import stat
import sys
from typing import List, Optional, Tuple

PROGRESS_MIN_BYTES = 8 << 20
CHUNK_BYTES = 8 << 20  # files larger than this are counted piece by piece
STREAM_MAX_BYTES = 1 << 30  # the default cap of an input that is not a regular file


class _TooLarge(Exception):
    """An input went past its byte cap (--max-bytes)."""
_LETTERS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def safe_cut(data: bytes, start: int = 0) -> int:
    r"""The last position p > start in data where counting may restart: data[p-2]
    is a printable non-space ASCII character, data[p-1] is '\n' and data[p] an
    ASCII letter; 0 if there is none.

    No piece of any tiktoken pattern holds a newline followed by a letter (the
    letter alternatives exclude \r\n from their one-character prefix, the
    others hold no letters), so pieces never cross p.  The whitespace run
    ending at p is the newline alone, so the piece before p is the same
    whether the text goes on or ends there (`\s+(?!\S)` would otherwise
    join spaces before a final newline into one piece), and no long
    whitespace run (tiktoken's regex-stack error) ends at p.  The UTF-8
    decoder restarts at an ASCII byte, so decoding the parts gives the
    whole's text."""
    i = data.rfind(b"\n", start + 1, len(data) - 1)
    while i > start:
        if data[i + 1] in _LETTERS and 0x21 <= data[i - 1] <= 0x7E:
            return i + 1
        i = data.rfind(b"\n", start + 1, i)
    return 0


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
    p.add_argument("--max-bytes", type=_byte_cap, default=None, metavar="N",
                   help="refuse an input past N bytes, checked while reading (0: no cap); default: no cap "
                        "for regular files, %d (1 GiB) for anything else (stdin, pipes, devices such as "
                        "/dev/zero, which would otherwise be read forever)" % STREAM_MAX_BYTES)
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


def _byte_cap(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError("must be a non-negative integer, got %r" % (value,))
    return n


def _cap_for(path: str, max_bytes: Optional[int]) -> Optional[int]:
    """The byte cap of one input: --max-bytes (0: none), else none for a
    regular file and STREAM_MAX_BYTES for anything else."""
    if max_bytes is not None:
        return max_bytes or None
    try:
        st = os.stat(path) if path != "-" else os.fstat(sys.stdin.fileno())
    except (OSError, ValueError, AttributeError):
        return STREAM_MAX_BYTES
    return None if stat.S_ISREG(st.st_mode) else STREAM_MAX_BYTES


def _open(path: str):
    """A binary stream for path ('-' is stdin), and whether to close it."""
    if path == "-":
        if sys.stdin is None:  # started with stdin closed (`<&-`)
            raise OSError(errno.EBADF, "standard input is closed")
        return sys.stdin.buffer, False
    return open(path, "rb"), True


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _count_stream(stream, first: bytes, count_texts, chunk: int, advance,
                  cap: Optional[int] = None) -> Tuple[int, int]:
    """(tokens, bytes) of a stream whose first block was `first`, counted in
    pieces that end at safe_cut positions, a few pieces per batch; _TooLarge
    past `cap` bytes (checked at each block: memory and time stay bounded)."""
    tokens = size = 0
    pending: List[bytes] = []  # bytes read and not yet counted, in order
    batch: List[bytes] = []
    block = first
    tail = b""  # the last two bytes before block: a cut may use them
    while block:
        size += len(block)
        if cap is not None and size > cap:
            raise _TooLarge(cap)
        cut: Optional[int] = safe_cut(block) or None
        if cut is None:  # a place astride the previous block's end (no copy of block)
            astride = safe_cut(tail + block[:2])
            cut = astride - len(tail) if astride else None  # 0: at block's start
        tail = (tail + block)[-2:] if len(block) < 2 else block[-2:]
        if cut is not None:
            pending.append(block[:cut])
            batch.append(b"".join(pending))
            pending = [block[cut:]]
        else:
            pending.append(block)
        if len(batch) >= 4:
            tokens += sum(count_texts([_text(b) for b in batch]))
            advance(sum(map(len, batch)))
            batch = []
        block = stream.read(chunk)
    batch.append(b"".join(pending))
    tokens += sum(count_texts([_text(b) for b in batch]))
    advance(sum(map(len, batch)))
    return tokens, size


def _shown(path: str) -> str:
    """The path as text any UTF-8 output takes: a name with bytes that are
    not UTF-8 arrives with lone surrogates, which a strict stdout (and
    JSON) refuses; they become U+FFFD."""
    return os.fsencode(path).decode(sys.getfilesystemencoding(), "replace")


def _known_size(path: str) -> int:
    try:
        st = os.stat(path) if path != "-" else os.fstat(sys.stdin.fileno())
    except (OSError, ValueError, AttributeError):
        return 0
    return st.st_size if stat.S_ISREG(st.st_mode) else 0


def _progress(total_bytes: int):
    if total_bytes < PROGRESS_MIN_BYTES or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total_bytes, unit="B", unit_scale=True, file=sys.stderr, desc="counting")


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
    small: List[Tuple[int, str, int]] = []  # (row index, text, size), counted together
    bar = _progress(sum(_known_size(p) for p in paths))

    def advance(n: int) -> None:
        if bar is not None:
            bar.update(n)

    def count_texts(texts: List[str]) -> List[int]:
        return enc.count_batch(texts, num_threads=args.threads, disallowed_special=())

    def flush_small() -> None:
        if small:
            for (row, _, size), c in zip(small, count_texts([t for _, t, _ in small])):
                rows[row] = (rows[row][0], c, size, None)
                advance(size)
            del small[:]

    status = 0
    for path in paths:
        rows.append((path, None, 0, None))
        try:
            cap = _cap_for(path, args.max_bytes)
            stream, owned = _open(path)
            try:
                first = stream.read(CHUNK_BYTES + 1 if cap is None else min(CHUNK_BYTES, cap) + 1)
                if cap is not None and len(first) > cap:
                    raise _TooLarge(cap)
                if len(first) <= CHUNK_BYTES:  # the whole file
                    small.append((len(rows) - 1, _text(first), len(first)))
                    if sum(size for _, _, size in small) > 4 * CHUNK_BYTES:
                        flush_small()
                    continue
                count, size = _count_stream(stream, first, count_texts, CHUNK_BYTES, advance, cap)
            finally:
                if owned:
                    stream.close()
        except OSError as exc:
            rows[-1] = (path, None, 0, exc.strerror or str(exc))
            status = 1
        except _TooLarge as exc:
            rows[-1] = (path, None, 0, "larger than %d bytes (--max-bytes; not a regular file? "
                                       "--max-bytes 0 reads without a cap)" % exc.args[0])
            status = 1
        else:
            rows[-1] = (path, count, size, None)
    flush_small()
    if bar is not None:
        bar.close()
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
