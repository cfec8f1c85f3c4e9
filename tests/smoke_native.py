"""A quick run of every native component without LiteLLM, for
scripts/test-pythons.sh: on a Python version other than the one the suite
runs on, the C core must load and give the answers it gives there.

The token ids below are tiktoken 0.14.0's for TEXT; the tokenizer part runs
when the shared vocabularies are found (FAST_LITELLM_TIKTOKEN_DIR, or
shared/data/tiktoken beside or above the checkout, as the tests find it).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import fast_litellm as fl

TEXT = "Hello, world! def f(x):\n    return x ** 2  # ünïcödé 🙂 日本語"
EXPECTED = {
    "cl100k_base": [9906, 11, 1917, 0, 711, 282, 2120, 997, 262, 471, 865, 3146, 220, 17, 220, 674, 10709, 77,
                    38672, 66, 3029, 67, 978, 28584, 76502, 22656, 45918, 252],
    "o200k_base": [13225, 11, 2375, 0, 1056, 285, 4061, 1883, 271, 622, 1215, 6240, 220, 17, 220, 1069, 86582,
                   191375, 43369, 377, 26192, 17428, 40909],
    "r50k_base": [15496, 11, 995, 0, 825, 277, 7, 87, 2599, 198, 220, 220, 220, 1441, 2124, 12429, 362, 220, 1303,
                  6184, 120, 77, 26884, 66, 9101, 67, 2634, 32485, 10545, 245, 98, 17312, 105, 45739, 252],
}


def _vocabularies() -> Path | None:
    given = os.environ.get("FAST_LITELLM_TIKTOKEN_DIR")
    if given:
        return Path(given)
    here = Path(__file__).resolve().parent.parent
    for parent in (here, *here.parents):
        found = parent / "shared" / "data" / "tiktoken"
        if found.is_dir():
            return found
    return None


def main() -> int:
    version = "%d.%d" % sys.version_info[:2]
    if not fl.RUST_ACCELERATION_AVAILABLE:
        print("python %s: the native core did not load" % version)
        return 1
    vocab = _vocabularies()
    if vocab is not None:
        os.environ["FAST_LITELLM_TIKTOKEN_DIR"] = str(vocab)
        for name, ids in EXPECTED.items():
            enc = fl.get_encoding(name)
            assert enc.encode(TEXT) == ids, name
            assert enc.count(TEXT) == len(ids) and enc.count_batch([TEXT, TEXT], num_threads=2) == [len(ids)] * 2
            assert enc.decode(ids) == TEXT
    else:
        print("python %s: no shared vocabularies found, tokenizer not checked" % version)
    limiter = fl.SimpleRateLimiter(requests_per_minute=2)
    assert [limiter.is_allowed("k") for _ in range(3)] == [True, True, False]
    pool = fl.SimpleConnectionPool("smoke")
    cid = pool.get_connection(endpoint="http://a")
    assert cid is not None and pool.mark_unhealthy(connection_id=cid) is True
    router = fl.AdvancedRouter("simple_shuffle")
    model_list = [{"model_name": "m", "litellm_params": {"model": "openai/m", "weight": 1},
                   "model_info": {"id": "d%d" % i}} for i in range(3)]
    picked = router.get_available_deployment(model_list, "m")
    assert picked is not None and picked["model_info"]["id"] in {"d0", "d1", "d2"}
    fl.record_performance("smoke", "op", 1.5, True)
    assert "smoke" in str(fl.get_performance_stats())
    print("python %s: native core ok%s" % (version, "" if vocab is not None else " (no tokenizer check)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
