"""The deterministic offline embedder."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from gecko.core.embedders.hashing import HashingEmbedder
from gecko.core.errors import ConfigurationError
from gecko.core.factories import create_embedder
from gecko.core.protocols import Embedder
from gecko.core.vectors.records import cosine, norm

pytestmark = pytest.mark.anyio


async def test_deterministic_normalised_and_similar_for_shared_words() -> None:
    embedder = create_embedder("hash/384")
    assert isinstance(embedder, Embedder) and embedder.dimension == 384
    docs = await embedder.embed_documents(
        ["the gecko climbs walls", "the gecko eats insects", "tax law of 1990"]
    )
    assert all(len(v) == 384 and math.isclose(norm(v), 1.0) for v in docs)
    query = await embedder.embed_query("gecko climbs")

    def sim(v: list[float]) -> float:
        return cosine(query, v, norm(query), norm(v))

    assert sim(docs[0]) > sim(docs[1]) > sim(docs[2])
    assert await embedder.embed_query("the gecko climbs walls") == docs[0]


async def test_large_batches_keep_order() -> None:
    embedder = HashingEmbedder(32)
    texts = [f"document number {i}" for i in range(200)]
    assert await embedder.embed_documents(texts) == [embedder.embed(t) for t in texts]


def test_stable_across_processes() -> None:
    code = "from gecko.core.embedders.hashing import HashingEmbedder; print(HashingEmbedder(16).embed('héllo wörld'))"
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
        for _ in range(2)
    }
    assert (
        len(outputs) == 1 and str(HashingEmbedder(16).embed("héllo wörld")) == outputs.pop().strip()
    )


@pytest.mark.parametrize("bad", ["hash/abc", "hash/1"])
def test_bad_ids(bad: str) -> None:
    with pytest.raises(ConfigurationError):
        create_embedder(bad)


async def test_chinese_text_matches_on_shared_characters() -> None:
    embedder = HashingEmbedder(256)
    docs = [
        embedder.embed("差旅费用在出差后三十天内报销"),
        embedder.embed("笔记本电脑每三年更换一次"),
    ]
    query = embedder.embed("差旅费用怎么报销")
    assert cosine(query, docs[0], norm(query), norm(docs[0])) > cosine(
        query, docs[1], norm(query), norm(docs[1])
    )


async def test_function_words_do_not_make_texts_similar() -> None:
    embedder = HashingEmbedder(256)
    a, b = embedder.embed("the cat is on the mat"), embedder.embed("the stock is in the market")
    assert cosine(a, b, norm(a), norm(b)) == pytest.approx(0.0, abs=0.2)
