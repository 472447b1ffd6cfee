"""Fixtures: a scripted OpenAI-compatible server on 127.0.0.1 and models pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from gecko.core.factories import create_embedder, create_model
from gecko.models.litellm.chat import LiteLLMChatModel
from gecko.models.litellm.embedder import LiteLLMEmbedder
from gecko.models.litellm.ratelimit import clear_rate_limits
from gecko.models.litellm.retry import model_retry_policy
from gecko.models.litellm.runtime import load_litellm
from gecko.models.litellm.testing import StubServer

FAST_RETRIES = model_retry_policy(3, initial_delay=0.01, max_delay=0.05)


@pytest.fixture
async def server() -> AsyncIterator[StubServer]:
    """A started stub server with an empty script (tests add replies)."""
    await load_litellm()  # the import takes seconds; keep it out of timed paths
    async with StubServer() as stub:
        yield stub


@pytest.fixture
def chat_model(server: StubServer) -> Callable[..., LiteLLMChatModel]:
    """``chat_model(**options)``: an ``openai/`` model of the stub server."""

    def make(model_id: str = "openai/gpt-4o-mini", **options: Any) -> LiteLLMChatModel:
        options.setdefault("api_key", "sk-test-key-0001")
        options.setdefault("base_url", server.base_url)
        options.setdefault("retries", FAST_RETRIES)
        options.setdefault("timeout", 30)
        model = create_model(model_id, **options)
        assert isinstance(model, LiteLLMChatModel)
        return model

    return make


@pytest.fixture
def embedder(server: StubServer) -> Callable[..., LiteLLMEmbedder]:
    def make(embedder_id: str = "openai/stub-embedding", **options: Any) -> LiteLLMEmbedder:
        options.setdefault("api_key", "sk-test-key-0001")
        options.setdefault("base_url", server.base_url)
        options.setdefault("retries", FAST_RETRIES)
        options.setdefault("timeout", 30)
        made = create_embedder(embedder_id, **options)
        assert isinstance(made, LiteLLMEmbedder)
        return made

    return make


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    clear_rate_limits()
    yield
    clear_rate_limits()
