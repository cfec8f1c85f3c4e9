"""The Redis backend: one token bucket per key shared by every process and
machine that uses the same Redis.

Each check is one EVALSHA of the Lua script below (redis-py's Script falls
back to EVAL/SCRIPT LOAD on NOSCRIPT): atomic, one round trip.  The
arithmetic is the in-memory limiter's, exact in Lua's doubles because every
quantity stays below 2**53 (checked at construction).  Time comes from the
Redis server (TIME), so machines with skewed clocks agree, unless the
limiter was given a clock (tests), whose time is sent along.  A bucket that
refills completely is deleted; otherwise its key expires when it would be
full, so idle keys vanish.  Keys are named by the SHA-256 of the user's key
(never the key itself) under a namespace that defaults to the rate and burst.

When Redis fails (refused, timeout, any RedisError), the failure policy
decides: "open" allows (and logs), "closed" denies with a clear reason.
Each failure is counted, logged at most every 10 s, and counted against the
rust_rate_limiting feature flag; after a failure Redis is not tried again
for ``redis_retry_s`` so a dead Redis costs no time per request.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any, Callable, Dict, Optional

from . import _common as C

log = logging.getLogger("fast_litellm.ratelimit")

POLICIES = ("open", "closed")
REASON_FAIL_OPEN = "rate limit backend unavailable: allowed (fail-open)"
REASON_FAIL_CLOSED = "rate limit backend unavailable: denied (fail-closed)"

# ARGV: rate, cap, need, now_s, now_ns ("" = use TIME), units_per_token
LUA_CHECK = r"""
local rate = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local need = tonumber(ARGV[3])
local U = tonumber(ARGV[6])
local now_s, now_n
if ARGV[4] == '' then
  local t = redis.call('TIME')
  now_s = tonumber(t[1]); now_n = tonumber(t[2]) * 1000
else
  now_s = tonumber(ARGV[4]); now_n = tonumber(ARGV[5])
end
-- ceil(a / b) for integers a >= 0, b > 0, exact while a + b < 2^53
local function ceildiv(a, b)
  local q = math.floor(a / b)
  while q * b < a do q = q + 1 end
  while q > 0 and (q - 1) * b >= a do q = q - 1 end
  return q
end
local st = redis.call('HMGET', KEYS[1], 'u', 's', 'n')
local units, last_s, last_n = cap, now_s, now_n
local existed = st[1] ~= false and st[1] ~= nil
if existed then
  units = tonumber(st[1]); last_s = tonumber(st[2]); last_n = tonumber(st[3])
end
-- ds * 1e9 is exact for |ds| <= 1e9 s (1e18 = 2^18 * 5^18); adding now_n - last_n
-- is exact while the sum stays below 2^53, and past it the sum still exceeds
-- any refill time (< 2^53 ns), so refills are exact for any gap.  A clock
-- back by more than 1e9 s (31 years) counts as 1e9 s.
local ds = now_s - last_s
local elapsed
if ds > 1000000000 then elapsed = 1e18 elseif ds < -1000000000 then elapsed = -1e18
else elapsed = ds * 1000000000 + (now_n - last_n) end
if elapsed > 0 then
  if units < cap then
    if elapsed >= ceildiv(cap - units, rate) then units = cap
    else units = units + elapsed * rate end
  end
  last_s = now_s; last_n = now_n
end
if units >= cap then  -- full == absent: its time is now, even if the clock went back
  last_s = now_s; last_n = now_n; elapsed = 0
end
local verdict, wait = 0, 0
if need > cap then
  verdict = 2
elseif units >= need then
  units = units - need
else
  verdict = 1
  wait = ceildiv(need - units, rate)
  if elapsed < 0 then wait = wait - elapsed end
end
if units < cap then
  redis.call('HSET', KEYS[1], 'u', string.format('%.0f', units),
             's', string.format('%.0f', last_s), 'n', string.format('%.0f', last_n))
  local full_in_ms = math.floor(ceildiv(cap - units, rate) / 1000000) + 1000
  redis.call('PEXPIRE', KEYS[1], full_in_ms)
elseif existed then
  redis.call('DEL', KEYS[1])
