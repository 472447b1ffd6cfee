"""An MCP server written with the SDK's MCPServer, run by the tests as a separate process.

python sdk_server.py                  stdio
python sdk_server.py --http PORT      streamable HTTP at http://127.0.0.1:PORT/mcp
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

server = MCPServer("gecko-test-server")


class Sum(BaseModel):
    total: int


@server.tool()
def add(a: int, b: int) -> Sum:
    """Add two integers (a structured result)."""
    return Sum(total=a + b)


@server.tool(structured_output=False)
def shout(text: str) -> str:
    """Upper-case a text (a text-only result)."""
    return text.upper()


@server.tool()
def fail(reason: str) -> str:
    """Always fails with ``reason`` (an anticipated failure the SDK reports as isError)."""
    raise ToolError(reason)


@server.tool()
def pid() -> int:
    """This server's process id."""
    return os.getpid()


@server.tool()
def environment() -> list[str]:
    """The names of this process's environment variables."""
    return sorted(os.environ)


@server.tool()
def request_headers(ctx: Context) -> dict[str, str]:
    """SHA-256 digests of this request's HTTP headers (so no secret is echoed back into logs)."""
    return {
        name: hashlib.sha256(value.encode()).hexdigest()
        for name, value in (ctx.headers or {}).items()
    }


@server.tool()
async def hang() -> str:
    """Never answers."""
    await anyio.sleep_forever()
    return "unreachable"


@server.tool()
def crash() -> str:
    """Kills this server with SIGKILL mid-call."""
    os.kill(os.getpid(), signal.SIGKILL)
    return "unreachable"


@server.tool()
async def grow(name: str, ctx: Context) -> str:
    """Add a tool called ``name`` and announce that the tool list changed."""
    server.add_tool(lambda: f"I am {name}", name=name, description=f"the tool {name}")
    await ctx.session.send_tool_list_changed()
    return f"added {name}"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
