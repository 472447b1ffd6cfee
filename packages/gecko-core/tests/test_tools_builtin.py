"""The built-in tools: a calculator that never evaluates code, and the current time."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from gecko.core.errors import ToolArgumentError
from gecko.core.factories import create_tool
from gecko.core.message import ToolCall
from gecko.core.tools import ToolBox
from gecko.core.tools.calculator import MAX_EXPRESSION_CHARS, evaluate

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("-7 % 3", 2),
        ("2 ** 10", 1024),
        ("-(3 - 5)", 2),
        ("+4", 4),
        ("2 ** -1", 0.5),
        ("sqrt(16) + abs(-2)", 6.0),
        ("max(1, 5, 3) - min(4, 2)", 3),
        ("round(2.567, 2)", 2.57),
        ("floor(2.7) + ceil(2.1)", 5),
        ("factorial(5)", 120),
        ("log10(1000)", 3.0),
        ("1_000 + 0.5e1", 1005.0),
    ],
)
def test_arithmetic(expression: str, expected: float) -> None:
    assert evaluate(expression) == pytest.approx(expected)


def test_constants_and_trigonometry() -> None:
    assert evaluate("pi") == math.pi
    assert evaluate("sin(pi / 2)") == pytest.approx(1.0)
    assert evaluate("degrees(tau)") == pytest.approx(360.0)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("__import__('os').system('echo pwned')", "no attribute access"),
        ("(1).__class__", "Attribute is not allowed"),
        ("math.sqrt(4)", "no attribute access"),
        ("[1, 2][0]", "Subscript is not allowed"),
        ("[1, 2]", "List is not allowed"),
        ("x + 1", "unknown name 'x'"),
        ("'a' * 3", "only numbers are allowed"),
        ("True + 1", "only numbers are allowed"),
        ("1 if 1 else 2", "IfExp is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("(lambda: 1)()", "only plain function calls"),
        ("1 << 10", "the operator LShift is not allowed"),
        ("~1", "the operator Invert is not allowed"),
        ("1 < 2", "Compare is not allowed"),
        ("sqrt(x=4)", "positional arguments only"),
        ("1 +", "not valid arithmetic"),
        ("import os", "not valid arithmetic"),
        ("", "empty"),
        ("1 / 0", "division by zero"),
        ("sqrt(-1)", "math error"),
        ("2j", "only numbers are allowed"),
    ],
)
def test_rejected_expressions(expression: str, message: str) -> None:
    with pytest.raises(ToolArgumentError, match=message) as info:
        evaluate(expression)
    assert "use numbers" in (info.value.hint or "")
    if message != "math error":
        assert not info.value.message.startswith("math error")


@pytest.mark.parametrize(
    "expression",
    [
        "9 ** 9 ** 9",
        "10 ** 100000",
        "2 ** 4097",
        "(10 ** 1000) * (10 ** 1000)",
        "factorial(100000)",
        "1e308 * 10",
        "10.0 ** 400",
    ],
)
def test_resource_limits(expression: str) -> None:
    with pytest.raises(ToolArgumentError, match=r"too large|not a finite|between 0 and"):
        evaluate(expression)


def test_expression_size_and_nesting_limits() -> None:
    with pytest.raises(ToolArgumentError, match="characters long"):
        evaluate("1+" * MAX_EXPRESSION_CHARS + "1")
    assert evaluate("(" * 150 + "1" + ")" * 150) == 1  # parentheses alone add no depth
    with pytest.raises(ToolArgumentError, match="nests more than"):
        evaluate("(" * 100 + "1" + " + 1)" * 100)
    with pytest.raises(ToolArgumentError, match="nests more than"):
        evaluate("-" * 100 + "1")


async def test_builtin_tools_are_registered_through_the_plugin() -> None:
    calculator = create_tool("calculator")
    clock = create_tool("current_time")
    box = ToolBox([calculator, clock])
    assert box.names == ["calculator", "current_time"]
    assert "expression" in calculator.parameters["properties"]

    result = await box.execute(ToolCall(name="calculator", arguments={"expression": "6 * 7"}))
    assert (result.is_error, result.content) == (False, "42")
    refused = await box.execute(
        ToolCall(name="calculator", arguments={"expression": "__import__('os')"})
    )
    assert refused.is_error and "unknown function '__import__'" in refused.content


async def test_current_time_is_timezone_aware() -> None:
    clock = create_tool("current_time")
    utc = await clock.execute({})
    moment = datetime.fromisoformat(utc["iso"])
    assert moment.utcoffset() == timedelta(0) and utc["timezone"] == "UTC"

    tokyo = await clock.execute({"timezone": "Asia/Tokyo"})
    assert datetime.fromisoformat(tokyo["iso"]).utcoffset() == timedelta(hours=9)
    assert tokyo["timezone"] == "Asia/Tokyo" and tokyo["utc_offset"] == "+0900"
    assert abs(tokyo["unix"] - utc["unix"]) < 60

    with pytest.raises(ToolArgumentError, match="unknown time zone 'Mars/Olympus'"):
        await clock.execute({"timezone": "Mars/Olympus"})
