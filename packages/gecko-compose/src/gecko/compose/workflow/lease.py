"""One owner per run: a lease in the run's store, renewed on a heartbeat while the run executes.

``claim_run`` takes the run's lease (``CheckpointStore.acquire_lease``) before a run
starts or resumes and holds it until the run's last checkpoint is written. A
second caller, in this process or another, gets ``RunInProgressError`` naming the
holder and when its lease expires, or waits for it (``wait=True``). While the run
goes on, a heartbeat renews the lease every ``ttl / 3`` seconds; an owner that dies
stops renewing, so its lease expires within ``ttl`` and another process takes over.
If the lease is lost anyway (the store was unreachable for longer than ``ttl``), the
run is cancelled and ``LeaseLostError`` raised: two owners never run on together.
Without a store there is nothing to share, and a run is exclusive within the process.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from types import TracebackType
from typing import Any

import anyio
import anyio.abc

from gecko.compose.errors import LeaseLostError, RunInProgressError
from gecko.core.protocols import CheckpointStore, Lease

logger = logging.getLogger(__name__)

DEFAULT_TTL = 10.0
"""Seconds a run's lease lasts without renewal (``Workflow(lease_ttl=...)``)."""

_PROCESS = f"{socket.gethostname()}:{os.getpid()}"
_FIRST_POLL = 0.01


def new_holder() -> str:
    """A fresh owner id: ``host:pid:random`` (unique per claim, readable in errors)."""
    return f"{_PROCESS}:{uuid.uuid4().hex[:8]}"


class RunClaim:
    """``async with RunClaim(...)``: own the run for the block (see the module docstring)."""

    def __init__(
        self,
        active: set[str],
        run_id: str,
        store: CheckpointStore | None,
        *,
        ttl: float = DEFAULT_TTL,
        wait: bool = False,
    ) -> None:
        self.active = active
        self.run_id = run_id
        self.store = store
        self.ttl = ttl
        self.wait = wait
        self.holder = new_holder()
        self.lost = False
        self._expires = 0.0  # monotonic time the lease runs out unless renewed
        self._group: anyio.abc.TaskGroup | None = None
        self._local = False

    async def __aenter__(self) -> RunClaim:
        if self.store is None:
            await self._claim_locally()
        else:
            await self._acquire(self.store)
            self._group = anyio.create_task_group()
            await self._group.__aenter__()
            self._group.start_soon(self._heartbeat, self.store)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._local:
            self.active.discard(self.run_id)
            return
        assert self.store is not None and self._group is not None
        group, self._group = self._group, None
        group.cancel_scope.cancel()  # stops the heartbeat (and, if lost, cancelled the block)
        try:
            await group.__aexit__(None, None, None)  # the block's error is not wrapped in a group
        finally:
            with anyio.CancelScope(shield=True):  # let go even when the block was cancelled
                await self._release(self.store)
        if self.lost:
            raise LeaseLostError(
                f"run {self.run_id!r} lost its lease (not renewed within {self.ttl:g} s); "
                "it was stopped so that no other owner runs it at the same time",
                hint="check the store's availability, or raise Workflow(lease_ttl=...); "
                "resume() continues the run from its last checkpoint",
                run_id=self.run_id,
                holder=self.holder,
            ) from exc

    async def _release(self, store: CheckpointStore) -> None:
        try:
            await store.release_lease(self.run_id, self.holder)
        except Exception as error:  # the lease expires by itself; the run's outcome matters
            logger.warning(
                "run %r: could not release its lease (%s: %s); it expires within %g s",
                self.run_id,
                type(error).__name__,
                error,
                self.ttl,
            )

    async def _claim_locally(self) -> None:
        delay = _FIRST_POLL
        while self.run_id in self.active:
            if not self.wait:
                raise RunInProgressError(
                    f"run {self.run_id!r} is already executing in this process",
                    hint="pass wait=True to wait for it to finish",
                    run_id=self.run_id,
                    holder=_PROCESS,
                    expires_at=float("inf"),
                )
            await anyio.sleep(delay)
            delay = min(delay * 2, 0.25)
        self.active.add(self.run_id)
        self._local = True

    async def _acquire(self, store: CheckpointStore) -> None:
        delay = _FIRST_POLL
        while True:
            started = time.monotonic()
            lease = await store.acquire_lease(self.run_id, self.holder, self.ttl)
            if lease.holder == self.holder:
                self._expires = started + self.ttl
                return
            if not self.wait:
                raise in_progress(lease)
            left = max(0.0, lease.expires_at - time.time())
            await anyio.sleep(min(delay, left + _FIRST_POLL))
            delay = min(delay * 2, max(self.ttl / 10, 0.05), 1.0)

    async def _heartbeat(self, store: CheckpointStore) -> None:
        interval = self.ttl / 3
        while True:
            await anyio.sleep(interval)
            started = time.monotonic()
            try:
                renewed = await store.renew_lease(self.run_id, self.holder, self.ttl)
            except Exception as error:  # keep trying while the lease still runs
                logger.warning(
                    "run %r: renewing its lease failed (%s: %s)",
                    self.run_id,
                    type(error).__name__,
                    error,
                )
                renewed = time.monotonic() < self._expires
            else:
                if renewed:
                    self._expires = started + self.ttl
            if not renewed:
                logger.error("run %r lost its lease; stopping the run", self.run_id)
                self.lost = True
                assert self._group is not None
                self._group.cancel_scope.cancel()
                return


def in_progress(lease: Lease) -> RunInProgressError:
    """The error for a run whose lease ``lease.holder`` holds."""
    left = max(0.0, lease.expires_at - time.time())
    at = time.strftime("%H:%M:%S", time.localtime(lease.expires_at))
    where = ", in this process" if lease.holder.startswith(_PROCESS + ":") else ""
    return RunInProgressError(
        f"run {lease.run_id!r} is already executing: another worker holds its lease "
        f"({lease.holder}{where}), which expires in {left:.1f} s (at {at}) unless renewed",
        hint="pass wait=True to wait for it, or resume() later: a worker that died stops "
        "renewing its lease, and the run can be resumed as soon as the lease expires",
        run_id=lease.run_id,
        holder=lease.holder,
        expires_at=lease.expires_at,
    )


def supports_leases(store: Any) -> bool:
    return callable(getattr(store, "acquire_lease", None))
