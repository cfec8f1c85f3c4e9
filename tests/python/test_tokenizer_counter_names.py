"""SimpleTokenCounter on names that are not price-map keys, against LiteLLM
1.110.2 itself in this process: estimate_cost vs cost_per_token and
get_model_limits vs get_model_info on ~50 000 names made from every
price-map key (case changes, provider prefixes, Azure names and aliases,
dated snapshots, version tails, Bedrock region/route paths, unknown names;
a fixed third of them by default) and on seeded random name shapes.  Where both
answer the figures are equal (floats compared exactly); where LiteLLM
refuses, so do we (UnknownModelError naming the model); where only LiteLLM
answers, our refusal says which of the documented reasons applies.  No
socket is opened meanwhile: names LiteLLM would send to a server are not
given to it."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import zlib

import pytest

from fast_litellm import tokenizer as T
from fast_litellm.tokenizer import UnknownModelError, _counter

pytestmark = pytest.mark.litellm

FIELDS = ("max_tokens", "max_input_tokens", "max_output_tokens", "input_cost_per_token", "output_cost_per_token")
DATED = "-2099-01-01"
BEDROCK_PATHS = ("bedrock/us-east-1/", "bedrock/converse/", "bedrock/invoke/", "bedrock/us-west-2/",
                 "bedrock/converse/us-east-1/", "bedrock/eu-central-1/", "bedrock/us.", "bedrock/")
UNKNOWN = ("foo-bar", "azure/foo", "openai/foo", "no-such-model", "x/gpt-4o", "GPT-4O-NOPE", "", "/", "azure/",
           "gpt-4o:", "bedrock/us-east-1/", "bedrock/us", "ft:gpt-4o:a:b:c:d:e", "*", "openai/*")
# the issue's examples, always compared
EXAMPLES = ("gpt-35-turbo", "azure/gpt-35-turbo", "gpt-4o-2099-01-01", "openai/gpt-4o-2099-01-01",
            "azure/gpt-4o-2099-01-01", "GPT-4O", "Gpt-4o-Mini", "azure/gpt-41",
            "bedrock/us-east-1/anthropic.claude-3-5-sonnet-20240620-v1:0",
            "bedrock/converse/anthropic.claude-3-5-sonnet-20240620-v1:0",
            "bedrock/invoke/anthropic.claude-3-5-sonnet-20240620-v1:0", "anthropic/claude-opus-latest")
# why we may refuse a name LiteLLM answers (the reasons _counter documents)
ALLOWED_GAPS = ("capability rules", "asks the", "reads this model's", "signs in to", "by rules not mirrored",
                "by its model lists", "renames vertex_ai names", "Model Router fee", "no per-token input/output price",
                "provider code not mirrored")
# providers whose lookups LiteLLM takes to a server or a sign-in: never asked
REMOTE = frozenset(_counter._REMOTE_PROVIDERS)


def generated_names(prices):
    names = set()
    for key, row in prices.items():
        base = key.rsplit("/", 1)[-1]
        names |= {key.upper(), base, "openai/" + base, "azure/" + base,
                  key + DATED, base + DATED, "azure/" + base + DATED, "openai/" + base + DATED}
        provider = row.get("litellm_provider") if isinstance(row, dict) else None
        if isinstance(provider, str):
            stem = key[len(provider) + 1:] if key.startswith(provider + "/") else key
            names |= {provider + "/" + stem, provider + "/" + stem + "-001", provider + "/" + stem.upper(),
                      provider + "/" + stem.upper() + DATED}
        if provider in ("vertex_ai", "gemini", "databricks") or key.startswith(("vertex_ai/", "gemini/")):
            names |= {key + "-002", base + "-001"}
        if "." in base and not base.startswith(("us.", "eu.", "global.")):
            names |= {path + base for path in BEDROCK_PATHS}
            names |= {"bedrock/" + base + ":51k", "bedrock/" + base + "[1m]", "bedrock/" + base + ":0:18k"}
    # a fixed third of them (by CRC of the name) keeps the file near 25 s;
    # FAST_LITELLM_ALL_NAMES=1 compares all (~50 400)
    if not os.environ.get("FAST_LITELLM_ALL_NAMES"):
        names = {n for n in names if zlib.crc32(n.encode()) % 3 == 0}
    names |= set(_counter._AZURE_ALIASES) | set(UNKNOWN) | set(EXAMPLES)
    return sorted(names - set(prices))


def _routes_remote(name):
    """The name's own prefix, or the provider our mirror routes it to, is one
    LiteLLM asks a server / signs in to for its lookups."""
    if name.partition("/")[0] in REMOTE:
        return True
    try:
        routed = _counter._name_lookup().route(name)
    except _counter._Refused:
        return False
    return routed is not None and routed[1] in REMOTE


def _outcome(fn, *args):
    try:
        return fn(*args)
    except UnknownModelError as e:
        return ("UnknownModelError", str(e))
    except Exception as e:  # noqa: BLE001 - compared by type
        return (type(e).__name__, str(e))


class _NoNetwork:
    """Sockets refuse to connect or resolve; every attempt is recorded."""

    def __init__(self):
        self.attempts = []

    def __enter__(self):
        self.saved = (socket.socket.connect, socket.socket.connect_ex, socket.create_connection, socket.getaddrinfo)

        def refuse(*args, **kwargs):
            self.attempts.append(repr(args[1:2]))
            raise OSError("network access in an offline test")

        socket.socket.connect = socket.socket.connect_ex = refuse
        socket.create_connection = socket.getaddrinfo = refuse
        return self

    def __exit__(self, *exc):
        socket.socket.connect, socket.socket.connect_ex, socket.create_connection, socket.getaddrinfo = self.saved


@pytest.fixture(scope="module")
def litellm():
    litellm = pytest.importorskip("litellm")
    saved = litellm.suppress_debug_info
    litellm.suppress_debug_info = True  # its provider-list banner for each unroutable name
    yield litellm
    litellm.suppress_debug_info = saved


@pytest.fixture(scope="module")
def names(litellm):
    return generated_names(litellm.model_cost)


@pytest.fixture(scope="module")
def ours(names, litellm):
    counter = T.implementation("python").SimpleTokenCounter()
    with _NoNetwork() as net:
        got = {n: (_outcome(counter.estimate_cost, 1000, 500, n), _outcome(counter.get_model_limits, n)) for n in names}
    assert net.attempts == []
    return got


@pytest.fixture(scope="module")
def theirs(names, litellm):
    """LiteLLM's answers for the names it looks up locally (None: not asked)."""
    from litellm.utils import get_model_info

    got = {}
    with _NoNetwork() as net:
        for name in names:
            if _routes_remote(name):
                got[name] = None
                continue
            cost = _outcome(lambda: litellm.cost_per_token(model=name, prompt_tokens=1000, completion_tokens=500))
            info = _outcome(get_model_info, name)
            got[name] = (cost, info)
    assert net.attempts == [], net.attempts[:5]
    return got


