"""The functional core on its own: ``step.advance`` decides without I/O, clock or asyncio.

Property-based (hypothesis): whatever order a step's node calls finish in, the merged
state, the history, the next plan and the decision are the same; conflicting writes
fail naming the same nodes; the same inputs always give the same decision.
"""

from __future__ import annotations

import copy
import inspect
import operator
from collections.abc import Callable, Generator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gecko.compose import END, Next, Workflow
from gecko.compose.errors import (
    MaxStepsExceededError,
    NodeExecutionError,
    StateConflictError,
    UnknownNodeError,
)
from gecko.compose.workflow import step as core
from gecko.compose.workflow.graph import Edge
from gecko.compose.workflow.outcome import NodeOutcome
from gecko.compose.workflow.state import NodeDiff

REDUCERS = {"log": operator.add}


def drive(
    decision: Generator[Edge, bool, core.Step], holds: Callable[[Edge], bool] = lambda e: True
) -> tuple[core.Step, list[tuple[str, str]]]:
    """Run the step function to its decision, answering its condition requests."""
    asked: list[tuple[str, str]] = []
    try:
        edge = next(decision)
        while True:
            asked.append((edge.source, edge.target))
            edge = decision.send(holds(edge))
    except StopIteration as stop:
        return stop.value, asked


def fan_out(width: int, *, conditional: bool = False, storage: str | None = None) -> Workflow:
    """start -> n0..n{width-1} -> join."""
    wf = Workflow("fan", reducers=REDUCERS, storage=storage)
    wf.add_node("start", lambda x: x)
    wf.add_node("join", lambda x: x)
    for i in range(width):
        wf.add_node(f"n{i}", lambda x: x)
        wf.add_edge("start", f"n{i}", (lambda v: True) if conditional else None)
        wf.add_edge(f"n{i}", "join")
    wf.set_entry_point("start")
    wf.validate()
    return wf


def completed(node: str, input: Any, output: Any, diff: NodeDiff | None = None) -> NodeOutcome:
    outcome = NodeOutcome(node, input)
    outcome.output = outcome.passed = output
    outcome.diff = diff
    return outcome


def past_start(wf: Workflow, value: Any = 0) -> core.RunState:
    run = core.start(wf._graph, value, "start", {})
    decision, _ = drive(core.advance(wf._graph, run, [completed("start", value, value)], REDUCERS))
    assert decision.error is None
    return run


def test_the_step_function_is_plain_synchronous_code() -> None:
    assert inspect.isgeneratorfunction(core.advance)
    assert not inspect.iscoroutinefunction(core.advance)
    source = inspect.getsource(core)
    for forbidden in ("import asyncio", "import anyio", "import time", "import random", "open("):
        assert forbidden not in source


def test_a_layer_is_planned_after_its_source_and_the_join_after_the_layer() -> None:
    wf = fan_out(3)
    run = past_start(wf, 5)
    assert [item[0] for item in run.plan] == ["n0", "n1", "n2"]
    assert all(item[1] == 5 and item[2] == ["start"] for item in run.plan)
    outcomes = [completed(f"n{i}", 5, i) for i in range(3)]
    decision, _ = drive(core.advance(wf._graph, run, outcomes, REDUCERS))
    assert decision.error is None and decision.wave is None and decision.skipped == []
    assert run.plan == [("join", {"n0": 0, "n1": 1, "n2": 2}, ["n0", "n1", "n2"])]
    assert run.step == 2
    decision, _ = drive(core.advance(wf._graph, run, [completed("join", None, "done")], REDUCERS))
    assert run.plan == [] and run.result_from == ["join"] and run.result() == "done"


