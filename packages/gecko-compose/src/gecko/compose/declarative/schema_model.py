"""Pydantic models from the JSON Schemas a spec holds (``inputs``, ``response_schema``).

The common subset is supported: ``type`` (object, string, integer, number,
boolean, array, null, or a list of them), ``properties``, ``required``,
``items``, ``enum``, ``default``, ``description``, ``title``; annotations such
as ``format`` or ``minLength`` are accepted and not enforced. Anything else
(``$ref``, ``oneOf``...) is refused with the keyword named.
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

_SCALARS: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "null": type(None),
}
_STRUCTURE = {"type", "properties", "required", "items", "enum", "default", "description", "title"}
_ANNOTATIONS = {
    "format", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "pattern", "minItems", "maxItems", "uniqueItems", "examples",
    "additionalProperties", "$schema", "$id", "$comment", "multipleOf", "readOnly", "writeOnly",
}  # fmt: skip


class SchemaError(Exception):
    """The schema uses something this converter does not support (message says what)."""


def model_from_schema(schema: Any, name: str) -> type[BaseModel]:
    """A pydantic model validating objects of the JSON Schema ``schema`` (an object schema)."""
    if not isinstance(schema, dict):
        raise SchemaError(f"a JSON Schema is a mapping, got {type(schema).__name__}")
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind != "object":
        raise SchemaError(f"the schema must be of `type: object`, got {kind!r}")
    return _object(schema, _model_name(name), 0)


def _object(schema: dict[str, Any], name: str, depth: int) -> type[BaseModel]:
    _check_keywords(schema)
    properties = schema.get("properties") or {}
    if not isinstance(properties, dict):
        raise SchemaError("`properties` must be a mapping")
    required = schema.get("required") or []
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise SchemaError("`required` must be a list of property names")
    extra: Literal["allow", "forbid"] = (
        "forbid" if schema.get("additionalProperties") is False else "allow"
    )
    fields: dict[str, Any] = {}
    for prop, sub in properties.items():
        if not isinstance(prop, str) or not prop.isidentifier() or prop.startswith("_"):
            raise SchemaError(f"property name {prop!r} must be an identifier")
        annotation = _type(sub, f"{name}_{prop}", depth + 1)
        description = sub.get("description") if isinstance(sub, dict) else None
        if prop in required:
            fields[prop] = (annotation, Field(..., description=description))
        else:
            default = sub.get("default") if isinstance(sub, dict) else None
            fields[prop] = (Optional[annotation], Field(default, description=description))  # noqa: UP045
    return create_model(name, __config__=ConfigDict(extra=extra), **fields)  # type: ignore[call-overload,no-any-return]


def _type(schema: Any, name: str, depth: int) -> Any:
    if depth > 16:
        raise SchemaError("the schema is nested too deeply")
    if schema is True or schema == {}:
        return Any
    if not isinstance(schema, dict):
        raise SchemaError(f"a property schema is a mapping, got {schema!r}")
    _check_keywords(schema)
    if "enum" in schema:
        values = schema["enum"]
        if not isinstance(values, list) or not values:
            raise SchemaError("`enum` must be a non-empty list")
        return Literal[tuple(values)]
    kind = schema.get("type")
    if isinstance(kind, list):
        return Union[tuple(_type({**schema, "type": k}, name, depth) for k in kind)]
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "array":
        items = schema.get("items", {})
        return list[_type(items, f"{name}_item", depth + 1)]  # type: ignore[misc]
    if kind == "object" or (kind is None and "properties" in schema):
        if "properties" not in schema:
            return dict[str, Any]
        return _object(schema, _model_name(name), depth + 1)
    if kind is None:
        return Any
    raise SchemaError(f"unknown JSON Schema type {kind!r}")


def _check_keywords(schema: dict[str, Any]) -> None:
    unknown = sorted(set(schema) - _STRUCTURE - _ANNOTATIONS)
    if unknown:
        raise SchemaError(
            f"JSON Schema keyword {unknown[0]!r} is not supported here; supported: "
            + ", ".join(sorted(_STRUCTURE))
        )


def _model_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "_" for ch in name).strip("_") or "Model"
    return cleaned[0].upper() + cleaned[1:]
