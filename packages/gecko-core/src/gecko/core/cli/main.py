"""``gecko``: the command line. Plugins add subcommands through ``register_commands``.

Printing is this module's job (library code logs instead).
"""

from __future__ import annotations

import json
import sys

import click

from gecko.core.cli.table import render_table, terminal_width
from gecko.core.plugins.manager import PluginInfo, get_plugin_manager


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gecko-core", prog_name="gecko")
def cli() -> None:
    """Gecko: async-first AI agents and agent workflows."""


@cli.group()
def plugins() -> None:
    """Inspect installed plugins."""


@plugins.command("list")
@click.option(
    "--json", "as_json", is_flag=True, help="Print machine-readable JSON (everything, uncut)."
)
@click.option(
    "--check",
    is_flag=True,
    help="Exit with status 1 if a plugin has an error or GECKO_LOAD_PLUGINS names a missing one.",
)
def plugins_list(as_json: bool, check: bool) -> None:
    """List installed plugins: version, hooks, what they register, status."""
    manager = get_plugin_manager()
    infos = manager.list_plugins()
    problems = [
        *manager.warnings,
        *(f"{info.name}: {error}" for info in infos for error in info.errors),
    ]
    if as_json:
        payload = {"plugins": [info.as_dict() for info in infos], "warnings": manager.warnings}
        click.echo(json.dumps(payload, indent=2))
    else:
        click.echo(format_table(infos, width=terminal_width()))
        # The table may cut a status; each problem is printed here once, in full.
        for problem in problems:
            click.echo(f"warning: {problem}", err=True)
    if check and problems:
        sys.exit(1)


def format_table(infos: list[PluginInfo], *, width: int = 10_000) -> str:
    """The ``gecko plugins list`` table, at most ``width`` characters a line.

    HOOKS and REGISTERS wrap onto more lines and STATUS is cut with ``…`` when the
    table is too wide; ``--json`` and the warnings after the table have everything.
    """
    headers = ("NAME", "VERSION", "HOOKS", "REGISTERS", "STATUS")
    rows = [
        (
            info.name,
            info.version or "-",
            ", ".join(h.removeprefix("register_") for h in info.hooks) or "-",
            "; ".join(f"{cat}: {_names(names)}" for cat, names in info.registers.items()) or "-",
            info.status,
        )
        for info in infos
    ]
    return render_table(headers, rows, width=width, flexible=(2, 3, 4), cut=(4,))


def _names(names: list[str], limit: int = 12) -> str:
    """A readable list for the table; ``--json`` always has every name."""
    if len(names) <= limit:
        return ", ".join(names)
    return f"{len(names)} names (see --json)"


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    get_plugin_manager().add_commands(cli)
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="gecko")


if __name__ == "__main__":  # pragma: no cover
    main()
