"""Durable before visible: a node's NodeCompleted event fires only once its completion is stored,
on a real SQLite file, for single nodes and for siblings of a layer that finish at different times.
And a run whose lease is lost is stopped, never continued by two owners.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from gecko.compose import Workflow
from gecko.compose.errors import LeaseLostError
from gecko.core.events import EventBus
from gecko.core.factories import create_storage
from gecko.core.storage.memory import MemoryStore

pytestmark = pytest.mark.anyio


def stored_nodes(checkpoints: list[Any]) -> set[str]:
    """Nodes whose completion the stored checkpoints hold (node entries, or merged steps)."""
    done: set[str] = set()
    for checkpoint in checkpoints:
        for entry in checkpoint.data["entries"]:
            if entry["kind"] == "node":
                done.add(entry["node"])
            elif entry["kind"] == "step":
                done.update(entry["nodes"])
    return done


async def test_every_completion_is_stored_before_it_is_announced(tmp_path: Path) -> None:
    async with await create_storage(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        bus = EventBus()
        announced: list[tuple[str, bool, int]] = []
        first_done = anyio.Event()

        async def on_completed(event: Any) -> None:
            stored = stored_nodes(await store.list_checkpoints("visible"))
            announced.append((event.node, event.node in stored, len(stored)))
            if event.node == "fast":
                first_done.set()

        bus.subscribe("workflow.node_completed", on_completed)

        async def slow(x: Any) -> str:
            await first_done.wait()  # finishes only after its sibling was announced
            return "slow"

        wf = Workflow("visible", storage=store, event_bus=bus)
        wf.add_node("start", lambda x: x).add_node("fast", lambda x: "fast")
        wf.add_node("slow", slow).add_node("end", lambda x: x)
        for source, target in (
            ("start", "fast"),
            ("start", "slow"),
            ("fast", "end"),
            ("slow", "end"),
        ):
            wf.add_edge(source, target)
        wf.set_entry_point("start")
        await wf.execute(None, session_id="visible")
    assert [(node, stored) for node, stored, _ in announced] == [
        ("start", True),  # a single node: its step's checkpoint came first
        ("fast", True),  # finished first: written alone, while its sibling still ran
        ("slow", True),  # finished last: written with the step
        ("end", True),
    ]
    assert announced[1][2] == 2  # when "fast" was announced, "slow" was not stored yet


async def test_a_run_that_loses_its_lease_is_stopped() -> None:
    store = MemoryStore()
    entered = anyio.Event()
    ran_after: list[str] = []

    async def waits(x: Any) -> str:
        entered.set()
        await anyio.sleep_forever()
        return "never"

    wf = Workflow("stolen", storage=store, lease_ttl=0.3)
    wf.add_node("waits", waits).add_node("after", lambda x: ran_after.append(x))
    wf.add_edge("waits", "after").set_entry_point("waits")

    async def steal() -> None:
        await entered.wait()
        lease = await store.get_lease("stolen-run")
        assert lease is not None
        assert await store.release_lease("stolen-run", lease.holder)  # as if it had expired
        assert (await store.acquire_lease("stolen-run", "intruder", 30.0)).holder == "intruder"

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(steal)
            with pytest.raises(LeaseLostError, match="lost its lease"):
                await wf.execute(None, session_id="stolen-run")
    assert ran_after == []
    history = await wf.history("stolen-run")
    assert history[-1].status == "running"  # nothing written over the new owner's run
    assert (await store.get_lease("stolen-run")).holder == "intruder"  # type: ignore[union-attr]


async def test_step_durability_stores_a_parallel_step_once_and_still_announces_after(
    tmp_path: Path,
) -> None:
    async with await create_storage(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        bus = EventBus()
        announced: list[tuple[str, bool]] = []
        fast_done = anyio.Event()

        async def on_completed(event: Any) -> None:
            stored = stored_nodes(await store.list_checkpoints("per-step"))
            announced.append((event.node, event.node in stored))

        bus.subscribe("workflow.node_completed", on_completed)

        def fast(x: Any) -> str:
            fast_done.set()
            return "fast"

        async def slow(x: Any) -> str:
            await fast_done.wait()
            return "slow"

        wf = Workflow("per-step", storage=store, event_bus=bus, durability="step")
        wf.add_node("start", lambda x: x).add_node("fast", fast)
        wf.add_node("slow", slow).add_node("end", lambda x: x)
        for source, target in (("start", "fast"), ("start", "slow"), ("fast", "end")):
            wf.add_edge(source, target)
        wf.add_edge("slow", "end")
        wf.set_entry_point("start")
        assert await wf.execute(None, session_id="per-step") == {"fast": "fast", "slow": "slow"}
        checkpoints = await store.list_checkpoints("per-step")
    kinds = [[entry["kind"] for entry in c.data["entries"]] for c in checkpoints]
    assert kinds[2] == ["node", "node", "step"]  # the parallel step: one write, both nodes
    assert all(stored for _, stored in announced)
    assert sorted(node for node, _ in announced) == ["end", "fast", "slow", "start"]
