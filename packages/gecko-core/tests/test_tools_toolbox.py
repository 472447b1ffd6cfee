"""ToolBox: registry, schema export, safe execution, timeouts, bounded concurrency, statistics."""

from __future__ import annotations

import threading

import anyio
import pytest

from gecko.core.errors import ConfigurationError, ToolNotFoundError
from gecko.core.message import ToolCall
from gecko.core.tools import ToolBox, tool

pytestmark = pytest.mark.anyio


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


async def fail(reason: str) -> str:
    """Always fails."""
    raise RuntimeError(reason)


def test_register_unregister_and_schema_export() -> None:
    box = ToolBox([add])
    assert box.names == ["add"] and "add" in box and len(box) == 1
    assert box.schemas() == [
        {
            "type": "function",
            "function": {
                "name": "add",
                "description": "Add two integers.",
                "parameters": {
                    "additionalProperties": False,
                    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                    "required": ["a", "b"],
                    "type": "object",
                },
            },
        }
    ]
    box.register(fail)
    assert [s["function"]["name"] for s in box.schemas()] == ["add", "fail"]
    with pytest.raises(ConfigurationError, match="already registered"):
        box.register(add)
    box.register(tool(name="add", description="replacement")(add), replace=True)
    assert box.get("add").description == "replacement"
    removed = box.unregister("fail")
    assert removed.name == "fail" and box.names == ["add"] and "fail" not in box.stats
    with pytest.raises(
        ToolNotFoundError, match="there is no tool named 'fail'; available tools: add"
    ):
        box.unregister("fail")
    # the exported list is a copy: mutating it does not change the toolbox
    box.schemas().append({"type": "function"})
    assert len(box.schemas()) == 1


def test_invalid_configuration() -> None:
    with pytest.raises(ConfigurationError, match="max_concurrency"):
        ToolBox(max_concurrency=0)
    with pytest.raises(ConfigurationError, match="default_timeout"):
        ToolBox(default_timeout=-1)


async def test_execute_success_and_output_formatting() -> None:
    @tool
    def profile(name: str) -> dict[str, object]:
        return {"name": name, "tags": ["a", "b"]}

    box = ToolBox([add, profile])
    result = await box.execute(ToolCall(id="c1", name="add", arguments={"a": 2, "b": 3}))
    assert (result.call_id, result.name, result.content, result.is_error) == (
        "c1",
        "add",
        "5",
        False,
    )
    assert result.duration >= 0
    result = await box.execute(ToolCall(name="profile", arguments={"name": "Ada"}))
    assert result.content == '{"name":"Ada","tags":["a","b"]}'


async def test_failures_come_back_as_error_results() -> None:
    box = ToolBox([add, fail])
    unknown = await box.execute(ToolCall(name="nope", arguments={}))
    assert unknown.is_error and unknown.error_type == "ToolNotFoundError"
    assert "there is no tool named 'nope'; available tools: add, fail" in unknown.content

    malformed = await box.execute(ToolCall(name="add", arguments='{"a": 1, "b": '))
    assert malformed.is_error and malformed.error_type == "ToolArgumentError"
    assert "not valid JSON" in malformed.content

    not_object = await box.execute(ToolCall(name="add", arguments="[1, 2]"))
    assert not_object.is_error and "must be a JSON object" in not_object.content

    mismatch = await box.execute(ToolCall(name="add", arguments={"a": 1, "b": "two"}))
    assert mismatch.is_error and "argument 'b'" in mismatch.content

    raised = await box.execute(ToolCall(name="fail", arguments={"reason": "disk full"}))
    assert raised.is_error and raised.error_type == "RuntimeError"
    assert raised.content == "Error: tool 'fail' failed: RuntimeError: disk full"

    assert box.stats["add"].calls == 3 and box.stats["add"].errors == 3
    assert box.stats["fail"].last_error == raised.content


async def test_async_tool_timeout() -> None:
    @tool(timeout=0.05)
    async def hang() -> str:
        await anyio.sleep_forever()
        return "never"

    box = ToolBox([hang])
    result = await box.execute(ToolCall(name="hang"))
    assert result.is_error and result.error_type == "ToolTimeoutError"
    assert "tool 'hang' timed out after 0.05 s" in result.content
    assert box.stats["hang"].timeouts == 1


async def test_sync_tool_timeout_returns_without_waiting_for_the_thread() -> None:
    release = threading.Event()

    def block() -> str:
        release.wait(30)
        return "late"

    box = ToolBox([block], default_timeout=0.05)
    try:
        result = await box.execute(ToolCall(name="block"))
    finally:
        release.set()
    assert result.is_error and result.error_type == "ToolTimeoutError"


async def test_tool_raising_timeout_error_itself_is_not_a_timeout() -> None:
    async def remote() -> str:
        raise TimeoutError("upstream timed out")

    box = ToolBox([remote], default_timeout=10)
    result = await box.execute(ToolCall(name="remote"))
    assert result.error_type == "TimeoutError" and box.stats["remote"].timeouts == 0


async def test_execute_many_runs_calls_concurrently_in_call_order() -> None:
    # Each call waits until every call has started: only concurrent execution can finish.
    started = 0
    all_started = anyio.Event()

    async def rendezvous(tag: str) -> str:
        nonlocal started
        started += 1
        if started == 3:
            all_started.set()
        await all_started.wait()
        return tag

    box = ToolBox([rendezvous])
    calls = [ToolCall(name="rendezvous", arguments={"tag": t}) for t in ("x", "y", "z")]
    with anyio.fail_after(5):
        results = await box.execute_many(calls)
    assert [r.content for r in results] == ["x", "y", "z"]
    assert [r.call_id for r in results] == [c.id for c in calls]


async def test_results_keep_call_order_when_finishing_out_of_order() -> None:
    gates = {tag: anyio.Event() for tag in ("first", "second")}

    async def gated(tag: str) -> str:
        if tag == "first":
            await gates["first"].wait()  # finishes after "second"
        else:
            gates["first"].set()
        return tag

    box = ToolBox([gated])
    results = await box.execute_many(
        [
            ToolCall(name="gated", arguments={"tag": "first"}),
            ToolCall(name="gated", arguments={"tag": "second"}),
        ]
    )
    assert [r.content for r in results] == ["first", "second"]


async def test_concurrency_is_bounded_by_max_concurrency() -> None:
    in_flight = 0
    peak = 0
    two_running = anyio.Event()
    release = anyio.Event()

    async def work(n: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if in_flight == 2:
            two_running.set()
        await release.wait()
        in_flight -= 1
        return n

    box = ToolBox([work], max_concurrency=2)
    results: list[int] = []

    async def run_all() -> None:
        out = await box.execute_many([ToolCall(name="work", arguments={"n": n}) for n in range(6)])
        results.extend(int(r.content) for r in out)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(run_all)
            await two_running.wait()
            # give the other four every chance to start: they must not
            for _ in range(20):
                await anyio.lowlevel.checkpoint()
            assert in_flight == 2
            release.set()
    assert peak == 2
    assert results == list(range(6))


async def test_cancellation_propagates() -> None:
    async def slow() -> str:
        await anyio.sleep_forever()
        return ""

    box = ToolBox([slow])
    with anyio.move_on_after(0.05) as scope:
        await box.execute(ToolCall(name="slow"))
    assert scope.cancelled_caught
