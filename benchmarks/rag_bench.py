"""RAG benchmark: each vector backend called directly vs through Gecko, with numpy as reference.

For every size (default 10,000 and 100,000 chunks of 384-dimension vectors) and every
backend (Chroma, LanceDB, Milvus Lite; with ``--backends``, also ``pgvector`` on the
Postgres at POSTGRES_URL and ``qdrant`` in local mode), in one run:

- bulk insert: the backend's own upsert call vs ``VectorStore.upsert`` through Gecko,
  both from the same Python lists of floats (what an embedder returns) in batches of
  5,000, into a fresh database in a temporary directory (embedding time excluded;
  collection/table creation included on both sides);
- query: top-10 searches (200 at 10k, 50 at 100k), the backend's own query call vs
  ``VectorStore.search``, alternating query by query (mean latency), and recall@10
  against an exact numpy brute-force search, whose latency is the reference row.

Then an I/O-bound embedder (``EMBED_LATENCY`` seconds per batch, simulated with
``anyio.sleep``) ingests 1,280 chunks with one batch at a time vs 8 concurrent batches
through ``IngestionPipeline``.

Direct calls are the plain blocking client on the calling thread (Chroma, Milvus) or
LanceDB's async API; Gecko additionally hops to a worker thread for the blocking
clients so the event loop is never blocked. The direct Milvus insert ends with a flush,
as Gecko's Milvus Lite store does (Lite searches unsealed rows very slowly). Goals: Gecko adds < 10% to a query and
< 20% to an insert; concurrent embedding batches are >= 3x faster than sequential.

    hatch run bench:python benchmarks/rag_bench.py                 # 10k and 100k
    hatch run bench:python benchmarks/rag_bench.py --sizes 10000   # quick run
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# One BLAS thread: the numpy reference is one query at a time, like the backends' calls,
# and a multi-threaded BLAS on a busy 2-core machine is slower and noisier.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np
from common import machine, ratio, table

DIM = 384
TOP_K = 10
BATCH = 5_000
CLUSTERS = 256
EMBED_LATENCY = 0.1
SEED = 20240607

logging.getLogger("pymilvus").setLevel(logging.CRITICAL)


def queries_for(size: int) -> int:
    """Searches per backend and side: fewer at 100k, where Milvus Lite takes ~0.1-0.5 s each."""
    return 200 if size <= 20_000 else 50


# --- data -------------------------------------------------------------------------------


@dataclass
class Records:
    """What is inserted: ids, texts, flat metadata and vectors as lists of floats."""

    ids: list[str]
    texts: list[str]
    metadata: list[dict[str, Any]]
    vectors: list[list[float]]

    def batches(self) -> list[slice]:
        return [slice(i, i + BATCH) for i in range(0, len(self.ids), BATCH)]

    def head(self, count: int) -> Records:
        return Records(
            self.ids[:count], self.texts[:count], self.metadata[:count], self.vectors[:count]
        )


class Data(Records):
    """Clustered unit vectors (like embeddings of related texts), their records and queries."""

    def __init__(self, size: int) -> None:
        rng = np.random.default_rng(SEED)
        queries_count = queries_for(size)
        centers = rng.standard_normal((CLUSTERS, DIM)).astype(np.float32)
        labels = rng.integers(0, CLUSTERS, size)
        matrix = centers[labels] + 0.6 * rng.standard_normal((size, DIM)).astype(np.float32)
        self.matrix = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
        queries = centers[rng.integers(0, CLUSTERS, queries_count)] + 0.6 * rng.standard_normal(
            (queries_count, DIM)
        )
        self.queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
        self.ids = [f"chunk-{i}" for i in range(size)]
        self.texts = [f"text of chunk {i}" for i in range(size)]
        self.metadata = [
            {"source": f"doc-{i // 20}.md", "chunk_index": i % 20} for i in range(size)
        ]
        self.vectors = self.matrix.tolist()  # what an embedder hands over: lists of floats
        self.query_lists = self.queries.tolist()

    def exact_top(self) -> tuple[list[list[str]], float]:
        """numpy brute force: the true top-k ids per query, and mean seconds per query."""
        results, started = [], time.perf_counter()
        for query in self.queries:
            scores = self.matrix @ query
            top = np.argpartition(-scores, TOP_K)[:TOP_K]
            top = top[np.argsort(-scores[top])]
            results.append([self.ids[i] for i in top])
        return results, (time.perf_counter() - started) / len(self.queries)


def recall(found: Sequence[Sequence[str]], truth: Sequence[Sequence[str]]) -> float:
    return statistics.fmean(len(set(f) & set(t)) / TOP_K for f, t in zip(found, truth))


# --- direct baselines -------------------------------------------------------------------------


class DirectChroma:
    name = "chroma"

    def __init__(self, path: Path) -> None:
        import chromadb
        from chromadb.config import Settings

        client = chromadb.PersistentClient(
            path=str(path), settings=Settings(anonymized_telemetry=False)
        )
        self.collection = client.get_or_create_collection(
            "bench", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )

    async def insert(self, data: Records) -> None:
        for part in data.batches():
            self.collection.upsert(
                ids=data.ids[part],
                embeddings=data.vectors[part],
                documents=data.texts[part],
                metadatas=data.metadata[part],
            )

    async def query(self, vector: list[float]) -> list[str]:
        result = self.collection.query(
            query_embeddings=[vector],
            n_results=TOP_K,
            include=["documents", "metadatas", "distances"],
        )
        return list(result["ids"][0])

    async def close(self) -> None:
        return None


class DirectLance:
    """LanceDB's own calls: ``create_table`` with the first batch, then ``merge_insert`` on
    ``id`` (an upsert, as Gecko's store does once a table holds rows; ``append=True`` uses
    ``add``, which never checks for existing ids)."""

    name = "lancedb"

    def __init__(self, path: Path, *, append: bool = False) -> None:
        self.path = str(path)
        self.table: Any = None
        self.append = append

    async def insert(self, data: Records) -> None:
        import lancedb
        import pyarrow as pa

        db = await lancedb.connect_async(self.path)
        for part in data.batches():
            vectors = np.asarray(data.vectors[part], dtype=np.float32)
            batch = pa.table(
                {
                    "id": data.ids[part],
                    "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), DIM),
                    "text": data.texts[part],
                    "source": [m["source"] for m in data.metadata[part]],
                    "chunk_index": [m["chunk_index"] for m in data.metadata[part]],
                }
            )
            if self.table is None:
                self.table = await db.create_table("bench", data=batch)
            elif self.append:
                await self.table.add(batch)
            else:
                await (
                    self.table.merge_insert("id")
                    .when_matched_update_all()
                    .when_not_matched_insert_all()
                    .execute(batch)
                )

    async def query(self, vector: list[float]) -> list[str]:
        query = (await self.table.search(vector)).distance_type("cosine").limit(TOP_K)
        result = await query.select(["id", "text", "source", "chunk_index", "_distance"]).to_arrow()
        return result.column("id").to_pylist()

    async def close(self) -> None:
        return None


class DirectMilvus:
    name = "milvus"

    def __init__(self, path: Path) -> None:
        from pymilvus import MilvusClient

        self.client = MilvusClient(str(path / "bench.db"))

    def create(self) -> None:
        """The collection (timed with the insert: Gecko creates it at the first upsert, once
        the dimension is known)."""
        from pymilvus import DataType

        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
        schema.add_field("text", DataType.VARCHAR, max_length=65535)
        schema.add_field("metadata", DataType.JSON)
        index = self.client.prepare_index_params()
        index.add_index(field_name="vector", index_type="FLAT", metric_type="COSINE")
        self.client.create_collection(
            "bench", schema=schema, index_params=index, consistency_level="Strong"
        )

    async def insert(self, data: Records) -> None:
        self.create()
        for part in data.batches():
            rows = [
                {"id": i, "vector": v, "text": t, "metadata": m}
                for i, v, t, m in zip(
                    data.ids[part], data.vectors[part], data.texts[part], data.metadata[part]
                )
            ]
            for start in range(0, len(rows), 2000):
                self.client.upsert("bench", rows[start : start + 2000])
        self.client.flush("bench")  # Milvus Lite searches unsealed rows slowly

    async def query(self, vector: list[float]) -> list[str]:
        result = self.client.search(
            "bench",
            data=[vector],
            limit=TOP_K,
            output_fields=["text", "metadata"],
            search_params={"metric_type": "COSINE"},
        )
        return [hit["id"] for hit in result[0]]

    async def close(self) -> None:
        self.client.close()


class DirectPgVector:
    """Raw psycopg on one connection: the same table layout, indexes and statements as Gecko's
    store (``unnest`` upserts of 1,000 rows, one transaction per batch; the text form of
    vectors), so the ratio is what the store adds."""

    name = "pgvector"

    def __init__(self, path: Path) -> None:
        self.table = "raw_" + path.name.replace("-", "_")
        self.conn: Any = None

    async def connect(self) -> Any:
        import psycopg

        if self.conn is None:
            self.conn = await psycopg.AsyncConnection.connect(postgres_url(), autocommit=True)
        return self.conn

    async def insert(self, data: Records) -> None:
        import json

        from gecko.rag.stores.pgvector import vector_text

        conn = await self.connect()
        await conn.execute(
            f'CREATE TABLE {self.table} (id text COLLATE "C" PRIMARY KEY, embedding vector({DIM}) '
            "NOT NULL, text text NOT NULL, metadata jsonb NOT NULL, metadata_json text NOT NULL)"
        )
        await conn.execute(
            f"CREATE INDEX ON {self.table} USING hnsw (embedding vector_cosine_ops) "
            "WITH (m = 16, ef_construction = 64)"
        )
        await conn.execute(f"CREATE INDEX ON {self.table} USING gin (metadata)")
        statement = (
            f"INSERT INTO {self.table} (id, embedding, text, metadata, metadata_json) "
            "SELECT i, e::vector, x, m::jsonb, m FROM unnest(%s::text[], %s::text[], %s::text[], "
            "%s::text[]) AS u(i, e, x, m) ON CONFLICT (id) DO UPDATE SET embedding = "
            "excluded.embedding, text = excluded.text, metadata = excluded.metadata, "
            "metadata_json = excluded.metadata_json"
        )
        for part in data.batches():
            ids, vectors = data.ids[part], data.vectors[part]
            texts, metas = data.texts[part], [json.dumps(m) for m in data.metadata[part]]
            async with conn.transaction():
                for start in range(0, len(ids), 1000):
                    end = start + 1000
                    await conn.execute(
                        statement,
                        (
                            ids[start:end],
                            [vector_text(v) for v in vectors[start:end]],
                            texts[start:end],
                            metas[start:end],
                        ),
                    )

    async def query(self, vector: list[float]) -> list[str]:
        import json

        from gecko.rag.stores.pgvector import vector_text

        cursor = await self.conn.execute(
            f"SELECT id, text, metadata_json, embedding <=> %s::vector AS distance "
            f"FROM {self.table} ORDER BY distance LIMIT %s",
            (vector_text(vector), TOP_K),
        )
        rows = await cursor.fetchall()
        return [row[0] for row in rows if json.loads(row[2]) is not None]

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.execute(f"DROP TABLE IF EXISTS {self.table}")
            await self.conn.close()


class DirectQdrant:
    """qdrant-client's local mode on the calling thread: points with the record id, text and
    metadata as payload (Gecko adds the filter copy of the metadata and the vector norm)."""

    name = "qdrant"

    def __init__(self, path: Path) -> None:
        from qdrant_client import QdrantClient

        self.client = QdrantClient(path=str(path / "qdrant-raw"))

    async def insert(self, data: Records) -> None:
        from qdrant_client import models

        from gecko.rag.stores.qdrant import point_id

        self.client.create_collection(
            "bench", vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE)
        )
        for part in data.batches():
            points = [
                models.PointStruct(
                    id=point_id(i), vector=v, payload={"id": i, "text": t, "meta": m}
                )
                for i, v, t, m in zip(
                    data.ids[part], data.vectors[part], data.texts[part], data.metadata[part]
                )
            ]
            for start in range(0, len(points), 512):
                self.client.upsert("bench", points=points[start : start + 512], wait=True)

    async def query(self, vector: list[float]) -> list[str]:
        points = self.client.query_points(
            "bench", query=vector, limit=TOP_K, with_payload=["id", "text", "meta"]
        ).points
        return [p.payload["id"] for p in points]

    async def close(self) -> None:
        self.client.close()


def postgres_url() -> str:
    url = os.environ.get("POSTGRES_URL")
    if not url:
        raise SystemExit("the pgvector backend needs POSTGRES_URL (a Postgres with pgvector)")
    return url


# --- through Gecko ----------------------------------------------------------------------------


class ThroughGecko:
    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url
        self.store: Any = None

    async def open(self) -> ThroughGecko:
        from gecko.core.factories import create_storage

        self.store = await create_storage(self.url)
        return self

    async def insert(self, data: Records) -> None:
        from gecko.core.protocols import VectorRecord

        for part in data.batches():
            records = [
                VectorRecord(i, v, t, m)
                for i, v, t, m in zip(
                    data.ids[part], data.vectors[part], data.texts[part], data.metadata[part]
                )
            ]
            await self.store.upsert(records)
        await self.store.count()  # the first read: Gecko's Milvus Lite store flushes here

    async def query(self, vector: list[float]) -> list[str]:
        return [m.id for m in await self.store.search(vector, top_k=TOP_K)]

    async def close(self) -> None:
        await self.store.close()
        if self.name == "pgvector":  # leave the server as it was
            import psycopg

            table = self.url.rsplit("table=", 1)[1]
            async with await psycopg.AsyncConnection.connect(postgres_url(), autocommit=True) as c:
                await c.execute(f"DROP TABLE IF EXISTS {table}")


def gecko_url(backend: str, path: Path) -> str:
    if backend == "pgvector":
        url = postgres_url().replace("postgresql://", "postgres+pgvector://", 1)
        table = "gecko_" + path.name.replace("-", "_")
        return url + ("&" if "?" in url else "?") + f"table={table}"
    if backend == "qdrant":
        return f"qdrant://{path}/qdrant"
    return f"milvus://{path}/gecko.db" if backend == "milvus" else f"{backend}://{path}"


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused (as ``timeit`` does): with millions of live
    vectors, one full collection costs tens of milliseconds and lands on whichever side
    happened to trigger it."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def timed(action: Callable[[], Any]) -> float:
    """Seconds ``action`` takes, with the garbage collector paused."""
    with gc_paused():
        started = time.perf_counter()
        await action()
        return time.perf_counter() - started


async def query_both(direct: Any, gecko: Any, data: Data) -> dict[str, Any]:
    """Mean seconds per query of each side, alternating sides query by query (so load
    changes on a shared machine hit both alike), and each side's results."""
    for side in (direct, gecko):
        await side.query(data.query_lists[0])  # warm-up (lazy loads, caches)
    spent = {"direct": 0.0, "gecko": 0.0}
    found: dict[str, list[list[str]]] = {"direct": [], "gecko": []}
    with gc_paused():
        for index, vector in enumerate(data.query_lists):
            order = [("direct", direct), ("gecko", gecko)]
            for name, side in order if index % 2 == 0 else reversed(order):
                started = time.perf_counter()
                found[name].append(await side.query(vector))
                spent[name] += time.perf_counter() - started
    count = len(data.query_lists)
    return {
        "query_direct": spent["direct"] / count,
        "query_gecko": spent["gecko"] / count,
        "found_direct": found["direct"],
        "found_gecko": found["gecko"],
    }


