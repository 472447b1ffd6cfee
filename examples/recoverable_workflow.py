"""Gecko 0.4's recoverable concurrent workflow: parallel layers, SQLite checkpoints, resume.

The run fails in its last step (a simulated outage); `resume` finishes it without running
the steps that had completed, and every node keeps one idempotency key across attempts.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from gecko.compose import CheckpointStrategy, Workflow, WorkflowContext, step

runs: Counter[str] = Counter()  # how many times each node really ran
outage = {"active": True}


@step("fetch")
async def fetch(order_id: str, ctx: WorkflowContext) -> dict:
    runs["fetch"] += 1
    ctx.state["order"] = order_id
    return {"order": order_id, "items": [19.5, 5.25, 12.0]}


@step("price")
async def price(order: dict) -> float:
    runs["price"] += 1
    return round(sum(order["items"]), 2)


@step("stock")
def stock(order: dict) -> str:  # a sync node: runs in a worker thread, in parallel with "price"
    runs["stock"] += 1
    return "all items in stock"


@step("invoice")
async def invoice(parts: dict, ctx: WorkflowContext) -> str:
    runs["invoice"] += 1
    if outage["active"]:
        raise ConnectionError("billing service unavailable")
    return f"invoice for {ctx.state['order']}: {parts['price']} EUR ({parts['stock']}; key {ctx.idempotency_key})"


async def main() -> None:
    async with Workflow(
        "orders", storage="sqlite:///./workflow.db", checkpoint_strategy=CheckpointStrategy.ALWAYS
    ) as wf:
        wf.add_node("fetch", fetch).add_node("price", price).add_node("stock", stock).add_node(
            "invoice", invoice
        )
        wf.add_edge("fetch", "price").add_edge("fetch", "stock")
        wf.add_edge("price", "invoice").add_edge("stock", "invoice").set_entry_point("fetch")
        print("layers:", wf.layers())

        run_id = f"order-1042-{uuid.uuid4().hex[:6]}"
        try:
            await wf.execute("order-1042", session_id=run_id)
        except Exception as error:
            print("first attempt failed:", error)

        outage["active"] = False
        run = await wf.resume(run_id, return_run=True)
        print("result:", run.output)
        print(
            "restored from checkpoint:",
            run.summary.nodes_resumed,
            "| run on resume:",
            run.summary.nodes_run,
        )
        print("real executions:", dict(runs))
        assert runs["fetch"] == runs["price"] == runs["stock"] == 1 and runs["invoice"] == 2


if __name__ == "__main__":
    asyncio.run(main())