def test_a_failed_node_fails_the_step_without_changing_the_run() -> None:
    wf = fan_out(2)
    run = past_start(wf)
    failed = completed("n1", 0, None)
    failed.error = ValueError("boom")
    failed.attempts = 3
    before = copy.deepcopy((run.state, run.history, run.step))
    decision, _ = drive(core.advance(wf._graph, run, [completed("n0", 0, 1), failed], REDUCERS))
    assert isinstance(decision.error, NodeExecutionError)
    assert decision.cause is failed.error and decision.node == "n1"
    assert decision.error.__cause__ is failed.error
    assert (run.state, run.history, run.step) == before


def test_an_engine_error_of_a_node_is_raised_as_is() -> None:
    wf = fan_out(1)
    run = past_start(wf)
    bad = completed("n0", 0, None)
    bad.error = UnknownNodeError("node 'n0' returned Next('nope')", node="n0", target="nope")
    bad.internal = True
    decision, _ = drive(core.advance(wf._graph, run, [bad], REDUCERS))
    assert decision.error is bad.error


def test_next_end_finishes_the_run_with_that_node_as_result() -> None:
    wf = fan_out(2)
    run = past_start(wf)
    first = completed("n0", 0, "stop")
    first.jump = Next(END)
    decision, _ = drive(core.advance(wf._graph, run, [first, completed("n1", 0, 1)], REDUCERS))
    assert decision.error is None and run.plan == [] and run.result_from == ["n0"]


def test_a_jump_starts_a_new_wave() -> None:
    wf = fan_out(2)
    run = past_start(wf)
    back = completed("n0", 0, 7)
    back.jump = Next("start")
    decision, _ = drive(core.advance(wf._graph, run, [back, completed("n1", 0, 1)], REDUCERS))
    assert decision.wave == ["start"]
    assert run.plan == [("start", 7, ["n0"])]


def test_conditions_are_asked_of_the_runner_and_false_ones_skip() -> None:
    wf = fan_out(3, conditional=True)
    run = core.start(wf._graph, 0, "start", {})
    decision, asked = drive(
        core.advance(wf._graph, run, [completed("start", 0, 0)], REDUCERS),
        holds=lambda edge: edge.target != "n1",
    )
    assert asked == [("start", "n0"), ("start", "n1"), ("start", "n2")]
    assert decision.skipped == ["n1"]
    assert [item[0] for item in run.plan] == ["n0", "n2"]


def test_the_step_budget_is_checked_before_a_step() -> None:
    wf = fan_out(1)
    run = past_start(wf)
    assert core.over_budget(run, 2, "fan", "r") is None
    error = core.over_budget(run, 1, "fan", "r")
    assert isinstance(error, MaxStepsExceededError) and "n0" in str(error)


# --- properties ------------------------------------------------------------------------------

# Each node of the layer writes some keys of its own, appends to the reducer key "log",
# and maybe deletes a shared key (deletes of one key by several nodes agree).
node_changes = st.fixed_dictionaries(
    {
        "writes": st.dictionaries(st.sampled_from("abcdef"), st.integers(), max_size=3),
        "log": st.lists(st.integers(), max_size=3),
        "delete": st.booleans(),
        "output": st.one_of(st.integers(), st.text(max_size=5), st.none()),
    }
)


def layer_outcomes(changes: list[dict[str, Any]], *, own_keys: bool) -> list[NodeOutcome]:
    outcomes = []
    for i, change in enumerate(changes):
        diff = NodeDiff()
        for key, value in change["writes"].items():
            diff.writes[f"{key}{i}" if own_keys else key] = value
        for value in change["log"]:
            diff.updates.setdefault("log", []).append([value])
        if change["delete"]:
            diff.deleted.add("shared")
        outcomes.append(completed(f"n{i}", 0, change["output"], diff))
    return outcomes


def decide(wf: Workflow, run: core.RunState, outcomes: list[NodeOutcome]) -> tuple[Any, ...]:
    decision, asked = drive(core.advance(wf._graph, run, outcomes, REDUCERS))
    error = decision.error
    described = None if error is None else (type(error).__name__, str(error))
    return (
        described,
        run.state,
        run.history,
        run.plan,
        run.step,
        run.result_from,
        decision.reduced,
        decision.skipped,
        asked,
    )


