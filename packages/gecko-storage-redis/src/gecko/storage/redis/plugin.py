"""gecko-storage-redis's plugin module. Registers the redis schemes without importing redis."""

from __future__ import annotations

from typing import Any

from gecko.core.plugins import hookimpl


@hookimpl
def register_storage(register: Any) -> None:
    register(["redis", "rediss", "unix"], "gecko.storage.redis.store:RedisStore.open", kind="kv")
