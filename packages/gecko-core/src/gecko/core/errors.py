"""The one error hierarchy of Gecko.

Every error carries a message that says what was wrong, an optional ``hint``
that says how to fix it, and structured ``context`` for logs and handlers.
Packages add subclasses next to the code that raises them, always rooted here.
"""

from __future__ import annotations

from typing import Any


class GeckoError(Exception):
    """Base class of every error Gecko raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None, **context: Any) -> None:
        self.message = message
        self.hint = hint
        self.context: dict[str, Any] = context
        super().__init__(message)

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep errors picklable across process boundaries (multiprocessing, test workers).
        return (_rebuild_error, (type(self), self.message, self.hint, self.context))


def _rebuild_error(
    cls: type[GeckoError], message: str, hint: str | None, context: dict[str, Any]
) -> GeckoError:
    error = cls.__new__(cls)
    GeckoError.__init__(error, message, hint=hint, **context)
    return error


class ConfigurationError(GeckoError, ValueError):
    """A setting, option or environment variable has an invalid value."""


class MissingDependencyError(GeckoError, ImportError):
    """An optional dependency is not installed; the hint names the pip command."""


# --- plugins and registries -------------------------------------------------


class PluginError(GeckoError):
    """A plugin failed to load, raised inside a hook, or registered something twice."""


class PluginConflictError(PluginError):
    """Two plugins registered the same name (scheme, provider, tool...)."""


class NotRegisteredError(GeckoError, LookupError):
    """Nothing is registered under the requested name (scheme, provider, tool)."""


class InvalidURLError(GeckoError, ValueError):
    """A storage URL is malformed."""


# --- serialization and storage ---------------------------------------------


class SerializationError(GeckoError, TypeError):
    """A value cannot be stored as JSON; the message names the key or path."""


class StorageError(GeckoError):
    """A storage backend failed."""


class StorageConnectionError(StorageError, ConnectionError):
    """A storage server could not be reached; the message names host and port."""


class CorruptDataError(StorageError):
    """A stored document could not be decoded."""


class SchemaVersionError(StorageError):
    """A database was written by a newer, incompatible schema version."""


class LockError(StorageError):
    """A distributed lock could not be acquired or was lost."""


class VectorStoreError(StorageError):
    """A vector store operation failed (dimension mismatch, bad metadata, bad filter)."""


class FilterError(VectorStoreError, ValueError):
    """A metadata filter is malformed or uses an unsupported operator."""


# --- models ------------------------------------------------------------------


class ModelError(GeckoError):
    """A chat model or embedder call failed. Carries provider, model and status."""

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        status: int | None = None,
        hint: str | None = None,
        **context: Any,
    ) -> None:
        super().__init__(
            message, hint=hint, provider=provider, model=model, status=status, **context
        )
        self.provider = provider
        self.model = model
        self.status = status


class RateLimitError(ModelError):
    """The provider answered 429 (too many requests) and retries were exhausted."""


class AuthenticationError(ModelError):
    """The provider rejected the credentials (401/403). Never retried."""


class ModelTimeoutError(ModelError, TimeoutError):
    """The provider did not answer within the configured timeout."""


class ModelConnectionError(ModelError, ConnectionError):
    """The provider could not be reached."""


class ModelResponseError(ModelError):
    """The provider answered with something Gecko cannot interpret (malformed output)."""


class BadRequestError(ModelError):
    """The provider rejected the request (4xx other than 401/403/429). Never retried."""


class ScriptExhaustedError(ModelError):
    """A scripted test model was called more times than its script has replies."""


# --- tools, structured output, guardrails ---------------------------------------


class ToolError(GeckoError):
    """A tool failed."""


class ToolNotFoundError(ToolError, NotRegisteredError):
    """The model asked for a tool that is not registered."""


class ToolArgumentError(ToolError, ValueError):
    """Tool arguments are not valid JSON or do not match the tool's schema."""


class ToolTimeoutError(ToolError, TimeoutError):
    """A tool did not finish within its timeout."""


class StructuredOutputError(GeckoError):
    """The model's output could not be parsed into the requested response model."""

    def __init__(
        self,
        message: str,
        *,
        raw_text: str | None = None,
        errors: list[Any] | None = None,
        hint: str | None = None,
        **context: Any,
    ) -> None:
        super().__init__(message, hint=hint, raw_text=raw_text, errors=errors, **context)
        self.raw_text = raw_text
        self.errors = errors or []


class GuardrailViolation(GeckoError):
    """An input was blocked by a guardrail."""


class PromptError(GeckoError):
    """A prompt template failed to validate or render."""


class BudgetExceededError(GeckoError):
    """A per-run budget (tokens, tool calls) was exhausted."""


class PromptNotFoundError(PromptError, NotRegisteredError):
    """No prompt template is registered under the requested name."""


class ModelServerError(ModelError):
    """The provider answered 5xx (a server-side failure) and retries were exhausted."""


class AllModelsFailedError(ModelError):
    """Every model of a fallback chain failed (see ``gecko.core.models.fallback``).

    ``failures`` lists ``(model, error)`` for each model tried, in order; the
    message names each one, and ``context["failures"]`` says the same as JSON
    (``model``, ``error`` class name, ``message``). ``__cause__`` is the last error.
    """

    def __init__(
        self,
        message: str,
        *,
        failures: list[tuple[str, Exception]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.failures: list[tuple[str, Exception]] = list(failures or [])
        self.context["failures"] = describe_failures(self.failures)

    def __reduce__(self) -> tuple[Any, ...]:
        state = (type(self), self.message, self.hint, self.context, self.failures)
        return (_rebuild_all_failed, state)

    @property
    def errors(self) -> list[Exception]:
        """The errors of every model tried, in order."""
        return [error for _, error in self.failures]

    @property
    def models(self) -> list[str]:
        """The ids of every model tried, in order."""
        return [model for model, _ in self.failures]


def describe_failures(failures: list[tuple[str, Exception]]) -> list[dict[str, str]]:
    """``(model, error)`` pairs as JSON: ``{"model", "error" (class name), "message"}``."""
    return [
        {
            "model": model,
            "error": type(error).__name__,
            "message": error.message if isinstance(error, GeckoError) else str(error),
        }
        for model, error in failures
    ]


def _rebuild_all_failed(
    cls: type[AllModelsFailedError],
    message: str,
    hint: str | None,
    context: dict[str, Any],
    failures: list[tuple[str, Exception]],
) -> AllModelsFailedError:
    error = _rebuild_error(cls, message, hint, context)
    assert isinstance(error, AllModelsFailedError)
    error.failures = failures
    for name in ("provider", "model", "status"):
        setattr(error, name, context.get(name))
    return error
