"""The chat model over real HTTP through litellm: completions, tools, JSON mode, streaming, keys."""

from __future__ import annotations

import json
import os
from typing import Any

import anyio
import pytest

from gecko.core.message import Message, ToolCall
from gecko.core.output import ModelResponse, TokenUsage
from gecko.core.protocols import ChatModel, StreamingChatModel, TokenCounter
from gecko.models.litellm.runtime import litellm_module
from gecko.models.litellm.testing import StubServer

pytestmark = pytest.mark.anyio

WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "time",
        "description": "Local time in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "utc": {"type": "boolean"}},
        },
    },
}


async def test_plain_completion(server: StubServer, chat_model: Any) -> None:
    server.add_chat(
        ModelResponse(
            message=Message.assistant("Hello from the stub"),
            usage=TokenUsage.of(12, 5),
            finish_reason="stop",
        )
    )
    model = chat_model(temperature=0.2, max_tokens=64, seed=7)
    assert isinstance(model, ChatModel)
    assert isinstance(model, StreamingChatModel)
    assert isinstance(model, TokenCounter)

    response = await model.acompletion(
        [Message.system("Be brief."), Message.user("Say hello")], top_p=0.5
    )

    assert response.text == "Hello from the stub"
    assert response.tool_calls == []
    assert response.usage == TokenUsage(prompt_tokens=12, completion_tokens=5, total_tokens=17)
    assert response.finish_reason == "stop"
    assert response.cost is not None and response.cost > 0  # litellm prices gpt-4o-mini
    [request] = server.chat_requests
    assert request.api_key == "sk-test-key-0001"
    assert request.body["model"] == "gpt-4o-mini"
    assert request.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello"},
    ]
    assert request.body["temperature"] == 0.2
    assert request.body["max_tokens"] == 64
    assert request.body["seed"] == 7
    assert request.body["top_p"] == 0.5
    assert not request.stream


async def test_unknown_model_has_no_cost(server: StubServer, chat_model: Any) -> None:
    server.add_chat("hi")
    response = await chat_model("openai/my-private-finetune").acompletion([Message.user("x")])
    assert response.text == "hi"
    assert response.cost is None


async def test_parallel_tool_calls_and_tool_choice(server: StubServer, chat_model: Any) -> None:
    server.add_chat(
        [
            ToolCall(id="call_a", name="weather", arguments={"city": "Paris"}),
            ToolCall(id="call_b", name="time", arguments={"city": "Lima", "utc": True}),
        ]
    )
    model = chat_model()
    response = await model.acompletion(
        [Message.user("Weather in Paris and time in Lima?")],
        tools=[WEATHER, TIME],
        tool_choice="required",
        parallel_tool_calls=True,
    )

    assert [(c.id, c.name, c.args) for c in response.tool_calls] == [
        ("call_a", "weather", {"city": "Paris"}),
        ("call_b", "time", {"city": "Lima", "utc": True}),
    ]
    assert response.finish_reason == "tool_calls"
    body = server.chat_requests[0].body
    assert body["tools"] == [WEATHER, TIME]
    assert body["tool_choice"] == "required"
    assert body["parallel_tool_calls"] is True


async def test_tool_results_round_trip(server: StubServer, chat_model: Any) -> None:
    server.add_chat("It is sunny in Paris.")
    call = ToolCall(id="call_1", name="weather", arguments={"city": "Paris"})
    history = [
        Message.user("Weather in Paris?"),
        Message.assistant(tool_calls=[call]),
        Message.tool_result("call_1", "sunny, 24C", name="weather"),
    ]
    response = await chat_model().acompletion(history, tools=[WEATHER])
    assert response.text == "It is sunny in Paris."
    sent = server.chat_requests[0].body["messages"]
    assert sent[1]["tool_calls"][0]["id"] == "call_1"
    assert json.loads(sent[1]["tool_calls"][0]["function"]["arguments"]) == {"city": "Paris"}
    assert sent[2] == {
        "role": "tool",
        "content": "sunny, 24C",
        "name": "weather",
        "tool_call_id": "call_1",
    }


