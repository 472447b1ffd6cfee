"""Team: ALL never cancels siblings, RACE wins exactly once, timeouts, sharding, bulkheading."""

from __future__ import annotations

import logging
import threading
from typing import Any

import anyio
import pytest

from gecko.compose import ExecutionStrategy, MemberResult, Next, Team, Workflow
from gecko.compose.errors import TeamTimeoutError
from gecko.core.agent import Agent
from gecko.core.models.scripted import ScriptedModel
from gecko.core.output import AgentOutput

pytestmark = pytest.mark.anyio


async def test_all_runs_every_member_and_a_failure_cancels_nobody() -> None:
    failed = anyio.Event()

    async def fails(x: str) -> str:
        failed.set()
        raise ValueError(f"bad {x}")

    async def waits_for_the_failure(x: str) -> str:
        await failed.wait()  # still running after the sibling failed
        return f"ok {x}"

    team = Team([waits_for_the_failure, fails, lambda x: f"sync {x}"], name="reviewers")
    results = await team.run("in")
    assert [r.member_index for r in results] == [0, 1, 2]
    assert results[0] == MemberResult(result="ok in", member_index=0)
    assert results[2].value == "sync in"
    assert not results[1].is_success and isinstance(results[1].error, ValueError)
    with pytest.raises(ValueError, match="bad in"):
        _ = results[1].value


