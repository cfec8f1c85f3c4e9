"""Benchmark: stock LiteLLM ``completion_cost`` / ``cost_per_token`` vs accelerated.

Both sides run in this process, interleaved round by round: a stock block
(the stock functions put back where LiteLLM looks them up, see ``_Stock``;
each case's value is first checked against fully unpatched LiteLLM), then an
accelerated block with the patches applied.  Each block prices a fresh list
of responses (token counts differ call to call, so no result could be
reused); LiteLLM's own caches (``get_model_info``) are warm on both sides, as
they are in a serving process.  The reported value is the best (minimum)
per-call time over rounds, the least disturbed run on a shared machine;
medians are in ``params``.  Ratio > 1 means the accelerated side is faster.

Cases: gpt-4o-mini with plain usage (the proxy's commonest call), the same
as a real ``litellm.completion`` response carries it (hidden params), Azure
gpt-4o, gpt-4o with cached and reasoning tokens, a model with
above-threshold prices, an Anthropic model and custom prices (both handed to
the stock function: they show what the hand-off costs), and
``cost_per_token`` for OpenAI and Azure.

    python -m fast_litellm.cost.bench [--quick]
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Tuple

from ..patching.registry import stock_behind

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

BASELINE = "litellm 1.110.2 stock"


def _response(model: str, prompt: int, completion: int, hidden: Dict[str, Any], **usage_extra: Any) -> Any:
    from litellm.types.utils import ModelResponse, Usage

    r = ModelResponse(model=model, usage=Usage(prompt_tokens=prompt, completion_tokens=completion,
                                               total_tokens=prompt + completion, **usage_extra))
    r._hidden_params = dict(hidden)
    return r


def _completion_case(model: str, hidden: Dict[str, Any], kwargs: Dict[str, Any], **usage: Any):
    def make(i: int) -> Tuple[Tuple[Any, ...], Dict[str, Any]]:
        return (), dict(kwargs, completion_response=_response(model, 50 + i % 997, 60 + i % 331, hidden, **usage))

    return make


def _proxy_case(model: str):
    """What the proxy's Logging.response_cost_calculator passes for a chat
    completion: a logging object (the cost breakdown is stored on it),
    optional params, tool params, call type and provider."""
    import datetime

    def make(i: int) -> Tuple[Tuple[Any, ...], Dict[str, Any]]:
        from litellm.litellm_core_utils.litellm_logging import Logging

        logging_obj = Logging(model=model, messages=[{"role": "user", "content": "hi"}], stream=False,
                              call_type="acompletion", start_time=datetime.datetime.now(),
                              litellm_call_id="call-%d" % i, function_id="fn")
        return (), dict(completion_response=_response(model, 50 + i % 997, 60 + i % 331, REAL_HIDDEN),
                        model=model, custom_llm_provider="openai", call_type="acompletion",
                        optional_params={"temperature": 0.2}, custom_pricing=False, prompt="",
                        standard_built_in_tools_params={"web_search_options": None, "file_search": None},
                        litellm_logging_obj=logging_obj)

    return make


def _cost_per_token_case(model: str, kwargs: Dict[str, Any]):
    def make(i: int) -> Tuple[Tuple[Any, ...], Dict[str, Any]]:
        return (), dict(kwargs, model=model, prompt_tokens=50 + i % 997, completion_tokens=60 + i % 331)

    return make


REAL_HIDDEN = {"custom_llm_provider": "openai", "region_name": None, "model_id": None,
               "api_base": "https://api.openai.com", "litellm_call_id": "x"}

CASES: List[Tuple[str, str, Callable[[int], Any], bool]] = [
    # (case, function, inputs, covered by the fast path)
    ("completion_cost gpt-4o-mini", "completion_cost", _completion_case("gpt-4o-mini", {}, {}), True),
    ("completion_cost gpt-4o-mini, completion() hidden params", "completion_cost",
     _completion_case("gpt-4o-mini", REAL_HIDDEN, {}), True),
    ("completion_cost gpt-4o-mini, proxy call (logging object)", "completion_cost", _proxy_case("gpt-4o-mini"),
     True),
    ("completion_cost azure/gpt-4o", "completion_cost",
     _completion_case("gpt-4o", {"custom_llm_provider": "azure"}, {"custom_llm_provider": "azure"}), True),
    ("completion_cost gpt-4o cached+reasoning tokens", "completion_cost",
     _completion_case("gpt-4o", {}, {}, prompt_tokens_details={"cached_tokens": 32},
                      completion_tokens_details={"reasoning_tokens": 20}), True),
    ("completion_cost gpt-4.1 (threshold prices)", "completion_cost", _completion_case("gpt-4.1", {}, {}), True),
    ("completion_cost claude-sonnet-4-5 (handed off)", "completion_cost",
     _completion_case("claude-sonnet-4-5", {"custom_llm_provider": "anthropic"}, {"custom_llm_provider": "anthropic"}),
     False),
    ("completion_cost custom prices (handed off)", "completion_cost",
     _completion_case("gpt-4o-mini", {}, {"custom_cost_per_token": {"input_cost_per_token": 1e-6,
                                                                    "output_cost_per_token": 2e-6}}), False),
    ("cost_per_token gpt-4o-mini", "cost_per_token", _cost_per_token_case("gpt-4o-mini", {}), True),
    ("cost_per_token azure gpt-4o", "cost_per_token",
     _cost_per_token_case("gpt-4o", {"custom_llm_provider": "azure"}), True),
]


def _block(fn: Callable[..., Any], inputs: List[Tuple[Tuple[Any, ...], Dict[str, Any]]]) -> float:
    """Mean microseconds per call over ``inputs``."""
    start = time.perf_counter()
    for args, kwargs in inputs:
        fn(*args, **kwargs)
    return (time.perf_counter() - start) / len(inputs) * 1e6


class _Stock:
    """Stock LiteLLM for the cost functions: the three patched names are put
    back on their owner modules, which is where the stock code looks them
    up (``completion_cost`` calls ``cost_per_token`` through its module,
    ``generic_cost_per_token`` calls ``_get_token_base_cost`` through its
    own).  Cheaper than removing every patch of every component per round;
    the result is checked against ``engine.unpatched()`` once per case."""

    def __init__(self, owners: List[Tuple[Any, str]]):
        self.owners = owners
        self.saved: List[Any] = []

    def __enter__(self) -> "_Stock":
        self.saved = [getattr(owner, name) for owner, name in self.owners]
        for (owner, name), fn in zip(self.owners, self.saved):
            setattr(owner, name, stock_behind(fn))  # (our layers only: registry.stock_behind)
        return self

    def __exit__(self, *exc: Any) -> None:
        for (owner, name), fn in zip(self.owners, self.saved):
            setattr(owner, name, fn)


def run(quick: bool = False) -> List[Dict[str, Any]]:
    import gc

    import litellm
    import litellm.cost_calculator as cc
    from litellm.litellm_core_utils.llm_cost_calc import utils as cost_utils

    from ..patching import engine

    calls = 40 if quick else 200
    rounds = 4 if quick else 25
    was_applied = engine._wanted
    rows: List[Dict[str, Any]] = []
    owners = [(cc, "completion_cost"), (cc, "cost_per_token"), (cost_utils, "_get_token_base_cost")]
    try:
        # the stock value of each case's first input, on fully unpatched LiteLLM
        with engine.unpatched():
            expected = {}
            for case, fn_name, make, _ in CASES:
                args, kwargs = make(0)
                expected[case] = repr(getattr(cc, fn_name)(*args, **kwargs))
        engine.apply_acceleration()
        for case, fn_name, make, covered in CASES:
            fast_fn = getattr(cc, fn_name)
            assert getattr(fast_fn, "__fast_litellm_fast__", None) is not None, engine.get_patch_status()["patches"]
            args, kwargs = make(0)
            assert repr(fast_fn(*args, **kwargs)) == expected[case], case
            with _Stock(owners):
                args, kwargs = make(0)
                assert repr(getattr(cc, fn_name)(*args, **kwargs)) == expected[case], case
            stock_runs: List[float] = []
            fast_runs: List[float] = []
            gc.collect()  # once per case: a full collection costs ~0.5 s with LiteLLM loaded
            for r in range(rounds + 1):  # round 0 warms both sides
                stock_inputs = [make(r * calls + i) for i in range(calls)]
                fast_inputs = [make(r * calls + i) for i in range(calls)]
                gc.disable()  # no collector pause inside either timed block
                try:
                    with _Stock(owners):
                        stock_time = _block(getattr(cc, fn_name), stock_inputs)
                    fast_time = _block(fast_fn, fast_inputs)
                finally:
                    gc.enable()
                if r:
                    stock_runs.append(stock_time)
                    fast_runs.append(fast_time)
            stock_best, fast_best = min(stock_runs), min(fast_runs)
            # the machine's load drifts between rounds: each round's pair ran
            # back to back, so the median of per-round ratios is the robust one
            paired = statistics.median(st / ft for st, ft in zip(stock_runs, fast_runs) if ft > 0)
            rows.append({
                "component": "cost",
                "case": case,
                "baseline": BASELINE,
                "unit": "us/call",
                "baseline_value": round(stock_best, 2),
                "value": round(fast_best, 2),
                "ratio": round(paired, 2),
                "higher_is_better": False,
                "params": {
                    "calls_per_round": calls,
                    "rounds": rounds,
                    "fast_path": covered,
                    "ratio_of_best": round(stock_best / fast_best, 2) if fast_best > 0 else None,
                    "baseline_median": round(statistics.median(stock_runs), 2),
                    "median": round(statistics.median(fast_runs), 2),
                    "litellm": getattr(litellm, "__version__", None) or "1.110.2",
                },
            })
    finally:
        if not was_applied:
            engine.remove_acceleration()
    return rows


def main(argv: List[str]) -> int:
    from ..bench.component_args import parse

    rows = run(quick=parse("fast_litellm.cost.bench", __doc__, argv).quick)
    print("%-58s %10s %10s %8s" % ("case (best of rounds, us/call; median paired ratio)", "stock", "fast", "ratio"))
    for r in rows:
        print("%-58s %10.1f %10.1f %7.2fx%s" % (r["case"], r["baseline_value"], r["value"], r["ratio"],
                                               "" if r["params"]["fast_path"] else "   (handed off)"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
