"""Blocking calls run in worker threads without stalling the loop."""

from __future__ import annotations

import contextvars
import threading

import anyio
import pytest

from gecko.core.threads import run_sync

pytestmark = pytest.mark.anyio

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


async def test_runs_in_another_thread_with_the_callers_context() -> None:
    request_id.set("req-7")
    main = threading.get_ident()
    thread, seen = await run_sync(lambda: (threading.get_ident(), request_id.get()))
    assert thread != main and seen == "req-7"


async def test_the_loop_keeps_running_while_a_call_blocks() -> None:
    started, release = threading.Event(), threading.Event()
    progressed = anyio.Event()

    def blocking() -> str:
        started.set()
        assert release.wait(10)
        return "done"

    async def other() -> None:
        await anyio.to_thread.run_sync(started.wait, 10)
        progressed.set()  # the loop ran this while `blocking` held its thread
        release.set()

    async with anyio.create_task_group() as group:
        group.start_soon(other)
        assert await run_sync(blocking) == "done"
    assert progressed.is_set()


async def test_exceptions_propagate() -> None:
    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await run_sync(fail)
