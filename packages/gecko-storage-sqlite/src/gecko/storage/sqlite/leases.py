"""Run leases on SQLite: one row per leased run, taken and checked in one write transaction.

A lease is a row ``(run_id, holder, expires_at)`` in ``gecko_leases``. Taking it is one
conditional upsert inside the writer's ``BEGIN IMMEDIATE`` transaction: the row is
written only if it is absent, expired or already ``holder``'s, so of several
processes sharing the file exactly one gets it. Expiry is wall-clock time
(``time.time()``), read inside the transaction; processes sharing a file share a clock.
The table is created with the others (``schema``); a database opened by an older
gecko-storage-sqlite simply gains it.
"""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING

from gecko.core.protocols import Lease
from gecko.core.storage.base import check_key
from gecko.core.validation import check_number, check_str

if TYPE_CHECKING:
    from gecko.storage.sqlite.worker import Worker

LeaseRow = tuple[str, float]

_TAKE = (
    "INSERT INTO gecko_leases (run_id, holder, expires_at) VALUES (?, ?, ?) "
    "ON CONFLICT (run_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
    "WHERE gecko_leases.holder = excluded.holder OR gecko_leases.expires_at <= ?"
)


def acquire(conn: sqlite3.Connection, run_id: str, holder: str, ttl: float) -> LeaseRow:
    now = time.time()
    conn.execute(_TAKE, (run_id, holder, now + ttl, now))
    row = conn.execute(
        "SELECT holder, expires_at FROM gecko_leases WHERE run_id = ?", (run_id,)
    ).fetchone()
    return str(row[0]), float(row[1])


def renew(conn: sqlite3.Connection, run_id: str, holder: str, ttl: float) -> bool:
    now = time.time()
    cursor = conn.execute(
        "UPDATE gecko_leases SET expires_at = ? WHERE run_id = ? AND holder = ? AND expires_at > ?",
        (now + ttl, run_id, holder, now),
    )
    return cursor.rowcount == 1


def release(conn: sqlite3.Connection, run_id: str, holder: str) -> bool:
    cursor = conn.execute(
        "DELETE FROM gecko_leases WHERE run_id = ? AND holder = ? AND expires_at > ?",
        (run_id, holder, time.time()),
    )
    conn.execute(  # a lapsed lease of this holder is dropped too, but reported as lost
        "DELETE FROM gecko_leases WHERE run_id = ? AND holder = ?", (run_id, holder)
    )
    return cursor.rowcount == 1


def current(conn: sqlite3.Connection, run_id: str) -> LeaseRow | None:
    row = conn.execute(
        "SELECT holder, expires_at FROM gecko_leases WHERE run_id = ? AND expires_at > ?",
        (run_id, time.time()),
    ).fetchone()
    return None if row is None else (str(row[0]), float(row[1]))


class SQLiteLeases:
    """The lease half of ``CheckpointStore`` for ``SQLiteStore`` (which provides the workers)."""

    _writer: Worker
    _reader: Worker

    if TYPE_CHECKING:

        def _ensure_open(self) -> None: ...  # provided by BaseStore

    async def acquire_lease(self, run_id: str, holder: str, ttl: float) -> Lease:
        self._ensure_open()
        args = _checked(run_id, holder, ttl)
        held_by, expires_at = await self._writer.run(acquire, *args, write=True)
        return Lease(run_id=run_id, holder=held_by, expires_at=expires_at)

    async def renew_lease(self, run_id: str, holder: str, ttl: float) -> bool:
        self._ensure_open()
        return bool(await self._writer.run(renew, *_checked(run_id, holder, ttl), write=True))

    async def release_lease(self, run_id: str, holder: str) -> bool:
        self._ensure_open()
        return bool(await self._writer.run(release, check_key(run_id), holder, write=True))

    async def get_lease(self, run_id: str) -> Lease | None:
        self._ensure_open()
        row = await self._reader.run(current, check_key(run_id), write=False)
        return None if row is None else Lease(run_id=run_id, holder=row[0], expires_at=row[1])


def _checked(run_id: str, holder: str, ttl: float) -> tuple[str, str, float]:
    return (
        check_key(run_id),
        check_str("lease holder", holder, non_blank=True),
        check_number("lease ttl", ttl, above=0, unit="seconds"),
    )
