"""Telemetry spans, exported through the OpenTelemetry SDK's in-memory exporter."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from gecko.core.errors import ToolTimeoutError
from gecko.core.output import TokenUsage
from gecko.core.telemetry import (
    agent_span,
    get_tracer,
    mark_error,
    model_span,
    node_span,
    record_usage,
    tool_span,
    use_tracer_provider,
    workflow_span,
)


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    use_tracer_provider(provider)
    try:
        yield exporter
    finally:
        use_tracer_provider(None)
        provider.shutdown()


def only(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    matches = [span for span in exporter.get_finished_spans() if span.name == name]
    assert len(matches) == 1, [span.name for span in exporter.get_finished_spans()]
    return matches[0]


def test_model_span_has_genai_attributes_and_usage(exporter: InMemorySpanExporter) -> None:
    with model_span("openai/gpt-4o-mini") as span:
        record_usage(
            span,
            TokenUsage.of(120, 30),
            response_model="gpt-4o-mini-2024-07-18",
            finish_reason="stop",
        )
    finished = only(exporter, "chat gpt-4o-mini")
    assert finished.kind is SpanKind.CLIENT
    assert dict(finished.attributes or {}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.output_tokens": 30,
        "gen_ai.response.finish_reasons": ("stop",),
    }
    assert finished.status.status_code is StatusCode.UNSET
    assert finished.instrumentation_scope is not None
    assert finished.instrumentation_scope.name == "gecko"


def test_model_span_with_explicit_provider_and_operation(exporter: InMemorySpanExporter) -> None:
    with model_span("test", provider="gecko", operation="embeddings"):
        pass
    finished = only(exporter, "embeddings test")
    attributes = finished.attributes or {}
    assert attributes["gen_ai.provider.name"] == "gecko"
    assert attributes["gen_ai.request.model"] == "test"
    assert attributes["gen_ai.operation.name"] == "embeddings"


def test_model_id_without_provider_sets_no_provider(exporter: InMemorySpanExporter) -> None:
    with model_span("test"):
        pass
    attributes = only(exporter, "chat test").attributes or {}
    assert "gen_ai.provider.name" not in attributes
    assert attributes["gen_ai.request.model"] == "test"


def test_agent_span_parents_model_and_tool_spans(exporter: InMemorySpanExporter) -> None:
    with agent_span("support-bot", model="anthropic/claude-3-5-haiku") as root:
        with model_span("anthropic/claude-3-5-haiku"):
            pass
        with tool_span("search", call_id="call_1"):
            pass
        record_usage(root, TokenUsage.of(10, 5))
    agent = only(exporter, "invoke_agent support-bot")
    model = only(exporter, "chat claude-3-5-haiku")
    tool = only(exporter, "execute_tool search")
    assert agent.attributes is not None
    assert agent.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert agent.attributes["gen_ai.agent.name"] == "support-bot"
    assert agent.attributes["gen_ai.request.model"] == "claude-3-5-haiku"
    assert agent.attributes["gen_ai.provider.name"] == "anthropic"
    assert agent.attributes["gen_ai.usage.input_tokens"] == 10
    for child in (model, tool):
        assert child.parent is not None and agent.context is not None
        assert child.parent.span_id == agent.context.span_id
        assert child.context is not None and child.context.trace_id == agent.context.trace_id
    assert dict(tool.attributes or {}) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "search",
        "gen_ai.tool.call.id": "call_1",
        "gen_ai.tool.type": "function",
    }


def test_exceptions_are_recorded_and_set_error_status(exporter: InMemorySpanExporter) -> None:
    with pytest.raises(ToolTimeoutError), tool_span("slow_tool"):
        raise ToolTimeoutError("slow_tool did not finish within 1 s")
    finished = only(exporter, "execute_tool slow_tool")
    assert finished.status.status_code is StatusCode.ERROR
    assert finished.status.description == "ToolTimeoutError: slow_tool did not finish within 1 s"
    assert finished.attributes is not None
    assert finished.attributes["error.type"] == "gecko.core.errors.ToolTimeoutError"
    [event] = finished.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes["exception.type"].endswith("ToolTimeoutError")


def test_builtin_exception_error_type_is_the_bare_name(exporter: InMemorySpanExporter) -> None:
    with pytest.raises(ValueError), model_span("openai/gpt-4o"):
        raise ValueError("bad")
    attributes = only(exporter, "chat gpt-4o").attributes or {}
    assert attributes["error.type"] == "ValueError"


def test_mark_error_without_raising(exporter: InMemorySpanExporter) -> None:
    with tool_span("flaky") as span:
        mark_error(span, "tool returned an error result")
    with tool_span("broken") as span:
        mark_error(span, KeyError("missing"))
    flaky = only(exporter, "execute_tool flaky")
    assert flaky.status.status_code is StatusCode.ERROR
    assert flaky.status.description == "tool returned an error result"
    broken = only(exporter, "execute_tool broken")
    assert broken.attributes is not None and broken.attributes["error.type"] == "KeyError"
    assert [event.name for event in broken.events] == ["exception"]


def test_workflow_and_node_spans(exporter: InMemorySpanExporter) -> None:
    with workflow_span("etl", run_id="run-7"), node_span("etl", "extract"):
        pass
    workflow = only(exporter, "workflow etl")
    node = only(exporter, "node extract")
    assert dict(workflow.attributes or {}) == {
        "gecko.workflow.name": "etl",
        "gecko.workflow.run_id": "run-7",
    }
    assert dict(node.attributes or {}) == {
        "gecko.workflow.name": "etl",
        "gecko.workflow.node": "extract",
    }
    assert node.parent is not None and workflow.context is not None
    assert node.parent.span_id == workflow.context.span_id


def test_switching_providers_routes_new_spans(exporter: InMemorySpanExporter) -> None:
    other = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(other))
    use_tracer_provider(provider)
    with tool_span("routed"):
        pass
    assert [span.name for span in other.get_finished_spans()] == ["execute_tool routed"]
    assert exporter.get_finished_spans() == ()


def test_spans_are_no_ops_without_an_sdk() -> None:
    # A fresh interpreter: no provider configured, so spans are non-recording,
    # cost nothing, and errors still propagate unchanged.
    code = textwrap.dedent(
        """
        from gecko.core.output import TokenUsage
        from gecko.core.telemetry import agent_span, model_span, record_usage, tool_span
        with agent_span("a") as span:
            assert not span.is_recording()
            with model_span("openai/gpt-4o") as inner:
                record_usage(inner, TokenUsage.of(1, 2), finish_reason="stop")
        try:
            with tool_span("t"):
                raise KeyError("boom")
        except KeyError:
            print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_opentelemetry_stays_out_of_gecko_imports() -> None:
    code = textwrap.dedent(
        """
        import sys
        import gecko
        import gecko.core.events, gecko.core.memory, gecko.core.guardrails
        import gecko.core.prompts, gecko.core.config, gecko.core.builtin_plugin
        from gecko import TokenMemory, SummaryTokenMemory, Message
        loaded = sorted(name for name in sys.modules if name.startswith("opentelemetry"))
        print(loaded)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_get_tracer_is_cached() -> None:
    assert get_tracer() is get_tracer()
