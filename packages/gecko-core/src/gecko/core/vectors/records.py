"""Validation and math shared by every VectorStore implementation."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from gecko.core.errors import ConfigurationError, VectorStoreError
from gecko.core.protocols import VectorRecord


def validate_records(records: Sequence[VectorRecord], dimension: int | None) -> int | None:
    """Check ids, embeddings and metadata of a batch; return the batch's dimension.

    Raises VectorStoreError naming the record for an empty or duplicate id, a
    non-numeric or non-finite embedding, a dimension different from ``dimension``
    (or from the rest of the batch), or metadata that is not flat str/number/bool.
    """
    seen: set[str] = set()
    for record in records:
        if not isinstance(record, VectorRecord):
            raise VectorStoreError(
                f"upsert takes VectorRecord objects, got {type(record).__name__}",
                hint="from gecko.core.protocols import VectorRecord",
            )
        if not isinstance(record.id, str) or not record.id:
            raise VectorStoreError(
                f"vector record ids must be non-empty strings, got {record.id!r}"
            )
        if record.id in seen:
            raise VectorStoreError(f"vector record id {record.id!r} appears twice in one upsert")
        seen.add(record.id)
        embedding = record.embedding
        if dimension is None:
            dimension = len(embedding)
            if dimension == 0:
                raise VectorStoreError(f"vector record {record.id!r} has an empty embedding")
        if len(embedding) != dimension:
            raise VectorStoreError(
                f"vector record {record.id!r} has dimension {len(embedding)}, expected {dimension}",
                hint="every vector of a store must come from the same embedder",
                id=record.id,
            )
        for value in embedding:
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
            ):
                raise VectorStoreError(
                    f"vector record {record.id!r} has a non-numeric or non-finite value {value!r}",
                    id=record.id,
                )
        if not isinstance(record.text, str):
            raise VectorStoreError(f"vector record {record.id!r} text must be a string")
        check_metadata(record.id, record.metadata)
    return dimension


def check_metadata(record_id: str, metadata: Any) -> None:
    if not isinstance(metadata, dict):
        raise VectorStoreError(f"metadata of vector record {record_id!r} must be a dict")
    for key, value in metadata.items():
        if not isinstance(key, str) or not key or key.startswith("$"):
            raise VectorStoreError(
                f"metadata key {key!r} of vector record {record_id!r} must be a non-empty string "
                "not starting with '$'"
            )
        if not isinstance(value, (str, int, float, bool)) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            raise VectorStoreError(
                f"metadata {key!r} of vector record {record_id!r} is {type(value).__name__}; "
                "metadata values must be strings, finite numbers or booleans",
                hint="flatten nested metadata or store it as a JSON string",
                id=record_id,
                key=key,
            )


def check_query(embedding: Sequence[float], dimension: int | None, top_k: int) -> None:
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise VectorStoreError(f"top_k must be a positive integer, got {top_k!r}")
    if dimension is not None and len(embedding) != dimension:
        raise VectorStoreError(
            f"query vector has dimension {len(embedding)}, the store holds dimension {dimension}",
            hint="embed the query with the embedder used for the documents",
        )


def check_ids(ids: Sequence[str] | None) -> list[str] | None:
    """The ids of a ``get``/``delete`` as a list of strings (None stays None)."""
    if ids is None:
        return None
    if isinstance(ids, str):
        raise VectorStoreError(
            "ids must be a list of strings, got a single string", hint="wrap it: [id]"
        )
    result = list(ids)
    for value in result:
        if not isinstance(value, str):
            raise VectorStoreError(f"ids must be strings, got {value!r}")
    return result


def check_delete(ids: Sequence[str] | None, filter: Mapping[str, Any] | None) -> list[str] | None:
    """Validate ``delete``'s arguments: ids and/or a non-empty filter (never "delete all")."""
    wanted = check_ids(ids)
    if wanted is None and not filter:
        raise ConfigurationError(
            "delete needs ids or a non-empty filter", hint="pass ids=[...] or filter={...}"
        )
    return wanted


def norm(vector: Sequence[float]) -> float:
    return math.sqrt(math.fsum(x * x for x in vector))


def cosine(a: Sequence[float], b: Sequence[float], norm_a: float, norm_b: float) -> float:
    if norm_a == 0.0 or norm_b == 0.0:
        return 0.0
    return sum(x * y for x, y in zip(a, b)) / (norm_a * norm_b)
