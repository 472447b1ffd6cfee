"""Corrupt documents, foreign files, newer schemas and closed stores give clear errors."""

from __future__ import annotations

import gc
import sqlite3
import warnings
from pathlib import Path

import pytest

from gecko.core.errors import (
    ConfigurationError,
    CorruptDataError,
    SchemaVersionError,
    SerializationError,
    StorageError,
)
from gecko.core.factories import create_storage
from gecko.storage.sqlite.schema import SCHEMA_VERSION

pytestmark = pytest.mark.anyio


def raw_execute(db: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "corrupt",
    [b"\xff\xfe not utf-8", '{"unterminated": ', "not json at all", b""],
    ids=["invalid-utf8", "truncated", "text", "empty"],
)
async def test_corrupt_document_names_its_key_and_spares_the_others(
    corrupt: bytes | str, tmp_path: Path
) -> None:
    db = tmp_path / "corrupt.db"
    async with await create_storage(f"sqlite:///{db}") as store:
        await store.set("good", {"fine": True})
        await store.set("bad", {"soon": "broken"})
        raw_execute(db, 'UPDATE gecko_kv SET value = ? WHERE "key" = ?', (corrupt, "bad"))

        with pytest.raises(CorruptDataError) as info:
            await store.get("bad")
        assert "'bad'" in str(info.value)
        with pytest.raises(CorruptDataError, match="'bad'"):
            await store.get_many(["good", "bad"])

        assert await store.get("good") == {"fine": True}
        assert await store.keys() == ["bad", "good"]
        await store.set("bad", {"repaired": 1})  # overwriting heals the key
        assert await store.get("bad") == {"repaired": 1}


async def test_corrupt_checkpoint_names_run_and_seq(tmp_path: Path) -> None:
    db = tmp_path / "cp.db"
    async with await create_storage(f"sqlite:///{db}") as store:
        await store.append_checkpoint("run-a", {"step": 1})
        seq = await store.append_checkpoint("run-a", {"step": 2})
        await store.append_checkpoint("run-b", {"step": 1})
        raw_execute(
            db,
            "UPDATE gecko_checkpoints SET data = ? WHERE run_id = ? AND seq = ?",
            ("{", "run-a", seq),
        )
        with pytest.raises(CorruptDataError) as info:
            await store.get_checkpoint("run-a")
        assert f"run-a:{seq}" in str(info.value)
        older = await store.get_checkpoint("run-a", seq - 1)
        assert older is not None and older.data == {"step": 1}
        latest_b = await store.get_checkpoint("run-b")
        assert latest_b is not None and latest_b.data == {"step": 1}


async def test_newer_schema_version_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    async with await create_storage(f"sqlite:///{db}") as store:
        await store.set("k", 1)
    raw_execute(
        db,
        "UPDATE gecko_meta SET value = ? WHERE \"key\" = 'schema_version'",
        (str(SCHEMA_VERSION + 1),),
    )
    before = db.read_bytes()

    with pytest.raises(SchemaVersionError) as info:
        await create_storage(f"sqlite:///{db}")
    message = str(info.value)
    assert str(db) in message and str(SCHEMA_VERSION + 1) in message
    assert "pip install -U gecko-storage-sqlite" in message
    assert db.read_bytes() == before


async def test_schema_version_is_recorded(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    async with await create_storage(f"sqlite:///{db}"):
        pass
    conn = sqlite3.connect(db)
    assert conn.execute(
        "SELECT value FROM gecko_meta WHERE \"key\" = 'schema_version'"
    ).fetchone() == (str(SCHEMA_VERSION),)
    conn.close()


async def test_file_that_is_not_a_database(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_bytes(b"these are my notes, not a database" * 200)
    with pytest.raises(CorruptDataError) as info:
        await create_storage(f"sqlite:///{db}")
    assert str(db) in str(info.value)


async def test_path_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    with pytest.raises(StorageError) as info:
        await create_storage(f"sqlite:///{tmp_path / 'adir'}")
    assert "adir" in str(info.value)
    assert info.value.hint


async def test_text_with_lone_surrogate_is_a_serialization_error_and_others_commit(
    tmp_path: Path,
) -> None:
    import anyio

    async with await create_storage(f"sqlite:///{tmp_path}/s.db") as store:
        errors: list[BaseException] = []

        async def write(key: str) -> None:
            try:
                await store.set(key, {"k": key})
            except SerializationError as exc:
                errors.append(exc)

        # Many concurrent writes share one transaction; the bad one must fail alone.
        async with anyio.create_task_group() as tg:
            for i in range(50):
                tg.start_soon(write, f"ok:{i}")
            tg.start_soon(write, "bad:\ud800")
            for i in range(50, 100):
                tg.start_soon(write, f"ok:{i}")
        assert len(errors) == 1 and "Unicode" in str(errors[0])
        assert len(await store.keys("ok:")) == 100


async def test_bad_arguments(tmp_path: Path) -> None:
    async with await create_storage(f"sqlite:///{tmp_path}/a.db") as store:
        with pytest.raises(ConfigurationError):
            await store.get_checkpoint("run", "1")  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError):
            await store.list_checkpoints("run", limit=-1)
        with pytest.raises(ConfigurationError):
            await store.compact_checkpoints("run", True)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError):
            await store.keys(None)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError):
            await store.get_many(["ok", ""])


async def test_closed_store_refuses_operations(tmp_path: Path) -> None:
    store = await create_storage(f"sqlite:///{tmp_path}/c.db")
    await store.close()
    with pytest.raises(StorageError, match="closed"):
        await store.get("k")
    with pytest.raises(StorageError, match="closed"):
        await store.append_checkpoint("r", {})


async def test_unclosed_store_warns_when_collected(tmp_path: Path) -> None:
    store = await create_storage(f"sqlite:///{tmp_path}/leak.db")
    await store.set("k", 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del store
        gc.collect()
    assert any(
        issubclass(w.category, ResourceWarning) and "unclosed SQLiteStore" in str(w.message)
        for w in caught
    )
