"""The ReAct engine: turns, concurrent tool calls, errors fed back, guards, budgets and hooks."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from gecko.core.engine import Budget, ReActEngine, RunContext
from gecko.core.errors import ModelTimeoutError, RateLimitError, StructuredOutputError
from gecko.core.message import Message, Role, ToolCall
from gecko.core.models.scripted import ModelCall, ScriptedModel
from gecko.core.output import ModelResponse, TokenUsage
from gecko.core.tools import ToolBox, ToolResult

pytestmark = pytest.mark.anyio


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def engine_for(model: ScriptedModel, *tools: Any, **options: Any) -> ReActEngine:
    return ReActEngine(model, ToolBox(tools), **options)


def assert_history_is_valid(messages: list[Message]) -> None:
    """Every assistant tool call is answered by exactly one tool result, right after it."""
    for index, message in enumerate(messages):
        if message.role is Role.ASSISTANT and message.tool_calls:
            ids = [call.id for call in message.tool_calls]
            following = messages[index + 1 : index + 1 + len(ids)]
            assert [m.tool_call_id for m in following] == ids


async def test_multi_turn_tool_use_accumulates_usage() -> None:
    responses: list[ModelResponse] = []
    model = ScriptedModel(
        [
            ToolCall(name="add", arguments={"a": 1, "b": 2}),
            ToolCall(name="add", arguments={"a": 3, "b": 4}),
            "1 + 2 = 3 and 3 + 4 = 7",
        ]
    )
    engine = engine_for(model, add, on_turn_end=lambda ctx, response: responses.append(response))
    output = await engine.run([Message.user("add things")])

    assert output.content == "1 + 2 = 3 and 3 + 4 = 7"
    assert output.stop_reason == "final"
    assert [c.arguments for c in output.tool_calls] == ['{"a": 1, "b": 2}', '{"a": 3, "b": 4}']
    assert len(model.calls) == 3
    assert model.calls[1].messages[-1].text == "3"  # the tool result went back to the model
    assert model.calls[2].messages[-1].text == "7"
    assert model.calls[0].tool_names == ["add"]
    expected = sum((r.usage for r in responses), TokenUsage())
    assert output.usage == expected and output.usage.total_tokens > 0
    assert [m.role for m in output.messages] == [
        Role.USER,
        Role.ASSISTANT,
        Role.TOOL,
        Role.ASSISTANT,
        Role.TOOL,
        Role.ASSISTANT,
    ]
    assert output.raw is responses[-1]


async def test_parallel_tool_calls_run_concurrently_and_results_keep_call_order() -> None:
    arrived: list[str] = []
    everyone = anyio.Event()

    async def meet(name: str) -> str:
        """Waits until all three calls have arrived: only concurrent calls can finish."""
        arrived.append(name)
        if len(arrived) == 3:
            everyone.set()
        await everyone.wait()
        return f"met {name}"

    calls = [ToolCall(name="meet", arguments={"name": n}) for n in ("c", "a", "b")]
    model = ScriptedModel([calls, "done"])
    with anyio.fail_after(10):
        output = await engine_for(model, meet).run([Message.user("meet")])
    assert output.content == "done"
    results = model.calls[1].messages[-3:]
    assert [m.tool_call_id for m in results] == [c.id for c in calls]
    assert [m.text for m in results] == ["met c", "met a", "met b"]


async def test_tool_errors_and_invalid_arguments_are_fed_back() -> None:
    async def explode() -> str:
        raise ValueError("kaboom")

    model = ScriptedModel(
        [
            [
                ToolCall(name="explode"),
                ToolCall(name="add", arguments={"a": 1, "b": "two"}),
                ToolCall(name="add", arguments='{"a": 1, "b": '),
                ToolCall(name="missing"),
            ],
            ToolCall(name="add", arguments={"a": 1, "b": 2}),
            "recovered",
        ]
    )
    output = await engine_for(model, add, explode).run([Message.user("go")])
    assert output.content == "recovered" and output.stop_reason == "final"
    fed_back = [m.text for m in model.calls[1].messages if m.role is Role.TOOL]
    assert fed_back[0] == "Error: tool 'explode' failed: ValueError: kaboom"
    assert "argument 'b'" in fed_back[1]
    assert "not valid JSON" in fed_back[2]
    assert "there is no tool named 'missing'" in fed_back[3]
    assert model.calls[2].messages[-1].text == "3"


async def test_tool_timeout_is_fed_back() -> None:
    async def slow() -> str:
        await anyio.sleep_forever()
        return "never"

    model = ScriptedModel([ToolCall(name="slow"), "gave up"])
    engine = ReActEngine(model, ToolBox([slow], default_timeout=0.05))
    output = await engine.run([Message.user("go")])
    assert output.content == "gave up"
    assert "timed out after 0.05 s" in model.calls[1].messages[-1].text


async def test_loop_guard_stops_identical_repeated_calls() -> None:
    executed = 0

    def lookup(query: str) -> str:
        nonlocal executed
        executed += 1
        return "nothing"

    model = ScriptedModel(lambda call: ToolCall(name="lookup", arguments={"query": "same"}))
    output = await engine_for(model, lookup, loop_guard=3, max_turns=10).run([Message.user("?")])
    assert output.stop_reason == "loop_guard"
    assert "called 'lookup' with the same arguments 3 times" in output.content
    assert executed == 2 and len(model.calls) == 3
    assert output.messages[-1].text.startswith("Not run: Stopped")
    assert_history_is_valid(output.messages)


async def test_loop_guard_ignores_key_order_and_can_be_disabled() -> None:
    variants = ['{"a": 1, "b": 2}', '{"b": 2, "a": 1}', '{ "a":1,"b":2 }']
    model = ScriptedModel([ToolCall(name="add", arguments=v) for v in variants])
    output = await engine_for(model, add).run([Message.user("?")])
    assert output.stop_reason == "loop_guard"

    model = ScriptedModel(lambda call: ToolCall(name="add", arguments={"a": 1, "b": 2}))
    output = await engine_for(model, add, loop_guard=None, max_turns=4).run([Message.user("?")])
    assert output.stop_reason == "max_turns" and len(output.tool_calls) == 4
    assert output.content == "Stopped: no final answer after 4 turns (max_turns=4)."


async def test_budget_on_tool_calls_stops_cleanly() -> None:
    counter = iter(range(100))
    model = ScriptedModel(lambda call: ToolCall(name="add", arguments={"a": next(counter), "b": 0}))
    output = await engine_for(model, add).run(
        [Message.user("count")], budget=Budget(max_tool_calls=2)
    )
    assert output.stop_reason == "budget"
    assert len(output.tool_calls) == 2
    assert (
        "tool-call budget would be exceeded (2 made, 1 more requested, max_tool_calls=2)"
        in output.content
    )
    assert_history_is_valid(output.messages)


async def test_budget_on_tokens_stops_before_the_next_model_call() -> None:
    model = ScriptedModel(
        lambda call: ToolCall(name="add", arguments={"a": len(call.messages), "b": 1})
    )
    output = await engine_for(model, add).run(
        [Message.user("x" * 400)], budget=Budget(max_tokens=50)
    )
    assert output.stop_reason == "budget"
    assert len(model.calls) == 1 and output.tool_calls == []
    assert "token budget is used up" in output.content and "max_tokens=50" in output.content
    assert output.usage.total_tokens >= 50
    assert_history_is_valid(output.messages)


async def test_a_final_answer_crossing_the_budget_is_kept() -> None:
    model = ScriptedModel(["a long answer " * 50])
    output = await engine_for(model).run([Message.user("hi")], budget=Budget(max_tokens=5))
    assert output.stop_reason == "final" and output.content.startswith("a long answer")


async def test_hooks_sync_async_and_failing(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    def start(ctx: RunContext) -> None:
        seen.append(f"start {ctx.turn}")
        raise RuntimeError("hook bug")

    async def end(ctx: RunContext, response: ModelResponse) -> None:
        await anyio.lowlevel.checkpoint()
        seen.append(f"end {ctx.turn} {response.finish_reason}")

    def tool_hook(ctx: RunContext, call: ToolCall, result: ToolResult) -> None:
        seen.append(f"tool {call.name}={result.content}")

    model = ScriptedModel([ToolCall(name="add", arguments={"a": 2, "b": 2}), "4"])
    engine = engine_for(model, add, on_turn_start=start, on_turn_end=end, on_tool_execute=tool_hook)
    with caplog.at_level(logging.ERROR, logger="gecko.core.engine"):
        output = await engine.run([Message.user("2+2")])
    assert output.content == "4"
    assert seen == ["start 1", "tool add=4", "end 1 tool_calls", "start 2", "end 2 stop"]
    failures = [r for r in caplog.records if "on_turn_start" in r.getMessage()]
    assert len(failures) == 2 and failures[0].exc_info is not None


class Weather(BaseModel):
    city: str
    celsius: float


async def test_structured_output_after_tool_calls() -> None:
    def temperature(city: str) -> float:
        return 21.5

    model = ScriptedModel(
        [
            ToolCall(name="temperature", arguments={"city": "Paris"}),
            ToolCall(name="final_result", arguments={"city": "Paris", "celsius": "hot"}),
            ToolCall(name="final_result", arguments={"city": "Paris", "celsius": 21.5}),
        ]
    )
    output = await engine_for(model, temperature).run(
        [Message.user("weather in Paris?")], response_model=Weather
    )
    assert output.parsed == Weather(city="Paris", celsius=21.5)
    assert output.content == '{"city":"Paris","celsius":21.5}'
    assert model.calls[0].tool_choice == "required"
    assert model.calls[0].tool_names == ["temperature", "final_result"]
    assert "field 'celsius'" in model.calls[2].messages[-1].text
    assert len(output.tool_calls) == 1  # the output tool is not a tool call of the run
    assert_history_is_valid(output.messages)


async def test_structured_output_exhausts_retries() -> None:
    model = ScriptedModel(lambda call: ToolCall(name="final_result", arguments={"city": 1}))
    engine = engine_for(model, structure_retries=1)
    with pytest.raises(StructuredOutputError) as info:
        await engine.run([Message.user("?")], response_model=Weather)
    assert len(model.calls) == 2
    assert info.value.raw_text == '{"city": 1}'
    assert model.calls[0].tool_choice == {"type": "function", "function": {"name": "final_result"}}


async def test_output_tool_name_avoids_a_user_tool_called_final_result() -> None:
    def final_result() -> str:
        return "user tool"

    model = ScriptedModel()
    output = await engine_for(model, final_result).run([Message.user("?")], response_model=Weather)
    assert model.calls[0].tool_names == ["final_result", "gecko_final_result"]
    assert isinstance(output.parsed, Weather)


async def test_json_mode_engine_for_models_without_tools() -> None:
    model = ScriptedModel(
        ['{"city": "Oslo"}', '{"city": "Oslo", "celsius": -3}'], supports_tools=False
    )
    output = await engine_for(model, add).run([Message.user("?")], response_model=Weather)
    assert output.parsed == Weather(city="Oslo", celsius=-3)
    assert all(call.tools is None and call.response_format for call in model.calls)


async def test_model_errors_propagate() -> None:
    model = ScriptedModel([RateLimitError("slow down", provider="test", status=429)])
    with pytest.raises(RateLimitError):
        await engine_for(model).run([Message.user("hi")])


async def test_model_timeout() -> None:
    model = ScriptedModel(["late"], delay=60)
    with pytest.raises(ModelTimeoutError, match=r"did not answer within 0\.05 s"):
        await engine_for(model, model_timeout=0.05).run([Message.user("hi")])


async def test_one_engine_serves_concurrent_runs() -> None:
    def echo(call: ModelCall) -> Any:
        if not call.tool_results:
            return ToolCall(name="add", arguments={"a": int(call.last_user_text), "b": 1000})
        return f"{call.last_user_text}->{call.tool_results[0].text}"

    engine = engine_for(ScriptedModel(echo), add)
    outputs: dict[int, str] = {}

    async def one(n: int) -> None:
        outputs[n] = (await engine.run([Message.user(str(n))])).content

    async with anyio.create_task_group() as group:
        for n in range(25):
            group.start_soon(one, n)
    assert outputs == {n: f"{n}->{n + 1000}" for n in range(25)}


def test_invalid_engine_options() -> None:
    from gecko.core.errors import ConfigurationError

    model = ScriptedModel()
    for options in (
        {"max_turns": 0},
        {"loop_guard": 1},
        {"structure_retries": -1},
        {"model_timeout": 0},
    ):
        with pytest.raises(ConfigurationError):
            ReActEngine(model, **options)
    with pytest.raises(ConfigurationError, match="on_turn_end must be callable"):
        ReActEngine(model, on_turn_end="nope")  # type: ignore[arg-type]
