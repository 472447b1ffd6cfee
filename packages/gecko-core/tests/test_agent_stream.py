"""Agent streaming, the event stream for UIs, EventBus publication and OpenTelemetry spans."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from pydantic import BaseModel

from gecko import Agent, Message
from gecko.core.agent.events import (
    AgentEvent,
    FinalEvent,
    ModelResponseEvent,
    RunFailedEvent,
    TokenEvent,
    ToolCalledEvent,
    ToolResultEvent,
)
from gecko.core.errors import GeckoError, ModelConnectionError
from gecko.core.events import Event, EventBus
from gecko.core.message import ToolCall
from gecko.core.models.scripted import ScriptedModel
from gecko.core.output import ModelResponse
from gecko.core.telemetry import use_tracer_provider

pytestmark = pytest.mark.anyio

STORY = "Once upon a time, a gecko climbed a very tall glass wall and saw the sea."


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


class NonStreamingModel:
    """A ChatModel without ``astream``: streaming falls back to one chunk per turn."""

    name = "plain"
    supports_tools = True

    def __init__(self, replies: list[Any]) -> None:
        self._inner = ScriptedModel(replies)

    async def acompletion(self, messages: Sequence[Message], **kwargs: Any) -> ModelResponse:
        return await self._inner.acompletion(messages, **kwargs)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    use_tracer_provider(provider)
    try:
        yield exporter
    finally:
        use_tracer_provider(None)
        provider.shutdown()


async def test_stream_text_chunks_concatenate_to_the_final_content() -> None:
    model = ScriptedModel([STORY], stream_chunk_chars=5)
    stream = Agent(model).stream("tell me a story")
    chunks = [chunk async for chunk in stream]
    assert len(chunks) == len(STORY) // 5 + 1
    assert "".join(chunks) == STORY == stream.output.content
    assert stream.done and stream.output.stop_reason == "final"


async def test_stream_with_tool_turns() -> None:
    model = ScriptedModel([ToolCall(name="add", arguments={"a": 20, "b": 22}), "The sum is 42."])
    stream = Agent(model, tools=[add]).stream("20 + 22?")
    text = "".join([chunk async for chunk in stream])
    assert text == "The sum is 42." == stream.output.content
    assert len(stream.output.tool_calls) == 1


async def test_stream_falls_back_to_one_chunk_for_non_streaming_models() -> None:
    stream = Agent(NonStreamingModel([STORY])).stream("story")  # type: ignore[arg-type]
    assert [chunk async for chunk in stream] == [STORY]
    assert stream.output.content == STORY


async def test_stream_events_for_uis_in_order() -> None:
    model = ScriptedModel(
        [ToolCall(name="add", arguments={"a": 1, "b": 2}), "three"], stream_chunk_chars=2
    )
    events = [event async for event in Agent(model, tools=[add], name="ui").stream("1+2").events()]
    kinds = [event.type for event in events]
    assert kinds == [
        "agent.run_started",
        "agent.turn_started",
        "agent.model_response",
        "agent.tool_called",
        "agent.tool_result",
        "agent.turn_ended",
        "agent.turn_started",
        "agent.token",
        "agent.token",
        "agent.token",
        "agent.model_response",
        "agent.turn_ended",
        "agent.final",
    ]
    assert len({event.run_id for event in events}) == 1
    assert all(event.source == "ui" for event in events)
    called = next(e for e in events if isinstance(e, ToolCalledEvent))
    result = next(e for e in events if isinstance(e, ToolResultEvent))
    assert (called.name, called.arguments) == ("add", '{"a": 1, "b": 2}')
    assert (result.call_id, result.content, result.is_error) == (called.call_id, "3", False)
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == "three"
    final = events[-1]
    assert (
        isinstance(final, FinalEvent) and final.content == "three" and final.stop_reason == "final"
    )


class Answer(BaseModel):
    value: int


async def test_stream_structured_output() -> None:
    model = ScriptedModel(['{"value": 4', '{"value": 42}'], supports_tools=False)
    stream = Agent(model).stream("?", response_model=Answer)
    output = await stream.collect()
    assert output.parsed == Answer(value=42)


async def test_stream_misuse_is_explained() -> None:
    stream = Agent(ScriptedModel(["hi"])).stream("x")
    with pytest.raises(GeckoError, match="not available yet"):
        _ = stream.output
    assert [c async for c in stream] == ["hi"]
    with pytest.raises(GeckoError, match="already consumed"):
        async for _ in stream.events():
            pass


async def test_stream_closed_early_stops_the_run() -> None:
    model = ScriptedModel([ToolCall(name="add", arguments={"a": 1, "b": 2}), "done"])
    async with Agent(model, tools=[add]).stream("x") as stream:
        async for event in stream.events():
            if isinstance(event, ModelResponseEvent):
                break
    assert len(model.calls) == 1 and not stream.done


async def test_events_on_the_bus_and_middleware() -> None:
    bus = EventBus()
    seen: list[AgentEvent] = []
    bus.subscribe("agent.*", seen.append)

    def redact(event: Event) -> Event | None:
        if isinstance(event, TokenEvent):
            return event.model_copy(update={"text": event.text.replace("secret", "******")})
        return event

    bus.use(redact)
    model = ScriptedModel(
        [ToolCall(name="add", arguments={"a": 1, "b": 1}), "the secret is 2", "fine"],
        stream_chunk_chars=64,
    )
    agent = Agent(model, tools=[add], event_bus=bus, session_id="s-1")
    chunks = [chunk async for chunk in agent.stream("go")]
    assert "".join(chunks) == "the ****** is 2"  # streams pass through the bus middleware
    assert [e.type for e in seen][:2] == ["agent.run_started", "agent.turn_started"]
    assert seen[-1].type == "agent.final" and all(e.session_id == "s-1" for e in seen)

    seen.clear()
    await agent.run("again")  # run() publishes too, without tokens
    assert "agent.token" not in [e.type for e in seen] and seen[-1].type == "agent.final"


async def test_run_failed_event_then_the_error() -> None:
    bus = EventBus()
    seen: list[Event] = []
    bus.subscribe("*", seen.append)
    model = ScriptedModel([ModelConnectionError("unreachable", provider="test")])
    with pytest.raises(ModelConnectionError):
        await Agent(model, event_bus=bus).run("hi")
    assert [e.type for e in seen] == ["agent.run_started", "agent.turn_started", "agent.run_failed"]
    failed = seen[-1]
    assert isinstance(failed, RunFailedEvent) and failed.error_type == "ModelConnectionError"


def by_name(exporter: InMemorySpanExporter) -> dict[str, list[ReadableSpan]]:
    grouped: dict[str, list[ReadableSpan]] = {}
    for span in exporter.get_finished_spans():
        grouped.setdefault(span.name, []).append(span)
    return grouped


async def test_spans_for_run_model_calls_and_tool_calls(spans: InMemorySpanExporter) -> None:
    model = ScriptedModel([ToolCall(id="call-1", name="add", arguments={"a": 2, "b": 3}), "5"])
    output = await Agent(model, tools=[add], name="math").run("2+3")
    grouped = by_name(spans)
    [run] = grouped["invoke_agent math"]
    chats = grouped["chat test"]
    [tool_span] = grouped["execute_tool add"]
    assert len(chats) == 2

    assert run.attributes is not None
    assert run.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert run.attributes["gen_ai.agent.name"] == "math"
    assert run.attributes["gen_ai.usage.input_tokens"] == output.usage.prompt_tokens
    assert run.attributes["gen_ai.usage.output_tokens"] == output.usage.completion_tokens

    first = chats[0].attributes
    assert first is not None
    assert first["gen_ai.request.model"] == "test" and first["gen_ai.response.model"] == "test"
    assert first["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert first["gen_ai.usage.input_tokens"] > 0

    assert tool_span.attributes is not None
    assert tool_span.attributes["gen_ai.tool.name"] == "add"
    assert tool_span.attributes["gen_ai.tool.call.id"] == "call-1"

    run_id = run.context.span_id  # type: ignore[union-attr]
    assert all(span.parent is not None and span.parent.span_id == run_id for span in chats)
    assert tool_span.parent is not None and tool_span.parent.span_id == run_id


async def test_failing_tool_and_model_spans_are_marked(spans: InMemorySpanExporter) -> None:
    async def broken() -> str:
        raise RuntimeError("nope")

    model = ScriptedModel([ToolCall(name="broken"), ModelConnectionError("down", provider="test")])
    with pytest.raises(ModelConnectionError):
        await Agent(model, tools=[broken]).run("x")
    grouped = by_name(spans)
    assert grouped["execute_tool broken"][0].status.status_code is StatusCode.ERROR
    assert grouped["chat test"][1].status.status_code is StatusCode.ERROR
    assert grouped["invoke_agent agent"][0].status.status_code is StatusCode.ERROR
