"""The ``gecko.workflow/v1`` spec as pydantic models: DAGs of nodes, and state machines.

A superset of the reference runtime's YAML format: ``workflow: {id, type, inputs,
nodes | states}`` with an optional top-level ``apiVersion: gecko.workflow/v1``.
Values of ``inputs``, ``condition``, ``guard``... may hold ``${...}`` CEL expressions.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

API_VERSION = "gecko.workflow/v1"
ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*$"

Id = Annotated[str, Field(pattern=ID_PATTERN, max_length=128)]
_LIMIT_KINDS = frozenset({"function", "agent", "team", "workflow", "tool", "human"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetrySpec(_Model):
    """Retries with exponential backoff: the wait after attempt n is ``initial_delay * backoff**(n-1)``."""

    attempts: int = Field(3, ge=1, le=100, description="attempts in all, the first included")
    initial_delay: float = Field(0.5, ge=0, le=3600)
    max_delay: float = Field(30.0, ge=0, le=86400)
    backoff: float = Field(2.0, ge=1, le=100)
    jitter: bool = True


class _NodeBase(_Model):
    id: Id
    description: str | None = None
    dependencies: list[Id] = Field(
        default_factory=list, description="nodes that must finish before this one"
    )
    retry: RetrySpec | None = None
    timeout: float | None = Field(None, gt=0, description="seconds per attempt")
    catch: dict[str, Id] | None = Field(
        None, description="error class name -> fallback node (needs the execution lifecycle)"
    )
    compensate: Id | None = Field(
        None, description="node undoing this one if the run fails later (needs the lifecycle)"
    )
    tags: list[str] = Field(default_factory=list)


class AgentNode(_NodeBase):
    """An agent: a registered agent name (or a model id), its prompt, tools and response schema."""

    type: Literal["agent"]
    agent: str | None = Field(None, description="a registered agent name, or a model id")
    model: str | None = Field(None, description="a model id such as openai/gpt-4o-mini")
    system_prompt: str | None = None
    tools: list[str] = Field(default_factory=list, description="registered tool names")
    response_schema: dict[str, Any] | None = Field(
        None, description="a JSON Schema (object) the answer must follow; output is that object"
    )
    inputs: Any = Field(None, description="what the agent receives (text, or a mapping as JSON)")

    @model_validator(mode="after")
    def _agent_or_model(self) -> AgentNode:
        if (self.agent is None) == (self.model is None):
            raise ValueError("give exactly one of `agent` (a registered name) or `model` (an id)")
        return self


class ToolNode(_NodeBase):
    """A registered tool called with the evaluated ``inputs`` as its arguments."""

    type: Literal["tool"]
    tool: str
    inputs: dict[str, Any] = Field(default_factory=dict)


class FunctionNode(_NodeBase):
    """A Python function (``module:attr`` or a name passed in) called with ``inputs`` as kwargs."""

    type: Literal["function"]
    function: str = Field(pattern=r"^[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*)?$")
    inputs: dict[str, Any] = Field(default_factory=dict)


class SwitchBranch(_Model):
    """``{case: value, target: node}``, or ``{default: node}``."""

    case: Any = None
    target: Id | None = None
    default: Id | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SwitchBranch:
        if self.default is not None:
            if self.target is not None or "case" in self.model_fields_set:
                raise ValueError("a default branch has only `default: <node>`")
        elif self.target is None or "case" not in self.model_fields_set:
            raise ValueError("a branch is `{case: value, target: node}` or `{default: node}`")
        return self


class SwitchNode(_NodeBase):
    """Routes to the branch whose ``case`` equals ``condition`` (else to the ``default``)."""

    type: Literal["control"]
    subtype: Literal["switch"]
    condition: str
    branches: list[SwitchBranch] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_default(self) -> SwitchNode:
        if sum(b.default is not None for b in self.branches) > 1:
            raise ValueError("a switch has at most one default branch")
        return self


class ParallelNode(_NodeBase):
    """Runs ``branches`` at once: ``wait_all: true`` waits for all, ``false`` takes the first."""

    type: Literal["control"]
    subtype: Literal["parallel"]
    branches: list[Id] = Field(min_length=1)
    wait_all: bool = True


class LoopNode(_NodeBase):
    """Runs the ``body`` node once per item of ``items`` (``current`` is the item), bounded."""

    type: Literal["control"]
    subtype: Literal["loop"]
    items: str = Field(description="an expression giving a list")
    body: Id
    concurrency: int = Field(4, ge=1, le=1000)


class AggregationNode(_NodeBase):
    """Collects the outputs of ``sources`` (default: its dependencies) as a dict, list or merge."""

    type: Literal["aggregation"]
    sources: list[Id] | None = None
    strategy: Literal["dict", "list", "merge"] = "dict"
    inputs: dict[str, Any] | None = Field(None, description="an explicit output mapping instead")


class SubWorkflowNode(_NodeBase):
    """Another workflow (by id among those passed in, or a spec file) run on ``inputs``."""

    type: Literal["sub_workflow"]
    workflow_id: str | None = None
    file: str | None = None
    inputs: Any = None

    @model_validator(mode="after")
    def _id_or_file(self) -> SubWorkflowNode:
        if (self.workflow_id is None) == (self.file is None):
            raise ValueError("give exactly one of `workflow_id` or `file`")
        return self


class HumanNode(_NodeBase):
    """Waits for a person's answer (key: the node id); needs the execution lifecycle."""

    type: Literal["human"]
    prompt: str | None = None
    inputs: Any = None
    response_schema: dict[str, Any] | None = None


