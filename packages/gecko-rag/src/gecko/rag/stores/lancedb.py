"""``lancedb://path`` (a local directory) and object-store URIs through LanceDB's async API.

    store = await create_storage("lancedb://./knowledge")                 # relative dir
    store = await create_storage("lancedb:///var/lib/kb?table=docs")      # absolute dir
    store = await create_storage("lancedb+s3://bucket/prefix", storage_options={...})

``lancedb+<scheme>://rest`` connects to ``<scheme>://rest`` (``s3``, ``gs``, ``az``);
credentials come from the environment or ``storage_options``. Options: ``table``
(default ``gecko``), ``storage_options``, ``read_consistency_interval`` (seconds;
default 0: every read sees the latest committed data, also from other processes).

Rows hold ``id``, ``vector`` (float32), ``text`` and one typed column per metadata
field and kind of value (see ``lancedb_filter``), added as new fields appear; a
record's metadata is read back from its non-null typed columns, types intact. Search
is cosine (``score = 1 - distance``). LanceDB's async API never blocks the event loop;
it runs on asyncio (not trio).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import anyio

from gecko.core.errors import ConfigurationError, VectorStoreError
from gecko.core.protocols import VectorMatch, VectorRecord
from gecko.core.storage.base import BaseStore
from gecko.core.storage.url import redact_url
from gecko.core.vectors.filters import Node, parse_filter
from gecko.core.vectors.records import check_delete, check_ids, check_query
from gecko.rag._optional import require
from gecko.rag.stores._common import (
    Batch,
    backend_errors,
    chunked,
    name_option,
    parse_local_url,
    prepare_batch,
    query_vector,
    take_options,
)
from gecko.rag.stores._filters import conditions
from gecko.rag.stores.lancedb_filter import KINDS, column_name, parse_column, sql_literal, to_sql
from gecko.rag.stores.lancedb_rows import arrow_type, metadata_columns, rows_metadata

logger = logging.getLogger(__name__)

DEFAULT_TABLE = "gecko"
BASE_COLUMNS = ("id", "vector", "text")
_OPTIONS = ("table", "storage_options", "read_consistency_interval")
_ID_BATCH = 500


def lancedb_uri(url: str) -> tuple[str, dict[str, str]]:
    """``(uri for lancedb.connect_async, query parameters)``: ``lancedb://./kb`` -> ``./kb``,
    ``lancedb+s3://bucket/prefix`` -> ``s3://bucket/prefix``."""
    local = parse_local_url(url, example="lancedb://./knowledge or lancedb:///var/lib/kb")
    if local.scheme == "lancedb":
        return local.path, local.query
    store_scheme = local.scheme.split("+", 1)[1]
    return f"{store_scheme}://{url.split('://', 1)[1].partition('?')[0]}", local.query


