"""Conversation memory: the token-budgeted window sent to the model, and persisted history.

- ``TokenMemory``: newest messages that fit ``max_tokens``; system messages always
  kept; tool calls never separated from their results; counts cached.
- ``SummaryTokenMemory``: what does not fit is summarised by the model, once per
  content even under many concurrent callers.
"""

from __future__ import annotations

from gecko.core.memory.counting import CacheInfo, MessageTokenCounter, message_digest
from gecko.core.memory.summary import SummaryTokenMemory, format_transcript
from gecko.core.memory.token_memory import TokenMemory

__all__ = [
    "CacheInfo",
    "MessageTokenCounter",
    "SummaryTokenMemory",
    "TokenMemory",
    "format_transcript",
    "message_digest",
]
