"""Differential tests for the native ``_DeprecatedAttribute.__get__``
(``routing.deprecated_get``: ``protocol_fast.make_deprecated_get``,
``csrc/binding/bind_router_deprecated.c``) against LiteLLM 1.110.2's own
descriptor, installed in its place for the stock side (no switch, no
wrapper: the class holds LiteLLM's function).

Compared for every deprecated attribute kind (the pick, plain attributes,
settings, a setting not set, a router without a core), read from this
module, through ``getattr``, through ``object.__getattribute__``, from a
frame posing as Router's own hook, from LiteLLM's modules and from an
importlib-bootstrap-named file: the warnings (message, category, file,
line) under "always", "default", "error", "ignore", "once" and the
interpreter's default filters, the ``__warningregistry__`` they leave, the
tally, the values read and the exceptions (type, message, ``name``,
``obj``, cause, context, suppression).  Then what the native path must
hand to LiteLLM's ``__get__``: a replaced ``_note``, ``warnings.warn``,
``sys._getframe``, a shadowed builtin, a class attribute over the fields,
a subclass: each seen exactly as unpatched (these fail without the check
that covers them).
"""
from __future__ import annotations

import builtins
import contextlib
import copy
import os
import re
import sys
import warnings

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
litellm = pytest.importorskip("litellm")

from litellm import router_deprecated as rd  # noqa: E402

from fast_litellm.routing import protocol_fast  # noqa: E402

NATIVE_GET = getattr(__import__("fast_litellm._native_loader", fromlist=["NATIVE"]).NATIVE, "DeprecatedGet", None)
pytestmark = pytest.mark.skipif(NATIVE_GET is None, reason="no native DeprecatedGet (CPython 3.11+)")

CLS = rd._DeprecatedAttribute
MODEL_LIST = [{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"},
               "model_info": {"id": "d%d" % i}} for i in range(3)]
ATTRIBUTES = ("async_get_available_deployment", "cache", "model_list", "cooldown_cache", "routing_strategy",
              "default_deployment", "model_names", "slack_alerting_logger")
ACTIONS = ("always", "default", "error", "ignore", "once", None)  # None: the interpreter's default filters


def _original():
    current = CLS.__dict__["__get__"]
    return getattr(current, "__fast_litellm_original__", current)


@contextlib.contextmanager
def _getter(fast):
    """The class's __get__: LiteLLM's own (stock) or a native one built over it."""
    original = _original()
    previous = CLS.__dict__["__get__"]
    CLS.__get__ = protocol_fast.make_deprecated_get(original) if fast else original
    try:
        yield
    finally:
        CLS.__get__ = previous


def _router():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return litellm.Router(model_list=copy.deepcopy(MODEL_LIST))


def _value(v):
    """What a read returned, comparable across the two routers' sides."""
    if callable(v) and hasattr(v, "__code__"):
        inner = getattr(v, "__wrapped__", None)
        return ("fn", v.__code__, v.__qualname__, getattr(inner, "__code__", None))
    if isinstance(v, BaseException):
        return _exc(v)
    try:
        return ("value", type(v).__name__, re.sub(r"0x[0-9a-f]+", "0x", repr(v))[:200])
    except Exception:  # noqa: BLE001
        return ("value", type(v).__name__)


def _exc(e):
    return (type(e).__name__, str(e), getattr(e, "name", None), getattr(e, "obj", "-") is not None,
            type(e.__cause__).__name__, e.__suppress_context__, type(e.__context__).__name__,
            str(e.__context__) if e.__context__ is not None else None)


def _run(fast, action, read, router, registry_globals):
    from litellm.router_deprecated import DEPRECATED_ROUTER_MEMBER_USES as tally

    before = dict(tally)
    registry_globals.pop("__warningregistry__", None)
    got = []
    with _getter(fast), warnings.catch_warnings(record=True) as seen:
        if action is None:
            warnings.resetwarnings()
            for f in reversed(_DEFAULT_FILTERS):
                warnings.filters.insert(0, f)
            warnings._filters_mutated()
        else:
            warnings.simplefilter(action)
        for name in ATTRIBUTES:
            for _ in range(2):
                try:
                    got.append(_value(read(router, name)))
                except Exception as exc:  # noqa: BLE001 - compared
                    got.append(("raised", _exc(exc)))
    shown = [(str(w.message), w.category, w.filename, w.lineno) for w in seen]
    counted = {k: tally[k] - before.get(k, 0) for k in tally if tally[k] != before.get(k, 0)}
    registry = {k: v for k, v in registry_globals.get("__warningregistry__", {}).items() if k != "version"}
    return shown, counted, got, registry


