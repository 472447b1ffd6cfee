"""Gecko agents and workflows as the tools of an MCP server (``gecko mcp serve``).

    server = build_server([agent, expose(workflow, input_schema=Order)])
    server.run()                                   # stdio
    server.run("streamable-http", host="127.0.0.1", port=8000)

An agent becomes a tool taking ``prompt`` (and an optional ``session_id``) and
returning its answer. A Gecko error (a failed node, a timeout) becomes an MCP
tool error carrying its message; any other exception is reported by the SDK
without its details. A workflow becomes a tool taking its input schema (the
fields of ``input_schema``, or one ``input`` of any JSON type) and returning its
result; while it runs, each completed node is reported as an MCP progress
notification (``progress`` = nodes done, ``total`` = nodes in the graph).
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from gecko.core.errors import ConfigurationError, GeckoError
from gecko.core.tools.function import check_tool_name
from gecko.core.tools.result import format_output
from mcp.server.mcpserver import Context
from mcp.server.mcpserver import MCPServer as SDKServer
from mcp.server.mcpserver.exceptions import ToolError


@dataclass(frozen=True)
class Exposed:
    """An agent or workflow with the name, description and input schema its MCP tool gets."""

    target: Any
    name: str
    description: str
    input_schema: type[BaseModel] | None = None


def expose(
    target: Any,
    *,
    name: str | None = None,
    description: str | None = None,
    input_schema: type[BaseModel] | None = None,
) -> Exposed:
    """Describe how ``target`` (an Agent or a Workflow) is served; the defaults come from the target."""
    if isinstance(target, Exposed):
        return target
    kind = _kind(target)
    tool_name = check_tool_name(name or str(getattr(target, "name", "")))
    if input_schema is not None:
        if kind != "workflow":
            raise ConfigurationError(
                f"input_schema is for workflows; agent {tool_name!r} always takes a prompt"
            )
        if not (isinstance(input_schema, type) and issubclass(input_schema, BaseModel)):
            raise ConfigurationError(
                f"input_schema must be a pydantic model class, got {input_schema!r}"
            )
    default = (
        f"Ask the Gecko agent {tool_name!r}: give it a prompt, get its answer."
        if kind == "agent"
        else f"Run the Gecko workflow {tool_name!r} on an input and return its result."
    )
    return Exposed(target, tool_name, description or default, input_schema)


def build_server(app: Any, *, name: str = "gecko") -> SDKServer[Any]:
    """An SDK ``MCPServer`` whose tools run the agents and workflows of ``app``.

    ``app`` is an Agent, a Workflow, an ``expose(...)`` of one, or a list or a
    ``{tool_name: target}`` mapping of them.
    """
    server: SDKServer[Any] = SDKServer(name)
    seen: set[str] = set()
    for item in _items(app):
        if item.name in seen:
            raise ConfigurationError(
                f"two served agents or workflows are both named {item.name!r}",
                hint="give one of them another name: expose(target, name=...) or a {name: target} mapping",
            )
        seen.add(item.name)
        runner = _agent_tool(item) if _kind(item.target) == "agent" else _workflow_tool(item)
        server.add_tool(runner, name=item.name, description=item.description)
    if not seen:
        raise ConfigurationError("there is nothing to serve: the app has no agent or workflow")
    return server


def _items(app: Any) -> Iterable[Exposed]:
    if isinstance(app, Mapping):
        return [expose(target, name=str(key)) for key, target in app.items()]
    if isinstance(app, (list, tuple)):
        return [expose(target) for target in app]
    return [expose(app)]


def _kind(target: Any) -> str:
    target = target.target if isinstance(target, Exposed) else target
    if callable(getattr(target, "execute", None)) and hasattr(target, "add_node"):
        return "workflow"
    if inspect.iscoroutinefunction(getattr(target, "run", None)):
        return "agent"
    raise ConfigurationError(
        f"cannot serve {target!r} over MCP: it is neither a Gecko Agent nor a Workflow",
        hint="serve an Agent (AgentBuilder().build()), a Workflow, or a list of them",
    )


def _agent_tool(item: Exposed) -> Any:
    agent = item.target

    async def run_agent(prompt: str, session_id: str | None = None) -> str:
        try:
            output = await agent.run(prompt, session_id=session_id)
        except GeckoError as exc:  # says what went wrong; the client's model can act on it
            raise ToolError(str(exc)) from exc
        return str(output.content)

    return run_agent


def _workflow_tool(item: Exposed) -> Any:
    workflow, model = item.target, item.input_schema

    async def run_workflow(mcp_context: Context, **arguments: Any) -> str:
        value = model(**arguments) if model is not None else arguments.get("input")
        return await _execute_with_progress(workflow, value, mcp_context)

    context = inspect.Parameter("mcp_context", inspect.Parameter.KEYWORD_ONLY, annotation=Context)
    if model is not None:
        parameters = [
            inspect.Parameter(
                field,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=info.annotation,
                default=inspect.Parameter.empty if info.is_required() else info.default,
            )
            for field, info in model.model_fields.items()
        ]
    else:
        parameters = [inspect.Parameter("input", inspect.Parameter.KEYWORD_ONLY, annotation=Any)]
    run_workflow.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [*parameters, context], return_annotation=str
    )
    run_workflow.__annotations__ = {
        **{p.name: p.annotation for p in parameters},
        "mcp_context": Context,
        "return": str,
    }
    return run_workflow


async def _execute_with_progress(workflow: Any, value: Any, context: Context) -> str:
    from gecko.core.events import EventBus

    if workflow.event_bus is None:  # progress needs the workflow's events
        workflow.event_bus = EventBus(name=f"mcp:{workflow.name}")
    run_id = uuid.uuid4().hex
    total = len(workflow.nodes)
    done = 0

    async def on_node_completed(event: Any) -> None:
        nonlocal done
        if event.run_id != run_id:
            return
        done += 1
        await context.report_progress(done, total, f"node {event.node!r} completed")

    unsubscribe = workflow.event_bus.subscribe("workflow.node_completed", on_node_completed)
    try:
        output = await workflow.execute(value, session_id=run_id)
    except GeckoError as exc:  # a node failed, a timeout...: the client sees why
        raise ToolError(str(exc)) from exc
    finally:
        unsubscribe()
    content = getattr(output, "content", None)
    return content if isinstance(content, str) else format_output(output)
