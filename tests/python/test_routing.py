"""The seed router API (AdvancedRouter, get_available_deployment), run
against both twins through the ``impl`` fixture, plus twin parity on
randomized lists (same seed -> same picks, same random state)."""
from __future__ import annotations

import random
import threading
import time

import pytest

from fast_litellm import routing
from fast_litellm.routing import _spec
from _forking import forked_child_status  # noqa: E402


@pytest.fixture
def api(impl):
    return routing.implementation(impl)


def dep(name, model, ident=None, **params):
    d = {"model_name": name, "litellm_params": {"model": model, **params}}
    if ident is not None:
        d["model_info"] = {"id": ident}
    return d


MODEL_LIST = [
    dep("gpt", "openai/gpt-4o", "a", rpm=10),
    dep("claude", "anthropic/claude-3", "b"),
    dep("gpt", "azure/gpt-4o", "c", weight=2),
    dep("openai/*", "openai/*", "d"),
    dep("gpt", "gpt", "e"),
]


def ids(found):
    return None if found is None else found["model_info"]["id"]


def test_public_names_and_implementation():
    import fast_litellm

    assert fast_litellm.AdvancedRouter is routing.AdvancedRouter
    assert fast_litellm.get_available_deployment is routing.get_available_deployment
    assert routing.implementation("python").AdvancedRouter is not None
    with pytest.raises(ValueError):
        routing.implementation("rust")



@pytest.mark.parametrize("env,twin", [({}, "native"), ({"FAST_LITELLM_RUST_ROUTING": "false"}, "python"),
                                      ({"FAST_LITELLM_ENABLED": "false"}, "python")])
def test_module_level_pick_follows_the_routing_flag(env, twin):
    """As the rate limiter's and pool's module-level defaults follow their
    flags, get_available_deployment uses the pure-Python twin while
    rust_routing is off (it used the native one regardless)."""
    import os
    import subprocess
    import sys

    from fast_litellm import _native_loader

    if twin == "native" and _native_loader.NATIVE is None:
        twin = "python"
    code = ("import fast_litellm as fl; print(fl.get_available_deployment.__module__); "
            "print(fl.get_available_deployment([{'model_name': 'm', 'litellm_params': {'model': 'x'}}], 'm'))")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FAST_LITELLM_RUST_")
               and k != "FAST_LITELLM_ENABLED"}
    environ.update(env)
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["fast_litellm.routing._" + twin,
                                       "{'model_name': 'm', 'litellm_params': {'model': 'x'}}"]

def test_strategy_property_and_unknown_strategy(api):
    assert api.AdvancedRouter().strategy == "simple_shuffle"
    for name in _spec.STRATEGIES:
        assert api.AdvancedRouter(name).strategy == name
    with pytest.raises(ValueError) as err:
        api.AdvancedRouter("fastest")
    for name in _spec.STRATEGIES:
        assert name in str(err.value)
    with pytest.raises(TypeError):
        api.AdvancedRouter(3)


def test_matching_by_name_model_and_wildcard(api):
    router = api.AdvancedRouter("cost_based")
    assert ids(router.get_available_deployment(MODEL_LIST, "claude")) == "b"
    assert ids(router.get_available_deployment(MODEL_LIST, "anthropic/claude-3")) == "b"
    assert ids(router.get_available_deployment(MODEL_LIST, "azure/gpt-4o")) == "c"
    assert ids(router.get_available_deployment(MODEL_LIST, "openai/gpt-4o-mini")) == "d"
    # an exact litellm_params.model wins over the wildcard
    assert ids(router.get_available_deployment(MODEL_LIST, "openai/gpt-4o")) == "a"
    assert router.get_available_deployment(MODEL_LIST, "mistral/large") is None
    assert router.get_available_deployment([], "gpt") is None


def test_blocked_by_name_model_or_id(api):
    router = api.AdvancedRouter("least_busy")
    random.seed(0)
    seen = {ids(router.get_available_deployment(MODEL_LIST, "gpt", blocked_models=["azure/gpt-4o", "e"]))
            for _ in range(20)}
    assert seen == {"a"}
    assert router.get_available_deployment(MODEL_LIST, "claude", blocked_models=["claude"]) is None
    assert router.get_available_deployment(MODEL_LIST, "claude", blocked_models=("b",)) is None
    assert ids(router.get_available_deployment(MODEL_LIST, "claude", blocked_models=[])) == "b"


