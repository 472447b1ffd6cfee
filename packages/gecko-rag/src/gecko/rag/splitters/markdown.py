"""A Markdown-aware splitter: chunks never cross sections and carry their headings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from gecko.rag.documents import MetadataScalar
from gecko.rag.splitters.base import Span
from gecko.rag.splitters.recursive import RecursiveCharacterSplitter

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


@dataclass(frozen=True)
class Section:
    """A heading's section: ``[start, end)`` in the text and the heading path above it."""

    start: int
    end: int
    headings: tuple[str, ...]
    levels: tuple[int, ...]


def markdown_sections(text: str) -> list[Section]:
    """Split ``text`` at ATX headings (``#`` to ``######``) outside fenced code blocks.

    A section runs from its heading line to the next heading. A section with nothing
    but its heading is merged into the next one, so headings stay with their text.
    """
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    fence: str | None = None
    current_start = 0
    current: tuple[tuple[str, ...], tuple[int, ...]] = ((), ())
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\n")
        fence_match = _FENCE.match(stripped)
        if fence_match:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker[0] * 3
            elif marker.startswith(fence):
                fence = None
        elif fence is None:
            heading = _HEADING.match(stripped)
            if heading:
                level = len(heading.group(1))
                if offset > current_start:
                    sections.append(Section(current_start, offset, *current))
                while path and path[-1][0] >= level:
                    path.pop()
                path.append((level, heading.group(2).strip()))
                current_start = offset
                current = (tuple(t for _, t in path), tuple(lvl for lvl, _ in path))
        offset += len(line)
    if offset > current_start or not sections:
        sections.append(Section(current_start, len(text), *current))
    return _merge_heading_only(text, sections)


def _merge_heading_only(text: str, sections: list[Section]) -> list[Section]:
    merged: list[Section] = []
    pending_start: int | None = None
    for index, section in enumerate(sections):
        body = text[section.start : section.end]
        heading_only = bool(section.headings) and len(body.strip().splitlines()) <= 1
        if heading_only and index + 1 < len(sections):
            pending_start = section.start if pending_start is None else pending_start
            continue
        start = section.start if pending_start is None else pending_start
        merged.append(Section(start, section.end, section.headings, section.levels))
        pending_start = None
    return merged


class MarkdownSplitter(RecursiveCharacterSplitter):
    """Recursive character splitting inside each Markdown section.

    Each chunk gets ``section`` metadata (the heading path, ``"Guide > Install"``) and
    ``h1``..``h6`` for the headings above it. Chunks never span two sections.
    """

    def __init__(
        self,
        chunk_size: int = 1000,
        chunk_overlap: int = 200,
        *,
        separators: Sequence[str] | None = None,
    ) -> None:
        super().__init__(chunk_size, chunk_overlap, separators=separators)

    def split_text(self, text: str) -> list[Span]:
        length = self._measure(text)
        spans: list[Span] = []
        for section in markdown_sections(text):
            metadata: dict[str, MetadataScalar] = {}
            if section.headings:
                metadata["section"] = " > ".join(section.headings)
                for level, title in zip(section.levels, section.headings):
                    metadata[f"h{level}"] = title
            for start, end in self._split_range(text, section.start, section.end, length):
                spans.append(Span(start, end, dict(metadata)))
        return spans
