"""The reader protocol, its error, and text decoding shared by the text-based readers."""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from gecko.core.errors import GeckoError
from gecko.rag.documents import Document

SNIFF_BYTES = 8192


class DocumentReadError(GeckoError):
    """A file could not be turned into documents (encoding, corrupt or binary content)."""


@runtime_checkable
class Reader(Protocol):
    """Reads one file into documents. Called in a worker thread, so it may block.

    The loader sets ``source`` metadata and document ids; a reader adds what it knows
    (a page number, a title). Raise ``DocumentReadError`` with a hint for bad input.
    """

    def read(self, path: Path) -> Sequence[Document]: ...


def looks_binary(data: bytes) -> bool:
    """True when the start of ``data`` holds a NUL byte and no UTF-16/32 byte-order mark."""
    head = data[:SNIFF_BYTES]
    if head.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
    ):
        return False
    return b"\x00" in head


def decode_text(data: bytes, path: Path, *, encoding: str = "utf-8", errors: str = "strict") -> str:
    """Decode file bytes to text with universal newlines.

    A byte-order mark wins over ``encoding``. Binary content and undecodable bytes
    raise DocumentReadError saying where the problem is and how to get past it.
    """
    if looks_binary(data):
        raise DocumentReadError(
            f"{path}: looks like a binary file (NUL bytes), not text",
            hint="remove it from the input, or register a reader for its format",
            path=str(path),
        )
    codec = encoding
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            codec = name
            break
    try:
        text = data.decode(codec, errors)
    except UnicodeDecodeError as exc:
        raise DocumentReadError(
            f"{path}: not valid {codec} text (byte {exc.start}: {exc.reason})",
            hint="pass the file's encoding, e.g. TextReader(encoding='latin-1'), "
            "or errors='replace' to substitute undecodable bytes",
            path=str(path),
            encoding=codec,
        ) from exc
    except LookupError as exc:
        raise DocumentReadError(f"unknown text encoding {codec!r}", path=str(path)) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_bytes(path: Path) -> bytes:
    """Read a file, turning OS errors into DocumentReadError."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DocumentReadError(
            f"{path}: cannot read: {exc.strerror or exc}", path=str(path)
        ) from exc
