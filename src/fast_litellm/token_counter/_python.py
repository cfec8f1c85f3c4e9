"""Pure-Python fast path of LiteLLM 1.110.2's ``token_counter``.

How it works
------------
Stock ``token_counter`` spends most of a short call deciding things that
depend only on the model string and LiteLLM's model tables (which tokenizer,
which tiktoken encoding, which per-message constants, which chat template
renders tools), then converts every message dict, then tokenizes with
tiktoken.  Here:

* the per-model decisions are computed once by LiteLLM's *own* functions
  (``openai_tokenizer_encoding_name``, ``huggingface_tokenizer_kind``,
  ``uses_legacy_message_accounting``, ``chat_template_tool_section``) and
  cached in a :class:`Plan`.  A plan is re-validated on every call against
  the tables it was derived from: the identity and size of
  ``litellm.model_cost`` and of the model sets, and -- for every cost-map key
  the decision can read for that model string -- the entry object and its
  ``litellm_provider``/``mode``/``supports_pdf_input``.  ``register_model``
  or any edit of those tables therefore re-derives the plan.
* plain ``dict`` messages are walked in place (the original copies them
  first, which changes nothing it counts); other messages (pydantic
  ``Message`` objects) are converted by LiteLLM's own
  ``convert_list_message_to_dict`` first, as the original does; every string is counted by our
  tokenizer with LiteLLM's chunking (``TIKTOKEN_ENCODE_CHUNK_SIZE_CHARS``)
  and sampling extrapolation above ``TOKEN_COUNTER_MAX_EXACT_CHARS``;
* rarer shapes reuse LiteLLM's own helpers with our counting function
  (content blocks other than text/images, chat-template tool sections,
  ``tool_choice`` mappings, non-``function`` tool definitions);
* everything else raises :class:`NotAccelerated`, and the patch engine runs
  the original unchanged: a custom or Hugging Face tokenizer, verbose or
  debug logging on, messages the original cannot convert, any input on
  which the original raises, images that may be
  fetched over the network, documents, Anthropic tool blocks, any string
  subclass or non-builtin value whose ``str()`` the original would call.

The fast path has no side effects of its own besides filling its caches.
"""
from __future__ import annotations

import logging
import sys
import threading
from typing import Any, Callable, Dict, Optional, Tuple

from ..patching.registry import NotAccelerated
from ._tools_text import MAX_DEPTH, make_formatter
from .._forksafe import register_for_fork

_str = str
_dict = dict
_list = list
_NA = NotAccelerated
_TEXT_FIELDS = {"text": "text", "thinking": "thinking", "redacted_thinking": "thinking", "compaction": "content"}
# Content block types whose LiteLLM counting cannot fetch anything nor parse
# documents: the whole list is counted by LiteLLM's _count_content_list.
_DELEGATED_BLOCKS = frozenset({"image", "tool_reference"})
_SNAPSHOT_FIELDS = ("litellm_provider", "mode", "supports_pdf_input")
# Frames LiteLLM's tools formatting may take below token_counter: its
# recursion (at most MAX_DEPTH frames here; deeper schemas are declined)
# and the calls around it, with room to spare.
_TOOLS_HEADROOM = MAX_DEPTH + 128
_getframe = sys._getframe
_recursion_limit = sys.getrecursionlimit


def _near_recursion_limit() -> bool:
    """Whether the stack is within ``_TOOLS_HEADROOM`` frames of the
    recursion limit: there LiteLLM's formatter (more frames deep than ours,
    or none in C) may raise ``RecursionError`` where we would answer."""
    depth = _recursion_limit() - _TOOLS_HEADROOM
    if depth <= 0:
        return True
    try:
        _getframe(depth)
    except ValueError:  # the stack is not that deep
        return False
    return True


