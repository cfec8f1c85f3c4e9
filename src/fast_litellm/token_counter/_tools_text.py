"""The function-definitions text LiteLLM 1.110.2 counts for ``tools``.

A line-for-line twin of ``_format_function_definitions`` and its helpers in
``litellm.litellm_core_utils.token_counter``: the same expressions (the same
f-strings, truthiness tests and ``Mapping`` checks) in the same order, with
the generators and per-call tuples flattened away and a ``type(x) is dict``
test ahead of each ``isinstance(x, Mapping)`` (an ABC check costs far more
than the formatting it guards).  A tool that is not the usual
``{"function": {...}}`` shape is expanded by LiteLLM's own
``_function_definitions_for_tool``, so Gemini/Anthropic-style tools format
exactly as LiteLLM formats them.

LiteLLM's formatter recurses (``_format_type`` / ``_format_object_parameters``,
one frame per array level and two per object level), so a deep enough schema
raises ``RecursionError`` there; this twin starts a few frames shallower,
so near the limit it would answer where LiteLLM raises.  Like the C twin
(``FL_TC_MAX_DEPTH``), it declines (``NotAccelerated``) past ``MAX_DEPTH``
such frames and LiteLLM formats the schema itself.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, Iterable, List

from ..patching.registry import NotAccelerated

_dict = dict

#: LiteLLM's recursion frames (as the C twin's FL_TC_MAX_DEPTH counts them)
#: past which the schema is left to LiteLLM
MAX_DEPTH = 64


def _is_mapping(value: Any) -> bool:
    return type(value) is _dict or isinstance(value, Mapping)


def make_formatter(definitions_for_tool: Callable[[Any], Iterable[Any]]) -> Callable[[Any], str]:
    """Build ``format_function_definitions(tools) -> str`` around LiteLLM's
    ``_function_definitions_for_tool`` (used for non-``function`` tools)."""

    def format_type(props: Any, indent: int, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise NotAccelerated("a schema nested deeper than LiteLLM's formatter is taken here")
        if not (type(props) is _dict or isinstance(props, Mapping)):
            return "any"
        type_ = props.get("type")
        enum = props.get("enum")
        if type_ == "string":
            if isinstance(enum, list):
                return " | ".join([f'"{item}"' for item in enum])
            return "string"
        elif type_ == "array":
            return f"{format_type(props.get('items'), indent, depth + 1)}[]"
        elif type_ == "object":
            return f"{{\n{format_object_parameters(props, indent + 2, depth + 1)}\n}}"
        elif type_ in ["integer", "number"]:
            if isinstance(enum, list):
                return " | ".join([f'"{item}"' for item in enum])
            return "number"
        elif type_ == "boolean":
            return "boolean"
        elif type_ == "null":
            return "null"
        else:
            return "any"

    def format_object_parameters(parameters: Any, indent: int, depth: int = 0) -> str:
        properties = parameters.get("properties")
        if not (type(properties) is _dict or isinstance(properties, Mapping)) or not properties:
            return ""
        required = parameters.get("required")
        required_params = tuple(required) if isinstance(required, list) else ()
        lines: List[str] = []
        for key, props in properties.items():
            description = (
                props.get("description") if (type(props) is _dict or isinstance(props, Mapping)) else None
            )
            if description:
                lines.append(f"// {description}")
            question = "?"
            if required_params and key in required_params:
                question = ""
            lines.append(f"{key}{question}: {format_type(props, indent, depth + 1)},")
        pad = " " * max(0, indent)
        return "\n".join([pad + line for line in lines])

    def format_single(function: Any, lines: List[str]) -> None:
        function_name = function.get("name")
        if not function_name:
            return
        function_description = function.get("description")
        parameters_value = function.get("parameters") or {}
        parameters = (
            parameters_value
            if (type(parameters_value) is _dict or isinstance(parameters_value, Mapping))
            else {}
        )
        properties = parameters.get("properties")
        if (type(properties) is _dict or isinstance(properties, Mapping)) and properties:
            if function_description:
                lines.append(f"// {function_description}")
            lines.append(f"type {function_name} = (_: {{")
            lines.append(format_object_parameters(parameters, 0))
            lines.append("}) => any;")
            lines.append("")
        else:
            if function_description:
                lines.append(f"// {function_description}")
            lines.append(f"type {function_name} = () => any;")
            lines.append("")

    def format_function_definitions(tools: Any) -> str:
        lines: List[str] = ["namespace functions {", ""]
        for tool in tools:
            if not (type(tool) is _dict or isinstance(tool, Mapping)):
                continue
            function = tool.get("function")
            if type(function) is _dict or isinstance(function, Mapping):
                format_single(function, lines)
            else:
                for definition in definitions_for_tool(tool):
                    format_single(definition, lines)
        lines.append("} // namespace functions")
        return "\n".join(lines)

    return format_function_definitions
