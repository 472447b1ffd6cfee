"""Errors of gecko-mcp, rooted in Gecko's one hierarchy.

A ToolBox turns each of them into a tool error the model reads; none of them
carries a header value or a token.
"""

from __future__ import annotations

from gecko.core.errors import ToolError, ToolTimeoutError


class MCPConnectionError(ToolError, ConnectionError):
    """An MCP server could not be started or reached, or the connection broke (a crash)."""


class MCPTimeoutError(ToolTimeoutError):
    """An MCP server did not answer a tool call in time (the connection is then replaced)."""


class MCPToolError(ToolError):
    """An MCP server answered a tool call with an error (its ``isError`` result or a JSON-RPC error)."""
