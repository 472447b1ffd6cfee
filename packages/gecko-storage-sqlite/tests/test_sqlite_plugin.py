"""The plugin registers sqlite:// without importing sqlmodel, and create_storage finds it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gecko.core.factories import create_storage
from gecko.storage.sqlite.store import SQLiteStore

pytestmark = pytest.mark.anyio


def test_plugin_module_imports_nothing_heavy() -> None:
    code = (
        "import sys, gecko.storage.sqlite, gecko.storage.sqlite.plugin\n"
        "heavy = [m for m in ('sqlmodel', 'sqlalchemy') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


async def test_create_storage_dispatches_to_the_plugin() -> None:
    async with await create_storage("SQLITE://") as store:
        assert isinstance(store, SQLiteStore)
        assert "':memory:'" in repr(store)
    assert "closed" in repr(store)
