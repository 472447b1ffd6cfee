"""Read a function's docstring into a summary and per-parameter descriptions.

Understands the three common styles, so tool authors document parameters the
way they already do:

- Google: an ``Args:`` (or ``Arguments:`` / ``Parameters:``) section with
  ``name (type): description`` lines, continuation lines indented;
- Sphinx: ``:param name: description`` fields;
- NumPy: a ``Parameters`` section underlined with dashes, ``name : type`` lines
  followed by indented descriptions.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

_GOOGLE_SECTION = re.compile(r"^(Args|Arguments|Parameters|Params)\s*:\s*$", re.IGNORECASE)
_GOOGLE_OTHER_SECTION = re.compile(
    r"^(Returns?|Yields?|Raises?|Examples?|Notes?|Attributes|See Also|Warnings?|Todo)\s*:\s*$",
    re.IGNORECASE,
)
_GOOGLE_PARAM = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_FIELD = re.compile(r"^:(\w+)\s+([^:]+):\s*(.*)$")
_NUMPY_UNDERLINE = re.compile(r"^-{3,}\s*$")
_NUMPY_PARAM = re.compile(r"^\*{0,2}(\w+)\s*(?::.*)?$")


@dataclass
class Docstring:
    """The parts of a docstring a tool schema needs."""

    summary: str = ""
    params: dict[str, str] = field(default_factory=dict)


def parse_docstring(doc: str | None) -> Docstring:
    """Split ``doc`` into its summary (text before any section) and parameter descriptions."""
    if not doc:
        return Docstring()
    lines = inspect.cleandoc(doc).splitlines()
    params: dict[str, str] = {}
    summary_end = len(lines)
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if _GOOGLE_SECTION.match(stripped):
            summary_end = min(summary_end, i)
            i = _read_google(lines, i + 1, params)
            continue
        if (
            i + 1 < len(lines)
            and stripped.lower() in {"parameters", "params", "arguments", "args"}
            and _NUMPY_UNDERLINE.match(lines[i + 1].strip())
        ):
            summary_end = min(summary_end, i)
            i = _read_numpy(lines, i + 2, params)
            continue
        if i + 1 < len(lines) and stripped and _NUMPY_UNDERLINE.match(lines[i + 1].strip()):
            summary_end = min(summary_end, i)  # another NumPy section (Returns, ...)
        elif _GOOGLE_OTHER_SECTION.match(stripped):
            summary_end = min(summary_end, i)
        elif stripped.startswith(":"):
            summary_end = min(summary_end, i)
            i = _read_sphinx(lines, i, params)
            continue
        i += 1
    summary = "\n".join(lines[:summary_end]).strip()
    return Docstring(summary=summary, params=params)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _read_google(lines: list[str], start: int, params: dict[str, str]) -> int:
    i = start
    base: int | None = None
    current: str | None = None
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        indent = _indent(line)
        if base is None:
            if indent == 0:
                return i
            base = indent
        if indent < base:
            return i
        match = _GOOGLE_PARAM.match(line.strip()) if indent == base else None
        if match:
            current = match.group(1)
            params[current] = match.group(2).strip()
        elif current is not None:
            params[current] = f"{params[current]} {line.strip()}".strip()
        i += 1
    return i


def _read_numpy(lines: list[str], start: int, params: dict[str, str]) -> int:
    i = start
    current: str | None = None
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if i + 1 < len(lines) and stripped and _NUMPY_UNDERLINE.match(lines[i + 1].strip()):
            return i  # the next section
        if not stripped:
            i += 1
            continue
        if _indent(line) == 0:
            match = _NUMPY_PARAM.match(stripped)
            if match is None:
                return i
            current = match.group(1)
            params[current] = ""
        elif current is not None:
            params[current] = f"{params[current]} {stripped}".strip()
        i += 1
    return i


def _read_sphinx(lines: list[str], start: int, params: dict[str, str]) -> int:
    i = start
    current: str | None = None
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped.startswith(":"):
            match = _SPHINX_FIELD.match(stripped)
            current = None
            if match and match.group(1) in {"param", "parameter", "arg", "argument"}:
                current = match.group(2).split()[-1].lstrip("*")
                params[current] = match.group(3).strip()
        elif stripped and current is not None:
            params[current] = f"{params[current]} {stripped}".strip()
        elif not stripped:
            current = None
        i += 1
    return i
