"""gecko-compose's plugin module: the ``local`` runner and the ``gecko workflow`` commands.

Imports nothing heavy.
"""

from __future__ import annotations

from typing import Any

from gecko.core.plugins import RunnerRegistrar, hookimpl


@hookimpl
def register_runners(register: RunnerRegistrar) -> None:
    register("local", "gecko.compose.workflow.local:LocalRunner")


@hookimpl
def register_commands(cli: Any) -> None:
    from gecko.compose.cli import workflow

    cli.add_command(workflow)
