"""The ``Event`` base type: what flows through an :class:`~gecko.core.events.EventBus`."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticUndefined

from gecko.core.errors import ConfigurationError


class Event(BaseModel):
    """A typed event. ``type`` is its dotted topic, e.g. ``"agent.turn_started"``.

    Subclasses give ``type`` a default, so ``bus.subscribe(TurnStarted, handler)``
    knows the topic to listen to::

        class TurnStarted(Event):
            type: str = "agent.turn_started"
            turn: int

    Ad-hoc events need no subclass: ``Event(type="app.progress", data={"done": 3})``.
    Unknown fields are rejected rather than dropped silently. Middleware that
    changes an event should return a copy (``event.model_copy(update={...})``).
    """

    # defer_build: the schema is built on first use, not at import (`from gecko import Agent`).
    model_config = ConfigDict(extra="forbid", defer_build=True)

    type: str
    timestamp: float = Field(default_factory=time.time)
    source: str | None = None
    """The agent or workflow that emitted the event, when known."""
    data: dict[str, Any] = Field(default_factory=dict)
    """Free-form payload for ad-hoc events; typed events use their own fields."""


def event_topic(event_type: str | type[Event]) -> str:
    """The topic string of ``event_type`` (a topic, a pattern, or an Event subclass)."""
    if isinstance(event_type, str):
        topic = event_type.strip()
        if not topic:
            raise ConfigurationError(
                "event type must be a non-empty topic such as 'agent.turn_started', "
                "a prefix pattern such as 'agent.*', or '*' for every event"
            )
        return topic
    if isinstance(event_type, type) and issubclass(event_type, Event):
        field = event_type.model_fields["type"]
        default = field.default
        if default is PydanticUndefined or not isinstance(default, str) or not default:
            raise ConfigurationError(
                f"event class {event_type.__name__} has no default 'type', so it names no topic",
                hint=f"declare it as: class {event_type.__name__}(Event): type: str = 'area.name'",
            )
        return default
    raise ConfigurationError(
        f"cannot subscribe to {event_type!r}: expected a topic string or an Event subclass"
    )
