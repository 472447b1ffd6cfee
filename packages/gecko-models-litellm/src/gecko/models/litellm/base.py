"""What chat models and embedders share: the target, credentials, timeout, retries, rate limit.

Everything a call needs is passed to litellm per call (``api_key``, ``base_url``,
``timeout``, ``num_retries=0``...), never through litellm's module globals or
``os.environ``, so instances with different keys and servers coexist in one process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from gecko.core.errors import ConfigurationError, GeckoError, ModelError
from gecko.core.retry import RetryPolicy
from gecko.core.validation import check_number
from gecko.models.litellm.error_mapping import translate_error
from gecko.models.litellm.ratelimit import RateLimiter, rate_limiter_for, shared_rate_limiter
from gecko.models.litellm.retry import DEFAULT_MODEL_RETRY
from gecko.models.litellm.target import Target, resolve_target

RESERVED = frozenset(
    {
        "model",
        "messages",
        "input",
        "stream",
        "num_retries",
        "max_retries",
        "api_key",
        "base_url",
        "api_base",
    }
)
"""Options Gecko controls itself: set on the instance (keys, URLs) or fixed per call."""


class LiteLLMClient:
    """Shared configuration of one litellm-backed model or embedder."""

    def __init__(
        self,
        model_id: str,
        *,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        api_base: str | None = None,
        timeout: float | None = None,
        retries: RetryPolicy | int | dict[str, Any] | None = None,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        rate_limiter: RateLimiter | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        if base_url and api_base and base_url != api_base:
            raise ConfigurationError(
                "pass base_url or api_base, not both (they are the same option)"
            )
        self.target: Target = resolve_target(model_id, base_url=base_url or api_base)
        self.name = model_id
        self._api_key = _secret(api_key)
        self.timeout = check_timeout(timeout)
        self.retry = RetryPolicy.coerce(retries, default=DEFAULT_MODEL_RETRY)
        self.options: dict[str, Any] = check_options(options or {}, where="model options")
        if rate_limiter is not None and (requests_per_minute or tokens_per_minute):
            raise ConfigurationError(
                "pass rate_limiter or requests_per_minute/tokens_per_minute, not both"
            )
        if rate_limiter is not None and not isinstance(rate_limiter, RateLimiter):
            raise ConfigurationError(
                f"rate_limiter must be a RateLimiter, got {type(rate_limiter).__name__}"
            )
        self._limiter = rate_limiter
        if requests_per_minute is not None or tokens_per_minute is not None:
            self._limiter = shared_rate_limiter(
                self.provider,
                self.model,
                requests_per_minute=requests_per_minute,
                tokens_per_minute=tokens_per_minute,
            )

    def __repr__(self) -> str:
        base = f", base_url={self.target.base_url!r}" if self.target.base_url else ""
        return f"{type(self).__name__}({self.name!r}{base})"

    @property
    def provider(self) -> str:
        return self.target.provider

    @property
    def model(self) -> str:
        return self.target.model

    @property
    def rate_limiter(self) -> RateLimiter | None:
        """The limiter calls go through: the instance's, else the shared one for provider/model."""
        return self._limiter or rate_limiter_for(self.provider, self.model)

    def _connection(self) -> tuple[dict[str, Any], list[str]]:
        """litellm keyword arguments for the target and credentials, and the secrets to redact."""
        kwargs: dict[str, Any] = {
            "model": self.target.litellm_model,
            "num_retries": 0,
            "max_retries": 0,
        }
        key = self.target.api_key(self._api_key)
        secrets: list[str] = []
        if key is not None:
            kwargs["api_key"] = key.get_secret_value()
            secrets.append(kwargs["api_key"])
        if self.target.base_url:
            kwargs["api_base"] = self.target.base_url
        return kwargs, secrets

    def _error(self, exc: BaseException, secrets: list[str], timeout: float | None) -> GeckoError:
        return translate_error(
            exc, provider=self.provider, model=self.model, secrets=secrets, timeout=timeout
        )


def tokens_after_failure(error: BaseException, estimate: int) -> int:
    """Tokens a failed call is charged in the rate-limit window.

    A request the provider answered with a 4xx (including 429) used none; after a
    timeout, a 5xx or a lost connection it may have, so it keeps its estimate.
    """
    if isinstance(error, ModelError) and error.status is not None and 400 <= error.status < 500:
        return 0
    return estimate


def check_options(options: Mapping[str, Any], *, where: str) -> dict[str, Any]:
    """Reject options Gecko sets itself, saying where they belong."""
    reserved = sorted(RESERVED & set(options))
    if reserved:
        raise ConfigurationError(
            f"{where} cannot set {', '.join(reserved)}",
            hint="api_key and base_url are instance options (create_model(id, api_key=..., "
            "base_url=...)); retries use the retries option; streaming uses astream()",
            options=reserved,
        )
    return dict(options)


def _secret(value: str | SecretStr | None) -> SecretStr | None:
    if value is None:
        return None
    if isinstance(value, SecretStr):
        return value
    if isinstance(value, str):
        return SecretStr(value)
    raise ConfigurationError(f"api_key must be a string or SecretStr, got {type(value).__name__}")


def check_timeout(value: float | None) -> float:
    """A validated timeout in seconds; None means ``GECKO_MODEL_TIMEOUT``."""
    if value is None:
        from gecko.core.config import get_settings

        return get_settings().model_timeout
    return check_number("timeout", value, above=0, unit="seconds")
