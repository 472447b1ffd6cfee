"""MCP overhead: a tool call through Gecko vs the SDK's raw ``ClientSession.call_tool``, side by side.

Both sides talk to the same server process (``_mcp_bench_server.py``, the SDK's
MCPServer over stdio) over the same connection: the baseline calls the SDK
``ClientSession`` that Gecko's ``MCPServer`` holds (``server.session``) directly.
Sides take turns call by call, in rounds, so machine noise hits them alike. Rows:

- one ``echo`` call: raw ``session.call_tool`` / Gecko ``MCPTool.execute`` /
  Gecko ``ToolBox.execute`` (what an agent runs: lookup, span, timeout, result);
- listing a 100-tool server: raw ``session.list_tools()`` / Gecko
  ``server.tools(refresh=True)`` (listing plus wrapping every tool).

The goal for a call through Gecko is at most 1.1x the raw call plus 50 µs.

    hatch run bench:python benchmarks/mcp_bench.py [--iterations N] [--rounds R]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
from common import machine, table

SERVER = str(Path(__file__).with_name("_mcp_bench_server.py"))
Runner = Callable[[], Awaitable[object]]


async def gecko_server(stack: AsyncExitStack, tools: int) -> Any:
    from gecko.mcp import MCPServer

    return await stack.enter_async_context(MCPServer.stdio([sys.executable, SERVER, str(tools)]))


async def measure(runners: dict[str, Runner], iterations: int, rounds: int) -> dict[str, float]:
    """Median µs per runner: the median of each round's median.

    Within a round the runners take turns call by call, so a burst of machine
    noise lands on every side alike.
    """
    per_round = max(1, iterations // rounds)
    medians: dict[str, list[float]] = {name: [] for name in runners}
    for run in runners.values():  # warm-up
        for _ in range(min(200, per_round)):
            await run()
    for _ in range(rounds):
        gc.collect()
        samples: dict[str, list[float]] = {name: [] for name in runners}
        for _ in range(per_round):
            for name, run in runners.items():
                start = time.perf_counter_ns()
                await run()
                samples[name].append((time.perf_counter_ns() - start) / 1000)
        for name, values in samples.items():
            medians[name].append(statistics.median(values))
    return {name: statistics.median(values) for name, values in medians.items()}


async def call_rows(iterations: int, rounds: int) -> dict[str, float]:
    from gecko.core.message import ToolCall
    from gecko.core.tools import ToolBox

    async with AsyncExitStack() as stack:
        server = await gecko_server(stack, 0)
        session = server.session
        [tool] = [t for t in await server.tools() if t.name == "echo"]
        box = ToolBox([tool])
        call = ToolCall(name="echo", arguments={"text": "hello"})
        raw = await session.call_tool("echo", {"text": "hello"})
        gecko = await tool.execute({"text": "hello"})
        boxed = await box.execute(call)
        if (
            raw.structured_content != {"result": gecko}
            or boxed.content != "hello"
            or boxed.is_error
        ):
            raise SystemExit(f"the two sides differ: {raw!r} / {gecko!r} / {boxed!r}")

        async def raw_call() -> object:
            return await session.call_tool("echo", {"text": "hello"})

        async def gecko_call() -> object:
            return await tool.execute({"text": "hello"})

        async def toolbox_call() -> object:
            return await box.execute(call)

        return await measure(
            {"raw": raw_call, "gecko": gecko_call, "toolbox": toolbox_call}, iterations, rounds
        )


async def listing_rows(iterations: int, rounds: int) -> dict[str, float]:
    async with AsyncExitStack() as stack:
        server = await gecko_server(stack, 100)
        session = server.session
        raw = await session.list_tools()
        wrapped = await server.tools(refresh=True)
        if len(raw.tools) != 101 or len(wrapped) != 101:
            raise SystemExit(f"expected 101 tools, got {len(raw.tools)} / {len(wrapped)}")

        async def raw_list() -> object:
            return await session.list_tools()

        async def gecko_list() -> object:
            return await server.tools(refresh=True)

        return await measure({"raw": raw_list, "gecko": gecko_list}, iterations, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3000, help="timed calls per side")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds")
    args = parser.parse_args()

    from importlib.metadata import version

    calls = anyio.run(call_rows, args.iterations, args.rounds)
    listing = anyio.run(listing_rows, max(10, args.iterations // 20), args.rounds)
    print(f"# MCP overhead, {machine()}, mcp {version('mcp')}")
    print(
        f"# medians of {args.rounds} interleaved rounds (µs); stdio, one server process and connection\n"
    )
    raw, budget = calls["raw"], calls["raw"] * 1.1 + 50
    rows: list[list[object]] = [
        ["echo call: SDK ClientSession.call_tool", raw, "1.00x", "-", "baseline"],
        [
            "echo call: Gecko MCPTool.execute",
            calls["gecko"],
            f"{calls['gecko'] / raw:.2f}x",
            f"{calls['gecko'] - raw:+.0f}",
            "met" if calls["gecko"] <= budget else "MISSED",
        ],
        [
            "echo call: Gecko ToolBox.execute",
            calls["toolbox"],
            f"{calls['toolbox'] / raw:.2f}x",
            f"{calls['toolbox'] - raw:+.0f}",
            "met" if calls["toolbox"] <= budget else "MISSED",
        ],
        ["list 101 tools: SDK ClientSession.list_tools", listing["raw"], "1.00x", "-", "baseline"],
        [
            "list + wrap 101 tools: Gecko server.tools(refresh=True)",
            listing["gecko"],
            f"{listing['gecko'] / listing['raw']:.2f}x",
            f"{listing['gecko'] - listing['raw']:+.0f}",
            "-",
        ],
    ]
    print(table(["case", "median µs", "vs SDK", "µs added", "goal ≤ 1.1x + 50 µs"], rows))


if __name__ == "__main__":
    main()
