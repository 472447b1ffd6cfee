"""The plugin registers the Redis schemes without importing redis; all three schemes connect."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from gecko.core.factories import create_storage
from gecko.storage.redis.store import RedisStore

pytestmark = pytest.mark.anyio


def test_plugin_module_imports_nothing_heavy() -> None:
    code = (
        "import sys, gecko.storage.redis, gecko.storage.redis.plugin\n"
        "print([m for m in ('redis', 'redis.asyncio') if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


async def test_unix_socket_url(redis_server_factory: Callable[..., Any], tmp_path: Any) -> None:
    socket_path = tmp_path / "redis.sock"
    server = redis_server_factory("--unixsocket", str(socket_path), "--unixsocketperm", "700")
    async with await create_storage(f"unix://{socket_path}?db=1&prefix=sock:") as store:
        assert isinstance(store, RedisStore)
        await store.set("k", {"via": "socket"})
        assert await store.get("k") == {"via": "socket"}
        assert store.config.db == 1
        assert str(socket_path) in repr(store)
    server.stop()


async def test_database_number_from_the_path(redis_url: str, redis_prefix: str) -> None:
    if not redis_url.rstrip("/").endswith("/0"):
        pytest.skip("needs a redis_url ending in /0")
    other = redis_url.rstrip("/")[:-1] + "2"
    async with (
        await create_storage(other, prefix=redis_prefix) as db2,
        await create_storage(redis_url, prefix=redis_prefix) as db0,
    ):
        await db2.set("k", "in db 2")
        assert await db0.get("k") is None
        assert await db2.get("k") == "in db 2"
        await db2.delete("k")
