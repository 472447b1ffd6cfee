"""Choosing the messages that fit a token budget, without breaking tool-call groups.

Non-system messages are grouped into *units* that must stay together: an
assistant message that calls tools, plus the tool results that follow it (a
provider rejects a tool result whose call is missing, and a call without its
results). Every other message is a unit of its own. System messages are never
dropped. The window is the newest run of units that fits; the newest unit is
always kept, even alone over budget, so the model always sees what it answers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from gecko.core.message import Message, Role

logger = logging.getLogger(__name__)


def group_units(messages: Sequence[Message]) -> tuple[list[int], list[list[int]]]:
    """``(system_indices, units)``: indices of system messages, and of each unit in order."""
    system: list[int] = []
    units: list[list[int]] = []
    index = 0
    while index < len(messages):
        message = messages[index]
        if message.role is Role.SYSTEM:
            system.append(index)
            index += 1
            continue
        unit = [index]
        index += 1
        if message.role is Role.ASSISTANT and message.tool_calls:
            while index < len(messages) and messages[index].role is Role.TOOL:
                unit.append(index)
                index += 1
        units.append(unit)
    return system, units


@dataclass(frozen=True)
class Window:
    """The plan of a window over ``messages``: keep the system messages and ``units[first:]``."""

    system: list[int]
    units: list[list[int]]
    first: int
    tokens: int
    over_budget: bool

    def kept_indices(self) -> list[int]:
        kept = set(self.system)
        for unit in self.units[self.first :]:
            kept.update(unit)
        return sorted(kept)

    def select(self, messages: Sequence[Message], insert: Message | None = None) -> list[Message]:
        """The kept messages in their original order, ``insert`` placed before the first kept unit."""
        anchor = self.units[self.first][0] if self.first < len(self.units) else len(messages)
        result: list[Message] = []
        for index in self.kept_indices():
            if insert is not None and index >= anchor:
                result.append(insert)
                insert = None
            result.append(messages[index])
        if insert is not None:
            result.append(insert)
        return result


def plan_window(messages: Sequence[Message], counts: Sequence[int], budget: int) -> Window:
    """Keep system messages and the newest units whose tokens fit ``budget`` in total."""
    system, units = group_units(messages)
    used = sum(counts[i] for i in system)
    first = len(units)
    over = False
    for position in range(len(units) - 1, -1, -1):
        cost = sum(counts[i] for i in units[position])
        if used + cost > budget:
            if first < len(units):
                break
            over = True  # the newest unit alone does not fit: kept anyway
        used += cost
        first = position
        if over:
            break
    over = over or used > budget
    return Window(system, units, first, used, over)


def warn_over_budget(window: Window, budget: int) -> None:
    logger.warning(
        "the memory window needs %d tokens, above its budget of %d: system messages and the "
        "newest message are always sent (raise max_tokens or shorten them)",
        window.tokens,
        budget,
    )
