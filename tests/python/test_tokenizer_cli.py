"""`fast-litellm count` (the tokenizer's CLI hook)."""
from __future__ import annotations

import argparse
import json
import os

import pytest

from fast_litellm.tokenizer import cli


@pytest.fixture
def files(tmp_path, tiktoken_data_dir):
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text("hello world\n", encoding="utf-8")
    b.write_text("def f(x):\n    return x  # <|endoftext|> 😀\n", encoding="utf-8")
    return a, b


def test_count_table_and_json(files, capsys):
    tiktoken = pytest.importorskip("tiktoken")
    a, b = files
    ref = tiktoken.get_encoding("o200k_base")
    expected = [len(ref.encode(p.read_text(), disallowed_special=())) for p in (a, b)]
    assert cli.main(["count", "--model", "gpt-4o", str(a), str(b)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [int(line.split()[0]) for line in lines] == expected + [sum(expected)]
    assert lines[-1].endswith("total")
    assert cli.main(["count", "--encoding", "o200k_base", "--json", str(a), str(b)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["encoding"] == "o200k_base"
    assert [f["tokens"] for f in out["files"]] == expected
    assert out["total"] == sum(expected)


def test_count_errors(files, capsys):
    a, _ = files
    assert cli.main(["count", str(a), str(a) + ".missing"]) == 1
    assert "missing" in capsys.readouterr().err
    assert cli.main(["count", "--model", "no-such-model", str(a)]) == 2
    assert "no-such-model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["count", "--model", "gpt-4o", "--encoding", "cl100k_base"])


def test_count_bad_arguments(files, tmp_path, capsys):
    a, _ = files
    for threads in ("0", "-1", "65", "99999999999999999999", "x"):
        with pytest.raises(SystemExit) as exit_:  # argparse's error, not a traceback
            cli.main(["count", "--threads", threads, str(a)])
        assert exit_.value.code == 2
        assert "--threads" in capsys.readouterr().err
    for flag in ("--encoding", "--model"):  # an empty name is unknown, not the default
        assert cli.main(["count", flag, "", str(a)]) == 2
        capsys.readouterr()
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\xff\xfe\x80ok\xc3")  # bytes as read, not after U+FFFD replacement
    assert cli.main(["count", "--json", str(blob)]) == 0
    assert json.loads(capsys.readouterr().out)["files"][0]["bytes"] == 6


def test_add_count_command_hook():
    parser = argparse.ArgumentParser(prog="fast-litellm")
    sub = parser.add_subparsers(dest="command")
    cli.add_count_command(sub)
    args = parser.parse_args(["count", "-", "--json"])
    assert args.func is cli.run_count and args.files == ["-"] and args.json


def test_count_reports_files_in_argument_order(files, tmp_path, capsys):
    """Like wc: one line per argument, in order, a repeated path twice and an
    unreadable one where it was given (the rows used to be sorted by each
    path's last position, moving a repeated path after the others)."""
    a, b = files
    missing = str(tmp_path / "missing.txt")
    assert cli.main(["count", "--json", str(a), str(b), missing, str(a)]) == 1
    out = json.loads(capsys.readouterr().out)
    assert [f["file"] for f in out["files"]] == [str(a), str(b), missing, str(a)]
    assert out["files"][0]["tokens"] == out["files"][3]["tokens"]
    assert out["files"][2]["tokens"] is None and out["files"][2]["error"]
    assert out["total"] == sum(f["tokens"] for f in out["files"] if f["tokens"] is not None)
    assert cli.main(["count", str(a), str(b), str(a)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == [str(a), str(b), str(a), "total"]


def test_count_with_stdin_closed_is_an_error_not_a_traceback(files, monkeypatch, capsys):
    a, _ = files  # `fast-litellm count <&-`: Python sets sys.stdin to None
    monkeypatch.setattr("sys.stdin", None)
    assert cli.main(["count", "-", str(a)]) == 1
    captured = capsys.readouterr()
    assert "-: standard input is closed" in captured.err
    assert captured.out.split()[-1] == "total"


def test_count_names_a_bad_thread_count(files, capsys):
    a, _ = files
    with pytest.raises(SystemExit):
        cli.main(["count", "--threads", "many", str(a)])
    assert "must be an integer between 1 and" in capsys.readouterr().err


def test_count_without_a_vocabulary_is_a_failure_not_a_usage_error(files, monkeypatch, capsys):
    """Offline without LiteLLM's bundled files, a known encoding has no
    vocabulary: exit 1 with the places looked at (2 is for a bad name)."""
    import fast_litellm.tokenizer as tokenizer

    def offline(name):
        raise tokenizer.VocabularyError("no usable vocabulary for encoding %r; looked at: ..." % name)

    monkeypatch.setattr(tokenizer, "get_encoding", offline)
    a, _ = files
    assert cli.main(["count", "-e", "r50k_base", str(a)]) == 1
    assert "no usable vocabulary for encoding 'r50k_base'" in capsys.readouterr().err


def test_count_shows_a_name_that_is_not_utf8(tmp_path, tiktoken_data_dir):
    """A file name with bytes that are not UTF-8 (lone surrogates in Python)
    crashed the table and the JSON under a strict UTF-8 stdout (the usual
    en_US.UTF-8 desktop); it is shown with U+FFFD."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    name = os.path.join(os.fsencode(str(tmp_path)), b"\xffbad.txt")
    with open(name, "wb") as f:
        f.write(b"hello world")
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = dict(os.environ, PYTHONIOENCODING="utf-8",
               PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for extra in ([], ["--json"]):
        proc = subprocess.run([sys.executable.encode(), b"-m", b"fast_litellm", b"count"]
                              + [e.encode() for e in extra] + [name],
                              capture_output=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout.decode("utf-8")
        assert "\ufffdbad.txt" in out
        if extra:
            assert json.loads(out)["files"][0]["tokens"] == 2


def test_safe_cut_places():
    assert cli.safe_cut(b"x\nA") == 2
    assert cli.safe_cut(b"x.\nAb\nc") == 6 and cli.safe_cut(b"x.\nAb \nc") == 3  # the last one
    assert cli.safe_cut(b"a  \nB") == 0             # spaces before the newline
    assert cli.safe_cut(b"a\n\nB") == 0             # a run of newlines
    assert cli.safe_cut(b"a\n1") == 0 and cli.safe_cut(b"a\n\xc3\xa9") == 0
    assert cli.safe_cut(b"\nA") == 0 and cli.safe_cut(b"a\n") == 0
    assert cli.safe_cut(b"\xe4\nA") == 0            # not a printable ASCII byte before


_PARTS = ["\n", "\n", "\n", " ", "  ", "\t", "\r\n", "\r", "x", "A", "word", "Word", "'s", "'LL",
          "12345", ".", "!?", "(", "_", "é", "жук", "中文", "\u00a0", "\u3000", "\x85", "😀"]


@pytest.mark.parametrize("encoding", ["r50k_base", "p50k_base", "cl100k_base", "o200k_base"])
def test_files_counted_in_pieces_count_as_whole(encoding, tmp_path, tiktoken_data_dir, monkeypatch,
                                                capsys):
    """A file larger than CHUNK_BYTES is counted piece by piece (bounded
    memory); the sum is the whole text's count, for every encoding, on text
    dense in newlines, spaces, letters, contractions and bytes that are not
    UTF-8."""
    import random

    from fast_litellm.tokenizer import get_encoding

    enc = get_encoding(encoding)
    rng = random.Random(encoding)
    paths, expected = [], []
    for k in range(60):
        parts = [rng.choice(_PARTS) for _ in range(rng.randrange(1, 400))]
        data = "".join(parts).encode("utf-8")
        if k % 3 == 0:  # bytes that are not UTF-8, one cut off mid-character
            pos = rng.randrange(len(data) + 1)
            data = data[:pos] + rng.choice([b"\xff", b"\xe4\xb8", b"\xc3"]) + data[pos:]
        path = tmp_path / ("f%d" % k)
        path.write_bytes(data)
        paths.append(str(path))
        expected.append(enc.count(data.decode("utf-8", "replace"), disallowed_special=()))
    for chunk in (3, 7, 64):
        monkeypatch.setattr(cli, "CHUNK_BYTES", chunk)
        assert cli.main(["count", "--encoding", encoding, "--json"] + paths) == 0
        out = json.loads(capsys.readouterr().out)
        assert [f["tokens"] for f in out["files"]] == expected, chunk
        assert [f["bytes"] for f in out["files"]] == [os.path.getsize(p) for p in paths]


def test_a_large_file_is_counted_exactly_against_tiktoken(tmp_path, tiktoken_data_dir, monkeypatch,
                                                          capsys):
    tiktoken = pytest.importorskip("tiktoken")
    text = ("Some prose, with 'quotes' and numbers 1234.\nNext line  \n\tindented()\n"
            "x\nY\u3000z\n" * 3000)
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(cli, "CHUNK_BYTES", 4096)
    assert cli.main(["count", "--model", "gpt-4o", "--json", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    ref = tiktoken.get_encoding("o200k_base")
    assert out["files"][0]["tokens"] == len(ref.encode(text, disallowed_special=()))
