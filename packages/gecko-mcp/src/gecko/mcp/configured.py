"""MCP tools named in configuration: ``create_tool("mcp", command=[...], tool="get_current_time")``.

The plugin registers this factory as the tool ``mcp``, so a declarative
workflow or any configuration can use one tool of an MCP server by name. A
factory is synchronous and the tool must know its schema before the first
model call, so the server's connection lives in a background thread of its
own with its own event loop (one per distinct server, shared by its tools,
closed at interpreter exit). Creating the tool starts the server and reads its
listing once: do it at configuration time, not inside a hot loop.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import SecretStr

from gecko.core.errors import ConfigurationError
from gecko.mcp.client import DEFAULT_TIMEOUT, MCPServer
from gecko.mcp.tools import MCPTool, gecko_tool_name

T = TypeVar("T")

_hosts: dict[tuple[Any, ...], _Host] = {}
_hosts_lock = threading.Lock()


class _Host:
    """An open MCPServer living in a daemon thread's event loop."""

    def __init__(self, server: MCPServer) -> None:
        self.server = server
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._own()), name="gecko-mcp-host", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    async def _own(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with self.server:
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:  # reported to the thread that is waiting for us
            self._error = exc
            self._ready.set()

    def run(self, coro: Awaitable[T]) -> T:
        """Run ``coro`` on the host's loop and wait for it (blocking: configuration time only)."""
        return self.submit(coro).result()

    def submit(self, coro: Awaitable[T]) -> Any:
        if self._loop is None or self._loop.is_closed():
            raise ConfigurationError(f"the MCP server {self.server.name!r} has been closed")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]

    def close(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)


class HostedMCPTool:
    """One tool of a background-hosted MCP server; ``execute`` runs it on the host's loop."""

    def __init__(self, host: _Host, tool: MCPTool, name: str) -> None:
        self._host = host
        self._tool = tool
        self.name = name

    @property
    def description(self) -> str:
        return self._tool.description

    @property
    def parameters(self) -> dict[str, Any]:
        return self._tool.parameters

    def __repr__(self) -> str:
        return f"HostedMCPTool(name={self.name!r}, server={self._host.server.name!r})"

    async def execute(self, arguments: dict[str, Any]) -> Any:
        return await asyncio.wrap_future(self._host.submit(self._tool.execute(arguments)))


def mcp_tool(
    *,
    tool: str,
    command: Sequence[str] | None = None,
    url: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    headers: Mapping[str, str | SecretStr] | None = None,
    token: str | SecretStr | None = None,
    gecko_name: str | None = None,
    prefix: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> HostedMCPTool:
    """The tool ``tool`` of the MCP server started as ``command`` (stdio) or at ``url`` (HTTP).

    The Gecko tool is named ``gecko_name``, else ``prefix_tool``, else ``tool``.
    """
    if (command is None) == (url is None):
        raise ConfigurationError(
            "an mcp tool needs exactly one of command=[...] (a stdio server) or url=... (HTTP)",
            hint='e.g. create_tool("mcp", command=["mcp-server-time"], tool="get_current_time")',
        )
    if command is not None:
        key: tuple[Any, ...] = ("stdio", tuple(command), tuple(sorted((env or {}).items())), cwd)
    else:
        secrets = {
            k: v if isinstance(v, str) else v.get_secret_value() for k, v in (headers or {}).items()
        }
        plain_token = token.get_secret_value() if isinstance(token, SecretStr) else token
        key = ("http", url, tuple(sorted(secrets.items())), plain_token)
    key += (timeout,)
    with _hosts_lock:
        host = _hosts.get(key)
        if host is None:
            server = (
                MCPServer.stdio(command, env=env, cwd=cwd, timeout=timeout)
                if command is not None
                else MCPServer.http(str(url), headers=headers, token=token, timeout=timeout)
            )
            host = _hosts[key] = _Host(server)
    listed = {t.remote_name: t for t in host.run(host.server.tools())}
    found = listed.get(tool)
    if found is None:
        raise ConfigurationError(
            f"MCP server {host.server.name!r} has no tool {tool!r}; it offers: "
            f"{', '.join(sorted(listed)) or 'none'}",
            tool=tool,
        )
    return HostedMCPTool(host, found, gecko_name or gecko_tool_name(tool, prefix))


@atexit.register
def _close_hosts() -> None:
    with _hosts_lock:
        hosts = list(_hosts.values())
        _hosts.clear()
    for host in hosts:
        host.close()
