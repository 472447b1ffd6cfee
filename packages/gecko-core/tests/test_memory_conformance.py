"""The built-in memory:// stores pass the conformance suites plugin authors adopt."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gecko.core.factories import create_storage
from gecko.core.testing import (
    CheckpointStoreConformance,
    SessionStoreConformance,
    VectorStoreConformance,
)


class TestMemorySessionStore(SessionStoreConformance):
    @pytest.fixture
    async def store(self) -> AsyncIterator[Any]:
        async with await create_storage("memory://") as store:
            yield store


class TestMemoryCheckpointStore(CheckpointStoreConformance):
    @pytest.fixture
    async def store(self) -> AsyncIterator[Any]:
        async with await create_storage("memory://") as store:
            yield store


class TestMemoryVectorStore(VectorStoreConformance):
    @pytest.fixture
    async def vector_store(self) -> AsyncIterator[Any]:
        async with await create_storage("memory://", kind="vector") as store:
            yield store
