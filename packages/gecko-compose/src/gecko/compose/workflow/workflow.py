"""``Workflow``: build a graph of nodes, execute it, checkpoint it, resume it, travel back in time."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from gecko.compose.context import WorkflowContext
from gecko.compose.errors import (
    InterruptError,
    RunCancelledError,
    RunExistsError,
    RunFailedError,
    RunInterrupted,
    RunNotFoundError,
    RunSuspended,
    WorkflowValidationError,
)
from gecko.compose.limits import Limits, as_limits
from gecko.compose.targets import TargetKind
from gecko.compose.workflow import codec
from gecko.compose.workflow.calls import build_node, check_timeout
from gecko.compose.workflow.checkpointer import (
    CheckpointStrategy,
    compact_checkpoints,
    load_checkpoints,
    load_record,
)
from gecko.compose.workflow.graph import Graph
from gecko.compose.workflow.lease import DEFAULT_TTL, RunClaim
from gecko.compose.workflow.lifecycle import STATUSES, RunHandle, RunInfo, info_of, until_under_way
from gecko.compose.workflow.record import (
    FORMAT,
    CheckpointInfo,
    RunSnapshot,
    describe,
    snapshot_of,
)
from gecko.compose.workflow.runners import DEFAULT_RUNNER, Runner, get_runner
from gecko.compose.workflow.state import Reducer, check_state_key
from gecko.compose.workflow.storage import RunStorage
from gecko.compose.workflow.summary import WorkflowRun
from gecko.core.errors import ConfigurationError
from gecko.core.protocols import CheckpointStore
from gecko.core.retry import RetryPolicy
from gecko.core.validation import check_int, check_number, check_str

if TYPE_CHECKING:
    from typing_extensions import Self

    from gecko.core.events import EventBus

logger = logging.getLogger(__name__)


class Workflow:
    """A graph of nodes run in parallel layers, with copy-on-write state and checkpoints.

    See ``docs/workflows.md``. ``storage`` is a CheckpointStore or a URL
    (``memory://``, ``sqlite:///path.db``, ``redis://...``) opened on first use;
    without it nothing is persisted and runs cannot be resumed. ``runner`` is where
    runs execute: ``"local"`` (this process) or a plugin's URL (``temporal://...``).
    """

    _gecko_target_kind = TargetKind.WORKFLOW

    def __init__(
        self,
        name: str = "workflow",
        *,
        storage: CheckpointStore | str | None = None,
        checkpoint_strategy: CheckpointStrategy | str = CheckpointStrategy.ALWAYS,
        enable_parallel: bool = True,
        allow_cycles: bool = False,
        max_steps: int = 10_000,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        reducers: Mapping[str, Reducer] | None = None,
        event_bus: EventBus | None = None,
        keep_checkpoints: int | None = None,
        durability: str = "sync",
        lease_ttl: float = DEFAULT_TTL,
        max_concurrency: int | None = None,
        runner: Runner | str = DEFAULT_RUNNER,
        event_log: int | None = None,
        limits: Limits | Mapping[str, int] | None = None,
    ) -> None:
        check_str("workflow name", name)
        self._storage = RunStorage(storage)
        try:
            self.checkpoint_strategy = CheckpointStrategy(checkpoint_strategy)
        except ValueError:
            raise ConfigurationError(
                f"unknown checkpoint strategy {checkpoint_strategy!r}",
                hint="use CheckpointStrategy.ALWAYS, FINAL or MANUAL",
            ) from None
        check_int("max_steps", max_steps, minimum=1)
        check_timeout(timeout, f"workflow {name!r}")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ConfigurationError(f"retry must be a RetryPolicy, got {retry!r}")
        for key, reducer in (reducers or {}).items():
            check_state_key(key)
            if not callable(reducer):
                raise ConfigurationError(
                    f"the reducer of state key {key!r} must be callable, got {reducer!r}"
                )
        check_int("keep_checkpoints", keep_checkpoints, minimum=1, allow_none=True)
        check_int("max_concurrency", max_concurrency, minimum=1, allow_none=True)
        check_int("event_log", event_log, minimum=1, allow_none=True)
        self.limits = as_limits(limits)
        self.event_log = event_log
        self.max_concurrency = max_concurrency
        self.lease_ttl = check_number(
            "lease_ttl",
            lease_ttl,
            above=0,
            unit="seconds",
            hint="seconds a dead worker's run stays claimed before another process may resume it",
        )
        if durability not in ("sync", "step", "async"):
            raise ConfigurationError(
                f"durability must be 'sync', 'step' or 'async', got {durability!r}",
                hint="'sync': each node's completion is stored as it finishes; 'step': once per "
                "step, the nodes of a parallel step together; 'async': checkpoints are written "
                "in the background while the run goes on",
            )
        self.name = name
        self.storage = storage
        self.durability = durability
        self.enable_parallel = enable_parallel
        self.allow_cycles = allow_cycles
        self.max_steps = max_steps
        self.timeout = timeout
        self.retry = retry
        self.reducers: dict[str, Reducer] = dict(reducers or {})
        self.event_bus = event_bus
        self.keep_checkpoints = keep_checkpoints
        self._graph = Graph()
        self._active: set[str] = set()
        self.runner = runner
        self._runner: Runner | None = None
        self._tasks: dict[str, asyncio.Task[Any]] = {}  # runs started here (start())

    def __repr__(self) -> str:
        return f"Workflow(name={self.name!r}, nodes={len(self._graph.nodes)}, edges={len(self._graph.edges)})"

    # --- building --------------------------------------------------------------------------

    def add_node(
        self,
        name: str,
        node: Any,
        *,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        tags: Sequence[str] = (),
        catch: Mapping[type[BaseException] | str, str] | None = None,
        compensate: str | None = None,
    ) -> Self:
        """Add a node: a sync/async function, an Agent, a Team or a Workflow (sub-workflow).

        ``tags`` name the node for ``limits`` (``"tag:<name>"``). ``catch`` routes a failure
        (after the retries) to a fallback node: ``{TimeoutError: "use_cache"}``; the first
        matching type wins, the fallback gets the failed node's input and ``ctx.error``.
        ``compensate`` names the node that undoes this one: once this node succeeded, if the
        run later fails for good, it runs (latest first) with this node's output as input.
        """
        if node is self:
            raise WorkflowValidationError(f"workflow {self.name!r} cannot be a node of itself")
        if isinstance(tags, str):
            tags = (tags,)
        spec = build_node(
            name, node, retry=retry, timeout=timeout, tags=tuple(tags), catch=catch,
            compensate=compensate,
        )  # fmt: skip
        self._graph.add_node(name, spec)
        return self

    def add_human(self, name: str, prompt: Any = None) -> Self:
        """Add a node that asks a person: an interrupt keyed by ``name``.

        Its payload is ``{"prompt": prompt, "input": <the node's input>}``; the run waits
        (``interrupted``) until ``resume(session_id, answers={name: answer})``, and the
        answer becomes the node's output.
        """
        check_str("human node name", name)
        spec = build_node(
            name, human_node(name, prompt), retry=None, timeout=None, kind_name="human"
        )
        self._graph.add_node(name, spec)
        return self

    def add_edge(
        self, source: str, target: str, condition: Callable[..., Any] | None = None
    ) -> Self:
        """Run ``target`` after ``source``; with ``condition`` (sync or async) only when it holds.

        The condition receives ``source``'s output, or the context when its
        parameter is named ``ctx``/``context``; an exception counts as false.
        """
        self._graph.add_edge(source, target, condition)
        return self

    def set_entry_point(self, name: str) -> Self:
        self._graph.set_entry(name)
        return self

    @property
    def nodes(self) -> list[str]:
        return list(self._graph.nodes)

    @property
    def entry_point(self) -> str | None:
        return self._graph.entry

    def validate(self) -> None:
        """Check the graph; raises WorkflowValidationError (a cycle error shows the cycle path)."""
        self._graph.validate(allow_cycles=self.allow_cycles)

    def _ensure_valid(self) -> None:
        self._graph.ensure_valid(allow_cycles=self.allow_cycles)

    def layers(self) -> list[list[str]]:
        """The static execution layers from the entry point (every edge taken)."""
        self._ensure_valid()
        return self._graph.layers()

    def to_mermaid(self) -> str:
        """The graph as a Mermaid flowchart (conditional and back edges dashed)."""
        return self._graph.to_mermaid()

    def fingerprint(self) -> str:
        """A hash of the graph's shape, stored with each run to notice changes on resume."""
        return self._graph.fingerprint()

    # --- running -------------------------------------------------------------------------------

    async def execute(
        self,
        input: Any = None,
        session_id: str | None = None,
        start_node: str | None = None,
        timeout: float | None = None,
        *,
        state: Mapping[str, Any] | None = None,
        return_run: bool = False,
        wait: bool = False,
        runner: Runner | str | None = None,
    ) -> Any:
        """Run the workflow on ``input`` and return the result.

        The result is the output of the last step's node (several nodes: a dict
        of their outputs), or the input of ``Next(END, ...)``. ``session_id`` is
        the run id checkpoints are stored under (new runs only; use ``resume`` to
        continue one). ``return_run=True`` returns a WorkflowRun (output, state,
        history, summary) instead. A run has one owner at a time: while another
        worker executes ``session_id``, this raises RunInProgressError, or with
        ``wait=True`` waits for that worker's lease to end first. ``runner`` overrides
        the workflow's runner for this run.
        """
        self._ensure_valid()
        start = start_node or self._graph.entry
        assert start is not None
        self._graph.require_node(start, "start_node")
        check_timeout(timeout, "execute()")
        run_id = _run_id(session_id) if session_id is not None else uuid.uuid4().hex
        initial = {}
        for key, value in (state or {}).items():
            initial[check_state_key(key)] = value
        run = await self._runner_for(runner).execute(
            self,
            input,
            run_id=run_id,
            start_node=start,
            state=initial,
            timeout=timeout,
            fresh_id=session_id is None,
            wait=wait,
        )
        return _returned(run, return_run)

    async def resume(
        self,
        session_id: str,
        *,
        timeout: float | None = None,
        return_run: bool = False,
        wait: bool = False,
        runner: Runner | str | None = None,
        answers: Mapping[str, Any] | None = None,
    ) -> Any:
        """Continue run ``session_id`` from its last checkpoint; return its result.

        Completed nodes are not run again; a node interrupted mid-flight runs
        again with the same ``ctx.idempotency_key``. A completed run returns its
        stored result without running anything. While another worker executes the
        run this raises RunInProgressError (naming it and when its lease expires),
        or with ``wait=True`` waits for the lease, then resumes or returns the result.
        ``answers`` answer an interrupted run's pending interrupts by key (some or all:
        while any is pending the run stays interrupted and this raises RunInterrupted).
        """
        self._ensure_valid()
        check_timeout(timeout, "resume()")
        await self._require_store("resume")
        if answers is not None and not isinstance(answers, Mapping):
            raise InterruptError(
                f"answers must be a mapping of interrupt key to answer, got {answers!r}",
                hint='resume(session_id, answers={"approve": True})',
            )
        run = await self._runner_for(runner).resume(
            self, _run_id(session_id), timeout=timeout, wait=wait, answers=answers
        )
        return _returned(run, return_run)

    async def start(
        self,
        input: Any = None,
        session_id: str | None = None,
        start_node: str | None = None,
        timeout: float | None = None,
        *,
        state: Mapping[str, Any] | None = None,
        runner: Runner | str | None = None,
    ) -> RunHandle:
        """Start a run in the background and return its handle once it is under way.

        The run executes in a task of this event loop (asyncio); ``handle.result()``
        waits for it, ``handle.cancel()`` / ``suspend()`` stop it, and ``wf.handle(id)``
        in any process with the same storage sees it too.
        """
        run_id = _run_id(session_id) if session_id is not None else uuid.uuid4().hex
        self._ensure_valid()
        loop = asyncio.get_running_loop()
        call = self.execute(
            input, run_id, start_node, timeout, state=state, return_run=True, runner=runner
        )
        task = loop.create_task(call, name=f"gecko run {run_id}")
        self._tasks[run_id] = task
        task.add_done_callback(lambda done: self._forget(run_id, done))
        handle = RunHandle(self, run_id, task)
        await until_under_way(self, run_id, task)
        return handle

    def handle(self, session_id: str) -> RunHandle:
        """A handle to run ``session_id``, started here or by any process sharing the storage."""
        run_id = _run_id(session_id)
        return RunHandle(self, run_id, self._tasks.get(run_id))

    async def cancel(self, session_id: str, *, runner: Runner | str | None = None) -> str:
        """Cancel the run wherever it executes; return its status afterwards.

        Running nodes are cancelled at once and the run ends ``cancelled`` (final: it
        never resumes). A run nobody executes (crashed, suspended, interrupted, failed)
        is marked cancelled here; a completed or cancelled run is left as is.
        """
        return await self._runner_for(runner).cancel(self, _run_id(session_id))

    async def suspend(self, session_id: str, *, runner: Runner | str | None = None) -> str:
        """Stop the run at its next node boundary, everything so far stored; its status.

        ``resume`` continues a suspended run exactly where it stopped.
        """
        return await self._runner_for(runner).suspend(self, _run_id(session_id))

    async def runs(self, status: str | None = None, *, prefix: str = "") -> list[RunInfo]:
        """The runs in this workflow's store (optionally only those with ``status``)."""
        if status is not None and status not in STATUSES:
            raise ConfigurationError(
                f"unknown run status {status!r}", hint=f"one of {', '.join(STATUSES)}"
            )
        store = await self._require_store("list")
        found = []
        for run_id in await store.list_runs(prefix):
            try:
                record = await load_record(store, run_id)
            except RunNotFoundError:
                continue  # deleted meanwhile
            if status is None or record.status == status:
                found.append(info_of(record))
        return found

    def _forget(self, run_id: str, task: asyncio.Task[Any]) -> None:
        if self._tasks.get(run_id) is task:
            del self._tasks[run_id]
        if not task.cancelled() and task.exception() is not None:
            logger.debug("run %r ended with %r", run_id, task.exception())

    async def replay(
        self,
        session_id: str,
        seq: int,
        *,
        new_session_id: str | None = None,
        update_state: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        return_run: bool = False,
        runner: Runner | str | None = None,
    ) -> Any:
        """Time travel: run again from checkpoint ``seq`` of ``session_id`` as a new run (a fork).

        The fork starts from the state and plan stored at ``seq`` (optionally
        changed by ``update_state``) and runs the rest of the workflow; the
        original run is left untouched. Its id is ``new_session_id`` or
        ``"<session_id>@<seq>-<random>"``; idempotency keys derive from it, so
        the replayed nodes' side effects happen again.
        """
        self._ensure_valid()
        check_timeout(timeout, "replay()")
        store = await self._require_store("replay")
        record = await load_record(store, _run_id(session_id), upto_seq=seq)
        new_id = (
            _run_id(new_session_id)
            if new_session_id is not None
            else f"{session_id}@{seq}-{uuid.uuid4().hex[:8]}"
        )
        for key, value in (update_state or {}).items():
            record.state[check_state_key(key)] = codec.encode(value, key=key, what="update_state")
        record.forked_from = {"run_id": session_id, "seq": record.seq}
        record.run_id = new_id
        if record.status in ("failed", "cancelled", "timed_out"):
            record.status, record.error, record.final = "running", None, False
        async with self._claim(new_id, store):
            if await store.get_checkpoint(new_id) is not None:
                raise RunExistsError(
                    f"run {new_id!r} already exists", hint="pick another new_session_id"
                )
            await store.append_checkpoint(
                new_id, {"format": FORMAT, "entries": [record.snapshot_entry()]}
            )
        run = await self._runner_for(runner).resume(self, new_id, timeout=timeout)
        return _returned(run, return_run)

    # --- inspecting and maintaining checkpoints ----------------------------------------------------

    async def history(self, session_id: str) -> list[CheckpointInfo]:
        """The run's checkpoints, oldest first: seq, time, steps and nodes each one recorded."""
        store = await self._require_store("history")
        return [describe(c) for c in await load_checkpoints(store, _run_id(session_id))]

    async def get_state(self, session_id: str, seq: int | None = None) -> RunSnapshot:
        """The run as of checkpoint ``seq`` (default: the latest): state, history, next nodes, result."""
        store = await self._require_store("get_state")
        record = await load_record(store, _run_id(session_id), upto_seq=seq)
        return await anyio.to_thread.run_sync(snapshot_of, record)

    async def compact(self, session_id: str, through_seq: int | None = None) -> int:
        """Squash the run's checkpoints up to ``through_seq`` (default: all) into one snapshot."""
        store = await self._require_store("compact")
        return await compact_checkpoints(store, _run_id(session_id), through_seq)

    async def aclose(self) -> None:
        """Cancel runs still going in the background (``start``), then close the store
        this workflow opened from a URL (a store passed in is left open). A run cancelled
        this way is recorded ``cancelled`` but may be resumed later (unlike ``cancel``)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        await self._storage.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- internals ----------------------------------------------------------------------------------

    async def _require_store(self, what: str) -> CheckpointStore:
        return await self._storage.require(self.name, what)

    def _claim(self, run_id: str, store: CheckpointStore | None, wait: bool = False) -> RunClaim:
        return RunClaim(self._active, run_id, store, ttl=self.lease_ttl, wait=wait)

    def _runner_for(self, runner: Runner | str | None) -> Runner:
        """The runner a run executes on: ``runner`` if given, else the workflow's (resolved once)."""
        if runner is not None:
            return get_runner(runner)
        if self._runner is None:
            self._runner = get_runner(self.runner)
        return self._runner


def human_node(name: str, prompt: Any) -> Callable[[Any, WorkflowContext], Any]:
    """The function behind ``add_human``: ask, and return the answer."""

    async def human(value: Any, ctx: WorkflowContext) -> Any:
        return await ctx.interrupt({"prompt": prompt, "input": value}, key=name)

    human.__qualname__ = f"human({name!r})"
    return human


def _returned(run: WorkflowRun, return_run: bool) -> Any:
    """What execute/resume return: the run, or its output (RunInterrupted while it waits)."""
    if return_run:
        return run
    if run.status == "interrupted":
        raise RunInterrupted(run)
    if run.status == "suspended":
        raise RunSuspended(run.run_id)
    if run.status == "cancelled":
        raise RunCancelledError(run.run_id)
    if run.status == "failed":  # a final failure (its compensations ran): nothing to resume
        raise RunFailedError(
            f"run {run.run_id!r} failed, and what it had done was compensated: it is final",
            hint="start a new run to try again",
            run_id=run.run_id,
        )
    return run.output


def _run_id(session_id: Any) -> str:
    return check_str("session_id", session_id, non_blank=True)
