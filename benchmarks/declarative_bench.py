"""Declarative workflows: loading specs, evaluating expressions, running spec-built graphs.

    hatch run bench:python benchmarks/declarative_bench.py [--repeat N]

Side by side, in this one process:

- **load + validate a 500-node spec** (a chain of function nodes, each reading the
  previous node's output through ``${...}``): ``validate_spec`` (parse + check +
  compile every expression), ``load_workflow`` from a dict and from YAML text (the
  whole path to a runnable Workflow), against building the same 500-node graph with
  ``Workflow.add_node`` / ``add_edge`` in Python (goal: load + validate under 100 ms),
  with PyYAML's own parse time shown apart;
- **expression overhead per evaluation**: a plain path (``${node1.output.url}``, resolved
  directly), a condition in the compiled CEL subset (``${size(input.items) > 2 ? 'high' :
  'low'}``) and one only cel-python's interpreter runs (a macro: ``${input.items.exists(x, x
  > 2)}``), each against the same Python lambda (goal: under 20 µs median);
- **per-node cost of a run**: a chain of n async function nodes compiled from a spec
  (each node's input an expression on the previous node's output) against the same
  chain built in Python (each function receiving the previous output), no storage
  (goal: at most 1.2x).

Figures are medians of ``--repeat`` runs after a warm-up, the implementations taking turns
(runs inside one event loop); the GC is paused inside timed runs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from common import machine, ratio, table

from gecko.compose import Workflow, load_workflow
from gecko.compose.declarative import validate_spec
from gecko.compose.declarative.expressions import Names, Scope, function_names
from gecko.compose.declarative.templates import Template


async def step(x: Any) -> Any:
    return x


def spec_dict(n: int) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"id": "n0", "type": "function", "function": "step", "inputs": {"x": "${input}"}}
    ]
    for i in range(1, n):
        nodes.append(
            {
                "id": f"n{i}",
                "type": "function",
                "function": "step",
                "dependencies": [f"n{i - 1}"],
                "inputs": {"x": f"${{n{i - 1}.output}}"},
            }
        )
    return {"workflow": {"id": "bench", "type": "dag", "nodes": nodes}}


def spec_yaml(n: int) -> str:
    import yaml

    return yaml.safe_dump(spec_dict(n), sort_keys=False)


def python_workflow(n: int) -> Workflow:
    wf = Workflow("bench")
    for i in range(n):
        wf.add_node(f"n{i}", step)
    for i in range(1, n):
        wf.add_edge(f"n{i - 1}", f"n{i}")
    wf.set_entry_point("n0")
    wf.validate()
    return wf


def _yaml_only(text: str) -> Any:
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def timed(fn: Callable[[], Any], repeat: int) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        gc.disable()
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
        gc.enable()
    return statistics.median(samples)


def taking_turns(fns: list[Callable[[], Any]], repeat: int) -> list[float]:
    """Median seconds of each function, the functions taking turns (same load for all)."""
    for fn in fns:
        fn()
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            gc.disable()
            start = time.perf_counter()
            fn()
            samples[i].append(time.perf_counter() - start)
            gc.enable()
    return [statistics.median(s) for s in samples]


def bench_load(repeat: int) -> list[list[object]]:
    n = 500
    document, text = spec_dict(n), spec_yaml(n)
    json_text = json.dumps(document)
    functions = {"step": step}
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("Python: add_node / add_edge + validate", lambda: python_workflow(n)),
        ("validate_spec(dict)", lambda: validate_spec(document)),
        ("load_workflow(dict)", lambda: load_workflow(document, functions=functions)),
        ("load_workflow(JSON text)", lambda: load_workflow(json_text, functions=functions)),
        ("load_workflow(YAML text)", lambda: load_workflow(text, functions=functions)),
        ("  of which: PyYAML parse alone (yaml.load, CSafeLoader)", lambda: _yaml_only(text)),
    ]
    medians = taking_turns([fn for _, fn in cases], repeat)
    baseline = medians[0]
    return [[label, m * 1000, ratio(m, baseline)] for (label, _), m in zip(cases, medians)]


def bench_expressions(repeat: int) -> list[list[object]]:
    names = Names(nodes=frozenset({"node1"}), bare=frozenset(), functions=function_names())
    scope = Scope(
        input={"items": [1, 2, 3]}, state={}, history={"node1": {"url": "https://x"}}, current=None
    )
    inner = 2000

    def per_call(fn: Callable[[], Any]) -> float:
        def batch() -> None:
            for _ in range(inner):
                fn()

        return timed(batch, repeat) / inner

    path = Template("${node1.output.url}", names)
    cel = Template("${size(input.items) > 2 ? 'high' : 'low'}", names)
    history: dict[str, Any] = {"node1": {"url": "https://x"}}
    items: dict[str, Any] = {"items": [1, 2, 3]}
    macro = Template("${input.items.exists(x, x > 2)}", names)
    py_path = per_call(lambda: history["node1"]["url"])
    py_cel = per_call(lambda: "high" if len(items["items"]) > 2 else "low")
    py_macro = per_call(lambda: any(x > 2 for x in items["items"]))
    t_path = per_call(lambda: path.render(scope, "n"))
    t_cel = per_call(lambda: cel.render(scope, "n"))
    t_macro = per_call(lambda: macro.render(scope, "n"))
    return [
        ["${node1.output.url} (a path)", py_path * 1e6, t_path * 1e6, ratio(t_path, py_path)],
        [
            "${size(input.items) > 2 ? 'high' : 'low'} (compiled CEL subset)",
            py_cel * 1e6,
            t_cel * 1e6,
            ratio(t_cel, py_cel),
        ],
        [
            "${input.items.exists(x, x > 2)} (cel-python interpreter)",
            py_macro * 1e6,
            t_macro * 1e6,
            ratio(t_macro, py_macro),
        ],
    ]


def bench_run(repeat: int) -> list[list[object]]:
    rows: list[list[object]] = []
    for n in (50, 200, 500):
        python_wf = python_workflow(n)
        spec_wf = load_workflow(spec_dict(n), functions={"step": step}, max_steps=10 * n)

        py, sp = asyncio.run(_runs_taking_turns([python_wf, spec_wf], repeat))
        rows.append([n, py / n * 1e6, sp / n * 1e6, ratio(sp, py)])
    return rows


async def _runs_taking_turns(workflows: list[Workflow], repeat: int) -> list[float]:
    """Median seconds of ``await wf.execute(1)`` for each, in one event loop, taking turns."""
    for wf in workflows:
        await wf.execute(1)
    samples: list[list[float]] = [[] for _ in workflows]
    for _ in range(repeat):
        for i, wf in enumerate(workflows):
            gc.disable()
            start = time.perf_counter()
            await wf.execute(1)
            samples[i].append(time.perf_counter() - start)
            gc.enable()
    return [statistics.median(s) for s in samples]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    repeat = parser.parse_args().repeat
    print(f"Measured on {machine()}; median of {repeat} runs.\n")
    print("Load + validate a 500-node spec (ms)\n")
    print(table(["what", "ms", "vs Python"], bench_load(repeat)))
    print("\nExpression overhead per evaluation (µs)\n")
    print(table(["expression", "Python µs", "spec µs", "ratio"], bench_expressions(repeat)))
    print("\nPer-node cost of a run, chain of async nodes, no storage (µs per node)\n")
    print(table(["nodes", "Python graph", "spec graph", "spec / Python"], bench_run(repeat)))


if __name__ == "__main__":
    main()
