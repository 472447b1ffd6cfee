"""The distributed lock: mutual exclusion, expiry, safe release, renewal, one resumer per run."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from gecko.core.errors import ConfigurationError, LockError
from gecko.core.factories import create_storage
from gecko.core.testing import wait_until
from gecko.storage.redis.store import RedisStore

pytestmark = pytest.mark.anyio


@pytest.fixture
async def workers(redis_url: str, redis_prefix: str) -> AsyncIterator[list[RedisStore]]:
    """Five stores with their own connection pools, like five worker processes."""
    stores = [await create_storage(redis_url, prefix=redis_prefix) for _ in range(5)]
    yield stores
    for store in stores:
        await store.close()


async def test_mutual_exclusion(workers: list[RedisStore]) -> None:
    inside = 0
    overlaps = 0
    entries = 0

    async def worker(store: RedisStore) -> None:
        nonlocal inside, overlaps, entries
        for _ in range(10):
            async with store.lock("counter", timeout=10):
                inside += 1
                overlaps += inside > 1
                entries += 1
                for _ in range(5):  # yield to the other workers while holding the lock
                    await anyio.lowlevel.checkpoint()
                inside -= 1

    async with anyio.create_task_group() as tg:
        for store in workers:
            tg.start_soon(worker, store)
    assert entries == 50 and overlaps == 0


async def test_only_one_worker_resumes_a_run(workers: list[RedisStore]) -> None:
    winners: list[int] = []
    losers: list[LockError] = []
    release = anyio.Event()

    async def try_resume(n: int, store: RedisStore) -> None:
        try:
            async with store.lock("resume:run-42", timeout=30, blocking_timeout=0):
                winners.append(n)
                await release.wait()
        except LockError as exc:
            losers.append(exc)
            if len(losers) == len(workers) - 1:
                release.set()

    async with anyio.create_task_group() as tg:
        for n, store in enumerate(workers):
            tg.start_soon(try_resume, n, store)
    assert len(winners) == 1 and len(losers) == 4
    assert "resume:run-42" in str(losers[0]) and losers[0].hint


async def test_lock_of_a_dead_holder_expires(workers: list[RedisStore]) -> None:
    crashed = workers[0].lock("job", timeout=0.3)
    await crashed.acquire()  # never released: its holder "died"
    assert await workers[1].lock("job").locked()
    async with workers[1].lock("job", timeout=5, blocking_timeout=30) as lock:
        assert await lock.owned()


async def test_release_never_frees_another_holders_lock(workers: list[RedisStore]) -> None:
    slow = workers[0].lock("job", timeout=0.2)
    await slow.acquire()
    fast = workers[1].lock("job", timeout=30, blocking_timeout=30)
    await fast.acquire()  # only possible once the slow holder's lock expired
    with pytest.raises(LockError, match="expired"):
        await slow.release()
    assert await fast.owned()
    assert await workers[2].lock("job").locked()
    await fast.release()
    assert not await workers[2].lock("job").locked()


async def test_extend_and_renew_keep_a_long_job_locked(workers: list[RedisStore]) -> None:
    lock = workers[0].lock("long", timeout=0.3)
    await lock.acquire()
    await lock.extend(30)
    deadline = time.monotonic() + 0.6
    await wait_until(
        lambda: time.monotonic() > deadline, timeout=5, message="past the first expiry"
    )
    assert await lock.owned()
    await lock.release()

    async with workers[0].lock("renewed", timeout=0.3, renew=True) as renewed:
        deadline = time.monotonic() + 1.2  # four times the timeout
        await wait_until(lambda: time.monotonic() > deadline, timeout=5, message="time passing")
        assert await renewed.owned()
        with pytest.raises(LockError):
            await workers[1].lock("renewed", blocking_timeout=0).acquire()
    assert not await workers[1].lock("renewed").locked()


async def test_errors_in_the_block_propagate_and_release_the_lock(
    workers: list[RedisStore],
) -> None:
    with pytest.raises(ZeroDivisionError):
        async with workers[0].lock("boom", timeout=10):
            1 / 0
    assert not await workers[1].lock("boom").locked()


async def test_lost_lock_is_reported_on_exit(workers: list[RedisStore]) -> None:
    with pytest.raises(LockError, match="expired"):
        async with workers[0].lock("short", timeout=0.2):
            await workers[1].lock("short", timeout=30, blocking_timeout=30).acquire()


@pytest.mark.parametrize(
    "kwargs",
    [{"timeout": 0}, {"timeout": -1}, {"timeout": float("nan")}, {"blocking_timeout": -1}],
)
async def test_bad_lock_arguments(workers: list[RedisStore], kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        workers[0].lock("x", **kwargs)


async def test_lock_cannot_be_acquired_twice_by_the_same_object(workers: list[RedisStore]) -> None:
    lock = workers[0].lock("twice", timeout=10)
    await lock.acquire()
    with pytest.raises(LockError, match="already held"):
        await lock.acquire()
    await lock.release()
    with pytest.raises(LockError, match="not held"):
        await lock.release()


async def test_retried_acquire_after_a_lost_reply_keeps_the_lock(workers: list[RedisStore]) -> None:
    store = workers[0]
    key = store.prefix + "lock:retried"
    assert await store._acquire([key], ["token-a", 10_000]) == 1
    assert await store._acquire([key], ["token-a", 10_000]) == 1  # the same holder retrying
    assert await store._acquire([key], ["token-b", 10_000]) == 0  # anyone else
