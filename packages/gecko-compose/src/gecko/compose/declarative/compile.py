"""Spec -> ``Workflow``: resolve agents, tools, functions and sub-workflows, then build the graph.

The result is an ordinary Workflow built with the public API (``add_node``,
``add_edge``, ``set_entry_point``): a hidden entry node ``__input__`` (the
workflow input), one node per spec node (a sub-workflow adds ``<id>:inputs``
before it), and ``__output__`` when the spec declares an ``output``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gecko.compose.declarative import runtime
from gecko.compose.declarative.check import INPUT_NODE, OUTPUT_NODE, DagPlan, NodePlan, Problems
from gecko.compose.declarative.errors import SpecError
from gecko.compose.declarative.expressions import CURRENT, NODE
from gecko.compose.declarative.schema_model import SchemaError, model_from_schema
from gecko.compose.declarative.spec import (
    AgentNode,
    AggregationNode,
    FunctionNode,
    LoopNode,
    ParallelNode,
    RetrySpec,
    SetNode,
    SubWorkflowNode,
    SwitchNode,
    ToolNode,
)
from gecko.core.errors import GeckoError


@dataclass
class Registries:
    """What names in a spec resolve to, besides the plugin registries."""

    agents: Mapping[str, Any] = field(default_factory=dict)
    tools: Mapping[str, Any] = field(default_factory=dict)
    functions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    workflows: Mapping[str, Any] = field(default_factory=dict)
    allow_imports: Sequence[str] | None = None
    directory: Path | None = None
    loading: tuple[str, ...] = ()
    load: Callable[..., Any] | None = None  # loads a sub-workflow's spec (the loader passes itself)


def build(plan: DagPlan, problems: Problems, registries: Registries, workflow: Any) -> Any:
    """Add the plan's nodes and edges to ``workflow`` (a fresh Workflow); raise every problem."""
    spec = plan.spec
    base = ("workflow", "nodes")
    compiled: dict[str, Any] = {}
    for node_id, node_plan in plan.nodes.items():
        compiled[node_id] = _compile(
            node_plan, plan, problems, registries, (*base, node_plan.index)
        )
    input_model = None
    if spec.inputs is not None:
        try:
            input_model = model_from_schema(spec.inputs, f"{spec.id}_input")
        except SchemaError as exc:
            problems.add(str(exc), ("workflow", "inputs"))
    problems.raise_if_any()
    owned = {n for n, p in plan.nodes.items() if p.owner is not None}
    predecessors = _sole_predecessors(plan)
    for node_id, node_plan in plan.nodes.items():
        if node_id in owned:
            continue
        target = compiled[node_id]
        options = {"retry": _retry(node_plan.node.retry), "timeout": node_plan.node.timeout}
        if isinstance(node_plan.node, SubWorkflowNode):
            prepare, child = target
            workflow.add_node(f"{node_id}:inputs", prepare)
            workflow.add_node(node_id, child, **options)
            workflow.add_edge(f"{node_id}:inputs", node_id)
        else:
            predecessor = predecessors.get(node_id)
            if _context_free(target, node_plan, predecessor):
                target = target.direct(predecessor)
            workflow.add_node(node_id, target, **options)
    workflow.add_node(INPUT_NODE, runtime.InputNode(input_model, spec.state))
    workflow.set_entry_point(INPUT_NODE)

    def entry(node_id: str) -> str:
        return (
            f"{node_id}:inputs"
            if isinstance(plan.nodes[node_id].node, SubWorkflowNode)
            else node_id
        )

    for root in plan.roots:
        workflow.add_edge(INPUT_NODE, entry(root))
    for edge in plan.edges:
        condition = (
            runtime.branch_condition(edge.target) if edge.kind in ("case", "default") else None
        )
        workflow.add_edge(edge.source, entry(edge.target), condition)
    if plan.output is not None:
        workflow.add_node(OUTPUT_NODE, runtime.OutputNode(plan.output))
        for sink in plan.sinks:
            workflow.add_edge(sink, OUTPUT_NODE)
    workflow.validate()
    return workflow


