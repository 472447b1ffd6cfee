"""Failures over real HTTP: retries, Retry-After, error classes, timeouts, malformed output, secrets."""

from __future__ import annotations

import logging
import socket
import traceback
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

import anyio
import pytest

from gecko.core.errors import (
    AuthenticationError,
    BadRequestError,
    GeckoError,
    ModelConnectionError,
    ModelError,
    ModelResponseError,
    ModelServerError,
    ModelTimeoutError,
    RateLimitError,
)
from gecko.core.message import Message
from gecko.core.retry import RetryPolicy
from gecko.models.litellm.error_mapping import redact, retry_after_seconds
from gecko.models.litellm.retry import DEFAULT_MODEL_RETRY, model_retry_policy
from gecko.models.litellm.testing import Delayed, HTTPReply, Stalled, StubServer

pytestmark = pytest.mark.anyio

SECRET = "sk-live-abcdef0123456789"
HI = [Message.user("hi")]


def _full_text(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


async def test_429_with_retry_after_then_success(server: StubServer, chat_model: Any) -> None:
    server.add_chat(
        HTTPReply.error(429, "Rate limit reached", headers={"retry-after-ms": "400"}),
        "made it",
    )
    response = await chat_model().acompletion(HI)
    assert response.text == "made it"
    first, second = server.chat_requests
    # The provider's wait is a floor: the retry never comes earlier than asked.
    assert second.received_at - first.received_at >= 0.4


async def test_retry_after_in_seconds_is_honoured(server: StubServer, chat_model: Any) -> None:
    server.add_chat(HTTPReply.error(429, "slow down", headers={"Retry-After": "1"}), "ok")
    response = await chat_model().acompletion(HI)
    assert response.text == "ok"
    first, second = server.chat_requests
    assert second.received_at - first.received_at >= 1.0


async def test_retry_after_longer_than_allowed_fails_at_once(
    server: StubServer, chat_model: Any
) -> None:
    server.add_chat(HTTPReply.error(429, "quota", headers={"Retry-After": "3600"}), "never")
    model = chat_model(retries=model_retry_policy(3, max_retry_after=60))
    with pytest.raises(RateLimitError) as caught:
        await model.acompletion(HI)
    assert caught.value.status == 429
    assert caught.value.context["retry_after"] == 3600
    assert "3600" in str(caught.value)
    assert len(server.chat_requests) == 1


async def test_500_then_success(server: StubServer, chat_model: Any) -> None:
    server.add_chat(HTTPReply.error(500, "boom"), HTTPReply.error(503, "busy"), "recovered")
    response = await chat_model().acompletion(HI)
    assert response.text == "recovered"
    assert len(server.chat_requests) == 3


async def test_retries_exhausted_on_5xx(server: StubServer, chat_model: Any) -> None:
    server.add_chat(*[HTTPReply.error(502, "bad gateway")] * 3)
    model = chat_model(retries=model_retry_policy(2, initial_delay=0.01))
    with pytest.raises(ModelServerError) as caught:
        await model.acompletion(HI)
    error = caught.value
    assert (error.provider, error.model, error.status) == ("openai", "gpt-4o-mini", 502)
    assert error.context["attempts"] == 3
    assert "gave up after 3 attempts" in str(error)
    assert len(server.chat_requests) == 3


async def test_429_exhausted_is_rate_limit_error(server: StubServer, chat_model: Any) -> None:
    server.add_chat(*[HTTPReply.error(429, "slow")] * 2)
    model = chat_model(retries=1)
    with pytest.raises(RateLimitError) as caught:
        await model.acompletion(HI)
    assert caught.value.status == 429
    assert len(server.chat_requests) == 2


async def test_401_is_not_retried_and_never_shows_the_key(
    server: StubServer, chat_model: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server.add_chat(HTTPReply.error(401, f"Incorrect API key provided: {SECRET}"), "unused")
    model = chat_model(api_key=SECRET)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationError) as caught:
        await model.acompletion(HI)
    error = caught.value
    assert (error.provider, error.model, error.status) == ("openai", "gpt-4o-mini", 401)
    assert len(server.chat_requests) == 1
    assert server.chat_requests[0].api_key == SECRET  # it was sent...
    assert SECRET not in _full_text(error)  # ...but appears nowhere in the error or its chain
    assert "Incorrect API key provided" in str(error)
    assert SECRET not in caplog.text
    assert SECRET not in repr(model)


async def test_403_is_an_authentication_error(server: StubServer, chat_model: Any) -> None:
    server.add_chat(HTTPReply.error(403, "forbidden"))
    with pytest.raises(AuthenticationError) as caught:
        await chat_model().acompletion(HI)
    assert caught.value.status == 403
    assert len(server.chat_requests) == 1


@pytest.mark.parametrize("status", [400, 404, 422])
async def test_other_4xx_are_bad_requests_not_retried(
    server: StubServer, chat_model: Any, status: int
) -> None:
    server.add_chat(HTTPReply.error(status, "you asked for something odd"), "unused")
    with pytest.raises(BadRequestError) as caught:
        await chat_model().acompletion(HI)
    assert caught.value.status == status
    assert "you asked for something odd" in str(caught.value)
    assert len(server.chat_requests) == 1


async def test_timeout(server: StubServer, chat_model: Any) -> None:
    server.add_chat("warm", Delayed(3600, "far too late"))
    model = chat_model(timeout=0.5)
    await model.acompletion(HI)  # the first call of a process imports lazily; keep it untimed
    with anyio.fail_after(120):  # a hang fails the test instead of blocking the suite
        with pytest.raises(ModelTimeoutError) as caught:
            await model.acompletion(HI)
    error = caught.value
    assert isinstance(error, TimeoutError)
    assert (error.provider, error.model) == ("openai", "gpt-4o-mini")
    assert "0.5 s" in str(error)
    assert len(server.chat_requests) == 2  # timeouts are not retried by default


async def test_timeout_can_be_retried_when_asked(server: StubServer, chat_model: Any) -> None:
    server.add_chat("warm", Delayed(3600), "second try")
    model = chat_model(
        timeout=0.5, retries=model_retry_policy(retry_timeouts=True, initial_delay=0.01)
    )
    await model.acompletion(HI)
    with anyio.fail_after(120):
        response = await model.acompletion(HI)
    assert response.text == "second try"


async def test_per_call_timeout_overrides_the_instance(server: StubServer, chat_model: Any) -> None:
    server.add_chat("warm", Delayed(3600))
    model = chat_model(timeout=3600)
    await model.acompletion(HI)
    with anyio.fail_after(120), pytest.raises(ModelTimeoutError):
        await model.acompletion(HI, timeout=0.5)


async def test_stalled_stream_times_out_between_chunks(server: StubServer, chat_model: Any) -> None:
    server.add_chat("warm", Stalled("This stream stops after a few words.", after_chunks=3))
    model = chat_model(timeout=0.5)
    await model.acompletion(HI)
    received: list[str] = []
    with anyio.fail_after(120), pytest.raises(ModelTimeoutError):
        async for chunk in model.astream(HI):
            received.append(chunk.text)
    assert "".join(received) == "This stream stops"[: len("".join(received))]
    assert received  # text arrived before the stall
    assert len(server.chat_requests) == 2  # never retried once text was yielded


@pytest.mark.parametrize(
    "reply",
    [
        HTTPReply(body=b'{"choices": ['),
        HTTPReply(body=b"<html>proxy error page</html>", content_type="text/html"),
        HTTPReply(body={"id": "x", "object": "chat.completion", "choices": None}),
    ],
    ids=["truncated-json", "not-json", "no-choices"],
)
async def test_malformed_response(server: StubServer, chat_model: Any, reply: HTTPReply) -> None:
    server.add_chat(reply, "unused")
    with pytest.raises(ModelResponseError) as caught:
        await chat_model().acompletion(HI)
    assert caught.value.provider == "openai"
    assert len(server.chat_requests) == 1  # malformed output is not retried


async def test_malformed_stream(server: StubServer, chat_model: Any) -> None:
    server.add_chat(
        HTTPReply(body=b"this is not a server-sent event stream", content_type="text/plain")
    )
    with pytest.raises(ModelResponseError):
        async for _ in chat_model().astream(HI):
            pass


async def test_stream_retries_before_the_first_chunk(server: StubServer, chat_model: Any) -> None:
    server.add_chat(HTTPReply.error(503, "warming up"), "streamed after retry")
    chunks = [c async for c in chat_model().astream(HI)]
    assert chunks[-1].response is not None
    assert chunks[-1].response.text == "streamed after retry"
    assert len(server.chat_requests) == 2


async def test_connection_refused_is_retried_then_raised(chat_model: Any) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    model = chat_model(
        base_url=f"http://127.0.0.1:{port}/v1", retries=model_retry_policy(1, initial_delay=0.01)
    )
    with pytest.raises(ModelConnectionError) as caught:
        await model.acompletion(HI)
    assert caught.value.status is None
    assert caught.value.context["attempts"] == 2
    assert isinstance(caught.value, ConnectionError)


async def test_errors_are_gecko_errors_only(server: StubServer, chat_model: Any) -> None:
    server.add_chat(
        HTTPReply.error(418, "teapot"), HTTPReply.error(500, "x"), HTTPReply.error(500, "y")
    )
    model = chat_model(retries=1)
    for expected in (BadRequestError, ModelServerError):
        with pytest.raises(ModelError) as caught:
            await model.acompletion(HI)
        assert type(caught.value) is expected
        assert isinstance(caught.value, GeckoError)


def test_retry_after_parsing() -> None:
    now = 1_700_000_000.0
    assert retry_after_seconds({"Retry-After": "7"}) == 7.0
    assert retry_after_seconds({"retry-after": "1.5"}) == 1.5
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    date = format_datetime(datetime.fromtimestamp(now + 30, tz=timezone.utc), usegmt=True)
    assert retry_after_seconds({"Retry-After": date}, now=now) == pytest.approx(30.0)
    past = format_datetime(datetime.fromtimestamp(now - 30, tz=timezone.utc), usegmt=True)
    assert retry_after_seconds({"Retry-After": past}, now=now) == 0.0
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}) is None
    assert retry_after_seconds(None) is None


