"""``EventBus``: publish typed events to subscribers, through middleware, now or in the background.

Delivery of one event: middleware runs in registration order (each may return a
modified event, or ``None`` to block it), then every matching subscription is
called in subscription order. A subscription matches an exact topic
(``"agent.turn_started"``), a prefix pattern (``"agent.*"``) or everything
(``"*"``); wildcard subscribers receive every event *in addition to* the
specific ones. Handlers may be sync or async; a failing handler is logged and
never raised to the publisher or to the other handlers.

Background delivery (``publish(event, wait=False)``) goes through one bounded
FIFO queue per bus, emptied by a single worker task that exists only while
there is work. So background events are delivered in publish order, the bus
holds at most ``max_pending`` queued events (a publisher waits for room beyond
that: back-pressure, never loss), and the one task reference is kept until the
worker finishes. ``drain()`` waits for the queue to empty; ``aclose()`` drains
and closes. On asyncio the worker is a task of the running loop; inside
``async with bus:`` it runs in the bus's own anyio task group (any backend).
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar, Union, overload

import anyio
import anyio.abc

from gecko.core.errors import ConfigurationError, GeckoError
from gecko.core.events.types import Event, event_topic
from gecko.core.validation import check_int

logger = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[Any], Union[None, Awaitable[None]]]
"""``(event) -> None``, sync or async."""
Middleware = Callable[[Event], Union[Event, None, Awaitable[Union[Event, None]]]]
"""``(event) -> event | None``, sync or async; ``None`` blocks the event."""

DEFAULT_MAX_PENDING = 10_000
_MAX_ROUTES = 1024  # cached topic -> subscriptions lists; cleared when exceeded
_YIELD_EVERY = 64  # the background worker yields to the loop this often


@dataclass(eq=False)
class _Subscription:
    topic: str
    handler: Callable[[Any], Any]

    def matches(self, event_type: str) -> bool:
        if self.topic == "*":
            return True
        if self.topic.endswith(".*"):
            return event_type.startswith(self.topic[:-1])
        return self.topic == event_type


@dataclass(eq=False)
class _Background:
    """Background-delivery state bound to one event loop (``loop`` is None off asyncio)."""

    loop: asyncio.AbstractEventLoop | None
    queue: deque[Event] = field(default_factory=deque)
    running: bool = False
    task: asyncio.Task[None] | None = None  # the worker's strong reference (asyncio mode)
    worker_id: int | None = None
    scope: anyio.CancelScope | None = None  # the worker's own scope, to cancel only it
    idle: anyio.Event | None = None  # set when the worker stops; created by waiters
    room: anyio.Event | None = None  # set when the queue shrinks; created by waiters

    def wake_room(self) -> None:
        if self.room is not None:
            self.room.set()
            self.room = None

    def wake_idle(self) -> None:
        if self.idle is not None:
            self.idle.set()
            self.idle = None


class EventBus:
    """Typed publish/subscribe with middleware and bounded, ordered background delivery."""

    def __init__(self, *, max_pending: int = DEFAULT_MAX_PENDING, name: str | None = None) -> None:
        check_int(
            "max_pending",
            max_pending,
            minimum=1,
            hint="it bounds how many background events may wait for delivery",
        )
        self.name = name
        self.max_pending = max_pending
        self._subscriptions: tuple[_Subscription, ...] = ()
        self._middleware: tuple[_Subscription, ...] = ()  # topic unused; identity for removal
        self._routes: dict[str, tuple[_Subscription, ...]] = {}
        self._lock = threading.Lock()
        self._background: _Background | None = None
        self._task_group: anyio.abc.TaskGroup | None = None
        self._group_loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._ids = itertools.count()

    def __repr__(self) -> str:
        return (
            f"EventBus(name={self.name!r}, subscriptions={len(self._subscriptions)}, "
            f"middleware={len(self._middleware)}, pending={self.pending})"
        )

    # --- subscriptions and middleware ------------------------------------------------

    @overload
    def subscribe(self, event_type: type[E], handler: Callable[[E], Any]) -> Callable[[], None]: ...

    @overload
    def subscribe(self, event_type: str, handler: Callable[[Any], Any]) -> Callable[[], None]: ...

    def subscribe(
        self, event_type: str | type[Event], handler: Callable[[Any], Any]
    ) -> Callable[[], None]:
        """Call ``handler`` for every event of ``event_type``; return a function that unsubscribes.

        ``event_type`` is a topic (``"agent.tool_called"``), an Event subclass (its
        default ``type``), a prefix pattern (``"agent.*"``) or ``"*"`` for every event.
        """
        topic = event_topic(event_type)
        if not callable(handler):
            raise ConfigurationError(f"event handler must be callable, got {handler!r}")
        subscription = _Subscription(topic, handler)
        with self._lock:
            self._subscriptions = (*self._subscriptions, subscription)
            self._routes = {}

        def unsubscribe() -> None:
            with self._lock:
                kept = tuple(s for s in self._subscriptions if s is not subscription)
                if len(kept) != len(self._subscriptions):
                    self._subscriptions = kept
                    self._routes = {}

        return unsubscribe

    def use(self, middleware: Middleware) -> Callable[[], None]:
        """Add ``middleware`` (runs in order before handlers); return a function that removes it.

        A middleware returns the event (possibly a modified copy) to continue, or
        ``None`` to block it. A middleware that raises or returns something else
        blocks the event too (fail closed: a redacting middleware that breaks must
        not let the unredacted event through); the failure is logged.
        """
        if not callable(middleware):
            raise ConfigurationError(f"event middleware must be callable, got {middleware!r}")
        entry = _Subscription("*", middleware)
        with self._lock:
            self._middleware = (*self._middleware, entry)

        def remove() -> None:
            with self._lock:
                self._middleware = tuple(m for m in self._middleware if m is not entry)

        return remove

    def has_subscribers(self, event_type: str | type[Event]) -> bool:
        """Whether publishing an event of ``event_type`` would reach anyone.

        True when a subscriber matches the topic (exactly, by prefix or ``"*"``) or any
        middleware is installed; publishers use it to skip building events nobody sees.
        """
        return bool(self._middleware) or bool(self._route(event_topic(event_type)))

    def has_subscribers_within(self, event_type: str, family: str) -> bool:
        """Whether a subscriber of ``event_type`` asked for the ``family`` of topics itself.

        ``family`` is a topic prefix (``"workflow.execution."``); a subscription counts when
        its pattern starts with it (``"workflow.execution.*"``, ``"workflow.execution.r1.*"``,
        an exact topic), not when only a broader pattern (``"workflow.*"``, ``"*"``) matches.
        Publishers of a newer, more detailed family use it so that subscribers of the broad
        pattern keep receiving what they did before.
        """
        return any(s.topic.startswith(family) for s in self._route(event_topic(event_type)))

    def _route(self, event_type: str) -> tuple[_Subscription, ...]:
        routes = self._routes  # a snapshot: (un)subscribing swaps in a new dict
        found = routes.get(event_type)
        if found is None:
            found = tuple(s for s in self._subscriptions if s.matches(event_type))
            if len(routes) >= _MAX_ROUTES:
                routes.clear()
            routes[event_type] = found
        return found

    # --- publishing -------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Background events queued (not counting one being delivered right now)."""
        state = self._background
        return len(state.queue) if state is not None else 0

    @property
    def closed(self) -> bool:
        return self._closed

    async def publish(self, event: Event, *, wait: bool = True) -> Event | None:
        """Deliver ``event``.

        ``wait=True``: middleware and handlers run now; returns the delivered
        (possibly modified) event, or ``None`` if middleware blocked it.
        ``wait=False``: the event is queued for background delivery in publish
        order and ``None`` is returned (the outcome is not known yet). When
        ``max_pending`` events are already queued, this waits for room.
        """
        if not isinstance(event, Event):
            raise ConfigurationError(
                f"publish() takes an Event, got {type(event).__name__}",
                hint="wrap ad-hoc payloads: Event(type='app.progress', data={...})",
            )
        self._check_open()
        if wait:
            return await self._deliver(event)
        state = self._state()
        if state is None:  # no loop task or task group available: deliver in place
            await self._deliver(event)
            return None
        if not self._in_worker(
            state
        ):  # a handler publishing from the worker must not wait on itself
            while len(state.queue) >= self.max_pending:
                if state.room is None:
                    state.room = anyio.Event()
                await state.room.wait()
            self._check_open()
        state.queue.append(event)
        if not state.running:
            self._start_worker(state)
        return None

    async def _deliver(self, event: Event) -> Event | None:
        for entry in self._middleware:
            middleware = entry.handler
            try:
                result: Any = middleware(event)
                if inspect.isawaitable(result):
                    result = await result
            except Exception:
                logger.exception(
                    "event middleware %s failed on a %r event; the event is blocked",
                    _describe(middleware),
                    event.type,
                )
                return None
            if result is None:
                return None
            if not isinstance(result, Event):
                logger.error(
                    "event middleware %s returned a %s instead of an Event or None; "
                    "the %r event is blocked",
                    _describe(middleware),
                    type(result).__name__,
                    event.type,
                )
                return None
            event = result
        for subscription in self._route(event.type):
            try:
                outcome = subscription.handler(event)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:
                logger.exception(
                    "event handler %s failed on a %r event",
                    _describe(subscription.handler),
                    event.type,
                )
        return event

    # --- background delivery ---------------------------------------------------------

    def _state(self) -> _Background | None:
        loop = _running_loop()
        if loop is None and not self._group_serves(loop):
            return None
        state = self._background
        if state is not None and state.loop is loop:
            return state
        if state is not None and (state.queue or state.running):
            logger.warning(
                "event bus %r: %d background events queued on a previous event loop were "
                "never delivered (call `await bus.drain()` before the loop ends)",
                self.name,
                len(state.queue),
            )
        state = self._background = _Background(loop)
        return state

    def _group_serves(self, loop: asyncio.AbstractEventLoop | None) -> bool:
        return self._task_group is not None and self._group_loop is loop

    def _start_worker(self, state: _Background) -> None:
        state.running = True
        name = f"gecko-event-bus-{self.name or next(self._ids)}"
        if self._task_group is not None and self._group_serves(state.loop):
            self._task_group.start_soon(self._work, state, name=name)
        else:
            assert state.loop is not None
            state.task = state.loop.create_task(self._work(state), name=name)
            state.task.add_done_callback(lambda task: self._worker_gone(state, task))

    def _worker_gone(self, state: _Background, task: asyncio.Task[None]) -> None:
        # A worker that ran cleared ``state.task`` itself (it may hold a newer worker
        # by now). One cancelled before it ever ran (the loop shut down right after
        # publishing) never reached its own cleanup: report and reset here.
        if state.task is not task:
            return
        if state.queue:
            logger.warning(
                "event bus %r: %d background events were never delivered because the event "
                "loop shut down (drain the bus before the loop ends)",
                self.name,
                len(state.queue),
            )
            state.queue.clear()
        state.running = False
        state.task = None
        state.wake_room()
        state.wake_idle()

    async def _work(self, state: _Background) -> None:
        state.worker_id = anyio.get_current_task().id
        in_flight = 0
        # Our own scope: aclose() can cancel this worker alone, never its host task.
        with anyio.CancelScope() as state.scope:
            try:
                for count in itertools.count(1):
                    if not state.queue:
                        break
                    event = state.queue.popleft()
                    in_flight = 1
                    state.wake_room()
                    await self._deliver(event)
                    in_flight = 0
                    if count % _YIELD_EVERY == 0:
                        await anyio.lowlevel.checkpoint()
            except BaseException:
                lost = len(state.queue) + in_flight
                if lost:
                    logger.warning(
                        "event bus %r: background delivery was cancelled with %d events not "
                        "(fully) delivered (drain the bus before shutting the event loop down)",
                        self.name,
                        lost,
                    )
                state.queue.clear()
                raise
            finally:
                state.running = False
                state.task = None
                state.scope = None
                state.worker_id = None
                state.wake_room()
                state.wake_idle()

    def _in_worker(self, state: _Background) -> bool:
        return state.worker_id is not None and anyio.get_current_task().id == state.worker_id

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until every background event published on this loop has been delivered.

        Raises ``TimeoutError`` when ``timeout`` seconds pass first (nothing is
        cancelled). Events published while draining are waited for too.
        """
        state = self._background
        if state is None or state.loop is not _running_loop():
            return
        if self._in_worker(state):
            raise GeckoError(
                "drain() was called from a handler running in background delivery; "
                "it would wait for itself",
                hint="drain from the code that published the events, not from a handler",
            )
        scope: AbstractContextManager[Any] = (
            anyio.fail_after(timeout) if timeout is not None else nullcontext()
        )
        with scope:
            while state.running or state.queue:
                if state.idle is None:
                    state.idle = anyio.Event()
                await state.idle.wait()

    async def aclose(self, timeout: float | None = None) -> None:
        """Drain background deliveries, then close: later publishes raise.

        With ``timeout``, deliveries still pending when it expires are cancelled
        and a warning says how many were lost. Closing twice is harmless.
        """
        if self._closed:
            return
        self._closed = True
        try:
            await self.drain(timeout)
        except TimeoutError:
            state = self._background
            if state is not None and state.scope is not None:
                state.scope.cancel()
                with anyio.CancelScope(shield=True):
                    while state.running:
                        if state.idle is None:
                            state.idle = anyio.Event()
                        await state.idle.wait()

    def _check_open(self) -> None:
        if self._closed:
            raise GeckoError(
                f"event bus {self.name!r} is closed",
                hint="create a new EventBus; a bus is closed by aclose() or by leaving `async with`",
            )

    async def __aenter__(self) -> EventBus:
        """Run background delivery inside this bus's own task group until the block ends."""
        self._check_open()
        if self._task_group is not None:
            raise GeckoError("this event bus is already in use by an `async with` block")
        group = anyio.create_task_group()
        await group.__aenter__()
        self._task_group = group
        self._group_loop = _running_loop()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        group = self._task_group
        assert group is not None
        cancelled = exc_type is not None and issubclass(exc_type, anyio.get_cancelled_exc_class())
        try:
            if cancelled:
                self._closed = True
            else:
                await self.aclose()  # also after an error: deliver what was published before it
        finally:
            self._task_group = None
            self._group_loop = None
        if cancelled:
            return await group.__aexit__(exc_type, exc, tb)
        # The worker never raises, so the group has nothing to report; exiting it
        # without the block's exception lets that exception propagate unwrapped.
        await group.__aexit__(None, None, None)
        return None


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _describe(function: Callable[..., Any]) -> str:
    return getattr(function, "__qualname__", None) or repr(function)
