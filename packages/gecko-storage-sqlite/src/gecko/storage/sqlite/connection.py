"""Opening a sqlite3 connection the way every Gecko worker needs it (runs in the worker thread)."""

from __future__ import annotations

import os
import sqlite3

from gecko.core.errors import StorageError
from gecko.storage.sqlite.config import SQLiteConfig

MIN_SQLITE = (3, 24, 0)
"""UPSERT (``INSERT ... ON CONFLICT DO UPDATE``) arrived in SQLite 3.24."""

TUNING = (
    "PRAGMA cache_size = -16000",  # up to 16 MB of pages per connection (default 2 MB)
    "PRAGMA wal_autocheckpoint = 4000",  # checkpoint every ~16 MB of WAL, not every 4 MB
    "PRAGMA journal_size_limit = 67108864",  # but truncate a WAL left over 64 MB afterwards
)
"""Per-connection settings for file databases. Measured on 2 KB documents: a 4x larger
checkpoint interval almost doubles insert throughput (fewer fsyncs, pages copied once),
a larger cache almost doubles point reads. ``benchmarks/storage_bench.py`` gives its raw
sqlite3 baseline the same settings."""


def connect(config: SQLiteConfig, *, writer: bool) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), set up per ``config``.

    The writer creates missing parent directories and sets the journal mode;
    readers are opened after the writer initialised the file, and are query-only.
    """
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise StorageError(
            f"SQLite {sqlite3.sqlite_version} is too old; gecko-storage-sqlite needs "
            f"{'.'.join(map(str, MIN_SQLITE))} or newer",
            hint="use a Python build linked against a newer SQLite",
        )
    if config.memory:
        return sqlite3.connect(":memory:", isolation_level=None)
    if writer:
        parent = os.path.dirname(config.path)
        if parent:
            os.makedirs(parent, exist_ok=True)
    conn = sqlite3.connect(
        config.path, timeout=config.timeout, isolation_level=None, cached_statements=256
    )
    try:
        if writer:
            # Values come from allow-lists in SQLiteConfig; PRAGMA takes no parameters.
            conn.execute(f"PRAGMA journal_mode = {config.journal_mode}")
        conn.execute(f"PRAGMA synchronous = {config.synchronous}")
        for pragma in TUNING:
            conn.execute(pragma)
        if not writer:
            conn.execute("PRAGMA query_only = 1")
        if config.journal_mode == "wal":
            # In WAL mode only BEGIN IMMEDIATE, single write statements and (rarely)
            # reads meet a busy database; the worker retries those itself with short
            # sleeps (see Worker._retry_busy). Other modes may need the lock in the
            # middle of a transaction, so they keep SQLite's busy handler as well.
            conn.execute("PRAGMA busy_timeout = 0")
    except BaseException:
        conn.close()
        raise
    return conn
