"""Session 21 hunt on the standalone components: bad arguments give both
twins' same error (type and message), and a subclass's own methods
(__eq__, __hash__, comparisons) never decide a check.  One suite over both
twins (the ``impl`` fixture)."""
from __future__ import annotations

import decimal
import fractions

import pytest

from fast_litellm import monitor, pool, ratelimit, routing
from fast_litellm.monitor import PerformanceMonitor
from _hostile import IntLies  # noqa: E402


class StrEqAll(str):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __hash__(self):
        return 0


class StrHashRaises(str):
    def __hash__(self):
        raise RuntimeError("hash called")

    def __eq__(self, other):
        raise RuntimeError("eq called")


def error_of(call):
    with pytest.raises(Exception) as info:
        call()
    return type(info.value), str(info.value)


# -- type names in messages: type(x).__name__ in both twins ------------------
# (the C binding printed tp_name: "decimal.Decimal" where the twin says "Decimal")

FOREIGN = [decimal.Decimal("1"), fractions.Fraction(1, 3), 1j]


@pytest.mark.parametrize("value", FOREIGN, ids=lambda v: type(v).__name__)
def test_type_names_in_errors_are_dunder_name(impl, value):
    name = type(value).__name__
    rl = ratelimit.implementation(impl).SimpleRateLimiter(60)
    assert error_of(lambda: rl.check(value)) == (TypeError, "key must be a str or None, not %s" % name)
    assert error_of(lambda: rl.check("k", value)) == (TypeError, "cost must be an int, not %s" % name)
    assert error_of(lambda: rl.get_remaining(value)) == (TypeError, "key must be a str or None, not %s" % name)
    assert error_of(lambda: ratelimit.implementation(impl).key_fingerprint(value)) == (
        TypeError, "key must be a str or None, not %s" % name)
    rl_clock = ratelimit.implementation(impl).SimpleRateLimiter(60, clock=lambda: value)
    assert error_of(lambda: rl_clock.check("k")) == (
        TypeError, "clock must return seconds as a float, not %s" % name)
    p = pool.implementation(impl).SimpleConnectionPool("p")
    assert error_of(lambda: p.get_connection(value)) == (TypeError, "endpoint must be a str, not %s" % name)
    assert error_of(lambda: p.return_connection(value)) == (
        TypeError, "connection_id must be a str, not %s" % name)
    mon = PerformanceMonitor(monitor.implementation(impl).Monitor(), impl)
    assert error_of(lambda: mon.record_performance(value, "op", 1.0)) == (
        TypeError, "component must be str, not %s" % name)
    assert error_of(lambda: mon.record_performance("c", "op", value)) == (
        TypeError, "duration_ms must be int or float, not %s" % name)
    assert error_of(lambda: mon.record_performance("c", "op", 1.0, True, value)) == (
        TypeError, "input_size must be int or None, not %s" % name)
    assert error_of(lambda: monitor.implementation(impl).Monitor(max_series=value)) == (
        TypeError, "max_series must be int, not %s" % name)


# -- an int subclass's comparisons never decide a range check ----------------

@pytest.mark.parametrize("value", [-100, 0, 5000])
def test_monitor_max_series_range_ignores_subclass_comparisons(impl, value):
    with pytest.raises(ValueError, match="max_series must be from 1 to 4096, got %d" % value):
        monitor.implementation(impl).Monitor(max_series=IntLies(value))


@pytest.mark.parametrize("value", [-100, 0, 1001])
def test_router_latency_list_size_range_ignores_subclass_comparisons(impl, value):
    with pytest.raises(ValueError, match="max_latency_list_size must be between 1 and 1000"):
        routing.implementation(impl).AdvancedRouter("least_busy", max_latency_list_size=IntLies(value))


def test_router_latency_list_size_subclass_is_its_value(impl):
    router = routing.implementation(impl).AdvancedRouter("latency_based", max_latency_list_size=IntLies(2))
    for latency in (1.0, 2.0, 3.0):
        router.record_latency("d", latency)
    assert router.get_stats()["d"]["latency_samples"] == 2
    assert router.get_stats()["d"]["mean_latency"] == 2.5


# -- a str subclass is its text -----------------------------------------------

def test_router_strategy_subclass_with_lying_eq_is_rejected(impl):
    api = routing.implementation(impl)
    with pytest.raises(ValueError, match="unknown routing strategy 'bogus'"):
        api.AdvancedRouter(StrEqAll("bogus"))
    router = api.AdvancedRouter()
    model_list = [{"model_name": "m", "litellm_params": {"model": "x"}}]
    with pytest.raises(ValueError, match="unknown routing strategy 'bogus'"):
        router.get_available_deployment(model_list, "m", settings={"strategy": StrEqAll("bogus")})
    router = api.AdvancedRouter(StrEqAll("cost_based"))
    assert type(router.strategy) is str and router.strategy == "cost_based"


