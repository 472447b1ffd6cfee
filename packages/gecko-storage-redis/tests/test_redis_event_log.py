"""RedisStore passes the RunEventLog conformance suite against a real server; its stream layout."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from gecko.core.errors import CorruptDataError
from gecko.core.factories import create_storage
from gecko.core.testing import EventLogConformance
from gecko.storage.redis.store import RedisStore

pytestmark = pytest.mark.anyio


class TestRedisEventLog(EventLogConformance):
    @pytest.fixture
    async def store(self, redis_url: str, redis_prefix: str) -> AsyncIterator[Any]:
        async with await create_storage(redis_url, prefix=redis_prefix) as store:
            yield store


@pytest.fixture
async def store(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisStore]:
    async with await create_storage(redis_url, prefix=redis_prefix) as store:
        yield store


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_a_run_log_is_one_stream_with_seq_ids(store: RedisStore, raw: aioredis.Redis) -> None:
    await store.append_events("run-1", [{"a": 1}, {"b": 2}, {"c": 3}], keep=2)
    key = f"{store.prefix}cp:{{run-1}}:events"
    assert await raw.type(key) == b"stream"
    entries = await raw.xrange(key)
    assert [entry_id for entry_id, _ in entries] == [b"2-0", b"3-0"]
    assert entries[0][1][b"d"] == b'{"b":2}'
    assert "run-1" not in await store.list_runs()  # an event log alone is not a checkpointed run
    assert await store.delete_events("run-1") == 2
    assert not await raw.exists(key)


async def test_a_retried_append_is_not_doubled(store: RedisStore) -> None:
    keys = [store._keys.events("retry"), store._keys.token("retry", "same-token")]
    args = [60_000, 0, "1.0", '{"once":true}']
    first = await store._append_events(keys, args)
    again = await store._append_events(keys, args)  # what Retrier does after a lost reply
    assert first == again == 1
    assert [e.data for e in await store.read_events("retry")] == [{"once": True}]


async def test_foreign_data_in_the_key_space_is_reported(
    store: RedisStore, raw: aioredis.Redis
) -> None:
    await raw.set(f"{store.prefix}cp:{{str}}:events", "not a stream")
    with pytest.raises(CorruptDataError, match="str"):
        await store.append_events("str", [{"a": 1}])
    with pytest.raises(CorruptDataError):
        await store.read_events("str")
    await raw.xadd(f"{store.prefix}cp:{{foreign}}:events", {"x": "1"}, id="5-7")
    with pytest.raises(CorruptDataError, match="Gecko's format"):
        await store.read_events("foreign")
