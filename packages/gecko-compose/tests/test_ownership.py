"""One owner per run, across real processes: racing execute()/resume() on one session id, and
taking over a SIGKILLed worker's run as soon as its lease expires (real SQLite files, real Redis).
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from types import ModuleType

import anyio
import pytest

from gecko.compose.errors import RunInProgressError
from gecko.core.testing import wait_until

pytestmark = [pytest.mark.anyio, pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")]

HERE = Path(__file__).parent
ROUNDS = 100
NODES = ("a", "b1", "b2", "c")


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"gecko_compose_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    url: str = request.getfixturevalue("redis_url")
    prefix: str = request.getfixturevalue("redis_prefix")
    return f"{url}{'&' if '?' in url else '?'}prefix={prefix}"


def race(url: str, out: Path, mode: str) -> Counter[tuple[str, str]]:
    """Two worker processes on the same ROUNDS session ids; how often each node of each run ran."""
    workers = [
        subprocess.Popen(
            [sys.executable, str(HERE / "race_worker.py"), url, str(out), str(ROUNDS), mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err.decode()
    runs: Counter[tuple[str, str]] = Counter()
    for log in out.glob("*.log"):
        for line in log.read_text(encoding="utf-8").splitlines():
            session, node = line.split()
            runs[session, node] += 1
    return runs


async def test_two_processes_executing_the_same_sessions_never_run_a_node_twice(
    store_url: str, tmp_path: Path
) -> None:
    runs = race(store_url, tmp_path, "execute")
    expected = {(f"race-{i}", node) for i in range(ROUNDS) for node in NODES}
    assert set(runs) == expected  # every run finished...
    assert max(runs.values()) == 1  # ...and no node of any run ran twice
    assert len(list(tmp_path.glob("*.done"))) == 2


async def test_two_processes_resuming_the_same_runs_never_run_a_node_twice(
    store_url: str, tmp_path: Path
) -> None:
    worker = load("race_worker")
    prepared = tmp_path / "prepare.log"
    worker.FAIL["b2"] = True
    with open(prepared, "w", encoding="utf-8") as log:
        async with worker.build(store_url, log) as wf:
            for i in range(ROUNDS):
                with pytest.raises(Exception, match="b2 fails"):
                    await wf.execute(None, session_id=f"race-{i}")
    prepared.rename(tmp_path / "prepare.txt")  # not counted as a race worker's log
    runs = race(store_url, tmp_path, "resume")
    assert set(runs) == {(f"race-{i}", node) for i in range(ROUNDS) for node in ("b2", "c")}
    assert max(runs.values()) == 1  # a and b1 were done; b2 and c ran once, in one process


@pytest.mark.parametrize("ttl", [2.0])
async def test_a_sigkilled_owners_run_is_taken_over_when_its_lease_expires(
    store_url: str, tmp_path: Path, ttl: float
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    crash = load("crash_worker")
    process = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "crash_worker.py"),
            store_url,
            str(out),
            "inside:b",
            "sync",
            str(ttl),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:

        def ready_or_dead() -> bool:
            if process.poll() is not None:
                _, err = process.communicate()
                raise AssertionError(f"worker exited early:\n{err.decode()}")
            return (out / "ready").exists()

        await wait_until(ready_or_dead, timeout=120, message="worker inside node b")
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=60) == -signal.SIGKILL
        killed = time.time()
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    async with crash.build(store_url, out, None, lease_ttl=ttl) as wf:
        with pytest.raises(RunInProgressError) as refused:
            await wf.resume(crash.RUN_ID)
        assert f":{process.pid}:" in refused.value.holder  # names the dead owner...
        assert killed < refused.value.expires_at <= killed + ttl + 0.5  # ...and when it lapses
        assert f":{process.pid}:" in str(refused.value) and "expires in" in str(refused.value)
        with anyio.fail_after(ttl + 5):
            result = await wf.resume(crash.RUN_ID, wait=True)
        taken_over = time.time()
    assert result == ["a", "b", "c1", "c2", "d"]
    assert taken_over - killed < ttl + 3  # seconds after the lease lapsed, not 60 s of refusals
    assert (out / "a.log").read_text(encoding="utf-8").splitlines() == ["a crash-run:a:0"]
