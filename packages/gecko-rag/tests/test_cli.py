"""``gecko rag ingest`` / ``gecko rag query``: through click's CliRunner and a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gecko.rag.cli import rag


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "geckos.md").write_text(
        "# Geckos\n\nGeckos climb walls with adhesive toe pads.\n\n## Food\n\nThey eat insects at night.\n",
        encoding="utf-8",
    )
    (docs / "other.txt").write_text("Unrelated text about the stock market.", encoding="utf-8")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    return docs


def test_ingest_and_query_with_cli_runner(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    store = f"lancedb://{tmp_path}/kb"
    args = [
        "ingest",
        "docs",
        "--storage",
        store,
        "--embedder",
        "hash/128",
        "--splitter",
        "markdown",
    ]
    result = runner.invoke(rag, args)
    assert result.exit_code == 1, result.output  # broken.pdf failed, the rest is stored
    assert (
        "2 file(s), 3 chunk(s): 3 added, 0 unchanged, 0 removed (0 skipped, 1 failed)"
        in result.output
    )
    assert "failed  docs/broken.pdf: cannot read PDF" in result.output

    again = runner.invoke(rag, [*args, "--json", "--exclude", "*.pdf"])
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)  # progress bars go to stderr
    assert (summary["added"], summary["unchanged"], summary["failed"]) == (0, 3, [])

    found = runner.invoke(
        rag,
        [
            "query",
            "what do geckos eat at night",
            "--store",  # the hidden alias of --storage reaches the same store
            store,
            "--embedder",
            "hash/128",
            "--top-k",
            "1",
        ],
    )
    assert found.exit_code == 0, found.output
    assert found.output.startswith("[1] source: docs/geckos.md (section: Geckos > Food), score ")
    assert "They eat insects at night." in found.output

    filtered = runner.invoke(
        rag,
        [
            "query",
            "geckos",
            "--storage",
            store,
            "--embedder",
            "hash/128",
            "--filter",
            '{"source": "docs/other.txt"}',
            "--json",
        ],
    )
    assert [m["metadata"]["source"] for m in json.loads(filtered.stdout)] == ["docs/other.txt"]


def test_cli_errors_are_readable(tmp_path: Path) -> None:
    runner = CliRunner()
    store = f"chroma://{tmp_path}/kb"
    bad_filter = runner.invoke(
        rag, ["query", "x", "--storage", store, "--embedder", "hash/8", "--filter", "{nope"]
    )
    assert (
        bad_filter.exit_code == 2
        and "Invalid value for --filter: not valid JSON" in bad_filter.output
    )
    bad_op = runner.invoke(
        rag,
        [
            "query",
            "x",
            "--storage",
            store,
            "--embedder",
            "hash/8",
            "--filter",
            '{"a": {"$regex": 1}}',
        ],
    )
    assert bad_op.exit_code == 2 and "unknown filter operator '$regex'" in bad_op.output
    unknown = runner.invoke(rag, ["query", "x", "--storage", "nosuch://db", "--embedder", "hash/8"])
    assert unknown.exit_code == 1 and "Error: unknown storage scheme 'nosuch'" in unknown.output
    missing = runner.invoke(
        rag, ["ingest", "docs", "--embedder", "hash/8"], env={"GECKO_VECTOR_STORE": ""}
    )
    assert missing.exit_code == 2 and "Missing option '--storage'." in missing.output
    overlap = runner.invoke(
        rag,
        [
            "ingest",
            "x",
            "--storage",
            store,
            "--embedder",
            "hash/8",
            "--chunk-size",
            "10",
            "--chunk-overlap",
            "10",
        ],
    )
    assert overlap.exit_code == 2 and "chunk_overlap" in overlap.output


@pytest.mark.parametrize("command", ["ingest", "query"])
def test_help_shows_storage_not_its_hidden_alias(command: str) -> None:
    result = CliRunner().invoke(rag, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "--storage TEXT" in result.output
    assert "--store" not in result.output.replace("--storage", "")


def test_gecko_rag_in_a_subprocess(corpus: Path, tmp_path: Path) -> None:
    gecko = [sys.executable, "-m", "gecko.core.cli.main", "rag"]
    env = {
        "GECKO_VECTOR_STORE": f"milvus://{tmp_path}/kb.db",
        "GECKO_EMBEDDER": "hash/64",
        "PATH": "",
    }
    ingest = subprocess.run(
        [*gecko, "ingest", "docs", "--exclude", "*.pdf"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ingest.returncode == 0, ingest.stderr
    assert "2 file(s), 2 chunk(s): 2 added" in ingest.stdout
    query = subprocess.run(
        [*gecko, "query", "adhesive toe pads", "--top-k", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert query.returncode == 0, query.stderr
    assert query.stdout.startswith("[1] source: docs/geckos.md, score ")