MODEL_LIST = [
    {"model_name": "gpt", "litellm_params": {"model": "openai/gpt"}, "model_info": {"id": "a"}},
    {"model_name": "g*", "litellm_params": {"model": "x"}, "model_info": {"id": "w"}},
]


@pytest.mark.parametrize("cls", [StrEqAll, StrHashRaises])
def test_router_model_subclass_is_matched_by_its_text(impl, cls):
    router = routing.implementation(impl).AdvancedRouter()
    assert router.get_available_deployment(MODEL_LIST, cls("gx")) is MODEL_LIST[1]
    assert router.get_available_deployment(MODEL_LIST, cls("gpt")) is MODEL_LIST[0]
    assert router.get_available_deployment(MODEL_LIST, cls("nope")) is None
    assert router.get_available_deployment(MODEL_LIST, cls("gpt"), [cls("gpt")]) is None
    assert router.get_available_deployment(MODEL_LIST, "gx", [cls("w")]) is None


@pytest.mark.parametrize("cls", [StrEqAll, StrHashRaises])
def test_router_model_name_subclass_in_list_is_its_text(impl, cls):
    model_list = [
        {"model_name": cls("gpt"), "litellm_params": {"model": cls("openai/gpt")}, "model_info": {"id": "a"}},
        {"model_name": "other", "litellm_params": {"model": "y"}},
    ]
    router = routing.implementation(impl).AdvancedRouter()
    assert router.get_available_deployment(model_list, "gpt") is model_list[0]
    assert router.get_available_deployment(model_list, "openai/gpt") is model_list[0]
    assert router.get_available_deployment(model_list, "other") is model_list[1]
    assert router.get_available_deployment(model_list, "zzz") is None


@pytest.mark.parametrize("cls", [StrEqAll, StrHashRaises])
def test_router_deployment_key_subclass_is_its_text(impl, cls):
    router = routing.implementation(impl).AdvancedRouter()
    router.record_request_start(cls("d1"))
    router.record_success(cls("d2"), 0.5, 3)
    stats = router.get_stats()
    assert sorted(stats) == ["d1", "d2"] and all(type(k) is str for k in stats)
    assert stats["d1"]["in_flight"] == 1 and stats["d2"]["successes"] == 1


# -- pool: an endpoint is validated as its text ------------------------------

class EndpointLies(str):
    """Its own string methods say host:port, whatever its text."""

    def rpartition(self, sep):
        return ("h", ":", "80")

    def __contains__(self, item):
        return False

    def isprintable(self):
        return True


@pytest.mark.parametrize("text", ["garbage", "http://", "h\n:80", "a b:80"])
def test_pool_endpoint_subclass_is_validated_as_its_text(impl, text):
    p = pool.implementation(impl).SimpleConnectionPool("p")
    message = "endpoint must be a URL (scheme://host[:port]) or host:port, got %r" % (text,)
    assert error_of(lambda: p.get_connection(EndpointLies(text))) == (ValueError, message)
    assert p.get_stats()["endpoints"] == {}


def test_pool_endpoint_subclass_is_kept_as_its_text(impl):
    p = pool.implementation(impl).SimpleConnectionPool("p")
    cid = p.get_connection(EndpointLies("host:8080"))
    assert cid is not None and list(p.get_stats()["endpoints"]) == ["host:8080"]
    p.return_connection(cid)
    assert p.get_connection("host:8080") == cid


# -- rate limiter: the backend name is its text ------------------------------

def test_ratelimit_backend_subclass_with_lying_eq_is_rejected(impl):
    cls = ratelimit.implementation(impl).SimpleRateLimiter
    with pytest.raises(ValueError, match="backend must be one of memory, redis, got 'bogus'"):
        cls(60, backend=StrEqAll("bogus"))
    assert cls(60, backend=StrEqAll("memory")).backend == "memory"


# -- SimpleTokenCounter: int arguments are their values ----------------------

def test_token_counter_int_subclass_comparisons_never_decide(impl):
    from fast_litellm import tokenizer

    cls = tokenizer.implementation(impl).SimpleTokenCounter
    with pytest.raises(ValueError, match="model_max_tokens must be positive, got -5"):
        cls(IntLies(-5))
    assert cls(IntLies(7)).model_max_tokens == 7
    counter = cls()
    with pytest.raises(ValueError, match="input_tokens must be >= 0, got -100"):
        counter.estimate_cost(IntLies(-100), 10, "gpt-4o")
    with pytest.raises(ValueError, match="output_tokens must be >= 0, got -1"):
        counter.estimate_cost(10, IntLies(-1), "gpt-4o")
    assert counter.estimate_cost(IntLies(10), IntLies(20), "gpt-4o") == counter.estimate_cost(10, 20, "gpt-4o")