class LanceDBStore(BaseStore):
    """A VectorStore on one LanceDB table."""

    supports_ttl = False

    def __init__(self, db: Any, table: Any, *, name: str, url: str, pa: Any) -> None:
        self._db = db
        self._table = table
        self._name = name
        self._pa = pa
        self.url = redact_url(url)
        self.dimension: int | None = None
        self._columns: dict[str, str] = {}  # typed metadata column -> kind
        self._write_lock = anyio.Lock()

    def __repr__(self) -> str:
        return f"LanceDBStore({self.url!r}, table={self._name!r})"

    @classmethod
    async def open(cls, url: str, **options: Any) -> LanceDBStore:
        lancedb = require("lancedb", extra="lancedb", purpose="lancedb:// vector stores")
        pa = require("pyarrow", extra="lancedb", purpose="lancedb:// vector stores")
        uri, query = lancedb_uri(url)
        opts = take_options(url, query, options, _OPTIONS)
        name = name_option(opts.get("table", DEFAULT_TABLE), "table")
        interval = opts.get("read_consistency_interval", 0)
        try:
            consistency = datetime.timedelta(seconds=float(interval))
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"read_consistency_interval must be seconds, got {interval!r}"
            ) from exc
        with backend_errors("lancedb", f"opening {redact_url(url)!r}"):
            db = await lancedb.connect_async(
                uri,
                read_consistency_interval=consistency,
                storage_options=opts.get("storage_options"),
            )
            table = await _open_table(db, name)
        store = cls(db, table, name=name, url=url, pa=pa)
        if table is not None:
            await store._load_schema()
        return store

    async def _load_schema(self) -> None:
        schema = await self._table.schema()
        names = set(schema.names)
        missing = [c for c in BASE_COLUMNS if c not in names]
        if missing:
            raise VectorStoreError(
                f"LanceDB table {self._name!r} at {self.url!r} lacks column(s) {missing}; "
                "it was not written by gecko",
                hint="use another table name (?table=...) for gecko's data",
            )
        self.dimension = schema.field("vector").type.list_size
        pa = self._pa
        self._columns = {}
        for field in schema:
            parsed = parse_column(field.name)
            if parsed is not None and field.type == arrow_type(pa, parsed[0]):
                self._columns[field.name] = parsed[0]

    async def _opened_table(self) -> Any:
        """The table, opened now if another writer created it since this store opened."""
        if self._table is None:
            table = await _open_table(self._db, self._name)
            if table is not None:
                async with self._write_lock:
                    if self._table is None:
                        self._table = table
                        await self._load_schema()
        return self._table

    # --- writing ---------------------------------------------------------------------

    async def upsert(self, records: Sequence[VectorRecord]) -> None:
        self._ensure_open()
        records = list(records)
        if not records:
            return
        await self._opened_table()
        batch = prepare_batch(records, self.dimension, check_metadata=False)
        typed = metadata_columns(self._pa, batch.ids, batch.metadatas)
        async with self._write_lock:
            with backend_errors("lancedb", "upsert"):
                new_columns = {c: kind for c, (kind, _) in typed.items() if c not in self._columns}
                if self._table is None:
                    self._columns.update(new_columns)
                    self._table = await self._db.create_table(
                        self._name, schema=self._schema(batch.dimension), exist_ok=True
                    )
                    await self._load_schema()
                    new_columns = {c: k for c, k in new_columns.items() if c not in self._columns}
                if new_columns:
                    pa = self._pa
                    await self._table.add_columns(
                        [pa.field(c, arrow_type(pa, k)) for c, k in new_columns.items()]
                    )
                    self._columns.update(new_columns)
                data = self._arrow_table(batch, typed)
                if await self._table.count_rows() == 0:
                    await self._table.add(data)
                else:
                    await (
                        self._table.merge_insert("id")
                        .when_matched_update_all()
                        .when_not_matched_insert_all()
                        .execute(data)
                    )
            self.dimension = batch.dimension

    def _schema(self, dimension: int) -> Any:
        pa = self._pa
        fields = [
            pa.field("id", pa.string(), nullable=False),
            pa.field("vector", pa.list_(pa.float32(), dimension)),
            pa.field("text", pa.string()),
        ]
        fields += [pa.field(c, arrow_type(pa, k)) for c, k in self._columns.items()]
        return pa.schema(fields)

    def _arrow_table(self, batch: Batch, typed: dict[str, tuple[str, Any]]) -> Any:
        """The batch as a table with every column of the table (missing fields NULL, so an
        upsert replaces a record's metadata instead of merging it)."""
        pa, size = self._pa, len(batch.ids)
        columns: dict[str, Any] = {
            "id": pa.array(batch.ids, type=pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(
                pa.array(batch.vectors.reshape(-1), type=pa.float32()), batch.dimension
            ),
            "text": pa.array(batch.texts, type=pa.string()),
        }
        for name, kind in self._columns.items():
            columns[name] = (
                typed[name][1] if name in typed else pa.nulls(size, arrow_type(pa, kind))
            )
        return pa.table(columns, schema=self._schema(batch.dimension))

    # --- reading ---------------------------------------------------------------------

    async def _where(self, filter: Mapping[str, Any] | None) -> str | None:
        node = parse_filter(filter)
        if (
            node is not None
            and await self._opened_table() is not None
            and self._unknown_fields(node)
        ):
            await self._load_schema()  # another writer may have added the field's column
        return to_sql(node, self._columns)

    def _unknown_fields(self, node: Node) -> bool:
        return any(
            all(column_name(kind, c.field) not in self._columns for kind in KINDS)
            for c in conditions(node)
        )

    def _result_columns(self, *base: str) -> list[str]:
        return [*base, *self._columns]

    async def search(
        self,
        embedding: Sequence[float],
        *,
        top_k: int = 4,
        filter: Mapping[str, Any] | None = None,
    ) -> list[VectorMatch]:
        self._ensure_open()
        check_query(embedding, self.dimension, top_k)
        where = await self._where(filter)
        vector = query_vector(embedding)
        if await self._opened_table() is None:
            return []
        with backend_errors("lancedb", "search"):
            query = (await self._table.search(vector, vector_column_name="vector")).distance_type(
                "cosine"
            )
            if where is not None:
                query = query.where(where)
            columns = self._result_columns("id", "text", "_distance")
            result = await query.select(columns).limit(top_k).to_arrow()
        ids = result.column("id").to_pylist()
        texts = result.column("text").to_pylist()
        distances = result.column("_distance").to_pylist()
        return [
            VectorMatch(id=i, score=1.0 - float(d), text=t or "", metadata=m)
            for i, t, d, m in zip(ids, texts, distances, rows_metadata(result))
        ]

    async def get(self, ids: Sequence[str]) -> list[VectorRecord]:
        self._ensure_open()
        wanted = check_ids(ids) or []
        if not wanted or await self._opened_table() is None:
            return []
        found: dict[str, VectorRecord] = {}
        with backend_errors("lancedb", "get"):
            for part in chunked(list(dict.fromkeys(wanted)), _ID_BATCH):
                result = await (
                    self._table.query()
                    .where(_id_predicate(part))
                    .select(self._result_columns("id", "vector", "text"))
                    .to_arrow()
                )
                for i, v, t, m in zip(
                    result.column("id").to_pylist(),
                    result.column("vector").to_pylist(),
                    result.column("text").to_pylist(),
                    rows_metadata(result),
                ):
                    found[i] = VectorRecord(id=i, embedding=v, text=t or "", metadata=m)
        return [found[i] for i in dict.fromkeys(wanted) if i in found]

    async def delete(
        self, ids: Sequence[str] | None = None, *, filter: Mapping[str, Any] | None = None
    ) -> int:
        self._ensure_open()
        wanted = check_delete(ids, filter)
        where = await self._where(filter)
        if await self._opened_table() is None or (wanted is not None and not wanted):
            return 0
        removed = 0
        async with self._write_lock:
            with backend_errors("lancedb", "delete"):
                parts = (
                    [list(p) for p in chunked(wanted, _ID_BATCH)] if wanted is not None else [None]
                )
                for part in parts:
                    predicate = " AND ".join(
                        p for p in (_id_predicate(part) if part else None, where) if p
                    )
                    matched = await self._table.count_rows(predicate)
                    if matched:
                        await self._table.delete(predicate)
                        removed += matched
        return removed

    async def count(self, filter: Mapping[str, Any] | None = None) -> int:
        self._ensure_open()
        where = await self._where(filter)
        if await self._opened_table() is None:
            return 0
        with backend_errors("lancedb", "count"):
            return int(await self._table.count_rows(where))

    async def _close(self) -> None:
        for resource in (self._table, self._db):
            close = getattr(resource, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # closing twice or after a failure is harmless
                    logger.debug("closing %r failed", resource, exc_info=True)
        self._table = None


async def _open_table(db: Any, name: str) -> Any:
    try:
        return await db.open_table(name)
    except (ValueError, FileNotFoundError):
        return None


def _id_predicate(ids: Sequence[str]) -> str:
    return f"id IN ({', '.join(sql_literal(i) for i in ids)})"
