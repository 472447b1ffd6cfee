"""The checkpoint format of a workflow run, and folding checkpoints back into a run's state.

A checkpoint's data is ``{"format": "gecko.workflow/1", "entries": [...]}``; the
entries of all checkpoints of a run, in order, describe the run incrementally:

- ``start``: workflow name, graph fingerprint, input, initial state, first plan;
- ``node``: one node finished (step, output, state writes, tombstones, reducer
  updates, attempts, duration, the ``Next`` target if it jumped);
- ``step``: a step merged: its nodes in merge order, reducer results, skipped
  nodes, a new wave's sources after a jump, and the plan of the next step;
- ``failed`` / ``end``: the run failed (error) or completed (which nodes' outputs
  make the result);
- ``interrupted``: nodes of the open step asked questions (key -> node, payload);
- ``suspended``: the run stopped at a step boundary on request (``wf.suspend``);
- ``compensating`` / ``compensated``: after a failure, the undo nodes of completed nodes
  run (latest first), each recorded when done;
- ``answers``: answers to them arrived (key -> value);
- ``snapshot``: everything folded up to some checkpoint (written by compaction and
  by replay forks).

Values are stored as :mod:`gecko.compose.workflow.codec` encodes them. Folding
works on the encoded values (no class is restored), so inspecting or compacting a
run needs no user code; ``decode`` restores live values for a resume.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gecko.compose.errors import CheckpointCorruptError, CheckpointVersionError
from gecko.compose.interrupts import Interrupt
from gecko.compose.workflow import codec
from gecko.core.errors import CorruptDataError
from gecko.core.protocols import Checkpoint

FORMAT = "gecko.workflow/1"
INPUT_REF = "$input"


@dataclass
class RunRecord:
    """A run folded from its checkpoints (values still encoded)."""

    run_id: str
    workflow: str | None = None
    graph: str | None = None
    status: str = "running"  # suspended, interrupted, compensating, completed, failed, ...
    final: bool = False  # completed, or cancelled on request: resume returns, never runs
    input: Any = None
    state: dict[str, Any] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)
    step: int = 0
    wave: list[str] = field(default_factory=list)
    resolved: list[list[str]] = field(
        default_factory=list
    )  # [node, "done" | "skipped"] in this wave
    plan: list[dict[str, Any]] = field(default_factory=list)  # [{"node": n, "from": [refs]}]
    pending: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # node entries of the open step
    result_from: list[str] | None = None
    error: dict[str, Any] | None = None
    executions: int = 0
    seq: int = 0
    first_seq: int = 0
    started_at: float | None = None
    updated_at: float | None = None
    forked_from: dict[str, Any] | None = None
    interrupts: dict[str, dict[str, Any]] = field(default_factory=dict)  # asked in the open step
    answers: dict[str, Any] = field(default_factory=dict)  # every answer received (encoded)
    owners: dict[str, str] = field(default_factory=dict)  # interrupt key -> the node it belongs to
    # a fallback node -> the failure (type, message, node) it handles
    caught: dict[str, dict[str, Any]] = field(default_factory=dict)
    compensations: list[list[str]] = field(default_factory=list)  # [done node, undo node]
    compensated: list[str] = field(default_factory=list)  # done nodes already undone

    def pending_interrupts(self) -> dict[str, dict[str, Any]]:
        """The open step's interrupts still waiting for an answer (none unless interrupted)."""
        if self.status != "interrupted":
            return {}
        return {k: v for k, v in self.interrupts.items() if k not in self.answers}

    def apply(self, entry: dict[str, Any]) -> None:
        kind = entry.get("kind")
        if kind == "node":
            self.pending[entry["node"]] = entry
        elif kind == "step":
            self._apply_step(entry)
        elif kind == "start":
            self._apply_start(entry)
        elif kind == "snapshot":
            self._apply_snapshot(entry)
        elif kind == "failed":
            self.status = str(entry.get("status") or "failed")  # or cancelled / timed_out
            self.error = entry.get("error")
            # wf.cancel (not a task cancelled), or a failure whose compensations ran: final
            self.final = bool(entry.get("requested") or entry.get("compensated"))
        elif kind == "suspended":
            self.status = "suspended"
        elif kind == "compensating":
            self.status = "compensating"
            self.error = {**(entry.get("error") or {}), "node": entry.get("node")}
        elif kind == "compensated":
            self.compensated.append(str(entry["node"]))
        elif kind == "end":
            self.final = True
            self.status = "completed"
            self.result_from = list(entry.get("result_from") or [])
        elif kind == "interrupted":
            self.status = "interrupted"
            self.interrupts = dict(entry["interrupts"])
            for key, asked in self.interrupts.items():
                self.owners[key] = str(asked["node"])
        elif kind == "answers":
            self.answers.update(entry["answers"])
        else:
            raise CorruptDataError(
                f"run {self.run_id!r} has a checkpoint entry of unknown kind {kind!r}"
            )

    def _apply_start(self, entry: dict[str, Any]) -> None:
        self.workflow = entry.get("workflow")
        self.graph = entry.get("graph")
        self.input = entry.get("input")
        self.state = dict(entry.get("state") or {})
        self.history = {}
        self.step = 0
        self.wave = list(entry["wave"])
        self.resolved = []
        self.plan = list(entry["plan"])
        self.pending = {}
        self.status = "running"
        self.started_at = entry.get("started_at")
        self.interrupts, self.answers, self.owners, self.caught = {}, {}, {}, {}
        self.compensations = []
        self.compensated = []

    def _apply_step(self, entry: dict[str, Any]) -> None:
        done: list[list[str]] = []
        for name in entry["nodes"]:
            node = self.pending.pop(name, None)
            if node is None:
                raise CorruptDataError(
                    f"run {self.run_id!r}: step {entry['step']} merges node {name!r} "
                    "whose completion was never recorded"
                )
            for key in node.get("deleted") or ():
                self.state.pop(key, None)
            self.state.update(node.get("writes") or {})
            self.history[name] = node.get("output")
            self.executions += 1
            self.caught.pop(name, None)  # a fallback that ran has handled its failure
            if node.get("caught") is not None and node.get("next") is not None:
                self.caught[str(node["next"])] = {"node": name, **node["caught"]}
            if node.get("next") is None:
                done.append([name, "done"])
        self.state.update(entry.get("reduced") or {})
        self.compensations.extend(entry.get("compensate") or ())
        if entry.get("wave") is not None:
            self.wave = list(entry["wave"])
            self.resolved = []
        else:
            self.resolved.extend(done)
            self.resolved.extend([name, "skipped"] for name in entry.get("skipped") or ())
        self.plan = list(entry.get("plan") or [])
        self.step = int(entry["step"]) + 1
        self.pending = {}
        self.interrupts = {}
        self.status = "running"
        self.error = None

    def _apply_snapshot(self, entry: dict[str, Any]) -> None:
        for name in (
            "workflow",
            "graph",
            "status",
            "input",
            "step",
            "wave",
            "resolved",
            "plan",
            "result_from",
            "error",
            "executions",
            "started_at",
            "forked_from",
            "interrupts",
            "answers",
            "owners",
            "final",
            "caught",
            "compensations",
            "compensated",
        ):
            if name in entry:
                setattr(self, name, entry[name])
        self.state = dict(entry.get("state") or {})
        self.history = dict(entry.get("history") or {})
        self.pending = {e["node"]: e for e in entry.get("pending") or ()}

    def snapshot_entry(self) -> dict[str, Any]:
        """One entry equivalent to everything folded so far."""
        return {
            "kind": "snapshot",
            "workflow": self.workflow,
            "graph": self.graph,
            "status": self.status,
            "input": self.input,
            "state": self.state,
            "history": self.history,
            "step": self.step,
            "wave": self.wave,
            "resolved": self.resolved,
            "plan": self.plan,
            "pending": list(self.pending.values()),
            "result_from": self.result_from,
            "error": self.error,
            "executions": self.executions,
            "started_at": self.started_at,
            "forked_from": self.forked_from,
            "interrupts": self.interrupts,
            "answers": self.answers,
            "owners": self.owners,
            "final": self.final,
            "caught": self.caught,
            "compensations": self.compensations,
            "compensated": self.compensated,
        }

    def encoded_result(self) -> Any:
        names = self.result_from or []
        if len(names) == 1:
            return self.history.get(names[0])
        return {name: self.history.get(name) for name in names}


