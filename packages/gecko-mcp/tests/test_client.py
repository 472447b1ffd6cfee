"""MCPServer against the SDK test server as a real child process (stdio) and over streamable HTTP."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from gecko import AgentBuilder
from gecko.core.errors import ConfigurationError
from gecko.core.message import ToolCall
from gecko.core.models.scripted import ModelCall, ScriptedModel
from gecko.core.testing import wait_until
from gecko.core.tools import ToolBox
from gecko.mcp import MCPConnectionError, MCPServer, MCPTimeoutError, MCPTool, MCPToolError

pytestmark = pytest.mark.anyio

SDK_SERVER = str(Path(__file__).with_name("sdk_server.py"))


def stdio_server(**options: Any) -> MCPServer:
    return MCPServer.stdio([sys.executable, SDK_SERVER], **options)


def by_name(tools: list[MCPTool]) -> dict[str, MCPTool]:
    return {tool.name: tool for tool in tools}


async def test_tools_carry_the_servers_schemas_under_the_prefix() -> None:
    async with stdio_server(prefix="calc") as server:
        tools = by_name(await server.tools())
    assert {"calc_add", "calc_shout", "calc_hang", "calc_grow"} <= set(tools)
    add = tools["calc_add"]
    assert add.remote_name == "add"
    assert add.description == "Add two integers (a structured result)."
    assert add.parameters["properties"]["a"]["type"] == "integer"
    assert sorted(add.parameters["required"]) == ["a", "b"]
    assert add.output_schema is not None and "total" in add.output_schema["properties"]


async def test_structured_text_and_error_results_reach_the_toolbox() -> None:
    async with stdio_server() as server:
        box = ToolBox(await server.tools())
        structured = await box.execute(ToolCall(name="add", arguments={"a": 2, "b": 40}))
        text = await box.execute(ToolCall(name="shout", arguments={"text": "quiet"}))
        failed = await box.execute(ToolCall(name="fail", arguments={"reason": "disk on fire"}))
        invalid = await box.execute(ToolCall(name="add", arguments={"a": "two"}))
    assert json.loads(structured.content) == {"total": 42}
    assert text.content == "QUIET"
    assert failed.is_error and failed.error_type == "MCPToolError"
    assert "disk on fire" in failed.content
    assert invalid.is_error and "a" in invalid.content


async def test_an_agent_on_the_scripted_model_calls_an_mcp_tool() -> None:
    def answer(call: ModelCall) -> str:
        return "the sum is " + call.tool_results[-1].text

    model = ScriptedModel([ToolCall(name="t_add", arguments={"a": 20, "b": 22}), answer])
    async with stdio_server(prefix="t") as server:
        agent = AgentBuilder().with_model(model).with_tools(await server.tools()).build()
        output = await agent.run("What is 20 + 22?")
    assert output.content == 'the sum is {"total":42}'
    assert "t_add" in model.calls[0].tool_names


async def test_a_sigkilled_server_is_a_tool_error_then_the_next_call_reconnects() -> None:
    pids: list[int] = []

    def kill_it(call: ModelCall) -> ToolCall:
        pids.append(int(call.tool_results[-1].text))
        os.kill(pids[0], signal.SIGKILL)
        return ToolCall(name="shout", arguments={"text": "still there?"})

    def ask_again(call: ModelCall) -> ToolCall:
        seen.append(call.tool_results[-1].text)
        return ToolCall(name="pid")

    def finish(call: ModelCall) -> str:
        pids.append(int(call.tool_results[-1].text))
        return "done"

    seen: list[str] = []
    model = ScriptedModel([ToolCall(name="pid"), kill_it, ask_again, finish])
    async with stdio_server() as server:
        agent = AgentBuilder().with_model(model).with_tools(await server.tools()).build()
        assert (await agent.run("go")).content == "done"
    assert "closed the connection" in seen[0] and seen[0].startswith("Error:")
    assert pids[0] != pids[1]  # a new server process answered


async def test_a_crash_inside_a_call_and_a_hang_past_the_timeout_both_reconnect() -> None:
    async with stdio_server(timeout=1.0) as server:
        tools = by_name(await server.tools())
        box = ToolBox(tools.values())
        first = await tools["pid"].execute({})
        with pytest.raises(MCPConnectionError, match="crash"):
            await tools["crash"].execute({})
        second = await tools["pid"].execute({})
        hung = await box.execute(ToolCall(name="hang"))  # what an agent's ToolBox hands the model
        third = await tools["pid"].execute({})
    assert hung.is_error and hung.error_type == "MCPTimeoutError"
    assert "did not answer tool 'hang' within 1 s" in hung.content
    assert box.stats["hang"].timeouts == 1
    assert len({first, second, third}) == 3  # three server processes
    assert all(isinstance(pid, int) for pid in (first, second, third))


async def test_list_changed_refreshes_the_tool_list() -> None:
    async with stdio_server(prefix="s") as server:
        before = {tool.name for tool in await server.tools()}
        assert await by_name(await server.tools())["s_grow"].execute({"name": "sprout"})
        await wait_until(lambda: server.tools_changes == 1, message="list_changed arrives")
        after = by_name(await server.tools())
        assert "s_sprout" not in before
        assert await after["s_sprout"].execute({}) == "I am sprout"
        assert after["s_add"] is by_name(await server.tools())["s_add"]  # same objects, updated


async def test_the_child_gets_a_minimal_environment_plus_what_the_caller_passes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-parent-secret")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    async with stdio_server(env={"GECKO_MCP_TEST": "passed"}) as server:
        result = await by_name(await server.tools())["environment"].execute({})
    names = set(result)
    assert "OPENAI_API_KEY" not in names
    assert {"PATH", "GECKO_MCP_TEST", "LC_ALL"} <= names
    assert "HOME" in names or "HOME" not in os.environ


async def test_http_sends_secret_headers_that_never_reach_repr_or_logs(
    sdk_http_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = MCPServer.http(sdk_http_url, headers={"X-Api-Key": "hdr-s3cret"}, token="tok-s3cret")
    async with server:
        tools = by_name(await server.tools())
        seen = await tools["request_headers"].execute({})
        assert (await tools["add"].execute({"a": 1, "b": 2})) == {"total": 3}
    assert seen["x-api-key"] == hashlib.sha256(b"hdr-s3cret").hexdigest()
    assert seen["authorization"] == hashlib.sha256(b"Bearer tok-s3cret").hexdigest()
    for text in (repr(server), repr(server.transport), server.name, caplog.text):
        assert "s3cret" not in text
    assert "X-Api-Key" in server.transport.describe()


async def test_http_server_that_dies_is_a_connection_error(start_http: Any) -> None:
    url = start_http(sys.executable, SDK_SERVER, "--http", "PORT")
    async with MCPServer.http(url, timeout=5.0) as server:
        tools = by_name(await server.tools())
        with pytest.raises((MCPConnectionError, MCPTimeoutError)):
            await tools["crash"].execute({})


async def test_unreachable_servers_fail_with_a_clear_error() -> None:
    with pytest.raises(MCPConnectionError, match="cannot connect to MCP server"):
        async with MCPServer.http("http://127.0.0.1:9/mcp", connect_timeout=5):
            pass
    not_mcp = MCPServer.stdio(
        [sys.executable, "-c", "import time; time.sleep(60)"], connect_timeout=1
    )
    with pytest.raises(MCPConnectionError, match="no answer in time"):
        async with not_mcp:
            pass


async def test_a_rejected_call_is_a_tool_error_not_a_reconnect() -> None:
    async with stdio_server() as server:
        tools = by_name(await server.tools())
        first = await tools["pid"].execute({})
        result = await server.call_tool("no_such_tool", {})
        assert result.is_error  # the SDK server answers an unknown tool with isError
        with pytest.raises(MCPToolError):
            await tools["fail"].execute({"reason": "no"})
        assert await tools["pid"].execute({}) == first


def test_descriptions_hide_url_credentials_and_header_values() -> None:
    server = MCPServer.http(
        "https://user:pw-s3cret@example.org/mcp?key=q-s3cret", headers={"X-Key": "h-s3cret"}
    )
    assert server.name == "https://user:***@example.org/mcp?... (headers: X-Key)"
    assert "s3cret" not in repr(server)


def test_bad_configuration_says_what_to_do() -> None:
    with pytest.raises(ConfigurationError, match="not a string"):
        MCPServer.stdio("python -m server")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="cannot find the MCP server executable"):
        MCPServer.stdio(["/no/such/mcp-server"])
    with pytest.raises(ConfigurationError, match="http:// or https://"):
        MCPServer.http("ftp://example.org/mcp")
    with pytest.raises(ConfigurationError, match="timeout"):
        stdio_server(timeout=0)
    with pytest.raises(ConfigurationError, match="invalid tool name"):
        stdio_server(prefix="has space")


async def test_tools_outside_async_with_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="not open"):
        await stdio_server().tools()
