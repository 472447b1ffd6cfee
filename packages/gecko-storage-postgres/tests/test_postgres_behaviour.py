"""URLs and options, the schema version, prefix listing with LIKE wildcards, bad input."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from gecko.core.errors import ConfigurationError, InvalidURLError, SchemaVersionError
from gecko.core.factories import create_storage
from gecko.storage.postgres.config import PostgresConfig
from gecko.storage.postgres.store import PostgresStore

pytestmark = pytest.mark.anyio


def test_plugin_module_imports_nothing_heavy() -> None:
    code = (
        "import sys, gecko.storage.postgres, gecko.storage.postgres.plugin\n"
        "print([m for m in ('psycopg', 'psycopg_pool') if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_url_options_and_redaction() -> None:
    config = PostgresConfig.from_url(
        "postgresql+psycopg://app:pa%40ss@db.example.com:6543/appdb"
        "?sslmode=require&schema=tenant_1&pool_size=4&application_name=worker&sslrootcert=ca.pem"
    )
    assert config.password is not None and config.password.get_secret_value() == "pa@ss"
    assert (config.schema, config.pool_size, config.application_name) == ("tenant_1", 4, "worker")
    assert config.where == "db.example.com:6543/appdb"
    assert "pa@ss" not in config.conninfo and "pa%40ss" not in config.conninfo
    assert "sslmode=require" in config.conninfo and "sslrootcert=ca.pem" in config.conninfo
    assert "schema" not in config.conninfo and "pool_size" not in config.conninfo
    assert "pa%40ss" not in repr(config) and "pa%40ss" not in config.url
    socket = PostgresConfig.from_url("postgres://postgres@/postgres?host=/tmp/pg")
    assert socket.where == "/tmp/pg:5432/postgres" and "host=%2Ftmp%2Fpg" in socket.conninfo


@pytest.mark.parametrize(
    ("url", "options", "error", "match"),
    [
        ("postgresql://h/db?schema=bad-name", {}, ConfigurationError, "identifier"),
        ("postgresql://h/db?pool_size=0", {}, ConfigurationError, "pool_size"),
        ("postgresql://h/db?sslmode=sometimes", {}, ConfigurationError, "sslmode"),
        ("postgresql://h/db?password=x", {}, ConfigurationError, "password"),
        ("postgresql://h/db?schema=a", {"schema": "b"}, ConfigurationError, "both"),
        ("postgresql://h/db", {"colour": "red"}, ConfigurationError, "unknown"),
        ("postgresql://h/db?connect_timeout=-1", {}, ConfigurationError, "seconds"),
        ("mysql://h/db", {}, InvalidURLError, "not a Postgres URL"),
    ],
)
def test_bad_options_are_clear_errors(url: str, options: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        PostgresConfig.from_url(url, **options)


async def test_prefix_listing_escapes_like_wildcards(
    postgres_url: str, postgres_schema: str
) -> None:
    async with await create_storage(postgres_url, schema=postgres_schema) as store:
        for key in ("a%b:1", "axb:2", "a_c:1", "abc:2", "a\\d:1", "aXd:2"):
            await store.set(key, key)
        assert await store.keys("a%") == ["a%b:1"]
        assert await store.keys("a_") == ["a_c:1"]
        assert await store.keys("a\\") == ["a\\d:1"]
        for run in ("r%1", "rx1"):
            await store.append_checkpoint(run, {})
        assert await store.list_runs("r%") == ["r%1"]
        with pytest.raises(ConfigurationError, match="U\\+0000"):
            await store.set("nul\x00key", 1)


async def test_documents_are_jsonb_and_nul_strings_round_trip(
    postgres_url: str, postgres_schema: str
) -> None:
    async with await create_storage(postgres_url, schema=postgres_schema) as store:
        await store.set("doc", {"user": "ada", "n": 3})
        await store.set("nul", {"text": "a\x00b"})
        assert await store.get("nul") == {"text": "a\x00b"}
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        row = conn.execute(
            f"SELECT value ->> 'user', jsonb_typeof(value) FROM {postgres_schema}.gecko_kv "
            "WHERE key = 'doc'"
        ).fetchone()
        assert row == ("ada", "object")


async def test_a_newer_schema_is_refused(postgres_url: str, postgres_schema: str) -> None:
    async with await create_storage(postgres_url, schema=postgres_schema) as store:
        await store.set("k", 1)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            f"UPDATE {postgres_schema}.gecko_meta SET value = '99' WHERE key = 'schema_version'"
        )
    with pytest.raises(SchemaVersionError, match="version 99") as info:
        await create_storage(postgres_url, schema=postgres_schema)
    assert "pip install -U gecko-storage-postgres" in str(info.value)


async def test_repr_and_open_directly(postgres_url: str, postgres_schema: str) -> None:
    store = await PostgresStore.open(postgres_url, schema=postgres_schema, pool_size=2)
    try:
        assert postgres_schema in repr(store) and store.config.pool_size == 2
        assert await store.sweep_expired() == 0
    finally:
        await store.close()
    assert "closed" in repr(store)
