"""Ingest the project's docs into the demo's vector store, and search them."""

from __future__ import annotations

from typing import Any

from config import DemoConfig

from gecko import create_embedder, create_storage
from gecko.rag import IngestionPipeline, MarkdownSplitter, RetrievalTool
from gecko.rag.progress import ProgressBar


async def ingest(config: DemoConfig) -> Any:
    """Load, split, embed and store ``docs/`` (re-running stores only what changed)."""
    async with await create_storage(config.vector_store, kind="vector") as store:
        pipeline = IngestionPipeline(
            store,
            create_embedder(config.embedder),
            splitter=MarkdownSplitter(chunk_size=800, chunk_overlap=100),
            include=["*.md"],
            exclude=["reference/*"],  # the API reference pages are mkdocstrings directives
            source_root=config.docs.parent,
        )
        with ProgressBar() as progress:
            return await pipeline.run([config.docs], on_progress=progress)


def retriever(config: DemoConfig) -> RetrievalTool:
    """The ``knowledge_search`` tool over the demo's store (opened on first use)."""
    return RetrievalTool(config.vector_store, config.embedder, top_k=4)