def entries_of(checkpoint: Checkpoint) -> list[dict[str, Any]]:
    data = checkpoint.data
    run_id, seq = checkpoint.run_id, checkpoint.seq
    if not isinstance(data, dict) or "entries" not in data:
        raise CheckpointCorruptError(
            run_id, seq, "it is not a Gecko workflow checkpoint", missing="the checkpoint's entries"
        )
    if data.get("format") != FORMAT:
        error = CheckpointVersionError(
            run_id,
            seq,
            f"it has format {data.get('format')!r}; this gecko-compose reads {FORMAT!r} "
            "(upgrade gecko-compose if a newer one wrote it)",
            missing=f"a {FORMAT} checkpoint",
        )
        raise error
    entries = data["entries"]
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CheckpointCorruptError(
            run_id, seq, "its entries are malformed", missing="a list of entry objects"
        )
    return entries


_OPENING = ("start", "snapshot")
"""The entry kinds a run's history can begin with."""


def fold(run_id: str, checkpoints: Iterable[Checkpoint]) -> RunRecord:
    """The run as its checkpoints describe it; CheckpointCorruptError if the history is damaged."""
    record = RunRecord(run_id=run_id)
    previous: int | None = None
    for checkpoint in checkpoints:
        seq = checkpoint.seq
        entries = entries_of(checkpoint)
        if previous is None:
            record.first_seq = seq
            if not entries or entries[0].get("kind") not in _OPENING:
                raise CheckpointCorruptError(
                    run_id,
                    seq,
                    f"the history begins mid-run (checkpoint {seq} has no start or snapshot "
                    "entry): its first checkpoints are gone",
                    missing=f"the checkpoints before {seq}",
                )
        elif seq != previous + 1:
            raise CheckpointCorruptError(
                run_id,
                seq,
                f"checkpoint {seq} follows checkpoint {previous}: checkpoints "
                f"{previous + 1}..{seq - 1} are gone",
                missing=f"checkpoints {previous + 1}..{seq - 1}",
            )
        for entry in entries:
            try:
                record.apply(entry)
            except CorruptDataError as exc:
                raise CheckpointCorruptError(
                    run_id, seq, exc.message, missing="the entries it refers to"
                ) from exc
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise CheckpointCorruptError(
                    run_id,
                    seq,
                    f"a {entry.get('kind')!r} entry is truncated ({type(exc).__name__}: {exc})",
                    missing=f"field {exc}" if isinstance(exc, KeyError) else "a well-formed entry",
                ) from exc
        previous = record.seq = seq
        record.updated_at = checkpoint.created_at
    return record


