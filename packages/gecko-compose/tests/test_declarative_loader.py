"""Loading specs: every problem located (file:line:column and document path), caught at load time."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from gecko.compose import Workflow, load_workflow
from gecko.compose.declarative import (
    LifecycleRequiredError,
    SpecError,
    SpecWorkflow,
    json_schema,
    validate_spec,
)
from gecko.compose.errors import WorkflowValidationError
from gecko.core.errors import GeckoError
from gecko.core.tools import tool

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "declarative"


@tool
def echo(text: str = "") -> str:
    """Echo the text."""
    return text


def spec(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def problems(source: Any, **options: Any) -> list[str]:
    with pytest.raises(SpecError) as info:
        if options.pop("validate_only", False):
            validate_spec(source)
        else:
            load_workflow(source, tools={"echo": echo}, **options)
    return [str(p) for p in info.value.problems]


def test_a_minimal_spec_compiles_to_an_ordinary_workflow() -> None:
    wf = load_workflow(
        {
            "workflow": {
                "id": "w",
                "type": "dag",
                "nodes": [{"id": "a", "type": "tool", "tool": "echo"}],
            }
        },
        tools={"echo": echo},
        max_steps=50,
    )
    assert isinstance(wf, Workflow) and isinstance(wf, SpecWorkflow)
    assert wf.name == "w" and wf.max_steps == 50
    assert wf.layers() == [["__input__"], ["a"]]


def test_yaml_syntax_errors_give_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("workflow:\n  id: x\n  nodes: [a\n", encoding="utf-8")
    [problem] = problems(path)
    assert problem.startswith(f"{path}:4:1: invalid YAML")


def test_an_unknown_field_is_located_with_its_document_path(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(
        spec("""
        workflow:
          id: x
          type: dag
          nodes:
            - id: a
              type: tool
              tool: echo
            - id: b
              type: tool
              tool: echo
              inptus: {}
        """),
        encoding="utf-8",
    )
    assert problems(path) == [f"{path}:11:7 at nodes[1].inptus: unknown field 'inptus'"]


def test_wrong_values_say_what_was_expected() -> None:
    found = problems(
        spec("""
        workflow:
          id: x
          type: dag
          nodes:
            - id: a
              type: robot
            - id: b
              type: tool
            - id: c
              type: tool
              tool: echo
              timeout: -1
        """)
    )
    assert found[0].startswith("<spec>:5:7 at nodes[0]: unknown node type: `type` must be agent,")
    assert "got {'type': 'robot'}" in found[0]
    assert found[1] == "<spec>:7:7 at nodes[1]: missing required field 'tool'"
    assert found[2].startswith("<spec>:12:7 at nodes[2].timeout: Input should be greater than 0")


def test_json_specs_are_located_too() -> None:
    text = json.dumps(
        {"workflow": {"id": "x", "type": "dag", "nodes": [{"id": "a", "type": "tool"}]}}, indent=2
    )
    assert problems(text) == ["<spec>:6:7 at nodes[0]: missing required field 'tool'"]


def test_expression_errors_are_load_time_errors_at_the_exact_field() -> None:
    found = problems(
        spec("""
        workflow:
          id: x
          type: dag
          nodes:
            - id: a
              type: tool
              tool: echo
            - id: b
              type: tool
              tool: echo
              dependencies: [a]
              inputs:
                text: "${a.output +}"
                other: "${nope.x}"
                third: "${size(a.output) + shout(1)}"
        """)
    )
    assert found[0].startswith("<spec>:13:9 at nodes[1].inputs.text: CEL syntax error")
    assert found[1].startswith("<spec>:14:9 at nodes[1].inputs.other: unknown name 'nope'")
    assert found[2].startswith("<spec>:15:9 at nodes[1].inputs.third: unknown function 'shout'")


def test_reading_a_node_that_does_not_run_before_is_refused() -> None:
    [problem] = problems(
        spec("""
        workflow:
          id: x
          type: dag
          nodes:
            - {id: a, type: tool, tool: echo, inputs: {text: "${b.output}"}}
            - {id: b, type: tool, tool: echo}
        """)
    )
    assert "node 'a' reads b.output" in problem and "add 'b' to its `dependencies`" in problem


def test_references_cycles_and_duplicates_are_caught() -> None:
    found = problems(
        spec("""
        workflow:
          id: x
          type: dag
          nodes:
            - {id: a, type: tool, tool: echo, dependencies: [c]}
            - {id: b, type: tool, tool: echo, dependencies: [a, ghost]}
            - {id: c, type: tool, tool: echo, dependencies: [b]}
            - {id: a, type: tool, tool: echo}
            - id: s
              type: control
              subtype: switch
              condition: "${input}"
              branches: [{case: 1, target: nowhere}]
        """)
    )
    text = "\n".join(found)
    assert "at nodes[3].id: duplicate node id 'a' (also nodes[0])" in text
    assert "at nodes[1].dependencies[1]: dependency names unknown node 'ghost'" in text
    assert "at nodes[4].branches[0]: switch branch names unknown node 'nowhere'" in text
    assert "the DAG has a cycle: a -> b -> c -> a" in text


def test_unknown_tools_agents_and_models_are_caught_at_load() -> None:
    found = problems(
        spec("""
        workflow:
          id: x
          type: dag
          nodes:
            - {id: a, type: tool, tool: no_such_tool}
            - {id: b, type: agent, agent: no-such-agent}
            - {id: c, type: agent, model: nosuchprovider/model-x}
        """)
    )
    assert found[0].startswith("<spec>:5:27 at nodes[0].tool: unknown tool 'no_such_tool'")
    assert "unknown agent (agents passed in: none) or model id 'no-such-agent'" in found[1]
    assert found[2].startswith(
        "<spec>:7:28 at nodes[2].model: unknown model 'nosuchprovider/model-x'"
    )


def test_functions_are_checked_against_their_signature_and_allow_imports() -> None:
    source = spec("""
        workflow:
          id: x
          type: dag
          nodes:
            - {id: a, type: function, function: "os.path:join", inputs: {a: "x"}}
            - {id: b, type: function, function: "textwrap:dedent", inputs: {nope: 1}}
        """)
    found = problems(source, allow_imports=["textwrap"])
    assert "importing 'os.path' is not allowed for this spec (allow_imports: textwrap)" in found[0]
    assert "it takes no nope; missing text" in found[1]
    assert load_workflow(source.replace("nope: 1", "text: x")).layers()


def test_lifecycle_features_validate_but_refuse_to_run() -> None:
    source = spec("""
        workflow:
          id: x
          type: dag
          limits: {agent: 2}
          nodes:
            - {id: a, type: tool, tool: echo, catch: {TimeoutError: b}, compensate: b}
            - {id: b, type: tool, tool: echo}
            - {id: ask, type: human, prompt: "ok?", dependencies: [a]}
        """)
    report = validate_spec(source)
    assert len(report.needs_lifecycle) == 4
    with pytest.raises(LifecycleRequiredError) as info:
        load_workflow(source, tools={"echo": echo})
    message = str(info.value)
    assert "cannot run yet" in message and "needs the execution lifecycle" in message
    for feature in ("catch on 'a'", "compensate on 'a'", "human node 'ask'", "limits"):
        assert feature in message
    assert isinstance(info.value, GeckoError) and isinstance(info.value, WorkflowValidationError)
    from gecko.compose.declarative import parse_document, to_mermaid

    chart = to_mermaid(parse_document(source).document)
    assert 'n0 -.->|"catch TimeoutError"| n1' in chart and '|"compensate"|' in chart
    assert 'n2["ask (human)"]' in chart


def test_limits_name_node_kinds_tags_or_models() -> None:
    def limits(value: Any) -> list[str]:
        body = {
            "id": "x",
            "type": "dag",
            "limits": value,
            "nodes": [{"id": "a", "type": "set", "values": {"k": 1}}],
        }
        return problems({"workflow": body}, validate_only=True)

    assert "unknown limit 'gpu': use a node kind" in limits({"gpu": 1})[0]
    assert "greater than or equal to 1" in limits({"agent": 0})[0]
    report = validate_spec(
        {
            "workflow": {
                "id": "x",
                "type": "dag",
                "limits": {"agent": 2, "tag:gpu": 1, "model:test": 3},
                "nodes": [{"id": "a", "type": "set", "values": {"k": 1}}],
            }
        }
    )
    assert report.needs_lifecycle == ["limits (per-kind / tag / model concurrency quotas)"]


def test_the_reference_state_machine_validates_with_its_implicit_final_state() -> None:
    report = validate_spec(EXAMPLES / "order_state_machine.yaml")
    assert report.type == "state_machine" and report.states == ["start", "processing"]
    assert report.implicit_final_states == ["done"]
    assert any("implicit final states" in line and "done" in line for line in report.lines())
    with pytest.raises(LifecycleRequiredError, match="state_machine"):
        load_workflow(EXAMPLES / "order_state_machine.yaml")


def test_state_machine_problems_are_located() -> None:
    found = problems(
        spec("""
        workflow:
          id: m
          type: state_machine
          initial_state: nowhere
          states:
            - name: s
              transitions:
                - {event: go, target: t, guard: "${event.payload.amount > limit}"}
                - {event: go, target: u}
                - {event: go, target: v}
            - {name: t, final: true, transitions: [{event: x, target: s}]}
            - {name: s}
        """),
        validate_only=True,
    )
    text = "\n".join(found)
    assert "at states[2].name: duplicate state 's'" in text
    assert "at initial_state: initial_state 'nowhere' is not a state" in text
    assert "at states[0].transitions[0].guard: unknown name 'limit'" in text
    assert "at states[0].transitions[2].event: state 's' has two unguarded transitions" in text
    assert "at states[1].transitions: final state 't' cannot have transitions" in text


def test_the_json_schema_accepts_the_examples_and_rejects_bad_specs() -> None:
    import jsonschema
    import yaml

    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted(EXAMPLES.glob("*.yaml")):
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8"))))
        assert not errors, (path.name, [e.message for e in errors])
    bad = {"workflow": {"id": "x", "type": "dag", "nodes": [{"id": "a", "type": "tool", "tol": 1}]}}
    assert list(validator.iter_errors(bad))


def test_yaml_tags_that_build_objects_are_refused() -> None:
    [problem] = problems("workflow: !!python/object/apply:os.system ['echo pwned']\n")
    assert (
        problem.startswith("<spec>:1:11 at workflow: invalid YAML: the tag")
        and "python/object/apply" in problem
    )


def test_reading_bounds_hostile_documents() -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    assert "more than" in problems(laughs)[0]
    assert "nested deeper" in problems("[" * 200 + "]" * 200)[0]
    assert "a mapping with a `workflow:` key" in problems("- 1\n- 2\n")[0]
    assert problems("") == ["<spec>:1:1: the document is empty"]
