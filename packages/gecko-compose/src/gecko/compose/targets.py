"""What can run as a workflow node or team member, and how to call it with one input.

Functions (sync or async), Agents (anything with ``async run(input)``), Teams and
Workflows. Sync functions run in a worker thread so they never block the event loop.
"""

from __future__ import annotations

import enum
import functools
import inspect
from typing import Any

from gecko.compose.errors import WorkflowValidationError
from gecko.core.threads import run_sync


class TargetKind(enum.IntEnum):
    ASYNC_FN = 1
    SYNC_FN = 2  # runs in a worker thread
    INLINE_FN = 3  # sync, run on the event loop (``@step(offload=False)``)
    AGENT = 4
    TEAM = 5
    WORKFLOW = 6


def declared_kind(target: Any) -> TargetKind | None:
    """The kind a class declares for its instances (``_gecko_target_kind``: Team, Workflow)."""
    kind = getattr(type(target), "_gecko_target_kind", None)
    return kind if isinstance(kind, TargetKind) else None


def classify(target: Any, *, offload: bool = True, what: str = "node") -> TargetKind:
    """What ``target`` is as a node or member. Teams and Workflows are recognised by the
    ``_gecko_target_kind`` class attribute they declare, so this module imports neither."""
    if inspect.isclass(target):  # callable, and Agent.run is an async function: refuse it first
        raise WorkflowValidationError(
            f"{what} is the class {target.__qualname__}, not an instance",
            hint=_instance_hint(target),
        )
    declared = declared_kind(target)
    if declared is not None:
        return declared
    if is_async_callable(target):
        return TargetKind.ASYNC_FN
    run = getattr(target, "run", None)
    if not inspect.isfunction(target) and run is not None and is_async_callable(run):
        return TargetKind.AGENT
    if inspect.isasyncgenfunction(target) or inspect.isgeneratorfunction(target):
        raise WorkflowValidationError(
            f"{what} {target!r} is a generator function; a node must return its output",
        )
    if callable(target):
        return TargetKind.SYNC_FN if offload else TargetKind.INLINE_FN
    raise WorkflowValidationError(
        f"{what} {target!r} is not runnable",
        hint="use a function (sync or async), an Agent (async run(input)), a Team or a Workflow",
    )


def _instance_hint(cls: type) -> str:
    """How to get the instance that was meant, for a class passed as a node or member."""
    from gecko.core.agent import Agent

    name = cls.__qualname__
    if issubclass(cls, Agent):
        built = " or AgentBuilder().with_model(...).build()" if cls is Agent else ""
        return f"pass an instance: {name}(model=...){built}"
    kind = getattr(cls, "_gecko_target_kind", None)
    if kind is TargetKind.TEAM:
        return f"pass an instance: {name}([member, ...])"
    if kind is TargetKind.WORKFLOW:
        return f'pass an instance: {name}("name") with its nodes and edges added'
    if is_async_callable(getattr(cls, "run", None)):
        return f"pass an instance: {name}(...)"
    return (
        f"pass an instance ({name}(...)) or a function; to build a {name} from the input, "
        f"wrap it: lambda value: {name}(value)"
    )


def is_async_callable(target: Any) -> bool:
    while isinstance(target, functools.partial):
        target = target.func
    if inspect.iscoroutinefunction(target):
        return True
    call = getattr(target, "__call__", None)  # noqa: B004 - callable objects with async __call__
    return (
        not inspect.isfunction(target)
        and not inspect.ismethod(target)
        and inspect.iscoroutinefunction(call)
    )


def agent_input(value: Any) -> Any:
    """What an agent receives: the text of a previous AgentOutput, anything else unchanged."""
    from gecko.core.output import AgentOutput

    if isinstance(value, AgentOutput):
        return value.content
    return value


async def call_with_input(kind: TargetKind, target: Any, value: Any) -> Any:
    """Run ``target`` with one input (team members, agent nodes)."""
    if kind is TargetKind.ASYNC_FN:
        return await target(value)
    if kind is TargetKind.AGENT:
        return await target.run(agent_input(value))
    if kind is TargetKind.TEAM:
        return await target.run(value)
    if kind is TargetKind.WORKFLOW:
        return await target.execute(value)
    if kind is TargetKind.INLINE_FN:
        result = target(value)
    else:
        result = await run_sync(target, value)
    if inspect.isawaitable(result):
        result = await result
    return result
