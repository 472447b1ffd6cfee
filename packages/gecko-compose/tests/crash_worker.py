"""A workflow run in a subprocess that test_crash_resume.py kills with SIGKILL.

    python crash_worker.py STORE_URL OUT_DIR MODE [DURABILITY [LEASE_TTL]]

MODE is ``between:<node>`` (killed after the previous step's checkpoint, before
``<node>`` starts), ``inside:<node>`` (killed while ``<node>`` runs) or ``event:<node>``
(killed inside a handler of ``<node>``'s NodeCompleted event). Every node
appends ``<node> <idempotency key>`` to ``OUT_DIR/<node>.log`` as its side effect.
The test process builds the same workflow with ``build(url, out, None)`` to resume
(with ``wait=True``: the killed worker's lease, ``LEASE_TTL`` seconds, must expire first).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import anyio

from gecko.compose import Workflow, WorkflowContext
from gecko.core.events import EventBus

RUN_ID = "crash-run"
LEASE_TTL = 0.5


def side_effect(out: Path, name: str, key: str) -> None:
    with open(out / f"{name}.log", "a", encoding="utf-8") as log:
        log.write(f"{name} {key}\n")
        log.flush()
        os.fsync(log.fileno())


def build(
    url: str,
    out: Path,
    mode: str | None,
    durability: str = "sync",
    lease_ttl: float = LEASE_TTL,
) -> Workflow:
    bus = EventBus()
    c1_recorded = anyio.Event()

    def ready(name: str) -> None:
        (out / "ready").write_text(name, encoding="utf-8")

    def announced(event: Any) -> None:  # what the run acknowledged, before any kill point
        side_effect(out, "announced", event.node)

    bus.subscribe("workflow.node_completed", announced)

    if mode is not None and mode.startswith("between:"):
        target = mode.split(":", 1)[1]

        def block_before(event: Any) -> None:
            if event.node == target:
                ready(target)
                time.sleep(3600)  # blocks the whole process: killed here, between nodes

        bus.subscribe("workflow.node_started", block_before)

    if mode is not None and mode.startswith("event:"):
        announced = mode.split(":", 1)[1]

        def block_in_handler(event: Any) -> None:
            if event.node == announced:
                ready(announced)
                time.sleep(3600)  # killed inside the event handler

        bus.subscribe("workflow.node_completed", block_in_handler)

    def on_completed(event: Any) -> None:
        if event.node == "c1":  # published after c1's completion checkpoint is written
            c1_recorded.set()

    bus.subscribe("workflow.node_completed", on_completed)

    def make(name: str):  # type: ignore[no-untyped-def]
        async def node(items: Any, ctx: WorkflowContext) -> list[str]:
            side_effect(out, name, ctx.idempotency_key)
            if mode == f"inside:{name}":
                if name == "c2":
                    await c1_recorded.wait()
                ready(name)
                await anyio.sleep_forever()
            ctx.state[name] = ctx.idempotency_key
            if isinstance(items, dict):  # the join: merge both branches
                return [*sorted({x for branch in items.values() for x in branch}), name]
            return [*items, name]

        return node

    wf = Workflow("crashy", storage=url, event_bus=bus, durability=durability, lease_ttl=lease_ttl)
    for name in ("a", "b", "c1", "c2", "d"):
        wf.add_node(name, make(name))
    wf.add_edge("a", "b").add_edge("b", "c1").add_edge("b", "c2").add_edge("c1", "d").add_edge(
        "c2", "d"
    )
    return wf.set_entry_point("a")


async def main(url: str, out: Path, mode: str, durability: str, lease_ttl: float) -> None:
    async with build(url, out, mode, durability, lease_ttl) as wf:
        await wf.execute([], session_id=RUN_ID)
    (out / "finished").write_text("yes", encoding="utf-8")  # the test fails if we get here


if __name__ == "__main__":
    anyio.run(
        main,
        sys.argv[1],
        Path(sys.argv[2]),
        sys.argv[3],
        sys.argv[4] if len(sys.argv) > 4 else "sync",
        float(sys.argv[5]) if len(sys.argv) > 5 else LEASE_TTL,
    )