_DEFAULT_FILTERS = list(warnings.filters)


def _plain_read(router, name):
    return getattr(router, name)


def _object_read(router, name):
    return object.__getattribute__(router, name)


_HOOK_SRC = '''
def __getattribute__(router, name):
    return getattr(router, name)
'''


def _hook_read_factory():
    """A function named like Router's hook in a namespace named litellm.router: _note walks past it."""
    scope = {"__name__": "litellm.router", "__builtins__": builtins}
    exec(compile(_HOOK_SRC, "fake_router_hook.py", "exec"), scope)
    return scope["__getattribute__"]


def _internal_read_factory():
    scope = {"__name__": "litellm.router_internal_probe", "__builtins__": builtins}
    exec(compile("def read(router, name):\n    return getattr(router, name)\n", "probe.py", "exec"), scope)
    return scope["read"]


def _bootstrap_read_factory():
    """A caller whose file looks like importlib's bootstrap (the warning's walk skips such
    frames), reading through object.__getattribute__: the first frame the native path sees."""
    scope = {"__name__": "bootstrap_probe", "__builtins__": builtins}
    exec(compile("def read(router, name):\n    return object.__getattribute__(router, name)\n",
                 "/tmp/importlib/_bootstrap_probe.py", "exec"), scope)
    return scope["read"]


READERS = {
    "plain": _plain_read,
    "object": _object_read,
    "hook": _hook_read_factory(),
    "internal": _internal_read_factory(),
    "bootstrap": _bootstrap_read_factory(),
}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("reader", sorted(READERS))
def test_reads_match_litellms_descriptor(action, reader):
    read = READERS[reader]
    outs = []
    for fast in (False, True):
        router = _router()
        outs.append(_run(fast, action, read, router, read.__globals__ if reader != "plain" else globals()))
    stock, fast = outs
    assert stock[0] == fast[0]  # warnings: message, category, file, line
    assert stock[1] == fast[1]  # the tally
    assert stock[2] == fast[2]  # values and exceptions
    assert stock[3] == fast[3]  # the warning registry left in the reading module
    if reader == "plain" and action == "always":
        assert stock[0] and all(w[2] == __file__ for w in stock[0])  # attributed to this file
    if reader == "internal":
        assert stock[0] == [] and stock[1] == {}


def test_class_level_reads_and_explicit_get_match():
    from litellm.router import Router

    router = _router()
    outs = []
    for fast in (False, True):
        with _getter(fast), warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            values = [_value(getattr(Router, name)) for name in ATTRIBUTES]
            desc = rd.DeprecatedRouterMembers.__dict__["async_get_available_deployment"]
            values.append(_value(desc.__get__(router, Router)))   # bound: LiteLLM's signature
            values.append(_value(CLS.__get__(desc, router, Router)))
            values.append(_value(desc.__get__(None, Router)))
        outs.append((values, [(str(w.message), w.filename, w.lineno) for w in seen]))
    assert outs[0] == outs[1]


def test_router_without_core_matches():
    from litellm.router import Router

    outs = []
    for fast in (False, True):
        bare = Router.__new__(Router)
        with _getter(fast), warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            got = []
            for name in ATTRIBUTES:
                try:
                    got.append(_value(getattr(bare, name)))
                except Exception as exc:  # noqa: BLE001
                    got.append(("raised", _exc(exc)))
        outs.append((got, [(str(w.message), w.lineno) for w in seen]))
    assert outs[0] == outs[1]
    assert any(g[0] == "raised" for g in outs[0][0])


