"""The native guard-memo read (``RouterMemo.get``, the base of
``protocol_fast._StateMemo`` where tags exist) against the Python one
(``_PyMemoBase.get``, which calls ``router_dict_tags``): the same answer for
the same entry after every kind of change to the dicts and types it
tags, other keys, non-tuple entries and entries of odd shapes."""
from __future__ import annotations

import random

import pytest

from fast_litellm.routing import protocol_fast

NATIVE = getattr(__import__("fast_litellm._native_loader", fromlist=["NATIVE"]).NATIVE, "RouterMemo", None)
pytestmark = pytest.mark.skipif(NATIVE is None or protocol_fast._dict_tags() is None,
                                reason="no native RouterMemo or no dict tags")


def _pair(entry):
    native, python = NATIVE(), protocol_fast._PyMemoBase()
    native._entry = entry
    python._entry = entry
    return native, python


def test_memo_get_matches_the_python_read():
    gen = random.Random(18)
    tags = protocol_fast._dict_tags()

    class Kind:
        pass

    for _ in range(300):
        dicts = [{"k%d" % i: i} for i in range(gen.randint(0, 4))]
        kinds = [type("K%d" % i, (Kind,), {}) for i in range(gen.randint(0, 2))]
        objects = tuple(dicts + kinds)
        first, second = object(), object()
        value = gen.choice([(True,), (), ("v", 1), None])
        entry = (first, second, objects, tags, tags(objects), value)
        native, python = _pair(entry)
        asks = [(first, second), (second, first), (first, object())]
        for step in range(4):
            for a, b in asks:
                assert native.get(a, b) == python.get(a, b)
                assert native.get(a, b) is python.get(a, b) or value is None
            change = gen.randrange(6)
            if change == 0 and dicts:
                gen.choice(dicts)["new%d" % step] = step
            elif change == 1 and dicts:
                d = gen.choice(dicts)
                if d:
                    del d[next(iter(d))]
            elif change == 2 and kinds:
                setattr(gen.choice(kinds), "attr%d" % step, step)
            elif change == 3 and dicts:
                d = gen.choice(dicts)
                for key in list(d):
                    d[key] = d[key]  # the same value stored again: the tag still moves
            # 4, 5: no change
    for odd in (None, (), (1, 2), "x", (1, 2, 3, 4, 5, 6), [1, 2, 3, 4, 5, 6]):
        native = NATIVE()
        native._entry = odd
        assert native.get(1, 2) is None


def test_state_memo_uses_the_native_read():
    assert NATIVE in protocol_fast._StateMemo.__mro__
