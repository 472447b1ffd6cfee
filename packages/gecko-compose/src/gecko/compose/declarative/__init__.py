"""Declarative workflows: ``gecko.workflow/v1`` YAML / JSON specs compiled to Workflows.

    from gecko.compose import load_workflow

    wf = load_workflow("support.yaml", agents={...}, tools={...}, storage="sqlite:///runs.db")

See ``docs/declarative.md``. YAML and CEL are imported only when a spec loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gecko.core.lazy import lazy_exports

_LAZY: dict[str, str] = {
    "load_workflow": "gecko.compose.declarative.loader",
    "validate_spec": "gecko.compose.declarative.loader",
    "SpecWorkflow": "gecko.compose.declarative.loader",
    "SpecReport": "gecko.compose.declarative.loader",
    "json_schema": "gecko.compose.declarative.schema",
    "to_mermaid": "gecko.compose.declarative.diagram",
    "parse_document": "gecko.compose.declarative.document",
    "SpecError": "gecko.compose.declarative.errors",
    "LifecycleRequiredError": "gecko.compose.declarative.errors",
    "ExpressionEvaluationError": "gecko.compose.declarative.errors",
    "Problem": "gecko.compose.declarative.errors",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "ExpressionEvaluationError",
    "LifecycleRequiredError",
    "Problem",
    "SpecError",
    "SpecReport",
    "SpecWorkflow",
    "json_schema",
    "load_workflow",
    "parse_document",
    "to_mermaid",
    "validate_spec",
]

if TYPE_CHECKING:  # pragma: no cover
    from gecko.compose.declarative.diagram import to_mermaid
    from gecko.compose.declarative.document import parse_document
    from gecko.compose.declarative.errors import (
        ExpressionEvaluationError,
        LifecycleRequiredError,
        Problem,
        SpecError,
    )
    from gecko.compose.declarative.loader import (
        SpecReport,
        SpecWorkflow,
        load_workflow,
        validate_spec,
    )
    from gecko.compose.declarative.schema import json_schema