@pytest.mark.parametrize("threads", [-100, 0, 65])
def test_count_batch_num_threads_subclass_comparisons_never_decide(impl, threads):
    """The twin's core took IntLies(0) threads (the C core refused it with
    another message)."""
    from fast_litellm import tokenizer

    enc = tokenizer.implementation(impl).get_encoding("cl100k_base")
    with pytest.raises(ValueError, match="num_threads must be between 1 and 64, got %d" % threads):
        enc.count_batch(["a", "b c"], num_threads=IntLies(threads))
    assert enc.count_batch(["a", "b c"], num_threads=IntLies(2)) == [1, 2]


# -- copy / pickle: the same in both twins -----------------------------------

def _stateful(impl):
    yield ratelimit.implementation(impl).SimpleRateLimiter(5, burst=2), "SimpleRateLimiter"
    yield pool.implementation(impl).SimpleConnectionPool("zz", max_per_endpoint=2), "SimpleConnectionPool"
    yield monitor.implementation(impl).Monitor(max_series=7), "Monitor"


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle"])
def test_stateful_twins_refuse_copy_and_pickle_alike(impl, how):
    """The C twins refused copy.copy; the Python twins' copy shared the lock
    and buckets but not the counters, and their pickle failed naming
    '_thread.lock' (the C monitor's named 'fast_litellm._native.Monitor')."""
    import copy
    import pickle

    do = {"copy": copy.copy, "deepcopy": copy.deepcopy,
          "pickle": lambda o: pickle.loads(pickle.dumps(o))}[how]
    for obj, name in _stateful(impl):
        assert error_of(lambda: do(obj)) == (TypeError, "cannot pickle '%s' object" % name)


def test_token_counter_pickles_as_its_twin(impl):
    """The Python twin's SimpleTokenCounter could not be pickled (its class
    is made per twin, so pickle did not find it by name)."""
    import copy
    import pickle

    from fast_litellm import tokenizer

    counter = tokenizer.implementation(impl).SimpleTokenCounter(77)
    for clone in (pickle.loads(pickle.dumps(counter)), copy.deepcopy(counter), copy.copy(counter)):
        assert type(clone) is type(counter) and clone.model_max_tokens == 77
        assert clone.count_tokens("hello world") == 2


# -- model_list_version: the same object is the same version -----------------

class _EqRaises:
    def __eq__(self, other):
        raise RuntimeError("__eq__ called")

    __hash__ = object.__hash__


@pytest.mark.parametrize("version", [float("nan"), decimal.Decimal("nan"), _EqRaises()],
                         ids=["nan", "Decimal-nan", "eq-raises"])
def test_router_same_version_object_is_the_same_version(impl, version):
    """The C core compares versions as containers do (identity first); the
    twin's == re-read a NaN version's list every pick and ran a version's
    __eq__ against itself (here: raised where the C core picked)."""
    import random

    router = routing.implementation(impl).AdvancedRouter()
    model_list = [{"model_name": "m", "litellm_params": {"model": "a"}},
                  {"model_name": "m", "litellm_params": {"model": "b"}}]
    settings = {"model_list_version": version}
    random.seed(1)
    first = router.get_available_deployment(model_list, "m", settings=settings)
    model_list[0]["model_name"] = "renamed"  # the caller's promise broken: the compiled index stays
    picks = set()
    for seed in range(12):
        random.seed(seed)
        picks.add(router.get_available_deployment(model_list, "m", settings=settings)["litellm_params"]["model"])
    assert first is not None and picks == {"a", "b"}
    if isinstance(version, _EqRaises):
        return  # comparing another version with it raises, in both twins
    # another version object that is not equal: the list is read again
    picks = {router.get_available_deployment(model_list, "m", settings={"model_list_version": 2})["litellm_params"]["model"]
             for _ in range(12)}
    assert picks == {"b"}


def test_redis_failure_policy_subclass_with_lying_eq_is_rejected():
    from fast_litellm.ratelimit._redis import RedisRateLimiter

    class Client:
        def register_script(self, script):
            return None

    with pytest.raises(ValueError, match="failure_policy must be 'open' or 'closed', got 'bogus'"):
        RedisRateLimiter(60, failure_policy=StrEqAll("bogus"), redis_client=Client())
    assert RedisRateLimiter(60, failure_policy=StrEqAll("closed"), redis_client=Client()).failure_policy == "closed"
