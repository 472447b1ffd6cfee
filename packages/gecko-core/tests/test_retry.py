"""``RetryPolicy`` and ``retry_async``: backoff, full jitter, ``retry_after``, coercion, the loop."""

from __future__ import annotations

import logging
import math
import random
from typing import Any

import pytest

from gecko.core.errors import (
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConfigurationError,
    GeckoError,
    GuardrailViolation,
    ModelServerError,
    RateLimitError,
)
from gecko.core.retry import NEVER_RETRIED, RetryPolicy, retry_after, retry_async

pytestmark = pytest.mark.anyio

NO_WAIT = RetryPolicy(max_attempts=4, initial_delay=0, jitter=False)


class HintedError(Exception):
    """A non-Gecko error carrying a ``retry_after`` attribute."""

    def __init__(self, retry_after: object) -> None:
        super().__init__("hinted")
        self.retry_after = retry_after


# --- delays -------------------------------------------------------------------


def test_without_jitter_the_wait_grows_exponentially_up_to_max_delay() -> None:
    policy = RetryPolicy(initial_delay=0.5, backoff=3.0, max_delay=10.0, jitter=False)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.5, 4.5, 10.0, 10.0]
    assert RetryPolicy(backoff=1.0, jitter=False).delay(7) == 0.5  # constant backoff


def test_huge_attempt_numbers_stay_at_max_delay() -> None:
    policy = RetryPolicy(max_attempts=100_000, initial_delay=1.0, max_delay=7.0, jitter=False)
    assert policy.delay(50_000) == 7.0


@pytest.mark.parametrize(("attempt", "cap"), [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)])
def test_full_jitter_covers_the_whole_window(attempt: int, cap: float) -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=4.0)
    random.seed(attempt)
    samples = [policy.delay(attempt) for _ in range(400)]
    delays = [s for s in samples if s is not None]
    assert len(delays) == 400
    assert all(0.0 <= d <= cap for d in delays)
    assert len(set(delays)) > 300  # random, not a schedule
    assert min(delays) < cap * 0.1 and max(delays) > cap * 0.9  # both ends of [0, cap]


def test_retry_after_is_a_floor_with_and_without_jitter() -> None:
    limited = RateLimitError("slow down", retry_after=2.0)  # context["retry_after"]
    exact = RetryPolicy(initial_delay=0.5, max_delay=8.0, jitter=False)
    assert exact.delay(1, limited) == 2.0  # max(hint, 0.5)
    assert exact.delay(4, limited) == 4.0  # max(hint, 4.0): the backoff is longer
    jittered = RetryPolicy(initial_delay=0.5, max_delay=8.0)
    random.seed(3)
    spread = [jittered.delay(2, limited) or 0.0 for _ in range(300)]
    assert all(2.0 <= d <= 3.0 for d in spread)  # hint + U(0, cap=1.0)
    assert len(set(spread)) > 200  # clients told the same time do not return together


def test_retry_after_is_read_from_the_attribute_or_the_context() -> None:
    assert retry_after(HintedError(1.5)) == 1.5
    assert retry_after(GeckoError("x", retry_after=3)) == 3.0
    assert retry_after(ValueError("no hint")) is None
    assert retry_after(None) is None
    for bad in (-1, math.nan, math.inf, True, "10", None):
        assert retry_after(HintedError(bad)) is None
    assert RetryPolicy(jitter=False).delay(1, HintedError("soon")) == 0.5  # ignored, not fatal


def test_retry_after_beyond_max_retry_after_gives_up() -> None:
    policy = RetryPolicy(max_retry_after=60.0)
    assert policy.delay(1, RateLimitError("quota", retry_after=3600)) is None
    assert policy.delay(1, RateLimitError("quota", retry_after=60)) is not None
    unbounded = RetryPolicy(max_retry_after=math.inf, jitter=False)
    assert unbounded.delay(1, RateLimitError("quota", retry_after=3600)) == 3600.0


# --- what is retried -----------------------------------------------------------


