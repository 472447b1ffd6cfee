"""GECKO_* settings: defaults, parsing, validation errors, caching, logging setup."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from gecko.core.config import GeckoSettings, configure_logging, get_settings
from gecko.core.errors import ConfigurationError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("GECKO_") and name != "GECKO_LOAD_PLUGINS":
            monkeypatch.delenv(name)
    monkeypatch.setattr("gecko.core.config._settings", None)  # restored after the test


def test_defaults() -> None:
    settings = GeckoSettings.from_env({})
    assert settings == GeckoSettings(
        model=None,
        model_timeout=60.0,
        tool_timeout=30.0,
        max_turns=10,
        log_level="WARNING",
        storage=None,
        vector_store=None,
        embedder=None,
    )


def test_every_variable_is_read() -> None:
    settings = GeckoSettings.from_env(
        {
            "GECKO_MODEL": "openai/gpt-4o-mini",
            "GECKO_MODEL_TIMEOUT": "12.5",
            "GECKO_TOOL_TIMEOUT": " 3 ",
            "GECKO_MAX_TURNS": "4",
            "GECKO_LOG_LEVEL": "debug",
            "GECKO_STORAGE": "sqlite:///./app.db",
            "GECKO_VECTOR_STORE": "chroma://./vectors",
            "GECKO_EMBEDDER": "hash/256",
            "UNRELATED": "x",
        }
    )
    assert settings.model == "openai/gpt-4o-mini"
    assert settings.model_timeout == 12.5
    assert settings.tool_timeout == 3.0
    assert settings.max_turns == 4
    assert settings.log_level == "DEBUG"
    assert settings.storage == "sqlite:///./app.db"
    assert settings.vector_store == "chroma://./vectors"
    assert settings.embedder == "hash/256"


def test_empty_variables_count_as_unset() -> None:
    settings = GeckoSettings.from_env({"GECKO_MAX_TURNS": "", "GECKO_MODEL": "  "})
    assert settings.max_turns == 10
    assert settings.model is None


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        ("GECKO_MODEL_TIMEOUT", "soon", "positive number of seconds"),
        ("GECKO_MODEL_TIMEOUT", "-1", "positive number of seconds"),
        ("GECKO_MODEL_TIMEOUT", "nan", "positive number of seconds"),
        ("GECKO_TOOL_TIMEOUT", "0", "positive number of seconds"),
        ("GECKO_MAX_TURNS", "2.5", "whole number >= 1"),
        ("GECKO_MAX_TURNS", "0", "whole number >= 1"),
        ("GECKO_LOG_LEVEL", "verbose", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("GECKO_STORAGE", "./app.db", "storage URL"),
        ("GECKO_VECTOR_STORE", "chroma", "vector store URL"),
        ("GECKO_MODEL", "gpt 4", "model id"),
        ("GECKO_EMBEDDER", "hash 256", "embedder id"),
    ],
)
def test_invalid_values_name_the_variable_and_the_accepted_values(
    variable: str, value: str, accepted: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        GeckoSettings.from_env({variable: value})
    error = caught.value
    assert str(error).startswith(f"{variable}={value!r} is invalid")
    assert error.hint is not None and accepted in error.hint
    assert error.context["variable"] == variable


def test_passwords_in_bad_urls_are_never_echoed() -> None:
    for url in ("redis//:s3cret@localhost", "1redis://user:s3cret@host"):
        with pytest.raises(ConfigurationError) as caught:
            GeckoSettings.from_env({"GECKO_STORAGE": url})
        assert "s3cret" not in str(caught.value)
        assert "s3cret" not in repr(caught.value.context)


def test_settings_are_immutable() -> None:
    settings = GeckoSettings.from_env({})
    with pytest.raises(ValueError):
        settings.max_turns = 3  # type: ignore[misc]


def test_get_settings_caches_until_reload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GECKO_MAX_TURNS", "3")
    first = get_settings(reload=True)
    assert first.max_turns == 3
    monkeypatch.setenv("GECKO_MAX_TURNS", "7")
    assert get_settings() is first
    assert get_settings(reload=True).max_turns == 7


def test_get_settings_raises_on_invalid_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GECKO_LOG_LEVEL", "chatty")
    with pytest.raises(ConfigurationError, match="GECKO_LOG_LEVEL"):
        get_settings(reload=True)


@pytest.fixture
def restore_gecko_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("gecko")
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_configure_logging_honours_gecko_log_level(
    monkeypatch: pytest.MonkeyPatch, restore_gecko_logger: logging.Logger
) -> None:
    monkeypatch.setenv("GECKO_LOG_LEVEL", "info")
    get_settings(reload=True)
    stream = io.StringIO()
    logger = configure_logging(stream=stream)
    assert logger is restore_gecko_logger
    assert logger.level == logging.INFO
    logging.getLogger("gecko.memory").info("window trimmed")
    logging.getLogger("gecko.memory").debug("hidden detail")
    output = stream.getvalue()
    assert "INFO gecko.memory: window trimmed" in output
    assert "hidden detail" not in output


def test_configure_logging_twice_keeps_one_handler(restore_gecko_logger: logging.Logger) -> None:
    before = len(restore_gecko_logger.handlers)
    configure_logging("DEBUG", stream=io.StringIO())
    configure_logging("ERROR", stream=io.StringIO())
    assert len(restore_gecko_logger.handlers) == before + 1
    assert restore_gecko_logger.level == logging.ERROR
    with pytest.raises(ConfigurationError, match="unknown log level"):
        configure_logging("LOUD")


def test_importing_gecko_does_not_configure_logging() -> None:
    import subprocess
    import sys

    code = (
        "import logging, gecko, gecko.core.config, gecko.core.memory, gecko.core.events\n"
        "from gecko import TokenMemory\n"
        "print([type(h).__name__ for h in logging.getLogger('gecko').handlers],"
        " len(logging.getLogger().handlers))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    # Only the library's NullHandler (see the next test); the root logger is untouched.
    assert result.stdout.split() == ["['NullHandler']", "0"]


def test_gecko_warnings_stay_silent_until_the_application_configures_logging() -> None:
    import subprocess
    import sys

    code = (
        "import logging, gecko.core\n"
        "logging.getLogger('gecko.core.memory.window').warning('stray warning')\n"
        "logging.basicConfig(format='%(name)s: %(message)s')\n"
        "logging.getLogger('gecko.core.memory.window').warning('configured warning')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    # Without the NullHandler, logging's last-resort handler would print the first one.
    assert result.stderr.splitlines() == ["gecko.core.memory.window: configured warning"]
