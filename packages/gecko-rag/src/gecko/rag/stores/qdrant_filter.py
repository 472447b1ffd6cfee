"""The standard filter as a Qdrant ``Filter``, and the payload layout it runs against.

A point's payload holds the record's id and text, and its metadata in an index-friendly
form: ``f`` maps ``<kind>_<hex of the field name>`` to the value (``s`` string, ``n``
number, ``b`` boolean; values keep their type, so an int stays an int) and ``k`` lists
the hex names present; ``plain_metadata`` turns ``f`` back into the metadata. Hex names keep any field name (dots, quotes, spaces) from being read
as a nested path; the kind keeps a boolean from ever equalling a number. Filters are
Qdrant model objects, never query text, so no value can change their meaning. A record
without the field matches no condition on it: negations require the name in ``k``.
"""

from __future__ import annotations

from typing import Any

from gecko.core.vectors.filters import And, Condition, Node, Or
from gecko.rag.stores._filters import BOOL, NUMBER, check_finite, value_kind

FIELDS, KEYS = "f", "k"


def field_name(field: str) -> str:
    return field.encode("utf-8").hex()


def indexed_payload(metadata: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``(f, k)`` of a record's payload: typed values under hex names, and the names."""
    typed: dict[str, Any] = {}
    names: list[str] = []
    for key, value in metadata.items():
        name = key.encode("utf-8").hex()
        names.append(name)
        typed[f"{value_kind(value)}_{name}"] = value
    return typed, names


def plain_metadata(typed: dict[str, Any] | None) -> dict[str, Any]:
    """A record's metadata from its payload's ``f`` (the inverse of ``indexed_payload``)."""
    return {bytes.fromhex(key[2:]).decode("utf-8"): value for key, value in (typed or {}).items()}


def to_filter(node: Node | None, models: Any) -> Any:
    """A ``qdrant_client.models.Filter`` for ``node``; None for no filter."""
    if node is None:
        return None
    check_finite(node)
    built = _translate(node, models)
    return built if isinstance(built, models.Filter) else models.Filter(must=[built])


def _translate(node: Node, models: Any) -> Any:
    if isinstance(node, And):
        return models.Filter(must=[_translate(child, models) for child in node.children])
    if isinstance(node, Or):
        return models.Filter(should=[_translate(child, models) for child in node.children])
    return _condition(node, models)


def _equals(field: str, value: Any, models: Any) -> Any:
    kind = value_kind(value)
    key = f"{FIELDS}.{kind}_{field_name(field)}"
    if kind == NUMBER:
        return models.FieldCondition(key=key, range=models.Range(gte=value, lte=value))
    if kind == BOOL:
        return models.FieldCondition(key=key, match=models.MatchValue(value=bool(value)))
    return models.FieldCondition(key=key, match=models.MatchValue(value=value))


def _has(field: str, models: Any) -> Any:
    return models.FieldCondition(key=KEYS, match=models.MatchValue(value=field_name(field)))


def _condition(node: Condition, models: Any) -> Any:
    field, op, value = node.field, node.op, node.value
    if op == "$eq":
        return _equals(field, value, models)
    if op == "$in":
        return models.Filter(should=[_equals(field, v, models) for v in value])
    if op in ("$ne", "$nin"):
        values = (value,) if op == "$ne" else value
        return models.Filter(
            must=[_has(field, models)], must_not=[_equals(field, v, models) for v in values]
        )
    bound = {"$gt": "gt", "$gte": "gte", "$lt": "lt", "$lte": "lte"}[op]
    key = f"{FIELDS}.{NUMBER}_{field_name(field)}"
    return models.FieldCondition(key=key, range=models.Range(**{bound: value}))
