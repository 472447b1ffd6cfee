"""Run event logs on Redis: one stream per run, entry ids ``{seq}-0``.

An append is one Lua script (atomic on the server, so appenders in any number of
processes get distinct, consecutive seqs): it reads the newest entry's seq, adds
the batch after it and trims to ``keep`` entries. A read is one ``XRANGE`` from
``after + 1``. Like checkpoint appends, an append carries a random token, so a
call retried after a lost reply returns its first result instead of appending twice.
A stream (rather than a list) lets a reader block on ``XREAD`` for new events.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gecko.core.errors import CorruptDataError
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
    from gecko.storage.redis.connection import Retrier
    from gecko.storage.redis.keys import KeySpace

_TOKEN_TTL_MS = 300_000
"""How long an append remembers its token (covers any retry window)."""


class RedisEventLog:
    """The ``RunEventLog`` of ``RedisStore`` (which provides the client and the scripts)."""

    _retrier: Retrier
    _keys: KeySpace
    _client: Any
    _append_events: Any
    _delete_events: Any

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
        keys = [self._keys.events(run_id), self._keys.token(run_id, secrets.token_hex(12))]
        args = [_TOKEN_TTL_MS, keep or 0, repr(time.time()), *texts]
        last = await self._retrier.call(self._append_events, keys, args, key=f"events:{run_id}")
        return int(last)

    async def read_events(
        self, run_id: str, *, after: int = 0, limit: int | None = None
    ) -> list[RunEvent]:
        self._ensure_open()
        run_id, after, limit = check_run_id(run_id), check_after(after), check_limit(limit)
        if limit == 0:
            return []
        entries = await self._retrier.call(
            self._client.xrange,
            self._keys.events(run_id),
            f"{after + 1}-0",
            "+",
            limit,
            key=f"events:{run_id}",
        )
        return [_event(run_id, entry_id, fields) for entry_id, fields in entries]

    async def last_event_seq(self, run_id: str) -> int:
        self._ensure_open()
        run_id = check_run_id(run_id)
        top = await self._retrier.call(
            self._client.xrevrange, self._keys.events(run_id), "+", "-", 1, key=f"events:{run_id}"
        )
        return _seq(run_id, top[0][0]) if top else 0

    async def delete_events(self, run_id: str) -> int:
        self._ensure_open()
        run_id = check_run_id(run_id)
        removed = await self._retrier.call(
            self._delete_events, [self._keys.events(run_id)], key=f"events:{run_id}"
        )
        return int(removed)


def _seq(run_id: str, entry_id: Any) -> int:
    try:
        seq_text, _, rest = bytes(entry_id).partition(b"-")
        if rest != b"0":
            raise ValueError(entry_id)
        return int(seq_text)
    except (TypeError, ValueError) as exc:
        raise _corrupt(run_id, entry_id) from exc


def _event(run_id: str, entry_id: Any, fields: Any) -> RunEvent:
    seq = _seq(run_id, entry_id)
    try:
        raw, created_at = fields[b"d"], float(fields[b"t"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _corrupt(run_id, entry_id) from exc
    return decode_event(run_id, seq, raw, created_at)


def _corrupt(run_id: str, entry_id: Any) -> CorruptDataError:
    return CorruptDataError(
        f"event log entry {entry_id!r} of run {run_id!r} is not in Gecko's format",
        hint="another program wrote to Gecko's key space; use a different prefix=",
        key=f"events:{run_id}",
    )
