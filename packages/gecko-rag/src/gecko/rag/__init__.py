"""Gecko RAG: documents, readers, splitters, ingestion and retrieval over vector stores.

    from gecko import create_storage
    from gecko.rag import IngestionPipeline, RetrievalTool

    store = await create_storage("chroma://./knowledge")
    await IngestionPipeline(store, "hash/384").run(["docs/"])
    tool = RetrievalTool(store, "hash/384", top_k=3)

Names are imported lazily, so ``import gecko.rag`` (and the plugin module) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gecko.core.lazy import lazy_exports

_LAZY: dict[str, str] = {
    "Document": "gecko.rag.documents",
    "DocumentReadError": "gecko.rag.readers.base",
    "FileIssue": "gecko.rag.readers.loader",
    "HtmlReader": "gecko.rag.readers.html",
    "IngestionPipeline": "gecko.rag.ingestion.pipeline",
    "IngestionSummary": "gecko.rag.ingestion.summary",
    "JsonReader": "gecko.rag.readers.json_reader",
    "LoadResult": "gecko.rag.readers.loader",
    "MarkdownSplitter": "gecko.rag.splitters.markdown",
    "PdfReader": "gecko.rag.readers.pdf",
    "ProgressBar": "gecko.rag.progress",
    "ProgressEvent": "gecko.rag.ingestion.summary",
    "Reader": "gecko.rag.readers.base",
    "RecursiveCharacterSplitter": "gecko.rag.splitters.recursive",
    "RetrievalTool": "gecko.rag.retrieval",
    "Span": "gecko.rag.splitters.base",
    "TextReader": "gecko.rag.readers.text",
    "TextSplitter": "gecko.rag.splitters.base",
    "TokenSplitter": "gecko.rag.splitters.token",
    "VectorMemory": "gecko.rag.memory",
    "load_documents": "gecko.rag.readers.loader",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "Document",
    "DocumentReadError",
    "FileIssue",
    "HtmlReader",
    "IngestionPipeline",
    "IngestionSummary",
    "JsonReader",
    "LoadResult",
    "MarkdownSplitter",
    "PdfReader",
    "ProgressBar",
    "ProgressEvent",
    "Reader",
    "RecursiveCharacterSplitter",
    "RetrievalTool",
    "Span",
    "TextReader",
    "TextSplitter",
    "TokenSplitter",
    "VectorMemory",
    "load_documents",
]


if TYPE_CHECKING:  # pragma: no cover - static names for type checkers and IDEs
    from gecko.rag.documents import Document
    from gecko.rag.ingestion.pipeline import IngestionPipeline
    from gecko.rag.ingestion.summary import IngestionSummary, ProgressEvent
    from gecko.rag.memory import VectorMemory
    from gecko.rag.progress import ProgressBar
    from gecko.rag.readers.base import DocumentReadError, Reader
    from gecko.rag.readers.html import HtmlReader
    from gecko.rag.readers.json_reader import JsonReader
    from gecko.rag.readers.loader import FileIssue, LoadResult, load_documents
    from gecko.rag.readers.pdf import PdfReader
    from gecko.rag.readers.text import TextReader
    from gecko.rag.retrieval import RetrievalTool
    from gecko.rag.splitters.base import Span, TextSplitter
    from gecko.rag.splitters.markdown import MarkdownSplitter
    from gecko.rag.splitters.recursive import RecursiveCharacterSplitter
    from gecko.rag.splitters.token import TokenSplitter
