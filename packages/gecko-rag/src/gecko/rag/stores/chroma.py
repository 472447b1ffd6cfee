"""``chroma://path`` (embedded, persistent) and ``chroma+http(s)://host:port`` (a server).

    store = await create_storage("chroma://./knowledge")                  # a directory
    store = await create_storage("chroma+http://localhost:8000?collection=docs")

Options (URL query or keyword): ``collection`` (default ``gecko``), ``tenant``,
``database``; for servers ``headers`` and ``token`` (or ``user:token@`` in the URL,
sent as a bearer token). Telemetry is off. Embeddings are always passed explicitly:
the collection has no embedding function, so nothing ever downloads a model. The
collection uses cosine space; scores are ``1 - distance``. Chroma's client is
blocking, so every call runs in a worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import anyio

from gecko.core.errors import ConfigurationError, StorageConnectionError, VectorStoreError
from gecko.core.protocols import VectorMatch, VectorRecord
from gecko.core.storage.base import BaseStore
from gecko.core.storage.url import parse_storage_url, redact_url
from gecko.core.threads import run_sync
from gecko.core.vectors.filters import parse_filter
from gecko.core.vectors.records import check_delete, check_ids, check_query
from gecko.rag._optional import require
from gecko.rag.stores._common import (
    backend_errors,
    chunked,
    name_option,
    parse_local_url,
    prepare_batch,
    query_vector,
    take_options,
)
from gecko.rag.stores.chroma_filter import INT, MARKER, VALUE, stored, to_where

logger = logging.getLogger(__name__)

DEFAULT_COLLECTION = "gecko"
_OPTIONS = ("collection", "tenant", "database", "headers", "token", "hnsw")


class ChromaStore(BaseStore):
    """A VectorStore on a Chroma collection."""

    supports_ttl = False

    def __init__(
        self, client: Any, collection: Any, *, url: str, dimension: int | None, max_batch: int
    ) -> None:
        self._client = client
        self._collection = collection
        self._name = str(collection.name)
        self.url = redact_url(url)
        self.dimension = dimension
        self._max_batch = max_batch

    def __repr__(self) -> str:
        return f"ChromaStore({self.url!r}, collection={self._name!r})"

    @classmethod
    async def open(cls, url: str, **options: Any) -> ChromaStore:
        chromadb = require("chromadb", extra="chroma", purpose="chroma:// vector stores")
        settings_mod = require("chromadb.config", extra="chroma", purpose="chroma:// vector stores")
        scheme = url.split("://", 1)[0].lower()
        if scheme == "chroma":
            local = parse_local_url(url, example="chroma://./knowledge or chroma:///var/lib/kb")
            opts = take_options(url, local.query, options, _OPTIONS)
            target: dict[str, Any] = {"path": local.path}
        else:
            parsed = parse_storage_url(url)
            if not parsed.host:
                raise ConfigurationError(
                    f"{redact_url(url)!r} has no host",
                    hint="for example chroma+http://localhost:8000",
                )
            opts = take_options(url, parsed.query, options, _OPTIONS)
            headers = dict(opts.pop("headers", None) or {})
            token = opts.pop("token", None) or parsed.password
            if token is not None:
                secret = (
                    token.get_secret_value() if hasattr(token, "get_secret_value") else str(token)
                )
                headers.setdefault("Authorization", f"Bearer {secret}")
            target = {
                "host": parsed.host,
                "port": parsed.with_default_port(8000),
                "ssl": scheme == "chroma+https",
                "headers": headers,
            }
        name = name_option(opts.get("collection", DEFAULT_COLLECTION), "collection")
        hnsw = {"space": "cosine", **(opts.get("hnsw") or {})}
        tenancy = {k: opts[k] for k in ("tenant", "database") if k in opts}

        def connect() -> tuple[Any, Any, int | None, int]:
            settings = settings_mod.Settings(anonymized_telemetry=False)
            if "path" in target:
                client = chromadb.PersistentClient(
                    path=target["path"], settings=settings, **tenancy
                )
            else:
                try:
                    client = chromadb.HttpClient(settings=settings, **target, **tenancy)
                except Exception as exc:  # chromadb reports this as a ValueError
                    raise StorageConnectionError(
                        f"cannot reach the Chroma server at {target['host']}:{target['port']}: {exc}",
                        hint="start one with `chroma run --path ./db --port 8000`, or check host and port",
                        host=target["host"],
                        port=target["port"],
                    ) from exc
            collection = client.get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": hnsw}
            )
            _check_space(collection, name)
            sample = collection.get(limit=1, include=["embeddings"])
            embeddings = sample.get("embeddings")
            dimension = len(embeddings[0]) if embeddings is not None and len(embeddings) else None
            return client, collection, dimension, _max_batch_size(client)

        with backend_errors("chroma", f"opening {redact_url(url)!r}"):
            client, collection, dimension, max_batch = await anyio.to_thread.run_sync(connect)
        return cls(client, collection, url=url, dimension=dimension, max_batch=max_batch)

    # --- VectorStore -----------------------------------------------------------------

    async def upsert(self, records: Sequence[VectorRecord]) -> None:
        self._ensure_open()
        records = list(records)
        if not records:
            return
        batch = prepare_batch(records, self.dimension)
        for record_id, metadata in zip(batch.ids, batch.metadatas):
            _check_chroma_metadata(record_id, metadata)
        collection, step = self._collection, self._max_batch

        def write() -> None:
            for start in range(0, len(batch.ids), step):
                ids = batch.ids[start : start + step]
                # Chroma merges metadata on upsert; keys the new version lacks are set
                # to None, which deletes them, so an upsert replaces the record.
                previous = collection.get(ids=ids, include=["metadatas"])
                old_keys = {i: set(m or ()) for i, m in zip(previous["ids"], previous["metadatas"])}
                metadatas = [
                    _replacement(m, old_keys.get(i, set()))
                    for i, m in zip(ids, batch.metadatas[start : start + step])
                ]
                collection.upsert(
                    ids=ids,
                    embeddings=batch.vectors[start : start + step],
                    documents=batch.texts[start : start + step],
                    metadatas=metadatas,
                )

        with backend_errors("chroma", "upsert"):
            await anyio.to_thread.run_sync(write)
        self.dimension = batch.dimension

    async def search(
        self,
        embedding: Sequence[float],
        *,
        top_k: int = 4,
        filter: Mapping[str, Any] | None = None,
    ) -> list[VectorMatch]:
        self._ensure_open()
        check_query(embedding, self.dimension, top_k)
        where = to_where(parse_filter(filter))
        vector = query_vector(embedding)
        collection = self._collection

        def query() -> Any:
            return collection.query(
                query_embeddings=[vector],
                n_results=top_k,
                where=where,
                include=["documents", "metadatas", "distances"],
            )

        with backend_errors("chroma", "search"):
            result = await run_sync(query)
        ids, documents = result["ids"][0], result["documents"][0]
        metadatas, distances = result["metadatas"][0], result["distances"][0]
        return [
            VectorMatch(id=i, score=1.0 - float(d), text=t or "", metadata=_user_metadata(m))
            for i, t, m, d in zip(ids, documents, metadatas, distances)
        ]

    async def get(self, ids: Sequence[str]) -> list[VectorRecord]:
        self._ensure_open()
        wanted = check_ids(ids) or []
        if not wanted:
            return []
        collection = self._collection

        def fetch() -> dict[str, VectorRecord]:
            found: dict[str, VectorRecord] = {}
            for part in chunked(wanted, self._max_batch):
                result = collection.get(
                    ids=list(part), include=["embeddings", "documents", "metadatas"]
                )
                for i, e, t, m in zip(
                    result["ids"], result["embeddings"], result["documents"], result["metadatas"]
                ):
                    found[i] = VectorRecord(
                        id=i,
                        embedding=[float(x) for x in e],
                        text=t or "",
                        metadata=_user_metadata(m),
                    )
            return found

        with backend_errors("chroma", "get"):
            found = await run_sync(fetch)
        return [found[i] for i in dict.fromkeys(wanted) if i in found]

    async def delete(
        self, ids: Sequence[str] | None = None, *, filter: Mapping[str, Any] | None = None
    ) -> int:
        self._ensure_open()
        wanted = check_delete(ids, filter)
        where = to_where(parse_filter(filter))
        if wanted is not None and not wanted:
            return 0
        collection = self._collection

        def remove() -> int:
            matched = collection.get(ids=wanted, where=where, include=[])["ids"]
            for part in chunked(matched, self._max_batch):
                collection.delete(ids=list(part))
            return len(matched)

        with backend_errors("chroma", "delete"):
            return await anyio.to_thread.run_sync(remove)

    async def count(self, filter: Mapping[str, Any] | None = None) -> int:
        self._ensure_open()
        where = to_where(parse_filter(filter))
        collection = self._collection

        def tally() -> int:
            if where is None:
                return int(collection.count())
            return len(collection.get(where=where, include=[])["ids"])

        with backend_errors("chroma", "count"):
            return await run_sync(tally)

    async def _close(self) -> None:
        # Chroma shares one system per path in a process; dropping our references is
        # what releases it (other stores on the same path keep working).
        self._collection = None
        self._client = None


def _max_batch_size(client: Any) -> int:
    try:
        return max(1, int(client.get_max_batch_size()))
    except Exception:  # older servers do not report it
        return 1000


def _check_space(collection: Any, name: str) -> None:
    configuration = getattr(collection, "configuration_json", None) or {}
    hnsw = configuration.get("hnsw") if isinstance(configuration, Mapping) else None
    space = hnsw.get("space") if isinstance(hnsw, Mapping) else None
    if space is None:
        space = (collection.metadata or {}).get("hnsw:space", "cosine")
    if space != "cosine":
        raise ConfigurationError(
            f"chroma collection {name!r} uses the {space!r} distance, gecko needs 'cosine'",
            hint="use another collection name (?collection=...) for gecko's data",
        )


_EXACT_INT = 2**53


def _check_chroma_metadata(record_id: str, metadata: dict[str, Any]) -> None:
    for key, value in metadata.items():
        if key.startswith(MARKER):
            raise VectorStoreError(
                f"metadata key {key!r} of vector record {record_id!r}: the prefix {MARKER!r} is "
                "reserved by gecko's chroma store",
                id=record_id,
            )
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _EXACT_INT:
            raise VectorStoreError(
                f"metadata {key!r} of vector record {record_id!r} is {value}; the chroma store keeps "
                f"integers up to 2**53 exactly",
                hint="store larger integers as strings",
                id=record_id,
                key=key,
            )


def _replacement(metadata: dict[str, Any], old_keys: set[str]) -> dict[str, Any] | None:
    """The metadata to upsert: each field (numbers as floats) with its marker, and None for
    every key the stored version has and this one lacks (Chroma merges metadata on
    upsert; None deletes a key)."""
    new: dict[str, Any] = {}
    for key, value in metadata.items():
        new[key] = stored(value)
        new[MARKER + key] = INT if isinstance(value, int) and not isinstance(value, bool) else VALUE
    stale = dict.fromkeys(old_keys - new.keys())
    return {**stale, **new} or None


def _user_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    if not metadata:
        return {}
    result: dict[str, Any] = {}
    for key, value in metadata.items():
        if key.startswith(MARKER) or value is None:
            continue
        result[key] = int(value) if metadata.get(MARKER + key) == INT else value
    return result
