"""Feature flags: which accelerated paths run, for whom, and when they
switch themselves off.

Each flag is an entry in a registry (``register_flag``), addressable by its
name (``rust_token_counting``, kept from 0.1.x) or a native-neutral alias
(``native_token_counting``).  Its configuration comes from, later sources
overriding earlier ones:

1. the default (``on``);
2. the JSON file named by ``FAST_LITELLM_FEATURE_CONFIG``;
3. environment variables: ``FAST_LITELLM_<NAME>`` (or ``FAST_LITELLM_<ALIAS>``),
   and ``FAST_LITELLM_ENABLED=false``, which turns every flag off;
4. ``set_feature()`` at run time.

Values: ``true/false/1/0/on/off/yes/no``, ``canary:N`` or ``N%`` (percentage
rollout), ``shadow`` (run both paths, serve the original, count mismatches).
An invalid value or file gives one warning naming its source and keeps the
earlier setting; it never raises at import.

Rollout with a request id is decided by a stable hash (CRC-32) of the id, so
one id gets the same answer in every process; without an id, a draw from a
private generator (never Python's global ``random``, whose state LiteLLM's
router consumes).

Each flag counts the errors of its native path (``record_error``); at
``error_threshold`` errors (default 10, ``FAST_LITELLM_ERROR_THRESHOLD`` or
per flag in the config file) it disables itself and logs once.
``reset_errors`` re-enables it.
"""
from __future__ import annotations

import os
import random
import re
import stat
import sys
import threading
import warnings
import zlib
from typing import Any, Dict, List, Optional, Tuple

__all__ = [
    "Flag",
    "register_flag",
    "get_flag",
    "is_enabled",
    "get_feature_status",
    "reset_errors",
    "set_feature",
    "record_error",
    "record_shadow_result",
    "reload_config",
    "add_listener",
    "parse_value",
    "DEFAULT_ERROR_THRESHOLD",
]



def _log():
    import logging

    return logging.getLogger("fast_litellm")


DEFAULT_ERROR_THRESHOLD = 10

MODE_ON = "on"
MODE_OFF = "off"
MODE_ROLLOUT = "rollout"
MODE_SHADOW = "shadow"

_TRUE = {"true", "1", "on", "yes", "enabled"}
_FALSE = {"false", "0", "off", "no", "disabled"}
_CANARY = re.compile(r"^(?:canary:\s*)?(\d+(?:\.\d+)?)\s*(%?)$")

# Private generator for rollout draws without a request id.
_rng = random.Random()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_rng.seed)


def parse_value(raw: Any) -> Tuple[str, float]:
    """Parse a flag value into (mode, rollout percentage).

    Raises TypeError for a value neither str nor bool nor number, ValueError
    for anything else not understood.
    """
    if isinstance(raw, bool):
        return (MODE_ON, 100.0) if raw else (MODE_OFF, 0.0)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raise ValueError("a bare number is ambiguous; use 'canary:N' or 'N%%' (got %r)" % raw)
    if not isinstance(raw, str):
        raise TypeError("expected a string or boolean, got %s" % type(raw).__name__)
    text = raw.strip().lower()
    if text in _TRUE:
        return MODE_ON, 100.0
    if text in _FALSE:
        return MODE_OFF, 0.0
    if text == "shadow":
        return MODE_SHADOW, 100.0
    m = _CANARY.match(text)
    if m and (text.startswith("canary") or m.group(2) == "%"):
        pct = float(m.group(1))
        if not 0.0 <= pct <= 100.0:
            raise ValueError("rollout percentage must be between 0 and 100, got %s" % m.group(1))
        if pct == 100.0:
            return MODE_ON, 100.0
        if pct == 0.0:
            return MODE_OFF, 0.0
        return MODE_ROLLOUT, pct
    raise ValueError(
        "expected true/false/1/0/on/off, 'canary:N', 'N%%' or 'shadow', got %r" % raw
    )


def _redact(message: str) -> str:
    """Keep an error message's shape, drop quoted values (user data)."""
    message = re.sub(r"'[^']*'|\"[^\"]*\"", "<redacted>", message)
    return message[:160]


