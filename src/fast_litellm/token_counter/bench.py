"""Benchmark: stock vs accelerated ``litellm.token_counter``.

Cases (per model family): a short 3-message chat, a 20-turn conversation,
10 tools with tool calls, a 100 KB document passed as ``text``.  Both sides
run in this process on the same inputs, interleaved round by round, and
each side's figure is its best round (the machine is shared); each round uses fresh message texts (a per-round number is woven into them) so no
tokenizer-side cache sees a repeat.  Each round starts with gc.collect(),
which evicts the CPU caches; each side then makes one untimed call on an
input of its own before its timed run, so the figures are steady-state
per-call costs rather than the refill of each side's tables after a full
collection (that refill cost ~20 us on the first accelerated call and
~10 us per call averaged over a 60-call round before this warm-up).  The fast path's per-model plan cache is
*meant* to hit: real traffic repeats model names.

"accelerated" is ``litellm.token_counter`` after ``apply_acceleration()``
when the patch engine is available, else the fast function wrapped exactly
as the engine wraps it (fall back to the original on NotAccelerated).

Extra rows:
* ``python overhead`` -- the fast path with a zero-cost counter in place of
  the tokenizer: what remains per call in Python (the walk, plan lookups).
* ``litellm rust TokenCounter`` -- LiteLLM 1.110.2 ships a Rust request
  counter (``litellm.rust_bridge``) that the proxy's input-token spend
  tracking uses on raw JSON bodies; ``litellm.token_counter`` does not use it
  (its catalog route is PYTHON_ONLY).  Measured for reference where it
  agrees with ``token_counter``; and its Rust tiktoken codec
  (``Tokenizer.count``, also not used by ``token_counter``) as the counting
  function of the 100 KB text case.
* ``memory`` -- how much a fresh process's peak RSS grows on its first
  ``token_counter`` call for each model in ``MEMORY_MODELS`` (after
  ``import litellm``, and ``import fast_litellm`` on our side), each in a
  child process of its own.  Stock LiteLLM builds tiktoken's encoding
  there; ours maps the prebuilt vocabulary file read-only.  Ours is the
  second of two children, so the prebuilt file the first may write is in
  place, as in every process after the first on a machine.

Run: ``python -m fast_litellm.token_counter.bench [--quick]``.
"""
from __future__ import annotations

import gc
import os
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..patching.registry import stock_behind

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

# CPU time of this thread, not wall time: the machine is shared (2 cores,
# several busy processes), and wall time counts whole scheduler slices
# given to other processes in whichever side happened to be running.  Both
# sides run on this thread (the tokenizer releases the GIL but counts on
# the calling thread), so its CPU time is each call's cost.
# (The rows against LiteLLM's Rust code use wall time: its runtime works on
# threads of its own.)
_clock = time.thread_time
CLOCK = "thread CPU time (time.thread_time)"

FAMILIES = [
    ("openai o200k", "gpt-4o"),
    ("openai cl100k", "gpt-3.5-turbo"),
    ("azure", "azure/gpt-4o"),
    ("openai prefixed", "openai/gpt-4.1-mini"),
    ("unknown model", "my-private-model"),
    ("anthropic (handed off)", "claude-sonnet-4-5"),
]

WORDS = (
    "the quick brown fox jumps over the lazy dog while a token counter measures every word "
    "of this sentence, including numbers like 1234 and punctuation!"
).split()


def _sentence(seed: int, n: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(n)) + " #%d" % seed


def short_chat(r: int) -> Dict[str, Any]:
    return {"messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is the capital of France? (%d)" % r},
        {"role": "assistant", "content": "Paris is the capital of France."},
    ]}


def long_chat(r: int) -> Dict[str, Any]:
    msgs: List[Dict[str, Any]] = [{"role": "system", "content": "You are a helpful assistant. %d" % r}]
    for i in range(20):
        msgs.append({"role": "user", "content": _sentence(r + i, 25)})
        msgs.append({"role": "assistant", "content": _sentence(r + 2 * i + 1, 60)})
    return {"messages": msgs}


def _tool(i: int, r: int = 0) -> Dict[str, Any]:
    return {"type": "function", "function": {
        "name": "tool_%d" % i,
        "description": "Tool number %d: looks something up for the user (v%d)." % (i, r),
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string", "description": "What to look up"},
            "unit": {"type": "string", "enum": ["metric", "imperial"]},
            "limit": {"type": "integer"},
            "filters": {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}},
                                                          "strict": {"type": "boolean"}}},
        }, "required": ["query"]},
    }}


