"""Run event logs on Postgres: rows ``(run_id, seq, data, created_at)`` in ``gecko_events``.

An append is one transaction: it bumps the run's counter in ``gecko_event_runs`` (the
row lock orders concurrent appenders of a run, in any process, so seqs are distinct,
consecutive and in commit order), then inserts the batch after it and, with ``keep``,
deletes what fell out of the window (of a batch larger than ``keep`` only the newest
``keep`` are inserted). Seqs are never reused: the counter outlives trimming, and
``delete_events`` drops it with the log. Events are stored as their exact JSON text.

Every append also sends ``NOTIFY gecko_events`` (delivered at commit), so
``wait_for_events`` wakes up in any process as soon as a run has new events,
without polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping, Sequence
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
from gecko.core.validation import check_number

if TYPE_CHECKING:
    from gecko.storage.postgres.config import PostgresConfig
    from gecko.storage.postgres.connection import Conn, Retrier
    from gecko.storage.postgres.queries import Queries

log = logging.getLogger(__name__)

CHANNEL = "gecko_events"
"""The NOTIFY channel; the payload is the JSON array ``[schema, run_id, last_seq]``."""


class PostgresEventLog:
    """The ``RunEventLog`` of ``PostgresStore``, plus ``wait_for_events``."""

    _q: Queries
    _config: PostgresConfig
    _retrier: Retrier
    _listener: _Listener | None = None

    if TYPE_CHECKING:

        def _ensure_open(self) -> None: ...  # provided by BaseStore

        async def _run(
            self, query: str, params: Sequence[Any] | Mapping[str, Any] = (), *, rows: bool = True
        ) -> list[tuple[Any, ...]]: ...  # provided by PostgresStore

    async def append_events(
        self, run_id: str, events: Sequence[dict[str, Any]], *, keep: int | None = None
    ) -> int:
        self._ensure_open()
        texts = encode_events(run_id, events)
        keep = check_keep(keep)
        if not texts:
            return await self.last_event_seq(run_id)
        count = len(texts)
        kept = count if keep is None else min(count, keep)
        q, schema = self._q, self._config.schema

        async def operation(conn: Conn) -> int:
            async with conn.transaction():
                # The counter's row lock is held to COMMIT: the second statement's snapshot,
                # taken after it, sees every earlier append of the run (so trimming does too).
                cursor = await conn.execute(q.events_bump, (run_id, count))
                row = await cursor.fetchone()
                assert row is not None
                last = int(row[0])
                params = {"run": run_id, "n": count, "skip": count - kept, "texts": texts}
                params.update(keep=keep, last=last, schema=schema)
                await conn.execute(q.events_append, params)
            return last

        return await self._retrier.run(operation)

    async def read_events(
        self, run_id: str, *, after: int = 0, limit: int | None = None
    ) -> list[RunEvent]:
        self._ensure_open()
        run_id, after, limit = check_run_id(run_id), check_after(after), check_limit(limit)
        rows = await self._run(self._q.events_read, (run_id, after, limit))
        return [decode_event(run_id, seq, raw, created) for seq, raw, created in rows]

    async def last_event_seq(self, run_id: str) -> int:
        self._ensure_open()
        rows = await self._run(self._q.events_last, (check_run_id(run_id),))
        return int(rows[0][0]) if rows else 0

    async def delete_events(self, run_id: str) -> int:
        self._ensure_open()
        run_id = check_run_id(run_id)
        rows = await self._run(self._q.events_delete, (run_id, run_id))
        return int(rows[0][0])

    async def wait_for_events(self, run_id: str, *, after: int = 0, timeout: float = 30.0) -> bool:
        """Wait until the run has an event with ``seq > after``; False after ``timeout`` seconds.

        Woken by Postgres notifications from whichever process appends, so it returns as
        soon as the commit lands. A reader streams a run with ``read_events(after=...)``
        and this in turn.
        """
        self._ensure_open()
        run_id, after = check_run_id(run_id), check_after(after)
        timeout = check_number("timeout", timeout, above=0, unit="seconds")
        if self._listener is None:
            self._listener = _Listener(self._config)
        listener = self._listener
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        woken = await listener.subscribe(run_id)
        try:
            while True:
                await listener.listen()  # again, if the connection broke meanwhile
                if await self.last_event_seq(run_id) > after:
                    return True
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                try:
                    await asyncio.wait_for(woken.wait(), remaining)
                except asyncio.TimeoutError:
                    return await self.last_event_seq(run_id) > after
                woken.clear()
        finally:
            listener.unsubscribe(run_id, woken)

    async def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.close()


class _Listener:
    """One ``LISTEN gecko_events`` connection per store, waking the waiters of each run."""

    def __init__(self, config: PostgresConfig) -> None:
        self._config = config
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._conn: Conn | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Lock()

    async def subscribe(self, run_id: str) -> asyncio.Event:
        """Register a waiter; the LISTEN is in force before this returns (nothing is missed)."""
        event = asyncio.Event()
        self._waiters.setdefault(run_id, set()).add(event)
        await self.listen()
        return event

    async def listen(self) -> None:
        """Make sure the ``LISTEN`` connection is up (reconnecting after a failure)."""
        async with self._ready:
            if self._task is None or self._task.done():
                from gecko.storage.postgres.connection import connect

                if self._conn is not None:
                    await self._conn.close()
                self._conn = await connect(self._config)
                await self._conn.execute(f"LISTEN {CHANNEL}")
                self._task = asyncio.create_task(self._dispatch(self._conn))

    def unsubscribe(self, run_id: str, event: asyncio.Event) -> None:
        waiters = self._waiters.get(run_id)
        if waiters is not None:
            waiters.discard(event)
            if not waiters:
                del self._waiters[run_id]

    async def _dispatch(self, conn: Conn) -> None:
        try:
            async for notify in conn.notifies():
                try:
                    schema, run_id, _ = json.loads(notify.payload)
                except (ValueError, TypeError):
                    continue
                if schema == self._config.schema:
                    for event in self._waiters.get(run_id, ()):
                        event.set()
        except Exception as exc:  # the connection broke: wake everyone to re-check and re-listen
            log.warning("postgres event listener stopped: %s", type(exc).__name__)
        finally:
            for waiters in list(self._waiters.values()):
                for event in waiters:
                    event.set()

    async def close(self) -> None:
        task, conn = self._task, self._conn
        self._task = self._conn = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task  # it was cancelled, or had already stopped (and logged why)
        if conn is not None:
            await conn.close()
