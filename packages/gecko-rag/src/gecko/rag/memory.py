"""``VectorMemory``: a token window plus the older turns relevant to the current question.

"Hybrid memory": ``select`` keeps the newest messages within ``max_tokens -
recall_tokens`` like ``TokenMemory``; from the messages that did not fit, the ones
most similar to the latest user message are recalled by vector search and placed,
within ``recall_tokens``, in one system message before the kept turns. Recall only
ever looks at the conversation being selected, so one session never sees another's
messages. Every user and assistant message is embedded once and stored in
``vector_store`` (keyed by role and text, under ``namespace``), at ``save`` time or on
first need, so later selections and other processes reuse the vectors; ``recall``
searches everything stored, across sessions, when an application wants that.
If embedding or search fails, the window falls back to plain truncation.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from gecko.core.memory import TokenMemory
from gecko.core.memory.token_memory import DEFAULT_KEY_PREFIX
from gecko.core.memory.window import plan_window, warn_over_budget
from gecko.core.message import Message, Role
from gecko.core.protocols import (
    ChatModel,
    Embedder,
    SessionStore,
    VectorMatch,
    VectorRecord,
    VectorStore,
)
from gecko.core.validation import check_int, check_str
from gecko.rag._resolve import check_vector_store
from gecko.rag.documents import content_id

logger = logging.getLogger(__name__)

RECALL_PREFIX = "Earlier messages of this conversation that may be relevant:\n"
MAX_CANDIDATES = 512
_KNOWN_KEYS = 8192


class VectorMemory(TokenMemory):
    """A TokenMemory that recalls relevant older messages from a VectorStore."""

    def __init__(
        self,
        vector_store: VectorStore,
        embedder: Embedder,
        max_tokens: int = 4000,
        *,
        recall_tokens: int | None = None,
        top_k: int = 4,
        score_threshold: float | None = None,
        namespace: str = "memory",
        storage: SessionStore | None = None,
        model: ChatModel | None = None,
        cache_size: int = 2048,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        ttl: float | None = None,
    ) -> None:
        super().__init__(
            max_tokens,
            storage=storage,
            model=model,
            cache_size=cache_size,
            key_prefix=key_prefix,
            ttl=ttl,
        )
        self.recall_tokens = check_int(
            "recall_tokens",
            max_tokens // 4 if recall_tokens is None else recall_tokens,
            minimum=1,
            maximum=max_tokens - 1,
            hint=f"it is the part of max_tokens ({max_tokens}) reserved for recalled messages "
            "(default: max_tokens // 4)",
        )
        check_int("top_k", top_k, minimum=1)
        check_str("namespace", namespace)
        check_vector_store(vector_store, "VectorMemory")
        self.vector_store = vector_store
        self.embedder = embedder
        self.top_k = top_k
        self.score_threshold = score_threshold
        self.namespace = namespace
        self._known: OrderedDict[str, None] = OrderedDict()

    # --- the window ------------------------------------------------------------------------

    async def select(self, messages: Sequence[Message]) -> list[Message]:
        items = [Message.coerce(message) for message in messages]
        counts = [self.count_tokens(message) for message in items]
        full = plan_window(items, counts, self.max_tokens)
        if full.first == 0:
            if full.over_budget:
                warn_over_budget(full, self.max_tokens)
            return full.select(items)
        window = plan_window(items, counts, self.max_tokens - self.recall_tokens)
        dropped = [items[i] for unit in window.units[: window.first] for i in unit]
        candidates = [m for m in dropped if _recallable(m)][-MAX_CANDIDATES:]
        query = next(
            (m.text for m in reversed(items) if m.role is Role.USER and m.text.strip()), ""
        )
        recalled: Message | None = None
        if candidates and query:
            try:
                recalled = await self._recall_message(query, candidates)
            except Exception as exc:  # recall is an improvement, never a failure
                logger.warning(
                    "vector memory recall failed (%s: %s); using the plain window",
                    type(exc).__name__,
                    exc,
                )
        if recalled is None:
            if full.over_budget:
                warn_over_budget(full, self.max_tokens)
            return full.select(items)
        if window.over_budget:
            warn_over_budget(window, self.max_tokens - self.recall_tokens)
        return window.select(items, insert=recalled)

    async def _recall_message(self, query: str, candidates: list[Message]) -> Message | None:
        by_key = {self.message_key(m): m for m in candidates}
        await self._index(candidates)
        vector = await self.embedder.embed_query(query)
        matches = await self.vector_store.search(
            vector,
            top_k=min(self.top_k, len(by_key)),
            filter={"namespace": self.namespace, "key": {"$in": list(by_key)}},
        )
        chosen: list[str] = []
        for match in matches:
            if self.score_threshold is not None and match.score < self.score_threshold:
                continue
            key = str(match.metadata.get("key"))
            trial = self._format([by_key[k] for k in [*chosen, key] if k in by_key], candidates)
            if self.count_tokens(trial) <= self.recall_tokens:
                chosen.append(key)
        if not chosen:
            return None
        return self._format([by_key[k] for k in chosen], candidates)

    @staticmethod
    def _format(recalled: list[Message], order: list[Message]) -> Message:
        ids = {id(m) for m in recalled}
        lines = [f"[{m.role.value}] {m.text}" for m in order if id(m) in ids]  # chronological
        return Message.system(RECALL_PREFIX + "\n".join(lines))

    # --- the vector index --------------------------------------------------------------------

    def message_key(self, message: Message) -> str:
        """The id of ``message``'s entry: a digest of its role and text."""
        return content_id(message.role.value, message.text)

    async def _index(self, messages: Sequence[Message]) -> int:
        """Embed and store the messages not stored yet; return how many were added."""
        fresh: dict[str, Message] = {}
        for message in messages:
            key = self.message_key(message)
            if key not in self._known and _recallable(message):
                fresh[key] = message
        if not fresh:
            return 0
        ids = {key: f"{self.namespace}:{key}" for key in fresh}
        stored = {r.id for r in await self.vector_store.get(list(ids.values()))}
        missing = [key for key in fresh if ids[key] not in stored]
        if missing:
            vectors = await self.embedder.embed_documents([fresh[k].text for k in missing])
            await self.vector_store.upsert(
                [
                    VectorRecord(
                        id=ids[key],
                        embedding=list(vector),
                        text=fresh[key].text,
                        metadata={
                            "namespace": self.namespace,
                            "key": key,
                            "role": fresh[key].role.value,
                        },
                    )
                    for key, vector in zip(missing, vectors)
                ]
            )
        for key in fresh:
            self._known[key] = None
            self._known.move_to_end(key)
        while len(self._known) > _KNOWN_KEYS:
            self._known.popitem(last=False)
        return len(missing)

    async def save(self, session_id: str, messages: Sequence[Message]) -> None:
        """Persist the history (as TokenMemory does), then index its messages for recall."""
        await super().save(session_id, messages)
        try:
            await self._index([Message.coerce(m) for m in messages])
        except Exception as exc:  # the history is saved; indexing retries on use
            logger.warning(
                "indexing messages for vector memory failed (%s: %s)", type(exc).__name__, exc
            )

    async def recall(
        self, query: str, *, top_k: int | None = None, **filter: Any
    ) -> list[VectorMatch]:
        """Stored messages most similar to ``query`` across every session of this namespace;
        ``filter`` narrows by metadata (``role="user"``)."""
        vector = await self.embedder.embed_query(query)
        return await self.vector_store.search(
            vector, top_k=top_k or self.top_k, filter={"namespace": self.namespace, **filter}
        )


def _recallable(message: Message) -> bool:
    return message.role in (Role.USER, Role.ASSISTANT) and bool(message.text.strip())