def _refusal_names(outcome, name):
    return (isinstance(outcome, tuple) and outcome[0] == "UnknownModelError" and repr(name) in outcome[1]
            and issubclass(UnknownModelError, KeyError))


def test_estimate_cost_follows_cost_per_token(names, ours, theirs, litellm):
    same = gaps = refused = 0
    for name in names:
        if theirs[name] is None:
            assert _refusal_names(ours[name][0], name), (name, ours[name][0])
            continue
        expected, got = theirs[name][0], ours[name][0]
        if isinstance(expected, tuple) and len(expected) == 2 and isinstance(expected[0], float):
            if isinstance(got, float):
                assert got == expected[0] + expected[1], name
                same += 1
            else:
                assert _refusal_names(got, name) and any(r in got[1] for r in ALLOWED_GAPS), (name, got)
                gaps += 1
        else:
            assert _refusal_names(got, name), (name, expected, got)
            refused += 1
    # 2026-11-29, LiteLLM 1.110.2, all 50 373 names: 11 972 same, 33 110 both
    # refuse, 4 827 refused here only (2 401 rows without a per-token price,
    # 1 826 capability-rule answers, 350 fireworks size pricing, 250 routes
    # not mirrored / Model Router / LiteLLM's own lists)
    print(len(names), "names; estimate_cost:", same, "same,", refused, "both refuse,", gaps, "refused here only")
    n = len(names)
    assert same > 0.2 * n and refused > 0.6 * n and gaps < 0.12 * n, (n, same, refused, gaps)


