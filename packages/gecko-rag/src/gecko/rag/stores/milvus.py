"""``milvus://`` on Milvus Lite (an embedded database) or a Milvus server.

    store = await create_storage("milvus://./data/knowledge.db")        # Milvus Lite
    store = await create_storage("milvus://localhost:19530")             # a server
    store = await create_storage("milvus+https://user:pass@host:19530/db_name")

How the two are told apart: after ``milvus://``, ``host:port`` (digits after the
last colon, nothing but an optional ``/database`` after it) is a server; anything
else is a Milvus Lite path, which must end in ``.db`` (Milvus Lite's rule; the path
becomes a directory). ``milvus+http://`` and ``milvus+https://`` are always servers
(default port 19530). Options: ``collection`` (default ``gecko``), ``index``
(``FLAT`` on Lite, ``AUTOINDEX`` on servers), ``token`` (or ``user:password@``),
``consistency`` (default ``Strong``: a write is visible to the next read),
``flush_rows`` (Milvus Lite: before a read, seal the segment if at least this many rows
were written since the last flush, default 1024; searching unsealed rows is slow in
Lite, and one flush after a bulk load is cheaper than one per write. Servers seal on
their own: default 0, never).

pymilvus is blocking, so every call runs in a worker thread. Scores are Milvus's
COSINE similarity. Texts are limited to 65,535 bytes (a Milvus VARCHAR).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio

from gecko.core.errors import ConfigurationError, InvalidURLError, VectorStoreError
from gecko.core.protocols import VectorMatch, VectorRecord
from gecko.core.storage.base import BaseStore
from gecko.core.storage.url import parse_storage_url, redact_url
from gecko.core.threads import run_sync
from gecko.core.vectors.filters import parse_filter
from gecko.core.vectors.records import check_delete, check_ids, check_query
from gecko.rag._optional import require
from gecko.rag.stores._common import (
    Batch,
    backend_errors,
    chunked,
    name_option,
    parse_local_url,
    parse_query,
    prepare_batch,
    query_vector,
    take_options,
)
from gecko.rag.stores.milvus_filter import literal, plain_fields, to_expression, typed_fields

logger = logging.getLogger(__name__)

DEFAULT_COLLECTION = "gecko"
MAX_TEXT_BYTES = 65_535
MAX_ID_BYTES = 512
_OPTIONS = ("collection", "index", "token", "consistency", "flush_rows")
LITE_FLUSH_ROWS = 1024
_SERVER = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+):(\d+)(/[A-Za-z0-9_]*)?$")
_WRITE_BATCH = 2000
_READ_BATCH = 1000


def milvus_target(url: str, options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(MilvusClient keyword arguments, remaining options)`` for ``url``."""
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    location, _, raw_query = rest.partition("?")
    if scheme == "milvus" and not _SERVER.match(location):
        local = parse_local_url(
            url, example="milvus://./data/knowledge.db or milvus://localhost:19530"
        )
        if not local.path.endswith(".db"):
            raise InvalidURLError(
                f"{redact_url(url)!r} is neither host:port nor a Milvus Lite path ending in .db",
                hint="use milvus://./data/knowledge.db (embedded) or milvus://localhost:19530 (server)",
                url=redact_url(url),
            )
        opts = take_options(url, local.query, options, _OPTIONS)
        return {"uri": str(Path(local.path).resolve())}, {"lite": True, **opts}
    parsed = parse_storage_url(url if scheme != "milvus" else "milvus+http://" + rest)
    if not parsed.host:
        raise InvalidURLError(
            f"{redact_url(url)!r} has no host", hint="for example milvus://localhost:19530"
        )
    opts = take_options(url, parse_query(url, raw_query), options, _OPTIONS)
    protocol = "https" if scheme == "milvus+https" else "http"
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    kwargs: dict[str, Any] = {"uri": f"{protocol}://{host}:{parsed.with_default_port(19530)}"}
    database = parsed.path.strip("/")
    if database:
        kwargs["db_name"] = database
    token = opts.pop("token", None)
    if token is None and parsed.password is not None:
        token = f"{parsed.username or ''}:{parsed.password.get_secret_value()}"
    if token is not None:
        kwargs["token"] = (
            token.get_secret_value() if hasattr(token, "get_secret_value") else str(token)
        )
    return kwargs, {"lite": False, **opts}


