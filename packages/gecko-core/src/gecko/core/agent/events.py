"""Events of an agent run, published on the agent's EventBus and yielded by ``stream().events()``.

Order within one run::

    agent.run_started
    agent.turn_started            (turn 1)
      agent.token ...             (only when streaming)
      agent.model_response
      agent.tool_called ...       (one per call, in call order)
      agent.tool_result ...       (one per call, in call order)
    agent.turn_ended
    agent.turn_started            (turn 2) ...
    agent.final                   (or agent.run_failed)

Every event carries ``run_id`` (one per ``run``/``stream`` call), the agent's
name as ``source`` and the ``session_id`` when the run has one. Subscribe to
``"agent.*"`` for all of them.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from gecko.core.events import Event, EventBus
from gecko.core.message import ToolCall
from gecko.core.output import AgentOutput, TokenUsage


class AgentEvent(Event):
    """Base of every agent event."""

    type: str = "agent.event"
    run_id: str
    session_id: str | None = None


class RunStartedEvent(AgentEvent):
    type: str = "agent.run_started"
    input: str
    """The text of the run's new input messages."""


class TurnStartedEvent(AgentEvent):
    type: str = "agent.turn_started"
    turn: int


class TokenEvent(AgentEvent):
    """A piece of the model's text as it streams (only in ``agent.stream``)."""

    type: str = "agent.token"
    turn: int
    text: str


class ModelResponseEvent(AgentEvent):
    """The model answered (text and/or tool calls)."""

    type: str = "agent.model_response"
    turn: int
    content: str
    tool_calls: list[ToolCall] = []
    usage: TokenUsage = Field(default_factory=TokenUsage)
    finish_reason: str | None = None


class ToolCalledEvent(AgentEvent):
    type: str = "agent.tool_called"
    turn: int
    call_id: str
    name: str
    arguments: str
    """The raw JSON arguments the model produced."""


class ToolResultEvent(AgentEvent):
    type: str = "agent.tool_result"
    turn: int
    call_id: str
    name: str
    content: str
    is_error: bool = False
    duration: float = 0.0


class TurnEndedEvent(AgentEvent):
    type: str = "agent.turn_ended"
    turn: int
    usage: TokenUsage
    """Usage summed over the run so far."""


class FinalEvent(AgentEvent):
    """The run is over; ``output`` is what ``run`` returns."""

    type: str = "agent.final"
    output: AgentOutput

    @property
    def content(self) -> str:
        return self.output.content

    @property
    def stop_reason(self) -> str:
        return self.output.stop_reason


class RunFailedEvent(AgentEvent):
    """The run raised; the error propagates to the caller after this event."""

    type: str = "agent.run_failed"
    error_type: str
    error: str


def describe_input(messages: Any) -> str:
    """The text of a run's input messages, joined by newlines (for ``RunStartedEvent``)."""
    return "\n".join(message.text for message in messages if message.text)


async def emit(bus: EventBus | None, event: Event) -> Any:
    """Publish ``event`` on ``bus`` (when there is one); return the event as delivered.

    ``None`` when a middleware blocked it. The returned event is what a stream
    yields, so middleware that redacts events applies to streams too.
    """
    if bus is None:
        return event
    return await bus.publish(event)
