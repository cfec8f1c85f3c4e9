"""The LiteLLM release fast_litellm is verified against, in one place.

Every patched LiteLLM function is listed with the SHA-256 of its source
(``inspect.getsource``, UTF-8) in that release.  The patch engine refuses a
patch when the installed LiteLLM version is not in ``LITELLM_VERSIONS`` or
the function's source hash differs: LiteLLM changed, so our proof of
exactness no longer holds for it.

Regenerate the hashes with ``python tools/pin_hashes.py`` after verifying a
new LiteLLM release with the differential tests.

LiteLLM 1.82.7 and 1.82.8 were compromised on PyPI: never pin them.
"""
from typing import Dict, FrozenSet

LITELLM_PIN = "1.110.2"
LITELLM_VERSIONS: FrozenSet[str] = frozenset({LITELLM_PIN})
FORBIDDEN_VERSIONS: FrozenSet[str] = frozenset({"1.82.7", "1.82.8"})

TIKTOKEN_ORACLE = "0.14.0"

# target ("module:qualname") -> sha256 of the original's source
VERIFIED: Dict[str, str] = {
}
