"""The standard filter as a parameterised SQL condition over a JSONB ``metadata`` column.

Every field name and value is a ``%s`` parameter; nothing from the filter is pasted
into the SQL text. Equality and membership are JSONB containment (``@>``), which
keeps the standard rules (a boolean never equals a number; ``1`` equals ``1.0``) and
can use a GIN index. Ranges compare numbers only, as ``numeric`` (exact, also past
2**53), and match no string or boolean. A record without the field matches no
condition on it: negations are guarded with the ``?`` (has key) operator.
"""

from __future__ import annotations

import json
from typing import Any

from gecko.core.vectors.filters import And, Condition, Node, Or
from gecko.rag.stores._filters import check_finite, join

_RANGE = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


def to_sql(node: Node | None, column: str = "metadata") -> tuple[str, list[Any]]:
    """``(condition, params)`` for ``node``; ``("TRUE", [])`` for no filter."""
    if node is None:
        return "TRUE", []
    check_finite(node)
    params: list[Any] = []
    return _translate(node, column, params), params


def _translate(node: Node, column: str, params: list[Any]) -> str:
    if isinstance(node, (And, Or)):
        parts = [_translate(child, column, params) for child in node.children]
        return join(parts, "AND" if isinstance(node, And) else "OR")
    return _condition(node, column, params)


def _contains(field: str, value: Any) -> str:
    return json.dumps({field: value}, ensure_ascii=False)


def _condition(node: Condition, column: str, params: list[Any]) -> str:
    field, op, value = node.field, node.op, node.value
    if op == "$eq":
        params.append(_contains(field, value))
        return f"{column} @> %s::jsonb"
    if op == "$ne":
        params.extend([field, _contains(field, value)])
        return f"({column} ? %s::text AND NOT {column} @> %s::jsonb)"
    if op == "$in":
        params.append([_contains(field, v) for v in value])
        return f"{column} @> ANY(%s::jsonb[])"
    if op == "$nin":
        params.extend([field, [_contains(field, v) for v in value]])
        return f"({column} ? %s::text AND NOT {column} @> ANY(%s::jsonb[]))"
    params.extend([field, field, repr(value)])
    return (
        f"(CASE WHEN jsonb_typeof({column} -> %s::text) = 'number' "
        f"THEN ({column} ->> %s::text)::numeric {_RANGE[op]} %s::numeric ELSE FALSE END)"
    )
