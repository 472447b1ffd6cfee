"""SummaryTokenMemory: older turns summarised by the model, once per content, under concurrency."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import anyio
import pytest

from gecko import SummaryTokenMemory
from gecko.core.errors import ConfigurationError
from gecko.core.memory.summary import SUMMARY_PREFIX
from gecko.core.message import Message, Role, ToolCall
from gecko.core.models.scripted import ModelCall, ScriptedModel
from gecko.core.storage.memory import MemoryStore
from gecko.core.testing import wait_until

pytestmark = pytest.mark.anyio


class WordModel(ScriptedModel):
    """The scripted model with exact counting: one token per word, plus one per message."""

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return sum(len(m.text.split()) + 1 + len(m.tool_calls or ()) for m in messages)


def conversation(turns: int, *, start: int = 0) -> list[Message]:
    messages: list[Message] = []
    for turn in range(start, start + turns):
        messages.append(Message.user(f"question {turn} about the weather in city{turn}"))
        messages.append(Message.assistant(f"answer {turn} sunny"))
    return messages


def summary_of(result: list[Message]) -> Message | None:
    found = [m for m in result if m.role is Role.SYSTEM and m.text.startswith(SUMMARY_PREFIX)]
    assert len(found) <= 1
    return found[0] if found else None


def prompt_of(call: ModelCall) -> str:
    return call.messages[-1].text


async def test_no_summary_while_everything_fits() -> None:
    model = WordModel([])
    memory = SummaryTokenMemory(1000, model=model)
    history = [Message.system("be nice"), *conversation(3)]
    assert await memory.select(history) == history
    assert model.calls == []


async def test_older_turns_are_summarised_into_one_system_message() -> None:
    model = WordModel(["The user asked about the weather in several cities; all sunny."])
    memory = SummaryTokenMemory(60, model=model, summary_tokens=20, chunk_tokens=1000)
    system = Message.system("You are a weather bot.")
    history = [system, *conversation(10)]
    result = await memory.select(history)

    assert len(model.calls) == 1
    assert result[0] == system
    summary = summary_of(result)
    assert summary is not None and result[1] is summary
    assert summary.text.endswith("all sunny.")
    kept = result[2:]
    assert kept == history[len(history) - len(kept) :]  # the newest messages, verbatim
    assert memory.count_messages(result) <= 60
    # the summariser saw exactly the messages that are not kept
    prompt = prompt_of(model.calls[0])
    summarised = history[1 : len(history) - len(kept)]
    assert summarised
    for message in summarised:
        assert message.text in prompt
    for message in kept:
        assert message.text not in prompt


async def test_one_summarisation_for_100_concurrent_callers() -> None:
    release = anyio.Event()

    async def slow_summary(call: ModelCall) -> str:
        await release.wait()
        return "Cities discussed: all sunny."

    model = WordModel(slow_summary)
    memory = SummaryTokenMemory(60, model=model, summary_tokens=20, chunk_tokens=1000)
    history = [Message.system("You are a weather bot."), *conversation(10)]
    results: list[list[Message]] = []
    started = 0

    async def caller() -> None:
        nonlocal started
        started += 1
        results.append(await memory.select(history))

    async with anyio.create_task_group() as group:
        for _ in range(100):
            group.start_soon(caller)
        await wait_until(lambda: started == 100, message="all callers started")
        await wait_until(lambda: len(model.calls) >= 1, message="the summarisation started")
        release.set()

    assert len(model.calls) == 1
    assert len(results) == 100
    assert all(result == results[0] for result in results)
    summary = summary_of(results[0])
    assert summary is not None and "all sunny" in summary.text
    assert memory.summary_calls == 1


async def test_a_summary_is_reused_while_it_still_fits_then_extended_incrementally() -> None:
    model = WordModel(["FIRST-SUMMARY of early turns.", "SECOND-SUMMARY extended."])
    memory = SummaryTokenMemory(80, model=model, summary_tokens=30, chunk_tokens=1000)
    history = [Message.system("weather bot"), *conversation(10)]
    first = await memory.select(history)
    assert len(model.calls) == 1

    # one more short exchange fits in the slack: the summary is reused, no new call
    grown = [*history, Message.user("thanks"), Message.assistant("welcome")]
    second = await memory.select(grown)
    assert len(model.calls) == 1
    assert summary_of(second) == summary_of(first)
    assert second[-2:] == grown[-2:]

    # many more turns: a new summary folds the new turns into the previous one
    longer = [*grown, *conversation(8, start=100)]
    third = await memory.select(longer)
    assert len(model.calls) == 2
    third_summary = summary_of(third)
    assert third_summary is not None and "SECOND-SUMMARY" in third_summary.text
    prompt = prompt_of(model.calls[1])
    assert "FIRST-SUMMARY" in prompt  # incremental: built on the previous summary
    assert "question 0 about" not in prompt  # ... not on the turns it already covers
    assert "question 100 about" in prompt


async def test_long_histories_are_summarised_in_chunks() -> None:
    model = WordModel(lambda call: f"summary-{len(model.calls)}")
    memory = SummaryTokenMemory(40, model=model, summary_tokens=10)
    history = conversation(30)  # far more than one chunk of 40 tokens
    result = await memory.select(history)
    assert len(model.calls) > 2
    for index, call in enumerate(model.calls[1:], start=1):
        assert f"summary-{index}" in prompt_of(call)  # each chunk folds into the previous summary
    summary = summary_of(result)
    assert summary is not None and summary.text.endswith(f"summary-{len(model.calls)}")
    # every summarised message went to the model exactly once
    transcripts = "\n".join(prompt_of(call) for call in model.calls)
    kept = [m for m in result if m is not summary]
    for message in history[: len(history) - len(kept)]:
        assert transcripts.count(message.text) == 1


async def test_tool_call_groups_stay_whole_across_the_summary_boundary() -> None:
    model = WordModel(lambda call: "tools were used")
    for budget in range(30, 60, 3):
        memory = SummaryTokenMemory(budget, model=model, summary_tokens=10)
        history: list[Message] = []
        for turn in range(6):
            call = ToolCall(id=f"c{turn}", name="weather", arguments={"city": f"c{turn}"})
            history += [
                Message.user(f"weather in city {turn} please"),
                Message.assistant(tool_calls=[call]),
                Message.tool_result(f"c{turn}", f"city {turn} is sunny and warm"),
                Message.assistant(f"city {turn} is sunny"),
            ]
        result = await memory.select(history)
        verbatim = [m for m in result if m.role is not Role.SYSTEM]
        assert verbatim[0].role is not Role.TOOL, budget
        for index, message in enumerate(verbatim):
            if message.tool_calls:
                assert verbatim[index + 1].tool_call_id == message.tool_calls[0].id


async def test_a_failed_summary_falls_back_to_the_plain_window_and_is_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    model = WordModel([RuntimeError("model is down"), "recovered summary"])
    memory = SummaryTokenMemory(60, model=model, summary_tokens=20, chunk_tokens=1000)
    history = [Message.system("bot"), *conversation(10)]
    with caplog.at_level(logging.WARNING, logger="gecko.core.memory"):
        fallback = await memory.select(history)
    assert "model is down" in caplog.text
    assert summary_of(fallback) is None
    assert fallback[0] == history[0]
    assert memory.count_messages(fallback) <= 60
    retried = await memory.select(history)
    assert len(model.calls) == 2
    summary = summary_of(retried)
    assert summary is not None and "recovered summary" in summary.text


async def test_when_the_summarising_caller_is_cancelled_a_waiter_takes_over() -> None:
    first_call_started = anyio.Event()

    async def reply(call: ModelCall) -> str:
        if len(model.calls) == 1:
            first_call_started.set()
            await anyio.sleep_forever()
        return "taken over"

    model = WordModel(reply)
    memory = SummaryTokenMemory(60, model=model, summary_tokens=20, chunk_tokens=1000)
    history = [Message.system("bot"), *conversation(10)]
    results: list[list[Message]] = []

    async def waiter() -> None:
        results.append(await memory.select(history))

    leader_scope = anyio.CancelScope()
    waiting = 0

    async def leader() -> None:
        with leader_scope:
            await memory.select(history)

    async def counted_waiter() -> None:
        nonlocal waiting
        waiting += 1
        await waiter()

    async with anyio.create_task_group() as group:
        group.start_soon(leader)
        await first_call_started.wait()
        for _ in range(3):
            group.start_soon(counted_waiter)
        # select() reaches the in-flight summary without awaiting anything else
        await wait_until(lambda: waiting == 3)
        leader_scope.cancel()

    assert len(model.calls) == 2
    assert len(results) == 3
    for result in results:
        summary = summary_of(result)
        assert summary is not None and "taken over" in summary.text


async def test_summaries_persist_in_the_store_and_are_reused_after_a_restart(
    memory_store: MemoryStore,
) -> None:
    history = [Message.system("bot"), *conversation(10)]
    first_model = WordModel(["persisted summary"])
    first = await SummaryTokenMemory(
        60, model=first_model, storage=memory_store, summary_tokens=20, chunk_tokens=1000
    ).select(history)
    assert len(first_model.calls) == 1
    assert len(await memory_store.keys("gecko:summary:")) == 1

    restarted_model = WordModel([])  # any call would raise ScriptExhaustedError
    restarted = SummaryTokenMemory(
        60, model=restarted_model, storage=memory_store, summary_tokens=20, chunk_tokens=1000
    )
    assert await restarted.select(history) == first
    assert restarted_model.calls == []


async def test_summaries_are_not_persisted_when_disabled(memory_store: MemoryStore) -> None:
    model = WordModel(["not stored"])
    memory = SummaryTokenMemory(
        60, model=model, storage=memory_store, summary_tokens=20, persist_summaries=False
    )
    await memory.select([Message.system("bot"), *conversation(10)])
    assert await memory_store.keys("gecko:summary:") == []


async def test_a_custom_summary_prompt_is_used() -> None:
    model = WordModel(["custom"])
    memory = SummaryTokenMemory(
        60, model=model, summary_tokens=20, summary_prompt="Summarise tersely:\n{transcript}"
    )
    await memory.select(conversation(10))
    assert prompt_of(model.calls[0]).startswith("Summarise tersely:\nUser: question 0")


def test_invalid_configuration_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="needs a chat model"):
        SummaryTokenMemory(100, model=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="summary_tokens"):
        SummaryTokenMemory(100, model=WordModel(), summary_tokens=100)
    with pytest.raises(ConfigurationError, match=r"\{transcript\}"):
        SummaryTokenMemory(100, model=WordModel(), summary_prompt="no placeholder")


async def test_usage_of_summarisation_calls_is_tracked() -> None:
    model = WordModel(["a summary"])
    memory = SummaryTokenMemory(60, model=model, summary_tokens=20, chunk_tokens=1000)
    await memory.select(conversation(10))
    assert memory.usage.prompt_tokens > 0
    assert memory.usage.completion_tokens > 0
