"""The plan: which nodes run next, by dead-path elimination over the current wave.

Each node of a wave waits until all its in-wave predecessors are resolved
(completed or skipped). A completed node *activates* its outgoing edges; when a
node's last predecessor resolves, the conditions of its activated edges are
evaluated: if any holds, the node runs with the output of the predecessors whose
edges hold (one predecessor: its output; several: ``{name: output}``), otherwise
it is SKIPPED — never written to history — and its own successors stop waiting
for it (skips cascade within the same planning pass).

Pure: conditions are user code, so ``Waves.plan`` is a generator that *yields*
each edge whose condition it needs and receives the answer (the runner evaluates
it). No I/O, no clock, no asyncio here.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from typing import Any

from gecko.compose.workflow.graph import Edge, Graph, Wave

PlanItem = tuple[str, Any, list[str]]
"""(node, input, names of the predecessors whose outputs make the input)."""


class Waves:
    """The bookkeeping of the current wave: predecessors still unresolved, edges activated."""

    __slots__ = ("_graph", "_order", "_out", "activated", "remaining", "wave")

    def __init__(self, graph: Graph) -> None:
        self._graph = graph
        self._order = graph.analysis().order
        self._out: dict[str, tuple[Edge, ...]] = {}
        self.wave: Wave | None = None
        self.remaining: dict[str, int] = {}
        self.activated: dict[str, list[Edge]] = {}

    def start(self, sources: Sequence[str]) -> None:
        """Begin a new wave from ``sources`` (the entry point or jump targets)."""
        wave = self.wave = self._graph.wave(sources)
        self._out = wave.out
        self.remaining = dict(wave.indegree)
        self.activated = {node: [] for node in wave.indegree}

    def complete(self, node: str, ready: list[str]) -> None:
        """``node`` completed: activate its edges; append nodes that stopped waiting to ``ready``."""
        remaining = self.remaining
        activated = self.activated
        for edge in self._out[node]:
            target = edge.target
            activated[target].append(edge)
            left = remaining[target] - 1
            remaining[target] = left
            if not left:
                ready.append(target)

    def skip(self, node: str, ready: list[str]) -> None:
        """``node`` was skipped: its successors stop waiting for it."""
        remaining = self.remaining
        for edge in self._out[node]:
            target = edge.target
            left = remaining[target] - 1
            remaining[target] = left
            if not left:
                ready.append(target)

    def plan(
        self, ready: list[str], history: Mapping[str, Any]
    ) -> Generator[Edge, bool, tuple[list[PlanItem], list[str]]]:
        """The next step's nodes (sorted by insertion order) and the nodes skipped on the way.

        Yields each conditional edge to evaluate; send back whether it holds.
        """
        plan: list[PlanItem] = []
        skipped: list[str] = []
        order = self._order
        while ready:
            if len(ready) > 1:
                ready.sort(key=order.__getitem__)
            more: list[str] = []
            for node in ready:
                preds = []
                for edge in self.activated[node]:
                    if edge.condition is None or (yield edge):
                        preds.append(edge.source)
                if preds:
                    plan.append((node, input_from(preds, history), preds))
                else:
                    skipped.append(node)
                    self.skip(node, more)
            ready = more
        if len(plan) > 1:
            plan.sort(key=lambda item: order[item[0]])
        return plan, skipped

    def restore(
        self, sources: Sequence[str], resolved: Sequence[Sequence[str]], planned: Sequence[str]
    ) -> None:
        """Rebuild the wave's bookkeeping from a checkpoint (see RunRecord.resolved)."""
        self.start(sources)
        scratch: list[str] = []
        for node, status in resolved:
            if status == "done":
                self.complete(node, scratch)
            else:
                self.skip(node, scratch)
        for node in planned:
            self.activated[node] = []


def input_from(preds: Sequence[str], history: Mapping[str, Any]) -> Any:
    if len(preds) == 1:
        return history[preds[0]]
    return {pred: history[pred] for pred in preds}
