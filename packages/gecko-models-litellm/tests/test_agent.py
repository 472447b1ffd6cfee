"""A real ``Agent`` running on a litellm model against the local server: tools, structure, streaming."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from gecko.core.agent import AgentBuilder
from gecko.core.message import Role, ToolCall
from gecko.core.models.scripted import ModelCall
from gecko.core.tools import tool
from gecko.models.litellm.testing import StubServer

pytestmark = pytest.mark.anyio


class City(BaseModel):
    name: str
    population: int


def _agent(server: StubServer, *tools: Any, **model_options: Any) -> Any:
    builder = AgentBuilder().with_model(
        "openai/gpt-4o-mini",
        api_key="sk-agent-key-42",
        base_url=server.base_url,
        **model_options,
    )
    if tools:
        builder = builder.with_tools(list(tools))
    return builder.with_system_prompt("You are a travel assistant.").build()


async def test_parallel_tool_calls_end_to_end(server: StubServer) -> None:
    both_running = anyio.Event()
    running = 0

    async def rendezvous() -> None:
        nonlocal running
        running += 1
        if running == 2:
            both_running.set()
        with anyio.fail_after(30):  # sequential execution would never get here
            await both_running.wait()

    @tool
    async def weather(city: str) -> str:
        """Current weather in a city."""
        await rendezvous()
        return f"sunny in {city}"

    @tool
    async def local_time(city: str) -> str:
        """Local time in a city."""
        await rendezvous()
        return f"14:00 in {city}"

    def final_turn(call: ModelCall) -> str:
        results = {m.tool_call_id: m.text for m in call.messages if m.role is Role.TOOL}
        assert results == {"call_w": "sunny in Paris", "call_t": "14:00 in Lima"}
        return "Paris is sunny; it is 14:00 in Lima."

    server.add_chat(
        [
            ToolCall(id="call_w", name="weather", arguments={"city": "Paris"}),
            ToolCall(id="call_t", name="local_time", arguments={"city": "Lima"}),
        ],
        final_turn,
    )
    agent = _agent(server, weather, local_time)

    output = await agent.run("Weather in Paris and the time in Lima?")

    assert output.content == "Paris is sunny; it is 14:00 in Lima."
    assert sorted(c.name for c in output.tool_calls) == ["local_time", "weather"]
    assert output.usage.total_tokens > 0
    first, second = server.chat_requests
    assert {t["function"]["name"] for t in first.body["tools"]} == {"weather", "local_time"}
    assert first.body["messages"][0] == {"role": "system", "content": "You are a travel assistant."}
    assert [m["role"] for m in second.body["messages"]][-3:] == ["assistant", "tool", "tool"]
    assert {r.api_key for r in server.chat_requests} == {"sk-agent-key-42"}


async def test_structured_output_through_a_forced_tool_call(server: StubServer) -> None:
    def answer(call: ModelCall) -> ToolCall:
        [offered] = call.tools or []
        assert call.tool_choice in (
            "required",
            {"type": "function", "function": {"name": offered["function"]["name"]}},
        )
        return ToolCall(
            name=offered["function"]["name"], arguments={"name": "Paris", "population": 2100000}
        )

    server.add_chat(answer)
    output = await _agent(server).run("The capital of France?", response_model=City)
    assert output.parsed == City(name="Paris", population=2100000)


async def test_structured_output_through_json_mode(server: StubServer) -> None:
    def answer(call: ModelCall) -> str:
        assert call.response_format is not None
        assert call.response_format["type"] == "json_schema"
        return json.dumps({"name": "Lima", "population": 10000000})

    server.add_chat(answer)
    agent = _agent(server, supports_tools=False)
    output = await agent.run("The capital of Peru?", response_model=City)
    assert output.parsed == City(name="Lima", population=10000000)
    assert "tools" not in server.chat_requests[0].body


async def test_streaming_agent(server: StubServer) -> None:
    server.add_chat("Streaming through an agent works.")
    stream = _agent(server).stream("Say something")
    texts = [text async for text in stream]
    assert len(texts) > 1
    assert "".join(texts) == "Streaming through an agent works."
    assert stream.output.content == "Streaming through an agent works."
    assert server.chat_requests[0].stream