def _sole_predecessors(plan: DagPlan) -> dict[str, str | None]:
    sources: dict[str, list[str]] = {}
    for edge in plan.edges:
        sources.setdefault(edge.target, []).append(edge.source)
    return {target: found[0] if len(found) == 1 else None for target, found in sources.items()}


_CONTEXT_FREE = (
    runtime.AgentCall,
    runtime.ToolCall,
    runtime.FunctionCall,
    runtime.Switch,
    runtime.Fork,
)


def _context_free(target: Any, node_plan: NodePlan, predecessor: str | None) -> bool:
    """Whether the node reads nothing but its input (then it runs without a context)."""
    if not isinstance(target, _CONTEXT_FREE) or getattr(target, "wants_ctx", False):
        return False
    if predecessor is None:  # a root reads the workflow input through the context
        return False
    for template in node_plan.templates.values():
        for expression in template.expressions:
            for name, kind in expression.bindings:
                if kind != CURRENT and not (kind == NODE and name == predecessor):
                    return False
    return True


def _retry(spec: RetrySpec | None) -> Any:
    if spec is None:
        return None
    from gecko.core.retry import RetryPolicy

    return RetryPolicy(
        max_attempts=spec.attempts,
        initial_delay=spec.initial_delay,
        max_delay=spec.max_delay,
        backoff=spec.backoff,
        jitter=spec.jitter,
    )


def _compile(
    node_plan: NodePlan,
    plan: DagPlan,
    problems: Problems,
    registries: Registries,
    where: tuple[Any, ...],
) -> Any:
    node, templates, unwrap = node_plan.node, node_plan.templates, node_plan.unwrap
    inputs = templates.get("inputs")
    if isinstance(node, AgentNode):
        agent, response_model = _agent(node, problems, registries, where)
        return runtime.AgentCall(node.id, agent, inputs, response_model, unwrap=unwrap)
    if isinstance(node, ToolNode):
        return runtime.ToolCall(
            node.id, _tool(node.tool, problems, registries, (*where, "tool")), inputs, unwrap=unwrap
        )
    if isinstance(node, FunctionNode):
        return _function(node, inputs, problems, registries, where, unwrap)
    if isinstance(node, SwitchNode):
        cases = [(b.case, b.target) for b in node.branches if b.default is None and b.target]
        default = next((b.default for b in node.branches if b.default), None)
        return runtime.Switch(node.id, templates["condition"], cases, default, unwrap=unwrap)  # type: ignore[arg-type]
    if isinstance(node, ParallelNode):
        if node.wait_all:
            return runtime.Fork(node.id, unwrap=unwrap)
        branches = [(b, _inline(b, plan, problems, registries)) for b in node.branches]
        return runtime.Race(node.id, branches, unwrap=unwrap)
    if isinstance(node, LoopNode):
        body = _inline(node.body, plan, problems, registries)
        return runtime.Loop(node.id, templates["items"], body, node.concurrency, unwrap=unwrap)
    if isinstance(node, AggregationNode):
        sources = list(node.sources or node.dependencies)
        return runtime.Aggregate(node.id, sources, node.strategy, inputs, unwrap=unwrap)
    if isinstance(node, SetNode):
        return runtime.SetValues(node.id, templates["values"], unwrap=unwrap)
    if isinstance(node, SubWorkflowNode):
        return runtime.Prepare(node.id, inputs, unwrap=unwrap), _sub_workflow(
            node, problems, registries, where
        )
    raise AssertionError(
        f"unexpected node {node!r}"
    )  # pragma: no cover - human nodes are refused before


def _inline(node_id: str, plan: DagPlan, problems: Problems, registries: Registries) -> Any:
    child = plan.nodes[node_id]
    return _compile(child, plan, problems, registries, ("workflow", "nodes", child.index))


