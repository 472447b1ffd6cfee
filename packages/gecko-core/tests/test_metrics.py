"""OpenTelemetry metrics, read back through the SDK's InMemoryMetricReader."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from gecko import Agent
from gecko.core.errors import ModelServerError, RateLimitError
from gecko.core.message import ToolCall
from gecko.core.models.fallback import FallbackModel
from gecko.core.models.scripted import ScriptedModel
from gecko.core.telemetry.metrics import (
    DURATION_BUCKETS,
    TOKEN_BUCKETS,
    metrics_enabled,
    model_call,
    record_tool_call,
    set_metrics_enabled,
    use_meter_provider,
    workflow_metrics,
)

pytestmark = pytest.mark.anyio


class Metrics:
    """What the in-memory reader collected, by instrument name."""

    def __init__(self, reader: InMemoryMetricReader) -> None:
        self.reader = reader
        self._seen: dict[str, Any] = {}

    def collect(self) -> None:
        data = self.reader.get_metrics_data()
        self._seen = {}
        if data is None:
            return
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                assert scope.scope.name == "gecko"
                for metric in scope.metrics:
                    self._seen[metric.name] = metric

    def metric(self, name: str) -> Any:
        self.collect()
        assert name in self._seen, sorted(self._seen)
        return self._seen[name]

    def points(self, name: str) -> list[Any]:
        return list(self.metric(name).data.data_points)

    def by_attributes(self, name: str) -> dict[frozenset[tuple[str, Any]], Any]:
        return {frozenset((p.attributes or {}).items()): p for p in self.points(name)}

    def names(self) -> list[str]:
        self.collect()
        return sorted(self._seen)


@pytest.fixture
def metrics() -> Iterator[Metrics]:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    use_meter_provider(provider)
    try:
        yield Metrics(reader)
    finally:
        use_meter_provider(None)
        set_metrics_enabled(True)
        provider.shutdown()


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def broken(a: int) -> int:
    """Always fails."""
    raise RuntimeError("tool broke")


CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "openai/gpt-4o-mini",
}


# --- model calls ----------------------------------------------------------------------------------


async def test_model_calls_record_token_usage_and_duration(metrics: Metrics) -> None:
    model = ScriptedModel(
        [ToolCall(name="add", arguments={"a": 2, "b": 3}), "5"], name="openai/gpt-4o-mini"
    )
    output = await Agent(model, tools=[add]).run("2 + 3?")

    usage = metrics.metric("gen_ai.client.token.usage")
    assert usage.unit == "{token}"
    points = metrics.by_attributes("gen_ai.client.token.usage")
    inputs = points[frozenset({**CHAT, "gen_ai.token.type": "input"}.items())]
    outputs = points[frozenset({**CHAT, "gen_ai.token.type": "output"}.items())]
    assert len(points) == 2
    assert inputs.count == 2 and inputs.sum == output.usage.prompt_tokens
    assert outputs.count == 2 and outputs.sum == output.usage.completion_tokens
    assert tuple(inputs.explicit_bounds) == TOKEN_BUCKETS

    duration = metrics.metric("gen_ai.client.operation.duration")
    assert duration.unit == "s"
    [point] = metrics.points("gen_ai.client.operation.duration")
    assert dict(point.attributes) == CHAT
    assert point.count == 2 and point.sum > 0
    assert tuple(point.explicit_bounds) == DURATION_BUCKETS


async def test_streamed_model_calls_are_measured_too(metrics: Metrics) -> None:
    stream = Agent(ScriptedModel(["streamed"], name="openai/gpt-4o-mini")).stream("hi")
    assert "".join([text async for text in stream]) == "streamed"
    [point] = metrics.points("gen_ai.client.operation.duration")
    assert dict(point.attributes) == CHAT and point.count == 1
    assert len(metrics.points("gen_ai.client.token.usage")) == 2


async def test_a_failing_model_call_records_error_type(metrics: Metrics) -> None:
    model = ScriptedModel([ModelServerError("HTTP 503", status=503)], name="openai/gpt-4o-mini")
    with pytest.raises(ModelServerError):
        await Agent(model).run("hi")
    [point] = metrics.points("gen_ai.client.operation.duration")
    assert dict(point.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "error.type": "gecko.core.errors.ModelServerError",
    }
    assert point.count == 1
    assert "gen_ai.client.token.usage" not in metrics.names()


async def test_a_fallback_chain_measures_each_model_tried(metrics: Metrics) -> None:
    chain = FallbackModel(
        [
            ScriptedModel([RateLimitError("HTTP 429")], name="openai/gpt-4o"),
            ScriptedModel(["ok"], name="anthropic/claude-haiku-4-5"),
        ]
    )
    await Agent(chain).run("hi")
    durations = {
        (
            p.attributes["gen_ai.provider.name"],
            p.attributes["gen_ai.request.model"],
            p.attributes.get("error.type"),
        ): p.count
        for p in metrics.points("gen_ai.client.operation.duration")
    }
    assert durations == {
        ("openai", "gpt-4o", "gecko.core.errors.RateLimitError"): 1,
        ("anthropic", "claude-haiku-4-5", None): 1,
    }
    tokens = {
        p.attributes["gen_ai.provider.name"] for p in metrics.points("gen_ai.client.token.usage")
    }
    assert tokens == {"anthropic"}  # the tokens are billed by the model that answered


def test_model_call_api_records_once() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    use_meter_provider(provider)
    try:
        call = model_call("mistral/small", operation="text_completion")
        call.failed(TimeoutError())
        call.succeeded()  # already recorded: ignored
        collected = Metrics(reader)
        [point] = collected.points("gen_ai.client.operation.duration")
        assert dict(point.attributes) == {
            "gen_ai.operation.name": "text_completion",
            "gen_ai.provider.name": "mistral",
            "gen_ai.request.model": "small",
            "error.type": "TimeoutError",
        }
        assert point.count == 1
    finally:
        use_meter_provider(None)
        provider.shutdown()


# --- tool calls ---------------------------------------------------------------------------------


async def test_tool_calls_record_their_duration_and_failures(metrics: Metrics) -> None:
    model = ScriptedModel(
        [
            [
                ToolCall(name="add", arguments={"a": 1, "b": 2}),
                ToolCall(name="broken", arguments={"a": 1}),
            ],
            ToolCall(name="invented_by_the_model", arguments={}),
            "done",
        ]
    )
    await Agent(model, tools=[add, broken]).run("go")
    duration = metrics.metric("gen_ai.execute_tool.duration")
    assert duration.unit == "s"
    points = {
        (p.attributes["gen_ai.tool.name"], p.attributes.get("error.type")): p
        for p in metrics.points("gen_ai.execute_tool.duration")
    }
    # A name the model made up is not a tool: it is not measured (unbounded cardinality).
    assert set(points) == {("add", None), ("broken", "RuntimeError")}
    for point in points.values():
        assert point.count == 1 and point.sum >= 0
        assert point.attributes["gen_ai.tool.type"] == "function"


# --- workflows ----------------------------------------------------------------------------------


def test_workflow_instruments(metrics: Metrics) -> None:
    wf = workflow_metrics("etl")
    wf.run_started()
    wf.run_started()
    wf.run_active(1)
    wf.run_active(1)
    wf.run_active(-1)
    wf.run_ended("completed")
    wf.run_ended("failed")
    wf.run_ended("failed")
    wf.node_duration("function", 0.25, node="extract")
    wf.node_duration("agent", 1.5)
    with wf.time_node("tool"):
        pass
    with pytest.raises(KeyError), wf.time_node("tool", node="lookup"):
        raise KeyError("missing")
    wf.limit_wait("tag:gpu", 0.5)
    wf.interrupts_pending(3)
    wf.interrupts_pending(-1)

    base = {"gecko.workflow.name": "etl"}
    [started] = metrics.points("gecko.workflow.runs.started")
    assert dict(started.attributes) == base and started.value == 2
    ended = {
        p.attributes["gecko.run.status"]: p.value
        for p in metrics.points("gecko.workflow.runs.ended")
    }
    assert ended == {"completed": 1, "failed": 2}
    [active] = metrics.points("gecko.workflow.runs.active")
    assert active.value == 1
    nodes = {
        frozenset(p.attributes.items()): (p.count, p.sum)
        for p in metrics.points("gecko.workflow.node.duration")
    }
    assert nodes[
        frozenset({**base, "gecko.node.kind": "function", "gecko.workflow.node": "extract"}.items())
    ] == (1, 0.25)
    assert nodes[frozenset({**base, "gecko.node.kind": "agent"}.items())] == (1, 1.5)
    assert frozenset({**base, "gecko.node.kind": "tool"}.items()) in nodes
    failed = {
        **base,
        "gecko.node.kind": "tool",
        "gecko.workflow.node": "lookup",
        "error.type": "KeyError",
    }
    assert frozenset(failed.items()) in nodes
    [wait] = metrics.points("gecko.workflow.limit.wait")
    assert dict(wait.attributes) == {**base, "gecko.limit.key": "tag:gpu"}
    assert wait.sum == 0.5 and metrics.metric("gecko.workflow.limit.wait").unit == "s"
    [pending] = metrics.points("gecko.workflow.interrupts.pending")
    assert pending.value == 2


async def test_metrics_off_records_nothing(metrics: Metrics) -> None:
    set_metrics_enabled(False)
    assert metrics_enabled() is False
    model = ScriptedModel([ToolCall(name="add", arguments={"a": 1, "b": 2}), "3"])
    await Agent(model, tools=[add]).run("go")
    workflow_metrics("etl").run_started()
    record_tool_call("add", 0.1)
    assert metrics.names() == []
    set_metrics_enabled(True)
    record_tool_call("add", 0.1)
    assert metrics.names() == ["gen_ai.execute_tool.duration"]


# --- without an SDK ------------------------------------------------------------------------------


def test_without_an_sdk_nothing_breaks_and_the_sdk_is_never_imported() -> None:
    # A fresh interpreter in which opentelemetry-sdk cannot be imported: metrics are no-ops.
    code = textwrap.dedent(
        """
        import asyncio, sys

        class NoSDK:
            def find_spec(self, name, path=None, target=None):
                if name == "opentelemetry.sdk" or name.startswith("opentelemetry.sdk."):
                    raise ImportError("opentelemetry-sdk is not installed")
                return None

        sys.meta_path.insert(0, NoSDK())

        from gecko import Agent
        from gecko.core.errors import RateLimitError
        from gecko.core.message import ToolCall
        from gecko.core.models.scripted import ScriptedModel
        from gecko.core.telemetry.metrics import workflow_metrics


        def add(a: int, b: int) -> int:
            "Add two integers."
            return a + b


        async def main() -> None:
            model = ScriptedModel([ToolCall(name="add", arguments={"a": 1, "b": 2}), "3"])
            assert (await Agent(model, tools=[add]).run("go")).content == "3"
            chain = [ScriptedModel([RateLimitError("429")], name="a"), ScriptedModel(["ok"], name="b")]
            assert (await Agent(chain).run("go")).content == "ok"
            wf = workflow_metrics("etl")
            wf.run_started(); wf.run_active(1); wf.node_duration("agent", 0.1)
            wf.limit_wait("agent", 0.0); wf.interrupts_pending(1); wf.run_ended("completed")
            with wf.time_node("function"):
                pass


        asyncio.run(main())
        assert not any(name.startswith("opentelemetry.sdk") for name in sys.modules)
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_opentelemetry_stays_out_of_the_agent_import() -> None:
    code = textwrap.dedent(
        """
        import sys
        from gecko import Agent, AgentBuilder
        import gecko.core.models.fallback, gecko.core.tools.toolbox, gecko.core.engine.react
        print(sorted(name for name in sys.modules if name.startswith("opentelemetry")))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_global_sdk_set_after_the_first_measurement_still_gets_them() -> None:
    # Instruments are created from the global (proxy) meter on first use; an application that
    # sets its MeterProvider later still receives every later measurement.
    code = textwrap.dedent(
        """
        import asyncio

        from opentelemetry import metrics
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader

        from gecko import Agent
        from gecko.core.models.scripted import ScriptedModel


        async def run() -> None:
            await Agent(ScriptedModel(["hi"], name="openai/gpt-4o")).run("hello")


        asyncio.run(run())  # no SDK yet: not recorded
        reader = InMemoryMetricReader()
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
        asyncio.run(run())
        data = reader.get_metrics_data()
        [point] = [
            p
            for m in data.resource_metrics[0].scope_metrics[0].metrics
            if m.name == "gen_ai.client.operation.duration"
            for p in m.data.data_points
        ]
        print(point.count)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"
