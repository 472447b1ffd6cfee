"""``FallbackModel``: chat models tried in order, the next one when a call fails with a named error.

    model = FallbackModel(["openai/gpt-4o", "anthropic/claude-haiku-4-5"])
    agent = (
        AgentBuilder()
        .with_model(["openai/gpt-4o", "anthropic/claude-haiku-4-5"],
                    fallback_on=(RateLimitError, ModelServerError))
        .build()
    )

Any ChatModel takes part, whatever plugin made it. Model ids are checked against the
registered providers at once and created with ``create_model(id, **options)`` the
first time they are needed, so a fallback that is never used is never built.

- **Errors.** ``fallback_on`` (default ``DEFAULT_FALLBACK_ON``: rate limits, 5xx,
  connection failures, timeouts) moves on to the next model; any other error
  (bad request, bad credentials, ...) is raised at once, as is, since another
  model would not fix it. When every model failed, ``AllModelsFailedError``
  names each model and its error (``error.failures``); its cause is the last one.
- **Retries.** A model's own retry policy runs first (gecko-models-litellm retries
  429/5xx with backoff and ``Retry-After``); the chain moves on only when that
  model has given up. Lower a model's ``retries`` to fall back sooner. A workflow
  node's ``retry=`` wraps the whole chain.
- **Timeouts.** ``timeout`` bounds each model's attempt; in an agent it defaults to
  the engine's ``model_timeout``, applied per model rather than to the chain, so a
  model that hangs falls back instead of failing the run.
- **Streaming** falls back only until the first chunk arrives: once text has
  reached the caller (a UI, ``TokenEvent`` subscribers) another model cannot take
  it back, and a second answer spliced after a partial one would be garbage. A
  failure after the first chunk propagates.
- **Tools.** ``supports_tools`` is the first model's; a later model that cannot
  call tools is skipped (and listed in the failures) for a request with tools.
- **Observability.** Each fallback is logged at WARNING (model, error class and
  message, next model; never keys or options) and added to the current span as a
  ``gecko.model.fallback`` event; the span gets ``gecko.model.used`` (the model that
  answered) and ``gecko.model.attempts``. Metrics count each model tried as its own
  operation (``gen_ai.client.operation.duration`` with ``error.type`` for the
  failures, token usage under the model that answered).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Union

import anyio

from gecko.core.errors import (
    AllModelsFailedError,
    ConfigurationError,
    GeckoError,
    ModelConnectionError,
    ModelServerError,
    ModelTimeoutError,
    RateLimitError,
    describe_failures,
)
from gecko.core.message import Message
from gecko.core.models.tokens import estimate_message_tokens
from gecko.core.output import ModelChunk, ModelResponse
from gecko.core.protocols import ChatModel, ToolChoice
from gecko.core.validation import check_number

if TYPE_CHECKING:
    from gecko.core.telemetry.metrics import ModelCallMetrics

logger = logging.getLogger(__name__)

DEFAULT_FALLBACK_ON: tuple[type[Exception], ...] = (
    RateLimitError,
    ModelServerError,
    ModelConnectionError,
    ModelTimeoutError,
)
"""What moves a chain on by default: 429, 5xx, unreachable provider, no answer in time."""

ModelSpec = Union[ChatModel, str]
"""A ChatModel, or a model id for ``create_model``."""


class FallbackModel:
    """A ChatModel trying ``models`` in order (see the module docstring for the rules).

    ``models``: ChatModels and/or model ids; ``options`` go to ``create_model`` for
    the ids (an ``api_key`` among them is kept as a ``SecretStr`` until then). ``fallback_on``: an exception class or a tuple of them. ``timeout``:
    seconds per model attempt (None: the agent engine's ``model_timeout``, or no
    bound when called directly). ``name`` defaults to the first model's.
    """

    measures_own_calls = True
    """Metrics are taken per model tried, here; the agent engine does not measure the chain."""

    def __init__(
        self,
        models: Iterable[ModelSpec],
        *,
        fallback_on: type[Exception] | Iterable[type[Exception]] | None = None,
        options: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        name: str | None = None,
    ) -> None:
        if isinstance(models, (str, bytes)) or not isinstance(models, Iterable):
            raise ConfigurationError(
                f"FallbackModel takes a list of models, got {type(models).__name__}",
                hint="e.g. FallbackModel(['openai/gpt-4o', 'anthropic/claude-haiku-4-5'])",
            )
        entries = list(models)
        if not entries:
            raise ConfigurationError(
                "FallbackModel needs at least one model",
                hint="e.g. FallbackModel(['openai/gpt-4o', 'anthropic/claude-haiku-4-5'])",
            )
        names = [_check_entry(entry, position) for position, entry in enumerate(entries, 1)]
        keys = [
            name if isinstance(entry, str) else id(entry) for name, entry in zip(names, entries)
        ]
        repeated = sorted({name for name, key in zip(names, keys) if keys.count(key) > 1})
        if repeated:
            raise ConfigurationError(
                f"FallbackModel lists {', '.join(map(repr, repeated))} more than once",
                hint="a model's own retries try it again; list each model once",
            )
        if options and not any(isinstance(entry, str) for entry in entries):
            raise ConfigurationError(
                "model options are for model ids; configure model objects when creating them",
                options=sorted(options),
            )
        self._entries: list[ModelSpec] = entries
        self._resolved: list[ChatModel | None] = [
            None if isinstance(entry, str) else entry for entry in entries
        ]
        self._names = names
        self._options = _protect(options or {})
        self.fallback_on: tuple[type[Exception], ...] = _error_types(fallback_on)
        self.timeout: float | None = check_number(
            "FallbackModel timeout",
            timeout,
            above=0,
            finite=False,
            unit="seconds",
            allow_none=True,
            hint="seconds each model may take before the next one is tried",
        )
        self.name: str = name or names[0]
        self._supports_tools: bool | None = None

    def __repr__(self) -> str:
        errors = ", ".join(error.__name__ for error in self.fallback_on)
        return f"FallbackModel({self._names!r}, fallback_on=({errors}))"

    @property
    def models(self) -> list[str]:
        """The names (ids) of the chain's models, in the order they are tried."""
        return list(self._names)

    def model(self, index: int) -> ChatModel:
        """The chain's ``index``-th model, created from its id on first use."""
        model = self._resolved[index]
        if model is None:
            from gecko.core.factories import create_model

            entry = self._entries[index]
            assert isinstance(entry, str)
            model = create_model(entry, **self._options)
            if not callable(getattr(model, "acompletion", None)):
                raise ConfigurationError(
                    f"create_model({entry!r}) did not return a ChatModel "
                    f"(got {type(model).__name__})",
                    hint="the plugin registered for this provider is broken; see gecko plugins list",
                )
            self._resolved[index] = model
        return model

    # --- ChatModel --------------------------------------------------------------------------

    @property
    def supports_tools(self) -> bool:
        """The first model's (unless set); models that cannot call tools are skipped for tool requests."""
        if self._supports_tools is None:
            return bool(getattr(self.model(0), "supports_tools", False))
        return self._supports_tools

    @supports_tools.setter
    def supports_tools(self, value: bool) -> None:
        self._supports_tools = bool(value)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """The first model's count, or core's estimate when it cannot count."""
        counter = getattr(self.model(0), "count_tokens", None)
        if callable(counter):
            return int(counter(messages))
        return estimate_message_tokens(messages)

    async def warm_up(self) -> None:
        """Warm up the first model (the others load on first use)."""
        warm_up = getattr(self.model(0), "warm_up", None)
        if warm_up is not None:
            await warm_up()

    async def acompletion(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        tool_choice: ToolChoice | None = None,
        response_format: dict[str, Any] | None = None,
        **options: Any,
    ) -> ModelResponse:
        return await self.complete(
            messages,
            attempt_timeout=self.timeout,
            tools=tools,
            tool_choice=tool_choice,
            response_format=response_format,
            **options,
        )

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        attempt_timeout: float | None,
        tools: Sequence[dict[str, Any]] | None = None,
        tool_choice: ToolChoice | None = None,
        response_format: dict[str, Any] | None = None,
        **options: Any,
    ) -> ModelResponse:
        """``acompletion`` with ``attempt_timeout`` seconds per model (None: unbounded)."""
        failures: list[tuple[str, Exception]] = []
        for index, name in enumerate(self._names):
            member = self._member(index, tools, tool_choice, failures)
            if member is None:
                continue
            call = _measure(member, name)
            try:
                response = await _bounded(
                    member.acompletion(
                        messages,
                        tools=tools,
                        tool_choice=tool_choice,
                        response_format=response_format,
                        **options,
                    ),
                    attempt_timeout,
                    name,
                )
            except Exception as error:
                if call is not None:
                    call.failed(error)
                if not self._fall_back(index, error, failures):
                    raise
                continue
            if call is not None:
                call.succeeded(response)
            self._used(index, failures)
            return response
        raise self._exhausted(failures)

    async def astream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        tool_choice: ToolChoice | None = None,
        response_format: dict[str, Any] | None = None,
        **options: Any,
    ) -> AsyncIterator[ModelChunk]:
        """Chunks of the first model that starts answering; falls back only before its first chunk."""
        failures: list[tuple[str, Exception]] = []
        for index, name in enumerate(self._names):
            member = self._member(index, tools, tool_choice, failures)
            if member is None:
                continue
            call = _measure(member, name)
            request: dict[str, Any] = {
                "tools": tools,
                "tool_choice": tool_choice,
                "response_format": response_format,
                **options,
            }
            stream = _stream_of(member, messages, request)
            try:
                first = await _bounded(_first_chunk(stream), self.timeout, name)
            except Exception as error:
                await _close(stream)
                if call is not None:
                    call.failed(error)
                if not self._fall_back(index, error, failures):
                    raise
                continue
            self._used(index, failures)
            response: ModelResponse | None = None
            try:
                if first is not None:
                    response = first.response
                    yield first
                    async for chunk in stream:
                        if chunk.response is not None:
                            response = chunk.response
                        yield chunk
            except Exception as error:  # after the first chunk: no fallback (see module doc)
                if call is not None:
                    call.failed(error)
                raise
            finally:
                await _close(stream)
            if call is not None:
                call.succeeded(response)
            return
        raise self._exhausted(failures)

    # --- the chain ------------------------------------------------------------------------------

    def _member(
        self,
        index: int,
        tools: Sequence[dict[str, Any]] | None,
        tool_choice: ToolChoice | None,
        failures: list[tuple[str, Exception]],
    ) -> ChatModel | None:
        """The model to try at ``index``, or None when it cannot serve this request."""
        try:
            member = self.model(index)
        except GeckoError as error:
            _note_earlier(error, failures)
            raise
        if index and (tools or tool_choice) and not getattr(member, "supports_tools", False):
            name = self._names[index]
            skipped = ConfigurationError(f"{name} does not support tool calling; skipped")
            failures.append((name, skipped))
            logger.warning("fallback model %r skipped: the request has tools it cannot call", name)
        else:
            return member
        return None

    def _fall_back(
        self, index: int, error: Exception, failures: list[tuple[str, Exception]]
    ) -> bool:
        """Record ``error`` of model ``index``; whether the next model is tried."""
        name = self._names[index]
        if not isinstance(error, self.fallback_on):
            _note_earlier(error, failures)
            return False
        failures.append((name, error))
        if index + 1 < len(self._names):
            following = self._names[index + 1]
            logger.warning(
                "model %r failed (%s); falling back to %r", name, _describe(error), following
            )
            from gecko.core import telemetry

            telemetry.record_fallback(name, error, following)
        return True

    def _used(self, index: int, failures: list[tuple[str, Exception]]) -> None:
        from gecko.core import telemetry

        telemetry.record_model_used(self._names[index], len(failures) + 1)

    def _exhausted(self, failures: list[tuple[str, Exception]]) -> AllModelsFailedError:
        lines = "\n".join(
            f"  {number}. {name}: {_describe(error)}"
            for number, (name, error) in enumerate(failures, 1)
        )
        last = failures[-1][1]
        context: dict[str, Any] = {}
        hints = [getattr(error, "context", {}).get("retry_after") for _, error in failures]
        waits = [float(hint) for hint in hints if isinstance(hint, (int, float))]
        if len(waits) == len(failures):
            context["retry_after"] = min(waits)  # every provider asked to wait: the soonest
        error = AllModelsFailedError(
            f"every model of the fallback chain failed:\n{lines}",
            hint="each model's own retries ran first; add a model to the chain, raise the "
            "providers' limits, or retry later",
            model=self.name,
            status=getattr(last, "status", None),
            failures=list(failures),
            **context,
        )
        error.__cause__ = last
        return error


