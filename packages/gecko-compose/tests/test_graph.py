"""Graph building and validation: entry point, unknown nodes, cycle paths, layers, Mermaid."""

from __future__ import annotations

from itertools import pairwise

import pytest

from gecko.compose import Workflow
from gecko.compose.errors import UnknownNodeError, WorkflowValidationError


async def noop(x: object) -> object:
    return x


def chain(*names: str, **options: object) -> Workflow:
    wf = Workflow("g", **options)  # type: ignore[arg-type]
    for name in names:
        wf.add_node(name, noop)
    for a, b in pairwise(names):
        wf.add_edge(a, b)
    wf.set_entry_point(names[0])
    return wf


def test_missing_entry_point_is_reported() -> None:
    wf = Workflow("g").add_node("a", noop)
    with pytest.raises(WorkflowValidationError, match="no entry point"):
        wf.validate()


def test_edge_to_unknown_node_names_it_and_lists_known_nodes() -> None:
    wf = chain("a", "b").add_edge("b", "ghost")
    with pytest.raises(UnknownNodeError) as info:
        wf.validate()
    assert "ghost" in str(info.value) and "'a', 'b'" in str(info.value)


def test_duplicate_node_and_edge_are_rejected() -> None:
    wf = chain("a", "b")
    with pytest.raises(WorkflowValidationError, match="already exists"):
        wf.add_node("a", noop)
    with pytest.raises(WorkflowValidationError, match="already defined"):
        wf.add_edge("a", "b")


def test_cycle_is_reported_with_its_path() -> None:
    wf = chain("a", "b", "c", "d").add_edge("d", "b")
    with pytest.raises(WorkflowValidationError) as info:
        wf.validate()
    assert "b -> c -> d -> b" in str(info.value)
    assert info.value.context["cycle"] == ["b", "c", "d", "b"]
    assert "allow_cycles=True" in str(info.value)


def test_self_loop_is_a_cycle() -> None:
    wf = chain("a").add_edge("a", "a")
    with pytest.raises(WorkflowValidationError, match="a -> a"):
        wf.validate()


def test_cycles_pass_validation_with_allow_cycles() -> None:
    wf = chain("a", "b", allow_cycles=True).add_edge("b", "a", condition=lambda out: False)
    wf.validate()


def test_layers_group_independent_nodes() -> None:
    wf = Workflow("g")
    for name in "abcde":
        wf.add_node(name, noop)
    wf.add_edge("a", "b").add_edge("a", "c").add_edge("b", "d").add_edge("c", "d").add_edge(
        "a", "e"
    )
    wf.add_edge("e", "d")
    wf.set_entry_point("a")
    assert wf.layers() == [["a"], ["b", "c", "e"], ["d"]]


def test_mermaid_marks_entry_conditions_and_back_edges() -> None:
    def is_big(x: int) -> bool:
        return x > 10

    wf = chain("a", "b", allow_cycles=True).add_edge("b", "a", condition=is_big)
    wf.add_node('say "hi"', noop).add_edge("a", 'say "hi"')
    text = wf.to_mermaid()
    assert text.splitlines()[0] == "flowchart TD"
    assert 'n0(["a"])' in text  # the entry point is a stadium
    assert 'n1 -.->|"is_big"| n0' in text
    assert "n0 --> n1" in text
    assert "#quot;hi#quot;" in text


def test_mermaid_numbers_unnamed_conditions_in_edge_order() -> None:
    class Threshold:
        def __call__(self, x: int) -> bool:
            return x > 3

    def named(x: int) -> bool:
        return x > 0

    shared = lambda x: x > 1  # noqa: E731 - one lambda on two edges keeps one number
    wf = chain("a", "b", "c", "d", "e", allow_cycles=True)
    wf.add_edge("b", "a", condition=lambda x: x < 0)
    wf.add_edge("c", "a", condition=shared).add_edge("d", "a", condition=named)
    wf.add_edge("e", "a", condition=shared).add_edge("e", "b", condition=Threshold())
    lines = wf.to_mermaid().splitlines()
    assert "<lambda>" not in "\n".join(lines)
    labelled = [line.strip() for line in lines if "|" in line]
    assert labelled == [
        'n1 -.->|"condition 1"| n0',
        'n2 -.->|"condition 2"| n0',
        'n3 -.->|"named"| n0',
        'n4 -.->|"condition 2"| n0',
        'n4 -.->|"condition 3"| n1',
    ]
    assert wf.to_mermaid() == "\n".join(lines)  # deterministic across calls


def test_invalid_node_targets_are_rejected() -> None:
    wf = Workflow("g")
    with pytest.raises(WorkflowValidationError, match="not runnable"):
        wf.add_node("x", 42)
    with pytest.raises(WorkflowValidationError, match="generator"):

        def gen(x: int):  # type: ignore[no-untyped-def]
            yield x

        wf.add_node("y", gen)
    with pytest.raises(WorkflowValidationError, match="cannot fill parameter 'other'"):

        def two(x: int, other: int) -> int:
            return x + other

        wf.add_node("z", two)
    with pytest.raises(WorkflowValidationError, match="itself"):
        wf.add_node("me", wf)
