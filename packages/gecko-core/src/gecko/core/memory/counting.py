"""Per-message token counting with an LRU cache keyed by message content.

Counts are exact when the model is a ``TokenCounter`` (it has ``count_tokens``),
else core's documented estimate (``gecko.core.models.tokens``). The cache key
is a digest of the message's JSON, so equal messages share one count whichever
object carries them, and a long message costs 16 bytes of key, not its text.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from typing import Any, NamedTuple

from gecko.core.message import Message
from gecko.core.models.tokens import estimate_message_tokens
from gecko.core.protocols import TokenCounter
from gecko.core.validation import check_int

logger = logging.getLogger(__name__)


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    maxsize: int
    currsize: int


def message_digest(message: Message) -> bytes:
    """A 16-byte digest identifying ``message`` by content (role, text, blocks, tool calls)."""
    return hashlib.blake2b(message.model_dump_json().encode(), digest_size=16).digest()


class MessageTokenCounter:
    """Counts tokens of single messages, exactly or by estimate, with an LRU cache."""

    def __init__(self, model: Any = None, *, cache_size: int = 2048) -> None:
        check_int("cache_size", cache_size, minimum=0, hint="0 disables the token-count cache")
        self._model: TokenCounter | None = model if isinstance(model, TokenCounter) else None
        self.cache_size = cache_size
        self._cache: OrderedDict[bytes, int] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._warned = False

    @property
    def exact(self) -> bool:
        """True when counts come from the model's own ``count_tokens``."""
        return self._model is not None

    def count(self, message: Message) -> int:
        return self.count_with_digest(message)[1]

    def count_with_digest(self, message: Message) -> tuple[bytes, int]:
        """``(digest, tokens)`` of ``message``; the digest also identifies it for summaries."""
        digest = message_digest(message)
        with self._lock:
            cached = self._cache.get(digest)
            if cached is not None:
                self._cache.move_to_end(digest)
                self._hits += 1
                return digest, cached
            self._misses += 1
        tokens = self._compute(message)
        if self.cache_size:
            with self._lock:
                self._cache[digest] = tokens
                self._cache.move_to_end(digest)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return digest, tokens

    def _compute(self, message: Message) -> int:
        if self._model is not None:
            try:
                return int(self._model.count_tokens([message]))
            except Exception as exc:  # an unknown tokenizer must not break a run
                if not self._warned:
                    self._warned = True
                    logger.warning(
                        "%s.count_tokens failed (%s: %s); using the token estimate instead",
                        type(self._model).__name__,
                        type(exc).__name__,
                        exc,
                    )
        return estimate_message_tokens([message])

    def cache_info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self._hits, self._misses, self.cache_size, len(self._cache))

    def cache_clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self._hits = self._misses = 0
