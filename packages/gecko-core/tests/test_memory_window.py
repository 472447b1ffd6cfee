"""TokenMemory: the window of messages that fits the budget, and token counting."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from typing import Any

import pytest

from gecko import TokenMemory
from gecko.core.errors import ConfigurationError
from gecko.core.message import Message, Role, ToolCall
from gecko.core.models.tokens import estimate_message_tokens
from gecko.core.output import ModelResponse

pytestmark = pytest.mark.anyio


class WordCountModel:
    """A chat model that counts tokens exactly: one per word, plus one per message."""

    name = "words"
    supports_tools = True

    def __init__(self) -> None:
        self.count_calls = 0

    async def acompletion(self, messages: Sequence[Message], **options: Any) -> ModelResponse:
        raise AssertionError("not used")

    def count_tokens(self, messages: Sequence[Message]) -> int:
        self.count_calls += 1
        total = 0
        for message in messages:
            total += len(message.text.split()) + 1
            total += sum(1 for _ in message.tool_calls or ())
        return total


class PlainModel:
    """A chat model without count_tokens: memory falls back to the estimate."""

    name = "plain"
    supports_tools = False

    async def acompletion(self, messages: Sequence[Message], **options: Any) -> ModelResponse:
        raise AssertionError("not used")


def words(count: int, tag: str) -> str:
    return " ".join(f"{tag}{index}" for index in range(count))


def tool_group(call_ids: Sequence[str]) -> list[Message]:
    calls = [ToolCall(id=call_id, name="lookup", arguments={"q": call_id}) for call_id in call_ids]
    return [Message.assistant(tool_calls=calls)] + [
        Message.tool_result(call_id, f"result of {call_id}", name="lookup") for call_id in call_ids
    ]


# --- the window ---------------------------------------------------------------------------


async def test_everything_is_kept_when_it_fits() -> None:
    memory = TokenMemory(100, model=WordCountModel())
    history = [Message.system("be brief"), Message.user("hi there"), Message.assistant("hello")]
    assert await memory.select(history) == history


async def test_newest_messages_that_fit_are_kept_with_the_system_message() -> None:
    memory = TokenMemory(12, model=WordCountModel())
    system = Message.system("be brief")  # 3 tokens
    u1, a1 = Message.user("a b c"), Message.assistant("d e f")  # 4, 4
    u2, a2 = Message.user("g h"), Message.assistant("i")  # 3, 2
    u3 = Message.user("j k l m")  # 5
    history = [system, u1, a1, u2, a2, u3]
    assert await memory.select(history) == [system, a2, u3]  # 3 + 2 + 5 = 10; + u2 would be 13
    memory13 = TokenMemory(13, model=WordCountModel())
    assert await memory13.select(history) == [system, u2, a2, u3]


async def test_system_messages_are_always_kept_in_place() -> None:
    memory = TokenMemory(14, model=WordCountModel())
    first = Message.system("rules one")  # 3
    old = Message.user(words(20, "old"))  # 21: dropped
    middle = Message.system("rules two")  # 3
    recent = Message.user("what now")  # 3
    answer = Message.assistant("this")  # 2
    result = await memory.select([first, old, middle, recent, answer])
    assert result == [first, middle, recent, answer]


async def test_a_tool_call_is_never_separated_from_its_results() -> None:
    model = WordCountModel()
    group = tool_group(["c1", "c2"])  # assistant: 1 + 2 calls = 3; results: 4 each
    history = [
        Message.system("sys"),  # 2
        Message.user("find both"),  # 3
        *group,  # 11
        Message.assistant("both found"),  # 3
        Message.user("thanks"),  # 2
    ]
    # A budget that would cut inside the group drops the whole group instead.
    for budget in range(2 + 3 + 2, 2 + 3 + 2 + 11):
        result = await TokenMemory(budget, model=model).select(history)
        assert not any(m.role is Role.TOOL for m in result), budget
        assert all(not m.tool_calls for m in result), budget
    whole = await TokenMemory(2 + 11 + 3 + 2, model=model).select(history)
    assert whole == [history[0], *group, history[-2], history[-1]]


@pytest.mark.parametrize("seed", range(12))
async def test_window_invariants_on_random_conversations(seed: int) -> None:
    rng = random.Random(seed)
    model = WordCountModel()
    history: list[Message] = [Message.system(words(rng.randint(1, 6), "s"))]
    for turn in range(rng.randint(3, 15)):
        history.append(Message.user(words(rng.randint(1, 12), f"u{turn}_")))
        if rng.random() < 0.4:
            history.extend(tool_group([f"t{turn}_{i}" for i in range(rng.randint(1, 3))]))
        if rng.random() < 0.15:
            history.append(Message.system(words(2, f"mid{turn}_")))
        history.append(Message.assistant(words(rng.randint(1, 12), f"a{turn}_")))
    total = sum(model.count_tokens([m]) for m in history)
    for budget in range(1, total + 2):
        memory = TokenMemory(budget, model=model)
        result = await memory.select(history)
        # every system message is kept; the rest is a contiguous newest run
        assert [m for m in history if m.role is Role.SYSTEM] == [
            m for m in result if m.role is Role.SYSTEM
        ]
        rest = [m for m in result if m.role is not Role.SYSTEM]
        non_system = [m for m in history if m.role is not Role.SYSTEM]
        assert rest == non_system[len(non_system) - len(rest) :]
        assert rest, "the newest message is always kept"
        # tool results always come with their call, and calls with all their results
        for index, message in enumerate(result):
            if message.role is Role.TOOL:
                previous = result[index - 1]
                assert previous.role is Role.TOOL or previous.tool_calls
            if message.tool_calls:
                ids = [call.id for call in message.tool_calls]
                following = [m.tool_call_id for m in result[index + 1 : index + 1 + len(ids)]]
                assert following == ids
        used = memory.count_messages(result)
        if used > budget:  # only when the system messages and the newest message alone exceed it
            assert rest == [history[-1]]
        if budget > total:
            assert result == history


async def test_the_newest_message_is_kept_even_over_budget_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    memory = TokenMemory(5, model=WordCountModel())
    history = [Message.system("sys"), Message.user("old"), Message.user(words(30, "w"))]
    with caplog.at_level(logging.WARNING, logger="gecko.core.memory"):
        result = await memory.select(history)
    assert result == [history[0], history[2]]
    assert "above its budget of 5" in caplog.text


async def test_select_accepts_dicts_and_strings() -> None:
    memory = TokenMemory(100)
    result = await memory.select([{"role": "system", "content": "s"}, "hello"])  # type: ignore[list-item]
    assert [m.role for m in result] == [Role.SYSTEM, Role.USER]


def test_invalid_budgets_are_rejected() -> None:
    for bad in (0, -1, 1.5, True, "100"):
        with pytest.raises(ConfigurationError, match="max_tokens"):
            TokenMemory(bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="cache_size"):
        TokenMemory(100, cache_size=-1)


# --- counting -------------------------------------------------------------------------------


def test_counting_is_exact_when_the_model_counts_tokens() -> None:
    memory = TokenMemory(model=WordCountModel())
    assert memory.exact_counting
    assert memory.count_tokens(Message.user("one two three")) == 4


@pytest.mark.parametrize("model", [None, PlainModel()])
def test_counting_falls_back_to_the_documented_estimate(model: Any) -> None:
    memory = TokenMemory(model=model)
    assert not memory.exact_counting
    for message in [
        Message.user("The quick brown fox jumps over the lazy dog."),
        Message.user("你好，世界！今天天气怎么样？"),  # noqa: RUF001
        Message.assistant(tool_calls=[ToolCall(name="search", arguments={"q": "gecko"})]),
    ]:
        assert memory.count_tokens(message) == estimate_message_tokens([message])


def test_counts_are_cached_by_content_so_equal_messages_share_a_count() -> None:
    model = WordCountModel()
    memory = TokenMemory(model=model)
    assert memory.count_tokens(Message.user("same words here")) == 4
    assert memory.count_tokens(Message.user("same words here")) == 4  # a different object
    assert model.count_calls == 1
    info = memory.cache_info()
    assert (info.hits, info.misses, info.currsize) == (1, 1, 1)
    memory.count_tokens(Message.assistant("same words here"))  # another role: another message
    assert model.count_calls == 2


def test_the_cache_is_lru_and_bounded() -> None:
    model = WordCountModel()
    memory = TokenMemory(model=model, cache_size=2)
    a, b, c = Message.user("a"), Message.user("b"), Message.user("c")
    memory.count_tokens(a)
    memory.count_tokens(b)
    memory.count_tokens(a)  # a is now the most recently used
    memory.count_tokens(c)  # evicts b
    assert memory.cache_info().currsize == 2
    calls = model.count_calls
    memory.count_tokens(a)
    assert model.count_calls == calls
    memory.count_tokens(b)
    assert model.count_calls == calls + 1


def test_a_zero_cache_size_disables_caching() -> None:
    model = WordCountModel()
    memory = TokenMemory(model=model, cache_size=0)
    for _ in range(3):
        memory.count_tokens(Message.user("x"))
    assert model.count_calls == 3
    assert memory.cache_info().currsize == 0


async def test_select_reuses_cached_counts() -> None:
    model = WordCountModel()
    memory = TokenMemory(50, model=model)
    history = [Message.user(f"message {index}") for index in range(10)]
    await memory.select(history)
    calls = model.count_calls
    await memory.select([*history, Message.user("one more")])
    assert model.count_calls == calls + 1


def test_a_failing_exact_counter_falls_back_to_the_estimate_once_warned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class BrokenCounter(PlainModel):
        def count_tokens(self, messages: Sequence[Message]) -> int:
            raise LookupError("no tokenizer for this model")

    memory = TokenMemory(model=BrokenCounter())
    message = Message.user("hello world")
    with caplog.at_level(logging.WARNING, logger="gecko.core.memory"):
        assert memory.count_tokens(message) == estimate_message_tokens([message])
        memory.count_tokens(Message.user("another"))
    assert caplog.text.count("no tokenizer for this model") == 1
