"""SQLiteStore passes the RunEventLog conformance suite, on a file and in memory."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gecko.core.errors import CorruptDataError
from gecko.core.factories import create_storage
from gecko.core.testing import EventLogConformance

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["file", "memory"])
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "sqlite://"
    return f"sqlite:///{tmp_path}/events.db"


class TestSQLiteEventLog(EventLogConformance):
    @pytest.fixture
    async def store(self, sqlite_url: str) -> AsyncIterator[Any]:
        async with await create_storage(sqlite_url) as store:
            yield store


async def test_events_survive_reopening_and_seqs_continue(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/reopen.db"
    async with await create_storage(url) as store:
        await store.append_events("run", [{"i": i} for i in range(5)], keep=2)
    async with await create_storage(url) as store:
        assert [e.seq for e in await store.read_events("run")] == [4, 5]
        assert await store.append_events("run", [{"i": 5}]) == 6


async def test_a_database_from_before_event_logs_gains_the_table(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with await create_storage(f"sqlite:///{path}") as store:
        await store.append_checkpoint("run", {"step": 1})
    with sqlite3.connect(path) as conn:  # as an older gecko-storage-sqlite left it
        conn.execute("DROP TABLE gecko_events")
    async with await create_storage(f"sqlite:///{path}") as store:
        assert await store.append_events("run", [{"e": 1}]) == 1
        assert (await store.get_checkpoint("run")).data == {"step": 1}  # type: ignore[union-attr]


async def test_a_row_written_by_another_program_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    async with await create_storage(f"sqlite:///{path}") as store:
        await store.append_events("run", [{"ok": True}])
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO gecko_events VALUES ('run', 2, '[1, 2]', 0.0)")
        conn.execute("INSERT INTO gecko_events VALUES ('run', 3, 'not json', 0.0)")
    async with await create_storage(f"sqlite:///{path}") as store:
        with pytest.raises(CorruptDataError, match="not a JSON object"):
            await store.read_events("run")
        with pytest.raises(CorruptDataError, match="run:3"):
            await store.read_events("run", after=2)
