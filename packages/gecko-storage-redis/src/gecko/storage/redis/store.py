"""``RedisStore``: Gecko's SessionStore, CheckpointStore and RunEventLog on Redis, with a lock.

    async with await create_storage("redis://localhost:6379/0?prefix=myapp:") as store:
        await store.set("session:42", {"messages": []}, ttl=3600)
        async with store.lock("run:42", timeout=30):
            ...  # only one worker at a time gets here

Every key lives under the application's prefix (``gecko:`` by default; see
``keys``). Batches are single commands or pipelines, checkpoint appends are Lua
scripts, listings use SCAN (never KEYS). Uses redis.asyncio, so it runs on
anyio's asyncio backend.
"""

from __future__ import annotations

import logging
import secrets
import time
import warnings
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from gecko.core import serialization
from gecko.core.errors import CorruptDataError
from gecko.core.protocols import Checkpoint
from gecko.core.storage.base import BaseStore, check_key, check_ttl
from gecko.core.validation import check_int, check_str
from gecko.storage.redis import scripts
from gecko.storage.redis.config import RedisConfig
from gecko.storage.redis.connection import Retrier, make_client
from gecko.storage.redis.events import RedisEventLog
from gecko.storage.redis.keys import KeySpace
from gecko.storage.redis.leases import RedisLeases
from gecko.storage.redis.lock import RedisLock

log = logging.getLogger(__name__)

_BATCH = 1000
"""Keys per command when reading or deleting in bulk (keeps each command short)."""
_SCAN_COUNT = 1000
_TOKEN_TTL_MS = 300_000
"""How long a checkpoint append remembers its token (covers any retry window)."""


