"""A store of the wrong kind is refused when the pipeline, tool or memory is built, with the fix."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gecko.core.embedders.hashing import HashingEmbedder
from gecko.core.errors import ConfigurationError
from gecko.core.factories import create_storage
from gecko.core.storage.memory_vector import MemoryVectorStore
from gecko.rag import IngestionPipeline, RetrievalTool
from gecko.rag.memory import VectorMemory

pytestmark = pytest.mark.anyio

BUILDERS: dict[str, Callable[[Any], object]] = {
    "IngestionPipeline": lambda store: IngestionPipeline(store, HashingEmbedder(8)),
    "RetrievalTool": lambda store: RetrievalTool(store, HashingEmbedder(8)),
    "VectorMemory": lambda store: VectorMemory(store, HashingEmbedder(8)),
}


@pytest.mark.parametrize("owner", list(BUILDERS))
@pytest.mark.parametrize("url", ["memory://", "sqlite:///{tmp}/sessions.db"])
async def test_a_session_store_is_refused_with_how_to_open_a_vector_store(
    owner: str, url: str, tmp_path: Path
) -> None:
    async with await create_storage(url.format(tmp=tmp_path)) as session_store:
        with pytest.raises(ConfigurationError) as info:
            BUILDERS[owner](session_store)
    error = info.value
    assert error.message.startswith(
        f"{owner} needs a vector store, got a {type(session_store).__name__}"
    )
    assert "session/checkpoint store" in error.message and "upsert, search" in error.message
    assert error.hint is not None
    assert 'await create_storage("memory://", kind="vector")' in error.hint
    assert "chroma://" in error.hint and "lancedb://" in error.hint and "milvus://" in error.hint


@pytest.mark.parametrize("owner", list(BUILDERS))
async def test_a_forgotten_await_is_named(owner: str) -> None:
    pending = create_storage("memory://", kind="vector")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # closed, so no "coroutine was never awaited" either
        with pytest.raises(ConfigurationError, match="got a coroutine") as info:
            BUILDERS[owner](pending)
    assert info.value.hint is not None and info.value.hint.startswith("await it")
    assert pending.cr_frame is None  # closed


@pytest.mark.parametrize("owner", list(BUILDERS))
def test_a_class_or_an_unrelated_object_is_refused(owner: str) -> None:
    with pytest.raises(ConfigurationError, match="instance, got the class MemoryVectorStore"):
        BUILDERS[owner](MemoryVectorStore)
    with pytest.raises(ConfigurationError, match="got a dict which has no upsert, search"):
        BUILDERS[owner]({})


async def test_a_url_is_still_accepted_by_the_tool() -> None:
    tool = RetrievalTool("memory://", HashingEmbedder(8))  # opened on first use, as a vector store
    try:
        assert "No passages in the knowledge base" in await tool.execute({"query": "anything"})
    finally:
        await tool.aclose()
