"""Property-based test: random operation sequences on each twin of
SimpleConnectionPool against a deliberately simple model (lists and
counters, no cleverness); every answer and every counter must match."""
from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from fast_litellm import pool as pool_pkg

ENDPOINTS = ["http://a:1", "b:2", "https://c"]
COUNTERS = ("active", "idle", "created", "reused", "expired", "rejected", "removed")


class Model:
    """conns: id -> dict(ep, state, unhealthy, created, returned)."""

    def __init__(self, per, total, idle, life):
        self.per, self.total, self.idle_t, self.life = per, total, idle, life
        self.conns = {}
        self.stacks = {}  # ep -> list of ids, top = last
        self.c = {}  # ep -> counters
        self.invalid = 0
        self.next = 1
        self.retired = dict.fromkeys(COUNTERS, 0)  # summed counters of retired endpoints
        self.n_retired = 0

    def expired(self, c, now):
        if self.life is not None and now - c["created"] > self.life:
            return True
        return c["state"] == "idle" and self.idle_t is not None and now - c["returned"] > self.idle_t

    def drop(self, cid):
        c = self.conns.pop(cid)
        if c["state"] == "idle":
            self.stacks[c["ep"]].remove(cid)
            self.c[c["ep"]]["idle"] -= 1
        else:
            self.c[c["ep"]]["active"] -= 1
        return c

    def get(self, ep, now):
        self.stacks.setdefault(ep, [])
        cnt = self.c.setdefault(ep, dict.fromkeys(COUNTERS, 0))
        while self.stacks[ep]:
            cid = self.stacks[ep][-1]
            if self.expired(self.conns[cid], now):
                self.drop(cid)
                cnt["expired"] += 1
                continue
            self.stacks[ep].pop()
            self.conns[cid]["state"] = "active"
            cnt["idle"] -= 1
            cnt["active"] += 1
            cnt["reused"] += 1
            return cid
        if cnt["active"] + cnt["idle"] >= self.per or len(self.conns) >= self.total:
            cnt["rejected"] += 1
            return None
        cid = self.next
        self.next += 1
        self.conns[cid] = dict(ep=ep, state="active", unhealthy=False, created=now, returned=now)
        cnt["active"] += 1
        cnt["created"] += 1
        return cid

    def ret(self, cid, now):
        c = self.conns.get(cid)
        if c is None or c["state"] != "active":
            self.invalid += 1
        elif c["unhealthy"]:
            self.drop(cid)
            self.c[c["ep"]]["removed"] += 1
        elif self.expired(c, now):
            self.drop(cid)
            self.c[c["ep"]]["expired"] += 1
        else:
            c["state"], c["returned"] = "idle", now
            self.c[c["ep"]]["active"] -= 1
            self.c[c["ep"]]["idle"] += 1
            self.stacks[c["ep"]].append(cid)

    def remove(self, cid):
        if cid not in self.conns:
            self.invalid += 1
        else:
            self.c[self.drop(cid)["ep"]]["removed"] += 1

    def mark(self, cid):
        c = self.conns.get(cid)
        if c is None:
            self.invalid += 1
            return False
        if c["state"] == "idle":
            self.drop(cid)
            self.c[c["ep"]]["removed"] += 1
        else:
            c["unhealthy"] = True
        return True

    def healthy(self, cid, now):
        c = self.conns.get(cid)
        return c is not None and not c["unhealthy"] and not self.expired(c, now)

    def cleanup(self, now):
        n = 0
        for ep, stack in self.stacks.items():
            for cid in [i for i in stack if self.expired(self.conns[i], now)]:
                self.drop(cid)
                self.c[ep]["expired"] += 1
                n += 1
        for ep in [ep for ep, cnt in self.c.items() if cnt["active"] == 0 and cnt["idle"] == 0]:
            for k, v in self.c.pop(ep).items():
                self.retired[k] += v
            del self.stacks[ep]
            self.n_retired += 1
        return n


class PoolMachine(RuleBasedStateMachine):
    kind = "python"

    @initialize(per=st.integers(1, 3), total=st.integers(1, 5),
                idle=st.sampled_from([None, 0, 2, 5]), life=st.sampled_from([None, 3, 10]))
    def setup(self, per, total, idle, life):
        self.now = 0
        self.pool = pool_pkg.implementation(self.kind).SimpleConnectionPool(
            max_per_endpoint=per, max_total=total, idle_timeout_s=idle, max_lifetime_s=life,
            clock=lambda: self.now)
        self.model = Model(per, total, None if idle is None else idle * 10**9,
                           None if life is None else life * 10**9)
        self.ids = {}  # model id -> pool id
        self.prefix = None

    def pick(self, data, include_bogus=True):
        choices = sorted(self.ids)
        if include_bogus:
            choices = choices + [-1]
        return data.draw(st.sampled_from(choices)) if choices else -1

    def pool_id(self, mid):
        return self.ids.get(mid, "conn-424242-1")

    @rule(ep=st.sampled_from(ENDPOINTS))
    def get(self, ep):
        got = self.pool.get_connection(ep)
        mid = self.model.get(ep, self.now * 10**9)
        assert (got is None) == (mid is None)
        if mid is not None:
            if mid in self.ids:
                assert self.ids[mid] == got
            else:
                assert got not in self.ids.values()
                self.ids[mid] = got

    @rule(data=st.data())
    def return_(self, data):
        mid = self.pick(data)
        self.pool.return_connection(self.pool_id(mid))
        self.model.ret(mid, self.now * 10**9)

    @rule(data=st.data())
    def remove(self, data):
        mid = self.pick(data)
        self.pool.remove_connection(self.pool_id(mid))
        self.model.remove(mid)

    @rule(data=st.data())
    def mark_unhealthy(self, data):
        mid = self.pick(data)
        assert self.pool.mark_unhealthy(self.pool_id(mid)) == self.model.mark(mid)

    @rule(data=st.data())
    def health(self, data):
        mid = self.pick(data)
        assert self.pool.health_check(self.pool_id(mid)) == self.model.healthy(mid, self.now * 10**9)

    @rule(dt=st.integers(0, 4))
    def advance(self, dt):
        self.now += dt

    @rule()
    def cleanup(self):
        assert self.pool.cleanup() == self.model.cleanup(self.now * 10**9)

    @invariant()
    def counters_match(self):
        if not hasattr(self, "pool"):
            return
        s = self.pool.get_stats()
        assert list(s["endpoints"]) == list(self.model.c)  # retired ones gone, first-use order
        for ep, cnt in self.model.c.items():
            got = s["endpoints"][ep]
            assert {k: got[k] for k in COUNTERS} == cnt, ep
        for k in COUNTERS:
            assert s[k] == self.model.retired[k] + sum(c[k] for c in self.model.c.values()), k
        assert s["retired_endpoints"] == self.model.n_retired
        assert s["invalid"] == self.model.invalid
        assert s["total"] == len(self.model.conns) <= self.model.total


def run_machine(kind):
    from hypothesis.stateful import run_state_machine_as_test

    machine = type("PoolMachine_" + kind, (PoolMachine,), {"kind": kind})
    run_state_machine_as_test(
        machine, settings=settings(max_examples=60, stateful_step_count=40, deadline=None))


def test_pool_matches_model(impl):
    run_machine(impl)


@pytest.mark.parametrize("kind", ["python"])
def test_model_itself_is_sane(kind):
    m = Model(1, 1, None, None)
    assert m.get("x", 0) == 1 and m.get("x", 0) is None
    m.ret(1, 0)
    assert m.get("x", 0) == 1
