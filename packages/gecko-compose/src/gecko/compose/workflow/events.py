"""Workflow events published on the EventBus given to ``Workflow(event_bus=...)``.

Topics: ``workflow.started``, ``workflow.completed``, ``workflow.failed``,
``workflow.node_started``, ``workflow.node_completed``, ``workflow.node_failed``,
``workflow.node_retrying``, ``workflow.node_skipped``. Subscribe to
``"workflow.*"`` for all of them. ``source`` is the workflow's name.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

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

    __slots__ = ("bus", "run_id", "workflow")

    def __init__(self, bus: EventBus, workflow: str, run_id: str) -> None:
        self.bus = bus
        self.workflow = workflow
        self.run_id = run_id

    async def _publish(self, event: Event) -> None:
        await self.bus.publish(event)

    async def started(self, resumed: bool) -> None:
        if not self.bus.has_subscribers(WorkflowStarted.TOPIC):
            return
        await self._publish(
            WorkflowStarted.model_construct(
                source=self.workflow, run_id=self.run_id, resumed=resumed
            )
        )

    async def completed(self, output: Any, summary: dict[str, Any]) -> None:
        if not self.bus.has_subscribers(WorkflowCompleted.TOPIC):
            return
        await self._publish(
            WorkflowCompleted.model_construct(
                source=self.workflow, run_id=self.run_id, output=output, summary=summary
            )
        )

    async def failed(self, error: BaseException, summary: dict[str, Any]) -> None:
        if not self.bus.has_subscribers(WorkflowFailed.TOPIC):
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
        if not self.bus.has_subscribers(NodeStarted.TOPIC):
            return
        await self._publish(
            NodeStarted.model_construct(
                source=self.workflow, run_id=self.run_id, node=node, step=step
            )
        )

    async def node_completed(
        self, node: str, step: int, duration: float, attempts: int, output: Any
    ) -> None:
        if not self.bus.has_subscribers(NodeCompleted.TOPIC):
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
        if not self.bus.has_subscribers(NodeFailed.TOPIC):
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
        if not self.bus.has_subscribers(NodeRetrying.TOPIC):
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
        if not self.bus.has_subscribers(NodeSkipped.TOPIC):
            return
        await self._publish(
            NodeSkipped.model_construct(
                source=self.workflow, run_id=self.run_id, node=node, step=step
            )
        )
