"""What every ``RunEventLog`` implementation checks and encodes the same way.

A store's ``append_events`` starts with ``encode_events`` (and ``check_keep``),
``read_events`` with ``check_run_id``, ``check_after`` and ``check_limit``, and
turns each stored row back into a ``RunEvent`` with ``decode_event``:

    texts = encode_events(run_id, events)      # JSON text per event, all checked first
    keep = check_keep(keep)
    ...
    return [decode_event(run_id, seq, raw, created_at) for seq, raw, created_at in rows]

Mistakes raise the errors stores raise elsewhere: ``ConfigurationError`` for a
bad argument (empty run id, ``keep < 1``, negative ``after`` or ``limit``, events
that are not a list) and ``SerializationError`` for an event that is not a JSON
object or holds a value JSON cannot carry, naming the run, the event's index and
the path inside it. Nothing is written when any event is bad.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from gecko.core import serialization
from gecko.core.errors import ConfigurationError, CorruptDataError, SerializationError
from gecko.core.protocols import RunEvent
from gecko.core.validation import check_int, check_str

__all__ = [
    "check_after",
    "check_keep",
    "check_limit",
    "check_run_id",
    "decode_event",
    "encode_events",
    "read_window",
]


def check_run_id(run_id: object) -> str:
    """A run id is a non-empty string."""
    return check_str("run_id", run_id)


def check_keep(keep: object) -> int | None:
    """``keep`` is None (keep every event) or an integer >= 1."""
    return check_int("keep", keep, minimum=1, allow_none=True, hint="None keeps every event")


def check_after(after: object) -> int:
    """``after`` is a seq: an integer >= 0 (0 reads from the start)."""
    return check_int("after", after, minimum=0, hint="0 reads the log from its start")


def check_limit(limit: object) -> int | None:
    """``limit`` is None (no limit) or an integer >= 0."""
    return check_int("limit", limit, minimum=0, allow_none=True, hint="None reads every event")


def encode_events(run_id: object, events: object) -> list[str]:
    """Check ``run_id`` and every event, and return each event as compact JSON text.

    Every event is checked before the first is returned, so a store that writes
    only after this call writes all of them or none.
    """
    run = check_run_id(run_id)
    if isinstance(events, (str, bytes, Mapping)) or not isinstance(events, Sequence):
        raise ConfigurationError(
            f"events of run {run!r} must be a list of dicts (JSON objects), "
            f"got {type(events).__name__}",
            hint="wrap a single event in a list: append_events(run_id, [event])",
            option="events",
            value=repr(events)[:200],
        )
    texts: list[str] = []
    for index, event in enumerate(events):
        key = f"events:{run}[{index}]"
        if not isinstance(event, dict):
            raise SerializationError(
                f"event {index} of run {run!r} must be a JSON object (dict), "
                f"got {type(event).__name__}",
                hint='wrap the value in an object, e.g. {"type": "...", "value": value}',
                key=key,
                path="$",
            )
        texts.append(serialization.dumps(event, key=key))
    return texts


def decode_event(run_id: str, seq: int, raw: str | bytes, created_at: float) -> RunEvent:
    """A stored row back as a ``RunEvent``; ``CorruptDataError`` naming it if it is not an object.

    ``seq`` must be an ``int`` and ``created_at`` a ``float`` already (as the drivers return them).
    """
    try:
        data: Any = json.loads(raw)  # the hot path of every read: no key built unless it fails
    except (ValueError, TypeError):
        data = serialization.loads(raw, key=f"events:{run_id}:{seq}")  # raises, naming it
    if not isinstance(data, dict):
        raise CorruptDataError(
            f"event {seq} of run {run_id!r} is not a JSON object",
            hint="another program wrote to Gecko's event log; delete the run's events",
            key=f"events:{run_id}:{seq}",
        )
    return RunEvent(run_id, seq, data, created_at)


def read_window(first_seq: int, count: int, after: int, limit: int | None) -> tuple[int, int]:
    """For a log holding consecutive seqs ``first_seq .. first_seq+count-1``: the slice
    ``[start, stop)`` of positions that ``read_events(after=, limit=)`` returns."""
    start = min(count, max(0, after - first_seq + 1))
    stop = count if limit is None else min(count, start + limit)
    return start, stop
