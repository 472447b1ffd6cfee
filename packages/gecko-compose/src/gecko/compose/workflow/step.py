"""The functional core: every decision of a run, as pure functions over a ``RunState``.

A runner (``local.py``, or a plugin's) calls nodes and makes their completions
durable; between steps it hands the outcomes to ``advance``, which merges the
state changes in plan order, records the outputs, follows ``Next`` jumps and back
edges and plans the next step — or ends the run. No I/O, clock, randomness or
asyncio happens here, so the same outcomes always give the same decision (what
a Temporal workflow replays). Edge conditions are user code: ``advance`` yields
each edge whose condition it needs and the runner sends back whether it holds::

    decision = advance(graph, run, outcomes, reducers)
    try:
        edge = next(decision)
        while True:
            edge = decision.send(holds(edge))
    except StopIteration as stop:
        step = stop.value
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from gecko.compose.errors import (
    CaughtError,
    CheckpointCorruptError,
    ComposeError,
    InterruptError,
    MaxStepsExceededError,
    NodeExecutionError,
)
from gecko.compose.interrupts import Answers, Interrupt
from gecko.compose.nodes import END, Next
from gecko.compose.workflow import codec
from gecko.compose.workflow.calls import catches
from gecko.compose.workflow.graph import Edge, Graph
from gecko.compose.workflow.outcome import NodeOutcome
from gecko.compose.workflow.plan import PlanItem, Waves, input_from
from gecko.compose.workflow.record import INPUT_REF, RunRecord, decode_values, plan_refs
from gecko.compose.workflow.state import NodeDiff, Reducer, merge_diffs


@dataclass(slots=True, eq=False)
class RunState:
    """A run as the step function sees it: input, state, outputs so far, the next step's plan."""

    input: Any
    state: dict[str, Any]
    waves: Waves
    history: dict[str, Any] = field(default_factory=dict)
    step: int = 0
    plan: list[PlanItem] = field(default_factory=list)
    result_from: list[str] = field(default_factory=list)
    answers: Answers = field(default_factory=Answers)
    errors: dict[str, BaseException] = field(default_factory=dict)  # fallback -> its ctx.error
    compensations: list[tuple[str, str]] = field(default_factory=list)  # (done node, its undo)
    history_view: Mapping[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.history_view = MappingProxyType(self.history)

    def result(self) -> Any:
        """The run's result: the output of the last step's node, or a dict of several."""
        names = self.result_from
        if len(names) == 1:
            return self.history.get(names[0])
        return {name: self.history.get(name) for name in names}


@dataclass(slots=True)
class Step:
    """What ``advance`` decided about the step just finished.

    ``error`` set: the run fails (``cause`` is the node's own error, ``node`` the node).
    ``interrupts`` set: nodes of the step are waiting for answers; nothing was merged and
    ``run.plan`` is still this step (its completed nodes are kept, the others asked).
    Otherwise ``reduced`` holds the reducer keys' new values, ``wave`` the sources of a new
    wave started by a jump or back edge (None when the wave goes on) and ``skipped`` the
    nodes skipped on the way; ``run.plan`` is the next step (empty: the run is over).
    """

    error: BaseException | None = None
    cause: BaseException | None = None
    node: str | None = None
    reduced: dict[str, Any] = field(default_factory=dict)
    wave: list[str] | None = None
    skipped: Sequence[str] = ()
    interrupts: Sequence[Interrupt] = ()
    compensate: Sequence[tuple[str, str]] = ()  # registered by this step


def start(graph: Graph, input: Any, node: str, state: dict[str, Any]) -> RunState:
    """A new run that begins at ``node`` with ``input``."""
    run = RunState(input, state, Waves(graph))
    run.waves.start((node,))
    run.plan = [(node, input, [INPUT_REF])]
    return run


def restore(graph: Graph, record: RunRecord) -> tuple[RunState, dict[str, NodeOutcome]]:
    """A run rebuilt from its folded record, and the open step's already-completed outcomes.

    Nodes of the open step whose completion was recorded are merged, not run again.
    Damage the record cannot explain raises CheckpointCorruptError.
    """
    plan = plan_refs(record.plan)
    for name in {
        *record.wave,
        *(n for n, _ in record.resolved),
        *(n for n, _ in plan),
        *record.pending,
    }:
        graph.require_node(
            name, f"run {record.run_id!r} (started by another version of the workflow?)"
        )
    run = RunState(codec.decode(record.input), decode_values(record.state), Waves(graph))
    run.history.update(decode_values(record.history))
    run.answers = Answers(decode_values(record.answers), dict(record.owners))
    run.compensations = [(str(done), str(undo)) for done, undo in record.compensations]
    for fallback, failure in record.caught.items():
        run.errors[fallback] = CaughtError(
            str(failure.get("type")), str(failure.get("message")), node=str(failure.get("node"))
        )
    run.step = record.step
    run.result_from = list(record.result_from or [])
    if record.status == "completed":
        return run, {}
    run.waves.restore(record.wave, record.resolved, [node for node, _ in plan])
    try:
        run.plan = [(node, resolve(run, refs), refs) for node, refs in plan]
    except KeyError as exc:
        missing = str(exc.args[0]) if exc.args else "?"
        raise CheckpointCorruptError(
            record.run_id,
            record.seq,
            f"the next step needs the output of node {missing!r}, which the history does not hold",
            missing=f"the completion of node {missing!r}",
        ) from None
    inputs = {node: value for node, value, _ in run.plan}
    done = {
        node: _recorded_outcome(node, inputs[node], entry)
        for node, entry in record.pending.items()
        if node in inputs
    }
    asked: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for key, entry in record.interrupts.items():
        asked.setdefault(str(entry["node"]), []).append((key, entry))
    for node, keys in asked.items():
        if node in inputs and node not in done and not any(k in record.answers for k, _ in keys):
            interrupts = [
                Interrupt(k, str(e.get("path") or node), codec.decode(e.get("payload")))
                for k, e in keys
            ]
            done[node] = still_waiting(node, inputs[node], interrupts)
    return run, done


def resolve(run: RunState, refs: Sequence[str]) -> Any:
    """The input a plan entry refers to: the workflow input, or predecessors' outputs."""
    if len(refs) == 1 and refs[0] == INPUT_REF:
        return run.input
    return input_from(refs, run.history)


def compensations_due(run: RunState, done: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The registered compensations to run after a failure, latest first, minus ``done``."""
    finished = set(done)
    return [pair for pair in reversed(run.compensations) if pair[0] not in finished]


def over_budget(run: RunState, max_steps: int, name: str, run_id: str) -> ComposeError | None:
    """The error that stops a run about to exceed ``max_steps``, or None."""
    if not run.plan or run.step < max_steps:
        return None
    return MaxStepsExceededError(
        f"workflow {name!r} reached max_steps={max_steps} without finishing "
        f"(next: {', '.join(item[0] for item in run.plan)})",
        hint="a loop that never exits? check the conditions of its back edges, or raise max_steps",
        run_id=run_id,
        max_steps=max_steps,
    )


def advance(
    graph: Graph,
    run: RunState,
    outcomes: Sequence[NodeOutcome],
    reducers: Mapping[str, Reducer],
) -> Generator[Edge, bool, Step]:
    """Decide what follows the step whose node calls produced ``outcomes``.

    Outcomes are taken in plan order, whatever order the calls finished in, so the
    state changes merge deterministically; the outputs go to ``run.history``, and
    ``run.plan`` becomes the next step's calls (empty when the run is over, with
    ``run.result_from`` naming the result).
    """
    if len(outcomes) > 1:
        order = {item[0]: i for i, item in enumerate(run.plan)}
        outcomes = sorted(outcomes, key=lambda o: order.get(o.node, len(order)))
    asked: list[tuple[str, Interrupt]] | None = None
    diffs: list[tuple[str, NodeDiff]] | None = None
    for outcome in outcomes:  # one pass: failures first, then questions, then state changes
        if outcome.error is not None:
            if not outcome.internal:
                _catch(graph, run, outcome)
            if outcome.error is not None:
                return _failed(run, outcome)
        if outcome.interrupts:
            if asked is None:
                asked = []
            asked.extend((outcome.node, i) for i in outcome.interrupts)
        if outcome.diff:
            if diffs is None:
                diffs = []
            diffs.append((outcome.node, outcome.diff))
    if asked:
        return _interrupted(run, asked)
    try:
        reduced = merge_diffs(run.state, diffs, reducers, step=run.step) if diffs else {}
    except ComposeError as exc:
        return Step(error=exc, cause=exc)
    history = run.history
    nodes = graph.nodes
    registered: list[tuple[str, str]] | None = None
    for outcome in outcomes:
        history[outcome.node] = outcome.passed
        if run.errors:
            run.errors.pop(outcome.node, None)  # a fallback that ran has handled its failure
        if outcome.caught is not None:
            if outcome.jump is not None:
                run.errors[outcome.jump.node] = outcome.caught
        else:
            undo = nodes[outcome.node].compensate
            if undo is not None:
                if registered is None:
                    registered = []
                registered.append((outcome.node, undo))
    run.step += 1
    decision = Step(reduced=reduced)
    if registered:
        run.compensations.extend(registered)
        decision.compensate = registered
    jumps: list[tuple[str, str]] = []
    for outcome in outcomes:
        jump = outcome.jump
        if jump is None:
            continue
        if jump.node == END:
            run.plan = []
            run.result_from = [outcome.node]
            return decision
        jumps.append((jump.node, outcome.node))
    analysis = graph.analysis()
    if analysis.has_back_edges:
        back_out = analysis.back_out
        for outcome in outcomes:
            if outcome.jump is None:
                for edge in back_out[outcome.node]:
                    if edge.condition is None or (yield edge):
                        jumps.append((edge.target, outcome.node))
    if jumps:
        refs: dict[str, list[str]] = {}
        for target, source in jumps:
            sources = refs.setdefault(target, [])
            if source not in sources:
                sources.append(source)
        decision.wave = list(refs)
        run.waves.start(decision.wave)
        run.plan = [(t, input_from(preds, history), preds) for t, preds in refs.items()]
        return decision
    ready: list[str] = []
    for outcome in outcomes:
        run.waves.complete(outcome.node, ready)
    run.plan, decision.skipped = yield from run.waves.plan(ready, history)
    if not run.plan:
        run.result_from = [o.node for o in outcomes]
    return decision


def _failed(run: RunState, outcome: NodeOutcome) -> Step:
    """The run fails with this node's error (the engine's own errors raised as they are)."""
    error = outcome.error
    assert error is not None
    if outcome.internal:
        return Step(error=error, cause=error, node=outcome.node)
    wrapped = NodeExecutionError(outcome.node, error, attempts=outcome.attempts, step=run.step)
    wrapped.__cause__ = error
    wrapped.__suppress_context__ = True
    return Step(error=wrapped, cause=error, node=outcome.node)


def _catch(graph: Graph, run: RunState, outcome: NodeOutcome) -> None:
    """A failure its node catches becomes a jump to the fallback, with the failed input."""
    error = outcome.error
    assert error is not None
    for kind, fallback in graph.nodes[outcome.node].catch:
        if catches(kind, error):
            outcome.caught, outcome.error = error, None
            outcome.jump = Next(fallback)
            outcome.output, outcome.passed, outcome.diff = None, outcome.input, None
            return


def _interrupted(run: RunState, asked: list[tuple[str, Interrupt]]) -> Step:
    """The step stops for answers; a key asked by two nodes is an error naming both."""
    owners = run.answers.owners
    seen: dict[str, str] = {}
    for node, interrupt in asked:
        owner = seen.get(interrupt.key) or owners.get(interrupt.key)
        if owner is not None and owner != node:
            error = InterruptError(
                f"nodes {owner!r} and {node!r} both use the interrupt key {interrupt.key!r}",
                hint="give each node's interrupt its own key (the answer goes to one node)",
                key=interrupt.key,
                nodes=[owner, node],
            )
            return Step(error=error, cause=error, node=node)
        seen[interrupt.key] = node
    owners.update(seen)
    return Step(interrupts=[interrupt for _, interrupt in asked])


def still_waiting(node: str, input: Any, interrupts: list[Interrupt]) -> NodeOutcome:
    """An interrupted node whose answer has not come yet: it stays asked, without running."""
    outcome = NodeOutcome(node, input)
    outcome.interrupts = interrupts
    outcome.resumed = outcome.recorded = True
    return outcome


def _recorded_outcome(node: str, input: Any, entry: dict[str, Any]) -> NodeOutcome:
    """A node completion read back from its checkpoint entry."""
    outcome = NodeOutcome(node, input)
    outcome.output = outcome.passed = codec.decode(entry.get("output"))
    if entry.get("next") is not None:
        outcome.jump = Next(str(entry["next"]))
    caught = entry.get("caught")
    if caught is not None:
        outcome.caught = CaughtError(str(caught.get("type")), str(caught.get("message")), node=node)
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
