"""Helpers shared by the benchmark scripts: timing and the side-by-side table."""

from __future__ import annotations

import platform
import statistics
import subprocess
import time
from collections.abc import Sequence


def machine() -> str:
    """One line describing where the numbers were measured."""
    import os

    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}, {load()}"
    )


def load() -> str:
    """The load averages (1, 5, 15 min): above ~0.5 on this 2-core VM, others are running."""
    import os

    try:
        one, five, fifteen = os.getloadavg()
    except OSError:  # not available on this platform
        return "load average unknown"
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f}"


def time_command(
    argv: Sequence[str], *, runs: int = 10, warmup: int = 2, env: dict[str, str] | None = None
) -> list[float]:
    """Wall-clock seconds of ``runs`` executions of a command (after ``warmup`` untimed ones)."""
    samples = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        if i >= warmup:
            samples.append(time.perf_counter() - start)
    return samples


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


def range_ms(samples: Sequence[float]) -> str:
    """``min-max`` of ``samples`` in milliseconds."""
    return f"{min(samples) * 1000:.1f}-{max(samples) * 1000:.1f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table (readable in a terminal too)."""
    cells = [[str(c) for c in headers], *[[_fmt(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline else "n/a"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 1000 else f"{value:,.0f}"
    return str(value)
