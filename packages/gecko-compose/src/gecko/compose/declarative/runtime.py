"""The callables spec nodes compile to: ordinary workflow nodes taking ``(value, ctx)``.

Each one evaluates its templates against a ``Scope`` made of the workflow input
(the output of the hidden ``__input__`` entry node), ``ctx.state``, ``ctx.history``
and ``current`` (the node's input), then does its work. Outputs are JSON data
(or an ``AgentOutput``), so every run checkpoints without registered types.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio

from gecko.compose.context import WorkflowContext
from gecko.compose.declarative.check import INPUT_NODE
from gecko.compose.declarative.expressions import Scope, jsonable, output_json
from gecko.compose.declarative.templates import Template
from gecko.core.errors import ConfigurationError

logger = logging.getLogger(__name__)


_ANNOTATIONS: dict[str, Any] = {"value": Any, "return": Any}


def scope_of(value: Any, ctx: WorkflowContext, unwrap: bool) -> Scope:
    if unwrap and isinstance(value, Mapping) and "input" in value:
        value = value["input"]
    return Scope(
        input=ctx.history.get(INPUT_NODE), state=ctx.state, history=ctx.history, current=value
    )


class SpecNode:
    """Base of compiled nodes: ``await node(value, ctx)`` as a workflow node."""

    def __init__(self, node_id: str, *, unwrap: bool = False) -> None:
        self.node_id = node_id
        self.unwrap = unwrap
        self.where = f"node {node_id!r}"

    async def __call__(self, value: Any, ctx: WorkflowContext) -> Any:
        return await self.run(scope_of(value, ctx, self.unwrap), ctx)

    async def run(self, scope: Scope, ctx: WorkflowContext | None) -> Any:
        raise NotImplementedError

    def direct(self, predecessor: str | None) -> Callable[[Any], Awaitable[Any]]:
        """A node taking only its input (no context: the engine's fastest path).

        For nodes whose expressions read only ``current`` and the output of their one
        predecessor (which is their input).
        """
        run, unwrap = self.run, self.unwrap

        async def node(value: Any) -> Any:
            current = (
                value["input"]
                if unwrap and isinstance(value, Mapping) and "input" in value
                else value
            )
            history = {predecessor: value} if predecessor is not None else {}
            return await run(Scope(history=history, current=current), None)

        node.__name__ = node.__qualname__ = self.node_id
        node.__annotations__ = dict(_ANNOTATIONS)  # real objects: no string annotation to evaluate
        return node


class InputNode:
    """The hidden entry node: validates the workflow input, seeds declared state keys."""

    def __init__(self, model: Any, state: Mapping[str, Any]) -> None:
        self.model = model
        self.state = dict(state)

    async def __call__(self, value: Any, ctx: WorkflowContext) -> Any:
        for key, default in self.state.items():
            if key not in ctx.state:
                ctx.state[key] = default
        if self.model is None:
            return value
        from pydantic import ValidationError

        from gecko.core.tools.schema import describe_validation_errors

        try:
            self.model.model_validate(value)
        except ValidationError as exc:
            raise ConfigurationError(
                "the workflow input does not match the spec's `inputs` schema: "
                + "; ".join(describe_validation_errors(exc, noun="field")),
                hint="pass an input with the fields `inputs` declares",
            ) from None
        return value


class OutputNode(SpecNode):
    def __init__(self, template: Template) -> None:
        super().__init__("__output__")
        self.template = template
        self.where = "the workflow output"

    async def __call__(self, value: Any, ctx: WorkflowContext) -> Any:
        return self.template.render(scope_of(value, ctx, False), self.where)


class AgentCall(SpecNode):
    def __init__(
        self,
        node_id: str,
        agent: Any,
        inputs: Template | None,
        response_model: Any,
        *,
        unwrap: bool,
    ) -> None:
        super().__init__(node_id, unwrap=unwrap)
        self.agent = agent
        self.inputs = inputs
        self.response_model = response_model

    async def run(self, scope: Scope, ctx: WorkflowContext | None) -> Any:
        payload = (
            self.inputs.render(scope, self.where) if self.inputs is not None else scope.current
        )
        text = payload if isinstance(payload, str) else _as_text(payload)
        if self.response_model is None:
            return await self.agent.run(text)
        output = await self.agent.run(text, response_model=self.response_model)
        if output.parsed is not None:  # stored as JSON: no class to register for checkpoints
            output.parsed = jsonable(output.parsed)
        return output


def _as_text(payload: Any) -> str:
    from gecko.core.output import AgentOutput

    if isinstance(payload, AgentOutput):
        return payload.content
    return json.dumps(jsonable(payload), ensure_ascii=False, default=str)


class ToolCall(SpecNode):
    def __init__(self, node_id: str, tool: Any, inputs: Template | None, *, unwrap: bool) -> None:
        super().__init__(node_id, unwrap=unwrap)
        self.tool = tool
        self.inputs = inputs

    async def run(self, scope: Scope, ctx: WorkflowContext | None) -> Any:
        arguments = self.inputs.render(scope, self.where) if self.inputs is not None else {}
        return jsonable(await self.tool.execute(arguments))


class FunctionCall(SpecNode):
    def __init__(
        self,
        node_id: str,
        function: Callable[..., Any],
        inputs: Template | None,
        *,
        wants_ctx: bool,
        is_async: bool,
        unwrap: bool,
        positional: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(node_id, unwrap=unwrap)
        self.function = function
        self.inputs = inputs
        self.wants_ctx = wants_ctx
        self.is_async = is_async
        self.positional = positional  # input names in parameter order, when passed positionally

    def direct(self, predecessor: str | None) -> Callable[[Any], Awaitable[Any]]:
        getters = self.inputs.keyword_getters(predecessor, self.where) if self.inputs else []
        if getters is None or not self.is_async or self.unwrap:
            return super().direct(predecessor)
        function = self.function
        by_name = dict(getters)
        if self.positional is not None and set(self.positional) == set(by_name):
            ordered = [by_name[name] for name in self.positional]
            if len(ordered) == 1:
                [first] = ordered

                async def node(value: Any) -> Any:  # the argument straight from the input
                    return await function(first(value))

            else:

                async def node(value: Any) -> Any:  # arguments straight from the input
                    return await function(*[get(value) for get in ordered])

        elif len(getters) == 1:
            [(only, get)] = getters

            async def node(value: Any) -> Any:  # one keyword argument, straight from the input
                return await function(**{only: get(value)})

        else:

            async def node(value: Any) -> Any:  # keyword arguments straight from the input
                return await function(**{key: get(value) for key, get in getters})

        node.__name__ = node.__qualname__ = self.node_id
        node.__annotations__ = dict(_ANNOTATIONS)  # real objects: no string annotation to evaluate
        return node

    async def run(self, scope: Scope, ctx: WorkflowContext | None) -> Any:
        kwargs = self.inputs.render(scope, self.where) if self.inputs is not None else {}
        if self.wants_ctx:
            kwargs = {**kwargs, "ctx": ctx}
        if self.is_async:
            return await self.function(**kwargs)
        from gecko.core.threads import run_sync

        return await run_sync(lambda: self.function(**kwargs))


class Switch(SpecNode):
    """Evaluates ``condition``; its output ``{value, target, input}`` selects the taken edge."""

    def __init__(
        self,
        node_id: str,
        condition: Template,
        cases: list[tuple[Any, str]],
        default: str | None,
        *,
        unwrap: bool,
    ) -> None:
        super().__init__(node_id, unwrap=unwrap)
        self.condition = condition
        self.cases = cases
        self.default = default

    async def run(self, scope: Scope, ctx: WorkflowContext | None) -> Any:
        value = self.condition.render(scope, self.where)
        target = next((t for case, t in self.cases if _matches(value, case)), self.default)
        return {"value": value, "target": target, "input": scope.current}


def _matches(value: Any, case: Any) -> bool:
    if isinstance(value, bool) or isinstance(case, bool):
        return value is case
    return bool(value == case) or (
        not isinstance(value, str) and isinstance(case, str) and str(value) == case
    )


def branch_condition(target: str) -> Callable[[Any], bool]:
    def taken(output: Any) -> bool:
        return isinstance(output, Mapping) and output.get("target") == target

    taken.__name__ = target
    return taken


class Fork(SpecNode):
    """A parallel node that waits for all its branches: passes its input on to them."""

    async def run(self, scope: Scope, ctx: WorkflowContext | None) -> Any:
        return {"input": scope.current}


class Race(SpecNode):
    """A parallel node with ``wait_all: false``: the first branch to succeed wins, the rest stop."""

    def __init__(self, node_id: str, branches: list[tuple[str, SpecNode]], *, unwrap: bool) -> None:
        super().__init__(node_id, unwrap=unwrap)
        self.branches = branches

    async def run(self, scope: Scope, ctx: WorkflowContext | None) -> Any:
        result: dict[str, Any] = {}
        errors: list[BaseException] = []
        async with anyio.create_task_group() as group:

            async def one(name: str, branch: SpecNode) -> None:
                try:
                    output = await branch.run(scope, ctx)
                except Exception as exc:  # the others may still win
                    errors.append(exc)
                    return
                if not result:
                    result.update(winner=name, output=output_json(output))
                    group.cancel_scope.cancel()

            for name, branch in self.branches:
                group.start_soon(one, name, branch)
        if not result:
            raise errors[0]
        return result


class Loop(SpecNode):
    """Runs its body once per item (``current`` is the item), at most ``concurrency`` at once."""

    def __init__(
        self, node_id: str, items: Template, body: SpecNode, concurrency: int, *, unwrap: bool
    ) -> None:
        super().__init__(node_id, unwrap=unwrap)
        self.items = items
        self.body = body
        self.concurrency = concurrency

    async def run(self, scope: Scope, ctx: WorkflowContext | None) -> Any:
        items = self.items.render(scope, self.where)
        if not isinstance(items, list):
            raise ConfigurationError(
                f"{self.where}: `items` gave a {type(items).__name__}, not a list",
                hint="make the expression give a list, e.g. ${input.urls}",
            )
        results: list[Any] = [None] * len(items)
        errors: list[Exception] = []
        limiter = anyio.CapacityLimiter(self.concurrency)

        async def one(i: int, item: Any) -> None:
            async with limiter:
                item_scope = Scope(
                    input=scope.input, state=scope.state, history=scope.history, current=item
                )
                try:
                    results[i] = output_json(await self.body.run(item_scope, ctx))
                except Exception as exc:  # the first failure fails the loop; the rest stop
                    errors.append(exc)
                    group.cancel_scope.cancel()

        async with anyio.create_task_group() as group:
            for i, item in enumerate(items):
                group.start_soon(one, i, item)
        if errors:
            raise errors[0]
        return results


class Aggregate(SpecNode):
    def __init__(
        self,
        node_id: str,
        sources: list[str],
        strategy: str,
        inputs: Template | None,
        *,
        unwrap: bool,
    ) -> None:
        super().__init__(node_id, unwrap=unwrap)
        self.sources = sources
        self.strategy = strategy
        self.inputs = inputs

    async def run(self, scope: Scope, ctx: WorkflowContext | None) -> Any:
        if self.inputs is not None:
            return self.inputs.render(scope, self.where)
        assert ctx is not None
        present = [(s, output_json(ctx.history[s])) for s in self.sources if s in ctx.history]
        if self.strategy == "list":
            return [value for _, value in present]
        if self.strategy == "merge":
            merged: dict[str, Any] = {}
            for source, value in present:
                if not isinstance(value, Mapping):
                    raise ConfigurationError(
                        f"{self.where}: cannot merge the output of {source!r} (a {type(value).__name__})",
                        hint="merge mappings only, or use strategy: dict / list",
                    )
                merged.update(value)
            return merged
        return dict(present)


class SetValues(SpecNode):
    def __init__(self, node_id: str, values: Template, *, unwrap: bool) -> None:
        super().__init__(node_id, unwrap=unwrap)
        self.values = values

    async def run(self, scope: Scope, ctx: WorkflowContext | None) -> Any:
        values = self.values.render(scope, self.where)
        assert ctx is not None
        for key, value in values.items():
            ctx.state[key] = value
        return values


class Prepare(SpecNode):
    """Evaluates a sub-workflow node's ``inputs``: the sub-workflow's input."""

    def __init__(self, node_id: str, inputs: Template | None, *, unwrap: bool) -> None:
        super().__init__(node_id, unwrap=unwrap)
        self.inputs = inputs

    async def run(self, scope: Scope, ctx: WorkflowContext | None) -> Any:
        return self.inputs.render(scope, self.where) if self.inputs is not None else scope.current
