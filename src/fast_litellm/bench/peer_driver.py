"""Times the seed API of whichever fast_litellm the running interpreter has.

Standard library only, so the same file runs in the fast-litellm 0.1.10
peer venv and in ours; `fast-litellm bench` runs it as a script in both and
puts the figures side by side.  The workload is built from a fixed seed, so
both sides see identical inputs; every timed pass gets fresh inputs (a new
seed per pass), so no cache sees a repeat.

    python peer_driver.py [--quick] [--impl fast_litellm|reference] [--wait-go]
        ->   one JSON object on stdout

``--impl reference`` times token counting as a user would without any
accelerator: tiktoken's cl100k_base ``len(encode(text))`` and stock
``litellm.token_counter(model="gpt-4", text=text)``.  The checksum (sum of
the counts of 50 texts) shows whether the counts agree.

With ``--wait-go`` the driver imports and builds everything, prints
``READY``, and waits for a line on stdin before timing: the caller can set
up several drivers at once and still time them one at a time.

Cases (each: best pass, microseconds per call):
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
        texts.append("%d-%d: %s" % (seed, i, " ".join(parts)))
    return texts


def make_keys(n: int, seed: int = SEED):
    return ["user-%d-%05d" % (seed, i) for i in range(n)]


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


def make_models(n: int, seed: int = SEED):
    rng = random.Random(seed)
    return ["group-%d" % rng.randrange(3) for _ in range(n)]


def best_us_per_call(fn, passes):
    """Best pass over ``passes`` (lists of inputs, one per pass), in µs per call."""
    best = None
    for items in passes:
        t0 = time.perf_counter()
        for item in items:
            fn(item)
        dt = (time.perf_counter() - t0) / max(1, len(items)) * 1e6
        best = dt if best is None or dt < best else best
    return best


def sizes(quick: bool):
    return (300, 3) if quick else (2000, 5)  # calls per pass, passes


def _inputs(make, n, repeats):
    return [make(n, SEED + 1 + r) for r in range(repeats)]


def setup_fast_litellm(quick: bool, out):
    """[(case, fn, passes, checksum)], with import errors recorded in out."""
    n, repeats = sizes(quick)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import fast_litellm
    except Exception as exc:
        out["errors"]["import"] = "%s: %s" % (type(exc).__name__, exc)
        return []
    out["fast_litellm_version"] = getattr(fast_litellm, "__version__", None)
    out["accelerated"] = bool(getattr(fast_litellm, "RUST_ACCELERATION_AVAILABLE", False))
    cases = []

    def add(name, build):
        try:
            fn, passes, checksum = build()
            fn(passes[0][0])  # warm lazy imports
            cases.append((name, fn, passes, checksum))
        except Exception as exc:
            out["errors"][name] = "%s: %s" % (type(exc).__name__, exc)

    def token_counting():
        counter = fast_litellm.SimpleTokenCounter()
        fn = lambda t: counter.count_tokens(t, "gpt-4")  # noqa: E731
        return fn, _inputs(make_texts, n, repeats), sum(fn(t) for t in make_texts(50))

    def rate_limit_check():
        return fast_litellm.check_rate_limit, _inputs(make_keys, n, repeats), None

    def routing():
        model_list = make_model_list()
        fn = lambda m: fast_litellm.get_available_deployment(model_list, m)  # noqa: E731
        return fn, _inputs(make_models, n, repeats), None

    add("token_counting", token_counting)
    add("rate_limit_check", rate_limit_check)
    add("routing", routing)
    return cases


def setup_reference(quick: bool, out):
    """tiktoken and stock LiteLLM token counting (no accelerator)."""
    n, repeats = sizes(quick)
    cases = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # LiteLLM points tiktoken at the vocabularies it bundles (offline).
            from litellm.litellm_core_utils import default_encoding  # noqa: F401
            import litellm
            import tiktoken
        from importlib.metadata import version

        out["versions"] = {"tiktoken": version("tiktoken"), "litellm": version("litellm")}
        enc = tiktoken.get_encoding("cl100k_base")
        for name, fn in (("tiktoken", lambda t: len(enc.encode(t))),
                         ("litellm", lambda t: litellm.token_counter(model="gpt-4", text=t))):
            fn("warm up")
            cases.append((name, fn, _inputs(make_texts, n, repeats), sum(fn(t) for t in make_texts(50))))
    except Exception as exc:
        out["errors"]["reference"] = "%s: %s" % (type(exc).__name__, exc)
    return cases


def time_cases(cases, out):
    for name, fn, passes, checksum in cases:
        try:
            out["cases"][name] = {"us_per_call": best_us_per_call(fn, passes),
                                  "calls": len(passes[0]), "passes": len(passes), "checksum": checksum}
        except Exception as exc:
            out["errors"][name] = "%s: %s" % (type(exc).__name__, exc)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    impl = argv[argv.index("--impl") + 1] if "--impl" in argv else "fast_litellm"
    quick = "--quick" in argv
    out = {"python": sys.version.split()[0], "impl": impl, "cases": {}, "errors": {}}
    cases = setup_fast_litellm(quick, out) if impl == "fast_litellm" else setup_reference(quick, out)
    if "--wait-go" in argv:
        sys.stdout.write("\nREADY\n")
        sys.stdout.flush()
        sys.stdin.readline()
    time_cases(cases, out)
    sys.stdout.write("\n" + json.dumps(out) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
