"""Per-run budgets: stop a run cleanly once it has used a given amount of tokens or tool calls."""

from __future__ import annotations

from dataclasses import dataclass

from gecko.core.validation import check_int


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits for one agent run; ``None`` means unlimited.

    ``max_tokens`` bounds the total tokens (prompt + completion, summed over the
    run's model calls): no further model call starts once it is reached, and
    tool calls requested by the answer that crossed it are not run.
    ``max_tool_calls`` bounds the tool calls executed: a turn whose calls would
    exceed it runs none of them. Either way the run ends with
    ``stop_reason="budget"`` and a content that says which limit was hit. A
    final answer that arrives while crossing a limit is still returned.
    """

    max_tokens: int | None = None
    max_tool_calls: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_tokens", "max_tool_calls"):
            check_int(f"Budget.{name}", getattr(self, name), minimum=0, allow_none=True)

    def tokens_exhausted(self, used: int) -> bool:
        return self.max_tokens is not None and used >= self.max_tokens

    def tool_calls_exceeded(self, made: int, requested: int) -> bool:
        return self.max_tool_calls is not None and made + requested > self.max_tool_calls
