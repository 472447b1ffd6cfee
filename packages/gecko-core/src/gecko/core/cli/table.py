"""Plain-text tables that fit the terminal: long cells wrap onto more lines or are cut with ``…``.

Only the standard library, so commands that print tables start fast.
"""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Collection, Sequence

ELLIPSIS = "…"
GAP = "  "
MIN_WIDTH = 8
"""A shrunk column keeps at least this many characters (or its natural width, if smaller)."""


def terminal_width(fallback: int = 80) -> int:
    """The terminal's width, as ``shutil.get_terminal_size().columns`` computes it.

    ``COLUMNS`` wins, then the size of the terminal on stdout, then ``fallback`` (a
    pipe). Not ``shutil`` itself: importing it loads bz2 and lzma, a few milliseconds
    of every ``gecko`` start.
    """
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    stdout = sys.__stdout__
    if columns <= 0 and stdout is not None:
        try:
            columns = os.get_terminal_size(stdout.fileno()).columns
        except (AttributeError, ValueError, OSError):  # not a terminal, or no real file
            columns = 0
    return columns if columns > 0 else fallback


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    width: int,
    flexible: Collection[int] = (),
    cut: Collection[int] = (),
) -> str:
    """``headers`` and ``rows`` as aligned columns, at most ``width`` characters a line.

    Only the columns in ``flexible`` (indexes) shrink when the table is too wide; the
    others keep their natural width. A shrunk cell wraps onto continuation lines, or,
    for a column in ``cut``, is cut to one line ending in ``…``. If the fixed columns
    alone do not fit, lines are as narrow as ``MIN_WIDTH`` allows.
    """
    table = [list(headers), *(list(row) for row in rows)]
    natural = [max(len(row[i]) for row in table) for i in range(len(headers))]
    widths = _fit(natural, flexible, width - len(GAP) * (len(headers) - 1))
    lines: list[str] = []
    for row in table:
        cells = [
            _cut(cell, w) if i in cut else _wrap(cell, w)
            for i, (cell, w) in enumerate(zip(row, widths))
        ]
        for depth in range(max(len(cell) for cell in cells)):
            parts = [cell[depth] if depth < len(cell) else "" for cell in cells]
            line = GAP.join(part.ljust(w) for part, w in zip(parts, widths))
            lines.append(line.rstrip())
    return "\n".join(lines)


def _fit(natural: list[int], flexible: Collection[int], room: int) -> list[int]:
    """Column widths within ``room``: fixed columns as they are, the space left shared fairly.

    Water-filling: a flexible column narrower than its fair share keeps its natural
    width and leaves the rest to the wider ones.
    """
    widths = list(natural)
    shrinkable = sorted((i for i in flexible if i < len(natural)), key=lambda i: natural[i])
    room -= sum(w for i, w in enumerate(natural) if i not in shrinkable)
    if sum(natural[i] for i in shrinkable) <= room:
        return widths
    for position, i in enumerate(shrinkable):
        share = room // (len(shrinkable) - position)
        widths[i] = max(min(natural[i], share), min(natural[i], MIN_WIDTH))
        room -= widths[i]
    return widths


def _wrap(cell: str, width: int) -> list[str]:
    if len(cell) <= width:
        return [cell]
    return textwrap.wrap(cell, width, break_on_hyphens=False) or [""]


def _cut(cell: str, width: int) -> list[str]:
    if len(cell) <= width:
        return [cell]
    return [cell[: max(width - 1, 0)].rstrip() + ELLIPSIS]