def test_model_limits_follow_get_model_info(names, ours, theirs, litellm):
    same = gaps = refused = 0
    for name in names:
        got = ours[name][1]
        if theirs[name] is None:
            assert _refusal_names(got, name), (name, got)
            continue
        expected = theirs[name][1]
        if isinstance(expected, dict) and expected["key"] in litellm.model_cost:
            if isinstance(got, dict):
                assert {f: got[f] for f in FIELDS} == {f: expected[f] for f in FIELDS}, name
                assert got["model"] == name
                same += 1
            else:
                assert _refusal_names(got, name) and any(r in got[1] for r in ALLOWED_GAPS), (name, got)
                gaps += 1
        else:  # LiteLLM refuses, or answers from its capability rules (no price-map row)
            assert _refusal_names(got, name), (name, expected if isinstance(expected, tuple) else expected["key"], got)
            refused += 1
    # 2026-11-29, all 50 373 names: 19 303 same, 30 384 both refuse (incl.
    # capability-rule answers), 222 refused here only (bedrock_mantle, ai21)
    print("get_model_limits:", same, "same,", refused, "both refuse,", gaps, "refused here only")
    n = len(names)
    assert same > 0.33 * n and refused > 0.55 * n and gaps < 0.01 * n, (n, same, refused, gaps)


def test_the_issue_examples(litellm):
    counter = T.implementation("python").SimpleTokenCounter()
    limits = {n: counter.get_model_limits(n)["max_input_tokens"] for n in (
        "gpt-35-turbo", "azure/gpt-35-turbo", "gpt-4o-2099-01-01", "GPT-4O", "azure/gpt-41",
        "bedrock/us-east-1/anthropic.claude-3-5-sonnet-20240620-v1:0",
        "bedrock/converse/anthropic.claude-3-5-sonnet-20240620-v1:0")}
    assert limits["GPT-4O"] == limits["gpt-4o-2099-01-01"] == litellm.model_cost["gpt-4o"]["max_input_tokens"]
    assert counter.estimate_cost(1000, 500, "azure/gpt-4o-2099-01-01") == sum(
        litellm.cost_per_token(model="azure/gpt-4o-2099-01-01", prompt_tokens=1000, completion_tokens=500))
    # cost_per_token cannot route these bare names (BadRequestError): refused for cost
    for name in ("gpt-4o-2099-01-01", "GPT-4O"):
        with pytest.raises(KeyError, match="%s.*cannot tell its provider" % name):
            counter.estimate_cost(1, 1, name)
    with pytest.raises(KeyError, match="gpt-35-turbo"):
        counter.estimate_cost(1, 1, "gpt-35-turbo")
    with pytest.raises(KeyError, match="Ollama server"):
        counter.get_model_limits("ollama/llama3-2099-01-01")
    with pytest.raises(KeyError, match="capability rules"):
        counter.get_model_limits("claude-opus-9-9")


_WITHOUT_LITELLM = r"""
import json, sys
from fast_litellm import tokenizer as T
from fast_litellm.tokenizer import UnknownModelError, _counter
names = json.load(open(sys.argv[1]))
counter = T.implementation("python").SimpleTokenCounter()
def outcome(fn, *args):
    try:
        value = fn(*args)
        return {k: value[k] for k in sorted(value)} if isinstance(value, dict) else value
    except UnknownModelError as e:
        return ["UnknownModelError", str(e)]
    except ValueError as e:
        return ["ValueError", str(e)]
out = {n: [outcome(counter.estimate_cost, 1000, 500, n), outcome(counter.get_model_limits, n),
           _counter.litellm_encoding_name(n)] for n in names}
assert "litellm" not in sys.modules
json.dump(out, open(sys.argv[2], "w"))
"""


