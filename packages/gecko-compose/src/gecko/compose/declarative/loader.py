"""``load_workflow`` (parse, validate, compile: a spec becomes a Workflow) and ``validate_spec``."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gecko.compose.declarative.check import DagPlan, Problems, StatePlan, analyse
from gecko.compose.declarative.compile import Registries, build
from gecko.compose.declarative.document import Parsed, parse_document
from gecko.compose.declarative.errors import LifecycleRequiredError
from gecko.compose.declarative.spec import SubWorkflowNode, WorkflowDocument
from gecko.compose.workflow.workflow import Workflow


class SpecWorkflow(Workflow):
    """A Workflow compiled from a ``gecko.workflow/v1`` spec; ``to_spec()`` gives the spec back."""

    document: WorkflowDocument
    spec_file: str | None

    def to_spec(self) -> dict[str, Any]:
        """The normalised spec (defaults left out, sub-workflow files as absolute paths)."""
        data = self.document.model_dump(
            mode="json", by_alias=True, exclude_none=True, exclude_defaults=True
        )
        data["apiVersion"] = self.document.api_version
        base = Path(self.spec_file).parent if self.spec_file else None
        for node, raw in zip(
            getattr(self.document.workflow, "nodes", []), data["workflow"].get("nodes", [])
        ):
            if isinstance(node, SubWorkflowNode) and node.file and base is not None:
                raw["file"] = str((base / node.file).resolve())
        return copy.deepcopy(data)

    def diagram(self) -> str:
        """The spec as Mermaid (``flowchart`` for a DAG)."""
        from gecko.compose.declarative.diagram import to_mermaid

        return to_mermaid(self.document)


def load_workflow(
    spec: Any,
    *,
    agents: Mapping[str, Any] | None = None,
    tools: Mapping[str, Any] | None = None,
    functions: Mapping[str, Callable[..., Any]] | None = None,
    workflows: Mapping[str, Any] | None = None,
    allow_imports: Sequence[str] | None = None,
    _loading: tuple[str, ...] = (),
    **workflow_options: Any,
) -> SpecWorkflow:
    """Parse, validate and compile a spec (a path, YAML/JSON text or a dict) into a Workflow.

    ``agents`` / ``tools`` / ``functions`` / ``workflows`` map names in the spec
    to objects (agents and tools are also looked up in the plugin registries;
    an agent may be ``{"agent": agent, "response_model": Model}``). With
    ``allow_imports`` (for specs from an untrusted source) ``function: module:attr``
    may import only from those modules, and sub-workflow files are refused.
    Other keyword arguments (``storage=``, ``event_bus=``...) go to ``Workflow``.
    Every problem raises one SpecError listing each with ``file:line:column``.
    """
    parsed = parse_document(spec)
    plan = analyse(parsed.document, parsed.source)
    if isinstance(plan, StatePlan) or plan.lifecycle:
        _refuse_lifecycle(parsed, plan)
    assert isinstance(plan, DagPlan)
    file = parsed.source.file
    loading = (*_loading, str(Path(file).resolve())) if file else _loading
    registries = Registries(
        agents=dict(agents or {}),
        tools=dict(tools or {}),
        functions=dict(functions or {}),
        workflows=dict(workflows or {}),
        allow_imports=list(allow_imports) if allow_imports is not None else None,
        directory=parsed.source.directory,
        loading=loading,
        load=load_workflow,
    )
    name = workflow_options.pop("name", plan.spec.id)  # the spec's id, unless given
    workflow = SpecWorkflow(name, **workflow_options)
    workflow.document = parsed.document
    workflow.spec_file = file
    build(plan, Problems(parsed.source), registries, workflow)
    return workflow


def _refuse_lifecycle(parsed: Parsed, plan: DagPlan | StatePlan) -> None:
    problems = Problems(parsed.source)
    for feature, path in plan.lifecycle:
        problems.add(
            f"running {feature} needs the execution lifecycle, which is not built yet", path
        )
    raise LifecycleRequiredError(
        problems.items,
        hint="`gecko workflow validate`, `diagram` and `schema` work on this spec already; running it "
        "needs gecko-compose's execution lifecycle (interrupts, handle.send, catch / compensate, limits)",
    )


@dataclass
class SpecReport:
    """What ``validate_spec`` found in a valid spec."""

    id: str
    type: str
    file: str | None
    nodes: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    final_states: list[str] = field(default_factory=list)
    implicit_final_states: list[str] = field(default_factory=list)
    needs_lifecycle: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        where = self.file or "<spec>"
        if self.type == "dag":
            head = f"{where}: valid dag {self.id!r} with {len(self.nodes)} nodes"
        else:
            head = f"{where}: valid state_machine {self.id!r} with {len(self.states)} states"
        out = [head]
        if self.final_states:
            out.append("final states: " + ", ".join(self.final_states))
        if self.implicit_final_states:
            out.append(
                "implicit final states (transition targets with no entry under `states`): "
                + ", ".join(self.implicit_final_states)
            )
        out.extend(f"warning: {w}" for w in self.warnings)
        out.extend(f"needs the execution lifecycle to run: {f}" for f in self.needs_lifecycle)
        return out


def validate_spec(spec: Any) -> SpecReport:
    """Parse and check a spec without resolving agents, tools or functions; raise SpecError."""
    parsed = parse_document(spec)
    plan = analyse(parsed.document, parsed.source)
    body = parsed.document.workflow
    report = SpecReport(body.id, body.type, parsed.source.file)
    report.needs_lifecycle = [feature for feature, _ in plan.lifecycle]
    report.warnings = list(plan.warnings)
    if isinstance(plan, StatePlan):
        report.states = [s.name for s in plan.spec.states]
        report.final_states = list(plan.finals)
        report.implicit_final_states = list(plan.implicit_finals)
    else:
        report.nodes = list(plan.nodes)
    return report
