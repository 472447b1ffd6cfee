"""``TokenMemory``: the window of a conversation sent to the model, and its persisted history."""

from __future__ import annotations

from collections.abc import Sequence

from gecko.core.memory.counting import CacheInfo, MessageTokenCounter
from gecko.core.memory.history import decode_history, encode_history
from gecko.core.memory.window import plan_window, warn_over_budget
from gecko.core.message import Message
from gecko.core.protocols import ChatModel, SessionStore
from gecko.core.storage.base import check_ttl
from gecko.core.validation import check_int, check_str

DEFAULT_KEY_PREFIX = "gecko:history:"


class TokenMemory:
    """Keeps a conversation within ``max_tokens`` and persists its full history.

    ``select(messages)`` returns what is sent to the model: every system
    message, then the newest messages whose tokens fit ``max_tokens`` in total,
    never separating an assistant tool-call message from its tool results. The
    newest message (or tool-call group) is always included, even alone over
    budget, with a warning, so the model always sees what it is answering.

    Token counts are exact when ``model`` offers ``count_tokens`` (a
    ``TokenCounter``), otherwise core's documented estimate; either way they
    are cached per message content (``cache_size`` entries, LRU).

    With a ``storage`` (any ``SessionStore``), ``load``/``save`` persist the
    full history of a session as JSON under ``key_prefix + session_id``,
    never truncated; ``ttl`` (seconds) makes histories expire.
    """

    def __init__(
        self,
        max_tokens: int = 4000,
        *,
        storage: SessionStore | None = None,
        model: ChatModel | None = None,
        cache_size: int = 2048,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        ttl: float | None = None,
    ) -> None:
        check_int(
            "max_tokens",
            max_tokens,
            minimum=1,
            hint="it is the token budget of the messages sent to the model",
        )
        check_str("key_prefix", key_prefix, non_empty=False)
        self.max_tokens = max_tokens
        self.storage = storage
        self.model = model
        self.key_prefix = key_prefix
        self.ttl = check_ttl(ttl)
        self._counter = MessageTokenCounter(model, cache_size=cache_size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_tokens={self.max_tokens}, exact={self.exact_counting})"

    # --- counting ------------------------------------------------------------------------

    @property
    def exact_counting(self) -> bool:
        """True when token counts come from the model's own ``count_tokens``."""
        return self._counter.exact

    def count_tokens(self, message: Message) -> int:
        """Tokens of one message (exact or estimated; cached by content)."""
        return self._counter.count(message)

    def count_messages(self, messages: Sequence[Message]) -> int:
        """Total tokens of ``messages``."""
        return sum(self._counter.count(message) for message in messages)

    def cache_info(self) -> CacheInfo:
        """Hits, misses, size and capacity of the token-count cache."""
        return self._counter.cache_info()

    # --- the window ------------------------------------------------------------------------

    async def select(self, messages: Sequence[Message]) -> list[Message]:
        """The window of ``messages`` sent to the model (see the class docstring)."""
        items = [Message.coerce(message) for message in messages]
        counts = [self._counter.count(message) for message in items]
        window = plan_window(items, counts, self.max_tokens)
        if window.over_budget:
            warn_over_budget(window, self.max_tokens)
        return window.select(items)

    # --- persistence ---------------------------------------------------------------------

    def history_key(self, session_id: str) -> str:
        """The store key holding ``session_id``'s history."""
        return self.key_prefix + check_str("session_id", session_id)

    async def load(self, session_id: str) -> list[Message]:
        """The persisted history of ``session_id`` (``[]`` without storage or history)."""
        key = self.history_key(session_id)
        if self.storage is None:
            return []
        return decode_history(await self.storage.get(key), key=key)

    async def save(self, session_id: str, messages: Sequence[Message]) -> None:
        """Persist the full history of ``session_id`` (replacing what was stored)."""
        key = self.history_key(session_id)
        if self.storage is None:
            return
        await self.storage.set(key, encode_history(messages), ttl=self.ttl)

    async def append(self, session_id: str, messages: Sequence[Message]) -> list[Message]:
        """Add ``messages`` to the stored history of ``session_id``; return the whole history."""
        history = [*await self.load(session_id), *(Message.coerce(m) for m in messages)]
        await self.save(session_id, history)
        return history

    async def clear(self, session_id: str) -> bool:
        """Delete the stored history of ``session_id``; True if there was one."""
        key = self.history_key(session_id)
        if self.storage is None:
            return False
        return await self.storage.delete(key)
