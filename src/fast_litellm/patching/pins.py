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
    # token_counter (fast_litellm/token_counter/patches.py); the helpers it
    # reproduces are pinned in fast_litellm/token_counter/_pins.py
    "litellm.litellm_core_utils.token_counter:token_counter":
        "3d5cb5f0243edcffeddc8a3e2ca4e2bda8b5047cb1f7d228eb923e7d8443ad80",
    "litellm.utils:token_counter":
        "1fe11ad74a98f0943134c7ed7f326fb86d02f1bd27b2b4689f8b4e5ab77e19e3",
}
