"""Framework overhead of one agent run: Gecko vs pydantic-ai, side by side in the same process.

Each run is one user message -> the model calls one tool -> the tool result goes
back -> the model answers. Both frameworks use their offline test model
(Gecko's ScriptedModel in automatic mode, pydantic-ai's TestModel: each calls
every offered tool once with schema-generated arguments, then answers), so the
model costs (almost) nothing and what is measured is the framework: message
handling, tool schema and argument validation, tool execution, usage
accounting, result assembly.

Rows: an async tool, and a sync tool (both frameworks run sync tools in a
worker thread). Runs are interleaved in rounds so machine noise hits both
sides alike. Also reported: ``python -X importtime`` of the agent class.

    hatch run bench:python benchmarks/agent_overhead.py [--iterations N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date

PROMPT = "What is 17 + 25?"


# --- the two setups ---------------------------------------------------------------------------


def gecko_runner(sync_tool: bool) -> Callable[[], Awaitable[object]]:
    from gecko import Agent
    from gecko.core.models.scripted import ScriptedModel

    if sync_tool:

        def add(a: int, b: int) -> int:
            """Add two integers."""
            return a + b

    else:

        async def add(a: int, b: int) -> int:  # type: ignore[misc]
            """Add two integers."""
            return a + b

    model = ScriptedModel()
    agent = Agent(model, tools=[add])

    async def run() -> object:
        output = await agent.run(PROMPT)
        if len(model.calls) > 1000:
            model.calls.clear()  # the scripted model records calls; keep memory flat
        return output

    return run


def pydantic_ai_runner(sync_tool: bool) -> Callable[[], Awaitable[object]]:
    from pydantic_ai import Agent
    from pydantic_ai.models.test import TestModel

    agent = Agent(TestModel())
    if sync_tool:

        @agent.tool_plain
        def add(a: int, b: int) -> int:
            """Add two integers."""
            return a + b

    else:

        @agent.tool_plain
        async def add(a: int, b: int) -> int:  # type: ignore[misc]
            """Add two integers."""
            return a + b

    async def run() -> object:
        return await agent.run(PROMPT)

    return run


def check_equivalent(gecko_output: object, pydantic_output: object) -> None:
    """Both runs made exactly one tool call and produced a final answer."""
    tool_calls = len(gecko_output.tool_calls)  # type: ignore[attr-defined]
    if tool_calls != 1 or gecko_output.stop_reason != "final":  # type: ignore[attr-defined]
        raise SystemExit(f"gecko run is not one tool call + answer: {gecko_output!r}")
    messages = pydantic_output.all_messages()  # type: ignore[attr-defined]
    parts = [p for m in messages for p in m.parts if type(p).__name__ == "ToolCallPart"]
    if len(parts) != 1:
        raise SystemExit(f"pydantic-ai run is not one tool call + answer: {messages!r}")


# --- measurement ---------------------------------------------------------------------------------


async def measure(
    runners: dict[str, Callable[[], Awaitable[object]]], iterations: int, rounds: int
) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in runners}
    per_round = max(1, iterations // rounds)
    for run in runners.values():  # warm-up: caches, lazy imports, schema building
        for _ in range(200):
            await run()
    for _ in range(rounds):
        for name, run in runners.items():
            gc.collect()
            bucket = samples[name]
            for _ in range(per_round):
                start = time.perf_counter_ns()
                await run()
                bucket.append((time.perf_counter_ns() - start) / 1000)
    return samples


def import_time(statement: str) -> float:
    """Milliseconds of ``statement`` under ``python -X importtime`` (sum of top-level imports)."""
    best = float("inf")
    for _ in range(5):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", statement],
            capture_output=True,
            text=True,
            check=True,
        )
        total = 0
        for line in result.stderr.splitlines():
            match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)\S", line)
            if match and match.group(2) == "":
                total += int(match.group(1))
        best = min(best, total / 1000)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--iterations", type=int, default=6000, help="timed runs per framework and row"
    )
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds")
    args = parser.parse_args()

    import pydantic_ai

    rows: list[tuple[str, dict[str, list[float]]]] = []
    for label, sync_tool in (("async tool", False), ("sync tool (thread)", True)):
        runners = {"gecko": gecko_runner(sync_tool), "pydantic-ai": pydantic_ai_runner(sync_tool)}

        async def verify(runners: dict[str, Callable[[], Awaitable[object]]] = runners) -> None:
            check_equivalent(await runners["gecko"](), await runners["pydantic-ai"]())

        asyncio.run(verify())
        rows.append((label, asyncio.run(measure(runners, args.iterations, args.rounds))))

    print(
        f"# agent overhead, {date.today()}, Python {platform.python_version()}, "
        f"{platform.machine()}, pydantic-ai {pydantic_ai.__version__}"
    )
    print(f"# {args.iterations} timed runs per cell in {args.rounds} interleaved rounds\n")
    print(
        "| one run: tool call + answer | Gecko median µs | Gecko mean µs "
        "| pydantic-ai median µs | pydantic-ai mean µs | Gecko / pydantic-ai (median) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for label, samples in rows:
        g, p = samples["gecko"], samples["pydantic-ai"]
        g_med, p_med = statistics.median(g), statistics.median(p)
        print(
            f"| {label} | {g_med:.0f} | {statistics.fmean(g):.0f} | {p_med:.0f} | "
            f"{statistics.fmean(p):.0f} | {g_med / p_med:.2f} |"
        )
    gecko_import = import_time("from gecko import Agent")
    pydantic_import = import_time("from pydantic_ai import Agent")
    print("\n| import (python -X importtime, best of 5) | ms |")
    print("|---|---:|")
    print(f"| `from gecko import Agent` | {gecko_import:.0f} |")
    print(f"| `from pydantic_ai import Agent` | {pydantic_import:.0f} |")


if __name__ == "__main__":
    main()
