"""``Workflow``: build a graph of nodes, execute it, checkpoint it, resume it, travel back in time."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from gecko.compose.errors import (
    CheckpointCorruptError,
    RunExistsError,
    RunNotFoundError,
    WorkflowValidationError,
)
from gecko.compose.workflow import codec
from gecko.compose.workflow.engine import Run
from gecko.compose.workflow.executor import build_node, check_timeout
from gecko.compose.workflow.graph import Graph
from gecko.compose.workflow.lease import DEFAULT_TTL, RunClaim, supports_leases
from gecko.compose.workflow.persistence import (
    Checkpointer,
    CheckpointStrategy,
    compact_checkpoints,
    load_checkpoints,
    load_record,
)
from gecko.compose.workflow.record import (
    FORMAT,
    CheckpointInfo,
    RunRecord,
    RunSnapshot,
    describe,
    fold,
    snapshot_of,
)
from gecko.compose.workflow.resume import restore
from gecko.compose.workflow.state import Reducer, check_state_key
from gecko.compose.workflow.summary import ExecutionSummary, WorkflowRun
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
    without it nothing is persisted and runs cannot be resumed.
    """

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
    ) -> None:
        check_str("workflow name", name)
        if storage is not None and not isinstance(storage, str):
            _check_store(storage)
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
        self.max_concurrency = max_concurrency
        self.lease_ttl = check_number(
            "lease_ttl",
            lease_ttl,
            above=0,
            unit="seconds",
            hint="seconds a dead worker's run stays claimed before another process may resume it",
        )
        if durability not in ("sync", "async"):
            raise ConfigurationError(
                f"durability must be 'sync' or 'async', got {durability!r}",
                hint="'sync': each checkpoint is stored before the next step starts; 'async': "
                "checkpoints are written in the background while the run goes on",
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
        self._validated = -1
        self._fingerprint: tuple[int, str] | None = None
        self._store: CheckpointStore | None = storage if not isinstance(storage, str) else None
        self._owns_store = False
        self._store_lock = anyio.Lock()
        self._active: set[str] = set()

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
    ) -> Self:
        """Add a node: a sync/async function, an Agent, a Team or a Workflow (sub-workflow)."""
        if node is self:
            raise WorkflowValidationError(f"workflow {self.name!r} cannot be a node of itself")
        self._graph.add_node(name, build_node(name, node, retry=retry, timeout=timeout))
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
        self._validated = self._graph.version

    def _ensure_valid(self) -> None:
        if self._validated != self._graph.version:
            self.validate()

    def layers(self) -> list[list[str]]:
        """The static execution layers from the entry point (every edge taken)."""
        self._ensure_valid()
        return self._graph.layers()

    def to_mermaid(self) -> str:
        """The graph as a Mermaid flowchart (conditional and back edges dashed)."""
        return self._graph.to_mermaid()

    def fingerprint(self) -> str:
        """A hash of the graph's shape, stored with each run to notice changes on resume."""
        graph = self._graph
        if self._fingerprint is not None and self._fingerprint[0] == graph.version:
            return self._fingerprint[1]
        shape = {
            "nodes": list(graph.nodes),
            "edges": [[e.source, e.target, e.condition is not None] for e in graph.edges],
            "entry": graph.entry,
        }
        digest = hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]
        self._fingerprint = (graph.version, digest)
        return digest

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
    ) -> Any:
        """Run the workflow on ``input`` and return the result.

        The result is the output of the last step's node (several nodes: a dict
        of their outputs), or the input of ``Next(END, ...)``. ``session_id`` is
        the run id checkpoints are stored under (new runs only; use ``resume`` to
        continue one). ``return_run=True`` returns a WorkflowRun (output, state,
        history, summary) instead. A run has one owner at a time: while another
        worker executes ``session_id``, this raises RunInProgressError, or with
        ``wait=True`` waits for that worker's lease to end first.
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
        target = await self._own_target()
        run = await self._start(
            input, run_id, start, initial, timeout, target, new=session_id is None, wait=wait
        )
        return run if return_run else run.output

    async def resume(
        self,
        session_id: str,
        *,
        timeout: float | None = None,
        return_run: bool = False,
        wait: bool = False,
    ) -> Any:
        """Continue run ``session_id`` from its last checkpoint; return its result.

        Completed nodes are not run again; a node interrupted mid-flight runs
        again with the same ``ctx.idempotency_key``. A completed run returns its
        stored result without running anything. While another worker executes the
        run this raises RunInProgressError (naming it and when its lease expires),
        or with ``wait=True`` waits for the lease, then resumes or returns the result.
        """
        self._ensure_valid()
        check_timeout(timeout, "resume()")
        await self._require_store("resume")
        run = await self._resume(_run_id(session_id), timeout, await self._own_target(), wait)
        return run if return_run else run.output

    async def replay(
        self,
        session_id: str,
        seq: int,
        *,
        new_session_id: str | None = None,
        update_state: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        return_run: bool = False,
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
            record.status, record.error = "running", None
        async with self._claim(new_id, store) as claim:
            if await store.get_checkpoint(new_id) is not None:
                raise RunExistsError(
                    f"run {new_id!r} already exists", hint="pick another new_session_id"
                )
            await store.append_checkpoint(
                new_id, {"format": FORMAT, "entries": [record.snapshot_entry()]}
            )
            run = await self._continue(record, new_id, timeout, await self._own_target(), 1, claim)
        return run if return_run else run.output

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
        """Close the store this workflow opened from a URL (a store passed in is left open)."""
        if self._owns_store and self._store is not None:
            store, self._store = self._store, None
            self._owns_store = False
            close = getattr(store, "close", None)
            if close is not None:
                await close()

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

    async def _open_store(self) -> CheckpointStore | None:
        if self._store is not None or not isinstance(self.storage, str):
            return self._store
        async with self._store_lock:
            if self._store is None:
                from gecko.core.factories import create_storage

                store = await create_storage(self.storage, kind="kv")
                try:
                    _check_store(
                        store, f"the store opened from {self.storage.split('://', 1)[0]}://"
                    )
                except ConfigurationError:
                    close = getattr(store, "close", None)
                    if close is not None:
                        await close()
                    raise
                self._store, self._owns_store = store, True
        return self._store

    async def _require_store(self, what: str) -> CheckpointStore:
        store = await self._open_store()
        if store is None:
            raise RunNotFoundError(
                f"workflow {self.name!r} has no storage, so it has no runs to {what}",
                hint="create it with Workflow(..., storage='sqlite:///runs.db') (or another store)",
            )
        return store

    def _claim(self, run_id: str, store: CheckpointStore | None, wait: bool = False) -> RunClaim:
        return RunClaim(self._active, run_id, store, ttl=self.lease_ttl, wait=wait)

    async def _own_target(self) -> _Target:
        return _Target(
            await self._open_store(), self.checkpoint_strategy, self.durability, self.event_bus
        )

    def _checkpointer(self, target: _Target, run_id: str, stored: int = 0) -> Checkpointer | None:
        if target.store is None:
            return None
        return Checkpointer(
            target.store,
            run_id,
            strategy=target.strategy,
            keep_last=self.keep_checkpoints,
            stored=stored,
            durability=target.durability,
        )

    async def _start(
        self,
        input: Any,
        run_id: str,
        start: str,
        state: dict[str, Any],
        timeout: float | None,
        target: _Target,
        *,
        new: bool = False,
        wait: bool = False,
    ) -> WorkflowRun:
        store = target.store
        async with self._claim(run_id, store, wait) as claim:
            if store is not None and not new and await store.get_checkpoint(run_id) is not None:
                raise RunExistsError(
                    f"run {run_id!r} already has checkpoints",
                    hint=f"continue it with resume({run_id!r}), or execute with a new session_id",
                    run_id=run_id,
                )
            run = Run(self, run_id, bus=target.bus, checkpointer=self._checkpointer(target, run_id))
            run.claim = claim
            run.begin(input, start, state)
            output = await run.execute(self.timeout if timeout is None else timeout, resumed=False)
            return _result(run, output)

    async def _resume(
        self, run_id: str, timeout: float | None, target: _Target, wait: bool = False
    ) -> WorkflowRun:
        assert target.store is not None
        async with self._claim(run_id, target.store, wait) as claim:
            checkpoints = await load_checkpoints(target.store, run_id)
            record = await anyio.to_thread.run_sync(fold, run_id, checkpoints)
            return await self._continue(record, run_id, timeout, target, len(checkpoints), claim)

    async def _continue(
        self,
        record: RunRecord,
        run_id: str,
        timeout: float | None,
        target: _Target,
        stored: int,
        claim: RunClaim | None = None,
    ) -> WorkflowRun:
        if record.workflow not in (None, self.name):
            logger.warning(
                "run %r was started by workflow %r, resumed by %r",
                run_id,
                record.workflow,
                self.name,
            )
        if record.graph not in (None, self.fingerprint()) and record.status != "completed":
            raise CheckpointCorruptError(
                run_id,
                record.seq,
                f"it was recorded for another graph (fingerprint {record.graph}) than workflow "
                f"{self.name!r} has now ({self.fingerprint()})",
                missing=f"a record of graph {self.fingerprint()}",
            )
        run = Run(
            self, run_id, bus=target.bus, checkpointer=self._checkpointer(target, run_id, stored)
        )
        run.claim = claim
        await anyio.to_thread.run_sync(restore, run, record)
        if record.status == "completed":
            run.summary.finish("completed")
            run.result_from = list(record.result_from or [])
            return _result(run, run.result())
        output = await run.execute(self.timeout if timeout is None else timeout, resumed=True)
        return _result(run, output)

    async def _run_as_node(self, input: Any, *, parent: Run, node: str, step: int) -> WorkflowRun:
        """Run as a node of ``parent``: a child run id derived from the parent's node execution.

        Without storage of its own, the child checkpoints into the parent's store
        (with the parent's strategy and durability); if the parent is resumed after
        a crash inside this node, the child run is resumed (or its stored result
        returned) instead of starting over.
        """
        self._ensure_valid()
        child_id = f"{parent.run_id}/{node}/{step}"
        target = await self._own_target()
        if target.store is None and parent.checkpointer is not None:
            inherited = parent.checkpointer
            target = _Target(inherited.store, inherited.strategy, inherited.durability, target.bus)
        if target.bus is None:
            target = _Target(target.store, target.strategy, target.durability, parent.bus)
        if target.store is not None and await target.store.get_checkpoint(child_id) is not None:
            return await self._resume(child_id, None, target)
        start = self._graph.entry
        assert start is not None
        return await self._start(input, child_id, start, {}, None, target, new=True)


@dataclass(frozen=True, slots=True)
class _Target:
    """Where and how a run checkpoints, and where it publishes events."""

    store: CheckpointStore | None
    strategy: CheckpointStrategy
    durability: str
    bus: EventBus | None


def _result(run: Run, output: Any) -> WorkflowRun:
    summary: ExecutionSummary = run.summary
    return WorkflowRun(
        run_id=run.run_id,
        status=summary.status,
        output=output,
        state=dict(run.state),
        history=dict(run.history),
        summary=summary,
    )


def _check_store(store: Any, what: str | None = None) -> None:
    """Refuse what is no CheckpointStore, naming the lease methods an older store lacks."""
    if isinstance(store, CheckpointStore):
        return
    subject = what or f"storage ({type(store).__name__})"
    if callable(getattr(store, "append_checkpoint", None)) and not supports_leases(store):
        raise ConfigurationError(
            f"{subject} stores checkpoints but implements no run leases "
            "(acquire_lease, renew_lease, release_lease, get_lease)",
            hint="implement them (see gecko.core.protocols.CheckpointStore) and prove them with "
            "gecko.core.testing.CheckpointStoreConformance, or upgrade the store's package",
        )
    raise ConfigurationError(
        f"{subject} is not a CheckpointStore or a storage URL",
        hint="e.g. storage='sqlite:///runs.db' or storage=await create_storage('memory://')",
    )


def _run_id(session_id: Any) -> str:
    return check_str("session_id", session_id, non_blank=True)
