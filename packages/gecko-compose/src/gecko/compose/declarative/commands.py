"""``gecko workflow validate | diagram | schema | run``: gecko.workflow/v1 specs from the shell.

Registered on the ``gecko workflow`` group by ``gecko.compose.cli``. Heavy imports (yaml,
celpy, the engine) happen inside the commands.
"""

from __future__ import annotations

import json
from typing import Any

import click

_spec_argument = click.argument("file", type=click.Path(exists=True, dir_okay=False))
_app_option = click.option(
    "--app",
    default=None,
    help="module:attr naming a dict with agents / tools / functions / workflows keys, "
    "or a module exposing those names.",
)


@click.command("validate")
@_spec_argument
@_app_option
def validate_command(file: str, app: str | None) -> None:
    """Check a spec: structure, references, cycles, expressions (with --app: names too)."""
    from gecko.compose.declarative.errors import LifecycleRequiredError
    from gecko.compose.declarative.loader import load_workflow, validate_spec
    from gecko.core.errors import GeckoError

    try:
        report = validate_spec(file)
        if app is not None and not report.needs_lifecycle:
            load_workflow(file, **_app_registries(app))
    except LifecycleRequiredError:
        pass  # reported below, from the report
    except GeckoError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in report.lines():
        click.echo(line)


@click.command("diagram")
@_spec_argument
def diagram_command(file: str) -> None:
    """Print a spec as Mermaid: a flowchart (DAG) or a stateDiagram-v2 (state machine)."""
    from gecko.compose.declarative.diagram import to_mermaid
    from gecko.compose.declarative.document import parse_document
    from gecko.core.errors import GeckoError

    try:
        click.echo(to_mermaid(parse_document(file).document))
    except GeckoError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of gecko.workflow/v1 specs (for editors)."""
    from gecko.compose.declarative.schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@click.command("run")
@_spec_argument
@click.option("--input", "input_json", default="null", help="The workflow input, as JSON.")
@click.option(
    "--storage",
    "url",
    default=None,
    envvar="GECKO_STORAGE",
    help="Checkpoint store URL (default: $GECKO_STORAGE; none: nothing persisted).",
)
@click.option("--session-id", default=None, help="Run id (needed to resume it later).")
@click.option("--resume", is_flag=True, help="Continue run --session-id from its checkpoints.")
@_app_option
@click.option("--quiet", is_flag=True, help="No progress lines, only the result.")
def run_command(
    file: str,
    input_json: str,
    url: str | None,
    session_id: str | None,
    resume: bool,
    app: str | None,
    quiet: bool,
) -> None:
    """Run a spec and print its result as JSON, with live progress of nodes on stderr."""
    import anyio

    from gecko.compose.declarative.expressions import jsonable
    from gecko.compose.declarative.loader import load_workflow
    from gecko.core.errors import GeckoError
    from gecko.core.events import EventBus

    try:
        value = json.loads(input_json)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--input") from exc
    if resume and session_id is None:
        raise click.BadParameter("--resume needs --session-id", param_hint="--resume")
    bus = EventBus()
    if not quiet:
        bus.subscribe("workflow.*", _progress)

    async def go() -> Any:
        wf = load_workflow(file, storage=url, event_bus=bus, **_app_registries(app))
        async with wf:
            if resume:
                assert session_id is not None
                return await wf.resume(session_id)
            return await wf.execute(value, session_id=session_id)

    try:
        result = anyio.run(go)
    except GeckoError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(jsonable(result), indent=2, ensure_ascii=False, default=str))


_MARKS = {
    "workflow.node_started": "started",
    "workflow.node_completed": "done",
    "workflow.node_failed": "FAILED",
    "workflow.node_retrying": "retrying",
    "workflow.node_skipped": "skipped",
}


def _progress(event: Any) -> None:
    node = getattr(event, "node", None)
    what = _MARKS.get(getattr(event, "type", ""))
    if node is None or what is None or node.startswith("__") or node.endswith(":inputs"):
        return
    detail = ""
    if what == "done":
        detail = f" ({getattr(event, 'duration', 0.0):.3f} s)"
        if getattr(event, "resumed", False):
            what, detail = "restored", " (from a checkpoint)"
    elif what in ("FAILED", "retrying"):
        detail = f": {getattr(event, 'error', '')}"
    click.echo(f"[{what:>8}] {node}{detail}", err=True)


def _app_registries(app: str | None) -> dict[str, Any]:
    """``--app module:attr`` -> the agents / tools / functions / workflows it names."""
    if app is None:
        return {}
    from gecko.compose.apps import import_app

    target = import_app(app)
    keys = ("agents", "tools", "functions", "workflows")
    if isinstance(target, dict):
        unknown = sorted(set(target) - set(keys))
        if unknown:
            raise click.BadParameter(
                f"{app} has unknown keys {unknown}; use {', '.join(keys)}", param_hint="--app"
            )
        return {k: target[k] for k in keys if k in target}
    return {k: getattr(target, k) for k in keys if getattr(target, k, None) is not None}
