"""Key layout, prefixes, TTLs, batches, SCAN-only listing and corrupt data, on a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest
import redis.asyncio as aioredis

from gecko.core.errors import CorruptDataError
from gecko.core.factories import create_storage
from gecko.storage.redis.keys import KeySpace, glob_escape
from gecko.storage.redis.store import RedisStore

pytestmark = pytest.mark.anyio


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def store(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisStore]:
    async with await create_storage(redis_url, prefix=redis_prefix) as store:
        yield store


async def test_documented_key_layout(store: RedisStore, raw: aioredis.Redis) -> None:
    p = store.prefix
    await store.set("session:1", {"a": 1})
    await store.append_checkpoint("run-1", {"step": 1})
    found = sorted([k.decode() async for k in raw.scan_iter(match=glob_escape(p) + "*")])
    tokens = [k for k in found if ":tok:" in k]
    assert [k for k in found if k not in tokens] == [
        f"{p}cp:{{run-1}}:log",
        f"{p}cp:{{run-1}}:seq",
        f"{p}kv:session:1",
    ]
    assert len(tokens) == 1 and tokens[0].startswith(f"{p}cp:{{run-1}}:tok:")
    assert await raw.get(f"{p}kv:session:1") == b'{"a":1}'
    assert 0 < await raw.pttl(tokens[0]) <= 300_000


async def test_two_applications_share_a_server(redis_url: str, redis_prefix: str) -> None:
    async with (
        await create_storage(redis_url, prefix=redis_prefix + "app-a:") as a,
        await create_storage(redis_url, prefix=redis_prefix + "app-b:") as b,
    ):
        await a.set("user:1", "a's")
        await b.set("user:1", "b's")
        await a.append_checkpoint("run", {"app": "a"})
        assert await a.get("user:1") == "a's" and await b.get("user:1") == "b's"
        assert await a.keys() == ["user:1"] and await b.keys() == ["user:1"]
        assert await b.list_runs() == []
        assert await a.delete_many(["user:1"]) == 1
        assert await b.get("user:1") == "b's"


async def test_ttl_is_set_per_key(store: RedisStore, raw: aioredis.Redis) -> None:
    await store.set("one", 1, ttl=100)
    await store.set_many({"b1": 1, "b2": 2}, ttl=50.5)
    await store.set("forever", 1)
    assert 99_000 < await raw.pttl(store.prefix + "kv:one") <= 100_000
    for key in ("b1", "b2"):
        assert 49_000 < await raw.pttl(store.prefix + "kv:" + key) <= 50_500
    assert await raw.pttl(store.prefix + "kv:forever") == -1
    await store.set("one", 2)  # overwriting without ttl makes it permanent again
    assert await raw.pttl(store.prefix + "kv:one") == -1


async def test_large_batches_are_chunked(store: RedisStore) -> None:
    items = {f"big:{i:05d}": {"i": i} for i in range(2500)}
    await store.set_many(items)
    assert await store.get_many(list(items)) == items
    await store.set_many(items, ttl=600)
    assert len(await store.keys("big:")) == 2500
    assert await store.delete_many([*items, "big:missing"]) == 2500
    assert await store.keys("big:") == []


@pytest.mark.parametrize("special", ["*", "?", "[ab]", "\\", "a*b?c[d]e\\f"])
async def test_glob_characters_in_prefixes_are_literal(store: RedisStore, special: str) -> None:
    await store.set_many({f"{special}:1": 1, f"{special}:2": 2, "plain:1": 3, "x" + special: 4})
    assert await store.keys(f"{special}:") == [f"{special}:1", f"{special}:2"]
    for run in (f"{special}-run", "other-run"):
        await store.append_checkpoint(run, {})
    assert await store.list_runs(special) == [f"{special}-run"]


async def test_glob_characters_in_the_application_prefix(redis_url: str, redis_prefix: str) -> None:
    async with (
        await create_storage(redis_url, prefix=redis_prefix + "[x]*:") as odd,
        await create_storage(redis_url, prefix=redis_prefix + "x:") as plain,
    ):
        await odd.set("k", 1)
        await plain.set("k", 2)
        assert await odd.keys() == ["k"]
        assert await plain.keys() == ["k"]


async def test_listing_works_with_the_keys_command_disabled(
    redis_server_factory: Callable[..., Any],
) -> None:
    server = redis_server_factory("--rename-command", "KEYS", "")
    async with await create_storage(server.url) as store:
        await store.set_many({f"k:{i}": i for i in range(3000)})
        await store.append_checkpoint("r", {})
        assert len(await store.keys("k:")) == 3000
        assert await store.list_runs() == ["r"]
    server.stop()


async def test_corrupt_document_names_key_and_spares_others(
    store: RedisStore, raw: aioredis.Redis
) -> None:
    await store.set("good", {"ok": True})
    await raw.set(store.prefix + "kv:bad", b"\xff{not json")
    await raw.hset(store.prefix + "kv:hash", mapping={"a": "1"})
    with pytest.raises(CorruptDataError, match="'bad'"):
        await store.get("bad")
    with pytest.raises(CorruptDataError, match="'bad'"):
        await store.get_many(["good", "bad"])
    with pytest.raises(CorruptDataError, match="'hash'"):
        await store.get("hash")
    assert await store.get("good") == {"ok": True}
    assert await store.keys() == ["bad", "good", "hash"]


async def test_corrupt_checkpoint_names_run_and_seq(store: RedisStore, raw: aioredis.Redis) -> None:
    await store.append_checkpoint("r", {"i": 1})
    await raw.zadd(store.prefix + "cp:{r}:log", {b"2|1700000000.0|{broken": 2})
    with pytest.raises(CorruptDataError, match="r:2"):
        await store.get_checkpoint("r")
    first = await store.get_checkpoint("r", 1)
    assert first is not None and first.data == {"i": 1}


async def test_retried_append_is_not_doubled(store: RedisStore) -> None:
    keys = KeySpace(store.prefix)
    run_keys = [keys.seq("r"), keys.log("r"), keys.token("r", "same-token")]
    first = await store._append(run_keys, ['1.0|{"a":1}', 60_000])
    again = await store._append(run_keys, ['1.0|{"a":1}', 60_000])  # as after a lost reply
    assert first == again == 1
    assert [c.seq for c in await store.list_checkpoints("r")] == [1]


async def test_appends_from_many_clients_get_unique_contiguous_seqs(
    redis_url: str, redis_prefix: str
) -> None:
    stores = [await create_storage(redis_url, prefix=redis_prefix) for _ in range(5)]
    seqs: list[int] = []

    async def append(store: RedisStore, writer: int) -> None:
        for i in range(40):
            seqs.append(await store.append_checkpoint("shared", {"w": writer, "i": i}))

    async with anyio.create_task_group() as tg:
        for n, store in enumerate(stores):
            tg.start_soon(append, store, n)
    assert sorted(seqs) == list(range(1, 201))
    history = await stores[0].list_checkpoints("shared")
    assert len({(c.data["w"], c.data["i"]) for c in history}) == 200
    for store in stores:
        await store.close()


async def test_more_concurrent_operations_than_connections(
    redis_url: str, redis_prefix: str, raw: aioredis.Redis
) -> None:
    name = "limit-" + redis_prefix.rstrip(":")
    async with await create_storage(
        redis_url, prefix=redis_prefix, max_connections=2, client_name=name
    ) as store:

        async def work(i: int) -> None:
            await store.set(f"c:{i}", {"i": i})
            await store.append_checkpoint("busy", {"i": i})
            assert await store.get(f"c:{i}") == {"i": i}

        async with anyio.create_task_group() as tg:
            for i in range(60):
                tg.start_soon(work, i)
        assert len(await store.keys("c:")) == 60
        assert len(await store.list_checkpoints("busy")) == 60
        # The pool was never asked for more than max_connections, so nothing failed.
        connections = [c for c in await raw.client_list() if c.get("name") == name]
        assert 1 <= len(connections) <= 2
