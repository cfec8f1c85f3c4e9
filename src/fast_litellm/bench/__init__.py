"""`fast-litellm bench`: every component benchmark, peers, and the LiteLLM proxy end to end.

suite        -- discovers fast_litellm.<component>.bench modules and runs them
peers        -- fast-litellm 0.1.10 (own venv), tiktoken, stock LiteLLM on one workload
peer_driver  -- the standard-library-only timing script the peers run
proxy        -- the real LiteLLM proxy under load, stock vs fast_litellm preloaded
report       -- the table (rich or plain), JSON, PNG chart
markdown     -- a Markdown report (BENCHMARKS.md, README)
environment  -- versions and machine facts
cli          -- the `bench` subcommand; `main(argv)` runs it standalone

Call ``main(["--quick"])`` to run what `fast-litellm bench --quick` runs.
"""
from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> int:
    from .cli import main as _main

    return _main(argv)
