"""``ExecutionSummary`` (what one execute/resume did) and ``WorkflowRun`` (its full result)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from gecko.compose.interrupts import Interrupt
from gecko.core.output import AgentOutput, TokenUsage


@dataclass
class ExecutionSummary:
    """What one ``execute``/``resume``/``replay`` call did.

    ``nodes_run`` lists node executions in completion order (a node in a loop
    appears once per run); ``nodes_resumed`` are the nodes a resume restored from
    checkpoints instead of running them again (every node completed before it); ``usage`` sums the token usage of every AgentOutput
    produced by this call (agent nodes, team members, sub-workflows).
    """

    run_id: str
    workflow: str
    status: str = "running"
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    steps: int = 0
    nodes_run: list[str] = field(default_factory=list)
    nodes_skipped: list[str] = field(default_factory=list)
    nodes_resumed: list[str] = field(default_factory=list)
    compensated: list[str] = field(default_factory=list)  # nodes undone after a failure
    node_durations: dict[str, float] = field(default_factory=dict)
    retries: int = 0
    checkpoints: int = 0
    usage: TokenUsage = field(default_factory=TokenUsage)
    error: str | None = None

    @property
    def duration(self) -> float | None:
        return None if self.finished_at is None else self.finished_at - self.started_at

    def record_node(self, node: str, duration: float, attempts: int, output: Any) -> None:
        self.nodes_run.append(node)
        durations = self.node_durations
        durations[node] = durations.get(node, 0.0) + duration
        if attempts > 1:
            self.retries += attempts - 1
        usage = usage_of(output)
        if usage is not None:
            self.usage = self.usage + usage

    def add_usage(self, usage: TokenUsage) -> None:
        self.usage = self.usage + usage

    def finish(self, status: str, error: BaseException | None = None) -> None:
        self.status = status
        self.finished_at = time.time()
        if error is not None:
            self.error = f"{type(error).__name__}: {error}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "workflow": self.workflow,
            "status": self.status,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration": self.duration,
            "steps": self.steps,
            "nodes_run": list(self.nodes_run),
            "nodes_skipped": list(self.nodes_skipped),
            "nodes_resumed": list(self.nodes_resumed),
            "node_durations": dict(self.node_durations),
            "retries": self.retries,
            "checkpoints": self.checkpoints,
            "usage": self.usage.model_dump(),
            "error": self.error,
        }


def usage_of(output: Any) -> TokenUsage | None:
    """Token usage carried by a node output: an AgentOutput, or a team's member results."""
    if isinstance(output, AgentOutput):
        return output.usage
    if type(output) is list and output:
        from gecko.compose.team import MemberResult

        total: TokenUsage | None = None
        for item in output:
            if isinstance(item, MemberResult) and isinstance(item.result, AgentOutput):
                total = item.result.usage if total is None else total + item.result.usage
        return total
    return None


@dataclass
class WorkflowRun:
    """Everything a run produced (``execute(..., return_run=True)``).

    ``status`` is ``completed``, or ``interrupted`` with ``interrupts`` waiting for answers
    (``output`` is then None).
    """

    run_id: str
    status: str
    output: Any
    state: dict[str, Any]
    history: dict[str, Any]
    summary: ExecutionSummary
    interrupts: list[Interrupt] = field(default_factory=list)
