"""``PostgresStore``: Gecko's SessionStore, CheckpointStore and RunEventLog on PostgreSQL.

    async with await create_storage("postgresql://app:secret@db:5432/app") as store:
        await store.set("session:42", {"messages": []}, ttl=3600)
        seq = await store.append_checkpoint("run-1", {"step": "fetch"})

psycopg 3's ``AsyncConnectionPool`` in autocommit mode: each operation is one
statement (or one short transaction), acknowledged only once committed. Documents
are JSONB; TTLs and leases use the server's clock.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

from gecko.core import serialization
from gecko.core.errors import ConfigurationError, StorageError
from gecko.core.protocols import Checkpoint
from gecko.core.storage.base import BaseStore, check_key, check_ttl
from gecko.core.validation import check_int, check_str
from gecko.storage.postgres import schema
from gecko.storage.postgres.config import PostgresConfig
from gecko.storage.postgres.connection import Conn, Retrier, connect, make_pool, redact
from gecko.storage.postgres.events import PostgresEventLog
from gecko.storage.postgres.leases import PostgresLeases
from gecko.storage.postgres.queries import Queries, like_prefix

log = logging.getLogger(__name__)

SWEEP_INTERVAL = 60.0
"""Seconds between sweeps of expired documents (reads never return them anyway)."""
_NUL = "\\u0000"
# JSONB keeps numbers as numeric: a float written with an exponent (1e+16) comes back as an
# integer and -0.0 as 0.0. Such documents (and ones holding U+0000) keep their exact text.
_INEXACT = re.compile(r"[0-9]e[+-]?[0-9]|-0\.0(?![0-9])")


class PostgresStore(PostgresLeases, PostgresEventLog, BaseStore):
    """Session documents, workflow checkpoints and run leases in one Postgres schema.

    Safe for many concurrent tasks and many processes sharing a database. Open it with
    ``await create_storage("postgresql://...")`` or ``await PostgresStore.open(url)``.
    """

    supports_ttl = True

    def __init__(self, config: PostgresConfig, pool: Any, queries: Queries) -> None:
        self._config = config
        self._pool = pool
        self._q = queries
        self._retrier = Retrier(config, pool)
        self._next_sweep = time.monotonic() + SWEEP_INTERVAL

    @classmethod
    async def open(cls, url: str, **options: Any) -> PostgresStore:
        """Connect, create or check the schema, and open the connection pool."""
        config = PostgresConfig.from_url(url, **options)
        conn = await connect(config)
        try:
            await schema.initialize(conn, config.schema, config.where)
            queries = Queries.for_schema(config.schema, conn)
        except psycopg.Error as exc:
            raise StorageError(
                f"cannot set up Gecko's tables in schema {config.schema!r} at {config.where}: "
                f"{redact(config, str(exc))}",
                hint="the user needs CREATE on the schema (or on the database to create it); "
                "or choose another schema with ?schema=...",
                where=config.where,
                schema=config.schema,
            ) from None
        finally:
            await conn.close()
        pool = make_pool(config, _configure)
        await pool.open(wait=False)
        log.debug("opened postgres store %s schema %s", config.where, config.schema)
        return cls(config, pool, queries)

    @property
    def config(self) -> PostgresConfig:
        return self._config

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<PostgresStore {self._config.url!r} schema={self._config.schema!r}{state}>"

    async def _close(self) -> None:
        await self._close_listener()
        await self._pool.close()

    async def _run(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] = (), *, rows: bool = True
    ) -> list[tuple[Any, ...]]:
        """Run one statement (retried on a broken connection); its rows if ``rows``."""

        async def operation(conn: Conn) -> list[tuple[Any, ...]]:
            cursor = await conn.execute(query, params)
            # (``cursor.description`` would say whether there are rows, at ~30 us a call.)
            return await cursor.fetchall() if rows else []

        return await self._retrier.run(operation)

    # --- SessionStore -----------------------------------------------------------------

    async def get(self, key: str) -> Any:
        self._ensure_open()
        rows = await self._run(self._q.get, (_key(key),))
        return _document(key, *rows[0]) if rows else None

    async def set(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        self._ensure_open()
        value_text, raw = _encode(value, _key(key))
        await self._run(self._q.set, (key, value_text, raw, check_ttl(ttl)), rows=False)
        await self._maybe_sweep()

    async def delete(self, key: str) -> bool:
        self._ensure_open()
        rows = await self._run(self._q.delete, ([_key(key)],))
        return bool(rows[0][0])

    async def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        self._ensure_open()
        unique = list(dict.fromkeys(_key(k) for k in keys))
        if not unique:
            return {}
        rows = await self._run(self._q.get_many, (unique,))
        found = {key: _document(key, value, raw) for key, value, raw in rows}
        return {key: found[key] for key in unique if key in found}

    async def set_many(self, items: Mapping[str, Any], *, ttl: float | None = None) -> None:
        self._ensure_open()
        ttl = check_ttl(ttl)
        # Everything is encoded before anything is written: one bad value writes nothing.
        keys, values, raws = [], [], []
        for key, value in items.items():
            value_text, raw = _encode(value, _key(key))
            keys.append(key)
            values.append(value_text)
            raws.append(raw)
        if keys:
            await self._run(self._q.set_many, (ttl, keys, values, raws), rows=False)
            await self._maybe_sweep()

    async def delete_many(self, keys: Sequence[str]) -> int:
        self._ensure_open()
        unique = list(dict.fromkeys(_key(k) for k in keys))
        if not unique:
            return 0
        rows = await self._run(self._q.delete, (unique,))
        return int(rows[0][0])

    async def keys(self, prefix: str = "") -> list[str]:
        self._ensure_open()
        pattern = like_prefix(_nul_free("prefix", check_str("prefix", prefix, non_empty=False)))
        return [key for (key,) in await self._run(self._q.keys, (pattern,))]

    async def sweep_expired(self) -> int:
        """Delete expired documents now; return how many were removed."""
        self._ensure_open()

        async def operation(conn: Conn) -> int:
            cursor = await conn.execute(self._q.sweep)
            return int(cursor.rowcount)

        return await self._retrier.run(operation)

    async def _maybe_sweep(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_INTERVAL
            removed = await self.sweep_expired()
            log.debug("swept %d expired documents", removed)

    # --- CheckpointStore ------------------------------------------------------------------

    async def append_checkpoint(self, run_id: str, data: dict[str, Any]) -> int:
        self._ensure_open()
        value_text, raw = _encode(data, f"checkpoint:{_key(run_id)}")
        rows = await self._run(self._q.append, (run_id, run_id, value_text, raw))
        return int(rows[0][0])

    async def get_checkpoint(self, run_id: str, seq: int | None = None) -> Checkpoint | None:
        self._ensure_open()
        check_int("seq", seq, allow_none=True)
        if seq is None:
            rows = await self._run(self._q.latest, (_key(run_id),))
        else:
            rows = await self._run(self._q.by_seq, (_key(run_id), seq))
        return _checkpoint(run_id, rows[0]) if rows else None

    async def list_checkpoints(
        self, run_id: str, *, after_seq: int | None = None, limit: int | None = None
    ) -> list[Checkpoint]:
        self._ensure_open()
        check_int("after_seq", after_seq, allow_none=True)
        check_int("limit", limit, minimum=0, allow_none=True)
        after = after_seq if after_seq is not None else -(2**63)
        rows = await self._run(self._q.history, (_key(run_id), after, limit))
        return [_checkpoint(run_id, row) for row in rows]

    async def compact_checkpoints(
        self, run_id: str, through_seq: int, data: dict[str, Any] | None = None
    ) -> int:
        self._ensure_open()
        check_int("through_seq", through_seq)
        encoded = _encode(data, f"checkpoint:{_key(run_id)}") if data is not None else None
        q = self._q

        async def operation(conn: Conn) -> int:
            async with conn.transaction():
                cursor = await conn.execute(q.drop_through, (run_id, through_seq))
                removed = int(cursor.rowcount)
                if encoded is not None:
                    await conn.execute(q.put_at, (run_id, through_seq, *encoded))
                    # Later appends come after the snapshot, even one placed beyond the last seq.
                    await conn.execute(q.raise_seq, (run_id, through_seq))
            return removed

        return await self._retrier.run(operation)

    async def delete_checkpoints(self, run_id: str) -> int:
        self._ensure_open()
        run_id = _key(run_id)
        q = self._q

        async def operation(conn: Conn) -> int:
            async with conn.transaction():
                cursor = await conn.execute(q.drop_run, (run_id,))
                await conn.execute(q.drop_counter, (run_id,))
            return int(cursor.rowcount)

        return await self._retrier.run(operation)

    async def list_runs(self, prefix: str = "") -> list[str]:
        self._ensure_open()
        pattern = like_prefix(_nul_free("prefix", check_str("prefix", prefix, non_empty=False)))
        return [run_id for (run_id,) in await self._run(self._q.runs, (pattern,))]


async def _configure(conn: Conn) -> None:
    """Pooled connections run in autocommit mode (set at connect); nothing else to set."""
    return None


def _nul_free(what: str, text: str) -> str:
    if "\x00" in text:
        raise ConfigurationError(
            f"{what} {text!r} contains the character U+0000, which Postgres cannot store",
            hint="remove the NUL character",
        )
    return text


def _key(key: object) -> str:
    return _nul_free("store key", check_key(key))


def _encode(value: Any, key: str) -> tuple[str | None, str | None]:
    """``(jsonb text, None)``, or ``(None, exact JSON text)`` when JSONB would change it."""
    text = serialization.dumps(value, key=key)
    if _NUL in text or _INEXACT.search(text):
        return None, text
    return text, None


def _document(key: str, value: Any, raw: str | None) -> Any:
    return serialization.loads(raw, key=key) if raw is not None else value


def _checkpoint(run_id: str, row: tuple[Any, ...]) -> Checkpoint:
    seq, value, raw, created_at = row
    return Checkpoint(
        run_id=run_id,
        seq=int(seq),
        data=_document(f"checkpoint:{run_id}", value, raw),
        created_at=float(created_at),
    )
