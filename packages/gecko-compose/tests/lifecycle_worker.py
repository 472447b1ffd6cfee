"""A worker process for test_lifecycle.py: runs a 4-node chain whose nodes log their start.

    python lifecycle_worker.py STORE_URL OUT_DIR SESSION_ID GATE

Each node appends its name to OUT_DIR/<node>.log when it starts. Node n1 is the gate:
``block`` waits until it is cancelled; ``request`` waits until this process's owner of
the run has received a cancel or suspend request (so the test knows the request arrived
before n1 ends); ``open`` does not wait. The run's outcome (completed, cancelled,
suspended) is written to OUT_DIR/outcome.
"""

from __future__ import annotations

import asyncio
import sys
from itertools import pairwise
from pathlib import Path
from typing import Any

from gecko.compose import Workflow, WorkflowContext
from gecko.compose.errors import RunCancelledError, RunSuspended

NODES = ("n0", "n1", "n2", "n3")


def build(url: str, out: Path, gate: str = "open") -> Workflow:
    def node(name: str) -> Any:
        async def run(value: int, ctx: WorkflowContext) -> int:
            with (out / f"{name}.log").open("a") as log:
                log.write(name + "\n")
            if name == "n1" and gate == "block":
                await asyncio.Event().wait()
            if name == "n1" and gate == "request":
                while not requested(ctx.run_id):
                    await asyncio.sleep(0.01)
            return value + 1

        return run

    wf = Workflow("lifecycle", storage=url, lease_ttl=3.0, event_log=1000)
    for name in NODES:
        wf.add_node(name, node(name))
    for a, b in pairwise(NODES):
        wf.add_edge(a, b)
    wf.set_entry_point(NODES[0])
    return wf


def requested(run_id: str) -> bool:
    """Whether the owner of ``run_id`` in this process has a request (engine internals)."""
    from gecko.compose.workflow.local import _RUNNING

    run = _RUNNING.get(run_id)
    return run is not None and run._requested is not None


async def main(url: str, out: Path, session_id: str, gate: str) -> None:
    async with build(url, out, gate) as wf:
        try:
            result = await wf.execute(0, session_id=session_id)
        except RunCancelledError:
            outcome = "cancelled"
        except RunSuspended:
            outcome = "suspended"
        else:
            outcome = f"completed {result}"
    (out / "outcome").write_text(outcome)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]))