class Flag:
    """One feature flag.  ``serve_fast`` is the precomputed answer for the
    common on/off case, so the hot path is one attribute read."""

    __slots__ = (
        "name", "alias", "description", "default", "mode", "percentage",
        "source", "error_threshold", "errors", "last_error", "error_disabled",
        "shadow_calls", "shadow_mismatches", "serve_fast", "_lock", "_logged",
    )

    def __init__(self, name: str, alias: Optional[str], description: str, default: str):
        self.name = name
        self.alias = alias
        self.description = description
        self.default = default
        self.mode, self.percentage = parse_value(default)
        self.source = "default"
        self.error_threshold = DEFAULT_ERROR_THRESHOLD
        self.errors = 0
        self.last_error: Optional[Dict[str, str]] = None
        self.error_disabled = False
        self.shadow_calls = 0
        self.shadow_mismatches = 0
        self._lock = threading.Lock()
        self._logged = False
        self._refresh()

    # -- configuration -------------------------------------------------
    def configure(self, mode: str, percentage: float, source: str) -> None:
        # under the flag's lock, so two configure() calls (or one and an
        # error trip) never interleave into one's mode at the other's
        # percentage; listeners are told after it is released
        with self._lock:
            before = (self.mode, self.percentage, self.serve_fast)
            # percentage before mode: a call deciding meanwhile (it takes no
            # lock) sees the old setting or the new one, never the new mode
            # at the old percentage
            self.percentage = percentage
            self.mode, self.source = mode, source
            self._refresh()
            changed = before != (self.mode, self.percentage, self.serve_fast)
        if changed:
            _notify(self.name)

    def _refresh(self) -> None:
        self.serve_fast = self.mode == MODE_ON and not self.error_disabled

    # -- decisions -----------------------------------------------------
    def enabled_for(self, request_id: Optional[str] = None) -> bool:
        if self.serve_fast:
            return True
        if self.error_disabled or self.mode != MODE_ROLLOUT:
            return False
        if request_id is None:
            return _rng.random() * 100.0 < self.percentage
        bucket = zlib.crc32(str.encode(_request_id_text(request_id), "utf-8", "surrogatepass")) % 10000
        return bucket < self.percentage * 100.0

    @property
    def state(self) -> str:
        if self.error_disabled:
            return "disabled_by_errors"
        return {
            MODE_ON: "enabled",
            MODE_OFF: "disabled",
            MODE_ROLLOUT: "canary",
            MODE_SHADOW: "shadow",
        }[self.mode]

    # -- error accounting ----------------------------------------------
    def record_error(self, exc: BaseException) -> None:
        # the message first, outside the lock: an exception whose __str__
        # raises made this raise, and the patch wrappers call it after the
        # original has served (the caller then got that error, not its result)
        try:
            message = _redact(str(exc))
        except Exception:  # noqa: BLE001 - any __str__ failure
            message = "<unprintable %s>" % type(exc).__name__
        with self._lock:
            self.errors += 1
            self.last_error = {"type": type(exc).__name__, "message": message}
            tripped = not self.error_disabled and self.errors >= self.error_threshold
            if tripped:
                self.error_disabled = True
                self._refresh()
        if tripped:
            _notify(self.name)
        if tripped and not self._logged:
            self._logged = True
            _log().warning(
                "fast_litellm: feature %r disabled after %d errors in its native path "
                "(last: %s); the original implementation is used. "
                "fast_litellm.reset_errors(%r) re-enables it.",
                self.name, self.errors, self.last_error["type"], self.name,
            )

    def reset(self) -> None:
        with self._lock:
            was_disabled = self.error_disabled
            self.errors = 0
            self.last_error = None
            self.error_disabled = False
            self._logged = False
            self._refresh()
        if was_disabled:
            _notify(self.name)

    def status(self) -> Dict[str, Any]:
        return {
            "enabled": self.serve_fast or (self.mode == MODE_ROLLOUT and not self.error_disabled),
            "errors": self.errors,
            "rollout_percentage": _pct_out(self.percentage if self.mode != MODE_OFF else 0.0),
            "state": self.state,
            "mode": self.mode,
            "error_threshold": self.error_threshold,
            "last_error": dict(self.last_error) if self.last_error else None,
            "alias": self.alias,
            "source": self.source,
            "shadow_calls": self.shadow_calls,
            "shadow_mismatches": self.shadow_mismatches,
            "description": self.description,
        }


def _pct_out(p: float) -> Any:
    return int(p) if float(p).is_integer() else p


_FLAGS: Dict[str, Flag] = {}
_LOOKUP: Dict[str, Flag] = {}  # name and alias -> flag
_REGISTRY_LOCK = threading.RLock()

