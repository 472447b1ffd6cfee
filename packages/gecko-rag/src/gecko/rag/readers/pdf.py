"""PDF files through pypdf (``pip install 'gecko-rag[pdf]'``): one document per page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gecko.rag._optional import require
from gecko.rag.documents import Document, MetadataScalar
from gecko.rag.readers.base import DocumentReadError


class PdfReader:
    """Extracts each page's text; pages carry ``page`` (1-based) and ``pages`` metadata.

    Pages without extractable text (scans) are left out; a PDF with none at all is an
    error that says so. Encrypted PDFs open with ``password``.
    """

    def __init__(self, *, password: str | None = None) -> None:
        self._pypdf: Any = require("pypdf", extra="pdf", purpose="reading PDF files")
        self._password = password

    def read(self, path: Path) -> list[Document]:
        pypdf = self._pypdf
        try:
            reader = pypdf.PdfReader(str(path))
            if reader.is_encrypted and not reader.decrypt(self._password or ""):
                raise DocumentReadError(
                    f"{path}: the PDF is encrypted",
                    hint="pass PdfReader(password=...)",
                    path=str(path),
                )
            pages = [page.extract_text() or "" for page in reader.pages]
            title = _title(reader)
        except DocumentReadError:
            raise
        except Exception as exc:  # pypdf raises many types for corrupt files
            raise DocumentReadError(
                f"{path}: cannot read PDF: {type(exc).__name__}: {exc}",
                hint="the file may be corrupt or not a PDF",
                path=str(path),
            ) from exc
        base: dict[str, MetadataScalar] = {"pages": len(pages)}
        if title:
            base["title"] = title
        documents = [
            Document(text=text, metadata={**base, "page": number})
            for number, text in enumerate(pages, start=1)
            if text.strip()
        ]
        if not documents:
            raise DocumentReadError(
                f"{path}: no extractable text in {len(pages)} page(s)",
                hint="a scanned PDF needs OCR before ingestion",
                path=str(path),
            )
        return documents


def _title(reader: Any) -> str:
    try:
        metadata = reader.metadata
        title = metadata.title if metadata is not None else None
    except Exception:  # broken document info is not worth failing the file
        return ""
    return str(title).strip() if title else ""
