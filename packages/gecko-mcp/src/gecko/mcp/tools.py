"""``MCPTool``: one tool of an MCP server as a Gecko Tool, and what its results become.

The server's JSON input schema is the tool's ``parameters`` as is: the server
validates the arguments. A structured result (``structuredContent``) reaches
the model as JSON, a text result as its text; images and binary resources are
described, not inlined. An ``isError`` result raises MCPToolError, which the
ToolBox hands back to the model as a tool error.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from gecko.mcp.errors import MCPToolError
from mcp.types import (
    AudioContent,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)
from mcp.types import Tool as ToolSpec

if TYPE_CHECKING:
    from gecko.mcp.client import MCPServer

_INVALID = re.compile(r"[^A-Za-z0-9_-]")
_EMPTY_OBJECT: dict[str, Any] = {"type": "object", "properties": {}}


def gecko_tool_name(remote: str, prefix: str | None) -> str:
    """``prefix_remote``, with characters chat-model APIs reject replaced by ``_`` (64 at most)."""
    name = f"{prefix}_{remote}" if prefix else remote
    return _INVALID.sub("_", name)[:64] or "tool"


class MCPTool:
    """A tool of an MCP server; ``execute`` calls it over the server's current connection."""

    def __init__(self, server: MCPServer, spec: ToolSpec, name: str) -> None:
        self.server = server
        self.name = name
        self.remote_name = spec.name
        self.description = ""
        self.parameters: dict[str, Any] = dict(_EMPTY_OBJECT)
        self.output_schema: dict[str, Any] | None = None
        self.update(spec)

    def update(self, spec: ToolSpec) -> None:
        """Take the description and schemas of a fresh listing of this tool."""
        self.description = spec.description or spec.title or ""
        self.parameters = dict(spec.input_schema or _EMPTY_OBJECT)
        self.output_schema = spec.output_schema

    def __repr__(self) -> str:
        return f"MCPTool(name={self.name!r}, server={self.server.name!r})"

    async def execute(self, arguments: dict[str, Any]) -> Any:
        result = await self.server.call_tool(self.remote_name, arguments)
        return tool_output(result, tool=self.name, output_schema=self.output_schema)


def tool_output(
    result: CallToolResult, *, tool: str, output_schema: dict[str, Any] | None = None
) -> Any:
    """What the model reads from ``result``: structured content, else the text of its content.

    A value the server wrapped as ``{"result": value}`` (what the SDKs do for a
    tool returning a plain value; its output schema then has that one property)
    is unwrapped.
    """
    if result.is_error:
        raise MCPToolError(
            f"tool {tool!r} failed: {content_text(result) or 'the server gave no reason'}",
            tool=tool,
        )
    structured = result.structured_content
    if structured is None:
        return content_text(result)
    properties = (output_schema or {}).get("properties")
    if isinstance(properties, dict) and set(properties) == {"result"} == set(structured):
        return structured["result"]
    return structured


def content_text(result: CallToolResult) -> str:
    """The content blocks as text: text verbatim, other blocks as short descriptions."""
    parts: list[str] = []
    for block in result.content:
        if isinstance(block, TextContent):
            parts.append(block.text)
        elif isinstance(block, (ImageContent, AudioContent)):
            kind = "image" if isinstance(block, ImageContent) else "audio"
            parts.append(f"[{kind} {block.mime_type}, {len(block.data) * 3 // 4} bytes]")
        elif isinstance(block, EmbeddedResource):
            resource = block.resource
            if isinstance(resource, TextResourceContents):
                parts.append(resource.text)
            else:
                parts.append(f"[resource {resource.uri} ({resource.mime_type or 'binary'})]")
        elif isinstance(block, ResourceLink):
            parts.append(f"[resource link {block.uri}: {block.name}]")
        else:  # a content type newer than this code
            parts.append(f"[{getattr(block, 'type', 'unknown')} content]")
    return "\n".join(parts)
