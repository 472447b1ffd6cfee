"""Executions with a lifecycle: start, status, result, cancel and suspend — from another process.

A worker process runs a 4-node chain on a real SQLite file or Redis server; this process
cancels or suspends it through the shared store, then resumes it. Side-effect logs prove
which nodes ran and that no completed node ran twice.
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import pytest

from gecko.compose import Workflow, WorkflowContext
from gecko.compose.errors import (
    InterruptError,
    RunCancelledError,
    RunFailedError,
    RunInterrupted,
    RunNotFoundError,
    RunSuspended,
)
from gecko.core.errors import ConfigurationError
from gecko.core.testing import wait_until

pytestmark = pytest.mark.anyio

WORKER = Path(__file__).with_name("lifecycle_worker.py")


def load_worker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gecko_compose_lifecycle_worker", WORKER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


worker = load_worker()


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    url: str = request.getfixturevalue("redis_url")
    prefix: str = request.getfixturevalue("redis_prefix")
    return f"{url}{'&' if '?' in url else '?'}prefix={prefix}"


def ran(out: Path) -> dict[str, int]:
    return {
        node: len((out / f"{node}.log").read_text().splitlines())
        for node in worker.NODES
        if (out / f"{node}.log").exists()
    }


async def start_worker(
    url: str, out: Path, session_id: str, gate: str, started: str = "n1"
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, str(WORKER), url, str(out), session_id, gate],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )

    def started_or_dead() -> bool:
        if process.poll() is not None:
            raise AssertionError(process.communicate()[1].decode())
        return (out / f"{started}.log").exists()

    await wait_until(started_or_dead, timeout=120, message=f"the worker reaching {started}")
    return process


def outcome(process: subprocess.Popen[bytes], out: Path) -> str:
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()
    return (out / "outcome").read_text()


async def test_cancel_from_another_process_stops_the_run_at_once(
    store_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    process = await start_worker(store_url, out, "to-cancel", gate="block")
    async with worker.build(store_url, out) as wf:
        assert await wf.handle("to-cancel").status() == "running"
        assert await wf.cancel("to-cancel") == "cancelled"
        assert outcome(process, out) == "cancelled"
        assert ran(out) == {"n0": 1, "n1": 1}  # n1 was cancelled while it waited
        state = await wf.get_state("to-cancel")
        assert state.status == "cancelled"
        with pytest.raises(RunCancelledError):
            await wf.resume("to-cancel")  # cancelled on request is final
        with pytest.raises(RunCancelledError):
            await wf.handle("to-cancel").result()
        assert await wf.cancel("to-cancel") == "cancelled"  # a no-op now
    assert ran(out) == {"n0": 1, "n1": 1}


async def test_suspend_from_another_process_then_resume_continues_where_it_stopped(
    store_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    process = await start_worker(store_url, out, "to-suspend", gate="request")
    async with worker.build(store_url, out) as wf:
        assert await wf.suspend("to-suspend") == "suspended"
        assert outcome(process, out) == "suspended"
        assert ran(out) == {"n0": 1, "n1": 1}  # n1 finished (after the request), then it stopped
        assert (await wf.get_state("to-suspend")).status == "suspended"
        assert await wf.resume("to-suspend") == 4
    assert ran(out) == {"n0": 1, "n1": 1, "n2": 1, "n3": 1}


async def test_a_run_whose_owner_died_is_cancelled_once_its_lease_expires(
    store_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    process = await start_worker(store_url, out, "orphan", gate="block")
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL
    async with worker.build(store_url, out) as wf:
        assert await wf.cancel("orphan") == "cancelled"  # waits out the dead owner's lease
        assert (await wf.get_state("orphan")).status == "cancelled"


async def test_start_returns_a_handle_that_waits_for_the_result(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    gate = anyio.Event()

    async def held(value: int) -> int:
        await gate.wait()
        return value + 1

    def chain(name: str) -> Workflow:
        wf = Workflow(name, storage=url).add_node("held", held).add_node("done", lambda x: x * 2)
        return wf.add_edge("held", "done").set_entry_point("held")

    async with chain("bg") as wf:
        handle = await wf.start(10, session_id="bg")
        assert await handle.status() == "running"
        gate.set()
        assert await handle.result(timeout=60) == 22
        assert await handle.status() == "completed"
        async with chain("bg") as other:
            assert await other.handle("bg").result() == 22  # seen from another workflow object
            with pytest.raises(RunNotFoundError):
                await other.handle("never").status()
        assert [(r.run_id, r.status) for r in await wf.runs()] == [("bg", "completed")]
        assert await wf.runs(status="running") == []
        with pytest.raises(ConfigurationError, match="unknown run status"):
            await wf.runs(status="done")


async def test_result_waits_while_a_run_is_suspended_and_resumed_elsewhere(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    async with worker.build(url, out, gate="request") as wf:
        handle = await wf.start(0, session_id="paused")
        assert await handle.suspend() == "suspended"
        async with anyio.create_task_group() as group:
            results: list[Any] = []

            async def wait_result() -> None:
                results.append(await handle.result(timeout=60))

            group.start_soon(wait_result)
            await anyio.sleep(0.3)
            assert results == []  # still suspended: result() keeps waiting
            async with worker.build(url, out) as elsewhere:
                assert await elsewhere.resume("paused") == 4
        assert results == [4]


async def test_a_failed_run_is_reported_to_a_handle_in_another_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"

    def boom(value: Any) -> None:
        raise ValueError("no such customer")

    wf = Workflow("failing", storage=url).add_node("boom", boom).set_entry_point("boom")
    async with wf:
        handle = await wf.start(1, session_id="f")
        with pytest.raises(Exception, match="no such customer"):
            await handle.result()
        async with Workflow("failing", storage=url) as other:
            with pytest.raises(RunFailedError, match="ValueError: no such customer"):
                await other.handle("f").result()
        assert await handle.status() == "failed"


async def test_an_interrupted_run_can_be_cancelled_and_a_completed_one_is_left_alone(
    tmp_path: Path,
) -> None:
    async def ask(value: Any, ctx: WorkflowContext) -> Any:
        return await ctx.interrupt("?", key="ok")

    wf = Workflow("asks", storage=f"sqlite:///{tmp_path / 'runs.db'}")
    wf.add_node("ask", ask).set_entry_point("ask")
    async with wf:
        with pytest.raises(RunInterrupted):
            await wf.execute(None, session_id="i")
        assert await wf.suspend("i") == "interrupted"  # nothing to suspend
        assert await wf.cancel("i") == "cancelled"
        assert await wf.handle("i").interrupts() == []
        with pytest.raises(InterruptError, match="is cancelled, not interrupted"):
            await wf.resume("i", answers={"ok": 1})
        with pytest.raises(RunCancelledError):
            await wf.resume("i")
        with pytest.raises(RunInterrupted):
            await wf.execute(None, session_id="j")
        assert await wf.resume("j", answers={"ok": 2}) == 2
        assert await wf.cancel("j") == "completed"


async def test_execute_raises_run_suspended_when_suspended_in_process(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    stopped: list[RunSuspended] = []
    async with worker.build(f"sqlite:///{tmp_path / 'runs.db'}", out, gate="request") as wf:

        async def run() -> None:
            try:
                await wf.execute(0, session_id="s")
            except RunSuspended as error:
                stopped.append(error)

        async with anyio.create_task_group() as group:
            group.start_soon(run)
            await wait_until(lambda: (out / "n1.log").exists(), timeout=60, message="n1")
            assert await wf.suspend("s") == "suspended"
        assert [e.run_id for e in stopped] == ["s"]
        assert await wf.resume("s") == 4
    assert ran(out) == {"n0": 1, "n1": 1, "n2": 1, "n3": 1}
