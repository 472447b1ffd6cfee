"""``RetrievalTool``: the ``knowledge_search`` tool an agent calls to read a knowledge base."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import anyio

from gecko.core.errors import ConfigurationError, ToolArgumentError
from gecko.core.protocols import Embedder, VectorMatch, VectorStore
from gecko.core.validation import check_int, check_number
from gecko.core.vectors.filters import parse_filter
from gecko.rag._resolve import check_vector_store, resolve_embedder

logger = logging.getLogger(__name__)

DEFAULT_DESCRIPTION = (
    "Search the knowledge base for passages relevant to a question. Returns numbered passages "
    "with their source and a relevance score (0-1, higher is better); cite the sources you use."
)


class RetrievalTool:
    """A Tool: embeds the query, searches ``vector_store``, formats passages for the model.

    ``vector_store`` is a VectorStore or a URL (opened on first use, closed by
    ``aclose``); ``embedder`` an Embedder or an id for ``create_embedder``. ``filter``
    always applies (the standard filter syntax); with ``allow_filter=True`` the model may
    add its own filter, combined with it by ``$and``. Matches scoring below
    ``score_threshold`` are dropped. The model may ask for up to ``max_top_k`` passages.
    """

    def __init__(
        self,
        vector_store: VectorStore | str,
        embedder: Embedder | str,
        *,
        top_k: int = 4,
        max_top_k: int = 20,
        score_threshold: float | None = None,
        filter: Mapping[str, Any] | None = None,
        allow_filter: bool = False,
        name: str = "knowledge_search",
        description: str = DEFAULT_DESCRIPTION,
        timeout: float | None = None,
    ) -> None:
        for label, value in (("top_k", top_k), ("max_top_k", max_top_k)):
            check_int(label, value, minimum=1)
        if top_k > max_top_k:
            raise ConfigurationError(f"top_k ({top_k}) must not exceed max_top_k ({max_top_k})")
        check_number("score_threshold", score_threshold, finite=False, allow_none=True)
        parse_filter(filter)  # a malformed fixed filter fails now, not at the first call
        if not isinstance(vector_store, str):
            check_vector_store(vector_store, "RetrievalTool")
        self._store: VectorStore | None = None if isinstance(vector_store, str) else vector_store
        self._store_url = vector_store if isinstance(vector_store, str) else None
        self._owned: VectorStore | None = None
        self._open_lock = anyio.Lock()
        self.embedder: Embedder = resolve_embedder(embedder)
        self.top_k = top_k
        self.max_top_k = max_top_k
        self.score_threshold = score_threshold
        self.filter = dict(filter) if filter else None
        self.allow_filter = allow_filter
        self.name = name
        self.description = description
        self.timeout = timeout
        self.parameters = self._schema()

    def __repr__(self) -> str:
        store = self._store_url or self._store
        return f"RetrievalTool(name={self.name!r}, vector_store={store!r}, top_k={self.top_k})"

    def _schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "query": {"type": "string", "description": "What to look for, in natural language."},
            "top_k": {
                "type": "integer",
                "minimum": 1,
                "maximum": self.max_top_k,
                "description": f"How many passages to return (default {self.top_k}).",
            },
        }
        if self.allow_filter:
            properties["filter"] = {
                "type": "object",
                "description": 'Metadata filter, e.g. {"source": "guide.md"} or '
                '{"year": {"$gte": 2020}}; operators $eq $ne $gt $gte $lt $lte $in $nin $and $or.',
            }
        return {
            "type": "object",
            "properties": properties,
            "required": ["query"],
            "additionalProperties": False,
        }

    # --- the tool ------------------------------------------------------------------------

    async def execute(self, arguments: dict[str, Any]) -> str:
        """Run a search from the model's arguments and return the formatted passages."""
        if not isinstance(arguments, Mapping):
            raise ToolArgumentError(
                f"{self.name} takes an object with a 'query', got {arguments!r}"
            )
        unknown = set(arguments) - set(self.parameters["properties"])
        if unknown:
            raise ToolArgumentError(
                f"{self.name} got unknown argument(s) {sorted(unknown)}",
                hint=f"arguments: {', '.join(self.parameters['properties'])}",
            )
        query = arguments.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ToolArgumentError(f"{self.name} needs a non-empty string 'query', got {query!r}")
        top_k = arguments.get("top_k", self.top_k)
        if (
            isinstance(top_k, bool)
            or not isinstance(top_k, int)
            or not 1 <= top_k <= self.max_top_k
        ):
            raise ToolArgumentError(
                f"top_k must be an integer from 1 to {self.max_top_k}, got {top_k!r}"
            )
        model_filter = arguments.get("filter")
        if model_filter is not None and not isinstance(model_filter, Mapping):
            raise ToolArgumentError(f"filter must be an object, got {model_filter!r}")
        matches = await self.search(query, top_k=top_k, filter=model_filter)
        return self.format(query, matches)

    async def search(
        self, query: str, *, top_k: int | None = None, filter: Mapping[str, Any] | None = None
    ) -> list[VectorMatch]:
        """The matches for ``query`` (fixed filter and threshold applied), best first."""
        combined = self._combine(filter)
        store = await self._vector_store()
        vector = await self.embedder.embed_query(query)
        matches = await store.search(vector, top_k=top_k or self.top_k, filter=combined)
        if self.score_threshold is not None:
            matches = [m for m in matches if m.score >= self.score_threshold]
        logger.debug("%s %r: %d match(es)", self.name, query, len(matches))
        return matches

    def _combine(self, extra: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if extra:
            parse_filter(extra)
        if self.filter and extra:
            return {"$and": [self.filter, dict(extra)]}
        return dict(extra) if extra else self.filter

    @staticmethod
    def format(query: str, matches: Sequence[VectorMatch]) -> str:
        """Numbered passages with source, location and score, for the model to read and cite."""
        if not matches:
            return f"No passages in the knowledge base match {query!r}."
        blocks = [f"Found {len(matches)} passage(s) for {query!r}:"]
        for number, match in enumerate(matches, start=1):
            blocks.append(f"[{number}] {describe_match(match)}\n{match.text}")
        return "\n\n".join(blocks)

    # --- the store -----------------------------------------------------------------------

    async def _vector_store(self) -> VectorStore:
        if self._store is not None:
            return self._store
        async with self._open_lock:
            if self._store is None:
                from gecko.core.factories import create_storage

                assert self._store_url is not None
                self._owned = await create_storage(self._store_url, kind="vector")
                self._store = self._owned
        return self._store

    async def aclose(self) -> None:
        """Close the vector store this tool opened from a URL (a store you passed stays open)."""
        owned, self._owned = self._owned, None
        if owned is not None:
            self._store = None
            await owned.close()


def describe_match(match: VectorMatch) -> str:
    """``source: guide.md (page 3, section: Install), score 0.83`` from a match's metadata."""
    metadata = match.metadata
    where = [f"page {metadata['page']}"] if "page" in metadata else []
    if "section" in metadata:
        where.append(f"section: {metadata['section']}")
    source = metadata.get("source", match.id)
    location = f" ({', '.join(where)})" if where else ""
    return f"source: {source}{location}, score {match.score:.3f}"
