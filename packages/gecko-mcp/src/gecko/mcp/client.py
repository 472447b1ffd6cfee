"""``MCPServer``: a connection to one MCP server whose tools Gecko agents can call.

    async with MCPServer.stdio([sys.executable, "-m", "mcp_server_time"]) as server:
        agent = AgentBuilder().with_model("test").with_tools(await server.tools()).build()

The connection lives in a task the ``async with`` block owns, so tool calls from
any task (a ToolBox runs them concurrently) share it. A call that finds the
server crashed, closed or silent past ``timeout`` fails with an MCP error the
model reads, and the connection is dropped: the next call starts a new one. A
``notifications/tools/list_changed`` from the server refreshes the tool list.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import SecretStr

from gecko.core.errors import ConfigurationError
from gecko.core.validation import check_number
from gecko.mcp.errors import MCPConnectionError, MCPTimeoutError, MCPToolError
from gecko.mcp.tools import MCPTool, gecko_tool_name
from gecko.mcp.transports import (
    HttpTransport,
    StdioTransport,
    Transport,
    as_command,
    secret_headers,
)
from mcp import ClientSession, MCPError
from mcp.types import (
    CONNECTION_CLOSED,
    REQUEST_TIMEOUT,
    Implementation,
    PaginatedRequestParams,
    ToolListChangedNotification,
)

if TYPE_CHECKING:
    from anyio.abc import TaskGroup, TaskStatus
    from typing_extensions import Self

    from mcp.types import CallToolResult

logger = logging.getLogger("gecko.mcp")

DEFAULT_TIMEOUT = 60.0
"""Seconds a tool call may take before the server counts as hung."""


@dataclass(eq=False)
class _Connection:
    session: ClientSession | None = None
    stop: anyio.Event = field(default_factory=anyio.Event)
    broken: bool = False


class MCPServer:
    """One MCP server (stdio child process or streamable HTTP endpoint) and its tools.

    ``prefix`` is put before every tool name (``prefix_toolname``) to avoid
    collisions between servers; ``timeout`` bounds each tool call (None: no
    limit); ``connect_timeout`` bounds starting the server and the handshake.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        name: str | None = None,
        prefix: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        connect_timeout: float = 30.0,
    ) -> None:
        check_number("timeout", timeout, above=0, unit="seconds", allow_none=True)
        check_number("connect_timeout", connect_timeout, above=0, unit="seconds")
        if prefix is not None:
            from gecko.core.tools.function import check_tool_name

            check_tool_name(prefix)
        self.transport = transport
        self.name = name or transport.describe()
        self.prefix = prefix
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._group: TaskGroup | None = None
        self._connection: _Connection | None = None
        self._lock = anyio.Lock()
        self._tools: dict[str, MCPTool] = {}
        self._listed = False
        self._changes = 0

    @classmethod
    def stdio(
        cls,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        **options: Any,
    ) -> MCPServer:
        """A server started as ``command`` (argv list, no shell) with a minimal environment plus ``env``."""
        return cls(StdioTransport(as_command(command), dict(env or {}), cwd), **options)

    @classmethod
    def http(
        cls,
        url: str,
        *,
        headers: Mapping[str, str | SecretStr] | None = None,
        token: str | SecretStr | None = None,
        **options: Any,
    ) -> MCPServer:
        """A streamable HTTP server at ``url``; ``headers`` and ``token`` (a bearer token) are secrets."""
        return cls(HttpTransport(url, secret_headers(headers, token)), **options)

    def __repr__(self) -> str:
        return f"MCPServer({self.transport.describe()!r}, prefix={self.prefix!r})"

    # --- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._group is not None:
            raise ConfigurationError(f"{self!r} is already open; use one `async with` at a time")
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        try:
            await self._connect()
        except BaseException:
            group.cancel_scope.cancel()
            self._group = None
            await group.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        group, self._group = self._group, None
        if self._connection is not None:
            self._connection.stop.set()
        self._connection = None
        self._listed = False
        assert group is not None
        # Connections close inside a shielded shutdown (stdin closed, then the process
        # is stopped); cancelling only ends background refreshes. The caller's own
        # exception propagates as it is, never wrapped in an exception group.
        group.cancel_scope.cancel()
        await group.__aexit__(None, None, None)
        return None

    async def _connect(self) -> _Connection:
        current = self._connection
        if current is not None and not current.broken:  # the hot path: no lock, no await
            return current
        async with self._lock:
            current = self._connection
            if current is not None and not current.broken:
                return current
            if self._group is None:
                raise ConfigurationError(
                    f"MCP server {self.name!r} is not open",
                    hint="use it inside `async with MCPServer...(...) as server:`",
                )
            try:
                connection: _Connection = await self._group.start(self._run)
            except Exception as exc:
                raise MCPConnectionError(
                    f"cannot connect to MCP server {self.name!r}: {_reason(exc)}",
                    hint="check the command or URL, and that the server speaks MCP",
                    server=self.name,
                ) from None
            self._connection = connection
            return connection

    async def _run(self, *, task_status: TaskStatus[_Connection]) -> None:
        """Own one connection: open it, hand it over, keep it until it is stopped."""
        connection = _Connection()
        try:
            async with AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self.transport.open())
                session = ClientSession(
                    read,
                    write,
                    message_handler=self._on_message,
                    client_info=Implementation(name="gecko-mcp", version="1.0.0"),
                )
                await stack.enter_async_context(session)
                with anyio.fail_after(self.connect_timeout):
                    await session.initialize()
                connection.session = session
                task_status.started(connection)
                await connection.stop.wait()
        except Exception as exc:
            if connection.session is None:
                raise
            connection.broken = True
            logger.warning("MCP server %r: connection ended: %s", self.name, _reason(exc))

    def _drop(self, connection: _Connection) -> None:
        connection.broken = True
        connection.stop.set()

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, ToolListChangedNotification):
            self._listed = False
            self._changes += 1
            if self._group is not None:
                self._group.start_soon(self._refresh_quietly)
        elif isinstance(message, Exception):
            logger.debug("MCP server %r: transport error: %s", self.name, _reason(message))

    async def _refresh_quietly(self) -> None:
        try:
            await self.tools()
        except Exception as exc:  # the next tools() call reports it
            logger.warning("MCP server %r: refreshing its tools failed: %s", self.name, exc)

    # --- tools ---------------------------------------------------------------------------

    async def tools(self, *, refresh: bool = False) -> list[MCPTool]:
        """The server's tools as Gecko tools: listed once, again after ``list_changed`` or ``refresh``.

        A tool keeps its object across listings (its description and schemas are
        updated), so a ToolBox holding it stays valid.
        """
        if self._listed and not refresh:
            return list(self._tools.values())
        connection = await self._connect()
        assert connection.session is not None
        listed = []
        cursor: str | None = None
        try:
            while True:
                with anyio.fail_after(self.timeout):
                    result = await _list_page(connection.session, cursor)
                listed.extend(result.tools)
                cursor = result.next_cursor
                if not cursor:
                    break
        except Exception as exc:
            self._drop(connection)
            raise MCPConnectionError(
                f"MCP server {self.name!r} failed to list its tools: {_reason(exc)}",
                server=self.name,
            ) from None
        tools: dict[str, MCPTool] = {}
        for spec in listed:
            name = gecko_tool_name(spec.name, self.prefix)
            existing = self._tools.get(name)
            if existing is not None and existing.remote_name == spec.name:
                existing.update(spec)
                tools[name] = existing
            else:
                tools[name] = MCPTool(self, spec, name)
        self._tools = tools
        self._listed = True
        return list(tools.values())

    @property
    def session(self) -> ClientSession:
        """The SDK ClientSession of the current connection (resources, prompts, raw calls)."""
        connection = self._connection
        if connection is None or connection.session is None or connection.broken:
            raise MCPConnectionError(
                f"MCP server {self.name!r} has no open connection",
                hint="use it inside `async with`; after a failed call, the next tools() or "
                "tool call reconnects",
                server=self.name,
            )
        return connection.session

    @property
    def tools_changes(self) -> int:
        """How many ``list_changed`` notifications the server has sent on this object's connections."""
        return self._changes

    async def call_tool(
        self, name: str, arguments: dict[str, Any] | None = None, *, progress: Any = None
    ) -> CallToolResult:
        """Call the server's tool ``name`` (its own name, without the prefix) and return the raw result.

        Fails with MCPTimeoutError (no answer within ``timeout``), MCPConnectionError
        (the server crashed or the connection broke; the next call reconnects) or
        MCPToolError (the server rejected the call).
        """
        connection = await self._connect()
        assert connection.session is not None
        try:
            # The SDK's own per-request timeout: it also tells the server to cancel.
            return await connection.session.call_tool(
                name, arguments or {}, self.timeout, progress_callback=progress
            )
        except MCPError as exc:
            if exc.code == REQUEST_TIMEOUT:
                self._drop(connection)
                raise self._timed_out(name) from None
            if exc.code != CONNECTION_CLOSED:
                raise MCPToolError(
                    f"MCP server {self.name!r} rejected tool {name!r}: {exc.message}",
                    tool=name,
                    server=self.name,
                    code=exc.code,
                ) from None
            self._drop(connection)
            raise self._broken(name, "it closed the connection (crashed or exited)") from None
        except TimeoutError:  # a transport write that could not complete in time
            self._drop(connection)
            raise self._timed_out(name) from None
        except anyio.get_cancelled_exc_class():
            self._drop(connection)  # the server may still be busy with the abandoned call
            raise
        except Exception as exc:
            self._drop(connection)
            raise self._broken(name, _reason(exc)) from None

    def _timed_out(self, tool: str) -> MCPTimeoutError:
        return MCPTimeoutError(
            f"MCP server {self.name!r} did not answer tool {tool!r} within {self.timeout:g} s",
            hint="the connection was closed; the next call reconnects. Raise timeout= if the "
            "tool is legitimately slow",
            tool=tool,
            server=self.name,
        )

    def _broken(self, tool: str, why: str) -> MCPConnectionError:
        return MCPConnectionError(
            f"MCP server {self.name!r} failed during tool {tool!r}: {why}",
            hint="the next call starts a new connection",
            tool=tool,
            server=self.name,
        )


async def _list_page(session: ClientSession, cursor: str | None) -> Any:
    params = PaginatedRequestParams(cursor=cursor) if cursor else None
    return await session.list_tools(params=params)


def _reason(exc: BaseException) -> str:
    """The innermost meaningful message of ``exc`` (task groups wrap errors in groups)."""
    while getattr(exc, "exceptions", None):  # an exception group (builtin or the 3.10 backport)
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"
