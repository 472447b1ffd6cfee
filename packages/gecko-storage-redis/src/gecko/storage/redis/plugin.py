"""gecko-storage-redis's plugin module. Registers the redis schemes without importing redis."""

from __future__ import annotations

from gecko.core.plugins import StorageRegistrar, hookimpl


@hookimpl
def register_storage(register: StorageRegistrar) -> None:
    register(["redis", "rediss", "unix"], "gecko.storage.redis.store:RedisStore.open", kind="kv")