async def test_json_schema_response_format(server: StubServer, chat_model: Any) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"],
    }
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "City", "schema": schema, "strict": True},
    }
    response = await chat_model().acompletion(
        [Message.user("Biggest city?")], response_format=response_format
    )
    data = json.loads(response.text)  # the stub answers JSON matching the schema it received
    assert set(data) == {"city", "population"} and isinstance(data["population"], int)
    assert server.chat_requests[0].body["response_format"] == response_format


async def test_json_mode(server: StubServer, chat_model: Any) -> None:
    server.add_chat('{"ok": true}')
    response = await chat_model().acompletion(
        [Message.user("JSON please")], response_format={"type": "json_object"}
    )
    assert json.loads(response.text) == {"ok": True}
    assert server.chat_requests[0].body["response_format"] == {"type": "json_object"}


async def test_streaming_text(server: StubServer, chat_model: Any) -> None:
    server.add_chat(
        ModelResponse(message=Message.assistant("Streaming works fine."), usage=TokenUsage.of(9, 4))
    )
    chunks = [chunk async for chunk in chat_model().astream([Message.user("stream")])]

    texts = [c.text for c in chunks if c.text]
    assert len(texts) > 1  # really streamed in pieces
    assert "".join(texts) == "Streaming works fine."
    final = chunks[-1].response
    assert final is not None and final.text == "Streaming works fine."
    assert final.usage == TokenUsage(prompt_tokens=9, completion_tokens=4, total_tokens=13)
    assert final.finish_reason == "stop"
    assert final.cost is not None and final.cost > 0
    request = server.chat_requests[0]
    assert request.stream
    assert request.body["stream_options"] == {"include_usage": True}


async def test_stream_without_reported_usage_is_counted(
    server: StubServer, chat_model: Any
) -> None:
    server.report_stream_usage = False
    server.add_chat("A provider that reports no usage in streams.")
    model = chat_model()
    messages = [Message.user("count me")]
    chunks = [chunk async for chunk in model.astream(messages)]
    final = chunks[-1].response
    assert final is not None
    assert final.usage.prompt_tokens == model.count_tokens(messages)
    assert final.usage.completion_tokens > 5
    assert final.usage.total_tokens == final.usage.prompt_tokens + final.usage.completion_tokens


async def test_streamed_parallel_tool_call_deltas(server: StubServer, chat_model: Any) -> None:
    server.interleave_tool_calls = True  # fragments of both calls alternate on the wire
    long_city = "Llanfairpwllgwyngyll"
    server.add_chat(
        [
            ToolCall(id="call_w", name="weather", arguments={"city": long_city}),
            ToolCall(id="call_t", name="time", arguments={"city": "Lima", "utc": False}),
        ]
    )
    chunks = [
        chunk async for chunk in chat_model().astream([Message.user("both")], tools=[WEATHER, TIME])
    ]

    final = chunks[-1].response
    assert final is not None
    assert [(c.id, c.name, c.args) for c in final.tool_calls] == [
        ("call_w", "weather", {"city": long_city}),
        ("call_t", "time", {"city": "Lima", "utc": False}),
    ]
    assert final.finish_reason == "tool_calls"
    assert all(not c.text for c in chunks)


async def test_stream_with_text_then_tool_call(server: StubServer, chat_model: Any) -> None:
    server.add_chat(
        Message.assistant(
            "Let me check.",
            tool_calls=[ToolCall(id="c1", name="weather", arguments={"city": "Oslo"})],
        )
    )
    chunks = [c async for c in chat_model().astream([Message.user("Oslo?")], tools=[WEATHER])]
    final = chunks[-1].response
    assert final is not None
    assert final.text == "Let me check."
    assert [(c.name, c.args) for c in final.tool_calls] == [("weather", {"city": "Oslo"})]


