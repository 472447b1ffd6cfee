"""Plain text, Markdown, source code and every other text format."""

from __future__ import annotations

from pathlib import Path

from gecko.rag.documents import Document
from gecko.rag.readers.base import decode_text, read_bytes


class TextReader:
    """One document holding the file's text (universal newlines)."""

    def __init__(self, *, encoding: str = "utf-8", errors: str = "strict") -> None:
        self.encoding = encoding
        self.errors = errors

    def read(self, path: Path) -> list[Document]:
        text = decode_text(read_bytes(path), path, encoding=self.encoding, errors=self.errors)
        return [Document(text=text)]
