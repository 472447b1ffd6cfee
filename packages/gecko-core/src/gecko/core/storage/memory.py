"""``memory://``: an in-process SessionStore, CheckpointStore and RunEventLog.

Values are kept as JSON text, so what you read back is always a fresh copy and
a value that could not be persisted by a real backend is rejected here too.
``memory://`` opens a private store; ``memory://NAME`` opens a store shared by
every ``create_storage`` call of this process that uses the same name.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from gecko.core import serialization
from gecko.core.protocols import Checkpoint, Lease
from gecko.core.storage.base import BaseStore, check_key, check_ttl
from gecko.core.storage.memory_events import MemoryEventLog, MemoryEvents
from gecko.core.storage.url import url_scheme
from gecko.core.validation import check_number

_SWEEP_EVERY = 1024


class _MemoryData:
    """The contents behind one or more MemoryStore handles."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[str, float | None]] = {}
        self.checkpoints: dict[str, list[tuple[int, str, float]]] = {}
        self.next_seq: dict[str, int] = {}
        self.leases: dict[str, tuple[str, float]] = {}  # run id -> (holder, monotonic expiry)
        self.lease_lock = threading.Lock()  # a named store may be shared by threads
        self.events = MemoryEvents()
        self.writes = 0


_named: dict[str, _MemoryData] = {}
_named_lock = threading.Lock()