def test_simple_shuffle_is_weighted_like_litellm(api):
    router = api.AdvancedRouter()
    random.seed(1)
    picks = [ids(router.get_available_deployment(MODEL_LIST, "gpt")) for _ in range(300)]
    # weight is set on "c" only: every pick is "c"
    assert set(picks) == {"c"}
    no_weight = [dep("m", "x", "p", rpm=1), dep("m", "x", "q", rpm=3)]
    picks = [ids(router.get_available_deployment(no_weight, "m")) for _ in range(2000)]
    assert 0.2 < picks.count("p") / len(picks) < 0.3
    plain = [dep("m", "x", "p"), dep("m", "x", "q")]
    random.seed(5)
    first = [ids(router.get_available_deployment(plain, "m")) for _ in range(50)]
    random.seed(5)
    expected = [random.choice(["p", "q"]) for _ in range(50)]
    assert first == expected


def test_simple_shuffle_matches_litellm_draws(api):
    """The same draws as LiteLLM's simple_shuffle over the same candidates."""
    from litellm.router_strategy.simple_shuffle import simple_shuffle

    router = api.AdvancedRouter()
    gen = random.Random(9)
    for trial in range(40):
        candidates = []
        for i in range(gen.randint(1, 12)):
            params = {}
            for metric in ("weight", "rpm", "tpm"):
                if gen.random() < 0.4:
                    params[metric] = gen.choice([0, 1, 2, 5, 0.5, 100])
            candidates.append(dep("m", "x", "id%d" % i, **params))
        random.seed(trial)
        ours = [ids(router.get_available_deployment(candidates, "m")) for _ in range(5)]
        ours_state = random.getstate()
        random.seed(trial)
        theirs = [ids(simple_shuffle(lambda m: None, candidates, "m", None)) for _ in range(5)]
        assert ours == theirs
        assert random.getstate() == ours_state


def test_least_busy_follows_in_flight(api):
    router = api.AdvancedRouter("least_busy")
    group = [dep("m", "x", "p"), dep("m", "x", "q"), dep("m", "x", "r")]
    router.record_request_start("p")
    router.record_request_start(group[1])
    assert ids(router.get_available_deployment(group, "m")) == "r"
    router.record_request_start("r")
    router.record_request_start("r")
    router.record_request_end("p")
    assert ids(router.get_available_deployment(group, "m")) == "p"
    router.record_request_end("p")  # never below zero
    assert router.get_stats()["p"]["in_flight"] == 0


def test_latency_based_with_buffer(api):
    router = api.AdvancedRouter("latency_based")
    group = [dep("m", "x", "p"), dep("m", "x", "q"), dep("m", "x", "r")]
    router.record_latency("p", 1.0)
    router.record_latency("q", 1.05)
    router.record_success("r", latency=3.0)
    random.seed(2)
    assert {ids(router.get_available_deployment(group, "m")) for _ in range(30)} == {"p"}
    buffered = api.AdvancedRouter("latency_based", lowest_latency_buffer=0.1)
    for key, latency in (("p", 1.0), ("q", 1.05), ("r", 3.0)):
        buffered.record_latency(key, latency)
    assert {ids(buffered.get_available_deployment(group, "m")) for _ in range(60)} == {"p", "q"}
    # per-call setting
    assert {ids(router.get_available_deployment(group, "m", settings={"lowest_latency_buffer": 0.1}))
            for _ in range(60)} == {"p", "q"}


def test_latency_window_keeps_last_samples(api):
    router = api.AdvancedRouter("latency_based", max_latency_list_size=2)
    router.record_latency("p", 100.0)
    router.record_latency("p", 1.0)
    router.record_latency("p", 3.0)
    assert router.get_stats()["p"]["mean_latency"] == 2.0
    assert router.get_stats()["p"]["latency_samples"] == 2


def test_cost_based_prices(api):
    router = api.AdvancedRouter("cost_based")
    group = [
        dep("m", "unknown/model", "p"),
        dep("m", "x", "q", input_cost_per_token=0.5, output_cost_per_token=0.5),
        dep("m", "gpt-4o-mini", "r"),  # priced by LiteLLM's map
        dep("m", "y", "s", input_cost_per_token=0.5, output_cost_per_token=0.5),
    ]
    assert ids(router.get_available_deployment(group, "m")) == "r"
    assert ids(router.get_available_deployment(group[:2] + group[3:], "m")) == "q"


