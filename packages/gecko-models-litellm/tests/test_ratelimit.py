"""The shared rate limiter: sliding windows, FIFO fairness, token settling, the registry, real load."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from gecko.core.errors import ConfigurationError
from gecko.core.message import Message
from gecko.core.output import ModelResponse, TokenUsage
from gecko.core.testing import wait_until
from gecko.models.litellm.ratelimit import (
    RateLimiter,
    Reservation,
    rate_limiter_for,
    set_rate_limit,
)
from gecko.models.litellm.testing import StubServer

pytestmark = pytest.mark.anyio

FOREVER = 3600.0  # a window that never slides during a test: only the limiter's logic admits


async def test_admits_up_to_the_request_limit_then_queues() -> None:
    limiter = RateLimiter(requests=2, period=FOREVER)
    await limiter.acquire()
    await limiter.acquire()
    admitted: list[int] = []

    async def third() -> None:
        await limiter.acquire()
        admitted.append(3)

    async with anyio.create_task_group() as group:
        group.start_soon(third)
        await wait_until(lambda: limiter.waiting == 1)
        assert admitted == []
        limiter.configure(requests=3, period=FOREVER)  # more room: the waiter goes at once
    assert admitted == [3]
    assert limiter.in_window() == (3, 0)
    assert (limiter.admitted, limiter.delayed) == (3, 1)


async def test_waiters_are_admitted_in_arrival_order() -> None:
    limiter = RateLimiter(requests=1, period=FOREVER)
    await limiter.acquire()
    order: list[int] = []

    async def caller(number: int) -> None:
        await limiter.acquire()
        order.append(number)

    async with anyio.create_task_group() as group:
        for number in range(8):
            group.start_soon(caller, number)
            await wait_until(lambda n=number: limiter.waiting == n + 1)
        for allowed in range(2, 10):
            limiter.configure(requests=allowed, period=FOREVER)
            await wait_until(lambda a=allowed: len(order) == a - 1)
    assert order == list(range(8))


async def test_a_large_request_is_not_overtaken_by_small_ones() -> None:
    limiter = RateLimiter(tokens=100, period=FOREVER)
    first = await limiter.acquire(90)
    order: list[str] = []

    async def caller(name: str, tokens: int) -> None:
        await limiter.acquire(tokens)
        order.append(name)

    async with anyio.create_task_group() as group:
        group.start_soon(caller, "large", 50)
        await wait_until(lambda: limiter.waiting == 1)
        group.start_soon(caller, "small", 5)  # would fit now, but arrived later
        await wait_until(lambda: limiter.waiting == 2)
        assert order == []
        first.settle(0)  # the call used no tokens after all: room for both, in order
    assert order == ["large", "small"]
    assert limiter.in_window() == (3, 55)


async def test_settling_corrects_the_token_window() -> None:
    limiter = RateLimiter(tokens=100, period=FOREVER)
    reservation = await limiter.acquire(80)
    assert isinstance(reservation, Reservation)
    assert limiter.in_window() == (1, 80)
    reservation.settle(30)
    assert limiter.in_window() == (1, 30)
    await limiter.acquire(70)  # fits exactly
    assert limiter.in_window() == (2, 100)


async def test_oversized_request_waits_for_an_empty_window_and_cancellation_cleans_up() -> None:
    limiter = RateLimiter(tokens=100, period=FOREVER)
    await limiter.acquire(500)  # alone in an empty window: admitted rather than stuck forever
    with anyio.move_on_after(0.2):
        await limiter.acquire(10)
    assert limiter.waiting == 0  # the cancelled waiter left the queue


async def test_window_slides_with_time() -> None:
    limiter = RateLimiter(requests=3, period=0.3)
    for _ in range(9):
        reservation = await limiter.acquire()
        assert limiter.in_window()[0] <= 3
        reservation.settle(0)
    assert limiter.admitted == 9


async def test_a_running_call_counts_until_it_settles() -> None:
    limiter = RateLimiter(requests=1, period=0.01)
    running = await limiter.acquire()
    with anyio.move_on_after(0.3):  # many periods pass, but the call is still running
        await limiter.acquire()
    assert (limiter.in_flight, limiter.admitted) == (1, 1)
    running.settle(0)
    await limiter.acquire()  # admitted a period after the first call finished
    assert limiter.admitted == 2


def test_configuration_is_validated() -> None:
    with pytest.raises(ConfigurationError):
        RateLimiter(requests=0)
    with pytest.raises(ConfigurationError):
        RateLimiter(tokens=-5)
    with pytest.raises(ConfigurationError):
        RateLimiter(period=0)
    with pytest.raises(ConfigurationError):
        set_rate_limit("openai")
    with pytest.raises(ConfigurationError):
        set_rate_limit("openai", requests_per_minute=0)


async def test_registry_shares_limiters_by_provider_and_model(chat_model: Any) -> None:
    assert chat_model().rate_limiter is None  # nothing configured: no limiting
    set_rate_limit("openai", requests_per_minute=100)
    a, b = chat_model(), chat_model()
    other = chat_model("openai/gpt-4o")
    assert a.rate_limiter is b.rate_limiter is rate_limiter_for("openai", "gpt-4o-mini")
    assert a.rate_limiter is not other.rate_limiter  # one limiter per model
    assert a.rate_limiter is not None and a.rate_limiter.requests == 100

    set_rate_limit("OpenAI/gpt-4o-mini", requests_per_minute=10, tokens_per_minute=5000)
    assert a.rate_limiter is not None
    assert (a.rate_limiter.requests, a.rate_limiter.tokens) == (10, 5000)  # model beats provider
    assert other.rate_limiter is not None and other.rate_limiter.requests == 100

    explicit = RateLimiter(requests=1, period=1.0)
    set_rate_limit("openai/gpt-4o", limiter=explicit)
    assert other.rate_limiter is explicit


async def test_per_instance_limits_configure_the_shared_limiter(chat_model: Any) -> None:
    a = chat_model(requests_per_minute=30)
    b = chat_model(requests_per_minute=30)
    assert a.rate_limiter is b.rate_limiter
    assert a.rate_limiter is not None and a.rate_limiter.requests == 30
    own = RateLimiter(requests=5)
    assert chat_model(rate_limiter=own).rate_limiter is own
    with pytest.raises(ConfigurationError):
        chat_model(rate_limiter=own, requests_per_minute=5)


async def _warm_up(server: StubServer, model: Any) -> None:
    """One call first, so litellm's one-off client setup does not skew arrival times."""
    await model.acompletion([Message.user("warm up")])
    server.requests.clear()


