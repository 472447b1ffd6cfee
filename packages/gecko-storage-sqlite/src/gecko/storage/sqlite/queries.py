"""The SQL behind the store: plain parameterised statements on a raw sqlite3 connection.

Each function runs in a worker thread (``worker.Worker``); write functions run
inside the transaction the worker opened. Values arrive already encoded as JSON
text and leave as raw bytes: encoding and decoding happen in the caller, so a
decoding error names the key and never disturbs other keys.

Documents are read back with ``CAST(... AS BLOB)`` so a value whose bytes are not
valid UTF-8 (written by another program) reaches the decoder instead of failing
inside sqlite3 without naming its key.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence

from gecko.storage.sqlite.worker import single_statement

# The tables and columns are defined in schema.py (sqlmodel); these statements use them.
_UPSERT_KV = (
    'INSERT INTO gecko_kv ("key", value, expires_at) VALUES (?, ?, ?) '
    'ON CONFLICT ("key") DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at'
)
_GET_KV = 'SELECT CAST(value AS BLOB), expires_at FROM gecko_kv WHERE "key" = ?'
_CHUNK = 500  # bound variables per statement stay well under SQLite's limit (999 before 3.32)

Row = tuple[bytes, float | None]


def _chunks(keys: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _live(expires_at: float | None, now: float) -> bool:
    return expires_at is None or expires_at > now


def prefix_range(prefix: str) -> tuple[str, str | None]:
    """``[low, high)`` such that ``low <= key < high`` exactly when ``key`` starts with ``prefix``.

    SQLite compares TEXT as UTF-8 bytes, which orders like code points, so the
    bound is the prefix with its last character incremented (range scans use the
    primary-key index; LIKE would be case-insensitive and need wildcard escaping).
    """
    chars = list(prefix)
    while chars:
        code = ord(chars[-1]) + 1
        if 0xD800 <= code <= 0xDFFF:  # surrogates cannot be stored; skip past them
            code = 0xE000
        if code <= 0x10FFFF:
            chars[-1] = chr(code)
            return prefix, "".join(chars)
        chars.pop()
    return prefix, None


def _range_clause(column: str, prefix: str) -> tuple[str, list[str]]:
    if not prefix:
        return "1", []
    low, high = prefix_range(prefix)
    if high is None:
        return f"{column} >= ?", [low]
    return f"{column} >= ? AND {column} < ?", [low, high]


# --- sessions -----------------------------------------------------------------------


def get_value(conn: sqlite3.Connection, key: str) -> bytes | None:
    row = conn.execute(_GET_KV, (key,)).fetchone()
    if row is None or not _live(row[1], time.time()):
        return None
    return row[0]  # type: ignore[no-any-return]


def get_values(conn: sqlite3.Connection, keys: Sequence[str]) -> list[tuple[str, bytes]]:
    """Live ``(key, raw)`` pairs for ``keys``, read in one snapshot."""
    now = time.time()
    found: list[tuple[str, bytes]] = []
    conn.execute("BEGIN")  # on failure the worker rolls back
    for chunk in _chunks(keys):
        rows = conn.execute(
            f'SELECT "key", CAST(value AS BLOB), expires_at FROM gecko_kv '  # noqa: S608 - placeholders only
            f'WHERE "key" IN ({_marks(len(chunk))})',
            chunk,
        )
        found.extend((key, raw) for key, raw, expires in rows if _live(expires, now))
    conn.execute("COMMIT")
    return found


@single_statement
def set_value(conn: sqlite3.Connection, key: str, text: str, ttl: float | None) -> None:
    expires = time.time() + ttl if ttl is not None else None
    conn.execute(_UPSERT_KV, (key, text, expires))


def set_values(
    conn: sqlite3.Connection, items: Sequence[tuple[str, str]], ttl: float | None
) -> None:
    expires = time.time() + ttl if ttl is not None else None
    conn.executemany(_UPSERT_KV, [(key, text, expires) for key, text in items])


def delete_values(conn: sqlite3.Connection, keys: Sequence[str]) -> int:
    """Delete ``keys``; return how many of them held a live (unexpired) value."""
    now = time.time()
    live = 0
    for chunk in _chunks(keys):
        marks = _marks(len(chunk))
        rows = conn.execute(
            f'SELECT expires_at FROM gecko_kv WHERE "key" IN ({marks})',  # noqa: S608 - placeholders only
            chunk,
        ).fetchall()
        live += sum(1 for (expires,) in rows if _live(expires, now))
        if rows:
            conn.execute(f'DELETE FROM gecko_kv WHERE "key" IN ({marks})', chunk)  # noqa: S608
    return live


def list_keys(conn: sqlite3.Connection, prefix: str) -> list[str]:
    where, params = _range_clause('"key"', prefix)
    rows = conn.execute(
        f'SELECT "key" FROM gecko_kv WHERE {where} '  # noqa: S608 - fixed column, placeholders
        'AND (expires_at IS NULL OR expires_at > ?) ORDER BY "key"',
        [*params, time.time()],
    )
    return [key for (key,) in rows]


@single_statement
def sweep_expired(conn: sqlite3.Connection) -> int:
    """Delete every expired document; return how many were removed."""
    cursor = conn.execute("DELETE FROM gecko_kv WHERE expires_at <= ?", (time.time(),))
    return cursor.rowcount


# --- checkpoints ----------------------------------------------------------------------


def append_checkpoint(conn: sqlite3.Connection, run_id: str, text: str) -> int:
    """Assign the run's next seq and store the checkpoint, in the caller's transaction."""
    conn.execute(
        "INSERT INTO gecko_runs (run_id, last_seq) VALUES (?, 1) "
        "ON CONFLICT (run_id) DO UPDATE SET last_seq = last_seq + 1",
        (run_id,),
    )
    (seq,) = conn.execute("SELECT last_seq FROM gecko_runs WHERE run_id = ?", (run_id,)).fetchone()
    conn.execute(
        "INSERT INTO gecko_checkpoints (run_id, seq, data, created_at) VALUES (?, ?, ?, ?)",
        (run_id, seq, text, time.time()),
    )
    return int(seq)


CheckpointRow = tuple[int, bytes, float]


def get_checkpoint(conn: sqlite3.Connection, run_id: str, seq: int | None) -> CheckpointRow | None:
    if seq is None:
        row = conn.execute(
            "SELECT seq, CAST(data AS BLOB), created_at FROM gecko_checkpoints "
            "WHERE run_id = ? ORDER BY seq DESC LIMIT 1",
            (run_id,),
        ).fetchone()
    else:
        row = conn.execute(
            "SELECT seq, CAST(data AS BLOB), created_at FROM gecko_checkpoints "
            "WHERE run_id = ? AND seq = ?",
            (run_id, seq),
        ).fetchone()
    return row  # type: ignore[no-any-return]


def list_checkpoints(
    conn: sqlite3.Connection, run_id: str, after_seq: int | None, limit: int | None
) -> list[CheckpointRow]:
    rows = conn.execute(
        "SELECT seq, CAST(data AS BLOB), created_at FROM gecko_checkpoints "
        "WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        (
            run_id,
            after_seq if after_seq is not None else -(2**63),
            limit if limit is not None else -1,
        ),
    )
    return rows.fetchall()


def compact_checkpoints(
    conn: sqlite3.Connection, run_id: str, through_seq: int, text: str | None
) -> int:
    removed = conn.execute(
        "DELETE FROM gecko_checkpoints WHERE run_id = ? AND seq <= ?", (run_id, through_seq)
    ).rowcount
    if text is not None:
        conn.execute(
            "INSERT INTO gecko_checkpoints (run_id, seq, data, created_at) VALUES (?, ?, ?, ?)",
            (run_id, through_seq, text, time.time()),
        )
        # Later appends must come after the snapshot, even if it was placed beyond the last seq.
        conn.execute(
            "INSERT INTO gecko_runs (run_id, last_seq) VALUES (?, ?) "
            "ON CONFLICT (run_id) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)",
            (run_id, through_seq),
        )
    return int(removed)


def delete_checkpoints(conn: sqlite3.Connection, run_id: str) -> int:
    removed = conn.execute("DELETE FROM gecko_checkpoints WHERE run_id = ?", (run_id,)).rowcount
    conn.execute("DELETE FROM gecko_runs WHERE run_id = ?", (run_id,))
    return int(removed)


def list_runs(conn: sqlite3.Connection, prefix: str) -> list[str]:
    where, params = _range_clause("r.run_id", prefix)
    rows = conn.execute(
        f"SELECT r.run_id FROM gecko_runs AS r WHERE {where} AND EXISTS "  # noqa: S608 - placeholders
        "(SELECT 1 FROM gecko_checkpoints AS c WHERE c.run_id = r.run_id) ORDER BY r.run_id",
        params,
    )
    return [run_id for (run_id,) in rows]
