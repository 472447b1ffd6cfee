"""What models and agents return: token usage, model responses, stream chunks, agent output."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gecko.core.message import Message, ToolCall


class TokenUsage(BaseModel):
    """Token counts of one call, or summed across calls with ``+``."""

    # defer_build: the schema is built on first use, not at import (`from gecko import Agent`).
    model_config = ConfigDict(frozen=True, defer_build=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        if not isinstance(other, TokenUsage):
            return NotImplemented
        return TokenUsage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )

    @classmethod
    def of(cls, prompt_tokens: int, completion_tokens: int) -> TokenUsage:
        return cls(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )


class ModelResponse(BaseModel):
    """One chat-model answer in Gecko's neutral form.

    ``message`` is the assistant message (text and/or tool calls); ``raw`` keeps
    the provider's own response object for debugging and is never serialized.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)

    message: Message
    usage: TokenUsage = Field(default_factory=TokenUsage)
    finish_reason: str | None = None
    model: str | None = None
    cost: float | None = None
    raw: Any = Field(default=None, exclude=True, repr=False)

    @property
    def text(self) -> str:
        return self.message.text

    @property
    def tool_calls(self) -> list[ToolCall]:
        return list(self.message.tool_calls or [])


class ModelChunk(BaseModel):
    """One piece of a streamed answer.

    Chunks carry text deltas as they arrive; the last chunk of a stream carries
    the assembled ``response`` (full text, tool calls, usage, finish reason).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)

    text: str = ""
    response: ModelResponse | None = None


class AgentOutput(BaseModel):
    """The result of ``Agent.run``: final text, tool calls made, usage summed over turns."""

    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)

    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: TokenUsage = Field(default_factory=TokenUsage)
    raw: Any = Field(default=None, exclude=True, repr=False)
    parsed: Any = None
    """The validated structured output when the run used a ``response_model``."""
    stop_reason: str = "final"
    """Why the run ended: ``final``, ``max_turns``, ``budget``, ``loop_guard`` or ``refused``."""
    messages: list[Message] = Field(default_factory=list, repr=False)
    """The messages of this run (input, assistant turns, tool results)."""

    def __str__(self) -> str:
        return self.content
