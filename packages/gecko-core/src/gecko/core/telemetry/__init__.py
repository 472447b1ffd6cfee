"""OpenTelemetry spans for Gecko (API only: no-op until an SDK is installed and configured).

Importing this package imports ``opentelemetry``; ``import gecko`` and plugin
modules never do. See ``docs/observability.md``.
"""

from __future__ import annotations

from gecko.core.telemetry.spans import (
    agent_span,
    get_tracer,
    mark_error,
    model_span,
    node_span,
    record_usage,
    split_model_id,
    tool_span,
    use_tracer_provider,
    workflow_span,
)

__all__ = [
    "agent_span",
    "get_tracer",
    "mark_error",
    "model_span",
    "node_span",
    "record_usage",
    "split_model_id",
    "tool_span",
    "use_tracer_provider",
    "workflow_span",
]
