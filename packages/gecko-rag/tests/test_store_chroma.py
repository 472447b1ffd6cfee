"""chroma:// against a real persistent Chroma database in a temporary directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gecko.core.factories import create_storage
from gecko.core.testing import VectorStoreConformance


class TestChromaConformance(VectorStoreConformance):
    @pytest.fixture
    async def vector_store(self, tmp_path: Path) -> AsyncIterator[Any]:
        async with await create_storage(f"chroma://{tmp_path}/db") as store:
            yield store
