"""Engine hooks: user callbacks at turn start, turn end and after each tool call.

A hook may be sync or async. A hook that raises is logged and the run goes on:
observability code must never break an agent.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Union

logger = logging.getLogger(__name__)

Hook = Callable[..., Union[None, Awaitable[None]]]
"""``on_turn_start(ctx)``, ``on_turn_end(ctx, response)``, ``on_tool_execute(ctx, call, result)``."""

HOOK_NAMES = ("on_turn_start", "on_turn_end", "on_tool_execute")


async def call_hook(name: str, hook: Hook, *args: Any) -> None:
    """Call ``hook(*args)``, awaiting it if async; log (never raise) a failure."""
    try:
        result = hook(*args)
        if inspect.isawaitable(result):
            await result
    except Exception:
        logger.exception("engine hook %s (%s) failed; the run continues", name, _describe(hook))


def check_hook(name: str, hook: Any) -> Hook | None:
    if hook is not None and not callable(hook):
        from gecko.core.errors import ConfigurationError

        raise ConfigurationError(f"{name} must be callable, got {type(hook).__name__}")
    return hook  # type: ignore[no-any-return]


def _describe(function: Callable[..., Any]) -> str:
    return getattr(function, "__qualname__", None) or repr(function)
