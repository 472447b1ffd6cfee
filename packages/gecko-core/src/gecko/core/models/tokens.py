"""The documented token estimate used when a model offers no exact ``count_tokens``.

ASCII text averages about four characters per token in BPE tokenizers; other
scripts (CJK in particular) average about one character per token. Each message
adds a small fixed overhead for its role and separators, as in OpenAI's format.
"""

from __future__ import annotations

from collections.abc import Sequence

from gecko.core.message import Message

MESSAGE_OVERHEAD = 4


def estimate_tokens(text: str) -> int:
    """Estimated tokens of ``text``: ceil(ascii_chars / 4) + non_ascii_chars."""
    if not text:
        return 0
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    ascii_chars = len(text) - non_ascii
    return -(-ascii_chars // 4) + non_ascii


def estimate_message_tokens(messages: Sequence[Message]) -> int:
    """Estimated prompt tokens of ``messages`` (text, tool calls and overhead)."""
    total = 0
    for message in messages:
        total += MESSAGE_OVERHEAD + estimate_tokens(message.text)
        for call in message.tool_calls or ():
            total += estimate_tokens(call.name) + estimate_tokens(call.arguments)
        if message.name:
            total += estimate_tokens(message.name)
    return total
