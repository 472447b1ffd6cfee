"""Storage URLs: one parser for every backend, and redaction so passwords never reach logs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import SecretStr

from gecko.core.errors import InvalidURLError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")


@dataclass(frozen=True)
class StorageURL:
    """A parsed storage URL. ``password`` is a SecretStr; ``str()`` is redacted."""

    scheme: str
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    path: str = ""
    query: dict[str, str] = field(default_factory=dict)
    raw: str = field(default="", repr=False, compare=False)

    def __str__(self) -> str:
        return redact_url(self.raw)

    def with_default_port(self, port: int) -> int:
        return self.port if self.port is not None else port


def url_scheme(url: str) -> str:
    """The lower-cased scheme of ``url``; InvalidURLError when there is none."""
    if not isinstance(url, str) or "://" not in url:
        raise InvalidURLError(
            f"malformed storage URL {redact_url(str(url))!r}: expected 'scheme://...'",
            hint="for example sqlite:///path/to/file.db, redis://localhost:6379/0 or memory://",
            url=redact_url(str(url)),
        )
    scheme = url.split("://", 1)[0]
    if not _SCHEME.match(scheme):
        raise InvalidURLError(
            f"malformed storage URL {redact_url(url)!r}: {scheme!r} is not a valid scheme",
            hint="a scheme starts with a letter and holds letters, digits, '+', '-' or '.'",
            url=redact_url(url),
        )
    return scheme.lower()


def parse_storage_url(url: str) -> StorageURL:
    """Split ``url`` into its parts, with clear errors for a bad port or host.

    ``host`` is what stands between ``//`` and the next ``/``, lower-cased and
    without user, password and port (``None`` when empty); ``path`` is the rest,
    percent-decoded with its case kept; ``query`` holds each parameter once. A
    store addressing a file or directory uses ``(parsed.host or "") + parsed.path``:
    ``s:///abs/dir`` -> ``/abs/dir``, ``s://./rel/dir`` -> ``./rel/dir``.
    """
    scheme = url_scheme(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURLError(
            f"malformed storage URL {redact_url(url)!r}: {exc}",
            hint="check the host and port, e.g. redis://localhost:6379/0",
            url=redact_url(url),
        ) from exc
    query: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in query:
            raise InvalidURLError(
                f"storage URL {redact_url(url)!r} repeats the query parameter {key!r}",
                url=redact_url(url),
            )
        query[key] = value
    password = SecretStr(unquote(parts.password)) if parts.password is not None else None
    return StorageURL(
        scheme=scheme,
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=password,
        path=unquote(parts.path),
        query=query,
        raw=url,
    )


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    netloc, sep, tail = rest.partition("/")
    if "@" not in netloc:
        return url
    userinfo, host = netloc.rsplit("@", 1)
    user = userinfo.split(":", 1)[0] if ":" in userinfo else ""
    if ":" not in userinfo:  # redis://secret@host: a lone userinfo is a password for redis
        return f"{scheme}://***@{host}{sep}{tail}"
    return f"{scheme}://{user}:***@{host}{sep}{tail}"
