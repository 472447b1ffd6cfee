"""The one way to check an option's value: type, range, emptiness.

    self.max_turns = check_int("max_turns", max_turns, minimum=1)
    timeout = check_number("timeout", timeout, above=0, unit="seconds", allow_none=True)

Every failure is a ``ConfigurationError`` (or the subclass passed as ``error=``)
whose message names the option, what it must be and the value it got, e.g.
``max_turns must be an integer >= 1, got 0``; its context holds ``option`` and
``value`` (the repr). ``bool`` is never accepted as a number, although it is an
``int`` subclass: ``max_turns=True`` is a mistake, not 1.
"""

from __future__ import annotations

import math
from typing import Literal, overload

from gecko.core.errors import ConfigurationError

__all__ = ["check_int", "check_number", "check_str"]


@overload
def check_int(
    name: str,
    value: object,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    allow_none: Literal[False] = False,
    hint: str | None = None,
    error: type[ConfigurationError] = ConfigurationError,
) -> int: ...


@overload
def check_int(
    name: str,
    value: object,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    allow_none: bool,
    hint: str | None = None,
    error: type[ConfigurationError] = ConfigurationError,
) -> int | None: ...


def check_int(
    name: str,
    value: object,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    allow_none: bool = False,
    hint: str | None = None,
    error: type[ConfigurationError] = ConfigurationError,
) -> int | None:
    """``value`` if it is an int (not a bool) within ``[minimum, maximum]``, else raise.

    With ``allow_none``, None is accepted and returned as is.
    """
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        wanted = "an integer" + _range(minimum, maximum)
        raise _error(error, name, value, wanted, allow_none, hint)
    return value


@overload
def check_number(
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
    finite: bool = True,
    unit: str | None = None,
    allow_none: Literal[False] = False,
    hint: str | None = None,
    error: type[ConfigurationError] = ConfigurationError,
) -> float: ...


@overload
def check_number(
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
    finite: bool = True,
    unit: str | None = None,
    allow_none: bool,
    hint: str | None = None,
    error: type[ConfigurationError] = ConfigurationError,
) -> float | None: ...


def check_number(
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
    finite: bool = True,
    unit: str | None = None,
    allow_none: bool = False,
    hint: str | None = None,
    error: type[ConfigurationError] = ConfigurationError,
) -> float | None:
    """``value`` as a float if it is an int or float (not a bool) in range, else raise.

    ``minimum``/``maximum`` are inclusive bounds, ``above`` an exclusive lower
    bound (``above=0``: positive). NaN is always rejected; infinities only when
    ``finite`` (pass ``finite=False`` where ``inf`` means "no limit").
    ``unit`` only words the message: "a number of seconds > 0".
    """
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or math.isnan(value)
        or (finite and math.isinf(value))
        or (minimum is not None and value < minimum)
        or (above is not None and value <= above)
        or (maximum is not None and value > maximum)
    ):
        wanted = "a finite number" if finite else "a number"
        if unit:
            wanted += f" of {unit}"
        if above is not None:
            wanted += f" > {_show(above)}" + (
                "" if maximum is None else f" and <= {_show(maximum)}"
            )
        else:
            wanted += _range(minimum, maximum)
        raise _error(error, name, value, wanted, allow_none, hint)
    return float(value)


def check_str(
    name: str,
    value: object,
    *,
    non_empty: bool = True,
    non_blank: bool = False,
    max_length: int | None = None,
    hint: str | None = None,
    error: type[ConfigurationError] = ConfigurationError,
) -> str:
    """``value`` if it is a str that is non-empty (``non_empty``), not only whitespace
    (``non_blank``) and at most ``max_length`` characters long, else raise."""
    if not isinstance(value, str):
        wanted = "a non-empty string" if non_empty or non_blank else "a string"
    elif non_blank and not value.strip():
        wanted = "a non-blank string"
    elif non_empty and not value:
        wanted = "a non-empty string"
    elif max_length is not None and len(value) > max_length:
        wanted = f"a string of at most {max_length} characters"
    else:
        return value
    raise _error(error, name, value, wanted, False, hint)


def _range(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" between {_show(minimum)} and {_show(maximum)}"
    if minimum is not None:
        return f" >= {_show(minimum)}"
    if maximum is not None:
        return f" <= {_show(maximum)}"
    return ""


def _show(bound: float) -> str:
    """A bound as people write it: 1, 0.5, 3999 (never 1.0 or 4e+03)."""
    if isinstance(bound, float) and bound.is_integer():
        return str(int(bound))
    return str(bound)


def _error(
    error: type[ConfigurationError],
    name: str,
    value: object,
    wanted: str,
    allow_none: bool,
    hint: str | None,
) -> ConfigurationError:
    alternative = " or None" if allow_none else ""
    return error(
        f"{name} must be {wanted}{alternative}, got {value!r}",
        hint=hint,
        option=name,
        value=repr(value),
    )
