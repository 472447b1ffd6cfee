"""Checkpoints: incremental size, retention, compaction, resume, time travel, strategies, types."""

from __future__ import annotations

import json
import threading
from typing import Any

import anyio
import pytest
from pydantic import BaseModel, field_serializer

from gecko.compose import CheckpointStrategy, Workflow, WorkflowContext, register_type
from gecko.compose.errors import RunExistsError, RunNotFoundError, UnregisteredTypeError
from gecko.core.errors import SerializationError
from gecko.core.output import AgentOutput, TokenUsage
from gecko.core.storage.memory import MemoryStore

pytestmark = pytest.mark.anyio


class Verdict(BaseModel):
    label: str
    score: float


class Secret(BaseModel):
    token: str


register_type(Verdict)


async def stored_bytes(store: MemoryStore, run_id: str) -> int:
    return sum(len(json.dumps(c.data)) for c in await store.list_checkpoints(run_id))


def counter_chain(steps: int, store: Any, **options: Any) -> Workflow:
    async def seed(ctx: WorkflowContext) -> int:
        ctx.state["blob"] = "x" * 200_000  # a large value, written once
        ctx.state["count"] = 0
        return 0

    async def bump(x: int, ctx: WorkflowContext) -> int:
        assert len(ctx.state["blob"]) == 200_000  # read every step, never re-stored
        ctx.state["count"] += 1
        return x + 1

    wf = Workflow("chain", storage=store, **options).add_node("seed", seed)
    previous = "seed"
    for i in range(steps):
        wf.add_node(f"bump{i}", bump).add_edge(previous, f"bump{i}")
        previous = f"bump{i}"
    return wf.set_entry_point("seed")


async def test_checkpoints_are_incremental_so_storage_grows_with_data_not_steps() -> None:
    store = MemoryStore()
    short = counter_chain(10, store)
    long = counter_chain(50, store)
    assert await short.execute(None, session_id="short") == 10
    assert await long.execute(None, session_id="long") == 50
    small, big = await stored_bytes(store, "short"), await stored_bytes(store, "long")
    per_step = (big - small) / 40
    assert 200_000 < small < 220_000  # the blob is stored once
    assert per_step < 1_000  # each extra step adds a few hundred bytes, not the 200 kB state
    snapshot = await long.get_state("long")
    assert snapshot.state["count"] == 50 and len(snapshot.state["blob"]) == 200_000
    assert len(await long.history("long")) == 52  # start + one per step


async def test_retention_keeps_the_last_checkpoints_and_loses_nothing() -> None:
    store = MemoryStore()
    wf = counter_chain(30, store, keep_checkpoints=3)
    await wf.execute(None, session_id="kept")
    history = await wf.history("kept")
    assert len(history) <= 7 and history[0].kinds == ["snapshot"]
    snapshot = await wf.get_state("kept")
    assert snapshot.status == "completed" and snapshot.result == 30
    assert snapshot.state["count"] == 30 and len(snapshot.history) == 31  # every node's output kept
    assert await stored_bytes(store, "kept") < 3 * 210_000


async def test_compact_squashes_history_into_one_snapshot() -> None:
    store = MemoryStore()
    wf = counter_chain(5, store)
    await wf.execute(None, session_id="c")
    before = await wf.get_state("c")
    first_seq = (await wf.history("c"))[1].seq
    assert await wf.compact("c") == 7
    assert [h.kinds for h in await wf.history("c")] == [["snapshot"]]
    after = await wf.get_state("c")
    assert (after.state, after.history, after.result, after.status) == (
        before.state,
        before.history,
        before.result,
        before.status,
    )
    with pytest.raises(RunNotFoundError, match="compacted"):
        await wf.replay("c", first_seq)


async def test_an_unserializable_state_value_is_an_error_naming_node_and_key() -> None:
    async def opens(ctx: WorkflowContext) -> str:
        ctx.state["conn"] = {"socket": threading.Lock()}
        return "ok"

    wf = Workflow("bad", storage=MemoryStore()).add_node("opens", opens).set_entry_point("opens")
    with pytest.raises(SerializationError) as info:
        await wf.execute(None, session_id="bad")
    message = str(info.value)
    assert (
        "state key 'conn' written by node 'opens'" in message
        and "$.socket" in message
        and "lock" in message
    )
    snapshot = await wf.get_state(
        "bad"
    )  # nothing was cut or stringified: the step is simply not stored
    assert (
        snapshot.status == "running" and snapshot.next_nodes == ["opens"] and snapshot.state == {}
    )