async def bench_backend(backend: str, data: Data, root: Path, rounds: int) -> dict[str, Any]:
    """Insert into fresh databases ``rounds`` times per side, alternating which side goes
    first (best time kept), and query each round's pair of databases (mean over rounds).

    Every round is queried because the order of building matters: Chroma answers queries on
    the collection built last in a process markedly faster (1.2x-1.7x at 100k in our checks)
    than on one built before it, so querying only the last round would favour whichever side
    that round built second."""
    direct_cls = {
        "chroma": DirectChroma,
        "lancedb": DirectLance,
        "milvus": DirectMilvus,
        "pgvector": DirectPgVector,
        "qdrant": DirectQdrant,
    }[backend]
    warm = root / f"{backend}-warm-up"
    warm.mkdir()
    for side in (direct_cls(warm), await ThroughGecko(backend, gecko_url(backend, warm)).open()):
        await side.insert(
            data.head(2_000)
        )  # first-use costs (runtimes, thread pools, caches) for both
        await side.close()
    times: dict[str, list[float]] = {"direct": [], "gecko": []}
    queried: list[dict[str, Any]] = []
    sides: dict[str, Any] = {}
    for round_ in range(rounds):
        for name in ("direct", "gecko") if round_ % 2 == 0 else ("gecko", "direct"):
            if name in sides:
                await sides[name].close()
            path = root / f"{backend}-{name}-{round_}"
            path.mkdir()
            if name == "direct":
                side: Any = direct_cls(path)
            else:
                side = await ThroughGecko(backend, gecko_url(backend, path)).open()
            times[name].append(await timed(lambda s=side: s.insert(data)))
            sides[name] = side
        queried.append(await query_both(sides["direct"], sides["gecko"], data))
    for side in sides.values():
        await side.close()
    result = {
        **queried[-1],
        "query_direct": statistics.fmean(q["query_direct"] for q in queried),
        "query_gecko": statistics.fmean(q["query_gecko"] for q in queried),
    }
    extra = {}
    if backend == "lancedb":  # for reference: an append that does not check for existing ids
        path = root / "lancedb-append"
        path.mkdir()
        extra["append"] = await timed(lambda: DirectLance(path, append=True).insert(data))
    return {
        "insert_direct": min(times["direct"]),
        "insert_gecko": min(times["gecko"]),
        **result,
        **extra,
    }


