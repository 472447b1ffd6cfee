"""gecko-compose's plugin module: the ``gecko workflow`` commands. Imports nothing heavy."""

from __future__ import annotations

from typing import Any

from gecko.core.plugins.hookspecs import hookimpl


@hookimpl
def register_commands(cli: Any) -> None:
    from gecko.compose.cli import workflow

    cli.add_command(workflow)
