"""``gecko workflow runs/history/show/compact`` against a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner

from gecko.compose import Workflow, WorkflowContext
from gecko.core.cli.main import cli
from gecko.core.factories import create_storage
from gecko.core.plugins.manager import get_plugin_manager


@pytest.fixture(scope="module")
def gecko_cli() -> Any:
    get_plugin_manager().add_commands(cli)  # what `gecko` does at start-up, through the entry point
    assert "workflow" in cli.commands
    return cli


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'runs.db'}"

    async def tag(x: int, ctx: WorkflowContext) -> int:
        ctx.state[ctx.node] = (x, "tuple")
        return x + 1

    async def fill() -> None:
        async with await create_storage(url, kind="kv") as store:
            wf = Workflow("cli-demo", storage=store)
            wf.add_node("first", tag).add_node("second", tag).add_edge("first", "second")
            await wf.set_entry_point("first").execute(1, session_id="run-1")
            only = Workflow("cli-demo", storage=store).add_node("only", tag).set_entry_point("only")
            await only.execute(5, session_id="run-2")

    anyio.run(fill)
    return url


def invoke(gecko_cli: Any, *args: str) -> str:
    result = CliRunner().invoke(gecko_cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_runs_lists_run_ids(gecko_cli: Any, url: str) -> None:
    assert invoke(gecko_cli, "workflow", "runs", "--storage", url).split() == ["run-1", "run-2"]
    assert invoke(gecko_cli, "workflow", "runs", "--storage", url, "--prefix", "run-2").split() == [
        "run-2"
    ]


def test_history_shows_each_checkpoint(gecko_cli: Any, url: str) -> None:
    lines = invoke(gecko_cli, "workflow", "history", "run-1", "--storage", url).splitlines()
    assert lines[0].split() == ["SEQ", "TIME", "ENTRIES", "STEPS", "NODES", "COMPLETED", "STATUS"]
    assert len(lines) == 4
    assert "first" in lines[2] and "running" in lines[2]
    assert "second" in lines[3] and lines[3].rstrip().endswith("completed")
    data = json.loads(invoke(gecko_cli, "workflow", "history", "run-1", "--storage", url, "--json"))
    assert [item["nodes"] for item in data] == [[], ["first"], ["second"]]


def test_show_prints_state_history_and_result(gecko_cli: Any, url: str) -> None:
    text = invoke(gecko_cli, "workflow", "show", "run-1", "--storage", url)
    assert "status:    completed" in text and "workflow:  cli-demo" in text
    data = json.loads(invoke(gecko_cli, "workflow", "show", "run-1", "--storage", url, "--json"))
    assert data["result"] == 3 and data["history"] == {"first": 2, "second": 3}
    assert data["state"]["first"] == {"$gecko": "tuple", "items": [1, "tuple"]}  # as stored, tagged
    older = json.loads(
        invoke(gecko_cli, "workflow", "show", "run-1", "--storage", url, "--seq", "2", "--json")
    )
    assert older["status"] == "running" and older["next"] == ["second"]


def test_compact_and_errors(gecko_cli: Any, url: str) -> None:
    assert "compacted 3 checkpoints" in invoke(
        gecko_cli, "workflow", "compact", "run-1", "--storage", url
    )
    data = json.loads(invoke(gecko_cli, "workflow", "history", "run-1", "--storage", url, "--json"))
    assert [item["kinds"] for item in data] == [["snapshot"]]
    result = CliRunner().invoke(gecko_cli, ["workflow", "show", "missing", "--storage", url])
    assert result.exit_code != 0 and "no checkpoints stored for run 'missing'" in result.output
