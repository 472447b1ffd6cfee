"""RedisStore passes the SessionStore and CheckpointStore conformance suites against a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gecko.core.factories import create_storage
from gecko.core.testing import CheckpointStoreConformance, SessionStoreConformance


class TestRedisSessionStore(SessionStoreConformance):
    @pytest.fixture
    async def store(self, redis_url: str, redis_prefix: str) -> AsyncIterator[Any]:
        async with await create_storage(redis_url, prefix=redis_prefix) as store:
            yield store


class TestRedisCheckpointStore(CheckpointStoreConformance):
    @pytest.fixture
    async def store(self, redis_url: str, redis_prefix: str) -> AsyncIterator[Any]:
        async with await create_storage(redis_url, prefix=redis_prefix) as store:
            yield store
