"""The embedder over real HTTP: batches, concurrency, order, dimension, errors."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from gecko.core.embedders.hashing import HashingEmbedder
from gecko.core.errors import AuthenticationError, ConfigurationError, ModelResponseError
from gecko.core.protocols import Embedder
from gecko.models.litellm.runtime import litellm_module
from gecko.models.litellm.testing import Delayed, HTTPReply, StubServer

pytestmark = pytest.mark.anyio


async def test_batches_preserve_order(server: StubServer, embedder: Any) -> None:
    model = embedder(batch_size=3, max_concurrency=2)
    assert isinstance(model, Embedder)
    texts = [f"document number {i} about topic {i % 3}" for i in range(10)]

    vectors = await model.embed_documents(texts)

    reference = HashingEmbedder(server.dimension)  # what the stub server embeds with
    expected = [reference.embed(t) for t in texts]
    assert len({tuple(v) for v in expected}) == len(texts)  # distinct, so order is observable
    assert vectors == expected
    batches = [r.body["input"] for r in server.embedding_requests]
    assert sorted(batches) == sorted([texts[0:3], texts[3:6], texts[6:9], texts[9:10]])
    assert {r.api_key for r in server.embedding_requests} == {"sk-test-key-0001"}
    assert {r.body["model"] for r in server.embedding_requests} == {"stub-embedding"}


async def test_concurrency_is_bounded(server: StubServer, embedder: Any) -> None:
    server.add_embeddings(*[Delayed(0.2)] * 8)  # each batch takes a while to answer
    model = embedder(batch_size=1, max_concurrency=3)
    texts = [f"text {i}" for i in range(8)]
    vectors = await model.embed_documents(texts)
    assert len(vectors) == 8
    assert len(server.embedding_requests) == 8
    assert 1 < server.max_in_flight <= 3


async def test_dimension_is_probed_once(server: StubServer, embedder: Any) -> None:
    model = embedder()
    assert model.dimension is None  # an unknown model: not known until asked
    dimensions: list[int] = []

    async def probe() -> None:
        dimensions.append(await model.probe_dimension())

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(probe)
    assert dimensions == [server.dimension] * 5
    assert model.dimension == server.dimension
    assert len(server.embedding_requests) == 1
    assert await model.probe_dimension() == server.dimension
    assert len(server.embedding_requests) == 1


async def test_dimension_from_options_and_model_map(server: StubServer, embedder: Any) -> None:
    # OpenAI's text-embedding-3 models take `dimensions` (shortened vectors); it wins
    # over the 1536 the model map states.
    model = embedder("openai/text-embedding-3-small", dimensions=server.dimension)
    assert model.dimension == server.dimension
    await model.embed_query("hello")
    assert server.embedding_requests[0].body["dimensions"] == server.dimension
    assert embedder(dimension=8).dimension == 8
    known = embedder("openai/text-embedding-3-small")
    mapped = litellm_module().get_model_info("openai/text-embedding-3-small")["output_vector_size"]
    assert known.dimension == mapped  # from litellm's model map, without a call
    assert mapped != server.dimension
    with pytest.raises(ModelResponseError, match=f"expected {mapped}"):
        await known.embed_query("the stub answers 8 dimensions")
    with pytest.raises(ConfigurationError):
        embedder(dimension=8, dimensions=16)


async def test_embed_query_and_empty_input(server: StubServer, embedder: Any) -> None:
    model = embedder()
    assert await model.embed_documents([]) == []
    assert server.embedding_requests == []
    vector = await model.embed_query("a question")
    assert vector == HashingEmbedder(server.dimension).embed("a question")


async def test_errors_and_retries(server: StubServer, embedder: Any) -> None:
    server.add_embeddings(HTTPReply.error(500, "overloaded"), None, HTTPReply.error(401, "no"))
    model = embedder()
    assert len(await model.embed_documents(["retried"])) == 1
    assert len(server.embedding_requests) == 2
    with pytest.raises(AuthenticationError) as caught:
        await model.embed_documents(["rejected"])
    assert caught.value.status == 401
    assert len(server.embedding_requests) == 3


async def test_malformed_embedding_answer(server: StubServer, embedder: Any) -> None:
    server.add_embeddings(
        HTTPReply(body={"object": "list", "data": [], "model": "x", "usage": {"prompt_tokens": 1}})
    )
    with pytest.raises(ModelResponseError):
        await embedder().embed_documents(["one", "two"])


async def test_bad_input_and_options(embedder: Any) -> None:
    with pytest.raises(ConfigurationError, match="texts\\[1\\]"):
        await embedder().embed_documents(["fine", 42])  # type: ignore[list-item]
    with pytest.raises(ConfigurationError):
        embedder(batch_size=0)
    with pytest.raises(ConfigurationError):
        embedder(max_concurrency=-1)
