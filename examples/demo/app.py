"""Gecko's demo application: ``hatch run demo`` (or ``python examples/demo/app.py``).

It uses every package on its embedded default, offline and without a key:

1. ingests the project's own ``docs/`` into a local vector store (gecko-rag, LanceDB under
   ``.gecko/``) with the offline hashing embedder, showing a progress bar;
2. runs a workflow with SQLite checkpoints (gecko-compose, gecko-storage-sqlite): retrieval,
   a Team of three expert agents (ALL), a Team of judges racing for a one-line verdict (RACE),
   and an answer step, with conditional edges;
3. runs it first in a worker process that is killed with SIGKILL midway (a real crash), then
   resumes the run from its checkpoint here, without re-running the nodes that completed;
4. prints the answer with its sources, the execution summary and the workflow as Mermaid.

``GECKO_MODEL=openai/gpt-4o-mini`` (with OPENAI_API_KEY) runs the same program on a real model
through gecko-models-litellm; GECKO_STORAGE and GECKO_VECTOR_STORE switch the stores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

import click
from config import DemoConfig, load_config
from flow import build_workflow
from knowledge import ingest, retriever

from gecko.compose import MemberResult, WorkflowRun
from gecko.core.events import EventBus
from gecko.core.output import TokenUsage

CRASH_BEFORE = "verdict"


def heading(text: str) -> None:
    click.echo("\n" + click.style(text, bold=True))


async def worker(config: DemoConfig, session_id: str) -> None:
    """Run the workflow until the verdict step starts, then die as a crashed process does."""
    bus = EventBus()

    def crash(event: Any) -> None:
        if event.node == CRASH_BEFORE:
            click.echo(
                f"  worker: node {event.node!r} started - simulating a crash (SIGKILL)", err=True
            )
            os.kill(os.getpid(), signal.SIGKILL)

    bus.subscribe("workflow.node_started", crash)
    bus.subscribe(
        "workflow.node_completed",
        lambda e: click.echo(f"  worker: node {e.node!r} completed", err=True),
    )
    async with build_workflow(config, retriever(config), event_bus=bus) as wf:
        await wf.execute(config.question, session_id=session_id)


def run_worker(config: DemoConfig, session_id: str, data_dir: str) -> int:
    argv = [
        sys.executable,
        __file__,
        "--worker",
        session_id,
        "--data-dir",
        data_dir,
        "--question",
        config.question,
    ]
    return subprocess.run(argv, check=False).returncode


def usage_in(value: Any) -> TokenUsage:
    """Token usage of the agent outputs inside a checkpointed node output."""
    if isinstance(value, list):
        total = TokenUsage()
        for item in value:
            total = total + usage_in(item)
        return total
    if isinstance(value, MemberResult) and value.is_success:
        return usage_in(value.result)
    usage = getattr(value, "usage", None)
    return usage if isinstance(usage, TokenUsage) else TokenUsage()


def report(config: DemoConfig, run: WorkflowRun, mermaid: str, seconds: float) -> None:
    result = run.output
    heading("Answer")
    click.echo(f"Q: {result['question']}")
    click.echo(click.style(result["verdict"] or "(no verdict)", fg="green"))
    for index, text in result["experts"]:
        click.echo(f"  expert {index + 1}: {text}")
    heading("Sources")
    for number, source in enumerate(result["sources"], start=1):
        click.echo(f"  [{number}] {source}")

    summary = run.summary
    restored = sum(
        (usage_in(run.history.get(node)) for node in summary.nodes_resumed), TokenUsage()
    )
    heading("Execution summary")
    click.echo(f"  run id            {run.run_id}  ({summary.status})")
    click.echo(
        f"  skipped on resume {', '.join(summary.nodes_resumed) or '-'}  (completed before the crash)"
    )
    click.echo(f"  run after resume  {', '.join(summary.nodes_run)}")
    click.echo(f"  not taken         {', '.join(summary.nodes_skipped) or '-'}  (condition false)")
    for node, took in summary.node_durations.items():
        click.echo(f"  {node:<17} {took * 1000:8.1f} ms")
    click.echo(
        f"  tokens            {summary.usage.total_tokens} after resume"
        f" + {restored.total_tokens} restored from the checkpoint"
    )
    click.echo(
        f"  checkpoints       {summary.checkpoints} written after resume; storage {config.storage}"
    )
    click.echo(f"  total time        {seconds:.1f} s")
    heading("Workflow (Mermaid)")
    click.echo(mermaid)


async def main(config: DemoConfig, data_dir: str) -> None:
    started = time.perf_counter()
    os.makedirs(config.data_dir, exist_ok=True)
    if config.storage.startswith("memory://"):
        raise click.UsageError(
            "the demo resumes in a second process; use sqlite:// or redis:// for GECKO_STORAGE"
        )
    heading("Gecko demo")
    if config.offline:
        click.echo(
            "Model: Gecko's OFFLINE scripted model (no API key, no network): answers are extracted from the docs.\n"
            "       Set GECKO_MODEL=openai/gpt-4o-mini (and OPENAI_API_KEY) to use a real model."
        )
    else:
        click.echo(f"Model: {config.model} (through gecko-models-litellm)")
    click.echo(
        f"Vector store: {config.vector_store}   embedder: {config.embedder}   checkpoints: {config.storage}"
    )

    heading(f"1. Ingesting {config.docs.name}/ into the vector store")
    click.echo(str(await ingest(config)))

    session_id = f"demo-{uuid.uuid4().hex[:8]}"
    heading(f"2. Running the workflow in a worker process (run {session_id})")
    code = run_worker(config, session_id, data_dir)
    if code != -signal.SIGKILL:
        raise click.ClickException(
            f"the worker was expected to crash with SIGKILL, it exited with {code}"
        )
    click.echo(
        click.style("  the worker crashed (killed by SIGKILL) in the middle of the run", fg="red")
    )

    heading("3. Resuming the run from its last checkpoint")
    async with build_workflow(config, retriever(config)) as wf:
        for info in await wf.history(session_id):
            click.echo(f"  checkpoint {info.seq}: {', '.join(info.nodes) or '(start)'}")
        click.echo(
            "  waiting for the dead worker's lease to expire (at most the 10 s lease_ttl), "
            "then taking the run over"
        )
        run = await wf.resume(session_id, return_run=True, wait=True)
        mermaid = wf.to_mermaid()
    report(config, run, mermaid, time.perf_counter() - started)


def cli() -> None:
    parser = argparse.ArgumentParser(
        description="Gecko's demo: ingest, run a workflow, crash, resume."
    )
    parser.add_argument("--question", default=None, help="what to ask the expert panel")
    parser.add_argument("--data-dir", default=".gecko", help="where the demo keeps its stores")
    parser.add_argument("--worker", metavar="RUN_ID", help=argparse.SUPPRESS)
    args = parser.parse_args()
    config = load_config(args.question, args.data_dir)
    if args.worker:
        asyncio.run(worker(config, args.worker))
        return
    try:
        asyncio.run(main(config, args.data_dir))
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)


if __name__ == "__main__":
    cli()
