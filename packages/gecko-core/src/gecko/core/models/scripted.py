"""An offline chat model for tests, examples and demos (``create_model("test")``).

It plays two roles, like pydantic-ai's TestModel and FunctionModel:

- **Scripted**: ``ScriptedModel(["Hello", ToolCall(name="add", arguments={"a": 1}), ...])``
  answers each call with the next reply of the script. A reply may be a string
  (text answer), a ``ToolCall`` or a list of them, a ``Message``, a
  ``ModelResponse``, an exception instance (raised), or a callable
  ``(call: ModelCall) -> reply`` (sync or async) deciding from the request.
- **Automatic** (no script): calls every offered tool once with arguments
  generated from its schema, then answers with the tool results; honours a
  forced ``tool_choice`` and a JSON-schema ``response_format`` with data
  generated from the schema.

Every call is recorded in ``model.calls``. ``delay`` simulates network latency.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import anyio

from gecko.core.errors import ConfigurationError, ScriptExhaustedError
from gecko.core.message import Message, Role, ToolCall
from gecko.core.models.schema_sample import sample_from_schema
from gecko.core.models.tokens import estimate_message_tokens, estimate_tokens
from gecko.core.output import ModelChunk, ModelResponse, TokenUsage
from gecko.core.protocols import ToolChoice


@dataclass
class ModelCall:
    """One request the scripted model received."""

    messages: list[Message]
    tools: list[dict[str, Any]] | None = None
    tool_choice: ToolChoice | None = None
    response_format: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def last_user_text(self) -> str:
        for message in reversed(self.messages):
            if message.role is Role.USER:
                return message.text
        return ""

    @property
    def tool_results(self) -> list[Message]:
        """Tool results that came after the last user message (this turn's results)."""
        results: list[Message] = []
        for message in reversed(self.messages):
            if message.role is Role.USER:
                break
            if message.role is Role.TOOL:
                results.append(message)
        return list(reversed(results))

    @property
    def tool_names(self) -> list[str]:
        return [tool["function"]["name"] for tool in self.tools or []]


Reply = Union[str, ToolCall, Sequence[ToolCall], Message, ModelResponse, BaseException]
ScriptFunction = Callable[[ModelCall], Any]


class ScriptedModel:
    """An offline ChatModel that replays a script or answers automatically."""

    def __init__(
        self,
        script: Sequence[Reply | ScriptFunction] | ScriptFunction | None = None,
        *,
        name: str = "test",
        supports_tools: bool = True,
        delay: float = 0.0,
        stream_chunk_chars: int = 8,
    ) -> None:
        if script is not None and not callable(script) and isinstance(script, (str, bytes)):
            raise ConfigurationError("script must be a list of replies or a function, not a string")
        self.name = name
        self.supports_tools = supports_tools
        self.delay = delay
        self.stream_chunk_chars = max(1, stream_chunk_chars)
        self.calls: list[ModelCall] = []
        self._function: ScriptFunction | None = script if callable(script) else None
        self._script: list[Any] | None = (
            None if script is None or callable(script) else list(script)
        )
        self._position = 0

    def __repr__(self) -> str:
        return f"ScriptedModel(name={self.name!r}, calls={len(self.calls)})"

    @property
    def remaining(self) -> int | None:
        """Replies left in the script (None in automatic or function mode)."""
        return None if self._script is None else len(self._script) - self._position

    # --- ChatModel -----------------------------------------------------------------

    async def acompletion(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        tool_choice: ToolChoice | None = None,
        response_format: dict[str, Any] | None = None,
        **options: Any,
    ) -> ModelResponse:
        call = ModelCall(
            messages=list(messages),
            tools=list(tools) if tools else None,
            tool_choice=tool_choice,
            response_format=response_format,
            options=dict(options),
        )
        self.calls.append(call)
        reply = self._next_reply(call)  # taken before any await: concurrent calls stay ordered
        if self.delay:
            await anyio.sleep(self.delay)
        if callable(reply) and not isinstance(reply, (ToolCall, Message, ModelResponse)):
            reply = reply(call)
            if inspect.isawaitable(reply):
                reply = await reply
        return self._to_response(reply, call)

    async def astream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        tool_choice: ToolChoice | None = None,
        response_format: dict[str, Any] | None = None,
        **options: Any,
    ) -> AsyncIterator[ModelChunk]:
        response = await self.acompletion(
            messages,
            tools=tools,
            tool_choice=tool_choice,
            response_format=response_format,
            **options,
        )
        text = response.message.content if isinstance(response.message.content, str) else ""
        size = self.stream_chunk_chars
        for start in range(0, len(text or ""), size):
            yield ModelChunk(text=text[start : start + size])
            await anyio.lowlevel.checkpoint()
        yield ModelChunk(response=response)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return estimate_message_tokens(messages)

    # --- replies --------------------------------------------------------------------

    def _next_reply(self, call: ModelCall) -> Any:
        if self._function is not None:
            return self._function
        if self._script is None:
            return _automatic_reply(call)
        if self._position >= len(self._script):
            raise ScriptExhaustedError(
                f"scripted model {self.name!r} was called {len(self.calls)} times "
                f"but its script has {len(self._script)} replies",
                hint="add replies to the script, or check why the agent made more model calls",
                provider="test",
                model=self.name,
            )
        reply = self._script[self._position]
        self._position += 1
        return reply

    def _to_response(self, reply: Any, call: ModelCall) -> ModelResponse:
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, ModelResponse):
            return reply
        if isinstance(reply, Message):
            message = reply
        elif isinstance(reply, str):
            message = Message.assistant(reply)
        elif isinstance(reply, ToolCall):
            message = Message.assistant(tool_calls=[reply])
        elif (
            isinstance(reply, (list, tuple))
            and reply
            and all(isinstance(r, ToolCall) for r in reply)
        ):
            message = Message.assistant(tool_calls=list(reply))
        elif isinstance(reply, dict):
            message = Message.assistant(json.dumps(reply, ensure_ascii=False))
        else:
            raise ConfigurationError(
                f"scripted model {self.name!r} cannot reply with a {type(reply).__name__}",
                hint="reply with a str, ToolCall, list of ToolCall, Message, ModelResponse or exception",
            )
        completion = estimate_tokens(message.text) + sum(
            estimate_tokens(c.arguments) for c in message.tool_calls or ()
        )
        return ModelResponse(
            message=message,
            usage=TokenUsage.of(estimate_message_tokens(call.messages), completion),
            finish_reason="tool_calls" if message.tool_calls else "stop",
            model=self.name,
            cost=0.0,
        )


