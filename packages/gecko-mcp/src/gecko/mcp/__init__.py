"""gecko-mcp: tools from any MCP server for Gecko agents; Gecko agents and workflows served over MCP.

    from gecko.mcp import MCPServer

    async with MCPServer.stdio([sys.executable, "-m", "mcp_server_time"], prefix="time") as server:
        agent = AgentBuilder().with_model("test").with_tools(await server.tools()).build()

Built on the ``mcp`` Python SDK 2.x (``mcp.ClientSession``, ``mcp.server.mcpserver.MCPServer``).
Names are imported on first use, so importing this package (or its plugin) does not import ``mcp``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gecko.core.lazy import lazy_exports

if TYPE_CHECKING:
    from gecko.mcp.client import MCPServer
    from gecko.mcp.configured import mcp_tool
    from gecko.mcp.errors import MCPConnectionError, MCPTimeoutError, MCPToolError
    from gecko.mcp.serve import build_server, expose
    from gecko.mcp.tools import MCPTool

__all__ = [
    "MCPConnectionError",
    "MCPServer",
    "MCPTimeoutError",
    "MCPTool",
    "MCPToolError",
    "build_server",
    "expose",
    "mcp_tool",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "MCPServer": "gecko.mcp.client",
        "MCPTool": "gecko.mcp.tools",
        "MCPConnectionError": "gecko.mcp.errors",
        "MCPTimeoutError": "gecko.mcp.errors",
        "MCPToolError": "gecko.mcp.errors",
        "build_server": "gecko.mcp.serve",
        "expose": "gecko.mcp.serve",
        "mcp_tool": "gecko.mcp.configured",
    },
)