async def test_unregistered_models_are_refused_at_checkpoint_time() -> None:
    wf = (
        Workflow("secret", storage=MemoryStore())
        .add_node("s", lambda x: Secret(token="t"))
        .set_entry_point("s")
    )
    with pytest.raises(UnregisteredTypeError, match=r"output of node .s..*register_type"):
        await wf.execute(None, session_id="s")


class Flaky:
    """Fails the first ``failures`` calls of a node, counting every call and key."""

    def __init__(self, failures: int = 1) -> None:
        self.failures = failures
        self.calls: list[str] = []

    def node(self, name: str, result: Any = None):  # type: ignore[no-untyped-def]
        async def run(x: Any, ctx: WorkflowContext) -> Any:
            self.calls.append(f"{name}@{ctx.idempotency_key}")
            if name == "flaky" and self.failures > 0:
                self.failures -= 1
                raise ConnectionError("transient")
            return result if result is not None else f"{name}({x})"

        return run


async def test_resume_after_a_failure_reruns_only_the_failed_node_with_the_same_key() -> None:
    flaky = Flaky()
    wf = Workflow("resume", storage=MemoryStore())
    for name in ("a", "flaky", "c"):
        wf.add_node(name, flaky.node(name))
    wf.add_edge("a", "flaky").add_edge("flaky", "c").set_entry_point("a")
    with pytest.raises(Exception, match="transient"):
        await wf.execute("in", session_id="r")
    run = await wf.resume("r", return_run=True)
    assert run.output == "c(flaky(a(in)))"
    assert flaky.calls == ["a@r:a:0", "flaky@r:flaky:1", "flaky@r:flaky:1", "c@r:c:2"]
    assert run.summary.nodes_run == ["flaky", "c"]
    # A completed run is not run again: resume returns the stored result.
    assert await wf.resume("r") == "c(flaky(a(in)))" and len(flaky.calls) == 4


async def test_resume_reuses_completed_siblings_of_a_failed_parallel_step() -> None:
    flaky = Flaky()
    wf = Workflow("siblings", storage=MemoryStore(), reducers={"log": lambda a, b: a + b})

    def writer(name: str):  # type: ignore[no-untyped-def]
        inner = flaky.node(name)

        async def node(x: Any, ctx: WorkflowContext) -> Any:
            ctx.state["log"] = [name]
            return await inner(x, ctx)

        return node

    wf.add_node("start", lambda x: x).add_node("good", writer("good")).add_node(
        "flaky", writer("flaky")
    )
    wf.add_node("end", lambda ctx: sorted(ctx.state["log"]))
    wf.add_edge("start", "good").add_edge("start", "flaky").add_edge("good", "end").add_edge(
        "flaky", "end"
    )
    wf.set_entry_point("start")
    with pytest.raises(Exception, match="transient"):
        await wf.execute(0, session_id="p")
    run = await wf.resume("p", return_run=True)
    assert run.output == ["flaky", "good"]  # both updates merged exactly once
    assert flaky.calls.count("good@p:good:1") == 1 and flaky.calls.count("flaky@p:flaky:1") == 2
    assert run.summary.nodes_resumed == ["start", "good"]


async def test_models_in_outputs_and_state_survive_a_resume() -> None:
    flaky = Flaky()

    async def judge(x: Any, ctx: WorkflowContext) -> AgentOutput:
        ctx.state["verdict"] = Verdict(label="good", score=0.9)
        return AgentOutput(
            content="fine", usage=TokenUsage.of(1, 2), parsed=Verdict(label="ok", score=1)
        )

    async def use(output: AgentOutput, ctx: WorkflowContext) -> str:
        await flaky.node("flaky")(output, ctx)
        assert isinstance(output, AgentOutput) and isinstance(output.parsed, Verdict)
        assert isinstance(ctx.state["verdict"], Verdict)
        return f"{output.parsed.label}/{ctx.state['verdict'].label}"

    wf = Workflow("models", storage=MemoryStore()).add_node("judge", judge).add_node("use", use)
    wf.add_edge("judge", "use").set_entry_point("judge")
    with pytest.raises(Exception, match="transient"):
        await wf.execute(None, session_id="m")
    assert await wf.resume("m") == "ok/good"


