"""Property-based test: random operation sequences on each twin of
SimpleRateLimiter (memory backend) against a deliberately naive model:
tokens as exact Fractions that refill continuously, no units, no table.
Full buckets are reclaimed when the C table rebuilds (the model keeps only
its room: 8, doubling): invisible while time runs forward, but once the
clock has gone back a kept bucket shows its earlier state and a reclaimed
one is full, so both twins must reclaim at the same moments.  Every answer (including retry_after_ms to the bit)
and every statistic must match after every step, with clocks that jump
forwards by months, go backwards, and rates and bursts from 1 to the limits."""
from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from fast_litellm import ratelimit
from fast_litellm.ratelimit import _common

NS_PER_MINUTE = 60 * 10**9
KEYS = st.one_of(st.sampled_from(["a", "b", "ключ", None]), st.integers(0, 24).map(str))
RATES = st.sampled_from([1, 7, 60, 6000, 2**40, _common.MAX_RATE])
BURSTS = st.sampled_from([1, 2, 5, 1000, _common.MAX_BURST])
# seconds: nanoseconds, fractions of a refill, hours, months, backwards
STEPS = st.one_of(st.sampled_from([0.0, 1e-9, 0.001, 0.5, 1.0, 3600.0, 3e6, -1.0, -3600.0, -3e6]),
                  st.floats(-100.0, 100.0))


class Model:
    """key -> (tokens (Fraction), time of the last update (ns))."""

    def __init__(self, rate: int, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.buckets: dict = {}
        self.room = 8
        self.checks = self.allowed = self.denied = 0

    def tokens_at(self, key, now):
        tokens, last = self.buckets.get(key, (self.burst, now))
        if now > last:
            tokens = min(Fraction(self.burst), tokens + Fraction((now - last) * self.rate, NS_PER_MINUTE))
        return tokens, last

    def check(self, key, cost, now):
        tokens, last = self.tokens_at(key, now)
        if now > last or tokens == self.burst:  # a full bucket is as good as none: its time is now
            last = now
        self.checks += 1
        result = {"remaining_requests": None}
        if cost > self.burst:
            self.denied += 1
            result = {"allowed": False, "reason": "cost exceeds burst", "retry_after_ms": None}
        elif tokens >= cost:
            self.allowed += 1
            tokens -= cost
            result = {"allowed": True, "reason": "ok"}
        else:
            self.denied += 1
            wait = math.ceil(Fraction((cost - tokens) * NS_PER_MINUTE) / self.rate) + max(0, last - now)
            result = {"allowed": False, "reason": "rate limit exceeded", "retry_after_ms": wait / 1e6}
        result["remaining_requests"] = math.floor(tokens)
        if key in self.buckets:
            self.buckets[key] = (tokens, last)
        elif tokens < self.burst:  # a new bucket: only when not full
            if len(self.buckets) >= self.room:
                self.reclaim(now)
            self.buckets[key] = (tokens, last)
        return result

    def reclaim(self, now):
        before = len(self.buckets)
        self.buckets = {k: b for k, b in self.buckets.items() if self.tokens_at(k, now)[0] < self.burst}
        self.room = 8
        while self.room < len(self.buckets) + 1:
            self.room *= 2
        return before - len(self.buckets)

    def remaining(self, key, now):
        return math.floor(self.tokens_at(key, now)[0])

    def keys(self, now):
        out = {}
        for key in self.buckets:
            tokens = self.tokens_at(key, now)[0]
            if tokens < self.burst:
                out[_common.key_fingerprint(key)] = {"remaining_requests": math.floor(tokens)}
        return out


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def ns(self) -> int:
        return math.floor(self.t * 1e9)


def machine_for(kind: str):
    impl = ratelimit.implementation(kind)

    class LimiterMachine(RuleBasedStateMachine):
        @initialize(rate=RATES, burst=BURSTS)
        def start(self, rate, burst):
            self.clock = Clock()
            self.limiter = impl.SimpleRateLimiter(rate, burst=burst, clock=self.clock)
            self.model = Model(rate, burst)

        @rule(key=KEYS, cost=st.one_of(st.integers(0, 3), st.sampled_from(["burst", "burst+1"]),
                                       st.just(2**70)))
        def check(self, key, cost):
            if cost == "burst":
                cost = self.model.burst
            elif cost == "burst+1":
                cost = self.model.burst + 1
            expect = self.model.check(key, cost, self.clock.ns())
            assert self.limiter.check(key, cost) == expect

        @rule(key=KEYS)
        def remaining(self, key):
            assert self.limiter.get_remaining(key) == self.model.remaining(key, self.clock.ns())

        @rule(seconds=STEPS)
        def advance(self, seconds):
            t = self.clock.t + seconds
            if abs(t) < 9e9:
                self.clock.t = t

        @rule()
        def cleanup(self):
            assert self.limiter.cleanup() == self.model.reclaim(self.clock.ns())

        @invariant()
        def stats_match(self):
            if not hasattr(self, "model"):
                return
            stats = self.limiter.get_stats()
            model = self.model
            assert (stats["total_checks"], stats["allowed"], stats["denied"]) == (
                model.checks, model.allowed, model.denied)
            keys = model.keys(self.clock.ns())
            assert stats["keys"] == keys and stats["tracked_keys"] == len(keys)

    return LimiterMachine


@pytest.mark.parametrize("kind", ["python", "native"])
def test_limiter_matches_the_model(kind):
    from fast_litellm._native_loader import native_has

    if kind == "native" and not native_has("RateLimiter"):
        pytest.skip("native rate limiter not built")
    machine = machine_for(kind)
    machine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
    machine.TestCase().runTest()
