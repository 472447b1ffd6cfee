"""``RetryPolicy`` and ``retry_async``: the one way Gecko retries a failed operation.

Workflow nodes (gecko-compose) and model calls (gecko-models-litellm) both retry
through these, so every retry in Gecko backs off, jitters, honours ``retry_after``
and reports the attempts it made the same way::

    policy = RetryPolicy(max_attempts=4, initial_delay=0.2, retry_on=(ConnectionError,))
    answer = await retry_async(lambda: fetch(url), policy, what=f"GET {url}")
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

import anyio

from gecko.core.errors import (
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConfigurationError,
    GeckoError,
    GuardrailViolation,
)
from gecko.core.validation import check_int, check_number

T = TypeVar("T")

_logger = logging.getLogger(__name__)

NEVER_RETRIED: tuple[type[Exception], ...] = (
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConfigurationError,
    GuardrailViolation,
)
"""Errors no retry can fix: bad credentials, bad requests, exhausted budgets, bad settings."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often, and how long to wait before, an operation that failed is tried again.

    ``max_attempts`` counts the first attempt (1 disables retrying). A failure of
    attempt ``n`` (1-based) with an error in ``retry_on`` and not in ``never_retry``
    is followed by a wait whose cap is ``initial_delay * backoff**(n-1)``, at most
    ``max_delay``.

    Jitter is *full jitter*: with ``jitter`` the wait is drawn uniformly from
    ``[0, cap]``; without it the wait is the cap. Full jitter spreads clients that
    failed together (a Team hitting one rate limit, parallel nodes losing one
    server) over the whole window, which in AWS's analysis of backoff schemes
    ("Exponential Backoff and Jitter") gives the fewest collisions and the least
    total work; a server that needs a minimum wait says so with ``retry_after``.

    A ``retry_after`` hint on the error (its ``retry_after`` attribute or
    ``context["retry_after"]``, in seconds; model plugins fill it from the
    ``Retry-After`` header) is a floor: the wait becomes ``retry_after + U(0, cap)``
    with jitter (so clients told the same time do not all return at once) and
    ``max(retry_after, cap)`` without. A hint above ``max_retry_after`` fails at
    once (``delay`` returns None): waiting an hour inside a call is never useful.
    """

    max_attempts: int = 3
    initial_delay: float = 0.5
    max_delay: float = 30.0
    backoff: float = 2.0
    jitter: bool = True
    retry_on: tuple[type[Exception], ...] = (Exception,)
    never_retry: tuple[type[Exception], ...] = NEVER_RETRIED
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        check_int(
            "RetryPolicy.max_attempts",
            self.max_attempts,
            minimum=1,
            hint="max_attempts counts the first attempt: 1 disables retrying",
        )
        for name in ("initial_delay", "max_delay", "max_retry_after"):
            check_number(
                f"RetryPolicy.{name}", getattr(self, name), minimum=0, finite=False, unit="seconds"
            )
        check_number("RetryPolicy.backoff", self.backoff, minimum=1, finite=False)
        if not isinstance(self.jitter, bool):
            raise ConfigurationError(f"RetryPolicy.jitter must be a bool, got {self.jitter!r}")
        object.__setattr__(self, "retry_on", _error_types("retry_on", self.retry_on))
        object.__setattr__(self, "never_retry", _error_types("never_retry", self.never_retry))

    @classmethod
    def coerce(
        cls,
        value: RetryPolicy | int | Mapping[str, Any] | None,
        *,
        default: RetryPolicy | None = None,
    ) -> RetryPolicy:
        """A policy from what an option accepts.

        ``None`` is ``default`` (``RetryPolicy()`` when not given); a policy is used
        as is; an int is a number of *retries* (``max_attempts = n + 1``) and a
        mapping a set of fields, both applied on top of ``default``.
        """
        base = cls() if default is None else default
        if value is None:
            return base
        if isinstance(value, RetryPolicy):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            retries = check_int("retries", value, minimum=0, hint="0 disables retrying")
            return replace(base, max_attempts=retries + 1)
        if isinstance(value, Mapping):
            known = {f.name for f in fields(cls)}
            unknown = sorted(str(key) for key in value if key not in known)
            if unknown:
                raise ConfigurationError(
                    f"unknown RetryPolicy field(s): {', '.join(unknown)}",
                    hint=f"valid fields: {', '.join(sorted(known))}",
                )
            return replace(base, **value)
        raise ConfigurationError(
            "retries must be a RetryPolicy, a number of retries or a dict of RetryPolicy "
            f"fields, got {type(value).__name__}"
        )

    def should_retry(self, error: BaseException, attempt: int) -> bool:
        """Whether a failure of attempt ``attempt`` (1-based) is followed by another attempt."""
        return (
            attempt < self.max_attempts
            and isinstance(error, self.retry_on)
            and not isinstance(error, self.never_retry)
        )

    def delay(self, attempt: int, error: BaseException | None = None) -> float | None:
        """Seconds to wait after failed attempt ``attempt`` (1-based).

        None when ``error`` asks to wait longer than ``max_retry_after``: give up.
        """
        hint = retry_after(error)
        if hint is not None and hint > self.max_retry_after:
            return None
        cap = self._cap(attempt)
        if hint is None:
            return random.uniform(0.0, cap) if self.jitter else cap
        return hint + random.uniform(0.0, cap) if self.jitter else max(hint, cap)

    def _cap(self, attempt: int) -> float:
        try:
            grown = self.initial_delay * self.backoff ** max(0, attempt - 1)
        except OverflowError:  # thousands of attempts: the cap was reached long ago
            grown = math.inf
        return min(self.max_delay, grown)


def retry_after(error: BaseException | None) -> float | None:
    """The wait (seconds) ``error`` asks for: ``error.retry_after`` or its ``context``."""
    if error is None:
        return None
    value: Any = getattr(error, "retry_after", None)
    if value is None:
        context = getattr(error, "context", None)
        if isinstance(context, dict):
            value = context.get("retry_after")
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if number and math.isfinite(value) and value >= 0 else None


async def retry_async(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    what: str,
    logger: logging.Logger | None = None,
    on_retry: Callable[[Exception, int, float], Awaitable[object]] | None = None,
    annotate: bool = True,
) -> T:
    """Await ``attempt()`` until it succeeds or fails in a way ``policy`` does not retry.

    Each retry is logged at INFO on ``logger`` (``what`` names the operation), then
    ``on_retry(error, attempt, delay)`` is awaited before the wait. The last error
    is raised as is; with ``annotate``, a ``GeckoError`` that went through more than
    one attempt gets ``context["attempts"]`` and its message says so (callers that
    report attempts themselves, like the workflow engine, pass ``annotate=False``).
    Only ``Exception`` is caught: cancellation always propagates at once.
    """
    log = _logger if logger is None else logger
    number = 1
    while True:
        try:
            return await attempt()
        except Exception as error:
            if not policy.should_retry(error, number):
                if annotate and number > 1:
                    _annotate(error, number, f"gave up after {number} attempts")
                raise
            wait = policy.delay(number, error)
            if wait is None:
                asked = (
                    f"asked to wait {retry_after(error) or 0:g} s, "
                    f"more than max_retry_after={policy.max_retry_after:g} s"
                )
                log.warning("%s failed (%s); not retrying: %s", what, _describe(error), asked)
                if annotate:
                    note = f"gave up after {number} attempts: {asked}" if number > 1 else asked
                    _annotate(error, number, note)
                raise
            log.info(
                "%s failed (attempt %d of %d, %s); retrying in %.2f s",
                what,
                number,
                policy.max_attempts,
                _describe(error),
                wait,
            )
            if on_retry is not None:
                await on_retry(error, number, wait)
            await anyio.sleep(wait)
            number += 1


def _annotate(error: Exception, attempts: int, note: str) -> None:
    if isinstance(error, GeckoError):
        if attempts > 1:
            error.context["attempts"] = attempts
        error.message += f" ({note})"


def _describe(error: Exception) -> str:
    message = error.message if isinstance(error, GeckoError) else str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _error_types(name: str, value: Any) -> tuple[type[Exception], ...]:
    """A tuple of exception classes; a single class is accepted for convenience."""
    items = (value,) if isinstance(value, type) else value
    if isinstance(items, (tuple, list)) and all(
        isinstance(item, type) and issubclass(item, Exception) for item in items
    ):
        return tuple(items)
    raise ConfigurationError(
        f"RetryPolicy.{name} must be a tuple of Exception subclasses, got {value!r}",
        hint="cancellation and other BaseExceptions are never retried",
    )
