"""Runners are chosen by URL through the ``register_runners`` hook; ``local`` is one of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gecko.compose import Runner, Workflow, WorkflowRun
from gecko.compose.workflow.local import LocalRunner
from gecko.compose.workflow.runners import get_runner
from gecko.core.errors import ConfigurationError, NotRegisteredError
from gecko.core.plugins import RunnerRegistrar, get_plugin_manager, hookimpl, plugin_registered

pytestmark = pytest.mark.anyio


class RecordingRunner:
    """A third-party runner: runs on the local runner and records what it was asked."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.calls: list[tuple[str, str]] = []
        self._local = LocalRunner()

    async def execute(self, workflow: Workflow, input: Any, **options: Any) -> WorkflowRun:
        self.calls.append(("execute", options["run_id"]))
        return await self._local.execute(workflow, input, **options)

    async def resume(self, workflow: Workflow, run_id: str, **options: Any) -> WorkflowRun:
        self.calls.append(("resume", run_id))
        return await self._local.resume(workflow, run_id, **options)

    async def cancel(self, workflow: Workflow, run_id: str) -> str:
        self.calls.append(("cancel", run_id))
        return await self._local.cancel(workflow, run_id)

    async def suspend(self, workflow: Workflow, run_id: str) -> str:
        self.calls.append(("suspend", run_id))
        return await self._local.suspend(workflow, run_id)


made: list[RecordingRunner] = []


def make_recording(url: str) -> RecordingRunner:
    runner = RecordingRunner(url)
    made.append(runner)
    return runner


class RecordingPlugin:
    @staticmethod
    @hookimpl
    def register_runners(register: RunnerRegistrar) -> None:
        register("recording", make_recording)
        register("broken", lambda url: object())


def doubling() -> Workflow:
    wf = Workflow("double")
    wf.add_node("a", lambda x: x * 2)
    wf.add_node("b", lambda x: x + 1)
    wf.add_edge("a", "b")
    wf.set_entry_point("a")
    return wf


def test_local_is_registered_by_gecko_compose_through_the_hook() -> None:
    registration = get_plugin_manager().lookup("runners", "local")
    assert registration.plugin == "gecko-compose"
    assert isinstance(get_runner("local"), LocalRunner)
    assert isinstance(get_runner("LOCAL"), LocalRunner)


async def test_a_plugin_runner_is_selected_by_url_on_the_workflow_or_per_call() -> None:
    made.clear()
    with plugin_registered(RecordingPlugin(), "gecko-recording"):
        wf = Workflow("double", storage="memory://", runner="recording://somewhere?x=1")
        wf.add_node("a", lambda x: x * 2).add_node("b", lambda x: x + 1)
        wf.add_edge("a", "b").set_entry_point("a")
        assert await wf.execute(4, session_id="s1") == 9
        assert await wf.resume("s1") == 9  # a completed run returns its result
        assert await wf.cancel("s1") == "completed"
        assert [r.url for r in made] == ["recording://somewhere?x=1"]
        assert made[0].calls == [("execute", "s1"), ("resume", "s1"), ("cancel", "s1")]

        local = doubling()
        assert await local.execute(1, runner="recording://other") == 3
        assert made[1].url == "recording://other"
        assert isinstance(made[1], Runner)
        await wf.aclose()


async def test_a_runner_object_can_be_passed_directly() -> None:
    runner = RecordingRunner("mine")
    wf = doubling()
    assert await wf.execute(2, runner=runner) == 5
    assert runner.calls and runner.calls[0][0] == "execute"


async def test_an_unknown_runner_names_what_is_installed_and_what_to_install() -> None:
    wf = doubling()
    with pytest.raises(NotRegisteredError) as error:
        await wf.execute(1, runner="temporal://127.0.0.1:7233/default")
    message = str(error.value)
    assert "temporal" in message and "local" in message and "gecko-temporal" in message


async def test_a_factory_that_returns_no_runner_is_a_clear_error() -> None:
    with (
        plugin_registered(RecordingPlugin(), "gecko-recording"),
        pytest.raises(ConfigurationError, match="returned object, not a Runner"),
    ):
        await doubling().execute(1, runner="broken://x")
    with pytest.raises(ConfigurationError, match="not a Runner or a runner URL"):
        await doubling().execute(1, runner=SimpleNamespace())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="takes no address"):
        await doubling().execute(1, runner="local://elsewhere")


def test_plugins_list_shows_the_runners() -> None:
    gecko = Path(sys.executable).with_name("gecko")
    result = subprocess.run(
        [str(gecko), "plugins", "list", "--json"], capture_output=True, text=True, check=True
    )
    plugins = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    assert plugins["gecko-compose"]["registers"]["runners"] == ["local"]


def test_workflows_run_when_gecko_composes_plugin_is_not_loaded() -> None:
    code = (
        "import asyncio\n"
        "from gecko.compose import Workflow\n"
        "wf = Workflow('w'); wf.add_node('a', lambda x: x + 1); wf.set_entry_point('a')\n"
        "print(asyncio.run(wf.execute(1)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"GECKO_LOAD_PLUGINS": "", "PATH": ""},
        check=True,
    )
    assert result.stdout.strip() == "2"
