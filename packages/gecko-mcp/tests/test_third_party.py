"""mcp-server-time (the reference time server, from PyPI) driven by a Gecko agent, offline."""

from __future__ import annotations

import sys

import pytest

from gecko import AgentBuilder
from gecko.core.factories import create_tool
from gecko.core.message import ToolCall
from gecko.core.models.scripted import ModelCall, ScriptedModel
from gecko.mcp import MCPServer
from gecko.mcp.configured import HostedMCPTool

pytestmark = pytest.mark.anyio

TIME_SERVER = [sys.executable, "-m", "mcp_server_time", "--local-timezone", "UTC"]


def last_result(call: ModelCall) -> str:
    return call.tool_results[-1].text


async def test_an_agent_asks_the_time_server_for_the_time_in_tokyo() -> None:
    model = ScriptedModel(
        [ToolCall(name="time_get_current_time", arguments={"timezone": "Asia/Tokyo"}), last_result]
    )
    async with MCPServer.stdio(TIME_SERVER, prefix="time") as server:
        tools = await server.tools()
        agent = AgentBuilder().with_model(model).with_tools(tools).build()
        output = await agent.run("What time is it in Tokyo?")
    assert {"time_get_current_time", "time_convert_time"} <= {tool.name for tool in tools}
    assert '"timezone":"Asia/Tokyo"' in output.content
    assert '"is_dst":false' in output.content
    offered = model.calls[0].tools or []
    schema = next(t for t in offered if t["function"]["name"] == "time_get_current_time")
    assert "timezone" in schema["function"]["parameters"]["properties"]


async def test_a_bad_timezone_comes_back_to_the_model_as_a_tool_error() -> None:
    model = ScriptedModel(
        [ToolCall(name="get_current_time", arguments={"timezone": "Mars/Olympus"}), last_result]
    )
    async with MCPServer.stdio(TIME_SERVER) as server:
        agent = AgentBuilder().with_model(model).with_tools(await server.tools()).build()
        output = await agent.run("time on Mars?")
    assert output.content.startswith("Error:") and "Mars/Olympus" in output.content


async def test_a_tool_named_in_configuration_through_the_plugin_registry() -> None:
    tool = create_tool("mcp", command=TIME_SERVER, tool="convert_time", gecko_name="convert")
    assert isinstance(tool, HostedMCPTool)
    assert {"source_timezone", "time", "target_timezone"} <= set(tool.parameters["properties"])
    call = ToolCall(
        name="convert",
        arguments={"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Kolkata"},
    )
    model = ScriptedModel([call, last_result])
    agent = AgentBuilder().with_model(model).with_tools([tool]).build()
    output = await agent.run("noon UTC in India?")
    assert "+5.5h" in output.content
    again = create_tool("mcp", command=TIME_SERVER, tool="get_current_time")
    assert again._host is tool._host  # one server process per distinct server


def test_configuration_errors_name_the_fix() -> None:
    from gecko.core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="exactly one of command"):
        create_tool("mcp", tool="x")
    with pytest.raises(ConfigurationError, match="has no tool 'nope'; it offers: convert_time"):
        create_tool("mcp", command=TIME_SERVER, tool="nope")
