"""Behaviour beyond the conformance suites: sweeping, prefixes, locks held by other processes, cancellation."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import anyio
import pytest

from gecko.core.errors import StorageError
from gecko.core.factories import create_storage
from gecko.core.testing import wait_until
from gecko.storage.sqlite.queries import prefix_range

pytestmark = pytest.mark.anyio


def row_count(db: Path, table: str = "gecko_kv") -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


async def test_data_survives_reopen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/keep.db"
    async with await create_storage(url) as store:
        await store.set("session", {"turns": [1, 2]})
        seq = await store.append_checkpoint("run", {"step": "a"})
    async with await create_storage(url) as store:
        assert await store.get("session") == {"turns": [1, 2]}
        latest = await store.get_checkpoint("run")
        assert latest is not None and latest.seq == seq
        assert await store.append_checkpoint("run", {"step": "b"}) == seq + 1


async def test_expired_documents_are_swept_from_the_file(tmp_path: Path) -> None:
    db = tmp_path / "ttl.db"
    async with await create_storage(f"sqlite:///{db}", sweep_interval=0.05) as store:
        await store.set("short", 1, ttl=0.2)
        await store.set("kept", 2)
        assert row_count(db) == 2

        async def swept() -> bool:
            await store.set("tick", 0)  # writes trigger the periodic sweep
            return row_count(db) == 2  # "short" gone from disk, "kept" and "tick" remain

        await wait_until(swept, timeout=20, message="expired row deleted by the sweep")
        assert await store.keys() == ["kept", "tick"]


async def test_sweep_expired_on_demand(tmp_path: Path) -> None:
    db = tmp_path / "sweep.db"
    async with await create_storage(f"sqlite:///{db}") as store:
        await store.set_many({f"t:{i}": i for i in range(10)}, ttl=0.1)
        await store.set("forever", 1)

        async def expired() -> bool:
            return await store.keys("t:") == []

        await wait_until(expired, timeout=20, message="keys expiring")
        assert row_count(db) == 11  # invisible to reads, still on disk
        assert await store.sweep_expired() == 10
        assert row_count(db) == 1


async def test_expiry_uses_wall_clock_shared_by_processes(tmp_path: Path) -> None:
    db = tmp_path / "wall.db"
    async with await create_storage(f"sqlite:///{db}") as store:
        await store.set("k", 1, ttl=3600)
    conn = sqlite3.connect(db)
    (expires_at,) = conn.execute("SELECT expires_at FROM gecko_kv").fetchone()
    conn.close()
    assert abs(expires_at - (time.time() + 3600)) < 600


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("a%", ["a%b"]),
        ("a_", ["a_b"]),
        ("a", ["a%b", "a_b", "aXb", "a\U0010ffffz"]),
        ("A", ["A%b"]),
        ("a\U0010ffff", ["a\U0010ffffz"]),
        ("\\", ["\\x"]),
        ("", ["A%b", "\\x", "a%b", "a_b", "aXb", "a\U0010ffffz", "b"]),
    ],
)
async def test_prefix_listing_is_literal_and_case_sensitive(
    prefix: str, expected: list[str], tmp_path: Path
) -> None:
    async with await create_storage(f"sqlite:///{tmp_path}/p.db") as store:
        keys = ["a%b", "a_b", "aXb", "A%b", "b", "\\x", "a\U0010ffffz"]
        await store.set_many({k: k for k in keys})
        assert await store.keys(prefix) == sorted(expected)  # code-point order, like sorted()
        for k in keys:
            await store.append_checkpoint(k, {})
        assert await store.list_runs(prefix) == sorted(expected)


def test_prefix_range_bounds() -> None:
    assert prefix_range("user:") == ("user:", "user;")
    assert prefix_range("a\U0010ffff") == ("a\U0010ffff", "b")
    assert prefix_range("\U0010ffff") == ("\U0010ffff", None)
    assert prefix_range("\ud7ff") == ("\ud7ff", "\ue000")


async def test_writer_waits_out_another_process_lock_while_reads_and_the_loop_go_on(
    tmp_path: Path,
) -> None:
    db = tmp_path / "locked.db"
    async with await create_storage(f"sqlite:///{db}") as store:
        await store.set("before", 1)
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process's long write transaction
        ticks = 0
        done = anyio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await anyio.sleep(0.005)

        async def blocked_write() -> None:
            await store.set("during", 2)
            done.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(ticker)
            tg.start_soon(blocked_write)
            # The loop keeps running and reads still work while the write waits for the lock.
            await wait_until(lambda: ticks >= 5, timeout=20, message="event loop ticking")
            assert await store.get("before") == 1
            assert not done.is_set()
            other.execute("COMMIT")
            other.close()
        assert await store.get("during") == 2


async def test_lock_held_past_the_timeout_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "timeout.db"
    async with await create_storage(f"sqlite:///{db}?timeout=0.3") as store:
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StorageError) as info:
                await store.set("k", 1)
            assert "locked" in str(info.value) and "0.3 s" in str(info.value)
            assert "timeout" in (info.value.hint or "")
            with pytest.raises(StorageError):
                await store.append_checkpoint("run", {"x": 1})
        finally:
            other.execute("ROLLBACK")
            other.close()
        await store.set("k", 1)  # works again once the lock is gone
        assert await store.get("k") == 1
        assert await store.append_checkpoint("run", {"x": 1}) == 1


async def test_cancelled_callers_do_not_wedge_the_store(tmp_path: Path) -> None:
    async with await create_storage(f"sqlite:///{tmp_path}/cancel.db") as store:
        with anyio.move_on_after(0):
            await store.set("maybe", 1)
        async with anyio.create_task_group() as tg:
            for i in range(50):
                tg.start_soon(store.set, f"k:{i}", i)
            tg.cancel_scope.cancel()
        await store.set("after", 2)
        assert await store.get("after") == 2


async def test_seq_is_never_reused_after_compaction(tmp_path: Path) -> None:
    async with await create_storage(f"sqlite:///{tmp_path}/seq.db") as store:
        seqs = [await store.append_checkpoint("r", {"i": i}) for i in range(3)]
        assert await store.compact_checkpoints("r", seqs[-1]) == 3
        assert await store.list_checkpoints("r") == []
        assert "r" not in await store.list_runs()
        assert await store.append_checkpoint("r", {"i": 3}) == seqs[-1] + 1
        # A snapshot placed beyond the last seq moves the counter past it.
        await store.compact_checkpoints("r", 100, {"snapshot": True})
        assert await store.append_checkpoint("r", {"i": 4}) == 101
        assert [c.seq for c in await store.list_checkpoints("r")] == [100, 101]


async def test_concurrent_writes_are_committed_in_few_transactions(tmp_path: Path) -> None:
    db = tmp_path / "group.db"
    async with await create_storage(f"sqlite:///{db}") as store:
        async with anyio.create_task_group() as tg:
            for i in range(500):
                tg.start_soon(store.set, f"g:{i}", {"i": i})
        assert await store.get_many([f"g:{i}" for i in range(500)]) == {
            f"g:{i}": {"i": i} for i in range(500)
        }
    assert row_count(db) == 500


async def test_waiting_path_for_other_async_backends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an asyncio loop (e.g. on trio) callers wait for the worker from a thread."""
    from gecko.storage.sqlite import worker

    db = tmp_path / "other.db"
    store = await create_storage(f"sqlite:///{db}?timeout=0.2")
    monkeypatch.setattr(worker, "_running_loop", lambda: None)
    await store.set("k", {"v": 1})
    assert await store.get("k") == {"v": 1}
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageError, match="locked"):  # errors travel back too
            await store.set("k", 2)
    finally:
        other.execute("ROLLBACK")
        other.close()
    await store.close()
    with pytest.raises(StorageError, match="closed"):
        await store.get("k")
