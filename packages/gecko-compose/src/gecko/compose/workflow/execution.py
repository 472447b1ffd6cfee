"""A run's execution events: every lifecycle transition and node event, live and replayable.

Each event is published on the run's EventBus under
``workflow.execution.<run_id>.<event>`` to those who subscribe to
``"workflow.execution.*"`` (or a narrower pattern: a ``"workflow.*"`` subscriber keeps
receiving only the per-kind events it always did)
and, with ``Workflow(event_log=N)`` on a store that keeps event logs
(``gecko.core.protocols.RunEventLog``), appended to the run's log, the last N kept.
Appends are batched with the run's checkpoints (one write per checkpoint, not
per event), so a process that reads the log — ``handle.events(after=seq)``, the
HTTP server — sees events once they are durable, in order, with their ``seq``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field

from gecko.compose.workflow import codec
from gecko.core.errors import SerializationError
from gecko.core.events import Event, EventBus
from gecko.core.protocols import RunEventLog

logger = logging.getLogger(__name__)

TOPIC_PREFIX = "workflow.execution."
FINAL_EVENTS = frozenset({"completed", "failed", "cancelled", "timed_out"})
"""Events after which a run's log gets no more entries until it is resumed."""
STOP_EVENTS = FINAL_EVENTS | {"suspended", "interrupted"}


class ExecutionEvent(Event):
    """One execution event of a run (``event``: started, node_completed, suspended, ...)."""

    TOPIC: ClassVar[str] = "workflow.execution.*"
    type: str = "workflow.execution"
    run_id: str
    event: str
    at: float
    seq: int | None = None  # set when read back from the run's event log
    data: dict[str, Any] = Field(default_factory=dict)


def topic_of(run_id: str, event: str) -> str:
    return f"{TOPIC_PREFIX}{run_id}.{event}"


class ExecutionLog:
    """Publishes one run's execution events and buffers them for its store's event log."""

    __slots__ = ("_buffer", "bus", "keep", "run_id", "store", "workflow")

    def __init__(
        self,
        *,
        bus: EventBus | None,
        store: RunEventLog | None,
        keep: int | None,
        workflow: str,
        run_id: str,
    ) -> None:
        self.bus = bus
        self.store = store if keep is not None else None
        self.keep = keep
        self.workflow = workflow
        self.run_id = run_id
        self._buffer: list[dict[str, Any]] = []

    async def emit(self, event: str, data: Mapping[str, Any]) -> None:
        at = time.time()
        if self.store is not None:
            self._buffer.append({"event": event, "at": at, "data": _json(data, event)})
        bus = self.bus
        if bus is not None:
            topic = topic_of(self.run_id, event)
            if bus.has_subscribers_within(topic, TOPIC_PREFIX):
                await bus.publish(
                    ExecutionEvent.model_construct(
                        type=topic,
                        source=self.workflow,
                        run_id=self.run_id,
                        event=event,
                        at=at,
                        seq=None,
                        data=dict(data),
                    )
                )

    async def flush(self) -> None:
        """Append what was buffered to the run's event log (one write)."""
        if self.store is None or not self._buffer:
            return
        events, self._buffer = self._buffer, []
        try:
            await self.store.append_events(self.run_id, events, keep=self.keep)
        except Exception:
            self._buffer[:0] = events  # kept for the next flush: nothing dropped silently
            raise


def _json(data: Mapping[str, Any], event: str) -> dict[str, Any]:
    """The event's data as JSON; a value the codec cannot store is named, not dropped."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        try:
            out[key] = codec.encode(value, what=f"{key} of execution event {event!r}")
        except SerializationError as error:
            logger.warning("execution event %r: %s is not stored in the log: %s", event, key, error)
            out[key] = {"$unstorable": type(value).__name__}
    return out
