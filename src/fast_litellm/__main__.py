"""``python -m fast_litellm``: the same as the ``fast-litellm`` command."""
import sys

from .cli import main

sys.exit(main())
