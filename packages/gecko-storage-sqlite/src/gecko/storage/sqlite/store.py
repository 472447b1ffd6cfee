"""``SQLiteStore``: Gecko's SessionStore, CheckpointStore and RunEventLog on a SQLite file.

    async with await create_storage("sqlite:///data/app.db") as store:
        await store.set("session:42", {"messages": []}, ttl=3600)
        seq = await store.append_checkpoint("run-1", {"step": "fetch"})

A file database has one writer thread (WAL mode, group commit, ``BEGIN
IMMEDIATE`` transactions that wait out other processes' locks) and one reader
thread; an in-memory database (``sqlite://``) has a single thread. Nothing runs
on the event loop but JSON encoding and decoding.
"""

from __future__ import annotations

import logging
import time
import warnings
import weakref
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from gecko.core import serialization
from gecko.core.protocols import Checkpoint
from gecko.core.storage.base import BaseStore, check_key, check_ttl
from gecko.core.validation import check_int, check_str
from gecko.storage.sqlite import queries, schema
from gecko.storage.sqlite.config import SQLiteConfig
from gecko.storage.sqlite.connection import connect
from gecko.storage.sqlite.events import SQLiteEventLog
from gecko.storage.sqlite.leases import SQLiteLeases
from gecko.storage.sqlite.worker import Worker

log = logging.getLogger(__name__)


