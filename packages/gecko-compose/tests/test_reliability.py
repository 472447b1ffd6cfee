"""Retries with backoff, per-node and whole-run timeouts, events, spans, summaries, sub-workflows."""

from __future__ import annotations

import random
from typing import Any

import anyio
import pytest

from gecko.compose import RetryPolicy, Workflow, WorkflowContext
from gecko.compose.errors import NodeExecutionError, NodeTimeoutError, WorkflowTimeoutError
from gecko.compose.workflow.checkpointer import load_record
from gecko.core.errors import ConfigurationError, RateLimitError
from gecko.core.events import EventBus
from gecko.core.output import AgentOutput, TokenUsage
from gecko.core.storage.memory import MemoryStore

pytestmark = pytest.mark.anyio

NO_WAIT = RetryPolicy(max_attempts=3, initial_delay=0, jitter=False)


async def test_a_failing_node_is_retried_with_the_same_idempotency_key() -> None:
    attempts: list[tuple[int, str]] = []

    async def flaky(ctx: WorkflowContext) -> str:
        attempts.append((ctx.attempt, ctx.idempotency_key))
        if ctx.attempt < 3:
            raise ConnectionError(f"try {ctx.attempt}")
        return "ok"

    events: list[str] = []
    bus = EventBus()
    bus.subscribe("workflow.node_retrying", lambda e: events.append(f"{e.attempt}:{e.error}"))
    wf = (
        Workflow("retry", event_bus=bus)
        .add_node("flaky", flaky, retry=NO_WAIT)
        .set_entry_point("flaky")
    )
    run = await wf.execute(None, session_id="r1", return_run=True)
    assert run.output == "ok" and run.summary.retries == 2
    assert attempts == [(1, "r1:flaky:0"), (2, "r1:flaky:0"), (3, "r1:flaky:0")]
    assert events == ["1:ConnectionError: try 1", "2:ConnectionError: try 2"]


async def test_exhausted_retries_fail_the_run_naming_node_and_attempts() -> None:
    async def broken(x: Any) -> None:
        raise ValueError("always")

    wf = Workflow("retry", retry=NO_WAIT).add_node("broken", broken).set_entry_point("broken")
    with pytest.raises(NodeExecutionError) as info:
        await wf.execute(None)
    assert "node 'broken' failed after 3 attempts: ValueError: always" in str(info.value)
    assert isinstance(info.value.__cause__, ValueError) and info.value.attempts == 3


async def test_errors_retrying_cannot_fix_are_not_retried() -> None:
    calls = 0

    async def misconfigured(x: Any) -> None:
        nonlocal calls
        calls += 1
        raise ConfigurationError("bad option")

    wf = Workflow("retry", retry=NO_WAIT).add_node("m", misconfigured).set_entry_point("m")
    with pytest.raises(NodeExecutionError):
        await wf.execute(None)
    assert calls == 1


def test_backoff_grows_exponentially_with_bounded_jitter_and_honours_retry_after() -> None:
    policy = RetryPolicy(initial_delay=1.0, backoff=2.0, max_delay=5.0, jitter=False)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    jittered = RetryPolicy(initial_delay=1.0, backoff=2.0, max_delay=60)
    random.seed(7)
    samples = [jittered.delay(3) or 0.0 for _ in range(200)]
    # Full jitter: spread over the whole window [0, 4], not a fixed schedule.
    assert all(0.0 <= s <= 4.0 for s in samples) and len(set(samples)) > 100
    assert min(samples) < 1.0 and max(samples) > 3.0
    limited = RateLimitError("slow down", retry_after=9.0)
    assert policy.delay(1, limited) == 9.0
    with pytest.raises(ConfigurationError):
        RetryPolicy(max_attempts=0)


async def test_a_retry_after_beyond_max_retry_after_fails_the_node_at_once() -> None:
    calls = 0

    async def quota(x: Any) -> None:
        nonlocal calls
        calls += 1
        raise RateLimitError("daily quota used up", retry_after=3600)

    policy = RetryPolicy(max_attempts=5, initial_delay=0, max_retry_after=60)
    wf = Workflow("quota", retry=policy).add_node("q", quota).set_entry_point("q")
    with pytest.raises(NodeExecutionError) as info:
        await wf.execute(None)
    assert calls == 1 and info.value.attempts == 1
    assert isinstance(info.value.__cause__, RateLimitError)


async def test_a_node_timeout_fails_the_attempt_and_retries_it() -> None:
    never = anyio.Event()

    async def slow_first(ctx: WorkflowContext) -> int:
        if ctx.attempt == 1:
            await never.wait()
        return ctx.attempt

    wf = (
        Workflow("timeouts")
        .add_node("slow", slow_first, timeout=0.05, retry=NO_WAIT)
        .set_entry_point("slow")
    )
    assert await wf.execute(None) == 2

    async def stuck(x: Any) -> None:
        await never.wait()

    wf = Workflow("timeouts").add_node("stuck", stuck, timeout=0.05).set_entry_point("stuck")
    with pytest.raises(NodeExecutionError) as info:
        await wf.execute(None)
    assert isinstance(info.value.__cause__, NodeTimeoutError) and "0.05 s" in str(info.value)


