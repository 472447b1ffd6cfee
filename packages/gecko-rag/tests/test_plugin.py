"""The plugin: registrations, an import-light plugin module, and clear errors for missing extras."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gecko.core.plugins.manager import get_plugin_manager

HEAVY = ["chromadb", "lancedb", "pymilvus", "milvus_lite", "pypdf", "numpy", "pyarrow"]


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_registrations() -> None:
    manager = get_plugin_manager()
    storage = manager.registry("storage")
    for scheme in [
        "chroma",
        "chroma+http",
        "chroma+https",
        "lancedb",
        "lancedb+s3",
        "milvus",
        "milvus+https",
    ]:
        registration = storage.get(scheme)
        assert registration.plugin == "gecko-rag" and registration.meta["kind"] == "vector"
    readers = manager.registry("readers")
    for extension in [".txt", ".md", ".py", ".json", ".jsonl", ".html", ".pdf"]:
        assert readers.get(extension).plugin == "gecko-rag"
    assert manager.registry("tools").get("knowledge_search").plugin == "gecko-rag"


def test_plugin_loading_imports_no_backend(tmp_path: Path) -> None:
    result = run_python(
        f"""
        import json, sys
        from gecko.core.cli.main import cli
        from gecko.core.plugins.manager import get_plugin_manager
        manager = get_plugin_manager()
        manager.list_plugins()
        manager.add_commands(cli)
        assert "rag" in cli.commands, sorted(cli.commands)
        print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize(
    ("hidden", "url", "extra"),
    [
        ("chromadb", "chroma://./db", "chroma"),
        ("chromadb", "chroma+http://localhost:8000", "chroma"),
        ("lancedb", "lancedb://./db", "lancedb"),
        ("pymilvus", "milvus://./kb.db", "milvus"),
        ("milvus_lite", "milvus://./kb.db", "milvus"),
    ],
)
def test_missing_extra_names_it(hidden: str, url: str, extra: str, tmp_path: Path) -> None:
    result = run_python(
        f"""
        import sys
        sys.modules[{hidden!r}] = None  # as if the extra were not installed
        import asyncio
        from gecko.core.errors import MissingDependencyError
        from gecko.core.factories import create_storage
        try:
            asyncio.run(create_storage({url!r}))
        except MissingDependencyError as exc:
            print(exc.hint)
            print(exc.message)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    hint, message = result.stdout.splitlines()[:2]
    assert hint == f"pip install 'gecko-rag[{extra}]'"
    assert repr(hidden) in message


def test_missing_pdf_extra_is_reported_per_file(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "b.txt").write_text("fine", encoding="utf-8")
    result = run_python(
        """
        import sys
        sys.modules["pypdf"] = None
        import asyncio
        from gecko.rag import load_documents
        result = asyncio.run(load_documents(["."]))
        print(sorted(result.documents))
        print(result.failed[0].reason)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    documents, reason = result.stdout.splitlines()[:2]
    assert documents == "['b.txt']"
    assert "pip install 'gecko-rag[pdf]'" in reason
