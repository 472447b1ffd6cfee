"""The SessionStore conformance suite. Subclass it and provide a ``store`` fixture."""

from __future__ import annotations

import math
from typing import Any

import anyio
import pytest

from gecko.core.errors import ConfigurationError, GeckoError, SerializationError
from gecko.core.protocols import SessionStore
from gecko.core.testing.helpers import wait_until

ONE_MB = 1024 * 1024


class SessionStoreConformance:
    """Behaviour every SessionStore must have.

    Provide ``store``: an async fixture yielding an opened, empty store. Set
    ``supports_ttl = False`` on the subclass only if the backend cannot expire keys.
    """

    pytestmark = pytest.mark.anyio
    ttl_seconds: float = 0.3

    @pytest.fixture
    def store(self) -> Any:  # pragma: no cover - always overridden
        raise NotImplementedError("provide a `store` fixture yielding an opened SessionStore")

    async def test_implements_protocol(self, store: Any) -> None:
        assert isinstance(store, SessionStore)

    async def test_round_trip_document(self, store: Any) -> None:
        doc = {
            "name": "gecko",
            "n": 3,
            "pi": 3.25,
            "ok": True,
            "none": None,
            "list": [1, "a", {"b": []}],
        }
        await store.set("session:1", doc)
        assert await store.get("session:1") == doc

    @pytest.mark.parametrize(
        "value", [[1, 2, 3], "text", 42, 2.5, True, False, {"nested": {"deep": {"x": [1.5]}}}]
    )
    async def test_round_trip_json_types(self, store: Any, value: Any) -> None:
        await store.set("value", value)
        result = await store.get("value")
        assert result == value and type(result) is type(value)

    async def test_missing_key_is_none(self, store: Any) -> None:
        assert await store.get("does-not-exist") is None

    async def test_overwrite(self, store: Any) -> None:
        await store.set("k", {"v": 1})
        await store.set("k", {"v": 2, "extra": "x"})
        assert await store.get("k") == {"v": 2, "extra": "x"}

    async def test_delete(self, store: Any) -> None:
        await store.set("k", {"v": 1})
        assert await store.delete("k") is True
        assert await store.get("k") is None
        assert await store.delete("k") is False

    async def test_returned_values_are_copies(self, store: Any) -> None:
        await store.set("k", {"items": [1]})
        first = await store.get("k")
        first["items"].append(2)
        assert await store.get("k") == {"items": [1]}

    async def test_unicode_keys_and_values(self, store: Any) -> None:
        doc = {"text": "壁虎 🦎 naïve ñ — \u2028 \x00 end", "emoji": "👩‍💻"}
        await store.set("会话:🦎", doc)
        assert await store.get("会话:🦎") == doc
        assert "会话:🦎" in await store.keys("会话")

    async def test_one_megabyte_value(self, store: Any) -> None:
        big = {"blob": "x" * ONE_MB + "end", "tail": list(range(1000))}
        await store.set("big", big)
        assert await store.get("big") == big

    async def test_keys_by_prefix(self, store: Any) -> None:
        for key in ("user:1", "user:2", "user:10", "order:1"):
            await store.set(key, {"k": key})
        assert await store.keys("user:") == ["user:1", "user:10", "user:2"]
        assert set(await store.keys()) >= {"user:1", "user:2", "user:10", "order:1"}
        assert await store.keys("nothing:") == []

    async def test_batch_operations(self, store: Any) -> None:
        items = {f"b:{i}": {"i": i} for i in range(50)}
        await store.set_many(items)
        got = await store.get_many([*items, "b:missing"])
        assert got == items
        assert await store.delete_many(["b:0", "b:1", "b:missing"]) == 2
        assert await store.get("b:0") is None and await store.get("b:2") == {"i": 2}
        assert await store.get_many([]) == {}

    async def test_batch_with_bad_value_writes_nothing(self, store: Any) -> None:
        with pytest.raises(SerializationError) as info:
            await store.set_many({"good:1": {"a": 1}, "bad": {"s": {1, 2}}, "good:2": {"b": 2}})
        assert "bad" in str(info.value)
        assert await store.get_many(["good:1", "good:2"]) == {}

    @pytest.mark.parametrize(
        "bad",
        [{"s": {1, 2}}, {"o": object()}, {"nan": math.nan}, {1: "int key"}, {"inf": [math.inf]}],
        ids=["set", "object", "nan", "int-key", "inf"],
    )
    async def test_non_json_value_rejected_naming_key(self, store: Any, bad: Any) -> None:
        with pytest.raises(SerializationError) as info:
            await store.set("the-key", bad)
        assert "the-key" in str(info.value)
        assert await store.get("the-key") is None

    async def test_invalid_key_rejected(self, store: Any) -> None:
        with pytest.raises(GeckoError):
            await store.set("", {"a": 1})

    async def test_ttl_expires(self, store: Any) -> None:
        if not getattr(store, "supports_ttl", True):
            pytest.skip("backend does not support TTL")
        await store.set("short", {"v": 1}, ttl=self.ttl_seconds)
        await store.set("long", {"v": 2}, ttl=3600)
        await store.set("forever", {"v": 3})
        assert await store.get("short") == {"v": 1}

        async def gone() -> bool:
            return await store.get("short") is None

        await wait_until(gone, timeout=10, message="key with TTL expiring")
        assert "short" not in await store.keys()
        assert await store.get("long") == {"v": 2}
        assert await store.get("forever") == {"v": 3}

    async def test_ttl_on_batch_set(self, store: Any) -> None:
        if not getattr(store, "supports_ttl", True):
            pytest.skip("backend does not support TTL")
        await store.set_many({"t:1": 1, "t:2": 2}, ttl=self.ttl_seconds)

        async def gone() -> bool:
            return await store.get_many(["t:1", "t:2"]) == {}

        await wait_until(gone, timeout=10, message="batch keys with TTL expiring")

    @pytest.mark.parametrize("ttl", [0, -1, math.nan])
    async def test_invalid_ttl_rejected(self, store: Any, ttl: float) -> None:
        with pytest.raises(ConfigurationError):
            await store.set("k", 1, ttl=ttl)

    async def test_100_concurrent_writers_distinct_keys(self, store: Any) -> None:
        async def write(i: int) -> None:
            await store.set(f"c:{i}", {"writer": i, "payload": "p" * 100})

        async with anyio.create_task_group() as tg:
            for i in range(100):
                tg.start_soon(write, i)
        got = await store.get_many([f"c:{i}" for i in range(100)])
        assert got == {f"c:{i}": {"writer": i, "payload": "p" * 100} for i in range(100)}

    async def test_100_concurrent_writers_same_key(self, store: Any) -> None:
        async def write(i: int) -> None:
            await store.set("contended", {"writer": i, "check": i * 7})

        async with anyio.create_task_group() as tg:
            for i in range(100):
                tg.start_soon(write, i)
        final = await store.get("contended")
        assert final is not None and final["check"] == final["writer"] * 7
        assert 0 <= final["writer"] < 100

    async def test_close_is_idempotent(self, store: Any) -> None:
        await store.set("k", 1)
        await store.close()
        await store.close()
