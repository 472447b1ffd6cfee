"""``gecko workflow ...``: inspect and maintain checkpointed workflow runs from the shell.

Printing is this module's job. Values are shown as stored (JSON; objects JSON
cannot hold appear in their tagged form), so no user code is imported.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import click

T = TypeVar("T")

_storage_option = click.option(
    "--storage",
    "url",
    required=True,
    envvar="GECKO_STORAGE",
    help="Checkpoint store URL, e.g. sqlite:///runs.db (default: $GECKO_STORAGE).",
)


@click.group()
def workflow() -> None:
    """Inspect checkpointed workflow runs."""


@workflow.command("runs")
@_storage_option
@click.option("--prefix", default="", help="Only runs whose id starts with this.")
def runs_command(url: str, prefix: str) -> None:
    """List the runs that have checkpoints."""

    async def go(store: Any) -> list[str]:
        return list(await store.list_runs(prefix))

    for run_id in _with_store(url, go):
        click.echo(run_id)


@workflow.command("history")
@click.argument("run_id")
@_storage_option
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def history_command(run_id: str, url: str, as_json: bool) -> None:
    """List a run's checkpoints: seq, time, steps and nodes completed."""
    from gecko.compose.workflow.persistence import load_checkpoints
    from gecko.compose.workflow.record import describe

    async def go(store: Any) -> list[Any]:
        return [describe(c) for c in await load_checkpoints(store, run_id)]

    infos = _with_store(url, go)
    if as_json:
        click.echo(json.dumps([info.__dict__ for info in infos], indent=2))
        return
    rows = [
        (
            str(info.seq),
            _time(info.created_at),
            ",".join(info.kinds),
            ",".join(str(s) for s in info.steps) or "-",
            ", ".join(info.nodes) or "-",
            info.status,
        )
        for info in infos
    ]
    click.echo(_table(("SEQ", "TIME", "ENTRIES", "STEPS", "NODES COMPLETED", "STATUS"), rows))


@workflow.command("show")
@click.argument("run_id")
@_storage_option
@click.option("--seq", type=int, default=None, help="Show the run as of this checkpoint.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def show_command(run_id: str, url: str, seq: int | None, as_json: bool) -> None:
    """Show a run: status, state, node outputs, next nodes, result."""
    from gecko.compose.workflow.persistence import load_record

    record = _with_store(url, lambda store: load_record(store, run_id, upto_seq=seq))
    next_nodes = (
        [str(item.get("node")) for item in record.plan] if record.status != "completed" else []
    )
    payload = {
        "run_id": record.run_id,
        "workflow": record.workflow,
        "status": record.status,
        "seq": record.seq,
        "first_seq": record.first_seq,
        "step": record.step,
        "next": next_nodes,
        "error": record.error,
        "forked_from": record.forked_from,
        "state": record.state,
        "history": record.history,
        "result": record.encoded_result() if record.status == "completed" else None,
    }
    if as_json:
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    click.echo(f"run:       {record.run_id}")
    click.echo(f"workflow:  {record.workflow}")
    click.echo(f"status:    {record.status} (next step {record.step})")
    click.echo(f"seq:       {record.seq} (checkpoints {record.first_seq}..{record.seq})")
    if next_nodes:
        click.echo(f"next:      {', '.join(next_nodes)}")
    if record.error:
        click.echo(f"error:     {record.error.get('type')}: {record.error.get('message')}")
    if record.forked_from:
        click.echo(
            f"forked:    from {record.forked_from.get('run_id')} at seq {record.forked_from.get('seq')}"
        )
    for title in ("state", "history", "result"):
        if title == "result" and record.status != "completed":
            continue
        click.echo(f"{title}:")
        click.echo(_indent(json.dumps(payload[title], indent=2, ensure_ascii=False)))


@workflow.command("compact")
@click.argument("run_id")
@_storage_option
@click.option(
    "--through", "through_seq", type=int, default=None, help="Squash up to this seq (default: all)."
)
def compact_command(run_id: str, url: str, through_seq: int | None) -> None:
    """Squash a run's checkpoints into one snapshot (no replay before it afterwards)."""
    from gecko.compose.workflow.persistence import compact_checkpoints

    removed = _with_store(url, lambda store: compact_checkpoints(store, run_id, through_seq))
    click.echo(f"compacted {removed} checkpoints of run {run_id}")


def _with_store(url: str, action: Callable[[Any], Awaitable[T]]) -> T:
    import anyio

    from gecko.core.errors import GeckoError
    from gecko.core.factories import create_storage

    async def go() -> T:
        store = await create_storage(url, kind="kv")
        async with store:
            return await action(store)

    try:
        return anyio.run(go)
    except GeckoError as exc:
        raise click.ClickException(str(exc)) from exc


def _time(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp).isoformat(sep=" ", timespec="seconds")


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
        for row in (headers, *rows)
    )
