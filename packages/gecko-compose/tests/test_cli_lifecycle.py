"""``gecko workflow runs --status / cancel / suspend / resume --answer`` on a real SQLite file."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner

from gecko.core.cli.main import cli
from gecko.core.plugins.manager import get_plugin_manager

APP = textwrap.dedent(
    """
    from gecko.compose import Workflow

    async def ask(order, ctx):
        answer = await ctx.interrupt({"order": order}, key="approve")
        return {"order": order, "approved": answer}

    flow = Workflow("orders", storage="{url}")
    flow.add_node("ask", ask).set_entry_point("ask")
    """
)


@pytest.fixture(scope="module")
def gecko_cli() -> Any:
    get_plugin_manager().add_commands(cli)
    return cli


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Any]:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    (tmp_path / "orders_app.py").write_text(APP.replace("{url}", url))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("orders_app", None)
    import orders_app  # type: ignore[import-not-found]

    from gecko.compose import RunInterrupted

    async def start() -> None:
        async with orders_app.flow as flow:
            for run_id in ("o-1", "o-2"):
                with pytest.raises(RunInterrupted):
                    await flow.execute(run_id, session_id=run_id)

    anyio.run(start)
    return url, orders_app


def invoke(gecko_cli: Any, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(gecko_cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_runs_lists_interrupted_runs_and_what_they_wait_for(
    gecko_cli: Any, app: tuple[str, Any]
) -> None:
    url, _ = app
    out = invoke(gecko_cli, "workflow", "runs", "--storage", url, "--status", "interrupted", "-l")
    lines = out.splitlines()
    assert lines[0].split() == ["RUN", "STATUS", "STEP", "UPDATED", "WAITING", "FOR"]
    assert [line.split()[:2] for line in lines[1:]] == [
        ["o-1", "interrupted"],
        ["o-2", "interrupted"],
    ]
    assert all(line.rstrip().endswith("approve") for line in lines[1:])
    assert invoke(gecko_cli, "workflow", "runs", "--storage", url, "--status", "completed") == ""


def test_resume_answers_an_interrupt_and_prints_the_result(
    gecko_cli: Any, app: tuple[str, Any]
) -> None:
    out = invoke(
        gecko_cli, "workflow", "resume", "o-1", "--app", "orders_app:flow",
        "--answer", "approve=true",
    )  # fmt: skip
    assert json.loads(out) == {"order": "o-1", "approved": True}
    waiting = invoke(gecko_cli, "workflow", "resume", "o-2", "--app", "orders_app:flow", code=3)
    assert "waiting for: approve (ask)" in waiting
    bad = CliRunner().invoke(
        gecko_cli, ["workflow", "resume", "o-2", "--app", "orders_app:flow", "--answer", "approve"]
    )
    assert bad.exit_code == 2 and "KEY=JSON" in bad.output
    wrong = CliRunner().invoke(
        gecko_cli,
        ["workflow", "resume", "o-2", "--app", "orders_app:flow", "--answer", "nope=1"],
    )
    assert wrong.exit_code == 1 and "no pending interrupt 'nope'" in wrong.output


def test_cancel_and_suspend_from_the_command_line(gecko_cli: Any, app: tuple[str, Any]) -> None:
    url, _ = app
    assert invoke(gecko_cli, "workflow", "suspend", "o-2", "--storage", url) == (
        "run o-2: interrupted\n"  # nothing to suspend: it waits for an answer
    )
    assert (
        invoke(gecko_cli, "workflow", "cancel", "o-2", "--storage", url) == "run o-2: cancelled\n"
    )
    assert (
        invoke(gecko_cli, "workflow", "cancel", "o-2", "--storage", url) == "run o-2: cancelled\n"
    )
    assert invoke(gecko_cli, "workflow", "runs", "--storage", url, "--status", "cancelled") == (
        "o-2\n"
    )
