"""VectorMemory: recall of relevant older turns on top of the token window, inside Agent.run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from gecko.core.agent import AgentBuilder
from gecko.core.embedders.hashing import HashingEmbedder
from gecko.core.errors import ConfigurationError, ModelConnectionError
from gecko.core.memory import TokenMemory
from gecko.core.message import Message, Role
from gecko.core.models.scripted import ScriptedModel
from gecko.core.storage.memory import MemoryStore
from gecko.core.storage.memory_vector import MemoryVectorStore
from gecko.rag import VectorMemory
from gecko.rag.memory import RECALL_PREFIX

pytestmark = pytest.mark.anyio

FILLER = [
    f"Tell me something about subject number {i}, for example its history, its uses and its future."
    for i in range(8)
]


def recall_messages(messages: Sequence[Message]) -> list[str]:
    return [m.text for m in messages if m.role is Role.SYSTEM and m.text.startswith(RECALL_PREFIX)]


async def converse(agent: Any, session: str, first: str) -> None:
    await agent.run(first, session_id=session)
    for text in FILLER:
        await agent.run(text, session_id=session)


async def test_agent_recalls_an_old_fact(backend_store: Any) -> None:
    embedder = HashingEmbedder(256)
    memory = VectorMemory(
        backend_store, embedder, max_tokens=220, recall_tokens=60, storage=MemoryStore()
    )
    model = ScriptedModel(lambda call: "Noted.")
    agent = AgentBuilder().with_model(model).with_memory(memory).build()
    await converse(agent, "alice", "My locker code is 4711, please remember it.")
    await converse(agent, "bob", "My favourite colour is green.")

    await agent.run("What is my locker code?", session_id="alice")
    sent = model.calls[-1].messages
    [recalled] = recall_messages(sent)
    assert "[user] My locker code is 4711, please remember it." in recalled
    assert "green" not in recalled, "recall never crosses sessions"
    plain = [m for m in sent if m.role is not Role.SYSTEM]
    assert all("4711" not in m.text for m in plain), "the fact was outside the token window"
    assert memory.count_messages(sent) <= 220

    await agent.run("What is my locker code?", session_id="bob")
    assert all("4711" not in text for text in recall_messages(model.calls[-1].messages))

    matches = await memory.recall("remember the locker code", top_k=3, role="user")
    assert "My locker code is 4711, please remember it." in [m.text for m in matches]
    assert all(m.metadata["role"] == "user" for m in matches)


async def test_everything_fits_means_no_recall() -> None:
    memory = VectorMemory(MemoryVectorStore(), HashingEmbedder(64), max_tokens=4000)
    messages = [Message.user("hello"), Message.assistant("hi"), Message.user("how are you")]
    assert await memory.select(messages) == messages


async def test_recall_failure_falls_back_to_the_plain_window(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Down(HashingEmbedder):
        async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
            raise ModelConnectionError("embedder down")

    memory = VectorMemory(MemoryVectorStore(), Down(64), max_tokens=120, recall_tokens=30)
    history = [
        Message.user(text) if i % 2 == 0 else Message.assistant("ok")
        for i, text in enumerate(FILLER * 2)
    ]
    history.append(Message.user("final question about subject number 3"))
    selected = await memory.select(history)
    assert selected == await TokenMemory(max_tokens=120).select(history)
    assert "vector memory recall failed" in caplog.text


async def test_messages_are_embedded_once() -> None:
    class Counting(HashingEmbedder):
        embedded = 0

        async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
            Counting.embedded += len(texts)
            return await super().embed_documents(texts)

    store = MemoryVectorStore()
    memory = VectorMemory(store, Counting(64), max_tokens=100, storage=MemoryStore())
    history = [
        Message.user("one"),
        Message.assistant("two"),
        Message.tool_result("c", "tool output"),
    ]
    await memory.save("s", history)
    assert Counting.embedded == 2 and await store.count() == 2
    await memory.save("s", history)
    other = VectorMemory(store, Counting(64), max_tokens=100)
    await other.save("s", history)
    assert Counting.embedded == 2, (
        "known messages are never embedded again, even by another instance"
    )


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigurationError):
        VectorMemory(MemoryVectorStore(), HashingEmbedder(8), max_tokens=100, recall_tokens=100)
    with pytest.raises(ConfigurationError):
        VectorMemory(MemoryVectorStore(), HashingEmbedder(8), top_k=0)
