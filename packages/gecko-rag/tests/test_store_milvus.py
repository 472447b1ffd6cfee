"""milvus:// against a real Milvus Lite database in a temporary directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gecko.core.factories import create_storage
from gecko.core.testing import VectorStoreConformance


class TestMilvusConformance(VectorStoreConformance):
    @pytest.fixture
    async def vector_store(self, tmp_path: Path) -> AsyncIterator[Any]:
        async with await create_storage(f"milvus://{tmp_path}/kb.db") as store:
            yield store
