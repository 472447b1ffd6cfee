"""``catch``: a node's failure, after its retries, routed to a fallback node with ``ctx.error``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gecko.compose import RunInterrupted, Workflow, WorkflowContext
from gecko.compose.errors import CaughtError, NodeExecutionError, UnknownNodeError
from gecko.core.retry import RetryPolicy

pytestmark = pytest.mark.anyio


class Unavailable(Exception):
    pass


def lookup(attempts: list[int]) -> Any:
    def run(customer: str) -> str:
        attempts.append(1)
        raise Unavailable(f"{customer}: service down")

    return run


async def test_a_caught_failure_goes_to_the_fallback_with_the_input_and_the_error() -> None:
    attempts: list[int] = []
    seen: list[Any] = []

    def cached(customer: str, ctx: WorkflowContext) -> str:
        seen.append(ctx.error)
        return f"cached {customer}"

    wf = Workflow("catch", retry=RetryPolicy(max_attempts=3, initial_delay=0.001))
    wf.add_node("lookup", lookup(attempts), catch={Unavailable: "cached"})
    wf.add_node("cached", cached).add_node("reply", lambda x: f"reply: {x}")
    wf.add_edge("lookup", "reply").add_edge("cached", "reply").set_entry_point("lookup")
    run = await wf.execute("ada", return_run=True)
    assert run.output == "reply: cached ada"
    assert len(attempts) == 3  # retried first, caught after
    assert isinstance(seen[0], Unavailable) and "service down" in str(seen[0])
    assert "cached" in run.history and run.history["lookup"] == "ada"


async def test_an_error_no_catch_matches_fails_the_run() -> None:
    def broken(x: Any) -> None:
        raise KeyError("missing")

    wf = Workflow("catch").add_node("broken", broken, catch={Unavailable: "fallback"})
    wf.add_node("fallback", lambda x: "never").set_entry_point("broken")
    with pytest.raises(NodeExecutionError, match="KeyError"):
        await wf.execute(None)


async def test_the_first_matching_type_wins() -> None:
    wf = Workflow("order")
    wf.add_node("fails", lookup([]), catch={Unavailable: "specific", Exception: "general"})
    wf.add_node("specific", lambda x: "specific").add_node("general", lambda x: "general")
    wf.set_entry_point("fails")
    assert await wf.execute("x") == "specific"


async def test_a_catch_target_that_does_not_exist_is_refused_when_the_graph_is_built() -> None:
    wf = Workflow("bad").add_node("a", lambda x: x, catch={Exception: "nowhere"})
    wf.set_entry_point("a")
    with pytest.raises(UnknownNodeError, match="nowhere"):
        wf.validate()
    with pytest.raises(Exception, match="exception classes"):
        Workflow("w").add_node("a", lambda x: x, catch={42: "b"})  # type: ignore[dict-item]


async def test_the_fallback_keeps_the_error_across_a_resume(tmp_path: Path) -> None:
    async def apologise(customer: str, ctx: WorkflowContext) -> str:
        ok = await ctx.interrupt({"error": str(ctx.error)}, key="apology")
        return f"{customer}: {ok} ({type(ctx.error).__name__})"

    def build() -> Workflow:
        wf = Workflow("resume-catch", storage=f"sqlite:///{tmp_path / 'runs.db'}")
        wf.add_node("lookup", lookup([]), catch={Unavailable: "apologise"})
        return wf.add_node("apologise", apologise).set_entry_point("lookup")

    async with build() as wf:
        with pytest.raises(RunInterrupted) as stopped:
            await wf.execute("ada", session_id="r")
        assert "service down" in stopped.value.interrupts[0].payload["error"]
    async with build() as again:  # a fresh workflow object, as in another process
        result = await again.resume("r", answers={"apology": "sorry"})
    assert result == "ada: sorry (CaughtError)"
    assert issubclass(CaughtError, Exception)


async def test_a_class_name_catches_that_class_and_its_subclasses() -> None:
    class Specific(Unavailable):
        pass

    def fails(x: Any) -> None:
        raise Specific("down")

    wf = Workflow("names").add_node("fails", fails, catch={"Unavailable": "fallback"})
    wf.add_node("fallback", lambda x: "fell back").set_entry_point("fails")
    assert await wf.execute(None) == "fell back"
    with pytest.raises(Exception, match="class names"):
        Workflow("w").add_node("a", lambda x: x, catch={"not a name": "b"})
