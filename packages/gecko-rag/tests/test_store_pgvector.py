"""postgres+pgvector:// against a real Postgres with pgvector (the pgserver wheel, or POSTGRES_URL)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gecko.core.errors import ConfigurationError, StorageConnectionError, VectorStoreError
from gecko.core.factories import create_storage
from gecko.core.protocols import VectorRecord
from gecko.core.testing import VectorStoreConformance

pytestmark = pytest.mark.anyio


def pgvector_url(postgres_url: str, schema: str, **query: Any) -> str:
    url = postgres_url.replace("postgresql://", "postgres+pgvector://", 1)
    parts = [f"schema={schema}", *(f"{k}={v}" for k, v in query.items())]
    return url + ("&" if "?" in url else "?") + "&".join(parts)


class TestPgVectorConformance(VectorStoreConformance):
    @pytest.fixture
    async def vector_store(self, postgres_url: str, postgres_schema: str) -> AsyncIterator[Any]:
        async with await create_storage(pgvector_url(postgres_url, postgres_schema)) as store:
            yield store


def _unit(rng: random.Random, dim: int) -> list[float]:
    return [rng.gauss(0, 1) for _ in range(dim)]


async def test_selective_filter_returns_the_true_top_k(
    postgres_url: str, postgres_schema: str
) -> None:
    # 3,000 vectors, 1% of them with i < 30. Postgres cannot estimate the range condition
    # and plans the HNSW index scan, which with ef_search=10 visits ~10 candidates, of which
    # the filter keeps ~0: pgvector's index alone returns fewer than top_k.
    rng = random.Random(7)
    dim = 16
    records = [VectorRecord(f"r{i}", _unit(rng, dim), f"t{i}", {"i": i}) for i in range(3000)]
    url = pgvector_url(postgres_url, postgres_schema, ef_search=10)
    async with await create_storage(url) as store:
        for start in range(0, len(records), 1000):
            await store.upsert(records[start : start + 1000])
        probe = _unit(rng, dim)
        found = await store.search(probe, top_k=10, filter={"i": {"$lt": 30}})
        rare = [r for r in records if int(r.metadata["i"]) < 30]

        def cosine(a: list[float], b: list[float]) -> float:
            dot = sum(x * y for x, y in zip(a, b))
            return dot / (sum(x * x for x in a) ** 0.5 * sum(y * y for y in b) ** 0.5)

        expected = sorted(rare, key=lambda r: -cosine(r.embedding, probe))[:10]
        assert [m.id for m in found] == [r.id for r in expected]
        assert all(int(m.metadata["i"]) < 30 for m in found)
        # Unfiltered, top_k above ef_search still returns top_k rows.
        assert len(await store.search(probe, top_k=50)) == 50


async def test_data_survives_reopen_and_foreign_tables_are_refused(
    postgres_url: str, postgres_schema: str
) -> None:
    import psycopg

    url = pgvector_url(postgres_url, postgres_schema, table="kb")
    async with await create_storage(url) as store:
        await store.upsert([VectorRecord("a", [1.0, 0.0, 0.0], "alpha", {"big": 1e16, "n": 2})])
    async with await create_storage(url) as store:
        assert store.dimension == 3
        [record] = await store.get(["a"])
        assert record.metadata == {"big": 1e16, "n": 2}
        assert type(record.metadata["big"]) is float  # JSONB alone would give back an int
        with pytest.raises(VectorStoreError, match="dimension"):
            await store.upsert([VectorRecord("b", [1.0, 0.0], "short")])
        with pytest.raises(VectorStoreError, match="U\\+0000"):
            await store.upsert([VectorRecord("c", [1.0, 0.0, 0.0], "nul \x00 here")])
        assert await store.count() == 1
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{postgres_schema}".foreign_t (x int)')
    with pytest.raises(VectorStoreError, match="not written by gecko"):
        await create_storage(pgvector_url(postgres_url, postgres_schema, table="foreign_t"))


async def test_bad_options_and_unreachable_server(tmp_path: Path, postgres_url: str) -> None:
    with pytest.raises(ConfigurationError, match="table"):
        await create_storage(pgvector_url(postgres_url, "public", table="bad;name"))
    with pytest.raises(StorageConnectionError, match="cannot connect") as info:
        await create_storage(
            f"postgres+pgvector://gecko:s3cret-pw@/postgres?host={tmp_path}&connect_timeout=2"
        )
    assert "s3cret-pw" not in str(info.value)


async def test_the_store_reconnects_after_a_server_restart(
    postgres_server_factory: Any,
) -> None:
    server = postgres_server_factory()
    url = server.url.replace("postgresql://", "postgres+pgvector://", 1)
    async with await create_storage(url) as store:
        await store.upsert([VectorRecord("a", [1.0, 0.0], "before", {"n": 1})])
        await store.search([1.0, 0.0], top_k=1)  # the pool's connection is now in use, idle
        server.stop()
        server.start()  # every pooled connection is dead now
        assert [m.id for m in await store.search([1.0, 0.0], top_k=1)] == ["a"]
        await store.upsert([VectorRecord("b", [0.0, 1.0], "after", {"n": 2})])
        assert await store.count() == 2
