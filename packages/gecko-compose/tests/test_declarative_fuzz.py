"""Fuzzing the loader: any document gives a Workflow or a GeckoError, never another exception."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gecko.compose import Workflow, load_workflow
from gecko.compose.declarative import validate_spec
from gecko.core.errors import GeckoError
from gecko.core.tools import tool


@tool
def echo(text: str = "") -> str:
    """Echo."""
    return text


IDS = ["a", "b", "c", "node-1", "__input__", "input", ""]
FIELDS = [
    "id", "type", "subtype", "dependencies", "inputs", "tool", "agent", "model", "function",
    "condition", "branches", "wait_all", "items", "body", "concurrency", "values", "strategy",
    "sources", "retry", "timeout", "catch", "compensate", "tags", "workflow_id", "file",
    "response_schema", "prompt", "case", "target", "default",
]  # fmt: skip
EXPRESSIONS = [
    "${input}", "${a.output.x}", "${b.output}", "${current.data}", "${score}", "${state.k}",
    "${size(input) > 1 ? 'x' : 'y'}", "${", "${)}", "${nodes['a'].output}", "x ${input} y",
    "$${input}", "${input.items.map(i, i + 1)}", "${nope(1)}", "${'unterminated}",
]  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 100),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(EXPRESSIONS),
    st.sampled_from(IDS),
    st.sampled_from(["dag", "state_machine", "agent", "tool", "function", "control", "switch",
                     "parallel", "loop", "aggregation", "set", "sub_workflow", "human", "echo"]),
    st.text(max_size=12),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=6)), inner, max_size=4),
    ),
    max_leaves=20,
)
nodes = st.lists(
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=6).map(
        lambda d: {"id": "a", "type": "tool", "tool": "echo", **d}
    ),
    max_size=6,
)
documents = st.one_of(
    values,
    st.fixed_dictionaries(
        {"workflow": st.fixed_dictionaries({"id": st.sampled_from(IDS), "type": st.just("dag"), "nodes": nodes})},
        optional={"apiVersion": st.sampled_from(["gecko.workflow/v1", "v2", 1])},
    ),
    st.fixed_dictionaries(
        {
            "workflow": st.fixed_dictionaries(
                {"id": st.just("m"), "type": st.just("state_machine"), "initial_state": st.sampled_from(IDS),
                 "states": st.lists(st.dictionaries(st.sampled_from(["name", "final", "transitions", "on_enter"]), values, max_size=4), max_size=4)}
            )
        }
    ),
)  # fmt: skip


def outcome(document: Any) -> None:
    try:
        result = load_workflow(
            document, tools={"echo": echo}, functions={"f": lambda: 1}, allow_imports=[]
        )
    except GeckoError:
        pass
    else:
        assert isinstance(result, Workflow)
    try:
        validate_spec(document)
    except GeckoError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_document_loads_or_raises_a_gecko_error(document: Any) -> None:
    outcome(document)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_yaml_text_loads_or_raises_a_gecko_error(document: Any) -> None:
    outcome(
        yaml.safe_dump(document, allow_unicode=True)
        if isinstance(document, (dict, list))
        else str(document) + "\n"
    )


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="workflow:{}[]-&*!<>|'\"#$ \n\tid: type dag nodes", max_size=120))
def test_arbitrary_text_loads_or_raises_a_gecko_error(text: str) -> None:
    outcome(text + "\n")