def _raising_reads():
    """Descriptors of LiteLLM's class whose read raises AttributeError: one _public_attribute_error
    hands back as it is (another name), one it renames (the router's own _core_<name>)."""
    def other(router):
        raise AttributeError("other", name="other", obj=router)

    def own(router):
        raise AttributeError("own", name="_core_zzz", obj=router)

    made = []
    for read in (other, own):
        desc = CLS("zzz()", read)
        desc.__set_name__(object, "zzz")
        made.append(desc)
    return made


def _read_error(fast, read):
    router = _router()
    with _getter(fast), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            read(router)
        except AttributeError as exc:
            got = (_exc(exc), exc.obj is router, exc.__cause__ is None, exc.__suppress_context__,
                   exc.__context__ is exc, type(exc.__context__).__name__ if exc.__context__ is not exc else None)
        else:
            got = None
    return got, [(str(w.message), w.lineno) for w in seen]


def test_read_errors_are_litellms():
    """read raising AttributeError: __get__ renames it (or not) inside its except clause and
    raises it from None: the same error, cause, context and suppression."""
    from litellm.router import Router

    reads = [lambda r: r.slack_alerting_logger]
    for desc in _raising_reads():
        reads.append(lambda r, desc=desc: desc.__get__(r, Router))
    for read in reads:
        stock, fast = _read_error(False, read), _read_error(True, read)
        assert stock == fast and stock[0] is not None


def test_handled_exception_is_restored():
    """sys.exc_info() after a renamed error, read inside another handler, is that handler's."""
    seen = []
    for fast in (False, True):
        router = _router()
        with _getter(fast), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                raise KeyError("outer")
            except KeyError:
                try:
                    router.slack_alerting_logger
                except AttributeError as exc:
                    inner = (type(exc.__context__).__name__, repr(exc.__context__.__context__))
                seen.append((inner, repr(sys.exc_info()[1])))
        seen.append(repr(sys.exc_info()[1]))
    assert seen[0] == seen[2] and seen[1] == seen[3] == "None"
    assert seen[0][1] == "KeyError('outer')"


def _replaced(monkeypatch, fast, target, name, make, raising=True):
    """Replace target.name with make(previous) for the read (raising=False: set
    a name target does not have; previous is then None); what a read then records."""
    router = _router()
    records = []
    with _getter(fast):
        previous = getattr(target, name) if raising else getattr(target, name, None)
        monkeypatch.setattr(target, name, make(previous, records), raising=raising)
        try:
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                value = _value(router.async_get_available_deployment)
        finally:
            monkeypatch.undo()
    return records, value, [(str(w.message), w.filename, w.lineno) for w in seen]


def test_replaced_warn_sees_litellms_frames(monkeypatch):
    """warnings.warn replaced by Python code (it sees its caller's frame): LiteLLM's __get__
    runs, so the replacement is called from _note (fails without the warn check)."""
    def make(previous, records):
        def warn(message, category=None, stacklevel=1, source=None):
            records.append((sys._getframe(1).f_code.co_name, stacklevel))
            return previous(message, category, stacklevel + 1, source)
        return warn

    outs = [_replaced(monkeypatch, fast, warnings, "warn", make) for fast in (False, True)]
    assert outs[0] == outs[1] and outs[0][0][0][0] == "_note"


def test_replaced_getframe_is_called_as_litellm_calls_it(monkeypatch):
    def make(previous, records):
        def getframe(depth=0):
            records.append(depth)
            return previous(depth + 1)
        return getframe

    outs = [_replaced(monkeypatch, fast, sys, "_getframe", make) for fast in (False, True)]
    assert outs[0] == outs[1] and outs[0][0] == [2, 3]  # _note's walk: past Router's hook frame


def test_replaced_note_is_called(monkeypatch):
    def make(previous, records):
        def note(name, replacement):
            records.append((name, sys._getframe(1).f_code.co_name))
            # LiteLLM's walk from one frame deeper: the same depth as its own call
            return previous(name, replacement)
        return note

    outs = [_replaced(monkeypatch, fast, rd, "_note", make) for fast in (False, True)]
    assert outs[0][0] == outs[1][0] == [("async_get_available_deployment", "__get__")]
    assert outs[0][1] == outs[1][1]


