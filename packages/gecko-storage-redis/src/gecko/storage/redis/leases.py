"""Run leases on Redis: a key per run holding its owner's id, expiring by itself (``PX``).

Taking, renewing and releasing are Lua scripts (atomic on the server): a lease is
taken only if it is free or already the caller's, and renewed or released only
by its holder. The expiry is the server's clock; ``Lease.expires_at`` is this
process's clock plus the time the server says is left.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from gecko.core.protocols import Lease
from gecko.core.storage.base import check_key
from gecko.core.validation import check_number, check_str

if TYPE_CHECKING:
    from gecko.storage.redis.connection import Retrier
    from gecko.storage.redis.keys import KeySpace


class RedisLeases:
    """The lease half of ``CheckpointStore`` for ``RedisStore`` (which provides the scripts)."""

    _retrier: Retrier
    _keys: KeySpace
    _acquire_lease: Any
    _get_lease: Any
    _extend: Any
    _release: Any

    if TYPE_CHECKING:

        def _ensure_open(self) -> None: ...  # provided by BaseStore

    async def acquire_lease(self, run_id: str, holder: str, ttl: float) -> Lease:
        self._ensure_open()
        key, holder, ttl_ms = self._checked(run_id, holder, ttl)
        held_by, left = await self._retrier.call(
            self._acquire_lease, [key], [holder, ttl_ms], key=f"lease:{run_id}"
        )
        return _lease(run_id, held_by, left)

    async def renew_lease(self, run_id: str, holder: str, ttl: float) -> bool:
        self._ensure_open()
        key, holder, ttl_ms = self._checked(run_id, holder, ttl)
        renewed = await self._retrier.call(
            self._extend, [key], [holder, ttl_ms], key=f"lease:{run_id}"
        )
        return bool(renewed)

    async def release_lease(self, run_id: str, holder: str) -> bool:
        self._ensure_open()
        key = self._keys.lease(check_key(run_id))
        released = await self._retrier.call(self._release, [key], [holder], key=f"lease:{run_id}")
        return bool(released)

    async def get_lease(self, run_id: str) -> Lease | None:
        self._ensure_open()
        key = self._keys.lease(check_key(run_id))
        found = await self._retrier.call(self._get_lease, [key], key=f"lease:{run_id}")
        if not found:
            return None
        return _lease(run_id, found[0], found[1])

    def _checked(self, run_id: str, holder: str, ttl: float) -> tuple[str, str, int]:
        check_str("lease holder", holder, non_blank=True)
        seconds = check_number("lease ttl", ttl, above=0, unit="seconds")
        return self._keys.lease(check_key(run_id)), holder, max(1, round(seconds * 1000))


def _lease(run_id: str, holder: Any, left_ms: Any) -> Lease:
    name = holder.decode() if isinstance(holder, bytes) else str(holder)
    return Lease(run_id=run_id, holder=name, expires_at=time.time() + max(0, int(left_ms)) / 1000)
