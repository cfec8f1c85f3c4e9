"""Lockstep fuzz of whole picks (session-13 hunt): three identical routers
per case - stock (every patch off), LiteLLM's select over the accelerated
steps, and the fused pick - over random routers and requests carrying
objects whose every call is logged (``str``-subclass keys and values with
their own ``__eq__`` / ``__hash__`` / ``__bool__`` / ``__format__``, dict-
and list-subclass buckets and messages, objects as messages, input and
tools), odd callbacks in ``litellm.callbacks`` and state changed between
picks (``litellm.allowed_fails``, routing plugins, index writes, added
deployments, tag filtering).  After every pick the outcome (id, or the
exception's type and message), the objects' calls in order, the request,
``random``'s state, the documents handed to router-core and the core's
synced state must be equal on all three.
"""
import asyncio
import contextlib
import copy
import gc
import os
import random
import warnings

import pytest
from _lockstep import routing_patches, same_minute  # noqa: E402

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
litellm = pytest.importorskip("litellm")

from litellm.integrations.custom_logger import CustomLogger  # noqa: E402

import test_routing_protocol as T  # noqa: E402
from fast_litellm.patching.registry import NotAccelerated  # noqa: E402
from fast_litellm.routing import _local_patch, protocol_fast  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

LOG = []
class LStr(str):
    def __eq__(self, o): LOG.append(("LStr.eq", str(self))); return str.__eq__(self, o)
    def __hash__(self): LOG.append(("LStr.hash", str(self))); return str.__hash__(self)
    def __format__(self, spec): LOG.append(("LStr.format", str(self))); return str.__format__(self, spec)
    def __str__(self): LOG.append(("LStr.str", str.__str__(self))); return str.__str__(self)
    def __bool__(self): LOG.append(("LStr.bool",)); return len(self) > 0
    def __deepcopy__(self, memo): return type(self)(str.__str__(self))

class LList(list):
    def __iter__(self): LOG.append(("LList.iter", len(self))); return list.__iter__(self)
    def __len__(self): LOG.append(("LList.len",)); return list.__len__(self)
    def __bool__(self): LOG.append(("LList.bool",)); return list.__len__(self) > 0
    def __getitem__(self, i): LOG.append(("LList.getitem", i)); return list.__getitem__(self, i)
    def __deepcopy__(self, memo): return type(self)(copy.deepcopy(list(list.__iter__(self)), memo))

class LDict(dict):
    def get(self, k, d=None): LOG.append(("LDict.get", k)); return dict.get(self, k, d)
    def __getitem__(self, k): LOG.append(("LDict.getitem", k)); return dict.__getitem__(self, k)
    def __contains__(self, k): LOG.append(("LDict.contains", k)); return dict.__contains__(self, k)
    def __iter__(self): LOG.append(("LDict.iter",)); return dict.__iter__(self)
    def keys(self): LOG.append(("LDict.keys",)); return dict.keys(self)
    def items(self): LOG.append(("LDict.items",)); return dict.items(self)
    def __deepcopy__(self, memo): return type(self)(copy.deepcopy(dict(dict.items(self)), memo))

class Obj:
    def __init__(self, tag): self.tag = tag
    def __bool__(self): LOG.append(("Obj.bool", self.tag)); return True
    def __eq__(self, o): LOG.append(("Obj.eq", self.tag)); return isinstance(o, Obj) and o.tag == self.tag
    def __hash__(self): LOG.append(("Obj.hash", self.tag)); return hash(self.tag)
    def __iter__(self): LOG.append(("Obj.iter", self.tag)); return iter(())
    def __len__(self): LOG.append(("Obj.len", self.tag)); return 0
    def __repr__(self): return "Obj(%r)" % self.tag

class NoFilter(CustomLogger):
    pass

class Filtering(CustomLogger):
    async def async_filter_deployments(self, model, healthy_deployments, messages, request_kwargs=None, parent_otel_span=None):
        LOG.append(("filter", model, len(healthy_deployments)))
        return [d for d in healthy_deployments if d["model_info"]["id"] != "d1"]

def plain_fn(*a, **k): pass

def rv(gen, *choices):
    return gen.choice(choices)

def bucket(gen):
    b = LDict() if gen.random() < 0.1 else {}
    for key, choices in (("user_api_key_team_id", ["team-a", "", None, 7, LStr("team-s")]),
                         ("user_api_key_auth", [None, T._EqAuth(["m1"])]),
                         ("model_group", ["g", None]), ("routing_decision", [{"x": 1}]),
                         ("other", [1, "x", Obj("meta")])):
        if gen.random() < 0.35:
            dict.__setitem__(b, key, gen.choice(choices))
    if gen.random() < 0.05:
        dict.__setitem__(b, 3, "int key")
    if gen.random() < 0.05:
        dict.__setitem__(b, LStr("user_api_key_team_id"), "via-lstr")
    return b

