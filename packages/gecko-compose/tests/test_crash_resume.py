"""Crash and resume on a real SQLite file: the run is killed with SIGKILL, then resumed here.

Side-effect files prove that completed nodes ran exactly once and that an
interrupted node ran again with the same idempotency key.
"""

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

WORKER = Path(__file__).with_name("crash_worker.py")


def load_worker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gecko_compose_crash_worker", WORKER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lines(out: Path, node: str) -> list[str]:
    path = out / f"{node}.log"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


async def crash(tmp_path: Path, mode: str, durability: str = "sync") -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    out = tmp_path / "out"
    out.mkdir()
    process = subprocess.Popen(
        [sys.executable, str(WORKER), url, str(out), mode, durability],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:

        def ready_or_dead() -> bool:
            if process.poll() is not None:
                _, err = process.communicate()
                raise AssertionError(f"worker exited early ({process.returncode}):\n{err.decode()}")
            return (out / "ready").exists()

        await wait_until(ready_or_dead, timeout=120, message=f"worker reaching {mode}")
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=60) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert not (out / "finished").exists()
    return url, out


async def test_killed_between_nodes_resumes_without_rerunning_completed_nodes(
    tmp_path: Path,
) -> None:
    url, out = await crash(tmp_path, "between:b")
    assert lines(out, "a") == ["a crash-run:a:0"] and lines(out, "b") == []
    worker = load_worker()
    async with worker.build(url, out, None) as wf:
        run = await wf.resume(worker.RUN_ID, return_run=True, wait=True)
    assert run.output == ["a", "b", "c1", "c2", "d"]
    for node in ("a", "b", "c1", "c2", "d"):
        assert len(lines(out, node)) == 1, node  # every node ran exactly once across both processes
    assert run.summary.nodes_run == ["b", "c1", "c2", "d"]
    assert run.state["a"] == "crash-run:a:0"  # state written before the crash survived


async def test_killed_inside_a_node_reruns_it_with_the_same_idempotency_key(tmp_path: Path) -> None:
    url, out = await crash(tmp_path, "inside:b")
    assert lines(out, "b") == ["b crash-run:b:1"]
    worker = load_worker()
    async with worker.build(url, out, None) as wf:
        result = await wf.resume(worker.RUN_ID, wait=True)
    assert result == ["a", "b", "c1", "c2", "d"]
    assert lines(out, "a") == ["a crash-run:a:0"]
    assert lines(out, "b") == ["b crash-run:b:1", "b crash-run:b:1"]  # again, same key
    assert lines(out, "d") == ["d crash-run:d:3"]


async def test_killed_inside_a_parallel_step_keeps_the_finished_sibling(tmp_path: Path) -> None:
    url, out = await crash(tmp_path, "inside:c2")
    assert lines(out, "c1") == ["c1 crash-run:c1:2"] and lines(out, "c2") == ["c2 crash-run:c2:2"]
    worker = load_worker()
    async with worker.build(url, out, None) as wf:
        run = await wf.resume(worker.RUN_ID, return_run=True, wait=True)
        history = await wf.history(worker.RUN_ID)
    assert run.output == ["a", "b", "c1", "c2", "d"]
    assert lines(out, "c1") == ["c1 crash-run:c1:2"]  # finished before the crash: not run again
    assert lines(out, "c2") == ["c2 crash-run:c2:2", "c2 crash-run:c2:2"]
    assert run.summary.nodes_resumed == ["a", "b", "c1"] and run.summary.nodes_run == ["c2", "d"]
    assert history[-1].status == "completed"
    assert run.state == {
        n: f"crash-run:{n}:{s}" for n, s in (("a", 0), ("b", 1), ("c1", 2), ("c2", 2), ("d", 3))
    }


async def test_async_durability_may_rerun_recent_steps_but_always_with_their_keys(
    tmp_path: Path,
) -> None:
    url, out = await crash(tmp_path, "inside:d", durability="async")
    worker = load_worker()
    async with worker.build(url, out, None, "async") as wf:
        result = await wf.resume(worker.RUN_ID, wait=True)
    assert result == ["a", "b", "c1", "c2", "d"]
    for node, step in (("a", 0), ("b", 1), ("c1", 2), ("c2", 2), ("d", 3)):
        runs = lines(out, node)
        assert runs and set(runs) == {f"{node} crash-run:{node}:{step}"}, (
            runs
        )  # re-runs reuse the key
    assert len(lines(out, "d")) == 2


@pytest.mark.parametrize("node", ["b", "c1", "d"])
async def test_killed_inside_a_completion_event_handler_never_reruns_the_node(
    tmp_path: Path, node: str
) -> None:
    url, out = await crash(tmp_path, f"event:{node}")
    assert len(lines(out, node)) == 1
    worker = load_worker()
    async with worker.build(url, out, None) as wf:
        result = await wf.resume(worker.RUN_ID, wait=True)
    assert result == ["a", "b", "c1", "c2", "d"]
    for name in ("a", "b", "c1", "c2", "d"):
        assert len(lines(out, name)) == 1, name  # announced complete: durable, never run again


KILL_POINTS = [
    *(f"inside:{n}" for n in ("a", "b", "c1", "c2", "d")),
    *(f"event:{n}" for n in ("a", "b", "c1", "c2", "d")),
    *(f"between:{n}" for n in ("b", "c1", "d")),
]


@pytest.mark.parametrize("mode", KILL_POINTS)
async def test_at_every_kill_point_no_acknowledged_node_reruns(tmp_path: Path, mode: str) -> None:
    url, out = await crash(tmp_path, mode)
    acknowledged = {line.split()[1] for line in lines(out, "announced")}
    if mode.startswith("event:"):
        acknowledged.add(mode.split(":", 1)[1])  # its event fired: its completion was stored
    if mode not in ("inside:a", "event:a"):
        assert "a" in acknowledged  # the kill came after some nodes were acknowledged
    ran_before = {node: lines(out, node) for node in ("a", "b", "c1", "c2", "d")}
    worker = load_worker()
    async with worker.build(url, out, None) as wf:
        run = await wf.resume(worker.RUN_ID, return_run=True, wait=True)
    assert run.output == ["a", "b", "c1", "c2", "d"]
    for node, step in (("a", 0), ("b", 1), ("c1", 2), ("c2", 2), ("d", 3)):
        runs = lines(out, node)
        assert set(runs) == {f"{node} crash-run:{node}:{step}"}  # re-runs reuse the key
        if node in acknowledged:
            assert runs == ran_before[node], node  # acknowledged: never run again
        else:
            assert len(runs) <= 2, node
