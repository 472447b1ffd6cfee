"""Walk paths, pick a reader per file, read in worker threads, report every file."""

from __future__ import annotations

import fnmatch
import inspect
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import anyio

from gecko.core.errors import GeckoError, NotRegisteredError
from gecko.rag.documents import Document
from gecko.rag.readers.base import SNIFF_BYTES, DocumentReadError, Reader, looks_binary
from gecko.rag.readers.text import TextReader

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "venv", "site-packages"})
NO_TEXT = "no text"
"""The reason of a file skipped because it holds no text (an emptied file: its chunks go)."""


@dataclass(frozen=True)
class FileIssue:
    """A file that was skipped or failed, and why."""

    source: str
    reason: str
    kind: Literal["skipped", "failed"] = "failed"


@dataclass
class LoadResult:
    """Documents read, per source, plus every file that was skipped or failed."""

    documents: dict[str, list[Document]] = field(default_factory=dict)
    skipped: list[FileIssue] = field(default_factory=list)
    failed: list[FileIssue] = field(default_factory=list)

    @property
    def all_documents(self) -> list[Document]:
        return [doc for docs in self.documents.values() for doc in docs]


def source_name(path: Path, root: Path | None = None) -> str:
    """The ``source`` recorded for ``path``: relative to ``root`` (default: the working
    directory) when inside it, else absolute; always with forward slashes."""
    absolute = path.resolve()
    base = (root or Path.cwd()).resolve()
    try:
        return absolute.relative_to(base).as_posix()
    except ValueError:
        return absolute.as_posix()


def discover_files(
    paths: Iterable[PathLike],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> tuple[list[Path], list[FileIssue]]:
    """Expand files and directories (recursively, sorted, hidden entries skipped).

    ``include``/``exclude`` are glob patterns matched against the path relative to the
    directory being walked (and against the file name). A path that does not exist
    is reported as failed.
    """
    files: list[Path] = []
    missing: list[FileIssue] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            candidates = sorted(_walk(path), key=lambda p: p.as_posix())
            relative = {p: p.relative_to(path).as_posix() for p in candidates}
        elif path.exists():
            candidates = [path]
            relative = {path: path.name}
        else:
            missing.append(FileIssue(str(given), "no such file or directory", "failed"))
            continue
        for candidate in candidates:
            rel = relative[candidate]
            if include and not _matches(rel, candidate.name, include):
                continue
            if exclude and _matches(rel, candidate.name, exclude):
                continue
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                files.append(candidate)
    return files, missing


def _walk(directory: Path) -> Iterable[Path]:
    for root, dirs, names in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS]
        for name in names:
            if not name.startswith("."):
                yield Path(root) / name


def _matches(relative: str, name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(relative, p) or fnmatch.fnmatch(name, p) for p in patterns)


def extension(path: Path) -> str:
    """The lower-cased suffix with its dot (``".md"``); ``""`` for none."""
    return path.suffix.lower()


def get_reader(path: Path, readers: Mapping[str, Reader] | None = None) -> Reader | None:
    """The reader for ``path``: an explicit one from ``readers`` (by extension), else the one
    registered through the ``register_readers`` hook; None when no reader is registered."""
    ext = extension(path)
    if readers and ext in readers:
        return readers[ext]
    if not ext:
        return None
    from gecko.core.factories import create_registered

    try:
        reader = create_registered("readers", ext)
    except NotRegisteredError:
        return None
    if not hasattr(reader, "read"):
        raise GeckoError(
            f"the reader registered for {ext!r} has no read(path) method: {reader!r}",
            hint="a reader factory must return an object with read(path) -> list[Document]",
        )
    return reader  # type: ignore[no-any-return]


