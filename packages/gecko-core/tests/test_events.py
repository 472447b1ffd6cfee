"""EventBus: delivery order, middleware, wildcard and pattern subscribers, failures, background delivery."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import anyio
import pytest

from gecko.core.errors import ConfigurationError, GeckoError
from gecko.core.events import Event, EventBus
from gecko.core.testing import wait_until

pytestmark = pytest.mark.anyio


class TurnStarted(Event):
    type: str = "agent.turn_started"
    turn: int


class ToolCalled(Event):
    type: str = "agent.tool_called"
    tool: str


class Untyped(Event):
    pass


async def test_handlers_receive_events_in_publish_order() -> None:
    bus = EventBus()
    seen: list[int] = []
    bus.subscribe(TurnStarted, lambda event: seen.append(event.turn))
    for turn in range(20):
        await bus.publish(TurnStarted(turn=turn))
    assert seen == list(range(20))


async def test_handlers_of_one_event_run_in_subscription_order_sync_and_async() -> None:
    bus = EventBus()
    calls: list[str] = []

    async def second(event: Event) -> None:
        await anyio.lowlevel.checkpoint()
        calls.append("async")

    bus.subscribe("agent.turn_started", lambda event: calls.append("sync-1"))
    bus.subscribe(TurnStarted, second)
    bus.subscribe("agent.*", lambda event: calls.append("pattern"))
    bus.subscribe("*", lambda event: calls.append("wildcard"))
    delivered = await bus.publish(TurnStarted(turn=1))
    assert calls == ["sync-1", "async", "pattern", "wildcard"]
    assert isinstance(delivered, TurnStarted)


async def test_wildcard_subscribers_get_every_event_in_addition_to_specific_ones() -> None:
    bus = EventBus()
    specific: list[str] = []
    everything: list[str] = []
    bus.subscribe(TurnStarted, lambda event: specific.append(event.type))
    bus.subscribe("*", lambda event: everything.append(event.type))
    await bus.publish(TurnStarted(turn=1))
    await bus.publish(ToolCalled(tool="search"))
    await bus.publish(Event(type="workflow.node_completed"))
    assert specific == ["agent.turn_started"]
    assert everything == ["agent.turn_started", "agent.tool_called", "workflow.node_completed"]


async def test_prefix_patterns_match_only_their_area() -> None:
    bus = EventBus()
    agent_events: list[str] = []
    bus.subscribe("agent.*", lambda event: agent_events.append(event.type))
    await bus.publish(TurnStarted(turn=1))
    await bus.publish(Event(type="agentx.other"))
    await bus.publish(Event(type="workflow.started"))
    assert agent_events == ["agent.turn_started"]


async def test_middleware_can_modify_events_in_order() -> None:
    bus = EventBus()
    received: list[Event] = []
    bus.subscribe("*", received.append)
    bus.use(lambda event: event.model_copy(update={"source": "agent-1"}))

    async def tag(event: Event) -> Event:
        return event.model_copy(update={"data": {**event.data, "seen_by": event.source}})

    bus.use(tag)
    original = Event(type="app.progress")
    delivered = await bus.publish(original)
    assert delivered is not None and delivered.source == "agent-1"
    assert delivered.data == {"seen_by": "agent-1"}  # the second middleware saw the first's change
    assert received == [delivered]
    assert original.source is None  # the publisher's object is untouched


async def test_middleware_can_block_events() -> None:
    bus = EventBus()
    received: list[str] = []
    bus.subscribe("*", lambda event: received.append(event.type))

    async def no_secrets(event: Event) -> Event | None:
        return None if event.type.startswith("secret.") else event

    bus.use(no_secrets)
    assert await bus.publish(Event(type="secret.key")) is None
    assert await bus.publish(Event(type="public.news")) is not None
    assert received == ["public.news"]


async def test_failing_middleware_blocks_the_event_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    received: list[Event] = []
    bus.subscribe("*", received.append)

    def broken(event: Event) -> Event:
        raise RuntimeError("redactor crashed")

    bus.use(broken)
    with caplog.at_level(logging.ERROR, logger="gecko.core.events"):
        assert await bus.publish(Event(type="user.message")) is None
    assert received == []
    assert "redactor crashed" in caplog.text


async def test_middleware_returning_a_non_event_blocks(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    received: list[Event] = []
    bus.subscribe("*", received.append)
    bus.use(lambda event: {"type": "not an event"})  # type: ignore[arg-type,return-value]
    with caplog.at_level(logging.ERROR, logger="gecko.core.events"):
        assert await bus.publish(Event(type="a.b")) is None
    assert received == []
    assert "instead of an Event" in caplog.text


async def test_failing_handlers_are_logged_and_never_reach_the_publisher_or_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    after: list[str] = []

    def sync_boom(event: Event) -> None:
        raise ValueError("sync handler broke")

    async def async_boom(event: Event) -> None:
        raise KeyError("async handler broke")

    bus.subscribe("*", sync_boom)
    bus.subscribe("*", async_boom)
    bus.subscribe("*", lambda event: after.append(event.type))
    with caplog.at_level(logging.ERROR, logger="gecko.core.events"):
        delivered = await bus.publish(Event(type="x.y"))
        await bus.publish(Event(type="x.z"), wait=False)
        await bus.drain()
    assert delivered is not None
    assert after == ["x.y", "x.z"]
    failures = [r for r in caplog.records if r.name == "gecko.core.events.bus"]
    assert [r.exc_info[1].__class__ for r in failures if r.exc_info] == [
        ValueError,
        KeyError,
        ValueError,
        KeyError,
    ]
    assert "sync_boom failed on a 'x.y' event" in failures[0].getMessage()


async def test_unsubscribe_and_remove_middleware() -> None:
    bus = EventBus()
    seen: list[str] = []
    unsubscribe = bus.subscribe("*", lambda event: seen.append(event.type))
    remove = bus.use(lambda event: None)
    await bus.publish(Event(type="a.one"))
    remove()
    await bus.publish(Event(type="a.two"))
    unsubscribe()
    unsubscribe()  # idempotent
    await bus.publish(Event(type="a.three"))
    assert seen == ["a.two"]


async def test_the_same_handler_may_subscribe_twice_and_unsubscribe_once() -> None:
    bus = EventBus()
    seen: list[str] = []
    first = bus.subscribe("a.b", seen.append)
    bus.subscribe("a.b", seen.append)
    first()
    await bus.publish(Event(type="a.b"))
    assert len(seen) == 1


def test_bad_subscriptions_are_rejected_with_clear_errors() -> None:
    bus = EventBus()
    with pytest.raises(ConfigurationError, match="has no default 'type'"):
        bus.subscribe(Untyped, print)
    with pytest.raises(ConfigurationError, match="non-empty topic"):
        bus.subscribe("  ", print)
    with pytest.raises(ConfigurationError, match="callable"):
        bus.subscribe("a.b", "not callable")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="max_pending"):
        EventBus(max_pending=0)


async def test_publish_rejects_non_events() -> None:
    with pytest.raises(ConfigurationError, match="takes an Event"):
        await EventBus().publish({"type": "a.b"})  # type: ignore[arg-type]


def test_events_reject_unknown_fields() -> None:
    with pytest.raises(ValueError, match="turnn"):
        TurnStarted(turn=1, turnn=2)  # type: ignore[call-arg]


# --- background delivery ---------------------------------------------------------------


async def test_background_events_are_delivered_in_order_after_publish_returns() -> None:
    bus = EventBus()
    seen: list[int] = []
    gate = anyio.Event()

    async def slow(event: TurnStarted) -> None:
        await gate.wait()
        seen.append(event.turn)

    bus.subscribe(TurnStarted, slow)
    for turn in range(50):
        assert await bus.publish(TurnStarted(turn=turn), wait=False) is None
    assert seen == []  # publish returned without waiting for the handler
    assert bus.pending >= 49
    gate.set()
    await bus.drain()
    assert seen == list(range(50))
    assert bus.pending == 0


async def test_background_delivery_applies_middleware() -> None:
    bus = EventBus()
    seen: list[str | None] = []
    bus.use(lambda event: event.model_copy(update={"source": "mw"}))
    bus.use(lambda event: None if event.type == "drop.me" else event)
    bus.subscribe("*", lambda event: seen.append(event.source))
    await bus.publish(Event(type="keep.me"), wait=False)
    await bus.publish(Event(type="drop.me"), wait=False)
    await bus.drain()
    assert seen == ["mw"]


async def test_background_queue_is_bounded_publishers_wait_and_nothing_is_lost() -> None:
    bus = EventBus(max_pending=3)
    gate = anyio.Event()
    seen: list[int] = []

    async def handler(event: TurnStarted) -> None:
        await gate.wait()
        seen.append(event.turn)

    bus.subscribe(TurnStarted, handler)
    published = 0

    async def publisher() -> None:
        nonlocal published
        for turn in range(10):
            await bus.publish(TurnStarted(turn=turn), wait=False)
            published += 1

    async with anyio.create_task_group() as group:
        group.start_soon(publisher)
        # one event is being handled, three wait in the queue: the fifth publish blocks
        await wait_until(lambda: published == 4, message="four publishes")
        for _ in range(20):
            await anyio.lowlevel.checkpoint()
        assert published == 4
        assert bus.pending == 3
        gate.set()
    await bus.drain()
    assert seen == list(range(10))


async def test_handlers_may_publish_from_background_delivery_without_deadlock() -> None:
    bus = EventBus(max_pending=1)
    seen: list[str] = []

    async def fan_out(event: Event) -> None:
        seen.append(event.type)
        if event.type == "root.event":
            for index in range(5):  # more than max_pending, from inside the worker
                await bus.publish(Event(type=f"child.{index}"), wait=False)

    bus.subscribe("*", fan_out)
    await bus.publish(Event(type="root.event"), wait=False)
    with anyio.fail_after(10):
        await bus.drain()
    assert seen == ["root.event"] + [f"child.{index}" for index in range(5)]


async def test_drain_waits_for_events_published_while_draining() -> None:
    bus = EventBus()
    seen: list[str] = []

    async def chain(event: Event) -> None:
        seen.append(event.type)
        depth = int(event.type.split(".")[1])
        if depth < 5:
            await anyio.lowlevel.checkpoint()
            await bus.publish(Event(type=f"chain.{depth + 1}"), wait=False)

    bus.subscribe("chain.*", chain)
    await bus.publish(Event(type="chain.0"), wait=False)
    await bus.drain()
    assert seen == [f"chain.{depth}" for depth in range(6)]


async def test_drain_from_a_background_handler_is_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()

    async def bad(event: Event) -> None:
        await bus.drain()

    bus.subscribe("*", bad)
    with caplog.at_level(logging.ERROR, logger="gecko.core.events"):
        await bus.publish(Event(type="a.b"), wait=False)
        await bus.drain()
    assert "would wait for itself" in caplog.text


async def test_drain_timeout_raises_and_keeps_the_events() -> None:
    bus = EventBus()
    gate = anyio.Event()
    seen: list[str] = []

    async def blocked(event: Event) -> None:
        await gate.wait()
        seen.append(event.type)

    bus.subscribe("*", blocked)
    await bus.publish(Event(type="a.one"), wait=False)
    await bus.publish(Event(type="a.two"), wait=False)
    with pytest.raises(TimeoutError):
        await bus.drain(timeout=0.05)
    gate.set()
    await bus.drain()
    assert seen == ["a.one", "a.two"]


async def test_drain_with_nothing_published_returns() -> None:
    await EventBus().drain(timeout=1)


async def test_aclose_drains_then_rejects_publishing() -> None:
    bus = EventBus(name="ui")
    seen: list[str] = []

    async def handler(event: Event) -> None:
        await anyio.lowlevel.checkpoint()
        seen.append(event.type)

    bus.subscribe("*", handler)
    for index in range(10):
        await bus.publish(Event(type=f"e.{index}"), wait=False)
    await bus.aclose()
    assert len(seen) == 10
    assert bus.closed
    with pytest.raises(GeckoError, match="'ui' is closed"):
        await bus.publish(Event(type="late.event"))
    with pytest.raises(GeckoError, match="closed"):
        await bus.publish(Event(type="late.event"), wait=False)
    await bus.aclose()  # closing twice is harmless


async def test_aclose_timeout_cancels_stuck_deliveries_and_says_how_many(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()

    async def stuck(event: Event) -> None:
        await anyio.sleep_forever()

    bus.subscribe("*", stuck)
    for index in range(3):
        await bus.publish(Event(type=f"e.{index}"), wait=False)
    with caplog.at_level(logging.WARNING, logger="gecko.core.events"):
        await bus.aclose(timeout=0.05)
    assert "3 events not (fully) delivered" in caplog.text
    assert bus.pending == 0


async def test_async_with_runs_background_delivery_in_its_own_task_group() -> None:
    seen: list[int] = []
    async with EventBus() as bus:

        async def handler(event: TurnStarted) -> None:
            await anyio.lowlevel.checkpoint()
            seen.append(event.turn)

        bus.subscribe(TurnStarted, handler)
        for turn in range(5):
            await bus.publish(TurnStarted(turn=turn), wait=False)
    assert seen == list(range(5))  # leaving the block drained the bus
    assert bus.closed


async def test_async_with_block_error_still_delivers_and_propagates() -> None:
    seen: list[str] = []
    with pytest.raises(RuntimeError, match="body failed"):
        async with EventBus() as bus:
            bus.subscribe("*", lambda event: seen.append(event.type))
            await bus.publish(Event(type="run.failed"), wait=False)
            raise RuntimeError("body failed")
    assert seen == ["run.failed"]


async def test_async_with_aclose_timeout_does_not_cancel_the_block() -> None:
    reached = False
    async with EventBus() as bus:

        async def stuck(event: Event) -> None:
            await anyio.sleep_forever()

        bus.subscribe("*", stuck)
        await bus.publish(Event(type="a.b"), wait=False)
        await bus.aclose(timeout=0.05)
        await anyio.lowlevel.checkpoint()
        reached = True
    assert reached


def test_a_bus_works_across_event_loops_without_lost_or_destroyed_tasks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    seen: list[str] = []
    bus.subscribe("*", lambda event: seen.append(event.type))

    async def run(tag: str) -> None:
        for index in range(3):
            await bus.publish(Event(type=f"{tag}.{index}"), wait=False)
        await bus.drain()

    with caplog.at_level(logging.WARNING):
        asyncio.run(run("first"))
        asyncio.run(run("second"))
        gc.collect()
    assert seen == [f"{tag}.{index}" for tag in ("first", "second") for index in range(3)]
    assert "destroyed" not in caplog.text
    assert "never delivered" not in caplog.text


def test_events_left_undelivered_when_the_loop_ends_are_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus(name="leaky")

    async def stuck(event: Event) -> None:
        await anyio.sleep_forever()

    bus.subscribe("*", stuck)

    async def run() -> None:
        for index in range(4):
            await bus.publish(Event(type=f"e.{index}"), wait=False)
        await anyio.lowlevel.checkpoint()

    with caplog.at_level(logging.WARNING):
        asyncio.run(run())  # ends without draining: asyncio.run cancels the worker
        gc.collect()
    assert "4 events not (fully) delivered" in caplog.text
    assert "destroyed" not in caplog.text


async def test_event_payload_serialises_for_uis() -> None:
    event = ToolCalled(tool="search", source="agent-1")
    data: dict[str, Any] = event.model_dump(mode="json")
    assert data["type"] == "agent.tool_called"
    assert data["tool"] == "search"
    assert data["source"] == "agent-1"
    assert isinstance(data["timestamp"], float)


def test_has_subscribers_follows_subscriptions_and_middleware() -> None:
    bus = EventBus()
    assert not bus.has_subscribers("agent.turn_started")
    unsubscribe = bus.subscribe("agent.*", lambda event: None)
    assert bus.has_subscribers("agent.turn_started") and not bus.has_subscribers("workflow.started")
    unsubscribe()
    assert not bus.has_subscribers("agent.turn_started")
    remove = bus.use(lambda event: event)
    assert bus.has_subscribers("workflow.started")
    remove()
    bus.subscribe("*", lambda event: None)
    assert bus.has_subscribers("anything.at_all")
