"""Helpers shared by the per-backend filter translators."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

from gecko.core.errors import FilterError
from gecko.core.vectors.filters import Condition, Node

NUMBER, STRING, BOOL = "n", "s", "b"


def value_kind(value: Any) -> str:
    """The storage kind of a metadata or filter value: ``b`` bool, ``n`` number, ``s`` string."""
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, (int, float)):
        return NUMBER
    return STRING


def conditions(node: Node) -> Iterator[Condition]:
    if isinstance(node, Condition):
        yield node
    else:
        for child in node.children:
            yield from conditions(child)


def check_finite(node: Node) -> None:
    """Backends' query languages have no infinity or NaN literal: reject them clearly."""
    for condition in conditions(node):
        values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
        for value in values:
            if isinstance(value, float) and not math.isfinite(value):
                raise FilterError(
                    f"filter value {value!r} for field {condition.field!r} is not a finite number",
                    hint="metadata numbers are always finite; use the largest value you need instead",
                )


def group_by_kind(values: Sequence[Any]) -> dict[str, list[Any]]:
    """Values of an $in/$nin list grouped by kind, in first-seen order."""
    groups: dict[str, list[Any]] = {}
    for value in values:
        groups.setdefault(value_kind(value), []).append(value)
    return groups


def join(parts: Sequence[str], joiner: str) -> str:
    """``parts`` joined with `` AND ``/`` OR `` (any case), parenthesised when several."""
    return parts[0] if len(parts) == 1 else "(" + f" {joiner} ".join(parts) + ")"
