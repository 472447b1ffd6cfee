"""``gecko mcp serve --app module:attr [--http HOST:PORT]``: serve agents and workflows over MCP.

Only click is imported until a command runs. Over stdio, stdout carries the
protocol, so this command prints nothing there; messages go to stderr.
"""

from __future__ import annotations

import os
import sys

import click


@click.group()
def mcp() -> None:
    """The Model Context Protocol: serve Gecko agents and workflows as MCP tools."""


@mcp.command("serve")
@click.option(
    "--app",
    "app_path",
    required=True,
    metavar="MODULE:ATTR",
    help="What to serve: an Agent, a Workflow, or a list/dict of them, e.g. myapp:agent.",
)
@click.option(
    "--http",
    "address",
    default=None,
    metavar="HOST:PORT",
    help="Serve streamable HTTP at http://HOST:PORT/mcp instead of stdio.",
)
@click.option("--name", default="gecko", show_default=True, help="The server name clients see.")
def serve_command(app_path: str, address: str | None, name: str) -> None:
    """Serve an app's agents and workflows as MCP tools (stdio, or streamable HTTP with --http)."""
    from gecko.core.errors import GeckoError
    from gecko.core.plugins.registry import import_object

    if ":" not in app_path:
        raise click.BadParameter("use module:attr, e.g. myapp:agent", param_hint="--app")
    if os.getcwd() not in sys.path:  # like uvicorn: the app's module is found from here
        sys.path.insert(0, os.getcwd())
    try:
        from gecko.mcp.serve import build_server

        server = build_server(import_object(app_path, context="gecko mcp serve --app"), name=name)
        host, port = _address(address) if address else (None, None)
    except GeckoError as exc:
        raise click.ClickException(str(exc)) from exc
    if host is None or port is None:
        server.run("stdio")
    else:
        click.echo(f"serving {app_path} at http://{host}:{port}/mcp", err=True)
        server.run("streamable-http", host=host, port=port)


def _address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(
            f"{value!r} is not HOST:PORT, e.g. 127.0.0.1:8000", param_hint="--http"
        )
    return host.strip("[]"), int(port)
