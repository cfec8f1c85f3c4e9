"""Times the seed API of whichever fast_litellm the running interpreter has.

Standard library only, so the same file runs in the fast-litellm 0.1.10
peer venv and in ours; `fast-litellm bench` runs it as a script in both and
puts the figures side by side.  The workload is built from a fixed seed, so
both sides see identical inputs, and no input repeats inside a timed loop.

    python peer_driver.py [--quick] [--impl fast_litellm|tiktoken|litellm]
        ->   one JSON object on stdout

``--impl tiktoken`` and ``--impl litellm`` time only token counting, with
tiktoken's cl100k_base ``len(encode(text))`` and stock
``litellm.token_counter(model="gpt-4", text=text)``: what a user would run
without any accelerator.  The checksum (sum of the counts of the first 50
texts) shows whether the counts agree.

Cases (each: best of a few repeats, microseconds per call):
  token_counting   SimpleTokenCounter().count_tokens(text, "gpt-4")
  rate_limit_check check_rate_limit(key)
  routing          get_available_deployment(model_list, model)
"""
from __future__ import annotations

import json
import os
import random
import sys
import time
import warnings

SEED = 20240601
WORDS = ("the quick brown fox jumps over lazy dog router token limit request deployment "
         "latency cache pool stream model prompt answer context window budget").split()
EXTRAS = ("café", "naïve", "東京", "🙂", "def f(x):\n    return x * 2", "1234567", "3.14159",
          "https://example.com/a?b=c", "  indented  ", "UPPER lower MiXeD", "don't", "it's")


def make_texts(n: int, seed: int = SEED):
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        k = rng.randint(8, 120)
        parts = [rng.choice(WORDS) if rng.random() < 0.85 else rng.choice(EXTRAS) for _ in range(k)]
        texts.append("%d: %s" % (i, " ".join(parts)))
    return texts


def make_keys(n: int):
    return ["user-%05d" % i for i in range(n)]


def make_model_list(groups: int = 3, per_group: int = 4):
    out = []
    for g in range(groups):
        for d in range(per_group):
            out.append({
                "model_name": "group-%d" % g,
                "litellm_params": {"model": "openai/gpt-4o-mini", "api_base": "http://127.0.0.1:9/v%d" % d,
                                   "rpm": 1000, "tpm": 100000},
                "model_info": {"id": "g%d-d%d" % (g, d)},
            })
    return out


def best_us_per_call(fn, items, repeats):
    """Best over ``repeats`` passes of fn over every item, in µs per call."""
    best = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        for item in items:
            fn(item)
        dt = (time.perf_counter() - t0) / max(1, len(items)) * 1e6
        best = dt if best is None or dt < best else best
    return best


def run_reference(impl: str, quick: bool):
    """Token counting as a user would do it without an accelerator."""
    n = 300 if quick else 3000
    repeats = 3 if quick else 5
    out = {"python": sys.version.split()[0], "impl": impl, "cases": {}, "errors": {}}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # LiteLLM points tiktoken at the vocabularies it bundles (offline).
            from litellm.litellm_core_utils import default_encoding  # noqa: F401
            if impl == "tiktoken":
                import tiktoken

                enc = tiktoken.get_encoding("cl100k_base")
                fn = lambda t: len(enc.encode(t))  # noqa: E731
                out["version"] = getattr(tiktoken, "__version__", None)
            else:
                import litellm

                fn = lambda t: litellm.token_counter(model="gpt-4", text=t)  # noqa: E731
                from importlib.metadata import version

                out["version"] = version("litellm")
        texts = make_texts(n)
        checksum = sum(fn(t) for t in texts[:50])
        out["cases"]["token_counting"] = {"us_per_call": best_us_per_call(fn, texts, repeats),
                                          "calls": len(texts), "checksum": checksum}
    except Exception as exc:
        out["errors"]["token_counting"] = "%s: %s" % (type(exc).__name__, exc)
    return out


def run(quick: bool):
    n = 300 if quick else 3000
    repeats = 3 if quick else 5
    out = {"python": sys.version.split()[0], "impl": "fast_litellm", "cases": {}, "errors": {}}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import fast_litellm
    except Exception as exc:
        out["errors"]["import"] = "%s: %s" % (type(exc).__name__, exc)
        return out
    out["fast_litellm_version"] = getattr(fast_litellm, "__version__", None)
    out["accelerated"] = bool(getattr(fast_litellm, "RUST_ACCELERATION_AVAILABLE", False))

    def case(name, setup):
        try:
            fn, items, checksum = setup()
            fn(items[0])  # warm the lazy imports
            out["cases"][name] = {"us_per_call": best_us_per_call(fn, items, repeats),
                                  "calls": len(items), "checksum": checksum}
        except Exception as exc:
            out["errors"][name] = "%s: %s" % (type(exc).__name__, exc)

    def token_counting():
        counter = fast_litellm.SimpleTokenCounter()
        texts = make_texts(n)
        checksum = sum(counter.count_tokens(t, "gpt-4") for t in texts[:50])
        return (lambda t: counter.count_tokens(t, "gpt-4")), texts, checksum

    def rate_limit_check():
        keys = make_keys(n)
        return fast_litellm.check_rate_limit, keys, None

    def routing():
        model_list = make_model_list()
        models = ["group-%d" % (i % 3) for i in range(n)]
        pick = lambda m: fast_litellm.get_available_deployment(model_list, m)  # noqa: E731
        return pick, models, None

    case("token_counting", token_counting)
    case("rate_limit_check", rate_limit_check)
    case("routing", routing)
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    impl = argv[argv.index("--impl") + 1] if "--impl" in argv else "fast_litellm"
    quick = "--quick" in argv
    result = run(quick) if impl == "fast_litellm" else run_reference(impl, quick)
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