@settings(max_examples=150, deadline=None)
@given(changes=st.lists(node_changes, min_size=1, max_size=6), data=st.data())
def test_merges_do_not_depend_on_the_order_outcomes_arrive_in(
    changes: list[dict[str, Any]], data: st.DataObject
) -> None:
    wf = fan_out(len(changes))
    expected = None
    for _ in range(3):
        run = past_start(wf)
        run.state.update({"shared": 1, "log": [0]})
        outcomes = layer_outcomes(changes, own_keys=True)
        arrived = data.draw(st.permutations(outcomes))
        result = decide(wf, run, list(arrived))
        if expected is None:
            expected = result
        assert result == expected
    assert expected is not None
    described, state, history = expected[0], expected[1], expected[2]
    assert described is None
    # The reducer folded every node's updates in plan order, not arrival order.
    assert state["log"] == [0] + [v for change in changes for v in change["log"]]
    assert history == {"start": 0, **{f"n{i}": c["output"] for i, c in enumerate(changes)}}


@settings(max_examples=150, deadline=None)
@given(changes=st.lists(node_changes, min_size=2, max_size=6), data=st.data())
def test_conflicting_writes_fail_the_same_way_whatever_the_order(
    changes: list[dict[str, Any]], data: st.DataObject
) -> None:
    wf = fan_out(len(changes))
    results = set()
    for _ in range(3):
        run = past_start(wf)
        outcomes = layer_outcomes(changes, own_keys=False)
        results.add(repr(decide(wf, run, list(data.draw(st.permutations(outcomes))))))
    assert len(results) == 1
    writers: dict[str, int] = {}
    for change in changes:
        for key in change["writes"]:
            writers[key] = writers.get(key, 0) + 1
    conflict = any(n > 1 for n in writers.values())  # deletes and reducer updates agree
    run = past_start(wf)
    decision, _ = drive(
        core.advance(wf._graph, run, layer_outcomes(changes, own_keys=False), REDUCERS)
    )
    assert isinstance(decision.error, StateConflictError) == conflict


@settings(max_examples=100, deadline=None)
@given(
    width=st.integers(min_value=1, max_value=6),
    answers=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_the_same_inputs_give_the_same_decision(width: int, answers: list[bool]) -> None:
    wf = fan_out(width, conditional=True)

    def oracle(edge: Edge) -> bool:
        return answers[int(edge.target[1:])]

    decisions = []
    for _ in range(2):
        run = core.start(wf._graph, 0, "start", {})
        decision, asked = drive(
            core.advance(wf._graph, run, [completed("start", 0, 0)], REDUCERS), oracle
        )
        decisions.append((run.plan, decision.skipped, asked))
    assert decisions[0] == decisions[1]
    planned = [item[0] for item in decisions[0][0]]
    assert planned == [f"n{i}" for i in range(width) if answers[i]]


@pytest.mark.parametrize("width", [1, 4])
def test_restore_gives_back_the_state_the_run_had(width: int, tmp_path: Any) -> None:
    import anyio

    async def main() -> None:
        wf = fan_out(width, storage=f"sqlite:///{tmp_path}/runs.db")
        try:
            await wf.execute(3, session_id="r")
            from gecko.compose.workflow.checkpointer import load_record

            store = await wf._storage.open()
            assert store is not None
            record = await load_record(store, "r")
            run, done = core.restore(wf._graph, record)
            assert run.plan == [] and done == {}
            joined = 3 if width == 1 else {f"n{i}": 3 for i in range(width)}
            assert run.result() == joined
            assert run.history == {"start": 3, **{f"n{i}": 3 for i in range(width)}, "join": joined}
        finally:
            await wf.aclose()

    anyio.run(main)