def test_model_retry_policy_retries_what_retrying_can_fix() -> None:
    assert model_retry_policy() == DEFAULT_MODEL_RETRY
    assert DEFAULT_MODEL_RETRY.max_attempts == 4  # 3 retries
    for retried in (
        RateLimitError("slow"),
        ModelServerError("busy", status=503),
        ModelConnectionError("refused"),
    ):
        assert DEFAULT_MODEL_RETRY.should_retry(retried, 1)
    for final in (
        ModelTimeoutError("late"),
        AuthenticationError("bad key"),
        BadRequestError("too long"),
        ModelResponseError("not json"),
        ValueError("a bug"),
    ):
        assert not DEFAULT_MODEL_RETRY.should_retry(final, 1)
    assert model_retry_policy(retry_timeouts=True).should_retry(ModelTimeoutError("late"), 1)
    assert not model_retry_policy(0).should_retry(RateLimitError("slow"), 1)


async def test_retries_option_accepts_a_policy_a_number_or_a_dict(chat_model: Any) -> None:
    assert chat_model(retries=None).retry == DEFAULT_MODEL_RETRY
    two = chat_model(retries=2).retry
    assert two.max_attempts == 3 and two.retry_on == DEFAULT_MODEL_RETRY.retry_on
    tuned = chat_model(retries={"initial_delay": 0.1, "max_retry_after": 10}).retry
    assert (tuned.initial_delay, tuned.max_retry_after) == (0.1, 10)
    assert tuned.retry_on == DEFAULT_MODEL_RETRY.retry_on  # fields merge onto the model default
    mine = RetryPolicy(max_attempts=2, retry_on=(RateLimitError,))
    assert chat_model(retries=mine).retry is mine
    with pytest.raises(GeckoError, match="retries must be an integer >= 0"):
        chat_model(retries=-1)
    with pytest.raises(GeckoError, match="unknown RetryPolicy field"):
        chat_model(retries={"max_retries": 3})
    with pytest.raises(GeckoError):
        chat_model(retries="three")
    with pytest.raises(GeckoError, match="sets retry_on itself"):
        model_retry_policy(retry_on=(ValueError,))
    with pytest.raises(GeckoError, match="unknown RetryPolicy field"):
        model_retry_policy(base_delay=0.1)


def test_redaction() -> None:
    text = (
        f"bad key {SECRET}; header Authorization: Bearer abcdefghijklmnop; api_key='zzzzzzzzzzzz'"
    )
    clean = redact(text, [SECRET])
    assert SECRET not in clean
    assert "abcdefghijklmnop" not in clean
    assert "zzzzzzzzzzzz" not in clean
    assert "bad key ***" in clean
