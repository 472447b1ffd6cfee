"""gecko-storage-sqlite's plugin module. Registers ``sqlite://`` without importing sqlmodel."""

from __future__ import annotations

from typing import Any

from gecko.core.plugins import hookimpl


@hookimpl
def register_storage(register: Any) -> None:
    register("sqlite", "gecko.storage.sqlite.store:SQLiteStore.open", kind="kv")
