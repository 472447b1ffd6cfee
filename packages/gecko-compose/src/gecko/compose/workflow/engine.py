"""The run loop: execute steps, merge state, follow edges and jumps, checkpoint, publish events.

One ``Run`` is one execution (or resumption) of a workflow. Each step runs the
planned nodes concurrently (a single node is simply awaited: no task, no thread
hop), merges their state changes in plan order, then plans the next step. The
hot path does no deep copies, creates no context or state view for nodes that do
not take ``ctx``, builds no event when no EventBus is configured, and opens no
span unless the run's workflow span is recording.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel

from gecko.compose.errors import (
    ComposeError,
    MaxStepsExceededError,
    NodeExecutionError,
    WorkflowTimeoutError,
)
from gecko.compose.nodes import END
from gecko.compose.workflow.executor import (
    CallPlan,
    NodeSpec,
)
from gecko.compose.workflow.node_runner import NodeRunner
from gecko.compose.workflow.outcome import NodeOutcome
from gecko.compose.workflow.persistence import Checkpointer, CheckpointStrategy
from gecko.compose.workflow.record import INPUT_REF
from gecko.compose.workflow.scheduler import PlanItem, Scheduler, input_from
from gecko.compose.workflow.state import merge_diffs
from gecko.compose.workflow.summary import ExecutionSummary

if TYPE_CHECKING:
    from gecko.compose.workflow.events import Emitter
    from gecko.compose.workflow.lease import RunClaim
    from gecko.compose.workflow.workflow import Workflow
    from gecko.core.events import EventBus

logger = logging.getLogger(__name__)

_perf = time.perf_counter


class Run(NodeRunner):
    """One execution of a workflow from a plan to the end (nodes run through ``NodeRunner``)."""

    def __init__(
        self,
        workflow: Workflow,
        run_id: str,
        *,
        bus: EventBus | None,
        checkpointer: Checkpointer | None,
    ) -> None:
        graph = workflow._graph
        self.workflow = workflow
        self.name = workflow.name
        self.run_id = run_id
        self.nodes: dict[str, NodeSpec] = graph.nodes
        self.analysis = graph.analysis()
        self.reducers = workflow.reducers
        self.bus = bus
        self.events: Emitter | None = None
        if bus is not None:
            from gecko.compose.workflow.events import Emitter

            self.events = Emitter(bus, workflow.name, run_id)
        self.checkpointer = checkpointer
        self.summary = ExecutionSummary(run_id=run_id, workflow=workflow.name)
        self.scheduler = Scheduler(graph)
        self.input: Any = None
        self.state: dict[str, Any] = {}
        self.history: dict[str, Any] = {}
        self.history_view = MappingProxyType(self.history)
        self.step = 0
        self.plan: list[PlanItem] = []
        self.resumed: dict[str, NodeOutcome] = {}
        self.result_from: list[str] = []
        self.tracing = False
        self._conditions: dict[int, CallPlan] = {}
        self._failure_recorded = False
        self._checkpoint_requested = False
        self._running = 0  # nodes of the current parallel step still running
        self._on_asyncio = _on_asyncio()
        self.claim: RunClaim | None = None  # the lease this run executes under
        self._unpublished: list[tuple[NodeOutcome, int]] = []  # see NodeRunner.publish_completed
        limit = workflow.max_concurrency
        self._limiter = anyio.Semaphore(limit) if limit is not None else None

    def begin(self, input: Any, start: str, state: dict[str, Any]) -> None:
        """Set up a new run from ``start`` (its start entry is buffered for the first checkpoint)."""
        self.input = input
        self.state = state
        self.scheduler.start((start,))
        self.plan = [(start, input, [INPUT_REF])]
        if self.checkpointer is not None:
            self.checkpointer.add(
                {
                    "kind": "start",
                    "workflow": self.name,
                    "graph": self.workflow.fingerprint(),
                    "input": input,
                    "state": dict(state),
                    "wave": [start],
                    "plan": [{"node": start, "from": [INPUT_REF]}],
                    "started_at": self.summary.started_at,
                }
            )

    def resolve(self, refs: Sequence[str]) -> Any:
        """The input a plan entry refers to: the workflow input, or predecessors' outputs."""
        if len(refs) == 1 and refs[0] == INPUT_REF:
            return self.input
        return input_from(refs, self.history)

    # --- the run -----------------------------------------------------------------------------

    async def execute(self, timeout: float | None, *, resumed: bool) -> Any:
        """Run to the end; record and publish the outcome. Raises what failed the run."""
        checkpointer = self.checkpointer
        if checkpointer is None or checkpointer.wait:
            return await self._execute(timeout, resumed)
        error: Exception | None = None
        async with anyio.create_task_group() as group:  # hosts the async checkpoint writer
            checkpointer.group = group
            try:
                result = await self._execute(timeout, resumed)
            except Exception as exc:  # raised outside the group: not wrapped in an ExceptionGroup
                error = exc
        if error is not None:
            raise error
        return result

    async def _execute(self, timeout: float | None, resumed: bool) -> Any:
        from gecko.core.telemetry import workflow_span

        with workflow_span(self.name, run_id=self.run_id) as span:
            self.tracing = span.is_recording()
            if self.events is not None:
                await self.events.started(resumed)
            try:
                result = await self._run_to_end(timeout)
            except anyio.get_cancelled_exc_class():
                # Cancelled from outside: recorded as such (not left "running"), unless the
                # lease was lost, in which case another owner may be writing this run now.
                with anyio.CancelScope(shield=True):
                    if self.claim is None or not self.claim.lost:
                        await self._record_failure(None, None, status="cancelled")
                    self._finish_summary("cancelled")
                raise
            except Exception as exc:
                status = "timed_out" if isinstance(exc, WorkflowTimeoutError) else "failed"
                await self._record_failure(None, exc, status=status)
                self._finish_summary(status, exc)
                if self.events is not None:
                    await self.events.failed(exc, self.summary.as_dict())
                raise
            self._finish_summary("completed")
            if self.events is not None:
                await self.events.completed(result, self.summary.as_dict())
            return result

    async def _run_to_end(self, timeout: float | None) -> Any:
        checkpointer = self.checkpointer
        if checkpointer is not None and checkpointer.strategy is CheckpointStrategy.ALWAYS:
            await checkpointer.flush()
        if timeout is None:
            result = await self.loop()
        else:
            with anyio.move_on_after(timeout) as scope:
                result = await self.loop()
            if scope.cancelled_caught:
                raise WorkflowTimeoutError(
                    f"workflow {self.name!r} (run {self.run_id!r}) did not finish within {timeout} s",
                    hint="raise the timeout, or resume the run later: completed steps are kept "
                    "when the workflow has storage",
                    run_id=self.run_id,
                    timeout=timeout,
                )
        if checkpointer is not None:
            await checkpointer.drain()
        return result

    def _finish_summary(self, status: str, error: BaseException | None = None) -> None:
        if self.checkpointer is not None:
            self.summary.checkpoints = self.checkpointer.written
        self.summary.finish(status, error)

    async def loop(self) -> Any:
        max_steps = self.workflow.max_steps
        while self.plan:
            if self.step >= max_steps:
                raise MaxStepsExceededError(
                    f"workflow {self.name!r} reached max_steps={max_steps} without finishing "
                    f"(next: {', '.join(item[0] for item in self.plan)})",
                    hint="a loop that never exits? check the conditions of its back edges, "
                    "or raise max_steps",
                    run_id=self.run_id,
                    max_steps=max_steps,
                )
            outcomes = await self._run_step()
            for outcome in outcomes:
                if outcome.error is not None:
                    await self._record_failure(outcomes, outcome.error, outcome.node)
                    if outcome.internal:
                        raise outcome.error
                    raise NodeExecutionError(
                        outcome.node, outcome.error, attempts=outcome.attempts, step=self.step
                    ) from outcome.error
            diffs = [(o.node, o.diff) for o in outcomes if o.diff]
            try:
                reduced = (
                    merge_diffs(self.state, diffs, self.reducers, step=self.step) if diffs else {}
                )
            except ComposeError as exc:
                await self._record_failure(outcomes, exc)
                raise
            await self._advance(outcomes, reduced)
        return self.result()

    def result(self) -> Any:
        """The run's result: the output of the last step's node, or a dict of several."""
        names = self.result_from
        if len(names) == 1:
            return self.history.get(names[0])
        return {name: self.history.get(name) for name in names}

    # --- one step ------------------------------------------------------------------------------

    async def _run_step(self) -> list[NodeOutcome]:
        plan = self.plan
        step = self.step
        if len(plan) == 1:
            node, value, _ = plan[0]
            resumed = self.resumed.pop(node, None)
            return [resumed or await self.run_node(node, value, step, False)]
        outcomes: list[NodeOutcome | None] = [self.resumed.pop(item[0], None) for item in plan]
        todo = [i for i, outcome in enumerate(outcomes) if outcome is None]
        self._running = len(todo)
        if len(todo) == 1 or not self.workflow.enable_parallel:
            for i in todo:
                node, value, _ = plan[i]
                outcomes[i] = await self.run_node(node, value, step, len(todo) > 1)
        elif todo:
            run = self.run_node if self._limiter is None else self._run_limited
            calls = [run(plan[i][0], plan[i][1], step, True) for i in todo]
            for i, outcome in zip(todo, await self._gather(calls)):
                outcomes[i] = outcome
        return [o for o in outcomes if o is not None]

    async def _run_limited(self, node: str, value: Any, step: int, parallel: bool) -> NodeOutcome:
        """``run_node`` under ``Workflow(max_concurrency=N)``: at most N nodes run at once."""
        assert self._limiter is not None
        async with self._limiter:
            return await self.run_node(node, value, step, parallel)

    async def _gather(self, calls: list[Coroutine[Any, Any, NodeOutcome]]) -> list[NodeOutcome]:
        """Run node calls concurrently; if one raises (cancellation), the others are cancelled."""
        if not self._on_asyncio:
            results: list[Any] = [None] * len(calls)

            async def keep(i: int, call: Coroutine[Any, Any, NodeOutcome]) -> None:
                results[i] = await call

            async with anyio.create_task_group() as group:
                for i, call in enumerate(calls):
                    group.start_soon(keep, i, call)
            return results
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(call) for call in calls]
        try:
            return [await task for task in tasks]
        except BaseException:
            for task in tasks:
                task.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.wait(tasks)
            raise

    async def _advance(self, outcomes: list[NodeOutcome], reduced: dict[str, Any]) -> None:
        """After a merged step: record history, plan the next step, checkpoint, report skips."""
        step = self.step
        summary = self.summary
        for outcome in outcomes:
            self.history[outcome.node] = outcome.passed
            if outcome.resumed:
                summary.nodes_resumed.append(outcome.node)
            else:
                summary.record_node(
                    outcome.node, outcome.duration, outcome.attempts, outcome.output
                )
        self.step = step + 1
        summary.steps += 1
        wave, skipped = await self._plan_next(outcomes)
        if self.checkpointer is not None:
            await self._checkpoint_step(outcomes, step, reduced, wave, skipped)
        if skipped:
            summary.nodes_skipped.extend(skipped)
            if self.events is not None:
                for node in skipped:
                    await self.events.node_skipped(node, step + 1)

    async def _plan_next(self, outcomes: list[NodeOutcome]) -> tuple[list[str] | None, list[str]]:
        """Set ``self.plan``: a jump's targets (a new wave), or the wave's next ready nodes.

        Returns the new wave's sources (None if the wave goes on) and the nodes skipped.
        """
        jumps: list[tuple[str, str]] = []
        for outcome in outcomes:
            jump = outcome.jump
            if jump is None:
                continue
            if jump.node == END:
                self.plan = []
                self.result_from = [outcome.node]
                return None, []
            jumps.append((jump.node, outcome.node))
        if self.analysis.has_back_edges:
            back_out = self.analysis.back_out
            for outcome in outcomes:
                if outcome.jump is None:
                    for edge in back_out[outcome.node]:
                        if edge.condition is None or await self._holds(edge):
                            jumps.append((edge.target, outcome.node))
        if jumps:
            refs: dict[str, list[str]] = {}
            for target, source in jumps:
                sources = refs.setdefault(target, [])
                if source not in sources:
                    sources.append(source)
            wave = list(refs)
            self.scheduler.start(wave)
            self.plan = [(t, input_from(preds, self.history), preds) for t, preds in refs.items()]
            return wave, []
        ready: list[str] = []
        for outcome in outcomes:
            self.scheduler.complete(outcome.node, ready)
        self.plan, skipped = await self.scheduler.plan(ready, self.history, self._holds)
        if not self.plan:
            self.result_from = [o.node for o in outcomes]
        return None, skipped

    async def _checkpoint_step(
        self,
        outcomes: list[NodeOutcome],
        step: int,
        reduced: dict[str, Any],
        wave: list[str] | None,
        skipped: list[str],
    ) -> None:
        checkpointer = self.checkpointer
        assert checkpointer is not None
        for outcome in outcomes:
            if not outcome.recorded:
                checkpointer.add(outcome.entry(step))
        checkpointer.add(
            {
                "kind": "step",
                "step": step,
                "nodes": [o.node for o in outcomes],
                "skipped": skipped,
                "reduced": reduced,
                "wave": wave,
                "plan": [{"node": node, "from": preds} for node, _, preds in self.plan],
            }
        )
        if not self.plan:
            checkpointer.add(
                {"kind": "end", "result_from": self.result_from, "finished_at": time.time()}
            )
        strategy = checkpointer.strategy
        if (
            strategy is CheckpointStrategy.ALWAYS
            or (strategy is CheckpointStrategy.MANUAL and self._checkpoint_requested)
            or (strategy is CheckpointStrategy.FINAL and not self.plan)
        ):
            self._checkpoint_requested = False
            await checkpointer.flush()
            await self.publish_completed()

    async def _record_failure(
        self,
        outcomes: Sequence[NodeOutcome] | None,
        error: BaseException | None,
        node: str | None = None,
        *,
        status: str = "failed",
    ) -> None:
        """Checkpoint the failed step's completed nodes and how the run ended (ALWAYS and FINAL).

        ``status`` is ``failed``, ``timed_out`` or ``cancelled`` (a ``failed`` entry
        with that status: readers that predate it see a failure).
        """
        checkpointer = self.checkpointer
        if checkpointer is None or self._failure_recorded:
            return
        self._failure_recorded = True
        for outcome in outcomes or ():
            if outcome.error is None and not outcome.recorded:
                checkpointer.add(outcome.entry(self.step))
        entry: dict[str, Any] = {
            "kind": "failed",
            "step": self.step,
            "node": node,
            "error": None
            if error is None
            else {"type": type(error).__name__, "message": str(error)},
            "failed_at": time.time(),
        }
        if status != "failed":
            entry["status"] = status
        checkpointer.add(entry)
        if checkpointer.strategy is CheckpointStrategy.MANUAL:
            return
        if status == "cancelled":
            checkpointer.wait = True  # the background writer's task group is being cancelled
        try:
            await checkpointer.flush()
            await checkpointer.drain()
            if status != "cancelled":
                await self.publish_completed()  # the failed step's finished nodes are stored
        except Exception as exc:
            logger.warning(
                "workflow %r run %r: could not checkpoint the failure (%s: %s); a resume "
                "restarts from the last checkpoint written",
                self.name,
                self.run_id,
                type(exc).__name__,
                exc,
            )


def _on_asyncio() -> bool:
    """Whether this task runs on asyncio (where plain tasks are cheaper than task groups)."""
    try:
        return asyncio.current_task() is not None
    except RuntimeError:  # no asyncio loop: trio
        return False
