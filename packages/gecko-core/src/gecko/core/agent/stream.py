"""``AgentStream``: one streaming agent run, consumed as text chunks or as events.

    stream = agent.stream("Tell me a story")
    async for text in stream:          # text as the model produces it
        print(text, end="")
    print(stream.output.usage)         # the full AgentOutput afterwards

    async for event in agent.stream("...").events():   # for UIs
        ...                                            # TurnStartedEvent, TokenEvent, ToolCalledEvent, ...

The run advances only while the stream is iterated (no background task), so a
slow consumer slows the run instead of buffering without bound. A stream is
consumed once. Leaving the loop early abandons the run; use ``async with``
(or ``await stream.aclose()``) to end it deterministically.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING

from gecko.core.agent.events import AgentEvent, TokenEvent
from gecko.core.errors import GeckoError
from gecko.core.output import AgentOutput

if TYPE_CHECKING:
    from gecko.core.engine.context import RunContext


class AgentStream:
    """A streaming run: iterate it for text, or ``events()`` for every event."""

    def __init__(self, events: AsyncGenerator[AgentEvent, None], ctx: RunContext) -> None:
        self._events = events
        self._ctx = ctx
        self._consumed = False
        self._finished = False

    @property
    def run_id(self) -> str:
        return self._ctx.run_id

    @property
    def done(self) -> bool:
        """True once the run has finished and ``output`` is available."""
        return self._finished

    @property
    def output(self) -> AgentOutput:
        """The run's AgentOutput; available once the stream has been iterated to the end."""
        output = self._ctx.output
        if output is None or not self._finished:
            raise GeckoError(
                "the stream's output is not available yet",
                hint="iterate the stream to the end first (async for ... in stream), "
                "or use `await stream.collect()`",
            )
        return output

    def __aiter__(self) -> AsyncIterator[str]:
        return self._texts()

    async def _texts(self) -> AsyncIterator[str]:
        async for event in self.events():
            if isinstance(event, TokenEvent):
                yield event.text

    async def events(self) -> AsyncIterator[AgentEvent]:
        """Every event of the run, in order, ending with ``FinalEvent``."""
        if self._consumed:
            raise GeckoError(
                "this stream was already consumed",
                hint="a stream runs the agent once; call agent.stream(...) again for another run",
            )
        self._consumed = True
        async for event in self._events:
            yield event
        self._finished = True

    async def collect(self) -> AgentOutput:
        """Consume the whole stream and return the output."""
        async for _ in self.events():
            pass
        return self.output

    async def aclose(self) -> None:
        """Stop the run if it is still going (idempotent)."""
        await self._events.aclose()

    async def __aenter__(self) -> AgentStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
