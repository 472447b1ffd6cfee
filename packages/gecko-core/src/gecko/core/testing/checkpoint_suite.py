"""The CheckpointStore conformance suite. Subclass it and provide a ``store`` fixture."""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest

from gecko.core.errors import GeckoError, SerializationError
from gecko.core.protocols import CheckpointStore, Lease
from gecko.core.testing.helpers import wait_until


class CheckpointStoreConformance:
    """Behaviour every CheckpointStore must have. Provide ``store``: an opened, empty store."""

    pytestmark = pytest.mark.anyio

    @pytest.fixture
    def store(self) -> Any:  # pragma: no cover - always overridden
        raise NotImplementedError("provide a `store` fixture yielding an opened CheckpointStore")

    async def test_implements_protocol(self, store: Any) -> None:
        assert isinstance(store, CheckpointStore)

    async def test_append_assigns_increasing_seq(self, store: Any) -> None:
        seqs = [await store.append_checkpoint("run-1", {"step": i}) for i in range(5)]
        assert seqs == sorted(seqs) and len(set(seqs)) == 5 and seqs[0] >= 1

    async def test_latest_and_by_seq(self, store: Any) -> None:
        first = await store.append_checkpoint("run", {"step": 1})
        second = await store.append_checkpoint("run", {"step": 2, "state": {"k": [1, 2]}})
        latest = await store.get_checkpoint("run")
        assert latest is not None
        assert (latest.run_id, latest.seq, latest.data) == (
            "run",
            second,
            {"step": 2, "state": {"k": [1, 2]}},
        )
        assert latest.created_at > 0
        older = await store.get_checkpoint("run", first)
        assert older is not None and older.data == {"step": 1}
        assert await store.get_checkpoint("run", second + 100) is None

    async def test_missing_run(self, store: Any) -> None:
        assert await store.get_checkpoint("nope") is None
        assert await store.list_checkpoints("nope") == []

    async def test_history_in_order_with_after_and_limit(self, store: Any) -> None:
        seqs = [await store.append_checkpoint("h", {"i": i}) for i in range(6)]
        history = await store.list_checkpoints("h")
        assert [c.seq for c in history] == seqs
        assert [c.data["i"] for c in history] == list(range(6))
        after = await store.list_checkpoints("h", after_seq=seqs[2])
        assert [c.data["i"] for c in after] == [3, 4, 5]
        limited = await store.list_checkpoints("h", after_seq=seqs[0], limit=2)
        assert [c.data["i"] for c in limited] == [1, 2]

    async def test_runs_are_isolated(self, store: Any) -> None:
        await store.append_checkpoint("a", {"run": "a"})
        await store.append_checkpoint("b", {"run": "b"})
        assert [c.data for c in await store.list_checkpoints("a")] == [{"run": "a"}]
        assert sorted(await store.list_runs()) >= ["a", "b"]
        assert await store.list_runs("b") == ["b"]

    async def test_compact_with_snapshot(self, store: Any) -> None:
        seqs = [await store.append_checkpoint("c", {"delta": i}) for i in range(5)]
        removed = await store.compact_checkpoints("c", seqs[2], {"snapshot": [0, 1, 2]})
        assert removed == 3
        history = await store.list_checkpoints("c")
        assert [c.seq for c in history] == [seqs[2], seqs[3], seqs[4]]
        assert history[0].data == {"snapshot": [0, 1, 2]}
        next_seq = await store.append_checkpoint("c", {"delta": 5})
        assert next_seq > seqs[4]

    async def test_compact_without_snapshot_drops(self, store: Any) -> None:
        seqs = [await store.append_checkpoint("d", {"i": i}) for i in range(4)]
        assert await store.compact_checkpoints("d", seqs[1]) == 2
        assert [c.data["i"] for c in await store.list_checkpoints("d")] == [2, 3]
        assert await store.append_checkpoint("d", {"i": 4}) > seqs[3]

    async def test_delete_run(self, store: Any) -> None:
        for i in range(3):
            await store.append_checkpoint("gone", {"i": i})
        assert await store.delete_checkpoints("gone") == 3
        assert await store.list_checkpoints("gone") == []
        assert "gone" not in await store.list_runs()

    async def test_unicode_and_one_megabyte(self, store: Any) -> None:
        data = {"text": "壁虎 🦎" * 10, "blob": "y" * (1024 * 1024)}
        await store.append_checkpoint("运行", data)
        latest = await store.get_checkpoint("运行")
        assert latest is not None and latest.data == data

    async def test_non_json_rejected(self, store: Any) -> None:
        with pytest.raises(SerializationError) as info:
            await store.append_checkpoint("bad", {"state": {"when": object()}})
        assert "bad" in str(info.value)
        assert await store.list_checkpoints("bad") == []

    async def test_100_concurrent_appends_lose_nothing(self, store: Any) -> None:
        results: list[int] = []

        async def append(i: int) -> None:
            results.append(await store.append_checkpoint("busy", {"writer": i}))

        async with anyio.create_task_group() as tg:
            for i in range(100):
                tg.start_soon(append, i)
        assert len(set(results)) == 100
        history = await store.list_checkpoints("busy")
        assert [c.seq for c in history] == sorted(results)
        assert sorted(c.data["writer"] for c in history) == list(range(100))

    # --- leases: one owner per run ---------------------------------------------------------

    async def test_lease_is_taken_when_free_and_refused_to_another_holder(self, store: Any) -> None:
        before = time.time()
        lease = await store.acquire_lease("owned", "worker-a", 30.0)
        assert isinstance(lease, Lease)
        assert (lease.run_id, lease.holder) == ("owned", "worker-a")
        assert before + 25 < lease.expires_at < time.time() + 35
        refused = await store.acquire_lease("owned", "worker-b", 30.0)
        assert refused.holder == "worker-a"  # the holder in force, so callers can name it
        assert abs(refused.expires_at - lease.expires_at) < 2
        current = await store.get_lease("owned")
        assert current is not None and current.holder == "worker-a"
        assert await store.get_lease("never-leased") is None

    async def test_lease_renewal_and_release_are_the_holders_alone(self, store: Any) -> None:
        await store.acquire_lease("r", "a", 5.0)
        assert await store.renew_lease("r", "a", 60.0)
        renewed = await store.get_lease("r")
        assert renewed is not None and renewed.expires_at > time.time() + 30
        assert not await store.renew_lease("r", "b", 60.0)
        assert not await store.release_lease("r", "b")
        assert (await store.get_lease("r")).holder == "a"  # type: ignore[union-attr]
        assert await store.release_lease("r", "a")
        assert await store.get_lease("r") is None
        assert not await store.renew_lease("r", "a", 5.0)  # released: renewing does not revive it
        assert (await store.acquire_lease("r", "b", 5.0)).holder == "b"

    async def test_the_same_holder_extends_its_lease(self, store: Any) -> None:
        await store.acquire_lease("again", "a", 1.0)
        extended = await store.acquire_lease("again", "a", 60.0)
        assert extended.holder == "a" and extended.expires_at > time.time() + 30

    async def test_an_expired_lease_is_taken_over(self, store: Any) -> None:
        await store.acquire_lease("crashed", "dead-worker", 0.3)

        async def taken() -> bool:
            return bool((await store.acquire_lease("crashed", "next", 10.0)).holder == "next")

        await wait_until(taken, timeout=5, interval=0.05, message="taking over an expired lease")
        assert not await store.renew_lease("crashed", "dead-worker", 10.0)  # too late: lost
        assert not await store.release_lease("crashed", "dead-worker")
        assert (await store.get_lease("crashed")).holder == "next"  # type: ignore[union-attr]

    async def test_leases_of_runs_are_independent(self, store: Any) -> None:
        assert (await store.acquire_lease("x", "a", 10.0)).holder == "a"
        assert (await store.acquire_lease("y", "b", 10.0)).holder == "b"
        assert await store.release_lease("x", "a")
        assert (await store.get_lease("y")).holder == "b"  # type: ignore[union-attr]

    async def test_of_50_concurrent_claimants_exactly_one_wins(self, store: Any) -> None:
        won: list[str] = []

        async def claim(i: int) -> None:
            lease = await store.acquire_lease("contended", f"claimant-{i}", 30.0)
            if lease.holder == f"claimant-{i}":
                won.append(lease.holder)

        async with anyio.create_task_group() as tg:
            for i in range(50):
                tg.start_soon(claim, i)
        assert len(won) == 1
        assert (await store.get_lease("contended")).holder == won[0]  # type: ignore[union-attr]

    async def test_a_bad_lease_ttl_is_refused(self, store: Any) -> None:
        for ttl in (0, -1.0):
            with pytest.raises(GeckoError, match="ttl"):
                await store.acquire_lease("bad-ttl", "a", ttl)
        assert await store.get_lease("bad-ttl") is None
