"""The standard filter as a Milvus boolean expression.

Records keep their metadata in the JSON field ``metadata`` under keys that carry the
value's kind: ``"s:<name>"`` (string), ``"n:<name>"`` (number), ``"b:<name>"``
(boolean); reading strips the prefix. Milvus compares JSON booleans and numbers as
equal (``true == 1``); separate keys keep the standard rule that a boolean never equals
a number. Every user value and field name
is written as an escaped string or number literal by ``literal`` (Milvus Lite has no
parameter templates), never pasted raw. A record without the field matches no
condition on it: negations are guarded with ``exists``.
"""

from __future__ import annotations

from typing import Any

from gecko.core.vectors.filters import And, Condition, Node, Or
from gecko.rag.stores._filters import NUMBER, check_finite, group_by_kind, join, value_kind

_OPS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<=", "$eq": "==", "$ne": "!="}
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_INT64 = 2**63


def quote(text: str) -> str:
    """A double-quoted Milvus string literal with backslash, quote and line breaks escaped."""
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in text) + '"'


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and -_INT64 < value < _INT64:
        return str(value)
    if isinstance(value, (int, float)):
        return repr(float(value))
    return quote(str(value))


def typed_key(kind: str, field: str) -> str:
    return f"{kind}:{field}"


def typed_fields(metadata: dict[str, Any]) -> dict[str, Any]:
    """The stored JSON of a record's metadata: each value under its typed key."""
    fields: dict[str, Any] = {}
    for key, value in metadata.items():  # value_kind, inlined: this runs for every record
        if value is True or value is False:
            fields["b:" + key] = value
        elif isinstance(value, str):
            fields["s:" + key] = value
        else:
            fields["n:" + key] = value
    return fields


def plain_fields(stored: dict[str, Any] | None) -> dict[str, Any]:
    """A record's metadata from its stored JSON (the inverse of ``typed_fields``)."""
    return {key[2:]: value for key, value in (stored or {}).items()}


def _path(kind: str, field: str) -> str:
    return f"metadata[{quote(typed_key(kind, field))}]"


def to_expression(node: Node | None) -> str:
    """The expression for ``node``; ``""`` (no filter) for None."""
    if node is None:
        return ""
    check_finite(node)
    return _translate(node)


def _translate(node: Node) -> str:
    if isinstance(node, (And, Or)):
        return join(
            [_translate(child) for child in node.children], "and" if isinstance(node, And) else "or"
        )
    return _condition(node)


def _condition(node: Condition) -> str:
    field, op, value = node.field, node.op, node.value
    if op in ("$gt", "$gte", "$lt", "$lte", "$eq"):
        return f"{_path(value_kind(value) if op == '$eq' else NUMBER, field)} {_OPS[op]} {literal(value)}"
    if op == "$in":
        return join([f"{_path(value_kind(v), field)} == {literal(v)}" for v in value], "or")
    values = (value,) if op == "$ne" else value
    guards = [join([f"exists {_path(kind, field)}" for kind in ("s", NUMBER, "b")], "or")]
    for kind, group in group_by_kind(values).items():
        path = _path(kind, field)
        differs = join([f"{path} != {literal(v)}" for v in group], "and")
        guards.append(f"(not exists {path} or {differs})")
    return join(guards, "and")
