"""The built-in ``calculator`` tool: arithmetic evaluated by walking a parsed AST.

Nothing is ever passed to ``eval``: the expression is parsed with
``ast.parse(mode="eval")`` and only an allow-list of nodes is interpreted
(numbers, ``+ - * / // % **``, unary ``+``/``-``, parentheses, a few math
functions and constants). Names, attributes, subscripts, comprehensions and
every other construct are rejected. Limits on the expression length, nesting
depth, exponents and integer size keep a hostile expression from exhausting CPU
or memory.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from gecko.core.errors import ToolArgumentError
from gecko.core.tools.function import FunctionTool

MAX_EXPRESSION_CHARS = 1_000
MAX_DEPTH = 64
MAX_INT_BITS = 4_096
"""Integers beyond about 1233 decimal digits are refused."""
MAX_FACTORIAL = 500

Number = int | float

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _factorial(n: Number) -> int:
    if isinstance(n, float):
        if not n.is_integer():
            raise _error("factorial() needs a whole number")
        n = int(n)
    if n < 0 or n > MAX_FACTORIAL:
        raise _error(f"factorial() takes a whole number between 0 and {MAX_FACTORIAL}")
    return math.factorial(n)


def _round(value: Number, digits: Number = 0) -> Number:
    if not isinstance(digits, int) or not -20 <= digits <= 20:
        raise _error("round() takes a whole number of digits between -20 and 20")
    return round(value, digits) if digits else round(value)


_FUNCTIONS: dict[str, Callable[..., Number]] = {
    "abs": abs,
    "round": _round,
    "min": min,
    "max": max,
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
    "log2": math.log2,
    "log10": math.log10,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "degrees": math.degrees,
    "radians": math.radians,
    "floor": math.floor,
    "ceil": math.ceil,
    "factorial": _factorial,
    "hypot": math.hypot,
}

_ALLOWED_HINT = (
    "use numbers, + - * / // % **, parentheses, the constants "
    + ", ".join(_CONSTANTS)
    + " and the functions "
    + ", ".join(_FUNCTIONS)
)


def _error(message: str) -> ToolArgumentError:
    return ToolArgumentError(message, hint=_ALLOWED_HINT, tool="calculator")


def evaluate(expression: str) -> Number:
    """Evaluate an arithmetic expression safely; ToolArgumentError says what is not allowed."""
    if not isinstance(expression, str) or not expression.strip():
        raise _error("the expression is empty")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise _error(
            f"the expression is {len(expression)} characters long; "
            f"the limit is {MAX_EXPRESSION_CHARS}"
        )
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise _error(f"the expression is not valid arithmetic: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise _error("the expression is too deeply nested or malformed") from None
    try:
        result = _eval(tree.body, 0)
    except ToolArgumentError:
        raise
    except ZeroDivisionError:
        raise _error("division by zero") from None
    except OverflowError:
        raise _error("the result is too large") from None
    except (ValueError, TypeError) as exc:
        raise _error(f"math error: {exc}") from None
    if isinstance(result, float) and not math.isfinite(result):
        raise _error("the result is not a finite number")
    return result


def _eval(node: ast.AST, depth: int) -> Number:
    if depth > MAX_DEPTH:
        raise _error(f"the expression nests more than {MAX_DEPTH} levels deep")
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _error(f"only numbers are allowed, not {type(value).__name__} {value!r}")
        return _check_size(value)
    if isinstance(node, ast.BinOp):
        binary = _BINARY.get(type(node.op))
        if binary is None:
            raise _error(f"the operator {type(node.op).__name__} is not allowed")
        left = _eval(node.left, depth + 1)
        right = _eval(node.right, depth + 1)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _check_size(binary(left, right))
    if isinstance(node, ast.UnaryOp):
        unary = _UNARY.get(type(node.op))
        if unary is None:
            raise _error(f"the operator {type(node.op).__name__} is not allowed")
        return unary(_eval(node.operand, depth + 1))  # type: ignore[no-any-return]
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise _error(f"unknown name {node.id!r}")
    if isinstance(node, ast.Call):
        return _call(node, depth)
    raise _error(f"{type(node).__name__} is not allowed in an arithmetic expression")


def _call(node: ast.Call, depth: int) -> Number:
    if not isinstance(node.func, ast.Name):
        raise _error("only plain function calls like sqrt(2) are allowed (no attribute access)")
    function = _FUNCTIONS.get(node.func.id)
    if function is None:
        raise _error(f"unknown function {node.func.id!r}")
    if node.keywords:
        raise _error(f"{node.func.id}() takes positional arguments only")
    if not node.args or len(node.args) > 8:
        raise _error(f"{node.func.id}() takes between 1 and 8 arguments")
    arguments = [_eval(arg, depth + 1) for arg in node.args]
    return _check_size(function(*arguments))


def _check_power(base: Number, exponent: Number) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        if abs(base) > 1 and abs(base).bit_length() * exponent > MAX_INT_BITS:
            raise _error(f"{base} ** {exponent} is too large (limit: about {MAX_INT_BITS} bits)")
    elif abs(exponent) > 10_000 and abs(base) not in (0, 1):
        # float powers overflow to an error on their own; this only caps the work
        raise _error(f"the exponent {exponent} is too large")


def _check_size(value: Any) -> Number:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise _error(f"an intermediate result is too large (limit: about {MAX_INT_BITS} bits)")
    if isinstance(value, complex):
        raise _error("the result is a complex number, which is not supported")
    return value  # type: ignore[no-any-return]


def calculate(expression: str) -> Number:
    """Evaluate an arithmetic expression and return the number.

    Args:
        expression: Arithmetic such as "(2 + 3) * 4 ** 2 / 7" or "sqrt(2) * pi". Supports
            + - * / // % **, parentheses, pi, e, tau, and abs round min max sqrt exp log log2
            log10 sin cos tan asin acos atan degrees radians floor ceil factorial hypot.
    """
    return evaluate(expression)


calculator = FunctionTool(calculate, name="calculator", run_in_thread=False)
"""The built-in tool (``create_tool("calculator")``); bounded work, so it runs inline."""
