"""Messages and their OpenAI wire format."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from gecko.core.errors import ConfigurationError, ToolArgumentError
from gecko.core.message import ImageBlock, Message, Role, TextBlock, ToolCall
from gecko.core.output import TokenUsage


def test_constructors_and_text() -> None:
    assert Message.system("be brief").role is Role.SYSTEM
    user = Message.user(
        [TextBlock(text="look at "), ImageBlock.from_url("https://x/y.png"), TextBlock(text="this")]
    )
    assert user.text == "look at this"
    result = Message.tool_result("call_1", "42", name="calc")
    assert (result.role, result.tool_call_id, result.name, result.text) == (
        Role.TOOL,
        "call_1",
        "calc",
        "42",
    )


def test_openai_round_trip_with_tool_calls_and_images() -> None:
    call = ToolCall(id="call_9", name="add", arguments={"a": 1, "b": 2})
    messages = [
        Message.assistant("thinking", tool_calls=[call]),
        Message.user(
            [TextBlock(text="hi"), ImageBlock.from_base64(b"\x89PNG", "image/png", detail="low")]
        ),
        Message.tool_result("call_9", "3", name="add"),
    ]
    for message in messages:
        wire = message.to_openai_format()
        assert Message.from_openai(wire) == message
    wire = messages[0].to_openai_format()
    assert wire["tool_calls"][0] == {
        "id": "call_9",
        "type": "function",
        "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'},
    }
    image = messages[1].to_openai_format()["content"][1]
    assert image["type"] == "image_url" and image["image_url"]["detail"] == "low"
    assert (
        image["image_url"]["url"]
        == "data:image/png;base64," + base64.b64encode(b"\x89PNG").decode()
    )


def test_coerce() -> None:
    assert Message.coerce("hello") == Message.user("hello")
    assert Message.coerce({"role": "system", "content": "x"}) == Message.system("x")
    with pytest.raises(ConfigurationError):
        Message.coerce(42)  # type: ignore[arg-type]


def test_tool_call_arguments_parse_or_fail_clearly() -> None:
    assert ToolCall(name="f", arguments='{"x": [1]}').args == {"x": [1]}
    assert ToolCall(name="f", arguments="").args == {}
    with pytest.raises(ToolArgumentError) as info:
        ToolCall(name="f", arguments='{"x": ').args
    assert "not valid JSON" in str(info.value) and "'f'" in str(info.value)
    with pytest.raises(ToolArgumentError):
        ToolCall(name="f", arguments="[1, 2]").args


def test_image_from_file_enforces_size_limit(tmp_path: Path) -> None:
    image = tmp_path / "pic.png"
    image.write_bytes(b"\x89PNG" + b"0" * 100)
    block = ImageBlock.from_file(image)
    assert block.url.startswith("data:image/png;base64,")
    with pytest.raises(ConfigurationError) as info:
        ImageBlock.from_file(image, max_bytes=10)
    assert "above the limit" in str(info.value)
    text = tmp_path / "notes.txt"
    text.write_text("x")
    with pytest.raises(ConfigurationError):
        ImageBlock.from_file(text)
    with pytest.raises(ValueError):
        ImageBlock(url="/etc/passwd")


def test_token_usage_sums() -> None:
    total = TokenUsage.of(10, 5) + TokenUsage.of(1, 2)
    assert (total.prompt_tokens, total.completion_tokens, total.total_tokens) == (11, 7, 18)
