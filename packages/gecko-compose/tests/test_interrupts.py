"""Human-in-the-loop interrupts on a real SQLite file and a real Redis server.

Parallel interrupts answered one by one reach the right nodes; an answered key never fires
again; the answered node runs again from its start with the same idempotency key; a process
killed while its run waits loses nothing; an interrupt inside a sub-workflow resumes there.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from gecko.compose import Interrupt, RunInterrupted, Workflow, WorkflowContext
from gecko.compose.errors import InterruptError
from gecko.core.retry import RetryPolicy
from gecko.core.testing import wait_until

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    url: str = request.getfixturevalue("redis_url")
    prefix: str = request.getfixturevalue("redis_prefix")
    return f"{url}{'&' if '?' in url else '?'}prefix={prefix}"


def approvals(url: str, calls: list[tuple[str, str]]) -> Workflow:
    """start -> three reviewers in parallel (each asks its own key) and a plain node -> join."""

    def reviewer(name: str) -> Any:
        async def review(value: Any, ctx: WorkflowContext) -> str:
            calls.append((name, ctx.idempotency_key))
            answer = await ctx.interrupt({"document": value, "reviewer": name}, key=name)
            return f"{name}:{answer}"

        return review

    wf = Workflow("approvals", storage=url)
    wf.add_node("start", lambda x: x).add_node("plain", lambda x: "plain")
    wf.add_node("join", lambda x: x)
    for name in ("legal", "finance", "security"):
        wf.add_node(name, reviewer(name)).add_edge("start", name).add_edge(name, "join")
    wf.add_edge("start", "plain").add_edge("plain", "join").set_entry_point("start")
    return wf


async def test_three_parallel_interrupts_answered_in_three_calls_reach_the_right_nodes(
    store_url: str,
) -> None:
    calls: list[tuple[str, str]] = []
    async with approvals(store_url, calls) as wf:
        with pytest.raises(RunInterrupted) as stopped:
            await wf.execute("doc-1", session_id="r1")
        assert stopped.value.run_id == "r1"
        assert {(i.key, i.node) for i in stopped.value.interrupts} == {
            ("legal", "legal"),
            ("finance", "finance"),
            ("security", "security"),
        }
        assert all(i.payload["document"] == "doc-1" for i in stopped.value.interrupts)
        state = await wf.get_state("r1")
        assert state.status == "interrupted"
        assert sorted(i.key for i in state.interrupts) == ["finance", "legal", "security"]

        with pytest.raises(RunInterrupted) as still:
            await wf.resume("r1", answers={"finance": "ok"})
        assert sorted(i.key for i in still.value.interrupts) == ["legal", "security"]
        run = await wf.resume("r1", answers={"security": "fine"}, return_run=True)
        assert run.status == "interrupted" and [i.key for i in run.interrupts] == ["legal"]
        assert run.output is None
        result = await wf.resume("r1", answers={"legal": "approved"})
    assert result == {
        "legal": "legal:approved",
        "finance": "finance:ok",
        "security": "security:fine",
        "plain": "plain",
    }
    # Each reviewer asked once, and ran once more when (and only when) it was answered,
    # with the same idempotency key both times.
    runs: dict[str, list[str]] = {}
    for name, key in calls:
        runs.setdefault(name, []).append(key)
    assert {name: len(keys) for name, keys in runs.items()} == {
        "legal": 2,
        "finance": 2,
        "security": 2,
    }
    assert all(len(set(keys)) == 1 for keys in runs.values())


async def test_all_interrupts_answered_in_one_call(tmp_path: Path) -> None:
    calls: list[tuple[str, str]] = []
    async with approvals(f"sqlite:///{tmp_path / 'runs.db'}", calls) as wf:
        run = await wf.execute("d", session_id="r", return_run=True)
        assert run.status == "interrupted" and len(run.interrupts) == 3
        result = await wf.resume("r", answers={"legal": 1, "finance": 2, "security": 3})
        assert result["finance"] == "finance:2"
        assert (await wf.get_state("r")).status == "completed"
        assert (await wf.get_state("r")).interrupts == []


async def test_wrong_answers_are_refused_with_what_is_pending(tmp_path: Path) -> None:
    calls: list[tuple[str, str]] = []
    async with approvals(f"sqlite:///{tmp_path / 'runs.db'}", calls) as wf:
        with pytest.raises(RunInterrupted):
            await wf.execute("d", session_id="r")
        with pytest.raises(InterruptError) as error:
            await wf.resume("r", answers={"marketing": "yes"})
        message = str(error.value)
        assert "'marketing'" in message and "'legal'" in message
        assert "'reviewer': 'legal'" in message  # the payloads are shown
        with pytest.raises(InterruptError, match="mapping"):
            await wf.resume("r", answers=["legal"])  # type: ignore[arg-type]
        await wf.resume("r", answers={"legal": 1, "finance": 2, "security": 3})
        with pytest.raises(InterruptError, match="is completed, not interrupted"):
            await wf.resume("r", answers={"legal": 1})
        # A refused answer stored nothing: the run still completes as answered.
        assert (await wf.resume("r"))["legal"] == "legal:1"


async def test_resuming_without_answers_runs_nothing_and_stays_interrupted(
    tmp_path: Path,
) -> None:
    calls: list[tuple[str, str]] = []
    async with approvals(f"sqlite:///{tmp_path / 'runs.db'}", calls) as wf:
        with pytest.raises(RunInterrupted):
            await wf.execute("d", session_id="r")
        before = len(await wf.history("r"))
        with pytest.raises(RunInterrupted) as again:
            await wf.resume("r")
        assert len(again.value.interrupts) == 3
        assert len(calls) == 3 and len(await wf.history("r")) == before


async def test_two_nodes_with_one_key_are_an_error_naming_both(tmp_path: Path) -> None:
    async def ask(value: Any, ctx: WorkflowContext) -> Any:
        return await ctx.interrupt("?", key="same")

    wf = Workflow("clash", storage=f"sqlite:///{tmp_path / 'runs.db'}")
    wf.add_node("start", lambda x: x).add_node("a", ask).add_node("b", ask)
    wf.add_edge("start", "a").add_edge("start", "b").set_entry_point("start")
    async with wf:
        with pytest.raises(InterruptError) as error:
            await wf.execute(None, session_id="r")
        assert (await wf.get_state("r")).status == "failed"
    assert "'a'" in str(error.value) and "'b'" in str(error.value) and "same" in str(error.value)


async def test_an_answered_key_never_fires_again_and_belongs_to_its_node(tmp_path: Path) -> None:
    asked: list[int] = []

    async def loop(value: int, ctx: WorkflowContext) -> int:
        answer = await ctx.interrupt(value, key="limit")
        asked.append(value)
        return value + 1 if value < answer else value

    wf = Workflow("loop", storage=f"sqlite:///{tmp_path / 'runs.db'}", allow_cycles=True)
    wf.add_node("count", loop).add_node("done", lambda x: x)
    wf.add_edge("count", "count", condition=lambda n: n < 3).add_edge("count", "done")
    wf.set_entry_point("count")
    async with wf:
        with pytest.raises(RunInterrupted):
            await wf.execute(0, session_id="r")
        assert await wf.resume("r", answers={"limit": 3}) == 3
    assert asked == [0, 1, 2]  # asked once, answered once, used on every later iteration


async def test_a_human_node_asks_with_its_name_and_returns_the_answer(tmp_path: Path) -> None:
    wf = Workflow("human", storage=f"sqlite:///{tmp_path / 'runs.db'}")
    wf.add_node("draft", lambda x: f"draft of {x}").add_human("approve", prompt="Ship it?")
    wf.add_node("ship", lambda answer: f"shipped: {answer}")
    wf.add_edge("draft", "approve").add_edge("approve", "ship").set_entry_point("draft")
    async with wf:
        with pytest.raises(RunInterrupted) as stopped:
            await wf.execute("the plan", session_id="r")
        assert stopped.value.interrupts == [
            Interrupt("approve", "approve", {"prompt": "Ship it?", "input": "draft of the plan"})
        ]
        assert await wf.resume("r", answers={"approve": "yes"}) == "shipped: yes"


async def test_an_interrupt_is_not_a_failure_retried_or_swallowed(tmp_path: Path) -> None:
    attempts: list[int] = []

    async def careful(value: Any, ctx: WorkflowContext) -> Any:
        attempts.append(ctx.attempt)
        try:
            return await ctx.interrupt("go?", key="go")
        except Exception:  # a node's broad except must not swallow the interrupt
            return "swallowed"

    wf = Workflow("careful", storage=f"sqlite:///{tmp_path / 'runs.db'}")
    wf.add_node("careful", careful, retry=RetryPolicy(max_attempts=3, initial_delay=0.001))
    wf.set_entry_point("careful")
    async with wf:
        with pytest.raises(RunInterrupted):
            await wf.execute(None, session_id="r")
        assert attempts == [1]
        assert await wf.resume("r", answers={"go": "yes"}) == "yes"


async def test_an_interrupt_needs_storage() -> None:
    async def ask(value: Any, ctx: WorkflowContext) -> Any:
        return await ctx.interrupt("?", key="k")

    wf = Workflow("no-store").add_node("ask", ask).set_entry_point("ask")
    with pytest.raises(InterruptError, match="no storage"):
        await wf.execute(None)


async def test_an_interrupt_inside_a_sub_workflow_resumes_there(tmp_path: Path) -> None:
    ran: list[str] = []

    def tracked(name: str, value: Any) -> Any:
        ran.append(name)
        return value

    async def ask(value: Any, ctx: WorkflowContext) -> Any:
        ran.append("ask")
        return await ctx.interrupt(value, key="inner")

    child = Workflow("child")
    child.add_node("prepare", lambda x: tracked("prepare", x)).add_node("ask", ask)
    child.add_edge("prepare", "ask").set_entry_point("prepare")
    parent = Workflow("parent", storage=f"sqlite:///{tmp_path / 'runs.db'}")
    parent.add_node("before", lambda x: tracked("before", x)).add_node("child", child)
    parent.add_node("after", lambda x: f"after {x}")
    parent.add_edge("before", "child").add_edge("child", "after").set_entry_point("before")
    async with parent:
        with pytest.raises(RunInterrupted) as stopped:
            await parent.execute("x", session_id="p")
        assert [(i.key, i.node) for i in stopped.value.interrupts] == [("inner", "child/ask")]
        assert await parent.resume("p", answers={"inner": "yes"}) == "after yes"
    assert ran == ["before", "prepare", "ask", "ask"]  # nothing else ran twice


WAITING_WORKER = textwrap.dedent(
    """
    import asyncio, sys, time
    from pathlib import Path
    from gecko.compose import RunInterrupted, Workflow

    async def ask(value, ctx):
        Path(sys.argv[2], "asked").touch()
        return await ctx.interrupt({"amount": value}, key="approve")

    async def main():
        wf = Workflow("pay", storage=sys.argv[1])
        wf.add_node("ask", ask).add_node("pay", lambda ok: f"paid: {ok}")
        wf.add_edge("ask", "pay").set_entry_point("ask")
        try:
            await wf.execute(42, session_id="payment")
        except RunInterrupted:
            Path(sys.argv[2], "waiting").touch()
        time.sleep(600)  # a process that keeps running until it is killed

    asyncio.run(main())
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
async def test_a_process_killed_while_its_run_waits_loses_nothing(
    store_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    worker = subprocess.Popen(
        [sys.executable, "-c", WAITING_WORKER, store_url, str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:

        def waiting_or_dead() -> bool:
            if worker.poll() is not None:
                raise AssertionError(worker.communicate()[1].decode())
            return (out / "waiting").exists()

        await wait_until(waiting_or_dead, timeout=120, message="the run waiting for an answer")
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(timeout=60) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
    wf = Workflow("pay", storage=store_url)

    async def ask(value: Any, ctx: WorkflowContext) -> Any:
        return await ctx.interrupt({"amount": value}, key="approve")

    wf.add_node("ask", ask).add_node("pay", lambda ok: f"paid: {ok}")
    wf.add_edge("ask", "pay").set_entry_point("ask")
    async with wf:
        state = await wf.get_state("payment")
        assert state.status == "interrupted"
        assert state.interrupts == [Interrupt("approve", "ask", {"amount": 42})]
        assert await wf.resume("payment", answers={"approve": "yes"}) == "paid: yes"
