"""litellm's responses and stream chunks to Gecko's neutral types.

litellm answers in OpenAI's shape (``choices[0].message``, ``usage``), as
pydantic objects or dicts depending on the provider path; both are read here.
Streamed tool calls are assembled by their ``index``: the id and name arrive
once (usually in the first delta), argument fragments are concatenated in order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from gecko.core.errors import ModelResponseError
from gecko.core.message import Message, ToolCall, new_tool_call_id
from gecko.core.output import ModelResponse, TokenUsage


def field_of(obj: Any, name: str, default: Any = None) -> Any:
    """``obj.name`` or ``obj[name]``: litellm mixes pydantic objects and dicts."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def usage_of(raw: Any) -> TokenUsage | None:
    usage = field_of(raw, "usage")
    if usage is None:
        return None
    prompt = int(field_of(usage, "prompt_tokens") or 0)
    completion = int(field_of(usage, "completion_tokens") or 0)
    total = int(field_of(usage, "total_tokens") or prompt + completion)
    return TokenUsage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)


def cost_of(raw: Any) -> float | None:
    """The call's cost in USD when litellm knows the model's price, else None."""
    hidden = getattr(raw, "_hidden_params", None) or {}
    cost = hidden.get("response_cost") if isinstance(hidden, dict) else None
    if cost is None:
        cost = field_of(field_of(raw, "usage"), "cost")
    return float(cost) if isinstance(cost, (int, float)) else None


def _arguments(value: Any) -> str:
    if value is None or value == "":
        return "{}"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def to_model_response(raw: Any, *, where: str, provider: str, model: str) -> ModelResponse:
    """A Gecko ``ModelResponse`` from litellm's non-streamed response."""
    choices = field_of(raw, "choices")
    if not choices:
        raise ModelResponseError(
            f"{where} answered without any choices", provider=provider, model=model
        )
    choice = choices[0]
    message = field_of(choice, "message")
    if message is None:
        raise ModelResponseError(
            f"{where} answered without a message", provider=provider, model=model
        )
    content = field_of(message, "content")
    if content is not None and not isinstance(content, str):
        content = str(content)
    calls: list[ToolCall] = []
    for call in field_of(message, "tool_calls") or ():
        function = field_of(call, "function")
        name = field_of(function, "name")
        if not name:
            raise ModelResponseError(
                f"{where} answered with a tool call that names no function",
                provider=provider,
                model=model,
            )
        calls.append(
            ToolCall(
                id=field_of(call, "id") or new_tool_call_id(),
                name=name,
                arguments=_arguments(field_of(function, "arguments")),
            )
        )
    return ModelResponse(
        message=Message.assistant(content, tool_calls=calls or None),
        usage=usage_of(raw) or TokenUsage(),
        finish_reason=field_of(choice, "finish_reason"),
        model=field_of(raw, "model"),
        cost=cost_of(raw),
        raw=raw,
    )


@dataclass
class _PartialCall:
    id: str | None = None
    name: str | None = None
    arguments: list[str] = field(default_factory=list)


class StreamAssembler:
    """Accumulates streamed chunks into the final ``ModelResponse``."""

    def __init__(self, *, where: str, provider: str, model: str) -> None:
        self._where = where
        self._provider = provider
        self._model = model
        self._text: list[str] = []
        self._calls: dict[int, _PartialCall] = {}
        self._finish_reason: str | None = None
        self._usage: TokenUsage | None = None
        self._cost: float | None = None
        self._response_model: str | None = None
        self._received = False  # whether the provider sent anything (litellm adds a "stop" itself)
        self.chunks = 0

    def add(self, chunk: Any) -> str:
        """Take one chunk; return its text delta ("" if none)."""
        self.chunks += 1
        self._response_model = field_of(chunk, "model") or self._response_model
        usage = usage_of(chunk)
        if usage is not None and usage.total_tokens:
            self._received = True
            self._usage = usage
            cost = cost_of(chunk)
            if cost is not None:
                self._cost = cost
        choices = field_of(chunk, "choices") or ()
        if not choices:
            return ""
        choice = choices[0]
        self._finish_reason = field_of(choice, "finish_reason") or self._finish_reason
        delta = field_of(choice, "delta")
        for call in field_of(delta, "tool_calls") or ():
            self._received = True
            self._add_call(call)
        text = field_of(delta, "content")
        if text is not None or field_of(delta, "role"):
            self._received = True
        if text:
            self._text.append(text)
            return str(text)
        return ""

    def _add_call(self, call: Any) -> None:
        index = field_of(call, "index")
        call_id = field_of(call, "id")
        if index is None:  # providers without indexes: a new id starts a new call
            known = next((i for i, c in self._calls.items() if call_id and c.id == call_id), None)
            if known is not None:
                index = known
            elif call_id or not self._calls:
                index = len(self._calls)
            else:
                index = max(self._calls)
        partial = self._calls.setdefault(int(index), _PartialCall())
        if call_id and partial.id is None:
            partial.id = call_id
        function = field_of(call, "function")
        name = field_of(function, "name")
        if name and partial.name is None:
            partial.name = name
        arguments = field_of(function, "arguments")
        if arguments:
            partial.arguments.append(
                arguments if isinstance(arguments, str) else json.dumps(arguments)
            )

    @property
    def usage(self) -> TokenUsage | None:
        return self._usage

    def finish(self, *, usage: TokenUsage | None = None) -> ModelResponse:
        """The assembled response; ``usage`` is used when the stream reported none."""
        if not self._received:
            raise ModelResponseError(
                f"{self._where} ended the stream without any content",
                hint="the provider or the server at base_url returned no usable stream data",
                provider=self._provider,
                model=self._model,
            )
        calls = []
        for index in sorted(self._calls):
            partial = self._calls[index]
            if not partial.name:
                raise ModelResponseError(
                    f"{self._where} streamed a tool call (index {index}) without a function name",
                    provider=self._provider,
                    model=self._model,
                )
            calls.append(
                ToolCall(
                    id=partial.id or new_tool_call_id(),
                    name=partial.name,
                    arguments="".join(partial.arguments) or "{}",
                )
            )
        text = "".join(self._text)
        return ModelResponse(
            message=Message.assistant(text or None, tool_calls=calls or None),
            usage=self._usage or usage or TokenUsage(),
            finish_reason=self._finish_reason,
            model=self._response_model,
            cost=self._cost,
        )
