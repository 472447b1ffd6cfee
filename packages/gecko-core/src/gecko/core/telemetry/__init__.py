"""OpenTelemetry spans and metrics for Gecko (API only: no-op until an SDK is installed and configured).

Spans are in ``gecko.core.telemetry.spans``, metrics in ``gecko.core.telemetry.metrics``.

Importing this package imports ``opentelemetry``; ``import gecko`` and plugin
modules never do. See ``docs/observability.md``.
"""

from __future__ import annotations

from gecko.core.telemetry.metrics import (
    set_metrics_enabled,
    use_meter_provider,
    workflow_metrics,
)
from gecko.core.telemetry.spans import (
    agent_span,
    get_tracer,
    mark_error,
    model_span,
    node_span,
    record_fallback,
    record_model_used,
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
    "record_fallback",
    "record_model_used",
    "record_usage",
    "set_metrics_enabled",
    "split_model_id",
    "tool_span",
    "use_meter_provider",
    "use_tracer_provider",
    "workflow_metrics",
    "workflow_span",
]
