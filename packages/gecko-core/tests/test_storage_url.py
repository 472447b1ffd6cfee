"""Storage URLs: parsing, clear errors for malformed ones, and password redaction."""

from __future__ import annotations

import pytest

from gecko.core.errors import InvalidURLError
from gecko.core.storage.url import parse_storage_url, redact_url, url_scheme


def test_parse_full_url() -> None:
    url = parse_storage_url("rediss://app:s3cr%40t@cache.example.com:6380/2?timeout=5&prefix=app1")
    assert (url.scheme, url.host, url.port, url.username, url.path) == (
        "rediss",
        "cache.example.com",
        6380,
        "app",
        "/2",
    )
    assert url.password is not None and url.password.get_secret_value() == "s3cr@t"
    assert url.query == {"timeout": "5", "prefix": "app1"}
    assert "s3cr" not in str(url) and "s3cr" not in repr(url)


@pytest.mark.parametrize(
    "bad", ["no-scheme", "://x", "1redis://x", "redis://host:notaport", "sqlite:/x.db"]
)
def test_malformed_urls(bad: str) -> None:
    with pytest.raises(InvalidURLError):
        parse_storage_url(bad)


def test_repeated_query_parameter_is_an_error() -> None:
    with pytest.raises(InvalidURLError):
        parse_storage_url("redis://h/0?timeout=1&timeout=2")


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("redis://:pw@h:1/0", "redis://:***@h:1/0"),
        ("redis://user:pw@h", "redis://user:***@h"),
        ("redis://pw@h/0", "redis://***@h/0"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_redaction(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


def test_scheme_is_lower_cased() -> None:
    assert url_scheme("Chroma+HTTP://host:8000") == "chroma+http"
