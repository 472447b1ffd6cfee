"""How to reach an MCP server: a stdio child process or a streamable HTTP endpoint.

Each transport opens the SDK's own client transport (``stdio_client``,
``streamable_http_client``) as an async context manager yielding its stream pair.
Header values are ``SecretStr``: they appear nowhere but in the HTTP request.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pydantic import SecretStr

from gecko.core.errors import ConfigurationError
from gecko.mcp.env import child_environment

if TYPE_CHECKING:
    from mcp.client._transport import TransportStreams


@dataclass(frozen=True)
class StdioTransport:
    """Start ``command`` (argv, never through a shell) and talk JSON-RPC over its stdin/stdout."""

    command: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    cwd: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.command, str) or not self.command:
            raise ConfigurationError(
                f"an MCP stdio command is a non-empty list of arguments, got {self.command!r}",
                hint='e.g. MCPServer.stdio([sys.executable, "-m", "mcp_server_time"]); '
                "it runs without a shell, so no quoting, pipes or $VARIABLES",
            )
        if not all(isinstance(part, str) and part for part in self.command):
            raise ConfigurationError(
                f"every argument of an MCP stdio command must be a non-empty string, got {self.command!r}"
            )
        executable = self.command[0]
        if shutil.which(executable) is None and not Path(executable).is_file():
            raise ConfigurationError(
                f"cannot find the MCP server executable {executable!r}",
                hint="give an absolute path or install it on PATH",
            )

    def describe(self) -> str:
        return " ".join([Path(self.command[0]).name, *self.command[1:]])

    @asynccontextmanager
    async def open(self) -> AsyncIterator[TransportStreams]:
        from mcp import StdioServerParameters, stdio_client

        params = StdioServerParameters(
            command=self.command[0],
            args=list(self.command[1:]),
            env=child_environment(self.env),
            cwd=self.cwd,
        )
        async with stdio_client(params) as streams:
            yield streams


@dataclass(frozen=True)
class HttpTransport:
    """A streamable HTTP MCP endpoint (``http://host:port/mcp``) with optional secret headers."""

    url: str
    headers: Mapping[str, SecretStr] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not self.url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"an MCP HTTP endpoint is an http:// or https:// URL, got {self.url!r}",
                hint='e.g. MCPServer.http("http://127.0.0.1:8000/mcp")',
            )

    def describe(self) -> str:
        """The URL without its password or query (either may hold a token) and the header names."""
        from gecko.core.storage.url import redact_url

        base, sep, _ = redact_url(self.url).partition("?")
        shown = base + ("?..." if sep else "")
        names = ", ".join(sorted(self.headers))
        return f"{shown} (headers: {names})" if names else shown

    @asynccontextmanager
    async def open(self) -> AsyncIterator[TransportStreams]:
        import httpx2

        from mcp.client.streamable_http import streamable_http_client

        headers = {name: value.get_secret_value() for name, value in self.headers.items()}
        # The SDK's recommended timeouts: a server may hold a response stream open.
        timeout = httpx2.Timeout(30.0, read=300.0)
        async with (
            httpx2.AsyncClient(headers=headers, timeout=timeout) as client,
            streamable_http_client(self.url, http_client=client) as streams,
        ):
            yield streams


def secret_headers(
    headers: Mapping[str, str | SecretStr] | None, token: str | SecretStr | None
) -> dict[str, SecretStr]:
    """Header values as SecretStr; ``token`` becomes ``Authorization: Bearer <token>``."""
    result: dict[str, SecretStr] = {}
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not name or not isinstance(value, (str, SecretStr)):
            raise ConfigurationError(
                f"MCP HTTP headers map non-empty names to strings, got a {type(value).__name__} "
                f"for {name!r}"
            )
        result[name] = value if isinstance(value, SecretStr) else SecretStr(value)
    if token is not None:
        secret = token.get_secret_value() if isinstance(token, SecretStr) else token
        if not isinstance(secret, str) or not secret:
            raise ConfigurationError("an MCP bearer token must be a non-empty string")
        result["Authorization"] = SecretStr(f"Bearer {secret}")
    return result


class Transport(Protocol):
    """StdioTransport, HttpTransport, or anything else that opens an MCP stream pair."""

    def describe(self) -> str: ...

    def open(self) -> AbstractAsyncContextManager[TransportStreams]: ...


def as_command(command: Sequence[str]) -> tuple[str, ...]:
    if isinstance(command, str):
        raise ConfigurationError(
            f"an MCP stdio command is a list of arguments, not a string: {command!r}",
            hint="split it yourself, e.g. ['uvx', 'mcp-server-time']; it runs without a shell",
        )
    return tuple(command)