def test_rpm_limits_exclude_exhausted(api):
    router = api.AdvancedRouter("cost_based")
    group = [dep("m", "x", "p", rpm=2, input_cost_per_token=1, output_cost_per_token=1),
             dep("m", "x", "q", input_cost_per_token=2, output_cost_per_token=2)]
    assert ids(router.get_available_deployment(group, "m")) == "p"
    router.record_success("p", tokens=10)
    router.record_success("p")
    assert ids(router.get_available_deployment(group, "m")) == "q"
    tpm = [dep("m", "x", "t", tpm=100, input_cost_per_token=1, output_cost_per_token=1)]
    assert ids(router.get_available_deployment(tpm, "m", context={"input_tokens": 50})) == "t"
    assert router.get_available_deployment(tpm, "m", context={"input_tokens": 101}) is None
    router.record_failure("p")
    stats = router.get_stats()["p"]
    assert (stats["successes"], stats["failures"], stats["rpm_used"], stats["tpm_used"]) == (2, 1, 2.0, 10.0)


def test_settings_strategy_override_and_module_function(api):
    group = [dep("m", "x", "p", input_cost_per_token=2), dep("m", "x", "q", input_cost_per_token=1)]
    assert ids(api.get_available_deployment(group, "m", settings={"strategy": "cost_based"})) == "q"
    with pytest.raises(ValueError):
        api.get_available_deployment(group, "m", settings={"strategy": "nope"})
    assert ids(api.get_available_deployment(model_list=group, model="m", blocked_models=["q"],
                                            context=None, settings=None)) == "p"


def test_bad_input(api):
    router = api.AdvancedRouter()
    with pytest.raises(TypeError):
        router.get_available_deployment("not a list", "m")
    with pytest.raises(TypeError):
        router.get_available_deployment([1], "m")
    with pytest.raises(TypeError):
        router.get_available_deployment([dep("m", "x")], 5)
    with pytest.raises(TypeError):
        router.get_available_deployment([dep("m", "x", rpm="ten")], "m")
    with pytest.raises(TypeError):
        router.get_available_deployment([dep("m", "x")], "m", blocked_models="m")
    with pytest.raises(TypeError):
        router.get_available_deployment([dep("m", "x")], "m", blocked_models=[1])
    with pytest.raises(TypeError):
        router.get_available_deployment([dep("m", "x")], "m", settings=[1])
    with pytest.raises(ValueError):
        router.get_available_deployment([dep("m", "x")], "m", settings={"lowest_latency_buffer": -1})
    with pytest.raises(ValueError):
        router.record_latency("p", -1.0)
    with pytest.raises(ValueError):
        router.record_latency("p", float("nan"))
    with pytest.raises(TypeError):
        router.record_request_start(5)
    with pytest.raises(ValueError):
        api.AdvancedRouter(max_latency_list_size=0)
    with pytest.raises(ValueError):
        router.get_available_deployment([dep("m", "x", weight=10 ** 400)], "m")
    # a weight that is infinite: random.choices' error
    with pytest.raises(ValueError, match="finite"):
        router.get_available_deployment([dep("m", "x", weight=float("inf")), dep("m", "x", weight=1)], "m")
    # unicode and lone surrogates work as names
    odd = [dep("m\ud800", "x", "\udfff"), dep("模型", "x", "k")]
    assert ids(router.get_available_deployment(odd, "m\ud800")) == "\udfff"
    assert ids(router.get_available_deployment(odd, "模型")) == "k"
    assert router.get_available_deployment(odd, "模型", blocked_models=["k"]) is None


