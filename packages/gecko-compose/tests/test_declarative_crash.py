"""Crash and resume of a YAML DAG on a real SQLite file: SIGKILL a worker, resume here."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from gecko.core.testing import wait_until

pytestmark = [pytest.mark.anyio, pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")]

WORKER = Path(__file__).with_name("declarative_crash_worker.py")


def load_worker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gecko_declarative_crash_worker", WORKER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lines(out: Path, node: str) -> list[str]:
    path = out / f"{node}.log"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


async def crash(tmp_path: Path, kill_at: str) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    out = tmp_path / "out"
    out.mkdir()
    process = subprocess.Popen(
        [sys.executable, str(WORKER), url, str(out), kill_at],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:

        def ready_or_dead() -> bool:
            if process.poll() is not None:
                _, err = process.communicate()
                raise AssertionError(f"worker exited early ({process.returncode}):\n{err.decode()}")
            return (out / "ready").exists()

        await wait_until(ready_or_dead, timeout=120, message=f"worker reaching {kill_at}")
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=60) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert not (out / "finished").exists()
    return url, out


@pytest.mark.parametrize("kill_at", ["big", "invoice"])
async def test_a_killed_yaml_dag_resumes_without_rerunning_completed_nodes(
    tmp_path: Path, kill_at: str
) -> None:
    url, out = await crash(tmp_path, kill_at)
    worker = load_worker()
    async with worker.load(url, out, None) as wf:
        run = await wf.resume(worker.RUN_ID, return_run=True, wait=True)
    assert run.output == {"node": "invoice", "value": 36}
    assert lines(out, "fetch") == [f"fetch {worker.RUN_ID}:fetch:1"]  # ran once, in the worker
    assert lines(out, "small") == []  # the switch's other branch never ran
    killed = lines(out, kill_at)
    assert len(killed) == 2 and killed[0] == killed[1]  # re-run once, with the same key
    assert "fetch" in run.summary.nodes_resumed and kill_at in run.summary.nodes_run
    for node in {"fetch", "price", "big", "invoice"} - {kill_at}:
        assert len(lines(out, node)) == 1, node