def _tool_call_for(tool: dict[str, Any]) -> ToolCall:
    function = tool["function"]
    arguments = sample_from_schema(function.get("parameters") or {"type": "object"})
    payload = arguments if isinstance(arguments, dict) else {}
    return ToolCall(name=function["name"], arguments=json.dumps(payload, ensure_ascii=False))


def _automatic_reply(call: ModelCall) -> Reply:
    tools = call.tools or []
    choice = call.tool_choice
    if isinstance(choice, dict):
        wanted = choice.get("function", {}).get("name")
        for tool in tools:
            if tool["function"]["name"] == wanted:
                return _tool_call_for(tool)
        raise ConfigurationError(
            f"tool_choice names {wanted!r}, which is not among the tools offered"
        )
    if choice == "required" and tools:
        return [_tool_call_for(tool) for tool in tools]
    if call.response_format:
        return _json_answer(call.response_format)
    if tools and choice != "none" and not call.tool_results:
        return [_tool_call_for(tool) for tool in tools]
    results = call.tool_results
    if results:
        summary = {
            message.name or message.tool_call_id or "tool": message.text for message in results
        }
        return json.dumps(summary, ensure_ascii=False)
    return f"[test model] reply to: {call.last_user_text}"


def _json_answer(response_format: dict[str, Any]) -> str:
    schema = (response_format.get("json_schema") or {}).get("schema")
    value = sample_from_schema(schema) if schema else {"result": "a"}
    return json.dumps(value, ensure_ascii=False)


def create_test_model(model_id: str = "test", **options: Any) -> ScriptedModel:
    """Factory behind ``create_model("test")`` / ``create_model("test/<name>", script=[...])``."""
    options.setdefault("name", model_id)
    return ScriptedModel(**options)
