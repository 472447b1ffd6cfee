"""gecko-compose's modules read top-down: no import cycle, and a run's calls only go down.

The walk of a 2-node ``execute`` on ``sqlite://`` is traced: every call from one compose
module into another is an edge, and the edges must form a layering (no module calls back
into one above it) no deeper than 8 modules — the walk docs/architecture.md shows.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import anyio

import gecko.compose
from gecko.compose import Workflow

SRC = Path(gecko.compose.__file__).resolve().parent
PACKAGE = "gecko.compose"


def module_names() -> dict[str, Path]:
    names = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join((PACKAGE, *parts))] = path
    return names


def _type_checking_lines(tree: ast.Module) -> set[int]:
    """Lines of ``if TYPE_CHECKING:`` blocks (imports for annotations only, never executed)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def import_graph() -> dict[str, set[str]]:
    """Every import between compose modules, lazy ones (inside functions) included."""
    modules = module_names()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        skip = _type_checking_lines(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
                    break
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_compose_has_no_import_cycle_lazy_imports_included() -> None:
    graph = import_graph()
    assert len(graph) > 20
    assert graph[f"{PACKAGE}.workflow.workflow"], "the scan found no imports at all"
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_cycle_check_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def _compose_module(frame: FrameType | None) -> str | None:
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            return str(name)
        frame = frame.f_back
    return None


def trace_calls(tmp_path: Path) -> tuple[dict[str, set[str]], list[str]]:
    """Run a 2-node workflow on a new SQLite file; the calls between compose modules."""
    edges: dict[str, set[str]] = {}
    entered: list[str] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        callee = frame.f_globals.get("__name__", "")
        if not callee.startswith(PACKAGE + "."):
            return
        if callee not in entered:
            entered.append(callee)
        caller = _compose_module(frame.f_back)
        if caller is not None and caller != callee:
            edges.setdefault(caller, set()).add(callee)

    async def main() -> None:
        wf = Workflow("walk", storage=f"sqlite:///{tmp_path}/walk.db")
        wf.add_node("a", lambda x: x + 1)
        wf.add_node("b", lambda x: x * 2)
        wf.add_edge("a", "b").set_entry_point("a")
        await wf.execute(1, session_id="warm")  # imports and opens the store outside the trace
        sys.setprofile(profile)
        try:
            assert await wf.execute(1, session_id="walk") == 4
        finally:
            sys.setprofile(None)
            await wf.aclose()

    anyio.run(main)
    return edges, entered


def longest_chain(
    edges: dict[str, set[str]], start: str, seen: frozenset[str] = frozenset()
) -> list[str]:
    best: list[str] = [start]
    for nxt in edges.get(start, ()):
        if nxt in seen:
            continue
        chain = [start, *longest_chain(edges, nxt, seen | {start})]
        if len(chain) > len(best):
            best = chain
    return best


def test_a_two_node_run_goes_down_through_at_most_8_modules(tmp_path: Path) -> None:
    edges, entered = trace_calls(tmp_path)
    assert entered[0] == f"{PACKAGE}.workflow.workflow"
    assert f"{PACKAGE}.workflow.step" in entered and f"{PACKAGE}.workflow.invoke" in entered
    cycle = find_cycle({m: edges.get(m, set()) for m in {*edges, *entered}})
    assert cycle is None, f"calls come back up: {' -> '.join(cycle or [])}"
    chain = longest_chain(edges, f"{PACKAGE}.workflow.workflow")
    assert len(chain) <= 8, " -> ".join(chain)
