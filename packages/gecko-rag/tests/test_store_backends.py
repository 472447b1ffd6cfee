"""Backend specifics: URLs, persistence across reopen, foreign data, limits, a real Chroma server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gecko.core.errors import (
    ConfigurationError,
    InvalidURLError,
    StorageConnectionError,
    VectorStoreError,
)
from gecko.core.factories import create_storage
from gecko.core.protocols import VectorRecord
from gecko.core.testing import VectorStoreConformance, wait_until
from gecko.rag.stores.lancedb import lancedb_uri
from gecko.rag.stores.milvus import MAX_TEXT_BYTES, milvus_target

pytestmark = pytest.mark.anyio


async def test_data_survives_reopen(backend: str, make_url: Callable[[str], str]) -> None:
    url = make_url(backend)
    async with await create_storage(url) as store:
        await store.upsert([VectorRecord("a", [1.0, 0.0, 0.0], "alpha", {"n": 1, "tag": "x"})])
    async with await create_storage(url) as store:
        assert store.dimension == 3
        [record] = await store.get(["a"])
        assert (record.text, record.metadata) == ("alpha", {"n": 1, "tag": "x"})
        assert (await store.search([1.0, 0.0, 0.0], top_k=1, filter={"tag": "x"}))[0].id == "a"
        with pytest.raises(VectorStoreError, match="dimension"):
            await store.search([1.0, 0.0], top_k=1)


async def test_unknown_option_is_rejected(backend: str, make_url: Callable[[str], str]) -> None:
    with pytest.raises(ConfigurationError, match="unknown option"):
        url = make_url(backend)
        await create_storage(url + ("&" if "?" in url else "?") + "colour=red")


def test_milvus_url_rule(tmp_path: Path) -> None:
    assert milvus_target("milvus://localhost:19530", {}) == (
        {"uri": "http://localhost:19530"},
        {"lite": False},
    )
    kwargs, _ = milvus_target("milvus://10.0.0.5:19530/analytics?collection=docs", {})
    assert kwargs == {"uri": "http://10.0.0.5:19530", "db_name": "analytics"}
    kwargs, _ = milvus_target("milvus+https://root:s3cret@milvus.example.com", {})
    assert kwargs == {"uri": "https://milvus.example.com:19530", "token": "root:s3cret"}
    assert milvus_target("milvus://[::1]:19530", {})[0] == {"uri": "http://[::1]:19530"}
    kwargs, options = milvus_target(f"milvus://{tmp_path}/kb.db?collection=docs", {})
    assert kwargs == {"uri": str(tmp_path / "kb.db")} and options == {
        "lite": True,
        "collection": "docs",
    }
    with pytest.raises(InvalidURLError, match=r"ending in \.db"):
        milvus_target("milvus://data/kb", {})
    with pytest.raises(InvalidURLError, match=r"ending in \.db"):
        milvus_target("milvus://localhost", {})


def test_lancedb_uri() -> None:
    assert lancedb_uri("lancedb://./kb?table=docs") == ("kb", {"table": "docs"})
    assert lancedb_uri("lancedb:///var/lib/kb") == ("/var/lib/kb", {})
    assert lancedb_uri("lancedb+s3://bucket/prefix/db?table=t") == (
        "s3://bucket/prefix/db",
        {"table": "t"},
    )
    assert lancedb_uri("lancedb+gs://bucket/db") == ("gs://bucket/db", {})
    with pytest.raises(InvalidURLError, match="no path"):
        lancedb_uri("lancedb://")


async def test_collections_in_one_directory_are_separate(tmp_path: Path) -> None:
    async with (
        await create_storage(f"chroma://{tmp_path}/db?collection=one") as one,
        await create_storage(f"chroma://{tmp_path}/db", collection="two") as two,
    ):
        await one.upsert([VectorRecord("a", [1.0, 0.0], "in one")])
        assert await one.count() == 1 and await two.count() == 0


async def test_chroma_refuses_a_non_cosine_collection(tmp_path: Path) -> None:
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(
        path=str(tmp_path / "db"), settings=Settings(anonymized_telemetry=False)
    )
    client.create_collection(
        "euclid", embedding_function=None, configuration={"hnsw": {"space": "l2"}}
    )
    with pytest.raises(ConfigurationError, match="uses the 'l2' distance"):
        await create_storage(f"chroma://{tmp_path}/db?collection=euclid")


async def test_chroma_metadata_limits(tmp_path: Path) -> None:
    async with await create_storage(f"chroma://{tmp_path}/db") as store:
        with pytest.raises(VectorStoreError, match="reserved"):
            await store.upsert([VectorRecord("a", [1.0], "t", {"_gecko:x": "x"})])
        with pytest.raises(VectorStoreError, match="2\\*\\*53"):
            await store.upsert([VectorRecord("a", [1.0], "t", {"big": 2**60})])
        await store.upsert([VectorRecord("a", [1.0], "t", {"big": 2**53, "neg": -7})])
        [record] = await store.get(["a"])
        assert record.metadata == {"big": 2**53, "neg": -7} and isinstance(
            record.metadata["neg"], int
        )


async def test_lancedb_refuses_a_foreign_table(tmp_path: Path) -> None:
    import lancedb
    import pyarrow as pa

    db = await lancedb.connect_async(str(tmp_path / "db"))
    await db.create_table("foreign", data=pa.table({"x": [1, 2]}))
    with pytest.raises(VectorStoreError, match="not written by gecko"):
        await create_storage(f"lancedb://{tmp_path}/db?table=foreign")


async def test_lancedb_sees_fields_added_by_another_writer(tmp_path: Path) -> None:
    url = f"lancedb://{tmp_path}/db"
    async with await create_storage(url) as reader, await create_storage(url) as writer:
        await writer.upsert([VectorRecord("a", [1.0, 0.0], "t", {"lang": "en"})])
        assert await reader.count({"lang": "en"}) == 1
        await writer.upsert([VectorRecord("b", [0.0, 1.0], "t", {"fresh": True})])
        assert [m.id for m in await reader.search([0.0, 1.0], top_k=5, filter={"fresh": True})] == [
            "b"
        ]


async def test_milvus_text_limit(tmp_path: Path) -> None:
    # Gecko checks the VARCHAR limit its collections are created with (MAX_TEXT_BYTES, in
    # UTF-8 bytes) before Milvus does, and names it; "é" is two bytes.
    fits, too_long = "é" * (MAX_TEXT_BYTES // 2), "é" * (MAX_TEXT_BYTES // 2 + 1)
    async with await create_storage(f"milvus://{tmp_path}/kb.db") as store:
        with pytest.raises(VectorStoreError, match=str(MAX_TEXT_BYTES)):
            await store.upsert([VectorRecord("big", [1.0, 0.0], too_long)])
        await store.upsert([VectorRecord("ok", [1.0, 0.0], fits)])
        assert (await store.get(["ok"]))[0].text == fits


async def test_chroma_server_unreachable_names_the_server() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens on it once closed
    with pytest.raises(StorageConnectionError, match=f"127.0.0.1:{port}"):
        await create_storage(f"chroma+http://127.0.0.1:{port}")


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (``chroma run``) on a free port, for the HTTP client."""
    executable = shutil.which("chroma", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.fail("the chroma CLI ships with chromadb; it should be next to the interpreter")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = tmp_path_factory.mktemp("chroma-server")
    process = subprocess.Popen(
        [executable, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import anyio

        async def up() -> bool:
            try:
                stream = await anyio.connect_tcp("127.0.0.1", port)
            except OSError:
                return False
            await stream.aclose()
            return True

        anyio.run(lambda: wait_until(up, timeout=60, message="chroma server listening"))
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


class TestChromaServerConformance(VectorStoreConformance):
    @pytest.fixture
    async def vector_store(self, chroma_server: str) -> AsyncIterator[Any]:
        url = f"chroma+http://{chroma_server}?collection=t{uuid.uuid4().hex}"
        async with await create_storage(url) as store:
            yield store


async def test_ints_and_floats_of_one_field_keep_their_types(backend_store: Any) -> None:
    await backend_store.upsert(
        [
            VectorRecord("int", [1.0, 0.0], "t", {"x": 1, "tag": "a"}),
            VectorRecord("float", [0.0, 1.0], "t", {"x": 2.5, "tag": 7}),
            VectorRecord("whole-float", [1.0, 1.0], "t", {"x": 3.0}),
        ]
    )
    records = {r.id: r.metadata for r in await backend_store.get(["int", "float", "whole-float"])}
    assert records == {
        "int": {"x": 1, "tag": "a"},
        "float": {"x": 2.5, "tag": 7},
        "whole-float": {"x": 3.0},
    }
    assert type(records["int"]["x"]) is int and type(records["whole-float"]["x"]) is float
    assert await backend_store.count({"x": {"$gt": 1.5}}) == 2
    assert await backend_store.count({"x": {"$in": [1, 3]}}) == 2


async def test_lancedb_integer_range(tmp_path: Path) -> None:
    async with await create_storage(f"lancedb://{tmp_path}/db") as store:
        with pytest.raises(VectorStoreError, match="64 bits"):
            await store.upsert([VectorRecord("a", [1.0], "t", {"big": 2**70})])
        await store.upsert([VectorRecord("a", [1.0], "t", {"big": 2**62})])
        assert await store.count({"big": {"$gte": 2**62}}) == 1
        assert await store.count({"big": {"$lt": 2**70}}) == 1
