"""Gecko's litellm adapter: per-call overhead over calling litellm directly, and rate-limited throughput.

Part 1 - overhead. The same request is sent through ``litellm.acompletion`` directly
(the baseline: per-call key and base URL, litellm's retries off) and through
``LiteLLMChatModel`` (message translation, options, retry wrapper, rate-limiter
lookup, timeout scope, response translation into Gecko's types), against the same
local OpenAI-compatible server, which runs in a separate process so its work
does not share the client's interpreter. Calls are interleaved in rounds so machine
noise hits both sides alike. Rows: a plain answer, an answer with two tool calls
(two tools offered), a streamed answer. Goal: under 10% overhead.

Part 2 - throughput. Fifty concurrent agents (real ``Agent.run`` on litellm models)
share one rate limiter of 20 requests per second; the server records when each
request arrives. Reported: the configured rate, the mean rate achieved (requests / wall
time) and the most requests the server saw in any one-second window, next to the same
agents unthrottled.

    hatch run bench:python benchmarks/model_overhead.py [--calls N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, table

API_KEY = "sk-bench-0000"
MODEL = "openai/gpt-4o-mini"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"The {name} of a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
    for name in ("weather", "time")
]


# --- the server, in its own process ------------------------------------------------------


def serve() -> None:
    """Child process: run the stub server until stdin closes; report the port, then arrivals."""
    from gecko.models.litellm.testing import StubServer

    server = StubServer()
    with server.running_in_thread():
        print(json.dumps({"port": server.port}), flush=True)
        for line in sys.stdin:
            if line.strip() == "arrivals":
                times = [r.received_at for r in server.chat_requests]
                server.requests.clear()
                print(json.dumps({"arrivals": times}), flush=True)
            elif line.strip() == "quit":
                break


class ServerProcess:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = json.loads(self.proc.stdout.readline())["port"]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def arrivals(self) -> list[float]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("arrivals\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())["arrivals"]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=30)


# --- part 1: per-call overhead -----------------------------------------------------------------


Call = Callable[[], Awaitable[Any]]


def callers(base_url: str, case: str) -> tuple[Call, Call]:
    import litellm

    from gecko.core.message import Message
    from gecko.models.litellm.chat import LiteLLMChatModel

    model = LiteLLMChatModel(MODEL, api_key=API_KEY, base_url=base_url)
    text = (
        "What is the weather like in Paris today?"
        if case != "tools"
        else "Weather and time in Paris?"
    )
    gecko_messages = [Message.system("You are terse."), Message.user(text)]
    raw_messages = [m.to_openai_format() for m in gecko_messages]
    tools = TOOLS if case == "tools" else None
    direct_kwargs: dict[str, Any] = {
        "model": MODEL,
        "messages": raw_messages,
        "api_key": API_KEY,
        "api_base": base_url,
        "num_retries": 0,
        "max_retries": 0,
        "timeout": 60,
    }
    if tools:
        direct_kwargs["tools"] = tools

    if case == "stream":

        async def direct() -> Any:
            stream = await litellm.acompletion(
                **direct_kwargs, stream=True, stream_options={"include_usage": True}
            )
            return [chunk async for chunk in stream]

        async def gecko() -> Any:
            return [chunk async for chunk in model.astream(gecko_messages)]

    else:

        async def direct() -> Any:
            return await litellm.acompletion(**direct_kwargs)

        async def gecko() -> Any:
            return await model.acompletion(gecko_messages, tools=tools)

    return direct, gecko


async def measure(call: Call, count: int) -> list[tuple[float, float]]:
    """(wall, client CPU) seconds of ``count`` calls."""
    samples = []
    for _ in range(count):
        wall, cpu = time.perf_counter(), time.process_time()
        await call()
        samples.append((time.perf_counter() - wall, time.process_time() - cpu))
    return samples


async def overhead(base_url: str, calls: int, rounds: int) -> list[list[object]]:
    """Medians of wall latency and of client CPU per call; the two sides alternate in rounds."""
    rows: list[list[object]] = []
    per_round = max(1, calls // rounds)
    cases = (
        ("plain", "plain answer"),
        ("tools", "2 tools, 2 tool calls"),
        ("stream", "streamed answer"),
    )
    for case, label in cases:
        direct, gecko = callers(base_url, case)
        await measure(direct, 20)  # warm-up: clients, caches, lazy imports
        await measure(gecko, 20)
        sides: dict[str, list[tuple[float, float]]] = {"direct": [], "gecko": []}
        for i in range(rounds):
            order = (("direct", direct), ("gecko", gecko))
            for name, call in order if i % 2 == 0 else reversed(order):
                sides[name] += await measure(call, per_round)
        d_wall, d_cpu = (statistics.median(x) * 1000 for x in zip(*sides["direct"]))
        g_wall, g_cpu = (statistics.median(x) * 1000 for x in zip(*sides["gecko"]))
        rows.append(
            [
                label,
                round(d_wall, 2),
                round(g_wall, 2),
                f"{(g_wall - d_wall) / d_wall * 100:+.1f}%",
                round(d_cpu, 2),
                round(g_cpu, 2),
                f"{(g_cpu - d_cpu) / d_cpu * 100:+.1f}%",
            ]
        )
    return rows


# --- part 2: fifty agents through the shared rate limiter --------------------------------------


async def throughput(
    server: ServerProcess, *, agents: int, runs: int, per_second: int | None
) -> list[object]:
    from gecko.core.agent import AgentBuilder
    from gecko.models.litellm.ratelimit import RateLimiter, clear_rate_limits, set_rate_limit

    clear_rate_limits()
    limiter = None
    if per_second is not None:
        limiter = RateLimiter(requests=per_second, period=1.0, name="bench")
        set_rate_limit(MODEL, limiter=limiter)
    team = [
        AgentBuilder().with_model(MODEL, api_key=API_KEY, base_url=server.base_url).build()
        for _ in range(agents)
    ]
    await team[0].run("warm up")
    server.arrivals()

    async def member(index: int) -> None:
        for run in range(runs):
            await team[index].run(f"agent {index}, question {run}")

    start = time.perf_counter()
    await asyncio.gather(*(member(i) for i in range(agents)))
    elapsed = time.perf_counter() - start
    arrivals = sorted(server.arrivals())
    clear_rate_limits()
    total = len(arrivals)
    peak = max(sum(1 for t in arrivals[i:] if t < s + 1.0) for i, s in enumerate(arrivals))
    configured = f"{per_second}/s ({per_second * 60}/min)" if per_second else "none"
    return [configured, total, round(elapsed, 2), f"{total / elapsed:.1f}/s", peak]


# --- main ---------------------------------------------------------------------------------------


async def main(calls: int, rounds: int) -> None:
    from gecko.models.litellm.runtime import load_litellm

    await load_litellm()
    import litellm

    server = ServerProcess()
    try:
        rows = await overhead(server.base_url, calls, rounds)
        limited = await throughput(server, agents=50, runs=3, per_second=20)
        unlimited = await throughput(server, agents=50, runs=3, per_second=None)
    finally:
        server.close()

    print(
        f"\n{machine()}, litellm {litellm.__version__ if hasattr(litellm, '__version__') else _version()}"
    )
    print(f"\nPer call, median of {calls} calls each (server in another process):\n")
    print(
        table(
            [
                "request",
                "litellm wall (ms)",
                "Gecko wall (ms)",
                "wall overhead",
                "litellm CPU (ms)",
                "Gecko CPU (ms)",
                "CPU overhead",
            ],
            rows,
        )
    )
    print(
        "\n50 concurrent agents x 3 runs (one model call each) through the shared rate limiter:\n"
    )
    print(
        table(
            [
                "rate limit",
                "requests",
                "wall time (s)",
                "mean rate (requests / wall time)",
                "max requests in any 1 s",
            ],
            [limited, unlimited],
        )
    )


def _version() -> str:
    from importlib.metadata import version

    return version("litellm")


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve()
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="timed calls per side and row")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds")
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.rounds))