def tools_chat(r: int) -> Dict[str, Any]:
    calls = [{"id": "call_%d" % i, "type": "function",
              "function": {"name": "tool_%d" % i, "arguments": '{"query": "item %d-%d", "limit": 5}' % (r, i)}}
             for i in range(3)]
    return {
        "messages": [
            {"role": "system", "content": "You can call tools."},
            {"role": "user", "content": "Find me three things (%d)." % r},
            {"role": "assistant", "content": None, "tool_calls": calls},
        ] + [{"role": "tool", "tool_call_id": "call_%d" % i, "content": "result %d for %d" % (i, r)} for i in range(3)],
        "tools": [_tool(i, r) for i in range(10)],
        "tool_choice": "auto",
    }


def document(r: int) -> Dict[str, Any]:
    base = "\n\n".join(_sentence(r * 31 + i, 40) for i in range(400))
    text = (base * (1 + 100_000 // len(base)))[:100_000]
    return {"text": text}


CASES: List[Tuple[str, Callable[[int], Dict[str, Any]]]] = [
    ("3-message chat", short_chat),
    ("20-turn conversation", long_chat),
    ("10 tools + tool calls", tools_chat),
    ("100 KB document as text", document),
]


class _Sides:
    """Switches LiteLLM between stock and accelerated around each timed run
    (``litellm.utils.token_counter`` calls the core function through its
    module, so stock must run with every patch removed)."""

    def __init__(self, stock: Callable[..., int]) -> None:
        import litellm

        import fast_litellm

        self.fast_litellm = fast_litellm
        self.stock = stock
        self.was_patched = litellm.token_counter is not stock
        self.engine = False
        try:
            fast_litellm.apply_acceleration()
            self.engine = litellm.token_counter is not stock
        except (NotImplementedError, AttributeError):
            pass
        if self.engine:
            self.accelerated = litellm.token_counter
            self.how = "patch engine (apply_acceleration)"
        else:
            self.accelerated = _emulated(stock)
            self.how = "fast function + NotAccelerated fallback (engine not merged)"

    def stock_side(self) -> None:
        if self.engine:
            self.fast_litellm.remove_acceleration()

    def fast_side(self) -> None:
        if self.engine:
            self.fast_litellm.apply_acceleration()

    def restore(self) -> None:
        if self.engine and not self.was_patched:
            self.fast_litellm.remove_acceleration()
        elif self.engine:
            self.fast_litellm.apply_acceleration()


def _emulated(original: Callable[..., int], fast: Optional[Callable[..., int]] = None) -> Callable[..., int]:
    from ..patching.registry import NotAccelerated
    from . import make_fast_token_counter

    fast_fn = fast or make_fast_token_counter(original)

    def token_counter(*args: Any, **kwargs: Any) -> int:
        try:
            return fast_fn(*args, **kwargs)
        except NotAccelerated:
            return original(*args, **kwargs)

    return token_counter


def _time_calls(fn: Callable[..., int], model: str, inputs: List[Dict[str, Any]],
                warm: Optional[Dict[str, Any]] = None) -> float:
    if warm is not None:  # one untimed call on an input not in the timed run
        fn(model=model, **warm)
    start = _clock()
    for kwargs in inputs:
        fn(model=model, **kwargs)
    return (_clock() - start) / len(inputs)


def _rust_counter(model: str) -> Optional[Callable[[Dict[str, Any]], int]]:
    try:
        import asyncio
        import json

        from litellm.rust_bridge import token_counter as rtc
    except Exception:  # noqa: BLE001
        return None
    tokenizer = rtc.rust_tokenizer(model)
    factory = rtc.TOKEN_COUNTER.load()
    if tokenizer is None or factory is None:
        return None
    counter = rtc._counter(factory, tokenizer)
    loop = asyncio.new_event_loop()

    async def one(body: bytes) -> Any:
        return await counter.acount_request(body)

    def count(kwargs: Dict[str, Any]) -> int:
        body = json.dumps(dict(kwargs, model=model)).encode()
        return int(loop.run_until_complete(one(body))["input_tokens"])

    return count


def run(quick: bool = False) -> List[Dict[str, Any]]:
    import litellm
    from litellm.litellm_core_utils import token_counter as tc

    from .._native_loader import NATIVE
    from . import _core, _python, tokenizer_source

    # ``import fast_litellm`` may have patched LiteLLM already; the engine's
    # wrapper keeps the original (registry.stock_behind: our layers only).
    stock = stock_behind(litellm.token_counter)
    sides = _Sides(stock)
    accelerated, how = sides.accelerated, sides.how
    # the same fast path with a free counter: the Python that remains per call
    free_core = _python.TokenCounterCore(litellm, tc, litellm.utils, lambda name: len)
    overhead_fn = _emulated(stock_behind(tc.token_counter), _python.make_token_counter(free_core, NATIVE))
    rounds = 3 if quick else 7
    per_round = {"100 KB document as text": 1 if quick else 2}
    # quick: three families, plus the hand-off row (a Claude model goes to
    # the original: what the fast path's hand-off decision costs)
    families = FAMILIES[:3] + FAMILIES[-1:] if quick else FAMILIES
    results: List[Dict[str, Any]] = []
    try:
        for family, model in families:
            for case, make in CASES:
                if quick and case == "20-turn conversation" and family != "openai o200k":
                    continue
                if quick and family == FAMILIES[-1][0] and case != "3-message chat":
                    continue
                n = per_round.get(case, 20 if quick else 60)
                stock_t: List[float] = []
                fast_t: List[float] = []
                over_t: List[float] = []
                # warm both (plan caches, encodings) on an input not timed
                warm = make(10**6)
                sides.stock_side()
                expected = stock(model=model, **warm)
                sides.fast_side()
                assert expected == accelerated(model=model, **warm)
                for r in range(rounds):
                    inputs = [make(r * 1000 + i) for i in range(n)]
                    # gc.collect() walks the whole heap and evicts the CPU
                    # caches; each side's first call after it refills its own
                    # tables (tiktoken's or our vocabulary, LiteLLM's code
                    # and data) -- a one-off, not per-call cost.  So each
                    # side makes one untimed call on an input of its own
                    # (never in the timed run) before its timed run.
                    warm_input = make(10**7 + r)
                    gc.collect()
                    for side in ((1, 0) if r % 2 else (0, 1)):
                        if side == 0:
                            sides.stock_side()
                            stock_t.append(_time_calls(stock, model, inputs, warm_input))
                        else:
                            sides.fast_side()
                            fast_t.append(_time_calls(accelerated, model, inputs, warm_input))
                    sides.fast_side()
                    if "text" not in inputs[0] and not _core().plan_for(model).handoff:
                        over_t.append(_time_calls(overhead_fn, model, inputs, warm_input))
                s, f = min(stock_t), min(fast_t)
                params = {"model": model, "family": family, "calls_per_round": n, "rounds": rounds, "clock": CLOCK,
                          "accelerated_via": how,
                          "tokenizer": tokenizer_source(_core().plan_for(model).encoding_name)
                          if not _core().plan_for(model).handoff else "litellm (handed off)"}
                if over_t:
                    params["python_overhead_us"] = round(min(over_t) * 1e6, 2)
                results.append({
                    "component": "token_counter", "case": "%s [%s]" % (case, family),
                    "baseline": "litellm %s stock" % litellm_version(), "unit": "us/call",
                    "baseline_value": s * 1e6, "value": f * 1e6, "ratio": s / f,
                    "higher_is_better": False, "params": params,
                })
        if not quick:
            results.extend(_rust_rows(accelerated))
            results.extend(_rust_text_row(accelerated))
            results.extend(_memory_rows())
    finally:
        sides.restore()
    return results


# Models whose first count builds an encoding that ``import litellm`` has
# not built already (LiteLLM loads cl100k_base at import).
MEMORY_MODELS = [("openai o200k", "gpt-4o")]

# The child's code after the tokenizer bench's PEAK_RSS_KIB (a _peak_kib()
# reading the child's own VmHWM); the stock child never imports fast_litellm.
_MEMORY_CHILD = """
import json, sys
if sys.argv[1] == "fast":
    import fast_litellm  # noqa: F401  (applies the acceleration)
import litellm
def peak():
    return _peak_kib() / 1024.0
before = peak()
n = litellm.token_counter(model=sys.argv[2], messages=[{"role": "user", "content": "How many tokens?"}])
print(json.dumps({"before": before, "after": peak(), "count": n}))
"""


def _memory_growth(side: str, model: str) -> Optional[Dict[str, float]]:
    """The child's peak RSS (MiB) before and after its first count, or None."""
    import json
    import subprocess

    import fast_litellm

    from ..tokenizer.bench import PEAK_RSS_KIB

    env = dict(os.environ)  # the child imports this very fast_litellm
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(fast_litellm.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([package_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    try:
        out = subprocess.run([sys.executable, "-c", PEAK_RSS_KIB + _MEMORY_CHILD, side, model], capture_output=True,
                             text=True, timeout=300, env=env, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None


def _memory_rows() -> List[Dict[str, Any]]:
    rows = []
    for family, model in MEMORY_MODELS:
        stock = _memory_growth("stock", model)
        first = _memory_growth("fast", model)
        fast = _memory_growth("fast", model)
        if not (stock and first and fast) or stock["count"] != fast["count"]:
            continue
        grown = {k: max(v["after"] - v["before"], 0.1) for k, v in (("stock", stock), ("fast", fast))}
        rows.append({
            "component": "token_counter",
            "case": "memory: peak RSS growth of a process's first count [%s]" % family,
            "baseline": "litellm %s stock" % litellm_version(), "unit": "MiB",
            "baseline_value": grown["stock"], "value": grown["fast"], "ratio": grown["stock"] / grown["fast"],
            "higher_is_better": False,
            "params": {"model": model, "process": "fresh child per side; ours the second of two",
                       "first_fast_child_mib": round(first["after"] - first["before"], 1),
                       "stock_peak_mib": round(stock["after"], 1), "fast_peak_mib": round(fast["after"], 1)},
        })
    return rows


def _rust_rows(accelerated: Callable[..., int]) -> List[Dict[str, Any]]:
    rows = []
    for case, make in CASES[:3]:
        model = "gpt-4o"
        rust = _rust_counter(model)
        if rust is None:
            return rows
        probe = make(10**6)
        try:
            if rust(probe) != accelerated(model=model, **probe):
                continue  # counts differently: not an alternative
        except Exception:  # noqa: BLE001 - e.g. RustBridgeDeclined: it does not cover this shape
            continue
        rust_t, fast_t = [], []
        for r in range(5):
            inputs = [make(r * 1000 + i) for i in range(40)]
            start = time.perf_counter()
            for kwargs in inputs:
                rust(kwargs)
            rust_t.append((time.perf_counter() - start) / len(inputs))
            start = time.perf_counter()
            for kwargs in inputs:
                accelerated(model=model, **kwargs)
            fast_t.append((time.perf_counter() - start) / len(inputs))
        s, f = min(rust_t), min(fast_t)
        rows.append({
            "component": "token_counter", "case": "%s [gpt-4o] vs LiteLLM's Rust counter" % case,
            "baseline": "litellm %s rust_bridge TokenCounter.acount_request (JSON body, event loop)"
            % litellm_version(),
            "unit": "us/call", "baseline_value": s * 1e6, "value": f * 1e6, "ratio": s / f,
            "higher_is_better": False, "params": {"model": model, "clock": "wall time (time.perf_counter)"},
        })
    return rows


def _rust_text_row(accelerated: Callable[..., int]) -> List[Dict[str, Any]]:
    """LiteLLM's Rust tiktoken codec as the counting function of the text
    path (chunked exactly like token_counter) vs the accelerated call."""
    try:
        from litellm.litellm_core_utils import token_counter as tc
        from litellm.rust_bridge import tokenizer as rust_tokenizer

        native = rust_tokenizer.native_encoding("o200k_base")
    except Exception:  # noqa: BLE001
        return []
    if native is None:
        return []
    chunk = tc._get_tiktoken_count_function.__defaults__[0]

    def rust_count(text: str) -> int:
        return sum(native.count(text[i : i + chunk]) for i in range(0, len(text), chunk))

    probe = document(10**6)["text"]
    if rust_count(probe) != accelerated(model="gpt-4o", text=probe):
        return []
    rust_t, fast_t = [], []
    for r in range(3):
        text = document(r)["text"]
        start = time.perf_counter()
        rust_count(text)
        rust_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        accelerated(model="gpt-4o", text=text)
        fast_t.append(time.perf_counter() - start)
    s, f = min(rust_t), min(fast_t)
    return [{
        "component": "token_counter", "case": "100 KB document as text [gpt-4o] vs LiteLLM's Rust codec",
        "baseline": "litellm %s rust_bridge Tokenizer.count, chunked as token_counter chunks" % litellm_version(),
        "unit": "us/call", "baseline_value": s * 1e6, "value": f * 1e6, "ratio": s / f,
        "higher_is_better": False, "params": {"model": "gpt-4o", "clock": "wall time (time.perf_counter)"},
    }]


def litellm_version() -> str:
    try:
        from importlib.metadata import version

        return version("litellm")
    except Exception:  # noqa: BLE001
        return "?"


def _print_table(rows: List[Dict[str, Any]]) -> None:
    print("%-58s %12s %12s %8s  %s" % ("case", "stock us", "fast us", "ratio", "python overhead us"))
    for row in rows:
        print("%-58s %12.1f %12.1f %7.1fx  %s" % (
            row["case"][:58], row["baseline_value"], row["value"], row["ratio"],
            row["params"].get("python_overhead_us", "")))
    if rows:
        print("baseline: %s; accelerated via: %s; tokenizer: %s" % (
            rows[0]["baseline"], rows[0]["params"].get("accelerated_via"), rows[0]["params"].get("tokenizer")))


if __name__ == "__main__":
    from ..bench.component_args import parse

    _print_table(run(quick=parse("fast_litellm.token_counter.bench", __doc__, sys.argv[1:]).quick))
