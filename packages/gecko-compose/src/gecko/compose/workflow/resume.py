"""Resuming a run: loading a folded record into a fresh Run (ownership: see ``lease``)."""

from __future__ import annotations

from typing import Any

from gecko.compose.errors import CheckpointCorruptError
from gecko.compose.nodes import Next
from gecko.compose.workflow import codec
from gecko.compose.workflow.engine import Run
from gecko.compose.workflow.outcome import NodeOutcome
from gecko.compose.workflow.record import RunRecord, decode_values, plan_refs
from gecko.compose.workflow.state import NodeDiff


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
    try:
        run.plan = [(node, run.resolve(refs), refs) for node, refs in plan]
    except KeyError as exc:
        missing = str(exc.args[0]) if exc.args else "?"
        raise CheckpointCorruptError(
            record.run_id,
            record.seq,
            f"the next step needs the output of node {missing!r}, which the history does not hold",
            missing=f"the completion of node {missing!r}",
        ) from None
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
