"""``RunContext``: the state of one agent run, owned by that run alone.

An engine keeps no per-run state on itself, so one Agent (and its engine) can
serve many concurrent runs. Hooks receive the context to observe the run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from gecko.core.engine.budget import Budget
from gecko.core.message import Message, ToolCall
from gecko.core.output import AgentOutput, TokenUsage


def new_run_id() -> str:
    return f"run_{uuid.uuid4().hex}"


@dataclass(eq=False)
class RunContext:
    """One run: its identity, its conversation, and what it has used so far."""

    messages: list[Message]
    """The conversation the run works on; the engine appends to it."""
    agent_name: str = "agent"
    run_id: str = field(default_factory=new_run_id)
    session_id: str | None = None
    input_start: int = 0
    """Index in ``messages`` of the run's first new input message (what ``output.messages`` starts with)."""
    response_model: type[Any] | None = None
    budget: Budget | None = None
    turn: int = 0
    usage: TokenUsage = field(default_factory=TokenUsage)
    tool_calls: list[ToolCall] = field(default_factory=list)
    """Tool calls executed in this run, in order."""
    structure_retries: int = 0
    """Structured-output answers rejected so far (each fed back to the model)."""
    output: AgentOutput | None = None
    """Set by the engine when the run ends."""

    @property
    def new_messages(self) -> list[Message]:
        """The run's input messages and everything produced after them."""
        return self.messages[self.input_start :]
