"""Ingestion: files -> chunks -> vectors in a VectorStore, idempotently."""

from __future__ import annotations

from gecko.rag.ingestion.pipeline import IngestionPipeline, ProgressCallback
from gecko.rag.ingestion.summary import IngestionSummary, ProgressEvent

__all__ = ["IngestionPipeline", "IngestionSummary", "ProgressCallback", "ProgressEvent"]
