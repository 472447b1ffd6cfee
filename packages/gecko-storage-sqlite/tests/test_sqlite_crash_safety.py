"""Several writer processes on one file lose nothing; a writer killed mid-stream loses no acknowledged write."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gecko.core.factories import create_storage
from gecko.core.testing import wait_until

pytestmark = pytest.mark.anyio

WRITER = Path(__file__).with_name("sqlite_writer.py")


def start_writer(
    url: str, writer: int, count: int, ack: Path | None = None
) -> subprocess.Popen[str]:
    args = [sys.executable, str(WRITER), url, str(writer), str(count)]
    if ack is not None:
        args.append(str(ack))
    return subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"writer did not start: {line!r}\n{err}")


def expected_writes(writer: int, count: int) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """The documents and (writer, i) checkpoints that sqlite_writer.py produces."""
    docs: dict[str, Any] = {}
    checkpoints = []
    for i in range(count):
        if i % 10 == 9:
            checkpoints.append((writer, i))
        elif i % 10 == 4:
            for j in range(5):
                docs[f"w{writer}:batch:{i}:{j}"] = {"writer": writer, "i": i, "j": j}
        else:
            docs[f"w{writer}:{i}"] = {"writer": writer, "i": i, "pad": "p" * 200}
    return docs, checkpoints


async def test_four_processes_writing_concurrently_lose_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    count = 1000
    procs = [start_writer(url, w, count) for w in range(4)]
    for proc in procs:  # all opened the file; now release them together
        wait_ready(proc)
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        assert "locked" not in err and "Traceback" not in err, err
        assert out.splitlines()[-1].startswith("done"), out

    async with await create_storage(url) as store:
        all_checkpoints: list[tuple[int, int]] = []
        for w in range(4):
            docs, checkpoints = expected_writes(w, count)
            assert len(await store.keys(f"w{w}:")) == len(docs)
            assert await store.get_many(list(docs)) == docs
            all_checkpoints += checkpoints
        history = await store.list_checkpoints("shared-run")
        # Every append got its own seq, assigned atomically across processes: 1..N, no gap.
        assert [c.seq for c in history] == list(range(1, len(all_checkpoints) + 1))
        assert sorted((c.data["writer"], c.data["i"]) for c in history) == sorted(all_checkpoints)


async def test_writer_killed_mid_stream_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    db = tmp_path / "killed.db"
    ack = tmp_path / "acks.jsonl"
    proc = start_writer(f"sqlite:///{db}", 7, 1_000_000, ack)
    wait_ready(proc)
    assert proc.stdin is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()

    def acknowledged() -> int:
        return ack.read_text().count("\n") if ack.exists() else 0

    await wait_until(lambda: acknowledged() >= 600, timeout=120, message="600 acknowledged writes")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    records = [json.loads(line) for line in ack.read_text().splitlines()]
    assert len(records) >= 600

    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    raw.close()

    async with await create_storage(f"sqlite:///{db}") as store:
        for record in records:
            i = record["i"]
            if record["op"] == "set":
                assert await store.get(record["key"]) == {"writer": 7, "i": i, "pad": "p" * 200}
            elif record["op"] == "batch":
                got = await store.get_many(record["keys"])
                assert got == {
                    k: {"writer": 7, "i": i, "j": int(k.rsplit(":", 1)[1])} for k in record["keys"]
                }
            else:
                checkpoint = await store.get_checkpoint("shared-run", record["seq"])
                assert checkpoint is not None and checkpoint.data == {"writer": 7, "i": i}
        # The store keeps working on the recovered file.
        seq = await store.append_checkpoint("shared-run", {"after": "crash"})
        assert seq > max(r["seq"] for r in records if r["op"] == "checkpoint")
