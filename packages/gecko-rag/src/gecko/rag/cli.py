"""``gecko rag``: ingest files into a vector store and query it from the command line.

Printing is this module's job (library code logs instead). Heavy modules are
imported inside the commands, so registering them costs nothing.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from gecko.core.cli.options import AliasedOption

STORE_HELP = "Vector store URL, e.g. chroma://./kb, lancedb://./kb, milvus://./kb.db [env: GECKO_VECTOR_STORE]"
EMBEDDER_HELP = "Embedder id, e.g. hash/384 or openai/text-embedding-3-small [env: GECKO_EMBEDDER]"

# ``--storage``, as every gecko command names a store; ``--store`` (Gecko 1.0's first
# spelling) still works but is not shown.
_storage_option = click.option(
    "--storage",
    "--store",
    "store_url",
    cls=AliasedOption,
    envvar="GECKO_VECTOR_STORE",
    required=True,
    help=STORE_HELP,
)


@click.group()
def rag() -> None:
    """Ingest documents into a vector store and search it."""


@rag.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@_storage_option
@click.option(
    "--embedder", "embedder_id", envvar="GECKO_EMBEDDER", required=True, help=EMBEDDER_HELP
)
@click.option(
    "--splitter",
    type=click.Choice(["recursive", "markdown", "token"]),
    default="recursive",
    show_default=True,
    help="How to cut documents: characters, Markdown sections, or tokens.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=None,
    help="Characters (tokens for --splitter token).",
)
@click.option(
    "--chunk-overlap",
    type=click.IntRange(min=0),
    default=None,
    help="Overlap between consecutive chunks.",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Embedding batches in flight.",
)
@click.option(
    "--include", multiple=True, help="Glob of files to include (repeatable), e.g. '*.md'."
)
@click.option("--exclude", multiple=True, help="Glob of files to leave out (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def ingest(
    paths: tuple[str, ...],
    store_url: str,
    embedder_id: str,
    splitter: str,
    chunk_size: int | None,
    chunk_overlap: int | None,
    batch_size: int,
    concurrency: int,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    as_json: bool,
    quiet: bool,
) -> None:
    """Read PATHS (files and directories), split, embed and store them.

    Re-running on the same files adds nothing; changed files replace their chunks.
    Exits with status 1 when a file failed (others are still ingested).
    """
    import anyio

    splitter_obj = _splitter(splitter, chunk_size, chunk_overlap)
    from gecko.rag.progress import ProgressBar

    progress = ProgressBar(enabled=not quiet)

    async def main() -> Any:
        from gecko.core.factories import create_embedder, create_storage
        from gecko.rag.ingestion.pipeline import IngestionPipeline

        embedder = create_embedder(embedder_id)
        async with await create_storage(store_url, kind="vector") as store:
            pipeline = IngestionPipeline(
                store,
                embedder,
                splitter=splitter_obj,
                batch_size=batch_size,
                max_concurrency=concurrency,
                include=include,
                exclude=exclude,
            )
            return await pipeline.run(list(paths), on_progress=progress)

    try:
        summary = _run(anyio, main)
    finally:
        progress.close()
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(str(summary))
    if summary.failed:
        sys.exit(1)


@rag.command()
@click.argument("text")
@_storage_option
@click.option(
    "--embedder", "embedder_id", envvar="GECKO_EMBEDDER", required=True, help=EMBEDDER_HELP
)
@click.option("--top-k", type=click.IntRange(min=1), default=4, show_default=True)
@click.option(
    "--filter",
    "filter_json",
    default=None,
    help='Metadata filter as JSON, e.g. \'{"source": "guide.md"}\'.',
)
@click.option(
    "--threshold", type=float, default=None, help="Leave out matches scoring below this (0-1)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the matches as JSON.")
def query(
    text: str,
    store_url: str,
    embedder_id: str,
    top_k: int,
    filter_json: str | None,
    threshold: float | None,
    as_json: bool,
) -> None:
    """Search the store for passages relevant to TEXT."""
    import anyio

    filter = _parse_filter(filter_json)

    async def main() -> Any:
        from gecko.core.factories import create_embedder, create_storage
        from gecko.rag.retrieval import RetrievalTool

        async with await create_storage(store_url, kind="vector") as store:
            tool = RetrievalTool(
                store,
                create_embedder(embedder_id),
                top_k=top_k,
                max_top_k=top_k,
                score_threshold=threshold,
            )
            return await tool.search(text, top_k=top_k, filter=filter)

    matches = _run(anyio, main)
    if as_json:
        payload = [
            {"id": m.id, "score": m.score, "text": m.text, "metadata": m.metadata} for m in matches
        ]
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    from gecko.rag.retrieval import describe_match

    if not matches:
        click.echo("No matches.")
    for number, match in enumerate(matches, start=1):
        click.echo(click.style(f"[{number}] {describe_match(match)}", bold=True))
        click.echo("    " + match.text.replace("\n", "\n    "))
        click.echo()


def _run(anyio: Any, main: Any) -> Any:
    from gecko.core.errors import GeckoError

    try:
        return anyio.run(main)
    except GeckoError as exc:
        raise click.ClickException(str(exc)) from exc


def _splitter(kind: str, chunk_size: int | None, chunk_overlap: int | None) -> Any:
    from gecko.core.errors import ConfigurationError
    from gecko.rag.splitters import MarkdownSplitter, RecursiveCharacterSplitter, TokenSplitter

    cls = {
        "recursive": RecursiveCharacterSplitter,
        "markdown": MarkdownSplitter,
        "token": TokenSplitter,
    }[kind]
    options = {
        k: v
        for k, v in (("chunk_size", chunk_size), ("chunk_overlap", chunk_overlap))
        if v is not None
    }
    if "chunk_size" in options and "chunk_overlap" not in options:
        options["chunk_overlap"] = min(options["chunk_size"] // 5, options["chunk_size"] - 1)
    try:
        return cls(**options)
    except ConfigurationError as exc:
        raise click.BadParameter(exc.message, param_hint="--chunk-size/--chunk-overlap") from exc


def _parse_filter(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--filter") from exc
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--filter")
    from gecko.core.errors import FilterError
    from gecko.core.vectors.filters import parse_filter

    try:
        parse_filter(value)
    except FilterError as exc:
        raise click.BadParameter(str(exc), param_hint="--filter") from exc
    return value