def test_replaced_as_router_is_called(monkeypatch):
    def make(previous, records):
        def as_router(obj):
            records.append(sys._getframe(1).f_code.co_name)
            return previous(obj)
        return as_router

    outs = [_replaced(monkeypatch, fast, rd, "_as_router", make) for fast in (False, True)]
    assert outs[0] == outs[1] and outs[0][0] == ["__get__"]


def test_shadowed_builtin_in_litellms_module(monkeypatch):
    """A module global shadowing a builtin _note / _as_router read: LiteLLM's code reads it."""
    def make(previous, records):
        def shadow(obj, cls):
            records.append(sys._getframe(1).f_code.co_name)
            return builtins.isinstance(obj, cls)
        return shadow

    outs = [_replaced(monkeypatch, fast, rd, "isinstance", make, raising=False) for fast in (False, True)]
    assert outs[0] == outs[1] and outs[0][0] == ["_note", "_as_router"]


def test_class_attribute_over_fields_and_subclass_run_litellms_get(monkeypatch):
    """A class attribute named like the descriptor's fields, or a subclass: LiteLLM's __get__."""
    calls = []
    original = _original()

    def counting(self, obj, owner):
        calls.append(type(self).__name__)
        return original(self, obj, owner)

    native = protocol_fast.make_deprecated_get(original)
    # the native object calls its original for what it does not cover: count those calls
    router = _router()
    desc = rd.DeprecatedRouterMembers.__dict__["async_get_available_deployment"]

    class Sub(CLS):
        pass

    sub = Sub.__new__(Sub)
    sub.__dict__.update(desc.__dict__)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probe = type(native)(counting, CLS, rd.__dict__, original.__builtins__,
                             (rd._note, rd._as_router, rd._public_attribute_error, sys, warnings),
                             (isinstance, str, getattr, DeprecationWarning, AttributeError, builtins.__import__),
                             warnings.warn, sys._getframe, __import__("collections").Counter,
                             protocol_fast.deprecated_get_tail(rd.__dict__))
        probe(desc, router, type(router))
        assert calls == []  # covered
        probe(sub, router, type(router))
        assert calls == ["Sub"]
        monkeypatch.setattr(CLS, "replacement", "x", raising=False)
        try:
            probe(desc, router, type(router))
        finally:
            monkeypatch.undo()
        assert calls == ["Sub", "_DeprecatedAttribute"]
        probe(desc, None, type(router))  # class-level
        assert calls[-1] == "_DeprecatedAttribute" and len(calls) == 3
    # a switch that is off: the original, from C
    probe.switch = [False]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probe(desc, router, type(router))
    assert len(calls) == 4


def test_engine_applies_it_unwrapped():
    from fast_litellm.routing import patches

    patch = next(p for p in patches.PATCHES if p.name == "routing.deprecated_get")
    assert patch.wrap is False and patch.extra.get("frameless")
    built = patch.build(_original())
    assert type(built).__name__ == "DeprecatedGet" and built.__fast_litellm_original__ is _original()


def test_engine_applied_read_warns_where_litellms_does():
    """Through the patch engine (``import fast_litellm`` first), a read's warning names the
    reading line, the tally counts it, as with the patches off (FAST_LITELLM_ENABLED=false)."""
    import json
    import subprocess

    script = r"""
import json, os, sys, warnings
import fast_litellm, litellm
from litellm import router_deprecated as rd
warnings.simplefilter("always")
router = litellm.Router(model_list=[{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"}}])
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    router.async_get_available_deployment
    router.cache
    getattr(router, "model_list")
print("RESULT " + json.dumps({"kind": type(rd._DeprecatedAttribute.__dict__["__get__"]).__name__,
      "seen": [(str(w.message), os.path.basename(w.filename), w.lineno) for w in seen],
      "tally": dict(rd.DEPRECATED_ROUTER_MEMBER_USES)}))
"""
    outs = []
    for enabled in ("true", "false"):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), FAST_LITELLM_ENABLED=enabled)
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
        line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
        assert line, proc.stderr[-3000:]
        outs.append(json.loads(line[-1][7:]))
    assert outs[0]["kind"] == "DeprecatedGet" and outs[1]["kind"] == "function"
    assert outs[0]["seen"] == outs[1]["seen"] and len(outs[0]["seen"]) == 3
    assert [s[2] for s in outs[0]["seen"]] == [9, 10, 11]
    assert outs[0]["tally"] == outs[1]["tally"]


