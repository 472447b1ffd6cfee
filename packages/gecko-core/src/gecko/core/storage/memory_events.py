"""The ``RunEventLog`` half of ``MemoryStore``: per-run lists of JSON text under one lock.

Events are kept as JSON text (each read decodes a fresh copy). A run's list holds
consecutive seqs, so a read after a seq is a slice, and trimming drops its head;
the next seq lives apart from the list, so it is never reused after trimming.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gecko.core.protocols import RunEvent
from gecko.core.storage.events import (
    check_after,
    check_keep,
    check_limit,
    check_run_id,
    decode_event,
    encode_events,
    read_window,
)


@dataclass
class _RunLog:
    last_seq: int = 0
    items: list[tuple[str, float]] = field(default_factory=list)  # (json, created_at), in order

    @property
    def first_seq(self) -> int:
        return self.last_seq - len(self.items) + 1


class MemoryEvents:
    """The event logs of one memory store (shared by the handles of a named store)."""

    def __init__(self) -> None:
        self.logs: dict[str, _RunLog] = {}
        self.lock = threading.Lock()  # a named store may be shared by threads


class MemoryEventLog:
    """``append_events`` / ``read_events`` / ``last_event_seq`` / ``delete_events`` in memory."""

    _events: MemoryEvents  # set by MemoryStore

    if TYPE_CHECKING:

        def _ensure_open(self) -> None: ...  # provided by BaseStore

    async def append_events(
        self, run_id: str, events: Sequence[dict[str, Any]], *, keep: int | None = None
    ) -> int:
        self._ensure_open()
        texts = encode_events(run_id, events)
        keep = check_keep(keep)
        now = time.time()
        with self._events.lock:
            log = self._events.logs.setdefault(run_id, _RunLog())
            log.items.extend((text, now) for text in texts)
            log.last_seq += len(texts)
            if keep is not None and len(log.items) > keep:
                del log.items[:-keep]
            return log.last_seq

    async def read_events(
        self, run_id: str, *, after: int = 0, limit: int | None = None
    ) -> list[RunEvent]:
        self._ensure_open()
        run_id, after, limit = check_run_id(run_id), check_after(after), check_limit(limit)
        with self._events.lock:
            log = self._events.logs.get(run_id)
            if log is None:
                return []
            first = log.first_seq
            start, stop = read_window(first, len(log.items), after, limit)
            rows = [(first + i, *log.items[i]) for i in range(start, stop)]
        return [decode_event(run_id, seq, text, created) for seq, text, created in rows]

    async def last_event_seq(self, run_id: str) -> int:
        self._ensure_open()
        log = self._events.logs.get(check_run_id(run_id))
        return 0 if log is None else log.last_seq

    async def delete_events(self, run_id: str) -> int:
        self._ensure_open()
        with self._events.lock:
            log = self._events.logs.pop(check_run_id(run_id), None)
        return 0 if log is None else len(log.items)
