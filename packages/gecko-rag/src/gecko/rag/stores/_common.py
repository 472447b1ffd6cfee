"""What the vector-store backends share: URL paths, batch preparation, error wrapping."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from gecko.core.errors import ConfigurationError, GeckoError, InvalidURLError, VectorStoreError
from gecko.core.protocols import VectorRecord
from gecko.core.storage.url import redact_url
from gecko.core.validation import check_str
from gecko.core.vectors.records import check_metadata as check_record_metadata
from gecko.core.vectors.records import validate_records


@dataclass(frozen=True)
class LocalURL:
    """``scheme://<path>?<query>``: the path exactly as written (relative or absolute)."""

    scheme: str
    path: str
    query: dict[str, str]


def parse_local_url(url: str, *, example: str) -> LocalURL:
    """Split a file-backed store URL; ``chroma://./db`` and ``chroma:///abs/db`` both work."""
    scheme, _, rest = url.partition("://")
    raw_path, _, raw_query = rest.partition("?")
    path = unquote(raw_path)
    if not path:
        raise InvalidURLError(
            f"{redact_url(url)!r} has no path", hint=f"for example {example}", url=redact_url(url)
        )
    return LocalURL(scheme.lower(), str(Path(path).expanduser()), parse_query(url, raw_query))


def parse_query(url: str, raw_query: str) -> dict[str, str]:
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        if key in query:
            raise InvalidURLError(
                f"storage URL {redact_url(url)!r} repeats the query parameter {key!r}",
                url=redact_url(url),
            )
        query[key] = value
    return query


def take_options(
    url: str, query: dict[str, str], options: dict[str, Any], allowed: Sequence[str]
) -> dict[str, Any]:
    """Merge URL query parameters with keyword options (options win); reject unknown names."""
    merged: dict[str, Any] = {**query, **options}
    unknown = sorted(set(merged) - set(allowed))
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) {', '.join(unknown)} for {redact_url(url)!r}",
            hint=f"supported: {', '.join(allowed)}",
        )
    return merged


def name_option(value: Any, what: str) -> str:
    return check_str(what, value, max_length=255)


@dataclass
class Batch:
    """Validated records of one upsert, embeddings as a float32 matrix."""

    ids: list[str]
    vectors: Any  # numpy.ndarray (n, dimension) float32; None when built with matrix=False
    embeddings: list[Sequence[float]]  # the records' own (validated) vectors
    texts: list[str]
    metadatas: list[dict[str, Any]]
    dimension: int


def prepare_batch(
    records: Sequence[VectorRecord],
    dimension: int | None,
    *,
    check_metadata: bool = True,
    matrix: bool = True,
) -> Batch:
    """Validate an upsert batch like ``validate_records`` but with numpy for the vectors.

    Checking every float in Python costs more than some backends take to store them;
    numpy converts and checks the whole matrix at once. Any problem it finds is
    re-checked by core's ``validate_records`` so the error names the record. With
    ``check_metadata=False`` the caller validates metadata itself (in bulk); with
    ``matrix=False`` no matrix is built (``vectors`` is None) and each vector's length and
    sum are checked instead, which is cheaper when the backend takes lists.
    """
    import numpy as np

    records = list(records)
    seen: set[str] = set()
    for record in records:
        if (
            not isinstance(record, VectorRecord)
            or not isinstance(record.id, str)
            or not record.id
            or record.id in seen
            or not isinstance(record.text, str)
        ):
            validate_records(records, dimension)
            raise VectorStoreError(f"invalid vector record {record!r}")  # pragma: no cover
        seen.add(record.id)
        if check_metadata:
            check_record_metadata(record.id, record.metadata)
    if not matrix:
        return _lists_batch(records, dimension)
    try:
        vectors = np.asarray([r.embedding for r in records], dtype=np.float32)
        valid = vectors.ndim == 2 and vectors.shape[1] > 0 and bool(np.isfinite(vectors).all())
    except (TypeError, ValueError):
        valid = False
    if not valid or (dimension is not None and vectors.shape[1] != dimension):
        validate_records(records, dimension)
        if not valid:
            raise VectorStoreError("vector embeddings must be lists of finite numbers")
    return Batch(
        ids=[r.id for r in records],
        vectors=vectors,
        embeddings=[r.embedding for r in records],
        texts=[r.text for r in records],
        metadatas=[dict(r.metadata) for r in records],
        dimension=int(vectors.shape[1]),
    )


def _lists_batch(records: list[VectorRecord], dimension: int | None) -> Batch:
    size = dimension if dimension is not None else len(records[0].embedding)
    try:
        # A non-finite sum means a NaN or infinity, or (rarely) an overflow of the sum alone.
        valid = size > 0 and all(
            len(r.embedding) == size and math.isfinite(sum(r.embedding)) for r in records
        )
    except TypeError:
        valid = False
    if not valid:
        validate_records(records, dimension)  # raises for every real problem, naming the record
    return Batch(
        ids=[r.id for r in records],
        vectors=None,
        embeddings=[r.embedding for r in records],
        texts=[r.text for r in records],
        metadatas=[dict(r.metadata) for r in records],
        dimension=size,
    )


def query_vector(embedding: Sequence[float]) -> list[float]:
    """The query as a list of floats, rejecting non-numeric or non-finite values."""
    try:
        vector = [float(x) for x in embedding]
    except (TypeError, ValueError) as exc:
        raise VectorStoreError(f"the query vector must hold numbers: {exc}") from exc
    if not vector or not all(math.isfinite(x) for x in vector):
        raise VectorStoreError("the query vector must be a non-empty list of finite numbers")
    return vector


def chunked(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextmanager
def backend_errors(backend: str, action: str) -> Iterator[None]:
    """Re-raise a backend's own exception as VectorStoreError naming backend and action."""
    try:
        yield
    except GeckoError:
        raise
    except Exception as exc:  # every backend has its own exception types
        raise VectorStoreError(f"{backend} {action} failed: {type(exc).__name__}: {exc}") from exc
