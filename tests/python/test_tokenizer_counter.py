"""SimpleTokenCounter against LiteLLM's own figures (offline price map)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from fast_litellm import tokenizer as T

pytestmark = pytest.mark.litellm

MODELS = ["gpt-3.5-turbo", "gpt-4", "gpt-4o", "gpt-4o-mini", "gpt-4.1-mini", "o3-mini",
          "text-embedding-3-small", "azure/gpt-4o", "claude-3-5-sonnet-20240620", "mistral/mistral-large-latest"]


@pytest.fixture(scope="module")
def litellm():
    return pytest.importorskip("litellm")


@pytest.fixture
def counter(impl, tiktoken_data_dir):
    return T.implementation(impl).SimpleTokenCounter()


TEXTS = ["hello world", "The quick brown fox <|endoftext|> jumps 😀 over 中文", "def f(x):\n    return x * 2\n"]


def test_counts_match_litellm_token_counter(counter, litellm):
    from litellm.litellm_core_utils.token_counter import openai_tokenizer_encoding_name

    for model in ["gpt-3.5-turbo", "gpt-4", "gpt-4o", "gpt-4.1-mini", "o3-mini", "gpt-5", "foo-bar"]:
        enc = T.implementation("python").get_encoding(openai_tokenizer_encoding_name(model))
        for text in TEXTS:
            assert counter.count_tokens(text, model) == len(enc.encode(text, disallowed_special=()))
            assert counter.count_tokens(text, model) == litellm.token_counter(model=model, text=text)
    assert counter.count_tokens("hello world") == litellm.token_counter(text="hello world")
    assert counter.count_tokens_batch(TEXTS, "gpt-4o") == [counter.count_tokens(t, "gpt-4o") for t in TEXTS]


def test_local_encoding_rule_matches_litellm(litellm):
    """Without LiteLLM imported the counter applies the same choice locally."""
    from litellm.litellm_core_utils.token_counter import openai_tokenizer_encoding_name

    from fast_litellm.tokenizer import _counter

    saved = sys.modules.pop("litellm")
    try:
        local = {m: _counter.litellm_encoding_name(m) for m in MODELS + [
            "gpt-5", "o1", "davinci", "text-davinci-003", "openai/gpt-4.1", "ft:gpt-4o-x", "llama-3-8b"]}
    finally:
        sys.modules["litellm"] = saved
    for model, name in local.items():
        assert name == openai_tokenizer_encoding_name(model), model


_LISTED_MODELS_CHECK = r"""
import importlib.util, json, os, sys
from fast_litellm.tokenizer import _counter
assert "litellm" not in sys.modules
path = os.path.join(list(importlib.util.find_spec("litellm").submodule_search_locations)[0],
                    _counter.PRICE_MAP_FILE)
with open(path, "rb") as f:
    local_map = _counter._bundled_tables(json.loads(f.read()))[0]
names = set(local_map)
for key in list(names):
    base = key.rsplit("/", 1)[-1]
    names |= {base, "openai/" + base, "azure/eu/" + base, "ft:%s:org::id" % base}
