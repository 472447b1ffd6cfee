"""Recursive splitting with overlap on character offsets, for any length measure.

Text is cut into pieces at the first separator that occurs (paragraphs, lines,
sentences, words, then characters), recursing into pieces that are still too long;
pieces are merged greedily into chunks no longer than ``chunk_size``. Each chunk after
the first starts up to ``chunk_overlap`` before the previous chunk's end, at a piece
boundary when one fits, else at a word start, else at the exact position. Chunks are
spans of the original text (``text[start:end]`` is the chunk), trimmed of surrounding
whitespace, so offsets always point back into the document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from gecko.core.errors import ConfigurationError
from gecko.core.validation import check_int
from gecko.rag.documents import Document, MetadataScalar, content_id

DEFAULT_SEPARATORS: tuple[str, ...] = (
    "\n\n", "\n", "。", ". ", "！", "! ", "？", "? ", "；", "; ", "，", ", ", " ", "",  # noqa: RUF001
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Span:
    """A chunk as offsets into its text, with metadata the splitter adds (headings)."""

    start: int
    end: int
    metadata: dict[str, MetadataScalar] = field(default_factory=dict)


@runtime_checkable
class TextSplitter(Protocol):
    """Cuts documents into chunk documents (see ``BaseSplitter.split_documents``)."""

    def split_text(self, text: str) -> list[Span]: ...

    def split_documents(self, documents: Iterable[Document]) -> list[Document]: ...


class BaseSplitter:
    """The recursive algorithm; subclasses define ``_length`` (characters, tokens...)."""

    def __init__(
        self,
        chunk_size: int = 1000,
        chunk_overlap: int = 200,
        *,
        separators: Sequence[str] | None = None,
    ) -> None:
        check_int("chunk_size", chunk_size, minimum=1)
        check_int(
            "chunk_overlap",
            chunk_overlap,
            minimum=0,
            maximum=chunk_size - 1,
            hint=f"the overlap must be smaller than chunk_size ({chunk_size})",
        )
        seps = tuple(DEFAULT_SEPARATORS if separators is None else separators)
        if any(not isinstance(s, str) for s in seps):
            raise ConfigurationError("separators must be strings")
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.separators = seps if "" in seps else (*seps, "")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(chunk_size={self.chunk_size}, chunk_overlap={self.chunk_overlap})"

    # --- length ---------------------------------------------------------------------

    def _measure(self, text: str) -> Callable[[int, int], int]:
        """A function giving the length of ``text[start:end]`` in this splitter's unit."""
        raise NotImplementedError

    # --- public API ------------------------------------------------------------------

    def split_text(self, text: str) -> list[Span]:
        """The chunks of ``text`` as spans (``text[span.start:span.end]`` is a chunk)."""
        return [Span(s, e) for s, e in self._split_range(text, 0, len(text), self._measure(text))]

    def split_documents(self, documents: Iterable[Document]) -> list[Document]:
        """Chunk documents with ``source``, ``chunk_index``, ``start``, ``end`` and
        ``document_id`` metadata (offsets into the document's text).

        A chunk's id derives from its source, its text and how many identical chunks
        came before it in the same source, so re-splitting the same content yields the
        same ids and an edit changes only the ids of the chunks it touches.
        """
        chunks: list[Document] = []
        seen: dict[tuple[str, str], int] = {}
        index_by_source: dict[str, int] = {}
        for document in documents:
            source = document.source or document.id
            for span in self.split_text(document.text):
                text = document.text[span.start : span.end]
                ordinal = seen.get((source, text), 0)
                seen[(source, text)] = ordinal + 1
                index = index_by_source.get(source, 0)
                index_by_source[source] = index + 1
                metadata: dict[str, Any] = {
                    **document.metadata,
                    **span.metadata,
                    "source": source,
                    "document_id": document.id,
                    "chunk_index": index,
                    "start": span.start,
                    "end": span.end,
                }
                chunks.append(
                    Document(
                        id=content_id(source, str(ordinal), text), text=text, metadata=metadata
                    )
                )
        return chunks

    # --- the algorithm ------------------------------------------------------------------

    def _split_range(
        self, text: str, start: int, end: int, length: Callable[[int, int], int]
    ) -> list[tuple[int, int]]:
        if start >= end:
            return []
        pieces = self._pieces(text, start, end, self.separators, length)
        return self._merge(text, pieces, length)

    def _pieces(
        self,
        text: str,
        start: int,
        end: int,
        separators: Sequence[str],
        length: Callable[[int, int], int],
    ) -> list[tuple[int, int]]:
        """Contiguous pieces covering ``[start, end)``, each within ``chunk_size``."""
        if length(start, end) <= self.chunk_size:
            return [(start, end)]
        for position, separator in enumerate(separators):
            if separator == "":
                return self._hard_cut(start, end, length)
            if text.find(separator, start, end) != -1:
                rest = separators[position + 1 :]
                break
        else:  # pragma: no cover - "" is always the last separator
            return self._hard_cut(start, end, length)
        pieces: list[tuple[int, int]] = []
        pos = start
        while pos < end:
            found = text.find(separator, pos, end)
            cut = end if found == -1 else found + len(separator)
            if length(pos, cut) <= self.chunk_size:
                pieces.append((pos, cut))
            else:
                pieces.extend(self._pieces(text, pos, cut, rest, length))
            pos = cut
        return pieces

    def _hard_cut(
        self, start: int, end: int, length: Callable[[int, int], int]
    ) -> list[tuple[int, int]]:
        pieces: list[tuple[int, int]] = []
        pos = start
        while pos < end:
            # The largest cut with length(pos, cut) <= chunk_size (lengths grow with cut).
            lo, hi = pos + 1, end
            if length(pos, lo) > self.chunk_size:
                raise ConfigurationError(
                    f"a single character is longer than chunk_size={self.chunk_size} "
                    f"for {type(self).__name__}",
                    hint="raise chunk_size",
                )
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if length(pos, mid) <= self.chunk_size:
                    lo = mid
                else:
                    hi = mid - 1
            pieces.append((pos, lo))
            pos = lo
        return pieces

    def _merge(
        self, text: str, pieces: list[tuple[int, int]], length: Callable[[int, int], int]
    ) -> list[tuple[int, int]]:
        chunks: list[tuple[int, int]] = []
        i, count = 0, len(pieces)
        previous: tuple[int, int] | None = None  # (start offset, first piece) of the last chunk
        while i < count:
            if previous is None:
                chunk_start = pieces[i][0]
            else:
                chunk_start = self._overlap_start(text, pieces, previous, i, length)
            end = pieces[i][1]
            j = i + 1
            while j < count and length(chunk_start, pieces[j][1]) <= self.chunk_size:
                end = pieces[j][1]
                j += 1
            trimmed = _trim(text, chunk_start, end)
            if trimmed is not None:
                chunks.append(trimmed)
            # The next chunk must start after this one's first character, not just after its
            # untrimmed start, or both could trim to the same start.
            previous = (trimmed[0] if trimmed is not None else chunk_start, i)
            i = j
        return chunks

    def _overlap_start(
        self,
        text: str,
        pieces: list[tuple[int, int]],
        previous: tuple[int, int],
        i: int,
        length: Callable[[int, int], int],
    ) -> int:
        """Where the chunk beginning with piece ``i`` starts: reaching back into the previous
        chunk by at most ``chunk_overlap``, never to or before that chunk's start."""
        boundary = pieces[i][0]
        if self.chunk_overlap == 0:
            return boundary
        piece_end = pieces[i][1]
        previous_start, previous_first = previous

        def fits(o: int) -> bool:
            return (
                length(o, boundary) <= self.chunk_overlap
                and length(o, piece_end) <= self.chunk_size
            )

        lo, hi = previous_start + 1, boundary
        while lo < hi:  # the smallest start that fits (fits grows with o)
            mid = (lo + hi) // 2
            if fits(mid):
                hi = mid
            else:
                lo = mid + 1
        lowest = lo
        if lowest >= boundary or not fits(lowest):
            return boundary
        for k in range(previous_first, i):  # the earliest piece boundary in reach
            if pieces[k][0] >= lowest:
                return pieces[k][0]
        for pos in range(lowest, boundary):  # else the earliest word start in reach
            if text[pos - 1].isspace() and not text[pos].isspace():
                return pos
        return lowest


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None
