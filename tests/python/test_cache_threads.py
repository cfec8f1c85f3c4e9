"""Thread safety of the accelerated InMemoryCache.

Interleavings differ between runs, so these compare what must hold for any
interleaving: increments are atomic (totals are exact, as stock guarantees
with _increment_lock), concurrent set/get/evict/flush never crash and keep
the visible structures consistent, and stored objects come back by identity.
"""
from __future__ import annotations

import random
import sys
import threading

import pytest

pytest.importorskip("litellm")

from litellm.caching.in_memory_cache import InMemoryCache  # noqa: E402

from fast_litellm import cache as fast_cache  # noqa: E402


@pytest.fixture(autouse=True)
def stock_outside_accelerated():
    """`import fast_litellm` lets the patch engine put the fast methods on the
    class; the stock side of every comparison must run LiteLLM's own code, so
    outside `accelerated()` blocks the class carries the stock methods."""
    with fast_cache.stock():
        yield

THREADS = 6


@pytest.fixture(autouse=True)
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def run_threads(target):
    errors = []

    def wrapped(i):
        try:
            target(i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.mark.parametrize("accelerate", [True, False], ids=["fast", "stock"])
def test_concurrent_increments_are_exact(impl, accelerate):
    cache = InMemoryCache(max_size_in_memory=1000)
    n = 2000

    def work(i):
        for j in range(n):
            cache.increment_cache("shared", 1)
            cache.increment_cache("k%d" % (j % 5), 2, ttl=60)

    ctx = fast_cache.accelerated(impl) if accelerate else _nothing()
    with ctx:
        run_threads(work)
        assert cache.get_cache("shared") == THREADS * n
        assert sum(cache.get_cache("k%d" % j) for j in range(5)) == THREADS * n * 2


def test_concurrent_mixed_operations_stay_consistent(impl):
    cache = InMemoryCache(max_size_in_memory=20, default_ttl=1)
    values = [{"i": i} for i in range(50)]
    stored_ids = {id(v) for v in values}

    def work(i):
        rng = random.Random(i)
        for _ in range(3000):
            key = "k%d" % rng.randrange(40)
            r = rng.random()
            if r < 0.4:
                cache.set_cache(key, rng.choice(values), ttl=rng.choice([None, 0.001, 5]))
            elif r < 0.8:
                got = cache.get_cache(key)
                assert got is None or id(got) in stored_ids
            elif r < 0.9:
                for got in cache.batch_get_cache([key, "k1", "k2"]):
                    assert got is None or id(got) in stored_ids
            elif r < 0.97:
                cache.delete_cache(key)
            elif r < 0.99:
                cache.evict_cache()
            else:
                cache.flush_cache()

    with fast_cache.accelerated(impl):
        run_threads(work)
        cache.set_cache("final", values[0])
    assert len(cache.cache_dict) <= 20
    assert set(cache.ttl_dict) <= set(cache.cache_dict) | set(cache.ttl_dict)
    for expiry, key in cache.expiration_heap:
        assert isinstance(expiry, float) and isinstance(key, str)
    assert cache.cache_dict["final"] is values[0]


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
