"""Gecko Compose: the Workflow engine (parallel DAG layers, checkpoints, resume) and Team.

    from gecko.compose import Workflow, Team, step, Next

Names are imported on first use, so ``import gecko.compose`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gecko.core.lazy import lazy_exports

_LAZY: dict[str, str] = {
    "Workflow": "gecko.compose.workflow.workflow",
    "CheckpointStrategy": "gecko.compose.workflow.checkpointer",
    "Runner": "gecko.compose.workflow.runners",
    "WorkflowContext": "gecko.compose.context",
    "Interrupt": "gecko.compose.interrupts",
    "Limits": "gecko.compose.limits",
    "RunHandle": "gecko.compose.workflow.lifecycle",
    "RunCancelledError": "gecko.compose.errors",
    "RunSuspended": "gecko.compose.errors",
    "RunInterrupted": "gecko.compose.errors",
    "step": "gecko.compose.nodes",
    "Next": "gecko.compose.nodes",
    "END": "gecko.compose.nodes",
    "Team": "gecko.compose.team",
    "ExecutionStrategy": "gecko.compose.team",
    "MemberResult": "gecko.compose.team",
    "RetryPolicy": "gecko.core.retry",
    "register_type": "gecko.compose.workflow.codec",
    "ExecutionSummary": "gecko.compose.workflow.summary",
    "WorkflowRun": "gecko.compose.workflow.summary",
    "CheckpointInfo": "gecko.compose.workflow.record",
    "RunSnapshot": "gecko.compose.workflow.record",
    "load_workflow": "gecko.compose.declarative.loader",
    "compact_checkpoints": "gecko.compose.workflow.checkpointer",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "END",
    "CheckpointInfo",
    "CheckpointStrategy",
    "ExecutionStrategy",
    "ExecutionSummary",
    "Interrupt",
    "Limits",
    "MemberResult",
    "Next",
    "RetryPolicy",
    "RunCancelledError",
    "RunHandle",
    "RunInterrupted",
    "RunSnapshot",
    "RunSuspended",
    "Runner",
    "Team",
    "Workflow",
    "WorkflowContext",
    "WorkflowRun",
    "compact_checkpoints",
    "load_workflow",
    "register_type",
    "step",
]


if TYPE_CHECKING:  # pragma: no cover - static names for type checkers and IDEs
    from gecko.compose.context import WorkflowContext
    from gecko.compose.declarative.loader import load_workflow
    from gecko.compose.errors import RunCancelledError, RunInterrupted, RunSuspended
    from gecko.compose.interrupts import Interrupt
    from gecko.compose.limits import Limits
    from gecko.compose.nodes import END, Next, step
    from gecko.compose.team import ExecutionStrategy, MemberResult, Team
    from gecko.compose.workflow.checkpointer import CheckpointStrategy, compact_checkpoints
    from gecko.compose.workflow.codec import register_type
    from gecko.compose.workflow.lifecycle import RunHandle
    from gecko.compose.workflow.record import CheckpointInfo, RunSnapshot
    from gecko.compose.workflow.runners import Runner
    from gecko.compose.workflow.summary import ExecutionSummary, WorkflowRun
    from gecko.compose.workflow.workflow import Workflow
    from gecko.core.retry import RetryPolicy
