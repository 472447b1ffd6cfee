"""Executions with a lifecycle: start now, watch, cancel, suspend and wait from any process.

``await wf.start(input, session_id=...)`` returns a ``RunHandle`` once the run is
under way in a background task; ``wf.handle(session_id)`` gives a handle to any
run in the store, from any process. A handle asks the run's record for its
status and result, so what one process does every other one sees.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from gecko.compose.errors import (
    ComposeError,
    RunCancelledError,
    RunFailedError,
    RunInterrupted,
    RunNotFoundError,
    RunSuspended,
)
from gecko.compose.interrupts import Interrupt
from gecko.compose.workflow import codec
from gecko.compose.workflow.checkpointer import CheckpointStrategy, load_record
from gecko.compose.workflow.execution import FINAL_EVENTS, ExecutionEvent, topic_of
from gecko.compose.workflow.record import RunRecord, pending_of, snapshot_of
from gecko.core.protocols import RunEvent, RunEventLog

if TYPE_CHECKING:
    from gecko.compose.workflow.summary import WorkflowRun
    from gecko.compose.workflow.workflow import Workflow

STATUSES = (
    "pending",
    "running",
    "suspended",
    "interrupted",
    "completed",
    "failed",
    "cancelled",
    "timed_out",
)
_MAX_POLL = 0.5


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A run as ``wf.runs()`` lists it."""

    run_id: str
    workflow: str | None
    status: str
    step: int
    started_at: float | None
    updated_at: float | None
    interrupts: list[Interrupt]


class RunHandle:
    """One run, seen from this process: its status, its result, and what can be done to it."""

    def __init__(self, workflow: Workflow, run_id: str, task: asyncio.Task[Any] | None = None):
        self.workflow = workflow
        self.run_id = run_id
        self._task = task

    def __repr__(self) -> str:
        return f"RunHandle(workflow={self.workflow.name!r}, run_id={self.run_id!r})"

    async def status(self) -> str:
        """``pending``, ``running``, ``suspended``, ``interrupted``, ``completed``, ``failed``,
        ``cancelled`` or ``timed_out``, as stored with the run."""
        record = await self._record()
        if record is None:
            return self._task_status()
        return record.status

    async def result(self, timeout: float | None = None) -> Any:
        """Wait until the run is final; its output.

        Raises the run's error when it failed (its own exception when it ran in this
        process, else ``RunFailedError`` with the stored type and message),
        ``RunCancelledError`` when it was cancelled, and ``TimeoutError`` after
        ``timeout`` seconds. While the run is suspended or interrupted it keeps waiting.
        """
        with anyio.fail_after(timeout):
            return await self._wait()

    async def cancel(self) -> str:
        """Cancel the run (see ``Workflow.cancel``); its status afterwards."""
        return await self.workflow.cancel(self.run_id)

    async def suspend(self) -> str:
        """Suspend the run at its next node boundary (see ``Workflow.suspend``)."""
        return await self.workflow.suspend(self.run_id)

    async def resume(self, answers: Mapping[str, Any] | None = None) -> Any:
        """Continue the run here (``Workflow.resume``), answering interrupts by key."""
        return await self.workflow.resume(self.run_id, answers=answers)

    async def events(
        self, after: int = 0, *, follow: bool = True, poll: float = 0.05
    ) -> AsyncIterator[ExecutionEvent]:
        """The run's execution events with ``seq > after``, oldest first, from its event log.

        With ``follow`` (the default) it waits for more until the run completes, fails,
        is cancelled or times out; otherwise it stops at the last stored event. Needs
        ``Workflow(event_log=N)`` and a store that keeps event logs.
        """
        store = await self.workflow._storage.open()
        if not isinstance(store, RunEventLog) or self.workflow.event_log is None:
            raise ComposeError(
                f"workflow {self.workflow.name!r} keeps no event log for its runs",
                hint="create it with Workflow(..., event_log=1000) on a store that keeps "
                "event logs (memory://, sqlite://, redis://)",
                run_id=self.run_id,
            )
        delay = poll
        while True:
            batch = await store.read_events(self.run_id, after=after, limit=500)
            for stored in batch:
                after = stored.seq
                event = _decoded(stored)
                yield event
                if follow and event.event in FINAL_EVENTS:
                    return
            if batch:
                delay = poll
                continue
            if not follow:
                return
            await anyio.sleep(delay)
            delay = min(delay * 2, _MAX_POLL)

    async def interrupts(self) -> list[Interrupt]:
        """The run's interrupts waiting for an answer."""
        record = await self._record()
        return [] if record is None else pending_of(record)

    # --- internals ---------------------------------------------------------------------------

    async def _wait(self) -> Any:
        task = self._task
        if task is not None:
            try:
                run: WorkflowRun = await asyncio.shield(task)
            except (RunInterrupted, RunSuspended):
                pass  # someone answers or resumes it, here or elsewhere: watch the record
            else:
                if run.status == "completed":
                    return run.output
                if run.status == "cancelled":
                    raise RunCancelledError(self.run_id)
        delay = 0.01
        while True:
            record = await self._record()
            if record is not None:
                done, value = _final(record)
                if done:
                    return value
            elif task is None:
                raise RunNotFoundError(f"no run {self.run_id!r} in the workflow's store")
            await anyio.sleep(delay)
            delay = min(delay * 2, _MAX_POLL)

    async def _record(self) -> RunRecord | None:
        store = await self.workflow._storage.open()
        if store is None:
            return None
        try:
            return await load_record(store, self.run_id)
        except RunNotFoundError:
            return None

    def _task_status(self) -> str:
        task = self._task
        if task is None:
            raise RunNotFoundError(
                f"no run {self.run_id!r}: it is neither stored nor started in this process",
                hint="check the session id, or the workflow's storage",
                run_id=self.run_id,
            )
        if not task.done():
            return "pending"
        if task.cancelled():
            return "cancelled"
        return "failed" if task.exception() is not None else "completed"


