"""Metadata to typed Arrow columns (for writing) and back (for reading), for LanceDB.

The common case, every field with one kind of value across a batch, is converted by
Arrow in C (``pa.array`` over the dicts) and validated per field, not per record;
anything else (a field holding strings in one record and numbers in another, or
invalid metadata) takes the per-record path, which names the bad record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gecko.core.errors import VectorStoreError
from gecko.core.vectors.records import check_metadata
from gecko.rag.stores._filters import BOOL, STRING
from gecko.rag.stores.lancedb_filter import FLOAT, INT, column_name, parse_column


def arrow_type(pa: Any, kind: str) -> Any:
    """The Arrow type of a column of ``kind``."""
    return {STRING: pa.string, INT: pa.int64, FLOAT: pa.float64, BOOL: pa.bool_}[kind]()


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    return STRING


def metadata_columns(
    pa: Any, ids: Sequence[str], metadatas: Sequence[dict[str, Any]]
) -> dict[str, tuple[str, Any]]:
    """Typed column name -> ``(kind, Arrow array)`` for a batch's metadata (validated)."""
    if not any(metadatas):
        return {}
    fast = _columnar(pa, metadatas)
    if fast is not None:
        return fast
    for record_id, metadata in zip(ids, metadatas):
        check_metadata(record_id, metadata)  # raises, naming the record, for invalid metadata
    values: dict[str, tuple[str, list[Any]]] = {}
    size = len(metadatas)
    for row, metadata in enumerate(metadatas):
        for key, value in metadata.items():
            kind = kind_of(value)
            values.setdefault(column_name(kind, key), (kind, [None] * size))[1][row] = value
    columns = {}
    for name, (kind, column) in values.items():
        try:
            columns[name] = (kind, pa.array(column, type=arrow_type(pa, kind)))
        except OverflowError as exc:
            raise VectorStoreError(
                f"metadata {parse_column(name)[1]!r} holds an integer beyond 64 bits; "  # type: ignore[index]
                "the lancedb store keeps integers within ±2**63",
                hint="store larger integers as strings",
            ) from exc
    return columns


def _columnar(pa: Any, metadatas: Sequence[dict[str, Any]]) -> dict[str, tuple[str, Any]] | None:
    import pyarrow.compute as pc

    try:
        struct = pa.array(metadatas)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        return None
    kinds = {pa.string(): STRING, pa.int64(): INT, pa.float64(): FLOAT, pa.bool_(): BOOL}
    columns = {}
    for index, field in enumerate(struct.type):
        key, kind = field.name, kinds.get(field.type)
        if kind is None or not key or key.startswith("$"):
            return None
        child = struct.field(index)
        if kind == FLOAT:
            if not pc.all(pc.is_finite(child)).as_py():
                return None
            if any(type(m.get(key)) is int for m in metadatas):  # Arrow widened ints to floats
                return None
        columns[column_name(kind, key)] = (kind, child)
    return columns


def rows_metadata(result: Any) -> list[dict[str, Any]]:
    """Each result row's metadata, from its non-null typed columns."""
    rows: list[dict[str, Any]] = [{} for _ in range(result.num_rows)]
    for name in result.column_names:
        parsed = parse_column(name)
        if parsed is None:
            continue
        field = parsed[1]
        for row, value in zip(rows, result.column(name).to_pylist()):
            if value is not None:
                row[field] = value
    return rows
