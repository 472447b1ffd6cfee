"""``gecko mcp serve``: a Gecko agent and workflow called by the SDK's own client, over stdio and HTTP."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from gecko.core.errors import ConfigurationError
from gecko.mcp.serve import build_server, expose

pytestmark = pytest.mark.anyio

GECKO = [sys.executable, "-m", "gecko.core.cli.main"]

APP = """
from pydantic import BaseModel

from gecko import AgentBuilder, Workflow
from gecko.core.errors import ConfigurationError
from gecko.core.models.scripted import ScriptedModel
from gecko.mcp.serve import expose

model = ScriptedModel(lambda call: "echo: " + call.last_user_text)
agent = AgentBuilder().with_model(model).with_name("echo").build()


class Order(BaseModel):
    item: str
    quantity: int = 1


wf = Workflow("order")
wf.add_node("price", lambda order: {"item": order.item, "total": order.quantity * 3})
wf.add_node("receipt", lambda priced: f"{priced['item']}: {priced['total']} EUR")
wf.add_edge("price", "receipt").set_entry_point("price")


def refuse(order: Order) -> str:
    raise ConfigurationError(f"we do not sell {order.item}")


broken = Workflow("broken").add_node("refuse", refuse).set_entry_point("refuse")

served = [
    agent,
    expose(wf, input_schema=Order, description="Price an order."),
    expose(broken, input_schema=Order),
]
"""


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    return tmp_path


@asynccontextmanager
async def stdio_session(cwd: Path) -> AsyncIterator[ClientSession]:
    command = [*GECKO, "mcp", "serve", "--app", "app:served"]
    params = StdioServerParameters(command=command[0], args=command[1:], cwd=str(cwd))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


@asynccontextmanager
async def http_session(url: str) -> AsyncIterator[ClientSession]:
    async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def check_agent_and_workflow(session: ClientSession) -> None:
    listed = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(listed) == {"echo", "order", "broken"}
    assert listed["echo"].input_schema["required"] == ["prompt"]
    assert listed["order"].input_schema["required"] == ["item"]
    assert listed["order"].description == "Price an order."

    answer = await session.call_tool("echo", {"prompt": "hello over MCP"})
    assert not answer.is_error
    assert answer.structured_content == {"result": "echo: hello over MCP"}

    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    result = await session.call_tool(
        "order", {"item": "tea", "quantity": 4}, progress_callback=on_progress
    )
    assert result.structured_content == {"result": "tea: 12 EUR"}
    assert progress == [
        (1.0, 2.0, "node 'price' completed"),
        (2.0, 2.0, "node 'receipt' completed"),
    ]
    bad = await session.call_tool("order", {"quantity": 2})
    assert bad.is_error and "item" in bad.content[0].text  # type: ignore[union-attr]
    refused = await session.call_tool("broken", {"item": "lead"})
    assert refused.is_error and "we do not sell lead" in refused.content[0].text  # type: ignore[union-attr]


async def test_served_over_stdio_to_the_sdk_client(app_dir: Path) -> None:
    async with stdio_session(app_dir) as session:
        await check_agent_and_workflow(session)


async def test_served_over_streamable_http_to_the_sdk_client(
    app_dir: Path, start_http: Callable[..., str]
) -> None:
    url = start_http(
        *GECKO, "mcp", "serve", "--app", "app:served", "--http", "127.0.0.1:PORT", cwd=app_dir
    )
    async with http_session(url) as session:
        await check_agent_and_workflow(session)


async def test_a_served_agent_is_usable_by_a_gecko_agent_through_mcp_server(
    app_dir: Path,
) -> None:
    from gecko.mcp import MCPServer

    command = [*GECKO, "mcp", "serve", "--app", "app:agent"]
    async with MCPServer.stdio(command, cwd=str(app_dir), prefix="remote") as server:
        [tool] = await server.tools()
        assert tool.name == "remote_echo"
        assert await tool.execute({"prompt": "hi"}) == "echo: hi"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--app", "app"], "use module:attr"),
        (["--app", "app:missing"], "cannot import 'app:missing'"),
        (["--app", "app:Order"], "neither a Gecko Agent nor a Workflow"),
        (["--app", "app:agent", "--http", "nowhere"], "is not HOST:PORT"),
    ],
)
def test_bad_command_lines_say_what_is_wrong(app_dir: Path, args: list[str], message: str) -> None:
    result = subprocess.run(
        [*GECKO, "mcp", "serve", *args], cwd=app_dir, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert message in result.stderr


def test_build_server_rejects_what_it_cannot_serve() -> None:
    from gecko import AgentBuilder

    agent = AgentBuilder().with_model("test").with_name("twin").build()
    with pytest.raises(ConfigurationError, match="both named 'twin'"):
        build_server([agent, agent])
    with pytest.raises(ConfigurationError, match="nothing to serve"):
        build_server([])
    with pytest.raises(ConfigurationError, match="input_schema is for workflows"):
        expose(agent, input_schema=ConfigurationError)  # type: ignore[arg-type]
    server: Any = build_server({"helper": agent})
    assert server.name == "gecko"
