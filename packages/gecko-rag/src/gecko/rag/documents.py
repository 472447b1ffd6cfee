"""``Document``: a text with flat metadata and, once embedded, its vector."""

from __future__ import annotations

import hashlib
from typing import Any, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

MetadataScalar = Union[StrictStr, StrictBool, StrictInt, StrictFloat]


def content_id(*parts: str) -> str:
    """A stable id from text parts: 32 hex characters of their SHA-256 (NUL-separated)."""
    digest = hashlib.sha256()
    for index, part in enumerate(parts):
        if index:
            digest.update(b"\x00")
        digest.update(part.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


class Document(BaseModel):
    """A unit of text. Readers produce documents; splitters turn them into chunk documents.

    ``metadata`` is flat (strings, numbers, booleans) because it is stored next to the
    vector and filtered on. ``source`` in metadata names where the text came from.
    Without an ``id``, one is derived from the source and the text, so the same
    content always gets the same id.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str = ""
    text: str
    metadata: dict[str, MetadataScalar] = Field(default_factory=dict)
    embedding: list[float] | None = None

    @model_validator(mode="after")
    def _default_id(self) -> Document:
        if not self.id:
            source = self.metadata.get("source", "")
            object.__setattr__(self, "id", content_id(str(source), self.text))
        return self

    @property
    def source(self) -> str | None:
        value = self.metadata.get("source")
        return str(value) if value is not None else None

    def __repr__(self) -> str:
        preview = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return f"Document(id={self.id!r}, text={preview!r}, metadata={self.metadata!r})"

    def with_metadata(self, **values: Any) -> Document:
        """A copy with ``values`` merged into the metadata."""
        return Document(
            id=self.id,
            text=self.text,
            metadata={**self.metadata, **values},
            embedding=self.embedding,
        )
