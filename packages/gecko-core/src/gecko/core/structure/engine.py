"""StructureEngine: a pydantic model as the answer of a chat model.

How the structure is requested depends on the model:

- ``supports_tools``: through a tool call. The engine offers an output tool
  whose parameters are the model's JSON schema and forces the model to call it
  (``tool_choice`` naming the tool; ``"required"`` inside an agent that has
  other tools too).
- otherwise, JSON mode: ``response_format={"type": "json_schema", ...}``.

Either way the answer is parsed leniently (raw JSON, a fenced code block, the
first balanced ``{...}``), validated, and on failure the validation errors are
fed back to the model, up to ``max_retries`` times, before a
``StructuredOutputError`` carrying the last raw text and the errors is raised.

    engine = StructureEngine(Invoice, max_retries=2)
    invoice = await engine.generate(model, [Message.user("Invoice text ...")])
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from gecko.core.errors import ConfigurationError, StructuredOutputError
from gecko.core.message import Message, ToolCall
from gecko.core.output import TokenUsage
from gecko.core.protocols import ChatModel, ToolChoice
from gecko.core.structure.extract import json_candidates
from gecko.core.tools.function import check_tool_name
from gecko.core.tools.schema import describe_validation_errors, parameters_schema
from gecko.core.validation import check_int

T = TypeVar("T", bound=BaseModel)

DEFAULT_TOOL_NAME = "final_result"
Mode = Literal["auto", "tool", "json"]


class StructureEngine(Generic[T]):
    """Requests, parses and validates one pydantic model as a chat model's answer."""

    def __init__(
        self,
        response_model: type[T],
        *,
        max_retries: int = 2,
        mode: Mode = "auto",
        tool_name: str = DEFAULT_TOOL_NAME,
    ) -> None:
        if not (isinstance(response_model, type) and issubclass(response_model, BaseModel)):
            raise ConfigurationError(
                f"response_model must be a pydantic BaseModel subclass, got {response_model!r}",
                hint="wrap other types in a model: class Answer(BaseModel): items: list[int]",
            )
        check_int("max_retries", max_retries, minimum=0)
        if mode not in ("auto", "tool", "json"):
            raise ConfigurationError(f"mode must be 'auto', 'tool' or 'json', got {mode!r}")
        self.response_model = response_model
        self.max_retries = max_retries
        self.mode: Mode = mode
        self.tool_name = check_tool_name(tool_name)
        self.schema: dict[str, Any] = _schema(response_model)
        description = (response_model.__doc__ or "").strip()
        if description.startswith(f"{response_model.__name__}("):  # pydantic's default repr-doc
            description = ""
        self._tool: dict[str, Any] = {
            "type": "function",
            "function": {
                "name": self.tool_name,
                "description": (
                    f"Give the final answer as a {response_model.__name__}"
                    + (f": {description}" if description else ".")
                ),
                "parameters": self.schema,
            },
        }
        self._format: dict[str, Any] = {
            "type": "json_schema",
            "json_schema": {
                "name": _format_name(response_model.__name__),
                "schema": self.schema,
                "strict": False,
            },
        }

    def __repr__(self) -> str:
        return f"StructureEngine({self.response_model.__name__}, max_retries={self.max_retries})"

    # --- how to ask --------------------------------------------------------------------

    def uses_tool(self, model: ChatModel) -> bool:
        """Whether ``model`` is asked through the output tool (else JSON mode)."""
        if self.mode == "auto":
            return bool(getattr(model, "supports_tools", False))
        return self.mode == "tool"

    def tool_schema(self) -> dict[str, Any]:
        """The output tool, as an OpenAI tool schema."""
        return self._tool

    def tool_choice(self) -> ToolChoice:
        """A ``tool_choice`` forcing the output tool."""
        return {"type": "function", "function": {"name": self.tool_name}}

    def response_format(self) -> dict[str, Any]:
        """The JSON-mode ``response_format`` for models without tool calling."""
        return self._format

    def request(self, model: ChatModel) -> dict[str, Any]:
        """Keyword arguments for ``model.acompletion`` that ask for the structure alone."""
        if self.uses_tool(model):
            return {"tools": [self._tool], "tool_choice": self.tool_choice()}
        return {"response_format": self._format}

    # --- reading the answer ------------------------------------------------------------

    def parse(self, text: str) -> T:
        """Validate the JSON in ``text`` (leniently located); StructuredOutputError otherwise."""
        errors: list[Any] | None = None
        lines: list[str] = []
        for candidate in json_candidates(text or ""):
            try:
                return self.response_model.model_validate_json(candidate)
            except ValidationError as exc:
                if _is_json_syntax_error(exc):
                    continue
                if errors is None:  # the first schema failure is the most telling
                    errors = exc.errors(include_url=False)
                    lines = describe_validation_errors(exc, noun="field")
        if errors is None:
            raise StructuredOutputError(
                f"the answer contains no JSON object for {self.response_model.__name__}",
                raw_text=text,
                errors=[{"type": "json_invalid", "loc": (), "msg": "no JSON object found"}],
                hint="the model must answer with a JSON object matching the schema",
            )
        raise StructuredOutputError(
            f"the answer does not match {self.response_model.__name__}: " + "; ".join(lines),
            raw_text=text,
            errors=errors,
        )

    def parse_response(self, message: Message) -> tuple[T, ToolCall | None]:
        """Parse an assistant message: the output tool call's arguments, else its text."""
        for call in message.tool_calls or ():
            if call.name == self.tool_name:
                return self.parse(call.arguments), call
        return self.parse(message.text), None

    def feedback(self, error: StructuredOutputError) -> str:
        """What to tell the model so it corrects its answer."""
        return (
            f"{error.message}. Answer again with a JSON object that matches the "
            f"{self.response_model.__name__} schema, correcting these problems."
        )

    # --- standalone use ------------------------------------------------------------------

    async def generate(self, model: ChatModel, messages: Sequence[Message], **options: Any) -> T:
        """Ask ``model`` for the structure (no other tools), retrying with feedback."""
        result, _usage = await self.generate_with_usage(model, messages, **options)
        return result

    async def generate_with_usage(
        self, model: ChatModel, messages: Sequence[Message], **options: Any
    ) -> tuple[T, TokenUsage]:
        """Like ``generate``, also returning the token usage summed over the attempts."""
        history = list(messages)
        request = self.request(model)
        usage = TokenUsage()
        for attempt in range(self.max_retries + 1):
            response = await model.acompletion(history, **request, **options)
            usage = usage + response.usage
            try:
                value, _call = self.parse_response(response.message)
                return value, usage
            except StructuredOutputError as error:
                if attempt == self.max_retries:
                    raise self.exhausted(error) from None
                history.append(response.message)
                history.extend(self.feedback_messages(response.message, error))
        raise AssertionError("unreachable")  # pragma: no cover

    def feedback_messages(self, answer: Message, error: StructuredOutputError) -> list[Message]:
        """Messages to append after ``answer`` so the model retries.

        Every tool call of ``answer`` gets a tool result (chat APIs require it):
        the output tool's says what to fix; any other says it was not run.
        With no tool calls, the feedback is a user message.
        """
        calls = answer.tool_calls or []
        if not calls:
            return [Message.user(self.feedback(error))]
        return [
            Message.tool_result(
                call.id,
                f"Error: {self.feedback(error)}"
                if call.name == self.tool_name
                else "Not run: only the final answer was expected.",
                name=call.name,
            )
            for call in calls
        ]

    def exhausted(self, error: StructuredOutputError) -> StructuredOutputError:
        """The error raised once every retry failed (keeps the last raw text and errors)."""
        attempts = self.max_retries + 1
        return StructuredOutputError(
            f"no valid {self.response_model.__name__} after {attempts} "
            f"attempt{'s' if attempts != 1 else ''}: {error.message}",
            raw_text=error.raw_text,
            errors=error.errors,
            hint="simplify the schema, describe its fields better, or raise max_retries",
            response_model=self.response_model.__name__,
            attempts=attempts,
        )


@lru_cache(maxsize=256)
def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return parameters_schema(model)


@lru_cache(maxsize=256)
def structure_engine(
    response_model: type[BaseModel], max_retries: int = 2, tool_name: str = DEFAULT_TOOL_NAME
) -> StructureEngine[Any]:
    """A shared StructureEngine per (model, retries, tool name): built once, reused by every run."""
    return StructureEngine(response_model, max_retries=max_retries, tool_name=tool_name)


def _is_json_syntax_error(exc: ValidationError) -> bool:
    return any(error["type"] == "json_invalid" for error in exc.errors(include_url=False))


def _format_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64]
    return cleaned or "response"
