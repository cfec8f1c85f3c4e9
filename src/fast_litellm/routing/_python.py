"""Pure-Python twin of the seed router (``AdvancedRouter``).

A model list is compiled once into an index: ``name -> positions`` for
exact ``model_name`` / ``litellm_params.model`` matches in list order, and
the wildcard ``model_name`` patterns.  The index is cached on the router,
keyed on the list object and its witness (see :mod:`._spec`), so a list
mutated in place is recompiled and an unchanged one is not.

Strategies:

* ``simple_shuffle``: weighted by ``weight``, else ``rpm``, else ``tpm``
  (each normalized by its largest value), else uniform; drawn with
  ``random.choices`` / ``random.choice`` as LiteLLM's simple shuffle does.
* ``least_busy``: fewest requests in flight (``record_request_start`` /
  ``record_request_end``); ties drawn with ``random.choice``.
* ``latency_based``: lowest mean of the last ``max_latency_list_size``
  recorded latencies (none recorded counts as 0); every candidate within
  ``lowest * (1 + lowest_latency_buffer)`` is drawn with ``random.choice``.
* ``cost_based``: lowest input + output per-token price (the deployment's
  own, else LiteLLM's price map, else 5.0 each); first in list order on ties.

Latency and cost skip deployments whose ``rpm`` / ``tpm`` limit the
current minute's recorded successes and tokens would exceed.
"""
from __future__ import annotations

import math
import random
import threading
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import _spec
from ._spec import STRATEGIES, Spec
from .._forksafe import register_for_fork

__all__ = ["AdvancedRouter", "get_available_deployment", "STRATEGIES"]


class _Index:
    __slots__ = ("specs", "exact", "wildcards")

    def __init__(self, specs: List[Spec]) -> None:
        self.specs = specs
        exact: Dict[str, List[int]] = {}
        wildcards: List[int] = []
        for i, spec in enumerate(specs):
            for name in (spec.model_name, spec.model):
                positions = exact.setdefault(name, [])
                if not positions or positions[-1] != i:
                    positions.append(i)
            if "*" in spec.model_name:
                wildcards.append(i)
        self.exact = exact
        self.wildcards = wildcards

    def candidates(self, model: str, blocked: frozenset) -> List[int]:
        found = self.exact.get(model)
        if not found:
            found = [i for i in self.wildcards if _spec.glob_match(self.specs[i].model_name, model)]
        if not blocked:
            return list(found)
        specs = self.specs
        return [
            i for i in found
            if specs[i].model_name not in blocked
            and specs[i].model not in blocked
            and not (specs[i].has_id and specs[i].key in blocked)
        ]


class _Load:
    __slots__ = ("in_flight", "latencies", "minute", "rpm_used", "tpm_used", "successes", "failures")

    def __init__(self) -> None:
        self.in_flight = 0
        self.latencies: List[float] = []
        self.minute = -1
        self.rpm_used = 0.0
        self.tpm_used = 0.0
        self.successes = 0
        self.failures = 0

    def usage(self, minute: int) -> Tuple[float, float]:
        return (self.rpm_used, self.tpm_used) if self.minute == minute else (0.0, 0.0)

    def mean_latency(self) -> float:
        total = 0.0
        for sample in self.latencies:
            total += sample
        return total / len(self.latencies) if self.latencies else 0.0


