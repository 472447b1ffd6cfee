"""ToolBox: the tools an agent may call, executed safely, concurrently and measured.

A ToolBox never raises because a tool failed: an unknown tool, malformed or
invalid arguments, an exception inside the tool or a timeout all come back as a
``ToolResult`` with ``is_error=True`` and a message the model can act on. Only
cancellation propagates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import anyio

from gecko.core.errors import ConfigurationError, GeckoError, ToolNotFoundError, ToolTimeoutError
from gecko.core.message import ToolCall
from gecko.core.protocols import Tool
from gecko.core.tools.function import as_tool, check_tool_name
from gecko.core.tools.result import ToolResult, ToolStats, format_output
from gecko.core.validation import check_int, check_number

logger = logging.getLogger(__name__)


def openai_tool_schema(tool: Tool) -> dict[str, Any]:
    """The OpenAI chat-completions schema of ``tool``."""
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


class ToolBox:
    """A registry of tools with bounded concurrent execution and per-tool statistics.

    ``max_concurrency`` bounds how many tool calls run at once across every
    caller sharing this ToolBox (an agent run in parallel by a Team included).
    A tool's own ``timeout`` attribute wins over ``default_timeout``; ``None``
    means no limit.
    """

    def __init__(
        self,
        tools: Iterable[Tool | Callable[..., Any]] = (),
        *,
        max_concurrency: int = 8,
        default_timeout: float | None = None,
    ) -> None:
        check_int("max_concurrency", max_concurrency, minimum=1)
        check_number(
            "default_timeout",
            default_timeout,
            above=0,
            finite=False,
            unit="seconds",
            allow_none=True,
            hint="None means no limit",
        )
        self.max_concurrency = max_concurrency
        self.default_timeout = default_timeout
        self.stats: dict[str, ToolStats] = {}
        self._tools: dict[str, Tool] = {}
        self._schemas: list[dict[str, Any]] | None = None
        self._limiter = anyio.CapacityLimiter(max_concurrency)
        for item in tools:
            self.register(item)

    def __repr__(self) -> str:
        return f"ToolBox(tools={list(self._tools)!r})"

    # --- registry ----------------------------------------------------------------------

    def register(self, tool: Tool | Callable[..., Any], *, replace: bool = False) -> Tool:
        """Add a tool (or a typed function, wrapped as a FunctionTool); returns the Tool."""
        registered = as_tool(tool)
        check_tool_name(registered.name)
        if registered.name in self._tools and not replace:
            raise ConfigurationError(
                f"a tool named {registered.name!r} is already registered",
                hint="give one of them another name, or pass replace=True",
                tool=registered.name,
            )
        self._tools[registered.name] = registered
        self.stats.setdefault(registered.name, ToolStats())
        self._schemas = None
        return registered

    def unregister(self, name: str) -> Tool:
        """Remove and return the tool ``name`` (its statistics go with it)."""
        tool = self.get(name)
        del self._tools[name]
        self.stats.pop(name, None)
        self._schemas = None
        return tool

    def get(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            raise self._not_found(name) from None

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def __iter__(self) -> Iterator[Tool]:
        return iter(list(self._tools.values()))

    def schemas(self) -> list[dict[str, Any]]:
        """OpenAI tool schemas of every registered tool, in registration order."""
        if self._schemas is None:
            self._schemas = [openai_tool_schema(tool) for tool in self._tools.values()]
        return list(self._schemas)

    # --- execution -------------------------------------------------------------------

    async def execute(self, call: ToolCall) -> ToolResult:
        """Run one tool call. Never raises for a tool failure (see the module docstring)."""
        async with self._limiter:
            return await self._execute(call)

    async def execute_many(self, calls: Sequence[ToolCall]) -> list[ToolResult]:
        """Run ``calls`` concurrently (at most ``max_concurrency`` at once); results in call order."""
        if len(calls) <= 1:
            return [await self.execute(call) for call in calls]
        results: list[ToolResult | None] = [None] * len(calls)

        async def run(index: int, call: ToolCall) -> None:
            results[index] = await self.execute(call)

        async with anyio.create_task_group() as group:
            for index, call in enumerate(calls):
                group.start_soon(run, index, call)
        return results  # type: ignore[return-value]  # every slot was filled

    async def _execute(self, call: ToolCall) -> ToolResult:
        started = time.perf_counter()
        tool = self._tools.get(call.name)
        if tool is None:
            return self._error(call, self._not_found(call.name), started)
        timeout = getattr(tool, "timeout", None) or self.default_timeout
        try:
            arguments = call.args
            with _tool_span(call):
                if timeout is None:
                    value = await tool.execute(arguments)
                else:
                    with anyio.move_on_after(timeout) as scope:
                        value = await tool.execute(arguments)
                    if scope.cancelled_caught:
                        raise ToolTimeoutError(
                            f"tool {call.name!r} timed out after {timeout:g} s",
                            hint="make the tool faster or raise its timeout",
                            tool=call.name,
                            timeout=timeout,
                        )
            content = format_output(value)
        except GeckoError as exc:
            return self._error(call, exc, started)
        except Exception as exc:
            logger.warning(
                "tool %r raised %s: %s", call.name, type(exc).__name__, exc, exc_info=True
            )
            return self._error(call, exc, started)
        result = ToolResult(
            call_id=call.id, name=call.name, content=content, duration=time.perf_counter() - started
        )
        self.stats[call.name].record(result)
        _record_metrics(call.name, result.duration, None)
        return result

    def _error(self, call: ToolCall, exc: Exception, started: float) -> ToolResult:
        if isinstance(exc, GeckoError):
            content = f"Error: {exc}"
        else:
            content = f"Error: tool {call.name!r} failed: {type(exc).__name__}: {exc}"
        result = ToolResult(
            call_id=call.id,
            name=call.name,
            content=content,
            is_error=True,
            duration=time.perf_counter() - started,
            error_type=type(exc).__name__,
        )
        stats = self.stats.get(call.name)
        if stats is not None:  # a registered tool (not a name the model made up)
            stats.record(result, timed_out=isinstance(exc, ToolTimeoutError))
            _record_metrics(call.name, result.duration, exc)
        logger.debug("tool call %s (%s) failed: %s", call.id, call.name, content)
        return result

    def _not_found(self, name: str) -> ToolNotFoundError:
        available = ", ".join(self._tools) or "none"
        return ToolNotFoundError(
            f"there is no tool named {name!r}; available tools: {available}",
            hint="call one of the available tools",
            tool=name,
        )


def _tool_span(call: ToolCall) -> Any:
    from gecko.core.telemetry import tool_span

    return tool_span(call.name, call_id=call.id)


def _record_metrics(name: str, duration: float, error: Exception | None) -> None:
    from gecko.core.telemetry.metrics import record_tool_call

    record_tool_call(name, duration, error=error)
