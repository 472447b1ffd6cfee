"""``gecko workflow validate | run | diagram | schema`` on spec files, through the real CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gecko.core.cli.main import cli
from gecko.core.plugins.manager import get_plugin_manager

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "declarative"

APP = '''
from gecko.core.tools import tool

calls = []


@tool
def http_request(url: str) -> dict:
    """Fetch a URL (offline)."""
    return {"status": 200, "url": url}


@tool
def send_reply(user: str, text: str) -> str:
    """Reply to a user."""
    return f"sent to {user}"


tools = {"http_request": http_request, "send_reply": send_reply}
registry = {"tools": tools}
wrong = {"tool": tools}
'''


@pytest.fixture(scope="module")
def gecko_cli() -> Any:
    get_plugin_manager().add_commands(cli)
    assert "workflow" in cli.commands
    return cli


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "triage_app.py").write_text(APP, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(EXAMPLES))  # triage_functions, named by the spec
    yield "triage_app"
    sys.modules.pop("triage_app", None)


def test_validate_reports_implicit_final_states(gecko_cli: Any) -> None:
    result = CliRunner().invoke(
        gecko_cli, ["workflow", "validate", str(EXAMPLES / "order_state_machine.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert "valid state_machine 'my-state-machine' with 2 states" in result.output
    assert (
        "implicit final states (transition targets with no entry under `states`): done"
        in result.output
    )
    assert "needs the execution lifecycle to run: state_machine" in result.output


def test_validate_fails_with_located_problems(gecko_cli: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "workflow:\n  id: x\n  type: dag\n  nodes:\n    - {id: a, type: tool, tool: t, dependencies: [zz]}\n"
    )
    result = CliRunner().invoke(gecko_cli, ["workflow", "validate", str(bad)])
    assert result.exit_code == 1
    assert (
        f"{bad}:5:51 at nodes[0].dependencies[0]: dependency names unknown node 'zz'"
        in result.output
    )


def test_validate_with_an_app_resolves_tools(gecko_cli: Any, app: str, tmp_path: Path) -> None:
    spec = EXAMPLES / "support_triage.yaml"
    ok = CliRunner().invoke(gecko_cli, ["workflow", "validate", str(spec), "--app", f"{app}"])
    assert ok.exit_code == 0, ok.output
    as_dict = CliRunner().invoke(
        gecko_cli, ["workflow", "validate", str(spec), "--app", f"{app}:registry"]
    )
    assert as_dict.exit_code == 0, as_dict.output
    missing = CliRunner().invoke(gecko_cli, ["workflow", "validate", str(spec), "--app", "json"])
    assert missing.exit_code == 1 and "unknown tool 'send_reply'" in missing.output
    typo = CliRunner().invoke(
        gecko_cli, ["workflow", "validate", str(spec), "--app", f"{app}:wrong"]
    )
    assert typo.exit_code == 2 and "unknown keys ['tool']" in typo.output


def test_run_prints_progress_and_the_result(gecko_cli: Any, app: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    args = [
        "workflow",
        "run",
        str(EXAMPLES / "support_triage.yaml"),
        "--app",
        app,
        "--storage",
        url,
    ]
    payload = json.dumps({"message": "late order", "user_id": "u1", "urls": ["a"]})
    result = CliRunner().invoke(gecko_cli, [*args, "--input", payload, "--session-id", "cli-1"])
    assert result.exit_code == 0, result.output
    assert "[ started] classify" in result.stderr and "[    done] classify" in result.stderr
    assert "[ skipped]" in result.stderr and "__input__" not in result.stderr
    output = json.loads(result.stdout)
    assert output["pages"] == 1 and output["priority"] in ("high", "low")
    again = CliRunner().invoke(gecko_cli, [*args, "--session-id", "cli-1", "--resume", "--quiet"])
    assert again.exit_code == 0 and json.loads(again.stdout) == output and not again.stderr
    history = CliRunner().invoke(gecko_cli, ["workflow", "history", "cli-1", "--storage", url])
    assert history.exit_code == 0 and "completed" in history.output
    bad = CliRunner().invoke(gecko_cli, [*args, "--input", "{not json"])
    assert bad.exit_code == 2 and "not JSON" in bad.output


def test_diagram_and_schema(gecko_cli: Any, tmp_path: Path) -> None:
    dag = CliRunner().invoke(
        gecko_cli, ["workflow", "diagram", str(EXAMPLES / "customer_support_workflow.yaml")]
    )
    assert dag.exit_code == 0 and dag.output.startswith("flowchart TD")
    assert "n0 --> n1" in dag.output
    machine = CliRunner().invoke(
        gecko_cli, ["workflow", "diagram", str(EXAMPLES / "order_state_machine.yaml")]
    )
    assert machine.output.startswith("stateDiagram-v2") and "s2 --> [*]" in machine.output
    schema = CliRunner().invoke(gecko_cli, ["workflow", "schema"])
    assert schema.exit_code == 0
    parsed = json.loads(schema.output)
    assert parsed["title"] == "Gecko workflow spec (gecko.workflow/v1)"
    assert "DagSpec" in parsed["$defs"] and "StateMachineSpec" in parsed["$defs"]


def test_the_cli_and_gecko_compose_import_no_yaml_or_cel() -> None:
    import subprocess

    code = (
        "import sys, gecko.compose, gecko.compose.cli, gecko.compose.declarative\n"
        "from gecko.compose import load_workflow\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('yaml', 'celpy', 'lark')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
