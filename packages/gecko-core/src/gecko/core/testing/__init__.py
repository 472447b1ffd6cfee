"""Test kit for plugin authors: conformance suites, fixtures and helpers.

Adopt a suite by subclassing it and providing one fixture::

    from gecko.core.testing import SessionStoreConformance

    class TestMyStore(SessionStoreConformance):
        @pytest.fixture
        async def store(self, tmp_path):
            async with await create_storage(f"mystore://{tmp_path}/db") as store:
                yield store

The pytest plugin (auto-loaded with gecko-core) provides the fixtures
``scripted_model``, ``hashing_embedder``, ``memory_store``, ``memory_vector_store``
and ``gecko_plugin`` (register a plugin object for one test).
"""

from __future__ import annotations

try:
    import pytest  # noqa: F401
except ModuleNotFoundError as exc:  # pragma: no cover - exercised in a venv without pytest
    from gecko.core.errors import MissingDependencyError

    raise MissingDependencyError(
        "gecko.core.testing needs pytest",
        hint="pip install 'gecko-core[testing]'",
    ) from exc

from gecko.core.testing.checkpoint_suite import CheckpointStoreConformance
from gecko.core.testing.event_suite import EventLogConformance
from gecko.core.testing.helpers import wait_until
from gecko.core.testing.session_suite import SessionStoreConformance
from gecko.core.testing.vector_suite import VectorStoreConformance

__all__ = [
    "CheckpointStoreConformance",
    "EventLogConformance",
    "SessionStoreConformance",
    "VectorStoreConformance",
    "wait_until",
]