# ---- session 19 hunt -------------------------------------------------------------------------

def _mutated_by_the_warning(fast, mutate, undo, bare):
    """A read whose first warning shown runs ``mutate`` (a showwarning changing LiteLLM's
    namespace mid-read): the value or error, the warnings and the tally."""
    from litellm.router import Router

    from litellm.router_deprecated import DEPRECATED_ROUTER_MEMBER_USES as tally

    router = Router.__new__(Router) if bare else _router()
    before = dict(tally)
    shown = []

    def show(message, category, filename, lineno, file=None, line=None):
        shown.append((str(message), filename, lineno))
        if len(shown) == 1:
            mutate()

    with _getter(fast), warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        try:
            # (through getattr: a `router.cache` site is specialized by CPython 3.12+ after its
            # first run - LOAD_ATTR_GETATTRIBUTE_OVERRIDDEN calls Router.__getattribute__ inline,
            # so the AttributeError it raises is no longer given name/obj as PyObject_GetAttr
            # gives it on the first run; the second side's read differed from the first's)
            got = _value(getattr(router, "cache"))
        except Exception as exc:  # noqa: BLE001 - compared
            got = ("raised", _exc(exc), getattr(exc, "name", None), getattr(exc, "path", None))
        finally:
            undo()
    return got, shown, {k: tally[k] - before.get(k, 0) for k in tally if tally[k] != before.get(k, 0)}


def _router_module():
    return sys.modules["litellm.router"]


_ROUTER_CLASS = _router_module().Router
_NAMESPACE_CHANGES = {
    # name: (mutate, undo, read from a router without a core)
    "isinstance shadowed": (lambda: setattr(rd, "isinstance", lambda obj, cls: False),
                            lambda: rd.__dict__.pop("isinstance", None), False),
    "getattr shadowed": (lambda: setattr(rd, "getattr", lambda obj, name, *default: ("shadow", name)),
                         lambda: rd.__dict__.pop("getattr", None), True),
    "AttributeError shadowed": (lambda: setattr(rd, "AttributeError", KeyError),
                                lambda: rd.__dict__.pop("AttributeError", None), True),
    "Router deleted": (lambda: delattr(_router_module(), "Router"),
                       lambda: setattr(_router_module(), "Router", _ROUTER_CLASS), False),
}


@pytest.mark.parametrize("change", sorted(_NAMESPACE_CHANGES))
def test_warning_that_changes_litellms_namespace(change):
    """Session 19 hunt: __get__ reads its globals after _note's warning, whose showwarning
    may change them.  The native read checked them before the warning only (a shadowed
    isinstance / getattr / AttributeError, or litellm.router's Router gone, was not seen:
    fails before); now it checks them again (when a dict they live in changed) and runs
    __get__'s remaining steps in LiteLLM's namespace when one no longer holds."""
    mutate, undo, bare = _NAMESPACE_CHANGES[change]
    stock = _mutated_by_the_warning(False, mutate, undo, bare)
    fast = _mutated_by_the_warning(True, mutate, undo, bare)
    assert stock == fast
    assert _router_module().Router is _ROUTER_CLASS and "isinstance" not in rd.__dict__


_SUBPROCESS_SCRIPT = r"""
import collections, json, os, sys, warnings
import fast_litellm, litellm
from litellm import router_deprecated as rd
from fast_litellm.routing import protocol_fast
CLS = rd._DeprecatedAttribute
current = CLS.__dict__["__get__"]
ORIGINAL = getattr(current, "__fast_litellm_original__", current)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    router = litellm.Router(model_list=[{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o",
                                                                               "api_key": "k"}}])
MODE = sys.argv[1]
"""

