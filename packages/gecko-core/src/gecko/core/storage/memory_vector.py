"""``memory://`` as a vector store (``kind="vector"``): exact cosine search in pure Python.

Meant for tests, examples and small corpora; a real deployment uses chroma,
lancedb or milvus through gecko-rag.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from gecko.core.errors import ConfigurationError
from gecko.core.protocols import VectorMatch, VectorRecord
from gecko.core.storage.base import BaseStore
from gecko.core.vectors.filters import matches, parse_filter
from gecko.core.vectors.records import (
    check_delete,
    check_ids,
    check_query,
    cosine,
    norm,
    validate_records,
)


class MemoryVectorStore(BaseStore):
    """An in-process VectorStore with exact search and the standard filter syntax."""

    supports_ttl = False

    def __init__(self) -> None:
        self.dimension: int | None = None
        self._records: dict[str, tuple[VectorRecord, float]] = {}

    @classmethod
    async def open(cls, url: str = "memory://", **options: Any) -> MemoryVectorStore:
        if options:
            raise ConfigurationError(
                f"memory:// vector store takes no options, got {sorted(options)}"
            )
        return cls()

    async def upsert(self, records: Sequence[VectorRecord]) -> None:
        self._ensure_open()
        records = list(records)
        if not records:
            return
        self.dimension = validate_records(records, self.dimension)
        for record in records:
            copy = VectorRecord(
                id=record.id,
                embedding=[float(x) for x in record.embedding],
                text=record.text,
                metadata=dict(record.metadata),
            )
            self._records[record.id] = (copy, norm(copy.embedding))

    async def search(
        self,
        embedding: Sequence[float],
        *,
        top_k: int = 4,
        filter: Mapping[str, Any] | None = None,
    ) -> list[VectorMatch]:
        self._ensure_open()
        check_query(embedding, self.dimension, top_k)
        node = parse_filter(filter)
        query = [float(x) for x in embedding]
        query_norm = norm(query)
        scored = (
            (cosine(query, record.embedding, query_norm, record_norm), record)
            for record, record_norm in self._records.values()
            if matches(node, record.metadata)
        )
        best = heapq.nlargest(top_k, scored, key=lambda pair: pair[0])
        return [
            VectorMatch(id=r.id, score=score, text=r.text, metadata=dict(r.metadata))
            for score, r in best
        ]

    async def get(self, ids: Sequence[str]) -> list[VectorRecord]:
        self._ensure_open()
        found = (self._records.get(i) for i in check_ids(ids) or [])
        return [replace(item[0], metadata=dict(item[0].metadata)) for item in found if item]

    async def delete(
        self, ids: Sequence[str] | None = None, *, filter: Mapping[str, Any] | None = None
    ) -> int:
        self._ensure_open()
        wanted = check_delete(ids, filter)
        node = parse_filter(filter)
        candidates = (
            list(self._records) if wanted is None else [i for i in wanted if i in self._records]
        )
        doomed = [i for i in candidates if matches(node, self._records[i][0].metadata)]
        for record_id in doomed:
            del self._records[record_id]
        return len(doomed)

    async def count(self, filter: Mapping[str, Any] | None = None) -> int:
        self._ensure_open()
        node = parse_filter(filter)
        if node is None:
            return len(self._records)
        return sum(1 for record, _ in self._records.values() if matches(node, record.metadata))
