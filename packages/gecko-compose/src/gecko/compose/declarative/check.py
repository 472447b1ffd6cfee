"""What a valid document means: references, edges, cycles, compiled expressions.

``analyse`` turns a validated document into a plan (a DAG's edges and compiled
templates, or a state machine's states) and collects every problem — duplicate
ids, unknown references, cycles, expressions naming what does not exist — each
with its position in the source.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gecko.compose.declarative.errors import Problem, SpecError
from gecko.compose.declarative.expressions import RESERVED, Names
from gecko.compose.declarative.source import PathKey, Source
from gecko.compose.declarative.spec import (
    AgentNode,
    AggregationNode,
    AnyNode,
    DagSpec,
    FunctionNode,
    HumanNode,
    LoopNode,
    ParallelNode,
    SetNode,
    StateMachineSpec,
    SubWorkflowNode,
    SwitchNode,
    ToolNode,
    WorkflowDocument,
)
from gecko.compose.declarative.templates import Template

INPUT_NODE = "__input__"
OUTPUT_NODE = "__output__"
CONTROL = (SwitchNode, ParallelNode, LoopNode)
_OWNABLE = (AgentNode, ToolNode, FunctionNode)


@dataclass
class EdgePlan:
    source: str
    target: str
    kind: str  # dep | case | default | fork | join
    case: Any = None


@dataclass
class NodePlan:
    node: AnyNode
    index: int
    templates: dict[str, Template] = field(default_factory=dict)
    owner: str | None = None
    unwrap: bool = False  # its only incoming edge comes from a control node

    @property
    def id(self) -> str:
        return self.node.id


@dataclass
class DagPlan:
    spec: DagSpec
    nodes: dict[str, NodePlan]
    edges: list[EdgePlan]
    roots: list[str]
    sinks: list[str]
    output: Template | None
    names: Names
    lifecycle: list[tuple[str, PathKey]]
    warnings: list[str]


@dataclass
class StatePlan:
    spec: StateMachineSpec
    implicit_finals: list[str]
    finals: list[str]
    templates: dict[PathKey, Template]
    lifecycle: list[tuple[str, PathKey]]
    warnings: list[str]


class Problems:
    """Collects located problems; ``raise_if_any`` raises them as one SpecError."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.items: list[Problem] = []

    def add(self, message: str, path: PathKey) -> None:
        self.items.append(self.source.problem(message, path))

    def raise_if_any(self) -> None:
        if self.items:
            raise SpecError(self.items)


def analyse(document: WorkflowDocument, source: Source) -> DagPlan | StatePlan:
    problems = Problems(source)
    body = document.workflow
    plan: DagPlan | StatePlan
    if isinstance(body, DagSpec):
        plan = _analyse_dag(body, problems)
    else:
        plan = _analyse_machine(body, problems)
    problems.raise_if_any()
    return plan


def input_properties(schema: dict[str, Any] | None) -> set[str]:
    props = (schema or {}).get("properties")
    return {k for k in props if isinstance(k, str)} if isinstance(props, dict) else set()


def _is_identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


# --- DAGs ------------------------------------------------------------------------------------


