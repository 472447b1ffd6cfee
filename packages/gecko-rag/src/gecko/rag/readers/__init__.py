"""Readers turn files into documents; ``load_documents`` walks paths and reports per file.

Readers are found by file extension through the ``register_readers`` plugin hook,
so a third-party plugin can add formats. Readers are synchronous and run in worker
threads; a failure is reported for its file and never stops the batch.

Names are imported on first use: gecko-rag's plugin module imports
``gecko.rag.readers.extensions`` while plugins are listed, and that must stay cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gecko.core.lazy import lazy_exports

_LAZY = {
    "DocumentReadError": "gecko.rag.readers.base",
    "Reader": "gecko.rag.readers.base",
    "FileIssue": "gecko.rag.readers.loader",
    "LoadResult": "gecko.rag.readers.loader",
    "get_reader": "gecko.rag.readers.loader",
    "load_documents": "gecko.rag.readers.loader",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = ["DocumentReadError", "FileIssue", "LoadResult", "Reader", "get_reader", "load_documents"]


if TYPE_CHECKING:  # pragma: no cover - static names for type checkers
    from gecko.rag.readers.base import DocumentReadError, Reader
    from gecko.rag.readers.loader import FileIssue, LoadResult, get_reader, load_documents
