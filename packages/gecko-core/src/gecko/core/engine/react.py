"""The ReAct engine: model call -> tool calls -> results back to the model -> ... -> answer.

One ``ReActEngine`` serves any number of concurrent runs: everything a run
owns lives in its ``RunContext``. A run ends with ``stop_reason``:

- ``final``: the model answered (validated structured output included);
- ``max_turns``: ``max_turns`` model calls were made without a final answer;
- ``budget``: the run's token or tool-call budget was used up;
- ``loop_guard``: the model asked for the same tool call (same name, same
  arguments) ``loop_guard`` times in the run.

Tool failures and invalid arguments never end a run: they go back to the
model as error results. Model errors propagate. Hooks and events observe the
run; a failing hook is logged and ignored.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import anyio
from pydantic import BaseModel

from gecko.core.agent.events import (
    AgentEvent,
    ModelResponseEvent,
    TokenEvent,
    ToolCalledEvent,
    ToolResultEvent,
    TurnEndedEvent,
    TurnStartedEvent,
    emit,
)
from gecko.core.engine.budget import Budget
from gecko.core.engine.context import RunContext
from gecko.core.engine.hooks import Hook, call_hook, check_hook
from gecko.core.engine.loop_guard import LoopGuard
from gecko.core.errors import (
    ModelResponseError,
    ModelTimeoutError,
    StructuredOutputError,
)
from gecko.core.events import EventBus
from gecko.core.message import Message, ToolCall
from gecko.core.models.fallback import FallbackModel
from gecko.core.output import AgentOutput, ModelResponse
from gecko.core.protocols import ChatModel
from gecko.core.structure.engine import DEFAULT_TOOL_NAME, StructureEngine, structure_engine
from gecko.core.tools.toolbox import ToolBox
from gecko.core.validation import check_int, check_number

if TYPE_CHECKING:
    from gecko.core.telemetry.metrics import ModelCallMetrics

logger = logging.getLogger(__name__)

Window = Callable[[list[Message]], Awaitable[list[Message]]]
"""Selects the messages sent to the model (memory windowing)."""

_FALLBACK_OUTPUT_TOOL = "gecko_final_result"


class ReActEngine:
    """Runs the reason-act loop of an agent.

    ``max_turns`` bounds the model calls of a run (default: ``GECKO_MAX_TURNS``).
    ``loop_guard`` is how many identical tool calls stop a run (``None``
    disables it). ``structure_retries`` is how many rejected structured answers
    are fed back before ``StructuredOutputError``. ``model_timeout`` bounds
    each non-streamed model call (default: ``GECKO_MODEL_TIMEOUT``; ``None``
    leaves timeouts to the model plugin; for a ``FallbackModel`` it bounds each
    model of the chain). ``model_options`` go to every model
    call (``temperature=0``...). Hooks: ``on_turn_start(ctx)``,
    ``on_turn_end(ctx, response)``, ``on_tool_execute(ctx, call, result)``.
    """

    def __init__(
        self,
        model: ChatModel,
        toolbox: ToolBox | None = None,
        *,
        max_turns: int | None = None,
        loop_guard: int | None = 3,
        structure_retries: int = 2,
        model_timeout: float | None | object = ...,
        model_options: dict[str, Any] | None = None,
        on_turn_start: Hook | None = None,
        on_turn_end: Hook | None = None,
        on_tool_execute: Hook | None = None,
    ) -> None:
        if max_turns is None or model_timeout is ...:
            from gecko.core.config import get_settings

            settings = get_settings()
            if max_turns is None:
                max_turns = settings.max_turns
            if model_timeout is ...:
                model_timeout = settings.model_timeout
        max_turns = check_int("max_turns", max_turns, minimum=1)
        loop_guard = check_int(
            "loop_guard",
            loop_guard,
            minimum=2,
            allow_none=True,
            hint="None disables the loop guard",
        )
        check_int("structure_retries", structure_retries, minimum=0)
        model_timeout = check_number(
            "model_timeout",
            model_timeout,
            above=0,
            finite=False,
            unit="seconds",
            allow_none=True,
            hint="None waits as long as the model takes",
        )
        self.model = model
        self.toolbox = toolbox if toolbox is not None else ToolBox()
        self.max_turns = max_turns
        self.loop_guard = loop_guard
        self.structure_retries = structure_retries
        self.model_timeout: float | None = model_timeout
        self.model_options = dict(model_options or {})
        self.on_turn_start = check_hook("on_turn_start", on_turn_start)
        self.on_turn_end = check_hook("on_turn_end", on_turn_end)
        self.on_tool_execute = check_hook("on_tool_execute", on_tool_execute)
        self.model_name: str = getattr(model, "name", None) or type(model).__name__
        self._supports_tools = bool(getattr(model, "supports_tools", False))
        self._streams = callable(getattr(model, "astream", None))
        self._measures_itself = bool(getattr(model, "measures_own_calls", False))
        if len(self.toolbox) and not self._supports_tools:
            logger.warning(
                "model %r does not support tool calling; its %d tools will not be offered",
                self.model_name,
                len(self.toolbox),
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model_name!r}, max_turns={self.max_turns})"

    # --- public entry points ---------------------------------------------------------------

    async def run(
        self,
        messages: Sequence[Message],
        *,
        response_model: type[Any] | None = None,
        budget: Budget | None = None,
    ) -> AgentOutput:
        """Run the loop on ``messages`` and return the output (no memory, no guardrails)."""
        ctx = RunContext(list(messages), response_model=response_model, budget=budget)
        async for _ in self.iterate(ctx):
            pass
        assert ctx.output is not None
        return ctx.output

    async def iterate(
        self,
        ctx: RunContext,
        *,
        bus: EventBus | None = None,
        stream: bool = False,
        window: Window | None = None,
    ) -> AsyncGenerator[AgentEvent, None]:
        """Run the loop on ``ctx``; sets ``ctx.output`` when done.

        Events are published on ``bus``; with ``stream=True`` they are also
        yielded (and model text streams as ``TokenEvent``s); otherwise nothing
        is yielded. ``window`` selects the messages each model call sees.
        """
        observed = bus is not None or stream
        structure = self._structure(ctx.response_model)
        guard = LoopGuard(self.loop_guard) if self.loop_guard is not None else None
        budget = ctx.budget
        messages = ctx.messages
        final: AgentOutput | None = None
        response: ModelResponse | None = None
        while final is None:
            stop = self._stop_before_turn(ctx)
            if stop is not None:
                final = self._output(ctx, stop[0], stop[1], response)
                break
            ctx.turn += 1
            turn = ctx.turn
            if observed:
                event = await emit(bus, self._event(TurnStartedEvent, ctx, turn=turn))
                if stream and event is not None:
                    yield event
            if self.on_turn_start is not None:
                await call_hook("on_turn_start", self.on_turn_start, ctx)

            request = self._request(structure)
            sent = await window(messages) if window is not None else messages
            from gecko.core import telemetry

            with telemetry.model_span(self.model_name) as span:
                measured = self._measure()
                try:
                    if stream and self._streams:
                        response = None
                        astream = self.model.astream  # type: ignore[attr-defined]
                        async for chunk in astream(sent, **request, **self.model_options):
                            if chunk.text:
                                event = await emit(
                                    bus, self._event(TokenEvent, ctx, turn=turn, text=chunk.text)
                                )
                                if event is not None:
                                    yield event
                            if chunk.response is not None:
                                response = chunk.response
                        if response is None:
                            raise ModelResponseError(
                                f"model {self.model_name!r} ended its stream without a final "
                                "response",
                                model=self.model_name,
                            )
                    else:
                        response = await self._complete(sent, request)
                        if stream and response.message.text:
                            event = await emit(
                                bus,
                                self._event(TokenEvent, ctx, turn=turn, text=response.message.text),
                            )
                            if event is not None:
                                yield event
                except Exception as exc:
                    if measured is not None:
                        measured.failed(exc)
                    raise
                if measured is not None:
                    measured.succeeded(response)
                telemetry.record_usage(
                    span,
                    response.usage,
                    response_model=response.model,
                    finish_reason=response.finish_reason,
                )
            ctx.usage = ctx.usage + response.usage
            message = response.message
            messages.append(message)
            calls = message.tool_calls or []
            if observed:
                event = await emit(
                    bus,
                    self._event(
                        ModelResponseEvent,
                        ctx,
                        turn=turn,
                        content=message.text,
                        tool_calls=calls,
                        usage=response.usage,
                        finish_reason=response.finish_reason,
                    ),
                )
                if stream and event is not None:
                    yield event

            final, to_run = self._decide(ctx, response, structure, guard, budget)
            if to_run:
                if observed:
                    for call in to_run:
                        event = await emit(
                            bus,
                            self._event(
                                ToolCalledEvent,
                                ctx,
                                turn=turn,
                                call_id=call.id,
                                name=call.name,
                                arguments=call.arguments,
                            ),
                        )
                        if stream and event is not None:
                            yield event
                results = await self.toolbox.execute_many(to_run)
                ctx.tool_calls.extend(to_run)
                for call, result in zip(to_run, results):
                    messages.append(Message.tool_result(call.id, result.content, name=call.name))
                    if observed:
                        event = await emit(
                            bus,
                            self._event(
                                ToolResultEvent,
                                ctx,
                                turn=turn,
                                call_id=call.id,
                                name=call.name,
                                content=result.content,
                                is_error=result.is_error,
                                duration=result.duration,
                            ),
                        )
                        if stream and event is not None:
                            yield event
                    if self.on_tool_execute is not None:
                        await call_hook("on_tool_execute", self.on_tool_execute, ctx, call, result)

            if self.on_turn_end is not None:
                await call_hook("on_turn_end", self.on_turn_end, ctx, response)
            if observed:
                event = await emit(
                    bus, self._event(TurnEndedEvent, ctx, turn=turn, usage=ctx.usage)
                )
                if stream and event is not None:
                    yield event
        ctx.output = final

    # --- one turn's decisions ------------------------------------------------------------------

    def _stop_before_turn(self, ctx: RunContext) -> tuple[str, str] | None:
        if ctx.turn >= self.max_turns:
            return "max_turns", (
                f"Stopped: no final answer after {ctx.turn} turns (max_turns={self.max_turns})."
            )
        budget = ctx.budget
        if budget is not None and budget.tokens_exhausted(ctx.usage.total_tokens):
            return "budget", (
                f"Stopped: the run's token budget is used up ({ctx.usage.total_tokens} tokens "
                f"used, max_tokens={budget.max_tokens})."
            )
        return None

    def _decide(
        self,
        ctx: RunContext,
        response: ModelResponse,
        structure: StructureEngine[Any] | None,
        guard: LoopGuard | None,
        budget: Budget | None,
    ) -> tuple[AgentOutput | None, list[ToolCall]]:
        """The run's output if this answer ends it, and the tool calls to execute."""
        message = response.message
        calls = message.tool_calls or []
        messages = ctx.messages
        if structure is not None:
            output_call = next((c for c in calls if c.name == structure.tool_name), None)
            if output_call is not None or not calls:
                try:
                    parsed, _ = structure.parse_response(message)
                except StructuredOutputError as error:
                    if ctx.structure_retries >= structure.max_retries:
                        raise structure.exhausted(error) from None
                    ctx.structure_retries += 1
                    logger.debug(
                        "structured answer rejected (retry %d): %s", ctx.structure_retries, error
                    )
                    messages.extend(structure.feedback_messages(message, error))
                    return None, []
                for call in calls:  # every call needs a result in the history
                    content = (
                        "Final answer accepted."
                        if call is output_call
                        else "Not run: the final answer was given in the same turn."
                    )
                    messages.append(Message.tool_result(call.id, content, name=call.name))
                return self._output(ctx, "final", parsed.model_dump_json(), response, parsed), []
        elif not calls:
            return self._output(ctx, "final", message.text, response), []

        if budget is not None and budget.tokens_exhausted(ctx.usage.total_tokens):
            reason = (
                f"Stopped: the run's token budget is used up ({ctx.usage.total_tokens} tokens "
                f"used, max_tokens={budget.max_tokens}); {len(calls)} requested tool call(s) not run."
            )
            messages.extend(_not_run(calls, f"Not run: {reason}"))
            return self._output(ctx, "budget", reason, response), []
        if budget is not None and budget.tool_calls_exceeded(len(ctx.tool_calls), len(calls)):
            reason = (
                f"Stopped: the run's tool-call budget would be exceeded ({len(ctx.tool_calls)} "
                f"made, {len(calls)} more requested, max_tool_calls={budget.max_tool_calls})."
            )
            messages.extend(_not_run(calls, f"Not run: {reason}"))
            return self._output(ctx, "budget", reason, response), []
        if guard is not None:
            tripped = guard.check(calls)
            if tripped is not None:
                reason = (
                    f"Stopped: the model called {tripped.name!r} with the same arguments "
                    f"{guard.threshold} times ({tripped.arguments}); this looks like a loop."
                )
                messages.extend(_not_run(calls, f"Not run: {reason}"))
                return self._output(ctx, "loop_guard", reason, response), []
        return None, list(calls)

    def _output(
        self,
        ctx: RunContext,
        stop_reason: str,
        content: str,
        response: ModelResponse | None,
        parsed: Any = None,
    ) -> AgentOutput:
        return AgentOutput(
            content=content,
            tool_calls=list(ctx.tool_calls),
            usage=ctx.usage,
            raw=response,
            parsed=parsed,
            stop_reason=stop_reason,
            messages=ctx.new_messages,
        )

    # --- model calls ----------------------------------------------------------------------------

    def _structure(self, response_model: type[Any] | None) -> StructureEngine[Any] | None:
        if response_model is None:
            return None
        name = DEFAULT_TOOL_NAME if DEFAULT_TOOL_NAME not in self.toolbox else _FALLBACK_OUTPUT_TOOL
        return structure_engine(cast(type[BaseModel], response_model), self.structure_retries, name)

    def _request(self, structure: StructureEngine[Any] | None) -> dict[str, Any]:
        tools = self.toolbox.schemas() if self._supports_tools and len(self.toolbox) else []
        if structure is None:
            return {"tools": tools} if tools else {}
        if structure.uses_tool(self.model):
            tools.append(structure.tool_schema())
            choice = "required" if len(tools) > 1 else structure.tool_choice()
            return {"tools": tools, "tool_choice": choice}
        request: dict[str, Any] = {"response_format": structure.response_format()}
        if tools:
            request["tools"] = tools
        return request

    def _measure(self) -> ModelCallMetrics | None:
        """Metrics of one model call (None: the model measures its own calls, e.g. a chain)."""
        if self._measures_itself:
            return None
        from gecko.core.telemetry import metrics

        return metrics.model_call(self.model_name)

    async def _complete(self, messages: list[Message], request: dict[str, Any]) -> ModelResponse:
        if isinstance(self.model, FallbackModel):
            # model_timeout bounds each model of the chain, so a hung model falls back.
            timeout = self.model.timeout if self.model.timeout is not None else self.model_timeout
            return await self.model.complete(
                messages, attempt_timeout=timeout, **request, **self.model_options
            )
        if self.model_timeout is None:
            return await self.model.acompletion(messages, **request, **self.model_options)
        with anyio.move_on_after(self.model_timeout) as scope:
            return await self.model.acompletion(messages, **request, **self.model_options)
        if scope.cancelled_caught:
            raise ModelTimeoutError(
                f"model {self.model_name!r} did not answer within {self.model_timeout:g} s",
                hint="raise the engine's model_timeout (or GECKO_MODEL_TIMEOUT)",
                model=self.model_name,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _event(cls: type[AgentEvent], ctx: RunContext, **fields: Any) -> AgentEvent:
        return cls(run_id=ctx.run_id, session_id=ctx.session_id, source=ctx.agent_name, **fields)


def _not_run(calls: Sequence[ToolCall], content: str) -> list[Message]:
    """Tool results for calls that are not executed (chat APIs require one per call)."""
    return [Message.tool_result(call.id, content, name=call.name) for call in calls]
