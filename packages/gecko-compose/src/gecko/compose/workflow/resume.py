"""Resuming a run: exclusive claims on a run, and loading a folded record into a fresh Run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from gecko.compose.errors import RunExistsError
from gecko.compose.nodes import Next
from gecko.compose.workflow import codec
from gecko.compose.workflow.engine import Run
from gecko.compose.workflow.outcome import NodeOutcome
from gecko.compose.workflow.record import RunRecord, decode_values, plan_refs
from gecko.compose.workflow.state import NodeDiff
from gecko.core.errors import LockError
from gecko.core.protocols import CheckpointStore

LOCK_PREFIX = "gecko:workflow:"
LOCK_TTL = 60.0
"""Seconds a crashed worker's run lock outlives it (renewed while the run goes on)."""


@asynccontextmanager
async def claim_run(
    active: set[str], run_id: str, store: CheckpointStore | None
) -> AsyncIterator[None]:
    """One executor per run: in this process (``active``), and across processes when the store locks.

    A store with a ``lock(name, timeout=, blocking_timeout=, renew=)`` method (the
    Redis store) gives a distributed lock named ``gecko:workflow:<run id>``, held
    and renewed for as long as the run executes; a second worker trying to execute
    or resume the same run fails at once with RunExistsError.
    """
    if run_id in active:
        raise RunExistsError(f"run {run_id!r} is already executing in this process")
    active.add(run_id)
    try:
        make_lock = getattr(store, "lock", None) if store is not None else None
        if not callable(make_lock):
            yield
            return
        lock: Any = make_lock(
            LOCK_PREFIX + run_id, timeout=LOCK_TTL, blocking_timeout=0, renew=True
        )
        try:
            await lock.__aenter__()
        except LockError as exc:
            raise RunExistsError(
                f"run {run_id!r} is being executed by another worker",
                hint="wait for it to finish; resume() then returns its result",
                run_id=run_id,
            ) from exc
        try:
            yield
        except BaseException as exc:
            await lock.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        await lock.__aexit__(None, None, None)
    finally:
        active.discard(run_id)


def restore(run: Run, record: RunRecord) -> None:
    """Load a folded record into a fresh Run (decoding values; runs in a worker thread).

    The open step's plan is rebuilt, and nodes of it whose completion was recorded
    become resumed outcomes: they are merged, not run again.
    """
    plan = plan_refs(record.plan)
    graph = run.workflow._graph
    for name in {
        *record.wave,
        *(n for n, _ in record.resolved),
        *(n for n, _ in plan),
        *record.pending,
    }:
        graph.require_node(
            name, f"run {record.run_id!r} (started by another version of the workflow?)"
        )
    run.input = codec.decode(record.input)
    run.state = decode_values(record.state)
    run.history.update(decode_values(record.history))
    # Every node completed before this resume counts as restored, in completion order;
    # nodes of the open step whose completion was recorded are added when it merges.
    run.summary.nodes_resumed.extend(run.history)
    run.step = record.step
    if record.status == "completed":
        return
    run.scheduler.restore(record.wave, record.resolved, [node for node, _ in plan])
    run.plan = [(node, run.resolve(refs), refs) for node, refs in plan]
    inputs = {node: value for node, value, _ in run.plan}
    for node, entry in record.pending.items():
        if node in inputs:
            run.resumed[node] = _resumed_outcome(node, inputs[node], entry)


def _resumed_outcome(node: str, input: Any, entry: dict[str, Any]) -> NodeOutcome:
    outcome = NodeOutcome(node, input)
    outcome.output = outcome.passed = codec.decode(entry.get("output"))
    if entry.get("next") is not None:
        outcome.jump = Next(str(entry["next"]))
    outcome.diff = NodeDiff(
        writes=decode_values(entry.get("writes") or {}),
        deleted=set(entry.get("deleted") or ()),
        updates={
            k: [codec.decode(v) for v in vs] for k, vs in (entry.get("updates") or {}).items()
        },
    )
    outcome.attempts = int(entry.get("attempts", 1))
    outcome.duration = float(entry.get("duration", 0.0))
    outcome.resumed = outcome.recorded = True
    return outcome
