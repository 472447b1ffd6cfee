"""qdrant:// against a real Qdrant local-mode database in a temporary directory."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gecko.core.errors import ConfigurationError, StorageConnectionError, VectorStoreError
from gecko.core.factories import create_storage
from gecko.core.protocols import VectorRecord
from gecko.core.testing import VectorStoreConformance

pytestmark = pytest.mark.anyio


class TestQdrantConformance(VectorStoreConformance):
    @pytest.fixture
    async def vector_store(self, tmp_path: Path) -> AsyncIterator[Any]:
        async with await create_storage(f"qdrant://{tmp_path}/kb") as store:
            yield store


async def test_relative_path_collection_and_exact_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with await create_storage("qdrant://./kb?collection=docs") as store:
        await store.upsert([VectorRecord("a", [3.0, 4.0], "t", {"x.y": 1e16, "w'q": "v"})])
        [record] = await store.get(["a"])
        assert record.embedding == pytest.approx([3.0, 4.0], abs=1e-5)  # not normalised
        assert record.metadata == {"x.y": 1e16, "w'q": "v"}
        assert await store.count({"x.y": {"$gte": 1e15}}) == 1  # a dotted name is not a path
        with pytest.raises(VectorStoreError, match="dimension"):
            await store.search([1.0, 0.0, 0.0], top_k=1)
    assert (tmp_path / "kb").is_dir()
    async with await create_storage(f"qdrant://{tmp_path}/kb", collection="docs") as store:
        assert store.dimension == 2 and await store.count() == 1


async def test_a_second_client_on_one_directory_is_a_clear_error(tmp_path: Path) -> None:
    async with await create_storage(f"qdrant://{tmp_path}/kb"):
        with pytest.raises(VectorStoreError, match="one client per directory"):
            await create_storage(f"qdrant://{tmp_path}/kb")


async def test_server_unreachable_names_the_server() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StorageConnectionError, match=f"127.0.0.1:{port}"):
        await create_storage(f"qdrant+http://:s3cret@127.0.0.1:{port}")


async def test_unknown_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="unknown option"):
        await create_storage(f"qdrant://{tmp_path}/kb?colour=red")
