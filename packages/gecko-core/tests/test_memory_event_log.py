"""MemoryStore passes the RunEventLog conformance suite; named stores share their logs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gecko.core.errors import StorageError
from gecko.core.factories import create_storage
from gecko.core.storage import RunEventLog
from gecko.core.storage.memory import MemoryStore
from gecko.core.testing import EventLogConformance

pytestmark = pytest.mark.anyio


class TestMemoryEventLog(EventLogConformance):
    @pytest.fixture
    async def store(self) -> AsyncIterator[Any]:
        async with await create_storage("memory://") as store:
            yield store


async def test_a_named_store_shares_its_event_logs() -> None:
    first = await create_storage("memory://events-shared")
    second = await create_storage("memory://events-shared")
    async with first, second:
        await first.append_events("run", [{"from": "first"}])
        assert await second.append_events("run", [{"from": "second"}]) == 2
        assert [e.data["from"] for e in await first.read_events("run")] == ["first", "second"]
        assert await second.delete_events("run") == 2


async def test_private_stores_are_separate_and_closed_stores_refuse() -> None:
    one, two = MemoryStore(), MemoryStore()
    assert isinstance(one, RunEventLog)
    await one.append_events("run", [{"a": 1}])
    assert await two.last_event_seq("run") == 0
    await one.close()
    with pytest.raises(StorageError, match="closed"):
        await one.read_events("run")
