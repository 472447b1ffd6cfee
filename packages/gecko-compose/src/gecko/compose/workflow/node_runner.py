"""Running one node of a workflow step: attempts, retries, timeouts, early checkpoints.

``NodeRunner`` is the part of a ``Run`` (``engine.py``) that calls a node's target
and turns what it returns into a ``NodeOutcome``, and evaluates edge conditions.
The attributes it uses are set by ``Run.__init__``.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import anyio.lowlevel

from gecko.compose.context import WorkflowContext
from gecko.compose.nodes import Next
from gecko.compose.targets import TargetKind, agent_input
from gecko.compose.workflow.executor import (
    CallPlan,
    NodeSpec,
    call_function,
    call_plan,
    with_timeout,
)
from gecko.compose.workflow.graph import Edge
from gecko.compose.workflow.outcome import NodeOutcome, interpret
from gecko.compose.workflow.persistence import Checkpointer, CheckpointStrategy
from gecko.compose.workflow.state import Reducer, StateView
from gecko.compose.workflow.summary import ExecutionSummary
from gecko.core.retry import retry_async

if TYPE_CHECKING:
    from gecko.compose.workflow.events import Emitter
    from gecko.compose.workflow.workflow import Workflow
    from gecko.core.events import EventBus

logger = logging.getLogger(__name__)

_perf = time.perf_counter


class NodeRunner:
    """Calls nodes and conditions for a ``Run``."""

    workflow: Workflow
    name: str
    run_id: str
    nodes: dict[str, NodeSpec]
    reducers: dict[str, Reducer]
    bus: EventBus | None
    events: Emitter | None
    checkpointer: Checkpointer | None
    summary: ExecutionSummary
    state: dict[str, Any]
    history: dict[str, Any]
    history_view: MappingProxyType[str, Any]
    step: int
    tracing: bool
    _conditions: dict[int, CallPlan]
    _checkpoint_requested: bool
    _running: int
    _unpublished: list[tuple[NodeOutcome, int]]

    # --- one node ------------------------------------------------------------------------------

    async def run_node(self, node: str, value: Any, step: int, parallel: bool) -> NodeOutcome:
        if not self.tracing:
            return await self._run_node(node, value, step, parallel)
        from gecko.core.telemetry import mark_error, node_span

        with node_span(self.name, node) as span:
            outcome = await self._run_node(node, value, step, parallel)
            if outcome.error is not None:
                mark_error(span, outcome.error)
            return outcome

    async def _run_node(self, node: str, value: Any, step: int, parallel: bool) -> NodeOutcome:
        spec = self.nodes[node]
        events = self.events
        if events is not None:
            await events.node_started(node, step)
        outcome = NodeOutcome(node, value)
        started = _perf()
        await self._attempts(spec, outcome, step)
        outcome.duration = _perf() - started
        if parallel:
            self._running -= 1
        if outcome.error is not None:
            if events is not None:
                await events.node_failed(node, step, outcome.error, outcome.attempts)
            return outcome
        checkpointer = self.checkpointer
        durable = (
            checkpointer is not None
            and checkpointer.wait
            and checkpointer.strategy is CheckpointStrategy.ALWAYS
        )
        if parallel and durable:
            assert checkpointer is not None
            await self._record_early(outcome, step, checkpointer)
        if events is not None:
            if durable and not outcome.recorded:
                # Durable before visible: announced once the step's checkpoint holds it.
                self._unpublished.append((outcome, step))
            else:
                await events.node_completed(
                    node, step, outcome.duration, outcome.attempts, outcome.passed
                )
        return outcome

    async def publish_completed(self) -> None:
        """Publish the NodeCompleted events held back until their completions were stored."""
        events = self.events
        if events is None or not self._unpublished:
            return
        held, self._unpublished = self._unpublished, []
        for outcome, step in held:
            await events.node_completed(
                outcome.node, step, outcome.duration, outcome.attempts, outcome.passed
            )

    async def _attempts(self, spec: NodeSpec, outcome: NodeOutcome, step: int) -> None:
        """Call the node until it succeeds or its retry policy gives up; fill ``outcome``."""
        policy = spec.retry or self.workflow.retry
        view: StateView | None = None
        ctx: WorkflowContext | None = None
        try:
            if policy is not None:
                output, view, ctx = await retry_async(
                    partial(self._attempt, spec, outcome, step),
                    policy,
                    what=f"workflow {self.name!r} node {spec.name!r}",
                    logger=logger,
                    on_retry=partial(self._retrying, spec, outcome, step),
                    annotate=False,  # NodeExecutionError reports the attempts
                )
            elif spec.direct and spec.timeout is None:
                output = await spec.target(outcome.input)
            else:
                output, view, ctx = await self._attempt(spec, outcome, step)
        except Exception as exc:
            outcome.error = exc
            return
        if view is None and type(output) is not Next and spec.kind is not TargetKind.TEAM:
            outcome.output = outcome.passed = output  # the common case: nothing to interpret
        else:
            interpret(outcome, spec, output, view, self.nodes, self.reducers)
            if ctx is not None and ctx.checkpoint_requested:
                self._checkpoint_requested = True

    async def _attempt(
        self, spec: NodeSpec, outcome: NodeOutcome, step: int
    ) -> tuple[Any, StateView | None, WorkflowContext | None]:
        """Attempt number ``outcome.attempts``: the output, and the state view and context given."""
        value = outcome.input
        view: StateView | None = None
        ctx: WorkflowContext | None = None
        if spec.needs_context:
            view = StateView(self.state, self.reducers)
            ctx = WorkflowContext(
                run_id=self.run_id,
                workflow=self.name,
                node=spec.name,
                step=step,
                input=value,
                state=view,
                history=self.history_view,
                attempt=outcome.attempts,
                event_bus=self.bus,
            )
        if spec.direct and spec.timeout is None:
            output = await spec.target(value)
        elif spec.timeout is None:
            output = await self._call(spec, value, ctx, step)
        else:
            output = await with_timeout(self._call(spec, value, ctx, step), spec.timeout, spec.name)
        return output, view, ctx

    async def _retrying(
        self,
        spec: NodeSpec,
        outcome: NodeOutcome,
        step: int,
        error: Exception,
        attempt: int,
        delay: float,
    ) -> None:
        """``retry_async``'s ``on_retry``: count the next attempt and publish the retry."""
        outcome.attempts = attempt + 1
        if self.events is not None:
            await self.events.node_retrying(spec.name, step, attempt, delay, error)

    async def _call(
        self, spec: NodeSpec, value: Any, ctx: WorkflowContext | None, step: int
    ) -> Any:
        kind = spec.kind
        if kind <= TargetKind.INLINE_FN:
            return await call_function(spec, value, ctx)
        if kind is TargetKind.AGENT:
            return await spec.target.run(agent_input(value))
        if kind is TargetKind.TEAM:
            return await spec.target.run(value)
        child = await spec.target._run_as_node(value, parent=self, node=spec.name, step=step)
        self.summary.add_usage(child.summary.usage)
        return child.output

    async def _record_early(
        self, outcome: NodeOutcome, step: int, checkpointer: Checkpointer
    ) -> None:
        """Checkpoint a node of a parallel step as soon as it finishes, so a crash keeps it.

        Siblings finishing at the same moment are written together; when none is
        left running, the step's own checkpoint (written next) records the node.
        """
        if self._running:
            await anyio.lowlevel.checkpoint()  # let siblings finishing right now join this write
        if self._running:
            outcome.recorded = True
            await checkpointer.write_node(outcome.entry(step))

    # --- conditions ----------------------------------------------------------------------------

    async def _holds(self, edge: Edge) -> bool:
        """Evaluate an edge condition; an exception counts as False (and is logged)."""
        condition = edge.condition
        assert condition is not None
        plan = self._conditions.get(edge.index)
        if plan is None:
            plan = self._conditions[edge.index] = call_plan(
                condition, f"condition of edge {edge.source!r} -> {edge.target!r}"
            )
        ctx = None
        if plan.needs_context:
            ctx = WorkflowContext(
                run_id=self.run_id,
                workflow=self.name,
                node=edge.target,
                step=self.step,
                input=self.history.get(edge.source),
                state=StateView(self.state, self.reducers),
                history=self.history_view,
                event_bus=self.bus,
            )
        try:
            result = plan.call(condition, self.history.get(edge.source), ctx)
            if hasattr(result, "__await__"):
                result = await result
            return bool(result)
        except Exception:
            logger.warning(
                "workflow %r: condition of edge %r -> %r raised; treated as false",
                self.name,
                edge.source,
                edge.target,
                exc_info=True,
            )
            return False
