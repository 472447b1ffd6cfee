"""A distributed lock on one Redis server: ``SET NX PX`` to take it, a token-checked script to release it.

The lock expires by itself ``timeout`` seconds after it was taken (or last
extended), so a crashed holder never blocks others forever; release deletes it
only if it still holds this holder's random token, so a holder whose lock
expired can never release someone else's. With ``renew=True`` a background task
extends the lock every ``timeout / 3`` seconds while the block runs.

This is a single-server lock (not Redlock): it is as available as the Redis
server it lives on.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from types import TracebackType
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskGroup
from typing_extensions import Self

from gecko.core.errors import LockError
from gecko.core.validation import check_number

if TYPE_CHECKING:
    from gecko.storage.redis.store import RedisStore

log = logging.getLogger(__name__)

_FIRST_POLL = 0.01
_MAX_POLL = 0.25


class RedisLock:
    """``async with store.lock(name, timeout=30):`` — see ``RedisStore.lock``."""

    def __init__(
        self,
        store: RedisStore,
        redis_key: str,
        *,
        name: str,
        timeout: float,
        blocking_timeout: float | None,
        renew: bool,
    ) -> None:
        self.name = name
        self.timeout = check_number("lock timeout", timeout, above=0, unit="seconds")
        self.blocking_timeout = check_number(
            "blocking_timeout",
            blocking_timeout,
            minimum=0,
            unit="seconds",
            allow_none=True,
            hint="None waits for as long as it takes, 0 fails at once",
        )
        self.renew = renew
        self._store = store
        self._key = redis_key
        self._token: str | None = None
        self._lost = False
        self._renewer: TaskGroup | None = None

    def __repr__(self) -> str:
        return f"<RedisLock {self.name!r} held={self._token is not None}>"

    @property
    def held(self) -> bool:
        """Whether this object believes it holds the lock (see ``owned()`` to ask the server)."""
        return self._token is not None

    async def acquire(self) -> None:
        """Take the lock, waiting up to ``blocking_timeout``; LockError if it stays taken."""
        if self._token is not None:
            raise LockError(f"lock {self.name!r} is already held by this object", lock=self.name)
        self._store._ensure_open()
        token = secrets.token_hex(16)
        ttl_ms = max(1, round(self.timeout * 1000))
        retrier = self._store._retrier
        started = time.monotonic()
        delay = _FIRST_POLL
        while True:
            taken = await retrier.call(self._store._acquire, [self._key], [token, ttl_ms])
            if taken:
                self._token = token
                self._lost = False
                return
            waited = time.monotonic() - started
            if self.blocking_timeout is not None and waited + delay > self.blocking_timeout:
                raise LockError(
                    f"lock {self.name!r} is held by someone else (waited {waited:.2f} s)",
                    hint="raise blocking_timeout=, or let the other holder finish; a holder that "
                    f"died releases it after timeout={self.timeout:g} s",
                    lock=self.name,
                )
            await anyio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, _MAX_POLL)

    async def release(self) -> None:
        """Release the lock; LockError if it expired and was lost meanwhile."""
        token = self._token
        if token is None:
            raise LockError(f"lock {self.name!r} is not held", lock=self.name)
        self._token = None
        released = await self._store._retrier.call(self._store._release, [self._key], [token])
        if not released or self._lost:
            raise LockError(
                f"lock {self.name!r} expired before it was released; another holder may have "
                "run at the same time",
                hint=f"choose a timeout longer than the work (now {self.timeout:g} s), "
                "call extend(), or use renew=True",
                lock=self.name,
            )

    async def extend(self, timeout: float | None = None) -> None:
        """Reset the expiry to ``timeout`` (default: the lock's timeout) seconds from now."""
        token = self._token
        if token is None:
            raise LockError(f"lock {self.name!r} is not held", lock=self.name)
        seconds = (
            check_number("lock timeout", timeout, above=0, unit="seconds")
            if timeout is not None
            else self.timeout
        )
        ttl_ms = max(1, round(seconds * 1000))
        extended = await self._store._retrier.call(
            self._store._extend, [self._key], [token, ttl_ms]
        )
        if not extended:
            self._lost = True
            raise LockError(f"lock {self.name!r} was lost (it expired)", lock=self.name)

    async def owned(self) -> bool:
        """Ask the server whether the lock still holds this holder's token."""
        if self._token is None:
            return False
        current = await self._store._retrier.call(self._store.client.get, self._key)
        return current is not None and current.decode() == self._token

    async def locked(self) -> bool:
        """Whether anyone holds the lock right now."""
        return bool(await self._store._retrier.call(self._store.client.exists, self._key))

    async def _renew_forever(self) -> None:
        interval = self.timeout / 3
        while True:
            await anyio.sleep(interval)
            try:
                await self.extend()
            except LockError:
                log.error("lock %r was lost while held; stopped renewing it", self.name)
                return
            except Exception as exc:  # keep trying: the lock lives until timeout anyway
                log.warning("renewing lock %r failed: %s", self.name, exc)

    async def __aenter__(self) -> Self:
        await self.acquire()
        if self.renew:
            self._renewer = anyio.create_task_group()
            await self._renewer.__aenter__()
            self._renewer.start_soon(self._renew_forever)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._renewer is not None:
            renewer, self._renewer = self._renewer, None
            renewer.cancel_scope.cancel()
            await renewer.__aexit__(None, None, None)
        try:
            await self.release()
        except LockError:
            if exc is None:
                raise
            # The block's own error is the one to see; the lost lock is logged.
            log.error("lock %r expired before it was released", self.name)
