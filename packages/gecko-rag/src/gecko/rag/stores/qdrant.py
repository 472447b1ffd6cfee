"""``qdrant://path`` (embedded local mode) and ``qdrant+http(s)://host:port`` (a server).

    store = await create_storage("qdrant://./knowledge")                  # a directory
    store = await create_storage("qdrant+http://localhost:6333?collection=docs")

Paths are read as for ``chroma://`` (``qdrant://./rel`` and ``qdrant:///abs``). Options
(URL query or keyword): ``collection`` (default ``gecko``), for servers ``api_key`` (or
``:key@`` in the URL) and ``timeout`` (seconds). The collection uses cosine distance
and is created on the first upsert. Qdrant normalises stored vectors for cosine, so
each point keeps its vector's norm and ``get`` returns the vector as given. Point ids
are UUIDs derived from the record id (kept in the payload). qdrant-client is blocking
here (local mode computes in Python), so every call runs in a worker thread; local
mode allows one open store per directory per process.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

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
from gecko.rag.stores.qdrant_filter import (
    FIELDS,
    KEYS,
    indexed_payload,
    plain_metadata,
    to_filter,
)

DEFAULT_COLLECTION = "gecko"
_OPTIONS = ("collection", "api_key", "timeout")
_NAMESPACE = uuid.UUID("6a1f3c52-9d0e-4b7a-8f35-2c4e6b9d1a70")
_BATCH = 512


def point_id(record_id: str) -> str:
    """The Qdrant point id (a UUID) of a record id."""
    return str(uuid.uuid5(_NAMESPACE, record_id))


class QdrantStore(BaseStore):
    """A VectorStore on a Qdrant collection."""

    supports_ttl = False

    def __init__(self, client: Any, models: Any, *, url: str, collection: str, local: bool) -> None:
        self._client = client
        self._models = models
        self.url = redact_url(url)
        self._collection = collection
        self._lock = threading.Lock() if local else None
        self._create_lock = threading.Lock()
        self.dimension: int | None = None

    def __repr__(self) -> str:
        return f"QdrantStore({self.url!r}, collection={self._collection!r})"

    @classmethod
    async def open(cls, url: str, **options: Any) -> QdrantStore:
        qdrant = require("qdrant_client", extra="qdrant", purpose="qdrant:// vector stores")
        models = require("qdrant_client.models", extra="qdrant", purpose="qdrant:// vector stores")
        scheme = url.split("://", 1)[0].lower()
        kwargs: dict[str, Any]
        if scheme == "qdrant":
            local = parse_local_url(url, example="qdrant://./knowledge or qdrant:///var/lib/kb")
            opts = take_options(url, local.query, options, _OPTIONS)
            kwargs = {"path": local.path}
        else:
            parsed = parse_storage_url(url)
            if not parsed.host:
                raise ConfigurationError(
                    f"{redact_url(url)!r} has no host",
                    hint="for example qdrant+http://localhost:6333",
                )
            opts = take_options(url, parsed.query, options, _OPTIONS)
            key: Any = opts.get("api_key") or parsed.password
            secret = key.get_secret_value() if hasattr(key, "get_secret_value") else key
            kwargs = {
                "host": parsed.host,
                "port": parsed.with_default_port(6333),
                "https": scheme == "qdrant+https",
                "api_key": secret,
                "timeout": int(float(opts.get("timeout", 10))),
            }
        name = name_option(opts.get("collection", DEFAULT_COLLECTION), "collection")

        def connect() -> tuple[Any, int | None]:
            client = qdrant.QdrantClient(**kwargs)
            try:
                if not client.collection_exists(name):
                    return client, None
                params = client.get_collection(name).config.params.vectors
                if params.distance != models.Distance.COSINE:
                    raise ConfigurationError(
                        f"qdrant collection {name!r} uses the {params.distance} distance, "
                        "gecko needs cosine",
                        hint="use another collection name (?collection=...) for gecko's data",
                    )
                return client, int(params.size)
            except Exception:
                client.close()
                raise

        where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        try:
            client, dimension = await run_sync(connect)
        except (ConfigurationError, VectorStoreError):
            raise
        except Exception as exc:
            if "path" in kwargs:
                raise VectorStoreError(
                    f"cannot open the qdrant database at {where}: {type(exc).__name__}: {exc}",
                    hint="local mode allows one client per directory: close the other store first",
                ) from exc
            raise StorageConnectionError(
                f"cannot reach the Qdrant server at {where}: {type(exc).__name__}: {exc}",
                hint="start one (docker run -p 6333:6333 qdrant/qdrant) or check host and port",
                where=where,
            ) from exc
        store = cls(client, models, url=url, collection=name, local="path" in kwargs)
        store.dimension = dimension
        return store

    async def _call(self, action: str, fn: Any, *args: Any) -> Any:
        lock = self._lock

        def call() -> Any:
            if lock is None:
                return fn(*args)
            with lock:
                return fn(*args)

        with backend_errors("qdrant", action):
            return await run_sync(call)

    def _ensure_collection(self, dimension: int) -> None:
        """Create the collection on the first upsert (runs in the worker thread)."""
        client, models = self._client, self._models
        if not client.collection_exists(self._collection):
            client.create_collection(
                self._collection,
                vectors_config=models.VectorParams(size=dimension, distance=models.Distance.COSINE),
            )
            if self._lock is None:  # a server: index the field names negations look up
                client.create_payload_index(
                    self._collection, KEYS, models.PayloadSchemaType.KEYWORD
                )

    # --- VectorStore -----------------------------------------------------------------

    async def upsert(self, records: Sequence[VectorRecord]) -> None:
        self._ensure_open()
        records = list(records)
        if not records:
            return
        batch = prepare_batch(records, self.dimension, matrix=False)
        models = self._models
        points = []
        for record_id, vector, text, metadata in zip(
            batch.ids, batch.embeddings, batch.texts, batch.metadatas
        ):
            typed, names = indexed_payload(metadata)
            payload = {
                "id": record_id,
                "text": text,
                "norm": math.sqrt(math.fsum(x * x for x in vector)),
                FIELDS: typed,
                KEYS: names,
            }
            points.append(
                models.PointStruct(id=point_id(record_id), vector=list(vector), payload=payload)
            )

        def write() -> None:
            if self.dimension is None:
                with self._create_lock:
                    self._ensure_collection(batch.dimension)
            for part in chunked(points, _BATCH):
                self._client.upsert(self._collection, points=list(part), wait=True)

        await self._call("upsert", write)
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
        query_filter = to_filter(parse_filter(filter), self._models)
        vector = query_vector(embedding)
        if self.dimension is None:
            return []

        def query() -> Any:
            return self._client.query_points(
                self._collection,
                query=vector,
                limit=top_k,
                query_filter=query_filter,
                with_payload=["id", "text", FIELDS],
            ).points

        points = await self._call("search", query)
        return [
            VectorMatch(
                id=p.payload["id"],
                score=float(p.score),
                text=p.payload["text"],
                metadata=plain_metadata(p.payload.get(FIELDS)),
            )
            for p in points
        ]

    async def get(self, ids: Sequence[str]) -> list[VectorRecord]:
        self._ensure_open()
        wanted = list(dict.fromkeys(check_ids(ids) or []))
        if not wanted or self.dimension is None:
            return []

        def fetch() -> Any:
            return self._client.retrieve(
                self._collection,
                ids=[point_id(i) for i in wanted],
                with_payload=["id", "text", FIELDS, "norm"],
                with_vectors=True,
            )

        found = {}
        for p in await self._call("get", fetch):
            norm = float(p.payload.get("norm", 1.0))
            vector = [float(x) * norm for x in p.vector]
            found[p.payload["id"]] = VectorRecord(
                id=p.payload["id"],
                embedding=vector,
                text=p.payload["text"],
                metadata=plain_metadata(p.payload.get(FIELDS)),
            )
        return [found[i] for i in wanted if i in found]

    def _matching_ids(self, query_filter: Any, wanted: list[str] | None) -> list[Any]:
        """Point ids matching the filter (and ``wanted``), scrolled in pages (worker thread)."""
        models = self._models
        if wanted is not None:
            has_id = models.HasIdCondition(has_id=[point_id(i) for i in wanted])
            query_filter = models.Filter(must=[has_id, *([query_filter] if query_filter else [])])
        ids: list[Any] = []
        offset = None
        while True:
            page, offset = self._client.scroll(
                self._collection,
                scroll_filter=query_filter,
                limit=1000,
                offset=offset,
                with_payload=False,
                with_vectors=False,
            )
            ids.extend(p.id for p in page)
            if offset is None:
                return ids

    async def delete(
        self, ids: Sequence[str] | None = None, *, filter: Mapping[str, Any] | None = None
    ) -> int:
        self._ensure_open()
        wanted = check_delete(ids, filter)
        query_filter = to_filter(parse_filter(filter), self._models)
        if (wanted is not None and not wanted) or self.dimension is None:
            return 0

        def remove() -> int:
            matched = self._matching_ids(query_filter, wanted)
            for part in chunked(matched, 1000):
                selector = self._models.PointIdsList(points=list(part))
                self._client.delete(self._collection, points_selector=selector, wait=True)
            return len(matched)

        return int(await self._call("delete", remove))

    async def count(self, filter: Mapping[str, Any] | None = None) -> int:
        self._ensure_open()
        query_filter = to_filter(parse_filter(filter), self._models)
        if self.dimension is None:
            return 0

        def tally() -> int:
            return int(
                self._client.count(self._collection, count_filter=query_filter, exact=True).count
            )

        return int(await self._call("count", tally))

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await run_sync(client.close)
