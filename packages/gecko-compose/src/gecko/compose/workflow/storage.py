"""The store a workflow's runs live in: a CheckpointStore given, or one opened from a URL.

A URL (``sqlite:///runs.db``, ``redis://...``) is opened on first use, once, and
closed by ``close``; a store passed in is the application's to close.
"""

from __future__ import annotations

from typing import Any

import anyio

from gecko.compose.errors import RunNotFoundError
from gecko.compose.workflow.lease import supports_leases
from gecko.core.errors import ConfigurationError
from gecko.core.protocols import CheckpointStore


class RunStorage:
    """Opens and holds a workflow's CheckpointStore (``Workflow(storage=...)``)."""

    __slots__ = ("_lock", "_owned", "_store", "url")

    def __init__(self, storage: CheckpointStore | str | None) -> None:
        if storage is not None and not isinstance(storage, str):
            check_store(storage)
        self.url = storage if isinstance(storage, str) else None
        self._store: CheckpointStore | None = None if isinstance(storage, str) else storage
        self._owned = False
        self._lock = anyio.Lock()

    async def open(self) -> CheckpointStore | None:
        """The store (opened from the URL the first time), or None without storage."""
        if self._store is not None or self.url is None:
            return self._store
        async with self._lock:
            if self._store is None:
                from gecko.core.factories import create_storage

                store = await create_storage(self.url, kind="kv")
                try:
                    check_store(store, f"the store opened from {self.url.split('://', 1)[0]}://")
                except ConfigurationError:
                    close = getattr(store, "close", None)
                    if close is not None:
                        await close()
                    raise
                self._store, self._owned = store, True
        return self._store

    async def require(self, workflow: str, what: str) -> CheckpointStore:
        """The store, or RunNotFoundError saying the workflow has none to ``what``."""
        store = await self.open()
        if store is None:
            raise RunNotFoundError(
                f"workflow {workflow!r} has no storage, so it has no runs to {what}",
                hint="create it with Workflow(..., storage='sqlite:///runs.db') (or another store)",
            )
        return store

    async def close(self) -> None:
        """Close the store opened from a URL (a store passed in is left open)."""
        if self._owned and self._store is not None:
            store, self._store = self._store, None
            self._owned = False
            close = getattr(store, "close", None)
            if close is not None:
                await close()


def check_store(store: Any, what: str | None = None) -> None:
    """Refuse what is no CheckpointStore, naming the lease methods an older store lacks."""
    if isinstance(store, CheckpointStore):
        return
    subject = what or f"storage ({type(store).__name__})"
    if callable(getattr(store, "append_checkpoint", None)) and not supports_leases(store):
        raise ConfigurationError(
            f"{subject} stores checkpoints but implements no run leases "
            "(acquire_lease, renew_lease, release_lease, get_lease)",
            hint="implement them (see gecko.core.protocols.CheckpointStore) and prove them with "
            "gecko.core.testing.CheckpointStoreConformance, or upgrade the store's package",
        )
    raise ConfigurationError(
        f"{subject} is not a CheckpointStore or a storage URL",
        hint="e.g. storage='sqlite:///runs.db' or storage=await create_storage('memory://')",
    )
