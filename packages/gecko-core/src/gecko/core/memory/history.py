"""The stored form of a conversation history: a versioned JSON document of full messages.

Nothing is cut or summarised on the way in or out: what is saved is read back
exactly (content blocks, tool calls and tool results included).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from gecko.core.errors import ConfigurationError, CorruptDataError, SchemaVersionError
from gecko.core.message import Message

HISTORY_VERSION = 1


def encode_history(messages: Sequence[Message]) -> dict[str, Any]:
    """The JSON document stored for ``messages``."""
    return {
        "version": HISTORY_VERSION,
        "messages": [
            Message.coerce(message).model_dump(mode="json", exclude_none=True)
            for message in messages
        ],
    }


def decode_history(value: Any, *, key: str) -> list[Message]:
    """Messages from a stored document (``None`` -> ``[]``); bad data names the key."""
    if value is None:
        return []
    if isinstance(value, list):  # a bare list of OpenAI-style messages (older layouts)
        items: Any = value
    elif isinstance(value, dict):
        version = value.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise CorruptDataError(
                f"stored history {key!r} has no valid 'version'",
                hint="the key holds something else than a Gecko history; delete or rename it",
                key=key,
            )
        if version > HISTORY_VERSION:
            raise SchemaVersionError(
                f"stored history {key!r} has version {version}, newer than this Gecko "
                f"understands ({HISTORY_VERSION})",
                hint="upgrade gecko-core",
                key=key,
                version=version,
            )
        items = value.get("messages")
    else:
        items = None
    if not isinstance(items, list):
        raise CorruptDataError(
            f"stored history {key!r} is not a list of messages",
            hint="the key holds something else than a Gecko history; delete or rename it",
            key=key,
        )
    messages: list[Message] = []
    for index, item in enumerate(items):
        messages.append(_decode_message(item, key=key, index=index))
    return messages


def _decode_message(item: Any, *, key: str, index: int) -> Message:
    try:
        return Message.model_validate(item)
    except ValidationError as exc:
        error: Exception = exc
    if isinstance(item, dict):  # OpenAI's wire format, as older Gecko versions stored it
        try:
            return Message.from_openai(item)
        except (ValidationError, ConfigurationError, KeyError, TypeError, ValueError):
            pass
    raise CorruptDataError(
        f"stored history {key!r}: message {index} is not a valid message: {error}",
        hint="the stored history was corrupted or written by another program",
        key=key,
        index=index,
    ) from error