def _settings(module: Any) -> dict[str, Any]:
    """Every plain-valued global of a module (keys, bases, retries...), whatever its release names."""
    plain = (str, int, float, bool, type(None))
    return {
        k: v for k, v in vars(module).items() if not k.startswith("__") and isinstance(v, plain)
    }


async def test_two_instances_with_their_own_keys_and_servers(
    server: StubServer, chat_model: Any
) -> None:
    async with StubServer() as other:
        first = chat_model(api_key="sk-first-aaaaaaaa")
        second = chat_model(api_key="sk-second-bbbbbbb", base_url=other.base_url)
        before_env = dict(os.environ)
        litellm = litellm_module()
        before_globals = _settings(litellm)

        async def ask(model: Any, text: str) -> None:
            await model.acompletion([Message.user(text)])

        async with anyio.create_task_group() as group:
            for i in range(6):
                group.start_soon(ask, first, f"first {i}")
                group.start_soon(ask, second, f"second {i}")

        assert dict(os.environ) == before_env
        assert _settings(litellm) == before_globals
    # Each server saw only its own model's key.
    assert {r.api_key for r in server.chat_requests} == {"sk-first-aaaaaaaa"}
    assert {r.api_key for r in other.chat_requests} == {"sk-second-bbbbbbb"}
    assert len(server.chat_requests) == 6
    assert len(other.chat_requests) == 6
    assert sorted(r.body["messages"][0]["content"] for r in other.chat_requests) == [
        f"second {i}" for i in range(6)
    ]


async def test_preset_key_comes_from_the_environment(
    server: StubServer, monkeypatch: pytest.MonkeyPatch, chat_model: Any
) -> None:
    monkeypatch.setenv("ZHIPUAI_API_KEY", "zhipu-env-key-123")
    model = chat_model("zhipu/glm-4-flash", api_key=None)
    server.add_chat("你好")
    response = await model.acompletion([Message.user("hi")])
    assert response.text == "你好"
    request = server.chat_requests[0]
    assert request.api_key == "zhipu-env-key-123"
    assert request.body["model"] == "glm-4-flash"


async def test_compatible_preset_never_sends_the_openai_key(
    server: StubServer, monkeypatch: pytest.MonkeyPatch, chat_model: Any
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-key-do-not-leak")
    model = chat_model("compatible/qwen2.5-7b", api_key=None)
    await model.acompletion([Message.user("hi")])
    request = server.chat_requests[0]
    assert request.api_key == "EMPTY"
    assert request.body["model"] == "qwen2.5-7b"


async def test_escape_hatch_passes_the_litellm_string(server: StubServer, chat_model: Any) -> None:
    model = chat_model("litellm/openai/gpt-4o-mini")
    assert (model.provider, model.model) == ("openai", "gpt-4o-mini")
    await model.acompletion([Message.user("hi")])
    assert server.chat_requests[0].body["model"] == "gpt-4o-mini"


async def test_count_tokens_uses_litellm_tokenizer(chat_model: Any) -> None:
    model = chat_model()
    few = model.count_tokens([Message.user("hello")])
    many = model.count_tokens([Message.user("hello " * 50)])
    assert 0 < few < many
    # litellm's tiktoken count for gpt-4o-mini (o200k): 50 "hello"s are 50 tokens plus overhead
    assert 50 <= many - few + 1 <= 60


async def test_supports_tools_from_the_model_map(chat_model: Any) -> None:
    # Gecko reads litellm's bundled map without importing litellm; for models the map
    # flags, it must agree with litellm's own answer, whichever way that answer goes.
    litellm = litellm_module()
    for model_id in ("openai/gpt-4o-mini", "deepseek/deepseek-reasoner"):
        expected = bool(litellm.supports_function_calling(model=model_id))
        assert chat_model(model_id).supports_tools is expected, model_id
    assert chat_model("openai/unknown-model").supports_tools is True
    assert chat_model("openai/gpt-4o-mini", supports_tools=False).supports_tools is False
