"""Agents: ``Agent``, ``AgentBuilder``, streaming runs and the events of a run.

The names load on first access, so ``gecko.core.agent.events`` can be imported
(by the engine, by UIs) without loading the agent itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gecko.core.lazy import lazy_exports

_EXPORTS = {
    "Agent": "gecko.core.agent.agent",
    "AgentBuilder": "gecko.core.agent.builder",
    "AgentStream": "gecko.core.agent.stream",
    "AgentEvent": "gecko.core.agent.events",
    "RunStartedEvent": "gecko.core.agent.events",
    "TurnStartedEvent": "gecko.core.agent.events",
    "TokenEvent": "gecko.core.agent.events",
    "ModelResponseEvent": "gecko.core.agent.events",
    "ToolCalledEvent": "gecko.core.agent.events",
    "ToolResultEvent": "gecko.core.agent.events",
    "TurnEndedEvent": "gecko.core.agent.events",
    "FinalEvent": "gecko.core.agent.events",
    "RunFailedEvent": "gecko.core.agent.events",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "Agent",
    "AgentBuilder",
    "AgentEvent",
    "AgentStream",
    "FinalEvent",
    "ModelResponseEvent",
    "RunFailedEvent",
    "RunStartedEvent",
    "TokenEvent",
    "ToolCalledEvent",
    "ToolResultEvent",
    "TurnEndedEvent",
    "TurnStartedEvent",
]


if TYPE_CHECKING:  # pragma: no cover
    from gecko.core.agent.agent import Agent
    from gecko.core.agent.builder import AgentBuilder
    from gecko.core.agent.events import (
        AgentEvent,
        FinalEvent,
        ModelResponseEvent,
        RunFailedEvent,
        RunStartedEvent,
        TokenEvent,
        ToolCalledEvent,
        ToolResultEvent,
        TurnEndedEvent,
        TurnStartedEvent,
    )
    from gecko.core.agent.stream import AgentStream
