"""Typed events and the ``EventBus`` that delivers them (for UIs, logging and integrations).

from gecko.core.events import Event, EventBus

bus = EventBus()
bus.subscribe("agent.*", on_agent_event)      # a prefix pattern
bus.subscribe("*", audit)                     # every event, besides specific subscribers
await bus.publish(Event(type="app.started"))  # delivered now
await bus.publish(event, wait=False)          # delivered in the background, in order
await bus.aclose()                            # drain, then close
"""

from __future__ import annotations

from gecko.core.events.bus import DEFAULT_MAX_PENDING, EventBus, Handler, Middleware
from gecko.core.events.types import Event, event_topic

__all__ = ["DEFAULT_MAX_PENDING", "Event", "EventBus", "Handler", "Middleware", "event_topic"]
