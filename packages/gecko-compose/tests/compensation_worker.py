"""A worker for test_compensation.py: a booking that fails and is undone, node by node.

    python compensation_worker.py STORE_URL OUT_DIR MODE

reserve -> charge -> ship; ship always fails; charge is undone by refund, reserve by
release. Each node and compensation appends a line to OUT_DIR/<name>.log. MODE ``hang``
makes ``release`` hang after logging (the test kills the process there); ``run`` does not.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from gecko.compose import Workflow, WorkflowContext


class OutOfStock(Exception):
    pass


def build(url: str, out: Path, mode: str = "run") -> Workflow:
    def log(name: str, line: str) -> None:
        with (out / f"{name}.log").open("a") as file:
            file.write(line + "\n")

    def reserve(order: str) -> str:
        log("reserve", order)
        return f"reservation:{order}"

    def charge(reservation: str) -> str:
        log("charge", reservation)
        return f"payment:{reservation}"

    def ship(payment: str) -> None:
        log("ship", payment)
        raise OutOfStock("nothing left to ship")

    async def refund(payment: str, ctx: WorkflowContext) -> str:
        log("refund", f"{payment} because {type(ctx.error).__name__}: {ctx.error}")
        return "refunded"

    async def release(reservation: str, ctx: WorkflowContext) -> str:
        log("release", reservation)
        if mode == "hang":
            (out / "hanging").touch()
            await asyncio.Event().wait()
        return "released"

    wf = Workflow("booking", storage=url, lease_ttl=2.0)
    wf.add_node("reserve", reserve, compensate="release")
    wf.add_node("charge", charge, compensate="refund")
    wf.add_node("ship", ship).add_node("refund", refund).add_node("release", release)
    wf.add_edge("reserve", "charge").add_edge("charge", "ship").set_entry_point("reserve")
    return wf


async def main(url: str, out: Path, mode: str) -> Any:
    async with build(url, out, mode) as wf:
        try:
            await wf.execute("order-1", session_id="booking")
        except Exception as error:
            (out / "outcome").write_text(type(error).__name__)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), sys.argv[3]))