async def test_time_travel_replays_from_an_earlier_checkpoint_as_a_new_run() -> None:
    flaky = Flaky(failures=0)

    async def count(x: Any, ctx: WorkflowContext) -> int:
        ctx.state["n"] = ctx.state.get("n", 0) + 1
        await flaky.node("count")(x, ctx)
        return ctx.state["n"]

    wf = Workflow("tt", storage=MemoryStore())
    for name in ("a", "b", "c"):
        wf.add_node(name, count)
    wf.add_edge("a", "b").add_edge("b", "c").set_entry_point("a")
    assert await wf.execute(None, session_id="orig") == 3
    history = await wf.history("orig")
    after_a = next(h.seq for h in history if h.nodes == ["a"])
    flaky.calls.clear()
    run = await wf.replay(
        "orig", after_a, new_session_id="fork", update_state={"n": 10}, return_run=True
    )
    assert run.output == 12 and run.run_id == "fork"
    assert flaky.calls == ["count@fork:b:1", "count@fork:c:2"]  # only b and c ran again
    assert (await wf.get_state("orig")).result == 3  # the original run is untouched
    fork = await wf.get_state("fork")
    assert fork.forked_from == {"run_id": "orig", "seq": after_a}
    with pytest.raises(RunExistsError):
        await wf.replay("orig", after_a, new_session_id="fork")


async def test_final_and_manual_strategies() -> None:
    store = MemoryStore()
    final = counter_chain(5, store, checkpoint_strategy=CheckpointStrategy.FINAL)
    await final.execute(None, session_id="final")
    assert len(await store.list_checkpoints("final")) == 1
    assert (await final.get_state("final")).result == 5

    async def asks(x: int, ctx: WorkflowContext) -> int:
        if x == 2:
            ctx.request_checkpoint()
        return x + 1

    manual = Workflow("manual", storage=store, checkpoint_strategy="manual")
    for i in range(5):
        manual.add_node(f"n{i}", asks)
        if i:
            manual.add_edge(f"n{i - 1}", f"n{i}")
    manual.set_entry_point("n0")
    await manual.execute(0, session_id="manual")
    [only] = await manual.history("manual")
    assert only.steps == [0, 1, 2] and only.kinds[0] == "start"


async def test_runs_are_protected_from_mixups() -> None:
    wf = Workflow("guard", storage=MemoryStore()).add_node("a", lambda x: x).set_entry_point("a")
    await wf.execute(1, session_id="one")
    with pytest.raises(RunExistsError, match="resume"):
        await wf.execute(1, session_id="one")
    with pytest.raises(RunNotFoundError, match="no checkpoints stored for run 'nope'"):
        await wf.resume("nope")
    no_storage = Workflow("none").add_node("a", lambda x: x).set_entry_point("a")
    with pytest.raises(RunNotFoundError, match="has no storage"):
        await no_storage.resume("x")


async def test_a_run_resumes_only_once_at_a_time_in_a_process() -> None:
    release = anyio.Event()
    entered = anyio.Event()

    async def slow(x: Any) -> str:
        entered.set()
        await release.wait()
        return "done"

    wf = Workflow("once", storage=MemoryStore()).add_node("slow", slow).set_entry_point("slow")
    async with anyio.create_task_group() as group:
        group.start_soon(wf.execute, None, "busy")
        await entered.wait()
        with pytest.raises(RunExistsError, match="already executing"):
            await wf.resume("busy")
        release.set()


class Tracked(BaseModel):
    rows: list[int]
    name: str

    @field_serializer("name")
    def _record_thread(self, value: str) -> str:
        SERIALIZED_IN.append(threading.current_thread().name)
        return value


SERIALIZED_IN: list[str] = []
register_type(Tracked)


