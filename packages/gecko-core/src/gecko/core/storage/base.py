"""Shared behaviour of stores: async context management, closed-state and argument checks."""

from __future__ import annotations

from types import TracebackType

from typing_extensions import Self

from gecko.core.errors import StorageError
from gecko.core.validation import check_number, check_str


class BaseStore:
    """Mixin giving a store ``async with`` support and a closed flag.

    Subclasses implement ``_close`` (release resources) and call ``_ensure_open``
    at the start of each operation.
    """

    supports_ttl: bool = True
    _closed: bool = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Release the store's resources. Closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        await self._close()

    async def _close(self) -> None:
        return None

    @property
    def closed(self) -> bool:
        return self._closed

    def _ensure_open(self) -> None:
        if self._closed:
            raise StorageError(f"{type(self).__name__} is closed", hint="open a new store")


def check_key(key: object) -> str:
    """Keys are non-empty strings."""
    return check_str("store key", key)


def check_ttl(ttl: float | None) -> float | None:
    """A TTL is a positive, finite number of seconds, or None for no expiry."""
    return check_number(
        "ttl", ttl, above=0, unit="seconds", allow_none=True, hint="None means no expiry"
    )
