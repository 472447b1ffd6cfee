"""Mermaid diagrams of specs: ``flowchart`` for DAGs, ``stateDiagram-v2`` for state machines."""

from __future__ import annotations

from typing import Any

from gecko.compose.declarative.spec import (
    AgentNode,
    DagSpec,
    LoopNode,
    ParallelNode,
    StateMachineSpec,
    SwitchNode,
    ToolNode,
    WorkflowDocument,
)


def to_mermaid(document: WorkflowDocument) -> str:
    body = document.workflow
    if isinstance(body, DagSpec):
        return _flowchart(body)
    return _state_diagram(body)


def _label(text: Any) -> str:
    return str(text).replace('"', "#quot;").replace("\n", " ")


def _shape(node: Any, ident: str) -> str:
    name = _label(node.id)
    if isinstance(node, SwitchNode):
        return f'{ident}{{"{name}"}}'
    if isinstance(node, ParallelNode):
        mode = "all" if node.wait_all else "race"
        return f'{ident}{{{{"{name} (parallel, {mode})"}}}}'
    if isinstance(node, LoopNode):
        return f'{ident}[["{name} (loop)"]]'
    if isinstance(node, AgentNode):
        return f'{ident}(["{name}: agent {_label(node.agent or node.model)}"])'
    if isinstance(node, ToolNode):
        return f'{ident}[/"{name}: tool {_label(node.tool)}"/]'
    kind = node.type.replace("_", " ")
    return f'{ident}["{name} ({kind})"]'


def _flowchart(spec: DagSpec) -> str:
    ids = {node.id: f"n{i}" for i, node in enumerate(spec.nodes)}
    lines = ["flowchart TD", '    start((" "))']
    lines += [f"    {_shape(node, ids[node.id])}" for node in spec.nodes]
    targeted: set[str] = set()
    drawn: set[tuple[str, str, str]] = set()

    def arrow(source: str, target: str, text: str, style: str = "-->") -> None:
        if target not in ids or (source, target, text) in drawn:
            return
        drawn.add((source, target, text))
        targeted.add(target)
        start = ids.get(source, "start")
        label = f'|"{_label(text)}"|' if text else ""
        lines.append(f"    {start} {style}{label} {ids[target]}")

    for node in spec.nodes:
        if isinstance(node, SwitchNode):
            for branch in node.branches:
                if branch.default is not None:
                    arrow(node.id, branch.default, "default", "-.->")
                else:
                    arrow(node.id, branch.target or "", f"case {branch.case}", "-.->")
        elif isinstance(node, ParallelNode):
            for branch_id in node.branches:
                arrow(node.id, branch_id, "" if node.wait_all else "race", "==>")
        elif isinstance(node, LoopNode):
            arrow(node.id, node.body, "each item", "==>")
        for name, target in (node.catch or {}).items():
            arrow(node.id, target, f"catch {name}", "-.->")
        if node.compensate:
            arrow(node.id, node.compensate, "compensate", "-.->")
    linked = {(source, target) for source, target, _ in drawn}
    for node in spec.nodes:
        for dep in node.dependencies:
            if (dep, node.id) not in linked:  # a switch or parallel edge already links them
                arrow(dep, node.id, "")
    for node in spec.nodes:
        if node.id not in targeted:
            arrow("", node.id, "")
    return "\n".join(lines)


def _state_diagram(spec: StateMachineSpec) -> str:
    names = [s.name for s in spec.states]
    for state in spec.states:
        for transition in state.transitions:
            if transition.target not in names:
                names.append(transition.target)
    ids = {name: f"s{i}" for i, name in enumerate(names)}
    known = {s.name: s for s in spec.states}
    lines = ["stateDiagram-v2"]
    for name in names:
        lines.append(f'    state "{_label(name)}" as {ids[name]}')
        entry = known.get(name)
        notes = []
        if entry is not None and entry.on_enter:
            notes.append("on_enter: " + ", ".join(a.type for a in entry.on_enter))
        if entry is not None and entry.on_exit:
            notes.append("on_exit: " + ", ".join(a.type for a in entry.on_exit))
        if notes:
            lines.append(f"    note right of {ids[name]} : {_label('; '.join(notes))}")
    if spec.initial_state in ids:
        lines.append(f"    [*] --> {ids[spec.initial_state]}")
    for state in spec.states:
        for transition in state.transitions:
            guard = f" [{transition.guard}]" if transition.guard else ""
            text = _label(f"{transition.event}{guard}").replace(":", "#colon;")
            lines.append(f"    {ids[state.name]} --> {ids[transition.target]} : {text}")
    for name in names:
        found = known.get(name)
        if found is None or found.final:
            lines.append(f"    {ids[name]} --> [*]")
    return "\n".join(lines)
