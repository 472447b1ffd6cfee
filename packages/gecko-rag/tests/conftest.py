"""Shared fixtures: each real backend opened on a temporary directory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from gecko.core.factories import create_storage

BACKENDS = ("chroma", "lancedb", "milvus", "pgvector", "qdrant")


def store_url(backend: str, directory: Path, postgres: tuple[str, str] | None = None) -> str:
    """A URL for a fresh database of ``backend`` under ``directory``.

    ``pgvector`` needs ``postgres``: the server's URL and a schema of the test's own.
    """
    if backend == "milvus":
        return f"milvus://{directory}/milvus.db"
    if backend == "pgvector":
        assert postgres is not None, "pgvector needs the postgres_url and postgres_schema fixtures"
        url, schema = postgres
        base = url.replace("postgresql://", "postgres+pgvector://", 1).replace(
            "postgres://", "postgres+pgvector://", 1
        )
        return base + ("&" if "?" in base else "?") + f"schema={schema}"
    return f"{backend}://{directory}/{backend}"


def _postgres(backend: str, request: pytest.FixtureRequest) -> tuple[str, str] | None:
    if backend != "pgvector":
        return None
    return request.getfixturevalue("postgres_url"), request.getfixturevalue("postgres_schema")


def make_pdf(pages: list[str], *, title: str | None = None) -> bytes:
    """A PDF with one line of Helvetica text per page (ASCII, no parentheses)."""
    objects: list[bytes] = []
    page_ids = [3 + 2 * i for i in range(len(pages))]
    font_id = 3 + 2 * len(pages)
    info_id = font_id + 1
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    for index, text in enumerate(pages):
        content_id = page_ids[index] + 1
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {content_id} 0 R >>".encode()
        )
        stream = f"BT /F1 12 Tf 72 712 Td ({text}) Tj ET".encode()
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    objects.append(f"<< /Title ({title or ''}) >>".encode())
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, info_id)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


@pytest.fixture(name="make_pdf")
def make_pdf_fixture() -> Callable[..., bytes]:
    """``make_pdf(["page one", "page two"], title=None)`` -> the bytes of a valid PDF."""
    return make_pdf


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def backend_store(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Any]:
    """An opened, empty vector store of each real backend."""
    url = store_url(backend, tmp_path, _postgres(backend, request))
    async with await create_storage(url) as store:
        yield store


@pytest.fixture
def make_url(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str], str]:
    return lambda backend: store_url(backend, tmp_path, _postgres(backend, request))
