"""Chat messages: the neutral wire type between agents, memory and model plugins.

OpenAI's chat format is the convention: ``Message.to_openai_format()`` produces
it and ``Message.from_openai()`` reads it back, so model plugins translate once.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import uuid
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gecko.core.errors import ConfigurationError, ToolArgumentError

DEFAULT_IMAGE_MAX_BYTES = 20 * 1024 * 1024
"""Largest local image file ``ImageBlock.from_file`` accepts unless told otherwise."""


class Role(str, Enum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class TextBlock(BaseModel):
    # defer_build: the schema is built on first use, not at import (`from gecko import Agent`).
    model_config = ConfigDict(frozen=True, defer_build=True)

    type: Literal["text"] = "text"
    text: str


class ImageBlock(BaseModel):
    """An image given by http(s) URL or as a ``data:`` URL (base64)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    type: Literal["image"] = "image"
    url: str
    detail: Literal["auto", "low", "high"] | None = None

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://", "data:")):
            raise ValueError(
                "image url must start with http://, https:// or data: "
                "(use ImageBlock.from_file for local files)"
            )
        return value

    @classmethod
    def from_url(
        cls, url: str, *, detail: Literal["auto", "low", "high"] | None = None
    ) -> ImageBlock:
        return cls(url=url, detail=detail)

    @classmethod
    def from_base64(
        cls,
        data: str | bytes,
        media_type: str = "image/png",
        *,
        detail: Literal["auto", "low", "high"] | None = None,
    ) -> ImageBlock:
        if isinstance(data, bytes):
            data = base64.b64encode(data).decode("ascii")
        return cls(url=f"data:{media_type};base64,{data}", detail=detail)

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        max_bytes: int = DEFAULT_IMAGE_MAX_BYTES,
        detail: Literal["auto", "low", "high"] | None = None,
    ) -> ImageBlock:
        """Embed a local image file as base64, refusing files above ``max_bytes``."""
        file = Path(path)
        size = file.stat().st_size
        if size > max_bytes:
            raise ConfigurationError(
                f"image file {str(file)!r} is {size} bytes, above the limit of {max_bytes} bytes",
                hint="resize the image or pass a larger max_bytes",
                path=str(file),
                size=size,
            )
        media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if not media_type.startswith("image/"):
            raise ConfigurationError(
                f"{str(file)!r} does not look like an image (guessed type {media_type})",
                path=str(file),
            )
        return cls.from_base64(file.read_bytes(), media_type, detail=detail)


ContentBlock = Annotated[Union[TextBlock, ImageBlock], Field(discriminator="type")]


def new_tool_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


class ToolCall(BaseModel):
    """A tool invocation requested by the model.

    ``arguments`` keeps the raw JSON text the model produced, so malformed
    arguments can be fed back to the model instead of being lost; ``args``
    parses it. A dict passed as ``arguments`` is serialized for convenience.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str = Field(default_factory=new_tool_call_id)
    name: str
    arguments: str = "{}"

    @field_validator("arguments", mode="before")
    @classmethod
    def _serialize_dict(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False)
        return value

    @property
    def args(self) -> dict[str, Any]:
        """The parsed arguments; raises ToolArgumentError if they are not a JSON object."""
        try:
            value = json.loads(self.arguments) if self.arguments.strip() else {}
        except json.JSONDecodeError as exc:
            raise ToolArgumentError(
                f"arguments for tool {self.name!r} are not valid JSON: {exc.msg} at position {exc.pos}",
                tool=self.name,
                arguments=self.arguments,
            ) from exc
        if not isinstance(value, dict):
            raise ToolArgumentError(
                f"arguments for tool {self.name!r} must be a JSON object, got {type(value).__name__}",
                tool=self.name,
                arguments=self.arguments,
            )
        return value

    def to_openai_format(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


class Message(BaseModel):
    """One chat message. ``content`` is text or a list of content blocks."""

    model_config = ConfigDict(defer_build=True)

    role: Role
    content: str | list[ContentBlock] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None

    # --- constructors ---------------------------------------------------------

    @classmethod
    def system(cls, content: str) -> Message:
        return cls(role=Role.SYSTEM, content=content)

    @classmethod
    def user(cls, content: str | list[ContentBlock], *, name: str | None = None) -> Message:
        return cls(role=Role.USER, content=content, name=name)

    @classmethod
    def assistant(
        cls, content: str | None = None, *, tool_calls: list[ToolCall] | None = None
    ) -> Message:
        return cls(role=Role.ASSISTANT, content=content, tool_calls=tool_calls or None)

    @classmethod
    def tool_result(cls, tool_call_id: str, content: str, *, name: str | None = None) -> Message:
        return cls(role=Role.TOOL, content=content, tool_call_id=tool_call_id, name=name)

    @classmethod
    def coerce(cls, value: Message | str | dict[str, Any]) -> Message:
        """Accept a Message, a plain string (a user message) or an OpenAI-style dict."""
        if isinstance(value, Message):
            return value
        if isinstance(value, str):
            return cls.user(value)
        if isinstance(value, dict):
            return cls.from_openai(value)
        raise ConfigurationError(
            f"cannot turn a {type(value).__name__} into a Message",
            hint="pass a str, a Message, or a dict like {'role': 'user', 'content': '...'}",
        )

    # --- views ------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The text content, with the text of content blocks joined."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(block.text for block in self.content if isinstance(block, TextBlock))

    # --- wire format --------------------------------------------------------------

    def to_openai_format(self) -> dict[str, Any]:
        data: dict[str, Any] = {"role": self.role.value}
        if isinstance(self.content, list):
            data["content"] = [_block_to_openai(block) for block in self.content]
        else:
            data["content"] = self.content
        if self.name is not None:
            data["name"] = self.name
        if self.tool_calls:
            data["tool_calls"] = [call.to_openai_format() for call in self.tool_calls]
        if self.tool_call_id is not None:
            data["tool_call_id"] = self.tool_call_id
        return data

    @classmethod
    def from_openai(cls, data: dict[str, Any]) -> Message:
        content = data.get("content")
        if isinstance(content, list):
            content = [_block_from_openai(block) for block in content]
        tool_calls = None
        if data.get("tool_calls"):
            tool_calls = [
                ToolCall(
                    id=call.get("id") or new_tool_call_id(),
                    name=call["function"]["name"],
                    arguments=call["function"].get("arguments") or "{}",
                )
                for call in data["tool_calls"]
            ]
        return cls(
            role=Role(data.get("role", "user")),
            content=content,
            name=data.get("name"),
            tool_calls=tool_calls,
            tool_call_id=data.get("tool_call_id"),
        )


def _block_to_openai(block: TextBlock | ImageBlock) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    image: dict[str, Any] = {"url": block.url}
    if block.detail:
        image["detail"] = block.detail
    return {"type": "image_url", "image_url": image}


def _block_from_openai(block: dict[str, Any]) -> TextBlock | ImageBlock:
    kind = block.get("type")
    if kind == "text":
        return TextBlock(text=block.get("text", ""))
    if kind in ("image_url", "image"):
        image = block.get("image_url") or {}
        url = image if isinstance(image, str) else image.get("url", block.get("url", ""))
        detail = None if isinstance(image, str) else image.get("detail")
        return ImageBlock(url=url, detail=detail)
    raise ConfigurationError(f"unsupported content block type {kind!r}", block=block)
