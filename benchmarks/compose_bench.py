"""Workflow engine overhead: Gecko vs plain asyncio vs LangGraph, with and without SQLite checkpoints.

    hatch run bench:python benchmarks/compose_bench.py [--repeat N]

Two topologies of no-op async nodes, at 50, 200 and 500 nodes:

- ``chain``: n nodes in a line (one node per step);
- ``layered``: a root, then n/10 layers of 10 nodes, every node depending on all
  10 nodes of the previous layer (10 concurrent nodes per step, joins everywhere).

Implementations, all in this one process and run:

- ``asyncio``: the same topology by hand, each step one ``asyncio.gather`` over its
  nodes (the floor any engine is compared with);
- ``Gecko``: ``Workflow`` without storage;
- ``LangGraph``: ``StateGraph`` compiled without a checkpointer;
- ``Gecko+sqlite``: ``Workflow(storage="sqlite:///...")``, CheckpointStrategy.ALWAYS
  (a checkpoint after every step, and as each node of a parallel step finishes);
- ``LangGraph+sqlite``: the same graph with ``AsyncSqliteSaver`` (a checkpoint per
  superstep plus pending writes per task).

Both checkpointed variants run twice: ``durability="sync"`` (each checkpoint is
stored before the next step starts) and ``durability="async"`` (checkpoints are
written in the background while the run goes on; LangGraph's default).

"Durable per node vs per layer": the layered topology on SQLite with Gecko's
``durability="sync"`` (each node of a parallel step stored as it finishes) against
``durability="step"`` (the layer's nodes stored together when it ends), with the
nodes of a layer finishing together (no-op) or one after another (node k of a layer
sleeps k x 0.2 ms), and LangGraph + AsyncSqliteSaver (a pending write per task) beside them.

Each figure is the median wall time of ``--repeat`` runs after one warm-up run; the
implementations take turns, and the garbage collector is paused inside timed runs (as
``timeit`` does).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from itertools import pairwise
from pathlib import Path
from typing import Any, TypedDict

from common import machine, table

SIZES = (50, 200, 500)
WIDTH = 10
TOPOLOGIES = ("chain", "layered")


# --- topologies -------------------------------------------------------------------------------


def chain_nodes(n: int) -> tuple[list[str], list[tuple[str, str]], str]:
    names = [f"n{i}" for i in range(n)]
    return names, list(pairwise(names)), names[0]


def layered_nodes(n: int) -> tuple[list[str], list[tuple[str, str]], str]:
    layers = [[f"l{k}_{j}" for j in range(WIDTH)] for k in range(n // WIDTH)]
    names = ["root", *[name for layer in layers for name in layer]]
    edges = [("root", name) for name in layers[0]]
    for before, after in pairwise(layers):
        edges += [(a, b) for a in before for b in after]
    return names, edges, "root"


def steps_of(names: list[str], edges: list[tuple[str, str]], entry: str) -> list[list[str]]:
    preds: dict[str, set[str]] = {name: set() for name in names}
    for a, b in edges:
        preds[b].add(a)
    done: set[str] = set()
    steps = []
    layer = [entry]
    while layer:
        steps.append(layer)
        done.update(layer)
        layer = [n for n in names if n not in done and preds[n] and preds[n] <= done]
    return steps


TOPOLOGY = {"chain": chain_nodes, "layered": layered_nodes}


# --- implementations --------------------------------------------------------------------------


async def noop(x: Any) -> None:
    return None


def asyncio_runner(
    names: list[str], edges: list[tuple[str, str]], entry: str
) -> Callable[[], Awaitable[Any]]:
    steps = steps_of(names, edges, entry)

    async def run() -> Any:
        outputs: Any = None
        for step in steps:
            results = await asyncio.gather(*(noop(outputs) for _ in step))
            outputs = dict(zip(step, results))
        return outputs

    return run


def gecko_runner(
    names: list[str],
    edges: list[tuple[str, str]],
    entry: str,
    storage: Any = None,
    durability: str = "sync",
    node: Callable[[str], Callable[[Any], Awaitable[Any]]] = lambda name: noop,
) -> Callable[[], Awaitable[Any]]:
    from gecko.compose import Workflow

    wf = Workflow("bench", storage=storage, max_steps=100_000, durability=durability)
    for name in names:
        wf.add_node(name, node(name))
    for a, b in edges:
        wf.add_edge(a, b)
    wf.set_entry_point(entry)

    async def run() -> Any:
        return await wf.execute(None)  # a new run id (uuid4) every time

    return run


class LGState(TypedDict, total=False):
    value: int


async def lg_noop(state: LGState) -> None:
    return None


def langgraph_runner(
    names: list[str],
    edges: list[tuple[str, str]],
    entry: str,
    checkpointer: Any = None,
    durability: str = "sync",
    node: Callable[[str], Callable[[Any], Awaitable[Any]]] = lambda name: lg_noop,
) -> Callable[[], Awaitable[Any]]:
    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(LGState)
    for name in names:
        graph.add_node(name, node(name))
    graph.add_edge(START, entry)
    sources = {a for a, _ in edges}
    for a, b in edges:
        graph.add_edge(a, b)
    for name in names:
        if name not in sources:
            graph.add_edge(name, END)
    app = graph.compile(checkpointer=checkpointer)

    async def run() -> Any:
        config: dict[str, Any] = {"recursion_limit": 100_000}
        if checkpointer is None:
            return await app.ainvoke({"value": 0}, config)
        config["configurable"] = {"thread_id": uuid.uuid4().hex}
        return await app.ainvoke({"value": 0}, config, durability=durability)

    return run


STAGGER = 0.0002  # seconds between the finishes of two nodes of a layer


def staggered(name: str) -> Callable[[Any], Awaitable[Any]]:
    """A node that finishes (k % WIDTH) x STAGGER after its layer started (k: its index)."""
    index = int(name.rsplit("_", 1)[-1]) if name[-1].isdigit() else 0  # the root: 0
    delay = (index % WIDTH) * STAGGER

    async def node(x: Any) -> None:
        await asyncio.sleep(delay)

    return node


# --- measuring ------------------------------------------------------------------------------------


async def measure(
    runners: dict[str, Callable[[], Awaitable[Any]]], repeat: int
) -> dict[str, float]:
    """Median seconds per run of each runner, taking turns so load changes hit all alike."""
    for run in runners.values():
        await run()  # warm-up: lazy imports, caches, the store's tables
    samples: dict[str, list[float]] = {name: [] for name in runners}
    gc.collect()
    for _ in range(repeat):
        for name, run in runners.items():
            gc.disable()  # as timeit does: no collection pauses inside a timed run
            try:
                start = time.perf_counter()
                await run()
                samples[name].append(time.perf_counter() - start)
            finally:
                gc.enable()
    return {name: statistics.median(values) for name, values in samples.items()}


async def bench(repeat: int, workdir: Path) -> dict[tuple[str, int], dict[str, float]]:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    from gecko.core.factories import create_storage

    results: dict[tuple[str, int], dict[str, float]] = {}
    store = await create_storage(f"sqlite:///{workdir / 'gecko.db'}", kind="kv")
    async with store, AsyncSqliteSaver.from_conn_string(str(workdir / "langgraph.db")) as saver:
        for topology in TOPOLOGIES:
            for n in SIZES:
                shape = TOPOLOGY[topology](n)
                row = results[(topology, n)] = await measure(
                    {
                        "asyncio": asyncio_runner(*shape),
                        "gecko": gecko_runner(*shape),
                        "langgraph": langgraph_runner(*shape),
                    },
                    repeat,
                )
                row.update(
                    await measure(
                        {
                            f"{impl}_{mode}": (
                                gecko_runner(*shape, storage=store, durability=mode)
                                if impl == "gecko"
                                else langgraph_runner(*shape, checkpointer=saver, durability=mode)
                            )
                            for mode in ("sync", "async")
                            for impl in ("gecko", "langgraph")
                        },
                        repeat,
                    )
                )
                print(f"  measured {topology:7s} {n:4d} nodes", file=sys.stderr, flush=True)
        for finish in ("together", "staggered") if supports_step_durability() else ():
            for n in (50, 200):
                shape = layered_nodes(n)
                node = staggered if finish == "staggered" else (lambda name: noop)
                runners = {
                    "per_node": gecko_runner(*shape, storage=store, durability="sync", node=node),
                    "per_layer": gecko_runner(*shape, storage=store, durability="step", node=node),
                    "langgraph": langgraph_runner(*shape, checkpointer=saver, node=node),
                }
                row = results[(f"durable-{finish}", n)] = await measure(runners, repeat)
                for mode in ("sync", "step"):
                    row[f"writes_{mode}"] = await writes_per_run(store, shape, mode, node)
                print(f"  measured durable {finish:9s} {n:4d} nodes", file=sys.stderr, flush=True)
    return results


def supports_step_durability() -> bool:
    """Whether this engine has ``durability="step"`` (engines before it are compared by ab.py)."""
    from gecko.compose import Workflow
    from gecko.core.errors import ConfigurationError

    try:
        Workflow("probe", durability="step")
    except ConfigurationError:
        return False
    return True


async def writes_per_run(store: Any, shape: Any, durability: str, node: Any) -> float:
    """How many checkpoints one run stores."""
    from gecko.compose import Workflow

    wf = Workflow("count", storage=store, durability=durability, max_steps=100_000)
    for name in shape[0]:
        wf.add_node(name, node(name))
    for a, b in shape[1]:
        wf.add_edge(a, b)
    wf.set_entry_point(shape[2])
    run_id = uuid.uuid4().hex
    await wf.execute(None, session_id=run_id)
    return float(len(await store.list_checkpoints(run_id)))


def report(results: dict[tuple[str, int], dict[str, float]]) -> str:
    ms = 1000.0
    plain_rows = []
    durable_rows = []
    node_rows = []
    for (topology, n), row in results.items():
        if topology.startswith("durable-"):
            node_rows.append(
                (
                    topology.removeprefix("durable-"),
                    n,
                    row["per_node"] * ms,
                    row["per_layer"] * ms,
                    f"{row['per_node'] / row['per_layer']:.2f}x",
                    f"{row['writes_sync']:.0f} / {row['writes_step']:.0f}",
                    row["langgraph"] * ms,
                    f"{row['langgraph'] / row['per_node']:.1f}x",
                )
            )
            continue
        per = 1e6 / n
        plain_rows.append(
            (
                topology,
                n,
                row["asyncio"] * ms,
                row["gecko"] * ms,
                row["langgraph"] * ms,
                f"{row['gecko'] * per:.1f} / {row['langgraph'] * per:.0f}",
                f"{row['gecko'] / row['asyncio']:.2f}x",
                f"{row['langgraph'] / row['gecko']:.1f}x",
            )
        )
        durable_rows.append(
            (
                topology,
                n,
                row["gecko_sync"] * ms,
                row["langgraph_sync"] * ms,
                f"{row['langgraph_sync'] / row['gecko_sync']:.1f}x",
                row["gecko_async"] * ms,
                row["langgraph_async"] * ms,
                f"{row['langgraph_async'] / row['gecko_async']:.1f}x",
                f"{row['gecko_sync'] * per:.0f} / {row['langgraph_sync'] * per:.0f}",
            )
        )
    plain = [r for (topology, _), r in results.items() if not topology.startswith("durable-")]
    worst_vs_asyncio = max(r["gecko"] / r["asyncio"] for r in plain)
    least_vs_langgraph = min(r["langgraph"] / r["gecko"] for r in plain)
    least_sync = min(r["langgraph_sync"] / r["gecko_sync"] for r in plain)
    least_async = min(r["langgraph_async"] / r["gecko_async"] for r in plain)
    layered = results[("layered", 500)]
    l500_asyncio = layered["gecko"] / layered["asyncio"]
    l500_lg = layered["langgraph"] / layered["gecko"]
    lines = [
        f"Machine: {machine()}",
        "",
        "Without checkpoints (median ms per run):",
        "",
        table(
            (
                "topology",
                "nodes",
                "asyncio ms",
                "Gecko ms",
                "LangGraph ms",
                "µs/node Gecko / LangGraph",
                "Gecko vs asyncio",
                "LangGraph vs Gecko",
            ),
            plain_rows,
        ),
        "",
        "Checkpoint every step to SQLite (median ms per run):",
        "",
        table(
            (
                "topology",
                "nodes",
                "Gecko sync ms",
                "LangGraph sync ms",
                "LG/Gecko sync",
                "Gecko async ms",
                "LangGraph async ms",
                "LG/Gecko async",
                "µs/node sync Gecko / LG",
            ),
            durable_rows,
        ),
        "",
        "Durable per node vs per layer, layered on SQLite (median ms per run):",
        "",
        "(not measured: this engine has no durability='step')"
        if not node_rows
        else table(
            (
                "layer finishes",
                "nodes",
                "per node (sync) ms",
                "per layer (step) ms",
                "per node / per layer",
                "writes per run node / layer",
                "LangGraph sync ms",
                "LG / per node",
            ),
            node_rows,
        ),
        "",
        f"Goals of the core redesign: layered-500 within 2.5x of asyncio ({l500_asyncio:.2f}x: "
        f"{'met' if l500_asyncio <= 2.5 else 'NOT met'}) and >= 15x faster than LangGraph "
        f"({l500_lg:.1f}x: {'met' if l500_lg >= 15 else 'NOT met'}).",
        f"Goals: Gecko within 4x of asyncio (worst {worst_vs_asyncio:.2f}x: "
        f"{'met' if worst_vs_asyncio <= 4 else 'NOT met'}); >= 10x faster than LangGraph "
        f"(least {least_vs_langgraph:.1f}x: {'met' if least_vs_langgraph >= 10 else 'NOT met'}); "
        f"with SQLite checkpoints >= 10x faster than LangGraph+AsyncSqliteSaver "
        f"(sync: least {least_sync:.1f}x, {'met' if least_sync >= 10 else 'NOT met'}; "
        f"async: least {least_async:.1f}x, {'met' if least_async >= 10 else 'NOT met'}).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gecko-compose-bench-") as workdir:
        results = asyncio.run(bench(args.repeat, Path(workdir)))
    print(report(results))


if __name__ == "__main__":
    main()