def test_should_retry_counts_attempts_and_respects_retry_on() -> None:
    policy = RetryPolicy(max_attempts=3, retry_on=(ConnectionError, ModelServerError))
    assert policy.should_retry(ConnectionError(), 1)
    assert policy.should_retry(ModelServerError("busy"), 2)
    assert not policy.should_retry(ConnectionError(), 3)  # the last attempt
    assert not policy.should_retry(ValueError(), 1)  # not in retry_on


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationError("bad key"),
        BadRequestError("bad request"),
        BudgetExceededError("spent"),
        ConfigurationError("bad option"),
        GuardrailViolation("blocked"),
    ],
)
def test_errors_retrying_cannot_fix_are_never_retried(error: Exception) -> None:
    assert RetryPolicy().never_retry == NEVER_RETRIED
    assert not RetryPolicy(max_attempts=10).should_retry(error, 1)


def test_never_retry_wins_over_retry_on() -> None:
    policy = RetryPolicy(retry_on=(OSError,), never_retry=(PermissionError,))
    assert policy.should_retry(ConnectionError(), 1)
    assert not policy.should_retry(PermissionError(), 1)


# --- validation and coercion -----------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"max_attempts": 0},
        {"max_attempts": 2.5},
        {"max_attempts": True},
        {"initial_delay": -1},
        {"max_delay": math.nan},
        {"backoff": 0.5},
        {"max_retry_after": -0.1},
        {"jitter": "yes"},
        {"retry_on": (KeyboardInterrupt,)},
        {"retry_on": ("ConnectionError",)},
        {"never_retry": 42},
    ],
)
def test_invalid_fields_are_configuration_errors(fields: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="RetryPolicy"):
        RetryPolicy(**fields)


def test_a_single_exception_class_or_a_list_is_accepted() -> None:
    assert RetryPolicy(retry_on=ConnectionError).retry_on == (ConnectionError,)  # type: ignore[arg-type]
    assert RetryPolicy(never_retry=[ValueError]).never_retry == (ValueError,)  # type: ignore[arg-type]


def test_coerce_accepts_a_policy_a_number_of_retries_a_dict_or_none() -> None:
    default = RetryPolicy(initial_delay=0.1, retry_on=(ConnectionError,))
    assert RetryPolicy.coerce(None, default=default) is default
    assert RetryPolicy.coerce(None) == RetryPolicy()
    mine = RetryPolicy(max_attempts=9)
    assert RetryPolicy.coerce(mine, default=default) is mine
    three_retries = RetryPolicy.coerce(3, default=default)
    assert three_retries.max_attempts == 4  # retries, not attempts
    assert three_retries.retry_on == (ConnectionError,) and three_retries.initial_delay == 0.1
    assert RetryPolicy.coerce(0, default=default).max_attempts == 1
    merged = RetryPolicy.coerce({"max_delay": 2.0, "jitter": False}, default=default)
    assert (merged.max_delay, merged.jitter, merged.retry_on) == (2.0, False, (ConnectionError,))


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (-1, "retries must be an integer >= 0"),
        (True, "got bool"),
        ("three", "got str"),
        ({"max_retries": 3}, "unknown RetryPolicy field"),
        ({"max_attempts": 0}, "max_attempts"),
    ],
)
def test_coerce_rejects_what_it_cannot_read(value: Any, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match) as caught:
        RetryPolicy.coerce(value)
    if isinstance(value, dict) and "max_retries" in value:
        assert caught.value.hint is not None and "max_attempts" in caught.value.hint


# --- the loop ----------------------------------------------------------------------


