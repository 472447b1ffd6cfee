"""``postgres+pgvector://`` (or ``postgresql+pgvector://``): vectors in a Postgres table.

    store = await create_storage("postgres+pgvector://app:secret@db:5432/app?table=docs")

One table per store (``table``, default ``gecko_vectors``, in ``schema``, default
``public``), created on the first upsert with an HNSW index (cosine; ``m``,
``ef_construction``) and a GIN index on the JSONB metadata. Other options:
``pool_size`` (default 10), ``ef_search`` (default 40), ``connect_timeout`` (seconds,
default 10); libpq parameters (``host``, ``sslmode``, ``application_name``, ...) pass
through. Filters become parameterised SQL (see ``pgvector_filter``). An operation that
fails on a broken connection (a server restart) is retried on a fresh one.

A filtered HNSW scan looks at ``ef_search`` candidates and drops those the filter
rejects, so under a selective filter it can return fewer than ``top_k`` rows although
more match. On pgvector 0.8 and later the store turns on iterative scans
(``hnsw.iterative_scan = strict_order``), which keep scanning (up to
``hnsw.max_scan_tuples``). Whatever the version, a filtered search that comes back
short counts the matches (up to ``top_k``); if more exist than it returned, it is re-run
as an exact scan. So a filtered search returns all matches when fewer than ``top_k``
exist, and otherwise ``top_k`` of them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from gecko.core.errors import ConfigurationError, StorageConnectionError, VectorStoreError
from gecko.core.protocols import VectorMatch, VectorRecord
from gecko.core.storage.base import BaseStore
from gecko.core.storage.url import parse_storage_url, redact_url
from gecko.core.validation import check_int
from gecko.core.vectors.filters import parse_filter
from gecko.core.vectors.records import check_delete, check_ids, check_query
from gecko.rag._optional import require
from gecko.rag.stores._common import (
    backend_errors,
    chunked,
    prepare_batch,
    query_vector,
    take_options,
)
from gecko.rag.stores.pgvector_filter import to_sql

logger = logging.getLogger(__name__)

DEFAULT_TABLE = "gecko_vectors"
_GECKO_OPTIONS = ("table", "schema", "pool_size", "ef_search", "m", "ef_construction", "password")
_LIBPQ = (
    "host",
    "port",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "application_name",
    "connect_timeout",
    "target_session_attrs",
    "options",
    "channel_binding",
)
_COLUMNS = {"id", "embedding", "text", "metadata", "metadata_json"}
_CHUNK = 1000
_ATTEMPTS = 4  # an operation on a broken connection is retried up to 3 times (0.05, 0.2, 0.8 s)
_FIRST_DELAY = 0.05
T = TypeVar("T")
_MAX_EF = 1000  # pgvector's upper bound for hnsw.ef_search


def _identifier(value: Any, what: str) -> str:
    if (
        not isinstance(value, str)
        or not value
        or len(value) > 50
        or not (value[0].isalpha() or value[0] == "_")
        or not all(c.isalnum() or c == "_" for c in value)
        or not value.isascii()
    ):
        raise ConfigurationError(
            f"pgvector option {what}={value!r} is not a plain identifier",
            hint="use ASCII letters, digits and underscores, starting with a letter (at most 50)",
        )
    return value


def vector_text(vector: Sequence[float]) -> str:
    """pgvector's text form of a vector: ``[1.0,2.5,...]``."""
    return "[" + ",".join(map(str, vector)) + "]"


def query_text(embedding: Sequence[float]) -> str:
    """The query vector's text form, refusing non-numbers and non-finite values.

    A non-finite sum means a NaN or infinity (or an overflow of the sum alone): only then
    does ``query_vector`` check element by element, for the precise error.
    """
    try:
        floats = list(map(float, embedding))
    except (TypeError, ValueError):
        floats = []
    if not floats or not math.isfinite(sum(floats)):
        floats = query_vector(embedding)
    return vector_text(floats)


