"""``Agent``: a model, its tools, memory, guardrails and engine, behind ``run`` and ``stream``.

One run: the input's user messages pass the guardrails -> memory loads the
session's history -> the engine runs the ReAct loop (the model sees the
memory's window each turn) -> the answer, or the validated structured output
-> memory appends the run's messages to the session -> events and spans all
along. An Agent keeps no per-run state on itself: many tasks may run the same
agent at once (a Team does).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping, Sequence
from contextlib import aclosing
from types import TracebackType
from typing import TYPE_CHECKING, Any, Union, cast

import anyio

from gecko.core.agent.events import (
    FinalEvent,
    RunFailedEvent,
    RunStartedEvent,
    describe_input,
    emit,
)
from gecko.core.agent.inputs import AgentInput, coerce_input, guard_input
from gecko.core.agent.stream import AgentStream
from gecko.core.engine.budget import Budget
from gecko.core.engine.context import RunContext
from gecko.core.engine.react import ReActEngine
from gecko.core.errors import ConfigurationError
from gecko.core.message import Message
from gecko.core.models.fallback import FallbackModel
from gecko.core.output import AgentOutput
from gecko.core.prompts.template import PromptTemplate
from gecko.core.protocols import ChatModel, SessionStore, Tool
from gecko.core.tools.toolbox import ToolBox
from gecko.core.validation import check_str

if TYPE_CHECKING:
    from gecko.core.agent.events import AgentEvent
    from gecko.core.events import EventBus
    from gecko.core.guardrails import GuardrailSpec, InputGuard
    from gecko.core.memory import TokenMemory

logger = logging.getLogger(__name__)

DEFAULT_MEMORY_TOKENS = 4000
"""The window size of the TokenMemory an agent creates for ``storage`` without ``max_tokens``."""

ToolLike = Union[Tool, Callable[..., Any]]


class Agent:
    """An AI agent. Build one with ``AgentBuilder`` or directly::

        agent = Agent("test", tools=[get_weather], system_prompt="You are terse.")
        output = await agent.run("Weather in Paris?")

    ``model`` is a ChatModel or a model id for ``create_model``, or a list of
    them: a ``FallbackModel`` trying each in turn on rate limits, server and
    connection errors and timeouts (pass a ``FallbackModel`` to choose the
    errors). ``storage`` (a
    SessionStore, or a URL opened on first run) with a ``session_id`` persists
    the conversation; ``max_tokens`` bounds the window the model sees (a
    ``TokenMemory`` is created for either); ``memory`` gives your own memory
    instead. ``engine``/``engine_options`` choose and configure the loop
    (``max_turns``, hooks...), ``toolbox_options`` the ToolBox
    (``max_concurrency``, ``default_timeout``; the default timeout is
    ``GECKO_TOOL_TIMEOUT``). ``budget`` is the default per-run Budget.
    """

    def __init__(
        self,
        model: ChatModel | str | Sequence[ChatModel | str],
        *,
        name: str = "agent",
        tools: Iterable[ToolLike] = (),
        system_prompt: str | PromptTemplate | None = None,
        prompt_values: Mapping[str, Any] | None = None,
        memory: TokenMemory | None = None,
        storage: SessionStore | str | None = None,
        max_tokens: int | None = None,
        session_id: str | None = None,
        engine: type[ReActEngine] = ReActEngine,
        engine_options: Mapping[str, Any] | None = None,
        toolbox_options: Mapping[str, Any] | None = None,
        guardrails: InputGuard | Sequence[GuardrailSpec] | None = None,
        event_bus: EventBus | None = None,
        budget: Budget | None = None,
    ) -> None:
        check_str("agent name", name, non_blank=True)
        if session_id is not None:
            check_str("session_id", session_id)
        if budget is not None and not isinstance(budget, Budget):
            raise ConfigurationError(f"budget must be a Budget, got {type(budget).__name__}")
        self.name = name
        self.model: ChatModel = _resolve_model(model)
        self.session_id = session_id
        self.budget = budget
        self.event_bus = event_bus
        self.toolbox = ToolBox(tools, **_toolbox_options(toolbox_options))
        if not (isinstance(engine, type) and issubclass(engine, ReActEngine)):
            raise ConfigurationError(
                f"engine must be ReActEngine or a subclass of it, got {engine!r}",
                hint="subclass ReActEngine to customise the loop",
            )
        self.engine: ReActEngine = engine(self.model, self.toolbox, **dict(engine_options or {}))
        self.guard = _resolve_guard(guardrails)
        self._system, self._template = _system_prompt(system_prompt, prompt_values)
        self._storage_url: str | None = None
        self._owned_storage: Any = None
        self._open_lock = anyio.Lock()
        self._session_locks: weakref.WeakValueDictionary[str, anyio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self.memory = self._resolve_memory(memory, storage, max_tokens)

    def __repr__(self) -> str:
        return (
            f"Agent(name={self.name!r}, model={self.engine.model_name!r}, "
            f"tools={self.toolbox.names!r})"
        )

    # --- running ---------------------------------------------------------------------------

    async def run(
        self,
        input: AgentInput,
        *,
        response_model: type[Any] | None = None,
        session_id: str | None = None,
        budget: Budget | None = None,
        prompt_values: Mapping[str, Any] | None = None,
    ) -> AgentOutput:
        """Run the agent on ``input`` (str, Message, dict, or a list of them).

        With ``response_model`` (a pydantic model) the answer is validated into
        ``output.parsed``. ``session_id`` overrides the agent's session,
        ``budget`` its default Budget; ``prompt_values`` fill the system-prompt
        template's remaining variables.
        """
        ctx = self._context(response_model, session_id, budget)
        async for _ in self._iterate(ctx, input, stream=False, prompt_values=prompt_values):
            pass
        assert ctx.output is not None
        return ctx.output

    def stream(
        self,
        input: AgentInput,
        *,
        response_model: type[Any] | None = None,
        session_id: str | None = None,
        budget: Budget | None = None,
        prompt_values: Mapping[str, Any] | None = None,
    ) -> AgentStream:
        """Run the agent, streaming: ``async for text in agent.stream(...)`` yields text chunks.

        ``stream.events()`` yields every event instead (for UIs), and
        ``stream.output`` is the AgentOutput once iteration is over.
        """
        ctx = self._context(response_model, session_id, budget)
        return AgentStream(self._iterate(ctx, input, stream=True, prompt_values=prompt_values), ctx)

    def _context(
        self, response_model: type[Any] | None, session_id: str | None, budget: Budget | None
    ) -> RunContext:
        if budget is not None and not isinstance(budget, Budget):
            raise ConfigurationError(f"budget must be a Budget, got {type(budget).__name__}")
        return RunContext(
            [],
            agent_name=self.name,
            session_id=session_id or self.session_id,
            response_model=response_model,
            budget=budget or self.budget,
        )

    async def _iterate(
        self,
        ctx: RunContext,
        input: AgentInput,
        *,
        stream: bool,
        prompt_values: Mapping[str, Any] | None,
    ) -> AsyncGenerator[AgentEvent, None]:
        bus = self.event_bus
        observed = bus is not None or stream
        from gecko.core import telemetry

        # The GenAI conventions name the agent's model only when it has exactly one.
        model = None if isinstance(self.model, FallbackModel) else self.engine.model_name
        with telemetry.agent_span(self.name, model=model) as span:
            try:
                new = coerce_input(input)
                system = self._system_messages(prompt_values)
                if observed:
                    event = await emit(
                        bus,
                        RunStartedEvent(
                            run_id=ctx.run_id,
                            session_id=ctx.session_id,
                            source=self.name,
                            input=describe_input(new),
                        ),
                    )
                    if stream and event is not None:
                        yield event
                refusal = None
                if self.guard is not None:
                    new, refusal = await guard_input(self.guard, new)
                if refusal is not None:
                    ctx.messages = new
                    ctx.output = AgentOutput(content=refusal, stop_reason="refused", messages=new)
                else:
                    history = await self._load(ctx.session_id)
                    ctx.messages = [*system, *history, *new]
                    ctx.input_start = len(system) + len(history)
                    memory = self.memory
                    if memory is not None:
                        # A model may count tokens with a heavy tokenizer library; let it load
                        # that off the event loop before memory counts the first message.
                        warm_up = getattr(self.engine.model, "warm_up", None)
                        if warm_up is not None:
                            await warm_up()
                    async with aclosing(
                        self.engine.iterate(
                            ctx,
                            bus=bus,
                            stream=stream,
                            window=memory.select if memory is not None else None,
                        )
                    ) as events:
                        async for event in events:
                            yield event
                    await self._save(ctx.session_id, ctx.new_messages)
                output = ctx.output
                assert output is not None
                telemetry.record_usage(span, output.usage)
                if observed:
                    event = await emit(
                        bus,
                        FinalEvent(
                            run_id=ctx.run_id,
                            session_id=ctx.session_id,
                            source=self.name,
                            output=output,
                        ),
                    )
                    if stream and event is not None:
                        yield event
            except Exception as exc:
                if bus is not None:
                    await self._publish_failure(bus, ctx, exc)
                raise

    async def _publish_failure(self, bus: EventBus, ctx: RunContext, exc: Exception) -> None:
        event = RunFailedEvent(
            run_id=ctx.run_id,
            session_id=ctx.session_id,
            source=self.name,
            error_type=type(exc).__name__,
            error=str(exc),
        )
        try:
            await bus.publish(event)
        except Exception:  # the run's own error is what the caller must see
            logger.exception("agent %r could not publish its run_failed event", self.name)

    # --- system prompt -----------------------------------------------------------------------

    def _system_messages(self, values: Mapping[str, Any] | None) -> list[Message]:
        if self._template is not None:
            return [Message.system(self._template.render(**(values or {})))]
        if values:
            raise ConfigurationError(
                "prompt_values were given but the system prompt has no variables left to fill",
                agent=self.name,
            )
        return [self._system] if self._system is not None else []

    # --- memory and storage -------------------------------------------------------------------

    def _resolve_memory(
        self,
        memory: TokenMemory | None,
        storage: SessionStore | str | None,
        max_tokens: int | None,
    ) -> TokenMemory | None:
        store: SessionStore | None = None
        if isinstance(storage, str):
            from gecko.core.storage.url import url_scheme

            url_scheme(storage)  # a malformed URL fails now, not on the first run
            self._storage_url = storage
        elif storage is not None:
            if not all(hasattr(storage, attr) for attr in ("get", "set", "delete")):
                raise ConfigurationError(
                    f"storage must be a SessionStore or a storage URL, got {type(storage).__name__}",
                    hint="e.g. with_storage('sqlite:///./sessions.db') or an opened store",
                )
            store = storage
        if memory is not None:
            if max_tokens is not None:
                raise ConfigurationError(
                    "both a memory and max_tokens were given",
                    hint="set max_tokens on the memory itself: TokenMemory(max_tokens=...)",
                )
            if storage is not None:
                if getattr(memory, "storage", None) is not None:
                    raise ConfigurationError(
                        "both a storage and a memory with its own storage were given",
                        hint="give the storage to one of them only",
                    )
                memory.storage = store
            return memory
        if storage is None and max_tokens is None:
            return None
        from gecko.core.memory import TokenMemory

        return TokenMemory(
            DEFAULT_MEMORY_TOKENS if max_tokens is None else max_tokens,
            storage=store,
            model=self.model,
        )

    async def _load(self, session_id: str | None) -> list[Message]:
        if self.memory is None or session_id is None:
            return []
        await self._open_storage()
        return await self.memory.load(session_id)

    async def _save(self, session_id: str | None, messages: list[Message]) -> None:
        if self.memory is None or getattr(self.memory, "storage", None) is None:
            return
        if session_id is None:
            logger.debug(
                "agent %r has storage but the run has no session_id: not persisted", self.name
            )
            return
        # Append (not overwrite) under a per-session lock: concurrent runs of one session
        # in this process each add their exchange instead of the last one winning.
        lock = self._session_locks.get(session_id)
        if lock is None:
            lock = self._session_locks[session_id] = anyio.Lock()
        async with lock:
            await self.memory.append(session_id, messages)

    async def _open_storage(self) -> None:
        if self._storage_url is None or self._owned_storage is not None:
            return
        async with self._open_lock:
            if self._owned_storage is None:
                from gecko.core.factories import create_storage

                store = await create_storage(self._storage_url, kind="kv")
                assert self.memory is not None
                self.memory.storage = store
                self._owned_storage = store

    async def aclose(self) -> None:
        """Close the storage the agent opened from a URL (a store you passed stays open)."""
        store, self._owned_storage = self._owned_storage, None
        if store is not None:
            assert self.memory is not None
            self.memory.storage = None
            await store.close()

    async def __aenter__(self) -> Agent:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _resolve_model(model: ChatModel | str | Sequence[ChatModel | str]) -> ChatModel:
    if isinstance(model, (list, tuple)):
        return FallbackModel(model)
    if isinstance(model, str):
        from gecko.core.factories import create_model

        return create_model(model)  # type: ignore[no-any-return]
    if not callable(getattr(model, "acompletion", None)):
        raise ConfigurationError(
            f"model must be a ChatModel or a model id, got {type(model).__name__}",
            hint="e.g. with_model('openai/gpt-4o-mini') (pip install gecko-models-litellm) "
            "or with_model('test') for the offline scripted model",
        )
    return cast(ChatModel, model)


def _toolbox_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    resolved = dict(options or {})
    unknown = set(resolved) - {"max_concurrency", "default_timeout"}
    if unknown:
        raise ConfigurationError(
            f"unknown toolbox option(s): {', '.join(sorted(unknown))}",
            hint="the toolbox takes max_concurrency and default_timeout",
        )
    if "default_timeout" not in resolved:
        from gecko.core.config import get_settings

        resolved["default_timeout"] = get_settings().tool_timeout
    return resolved


def _resolve_guard(guardrails: InputGuard | Sequence[GuardrailSpec] | None) -> InputGuard | None:
    if guardrails is None:
        return None
    from gecko.core.guardrails import InputGuard

    if isinstance(guardrails, InputGuard):
        return guardrails
    return InputGuard(guardrails)


def _system_prompt(
    prompt: str | PromptTemplate | None, values: Mapping[str, Any] | None
) -> tuple[Message | None, PromptTemplate | None]:
    """A fixed system message, or the template still needing per-run values."""
    if prompt is None:
        if values:
            raise ConfigurationError("prompt values were given without a system prompt")
        return None, None
    if isinstance(prompt, str) and not values:
        return Message.system(prompt), None  # a plain string is used as written
    if isinstance(prompt, str):
        prompt = PromptTemplate(prompt, name="system_prompt")
    elif not isinstance(prompt, PromptTemplate):
        raise ConfigurationError(
            f"the system prompt must be a string or a PromptTemplate, got {type(prompt).__name__}"
        )
    template = prompt.partial(**values) if values else prompt
    if template.required:
        return None, template
    return Message.system(template.render()), None