def _max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best = 0
    for i, start in enumerate(times):
        best = max(best, sum(1 for t in times[i:] if t < start + window))
    return best


async def test_fifty_concurrent_agents_are_held_to_the_request_rate(
    server: StubServer, chat_model: Any
) -> None:
    limit, period = 10, 1.0
    await _warm_up(server, chat_model())
    set_rate_limit("openai/gpt-4o-mini", limiter=RateLimiter(requests=limit, period=period))
    models = [chat_model() for _ in range(50)]  # fifty agents, each with its own model instance

    async def agent(number: int) -> None:
        await models[number].acompletion([Message.user(f"agent {number}")])

    async with anyio.create_task_group() as group:
        for number in range(50):
            group.start_soon(agent, number)

    times = [r.received_at for r in server.chat_requests]
    assert len(times) == 50
    # The server never sees more than `limit` requests in any window: a call counts
    # from admission until a period after it finished, so its arrival is covered.
    assert _max_in_window(times, period) <= limit
    # Fifty requests at ten per window need at least four further windows.
    assert max(times) - min(times) >= 4 * period
    limiter = rate_limiter_for("openai", "gpt-4o-mini")
    assert limiter is not None and limiter.admitted == 50 and limiter.delayed >= 40


async def test_token_limit_holds_against_reported_usage(
    server: StubServer, chat_model: Any
) -> None:
    budget, period = 300, 1.0
    await _warm_up(server, chat_model())
    limiter = RateLimiter(tokens=budget, period=period)
    models = [chat_model(rate_limiter=limiter, max_tokens=40) for _ in range(30)]
    server.add_chat(
        *[ModelResponse(message=Message.assistant("ok"), usage=TokenUsage.of(25, 15))] * 30
    )

    async def agent(number: int) -> None:
        await models[number].acompletion([Message.user(f"agent {number} asks")])

    async with anyio.create_task_group() as group:
        for number in range(30):
            group.start_soon(agent, number)

    requests = server.chat_requests
    assert len(requests) == 30
    times = sorted(r.received_at for r in requests)
    # Every call reserves its estimate (prompt + max_tokens <= 60) and settles at 40 used:
    # at most 300 // 40 = 7 calls' usage fits a window.
    assert _max_in_window(times, period) <= budget // 40
    assert limiter.admitted == 30
    assert limiter.in_window()[1] <= budget