def _agent(
    node: AgentNode, problems: Problems, registries: Registries, where: tuple[Any, ...]
) -> tuple[Any, Any]:
    response_model = None
    if node.response_schema is not None:
        try:
            response_model = model_from_schema(node.response_schema, f"{node.id}_response")
        except SchemaError as exc:
            problems.add(str(exc), (*where, "response_schema"))
    entry = registries.agents.get(node.agent) if node.agent is not None else None
    if entry is not None:
        agent = entry
        if isinstance(entry, Mapping):
            agent = entry.get("agent")
            response_model = response_model or entry.get("response_model")
        if not callable(getattr(agent, "run", None)):
            problems.add(f"agent {node.agent!r} passed in has no run() method", (*where, "agent"))
        for option in ("system_prompt", "tools"):
            if getattr(node, option):
                problems.add(
                    f"`{option}` applies to agents the spec builds from a model; {node.agent!r} is "
                    "an agent passed in, with its own",
                    (*where, option),
                )
        return agent, response_model
    model_id = node.model or node.agent
    assert model_id is not None
    from gecko.core.factories import create_model

    try:
        model = create_model(model_id)
    except GeckoError as exc:
        field_name = "model" if node.model else "agent"
        known = ", ".join(sorted(registries.agents)) or "none"
        what = "model" if node.model else f"agent (agents passed in: {known}) or model id"
        problems.add(f"unknown {what} {model_id!r}: {exc.message}", (*where, field_name))
        return None, response_model
    tools = [
        _tool(name, problems, registries, (*where, "tools", i)) for i, name in enumerate(node.tools)
    ]
    from gecko.core.agent import Agent

    try:
        agent = Agent(
            model,
            name=node.id,
            tools=[t for t in tools if t is not None],
            system_prompt=node.system_prompt,
        )
    except GeckoError as exc:
        problems.add(f"cannot build agent {node.id!r}: {exc.message}", where)
        return None, response_model
    return agent, response_model


def _tool(name: str, problems: Problems, registries: Registries, where: tuple[Any, ...]) -> Any:
    entry = registries.tools.get(name)
    if entry is not None:
        if callable(getattr(entry, "execute", None)):
            return entry
        from gecko.core.tools import as_tool

        try:
            return as_tool(entry)
        except GeckoError as exc:
            problems.add(f"tool {name!r} passed in is not usable: {exc.message}", where)
            return None
    from gecko.core.factories import create_tool

    try:
        return create_tool(name)
    except GeckoError as exc:
        passed = ", ".join(sorted(registries.tools)) or "none"
        problems.add(f"{exc.message} (tools passed in: {passed})", where)
        return None


def _function(
    node: FunctionNode,
    inputs: Any,
    problems: Problems,
    registries: Registries,
    where: tuple[Any, ...],
    unwrap: bool,
) -> Any:
    path = (*where, "function")
    function = registries.functions.get(node.function)
    if function is None:
        if ":" not in node.function:
            passed = ", ".join(sorted(registries.functions)) or "none"
            problems.add(
                f"unknown function {node.function!r}: name one passed in (functions: {passed}) "
                "or a `module:attr` path",
                path,
            )
            return None
        module = node.function.partition(":")[0]
        allowed = registries.allow_imports
        if allowed is not None and not any(
            module == m or module.startswith(m + ".") for m in allowed
        ):
            problems.add(
                f"importing {module!r} is not allowed for this spec (allow_imports: "
                f"{', '.join(allowed) or 'none'})",
                path,
            )
            return None
        from gecko.core.plugins.registry import import_object

        try:
            function = import_object(node.function, context=f"function node {node.id!r}")
        except GeckoError as exc:
            problems.add(exc.message, path)
            return None
    if not callable(function):
        problems.add(f"{node.function!r} is not callable", path)
        return None
    from gecko.compose.targets import is_async_callable

    wants_ctx, ok = _check_signature(
        function, set(node.inputs), problems, (*where, "inputs"), node.id
    )
    if not ok:
        return None
    return runtime.FunctionCall(
        node.id,
        function,
        inputs,
        wants_ctx=wants_ctx,
        is_async=is_async_callable(function),
        unwrap=unwrap,
        positional=_positional(function, list(node.inputs)),
    )


