"""A deterministic, offline embedder (``create_embedder("hash/256")``).

Feature hashing of lower-cased words and word bigrams into a fixed number of
signed buckets, weighted by sublinear term frequency (1 + log tf) and
L2-normalised. Common English function words are left out, English words are lightly
stemmed (``nodes``/``node``, ``running``/``run``), and runs of CJK
characters become character bigrams (Chinese and Japanese have no spaces). Texts
sharing content words get similar vectors, so retrieval behaves sensibly in tests
and demos without downloading a model. The hash is blake2b, so vectors are
identical across processes and machines.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from hashlib import blake2b
from itertools import pairwise
from typing import Any

from gecko.core.errors import ConfigurationError
from gecko.core.threads import run_sync
from gecko.core.validation import check_int

_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "me",
        "him",
        "her",
        "us",
        "them",
        "my",
        "your",
        "our",
        "their",
        "do",
        "does",
        "did",
        "doing",
        "have",
        "has",
        "had",
        "not",
        "no",
        "nor",
        "so",
        "than",
        "too",
        "very",
        "can",
        "will",
        "just",
        "should",
        "would",
        "could",
        "may",
        "might",
        "must",
        "shall",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "both",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "only",
        "own",
        "same",
        "into",
        "over",
        "under",
        "again",
        "further",
        "then",
        "once",
        "about",
        "above",
        "below",
        "up",
        "down",
        "out",
        "off",
        "between",
        "through",
        "during",
        "before",
        "after",
        "while",
        "because",
        "until",
    ]
)
_THREAD_THRESHOLD = 64  # batches larger than this are embedded in a worker thread


class HashingEmbedder:
    """Offline Embedder: same text, same vector, everywhere."""

    def __init__(self, dimension: int = 256, *, name: str | None = None) -> None:
        check_int("dimension", dimension, minimum=2)
        self.dimension: int | None = dimension
        self._dimension = dimension
        self.name = name or f"hash/{dimension}"

    def __repr__(self) -> str:
        return f"HashingEmbedder(dimension={self._dimension})"

    def embed(self, text: str) -> list[float]:
        """Embed one text synchronously (the async methods call this)."""
        vector = [0.0] * self._dimension
        words = _tokens(text)
        counts = Counter(words + [f"{a} {b}" for a, b in pairwise(words)])
        for feature, count in counts.items():
            digest = int.from_bytes(blake2b(feature.encode("utf-8"), digest_size=8).digest(), "big")
            weight = 1.0 + math.log(count)
            vector[digest % self._dimension] += weight if (digest >> 63) & 1 else -weight
        length = math.sqrt(sum(x * x for x in vector))
        if length == 0.0:
            return vector
        return [x / length for x in vector]

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        texts = list(texts)
        if len(texts) > _THREAD_THRESHOLD:
            return await run_sync(lambda: [self.embed(t) for t in texts])
        return [self.embed(text) for text in texts]

    async def embed_query(self, text: str) -> list[float]:
        return self.embed(text)


def _stem(word: str) -> str:
    """A light English stemmer: nodes/node -> nod, running/run -> run, resumed/resume -> resum."""
    if not word.isascii() or len(word) < 4:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # running -> runn -> run
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def _tokens(text: str) -> list[str]:
    """Content words; CJK runs as overlapping character bigrams (single characters alone)."""
    tokens: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS:
            continue
        if not _CJK.search(word):
            tokens.append(_stem(word))
            continue
        for part in re.split(f"({_CJK.pattern})", word):
            if not part:
                continue
            if _CJK.fullmatch(part):
                tokens.extend(
                    part if len(part) == 1 else (part[i : i + 2] for i in range(len(part) - 1))
                )
            else:
                tokens.append(part)
    return tokens


def create_hashing_embedder(embedder_id: str = "hash", **options: Any) -> HashingEmbedder:
    """Factory behind ``create_embedder("hash")`` (256 dims) and ``create_embedder("hash/384")``."""
    _, _, size = embedder_id.partition("/")
    if size:
        if not size.isdigit():
            raise ConfigurationError(
                f"hash embedder id must be 'hash' or 'hash/<dimension>', got {embedder_id!r}"
            )
        options.setdefault("dimension", int(size))
    return HashingEmbedder(**options)