class PgVectorStore(BaseStore):
    """A VectorStore on a Postgres table with the pgvector extension."""

    supports_ttl = False

    def __init__(self, pool: Any, *, url: str, options: dict[str, Any], iterative: bool) -> None:
        self._pool = pool
        self.url = redact_url(url)
        self._schema: str = options["schema"]
        self._table: str = options["table"]
        self._ef_search: int = options["ef_search"]
        self._m: int = options["m"]
        self._ef_construction: int = options["ef_construction"]
        self._iterative = iterative
        self._create_lock = asyncio.Lock()
        self.dimension: int | None = None
        psycopg_sql = require("psycopg.sql", extra="postgres", purpose="postgres+pgvector://")
        self._sql = psycopg_sql
        self._psycopg = require("psycopg", extra="postgres", purpose="postgres+pgvector://")
        self._name = psycopg_sql.Identifier(self._schema, self._table)
        self._quoted = f'"{self._schema}"."{self._table}"'

    def __repr__(self) -> str:
        return f"PgVectorStore({self.url!r}, table={self._schema}.{self._table})"

    @classmethod
    async def open(cls, url: str, **options: Any) -> PgVectorStore:
        psycopg = require("psycopg", extra="postgres", purpose="postgres+pgvector:// vector stores")
        pool_mod = require(
            "psycopg_pool", extra="postgres", purpose="postgres+pgvector:// vector stores"
        )
        parsed = parse_storage_url(url)
        opts = take_options(url, parsed.query, options, (*_GECKO_OPTIONS, *_LIBPQ))
        settings: dict[str, Any] = {
            "table": _identifier(opts.get("table", DEFAULT_TABLE), "table"),
            "schema": _identifier(opts.get("schema", "public"), "schema"),
            "ef_search": check_int("ef_search", _int(opts.get("ef_search", 40)), minimum=1),
            "m": check_int("m", _int(opts.get("m", 16)), minimum=2),
            "ef_construction": check_int(
                "ef_construction", _int(opts.get("ef_construction", 64)), minimum=4
            ),
        }
        pool_size = check_int("pool_size", _int(opts.get("pool_size", 10)), minimum=1)
        libpq = {k: str(v) for k, v in opts.items() if k in _LIBPQ}
        libpq.setdefault("connect_timeout", "10")
        libpq.setdefault("application_name", "gecko")
        password: Any = opts.get("password", parsed.password)
        secret = password.get_secret_value() if hasattr(password, "get_secret_value") else password
        conninfo = _conninfo(url, parsed.username, libpq)
        where = f"{parsed.host or libpq.get('host') or 'localhost'}/{parsed.path.strip('/')}"
        kwargs: dict[str, Any] = {"autocommit": True}
        if secret is not None:
            kwargs["password"] = str(secret)
        try:
            conn = await psycopg.AsyncConnection.connect(conninfo, **kwargs)
        except psycopg.Error as exc:
            text = str(exc).replace(str(secret), "***") if secret else str(exc)
            raise StorageConnectionError(
                f"cannot connect to Postgres at {where} for {redact_url(url)!r}: {text}",
                hint="check the server, user and password in the URL",
                where=where,
            ) from None
        try:
            version = await _ensure_extension(conn, where)
        finally:
            await conn.close()
        iterative = version >= (0, 8)
        ef_search = settings["ef_search"]

        async def configure(c: Any) -> None:
            await c.execute(f"SET hnsw.ef_search = {int(ef_search)}")
            if iterative:
                await c.execute("SET hnsw.iterative_scan = strict_order")

        pool = pool_mod.AsyncConnectionPool(
            conninfo, kwargs=kwargs, min_size=1, max_size=pool_size, open=False, configure=configure
        )
        await pool.open(wait=False)
        store = cls(pool, url=url, options=settings, iterative=iterative)
        try:
            await store._load_dimension()
        except BaseException:
            await pool.close()
            raise
        return store

    # --- table ---------------------------------------------------------------------------

    async def _load_dimension(self) -> int | None:
        async def read(conn: Any) -> dict[str, int]:
            cursor = await conn.execute(
                "SELECT a.attname, a.atttypmod FROM pg_attribute AS a "
                "WHERE a.attrelid = to_regclass(format('%%I.%%I', %s::text, %s::text)) "
                "AND a.attnum > 0 AND NOT a.attisdropped",
                (self._schema, self._table),
            )
            return dict(await cursor.fetchall())

        columns = await self._run("open", read)
        if not columns:
            return None
        if set(columns) != _COLUMNS:
            raise VectorStoreError(
                f"table {self._schema}.{self._table} was not written by gecko "
                f"(columns {sorted(columns)})",
                hint="use another table (?table=...) for gecko's vectors",
            )
        self.dimension = int(columns["embedding"])
        return self.dimension

    async def _create_table(self, dimension: int) -> None:
        sql = self._sql
        index = sql.Identifier(f"{self._table}_hnsw")
        gin = sql.Identifier(f"{self._table}_metadata")

        async def create(conn: Any) -> None:
            async with conn.transaction():
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{self._schema}.{self._table}",)
                )
                await conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self._schema))
                )
                await conn.execute(
                    sql.SQL(
                        'CREATE TABLE IF NOT EXISTS {} (id text COLLATE "C" PRIMARY KEY, '
                        "embedding vector({}) NOT NULL, text text NOT NULL, "
                        "metadata jsonb NOT NULL, metadata_json text NOT NULL)"
                    ).format(self._name, sql.Literal(dimension))
                )
                await conn.execute(
                    sql.SQL(
                        "CREATE INDEX IF NOT EXISTS {} ON {} USING hnsw (embedding vector_cosine_ops) "
                        "WITH (m = {}, ef_construction = {})"
                    ).format(
                        index, self._name, sql.Literal(self._m), sql.Literal(self._ef_construction)
                    )
                )
                await conn.execute(
                    sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING gin (metadata)").format(
                        gin, self._name
                    )
                )

        await self._run("create table", create)

    async def _known_dimension(self) -> int | None:
        """The table's dimension, checking again if it did not exist (another writer may have made it)."""
        if self.dimension is None:
            await self._load_dimension()
        return self.dimension

    async def _run(self, action: str, operation: Callable[[Any], Awaitable[T]]) -> T:
        """``await operation(conn)`` on a pooled connection; psycopg's errors become
        VectorStoreError naming ``action``.

        Every operation of this store is idempotent (upserts, deletes, reads; each write
        one transaction), so one that failed on a broken connection (a server restart
        leaves every idle connection dead) is retried on a fresh one, a few times with
        backoff.
        """
        delay = _FIRST_DELAY
        for attempt in range(1, _ATTEMPTS + 1):
            with backend_errors("pgvector", action):
                conn = await self._pool.getconn()  # cheaper than pool.connection()'s context
                try:
                    return await operation(conn)
                except self._psycopg.OperationalError as exc:
                    if attempt == _ATTEMPTS or isinstance(exc, self._psycopg.errors.QueryCanceled):
                        raise
                    logger.warning("pgvector %s: %s; retrying", action, type(exc).__name__)
                finally:
                    await self._pool.putconn(conn)  # a broken connection is discarded
                await self._pool.check()  # replace the other dead idle connections at once
            await asyncio.sleep(delay)
            delay *= 4
        raise AssertionError("unreachable")  # pragma: no cover

    def _query(self, text: str) -> str:
        """``text`` with ``{t}`` replaced by the quoted table name.

        Plain string formatting, cached by psycopg like any query string (composing
        ``psycopg.sql`` objects costs more than a fast search): the schema and table
        names are validated identifiers (ASCII letters, digits, underscores), so
        double-quoting them is exact quoting.
        """
        return text.replace("{t}", self._quoted)

    # --- VectorStore -----------------------------------------------------------------

    async def upsert(self, records: Sequence[VectorRecord]) -> None:
        self._ensure_open()
        records = list(records)
        if not records:
            return
        batch = prepare_batch(records, await self._known_dimension(), matrix=False)
        rows = []
        for record_id, embedding, text, metadata in zip(
            batch.ids, batch.embeddings, batch.texts, batch.metadatas
        ):
            encoded = json.dumps(metadata, ensure_ascii=False, allow_nan=False)
            if "\x00" in record_id or "\x00" in text or "\\u0000" in encoded:
                raise VectorStoreError(
                    f"vector record {record_id!r} contains the character U+0000, which "
                    "Postgres cannot store",
                    hint="remove NUL characters from ids, texts and metadata",
                    id=record_id,
                )
            rows.append((record_id, vector_text(embedding), text, encoded))
        if self.dimension is None:
            async with self._create_lock:
                if await self._load_dimension() is None:
                    await self._create_table(batch.dimension)
                    await self._load_dimension()
            if self.dimension != batch.dimension:
                prepare_batch(records, self.dimension, matrix=False)  # raises, naming the record
        statement = self._query(
            "INSERT INTO {t} (id, embedding, text, metadata, metadata_json) "
            "SELECT i, e::vector, x, m::jsonb, m "
            "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) AS u(i, e, x, m) "
            "ON CONFLICT (id) DO UPDATE SET embedding = excluded.embedding, text = excluded.text, "
            "metadata = excluded.metadata, metadata_json = excluded.metadata_json"
        )

        async def write(conn: Any) -> None:
            async with conn.transaction():
                for part in chunked(rows, _CHUNK):
                    columns = [list(column) for column in zip(*part)]
                    await conn.execute(statement, columns)

        await self._run("upsert", write)

    async def search(
        self,
        embedding: Sequence[float],
        *,
        top_k: int = 4,
        filter: Mapping[str, Any] | None = None,
    ) -> list[VectorMatch]:
        self._ensure_open()
        dimension = await self._known_dimension()
        check_query(embedding, dimension, top_k)
        where, params = to_sql(parse_filter(filter))
        vector = query_text(embedding)
        if dimension is None:
            return []
        statement = self._query(
            "SELECT id, text, metadata_json, embedding <=> %s::vector AS distance FROM {t} "  # noqa: S608 - placeholders
            f"WHERE {where} ORDER BY distance LIMIT %s"
        )
        args = [vector, *params, top_k]

        async def query(conn: Any) -> list[Any]:
            if top_k <= self._ef_search:
                rows = await (await conn.execute(statement, args)).fetchall()
            else:
                async with conn.transaction():  # the index scan returns at most ef_search rows
                    ef = str(min(top_k, _MAX_EF))
                    await conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (ef,))
                    rows = await (await conn.execute(statement, args)).fetchall()
            if len(rows) < top_k and (where != "TRUE" or top_k > _MAX_EF):
                # Short: fewer rows match, or the index scan dropped matches (a selective
                # filter). Counting up to top_k matches tells which; only then scan exactly.
                counted = self._query(
                    f"SELECT count(*) FROM (SELECT 1 FROM {{t}} WHERE {where} LIMIT %s) AS m"  # noqa: S608
                )
                row = await (await conn.execute(counted, [*params, top_k])).fetchone()
                if row is not None and int(row[0]) > len(rows):
                    async with conn.transaction():
                        await conn.execute("SET LOCAL enable_indexscan = off")
                        rows = await (await conn.execute(statement, args)).fetchall()
            return list(rows)

        rows = await self._run("search", query)
        return [
            VectorMatch(id=i, score=1.0 - float(d), text=t, metadata=json.loads(m))
            for i, t, m, d in rows
        ]

    async def get(self, ids: Sequence[str]) -> list[VectorRecord]:
        self._ensure_open()
        wanted = check_ids(ids) or []
        if not wanted or await self._known_dimension() is None:
            return []
        statement = self._query(
            "SELECT id, embedding::text, text, metadata_json FROM {t} WHERE id = ANY(%s)"
        )

        async def fetch(conn: Any) -> list[Any]:
            return list(
                await (await conn.execute(statement, (list(dict.fromkeys(wanted)),))).fetchall()
            )

        rows = await self._run("get", fetch)
        found = {
            i: VectorRecord(id=i, embedding=json.loads(e), text=t, metadata=json.loads(m))
            for i, e, t, m in rows
        }
        return [found[i] for i in dict.fromkeys(wanted) if i in found]

    async def delete(
        self, ids: Sequence[str] | None = None, *, filter: Mapping[str, Any] | None = None
    ) -> int:
        self._ensure_open()
        wanted = check_delete(ids, filter)
        where, params = to_sql(parse_filter(filter))
        if (wanted is not None and not wanted) or await self._known_dimension() is None:
            return 0
        if wanted is not None:
            where, params = f"id = ANY(%s) AND {where}", [wanted, *params]
        statement = self._query(f"DELETE FROM {{t}} WHERE {where}")  # noqa: S608 - placeholders

        async def remove(conn: Any) -> int:
            return int((await conn.execute(statement, params)).rowcount)

        return await self._run("delete", remove)

    async def count(self, filter: Mapping[str, Any] | None = None) -> int:
        self._ensure_open()
        where, params = to_sql(parse_filter(filter))
        if await self._known_dimension() is None:
            return 0
        statement = self._query(f"SELECT count(*) FROM {{t}} WHERE {where}")  # noqa: S608

        async def tally(conn: Any) -> int:
            row = await (await conn.execute(statement, params)).fetchone()
            return int(row[0])

        return await self._run("count", tally)

    async def _close(self) -> None:
        await self._pool.close()


async def _ensure_extension(conn: Any, where: str) -> tuple[int, ...]:
    """The installed pgvector version, installing the extension if it is missing."""
    row = await (
        await conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    ).fetchone()
    if row is None:
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except Exception as exc:  # psycopg's errors: not installed, or no privilege
            raise VectorStoreError(
                f"the pgvector extension is not available in the database at {where}: {exc}",
                hint="install pgvector on the server and run CREATE EXTENSION vector as an owner",
            ) from None
        row = await (
            await conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        ).fetchone()
    version = tuple(int(part) for part in str(row[0]).split(".") if part.isdigit())
    logger.debug("pgvector %s at %s", row[0], where)
    return version


def _conninfo(url: str, username: str | None, libpq: dict[str, str]) -> str:
    from urllib.parse import quote, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    user = quote(username, safe="") + "@" if username else ""
    return urlunsplit(("postgresql", user + host, parts.path, urlencode(libpq), ""))


def _int(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value