end
local remaining = math.floor(units / U)
if remaining * U > units then remaining = remaining - 1 end
if (remaining + 1) * U <= units then remaining = remaining + 1 end
return {verdict, remaining, wait}
"""

MAX_EXACT = 2**53


class RedisRateLimiter:
    """SimpleRateLimiter(..., backend="redis"): same API and semantics as the
    in-memory limiter, state in Redis."""

    def __init__(self, requests_per_minute: int = 60, *, burst: Optional[int] = None,
                 redis_url: Optional[str] = None, clock: Optional[Callable[[], float]] = None,
                 keep_raw_keys: bool = False, failure_policy: str = "open",
                 redis_timeout_s: float = 0.1, redis_retry_s: float = 1.0,
                 namespace: Optional[str] = None, key_prefix: str = "fast_litellm:rl",
                 redis_client: Any = None) -> None:
        rate, burst, _ = C.check_config(requests_per_minute, burst, "redis", clock)
        if burst * C.UNITS_PER_TOKEN + rate >= MAX_EXACT:
            raise ValueError(
                "burst %d with requests_per_minute %d is too large for the Redis backend "
                "(burst * 60e9 + requests_per_minute must stay below 2**53)" % (burst, rate))
        if not isinstance(failure_policy, str):
            raise TypeError("failure_policy must be a str, not %s" % C.type_name(failure_policy))
        if namespace is not None and not isinstance(namespace, str):
            raise TypeError("namespace must be a str or None, not %s" % C.type_name(namespace))
        if not isinstance(key_prefix, str):
            raise TypeError("key_prefix must be a str, not %s" % C.type_name(key_prefix))
        failure_policy = C.exact_str(failure_policy)  # a subclass's __eq__ never passes it
        if failure_policy not in POLICIES:
            raise ValueError("failure_policy must be 'open' or 'closed', got %r" % (failure_policy,))
        for name, value in (("redis_timeout_s", redis_timeout_s), ("redis_retry_s", redis_retry_s)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError("%s must be a number, not %s" % (name, C.type_name(value)))
        redis_timeout_s = C.plain_number(redis_timeout_s)
        redis_retry_s = C.plain_number(redis_retry_s)
        for name, value in (("redis_timeout_s", redis_timeout_s), ("redis_retry_s", redis_retry_s)):
            if not (value >= 0 and C.is_finite(value)):
                raise ValueError("%s must be a finite number >= 0, got %r" % (name, value))
        # 0 makes redis-py's sockets non-blocking and >= ~1e10 s overflows its
        # time_t: either way every check failed, silently applying the policy
        if not 0 < redis_timeout_s < 9.2e9:
            raise ValueError("redis_timeout_s must be > 0 and < 9.2e9 seconds, got %r"
                             % (redis_timeout_s,))
        if redis_client is None:
            if redis_url is None:
                raise ValueError("backend='redis' needs redis_url (or redis_client)")
            if not isinstance(redis_url, str):
                raise TypeError("redis_url must be a str, not %s" % C.type_name(redis_url))
            redis_client = _make_client(redis_url, redis_timeout_s)
        self._rate = rate
        self._burst = burst
        self._cap = burst * C.UNITS_PER_TOKEN
        self._clock = clock
        self._policy = failure_policy
        self._retry_ns = int(min(redis_retry_s, 9.2e9) * 1e9)  # 1e300 s: inf ns, so cap it (292 years)
        self._prefix = "%s:%s:" % (key_prefix, namespace if namespace is not None
                                   else "%d:%d" % (rate, burst))
        self._client = redis_client
        self._script = redis_client.register_script(LUA_CHECK)
        self._lock = threading.Lock()
        self._down_until = 0  # monotonic ns: skip Redis until then
        self._last_log = 0
        self._keep_raw = bool(keep_raw_keys)
        self._checks = self._allowed = self._denied = self._errors = 0
        C.register_for_fork(self)

    @property
    def requests_per_minute(self) -> int:
        return self._rate

    @property
    def burst(self) -> int:
        return self._burst

    @property
    def backend(self) -> str:
        return "redis"

    @property
    def failure_policy(self) -> str:
        return self._policy

    def __repr__(self) -> str:
        return "SimpleRateLimiter(requests_per_minute=%d, burst=%d, backend='redis')" % (
            self._rate, self._burst)

    def _after_fork_in_child(self) -> None:
        self._lock = threading.Lock()

    def redis_key(self, key: Optional[str]) -> str:
        """The Redis key holding ``key``'s bucket."""
        key = C.check_key(key)
        return self._prefix + hashlib.sha256(C.key_bytes(key)).hexdigest()[:32]

    def _eval(self, key: str, cost: int):
        """(verdict, remaining, wait_ns) from Redis, or None when it failed."""
        if self._clock is None:
            now_s = now_n = ""
        else:  # read (and checked) first: a bad clock is an error, Redis up or down
            now = C.clock_ns(self._clock())
            now_s, now_n = divmod(now, 1_000_000_000)
        mono = time.monotonic_ns()
        if mono < self._down_until:
            return None
        need = cost * C.UNITS_PER_TOKEN if cost <= self._burst else self._cap + 1
        try:
            verdict, remaining, wait = self._script(
                keys=[self.redis_key(key)],
                args=[self._rate, self._cap, need, now_s, now_n, C.UNITS_PER_TOKEN])
            return int(verdict), int(remaining), int(wait)
        except Exception as exc:  # RedisError, OSError, timeouts: the policy decides
            self._failed(exc, mono)
            return None

    def _failed(self, exc: BaseException, mono: int) -> None:
        with self._lock:
            self._errors += 1
            self._down_until = mono + self._retry_ns
            should_log = mono - self._last_log >= 10_000_000_000 or self._last_log == 0
            if should_log:
                self._last_log = mono
        if should_log:
            log.warning("fast_litellm rate limiter: Redis unavailable (%s: %s); failing %s",
                        type(exc).__name__, exc, self._policy)

    def check(self, key: Optional[str] = None, cost: int = 1) -> Dict[str, Any]:
        key = C.check_key(key)
        cost = C.check_cost(cost)
        outcome = self._eval(key, cost)
        with self._lock:
            self._checks += 1
            if outcome is None:
                allowed = self._policy == "open"
            else:
                allowed = outcome[0] == 0
            if allowed:
                self._allowed += 1
            else:
                self._denied += 1
        if outcome is None:
            if allowed:
                return {"allowed": True, "reason": REASON_FAIL_OPEN, "remaining_requests": None}
            wait = max(self._down_until - time.monotonic_ns(), 0)
            return {"allowed": False, "reason": REASON_FAIL_CLOSED, "remaining_requests": 0,
                    "retry_after_ms": wait / 1e6}
        verdict, remaining, wait = outcome
        if verdict == 0:
            return {"allowed": True, "reason": C.REASON_OK, "remaining_requests": remaining}
        if verdict == 1:
            return {"allowed": False, "reason": C.REASON_DENIED, "remaining_requests": remaining,
                    "retry_after_ms": wait / 1e6}
        return {"allowed": False, "reason": C.REASON_COST_OVER_BURST,
                "remaining_requests": remaining, "retry_after_ms": None}

    def is_allowed(self, key: Optional[str] = None, cost: int = 1) -> bool:
        return self.check(key, cost)["allowed"]

    def get_remaining(self, key: Optional[str] = None) -> int:
        """Whole tokens available now (0 when Redis is unavailable)."""
        key = C.check_key(key)
        outcome = self._eval(key, 0)
        return 0 if outcome is None else outcome[1]

    def cleanup(self) -> int:
        """Nothing to do: Redis expires idle buckets itself."""
        return 0

    def get_stats(self, raw_keys: bool = False) -> Dict[str, Any]:
        """This process's counters (per-key state lives in Redis)."""
        if raw_keys and not self._keep_raw:
            raise ValueError("raw_keys=True needs SimpleRateLimiter(..., keep_raw_keys=True)")
        with self._lock:
            return {
                "backend": "redis",
                "requests_per_minute": self._rate,
                "burst": self._burst,
                "total_checks": self._checks,
                "allowed": self._allowed,
                "denied": self._denied,
                "redis_errors": self._errors,
                "failure_policy": self._policy,
                "redis_available": time.monotonic_ns() >= self._down_until,
                "tracked_keys": None,
                "keys": {},
            }


def _make_client(url: str, timeout_s: float) -> Any:
    try:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry
    except ImportError as exc:  # pragma: no cover - redis is a test dependency
        raise ImportError("backend='redis' needs the redis package "
                          "(pip install redis): %s" % exc) from exc

    return redis.Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry_on_timeout=False,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )
