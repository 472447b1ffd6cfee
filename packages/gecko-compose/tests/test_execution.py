"""Running workflows: argument injection, thread offload, parallel layers, COW state, joins."""

from __future__ import annotations

import threading
from itertools import pairwise
from typing import Any

import anyio
import anyio.to_thread
import pytest

from gecko.compose import Workflow, WorkflowContext, step
from gecko.compose.errors import ComposeError, StateConflictError

pytestmark = pytest.mark.anyio


async def test_entry_node_gets_the_input_and_each_node_the_previous_output() -> None:
    wf = Workflow("chain")
    wf.add_node("double", lambda x: x * 2).add_node("inc", step(offload=False)(lambda x: x + 1))
    wf.add_edge("double", "inc").set_entry_point("double")
    assert await wf.execute(5) == 11


async def test_arguments_are_injected_by_name_and_annotation() -> None:
    seen: dict[str, Any] = {}

    async def by_name(ctx):  # type: ignore[no-untyped-def]
        seen["by_name"] = (type(ctx).__name__, ctx.input)
        return "a"

    async def by_annotation(value: str, c: WorkflowContext) -> str:
        seen["by_annotation"] = (value, c.node, c.last_output, c.get_last_output())
        return "b"

    def context_first(context, data):  # type: ignore[no-untyped-def]
        seen["context_first"] = (context.node, data)
        return "c"

    async def keyword_only(*, ctx: WorkflowContext, flag: bool = True) -> str:
        seen["keyword_only"] = (ctx.node, flag)
        return "d"

    def nothing() -> str:
        seen["nothing"] = True
        return "e"

    wf = Workflow("inject")
    names = ["by_name", "by_annotation", "context_first", "keyword_only", "nothing"]
    for name, fn in zip(names, [by_name, by_annotation, context_first, keyword_only, nothing]):
        wf.add_node(name, fn)
    for a, b in pairwise(names):
        wf.add_edge(a, b)
    wf.set_entry_point("by_name")
    assert await wf.execute("in") == "e"
    assert seen == {
        "by_name": ("WorkflowContext", "in"),
        "by_annotation": ("a", "by_annotation", "a", "a"),
        "context_first": ("context_first", "b"),
        "keyword_only": ("keyword_only", True),
        "nothing": True,
    }


async def test_sync_node_runs_in_a_worker_thread_while_a_sibling_progresses() -> None:
    started = threading.Event()
    release = threading.Event()

    def blocking(x: int) -> str:
        started.set()
        # Released only by the sibling below: if this ran on the event loop, the
        # sibling could never run and the wait would time out.
        return "released" if release.wait(timeout=60) else "stuck"

    async def sibling(x: int) -> str:
        assert await anyio.to_thread.run_sync(started.wait, 60)
        release.set()
        return "sibling ran"

    wf = Workflow("offload")
    wf.add_node("start", lambda x: x).add_node("blocking", blocking).add_node("sibling", sibling)
    wf.add_edge("start", "blocking").add_edge("start", "sibling").set_entry_point("start")
    result = await wf.execute(1)
    assert result == {"blocking": "released", "sibling": "sibling ran"}
    assert threading.current_thread() is threading.main_thread()


async def test_cow_state_is_per_node_and_history_is_shared() -> None:
    """Regression (0.4): parallel nodes get their own state view but the same history object."""
    seen: dict[str, tuple[int, int]] = {}
    gate = anyio.Event()
    arrived = 0

    def make(name: str):  # type: ignore[no-untyped-def]
        async def node(ctx: WorkflowContext) -> str:
            nonlocal arrived
            seen[name] = (id(ctx.state), id(ctx.history))
            ctx.state[f"{name}_key"] = name
            ctx.state["shared"].append(name)  # mutates this node's private copy
            assert ctx.state["shared"] == ["base", name]
            arrived += 1
            if arrived == 3:
                gate.set()
            await gate.wait()  # all three are in the layer at the same time
            return name

        return node

    async def seed(ctx: WorkflowContext) -> str:
        ctx.state["shared"] = ["base"]
        return "seed"

    async def check(ctx: WorkflowContext) -> dict[str, Any]:
        return {"state": ctx.state.to_dict(), "history": dict(ctx.history)}  # type: ignore[attr-defined]

    wf = Workflow(
        "cow", reducers={"shared": lambda old, new: old + [x for x in new if x not in old]}
    )
    wf.add_node("seed", seed).add_node("check", check)
    for name in ("a", "b", "c"):
        wf.add_node(name, make(name))
        wf.add_edge("seed", name).add_edge(name, "check")
    wf.set_entry_point("seed")
    with pytest.raises(
        ComposeError, match="'shared' has a reducer but was changed in place by node 'a'"
    ):
        await wf.execute(None)  # in-place change of a reducer key is refused...

    wf = Workflow("cow")
    wf.add_node("seed", seed).add_node("check", check)
    for name in ("a", "b", "c"):
        wf.add_node(name, make(name))
        wf.add_edge("seed", name).add_edge(name, "check")
    wf.set_entry_point("seed")
    seen.clear()
    gate = anyio.Event()
    arrived = 0
    with pytest.raises(
        StateConflictError
    ) as info:  # ...and without a reducer, three writers conflict
        await wf.execute(None)
    assert info.value.key == "shared"
    states = {v[0] for v in seen.values()}
    histories = {v[1] for v in seen.values()}
    assert len(states) == 3 and len(histories) == 1


