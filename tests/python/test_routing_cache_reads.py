"""DualCache.get_cache / async_get_cache without the verbose-only repr
(fast_litellm.routing.cache_reads) against LiteLLM's own functions.

Both sides run with stock InMemoryCache methods (``engine.unpatched()``),
so everything that differs is the DualCache read itself.  Compared per
read: the result, what is printed (verbose on and off), and every log
record LiteLLM's logger receives - file, line, function, message and the
formatted traceback.  A failed read is logged by ``log_redis_failure``
with ``stacklevel=2`` and a traceback: the first fast version (a rewrite
in cache_reads.py) logged ``cache_reads.py:113`` and its own frame where
LiteLLM logs ``dual_cache.py:206``.
"""
from __future__ import annotations

import asyncio
import contextlib
import io
import logging

import pytest

pytest.importorskip("litellm")

import litellm._logging as logging_module  # noqa: E402
from litellm.caching.dual_cache import DualCache  # noqa: E402
from litellm.caching.in_memory_cache import InMemoryCache  # noqa: E402

from fast_litellm._native_loader import NATIVE  # noqa: E402
from fast_litellm.patching import engine  # noqa: E402
from fast_litellm.routing import cache_reads  # noqa: E402

needs_plain = pytest.mark.skipif(NATIVE is None or not hasattr(NATIVE, "router_repr_is_plain"),
                                 reason="native core not built")


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.seen = []

    def emit(self, record):
        exc = logging.Formatter().formatException(record.exc_info) if record.exc_info else None
        self.seen.append((record.levelname, record.pathname, record.lineno, record.funcName, record.module,
                          record.getMessage(), exc))


class _RaisingMemory(InMemoryCache):
    def get_cache(self, key, **kwargs):
        raise ValueError("memory read failed")

    async def async_get_cache(self, key, **kwargs):
        raise ValueError("async memory read failed")


class _FakeRedis:
    """What DualCache calls on its redis_cache for a read."""

    def __init__(self, value=None, error=None):
        self.value, self.error, self.calls = value, error, []

    def get_cache(self, key, parent_otel_span=None):
        self.calls.append(("get", key))
        if self.error is not None:
            raise self.error
        return self.value

    async def async_get_cache(self, key, parent_otel_span=None):
        self.calls.append(("aget", key))
        if self.error is not None:
            raise self.error
        return self.value


def _make(memory=None, redis=None):
    cache = DualCache(in_memory_cache=memory)
    cache.redis_cache = redis
    cache.in_memory_cache.set_cache("plain", {"d1": {"latency": [0.1, 0.2]}, "n": 3})
    cache.in_memory_cache.set_cache("text", "hello")
    return cache


@pytest.fixture(scope="module")
def functions():
    with engine.unpatched():
        originals = {name: DualCache.__dict__[name] for name in ("get_cache", "async_get_cache")}
    return {
        "stock": originals,
        "fast": {"get_cache": cache_reads.make_get_cache(originals["get_cache"]),
                 "async_get_cache": cache_reads.make_async_get_cache(originals["async_get_cache"])},
    }


def _observe(fn, make_cache, call, verbose):
    handler = _Records()
    logger = logging.getLogger("LiteLLM")
    saved_level, saved_verbose = logger.level, logging_module.set_verbose
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logging_module.set_verbose = verbose
    out = io.StringIO()
    try:
        with engine.unpatched(), contextlib.redirect_stdout(out):
            cache = make_cache()
            try:
                got = ("ok", repr(call(fn, cache)))
            except Exception as exc:  # compare type and message
                got = ("raised", type(exc).__name__, str(exc))
            redis_calls = list(getattr(cache.redis_cache, "calls", []))
            memory = sorted(map(repr, cache.in_memory_cache.cache_dict.items()))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved_level)
        logging_module.set_verbose = saved_verbose
    return got, out.getvalue(), handler.seen, redis_calls, memory


def _sync(key, **kwargs):
    return "get_cache", lambda fn, cache: fn(cache, key, **kwargs)