def _analyse_dag(spec: DagSpec, problems: Problems) -> DagPlan:
    base: PathKey = ("workflow", "nodes")
    plans: dict[str, NodePlan] = {}
    for index, node in enumerate(spec.nodes):
        where = (*base, index, "id")
        if node.id in plans:
            first = plans[node.id].index
            problems.add(f"duplicate node id {node.id!r} (also nodes[{first}])", where)
            continue
        if node.id.startswith("__") or node.id in RESERVED:
            problems.add(f"node id {node.id!r} is reserved; pick another", where)
        plans[node.id] = NodePlan(node, index)
    ids = set(plans)

    def ref(name: str, path: PathKey, what: str) -> bool:
        if name in ids:
            return True
        known = ", ".join(sorted(ids)[:30])
        problems.add(f"{what} names unknown node {name!r}; nodes: {known}", path)
        return False

    owners = _owned_nodes(plans, problems, ref)
    edges: list[EdgePlan] = []
    seen: set[tuple[str, str]] = set()

    def edge(source: str, target: str, kind: str, case: Any = None) -> None:
        if (source, target) not in seen:
            seen.add((source, target))
            edges.append(EdgePlan(source, target, kind, case))

    lifecycle: list[tuple[str, PathKey]] = []
    for node_plan in plans.values():
        node, where = node_plan.node, (*base, node_plan.index)
        if isinstance(node, SwitchNode):
            for i, branch in enumerate(node.branches):
                target = branch.default or branch.target
                assert target is not None
                if ref(target, (*where, "branches", i), "switch branch"):
                    if target in owners:
                        problems.add(
                            f"{target!r} is run by {owners[target]!r}; it cannot be a branch",
                            (*where, "branches", i),
                        )
                    else:
                        is_default = branch.default is not None
                        edge(node.id, target, "default" if is_default else "case", branch.case)
        elif isinstance(node, ParallelNode) and node.wait_all:
            for i, branch_id in enumerate(node.branches):
                if ref(branch_id, (*where, "branches", i), "parallel branch"):
                    edge(node.id, branch_id, "fork")
        _lifecycle_uses(node, where, lifecycle, ref)
    for node_plan in plans.values():
        node, where = node_plan.node, (*base, node_plan.index)
        for i, dep in enumerate(node.dependencies):
            dep_path = (*where, "dependencies", i)
            if not ref(dep, dep_path, "dependency"):
                continue
            if dep == node.id:
                problems.add(f"node {node.id!r} depends on itself", dep_path)
                continue
            if node.id in owners:
                continue  # an owned node's only allowed dependency is its owner (checked there)
            if dep in owners:
                problems.add(
                    f"{dep!r} is run by {owners[dep]!r}, so nothing can depend on it; depend on "
                    f"{owners[dep]!r} instead",
                    dep_path,
                )
                continue
            upstream = plans[dep].node
            if (
                isinstance(upstream, ParallelNode)
                and upstream.wait_all
                and node.id not in upstream.branches
            ):
                for branch_id in upstream.branches:
                    if branch_id in ids:
                        edge(branch_id, node.id, "join")
            else:
                edge(dep, node.id, "dep")
    _check_cycles(plans, edges, problems)
    incoming: dict[str, list[EdgePlan]] = {n: [] for n in plans}
    outgoing: dict[str, list[EdgePlan]] = {n: [] for n in plans}
    for e in edges:
        incoming[e.target].append(e)
        outgoing[e.source].append(e)
    for node_id, node_plan in plans.items():
        ins = incoming[node_id]
        node_plan.owner = owners.get(node_id)
        node_plan.unwrap = len(ins) == 1 and isinstance(plans[ins[0].source].node, CONTROL)
    roots = [n for n in plans if not incoming[n] and n not in owners]
    sinks = [n for n in plans if not outgoing[n] and n not in owners]
    ancestors = _ancestors(plans, incoming, owners)
    state_keys = set(spec.state) | {
        k for p in plans.values() if isinstance(p.node, SetNode) for k in p.node.values
    }
    names = Names(
        nodes=frozenset(n for n in ids if _is_identifier(n) and n not in RESERVED),
        bare=frozenset(state_keys | input_properties(spec.inputs)),
    )
    for node_plan in plans.values():
        _compile_node(node_plan, names, ancestors.get(node_plan.id, set()), owners, problems, base)
    output = None
    if spec.output is not None:
        output = _template(
            spec.output,
            names,
            ("workflow", "output"),
            problems,
            None,
            set(ids) - set(owners),
            owners,
        )
    if spec.limits:
        lifecycle.append(
            ("limits (per-kind / tag / model concurrency quotas)", ("workflow", "limits"))
        )
    return DagPlan(spec, plans, edges, roots, sinks, output, names, lifecycle, [])


def _owned_nodes(plans: dict[str, NodePlan], problems: Problems, ref: Any) -> dict[str, str]:
    """Nodes run inside another (a loop's body, a racing parallel's branches) -> their owner."""
    owners: dict[str, str] = {}
    for node_plan in plans.values():
        node, where = node_plan.node, ("workflow", "nodes", node_plan.index)
        owned: list[tuple[str, PathKey]] = []
        if isinstance(node, LoopNode):
            owned.append((node.body, (*where, "body")))
        elif isinstance(node, ParallelNode) and not node.wait_all:
            owned.extend((b, (*where, "branches", i)) for i, b in enumerate(node.branches))
        for child, path in owned:
            if not ref(child, path, "body" if isinstance(node, LoopNode) else "parallel branch"):
                continue
            child_plan = plans[child]
            if child in owners:
                problems.add(f"{child!r} is already run by {owners[child]!r}", path)
            elif child == node.id:
                problems.add(f"{node.id!r} cannot run itself", path)
            elif not isinstance(child_plan.node, _OWNABLE):
                problems.add(
                    f"{child!r} is a {child_plan.node.type} node; a loop body or racing branch must be "
                    "an agent, tool or function node",
                    path,
                )
            else:
                owners[child] = node.id
                child_where = ("workflow", "nodes", child_plan.index)
                if set(child_plan.node.dependencies) - {node.id}:
                    problems.add(
                        f"{child!r} runs inside {node.id!r}; it can list only {node.id!r} as a dependency",
                        (*child_where, "dependencies"),
                    )
                for option in ("retry", "timeout"):
                    if getattr(child_plan.node, option) is not None:
                        problems.add(
                            f"{child!r} runs inside {node.id!r}; put `{option}` on {node.id!r}",
                            (*child_where, option),
                        )
    return owners


