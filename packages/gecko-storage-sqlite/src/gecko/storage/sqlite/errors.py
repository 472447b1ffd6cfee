"""sqlite3 failures as Gecko's storage errors, each naming the database and saying what to do."""

from __future__ import annotations

import sqlite3

from gecko.core.errors import CorruptDataError, GeckoError, SerializationError, StorageError

_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED (extended codes are reduced with & 0xFF)


def translate(exc: BaseException, where: str, timeout: float) -> BaseException:
    """Map sqlite3 and encoding errors to Gecko's storage errors, naming the database."""
    if isinstance(exc, GeckoError) or not isinstance(exc, Exception):
        return exc
    if isinstance(exc, UnicodeEncodeError):
        error: GeckoError = SerializationError(
            f"a key or value for {where} holds text that is not valid Unicode: {exc.reason}",
            hint="remove lone surrogate characters (e.g. from bytes decoded with surrogateescape)",
        )
    elif is_busy(exc):
        error = StorageError(
            f"{where} stayed locked by another connection for more than {timeout:g} s",
            hint="another process holds a long write transaction; raise ?timeout=SECONDS "
            "in the URL or find the process holding the lock",
            timeout=timeout,
        )
    elif isinstance(exc, sqlite3.DatabaseError) and _is_corrupt(exc):
        error = CorruptDataError(
            f"{where} is not a valid SQLite database or is damaged: {exc}",
            hint="point the URL at a different file, or restore the file from a backup",
        )
    elif isinstance(exc, sqlite3.Error):
        error = StorageError(f"{where} failed: {exc}", hint=_hint(exc))
    else:
        return exc
    error.__cause__ = exc
    return error


def is_busy(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _BUSY_CODES
    message = str(exc).lower()  # Python 3.10 has no error codes on exceptions
    return "locked" in message or "busy" in message


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    message = str(exc).lower()
    return "not a database" in message or "malformed" in message or "corrupt" in message


def _hint(exc: sqlite3.Error) -> str | None:
    message = str(exc).lower()
    if "unable to open" in message:
        return "check that the directory exists and is writable, and the path is not a directory"
    if "readonly" in message or "read-only" in message:
        return "the file or its directory is read-only; SQLite also needs to create -wal/-shm files beside it"
    if "disk is full" in message or "disk i/o" in message:
        return "free disk space or check the file system"
    return None
