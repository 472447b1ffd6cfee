"""SQLiteStore passes the SessionStore and CheckpointStore conformance suites, on a file and in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gecko.core.factories import create_storage
from gecko.core.testing import CheckpointStoreConformance, SessionStoreConformance


@pytest.fixture(params=["file", "memory"])
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "sqlite://"
    return f"sqlite:///{tmp_path}/conformance.db"


class TestSQLiteSessionStore(SessionStoreConformance):
    @pytest.fixture
    async def store(self, sqlite_url: str) -> AsyncIterator[Any]:
        async with await create_storage(sqlite_url) as store:
            yield store


class TestSQLiteCheckpointStore(CheckpointStoreConformance):
    @pytest.fixture
    async def store(self, sqlite_url: str) -> AsyncIterator[Any]:
        async with await create_storage(sqlite_url) as store:
            yield store
