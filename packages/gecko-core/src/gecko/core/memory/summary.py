"""``SummaryTokenMemory``: older turns that do not fit are summarised by the model.

How the window is built when the conversation does not fit ``max_tokens``:

1. Non-system messages are grouped into units (a tool call stays with its
   results). Each prefix of units has a content hash, chained from the
   messages' digests.
2. If a summary of some prefix is already known and it plus the units after
   that prefix fit, it is reused: no model call (this gives slack, so a growing
   conversation is not re-summarised at every turn).
3. Otherwise the newest units that fit ``max_tokens - summary_tokens`` are kept
   verbatim and the units before them are summarised, incrementally: starting
   from the longest prefix already summarised, in chunks of at most
   ``chunk_tokens`` (default ``max_tokens``) tokens, each chunk folded into the
   previous summary, so no summarisation call exceeds what the model was given.
4. The summary is one system message placed before the kept units; original
   system messages are always kept in place.

Summaries are computed once per content: concurrent callers for the same
prefix wait for the one in-flight summarisation and reuse its result, and
results are cached (in memory, and in ``storage`` when there is one). If the
model fails, the window falls back to plain truncation and a warning is logged.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Sequence

import anyio

from gecko.core.errors import ConfigurationError
from gecko.core.memory.token_memory import DEFAULT_KEY_PREFIX, TokenMemory
from gecko.core.memory.window import Window, plan_window, warn_over_budget
from gecko.core.message import ImageBlock, Message, Role
from gecko.core.output import TokenUsage
from gecko.core.prompts.template import PromptTemplate
from gecko.core.protocols import ChatModel, SessionStore
from gecko.core.validation import check_int

logger = logging.getLogger(__name__)

SUMMARY_PREFIX = "Summary of the earlier conversation:\n"
SUMMARISER_INSTRUCTIONS = (
    "You maintain the memory of an AI assistant. You write faithful, concise summaries "
    "of conversations. Never invent facts."
)
DEFAULT_SUMMARY_PROMPT = """\
Summarise the conversation below so the assistant can continue it without the original \
messages. Keep facts, names, numbers, decisions, tool results that matter, and open \
questions. Use at most {max_words} words. Answer with the summary only.

Summary so far:
{previous_summary}

