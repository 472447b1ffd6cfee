"""JSON and JSON Lines files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gecko.rag.documents import Document, MetadataScalar
from gecko.rag.readers.base import DocumentReadError, decode_text, read_bytes

_LINES_SUFFIXES = (".jsonl", ".ndjson")


class JsonReader:
    """Reads ``.json`` (one value) and ``.jsonl``/``.ndjson`` (one value per line).

    Without ``text_key`` each value becomes one document whose text is the value
    pretty-printed, so nothing is lost. With ``text_key``, an object's field holds the
    text and its other fields become metadata (scalars as they are, lists and objects
    as JSON strings, nulls left out); a top-level array gives one document per item.
    """

    def __init__(self, *, text_key: str | None = None, encoding: str = "utf-8") -> None:
        self.text_key = text_key
        self.encoding = encoding

    def read(self, path: Path) -> list[Document]:
        text = decode_text(read_bytes(path), path, encoding=self.encoding)
        if path.suffix.lower() in _LINES_SUFFIXES:
            values = [
                self._parse(line, path, lineno)
                for lineno, line in enumerate(text.split("\n"), start=1)
                if line.strip()
            ]
        else:
            value = self._parse(text, path, None)
            values = value if isinstance(value, list) and self.text_key else [value]
        return [self._document(value, path, index) for index, value in enumerate(values)]

    @staticmethod
    def _parse(text: str, path: Path, lineno: int | None) -> Any:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            line = lineno if lineno is not None else exc.lineno
            raise DocumentReadError(
                f"{path}: invalid JSON at line {line}, column {exc.colno}: {exc.msg}",
                path=str(path),
            ) from exc

    def _document(self, value: Any, path: Path, index: int) -> Document:
        if self.text_key is None:
            return Document(text=json.dumps(value, indent=2, ensure_ascii=False))
        if not isinstance(value, dict) or not isinstance(value.get(self.text_key), str):
            raise DocumentReadError(
                f"{path}: item {index} has no string field {self.text_key!r}",
                hint="every item must be an object holding the text under text_key",
                path=str(path),
            )
        metadata: dict[str, MetadataScalar] = {}
        for key, item in value.items():
            if key == self.text_key or item is None:
                continue
            if isinstance(item, (str, int, float, bool)):
                metadata[key] = item
            else:
                metadata[key] = json.dumps(item, ensure_ascii=False)
        return Document(text=value[self.text_key], metadata=metadata)
