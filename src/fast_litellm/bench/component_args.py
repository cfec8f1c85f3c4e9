"""Command-line arguments of the per-component benchmarks
(``python -m fast_litellm.<component>.bench``).

Every component bench takes ``--quick``; some add options of their own
(``extra``).  ``--help`` prints the bench's own description, and an unknown
or misspelt option is an error (exit status 2) instead of being ignored,
so ``--hepl`` or ``--strategy=x`` never starts a several-minute run that
measures something else than was asked.
"""
from __future__ import annotations

import argparse
from typing import Callable, Optional, Sequence


def parse(module: str, doc: Optional[str], argv: Optional[Sequence[str]],
          extra: Optional[Callable[[argparse.ArgumentParser], None]] = None) -> argparse.Namespace:
    """The parsed arguments of ``python -m <module>``; ``doc`` (the bench
    module's docstring) is its help text."""
    parser = argparse.ArgumentParser(
        prog="python -m %s" % module,
        description=(doc or "").strip() or None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true",
                        help="fewer cases and rounds: a smoke run of seconds, not figures to quote")
    if extra is not None:
        extra(parser)
    return parser.parse_args(argv)