Conversation to add:
{transcript}"""
SUMMARY_KEY_PREFIX = "gecko:summary:"


class _Flight:
    """One in-progress summarisation that concurrent callers wait for."""

    __slots__ = ("done", "finished", "result")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.finished = False  # False after done: the leader was cancelled, retry
        self.result: str | None = None


class SummaryTokenMemory(TokenMemory):
    """A ``TokenMemory`` that summarises what does not fit instead of dropping it."""

    def __init__(
        self,
        max_tokens: int = 4000,
        *,
        model: ChatModel,
        storage: SessionStore | None = None,
        cache_size: int = 2048,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        ttl: float | None = None,
        summary_tokens: int | None = None,
        summary_prompt: str | PromptTemplate = DEFAULT_SUMMARY_PROMPT,
        summary_cache_size: int = 256,
        persist_summaries: bool = True,
        chunk_tokens: int | None = None,
    ) -> None:
        if model is None or not callable(getattr(model, "acompletion", None)):
            raise ConfigurationError(
                f"SummaryTokenMemory needs a chat model to write summaries, got {model!r}",
                hint="pass model=create_model('...') or the agent's model",
            )
        super().__init__(
            max_tokens,
            storage=storage,
            model=model,
            cache_size=cache_size,
            key_prefix=key_prefix,
            ttl=ttl,
        )
        self.summary_tokens = check_int(
            "summary_tokens",
            max_tokens // 4 if summary_tokens is None else summary_tokens,
            minimum=1,
            maximum=max_tokens - 1,
            hint=f"it is the part of max_tokens ({max_tokens}) reserved for the summary "
            "(default: max_tokens // 4)",
        )
        template = (
            summary_prompt
            if isinstance(summary_prompt, PromptTemplate)
            else PromptTemplate(summary_prompt, name="summary_prompt")
        )
        if "transcript" not in template.variables:
            raise ConfigurationError(
                "summary_prompt must contain a {transcript} placeholder",
                hint="it may also use {previous_summary} and {max_words}",
            )
        self.summary_prompt = template
        self.chunk_tokens = check_int(
            "chunk_tokens",
            max_tokens if chunk_tokens is None else chunk_tokens,
            minimum=1,
            hint="it is the most tokens of conversation sent in one summarisation call",
        )
        self.persist_summaries = persist_summaries
        self.summary_cache_size = max(1, summary_cache_size)
        self.usage = TokenUsage()
        """Token usage of every summarisation call so far."""
        self.summary_calls = 0
        self._summaries: OrderedDict[bytes, str] = OrderedDict()
        self._flights: dict[bytes, _Flight] = {}

    # --- the window ------------------------------------------------------------------------

    async def select(self, messages: Sequence[Message]) -> list[Message]:
        items = [Message.coerce(message) for message in messages]
        keyed = [self._counter.count_with_digest(message) for message in items]
        counts = [tokens for _, tokens in keyed]
        plain = plan_window(items, counts, self.max_tokens)
        if plain.first == 0:  # everything fits (or only the newest unit exists)
            if plain.over_budget:
                warn_over_budget(plain, self.max_tokens)
            return plain.select(items)

        system, units = plain.system, plain.units
        budget = self.max_tokens - sum(counts[i] for i in system)
        unit_tokens = [sum(counts[i] for i in unit) for unit in units]
        suffix = [0] * (len(units) + 1)
        for position in range(len(units) - 1, -1, -1):
            suffix[position] = suffix[position + 1] + unit_tokens[position]
        prefixes = _prefix_hashes(units, [digest for digest, _ in keyed])

        reuse = self._reusable(prefixes, suffix, budget)
        if reuse is not None:
            first, summary = reuse
        else:
            first = len(units) - 1  # at least the newest unit stays verbatim
            while first > 1 and suffix[first - 1] <= budget - self.summary_tokens:
                first -= 1
            result = await self._summary_for(first, items, units, prefixes)
            if result is None:
                return plain.select(items)
            summary = result
        summary_message = Message.system(SUMMARY_PREFIX + summary)
        tokens = self.max_tokens - budget + self.count_tokens(summary_message) + suffix[first]
        window = Window(system, units, first, tokens, tokens > self.max_tokens)
        if window.over_budget:
            warn_over_budget(window, self.max_tokens)
        return window.select(items, insert=summary_message)

    def _reusable(
        self, prefixes: list[bytes], suffix: list[int], budget: int
    ) -> tuple[int, str] | None:
        for first in range(1, len(prefixes) - 1):
            summary = self._summaries.get(prefixes[first])
            if summary is not None and self._summary_cost(summary) + suffix[first] <= budget:
                self._summaries.move_to_end(prefixes[first])
                return first, summary
        return None

    def _summary_cost(self, summary: str) -> int:
        return self._counter.count(Message.system(SUMMARY_PREFIX + summary))

    # --- single-flight summarisation --------------------------------------------------------

    async def _summary_for(
        self,
        first: int,
        items: list[Message],
        units: list[list[int]],
        prefixes: list[bytes],
    ) -> str | None:
        key = prefixes[first]
        while True:
            cached = self._summaries.get(key)
            if cached is not None:
                return cached
            flight = self._flights.get(key)
            if flight is None:
                break
            await flight.done.wait()
            if flight.finished:
                return flight.result
        flight = self._flights[key] = _Flight()
        try:
            try:
                result: str | None = await self._summarise(first, items, units, prefixes)
            except Exception as exc:  # a failed summary degrades to truncation
                logger.warning(
                    "summarising %d earlier messages failed (%s: %s); they are left out of "
                    "this window instead",
                    sum(len(unit) for unit in units[:first]),
                    type(exc).__name__,
                    exc,
                )
                result = None
            else:
                self._remember(key, result)
            flight.result, flight.finished = result, True
        finally:  # a cancelled leader leaves finished False: a waiter takes over
            del self._flights[key]
            flight.done.set()
        return flight.result

    async def _summarise(
        self,
        first: int,
        items: list[Message],
        units: list[list[int]],
        prefixes: list[bytes],
    ) -> str:
        stored = await self._load_summary(prefixes[first])
        if stored is not None:
            return stored
        start = 0
        previous: str | None = None
        for position in range(first - 1, 0, -1):
            cached = self._summaries.get(prefixes[position])
            if cached is not None:
                start, previous = position, cached
                break
        position = start
        while position < first:  # chunks of at most max_tokens, each folded into the summary
            end, used = position + 1, self._unit_cost(items, units[position])
            while end < first and used + self._unit_cost(items, units[end]) <= self.chunk_tokens:
                used += self._unit_cost(items, units[end])
                end += 1
            chunk = [items[i] for unit in units[position:end] for i in unit]
            previous = await self._call_model(previous, chunk)
            self._remember(prefixes[end], previous)
            position = end
        assert previous is not None
        await self._store_summary(prefixes[first], previous)
        return previous

    def _unit_cost(self, items: list[Message], unit: list[int]) -> int:
        return sum(self._counter.count(items[i]) for i in unit)

    async def _call_model(self, previous: str | None, chunk: list[Message]) -> str:
        values = {
            "transcript": format_transcript(chunk),
            "previous_summary": previous or "(none)",
            "max_words": max(10, int(self.summary_tokens * 0.7)),
        }
        prompt = self.summary_prompt.render(
            **{k: v for k, v in values.items() if k in self.summary_prompt.required}
        )
        assert self.model is not None
        self.summary_calls += 1
        response = await self.model.acompletion(
            [Message.system(SUMMARISER_INSTRUCTIONS), Message.user(prompt)]
        )
        self.usage = self.usage + response.usage
        text = response.message.text.strip()
        if not text:
            raise ValueError("the model returned an empty summary")
        return text

    # --- summary caches -----------------------------------------------------------------------

    def _remember(self, key: bytes, summary: str | None) -> None:
        if summary is None:
            return
        self._summaries[key] = summary
        self._summaries.move_to_end(key)
        while len(self._summaries) > self.summary_cache_size:
            self._summaries.popitem(last=False)

    def summary_key(self, prefix: bytes) -> str:
        return SUMMARY_KEY_PREFIX + prefix.hex()

    async def _load_summary(self, prefix: bytes) -> str | None:
        if self.storage is None or not self.persist_summaries:
            return None
        value = await self.storage.get(self.summary_key(prefix))
        if isinstance(value, dict) and isinstance(value.get("summary"), str):
            return str(value["summary"])
        return None

    async def _store_summary(self, prefix: bytes, summary: str) -> None:
        if self.storage is None or not self.persist_summaries:
            return
        await self.storage.set(
            self.summary_key(prefix), {"version": 1, "summary": summary}, ttl=self.ttl
        )


def format_transcript(messages: Sequence[Message]) -> str:
    """A plain-text transcript of ``messages`` for the summariser (nothing is cut)."""
    lines: list[str] = []
    for message in messages:
        text = message.text
        if isinstance(message.content, list) and any(
            isinstance(block, ImageBlock) for block in message.content
        ):
            text = (text + " [image]").strip()
        if message.role is Role.USER:
            lines.append(f"User: {text}")
        elif message.role is Role.ASSISTANT:
            if text:
                lines.append(f"Assistant: {text}")
            for call in message.tool_calls or ():
                lines.append(f"Assistant called tool {call.name} with {call.arguments}")
        elif message.role is Role.TOOL:
            lines.append(f"Tool result ({message.name or message.tool_call_id}): {text}")
        else:
            lines.append(f"System: {text}")
    return "\n".join(lines)


def _prefix_hashes(units: list[list[int]], digests: list[bytes]) -> list[bytes]:
    """``hashes[k]`` identifies the content of ``units[:k]`` (chained, so O(n) in total)."""
    hashes = [b""]
    current = b""
    for unit in units:
        data = current + b"".join(digests[i] for i in unit)
        current = hashlib.blake2b(data, digest_size=16).digest()
        hashes.append(current)
    return hashes
