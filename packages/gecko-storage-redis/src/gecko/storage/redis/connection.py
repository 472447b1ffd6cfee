"""The Redis client, and the one retry policy every operation goes through.

redis-py's own retries are turned off: Gecko retries whole operations (a
pipeline, a script call) with exponential backoff and jitter while the server
is unreachable, for at most ``reconnect_timeout`` seconds, then raises a
``StorageConnectionError`` naming the server. Pooled connections left stale
by a server restart are detected and replaced when they are checked out.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

import redis.asyncio as aioredis
import redis.exceptions as rex
from gecko.core.errors import (
    CorruptDataError,
    GeckoError,
    SerializationError,
    StorageConnectionError,
    StorageError,
)
from gecko.storage.redis.config import RedisConfig
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

log = logging.getLogger(__name__)

T = TypeVar("T")

_AUTH_ERRORS: tuple[type[BaseException], ...] = tuple(
    error
    for error in (
        getattr(rex, "AuthenticationError", None),
        getattr(rex, "AuthorizationError", None),
    )
    if error is not None
)  # AuthorizationError is newer than redis 5.0
_FIRST_DELAY = 0.05
_MAX_DELAY = 1.0


def make_client(config: RedisConfig) -> aioredis.Redis:
    """A client whose pool holds up to ``max_connections`` connections.

    ``Retrier`` lets at most that many operations run at once, so the pool is never
    exhausted (a semaphore costs less per command than redis-py's blocking pool).
    """
    kwargs: dict[str, Any] = {
        "db": config.db,
        "username": config.username,
        "password": config.password.get_secret_value() if config.password else None,
        "socket_timeout": config.socket_timeout,
        "socket_connect_timeout": config.connect_timeout,
        "retry": Retry(NoBackoff(), 0),
        "client_name": config.client_name,
    }
    if config.path is not None:
        connection_class: type[aioredis.connection.AbstractConnection] = (
            aioredis.UnixDomainSocketConnection
        )
        kwargs["path"] = config.path
    else:
        kwargs.update(host=config.host, port=config.port, socket_keepalive=True)
        connection_class = aioredis.Connection
        if config.tls:
            connection_class = aioredis.SSLConnection
            kwargs.update(
                ssl_cert_reqs=config.ssl_cert_reqs,
                ssl_check_hostname=config.ssl_check_hostname,
                ssl_ca_certs=config.ssl_ca_certs,
                ssl_certfile=config.ssl_certfile,
                ssl_keyfile=config.ssl_keyfile,
            )
    pool = aioredis.ConnectionPool(
        max_connections=config.max_connections, connection_class=connection_class, **kwargs
    )
    return aioredis.Redis.from_pool(pool)


class Retrier:
    """Runs operations against one server, reconnecting with backoff and translating errors."""

    __slots__ = ("_address", "_config", "_slots")

    def __init__(self, config: RedisConfig) -> None:
        self._config = config
        self._address = config.address
        # Each operation holds at most one pooled connection at a time (a pipeline,
        # a script, the successive SCAN calls), so this bounds the pool exactly.
        self._slots = asyncio.Semaphore(config.max_connections)

    async def call(
        self,
        operation: Callable[..., Awaitable[T]],
        *args: Any,
        budget: float | None = None,
        key: str | None = None,
    ) -> T:
        """``await operation(*args)``, retried while the server is unreachable.

        ``budget`` bounds the retrying (default ``reconnect_timeout``). A command
        that timed out after it was sent is retried too: every Gecko operation is
        idempotent (appends carry a token, see ``scripts``).
        """
        deadline = 0.0
        delay = _FIRST_DELAY
        attempts = 0
        while True:
            try:
                async with self._slots:
                    return await operation(*args)
            except _AUTH_ERRORS as exc:
                raise self._auth_error(exc) from exc
            except (rex.ConnectionError, rex.TimeoutError, OSError) as exc:
                attempts += 1
                now = time.monotonic()
                if not deadline:
                    deadline = now + (
                        budget if budget is not None else self._config.reconnect_timeout
                    )
                    log.warning("Redis at %s unreachable (%s); reconnecting", self._address, exc)
                if now + delay > deadline:
                    raise self._unreachable(exc, attempts) from exc
                await anyio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, _MAX_DELAY)
            except UnicodeEncodeError as exc:
                raise SerializationError(
                    f"a key or value holds text that is not valid Unicode: {exc.reason}",
                    hint="remove lone surrogate characters (e.g. from bytes decoded with surrogateescape)",
                    key=key,
                ) from exc
            except rex.RedisError as exc:
                raise self.translate(exc, key=key) from exc

    def translate(self, exc: BaseException, *, key: str | None = None) -> BaseException:
        if isinstance(exc, GeckoError):
            return exc
        message = str(exc)
        if isinstance(exc, rex.ResponseError) and "WRONGTYPE" in message:  # scripts prefix it
            return CorruptDataError(
                f"Redis key for {key!r} holds a value of another type, not a Gecko document",
                hint="another program wrote to Gecko's key space; use a different prefix= "
                "or delete that key",
                key=key,
            )
        return StorageError(
            f"Redis at {self._address} failed: {message}", hint=_hint(message), key=key
        )

    def _unreachable(self, exc: BaseException, attempts: int) -> StorageConnectionError:
        config = self._config
        return StorageConnectionError(
            f"cannot reach Redis at {self._address} ({type(exc).__name__}: {exc}; "
            f"{attempts} attempt(s))",
            hint="check that the server is running and the URL is right "
            f"({config.url}); tune connect_timeout=, socket_timeout= and reconnect_timeout=",
            host=config.host,
            port=config.port if config.path is None else None,
            path=config.path,
        )

    def _auth_error(self, exc: BaseException) -> StorageConnectionError:
        return StorageConnectionError(
            f"Redis at {self._address} rejected the credentials: {exc}",
            hint="check the user and password in the URL (redis://user:password@host:6379/0)",
            host=self._config.host,
            port=self._config.port,
        )


def _hint(message: str) -> str | None:
    if message.startswith("NOAUTH"):
        return "the server needs a password: redis://:password@host:6379/0"
    if message.startswith("OOM"):
        return "the Redis server is out of memory (maxmemory); free memory or raise the limit"
    if message.startswith("READONLY"):
        return "the URL points at a read-only replica; use the primary"
    return None
