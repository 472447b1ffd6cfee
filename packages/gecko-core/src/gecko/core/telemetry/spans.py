"""OpenTelemetry spans for agent runs, model calls, tool calls and workflows.

Only the OpenTelemetry *API* is used: without an SDK every span is a no-op
(non-recording, nearly free). Install ``opentelemetry-sdk`` (``pip install
"gecko-core[otel]"``) and set a tracer provider to export them. Model and tool
spans follow the OpenTelemetry GenAI semantic conventions (``gen_ai.*``
attributes, span names ``"{operation} {target}"``); workflow spans use
``gecko.workflow.*`` attributes.

This module imports ``opentelemetry``; it is imported by the agent runtime and
workflow engine when they run, never by ``import gecko`` or a plugin module.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer, TracerProvider

from gecko.core.output import TokenUsage

INSTRUMENTATION_NAME = "gecko"
SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"

# GenAI semantic-convention attribute names.
OPERATION_NAME = "gen_ai.operation.name"
PROVIDER_NAME = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
FINISH_REASONS = "gen_ai.response.finish_reasons"
AGENT_NAME = "gen_ai.agent.name"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
TOOL_TYPE = "gen_ai.tool.type"
ERROR_TYPE = "error.type"
# Gecko's own attributes (no semantic convention exists for workflows).
WORKFLOW_NAME = "gecko.workflow.name"
WORKFLOW_RUN_ID = "gecko.workflow.run_id"
WORKFLOW_NODE = "gecko.workflow.node"
# Model fallback chains (gecko.core.models.fallback).
MODEL_USED = "gecko.model.used"
MODEL_ATTEMPTS = "gecko.model.attempts"
FALLBACK_EVENT = "gecko.model.fallback"
FALLBACK_FAILED = "gecko.model.failed"
FALLBACK_NEXT = "gecko.model.next"

_lock = threading.Lock()
_provider: TracerProvider | None = None
_tracer: Tracer | None = None


def use_tracer_provider(provider: TracerProvider | None) -> None:
    """Send Gecko's spans to ``provider`` instead of the global one (``None`` = global again).

    The global provider (``opentelemetry.trace.set_tracer_provider``) can be set
    only once per process; this lets an application or a test route Gecko's
    spans to a provider of its own at any time.
    """
    global _provider, _tracer
    with _lock:
        _provider = provider
        _tracer = None


def get_tracer() -> Tracer:
    """Gecko's tracer: from the provider given to ``use_tracer_provider``, else the global one.

    The global tracer is a proxy, so an SDK configured after this call is still used.
    """
    global _tracer
    tracer = _tracer
    if tracer is None:
        with _lock:
            if _tracer is None:
                _tracer = trace.get_tracer(
                    INSTRUMENTATION_NAME,
                    _version(),
                    tracer_provider=_provider,
                    schema_url=SCHEMA_URL,
                )
            tracer = _tracer
    return tracer


@contextmanager
def agent_span(agent_name: str, *, model: str | None = None) -> Iterator[Span]:
    """A span around one agent run: ``invoke_agent {agent_name}``."""
    attributes: dict[str, Any] = {OPERATION_NAME: "invoke_agent", AGENT_NAME: agent_name}
    if model:
        provider, model_name = split_model_id(model)
        attributes[REQUEST_MODEL] = model_name
        if provider:
            attributes[PROVIDER_NAME] = provider
    with _span(f"invoke_agent {agent_name}", SpanKind.INTERNAL, attributes) as span:
        yield span


@contextmanager
def model_span(
    model: str, *, provider: str | None = None, operation: str = "chat"
) -> Iterator[Span]:
    """A span around one model call: ``{operation} {model}`` (e.g. ``chat gpt-4o-mini``).

    Without ``provider``, a ``provider/model`` id is split (``openai/gpt-4o-mini``
    gives provider ``openai`` and model ``gpt-4o-mini``).
    """
    model_name = model
    if provider is None:
        provider, model_name = split_model_id(model)
    attributes: dict[str, Any] = {OPERATION_NAME: operation, REQUEST_MODEL: model_name}
    if provider:
        attributes[PROVIDER_NAME] = provider
    with _span(f"{operation} {model_name}", SpanKind.CLIENT, attributes) as span:
        yield span


def record_usage(
    span: Span,
    usage: TokenUsage,
    *,
    response_model: str | None = None,
    finish_reason: str | None = None,
) -> None:
    """Record a model call's (or a run's summed) token usage and outcome on ``span``."""
    if not span.is_recording():
        return
    span.set_attribute(INPUT_TOKENS, usage.prompt_tokens)
    span.set_attribute(OUTPUT_TOKENS, usage.completion_tokens)
    if response_model:
        span.set_attribute(RESPONSE_MODEL, response_model)
    if finish_reason:
        span.set_attribute(FINISH_REASONS, [finish_reason])


@contextmanager
def tool_span(tool_name: str, *, call_id: str | None = None) -> Iterator[Span]:
    """A span around one tool execution: ``execute_tool {tool_name}``."""
    attributes: dict[str, Any] = {
        OPERATION_NAME: "execute_tool",
        TOOL_NAME: tool_name,
        TOOL_TYPE: "function",
    }
    if call_id:
        attributes[TOOL_CALL_ID] = call_id
    with _span(f"execute_tool {tool_name}", SpanKind.INTERNAL, attributes) as span:
        yield span


@contextmanager
def workflow_span(workflow: str, *, run_id: str | None = None) -> Iterator[Span]:
    """A span around one workflow execution: ``workflow {workflow}``."""
    attributes: dict[str, Any] = {WORKFLOW_NAME: workflow}
    if run_id:
        attributes[WORKFLOW_RUN_ID] = run_id
    with _span(f"workflow {workflow}", SpanKind.INTERNAL, attributes) as span:
        yield span


@contextmanager
def node_span(workflow: str, node: str) -> Iterator[Span]:
    """A span around one workflow node: ``node {node}``."""
    attributes = {WORKFLOW_NAME: workflow, WORKFLOW_NODE: node}
    with _span(f"node {node}", SpanKind.INTERNAL, attributes) as span:
        yield span


def mark_error(span: Span, error: BaseException | str) -> None:
    """Mark ``span`` as failed without raising (e.g. a tool error fed back to the model)."""
    if not span.is_recording():
        return
    if isinstance(error, BaseException):
        span.record_exception(error)
        span.set_attribute(ERROR_TYPE, _qualified_name(type(error)))
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
    else:
        span.set_attribute(ERROR_TYPE, "error")
        span.set_status(Status(StatusCode.ERROR, error))


def record_fallback(failed: str, error: BaseException, next_model: str) -> None:
    """Add a ``gecko.model.fallback`` event to the current span: ``failed`` gave way to ``next_model``."""
    span = trace.get_current_span()
    if span.is_recording():
        span.add_event(
            FALLBACK_EVENT,
            {
                FALLBACK_FAILED: failed,
                ERROR_TYPE: _qualified_name(type(error)),
                FALLBACK_NEXT: next_model,
            },
        )


def record_model_used(model: str, attempts: int) -> None:
    """Name on the current span the model of a fallback chain that answered, after ``attempts``."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute(MODEL_USED, model)
        span.set_attribute(MODEL_ATTEMPTS, attempts)


def split_model_id(model: str) -> tuple[str | None, str]:
    """``"openai/gpt-4o-mini"`` -> ``("openai", "gpt-4o-mini")``; ``"test"`` -> ``(None, "test")``."""
    provider, sep, name = model.partition("/")
    if sep and provider and name:
        return provider, name
    return None, model


@contextmanager
def _span(name: str, kind: SpanKind, attributes: Mapping[str, Any]) -> Iterator[Span]:
    with get_tracer().start_as_current_span(
        name,
        kind=kind,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except Exception as exc:
            mark_error(span, exc)
            raise


def _qualified_name(cls: type) -> str:
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gecko-core")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"
