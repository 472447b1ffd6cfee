"""Tools: typed functions as tools, the ToolBox that runs them, and the built-in tools.

from gecko.core.tools import ToolBox, tool

@tool
def add(a: int, b: int) -> int:
    '''Add two integers.'''
    return a + b

box = ToolBox([add])
"""

from __future__ import annotations

from gecko.core.tools.function import FunctionTool, as_tool, tool
from gecko.core.tools.result import ToolResult, ToolStats
from gecko.core.tools.toolbox import ToolBox, openai_tool_schema

__all__ = [
    "FunctionTool",
    "ToolBox",
    "ToolResult",
    "ToolStats",
    "as_tool",
    "openai_tool_schema",
    "tool",
]
