"""PostgresStore's RunEventLog: the conformance suite, wake-ups by NOTIFY, the v1 -> v2 migration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import psycopg
import pytest

from gecko.core.factories import create_storage
from gecko.core.testing import EventLogConformance
from gecko.storage.postgres import schema

pytestmark = pytest.mark.anyio


class TestPostgresEventLog(EventLogConformance):
    @pytest.fixture
    async def store(self, postgres_url: str, postgres_schema: str) -> AsyncIterator[Any]:
        async with await create_storage(postgres_url, schema=postgres_schema) as store:
            yield store


async def test_a_waiter_is_woken_by_an_append_from_another_store(
    postgres_url: str, postgres_schema: str
) -> None:
    async with (
        await create_storage(postgres_url, schema=postgres_schema) as reader,
        await create_storage(postgres_url, schema=postgres_schema) as writer,
    ):
        await writer.append_events("live", [{"i": 0}])
        assert await reader.wait_for_events("live", after=0, timeout=5)  # already there
        woken: list[bool] = []

        async def wait() -> None:
            # Only a notification can end this wait early: its own timeout is an hour.
            woken.append(await reader.wait_for_events("live", after=1, timeout=3600))

        with anyio.fail_after(60):  # not woken by NOTIFY: the test fails instead of hanging
            async with anyio.create_task_group() as tg:
                tg.start_soon(wait)
                await anyio.wait_all_tasks_blocked()
                assert woken == []
                await writer.append_events("other-run", [{"x": 1}])  # another run: no wake-up
                await writer.append_events("live", [{"i": 1}])
        assert woken == [True]
        assert [e.data for e in await reader.read_events("live", after=1)] == [{"i": 1}]
        assert not await reader.wait_for_events("live", after=2, timeout=0.2)


async def test_a_version_1_schema_is_migrated(postgres_url: str, postgres_schema: str) -> None:
    async with await create_storage(postgres_url, schema=postgres_schema) as store:
        await store.set("kept", {"v": 1})
    with psycopg.connect(postgres_url, autocommit=True) as conn:  # back to the v1 layout
        conn.execute(
            f"DROP TABLE {postgres_schema}.gecko_events, {postgres_schema}.gecko_event_runs"
        )
        conn.execute(f"UPDATE {postgres_schema}.gecko_meta SET value = '1'")
    async with await create_storage(postgres_url, schema=postgres_schema) as store:
        assert await store.get("kept") == {"v": 1}
        assert await store.append_events("run", [{"after": "migration"}]) == 1
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        row = conn.execute(f"SELECT value FROM {postgres_schema}.gecko_meta").fetchone()
        assert row == (str(schema.SCHEMA_VERSION),)


async def test_floats_jsonb_would_change_come_back_exactly(
    postgres_url: str, postgres_schema: str
) -> None:
    doc = {"big": 1.7976931348623157e308, "e16": 1e16, "neg_zero": -0.0, "small": 1e-300}
    async with await create_storage(postgres_url, schema=postgres_schema) as store:
        await store.set("floats", doc)
        await store.append_checkpoint("floats", doc)
        for got in (await store.get("floats"), (await store.get_checkpoint("floats")).data):  # type: ignore[union-attr]
            assert got == doc and all(type(v) is float for v in got.values())
            assert str(got["neg_zero"]) == "-0.0"
