"""Redis URLs and options: parsed as documented, bad ones rejected clearly, passwords never shown."""

from __future__ import annotations

import pytest

from gecko.core.errors import ConfigurationError, InvalidURLError
from gecko.storage.redis.config import RedisConfig


def test_defaults() -> None:
    config = RedisConfig.from_url("redis://localhost")
    assert (config.host, config.port, config.db, config.prefix) == ("localhost", 6379, 0, "gecko:")
    assert not config.tls and config.password is None
    assert config.address == "localhost:6379"


def test_full_url_with_credentials_db_and_options() -> None:
    config = RedisConfig.from_url(
        "rediss://app:p%40ss-w0rd@cache.internal:6380/3?prefix=myapp:&socket_timeout=2"
        "&connect_timeout=1.5&reconnect_timeout=20&max_connections=8&ssl_cert_reqs=optional"
    )
    assert config.tls and config.host == "cache.internal" and config.port == 6380 and config.db == 3
    assert config.username == "app"
    assert config.password is not None and config.password.get_secret_value() == "p@ss-w0rd"
    assert config.prefix == "myapp:" and config.max_connections == 8
    assert (config.socket_timeout, config.connect_timeout, config.reconnect_timeout) == (2, 1.5, 20)
    assert config.ssl_cert_reqs == "optional"
    for text in (repr(config), str(config), config.url):
        assert "p@ss-w0rd" not in text and "p%40ss-w0rd" not in text


def test_unix_socket_url() -> None:
    config = RedisConfig.from_url("unix:///var/run/redis/redis.sock?db=2")
    assert config.path == "/var/run/redis/redis.sock" and config.db == 2 and config.host is None
    assert config.address == "/var/run/redis/redis.sock"


def test_keyword_options_and_password_argument() -> None:
    config = RedisConfig.from_url("redis://h:1", prefix="", password="kw-secret", db=4)
    assert config.prefix == "" and config.password is not None and config.db == 4
    assert "kw-secret" not in repr(config)


@pytest.mark.parametrize(
    ("url", "options", "error", "fragment"),
    [
        ("redis://", {}, InvalidURLError, "no host"),
        ("redis://h:notaport/0", {}, InvalidURLError, "malformed"),
        ("redis://h/zero", {}, InvalidURLError, "database number"),
        ("redis://h/1?db=2", {}, ConfigurationError, "both"),
        ("unix://", {}, InvalidURLError, "socket path"),
        ("http://h", {}, InvalidURLError, "not a Redis URL"),
        ("redis://h?colour=red", {}, ConfigurationError, "unknown redis option"),
        ("redis://h?password=x", {}, ConfigurationError, "credentials in the URL"),
        ("redis://h?socket_timeout=0", {}, ConfigurationError, "socket_timeout"),
        ("redis://h?reconnect_timeout=never", {}, ConfigurationError, "reconnect_timeout"),
        ("redis://h?max_connections=0", {}, ConfigurationError, "max_connections"),
        ("redis://h?ssl_cert_reqs=maybe", {}, ConfigurationError, "ssl_cert_reqs"),
        ("redis://h?ssl_check_hostname=perhaps", {}, ConfigurationError, "ssl_check_hostname"),
        ("redis://h?prefix=a", {"prefix": "b"}, ConfigurationError, "both"),
        ("redis://h", {"prefix": 3}, ConfigurationError, "prefix"),
    ],
)
def test_bad_urls_and_options(
    url: str, options: dict[str, object], error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error) as info:
        RedisConfig.from_url(url, **options)
    assert fragment in str(info.value)


def test_malformed_url_error_hides_password() -> None:
    with pytest.raises(InvalidURLError) as info:
        RedisConfig.from_url("redis://user:hunter2@h:port/0")
    assert "hunter2" not in str(info.value)