# --- helpers -------------------------------------------------------------------------------------


def _check_entry(entry: object, position: int) -> str:
    """The name of a chain entry; a model id's provider must be registered."""
    if isinstance(entry, str):
        from gecko.core.factories import _provider
        from gecko.core.plugins.manager import get_plugin_manager

        get_plugin_manager().lookup("models", _provider(entry, "model"))
        return entry.strip()
    if callable(getattr(entry, "acompletion", None)):
        return str(getattr(entry, "name", None) or type(entry).__name__)
    raise ConfigurationError(
        f"fallback model {position} must be a ChatModel or a model id, got {type(entry).__name__}",
        hint="e.g. ['openai/gpt-4o', 'anthropic/claude-haiku-4-5'] or ChatModel objects",
    )


def _protect(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options kept until the ids are created, with a string ``api_key`` as a SecretStr."""
    kept = dict(options)
    key = kept.get("api_key")
    if isinstance(key, str):
        from pydantic import SecretStr

        kept["api_key"] = SecretStr(key)
    return kept


def _error_types(value: Any) -> tuple[type[Exception], ...]:
    if value is None:
        return DEFAULT_FALLBACK_ON
    items = (value,) if isinstance(value, type) else value
    if isinstance(items, (tuple, list, set, frozenset)):
        types = tuple(items)
        if types and all(isinstance(t, type) and issubclass(t, Exception) for t in types):
            return types
    raise ConfigurationError(
        f"fallback_on must be an Exception subclass or a tuple of them, got {value!r}",
        hint="e.g. fallback_on=(RateLimitError, ModelServerError) from gecko.core.errors",
    )


def _measure(member: ChatModel, name: str) -> ModelCallMetrics | None:
    if getattr(member, "measures_own_calls", False):
        return None  # a nested chain measures its own models
    from gecko.core.telemetry import metrics

    return metrics.model_call(name)


async def _bounded(awaitable: Any, timeout: float | None, name: str) -> Any:
    """Await ``awaitable``; with ``timeout``, a ``ModelTimeoutError`` naming ``name`` when it passes."""
    if timeout is None:
        return await awaitable
    with anyio.move_on_after(timeout) as scope:
        return await awaitable
    if scope.cancelled_caught:
        raise ModelTimeoutError(
            f"model {name!r} did not answer within {timeout:g} s",
            hint="raise the timeout of the fallback chain (or the engine's model_timeout)",
            model=name,
            timeout=timeout,
        )
    raise AssertionError("unreachable")  # pragma: no cover


def _stream_of(
    member: ChatModel, messages: Sequence[Message], request: dict[str, Any]
) -> AsyncIterator[ModelChunk]:
    astream = getattr(member, "astream", None)
    if callable(astream):
        stream: AsyncIterator[ModelChunk] = astream(messages, **request)
        return stream
    return _completion_stream(member, messages, request)


async def _completion_stream(
    member: ChatModel, messages: Sequence[Message], request: dict[str, Any]
) -> AsyncIterator[ModelChunk]:
    """A model that cannot stream, as a stream: its text in one chunk, then the response."""
    response = await member.acompletion(messages, **request)
    if response.message.text:
        yield ModelChunk(text=response.message.text)
    yield ModelChunk(response=response)


async def _first_chunk(stream: AsyncIterator[ModelChunk]) -> ModelChunk | None:
    try:
        return await stream.__anext__()
    except StopAsyncIteration:
        return None


async def _close(stream: AsyncIterator[ModelChunk]) -> None:
    close = getattr(stream, "aclose", None)
    if close is None:
        return
    try:
        await close()
    except Exception:  # closing a broken stream is best effort; its error was handled
        logger.debug("closing a model stream failed", exc_info=True)


def _note_earlier(error: Exception, failures: list[tuple[str, Exception]]) -> None:
    """Tell, on an error that ends the chain, which models failed before it."""
    if failures and isinstance(error, GeckoError):
        error.context["fallback_failures"] = describe_failures(failures)
        earlier = ", ".join(f"{name}: {type(exc).__name__}" for name, exc in failures)
        error.message += f" (after falling back from {earlier})"


def _describe(error: Exception) -> str:
    message = error.message if isinstance(error, GeckoError) else str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
