"""Which model-call failures are retried: Gecko's ``RetryPolicy`` with model defaults.

Retried: 429 (``RateLimitError``, honouring ``Retry-After``), 5xx
(``ModelServerError``) and connection errors; timeouts only when asked (the
timeout is the budget a caller gave one attempt). Never retried: authentication
failures, other 4xx, malformed responses. litellm's own retries are disabled on
every call, so these are the only ones.
"""

from __future__ import annotations

from typing import Any

from gecko.core.errors import (
    ConfigurationError,
    ModelConnectionError,
    ModelServerError,
    ModelTimeoutError,
    RateLimitError,
)
from gecko.core.retry import RetryPolicy

RETRIED_MODEL_ERRORS: tuple[type[Exception], ...] = (
    RateLimitError,
    ModelServerError,
    ModelConnectionError,
)
"""What a model call retries by default; add ``ModelTimeoutError`` to retry timeouts too."""


def model_retry_policy(
    retries: int = 3, *, retry_timeouts: bool = False, **fields: Any
) -> RetryPolicy:
    """The ``RetryPolicy`` of model calls: ``retries`` after the first attempt.

    ``retry_timeouts`` also retries ``ModelTimeoutError``; ``fields`` are any other
    ``RetryPolicy`` fields (``initial_delay``, ``max_delay``, ``max_retry_after``...).
    """
    for reserved in ("retry_on", "max_attempts"):
        if reserved in fields:
            raise ConfigurationError(
                f"model_retry_policy sets {reserved} itself",
                hint="give the number of retries as `retries` (and `retry_timeouts`), or build "
                "a RetryPolicy(...) directly to retry other errors",
            )
    retry_on = RETRIED_MODEL_ERRORS + ((ModelTimeoutError,) if retry_timeouts else ())
    base = RetryPolicy.coerce({**fields, "retry_on": retry_on})  # unknown fields: a clear error
    return RetryPolicy.coerce(retries, default=base)


DEFAULT_MODEL_RETRY = model_retry_policy()
"""3 retries of rate limits, server and connection errors; the default of every model."""