def _decoded(stored: RunEvent) -> ExecutionEvent:
    entry = stored.data
    event = str(entry.get("event"))
    data = entry.get("data") or {}
    return ExecutionEvent.model_construct(
        type=topic_of(stored.run_id, event),
        source="event log",
        run_id=stored.run_id,
        event=event,
        at=float(entry.get("at", stored.created_at)),
        seq=stored.seq,
        data={k: codec.decode(v, strict=False) for k, v in data.items()},
    )


def _final(record: RunRecord) -> tuple[bool, Any]:
    """Whether the run is over, and its output (raising what ended it, if not a success)."""
    status = record.status
    if status == "completed":
        return True, snapshot_of(record).result
    if status == "cancelled" and record.final:
        raise RunCancelledError(record.run_id)
    if status in ("failed", "timed_out"):
        error = record.error or {}
        raise RunFailedError(
            f"run {record.run_id!r} {'timed out' if status == 'timed_out' else 'failed'}: "
            f"{error.get('type', 'error')}: {error.get('message', '')}",
            hint=f"see get_state({record.run_id!r}); resume() continues it from its last "
            "checkpoint",
            run_id=record.run_id,
            status=status,
            error_type=error.get("type"),
        )
    return False, None


async def until_under_way(workflow: Workflow, run_id: str, task: asyncio.Task[Any]) -> None:
    """Return once run ``run_id`` is stored (so every process sees it) or its task ended.

    Without storage, or with a strategy that stores nothing at the start (FINAL, MANUAL):
    once it executes in this process.
    """
    from gecko.compose.workflow.local import running_here

    store = await workflow._storage.open()
    if workflow.checkpoint_strategy is not CheckpointStrategy.ALWAYS:
        store = None
    delay = 0.0005
    while not task.done():
        if store is None:
            if running_here(run_id):
                return
        elif await store.get_checkpoint(run_id) is not None:
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)


def info_of(record: RunRecord) -> RunInfo:
    return RunInfo(
        run_id=record.run_id,
        workflow=record.workflow,
        status=record.status,
        step=record.step,
        started_at=record.started_at,
        updated_at=record.updated_at,
        interrupts=pending_of(record, strict=False),
    )
