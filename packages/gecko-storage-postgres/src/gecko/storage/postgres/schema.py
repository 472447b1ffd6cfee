"""Gecko's tables in one Postgres schema, created and migrated by version.

``gecko_meta`` records the schema version. Opening a store takes a transaction-level
advisory lock, so concurrent first opens create the tables once; a database written
by a newer gecko-storage-postgres is refused before anything is changed.

Documents are JSONB (``value`` / ``data``); events are their exact JSON text. A document JSONB would change is kept
as its exact JSON text in ``raw`` (with ``value`` NULL) instead: one holding the
character U+0000 (Postgres cannot store it in JSONB or text), or a float JSONB would
turn into an integer (``1e+16``) or lose the sign of (``-0.0``). Reads return the
document unchanged either way.
Keys use the ``C`` collation: listings sort by code point and prefix scans use the
primary-key index.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from gecko.core.errors import SchemaVersionError

SCHEMA_VERSION = 2
"""Bump when the layout changes, and add the migration from the previous version to ``MIGRATIONS``.

Version 1: sessions, checkpoints, leases. Version 2: the run event log.
"""

_LOCK_ID = 0x6765636B6F  # "gecko": the advisory lock serialising schema creation

_EVENTS = (
    'CREATE TABLE IF NOT EXISTS {s}.gecko_event_runs (run_id text COLLATE "C" PRIMARY KEY, '
    "last_seq bigint NOT NULL)",
    'CREATE TABLE IF NOT EXISTS {s}.gecko_events (run_id text COLLATE "C" NOT NULL, '
    "seq bigint NOT NULL, data text NOT NULL, created_at double precision NOT NULL, "
    "PRIMARY KEY (run_id, seq))",
)

_CREATE = (
    "CREATE TABLE IF NOT EXISTS {s}.gecko_meta (key text PRIMARY KEY, value text NOT NULL)",
    'CREATE TABLE IF NOT EXISTS {s}.gecko_kv (key text COLLATE "C" PRIMARY KEY, '
    "value jsonb, raw text, expires_at double precision)",
    "CREATE INDEX IF NOT EXISTS gecko_kv_expires_at ON {s}.gecko_kv (expires_at) "
    "WHERE expires_at IS NOT NULL",
    'CREATE TABLE IF NOT EXISTS {s}.gecko_runs (run_id text COLLATE "C" PRIMARY KEY, '
    "last_seq bigint NOT NULL)",
    'CREATE TABLE IF NOT EXISTS {s}.gecko_checkpoints (run_id text COLLATE "C" NOT NULL, '
    "seq bigint NOT NULL, data jsonb, raw text, created_at double precision NOT NULL, "
    "PRIMARY KEY (run_id, seq))",
    'CREATE TABLE IF NOT EXISTS {s}.gecko_leases (run_id text COLLATE "C" PRIMARY KEY, '
    "holder text NOT NULL, expires_at double precision NOT NULL)",
    *_EVENTS,
)

MIGRATIONS: dict[int, tuple[str, ...]] = {2: _EVENTS}
"""``MIGRATIONS[n]``: the statements that take a version ``n - 1`` schema to version ``n``."""


def statements(schema: str) -> list[sql.Composed]:
    ident = sql.Identifier(schema)
    return [sql.SQL(text).format(s=ident) for text in _CREATE]  # type: ignore[arg-type]


async def initialize(conn: psycopg.AsyncConnection[Any], schema: str, where: str) -> int:
    """Create or migrate the tables in ``schema``; return the version the database is at."""
    ident = sql.Identifier(schema)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
        cursor = await conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
        if await cursor.fetchone() is None:  # (IF NOT EXISTS alone needs CREATE on the database)
            await conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
        found = await stored_version(conn, schema)
        if found is not None and found > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{where} schema {schema!r} uses Gecko storage schema version {found}, but this "
                f"gecko-storage-postgres supports up to version {SCHEMA_VERSION}",
                hint="upgrade gecko-storage-postgres (pip install -U gecko-storage-postgres), "
                "or use another schema (?schema=...)",
                found=found,
                supported=SCHEMA_VERSION,
            )
        if found is None:
            for statement in statements(schema):
                await conn.execute(statement)
        else:
            for version in range(found + 1, SCHEMA_VERSION + 1):
                for text in MIGRATIONS.get(version, ()):
                    await conn.execute(sql.SQL(text).format(s=ident))  # type: ignore[arg-type]
        if found == SCHEMA_VERSION:
            return SCHEMA_VERSION
        await conn.execute(
            sql.SQL(
                "INSERT INTO {}.gecko_meta (key, value) VALUES ('schema_version', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ).format(ident),
            (str(SCHEMA_VERSION),),
        )
    return SCHEMA_VERSION


async def stored_version(conn: psycopg.AsyncConnection[Any], schema: str) -> int | None:
    """The version recorded in ``schema``, or None when it has no Gecko tables yet."""
    cursor = await conn.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
        "AND table_name = 'gecko_meta'",
        (schema,),
    )
    if await cursor.fetchone() is None:
        return None
    cursor = await conn.execute(
        sql.SQL("SELECT value FROM {}.gecko_meta WHERE key = 'schema_version'").format(
            sql.Identifier(schema)
        )
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    try:
        return int(row[0])
    except (TypeError, ValueError):
        raise SchemaVersionError(
            f"unreadable schema version {row[0]!r} in {schema}.gecko_meta",
            hint="the table was modified by hand",
        ) from None
