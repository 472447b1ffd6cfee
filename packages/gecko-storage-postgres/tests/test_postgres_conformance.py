"""PostgresStore passes the SessionStore and CheckpointStore conformance suites on a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gecko.core.factories import create_storage
from gecko.core.testing import CheckpointStoreConformance, SessionStoreConformance


class TestPostgresSessionStore(SessionStoreConformance):
    @pytest.fixture
    async def store(self, postgres_url: str, postgres_schema: str) -> AsyncIterator[Any]:
        async with await create_storage(postgres_url, schema=postgres_schema) as store:
            yield store


class TestPostgresCheckpointStore(CheckpointStoreConformance):
    @pytest.fixture
    async def store(self, postgres_url: str, postgres_schema: str) -> AsyncIterator[Any]:
        async with await create_storage(postgres_url, schema=postgres_schema) as store:
            yield store
