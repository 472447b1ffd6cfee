"""What a tool execution returns to the engine, and the per-tool statistics a ToolBox keeps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pydantic_core
from pydantic import BaseModel, ConfigDict


class ToolResult(BaseModel):
    """The outcome of one tool call, ready to go back to the model.

    ``content`` is what the model reads: the tool's output as text (JSON for
    structured values) or, when ``is_error`` is true, a message saying what went
    wrong so the model can correct itself. ``error_type`` names the error class.
    """

    model_config = ConfigDict(defer_build=True)

    call_id: str
    name: str
    content: str
    is_error: bool = False
    duration: float = 0.0
    error_type: str | None = None


@dataclass
class ToolStats:
    """Counters for one tool, updated by its ToolBox after every call."""

    calls: int = 0
    errors: int = 0
    timeouts: int = 0
    total_duration: float = 0.0
    max_duration: float = 0.0
    last_error: str | None = None

    @property
    def successes(self) -> int:
        return self.calls - self.errors

    @property
    def mean_duration(self) -> float:
        return self.total_duration / self.calls if self.calls else 0.0

    def record(self, result: ToolResult, *, timed_out: bool = False) -> None:
        self.calls += 1
        self.total_duration += result.duration
        if result.duration > self.max_duration:
            self.max_duration = result.duration
        if result.is_error:
            self.errors += 1
            self.last_error = result.content
        if timed_out:
            self.timeouts += 1


def format_output(value: Any) -> str:
    """A tool's return value as the text the model reads.

    Strings pass through; pydantic models and other values become JSON
    (datetimes, UUIDs, dataclasses... as pydantic serializes them; anything else
    by its ``str``).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return pydantic_core.to_json(value, serialize_unknown=True).decode()
