"""A long-running bus does not grow: 100k events, half in the background, with flat memory."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from gecko.core.events import Event, EventBus

pytestmark = pytest.mark.anyio

TOTAL = 100_000
WARM_UP = 5_000
ALLOWED_GROWTH = 256 * 1024  # bytes; a leak of even 3 bytes per event would exceed it


class Tick(Event):
    type: str = "bench.tick"
    n: int


async def test_memory_stays_flat_over_100k_events_half_in_the_background() -> None:
    bus = EventBus(max_pending=1_000)
    delivered = {"specific": 0, "wildcard": 0, "pattern": 0}

    def on_tick(event: Tick) -> None:
        delivered["specific"] += 1

    async def on_any(event: Event) -> None:
        delivered["wildcard"] += 1

    def on_area(event: Event) -> None:
        delivered["pattern"] += 1

    bus.subscribe(Tick, on_tick)
    bus.subscribe("*", on_any)
    bus.subscribe("topic.*", on_area)
    bus.use(lambda event: event)

    async def publish(count: int, offset: int) -> None:
        for index in range(offset, offset + count):
            # a spread of topics exercises the routing cache as well
            event = Tick(n=index) if index % 3 else Event(type=f"topic.t{index % 97}")
            await bus.publish(event, wait=index % 2 == 0)
        await bus.drain()

    tracemalloc.start()
    try:
        await publish(WARM_UP, 0)
        gc.collect()
        baseline, _ = tracemalloc.get_traced_memory()
        await publish(TOTAL, WARM_UP)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    everything = WARM_UP + TOTAL
    assert delivered["wildcard"] == everything  # nothing lost, background included
    assert delivered["specific"] + delivered["pattern"] == everything
    assert bus.pending == 0
    assert after - baseline < ALLOWED_GROWTH, f"grew by {after - baseline} bytes"
