"""FallbackModel: chains of chat models tried in order, driven by scripted models' failures."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import anyio
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gecko import Agent, AgentBuilder
from gecko.core.engine import ReActEngine
from gecko.core.errors import (
    AllModelsFailedError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ModelConnectionError,
    ModelError,
    ModelServerError,
    ModelTimeoutError,
    NotRegisteredError,
    RateLimitError,
)
from gecko.core.message import Message, ToolCall
from gecko.core.models.fallback import DEFAULT_FALLBACK_ON, FallbackModel
from gecko.core.models.scripted import ModelCall, ScriptedModel
from gecko.core.output import ModelChunk, ModelResponse
from gecko.core.plugins import hookimpl
from gecko.core.telemetry import use_tracer_provider

pytestmark = pytest.mark.anyio

HI = [Message.user("hi")]
SAME = ScriptedModel(name="same")


def limited(name: str) -> RateLimitError:
    return RateLimitError(f"{name} is rate limiting requests (HTTP 429)", model=name, status=429)


def down(name: str) -> ScriptedModel:
    """A model rate limited on every call."""
    return ScriptedModel(lambda call: limited(name), name=name)


async def hang(call: ModelCall) -> str:
    """A script reply that never comes (until cancelled)."""
    await anyio.Event().wait()
    raise AssertionError("unreachable")


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    use_tracer_provider(provider)
    try:
        yield exporter
    finally:
        use_tracer_provider(None)
        provider.shutdown()


# --- falling back ---------------------------------------------------------------------------


async def test_falls_back_on_rate_limit_and_answers_with_the_next_model() -> None:
    first = ScriptedModel([limited("openai/gpt-4o")], name="openai/gpt-4o")
    second = ScriptedModel(["from the backup"], name="anthropic/claude-haiku-4-5")
    chain = FallbackModel([first, second])
    response = await chain.acompletion(HI, temperature=0)
    assert response.text == "from the backup"
    assert response.model == "anthropic/claude-haiku-4-5"
    assert len(first.calls) == 1 and len(second.calls) == 1
    # Each model gets the same request.
    assert second.calls[0].messages == HI and second.calls[0].options == {"temperature": 0}
    assert chain.name == "openai/gpt-4o"
    assert chain.models == ["openai/gpt-4o", "anthropic/claude-haiku-4-5"]


async def test_the_first_model_answering_ends_the_chain() -> None:
    first = ScriptedModel(["primary"], name="a")
    second = ScriptedModel([], name="b")
    assert (await FallbackModel([first, second]).acompletion(HI)).text == "primary"
    assert second.calls == []


@pytest.mark.parametrize(
    "error",
    [
        ModelServerError("HTTP 503", status=503),
        ModelConnectionError("cannot reach the server"),
        ModelTimeoutError("no answer within 30 s"),
        limited("a"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_default_fallback_errors(error: ModelError) -> None:
    assert isinstance(error, DEFAULT_FALLBACK_ON)
    chain = FallbackModel([ScriptedModel([error], name="a"), ScriptedModel(["ok"], name="b")])
    assert (await chain.acompletion(HI)).text == "ok"


@pytest.mark.parametrize(
    "error",
    [BadRequestError("HTTP 400: bad schema"), AuthenticationError("HTTP 401"), ValueError("bug")],
    ids=lambda e: type(e).__name__,
)
async def test_other_errors_are_raised_as_is_without_trying_the_next_model(
    error: Exception,
) -> None:
    second = ScriptedModel(["never"], name="b")
    chain = FallbackModel([ScriptedModel([error], name="a"), second])
    with pytest.raises(type(error)) as caught:
        await chain.acompletion(HI)
    assert caught.value is error
    assert second.calls == []


async def test_an_error_ending_the_chain_later_names_the_models_that_failed_before() -> None:
    chain = FallbackModel(
        [
            ScriptedModel([limited("a")], name="a"),
            ScriptedModel([BadRequestError("context window exceeded")], name="b"),
            ScriptedModel(["never"], name="c"),
        ]
    )
    with pytest.raises(BadRequestError) as caught:
        await chain.acompletion(HI)
    assert "after falling back from a: RateLimitError" in str(caught.value)
    assert caught.value.context["fallback_failures"] == [
        {
            "model": "a",
            "error": "RateLimitError",
            "message": "a is rate limiting requests (HTTP 429)",
        }
    ]


async def test_custom_fallback_on() -> None:
    chain = FallbackModel(
        [ScriptedModel([limited("a")], name="a"), ScriptedModel(["ok"], name="b")],
        fallback_on=ModelServerError,
    )
    assert chain.fallback_on == (ModelServerError,)
    with pytest.raises(RateLimitError):
        await chain.acompletion(HI)
    chain = FallbackModel(
        [
            ScriptedModel([AuthenticationError("bad key")], name="a"),
            ScriptedModel(["ok"], name="b"),
        ],
        fallback_on=(AuthenticationError, RateLimitError),
    )
    assert (await chain.acompletion(HI)).text == "ok"


async def test_when_every_model_fails_the_error_names_each_model_and_its_error() -> None:
    errors = [
        RateLimitError("openai/gpt-4o is rate limiting (HTTP 429)", status=429, retry_after=20),
        ModelServerError("anthropic/claude-haiku-4-5 failed (HTTP 529)", status=529),
    ]
    chain = FallbackModel(
        [
            ScriptedModel([errors[0]], name="openai/gpt-4o"),
            ScriptedModel([errors[1]], name="anthropic/claude-haiku-4-5"),
        ]
    )
    with pytest.raises(AllModelsFailedError) as caught:
        await chain.acompletion(HI)
    error = caught.value
    assert isinstance(error, ModelError)
    text = str(error)
    assert "every model of the fallback chain failed" in text
    assert "1. openai/gpt-4o: RateLimitError: openai/gpt-4o is rate limiting (HTTP 429)" in text
    assert "2. anthropic/claude-haiku-4-5: ModelServerError" in text
    assert error.models == ["openai/gpt-4o", "anthropic/claude-haiku-4-5"]
    assert error.errors == errors
    assert error.failures == list(zip(error.models, errors))
    assert error.__cause__ is errors[1]
    assert error.status == 529
    assert error.context["failures"] == [  # the same, as JSON (logs, stored run records)
        {"model": "openai/gpt-4o", "error": "RateLimitError", "message": str(errors[0])},
        {
            "model": "anthropic/claude-haiku-4-5",
            "error": "ModelServerError",
            "message": str(errors[1]),
        },
    ]
    json.dumps(error.context)
    # Rebuilt from its __reduce__ (what crossing a process boundary uses), failures included.
    rebuilt = copy.copy(error)
    assert type(rebuilt) is AllModelsFailedError and rebuilt.models == error.models
    assert [type(e) for e in rebuilt.errors] == [RateLimitError, ModelServerError]
    assert rebuilt.status == 529 and str(rebuilt) == str(error)
    assert "retry_after" not in error.context  # the 529 gave no hint: retrying now is fine


async def test_exhausted_rate_limits_keep_the_soonest_retry_after() -> None:
    chain = FallbackModel(
        [
            ScriptedModel([RateLimitError("a", retry_after=20)], name="a"),
            ScriptedModel([RateLimitError("b", retry_after=5)], name="b"),
        ]
    )
    with pytest.raises(AllModelsFailedError) as caught:
        await chain.acompletion(HI)
    assert caught.value.context["retry_after"] == 5


# --- model ids, lazily -----------------------------------------------------------------------


class CountingModels:
    """A model provider ``flaky/...`` recording the models it creates."""

    def __init__(self) -> None:
        self.created: list[tuple[str, dict[str, Any]]] = []

    @hookimpl
    def register_models(self, register: Any) -> None:
        def factory(model_id: str, **options: Any) -> ScriptedModel:
            self.created.append((model_id, dict(options)))
            if model_id.endswith("down"):  # every call is rate limited
                return ScriptedModel(lambda call: limited(model_id), name=model_id)
            return ScriptedModel(name=model_id)

        register("flaky", factory)


async def test_model_ids_are_created_on_first_use_with_the_options(gecko_plugin: Any) -> None:
    provider = CountingModels()
    gecko_plugin(provider, name="gecko-flaky-models")
    chain = FallbackModel(["flaky/down", "flaky/up", "flaky/spare"], options={"delay": 0.0})
    assert provider.created == []  # nothing built yet
    response = await chain.acompletion(HI)
    assert response.model == "flaky/up"
    assert provider.created == [("flaky/down", {"delay": 0.0}), ("flaky/up", {"delay": 0.0})]
    await chain.acompletion(HI)  # created once, reused
    assert [model for model, _ in provider.created] == ["flaky/down", "flaky/up"]


def test_an_unknown_provider_fails_when_the_chain_is_built() -> None:
    with pytest.raises(NotRegisteredError, match="nosuchprovider"):
        FallbackModel(["test", "nosuchprovider/model-x"])


def test_two_models_may_share_a_name() -> None:
    chain = FallbackModel([ScriptedModel(), ScriptedModel()])
    assert chain.models == ["test", "test"]


@pytest.mark.parametrize(
    ("models", "options", "match"),
    [
        ([], {}, "at least one model"),
        ("test", {}, "takes a list of models"),
        (["test", 42], {}, "fallback model 2 must be a ChatModel or a model id"),
        (["test/a", "test/a"], {}, "'test/a' more than once"),
        ([SAME, SAME], {}, "'same' more than once"),
        ([ScriptedModel(name="a")], {"temperature": 0}, "model options are for model ids"),
    ],
)
def test_bad_chains_are_refused(models: Any, options: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        FallbackModel(models, options=options)


@pytest.mark.parametrize("fallback_on", [(), (KeyboardInterrupt,), ("RateLimitError",), 3])
def test_bad_fallback_on_is_refused(fallback_on: Any) -> None:
    with pytest.raises(ConfigurationError, match="fallback_on must be an Exception subclass"):
        FallbackModel(["test"], fallback_on=fallback_on)


def test_bad_timeout_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        FallbackModel(["test"], timeout=0)


# --- timeouts ------------------------------------------------------------------------------


async def test_timeout_bounds_each_model_and_a_hung_model_falls_back() -> None:
    hung = ScriptedModel([hang], name="a")
    chain = FallbackModel([hung, ScriptedModel(["ok"], name="b")], timeout=0.05)
    assert (await chain.acompletion(HI)).text == "ok"
    chain = FallbackModel([ScriptedModel([hang], name="a")], timeout=0.05)
    with pytest.raises(AllModelsFailedError) as caught:
        await chain.acompletion(HI)
    [error] = caught.value.errors
    assert isinstance(error, ModelTimeoutError)
    assert "model 'a' did not answer within 0.05 s" in str(error)


async def test_in_an_agent_the_engine_model_timeout_applies_per_model() -> None:
    chain = FallbackModel([ScriptedModel([hang], name="a"), ScriptedModel(["ok"], name="b")])
    agent = Agent(chain, engine_options={"model_timeout": 0.05})
    assert (await agent.run("hi")).content == "ok"


# --- streaming -----------------------------------------------------------------------------


class BreakingStream:
    """Streams one chunk, then fails with ``error``."""

    name = "breaking"
    supports_tools = True

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def acompletion(self, messages: Sequence[Message], **kwargs: Any) -> ModelResponse:
        raise AssertionError("the stream is used")

    async def astream(
        self, messages: Sequence[Message], **kwargs: Any
    ) -> AsyncIterator[ModelChunk]:
        yield ModelChunk(text="Partial ans")
        raise self.error


async def test_stream_falls_back_before_the_first_chunk() -> None:
    second = ScriptedModel(["streamed by the backup"], name="b", stream_chunk_chars=5)
    chain = FallbackModel([ScriptedModel([limited("a")], name="a"), second])
    chunks = [chunk async for chunk in chain.astream(HI)]
    assert "".join(chunk.text for chunk in chunks) == "streamed by the backup"
    assert len(chunks) > 2
    assert chunks[-1].response is not None and chunks[-1].response.model == "b"


async def test_stream_failing_after_its_first_chunk_does_not_fall_back() -> None:
    error = limited("breaking")
    second = ScriptedModel(["never"], name="b")
    chain = FallbackModel([BreakingStream(error), second])
    seen: list[str] = []
    with pytest.raises(RateLimitError) as caught:
        async for chunk in chain.astream(HI):
            seen.append(chunk.text)
    assert caught.value is error
    assert seen == ["Partial ans"]
    assert second.calls == []


async def test_a_model_without_astream_takes_part_in_a_stream() -> None:
    class Plain:
        name = "plain"
        supports_tools = False

        async def acompletion(self, messages: Sequence[Message], **kwargs: Any) -> ModelResponse:
            return ModelResponse(message=Message.assistant("plain answer"), model="plain")

    chain = FallbackModel([ScriptedModel([limited("a")], name="a"), Plain()])
    chunks = [chunk async for chunk in chain.astream(HI)]
    assert [chunk.text for chunk in chunks] == ["plain answer", ""]
    assert chunks[-1].response is not None


async def test_agent_stream_through_a_chain() -> None:
    chain = FallbackModel(
        [ScriptedModel([limited("a")], name="a"), ScriptedModel(["hey"], name="b")]
    )
    stream = Agent(chain).stream("hi")
    assert "".join([text async for text in stream]) == "hey"
    assert stream.output is not None and stream.output.content == "hey"


# --- tools, tokens, capabilities -------------------------------------------------------------


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


async def test_models_that_cannot_call_tools_are_skipped_for_tool_requests() -> None:
    no_tools = ScriptedModel(["never"], name="b", supports_tools=False)
    third = ScriptedModel([ToolCall(name="add", arguments={"a": 1, "b": 2}), "3"], name="c")
    chain = FallbackModel([down("a"), no_tools, third])
    agent = Agent(chain, tools=[add])
    output = await agent.run("1 + 2?")
    assert output.content == "3"
    assert no_tools.calls == []
    # Without tools in the request the same model is fine.
    plain = FallbackModel([down("a"), no_tools])
    assert (await plain.acompletion(HI)).text == "never"


async def test_every_model_skipped_or_failed() -> None:
    chain = FallbackModel(
        [ScriptedModel([limited("a")], name="a"), ScriptedModel(name="b", supports_tools=False)]
    )
    tools = [{"type": "function", "function": {"name": "add", "parameters": {}}}]
    with pytest.raises(AllModelsFailedError, match="b: ConfigurationError: b does not support"):
        await chain.acompletion(HI, tools=tools)


def test_capabilities_are_the_first_models() -> None:
    first = ScriptedModel(name="a", supports_tools=False)
    chain = FallbackModel([first, ScriptedModel(name="b")])
    assert chain.supports_tools is False
    assert chain.count_tokens(HI) == first.count_tokens(HI)


# --- builder and Agent -----------------------------------------------------------------------


async def test_builder_with_a_list_of_model_ids_and_fallback_on() -> None:
    agent = (
        AgentBuilder()
        .with_model(["test/primary", "test/backup"], fallback_on=(RateLimitError,))
        .build()
    )
    assert isinstance(agent.model, FallbackModel)
    assert agent.model.models == ["test/primary", "test/backup"]
    assert agent.model.fallback_on == (RateLimitError,)
    output = await agent.run("hello")
    assert output.content == "[test model] reply to: hello"
    assert isinstance(agent.engine, ReActEngine) and agent.engine.model_name == "test/primary"


async def test_builder_list_options_go_to_every_model_id() -> None:
    script = [limited("test/primary"), "answer"]
    agent = AgentBuilder().with_model(["test/primary", "test/backup"], script=script).build()
    # Each model gets its own copy of the script: the backup answers with its first reply.
    with pytest.raises(AllModelsFailedError):
        await agent.run("hi")
    agent = AgentBuilder().with_model(["test/primary", ScriptedModel(["b"], name="b")]).build()
    assert (await agent.run("hi")).content.startswith("[test model]")


def test_builder_refuses_fallback_on_for_a_single_model() -> None:
    with pytest.raises(ConfigurationError, match="fallback_on needs a list of models"):
        AgentBuilder().with_model("test", fallback_on=(RateLimitError,))


async def test_agent_takes_a_list_of_models() -> None:
    agent = Agent([ScriptedModel([limited("a")], name="a"), "test/backup"])
    assert isinstance(agent.model, FallbackModel)
    assert (await agent.run("yo")).content == "[test model] reply to: yo"


# --- observability -----------------------------------------------------------------------------


async def test_each_fallback_is_logged_at_warning(caplog: pytest.LogCaptureFixture) -> None:
    chain = FallbackModel(
        [
            ScriptedModel([limited("openai/gpt-4o")], name="openai/gpt-4o"),
            ScriptedModel([ModelServerError("HTTP 503")], name="mistral/small"),
            ScriptedModel(["ok"], name="anthropic/claude-haiku-4-5"),
        ]
    )
    with caplog.at_level(logging.WARNING, logger="gecko.core.models.fallback"):
        await chain.acompletion(HI)
    messages = [r.getMessage() for r in caplog.records if r.name == "gecko.core.models.fallback"]
    assert messages == [
        "model 'openai/gpt-4o' failed (RateLimitError: openai/gpt-4o is rate limiting requests "
        "(HTTP 429)); falling back to 'mistral/small'",
        "model 'mistral/small' failed (ModelServerError: HTTP 503); "
        "falling back to 'anthropic/claude-haiku-4-5'",
    ]
    assert all(r.levelno == logging.WARNING for r in caplog.records)


async def test_the_model_span_names_the_model_used_and_each_fallback(
    spans: InMemorySpanExporter,
) -> None:
    chain = FallbackModel(
        [
            ScriptedModel([limited("openai/gpt-4o")], name="openai/gpt-4o"),
            ScriptedModel(["ok"], name="anthropic/claude-haiku-4-5"),
        ]
    )
    await Agent(chain).run("hi")
    [span] = [s for s in spans.get_finished_spans() if s.name == "chat gpt-4o"]
    attributes = dict(span.attributes or {})
    assert attributes["gecko.model.used"] == "anthropic/claude-haiku-4-5"
    assert attributes["gecko.model.attempts"] == 2
    assert attributes["gen_ai.response.model"] == "anthropic/claude-haiku-4-5"
    [agent] = [s for s in spans.get_finished_spans() if s.name == "invoke_agent agent"]
    assert "gen_ai.request.model" not in (agent.attributes or {})  # several models: none named
    [event] = span.events
    assert event.name == "gecko.model.fallback"
    assert dict(event.attributes or {}) == {
        "gecko.model.failed": "openai/gpt-4o",
        "error.type": "gecko.core.errors.RateLimitError",
        "gecko.model.next": "anthropic/claude-haiku-4-5",
    }
