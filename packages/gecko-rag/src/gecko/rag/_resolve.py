"""Accept an Embedder or its id wherever one is configured."""

from __future__ import annotations

from gecko.core.protocols import Embedder


def resolve_embedder(embedder: Embedder | str) -> Embedder:
    """``embedder`` itself, or ``create_embedder(embedder)`` for an id like ``"hash/384"``."""
    if isinstance(embedder, str):
        from gecko.core.factories import create_embedder

        created: Embedder = create_embedder(embedder)
        return created
    return embedder
