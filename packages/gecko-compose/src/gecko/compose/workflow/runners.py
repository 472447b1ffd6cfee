"""Runners: where a workflow's runs execute, chosen by URL.

The step function decides and a runner does: it owns the run, calls the nodes,
makes their completions durable and publishes events. ``local`` (this process,
on anyio) is registered through the ``register_runners`` hook like any plugin's
runner (``temporal://...``), so a Workflow runs unchanged on any of them::

    @hookimpl
    def register_runners(register: RunnerRegistrar) -> None:
        register("temporal", "gecko.temporal.runner:TemporalRunner")

The factory receives the URL (``"temporal://127.0.0.1:7233/default?task_queue=gecko"``)
and returns a ``Runner``; ``Workflow(runner=...)`` or ``execute(..., runner=...)`` picks one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from gecko.core.errors import ConfigurationError, NotRegisteredError

if TYPE_CHECKING:
    from gecko.compose.workflow.summary import WorkflowRun
    from gecko.compose.workflow.workflow import Workflow

DEFAULT_RUNNER = "local"


@runtime_checkable
class Runner(Protocol):
    """Executes and resumes runs of a Workflow (``local``: ``gecko.compose.workflow.local``)."""

    async def execute(
        self,
        workflow: Workflow,
        input: Any,
        *,
        run_id: str,
        start_node: str,
        state: dict[str, Any],
        timeout: float | None,
        fresh_id: bool = False,
        wait: bool = False,
    ) -> WorkflowRun:
        """Start run ``run_id`` at ``start_node``; ``fresh_id``: the id was just generated."""
        ...

    async def resume(
        self,
        workflow: Workflow,
        run_id: str,
        *,
        timeout: float | None,
        wait: bool = False,
        answers: Mapping[str, Any] | None = None,
    ) -> WorkflowRun:
        """Continue run ``run_id`` from its checkpoints; a completed run returns its result.

        ``answers`` answer its pending interrupts by key (stored before the run goes on).
        """
        ...

    async def cancel(self, workflow: Workflow, run_id: str) -> str:
        """Cancel the run wherever it executes (a finished run is left as is); its status."""
        ...

    async def suspend(self, workflow: Workflow, run_id: str) -> str:
        """Stop the run at its next node boundary, state stored; its status afterwards."""
        ...


def runner_scheme(url: str) -> str:
    """``"temporal"`` for ``"temporal://host:7233/default"``; a bare name is its own scheme."""
    return (url.split("://", 1)[0] if "://" in url else url).strip().lower()


def get_runner(runner: Runner | str) -> Runner:
    """The runner for a URL registered through ``register_runners``, or ``runner`` itself."""
    if not isinstance(runner, str):
        if not isinstance(runner, Runner):
            raise ConfigurationError(
                f"runner {runner!r} is not a Runner or a runner URL",
                hint="use 'local', a URL a plugin registered (temporal://...), or an object "
                "with async execute, resume, cancel and suspend (gecko.compose.Runner)",
            )
        return runner
    from gecko.core.plugins import get_plugin_manager

    scheme = runner_scheme(runner)
    if not scheme:
        raise ConfigurationError("runner URL is empty", hint="use 'local' or a runner URL")
    try:
        factory = get_plugin_manager().lookup("runners", scheme).load()
    except NotRegisteredError:
        if scheme != DEFAULT_RUNNER:
            raise
        # gecko-compose's own plugin is not loaded (GECKO_LOAD_PLUGINS leaves it out): the
        # package defining Workflow still runs it in this process.
        from gecko.compose.workflow.local import LocalRunner as factory
    made = factory(runner)
    if not isinstance(made, Runner):
        raise ConfigurationError(
            f"the factory registered for runner {scheme!r} returned {type(made).__name__}, "
            "not a Runner",
            hint="a runner factory takes the URL and returns an object with async "
            "execute, resume, cancel and suspend",
        )
    return made
