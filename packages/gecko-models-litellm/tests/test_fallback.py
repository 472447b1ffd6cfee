"""A fallback chain of litellm models over real HTTP: the first model answers 429 / 5xx."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import pytest

from gecko.core.agent import AgentBuilder
from gecko.core.errors import AllModelsFailedError, BadRequestError, RateLimitError
from gecko.core.message import Message
from gecko.core.models.fallback import FallbackModel
from gecko.models.litellm.retry import model_retry_policy
from gecko.models.litellm.testing import HTTPReply, StubServer

pytestmark = pytest.mark.anyio

SECRET = "sk-live-fallback-0123456789"
HI = [Message.user("hi")]


async def test_agent_falls_back_after_a_429(
    server: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.add_chat(
        HTTPReply.error(429, "Rate limit reached", headers={"Retry-After": "3600"}),
        "answered by the backup",
    )
    agent = (
        AgentBuilder()
        .with_model(
            ["openai/gpt-4o", "openai/gpt-4o-mini"],
            fallback_on=(RateLimitError,),
            api_key=SECRET,
            base_url=server.base_url,
            retries=model_retry_policy(3, initial_delay=0.01, max_delay=0.05),
        )
        .build()
    )
    # The key waits for the models to be created as a SecretStr, never in plain text.
    assert SECRET not in repr(vars(agent.model)) and SECRET not in repr(agent.model)
    caplog.set_level(logging.DEBUG)
    output = await agent.run("hello")
    assert output.content == "answered by the backup"
    first, second = server.chat_requests
    # Retry-After above max_retry_after: the first model gives up at once, the next one answers.
    assert first.body["model"] == "gpt-4o" and second.body["model"] == "gpt-4o-mini"
    assert second.api_key == SECRET
    warnings = [r.getMessage() for r in caplog.records if r.name == "gecko.core.models.fallback"]
    assert len(warnings) == 1
    assert "model 'openai/gpt-4o' failed (RateLimitError" in warnings[0]
    assert "falling back to 'openai/gpt-4o-mini'" in warnings[0]
    assert SECRET not in caplog.text


async def test_each_model_retries_its_5xx_before_the_chain_moves_on(
    server: StubServer, chat_model: Any
) -> None:
    server.add_chat(*[HTTPReply.error(500, "boom")] * 4, "recovered elsewhere")
    chain = FallbackModel([chat_model("openai/gpt-4o"), chat_model("openai/gpt-4o-mini")])
    response = await chain.acompletion(HI)
    assert response.text == "recovered elsewhere"
    models = [request.body["model"] for request in server.chat_requests]
    assert models == ["gpt-4o"] * 4 + ["gpt-4o-mini"]  # 1 attempt + 3 retries, then fallback


async def test_every_model_failing_over_http(server: StubServer, chat_model: Any) -> None:
    server.add_chat(
        HTTPReply.error(429, f"quota exceeded for key {SECRET}", headers={"Retry-After": "3600"}),
        *[HTTPReply.error(503, "overloaded")] * 4,
    )
    chain = FallbackModel(
        [chat_model("openai/gpt-4o", api_key=SECRET), chat_model("openai/gpt-4o-mini")]
    )
    with pytest.raises(AllModelsFailedError) as caught:
        await chain.acompletion(HI)
    error = caught.value
    assert error.models == ["openai/gpt-4o", "openai/gpt-4o-mini"]
    assert [e.status for e in error.errors] == [429, 503]  # type: ignore[attr-defined]
    text = "".join(traceback.format_exception(error))
    assert "1. openai/gpt-4o: RateLimitError" in text
    assert "2. openai/gpt-4o-mini: ModelServerError" in text
    assert SECRET not in text


async def test_a_bad_request_is_not_a_reason_to_fall_back(
    server: StubServer, chat_model: Any
) -> None:
    server.add_chat(HTTPReply.error(400, "unknown parameter"), "never")
    chain = FallbackModel([chat_model("openai/gpt-4o"), chat_model("openai/gpt-4o-mini")])
    with pytest.raises(BadRequestError):
        await chain.acompletion(HI)
    assert len(server.chat_requests) == 1


async def test_stream_falls_back_before_its_first_chunk(
    server: StubServer, chat_model: Any
) -> None:
    server.add_chat(
        HTTPReply.error(429, "slow down", headers={"Retry-After": "3600"}), "streamed backup"
    )
    chain = FallbackModel([chat_model("openai/gpt-4o"), chat_model("openai/gpt-4o-mini")])
    chunks = [chunk async for chunk in chain.astream(HI)]
    assert "".join(chunk.text for chunk in chunks) == "streamed backup"
    assert chunks[-1].response is not None
    assert [r.stream for r in server.chat_requests] == [True, True]