def test_same_answers_without_litellm_imported(names, ours, tmp_path, litellm):
    """Without LiteLLM imported (its bundled JSON read directly) every name
    gets the same answer; rule-priced rows are a ValueError there instead of
    cost_per_token's figure.  count_tokens's encoding choice there (the
    local rule) is token_counter's for every name."""
    from litellm.litellm_core_utils.token_counter import openai_tokenizer_encoding_name

    src, dst = tmp_path / "names.json", tmp_path / "out.json"
    src.write_text(json.dumps(names))
    env = dict(os.environ)
    out = subprocess.run([sys.executable, "-c", _WITHOUT_LITELLM, str(src), str(dst)], capture_output=True,
                         text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    alone = json.loads(dst.read_text())
    for name in names:
        cost, limits, encoding = alone[name]
        assert encoding == openai_tokenizer_encoding_name(name), name
        mine_cost, mine_limits = ours[name]
        if isinstance(cost, list) and cost[0] == "ValueError":
            assert "plain per-token" in cost[1] and not (isinstance(mine_cost, tuple)
                                                          and mine_cost[0] == "UnknownModelError"), name
        else:
            assert cost == (list(mine_cost) if isinstance(mine_cost, tuple) else mine_cost), name
        assert limits == (list(mine_limits) if isinstance(mine_limits, tuple) else mine_limits), name


def test_name_tables_match_litellm(litellm):
    """The pinned tables equal LiteLLM 1.110.2's own, and the aliases and
    rules read from the bundled JSON equal what LiteLLM loaded."""
    from litellm.litellm_core_utils.fallback_generalizations import get_fallback_generalization_rules
    from litellm.litellm_core_utils.get_llm_provider_logic import PROVIDERS_THAT_AUTHENTICATE_ON_PROVIDER_INFO
    from litellm.llms.bedrock.common_utils import get_all_bedrock_regions, get_bedrock_cross_region_inference_regions
    from litellm.llms.openai_like.json_loader import JSONProviderRegistry

    assert _counter._PROVIDERS == {getattr(p, "value", p) for p in litellm.provider_list}
    assert _counter._JSON_PROVIDERS == set(JSONProviderRegistry.list_providers())
    assert _counter._AZURE_ALIASES == {**litellm.azure_llms, **litellm.azure_embedding_models}
    assert _counter._BEDROCK_REGIONS == set(get_all_bedrock_regions())
    assert _counter._BEDROCK_GEOS == set(get_bedrock_cross_region_inference_regions())
    assert _counter._SIGN_IN_PROVIDERS == PROVIDERS_THAT_AUTHENTICATE_ON_PROVIDER_INFO
    listed = set()
    for attr in dir(litellm):
        value = getattr(litellm, attr)
        if attr.endswith(("_models", "_llms")) and isinstance(value, (list, set, frozenset, dict)):
            listed |= {x for x in value if isinstance(x, str)}
    assert _counter._LISTED_NOT_PRICED == listed - set(litellm.model_cost)
    assert set(litellm.cohere_chat_models) == {k for k, v in litellm.model_cost.items()
                                              if v.get("litellm_provider") == "cohere_chat"}
    assert set(litellm.mistral_chat_models) == {k for k, v in litellm.model_cost.items()
                                               if v.get("litellm_provider") == "mistral"}
    lookup = _counter._name_lookup()
    assert lookup.prices is litellm.model_cost
    code = ("import json\nfrom fast_litellm.tokenizer import _counter\nlk = _counter._name_lookup()\n"
            "print(json.dumps([lk.aliases, _counter._price_map_cache['names'][1]]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    aliases, rules = json.loads(out.stdout)
    assert aliases == lookup.aliases
    assert rules == get_fallback_generalization_rules()
    chat = {k for k in litellm.model_cost if lookup._openai_chat(k)}
    assert chat == set(litellm.open_ai_chat_completion_models)


NAME_PREFIXES = ("", "", "us.", "eu.", "global.", "us-east-1/", "converse/", "invoke/", "chat_completions/", "openai/",
                 "ft:", "arn:aws:bedrock:us-east-1::foundation-model/", "nova/", "mantle/")
NAME_SUFFIXES = ("", "", DATED, "-001", "-latest", ":0", ":51k", "[1m]", "@latest", "@001", ":my-org::id", "-20250101",
                 "/", " ", "-v1:0", ":" + "a" * 64)


def test_random_name_shapes(litellm):
    """Seeded random names stacking provider prefixes (real, unknown, wrong
    case), Bedrock geo/region/route/ARN prefixes and version/throughput/
    fine-tune tails on keys: every figure we give is LiteLLM's, no socket."""
    import random

    from litellm.utils import get_model_info

    rng = random.Random(int(os.environ.get("FAST_LITELLM_NAMES_SEED", "20261129")))
    keys = sorted(litellm.model_cost)
    providers = sorted(_counter._PROVIDERS | _counter._JSON_PROVIDERS) + ["x", "OPENAI", "Azure", "bedrock_converse"]
    counter = T.implementation("python").SimpleTokenCounter()
    answered = 0
    with _NoNetwork() as net:
        for _ in range(4000):
            key = rng.choice(keys)
            own = litellm.model_cost[key].get("litellm_provider") or "openai"
            name = key if rng.random() < 0.5 else key.rsplit("/", 1)[-1]
            if rng.random() < 0.3:
                name = rng.choice(NAME_PREFIXES) + name
            if rng.random() < 0.4:
                name += rng.choice(NAME_SUFFIXES)
            for chance in (0.5, 0.05):
                if rng.random() < chance:
                    name = (own if rng.random() < 0.6 else rng.choice(providers)) + "/" + name
            if rng.random() < 0.15:
                name = name.upper()
            if name in litellm.model_cost or _routes_remote(name):
                continue
            got = _outcome(counter.estimate_cost, 1000, 500, name)
            if isinstance(got, float):
                expected = litellm.cost_per_token(model=name, prompt_tokens=1000, completion_tokens=500)
                assert got == expected[0] + expected[1], name
                answered += 1
            else:
                assert _refusal_names(got, name), (name, got)
            got = _outcome(counter.get_model_limits, name)
            if isinstance(got, dict):
                info = get_model_info(name)
                assert {f: got[f] for f in FIELDS} == {f: info[f] for f in FIELDS}, name
                answered += 1
            else:
                assert _refusal_names(got, name), (name, got)
    assert net.attempts == []
    print("random names: %d answered" % answered)
    assert answered > 500


def test_rows_registered_and_removed_at_run_time(litellm):
    """litellm.register_model adds rows in place: their other spellings are
    found as LiteLLM finds them; a row removed while its lower-case spelling
    is indexed is not reported (was a KeyError from the stale index).  (Rows
    put into litellm.model_cost by hand are found here too, while LiteLLM's
    own case-insensitive index goes on missing them until it is rebuilt.)"""
    counter = T.implementation("python").SimpleTokenCounter()
    row = {"max_tokens": 100, "max_input_tokens": 1000, "max_output_tokens": 100, "input_cost_per_token": 1e-6,
           "output_cost_per_token": 2e-6, "litellm_provider": "openai", "mode": "chat"}
    from litellm.utils import _invalidate_model_cost_lowercase_map

    counter.get_model_limits("GPT-4O")  # the index exists before the rows come
    litellm.register_model({"fl-names-test-model": dict(row)})
    try:
        for name in ("FL-NAMES-TEST-MODEL", "fl-names-test-model-2099-01-01", "openai/FL-NAMES-TEST-MODEL"):
            assert counter.get_model_limits(name)["max_input_tokens"] == 1000, name
        assert counter.estimate_cost(1000, 500, "openai/FL-NAMES-TEST-MODEL") == sum(
            litellm.cost_per_token(model="openai/FL-NAMES-TEST-MODEL", prompt_tokens=1000, completion_tokens=500))
        del litellm.model_cost["fl-names-test-model"]
        litellm.model_cost["fl-names-test-other"] = dict(row)  # same size: the index is kept
        with pytest.raises(KeyError, match="FL-NAMES-TEST-MODEL"):
            counter.get_model_limits("FL-NAMES-TEST-MODEL")
    finally:
        litellm.model_cost.pop("fl-names-test-model", None)
        litellm.model_cost.pop("fl-names-test-other", None)
        _invalidate_model_cost_lowercase_map()  # LiteLLM's own caches