def _lifecycle_uses(
    node: AnyNode, where: PathKey, lifecycle: list[tuple[str, PathKey]], ref: Any
) -> None:
    if isinstance(node, HumanNode):
        lifecycle.append(
            (f"human node {node.id!r} (ctx.interrupt / wf.resume(answers=...))", (*where, "type"))
        )
    if node.catch:
        for error, target in node.catch.items():
            ref(target, (*where, "catch", error), "catch")
        lifecycle.append(
            (f"catch on {node.id!r} (failure routing to a fallback node)", (*where, "catch"))
        )
    if node.compensate:
        ref(node.compensate, (*where, "compensate"), "compensate")
        lifecycle.append(
            (f"compensate on {node.id!r} (compensation when the run fails)", (*where, "compensate"))
        )


def _check_cycles(plans: dict[str, NodePlan], edges: list[EdgePlan], problems: Problems) -> None:
    out: dict[str, list[str]] = {n: [] for n in plans}
    for e in edges:
        out[e.source].append(e.target)
    color: dict[str, int] = {}
    for start in plans:
        if color.get(start):
            continue
        stack: list[tuple[str, Iterable[str]]] = [(start, iter(out[start]))]
        trail = [start]
        color[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(iter(children), None)  # type: ignore[call-overload]
            if child is None:
                color[node] = 2
                stack.pop()
                trail.pop()
                continue
            state = color.get(child, 0)
            if state == 1:
                cycle = [*trail[trail.index(child) :], child]
                problems.add(
                    "the DAG has a cycle: " + " -> ".join(cycle),
                    ("workflow", "nodes", plans[child].index, "dependencies"),
                )
                return
            if state == 0:
                color[child] = 1
                stack.append((child, iter(out[child])))
                trail.append(child)


def _ancestors(
    plans: dict[str, NodePlan], incoming: dict[str, list[EdgePlan]], owners: dict[str, str]
) -> dict[str, set[str]]:
    memo: dict[str, set[str]] = {}

    def of(node: str, depth: int = 0) -> set[str]:
        if node in memo:
            return memo[node]
        memo[node] = set()  # cycles were reported already
        found: set[str] = set()
        sources = [e.source for e in incoming[node]]
        if node in owners:
            sources = [owners[node]]
        for source in sources:
            found.add(source)
            found |= of(source, depth + 1)
        memo[node] = found
        return found

    for node in plans:
        of(node)
    return memo


def _compile_node(
    plan: NodePlan,
    names: Names,
    ancestors: set[str],
    owners: dict[str, str],
    problems: Problems,
    base: PathKey,
) -> None:
    node = plan.node
    where = (*base, plan.index)
    fields: list[tuple[str, Any, bool]] = []
    if (
        isinstance(node, (AgentNode, ToolNode, FunctionNode, SubWorkflowNode, HumanNode))
        and node.inputs is not None
    ):
        fields.append(("inputs", node.inputs, False))
    if isinstance(node, AggregationNode) and node.inputs is not None:
        fields.append(("inputs", node.inputs, False))
    if isinstance(node, SwitchNode):
        fields.append(("condition", node.condition, True))
    if isinstance(node, LoopNode):
        fields.append(("items", node.items, True))
    if isinstance(node, SetNode):
        fields.append(("values", node.values, False))
    if isinstance(node, HumanNode) and node.prompt is not None:
        fields.append(("prompt", node.prompt, False))
    for name, value, is_expression in fields:
        template = _template(
            value, names, (*where, name), problems, node.id, ancestors, owners, is_expression
        )
        if template is not None:
            plan.templates[name] = template
    if isinstance(node, AggregationNode):
        for i, source_id in enumerate(node.sources or []):
            if source_id not in ancestors:
                problems.add(
                    f"aggregation {node.id!r} reads {source_id!r}, which does not run before it; "
                    "add it to `dependencies`",
                    (*where, "sources", i),
                )


def _template(
    value: Any,
    names: Names,
    path: PathKey,
    problems: Problems,
    node_id: str | None,
    readable: set[str],
    owners: dict[str, str],
    expression: bool = False,
) -> Template | None:
    errors: list[tuple[PathKey, str]] = []
    template = Template(value, names, expression=expression, errors=errors)
    for sub_path, message in errors:
        problems.add(message, (*path, *sub_path))
    for compiled in template.expressions:
        for root in compiled.roots:
            if root in names.nodes and root not in readable:
                who = f"node {node_id!r}" if node_id else "the workflow output"
                if root in owners:
                    detail = (
                        f"{root!r} runs inside {owners[root]!r}; read {owners[root]}.output instead"
                    )
                elif root == node_id:
                    detail = "a node cannot read its own output; use `current` for its input"
                else:
                    detail = f"{root!r} does not run before it; add {root!r} to its `dependencies`"
                problems.add(f"{who} reads {root}.output in ${{{compiled.source}}}: {detail}", path)
    return template


# --- state machines ------------------------------------------------------------------------------


def _analyse_machine(spec: StateMachineSpec, problems: Problems) -> StatePlan:
    base: PathKey = ("workflow", "states")
    index: dict[str, int] = {}
    for i, state in enumerate(spec.states):
        if state.name in index:
            problems.add(
                f"duplicate state {state.name!r} (also states[{index[state.name]}])",
                (*base, i, "name"),
            )
        else:
            index[state.name] = i
    if spec.initial_state not in index:
        problems.add(
            f"initial_state {spec.initial_state!r} is not a state; states: {', '.join(index)}",
            ("workflow", "initial_state"),
        )
    set_keys = {
        key
        for state in spec.states
        for action in [
            *state.on_enter,
            *state.on_exit,
            *(a for t in state.transitions for a in t.actions),
        ]
        if action.type == "set"
        for key in (action.params.get("values") or {})
        if isinstance(key, str)
    }
    names = Names(
        nodes=frozenset(),
        bare=frozenset(set(spec.state) | set_keys | input_properties(spec.inputs)),
        event=True,
    )
    templates: dict[PathKey, Template] = {}
    implicit: list[str] = []
    finals = [s.name for s in spec.states if s.final]
    for i, state in enumerate(spec.states):
        where = (*base, i)
        if state.final and state.transitions:
            problems.add(
                f"final state {state.name!r} cannot have transitions", (*where, "transitions")
            )
        unguarded: dict[str, int] = {}
        for j, transition in enumerate(state.transitions):
            t_path = (*where, "transitions", j)
            if transition.target not in index and transition.target not in implicit:
                implicit.append(transition.target)
            if transition.guard is None:
                if transition.event in unguarded:
                    problems.add(
                        f"state {state.name!r} has two unguarded transitions on event "
                        f"{transition.event!r} (also transitions[{unguarded[transition.event]}])",
                        (*t_path, "event"),
                    )
                unguarded[transition.event] = j
            else:
                _machine_template(
                    transition.guard, names, (*t_path, "guard"), problems, templates, True
                )
            for k, action in enumerate(transition.actions):
                _machine_template(
                    action.params, names, (*t_path, "actions", k, "params"), problems, templates
                )
        for hook in ("on_enter", "on_exit"):
            for k, action in enumerate(getattr(state, hook)):
                a_path = (*where, hook, k)
                if action.type in ("tool", "agent", "function") and not action.name:
                    problems.add(f"a {action.type} action needs `name:`", a_path)
                _machine_template(action.params, names, (*a_path, "params"), problems, templates)
    reachable = _reachable(spec, index)
    warnings = [
        f"state {s.name!r} is unreachable from {spec.initial_state!r}"
        for s in spec.states
        if s.name not in reachable
    ]
    lifecycle: list[tuple[str, PathKey]] = [
        (
            "state_machine (events through handle.send / wf.send, durable transitions)",
            ("workflow", "type"),
        )
    ]
    if spec.limits:
        lifecycle.append(
            ("limits (per-kind / tag / model concurrency quotas)", ("workflow", "limits"))
        )
    return StatePlan(spec, implicit, finals, templates, lifecycle, warnings)


def _machine_template(
    value: Any,
    names: Names,
    path: PathKey,
    problems: Problems,
    templates: dict[PathKey, Template],
    expression: bool = False,
) -> None:
    errors: list[tuple[PathKey, str]] = []
    templates[path] = Template(value, names, expression=expression, errors=errors)
    for sub_path, message in errors:
        problems.add(message, (*path, *sub_path))


def _reachable(spec: StateMachineSpec, index: dict[str, int]) -> set[str]:
    seen = {spec.initial_state}
    todo = [spec.initial_state]
    while todo:
        name = todo.pop()
        if name not in index:
            continue
        for transition in spec.states[index[name]].transitions:
            if transition.target not in seen:
                seen.add(transition.target)
                todo.append(transition.target)
    return seen