class MilvusStore(BaseStore):
    """A VectorStore on one Milvus collection."""

    supports_ttl = False

    def __init__(
        self,
        client: Any,
        pymilvus: Any,
        *,
        url: str,
        collection: str,
        index: str,
        consistency: str,
        flush_rows: int = 0,
    ) -> None:
        self._client = client
        self._pymilvus = pymilvus
        self.url = redact_url(url)
        self._collection = collection
        self._index = index
        self._consistency = consistency
        self.dimension: int | None = None
        self._created = False
        self._write_lock = anyio.Lock()
        self._flush_rows = flush_rows
        self._unflushed = 0

    def __repr__(self) -> str:
        return f"MilvusStore({self.url!r}, collection={self._collection!r})"

    @classmethod
    async def open(cls, url: str, **options: Any) -> MilvusStore:
        pymilvus = require("pymilvus", extra="milvus", purpose="milvus:// vector stores")
        kwargs, opts = milvus_target(url, options)
        lite = opts.pop("lite")
        if lite:
            require(
                "milvus_lite", extra="milvus", purpose="milvus:// embedded (Milvus Lite) databases"
            )
        collection = name_option(opts.get("collection", DEFAULT_COLLECTION), "collection")
        index = str(opts.get("index", "FLAT" if lite else "AUTOINDEX")).upper()
        consistency = str(opts.get("consistency", "Strong"))
        flush_rows = opts.get("flush_rows", LITE_FLUSH_ROWS if lite else 0)
        try:
            flush_rows = int(flush_rows)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"flush_rows must be an integer, got {flush_rows!r}") from exc

        def connect() -> tuple[Any, int | None]:
            if lite:
                Path(kwargs["uri"]).parent.mkdir(parents=True, exist_ok=True)
            client = pymilvus.MilvusClient(**kwargs)
            dimension = None
            try:
                if client.has_collection(collection):
                    dimension = _describe(client, collection)
                    client.load_collection(collection)
            except BaseException:
                client.close()
                raise
            return client, dimension

        with backend_errors("milvus", f"opening {redact_url(url)!r}"):
            client, dimension = await anyio.to_thread.run_sync(connect)
        store = cls(
            client,
            pymilvus,
            url=url,
            collection=collection,
            index=index,
            consistency=consistency,
            flush_rows=flush_rows,
        )
        store.dimension = dimension
        store._created = dimension is not None
        return store

    async def _exists(self, *, flush: bool = True) -> bool:
        """Whether the collection exists; checks again while it did not (another writer may
        have created it since this store opened). Reads call it first, so it also seals
        what was written since the last flush once that reaches ``flush_rows``."""
        if flush and self._created and self._flush_rows and self._unflushed >= self._flush_rows:
            async with self._write_lock:
                if self._unflushed >= self._flush_rows:
                    with backend_errors("milvus", "flush"):
                        await anyio.to_thread.run_sync(self._client.flush, self._collection)
                    self._unflushed = 0
        if not self._created:

            def probe() -> int | None:
                if not self._client.has_collection(self._collection):
                    return None
                dimension = _describe(self._client, self._collection)
                self._client.load_collection(self._collection)
                return dimension

            with backend_errors("milvus", "describe"):
                dimension = await anyio.to_thread.run_sync(probe)
            if dimension is not None:
                self.dimension, self._created = dimension, True
        return self._created

    # --- writing ---------------------------------------------------------------------

    async def upsert(self, records: Sequence[VectorRecord]) -> None:
        self._ensure_open()
        records = list(records)
        if not records:
            return
        await self._exists(flush=False)
        batch = prepare_batch(records, self.dimension, matrix=False)
        rows = _rows(batch)
        async with self._write_lock:
            with backend_errors("milvus", "upsert"):
                if not self._created:
                    await anyio.to_thread.run_sync(self._create, batch.dimension)
                    self._created = True
                    self.dimension = batch.dimension
                for part in chunked(rows, _WRITE_BATCH):
                    await anyio.to_thread.run_sync(
                        self._client.upsert, self._collection, list(part)
                    )
                self._unflushed += len(rows)

    def _create(self, dimension: int) -> None:
        client, data_type = self._client, self._pymilvus.DataType
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", data_type.VARCHAR, is_primary=True, max_length=MAX_ID_BYTES)
        schema.add_field("vector", data_type.FLOAT_VECTOR, dim=dimension)
        schema.add_field("text", data_type.VARCHAR, max_length=MAX_TEXT_BYTES)
        schema.add_field("metadata", data_type.JSON)
        index = client.prepare_index_params()
        index.add_index(field_name="vector", index_type=self._index, metric_type="COSINE")
        if client.has_collection(self._collection):  # created meanwhile by another process
            _describe(client, self._collection)
        else:
            client.create_collection(
                self._collection,
                schema=schema,
                index_params=index,
                consistency_level=self._consistency,
            )
        client.load_collection(self._collection)

    # --- reading ---------------------------------------------------------------------

    async def search(
        self,
        embedding: Sequence[float],
        *,
        top_k: int = 4,
        filter: Mapping[str, Any] | None = None,
    ) -> list[VectorMatch]:
        self._ensure_open()
        check_query(embedding, self.dimension, top_k)
        expression = to_expression(parse_filter(filter))
        vector = query_vector(embedding)
        if not await self._exists():
            return []

        def run() -> Any:
            return self._client.search(
                self._collection,
                data=[vector],
                limit=top_k,
                filter=expression,
                output_fields=["text", "metadata"],
                search_params={"metric_type": "COSINE"},
            )

        with backend_errors("milvus", "search"):
            result = await run_sync(run)
        return [
            VectorMatch(
                id=hit["id"],
                score=float(hit["distance"]),
                text=hit["entity"].get("text") or "",
                metadata=plain_fields(hit["entity"].get("metadata")),
            )
            for hit in result[0]
        ]

    async def get(self, ids: Sequence[str]) -> list[VectorRecord]:
        self._ensure_open()
        wanted = check_ids(ids) or []
        if not wanted or not await self._exists():
            return []

        def fetch() -> dict[str, VectorRecord]:
            found: dict[str, VectorRecord] = {}
            for part in chunked(list(dict.fromkeys(wanted)), _READ_BATCH):
                rows = self._client.get(
                    self._collection, ids=list(part), output_fields=["vector", "text", "metadata"]
                )
                for row in rows:
                    found[row["id"]] = VectorRecord(
                        id=row["id"],
                        embedding=[float(x) for x in row["vector"]],
                        text=row.get("text") or "",
                        metadata=plain_fields(row.get("metadata")),
                    )
            return found

        with backend_errors("milvus", "get"):
            found = await run_sync(fetch)
        return [found[i] for i in dict.fromkeys(wanted) if i in found]

    async def delete(
        self, ids: Sequence[str] | None = None, *, filter: Mapping[str, Any] | None = None
    ) -> int:
        self._ensure_open()
        wanted = check_delete(ids, filter)
        expression = to_expression(parse_filter(filter))
        if (wanted is not None and not wanted) or not await self._exists():
            return 0

        def remove() -> int:
            parts = (
                [list(p) for p in chunked(wanted, _READ_BATCH)] if wanted is not None else [None]
            )
            removed = 0
            for part in parts:
                clauses = [c for c in (_id_expression(part) if part else "", expression) if c]
                predicate = " and ".join(f"({c})" for c in clauses)
                matched = self._count(predicate)
                if matched:
                    self._client.delete(self._collection, filter=predicate)
                    removed += matched
            return removed

        async with self._write_lock:
            with backend_errors("milvus", "delete"):
                return await anyio.to_thread.run_sync(remove)

    async def count(self, filter: Mapping[str, Any] | None = None) -> int:
        self._ensure_open()
        expression = to_expression(parse_filter(filter))
        if not await self._exists():
            return 0
        with backend_errors("milvus", "count"):
            return await run_sync(self._count, expression)

    def _count(self, expression: str) -> int:
        rows = self._client.query(self._collection, filter=expression, output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None:

            def finish() -> None:
                try:
                    if self._flush_rows and self._unflushed:
                        client.flush(self._collection)  # sealed segments search fast on reopen
                finally:
                    client.close()

            with backend_errors("milvus", "close"):
                await anyio.to_thread.run_sync(finish)


def _describe(client: Any, collection: str) -> int:
    info = client.describe_collection(collection)
    fields = {f["name"]: f for f in info.get("fields", [])}
    missing = [name for name in ("id", "vector", "text", "metadata") if name not in fields]
    if missing:
        raise VectorStoreError(
            f"Milvus collection {collection!r} lacks field(s) {missing}; it was not created by gecko",
            hint="use another collection name (?collection=...) for gecko's data",
        )
    return int(fields["vector"]["params"]["dim"])


def _rows(batch: Batch) -> list[dict[str, Any]]:
    rows = []
    for record_id, vector, text, metadata in zip(
        batch.ids, batch.embeddings, batch.texts, batch.metadatas
    ):
        if len(record_id.encode("utf-8")) > MAX_ID_BYTES:
            raise VectorStoreError(
                f"vector record id {record_id[:40]!r}... is longer than Milvus's {MAX_ID_BYTES} bytes",
                id=record_id,
            )
        if len(text) > MAX_TEXT_BYTES // 4 and len(text.encode("utf-8")) > MAX_TEXT_BYTES:
            raise VectorStoreError(
                f"vector record {record_id!r} text is {len(text.encode('utf-8'))} bytes; "
                f"Milvus stores at most {MAX_TEXT_BYTES}",
                hint="split documents into smaller chunks (chunk_size)",
                id=record_id,
            )
        rows.append(
            {
                "id": record_id,
                "vector": vector,
                "text": text,
                "metadata": typed_fields(metadata),
            }
        )
    return rows


def _id_expression(ids: Sequence[str]) -> str:
    return f"id in [{', '.join(literal(i) for i in ids)}]"
