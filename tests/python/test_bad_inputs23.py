"""Bad inputs left over from an earlier hunt (session 23): an endless input to
`fast-litellm count`, a FIFO as the config file, an arbitrary object as
is_enabled's request_id."""
from __future__ import annotations

import os
import sys
import uuid

import pytest

import fast_litellm
from fast_litellm import flags
from fast_litellm.tokenizer import cli

sys.path.insert(0, os.path.dirname(__file__))
from test_flags import run_py  # noqa: E402


class _Endless:
    """/dev/zero that fails the test once read far past the cap (instead of
    hanging: without the cap the count read on for ever, its pending bytes growing)."""

    def __init__(self, limit):
        self.limit = limit
        self.read_bytes = 0

    def read(self, n=-1):
        assert n is not None and n >= 0, "read to the end of an endless input"
        self.read_bytes += n
        assert self.read_bytes <= self.limit, "read %d bytes past the cap" % self.read_bytes
        return b"\0" * n

    def close(self):
        pass


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_count_of_an_endless_device_stops_at_the_cap(tiktoken_data_dir, monkeypatch, capsys):
    """Not a regular file: read up to STREAM_MAX_BYTES (checked per block), then an
    error row and status 1.  Without the cap: 'read ... past the cap' (it read on)."""
    monkeypatch.setattr(cli, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(cli, "STREAM_MAX_BYTES", 64 * 1024)
    stream = _Endless(64 * 1024 + 3 * 4096)
    monkeypatch.setattr(cli, "_open", lambda path: (stream, False))
    assert cli.main(["count", "/dev/zero"]) == 1
    err = capsys.readouterr().err
    assert "/dev/zero: larger than 65536 bytes" in err and "--max-bytes" in err


def test_count_max_bytes_caps_any_input_and_zero_lifts_it(tmp_path, tiktoken_data_dir, capsys):
    f = tmp_path / "a.txt"
    f.write_text("hello world\n" * 100, encoding="utf-8")
    assert cli.main(["count", "--max-bytes", "100", str(f)]) == 1
    assert "larger than 100 bytes" in capsys.readouterr().err
    assert cli.main(["count", str(f)]) == 0
    whole = capsys.readouterr().out
    assert cli.main(["count", "--max-bytes", "0", str(f)]) == 0
    assert capsys.readouterr().out == whole
    assert cli.main(["count", "--max-bytes", "1200", str(f)]) == 0  # exactly the size
    assert capsys.readouterr().out == whole
    with pytest.raises(SystemExit):
        cli.main(["count", "--max-bytes", "-1", str(f)])
    assert "non-negative" in capsys.readouterr().err


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_count_of_dev_zero_ends_by_itself(tiktoken_data_dir):
    """The real device, in a child: a 20 MB cap ends it (status 1, the message)."""
    import subprocess

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-m", "fast_litellm", "count", "--max-bytes", "20000000", "/dev/zero"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 1 and "larger than 20000000 bytes" in out.stderr, out.stderr[-2000:]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_a_fifo_as_the_config_file_does_not_block_the_import(tmp_path):
    """Opening a FIFO for reading waits for a writer: `import fast_litellm` hung
    (without the fix: subprocess.TimeoutExpired).  Refused as not a regular file."""
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    out = run_py("import fast_litellm as f; print(f.is_enabled('rust_routing'))",
                 FAST_LITELLM_FEATURE_CONFIG=str(fifo))
    assert out.stdout.strip() == "True"
    assert "FAST_LITELLM_FEATURE_CONFIG" in out.stderr and "not a regular file" in out.stderr


def test_a_directory_as_the_config_file_is_refused_with_a_warning(tmp_path):
    out = run_py("import fast_litellm as f; print(f.is_enabled('rust_routing'))",
                 FAST_LITELLM_FEATURE_CONFIG=str(tmp_path))
    assert out.stdout.strip() == "True" and "FAST_LITELLM_FEATURE_CONFIG" in out.stderr


class _Loud:
    def __init__(self):
        self.calls = 0

    def __str__(self):
        self.calls += 1
        raise RuntimeError("user code ran")

    __repr__ = __format__ = __str__


class _Str(str):
    def __str__(self):
        raise RuntimeError("user code ran")

    def encode(self, *a, **k):
        raise RuntimeError("user code ran")


@pytest.fixture
def rollout():
    flags.set_feature("rust_routing", "canary:30")
    yield
    flags.reload_config()


@pytest.mark.parametrize("state", ["rollout", "on"])
def test_is_enabled_refuses_a_request_id_of_another_type(state, request):
    """request_id is str (the API reference), int or uuid.UUID: any other object is a
    TypeError naming the argument, whatever the flag's state, and none of its
    methods runs.  Without the fix: str(obj) ran the caller's __str__ (here: raised
    RuntimeError) in a rollout, and nothing was checked while the flag was on."""
    if state == "rollout":
        request.getfixturevalue("rollout")
    loud = _Loud()
    for bad in (loud, 1.5, b"req-1", True, ["req"]):
        with pytest.raises(TypeError, match="request_id"):
            fast_litellm.is_enabled("rust_routing", bad)
    assert loud.calls == 0


def test_is_enabled_request_id_str_int_and_uuid_hash_as_their_text(rollout):
    ids = ["req-%d" % i for i in range(300)]
    assert [fast_litellm.is_enabled("rust_routing", _Str(i)) for i in ids] == [
        fast_litellm.is_enabled("rust_routing", i) for i in ids]
    assert [fast_litellm.is_enabled("rust_routing", n) for n in range(300)] == [
        fast_litellm.is_enabled("rust_routing", str(n)) for n in range(300)]
    u = [uuid.UUID(int=n * 7919) for n in range(300)]
    assert [fast_litellm.is_enabled("rust_routing", x) for x in u] == [
        fast_litellm.is_enabled("rust_routing", str(x)) for x in u]
    assert fast_litellm.is_enabled("no-such-feature", "req") is False