names |= {"gpt-35-turbo", "gpt-41", "gpt-6.2", "o9-mini", "ft:gpt-4o:org:custom:id", ""}
local = {m: _counter.litellm_encoding_name(m) for m in names}
assert "litellm" not in sys.modules
import litellm
from litellm.litellm_core_utils.token_counter import openai_tokenizer_encoding_name
print(json.dumps({
    "names": len(names),
    "keys_only_local": sorted(set(local_map) - set(litellm.model_cost)),
    "keys_only_litellm": sorted(set(litellm.model_cost) - set(local_map)),
    "rows_differ": sorted(k for k in local_map if k in litellm.model_cost
                          and dict(litellm.model_cost[k]) != dict(local_map[k])),
    "encodings_differ": sorted(m for m in names if openai_tokenizer_encoding_name(m) != local[m]),
}))
"""


def test_local_rule_and_price_map_match_litellm_for_every_listed_model(litellm, tiktoken_data_dir):
    """Without LiteLLM imported: the bundled JSON is served as litellm.model_cost
    (alias rows resolved, fallback_generalizations dropped), and the encoding
    choice equals LiteLLM's for every price-map key and its provider-prefixed
    and fine-tuned spellings (75 keys differed: azure/gpt-35-turbo got o200k,
    gpt-audio/computer-use-preview/ft:gpt-4.1-* got cl100k, alias rows such as
    gpt-astra-latest had no prices).  In a fresh interpreter: other tests
    register models into this process's litellm.model_cost."""
    out = subprocess.run([sys.executable, "-c", _LISTED_MODELS_CHECK], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    got = __import__("json").loads(out.stdout.strip().splitlines()[-1])
    assert got["names"] > 10000
    assert {k: v for k, v in got.items() if k != "names"} == {
        "keys_only_local": [], "keys_only_litellm": [], "rows_differ": [], "encodings_differ": []}


def test_prices_and_limits_match_litellm(counter, litellm):
    for model in ["gpt-3.5-turbo", "gpt-4", "gpt-4o", "gpt-4o-mini", "gpt-4.1"]:
        if model not in litellm.model_cost:
            continue
        prompt, completion = litellm.cost_per_token(model=model, prompt_tokens=1234, completion_tokens=567)
        assert counter.estimate_cost(1234, 567, model) == pytest.approx(prompt + completion, rel=1e-12)
        info = litellm.get_model_info(model)
        limits = counter.get_model_limits(model)
        for key in ("max_tokens", "max_input_tokens", "max_output_tokens",
                    "input_cost_per_token", "output_cost_per_token"):
            assert limits[key] == info.get(key), (model, key)
    assert counter.validate_input("hello", "gpt-4o") is True


def _remote_lookup_reason(model, for_cost):
    from fast_litellm.tokenizer import _counter

    return _counter._remote_lookup_reason(model, for_cost, _counter.litellm_price_map().get(model))


def test_remote_rows_are_refused_where_litellm_leaves_the_process(counter, litellm, capsys):
    """Keys whose lookup LiteLLM takes out of the process (lemonade asks its
    server; cost_per_token signs in to github_copilot/chatgpt) are refused,
    saying why, and LiteLLM is not called for them.  The other keys of those
    providers (ollama rows, which LiteLLM treats as static; get_model_info
    of the sign-in providers) are answered as LiteLLM answers, with no
    socket opened by either side."""
    import socket

    from fast_litellm.tokenizer import _counter

    providers = set(_counter._REMOTE_PROVIDERS)
    rows = [m for m, e in litellm.model_cost.items()
            if isinstance(e, dict) and (e.get("litellm_provider") in providers or m.split("/")[0] in providers)]
    refused = {True: 0, False: 0}
    answered = {True: 0, False: 0}

    opened = []

    def no_socket(sock, address):  # LiteLLM catches what a lookup raises: record it
        opened.append(address)
        raise OSError("blocked by the test")

    real_connect = socket.socket.connect
    socket.socket.connect = no_socket
    try:
        for model in rows:
            for for_cost in (True, False):
                calls = ((lambda: counter.estimate_cost(10, 5, model)),) if for_cost else (
                    (lambda: counter.get_model_limits(model)), (lambda: counter.validate_input("hi", model)))
                if _remote_lookup_reason(model, for_cost):
                    for call in calls:
                        with pytest.raises(KeyError, match="but not answered here: LiteLLM (asks|reads|signs)"):
                            call()
                    refused[for_cost] += 1
                    continue
                if for_cost:
                    assert counter.estimate_cost(10, 5, model) == sum(
                        litellm.cost_per_token(model=model, prompt_tokens=10, completion_tokens=5)), model
                else:
                    info = litellm.get_model_info(model)
                    assert counter.get_model_limits(model)["max_input_tokens"] == info.get("max_input_tokens")
                answered[for_cost] += 1
    finally:
        socket.socket.connect = real_connect
    capsys.readouterr()
    assert opened == []
    assert refused[True] > 80 and refused[False] >= 5, refused
    assert answered[True] > 20 and answered[False] > 100, answered


def _quiet_litellm_call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - LiteLLM's own refusal, compared by type
        return type(e)


def test_estimate_cost_is_litellm_cost_per_token_for_every_priced_model(counter, litellm, capsys):
    """Every price-map row, at a small and a 300k-token prompt: where both
    answer, the figures are LiteLLM's (rows LiteLLM prices by time of day,
    by size tiers or by image tokens go to cost_per_token itself); where the
    row has no per-token price we refuse (UnknownModelError), never 0."""
    from fast_litellm.tokenizer import UnknownModelError

    compared = 0
    for model in sorted(litellm.model_cost):
        if _remote_lookup_reason(model, True):
            continue  # LiteLLM asks a server / signs in for these (test_remote_rows_are_refused...)
        for prompt_tokens, completion_tokens in ((1000, 500), (300_000, 1000)):
            expected = _quiet_litellm_call(litellm.cost_per_token, model=model, prompt_tokens=prompt_tokens,
                                           completion_tokens=completion_tokens)
            got = _quiet_litellm_call(counter.estimate_cost, prompt_tokens, completion_tokens, model)
            if got is UnknownModelError:
                entry = litellm.model_cost[model]
                assert entry.get("input_cost_per_token") is None and entry.get("output_cost_per_token") is None
                continue
            if isinstance(got, type):  # handed to cost_per_token: LiteLLM's own error
                assert got is expected, (model, prompt_tokens)
            elif isinstance(expected, tuple):
                assert got == pytest.approx(sum(expected), rel=1e-12, abs=1e-15), (model, prompt_tokens)
                compared += 1
    capsys.readouterr()  # LiteLLM prints its provider list for names it cannot route
    assert compared > 5000


def test_model_limits_are_litellm_model_info_for_every_listed_model(counter, litellm, capsys):
    fields = ("max_tokens", "max_input_tokens", "max_output_tokens", "input_cost_per_token", "output_cost_per_token")
    compared = 0
    for model in sorted(litellm.model_cost):
        if _remote_lookup_reason(model, False):
            continue  # LiteLLM asks a server for these (test_remote_rows_are_refused...)
        info = _quiet_litellm_call(litellm.get_model_info, model)
        if isinstance(info, type):
            continue  # LiteLLM cannot route the name
        limits = counter.get_model_limits(model)
        assert {f: limits[f] for f in fields} == {f: info.get(f) for f in fields}, model
        compared += 1
    capsys.readouterr()
    assert compared > 4000


def test_estimate_cost_without_litellm_refuses_rule_priced_calls(tiktoken_data_dir):
    code = ("import sys\nfrom fast_litellm.tokenizer import SimpleTokenCounter as C\nc = C()\n"
            "for args in ((1000, 500, 'gpt-image-1'), (300000, 10, 'gemini/gemini-2.5-pro')):\n"
            "    try:\n        c.estimate_cost(*args)\n    except ValueError as e:\n        print('refused', e)\n"
            "print(c.estimate_cost(1000, 0, 'gpt-image-1'), c.estimate_cost(1000, 10, 'gemini/gemini-2.5-pro'))\n"
            "print('litellm' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("refused model 'gpt-image-1'") and "output_cost_per_token" in lines[0]
    assert lines[1].startswith("refused model 'gemini/gemini-2.5-pro'") and "above_200k" in lines[1]
    assert lines[2] == "0.005 %r" % (1000 * 1.25e-06 + 10 * 1e-05)
    assert lines[3] == "False"


def test_price_map_without_importing_litellm(tiktoken_data_dir):
    code = ("import sys; from fast_litellm.tokenizer import SimpleTokenCounter as C; c = C(); "
            "print(c.estimate_cost(1000, 1000, 'gpt-4o'), 'litellm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    cost, imported = out.stdout.split()[-2:]
    assert imported == "False"
    assert float(cost) > 0


def test_unknown_model_and_bad_input(counter):
    with pytest.raises(KeyError, match="no-such-model"):
        counter.estimate_cost(1, 1, "no-such-model")
    with pytest.raises(KeyError, match="no-such-model"):
        counter.get_model_limits("no-such-model")
    with pytest.raises(TypeError, match="text"):
        counter.count_tokens(123)
    for bad in ([1], {"m": 1}, bytearray(b"m"), 5):  # named, not "unhashable type"
        with pytest.raises(TypeError, match="model must be str or None"):
            counter.count_tokens("hi", bad)
        with pytest.raises(TypeError, match="model must be str or None"):
            counter.count_tokens_batch(["hi"], bad)
    for i in range(2000):  # user-supplied model names do not grow a cache without bound
        counter.count_tokens("hi", "no-such-model-%d" % i)
    assert len(counter._encodings) <= 1024
    with pytest.raises(TypeError, match="input_tokens"):
        counter.estimate_cost("1", 1, "gpt-4o")
    with pytest.raises(ValueError, match="output_tokens"):
        counter.estimate_cost(1, -1, "gpt-4o")
    with pytest.raises(ValueError):
        T.implementation("python").SimpleTokenCounter(0)
    assert T.implementation("python").SimpleTokenCounter(8192).model_max_tokens == 8192


def test_local_rule_chat_models_follow_the_price_map_object():
    """The local rule's chat-model set is remembered for the last price map
    seen, by the map itself: a new map that reuses a freed map's id gets its
    own set."""
    from fast_litellm.tokenizer._counter import _LocalRule

    first = {"acme-a": {"litellm_provider": "openai", "mode": "chat"}}
    chats = [_LocalRule(first).chat for _ in range(2)]  # (no rule outlives this line)
    assert chats[0] == frozenset({"acme-a"}) and chats[1] is chats[0]  # remembered for the same map
    freed = id(first)
    entry = {"litellm_provider": "openai", "mode": "chat"}
    del first
    kept = []
    for _ in range(10000):
        prices = {"acme-b": entry}
        if id(prices) == freed:
            break
        kept.append(prices)  # held, so the next map is allocated elsewhere
    # (with the map held by the rule's memory, no new map can take its id)
    chat = _LocalRule(prices).chat
    assert chat == frozenset({"acme-b"})


def test_fine_tuned_openai_names_are_priced_as_their_base_ft_row(counter, litellm, capsys):
    """ft:<base>:<org>:<suffix>:<id> (what OpenAI returns for a fine-tune)
    was UnknownModelError; LiteLLM prices it as its ft:<base> row (its
    _strip_openai_finetune_model_name), so both figures are LiteLLM's.
    Where LiteLLM itself refuses the name (cost_per_token cannot route a
    bare ft:babbage-002:...; openai/ft:babbage-002:... finds no openai row)
    it is refused here too (session 9: these were priced from the ft: row)."""
    from fast_litellm.tokenizer import UnknownModelError

    fields = ("max_tokens", "max_input_tokens", "max_output_tokens", "input_cost_per_token", "output_cost_per_token")
    bases = [k for k in litellm.model_cost if k.startswith("ft:")]
    compared = refused = 0
    for base in bases:
        for name in (base + ":my-org::abc123", base + ":my-org:custom_suffix:abc123",
                     "openai/" + base + ":my-org::abc123", "azure_ai/" + base + ":o:s:i"):
            expected = _quiet_litellm_call(litellm.cost_per_token, model=name, prompt_tokens=1000,
                                           completion_tokens=500)
            got = _quiet_litellm_call(counter.estimate_cost, 1000, 500, name)
            if isinstance(expected, tuple):
                assert got == sum(expected), name
                compared += 1
            else:
                assert got is UnknownModelError, (name, got)
                refused += 1
            info = _quiet_litellm_call(litellm.get_model_info, name)
            limits = _quiet_litellm_call(counter.get_model_limits, name)
            if isinstance(info, type) or info["key"] not in litellm.model_cost:
                # (LiteLLM's answer from its capability rules is not a price-map row)
                assert limits is UnknownModelError, (name, limits)
            else:
                assert {f: limits[f] for f in fields} == {f: info.get(f) for f in fields}, name
                compared += 1
    assert compared >= 40 and refused >= 4
    # not a fine-tune LiteLLM knows: still refused, naming the model
    for unknown in ("ft:no-such-base:org::id", "ft:gpt-4o-2024-08-06:org", "bedrock/ft:gpt-4o-2024-08-06:o::i"):
        with pytest.raises(KeyError, match=unknown.split(":")[1]):
            counter.estimate_cost(1, 1, unknown)
    capsys.readouterr()
