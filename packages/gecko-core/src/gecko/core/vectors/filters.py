"""One metadata filter syntax for every vector store.

    {"source": "a.md"}                           equality (several keys: all must hold)
    {"year": {"$gte": 2020, "$lt": 2025}}        ranges: $gt $gte $lt $lte (numbers)
    {"tag": {"$in": ["a", "b"]}}                 membership: $in $nin
    {"lang": {"$ne": "en"}}                      inequality: $eq $ne
    {"$or": [{...}, {...}]}, {"$and": [...]}     boolean combinations

A record that lacks a field never matches a condition on that field (not even
``$ne``/``$nin``), as in SQL. Booleans never equal numbers. ``parse_filter``
validates a filter into a small tree that each backend translates;
``matches`` evaluates it in Python (the memory store, and tests).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

from gecko.core.errors import FilterError

COMPARISONS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin")
RANGE_OPS = ("$gt", "$gte", "$lt", "$lte")


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Union[Condition, And, Or]


def parse_filter(filter: Mapping[str, Any] | None) -> Node | None:
    """Validate ``filter`` and return its tree (None for no filter)."""
    if filter is None:
        return None
    if not isinstance(filter, Mapping):
        raise FilterError(f"a filter must be a dict, got {type(filter).__name__}")
    if not filter:
        return None
    return _parse_mapping(filter)


def _parse_mapping(filter: Mapping[str, Any]) -> Node:
    nodes: list[Node] = []
    for key, value in filter.items():
        if key in ("$and", "$or"):
            if not isinstance(value, Sequence) or isinstance(value, (str, bytes)) or not value:
                raise FilterError(f"{key} takes a non-empty list of filters, got {value!r}")
            children = tuple(_parse_mapping(_as_mapping(child, key)) for child in value)
            nodes.append(And(children) if key == "$and" else Or(children))
        elif key.startswith("$"):
            raise FilterError(
                f"unknown filter operator {key!r} at the top level",
                hint="use $and / $or to combine, or a field name",
            )
        elif isinstance(value, Mapping):
            if not value:
                raise FilterError(f"empty condition for field {key!r}")
            for op, operand in value.items():
                nodes.append(_condition(key, op, operand))
        else:
            nodes.append(_condition(key, "$eq", value))
    return nodes[0] if len(nodes) == 1 else And(tuple(nodes))


def _as_mapping(child: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(child, Mapping) or not child:
        raise FilterError(f"every item of {key} must be a non-empty filter dict, got {child!r}")
    return child


def _condition(field: str, op: str, operand: Any) -> Condition:
    if op not in COMPARISONS:
        raise FilterError(
            f"unknown filter operator {op!r} for field {field!r}",
            hint=f"supported: {', '.join(COMPARISONS)}, $and, $or",
        )
    if op in ("$in", "$nin"):
        if not isinstance(operand, (list, tuple)) or not operand:
            raise FilterError(f"{op} for field {field!r} takes a non-empty list, got {operand!r}")
        for item in operand:
            _check_scalar(field, op, item)
        return Condition(field, op, tuple(operand))
    _check_scalar(field, op, operand)
    if op in RANGE_OPS and (isinstance(operand, bool) or not isinstance(operand, (int, float))):
        raise FilterError(f"{op} for field {field!r} takes a number, got {operand!r}")
    return Condition(field, op, operand)


def _check_scalar(field: str, op: str, value: Any) -> None:
    if not isinstance(value, (str, int, float, bool)):
        raise FilterError(
            f"{op} for field {field!r} compares with {value!r}; "
            "filter values must be strings, numbers or booleans"
        )


def _same_kind(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return True
    return type(a) is type(b)


def matches(node: Node | None, metadata: Mapping[str, Any]) -> bool:
    """Evaluate a parsed filter against one record's metadata."""
    if node is None:
        return True
    if isinstance(node, And):
        return all(matches(child, metadata) for child in node.children)
    if isinstance(node, Or):
        return any(matches(child, metadata) for child in node.children)
    if node.field not in metadata:
        return False
    actual = metadata[node.field]
    op, expected = node.op, node.value
    if op == "$eq":
        return _same_kind(actual, expected) and actual == expected
    if op == "$ne":
        return not (_same_kind(actual, expected) and actual == expected)
    if op == "$in":
        return any(_same_kind(actual, item) and actual == item for item in expected)
    if op == "$nin":
        return not any(_same_kind(actual, item) and actual == item for item in expected)
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        return False
    if op == "$gt":
        return bool(actual > expected)
    if op == "$gte":
        return bool(actual >= expected)
    if op == "$lt":
        return bool(actual < expected)
    return bool(actual <= expected)
