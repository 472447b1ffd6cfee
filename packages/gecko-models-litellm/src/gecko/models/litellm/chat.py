"""``LiteLLMChatModel``: a Gecko ChatModel (streaming, token counting) for any litellm provider.

    model = create_model("openai/gpt-4o-mini", temperature=0)
    model = create_model("zhipu/glm-4-flash")                  # key from ZHIPUAI_API_KEY
    model = create_model("compatible/qwen2.5", base_url="http://localhost:8000/v1")

Each call goes through the shared rate limiter of its provider and model, then
litellm (with litellm's retries off), then Gecko's retry policy; failures are
Gecko ``ModelError`` subclasses.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import anyio

from gecko.core.message import Message
from gecko.core.models.tokens import estimate_message_tokens, estimate_tokens
from gecko.core.output import ModelChunk, ModelResponse, TokenUsage
from gecko.core.protocols import ToolChoice
from gecko.core.retry import RetryPolicy, retry_async
from gecko.models.litellm.base import (
    LiteLLMClient,
    check_options,
    check_timeout,
    tokens_after_failure,
)
from gecko.models.litellm.model_info import known_flag
from gecko.models.litellm.ratelimit import RateLimiter, Reservation
from gecko.models.litellm.runtime import litellm_module, load_litellm
from gecko.models.litellm.translate import StreamAssembler, to_model_response

logger = logging.getLogger(__name__)

# Tokenizers litellm downloads from the Hugging Face hub on first use; Gecko counts
# those models with litellm's bundled tiktoken encodings instead (never a download).
_BUNDLED_HF_TOKENIZERS = frozenset({"anthropic"})
_OPENAI_TOKENIZER = {"type": "openai_tokenizer", "tokenizer": None}


class LiteLLMChatModel(LiteLLMClient):
    """A chat model reached through litellm. ``model_id`` is ``provider/model``.

    Options: ``api_key`` (str or SecretStr), ``base_url``, ``timeout`` (seconds per
    attempt; default ``GECKO_MODEL_TIMEOUT``), ``retries`` (a ``RetryPolicy``, a
    number of retries or a dict of its fields; default ``model_retry_policy()``),
    ``temperature``, ``max_tokens``, ``supports_tools`` (override what
    litellm's model map says), ``requests_per_minute``/``tokens_per_minute`` or
    ``rate_limiter``; any other keyword (``top_p``, ``seed``, ``extra_headers``,
    ``reasoning_effort``...) is sent to litellm on every call.
    """

    def __init__(
        self,
        model_id: str,
        *,
        api_key: Any = None,
        base_url: str | None = None,
        api_base: str | None = None,
        timeout: float | None = None,
        retries: RetryPolicy | int | dict[str, Any] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        supports_tools: bool | None = None,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        rate_limiter: RateLimiter | None = None,
        **options: Any,
    ) -> None:
        if temperature is not None:
            options["temperature"] = temperature
        if max_tokens is not None:
            options["max_tokens"] = max_tokens
        super().__init__(
            model_id,
            api_key=api_key,
            base_url=base_url,
            api_base=api_base,
            timeout=timeout,
            retries=retries,
            requests_per_minute=requests_per_minute,
            tokens_per_minute=tokens_per_minute,
            rate_limiter=rate_limiter,
            options=options,
        )
        self._supports_tools = supports_tools
        self._stream_usage: bool | None = None
        self._token_model: tuple[str, dict[str, Any] | None] | None = None

    # --- capabilities ---------------------------------------------------------------

    @property
    def supports_tools(self) -> bool:
        """From the option, else litellm's model map; True when the map does not say."""
        if self._supports_tools is None:
            known = known_flag(self.target.litellm_model, "supports_function_calling")
            self._supports_tools = True if known is None else known
        return self._supports_tools

    async def warm_up(self) -> None:
        """Import litellm now, in a worker thread (otherwise the first call or count does)."""
        await load_litellm()

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Prompt tokens of ``messages`` by litellm's tokenizer for the model, offline."""
        litellm = litellm_module()
        model, tokenizer = self._tokenizer(litellm)
        return int(
            litellm.token_counter(
                model=model,
                messages=[message.to_openai_format() for message in messages],
                custom_tokenizer=tokenizer,
                use_default_image_token_count=True,  # never fetch an image URL to size it
            )
        )

    def _tokenizer(self, litellm: Any) -> tuple[str, dict[str, Any] | None]:
        if self._token_model is None:
            try:
                model = litellm.get_llm_provider(self.target.litellm_model)[0]
            except Exception:  # an unknown route counts with the default encoding
                model = self.model
            kind_of = getattr(litellm.utils, "huggingface_tokenizer_kind", None)
            kind = kind_of(model) if kind_of is not None else None
            tokenizer = (
                None if kind is None or kind in _BUNDLED_HF_TOKENIZERS else _OPENAI_TOKENIZER
            )
            if kind_of is None:
                tokenizer = _OPENAI_TOKENIZER
            self._token_model = (model, tokenizer)
        return self._token_model

    # --- ChatModel ----------------------------------------------------------------------

    async def acompletion(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        tool_choice: ToolChoice | None = None,
        response_format: dict[str, Any] | None = None,
        **options: Any,
    ) -> ModelResponse:
        litellm = await load_litellm()
        kwargs, secrets, timeout = self._request(
            messages, tools, tool_choice, response_format, options
        )
        estimate = self._estimate(messages, tools, kwargs)
        where = f"{self.provider}/{self.model}"

        async def attempt() -> ModelResponse:
            reservation = await self._reserve(estimate)
            used = estimate
            try:
                try:
                    with anyio.fail_after(timeout):
                        raw = await litellm.acompletion(**kwargs)
                    response = to_model_response(
                        raw, where=where, provider=self.provider, model=self.model
                    )
                except Exception as exc:
                    error = self._error(exc, secrets, timeout)
                    used = tokens_after_failure(error, estimate)
                    raise error from error.__cause__
                used = response.usage.total_tokens or estimate
                return response
            finally:
                if reservation is not None:
                    reservation.settle(used)

        return await retry_async(attempt, self.retry, what=where, logger=logger)

    async def astream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        tool_choice: ToolChoice | None = None,
        response_format: dict[str, Any] | None = None,
        **options: Any,
    ) -> AsyncIterator[ModelChunk]:
        """Text chunks as they arrive; the last chunk carries the assembled response.

        A failure before the first chunk is retried like ``acompletion``; ``timeout``
        bounds the wait for each chunk.
        """
        litellm = await load_litellm()
        kwargs, secrets, timeout = self._request(
            messages, tools, tool_choice, response_format, options
        )
        kwargs["stream"] = True
        if self._supports_stream_usage(litellm):
            kwargs["stream_options"] = {"include_usage": True}
        estimate = self._estimate(messages, tools, kwargs)
        where = f"{self.provider}/{self.model}"

        async def open_stream() -> tuple[Any, Any, Any, Reservation | None]:
            reservation = await self._reserve(estimate)
            try:
                with anyio.fail_after(timeout):
                    stream = await litellm.acompletion(**kwargs)
                    iterator = stream.__aiter__()
                    first = await iterator.__anext__()
            except StopAsyncIteration:
                return None, None, None, reservation
            except Exception as exc:
                error = self._error(exc, secrets, timeout)
                if reservation is not None:
                    reservation.settle(tokens_after_failure(error, estimate))
                raise error from error.__cause__
            except BaseException:
                if reservation is not None:
                    reservation.settle(estimate)
                raise
            return stream, iterator, first, reservation

        stream, iterator, chunk, reservation = await retry_async(
            open_stream, self.retry, what=where, logger=logger
        )
        assembler = StreamAssembler(where=where, provider=self.provider, model=self.model)
        next_chunk = _chunk_waiter(iterator, timeout)
        used = estimate
        try:
            while chunk is not None:
                text = assembler.add(chunk)
                if text:
                    yield ModelChunk(text=text)
                try:
                    chunk = await next_chunk()
                except StopAsyncIteration:
                    chunk = None
                except Exception as exc:
                    error = self._error(exc, secrets, timeout)
                    raise error from error.__cause__
            fallback = None
            if assembler.usage is None:
                fallback = self._usage_estimate(messages, assembler)
            response = assembler.finish(usage=fallback)
            used = response.usage.total_tokens or estimate
        finally:
            if reservation is not None:
                reservation.settle(used)
            await _close(stream)
        yield ModelChunk(response=response)

    # --- requests ---------------------------------------------------------------------

    def _request(
        self,
        messages: Sequence[Message],
        tools: Sequence[dict[str, Any]] | None,
        tool_choice: ToolChoice | None,
        response_format: dict[str, Any] | None,
        options: dict[str, Any],
    ) -> tuple[dict[str, Any], list[str], float]:
        override = options.pop("timeout", None)
        timeout = self.timeout if override is None else check_timeout(override)
        call_options = check_options(options, where="per-call options") if options else {}
        kwargs, secrets = self._connection()
        kwargs.update(self.options)
        kwargs.update(call_options)
        kwargs["messages"] = [Message.coerce(m).to_openai_format() for m in messages]
        kwargs["timeout"] = timeout
        if tools:
            kwargs["tools"] = list(tools)
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        if response_format is not None:
            kwargs["response_format"] = response_format
        return kwargs, secrets, float(timeout)

    def _estimate(
        self,
        messages: Sequence[Message],
        tools: Sequence[dict[str, Any]] | None,
        kwargs: dict[str, Any],
    ) -> int:
        """Tokens a call reserves in a token-limited window: prompt estimate + max output."""
        limiter = self.rate_limiter
        if limiter is None or limiter.tokens is None:
            return 0
        estimate = estimate_message_tokens([Message.coerce(m) for m in messages])
        if tools:
            estimate += estimate_tokens(json.dumps(list(tools)))
        return estimate + int(kwargs.get("max_tokens") or kwargs.get("max_completion_tokens") or 0)

    async def _reserve(self, estimate: int) -> Reservation | None:
        limiter = self.rate_limiter
        return None if limiter is None else await limiter.acquire(estimate)

    def _supports_stream_usage(self, litellm: Any) -> bool:
        if self._stream_usage is None:
            try:
                model, provider, _, _ = litellm.get_llm_provider(self.target.litellm_model)
                params = litellm.get_supported_openai_params(
                    model=model, custom_llm_provider=provider
                )
                self._stream_usage = "stream_options" in (params or ())
            except Exception:  # unknown route: usage is estimated instead
                self._stream_usage = False
        return self._stream_usage

    def _usage_estimate(
        self, messages: Sequence[Message], assembler: StreamAssembler
    ) -> TokenUsage:
        """Usage for a stream that reported none: litellm's count of prompt and output."""
        partial = assembler.finish()
        prompt = self.count_tokens([Message.coerce(m) for m in messages])
        completion = (
            self.count_tokens([partial.message])
            if partial.message.text or partial.tool_calls
            else 0
        )
        return TokenUsage.of(prompt, completion)


def _chunk_waiter(iterator: Any, timeout: float) -> Callable[[], Awaitable[Any]]:
    """``iterator.__anext__()`` bounded by ``timeout`` (``TimeoutError`` when it passes).

    On asyncio (Python 3.11+) the bound is ``asyncio.timeout``: measured per chunk it
    costs about 9 µs where ``anyio.fail_after`` costs about 20 µs, and a stream pays
    it for every chunk. Other backends (trio) use ``anyio.fail_after``.
    """
    anext = iterator.__anext__
    if sys.version_info >= (3, 11) and _on_asyncio():

        async def next_chunk() -> Any:
            async with asyncio.timeout(timeout):
                return await anext()

    else:

        async def next_chunk() -> Any:
            with anyio.fail_after(timeout):
                return await anext()

    return next_chunk


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # trio, or another backend without an asyncio loop
        return False
    return True


async def _close(stream: Any) -> None:
    close = getattr(stream, "aclose", None)
    if close is None:
        return
    try:
        with anyio.CancelScope(shield=True):
            await close()
    except Exception:  # closing a finished or broken stream is best effort
        return
