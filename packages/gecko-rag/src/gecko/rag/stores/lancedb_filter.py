"""The standard filter as a LanceDB SQL predicate over typed metadata columns.

Each metadata field is stored in one nullable column per kind of value it has held:
``s_<field>`` (string), ``i_<field>`` (int64), ``f_<field>`` (float64), ``b_<field>``
(boolean); a field name that is not a plain lower-case identifier is hex-encoded
(``sx_<hex>``). Numbers compare across the int and float columns. Missing values are
NULL, and SQL's NULL logic gives the standard semantics: a record without the field
matches no condition on it. Literals are quoted by ``sql_literal``; field names never
reach SQL except through ``column_name``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from functools import lru_cache
from typing import Any

from gecko.core.vectors.filters import And, Condition, Node, Or
from gecko.rag.stores._filters import BOOL, NUMBER, STRING, check_finite, group_by_kind, join

INT, FLOAT = "i", "f"
KINDS = (STRING, INT, FLOAT, BOOL)
"""Column kinds; a filter's number (kind ``n``) is looked up in both INT and FLOAT."""
_PLAIN = re.compile(r"[a-z][a-z0-9_]{0,62}")
_TYPED = re.compile(r"([sifb])(?:_([a-z][a-z0-9_]{0,62})|x_((?:[0-9a-f]{2})+))")
_SQL_OPS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


@lru_cache(maxsize=8192)
def column_name(kind: str, field: str) -> str:
    """The column holding ``field``'s values of ``kind`` (``s``, ``i``, ``f`` or ``b``)."""
    if _PLAIN.fullmatch(field):
        return f"{kind}_{field}"
    return f"{kind}x_{field.encode('utf-8').hex()}"


@lru_cache(maxsize=8192)
def parse_column(name: str) -> tuple[str, str] | None:
    """``(kind, field)`` of a typed column name; None for any other column."""
    match = _TYPED.fullmatch(name)
    if match is None:
        return None
    kind, plain, encoded = match.groups()
    if plain is not None:
        return kind, plain
    try:
        return kind, bytes.fromhex(encoded).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _side(column: str, value: Any) -> str:
    """The column as compared with ``value``: an int column meets a float (or a huge int)
    as a double, since LanceDB will not narrow the literal to the column's type."""
    widen = isinstance(value, float) or (
        isinstance(value, int) and not isinstance(value, bool) and not -(2**63) < value < 2**63
    )
    return f"CAST({column} AS DOUBLE)" if column[0] == INT and widen else column


def sql_literal(value: Any) -> str:
    """A SQL literal for a filter value: strings single-quoted with quotes doubled,
    integers as integers, floats with ``repr``, booleans as TRUE/FALSE."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value) if -(2**63) < value < 2**63 else repr(float(value))
    if isinstance(value, float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def to_sql(node: Node | None, columns: Collection[str]) -> str | None:
    """The predicate for ``node`` given the table's existing ``columns`` (None: no filter)."""
    if node is None:
        return None
    check_finite(node)

    def resolve(kind: str, field: str) -> list[str]:
        kinds = (INT, FLOAT) if kind == NUMBER else (kind,)
        return [c for k in kinds if (c := column_name(k, field)) in columns]

    return _translate(node, resolve)


Resolve = Callable[[str, str], "list[str]"]


def _translate(node: Node, column: Resolve) -> str:
    if isinstance(node, (And, Or)):
        return join(
            [_translate(child, column) for child in node.children],
            "AND" if isinstance(node, And) else "OR",
        )
    return _condition(node, column)


def _present(field: str, column: Resolve) -> str:
    found = [f"{c} IS NOT NULL" for kind in (STRING, NUMBER, BOOL) for c in column(kind, field)]
    return join(found, "OR") if found else "FALSE"


def _equals_any(
    field: str, values: tuple[Any, ...], column: Resolve, *, null_safe: bool = False
) -> str:
    """The field holds one of ``values`` (same kind). ``null_safe`` turns NULL into FALSE,
    which a condition under NOT needs."""
    parts = []
    for kind, group in group_by_kind(values).items():
        for col in column(kind, field):
            sides: dict[str, list[Any]] = {}
            for value in group:
                sides.setdefault(_side(col, value), []).append(value)
            for side, members in sides.items():
                literals = ", ".join(sql_literal(v) for v in members)
                test = f"{side} = {literals}" if len(members) == 1 else f"{side} IN ({literals})"
                parts.append(f"COALESCE({test}, FALSE)" if null_safe else test)
    return join(parts, "OR") if parts else "FALSE"


def _condition(node: Condition, column: Resolve) -> str:
    field, op, value = node.field, node.op, node.value
    if op in _SQL_OPS:
        parts = [
            f"{_side(col, value)} {_SQL_OPS[op]} {sql_literal(value)}"
            for col in column(NUMBER, field)
        ]
        return join(parts, "OR") if parts else "FALSE"
    if op == "$eq":
        return _equals_any(field, (value,), column)
    if op == "$in":
        return _equals_any(field, value, column)
    values = (value,) if op == "$ne" else value
    present = _present(field, column)
    if present == "FALSE":
        return "FALSE"
    return f"({present} AND NOT {_equals_any(field, values, column, null_safe=True)})"