async def test_the_whole_run_times_out_and_can_then_be_resumed() -> None:
    release = anyio.Event()
    done: list[str] = []

    async def first(x: Any) -> str:
        done.append("first")
        return "first"

    async def waits(x: Any) -> str:
        await release.wait()
        return "finished"

    store = MemoryStore()
    wf = Workflow("timeouts", storage=store).add_node("first", first).add_node("waits", waits)
    wf.add_edge("first", "waits").set_entry_point("first")
    with pytest.raises(WorkflowTimeoutError, match=r"did not finish within 0\.1 s"):
        await wf.execute(None, session_id="t1", timeout=0.1)
    snapshot = await wf.get_state("t1")
    assert snapshot.status == "timed_out" and snapshot.next_nodes == ["waits"]
    assert snapshot.error is not None and snapshot.error["type"] == "WorkflowTimeoutError"
    release.set()
    assert await wf.resume("t1") == "finished"
    assert done == ["first"]


async def test_events_trace_the_run_in_order() -> None:
    bus = EventBus()
    seen: list[str] = []
    bus.subscribe("workflow.*", lambda e: seen.append(f"{e.type}:{getattr(e, 'node', '')}"))
    completed: list[Any] = []
    bus.subscribe("workflow.completed", completed.append)
    wf = Workflow("events", event_bus=bus)
    wf.add_node("a", lambda x: 1).add_node("b", lambda x: 2).add_edge("a", "b").set_entry_point("a")
    await wf.execute(None)
    assert seen == [
        "workflow.started:",
        "workflow.node_started:a",
        "workflow.node_completed:a",
        "workflow.node_started:b",
        "workflow.node_completed:b",
        "workflow.completed:",
    ]
    assert completed[0].source == "events" and completed[0].summary["nodes_run"] == ["a", "b"]


async def test_failure_events() -> None:
    bus = EventBus()
    seen: list[str] = []
    bus.subscribe("workflow.*", lambda e: seen.append(e.type))

    def boom(x: Any) -> None:
        raise KeyError("k")

    wf = Workflow("events", event_bus=bus).add_node("boom", boom).set_entry_point("boom")
    with pytest.raises(NodeExecutionError):
        await wf.execute(None)
    assert seen == [
        "workflow.started",
        "workflow.node_started",
        "workflow.node_failed",
        "workflow.failed",
    ]


async def test_summary_sums_token_usage_and_times_nodes() -> None:
    async def agentish(x: Any) -> AgentOutput:
        return AgentOutput(content="hi", usage=TokenUsage.of(3, 4))

    wf = (
        Workflow("usage")
        .add_node("a", agentish)
        .add_node("b", agentish)
        .add_edge("a", "b")
        .set_entry_point("a")
    )
    run = await wf.execute(None, return_run=True)
    summary = run.summary
    assert summary.usage.total_tokens == 14 and summary.usage.prompt_tokens == 6
    assert summary.status == "completed" and summary.steps == 2 and summary.duration is not None
    assert set(summary.node_durations) == {"a", "b"} and all(
        d >= 0 for d in summary.node_durations.values()
    )


async def test_spans_for_the_workflow_and_each_node() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from gecko.core.telemetry import use_tracer_provider

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    use_tracer_provider(provider)
    try:

        def fails(x: Any) -> None:
            raise ValueError("nope")

        wf = Workflow("traced").add_node("a", lambda x: x).add_node("b", fails).add_edge("a", "b")
        wf.set_entry_point("a")
        with pytest.raises(NodeExecutionError):
            await wf.execute(None, session_id="span-run")
    finally:
        use_tracer_provider(None)
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert set(spans) == {"workflow traced", "node a", "node b"}
    root = spans["workflow traced"]
    assert root.attributes is not None and root.attributes["gecko.workflow.run_id"] == "span-run"
    assert (
        spans["node a"].parent is not None
        and spans["node a"].parent.span_id == root.context.span_id
    )
    assert spans["node b"].status.status_code.name == "ERROR"


async def test_sub_workflow_runs_as_a_node_with_its_own_state() -> None:
    async def child_step(x: int, ctx: WorkflowContext) -> int:
        ctx.state["child"] = True
        return x * 10

    child = Workflow("child").add_node("times10", child_step).set_entry_point("times10")

    async def parent_step(x: int, ctx: WorkflowContext) -> int:
        ctx.state["parent"] = True
        return x + 1

    store = MemoryStore()
    parent = Workflow("parent", storage=store)
    parent.add_node("inc", parent_step).add_node("child", child).add_node("done", lambda x: x)
    parent.add_edge("inc", "child").add_edge("child", "done").set_entry_point("inc")
    run = await parent.execute(1, session_id="p", return_run=True)
    assert run.output == 20 and run.state == {"parent": True}
    # Without storage of its own, the child checkpointed into the parent's store under a derived id.
    assert await store.list_runs() == ["p", "p/child/1"]
    record = await load_record(store, "p/child/1")
    assert record.status == "completed" and record.state == {"child": True}
