"""Postgres: Gecko's postgresql:// store side by side with raw psycopg and LangGraph, in one run.

    POSTGRES_URL=postgresql://... hatch run bench:python benchmarks/postgres_bench.py

All on the same server (POSTGRES_URL; else a pgserver started here if the wheel is
installed), each side in its own schema:

- **Checkpoint every step**: a chain of N no-op nodes run by ``Workflow`` with the
  ``postgresql://`` store (a durable checkpoint after every step) against the same graph in
  LangGraph with ``AsyncPostgresSaver`` from langgraph-checkpoint-postgres (durability
  "sync": each checkpoint stored before the next step). Per-step time = wall time / N.
  Goal: Gecko at least 5x faster per step.
- **Session set/get**: 2 KB JSON documents, one task awaiting each operation in turn,
  Gecko's ``set``/``get`` against raw psycopg on one ``AsyncConnection`` in autocommit
  running the same upsert/select into the same table layout (and the same JSON encoding).
  Goal: Gecko at least 0.8x raw throughput.

Each figure is the median of ROUNDS interleaved rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from itertools import pairwise
from pathlib import Path
from typing import Any, TypedDict

from common import machine, ratio, table

ROUNDS = 3
SINGLE = 2000
CHAIN = (20, 100)
VALUE = {"id": 0, "kind": "session", "text": "x" * 1950, "turns": [1, 2, 3]}


def server_url() -> str:
    url = os.environ.get("POSTGRES_URL")
    if url:
        return url
    try:
        import pgserver  # type: ignore[import-untyped]
    except ImportError:
        sys.exit("set POSTGRES_URL (or install pgserver) to run this benchmark")
    root = Path(tempfile.mkdtemp(prefix="gecko-pg-bench-", dir="/tmp"))
    root.chmod(0o755)
    return str(pgserver.get_server(root / "data", cleanup_mode="delete").get_uri())


async def median_rate(cases: dict[str, Callable[[int], Awaitable[float]]]) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for r in range(ROUNDS):
        for name, timed in cases.items():
            samples[name].append(await timed(r))
    return {name: statistics.median(values) for name, values in samples.items()}


# --- sessions ------------------------------------------------------------------------------


async def sessions(url: str) -> list[list[object]]:
    import psycopg

    from gecko.core.factories import create_storage

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    store = await create_storage(url, schema=schema)
    raw = await psycopg.AsyncConnection.connect(url, autocommit=True)
    await raw.execute(
        f'CREATE TABLE {schema}.raw_kv (key text COLLATE "C" PRIMARY KEY, value jsonb, '
        "raw text, expires_at double precision)"
    )
    upsert = (
        f"INSERT INTO {schema}.raw_kv (key, value, raw, expires_at) VALUES (%s, %s::jsonb, NULL, NULL) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"
    )
    select = f"SELECT value FROM {schema}.raw_kv WHERE key = %s"

    async def gecko_set(r: int) -> float:
        start = time.perf_counter()
        for i in range(SINGLE):
            await store.set(f"r{r}:k{i}", VALUE)
        return SINGLE / (time.perf_counter() - start)

    async def gecko_get(r: int) -> float:
        start = time.perf_counter()
        for i in range(SINGLE):
            assert await store.get(f"r{r}:k{i}") is not None
        return SINGLE / (time.perf_counter() - start)

    async def raw_set(r: int) -> float:
        start = time.perf_counter()
        for i in range(SINGLE):
            await raw.execute(upsert, (f"r{r}:k{i}", json.dumps(VALUE)))
        return SINGLE / (time.perf_counter() - start)

    async def raw_get(r: int) -> float:
        start = time.perf_counter()
        for i in range(SINGLE):
            cursor = await raw.execute(select, (f"r{r}:k{i}",))
            assert (await cursor.fetchone()) is not None
        return SINGLE / (time.perf_counter() - start)

    try:
        rates = await median_rate(
            {"gecko_set": gecko_set, "raw_set": raw_set, "gecko_get": gecko_get, "raw_get": raw_get}
        )
    finally:
        await raw.execute(f"DROP SCHEMA {schema} CASCADE")
        await raw.close()
        await store.close()
    return [
        [
            "set (awaited)",
            rates["gecko_set"],
            rates["raw_set"],
            ratio(rates["gecko_set"], rates["raw_set"]),
        ],
        [
            "get (awaited)",
            rates["gecko_get"],
            rates["raw_get"],
            ratio(rates["gecko_get"], rates["raw_get"]),
        ],
    ]


# --- checkpoint every step -----------------------------------------------------------------


class LGState(TypedDict, total=False):
    value: int


async def noop(x: Any) -> None:
    return None


async def lg_noop(state: LGState) -> None:
    return None


def gecko_chain(n: int, store: Any) -> Callable[[], Awaitable[Any]]:
    from gecko.compose import Workflow

    try:
        wf = Workflow("bench", storage=store, max_steps=100_000, durability="sync")
    except TypeError:  # an engine without the durability option checkpoints every step
        wf = Workflow("bench", storage=store, max_steps=100_000)
    names = [f"n{i}" for i in range(n)]
    for name in names:
        wf.add_node(name, noop)
    for a, b in pairwise(names):
        wf.add_edge(a, b)
    wf.set_entry_point(names[0])

    async def run() -> Any:
        return await wf.execute(None)

    return run


def langgraph_chain(n: int, saver: Any) -> Callable[[], Awaitable[Any]]:
    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(LGState)
    names = [f"n{i}" for i in range(n)]
    for name in names:
        graph.add_node(name, lg_noop)
    graph.add_edge(START, names[0])
    for a, b in pairwise(names):
        graph.add_edge(a, b)
    graph.add_edge(names[-1], END)
    app = graph.compile(checkpointer=saver)

    async def run() -> Any:
        config: dict[str, Any] = {
            "recursion_limit": 100_000,
            "configurable": {"thread_id": uuid.uuid4().hex},
        }
        return await app.ainvoke({"value": 0}, config, durability="sync")

    return run


async def checkpoints(url: str, repeat: int) -> list[list[object]]:
    import psycopg
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg.rows import dict_row

    from gecko.core.factories import create_storage

    gecko_schema = f"bench_{uuid.uuid4().hex[:8]}"
    lg_schema = f"bench_lg_{uuid.uuid4().hex[:8]}"
    admin = await psycopg.AsyncConnection.connect(url, autocommit=True)
    await admin.execute(f"CREATE SCHEMA {lg_schema}")
    store = await create_storage(url, schema=gecko_schema)
    lg_url = url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{lg_schema}"
    lg_conn = await psycopg.AsyncConnection.connect(
        lg_url, autocommit=True, prepare_threshold=0, row_factory=dict_row
    )
    saver = AsyncPostgresSaver(lg_conn)
    await saver.setup()
    rows = []
    try:
        for n in CHAIN:
            runners = {"gecko": gecko_chain(n, store), "langgraph": langgraph_chain(n, saver)}
            samples: dict[str, list[float]] = {name: [] for name in runners}
            for run in runners.values():
                await run()  # warm-up
            for _ in range(repeat):
                for name, run in runners.items():
                    start = time.perf_counter()
                    await run()
                    samples[name].append(time.perf_counter() - start)
            gecko = statistics.median(samples["gecko"]) / n * 1000
            lg = statistics.median(samples["langgraph"]) / n * 1000
            rows.append([f"chain of {n}", gecko, lg, f"{lg / gecko:.1f}x"])
            print(f"  measured chain {n}", file=sys.stderr, flush=True)
    finally:
        await lg_conn.close()
        await store.close()
        await admin.execute(f"DROP SCHEMA {gecko_schema} CASCADE")
        await admin.execute(f"DROP SCHEMA {lg_schema} CASCADE")
        await admin.close()
    return rows


async def run(repeat: int) -> str:
    url = server_url()
    check = await checkpoints(url, repeat)
    kv = await sessions(url)
    return "\n".join(
        [
            f"Machine: {machine()}; Postgres from POSTGRES_URL or pgserver, Unix socket.",
            "",
            "Checkpoint every step (ms per step, median of runs; LangGraph durability=sync):",
            "",
            table(
                [
                    "graph",
                    "Gecko ms/step",
                    "LangGraph+AsyncPostgresSaver ms/step",
                    "Gecko faster by",
                ],
                check,
            ),
            "",
            f"Sessions: 2 KB JSON documents, {SINGLE} awaited operations, median of {ROUNDS} rounds (ops/s):",
            "",
            table(["operation", "Gecko ops/s", "raw psycopg ops/s", "Gecko / raw"], kv),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    report = asyncio.run(run(args.repeat))
    print()
    print(report)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
