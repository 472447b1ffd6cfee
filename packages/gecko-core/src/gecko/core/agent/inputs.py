"""What an agent run accepts as input, and how guardrails are applied to it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from gecko.core.errors import ConfigurationError
from gecko.core.message import Message, Role, TextBlock
from gecko.core.output import AgentOutput

if TYPE_CHECKING:
    from gecko.core.guardrails import InputGuard

AgentInput = Any
"""``str | Message | dict | AgentOutput | Sequence[str | Message | dict]``."""

_HINT = (
    "pass a str, a Message, an OpenAI-style dict such as {'role': 'user', 'content': '...'}, "
    "or a list of those"
)


def coerce_input(value: AgentInput) -> list[Message]:
    """The run's new messages from what the caller passed."""
    if isinstance(value, (str, Message, Mapping, AgentOutput)):
        return [_one(value)]
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        messages = [_one(item) for item in value]
        if not messages:
            raise ConfigurationError("the agent input is an empty list", hint=_HINT)
        return messages
    raise ConfigurationError(f"cannot use a {type(value).__name__} as agent input", hint=_HINT)


def _one(value: Any) -> Message:
    if isinstance(value, Message):
        return value
    if isinstance(value, str):
        return Message.user(value)
    if isinstance(value, AgentOutput):  # chaining agents: the previous answer as the next input
        return Message.user(value.content)
    if isinstance(value, Mapping):
        if "content" not in value and "tool_calls" not in value:
            raise ConfigurationError(
                f"an input dict needs a 'content' key, got keys {sorted(value)}", hint=_HINT
            )
        try:
            return Message.from_openai(dict(value))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(
                f"invalid input message {dict(value)!r}: {exc}", hint=_HINT
            ) from exc
    if isinstance(value, BaseModel):
        raise ConfigurationError(
            f"cannot use a {type(value).__name__} model as agent input",
            hint="pass its JSON as text: agent.run(value.model_dump_json())",
        )
    raise ConfigurationError(f"cannot use a {type(value).__name__} as agent input", hint=_HINT)


async def guard_input(
    guard: InputGuard, messages: list[Message]
) -> tuple[list[Message], str | None]:
    """Check the text of every user message; return the (possibly masked) messages.

    The second item is the refusal text when a guardrail blocked the input and
    the guard is set to refuse (with ``on_violation="raise"`` the guard raises
    ``GuardrailViolation`` itself).
    """
    checked: list[Message] = []
    for message in messages:
        if message.role is not Role.USER or message.content is None:
            checked.append(message)
            continue
        if isinstance(message.content, str):
            result = await guard.check(message.content)
            if not result.allowed:
                return messages, result.text
            if result.text != message.content:
                message = message.model_copy(update={"content": result.text})
        else:
            blocks: list[Any] = []
            changed = False
            for block in message.content:
                if isinstance(block, TextBlock):
                    result = await guard.check(block.text)
                    if not result.allowed:
                        return messages, result.text
                    if result.text != block.text:
                        block, changed = TextBlock(text=result.text), True
                blocks.append(block)
            if changed:
                message = message.model_copy(update={"content": blocks})
        checked.append(message)
    return checked, None
