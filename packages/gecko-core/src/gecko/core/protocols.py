"""The protocols every plugin implements. Core depends on these, never on a backend.

- ``ChatModel`` (+ optional ``StreamingChatModel``, ``TokenCounter``): OpenAI's chat
  format is the wire convention (tools as OpenAI tool schemas, ``tool_choice`` and
  ``response_format`` as in OpenAI's API).
- ``Embedder``: texts to vectors.
- ``SessionStore``: an async JSON-document store keyed by string.
- ``CheckpointStore``: append-only checkpoints per run (what workflows persist through),
  and run leases (one owner per run).
- ``RunEventLog``: a bounded, per-run log of JSON events (``RunEvent``), for replay and
  streaming from any process.
- ``VectorStore``: vectors with text and flat metadata, searched by cosine similarity.
- ``Tool``: a named, JSON-schema-described async function.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Protocol, TypeAlias, Union, runtime_checkable

from typing_extensions import Self

from gecko.core.message import Message
from gecko.core.output import ModelChunk, ModelResponse

__all__ = [
    "ChatModel",
    "Checkpoint",
    "CheckpointStore",
    "Embedder",
    "JSONValue",
    "Lease",
    "MetadataValue",
    "RunEvent",
    "RunEventLog",
    "SessionStore",
    "StreamingChatModel",
    "TokenCounter",
    "Tool",
    "ToolChoice",
    "VectorMatch",
    "VectorRecord",
    "VectorStore",
]

JSONValue: TypeAlias = Union[None, bool, int, float, str, list[Any], dict[str, Any]]
"""A value that round-trips through JSON unchanged (dict keys are strings)."""

MetadataValue: TypeAlias = Union[str, int, float, bool]
"""Vector metadata is flat: every value is a string, number or boolean."""

ToolChoice: TypeAlias = Union[Literal["auto", "none", "required"], dict[str, Any]]


# --- models --------------------------------------------------------------------


@runtime_checkable
class ChatModel(Protocol):
    """A chat model. ``name`` is its id, e.g. ``openai/gpt-4o-mini`` or ``test``.

    A model may also offer ``async warm_up()`` to load heavy dependencies off the event
    loop; agents await it before memory counts tokens.
    """

    name: str
    supports_tools: bool
    """Whether the model can call tools (structured output uses a forced tool call then)."""

    async def acompletion(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        tool_choice: ToolChoice | None = None,
        response_format: dict[str, Any] | None = None,
        **options: Any,
    ) -> ModelResponse: ...


@runtime_checkable
class StreamingChatModel(ChatModel, Protocol):
    """A chat model that can stream. The last chunk carries the assembled response."""

    def astream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        tool_choice: ToolChoice | None = None,
        response_format: dict[str, Any] | None = None,
        **options: Any,
    ) -> AsyncIterator[ModelChunk]: ...


@runtime_checkable
class TokenCounter(Protocol):
    """A model that counts tokens exactly (memory uses it instead of the estimate)."""

    def count_tokens(self, messages: Sequence[Message]) -> int: ...


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors. ``dimension`` is None until known (probed on first use)."""

    name: str
    dimension: int | None

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    async def embed_query(self, text: str) -> list[float]: ...


# --- key-value sessions and checkpoints -------------------------------------------


