"""Execution events: on the bus under per-run topics, and in the store's event log, where a
process that did not run the workflow follows them live and a late reader replays them."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from gecko.compose import RunInterrupted, Workflow, WorkflowContext
from gecko.compose.errors import ComposeError
from gecko.compose.workflow.execution import ExecutionEvent
from gecko.core.events import EventBus
from gecko.core.testing import wait_until

WORKER = Path(__file__).with_name("lifecycle_worker.py")


def load_worker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gecko_compose_events_worker", WORKER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


worker = load_worker()

pytestmark = pytest.mark.anyio


def asking(url: str, **options: Any) -> Workflow:
    async def ask(value: int, ctx: WorkflowContext) -> Any:
        return await ctx.interrupt({"value": value}, key="ok")

    wf = Workflow("events", storage=url, **options)
    wf.add_node("a", lambda x: x + 1).add_node("b", ask)
    return wf.add_edge("a", "b").set_entry_point("a")


async def test_every_transition_and_node_event_is_published_and_logged(tmp_path: Path) -> None:
    bus = EventBus()
    live: list[ExecutionEvent] = []
    bus.subscribe("workflow.execution.*", live.append)
    async with asking(f"sqlite:///{tmp_path / 'r.db'}", event_bus=bus, event_log=100) as wf:
        with pytest.raises(RunInterrupted):
            await wf.execute(1, session_id="s")
        assert await wf.resume("s", answers={"ok": "yes"}) == "yes"
        logged = [event async for event in wf.handle("s").events()]
    expected = [
        "started",
        "node_started",
        "node_completed",
        "node_started",
        "interrupted",
        "resumed",
        "node_started",
        "node_completed",
        "completed",
    ]
    assert [e.event for e in logged] == expected
    assert [e.seq for e in logged] == list(range(1, 10))
    assert [e.event for e in live] == expected
    assert {e.type for e in live} == {f"workflow.execution.s.{name}" for name in expected}
    assert logged[2].data == {"node": "a", "step": 0, "duration": logged[2].data["duration"],
                              "attempts": 1, "output": 2}  # fmt: skip
    assert logged[4].data["interrupts"] == [{"key": "ok", "node": "b", "payload": {"value": 2}}]
    assert logged[-1].data == {"output": "yes"}


async def test_a_late_reader_resumes_after_a_seq_and_the_log_is_bounded(tmp_path: Path) -> None:
    async with asking(f"sqlite:///{tmp_path / 'r.db'}", event_log=4) as wf:
        with pytest.raises(RunInterrupted):
            await wf.execute(1, session_id="s")
        assert await wf.resume("s", answers={"ok": 1}) == 1
        kept = [e async for e in wf.handle("s").events(follow=False)]
        assert [e.seq for e in kept] == [6, 7, 8, 9]  # the 4 newest; seqs never reused
        after = [e.event async for e in wf.handle("s").events(after=7)]
        assert after == ["node_completed", "completed"]


async def test_events_need_an_event_log(tmp_path: Path) -> None:
    async with asking(f"sqlite:///{tmp_path / 'r.db'}") as wf:
        with pytest.raises(RunInterrupted):
            await wf.execute(1, session_id="s")
        with pytest.raises(ComposeError, match="keeps no event log"):
            async for _ in wf.handle("s").events():
                pass


async def test_another_process_follows_a_run_live_until_it_is_cancelled(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    out = tmp_path / "out"
    out.mkdir()
    process = subprocess.Popen(
        [sys.executable, str(WORKER), url, str(out), "watched", "block"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        async with worker.build(url, out) as wf:
            seen: list[str] = []
            handle = wf.handle("watched")
            await wait_until(lambda: (out / "n1.log").exists(), timeout=120, message="n1")
            async for event in handle.events():
                seen.append(event.event)
                if event.event == "node_completed" and event.data["node"] == "n0":
                    # n0's completion is durable and visible here; now stop the run
                    assert await wf.cancel("watched") == "cancelled"
            assert seen[:3] == ["started", "node_started", "node_completed"]
            assert seen[-1] == "cancelled"  # the stream ends with the run
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
    finally:
        if process.poll() is None:
            process.kill()


async def test_workflow_metrics_count_runs_nodes_and_pending_interrupts(tmp_path: Path) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from gecko.core.telemetry.metrics import use_meter_provider

    reader = InMemoryMetricReader()
    use_meter_provider(MeterProvider(metric_readers=[reader]))
    try:
        async with asking(f"sqlite:///{tmp_path / 'r.db'}") as wf:
            with pytest.raises(RunInterrupted):
                await wf.execute(1, session_id="s")
            assert await wf.resume("s", answers={"ok": 1}) == 1
    finally:
        use_meter_provider(None)
    points: dict[str, list[Any]] = {}
    data = reader.get_metrics_data()
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points[metric.name] = list(metric.data.data_points)
    started = points["gecko.workflow.runs.started"]
    assert [p.value for p in started] == [1]  # the resume is not a new run
    ended = {p.attributes["gecko.run.status"]: p.value for p in points["gecko.workflow.runs.ended"]}
    assert ended == {"interrupted": 1, "completed": 1}
    assert [p.value for p in points["gecko.workflow.runs.active"]] == [0]
    assert [p.value for p in points["gecko.workflow.interrupts.pending"]] == [0]  # +1, then -1
    nodes = {
        (p.attributes["gecko.workflow.node"], p.attributes["gecko.node.kind"]): p.count
        for p in points["gecko.workflow.node.duration"]
    }
    assert nodes == {("a", "function"): 1, ("b", "function"): 2}
