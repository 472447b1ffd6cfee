"""Status is the truth (cancelled, timed_out), max_concurrency, and damaged history named, not crashed on."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pytest

from gecko.compose import Workflow
from gecko.compose.errors import CheckpointCorruptError, WorkflowTimeoutError
from gecko.core.errors import ConfigurationError, SchemaVersionError
from gecko.core.factories import create_storage
from gecko.core.storage.memory import MemoryStore

pytestmark = pytest.mark.anyio


def chain(
    store: Any, names: tuple[str, ...] = ("n01", "n02", "n03", "n04"), **options: Any
) -> Workflow:
    wf = Workflow("chain", storage=store, **options)
    for name in names:
        wf.add_node(name, lambda items, name=name: [*items, name])
    for source, target in itertools.pairwise(names):
        wf.add_edge(source, target)
    return wf.set_entry_point(names[0])


async def test_a_cancelled_run_is_recorded_cancelled_and_resumes() -> None:
    entered, release = anyio.Event(), anyio.Event()

    async def waits(items: list[str]) -> list[str]:
        entered.set()
        await release.wait()
        return [*items, "waits"]

    store = MemoryStore()
    wf = Workflow("stoppable", storage=store).add_node("first", lambda x: ["first"])
    wf.add_node("waits", waits).add_edge("first", "waits").set_entry_point("first")
    async with anyio.create_task_group() as group:
        group.start_soon(wf.execute, None, "cancel-me")
        await entered.wait()
        group.cancel_scope.cancel()
    snapshot = await wf.get_state("cancel-me")
    assert snapshot.status == "cancelled" and snapshot.next_nodes == ["waits"]
    assert (await wf.history("cancel-me"))[-1].status == "cancelled"
    assert await store.get_lease("cancel-me") is None  # the cancelled owner let go
    release.set()
    run = await wf.resume("cancel-me", return_run=True)
    assert run.output == ["first", "waits"] and run.summary.nodes_run == ["waits"]
    assert (await wf.get_state("cancel-me")).status == "completed"


async def test_a_timed_out_run_is_recorded_timed_out() -> None:
    async def forever(x: Any) -> None:
        await anyio.sleep_forever()

    wf = (
        Workflow("slow", storage=MemoryStore())
        .add_node("forever", forever)
        .set_entry_point("forever")
    )
    with pytest.raises(WorkflowTimeoutError):
        await wf.execute(None, session_id="late", timeout=0.05)
    assert (await wf.get_state("late")).status == "timed_out"
    run_info = await wf.history("late")
    assert run_info[-1].status == "timed_out"


async def test_max_concurrency_bounds_a_500_node_layer() -> None:
    running = 0
    peak = 0

    async def leaf(x: Any) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        for _ in range(3):  # give every other started node the chance to start too
            await anyio.lowlevel.checkpoint()
        running -= 1
        return 1

    def layer(limit: int | None) -> Workflow:
        wf = Workflow("wide", max_concurrency=limit).add_node("root", lambda x: x)
        for i in range(500):
            wf.add_node(f"leaf{i:03}", leaf).add_edge("root", f"leaf{i:03}")
        return wf.set_entry_point("root")

    result = await layer(7).execute(None)
    assert len(result) == 500 and peak == 7
    peak = 0
    await layer(None).execute(None)
    assert peak == 500  # unbounded, as before


async def test_max_concurrency_must_be_a_positive_int() -> None:
    for bad in (0, -1, 2.5):
        with pytest.raises(ConfigurationError, match="max_concurrency"):
            Workflow("x", max_concurrency=bad)  # type: ignore[arg-type]


# --- damaged history -------------------------------------------------------------------


@pytest.fixture
async def sqlite_run(tmp_path: Path) -> Any:
    """A completed-but-reopened 4-node run on a real SQLite file: (url, db path, seqs)."""
    path = tmp_path / "runs.db"
    url = f"sqlite:///{path}"
    async with chain(url) as wf:
        await wf.execute([], session_id="damaged")
        seqs = [info.seq for info in await wf.history("damaged")]
    return url, path, seqs


def delete_rows(path: Path, *seqs: int) -> None:
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "DELETE FROM gecko_checkpoints WHERE run_id = 'damaged' AND seq = ?",
            [(seq,) for seq in seqs],
        )


async def test_lost_first_checkpoints_are_named_not_a_key_error(sqlite_run: Any) -> None:
    url, path, seqs = sqlite_run
    delete_rows(path, seqs[0], seqs[1])
    async with chain(url) as wf:
        with pytest.raises(CheckpointCorruptError) as info:
            await wf.resume("damaged")
    error = info.value
    assert error.context["run_id"] == "damaged" and error.seq == seqs[2]
    assert "first checkpoints are gone" in str(error) and f"before {seqs[2]}" in error.missing
    assert "replay" in str(error) and "new session_id" in str(error)  # the ways out


async def test_a_gap_in_the_history_is_named(sqlite_run: Any) -> None:
    url, path, seqs = sqlite_run
    delete_rows(path, seqs[2])
    async with chain(url) as wf:
        with pytest.raises(
            CheckpointCorruptError, match=f"checkpoints {seqs[2]}..{seqs[2]} are gone"
        ):
            await wf.get_state("damaged")
        good = await wf.get_state("damaged", seqs[1])  # the way out: up to the last good one
        assert good.status == "running"


async def test_an_unknown_format_and_a_truncated_entry_are_named() -> None:
    store = MemoryStore()
    wf = chain(store)
    await wf.execute([], session_id="damaged")
    await store.append_checkpoint("damaged", {"format": "gecko.workflow/9", "entries": []})
    with pytest.raises(CheckpointCorruptError) as info:
        await wf.resume("damaged")
    assert isinstance(info.value, SchemaVersionError) and "gecko.workflow/9" in str(info.value)

    other = MemoryStore()
    await other.append_checkpoint(
        "cut",
        {"format": "gecko.workflow/1", "entries": [{"kind": "start", "wave": ["n01"]}]},
    )
    with pytest.raises(CheckpointCorruptError, match="truncated") as cut:
        await chain(other).resume("cut")
    assert cut.value.missing == "field 'plan'"


async def test_a_plan_needing_an_output_the_history_lacks_is_named() -> None:
    store = MemoryStore()
    wf = chain(store)
    await store.append_checkpoint(
        "holes",
        {
            "format": "gecko.workflow/1",
            "entries": [
                {
                    "kind": "snapshot",
                    "graph": wf.fingerprint(),
                    "status": "running",
                    "step": 2,
                    "wave": ["n01"],
                    "resolved": [["n01", "done"], ["n02", "done"]],
                    "plan": [{"node": "n03", "from": ["n02"]}],
                    "history": {},  # n02's output is gone
                }
            ],
        },
    )
    with pytest.raises(CheckpointCorruptError, match="output of node 'n02'"):
        await wf.resume("holes")


async def test_a_record_of_another_graph_is_named() -> None:
    async with await create_storage("memory://") as store:
        await chain(store).execute([], session_id="v1", timeout=None)
        await store.append_checkpoint(  # reopen it: as if it had failed at the end
            "v1", {"format": "gecko.workflow/1", "entries": [{"kind": "failed", "step": 4}]}
        )
        changed = chain(store, ("n01", "n02", "n03", "n04", "n05"))
        with pytest.raises(CheckpointCorruptError, match="another graph"):
            await changed.resume("v1")
