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
    # routing (fast_litellm/routing/patches.py)
    "litellm.router_strategy.lowest_latency:LowestLatencyLoggingHandler._get_available_deployments":
        "ebbe87a871db655ace8c128f8ed4a73dd0101807ed749baf1ed1af65a62e17b2",
    "litellm.router_strategy.lowest_latency:LowestLatencyLoggingHandler.async_get_available_deployments":
        "aaf3fc04069a672aba0b1fab3d0a059f22e73dfe79e92231a2d486bde64795de",
    "litellm.router_strategy.lowest_latency:LowestLatencyLoggingHandler.get_available_deployments":
        "cb90f63d7a66eb31a897b62bac14ab46db463668e3d2cad2863729d7a3e3445f",
    "litellm.router_strategy.lowest_cost:LowestCostLoggingHandler.async_get_available_deployments":
        "ac03bdde271e2089d0fbf0ea2d42238a1ff02b9abd5d695b4cc6baef6dfa37d2",
    "litellm.router_rust.core:RustCore._strategy_inputs":
        "7fe1eea242c0d11293ce02a38de23cd1c49d70542cade77fe08778db4188ed79",
    "litellm.router_rust.routing_stores:_cooldown_ids":
        "56e7c25c7a8a8d345d6ed4bef728eaef9ed86bcc015993e394049dfbaad51518",
}