def test_in_place_mutation_is_seen(api):
    router = api.AdvancedRouter("cost_based")
    group = [dep("m", "x", "p", input_cost_per_token=1), dep("m", "x", "q", input_cost_per_token=2)]
    assert ids(router.get_available_deployment(group, "m")) == "p"
    group[1]["litellm_params"]["input_cost_per_token"] = 0.1
    assert ids(router.get_available_deployment(group, "m")) == "q"
    group[0]["model_name"] = "other"
    assert ids(router.get_available_deployment(group, "other")) == "p"
    group.append(dep("m", "x", "z", input_cost_per_token=0.01))
    assert ids(router.get_available_deployment(group, "m")) == "z"
    group[2] = dep("m", "x", "w", input_cost_per_token=0.001)
    assert ids(router.get_available_deployment(group, "m")) == "w"
    group[2]["model_info"]["id"] = "w2"
    assert ids(router.get_available_deployment(group, "m")) == "w2"
    del group[2]["litellm_params"]["input_cost_per_token"]
    assert ids(router.get_available_deployment(group, "m")) == "q"
    group[1]["litellm_params"] = dict(group[1]["litellm_params"], input_cost_per_token=9)
    assert ids(router.get_available_deployment(group, "m")) == "w2"
    group[2]["model_info"]["extra"] = True  # a key nobody reads: still right
    assert ids(router.get_available_deployment(group, "m")) == "w2"

    class Deployment(dict):
        pass

    sub = [Deployment(dep("m", "x", "s1", input_cost_per_token=2)), Deployment(dep("m", "x", "s2", input_cost_per_token=3))]
    assert ids(router.get_available_deployment(sub, "m")) == "s1"
    sub[0]["litellm_params"]["input_cost_per_token"] = 4
    assert ids(router.get_available_deployment(sub, "m")) == "s2"
    # with a version the caller vouches for the contents
    v = {"model_list_version": 1}
    assert ids(router.get_available_deployment(group, "m", settings=v)) == "w2"
    group[2]["litellm_params"]["input_cost_per_token"] = 50
    assert ids(router.get_available_deployment(group, "m", settings={"model_list_version": 2})) == "q"
    assert ids(router.get_available_deployment(group, "m")) == "q"



def test_a_change_while_the_list_is_read_is_seen(api):
    """The compiled index's witness is taken before the specs are read: a
    change meanwhile (here made by a weight's __float__, standing in for
    another thread renaming a deployment) made both twins keep stale specs
    for good ("b" found nothing, "a" picked the deployment now named "b")."""
    group = [dep("a", "x", "first")]

    class Weight(int):
        armed = True

        def __float__(self):
            if Weight.armed:
                Weight.armed = False
                group[0]["model_name"] = "b"
            return int.__float__(self)

    group.append(dep("c", "y", "second", weight=Weight(1)))
    router = api.AdvancedRouter("cost_based")
    assert ids(router.get_available_deployment(group, "a")) == "first"
    assert ids(router.get_available_deployment(group, "b")) == "first"
    assert router.get_available_deployment(group, "a") is None


def test_reading_the_list_may_pick_again(api):
    """A caller's code run while a list is read may use the same router."""
    router = api.AdvancedRouter()
    inner = [dep("i", "x", "inner")]
    seen = []

    class Weight(int):
        def __float__(self):
            seen.append(ids(router.get_available_deployment(inner, "i")))
            return int.__float__(self)

    outer = [dep("o", "y", "outer", weight=Weight(1))]
    done = []
    worker = threading.Thread(target=lambda: done.append(ids(router.get_available_deployment(outer, "o"))),
                              daemon=True)
    worker.start()
    worker.join(10)
    assert done == ["outer"] and seen == ["inner"]

def test_threads_share_one_router(api):
    router = api.AdvancedRouter("least_busy")
    group = [dep("m", "x", "id%d" % i) for i in range(50)]
    errors = []

    def work():
        try:
            for _ in range(300):
                picked = router.get_available_deployment(group, "m")
                router.record_request_start(picked)
                router.record_request_end(picked)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(s["in_flight"] == 0 for s in router.get_stats().values())


def _random_list(gen):
    names = ["a", "b", "openai/*", "open*i/g*", "*"]
    models = ["openai/gpt-4o", "x", "y/z", "a"]
    group = []
    for i in range(gen.randint(0, 30)):
        params = {"model": gen.choice(models)}
        for metric in ("weight", "rpm", "tpm", "input_cost_per_token", "output_cost_per_token"):
            if gen.random() < 0.3:
                params[metric] = gen.choice([0, 1, 2, 3, 0.25, 1000])
        d = {"model_name": gen.choice(names), "litellm_params": params}
        if gen.random() < 0.9:
            d["model_info"] = {"id": "id%d" % gen.randint(0, 40)}
        group.append(d)
    return group