class Plan:
    """What stock ``token_counter`` decides for one model string."""

    __slots__ = (
        "model", "hf_disabled", "handoff", "encoding_name", "count", "raw", "raw_batch", "per_message", "per_name",
        "tool_section", "world", "tables", "sizes", "entries",
    )

    def __init__(self) -> None:
        self.handoff = False
        self.count: Optional[Callable[[str], int]] = None
        self.raw: Optional[Callable[..., int]] = None
        self.raw_batch: Optional[Callable[..., list]] = None




class TokenCounterCore:
    """Everything the fast function needs from LiteLLM, looked up once."""

    def __init__(self, litellm: Any, tc_module: Any, utils_module: Any, counter_for: Callable[[str], Callable[[str], int]],
                 raw_for: Optional[Callable[[str], Optional[Callable[..., int]]]] = None,
                 raw_batch_for: Optional[Callable[[str], Optional[Callable[..., list]]]] = None):
        self.raw_for = raw_for or (lambda name: None)
        self.raw_batch_for = raw_batch_for or (lambda name: None)
        self.litellm = litellm
        self.tc = tc_module
        self.utils = utils_module
        self.counter_for = counter_for
        self.chunk_chars = tc_module._get_tiktoken_count_function.__defaults__[0]
        self.max_exact_chars = tc_module._get_extrapolating_count_function.__defaults__[0]
        self.samples = tc_module.EXTRAPOLATION_SAMPLES
        self.logger = tc_module.verbose_logger
        self.format_function_definitions = make_formatter(tc_module._function_definitions_for_tool)
        # by model string (or None); each plan records the
        # disable_hf_tokenizer_download state it was derived under
        self.plans: Dict[Any, Plan] = {}
        self.lock = threading.Lock()
        register_for_fork(self)

    def _after_fork_in_child(self) -> None:
        """A fresh plan lock in a forked child (a parent thread holding it
        at the fork does not exist in the child)."""
        self.lock = threading.Lock()

    # ---- counting ---------------------------------------------------------------
    def make_count(self, encoding_name: str) -> Callable[[str], int]:
        """LiteLLM's ``_get_count_function`` for an ``openai_tokenizer``
        encoding: chunked exact counting, extrapolated from samples above
        ``max_exact_chars``."""
        ordinary = self.counter_for(encoding_name)
        raw = self.raw_for(encoding_name)
        if raw is not None:
            repair = ordinary

            def ordinary(text: str) -> int:  # noqa: F811 - one frame less per string
                try:
                    return raw(text, None, None)
                except UnicodeEncodeError:
                    return repair(text)

        chunk = self.chunk_chars
        max_exact = self.max_exact_chars
        samples = self.samples
        raw_batch = self.raw_batch_for(encoding_name)

        def count_chunks(text: str, n: int) -> int:
            """sum of the ordinary counts of each ``chunk``-character slice."""
            pieces = [text[start : start + chunk] for start in range(0, n, chunk)]
            if raw_batch is not None:
                try:
                    return sum(raw_batch(pieces, None, None, 1))
                except UnicodeEncodeError:
                    pass  # lone surrogates: per piece, repaired as tiktoken does
            return sum([ordinary(piece) for piece in pieces])

        def count_exactly(text: str) -> int:
            n = len(text)
            if n <= chunk:
                return ordinary(text) if n else 0
            return count_chunks(text, n)

        if max_exact < chunk:
            max_exact_local = max_exact

            def count(text: str) -> int:
                if len(text) <= max_exact_local:
                    return count_exactly(text)
                return extrapolate(text)
        else:
            def count(text: str) -> int:
                n = len(text)
                if n <= chunk:
                    return ordinary(text) if n else 0
                if n <= max_exact:
                    return count_chunks(text, n)
                return extrapolate(text)

        def extrapolate(text: str) -> int:
            sample_count = min(samples, max_exact)
            sample_chars = max_exact // sample_count
            last_start = len(text) - sample_chars
            parts = tuple(
                text[start : start + sample_chars]
                for start in (last_start * index // max(sample_count - 1, 1) for index in range(sample_count))
            )
            sampled_chars = sum(len(sample) for sample in parts)
            return round(sum(count_exactly(sample) for sample in parts) * len(text) / sampled_chars)

        return count

    # ---- per-model decisions ----------------------------------------------------
    def world(self) -> tuple:  # token_counter() inlines this and plan_is_current
        """Identity and size of each LiteLLM table a plan is derived from, as
        ints (compared without ever comparing table contents); the plan
        keeps the tables themselves alive, so their ids stay theirs."""
        L = self.litellm
        mc = L.model_cost
        oa = L.open_ai_chat_completion_models
        az = L.azure_llms
        an = L.anthropic_models
        co = L.cohere_models
        return (id(mc), len(mc), id(oa), len(oa), id(az), len(az), id(an), len(an), id(co), len(co))

    def tables(self) -> tuple:
        L = self.litellm
        return (L.model_cost, L.open_ai_chat_completion_models, L.azure_llms, L.anthropic_models, L.cohere_models)

    def candidate_keys(self, model: str) -> tuple:
        """Every cost-map key LiteLLM's encoding decision can read for
        ``model``, derived from the string alone: each ``/``-suffix (what
        ``_openai_model_name`` can return), the deployment name, and what
        ``_fix_model_name`` can return, each also under ``azure/``."""
        segments = model.split("/")
        names = ["/".join(segments[start:]) for start in range(len(segments))]
        names.append(self.tc._openai_deployment_name(model))
        names.append(model.replace("-35", "-3.5"))
        names.append("gpt-3.5-turbo")
        keys = []
        for name in names:
            for key in (name, "azure/" + name):
                if key not in keys:
                    keys.append(key)
        return tuple(keys)

    def snapshot(self, model_cost: Any, keys: tuple) -> tuple:
        out = []
        for key in keys:
            entry = model_cost.get(key)
            if entry is None or not hasattr(entry, "get"):
                out.append((key, entry, None))
            else:
                out.append((key, entry, tuple(entry.get(f) for f in _SNAPSHOT_FIELDS)))
        return tuple(out)

    def build_plan(self, model: Any, hf_disabled: bool, world: tuple) -> Plan:
        tc = self.tc
        plan = Plan()
        plan.model = model
        plan.hf_disabled = hf_disabled
        plan.tables = self.tables()
        plan.world = world
        plan.sizes = world[1::2]
        if self.world() != world:  # a table changed while we looked: do not cache
            raise NotAccelerated
        # the snapshot is taken before deciding: an entry edited meanwhile
        # makes the next call re-derive the plan
        plan.entries = () if model is None else self.snapshot(plan.tables[0], self.candidate_keys(model))
        if model is None:
            plan.encoding_name = "cl100k_base"
        else:
            if not hf_disabled and self.utils.huggingface_tokenizer_kind(model) is not None:
                plan.handoff = True
                return plan
            plan.encoding_name = tc.openai_tokenizer_encoding_name(model)
        if tc.uses_legacy_message_accounting(model):
            plan.per_message, plan.per_name = 4, -1
        else:
            plan.per_message, plan.per_name = 3, 1
        plan.tool_section = tc.chat_template_tool_section(model)
        if self.world() != world:  # a table changed while deciding: do not cache
            raise NotAccelerated
        try:
            plan.count = self.make_count(plan.encoding_name)
            plan.raw = self.raw_for(plan.encoding_name)
            plan.raw_batch = None if plan.raw is None else self.raw_batch_for(plan.encoding_name)
        except Exception:  # an encoding we cannot load now: not cached
            raise NotAccelerated from None
        return plan

    def plan_is_current(self, plan: Plan, world: tuple) -> bool:
        return plan.world == world and self.entries_current(plan)

    @staticmethod
    def entries_current(plan: Plan) -> bool:
        get = plan.tables[0].get
        for key, entry, fields in plan.entries:
            now = get(key)
            if now is not entry:
                return False
            if fields is not None:
                eget = now.get
                if eget("litellm_provider") != fields[0] or eget("mode") != fields[1] or eget("supports_pdf_input") != fields[2]:
                    return False
        return True

    def plan_for(self, model: Any) -> Plan:
        hf_disabled = self.litellm.disable_hf_tokenizer_download is True
        world = self.world()
        plan = self.plans.get(model)
        if plan is not None and plan.hf_disabled is hf_disabled and self.plan_is_current(plan, world):
            return plan
        plan = self.build_plan(model, hf_disabled, world)
        with self.lock:
            if len(self.plans) > 4096:
                self.plans.clear()
            self.plans[model] = plan
        return plan

    def handoff_is_current(self, plan: Plan) -> bool:
        """Whether a hand-off plan (a Hugging Face tokenizer model) still
        holds: LiteLLM's ``huggingface_tokenizer_kind`` reads only the model
        string, ``anthropic_models`` and ``cohere_models`` (and
        ``select_tokenizer`` the download switch)."""
        L = self.litellm
        t = plan.tables
        an = L.anthropic_models
        co = L.cohere_models
        return (L.disable_hf_tokenizer_download is not True and t[3] is an and t[4] is co
                and plan.sizes[3] == len(an) and plan.sizes[4] == len(co))


def make_token_counter(core: TokenCounterCore, native: Any = None, handoff: Any = None) -> Callable[..., int]:
    """The fast ``token_counter`` over ``core`` (same signature as LiteLLM's).

    ``handoff``: what a call for a model LiteLLM counts with another
    tokenizer returns (the patch passes a ``Delegate``, so the engine hands
    the call on without an exception); None: raise ``NotAccelerated``.

    ``native`` is the ``fast_litellm._native`` module or None: its
    ``_tc_walk_messages``/``_tc_format_tools`` walk plain inputs in C and
    return None for anything else, which the Python walk below then takes."""
    native_walk = getattr(native, "_tc_walk_messages", None)
    native_format = getattr(native, "_tc_format_tools", None)
    # the whole plan check in one C call, reading LiteLLM's tables from the
    # litellm module's namespace (None from it: the Python check decides)
    native_plan_current = getattr(native, "_tc_plan_current", None)
    litellm_names = vars(core.litellm)
    plan_is_current = core.plan_is_current
    # LiteLLM's chunked exact count of one long text in one C call (the
    # tools text, ``text=``); None from it means lone surrogates: ``count``
    native_count_chunks = getattr(native, "_tc_count_chunks", None)
    max_exact_chars = core.max_exact_chars
    count_chunk = core.chunk_chars
    # the C walk calls the tokenizer's C count itself for strings up to one chunk
    chunk_chars = core.chunk_chars if core.max_exact_chars >= core.chunk_chars else 0
    L = core.litellm
    tc = core.tc
    logger = core.logger
    DEBUG = logging.DEBUG
    plans = core.plans
    plan_for = core.plan_for
    format_function_definitions = core.format_function_definitions
    count_image_tokens = tc._count_image_tokens
    count_content_list = tc._count_content_list
    count_chat_template_tools = tc._count_chat_template_tools
    count_tool_choice = tc._count_tool_choice
    compaction_summaries = tc._compaction_summaries
    convert_list_message_to_dict = core.utils.convert_list_message_to_dict
    pdf_page_pricing = tc.pdf_page_pricing

    def safe_block(c: Any, use_default: Any) -> bool:
        """Whether LiteLLM counts block ``c`` without fetching or parsing documents."""
        if type(c) is _str:
            return True
        if type(c) is not _dict:
            return False
        kind = c.get("type")
        if type(kind) is not _str:
            return False
        if kind in _TEXT_FIELDS or kind in _DELEGATED_BLOCKS:
            return True
        if kind != "image_url":
            return False
        image_url = c.get("image_url")
        if type(image_url) is _dict:
            if image_url.get("detail", "auto") == "high" and not use_default:
                url = image_url.get("url")
                return type(url) is _str and not url.startswith(("http://", "https://"))
            return True
        return type(image_url) is _str

    def content_tokens(value: list, count: Callable[[str], int], use_default: Any, default_token_count: Any, model: Any) -> int:
        total = 0
        for c in value:
            tc_ = type(c)
            if tc_ is _str:
                total += count(c)
                continue
            if tc_ is not _dict:
                raise _NA
            kind = c.get("type")
            if type(kind) is not _str:
                raise _NA
            field = _TEXT_FIELDS.get(kind)
            if field is not None:
                text = c.get(field)
                if type(text) is _str:
                    if text:
                        total += count(text)
                elif text is None or text is False or (type(text) in (int, float, list, dict, tuple) and not text):
                    pass  # str(falsy or "") == ""
                else:
                    raise _NA
            elif kind == "image_url":
                image_url = c.get("image_url")
                if type(image_url) is _dict:
                    detail = image_url.get("detail", "auto")
                    if detail == "high" and not use_default:
                        url = image_url.get("url")
                        if type(url) is not _str or url.startswith(("http://", "https://")):
                            raise _NA  # LiteLLM would fetch it
                elif type(image_url) is not _str:
                    raise _NA
                try:
                    total += count_image_tokens(image_url, use_default)
                except Exception:
                    raise _NA from None
            elif kind in _DELEGATED_BLOCKS:
                if not all(safe_block(b, use_default) for b in value):
                    raise _NA
                try:
                    return count_content_list(count, value, use_default, default_token_count, pdf_page_pricing(model))
                except Exception:
                    raise _NA from None
            else:
                raise _NA
        return total

    def tool_calls_tokens(value: Any, count: Callable[[str], int]) -> int:
        if type(value) is not _list:
            raise _NA
        total = 0
        for call in value:
            if type(call) is not _dict:
                raise _NA
            if "function" not in call:
                raise _NA
            function = call["function"]
            if type(function) is not _dict:
                raise _NA
            arguments = function.get("arguments", "")
            if type(arguments) is not _str:
                raise _NA
            total += count(arguments)
        return total

    def token_counter(
        model="",
        custom_tokenizer=None,
        text=None,
        messages=None,
        count_response_tokens=False,
        tools=None,
        tool_choice=None,
        use_default_image_token_count=False,
        default_token_count=None,
    ):
        if type(model) is _str or model is None:
            plan = plans.get(model)
        else:
            raise _NA
        if plan is not None and plan.handoff:
            # Decided before anything else is read: a model LiteLLM counts
            # with a Hugging Face tokenizer goes straight to the original
            # (handoff_is_current, inlined).
            t = plan.tables
            an = L.anthropic_models
            co = L.cohere_models
            if (L.disable_hf_tokenizer_download is not True and t[3] is an and t[4] is co
                    and plan.sizes[3] == len(an) and plan.sizes[4] == len(co)):
                if handoff is None:
                    raise _NA
                return handoff
            plan = None
        if L.disable_token_counter is True:
            return 0
        if custom_tokenizer is not None or L.set_verbose is True or logger.isEnabledFor(DEBUG):
            raise _NA
        # plan_for and plan_is_current, inlined for a current cached plan
        if plan is None or plan.hf_disabled is not (L.disable_hf_tokenizer_download is True):
            plan = plan_for(model)
        else:
            current = None if native_plan_current is None else native_plan_current(
                litellm_names, plan.tables, plan.sizes, plan.entries)
            if current is None:
                current = plan_is_current(plan, core.world())
            if not current:
                plan = plan_for(model)
        if plan.handoff:
            if handoff is None:
                raise _NA
            return handoff
        count = plan.count

        if text is not None:
            if messages is not None or tools or tool_choice:
                raise _NA
            if type(text) is _str:
                if native_count_chunks is not None and plan.raw_batch is not None and len(text) <= max_exact_chars:
                    tokens = native_count_chunks(text, plan.raw, plan.raw_batch, count_chunk)
                    if tokens is not None:
                        return tokens
                return count(text)
            if type(text) is _list:
                joined = "".join([t for t in text if type(t) is _str])
                if len(joined) != sum([len(t) for t in text if isinstance(t, _str)]):
                    raise _NA  # a str subclass in the list
                return count(joined)
            raise _NA
        if messages is None:
            raise _NA
        if type(messages) is not _list and type(messages) is not tuple:
            raise _NA

        per_message = plan.per_message
        per_name = plan.per_name
        walked = None if native_walk is None else native_walk(messages, count, per_message, per_name,
                                                              plan.raw, chunk_chars)
        if walked is None:
            for message in messages:
                if type(message) is not _dict:
                    # pydantic messages: LiteLLM's own conversion (model_dump,
                    # None fields dropped), then the same walk over plain dicts
                    try:
                        messages = convert_list_message_to_dict(messages)
                    except Exception:
                        raise _NA from None
                    if native_walk is not None:
                        walked = native_walk(messages, count, per_message, per_name, plan.raw, chunk_chars)
                    break
        if walked is not None:
            num_tokens, has_system = walked
        else:
            num_tokens, has_system = walk(messages, plan, count, use_default_image_token_count,
                                          default_token_count, model)

        if count_response_tokens is False:
            section = plan.tool_section
            extra = 3
            if tools:
                if _near_recursion_limit():
                    raise _NA
                try:
                    if section is not None:
                        extra += count_chat_template_tools(count, tools, has_system, section)
                    else:
                        text = None if native_format is None else native_format(tools)
                        if text is None:
                            tokens = count(format_function_definitions(tools))
                        else:
                            tokens = None
                            if native_count_chunks is not None and plan.raw_batch is not None and len(text) <= max_exact_chars:
                                tokens = native_count_chunks(text, plan.raw, plan.raw_batch, count_chunk)
                            if tokens is None:
                                tokens = count(text)
                        extra += tokens + 9 - (4 if has_system else 0)
                except _NA:
                    raise
                except Exception:
                    raise _NA from None
            if tool_choice is not None and (section is None or section.counts_tool_choice):
                if type(tool_choice) is _str:
                    if tool_choice == "none":
                        extra += 1
                else:
                    try:
                        extra += count_tool_choice(count, tool_choice)
                    except Exception:
                        raise _NA from None
            num_tokens += extra
        return num_tokens

    def walk(messages: Any, plan: Plan, count: Callable[[str], int], use_default: Any,
             default_token_count: Any, model: Any) -> Tuple[int, bool]:
        per_message = plan.per_message
        per_name = plan.per_name
        if use_default is None:
            use_default = False
        num_tokens = 0
        has_system = False
        for message in messages:
            if type(message) is not _dict:
                raise _NA
            num_tokens += per_message
            for k, value in message.items():
                tv = type(value)
                if tv is _str:
                    if k == "tool_calls" or k == "function_call":
                        raise _NA
                    num_tokens += count(value)
                    if k == "name":
                        num_tokens += per_name
                    elif k == "role" and value == "system":
                        has_system = True
                elif value is None:
                    continue
                elif k == "tool_calls":
                    num_tokens += tool_calls_tokens(value, count)
                elif k == "function_call":
                    if tv is not _dict:
                        raise _NA
                    arguments = value.get("arguments", "")
                    if type(arguments) is not _str:
                        raise _NA
                    num_tokens += count(arguments)
                elif k == "role" or isinstance(value, _str):
                    raise _NA  # a non-string role, or a str subclass
                elif k == "content":
                    if tv is _list:
                        num_tokens += content_tokens(value, count, use_default, default_token_count, model)
                    elif isinstance(value, _list):
                        raise _NA
                elif k == "provider_specific_fields":
                    try:
                        num_tokens += sum(map(count, compaction_summaries(value)))
                    except Exception:
                        raise _NA from None
                elif k == "search_results" and isinstance(value, _list):
                    raise _NA
                # other keys are skipped, as LiteLLM skips them
        return num_tokens, has_system

    return token_counter
