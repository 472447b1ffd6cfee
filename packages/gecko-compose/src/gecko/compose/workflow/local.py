"""The ``local`` runner: runs a workflow in this process on anyio (the imperative shell).

``LocalRunner`` owns a run through its lease, loads or starts its ``RunState``
and drives ``LocalRun``: each step's node calls run concurrently (a single node
is simply awaited: no task, no thread hop) under ``max_concurrency``, each
completion is made durable before it is announced, and between steps the pure
step function (``step.advance``) decides what runs next. The hot path does no
deep copies, creates no context for nodes that do not take ``ctx``, builds no
event when no EventBus is configured and opens no span unless tracing records.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import anyio
import anyio.lowlevel
import anyio.to_thread

from gecko.compose.errors import (
    CaughtError,
    CheckpointCorruptError,
    CompensationError,
    InterruptError,
    RunCancelledError,
    RunExistsError,
    RunFailedError,
    RunInProgressError,
    WorkflowTimeoutError,
)
from gecko.compose.interrupts import Interrupt, NodeInterrupt, check_answers
from gecko.compose.workflow import control
from gecko.compose.workflow.checkpointer import (
    Checkpointer,
    CheckpointStrategy,
    encode_entries,
    load_checkpoints,
    load_record,
)
from gecko.compose.workflow.graph import Edge
from gecko.compose.workflow.invoke import NodeInvoker
from gecko.compose.workflow.lease import RunClaim
from gecko.compose.workflow.outcome import NodeOutcome, describe_error
from gecko.compose.workflow.record import FORMAT, INPUT_REF, RunRecord, fold, pending_of
from gecko.compose.workflow.step import (
    RunState,
    Step,
    advance,
    compensations_due,
    over_budget,
    restore,
    start,
)
from gecko.compose.workflow.summary import ExecutionSummary, WorkflowRun
from gecko.core.errors import ConfigurationError
from gecko.core.protocols import RunEventLog

if TYPE_CHECKING:
    from gecko.compose.limits import Limits
    from gecko.compose.workflow.calls import NodeSpec
    from gecko.compose.workflow.events import Emitter
    from gecko.compose.workflow.workflow import Workflow
    from gecko.core.events import EventBus
    from gecko.core.protocols import CheckpointStore
    from gecko.core.telemetry.metrics import WorkflowMetrics

logger = logging.getLogger(__name__)

_perf = time.perf_counter

_RUNNING: dict[str, LocalRun] = {}
"""Runs executing in this process, by run id (requests to them need no store round trip)."""


def _limit_keys(limits: Limits, spec: NodeSpec) -> tuple[str, ...]:
    model = None
    if spec.kind_name == "agent":
        name = getattr(getattr(spec.target, "model", None), "name", None)
        model = name if isinstance(name, str) else None
    return limits.keys_for(spec.kind_name, spec.tags, model)


def running_here(run_id: str) -> bool:
    """Whether run ``run_id`` is executing in this process."""
    return run_id in _RUNNING


@dataclass(frozen=True, slots=True)
class Target:
    """Where and how a run checkpoints, and where it publishes events."""

    store: CheckpointStore | None
    strategy: CheckpointStrategy
    durability: str
    bus: EventBus | None


class LocalRunner:
    """Runs workflows in this process (the default runner, ``local``)."""

    def __init__(self, url: str = "local") -> None:
        if url.strip().lower() not in ("local", "local://"):
            raise ConfigurationError(
                f"the local runner takes no address, got {url!r}", hint="use runner='local'"
            )
        self.url = "local"

    async def execute(
        self,
        workflow: Workflow,
        input: Any,
        *,
        run_id: str,
        start_node: str,
        state: dict[str, Any],
        timeout: float | None,
        fresh_id: bool = False,
        wait: bool = False,
    ) -> WorkflowRun:
        """Start run ``run_id`` at ``start_node`` (``fresh_id``: the id was just generated)."""
        target = await _target_of(workflow)
        return await self._start(workflow, input, run_id, start_node, state, timeout, target,
                                 fresh_id=fresh_id, wait=wait)  # fmt: skip

    async def resume(
        self,
        workflow: Workflow,
        run_id: str,
        *,
        timeout: float | None,
        wait: bool = False,
        answers: Mapping[str, Any] | None = None,
    ) -> WorkflowRun:
        """Continue run ``run_id`` from its checkpoints (a completed run returns its result).

        ``answers`` answer pending interrupts by key; they are stored before the run goes on.
        """
        target = await _target_of(workflow)
        return await self._resume(workflow, run_id, timeout, target, wait, dict(answers or {}))

    async def cancel(self, workflow: Workflow, run_id: str) -> str:
        """Cancel the run wherever it executes; return its status afterwards."""
        return await self._request(workflow, run_id, "cancel")

    async def suspend(self, workflow: Workflow, run_id: str) -> str:
        """Suspend the run at its next node boundary; return its status afterwards."""
        return await self._request(workflow, run_id, "suspend")

    async def _request(self, workflow: Workflow, run_id: str, action: str) -> str:
        running = _RUNNING.get(run_id)
        if running is not None and running.workflow is workflow:
            running.request(action)
            return await running.stopped()
        store = await workflow._storage.require(workflow.name, action)
        record = await load_record(store, run_id)
        if record.final or (record.status == "cancelled" and action == "suspend"):
            return record.status
        claim = RunClaim(workflow._active, run_id, store, ttl=workflow.lease_ttl)
        try:
            async with claim:  # nobody runs it: record the outcome ourselves
                return await _stop_idle(store, run_id, record, action)
        except RunInProgressError:
            pass
        await control.request(store, run_id, action)
        return await _await_honoured(store, run_id, action, workflow.lease_ttl)

    async def _start(
        self,
        workflow: Workflow,
        input: Any,
        run_id: str,
        start_node: str,
        state: dict[str, Any],
        timeout: float | None,
        target: Target,
        *,
        fresh_id: bool = False,
        wait: bool = False,
    ) -> WorkflowRun:
        store = target.store
        shell: LocalRun | None = None
        try:
            async with _claim(workflow, run_id, store, wait) as claim:
                if store is not None and not fresh_id and await store.get_checkpoint(run_id):
                    raise RunExistsError(
                        f"run {run_id!r} already has checkpoints",
                        hint=f"continue it with resume({run_id!r}), or execute with a new "
                        "session_id",
                        run_id=run_id,
                    )
                run = start(workflow._graph, input, start_node, state)
                shell = LocalRun(self, workflow, run_id, run, target, claim)
                shell.begin(start_node)
                output = await shell.execute(_timeout(workflow, timeout), resumed=False)
                return shell.result(output, shell.interrupts)
        finally:
            if shell is not None:
                shell.released()

    async def _resume(
        self,
        workflow: Workflow,
        run_id: str,
        timeout: float | None,
        target: Target,
        wait: bool = False,
        answers: dict[str, Any] | None = None,
        *,
        lenient: bool = False,
    ) -> WorkflowRun:
        """``lenient``: ignore answers for keys this run does not wait for (a sub-workflow
        receives its parent's answers)."""
        store = target.store
        assert store is not None
        shell: LocalRun | None = None
        try:
            async with _claim(workflow, run_id, store, wait) as claim:
                checkpoints = await load_checkpoints(store, run_id)
                record = await anyio.to_thread.run_sync(fold, run_id, checkpoints)
                _check_record(workflow, record)
                pending = {i.key: i for i in pending_of(record)}
                if lenient and answers:
                    answers = {k: v for k, v in answers.items() if k in pending}
                check_answers(run_id, record.status, pending, answers or {})
                stored = len(checkpoints)
                if answers:
                    encoded = encode_entries([{"kind": "answers", "answers": answers}])
                    await store.append_checkpoint(run_id, {"format": FORMAT, "entries": encoded})
                    record.apply(encoded[0])
                    stored += 1
                    _answered_metric(workflow.name, len(answers))
                run, done = await anyio.to_thread.run_sync(restore, workflow._graph, record)
                shell = LocalRun(self, workflow, run_id, run, target, claim, stored=stored)
                shell.summary.nodes_resumed.extend(run.history)
                if record.status == "completed":
                    shell.summary.finish("completed")
                    return shell.result(run.result())
                if record.status == "compensating":  # it crashed while undoing: finish that
                    info = record.error or {}
                    kind, message = str(info.get("type")), str(info.get("message"))
                    failure = CaughtError(kind, message, node=str(info.get("node")))
                    failed = RunFailedError(
                        f"run {run_id!r} failed: {kind}: {message}",
                        hint="its compensations ran; start a new run to try again",
                        run_id=run_id,
                        error_type=kind,
                    )
                    await shell.compensate(failure, failed, record.compensated)
                if record.final:  # cancelled on request: final, never run again
                    shell.summary.finish(record.status)
                    return shell.result(None)
                if record.status == "interrupted" and not any(
                    key in record.answers for key in record.interrupts
                ):
                    shell.summary.finish("interrupted")  # nothing answered: nothing to run
                    return shell.result(None, list(pending.values()))
                shell.resumed = done
                output = await shell.execute(_timeout(workflow, timeout), resumed=True)
                return shell.result(output, shell.interrupts)

        finally:
            if shell is not None:
                shell.released()

    async def run_child(
        self, workflow: Workflow, input: Any, parent: LocalRun, node: str, step: int
    ) -> WorkflowRun:
        """Run ``workflow`` as node ``node`` of ``parent``: a child run id derived from it.

        Without storage of its own, the child checkpoints into the parent's store
        (with the parent's strategy and durability); if the parent is resumed after
        a crash inside this node, the child run is resumed (or its stored result
        returned) instead of starting over.
        """
        workflow._graph.ensure_valid(allow_cycles=workflow.allow_cycles)
        child_id = f"{parent.run_id}/{node}/{step}"
        target = await _target_of(workflow)
        inherited = parent.checkpointer
        if target.store is None and inherited is not None:
            target = Target(inherited.store, inherited.strategy, inherited.durability, target.bus)
        if target.bus is None:
            target = Target(target.store, target.strategy, target.durability, parent.bus)
        if target.store is not None and await target.store.get_checkpoint(child_id) is not None:
            answers = dict(parent.run.answers.values)
            return await self._resume(
                workflow, child_id, None, target, answers=answers, lenient=True
            )
        entry = workflow._graph.entry
        assert entry is not None
        return await self._start(workflow, input, child_id, entry, {}, None, target, fresh_id=True)


class LocalRun:
    """One execution (or resumption) of a run in this process, from its plan to the end."""

    def __init__(
        self,
        runner: LocalRunner,
        workflow: Workflow,
        run_id: str,
        run: RunState,
        target: Target,
        claim: RunClaim | None,
        *,
        stored: int = 0,
    ) -> None:
        self.runner = runner
        self.workflow = workflow
        self.name = workflow.name
        self.run_id = run_id
        self.run = run
        self.graph = workflow._graph
        self.claim = claim
        self.bus = bus = target.bus
        self.events: Emitter | None = None
        logs = target.store if isinstance(target.store, RunEventLog) else None
        keep = workflow.event_log if logs is not None else None
        if bus is not None or keep is not None:
            from gecko.compose.workflow.events import Emitter
            from gecko.compose.workflow.execution import ExecutionLog

            log = ExecutionLog(
                bus=bus, store=logs, keep=keep, workflow=workflow.name, run_id=run_id
            )
            self.events = Emitter(bus, workflow.name, run_id, log)
        self.checkpointer = _checkpointer(workflow, target, run_id, stored)
        self.summary = ExecutionSummary(run_id=run_id, workflow=workflow.name)
        self.invoker = NodeInvoker(
            name=workflow.name,
            run_id=run_id,
            run=run,
            nodes=self.graph.nodes,
            reducers=workflow.reducers,
            retry=workflow.retry,
            bus=bus,
            events=self.events,
            child=self._run_child,
        )
        self.resumed: dict[str, NodeOutcome] = {}  # the open step's completions read back
        self.interrupts: list[Interrupt] = []  # set when the run stops for answers
        self.raised = 0  # of them, asked by this execution (the others were waiting already)
        self._requested: str | None = None  # "cancel" / "suspend", from wf.cancel / wf.suspend
        self._scope: anyio.CancelScope | None = None
        self._stopped = anyio.Event()
        self.suspended = False
        self.metrics: WorkflowMetrics | None = None  # set when an SDK records metrics
        self._limit_keys: dict[str, tuple[str, ...]] = {}
        self.tracing = False
        self._failure_recorded = False
        self._running = 0  # nodes of the current parallel step still running
        self._unpublished: list[tuple[NodeOutcome, int]] = []  # completions not yet durable
        self._on_asyncio = _on_asyncio()
        limit = workflow.max_concurrency
        self._limiter = anyio.Semaphore(limit) if limit is not None else None

    def begin(self, start_node: str) -> None:
        """Buffer a new run's start entry for its first checkpoint."""
        if self.checkpointer is not None:
            run = self.run
            self.checkpointer.add(
                {
                    "kind": "start",
                    "workflow": self.name,
                    "graph": self.graph.fingerprint(),
                    "input": run.input,
                    "state": dict(run.state),
                    "wave": [start_node],
                    "plan": [{"node": start_node, "from": [INPUT_REF]}],
                    "started_at": self.summary.started_at,
                }
            )

    def result(self, output: Any, interrupts: list[Interrupt] | None = None) -> WorkflowRun:
        return WorkflowRun(
            run_id=self.run_id,
            status=self.summary.status,
            output=output,
            state=dict(self.run.state),
            history=dict(self.run.history),
            summary=self.summary,
            interrupts=list(interrupts or ()),
        )

    # --- the run -----------------------------------------------------------------------------

    async def execute(self, timeout: float | None, *, resumed: bool) -> Any:
        """Run to the end; record and publish the outcome. Raises what failed the run."""
        _RUNNING[self.run_id] = self
        try:
            checkpointer = self.checkpointer
            if checkpointer is None:
                return await self._execute(timeout, resumed)
            error: Exception | None = None
            async with anyio.create_task_group() as group:  # the async writer, the watcher
                checkpointer.group = group
                if control.can_carry(checkpointer.store):
                    group.start_soon(self._watch, checkpointer.store)
                try:
                    result = await self._execute(timeout, resumed)
                except Exception as exc:  # raised outside the group: not wrapped in a group
                    error = exc
                group.cancel_scope.cancel()  # the watcher; the writer was drained
            if error is not None:
                raise error
            return result
        finally:
            with anyio.CancelScope(shield=True):
                await self._flush_log()  # the run's last events (completed, failed, ...)
            if _RUNNING.get(self.run_id) is self:
                del _RUNNING[self.run_id]

    def request(self, action: str) -> None:
        """Honour ``action``: cancel now, or suspend at the next step boundary."""
        if self._requested == "cancel":
            return
        self._requested = action
        if action == "cancel" and self._scope is not None:
            self._scope.cancel()

    def released(self) -> None:
        """The run's lease is let go: whoever waits on ``stopped`` may take the run now."""
        self._stopped.set()

    async def stopped(self) -> str:
        """Wait until this execution has ended and let go of the run; its status."""
        await self._stopped.wait()
        return self.summary.status

    async def _watch(self, store: Any) -> None:
        """Poll the run's requests from other processes (see ``control``)."""
        while True:
            await anyio.sleep(control.POLL_INTERVAL)
            try:
                action = await control.read(store, self.run_id)
            except Exception as error:  # the store is briefly unreachable: look again later
                logger.debug("run %r: reading its requests failed: %s", self.run_id, error)
                action = None
            if action is not None:
                self.request(action)

    async def _execute(self, timeout: float | None, resumed: bool) -> Any:
        from gecko.core.telemetry.metrics import recording, workflow_metrics

        if recording():
            self.metrics = workflow_metrics(self.name)
            if not resumed:
                self.metrics.run_started()
            self.metrics.run_active(1)
        try:
            return await self._execute_traced(timeout, resumed)
        finally:
            if self.metrics is not None:
                self.metrics.run_active(-1)
                self.metrics.run_ended(self.summary.status)
                if self.raised:
                    self.metrics.interrupts_pending(self.raised)

    async def _execute_traced(self, timeout: float | None, resumed: bool) -> Any:
        from gecko.core.telemetry import workflow_span

        with workflow_span(self.name, run_id=self.run_id) as span:
            self.tracing = span.is_recording()
            if self.events is not None:
                await self.events.started(resumed)
            try:
                with anyio.CancelScope() as self._scope:
                    if self._requested == "cancel":
                        self._scope.cancel()
                    result = await self._run_to_end(timeout)
                if self._scope.cancelled_caught:
                    raise RunCancelledError(self.run_id)
            except RunCancelledError as cancelled:
                with anyio.CancelScope(shield=True):
                    await self._record_failure(None, None, status="cancelled", requested=True)
                    await self._clear_request()
                    self._finish_summary("cancelled", cancelled)
                    if self.events is not None:
                        await self.events.failed(cancelled, self.summary.as_dict())
                raise
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
            if self.interrupts:
                self._finish_summary("interrupted")
                return None
            if self.suspended:
                await self._clear_request()
                self._finish_summary("suspended")
                return None
            self._finish_summary("completed")
            if self.events is not None:
                await self.events.completed(result, self.summary.as_dict())
            return result

    async def _run_to_end(self, timeout: float | None) -> Any:
        checkpointer = self.checkpointer
        if checkpointer is not None and checkpointer.strategy is CheckpointStrategy.ALWAYS:
            await checkpointer.flush()
        if timeout is None:
            result = await self._loop()
        else:
            with anyio.move_on_after(timeout) as scope:
                result = await self._loop()
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

    async def _loop(self) -> Any:
        run = self.run
        max_steps = self.workflow.max_steps
        while run.plan:
            if self._requested == "suspend":
                await self._record_suspended()
                return None
            stop = over_budget(run, max_steps, self.name, self.run_id)
            if stop is not None:
                raise stop
            step = run.step
            outcomes = await self._run_step()
            decision = await self._decide(outcomes)
            if decision.error is not None:
                await self._fail(outcomes, decision)
            if decision.interrupts:
                await self._record_interrupts(outcomes, step, decision)
                return None
            await self._after_step(outcomes, step, decision)
        return run.result()

    async def _decide(self, outcomes: list[NodeOutcome]) -> Step:
        """Run the step function, evaluating the edge conditions it asks for."""
        decision = advance(self.graph, self.run, outcomes, self.workflow.reducers)
        holds = self.invoker.holds
        try:
            edge: Edge = next(decision)
            while True:
                edge = decision.send(await holds(edge))
        except StopIteration as stop:
            result: Step = stop.value
            return result

    # --- one step ------------------------------------------------------------------------------

    async def _run_step(self) -> list[NodeOutcome]:
        plan = self.run.plan
        step = self.run.step
        if len(plan) == 1:
            node, value, _ = plan[0]
            resumed = self.resumed.pop(node, None)
            return [resumed or await self._run_node(node, value, step, False)]
        outcomes: list[NodeOutcome | None] = [self.resumed.pop(item[0], None) for item in plan]
        todo = [i for i, outcome in enumerate(outcomes) if outcome is None]
        self._running = len(todo)
        if len(todo) == 1 or not self.workflow.enable_parallel:
            for i in todo:
                node, value, _ = plan[i]
                outcomes[i] = await self._run_node(node, value, step, len(todo) > 1)
        elif todo:
            run = self._run_node if self._limiter is None else self._run_limited
            calls = [run(plan[i][0], plan[i][1], step, True) for i in todo]
            for i, outcome in zip(todo, await self._gather(calls)):
                outcomes[i] = outcome
        return [o for o in outcomes if o is not None]

    async def _run_limited(self, node: str, value: Any, step: int, parallel: bool) -> NodeOutcome:
        """``_run_node`` under ``Workflow(max_concurrency=N)``: at most N nodes run at once."""
        assert self._limiter is not None
        async with self._limiter:
            return await self._run_node(node, value, step, parallel)

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

    async def _run_node(self, node: str, value: Any, step: int, parallel: bool) -> NodeOutcome:
        limits = self.workflow.limits
        if limits is not None:
            keys = self._limit_keys.get(node)
            if keys is None:
                keys = self._limit_keys[node] = _limit_keys(limits, self.graph.nodes[node])
            if keys:
                async with limits.hold(keys) as waited:
                    if self.metrics is not None:
                        for key, seconds in waited.items():
                            self.metrics.limit_wait(key, seconds)
                    return await self._run_node_traced(node, value, step, parallel)
        return await self._run_node_traced(node, value, step, parallel)

    async def _run_node_traced(
        self, node: str, value: Any, step: int, parallel: bool
    ) -> NodeOutcome:
        if not self.tracing:
            return await self._run_node_untraced(node, value, step, parallel)
        from gecko.core.telemetry import mark_error, node_span

        with node_span(self.name, node) as span:
            outcome = await self._run_node_untraced(node, value, step, parallel)
            if outcome.error is not None:
                mark_error(span, outcome.error)
            return outcome

    async def _run_node_untraced(
        self, node: str, value: Any, step: int, parallel: bool
    ) -> NodeOutcome:
        """Call the node; a completion in a parallel step is stored before it is announced."""
        events = self.events
        if events is not None:
            await events.node_started(node, step)
        started = _perf()
        outcome = await self.invoker.invoke(node, value, step)
        outcome.duration = _perf() - started
        if self.metrics is not None:
            kind = self.graph.nodes[node].kind_name
            self.metrics.node_duration(kind, outcome.duration, node=node, error=outcome.error)
        if parallel:
            self._running -= 1
        if outcome.error is not None:
            if events is not None:
                await events.node_failed(node, step, outcome.error, outcome.attempts)
            return outcome
        if outcome.interrupts:
            return outcome  # not complete: recorded with the step's questions
        checkpointer = self.checkpointer
        durable = (
            checkpointer is not None
            and checkpointer.wait
            and checkpointer.strategy is CheckpointStrategy.ALWAYS
        )
        if parallel and durable:
            assert checkpointer is not None
            if checkpointer.per_node:
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

    async def _publish_completed(self) -> None:
        """Publish the NodeCompleted events held back until their completions were stored,
        then store the execution events so far (after the checkpoint they describe)."""
        events = self.events
        if events is None:
            return
        held, self._unpublished = self._unpublished, []
        for outcome, step in held:
            await events.node_completed(
                outcome.node, step, outcome.duration, outcome.attempts, outcome.passed
            )
        await self._flush_log()

    async def _flush_log(self) -> None:
        events = self.events
        if events is None or events.log is None:
            return
        try:
            await events.log.flush()
        except Exception as error:  # kept buffered; the run's own outcome matters more
            logger.warning("run %r: storing its execution events failed: %s", self.run_id, error)

    async def _run_child(self, workflow: Workflow, value: Any, node: str, step: int) -> Any:
        child = await self.runner.run_child(workflow, value, self, node, step)
        self.summary.add_usage(child.summary.usage)
        if child.interrupts:  # asked inside the sub-workflow: this node waits with it
            asked = [Interrupt(i.key, f"{node}/{i.node}", i.payload) for i in child.interrupts]
            raise NodeInterrupt(asked)
        return child.output

    # --- after a step --------------------------------------------------------------------------

    async def _after_step(self, outcomes: list[NodeOutcome], step: int, decision: Step) -> None:
        """Record the merged step in the summary and the checkpoint; report skipped nodes."""
        summary = self.summary
        for outcome in outcomes:
            if outcome.resumed:
                summary.nodes_resumed.append(outcome.node)
            else:
                summary.record_node(
                    outcome.node, outcome.duration, outcome.attempts, outcome.output
                )
        summary.steps += 1
        if self.checkpointer is not None:
            await self._checkpoint_step(outcomes, step, decision)
        skipped = decision.skipped
        if skipped:
            summary.nodes_skipped.extend(skipped)
            if self.events is not None:
                for node in skipped:
                    await self.events.node_skipped(node, step + 1)

    async def _checkpoint_step(
        self, outcomes: list[NodeOutcome], step: int, decision: Step
    ) -> None:
        checkpointer = self.checkpointer
        assert checkpointer is not None
        run = self.run
        for outcome in outcomes:
            if not outcome.recorded:
                checkpointer.add(outcome.entry(step))
        checkpointer.add(
            {
                "kind": "step",
                "step": step,
                "nodes": [o.node for o in outcomes],
                "skipped": decision.skipped,
                "reduced": decision.reduced,
                "wave": decision.wave,
                "plan": [{"node": node, "from": preds} for node, _, preds in run.plan],
                "compensate": decision.compensate,
            }
        )
        if not run.plan:
            checkpointer.add(
                {"kind": "end", "result_from": run.result_from, "finished_at": time.time()}
            )
        strategy = checkpointer.strategy
        invoker = self.invoker
        if (
            strategy is CheckpointStrategy.ALWAYS
            or (strategy is CheckpointStrategy.MANUAL and invoker.checkpoint_requested)
            or (strategy is CheckpointStrategy.FINAL and not run.plan)
        ):
            invoker.checkpoint_requested = False
            await checkpointer.flush()
            await self._publish_completed()

    async def _fail(self, outcomes: list[NodeOutcome], decision: Step) -> NoReturn:
        """The run fails for good: undo what it did (if it registered compensations), record."""
        error, cause = decision.error, decision.cause
        assert error is not None and cause is not None
        if not compensations_due(self.run):
            await self._record_failure(outcomes, cause, decision.node)
            raise error
        checkpointer = self.checkpointer
        if checkpointer is not None:
            for outcome in outcomes:
                if outcome.error is None and not outcome.interrupts and not outcome.recorded:
                    checkpointer.add(outcome.entry(self.run.step))
                    outcome.recorded = True
            checkpointer.add(
                {
                    "kind": "compensating",
                    "step": self.run.step,
                    "node": decision.node,
                    "error": describe_error(cause),
                }
            )
            await checkpointer.flush()
            await checkpointer.drain()
        await self.compensate(cause, error)

    async def compensate(
        self, cause: BaseException, error: BaseException, done: Sequence[str] = ()
    ) -> NoReturn:
        """Run the due compensations latest first, each stored when done; then fail."""
        checkpointer = self.checkpointer
        failures: list[tuple[str, BaseException]] = []
        for node, undo in compensations_due(self.run, done):
            self.run.errors[undo] = cause
            outcome = await self.invoker.invoke(undo, self.run.history.get(node), self.run.step)
            self.run.errors.pop(undo, None)
            if outcome.error is not None:
                logger.error("run %r: compensation %r of %r failed: %s", self.run_id, undo, node,
                             outcome.error)  # fmt: skip
                failures.append((undo, outcome.error))
            else:
                self.summary.compensated.append(node)
            if checkpointer is not None:
                failed = None if outcome.error is None else describe_error(outcome.error)
                checkpointer.add({"kind": "compensated", "node": node, "by": undo, "error": failed})
                await checkpointer.flush()
        self._failure_recorded = False
        await self._record_failure(None, cause, None, compensated=True)
        if failures:
            raise CompensationError(self.run_id, error, failures) from error
        raise error

    async def _record_suspended(self) -> None:
        """Stop at this step boundary on request: everything so far is stored."""
        checkpointer = self.checkpointer
        if checkpointer is not None:
            checkpointer.add({"kind": "suspended", "step": self.run.step, "at": time.time()})
            await checkpointer.flush()
            await checkpointer.drain()
            if self.events is not None:
                await self.events.lifecycle("suspended", step=self.run.step)
            await self._publish_completed()
        self.suspended = True

    async def _clear_request(self) -> None:
        checkpointer = self.checkpointer
        if checkpointer is not None and self._requested is not None:
            try:
                await control.clear(checkpointer.store, self.run_id)
            except Exception as error:
                logger.warning("run %r: could not clear its request: %s", self.run_id, error)

    async def _record_interrupts(
        self, outcomes: list[NodeOutcome], step: int, decision: Step
    ) -> None:
        """Store the step's finished nodes and its questions; the run stops ``interrupted``."""
        checkpointer = self.checkpointer
        if checkpointer is None:
            keys = ", ".join(repr(i.key) for i in decision.interrupts)
            raise InterruptError(
                f"workflow {self.name!r} was interrupted ({keys}) but has no storage to keep "
                "the run while it waits for answers",
                hint="give the workflow storage (Workflow(..., storage='sqlite:///runs.db'))",
                run_id=self.run_id,
            )
        owners = self.run.answers.owners
        for outcome in outcomes:
            if outcome.error is None and not outcome.interrupts and not outcome.recorded:
                checkpointer.add(outcome.entry(step))
                outcome.recorded = True
        checkpointer.add(
            {
                "kind": "interrupted",
                "step": step,
                "interrupts": {
                    i.key: {"node": owners[i.key], "path": i.node, "payload": i.payload}
                    for i in decision.interrupts
                },
            }
        )
        await checkpointer.flush()
        await checkpointer.drain()
        if self.events is not None:
            await self.events.lifecycle(
                "interrupted",
                interrupts=[
                    {"key": i.key, "node": i.node, "payload": i.payload}
                    for i in decision.interrupts
                ],
            )
        await self._publish_completed()
        self.interrupts = list(decision.interrupts)
        self.raised = sum(len(o.interrupts or ()) for o in outcomes if not o.resumed)

    async def _record_failure(
        self,
        outcomes: Sequence[NodeOutcome] | None,
        error: BaseException | None,
        node: str | None = None,
        *,
        status: str = "failed",
        requested: bool = False,
        compensated: bool = False,
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
                checkpointer.add(outcome.entry(self.run.step))
        entry: dict[str, Any] = {
            "kind": "failed",
            "step": self.run.step,
            "node": node,
            "error": None
            if error is None
            else {"type": type(error).__name__, "message": str(error)},
            "failed_at": time.time(),
        }
        if status != "failed":
            entry["status"] = status
        if requested:
            entry["requested"] = True  # wf.cancel: final
        if compensated:
            entry["compensated"] = True  # what it did was undone: final
        checkpointer.add(entry)
        if checkpointer.strategy is CheckpointStrategy.MANUAL and not requested:
            return
        if status == "cancelled":
            checkpointer.wait = True  # the background writer's task group is being cancelled
        try:
            await checkpointer.flush()
            await checkpointer.drain()
            if status != "cancelled":
                await self._publish_completed()  # the failed step's finished nodes are stored
        except Exception as exc:
            logger.warning(
                "workflow %r run %r: could not checkpoint the failure (%s: %s); a resume "
                "restarts from the last checkpoint written",
                self.name,
                self.run_id,
                type(exc).__name__,
                exc,
            )


def _claim(workflow: Workflow, run_id: str, store: CheckpointStore | None, wait: bool) -> RunClaim:
    return RunClaim(workflow._active, run_id, store, ttl=workflow.lease_ttl, wait=wait)


async def _target_of(workflow: Workflow) -> Target:
    return Target(
        await workflow._storage.open(),
        workflow.checkpoint_strategy,
        workflow.durability,
        workflow.event_bus,
    )


def _checkpointer(
    workflow: Workflow, target: Target, run_id: str, stored: int
) -> Checkpointer | None:
    if target.store is None:
        return None
    return Checkpointer(
        target.store,
        run_id,
        strategy=target.strategy,
        keep_last=workflow.keep_checkpoints,
        stored=stored,
        durability=target.durability,
    )


def _timeout(workflow: Workflow, timeout: float | None) -> float | None:
    return workflow.timeout if timeout is None else timeout


def _check_record(workflow: Workflow, record: RunRecord) -> None:
    """Refuse a record written for another graph; note one written by another workflow name."""
    if record.workflow not in (None, workflow.name):
        logger.warning(
            "run %r was started by workflow %r, resumed by %r",
            record.run_id,
            record.workflow,
            workflow.name,
        )
    fingerprint = workflow._graph.fingerprint()
    if record.graph not in (None, fingerprint) and record.status != "completed":
        raise CheckpointCorruptError(
            record.run_id,
            record.seq,
            f"it was recorded for another graph (fingerprint {record.graph}) than workflow "
            f"{workflow.name!r} has now ({fingerprint})",
            missing=f"a record of graph {fingerprint}",
        )


def _answered_metric(workflow: str, count: int) -> None:
    from gecko.core.telemetry.metrics import recording, workflow_metrics

    if recording():
        workflow_metrics(workflow).interrupts_pending(-count)


async def _stop_idle(store: Any, run_id: str, record: RunRecord, action: str) -> str:
    """Cancel or suspend a run nobody executes (crashed, interrupted, suspended, failed)."""
    if action == "suspend":
        if record.status in ("running",):
            entry: dict[str, Any] = {"kind": "suspended", "step": record.step, "at": time.time()}
            await store.append_checkpoint(run_id, {"format": FORMAT, "entries": [entry]})
            return "suspended"
        return record.status
    entry = {
        "kind": "failed",
        "step": record.step,
        "node": None,
        "error": None,
        "failed_at": time.time(),
        "status": "cancelled",
        "requested": True,
    }
    await store.append_checkpoint(run_id, {"format": FORMAT, "entries": [entry]})
    await control.clear(store, run_id)
    return "cancelled"


async def _await_honoured(store: Any, run_id: str, action: str, ttl: float) -> str:
    """Wait until the owner honours ``action`` (or dies: then its lease expires and we do)."""
    wanted = {"cancel": ("cancelled", "completed"), "suspend": ("suspended", "completed")}[action]
    delay = 0.02
    while True:
        record = await load_record(store, run_id)
        if record.status in wanted or record.final:
            return record.status
        if action == "suspend" and record.status in ("interrupted", "failed", "timed_out"):
            return record.status  # stopped on its own: nothing left to suspend
        lease = await store.get_lease(run_id)
        if lease is None:  # the owner stopped without honouring it (crashed): do it here
            claim = RunClaim(set(), run_id, store, ttl=ttl)
            try:
                async with claim:
                    return await _stop_idle(store, run_id, await load_record(store, run_id), action)
            except RunInProgressError:
                pass  # someone resumed it meanwhile: they see the request
        await anyio.sleep(delay)
        delay = min(delay * 2, 0.5)


def _on_asyncio() -> bool:
    """Whether this task runs on asyncio (where plain tasks are cheaper than task groups)."""
    try:
        return asyncio.current_task() is not None
    except RuntimeError:  # no asyncio loop: trio
        return False