@pytest.mark.parametrize("strategy", _spec.STRATEGIES)
def test_twins_agree_on_random_lists(strategy):
    """Same seed, same calls -> same picks, same random state, same stats."""
    from fast_litellm import _native_loader

    if _native_loader.NATIVE is None:
        pytest.skip("native core not built")
    py = routing.implementation("python").AdvancedRouter(strategy, lowest_latency_buffer=0.2)
    nat = routing.implementation("native").AdvancedRouter(strategy, lowest_latency_buffer=0.2)
    gen = random.Random(strategy)
    for trial in range(120):
        group = _random_list(gen)
        model = gen.choice(["a", "b", "openai/gpt-4o", "x", "openai/other", "zzz", "y/z"])
        blocked = gen.sample(["a", "x", "id1", "id2", "openai/*", "y/z"], gen.randint(0, 2))
        for key in gen.sample(["id%d" % i for i in range(41)], 5):
            action = gen.choice(["start", "end", "latency", "success"])
            value = gen.choice([0.1, 0.5, 1.0, 2.0])
            for router in (py, nat):
                if action == "start":
                    router.record_request_start(key)
                elif action == "end":
                    router.record_request_end(key)
                elif action == "latency":
                    router.record_latency(key, value)
                else:
                    router.record_success(key, latency=value, tokens=value * 10)
        seed = gen.random()
        plain = gen.random() < 0.5
        results = []
        for router in (py, nat):
            random.seed(seed)
            try:
                # half the trials take the plain call (the native one-call path)
                if plain:
                    picks = [router.get_available_deployment(group, model) for _ in range(3)]
                else:
                    picks = [router.get_available_deployment(group, model, blocked) for _ in range(3)]
                outcome = [id(p) if p is not None else None for p in picks]
            except Exception as exc:
                outcome = (type(exc), str(exc))
            results.append((outcome, random.getstate()))
        assert results[0] == results[1]
    assert py.get_stats() == nat.get_stats()


def test_threads_alternating_lists(api):
    """Picks from one router over two lists in several threads: every pick
    comes from the list it was asked about (recompiles race with picks)."""
    router = api.AdvancedRouter("simple_shuffle")
    lists = [[dep("m", "x", "a%d" % i, rpm=i + 1) for i in range(30)],
             [dep("m", "x", "b%d" % i, weight=i + 1) for i in range(40)]]

    class SlowVersion:
        def __init__(self, v):
            self.v = v

        def __eq__(self, other):
            time.sleep(0)  # lets another thread run mid-check
            return isinstance(other, SlowVersion) and other.v == self.v

        __hash__ = None

    errors = []

    def work(seed):
        gen = random.Random(seed)
        try:
            for _ in range(300):
                which = gen.randrange(2)
                settings = {"model_list_version": SlowVersion(which)} if gen.random() < 0.5 else None
                picked = router.get_available_deployment(lists[which], "m", settings=settings)
                if not picked["model_info"]["id"].startswith("ab"[which]):
                    errors.append(picked)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_plain_call_sees_changes_behind_odd_keys(api):
    """The witness takes a deployment's inner dicts unprobed only when every
    key of the deployment is an exact str; other keys are probed, and
    changes under them are still seen."""

    class Key(str):
        pass

    router = api.AdvancedRouter("cost_based")
    odd = [dep("m", "x", "p", input_cost_per_token=1), dep("m", "x", "q", input_cost_per_token=2)]
    odd[0][1] = "int key"
    odd[1][Key("sub")] = "str subclass key"
    assert ids(router.get_available_deployment(odd, "m")) == "p"
    odd[0]["litellm_params"]["input_cost_per_token"] = 3
    assert ids(router.get_available_deployment(odd, "m")) == "q"
    odd[1]["litellm_params"] = {"model": "x", "input_cost_per_token": 5}
    assert ids(router.get_available_deployment(odd, "m")) == "p"
    odd[0]["model_info"] = {"id": "p2"}
    assert ids(router.get_available_deployment(odd, "m")) == "p2"
    del odd[0]["model_info"]
    assert router.get_available_deployment(odd, "m")["litellm_params"]["input_cost_per_token"] == 3
    # swapping the inner dicts between keys (same objects, other places)
    plain = [dep("m", "x", "a", input_cost_per_token=1), dep("m", "x", "b", input_cost_per_token=2)]
    assert ids(router.get_available_deployment(plain, "m")) == "a"
    plain[0]["litellm_params"], plain[1]["litellm_params"] = plain[1]["litellm_params"], plain[0]["litellm_params"]
    assert ids(router.get_available_deployment(plain, "m")) == "b"


def test_plain_call_when_random_shrinks_the_list(impl, monkeypatch):
    """Python code run by the native draw (which looks ``random.random`` up
    on the module each time) may change the list: an IndexError as
    ``model_list[position]`` raises, never a crash."""
    if impl != "native":
        pytest.skip("the pure-Python twin draws through random.choices' own instance")
    router = routing.implementation(impl).AdvancedRouter("simple_shuffle")
    group = [dep("m", "x", "a", weight=1), dep("m", "x", "b", weight=1000)]
    real = random.random

    def shrinking():
        group.clear()
        return real()

    monkeypatch.setattr(random, "random", shrinking)
    with pytest.raises(IndexError):
        router.get_available_deployment(group, "m")