_AUDIT_SCRIPT = _SUBPROCESS_SCRIPT + r"""
events, on, action = [], [False], [None]
def hook(event, args):
    if not on[0] or event not in ("sys._getframe", "object.__getattr__"):
        return
    on[0] = False   # (reading f_code here raises an event too)
    try:
        events.append((event, args[0].f_code.co_name, args[0].f_lineno, list(args[1:])))
    finally:
        on[0] = True
    if action[0] == len(events):
        raise RuntimeError("refused")
    if action[0] == "tally" and len(events) == 1:
        rd.DEPRECATED_ROUTER_MEMBER_USES = collections.Counter()
sys.addaudithook(hook)
HOOK_SRC = "def __getattribute__(router, name):\n    return getattr(router, name)\n"
scope = {"__name__": "litellm.router", "__builtins__": __builtins__}
exec(compile(HOOK_SRC, "fake_router_hook.py", "exec"), scope)
out = []
for act in (None, 1, 2, 3, 4, "tally"):
    for fast in (False, True):
        CLS.__get__ = protocol_fast.make_deprecated_get(ORIGINAL) if fast else ORIGINAL
        tally = rd.DEPRECATED_ROUTER_MEMBER_USES = collections.Counter()
        del events[:]
        action[0] = act
        got = []
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            on[0] = True
            for read in (lambda: router.cache, lambda: scope["__getattribute__"](router, "model_list")):
                try:
                    got.append(type(read()).__name__)
                except RuntimeError as exc:
                    got.append(str(exc))
            on[0] = False
        out.append([act, fast, list(events), got, [(str(w.message), w.lineno) for w in seen],
                    dict(tally), dict(rd.DEPRECATED_ROUTER_MEMBER_USES)])
print("RESULT " + json.dumps(out))
"""


def _subprocess(script, mode="", malloc_debug=False):
    import json
    import subprocess

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    if malloc_debug:
        env["PYTHONMALLOC"] = "debug"
    proc = subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True, timeout=300,
                          env=env)
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    assert proc.returncode == 0 and line, (proc.returncode, proc.stderr[-3000:])
    return json.loads(line[-1][7:])


def test_audit_events_of_the_walk_are_litellms():
    """Session 19 hunt: _note's walk raises audit events (``sys._getframe`` and frame
    ``f_code``'s ``object.__getattr__``) an audit hook sees; the native read raised none
    (fails before).  Now the same events for the same frames in the same order, a hook that
    raises stops the read where it stops LiteLLM's, and one that replaces the tally has the
    new one counted.  (In a child: an audit hook cannot be removed.)"""
    out = _subprocess(_AUDIT_SCRIPT)
    for stock, fast in zip(out[0::2], out[1::2]):
        assert stock[0] == fast[0] and not stock[1] and fast[1]
        assert stock[2:] == fast[2:], stock[0]
    # two reads: past Router's hook to the caller (4 events), past it and the fake hook (6)
    assert len(out[0][2]) == 10 and out[0][2][0][0] == "sys._getframe"


_DROPPED_SCRIPT = _SUBPROCESS_SCRIPT + r"""
import gc
CLS.__get__ = protocol_fast.make_deprecated_get(ORIGINAL)   # the class dict holds the only reference

def show(*args, **kwargs):
    CLS.__get__ = ORIGINAL   # dropped mid-read
    gc.collect()
    [bytearray(200) for _ in range(1000)]

warnings.showwarning = show
warnings.simplefilter("always")
print("RESULT " + json.dumps([type(router.cache).__name__, type(router.model_list).__name__]))
"""


def test_getter_dropped_by_its_warning_is_held():
    """Session 19 hunt: the type slot calls __get__ with the class dict's reference only; a
    showwarning replacing ``_DeprecatedAttribute.__get__`` freed the native object mid-read
    (a crash under PYTHONMALLOC=debug, a SystemError without: fails before).  It holds
    itself now, as a Python function's frame holds the function."""
    assert _subprocess(_DROPPED_SCRIPT, malloc_debug=True) == ["DualCache", "HostedModelList"]
