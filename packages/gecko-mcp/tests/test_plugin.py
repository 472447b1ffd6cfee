"""The plugin registers the ``mcp`` tool and the ``gecko mcp`` commands without importing the SDK."""

from __future__ import annotations

import json
import subprocess
import sys

from gecko.core.plugins import get_plugin_manager


def test_plugin_module_imports_nothing_heavy() -> None:
    code = (
        "import sys, gecko.mcp, gecko.mcp.plugin, gecko.mcp.cli\n"
        "from gecko.core.plugins import get_plugin_manager\n"
        "get_plugin_manager().list_plugins()\n"
        "print([m for m in ('mcp', 'httpx2', 'uvicorn', 'starlette') if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_registers_the_mcp_tool_and_the_mcp_command() -> None:
    registration = get_plugin_manager().lookup("tools", "mcp")
    assert registration.plugin == "gecko-mcp"
    result = subprocess.run(
        [sys.executable, "-m", "gecko.core.cli.main", "plugins", "list", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    [info] = [p for p in json.loads(result.stdout)["plugins"] if p["name"] == "gecko-mcp"]
    assert info["status"] == "ok"
    assert info["registers"] == {"tools": ["mcp"], "commands": ["mcp"]}