def _positional(function: Callable[..., Any], names: list[str]) -> tuple[str, ...] | None:
    """The input names in parameter order, if they are exactly the function's first parameters."""
    params = _parameters(function)
    if params is None or not names:
        return None
    order = [n for n, p in params.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    first = order[: len(names)]
    if set(first) != set(names) or len(first) != len(names):
        return None
    leading = list(params)[: len(names)]
    return tuple(first) if leading == first else None


_signatures: dict[int, tuple[Callable[..., Any], Any]] = {}


def _parameters(function: Callable[..., Any]) -> Any:
    """``inspect.signature(function).parameters``, cached (500 nodes often share one function)."""
    cached = _signatures.get(id(function))
    if cached is not None and cached[0] is function:
        return cached[1]
    try:
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):
        params = None
    if len(_signatures) > 1024:
        _signatures.clear()
    _signatures[id(function)] = (function, params)
    return params


def _check_signature(
    function: Callable[..., Any],
    given: set[str],
    problems: Problems,
    where: tuple[Any, ...],
    node_id: str,
) -> tuple[bool, bool]:
    params = _parameters(function)
    if params is None:
        return False, True
    wants_ctx = "ctx" in params
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return wants_ctx, True
    names = {n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    unknown = sorted(given - names)
    missing = sorted(
        n for n, p in params.items()
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and n not in given and n != "ctx"
    )  # fmt: skip
    if unknown or missing:
        parts = [f"it takes no {', '.join(unknown)}"] if unknown else []
        parts += [f"missing {', '.join(missing)}"] if missing else []
        detail = "; ".join(parts)
        problems.add(
            f"the inputs of function node {node_id!r} do not fit {getattr(function, '__qualname__', function)}"
            f"({', '.join(params)}): {detail}",
            where,
        )
        return wants_ctx, False
    return wants_ctx, True


def _sub_workflow(
    node: SubWorkflowNode, problems: Problems, registries: Registries, where: tuple[Any, ...]
) -> Any:
    from gecko.compose.workflow.workflow import Workflow

    load_workflow = registries.load
    assert load_workflow is not None, "the loader passes itself in Registries.load"
    if node.workflow_id is not None:
        entry = registries.workflows.get(node.workflow_id)
        if entry is None:
            known = ", ".join(sorted(registries.workflows)) or "none"
            problems.add(
                f"unknown workflow {node.workflow_id!r}; workflows passed in: {known}",
                (*where, "workflow_id"),
            )
            return None
        if isinstance(entry, Workflow):
            return entry
        spec: Any = entry
        label = node.workflow_id
    else:
        assert node.file is not None
        if registries.allow_imports is not None:
            problems.add(
                "a spec with allow_imports cannot load sub-workflow files", (*where, "file")
            )
            return None
        path = Path(node.file)
        if not path.is_absolute() and registries.directory is not None:
            path = registries.directory / path
        spec, label = path, str(path)
        if str(path.resolve()) in registries.loading:
            problems.add(f"sub-workflow file {node.file!r} includes itself", (*where, "file"))
            return None
    try:
        return load_workflow(
            spec,
            agents=registries.agents,
            tools=registries.tools,
            functions=registries.functions,
            workflows=registries.workflows,
            allow_imports=registries.allow_imports,
            _loading=registries.loading,
        )
    except SpecError as exc:
        for problem in exc.problems:
            problems.add(
                f"in sub-workflow {label}: {problem}",
                (*where, "file" if node.file else "workflow_id"),
            )
        return None
