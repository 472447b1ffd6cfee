"""``sqlite://`` URLs and options, parsed and validated before anything is opened.

URLs follow SQLAlchemy's convention, plus the older Gecko form:

- ``sqlite:///relative/path.db`` and ``sqlite:////absolute/path.db``
- ``sqlite://`` or ``sqlite:///:memory:``: a private in-memory database
- ``sqlite://./path.db`` (older form: everything after ``//`` is the path)

Options come from the query string or from keyword arguments of ``create_storage``
(not both for the same option): ``timeout``, ``journal_mode``, ``synchronous``,
``sweep_interval``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from gecko.core.errors import ConfigurationError, InvalidURLError
from gecko.core.storage.url import parse_storage_url, redact_url, url_scheme

MEMORY = ":memory:"
JOURNAL_MODES = ("wal", "delete", "truncate", "persist")
SYNCHRONOUS_MODES = ("normal", "full", "extra")
OPTIONS = ("timeout", "journal_mode", "synchronous", "sweep_interval")


@dataclass(frozen=True)
class SQLiteConfig:
    """Where the database lives and how connections are set up."""

    path: str
    """Absolute file path, or ``":memory:"``."""
    timeout: float = 30.0
    """Seconds a write waits for another connection's lock before failing."""
    journal_mode: str = "wal"
    synchronous: str = "normal"
    """``normal`` survives a crashed process (what WAL needs); ``full`` also a power loss."""
    sweep_interval: float = 60.0
    """Seconds between sweeps that delete expired keys (reads never see them anyway)."""

    @property
    def memory(self) -> bool:
        return self.path == MEMORY

    @classmethod
    def from_url(cls, url: str, **options: Any) -> SQLiteConfig:
        if url_scheme(url) != "sqlite":
            raise InvalidURLError(
                f"not a sqlite URL: {redact_url(url)!r}",
                hint="use sqlite:///relative.db, sqlite:////absolute.db or sqlite:// (memory)",
                url=redact_url(url),
            )
        rest = url.split("://", 1)[1]
        location, _, _ = rest.partition("?")
        query = parse_storage_url(url).query
        clash = sorted(set(query) & set(options))
        if clash:
            raise ConfigurationError(
                f"sqlite option(s) {clash} given both in the URL and as arguments",
                hint="give each option once",
                options=clash,
            )
        merged: dict[str, Any] = {**query, **options}
        unknown = sorted(set(merged) - set(OPTIONS))
        if unknown:
            raise ConfigurationError(
                f"unknown sqlite option(s) {unknown}; known options: {list(OPTIONS)}",
                hint="e.g. sqlite:///app.db?timeout=10&journal_mode=wal",
                options=unknown,
            )
        path = _path(location, url)
        journal = _choice(merged, "journal_mode", JOURNAL_MODES, "wal")
        return cls(
            path=path,
            timeout=_seconds(merged, "timeout", 30.0, allow_zero=True),
            journal_mode=journal,
            synchronous=_choice(merged, "synchronous", SYNCHRONOUS_MODES, "normal"),
            sweep_interval=_seconds(merged, "sweep_interval", 60.0, allow_zero=False),
        )

    def describe(self) -> str:
        return "in-memory SQLite database" if self.memory else f"SQLite database {self.path}"


def _path(location: str, url: str) -> str:
    if location.startswith("/"):
        location = location[1:]  # sqlite:///rel -> "rel", sqlite:////abs -> "/abs"
    elif location:
        # Older form sqlite://./path.db: there is no host part in a sqlite URL.
        netloc = location.split("/", 1)[0]
        if "@" in netloc or ":" in netloc:
            raise InvalidURLError(
                f"malformed sqlite URL {redact_url(url)!r}: a sqlite URL has no host, user or port",
                hint="use sqlite:///relative/path.db or sqlite:////absolute/path.db",
                url=redact_url(url),
            )
    location = unquote(location)
    if location in ("", MEMORY):
        return MEMORY
    if "\x00" in location:
        raise InvalidURLError("sqlite URL path contains a NUL character", url=redact_url(url))
    return os.path.abspath(os.path.expanduser(location))


def _choice(options: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = options.get(name, default)
    if not isinstance(value, str) or value.lower() not in allowed:
        raise ConfigurationError(
            f"sqlite option {name}={value!r} is not one of {list(allowed)}",
            option=name,
        )
    return value.lower()


def _seconds(options: dict[str, Any], name: str, default: float, *, allow_zero: bool) -> float:
    raw = options.get(name, default)
    try:
        value = float(raw)
        if isinstance(raw, bool):
            raise ValueError(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigurationError(
            f"sqlite option {name}={raw!r} must be a number of seconds {bound}",
            option=name,
        )
    return value
