"""gecko-storage-sqlite's plugin module. Registers ``sqlite://`` without importing sqlmodel."""

from __future__ import annotations

from gecko.core.plugins import StorageRegistrar, hookimpl


@hookimpl
def register_storage(register: StorageRegistrar) -> None:
    register("sqlite", "gecko.storage.sqlite.store:SQLiteStore.open", kind="kv")
