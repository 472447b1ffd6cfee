"""Quotas on the scheduler: nodes running at once per kind, per tag, per model, shared by workflows."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from gecko.compose import Limits, Workflow
from gecko.core.errors import ConfigurationError

pytestmark = pytest.mark.anyio


class Gauge:
    """Counts nodes in flight; the first ``target`` of them wait until that many are in."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.inflight = 0
        self.peak = 0
        self.full = anyio.Event()

    def node(self, value: Any = None) -> Any:
        async def run(x: Any) -> Any:
            self.inflight += 1
            self.peak = max(self.peak, self.inflight)
            if self.inflight >= self.target:
                self.full.set()
            await self.full.wait()
            await anyio.lowlevel.checkpoint()
            self.inflight -= 1
            return value

        return run


def fan(wf: Workflow, gauge: Gauge, width: int, *, tags: tuple[str, ...] = ()) -> Workflow:
    wf.add_node("start", lambda x: x)
    for i in range(width):
        wf.add_node(f"n{i}", gauge.node(i), tags=tags).add_edge("start", f"n{i}")
    return wf.set_entry_point("start")


async def test_a_kind_limit_bounds_the_nodes_running_at_once() -> None:
    gauge = Gauge(target=3)
    wf = fan(Workflow("fan", limits={"function": 3}), gauge, 20)
    result = await wf.execute(None)
    assert result == {f"n{i}": i for i in range(20)}
    assert gauge.peak == 3  # reached, never passed


async def test_a_tag_limit_bounds_only_the_tagged_nodes() -> None:
    gpu = Gauge(target=1)
    other = Gauge(target=4)
    wf = Workflow("tags", limits={"tag:gpu": 1})
    wf.add_node("start", lambda x: x)
    for i in range(4):
        wf.add_node(f"gpu{i}", gpu.node(i), tags=["gpu"]).add_edge("start", f"gpu{i}")
        wf.add_node(f"cpu{i}", other.node(i)).add_edge("start", f"cpu{i}")
    wf.set_entry_point("start")
    await wf.execute(None)
    assert gpu.peak == 1
    assert other.peak == 4  # untagged nodes ran 4 at once beside the one gpu node


async def test_one_limits_object_is_shared_by_several_workflows() -> None:
    shared = Limits({"function": 2})
    gauge = Gauge(target=2)
    first = fan(Workflow("one", limits=shared), gauge, 6)
    second = fan(Workflow("two", limits=shared), gauge, 6)
    async with anyio.create_task_group() as group:
        group.start_soon(first.execute, None)
        group.start_soon(second.execute, None)
    assert gauge.peak == 2


async def test_a_model_limit_bounds_agent_nodes_of_that_model() -> None:
    gauge = Gauge(target=2)

    class FakeAgent:
        def __init__(self, model: str, i: int) -> None:
            self.model = SimpleNamespace(name=model)
            self._run = gauge.node(i)

        async def run(self, value: Any) -> Any:
            return await self._run(value)

    wf = Workflow("agents", limits={"model:openai/gpt-4o": 2, "agent": 10})
    wf.add_node("start", lambda x: "go")
    for i in range(6):
        wf.add_node(f"a{i}", FakeAgent("openai/gpt-4o", i)).add_edge("start", f"a{i}")
    wf.set_entry_point("start")
    await wf.execute(None)
    assert gauge.peak == 2


def test_keys_and_values_are_checked() -> None:
    limits = Limits({"agent": 1, "tag:gpu": 2, "model:openai/gpt-4o": 3, "human": 1})
    assert limits.keys_for("agent", ["gpu", "x"], "openai/gpt-4o") == (
        "agent",
        "model:openai/gpt-4o",
        "tag:gpu",
    )
    assert limits.keys_for("function", [], None) == ()
    with pytest.raises(ConfigurationError, match="unknown limit key 'gpu'"):
        Limits({"gpu": 1})
    with pytest.raises(ConfigurationError, match="whole number of slots"):
        Workflow("w", limits={"agent": 0})
    with pytest.raises(ConfigurationError, match="whole number of slots"):
        Limits({"agent": "60/minute"})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError, match="mapping"):
        Limits(["agent"])  # type: ignore[arg-type]


async def test_a_cancelled_wait_for_a_slot_gives_back_what_it_held() -> None:
    limits = Limits({"function": 1, "tag:a": 1})
    async with limits.hold(["function"]):
        with anyio.move_on_after(0.05):
            async with limits.hold(["function", "tag:a"]):
                raise AssertionError("never reached: the slot is taken")
    # Both slots are free again: a holder of both gets them at once.
    with anyio.fail_after(5):
        async with limits.hold(["function", "tag:a"]) as waited:
            assert set(waited) == {"function", "tag:a"}
