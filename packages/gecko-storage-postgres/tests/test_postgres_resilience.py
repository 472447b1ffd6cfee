"""Real faults: a restart mid-run, a wrong password, an unreachable server, 4 writer processes
(sessions, checkpoints, events and a lease)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest

from gecko.core.errors import StorageConnectionError, StorageError
from gecko.core.factories import create_storage
from gecko.core.testing import wait_until

pytestmark = pytest.mark.anyio


async def test_no_acknowledged_write_is_lost_across_a_restart(
    postgres_server_factory: Callable[[], Any],
) -> None:
    server = postgres_server_factory()
    async with await create_storage(server.url, reconnect_timeout=60) as store:
        acknowledged: list[int] = []
        seqs: list[int] = []
        failures: list[BaseException] = []
        stop = anyio.Event()

        async def writer(lane: int) -> None:
            n = 0
            while not stop.is_set():
                value = lane * 1_000_000 + n
                try:
                    await store.set(f"k:{value}", {"n": value})
                    seqs.append(await store.append_checkpoint(f"run-{lane}", {"n": value}))
                    await store.append_events(f"run-{lane}", [{"n": value}])
                except BaseException as exc:
                    failures.append(exc)
                    raise
                acknowledged.append(value)
                n += 1

        async with anyio.create_task_group() as tg:
            for lane in range(4):
                tg.start_soon(writer, lane)
            await wait_until(lambda: len(acknowledged) >= 100, timeout=30, message="writes before")
            await anyio.to_thread.run_sync(server.stop)
            stalled_at = len(acknowledged)
            await anyio.to_thread.run_sync(server.start)
            await wait_until(
                lambda: len(acknowledged) >= stalled_at + 100, timeout=60, message="writes after"
            )
            stop.set()
        assert failures == []
        found = await store.get_many([f"k:{v}" for v in acknowledged])
        assert len(found) == len(acknowledged)  # every acknowledged write survived
        for lane in range(4):
            history = await store.list_checkpoints(f"run-{lane}")
            stored = {c.data["n"] for c in history}
            mine = {v for v in acknowledged if v // 1_000_000 == lane}
            assert mine <= stored
            events = await store.read_events(f"run-{lane}")
            assert mine <= {e.data["n"] for e in events}
            assert [e.seq for e in events] == list(range(1, len(events) + 1))


async def test_an_operation_waits_for_the_server_to_come_back(
    postgres_server_factory: Callable[[], Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gecko.storage.postgres.connection")
    server = postgres_server_factory()
    async with await create_storage(server.url, reconnect_timeout=60) as store:
        await store.set("before", 1)
        await anyio.to_thread.run_sync(server.stop)
        done = anyio.Event()

        async def write_while_down() -> None:
            await store.set("during", 2)
            done.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(write_while_down)
            await wait_until(
                lambda: "unavailable" in caplog.text, timeout=30, message="the write retrying"
            )
            assert not done.is_set()  # it is retrying against the stopped server
            await anyio.to_thread.run_sync(server.start)
        assert await store.get_many(["before", "during"]) == {"before": 1, "during": 2}


async def test_a_server_that_stays_away_is_a_clear_error(
    postgres_server_factory: Callable[[], Any],
) -> None:
    server = postgres_server_factory()
    store = await create_storage(server.url, reconnect_timeout=1)
    try:
        await anyio.to_thread.run_sync(server.stop)
        with pytest.raises(StorageConnectionError, match="cannot reach Postgres"):
            await store.get("k")
    finally:
        await store.close()
        await anyio.to_thread.run_sync(server.start)


async def test_wrong_password_is_a_clear_error_with_the_password_redacted(
    postgres_server_factory: Callable[[], Any],
) -> None:
    server = postgres_server_factory()
    server.psql("CREATE ROLE gecko_pw LOGIN PASSWORD 'right-pass'")
    hba = Path(server.pgdata) / "pg_hba.conf"
    hba.write_text("local all gecko_pw scram-sha-256\n" + hba.read_text())
    server.psql("SELECT pg_reload_conf()")
    base = server.url.split("?", 1)[1]  # host=<socket dir>
    wrong = f"postgresql://gecko_pw:wrong-s3cret@/postgres?{base}"
    with pytest.raises(StorageConnectionError, match="refused the credentials") as info:
        await create_storage(wrong)
    assert "wrong-s3cret" not in str(info.value) and "wrong-s3cret" not in repr(info.value)
    right = f"postgresql://gecko_pw:right-pass@/postgres?{base}"
    with pytest.raises(StorageError, match="CREATE on the schema"):
        await create_storage(right)  # no privilege on public (Postgres 15+): a clear error too
    server.psql("CREATE SCHEMA gecko_pw_data AUTHORIZATION gecko_pw")
    async with await create_storage(right, schema="gecko_pw_data") as store:
        await store.set("k", {"ok": True})
        assert await store.get("k") == {"ok": True}
        assert "right-pass" not in repr(store)


async def test_unreachable_server(tmp_path: Path) -> None:
    with pytest.raises(StorageConnectionError, match="cannot reach Postgres") as info:
        await create_storage(f"postgresql://u:pw-s3cret@/db?host={tmp_path}&connect_timeout=2")
    assert "pw-s3cret" not in str(info.value)


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from gecko.core.factories import create_storage

    async def main(url, schema, worker):
        async with await create_storage(url, schema=schema, pool_size=4) as store:
            for i in range(1000):
                await store.set(f"w{worker}:{i}", {"worker": worker, "i": i})
                await store.append_checkpoint("shared", {"worker": worker, "i": i})
                await store.append_events("shared", [{"worker": worker, "i": i}])
            lease = await store.acquire_lease("job", f"worker-{worker}", 60)
            print(lease.holder)

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


@pytest.mark.slow
async def test_four_processes_write_1000_times_each(
    postgres_url: str, postgres_schema: str, tmp_path: Path
) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    async with await create_storage(postgres_url, schema=postgres_schema):
        pass  # create the schema once, so the writers race on data, not on DDL

    def run_all() -> list[str]:
        processes = [
            subprocess.Popen(
                [sys.executable, str(script), postgres_url, postgres_schema, str(w)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ},
            )
            for w in range(4)
        ]
        outputs = []
        for process in processes:
            out, err = process.communicate(timeout=300)
            assert process.returncode == 0, err
            outputs.append(out.strip())
        return outputs

    holders = await anyio.to_thread.run_sync(run_all)
    assert len(set(holders)) == 1  # one lease holder, seen by all four
    async with await create_storage(postgres_url, schema=postgres_schema) as store:
        assert len(await store.keys("w")) == 4000
        history = await store.list_checkpoints("shared")
        assert [c.seq for c in history] == list(range(1, 4001))
        assert sorted((c.data["worker"], c.data["i"]) for c in history) == [
            (w, i) for w in range(4) for i in range(1000)
        ]
        events = await store.read_events("shared")
        assert [e.seq for e in events] == list(range(1, 4001))
        for w in range(4):  # each process's events in the order it appended them
            assert [e.data["i"] for e in events if e.data["worker"] == w] == list(range(1000))
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert conn.execute(f"SELECT count(*) FROM {postgres_schema}.gecko_kv").fetchone() == (
            4000,
        )
