"""A class where an instance is needed (``Team([Agent])``, ``add_node("a", Agent)``) is refused."""

from __future__ import annotations

from typing import Any

import pytest

from gecko.compose import Team, Workflow
from gecko.compose.errors import WorkflowValidationError
from gecko.core.agent import Agent, AgentBuilder
from gecko.core.errors import ConfigurationError
from gecko.core.models.scripted import ScriptedModel

pytestmark = pytest.mark.anyio


class Reviewer(Agent):
    """A user's Agent subclass."""


class Parser:
    """A plain class: callable, but calling it builds a Parser rather than running a node."""

    def __init__(self, value: Any = None) -> None:
        self.value = value


CASES = [
    (Agent, "the class Agent", "Agent(model=...) or AgentBuilder().with_model(...).build()"),
    (Reviewer, "the class Reviewer", "pass an instance: Reviewer(model=...)"),
    (Team, "the class Team", "pass an instance: Team([member, ...])"),
    (Workflow, "the class Workflow", 'pass an instance: Workflow("name")'),
    (Parser, "the class Parser", "lambda value: Parser(value)"),
]


@pytest.mark.parametrize(("cls", "named", "fix"), CASES)
def test_team_refuses_a_class_member(cls: type, named: str, fix: str) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        Team([lambda value: value, cls], name="board")
    assert isinstance(info.value, ConfigurationError)  # a GeckoError users can catch as such
    assert info.value.message == f"member 1 of team 'board' is {named}, not an instance"
    assert info.value.hint is not None and fix in info.value.hint


@pytest.mark.parametrize(("cls", "named", "fix"), CASES)
def test_add_node_refuses_a_class(cls: type, named: str, fix: str) -> None:
    workflow = Workflow("flow")
    with pytest.raises(WorkflowValidationError) as info:
        workflow.add_node("a", cls)
    assert info.value.message == f"node 'a' is {named}, not an instance"
    assert info.value.hint is not None and fix in info.value.hint
    assert workflow.nodes == []


async def test_instances_and_callables_are_still_accepted() -> None:
    agent = AgentBuilder().with_model(ScriptedModel(["reviewed", "reviewed"])).build()
    team = Team([agent, lambda value: f"echo {value}"])
    assert [r.value for r in await team.run("draft")][1] == "echo draft"
    workflow = Workflow("flow").add_node("agent", agent).add_node("parse", lambda v: Parser(v))
    workflow.add_edge("agent", "parse").set_entry_point("agent")
    result = await workflow.execute("draft")
    assert isinstance(result, Parser) and result.value.content == "reviewed"
