"""PostgreSQL session and checkpoint store for Gecko (``postgresql://``).

``from gecko.storage.postgres import PostgresStore`` imports it (and psycopg) on
first use; importing this package alone stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PostgresStore"]


def __getattr__(name: str) -> Any:
    if name == "PostgresStore":
        from gecko.storage.postgres.store import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