def test_plain_call_matches_the_general_path(api):
    """The plain call and the same call spelled with empty options pick the
    same deployments and leave random in the same state, per strategy."""
    group = [dep("m", "x", "id%d" % i, rpm=i + 1, input_cost_per_token=(i % 3) + 1) for i in range(80)]
    for strategy in _spec.STRATEGIES:
        router = api.AdvancedRouter(strategy, lowest_latency_buffer=0.5)
        for i in range(0, 80, 7):
            router.record_success("id%d" % i, latency=0.1 * (i % 4), tokens=5)
        random.seed(7)
        plain = [ids(router.get_available_deployment(group, "m")) for _ in range(20)]
        state = random.getstate()
        random.seed(7)
        general = [ids(router.get_available_deployment(group, "m", blocked_models=[], context={}))
                   for _ in range(20)]
        assert (plain, state) == (general, random.getstate())
        # a version alone takes the one-call path too; with another setting, the general one
        random.seed(7)
        versioned = [ids(router.get_available_deployment(group, "m", settings={"model_list_version": 3}))
                     for _ in range(20)]
        state = random.getstate()
        random.seed(7)
        general = [ids(router.get_available_deployment(
            group, "m", settings={"model_list_version": 3, "strategy": strategy})) for _ in range(20)]
        assert (versioned, state) == (general, random.getstate()) and versioned == plain


def test_changes_after_an_unchanged_rewrite_are_seen(api):
    """Rewriting a value with itself, or changing and restoring it, leaves
    the list as compiled (no recompile needed); a real change after that is
    still seen.  (Natively this exercises the dict-version stamps being
    renewed by a walk that found nothing changed.)"""
    router = api.AdvancedRouter("cost_based")
    group = [dep("m", "x", "p", input_cost_per_token=1), dep("m", "x", "q", input_cost_per_token=2)]
    params = group[0]["litellm_params"]
    for _ in range(3):
        assert ids(router.get_available_deployment(group, "m")) == "p"
        params["input_cost_per_token"] = params["input_cost_per_token"]
        assert ids(router.get_available_deployment(group, "m")) == "p"
        saved = params.pop("model")
        params["model"] = saved  # same entries, another order
        assert ids(router.get_available_deployment(group, "m")) == "p"
        group[1]["model_info"]["id"] = "q"
        group[0]["model_name"] = "m"
    params["input_cost_per_token"] = 3
    assert ids(router.get_available_deployment(group, "m")) == "q"
    group[1]["model_info"].update({"id": "q2"})
    assert ids(router.get_available_deployment(group, "m")) == "q2"
    group[1]["litellm_params"].clear()
    group[1]["litellm_params"]["model"] = "x"
    assert ids(router.get_available_deployment(group, "m")) == "p"  # q2 lost its price: 5.0 each
    inner = {"model": "x", "input_cost_per_token": 0.5}
    group[0]["litellm_params"] = inner
    assert ids(router.get_available_deployment(group, "m")) == "p"
    inner["input_cost_per_token"] = 50
    assert ids(router.get_available_deployment(group, "m")) == "q2"
    group[0] = group[0]  # the same object back in its place
    assert ids(router.get_available_deployment(group, "m")) == "q2"
    group.insert(0, group.pop())  # reordered: positions differ
    assert router.get_available_deployment(group, "m") is group[0]


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_fork_while_another_thread_holds_router_locks(api, impl):
    """A thread compiling a model list (or reading the price map) holds a
    lock; a fork at that moment used to leave it held forever in the
    child, whose next pick of a new list hung (gunicorn --preload)."""
    router = api.AdvancedRouter("simple_shuffle")
    one = [{"model_name": "a", "litellm_params": {"model": "x"}, "model_info": {"id": "1"}}]
    assert router.get_available_deployment(one, "a") is one[0]
    lock = "_compile_lock" if impl == "native" else "_lock"

    def child():
        two = one + [{"model_name": "b", "litellm_params": {"model": "y"}, "model_info": {"id": "2"}}]
        return router.get_available_deployment(two, "b") is two[1] and isinstance(_spec.price_map(), dict)

    getters = [lambda: getattr(router, lock), lambda: _spec._PRICE_LOCK]
    assert forked_child_status(getters, child) == 0