@runtime_checkable
class SessionStore(Protocol):
    """An async JSON-document store keyed by string.

    Values are JSON values (objects, arrays, strings, numbers, booleans); a value
    that is not JSON-serializable is rejected with a ``SerializationError`` naming
    the key. ``get`` returns ``None`` for a missing or expired key. Stores are
    async context managers; ``create_storage`` returns them opened.
    """

    supports_ttl: bool

    async def get(self, key: str) -> Any: ...

    async def set(self, key: str, value: Any, *, ttl: float | None = None) -> None: ...

    async def delete(self, key: str) -> bool: ...

    async def get_many(self, keys: Sequence[str]) -> dict[str, Any]: ...

    async def set_many(self, items: Mapping[str, Any], *, ttl: float | None = None) -> None: ...

    async def delete_many(self, keys: Sequence[str]) -> int: ...

    async def keys(self, prefix: str = "") -> list[str]: ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One stored checkpoint of a run. ``seq`` increases by append order within a run."""

    run_id: str
    seq: int
    data: dict[str, Any]
    created_at: float


@dataclass(frozen=True, slots=True)
class Lease:
    """Who owns a run: ``holder`` (an opaque owner id) until ``expires_at`` (``time.time()``)."""

    run_id: str
    holder: str
    expires_at: float


@runtime_checkable
class CheckpointStore(Protocol):
    """Append-only checkpoints per run, with history, retention and run leases.

    The store knows nothing of what a checkpoint means (full snapshot or delta):
    it keeps JSON documents in order and applies retention atomically.

    A *lease* makes one owner per run: ``acquire_lease`` takes it atomically (across
    processes, for a shared store) for ``ttl`` seconds; the owner renews it on a
    heartbeat and releases it when done; a dead owner's lease simply expires.
    """

    async def append_checkpoint(self, run_id: str, data: dict[str, Any]) -> int:
        """Store ``data`` as the run's next checkpoint atomically; return its ``seq``."""
        ...

    async def get_checkpoint(self, run_id: str, seq: int | None = None) -> Checkpoint | None:
        """The checkpoint with ``seq``, or the latest one when ``seq`` is None."""
        ...

    async def list_checkpoints(
        self, run_id: str, *, after_seq: int | None = None, limit: int | None = None
    ) -> list[Checkpoint]:
        """The run's checkpoints in append order, optionally only those after ``after_seq``."""
        ...

    async def compact_checkpoints(
        self, run_id: str, through_seq: int, data: dict[str, Any] | None = None
    ) -> int:
        """Atomically drop the checkpoints with ``seq <= through_seq``.

        With ``data``, a single checkpoint holding it is stored at ``through_seq``
        in the same transaction (used to squash deltas into a snapshot). Returns the
        number of checkpoints removed.
        """
        ...

    async def delete_checkpoints(self, run_id: str) -> int: ...

    async def list_runs(self, prefix: str = "") -> list[str]: ...

    async def acquire_lease(self, run_id: str, holder: str, ttl: float) -> Lease:
        """Take the run's lease for ``ttl`` seconds if it is free, expired or ``holder``'s.

        Atomic: of many concurrent callers, one wins. Returns the lease in force
        afterwards: ``lease.holder == holder`` if taken, else the current holder's
        lease, unchanged (so the caller can say who holds it and until when).
        """
        ...

    async def renew_lease(self, run_id: str, holder: str, ttl: float) -> bool:
        """Extend ``holder``'s lease to ``ttl`` seconds from now; False if it was lost."""
        ...

    async def release_lease(self, run_id: str, holder: str) -> bool:
        """Drop the lease if ``holder`` still holds it (never another holder's); True if dropped."""
        ...

    async def get_lease(self, run_id: str) -> Lease | None:
        """The run's lease in force now, or None when it is free (or expired)."""
        ...


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One entry of a run's event log. ``seq`` is 1, 2, 3... per run, in append order."""

    run_id: str
    seq: int
    """Never reused for the run, even after older events were trimmed."""
    data: dict[str, Any]
    """A JSON object."""
    created_at: float
    """``time.time()`` when it was stored."""


@runtime_checkable
class RunEventLog(Protocol):
    """A bounded, per-run log of JSON events, readable from any process sharing the store.

    A separate protocol from ``CheckpointStore``: a store offers it in addition.
    Seqs of a run are consecutive (1, 2, 3...) in commit order, also across
    processes, and never reused: trimming drops the oldest events but the next
    append continues after the last seq. ``delete_events`` forgets the run's log,
    seqs included.
    """

    async def append_events(
        self, run_id: str, events: Sequence[dict[str, Any]], *, keep: int | None = None
    ) -> int:
        """Append ``events`` atomically (all or nothing); return the seq of the last one.

        With ``keep``, at most the ``keep`` newest events of the run are retained
        afterwards, older ones dropped in the same transaction. An empty ``events``
        appends nothing and returns the last seq.
        """
        ...

    async def read_events(
        self, run_id: str, *, after: int = 0, limit: int | None = None
    ) -> list[RunEvent]:
        """The run's events with ``seq > after``, oldest first, at most ``limit`` of them."""
        ...

    async def last_event_seq(self, run_id: str) -> int:
        """The seq of the run's last appended event; 0 when it has none."""
        ...

    async def delete_events(self, run_id: str) -> int:
        """Drop the run's whole log; return how many events were removed."""
        ...


# --- vectors -----------------------------------------------------------------------


@dataclass(slots=True)
class VectorRecord:
    """A vector with its text and flat metadata."""

    id: str
    embedding: list[float]
    text: str = ""
    metadata: dict[str, MetadataValue] = field(default_factory=dict)


@dataclass(slots=True)
class VectorMatch:
    """A search hit. ``score`` is cosine similarity: higher is closer, at most 1."""

    id: str
    score: float
    text: str = ""
    metadata: dict[str, MetadataValue] = field(default_factory=dict)


@runtime_checkable
class VectorStore(Protocol):
    """Stores vectors and searches them by cosine similarity with metadata filters.

    Filters use one syntax across backends (see ``gecko.core.vectors.filters``):
    ``{"source": "a.md", "year": {"$gte": 2020}, "$or": [...], "tag": {"$in": [...]}}``.
    """

    async def upsert(self, records: Sequence[VectorRecord]) -> None: ...

    async def search(
        self,
        embedding: Sequence[float],
        *,
        top_k: int = 4,
        filter: Mapping[str, Any] | None = None,
    ) -> list[VectorMatch]: ...

    async def get(self, ids: Sequence[str]) -> list[VectorRecord]: ...

    async def delete(
        self, ids: Sequence[str] | None = None, *, filter: Mapping[str, Any] | None = None
    ) -> int: ...

    async def count(self, filter: Mapping[str, Any] | None = None) -> int: ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


# --- tools -------------------------------------------------------------------------


@runtime_checkable
class Tool(Protocol):
    """A tool the model can call: a name, a description and JSON-schema parameters."""

    name: str
    description: str
    parameters: dict[str, Any]

    async def execute(self, arguments: dict[str, Any]) -> Any: ...
