"""The offline scripted model: scripts, automatic mode, streaming, recording."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from gecko.core.errors import ModelTimeoutError, ScriptExhaustedError
from gecko.core.factories import create_model
from gecko.core.message import Message, ToolCall
from gecko.core.models.scripted import ModelCall, ScriptedModel
from gecko.core.protocols import ChatModel, StreamingChatModel, TokenCounter

pytestmark = pytest.mark.anyio

ADD_TOOL = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two integers.",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer", "minimum": 3}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
}


class Answer(BaseModel):
    city: str
    population: int
    tags: list[str]


def test_protocols() -> None:
    model = create_model("test")
    assert isinstance(model, ChatModel) and isinstance(model, StreamingChatModel)
    assert isinstance(model, TokenCounter)


async def test_script_replays_in_order_and_records_calls() -> None:
    model = ScriptedModel(["first", ToolCall(name="add", arguments={"a": 1, "b": 2}), "done"])
    r1 = await model.acompletion([Message.user("hi")])
    r2 = await model.acompletion([Message.user("hi")], tools=[ADD_TOOL])
    r3 = await model.acompletion([Message.user("hi")])
    assert r1.text == "first" and r1.finish_reason == "stop"
    assert r2.tool_calls[0].args == {"a": 1, "b": 2} and r2.finish_reason == "tool_calls"
    assert r3.text == "done"
    assert len(model.calls) == 3 and model.calls[1].tool_names == ["add"]
    assert r1.usage.total_tokens == r1.usage.prompt_tokens + r1.usage.completion_tokens > 0
    with pytest.raises(ScriptExhaustedError):
        await model.acompletion([Message.user("again")])


async def test_script_can_raise_and_decide_with_functions() -> None:
    async def decide(call: ModelCall) -> Any:
        return f"you said {call.last_user_text}"

    model = ScriptedModel([ModelTimeoutError("slow", provider="test"), decide])
    with pytest.raises(ModelTimeoutError):
        await model.acompletion([Message.user("x")])
    assert (await model.acompletion([Message.user("ping")])).text == "you said ping"


async def test_automatic_mode_calls_tools_then_answers() -> None:
    model = create_model("test")
    first = await model.acompletion([Message.user("add")], tools=[ADD_TOOL])
    [call] = first.tool_calls
    assert call.name == "add" and call.args == {"a": 3, "b": 0}
    followup = [Message.user("add"), first.message, Message.tool_result(call.id, "3", name="add")]
    final = await model.acompletion(followup, tools=[ADD_TOOL])
    assert final.tool_calls == [] and json.loads(final.text) == {"add": "3"}


async def test_automatic_mode_structured_output() -> None:
    model = create_model("test")
    schema = Answer.model_json_schema()
    forced = await model.acompletion(
        [Message.user("q")],
        tools=[{"type": "function", "function": {"name": "final_result", "parameters": schema}}],
        tool_choice={"type": "function", "function": {"name": "final_result"}},
    )
    Answer.model_validate(forced.tool_calls[0].args)
    json_mode = await model.acompletion(
        [Message.user("q")],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "Answer", "schema": schema},
        },
    )
    Answer.model_validate_json(json_mode.text)


async def test_streaming_chunks_concatenate_to_response() -> None:
    model = ScriptedModel(["a streamed answer of several words"], stream_chunk_chars=5)
    chunks = [chunk async for chunk in model.astream([Message.user("x")])]
    assert len(chunks) > 2 and chunks[-1].response is not None
    assert (
        "".join(c.text for c in chunks)
        == chunks[-1].response.text
        == "a streamed answer of several words"
    )