# The flags of the API reference, with their neutral aliases.
_BUILTIN = [
    ("rust_routing", "native_routing", "Router deployment selection"),
    ("rust_token_counting", "native_token_counting", "litellm.token_counter and the tokenizer"),
    ("rust_rate_limiting", "native_rate_limiting", "rate limiter and the proxy limiter's hot path"),
    ("rust_connection_pool", "native_connection_pool", "connection pool and LiteLLM's HTTP client cache"),
    ("batch_token_counting", "native_batch_token_counting", "multi-threaded batch token counting"),
    ("native_in_memory_cache", None, "LiteLLM's InMemoryCache methods"),
    ("native_cost_calculation", None, "LiteLLM's completion_cost / cost_per_token"),
]


_listeners: list = []


def add_listener(callback) -> None:
    """Call ``callback(flag_name)`` whenever a flag's effective setting
    changes at run time (set_feature, reload_config, disabled by errors,
    reset_errors).  The patch engine uses it to apply or remove patches
    that have no per-call flag check."""
    if callback not in _listeners:
        _listeners.append(callback)


def _notify(name: str) -> None:
    for callback in list(_listeners):
        try:
            callback(name)
        except Exception as exc:  # a listener must not break flag changes
            _log().warning("fast_litellm: flag listener failed: %s: %s", type(exc).__name__, exc)


def _env_name(name: str) -> str:
    return "FAST_LITELLM_" + name.upper()


def register_flag(name: str, alias: Optional[str] = None, description: str = "",
                  default: str = "on") -> Flag:
    """Add a flag (idempotent for the same name) and apply the current
    configuration sources to it."""
    if not isinstance(name, str) or not name:
        raise TypeError("name must be a non-empty str")
    if alias is not None and not isinstance(alias, str):
        raise TypeError("alias must be a str or None, not %s" % type(alias).__name__)
    with _REGISTRY_LOCK:
        flag = _FLAGS.get(name)
        if flag is not None:
            return flag
        for key in (name, alias):
            if key and key in _LOOKUP:
                raise ValueError("flag name or alias %r is already registered" % key)
        flag = Flag(name, alias, description, default)
        _FLAGS[name] = flag
        _LOOKUP[name] = flag
        if alias:
            _LOOKUP[alias] = flag
        _apply_sources(flag, _load_config_file())
        return flag


def get_flag(name: str) -> Flag:
    if not isinstance(name, str):  # a hashable non-str was "unknown feature" (KeyError)
        raise TypeError("feature_name must be a str, not %s" % type(name).__name__)
    try:
        return _LOOKUP[name]
    except KeyError:
        raise KeyError(
            "unknown feature %r; known: %s" % (name, ", ".join(sorted(_FLAGS)))
        ) from None


def _request_id_text(request_id: Any) -> str:
    """The text a rollout hashes for ``request_id``: a str (subclasses read as
    str, none of their methods called), or an int or uuid.UUID (exact types:
    their text is theirs, no user code runs).  Anything else is a TypeError
    naming the argument: ``str(obj)`` ran the caller's ``__str__`` (which may
    raise, or answer differently each call) inside a flag check."""
    if isinstance(request_id, str):
        return str.__str__(request_id)
    kind = type(request_id)
    if kind is int:
        return int.__repr__(request_id)
    uuid = sys.modules.get("uuid")
    if uuid is not None and kind is uuid.UUID:
        return str(request_id)
    raise TypeError("is_enabled() argument 'request_id' must be str, int, uuid.UUID or None, not %s"
                    % kind.__name__)


def is_enabled(feature_name: str, request_id: Optional[str] = None) -> bool:
    """True when the accelerated path should serve this call.

    An unknown feature name is False (as in 0.1.x), never an exception.
    Shadow mode answers False: the original serves, the engine compares.
    ``request_id`` (the rollout's key) is a str, int or uuid.UUID, checked
    whatever the flag's state (a wrong type raises TypeError before a rollout
    is ever configured, not only then).
    """
    if request_id is not None:
        _request_id_text(request_id)
    try:
        flag = _LOOKUP[feature_name]
    except (KeyError, TypeError):
        return False
    if request_id is None and flag.serve_fast:
        return True
    return flag.enabled_for(request_id)


def get_feature_status() -> Dict[str, Dict[str, Any]]:
    return {name: flag.status() for name, flag in _FLAGS.items()}


def reset_errors(feature_name: Optional[str] = None) -> None:
    if feature_name is None:
        for flag in _FLAGS.values():
            flag.reset()
    else:
        get_flag(feature_name).reset()


def record_error(feature_name: str, exc: BaseException) -> None:
    flag = _LOOKUP.get(feature_name)
    if flag is not None:
        flag.record_error(exc)


