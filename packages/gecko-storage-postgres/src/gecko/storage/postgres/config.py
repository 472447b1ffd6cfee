"""Postgres URLs and options, parsed and validated before any connection is made.

- ``postgresql://[user[:password]@][host][:port][/dbname][?param=value&...]``
- ``postgresql+psycopg://...`` and ``postgres://...``: the same
- a Unix socket: ``postgresql://postgres@/postgres?host=/var/run/postgresql``

Gecko's own options come from the query string or from keyword arguments of
``create_storage`` (not both for the same option): ``schema`` (default ``public``),
``pool_size`` (default 10), ``min_pool_size`` (default 1), ``connect_timeout``
(seconds, default 10), ``reconnect_timeout`` (seconds an operation keeps retrying
while the server is away, default 30), ``application_name`` (default ``gecko``),
``sslmode``. Every other query parameter is handed to libpq unchanged
(``sslrootcert``, ``target_session_attrs``, ...). The password is kept in a
``SecretStr`` and never appears in ``repr``, ``str``, errors or log records.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from pydantic import SecretStr

from gecko.core.errors import ConfigurationError, InvalidURLError
from gecko.core.storage.url import parse_storage_url, redact_url

SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SECONDS = {"connect_timeout": 10.0, "reconnect_timeout": 30.0}
OPTIONS = (
    "schema",
    "pool_size",
    "min_pool_size",
    *_SECONDS,
    "application_name",
    "sslmode",
    "password",
)


@dataclass(frozen=True)
class PostgresConfig:
    """Where the server is, how to authenticate, and how the pool behaves."""

    conninfo: str
    """A libpq URL without the password (that goes in ``password``)."""
    password: SecretStr | None = field(default=None, repr=False)
    schema: str = "public"
    """The Postgres schema holding Gecko's tables (created if missing)."""
    pool_size: int = 10
    min_pool_size: int = 1
    connect_timeout: float = 10.0
    reconnect_timeout: float = 30.0
    application_name: str = "gecko"
    where: str = ""
    """``host:port/dbname``: what error messages name."""
    url: str = field(default="", repr=False)
    """The URL with its password redacted."""

    @classmethod
    def from_url(cls, url: str, **options: Any) -> PostgresConfig:
        parsed = parse_storage_url(url)
        redacted = redact_url(url)
        if parsed.scheme not in SCHEMES:
            raise InvalidURLError(
                f"not a Postgres URL: {redacted!r}",
                hint="use postgresql://user:password@host:5432/dbname",
                url=redacted,
            )
        clash = sorted(set(parsed.query) & set(options))
        if clash:
            raise ConfigurationError(
                f"postgres option(s) {clash} given both in the URL and as arguments",
                hint="give each option once",
                options=clash,
            )
        if "password" in parsed.query:
            raise ConfigurationError(
                "a password in the query string of a postgres URL is refused",
                hint="put it in the URL (postgresql://user:password@host/db) or pass password=...",
            )
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise ConfigurationError(
                f"unknown postgres option(s) {unknown}; known options: {list(OPTIONS)}",
                hint="libpq parameters go in the URL's query string, e.g. ?sslrootcert=ca.pem",
                options=unknown,
            )
        merged: dict[str, Any] = {**parsed.query, **options}
        libpq = {k: v for k, v in parsed.query.items() if k not in OPTIONS}
        schema = merged.get("schema", "public")
        if not isinstance(schema, str) or not _IDENTIFIER.match(schema):
            raise ConfigurationError(
                f"postgres option schema={schema!r} is not a plain identifier",
                hint="use letters, digits and underscores, starting with a letter (at most 63)",
                option="schema",
            )
        sslmode = merged.get("sslmode")
        if sslmode is not None:
            if not isinstance(sslmode, str) or sslmode not in SSLMODES:
                raise ConfigurationError(
                    f"postgres option sslmode={sslmode!r} must be one of {list(SSLMODES)}",
                    option="sslmode",
                )
            libpq["sslmode"] = sslmode
        application_name = merged.get("application_name", "gecko")
        if not isinstance(application_name, str):
            raise ConfigurationError("postgres option application_name must be a string")
        libpq["application_name"] = application_name
        password = merged.get("password", parsed.password)
        if password is not None and not isinstance(password, SecretStr):
            password = SecretStr(str(password))
        seconds = {name: _seconds(merged, name, default) for name, default in _SECONDS.items()}
        libpq["connect_timeout"] = str(max(1, math.ceil(seconds["connect_timeout"])))
        pool_size = _integer(merged, "pool_size", 10, minimum=1)
        min_pool_size = _integer(merged, "min_pool_size", 1, minimum=0)
        if min_pool_size > pool_size:
            raise ConfigurationError(
                f"postgres option min_pool_size={min_pool_size} exceeds pool_size={pool_size}"
            )
        return cls(
            conninfo=_conninfo(url, parsed.username, libpq),
            password=password,
            schema=schema,
            pool_size=pool_size,
            min_pool_size=min_pool_size,
            application_name=application_name,
            where=_where(parsed.host, parsed.port, parsed.path, libpq),
            url=redacted,
            **seconds,
        )


def _conninfo(url: str, username: str | None, libpq: dict[str, str]) -> str:
    """The URL as libpq reads it: scheme ``postgresql``, no password, libpq query only."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    user = quote(username, safe="") + "@" if username else ""
    return urlunsplit(("postgresql", user + host, parts.path, urlencode(libpq), ""))


def _where(host: str | None, port: int | None, path: str, libpq: dict[str, str]) -> str:
    place = host or libpq.get("host") or "localhost"
    return f"{place}:{port or libpq.get('port') or 5432}/{path.strip('/') or 'postgres'}"


def _seconds(options: dict[str, Any], name: str, default: float) -> float:
    raw = options.get(name, default)
    try:
        if isinstance(raw, bool):
            raise ValueError(raw)
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ConfigurationError(
            f"postgres option {name}={raw!r} must be a positive number of seconds", option=name
        )
    return value


def _integer(options: dict[str, Any], name: str, default: int, *, minimum: int) -> int:
    raw = options.get(name, default)
    try:
        if isinstance(raw, (bool, float)):
            raise ValueError(raw)
        value = int(raw)
    except (TypeError, ValueError):
        value = minimum - 1
    if value < minimum:
        raise ConfigurationError(
            f"postgres option {name}={raw!r} must be an integer >= {minimum}", option=name
        )
    return value
