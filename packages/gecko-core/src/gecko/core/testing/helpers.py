"""Helpers for tests that wait on real time (TTL expiry, servers starting)."""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio


async def wait_until(
    condition: Callable[[], Any | Awaitable[Any]],
    *,
    timeout: float = 5.0,
    interval: float = 0.05,
    message: str = "condition",
) -> Any:
    """Poll ``condition`` (sync or async) until it is truthy; fail after ``timeout`` seconds.

    Unlike a fixed sleep, this waits exactly as long as needed and fails loudly.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message} did not become true within {timeout} s")
        await anyio.sleep(interval)
