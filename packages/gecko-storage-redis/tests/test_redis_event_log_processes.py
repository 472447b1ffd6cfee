"""Several processes appending to one run's event log on one server get distinct, consecutive seqs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from gecko.core.factories import create_storage

pytestmark = pytest.mark.anyio

APPENDER = Path(__file__).with_name("redis_event_appender.py")
WRITERS = 4
BATCHES = 150


def run_appenders(
    url: str, run_id: str, keep: int | None = None
) -> dict[int, tuple[int, int, int]]:
    """Start WRITERS appenders together; return ``seq -> (writer, i, j)`` from their acks."""
    args = [sys.executable, str(APPENDER), url, run_id]
    tail = [] if keep is None else [str(keep)]
    procs = [
        subprocess.Popen(
            [*args, str(w), str(BATCHES), *tail],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WRITERS)
    ]
    try:
        for proc in procs:  # every one has opened the store; release them together
            assert proc.stdout is not None and proc.stdin is not None
            line = proc.stdout.readline()
            assert line.strip() == "ready", f"appender did not start: {line!r}"
        for proc in procs:
            proc.stdin.write("go\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
        owner: dict[int, tuple[int, int, int]] = {}
        for writer, proc in enumerate(procs):
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            acks = [json.loads(line) for line in out.splitlines()]
            assert [a["i"] for a in acks] == list(range(BATCHES))
            for ack in acks:
                first = ack["last"] - ack["size"] + 1
                for j, seq in enumerate(range(first, ack["last"] + 1)):
                    assert seq not in owner, f"seq {seq} given to two appends"
                    owner[seq] = (writer, ack["i"], j)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return owner


def total_events() -> int:
    return sum(1 + (w + i) % 3 for w in range(WRITERS) for i in range(BATCHES))


def shared_url(redis_url: str, redis_prefix: str) -> str:
    return f"{redis_url}?prefix={quote(redis_prefix, safe='')}"


async def test_concurrent_processes_get_consecutive_seqs_and_lose_nothing(
    redis_url: str, redis_prefix: str
) -> None:
    url = shared_url(redis_url, redis_prefix)
    owner = run_appenders(url, "shared-run")
    total = total_events()
    assert sorted(owner) == list(range(1, total + 1))  # distinct, consecutive, none missing
    async with await create_storage(url) as store:
        assert store.prefix == redis_prefix
        events = await store.read_events("shared-run")
        assert await store.last_event_seq("shared-run") == total
    assert [e.seq for e in events] == list(range(1, total + 1))
    for event in events:  # each seq holds exactly the event its appender was told it got
        assert (event.data["writer"], event.data["i"], event.data["j"]) == owner[event.seq]


async def test_concurrent_processes_with_keep_leave_the_newest_window(
    redis_url: str, redis_prefix: str
) -> None:
    url = shared_url(redis_url, redis_prefix)
    owner = run_appenders(url, "bounded-run", keep=20)
    total = total_events()
    assert sorted(owner) == list(range(1, total + 1))
    async with await create_storage(url) as store:
        events = await store.read_events("bounded-run")
        assert await store.last_event_seq("bounded-run") == total
    assert [e.seq for e in events] == list(range(total - 19, total + 1))
    for event in events:
        assert (event.data["writer"], event.data["i"], event.data["j"]) == owner[event.seq]
