"""IngestionPipeline: idempotency, replacement of changed files, failures, concurrency, progress."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest

from gecko.core.embedders.hashing import HashingEmbedder
from gecko.core.errors import ModelConnectionError
from gecko.core.factories import create_storage
from gecko.core.storage.memory_vector import MemoryVectorStore
from gecko.rag import (
    Document,
    IngestionPipeline,
    MarkdownSplitter,
    ProgressEvent,
    RecursiveCharacterSplitter,
)

pytestmark = pytest.mark.anyio

PARAGRAPHS = [
    f"Paragraph {i} talks about topic {i} with some filler words to make it longer."
    for i in range(12)
]


class CountingEmbedder(HashingEmbedder):
    """A real hashing embedder that records what it embeds."""

    def __init__(self) -> None:
        super().__init__(64)
        self.calls: list[list[str]] = []

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return await super().embed_documents(texts)

    @property
    def embedded(self) -> int:
        return sum(len(c) for c in self.calls)


def write_corpus(root: Path) -> None:
    (root / "docs").mkdir(exist_ok=True)
    (root / "docs" / "a.md").write_text("\n\n".join(PARAGRAPHS), encoding="utf-8")
    (root / "docs" / "b.txt").write_text("A short note about geckos.", encoding="utf-8")


async def test_reingesting_adds_nothing(
    backend_store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_corpus(tmp_path)
    embedder = CountingEmbedder()
    pipeline = IngestionPipeline(
        backend_store, embedder, splitter=RecursiveCharacterSplitter(200, 40), batch_size=4
    )
    first = await pipeline.run(["docs"])
    assert (
        first.files == 2 and first.added == first.chunks > 2 and first.unchanged == 0 and first.ok
    )
    stored = await backend_store.count()
    assert stored == first.chunks
    calls = embedder.embedded
    second = await pipeline.run(["docs"])
    assert (second.added, second.unchanged, second.removed) == (0, first.chunks, 0)
    assert embedder.embedded == calls, "nothing embedded again"
    assert await backend_store.count() == stored
    [match] = await backend_store.search(await embedder.embed_query("note about geckos"), top_k=1)
    assert match.metadata["source"] == "docs/b.txt" and match.text == "A short note about geckos."
    assert match.metadata["chunk_index"] == 0 and match.metadata["embedder"] == "hash/64"


async def test_changed_file_replaces_its_chunks(
    backend_store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_corpus(tmp_path)
    embedder = CountingEmbedder()
    pipeline = IngestionPipeline(
        backend_store, embedder, splitter=RecursiveCharacterSplitter(120, 0)
    )
    first = await pipeline.run(["docs"])
    before = embedder.embedded
    edited = [
        *PARAGRAPHS[:3],
        "A brand new paragraph replaces an old one entirely.",
        *PARAGRAPHS[5:],
    ]
    (tmp_path / "docs" / "a.md").write_text("\n\n".join(edited), encoding="utf-8")
    second = await pipeline.run(["docs"])
    assert second.added == 1, "only the new paragraph is embedded"
    assert embedder.embedded - before == 1
    assert second.removed == 2 and second.chunks == first.chunks - 1
    assert await backend_store.count() == second.chunks
    assert await backend_store.count({"source": "docs/a.md"}) == len(edited)
    texts = {
        m.text
        for m in await backend_store.search([1.0] * 64, top_k=50, filter={"source": "docs/a.md"})
    }
    assert texts == set(edited)
    # Offsets of the chunks after the edit moved; they were rewritten without embedding.
    for match in await backend_store.search([1.0] * 64, top_k=50, filter={"source": "docs/a.md"}):
        start, end = int(match.metadata["start"]), int(match.metadata["end"])
        assert "\n\n".join(edited)[start:end] == match.text


async def test_emptied_file_removes_its_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_corpus(tmp_path)
    store = MemoryVectorStore()
    pipeline = IngestionPipeline(
        store, CountingEmbedder(), splitter=RecursiveCharacterSplitter(200, 0)
    )
    await pipeline.run(["docs"])
    (tmp_path / "docs" / "b.txt").write_text("   ", encoding="utf-8")
    summary = await pipeline.run(["docs"])
    assert summary.removed == 1 and [i.source for i in summary.skipped] == ["docs/b.txt"]
    assert await store.count({"source": "docs/b.txt"}) == 0
    assert await pipeline.delete_source("docs/a.md") == summary.chunks
    assert await store.count() == 0


async def test_another_embedder_reembeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_corpus(tmp_path)
    store = MemoryVectorStore()
    await IngestionPipeline(store, HashingEmbedder(64)).run(["docs"])
    other = CountingEmbedder()
    other.name = "other/64"
    summary = await IngestionPipeline(store, other).run(["docs"])
    assert summary.added == summary.chunks and other.embedded == summary.chunks
    assert await store.count({"embedder": "other/64"}) == summary.chunks == await store.count()


async def test_bad_files_are_reported_and_the_batch_continues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_pdf: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    write_corpus(tmp_path)
    (tmp_path / "docs" / "manual.pdf").write_bytes(make_pdf(["Geckos have adhesive toe pads"]))
    (tmp_path / "docs" / "corrupt.pdf").write_bytes(b"%PDF-1.7\nthis is not really a pdf")
    (tmp_path / "docs" / "photo.jpg").write_bytes(
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256))
    )
    async with await create_storage(f"chroma://{tmp_path}/db") as store:
        summary = await IngestionPipeline(store, "hash/64").run(["docs"])
        assert summary.files == 3 and not summary.ok
        assert [(i.source, i.kind) for i in summary.failed] == [("docs/corrupt.pdf", "failed")]
        assert [(i.source, i.kind) for i in summary.skipped] == [("docs/photo.jpg", "skipped")]
        [page] = await store.search(HashingEmbedder(64).embed("adhesive toe pads"), top_k=1)
        assert page.metadata["source"] == "docs/manual.pdf" and page.metadata["page"] == 1
        assert "failed  docs/corrupt.pdf: cannot read PDF" in str(summary)


class GateEmbedder(HashingEmbedder):
    """Records concurrent calls; each call waits until ``limit`` calls are in flight (or none
    are left to come), so a pipeline that never reaches the limit fails by timeout."""

    def __init__(self, limit: int, batches: int) -> None:
        super().__init__(32)
        self.limit, self.remaining = limit, batches
        self.active = self.peak = 0
        self.full = anyio.Event()

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.active += 1
        self.remaining -= 1
        self.peak = max(self.peak, self.active)
        if self.active >= self.limit or self.remaining == 0:
            self.full.set()
        with anyio.fail_after(10):
            await self.full.wait()
        await anyio.sleep(0)
        self.active -= 1
        if self.active == 0:
            self.full = anyio.Event()
        return [self.embed(t) for t in texts]


async def test_concurrency_limit_is_honoured_and_reached() -> None:
    documents = [
        Document(text=f"document number {i} " * 3, metadata={"source": f"s{i}"}) for i in range(30)
    ]
    embedder = GateEmbedder(limit=3, batches=10)
    pipeline = IngestionPipeline(MemoryVectorStore(), embedder, batch_size=3, max_concurrency=3)
    summary = await pipeline.add_documents(documents)
    assert summary.added == 30
    assert embedder.peak == 3


async def test_failed_embedding_batch_fails_its_files_only(tmp_path: Path) -> None:
    class FlakyEmbedder(HashingEmbedder):
        async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
            if any("poison" in t for t in texts):
                raise ModelConnectionError("embedding service unreachable", provider="test")
            return await super().embed_documents(texts)

    store = MemoryVectorStore()
    docs = [
        Document(text="healthy text", metadata={"source": "good.md"}),
        Document(text="poison pill", metadata={"source": "bad.md"}),
    ]
    summary = await IngestionPipeline(store, FlakyEmbedder(16), batch_size=1).add_documents(docs)
    assert [(i.source, i.reason) for i in summary.failed] == [
        ("bad.md", "embedding service unreachable")
    ]
    assert summary.added == 1 and await store.count() == 1


async def test_progress_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_corpus(tmp_path)
    events: list[ProgressEvent] = []

    async def record(event: ProgressEvent) -> None:
        events.append(event)

    pipeline = IngestionPipeline(
        MemoryVectorStore(),
        HashingEmbedder(16),
        splitter=RecursiveCharacterSplitter(100, 0),
        batch_size=5,
    )
    summary = await pipeline.run(["docs"], on_progress=record)
    reads = [e for e in events if e.stage == "read"]
    assert [e.completed for e in reads] == [1, 2] and {e.total for e in reads} == {2}
    embeds = [e for e in events if e.stage == "embed"]
    assert embeds[0].completed == 0 and embeds[-1].completed == embeds[-1].total == summary.chunks
    assert events[-1].stage == "done"


async def test_failing_progress_callback_does_not_stop_ingestion(tmp_path: Path) -> None:
    def broken(event: ProgressEvent) -> None:
        raise RuntimeError("display crashed")

    pipeline = IngestionPipeline(MemoryVectorStore(), HashingEmbedder(16), on_progress=broken)
    summary = await pipeline.add_documents([Document(text="hello", metadata={"source": "x"})])
    assert summary.added == 1


async def test_splitter_per_extension(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "guide.md").write_text("# Guide\n\n## Install\n\nRun pip.\n", encoding="utf-8")
    store = MemoryVectorStore()
    pipeline = IngestionPipeline(
        store, HashingEmbedder(16), splitters={"md": MarkdownSplitter(200, 0)}
    )
    await pipeline.run("guide.md")
    [record] = await store.search([1.0] * 16, top_k=5)
    assert record.metadata["section"] == "Guide > Install"


async def test_progress_bar_callback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gecko.rag import ProgressBar

    docs = [Document(text=f"text {i}", metadata={"source": f"s{i}"}) for i in range(5)]
    pipeline = IngestionPipeline(MemoryVectorStore(), HashingEmbedder(16), batch_size=2)
    with ProgressBar() as bar:
        summary = await pipeline.add_documents(docs, on_progress=bar)
    assert summary.added == 5
    assert "Embedding" in capsys.readouterr().err