async def test_parallel_writes_to_distinct_keys_merge_back() -> None:
    gate = anyio.Event()
    count = 0

    def writer(key: str):  # type: ignore[no-untyped-def]
        async def node(ctx: WorkflowContext) -> str:
            nonlocal count
            ctx.state[key] = key.upper()
            count += 1
            if count == 3:
                gate.set()
            await gate.wait()
            return key

        return node

    async def read(ctx: WorkflowContext) -> dict[str, Any]:
        return dict(ctx.state)

    wf = Workflow("merge")
    wf.add_node("start", lambda x: x).add_node("read", read)
    for key in ("x", "y", "z"):
        wf.add_node(key, writer(key))
        wf.add_edge("start", key).add_edge(key, "read")
    wf.set_entry_point("start")
    run = await wf.execute(0, state={"seed": 1}, return_run=True)
    assert run.output == {"seed": 1, "x": "X", "y": "Y", "z": "Z"}
    assert run.state == {"seed": 1, "x": "X", "y": "Y", "z": "Z"}


async def test_join_receives_outputs_of_all_predecessors_by_name() -> None:
    wf = Workflow("join")
    wf.add_node("split", lambda x: x).add_node("left", lambda x: x + 1).add_node(
        "right", lambda x: x * 10
    )
    wf.add_node("join", lambda parts: parts)
    wf.add_edge("split", "left").add_edge("split", "right").add_edge("left", "join").add_edge(
        "right", "join"
    )
    wf.set_entry_point("split")
    assert await wf.execute(2) == {"left": 3, "right": 20}


async def test_result_of_a_final_parallel_layer_is_a_dict() -> None:
    wf = Workflow("fanout")
    wf.add_node("a", lambda x: x).add_node("b", lambda x: "b").add_node("c", lambda x: "c")
    wf.add_edge("a", "b").add_edge("a", "c").set_entry_point("a")
    assert await wf.execute(None) == {"b": "b", "c": "c"}


async def test_sequential_mode_runs_a_layer_one_node_at_a_time() -> None:
    running = 0
    peak = 0

    async def node(x: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0)
        running -= 1
        return x

    wf = Workflow("seq", enable_parallel=False)
    wf.add_node("a", node)
    for name in "bcd":
        wf.add_node(name, node).add_edge("a", name)
    wf.set_entry_point("a")
    await wf.execute(1)
    assert peak == 1


async def test_start_node_and_history_of_the_run() -> None:
    wf = Workflow("start")
    wf.add_node("a", lambda x: "a").add_node("b", lambda x: x + "b").add_node(
        "c", lambda x: x + "c"
    )
    wf.add_edge("a", "b").add_edge("b", "c").set_entry_point("a")
    run = await wf.execute("", start_node="b", return_run=True)
    assert run.output == "bc" and run.history == {"b": "b", "c": "bc"}


async def test_a_workflow_with_1000_nodes() -> None:
    async def inc(parts: dict[str, int]) -> int:
        return sum(parts.values()) + 1

    wf = Workflow("big")
    width = 10
    for layer in range(100):
        for j in range(width):
            wf.add_node(f"n{layer}_{j}", inc if layer else (lambda x: x))
    for layer in range(99):
        for j in range(width):
            wf.add_edge(f"n{layer}_{j}", f"n{layer + 1}_{j}")  # ten parallel chains
            wf.add_edge(f"n{layer}_{j}", f"n{layer + 1}_{(j + 1) % width}")  # cross-links: joins
    wf.add_node("root", lambda x: x)
    for j in range(width):
        wf.add_edge("root", f"n0_{j}")
    wf.set_entry_point("root")
    assert len(wf.layers()) == 101
    run = await wf.execute(0, return_run=True)
    assert run.summary.steps == 101 and len(run.summary.nodes_run) == 1001
    # Each node of layer k>0 joins two predecessors (a dict of both outputs): 2 * v + 1 per layer.
    assert run.output == {f"n99_{j}": 2**99 - 1 for j in range(width)}
    assert len(run.history) == 1001


async def test_agents_are_nodes_and_receive_the_previous_agents_text() -> None:
    from gecko.core.agent import Agent
    from gecko.core.models.scripted import ScriptedModel
    from gecko.core.output import AgentOutput

    writer_model = ScriptedModel(["A first draft."])
    editor_model = ScriptedModel(lambda call: f"Edited: {call.last_user_text}")
    wf = Workflow("agents")
    wf.add_node("writer", Agent(writer_model, name="writer")).add_node(
        "editor", Agent(editor_model, name="editor")
    )
    wf.add_edge("writer", "editor").set_entry_point("writer")
    run = await wf.execute("Write about geckos.", return_run=True)
    assert isinstance(run.output, AgentOutput) and run.output.content == "Edited: A first draft."
    assert writer_model.calls[0].last_user_text == "Write about geckos."
    total = run.history["writer"].usage.total_tokens + run.output.usage.total_tokens
    assert run.summary.usage.total_tokens == total > 0
