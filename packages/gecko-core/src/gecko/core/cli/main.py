"""``gecko``: the command line. Plugins add subcommands through ``register_commands``.

Printing is this module's job (library code logs instead).
"""

from __future__ import annotations

import json
import sys

import click

from gecko.core.plugins.manager import PluginInfo, get_plugin_manager


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gecko-core", prog_name="gecko")
def cli() -> None:
    """Gecko: async-first AI agents and agent workflows."""


@cli.group()
def plugins() -> None:
    """Inspect installed plugins."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def plugins_list(as_json: bool) -> None:
    """List installed plugins: version, hooks, what they register, status."""
    manager = get_plugin_manager()
    infos = manager.list_plugins()
    if as_json:
        payload = {"plugins": [info.as_dict() for info in infos], "warnings": manager.warnings}
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(format_table(infos))
    for warning in manager.warnings:
        click.echo(f"warning: {warning}", err=True)


def format_table(infos: list[PluginInfo]) -> str:
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
    widths = [max(len(str(row[i])) for row in (headers, *rows)) for i in range(len(headers) - 1)]
    lines = []
    for row in (headers, *rows):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths)]
        lines.append("  ".join([*cells, str(row[-1])]))
    return "\n".join(lines)


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
