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
    """Run, inspect and control workflows and their runs."""


@workflow.command("runs")
@_storage_option
@click.option("--prefix", default="", help="Only runs whose id starts with this.")
@click.option("--status", default=None, help="Only runs with this status (e.g. interrupted).")
@click.option(
    "--long", "-l", "long", is_flag=True, help="A table: status, step, update, pending answers."
)
def runs_command(url: str, prefix: str, status: str | None, long: bool) -> None:
    """List the runs that have checkpoints (one id per line; --long: a table)."""
    from gecko.compose.workflow.workflow import Workflow

    async def go() -> list[Any]:
        async with Workflow("gecko-cli", storage=url) as wf:
            return await wf.runs(status, prefix=prefix)

    infos = _run(go)
    if not long:
        for info in infos:
            click.echo(info.run_id)
        return
    rows = [
        (
            info.run_id,
            info.status,
            str(info.step),
            _time(info.updated_at) if info.updated_at else "-",
            ", ".join(i.key for i in info.interrupts) or "-",
        )
        for info in infos
    ]
    if rows:
        click.echo(_table(("RUN", "STATUS", "STEP", "UPDATED", "WAITING FOR"), rows))


@workflow.command("cancel")
@click.argument("run_id")
@_storage_option
def cancel_command(run_id: str, url: str) -> None:
    """Cancel a run wherever it executes (final); print its status."""
    from gecko.compose.workflow.workflow import Workflow

    async def go() -> str:
        async with Workflow("gecko-cli", storage=url) as wf:
            return await wf.cancel(run_id)

    click.echo(f"run {run_id}: {_run(go)}")


@workflow.command("suspend")
@click.argument("run_id")
@_storage_option
def suspend_command(run_id: str, url: str) -> None:
    """Suspend a run at its next node boundary; print its status."""
    from gecko.compose.workflow.workflow import Workflow

    async def go() -> str:
        async with Workflow("gecko-cli", storage=url) as wf:
            return await wf.suspend(run_id)

    click.echo(f"run {run_id}: {_run(go)}")


@workflow.command("resume")
@click.argument("run_id")
@click.option("--app", required=True, help="module:attr naming the Workflow the run belongs to.")
@click.option(
    "--answer",
    "answers",
    multiple=True,
    metavar="KEY=JSON",
    help="Answer a pending interrupt (repeatable), e.g. --answer approve=true.",
)
def resume_command(run_id: str, app: str, answers: tuple[str, ...]) -> None:
    """Continue a run (answering interrupts); print its result as JSON."""
    from gecko.compose.errors import RunInterrupted
    from gecko.compose.workflow.workflow import Workflow

    parsed = dict(_answer(item) for item in answers)
    target = _import_app(app)
    if not isinstance(target, Workflow):
        raise click.BadParameter(f"{app} is a {type(target).__name__}, not a Workflow",
                                 param_hint="--app")  # fmt: skip

    async def go() -> Any:
        async with target:
            try:
                return await target.resume(run_id, answers=parsed or None)
            except RunInterrupted as stopped:
                waiting = ", ".join(f"{i.key} ({i.node})" for i in stopped.interrupts)
                click.echo(f"run {run_id} is waiting for: {waiting}", err=True)
                raise SystemExit(3) from None

    result = _run(go)
    click.echo(json.dumps(result, indent=2, ensure_ascii=False, default=str))


@workflow.command("history")
@click.argument("run_id")
@_storage_option
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def history_command(run_id: str, url: str, as_json: bool) -> None:
    """List a run's checkpoints: seq, time, steps and nodes completed."""
    from gecko.compose.workflow.checkpointer import load_checkpoints
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
    from gecko.compose.workflow.checkpointer import load_record

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
    from gecko.compose.workflow.checkpointer import compact_checkpoints

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


def _run(call: Callable[[], Awaitable[T]]) -> T:
    import anyio

    from gecko.core.errors import GeckoError

    try:
        return anyio.run(call)
    except GeckoError as exc:
        raise click.ClickException(str(exc)) from exc


def _answer(item: str) -> tuple[str, Any]:
    key, sep, text = item.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"{item!r} is not KEY=JSON", param_hint="--answer")
    try:
        return key, json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"{key}: not JSON: {exc}", param_hint="--answer") from exc


def _import_app(app: str) -> Any:
    from gecko.compose.apps import import_app
    from gecko.core.errors import GeckoError

    try:
        return import_app(app)
    except GeckoError as exc:
        raise click.BadParameter(str(exc), param_hint="--app") from exc


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


def _register_spec_commands() -> None:
    from gecko.compose.declarative.commands import (
        diagram_command,
        run_command,
        schema_command,
        validate_command,
    )

    for command in (validate_command, diagram_command, schema_command, run_command):
        workflow.add_command(command)


_register_spec_commands()
