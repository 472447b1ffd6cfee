"""Gecko Compose: the Workflow engine (parallel DAG layers, checkpoints, resume) and Team.

    from gecko.compose import Workflow, Team, step, Next

Names are imported on first use, so ``import gecko.compose`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gecko.core.lazy import lazy_exports

_LAZY: dict[str, str] = {
    "Workflow": "gecko.compose.workflow.workflow",
    "CheckpointStrategy": "gecko.compose.workflow.persistence",
    "WorkflowContext": "gecko.compose.context",
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
    "compact_checkpoints": "gecko.compose.workflow.persistence",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "END",
    "CheckpointInfo",
    "CheckpointStrategy",
    "ExecutionStrategy",
    "ExecutionSummary",
    "MemberResult",
    "Next",
    "RetryPolicy",
    "RunSnapshot",
    "Team",
    "Workflow",
    "WorkflowContext",
    "WorkflowRun",
    "compact_checkpoints",
    "register_type",
    "step",
]


if TYPE_CHECKING:  # pragma: no cover - static names for type checkers and IDEs
    from gecko.compose.context import WorkflowContext
    from gecko.compose.nodes import END, Next, step
    from gecko.compose.team import ExecutionStrategy, MemberResult, Team
    from gecko.compose.workflow.codec import register_type
    from gecko.compose.workflow.persistence import CheckpointStrategy, compact_checkpoints
    from gecko.compose.workflow.record import CheckpointInfo, RunSnapshot
    from gecko.compose.workflow.summary import ExecutionSummary, WorkflowRun
    from gecko.compose.workflow.workflow import Workflow
    from gecko.core.retry import RetryPolicy