class Flaky:
    """Fails with the given errors in turn, then returns ``"done"``; counts calls."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


async def test_retries_until_success_reporting_each_retry(caplog: pytest.LogCaptureFixture) -> None:
    attempt = Flaky(ConnectionError("reset"), ModelServerError("busy"))
    retries: list[tuple[str, int, float]] = []

    async def on_retry(error: Exception, number: int, delay: float) -> None:
        retries.append((type(error).__name__, number, delay))

    log = logging.getLogger("gecko.test.retry")
    with caplog.at_level(logging.INFO, logger="gecko.test.retry"):
        result = await retry_async(attempt, NO_WAIT, what="fetch", logger=log, on_retry=on_retry)
    assert result == "done" and attempt.calls == 3
    assert retries == [("ConnectionError", 1, 0.0), ("ModelServerError", 2, 0.0)]
    messages = [r.getMessage() for r in caplog.records if r.name == "gecko.test.retry"]
    assert messages == [
        "fetch failed (attempt 1 of 4, ConnectionError: reset); retrying in 0.00 s",
        "fetch failed (attempt 2 of 4, ModelServerError: busy); retrying in 0.00 s",
    ]


async def test_exhausted_retries_raise_the_last_error_annotated() -> None:
    attempt = Flaky(*(ModelServerError(f"busy {n}", status=503) for n in range(1, 5)))
    with pytest.raises(ModelServerError) as caught:
        await retry_async(attempt, NO_WAIT, what="call")
    error = caught.value
    assert attempt.calls == 4
    assert error.context["attempts"] == 4 and error.context["status"] == 503
    assert str(error) == "busy 4 (gave up after 4 attempts)"


async def test_a_plain_exception_is_raised_unchanged() -> None:
    last = ValueError("still broken")
    attempt = Flaky(ValueError("broken"), ValueError("broken"), ValueError("broken"), last)
    with pytest.raises(ValueError) as caught:
        await retry_async(attempt, NO_WAIT, what="call")
    assert caught.value is last and str(last) == "still broken"


async def test_an_error_not_retried_fails_at_once_without_annotation() -> None:
    attempt = Flaky(AuthenticationError("bad key"))
    with pytest.raises(AuthenticationError) as caught:
        await retry_async(attempt, NO_WAIT, what="call")
    assert attempt.calls == 1
    assert "attempts" not in caught.value.context and str(caught.value) == "bad key"


async def test_a_non_retried_error_after_retries_names_the_attempts() -> None:
    attempt = Flaky(ConnectionError("reset"), BadRequestError("context too long"))
    with pytest.raises(BadRequestError) as caught:
        await retry_async(attempt, NO_WAIT, what="call")
    assert caught.value.context["attempts"] == 2
    assert "gave up after 2 attempts" in str(caught.value)


async def test_annotate_false_leaves_the_error_alone() -> None:
    attempt = Flaky(*(GeckoError("boom") for _ in range(4)))
    with pytest.raises(GeckoError) as caught:
        await retry_async(attempt, NO_WAIT, what="node", annotate=False)
    assert attempt.calls == 4
    assert str(caught.value) == "boom" and "attempts" not in caught.value.context


async def test_a_retry_after_beyond_the_maximum_fails_at_once_saying_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    policy = RetryPolicy(max_attempts=5, initial_delay=0, max_retry_after=60)
    attempt = Flaky(ConnectionError("reset"), RateLimitError("quota", retry_after=3600))
    with (
        caplog.at_level(logging.WARNING, logger="gecko.core.retry"),
        pytest.raises(RateLimitError) as caught,
    ):
        await retry_async(attempt, policy, what="call")
    assert attempt.calls == 2
    assert caught.value.context["attempts"] == 2
    assert str(caught.value) == (
        "quota (gave up after 2 attempts: asked to wait 3600 s, more than max_retry_after=60 s)"
    )
    assert "not retrying: asked to wait 3600 s" in caplog.text


async def test_the_wait_honours_a_retry_after_hint() -> None:
    policy = RetryPolicy(initial_delay=0, jitter=False)
    delays: list[float] = []

    async def on_retry(error: Exception, number: int, delay: float) -> None:
        delays.append(delay)

    attempt = Flaky(RateLimitError("slow down", retry_after=0.02))
    assert await retry_async(attempt, policy, what="call", on_retry=on_retry) == "done"
    assert delays == [0.02]


async def test_base_exceptions_are_never_caught() -> None:
    class Stop(BaseException):
        pass

    attempt = Flaky(Stop())
    with pytest.raises(Stop):
        await retry_async(attempt, NO_WAIT, what="call")
    assert attempt.calls == 1


async def test_one_attempt_means_no_retry() -> None:
    attempt = Flaky(ConnectionError("reset"))
    with pytest.raises(ConnectionError):
        await retry_async(attempt, RetryPolicy(max_attempts=1), what="call")
    assert attempt.calls == 1
