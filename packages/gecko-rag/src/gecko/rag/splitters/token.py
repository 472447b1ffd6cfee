"""A splitter whose ``chunk_size`` and ``chunk_overlap`` are counted in tokens."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import accumulate

from gecko.rag.splitters.base import BaseSplitter

TokenCount = Callable[[str], int]


class TokenSplitter(BaseSplitter):
    """Recursive splitting measured in tokens.

    ``token_counter`` is any ``(text) -> int``, e.g. a tiktoken encoding's
    ``lambda t: len(enc.encode(t))``. The default is gecko-core's documented estimate
    (``gecko.core.models.tokens.estimate_tokens``: ASCII characters / 4 + other
    characters), computed from prefix sums so long documents split in linear time.
    Nothing is downloaded.
    """

    def __init__(
        self,
        chunk_size: int = 256,
        chunk_overlap: int = 32,
        *,
        token_counter: TokenCount | None = None,
        separators: Sequence[str] | None = None,
    ) -> None:
        super().__init__(chunk_size, chunk_overlap, separators=separators)
        self.token_counter = token_counter

    def _measure(self, text: str) -> Callable[[int, int], int]:
        counter = self.token_counter
        if counter is not None:
            return lambda start, end: counter(text[start:end])
        # estimate_tokens(text[s:e]) == ceil(ascii / 4) + non_ascii, from prefix counts.
        non_ascii = [0, *accumulate(1 if ord(ch) > 127 else 0 for ch in text)]

        def estimate(start: int, end: int) -> int:
            other = non_ascii[end] - non_ascii[start]
            return -(-(end - start - other) // 4) + other

        return estimate
