"""SQLite session and checkpoint store for Gecko (``sqlite://``).

``from gecko.storage.sqlite import SQLiteStore`` imports the store (and sqlmodel)
on first use; importing this package alone stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SQLiteStore"]


def __getattr__(name: str) -> Any:
    if name == "SQLiteStore":
        from gecko.storage.sqlite.store import SQLiteStore

        return SQLiteStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
