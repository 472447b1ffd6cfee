"""A function's docstring as a summary and per-parameter descriptions, for tool schemas.

A thin adapter over ``docstring_parser`` (Google, Sphinx/reST, NumPy and Epydoc
styles), so tool authors document parameters the way they already do.
``docstring_parser`` is imported on first use: importing the agent runtime
does not pay for it until a tool is made from a function.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import docstring_parser

_NOT_PARAMETERS = frozenset({"attribute"})
"""Kinds of ``DocstringParam`` that describe something other than a call argument."""


@dataclass
class Docstring:
    """The parts of a docstring a tool schema needs."""

    summary: str = ""
    params: dict[str, str] = field(default_factory=dict)


def parse_docstring(doc: str | None) -> Docstring:
    """Split ``doc`` into its summary (text before any section) and parameter descriptions.

    A parameter's description has its line breaks folded into spaces (a schema
    description is one line of prose); ``*args``/``**kwargs`` are keyed without
    their stars.
    """
    if not doc or not doc.strip():
        return Docstring()
    text = inspect.cleandoc(doc)
    parsed = _parse(text)
    if parsed is None:
        return Docstring(summary=text)
    summary = parsed.short_description or ""
    if parsed.long_description:
        # docstring_parser strips the long description, which loses the
        # indentation of a leading code block: cut the summary from the text.
        start = text.find(parsed.long_description, len(summary))
        summary = text[: start + len(parsed.long_description)] if start >= 0 else text
    params = {
        param.arg_name.lstrip("*"): " ".join((param.description or "").split())
        for param in parsed.params
        if param.args[0] not in _NOT_PARAMETERS
    }
    return Docstring(summary=summary.strip(), params=params)


def _parse(text: str) -> docstring_parser.Docstring | None:
    """The reading of ``text`` that documents the most parameters, or None if no style reads it.

    Not ``docstring_parser``'s own auto-detection, which picks the style with
    the most sections of any kind: any line starting with ``@`` (a decorator
    named in prose) is an Epydoc field to it, and would end the summary there.
    Here Epydoc wins only with more parameters than the other styles found;
    ties go to Google, then reST, then NumPy.
    """
    import docstring_parser  # lazy: see the module docstring

    style = docstring_parser.DocstringStyle
    best: docstring_parser.Docstring | None = None
    best_score = (-1, -1)
    for candidate_style in (style.GOOGLE, style.REST, style.NUMPYDOC, style.EPYDOC):
        try:
            candidate = docstring_parser.parse(text, style=candidate_style)
        except docstring_parser.ParseError:
            continue  # a section this style cannot read: another style may
        sections = 0 if candidate_style is style.EPYDOC else len(candidate.meta)
        score = (len(candidate.params), sections)
        if score > best_score:
            best, best_score = candidate, score
    return best
