"""TokenMemory persistence: the full history round-trips through a SessionStore as JSON."""

from __future__ import annotations

import json

import pytest

from gecko import TokenMemory
from gecko.core.errors import ConfigurationError, CorruptDataError, SchemaVersionError
from gecko.core.factories import create_storage
from gecko.core.message import ImageBlock, Message, TextBlock, ToolCall
from gecko.core.storage.memory import MemoryStore
from gecko.core.testing import wait_until

pytestmark = pytest.mark.anyio


def rich_history() -> list[Message]:
    call = ToolCall(id="call_1", name="lookup", arguments='{"query": "gecko", "limit": 3}')
    return [
        Message.system("You are helpful."),
        Message.user(
            [
                TextBlock(text="What is in this picture?"),
                ImageBlock.from_url("https://example.com/gecko.png", detail="low"),
            ],
            name="alice",
        ),
        Message.assistant("Let me check.", tool_calls=[call]),
        Message.tool_result("call_1", "a gecko on a wall", name="lookup"),
        Message.assistant("It is a gecko. 你好 🦎"),
    ]


async def test_history_round_trips_exactly_through_a_shared_memory_store() -> None:
    writer_store = await create_storage("memory://test-memory-roundtrip")
    reader_store = await create_storage("memory://test-memory-roundtrip")
    history = rich_history()
    await TokenMemory(storage=writer_store).save("session-1", history)
    loaded = await TokenMemory(storage=reader_store).load("session-1")
    assert loaded == history
    assert loaded is not history


async def test_long_messages_are_never_truncated(memory_store: MemoryStore) -> None:
    memory = TokenMemory(100, storage=memory_store)
    long_text = "".join(
        chr(0x4E00 + (index % 500)) if index % 7 else "x" for index in range(50_000)
    )
    tool_output = json.dumps({"rows": [{"id": index, "text": "y" * 40} for index in range(1_000)]})
    history = [
        Message.user(long_text),
        Message.assistant(tool_calls=[ToolCall(id="c", name="dump", arguments="{}")]),
        Message.tool_result("c", tool_output),
    ]
    await memory.save("long", history)
    loaded = await memory.load("long")
    assert loaded[0].text == long_text
    assert len(loaded[0].text) == 50_000
    assert loaded[2].text == tool_output
    # the window is a view for the model; the stored history stays complete
    window = await memory.select(loaded)
    assert len(window) < len(loaded)
    assert await memory.load("long") == history


async def test_the_stored_document_is_plain_versioned_json(memory_store: MemoryStore) -> None:
    memory = TokenMemory(storage=memory_store, key_prefix="app:history:")
    await memory.save("s1", [Message.user("hi"), Message.assistant("hello")])
    assert await memory_store.keys("app:history:") == ["app:history:s1"]
    document = await memory_store.get("app:history:s1")
    assert document == {
        "version": 1,
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
        ],
    }


async def test_append_and_clear(memory_store: MemoryStore) -> None:
    memory = TokenMemory(storage=memory_store)
    await memory.append("s", [Message.user("one")])
    history = await memory.append("s", [Message.assistant("two"), "three"])  # type: ignore[list-item]
    assert [m.text for m in history] == ["one", "two", "three"]
    assert [m.text for m in await memory.load("s")] == ["one", "two", "three"]
    assert await memory.clear("s") is True
    assert await memory.load("s") == []
    assert await memory.clear("s") is False


async def test_without_storage_nothing_is_persisted() -> None:
    memory = TokenMemory()
    await memory.save("s", [Message.user("hi")])
    assert await memory.load("s") == []
    assert await memory.clear("s") is False


async def test_sessions_are_kept_apart(memory_store: MemoryStore) -> None:
    memory = TokenMemory(storage=memory_store)
    await memory.save("a", [Message.user("for a")])
    await memory.save("b", [Message.user("for b")])
    assert [m.text for m in await memory.load("a")] == ["for a"]
    assert [m.text for m in await memory.load("b")] == ["for b"]


async def test_older_openai_style_histories_still_load(memory_store: MemoryStore) -> None:
    await memory_store.set(
        "gecko:history:legacy",
        [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "42"},
        ],
    )
    loaded = await TokenMemory(storage=memory_store).load("legacy")
    assert loaded[1].tool_calls == [ToolCall(id="c1", name="f", arguments="{}")]
    assert loaded[2].tool_call_id == "c1"


@pytest.mark.parametrize(
    "stored",
    [
        "just a string",
        {"messages": []},
        {"version": 1, "messages": "nope"},
        {"version": 1, "messages": [{"role": "wizard", "content": "x"}]},
    ],
)
async def test_corrupt_histories_raise_naming_the_key(
    memory_store: MemoryStore, stored: object
) -> None:
    await memory_store.set("gecko:history:bad", stored)
    with pytest.raises(CorruptDataError, match="gecko:history:bad"):
        await TokenMemory(storage=memory_store).load("bad")


async def test_a_newer_history_version_is_refused(memory_store: MemoryStore) -> None:
    await memory_store.set("gecko:history:future", {"version": 99, "messages": []})
    with pytest.raises(SchemaVersionError, match="version 99"):
        await TokenMemory(storage=memory_store).load("future")


async def test_invalid_session_ids_and_ttl_are_rejected(memory_store: MemoryStore) -> None:
    memory = TokenMemory(storage=memory_store)
    for bad in ("", None, 3):
        with pytest.raises(ConfigurationError, match="session_id"):
            await memory.load(bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="ttl"):
        TokenMemory(storage=memory_store, ttl=-5)


async def test_histories_expire_with_the_ttl(memory_store: MemoryStore) -> None:
    memory = TokenMemory(storage=memory_store, ttl=0.05)
    await memory.save("s", [Message.user("hi")])

    async def expired() -> bool:
        return await memory.load("s") == []

    await wait_until(expired, timeout=10, message="the history expired")