class MemoryStore(MemoryEventLog, BaseStore):
    """In-memory key-value, checkpoint and event-log store. Safe for concurrent tasks of one loop."""

    supports_ttl = True

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        if name:
            with _named_lock:
                self._data = _named.setdefault(name, _MemoryData())
        else:
            self._data = _MemoryData()
        self._events = self._data.events

    @classmethod
    async def open(cls, url: str = "memory://", **options: Any) -> MemoryStore:
        url_scheme(url)
        name = url.split("://", 1)[1].strip("/") or None
        if options:
            from gecko.core.errors import ConfigurationError

            raise ConfigurationError(f"memory:// takes no options, got {sorted(options)}")
        return cls(name)

    def __repr__(self) -> str:
        return f"MemoryStore(name={self.name!r})"

    # --- SessionStore -----------------------------------------------------------

    async def get(self, key: str) -> Any:
        self._ensure_open()
        item = self._data.values.get(check_key(key))
        if item is None:
            return None
        text, expires = item
        if expires is not None and expires <= time.monotonic():
            self._data.values.pop(key, None)
            return None
        return serialization.loads(text, key=key)

    async def set(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        self._ensure_open()
        text = serialization.dumps(value, key=check_key(key))
        self._put(key, text, check_ttl(ttl))

    async def delete(self, key: str) -> bool:
        self._ensure_open()
        item = self._data.values.pop(check_key(key), None)
        return item is not None and not _expired(item)

    async def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        result = {}
        for key in keys:
            value = await self.get(key)
            if value is not None:
                result[key] = value
        return result

    async def set_many(self, items: Mapping[str, Any], *, ttl: float | None = None) -> None:
        self._ensure_open()
        ttl = check_ttl(ttl)
        encoded = {check_key(k): serialization.dumps(v, key=k) for k, v in items.items()}
        for key, text in encoded.items():  # all encoded first: a bad value writes nothing
            self._put(key, text, ttl)

    async def delete_many(self, keys: Sequence[str]) -> int:
        count = 0
        for key in keys:
            count += await self.delete(key)
        return count

    async def keys(self, prefix: str = "") -> list[str]:
        self._ensure_open()
        self._sweep()
        return sorted(k for k in self._data.values if k.startswith(prefix))

    def _put(self, key: str, text: str, ttl: float | None) -> None:
        expires = time.monotonic() + ttl if ttl is not None else None
        self._data.values[key] = (text, expires)
        self._data.writes += 1
        if self._data.writes % _SWEEP_EVERY == 0:
            self._sweep()

    def _sweep(self) -> None:
        now = time.monotonic()
        expired = [k for k, (_, exp) in self._data.values.items() if exp is not None and exp <= now]
        for key in expired:
            del self._data.values[key]

    # --- CheckpointStore ------------------------------------------------------------

    async def append_checkpoint(self, run_id: str, data: dict[str, Any]) -> int:
        self._ensure_open()
        text = serialization.dumps(data, key=f"checkpoint:{check_key(run_id)}")
        seq = self._data.next_seq.get(run_id, 1)
        self._data.next_seq[run_id] = seq + 1
        self._data.checkpoints.setdefault(run_id, []).append((seq, text, time.time()))
        return seq

    async def get_checkpoint(self, run_id: str, seq: int | None = None) -> Checkpoint | None:
        self._ensure_open()
        items = self._data.checkpoints.get(check_key(run_id)) or []
        if not items:
            return None
        if seq is None:
            return self._decode(run_id, items[-1])
        for item in items:
            if item[0] == seq:
                return self._decode(run_id, item)
        return None

    async def list_checkpoints(
        self, run_id: str, *, after_seq: int | None = None, limit: int | None = None
    ) -> list[Checkpoint]:
        self._ensure_open()
        items = [
            item
            for item in self._data.checkpoints.get(check_key(run_id)) or []
            if after_seq is None or item[0] > after_seq
        ]
        if limit is not None:
            items = items[:limit]
        return [self._decode(run_id, item) for item in items]

    async def compact_checkpoints(
        self, run_id: str, through_seq: int, data: dict[str, Any] | None = None
    ) -> int:
        self._ensure_open()
        text = serialization.dumps(data, key=f"checkpoint:{run_id}") if data is not None else None
        items = self._data.checkpoints.get(check_key(run_id)) or []
        kept = [item for item in items if item[0] > through_seq]
        removed = len(items) - len(kept)
        if text is not None:
            kept.insert(0, (through_seq, text, time.time()))
        self._data.checkpoints[run_id] = kept
        return removed

    async def delete_checkpoints(self, run_id: str) -> int:
        self._ensure_open()
        items = self._data.checkpoints.pop(check_key(run_id), None) or []
        self._data.next_seq.pop(run_id, None)
        return len(items)

    async def list_runs(self, prefix: str = "") -> list[str]:
        self._ensure_open()
        return sorted(
            r for r, items in self._data.checkpoints.items() if items and r.startswith(prefix)
        )

    # --- leases (an in-process lock with an expiry) -------------------------------------

    async def acquire_lease(self, run_id: str, holder: str, ttl: float) -> Lease:
        self._ensure_open()
        check_key(run_id)
        ttl = check_number("lease ttl", ttl, above=0, unit="seconds")
        now = time.monotonic()
        with self._data.lease_lock:
            current = self._data.leases.get(run_id)
            if current is None or current[0] == holder or current[1] <= now:
                current = self._data.leases[run_id] = (holder, now + ttl)
        return _lease(run_id, current, now)

    async def renew_lease(self, run_id: str, holder: str, ttl: float) -> bool:
        self._ensure_open()
        ttl = check_number("lease ttl", ttl, above=0, unit="seconds")
        now = time.monotonic()
        with self._data.lease_lock:
            current = self._data.leases.get(check_key(run_id))
            if current is None or current[0] != holder or current[1] <= now:
                return False
            self._data.leases[run_id] = (holder, now + ttl)
        return True

    async def release_lease(self, run_id: str, holder: str) -> bool:
        self._ensure_open()
        with self._data.lease_lock:
            current = self._data.leases.get(check_key(run_id))
            if current is None or current[0] != holder:
                return False
            del self._data.leases[run_id]
        return current[1] > time.monotonic()  # False: it had lapsed already

    async def get_lease(self, run_id: str) -> Lease | None:
        self._ensure_open()
        now = time.monotonic()
        current = self._data.leases.get(check_key(run_id))
        if current is None or current[1] <= now:
            return None
        return _lease(run_id, current, now)

    @staticmethod
    def _decode(run_id: str, item: tuple[int, str, float]) -> Checkpoint:
        seq, text, created = item
        return Checkpoint(
            run_id=run_id,
            seq=seq,
            data=serialization.loads(text, key=f"checkpoint:{run_id}:{seq}"),
            created_at=created,
        )


def _lease(run_id: str, current: tuple[str, float], now: float) -> Lease:
    """A lease with its monotonic expiry turned into wall-clock time."""
    return Lease(run_id=run_id, holder=current[0], expires_at=time.time() + (current[1] - now))


def _expired(item: tuple[str, float | None]) -> bool:
    return item[1] is not None and item[1] <= time.monotonic()