async def test_large_checkpoints_are_encoded_off_the_event_loop() -> None:
    SERIALIZED_IN.clear()
    wf = Workflow("big", storage=MemoryStore())
    wf.add_node("small", lambda x: Tracked(rows=[1], name="small"))
    wf.add_node("large", lambda x: Tracked(rows=list(range(50_000)), name="large"))
    wf.add_edge("small", "large").set_entry_point("small")
    await wf.execute(None, session_id="big")
    loop_thread = threading.current_thread().name
    assert SERIALIZED_IN[0] == loop_thread  # a tiny checkpoint is encoded inline
    assert SERIALIZED_IN[1] != loop_thread  # a large one in a worker thread


async def test_async_durability_writes_in_the_background_and_loses_nothing() -> None:
    store = MemoryStore()
    wf = counter_chain(20, store, durability="async")
    assert await wf.execute(None, session_id="bg") == 20
    history = await wf.history("bg")
    steps = [step for info in history for step in info.steps]
    assert steps == list(range(21))  # every step stored, in order
    assert len(history) < 22  # steps that finished during a write were stored together
    snapshot = await wf.get_state("bg")
    assert (
        snapshot.status == "completed"
        and snapshot.state["count"] == 20
        and len(snapshot.history) == 21
    )


class BrokenStore(MemoryStore):
    """A memory store whose disk "fills up" after a few checkpoints."""

    def __init__(self, works: int) -> None:
        super().__init__()
        self.works = works

    async def append_checkpoint(self, run_id: str, data: dict[str, Any]) -> int:
        if self.works <= 0:
            from gecko.core.errors import StorageError

            raise StorageError("disk full")
        self.works -= 1
        return await super().append_checkpoint(run_id, data)


@pytest.mark.parametrize("durability", ["sync", "async"])
async def test_a_failing_store_fails_the_run(durability: str) -> None:
    from gecko.core.errors import StorageError

    wf = counter_chain(5, BrokenStore(works=0), durability=durability)
    with pytest.raises(StorageError, match="disk full"):
        await wf.execute(None, session_id="full")


async def test_tombstones_merge_and_survive_checkpoints() -> None:
    async def seed(ctx: WorkflowContext) -> str:
        ctx.state.update(temp="scratch", keep=1, other="x")
        return "seeded"

    async def cleanup(ctx: WorkflowContext) -> str:
        del ctx.state["temp"]
        assert "temp" not in ctx.state
        return "cleaned"

    async def reader(ctx: WorkflowContext) -> str:
        return "saw temp" if "temp" in ctx.state else "no temp"  # a sibling still sees the value

    wf = Workflow("tomb", storage=MemoryStore())
    wf.add_node("seed", seed).add_node("cleanup", cleanup).add_node("reader", reader)
    wf.add_node("after", lambda ctx: sorted(ctx.state))
    wf.add_edge("seed", "cleanup").add_edge("seed", "reader").add_edge("cleanup", "after").add_edge(
        "reader", "after"
    )
    wf.set_entry_point("seed")
    run = await wf.execute(None, session_id="tomb", return_run=True)
    assert run.output == ["keep", "other"] and run.history["reader"] == "saw temp"
    assert (await wf.get_state("tomb")).state == {"keep": 1, "other": "x"}


async def test_a_sub_workflow_interrupted_inside_is_resumed_not_restarted() -> None:
    flaky = Flaky()
    child = Workflow("child")
    child.add_node("prepare", flaky.node("prepare")).add_node("flaky", flaky.node("flaky"))
    child.add_edge("prepare", "flaky").set_entry_point("prepare")
    parent = Workflow("parent", storage=MemoryStore())
    parent.add_node("start", flaky.node("start")).add_node("child", child).add_edge(
        "start", "child"
    )
    parent.set_entry_point("start")
    with pytest.raises(Exception, match="transient"):
        await parent.execute("x", session_id="outer")
    assert await parent.resume("outer") == "flaky(prepare(start(x)))"
    assert flaky.calls == [
        "start@outer:start:0",
        "prepare@outer/child/1:prepare:0",
        "flaky@outer/child/1:flaky:1",
        "flaky@outer/child/1:flaky:1",  # only the failed node of the child ran again
    ]
