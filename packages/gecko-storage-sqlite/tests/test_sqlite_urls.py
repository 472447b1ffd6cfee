"""sqlite:// URL forms and options, checked against the file SQLite actually wrote."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gecko.core.errors import ConfigurationError, InvalidURLError
from gecko.core.factories import create_storage
from gecko.storage.sqlite.config import SQLiteConfig
from gecko.storage.sqlite.store import SQLiteStore

pytestmark = pytest.mark.anyio


def stored_keys(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [k for (k,) in conn.execute('SELECT "key" FROM gecko_kv ORDER BY "key"')]
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("url", "relative"),
    [
        ("sqlite:///data/app.db", "data/app.db"),
        ("sqlite://./data/app.db", "data/app.db"),
        ("sqlite://data/app.db", "data/app.db"),
        ("sqlite:///nested/deeper/still/app.db", "nested/deeper/still/app.db"),
        ("sqlite:///with%20space/app.db", "with space/app.db"),
    ],
)
async def test_relative_paths_resolve_against_cwd_and_create_parents(
    url: str, relative: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with await create_storage(url) as store:
        assert isinstance(store, SQLiteStore)
        await store.set("where", {"url": url})
        assert store.path == str(tmp_path / relative)
    assert stored_keys(tmp_path / relative) == ["where"]


async def test_absolute_path_with_four_slashes(tmp_path: Path) -> None:
    db = tmp_path / "abs" / "app.db"
    async with await create_storage(f"sqlite:///{db}") as store:  # sqlite:////tmp/... (4 slashes)
        await store.set("k", 1)
    assert str(db).startswith("/")
    assert stored_keys(db) == ["k"]


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///:memory:", "sqlite:///", "sqlite://?timeout=5"]
)
async def test_memory_urls_are_private_and_write_no_file(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with await create_storage(url) as first, await create_storage(url) as second:
        assert first.path == ":memory:"
        await first.set("k", "first")
        assert await second.get("k") is None
        assert await first.get("k") == "first"
    assert list(tmp_path.iterdir()) == []


async def test_defaults_to_wal_journal(tmp_path: Path) -> None:
    db = tmp_path / "wal.db"
    async with await create_storage(f"sqlite:///{db}") as store:
        await store.set("k", 1)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


@pytest.mark.parametrize("how", ["query", "argument"])
async def test_journal_mode_and_timeout_options(how: str, tmp_path: Path) -> None:
    db = tmp_path / "delete.db"
    if how == "query":
        store = await create_storage(f"sqlite:///{db}?journal_mode=DELETE&timeout=2.5")
    else:
        store = await create_storage(f"sqlite:///{db}", journal_mode="delete", timeout=2.5)
    async with store:
        assert store.config.timeout == 2.5 and store.config.journal_mode == "delete"
        await store.set("k", {"v": 1})
        assert await store.get("k") == {"v": 1}
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    conn.close()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:/no-slashes.db",
        "sqlite:relative.db",
        "sqlite://user:secret@host/x.db",
        "sqlite://host:5432/x.db",
        "not a url",
    ],
)
async def test_malformed_urls_are_clear_errors(url: str) -> None:
    with pytest.raises(InvalidURLError) as info:
        await SQLiteStore.open(url)
    assert "secret" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "options", "fragment"),
    [
        ("sqlite:///x.db?colour=blue", {}, "unknown sqlite option"),
        ("sqlite:///x.db?timeout=soon", {}, "timeout"),
        ("sqlite:///x.db?timeout=-1", {}, "timeout"),
        ("sqlite:///x.db?journal_mode=off", {}, "journal_mode"),
        ("sqlite:///x.db?synchronous=off", {}, "synchronous"),
        ("sqlite:///x.db?sweep_interval=0", {}, "sweep_interval"),
        ("sqlite:///x.db?timeout=1&timeout=2", {}, "repeats"),
        ("sqlite:///x.db?timeout=1", {"timeout": 2}, "both"),
        ("sqlite:///x.db", {"timeout": True}, "timeout"),
    ],
)
def test_bad_options_are_clear_errors(url: str, options: dict[str, object], fragment: str) -> None:
    with pytest.raises((ConfigurationError, InvalidURLError)) as info:
        SQLiteConfig.from_url(url, **options)
    assert fragment in str(info.value)
