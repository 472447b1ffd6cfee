"""Every node type of a spec, run on the real engine with the offline scripted model."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from gecko.compose import WorkflowContext, load_workflow
from gecko.compose.declarative import SpecError
from gecko.compose.errors import NodeExecutionError, NodeTimeoutError
from gecko.core.agent import Agent
from gecko.core.events import EventBus
from gecko.core.models.scripted import ScriptedModel
from gecko.core.output import AgentOutput
from gecko.core.tools import tool

pytestmark = pytest.mark.anyio

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "declarative"
calls: list[Any] = []


def spec(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@tool
def http_request(url: str) -> dict[str, Any]:
    """Fetch a URL (offline: answers with what it was asked)."""
    calls.append(url)
    return {"status": 200, "url": url}


@tool
def send_reply(user: str, text: str) -> str:
    """Send a reply to a user."""
    return f"sent to {user}: {text}"


class Link(BaseModel):
    url: str


async def test_the_reference_dag_runs_as_written() -> None:
    model = ScriptedModel(['{"url": "https://example.com/ticket/7"}'])
    agent = Agent(model, name="my-agent")
    wf = load_workflow(
        EXAMPLES / "customer_support_workflow.yaml",
        agents={"my-agent": {"agent": agent, "response_model": Link}},
        tools={"http_request": http_request},
    )
    run = await wf.execute({"data": "I need help"}, return_run=True)
    assert run.output == {"status": 200, "url": "https://example.com/ticket/7"}
    assert model.calls[0].last_user_text == '{"data": "I need help"}'  # the agent got its inputs
    assert isinstance(run.history["node1"], AgentOutput)  # usage counted in the summary
    assert run.summary.usage.total_tokens > 0


async def test_every_dag_node_type_in_the_triage_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    bus = EventBus()
    seen: list[str] = []
    bus.subscribe("workflow.node_completed", lambda event: seen.append(event.node))
    wf = load_workflow(
        EXAMPLES / "support_triage.yaml",
        tools={"http_request": http_request, "send_reply": send_reply},
        event_bus=bus,
    )
    run = await wf.execute(
        {"message": "my order is late", "user_id": "u7", "urls": ["a", "b", "c"]}, return_run=True
    )
    priority = run.history["classify"].parsed["priority"]
    assert priority in ("high", "low")  # the automatic test model answers from the schema
    routed = "escalate" if priority == "high" else "auto-reply"
    assert run.output == {
        "priority": priority,
        "score": run.history["classify"].parsed["score"],
        "routed_to": routed,
        "pages": 3,
    }
    assert run.state["user"] == "u7"
    assert run.history["fetch-all"] == [{"status": 200, "url": u} for u in "abc"]
    skipped = {"escalate", "auto-reply"} - {routed}
    assert run.summary.nodes_skipped == sorted(skipped) and routed in seen
    assert set(run.history["summary"]) == {routed, "fetch-all"}


def switch_spec(condition: str) -> str:
    return spec(f"""
        workflow:
          id: routing
          type: dag
          inputs:
            type: object
            properties: {{score: {{type: string}}}}
          nodes:
            - id: decision
              type: control
              subtype: switch
              condition: "{condition}"
              branches:
                - case: high
                  target: premium-handler
                - case: low
                  target: basic-handler
                - default: standard-handler
            - {{id: premium-handler, type: function, function: premium}}
            - {{id: basic-handler, type: function, function: basic}}
            - {{id: standard-handler, type: function, function: standard, inputs: {{x: "${{current}}"}}}}
        """)


@pytest.mark.parametrize(
    ("score", "ran"),
    [("high", "premium-handler"), ("low", "basic-handler"), ("mid", "standard-handler")],
)
async def test_switch_routes_by_case_with_a_default(score: str, ran: str) -> None:
    functions = {
        "premium": lambda: "premium",
        "basic": lambda: "basic",
        "standard": lambda x: f"standard for {x['score']}",
    }
    wf = load_workflow(switch_spec("${score}"), functions=functions)  # the reference's bare name
    run = await wf.execute({"score": score}, return_run=True)
    assert sorted(n for n in run.history if not n.startswith("__")) == sorted(["decision", ran])
    assert run.history["decision"]["target"] == ran
    if ran == "standard-handler":  # `current` after a switch is the switch's own input
        assert run.output == "standard for mid"


async def test_parallel_wait_all_joins_every_branch() -> None:
    wf = load_workflow(
        spec("""
        workflow:
          id: fan
          type: dag
          nodes:
            - {id: parallel-tasks, type: control, subtype: parallel, branches: [task1, task2, task3], wait_all: true}
            - {id: task1, type: function, function: double, inputs: {x: "${input}"}}
            - {id: task2, type: function, function: double, inputs: {x: "${current + 1}"}}
            - {id: task3, type: function, function: double, inputs: {x: 10}}
            - id: join
              type: aggregation
              dependencies: [parallel-tasks]
              sources: [task1, task2, task3]
              strategy: list
        """),
        functions={"double": lambda x: 2 * x},
    )
    run = await wf.execute(3, return_run=True)
    assert wf.layers()[2] == ["task1", "task2", "task3"]
    assert run.output == [6, 8, 20]


async def test_parallel_race_takes_the_first_branch_and_stops_the_others() -> None:
    stopped: list[str] = []

    async def slow(x: int) -> str:
        try:
            await anyio.sleep(30)
        except anyio.get_cancelled_exc_class():
            stopped.append("slow")
            raise
        return "slow"

    async def fast(x: int) -> str:
        return f"fast {x}"

    async def broken(x: int) -> str:
        raise RuntimeError("down")

    wf = load_workflow(
        spec("""
        workflow:
          id: race
          type: dag
          nodes:
            - {id: first, type: control, subtype: parallel, branches: [a, b, c], wait_all: false}
            - {id: a, type: function, function: slow, inputs: {x: "${input}"}}
            - {id: b, type: function, function: broken, inputs: {x: "${input}"}}
            - {id: c, type: function, function: fast, inputs: {x: "${input}"}}
        """),
        functions={"slow": slow, "fast": fast, "broken": broken},
    )
    assert wf.layers() == [["__input__"], ["first"]]  # the branches run inside the node
    assert await wf.execute(5) == {"winner": "c", "output": "fast 5"}
    assert stopped == ["slow"]


async def test_loop_runs_its_body_per_item_with_bounded_concurrency() -> None:
    running, peak = 0, 0

    async def fetch(url: str) -> str:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0.01)
        running -= 1
        return url.upper()

    wf = load_workflow(
        spec("""
        workflow:
          id: crawl
          type: dag
          nodes:
            - {id: each, type: control, subtype: loop, items: "${input.urls}", body: get, concurrency: 2}
            - {id: get, type: function, function: fetch, inputs: {url: "${current}"}}
        """),
        functions={"fetch": fetch},
    )
    assert await wf.execute({"urls": ["a", "b", "c", "d", "e"]}) == ["A", "B", "C", "D", "E"]
    assert peak == 2
    with pytest.raises(NodeExecutionError, match="`items` gave a str, not a list"):
        await wf.execute({"urls": "abc"})
    with pytest.raises(NodeExecutionError) as info:  # an item's failure fails the loop, unwrapped
        await wf.execute({"urls": ["a", 7]})
    assert "node 'each' failed: AttributeError" in str(info.value)


async def test_aggregation_strategies_and_explicit_inputs() -> None:
    source = spec("""
        workflow:
          id: agg
          type: dag
          nodes:
            - {id: a, type: set, values: {x: 1}}
            - {id: b, type: set, values: {y: 2}}
            - {id: as-dict, type: aggregation, dependencies: [a, b]}
            - {id: as-list, type: aggregation, dependencies: [a, b], strategy: list}
            - {id: merged, type: aggregation, dependencies: [a, b], strategy: merge}
            - {id: picked, type: aggregation, dependencies: [a, b], inputs: {sum: "${a.output.x + b.output.y}"}}
        """)
    run = await load_workflow(source).execute(None, return_run=True)
    assert run.history["as-dict"] == {"a": {"x": 1}, "b": {"y": 2}}
    assert run.history["as-list"] == [{"x": 1}, {"y": 2}]
    assert run.history["merged"] == {"x": 1, "y": 2}
    assert run.history["picked"] == {"sum": 3}
    assert run.state == {"x": 1, "y": 2}


async def test_agent_nodes_from_a_model_id_with_tools_and_a_response_schema() -> None:
    wf = load_workflow(
        spec("""
        workflow:
          id: agents
          type: dag
          nodes:
            - id: writer
              type: agent
              model: test
              system_prompt: You write short answers.
              tools: [send_reply]
              inputs: "${input.question}"
            - id: grader
              type: agent
              agent: test
              dependencies: [writer]
              response_schema:
                type: object
                required: [grade]
                properties: {grade: {type: integer}, note: {type: string}}
              inputs: {answer: "${writer.output.content}"}
            - {id: report, type: set, dependencies: [grader], values: {grade: "${grader.output.grade}"}}
        """),
        tools={"send_reply": send_reply},
    )
    run = await wf.execute({"question": "why?"}, return_run=True)
    writer = run.history["writer"]
    assert [call.name for call in writer.tool_calls] == ["send_reply"]  # the test model used it
    assert isinstance(run.history["grader"].parsed, dict)
    assert isinstance(run.state["grade"], int)


async def test_function_nodes_get_inputs_as_kwargs_and_may_take_ctx() -> None:
    def add(a: int, b: int = 10) -> int:
        return a + b

    async def tagged(value: str, ctx: WorkflowContext) -> str:
        ctx.state["node"] = ctx.node
        return f"{value}@{ctx.node}"

    wf = load_workflow(
        spec("""
        workflow:
          id: fns
          type: dag
          nodes:
            - {id: sum, type: function, function: add, inputs: {a: "${input}"}}
            - {id: tag, type: function, function: tagged, dependencies: [sum], inputs: {value: "n=${sum.output}"}}
            - {id: quote, type: function, function: "textwrap:indent", dependencies: [tag], inputs: {text: "${tag.output}", prefix: "> "}}
        """),
        functions={"add": add, "tagged": tagged},
    )
    run = await wf.execute(5, return_run=True)
    assert run.history["sum"] == 15 and run.history["tag"] == "n=15@tag"
    assert run.output == "> n=15@tag" and run.state == {"node": "tag"}


async def test_retry_and_timeout_map_to_the_engine() -> None:
    attempts: list[int] = []

    def flaky(ctx: WorkflowContext) -> str:
        attempts.append(ctx.attempt)
        if ctx.attempt < 3:
            raise ConnectionError("try again")
        return "ok"

    async def hang() -> None:
        await anyio.sleep(30)

    wf = load_workflow(
        spec("""
        workflow:
          id: robust
          type: dag
          nodes:
            - {id: a, type: function, function: flaky, retry: {attempts: 3, initial_delay: 0, jitter: false}}
        """),
        functions={"flaky": flaky},
    )
    run = await wf.execute(None, return_run=True)
    assert run.output == "ok" and attempts == [1, 2, 3] and run.summary.retries == 2
    slow = load_workflow(
        {
            "workflow": {
                "id": "t",
                "type": "dag",
                "nodes": [{"id": "h", "type": "function", "function": "hang", "timeout": 0.05}],
            }
        },
        functions={"hang": hang},
    )
    with pytest.raises(NodeExecutionError) as info:
        await slow.execute(None)
    assert isinstance(info.value.__cause__, NodeTimeoutError)


async def test_sub_workflows_by_id_and_by_file(tmp_path: Path) -> None:
    child = tmp_path / "child.yaml"
    child.write_text(
        spec("""
        workflow:
          id: another-workflow
          type: dag
          nodes:
            - {id: shout, type: function, function: upper, inputs: {text: "${input.data}"}}
        """),
        encoding="utf-8",
    )
    parent = tmp_path / "parent.yaml"
    parent.write_text(
        spec("""
        workflow:
          id: parent
          type: dag
          nodes:
            - id: sub-workflow
              type: sub_workflow
              workflow_id: another-workflow
              inputs:
                data: "${current.data}"
            - id: from-file
              type: sub_workflow
              file: child.yaml
              dependencies: [sub-workflow]
              inputs: {data: "${nodes['sub-workflow'].output} again"}
        """),
        encoding="utf-8",
    )
    functions = {"upper": lambda text: text.upper()}
    by_id = load_workflow(child, functions=functions)
    wf = load_workflow(
        parent, functions=functions, workflows={"another-workflow": by_id}, storage="memory://"
    )
    run = await wf.execute({"data": "hi"}, session_id="parent-1", return_run=True)
    assert run.history["sub-workflow"] == "HI" and run.output == "HI AGAIN"
    assert wf.to_spec()["workflow"]["nodes"][1]["file"] == str(child.resolve())
    with pytest.raises(SpecError, match="unknown workflow 'another-workflow'"):
        load_workflow(parent, functions=functions)
    with pytest.raises(SpecError, match="cannot load sub-workflow files"):
        load_workflow(
            parent, functions=functions, workflows={"another-workflow": by_id}, allow_imports=[]
        )


async def test_input_schema_and_declared_state_are_applied() -> None:
    wf = load_workflow(
        spec("""
        workflow:
          id: typed
          type: dag
          inputs:
            type: object
            required: [n]
            properties: {n: {type: integer}}
          state: {total: 100}
          nodes:
            - {id: add, type: set, values: {total: "${total + n}"}}
          output: "${state.total}"
        """)
    )
    assert await wf.execute({"n": 5}) == 105
    with pytest.raises(NodeExecutionError, match="does not match the spec's `inputs` schema"):
        await wf.execute({"n": "five"})


async def test_runtime_type_errors_name_the_node_and_the_expression() -> None:
    wf = load_workflow(
        spec("""
        workflow:
          id: types
          type: dag
          nodes:
            - {id: a, type: set, values: {v: "${input.x + 1}"}}
        """)
    )
    with pytest.raises(NodeExecutionError) as info:
        await wf.execute({"x": "text"})
    message = str(info.value)
    assert "node 'a'" in message and "${input.x + 1}" in message


async def test_arguments_from_the_input_reach_the_right_parameters() -> None:
    async def pair(a: Any, b: Any, c: str = "c") -> str:
        return f"{a}-{b}-{c}"

    wf = load_workflow(
        spec("""
        workflow:
          id: args
          type: dag
          nodes:
            - {id: first, type: function, function: pair, inputs: {b: 2, a: "${input}"}}
            - {id: second, type: function, function: pair, dependencies: [first], inputs: {b: "${first.output}", a: 1}}
            - {id: third, type: function, function: pair, dependencies: [second], inputs: {c: "${current}", a: 0, b: 0}}
        """),
        functions={"pair": pair},
    )
    run = await wf.execute("x", return_run=True)
    assert run.history["first"] == "x-2-c" and run.history["second"] == "1-x-2-c-c"
    assert run.output == "0-0-1-x-2-c-c"


@pytest.mark.parametrize("asynchronous", [True, False])
async def test_errors_on_the_fast_path_name_the_node_and_the_expression(asynchronous: bool) -> None:
    async def show_async(v: Any) -> Any:
        return v

    wf = load_workflow(
        spec("""
        workflow:
          id: fast
          type: dag
          nodes:
            - {id: a, type: function, function: make, inputs: {}}
            - {id: b, type: function, function: show, dependencies: [a], inputs: {v: "${a.output.nope}"}}
        """),
        functions={"make": dict, "show": show_async if asynchronous else (lambda v: v)},
    )
    with pytest.raises(NodeExecutionError) as info:
        await wf.execute(None)
    assert "node 'b': expression ${a.output.nope} failed: KeyError: no such key 'nope'" in str(
        info.value
    )


async def test_to_spec_round_trips_to_the_same_graph() -> None:
    wf = load_workflow(
        EXAMPLES / "support_triage.yaml",
        tools={"http_request": http_request, "send_reply": send_reply},
    )
    again = load_workflow(
        wf.to_spec(), tools={"http_request": http_request, "send_reply": send_reply}
    )
    assert again.fingerprint() == wf.fingerprint()
    assert again.layers() == wf.layers() and again.to_spec() == wf.to_spec()
    assert again.diagram() == wf.diagram()
    assert wf.to_spec()["apiVersion"] == "gecko.workflow/v1"


def test_diagrams_are_mermaid() -> None:
    wf = load_workflow(
        switch_spec("${score}"), functions={"premium": str, "basic": str, "standard": str}
    )
    chart = wf.diagram()
    assert chart.startswith("flowchart TD")
    assert 'n0 -.->|"case high"| n1' in chart and 'n0 -.->|"default"| n3' in chart
    from gecko.compose.declarative import parse_document, to_mermaid

    machine = to_mermaid(parse_document(EXAMPLES / "order_state_machine.yaml").document)
    assert machine.splitlines()[0] == "stateDiagram-v2"
    assert "[*] --> s0" in machine and "s1 --> s2 : complete" in machine and "s2 --> [*]" in machine
