"""The standard filter as a Chroma ``where`` dict.

Chroma never matches a boolean against a number, like the standard syntax. Three
differences are bridged. Chroma truncates a float operand when comparing it with an
integer (``{"$lt": 1.5}`` misses 1), so the store keeps every number as a float and
numeric operands are floats. Chroma's ``$ne``/``$nin`` match records that lack the
field, so each field ``f`` of a record has a marker ``MARKER + f`` (``"i"`` for an
integer, given back as an int, ``"v"`` otherwise) and those operators also require
the marker. ``$in`` lists must hold one type, so mixed lists become an ``$or`` of one
list per type.
"""

from __future__ import annotations

from typing import Any

from gecko.core.vectors.filters import And, Condition, Node, Or
from gecko.rag.stores._filters import check_finite

MARKER = "_gecko:"
INT, VALUE = "i", "v"


def to_where(node: Node | None) -> dict[str, Any] | None:
    if node is None:
        return None
    check_finite(node)
    return _translate(node)


def _translate(node: Node) -> dict[str, Any]:
    if isinstance(node, (And, Or)):
        parts = [_translate(child) for child in node.children]
        if len(parts) == 1:
            return parts[0]
        return {"$and" if isinstance(node, And) else "$or": parts}
    return _condition(node)


def _present(field: str) -> dict[str, Any]:
    return {MARKER + field: {"$in": [INT, VALUE]}}


def stored(value: Any) -> Any:
    """How a metadata or filter value is kept in Chroma: numbers as floats."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _typed_groups(values: tuple[Any, ...]) -> list[list[Any]]:
    groups: dict[type, list[Any]] = {}
    for value in values:
        groups.setdefault(type(value), []).append(value)
    return list(groups.values())


def _condition(node: Condition) -> dict[str, Any]:
    field, op = node.field, node.op
    value = (
        tuple(stored(v) for v in node.value)
        if isinstance(node.value, tuple)
        else stored(node.value)
    )
    if op == "$in":
        parts = [{field: {"$in": group}} for group in _typed_groups(value)]
        return parts[0] if len(parts) == 1 else {"$or": parts}
    if op == "$nin":
        return {"$and": [_present(field), *({field: {"$nin": g}} for g in _typed_groups(value))]}
    if op == "$ne":
        return {"$and": [_present(field), {field: {"$ne": value}}]}
    return {field: {op: value}}