# --- concurrent embedding -----------------------------------------------------------------------


async def embedding_concurrency(chunks: int = 1280, batch_size: int = 32) -> tuple[float, float]:
    """Seconds to ingest ``chunks`` chunks (40 files) with a slow embedder: 1 vs 8 batches
    in flight."""
    import anyio

    from gecko.core.embedders.hashing import HashingEmbedder
    from gecko.core.storage.memory_vector import MemoryVectorStore
    from gecko.rag import Document, IngestionPipeline

    class RemoteEmbedder(HashingEmbedder):
        async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
            await anyio.sleep(EMBED_LATENCY)  # the network round trip of an embedding API
            return [self.embed(t) for t in texts]

    documents = [
        Document(
            text=f"paragraph {i} about topic {i % 17}", metadata={"source": f"file-{i % 40}.md"}
        )
        for i in range(chunks)
    ]
    seconds = []
    for concurrency in (1, 8):
        pipeline = IngestionPipeline(
            MemoryVectorStore(),
            RemoteEmbedder(DIM),
            batch_size=batch_size,
            max_concurrency=concurrency,
        )
        seconds.append(await timed(lambda p=pipeline: p.add_documents(documents)))
    return seconds[0], seconds[1]


# --- report ------------------------------------------------------------------------------


async def run(sizes: list[int], backends: list[str]) -> str:
    lines = [
        f"Machine: {machine()}; {DIM}-dim vectors, top-{TOP_K}, "
        + ", ".join(f"{queries_for(s)} queries at {s:,}" for s in sizes)
        + "."
    ]
    insert_rows, query_rows, appends = [], [], []
    for size in sizes:
        print(f"\n== {size:,} vectors ==", flush=True)
        data = Data(size)
        truth, numpy_seconds = data.exact_top()
        query_rows.append(
            [f"{size:,}", "numpy (exact)", f"{numpy_seconds * 1000:.3f}", "", "", "1.000"]
        )
        for backend in backends:
            with tempfile.TemporaryDirectory(prefix=f"rag-bench-{backend}-") as tmp:
                print(f"  {backend}...", flush=True)
                r = await bench_backend(backend, data, Path(tmp), rounds=2)
            if "append" in r:
                appends.append(f"{size:,}: {r['append']:.2f} s ({size / r['append']:,.0f} vec/s)")
            insert_rows.append(
                [
                    f"{size:,}",
                    backend,
                    f"{r['insert_direct']:.2f}",
                    f"{size / r['insert_direct']:,.0f}",
                    f"{r['insert_gecko']:.2f}",
                    f"{size / r['insert_gecko']:,.0f}",
                    ratio(r["insert_gecko"], r["insert_direct"]),
                ]
            )
            query_rows.append(
                [
                    f"{size:,}",
                    backend,
                    f"{r['query_direct'] * 1000:.3f}",
                    f"{r['query_gecko'] * 1000:.3f}",
                    ratio(r["query_gecko"], r["query_direct"]),
                    f"{recall(r['found_gecko'], truth):.3f} (direct {recall(r['found_direct'], truth):.3f})",
                ]
            )
        del data
    lines += [
        "",
        "Bulk insert (batches of 5,000; embedding excluded; after a warm-up insert; best of 2 "
        "rounds in alternating order):",
        "",
        table(
            [
                "vectors",
                "backend",
                "direct s",
                "direct vec/s",
                "gecko s",
                "gecko vec/s",
                "gecko/direct",
            ],
            insert_rows,
        ),
        "",
        "Query (mean latency per top-10 search, mean over every round's databases; recall@10 against exact numpy search):",
        "",
        table(
            ["vectors", "backend", "direct ms", "gecko ms", "gecko/direct", "recall@10"], query_rows
        ),
    ]
    if appends:
        lines += [
            "",
            "LanceDB append-only `table.add` of the same batches (no check for existing ids, so "
            "not an upsert): " + "; ".join(appends) + ".",
        ]
    sequential, concurrent = await embedding_concurrency()
    lines += [
        "",
        f"I/O-bound embedder ({EMBED_LATENCY * 1000:.0f} ms per batch of 32, 1,280 chunks in 40 "
        "files, IngestionPipeline into memory://):",
        "",
        table(
            ["batches in flight", "seconds", "speed-up"],
            [
                ["1 (sequential)", f"{sequential:.2f}", "1.00x"],
                ["8 (concurrent)", f"{concurrent:.2f}", ratio(sequential, concurrent)],
            ],
        ),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated vector counts")
    parser.add_argument(
        "--backends", default="chroma,lancedb,milvus", help="comma-separated backends"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    backends = [b for b in args.backends.split(",") if b]
    started = time.perf_counter()
    report = asyncio.run(run(sizes, backends))
    print()
    print(report)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
