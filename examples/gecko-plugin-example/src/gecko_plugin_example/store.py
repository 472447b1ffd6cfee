"""``jsondir://PATH``: a SessionStore keeping one JSON file per key in a directory.

Writes are atomic (temporary file + rename), file I/O runs in worker threads,
and values go through Gecko's strict JSON, so it behaves like every other store.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio

from gecko.core.errors import ConfigurationError
from gecko.core.storage import BaseStore, check_key, check_ttl, dumps, loads, parse_storage_url


class JsonDirStore(BaseStore):
    """A directory of JSON documents. Fine for small apps and tests; one file per key."""

    supports_ttl = True

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    @classmethod
    async def open(cls, url: str, **options: Any) -> JsonDirStore:
        if options:
            raise ConfigurationError(f"jsondir:// takes no options, got {sorted(options)}")
        parsed = parse_storage_url(url)
        path = (parsed.host or "") + parsed.path
        if not path:
            raise ConfigurationError(
                f"jsondir URL {url!r} has no directory",
                hint="use jsondir:///absolute/dir or jsondir://relative/dir",
            )
        return await anyio.to_thread.run_sync(cls, Path(path))

    def __repr__(self) -> str:
        return f"JsonDirStore({str(self.directory)!r})"

    def _file(self, key: str) -> Path:
        return self.directory / (hashlib.sha256(key.encode("utf-8")).hexdigest() + ".json")

    # --- blocking helpers (run in worker threads) ----------------------------------

    def _read(self, key: str) -> Any:
        try:
            text = self._file(key).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        record = loads(text, key=key)
        if record["expires_at"] is not None and record["expires_at"] <= time.time():
            self._file(key).unlink(missing_ok=True)
            return None
        return record["value"]

    def _write(self, items: Mapping[str, str], ttl: float | None) -> None:
        expires = time.time() + ttl if ttl is not None else None
        for key, encoded in items.items():
            record = (
                f'{{"key":{json.dumps(key)},"expires_at":{json.dumps(expires)},"value":{encoded}}}'
            )
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(record)
            os.replace(tmp, self._file(key))

    def _delete(self, key: str) -> bool:
        alive = self._read(key) is not None
        self._file(key).unlink(missing_ok=True)
        return alive

    def _keys(self, prefix: str) -> list[str]:
        keys = []
        for file in self.directory.glob("*.json"):
            try:
                record = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            alive = record["expires_at"] is None or record["expires_at"] > time.time()
            if alive and record["key"].startswith(prefix):
                keys.append(record["key"])
        return sorted(keys)

    # --- SessionStore ---------------------------------------------------------------

    async def get(self, key: str) -> Any:
        self._ensure_open()
        return await anyio.to_thread.run_sync(self._read, check_key(key))

    async def set(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        await self.set_many({key: value}, ttl=ttl)

    async def delete(self, key: str) -> bool:
        self._ensure_open()
        return await anyio.to_thread.run_sync(self._delete, check_key(key))

    async def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        values = {key: await self.get(key) for key in keys}
        return {key: value for key, value in values.items() if value is not None}

    async def set_many(self, items: Mapping[str, Any], *, ttl: float | None = None) -> None:
        self._ensure_open()
        ttl = check_ttl(ttl)
        encoded = {check_key(k): dumps(v, key=k) for k, v in items.items()}
        await anyio.to_thread.run_sync(self._write, encoded, ttl)

    async def delete_many(self, keys: Sequence[str]) -> int:
        return sum([await self.delete(key) for key in keys])

    async def keys(self, prefix: str = "") -> list[str]:
        self._ensure_open()
        return await anyio.to_thread.run_sync(self._keys, prefix)
