"""The ``memory://`` factory: one scheme, two kinds of store."""

from __future__ import annotations

from typing import Any

from gecko.core.storage.memory import MemoryStore
from gecko.core.storage.memory_vector import MemoryVectorStore


async def open_memory_store(url: str, *, kind: str = "kv", **options: Any) -> Any:
    """``kind="kv"``: a MemoryStore (sessions, checkpoints); ``kind="vector"``: a MemoryVectorStore."""
    if kind == "vector":
        return await MemoryVectorStore.open(url, **options)
    return await MemoryStore.open(url, **options)
