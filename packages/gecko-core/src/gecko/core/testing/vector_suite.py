"""The VectorStore conformance suite. Subclass it and provide a ``vector_store`` fixture."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from gecko.core.errors import FilterError, GeckoError, VectorStoreError
from gecko.core.protocols import VectorRecord, VectorStore

DIM = 8


def unit(index: int, *, dim: int = DIM, weight: float = 1.0) -> list[float]:
    """A vector pointing mostly along axis ``index`` (distinct, easy-to-rank directions)."""
    vector = [0.01] * dim
    vector[index % dim] = weight
    return vector


def corpus() -> list[VectorRecord]:
    return [
        VectorRecord(
            "a",
            unit(0),
            "alpha text",
            {"source": "a.md", "year": 2020, "score": 0.5, "draft": False},
        ),
        VectorRecord(
            "b", unit(1), "beta text", {"source": "b.md", "year": 2021, "score": 1.5, "draft": True}
        ),
        VectorRecord(
            "c",
            unit(2),
            "gamma text",
            {"source": "a.md", "year": 2022, "score": 2.5, "draft": False},
        ),
        VectorRecord(
            "d",
            unit(3),
            "delta text",
            {"source": "c.md", "year": 2023, "lang": "en", "draft": False},
        ),
        VectorRecord(
            "e",
            unit(4),
            "epsilon 🦎 文本",
            {"source": "c.md", "year": 2024, "lang": "zh", "draft": True},
        ),
    ]


class VectorStoreConformance:
    """Behaviour every VectorStore must have. Provide ``vector_store``: an opened, empty store
    that accepts 8-dimensional vectors (or whose dimension follows the first upsert)."""

    pytestmark = pytest.mark.anyio

    @pytest.fixture
    def vector_store(self) -> Any:  # pragma: no cover - always overridden
        raise NotImplementedError("provide a `vector_store` fixture yielding an opened VectorStore")

    async def _ids(self, store: Any, filter: dict[str, Any]) -> set[str]:
        return {m.id for m in await store.search(unit(0), top_k=10, filter=filter)}

    async def test_implements_protocol(self, vector_store: Any) -> None:
        assert isinstance(vector_store, VectorStore)

    async def test_empty_store(self, vector_store: Any) -> None:
        assert await vector_store.count() == 0
        assert await vector_store.search(unit(0), top_k=3) == []

    async def test_upsert_count_get(self, vector_store: Any) -> None:
        await vector_store.upsert(corpus())
        assert await vector_store.count() == 5
        [record] = await vector_store.get(["e"])
        assert record.id == "e" and record.text == "epsilon 🦎 文本"
        assert record.metadata == {"source": "c.md", "year": 2024, "lang": "zh", "draft": True}
        assert record.embedding == pytest.approx(unit(4), abs=1e-5)
        assert await vector_store.get(["missing"]) == []

    async def test_metadata_types_survive(self, vector_store: Any) -> None:
        await vector_store.upsert(corpus())
        [record] = await vector_store.get(["b"])
        assert record.metadata["year"] == 2021 and isinstance(record.metadata["year"], int)
        assert record.metadata["score"] == 1.5 and record.metadata["draft"] is True

    async def test_search_ranks_by_similarity(self, vector_store: Any) -> None:
        await vector_store.upsert(corpus())
        matches = await vector_store.search(unit(2), top_k=3)
        assert matches[0].id == "c"
        assert len(matches) == 3
        assert matches[0].score == pytest.approx(1.0, abs=1e-3)
        assert matches[0].score >= matches[1].score >= matches[2].score
        assert matches[0].text == "gamma text" and matches[0].metadata["source"] == "a.md"

    async def test_top_k(self, vector_store: Any) -> None:
        await vector_store.upsert(corpus())
        assert len(await vector_store.search(unit(0), top_k=1)) == 1
        assert len(await vector_store.search(unit(0), top_k=50)) == 5
        with pytest.raises(GeckoError):
            await vector_store.search(unit(0), top_k=0)

    async def test_upsert_overwrites(self, vector_store: Any) -> None:
        await vector_store.upsert(corpus())
        await vector_store.upsert([VectorRecord("a", unit(5), "alpha v2", {"source": "z.md"})])
        assert await vector_store.count() == 5
        [record] = await vector_store.get(["a"])
        assert record.text == "alpha v2" and record.metadata == {"source": "z.md"}
        assert (await vector_store.search(unit(5), top_k=1))[0].id == "a"

    async def test_delete_by_ids(self, vector_store: Any) -> None:
        await vector_store.upsert(corpus())
        assert await vector_store.delete(["a", "b", "missing"]) == 2
        assert await vector_store.count() == 3
        assert await vector_store.get(["a"]) == []

    async def test_delete_by_filter(self, vector_store: Any) -> None:
        await vector_store.upsert(corpus())
        assert await vector_store.delete(filter={"source": "a.md"}) == 2
        assert await vector_store.count() == 3
        assert await vector_store.count({"source": "a.md"}) == 0

    async def test_delete_needs_ids_or_filter(self, vector_store: Any) -> None:
        await vector_store.upsert(corpus())
        with pytest.raises(GeckoError):
            await vector_store.delete()
        assert await vector_store.count() == 5

    @pytest.mark.parametrize(
        ("filter", "expected"),
        [
            ({"source": "a.md"}, {"a", "c"}),
            ({"source": {"$eq": "c.md"}}, {"d", "e"}),
            ({"source": {"$ne": "a.md"}}, {"b", "d", "e"}),
            ({"source": {"$in": ["b.md", "c.md"]}}, {"b", "d", "e"}),
            ({"source": {"$nin": ["a.md", "c.md"]}}, {"b"}),
            ({"year": {"$gt": 2022}}, {"d", "e"}),
            ({"year": {"$gte": 2022}}, {"c", "d", "e"}),
            ({"year": {"$lt": 2021}}, {"a"}),
            ({"year": {"$lte": 2021}}, {"a", "b"}),
            ({"year": {"$gte": 2021, "$lt": 2023}}, {"b", "c"}),
            ({"score": {"$gt": 1.0}}, {"b", "c"}),
            ({"draft": True}, {"b", "e"}),
            ({"source": "a.md", "year": 2022}, {"c"}),
            ({"$and": [{"source": "c.md"}, {"lang": "zh"}]}, {"e"}),
            ({"$or": [{"source": "b.md"}, {"lang": "en"}]}, {"b", "d"}),
            (
                {"$or": [{"year": {"$lt": 2021}}, {"$and": [{"source": "c.md"}, {"draft": True}]}]},
                {"a", "e"},
            ),
            ({"lang": "en"}, {"d"}),
            ({"lang": {"$ne": "en"}}, {"e"}),
        ],
    )
    async def test_filters(
        self, vector_store: Any, filter: dict[str, Any], expected: set[str]
    ) -> None:
        await vector_store.upsert(corpus())
        assert await self._ids(vector_store, filter) == expected
        assert await vector_store.count(filter) == len(expected)

    @pytest.mark.parametrize(
        "bad",
        [
            {"year": {"$regex": "x"}},
            {"$nor": [{"a": 1}]},
            {"year": {"$gt": "2020"}},
            {"tag": {"$in": []}},
        ],
        ids=["unknown-op", "unknown-logical", "range-on-string", "empty-in"],
    )
    async def test_malformed_filter_is_clear_error(
        self, vector_store: Any, bad: dict[str, Any]
    ) -> None:
        await vector_store.upsert(corpus())
        with pytest.raises(FilterError):
            await vector_store.search(unit(0), top_k=3, filter=bad)

    async def test_dimension_mismatch(self, vector_store: Any) -> None:
        await vector_store.upsert(corpus())
        with pytest.raises(VectorStoreError):
            await vector_store.upsert([VectorRecord("x", [0.1] * (DIM + 3), "wrong")])
        with pytest.raises(VectorStoreError):
            await vector_store.search([0.1] * (DIM + 3), top_k=1)
        assert await vector_store.count() == 5

    async def test_non_flat_metadata_rejected(self, vector_store: Any) -> None:
        with pytest.raises(VectorStoreError) as info:
            await vector_store.upsert([VectorRecord("x", unit(0), "t", {"nested": {"a": 1}})])  # type: ignore[dict-item]
        assert "nested" in str(info.value)
        assert await vector_store.count() == 0

    async def test_100_concurrent_upserts(self, vector_store: Any) -> None:
        async def write(i: int) -> None:
            await vector_store.upsert([VectorRecord(f"id-{i}", unit(i), f"text {i}", {"i": i})])

        async with anyio.create_task_group() as tg:
            for i in range(100):
                tg.start_soon(write, i)
        assert await vector_store.count() == 100
        assert await vector_store.count({"i": {"$gte": 50}}) == 50

    async def test_close_is_idempotent(self, vector_store: Any) -> None:
        await vector_store.close()
        await vector_store.close()
