"""Pytest fixtures for Gecko applications and plugins (auto-loaded via ``pytest11``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest


@pytest.fixture
def scripted_model() -> Any:
    """An automatic ScriptedModel (calls offered tools once, then answers)."""
    from gecko.core.models.scripted import ScriptedModel

    return ScriptedModel()


@pytest.fixture
def hashing_embedder() -> Any:
    """A deterministic 256-dimension HashingEmbedder."""
    from gecko.core.embedders.hashing import HashingEmbedder

    return HashingEmbedder(256)


@pytest.fixture
async def memory_store() -> AsyncIterator[Any]:
    """A private, opened ``memory://`` SessionStore and CheckpointStore."""
    from gecko.core.storage.memory import MemoryStore

    async with MemoryStore() as store:
        yield store


@pytest.fixture
async def memory_vector_store() -> AsyncIterator[Any]:
    """A private, opened in-memory VectorStore."""
    from gecko.core.storage.memory_vector import MemoryVectorStore

    async with MemoryVectorStore() as store:
        yield store


@pytest.fixture
def gecko_plugin() -> Iterator[Callable[..., str]]:
    """Register plugin objects for one test: ``gecko_plugin(MyPlugin(), name="x")``."""
    from gecko.core.plugins.manager import register_plugin, unregister_plugin

    names: list[str] = []

    def register(plugin: object, name: str | None = None) -> str:
        registered = register_plugin(plugin, name=name)
        names.append(registered)
        return registered

    yield register
    for name in reversed(names):
        unregister_plugin(name)