class SetNode(_NodeBase):
    """Writes the evaluated ``values`` into the shared state; its output is the mapping."""

    type: Literal["set"]
    values: dict[str, Any] = Field(min_length=1)


def _node_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        kind, subtype = value.get("type"), value.get("subtype")
    else:
        kind, subtype = getattr(value, "type", None), getattr(value, "subtype", None)
    if kind == "control":
        return f"control:{subtype}" if isinstance(subtype, str) else "control"
    return kind if isinstance(kind, str) else None


Node = Annotated[
    Union[
        Annotated[AgentNode, Tag("agent")],
        Annotated[ToolNode, Tag("tool")],
        Annotated[FunctionNode, Tag("function")],
        Annotated[SwitchNode, Tag("control:switch")],
        Annotated[ParallelNode, Tag("control:parallel")],
        Annotated[LoopNode, Tag("control:loop")],
        Annotated[AggregationNode, Tag("aggregation")],
        Annotated[SubWorkflowNode, Tag("sub_workflow")],
        Annotated[HumanNode, Tag("human")],
        Annotated[SetNode, Tag("set")],
    ],
    Discriminator(
        _node_tag,
        custom_error_type="node_type",
        custom_error_message="unknown node type: `type` must be agent, tool, function, control "
        "(with `subtype: switch | parallel | loop`), aggregation, sub_workflow, human or set",
    ),
]


class _WorkflowBase(_Model):
    id: Id
    name: str | None = None
    description: str | None = None
    inputs: dict[str, Any] | None = Field(None, description="a JSON Schema of the workflow input")
    state: dict[str, Any] = Field(
        default_factory=dict, description="state keys and their initial values"
    )
    limits: dict[str, Annotated[int, Field(ge=1)]] | None = Field(
        None,
        description="nodes running at once per kind (function, agent, tool, workflow, human), "
        "tag:<tag> or model:<id> (needs the execution lifecycle)",
    )

    @field_validator("limits")
    @classmethod
    def _limit_keys(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        for key in value or {}:
            if key not in _LIMIT_KINDS and not key.startswith(("tag:", "model:")):
                raise ValueError(
                    f"unknown limit {key!r}: use a node kind ({', '.join(sorted(_LIMIT_KINDS))}), "
                    "tag:<tag> or model:<model id>"
                )
        return value


class DagSpec(_WorkflowBase):
    """A DAG: nodes run when their dependencies are done."""

    type: Literal["dag"]
    nodes: list[Node] = Field(min_length=1)
    output: Any = Field(None, description="the run's result (an expression); default: last step")


class Action(_Model):
    """An ``on_enter`` / ``on_exit`` / transition action: ``{type, params}``.

    ``log`` (``message``), ``set`` (``values``), ``tool`` / ``agent`` / ``function``
    (``params`` are its inputs), or ``emit`` (raise an ``event``).
    """

    type: Literal["log", "set", "tool", "agent", "function", "emit"]
    params: dict[str, Any] = Field(default_factory=dict)
    name: str | None = Field(None, description="the tool / agent / function to call")


class Transition(_Model):
    event: str = Field(min_length=1, max_length=128)
    target: Id
    guard: str | None = Field(None, description="an expression that must hold")
    actions: list[Action] = Field(default_factory=list)


class State(_Model):
    name: Id
    description: str | None = None
    final: bool = False
    on_enter: list[Action] = Field(default_factory=list)
    on_exit: list[Action] = Field(default_factory=list)
    transitions: list[Transition] = Field(default_factory=list)
    timeout: float | None = Field(None, gt=0)


class StateMachineSpec(_WorkflowBase):
    """A state machine: events move it between states; targets with no entry are final."""

    type: Literal["state_machine"]
    initial_state: Id
    states: list[State] = Field(min_length=1)


def _workflow_tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if isinstance(kind, str) else None


WorkflowBody = Annotated[
    Union[Annotated[DagSpec, Tag("dag")], Annotated[StateMachineSpec, Tag("state_machine")]],
    Discriminator(
        _workflow_tag,
        custom_error_type="workflow_type",
        custom_error_message="`type` must be dag or state_machine",
    ),
]


class WorkflowDocument(_Model):
    """A whole spec document."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    api_version: Literal["gecko.workflow/v1"] = Field("gecko.workflow/v1", alias="apiVersion")
    workflow: WorkflowBody


AnyNode = Union[
    AgentNode,
    ToolNode,
    FunctionNode,
    SwitchNode,
    ParallelNode,
    LoopNode,
    AggregationNode,
    SubWorkflowNode,
    HumanNode,
    SetNode,
]