async def test_max_concurrent_bounds_running_members() -> None:
    running = 0
    peak = 0

    async def member(x: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        for _ in range(3):
            await anyio.lowlevel.checkpoint()
        running -= 1
        return x

    results = await Team([member] * 6, max_concurrent=2).run(1)
    assert peak == 2 and all(r.is_success for r in results)


async def test_race_has_exactly_one_winner_and_cancels_the_losers() -> None:
    """Regression (0.4 P0-1): 200 members finish at the same instant; one wins, once."""
    count = 200
    go = anyio.Event()
    waiting = 0
    cancelled = 0

    def make(index: int):  # type: ignore[no-untyped-def]
        async def member(x: Any) -> int:
            nonlocal waiting, cancelled
            waiting += 1
            if waiting == count:
                go.set()
            try:
                await go.wait()
                await anyio.lowlevel.checkpoint()
            except anyio.get_cancelled_exc_class():
                cancelled += 1
                raise
            return index

        return member

    results = await Team([make(i) for i in range(count)], strategy=ExecutionStrategy.RACE).run(None)
    assert len(results) == 1 and results[0].is_success
    assert results[0].result == results[0].member_index
    assert cancelled == count - 1


async def test_race_between_threads_finishing_together_has_one_winner() -> None:
    barrier = threading.Barrier(32)

    def make(index: int):  # type: ignore[no-untyped-def]
        def member(x: Any) -> int:
            barrier.wait(timeout=60)  # all 32 threads return at the same moment
            return index

        return member

    for _ in range(5):
        barrier.reset()
        results = await Team([make(i) for i in range(32)], strategy="race").run(None)
        assert len(results) == 1 and results[0].result == results[0].member_index


async def test_race_returns_as_soon_as_the_first_success_and_skips_failures() -> None:
    """Regression (0.4 race timing): the slow member is still blocked when the race returns."""
    never = anyio.Event()
    slow_state: list[str] = []

    async def slow(x: Any) -> str:
        slow_state.append("started")
        try:
            await never.wait()
        finally:
            slow_state.append("cancelled")
        return "slow"  # pragma: no cover

    async def fails(x: Any) -> str:
        raise RuntimeError("down")

    async def fast(x: Any) -> str:
        return "fast"

    results = await Team([slow, fails, fast], strategy=ExecutionStrategy.RACE).run(None)
    assert results == [MemberResult(result="fast", member_index=2)]
    assert slow_state == ["started", "cancelled"] and not never.is_set()


async def test_race_where_everyone_fails_returns_every_failure() -> None:
    """Regression (0.4 P0-2): not an empty list, but each member's failure."""

    def make(index: int):  # type: ignore[no-untyped-def]
        async def member(x: Any) -> None:
            raise ValueError(f"member {index} failed")

        return member

    results = await Team([make(i) for i in range(4)], strategy=ExecutionStrategy.RACE).run(None)
    assert [r.member_index for r in results] == [0, 1, 2, 3]
    assert all(not r.is_success for r in results)
    assert [str(r.error) for r in results] == [f"member {i} failed" for i in range(4)]


async def test_timeout_keeps_finished_results_and_fails_the_rest() -> None:
    never = anyio.Event()

    async def quick(x: Any) -> str:
        return "quick"

    async def stuck(x: Any) -> str:
        await never.wait()
        return "never"  # pragma: no cover

    results = await Team([quick, stuck, quick], timeout=0.1, name="t").run(None)
    assert results[0].value == "quick" and results[2].value == "quick"
    assert isinstance(results[1].error, TeamTimeoutError)
    assert "member 1 of team 't' did not finish within 0.1 s" in str(results[1].error)

    race = await Team([stuck, stuck], strategy=ExecutionStrategy.RACE, timeout=0.1).run(None)
    assert len(race) == 2 and all(isinstance(r.error, TeamTimeoutError) for r in race)


async def test_input_mapper_shards_the_input() -> None:
    """Regression (0.4 sharding): each member gets its own slice."""
    team = Team(
        [lambda part: sum(part)] * 3,
        input_mapper=lambda data, index: data[index * 2 : index * 2 + 2],
    )
    results = await team.run([1, 2, 3, 4, 5, 6])
    assert [r.value for r in results] == [3, 7, 11]


async def test_a_failing_input_mapper_fails_only_its_member() -> None:
    called: list[int] = []

    def member(x: int) -> int:
        called.append(x)
        return x

    async def mapper(data: list[int], index: int) -> int:
        if index == 1:
            raise IndexError("no shard for member 1")
        return data[index]

    results = await Team([member, member, member], input_mapper=mapper).run([10, 20, 30])
    assert [r.is_success for r in results] == [True, False, True]
    assert isinstance(results[1].error, IndexError) and sorted(called) == [10, 30]


async def test_team_as_a_workflow_node_passes_its_results_on() -> None:
    team = Team([lambda x: x + 1, lambda x: x * 2], name="math")
    wf = Workflow("team-node").add_node("team", team)
    wf.add_node("sum", lambda results: sum(r.value for r in results)).add_edge(
        "team", "sum"
    ).set_entry_point("team")
    assert await wf.execute(5) == 16


async def test_members_returning_next_steer_the_workflow_lowest_index_wins(
    caplog: pytest.LogCaptureFixture,
) -> None:
    team = Team([lambda x: "plain", lambda x: Next("billing"), lambda x: Next("tech", input="T")])
    wf = Workflow("router").add_node("triage", team)
    wf.add_node("billing", lambda x: f"billing got {x}").add_node("tech", lambda x: f"tech got {x}")
    wf.add_node("static", lambda x: "static").add_edge("triage", "static").set_entry_point("triage")
    with caplog.at_level(logging.WARNING, logger="gecko.compose.workflow"):
        assert (
            await wf.execute("ticket") == "billing got ticket"
        )  # input=None passes the team's input on
    assert any("member 1 wins" in r.getMessage() for r in caplog.records)


async def test_team_of_real_agents_on_the_scripted_model() -> None:
    optimist = Agent(
        ScriptedModel(["It will be great."]), name="optimist", system_prompt="Be optimistic."
    )
    pessimist = Agent(ScriptedModel([RuntimeError("model down")]), name="pessimist")
    realist = Agent(
        ScriptedModel(lambda call: f"Realist on: {call.last_user_text}"), name="realist"
    )
    results = await Team([optimist, pessimist, realist], max_concurrent=2).run("AGI?")
    assert (
        isinstance(results[0].result, AgentOutput)
        and results[0].result.content == "It will be great."
    )
    assert not results[1].is_success
    assert results[2].value.content == "Realist on: AGI?"
    assert results[0].result.usage.total_tokens > 0

    # The same team as a workflow node: usage of its members is summed in the summary.
    wf = Workflow("board").add_node("board", Team([realist, realist])).set_entry_point("board")
    run = await wf.execute("plans", return_run=True)
    assert [r.value.content for r in run.output] == ["Realist on: plans"] * 2
    assert run.summary.usage.total_tokens == 2 * run.output[0].value.usage.total_tokens > 0
