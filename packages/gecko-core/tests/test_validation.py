"""gecko.core.validation: the one way options are checked (type, range, emptiness)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from gecko.core.embedders.hashing import HashingEmbedder
from gecko.core.engine.budget import Budget
from gecko.core.errors import ConfigurationError, GeckoError
from gecko.core.retry import RetryPolicy
from gecko.core.storage.base import check_key, check_ttl
from gecko.core.structure.engine import StructureEngine
from gecko.core.tools.function import FunctionTool
from gecko.core.tools.toolbox import ToolBox
from gecko.core.validation import check_int, check_number, check_str


class _StrictError(ConfigurationError):
    """A subclass a caller may ask for (as gecko.compose does for graph errors)."""


# --- check_int ------------------------------------------------------------------------------


def test_check_int_returns_accepted_values_unchanged() -> None:
    assert check_int("n", 0) == 0
    assert check_int("n", 5, minimum=1, maximum=5) == 5
    assert check_int("n", -3, maximum=-3) == -3
    assert check_int("n", None, allow_none=True) is None


@pytest.mark.parametrize("value", [True, False])
def test_check_int_rejects_bools_although_they_are_ints(value: bool) -> None:
    with pytest.raises(ConfigurationError, match=rf"^max_turns must be an integer, got {value}$"):
        check_int("max_turns", value)


@pytest.mark.parametrize("value", [1.0, "3", None, [1]])
def test_check_int_rejects_other_types(value: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_int("batch_size", value, minimum=1)
    assert caught.value.message == f"batch_size must be an integer >= 1, got {value!r}"


@pytest.mark.parametrize(
    ("bounds", "value", "message"),
    [
        ({"minimum": 1}, 0, "top_k must be an integer >= 1, got 0"),
        ({"maximum": 10}, 11, "top_k must be an integer <= 10, got 11"),
        (
            {"minimum": 1, "maximum": 3999},
            4000,
            "top_k must be an integer between 1 and 3999, got 4000",
        ),
        ({"minimum": 1, "maximum": 3999}, 0, "top_k must be an integer between 1 and 3999, got 0"),
    ],
)
def test_check_int_bounds_are_inclusive_and_named_in_the_message(
    bounds: dict[str, int], value: int, message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_int("top_k", value, **bounds)
    assert caught.value.message == message
    assert caught.value.context == {"option": "top_k", "value": repr(value)}


def test_check_int_says_none_is_allowed_and_keeps_the_hint() -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_int("loop_guard", 1, minimum=2, allow_none=True, hint="None disables it")
    assert caught.value.message == "loop_guard must be an integer >= 2 or None, got 1"
    assert caught.value.hint == "None disables it"
    assert "hint: None disables it" in str(caught.value)
    with pytest.raises(ConfigurationError, match="got None"):
        check_int("loop_guard", None, minimum=2)


def test_check_int_raises_the_requested_subclass() -> None:
    with pytest.raises(_StrictError, match=r"^seq must be an integer"):
        check_int("seq", "1", error=_StrictError)


# --- check_number ---------------------------------------------------------------------------


def test_check_number_accepts_ints_and_floats_and_returns_a_float() -> None:
    result = check_number("ttl", 5, above=0)
    assert result == 5.0 and type(result) is float
    assert check_number("backoff", 1, minimum=1) == 1.0
    assert check_number("threshold", -0.5) == -0.5
    assert check_number("timeout", None, allow_none=True) is None


@pytest.mark.parametrize("value", [True, False, "1.5", None, [1.0]])
def test_check_number_rejects_bools_and_other_types(value: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_number("timeout", value, above=0, unit="seconds")
    assert caught.value.message == f"timeout must be a finite number of seconds > 0, got {value!r}"


def test_above_is_an_exclusive_lower_bound_minimum_an_inclusive_one() -> None:
    with pytest.raises(ConfigurationError, match=r"^period must be a finite number > 0, got 0$"):
        check_number("period", 0, above=0)
    assert check_number("period", 1e-9, above=0) == 1e-9
    assert check_number("delay", 0, minimum=0) == 0.0
    with pytest.raises(ConfigurationError, match=r"^delay must be a finite number >= 0, got -0.1$"):
        check_number("delay", -0.1, minimum=0)
    with pytest.raises(
        ConfigurationError, match=r"^ratio must be a finite number between 0 and 0.5, got 0.75$"
    ):
        check_number("ratio", 0.75, minimum=0, maximum=0.5)
    with pytest.raises(
        ConfigurationError, match=r"^x must be a finite number > 0 and <= 2, got 3$"
    ):
        check_number("x", 3, above=0, maximum=2)


def test_infinity_only_where_finite_is_off_and_nan_never() -> None:
    with pytest.raises(ConfigurationError, match="finite number of seconds > 0 or None, got inf"):
        check_number("ttl", math.inf, above=0, unit="seconds", allow_none=True)
    assert check_number("timeout", math.inf, above=0, finite=False) == math.inf
    with pytest.raises(ConfigurationError, match=r"^timeout must be a number > 0, got -inf$"):
        check_number("timeout", -math.inf, above=0, finite=False)
    for finite in (True, False):
        with pytest.raises(ConfigurationError, match="got nan"):
            check_number("score_threshold", math.nan, finite=finite)


def test_check_number_keeps_the_hint_and_error_class() -> None:
    with pytest.raises(_StrictError) as caught:
        check_number("node 'a': timeout", -1, above=0, hint="or None", error=_StrictError)
    assert caught.value.message.startswith("node 'a': timeout must be")
    assert caught.value.hint == "or None"
    assert caught.value.context == {"option": "node 'a': timeout", "value": "-1"}


# --- check_str ------------------------------------------------------------------------------


def test_check_str_by_default_wants_a_non_empty_string() -> None:
    assert check_str("session_id", " ") == " "
    with pytest.raises(
        ConfigurationError, match=r"^session_id must be a non-empty string, got ''$"
    ):
        check_str("session_id", "")
    with pytest.raises(ConfigurationError, match=r"^session_id must be a non-empty string, got 3$"):
        check_str("session_id", 3)


def test_check_str_variants() -> None:
    assert check_str("prefix", "", non_empty=False) == ""
    with pytest.raises(ConfigurationError, match=r"^prefix must be a string, got None$"):
        check_str("prefix", None, non_empty=False)
    with pytest.raises(
        ConfigurationError, match=r"^agent name must be a non-blank string, got ' \\t'$"
    ):
        check_str("agent name", " \t", non_blank=True)
    assert check_str("collection", "x" * 255, max_length=255) == "x" * 255
    with pytest.raises(
        ConfigurationError, match=r"^collection must be a string of at most 255 char"
    ):
        check_str("collection", "x" * 256, max_length=255)


def test_check_str_rejects_str_lookalikes() -> None:
    with pytest.raises(ConfigurationError, match="namespace must be a non-empty string, got b'x'"):
        check_str("namespace", b"x")


# --- call sites go through the helpers ------------------------------------------------------


class _Answer(BaseModel):
    text: str


def _tool(x: int) -> int:
    """Echo x."""
    return x


@pytest.mark.parametrize(
    ("make", "option"),
    [
        (lambda: ToolBox(max_concurrency=True), "max_concurrency"),
        (lambda: ToolBox(default_timeout=0), "default_timeout"),
        (lambda: FunctionTool(_tool, timeout=True), "tool timeout"),
        (lambda: StructureEngine(_Answer, max_retries=True), "max_retries"),
        (lambda: HashingEmbedder(dimension=True), "dimension"),
        (lambda: Budget(max_tokens=-1), "Budget.max_tokens"),
        (lambda: RetryPolicy(max_delay=math.nan), "RetryPolicy.max_delay"),
        (lambda: RetryPolicy.coerce(-1), "retries"),
        (lambda: check_ttl(True), "ttl"),
        (lambda: check_key(""), "store key"),
    ],
)
def test_options_of_core_classes_are_checked_the_same_way(
    make: Callable[[], Any], option: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        make()
    assert caught.value.message.startswith(f"{option} must be ")
    assert caught.value.context["option"] == option
    assert isinstance(caught.value, GeckoError)


def test_unlimited_values_stay_accepted_where_they_were() -> None:
    assert ToolBox(default_timeout=math.inf).default_timeout == math.inf
    assert RetryPolicy(max_delay=math.inf).max_delay == math.inf
    assert Budget(max_tokens=0, max_tool_calls=None).max_tokens == 0