async def load_documents(
    paths: Iterable[PathLike],
    *,
    readers: Mapping[str, Reader] | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    source_root: PathLike | None = None,
    max_concurrency: int = 8,
    on_file: Callable[[str, int], Awaitable[None]] | None = None,
) -> LoadResult:
    """Read every file under ``paths`` into documents, a failing file never stopping the rest.

    Each document gets ``source`` metadata (see ``source_name``) and an id: the source
    for a single-document file, ``source#n`` (1-based) for several. Files without a
    registered reader are read as text when they look like text, else skipped.
    ``on_file(source, total_files)`` is awaited as each file finishes.
    """
    files, missing = discover_files(paths, include=include, exclude=exclude)
    result = LoadResult(failed=list(missing))
    root = Path(source_root) if source_root is not None else None
    cache: dict[str, Reader | None] = {}
    limiter = anyio.CapacityLimiter(max(1, max_concurrency))
    outcomes: dict[Path, list[Document] | FileIssue] = {}

    async def read_one(path: Path) -> None:
        source = source_name(path, root)
        try:
            outcomes[path] = await _read_file(path, source, readers, cache, limiter)
        except GeckoError as exc:
            reason = describe_error(exc).removeprefix(f"{path}: ")
            outcomes[path] = FileIssue(source, reason, "failed")
        except Exception as exc:  # a broken reader never stops the batch
            logger.warning("reader failed on %s", source, exc_info=True)
            outcomes[path] = FileIssue(source, f"{type(exc).__name__}: {exc}", "failed")
        if on_file is not None:
            await on_file(source, len(files))

    async with anyio.create_task_group() as tg:
        for path in files:
            tg.start_soon(read_one, path)
    for path in files:  # report in discovery order, whatever order reads finished in
        outcome = outcomes[path]
        if isinstance(outcome, FileIssue):
            (result.skipped if outcome.kind == "skipped" else result.failed).append(outcome)
            logger.info("%s %s: %s", outcome.kind, outcome.source, outcome.reason)
        else:
            result.documents[source_name(path, root)] = outcome
    return result


async def _read_file(
    path: Path,
    source: str,
    readers: Mapping[str, Reader] | None,
    cache: dict[str, Reader | None],
    limiter: anyio.CapacityLimiter,
) -> list[Document] | FileIssue:
    ext = extension(path)
    if ext not in cache:
        cache[ext] = get_reader(path, readers)
    reader = cache[ext]
    if reader is None:
        head = await anyio.to_thread.run_sync(_head, path, limiter=limiter)
        if looks_binary(head):
            what = f"extension {ext!r}" if ext else "files without an extension"
            return FileIssue(source, f"no reader for {what} and the file is binary", "skipped")
        reader = TextReader()
    if inspect.iscoroutinefunction(reader.read):
        raw: Any = await reader.read(path)
    else:
        raw = await anyio.to_thread.run_sync(reader.read, path, limiter=limiter)
    documents = _check_documents(raw, source)
    if not documents or not any(doc.text.strip() for doc in documents):
        return FileIssue(source, NO_TEXT, "skipped")
    return documents


def describe_error(exc: GeckoError) -> str:
    """One line for a report: the message, and the hint in parentheses."""
    return f"{exc.message} ({exc.hint})" if exc.hint else exc.message


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise DocumentReadError(
            f"{path}: cannot read: {exc.strerror or exc}", path=str(path)
        ) from exc


def _check_documents(raw: Any, source: str) -> list[Document]:
    if not isinstance(raw, (list, tuple)) or not all(isinstance(d, Document) for d in raw):
        raise DocumentReadError(
            f"the reader for {source} returned {type(raw).__name__}, not a list of Document",
            hint="a reader's read(path) must return a list of gecko.rag.Document",
        )
    documents = [d for d in raw if d.text.strip()]
    many = len(documents) > 1
    return [
        Document(
            id=f"{source}#{index}" if many else source,
            text=doc.text,
            metadata={**doc.metadata, "source": source},
            embedding=doc.embedding,
        )
        for index, doc in enumerate(documents, start=1)
    ]
