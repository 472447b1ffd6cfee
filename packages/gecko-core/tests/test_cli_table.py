"""render_table: aligned columns within a width, long cells wrapped or cut with an ellipsis."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gecko.core.cli.table import render_table

HEADERS = ("NAME", "LIST", "STATUS")
ROWS = [
    ("alpha", "one, two, three, four, five, six, seven, eight", "ok"),
    ("beta", "-", "error: failed to load: ImportError: no module named frobnicate"),
]


def test_a_table_that_fits_is_left_as_it_is() -> None:
    lines = render_table(HEADERS, ROWS, width=500, flexible=(1, 2), cut=(2,)).splitlines()
    assert len(lines) == 3
    assert lines[1].split("  ")[0] == "alpha" and lines[1].endswith("ok")
    assert lines[2].endswith("frobnicate")
    assert lines[0].index("LIST") == lines[1].index("one")  # columns aligned


@pytest.mark.parametrize("width", [30, 40, 60])
def test_a_narrow_table_wraps_and_cuts_within_the_width(width: int) -> None:
    lines = render_table(HEADERS, ROWS, width=width, flexible=(1, 2), cut=(2,)).splitlines()
    assert max(len(line) for line in lines) <= width
    status_column = lines[0].index("STATUS")
    beta = next(line for line in lines if line.startswith("beta"))
    assert beta[status_column:].startswith("error") and beta.endswith("…")
    # the wrapped column keeps every word, in order, on continuation lines
    list_column = lines[0].index("LIST")
    words = " ".join(line[list_column:status_column].strip() for line in lines[1:-1]).split()
    assert " ".join(words) == "one, two, three, four, five, six, seven, eight"
    assert all(line.startswith(" ") for line in lines[2:-1])  # continuation lines


def test_fixed_columns_never_shrink() -> None:
    lines = render_table(HEADERS, ROWS, width=10, flexible=(1, 2), cut=(2,)).splitlines()
    assert [line.split()[0] for line in lines if not line.startswith(" ")] == [
        "NAME",
        "alpha",
        "beta",
    ]


@pytest.mark.parametrize(("columns", "expected"), [("123", "123"), ("wide", "77"), (None, "77")])
def test_terminal_width_follows_columns_then_falls_back_on_a_pipe(
    columns: str | None, expected: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = columns
    code = "from gecko.core.cli.table import terminal_width; print(terminal_width(fallback=77))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == expected
