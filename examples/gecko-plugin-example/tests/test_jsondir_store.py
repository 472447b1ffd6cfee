"""The example plugin adopts Gecko's conformance suite: one subclass, one fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gecko.core.factories import create_storage, create_tool
from gecko.core.testing import SessionStoreConformance


class TestJsonDirStore(SessionStoreConformance):
    @pytest.fixture
    async def store(self, tmp_path: Path) -> AsyncIterator[Any]:
        async with await create_storage(f"jsondir://{tmp_path}/data") as store:
            yield store


@pytest.mark.anyio
async def test_word_count_tool() -> None:
    tool = create_tool("word_count")
    result = await tool.execute({"text": "the gecko and the wall", "top": 1})
    assert result == {"words": 5, "most_common": [("the", 2)]}
