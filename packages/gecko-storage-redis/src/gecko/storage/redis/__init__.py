"""Redis session and checkpoint store for Gecko (``redis://``, ``rediss://``, ``unix://``).

``from gecko.storage.redis import RedisStore, RedisLock`` imports them (and redis)
on first use; importing this package alone stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RedisLock", "RedisStore"]


def __getattr__(name: str) -> Any:
    if name == "RedisStore":
        from gecko.storage.redis.store import RedisStore

        return RedisStore
    if name == "RedisLock":
        from gecko.storage.redis.lock import RedisLock

        return RedisLock
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
