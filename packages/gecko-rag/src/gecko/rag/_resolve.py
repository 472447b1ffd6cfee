"""Accept an Embedder or its id wherever one is configured; refuse a store of the wrong kind."""

from __future__ import annotations

import inspect

from gecko.core.errors import ConfigurationError
from gecko.core.protocols import CheckpointStore, Embedder, SessionStore, VectorStore

_VECTOR_STORE_METHODS = (
    "upsert",
    "search",
    "get",
    "delete",
    "count",
    "close",
    "__aenter__",
    "__aexit__",
)
OPEN_VECTOR_STORE = (
    'open one with `await create_storage("memory://", kind="vector")`, or a chroma://, '
    "lancedb:// or milvus:// URL (pip install gecko-rag[chroma], [lancedb] or [milvus])"
)


def resolve_embedder(embedder: Embedder | str) -> Embedder:
    """``embedder`` itself, or ``create_embedder(embedder)`` for an id like ``"hash/384"``."""
    if isinstance(embedder, str):
        from gecko.core.factories import create_embedder

        created: Embedder = create_embedder(embedder)
        return created
    return embedder


def check_vector_store(store: object, where: str) -> None:
    """Raise ConfigurationError unless ``store`` is a VectorStore.

    At construction, so that a session store or an un-awaited ``create_storage(...)``
    is reported with the fix instead of failing at the first search or upsert.
    """
    if inspect.isclass(store):  # a class has the methods too, unbound
        raise ConfigurationError(
            f"{where} needs a vector store instance, got the class {store.__name__}",
            hint=OPEN_VECTOR_STORE,
        )
    if isinstance(store, VectorStore):
        return
    if inspect.iscoroutine(store):
        store.close()  # never awaited: close it so Python does not warn about it too
        raise ConfigurationError(
            f"{where} got a coroutine, not a vector store",
            hint='await it: vector_store = await create_storage(url, kind="vector")',
        )
    missing = [name for name in _VECTOR_STORE_METHODS if not callable(getattr(store, name, None))]
    public = [name for name in missing if not name.startswith("_")]
    kind = type(store).__name__
    if isinstance(store, (SessionStore, CheckpointStore)):
        kind += ", a session/checkpoint store (kind='kv'),"
    raise ConfigurationError(
        f"{where} needs a vector store, got a {kind} which has no {', '.join(public or missing)}",
        hint=OPEN_VECTOR_STORE,
        got=type(store).__name__,
    )
