"""Next jumps, conditional edges, skipped nodes, loops and max_steps."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from gecko.compose import END, Next, Workflow, WorkflowContext
from gecko.compose.errors import MaxStepsExceededError, UnknownNodeError
from gecko.compose.workflow.events import NodeSkipped
from gecko.core.events import EventBus

pytestmark = pytest.mark.anyio


def record(log: list[tuple[str, Any]], name: str, result: Any = None):  # type: ignore[no-untyped-def]
    async def node(x: Any) -> Any:
        log.append((name, x))
        return name if result is None else result

    return node


async def test_next_with_input_none_passes_the_previous_output_through() -> None:
    """Regression (0.4 P0-3): Next(node, input=None) must not replace the data with None."""
    log: list[tuple[str, Any]] = []
    wf = Workflow("jump")
    wf.add_node("a", record(log, "a", result="payload"))
    wf.add_node("router", lambda x: Next("handler"))
    wf.add_node("static", record(log, "static"))
    wf.add_node("handler", record(log, "handler"))
    wf.add_edge("a", "router").add_edge("router", "static").set_entry_point("a")
    run = await wf.execute("start", return_run=True)
    assert log == [("a", "start"), ("handler", "payload")]  # the static successor never ran
    assert run.output == "handler"
    assert run.history["router"] == "payload"  # what the router passed on


async def test_next_input_and_update_state_apply_before_the_jump() -> None:
    async def router(ctx: WorkflowContext) -> Next:
        ctx.state["seen"] = 1
        return Next(
            "target", input={"why": "bad data"}, update_state={"route": "target", "seen": 2}
        )

    async def target(data: dict[str, str], ctx: WorkflowContext) -> dict[str, Any]:
        return {"data": data, "state": dict(ctx.state)}

    wf = (
        Workflow("jump")
        .add_node("router", router)
        .add_node("target", target)
        .set_entry_point("router")
    )
    assert await wf.execute(None) == {
        "data": {"why": "bad data"},
        "state": {"seen": 2, "route": "target"},
    }


async def test_next_to_an_unknown_node_is_a_clear_error() -> None:
    wf = (
        Workflow("jump")
        .add_node("a", lambda x: Next("nowhere"))
        .add_node("b", lambda x: x)
        .set_entry_point("a")
    )
    with pytest.raises(UnknownNodeError) as info:
        await wf.execute(None)
    assert "'a' returned Next('nowhere')" in str(info.value) and "'b'" in str(info.value)


async def test_next_end_finishes_the_run_with_its_input() -> None:
    log: list[tuple[str, Any]] = []
    wf = Workflow("end")
    wf.add_node("a", lambda x: Next(END, input="early")).add_node("b", record(log, "b"))
    wf.add_edge("a", "b").set_entry_point("a")
    assert await wf.execute(None) == "early" and log == []


async def test_several_jumps_to_one_node_give_it_a_dict_of_inputs() -> None:
    wf = Workflow("jumps")
    wf.add_node("start", lambda x: x)
    wf.add_node("a", lambda x: Next("collect", input="from a"))
    wf.add_node("b", lambda x: Next("collect", input="from b"))
    wf.add_node("collect", lambda x: x)
    wf.add_edge("start", "a").add_edge("start", "b").set_entry_point("start")
    assert await wf.execute(None) == {"a": "from a", "b": "from b"}


async def test_conditions_route_and_false_branches_are_skipped_not_in_history() -> None:
    """Regression (0.4 P0-4): a skipped node is never written to history."""
    log: list[tuple[str, Any]] = []
    skipped: list[str] = []
    bus = EventBus()
    bus.subscribe(NodeSkipped, lambda event: skipped.append(event.node))

    async def is_big(x: int) -> bool:  # async conditions work too
        return x > 10

    wf = Workflow("route", event_bus=bus)
    wf.add_node("classify", lambda x: x)
    wf.add_node("big", record(log, "big")).add_node("small", record(log, "small"))
    wf.add_node("after_small", record(log, "after_small"))
    wf.add_node("report", lambda x: {"report": x})
    wf.add_edge("classify", "big", condition=is_big)
    wf.add_edge("classify", "small", condition=lambda x: x <= 10)
    wf.add_edge("small", "after_small").add_edge("big", "report").add_edge("after_small", "report")
    wf.set_entry_point("classify")
    run = await wf.execute(42, return_run=True)
    assert log == [("big", 42)]
    assert set(run.history) == {"classify", "big", "report"}
    assert "small" not in run.history and "after_small" not in run.history
    assert run.summary.nodes_skipped == ["small", "after_small"] == skipped
    assert run.output == {"report": "big"}  # the join got only the branch that ran


async def test_condition_reading_state_through_ctx() -> None:
    async def setup(ctx: WorkflowContext) -> str:
        ctx.state["mode"] = "fast"
        return "x"

    wf = Workflow("state-cond")
    wf.add_node("setup", setup).add_node("fast", lambda x: "fast").add_node(
        "slow", lambda x: "slow"
    )
    wf.add_edge("setup", "fast", condition=lambda ctx: ctx.state["mode"] == "fast")
    wf.add_edge("setup", "slow", condition=lambda ctx: ctx.state["mode"] == "slow")
    wf.set_entry_point("setup")
    assert await wf.execute(None) == "fast"


async def test_a_failing_condition_counts_as_false_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(x: Any) -> bool:
        raise RuntimeError("bad condition")

    wf = Workflow("broken")
    wf.add_node("a", lambda x: "a").add_node("b", lambda x: "b").add_node("c", lambda x: "c")
    wf.add_edge("a", "b", condition=broken).add_edge("a", "c").set_entry_point("a")
    with caplog.at_level(logging.WARNING, logger="gecko.compose.workflow"):
        run = await wf.execute(None, return_run=True)
    assert run.output == "c" and "b" not in run.history
    assert any("'a' -> 'b' raised" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_loop_with_a_back_edge_until_its_condition_turns_false() -> None:
    async def write(draft: Any, ctx: WorkflowContext) -> int:
        ctx.state["drafts"] = ctx.state.get("drafts", 0) + 1
        return ctx.state["drafts"]

    wf = Workflow("loop", allow_cycles=True)
    wf.add_node("write", write).add_node("review", lambda n: n).add_node(
        "publish", lambda n: f"published v{n}"
    )
    wf.add_edge("write", "review")
    wf.add_edge("review", "write", condition=lambda n: n < 3)
    wf.add_edge("review", "publish", condition=lambda n: n >= 3)
    wf.set_entry_point("write")
    run = await wf.execute(None, return_run=True)
    assert run.output == "published v3" and run.state == {"drafts": 3}
    assert run.summary.nodes_run == ["write", "review"] * 3 + ["publish"]


async def test_max_steps_stops_a_runaway_loop() -> None:
    wf = Workflow("forever", allow_cycles=True, max_steps=25)
    wf.add_node("a", lambda x: x).add_node("b", lambda x: x)
    wf.add_edge("a", "b").add_edge("b", "a").set_entry_point("a")
    with pytest.raises(MaxStepsExceededError, match="max_steps=25"):
        await wf.execute(0)


async def test_next_loops_are_bounded_by_max_steps_too() -> None:
    wf = (
        Workflow("ping", max_steps=10)
        .add_node("ping", lambda x: Next("ping"))
        .set_entry_point("ping")
    )
    with pytest.raises(MaxStepsExceededError):
        await wf.execute(0)


async def test_a_jump_replaces_the_rest_of_the_plan() -> None:
    log: list[tuple[str, Any]] = []
    wf = Workflow("replan")
    wf.add_node("start", lambda x: x).add_node("jumper", lambda x: Next("target"))
    wf.add_node("sibling", record(log, "sibling")).add_node(
        "after_sibling", record(log, "after_sibling")
    )
    wf.add_node("target", record(log, "target"))
    wf.add_edge("start", "jumper").add_edge("start", "sibling").add_edge("sibling", "after_sibling")
    wf.set_entry_point("start")
    run = await wf.execute("go", return_run=True)
    # The sibling of the jump ran in the same step, but what followed it was dropped.
    assert log == [("sibling", "go"), ("target", "go")]
    assert run.output == "target" and "after_sibling" not in run.history
