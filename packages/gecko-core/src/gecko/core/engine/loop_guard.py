"""Detect a model stuck calling the same tool with the same arguments."""

from __future__ import annotations

import json
from collections.abc import Sequence

from gecko.core.message import ToolCall


def call_key(call: ToolCall) -> tuple[str, str]:
    """``(name, arguments)`` with the arguments in canonical JSON (key order ignored)."""
    try:
        canonical = json.dumps(json.loads(call.arguments), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = call.arguments.strip()
    return call.name, canonical


class LoopGuard:
    """Counts identical tool calls over one run; trips at ``threshold`` repetitions."""

    __slots__ = ("_counts", "threshold")

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self._counts: dict[tuple[str, str], int] = {}

    def check(self, calls: Sequence[ToolCall]) -> ToolCall | None:
        """Record ``calls``; return the first one seen ``threshold`` times, else None."""
        tripped: ToolCall | None = None
        for call in calls:
            key = call_key(call)
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
            if count >= self.threshold and tripped is None:
                tripped = call
        return tripped
