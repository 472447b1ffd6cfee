"""The recursive character splitter: chunk sizes and overlap counted in characters."""

from __future__ import annotations

from collections.abc import Callable

from gecko.rag.splitters.base import BaseSplitter


class RecursiveCharacterSplitter(BaseSplitter):
    """Splits at paragraphs, lines, sentences, words, then characters.

    No chunk is longer than ``chunk_size`` characters; consecutive chunks share up to
    ``chunk_overlap`` characters (at a separator or word boundary when possible).
    """

    def _measure(self, text: str) -> Callable[[int, int], int]:
        return _char_length


def _char_length(start: int, end: int) -> int:
    return end - start
