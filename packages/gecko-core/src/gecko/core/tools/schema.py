"""JSON schemas for tool parameters (as chat-model APIs expect them) and readable validation errors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_VALUES = ("items", "additionalProperties", "not", "contains")
_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")


def parameters_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of ``model`` as tool parameters: an object schema without titles.

    Pydantic adds a ``title`` to every schema (derived from class and field
    names); models do not need them and they cost prompt tokens. Descriptions
    stay. The top-level schema always has ``type: object`` and ``properties``.
    """
    schema = strip_titles(model.model_json_schema())
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    return schema


def strip_titles(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` without the ``title`` keyword in any (sub)schema.

    Only the keyword is dropped: a property that happens to be *named*
    ``title`` is kept.
    """
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {
                name: strip_titles(sub) if isinstance(sub, dict) else sub
                for name, sub in value.items()
            }
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [strip_titles(sub) if isinstance(sub, dict) else sub for sub in value]
        elif key in _SCHEMA_VALUES and isinstance(value, dict):
            out[key] = strip_titles(value)
        else:
            out[key] = value
    return out


def describe_validation_errors(exc: ValidationError, *, noun: str = "argument") -> list[str]:
    """One readable line per pydantic error, naming the offending field.

    ``["argument 'b': Input should be a valid integer (got 'x')", ...]`` - what a
    model needs to correct its call, and what a developer reads in a log.
    """
    lines: list[str] = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or "(root)"
        kind = error["type"]
        if kind == "missing":
            message = "missing required " + noun
        elif kind == "extra_forbidden":
            message = "unexpected " + noun
        else:
            message = f"{error['msg']} (got {_short_repr(error.get('input'))})"
        lines.append(f"{noun} {location!r}: {message}")
    return lines


def _short_repr(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
