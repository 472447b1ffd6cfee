"""The connection pool, and the one retry policy every operation goes through.

An operation runs on a pooled connection. When the connection breaks (the server
restarted, the network dropped) the whole operation is retried on a fresh one with
exponential backoff and jitter, for at most ``reconnect_timeout`` seconds; then a
``StorageConnectionError`` names the server. Every operation is one statement or
one transaction, so an interrupted one either committed before it was acknowledged
or left nothing behind. The one ambiguous case is a commit whose acknowledgement was
lost in flight: a retried ``append_checkpoint`` or ``append_events`` may then store its
data twice (under new seqs); sessions and leases are idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
import psycopg.errors
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from gecko.core.errors import GeckoError, StorageConnectionError, StorageError
from gecko.storage.postgres.config import PostgresConfig

log = logging.getLogger(__name__)

T = TypeVar("T")
Conn = psycopg.AsyncConnection[Any]

_FIRST_DELAY = 0.05
_MAX_DELAY = 1.0
_AUTH_CODES = ("28P01", "28000")  # invalid_password, invalid_authorization_specification


def connect_kwargs(config: PostgresConfig) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"autocommit": True}
    if config.password is not None:
        kwargs["password"] = config.password.get_secret_value()
    return kwargs


async def connect(config: PostgresConfig) -> Conn:
    """One connection, with a clear error for a wrong password or an unreachable server."""
    try:
        return await psycopg.AsyncConnection.connect(config.conninfo, **connect_kwargs(config))
    except psycopg.Error as exc:
        raise connection_error(config, exc) from None


def connection_error(config: PostgresConfig, exc: BaseException) -> StorageError:
    """``exc`` as a StorageConnectionError naming the server, the password redacted."""
    text = redact(config, str(exc).strip() or type(exc).__name__)
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate in _AUTH_CODES or "password authentication failed" in text:
        return StorageConnectionError(
            f"Postgres at {config.where} refused the credentials: {text}",
            hint="check the user and password in the URL (postgresql://user:password@host/db)",
            where=config.where,
        )
    return StorageConnectionError(
        f"cannot reach Postgres at {config.where}: {text}",
        hint="check that the server is running and the host, port and sslmode in the URL",
        where=config.where,
    )


def redact(config: PostgresConfig, text: str) -> str:
    if config.password is not None:
        secret = config.password.get_secret_value()
        if secret:
            text = text.replace(secret, "***")
    return text


def make_pool(config: PostgresConfig, configure: Callable[[Conn], Awaitable[None]]) -> Any:
    return AsyncConnectionPool(
        config.conninfo,
        kwargs=connect_kwargs(config),
        min_size=config.min_pool_size,
        max_size=config.pool_size,
        open=False,
        configure=configure,
        reconnect_timeout=max(config.reconnect_timeout, 1.0),
        name=f"gecko-postgres {config.where}",
    )


def _transient(exc: BaseException) -> bool:
    """A broken connection or a server going away: worth retrying on a fresh connection."""
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable)):
        return False
    if isinstance(exc, psycopg.OperationalError):
        return True
    return isinstance(exc, psycopg.InterfaceError)


class Retrier:
    """Runs operations on the pool, reconnecting with backoff and translating errors."""

    __slots__ = ("_config", "_pool")

    def __init__(self, config: PostgresConfig, pool: Any) -> None:
        self._config = config
        self._pool = pool

    async def run(self, operation: Callable[[Conn], Awaitable[T]]) -> T:
        deadline = time.monotonic() + self._config.reconnect_timeout
        delay = _FIRST_DELAY
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            try:
                # getconn/putconn rather than pool.connection(): the context manager also
                # runs the connection's own __aexit__ (a commit check), ~15% of a fast query.
                conn = await self._pool.getconn(timeout=max(remaining, 0.05))
                try:
                    return await operation(conn)
                finally:
                    await self._pool.putconn(conn)  # a broken connection is discarded
            except GeckoError:
                raise
            except psycopg.Error as exc:
                if not _transient(exc):
                    raise StorageError(
                        f"Postgres at {self._config.where} failed: {redact(self._config, str(exc))}",
                        where=self._config.where,
                        sqlstate=exc.sqlstate,
                    ) from None
                error: BaseException = exc
            except PoolTimeout as exc:
                error = exc
            if time.monotonic() + delay > deadline:
                failure = connection_error(self._config, error)
                failure.context["attempts"] = attempt
                raise failure from None
            if attempt == 1:
                await self._drop_broken()
            log.warning(
                "postgres at %s unavailable (%s); retrying in %.2fs",
                self._config.where,
                type(error).__name__,
                delay,
            )
            await asyncio.sleep(delay * (0.5 + random.random() / 2))
            delay = min(delay * 2, _MAX_DELAY)

    async def _drop_broken(self) -> None:
        """After a restart every idle connection is dead: let the pool replace them at once."""
        try:
            await self._pool.check()
        except Exception:  # checking is best effort; the retry loop handles what remains
            log.debug("pool check failed", exc_info=True)