def decode_values(values: dict[str, Any], *, strict: bool = True) -> dict[str, Any]:
    return {key: codec.decode(value, strict=strict) for key, value in values.items()}


def plan_refs(plan: Sequence[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    try:
        return [(str(item["node"]), [str(ref) for ref in item["from"]]) for item in plan]
    except (KeyError, TypeError) as exc:
        raise CorruptDataError(f"a checkpointed plan is malformed: {exc}") from exc


@dataclass(frozen=True)
class CheckpointInfo:
    """One checkpoint in a run's history (``Workflow.history``, ``gecko workflow history``)."""

    seq: int
    created_at: float
    kinds: list[str]
    steps: list[int]
    nodes: list[str]
    status: str


def describe(checkpoint: Checkpoint) -> CheckpointInfo:
    """A one-line summary of a checkpoint for history listings."""
    entries = entries_of(checkpoint)
    status = "running"
    for entry in entries:
        kind = entry.get("kind")
        if kind == "end":
            status = "completed"
        elif kind == "failed":
            status = str(entry.get("status") or "failed")
        elif kind == "snapshot":
            status = str(entry.get("status"))
    return CheckpointInfo(
        seq=checkpoint.seq,
        created_at=checkpoint.created_at,
        kinds=[str(e.get("kind")) for e in entries],
        steps=[int(e["step"]) for e in entries if e.get("kind") == "step"],
        nodes=[str(e["node"]) for e in entries if e.get("kind") == "node"],
        status=status,
    )


@dataclass(frozen=True)
class RunSnapshot:
    """A run as of one checkpoint, with live (decoded) values (``Workflow.get_state``)."""

    run_id: str
    seq: int
    workflow: str | None
    status: str
    step: int
    state: dict[str, Any]
    history: dict[str, Any]
    next_nodes: list[str]
    result: Any
    error: dict[str, Any] | None
    forked_from: dict[str, Any] | None
    interrupts: list[Interrupt] = field(default_factory=list)


def pending_of(record: RunRecord, *, strict: bool = True) -> list[Interrupt]:
    """The run's interrupts waiting for an answer, with decoded payloads."""
    return [
        Interrupt(
            key,
            str(asked.get("path") or asked["node"]),
            codec.decode(asked.get("payload"), strict=strict),
        )
        for key, asked in record.pending_interrupts().items()
    ]


def snapshot_of(record: RunRecord, *, strict: bool = True) -> RunSnapshot:
    decode = codec.decode
    return RunSnapshot(
        run_id=record.run_id,
        seq=record.seq,
        workflow=record.workflow,
        status=record.status,
        step=record.step,
        state=decode_values(record.state, strict=strict),
        history=decode_values(record.history, strict=strict),
        next_nodes=[str(item.get("node")) for item in record.plan]
        if record.status != "completed"
        else [],
        result=decode(record.encoded_result(), strict=strict)
        if record.status == "completed"
        else None,
        error=record.error,
        forked_from=record.forked_from,
        interrupts=pending_of(record, strict=strict),
    )
