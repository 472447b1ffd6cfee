"""Requests to a run from outside its owner: cancel and suspend, through the run's store.

A request is a small document under ``gecko:run-control:<run id>`` in the store's
key-value side (every ``kv`` store is a SessionStore too). The owner of the run,
in whatever process, polls it while the run executes and honours it: cancel at
once, suspend at the next node boundary; then it deletes the request. A request
left by an owner that died is honoured by whoever resumes the run next.
"""

from __future__ import annotations

import time
from typing import Any

from gecko.compose.errors import ComposeError
from gecko.core.protocols import SessionStore

PREFIX = "gecko:run-control:"
ACTIONS = ("cancel", "suspend")
POLL_INTERVAL = 0.2
"""Seconds between two looks at a running run's requests."""


def key_of(run_id: str) -> str:
    return PREFIX + run_id


def can_carry(store: Any) -> bool:
    """Whether ``store`` can carry requests across processes (it is a SessionStore)."""
    return isinstance(store, SessionStore)


async def request(store: Any, run_id: str, action: str) -> None:
    """Leave ``action`` for the run's owner (a cancel is never replaced by a suspend)."""
    if not can_carry(store):
        raise ComposeError(
            f"the run store ({type(store).__name__}) has no key-value side to carry a "
            f"{action} request to the process running {run_id!r}",
            hint="use a store such as sqlite://, redis:// or postgresql:// for runs that are "
            "controlled from other processes",
            run_id=run_id,
        )
    current = await read(store, run_id)
    if current == "cancel":
        return
    await store.set(key_of(run_id), {"action": action, "requested_at": time.time()})


async def read(store: Any, run_id: str) -> str | None:
    """The pending request for the run, or None."""
    if not can_carry(store):
        return None
    value = await store.get(key_of(run_id))
    action = value.get("action") if isinstance(value, dict) else None
    return action if action in ACTIONS else None


async def clear(store: Any, run_id: str) -> None:
    if can_carry(store):
        await store.delete(key_of(run_id))
