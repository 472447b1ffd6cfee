"""The workflow engine (see ``docs/workflows.md`` and ``docs/architecture.md``).

From the top down: ``workflow`` (the definition), ``runners`` (where runs execute),
``local`` (the in-process runner), ``step`` (the pure decisions) and ``plan``,
``invoke`` (node calls), ``checkpointer`` / ``record`` / ``codec`` (durability).
Names are imported on first use, so importing a submodule loads only what it needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gecko.core.lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "CheckpointStrategy": "gecko.compose.workflow.checkpointer",
        "Workflow": "gecko.compose.workflow.workflow",
    },
)

__all__ = ["CheckpointStrategy", "Workflow"]

if TYPE_CHECKING:  # pragma: no cover - static names for type checkers and IDEs
    from gecko.compose.workflow.checkpointer import CheckpointStrategy
    from gecko.compose.workflow.workflow import Workflow
