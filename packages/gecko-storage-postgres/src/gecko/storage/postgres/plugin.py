"""gecko-storage-postgres's plugin module. Registers the postgres schemes without importing psycopg."""

from __future__ import annotations

from gecko.core.plugins import StorageRegistrar, hookimpl


@hookimpl
def register_storage(register: StorageRegistrar) -> None:
    register(
        ["postgresql", "postgresql+psycopg", "postgres"],
        "gecko.storage.postgres.store:PostgresStore.open",
        kind="kv",
    )
