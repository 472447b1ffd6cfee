"""Composing a system prompt from a base prompt, the available tools and extra instructions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gecko.core.errors import PromptError
from gecko.core.prompts.template import PromptTemplate
from gecko.core.protocols import Tool

TOOLS_HEADING = "## Tools"
INSTRUCTIONS_HEADING = "## Instructions"


def compose_prompt(
    system: str | PromptTemplate,
    *,
    tools: Sequence[Tool | Mapping[str, Any]] = (),
    instructions: Sequence[str] = (),
    values: Mapping[str, Any] | None = None,
) -> str:
    """The system prompt: ``system`` (rendered with ``values``), a tool list, then instructions.

    A string ``system`` is used as written unless ``values`` are given, in which
    case it is a template. ``tools`` are Tool objects or OpenAI tool schemas;
    each is listed with its parameters and description. Empty sections are left out.
    """
    if isinstance(system, PromptTemplate):
        text = system.render(**(values or {}))
    elif isinstance(system, str):
        text = PromptTemplate(system, name="system").render(**values) if values else system
    else:
        raise PromptError(
            f"the system prompt must be a string or a PromptTemplate, got {type(system).__name__}"
        )
    sections = [text.strip()] if text.strip() else []
    if tools:
        lines = [TOOLS_HEADING, "You can call these tools:"]
        lines.extend(f"- {describe_tool(tool)}" for tool in tools)
        sections.append("\n".join(lines))
    cleaned = [instruction.strip() for instruction in instructions if instruction.strip()]
    if cleaned:
        sections.append("\n".join([INSTRUCTIONS_HEADING, *(f"- {i}" for i in cleaned)]))
    return "\n\n".join(sections)


def describe_tool(tool: Tool | Mapping[str, Any]) -> str:
    """One line for a tool: ``name(param: type, optional?: type): description``."""
    if isinstance(tool, Mapping):
        function = tool.get("function", tool)
        name = str(function.get("name", "?"))
        description = str(function.get("description") or "")
        parameters = function.get("parameters") or {}
    else:
        name, description, parameters = tool.name, tool.description, tool.parameters
    properties = parameters.get("properties") or {}
    required = set(parameters.get("required") or ())
    params = ", ".join(
        f"{param}{'' if param in required else '?'}: {_type_name(schema)}"
        for param, schema in properties.items()
    )
    summary = " ".join(description.split())
    return f"{name}({params})" + (f": {summary}" if summary else "")


def _type_name(schema: Any) -> str:
    if not isinstance(schema, Mapping):
        return "any"
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if isinstance(kind, str):
        if kind == "array":
            return f"array[{_type_name(schema.get('items'))}]"
        return kind
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            return " | ".join(_type_name(option) for option in options)
    if "enum" in schema:
        return " | ".join(repr(value) for value in schema["enum"])
    return "any"
