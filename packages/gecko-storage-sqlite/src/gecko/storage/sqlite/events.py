"""Run event logs on SQLite: rows ``(run_id, seq, data, created_at)`` in ``gecko_events``.

An append runs in the writer's ``BEGIN IMMEDIATE`` transaction: it reads the run's
last seq (``MAX(seq)``, one primary-key lookup), inserts the batch after it and,
with ``keep``, deletes what fell out of the window, before COMMIT. The write lock
is held throughout, so appenders in several processes sharing the file get
distinct, consecutive seqs. ``keep`` is at least 1, so the newest event always
survives a trim and the next append continues after it: seqs are never reused.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gecko.core.protocols import RunEvent
from gecko.core.storage.events import (
    check_after,
    check_keep,
    check_limit,
    check_run_id,
    decode_event,
    encode_events,
)

if TYPE_CHECKING:
    from gecko.storage.sqlite.worker import Worker

EventRow = tuple[int, bytes, float]

_LAST = "SELECT COALESCE(MAX(seq), 0) FROM gecko_events WHERE run_id = ?"


def append(conn: sqlite3.Connection, run_id: str, texts: Sequence[str], keep: int | None) -> int:
    """Store ``texts`` as the run's next events, in the caller's transaction; return the last seq."""
    (last,) = conn.execute(_LAST, (run_id,)).fetchone()
    now = time.time()
    conn.executemany(
        "INSERT INTO gecko_events (run_id, seq, data, created_at) VALUES (?, ?, ?, ?)",
        [(run_id, last + i, text, now) for i, text in enumerate(texts, start=1)],
    )
    last += len(texts)
    if keep is not None:
        conn.execute(
            "DELETE FROM gecko_events WHERE run_id = ? AND seq <= ?", (run_id, last - keep)
        )
    return int(last)


def read(conn: sqlite3.Connection, run_id: str, after: int, limit: int | None) -> list[EventRow]:
    rows = conn.execute(
        "SELECT seq, CAST(data AS BLOB), created_at FROM gecko_events "
        "WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        (run_id, after, limit if limit is not None else -1),
    )
    return rows.fetchall()


def last_seq(conn: sqlite3.Connection, run_id: str) -> int:
    return int(conn.execute(_LAST, (run_id,)).fetchone()[0])


def delete(conn: sqlite3.Connection, run_id: str) -> int:
    return int(conn.execute("DELETE FROM gecko_events WHERE run_id = ?", (run_id,)).rowcount)


class SQLiteEventLog:
    """The ``RunEventLog`` of ``SQLiteStore`` (which provides the workers)."""

    _writer: Worker
    _reader: Worker

    if TYPE_CHECKING:

        def _ensure_open(self) -> None: ...  # provided by BaseStore

    async def append_events(
        self, run_id: str, events: Sequence[dict[str, Any]], *, keep: int | None = None
    ) -> int:
        self._ensure_open()
        texts = encode_events(run_id, events)
        keep = check_keep(keep)
        if not texts:
            return await self.last_event_seq(run_id)
        return int(await self._writer.run(append, run_id, texts, keep, write=True))

    async def read_events(
        self, run_id: str, *, after: int = 0, limit: int | None = None
    ) -> list[RunEvent]:
        self._ensure_open()
        run_id, after, limit = check_run_id(run_id), check_after(after), check_limit(limit)
        rows = await self._reader.run(read, run_id, after, limit, write=False)
        return [decode_event(run_id, seq, raw, created) for seq, raw, created in rows]

    async def last_event_seq(self, run_id: str) -> int:
        self._ensure_open()
        return int(await self._reader.run(last_seq, check_run_id(run_id), write=False))

    async def delete_events(self, run_id: str) -> int:
        self._ensure_open()
        return int(await self._writer.run(delete, check_run_id(run_id), write=True))
