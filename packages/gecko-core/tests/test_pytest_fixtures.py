"""The fixtures gecko-core's pytest plugin gives plugin authors and applications."""

from __future__ import annotations

from typing import Any

import pytest

from gecko.core.message import Message
from gecko.core.protocols import SessionStore, VectorRecord, VectorStore

pytestmark = pytest.mark.anyio


async def test_scripted_model_fixture(scripted_model: Any) -> None:
    response = await scripted_model.acompletion([Message.user("hello")])
    assert "hello" in response.text and len(scripted_model.calls) == 1


async def test_store_fixtures(
    memory_store: Any, memory_vector_store: Any, hashing_embedder: Any
) -> None:
    assert isinstance(memory_store, SessionStore) and isinstance(memory_vector_store, VectorStore)
    vector = await hashing_embedder.embed_query("geckos climb")
    await memory_vector_store.upsert([VectorRecord("1", vector, "geckos climb walls")])
    [match] = await memory_vector_store.search(vector, top_k=1)
    assert match.id == "1" and match.score == pytest.approx(1.0)
