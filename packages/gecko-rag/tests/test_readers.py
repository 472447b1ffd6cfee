"""Readers and the loader: every format, per-file failures, and third-party readers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gecko.core.plugins import hookimpl
from gecko.rag import (
    Document,
    DocumentReadError,
    HtmlReader,
    JsonReader,
    PdfReader,
    TextReader,
    load_documents,
)
from gecko.rag.readers.html import html_to_text

pytestmark = pytest.mark.anyio


def texts(result: Any, source: str) -> list[str]:
    return [doc.text for doc in result.documents[source]]


async def test_text_markdown_python_and_unknown_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("plain\r\ntext\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Title\n\nBody 🦎", encoding="utf-8")
    (tmp_path / "c.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    (tmp_path / "notes.unknownext").write_text("still text", encoding="utf-8")
    result = await load_documents([tmp_path])
    assert texts(result, "a.txt") == ["plain\ntext\n"]
    assert texts(result, "b.md") == ["# Title\n\nBody 🦎"]
    assert texts(result, "c.py") == ["def f():\n    return 1\n"]
    assert texts(result, "notes.unknownext") == ["still text"]
    doc = result.documents["b.md"][0]
    assert doc.id == "b.md" and doc.metadata["source"] == "b.md"
    assert result.failed == [] and result.skipped == []


async def test_byte_order_marks(tmp_path: Path) -> None:
    (tmp_path / "u16.txt").write_bytes("héllo wörld".encode("utf-16"))
    (tmp_path / "u8.txt").write_bytes(b"\xef\xbb\xbfbom text")
    result = await load_documents([tmp_path], source_root=tmp_path)
    assert texts(result, "u16.txt") == ["héllo wörld"]
    assert texts(result, "u8.txt") == ["bom text"]


async def test_encoding_error_reported_with_fix(tmp_path: Path) -> None:
    (tmp_path / "latin.txt").write_bytes("café crème".encode("latin-1"))
    (tmp_path / "ok.txt").write_text("fine", encoding="utf-8")
    result = await load_documents([tmp_path], source_root=tmp_path)
    assert texts(result, "ok.txt") == ["fine"]
    [failure] = result.failed
    assert failure.source == "latin.txt"
    assert "not valid utf-8" in failure.reason and "encoding=" in failure.reason
    fixed = await load_documents(
        [tmp_path / "latin.txt"],
        readers={".txt": TextReader(encoding="latin-1")},
        source_root=tmp_path,
    )
    assert texts(fixed, "latin.txt") == ["café crème"]


async def test_binary_files(tmp_path: Path) -> None:
    (tmp_path / "image.bin").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "fake.txt").write_bytes(b"text\x00with nul")
    (tmp_path / "good.md").write_text("good", encoding="utf-8")
    result = await load_documents([tmp_path], source_root=tmp_path)
    assert list(result.documents) == ["good.md"]
    assert [(i.source, i.kind) for i in result.skipped] == [("image.bin", "skipped")]
    assert "binary" in result.skipped[0].reason
    assert [i.source for i in result.failed] == ["fake.txt"]
    assert "binary" in result.failed[0].reason


async def test_empty_and_missing(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("  \n\n", encoding="utf-8")
    result = await load_documents(
        [tmp_path / "empty.txt", tmp_path / "nope.md"], source_root=tmp_path
    )
    assert [(i.source, i.reason) for i in result.skipped] == [("empty.txt", "no text")]
    assert [i.reason for i in result.failed] == ["no such file or directory"]


async def test_walk_skips_hidden_and_honours_globs(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("secret", encoding="utf-8")
    (tmp_path / ".hidden.md").write_text("hidden", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "keep.md").write_text("keep", encoding="utf-8")
    (tmp_path / "sub" / "drop.txt").write_text("drop", encoding="utf-8")
    (tmp_path / "sub" / "draft.md").write_text("draft", encoding="utf-8")
    result = await load_documents(
        [tmp_path], include=["*.md"], exclude=["draft*"], source_root=tmp_path
    )
    assert list(result.documents) == ["sub/keep.md"]


def test_json_reader(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text(
        json.dumps({"title": "T", "body": "B", "tags": ["x"], "n": None}), encoding="utf-8"
    )
    [doc] = JsonReader().read(path)
    assert json.loads(doc.text) == {"title": "T", "body": "B", "tags": ["x"], "n": None}
    [doc] = JsonReader(text_key="body").read(path)
    assert doc.text == "B" and doc.metadata == {"title": "T", "tags": '["x"]'}
    items = tmp_path / "items.json"
    items.write_text(
        json.dumps([{"body": "one", "i": 1}, {"body": "two", "i": 2}]), encoding="utf-8"
    )
    assert [(d.text, d.metadata) for d in JsonReader(text_key="body").read(items)] == [
        ("one", {"i": 1}),
        ("two", {"i": 2}),
    ]
    lines = tmp_path / "log.jsonl"
    lines.write_text('{"body": "a"}\n\n{"body": "b"}\n', encoding="utf-8")
    assert [d.text for d in JsonReader(text_key="body").read(lines)] == ["a", "b"]
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": ', encoding="utf-8")
    with pytest.raises(DocumentReadError, match="invalid JSON at line 1"):
        JsonReader().read(broken)
    with pytest.raises(DocumentReadError, match="no string field 'text'"):
        JsonReader(text_key="text").read(path)


def test_html_reader(tmp_path: Path) -> None:
    html = """<!doctype html><html><head><meta charset="windows-1252"><title>The  Page</title>
    <style>body { color: red }</style><script>var secret = "no";</script></head>
    <body><h1>Heading</h1><p>First &amp; <b>bold</b>
    paragraph.</p><ul><li>one</li><li>two</li></ul><noscript>enable js</noscript>
    <pre>code  keeps
  spaces</pre><p>caf\xe9</p></body></html>"""
    path = tmp_path / "page.html"
    path.write_bytes(html.encode("windows-1252"))
    [doc] = HtmlReader().read(path)
    assert doc.metadata == {"title": "The Page"}
    assert "secret" not in doc.text and "color" not in doc.text and "enable js" not in doc.text
    assert doc.text.startswith("Heading\n\nFirst & bold paragraph.\n\none\n\ntwo")
    assert "code  keeps\n  spaces" in doc.text
    assert doc.text.endswith("café")


def test_html_to_text_nested_skips() -> None:
    text, title = html_to_text(
        "<div>a<script>if (a < b) { x() }</script>b<svg><text>no</text></svg>c</div>"
    )
    assert text == "abc" and title == ""


def test_pdf_reader_pages(tmp_path: Path, make_pdf: Any) -> None:
    path = tmp_path / "doc.pdf"
    path.write_bytes(make_pdf(["First page text", "Second page text"], title="Manual"))
    docs = PdfReader().read(path)
    assert [d.text.strip() for d in docs] == ["First page text", "Second page text"]
    assert [d.metadata for d in docs] == [
        {"pages": 2, "title": "Manual", "page": 1},
        {"pages": 2, "title": "Manual", "page": 2},
    ]


async def test_corrupt_pdf_and_binary_do_not_stop_the_batch(tmp_path: Path, make_pdf: Any) -> None:
    (tmp_path / "good.pdf").write_bytes(make_pdf(["Readable"]))
    (tmp_path / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage")
    (tmp_path / "random.dat").write_bytes(bytes([0, 159, 146, 150]) * 100)
    (tmp_path / "note.txt").write_text("note", encoding="utf-8")
    result = await load_documents([tmp_path], source_root=tmp_path)
    assert sorted(result.documents) == ["good.pdf", "note.txt"]
    assert result.documents["good.pdf"][0].metadata["page"] == 1
    assert [i.source for i in result.failed] == ["corrupt.pdf"]
    assert "cannot read PDF" in result.failed[0].reason
    assert [i.source for i in result.skipped] == ["random.dat"]


class CsvRowsReader:
    """A third-party reader: one document per CSV row."""

    def read(self, path: Path) -> list[Document]:
        rows = path.read_text(encoding="utf-8").strip().splitlines()
        return [Document(text=row, metadata={"row": n}) for n, row in enumerate(rows, start=1)]


class BrokenReader:
    def read(self, path: Path) -> str:
        return "not documents"


class CrashingReader:
    def read(self, path: Path) -> list[Document]:
        raise RuntimeError("reader bug")


class ThirdPartyPlugin:
    @hookimpl
    def register_readers(self, register: Any) -> None:
        register(".rows", CsvRowsReader)
        register([".broken"], BrokenReader)
        register(".crash", CrashingReader)


async def test_third_party_readers_through_the_hook(tmp_path: Path, gecko_plugin: Any) -> None:
    gecko_plugin(ThirdPartyPlugin(), name="third-party-readers")
    (tmp_path / "table.rows").write_text("a,1\nb,2\n", encoding="utf-8")
    (tmp_path / "x.broken").write_text("whatever", encoding="utf-8")
    (tmp_path / "y.crash").write_text("whatever", encoding="utf-8")
    (tmp_path / "z.md").write_text("still fine", encoding="utf-8")
    result = await load_documents([tmp_path], source_root=tmp_path)
    rows = result.documents["table.rows"]
    assert [(d.id, d.text, d.metadata) for d in rows] == [
        ("table.rows#1", "a,1", {"row": 1, "source": "table.rows"}),
        ("table.rows#2", "b,2", {"row": 2, "source": "table.rows"}),
    ]
    assert texts(result, "z.md") == ["still fine"]
    reasons = {i.source: i.reason for i in result.failed}
    assert "returned str, not a list of Document" in reasons["x.broken"]
    assert reasons["y.crash"] == "RuntimeError: reader bug"


def test_document_ids_and_metadata() -> None:
    a = Document(text="same", metadata={"source": "a.md"})
    b = Document(text="same", metadata={"source": "a.md"})
    c = Document(text="same", metadata={"source": "b.md"})
    assert a.id == b.id != c.id
    assert Document(id="x", text="t").id == "x"
    assert a.with_metadata(page=2).metadata == {"source": "a.md", "page": 2}
    with pytest.raises(ValueError):
        Document(text="t", metadata={"nested": {"a": 1}})  # type: ignore[dict-item]
