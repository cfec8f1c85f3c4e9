"""Session 24 hunt: a user's wrapper made of ``functools`` objects over a
function we patch (docs/routing.md, "Session 24 (hunt24)").

``guards._wrapped_elsewhere`` followed every ``functools`` layer (for LiteLLM's
own ``@cache`` on ``_otel_runtime``), so a user's
``functools.update_wrapper(functools.partial(tracer, fn), fn)`` (or an
``lru_cache`` put over LiteLLM's function), installed before we patch, hashed
as LiteLLM's source and the engine replaced it: the tracer saw 2 calls of 8
(core token_counter) and 0 of 4 (utils).  Now a ``functools`` layer is followed
only over a function whose definition's outermost decorator is functools'
``cache`` / ``lru_cache`` (LiteLLM's own).
"""
from __future__ import annotations

import functools

import pytest

pytest.importorskip("litellm")

import litellm  # noqa: E402
import test_user_wrappers23 as W  # noqa: E402

from fast_litellm.patching import guards  # noqa: E402


def _partial_wrapper(inner, calls, name):
    def tracer(fn, *args, **kwargs):
        calls.append(name)
        return fn(*args, **kwargs)
    return functools.update_wrapper(functools.partial(tracer, inner), inner)


@pytest.mark.parametrize("mode", W.MODES)
@pytest.mark.parametrize("where", ["core", "utils"])
def test_a_users_partial_over_token_counter_is_called_as_stock(monkeypatch, mode, where):
    """Without the fix, mode "before": 2 calls of 8 (core), 0 of 4 (utils)."""
    import litellm.litellm_core_utils.token_counter as tc

    monkeypatch.setattr(W, "_counting_wrapper", _partial_wrapper)
    owner = tc if where == "core" else litellm.utils
    W._lockstep(owner, "token_counter", W._token_counts, mode)


def test_functools_layers_followed_only_over_a_decorated_definition():
    from litellm.integrations.otel import runtime
    from litellm.litellm_core_utils import token_counter as tc

    from litellm.router_strategy.lowest_latency import LowestLatencyLoggingHandler

    stock = tc.calculate_tiles_needed  # (not patched; defined without a decorator)
    assert not guards._cache_decorated(stock) and guards._cache_decorated(runtime._otel_runtime.__wrapped__)
    assert not guards.wrapped_elsewhere(stock)
    assert not guards.wrapped_elsewhere(runtime._otel_runtime)  # LiteLLM's own @cache
    assert guards.wrapped_elsewhere(functools.update_wrapper(functools.partial(stock), stock))
    assert guards.wrapped_elsewhere(functools.lru_cache(stock))
    assert guards.wrapped_elsewhere(functools.lru_cache(runtime._otel_runtime))  # a second layer
    # a method LiteLLM decorates with with_service_target (@wraps(fn) inside): a user's layer over it
    method = LowestLatencyLoggingHandler.__dict__["get_available_deployments"]
    method = getattr(method, "__fast_litellm_original__", method)
    assert not guards.wrapped_elsewhere(method)
    assert guards.wrapped_elsewhere(functools.update_wrapper(functools.partialmethod(method), method))
    assert guards.wrapped_elsewhere(functools.lru_cache(method))
