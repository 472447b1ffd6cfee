"""One of two processes racing on the same session ids (test_ownership.py starts both).

    python race_worker.py STORE_URL OUT_DIR ROUNDS MODE

MODE ``execute``: ``execute(session_id="race-<i>", wait=True)`` for every round, the
loser of a round getting RunExistsError once the winner's lease ends. MODE
``resume``: ``resume("race-<i>", wait=True)`` of runs the test prepared (failed at
``b2``). Every node appends ``<session> <node>`` to ``OUT_DIR/<pid>.log`` as its side
effect, so the test counts how often each node of each run ran, across both processes.
Both processes start together (each writes ``ready-<pid>`` and waits for two); after
that the loser of a round waits on the winner's lease, so every round is contended.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio

from gecko.compose import Workflow, WorkflowContext
from gecko.compose.errors import RunExistsError, RunInProgressError

FAIL = {"b2": False}  # the test process sets it to prepare failed runs for MODE resume


def build(url: str, log: Any) -> Workflow:
    def make(name: str):  # type: ignore[no-untyped-def]
        async def node(value: Any, ctx: WorkflowContext) -> str:
            if name == "b2" and FAIL["b2"]:
                raise RuntimeError("b2 fails while the runs are prepared")
            log.write(f"{ctx.run_id} {name}\n")
            log.flush()
            return name

        return node

    wf = Workflow("race", storage=url, lease_ttl=5.0)
    for name in ("a", "b1", "b2", "c"):
        wf.add_node(name, make(name))
    wf.add_edge("a", "b1").add_edge("a", "b2").add_edge("b1", "c").add_edge("b2", "c")
    return wf.set_entry_point("a")


async def start_together(out: Path) -> None:
    (out / f"ready-{os.getpid()}").write_text("", encoding="utf-8")
    while len(list(out.glob("ready-*"))) < 2:
        await anyio.sleep(0.001)


async def main(url: str, out: Path, rounds: int, mode: str) -> None:
    await start_together(out)
    with open(out / f"{os.getpid()}.log", "a", encoding="utf-8") as log:
        async with build(url, log) as wf:
            for i in range(rounds):
                session = f"race-{i}"
                try:
                    if mode == "execute":
                        await wf.execute(None, session_id=session, wait=True)
                    else:
                        await wf.resume(session, wait=True)
                except RunInProgressError:
                    raise  # wait=True never gets it
                except RunExistsError:
                    pass  # the other process won this round and finished it
    (out / f"{os.getpid()}.done").write_text("yes", encoding="utf-8")


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
