"""gecko-mcp's plugin module: the ``mcp`` tool factory and the ``gecko mcp`` commands.

Imports nothing heavy: the factory is a ``"module:attr"`` string and the
command group imports only click until it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gecko.core.plugins import ToolRegistrar, hookimpl

if TYPE_CHECKING:
    import click


@hookimpl
def register_tools(register: ToolRegistrar) -> None:
    register("mcp", "gecko.mcp.configured:mcp_tool")


@hookimpl
def register_commands(cli: click.Group) -> None:
    from gecko.mcp.cli import mcp

    cli.add_command(mcp)
