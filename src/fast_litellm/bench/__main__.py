"""python -m fast_litellm.bench [options]: the same as `fast-litellm bench`."""
import sys

from .cli import main

sys.exit(main())
