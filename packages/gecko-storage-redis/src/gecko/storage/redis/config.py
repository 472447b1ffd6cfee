"""Redis URLs and options, parsed and validated before any connection is made.

- ``redis://[[user]:password@]host[:port][/db]``
- ``rediss://...``: the same over TLS
- ``unix:///path/to/redis.sock[?db=N]``

Options come from the query string or from keyword arguments of ``create_storage``
(not both for the same option). The password is kept in a ``SecretStr`` and
never appears in ``repr``, ``str`` or log records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from gecko.core.errors import ConfigurationError, InvalidURLError
from gecko.core.storage.url import parse_storage_url, redact_url

SCHEMES = ("redis", "rediss", "unix")
DEFAULT_PORT = 6379
TLS_CERT_REQS = ("required", "optional", "none")

_SECONDS = {
    "socket_timeout": 5.0,
    "connect_timeout": 5.0,
    "reconnect_timeout": 10.0,
}
_STRINGS = ("prefix", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "client_name")
OPTIONS = (
    "prefix",
    "db",
    "max_connections",
    *_SECONDS,
    "ssl_cert_reqs",
    "ssl_check_hostname",
    "ssl_ca_certs",
    "ssl_certfile",
    "ssl_keyfile",
    "client_name",
)


@dataclass(frozen=True)
class RedisConfig:
    """Where the server is, how to authenticate, and how long to wait for it."""

    scheme: str
    host: str | None = None
    port: int = DEFAULT_PORT
    path: str | None = None
    """Unix socket path (``unix://`` URLs)."""
    db: int = 0
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    prefix: str = "gecko:"
    """Prepended to every key, so several applications can share one server."""
    max_connections: int = 32
    socket_timeout: float = 5.0
    """Seconds one command may take."""
    connect_timeout: float = 5.0
    """Seconds to open a connection; ``open()`` gives up after this long."""
    reconnect_timeout: float = 10.0
    """Seconds an operation keeps reconnecting (with backoff) while the server is away."""
    ssl_cert_reqs: str = "required"
    ssl_check_hostname: bool = True
    ssl_ca_certs: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    client_name: str | None = None
    url: str = field(default="", repr=False)
    """The URL with its password redacted."""

    @property
    def tls(self) -> bool:
        return self.scheme == "rediss"

    @property
    def address(self) -> str:
        """``host:port`` or the socket path: what error messages name."""
        return self.path if self.path is not None else f"{self.host}:{self.port}"

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisConfig:
        parsed = parse_storage_url(url)
        redacted = redact_url(url)
        if parsed.scheme not in SCHEMES:
            raise InvalidURLError(
                f"not a Redis URL: {redacted!r}",
                hint="use redis://host:6379/0, rediss://host:6380/0 or unix:///path/redis.sock",
                url=redacted,
            )
        clash = sorted(set(parsed.query) & set(options))
        if clash:
            raise ConfigurationError(
                f"redis option(s) {clash} given both in the URL and as arguments",
                hint="give each option once",
                options=clash,
            )
        merged: dict[str, Any] = {**parsed.query, **options}
        unknown = sorted(set(merged) - set(OPTIONS) - {"password", "username"})
        if unknown or "password" in parsed.query or "username" in parsed.query:
            raise ConfigurationError(
                f"unknown redis option(s) {unknown or ['password/username in the query']}; "
                f"known options: {list(OPTIONS)}",
                hint="put credentials in the URL (redis://user:password@host) or pass "
                "password=... as an argument; e.g. redis://localhost:6379/0?prefix=myapp:",
                options=unknown,
            )

        host, port, path, db = _location(parsed, merged, redacted)
        password = merged.get("password", parsed.password)
        if password is not None and not isinstance(password, SecretStr):
            password = SecretStr(str(password))
        seconds = {name: _seconds(merged, name, default) for name, default in _SECONDS.items()}
        for name in _STRINGS:
            if name in merged and not isinstance(merged[name], str):
                raise ConfigurationError(f"redis option {name} must be a string", option=name)
        return cls(
            scheme=parsed.scheme,
            host=host,
            port=port,
            path=path,
            db=db,
            username=merged.get("username", parsed.username),
            password=password,
            prefix=merged.get("prefix", "gecko:"),
            max_connections=_integer(merged, "max_connections", 32, minimum=1),
            ssl_cert_reqs=_cert_reqs(merged),
            ssl_check_hostname=_boolean(merged, "ssl_check_hostname", True),
            ssl_ca_certs=merged.get("ssl_ca_certs"),
            ssl_certfile=merged.get("ssl_certfile"),
            ssl_keyfile=merged.get("ssl_keyfile"),
            client_name=merged.get("client_name"),
            url=redacted,
            **seconds,
        )


def _location(
    parsed: Any, options: dict[str, Any], redacted: str
) -> tuple[str | None, int, str | None, int]:
    if parsed.scheme == "unix":
        if not parsed.path:
            raise InvalidURLError(
                f"unix socket URL {redacted!r} has no socket path",
                hint="e.g. unix:///var/run/redis/redis.sock?db=0",
                url=redacted,
            )
        return None, DEFAULT_PORT, parsed.path, _integer(options, "db", 0, minimum=0)
    if not parsed.host:
        raise InvalidURLError(
            f"Redis URL {redacted!r} has no host",
            hint="e.g. redis://localhost:6379/0",
            url=redacted,
        )
    db_path = parsed.path.strip("/")
    if db_path and "db" in options:
        raise ConfigurationError(
            f"Redis URL {redacted!r} names the database both in its path and as db=",
            hint="give the database once",
        )
    if db_path:
        if not db_path.isdigit():
            raise InvalidURLError(
                f"Redis URL {redacted!r}: the path must be a database number, got {db_path!r}",
                hint="e.g. redis://localhost:6379/2",
                url=redacted,
            )
        db = int(db_path)
    else:
        db = _integer(options, "db", 0, minimum=0)
    port = parsed.port if parsed.port is not None else DEFAULT_PORT
    return parsed.host, port, None, db


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
            f"redis option {name}={raw!r} must be a positive number of seconds", option=name
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
            f"redis option {name}={raw!r} must be an integer >= {minimum}", option=name
        )
    return value


def _boolean(options: dict[str, Any], name: str, default: bool) -> bool:
    raw = options.get(name, default)
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "1", "yes", "false", "0", "no"):
        return raw.lower() in ("true", "1", "yes")
    raise ConfigurationError(f"redis option {name}={raw!r} must be true or false", option=name)


def _cert_reqs(options: dict[str, Any]) -> str:
    raw = options.get("ssl_cert_reqs", "required")
    if not isinstance(raw, str) or raw.lower() not in TLS_CERT_REQS:
        raise ConfigurationError(
            f"redis option ssl_cert_reqs={raw!r} must be one of {list(TLS_CERT_REQS)}",
            option="ssl_cert_reqs",
        )
    return raw.lower()