class RedisStore(RedisEventLog, RedisLeases, BaseStore):
    """Session documents, workflow checkpoints and run event logs in Redis.

    Open it with ``await create_storage("redis://host:6379/0")`` or
    ``await RedisStore.open(url, prefix="myapp:")``; close it with
    ``await store.close()`` or ``async with``.
    """

    supports_ttl = True

    def __init__(self, config: RedisConfig) -> None:
        self._config = config
        self._client = make_client(config)
        self._retrier = Retrier(config)
        self._keys = KeySpace(config.prefix)
        self._set_many_ttl = self._client.register_script(scripts.SET_MANY_TTL)
        self._append = self._client.register_script(scripts.APPEND)
        self._compact = self._client.register_script(scripts.COMPACT)
        self._delete_run = self._client.register_script(scripts.DELETE_RUN)
        self._acquire = self._client.register_script(scripts.ACQUIRE_LOCK)
        self._release = self._client.register_script(scripts.RELEASE_LOCK)
        self._extend = self._client.register_script(scripts.EXTEND_LOCK)
        self._acquire_lease = self._client.register_script(scripts.ACQUIRE_LEASE)
        self._get_lease = self._client.register_script(scripts.GET_LEASE)
        self._append_events = self._client.register_script(scripts.APPEND_EVENTS)
        self._delete_events = self._client.register_script(scripts.DELETE_EVENTS)
        self._finalizer = weakref.finalize(self, _warn_unclosed, config.url)

    @classmethod
    async def open(cls, url: str = "redis://localhost:6379/0", **options: Any) -> RedisStore:
        """Connect to the server of ``url`` and check it answers (within ``connect_timeout``)."""
        config = RedisConfig.from_url(url, **options)
        store = cls(config)
        try:
            await store._retrier.call(store._client.ping, budget=config.connect_timeout)
        except BaseException:
            await store.close()
            raise
        log.debug("connected to Redis at %s (prefix %r)", config.url, config.prefix)
        return store

    @property
    def config(self) -> RedisConfig:
        return self._config

    @property
    def prefix(self) -> str:
        return self._config.prefix

    @property
    def client(self) -> Any:
        """The underlying ``redis.asyncio.Redis`` client, for commands Gecko does not wrap.

        Calls made on it directly share the pool but not Gecko's reconnect policy or
        its concurrency limit (``max_connections``).
        """
        return self._client

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<RedisStore {self._config.url} prefix={self._config.prefix!r}{state}>"

    async def _close(self) -> None:
        self._finalizer.detach()
        await self._client.aclose(close_connection_pool=True)

    # --- SessionStore -----------------------------------------------------------------

    async def get(self, key: str) -> Any:
        self._ensure_open()
        raw = await self._retrier.call(self._client.get, self._keys.kv(check_key(key)), key=key)
        return None if raw is None else serialization.loads(raw, key=key)

    async def set(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        self._ensure_open()
        text = serialization.dumps(value, key=check_key(key))
        ttl_ms = _milliseconds(check_ttl(ttl))
        await self._retrier.call(self._client.set, self._keys.kv(key), text, None, ttl_ms, key=key)

    async def delete(self, key: str) -> bool:
        self._ensure_open()
        removed = await self._retrier.call(
            self._client.delete, self._keys.kv(check_key(key)), key=key
        )
        return bool(removed)

    async def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        self._ensure_open()
        unique = list(dict.fromkeys(check_key(k) for k in keys))
        result: dict[str, Any] = {}
        for start in range(0, len(unique), _BATCH):
            chunk = unique[start : start + _BATCH]
            raws = await self._retrier.call(self._client.mget, [self._keys.kv(k) for k in chunk])
            for key, raw in zip(chunk, raws):
                if raw is not None:
                    result[key] = serialization.loads(raw, key=key)
        return result

    async def set_many(self, items: Mapping[str, Any], *, ttl: float | None = None) -> None:
        self._ensure_open()
        ttl_ms = _milliseconds(check_ttl(ttl))
        # Everything is encoded before anything is sent: one bad value writes nothing.
        encoded = {
            self._keys.kv(check_key(k)): serialization.dumps(v, key=k) for k, v in items.items()
        }
        if not encoded:
            return
        # One command either way, so the batch is atomic: MSET, or a script for a TTL.
        if ttl_ms is None:
            await self._retrier.call(self._client.mset, encoded)
        else:
            values: list[Any] = [*encoded.values(), ttl_ms]
            await self._retrier.call(self._set_many_ttl, list(encoded), values)

    async def delete_many(self, keys: Sequence[str]) -> int:
        self._ensure_open()
        unique = list(dict.fromkeys(check_key(k) for k in keys))
        removed = 0
        for start in range(0, len(unique), _BATCH):
            chunk = [self._keys.kv(k) for k in unique[start : start + _BATCH]]
            removed += await self._retrier.call(self._client.delete, *chunk)
        return removed

    async def keys(self, prefix: str = "") -> list[str]:
        self._ensure_open()
        found = await self._retrier.call(
            self._scan, self._keys.kv_pattern(check_str("prefix", prefix, non_empty=False))
        )
        return sorted({self._keys.kv_key(k) for k in found})

    async def _scan(self, pattern: str) -> list[bytes]:
        return [key async for key in self._client.scan_iter(match=pattern, count=_SCAN_COUNT)]

    # --- CheckpointStore ------------------------------------------------------------------

    async def append_checkpoint(self, run_id: str, data: dict[str, Any]) -> int:
        self._ensure_open()
        member = _member_body(serialization.dumps(data, key=f"checkpoint:{check_key(run_id)}"))
        token = secrets.token_hex(12)
        keys = [self._keys.seq(run_id), self._keys.log(run_id), self._keys.token(run_id, token)]
        seq = await self._retrier.call(
            self._append, keys, [member, _TOKEN_TTL_MS], key=f"checkpoint:{run_id}"
        )
        return int(seq)

    async def get_checkpoint(self, run_id: str, seq: int | None = None) -> Checkpoint | None:
        self._ensure_open()
        log_key = self._keys.log(check_key(run_id))
        if seq is None:
            members = await self._retrier.call(self._client.zrange, log_key, -1, -1)
        else:
            check_int("seq", seq)
            members = await self._retrier.call(self._client.zrangebyscore, log_key, seq, seq)
        return _checkpoint(run_id, members[0]) if members else None

    async def list_checkpoints(
        self, run_id: str, *, after_seq: int | None = None, limit: int | None = None
    ) -> list[Checkpoint]:
        self._ensure_open()
        low = "-inf" if after_seq is None else f"({check_int('after_seq', after_seq)}"
        check_int("limit", limit, minimum=0, allow_none=True)
        if limit == 0:
            return []
        window = (0, limit) if limit is not None else (None, None)
        members = await self._retrier.call(
            self._client.zrangebyscore, self._keys.log(check_key(run_id)), low, "+inf", *window
        )
        return [_checkpoint(run_id, member) for member in members]

    async def compact_checkpoints(
        self, run_id: str, through_seq: int, data: dict[str, Any] | None = None
    ) -> int:
        self._ensure_open()
        check_int("through_seq", through_seq)
        key = f"checkpoint:{check_key(run_id)}"
        body = _member_body(serialization.dumps(data, key=key)) if data is not None else ""
        removed = await self._retrier.call(
            self._compact,
            [self._keys.seq(run_id), self._keys.log(run_id)],
            [through_seq, "1" if data is not None else "0", body],
            key=key,
        )
        return int(removed)

    async def delete_checkpoints(self, run_id: str) -> int:
        self._ensure_open()
        keys = [self._keys.seq(check_key(run_id)), self._keys.log(run_id)]
        return int(await self._retrier.call(self._delete_run, keys, key=f"checkpoint:{run_id}"))

    async def list_runs(self, prefix: str = "") -> list[str]:
        self._ensure_open()
        found = await self._retrier.call(
            self._scan, self._keys.log_pattern(check_str("prefix", prefix, non_empty=False))
        )
        return sorted({self._keys.run_id(k) for k in found})

    # --- locks ------------------------------------------------------------------------------

    def lock(
        self,
        name: str,
        *,
        timeout: float = 30.0,
        blocking_timeout: float | None = None,
        renew: bool = False,
    ) -> RedisLock:
        """A distributed lock named ``name`` (``async with store.lock("run:42", timeout=30):``).

        ``timeout``: seconds until the lock expires by itself if its holder dies.
        ``blocking_timeout``: seconds to wait for a held lock (None waits for as
        long as it takes, 0 fails at once) before raising ``LockError``.
        ``renew``: keep extending the lock while the block runs, so a long job
        keeps it but a crashed worker's lock still expires.
        """
        self._ensure_open()
        return RedisLock(
            self,
            self._keys.lock(check_key(name)),
            name=name,
            timeout=timeout,
            blocking_timeout=blocking_timeout,
            renew=renew,
        )


def _member_body(text: str) -> str:
    return f"{time.time()!r}|{text}"


def _checkpoint(run_id: str, member: Any) -> Checkpoint:
    try:
        seq_text, created_text, body = member.split(b"|", 2)
        seq, created_at = int(seq_text), float(created_text)
    except (AttributeError, ValueError) as exc:
        raise CorruptDataError(
            f"checkpoint entry of run {run_id!r} is not in Gecko's format: {member[:80]!r}",
            hint="another program wrote to Gecko's key space; use a different prefix=",
            key=f"checkpoint:{run_id}",
        ) from exc
    data = serialization.loads(body, key=f"checkpoint:{run_id}:{seq}")
    return Checkpoint(run_id=run_id, seq=seq, data=data, created_at=created_at)


def _milliseconds(ttl: float | None) -> int | None:
    return None if ttl is None else max(1, round(ttl * 1000))


def _warn_unclosed(url: str) -> None:
    warnings.warn(
        f"unclosed RedisStore for {url}; use 'async with' or await store.close()",
        ResourceWarning,
        stacklevel=1,
    )
