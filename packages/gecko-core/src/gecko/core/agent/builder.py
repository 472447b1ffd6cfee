"""``AgentBuilder``: a fluent way to configure an ``Agent``.

    agent = (
        AgentBuilder()
        .with_model("openai/gpt-4o-mini", temperature=0)  # or a list: a fallback chain
        .with_tools([get_weather, calculator])
        .with_storage("sqlite:///./sessions.db")
        .with_session_id("user-42")
        .with_system_prompt("You are a helpful assistant.")
        .build()
    )

Every ``with_*`` method returns the builder; ``build()`` validates and returns
the Agent. A builder can build several agents (each gets its own toolbox and
engine).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Union, cast

from typing_extensions import Self

from gecko.core.agent.agent import Agent, ToolLike
from gecko.core.engine.budget import Budget
from gecko.core.engine.react import ReActEngine
from gecko.core.errors import ConfigurationError
from gecko.core.prompts.template import PromptTemplate
from gecko.core.protocols import ChatModel, SessionStore

if TYPE_CHECKING:
    from gecko.core.events import EventBus
    from gecko.core.guardrails import GuardrailSpec, InputGuard
    from gecko.core.memory import TokenMemory


class AgentBuilder:
    """Collects an agent's configuration; ``build()`` makes the Agent."""

    def __init__(self) -> None:
        self._model: ChatModel | str | None = None
        self._model_options: dict[str, Any] = {}
        self._tools: list[ToolLike] = []
        self._options: dict[str, Any] = {}
        self._engine: type[ReActEngine] = ReActEngine
        self._engine_options: dict[str, Any] = {}
        self._toolbox_options: dict[str, Any] = {}

    def with_model(
        self,
        model: ChatModel | str | Sequence[ChatModel | str],
        *,
        fallback_on: type[Exception] | tuple[type[Exception], ...] | None = None,
        **options: Any,
    ) -> Self:
        """A ChatModel, or a model id resolved by ``create_model(model, **options)``.

        A list of them is a fallback chain (a ``FallbackModel``): tried in order,
        the next one when a call fails with an error in ``fallback_on`` (default:
        rate limits, 5xx, connection failures and timeouts); ``options`` go to
        every id of the list.
        """
        if isinstance(model, (list, tuple)):
            from gecko.core.models.fallback import FallbackModel

            self._model = FallbackModel(model, fallback_on=fallback_on, options=options)
            self._model_options = {}
            return self
        if fallback_on is not None:
            raise ConfigurationError(
                "fallback_on needs a list of models to fall back to",
                hint="e.g. with_model(['openai/gpt-4o', 'anthropic/claude-haiku-4-5'], "
                "fallback_on=(RateLimitError,))",
            )
        if not isinstance(model, str) and options:
            raise ConfigurationError(
                "model options are for model ids; configure a model object when creating it",
                options=sorted(options),
            )
        self._model = cast(Union[ChatModel, str], model)
        self._model_options = options
        return self

    def with_tools(self, tools: Iterable[ToolLike] | ToolLike) -> Self:
        """Add tools: Tool objects and/or plain typed functions (sync or async)."""
        if callable(tools) or hasattr(tools, "execute"):
            self._tools.append(tools)  # type: ignore[arg-type]
        else:
            self._tools.extend(tools)  # type: ignore[union-attr]
        return self

    def with_storage(self, storage: SessionStore | str) -> Self:
        """Persist sessions: an opened SessionStore, or a URL opened on the first run."""
        self._options["storage"] = storage
        return self

    def with_session_id(self, session_id: str) -> Self:
        """The default session of runs (``run(..., session_id=...)`` overrides it)."""
        self._options["session_id"] = session_id
        return self

    def with_max_tokens(self, max_tokens: int) -> Self:
        """Token budget of the window the model sees (a TokenMemory keeps it)."""
        self._options["max_tokens"] = max_tokens
        return self

    def with_memory(self, memory: TokenMemory) -> Self:
        """Your own memory (TokenMemory, SummaryTokenMemory or compatible)."""
        self._options["memory"] = memory
        return self

    def with_system_prompt(self, prompt: str | PromptTemplate, **values: Any) -> Self:
        """The system prompt; with ``values`` (or a PromptTemplate) it is a template.

        Variables not given here are filled per run: ``run(..., prompt_values={...})``.
        """
        self._options["system_prompt"] = prompt
        self._options["prompt_values"] = values or None
        return self

    def with_engine(self, engine: type[ReActEngine] = ReActEngine, **options: Any) -> Self:
        """The engine class and its options: ``max_turns``, ``loop_guard``, hooks, ..."""
        self._engine = engine
        self._engine_options = options
        return self

    def with_toolbox_config(
        self,
        *,
        max_concurrency: int | None = None,
        default_timeout: float | None | object = ...,
    ) -> Self:
        """Concurrent tool calls allowed, and the default per-tool timeout (None: no limit)."""
        if max_concurrency is not None:
            self._toolbox_options["max_concurrency"] = max_concurrency
        if default_timeout is not ...:
            self._toolbox_options["default_timeout"] = default_timeout
        return self

    def with_guardrails(
        self,
        *guardrails: GuardrailSpec | InputGuard | Iterable[GuardrailSpec],
        on_violation: str = "raise",
        refusal: str | None = None,
    ) -> Self:
        """Input guardrails: an InputGuard, or guardrails / names (``"pii"``, ``("max_length", {...})``).

        ``on_violation="refuse"`` answers a blocked input with ``refusal``
        instead of raising ``GuardrailViolation``.
        """
        from gecko.core.guardrails import DEFAULT_REFUSAL, InputGuard

        if len(guardrails) == 1 and isinstance(guardrails[0], InputGuard):
            self._options["guardrails"] = guardrails[0]
            return self
        specs: list[Any] = []
        for item in guardrails:
            if isinstance(item, (list, set, frozenset)) or (
                isinstance(item, tuple) and not (len(item) == 2 and isinstance(item[0], str))
            ):
                specs.extend(item)
            else:
                specs.append(item)
        self._options["guardrails"] = InputGuard(
            specs,
            on_violation=on_violation,  # type: ignore[arg-type]
            refusal=DEFAULT_REFUSAL if refusal is None else refusal,
        )
        return self

    def with_event_bus(self, bus: EventBus) -> Self:
        """Publish the agent's events (``agent.*``) on ``bus``."""
        self._options["event_bus"] = bus
        return self

    def with_budget(
        self,
        budget: Budget | None = None,
        *,
        max_tokens: int | None = None,
        max_tool_calls: int | None = None,
    ) -> Self:
        """Default per-run budget: a Budget, or its limits as keywords."""
        if budget is not None and (max_tokens is not None or max_tool_calls is not None):
            raise ConfigurationError("pass a Budget or its limits, not both")
        self._options["budget"] = budget or Budget(
            max_tokens=max_tokens, max_tool_calls=max_tool_calls
        )
        return self

    def with_name(self, name: str) -> Self:
        """The agent's name (in events, spans and logs)."""
        self._options["name"] = name
        return self

    def build(self) -> Agent:
        """The configured Agent. Without ``with_model``, ``GECKO_MODEL`` names the model."""
        model = self._model
        if model is None:
            from gecko.core.config import get_settings

            model = get_settings().model
            if model is None:
                raise ConfigurationError(
                    "no model: call with_model(...) or set GECKO_MODEL",
                    hint="e.g. with_model('openai/gpt-4o-mini'), or with_model('test') offline",
                )
        if isinstance(model, str):
            from gecko.core.factories import create_model

            model = create_model(model, **self._model_options)
        return Agent(
            model,  # type: ignore[arg-type]
            tools=list(self._tools),
            engine=self._engine,
            engine_options=dict(self._engine_options),
            toolbox_options=dict(self._toolbox_options),
            **self._options,
        )
