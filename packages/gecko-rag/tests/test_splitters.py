"""Splitters: property checks over many seeded random inputs, plus the Markdown and token cases."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest

from gecko.core.errors import ConfigurationError
from gecko.core.models.tokens import estimate_tokens
from gecko.rag import Document, MarkdownSplitter, RecursiveCharacterSplitter, TokenSplitter
from gecko.rag.splitters import BaseSplitter, markdown_sections

WORDS = [
    "gecko",
    "lizard",
    "tail",
    "a",
    "climbing",
    "wall",
    "night",
    "insect",
    "文本",
    "🦎",
    "x" * 30,
]
PUNCT = [" ", " ", " ", ". ", ", ", "\n", "\n\n", "! ", "。"]


def random_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 400)):
        parts.append(rng.choice(WORDS))
        parts.append(rng.choice(PUNCT))
    if rng.random() < 0.1:
        parts.append("y" * rng.randint(1, 3000))  # one enormous word
    return "".join(parts)


def check_spans(splitter: BaseSplitter, text: str, measure: object = len) -> None:
    spans = splitter.split_text(text)
    previous_start, previous_end = -1, 0
    covered = [False] * len(text)
    for span in spans:
        chunk = text[span.start : span.end]
        assert chunk, "no empty chunks"
        assert chunk == chunk.strip(), "chunks are trimmed"
        assert measure(chunk) <= splitter.chunk_size  # type: ignore[operator]
        assert span.start > previous_start, "chunks advance"
        overlap = previous_end - span.start
        if overlap > 0:
            assert measure(text[span.start : previous_end]) <= splitter.chunk_overlap  # type: ignore[operator]
        previous_start, previous_end = span.start, span.end
        for i in range(span.start, span.end):
            covered[i] = True
    lost = [i for i, c in enumerate(covered) if not c and not text[i].isspace()]
    assert not lost, f"characters lost at {lost[:5]}"


@pytest.mark.parametrize("seed", range(40))
def test_recursive_splitter_properties(seed: int) -> None:
    rng = random.Random(seed)
    size = rng.choice([1, 2, 7, 20, 50, 100, 333, 1000])
    overlap = rng.randint(0, size - 1)
    check_spans(RecursiveCharacterSplitter(size, overlap), random_text(rng))


@pytest.mark.parametrize("seed", range(20))
def test_token_splitter_properties(seed: int) -> None:
    rng = random.Random(1000 + seed)
    size = rng.choice([3, 10, 64, 256])
    overlap = rng.randint(0, size - 1)
    check_spans(TokenSplitter(size, overlap), random_text(rng), measure=estimate_tokens)


@pytest.mark.parametrize("seed", range(10))
def test_token_splitter_with_a_custom_counter(seed: int) -> None:
    rng = random.Random(2000 + seed)

    def words(text: str) -> int:
        return len(text.split()) + text.count("。")

    check_spans(TokenSplitter(12, 4, token_counter=words), random_text(rng), measure=words)


@pytest.mark.parametrize("seed", range(15))
def test_markdown_splitter_properties(seed: int) -> None:
    rng = random.Random(3000 + seed)
    text = "\n".join(
        rng.choice(
            ["# Top", "## Sub " + str(i), "### Deep", "```", "plain line", random_text(rng)[:300]]
        )
        for i in range(rng.randint(1, 40))
    )
    splitter = MarkdownSplitter(rng.choice([40, 120, 500]), 10)
    check_spans(splitter, text)
    sections = markdown_sections(text)
    for span in splitter.split_text(text):
        assert any(s.start <= span.start and span.end <= s.end for s in sections), (
            "inside one section"
        )


def test_overlap_is_honoured() -> None:
    text = " ".join(f"word{i:03d}" for i in range(300))  # 2399 characters of 7-character words
    spans = RecursiveCharacterSplitter(100, 30).split_text(text)
    overlaps = [a.end - b.start for a, b in pairwise(spans)]
    assert all(15 <= o <= 30 for o in overlaps), overlaps
    assert len(spans) == pytest.approx(2399 / 70, abs=3)
    no_overlap = RecursiveCharacterSplitter(100, 0).split_text(text)
    assert all(b.start >= a.end for a, b in pairwise(no_overlap))


def test_prefers_paragraphs_then_sentences() -> None:
    text = "First paragraph is here.\n\nSecond one. It has two sentences.\n\nThird."
    chunks = [text[s.start : s.end] for s in RecursiveCharacterSplitter(40, 0).split_text(text)]
    assert chunks == ["First paragraph is here.", "Second one. It has two sentences.", "Third."]


def test_cjk_without_spaces() -> None:
    text = "壁虎是一种小型爬行动物。它们可以在墙上行走。夜晚它们捕食昆虫。" * 5
    spans = RecursiveCharacterSplitter(20, 5).split_text(text)
    assert all(len(text[s.start : s.end]) <= 20 for s in spans)
    assert text[spans[0].start : spans[0].end] == "壁虎是一种小型爬行动物。"


def test_invalid_settings() -> None:
    with pytest.raises(ConfigurationError):
        RecursiveCharacterSplitter(100, 100)
    with pytest.raises(ConfigurationError):
        RecursiveCharacterSplitter(0, 0)
    with pytest.raises(ConfigurationError):
        TokenSplitter(10, -1)
    with pytest.raises(ConfigurationError, match="single character"):
        TokenSplitter(2, 0, token_counter=lambda t: 5 * len(t)).split_text("abc")


def test_token_estimate_fast_path_matches_core_estimate() -> None:
    rng = random.Random(7)
    text = random_text(rng)
    measure = TokenSplitter()._measure(text)
    for _ in range(200):
        a = rng.randint(0, len(text))
        b = rng.randint(a, len(text))
        assert measure(a, b) == estimate_tokens(text[a:b])


def test_markdown_headings_metadata() -> None:
    text = (
        "Intro before any heading.\n\n"
        "# Guide\n\n"
        "## Install\n\npip install gecko\n\n"
        "```\n# not a heading inside code\n```\n\n"
        "## Use\n\nCall it.\n\n"
        "### Details\n\nMore.\n"
        "# Appendix\nEnd.\n"
    )
    spans = MarkdownSplitter(1000, 0).split_text(text)
    found = [(text[s.start : s.end].splitlines()[0], s.metadata) for s in spans]
    assert found == [
        ("Intro before any heading.", {}),
        ("# Guide", {"section": "Guide > Install", "h1": "Guide", "h2": "Install"}),
        ("## Use", {"section": "Guide > Use", "h1": "Guide", "h2": "Use"}),
        (
            "### Details",
            {"section": "Guide > Use > Details", "h1": "Guide", "h2": "Use", "h3": "Details"},
        ),
        ("# Appendix", {"section": "Appendix", "h1": "Appendix"}),
    ]
    assert "# not a heading inside code" in text[spans[1].start : spans[1].end]


def test_split_documents_metadata_and_stable_ids() -> None:
    text = "Alpha beta gamma. " * 20 + "\n\nRepeated block.\n\nRepeated block."
    doc = Document(id="guide.md", text=text, metadata={"source": "guide.md", "lang": "en"})
    splitter = RecursiveCharacterSplitter(60, 10)
    chunks = splitter.split_documents([doc])
    for index, chunk in enumerate(chunks):
        meta = chunk.metadata
        assert text[meta["start"] : meta["end"]] == chunk.text  # type: ignore[misc]
        assert (
            meta["source"] == "guide.md" and meta["lang"] == "en" and meta["chunk_index"] == index
        )
        assert meta["document_id"] == "guide.md"
    assert len({c.id for c in chunks}) == len(chunks), "identical texts get distinct ids"
    assert [c.id for c in splitter.split_documents([doc])] == [c.id for c in chunks]
    edited = doc.model_copy(update={"text": text.replace("Repeated block.", "Changed block.", 1)})
    edited_ids = [c.id for c in splitter.split_documents([edited])]
    assert edited_ids[:-2] == [c.id for c in chunks][:-2]
    assert edited_ids[-2:] != [c.id for c in chunks][-2:]
