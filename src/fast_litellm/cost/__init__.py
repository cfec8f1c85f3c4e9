"""Exact fast LiteLLM cost calculation (feature flag ``native_cost_calculation``).

Three patches (``patches.py``), each exact and each falling back to the
stock function for inputs it does not cover:

* ``litellm.cost_calculator.completion_cost`` -- the common chat-completion
  case (OpenAI / Azure pricing, plain usage incl. cached / reasoning / audio
  token details) in one pass over the stock decisions (``_completion.py``);
* ``litellm.cost_calculator.cost_per_token`` -- token counts priced for an
  OpenAI / Azure model (``_completion.py``);
* ``litellm.litellm_core_utils.llm_cost_calc.utils._get_token_base_cost`` --
  the per-token rates of every ``generic_cost_per_token`` call, for every
  provider, with the above-threshold key scan remembered per key set
  (``_base_cost.py``).

Prices are read from ``litellm.model_cost`` (and LiteLLM's own cached
``get_model_info``) on every call, exactly where the stock code reads them.
Pure Python: the time went to redundant work, not to arithmetic.
"""
from __future__ import annotations

FLAG = "native_cost_calculation"

__all__ = ["FLAG"]
