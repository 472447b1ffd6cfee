"""Gecko's settings from ``GECKO_*`` environment variables, validated, and logging setup.

    from gecko.core.config import get_settings, configure_logging

    settings = get_settings()          # read once, then cached
    settings.max_turns                 # GECKO_MAX_TURNS, default 10
    configure_logging()                # a stderr handler on the "gecko" logger at GECKO_LOG_LEVEL

An invalid value raises ``ConfigurationError`` naming the variable, the value
and what is accepted. An empty variable counts as unset. Library code never
configures logging by itself; applications call ``configure_logging``.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from pydantic import BaseModel, ConfigDict

from gecko.core.errors import ConfigurationError, InvalidURLError
from gecko.core.storage.url import redact_url, url_scheme

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PREFIX = "GECKO_"


class GeckoSettings(BaseModel):
    """Process-wide defaults, from ``GECKO_*`` variables (``GeckoSettings.from_env()``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str | None = None
    """GECKO_MODEL: default chat model id for agents and the demo, e.g. ``openai/gpt-4o-mini``."""
    model_timeout: float = 60.0
    """GECKO_MODEL_TIMEOUT: seconds a model call may take."""
    tool_timeout: float = 30.0
    """GECKO_TOOL_TIMEOUT: seconds a tool call may take."""
    max_turns: int = 10
    """GECKO_MAX_TURNS: model turns an agent run may take."""
    log_level: str = "WARNING"
    """GECKO_LOG_LEVEL: level of the ``gecko`` logger set by ``configure_logging``."""
    storage: str | None = None
    """GECKO_STORAGE: default SessionStore/CheckpointStore URL, e.g. ``sqlite:///./gecko.db``."""
    vector_store: str | None = None
    """GECKO_VECTOR_STORE: default VectorStore URL, e.g. ``chroma://./vectors``."""
    embedder: str | None = None
    """GECKO_EMBEDDER: default embedder id, e.g. ``openai/text-embedding-3-small``."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GeckoSettings:
        """Read and validate every ``GECKO_*`` setting from ``environ`` (default ``os.environ``)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field, (parse, accepted) in _PARSERS.items():
            variable = PREFIX + field.upper()
            raw = env.get(variable)
            if raw is None or not raw.strip():
                continue
            try:
                values[field] = parse(raw.strip())
            except ValueError as exc:
                shown = _redact(raw) if parse is _url else raw
                raise ConfigurationError(
                    f"{variable}={shown!r} is invalid: {exc}",
                    hint=f"accepted values for {variable}: {accepted}",
                    variable=variable,
                    value=shown,
                ) from None
        return cls(**values)


def _redact(raw: str) -> str:
    """Never echo a password, even from a URL too malformed for ``redact_url``."""
    shown = redact_url(raw)
    if "@" in shown and "***" not in shown:
        shown = "***@" + shown.rsplit("@", 1)[1]
    return shown


def _identifier(raw: str) -> str:
    if any(char.isspace() for char in raw):
        raise ValueError("it must not contain spaces")
    return raw


def _positive_seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("it is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError("it must be a positive, finite number of seconds")
    return value


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("it is not a whole number") from None
    if value < 1:
        raise ValueError("it must be at least 1")
    return value


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in LOG_LEVELS:
        raise ValueError("it is not a log level")
    return level


def _url(raw: str) -> str:
    try:
        url_scheme(raw)
    except InvalidURLError:
        raise ValueError("it is not a URL of the form 'scheme://...'") from None
    return raw


_PARSERS: dict[str, tuple[Callable[[str], Any], str]] = {
    "model": (_identifier, "a model id such as 'openai/gpt-4o-mini' or 'test'"),
    "model_timeout": (_positive_seconds, "a positive number of seconds, e.g. 60 or 2.5"),
    "tool_timeout": (_positive_seconds, "a positive number of seconds, e.g. 30"),
    "max_turns": (_positive_int, "a whole number >= 1, e.g. 10"),
    "log_level": (_log_level, ", ".join(LOG_LEVELS) + " (any case)"),
    "storage": (
        _url,
        "a storage URL such as 'memory://', 'sqlite:///./gecko.db', 'redis://host:6379/0'",
    ),
    "vector_store": (
        _url,
        "a vector store URL such as 'memory://', 'chroma://./vectors', 'lancedb://./vectors'",
    ),
    "embedder": (
        _identifier,
        "an embedder id such as 'openai/text-embedding-3-small' or 'hash/256'",
    ),
}

_settings: GeckoSettings | None = None
_settings_lock = threading.Lock()


def get_settings(*, reload: bool = False) -> GeckoSettings:
    """The process's settings, read from the environment on first use (or again with ``reload``)."""
    global _settings
    with _settings_lock:
        if _settings is None or reload:
            _settings = GeckoSettings.from_env()
        return _settings


_HANDLER_MARK = "_gecko_configured"


def configure_logging(
    level: str | int | None = None,
    *,
    stream: TextIO | None = None,
    fmt: str = "%(asctime)s %(levelname)s %(name)s: %(message)s",
) -> logging.Logger:
    """Send the ``gecko`` loggers to ``stream`` (stderr) at ``level`` (default GECKO_LOG_LEVEL).

    For applications and scripts; calling it again replaces the handler it added
    instead of adding another. Returns the ``gecko`` logger.
    """
    if level is None:
        level = get_settings().log_level
    if isinstance(level, str):
        name = level.upper()
        if name not in LOG_LEVELS:
            raise ConfigurationError(
                f"unknown log level {level!r}", hint=f"use one of {', '.join(LOG_LEVELS)}"
            )
        level = logging.getLevelName(name)
    logger = logging.getLogger("gecko")
    for existing in [h for h in logger.handlers if getattr(h, _HANDLER_MARK, False)]:
        logger.removeHandler(existing)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(fmt))
    setattr(handler, _HANDLER_MARK, True)
    logger.addHandler(handler)
    logger.setLevel(level)
    return logger
