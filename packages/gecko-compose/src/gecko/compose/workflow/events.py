"""Workflow events published on the EventBus given to ``Workflow(event_bus=...)``.

Topics: ``workflow.started``, ``workflow.completed``, ``workflow.failed``,
``workflow.node_started``, ``workflow.node_completed``, ``workflow.node_failed``,
``workflow.node_retrying``, ``workflow.node_skipped``. Subscribe to
``"workflow.*"`` for all of them. ``source`` is the workflow's name.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from gecko.compose.errors import RunCancelledError, WorkflowTimeoutError
from gecko.compose.workflow.execution import ExecutionLog
from gecko.core.events import Event, EventBus


class WorkflowStarted(Event):
    TOPIC: ClassVar[str] = "workflow.started"
    type: str = TOPIC
    run_id: str
    resumed: bool = False


class WorkflowCompleted(Event):
    TOPIC: ClassVar[str] = "workflow.completed"
    type: str = TOPIC
    run_id: str
    output: Any = None
    summary: dict[str, Any] = Field(default_factory=dict)


class WorkflowFailed(Event):
    TOPIC: ClassVar[str] = "workflow.failed"
    type: str = TOPIC
    run_id: str
    error: str
    error_type: str
    summary: dict[str, Any] = Field(default_factory=dict)


class NodeStarted(Event):
    TOPIC: ClassVar[str] = "workflow.node_started"
    type: str = TOPIC
    run_id: str
    node: str
    step: int


class NodeCompleted(Event):
    TOPIC: ClassVar[str] = "workflow.node_completed"
    type: str = TOPIC
    run_id: str
    node: str
    step: int
    duration: float
    attempts: int = 1
    output: Any = None
    resumed: bool = False


class NodeFailed(Event):
    TOPIC: ClassVar[str] = "workflow.node_failed"
    type: str = TOPIC
    run_id: str
    node: str
    step: int
    error: str
    error_type: str
    attempts: int = 1


class NodeRetrying(Event):
    TOPIC: ClassVar[str] = "workflow.node_retrying"
    type: str = TOPIC
    run_id: str
    node: str
    step: int
    attempt: int
    delay: float
    error: str


class NodeSkipped(Event):
    TOPIC: ClassVar[str] = "workflow.node_skipped"
    type: str = TOPIC
    run_id: str
    node: str
    step: int


class Emitter:
    """Publishes one run's events on its bus (created only when the workflow has a bus).

    An event nobody subscribed to is not even built.
    """

    __slots__ = ("bus", "log", "run_id", "workflow")

    def __init__(
        self,
        bus: EventBus | None,
        workflow: str,
        run_id: str,
        log: ExecutionLog | None = None,
    ) -> None:
        self.bus = bus
        self.workflow = workflow
        self.run_id = run_id
        self.log = log  # the run's execution events (see ``execution``)

    def _wanted(self, topic: str) -> bool:
        return self.bus is not None and self.bus.has_subscribers(topic)

    async def _publish(self, event: Event) -> None:
        assert self.bus is not None
        await self.bus.publish(event)

    async def started(self, resumed: bool) -> None:
        if self.log is not None:
            await self.log.emit("resumed" if resumed else "started", {})
        if not self._wanted(WorkflowStarted.TOPIC):
            return
        await self._publish(
            WorkflowStarted.model_construct(
                source=self.workflow, run_id=self.run_id, resumed=resumed
            )
        )

    async def completed(self, output: Any, summary: dict[str, Any]) -> None:
        if self.log is not None:
            await self.log.emit("completed", {"output": output})
        if not self._wanted(WorkflowCompleted.TOPIC):
            return
        await self._publish(
            WorkflowCompleted.model_construct(
                source=self.workflow, run_id=self.run_id, output=output, summary=summary
            )
        )

    async def failed(self, error: BaseException, summary: dict[str, Any]) -> None:
        if self.log is not None:
            await self.log.emit(
                _ended(error), {"error": str(error), "error_type": type(error).__name__}
            )
        if not self._wanted(WorkflowFailed.TOPIC):
            return
        await self._publish(
            WorkflowFailed.model_construct(
                source=self.workflow,
                run_id=self.run_id,
                error=str(error),
                error_type=type(error).__name__,
                summary=summary,
            )
        )

    async def node_started(self, node: str, step: int) -> None:
        if self.log is not None:
            await self.log.emit("node_started", {"node": node, "step": step})
        if not self._wanted(NodeStarted.TOPIC):
            return
        await self._publish(
            NodeStarted.model_construct(
                source=self.workflow, run_id=self.run_id, node=node, step=step
            )
        )

    async def node_completed(
        self, node: str, step: int, duration: float, attempts: int, output: Any
    ) -> None:
        if self.log is not None:
            await self.log.emit(
                "node_completed",
                {
                    "node": node,
                    "step": step,
                    "duration": duration,
                    "attempts": attempts,
                    "output": output,
                },
            )
        if not self._wanted(NodeCompleted.TOPIC):
            return
        await self._publish(
            NodeCompleted.model_construct(
                source=self.workflow,
                run_id=self.run_id,
                node=node,
                step=step,
                duration=duration,
                attempts=attempts,
                output=output,
                resumed=False,
            )
        )

    async def node_failed(self, node: str, step: int, error: BaseException, attempts: int) -> None:
        if self.log is not None:
            await self.log.emit(
                "node_failed",
                {
                    "node": node,
                    "step": step,
                    "error": str(error),
                    "error_type": type(error).__name__,
                    "attempts": attempts,
                },
            )
        if not self._wanted(NodeFailed.TOPIC):
            return
        await self._publish(
            NodeFailed.model_construct(
                source=self.workflow,
                run_id=self.run_id,
                node=node,
                step=step,
                error=str(error),
                error_type=type(error).__name__,
                attempts=attempts,
            )
        )

    async def node_retrying(
        self, node: str, step: int, attempt: int, delay: float, error: BaseException
    ) -> None:
        if self.log is not None:
            await self.log.emit(
                "node_retrying",
                {
                    "node": node,
                    "step": step,
                    "attempt": attempt,
                    "delay": delay,
                    "error": f"{type(error).__name__}: {error}",
                },
            )
        if not self._wanted(NodeRetrying.TOPIC):
            return
        await self._publish(
            NodeRetrying.model_construct(
                source=self.workflow,
                run_id=self.run_id,
                node=node,
                step=step,
                attempt=attempt,
                delay=delay,
                error=f"{type(error).__name__}: {error}",
            )
        )

    async def node_skipped(self, node: str, step: int) -> None:
        if self.log is not None:
            await self.log.emit("node_skipped", {"node": node, "step": step})
        if not self._wanted(NodeSkipped.TOPIC):
            return
        await self._publish(
            NodeSkipped.model_construct(
                source=self.workflow, run_id=self.run_id, node=node, step=step
            )
        )

    async def lifecycle(self, event: str, **data: Any) -> None:
        """A lifecycle transition with no event type of its own (suspended, interrupted)."""
        if self.log is not None:
            await self.log.emit(event, data)


def _ended(error: BaseException) -> str:
    """The execution event a run's error ends it with."""
    if isinstance(error, RunCancelledError):
        return "cancelled"
    if isinstance(error, WorkflowTimeoutError):
        return "timed_out"
    return "failed"
