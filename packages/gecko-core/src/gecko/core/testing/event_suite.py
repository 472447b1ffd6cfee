"""The RunEventLog conformance suite. Subclass it and provide a ``store`` fixture."""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest

from gecko.core.errors import ConfigurationError, GeckoError, SerializationError
from gecko.core.protocols import RunEvent, RunEventLog


class EventLogConformance:
    """Behaviour every RunEventLog must have. Provide ``store``: an opened, empty store."""

    pytestmark = pytest.mark.anyio

    @pytest.fixture
    def store(self) -> Any:  # pragma: no cover - always overridden
        raise NotImplementedError("provide a `store` fixture yielding an opened RunEventLog")

    async def test_implements_protocol(self, store: Any) -> None:
        assert isinstance(store, RunEventLog)

    async def test_seqs_are_consecutive_from_one(self, store: Any) -> None:
        assert await store.last_event_seq("run") == 0
        assert await store.append_events("run", [{"i": 0}]) == 1
        assert await store.append_events("run", [{"i": 1}, {"i": 2}, {"i": 3}]) == 4
        assert await store.append_events("run", [{"i": 4}]) == 5
        assert await store.last_event_seq("run") == 5
        before = time.time()
        events = await store.read_events("run")
        assert all(isinstance(e, RunEvent) for e in events)
        assert [(e.run_id, e.seq, e.data) for e in events] == [
            ("run", i + 1, {"i": i}) for i in range(5)
        ]
        assert all(before - 300 < e.created_at <= time.time() + 1 for e in events)

    async def test_an_empty_batch_appends_nothing(self, store: Any) -> None:
        assert await store.append_events("empty", []) == 0
        await store.append_events("empty", [{"a": 1}])
        assert await store.append_events("empty", []) == 1
        assert [e.seq for e in await store.read_events("empty")] == [1]

    async def test_after_and_limit(self, store: Any) -> None:
        await store.append_events("page", [{"i": i} for i in range(1, 11)])
        assert [e.seq for e in await store.read_events("page", after=7)] == [8, 9, 10]
        assert [e.seq for e in await store.read_events("page", after=2, limit=3)] == [3, 4, 5]
        assert [e.data["i"] for e in await store.read_events("page", limit=2)] == [1, 2]
        assert await store.read_events("page", after=10) == []
        assert await store.read_events("page", after=99) == []
        assert await store.read_events("page", limit=0) == []

    async def test_paging_replays_everything_once(self, store: Any) -> None:
        await store.append_events("replay", [{"i": i} for i in range(25)])
        seen: list[int] = []
        after = 0
        while page := await store.read_events("replay", after=after, limit=7):
            seen.extend(e.data["i"] for e in page)
            after = page[-1].seq
        assert seen == list(range(25))

    async def test_missing_run(self, store: Any) -> None:
        assert await store.read_events("nope") == []
        assert await store.last_event_seq("nope") == 0
        assert await store.delete_events("nope") == 0

    async def test_keep_bounds_the_log_and_seqs_are_never_reused(self, store: Any) -> None:
        for i in range(10):
            await store.append_events("bounded", [{"i": i}], keep=3)
        events = await store.read_events("bounded")
        assert [(e.seq, e.data["i"]) for e in events] == [(8, 7), (9, 8), (10, 9)]
        assert await store.last_event_seq("bounded") == 10
        assert await store.append_events("bounded", [{"i": 10}]) == 11  # after the trim
        assert [e.seq for e in await store.read_events("bounded", after=0)] == [8, 9, 10, 11]
        assert [e.seq for e in await store.read_events("bounded", after=9)] == [10, 11]

    async def test_keep_applies_to_a_batch_larger_than_it(self, store: Any) -> None:
        assert await store.append_events("burst", [{"i": i} for i in range(8)], keep=2) == 8
        assert [(e.seq, e.data) for e in await store.read_events("burst")] == [
            (7, {"i": 6}),
            (8, {"i": 7}),
        ]

    async def test_keep_one_keeps_the_newest(self, store: Any) -> None:
        await store.append_events("one", [{"i": 0}, {"i": 1}])
        assert await store.append_events("one", [{"i": 2}], keep=1) == 3
        assert [(e.seq, e.data) for e in await store.read_events("one")] == [(3, {"i": 2})]

    async def test_runs_are_isolated(self, store: Any) -> None:
        await store.append_events("a", [{"run": "a"}, {"run": "a"}])
        await store.append_events("b", [{"run": "b"}], keep=1)
        await store.append_events("ab", [{"run": "ab"}])
        assert [e.data for e in await store.read_events("a")] == [{"run": "a"}] * 2
        assert [(e.run_id, e.seq) for e in await store.read_events("b")] == [("b", 1)]
        assert await store.last_event_seq("ab") == 1
        assert await store.delete_events("a") == 2
        assert [e.data for e in await store.read_events("b")] == [{"run": "b"}]
        assert await store.last_event_seq("ab") == 1

    async def test_json_round_trip(self, store: Any) -> None:
        event = {
            "type": "node.completed",
            "nested": {"list": [1, [2, [3, {"deep": None}]]], "empty": {}, "none": []},
            "text": '壁虎 🦎 \u00e9 \\ " \n\t\u2028',
            "big": 2**100,
            "negative_big": -(2**70),
            "floats": [0.1, 1e-300, 1.7976931348623157e308, -2.5, 0.0],
            "bool": [True, False],
            "blob": "x" * 200_000,
        }
        await store.append_events("运行 🦎", [event, {"second": 2}])
        events = await store.read_events("运行 🦎")
        assert [e.data for e in events] == [event, {"second": 2}]
        assert events[0].run_id == "运行 🦎"
        assert isinstance(events[0].data["big"], int) and isinstance(
            events[0].data["bool"][0], bool
        )
        events[0].data["nested"]["list"].append("mutated")  # reads are copies
        assert (await store.read_events("运行 🦎"))[0].data == event

    async def test_identical_events_stay_distinct(self, store: Any) -> None:
        await store.append_events("same", [{"x": 1}, {"x": 1}])
        await store.append_events("same", [{"x": 1}])
        assert [e.seq for e in await store.read_events("same")] == [1, 2, 3]

    async def test_non_json_values_are_refused_and_nothing_is_written(self, store: Any) -> None:
        await store.append_events("bad", [{"ok": 1}])
        for value in (object(), {1, 2}, float("nan"), {1: "int key"}):
            with pytest.raises(SerializationError) as info:
                await store.append_events("bad", [{"fine": True}, {"when": value}])
            assert "bad" in str(info.value)
        assert [e.data for e in await store.read_events("bad")] == [{"ok": 1}]
        assert await store.last_event_seq("bad") == 1

    async def test_an_event_that_is_not_an_object_is_refused(self, store: Any) -> None:
        for event in (["a", "list"], "text", 3, None):
            with pytest.raises(SerializationError, match="JSON object"):
                await store.append_events("shape", [{"fine": True}, event])
        with pytest.raises(ConfigurationError, match="list"):
            await store.append_events("shape", {"one": "event, not a list"})
        assert await store.read_events("shape") == []
        assert await store.last_event_seq("shape") == 0

    async def test_bad_arguments_are_refused(self, store: Any) -> None:
        for run_id in ("", None, 7):
            with pytest.raises(GeckoError, match="run_id"):
                await store.append_events(run_id, [{"a": 1}])
            with pytest.raises(GeckoError, match="run_id"):
                await store.read_events(run_id)
        for keep in (0, -1, 1.5, True):
            with pytest.raises(ConfigurationError, match="keep"):
                await store.append_events("args", [{"a": 1}], keep=keep)
        for after in (-1, 1.5, None):
            with pytest.raises(ConfigurationError, match="after"):
                await store.read_events("args", after=after)
        for limit in (-1, 2.5):
            with pytest.raises(ConfigurationError, match="limit"):
                await store.read_events("args", limit=limit)
        assert await store.last_event_seq("args") == 0

    async def test_100_concurrent_appends_get_distinct_consecutive_seqs(self, store: Any) -> None:
        results: dict[int, int] = {}

        async def append(i: int) -> None:
            batch = [{"writer": i, "j": j} for j in range(1 + i % 3)]
            results[i] = await store.append_events("busy", batch)

        async with anyio.create_task_group() as tg:
            for i in range(100):
                tg.start_soon(append, i)
        total = sum(1 + i % 3 for i in range(100))
        assert len(set(results.values())) == 100
        assert await store.last_event_seq("busy") == total
        events = await store.read_events("busy")
        assert [e.seq for e in events] == list(range(1, total + 1))
        for i, last in results.items():  # each batch is contiguous and ends at its returned seq
            size = 1 + i % 3
            batch = events[last - size : last]
            assert [(e.data["writer"], e.data["j"]) for e in batch] == [(i, j) for j in range(size)]

    async def test_concurrent_appends_with_keep_stay_bounded(self, store: Any) -> None:
        async def append(i: int) -> None:
            await store.append_events("trimmed", [{"i": i}], keep=5)

        async with anyio.create_task_group() as tg:
            for i in range(50):
                tg.start_soon(append, i)
        events = await store.read_events("trimmed")
        assert [e.seq for e in events] == [46, 47, 48, 49, 50]
        assert await store.last_event_seq("trimmed") == 50

    async def test_delete_forgets_the_log(self, store: Any) -> None:
        await store.append_events("gone", [{"i": i} for i in range(4)], keep=3)
        assert await store.delete_events("gone") == 3
        assert await store.read_events("gone") == []
        assert await store.last_event_seq("gone") == 0
        assert await store.delete_events("gone") == 0
        assert await store.append_events("gone", [{"again": True}]) == 1
