"""``compensate``: when a run fails for good, what its completed nodes did is undone, latest
first, each compensation durable — a crash during compensation resumes the compensation."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from gecko.compose import Workflow
from gecko.compose.errors import (
    CompensationError,
    NodeExecutionError,
    RunFailedError,
    UnknownNodeError,
)
from gecko.core.testing import wait_until

pytestmark = pytest.mark.anyio

WORKER = Path(__file__).with_name("compensation_worker.py")


def load_worker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gecko_compose_compensation_worker", WORKER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


worker = load_worker()


def lines(out: Path, name: str) -> list[str]:
    path = out / f"{name}.log"
    return path.read_text().splitlines() if path.exists() else []


async def test_a_failed_run_undoes_its_completed_nodes_latest_first(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    async with worker.build(f"sqlite:///{tmp_path / 'runs.db'}", out) as wf:
        with pytest.raises(NodeExecutionError, match="nothing left to ship"):
            await wf.execute("order-1", session_id="booking")
        state = await wf.get_state("booking")
        assert state.status == "failed"
        with pytest.raises(RunFailedError, match="compensated"):
            await wf.resume("booking")  # final: ship is not tried again
    assert lines(out, "refund") == [
        "payment:reservation:order-1 because OutOfStock: nothing left to ship"
    ]
    assert lines(out, "release") == ["reservation:order-1"]
    assert lines(out, "ship") == ["payment:reservation:order-1"]  # once


async def test_the_summary_lists_the_compensations_in_order() -> None:
    done: list[str] = []
    wf = Workflow("summary")
    wf.add_node("a", lambda x: "a", compensate="undo_a")
    wf.add_node("b", lambda x: "b", compensate="undo_b")
    wf.add_node("fail", lambda x: 1 / 0)
    wf.add_node("undo_a", lambda x: done.append(f"undo {x}"))
    wf.add_node("undo_b", lambda x: done.append(f"undo {x}"))
    wf.add_edge("a", "b").add_edge("b", "fail").set_entry_point("a")
    with pytest.raises(NodeExecutionError, match="ZeroDivisionError"):
        await wf.execute(None)
    assert done == ["undo b", "undo a"]


async def test_a_failing_compensation_is_reported_with_the_failure_and_the_rest_still_run() -> None:
    done: list[str] = []

    def broken(x: Any) -> None:
        raise RuntimeError("refund API down")

    wf = Workflow("both")
    wf.add_node("a", lambda x: "a", compensate="undo_a")
    wf.add_node("b", lambda x: "b", compensate="undo_b")
    wf.add_node("fail", lambda x: 1 / 0).add_node("undo_b", broken)
    wf.add_node("undo_a", lambda x: done.append(x))
    wf.add_edge("a", "b").add_edge("b", "fail").set_entry_point("a")
    with pytest.raises(CompensationError) as error:
        await wf.execute(None)
    assert isinstance(error.value.error, NodeExecutionError)
    assert [(node, str(e)) for node, e in error.value.failures] == [("undo_b", "refund API down")]
    assert "ZeroDivisionError" in str(error.value) and "refund API down" in str(error.value)
    assert done == ["a"]


def test_a_compensation_node_that_does_not_exist_is_refused() -> None:
    wf = Workflow("bad").add_node("a", lambda x: x, compensate="nowhere").set_entry_point("a")
    with pytest.raises(UnknownNodeError, match="nowhere"):
        wf.validate()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
async def test_a_crash_during_compensation_resumes_the_compensation(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    out = tmp_path / "out"
    out.mkdir()
    process = subprocess.Popen(
        [sys.executable, str(WORKER), url, str(out), "hang"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:

        def hanging_or_dead() -> bool:
            if process.poll() is not None:
                raise AssertionError(process.communicate()[1].decode())
            return (out / "hanging").exists()

        await wait_until(hanging_or_dead, timeout=120, message="the worker inside a compensation")
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=60) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
    async with worker.build(url, out) as wf:
        assert (await wf.get_state("booking")).status == "compensating"
        with pytest.raises(RunFailedError, match="nothing left to ship"):
            await wf.resume("booking", wait=True)  # waits out the dead worker's lease
        assert (await wf.get_state("booking")).status == "failed"
    assert len(lines(out, "refund")) == 1  # done before the crash: not again
    assert lines(out, "release") == ["reservation:order-1"] * 2  # interrupted: run again
    assert len(lines(out, "ship")) == 1