def record_shadow_result(feature_name: str, matched: bool) -> None:
    flag = _LOOKUP.get(feature_name)
    if flag is None:
        return
    with flag._lock:
        flag.shadow_calls += 1
        if not matched:
            flag.shadow_mismatches += 1
    if not matched:
        _log().warning("fast_litellm: shadow mismatch in feature %r (%d so far)",
                    flag.name, flag.shadow_mismatches)


def set_feature(feature_name: str, value: Any, *, error_threshold: Optional[int] = None) -> None:
    """Configure a flag at run time: ``set_feature("rust_routing", "canary:10")``."""
    flag = get_flag(feature_name)
    mode, pct = parse_value(value)
    # every argument is checked before anything changes: a bad threshold
    # used to raise after the flag had already been switched
    threshold = None if error_threshold is None else _check_threshold(error_threshold, "error_threshold")
    flag.configure(mode, pct, "set_feature")
    if threshold is not None:
        flag.error_threshold = threshold


def _check_threshold(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int" % where)
    value = int.__index__(value)  # an int subclass's own comparisons never decide
    if value < 1:
        raise ValueError("%s must be at least 1, got %d" % (where, value))
    return value


# -- configuration sources ---------------------------------------------

_CONFIG_MAX_CHARS = 1 << 20
_config_cache: Dict[str, Any] = {}
_warned: set = set()
_ignored: List[str] = []  # the messages of those warnings, oldest first


def _warn_once(key: str, message: str) -> None:
    if key in _warned:
        return
    _warned.add(key)
    _ignored.append(message)
    warnings.warn("fast_litellm: " + message, RuntimeWarning, stacklevel=3)


def config_warnings() -> List[str]:
    """What was ignored in the config file and environment (one message per
    warning given), for `fast-litellm doctor`: the warnings themselves are
    given at import, before any report."""
    return list(_ignored)


def _load_config_file() -> Dict[str, Any]:
    path = os.environ.get("FAST_LITELLM_FEATURE_CONFIG")
    if not path:
        return {}
    if path in _config_cache:
        return _config_cache[path]
    import json

    data: Dict[str, Any] = {}
    try:
        # O_NONBLOCK: opening a FIFO for reading waits for a writer, which hung
        # `import fast_litellm`; only a regular file is read (a FIFO, a device,
        # a directory are refused with the warning below)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ValueError("not a regular file")
            fh = os.fdopen(fd, "r", encoding="utf-8")
        except BaseException:
            os.close(fd)
            raise
        with fh:
            text = fh.read(_CONFIG_MAX_CHARS + 1)  # a file growing while read must not hang the import
        if len(text) > _CONFIG_MAX_CHARS:
            raise ValueError("larger than %d characters" % _CONFIG_MAX_CHARS)
        loaded = json.loads(text)
        if not isinstance(loaded, dict):
            raise ValueError("top level must be a JSON object")
        if not isinstance(loaded.get("features", {}), dict):  # an int here failed the import
            raise ValueError("'features' must be a JSON object")
        data = loaded
    except RecursionError:  # nested deeper than json can parse: failed the import
        _warn_once("file:" + path, "ignoring FAST_LITELLM_FEATURE_CONFIG=%s: nested too deeply" % path)
    except (OSError, ValueError) as exc:
        _warn_once("file:" + path, "ignoring FAST_LITELLM_FEATURE_CONFIG=%s: %s" % (path, exc))
    _config_cache[path] = data
    return data


def _global_threshold(config: Dict[str, Any]) -> int:
    threshold = DEFAULT_ERROR_THRESHOLD
    if "error_threshold" in config:
        try:
            threshold = _check_threshold(config["error_threshold"], "error_threshold")
        except (TypeError, ValueError) as exc:
            _warn_once("cfg:error_threshold", "FAST_LITELLM_FEATURE_CONFIG: %s; using %d"
                       % (exc, threshold))
    raw = os.environ.get("FAST_LITELLM_ERROR_THRESHOLD")
    if raw is not None:
        try:
            threshold = _check_threshold(int(raw.strip()), "FAST_LITELLM_ERROR_THRESHOLD")
        except (TypeError, ValueError):
            _warn_once("env:FAST_LITELLM_ERROR_THRESHOLD",
                       "ignoring FAST_LITELLM_ERROR_THRESHOLD=%r: expected an integer >= 1" % raw)
    return threshold


def _parse_enabled(raw: Any, where: str) -> bool:
    """A config entry's ``"enabled"``: JSON true/false or one of the on/off
    words (``"false"`` used to count as on: only ``false`` itself was off)."""
    if raw is True or raw is False:
        return raw
    try:
        mode = parse_value(raw)[0] if isinstance(raw, str) else None
    except ValueError:
        mode = None
    if mode not in (MODE_ON, MODE_OFF):
        raise ValueError("%s.enabled must be true or false, got %r" % (where, raw))
    return mode == MODE_ON


def _rollout(raw: Any, where: str) -> Tuple[str, float]:
    """A config entry's ``"rollout_percentage"``: a number, or a string
    holding one, with or without a trailing ``%``."""
    text = raw if isinstance(raw, str) else None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        text = repr(float(raw))
    if text is not None:
        text = text.strip()
        try:
            return parse_value(text if text.endswith("%") else text + "%")
        except ValueError:
            pass
    raise ValueError("%s.rollout_percentage must be a number from 0 to 100 (or 'N%%'), got %r"
                     % (where, raw))


def _apply_sources(flag: Flag, config: Dict[str, Any]) -> None:
    """Set ``flag`` from its default and the config sources, in one step:
    the sources are read into locals first, so a call deciding on another
    thread never sees an intermediate setting (reload_config used to put
    every flag back to its default "on" while it re-read the sources, so a
    flag the environment switches off served its fast path meanwhile)."""
    threshold = _global_threshold(config)
    setting = parse_value(flag.default) + ("default",)
    # 2. config file
    features = config.get("features", config)
    for key in (flag.name, flag.alias):
        if not key or key not in features:
            continue
        entry = features[key]
        where = "FAST_LITELLM_FEATURE_CONFIG[%r]" % key
        try:
            if isinstance(entry, dict):
                if "error_threshold" in entry:
                    threshold = _check_threshold(entry["error_threshold"], where + ".error_threshold")
                if "mode" in entry or "enabled" in entry or "rollout_percentage" in entry:
                    enabled = _parse_enabled(entry.get("enabled", True), where)
                    if not enabled:  # an explicit off wins over any mode beside it
                        mode, pct = MODE_OFF, 0.0
                        if entry.get("mode") not in (None, "off", False):
                            _warn_once("cfg-mode:" + key, "%s: enabled is false, so mode %r is ignored"
                                       % (where, entry.get("mode")))
                    elif entry.get("mode") == "shadow":
                        mode, pct = MODE_SHADOW, 100.0
                    elif "rollout_percentage" in entry:
                        mode, pct = _rollout(entry["rollout_percentage"], where)
                    elif "mode" in entry:
                        mode, pct = parse_value(entry["mode"])
                    else:
                        mode, pct = MODE_ON, 100.0
                    setting = (mode, pct, "config")
            else:
                mode, pct = parse_value(entry)
                setting = (mode, pct, "config")
        except (TypeError, ValueError) as exc:
            _warn_once("cfg:" + key, "ignoring %s: %s" % (where, exc))
    # 3. environment
    for key in (flag.name, flag.alias):
        if not key:
            continue
        var = _env_name(key)
        raw = os.environ.get(var)
        if raw is None:
            continue
        try:
            mode, pct = parse_value(raw)
            setting = (mode, pct, "env:" + var)
        except ValueError as exc:
            _warn_once("env:" + var, "ignoring %s=%r: %s" % (var, raw, exc))
    master = os.environ.get("FAST_LITELLM_ENABLED")
    if master is not None:
        try:
            mode, _ = parse_value(master)
            if mode == MODE_OFF:
                setting = (MODE_OFF, 0.0, "env:FAST_LITELLM_ENABLED")
            elif mode != MODE_ON:
                raise ValueError("expected true or false")
        except ValueError:
            _warn_once("env:FAST_LITELLM_ENABLED",
                       "ignoring FAST_LITELLM_ENABLED=%r: expected true or false" % master)
    flag.error_threshold = threshold
    flag.configure(*setting)


def reload_config() -> None:
    """Re-read the config file and environment for every flag (keeps error
    counts).  Settings made with set_feature() are replaced."""
    _config_cache.clear()
    _warned.clear()
    del _ignored[:]
    config = _load_config_file()
    for flag in _FLAGS.values():
        _apply_sources(flag, config)  # notifies the listeners when the setting changes


def _after_fork_in_child() -> None:
    # A lock held by another thread at fork time would stay held forever in
    # the child: give every flag, and the registry (held while
    # register_flag reads the config file), a fresh one.
    global _REGISTRY_LOCK
    _REGISTRY_LOCK = threading.RLock()
    for flag in _FLAGS.values():
        flag._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

for _name, _alias, _desc in _BUILTIN:
    register_flag(_name, _alias, _desc)
del _name, _alias, _desc
