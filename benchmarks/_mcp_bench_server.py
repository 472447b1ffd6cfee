"""The MCP server the MCP benchmark talks to (stdio): ``echo`` plus N numbered tools.

python _mcp_bench_server.py [N]
"""

from __future__ import annotations

import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer("gecko-bench")


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


def numbered(index: int) -> None:
    def tool(city: str, days: int = 1, unit: str = "C") -> str:
        return f"{city}: {days} days in {unit}"

    server.add_tool(tool, name=f"forecast_{index:03d}", description=f"Forecast number {index}.")


if __name__ == "__main__":
    for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 0):
        numbered(i)
    server.run()
