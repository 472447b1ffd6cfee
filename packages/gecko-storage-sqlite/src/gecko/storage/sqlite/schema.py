"""The database schema: tables defined with sqlmodel, DDL generated from them, versioned.

The tables live in their own SQLAlchemy registry, so they never collide with a
user's own SQLModel tables. The hot path does not go through the ORM (see
``queries``); these models define the schema, and are usable for ad-hoc
inspection with a SQLModel ``Session``.
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache
from typing import Optional

from sqlalchemy import Index, text
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.orm import registry
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import Field, SQLModel

from gecko.core.errors import SchemaVersionError

SCHEMA_VERSION = 1
"""Bump when the layout changes, and add the migration from the previous version to ``initialize``."""

VERSION_KEY = "schema_version"


class GeckoTable(SQLModel, registry=registry()):
    """Base of Gecko's tables, with a private metadata."""


class MetaRow(GeckoTable, table=True):
    """Facts about the database itself (the schema version)."""

    __tablename__ = "gecko_meta"

    key: str = Field(primary_key=True)
    value: str


class KVRow(GeckoTable, table=True):
    """A session document: JSON text, optionally expiring at a wall-clock time."""

    __tablename__ = "gecko_kv"
    # Only expiring rows are indexed: writes of documents without a TTL skip the index.
    __table_args__ = (
        Index("ix_gecko_kv_expires_at", "expires_at", sqlite_where=text("expires_at IS NOT NULL")),
    )

    key: str = Field(primary_key=True)
    value: str
    expires_at: Optional[float] = None  # noqa: UP045 - sqlmodel evaluates the annotation


class RunRow(GeckoTable, table=True):
    """Per-run sequence counter, so a seq is never reused after compaction."""

    __tablename__ = "gecko_runs"

    run_id: str = Field(primary_key=True)
    last_seq: int


class CheckpointRow(GeckoTable, table=True):
    """One checkpoint of a run: JSON text, in append order by ``seq``."""

    __tablename__ = "gecko_checkpoints"

    run_id: str = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    data: str
    created_at: float


class LeaseRow(GeckoTable, table=True):
    """Which worker owns a run, until when (wall-clock seconds); see ``leases``."""

    __tablename__ = "gecko_leases"

    run_id: str = Field(primary_key=True)
    holder: str
    expires_at: float


class EventRow(GeckoTable, table=True):
    """One event of a run's bounded event log (see ``events``), clustered by ``(run_id, seq)``.

    Added without a schema-version bump, like ``gecko_leases``: it is a new table
    that older versions ignore, and a database opened by this version gains it.
    """

    __tablename__ = "gecko_events"
    # WITHOUT ROWID: the primary key is the table's only index, so a run's events are
    # stored together in seq order (reads are one range scan, trims one range delete).
    __table_args__ = {"sqlite_with_rowid": False}

    run_id: str = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    data: str
    created_at: float


@lru_cache(maxsize=1)
def ddl() -> tuple[str, ...]:
    """``CREATE TABLE/INDEX IF NOT EXISTS`` statements for every table, compiled for SQLite."""
    dialect = sqlite_dialect.dialect()  # type: ignore[no-untyped-call]
    statements: list[str] = []
    for table in GeckoTable.metadata.sorted_tables:
        statements.append(str(CreateTable(table, if_not_exists=True).compile(dialect=dialect)))
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            statements.append(str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect)))
    return tuple(statements)


def initialize(conn: sqlite3.Connection, where: str) -> int:
    """Create missing tables and record the schema version; runs inside a write transaction.

    A database written by a newer schema is refused before anything is changed.
    Returns the schema version the database is at.
    """
    found = stored_version(conn)
    if found is not None and found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{where} uses Gecko storage schema version {found}, but this gecko-storage-sqlite "
            f"supports up to version {SCHEMA_VERSION}",
            hint="upgrade gecko-storage-sqlite (pip install -U gecko-storage-sqlite), "
            "or open a different file",
            found=found,
            supported=SCHEMA_VERSION,
        )
    for statement in ddl():
        conn.execute(statement)
    if found is None:
        conn.execute(
            'INSERT INTO gecko_meta ("key", value) VALUES (?, ?)',
            (VERSION_KEY, str(SCHEMA_VERSION)),
        )
    return SCHEMA_VERSION


def stored_version(conn: sqlite3.Connection) -> int | None:
    """The schema version recorded in the database, or None for a database without one."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gecko_meta'"
    ).fetchone()
    if exists is None:
        return None
    row = conn.execute('SELECT value FROM gecko_meta WHERE "key" = ?', (VERSION_KEY,)).fetchone()
    if row is None:
        return None
    try:
        return int(row[0])
    except (TypeError, ValueError):
        raise SchemaVersionError(
            f"unreadable schema version {row[0]!r} in gecko_meta",
            hint="the file was modified by hand",
        ) from None
