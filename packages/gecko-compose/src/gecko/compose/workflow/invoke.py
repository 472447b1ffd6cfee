"""Node invocation: one call of a node's target with attempts, retries, timeouts and a context.

``NodeInvoker`` turns a planned call into a ``NodeOutcome`` and evaluates edge
conditions; it never writes checkpoints or decides what runs next (the runner
and the step function do). A node that is itself a Workflow runs through the
``child`` callable the runner gives, so nested runs use the same runner.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from gecko.compose.context import WorkflowContext
from gecko.compose.interrupts import NodeInterrupt
from gecko.compose.nodes import Next
from gecko.compose.targets import TargetKind, agent_input
from gecko.compose.workflow.calls import CallPlan, NodeSpec, call_function, call_plan, with_timeout
from gecko.compose.workflow.graph import Edge
from gecko.compose.workflow.outcome import NodeOutcome, interpret
from gecko.compose.workflow.state import Reducer, StateView
from gecko.core.retry import RetryPolicy, retry_async

if TYPE_CHECKING:
    from gecko.compose.workflow.events import Emitter
    from gecko.compose.workflow.step import RunState
    from gecko.core.events import EventBus

logger = logging.getLogger(__name__)

ChildRunner = Callable[[Any, Any, str, int], Awaitable[Any]]
"""``(workflow, input, node, step) -> output``: runs a Workflow node as a nested run."""


class NodeInvoker:
    """Calls the nodes and edge conditions of one run."""

    __slots__ = (
        "_conditions",
        "bus",
        "checkpoint_requested",
        "child",
        "events",
        "name",
        "nodes",
        "reducers",
        "retry",
        "run",
        "run_id",
    )

    def __init__(
        self,
        *,
        name: str,
        run_id: str,
        run: RunState,
        nodes: Mapping[str, NodeSpec],
        reducers: Mapping[str, Reducer],
        retry: RetryPolicy | None,
        bus: EventBus | None,
        events: Emitter | None,
        child: ChildRunner,
    ) -> None:
        self.name = name
        self.run_id = run_id
        self.run = run
        self.nodes = nodes
        self.reducers = reducers
        self.retry = retry
        self.bus = bus
        self.events = events
        self.child = child
        self.checkpoint_requested = False  # a node called ctx.checkpoint() (MANUAL strategy)
        self._conditions: dict[int, CallPlan] = {}

    async def invoke(self, node: str, value: Any, step: int) -> NodeOutcome:
        """Run ``node`` on ``value`` until it succeeds or its retry policy gives up."""
        spec = self.nodes[node]
        outcome = NodeOutcome(node, value)
        policy = spec.retry or self.retry
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
                output = await spec.target(value)
            else:
                output, view, ctx = await self._attempt(spec, outcome, step)
        except NodeInterrupt as signal:
            outcome.interrupts = signal.interrupts
            return outcome
        except Exception as exc:
            outcome.error = exc
            return outcome
        if view is None and type(output) is not Next and spec.kind is not TargetKind.TEAM:
            outcome.output = outcome.passed = output  # the common case: nothing to interpret
        else:
            interpret(outcome, spec, output, view, self.nodes, self.reducers)
            if ctx is not None and ctx.checkpoint_requested:
                self.checkpoint_requested = True
        return outcome

    async def _attempt(
        self, spec: NodeSpec, outcome: NodeOutcome, step: int
    ) -> tuple[Any, StateView | None, WorkflowContext | None]:
        """Attempt number ``outcome.attempts``: the output, and the state view and context given."""
        value = outcome.input
        view: StateView | None = None
        ctx: WorkflowContext | None = None
        if spec.needs_context:
            view = StateView(self.run.state, self.reducers)
            ctx = WorkflowContext(
                run_id=self.run_id,
                workflow=self.name,
                node=spec.name,
                step=step,
                input=value,
                state=view,
                history=self.run.history_view,
                attempt=outcome.attempts,
                event_bus=self.bus,
                answers=self.run.answers,
                error=self.run.errors.get(spec.name),
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
        return await self.child(spec.target, value, spec.name, step)

    async def holds(self, edge: Edge) -> bool:
        """Evaluate an edge condition; an exception counts as False (and is logged)."""
        condition = edge.condition
        assert condition is not None
        plan = self._conditions.get(edge.index)
        if plan is None:
            plan = self._conditions[edge.index] = call_plan(
                condition, f"condition of edge {edge.source!r} -> {edge.target!r}"
            )
        run = self.run
        source_output = run.history.get(edge.source)
        ctx = None
        if plan.needs_context:
            ctx = WorkflowContext(
                run_id=self.run_id,
                workflow=self.name,
                node=edge.target,
                step=run.step,
                input=source_output,
                state=StateView(run.state, self.reducers),
                history=run.history_view,
                event_bus=self.bus,
            )
        try:
            result = plan.call(condition, source_output, ctx)
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