class AdvancedRouter:
    """Pick a deployment for a model from a LiteLLM-shaped model list."""

    def __init__(self, strategy: str = "simple_shuffle", *, lowest_latency_buffer: float = 0.0,
                 max_latency_list_size: int = 10) -> None:
        self._strategy = _spec.check_strategy(strategy)
        self._buffer = _spec.check_buffer(lowest_latency_buffer)
        self._window = _spec.check_latency_list_size(max_latency_list_size)
        self._lock = threading.RLock()
        register_for_fork(self)
        self._loads: Dict[str, _Load] = {}
        self._compiled: Optional[Tuple[Any, List[Any], _Index, Any]] = None

    def _after_fork_in_child(self) -> None:
        self._lock = threading.RLock()

    @property
    def strategy(self) -> str:
        return self._strategy

    @property
    def lowest_latency_buffer(self) -> float:
        return self._buffer

    # -- picking ---------------------------------------------------------

    def _index(self, model_list: Any, version: Any) -> _Index:
        cached = self._compiled
        if cached is not None and cached[0] is model_list and len(cached[1]) == len(model_list) * (
            len(_spec.WITNESS_PATHS) + 1
        ):
            # the same object is the same version (the C core's
            # PyObject_RichCompareBool; == alone re-read a NaN version every
            # pick and ran a version's __eq__ against itself)
            if version is not None and cached[3] is not None and (version is cached[3] or version == cached[3]):
                return cached[2]
            if _spec.witness_same(model_list, cached[1]):
                return cached[2]
        # the witness before the specs: a change while they are read (another
        # thread's) then differs from it, and the next pick recompiles
        seen = _spec.witness(model_list) if isinstance(model_list, list) else None
        index = _Index(_spec.deployment_specs(model_list))
        self._compiled = (model_list, seen, index, version)
        return index

    def get_available_deployment(self, model_list: List[Dict[str, Any]], model: str,
                                 blocked_models: Optional[Sequence[str]] = None,
                                 context: Any = None, settings: Any = None) -> Optional[Dict[str, Any]]:
        if not isinstance(model, str):
            raise TypeError("model must be a str, not %s" % type(model).__name__)
        model = _spec.exact_str(model)  # matched by its text, as the C core does
        blocked = _spec.blocked_set(blocked_models)
        options = _spec.call_options(self._strategy, self._buffer, context, settings)
        with self._lock:
            index = self._index(model_list, options.version)
            found = index.candidates(model, blocked)
            if not found:
                return None
            position = _PICKERS[options.strategy](self, index.specs, found, options)
        return None if position is None else model_list[position]

    def _load(self, key: str) -> _Load:
        load = self._loads.get(key)
        if load is None:
            load = self._loads[key] = _Load()
        return load

    def _pick_shuffle(self, specs: List[Spec], found: List[int], options) -> int:
        for metric in ("weight", "rpm", "tpm"):
            weights = [getattr(specs[i], metric) for i in found]
            largest = weights[0]
            for w in weights:
                if w > largest:
                    largest = w
            if largest <= 0:
                continue
            normalized = [w / largest for w in weights]
            total = 0.0
            for w in normalized:
                total += w
            if total <= 0:
                continue
            return random.choices(found, weights=normalized)[0]
        return random.choice(found)

    def _pick_least_busy(self, specs: List[Spec], found: List[int], options) -> int:
        loads = [self._loads.get(specs[i].key) for i in found]
        counts = [load.in_flight if load is not None else 0 for load in loads]
        fewest = min(counts)
        return random.choice([i for i, n in zip(found, counts) if n == fewest])

    def _within_limits(self, specs: List[Spec], found: List[int], options) -> List[Tuple[int, Optional[_Load]]]:
        minute = _spec.current_minute()
        kept = []
        for i in found:
            spec = specs[i]
            load = self._loads.get(spec.key)
            rpm_used, tpm_used = load.usage(minute) if load is not None else (0.0, 0.0)
            if tpm_used + options.input_tokens > spec.tpm_limit or rpm_used + 1 > spec.rpm_limit:
                continue
            kept.append((i, load))
        return kept

    def _pick_latency(self, specs: List[Spec], found: List[int], options) -> Optional[int]:
        kept = self._within_limits(specs, found, options)
        if not kept:
            return None
        latencies = [load.mean_latency() if load is not None else 0.0 for _, load in kept]
        lowest = min(latencies)
        ceiling = lowest + options.latency_buffer * lowest
        return random.choice([i for (i, _), lat in zip(kept, latencies) if lat <= ceiling])

    def _pick_cost(self, specs: List[Spec], found: List[int], options) -> Optional[int]:
        kept = self._within_limits(specs, found, options)
        if not kept:
            return None
        best = kept[0][0]
        for i, _ in kept[1:]:
            if specs[i].cost < specs[best].cost:
                best = i
        return best

    # -- learning --------------------------------------------------------

    def record_request_start(self, deployment: Any) -> None:
        """A request to ``deployment`` (a deployment dict or its id) started."""
        key = _spec.deployment_key(deployment)
        with self._lock:
            self._load(key).in_flight += 1

    def record_request_end(self, deployment: Any) -> None:
        """A request to ``deployment`` ended (never below zero in flight)."""
        key = _spec.deployment_key(deployment)
        with self._lock:
            load = self._load(key)
            if load.in_flight > 0:
                load.in_flight -= 1

    def record_latency(self, deployment: Any, latency: float) -> None:
        """Add one latency sample (seconds) to ``deployment``'s window."""
        self.record_outcome(deployment, latency=latency, success=None)

    def record_outcome(self, deployment: Any, latency: Optional[float] = None, success: Optional[bool] = True,
                       tokens: Optional[float] = None) -> None:
        """Record a finished request: its latency (seconds), whether it
        succeeded, and the tokens it used (counted against ``tpm``).  A
        success also counts one request against ``rpm`` this minute."""
        key = _spec.deployment_key(deployment)
        sample = None if latency is None else _spec.check_latency(latency)
        used = _spec._number(tokens, "tokens")
        if used is not None and (not math.isfinite(used) or used < 0):
            raise ValueError("tokens must be a finite number >= 0")
        if success is not None and not isinstance(success, bool):
            raise TypeError("success must be a bool or None")
        minute = _spec.current_minute()
        with self._lock:
            load = self._load(key)
            if sample is not None:
                load.latencies.append(sample)
                if len(load.latencies) > self._window:
                    del load.latencies[0]
            if success is None:
                return
            if success:
                load.successes += 1
            else:
                load.failures += 1
            if load.minute != minute:
                load.minute, load.rpm_used, load.tpm_used = minute, 0.0, 0.0
            if success:
                load.rpm_used += 1
            if used is not None:
                load.tpm_used += used

    def record_success(self, deployment: Any, latency: Optional[float] = None, tokens: Optional[float] = None) -> None:
        self.record_outcome(deployment, latency=latency, success=True, tokens=tokens)

    def record_failure(self, deployment: Any, latency: Optional[float] = None) -> None:
        self.record_outcome(deployment, latency=latency, success=False)

    def get_stats(self) -> Dict[str, Dict[str, Any]]:
        """Per deployment key: in flight, mean latency, successes, failures,
        this minute's rpm/tpm used."""
        minute = _spec.current_minute()
        with self._lock:
            out = {}
            for key, load in self._loads.items():
                rpm_used, tpm_used = load.usage(minute)
                out[key] = {
                    "in_flight": load.in_flight,
                    "mean_latency": load.mean_latency(),
                    "latency_samples": len(load.latencies),
                    "successes": load.successes,
                    "failures": load.failures,
                    "rpm_used": rpm_used,
                    "tpm_used": tpm_used,
                }
            return out

    def reset(self) -> None:
        """Forget every recorded load and latency."""
        with self._lock:
            self._loads.clear()


_PICKERS = {
    "simple_shuffle": AdvancedRouter._pick_shuffle,
    "least_busy": AdvancedRouter._pick_least_busy,
    "latency_based": AdvancedRouter._pick_latency,
    "cost_based": AdvancedRouter._pick_cost,
}

_DEFAULT_ROUTER = AdvancedRouter()


def get_available_deployment(model_list: List[Dict[str, Any]], model: str,
                             blocked_models: Optional[Sequence[str]] = None,
                             context: Any = None, settings: Any = None) -> Optional[Dict[str, Any]]:
    """Pick with the module's default router (``simple_shuffle``, or
    ``settings['strategy']``)."""
    return _DEFAULT_ROUTER.get_available_deployment(model_list, model, blocked_models, context, settings)
