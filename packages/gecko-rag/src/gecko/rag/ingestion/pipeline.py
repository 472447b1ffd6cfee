"""``IngestionPipeline``: read -> split -> embed in concurrent batches -> upsert.

Idempotent by construction: a chunk's id derives from its source, its text and its
position among identical texts (see ``BaseSplitter.split_documents``), and every chunk
of a source carries a digest of the source's whole chunk set. Re-ingesting an
unchanged file is two counts and nothing else; a changed file embeds only chunks
whose text is new, rewrites the others with their stored vectors (their offsets may
have moved), then deletes the source's chunks from older versions. Writes come
before the delete, so a crash leaves duplicates for the next run to clean, never a
gap.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import anyio

from gecko.core.errors import GeckoError, ModelResponseError
from gecko.core.protocols import Embedder, VectorRecord, VectorStore
from gecko.core.validation import check_int
from gecko.rag._resolve import check_vector_store, resolve_embedder
from gecko.rag.documents import Document
from gecko.rag.ingestion.summary import IngestionSummary, ProgressEvent
from gecko.rag.readers.base import Reader
from gecko.rag.readers.loader import NO_TEXT, FileIssue, PathLike, describe_error, load_documents
from gecko.rag.splitters.base import TextSplitter
from gecko.rag.splitters.recursive import RecursiveCharacterSplitter

logger = logging.getLogger(__name__)

EMBEDDER_KEY = "embedder"
DIGEST_KEY = "source_digest"
ProgressCallback = Callable[[ProgressEvent], Union[None, Awaitable[None]]]


@dataclass
class _SourcePlan:
    source: str
    chunks: list[Document]
    digest: str
    unchanged: bool = False
    reuse: dict[str, list[float]] = field(default_factory=dict)
    pending: int = 0
    failed: str | None = None


class IngestionPipeline:
    """Turns files (or documents) into chunks in a VectorStore.

    ``splitter`` cuts every document (default: ``RecursiveCharacterSplitter()``);
    ``splitters`` picks one per file extension (``{".md": MarkdownSplitter()}``).
    Chunks are embedded ``batch_size`` at a time with at most ``max_concurrency``
    batches in flight. ``embedder`` may be an Embedder or an id for ``create_embedder``.
    """

    def __init__(
        self,
        vector_store: VectorStore,
        embedder: Embedder | str,
        *,
        splitter: TextSplitter | None = None,
        splitters: Mapping[str, TextSplitter] | None = None,
        readers: Mapping[str, Reader] | None = None,
        batch_size: int = 64,
        max_concurrency: int = 4,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        source_root: PathLike | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        for name, value in (("batch_size", batch_size), ("max_concurrency", max_concurrency)):
            check_int(name, value, minimum=1)
        check_vector_store(vector_store, "IngestionPipeline")
        self.vector_store = vector_store
        self.embedder: Embedder = resolve_embedder(embedder)
        self.splitter: TextSplitter = splitter or RecursiveCharacterSplitter()
        self.splitters = {_extension_key(k): v for k, v in (splitters or {}).items()}
        self.readers = readers
        self.batch_size = batch_size
        self.max_concurrency = max_concurrency
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self.source_root = source_root
        self.on_progress = on_progress
        self._progress_warned = False

    @property
    def embedder_name(self) -> str:
        return str(getattr(self.embedder, "name", type(self.embedder).__name__))

    def __repr__(self) -> str:
        return f"IngestionPipeline({self.vector_store!r}, embedder={self.embedder_name!r})"

    # --- entry points -----------------------------------------------------------------------

    async def run(
        self, paths: PathLike | Iterable[PathLike], *, on_progress: ProgressCallback | None = None
    ) -> IngestionSummary:
        """Ingest files and directories (recursively); see the class and module docs."""
        started = time.perf_counter()
        progress = on_progress or self.on_progress
        targets: list[PathLike] = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        read = 0

        async def file_done(source: str, total: int) -> None:
            nonlocal read
            read += 1
            await self._emit(progress, ProgressEvent("read", read, total, source))

        loaded = await load_documents(
            targets,
            readers=self.readers,
            include=self.include,
            exclude=self.exclude,
            source_root=self.source_root,
            max_concurrency=self.max_concurrency * 2,
            on_file=file_done,
        )
        summary = IngestionSummary(skipped=list(loaded.skipped), failed=list(loaded.failed))
        await self._clear_emptied(loaded.skipped, summary)
        await self._ingest(loaded.documents, summary, progress)
        summary.seconds = time.perf_counter() - started
        await self._emit(progress, ProgressEvent("done", summary.chunks, summary.chunks))
        return summary

    async def add_documents(
        self, documents: Iterable[Document], *, on_progress: ProgressCallback | None = None
    ) -> IngestionSummary:
        """Ingest in-memory documents, grouped by their ``source`` metadata (else their id)."""
        started = time.perf_counter()
        progress = on_progress or self.on_progress
        by_source: dict[str, list[Document]] = {}
        for document in documents:
            source = document.source or document.id
            by_source.setdefault(source, []).append(document.with_metadata(source=source))
        summary = IngestionSummary()
        await self._ingest(by_source, summary, progress)
        summary.seconds = time.perf_counter() - started
        await self._emit(progress, ProgressEvent("done", summary.chunks, summary.chunks))
        return summary

    async def delete_source(self, source: str) -> int:
        """Delete every chunk of ``source`` (a file that no longer exists); return how many."""
        return await self.vector_store.delete(filter={"source": source})

    # --- the work ---------------------------------------------------------------------------

    def _split(self, source: str, documents: list[Document]) -> list[Document]:
        splitter = self.splitters.get(_extension_key(Path(source).suffix), self.splitter)
        chunks = splitter.split_documents(documents)
        digest = hashlib.sha256(self.embedder_name.encode())  # another embedder: a new version
        for chunk in chunks:
            digest.update(chunk.id.encode())
            digest.update(json.dumps(chunk.metadata, sort_keys=True, ensure_ascii=False).encode())
        stamp = {EMBEDDER_KEY: self.embedder_name, DIGEST_KEY: digest.hexdigest()[:32]}
        return [chunk.with_metadata(**stamp) for chunk in chunks]

    async def _clear_emptied(self, skipped: list[FileIssue], summary: IngestionSummary) -> None:
        for issue in skipped:
            if issue.reason == NO_TEXT:
                summary.removed += await self.vector_store.delete(filter={"source": issue.source})

    async def _ingest(
        self,
        documents: Mapping[str, list[Document]],
        summary: IngestionSummary,
        progress: ProgressCallback | None,
    ) -> None:
        plans = []
        for source, docs in documents.items():
            chunks = self._split(source, docs)
            digest = str(chunks[0].metadata[DIGEST_KEY]) if chunks else ""
            plans.append(_SourcePlan(source, chunks, digest))
        summary.files += len(plans)
        summary.chunks += sum(len(p.chunks) for p in plans)

        limiter = anyio.CapacityLimiter(self.max_concurrency)
        work: list[tuple[_SourcePlan, Document]] = []

        async def check(plan: _SourcePlan) -> None:
            async with limiter:
                await self._check_stored(plan, summary)

        async with anyio.create_task_group() as tg:
            for plan in plans:
                tg.start_soon(check, plan)
        for plan in plans:
            if plan.unchanged:
                continue
            todo = [c for c in plan.chunks if c.id not in plan.reuse]
            plan.pending = len(todo)
            work.extend((plan, chunk) for chunk in todo)
            if not todo:
                await self._finish(plan, summary)

        total, done = len(work), 0
        await self._emit(progress, ProgressEvent("embed", 0, total))

        async def embed_batch(batch: list[tuple[_SourcePlan, Document]]) -> None:
            nonlocal done
            async with limiter:
                try:
                    vectors = await self.embedder.embed_documents(
                        [chunk.text for _, chunk in batch]
                    )
                    if len(vectors) != len(batch):
                        raise ModelResponseError(
                            f"embedder {self.embedder_name!r} returned {len(vectors)} vectors "
                            f"for {len(batch)} texts",
                            model=self.embedder_name,
                        )
                    await self.vector_store.upsert(
                        [_record(chunk, vector) for (_, chunk), vector in zip(batch, vectors)]
                    )
                except Exception as exc:  # a failed batch fails its files only
                    reason = (
                        describe_error(exc)
                        if isinstance(exc, GeckoError)
                        else f"{type(exc).__name__}: {exc}"
                    )
                    logger.warning("embedding or storing a batch failed: %s", reason)
                    for plan, _ in batch:
                        plan.failed = plan.failed or reason
                else:
                    summary.added += len(batch)
            for plan, _ in batch:
                plan.pending -= 1
            finished = {id(p): p for p, _ in batch if p.pending == 0}
            for plan in finished.values():
                await self._finish(plan, summary)
            done += len(batch)
            await self._emit(progress, ProgressEvent("embed", done, total))

        async with anyio.create_task_group() as tg:
            for start in range(0, total, self.batch_size):
                tg.start_soon(embed_batch, work[start : start + self.batch_size])

    async def _check_stored(self, plan: _SourcePlan, summary: IngestionSummary) -> None:
        """Find out which of the source's chunks are stored already with this embedder."""
        store, count = self.vector_store, len(plan.chunks)
        if count:
            current = await store.count({"source": plan.source, DIGEST_KEY: plan.digest})
            if current == count and await store.count({"source": plan.source}) == count:
                summary.unchanged += count
                plan.unchanged = True
                return
        stored = await store.get([c.id for c in plan.chunks])
        plan.reuse = {
            r.id: r.embedding for r in stored if r.metadata.get(EMBEDDER_KEY) == self.embedder_name
        }

    async def _finish(self, plan: _SourcePlan, summary: IngestionSummary) -> None:
        """All new chunks of ``plan`` are stored: rewrite reused ones, drop stale ones."""
        if plan.failed is not None:
            summary.failed.append(FileIssue(plan.source, plan.failed, "failed"))
            return
        reused = [_record(c, plan.reuse[c.id]) for c in plan.chunks if c.id in plan.reuse]
        for start in range(0, len(reused), self.batch_size * 8):
            await self.vector_store.upsert(reused[start : start + self.batch_size * 8])
        summary.unchanged += len(reused)
        stale: dict[str, Any] = {"source": plan.source}
        if plan.chunks:
            stale[DIGEST_KEY] = {"$ne": plan.digest}
        summary.removed += await self.vector_store.delete(filter=stale)

    async def _emit(self, callback: ProgressCallback | None, event: ProgressEvent) -> None:
        if callback is None:
            return
        try:
            result = callback(event)
            if inspect.isawaitable(result):
                await result
        except Exception:  # progress display must not break ingestion
            if not self._progress_warned:
                self._progress_warned = True
                logger.warning("the ingestion progress callback failed", exc_info=True)


def _record(chunk: Document, vector: Sequence[float]) -> VectorRecord:
    return VectorRecord(
        id=chunk.id, embedding=list(vector), text=chunk.text, metadata=dict(chunk.metadata)
    )


def _extension_key(extension: str) -> str:
    extension = extension.lower()
    return extension if extension.startswith(".") or not extension else "." + extension