def _async(key, **kwargs):
    return "async_get_cache", lambda fn, cache: asyncio.run(fn(cache, key, **kwargs))


CASES = {
    "unhashable key": (lambda: _make(), ["a", "list"]),
    "memory raises": (lambda: _make(_RaisingMemory()), "plain"),
    "redis raises": (lambda: _make(redis=_FakeRedis(error=ConnectionError("redis down"))), "missing"),
    "redis backfill": (lambda: _make(redis=_FakeRedis(value={"from": "redis"})), "missing"),
    "redis miss": (lambda: _make(redis=_FakeRedis()), "missing"),
    "plain hit": (lambda: _make(), "plain"),
    "text hit": (lambda: _make(), "text"),
    "miss": (lambda: _make(), "missing"),
}


@needs_plain
@pytest.mark.parametrize("verbose", [False, True])
@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_reads_log_and_print_as_litellm(functions, case, kind, verbose):
    make_cache, key = CASES[case]
    for kwargs in ({}, {"local_only": True}, {"parent_otel_span": None, "ttl": 5}):
        name, call = (_sync if kind == "sync" else _async)(key, **kwargs)
        stock = _observe(functions["stock"][name], make_cache, call, verbose)
        fast = _observe(functions["fast"][name], make_cache, call, verbose)
        assert fast == stock, (case, kwargs)


@needs_plain
def test_failure_is_logged_from_litellms_line(functions):
    """The regression itself, spelled out: file and line of the record."""
    name, call = _sync(["unhashable"])
    records = _observe(functions["fast"][name], lambda: _make(), call, False)[2]
    assert len(records) == 1
    level, path, line, func, module, message, exc = records[0]
    assert path.endswith("dual_cache.py") and module == "dual_cache" and func == "get_cache"
    assert "cache_reads" not in exc and message.startswith("LiteLLM Cache: exception in get_cache")


def test_fast_functions_look_like_litellms(functions):
    for name in ("get_cache", "async_get_cache"):
        stock, fast = functions["stock"][name], functions["fast"][name]
        assert fast is not stock
        assert (fast.__name__, fast.__qualname__, fast.__module__, fast.__doc__, fast.__defaults__,
                fast.__annotations__) == (stock.__name__, stock.__qualname__, stock.__module__, stock.__doc__,
                                          stock.__defaults__, stock.__annotations__)
        assert fast.__code__.co_filename == stock.__code__.co_filename
        assert fast.__code__.co_firstlineno == stock.__code__.co_firstlineno
        assert asyncio.iscoroutinefunction(fast) == asyncio.iscoroutinefunction(stock)


@needs_plain
@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("error", [MemoryError, RuntimeError])
def test_a_failing_native_check_reads_as_litellm_and_counts(monkeypatch, kind, error):
    """The check runs inside LiteLLM's ``try``: a native failure there was
    logged as a failed cache read and the read answered None (the cached
    value lost).  Now the value is read and printed as stock does, and the
    failure counts against the flag."""
    from fast_litellm import flags

    def broken(value):
        raise error("native check failed")

    monkeypatch.setattr(NATIVE, "router_repr_is_plain", broken)
    with engine.unpatched():
        originals = {name: DualCache.__dict__[name] for name in ("get_cache", "async_get_cache")}
    fast = {"get_cache": cache_reads.make_get_cache(originals["get_cache"]),
            "async_get_cache": cache_reads.make_async_get_cache(originals["async_get_cache"])}
    flag = flags.get_flag("rust_routing")
    flag.reset()
    try:
        for key in ("plain", "text", "missing"):
            name, call = (_sync if kind == "sync" else _async)(key)
            for verbose in (False, True):
                stock = _observe(originals[name], _make, call, verbose)
                assert _observe(fast[name], _make, call, verbose) == stock, (key, verbose)
        assert flag.errors > 0 and flag.last_error["type"] == error.__name__
    finally:
        flag.reset()
