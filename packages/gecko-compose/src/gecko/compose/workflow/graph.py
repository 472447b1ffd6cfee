"""The workflow graph: nodes, edges, validation, cycle paths, waves, layers and Mermaid.

A *wave* is what one run plans from a set of source nodes (the entry point, or the
targets of a jump): every node reachable from the sources along forward edges,
each waiting for its in-wave predecessors. With ``allow_cycles`` the edges that
close a cycle (back edges, found by depth-first search from the entry point) are
not part of waves: when their condition holds they act as a jump.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from gecko.compose.errors import UnknownNodeError, WorkflowValidationError
from gecko.compose.nodes import END

_MAX_CACHED_WAVES = 256


@dataclass(frozen=True, slots=True, eq=False)
class Edge:
    """``source -> target``, taken when ``condition`` (if any) holds."""

    source: str
    target: str
    condition: Callable[..., Any] | None = None
    index: int = 0


@dataclass(slots=True)
class Analysis:
    """Edges split into forward edges (waves) and back edges (jumps), per source node."""

    forward_out: dict[str, tuple[Edge, ...]]
    back_out: dict[str, tuple[Edge, ...]]
    order: dict[str, int]  # node -> insertion index, for deterministic sorting
    has_back_edges: bool


@dataclass(slots=True)
class Wave:
    """The nodes reachable from ``sources``; ``indegree`` counts in-wave forward predecessors.

    ``out`` holds each node's forward edges that count in this wave (edges into a
    source do not: a source starts the wave and never waits).
    """

    sources: tuple[str, ...]
    source_set: frozenset[str]
    indegree: dict[str, int]
    out: dict[str, tuple[Edge, ...]]


@dataclass
class Graph:
    nodes: dict[str, Any] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    entry: str | None = None
    version: int = 0
    _analysis: Analysis | None = None
    _waves: dict[tuple[str, ...], Wave] = field(default_factory=dict)
    _validated: tuple[int, bool] | None = None  # (version, allow_cycles) last validated
    _fingerprint: str | None = None

    # --- building ----------------------------------------------------------------------

    def add_node(self, name: str, spec: Any) -> None:
        if not isinstance(name, str) or not name.strip():
            raise WorkflowValidationError(f"node names must be non-empty strings, got {name!r}")
        if name == END:
            raise WorkflowValidationError(f"{END!r} is reserved (Next(END) finishes a run)")
        if name in self.nodes:
            raise WorkflowValidationError(
                f"node {name!r} already exists", hint="give every node a unique name"
            )
        self.nodes[name] = spec
        self._changed()

    def add_edge(self, source: str, target: str, condition: Callable[..., Any] | None) -> None:
        for end in (source, target):
            if not isinstance(end, str) or not end:
                raise WorkflowValidationError(f"edge ends must be node names, got {end!r}")
        if condition is not None and not callable(condition):
            raise WorkflowValidationError(
                f"the condition of edge {source!r} -> {target!r} must be callable, got {condition!r}"
            )
        for edge in self.edges:
            if edge.source == source and edge.target == target:
                raise WorkflowValidationError(
                    f"edge {source!r} -> {target!r} is already defined",
                    hint="combine the conditions into one function",
                )
        self.edges.append(Edge(source, target, condition, len(self.edges)))
        self._changed()

    def set_entry(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise WorkflowValidationError(f"the entry point must be a node name, got {name!r}")
        self.entry = name
        self._changed()

    def _changed(self) -> None:
        self._validated = None
        self._fingerprint = None
        self.version += 1
        self._analysis = None
        self._waves = {}

    # --- validation ----------------------------------------------------------------------

    def ensure_valid(self, *, allow_cycles: bool) -> None:
        """``validate`` unless this version of the graph was validated already."""
        if self._validated != (self.version, allow_cycles):
            self.validate(allow_cycles=allow_cycles)

    def fingerprint(self) -> str:
        """A hash of the graph's shape (nodes, edges, conditional or not, entry point)."""
        if self._fingerprint is None:
            shape: dict[str, Any] = {
                "nodes": list(self.nodes),
                "edges": [[e.source, e.target, e.condition is not None] for e in self.edges],
                "entry": self.entry,
            }
            catches = {
                name: [
                    [error if isinstance(error, str) else error.__qualname__, target]
                    for error, target in spec.catch
                ]
                for name, spec in self.nodes.items()
                if getattr(spec, "catch", ())
            }
            if catches:  # absent otherwise, so graphs without catch keep their fingerprint
                shape["catch"] = catches
            undo = {
                n: s.compensate for n, s in self.nodes.items() if getattr(s, "compensate", None)
            }
            if undo:
                shape["compensate"] = undo
            encoded = json.dumps(shape, sort_keys=True).encode()
            self._fingerprint = hashlib.sha256(encoded).hexdigest()[:16]
        return self._fingerprint

    def validate(self, *, allow_cycles: bool) -> None:
        if not self.nodes:
            raise WorkflowValidationError(
                "the workflow has no nodes", hint="add nodes with add_node()"
            )
        if self.entry is None:
            raise WorkflowValidationError(
                "the workflow has no entry point", hint="call set_entry_point(<node name>)"
            )
        self.require_node(self.entry, "entry point")
        for edge in self.edges:
            self.require_node(edge.source, f"edge {edge.source!r} -> {edge.target!r}")
            self.require_node(edge.target, f"edge {edge.source!r} -> {edge.target!r}")
        for name, spec in self.nodes.items():
            for error, fallback in getattr(spec, "catch", ()):
                what = error if isinstance(error, str) else error.__name__
                self.require_node(fallback, f"node {name!r}: catch of {what}")
            undo = getattr(spec, "compensate", None)
            if undo is not None:
                self.require_node(undo, f"node {name!r}: compensate")
        if not allow_cycles:
            cycle = self.find_cycle()
            if cycle is not None:
                path = " -> ".join(cycle)
                raise WorkflowValidationError(
                    f"the workflow has a cycle: {path}",
                    hint="remove an edge of the cycle, or build the workflow with allow_cycles=True "
                    "(loops then stop when an edge condition turns false or at max_steps)",
                    cycle=cycle,
                )
        self._validated = (self.version, allow_cycles)

    def require_node(self, name: str, what: str) -> None:
        if name not in self.nodes:
            known = ", ".join(repr(n) for n in self.nodes) or "none"
            raise UnknownNodeError(
                f"{what} refers to unknown node {name!r}",
                hint=f"known nodes: {known}",
                node=name,
            )

    def find_cycle(self) -> list[str] | None:
        """A cycle as a node path whose last element equals its first, or None."""
        out: dict[str, list[str]] = {name: [] for name in self.nodes}
        for edge in self.edges:
            if edge.source in out and edge.target in out:
                out[edge.source].append(edge.target)
        color: dict[str, int] = dict.fromkeys(self.nodes, 0)  # 0 new, 1 on stack, 2 done
        for root in self._roots():
            if color[root]:
                continue
            path: list[str] = [root]
            stack: list[Iterator[str]] = [iter(out[root])]
            color[root] = 1
            while stack:
                nxt = next(stack[-1], None)
                if nxt is None:
                    color[path.pop()] = 2
                    stack.pop()
                elif color[nxt] == 1:
                    return [*path[path.index(nxt) :], nxt]
                elif color[nxt] == 0:
                    color[nxt] = 1
                    path.append(nxt)
                    stack.append(iter(out[nxt]))
        return None

    def _roots(self) -> list[str]:
        roots = [self.entry] if self.entry in self.nodes else []
        return roots + [n for n in self.nodes if n != self.entry]

    # --- analysis and waves ------------------------------------------------------------

    def analysis(self) -> Analysis:
        if self._analysis is not None:
            return self._analysis
        out: dict[str, list[Edge]] = {name: [] for name in self.nodes}
        for edge in self.edges:
            out[edge.source].append(edge)
        back: set[int] = set()
        color: dict[str, int] = dict.fromkeys(self.nodes, 0)
        for root in self._roots():
            if color[root]:
                continue
            color[root] = 1
            path = [root]
            stack: list[Iterator[Edge]] = [iter(out[root])]
            while stack:
                step = next(stack[-1], None)
                if step is None:
                    color[path.pop()] = 2
                    stack.pop()
                elif color[step.target] == 1:
                    back.add(step.index)
                elif color[step.target] == 0:
                    color[step.target] = 1
                    path.append(step.target)
                    stack.append(iter(out[step.target]))
        self._analysis = Analysis(
            forward_out={n: tuple(e for e in es if e.index not in back) for n, es in out.items()},
            back_out={n: tuple(e for e in es if e.index in back) for n, es in out.items()},
            order={name: i for i, name in enumerate(self.nodes)},
            has_back_edges=bool(back),
        )
        return self._analysis

    def wave(self, sources: Sequence[str]) -> Wave:
        key = tuple(sources)
        cached = self._waves.get(key)
        if cached is not None:
            return cached
        forward = self.analysis().forward_out
        source_set = frozenset(key)
        reached: set[str] = set(key)
        queue = list(key)
        while queue:
            node = queue.pop()
            for edge in forward[node]:
                if edge.target not in reached:
                    reached.add(edge.target)
                    queue.append(edge.target)
        order = self.analysis().order
        members = sorted(reached, key=order.__getitem__)
        indegree = dict.fromkeys(members, 0)
        out: dict[str, tuple[Edge, ...]] = {}
        for node in members:
            edges = out[node] = tuple(e for e in forward[node] if e.target not in source_set)
            for edge in edges:
                indegree[edge.target] += 1
        wave = Wave(key, source_set, indegree, out)
        if len(self._waves) >= _MAX_CACHED_WAVES:
            self._waves.clear()
        self._waves[key] = wave
        return wave

    def layers(self, start: str | None = None) -> list[list[str]]:
        """The static execution layers from ``start`` (default: the entry point), all edges taken."""
        first = start or self.entry
        if first is None:
            raise WorkflowValidationError("the workflow has no entry point")
        self.require_node(first, "start node")
        analysis = self.analysis()
        wave = self.wave((first,))
        remaining = dict(wave.indegree)
        layer = [first]
        result: list[list[str]] = []
        while layer:
            result.append(layer)
            ready = []
            for node in layer:
                for edge in wave.out[node]:
                    remaining[edge.target] -= 1
                    if remaining[edge.target] == 0:
                        ready.append(edge.target)
            layer = sorted(ready, key=analysis.order.__getitem__)
        return result

    # --- rendering ----------------------------------------------------------------------------

    def to_mermaid(self) -> str:
        """A Mermaid flowchart: the entry point is a stadium, conditional edges are dashed.

        A conditional edge is labelled with its condition's function name; a lambda or
        another callable without one gets ``condition 1``, ``condition 2``, ... in the
        order the edges were added (one callable on several edges keeps one number).
        """
        ids = {name: f"n{i}" for i, name in enumerate(self.nodes)}
        labels = _condition_labels(self.edges)
        lines = ["flowchart TD"]
        for name, node_id in ids.items():
            text = _mermaid_text(name)
            lines.append(
                f"    {node_id}([{text}])" if name == self.entry else f"    {node_id}[{text}]"
            )
        back = self.analysis().back_out if self.nodes else {}
        back_indexes = {e.index for es in back.values() for e in es}
        for edge in self.edges:
            if edge.source not in ids or edge.target not in ids:
                continue
            src, dst = ids[edge.source], ids[edge.target]
            label = labels.get(edge.index)
            if label is not None:
                lines.append(f"    {src} -.->|{_mermaid_text(label)}| {dst}")
            elif edge.index in back_indexes:
                lines.append(f"    {src} -.-> {dst}")
            else:
                lines.append(f"    {src} --> {dst}")
        return "\n".join(lines)


def _condition_labels(edges: Sequence[Edge]) -> dict[int, str]:
    """Each conditional edge's label by edge index: the function's name, else ``condition N``."""
    labels: dict[int, str] = {}
    unnamed: dict[int, str] = {}  # id(condition) -> its number, so a shared callable keeps one
    for edge in edges:
        if edge.condition is None:
            continue
        name = getattr(edge.condition, "__name__", None)
        if isinstance(name, str) and name.isidentifier():
            labels[edge.index] = name
        else:
            key = id(edge.condition)
            if key not in unnamed:
                unnamed[key] = f"condition {len(unnamed) + 1}"
            labels[edge.index] = unnamed[key]
    return labels


def _mermaid_text(text: str) -> str:
    escaped = text.replace('"', "#quot;")
    return f'"{escaped}"'
