"""A scripted OpenAI-compatible HTTP server on 127.0.0.1, for offline tests, examples and benchmarks.

Real HTTP, no network: point any model at ``server.base_url`` and it answers
``/v1/chat/completions`` (plain and streamed SSE, tool calls, JSON mode) and
``/v1/embeddings`` from a script, recording every request (headers included)::

    async with StubServer(["Hello!", ToolCall(name="add", arguments={"a": 1})]) as server:
        model = create_model("openai/stub", base_url=server.base_url, api_key="sk-test")
        ...
        assert server.requests[0].api_key == "sk-test"

Chat script items are what :class:`~gecko.core.models.scripted.ScriptedModel` accepts
(a string, a ``ToolCall`` or list of them, a ``Message``, a ``ModelResponse``, a
callable ``(ModelCall) -> reply``), plus HTTP-level replies: :class:`HTTPReply`
(status, headers, raw body), :class:`Delayed` (answer late) and :class:`Stalled`
(a stream that stops midway). With the script
used up, the server answers like the automatic scripted model. Embeddings are the
deterministic vectors of :class:`~gecko.core.embedders.hashing.HashingEmbedder`
unless an ``HTTPReply`` is scripted for them.

aiohttp (a litellm dependency) is imported when a server starts.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gecko.core.embedders.hashing import HashingEmbedder
from gecko.core.message import Message
from gecko.core.models.scripted import ModelCall, ScriptedModel
from gecko.core.output import ModelResponse

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["Delayed", "HTTPReply", "RecordedRequest", "Stalled", "StubServer"]


@dataclass(frozen=True)
class HTTPReply:
    """An HTTP-level answer: any status, headers and a raw body (errors, malformed output)."""

    status: int = 200
    body: bytes | str | dict[str, Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    @classmethod
    def error(
        cls, status: int, message: str = "error", *, headers: dict[str, str] | None = None
    ) -> HTTPReply:
        """An OpenAI-style error body with ``status`` (e.g. 429 with ``Retry-After``)."""
        kind = {401: "invalid_api_key", 429: "rate_limit_exceeded"}.get(status, "server_error")
        body = {"error": {"message": message, "type": kind, "code": kind, "param": None}}
        return cls(status=status, body=body, headers=dict(headers or {}))


@dataclass(frozen=True)
class Delayed:
    """Answer with ``reply`` after ``seconds`` (ends early when the server stops)."""

    seconds: float
    reply: Any = None


@dataclass(frozen=True)
class Stalled:
    """Stream ``reply``, but stop for ``seconds`` after ``after_chunks`` chunks (a stalled stream)."""

    reply: Any = None
    after_chunks: int = 2
    seconds: float = 3600.0


@dataclass
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float
    """``time.monotonic()`` when the request arrived."""

    @property
    def api_key(self) -> str | None:
        """The bearer token of the ``Authorization`` header."""
        value = self.headers.get("authorization", "")
        return value[7:] if value.lower().startswith("bearer ") else None

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and bool(self.body.get("stream"))


class StubServer:
    """A scripted OpenAI-compatible server; an async context manager, or run in a thread."""

    def __init__(
        self,
        chat: Sequence[Any] = (),
        *,
        embeddings: Sequence[Any] = (),
        dimension: int = 8,
        host: str = "127.0.0.1",
        port: int = 0,
        stream_chunk_chars: int = 4,
        interleave_tool_calls: bool = False,
        report_stream_usage: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.dimension = dimension
        self.stream_chunk_chars = max(1, stream_chunk_chars)
        self.interleave_tool_calls = interleave_tool_calls
        """Stream the argument pieces of parallel tool calls round-robin (index-based assembly)."""
        self.report_stream_usage = report_stream_usage
        """Send the usage chunk when a stream asks for it (``stream_options.include_usage``)."""
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        """Requests being answered right now."""
        self.max_in_flight = 0
        """The most requests ever answered at the same time."""
        self._chat: deque[Any] = deque(chat)
        self._embeddings: deque[Any] = deque(embeddings)
        self._embedder = HashingEmbedder(dimension)
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    # --- script -------------------------------------------------------------------

    def add_chat(self, *replies: Any) -> None:
        self._chat.extend(replies)

    def add_embeddings(self, *replies: Any) -> None:
        self._embeddings.extend(replies)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def embedding_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/embeddings")]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> StubServer:
        from aiohttp import web

        app = web.Application()
        for prefix in ("/v1", ""):
            app.router.add_post(prefix + "/chat/completions", self._handle_chat)
            app.router.add_post(prefix + "/embeddings", self._handle_embeddings)
        self._closing = asyncio.Event()
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._closing is not None:
            self._closing.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> StubServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @contextmanager
    def running_in_thread(self) -> Iterator[StubServer]:
        """Serve from a background thread with its own event loop (sync code, benchmarks)."""
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=serve, name="gecko-stub-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join()
            self._thread = None

    # --- handlers -------------------------------------------------------------------------

    async def _record(self, request: web.Request) -> RecordedRequest:
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            received_at=time.monotonic(),
        )
        self.requests.append(recorded)
        return recorded

    async def _unwrap(self, item: Any) -> Any:
        while isinstance(item, Delayed):
            await self._pause(item.seconds)
            item = item.reply
        return item

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when the server stops."""
        if self._closing is None:
            return
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def _handle_chat(self, request: web.Request) -> web.StreamResponse:
        self._enter()
        try:
            return await self._chat_reply(request)
        finally:
            self.in_flight -= 1

    async def _handle_embeddings(self, request: web.Request) -> web.StreamResponse:
        self._enter()
        try:
            return await self._embeddings_reply(request)
        finally:
            self.in_flight -= 1

    def _enter(self) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    async def _chat_reply(self, request: web.Request) -> web.StreamResponse:
        recorded = await self._record(request)
        body = recorded.body if isinstance(recorded.body, dict) else {}
        item = await self._unwrap(self._chat.popleft() if self._chat else None)
        stall = item if isinstance(item, Stalled) else None
        if stall is not None:
            item = stall.reply
        if isinstance(item, HTTPReply):
            return _http_reply(item)
        call = ModelCall(
            messages=[Message.from_openai(m) for m in body.get("messages", [])],
            tools=body.get("tools"),
            tool_choice=body.get("tool_choice"),
            response_format=body.get("response_format"),
        )
        if callable(item) and not isinstance(item, (Message, ModelResponse)):
            item = item(call)
            if inspect.isawaitable(item):
                item = await item
            if isinstance(item, HTTPReply):
                return _http_reply(item)
        model = ScriptedModel(None if item is None else [item], name=body.get("model", "stub"))
        try:
            response = await model.acompletion(
                call.messages,
                tools=call.tools,
                tool_choice=call.tool_choice,
                response_format=call.response_format,
            )
        except Exception as exc:  # a scripted exception becomes a 500
            return _http_reply(HTTPReply.error(500, f"{type(exc).__name__}: {exc}"))
        completion_id = "chatcmpl-" + uuid.uuid4().hex[:12]
        if body.get("stream"):
            return await self._stream(request, response, completion_id, body, stall)
        return _json_response(_completion_body(response, completion_id))

    async def _stream(
        self,
        request: web.Request,
        response: ModelResponse,
        completion_id: str,
        body: dict[str, Any],
        stall: Stalled | None,
    ) -> web.StreamResponse:
        from aiohttp import web

        stream = web.StreamResponse(status=200, headers={"Content-Type": "text/event-stream"})
        await stream.prepare(request)
        for index, chunk in enumerate(self._chunks(response, completion_id, body)):
            if stall is not None and index == stall.after_chunks:
                await self._pause(stall.seconds)
            await stream.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        await stream.write(b"data: [DONE]\n\n")
        await stream.write_eof()
        return stream

    def _chunks(
        self, response: ModelResponse, completion_id: str, body: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": response.model or "stub",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        size = self.stream_chunk_chars
        yield chunk({"role": "assistant", "content": ""})
        text = response.message.text
        for start in range(0, len(text), size):
            yield chunk({"content": text[start : start + size]})
        pieces: list[list[dict[str, Any]]] = []
        for index, call in enumerate(response.tool_calls):
            first = {
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            rest = [
                {"index": index, "function": {"arguments": call.arguments[i : i + size]}}
                for i in range(0, len(call.arguments), size)
            ]
            pieces.append([first, *rest])
        if self.interleave_tool_calls:
            while any(pieces):
                for queue in pieces:
                    if queue:
                        yield chunk({"tool_calls": [queue.pop(0)]})
        else:
            for queue in pieces:
                for piece in queue:
                    yield chunk({"tool_calls": [piece]})
        yield chunk({}, response.finish_reason or "stop")
        if self.report_stream_usage and (body.get("stream_options") or {}).get("include_usage"):
            final = chunk({})
            final["choices"] = []
            final["usage"] = _usage(response)
            yield final

    async def _embeddings_reply(self, request: web.Request) -> web.StreamResponse:
        recorded = await self._record(request)
        body = recorded.body if isinstance(recorded.body, dict) else {}
        item = await self._unwrap(self._embeddings.popleft() if self._embeddings else None)
        if isinstance(item, HTTPReply):
            return _http_reply(item)
        texts = body.get("input", [])
        texts = [texts] if isinstance(texts, str) else list(texts)
        data = [
            {"object": "embedding", "index": i, "embedding": self._embedder.embed(str(text))}
            for i, text in enumerate(texts)
        ]
        tokens = sum(max(1, len(str(text)) // 4) for text in texts)
        return _json_response(
            {
                "object": "list",
                "data": list(reversed(data)),  # out of order on purpose: clients sort by index
                "model": body.get("model", "stub"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )


def _usage(response: ModelResponse) -> dict[str, int]:
    usage = response.usage
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _completion_body(response: ModelResponse, completion_id: str) -> dict[str, Any]:
    message = response.message.to_openai_format()
    message.pop("name", None)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": response.model or "stub",
        "choices": [{"index": 0, "message": message, "finish_reason": response.finish_reason}],
        "usage": _usage(response),
    }


def _json_response(data: Any) -> web.Response:
    from aiohttp import web

    return web.Response(body=json.dumps(data).encode(), content_type="application/json")


def _http_reply(reply: HTTPReply) -> web.Response:
    from aiohttp import web

    body = reply.body
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    response = web.Response(status=reply.status, body=body, headers=reply.headers)
    response.content_type = reply.content_type
    return response
