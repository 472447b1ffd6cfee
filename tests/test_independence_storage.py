"""What ``pip install gecko-core gecko-storage-redis`` (or ``-sqlite``, ``-postgres``) gives a user, from built wheels.

Each test installs exactly two wheels into a brand-new virtualenv and runs a
session round-trip and a checkpoint in a subprocess, through ``create_storage``
and the plugin entry points, against a real server or file.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

ROUND_TRIP = """
import asyncio, json, sys
from gecko.core.factories import create_storage

async def main(url: str) -> None:
    async with await create_storage(url) as store:
        doc = {"user": "gecko", "turns": [1, 2, 3], "text": "壁虎 🦎"}
        await store.set("session:1", doc, ttl=600)
        assert await store.get("session:1") == doc
        await store.set_many({"a": 1, "b": 2})
        assert await store.get_many(["a", "b", "session:1"]) == {"a": 1, "b": 2, "session:1": doc}
        assert await store.keys("session:") == ["session:1"]
        seq = await store.append_checkpoint("run-1", {"step": "fetch"})
        latest = await store.get_checkpoint("run-1")
        assert latest is not None and latest.seq == seq and latest.data == {"step": "fetch"}
        print(json.dumps({"type": type(store).__module__, "seq": seq}))

asyncio.run(main(sys.argv[1]))
"""


def run_round_trip(python: Path, url: str, cwd: Path) -> dict[str, object]:
    result = subprocess.run(
        [str(python), "-c", textwrap.dedent(ROUND_TRIP), url],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def plugin_statuses(python: Path) -> dict[str, str]:
    listing = subprocess.run(
        [str(python.parent / "gecko"), "plugins", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert listing.returncode == 0, listing.stderr
    return {p["name"]: p["status"] for p in json.loads(listing.stdout)["plugins"]}


def installed(python: Path) -> set[str]:
    freeze = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'] for d in m.distributions()))",
        ],
        capture_output=True,
        text=True,
    )
    return {name.lower() for name in freeze.stdout.split() if name.lower().startswith("gecko")}


@pytest.mark.slow
def test_core_and_redis_only(
    fresh_venv: Callable[..., Path], redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    python = fresh_venv("gecko-core", "gecko-storage-redis")
    assert installed(python) == {"gecko-core", "gecko-storage-redis"}
    separator = "&" if "?" in redis_url else "?"
    out = run_round_trip(python, f"{redis_url}{separator}prefix={redis_prefix}", tmp_path)
    assert out == {"type": "gecko.storage.redis.store", "seq": 1}
    assert plugin_statuses(python) == {"gecko-core": "ok", "gecko-storage-redis": "ok"}


@pytest.mark.slow
def test_core_and_sqlite_only(fresh_venv: Callable[..., Path], tmp_path: Path) -> None:
    python = fresh_venv("gecko-core", "gecko-storage-sqlite")
    assert installed(python) == {"gecko-core", "gecko-storage-sqlite"}
    out = run_round_trip(python, "sqlite:///data/app.db", tmp_path)
    assert out == {"type": "gecko.storage.sqlite.store", "seq": 1}
    assert (tmp_path / "data" / "app.db").is_file()
    assert plugin_statuses(python) == {"gecko-core": "ok", "gecko-storage-sqlite": "ok"}


@pytest.mark.slow
def test_core_and_postgres_only(
    fresh_venv: Callable[..., Path], postgres_url: str, postgres_schema: str, tmp_path: Path
) -> None:
    python = fresh_venv("gecko-core", "gecko-storage-postgres")
    assert installed(python) == {"gecko-core", "gecko-storage-postgres"}
    separator = "&" if "?" in postgres_url else "?"
    out = run_round_trip(python, f"{postgres_url}{separator}schema={postgres_schema}", tmp_path)
    assert out == {"type": "gecko.storage.postgres.store", "seq": 1}
    assert plugin_statuses(python) == {"gecko-core": "ok", "gecko-storage-postgres": "ok"}
