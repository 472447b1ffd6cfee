"""The workflow engine: graph, state, executor, engine, persistence (see ``docs/workflows.md``)."""

from __future__ import annotations

from gecko.compose.workflow.persistence import CheckpointStrategy
from gecko.compose.workflow.workflow import Workflow

__all__ = ["CheckpointStrategy", "Workflow"]
