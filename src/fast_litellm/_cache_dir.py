"""Where fast_litellm keeps files it can rebuild (prebuilt vocabularies,
source digests): ``$FAST_LITELLM_CACHE_DIR``, else
``$XDG_CACHE_HOME/fast-litellm`` or ``~/.cache/fast-litellm``.  An empty
``FAST_LITELLM_CACHE_DIR`` turns the cache off (None)."""
from __future__ import annotations

import os
from typing import Optional


def cache_dir() -> Optional[str]:
    d = os.environ.get("FAST_LITELLM_CACHE_DIR")
    if d is not None:
        return d or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "fast-litellm")