class SQLiteStore(SQLiteEventLog, SQLiteLeases, BaseStore):
    """Session documents, workflow checkpoints and run event logs in one SQLite database.

    Safe for many concurrent tasks and for several processes sharing a file.
    Open it with ``await create_storage("sqlite:///path.db")`` or
    ``await SQLiteStore.open(url)``; close it with ``await store.close()`` or
    ``async with``.
    """

    supports_ttl = True

    def __init__(self, config: SQLiteConfig, writer: Worker, reader: Worker) -> None:
        self._config = config
        self._writer = writer
        self._reader = reader
        self._next_sweep = time.monotonic() + config.sweep_interval
        self._finalizer = weakref.finalize(self, _abandon, config.describe(), writer, reader)

    @classmethod
    async def open(cls, url: str = "sqlite://", **options: Any) -> SQLiteStore:
        """Open (creating if needed) the database of ``url`` and check its schema version."""
        config = SQLiteConfig.from_url(url, **options)
        where = config.describe()
        writer = Worker(
            partial(connect, config, writer=True),
            name="gecko-sqlite-writer",
            where=where,
            timeout=config.timeout,
        )
        reader = writer
        try:
            await writer.run(schema.initialize, where, write=True)
            if not config.memory:
                reader = Worker(
                    partial(connect, config, writer=False),
                    name="gecko-sqlite-reader",
                    where=where,
                    timeout=config.timeout,
                )
                await reader.run(schema.stored_version, write=False)
        except BaseException:
            await _stop(writer, reader)
            raise
        writer.post(queries.sweep_expired, write=True)
        log.debug("opened %s", where)
        return cls(config, writer, reader)

    @property
    def path(self) -> str:
        """The database file's absolute path, or ``":memory:"``."""
        return self._config.path

    @property
    def config(self) -> SQLiteConfig:
        return self._config

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<SQLiteStore {self._config.path!r}{state}>"

    async def _close(self) -> None:
        self._finalizer.detach()
        await _stop(self._writer, self._reader)
        log.debug("closed %s", self._config.describe())

    # --- SessionStore -----------------------------------------------------------------

    async def get(self, key: str) -> Any:
        self._ensure_open()
        raw = await self._reader.run(queries.get_value, check_key(key), write=False)
        return None if raw is None else serialization.loads(raw, key=key)

    async def set(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        self._ensure_open()
        text = serialization.dumps(value, key=check_key(key))
        await self._writer.run(queries.set_value, key, text, check_ttl(ttl), write=True)
        self._maybe_sweep()

    async def delete(self, key: str) -> bool:
        self._ensure_open()
        removed = await self._writer.run(queries.delete_values, [check_key(key)], write=True)
        return bool(removed)

    async def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        self._ensure_open()
        unique = list(dict.fromkeys(check_key(k) for k in keys))
        if not unique:
            return {}
        rows = await self._reader.run(queries.get_values, unique, write=False)
        found = {key: serialization.loads(raw, key=key) for key, raw in rows}
        return {key: found[key] for key in unique if key in found}

    async def set_many(self, items: Mapping[str, Any], *, ttl: float | None = None) -> None:
        self._ensure_open()
        ttl = check_ttl(ttl)
        # Everything is encoded before anything is written: one bad value writes nothing.
        encoded = [(check_key(k), serialization.dumps(v, key=k)) for k, v in items.items()]
        if encoded:
            await self._writer.run(queries.set_values, encoded, ttl, write=True)
            self._maybe_sweep()

    async def delete_many(self, keys: Sequence[str]) -> int:
        self._ensure_open()
        unique = list(dict.fromkeys(check_key(k) for k in keys))
        if not unique:
            return 0
        return int(await self._writer.run(queries.delete_values, unique, write=True))

    async def keys(self, prefix: str = "") -> list[str]:
        self._ensure_open()
        return list(
            await self._reader.run(
                queries.list_keys, check_str("prefix", prefix, non_empty=False), write=False
            )
        )

    async def sweep_expired(self) -> int:
        """Delete expired documents now; return how many were removed.

        Reads never return expired documents; this only reclaims their space
        (the store also sweeps every ``sweep_interval`` seconds while writing).
        """
        self._ensure_open()
        return int(await self._writer.run(queries.sweep_expired, write=True))

    def _maybe_sweep(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self._config.sweep_interval
            self._writer.post(queries.sweep_expired, write=True)

    # --- CheckpointStore ------------------------------------------------------------------

    async def append_checkpoint(self, run_id: str, data: dict[str, Any]) -> int:
        self._ensure_open()
        text = serialization.dumps(data, key=f"checkpoint:{check_key(run_id)}")
        return int(await self._writer.run(queries.append_checkpoint, run_id, text, write=True))

    async def get_checkpoint(self, run_id: str, seq: int | None = None) -> Checkpoint | None:
        self._ensure_open()
        check_int("seq", seq, allow_none=True)
        row = await self._reader.run(queries.get_checkpoint, check_key(run_id), seq, write=False)
        return None if row is None else _checkpoint(run_id, row)

    async def list_checkpoints(
        self, run_id: str, *, after_seq: int | None = None, limit: int | None = None
    ) -> list[Checkpoint]:
        self._ensure_open()
        check_int("after_seq", after_seq, allow_none=True)
        check_int("limit", limit, minimum=0, allow_none=True)
        rows = await self._reader.run(
            queries.list_checkpoints, check_key(run_id), after_seq, limit, write=False
        )
        return [_checkpoint(run_id, row) for row in rows]

    async def compact_checkpoints(
        self, run_id: str, through_seq: int, data: dict[str, Any] | None = None
    ) -> int:
        self._ensure_open()
        check_int("through_seq", through_seq)
        key = f"checkpoint:{check_key(run_id)}"
        text = serialization.dumps(data, key=key) if data is not None else None
        return int(
            await self._writer.run(
                queries.compact_checkpoints, run_id, through_seq, text, write=True
            )
        )

    async def delete_checkpoints(self, run_id: str) -> int:
        self._ensure_open()
        return int(
            await self._writer.run(queries.delete_checkpoints, check_key(run_id), write=True)
        )

    async def list_runs(self, prefix: str = "") -> list[str]:
        self._ensure_open()
        return list(
            await self._reader.run(
                queries.list_runs, check_str("prefix", prefix, non_empty=False), write=False
            )
        )


def _checkpoint(run_id: str, row: queries.CheckpointRow) -> Checkpoint:
    seq, raw, created_at = row
    data = serialization.loads(raw, key=f"checkpoint:{run_id}:{seq}")
    return Checkpoint(run_id=run_id, seq=seq, data=data, created_at=created_at)


async def _stop(writer: Worker, reader: Worker) -> None:
    if reader is not writer:
        await reader.stop()
    await writer.stop()


def _abandon(where: str, writer: Worker, reader: Worker) -> None:
    """A store was garbage-collected (or the interpreter exits) without ``close()``."""
    warnings.warn(
        f"unclosed SQLiteStore for {where}; use 'async with' or await store.close()",
        ResourceWarning,
        stacklevel=1,
    )
    reader.stop_nowait()
    writer.stop_nowait()
