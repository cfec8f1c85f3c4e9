"""Native twin of the seed router: the same API as :mod:`._python`, with
matching, blocking and the strategies in the C core
(``fast_litellm._native.RouterCore``, csrc/router/).

Validation and the reading of a model list into specs are shared with the
pure-Python twin (:mod:`._spec`), so both raise the same errors; the C core
then keeps the compiled index and checks, on each pick, that the list is
still the one compiled (same list object, same deployment dicts, same value
objects) before using it.
"""
from __future__ import annotations

import math
import threading
from typing import Any, Dict, List, Optional, Sequence

from .._native_loader import NATIVE
from . import _spec
from ._spec import STRATEGIES
from .._forksafe import register_for_fork

__all__ = ["AdvancedRouter", "get_available_deployment", "STRATEGIES"]

if NATIVE is None or not hasattr(NATIVE, "RouterCore"):  # pragma: no cover - depends on the build
    raise ImportError("fast_litellm._native.RouterCore is not available")

_CODES = {name: i for i, name in enumerate(NATIVE.ROUTER_STRATEGIES)}
assert tuple(NATIVE.ROUTER_STRATEGIES) == STRATEGIES


class AdvancedRouter:
    """Pick a deployment for a model from a LiteLLM-shaped model list."""

    def __init__(self, strategy: str = "simple_shuffle", *, lowest_latency_buffer: float = 0.0,
                 max_latency_list_size: int = 10) -> None:
        self._strategy = _spec.check_strategy(strategy)
        self._buffer = _spec.check_buffer(lowest_latency_buffer)
        self._core = NATIVE.RouterCore(_spec.check_latency_list_size(max_latency_list_size))
        self._core.configure(_CODES[self._strategy], self._buffer)
        # the plain call (no blocked models, context or settings) in one C call
        self._pick_default = self._core.pick_default
        # compiling swaps the core's index; picks never wait on it.  Reentrant:
        # reading the specs may run a caller's code that picks again
        self._compile_lock = threading.RLock()
        register_for_fork(self)

    def _after_fork_in_child(self) -> None:
        self._compile_lock = threading.RLock()

    @property
    def strategy(self) -> str:
        return self._strategy

    @property
    def lowest_latency_buffer(self) -> float:
        return self._buffer

    def get_available_deployment(self, model_list: List[Dict[str, Any]], model: str,
                                 blocked_models: Optional[Sequence[str]] = None,
                                 context: Any = None, settings: Any = None) -> Optional[Dict[str, Any]]:
        if blocked_models is None and context is None:
            if settings is None:
                picked = self._pick_default(model_list, model)
            elif type(settings) is dict and len(settings) == 1 and "model_list_version" in settings:
                picked = self._pick_default(model_list, model, settings["model_list_version"])
            else:
                picked = NotImplemented
            if picked is not NotImplemented:
                return picked
        if not isinstance(model, str):
            raise TypeError("model must be a str, not %s" % type(model).__name__)
        blocked = _spec.blocked_set(blocked_models) if blocked_models is not None else None
        if context is None and settings is None:
            code, buffer, tokens, version = _CODES[self._strategy], self._buffer, 0.0, None
        else:
            options = _spec.call_options(self._strategy, self._buffer, context, settings)
            code, buffer, tokens = _CODES[options.strategy], options.latency_buffer, options.input_tokens
            version = options.version
        minute = _spec.current_minute()
        core = self._core
        if type(model_list) is list:
            position = core.pick(model_list, model, blocked, code, buffer, tokens, minute, version)
        else:
            position = NotImplemented
        if position is NotImplemented:
            if not isinstance(model_list, list):
                _spec.deployment_specs(model_list)  # raises the TypeError for a bad list
            with self._compile_lock:
                # the core takes the list's witness before the specs are read,
                # so a change meanwhile (another thread's) is seen next time
                core.compile(model_list, _spec.deployment_specs, version)
                position = core.pick(model_list, model, blocked, code, buffer, tokens, minute, version, True)
        return None if position is None else model_list[position]

    def record_request_start(self, deployment: Any) -> None:
        """A request to ``deployment`` (a deployment dict or its id) started."""
        self._core.start(_spec.deployment_key(deployment))

    def record_request_end(self, deployment: Any) -> None:
        """A request to ``deployment`` ended (never below zero in flight)."""
        self._core.end(_spec.deployment_key(deployment))

    def record_latency(self, deployment: Any, latency: float) -> None:
        """Add one latency sample (seconds) to ``deployment``'s window."""
        self.record_outcome(deployment, latency=latency, success=None)

    def record_outcome(self, deployment: Any, latency: Optional[float] = None, success: Optional[bool] = True,
                       tokens: Optional[float] = None) -> None:
        """Record a finished request: its latency (seconds), whether it
        succeeded, and the tokens it used (counted against ``tpm``).  A
        success also counts one request against ``rpm`` this minute."""
        key = _spec.deployment_key(deployment)
        sample = -1.0 if latency is None else _spec.check_latency(latency)
        used = _spec._number(tokens, "tokens")
        if used is not None and (not math.isfinite(used) or used < 0):
            raise ValueError("tokens must be a finite number >= 0")
        if success is not None and not isinstance(success, bool):
            raise TypeError("success must be a bool or None")
        outcome = -1 if success is None else int(success)
        self._core.record(key, sample, outcome, -1.0 if used is None else used, _spec.current_minute())

    def record_success(self, deployment: Any, latency: Optional[float] = None, tokens: Optional[float] = None) -> None:
        self.record_outcome(deployment, latency=latency, success=True, tokens=tokens)

    def record_failure(self, deployment: Any, latency: Optional[float] = None) -> None:
        self.record_outcome(deployment, latency=latency, success=False)

    def get_stats(self) -> Dict[str, Dict[str, Any]]:
        """Per deployment key: in flight, mean latency, successes, failures,
        this minute's rpm/tpm used."""
        out = {}
        for key, in_flight, mean, samples, successes, failures, rpm_used, tpm_used in self._core.stats(
            _spec.current_minute()
        ):
            out[key] = {
                "in_flight": in_flight,
                "mean_latency": mean,
                "latency_samples": samples,
                "successes": successes,
                "failures": failures,
                "rpm_used": rpm_used,
                "tpm_used": tpm_used,
            }
        return out

    def reset(self) -> None:
        """Forget every recorded load and latency."""
        self._core.reset()


_DEFAULT_ROUTER = AdvancedRouter()


def get_available_deployment(model_list: List[Dict[str, Any]], model: str,
                             blocked_models: Optional[Sequence[str]] = None,
                             context: Any = None, settings: Any = None) -> Optional[Dict[str, Any]]:
    """Pick with the module's default router (``simple_shuffle``, or
    ``settings['strategy']``)."""
    return _DEFAULT_ROUTER.get_available_deployment(model_list, model, blocked_models, context, settings)