def request(gen):
    r = LDict() if gen.random() < 0.05 else {}
    def put(k, v): dict.__setitem__(r, k, v)
    if gen.random() < 0.6: put("metadata", bucket(gen) if gen.random() < 0.9 else rv(gen, None, "text", [1]))
    if gen.random() < 0.3: put("litellm_metadata", bucket(gen))
    if gen.random() < 0.2:
        put("messages", rv(gen, [{"role": "user", "content": "hi"}], [], None, LList([{"role": "user", "content": "hi"}]),
                           [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/a.png"}}]}],
                           Obj("messages")))
    if gen.random() < 0.1: put("input", rv(gen, "text", None, ["a"], Obj("input"), LList(["a"])))
    if gen.random() < 0.15:
        put("tools", rv(gen, None, [], [{"type": "web_search"}], [{"type": "function", "function": {}}], "x", Obj("tools"),
                        LList([{"type": "web_search_preview"}])))
    if gen.random() < 0.1: put("enable_tag_filtering", rv(gen, True, False, "yes", 1, None))
    if gen.random() < 0.1: put("tags", rv(gen, ["a"], ["b"], LList(["a"])))
    if gen.random() < 0.05: put(gen.choice(protocol_fast._NARROWING_KEYS), rv(gen, 1, ["d1"], None))
    if gen.random() < 0.05: put("model_group_retry_policy", rv(gen, None, {}))
    if gen.random() < 0.05: put("num_retries", rv(gen, None, 2))
    if gen.random() < 0.05: put("routing_strategy", None)
    if gen.random() < 0.05: put("specific_deployment", rv(gen, True, None))
    if gen.random() < 0.05: put(LStr("stream"), True)
    if gen.random() < 0.1: put("stream", rv(gen, True, False))
    if gen.random() < 0.05: put("web_search_options", {})
    if gen.random() < 0.05: put("_encrypted_content_affinity_pinned", True)
    return r

STRATS = ["simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing-v2", "cost-based-routing"]

def routers(gen):
    kw = {"routing_strategy": gen.choice(STRATS)}
    if gen.random() < 0.2: kw["enable_tag_filtering"] = rv(gen, True, False, None)
    if gen.random() < 0.1: kw["model_group_retry_policy"] = rv(gen, {}, {"g": {"TimeoutErrorRetries": 2}})
    if gen.random() < 0.1: kw["allowed_fails"] = rv(gen, 0, 3)
    if gen.random() < 0.1: kw["retry_policy"] = {"TimeoutErrorRetries": 1}
    tagged = gen.random() < 0.15
    tags = gen.random() < 0.2
    out = []
    for _ in range(3):
        ml = copy.deepcopy(T.MODEL_LIST)
        if tagged: ml[1]["model_info"]["enable_tag_filtering"] = True
        if tags:
            ml[0]["litellm_params"]["tags"] = ["a"]; ml[2]["litellm_params"]["tags"] = ["b", "default"]
        out.append(litellm.Router(model_list=ml, **kw))
    return out, kw

def view_request(r, depth=0):
    """The request as plain tuples and strings, holding nothing of it: a view
    is compared after its side's copy of the request is gone, and must not
    change when the collector frees that copy.  (It once held an auth
    object's live ``vars()`` dict; on CPython 3.13.0 the collector, freeing a
    request copy caught in a reference cycle, emptied the ``models`` list that
    dict still held - it reaches the auth's fields through the auth object,
    not through its kept ``vars()`` dict - so ``user_api_key_auth.models``
    read ``[]`` in whichever side's view outlived a collection:
    ``test_view_outlives_its_request``.)"""
    if depth > 6: return "..."
    if isinstance(r, dict):
        return (type(r).__name__, [(type(k).__name__, str.__str__(k) if isinstance(k, str) else k, view_request(v, depth+1)) for k, v in dict.items(r)])
    if isinstance(r, list):
        return (type(r).__name__, [view_request(v, depth+1) for v in list.__iter__(r)])
    if isinstance(r, str): return (type(r).__name__, str.__str__(r))
    if isinstance(r, T._Auth):  # a snapshot of its fields, not the live vars() dict (see view_request's note)
        return (type(r).__name__, view_request(dict(vars(r)), depth + 1))
    return (type(r).__name__, repr(r))

def core_view(core):
    return (core._tag_filtering_models, core._allowed_fails_default_sent, core._index_sent,
            len(core._resolved.routing_plugins), core._resolved.allowed_fails)

CALLBACK_CHOICES = [lambda: "langfuse", lambda: plain_fn, lambda: NoFilter(), lambda: Filtering(), lambda: LStr("x"),
                    lambda: Obj("cb"), lambda: NoFilter]

def mutate(gen, rs, saved_cbs):
    what = gen.random()
    if what < 0.05:
        litellm.allowed_fails = gen.choice([3, 0, 5])
        return "allowed_fails"
    if what < 0.1:
        for r in rs: r.routing_plugins.append(object()) if not r.routing_plugins else r.routing_plugins.clear()
        return "plugins"
    if what < 0.13:
        for r in rs: r.model_names = set(r.model_names) | {"extra"}
        return "index"
    if what < 0.2:
        cb = gen.choice(CALLBACK_CHOICES)
        saved_cbs.append(cb)
        return "callback"
    if what < 0.23:
        flag = gen.random() < 0.5
        for r in rs:
            r.add_deployment(litellm.types.router.Deployment(**copy.deepcopy(dict(T.MODEL_LIST[0], model_info={"id": "n%d" % len(r.model_list), "enable_tag_filtering": flag}))))
        return "add"
    if what < 0.25:
        for r in rs: r.enable_tag_filtering = True
        return "tagging"
    return None

def run_side(select, on, router, model, req, kwargs, cbs_factory_list, seed):
    base = litellm.callbacks
    extra = [f() for f in cbs_factory_list]
    saved = list(base)
    base.extend(extra)
    try:
        del LOG[:]
        random.seed(seed)
        with _local_patch.accelerated(on):
            async def pick():
                got = await select(router._core, model, req, **kwargs)
                await asyncio.sleep(0)
                return got
            try:
                picked = asyncio.run(pick())
                out = ("ok", picked["model_info"]["id"] if isinstance(picked, dict) else repr(picked))
            except NotAccelerated:
                raise
            except Exception as exc:
                out = ("raised", type(exc).__name__, str(exc))
            return out, list(LOG), view_request(req), random.getstate(), core_view(router._core)
    finally:
        base[:] = saved


# The recording wrapper is the handle LiteLLM's core hands its host registry
# (``T._RecordingHandle``'s ``__class__``): a plain wrapper made every registry
# lookup raise "the host registry's lookups run in its Rust core" (tag
# filtering, usage-based-routing-v2's usage read, an unknown model's error) and
# every rebuild raise TypeError, on all three sides alike, so those picks
# compared nothing but the error.  A rebuild runs over the real handle and wraps
# the new one (``T._recording_rebuilds``).
@pytest.fixture
def recorded_rebuilds():
    with T._recording_rebuilds():
        yield


@pytest.fixture(scope="module", autouse=True)
def patched():
    with routing_patches():
        yield


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # usage-based-routing's sync task, built outside a loop
@pytest.mark.parametrize("seed", ["s13-a", "s13-b"])
def test_fused_pick_matches_stock_and_litellms_select_in_lockstep(seed, recorded_rebuilds):
    warnings.simplefilter("ignore")
    original = T._original(T._patch("routing.select").target)
    fast = T._fast_select()
    saved_allowed, saved_callbacks = litellm.allowed_fails, list(litellm.callbacks)
    compared = 0
    made = []
    try:
        for case in range(20):
            gen = random.Random("%s-%d" % (seed, case))
            trio, kw = routers(gen)
            made.extend(trio)
            docs = ([], [], [])
            for r, d in zip(trio, docs):
                r._core._handle = T._RecordingHandle(r._core._handle, d)
            cbs = []
            litellm.allowed_fails = saved_allowed
            litellm.callbacks[:] = saved_callbacks
            for step in range(5):
                m = mutate(gen, trio, cbs)
                for r in trio:  # a rebuild keeps recording (recorded_rebuilds)
                    assert type(r._core.__dict__["_handle"]) is T._RecordingHandle
                req = request(gen)
                model = rv(gen, "g", "g", "g", LStr("g"), "missing")
                kwargs = {}
                if gen.random() < 0.3:
                    kwargs["messages"] = rv(gen, None, [{"role": "user", "content": "hi"}],
                                            LList([{"role": "user", "content": "x"}]), Obj("m"))
                if gen.random() < 0.2:
                    kwargs["specific_deployment"] = rv(gen, True, False, None)
                if gen.random() < 0.1:
                    kwargs["input"] = rv(gen, None, "t", Obj("i"))
                seed_value = gen.random()
                same_minute()
                got = []
                for (select, on), router, d in zip(((original, False), (original, True), (fast, True)), trio, docs):
                    before = len(d)
                    got.append((run_side(select, on, router, model, copy.deepcopy(req), kwargs, cbs, seed_value),
                                d[before:]))
                assert got[0] == got[1] == got[2], (case, step, kw, m, view_request(req), kwargs)
                assert not T._harness_fault(got[0][0][0]), got[0][0][0]  # LiteLLM's answer, not the wrapper's
                compared += 1
    finally:
        litellm.allowed_fails = saved_allowed
        litellm.callbacks[:] = saved_callbacks
        _retire(made)
    assert compared == 100


@contextlib.contextmanager
def _pydantic_recorded():
    """``TypeAdapter.validate_python`` and ``BaseModel``'s ``model_validate``,
    ``model_dump`` and ``__init__`` replaced (class attributes, after our
    patches were built) by wrappers that log each call with its adapter's type
    or model: the lockstep comparison then covers every validation a pick makes
    (session 15: the fast paths decline while one is replaced)."""
    import pydantic

    saved = []

    def swap(cls, name, make):
        found = cls.__dict__[name]
        saved.append((cls, name, found))
        setattr(cls, name, make(found))

    def logged(label, of):
        def make(found):
            function = getattr(found, "__func__", found)

            def wrapper(first, *args, **kwargs):
                LOG.append((label, of(first)))
                return function(first, *args, **kwargs)

            return classmethod(wrapper) if isinstance(found, classmethod) else wrapper
        return make

    swap(pydantic.TypeAdapter, "validate_python", logged("validate_python", lambda a: repr(getattr(a, "_type", None))))
    for name in ("model_validate", "model_dump", "__init__"):
        swap(pydantic.BaseModel, name, logged(name, lambda m: getattr(m, "__name__", type(m).__name__)))
    try:
        yield
    finally:
        for cls, name, found in reversed(saved):
            setattr(cls, name, found)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fused_pick_matches_stock_with_pydantic_validations_recorded(recorded_rebuilds):
    """The lockstep run with every pydantic validation logged: the three sides
    make the same validations in the same order (fails with the fast paths'
    pydantic guards always passing)."""
    with _pydantic_recorded():
        test_fused_pick_matches_stock_and_litellms_select_in_lockstep("s15-pydantic", recorded_rebuilds)


def _retire(made):
    """The routers' sync tasks cancelled and their garbage collected here,
    warnings off: left to a later test, the never-awaited sync coroutines'
    warnings reached pytest's unraisable hook wherever the collector ran (in
    one CI run inside a test near the recursion limit, where the hook itself
    overflowed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for router in made:
            try:
                router.retire()
            except Exception:  # noqa: BLE001 - best effort clean-up
                pass
        del made[:]
        asyncio.set_event_loop(None)
        gc.collect()


def test_view_outlives_its_request():
    """A request's view stays what it was when its copy of the request is
    collected: the lockstep test compares views after every side has run, so
    a view holding the request's live objects compared whatever the collector
    had left of them (on 3.13.0 an auth object's ``models`` list, emptied when
    a request copy held in a reference cycle was freed, while its view still
    held the auth's ``vars()`` dict)."""
    def request():
        return {"metadata": {"user_api_key_auth": T._EqAuth(["m1"])}}
    def viewed():
        req = request()
        req["self"] = [req]  # a reference cycle: freed only by the collector
        return view_request(req)
    gc.collect()
    view = viewed()
    gc.collect()
    fresh = request()
    fresh["self"] = [fresh]
    assert view == view_request(fresh)


def test_recording_handle_serves_the_registry_and_rebuilds(recorded_rebuilds):
    """The lockstep test's recording wrapper is the handle LiteLLM's core and
    host registry use: a registry lookup reads through it (a plain wrapper
    raised "the host registry's lookups run in its Rust core") and a rebuild
    swaps the real handle and keeps recording (a plain wrapper raised
    TypeError from ``adopt_providers``)."""
    router = litellm.Router(model_list=copy.deepcopy(T.MODEL_LIST))
    try:
        core, documents = router._core, []
        core._handle = T._RecordingHandle(core._handle, documents)
        real = core._handle._handle
        assert core._live_handle() is core._handle
        assert [d["model_info"]["id"] for d in core._hosted._core_get_model_list(model_name="g")] == ["d0", "d1", "d2", "d3"]
        core._rebuild()
        assert type(core.__dict__["_handle"]) is T._RecordingHandle and core._handle._handle is not real
        assert core._live_handle() is core._handle
        with _local_patch.accelerated(False):
            asyncio.run(T._original(T._patch("routing.select").target)(core, "g", {}))
        assert [model for model, _ in documents] == ["g"]
    finally:
        _retire([router])
