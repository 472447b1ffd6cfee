"""Generate a value that satisfies a JSON schema (what the scripted model answers with).

Covers what pydantic emits: objects, arrays, enums, consts, unions, ``$ref``/``$defs``,
``allOf``, numeric bounds, string lengths and common formats.
"""

from __future__ import annotations

from typing import Any

_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00",
    "email": "user@example.com",
    "uri": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "duration": "P1D",
    "ipv4": "127.0.0.1",
}


def sample_from_schema(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """A deterministic value valid for ``schema``."""
    defs = {**(defs or {}), **schema.get("$defs", {}), **schema.get("definitions", {})}
    return _sample(schema, defs, depth=0)


def _sample(schema: dict[str, Any], defs: dict[str, Any], depth: int) -> Any:
    if depth > 20:
        return None
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _sample(defs.get(name, {}), defs, depth + 1)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return _sample(options[0], defs, depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(defs.get(part["$ref"].rsplit("/", 1)[-1], {}) if "$ref" in part else part)
        return _sample(merged, defs, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties", {})
        required = schema.get("required", list(properties))
        return {
            name: _sample(properties[name], defs, depth + 1)
            for name in required
            if name in properties
        }
    if kind == "array":
        count = max(schema.get("minItems", 1), 1)
        return [_sample(schema.get("items", {}), defs, depth + 1) for _ in range(count)]
    if kind == "string":
        if schema.get("format") in _FORMATS:
            return _FORMATS[schema["format"]]
        return "a" * max(schema.get("minLength", 1), 1)
    if kind == "integer":
        return _number(schema, integer=True)
    if kind == "number":
        return float(_number(schema, integer=False))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "a"


def _number(schema: dict[str, Any], *, integer: bool) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    if low is None:
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        value: float = 0 if high is None or high > 0 else high - 1
    else:
        value = low + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
    return int(value) if integer else value
