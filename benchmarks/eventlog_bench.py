"""Run event logs: ``append_events`` / ``read_events`` per store, beside raw drivers, in one run.

Events are ~250-byte JSON objects (what a workflow publishes per node). Every row
is one task awaiting each operation in turn: append 1 event, append a batch of
10, append 1 with ``keep=1000`` (the log trimmed in the same transaction), and
read 100 events after a seq. Baselines do the same JSON encoding/decoding and
know the next seq already (a counter in the process), so the ratios show what
the store's atomic seq allocation, checks and thread/script hops cost:

- sqlite: raw ``sqlite3`` on the event loop's thread, a table of the same shape
  (``gecko_events``: ``(run_id, seq)`` primary key, WITHOUT ROWID) with the store's
  settings (WAL, synchronous=normal); ``INSERT`` + ``COMMIT`` per append.
- redis: raw ``redis.asyncio`` ``XADD`` with an explicit id (a pipeline of 10 for
  the batch), ``XADD`` + ``XTRIM`` for keep, ``XRANGE COUNT 100`` for reads.
- memory: a dict of lists of JSON text.

Each figure is the median of ROUNDS interleaved rounds (Gecko and baselines take
turns, so a busy machine slows all of them alike).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from common import machine, ratio, table
from storage_bench import raw_connection, redis_server

from gecko.core.factories import create_storage

ROUNDS = 3
SINGLE = 2000  # awaited single appends per round
BATCHES = 300  # batches of 10 per round
READS = 300  # reads of 100 per round
EVENT = {
    "type": "node.completed",
    "run_id": "run-0001",
    "node": "fetch_documents",
    "status": "completed",
    "attempt": 1,
    "duration_ms": 12.5,
    "output": {"text": "x" * 120, "count": 3},
}
assert 200 < len(json.dumps(EVENT)) < 300

Timed = Callable[[int], Awaitable[float]]
"""``await timed(round)`` -> events per second."""


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


def gecko_cases(store: Any) -> dict[str, Timed]:
    """The four Gecko rows, the same for every store."""

    async def append_one(r: int) -> float:
        async def body() -> None:
            for _ in range(SINGLE):
                await store.append_events(f"one-{r}", [EVENT])

        return await rate(SINGLE, body)

    async def append_ten(r: int) -> float:
        async def body() -> None:
            for _ in range(BATCHES):
                await store.append_events(f"ten-{r}", [EVENT] * 10)

        return await rate(BATCHES * 10, body)

    async def append_keep(r: int) -> float:
        async def body() -> None:
            for _ in range(SINGLE):
                await store.append_events(f"keep-{r}", [EVENT], keep=1000)

        return await rate(SINGLE, body)

    async def read_hundred(r: int) -> float:
        async def body() -> None:
            for i in range(READS):
                events = await store.read_events(f"ten-{r}", after=(i * 7) % 2900, limit=100)
                assert len(events) == 100

        return await rate(READS * 100, body)

    return {
        "gecko append 1": append_one,
        "gecko append 10": append_ten,
        "gecko append keep": append_keep,
        "gecko read 100": read_hundred,
    }


# --- sqlite ------------------------------------------------------------------------------------

INSERT = "INSERT INTO gecko_events (run_id, seq, data, created_at) VALUES (?, ?, ?, ?)"


def sqlite_raw_cases(workdir: Path) -> tuple[dict[str, Timed], Any]:
    raw = raw_connection(workdir / "raw.db")  # the store's DDL and pragmas
    seqs: dict[str, int] = {}

    def insert(run: str, count: int) -> None:
        first = seqs.get(run, 0)
        raw.execute("BEGIN IMMEDIATE")
        raw.executemany(
            INSERT, [(run, first + i, json.dumps(EVENT), time.time()) for i in range(1, count + 1)]
        )
        raw.execute("COMMIT")
        seqs[run] = first + count

    async def append_one(r: int) -> float:
        async def body() -> None:
            for _ in range(SINGLE):
                insert(f"one-{r}", 1)

        return await rate(SINGLE, body)

    async def append_ten(r: int) -> float:
        async def body() -> None:
            for _ in range(BATCHES):
                insert(f"ten-{r}", 10)

        return await rate(BATCHES * 10, body)

    async def append_keep(r: int) -> float:
        async def body() -> None:
            run = f"keep-{r}"
            for _ in range(SINGLE):
                seq = seqs.get(run, 0) + 1
                raw.execute("BEGIN IMMEDIATE")
                raw.execute(INSERT, (run, seq, json.dumps(EVENT), time.time()))
                raw.execute(
                    "DELETE FROM gecko_events WHERE run_id = ? AND seq <= ?", (run, seq - 1000)
                )
                raw.execute("COMMIT")
                seqs[run] = seq

        return await rate(SINGLE, body)

    async def read_hundred(r: int) -> float:
        async def body() -> None:
            query = (
                "SELECT seq, data, created_at FROM gecko_events "
                "WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT 100"
            )
            for i in range(READS):
                rows = raw.execute(query, (f"ten-{r}", (i * 7) % 2900)).fetchall()
                events = [(seq, json.loads(data), created) for seq, data, created in rows]
                assert len(events) == 100

        return await rate(READS * 100, body)

    cases: dict[str, Timed] = {
        "raw append 1": append_one,
        "raw append 10": append_ten,
        "raw append keep": append_keep,
        "raw read 100": read_hundred,
    }
    return cases, raw


async def run_sqlite() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        store = await create_storage(f"sqlite:///{tmp}/gecko.db")
        raw_cases, raw = sqlite_raw_cases(Path(tmp))
        try:
            r = await measure(_interleave(gecko_cases(store), raw_cases))
        finally:
            await store.close()
            raw.close()
    return _section(
        "sqlite:// (file, WAL)", r, "raw sqlite3", "INSERT + COMMIT", "executemany, 1 txn"
    )


# --- redis -------------------------------------------------------------------------------------


def redis_raw_cases(raw: Any, prefix: str) -> dict[str, Timed]:
    seqs: dict[str, int] = {}

    def next_id(key: str) -> str:
        seqs[key] = seqs.get(key, 0) + 1
        return f"{seqs[key]}-0"

    def fields() -> dict[str, str]:
        return {"t": repr(time.time()), "d": json.dumps(EVENT)}

    async def append_one(r: int) -> float:
        async def body() -> None:
            key = f"{prefix}raw:one-{r}"
            for _ in range(SINGLE):
                await raw.xadd(key, fields(), id=next_id(key))

        return await rate(SINGLE, body)

    async def append_ten(r: int) -> float:
        async def body() -> None:
            key = f"{prefix}raw:ten-{r}"
            for _ in range(BATCHES):
                async with raw.pipeline(transaction=False) as pipe:
                    for _ in range(10):
                        pipe.xadd(key, fields(), id=next_id(key))
                    await pipe.execute()

        return await rate(BATCHES * 10, body)

    async def append_keep(r: int) -> float:
        async def body() -> None:
            key = f"{prefix}raw:keep-{r}"
            for _ in range(SINGLE):
                async with raw.pipeline(transaction=False) as pipe:
                    pipe.xadd(key, fields(), id=next_id(key))
                    pipe.xtrim(key, maxlen=1000, approximate=False)
                    await pipe.execute()

        return await rate(SINGLE, body)

    async def read_hundred(r: int) -> float:
        async def body() -> None:
            key = f"{prefix}raw:ten-{r}"
            for i in range(READS):
                entries = await raw.xrange(key, f"{(i * 7) % 2900 + 1}-0", "+", 100)
                events = [(eid, json.loads(f[b"d"]), float(f[b"t"])) for eid, f in entries]
                assert len(events) == 100

        return await rate(READS * 100, body)

    return {
        "raw append 1": append_one,
        "raw append 10": append_ten,
        "raw append keep": append_keep,
        "raw read 100": read_hundred,
    }


async def run_redis() -> str:
    import redis.asyncio as aioredis

    with tempfile.TemporaryDirectory() as tmp:
        url, process = redis_server(Path(tmp))
        prefix = f"gecko-bench-{uuid.uuid4().hex[:8]}:"
        store = await create_storage(url, prefix=prefix)
        raw = aioredis.Redis.from_url(url)
        try:
            r = await measure(_interleave(gecko_cases(store), redis_raw_cases(raw, prefix)))
        finally:
            keys = [k async for k in raw.scan_iter(match=prefix + "*", count=1000)]
            for start in range(0, len(keys), 1000):
                await raw.delete(*keys[start : start + 1000])
            await raw.aclose()
            await store.close()
            if process is not None:
                process.terminate()
                process.wait()
    return _section("redis://", r, "redis.asyncio", "XADD", "pipeline of 10 XADD")


# --- memory ------------------------------------------------------------------------------------


def memory_raw_cases() -> dict[str, Timed]:
    logs: dict[str, list[tuple[int, str, float]]] = {}

    def append(run: str, count: int, keep: int | None = None) -> None:
        log = logs.setdefault(run, [])
        last = log[-1][0] if log else 0
        log.extend((last + i, json.dumps(EVENT), time.time()) for i in range(1, count + 1))
        if keep is not None and len(log) > keep:
            del log[:-keep]

    async def append_one(r: int) -> float:
        async def body() -> None:
            for _ in range(SINGLE):
                append(f"one-{r}", 1)
                await asyncio.sleep(0)  # an await per call, as the store's methods are coroutines

        return await rate(SINGLE, body)

    async def append_ten(r: int) -> float:
        async def body() -> None:
            for _ in range(BATCHES):
                append(f"ten-{r}", 10)
                await asyncio.sleep(0)

        return await rate(BATCHES * 10, body)

    async def append_keep(r: int) -> float:
        async def body() -> None:
            for _ in range(SINGLE):
                append(f"keep-{r}", 1, keep=1000)
                await asyncio.sleep(0)

        return await rate(SINGLE, body)

    async def read_hundred(r: int) -> float:
        async def body() -> None:
            log = logs[f"ten-{r}"]
            for i in range(READS):
                start = (i * 7) % 2900
                events = [(s, json.loads(t), c) for s, t, c in log[start : start + 100]]
                assert len(events) == 100
                await asyncio.sleep(0)

        return await rate(READS * 100, body)

    return {
        "raw append 1": append_one,
        "raw append 10": append_ten,
        "raw append keep": append_keep,
        "raw read 100": read_hundred,
    }


async def run_memory() -> str:
    async with await create_storage("memory://") as store:
        r = await measure(_interleave(gecko_cases(store), memory_raw_cases()))
    return _section("memory://", r, "dict of lists", "append JSON text", "extend, 10")


# --- report ------------------------------------------------------------------------------------


def _interleave(gecko: dict[str, Timed], raw: dict[str, Timed]) -> dict[str, Timed]:
    """Gecko and its baseline take turns, row by row (the read rows need the batch rows first)."""
    cases: dict[str, Timed] = {}
    for kind in ("append 1", "append 10", "append keep", "read 100"):
        cases[f"gecko {kind}"] = gecko[f"gecko {kind}"]
        cases[f"raw {kind}"] = raw[f"raw {kind}"]
    return cases


def _section(title: str, r: dict[str, float], raw: str, one: str, ten: str) -> str:
    rows = [
        ("append 1 event (awaited)", "append 1", f"{raw} {one}"),
        ("append a batch of 10", "append 10", f"{raw} {ten}"),
        ("append 1, keep=1000", "append keep", f"{raw} {one} + trim"),
        ("read 100 after a seq", "read 100", f"{raw} range read + json.loads"),
    ]
    body = table(
        ["operation", "Gecko events/s", "baseline", "baseline events/s", "Gecko / baseline"],
        [
            (op, r[f"gecko {k}"], name, r[f"raw {k}"], ratio(r[f"gecko {k}"], r[f"raw {k}"]))
            for op, k, name in rows
        ],
    )
    return f"### {title}\n\n{body}\n"


async def main() -> None:
    print(f"# event logs — {machine()}; ~250-byte events; median of {ROUNDS} rounds\n", flush=True)
    print(await run_sqlite(), flush=True)
    print(await run_redis(), flush=True)
    print(await run_memory(), flush=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
