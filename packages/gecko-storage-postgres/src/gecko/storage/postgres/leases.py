"""Run leases on Postgres: one row per leased run in ``gecko_leases``.

Taking a lease is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` statement: the
row is written only if it is absent, expired or already the caller's, and Postgres
locks the conflicting row, so of many processes exactly one gets it. Expiry is the
server's clock, which every client shares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gecko.core.protocols import Lease
from gecko.core.storage.base import check_key
from gecko.core.validation import check_number, check_str

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from gecko.storage.postgres.queries import Queries


class PostgresLeases:
    """The lease half of ``CheckpointStore`` for ``PostgresStore``."""

    _q: Queries

    if TYPE_CHECKING:

        def _ensure_open(self) -> None: ...  # provided by BaseStore

        async def _run(
            self, query: str, params: Sequence[Any] | Mapping[str, Any] = (), *, rows: bool = True
        ) -> list[tuple[Any, ...]]: ...  # provided by PostgresStore

    async def acquire_lease(self, run_id: str, holder: str, ttl: float) -> Lease:
        self._ensure_open()
        run_id, holder, ttl = _checked(run_id, holder, ttl)
        while True:
            rows = await self._run(self._q.lease_take, (run_id, holder, ttl))
            if not rows:  # someone else holds it: report who (unless it just went away)
                rows = await self._run(self._q.lease_held, (run_id,))
            if rows:
                held_by, expires_at = rows[0]
                return Lease(run_id=run_id, holder=str(held_by), expires_at=float(expires_at))

    async def renew_lease(self, run_id: str, holder: str, ttl: float) -> bool:
        self._ensure_open()
        run_id, holder, ttl = _checked(run_id, holder, ttl)

        async def operation(conn: Any) -> bool:
            cursor = await conn.execute(self._q.lease_renew, (ttl, run_id, holder))
            return bool(cursor.rowcount == 1)

        return bool(await self._retrier.run(operation))

    async def release_lease(self, run_id: str, holder: str) -> bool:
        self._ensure_open()
        rows = await self._run(self._q.lease_release, (check_key(run_id), holder))
        return bool(rows[0][0])

    async def get_lease(self, run_id: str) -> Lease | None:
        self._ensure_open()
        rows = await self._run(self._q.lease_get, (check_key(run_id),))
        if not rows:
            return None
        held_by, expires_at = rows[0]
        return Lease(run_id=run_id, holder=str(held_by), expires_at=float(expires_at))

    if TYPE_CHECKING:
        from gecko.storage.postgres.connection import Retrier

        _retrier: Retrier


def _checked(run_id: str, holder: str, ttl: float) -> tuple[str, str, float]:
    return (
        check_key(run_id),
        check_str("lease holder", holder, non_blank=True),
        check_number("lease ttl", ttl, above=0, unit="seconds"),
    )
