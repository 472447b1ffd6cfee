"""create_storage and friends: kinds, URL errors, options."""

from __future__ import annotations

import pytest

from gecko.core.errors import ConfigurationError, InvalidURLError, NotRegisteredError
from gecko.core.factories import create_model, create_storage
from gecko.core.protocols import CheckpointStore, SessionStore, VectorStore

pytestmark = pytest.mark.anyio


async def test_memory_scheme_offers_both_kinds() -> None:
    kv = await create_storage("memory://")
    vectors = await create_storage("memory://", kind="vector")
    assert isinstance(kv, SessionStore) and isinstance(kv, CheckpointStore)
    assert isinstance(vectors, VectorStore) and not isinstance(vectors, SessionStore)
    with pytest.raises(ConfigurationError) as info:
        await create_storage("memory://", kind="graph")
    assert "kv and vector" in str(info.value)


async def test_named_memory_stores_share_data() -> None:
    a = await create_storage("memory://shared-test")
    b = await create_storage("memory://shared-test")
    private = await create_storage("memory://")
    await a.set("k", 1)
    assert await b.get("k") == 1 and await private.get("k") is None


@pytest.mark.parametrize("bad", ["", "memory", "not a url", "://nothing"])
async def test_malformed_url(bad: str) -> None:
    with pytest.raises(InvalidURLError):
        await create_storage(bad)


async def test_unknown_option_is_rejected() -> None:
    with pytest.raises(ConfigurationError):
        await create_storage("memory://", flavour="x")


def test_model_id_must_be_a_string() -> None:
    with pytest.raises(NotRegisteredError):
        create_model("")
