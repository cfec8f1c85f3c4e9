"""A check shared by the Router memo tests: a kept verdict is dropped by
each change to a binding it relied on, and served again once undone."""
import pytest


def assert_each_change_declines(call, monkeypatch, changes, declined):
    """For each ``(owner, name, value)`` in ``changes``: ``call()`` is served
    (twice, so the second is from the memo), raises ``declined`` while
    ``owner.name`` is ``value``, and is served again once it is restored."""
    for owner, name, value in changes:
        assert call() and call()  # kept
        with monkeypatch.context() as m:
            m.setattr(owner, name, value)
            with pytest.raises(declined):
                call()
        assert call(), name
